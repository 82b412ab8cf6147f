"""ember.distributions: log_prob/cdf/icdf/entropy/moments against closed forms computed with numpy,
samples against their moments, gradients (log_prob, entropy, rsample, KL) against finite differences,
PyTorch's shapes, reprs and validation errors; and every value against torch.distributions when PyTorch
is importable."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck
from ember.distributions import (
    AffineTransform,
    Bernoulli,
    Beta,
    Binomial,
    Categorical,
    Cauchy,
    Chi2,
    ComposeTransform,
    Dirichlet,
    Exponential,
    ExpTransform,
    Gamma,
    Geometric,
    Gumbel,
    HalfNormal,
    Independent,
    Laplace,
    LogNormal,
    MixtureSameFamily,
    Multinomial,
    MultivariateNormal,
    Normal,
    OneHotCategorical,
    Poisson,
    SigmoidTransform,
    SoftplusTransform,
    StudentT,
    TanhTransform,
    TransformedDistribution,
    Uniform,
    constraints,
    kl_divergence,
    register_kl,
)


def T(a, grad=False):
    return ember.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


LOC, SCALE = np.array([0.3, -1.2, 2.0]), np.array([0.5, 1.5, 2.5])
X = np.array([0.1, 0.7, -3.0])


def test_normal_against_closed_forms():
    d = Normal(T(LOC), T(SCALE))
    assert d.batch_shape == (3,) and d.event_shape == () and d.has_rsample
    logp = -((X - LOC) ** 2) / (2 * SCALE**2) - np.log(SCALE) - 0.5 * np.log(2 * np.pi)
    np.testing.assert_allclose(d.log_prob(T(X)).numpy(), logp, rtol=1e-12)
    cdf = np.array([0.5 * (1 + math.erf((x - m) / (s * math.sqrt(2)))) for x, m, s in zip(X, LOC, SCALE)])
    np.testing.assert_allclose(d.cdf(T(X)).numpy(), cdf, rtol=1e-12)
    np.testing.assert_allclose(d.icdf(d.cdf(T(X))).numpy(), X, rtol=1e-9)
    np.testing.assert_allclose(d.entropy().numpy(), 0.5 + 0.5 * np.log(2 * np.pi) + np.log(SCALE), rtol=1e-12)
    np.testing.assert_allclose(d.variance.numpy(), SCALE**2)
    assert d.mean is d.loc and d.stddev is d.scale


def test_univariate_closed_forms():
    rate = np.array([0.5, 2.0])
    e = Exponential(T(rate))
    x = np.array([0.3, 1.7])
    np.testing.assert_allclose(e.log_prob(T(x)).numpy(), np.log(rate) - rate * x, rtol=1e-12)
    np.testing.assert_allclose(e.cdf(T(x)).numpy(), 1 - np.exp(-rate * x), rtol=1e-12)
    np.testing.assert_allclose(e.entropy().numpy(), 1 - np.log(rate), rtol=1e-12)
    lp = Laplace(T([0.0, 1.0]), T([1.0, 0.5]))
    np.testing.assert_allclose(
        lp.log_prob(T(x)).numpy(), -np.log(2 * np.array([1, 0.5])) - np.abs(x - [0, 1]) / [1, 0.5]
    )
    np.testing.assert_allclose(lp.icdf(lp.cdf(T(x))).numpy(), x, rtol=1e-9)
    u = Uniform(T([0.0, -1.0]), T([2.0, 3.0]))
    np.testing.assert_allclose(u.log_prob(T([1.0, 0.0])).numpy(), -np.log([2.0, 4.0]))
    np.testing.assert_allclose(u.cdf(T([1.0, 0.0])).numpy(), [0.5, 0.25])
    np.testing.assert_allclose(u.entropy().numpy(), np.log([2.0, 4.0]))
    p = Poisson(T([0.5, 3.0]))
    k = np.array([2.0, 4.0])
    np.testing.assert_allclose(
        p.log_prob(T(k)).numpy(), k * np.log([0.5, 3.0]) - [0.5, 3.0] - [math.lgamma(3), math.lgamma(5)], rtol=1e-12
    )


def test_discrete_closed_forms():
    probs = np.array([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]])
    c = Categorical(probs=T(probs * 2))  # normalized over the last dim
    assert c.batch_shape == (2,) and c.event_shape == ()
    np.testing.assert_allclose(c.probs.numpy(), probs)
    np.testing.assert_allclose(c.log_prob(T([2, 0]).long()).numpy(), np.log([0.3, 0.6]), rtol=1e-12)
    np.testing.assert_allclose(c.entropy().numpy(), -(probs * np.log(probs)).sum(-1), rtol=1e-12)
    np.testing.assert_allclose(Categorical(logits=T(np.log(probs) + 4)).probs.numpy(), probs, rtol=1e-12)
    assert c.enumerate_support().shape == (3, 2) and c.mode.tolist() == [1, 0]
    b = Bernoulli(logits=T([0.0, 2.0]))
    q = 1 / (1 + np.exp(-2.0))
    np.testing.assert_allclose(b.probs.numpy(), [0.5, q])
    np.testing.assert_allclose(b.log_prob(T([1.0, 0.0])).numpy(), np.log([0.5, 1 - q]), rtol=1e-12)
    np.testing.assert_allclose(b.entropy().numpy(), [np.log(2), -(q * np.log(q) + (1 - q) * np.log(1 - q))])
    assert np.isnan(b.mode[0].item()) and b.mode[1].item() == 1.0
    oh = OneHotCategorical(probs=T(probs))
    assert oh.event_shape == (3,) and oh.sample((4,)).shape == (4, 2, 3)
    np.testing.assert_allclose(oh.log_prob(T([[0, 0, 1], [1, 0, 0]])).numpy(), np.log([0.3, 0.6]))


def test_multivariate_normal_against_numpy():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(3, 3))
    cov = a @ a.T + 3 * np.eye(3)
    loc = rng.normal(size=3)
    x = rng.normal(size=(4, 3))
    diff = x - loc
    logp = -0.5 * (
        3 * np.log(2 * np.pi) + np.linalg.slogdet(cov)[1] + np.einsum("bi,ij,bj->b", diff, np.linalg.inv(cov), diff)
    )
    for kwargs in (
        {"covariance_matrix": T(cov)},
        {"precision_matrix": T(np.linalg.inv(cov))},
        {"scale_tril": T(np.linalg.cholesky(cov))},
    ):
        d = MultivariateNormal(T(loc), **kwargs)
        assert d.batch_shape == () and d.event_shape == (3,)
        np.testing.assert_allclose(d.log_prob(T(x)).numpy(), logp, rtol=1e-10)
        np.testing.assert_allclose(d.covariance_matrix.numpy(), cov, rtol=1e-10)
        np.testing.assert_allclose(d.precision_matrix.numpy(), np.linalg.inv(cov), rtol=1e-9)
        np.testing.assert_allclose(
            d.entropy().item(), 0.5 * 3 * (1 + np.log(2 * np.pi)) + 0.5 * np.linalg.slogdet(cov)[1]
        )
        np.testing.assert_allclose(d.variance.numpy(), np.diag(cov), rtol=1e-10)
    batched = MultivariateNormal(T(np.zeros((2, 3))), T(cov))
    assert batched.batch_shape == (2,) and batched.sample((5,)).shape == (5, 2, 3)


def test_sample_moments():
    ember.manual_seed(0)
    n = 200_000
    for d, mean, var in [
        (Normal(1.0, 2.0), 1.0, 4.0),
        (Uniform(-1.0, 3.0), 1.0, 16 / 12),
        (Exponential(2.0), 0.5, 0.25),
        (Laplace(1.0, 0.5), 1.0, 0.5),
        (Bernoulli(0.3), 0.3, 0.21),
        (Poisson(3.0), 3.0, 3.0),
    ]:
        s = d.sample((n,)).double().numpy()
        assert abs(s.mean() - mean) < 5 * math.sqrt(var / n) and abs(s.var() / var - 1) < 0.03, d
    counts = np.bincount(Categorical(T([0.2, 0.5, 0.3])).sample((n,)).numpy(), minlength=3) / n
    np.testing.assert_allclose(counts, [0.2, 0.5, 0.3], atol=0.005)
    cov = np.array([[2.0, 0.6], [0.6, 1.0]])
    s = MultivariateNormal(T([1.0, -1.0]), T(cov)).sample((n,)).numpy()
    np.testing.assert_allclose(np.cov(s.T), cov, atol=0.03)


def test_gradients_against_finite_differences():
    loc, scale, x = T(LOC, True), T(SCALE, True), T(X, True)
    assert gradcheck(lambda m, s, v: Normal(m, s).log_prob(v), (loc, scale, x))
    assert gradcheck(lambda m, s: Normal(m, s).entropy(), (loc, scale))
    assert gradcheck(lambda m, s, v: Laplace(m, s).log_prob(v), (loc, scale, x))
    assert gradcheck(lambda r: Exponential(r).log_prob(T([0.3, 1.0, 2.0])), (scale,))
    logits = T([[0.1, -0.3, 0.7], [1.0, 0.0, -1.0]], True)
    assert gradcheck(lambda lg: Categorical(logits=lg).log_prob(T([2, 0]).long()), (logits,))
    assert gradcheck(lambda lg: Categorical(logits=lg).entropy(), (logits,))
    assert gradcheck(lambda lg: Bernoulli(logits=lg).log_prob(T([[1, 0, 1], [0, 0, 1]])), (logits,))
    other = T([[0.3, 0.3, -0.2], [0.0, 0.5, 0.1]], True)
    assert gradcheck(lambda a, b: kl_divergence(Categorical(logits=a), Categorical(logits=b)), (logits, other))
    assert gradcheck(lambda m, s: kl_divergence(Normal(m, s), Normal(T([0.0]), T([1.0]))), (loc, scale))
    tril = T([[1.0, 0.0], [0.5, 2.0]], True)
    point = T([0.3, -0.4], True)
    assert gradcheck(lambda L, v: MultivariateNormal(T([0.1, 0.2]), scale_tril=L.tril()).log_prob(v), (tril, point))
    # rsample: loc + eps * scale, so d(sample)/d(loc) = 1 and d/d(scale) = eps
    m, s = T([0.5], True), T([2.0], True)
    sample = Normal(m, s).rsample((1000,))
    sample.sum().backward()
    assert m.grad.item() == 1000 and abs(s.grad.item() - ((sample.detach() - 0.5) / 2).sum().item()) < 1e-9


def test_independent_and_kl():
    base = Normal(T(np.zeros((2, 3))), T(np.ones((2, 3))))
    ind = Independent(base, 1)
    assert ind.batch_shape == (2,) and ind.event_shape == (3,)
    x = T(np.full((2, 3), 0.5))
    np.testing.assert_allclose(ind.log_prob(x).numpy(), base.log_prob(x).sum(-1).numpy())
    assert repr(ind) == "Independent(Normal(loc: ember.Size([2, 3]), scale: ember.Size([2, 3])), 1)"
    with pytest.raises(ValueError, match="Expected reinterpreted_batch_ndims <= len"):
        Independent(base, 3)
    p, q = Normal(T([0.0, 1.0]), T([1.0, 2.0])), Normal(T([0.5, 0.0]), T([1.5, 1.0]))
    expected = np.log([1.5, 0.5]) + (np.array([1.0, 4.0]) + np.array([0.25, 1.0])) / (2 * np.array([2.25, 1.0])) - 0.5
    np.testing.assert_allclose(kl_divergence(p, q).numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(kl_divergence(Independent(p, 1), Independent(q, 1)).item(), expected.sum())
    assert kl_divergence(Uniform(0.0, 1.0), Uniform(0.5, 2.0)).item() == math.inf
    with pytest.raises(NotImplementedError, match="No KL"):
        kl_divergence(Normal(0.0, 1.0), Bernoulli(0.5))

    class MyNormal(Normal):
        pass

    @register_kl(MyNormal, Bernoulli)
    def _kl(a, b):
        return ember.tensor(7.0)

    assert kl_divergence(MyNormal(0.0, 1.0), Bernoulli(0.5)).item() == 7.0
    assert kl_divergence(MyNormal(0.0, 1.0), Normal(0.0, 1.0)).item() == 0.0  # the parent's closed form

    class ForeignBase:  # pyro registers KLs for its own base class, which is not ember's Distribution
        pass

    assert register_kl(ForeignBase, ForeignBase)(_kl) is _kl
    with pytest.raises(TypeError, match="Expected type_p to be a Distribution subclass"):
        register_kl("Normal", Bernoulli)


def test_shapes_reprs_and_errors_as_pytorch():
    d = Normal(0.0, 1.0)
    assert repr(d) == "Normal(loc: 0.0, scale: 1.0)" and d.batch_shape == () and d.sample().shape == ()
    assert d.sample((2, 3)).shape == (2, 3) and d.expand((4,)).batch_shape == (4,)
    assert repr(Categorical(T([0.5, 0.5]))) == "Categorical(probs: ember.Size([2]))"
    assert repr(Bernoulli(T([0.5]))) == "Bernoulli(probs: tensor([0.5000], dtype=ember.float64))"
    assert repr(constraints.positive) == "GreaterThan(lower_bound=0.0)" and repr(constraints.real_vector) == (
        "IndependentConstraint(Real(), 1)"
    )
    with pytest.raises(ValueError, match=r"Expected parameter scale \(Tensor of shape \(2,\)\) of distribution Normal"):
        Normal(T([0.0, 0.0]), T([1.0, -1.0]))
    Normal(T([0.0]), T([-1.0]), validate_args=False)  # no check
    with pytest.raises(ValueError, match="Either `probs` or `logits` must be specified, but not both."):
        Categorical()
    with pytest.raises(ValueError, match="to be within the support"):
        Exponential(1.0).log_prob(ember.tensor(-1.0))
    with pytest.raises(ValueError, match="The value argument to log_prob must be a Tensor"):
        Normal(0.0, 1.0).log_prob(0.5)
    with pytest.raises(ValueError, match="Value is not broadcastable with batch_shape"):
        Normal(T([0.0, 0.0]), T([1.0, 1.0])).log_prob(T([0.0, 0.0, 0.0]))
    with pytest.raises(ValueError, match="Uniform is not defined when low>= high"):
        Uniform(1.0, 1.0)
    with pytest.raises(ValueError, match="Exactly one of covariance_matrix or precision_matrix or scale_tril"):
        MultivariateNormal(ember.zeros(2))
    assert ember.distributions.Distribution._validate_args


def _torch_pairs(shift=0.0):
    """(ember distribution, torch distribution) built from the same float64 parameters (moved by shift)."""
    torch = pytest.importorskip("torch")
    td = torch.distributions
    loc, scale = np.array([0.3, -1.2]) + shift, np.array([0.5, 1.5]) * (1 + shift)
    probs = np.array([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]]) + shift
    cov = np.array([[2.0, 0.6], [0.6, 1.0]]) * (1 + shift)

    def both(ember_cls, torch_cls, *arrays):
        return ember_cls(*[T(a) for a in arrays]), torch_cls(*[torch.tensor(a) for a in arrays])

    return torch, [
        (both(Normal, td.Normal, loc, scale), np.array([0.1, 0.7])),
        (both(Laplace, td.Laplace, loc, scale), np.array([0.1, 0.7])),
        (both(Exponential, td.Exponential, scale), np.array([0.1, 0.7])),
        (both(Uniform, td.Uniform, loc - 1 - shift, scale + 1), np.array([0.1, 0.7])),
        (both(Poisson, td.Poisson, scale), np.array([1.0, 3.0])),
        (both(Bernoulli, td.Bernoulli, np.array([0.3, 0.8]) + shift / 2), np.array([1.0, 0.0])),
        (both(Categorical, td.Categorical, probs), np.array([2, 0])),
        (both(MultivariateNormal, td.MultivariateNormal, loc, cov), np.array([[0.1, 0.7], [1.0, -1.0]])),
        (both(Gumbel, td.Gumbel, loc, scale), np.array([0.1, 0.7])),
        (both(LogNormal, td.LogNormal, loc, scale), np.array([0.1, 0.7])),
        (both(HalfNormal, td.HalfNormal, scale), np.array([0.1, 0.7])),
        (both(Geometric, td.Geometric, np.array([0.3, 0.8]) + shift / 2), np.array([0.0, 3.0])),
        (both(Cauchy, td.Cauchy, loc, scale), np.array([0.1, 0.7])),
        (both(Binomial, td.Binomial, np.array([5.0, 8.0]), np.array([0.3, 0.6]) + shift / 2), np.array([2.0, 8.0])),
        (both(Gamma, td.Gamma, scale, scale + 1), np.array([0.1, 0.7])),
        (both(Chi2, td.Chi2, scale * 3), np.array([0.1, 0.7])),
        (both(Beta, td.Beta, scale, scale + 0.5), np.array([0.1, 0.7])),
        (both(Dirichlet, td.Dirichlet, probs * 4), np.array([[0.2, 0.5, 0.3], [0.1, 0.1, 0.8]])),
        (both(StudentT, td.StudentT, scale * 4, loc, scale), np.array([0.1, 0.7])),
    ]


def test_against_torch_distributions():
    torch, pairs = _torch_pairs()
    _, others = _torch_pairs(0.25)
    for ((e, t), x), ((e2, t2), _) in zip(pairs, others):
        assert repr(e).replace("ember.", "torch.") == repr(t)
        assert tuple(e.batch_shape) == tuple(t.batch_shape) and tuple(e.event_shape) == tuple(t.event_shape)
        ex = T(x).long() if isinstance(e, Categorical) else T(x)
        np.testing.assert_allclose(e.log_prob(ex).numpy(), t.log_prob(torch.tensor(x)).numpy(), rtol=1e-10)
        if not isinstance(e, (Poisson, Binomial)):  # none in PyTorch (Poisson; Binomial of unequal counts)
            np.testing.assert_allclose(e.entropy().numpy(), t.entropy().numpy(), rtol=1e-10)
        for moment in ("mean", "mode", "variance", "stddev"):
            np.testing.assert_allclose(getattr(e, moment).numpy(), getattr(t, moment).numpy(), rtol=1e-10)
        assert tuple(e.sample((4,)).shape) == tuple(t.sample((4,)).shape)
        if isinstance(e, (Cauchy, Chi2, StudentT)):
            continue  # no closed-form KL registered for these pairs, in PyTorch either
        np.testing.assert_allclose(
            kl_divergence(e, e2).numpy(), torch.distributions.kl_divergence(t, t2).numpy(), rtol=1e-10
        )


def test_transforms_against_torch():
    torch = pytest.importorskip("torch")
    tt = torch.distributions.transforms
    x = np.array([-2.0, -0.3, 0.0, 0.8, 3.0])
    for ours, theirs in [
        (ExpTransform(), tt.ExpTransform()),
        (SigmoidTransform(), tt.SigmoidTransform()),
        (TanhTransform(), tt.TanhTransform()),
        (SoftplusTransform(), tt.SoftplusTransform()),
        (AffineTransform(1.5, -2.0), tt.AffineTransform(1.5, -2.0)),
        (AffineTransform(T([1.0, 2.0]), T([0.5, 3.0]), event_dim=1), None),
        (ComposeTransform([AffineTransform(0.5, 2.0), TanhTransform()]), None),
    ]:
        xs = T(np.stack([x[:2], x[2:4]]) if ours.event_dim else x)
        y = ours(xs)
        np.testing.assert_allclose(ours.inv(y).numpy(), xs.numpy(), rtol=1e-9, atol=1e-12)
        ladj = ours.log_abs_det_jacobian(xs, y)
        if theirs is not None:
            np.testing.assert_allclose(y.numpy(), theirs(torch.tensor(xs.numpy())).numpy(), rtol=1e-12)
            ref = theirs.log_abs_det_jacobian(torch.tensor(xs.numpy()), torch.tensor(y.numpy()))
            np.testing.assert_allclose(ladj.numpy(), ref.numpy(), rtol=1e-10)
        else:  # log |dy/dx| by finite differences, summed over the event
            h = 1e-6
            slope = (ours(T(xs.numpy() + h)) - ours(T(xs.numpy() - h))).numpy() / (2 * h)
            expected = np.log(np.abs(slope))
            np.testing.assert_allclose(ladj.numpy(), expected.sum(-1) if ours.event_dim else expected, rtol=1e-6)
    # a squashed Gaussian (SAC's policy): log_prob through the tanh, against PyTorch's
    loc, scale = np.array([0.2, -0.5]), np.array([0.7, 1.3])
    ours = TransformedDistribution(Normal(T(loc), T(scale)), [TanhTransform(cache_size=1)])
    theirs = torch.distributions.TransformedDistribution(
        torch.distributions.Normal(torch.tensor(loc), torch.tensor(scale)), [tt.TanhTransform(cache_size=1)]
    )
    value = np.array([0.3, -0.9])
    np.testing.assert_allclose(ours.log_prob(T(value)).numpy(), theirs.log_prob(torch.tensor(value)).numpy())
    sample = ours.rsample((3,))
    assert sample.shape == (3, 2) and bool((sample.abs() < 1).all()) and repr(ours) == "TransformedDistribution()"
    m, s = T(loc, True), T(scale, True)
    assert gradcheck(lambda a, b: TransformedDistribution(Normal(a, b), [TanhTransform()]).log_prob(T(value)), (m, s))


def test_gamma_family_samples_and_reparameterized_gradients():
    ember.manual_seed(0)
    n = 100_000
    for d, mean, var in [
        (Gamma(0.4, 2.0), 0.2, 0.1),
        (Gamma(3.0, 0.5), 6.0, 12.0),
        (Chi2(4.0), 4.0, 8.0),
        (Beta(2.0, 5.0), 2 / 7, 10 / (49 * 8)),
        (StudentT(6.0, 1.0, 2.0), 1.0, 4 * 6 / 4),
    ]:
        s = d.sample((n,)).double().numpy()
        assert abs(s.mean() - mean) < 6 * math.sqrt(var / n) and abs(s.var() / var - 1) < 0.06, d
    dirichlet = Dirichlet(T([0.5, 2.0, 3.5])).sample((n,)).numpy()
    np.testing.assert_allclose(dirichlet.sum(-1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(dirichlet.mean(0), [0.5 / 6, 2 / 6, 3.5 / 6], atol=0.004)
    # E[z] = alpha / rate, so the mean pathwise gradient of z w.r.t. alpha is 1 / rate, of Beta's mean
    # c1 / (c1 + c0) w.r.t. c1 it is c0 / (c1 + c0)^2
    alpha = T([0.4, 3.0], grad=True)
    Gamma(alpha, T([1.0, 2.0])).rsample((n,)).mean(0).sum().backward()
    np.testing.assert_allclose(alpha.grad.numpy(), [1.0, 0.5], rtol=0.03)
    c1 = T(2.0, grad=True)
    Beta(c1, T(5.0)).rsample((n,)).mean().backward()
    np.testing.assert_allclose(c1.grad.item(), 5 / 49, rtol=0.03)
    # the implicit gradient dz/dalpha at fixed u = F(z; alpha), against inverting F by Newton's method
    from ember.distributions.gamma import _standard_gamma_grad

    def quantile(a, u, z):
        for _ in range(50):
            cdf = ember.igamma(T([a]), T([z])).item()
            z -= (cdf - u) / math.exp((a - 1) * math.log(z) - z - math.lgamma(a))
        return z

    for a, z in [(0.3, 0.05), (1.0, 0.9), (9.0, 7.0)]:
        u, h = ember.igamma(T([a]), T([z])).item(), 1e-4 * a
        exact = (quantile(a + h, u, z) - quantile(a - h, u, z)) / (2 * h)
        assert abs(_standard_gamma_grad(T([a]), T([z])).item() - exact) < 1e-7 * max(1, exact)
    torch = pytest.importorskip("torch")
    a, z = np.array([0.3, 1.0, 2.5, 9.0]), np.array([0.05, 0.9, 3.0, 7.0])
    ref = torch._standard_gamma_grad(torch.tensor(a), torch.tensor(z)).numpy()  # PyTorch's approximation
    np.testing.assert_allclose(_standard_gamma_grad(T(a), T(z)).numpy(), ref, rtol=1e-3)


def test_policy_gradient_with_categorical_learns():
    """REINFORCE on a three-armed bandit: sample actions from Categorical(logits), weight log_prob by the
    reward; the policy must come to prefer the best arm (as torch.distributions programs do)."""
    ember.manual_seed(0)
    logits = ember.zeros(3, requires_grad=True)
    optimizer = ember.optim.Adam([logits], lr=0.1)
    payout = ember.tensor([0.2, 0.9, 0.4])
    for _ in range(150):
        policy = Categorical(logits=logits)
        actions = policy.sample((32,))
        rewards = (ember.rand(32) < payout[actions]).float()
        loss = -(policy.log_prob(actions) * (rewards - rewards.mean())).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert Categorical(logits=logits).probs.argmax().item() == 1
    assert Categorical(logits=logits).probs[1].item() > 0.8


def test_multinomial_and_mixture():
    probs = np.array([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]])
    m = Multinomial(5, probs=T(probs))
    counts = np.array([[1.0, 3.0, 1.0], [5.0, 0.0, 0.0]])
    expected = [
        math.lgamma(6) - sum(math.lgamma(c + 1) for c in row) + (row * np.log(p)).sum() for row, p in zip(counts, probs)
    ]
    np.testing.assert_allclose(m.log_prob(T(counts)).numpy(), expected, rtol=1e-12)
    ember.manual_seed(0)
    draws = m.sample((20_000,)).numpy()
    assert (draws.sum(-1) == 5).all() and draws.shape == (20_000, 2, 3)
    np.testing.assert_allclose(draws.mean(0), 5 * probs, atol=0.05)
    with pytest.raises(ValueError, match="to be within the support"):
        m.log_prob(T([[1.0, 1.0, 1.0], [5.0, 0.0, 0.0]]))  # counts summing to 3, not 5
    weights, locs, scales = np.array([0.3, 0.7]), np.array([-1.0, 2.0]), np.array([0.5, 1.5])
    mix = MixtureSameFamily(Categorical(T(weights)), Normal(T(locs), T(scales)))
    x = np.array([0.1, 1.0, -2.0])
    density = (weights * np.exp(-((x[:, None] - locs) ** 2) / (2 * scales**2)) / (scales * np.sqrt(2 * np.pi))).sum(-1)
    np.testing.assert_allclose(mix.log_prob(T(x)).numpy(), np.log(density), rtol=1e-12)
    np.testing.assert_allclose(mix.mean.item(), (weights * locs).sum())
    s = mix.sample((100_000,)).numpy()
    assert abs(s.mean() - mix.mean.item()) < 0.03 and abs(s.var() / mix.variance.item() - 1) < 0.03
    # a mixture density network's loss differentiates through the weights and the components
    lg, mu, sd = T([0.2, -0.3], True), T(locs, True), T(scales, True)
    assert gradcheck(
        lambda a, b, c: MixtureSameFamily(Categorical(logits=a), Normal(b, c)).log_prob(T(x)), (lg, mu, sd)
    )
    batched = MixtureSameFamily(
        Categorical(ember.ones(4, 3)), Independent(Normal(ember.zeros(4, 3, 2), ember.ones(4, 3, 2)), 1)
    )
    assert batched.batch_shape == (4,) and batched.event_shape == (2,) and batched.sample((5,)).shape == (5, 4, 2)
    with pytest.raises(ValueError, match="does not equal `component_distribution.batch_shape"):
        MixtureSameFamily(Categorical(ember.ones(3)), Normal(ember.zeros(2), ember.ones(2)))


def test_multinomial_and_mixture_against_torch():
    torch = pytest.importorskip("torch")
    td = torch.distributions
    probs = np.array([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]])
    counts = np.array([[1.0, 3.0, 1.0], [5.0, 0.0, 0.0]])
    ours, theirs = Multinomial(5, probs=T(probs)), td.Multinomial(5, probs=torch.tensor(probs))
    np.testing.assert_allclose(ours.log_prob(T(counts)).numpy(), theirs.log_prob(torch.tensor(counts)).numpy())
    assert repr(ours) == repr(theirs)
    x = np.array([0.1, 1.0, -2.0])
    ours = MixtureSameFamily(Categorical(T([0.3, 0.7])), Normal(T([-1.0, 2.0]), T([0.5, 1.5])))
    theirs = td.MixtureSameFamily(
        td.Categorical(torch.tensor([0.3, 0.7], dtype=torch.float64)),
        td.Normal(torch.tensor([-1.0, 2.0], dtype=torch.float64), torch.tensor([0.5, 1.5], dtype=torch.float64)),
    )
    for name in ("log_prob", "cdf"):
        np.testing.assert_allclose(getattr(ours, name)(T(x)).numpy(), getattr(theirs, name)(torch.tensor(x)).numpy())
    for name in ("mean", "variance"):
        np.testing.assert_allclose(getattr(ours, name).numpy(), getattr(theirs, name).numpy())
    assert repr(ours).replace("ember.", "torch.") == repr(theirs)


def test_binomial_samples_scalar_parameters_and_huge_counts_exactly():
    ember.manual_seed(0)
    draws = Binomial(10, ember.tensor(0.3)).sample((20_000,)).numpy()
    assert draws.shape == (20_000,) and abs(draws.mean() - 3.0) < 0.05 and draws.max() <= 10
    assert Binomial(4, ember.tensor(0.5)).sample().shape == ()
    # counts beyond any per-trial draw: the mean and spread of the exact law (sd 5e5 at n = 1e12)
    big = Binomial(ember.tensor(1e12, dtype=ember.float64), ember.tensor(0.5, dtype=ember.float64))
    huge = big.sample((2000,)).numpy()
    assert abs(huge.mean() - 5e11) < 4 * 5e5 / np.sqrt(2000) and abs(huge.std() / 5e5 - 1) < 0.1
    assert (huge == np.floor(huge)).all()
    # a small probability, a large count (the Poisson-like tail): variance n p (1 - p)
    rare = Binomial(ember.tensor(10_000.0, dtype=ember.float64), ember.tensor(1e-3, dtype=ember.float64))
    r = rare.sample((20_000,)).numpy()
    assert abs(r.mean() - 10) < 0.15 and abs(r.var() - 9.99) < 0.5
    ember.manual_seed(4)
    again = big.sample((3,))
    ember.manual_seed(4)
    assert big.sample((3,)).tolist() == again.tolist()  # reproducible from the seed
