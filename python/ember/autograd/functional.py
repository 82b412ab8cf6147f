"""ember.autograd.functional: Jacobians, Hessians and their products, as ``torch.autograd.functional``.

Every function takes a Python function ``func`` of tensors and the point ``inputs``
to evaluate it at, and is built on reverse mode (``ember.autograd.grad``):

- ``vjp(func, inputs, v)``: v^T J, one backward pass;
- ``jvp(func, inputs, v)``: J v, by the double-backward trick (the backward of the
  backward, which is linear in its seed), as PyTorch does;
- ``jacobian(func, inputs)``: one backward pass per output element;
- ``hessian(func, inputs)``: the Jacobian of the gradient;
- ``vhp`` / ``hvp``: v^T H and H v for a scalar function, by double backward.

Structure follows PyTorch's rules: a tuple of inputs (or outputs) gives a tuple in
the result, a single tensor gives a tensor; ``jacobian(...)[i][j]`` is d output i /
d input j, shaped ``output_i.shape + input_j.shape``. With ``strict=False`` a part
that does not depend on an input is zeros; ``strict=True`` raises RuntimeError with
PyTorch's words instead. With ``create_graph=False`` no result requires grad.

``strategy="forward-mode"`` (and ``outer_jacobian_strategy="forward-mode"``) go through
``ember.autograd.forward_ad`` (itself built on the double-backward trick), with PyTorch's
restrictions (``vectorize=True`` only, not with ``create_graph`` or ``strict``) and its
result structure (lists where the inputs are a tuple). ``vectorize=True`` (a vmap in
PyTorch) computes the same values with one backward pass per output element.

PyTorch's private helpers of this module (``_as_tuple``, ``_grad_preprocess``, ``_autograd_grad``,
``_construct_standard_basis_for``, ...), which libraries import to build their own Jacobians
(pytorch-minimize), are at the end, under PyTorch's names.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from .. import _C, _creation
from .. import autograd as _autograd  # the package; its ``grad`` is looked up at call time
from .._C import Tensor
from ..grad_mode import enable_grad, set_grad_enabled

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]

_Tensors = tuple  # a tuple of Tensor (or of Tensor | None where the comment says so)


def _check_tensors(value: Any, what: str, fn_name: str) -> tuple[bool, tuple[Tensor, ...]]:
    """Returns (whether ``value`` was a tuple, ``value`` as a tuple); TypeError for anything
    that is not a Tensor or a tuple of Tensors (a list counts as one non-Tensor, as in PyTorch)."""
    was_tuple = isinstance(value, tuple)
    items = value if was_tuple else (value,)
    for index, item in enumerate(items):
        if not isinstance(item, Tensor):
            where = f"the value at index {index}" if was_tuple else f"the given {what}"
            raise TypeError(
                f"The {what} given to {fn_name} must be either a Tensor or a tuple of Tensors "
                f"but {where} has type {type(item)}."
            )
    return was_tuple, items


def _fresh(tensors: Sequence[Tensor], create_graph: bool, need_graph: bool) -> _Tensors:
    """New tensor objects for the inputs (or the vectors v) of a call.

    With ``create_graph`` a tensor that requires grad gets a differentiable alias (its
    history is kept, so results can be differentiated w.r.t. it); every other tensor
    is detached, and requires grad when ``need_graph``. New objects also keep the
    given inputs apart from the same tensors captured by ``func`` from outside.
    """
    fresh = []
    for t in tensors:
        if create_graph and t.requires_grad:
            fresh.append(t.view_as(t))
        else:
            fresh.append(t.detach().requires_grad_(need_graph))
    return tuple(fresh)


def _check_v(v: _Tensors, like: _Tensors, like_is_tuple: bool) -> None:
    """``v`` must have one tensor per tensor of ``like``, each of the same size."""
    if len(v) != len(like):
        if like_is_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(like)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for index, (vi, li) in enumerate(zip(v, like)):
        if tuple(vi.shape) != tuple(li.shape):
            prefix = f"Entry {index} in " if like_is_tuple else ""
            raise RuntimeError(f"{prefix}v has invalid size: should be {li.size()} but got {vi.size()}.")


def _strict_requires_grad(tensors: _Tensors, kind: str, strict: bool) -> None:
    """In strict mode, each of ``tensors`` (Tensor or None) must be a differentiable function
    of the inputs; ``kind`` names what they are, for the error."""
    if not strict:
        return
    for i, t in enumerate(tensors):
        if t is None:
            raise RuntimeError(
                f"The output of the user-provided function is independent of input {i}. "
                "This is not allowed in strict mode."
            )
        if t.requires_grad:
            continue
        if kind == "outputs":
            raise RuntimeError(
                f"Output {i} of the user-provided function does not require gradients. The outputs must be "
                "computed in a differentiable manner from the input when running in strict mode."
            )
        if kind == "grad_inputs":
            raise RuntimeError(
                f"The gradient with respect to input {i} is independent of the inputs of the user-provided "
                "function. This is not allowed in strict mode."
            )
        if kind == "hessian":
            raise RuntimeError(
                f"The hessian of the user-provided function with respect to input {i} is independent of the input. "
                "This is not allowed in strict mode. You should ensure that your function is thrice differentiable "
                "and that the hessian depends on the inputs."
            )
        if kind == "jacobian":
            raise RuntimeError(
                "While computing the hessian, found that the jacobian of the user-provided function with "
                f"respect to input {i} is independent of the input. This is not allowed in strict mode. "
                "You should ensure that your function is twice differentiable and that the jacobian depends "
                "on the inputs (this would be violated by a linear function for example)."
            )
        raise AssertionError(f"unknown kind {kind!r}")


def _grad(
    outputs: _Tensors,
    inputs: _Tensors,
    grad_outputs: _Tensors | None = None,
    create_graph: bool = False,
    retain_graph: bool | None = None,
    is_grads_batched: bool = False,
) -> _Tensors:
    """``autograd.grad`` that skips outputs that are None or do not require grad, and gives None
    (never raises) for an input no remaining output depends on. ``outputs`` may hold None."""
    seeds = grad_outputs if grad_outputs is not None else (None,) * len(outputs)
    kept = [(o, s) for o, s in zip(outputs, seeds) if o is not None and o.requires_grad]
    if not kept:
        return (None,) * len(inputs)
    return tuple(
        _autograd.grad(
            [o for o, _ in kept],
            list(inputs),
            [s for _, s in kept],
            retain_graph=retain_graph,
            create_graph=create_graph,
            allow_unused=True,
            is_grads_batched=is_grads_batched,
        )
    )


_INDEPENDENT = {
    "back": "The output of the user-provided function is independent of input {i}. This is not allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the grad_outputs when "
    "using the double backward trick to compute forward mode gradients. This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. "
    "This is not allowed in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {i} in the "
    "grad_jacobian. This is not allowed in strict mode as it prevents from using the double backward trick "
    "to replace forward mode AD.",
}


def _zeros_for_none(grads: _Tensors, like: _Tensors, strict: bool, create_graph: bool, stage: str) -> _Tensors:
    """Replaces each None of ``grads`` by zeros shaped as the tensor of ``like`` at its place;
    in strict mode raises instead (and, with create_graph, for a result that does not require grad)."""
    filled = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise RuntimeError(_INDEPENDENT[stage].format(i=i))
            g = _creation.zeros_like(like[i])
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if stage.startswith("double") else "jacobian"
            raise RuntimeError(
                f"The {what} of the user-provided function is independent of input {i}. "
                "This is not allowed in strict mode when create_graph=True."
            )
        filled.append(g)
    return tuple(filled)


def _finish(results: Any, create_graph: bool) -> Any:
    """Detaches results (nested tuples too) unless the caller asked for a graph."""
    if create_graph:
        return results
    if isinstance(results, tuple):
        return tuple(_finish(r, create_graph) for r in results)
    return results.detach()


def _unpack(results: tuple, outer_is_tuple: bool, inner_is_tuple: bool | None = None) -> Any:
    """Undoes the tuple wrapping of single tensors: ``inner_is_tuple`` for the inner level of
    a nested result (``jacobian``), ``outer_is_tuple`` for the outer level."""
    if inner_is_tuple is False:
        results = tuple(r[0] for r in results)
    return results if outer_is_tuple else results[0]


def _grad_mode_for_results(create_graph: bool) -> set_grad_enabled:
    # The last backward pass records a graph only for create_graph; otherwise the caller's mode stays.
    return set_grad_enabled(True if create_graph else _C.is_grad_enabled())


def vjp(
    func: Callable[..., Any],
    inputs: Tensor | tuple[Tensor, ...],
    v: Tensor | tuple[Tensor, ...] | None = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """The product of the vector ``v`` with the Jacobian of ``func`` at ``inputs``: v^T J.

    Args:
        func: takes the tensors of ``inputs`` and returns a tensor or a tuple of tensors.
        inputs: a tensor or a tuple of tensors, the point.
        v: as the output of ``func`` (same structure and sizes); may be None when ``func``
            returns a single one-element tensor (then it is 1).
        create_graph: record the computation, so that the results can be differentiated.
        strict: raise when an input has no influence on the outputs, instead of giving zeros.

    Returns:
        ``(func_output, vjp)``: the output of ``func`` and the product, shaped as the inputs.
    """
    with enable_grad():
        inputs_is_tuple, inputs = _check_tensors(inputs, "inputs", "vjp")
        inputs = _fresh(inputs, create_graph, need_graph=True)
        outputs_is_tuple, outputs = _check_tensors(func(*inputs), "outputs of the user-provided function", "vjp")
        _strict_requires_grad(outputs, "outputs", strict)
        if v is not None:
            _, v = _check_tensors(v, "v", "vjp")
            v = _fresh(v, create_graph, need_graph=False)
            _check_v(v, outputs, outputs_is_tuple)
        elif len(outputs) != 1 or outputs[0].nelement() != 1:
            raise RuntimeError(
                "The vector v can only be None if the user-provided function returns a single Tensor "
                "with a single element."
            )
    with _grad_mode_for_results(create_graph):
        grads = _grad(outputs, inputs, v, create_graph=create_graph)
        result = _zeros_for_none(grads, inputs, strict, create_graph, "back")
    return (
        _unpack(_finish(outputs, create_graph), outputs_is_tuple),
        _unpack(_finish(result, create_graph), inputs_is_tuple),
    )


def jvp(
    func: Callable[..., Any],
    inputs: Tensor | tuple[Tensor, ...],
    v: Tensor | tuple[Tensor, ...] | None = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """The product of the Jacobian of ``func`` at ``inputs`` with the vector ``v``: J v.

    Computed with the double-backward trick, as PyTorch: the backward pass from seeds
    ``u`` is linear in ``u``, ``g(u) = u^T J``, so differentiating it w.r.t. ``u`` along
    ``v`` gives ``J v``. ``func`` must therefore be twice differentiable in ember's sense
    (its backward recorded with create_graph), which every built-in op is.

    Args:
        func: takes the tensors of ``inputs`` and returns a tensor or a tuple of tensors.
        inputs: a tensor or a tuple of tensors, the point.
        v: as ``inputs``; may be None when the input is a single one-element tensor.
        create_graph: record the computation, so that the results can be differentiated.
        strict: raise when an output does not depend on the inputs, instead of giving zeros.

    Returns:
        ``(func_output, jvp)``: the output of ``func`` and the product, shaped as the outputs.
    """
    with enable_grad():
        inputs_is_tuple, inputs = _check_tensors(inputs, "inputs", "jvp")
        inputs = _fresh(inputs, create_graph, need_graph=True)
        if v is not None:
            _, v = _check_tensors(v, "v", "jvp")
            v = _fresh(v, create_graph, need_graph=False)
            _check_v(v, inputs, inputs_is_tuple)
        elif len(inputs) != 1 or inputs[0].nelement() != 1:
            raise RuntimeError(
                "The vector v can only be None if the input to the user-provided function is a single "
                "Tensor with a single element."
            )
        outputs_is_tuple, outputs = _check_tensors(func(*inputs), "outputs of the user-provided function", "jvp")
        _strict_requires_grad(outputs, "outputs", strict)
        # Any finite seed works (the backward is linear in it); zeros, which require grad.
        seeds = tuple(_creation.zeros_like(out, requires_grad=True) for out in outputs)
        grad_inputs = _grad(outputs, inputs, seeds, create_graph=True)
        _strict_requires_grad(grad_inputs, "grad_inputs", strict)
    with _grad_mode_for_results(create_graph):
        grads = _grad(grad_inputs, seeds, v, create_graph=create_graph)
        result = _zeros_for_none(grads, outputs, strict, create_graph, "back_trick")
    return (
        _unpack(_finish(outputs, create_graph), outputs_is_tuple),
        _unpack(_finish(result, create_graph), outputs_is_tuple),
    )


def _jacfwd(func: Callable[..., Any], inputs: Any, create_graph: bool, strict: bool, vectorize: bool) -> Any:
    """``jacobian(strategy="forward-mode")``: PyTorch's checks, then one JVP per input element
    through ``forward_ad`` (func runs once on dual inputs; each column is one backward pass)."""
    if create_graph:
        raise NotImplementedError(
            'ember.autograd.functional.jacobian: `create_graph=True` and `strategy="forward-mode"` are not '
            'supported together (yet). Please either set `create_graph=False` or `strategy="reverse-mode"`.'
        )
    if strict:
        raise RuntimeError(
            'ember.autograd.functional.jacobian: `strict=True` and `strategy="forward-mode"` are not supported '
            'together (yet). Please either set `strict=False` or `strategy="reverse-mode"`.'
        )
    inputs_is_tuple, inputs = _check_tensors(inputs, "inputs", "jacobian")
    if not vectorize:
        raise NotImplementedError(
            "Computing Jacobian using forward-AD or forward-over-reverse Hessian is only implemented for "
            "`vectorize=True`."
        )
    from . import forward_ad as fwAD

    with fwAD.dual_level(), enable_grad():  # ember's tangents come from the graph: func must record one
        duals = tuple(fwAD.make_dual(inp, _creation.zeros_like(inp)) for inp in inputs)
        outputs_is_tuple, outputs = _check_tensors(func(*duals), "outputs", "jacobian")
        maps = fwAD._tangents_of(outputs, duals)
        jac: list[list[Tensor]] = []  # jac[i][j]: d output i / d input j
        for out, tangent_of in zip(outputs, maps):
            row = []
            for j, inp in enumerate(inputs):
                shape = tuple(out.shape) + tuple(inp.shape)
                if tangent_of is None or inp.nelement() == 0:
                    row.append(out.new_zeros(shape))
                    continue
                basis = _creation.eye(inp.nelement(), dtype=inp.dtype, device=_creation._device_of(inp))
                columns = []
                for k in range(inp.nelement()):
                    tangents: list[Tensor | None] = [None] * len(inputs)
                    tangents[j] = basis[k].view(tuple(inp.shape))
                    columns.append(tangent_of(tangents))
                stacked = _C.stack(columns, 0)  # (inp.numel(), *out.shape)
                row.append(stacked.permute(*range(1, stacked.dim()), 0).reshape(shape))
            jac.append(row)
    # PyTorch's structure for this strategy: lists where it has a tuple of inputs (or of outputs and inputs).
    result: Any = jac
    if not inputs_is_tuple:
        result = tuple(r[0] for r in result)
    return result if outputs_is_tuple else result[0]


def jacobian(
    func: Callable[..., Any],
    inputs: Tensor | tuple[Tensor, ...],
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    strategy: str = "reverse-mode",
) -> Any:
    """The Jacobian of ``func`` at ``inputs``.

    Args:
        func: takes the tensors of ``inputs`` and returns a tensor or a tuple of tensors.
        inputs: a tensor or a tuple of tensors, the point.
        create_graph: record the computation, so that the Jacobian can be differentiated.
        strict: raise when an output does not depend on an input, instead of giving zeros.
        vectorize: accepted for PyTorch compatibility, with its restriction (not with
            ``strict=True``); ember computes the same values with the same loop of
            backward passes as ``vectorize=False`` (it is not batched).
        strategy: ``"reverse-mode"`` (a backward pass per output element) or ``"forward-mode"``
            (a JVP per input element, through ``forward_ad``; needs ``vectorize=True``).

    Returns:
        For one input and one output, a tensor shaped ``output.shape + input.shape``;
        ``J[j]`` for a tuple of inputs and one output, ``J[i]`` for a tuple of outputs
        and one input, ``J[i][j]`` for both: d output i / d input j.
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError(
            'Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your function has more '
            'outputs than inputs, "forward-mode" tends to be more performant. Otherwise, prefer to use '
            '"reverse-mode".'
        )
    if strategy == "forward-mode":
        return _jacfwd(func, inputs, create_graph, strict, vectorize)

    with enable_grad():
        inputs_is_tuple, inputs = _check_tensors(inputs, "inputs", "jacobian")
        inputs = _fresh(inputs, create_graph, need_graph=True)
        outputs_is_tuple, outputs = _check_tensors(func(*inputs), "outputs of the user-provided function", "jacobian")
        _strict_requires_grad(outputs, "outputs", strict)
        if vectorize and strict:
            raise RuntimeError(
                "ember.autograd.functional.jacobian: `strict=True` and `vectorized=True` are not supported "
                "together. Please either set `strict=False` or `vectorize=False`."
            )

        jac = []
        for i, out in enumerate(outputs):
            rows: list[list[Tensor]] = [[] for _ in inputs]  # rows[j][k]: d out.flat[k] / d input j
            flat = out.reshape(-1)
            for k in range(out.nelement()):
                grads = _grad((flat[k],), inputs, retain_graph=True, create_graph=create_graph)
                for j, (g, inp) in enumerate(zip(grads, inputs)):
                    if g is None:
                        if strict:
                            raise RuntimeError(
                                f"Output {i} of the user-provided function is independent of input {j}. "
                                "This is not allowed in strict mode."
                            )
                        g = _creation.zeros_like(inp)
                    elif strict and create_graph and not g.requires_grad:
                        raise RuntimeError(
                            f"The jacobian of the user-provided function is independent of input {j}. "
                            "This is not allowed in strict mode when create_graph=True."
                        )
                    rows[j].append(g)
            blocks = []
            for inp, row in zip(inputs, rows):
                shape = tuple(out.shape) + tuple(inp.shape)
                # An empty output has an empty Jacobian (PyTorch's loop fails on it; its vmap path does not).
                blocks.append(_C.stack(row, 0).view(shape) if row else inp.new_zeros(shape))
            jac.append(tuple(blocks))
        return _unpack(_finish(tuple(jac), create_graph), outputs_is_tuple, inputs_is_tuple)


def hessian(
    func: Callable[..., Any],
    inputs: Tensor | tuple[Tensor, ...],
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    outer_jacobian_strategy: str = "reverse-mode",
) -> Any:
    """The Hessian of the scalar function ``func`` at ``inputs``: the Jacobian of its gradient.

    Args:
        func: takes the tensors of ``inputs`` and returns a tensor with a single element.
        inputs: a tensor or a tuple of tensors, the point.
        create_graph: record the computation, so that the Hessian can be differentiated.
        strict: raise when the function or its gradient does not depend on an input,
            instead of giving zeros.
        vectorize: as for ``jacobian``: accepted, not batched (same values as False).
        outer_jacobian_strategy: how the Jacobian of the gradient is taken, as ``strategy`` of
            ``jacobian`` (``"forward-mode"``: forward-over-reverse, needs ``vectorize=True``).

    Returns:
        For one input, a tensor shaped ``input.shape + input.shape``; for a tuple of
        inputs, ``H[i][j]`` shaped ``input_i.shape + input_j.shape``.
    """
    inputs_is_tuple, inputs = _check_tensors(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def scalar_output(*args: Tensor) -> Tensor:
        out = func(*args)
        out_is_tuple, outs = _check_tensors(out, "outputs of the user-provided function", "hessian")
        _strict_requires_grad(outs, "outputs", strict)
        if out_is_tuple:
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.nelement() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should contain a single element")
        return out.squeeze()

    def gradient(*args: Tensor) -> tuple[Tensor, ...]:
        grads = jacobian(scalar_output, args, create_graph=True)
        _strict_requires_grad(grads, "jacobian", strict)
        return grads

    hess = jacobian(
        gradient,
        inputs,
        create_graph=create_graph,
        strict=strict,
        vectorize=vectorize,
        strategy=outer_jacobian_strategy,
    )
    return _unpack(hess, inputs_is_tuple, inputs_is_tuple)


def _hessian_product(
    fn_name: str,
    func: Callable[..., Any],
    inputs: Tensor | tuple[Tensor, ...],
    v: Tensor | tuple[Tensor, ...] | None,
    create_graph: bool,
    strict: bool,
) -> tuple[Any, Any]:
    """vhp (v^T H: the backward of the gradient, seeded with v) and hvp (H v: the double-backward
    trick applied to that backward)."""
    with enable_grad():
        inputs_is_tuple, inputs = _check_tensors(inputs, "inputs", fn_name)
        inputs = _fresh(inputs, create_graph, need_graph=True)
        if v is not None:
            _, v = _check_tensors(v, "v", fn_name)
            v = _fresh(v, create_graph, need_graph=False)
            _check_v(v, inputs, inputs_is_tuple)
        elif len(inputs) != 1 or inputs[0].nelement() != 1:
            raise RuntimeError(
                "The vector v can only be None if the input to the user-provided function is a single Tensor "
                "with a single element."
            )
        outputs_is_tuple, outputs = _check_tensors(func(*inputs), "outputs of the user-provided function", fn_name)
        _strict_requires_grad(outputs, "outputs", strict)
        if outputs_is_tuple:
            raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
        if outputs[0].nelement() != 1:
            raise RuntimeError(
                f"The Tensor returned by the function given to {fn_name} should contain a single element"
            )
        gradient = _grad(outputs, inputs, create_graph=True)
        _strict_requires_grad(gradient, "jacobian", strict)
        if fn_name == "vhp":
            target, wrt, stage = gradient, inputs, "double_back"
        else:
            seeds = tuple(_creation.zeros_like(inp, requires_grad=True) for inp in inputs)
            target = _grad(gradient, inputs, seeds, create_graph=True)  # u^T H, linear in u
            wrt, stage = seeds, "double_back_trick"
    with _grad_mode_for_results(create_graph):
        grads = _grad(target, wrt, v, create_graph=create_graph)
        result = _zeros_for_none(grads, inputs, strict, create_graph, stage)
    return (
        _unpack(_finish(outputs, create_graph), outputs_is_tuple),
        _unpack(_finish(result, create_graph), inputs_is_tuple),
    )


def vhp(
    func: Callable[..., Any],
    inputs: Tensor | tuple[Tensor, ...],
    v: Tensor | tuple[Tensor, ...] | None = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """The product of the vector ``v`` with the Hessian of the scalar function ``func``: v^T H.

    Args:
        func: takes the tensors of ``inputs`` and returns a tensor with a single element.
        inputs: a tensor or a tuple of tensors, the point.
        v: as ``inputs``; may be None when the input is a single one-element tensor.
        create_graph: record the computation, so that the results can be differentiated.
        strict: raise when the function or its gradient does not depend on an input,
            instead of giving zeros.

    Returns:
        ``(func_output, vhp)``: the output of ``func`` and the product, shaped as the inputs.
    """
    return _hessian_product("vhp", func, inputs, v, create_graph, strict)


def hvp(
    func: Callable[..., Any],
    inputs: Tensor | tuple[Tensor, ...],
    v: Tensor | tuple[Tensor, ...] | None = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """The product of the Hessian of the scalar function ``func`` with the vector ``v``: H v.

    By the double-backward trick, so one backward pass more than ``vhp``; for a twice
    continuously differentiable function H is symmetric and ``vhp`` gives the same values.
    Arguments and result as ``vhp``.
    """
    return _hessian_product("hvp", func, inputs, v, create_graph, strict)


# ---------------------------------------------------------------------------- PyTorch's private helper names
def _as_tuple(inp: Any, arg_name: str | None = None, fn_name: str | None = None) -> tuple[bool, tuple]:
    """(whether ``inp`` was a tuple, ``inp`` as a tuple); with names, checks that it holds tensors only (a list
    counts as a tuple when unchecked), as PyTorch's."""
    if arg_name is None and fn_name is None:
        return (True, tuple(inp)) if isinstance(inp, (tuple, list)) else (False, (inp,))
    return _check_tensors(inp, arg_name, fn_name)


def _tuple_postprocess(res: Any, to_unpack: bool | tuple[bool, bool]) -> Any:
    """Undoes _as_tuple: ``to_unpack`` is whether the input was a tuple, or (outer, inner) for nested results."""
    if isinstance(to_unpack, tuple):
        return _unpack(res, to_unpack[0], to_unpack[1])
    return _unpack(res, to_unpack)


def _grad_postprocess(inputs: tuple, create_graph: bool) -> tuple:
    """The results detached (nested tuples too) unless create_graph."""
    return _finish(tuple(inputs), create_graph)


def _construct_standard_basis_for(tensors: tuple, tensor_numels: tuple) -> tuple:
    """The rows of the N x N identity (N = sum of the numels) split by columns into one chunk per tensor, each of
    that tensor's dtype and device: the seeds whose vector-Jacobian products are a Jacobian's rows."""
    if len(tensors) != len(tensor_numels) or not tensors:
        raise ValueError("_construct_standard_basis_for: one numel per tensor, and at least one tensor")
    total = sum(tensor_numels)
    chunks = tuple(t.new_zeros(total, n) for t, n in zip(tensors, tensor_numels))
    start = 0
    for chunk, n in zip(chunks, tensor_numels):
        chunk.diagonal(-start).fill_(1)
        start += n
    return chunks


_grad_preprocess = _fresh
_validate_v = _check_v
_check_requires_grad = _strict_requires_grad
_autograd_grad = _grad
_fill_in_zeros = _zeros_for_none
