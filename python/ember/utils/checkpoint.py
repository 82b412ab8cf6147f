"""ember.utils.checkpoint: activation checkpointing, as ``torch.utils.checkpoint``.

``checkpoint(function, *args, use_reentrant=...)`` returns what ``function(*args)``
returns, without keeping the graph of ``function`` (its intermediate tensors) until
the backward pass: backward runs ``function`` again from its saved arguments, with
the random number generator put back where it was (``preserve_rng_state``), and
differentiates that recomputation. Memory is traded for a second forward.

The two variants
----------------
``use_reentrant=True`` is PyTorch's reentrant variant, the same design: a custom
``Function`` (``CheckpointFunction``) runs ``function`` under ``no_grad`` in forward;
its backward reruns it with grad enabled on detached copies of the arguments and
calls ``ember.autograd.backward`` on the recomputed outputs, which accumulates into
``.grad`` of every leaf the function used (parameters) and gives the arguments'
gradients back through the Function. Its limits are PyTorch's: a gradient only when
an argument requires grad, tensors inside nested structures are not tracked, and it
is meant for ``.backward()`` (see the deviations below for ``autograd.grad``).

``use_reentrant=False``: PyTorch records the real graph and swaps its saved tensors
for handles through saved-tensor hooks, recomputing them on use. ember has no
saved-tensor hooks, so it gets the same behaviour for a user another way:

1. Forward runs ``function`` with grad enabled on aliases of the tensor arguments
   that require grad, each made by a small Function (``CheckpointInput``), so the
   graph it records starts at known nodes: those aliases, and the leaves ``function``
   reaches on its own, such as the parameters of the modules it calls.
2. That graph is walked once from the outputs (``grad_fn.next_functions``) down to
   the ``AccumulateGrad`` nodes, stopping at the argument aliases, to collect those
   leaves.
3. The outputs are handed out, detached, through a custom Function whose inputs are
   the original tensor arguments *and* the collected leaves. So gradients reach the
   arguments and the parameters, even when no argument requires grad, and since the
   Function is an ordinary node, ``ember.autograd.grad``, ``backward(inputs=...)`` and
   ``create_graph=True`` work. The recorded graph is dropped when ``checkpoint``
   returns: only the arguments are kept (checked for in-place changes, as saved
   tensors are).
4. Its backward reruns ``function`` with grad enabled (RNG state replayed) on new
   aliases of the arguments and calls ``ember.autograd.grad`` of the recomputed
   outputs w.r.t. those aliases and the collected leaves, seeded with the incoming
   gradients. The aliases are detached leaves; under ``create_graph`` they are
   ``CheckpointInput`` aliases instead, so that the gradients keep their history back
   to the arguments, with their backward switched off during this first-order pass:
   a leaf that is both used inside and upstream of an argument (a weight shared
   across the steps of a recurrent net) then gets each path once, the argument's
   path through the Function's own edge.

Nodes created before the call are recognised by their creation number
(``Node._sequence_nr()``): if the walk meets one, ``function`` used a tensor that
requires grad and is not a leaf other than through its arguments (a closure, a
global). Such a tensor cannot become an input of the Function, so that call is not
checkpointed: its recorded graph is kept (connected to the arguments through their
aliases), gradients are right everywhere, and a UserWarning says that no memory is
saved and to pass the tensor as an argument.

Tensors are found in the arguments and outputs through (nested) tuples, lists,
named tuples and dicts; outputs that did not require grad in the forward are marked
non-differentiable, as PyTorch's outputs would be. Outputs are fresh tensors whose
``grad_fn`` is this Function's node (``CheckpointBackward``), not the last op of
``function`` as in PyTorch.

Deviations from PyTorch (ember has no saved-tensor hooks or reentrancy flag)
---------------------------------------------------------------------------
- ``use_reentrant=False``: during forward the whole graph of ``function`` is held
  until ``function`` returns (PyTorch drops each saved tensor as it is saved), so the
  peak within one checkpointed call is that of the plain call; between calls (and
  across the segments of ``checkpoint_sequential``) only the arguments are kept.
  Recomputation always reruns all of ``function`` (``early_stop`` and
  ``set_checkpoint_early_stop`` are accepted and have no effect). The determinism
  check (``determinism_check="default"``) compares the shapes, dtypes and devices of
  the recomputed *outputs* with the forward's (PyTorch compares saved tensors) and
  raises ``CheckpointError``. ``debug=True`` is accepted and adds nothing to messages.
- The case above of a captured non-leaf tensor is not checkpointed (with a warning);
  PyTorch checkpoints it. A leaf that requires grad and is *created* inside
  ``function`` gets no gradient (the recomputation makes a new one).
- Tensors inside other objects than tuples, lists and dicts (custom classes) are not
  seen as arguments: ``function`` then reaches them "from outside" as above.
- ``use_reentrant=True`` with ``ember.autograd.grad`` or ``backward(inputs=...)``:
  PyTorch raises; ember cannot tell from Python how the outer backward was started,
  so it computes the arguments' gradients correctly but, as the reentrant design
  does, also accumulates into ``.grad`` of the parameters used inside.
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from typing import Any, Callable, ContextManager, Iterable, Iterator

from .. import _C, _creation
from .._C import Tensor
from ..autograd import Function
from ..grad_mode import enable_grad, no_grad

__all__ = [
    "checkpoint",
    "checkpoint_sequential",
    "CheckpointError",
    "CheckpointFunction",
    "check_backward_validity",
    "detach_variable",
    "noop_context_fn",
    "set_checkpoint_early_stop",
    "set_checkpoint_debug_enabled",
]

_DEFAULT_DETERMINISM_MODE = "default"
_DETERMINISM_CHECKS = ("default", "none")
_debug_enabled: bool | None = None  # set_checkpoint_debug_enabled's override of ``debug``
_early_stop_enabled: bool | None = None  # set_checkpoint_early_stop's override of ``early_stop``

# The generator is global: two recomputations replaying their states at once (backward on
# several threads) must not interleave.
_rng_lock = threading.RLock()


class CheckpointError(RuntimeError):
    """A recomputation that does not match the forward (``determinism_check``)."""


def noop_context_fn() -> tuple[ContextManager[Any], ContextManager[Any]]:
    """The default ``context_fn``: two contexts that do nothing."""
    return contextlib.nullcontext(), contextlib.nullcontext()


@contextlib.contextmanager
def set_checkpoint_early_stop(enable: bool) -> Iterator[None]:
    """Sets ``early_stop`` for the checkpoints in the block, as PyTorch. ember always
    recomputes the whole function, so the setting has no effect."""
    global _early_stop_enabled
    previous, _early_stop_enabled = _early_stop_enabled, enable
    try:
        yield
    finally:
        _early_stop_enabled = previous


@contextlib.contextmanager
def set_checkpoint_debug_enabled(enabled: bool | None) -> Iterator[None]:
    """Overrides ``debug`` of the checkpoints in the block (None: each call's own value)."""
    global _debug_enabled
    previous, _debug_enabled = _debug_enabled, enabled
    try:
        yield
    finally:
        _debug_enabled = previous


def detach_variable(inputs: tuple[Any, ...]) -> tuple[Any, ...]:
    """Detached copies of the tensors of ``inputs``, requiring grad as they do; other values as they are."""
    if not isinstance(inputs, tuple):
        raise RuntimeError(f"Only tuple of tensors is supported. Got Unsupported input type: {type(inputs).__name__}")
    detached = []
    for x in inputs:
        if isinstance(x, Tensor):
            x = x.detach().requires_grad_(x.requires_grad)
        detached.append(x)
    return tuple(detached)


def check_backward_validity(inputs: Iterable[Any]) -> None:
    """Warns when no tensor of ``inputs`` requires grad (the reentrant checkpoint then gives none)."""
    if not any(isinstance(x, Tensor) and x.requires_grad for x in inputs):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", stacklevel=2)


@contextlib.contextmanager
def _replayed_rng(state: Tensor | None) -> Iterator[None]:
    """Runs the block from the generator state ``state`` and gives the caller's state back
    afterwards (None: the block draws from the current state, which it advances)."""
    if state is None:
        yield
        return
    with _rng_lock:
        callers = _C.get_rng_state()
        _C.set_rng_state(state)
        try:
            yield
        finally:
            _C.set_rng_state(callers)


# --- tensors inside nested arguments and outputs -------------------------------------------


class _Slot:
    """Where the ``index``-th tensor of a flattened structure goes."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


def _flatten(obj: Any, tensors: list[Tensor]) -> Any:
    """``obj`` with each tensor in it (through tuples, named tuples, lists and dicts) replaced by a
    ``_Slot``; the tensors are appended to ``tensors`` in order. Other objects are kept as they are."""
    if isinstance(obj, Tensor):
        tensors.append(obj)
        return _Slot(len(tensors) - 1)
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # a named tuple
        return type(obj)(*(_flatten(x, tensors) for x in obj))
    if type(obj) in (tuple, list):
        return type(obj)(_flatten(x, tensors) for x in obj)
    if isinstance(obj, dict):
        try:
            return type(obj)((k, _flatten(v, tensors)) for k, v in obj.items())
        except TypeError:  # a dict subclass that cannot be built from pairs: keep it opaque
            return obj
    return obj


def _unflatten(template: Any, tensors: list[Any]) -> Any:
    """The inverse of ``_flatten``: puts ``tensors[i]`` where ``_Slot(i)`` stands."""
    if isinstance(template, _Slot):
        return tensors[template.index]
    if isinstance(template, tuple) and hasattr(template, "_fields"):
        return type(template)(*(_unflatten(x, tensors) for x in template))
    if type(template) in (tuple, list):
        return type(template)(_unflatten(x, tensors) for x in template)
    if isinstance(template, dict):
        try:
            return type(template)((k, _unflatten(v, tensors)) for k, v in template.items())
        except TypeError:
            return template
    return template


# --- the reentrant variant -----------------------------------------------------------------


class CheckpointFunction(Function):
    """The reentrant checkpoint (``use_reentrant=True``), as PyTorch's ``CheckpointFunction``."""

    @staticmethod
    def forward(ctx: Any, run_function: Callable[..., Any], preserve_rng_state: bool, *args: Any) -> Any:
        """Runs ``run_function(*args)`` without recording; keeps the arguments and the RNG state."""
        check_backward_validity(args)
        ctx.run_function = run_function
        ctx.fwd_rng_state = _C.get_rng_state() if preserve_rng_state else None
        ctx.non_tensor_args = [None if isinstance(a, Tensor) else a for a in args]
        ctx.save_for_backward(*[a for a in args if isinstance(a, Tensor)])
        with no_grad():
            return run_function(*args)

    @staticmethod
    def backward(ctx: Any, *grads: Tensor) -> tuple[Tensor | None, ...]:
        """Reruns the function with grad enabled and backpropagates ``grads`` through the rerun."""
        from .. import autograd

        saved = iter(ctx.saved_tensors)
        args = tuple(next(saved) if a is None else a for a in ctx.non_tensor_args)
        with _replayed_rng(ctx.fwd_rng_state):
            detached = detach_variable(args)
            with enable_grad():
                outputs = ctx.run_function(*detached)
        if isinstance(outputs, Tensor):
            outputs = (outputs,)
        roots, seeds = [], []
        for out, g in zip(outputs, grads):
            if isinstance(out, Tensor) and out.requires_grad:
                roots.append(out)
                seeds.append(g)
        if not roots:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        autograd.backward(roots, seeds)
        return (None, None) + tuple(d.grad if isinstance(d, Tensor) else None for d in detached)


# --- the non-reentrant variant -------------------------------------------------------------


class _Switch:
    """Turns the backward of a set of ``_CheckpointInput`` nodes off and on."""

    __slots__ = ("blocked",)

    def __init__(self) -> None:
        self.blocked = False


class _CheckpointInput(Function):
    """A differentiable alias of a checkpoint's argument, where the checkpoint's graph begins.

    Its backward passes the gradient on, except while its switch is blocked: inside the
    backward of a checkpoint, the gradient w.r.t. the argument is given back through the
    checkpoint's own edge, so a first-order pass that also asks for leaves upstream of
    the argument (a weight shared by the argument's history and the function) must not
    count the path through the argument a second time. Higher-order passes, run later,
    find it open and differentiate through it.
    """

    @staticmethod
    def forward(ctx: Any, switch: _Switch, t: Tensor) -> Tensor:
        ctx.switch = switch
        return t.view_as(t)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[None, Tensor | None]:
        return None, None if ctx.switch.blocked else grad


_CheckpointInput.__name__ = "CheckpointInput"  # its node is named CheckpointInputBackward


def _next_sequence_nr() -> int | None:
    """The creation number the next graph node will get (None where nodes do not show it)."""
    with enable_grad():
        probe = _creation.zeros(1, requires_grad=True) * 1
    return _sequence_nr(probe.grad_fn)


def _sequence_nr(node: Any) -> int | None:
    number = getattr(node, "_sequence_nr", None)  # a method, as PyTorch's Node._sequence_nr()
    return number() if callable(number) else number


def _graph_leaves(roots: list[Tensor], start: int | None, boundary: set[Any]) -> tuple[list[Tensor], bool]:
    """The leaves that require grad reached from ``roots`` (which require grad), each once, in the
    order a depth-first walk of ``grad_fn.next_functions`` meets them, not going past the nodes of
    ``boundary`` (the arguments); and whether the walk met a node created before ``start`` (a
    non-leaf from outside the function, not an argument: the walk stops there)."""
    leaves: list[Tensor] = []
    seen_leaves: set[int] = set()
    seen_nodes = set()
    stack = []

    def add_leaf(t: Tensor) -> None:
        if id(t) not in seen_leaves:
            seen_leaves.add(id(t))
            leaves.append(t)

    for root in reversed(roots):
        node = root.grad_fn
        if node is None:
            add_leaf(root)
        elif node not in boundary:
            stack.append(node)
    while stack:
        node = stack.pop()
        if node in seen_nodes:
            continue
        seen_nodes.add(node)  # the set keeps the wrapper alive, so identity holds during the walk
        if node in boundary:
            continue
        variable = getattr(node, "variable", None)
        if variable is not None:
            add_leaf(variable)
            continue
        if start is not None and _sequence_nr(node) < start:
            return leaves, True
        for next_node, _ in reversed(node.next_functions):
            if next_node is not None and next_node not in seen_nodes:
                stack.append(next_node)
    return leaves, False


def _metadata(t: Tensor) -> dict[str, Any]:
    return {"shape": tuple(t.shape), "dtype": t.dtype, "device": t.device}


class _Recorded:
    """What the backward of a non-reentrant checkpoint needs to rerun the function."""

    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)


class _NonReentrantCheckpoint(Function):
    """Hands out the outputs of a non-reentrant checkpoint: inputs are the tensor arguments and
    the leaves the function used; backward recomputes and differentiates (see the module doc)."""

    @staticmethod
    def forward(ctx: Any, rec: _Recorded, *tensors: Tensor) -> tuple[Tensor, ...]:
        ctx.rec = rec
        ctx.save_for_backward(*tensors[: rec.num_args])
        ctx.mark_non_differentiable(*[o for o, d in zip(rec.outputs, rec.differentiable) if not d])
        outputs = tuple(rec.outputs)
        del rec.outputs  # the node must not keep them (they are its outputs)
        return outputs

    @staticmethod
    def backward(ctx: Any, *grads: Tensor) -> tuple[Tensor | None, ...]:
        from .. import autograd

        rec = ctx.rec
        args = ctx.saved_tensors
        leaves = rec.leaves
        needs = ctx.needs_input_grad[1:]
        create_graph = _C.is_grad_enabled()  # the engine enables it for create_graph=True
        switch = _Switch()
        with _replayed_rng(rec.rng_state), enable_grad():
            if create_graph:  # the gradients must keep their history back to the arguments
                aliases = [_CheckpointInput.apply(switch, t) if t.requires_grad else t.detach() for t in args]
            else:
                aliases = [t.detach().requires_grad_(t.requires_grad) for t in args]
            call_args, call_kwargs = _unflatten(rec.template, list(aliases))
            with rec.recompute_context:
                outputs = rec.function(*call_args, **call_kwargs)
        recomputed: list[Tensor] = []
        _flatten(outputs, recomputed)
        if rec.check_metadata:
            _check_recomputed(rec.metadata, recomputed)

        roots, seeds = [], []
        for out, g, differentiable in zip(recomputed, grads, rec.differentiable):
            if differentiable and out.requires_grad:
                roots.append(out)
                seeds.append(g)
        targets = [a for a, need in zip(aliases, needs) if need and a.requires_grad]
        targets += [leaf for leaf, need in zip(leaves, needs[len(args) :]) if need]
        result: list[Tensor | None] = [None] * (len(args) + len(leaves))
        if roots and targets:
            switch.blocked = True
            try:
                found = iter(
                    autograd.grad(
                        roots, targets, seeds, retain_graph=True, create_graph=create_graph, allow_unused=True
                    )
                )
            finally:
                switch.blocked = False
            for i, (a, need) in enumerate(zip(aliases, needs)):
                if need and a.requires_grad:
                    result[i] = next(found)
            for i, need in enumerate(needs[len(args) :]):
                if need:
                    result[len(args) + i] = next(found)
        return (None, *result)


def _check_recomputed(expected: list[dict[str, Any]], recomputed: list[Tensor]) -> None:
    if len(recomputed) != len(expected):
        raise CheckpointError(
            "ember.utils.checkpoint: the recomputed function returned a different number of tensors than "
            f"during the original forward pass (expected {len(expected)}, got {len(recomputed)})."
        )
    mismatches = []
    for i, (meta, t) in enumerate(zip(expected, recomputed)):
        if _metadata(t) != meta:
            mismatches.append(f"tensor at position {i}:\nsaved metadata: {meta}\nrecomputed metadata: {_metadata(t)}\n")
    if mismatches:
        raise CheckpointError(
            "ember.utils.checkpoint: Recomputed values for the following tensors have different metadata "
            "than during the forward pass.\n" + "".join(mismatches)
        )


def _checkpoint_without_reentrant(
    function: Callable[..., Any],
    preserve_rng_state: bool,
    context_fn: Callable[[], tuple[ContextManager[Any], ContextManager[Any]]],
    determinism_check: str,
    debug: bool,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    if (_debug_enabled if _debug_enabled is not None else debug) and context_fn is not noop_context_fn:
        raise ValueError("debug=True is incompatible with non-default context_fn")
    if determinism_check not in _DETERMINISM_CHECKS:
        raise ValueError(f"determinism_check should be one of {list(_DETERMINISM_CHECKS)}, but got {determinism_check}")
    forward_context, recompute_context = context_fn()
    rng_state = _C.get_rng_state() if preserve_rng_state else None
    if not _C.is_grad_enabled():  # nothing to record: a plain call, as PyTorch
        return function(*args, **kwargs)

    start = _next_sequence_nr()
    arg_tensors: list[Tensor] = []
    template = _flatten((args, kwargs), arg_tensors)
    aliases = [_CheckpointInput.apply(_Switch(), t) if t.requires_grad else t for t in arg_tensors]
    boundary = {a.grad_fn for a in aliases if a.requires_grad}
    call_args, call_kwargs = _unflatten(template, list(aliases))
    with forward_context:
        outputs = function(*call_args, **call_kwargs)

    out_tensors: list[Tensor] = []
    out_template = _flatten(outputs, out_tensors)
    differentiable = [t.requires_grad for t in out_tensors]
    if not any(differentiable):
        return outputs  # no graph to drop or to connect

    leaves, escaped = _graph_leaves([t for t in out_tensors if t.requires_grad], start, boundary)
    if escaped:
        warnings.warn(
            "ember.utils.checkpoint: the checkpointed function uses a tensor that requires grad and is not a "
            "leaf other than through its arguments (from a closure, say); its graph is kept as recorded, so "
            "gradients are right but no memory is saved. Pass such tensors as arguments to checkpoint.",
            stacklevel=3,
        )
        return outputs  # connected to the arguments through their CheckpointInput nodes
    rec = _Recorded(
        function=function,
        template=template,
        num_args=len(arg_tensors),
        leaves=leaves,
        rng_state=rng_state,
        recompute_context=recompute_context,
        differentiable=differentiable,
        check_metadata=determinism_check == "default",
        metadata=[_metadata(t) for t in out_tensors],
        outputs=[t.detach() for t in out_tensors],
    )
    del outputs, out_tensors, aliases, boundary, call_args, call_kwargs  # the recorded graph goes with them
    handed_out = _NonReentrantCheckpoint.apply(rec, *arg_tensors, *leaves)
    return _unflatten(out_template, list(handed_out))


_NonReentrantCheckpoint.__name__ = "Checkpoint"  # its node is named CheckpointBackward


# --- the public functions ------------------------------------------------------------------


def checkpoint(
    function: Callable[..., Any],
    *args: Any,
    use_reentrant: bool | None = None,
    preserve_rng_state: bool = True,
    context_fn: Callable[[], tuple[ContextManager[Any], ContextManager[Any]]] = noop_context_fn,
    determinism_check: str = _DEFAULT_DETERMINISM_MODE,
    debug: bool = False,
    early_stop: bool = True,
    **kwargs: Any,
) -> Any:
    """Runs ``function(*args, **kwargs)`` without keeping its intermediate tensors for backward;
    backward recomputes them by running ``function`` again.

    Args:
        function: what to run; it must compute the same thing when run again (randomness is
            replayed with ``preserve_rng_state``).
        args: its positional arguments.
        use_reentrant: which variant (see the module docstring); pass it explicitly. None warns
            and means True, as PyTorch 2.x does; False is recommended: gradients reach the
            parameters used inside even when no argument requires grad, and it works with
            ``ember.autograd.grad`` and keyword arguments.
        preserve_rng_state: replay the random number generator's state of the forward in the
            recomputation (identical dropout masks); False lets it draw new numbers.
        context_fn: returns two context managers, for the forward run and for the
            recomputation (``use_reentrant=False`` only).
        determinism_check: ``"default"`` checks that the recomputed outputs have the forward's
            shapes and dtypes; ``"none"`` does not (``use_reentrant=False`` only).
        debug: accepted for PyTorch compatibility (``use_reentrant=False`` only); adds nothing.
        early_stop: accepted for PyTorch compatibility; ember always recomputes everything.
        kwargs: keyword arguments of ``function`` (``use_reentrant=False`` only).

    Returns:
        The output of ``function``.
    """
    if use_reentrant is None:
        warnings.warn(
            "ember.utils.checkpoint: the use_reentrant parameter should be passed explicitly. PyTorch announces "
            "that calling checkpoint without use_reentrant will raise an exception. use_reentrant=False is "
            "recommended, but if you need to preserve the current default behavior, you can pass "
            "use_reentrant=True. Refer to docs for more details on the differences between the two variants.",
            stacklevel=2,
        )
        use_reentrant = True
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        return CheckpointFunction.apply(function, preserve_rng_state, *args)
    return _checkpoint_without_reentrant(
        function, preserve_rng_state, context_fn, determinism_check, debug, args, kwargs
    )


def checkpoint_sequential(
    functions: Any,
    segments: int,
    input: Tensor,
    use_reentrant: bool | None = None,
    **kwargs: Any,
) -> Tensor:
    """Runs ``functions`` (an ``nn.Sequential`` or a list of modules or functions) one after the
    other on ``input``, checkpointing all but the last of ``segments`` chunks, as PyTorch.

    The first ``segments - 1`` chunks have ``len(functions) // segments`` functions each and are
    run through ``checkpoint``; the rest runs as usual. Keyword ``preserve_rng_state`` (default
    True) goes to each ``checkpoint``; ``use_reentrant`` as for ``checkpoint``.
    """
    if use_reentrant is None:
        warnings.warn(
            "ember.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should be passed "
            "explicitly. PyTorch announces that calling it without use_reentrant will raise an exception. "
            "use_reentrant=False is recommended, but if you need to preserve the current default behavior, "
            "you can pass use_reentrant=True. Refer to docs for more details on the differences between the "
            "two variants.",
            stacklevel=2,
        )
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    from ..nn import Sequential

    if isinstance(functions, Sequential):
        functions = list(functions.children())
    functions = list(functions)
    if segments < 1 or len(functions) // segments < 1:
        raise ValueError(
            f"checkpoint_sequential: segments must be between 1 and the number of functions "
            f"({len(functions)}), but got {segments}"
        )
    size = len(functions) // segments

    def run(chunk: list[Callable[..., Any]]) -> Callable[[Any], Any]:
        def forward(x: Any) -> Any:
            for f in chunk:
                x = f(x)
            return x

        return forward

    start = 0
    for _ in range(segments - 1):
        input = checkpoint(
            run(functions[start : start + size]), input, use_reentrant=use_reentrant, preserve_rng_state=preserve
        )
        start += size
    return run(functions[start:])(input)
