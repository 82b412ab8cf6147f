"""ember.autograd: backward, grad, custom Functions, gradcheck."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any, Iterable, Sequence

from .. import _C, _batched, _complex, _meta
from .._C import Tensor
from ..grad_mode import enable_grad, enforce_grad_layout_policy, inference_mode, no_grad, set_grad_enabled  # noqa: F401
from . import (
    forward_ad,  # noqa: F401
    functional,  # noqa: F401
    graph,  # noqa: F401
    profiler,  # noqa: F401
    profiler_util,  # noqa: F401
)
from .anomaly_mode import detect_anomaly, set_detect_anomaly  # noqa: F401
from .function import Function, FunctionCtx, once_differentiable  # noqa: F401
from .gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: F401
from .variable import Variable  # noqa: F401

graph.Node.register(FunctionCtx)  # PyTorch's ctx is the node itself


def _as_list(x: Tensor | Iterable[Any] | None) -> list[Any]:
    """A list of tensors; a GradientEdge (graph.get_gradient_edge) stands as a tensor on that edge."""
    if x is None:
        return []
    if isinstance(x, (Tensor, graph.GradientEdge)):
        x = [x]
    return [_C._tensor_for_edge(e.node, e.output_nr) if isinstance(e, graph.GradientEdge) else e for e in x]


def _make_grads(outputs: list[Tensor], grads: list[Any]) -> list[Tensor]:
    """Fills in the seed gradient of each output; implicit only for one-element outputs."""
    result = []
    for out, g in zip(outputs, grads):
        if g is None:
            if out.requires_grad and out.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if not out.dtype.is_floating_point:
                raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got {out.dtype}")
            from .. import _creation

            g = _creation.ones(*out.shape, dtype=out.dtype, device=_creation._device_of(out))
        elif not isinstance(g, Tensor):
            from .. import _creation

            g = _creation.full(tuple(out.shape), g, dtype=out.dtype, device=_creation._device_of(out))
        elif tuple(g.shape) != tuple(out.shape):
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{len(result)}] has a shape of {g.shape} and "
                f"output[{len(result)}] has a shape of {out.shape}."
            )
        result.append(g)
    return result


def _check_roots(outputs: list[Tensor]) -> None:
    for i, out in enumerate(outputs):
        if not out.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")


def backward(
    tensors: Tensor | Sequence[Tensor],
    grad_tensors: Tensor | Sequence[Tensor | float | None] | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    grad_variables: Tensor | Sequence[Tensor | float | None] | None = None,
    inputs: Tensor | Sequence[Tensor] | None = None,
) -> None:
    """Accumulates gradients of `tensors` into the .grad of graph leaves (or of `inputs`).

    Args:
        grad_tensors: the seed gradient of each tensor; None for a one-element tensor means 1.
        retain_graph: keep the graph for another backward (defaults to ``create_graph``).
        create_graph: record the backward pass, so that higher-order derivatives can be taken.
        grad_variables: the old name of ``grad_tensors``.
        inputs: accumulate only into these tensors' .grad (by default, every leaf of the graph).
    """
    outputs = _as_list(tensors)
    grads = _as_list(grad_tensors if grad_tensors is not None else grad_variables)
    grads = grads + [None] * (len(outputs) - len(grads))
    if len(grads) != len(outputs):
        raise RuntimeError(f"got {len(grads)} gradients for {len(outputs)} tensors")
    _check_roots(outputs)
    if inputs is not None and not _as_list(inputs):
        raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    inputs = _as_list(inputs)
    if create_graph:
        _warn_create_graph_cycle()
    if retain_graph is None:
        retain_graph = create_graph
    if _complex._made:  # complex tensors as their pairs (Note [Complex tensors])
        outputs, grads, inputs = _complex.autograd_pairs(outputs, grads, inputs)
    _C._run_backward(outputs, _make_grads(outputs, grads), retain_graph, create_graph, inputs, True, True)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Tensor | Sequence[Tensor | float | None] | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    only_inputs: bool = True,
    allow_unused: bool | None = None,
    is_grads_batched: bool = False,
    materialize_grads: bool = False,
) -> tuple[Tensor | None, ...]:
    """Returns the gradients of `outputs` w.r.t. `inputs` (nothing is accumulated into .grad).

    Args:
        grad_outputs: the seed gradient of each output, as ``grad_tensors`` of ``backward``.
        allow_unused: give None for an input the outputs do not depend on, instead of raising
            (defaults to ``materialize_grads``).
        materialize_grads: give zeros instead of None for such inputs.

    ``inputs`` may be a dict of tensors: the gradients come back as a dict with its keys (PyTorch 2.13).
    """
    if isinstance(inputs, Mapping):
        if type(inputs) is not dict:
            raise TypeError(
                f"`inputs` argument to `grad()` must be a dict, not {type(inputs).__name__}. Other Mapping types "
                "are not supported."
            )
        grads = grad(outputs, tuple(inputs.values()), grad_outputs, retain_graph, create_graph, only_inputs,
                     allow_unused, is_grads_batched, materialize_grads)  # fmt: skip
        return dict(zip(inputs, grads))
    outs = _as_list(outputs)
    ins = _as_list(inputs)
    if is_grads_batched:
        return _grads_batched(
            outs, ins, _as_list(grad_outputs), retain_graph, create_graph, allow_unused, materialize_grads
        )
    if _batched.levels() and _batched.holds_batched(outs, ins, _as_list(grad_outputs)):
        return _batched.batched_grad(
            grad, outs, ins, _as_list(grad_outputs), retain_graph, create_graph, allow_unused, materialize_grads
        )
    if _batched.meta_made() and _meta.holds_meta((*outs, *ins), {}):
        return _meta.grad(outs, ins, allow_unused, materialize_grads)
    if not ins:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    if materialize_grads and allow_unused is False:
        raise ValueError(
            "Expected allow_unused to be True or not passed when materialize_grads=True, but got: allow_unused=False."
        )
    for t in ins:
        if not hasattr(t, "requires_grad"):  # PyTorch's words (an AttributeError before; a dict's values too)
            raise RuntimeError(f"all inputs have to be Tensors or GradientEdges, but got {type(t).__name__}")
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    gouts = _as_list(grad_outputs)
    gouts = gouts + [None] * (len(outs) - len(gouts))
    _check_roots(outs)
    if allow_unused is None:
        allow_unused = materialize_grads
    if retain_graph is None:
        retain_graph = create_graph
    complex_ins = ins
    if _complex._made:  # complex tensors as their pairs, gradients of complex inputs complex (Note [Complex tensors])
        outs, gouts, ins = _complex.autograd_pairs(outs, gouts, ins)
    result = _C._run_backward(outs, _make_grads(outs, gouts), retain_graph, create_graph, ins, allow_unused, False)
    if complex_ins is not ins:
        result = [_complex.like(x, g) if g is not None else None for x, g in zip(complex_ins, result)]
        ins = complex_ins
    if materialize_grads:
        from .. import _creation

        given = [inputs] if isinstance(inputs, (Tensor, graph.GradientEdge)) else list(inputs)
        if any(g is None and isinstance(e, graph.GradientEdge) for g, e in zip(result, given)):
            raise RuntimeError("materialize_grads cannot be used when the given input is a GradientEdge")
        # Under create_graph, zeros that require grad, as PyTorch's: a higher-order grad of them is zero.
        result = [
            g if g is not None else _creation.zeros_like(t).requires_grad_(create_graph) for g, t in zip(result, ins)
        ]
    return tuple(result)


def _grads_batched(
    outs: list[Tensor],
    ins: list[Tensor],
    gouts: list[Any],
    retain_graph: bool | None,
    create_graph: bool,
    allow_unused: bool | None,
    materialize_grads: bool,
) -> tuple[Tensor | None, ...]:
    """``grad(..., is_grads_batched=True)``: each grad_output's dim 0 indexes a batch of seeds, and each result
    gains that dim. PyTorch vmaps the backward over the seeds; ember runs one backward per seed over the same
    graph (kept until the last) and stacks the gradients, the same numbers at one pass per seed."""
    from .. import _creation

    if len(gouts) != len(outs) or any(not isinstance(g, Tensor) for g in gouts):
        raise RuntimeError("grad(): is_grads_batched=True needs a batched grad_output tensor for every output")
    sizes = {g.size(0) if g.dim() else None for g in gouts}
    if len(sizes) != 1 or None in sizes:
        raise RuntimeError(f"grad(): with is_grads_batched=True every grad_output needs the same dim 0, got {sizes}")
    count = sizes.pop()
    keep = create_graph if retain_graph is None else retain_graph
    per_seed = [
        grad(
            outs,
            ins,
            [g[i] for g in gouts],
            retain_graph=keep or i < count - 1,
            create_graph=create_graph,
            allow_unused=allow_unused,
            materialize_grads=materialize_grads,
        )  # fmt: skip
        for i in range(count)
    ]
    return tuple(
        None if per_seed and per_seed[0][k] is None else
        _C.stack([seed[k] for seed in per_seed], 0) if per_seed else _creation.zeros(0, *x.shape, dtype=x.dtype)
        for k, x in enumerate(ins)
    )  # fmt: skip


_create_graph_warned = False


def _warn_create_graph_cycle() -> None:
    """PyTorch's warning for backward(create_graph=True): once per process, or every time with set_warn_always."""
    global _create_graph_warned
    from .. import is_warn_always_enabled

    if _create_graph_warned and not is_warn_always_enabled():
        return
    _create_graph_warned = True
    warnings.warn(
        "Using backward() with create_graph=True will create a reference cycle between the parameter and its "
        "gradient which can cause a memory leak. We recommend using autograd.grad when creating the graph to "
        "avoid this. If you have to use this function, make sure to reset the .grad fields of your parameters to "
        "None after use to break the cycle and avoid the leak.",
        UserWarning,
        stacklevel=3,
    )


class set_multithreading_enabled:
    """Turns the parallel backward executor off (False) or on, at once; as a context manager, restores
    the previous setting on exit. (PyTorch's flag is per thread; ember's executor setting is global.)"""

    def __init__(self, mode: bool) -> None:
        self._prev = _C._parallel_backward_setting()
        _C._set_parallel_backward(bool(mode))

    def __enter__(self) -> None:
        pass

    def __exit__(self, *args: object) -> None:
        _C._set_parallel_backward(self._prev)


def is_multithreading_enabled() -> bool:
    """Whether backward may run nodes on several threads (see set_parallel_backward)."""
    return _C._is_parallel_backward_enabled()


def set_parallel_backward(enabled: bool | None) -> None:
    """Turns the parallel backward executor on or off.

    On, with more than one thread (``ember.set_num_threads``) and a graph that
    branches with enough work, independent nodes of a backward pass run on
    several threads at once; gradients are bitwise the same either way. Off,
    every backward runs on the thread that called it, as PyTorch's CPU engine.
    By default (and after ``set_parallel_backward(None)``) the executor runs
    only where ember has at least 4 threads: on 2 cores the kernels' own
    threads already use both, and every workload measured ran faster serially.
    """
    _C._set_parallel_backward(None if enabled is None else bool(enabled))


def is_parallel_backward_enabled() -> bool:
    """Returns whether the parallel backward executor may run (see ``set_parallel_backward``): True by
    default, where it runs with at least 4 threads."""
    return _C._is_parallel_backward_enabled()
