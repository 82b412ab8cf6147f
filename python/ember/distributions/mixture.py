"""Multinomial (counts of total_count categorical draws) and MixtureSameFamily (a categorical choice
among the components of one batched distribution), with PyTorch's formulas and shapes."""

from __future__ import annotations

import math
from typing import Any

from .. import _C
from .._tensor import Size
from ..grad_mode import no_grad
from . import constraints
from .discrete import Categorical, OverCategories
from .distribution import NO_SHAPE, Distribution
from .utils import broadcast_all

__all__ = ["MixtureSameFamily", "Multinomial"]


class Multinomial(OverCategories):
    """How often each of K categories comes up in ``total_count`` independent draws with ``probs`` (or
    softmax(``logits``)); the counts vector is the event."""

    def __init__(
        self, total_count: int = 1, probs: Any = None, logits: Any = None, validate_args: bool | None = None
    ) -> None:
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        super().__init__(probs, logits, validate_args=validate_args)

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self) -> constraints.Constraint:
        return constraints.multinomial(self.total_count)

    @property
    def mean(self) -> Any:
        return self.probs * self.total_count

    @property
    def variance(self) -> Any:
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = NO_SHAPE) -> Any:
        sample_shape = Size(tuple(sample_shape))
        with no_grad():
            draws = self._categorical.sample(Size((self.total_count,)) + sample_shape)  # (n, *sample, *batch)
            draws = draws.movedim(0, -1)
            counts = draws.new_zeros(tuple(self._extended_shape(sample_shape)))
            counts.scatter_add_(-1, draws, draws.new_ones(tuple(draws.shape)))
        return counts.to(self.probs.dtype)

    def log_prob(self, value: Any) -> Any:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        logits = logits.masked_fill((value == 0) & (logits == -math.inf), 0.0)  # 0 * log(0) counts as 0
        log_factorial_n = (value.sum(-1) + 1).lgamma()
        log_factorial_xs = (value + 1).lgamma().sum(-1)
        return log_factorial_n - log_factorial_xs + (logits * value).sum(-1)


class MixtureSameFamily(Distribution):
    """A mixture: pick component k ~ mixture_distribution (a Categorical), then draw from component k of
    component_distribution, whose rightmost batch dim indexes the components."""

    arg_constraints: dict = {}
    has_rsample = False

    def __init__(
        self, mixture_distribution: Categorical, component_distribution: Distribution, validate_args: bool | None = None
    ) -> None:
        self._mixture_distribution, self._component_distribution = mixture_distribution, component_distribution
        if not isinstance(mixture_distribution, Categorical):
            raise ValueError(" The Mixture distribution needs to be an instance of torch.distributions.Categorical")
        if not isinstance(component_distribution, Distribution):
            raise ValueError("The Component distribution need to be an instance of torch.distributions.Distribution")
        mixture_batch, component_batch = mixture_distribution.batch_shape, component_distribution.batch_shape[:-1]
        for m, c in zip(reversed(mixture_batch), reversed(component_batch)):
            if m != 1 and c != 1 and m != c:
                raise ValueError(
                    f"`mixture_distribution.batch_shape` ({mixture_batch}) is not compatible with "
                    f"`component_distribution.batch_shape`({component_batch})"
                )
        km, kc = mixture_distribution.logits.shape[-1], component_distribution.batch_shape[-1]
        if km != kc:
            raise ValueError(
                f"`mixture_distribution component` ({km}) does not equal "
                f"`component_distribution.batch_shape[-1]` ({kc})"
            )
        self._event_ndims = len(component_distribution.event_shape)
        super().__init__(component_batch, component_distribution.event_shape, validate_args=validate_args)

    @property
    def mixture_distribution(self) -> Categorical:
        return self._mixture_distribution

    @property
    def component_distribution(self) -> Distribution:
        return self._component_distribution

    @constraints.dependent_property
    def support(self) -> constraints.Constraint:
        return constraints.MixtureSameFamilyConstraint(self._component_distribution.support)

    def _pad(self, x: Any) -> Any:
        """x with a components dim before its event dims."""
        return x.unsqueeze(-1 - self._event_ndims)

    def _mixture_weights(self) -> Any:
        """The mixture's probs shaped to broadcast against the components' (batch, K, event) values."""
        probs = self._mixture_distribution.probs
        batch_ndims, mixture_ndims = len(self.batch_shape), len(self._mixture_distribution.batch_shape)
        pad = 0 if mixture_ndims == 1 else batch_ndims - mixture_ndims
        shape = tuple(probs.shape[:-1]) + (1,) * pad + tuple(probs.shape[-1:]) + (1,) * self._event_ndims
        return probs.reshape(shape)

    @property
    def mean(self) -> Any:
        return (self._mixture_weights() * self._component_distribution.mean).sum(-1 - self._event_ndims)

    @property
    def variance(self) -> Any:
        weights, dim = self._mixture_weights(), -1 - self._event_ndims
        within = (weights * self._component_distribution.variance).sum(dim)
        between = (weights * (self._component_distribution.mean - self._pad(self.mean)).pow(2)).sum(dim)
        return within + between

    def cdf(self, x: Any) -> Any:
        return (self._component_distribution.cdf(self._pad(x)) * self._mixture_distribution.probs).sum(-1)

    def log_prob(self, x: Any) -> Any:
        if self._validate_args:
            self._validate_sample(x)
        log_prob_x = self._component_distribution.log_prob(self._pad(x))
        log_weights = self._mixture_distribution.logits.log_softmax(-1)
        return (log_prob_x + log_weights).logsumexp(-1)

    def sample(self, sample_shape: Any = NO_SHAPE) -> Any:
        sample_shape = Size(tuple(sample_shape))
        with no_grad():
            gather_dim = len(sample_shape) + len(self.batch_shape)
            choice = self._mixture_distribution.sample(sample_shape)  # (*sample, *batch)
            drawn = self._component_distribution.sample(sample_shape)  # (*sample, *batch, K, *event)
            index = choice.reshape(*choice.shape, *([1] * (len(self.event_shape) + 1)))
            index = index.expand(*choice.shape, 1, *self.event_shape)
            return _C.gather(drawn, gather_dim, index).squeeze(gather_dim)

    def __repr__(self) -> str:
        return f"MixtureSameFamily(\n  {self._mixture_distribution},\n  {self._component_distribution})"
