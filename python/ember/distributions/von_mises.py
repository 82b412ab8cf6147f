"""VonMises: the circular normal distribution, as torch.distributions.VonMises. Its normalizer needs the
modified Bessel functions I0 and I1: ember.special.i0e / i1e when ember has them, else log I0 and log I1
from ember ops here (see _log_bessel_fallback), so log_prob differentiates in the concentration either way.
Samples come from Best and Fisher's (1979) rejection sampler, in float64."""

from __future__ import annotations

import math
from typing import Any

from .. import _C, special
from .._creation import _device_of, arange, rand
from .._tensor import Size
from ..grad_mode import no_grad
from . import constraints
from .distribution import NO_SHAPE, Distribution
from .utils import broadcast_all, lazy_property

__all__ = ["VonMises"]


# How _log_bessel_fallback computes
# log I_nu(x) for nu in {0, 1}, x >= 0, from differentiable ember ops. Below x = 40 the power series
# I_nu(x) = sum_k (x/2)^(2k+nu) / (k! (k+nu)!) is summed in log space (logsumexp of 100 terms: past
# k = 100 a term is below 1e-80 of the largest for x < 40). Above, the asymptotic expansion
# I_nu(x) ~ e^x / sqrt(2 pi x) sum_k (-1)^k a_k(nu) / x^k, a_k = prod_{j<=k} (4nu^2 - (2j-1)^2) / (k! 8^k),
# truncated after 12 terms (relative error below 1e-16 there).
_SERIES_TERMS, _SERIES_LIMIT, _ASYMPTOTIC_TERMS = 100, 40.0, 12


def _asymptotic_coefficients(nu: int) -> list:
    coefficients, a = [1.0], 1.0
    for k in range(1, _ASYMPTOTIC_TERMS):
        a *= -(4 * nu * nu - (2 * k - 1) ** 2) / (k * 8)
        coefficients.append(a)
    return coefficients


def _log_bessel_fallback(x: Any, nu: int) -> Any:
    """log I_nu(x), nu in {0, 1}: the series below _SERIES_LIMIT, the asymptotic expansion above."""
    small = x.clamp(max=_SERIES_LIMIT)
    k = arange(_SERIES_TERMS, dtype=x.dtype, device=_device_of(x))
    log_half = (small / 2).clamp(min=1e-300).log().unsqueeze(-1)
    log_terms = (2 * k + nu) * log_half - (k + 1).lgamma() - (k + 1 + nu).lgamma()
    series = log_terms.logsumexp(-1)
    big = x.clamp(min=_SERIES_LIMIT)
    inverse, total, power = big.reciprocal(), 0.0, 1.0
    for coefficient in _asymptotic_coefficients(nu):
        total = total + coefficient * power
        power = power * inverse
    asymptotic = big - 0.5 * (2 * math.pi * big).log() + total.log()
    return _C.where(x < _SERIES_LIMIT, series, asymptotic)


def _log_bessel(x: Any, nu: int) -> Any:
    """log I_nu(x) for x > 0: through ember.special's exponentially scaled i0e / i1e when present."""
    scaled = getattr(special, "i0e" if nu == 0 else "i1e", None)
    if scaled is not None:
        return scaled(x).log() + x
    return _log_bessel_fallback(x, nu)


class VonMises(Distribution):
    """The von Mises distribution on the circle, with mean direction ``loc`` and ``concentration``
    kappa: density exp(kappa cos(x - loc)) / (2 pi I0(kappa)); samples lie in [-pi, pi)."""

    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    has_rsample = False

    def __init__(self, loc: Any, concentration: Any, validate_args: bool | None = None) -> None:
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(self.loc.shape, Size(), validate_args)

    def log_prob(self, value: Any) -> Any:
        if self._validate_args:
            self._validate_sample(value)
        kappa = self.concentration
        return kappa * (value - self.loc).cos() - math.log(2 * math.pi) - _log_bessel(kappa, 0)

    @lazy_property
    def _proposal_r(self) -> Any:
        kappa = self.concentration.double()
        tau = 1 + (1 + 4 * kappa**2).sqrt()
        rho = (tau - (2 * tau).sqrt()) / (2 * kappa)
        return _C.where(kappa < 1e-5, 1 / kappa + kappa, (1 + rho**2) / (2 * rho))

    def sample(self, sample_shape: Any = NO_SHAPE) -> Any:
        """Best and Fisher's rejection sampler (a wrapped Cauchy envelope), in float64."""
        shape = tuple(self._extended_shape(sample_shape))
        with no_grad():
            loc, kappa = self.loc.double().expand((*shape,)), self.concentration.double().expand((*shape,))
            r = self._proposal_r.expand((*shape,))
            x = loc.new_zeros(shape)
            done = x.new_zeros(shape).bool()
            while not bool(done.all()):
                u1, u2, u3 = rand(3, *shape, dtype=_C.dtype.float64, device=_device_of(loc)).unbind(0)
                z = (math.pi * u1).cos()
                f = (1 + r * z) / (r + z)
                c = kappa * (r - f)
                accept = ((c * (2 - c) - u2) > 0) | ((c / u2).log() + 1 - c >= 0)
                x = _C.where(accept & ~done, (u3 - 0.5).sign() * f.clamp(min=-1, max=1).acos(), x)
                done = done | accept
            return ((x + math.pi + loc) % (2 * math.pi) - math.pi).to(self.loc.dtype)

    def expand(self, batch_shape: Any, _instance: Any = None) -> VonMises:
        """The distribution with its parameters expanded to batch_shape."""
        new = VonMises(
            self.loc.expand((*batch_shape,)), self.concentration.expand((*batch_shape,)), validate_args=False
        )
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self) -> Any:
        return self.loc

    @property
    def mode(self) -> Any:
        return self.loc

    @lazy_property
    def variance(self) -> Any:  # type: ignore[override]
        """The circular variance 1 - I1(kappa) / I0(kappa)."""
        kappa = self.concentration
        return 1 - (_log_bessel(kappa, 1) - _log_bessel(kappa, 0)).exp()
