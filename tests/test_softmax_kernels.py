"""The fused softmax kernels (Note [Fused softmax]): values against numpy on both layouts and across
thread splits, masked scores (-inf, -1e9, the range where exp underflows), PyTorch's _safe_softmax."""

import numpy as np
import pytest

import ember


def np_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def np_log_softmax(x, axis):
    s = x - x.max(axis=axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=axis, keepdims=True))


REFS = {"softmax": np_softmax, "log_softmax": np_log_softmax}


def causal_scores(rng, shape, masked):
    """Random attention scores (..., L, L) with the entries above the diagonal set to `masked`."""
    x = rng.standard_normal(shape) * 3
    x[..., np.triu_indices(shape[-1], 1)[0], np.triu_indices(shape[-1], 1)[1]] = masked
    return x


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("dim", [-1, 1, 0])
def test_forward_and_backward_match_numpy_on_large_tensors(fn, dtype, dim):
    # large enough to be split across threads; dim -1 takes the slice kernel, 0 and 1 the block one
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((8, 33, 300)) * 4).astype(dtype)
    g = rng.standard_normal(x.shape).astype(dtype)
    t = ember.tensor(x, requires_grad=True)
    y = getattr(t, fn)(dim)
    (gx,) = ember.autograd.grad(y, t, ember.tensor(g))
    x64, g64 = x.astype(np.float64), g.astype(np.float64)
    ref = REFS[fn](x64, dim)
    if fn == "softmax":
        ref_grad = ref * (g64 - (g64 * ref).sum(dim, keepdims=True))
    else:
        ref_grad = g64 - np.exp(ref) * g64.sum(dim, keepdims=True)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(y.detach().numpy(), ref, rtol=tol, atol=tol)
    np.testing.assert_allclose(gx.numpy(), ref_grad, rtol=tol * 10, atol=tol * 10)
    assert y.dtype == t.dtype and gx.dtype == t.dtype


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
@pytest.mark.parametrize("masked", [-np.inf, -1e9, -95.0])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_masked_scores(fn, masked, dtype):
    # -inf and -1e9 round exp to 0; -95 lies where float32's exp is subnormal, not 0
    rng = np.random.default_rng(1)
    x = causal_scores(rng, (4, 2, 40, 40), masked).astype(dtype)
    y = getattr(ember.tensor(x), fn)(-1).numpy()
    ref = REFS[fn](x.astype(np.float64), -1)
    if fn == "log_softmax":
        finite = np.isfinite(ref)
        np.testing.assert_array_equal(np.isfinite(y), finite)
        np.testing.assert_allclose(y[finite], ref[finite], rtol=1e-6)
    else:
        np.testing.assert_allclose(y, ref.astype(dtype), rtol=1e-6, atol=1e-45)
        if masked != -95.0:
            assert (y[..., np.triu_indices(40, 1)[0], np.triu_indices(40, 1)[1]] == 0).all()


def test_softmax_of_values_where_exp_underflows_matches_numpy_exactly_enough():
    # slices whose shifted values run through libmvec's slow range and the subnormals
    x = np.concatenate([[0.0], -np.linspace(80, 110, 301)]).astype(np.float32)[None]
    y = ember.tensor(x).softmax(-1).numpy()
    ref = np.exp(x.astype(np.float64)) / np.exp(x.astype(np.float64)).sum()
    np.testing.assert_allclose(y, ref.astype(np.float32), rtol=1e-5, atol=2e-45)


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_results_do_not_depend_on_the_thread_count(fn):
    rng = np.random.default_rng(2)
    x = ember.tensor(causal_scores(rng, (16, 4, 64, 64), -np.inf).astype(np.float32))
    before = ember.get_num_threads()
    try:
        ember.set_num_threads(1)
        one = getattr(x, fn)(-1).numpy()
        ember.set_num_threads(2)
        two = getattr(x, fn)(-1).numpy()
    finally:
        ember.set_num_threads(before)
    np.testing.assert_array_equal(one, two)


def test_backward_of_an_expanded_gradient():
    # y.sum() sends an expanded (stride 0) gradient; the kernel reads it contiguous
    x = ember.randn(5, 7, requires_grad=True, dtype=ember.float64)
    x.softmax(-1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.zeros((5, 7)), atol=1e-15)
    x.grad = None
    x.log_softmax(0).sum().backward()
    ref = 1 - np.exp(np_log_softmax(x.detach().numpy(), 0)) * 5
    np.testing.assert_allclose(x.grad.numpy(), ref, rtol=1e-12)


@pytest.mark.parametrize("dim", [-1, 0])
def test_safe_softmax_zeroes_fully_masked_slices(dim):
    inf, nan = float("inf"), float("nan")
    rows = [[-inf, -inf, -inf], [1.0, -inf, 2.0], [nan, -inf, -inf], [0.5, 0.25, 0.0]]
    data = np.array(rows) if dim == -1 else np.array(rows).T
    x = ember.tensor(data, requires_grad=True)
    y = ember._safe_softmax(x, dim)
    assert y.grad_fn.name() == "SafeSoftmaxBackward0"
    ref = np_softmax(np.where(np.isneginf(data), -1e300, data), dim)
    ref = np.where(np.isneginf(data).all(axis=dim, keepdims=True), 0.0, ref)
    ref = np.where(np.isnan(data).any(axis=dim, keepdims=True), nan, ref)
    np.testing.assert_allclose(y.detach().numpy(), ref, rtol=1e-12)
    g = np.arange(12.0).reshape(data.shape)
    (gx,) = ember.autograd.grad(y, x, ember.tensor(g))
    masked_slice = (0, slice(None)) if dim == -1 else (slice(None), 0)
    np.testing.assert_array_equal(gx.numpy()[masked_slice], np.zeros(3))
    assert ember._safe_softmax(ember.zeros(2, 3), -1, dtype=ember.float64).dtype == ember.float64


def test_attention_with_every_key_masked_gives_zero_rows_and_finite_gradients():
    q = ember.randn(2, 3, 4, requires_grad=True)
    k, v = ember.randn(2, 5, 4), ember.randn(2, 5, 4)
    allowed = ember.ones(3, 5, dtype=ember.bool)
    allowed[1] = False
    out = ember.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
    assert (out[:, 1] == 0).all()
    out.sum().backward()
    assert np.isfinite(q.grad.numpy()).all() and (q.grad[:, 1] == 0).all()
