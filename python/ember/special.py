"""ember.special: torch.special's names for ember's special functions.

Most are other names of ember's functions (``gammaln`` is ``lgamma``, ``expit``
is ``sigmoid``); ``xlog1py`` and ``zeta`` are ops of their own, and ``ndtr``,
``ndtri``, ``log_ndtr`` and ``entr`` are written with differentiable ops.
"""

from __future__ import annotations

import math

from . import _C
from ._C import (  # noqa: F401
    Tensor,
    digamma,
    erf,
    erfc,
    erfinv,
    exp2,
    expm1,
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
from ._composite_shape import _out

__all__ = [
    "digamma",
    "entr",
    "erf",
    "erfc",
    "erfinv",
    "exp2",
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
    """The inverse of ndtr: the x whose ndtr(x) is input."""
    return _out(out, erfinv(input * 2 - 1) * math.sqrt(2.0), "ndtri")


def log_ndtr(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """log(ndtr(input))."""
    return _out(out, ndtr(input).log(), "log_ndtr")


def entr(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The entropy term -x * log(x): 0 at 0, -inf for negative x."""
    r = 0 - xlogy(input, input)  # 0, not -0, at 0
    return _out(out, _C.where(input < 0, -math.inf, r), "entr")


def _as_tensor(x: Tensor | float, like: Tensor | float) -> Tensor:
    """A Python number as a tensor of the other operand's float dtype (the number is the first operand here)."""
    if isinstance(x, Tensor):
        return x
    dtype = like.dtype if isinstance(like, Tensor) and like.is_floating_point() else None
    from ._creation import tensor

    return tensor(x, dtype=dtype)
