"""F.layer_norm and F.group_norm as one node each (Note [Fused layer norm]): values and gradients against
numpy, finite differences in float64 (twice), PyTorch's nodes and errors, thread-count independence."""

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck

F = ember.nn.functional


def np_layer_norm(x, k, w=None, b=None, eps=1e-5):
    axes = tuple(range(x.ndim - k, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    rstd = 1 / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    out = (x - mean) * rstd
    return out * (1 if w is None else w) + (0 if b is None else b), mean, rstd


def np_layer_norm_grads(g, x, k, w, eps=1e-5):
    axes = tuple(range(x.ndim - k, x.ndim))
    lead = tuple(range(x.ndim - k))
    xhat, _, rstd = np_layer_norm(x, k, eps=eps)
    gw = g * (1 if w is None else w)
    gx = rstd * (gw - gw.mean(axis=axes, keepdims=True) - xhat * (gw * xhat).mean(axis=axes, keepdims=True))
    return gx, (g * xhat).sum(axis=lead), g.sum(axis=lead)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [1, 2])
@pytest.mark.parametrize("affine", [True, False])
def test_values_and_gradients_match_numpy(dtype, k, affine):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((8, 33, 40)) * 3 + 1).astype(dtype)
    shape = x.shape[3 - k :]
    w = rng.standard_normal(shape).astype(dtype) if affine else None
    b = rng.standard_normal(shape).astype(dtype) if affine else None
    g = rng.standard_normal(x.shape).astype(dtype)
    xt = ember.tensor(x, requires_grad=True)
    wt = ember.tensor(w, requires_grad=True) if affine else None
    bt = ember.tensor(b, requires_grad=True) if affine else None
    out = F.layer_norm(xt, shape, wt, bt)
    assert out.grad_fn.name() == "NativeLayerNormBackward0" and out.dtype == xt.dtype
    out.backward(ember.tensor(g))
    x64, g64 = x.astype(np.float64), g.astype(np.float64)
    w64 = None if w is None else w.astype(np.float64)
    ref, _, _ = np_layer_norm(x64, k, w64, None if b is None else b.astype(np.float64))
    gx, gw, gb = np_layer_norm_grads(g64, x64, k, w64)
    tol = 2e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out.detach().numpy(), ref, rtol=tol, atol=tol)
    np.testing.assert_allclose(xt.grad.numpy(), gx, rtol=tol * 10, atol=tol * 10)
    if affine:
        np.testing.assert_allclose(wt.grad.numpy(), gw, rtol=tol * 10, atol=tol * 100)
        np.testing.assert_allclose(bt.grad.numpy(), gb, rtol=tol * 10, atol=tol * 100)


@pytest.mark.parametrize("affine", [True, False])
def test_gradcheck_and_gradgradcheck(affine):
    rng = np.random.default_rng(1)
    x = ember.tensor(rng.standard_normal((3, 2, 4)), requires_grad=True)
    w = ember.tensor(rng.standard_normal((2, 4)), requires_grad=True)
    b = ember.tensor(rng.standard_normal((2, 4)), requires_grad=True)
    if affine:
        fn, inputs = (lambda x, w, b: F.layer_norm(x, (2, 4), w, b, 1e-3)), (x, w, b)
    else:
        fn, inputs = (lambda x: F.layer_norm(x, (4,), eps=1e-3)), (x,)
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


def test_native_layer_norm_statistics_and_saved_values():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 5))
    w = ember.ones(5, dtype=ember.float64, requires_grad=True)
    out, mean, rstd = ember.native_layer_norm(ember.tensor(x, requires_grad=True), [5], w, None, 1e-5)
    _, ref_mean, ref_rstd = np_layer_norm(x, 1)
    assert tuple(mean.shape) == (2, 3, 1) and not mean.requires_grad and not rstd.requires_grad
    np.testing.assert_allclose(mean.numpy(), ref_mean, rtol=1e-12)
    np.testing.assert_allclose(rstd.numpy(), ref_rstd, rtol=1e-12)
    node = out.grad_fn
    assert tuple(node._saved_normalized_shape) == (5,)
    assert node._saved_bias is None and node._saved_weight is w
    np.testing.assert_allclose(node._saved_result1.numpy(), ref_mean, rtol=1e-12)


def test_pytorch_errors():
    expected = r"Given normalized_shape=\[3\], expected input with shape \[\*, 3\], but got input of size\[3, 4\]"
    with pytest.raises(RuntimeError, match=expected):
        F.layer_norm(ember.randn(3, 4), (3,))
    with pytest.raises(RuntimeError, match=r"Expected weight to be of same shape as normalized_shape, but got weight"):
        F.layer_norm(ember.randn(3, 4), (4,), ember.ones(3))
    with pytest.raises(RuntimeError, match="not implemented for 'Long'"):
        F.layer_norm(ember.ones(3, 4, dtype=ember.int64), (4,))


def test_the_weight_gradient_does_not_depend_on_the_thread_count():
    rng = np.random.default_rng(3)
    x = ember.tensor(rng.standard_normal((1000, 64)).astype(np.float32), requires_grad=True)
    w = ember.ones(64, requires_grad=True)
    before = ember.get_num_threads()
    grads = []
    try:
        for threads in (1, 2):
            ember.set_num_threads(threads)
            x.grad = w.grad = None
            F.layer_norm(x, (64,), w).square().sum().backward()
            grads.append((x.grad.numpy().copy(), w.grad.numpy().copy()))
    finally:
        ember.set_num_threads(before)
    np.testing.assert_array_equal(grads[0][0], grads[1][0])
    np.testing.assert_array_equal(grads[0][1], grads[1][1])


def test_half_precision_and_empty_inputs():
    x = ember.randn(4, 8).to(ember.bfloat16).requires_grad_()
    out = F.layer_norm(x, (8,))
    assert out.dtype == ember.bfloat16
    out.sum().backward()
    assert x.grad.dtype == ember.bfloat16
    ref, _, _ = np_layer_norm(x.detach().float().numpy().astype(np.float64), 1)
    np.testing.assert_allclose(out.detach().float().numpy(), ref, atol=0.05)
    empty = ember.zeros(0, 4, requires_grad=True)
    F.layer_norm(empty, (4,), ember.ones(4)).sum().backward()
    assert tuple(empty.grad.shape) == (0, 4)


def test_the_profiler_shows_the_forward_and_the_node():
    x = ember.randn(4, 8, requires_grad=True)
    with ember.profiler.profile() as prof:
        F.layer_norm(x, (8,)).sum().backward()
    names = [event.key for event in prof.key_averages()]
    assert "aten::native_layer_norm" in names and "NativeLayerNormBackward0" in names


def np_group_norm(x, groups, w=None, b=None, eps=1e-5):
    n, c = x.shape[:2]
    g = x.reshape(n, groups, -1)
    xhat = ((g - g.mean(-1, keepdims=True)) / np.sqrt(g.var(-1, keepdims=True) + eps)).reshape(x.shape)
    view = (1, c) + (1,) * (x.ndim - 2)
    return xhat * (1 if w is None else w.reshape(view)) + (0 if b is None else b.reshape(view))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("affine", [True, False])
def test_group_norm_values_and_gradients(dtype, affine):
    rng = np.random.default_rng(4)
    x = (rng.standard_normal((6, 8, 5, 7)) * 2 + 1).astype(dtype)
    w = rng.standard_normal(8).astype(dtype) if affine else None
    b = rng.standard_normal(8).astype(dtype) if affine else None
    xt = ember.tensor(x, requires_grad=True)
    wt = ember.tensor(w, requires_grad=True) if affine else None
    bt = ember.tensor(b, requires_grad=True) if affine else None
    out = F.group_norm(xt, 4, wt, bt)
    assert out.grad_fn.name() == "NativeGroupNormBackward0"
    tol = 2e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out.detach().numpy(), np_group_norm(x.astype(np.float64), 4, w, b), rtol=tol, atol=tol)
    # the fused first-order backward against the composite one (create_graph takes the ops path)
    g = ember.tensor(rng.standard_normal(x.shape).astype(dtype))
    params = [xt] + ([wt, bt] if affine else [])
    fused = ember.autograd.grad(out, params, g)
    composite = ember.autograd.grad(F.group_norm(xt, 4, wt, bt), params, g, create_graph=True)
    for a, c in zip(fused, composite):
        np.testing.assert_allclose(a.numpy(), c.detach().numpy(), rtol=tol * 10, atol=tol * 10)


def test_group_norm_gradcheck_gradgradcheck_and_errors():
    rng = np.random.default_rng(5)
    x = ember.tensor(rng.standard_normal((2, 4, 3)), requires_grad=True)
    w = ember.tensor(rng.standard_normal(4), requires_grad=True)
    b = ember.tensor(rng.standard_normal(4), requires_grad=True)
    fn = lambda x, w, b: F.group_norm(x, 2, w, b, 1e-3)  # noqa: E731
    assert gradcheck(fn, (x, w, b))
    assert gradgradcheck(fn, (x, w, b))
    node = fn(x, w, b).grad_fn
    assert (node._saved_N, node._saved_C, node._saved_HxW, node._saved_group) == (2, 4, 3, 2)
    with pytest.raises(RuntimeError, match="Expected number of channels in input to be divisible by num_groups"):
        F.group_norm(ember.randn(2, 4, 3), 3)
    with pytest.raises(RuntimeError, match="Expected weight to be a vector of size equal to the number of channels"):
        F.group_norm(ember.randn(2, 4, 3), 2, ember.ones(3))


NORM_CALLS = {
    "layer_norm": lambda F, x, p: F.layer_norm(x(2, 4), (4,), p(4), p(4)),
    "group_norm": lambda F, x, p: F.group_norm(x(2, 4, 3), 2, p(4), p(4)),
    "batch_norm train": lambda F, x, p: F.batch_norm(x(3, 4), p(4), p(4), p(4), p(4), training=True),
    "batch_norm eval": lambda F, x, p: F.batch_norm(x(3, 4), p(4), p(4), p(4), p(4)),
    "instance_norm": lambda F, x, p: F.instance_norm(x(2, 4, 3), p(4), p(4), p(4), p(4)),
}


@pytest.mark.parametrize("op", list(NORM_CALLS))
def test_normalisation_parameter_dtypes_follow_pytorch(op):
    """Parameters and statistics of the input's dtype, or float32 ones for a bfloat16/float16 input (the result
    keeps the input's dtype); any other mix raises PyTorch's error instead of promoting silently."""
    call = NORM_CALLS[op]
    f32, f64, bf16, f16 = ember.float32, ember.float64, ember.bfloat16, ember.float16

    def run(x_dtype, p_dtype):
        return call(F, lambda *s: ember.ones(*s, dtype=x_dtype), lambda *s: ember.ones(*s, dtype=p_dtype))

    for x_dtype, p_dtype in [(f32, f32), (f64, f64), (bf16, f32), (f16, f32), (bf16, bf16)]:
        assert run(x_dtype, p_dtype).dtype == x_dtype
    for x_dtype, p_dtype in [(f32, f64), (f32, bf16), (bf16, f64), (f16, bf16), (f64, f16)]:
        with pytest.raises(RuntimeError, match=r"mixed dtype \(CPU\): expect parameter to have scalar type of Float"):
            run(x_dtype, p_dtype)
    with pytest.raises(RuntimeError, match=r"mixed dtype \(CPU\): all inputs must share same datatype"):
        run(f64, f32)


def test_rms_norm_keeps_the_input_dtype_whatever_the_weight():
    x = ember.randn(2, 4, dtype=ember.float64)
    w = ember.rand(4, dtype=ember.float32)
    out = F.rms_norm(x.float(), (4,), w.double())
    assert out.dtype == ember.float32
    np.testing.assert_allclose(out.numpy(), F.rms_norm(x, (4,), w.double()).float().numpy(), rtol=1e-6)
