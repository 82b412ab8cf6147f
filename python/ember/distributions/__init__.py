"""ember.distributions: probability distributions for sampling, log-densities and KL divergences, as
torch.distributions (Normal, Categorical, Bernoulli, MultivariateNormal, ...): the same classes, shapes,
validation errors and formulas, built from ember ops so log_prob, entropy and rsample differentiate."""

from . import constraints, transforms
from .continuous import Cauchy, Exponential, Laplace, Normal, Uniform
from .discrete import Bernoulli, Binomial, Categorical, Geometric, OneHotCategorical, Poisson
from .distribution import Distribution
from .gamma import Beta, Chi2, Dirichlet, Gamma, StudentT
from .kl import kl_divergence, register_kl
from .mixture import MixtureSameFamily, Multinomial
from .multivariate import Independent, MultivariateNormal
from .transformed import Gumbel, HalfNormal, LogNormal, TransformedDistribution
from .transforms import (
    AbsTransform,
    AffineTransform,
    ComposeTransform,
    ExpTransform,
    PowerTransform,
    SigmoidTransform,
    SoftplusTransform,
    TanhTransform,
    Transform,
    identity_transform,
)

__all__ = [
    "AbsTransform",
    "AffineTransform",
    "Bernoulli",
    "Beta",
    "Binomial",
    "Cauchy",
    "Chi2",
    "ComposeTransform",
    "ExpTransform",
    "Gamma",
    "Geometric",
    "Gumbel",
    "HalfNormal",
    "LogNormal",
    "MixtureSameFamily",
    "Multinomial",
    "PowerTransform",
    "SigmoidTransform",
    "SoftplusTransform",
    "StudentT",
    "TanhTransform",
    "Transform",
    "TransformedDistribution",
    "identity_transform",
    "transforms",
    "Categorical",
    "Dirichlet",
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
