"""ember.distributions: probability distributions for sampling, log-densities and KL divergences, as
torch.distributions (Normal, Categorical, Bernoulli, MultivariateNormal, ...): the same classes, shapes,
validation errors and formulas, built from ember ops so log_prob, entropy and rsample differentiate."""

from . import constraints
from .continuous import Exponential, Laplace, Normal, Uniform
from .discrete import Bernoulli, Categorical, OneHotCategorical, Poisson
from .distribution import Distribution
from .kl import kl_divergence, register_kl
from .multivariate import Independent, MultivariateNormal

__all__ = [
    "Bernoulli",
    "Categorical",
    "Distribution",
    "Exponential",
    "Independent",
    "Laplace",
    "MultivariateNormal",
    "Normal",
    "OneHotCategorical",
    "Poisson",
    "Uniform",
    "constraints",
    "kl_divergence",
    "register_kl",
]
