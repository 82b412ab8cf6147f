"""ember.special: torch.special's names for ember's special functions.

Most are other names of ember's functions (``gammaln`` is ``lgamma``, ``expit``
is ``sigmoid``); ``xlog1py`` and ``zeta`` are ops of their own, and ``ndtr``,
``ndtri``, ``log_ndtr`` and ``entr`` are written with differentiable ops.
The Bessel functions and ``erfcx`` are kernels (Note [Bessel functions]); the
orthogonal polynomials are their three-term recurrences, evaluated in ember ops.
"""

from __future__ import annotations

import math
from typing import Callable

from . import _C
from ._C import (  # noqa: F401
    Tensor,
    digamma,
    erf,
    erfc,
    erfinv,
    exp2,
    expm1,
    i0,
    log1p,
    log_softmax,
    logsumexp,
    polygamma,
    round,
    softmax,
    xlogy,
)
from ._C import digamma as psi  # noqa: F401
from ._C import igamma as gammainc  # noqa: F401
from ._C import igammac as gammaincc  # noqa: F401
from ._C import lgamma as gammaln  # noqa: F401
from ._C import mvlgamma as multigammaln  # noqa: F401
from ._C import sigmoid as expit  # noqa: F401
from ._composite_math import logit, sinc  # noqa: F401  (composed in Python, shared with ember.logit/sinc)
from ._composite_shape import _out, broadcast_shapes

__all__ = [
    "digamma",
    "entr",
    "erf",
    "erfc",
    "erfinv",
    "exp2",
    "i0",
    "i0e",
    "i1",
    "i1e",
    "erfcx",
    "bessel_j0",
    "bessel_j1",
    "bessel_y0",
    "bessel_y1",
    "modified_bessel_i0",
    "modified_bessel_i1",
    "modified_bessel_k0",
    "modified_bessel_k1",
    "scaled_modified_bessel_k0",
    "scaled_modified_bessel_k1",
    "airy_ai",
    "spherical_bessel_j0",
    "chebyshev_polynomial_t",
    "chebyshev_polynomial_u",
    "chebyshev_polynomial_v",
    "chebyshev_polynomial_w",
    "shifted_chebyshev_polynomial_t",
    "shifted_chebyshev_polynomial_u",
    "shifted_chebyshev_polynomial_v",
    "shifted_chebyshev_polynomial_w",
    "hermite_polynomial_h",
    "hermite_polynomial_he",
    "laguerre_polynomial_l",
    "legendre_polynomial_p",
    "expit",
    "expm1",
    "gammainc",
    "gammaincc",
    "gammaln",
    "log1p",
    "log_ndtr",
    "log_softmax",
    "logit",
    "logsumexp",
    "multigammaln",
    "ndtr",
    "ndtri",
    "polygamma",
    "psi",
    "round",
    "sinc",
    "softmax",
    "xlog1py",
    "xlogy",
    "zeta",
]


def xlog1py(input: Tensor | float, other: Tensor | float, *, out: Tensor | None = None) -> Tensor:
    """input * log1p(other), 0 where input is 0."""
    return _out(out, _C._special_xlog1py(_as_tensor(input, other), other), "xlog1py")


def zeta(input: Tensor | float, other: Tensor | float, *, out: Tensor | None = None) -> Tensor:
    """The Hurwitz zeta function: the sum over k >= 0 of (k + other) ** -input."""
    return _out(out, _C._special_zeta(_as_tensor(input, other), other), "zeta")


def ndtr(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The standard normal distribution function: the area under the Gaussian left of input."""
    return _out(out, erfc(input * -math.sqrt(0.5)) * 0.5, "ndtr")


def ndtri(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The inverse of ndtr: the x whose ndtr(x) is input. In the tails (input below 1e-3 or its mirror
    above 1 - 1e-3) erfinv(2p - 1) loses p's digits (2e-40 - 1 is -1): there x is Newton's iteration on
    log_ndtr(x) = log(p), whose gradient is PyTorch's formula sqrt(2 pi) exp(x**2 / 2) (first order only)."""
    in_tail = (input < _TAIL) | (input > 1 - _TAIL)  # both branches always run: no data-dependent Python
    # branch, so vmap and meta tensors take it. The central branch never sees the tail (erfinv's infinite
    # slope at -1 would make the gradient NaN)
    central = erfinv(_C.where(in_tail, 0.5, input) * 2 - 1) * math.sqrt(2.0)
    from .grad_mode import no_grad

    with no_grad():
        upper = input > 0.5  # the upper tail is the lower one mirrored: ndtri(p) = -ndtri(1 - p)
        p = _C.where(upper, 1 - input, input)  # below 0 (input outside [0, 1]): NaN, as PyTorch's
        log_p = p.log()
        x = -(-2 * log_p).sqrt()  # the asymptote, then Newton's steps
        for _ in range(_NEWTON_STEPS):
            x = x - (log_ndtr(x) - log_p) / _normal_hazard(x)
        x = _C.where(p == 0, -math.inf, x)
        tail = _C.where(upper, -x, x)
        slope = math.sqrt(2 * math.pi) * (tail * tail / 2).exp()
        slope = _C.where(slope.isfinite(), slope, 0.0)  # where it overflows (p = 0, 1) no gradient, not NaN
    tail = tail + (input - input.detach()) * slope
    return _out(out, _C.where(in_tail, tail, central), "ndtri")


_TAIL = 1e-3
_NEWTON_STEPS = 6


def _normal_hazard(x: Tensor) -> Tensor:
    """phi(x) / Phi(x), the derivative of log_ndtr, without overflow for large negative x."""
    return (-(x * x) / 2 - log_ndtr(x)).exp() / math.sqrt(2 * math.pi)


def log_ndtr(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """log(ndtr(input)), accurate far into the lower tail: below -1 it is log(erfcx(-x / sqrt 2) / 2) -
    x**2 / 2 (log_ndtr(-100) is -5005.5, not log(0)); above, log1p(-erfc(x / sqrt 2) / 2). Each branch
    only sees inputs it is good for, so neither sends a NaN gradient through where()."""
    low = input < -1
    x_low = _C.where(low, input, -1.0)
    x_high = _C.where(low, -1.0, input)
    lower_tail = (erfcx(x_low * -math.sqrt(0.5)) / 2).log() - x_low * x_low / 2
    upper = (-erfc(x_high * math.sqrt(0.5)) / 2).log1p()
    return _out(out, _C.where(low, lower_tail, upper), "log_ndtr")


def entr(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The entropy term -x * log(x): 0 at 0, -inf for negative x."""
    r = 0 - xlogy(input, input)  # 0, not -0, at 0
    return _out(out, _C.where(input < 0, -math.inf, r), "entr")


def _as_tensor(x: Tensor | float, like: Tensor | float) -> Tensor:
    """A Python number as a tensor of the other operand's float dtype (the number is the first operand here)."""
    if isinstance(x, Tensor):
        return x
    dtype = like.dtype if isinstance(like, Tensor) and like.is_floating_point() else None
    from ._creation import _device_of, tensor

    return tensor(x, dtype=dtype, device=_device_of(like) if isinstance(like, Tensor) else None)


def _unary_special(name: str, doc: str) -> Callable[..., Tensor]:
    """torch.special.<name>(input, *, out=None) on the kernel ember._C._special_<name>."""
    kernel = getattr(_C, "_special_" + name)

    def fn(input: Tensor, *, out: Tensor | None = None) -> Tensor:
        return _out(out, kernel(input), name)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


i0e = _unary_special("i0e", "The exponentially scaled modified Bessel function of order 0: exp(-|x|) * i0(x).")
i1 = _unary_special("i1", "The modified Bessel function of the first kind of order 1.")
i1e = _unary_special("i1e", "The exponentially scaled modified Bessel function of order 1: exp(-|x|) * i1(x).")
erfcx = _unary_special("erfcx", "The scaled complementary error function exp(x**2) * erfc(x), without overflow.")
bessel_j0 = _unary_special("bessel_j0", "The Bessel function of the first kind of order 0 (not differentiable).")
bessel_j1 = _unary_special("bessel_j1", "The Bessel function of the first kind of order 1 (not differentiable).")
bessel_y0 = _unary_special("bessel_y0", "The Bessel function of the second kind of order 0 (not differentiable).")
bessel_y1 = _unary_special("bessel_y1", "The Bessel function of the second kind of order 1 (not differentiable).")
modified_bessel_i0 = _unary_special("modified_bessel_i0", "I0, as i0 but not differentiable.")
modified_bessel_i1 = _unary_special("modified_bessel_i1", "I1, as i1 but not differentiable.")
modified_bessel_k0 = _unary_special(
    "modified_bessel_k0", "The modified Bessel function of the second kind of order 0 (not differentiable)."
)
modified_bessel_k1 = _unary_special(
    "modified_bessel_k1", "The modified Bessel function of the second kind of order 1 (not differentiable)."
)
scaled_modified_bessel_k0 = _unary_special("scaled_modified_bessel_k0", "exp(x) * K0(x) (not differentiable).")
scaled_modified_bessel_k1 = _unary_special("scaled_modified_bessel_k1", "exp(x) * K1(x) (not differentiable).")
airy_ai = _unary_special("airy_ai", "Airy's function Ai (not differentiable).")
spherical_bessel_j0 = _unary_special(
    "spherical_bessel_j0", "The spherical Bessel function of the first kind of order 0, sin(x)/x (not differentiable)."
)


# --------------------------------------------------------------------- orthogonal polynomials
# Each is (p_0(x), p_1(x), step(k, x, p_k, p_k-1) -> p_k+1), evaluated up to the largest n with
# no graph (PyTorch's are not differentiable either); n is truncated to an integer, and a
# negative n gives 0, as in PyTorch.
_RECURRENCES: dict[str, tuple[Callable, Callable, Callable]] = {
    "chebyshev_polynomial_t": (lambda x: x, lambda k, x, p, q: 2 * x * p - q),
    "chebyshev_polynomial_u": (lambda x: 2 * x, lambda k, x, p, q: 2 * x * p - q),
    "chebyshev_polynomial_v": (lambda x: 2 * x - 1, lambda k, x, p, q: 2 * x * p - q),
    "chebyshev_polynomial_w": (lambda x: 2 * x + 1, lambda k, x, p, q: 2 * x * p - q),
    "hermite_polynomial_h": (lambda x: 2 * x, lambda k, x, p, q: 2 * x * p - 2 * k * q),
    "hermite_polynomial_he": (lambda x: x, lambda k, x, p, q: x * p - k * q),
    "laguerre_polynomial_l": (lambda x: 1 - x, lambda k, x, p, q: ((2 * k + 1 - x) * p - k * q) / (k + 1)),
    "legendre_polynomial_p": (lambda x: x, lambda k, x, p, q: ((2 * k + 1) * x * p - k * q) / (k + 1)),
}


_MAX_DEGREE = 100_000


def _polynomial(name: str, shifted: bool) -> Callable[..., Tensor]:
    first, step = _RECURRENCES[name.replace("shifted_", "")]
    kind = name.split("_")[-2].capitalize() + " " + name.split("_")[-1].upper()

    def fn(input: Tensor | float, n: Tensor | float, *, out: Tensor | None = None) -> Tensor:
        from . import _creation
        from .grad_mode import no_grad

        with no_grad():
            # a number goes to the device of the other operand (the default device when both are numbers)
            like = next((a for a in (input, n) if isinstance(a, Tensor)), None)
            device = None if like is None else _creation._device_of(like)
            x, degree = (a if isinstance(a, Tensor) else _creation.tensor(a, device=device) for a in (input, n))
            dtype = _C.result_type(x, degree)
            if not dtype.is_floating_point:
                dtype = _creation.get_default_dtype()
            x = x.to(dtype)
            if shifted:
                x = 2 * x - 1
            degree = degree.long() if degree.is_floating_point() else degree
            shape = broadcast_shapes(x.shape, degree.shape)
            x, degree = x.expand(shape), degree.expand(shape)
            result = _C.where(degree == 0, 1.0, 0.0).to(dtype)
            top = int(degree.max()) if degree.numel() else 0
            if top > _MAX_DEGREE:  # each degree is a step of tensor ops here (PyTorch's kernel loops in C++)
                raise NotImplementedError(
                    f"{name}: degree {top} is above the {_MAX_DEGREE} ember evaluates (a step of tensor ops per degree)"
                )
            previous, current = _creation.ones_like(x), first(x)
            for k in range(1, top + 1):
                result = _C.where(degree == k, current, result)
                previous, current = current, step(k, x, current, previous)
            return _out(out, result, name)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"The {'shifted ' if shifted else ''}{kind} polynomial of degree n at input (not differentiable)."
    return fn


chebyshev_polynomial_t = _polynomial("chebyshev_polynomial_t", False)
chebyshev_polynomial_u = _polynomial("chebyshev_polynomial_u", False)
chebyshev_polynomial_v = _polynomial("chebyshev_polynomial_v", False)
chebyshev_polynomial_w = _polynomial("chebyshev_polynomial_w", False)
shifted_chebyshev_polynomial_t = _polynomial("shifted_chebyshev_polynomial_t", True)
shifted_chebyshev_polynomial_u = _polynomial("shifted_chebyshev_polynomial_u", True)
shifted_chebyshev_polynomial_v = _polynomial("shifted_chebyshev_polynomial_v", True)
shifted_chebyshev_polynomial_w = _polynomial("shifted_chebyshev_polynomial_w", True)
hermite_polynomial_h = _polynomial("hermite_polynomial_h", False)
hermite_polynomial_he = _polynomial("hermite_polynomial_he", False)
laguerre_polynomial_l = _polynomial("laguerre_polynomial_l", False)
legendre_polynomial_p = _polynomial("legendre_polynomial_p", False)
