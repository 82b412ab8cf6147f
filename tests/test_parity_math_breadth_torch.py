"""The elementwise, cumulative, reordering and index-update ops against PyTorch
on the same inputs: values, dtypes, node names (grad_fn) and gradients; and
the key words of their errors."""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
A = RNG.uniform(-0.9, 0.9, size=(3, 4))
POS = RNG.uniform(0.3, 3.0, size=(3, 4))

# (id, input array, f(module, x) -> tensor); f is run with module ember and torch
CASES = [
    *[(n, A, lambda m, x, n=n: getattr(m, n)(x)) for n in "floor ceil trunc frac asin acos atan sinh cosh".split()],
    *[(n, A, lambda m, x, n=n: getattr(m, n)(x)) for n in "asinh atanh exp2 erfc erfinv".split()],
    *[(n, POS, lambda m, x, n=n: getattr(m, n)(x)) for n in "log2 log10 lgamma digamma".split()],
    ("acosh", POS + 1, lambda m, x: m.acosh(x)),
    ("round", A * 7, lambda m, x: m.round(x)),
    ("round-decimals", A * 7, lambda m, x: m.round(x, decimals=1)),
    ("polygamma", POS, lambda m, x: m.polygamma(3, x)),
    ("mvlgamma", POS + 1, lambda m, x: m.mvlgamma(x, 3)),
    ("nan_to_num", A, lambda m, x: m.nan_to_num(m.log(x), posinf=5.0)),
    ("clamp_min", A, lambda m, x: x.clamp_min(0.1)),
    ("clamp_max", A, lambda m, x: m.clamp_max(x, -0.1)),
    ("hypot", A, lambda m, x: m.hypot(x, x.flip(0))),
    ("logaddexp", A, lambda m, x: m.logaddexp(x, 2 * x)),
    ("logaddexp2", A, lambda m, x: m.logaddexp2(x, x.t().reshape(3, 4))),
    ("xlogy", POS, lambda m, x: m.xlogy(x - 1, x)),
    ("lerp", A, lambda m, x: m.lerp(x, x * 2 + 1, 0.3)),
    ("lerp-tensor", A, lambda m, x: m.lerp(x, m.ones_like(x), x.abs())),
    ("addcmul", A, lambda m, x: m.addcmul(x, x, x.flip(1), value=0.5)),
    ("addcdiv", POS, lambda m, x: x.addcdiv(x, x + 1, value=-2)),
    ("cumsum", A, lambda m, x: x.cumsum(1)),
    ("cumprod", A, lambda m, x: m.cumprod(x, 0)),
    ("cumprod-zero", A, lambda m, x: m.cumprod(m.where(x > 0.3, m.zeros_like(x), x), 1)),
    ("logcumsumexp", A, lambda m, x: m.logcumsumexp(x, 1)),
    ("cummax", A, lambda m, x: m.cummax(x, 1).values),
    ("cummin", A, lambda m, x: x.cummin(0)[0]),
    ("flip", A, lambda m, x: x.flip(0, 1)),
    ("roll", A, lambda m, x: m.roll(x, (1, -1), (0, 1))),
    ("rot90", A, lambda m, x: m.rot90(x, 1, (0, 1))),
    ("index_add", A, lambda m, x: x.index_add(1, m.tensor([0, 0, 3]), x[:, :3], alpha=2)),
    ("index_copy", A, lambda m, x: x.index_copy(0, m.tensor([2, 0]), x[:2] * 3)),
    ("index_fill", A, lambda m, x: x.index_fill(1, m.tensor([1]), 2.5)),
    ("scatter", A, lambda m, x: x.scatter(1, m.tensor([[0, 1], [2, 3], [1, 0]]), x[:, 2:] * 5)),
    ("scatter-value", A, lambda m, x: x.scatter(0, m.tensor([[0, 2, 1, 0]]), -1.0)),
    ("masked_select", A, lambda m, x: x.masked_select(x > 0)),
    ("masked_scatter", A, lambda m, x: x.masked_scatter(x < 0, x.flip(0) * 2)),
    ("take", A, lambda m, x: x.take(m.tensor([[0, 11], [-1, 5]]))),
    ("put", A, lambda m, x: x.put(m.tensor([1, 1, 7]), x[0, :3], accumulate=True)),
    ("take_along_dim", A, lambda m, x: m.take_along_dim(x, x.argmax(1, keepdim=True), 1)),
    ("nansum", A, lambda m, x: m.where(x > 0.5, float("nan"), x).nansum(0)),
]


def _run(module, f, arr, requires_grad):
    x = module.tensor(arr, dtype=module.float64, requires_grad=requires_grad)
    return x, f(module, x)


@pytest.mark.parametrize("name, arr, f", CASES, ids=[c[0] for c in CASES])
def test_values_nodes_and_gradients_match_pytorch(name, arr, f):
    ex, ey = _run(ember, f, arr, True)
    tx, ty = _run(torch, f, arr, True)
    np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12, equal_nan=True)
    assert str(ey.dtype).split(".")[-1] == str(ty.dtype).split(".")[-1]
    assert type(ey.grad_fn).__name__ == type(ty.grad_fn).__name__
    seed = np.random.default_rng(1).standard_normal(tuple(ty.shape))
    ey.backward(ember.tensor(seed))
    ty.backward(torch.tensor(seed))
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize(
    "f, words",
    [
        (lambda m: m.zeros(3).flip(0, 0), "appears multiple times"),
        (lambda m: m.flip(m.zeros(3), [0, 0]), "appears multiple times"),
        (lambda m: m.zeros(3, 3).rot90(1, (0,)), "expected total rotation dims == 2"),
        (lambda m: m.zeros(3, 3).rot90(1, (1, 1)), "expected rotation dims to be different"),
        (lambda m: m.zeros(3).masked_select(m.zeros(3)), "expected BoolTensor for mask"),
        (lambda m: m.zeros(3).addcdiv(m.ones(3, dtype=m.int64), m.ones(3, dtype=m.int64)), "Integer division"),
        (lambda m: m.polygamma(-1, m.ones(2)), "does not support negative n"),
        (lambda m: m.repeat_interleave(m.ones(3), m.tensor([1, 2]), dim=0), "repeats must have the same size"),
    ],
)
def test_errors_share_pytorchs_words(f, words):
    with pytest.raises(RuntimeError, match=words):
        f(torch)
    with pytest.raises(RuntimeError, match=words):
        f(ember)


def test_integer_inputs_as_pytorch():
    x = np.array([[3, -2], [5, 0]])
    for f in (lambda m, t: m.cumsum(t, 0), lambda m, t: t.cumprod(1), lambda m, t: m.floor(t), lambda m, t: t.flip(0)):
        e, t = f(ember, ember.tensor(x)), f(torch, torch.tensor(x))
        np.testing.assert_array_equal(e.numpy(), t.numpy())
        assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    b = np.array([True, False, True])
    assert ember.cumsum(ember.tensor(b), 0).dtype == ember.int64
