"""Convolution, pooling and resampling layers without PyTorch: values against numpy, identities between the ops
(a transposed convolution is the adjoint of the convolution, fold(unfold(x)) counts overlaps), gradients with
gradcheck in float64, output shapes, module attributes, and errors."""

import warnings

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import gradcheck, gradgradcheck

rng = np.random.default_rng(1)


def t64(*shape, requires_grad=True):
    return ember.tensor(rng.standard_normal(shape), requires_grad=requires_grad)


def np_(t):
    return t.detach().numpy()


def conv_nd_numpy(x, w, stride, padding, dilation, groups):
    """A direct loop over output positions: x (N, C, *S), w (O, C/g, *k), all options per spatial dim."""
    nd = x.ndim - 2
    xp = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in padding])
    k = w.shape[2:]
    outs = [(xp.shape[2 + i] - dilation[i] * (k[i] - 1) - 1) // stride[i] + 1 for i in range(nd)]
    o, cg = w.shape[0], w.shape[1]
    out = np.zeros((x.shape[0], o, *outs))
    for pos in np.ndindex(*outs):
        window = tuple(
            slice(pos[i] * stride[i], pos[i] * stride[i] + dilation[i] * (k[i] - 1) + 1, dilation[i]) for i in range(nd)
        )
        patch = xp[(slice(None), slice(None)) + window]  # (N, C, *k)
        for g in range(groups):
            og = slice(g * (o // groups), (g + 1) * (o // groups))
            cs = patch[:, g * cg : (g + 1) * cg]
            out[(slice(None), og) + pos] = np.tensordot(cs, w[og], axes=(list(range(1, nd + 2)),) * 2)
    return out


# ---------------------------------------------------------------------------------------------------------------------
# convolutions


def conv2d_by_unfold(x, w, b, stride, padding, dilation):
    """conv2d as unfold, a batched product and a reshape: an independent path to the same values and gradients."""
    n, o = x.shape[0], w.shape[0]
    cols = F.unfold(x, w.shape[2:], dilation, padding, stride)  # (N, K, L)
    out = w.reshape(o, -1).matmul(cols) + b.reshape(1, o, 1)
    h = (x.shape[2] + 2 * padding - dilation * (w.shape[2] - 1) - 1) // stride + 1
    return out.reshape(n, o, h, -1)


@pytest.mark.parametrize("stride, padding, dilation", [(1, 0, 1), (2, 1, 1), (1, 2, 2)])
@pytest.mark.parametrize("dtype", [ember.float64, ember.float32])
def test_conv2d_by_image_blocks_matches_unfold_and_matmul(stride, padding, dilation, dtype):
    # Note [Convolution by image blocks]: a batch whose patches make eight or more L2-sized blocks takes the
    # blocked forward and backward (here one image per block: 16 * 3 * 3 * 30 * 30 patch elements an image).
    x = ember.tensor(rng.standard_normal((9, 16, 30 + 2 * dilation, 32)), dtype=dtype, requires_grad=True)
    w = ember.tensor(rng.standard_normal((5, 16, 3, 3)), dtype=dtype, requires_grad=True)
    b = ember.tensor(rng.standard_normal(5), dtype=dtype, requires_grad=True)
    out = F.conv2d(x, w, b, stride, padding, dilation)
    expected = conv2d_by_unfold(x, w, b, stride, padding, dilation)
    tol = dict(rtol=1e-12, atol=1e-12) if dtype == ember.float64 else dict(rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(np_(out), np_(expected), **tol)
    upstream = ember.tensor(rng.standard_normal(tuple(out.shape)), dtype=dtype)
    got = ember.autograd.grad(out, (x, w, b), upstream)
    want = ember.autograd.grad(expected, (x, w, b), upstream)
    for g, e in zip(got, want):
        np.testing.assert_allclose(np_(g), np_(e), **tol)
    # Only the weight's gradient, and only the input's: each alone is the same as with the other.
    assert ember.allclose(ember.autograd.grad(F.conv2d(x, w, b, stride, padding, dilation), w, upstream)[0], got[1])
    x_only = F.conv2d(x, w.detach(), None, stride, padding, dilation)
    np.testing.assert_allclose(np_(ember.autograd.grad(x_only, x, upstream)[0]), np_(got[0]), **tol)


@pytest.mark.parametrize("height, stride", [(1, 1), (2, 2), (4, 1)])
def test_deep_layers_of_small_images_match_unfold_and_matmul(height, stride):
    # A ResNet's last layers: many channels, a few output positions per image, so blocks of images would
    # be products a few columns wide (Note [Convolution by image blocks]: kMinBlockColumns); the batch
    # takes the one wide product instead, with the same values and gradients.
    x = ember.tensor(rng.standard_normal((32, 64, height, height)), requires_grad=True)
    w = ember.tensor(rng.standard_normal((48, 64, 3, 3)), requires_grad=True)
    b = ember.tensor(rng.standard_normal(48), requires_grad=True)
    out = F.conv2d(x, w, b, stride, 1)
    expected = conv2d_by_unfold(x, w, b, stride, 1, 1)
    np.testing.assert_allclose(np_(out), np_(expected), rtol=1e-4, atol=1e-4)
    upstream = ember.tensor(rng.standard_normal(tuple(out.shape)), dtype=ember.float32)
    for g, e in zip(ember.autograd.grad(out, (x, w, b), upstream), ember.autograd.grad(expected, (x, w, b), upstream)):
        np.testing.assert_allclose(np_(g), np_(e), rtol=1e-4, atol=1e-3)


def test_conv2d_by_image_blocks_is_bitwise_the_same_for_any_thread_count():
    x = ember.tensor(rng.standard_normal((17, 8, 34, 34)), dtype=ember.float32, requires_grad=True)
    w = ember.tensor(rng.standard_normal((6, 8, 3, 3)), dtype=ember.float32, requires_grad=True)
    before, results = ember.get_num_threads(), []
    try:
        for threads in (1, 2, 3):
            ember.set_num_threads(threads)
            out = F.conv2d(x, w, padding=1)
            results.append([out.detach().numpy()] + [g.numpy() for g in ember.autograd.grad(out.sum(), (x, w))])
    finally:
        ember.set_num_threads(before)
    for other in results[1:]:
        for got, expected in zip(other, results[0]):
            np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(
    "stride, padding, dilation, groups", [(1, 0, 1, 1), (2, 1, 2, 2), ((1, 2, 3), (0, 1, 2), 1, 1)]
)
def test_conv3d_matches_numpy_loop(stride, padding, dilation, groups):
    x, w = rng.standard_normal((2, 4, 6, 7, 8)), rng.standard_normal((6, 4 // groups, 2, 3, 2))
    out = F.conv3d(ember.tensor(x), ember.tensor(w), None, stride, padding, dilation, groups)
    ref = conv_nd_numpy(x, w, *[(v,) * 3 if isinstance(v, int) else v for v in (stride, padding, dilation)], groups)
    np.testing.assert_allclose(np_(out), ref, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("stride, padding, dilation, groups", [(1, 0, 1, 1), (3, 2, 2, 2), (2, 1, 3, 4)])
def test_conv1d_matches_numpy_loop(stride, padding, dilation, groups):
    x, w, b = rng.standard_normal((3, 4, 15)), rng.standard_normal((8, 4 // groups, 3)), rng.standard_normal(8)
    out = F.conv1d(ember.tensor(x), ember.tensor(w), ember.tensor(b), stride, padding, dilation, groups)
    ref = conv_nd_numpy(x, w, (stride,), (padding,), (dilation,), groups) + b[:, None]
    np.testing.assert_allclose(np_(out), ref, rtol=1e-10, atol=1e-10)
    assert ember.conv1d is F.conv1d


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_same_and_valid_padding_keep_or_shrink_the_size(nd):
    x = t64(1, 2, *[7, 6, 5][:nd], requires_grad=False)
    w = t64(3, 2, *[4, 3, 2][:nd], requires_grad=False)  # even kernels: the odd padding element goes high
    conv = getattr(F, f"conv{nd}d")
    assert conv(x, w, padding="same", dilation=2).shape == (1, 3, *x.shape[2:])
    # Totals k - 1 = 3, 2, 1 per dim: (1, 2), (1, 1), (0, 1) low/high, in F.pad's last-dim-first order.
    pads = [p for lo_hi in reversed([(1, 2), (1, 1), (0, 1)][:nd]) for p in lo_hi]
    explicit = conv(F.pad(x, pads), w)
    np.testing.assert_allclose(np_(conv(x, w, padding="same")), np_(explicit), rtol=1e-12)
    assert conv(x, w, padding="valid").shape == conv(x, w).shape


TRANSPOSE_CASES = [  # stride, padding, dilation, groups
    (1, 0, 1, 1),
    (2, 1, 1, 2),
    (3, 0, 2, 1),
    ((2, 1), (1, 2), (1, 2), 2),
]


@pytest.mark.parametrize("stride, padding, dilation, groups", TRANSPOSE_CASES)
def test_conv_transpose2d_is_the_adjoint_of_conv2d(stride, padding, dilation, groups):
    # <conv2d(x, w), y> == <x, conv_transpose2d(y, w)> for every x, y: the defining property of the transpose.
    x, w = t64(2, 4, 9, 8, requires_grad=False), t64(6, 4 // groups, 3, 2, requires_grad=False)
    y = F.conv2d(x, w, None, stride, padding, dilation, groups)
    y = ember.tensor(rng.standard_normal(y.shape))
    back = F.conv_transpose2d(y, w, None, stride, padding, 0, groups, dilation)
    crop = tuple(slice(0, s) for s in back.shape)
    lhs = (np_(F.conv2d(x, w, None, stride, padding, dilation, groups)) * np_(y)).sum()
    rhs = (np_(x)[crop] * np_(back)).sum()  # the transpose covers the input up to the last visited element
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10)


def test_conv_transpose_output_shapes_and_output_padding():
    x = t64(2, 4, 5, requires_grad=False)
    for stride, padding, output_padding, dilation in [(1, 0, 0, 1), (2, 1, 1, 1), (3, 2, 2, 2), (2, 0, 1, 3)]:
        w = t64(4, 3, 3, requires_grad=False)
        out = F.conv_transpose1d(x, w, None, stride, padding, output_padding, 1, dilation)
        assert out.shape == (2, 3, (5 - 1) * stride - 2 * padding + dilation * 2 + output_padding + 1)
    assert F.conv_transpose3d(t64(1, 2, 2, 3, 2), t64(2, 5, 2, 2, 2), stride=2).shape == (1, 5, 4, 6, 4)
    assert ember.conv_transpose2d(t64(2, 3, 3), t64(2, 1, 2, 2), stride=2).shape == (1, 6, 6)  # unbatched


def test_conv_gradients():
    for fn, args in [
        (lambda x, w, b: F.conv1d(x, w, b, 2, 1, 2, 2), (t64(2, 4, 9), t64(4, 2, 3), t64(4))),
        (
            lambda x, w, b: F.conv3d(x, w, b, (1, 2, 1), 1, (2, 1, 1), 2),
            (t64(1, 4, 5, 4, 3), t64(2, 2, 2, 2, 2), t64(2)),
        ),
        (lambda x, w, b: F.conv_transpose1d(x, w, b, 2, 1, 1, 2, 1), (t64(2, 4, 5), t64(4, 3, 3), t64(6))),
        (
            lambda x, w, b: F.conv_transpose2d(x, w, b, (2, 1), (0, 1), (1, 0), 1, (1, 2)),
            (t64(1, 2, 3, 4), t64(2, 3, 2, 3), t64(3)),
        ),
        (lambda x, w, b: F.conv_transpose3d(x, w, b, 2, 0, 1, 1, 1), (t64(1, 2, 2, 2, 3), t64(2, 2, 2, 1, 2), t64(2))),
    ]:
        assert gradcheck(fn, args)
    x, w = t64(1, 2, 3, 3), t64(2, 2, 2, 2)
    assert gradgradcheck(lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1), (x, w))


@pytest.mark.parametrize("mode, np_mode", [("reflect", "reflect"), ("replicate", "edge"), ("circular", "wrap")])
def test_conv_padding_modes_pad_as_numpy(mode, np_mode):
    conv = nn.Conv2d(1, 1, 3, padding=(2, 1), padding_mode=mode, bias=False, dtype=ember.float64)
    x = rng.standard_normal((1, 1, 5, 6))
    padded = np.pad(x, ((0, 0), (0, 0), (2, 2), (1, 1)), mode=np_mode)
    ref = conv_nd_numpy(padded, np_(conv.weight), (1, 1), (0, 0), (1, 1), 1)
    np.testing.assert_allclose(np_(conv(ember.tensor(x))), ref, rtol=1e-10)
    assert gradcheck(conv, (ember.tensor(x, requires_grad=True),))
    assert conv.padding_mode == mode and f"padding_mode={mode}" in repr(conv)


def test_conv_modules_shapes_and_attributes():
    c1 = nn.Conv1d(4, 6, 3, stride=2, padding=1, groups=2)
    assert c1.weight.shape == (6, 2, 3) and c1.bias.shape == (6,) and c1.kernel_size == (3,) and c1.stride == (2,)
    assert c1(ember.randn(5, 4, 11)).shape == (5, 6, 6) and c1(ember.randn(4, 11)).shape == (6, 6)
    c3 = nn.Conv3d(2, 4, (1, 2, 3), bias=False)
    assert (
        c3.weight.shape == (4, 2, 1, 2, 3)
        and c3.bias is None
        and c3(ember.randn(1, 2, 3, 4, 5)).shape == (1, 4, 3, 3, 3)
    )
    t2 = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2)
    assert t2.weight.shape == (4, 3, 3, 3) and t2.bias.shape == (6,) and t2.transposed
    assert t2(ember.randn(2, 4, 5, 5)).shape == (2, 6, 10, 10)
    assert t2(ember.randn(2, 4, 5, 5), output_size=(9, 10)).shape == (2, 6, 9, 10)
    assert (
        repr(t2)
        == "ConvTranspose2d(4, 6, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), output_padding=(1, 1), groups=2)"
    )
    assert len(list(nn.ConvTranspose1d(2, 2, 3, bias=False).parameters())) == 1
    assert isinstance(c1, nn.Module) and sorted(c1.state_dict()) == ["bias", "weight"]
    x = ember.randn(2, 4, 11)
    doubled = c1._conv_forward(x, c1.weight * 2, None)  # PyTorch's hook for weight-transforming subclasses
    np.testing.assert_allclose(np_(doubled), 2 * np_(c1(x) - c1.bias.reshape(6, 1)), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------------------------------------------------
# pooling


def pool_numpy(x, k, s, p, reduce, pad_value):
    """2-D pooling by a loop over output positions (floor mode)."""
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=pad_value)
    ho, wo = (xp.shape[2] - k) // s + 1, (xp.shape[3] - k) // s + 1
    out = np.empty(x.shape[:2] + (ho, wo))
    for i in range(ho):
        for j in range(wo):
            out[:, :, i, j] = reduce(xp[:, :, i * s : i * s + k, j * s : j * s + k], axis=(2, 3))
    return out


def test_avg_pool2d_matches_numpy_and_count_include_pad():
    x = rng.standard_normal((2, 3, 7, 8))
    out = F.avg_pool2d(ember.tensor(x), 3, 2, 1)
    np.testing.assert_allclose(np_(out), pool_numpy(x, 3, 2, 1, np.mean, 0.0), rtol=1e-12)
    counts = pool_numpy(np.ones((1, 1, 7, 8)), 3, 2, 1, np.sum, 0.0)
    no_pad = F.avg_pool2d(ember.tensor(x), 3, 2, 1, count_include_pad=False)
    np.testing.assert_allclose(np_(no_pad), pool_numpy(x, 3, 2, 1, np.sum, 0.0) / counts, rtol=1e-12)
    override = F.avg_pool2d(ember.tensor(x), 3, 2, 1, divisor_override=2)
    np.testing.assert_allclose(np_(override), pool_numpy(x, 3, 2, 1, np.sum, 0.0) / 2, rtol=1e-12)


def test_max_pool_indices_point_at_the_maxima():
    x = rng.standard_normal((2, 3, 7, 8))
    values, indices = F.max_pool2d(ember.tensor(x), 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(np_(values), pool_numpy(x, 3, 2, 1, np.max, -np.inf))
    assert indices.dtype == ember.int64
    picked = np.take_along_axis(x.reshape(2, 3, -1), np_(indices).reshape(2, 3, -1), 2)
    np.testing.assert_array_equal(picked.reshape(values.shape), np_(values))
    v1, i1 = nn.MaxPool1d(2, return_indices=True)(ember.tensor([[1.0, 5.0, 3.0, 2.0, 7.0]]))
    assert v1.tolist() == [[5.0, 3.0]] and i1.tolist() == [[1, 2]]
    v3, i3 = F.max_pool3d(ember.tensor(x.reshape(1, 6, 7, 8)), 2, return_indices=True)  # unbatched 3-D
    assert v3.shape == (1, 3, 3, 4) == i3.shape


def test_adaptive_pools_match_numpy_bins():
    x = rng.standard_normal((2, 3, 7, 5))
    avg = F.adaptive_avg_pool2d(ember.tensor(x), (3, 2))
    mx, idx = F.adaptive_max_pool2d(ember.tensor(x), (3, 2), return_indices=True)
    for i in range(3):
        for j in range(2):
            rows = slice(i * 7 // 3, -(-(i + 1) * 7 // 3))
            cols = slice(j * 5 // 2, -(-(j + 1) * 5 // 2))
            np.testing.assert_allclose(np_(avg)[:, :, i, j], x[:, :, rows, cols].mean(axis=(2, 3)), rtol=1e-12)
            np.testing.assert_array_equal(np_(mx)[:, :, i, j], x[:, :, rows, cols].max(axis=(2, 3)))
    assert F.adaptive_avg_pool2d(ember.tensor(x), (None, 2)).shape == (2, 3, 7, 2)
    assert nn.AdaptiveAvgPool1d(4)(ember.tensor(x[0])).shape == (3, 7, 4)
    np.testing.assert_allclose(np_(F.adaptive_avg_pool2d(ember.tensor(x), 1)), x.mean(axis=(2, 3), keepdims=True))


def test_max_unpool_puts_the_maxima_back():
    x = rng.standard_normal((2, 3, 4, 6))
    values, indices = F.max_pool2d(ember.tensor(x), 2, return_indices=True)
    restored = np_(nn.MaxUnpool2d(2)(values, indices))
    kept = restored != 0
    np.testing.assert_array_equal(restored[kept], x[kept])  # the maxima in place, zeros elsewhere
    assert kept.reshape(2, 3, 2, 2, 3, 2).sum(axis=(3, 5)).max() == 1
    pooled_1d = F.max_pool1d(ember.tensor(x[0]), 2, return_indices=True)
    assert F.max_unpool1d(*pooled_1d, 2, output_size=[7]).shape == (3, 4, 7)
    v = ember.tensor(np_(values), requires_grad=True)
    assert gradcheck(lambda v: F.max_unpool2d(v, indices, 2, output_size=(5, 7)), (v,))
    with pytest.raises(RuntimeError, match="Expected shape of indices to be same"):
        F.max_unpool2d(values, indices[:, :1], 2)


def test_channel_shuffle_interleaves_groups():
    x = ember.arange(12.0).reshape(1, 6, 2)
    assert F.channel_shuffle(x, 2)[0, :, 0].tolist() == [0.0, 6.0, 2.0, 8.0, 4.0, 10.0]
    assert nn.ChannelShuffle(3)(x)[0, :, 1].tolist() == [1.0, 5.0, 9.0, 3.0, 7.0, 11.0]
    assert gradcheck(lambda x: F.channel_shuffle(x, 2), (t64(2, 4, 3),))


def test_lp_pool_is_the_window_norm():
    x = np.abs(rng.standard_normal((1, 2, 6, 6)))
    out = F.lp_pool2d(ember.tensor(x), 3.0, 2)
    ref = pool_numpy(x**3, 2, 2, 0, np.sum, 0.0) ** (1 / 3)
    np.testing.assert_allclose(np_(out), ref, rtol=1e-12)


def test_pool_ceil_mode_shapes():
    x = t64(1, 1, 6, 7, requires_grad=False)
    assert F.max_pool2d(x, 3, 2, ceil_mode=True).shape == (1, 1, 3, 3)
    assert F.avg_pool2d(x, 3, 2, ceil_mode=True).shape == (1, 1, 3, 3)
    assert F.avg_pool2d(x, 3, 2, 1, ceil_mode=True).shape == (1, 1, 4, 4)
    assert F.avg_pool1d(t64(2, 9, requires_grad=False), 2, ceil_mode=True).shape == (2, 5)
    assert nn.AvgPool3d(2, ceil_mode=True)(t64(1, 1, 3, 3, 3, requires_grad=False)).shape == (1, 1, 2, 2, 2)


def test_pool_gradients():
    x2, x1, x3 = t64(1, 2, 6, 7), t64(2, 3, 9), t64(1, 1, 4, 5, 4)
    for fn, x in [
        (lambda x: F.avg_pool2d(x, 3, 2, 1, True, False), x2),
        (lambda x: F.avg_pool1d(x, 3, 2, 1, True), x1),
        (lambda x: F.avg_pool3d(x, 2, 1, 1, divisor_override=3), x3),
        (lambda x: F.max_pool1d(x, 3, 2, 1, 2), x1),
        (lambda x: F.max_pool1d(x, 3, 2, 1, 1, True, True)[0], x1),
        (lambda x: F.max_pool2d(x, 3, 2, 1, 1, True, True)[0], x2),
        (lambda x: F.max_pool3d(x, 2, 1), x3),
        (lambda x: F.lp_pool2d(x, 2.0, 2), x2),
        (lambda x: F.adaptive_avg_pool2d(x, (4, 3)), x2),
        (lambda x: F.adaptive_max_pool2d(x, (4, 3)), x2),
        (lambda x: F.adaptive_avg_pool3d(x, 2), x3),
        (lambda x: F.adaptive_max_pool1d(x, 4), x1),
    ]:
        assert gradcheck(fn, (x,))
    assert gradgradcheck(lambda x: F.avg_pool2d(x, 2, 1, 1), (t64(1, 1, 3, 3),))


# ---------------------------------------------------------------------------------------------------------------------
# unfold / fold


def test_unfold_matches_numpy_and_fold_counts_overlaps():
    x = rng.standard_normal((2, 3, 5, 6))
    cols = F.unfold(ember.tensor(x), (2, 3), padding=1, stride=(1, 2))
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    blocks = [xp[:, :, i : i + 2, j : j + 3].reshape(2, -1) for i in range(6) for j in range(0, 6, 2)]
    np.testing.assert_array_equal(np_(cols), np.stack(blocks, -1))
    ones = ember.ones(1, 1, 5, 6, dtype=ember.float64)
    counts = F.fold(F.unfold(ones, 3, padding=1), (5, 6), 3, padding=1)
    refolded = F.fold(F.unfold(ember.tensor(x), 3, padding=1), (5, 6), 3, padding=1)
    np.testing.assert_allclose(np_(refolded), x * np_(counts), rtol=1e-12)
    assert gradcheck(lambda x: F.unfold(x, 2, 2, 1, 2), (t64(1, 2, 5, 5),))
    assert gradcheck(lambda c: F.fold(c, (4, 5), 2, 1, 1, (2, 1)), (t64(1, 8, 18),))
    assert nn.Unfold(2)(t64(3, 4, 4, requires_grad=False)).shape == (12, 9)
    assert nn.Fold(4, 2, stride=2)(t64(1, 12, 4, requires_grad=False)).shape == (1, 3, 4, 4)


def im2col_numpy(x, kernel, dilation, padding, stride):
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = kernel, dilation, padding, stride
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    out_h = (xp.shape[2] - dh * (kh - 1) - 1) // sh + 1
    out_w = (xp.shape[3] - dw * (kw - 1) - 1) // sw + 1
    blocks = [
        xp[:, :, i * sh : i * sh + dh * (kh - 1) + 1 : dh, j * sw : j * sw + dw * (kw - 1) + 1 : dw].reshape(len(x), -1)
        for i in range(out_h)
        for j in range(out_w)
    ]
    return np.stack(blocks, -1)


# Images whose output rows are narrower than 8 take Note [Patch tables]; wider rows Note [Patch rows].
@pytest.mark.parametrize("width", [4, 9, 21])
@pytest.mark.parametrize(
    "args", [((3, 3), (1, 1), (1, 1), (1, 1)), ((3, 2), (2, 1), (1, 2), (2, 1)), ((1, 1), (1, 1), (0, 0), (2, 2))]
)
def test_patch_tables_and_patch_rows_match_numpy(width, args):
    x = rng.standard_normal((3, 4, 6, width))
    cols = F.unfold(ember.tensor(x), *args)
    expected = im2col_numpy(x, *args)
    np.testing.assert_array_equal(np_(cols), expected)
    # fold is unfold's adjoint: <unfold(x), c> = <x, fold(c)>
    c = rng.standard_normal(expected.shape)
    folded = np_(F.fold(ember.tensor(c), (6, width), *args))
    np.testing.assert_allclose((folded * x).sum(), (expected * c).sum(), rtol=1e-12)
    # and the convolution's own patches (forward and both gradients) agree with the same numbers
    w = rng.standard_normal((5, 4, *args[0]))
    out = F.conv2d(ember.tensor(x), ember.tensor(w), None, args[3], args[2], args[1])
    np.testing.assert_allclose(np_(out).reshape(3, 5, -1), np.einsum("ok,nkl->nol", w.reshape(5, -1), expected))
    conv = lambda x, w: F.conv2d(x, w, None, args[3], args[2], args[1])  # noqa: E731
    assert gradcheck(conv, (t64(1, 2, 6, width), t64(2, 2, *args[0])))


@pytest.mark.parametrize("width", [4, 20])  # Note [Patch tables], Note [Patch rows]
@pytest.mark.parametrize("shape", [(0, 3), (2, 0)])
def test_unfold_fold_and_conv_of_empty_batches_and_no_channels(shape, width):
    # as PyTorch: empty results and empty gradients (the backward's empty gradient once reached
    # col2im as an expanded view and failed an internal assertion)
    x = t64(*shape, 5, width)
    cols = F.unfold(x, 3, padding=1)
    assert cols.shape == (shape[0], shape[1] * 9, 5 * width)
    cols.sum().backward()
    assert x.grad.shape == x.shape
    assert F.fold(t64(shape[0], shape[1] * 9, 5 * width), (5, width), 3, padding=1).shape == (*shape, 5, width)
    out = F.conv2d(x, t64(4, shape[1], 3, 3), padding=1)
    assert out.shape == (shape[0], 4, 5, width)


def test_unfold_and_fold_are_one_node_each_as_pytorch():
    # Note [Unfold as im2col]: PyTorch's node names and saved fields, batched and unbatched.
    x = t64(2, 3, 5, 6)
    cols = F.unfold(x, (2, 3), padding=1, stride=2)
    node = cols.grad_fn
    assert node.name() == "Im2ColBackward0" and node.next_functions[0][0].name() == "torch::autograd::AccumulateGrad"
    assert (node._saved_kernel_size, node._saved_dilation, node._saved_padding, node._saved_stride) == (
        (2, 3), (1, 1), (1, 1), (2, 2),
    )  # fmt: skip
    assert (node._saved_self_sym_argsize_minus_2, node._saved_self_sym_argsize_minus_1) == (5, 6)
    image = F.fold(cols, (5, 6), (2, 3), padding=1, stride=2)
    assert image.grad_fn.name() == "Col2ImBackward0" and image.grad_fn._saved_kernel_size == (2, 3)
    assert F.unfold(t64(3, 5, 6), 2).grad_fn.name() == "Im2ColBackward0"
    assert F.fold(t64(12, 20), (5, 6), 2).grad_fn.name() == "Col2ImBackward0"
    # Each is the other's backward: a second backward runs through both.
    assert gradgradcheck(lambda x: F.unfold(x, (2, 3), 2, 1, (2, 1)), (t64(1, 2, 5, 6),))
    assert gradgradcheck(lambda c: F.fold(c, (5, 6), 2, 1, 1, (2, 1)), (t64(8, 21),))


def test_im2col_and_col2im_refuse_bad_geometry():
    # F.unfold/F.fold check their arguments in Python; their C++ ops check again, so a direct call with a
    # zero stride raises rather than dividing by zero.
    x, cols = t64(2, 3, 5, 6), t64(2, 12, 20)
    for call, words in [
        (lambda: ember._C._im2col(x, (2, 2), (1, 1), (0, 0), (0, 1)), "stride should be greater than zero"),
        (lambda: ember._C._im2col(x, (0, 2), (1, 1), (0, 0), (1, 1)), "kernel size should be greater than zero"),
        (lambda: ember._C._col2im(cols, (5, 6), (2, 2), (1, 1), (0, 0), (0, 1)), "stride should be greater than zero"),
        (lambda: ember._C._col2im(cols, (-5, 6), (2, 2), (1, 1), (0, 0), (1, 1)), "output_size should be positive"),
        (lambda: ember._C._col2im(cols, (5, 6), (2, 2), (1, 1), (0, 0), (2, 1)), "has 20 blocks"),
    ]:
        with pytest.raises(RuntimeError, match=words):
            call()
    # the same words from F.unfold / F.fold, whose Python side counts the blocks first
    for call, words in [
        (lambda: F.unfold(x, 2, stride=0), "im2col: stride should be greater than zero"),
        (lambda: F.unfold(x, (2, 0)), "im2col: kernel size should be greater than zero"),
        (lambda: F.fold(cols, (5, 6), 2, dilation=0), "col2im: dilation should be greater than zero"),
        (lambda: F.fold(cols, (5, 6), 2, padding=-1), "col2im: negative padding is not supported"),
    ]:
        with pytest.raises(RuntimeError, match=words):
            call()
    # not a tensor at all: PyTorch's TypeError, naming its im2col / col2im
    with pytest.raises(TypeError, match="im2col\\(\\): argument 'input' \\(position 1\\) must be Tensor, not NoneType"):
        F.unfold(None, 2)
    with pytest.raises(TypeError, match="col2im\\(\\): argument 'input' \\(position 1\\) must be Tensor, not list"):
        F.fold([[1.0]], 4, 2)


@pytest.mark.parametrize("dtype", [ember.float32, ember.float16, ember.bfloat16, ember.int64])
def test_unfold_and_fold_kernels_agree_with_the_composite_path(dtype):
    # Floating point tensors take the C++ kernels; integers the index_select/scatter_add composite, exact
    # for small integers as every dtype here is: both paths must give the same blocks and sums.
    x = ember.tensor(rng.integers(-8, 8, (2, 3, 7, 6))).to(dtype)
    args = ((3, 2), (2, 1), (1, 2), (2, 3))  # kernel, dilation, padding, stride
    cols = F.unfold(x, *args)
    assert cols.dtype == dtype
    expected = F.unfold(x.to(ember.int64), *args)
    np.testing.assert_array_equal(np_(cols.to(ember.int64)), np_(expected))
    summed = F.fold(cols, (7, 6), *args)
    np.testing.assert_array_equal(np_(summed.to(ember.int64)), np_(F.fold(expected, (7, 6), *args)))


def test_conv_transpose2d_with_output_padding_beyond_the_stride():
    # An output_padding of a stride or more (allowed under a larger dilation) adds a row of blocks that
    # col2im's kernel cannot take: the composite path sums them; the adjoint identity holds either way.
    x, w = t64(1, 2, 3, 4), t64(2, 3, 3, 3)
    out = F.conv_transpose2d(x, w, stride=1, dilation=2, output_padding=1)
    assert out.shape == (1, 3, 8, 9)
    y = rng.standard_normal(tuple(out.shape))
    forward = np_(F.conv2d(ember.tensor(y), w.detach(), None, 1, 0, 2))[..., :3, :4]  # the padding's blocks cut
    np.testing.assert_allclose((np_(out) * y).sum(), (np_(x) * forward).sum(), rtol=1e-10)


# ---------------------------------------------------------------------------------------------------------------------
# resampling


def test_interpolate_nearest_and_bilinear_values():
    x = rng.standard_normal((1, 2, 3, 4))
    up = F.interpolate(ember.tensor(x), scale_factor=2)
    np.testing.assert_array_equal(np_(up), x.repeat(2, axis=2).repeat(2, axis=3))
    corners = np_(F.interpolate(ember.tensor(x), size=(7, 9), mode="bilinear", align_corners=True))
    np.testing.assert_allclose(corners[..., ::3, ::8], x[..., :, ::3], rtol=1e-12)  # grid points kept
    same = F.interpolate(ember.tensor(x), size=(3, 4), mode="bicubic", align_corners=False)
    np.testing.assert_allclose(np_(same), x, rtol=1e-12)
    area = F.interpolate(ember.tensor(x), size=(1, 2), mode="area")
    np.testing.assert_allclose(np_(area), x.reshape(1, 2, 1, 3, 2, 2).mean(axis=(3, 5)), rtol=1e-12)
    linear = F.interpolate(ember.tensor([[[0.0, 1.0, 2.0]]]), size=5, mode="linear", align_corners=True)
    np.testing.assert_allclose(np_(linear), [[[0.0, 0.5, 1.0, 1.5, 2.0]]])


@pytest.mark.parametrize(
    "mode, shape",
    [
        ("nearest", (1, 2, 4, 3)),
        ("nearest-exact", (1, 2, 5)),
        ("linear", (1, 2, 5)),
        ("bilinear", (1, 1, 3, 4)),
        ("bicubic", (1, 1, 3, 4)),
        ("trilinear", (1, 1, 2, 3, 2)),
        ("area", (1, 2, 6, 4)),
    ],
)
def test_interpolate_gradients_and_shapes(mode, shape):
    nd = len(shape) - 2
    size = [3, 5, 4][:nd] if mode != "area" else [3, 2]
    for kwargs in (dict(size=size), dict(scale_factor=1.5)):
        if mode in ("linear", "bilinear", "bicubic", "trilinear"):
            kwargs["align_corners"] = bool(len(kwargs) % 2)
        out = F.interpolate(t64(*shape, requires_grad=False), mode=mode, **kwargs)
        expected = size if "size" in kwargs else [int(s * 1.5) for s in shape[2:]]
        assert tuple(out.shape) == (*shape[:2], *expected)
        assert gradcheck(lambda x, kwargs=kwargs: F.interpolate(x, mode=mode, **kwargs), (t64(*shape),))


def test_upsample_modules_and_deprecated_aliases():
    x = t64(1, 2, 3, 4, requires_grad=False)
    assert nn.Upsample(scale_factor=2, mode="nearest")(x).shape == (1, 2, 6, 8)
    assert repr(nn.Upsample(size=(5, 5), mode="bilinear")) == "Upsample(size=(5, 5), mode='bilinear')"
    bilinear = nn.UpsamplingBilinear2d(scale_factor=2)(x)
    np.testing.assert_allclose(
        np_(bilinear), np_(F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True))
    )
    assert nn.UpsamplingNearest2d(size=(4, 4))(x).shape == (1, 2, 4, 4)
    for fn in (F.upsample, F.upsample_nearest, F.upsample_bilinear):
        with pytest.warns(UserWarning, match="is deprecated. Use `nn.functional.interpolate` instead"):
            assert fn(x, scale_factor=2).shape == (1, 2, 6, 8)


def test_pixel_shuffle_round_trip():
    x = t64(2, 8, 3, 5, requires_grad=False)
    y = F.pixel_shuffle(x, 2)
    assert y.shape == (2, 2, 6, 10)
    assert np_(y)[0, 1, 3, 5] == np_(x)[0, 4 + 2 * 1 + 1, 1, 2]  # channel c * r^2 + i * r + j -> (h * r + i, w * r + j)
    np.testing.assert_array_equal(np_(F.pixel_unshuffle(y, 2)), np_(x))
    np.testing.assert_array_equal(np_(nn.PixelUnshuffle(2)(nn.PixelShuffle(2)(x))), np_(x))
    assert ember.pixel_unshuffle(ember.pixel_shuffle(x, 2), 2).shape == x.shape
    assert gradcheck(lambda x: F.pixel_shuffle(x, 2), (t64(1, 4, 2, 3),))


def test_identity_affine_grid_samples_the_input_back():
    x = t64(2, 3, 4, 5, requires_grad=False)
    theta = ember.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]] * 2, dtype=ember.float64)
    for align_corners in (True, False):
        grid = F.affine_grid(theta, x.shape, align_corners=align_corners)
        assert grid.shape == (2, 4, 5, 2)
        for mode in ("bilinear", "nearest"):
            out = F.grid_sample(x, grid, mode=mode, align_corners=align_corners)
            np.testing.assert_allclose(np_(out), np_(x), rtol=1e-12, atol=1e-12)
    shifted = F.grid_sample(x, F.affine_grid(theta, x.shape, True) + 10.0, align_corners=True)
    assert np.all(np_(shifted) == 0)  # all points outside, zeros padding


def test_grid_sample_and_affine_grid_gradients():
    x = t64(1, 2, 4, 5)
    grid = ember.tensor(rng.uniform(-1.2, 1.2, (1, 3, 3, 2)), requires_grad=True)
    for padding_mode in ("zeros", "border", "reflection"):
        for kind in ("bilinear", "bicubic"):
            assert gradcheck(lambda x, g, p=padding_mode, k=kind: F.grid_sample(x, g, k, p, False), (x, grid))
    volume = t64(1, 1, 2, 3, 3)
    points = ember.tensor(rng.uniform(-1.2, 1.2, (1, 2, 2, 2, 3)), requires_grad=True)
    assert gradcheck(lambda x, g: F.grid_sample(x, g, "bilinear", "zeros", True), (volume, points))
    theta = t64(2, 2, 3)
    assert gradcheck(lambda t: F.affine_grid(t, (2, 1, 3, 4), align_corners=False), (theta,))
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        F.affine_grid(theta, (2, 1, 3, 4))


# ---------------------------------------------------------------------------------------------------------------------
# errors and exports


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: F.conv1d(ember.ones(1, 2, 5), ember.ones(3, 3, 2)), RuntimeError, "to have 3 channels"),
        (lambda: F.conv3d(ember.ones(2, 4), ember.ones(1, 1, 1, 1, 1)), RuntimeError, "Expected 4D (unbatched)"),
        (lambda: F.conv3d(ember.ones(1, 1, 2, 2, 2), ember.ones(1, 1, 3, 3, 3)), RuntimeError, "Kernel size can't"),
        (lambda: F.conv1d(ember.ones(1, 1, 5), ember.ones(1, 1, 2), padding="full"), RuntimeError, "Invalid padding"),
        (
            lambda: F.conv_transpose1d(ember.ones(1, 2, 5), ember.ones(2, 1, 3), stride=2, output_padding=2),
            RuntimeError,
            "output padding must be smaller than either stride or dilation",
        ),
        (lambda: nn.Conv3d(3, 3, 3, groups=0), ValueError, "groups must be a positive integer"),
        (lambda: nn.ConvTranspose1d(3, 3, 3, padding_mode="circular"), ValueError, 'Only "zeros" padding mode'),
        (
            lambda: nn.ConvTranspose2d(2, 2, 3, stride=2)(ember.ones(1, 2, 4, 4), output_size=(1, 2, 3)),
            ValueError,
            "output_size must have 2 or 4 elements",
        ),
        (lambda: F.avg_pool2d(ember.ones(1, 1, 4, 4), 2, divisor_override=0), RuntimeError, "divisor must be not zero"),
        (lambda: F.avg_pool2d(ember.ones(4, 4), 2), RuntimeError, "Expected 3D or 4D"),
        (lambda: F.max_pool3d(ember.ones(1, 1, 4, 4, 4), 0), RuntimeError, "kernel size should be greater than zero"),
        (lambda: F.adaptive_avg_pool2d(ember.ones(1, 1, 4, 4), (1, 2, 3)), RuntimeError, "output_size must be 2"),
        (lambda: F.adaptive_max_pool1d(ember.ones(4), 2), RuntimeError, "Expected 2D or 3D tensor"),
        (lambda: F.unfold(ember.ones(4, 4), 2), RuntimeError, "Only 3D or 4D input"),
        (lambda: F.unfold(ember.ones(1, 1, 2, 2), 3), RuntimeError, "its components must be at least one"),
        (
            lambda: F.interpolate(ember.ones(1, 1, 4, 4), scale_factor=2, antialias=True),
            ValueError,
            "Anti-alias option",
        ),
        (lambda: F.interpolate(ember.ones(1, 1, 4), scale_factor=2, mode="cubic"), NotImplementedError, "(got cubic)"),
        (lambda: F.interpolate(ember.ones(4, 4), scale_factor=2), NotImplementedError, "(got 2D)"),
        (lambda: F.interpolate(ember.ones(1, 1, 4), size=0), RuntimeError, "sizes should be greater than 0"),
        (lambda: F.affine_grid(ember.ones(1, 2, 3), (1, 1, 4), False), NotImplementedError, "4D and 5D sizes"),
        (lambda: F.affine_grid(ember.ones(1, 2, 3), (1, 1, 0, 4), False), ValueError, "positive output size"),
        (
            lambda: F.grid_sample(ember.ones(1, 1, 2, 2, 2), ember.ones(1, 1, 1, 1, 3), mode="bicubic"),
            RuntimeError,
            "bicubic interpolation only supports 4D input",
        ),
        (
            lambda: F.grid_sample(ember.ones(1, 1, 2, 2), ember.ones(1, 1, 1, 3), align_corners=False),
            RuntimeError,
            "expected grid to have size 2 in last dimension",
        ),
        (lambda: F.pixel_shuffle(ember.ones(1, 4, 2, 2), 0), RuntimeError, "positive upscale_factor"),
    ],
)
def test_errors(call, error, words):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error) as info:
            call()
    assert words in str(info.value)


def test_functional_and_module_exports():
    names = [
        "conv1d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "unfold", "fold",
        "max_pool1d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d", "lp_pool1d", "lp_pool2d",
        "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d",
        "interpolate", "upsample", "pixel_shuffle", "pixel_unshuffle", "affine_grid", "grid_sample",
        "max_unpool1d", "max_unpool2d", "max_unpool3d", "channel_shuffle", "max_pool2d_with_indices",
    ]  # fmt: skip
    for name in names:
        assert name in F.__all__ and callable(getattr(F, name)) and getattr(F, name).__doc__
    modules = [
        "Conv1d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "MaxPool1d", "MaxPool3d",
        "AvgPool1d", "AvgPool2d", "AvgPool3d", "LPPool1d", "LPPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d",
        "Fold", "Unfold", "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "PixelShuffle", "PixelUnshuffle",
        "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d", "ChannelShuffle",
    ]  # fmt: skip
    for name in modules:
        assert name in nn.__all__ and issubclass(getattr(nn, name), nn.Module)
