"""ember.distributions: probability distributions for sampling, log-densities and KL divergences, as
torch.distributions (Normal, Categorical, Bernoulli, MultivariateNormal, ...): the same classes, shapes,
validation errors and formulas, built from ember ops so log_prob, entropy and rsample differentiate."""

from . import constraints, kl_more, transforms
from .constraint_registry import biject_to, transform_to
from .continuous import Cauchy, Exponential, Laplace, Normal, Uniform
from .discrete import Bernoulli, Binomial, Categorical, Geometric, OneHotCategorical, Poisson
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .gamma import Beta, Chi2, Dirichlet, Gamma, StudentT
from .kl import kl_divergence, register_kl
from .lowrank import LowRankMultivariateNormal
from .matrix import LKJCholesky, Wishart
from .mixture import MixtureSameFamily, Multinomial
from .multivariate import Independent, MultivariateNormal
from .pushforward import HalfCauchy, InverseGamma, Kumaraswamy, LogisticNormal, Pareto, Weibull
from .relaxed import (
    ExpRelaxedCategorical,
    LogitRelaxedBernoulli,
    OneHotCategoricalStraightThrough,
    RelaxedBernoulli,
    RelaxedOneHotCategorical,
)
from .transformed import Gumbel, HalfNormal, LogNormal, TransformedDistribution
from .transforms import (
    AbsTransform,
    AffineTransform,
    CatTransform,
    ComposeTransform,
    CorrCholeskyTransform,
    CumulativeDistributionTransform,
    ExpTransform,
    IndependentTransform,
    LowerCholeskyTransform,
    PositiveDefiniteTransform,
    PowerTransform,
    ReshapeTransform,
    SigmoidTransform,
    SoftmaxTransform,
    SoftplusTransform,
    StackTransform,
    StickBreakingTransform,
    TanhTransform,
    Transform,
    identity_transform,
)
from .univariate import ContinuousBernoulli, FisherSnedecor, GeneralizedPareto, NegativeBinomial
from .von_mises import VonMises

del kl_more  # imported for its registrations

__all__ = [
    "AbsTransform",
    "AffineTransform",
    "Bernoulli",
    "Beta",
    "Binomial",
    "CatTransform",
    "Categorical",
    "Cauchy",
    "Chi2",
    "ComposeTransform",
    "ContinuousBernoulli",
    "CorrCholeskyTransform",
    "CumulativeDistributionTransform",
    "Dirichlet",
    "Distribution",
    "ExpRelaxedCategorical",
    "ExpTransform",
    "Exponential",
    "ExponentialFamily",
    "FisherSnedecor",
    "Gamma",
    "GeneralizedPareto",
    "Geometric",
    "Gumbel",
    "HalfCauchy",
    "HalfNormal",
    "Independent",
    "IndependentTransform",
    "InverseGamma",
    "Kumaraswamy",
    "LKJCholesky",
    "Laplace",
    "LogNormal",
    "LogisticNormal",
    "LogitRelaxedBernoulli",
    "LowRankMultivariateNormal",
    "LowerCholeskyTransform",
    "MixtureSameFamily",
    "Multinomial",
    "MultivariateNormal",
    "NegativeBinomial",
    "Normal",
    "OneHotCategorical",
    "OneHotCategoricalStraightThrough",
    "Pareto",
    "Poisson",
    "PositiveDefiniteTransform",
    "PowerTransform",
    "RelaxedBernoulli",
    "RelaxedOneHotCategorical",
    "ReshapeTransform",
    "SigmoidTransform",
    "SoftmaxTransform",
    "SoftplusTransform",
    "StackTransform",
    "StickBreakingTransform",
    "StudentT",
    "TanhTransform",
    "Transform",
    "TransformedDistribution",
    "Uniform",
    "VonMises",
    "Weibull",
    "Wishart",
    "biject_to",
    "constraints",
    "identity_transform",
    "kl_divergence",
    "register_kl",
    "transform_to",
    "transforms",
]


def _add_pytorch_module_paths() -> None:
    """PyTorch keeps each distribution in a module of its own (``torch.distributions.normal.Normal``) and
    libraries import them by those paths (pyro, captum); ember groups them by family, so each of PyTorch's
    paths is a module naming its classes, made here."""
    import sys
    import types

    paths = {
        "bernoulli": ["Bernoulli"], "beta": ["Beta"], "binomial": ["Binomial"], "categorical": ["Categorical"],
        "cauchy": ["Cauchy"], "chi2": ["Chi2"], "continuous_bernoulli": ["ContinuousBernoulli"],
        "dirichlet": ["Dirichlet"], "exponential": ["Exponential"], "fishersnedecor": ["FisherSnedecor"],
        "generalized_pareto": ["GeneralizedPareto"], "geometric": ["Geometric"], "gumbel": ["Gumbel"],
        "half_cauchy": ["HalfCauchy"], "half_normal": ["HalfNormal"], "independent": ["Independent"],
        "inverse_gamma": ["InverseGamma"], "kumaraswamy": ["Kumaraswamy"], "laplace": ["Laplace"],
        "lkj_cholesky": ["LKJCholesky"], "log_normal": ["LogNormal"], "logistic_normal": ["LogisticNormal"],
        "lowrank_multivariate_normal": ["LowRankMultivariateNormal"], "mixture_same_family": ["MixtureSameFamily"],
        "multinomial": ["Multinomial"], "multivariate_normal": ["MultivariateNormal"],
        "negative_binomial": ["NegativeBinomial"], "normal": ["Normal"],
        "one_hot_categorical": ["OneHotCategorical", "OneHotCategoricalStraightThrough"], "pareto": ["Pareto"],
        "poisson": ["Poisson"], "relaxed_bernoulli": ["LogitRelaxedBernoulli", "RelaxedBernoulli"],
        "relaxed_categorical": ["ExpRelaxedCategorical", "RelaxedOneHotCategorical"], "studentT": ["StudentT"],
        "transformed_distribution": ["TransformedDistribution"], "uniform": ["Uniform"], "weibull": ["Weibull"],
        "wishart": ["Wishart"],
    }  # fmt: skip
    package = sys.modules[__name__]

    class PathModule(types.ModuleType):
        """Like PyTorch's module, it answers the other names its family's code uses (Distribution,
        constraints, private helpers): from the package, else from the module the class is defined in."""

        def __getattr__(self, name: str) -> object:
            for source in (package, sys.modules[getattr(package, self.__all__[0]).__module__]):
                if hasattr(source, name):
                    return getattr(source, name)
            raise AttributeError(f"module '{self.__name__}' has no attribute '{name}'")

    for path, names in paths.items():
        module = PathModule(f"{__name__}.{path}", f"torch.distributions.{path}: {', '.join(names)}.")
        module.__all__ = names
        for name in names:
            setattr(module, name, getattr(package, name))
        sys.modules[module.__name__] = module
        setattr(package, path, module)


_add_pytorch_module_paths()
