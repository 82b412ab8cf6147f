"""Distributions over matrices, as torch.distributions: Wishart (positive definite matrices; sampled by
Bartlett's decomposition, reparameterized) and LKJCholesky (Cholesky factors of correlation matrices;
sampled by the onion method)."""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

from .. import _C, linalg
from .._composite_shape import broadcast_shapes
from .._creation import _device_of, arange, eye, randn, tensor
from .._dtype_info import finfo
from .._tensor import Size
from ..grad_mode import no_grad
from . import constraints
from .distribution import NO_SHAPE, Distribution
from .exp_family import ExponentialFamily
from .gamma import Beta, Chi2
from .multivariate import _precision_to_scale_tril
from .utils import broadcast_all, lazy_property, vec_to_tril_matrix

__all__ = ["LKJCholesky", "Wishart"]

_LOG_2 = math.log(2)


def _mvdigamma(x: Any, p: int) -> Any:
    """The multivariate digamma function: sum_i digamma(x - i / 2) for i < p."""
    if not bool((x > (p - 1) / 2).all()):
        raise AssertionError("Wrong domain for multivariate digamma function.")
    return (x.unsqueeze(-1) - arange(p, dtype=x.dtype, device=_device_of(x)) / 2).digamma().sum(-1)


class Wishart(ExponentialFamily):
    """The Wishart distribution over p x p positive definite matrices with ``df`` degrees of freedom and
    a scale matrix given as ``covariance_matrix``, ``precision_matrix`` or its Cholesky factor
    ``scale_tril`` (exactly one): the distribution of X^T X for df rows X ~ N(0, scale)."""

    support = constraints.positive_definite
    has_rsample = True
    _mean_carrier_measure = 0

    @property
    def arg_constraints(self) -> dict:  # type: ignore[override]
        return {
            "covariance_matrix": constraints.positive_definite,
            "precision_matrix": constraints.positive_definite,
            "scale_tril": constraints.lower_cholesky,
            "df": constraints.greater_than(self.event_shape[-1] - 1),
        }

    def __init__(
        self,
        df: Any,
        covariance_matrix: Any = None,
        precision_matrix: Any = None,
        scale_tril: Any = None,
        validate_args: bool | None = None,
    ) -> None:
        options = (("covariance_matrix", covariance_matrix), ("precision_matrix", precision_matrix))
        given = [(n, m) for n, m in (*options, ("scale_tril", scale_tril)) if m is not None]
        if len(given) != 1:
            raise AssertionError("Exactly one of covariance_matrix or precision_matrix or scale_tril may be specified.")
        name, param = given[0]
        if param.dim() < 2:
            raise ValueError("scale_tril must be at least two-dimensional, with optional leading batch dimensions")
        if isinstance(df, numbers.Number):
            batch_shape = Size(param.shape[:-2])
            self.df = tensor(float(df), dtype=param.dtype, device=_device_of(param))
        else:
            batch_shape = Size(broadcast_shapes(tuple(param.shape[:-2]), tuple(df.shape)))
            self.df = df.expand((*batch_shape,))
        event_shape = param.shape[-2:]
        if bool((self.df <= event_shape[-1] - 1).any()):
            raise ValueError(f"Value of df={df} expected to be greater than ndim - 1 = {event_shape[-1] - 1}.")
        setattr(self, name, param.expand((*batch_shape, -1, -1)))
        if bool((self.df < event_shape[-1]).any()):
            warnings.warn(
                "Low df values detected. Singular samples are highly likely to occur for ndim - 1 < df < ndim.",
                stacklevel=2,
            )
        super().__init__(batch_shape, event_shape, validate_args=validate_args)
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = linalg.cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)
        self._dist_chi2 = self._bartlett_chi2()

    def _bartlett_chi2(self) -> Chi2:
        """The chi-squared laws of the squared diagonal of Bartlett's factor: df - i degrees for row i."""
        p = self._event_shape[-1]
        offsets = arange(
            p, dtype=self._unbroadcasted_scale_tril.dtype, device=_device_of(self._unbroadcasted_scale_tril)
        ).expand((*self._batch_shape, p))
        return Chi2(df=self.df.unsqueeze(-1) - offsets)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Wishart:
        """The distribution with its parameters expanded (views) to batch_shape."""
        new = type(self).__new__(type(self))
        batch_shape = Size(batch_shape)
        cov_shape = (*batch_shape, *self._event_shape)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril.expand((*cov_shape,))
        new.df = self.df.expand((*batch_shape,))
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, self.__dict__[name].expand((*cov_shape,)))
        Distribution.__init__(new, batch_shape, self._event_shape, validate_args=False)
        new._dist_chi2 = new._bartlett_chi2()
        new._validate_args = self._validate_args
        return new

    @lazy_property
    def scale_tril(self) -> Any:
        return self._unbroadcasted_scale_tril.expand((*self._batch_shape, *self._event_shape))

    @lazy_property
    def covariance_matrix(self) -> Any:
        tril = self._unbroadcasted_scale_tril
        return (tril @ tril.mT).expand((*self._batch_shape, *self._event_shape))

    @lazy_property
    def precision_matrix(self) -> Any:
        identity = eye(
            self._event_shape[-1],
            dtype=self._unbroadcasted_scale_tril.dtype,
            device=_device_of(self._unbroadcasted_scale_tril),
        )
        return linalg.cholesky_solve(identity, self._unbroadcasted_scale_tril).expand(
            *self._batch_shape, *self._event_shape
        )

    def _df_matrix(self, factor: Any) -> Any:
        return factor.reshape(*self._batch_shape, 1, 1)

    @property
    def mean(self) -> Any:
        return self._df_matrix(self.df) * self.covariance_matrix

    @property
    def mode(self) -> Any:
        factor = self.df - self.covariance_matrix.shape[-1] - 1
        return self._df_matrix(factor.masked_fill(factor <= 0, math.nan)) * self.covariance_matrix

    @property
    def variance(self) -> Any:
        V = self.covariance_matrix
        d = V.diagonal(dim1=-2, dim2=-1)
        return self._df_matrix(self.df) * (V.pow(2) + d.unsqueeze(-1) * d.unsqueeze(-2))

    def _bartlett_sampling(self, sample_shape: Any) -> Any:
        """L A A^T L^T for Bartlett's factor A: chi variates on the diagonal, standard normals below."""
        p = self._event_shape[-1]
        diag = self._dist_chi2.rsample(sample_shape).sqrt()
        diag = diag.clamp(min=finfo(diag.dtype).eps)
        below = randn(*sample_shape, *self._batch_shape, p * (p - 1) // 2, dtype=diag.dtype, device=_device_of(diag))
        factor = self._unbroadcasted_scale_tril @ (diag.diag_embed() + vec_to_tril_matrix(below, diag=-1))
        return factor @ factor.mT

    def rsample(self, sample_shape: Any = NO_SHAPE, max_try_correction: int | None = None) -> Any:
        """Reparameterized samples; a sample that is numerically singular is redrawn (up to
        max_try_correction times, 10 by default), with a warning."""
        max_try_correction = 10 if max_try_correction is None else max_try_correction
        sample_shape = Size(tuple(sample_shape))
        sample = self._bartlett_sampling(sample_shape)
        bad = ~self.support.check(sample)
        if bool(bad.any()):
            warnings.warn("Singular sample detected.", stacklevel=2)
            for _ in range(max_try_correction):
                fresh = self._bartlett_sampling(sample_shape)
                sample = _C.where(bad.unsqueeze(-1).unsqueeze(-1), fresh, sample)
                bad = ~self.support.check(sample)
                if not bool(bad.any()):
                    break
        return sample

    def log_prob(self, value: Any) -> Any:
        if self._validate_args:
            self._validate_sample(value)
        nu, p = self.df, self._event_shape[-1]
        tril = self._unbroadcasted_scale_tril
        half_log_det = tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        trace = linalg.cholesky_solve(value, tril).diagonal(dim1=-2, dim2=-1).sum(-1)
        return (
            -nu * (p * _LOG_2 / 2 + half_log_det)
            - _C.mvlgamma(nu / 2, p)
            + (nu - p - 1) / 2 * linalg.slogdet(value).logabsdet
            - trace / 2
        )

    def entropy(self) -> Any:
        nu, p = self.df, self._event_shape[-1]
        half_log_det = self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        return (
            (p + 1) * (p * _LOG_2 / 2 + half_log_det)
            + _C.mvlgamma(nu / 2, p)
            - (nu - p - 1) / 2 * _mvdigamma(nu / 2, p)
            + nu * p / 2
        )

    @property
    def _natural_params(self) -> tuple:
        p = self._event_shape[-1]
        return -self.precision_matrix / 2, (self.df - p - 1) / 2

    def _log_normalizer(self, x: Any, y: Any) -> Any:
        p = self._event_shape[-1]
        return (y + (p + 1) / 2) * (-linalg.slogdet(-2 * x).logabsdet + _LOG_2 * p) + _C.mvlgamma(y + (p + 1) / 2, p)


class LKJCholesky(Distribution):
    """The LKJ distribution over correlation matrices (Lewandowski, Kurowicka and Joe, 2009), expressed
    on their lower Cholesky factors: density proportional to det(C)^(concentration - 1)."""

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim: int, concentration: Any = 1.0, validate_args: bool | None = None) -> None:
        if dim < 2:
            raise ValueError(f"Expected dim to be an integer greater than or equal to 2. Found dim={dim}.")
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        # The onion method (Lewandowski et al. 2009, section 3.2): the squared norm of row i's part below the
        # diagonal is Beta(i / 2, conc + (dim - 1 - i) / 2) for i >= 1 (row 0 has none: a placeholder). PyTorch
        # 2.13 uses Beta(i - 1/2, ...), which gives rows below the second correlations of the wrong spread.
        marginal = self.concentration + 0.5 * (dim - 2)
        offset = arange(dim - 1, dtype=self.concentration.dtype, device=_device_of(self.concentration))
        offset = _C.cat([offset.new_zeros((1,)), offset])
        self._beta = Beta(0.5 * offset + 0.5, marginal.unsqueeze(-1) - 0.5 * offset)
        super().__init__(self.concentration.size(), Size((dim, dim)), validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> LKJCholesky:
        """The distribution with its concentration expanded to batch_shape."""
        new = type(self).__new__(type(self))
        batch_shape = Size(batch_shape)
        new.dim = self.dim
        new.concentration = self.concentration.expand((*batch_shape,))
        new._beta = self._beta.expand((*batch_shape, self.dim))
        Distribution.__init__(new, batch_shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def sample(self, sample_shape: Any = NO_SHAPE) -> Any:
        with no_grad():
            y = self._beta.sample(sample_shape).unsqueeze(-1)
            u = randn(*self._extended_shape(sample_shape), dtype=y.dtype, device=_device_of(y)).tril(-1)
            norms = u.norm(dim=-1, keepdim=True)
            direction = u / norms.masked_fill(norms == 0, 1.0)  # the first row has no entries below the diagonal
            w = y.sqrt() * direction
            diag = (1 - w.pow(2).sum(-1)).clamp(min=finfo(w.dtype).tiny).sqrt()
            return w + diag.diag_embed()

    def log_prob(self, value: Any) -> Any:
        if self._validate_args:
            self._validate_sample(value)
        diag = value.diagonal(dim1=-1, dim2=-2)[..., 1:]
        order = arange(2, self.dim + 1, dtype=self.concentration.dtype, device=_device_of(self.concentration))
        order = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - order
        unnormalized = (order * diag.log()).sum(-1)
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        normalizer = 0.5 * dm1 * math.log(math.pi) + _C.mvlgamma(alpha - 0.5, dm1) - alpha.lgamma() * dm1
        return unnormalized - normalizer
