"""Finite-difference checks of gradients, as torch.autograd.gradcheck/gradgradcheck.

The numerical Jacobian comes from central differences, perturbing one input
element at a time in place; the analytical one row by row, from autograd.grad
with one-hot grad_outputs. Both are compared with allclose(analytical,
numerical, rtol, atol). Only the public tensor API is used, through _lib(), so
the module can be run against PyTorch itself to validate it.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from .function import Function

if TYPE_CHECKING:  # only for annotations: ember is imported late, through _lib()
    from types import ModuleType

    from .._C import Tensor


def _lib() -> ModuleType:
    import ember  # imported late: ember.autograd is imported while ember initialises

    return ember


class GradcheckError(RuntimeError):
    """Raised by gradcheck and gradgradcheck when a check fails."""


def _as_tuple(x: Any) -> tuple[Any, ...]:
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _np(t: Tensor) -> np.ndarray:
    """A float64 numpy copy (never a view: the tensor is perturbed later)."""
    t = t.detach()
    return np.array(t.numpy() if t.device.type == "cpu" else t.tolist(), dtype=np.float64)


def _check_inputs(inputs: tuple[Any, ...]) -> list[Tensor]:
    """The inputs to differentiate: tensors that require grad."""
    lib = _lib()
    diff = []
    for idx, x in enumerate(inputs):
        if not (isinstance(x, lib.Tensor) and x.requires_grad):
            continue
        if x.dtype != lib.float64:
            warnings.warn(
                f"Input #{idx} requires gradient and is not a double precision floating "
                "point or complex. This check will likely fail if all the inputs are not "
                "of double precision floating point or complex. ",
                stacklevel=4,
            )
        # Perturbing one element of an expanded tensor would move all its aliases.
        stride = getattr(x, "stride", None)
        if stride is not None and any(st == 0 and sz > 1 for st, sz in zip(stride(), x.shape)):
            raise RuntimeError(
                f"The {idx}th input has a dimension with stride 0. gradcheck only supports "
                "inputs that are non-overlapping to be able to compute the numerical "
                "gradients correctly. You should call .contiguous on the input before "
                "passing it to gradcheck."
            )
        diff.append(x)
    if not diff:
        raise ValueError(
            "gradcheck expects at least one input tensor to require gradient, but none of them have requires_grad=True."
        )
    return diff


def _perturbed_outputs(func, inputs, out_meta):
    """func's outputs at perturbed inputs, as float64 arrays; their shapes and dtypes must not move."""
    outs = _as_tuple(func(*inputs))
    for o, (shape, dtype) in zip(outs, out_meta):
        if tuple(o.shape) != shape:
            raise AssertionError(
                "Expected `func` to return outputs with the same shape when inputs are perturbed by `eps`, "
                f"but got: shapes {tuple(o.shape)} and {shape}."
            )
        if o.dtype != dtype:
            raise AssertionError(
                "Expected `func` to return outputs with the same dtype when inputs are perturbed by `eps`, "
                f"but got: dtypes {o.dtype} and {dtype}."
            )
    return [_np(o) for o in outs]


def _numerical_jacobian(func, inputs, x, eps, out_meta):
    """[d output_k / d x for each output k], each of shape (x.numel(), output_k.numel()).

    x is changed in place through .data, so func gets the caller's very tensor
    (layout, requires_grad, identity) and autograd sees no in-place op on it.
    Grad mode stays on: gradgradcheck's func differentiates inside.
    """
    data, orig = x.data, _np(x)
    jac = [np.zeros((orig.size, int(np.prod(shape)))) for shape, _ in out_meta]
    for row, idx in enumerate(np.ndindex(*orig.shape)):
        entry = data[idx] if idx else data
        v = float(orig[idx])
        entry.fill_(v - eps)
        lo = _perturbed_outputs(func, inputs, out_meta)
        entry.fill_(v + eps)
        hi = _perturbed_outputs(func, inputs, out_meta)
        entry.fill_(v)
        for k, (a, b) in enumerate(zip(lo, hi)):
            jac[k][row] = ((b - a) / (2 * eps)).reshape(-1)
    return jac


def _analytical_jacobian(output: Tensor, diff_inputs: list[Tensor]) -> list[np.ndarray]:
    """[d output / d x for each x], row by row: the vector-Jacobian product
    of each one-hot grad_output is one row."""
    lib = _lib()
    jac = [np.zeros((x.numel(), output.numel())) for x in diff_inputs]
    for m in range(output.numel()):
        onehot = lib.zeros(tuple(output.shape), dtype=output.dtype, device=output.device)
        onehot.reshape(-1)[m] = 1.0  # reshape of a fresh contiguous tensor is a view
        grads = lib.autograd.grad([output], diff_inputs, [onehot], retain_graph=True, allow_unused=True)
        for j, (x, g) in enumerate(zip(diff_inputs, grads)):
            if g is None:  # output does not depend on x: a zero column
                continue
            if tuple(g.shape) != tuple(x.shape):
                raise GradcheckError("Analytical gradient has incorrect size")
            jac[j][:, m] = _np(g).reshape(-1)
    return jac


def _show(jac: np.ndarray, like: Tensor) -> str:
    # printed in the dtype of `like`, as PyTorch allocates its Jacobians
    dtype = np.dtype(str(like.dtype).rsplit(".", 1)[-1])  # "ember.float32" -> float32
    return repr(_lib().from_numpy(jac.astype(dtype)))


class _UndefinedGrad(Function):
    """The identity, whose backward hands on an undefined (None) gradient: PyTorch's UndefinedGrad."""

    @staticmethod
    def forward(ctx, t):
        return t.view_as(t)

    @staticmethod
    def backward(ctx, grad):
        return None


def _check_zero_grad_outputs(func, inputs, diff_inputs):
    # As PyTorch: every backward function must handle undefined output gradients (the outputs
    # pass through _UndefinedGrad), and give zero or no input gradients then.
    lib = _lib()
    outs = [_UndefinedGrad.apply(o) for o in _as_tuple(func(*inputs)) if o.requires_grad]
    zeros = [lib.zeros(tuple(o.shape), dtype=o.dtype, device=o.device) for o in outs]
    try:
        grads = lib.autograd.grad(outs, diff_inputs, zeros, allow_unused=True)
    except RuntimeError as e:
        raise GradcheckError(
            "Expected backward function to handle undefined output grads. Please look "
            'at "Notes about undefined output gradients" in "tools/autograd/derivatives.yaml"'
        ) from e
    for g in grads:
        if g is not None and np.any(_np(g) != 0):
            raise GradcheckError(
                "Expected all input grads to be undefined or zero when all output grads are undefined or zero."
            )


def _check_backward_mul_by_grad_output(func, inputs, diff_inputs):
    """Zero grad_outputs must give zero input gradients (a formula that forgets the incoming gradient fails)."""
    lib = _lib()
    outs = [o for o in _as_tuple(func(*inputs)) if o.requires_grad]
    zeros = [lib.zeros(tuple(o.shape), dtype=o.dtype, device=o.device) for o in outs]
    grads = lib.autograd.grad(outs, diff_inputs, zeros, allow_unused=True)
    if any(g is not None and np.any(_np(g) != 0) for g in grads):
        raise GradcheckError("backward not multiplied by grad_output")


def _forward_jacobian(func, inputs, diff_inputs, n_outputs):
    """[[d output_k / d x] for each x] from forward-mode AD, one one-hot tangent at a time."""
    lib = _lib()
    fwAD = lib.autograd.forward_ad
    jacs = []
    for x in diff_inputs:
        rows = [np.zeros((x.numel(), 0)) for _ in range(n_outputs)]
        per_output = [[] for _ in range(n_outputs)]
        for m in range(x.numel()):
            tangent = lib.zeros(tuple(x.shape), dtype=x.dtype, device=x.device)
            tangent.reshape(-1)[m] = 1.0
            with fwAD.dual_level():
                args = [fwAD.make_dual(a.detach(), tangent) if a is x else a for a in inputs]
                outs = _as_tuple(func(*args))
                for k, o in enumerate(outs):
                    t = fwAD.unpack_dual(o).tangent
                    per_output[k].append(np.zeros(o.numel()) if t is None else _np(t).reshape(-1))
        for k in range(n_outputs):
            rows[k] = np.stack(per_output[k]) if per_output[k] else rows[k]
        jacs.append(rows)
    return jacs


def _gradcheck(
    func, inputs, eps, atol, rtol, nondet_tol, check_undefined_grad, check_forward_ad=False, check_backward_ad=True
):
    inputs = _as_tuple(inputs)
    diff_inputs = _check_inputs(inputs)
    func_out = _as_tuple(func(*inputs))
    outputs = [o for o in func_out if o.requires_grad] if check_backward_ad else []

    # Analytical first, on the graph of func_out, before the inputs are perturbed.
    analytical = []
    for o in outputs:
        jac = _analytical_jacobian(o, diff_inputs)
        again = _analytical_jacobian(o, diff_inputs)
        if any(a.size and np.abs(a - b).max() > nondet_tol for a, b in zip(jac, again)):
            raise GradcheckError(
                "Backward is not reentrant, i.e., running backward with same input and "
                "grad_output multiple times gives different values, although analytical "
                "gradient matches numerical gradient. The tolerance for nondeterminism "
                f"was {nondet_tol}."
            )
        analytical.append(jac)

    out_meta = [(tuple(o.shape), o.dtype) for o in func_out]
    numerical = [_numerical_jacobian(func, inputs, x, eps, out_meta) for x in diff_inputs]

    if check_forward_ad:
        forward = _forward_jacobian(func, inputs, diff_inputs, len(func_out))
        for k in range(len(func_out)):
            for j in range(len(diff_inputs)):
                a, n = forward[j][k], numerical[j][k]
                if not np.allclose(a, n, rtol=rtol, atol=atol):
                    raise GradcheckError(
                        f"Jacobian computed with forward mode mismatch for output {k} with respect to input {j},\n"
                        f"numerical:{_show(n, func_out[k])}\n"
                        f"analytical:{_show(a, diff_inputs[j])}\n"
                    )
    if not check_backward_ad:
        return True
    if not outputs:
        if any(np.any(n != 0) for per_input in numerical for n in per_input):
            raise GradcheckError("Numerical gradient for function expected to be zero")
        return True

    diff_out_idx = [k for k, o in enumerate(func_out) if o.requires_grad]
    for i, k in enumerate(diff_out_idx):
        for j in range(len(diff_inputs)):
            a, n = analytical[i][j], numerical[j][k]
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                raise GradcheckError(
                    f"Jacobian mismatch for output {i} with respect to input {j},\n"
                    f"numerical:{_show(n, func_out[k])}\n"
                    f"analytical:{_show(a, diff_inputs[j])}\n"
                )

    _check_backward_mul_by_grad_output(func, inputs, diff_inputs)
    if check_undefined_grad:
        try:
            _check_zero_grad_outputs(func, inputs, diff_inputs)
        except GradcheckError:
            warnings.warn(
                "Backwards compatibility: New undefined gradient support checking feature is enabled by default, "
                "but it may break existing callers of this function. If this is true for you, you can call this "
                'function with "check_undefined_grad=False" to disable the feature',
                stacklevel=4,
            )
            raise
    return True


def gradcheck(
    func: Callable[..., Tensor | Sequence[Tensor]],
    inputs: Tensor | Sequence[Any],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    check_undefined_grad: bool = True,
    check_grad_dtypes: bool = False,
    check_batched_grad: bool = False,
    check_batched_forward_grad: bool = False,
    check_forward_ad: bool = False,
    check_backward_ad: bool = True,
    fast_mode: bool = False,
    masked: bool | None = None,
) -> bool:
    """Check the gradients of func at inputs against finite differences.

    Inputs that are floating tensors with requires_grad are checked (in float64,
    or a warning says the check will likely fail). func returns a tensor or a
    tuple of tensors. Returns True, or on failure raises GradcheckError (or
    returns False when raise_exception is False).

    Args:
        eps: the finite-difference step.
        atol, rtol: the tolerances of ``allclose(analytical, numerical)``.
        nondet_tol: how far two backward passes on the same input may differ.
        check_undefined_grad: also check that all-zero grad_outputs give zero input grads.
        check_forward_ad: also check forward-mode AD (ember.autograd.forward_ad) against finite differences.
        check_backward_ad: check reverse mode (the default); False with check_forward_ad checks forward mode only.
        fast_mode: accepted; ember always compares whole Jacobians (exact, slower than PyTorch's projections).
        check_batched_grad, check_batched_forward_grad: accepted; ember has no vmap, and its batched
            gradients are the per-sample ones, so there is nothing more to compare.
    """
    if not (check_forward_ad or check_backward_ad):
        raise AssertionError("Expected at least one of check_forward_ad or check_backward_ad to be True")  # as PyTorch
    func, inputs = _complex_as_pairs(func, _as_tuple(inputs))
    try:
        return _gradcheck(
            func, inputs, eps, atol, rtol, nondet_tol, check_undefined_grad, check_forward_ad, check_backward_ad
        )
    except GradcheckError:
        if raise_exception:
            raise
        return False


def _complex_as_pairs(func: Callable[..., Any], inputs: tuple[Any, ...]) -> tuple[Callable[..., Any], tuple]:
    """func and inputs with complex tensors as their pairs, whose gradient is PyTorch's complex gradient
    (Note [Complex tensors]): checking the pairs checks the complex derivatives."""
    from .._complex import ComplexTensor

    complex_at = [type(x) is ComplexTensor for x in inputs]

    def on_pairs(*args: Any) -> Any:
        outputs = func(*(ComplexTensor(a) if c else a for a, c in zip(args, complex_at)))
        if isinstance(outputs, (tuple, list)):
            return tuple(o._pair if type(o) is ComplexTensor else o for o in outputs)
        return outputs._pair if type(outputs) is ComplexTensor else outputs

    return on_pairs, tuple(x._pair if c else x for x, c in zip(inputs, complex_at))


def _random_grad_output(o, rng, non_contiguous):
    lib = _lib()
    dtype = o.dtype if o.is_floating_point() else lib.float64
    shape = tuple(o.shape)
    values = rng.uniform(-1.0, 1.0, shape)
    if non_contiguous and len(shape) > 0:
        # every other element of a tensor twice as long in the last dimension
        wide = lib.tensor(np.repeat(values, 2, axis=-1), dtype=dtype, device=o.device)
        return wide[..., ::2].requires_grad_()
    return lib.tensor(values, dtype=dtype, device=o.device, requires_grad=True)


def gradgradcheck(
    func: Callable[..., Tensor | Sequence[Tensor]],
    inputs: Tensor | Sequence[Any],
    grad_outputs: Tensor | Sequence[Tensor] | None = None,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    gen_non_contig_grad_outputs: bool = False,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    check_undefined_grad: bool = True,
    check_grad_dtypes: bool = False,
    check_batched_grad: bool = False,
    check_fwd_over_rev: bool = False,
    check_rev_over_rev: bool = True,
    fast_mode: bool = False,
    masked: bool = False,
) -> bool:
    """Check second derivatives: gradcheck of the map
    (inputs, grad_outputs) -> autograd.grad(func(inputs), inputs, grad_outputs,
    create_graph=True). Without grad_outputs, random ones (seeded, uniform in
    [-1, 1), the outputs' dtype) are used and checked too.
    """
    lib = _lib()
    func, inputs = _complex_as_pairs(func, _as_tuple(inputs))
    if grad_outputs is None:
        rng = np.random.default_rng(0)  # fixed seed: a failure reproduces
        outputs = [o for o in _as_tuple(func(*inputs)) if o.requires_grad]
        grad_outputs = tuple(_random_grad_output(o, rng, gen_non_contig_grad_outputs) for o in outputs)
    else:
        grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, lib.Tensor) and x.requires_grad]

    def first_derivative(*args: Tensor) -> tuple[Tensor, ...]:
        xs, gs = args[:n_in], args[n_in:]
        outputs = [o for o in _as_tuple(func(*xs)) if o.requires_grad]
        grads = lib.autograd.grad(outputs, [xs[i] for i in diff_idx], list(gs), create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(
        first_derivative,
        inputs + grad_outputs,
        eps=eps,
        atol=atol,
        rtol=rtol,
        raise_exception=raise_exception,
        nondet_tol=nondet_tol,
        check_undefined_grad=check_undefined_grad,
    )
