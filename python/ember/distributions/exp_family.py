"""ExponentialFamily: the base class of distributions with density p(x; theta) = h(x) exp(<t(x), theta> -
F(theta)), as torch.distributions.ExponentialFamily. From the natural parameters theta and the log
normalizer F alone it gives the entropy and, between two members of one family, the KL divergence (the
Bregman divergence of F), differentiating F with ember's autograd."""

from __future__ import annotations

from typing import Any

from ..autograd import grad
from ..grad_mode import enable_grad
from .distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """A distribution of an exponential family. Subclasses give ``_natural_params`` (a tuple of tensors),
    ``_log_normalizer(*natural_params)`` and ``_mean_carrier_measure`` (E[log h(x)])."""

    @property
    def _natural_params(self) -> tuple:
        raise NotImplementedError

    def _log_normalizer(self, *natural_params: Any) -> Any:
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self) -> Any:
        raise NotImplementedError

    def entropy(self) -> Any:
        """H = F(theta) - <theta, grad F(theta)> - E[log h(x)], by the Bregman identity (autograd for grad F)."""
        result = -self._mean_carrier_measure
        params = [p.detach().requires_grad_() for p in self._natural_params]
        with enable_grad():
            log_norm = self._log_normalizer(*params)
            gradients = grad(log_norm.sum(), params, create_graph=True)
        result = result + log_norm
        for p, g in zip(params, gradients):
            result = result - (p * g).reshape(*self._batch_shape, -1).sum(-1)
        return result
