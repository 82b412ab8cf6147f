"""torch-level elementwise and numerical functions composed from ember's differentiable ops: diff and
trapezoid rules, closeness tests, sign and angle helpers, gcd/lcm, fmax/fmin, sinc, renorm, ..."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

from . import _C, _creation, _dtype_info, return_types
from ._autocast import float32_under_autocast
from ._C import Tensor
from ._composite_shape import _out, broadcast_tensors

__all__ = [
    "allclose",
    "aminmax",
    "angle",
    "conj",
    "conj_physical",
    "copysign",
    "cumulative_trapezoid",
    "deg2rad",
    "diff",
    "equal",
    "float_power",
    "fmax",
    "fmin",
    "gcd",
    "gradient",
    "heaviside",
    "is_conj",
    "is_neg",
    "isclose",
    "isneginf",
    "isposinf",
    "isreal",
    "lcm",
    "ldexp",
    "logit",
    "nanquantile",
    "positive",
    "quantile",
    "rad2deg",
    "renorm",
    "resolve_conj",
    "resolve_neg",
    "sgn",
    "sinc",
    "trapezoid",
    "trapz",
]


def _floating(t: Tensor) -> Tensor:
    """t itself when floating or complex, else t in the default dtype (what PyTorch's float-only ops compute in)."""
    return t if t.is_floating_point() or t.is_complex() else t.to(_creation.get_default_dtype())


def _as_tensor(x: Any, like: Tensor) -> Tensor:
    """A Python number as a 0-d tensor of like's dtype category (a wrapped number, as PyTorch's)."""
    if isinstance(x, Tensor):
        return x
    device = _creation._device_of(like)
    if isinstance(x, bool):
        return _creation.tensor(x, device=device)
    if isinstance(x, numbers.Integral):
        return _creation.tensor(x, dtype=like.dtype if not like.dtype == _C.dtype.bool else None, device=device)
    return _creation.tensor(
        x, dtype=like.dtype if like.is_floating_point() or like.is_complex() else None, device=device
    )


# ------------------------------------------------------------------------------ differences, integrals


def _cumsum(t: Tensor, dim: int) -> Tensor:
    """Cumulative sum along dim: the C++ core's cumsum where this build has it, else a matmul by a
    triangular matrix of ones (differentiable, O(n^2) in the length of dim)."""
    if hasattr(_C, "cumsum"):
        return _C.cumsum(t, dim)
    moved = t.transpose(dim, -1)
    n = moved.shape[-1]
    upper = _creation.ones(n, n, dtype=t.dtype, device=_creation._device_of(t)).triu()
    return _C.matmul(moved, upper).transpose(dim, -1)


def diff(
    input: Tensor,
    n: int = 1,
    dim: int = -1,
    prepend: Tensor | None = None,
    append: Tensor | None = None,
    *,
    out: Tensor | None = None,
) -> Tensor:
    """The n-th forward difference along ``dim`` (``input[i + 1] - input[i]``, or xor for bool), after
    joining ``prepend`` and ``append`` (same dims as ``input``) on either side."""
    if input.dim() == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    parts = []
    for extra in (prepend, append):
        if extra is not None and (not isinstance(extra, Tensor) or extra.dim() != input.dim()):
            raise RuntimeError("diff expects prepend or append to be the same dimension as input")
    parts = [t for t in (prepend, input, append) if t is not None]
    x = _C.cat(parts, dim) if len(parts) > 1 else input
    for _ in range(n):
        length = x.shape[dim]
        if length == 0:
            break
        hi, lo = x.narrow(dim, 1, length - 1), x.narrow(dim, 0, length - 1)
        x = _C.logical_xor(hi, lo) if x.dtype == _C.dtype.bool else hi - lo
    return _out(out, x, "diff")


def _trapezoid_areas(y: Tensor, x: Tensor | None, dx: float | None, dim: int) -> Tensor:
    """The area of each trapezoid along dim: (y[i] + y[i + 1]) / 2 * (x[i + 1] - x[i])."""
    length = y.shape[dim]
    mean_heights = (y.narrow(dim, 1, length - 1) + y.narrow(dim, 0, length - 1)) / 2
    if x is None:
        return mean_heights * (1 if dx is None else dx)
    if x.dim() == 1:  # spacing along dim only: reshaped to broadcast against y
        if x.shape[0] != length:
            raise RuntimeError(
                f"trapezoid: There must be one `x` value for each sample point, got {x.shape[0]} and {length}"
            )
        shape = [1] * y.dim()
        shape[dim] = -1
        x = x.reshape(shape)
    widths = diff(x, dim=dim if x.dim() == y.dim() else -1)
    return mean_heights * widths


def trapezoid(y: Tensor, x: Tensor | None = None, *, dx: float | None = None, dim: int = -1) -> Tensor:
    """The trapezoidal rule's integral of ``y`` along ``dim``: at sample points ``x`` (a tensor), or spaced
    ``dx`` apart (default 1)."""
    if isinstance(x, numbers.Number):  # trapezoid(y, 0.5): the spacing given positionally
        x, dx = None, x
    if x is not None and dx is not None:
        raise RuntimeError("trapezoid: cannot give both x and dx")
    dim = dim % y.dim() if y.dim() else dim
    if y.shape[dim] == 0:
        return y.sum(dim)
    return _trapezoid_areas(_floating(y), x, dx, dim).sum(dim)


def trapz(y: Tensor, x: Tensor | None = None, *, dx: float | None = None, dim: int = -1) -> Tensor:
    """Alias of ``trapezoid``."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y: Tensor, x: Tensor | None = None, *, dx: float | None = None, dim: int = -1) -> Tensor:
    """The running trapezoidal integral of ``y`` along ``dim`` (one value fewer than ``y`` along dim)."""
    if isinstance(x, numbers.Number):
        x, dx = None, x
    dim = dim % y.dim() if y.dim() else dim
    if y.shape[dim] == 0:
        return y.narrow(dim, 0, 0)
    areas = _trapezoid_areas(_floating(y), x, dx, dim)
    return _cumsum(areas, dim) if areas.shape[dim] else areas


def _gradient_along_last(f: Tensor, spacing: float | Tensor, edge_order: int) -> Tensor:
    """numpy.gradient's estimate along the last dim: second-order central differences inside, one-sided
    differences of order ``edge_order`` at the two ends; ``spacing`` a step or the sample coordinates."""
    n = f.shape[-1]

    def at(start: int, length: int) -> Tensor:
        return f.narrow(-1, start % n, length)

    if not isinstance(spacing, Tensor):
        h = float(spacing)
        inside = (at(2, n - 2) - at(0, n - 2)) / (2 * h)
        if edge_order == 1:
            first, last = (at(1, 1) - at(0, 1)) / h, (at(-1, 1) - at(-2, 1)) / h
        else:
            first = (-3 * at(0, 1) + 4 * at(1, 1) - at(2, 1)) / (2 * h)
            last = (3 * at(-1, 1) - 4 * at(-2, 1) + at(-3, 1)) / (2 * h)
        return _C.cat([first, inside, last], -1)
    dx = diff(spacing.to(f.dtype))
    d1, d2 = dx.narrow(0, 0, n - 2), dx.narrow(0, 1, n - 2)
    inside = (
        -d2 / (d1 * (d1 + d2)) * at(0, n - 2)
        + (d2 - d1) / (d1 * d2) * at(1, n - 2)
        + d1 / (d2 * (d1 + d2)) * at(2, n - 2)
    )
    if edge_order == 1:
        first = (at(1, 1) - at(0, 1)) / dx.narrow(0, 0, 1)
        last = (at(-1, 1) - at(-2, 1)) / dx.narrow(0, n - 2, 1)
    else:
        a1, a2 = dx.narrow(0, 0, 1), dx.narrow(0, 1, 1)
        first = (
            -(2 * a1 + a2) / (a1 * (a1 + a2)) * at(0, 1)
            + (a1 + a2) / (a1 * a2) * at(1, 1)
            - a1 / (a2 * (a1 + a2)) * at(2, 1)
        )
        b1, b2 = dx.narrow(0, n - 3, 1), dx.narrow(0, n - 2, 1)
        last = (
            b2 / (b1 * (b1 + b2)) * at(-3, 1)
            - (b1 + b2) / (b1 * b2) * at(-2, 1)
            + (2 * b2 + b1) / (b2 * (b1 + b2)) * at(-1, 1)
        )
    return _C.cat([first, inside, last], -1)


def gradient(input: Tensor, *, spacing: Any = 1, dim: int | Sequence[int] | None = None,
             edge_order: int = 1) -> tuple[Tensor, ...]:  # fmt: skip
    """Estimates of the partial derivatives of the function sampled by ``input``, one tensor per dim in
    ``dim`` (all dims when None), as numpy.gradient: ``spacing`` is one step for every dim, one step per
    dim, or per dim a 1-D tensor of the sample coordinates; ``edge_order`` (1 or 2) is the order of the
    one-sided differences at the ends."""
    if edge_order not in (1, 2):
        raise RuntimeError(f"torch.gradient only supports edge_order=1 and edge_order=2, got {edge_order}")
    dims = list(range(input.dim())) if dim is None else [dim] if isinstance(dim, numbers.Integral) else list(dim)
    dims = [d % input.dim() for d in dims]
    if isinstance(spacing, (numbers.Number, Tensor)) and not (isinstance(spacing, Tensor) and spacing.dim() == 1):
        spacing = [spacing.item() if isinstance(spacing, Tensor) else spacing] * len(dims)
    spacing = list(spacing)
    if len(spacing) != len(dims):
        raise RuntimeError(
            f"torch.gradient expected spacing to be unspecified, a scalar, or a list of length {len(dims)} "
            f"(one per dim), but got a list of length {len(spacing)}"
        )
    f = _floating(input)
    results = []
    for d, step in zip(dims, spacing):
        if f.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least edge_order+1")
        if isinstance(step, Tensor) and (step.dim() != 1 or step.shape[0] != f.shape[d]):
            raise RuntimeError(
                f"torch.gradient expected each tensor in spacing to be 1-D with the size of dim {d} ({f.shape[d]})"
            )
        results.append(_gradient_along_last(f.movedim(d, -1), step, edge_order).movedim(-1, d))
    return tuple(results)


# ------------------------------------------------------------------------------------------ closeness


def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    """Elementwise ``|input - other| <= atol + rtol * |other|`` (or equal, which covers infinities); NaNs
    are close to each other only with ``equal_nan``."""
    other = _as_tensor(other, input)
    if input.dtype != other.dtype:
        raise RuntimeError(f"{input.dtype.name} did not match {other.dtype.name}")
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {atol}")
    close = input == other
    if input.dtype == _C.dtype.bool:
        return close
    if input.is_floating_point():
        a, b = input, other
    else:  # integers: compared in float64, exact for the differences that matter at these tolerances
        a, b = input.to(_C.dtype.float64), other.to(_C.dtype.float64)
    if equal_nan and a.is_floating_point():
        close = close | (a.isnan() & b.isnan())
    within = (a - b).abs() <= atol + rtol * b.abs()
    return close | (within & a.isfinite() & b.isfinite())


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """Whether every element of ``input`` is close to ``other``'s (see ``isclose``)."""
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


def equal(input: Tensor, other: Tensor) -> bool:
    """Whether ``input`` and ``other`` have the same shape and elements."""
    if tuple(input.shape) != tuple(other.shape):
        return False
    return bool((input == other).all())


def isposinf(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise whether input is +inf."""
    result = (
        input.isinf() & (input > 0) if input.is_floating_point() else _creation.zeros_like(input, dtype=_C.dtype.bool)
    )
    return _out(out, result, "isposinf")


def isneginf(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise whether input is -inf."""
    result = (
        input.isinf() & (input < 0) if input.is_floating_point() else _creation.zeros_like(input, dtype=_C.dtype.bool)
    )
    return _out(out, result, "isneginf")


def isreal(input: Tensor) -> Tensor:
    """Elementwise whether input is real: all True, as ember has no complex dtypes."""
    return _creation.ones_like(input, dtype=_C.dtype.bool)


# ---------------------------------------------------------------------------------- signs and angles


def positive(input: Tensor) -> Tensor:
    """``+input``: input itself (bool tensors refuse, as PyTorch's unary plus)."""
    if input.dtype == _C.dtype.bool:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def sgn(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The sign of each element (-1, 0 or 1): ``sign``, which it extends to complex numbers in PyTorch."""
    return _out(out, _C.sign(input), "sgn")


def copysign(input: Tensor, other: Tensor | float, *, out: Tensor | None = None) -> Tensor:
    """The magnitude of ``input`` with the sign (sign bit, so -0.0 counts as negative) of ``other``;
    a floating result. The gradient flows to ``input`` only."""
    input = _floating(input)
    if isinstance(other, Tensor):
        negative = _C.signbit(other) if other.is_floating_point() else other < 0
        result = _C.where(negative, -input.abs(), input.abs())
        if other.is_floating_point() and other.dtype != input.dtype:
            result = result.to(_C.result_type(input, other))
    else:
        result = -input.abs() if math.copysign(1.0, other) < 0 else input.abs()
    return _out(out, result, "copysign")


def deg2rad(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Each angle converted from degrees to radians."""
    return _out(out, _floating(input) * (math.pi / 180), "deg2rad")


def rad2deg(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Each angle converted from radians to degrees."""
    return _out(out, _floating(input) * (180 / math.pi), "rad2deg")


def logit(input: Tensor, eps: float | None = None, *, out: Tensor | None = None) -> Tensor:
    """``log(p / (1 - p))``, with ``p`` clamped to [eps, 1 - eps] when eps is given (there the gradient is 0)."""
    p = _floating(input)
    if eps is not None:
        p = p.clamp(eps, 1 - eps)
    # log(p) - log1p(-p): its gradient 1/p + 1/(1 - p) is inf at 0 and 1, as PyTorch's (the quotient's was NaN)
    return _out(out, p.log() - (-p).log1p(), "logit")


def sinc(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The normalised sinc, ``sin(pi x) / (pi x)``, 1 at 0 (where its gradient is 0)."""
    u = _floating(input) * math.pi
    # Near 0 the quotient's gradient cos(u)/u - sin(u)/u**2 cancels to garbage (1e24 at x = 1e-40): there
    # sinc is its Taylor series (exact to rounding for |u| < 0.1). Each branch only sees inputs it is
    # good for, since where() routes the unused branch's gradient through it as zeros.
    near_zero = u.abs() < 0.1
    small = _C.where(near_zero, u, _creation.zeros_like(u))
    large = _C.where(near_zero, _creation.ones_like(u), u)
    s = small * small
    series = 1 - s / 6 * (1 - s / 20 * (1 - s / 42 * (1 - s / 72)))
    return _out(out, _C.where(near_zero, series, large.sin() / large), "sinc")


def angle(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The argument of each element as a complex number: pi for negative reals, 0 otherwise (NaN stays NaN)."""
    x = _floating(input)
    result = _C.where(x < 0, _creation.full_like(x, math.pi), x * 0)  # x * 0 keeps NaN, with a zero gradient
    return _out(out, result, "angle")


# ------------------------------------------------------------------------------------ powers, extrema


def ldexp(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``input * 2 ** other``, a floating result."""
    other = _as_tensor(other, input)
    two = _creation.full(
        (),
        2.0,
        dtype=_C.dtype.float64 if input.dtype == _C.dtype.float64 else _creation.get_default_dtype(),
        device=_creation._device_of(input),
    )
    power = _C.pow(two, other if other.is_complex() else other.to(two.dtype))
    result = _floating(input) * power
    # the dtype of input and other promoted, as PyTorch's (a half-float input stays half; the power is wider)
    dtype = _dtype_info.promote_types(_floating(input).dtype, other.dtype)
    return _out(out, result if result.dtype == dtype or result.is_complex() else result.to(dtype), "ldexp")


def float_power(input: Tensor | float, exponent: Tensor | float, *, out: Tensor | None = None) -> Tensor:
    """``input ** exponent`` computed in float64 (both converted first)."""
    complex_ = any(isinstance(v, complex) or (isinstance(v, Tensor) and v.is_complex()) for v in (input, exponent))
    f64 = _C.dtype.complex128 if complex_ else _C.dtype.float64  # complex in complex128, as PyTorch's
    number = complex if complex_ else float
    base = input.to(f64) if isinstance(input, Tensor) else number(input)
    exp = exponent.to(f64) if isinstance(exponent, Tensor) else number(exponent)
    if not isinstance(base, Tensor):
        base = _creation.tensor(base, dtype=f64, device=_creation._device_of(exp) if isinstance(exp, Tensor) else None)
    return _out(out, _C.pow(base, exp), "float_power")


def heaviside(input: Tensor, values: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The Heaviside step: 0 where input < 0, 1 where input > 0, ``values`` where input == 0."""
    values = _as_tensor(values, input)
    if input.dtype != values.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    step = (input > 0).to(input.dtype)
    return _out(out, _C.where(input == 0, values, step), "heaviside")


def _nan_aware(name: str, wins: Any) -> Any:
    def fn(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
        other = _as_tensor(other, input)
        dt = _C.result_type(input, other)
        a, b = input.to(dt), other.to(dt)
        # input where it wins or ties, or where other is NaN (a NaN loses to a number; two NaNs give NaN):
        # PyTorch's choice, so a tie gives input's zero sign and input the whole gradient.
        take_input = wins(a, b)
        if a.is_floating_point():
            take_input = take_input | b.isnan()
        return _out(out, _C.where(take_input, a, b), name)

    fn.__name__ = name
    return fn


fmax = _nan_aware("fmax", _C.ge)
fmax.__doc__ = "The elementwise maximum, ignoring NaN: a NaN loses to a number (``maximum`` propagates it)."
fmin = _nan_aware("fmin", _C.le)
fmin.__doc__ = "The elementwise minimum, ignoring NaN: a NaN loses to a number (``minimum`` propagates it)."


def _check_integral(name: str, *tensors: Tensor) -> None:
    for t in tensors:
        if t.is_floating_point() or t.dtype == _C.dtype.bool:
            raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{_dtype_info._scalar_name(t.dtype)}'")


def gcd(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The elementwise greatest common divisor (non-negative; gcd(0, 0) = 0) of integer tensors."""
    other = _as_tensor(other, input)
    _check_integral("gcd", input, other)
    dt = _C.result_type(input, other)
    a, b = (t.to(dt).abs() for t in broadcast_tensors(input, other))
    # Euclid's algorithm on all elements at once: as many rounds as the slowest element needs (O(log max)).
    while bool((b != 0).any()):
        nonzero = b != 0
        safe_b = _C.where(nonzero, b, _creation.ones_like(b))
        a, b = _C.where(nonzero, b, a), _C.where(nonzero, a.remainder(safe_b), b)
    return _out(out, a, "gcd")


def lcm(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The elementwise least common multiple (non-negative; 0 when either is 0) of integer tensors."""
    other = _as_tensor(other, input)
    _check_integral("lcm", input, other)
    g = gcd(input, other)
    safe_g = _C.where(g == 0, _creation.ones_like(g), g)
    return _out(out, (input.floor_divide(safe_g) * other).abs(), "lcm")


# ------------------------------------------------------------------------------------------ statistics

_AminmaxResult = return_types.aminmax


def aminmax(
    input: Tensor, *, dim: int | None = None, keepdim: bool = False, out: tuple[Tensor, Tensor] | None = None
) -> tuple[Tensor, Tensor]:
    """The minimum and the maximum of ``input`` (over ``dim``, or all elements), as ``(min, max)``;
    ``out=(min, max)`` receives them."""
    if input.numel() == 0 and (dim is None or input.dim() and input.shape[dim] == 0):  # PyTorch's words
        if dim is None:
            raise RuntimeError(
                "aminmax(): cannot compute aminmax over an empty dimension as the operation has no identity."
            )
        raise IndexError(f"aminmax: Expected reduction dim {dim % input.dim()} to have non-zero size.")
    if dim is None:
        result = _AminmaxResult(input.amin(keepdim=keepdim), input.amax(keepdim=keepdim))
    else:
        result = _AminmaxResult(input.amin(dim, keepdim), input.amax(dim, keepdim))
    if out is None:
        return result
    return _AminmaxResult(*(_out(o, r, "aminmax") for o, r in zip(out, result)))


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(name: str, input: Tensor, q: Tensor | float, dim: int | None, keepdim: bool, interpolation: str,
              ignore_nan: bool) -> Tensor:  # fmt: skip
    if not input.is_floating_point():
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(
            f"{name}() interpolation must be one of linear, lower, higher, midpoint or nearest. Got {interpolation}"
        )
    scalar_q = not isinstance(q, Tensor)
    if scalar_q:
        q = _creation.tensor([float(q)], dtype=input.dtype, device=_creation._device_of(input))
    elif q.dim() > 1:
        raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
    elif q.dtype != input.dtype:
        raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
    else:
        scalar_q = q.dim() == 0
        q = q.reshape(-1)
    if q.numel() and (bool((q < 0).any()) or bool((q > 1).any())):
        bad = q[(q < 0) | (q > 1)][0].item()
        raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {bad:g}")
    # The values to pick from, sorted along the last dim (NaN sorts last).
    if dim is None:
        x = input.reshape(-1)
    else:
        dim = dim % max(input.dim(), 1)
        x = input.movedim(dim, -1) if input.dim() else input.reshape(1)
    if x.shape[-1] == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    xs = x.sort(-1).values
    nan = xs.isnan()
    q = q.detach()
    # How many values each quantile is taken among: all of them, or the non-NaN ones for nanquantile.
    count = (
        (~nan).sum(-1, keepdim=True)
        if ignore_nan
        else _creation.full((1,), x.shape[-1], dtype=_C.dtype.int64, device=_creation._device_of(x))
    )
    pos = q * (count.to(q.dtype) - 1).clamp(0)  # (..., len(q)): the fractional rank
    lo = pos.to(_C.dtype.int64)  # pos >= 0, so truncation is floor
    frac = pos - lo.to(pos.dtype)
    hi = lo + (frac > 0).to(_C.dtype.int64)
    shape = list(xs.shape[:-1]) + [q.shape[0]]
    lo, hi, frac = lo.expand(shape), hi.expand(shape), frac.expand(shape)
    # An undefined result is a NaN taken from the slice, as PyTorch's, so the gradient goes to that element:
    # the last sorted value where the slice holds a NaN (quantile), the first where all are NaN (nanquantile).
    undefined = (count == 0) if ignore_nan else nan.any(-1, keepdim=True)
    nan_at = _creation.full(
        (), 0 if ignore_nan else x.shape[-1] - 1, dtype=_C.dtype.int64, device=_creation._device_of(x)
    )
    lo, hi = _C.where(undefined, nan_at, lo), _C.where(undefined, nan_at, hi)
    below, above = xs.gather(-1, lo), xs.gather(-1, hi)
    if interpolation == "linear":
        result = below.lerp(above, frac)  # lerp's numerics, as PyTorch's: -inf..1 at 0.9 is -inf, not NaN
    elif interpolation == "lower":
        result = below
    elif interpolation == "higher":
        result = above
    elif interpolation == "midpoint":
        result = below.lerp(above, 0.5)
    else:  # nearest, ties to the even rank, as round() does
        odd = lo.remainder(2) == 1
        result = _C.where((frac > 0.5) | ((frac == 0.5) & odd), above, below)
    if keepdim:
        if dim is None:
            result = result.reshape([1] * input.dim() + [q.shape[0]])
        else:
            result = result.unsqueeze(dim) if input.dim() else result
    result = result.movedim(-1, 0)  # the quantiles lead, as PyTorch's
    return result.squeeze(0) if scalar_q else result


def quantile(input: Tensor, q: Tensor | float, dim: int | None = None, keepdim: bool = False, *,
             interpolation: str = "linear", out: Tensor | None = None) -> Tensor:  # fmt: skip
    """The q-th quantiles of ``input`` over ``dim`` (all elements when None); ``q`` a number or a 1-D tensor
    of them in [0, 1] (its values then lead the result's dims). Between two values the result follows
    ``interpolation``: linear, lower, higher, midpoint or nearest. A NaN in a slice makes its result NaN."""
    return _out(out, _quantile("quantile", input, q, dim, keepdim, interpolation, False), "quantile")


def nanquantile(input: Tensor, q: Tensor | float, dim: int | None = None, keepdim: bool = False, *,
                interpolation: str = "linear", out: Tensor | None = None) -> Tensor:  # fmt: skip
    """``quantile`` ignoring NaN: the quantiles of each slice's other values (NaN when all are NaN)."""
    return _out(out, _quantile("nanquantile", input, q, dim, keepdim, interpolation, True), "nanquantile")


# ---------------------------------------------------------------------------------------------- renorm


def renorm(input: Tensor, p: float, dim: int, maxnorm: float, *, out: Tensor | None = None) -> Tensor:
    """``input`` with each slice along ``dim`` whose p-norm exceeds ``maxnorm`` scaled down to norm ``maxnorm``."""
    (input,) = float32_under_autocast(("cuda",), input)
    if p <= 0:
        raise RuntimeError(f"renorm: non-positive-norm not supported, got p={p}")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if input.dim() <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.dim()} dimensions")
    dim = dim % input.dim()
    others = [d for d in range(input.dim()) if d != dim]
    norms = _C.norm(input, p, others, True)
    # PyTorch's epsilon: slices just over maxnorm end just under it.
    factor = _C.where(norms > maxnorm, maxnorm / (norms + 1e-7), _creation.ones_like(norms))
    return _out(out, input * factor, "renorm")


# ----------------------------------------------------------------------------- complex-number identities


def resolve_conj(input: Tensor) -> Tensor:
    """input itself: ember has no lazily conjugated tensors (no complex dtypes)."""
    return input


def resolve_neg(input: Tensor) -> Tensor:
    """input itself: ember has no lazily negated tensors."""
    return input


def conj(input: Tensor) -> Tensor:
    """The complex conjugate: input itself for ember's real dtypes."""
    return input


def conj_physical(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The complex conjugate, computed: input itself for ember's real dtypes (a copy with ``out=``)."""
    return _out(out, input, "conj_physical")


def is_conj(input: Tensor) -> bool:
    """Whether input is a lazily conjugated view: never in ember."""
    return False


def is_neg(input: Tensor) -> bool:
    """Whether input is a lazily negated view: never in ember."""
    return False


def sum_to_size(self: Tensor, *size: int | Sequence[int]) -> Tensor:
    """self summed to ``size``, a shape self expands from (the reverse of ``expand``)."""
    shape = _creation._size(size)
    lead = self.dim() - len(shape)
    bad = lead < 0 or any(s != 1 and s != self.shape[lead + k] for k, s in enumerate(shape))
    if bad:
        raise RuntimeError(f"size {{{list(shape)}}} is not expandable to size {{{list(self.shape)}}}.")
    dims = list(range(lead)) + [lead + k for k, s in enumerate(shape) if s == 1 and self.shape[lead + k] != 1]
    result = self.sum(dims, keepdim=True) if dims else self
    return result.reshape(shape) if lead else result
