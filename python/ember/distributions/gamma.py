"""The gamma family: Gamma, Chi2, Beta, Dirichlet, StudentT, with PyTorch's formulas and reparameterized
samples. A standard gamma variate is drawn by Marsaglia and Tsang's method (vectorized rejection); its
gradient w.r.t. the concentration comes from implicit differentiation of its CDF (Note [Gamma gradients])."""

from __future__ import annotations

import math
import numbers
from typing import Any

from .. import _C
from .._creation import _device_of, arange, rand, randn
from .._dtype_info import finfo
from .._tensor import Size
from ..autograd.function import Function
from ..grad_mode import no_grad
from . import constraints
from .distribution import NO_SHAPE, Distribution
from .exp_family import ExponentialFamily
from .utils import broadcast_all

__all__ = ["Beta", "Chi2", "Dirichlet", "Gamma", "StudentT"]


def _sample_standard_gamma(alpha: Any) -> Any:
    """Gamma(alpha, 1) variates of alpha's shape and dtype (Marsaglia & Tsang, 2000). For alpha < 1, a
    Gamma(alpha + 1) variate times U^(1/alpha)."""
    a = alpha.double().reshape(-1)
    boosted = a < 1
    d = _C.where(boosted, a + 1, a) - 1.0 / 3
    c = 1.0 / (9 * d).sqrt()
    out = a.new_zeros((a.numel(),))
    device = _device_of(a)
    pending = arange(a.numel(), device=device)
    while pending.numel():
        dp, cp = d[pending], c[pending]
        x = randn(pending.numel(), dtype=_C.dtype.float64, device=device)
        v = (1 + cp * x) ** 3
        u = rand(pending.numel(), dtype=_C.dtype.float64, device=device)
        ok = (v > 0) & (u.log() < 0.5 * x * x + dp - dp * v + dp * v.clamp(min=1e-300).log())
        out[pending[ok]] = (dp * v)[ok]
        pending = pending[~ok]
    u = rand(a.numel(), dtype=_C.dtype.float64, device=device)
    out = _C.where(boosted, out * u.pow(1.0 / a), out)
    return out.reshape(tuple(alpha.shape)).to(alpha.dtype).clamp(min=finfo(alpha.dtype).tiny)


# Note [Gamma gradients]
# A Gamma(alpha, 1) sample z = F^-1(u; alpha) for a uniform u, so at fixed u
# dz/dalpha = -(dF/dalpha)(z; alpha) / f(z; alpha), F the regularized lower
# incomplete gamma function (ember.igamma) and f the density. dF/dalpha has no
# closed form; it is a central difference of igamma in float64 (step 1e-5
# alpha: about 1e-9 relative error), agreeing with PyTorch's series-based
# _standard_gamma_grad to that accuracy. Beta and Dirichlet samples are
# normalized gamma samples, so their gradients follow from this one.
def _standard_gamma_grad(alpha: Any, z: Any) -> Any:
    a, x = alpha.double(), z.double()
    h = 1e-5 * a
    dF = (_C.igamma(a + h, x) - _C.igamma(a - h, x)) / (2 * h)
    log_density = (a - 1) * x.log() - x - a.lgamma()
    return (-dF / log_density.exp()).to(alpha.dtype)


class _StandardGamma(Function):
    @staticmethod
    def forward(ctx: Any, alpha: Any) -> Any:
        z = _sample_standard_gamma(alpha)
        ctx.save_for_backward(alpha, z)
        return z

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        alpha, z = ctx.saved_tensors
        return grad * _standard_gamma_grad(alpha, z)


def standard_gamma(alpha: Any) -> Any:
    """Gamma(alpha, 1) samples, differentiable in alpha (reparameterized)."""
    if alpha.requires_grad:
        return _StandardGamma.apply(alpha)
    with no_grad():
        return _sample_standard_gamma(alpha)


def _batch_of(params: tuple, tensor: Any) -> Size:
    return Size() if all(isinstance(p, numbers.Number) for p in params) else tensor.size()


class Gamma(ExponentialFamily):
    """The gamma distribution with shape ``concentration`` and ``rate``: density
    rate^k x^(k-1) exp(-rate x) / Gamma(k)."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, concentration: Any, rate: Any, validate_args: bool | None = None) -> None:
        self.concentration, self.rate = broadcast_all(concentration, rate)
        super().__init__(_batch_of((concentration, rate), self.concentration), validate_args=validate_args)

    @property
    def mean(self) -> Any:
        return self.concentration / self.rate

    @property
    def mode(self) -> Any:
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self) -> Any:
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape: Any = NO_SHAPE) -> Any:
        shape = tuple(self._extended_shape(sample_shape))
        value = standard_gamma(self.concentration.expand((*shape,))) / self.rate.expand((*shape,))
        return value.clamp(min=finfo(value.dtype).tiny)

    def log_prob(self, value: Any) -> Any:
        if self._validate_args:
            self._validate_sample(value)
        k, r = self.concentration, self.rate
        return k.xlogy(r) + (k - 1).xlogy(value) - r * value - k.lgamma()

    def cdf(self, value: Any) -> Any:
        if self._validate_args:
            self._validate_sample(value)
        return _C.igamma(self.concentration, self.rate * value)

    def entropy(self) -> Any:
        k = self.concentration
        return k - self.rate.log() + k.lgamma() + (1.0 - k) * k.digamma()

    _mean_carrier_measure = 0

    @property
    def _natural_params(self) -> tuple:
        return (self.concentration - 1, -self.rate)

    def _log_normalizer(self, x: Any, y: Any) -> Any:
        return (x + 1).lgamma() + (x + 1) * (-y.reciprocal()).log()


class Chi2(Gamma):
    """The chi-squared distribution with ``df`` degrees of freedom: Gamma(df / 2, 1 / 2)."""

    arg_constraints = {"df": constraints.positive}

    def __init__(self, df: Any, validate_args: bool | None = None) -> None:
        (df,) = broadcast_all(df)
        super().__init__(0.5 * df, df.new_full(tuple(df.shape), 0.5), validate_args=validate_args)

    @property
    def df(self) -> Any:
        return self.concentration * 2

    def expand(self, batch_shape: Any, _instance: Any = None) -> Distribution:
        """The distribution with its parameters expanded (views) to batch_shape."""
        new = type(self).__new__(type(self))
        batch_shape = Size(batch_shape)
        new.concentration, new.rate = self.concentration.expand(batch_shape), self.rate.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new


class Dirichlet(ExponentialFamily):
    """The Dirichlet distribution over probability vectors, with ``concentration`` (the last dim is the
    event): density prod x_i^(a_i - 1) / B(a)."""

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration: Any, validate_args: bool | None = None) -> None:
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        super().__init__(concentration.shape[:-1], concentration.shape[-1:], validate_args=validate_args)

    def rsample(self, sample_shape: Any = NO_SHAPE) -> Any:
        shape = tuple(self._extended_shape(sample_shape))
        g = standard_gamma(self.concentration.expand((*shape,)))
        info = finfo(g.dtype)
        return (g / g.sum(-1, keepdim=True)).clamp(min=info.tiny, max=1 - info.eps)

    def log_prob(self, value: Any) -> Any:
        if self._validate_args:
            self._validate_sample(value)
        a = self.concentration
        return (a - 1).xlogy(value).sum(-1) + a.sum(-1).lgamma() - a.lgamma().sum(-1)

    @property
    def mean(self) -> Any:
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self) -> Any:
        a = (self.concentration - 1).clamp(min=0.0)
        mode = a / a.sum(-1, keepdim=True)
        below = (self.concentration < 1).all(-1)
        one_hot = _C.where(
            below.unsqueeze(-1),
            (self.concentration == self.concentration.max(-1, keepdim=True)[0]).to(mode.dtype),
            mode,
        )
        return one_hot

    @property
    def variance(self) -> Any:
        total = self.concentration.sum(-1, keepdim=True)
        return self.concentration * (total - self.concentration) / (total.pow(2) * (total + 1))

    def entropy(self) -> Any:
        a = self.concentration
        k = a.size(-1)
        a0 = a.sum(-1)
        return a.lgamma().sum(-1) - a0.lgamma() - (k - a0) * a0.digamma() - ((a - 1.0) * a.digamma()).sum(-1)

    @property
    def _natural_params(self) -> tuple:
        return (self.concentration,)

    def _log_normalizer(self, x: Any) -> Any:
        return x.lgamma().sum(-1) - x.sum(-1).lgamma()


class Beta(ExponentialFamily):
    """The beta distribution on [0, 1] with ``concentration1`` (alpha) and ``concentration0`` (beta): the
    first coordinate of a two-category Dirichlet."""

    arg_constraints = {"concentration1": constraints.positive, "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1: Any, concentration0: Any, validate_args: bool | None = None) -> None:
        c1, c0 = broadcast_all(concentration1, concentration0)
        self._dirichlet = Dirichlet(_C.stack([c1, c0], -1), validate_args=validate_args)
        super().__init__(self._dirichlet._batch_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Distribution:
        """The distribution with its parameters expanded (views) to batch_shape."""
        new = type(self).__new__(type(self))
        batch_shape = Size(batch_shape)
        new._dirichlet = self._dirichlet.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def concentration1(self) -> Any:
        return self._dirichlet.concentration[..., 0]

    @property
    def concentration0(self) -> Any:
        return self._dirichlet.concentration[..., 1]

    @property
    def mean(self) -> Any:
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self) -> Any:
        return self._dirichlet.mode[..., 0]

    @property
    def variance(self) -> Any:
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def rsample(self, sample_shape: Any = NO_SHAPE) -> Any:
        return self._dirichlet.rsample(sample_shape).select(-1, 0)

    def log_prob(self, value: Any) -> Any:
        if self._validate_args:
            self._validate_sample(value)
        return self._dirichlet.log_prob(_C.stack([value, 1.0 - value], -1))

    def entropy(self) -> Any:
        return self._dirichlet.entropy()

    @property
    def _natural_params(self) -> tuple:
        return (self.concentration1, self.concentration0)

    def _log_normalizer(self, x: Any, y: Any) -> Any:
        return x.lgamma() + y.lgamma() - (x + y).lgamma()


class StudentT(Distribution):
    """Student's t distribution with ``df`` degrees of freedom, location ``loc`` and ``scale``."""

    arg_constraints = {"df": constraints.positive, "loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, df: Any, loc: Any = 0.0, scale: Any = 1.0, validate_args: bool | None = None) -> None:
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        self._chi2 = Chi2(self.df)
        super().__init__(self.df.size(), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Distribution:
        """The distribution with its parameters expanded (views) to batch_shape."""
        new = super().expand(batch_shape, _instance)
        new._chi2 = self._chi2.expand(batch_shape)
        return new

    @property
    def mean(self) -> Any:
        return self.loc.masked_fill(self.df <= 1, math.nan)

    @property
    def mode(self) -> Any:
        return self.loc

    @property
    def variance(self) -> Any:
        finite = self.scale.pow(2) * self.df / (self.df - 2)
        m = _C.where(self.df > 2, finite, self.df.new_full(tuple(self.df.shape), math.inf))
        return m.masked_fill(self.df <= 1, math.nan)

    def rsample(self, sample_shape: Any = NO_SHAPE) -> Any:
        shape = tuple(self._extended_shape(sample_shape))
        x = randn(*shape, dtype=self.df.dtype, device=_device_of(self.df))
        z = self._chi2.rsample(sample_shape)
        return self.loc + self.scale * x * (z / self.df).rsqrt()

    def log_prob(self, value: Any) -> Any:
        if self._validate_args:
            self._validate_sample(value)
        y = (value - self.loc) / self.scale
        z = (
            self.scale.log()
            + 0.5 * self.df.log()
            + 0.5 * math.log(math.pi)
            + (0.5 * self.df).lgamma()
            - (0.5 * (self.df + 1.0)).lgamma()
        )
        return -0.5 * (self.df + 1.0) * (y.pow(2) / self.df).log1p() - z

    def entropy(self) -> Any:
        lbeta = (0.5 * self.df).lgamma() + math.lgamma(0.5) - (0.5 * (self.df + 1)).lgamma()
        return (
            self.scale.log()
            + 0.5 * (self.df + 1) * ((0.5 * (self.df + 1)).digamma() - (0.5 * self.df).digamma())
            + 0.5 * self.df.log()
            + lbeta
        )
