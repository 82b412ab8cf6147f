"""Random sampling (bernoulli, multinomial, normal, poisson, the in-place samplers)
and counting (bincount, histc, histogram): distributions checked by their
moments on many draws with a fixed seed, shapes, dtypes, errors, and repeatability
under manual_seed."""

import math

import numpy as np
import pytest

import ember

N = 20000


@pytest.fixture(autouse=True)
def seeded():
    ember.manual_seed(1234)


def test_bernoulli_frequencies_follow_probabilities():
    p = ember.tensor([0.1, 0.5, 0.9]).repeat(N, 1)
    draws = ember.bernoulli(p)
    assert draws.dtype == ember.float32 and draws.shape == p.shape
    assert set(np.unique(draws.numpy())) <= {0.0, 1.0}
    np.testing.assert_allclose(draws.mean(0).numpy(), [0.1, 0.5, 0.9], atol=0.02)
    assert abs(float(ember.empty(N).bernoulli_(0.25).mean()) - 0.25) < 0.02
    assert abs(float(ember.zeros(N).bernoulli(0.75).mean()) - 0.75) < 0.02


def test_bernoulli_refuses_probabilities_outside_unit_interval():
    with pytest.raises(RuntimeError, match="p_in >= 0"):
        ember.bernoulli(ember.tensor([1.5]))


def test_multinomial_with_replacement_follows_weights():
    draws = ember.multinomial(ember.tensor([1.0, 2.0, 7.0]), N, replacement=True)
    assert draws.dtype == ember.int64 and draws.shape == (N,)
    freq = np.bincount(draws.numpy(), minlength=3) / N
    np.testing.assert_allclose(freq, [0.1, 0.2, 0.7], atol=0.02)


def test_multinomial_single_draws_follow_weights_and_never_pick_a_zero_weight():
    # one sample per row (a language model's next token): the same law with or without replacement
    w = ember.tensor([1.0, 0.0, 2.0, 7.0]).expand(N, 4)
    for replacement in (False, True):
        draws = ember.multinomial(w, 1, replacement=replacement)
        assert draws.shape == (N, 1)
        freq = np.bincount(draws.numpy().ravel(), minlength=4) / N
        assert freq[1] == 0
        np.testing.assert_allclose(freq, [0.1, 0.0, 0.2, 0.7], atol=0.02)


def test_multinomial_without_replacement_draws_distinct_nonzero_categories():
    w = ember.tensor([[0.0, 1.0, 1.0, 5.0], [3.0, 0.0, 1.0, 1.0]])
    draws = ember.multinomial(w, 3)
    assert draws.shape == (2, 3)
    for row, weights in zip(draws.numpy(), w.numpy()):
        assert len(set(row)) == 3 and all(weights[row] > 0)
    # the heaviest category comes first most of the time
    first = [int(ember.multinomial(w[0], 1)) for _ in range(300)]
    assert first.count(3) / 300 > 0.6


@pytest.mark.parametrize(
    "weights, n, replacement, words",
    [
        ([1.0, 2.0], 3, False, "without replacement"),
        ([1.0, -1.0], 1, True, "element < 0"),
        ([0.0, 0.0], 1, True, "sum of probabilities <= 0"),
        ([1.0, float("nan")], 1, True, "`inf`, `nan`"),
    ],
)
def test_multinomial_errors_as_pytorch(weights, n, replacement, words):
    with pytest.raises(RuntimeError, match=words):
        ember.multinomial(ember.tensor(weights), n, replacement)


def test_normal_overloads():
    a = ember.normal(2.0, 3.0, (N,))
    assert a.shape == (N,) and abs(float(a.mean()) - 2) < 0.1 and abs(float(a.std()) - 3) < 0.1
    mean = ember.tensor([0.0, 10.0]).repeat(N // 2, 1)
    b = ember.normal(mean, 0.5)
    np.testing.assert_allclose(b.mean(0).numpy(), [0.0, 10.0], atol=0.05)
    c = ember.normal(1.0, ember.full((N,), 2.0))
    assert abs(float(c.std()) - 2) < 0.1
    with pytest.raises(RuntimeError, match="std >= 0"):
        ember.normal(0.0, -1.0, (2,))


def test_normal_is_differentiable_in_tensor_mean_and_std():
    mean = ember.zeros(4, dtype=ember.float64, requires_grad=True)
    std = ember.ones(4, dtype=ember.float64, requires_grad=True)
    ember.manual_seed(7)
    y = ember.normal(mean, std)
    ember.manual_seed(7)
    noise = ember.normal(ember.zeros(4, dtype=ember.float64), 1.0)
    y.sum().backward()
    np.testing.assert_allclose(mean.grad.numpy(), np.ones(4))
    np.testing.assert_allclose(std.grad.numpy(), noise.numpy())


def test_poisson_mean_and_variance_equal_the_rate():
    rates = ember.tensor([0.5, 4.0, 50.0]).repeat(N, 1)
    draws = ember.poisson(rates)
    assert draws.dtype == ember.float32
    np.testing.assert_allclose(draws.mean(0).numpy(), [0.5, 4.0, 50.0], rtol=0.05)
    np.testing.assert_allclose(draws.var(0).numpy(), [0.5, 4.0, 50.0], rtol=0.1)
    one = ember.poisson(ember.tensor(1e6, dtype=ember.float64))  # a 0-d rate (once failed: numpy drew a scalar)
    assert one.shape == () and one.dtype == ember.float64 and abs(one.item() - 1e6) < 6e3


@pytest.mark.parametrize(
    "fill, mean",
    [
        (lambda t: t.exponential_(2.0), 0.5),
        (lambda t: t.geometric_(0.25), 4.0),
        (lambda t: t.log_normal_(0.0, 0.5), math.exp(0.125)),
        (lambda t: t.random_(0, 10), 4.5),
        (lambda t: t.uniform_(-1, 3), 1.0),
    ],
)
def test_inplace_samplers_have_their_means(fill, mean):
    t = ember.empty(N, dtype=ember.float64)
    assert fill(t) is t
    assert abs(float(t.mean()) - mean) < 0.05 * max(1.0, mean)


def test_cauchy_median_and_random_bounds():
    t = ember.empty(N)
    assert abs(float(t.cauchy_(1.0, 2.0).median()) - 1.0) < 0.1
    ints = ember.empty(N, dtype=ember.int64).random_(5)
    assert int(ints.min()) == 0 and int(ints.max()) == 4
    with pytest.raises(RuntimeError, match="from=3 >= to=3"):
        ember.empty(2).random_(3, 3)


def test_samplers_repeat_under_manual_seed():
    def draw():
        ember.manual_seed(99)
        return [
            ember.multinomial(ember.tensor([1.0, 2.0, 3.0]), 5, True),
            ember.bernoulli(ember.full((5,), 0.5)),
            ember.poisson(ember.full((5,), 3.0)),
            ember.empty(5).exponential_(),
            ember.randint_like(ember.zeros(5), 10),
        ]

    for a, b in zip(draw(), draw()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_randint_like():
    r = ember.randint_like(ember.zeros(2, 3, dtype=ember.int64), 3, 6)
    assert r.shape == (2, 3) and r.dtype == ember.int64
    assert int(r.min()) >= 3 and int(r.max()) <= 5


# ------------------------------------------------------------------ counting


def test_bincount_against_numpy():
    x = np.random.default_rng(0).integers(0, 7, size=50)
    w = np.random.default_rng(1).random(50)
    np.testing.assert_array_equal(ember.bincount(ember.tensor(x)).numpy(), np.bincount(x))
    np.testing.assert_allclose(ember.bincount(ember.tensor(x), ember.tensor(w)).numpy(), np.bincount(x, w), rtol=1e-12)
    assert ember.tensor(x).bincount(minlength=10).shape == (10,)
    assert ember.bincount(ember.tensor([], dtype=ember.int64)).shape == (0,)
    assert ember.bincount(ember.tensor([0, 1]), ember.tensor([1.0, 2.0])).dtype == ember.float32
    with pytest.raises(RuntimeError, match="non-negative integral"):
        ember.bincount(ember.tensor([-1, 2]))


def test_histc_and_histogram_against_numpy():
    x = np.random.default_rng(2).normal(size=200)
    np.testing.assert_array_equal(
        ember.histc(ember.tensor(x), bins=8, min=-2, max=2).numpy(), np.histogram(x, 8, (-2, 2))[0]
    )
    hist, edges = ember.histogram(ember.tensor(x), bins=5)
    ref_hist, ref_edges = np.histogram(x, 5)
    np.testing.assert_array_equal(hist.numpy(), ref_hist)
    np.testing.assert_allclose(edges.numpy(), ref_edges)
    given = [-3.0, -1.0, 0.5, 3.0]
    hist, _ = ember.histogram(ember.tensor(x), bins=ember.tensor(given, dtype=ember.float64), density=True)
    np.testing.assert_allclose(hist.numpy(), np.histogram(x, given, density=True)[0], rtol=1e-12)
    with pytest.raises(NotImplementedError, match="histogram_cpu"):
        ember.histc(ember.tensor([1, 2]))
