"""The torch-level ATen ops of ember._torch_level_aten (the *_copy view ops, convolution, native_* norms,
grid_sampler, pools with indices) and nn's linear_cross_entropy / LinearCrossEntropyLoss / factory_kwargs /
assert_int_or_pair: against numpy and ember's own ops, by gradcheck in float64, and against PyTorch (values,
returned shapes and dtypes, error words) when it is importable."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember import _torch_level_aten as A
from ember.autograd import gradcheck

RNG = np.random.default_rng(0)
X = RNG.normal(size=(3, 4))
Y = RNG.normal(size=(2, 3, 4, 5))


def t64(a, requires_grad=False):
    return ember.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


# (name, fn(module, x), numpy reference of x) for the *_copy ops of a single tensor result
COPIES = [
    ("alias_copy", lambda m, x: m.alias_copy(x), lambda a: a),
    ("diagonal_copy", lambda m, x: m.diagonal_copy(x, 1, 1, 0), lambda a: np.diagonal(a, 1, 1, 0)),
    ("expand_copy", lambda m, x: m.expand_copy(x, (2, -1, -1)), lambda a: np.broadcast_to(a, (2, 3, 4))),
    ("permute_copy", lambda m, x: m.permute_copy(x, (1, 0)), lambda a: a.T),
    ("select_copy", lambda m, x: m.select_copy(x, 1, -1), lambda a: a[:, -1]),
    ("slice_copy", lambda m, x: m.slice_copy(x, 1, -3, None, 2), lambda a: a[:, -3::2]),
    ("slice_copy_clamped", lambda m, x: m.slice_copy(x, 0, 1, 100), lambda a: a[1:100]),
    ("squeeze_copy", lambda m, x: m.squeeze_copy(x[None, :, None]), lambda a: a),
    ("squeeze_copy_dim", lambda m, x: m.squeeze_copy(x[None, :, None], 2), lambda a: a[None]),
    ("squeeze_copy_dims", lambda m, x: m.squeeze_copy(x[None, :, None], (0, 2)), lambda a: a),
    ("t_copy", lambda m, x: m.t_copy(x), lambda a: a.T),
    ("transpose_copy", lambda m, x: m.transpose_copy(x, 1, 0), lambda a: a.T),
    (
        "unfold_copy",
        lambda m, x: m.unfold_copy(x, 1, 2, 1),
        lambda a: np.lib.stride_tricks.sliding_window_view(a, 2, axis=1),
    ),
    ("unsqueeze_copy", lambda m, x: m.unsqueeze_copy(x, -1), lambda a: a[..., None]),
    ("view_copy", lambda m, x: m.view_copy(x.t(), (2, -1)), lambda a: a.T.reshape(2, -1)),
]
LISTS = [
    ("split_copy", lambda m, x: m.split_copy(x, 3, 1), lambda a: np.split(a, [3], 1)),
    ("split_with_sizes_copy", lambda m, x: m.split_with_sizes_copy(x, [1, 3], 1), lambda a: np.split(a, [1], 1)),
    ("unbind_copy", lambda m, x: m.unbind_copy(x, 1), lambda a: [a[:, i] for i in range(4)]),
]


@pytest.mark.parametrize("name,fn,ref", COPIES, ids=[c[0] for c in COPIES])
def test_copy_ops(name, fn, ref):
    x = t64(X, requires_grad=True)
    result = fn(A, x)
    np.testing.assert_array_equal(result.detach().numpy(), ref(X))
    assert result.is_contiguous() and result.requires_grad
    assert result.data_ptr() != x.data_ptr()  # a copy, never a view of input
    assert gradcheck(lambda x: fn(A, x), (x,))
    out = ember.empty(0, dtype=ember.float64)  # resized by out=
    assert fn(_WithOut(out), x.detach()) is out
    np.testing.assert_array_equal(out.numpy(), ref(X))


class _WithOut:
    """Calls the module's op with out= appended (to test every op's out= with the same case table)."""

    def __init__(self, out):
        self.out = out

    def __getattr__(self, name):
        return lambda *a, **k: getattr(A, name)(*a, **k, out=self.out)


@pytest.mark.parametrize("name,fn,ref", LISTS, ids=[c[0] for c in LISTS])
def test_copy_ops_returning_lists(name, fn, ref):
    x = t64(X, requires_grad=True)
    result = fn(A, x)
    assert isinstance(result, tuple) and len(result) == len(ref(X))
    for r, expected in zip(result, ref(X)):
        np.testing.assert_array_equal(r.detach().numpy(), expected)
        assert r.is_contiguous() and r.data_ptr() != x.data_ptr()
    assert gradcheck(lambda x: fn(A, x), (x,))
    outs = [ember.empty(*e.shape, dtype=ember.float64) for e in ref(X)]
    assert fn(_WithOut(outs), x.detach()) is None
    for o, expected in zip(outs, ref(X)):
        np.testing.assert_array_equal(o.numpy(), expected)


def test_detach_and_view_dtype_copies():
    x = t64(X, requires_grad=True)
    d = A.detach_copy(x)
    assert not d.requires_grad and d.data_ptr() != x.data_ptr()
    np.testing.assert_array_equal(d.numpy(), X)
    v = A.view_copy(x, ember.int64)
    assert v.dtype == ember.int64 and np.array_equal(v.numpy(), X.view(np.int64))
    assert A.view_copy(x, ember.float64).requires_grad
    assert ember.equal(A.view_copy(x, dtype=ember.int64), v) and A.view_copy(x, size=[12]).shape == (12,)
    with pytest.raises(TypeError):
        A.view_copy(x)


def test_copy_errors():
    x = ember.randn(3, 4)
    with pytest.raises(RuntimeError, match="slice step must be positive"):
        A.slice_copy(x, 1, 0, 4, -1)
    with pytest.raises(IndexError, match="Dimension out of range"):
        A.slice_copy(x, 2)
    with pytest.raises(RuntimeError):
        A.permute_copy(x, (0,))
    with pytest.raises(RuntimeError):
        A.split_with_sizes_copy(x, [1, 2], 1)


# ------------------------------------------------------------------------------------------- convolution
CONVS = [
    ("conv2d", (2, 3, 4, 5), (2, 3, 2, 2), False, dict(stride=[1, 2], padding=[1, 0], dilation=[1, 1], groups=1)),
    ("conv1d_groups", (3, 4, 5), (4, 2, 2), False, dict(stride=[1], padding=[1], dilation=[1], groups=2)),
    (
        "conv3d",
        (1, 2, 3, 4, 4),
        (2, 2, 2, 2, 2),
        False,
        dict(stride=[1, 1, 1], padding=[0, 1, 0], dilation=[1] * 3, groups=1),
    ),
    (
        "conv_t2d",
        (2, 3, 4, 5),
        (3, 2, 2, 2),
        True,
        dict(stride=[2, 1], padding=[1, 0], dilation=[1, 2], groups=1, output_padding=[1, 0]),
    ),
    ("conv_t1d", (2, 2, 5), (2, 3, 3), True, dict(stride=[2], padding=[0], dilation=[1], groups=1, output_padding=[1])),
]


def _conv_call(m, x, w, b, transposed, kw):
    return m.convolution(
        x,
        w,
        b,
        kw["stride"],
        kw["padding"],
        kw["dilation"],
        transposed,
        kw.get("output_padding", [0] * (w.dim() - 2)),
        kw["groups"],
    )


@pytest.mark.parametrize("name,xs,ws,transposed,kw", CONVS, ids=[c[0] for c in CONVS])
def test_convolution_is_the_functional_conv(name, xs, ws, transposed, kw):
    rng = np.random.default_rng(1)
    x, w = t64(rng.normal(size=xs), True), t64(rng.normal(size=ws), True)
    b = t64(rng.normal(size=ws[1] * kw["groups"] if transposed else ws[0]), True)
    n = len(ws) - 2
    if transposed:
        fn = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[n - 1]
        expected = fn(x, w, b, kw["stride"], kw["padding"], kw["output_padding"], kw["groups"], kw["dilation"])
    else:
        fn = (F.conv1d, F.conv2d, F.conv3d)[n - 1]
        expected = fn(x, w, b, kw["stride"], kw["padding"], kw["dilation"], kw["groups"])
    ours = _conv_call(A, x, w, b, transposed, kw)
    np.testing.assert_allclose(ours.detach().numpy(), expected.detach().numpy())
    assert gradcheck(lambda x, w, b: _conv_call(A, x, w, b, transposed, kw), (x, w, b))


def test_convolution_errors():
    with pytest.raises(RuntimeError, match="Expected 4-dimensional input for 4-dimensional weight"):
        A.convolution(ember.randn(3, 5, 5), ember.randn(2, 3, 2, 2), None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1)


# ---------------------------------------------------------------------------------------- normalizations
def test_native_layer_norm():
    x, w, b = t64(Y, True), t64(RNG.normal(size=(4, 5)), True), t64(RNG.normal(size=(4, 5)), True)
    out, mean, rstd = A.native_layer_norm(x, [4, 5], w, b, 1e-5)
    np.testing.assert_allclose(out.detach().numpy(), F.layer_norm(x, [4, 5], w, b, 1e-5).detach().numpy())
    assert mean.shape == (2, 3, 1, 1) and rstd.shape == (2, 3, 1, 1) and not mean.requires_grad
    np.testing.assert_allclose(mean.numpy(), Y.mean((2, 3), keepdims=True))
    np.testing.assert_allclose(rstd.numpy(), 1 / np.sqrt(Y.var((2, 3), keepdims=True) + 1e-5))
    assert gradcheck(lambda x, w, b: A.native_layer_norm(x, [5], w[0], b[0], 1e-5)[0], (x, w, b))


def test_native_batch_norm():
    x, w, b = t64(Y, True), t64(RNG.normal(size=3), True), t64(RNG.normal(size=3), True)
    rm, rv = ember.zeros(3, dtype=ember.float64), ember.ones(3, dtype=ember.float64)
    out, mean, invstd = A.native_batch_norm(x, w, b, rm, rv, True, 0.1, 1e-5)
    np.testing.assert_allclose(mean.numpy(), Y.mean((0, 2, 3)))
    np.testing.assert_allclose(invstd.numpy(), 1 / np.sqrt(Y.var((0, 2, 3)) + 1e-5))
    np.testing.assert_allclose(rm.numpy(), 0.1 * Y.mean((0, 2, 3)))  # running stats updated
    normed = (Y - Y.mean((0, 2, 3), keepdims=True)) / np.sqrt(Y.var((0, 2, 3), keepdims=True) + 1e-5)
    expected = normed * w.detach().numpy()[:, None, None] + b.detach().numpy()[:, None, None]
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-6)
    out, mean, invstd = A.native_batch_norm(x, None, None, rm, rv, False, 0.1, 1e-5)
    assert mean.shape == (0,) and invstd.shape == (0,)
    assert gradcheck(lambda x, w, b: A.native_batch_norm(x, w, b, None, None, True, 0.1, 1e-5)[0], (x, w, b))
    with pytest.raises(RuntimeError, match="running_mean"):
        A.native_batch_norm(x, None, None, None, None, False, 0.1, 1e-5)


def test_native_group_norm():
    x = t64(Y.reshape(2, 6, 10), True)
    w, b = t64(RNG.normal(size=6), True), t64(RNG.normal(size=6), True)
    out, mean, rstd = A.native_group_norm(x, w, b, 2, 6, 10, 3, 1e-5)
    np.testing.assert_allclose(out.detach().numpy(), F.group_norm(x, 3, w, b, 1e-5).detach().numpy())
    grouped = Y.reshape(2, 3, -1)
    assert mean.shape == (2, 3) and mean.requires_grad
    np.testing.assert_allclose(mean.detach().numpy(), grouped.mean(-1))
    np.testing.assert_allclose(rstd.detach().numpy(), 1 / np.sqrt(grouped.var(-1) + 1e-5))
    assert gradcheck(lambda x, w, b: A.native_group_norm(x, w, b, 2, 6, 10, 3, 1e-5), (x, w, b))
    with pytest.raises(RuntimeError, match="N \\* C \\* HxW"):
        A.native_group_norm(x, None, None, 2, 6, 4, 3, 1e-5)
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        A.native_group_norm(x, None, None, 2, 6, 10, 4, 1e-5)


def test_native_dropout():
    x = ember.ones(2000, requires_grad=True)
    out, mask = A.native_dropout(x, 0.25, True)
    assert mask.dtype == ember.bool and 0.65 < mask.float().mean().item() < 0.85
    np.testing.assert_allclose(out.detach().numpy(), mask.numpy() / 0.75, rtol=1e-6)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), mask.numpy() / 0.75, rtol=1e-6)
    out, mask = A.native_dropout(x, 0.25, None)  # None trains, as PyTorch
    assert not bool(mask.all())
    out, mask = A.native_dropout(x, 0.5, False)
    assert bool(mask.all()) and ember.equal(out, x) and out.data_ptr() != x.data_ptr()
    out, mask = A.native_dropout(x, 1.0, True)
    assert not bool(mask.any()) and not bool(out.any())


def test_channel_shuffle_and_norms():
    x = t64(Y.reshape(2, 6, 10), True)
    np.testing.assert_array_equal(
        A.native_channel_shuffle(x, 3).detach().numpy(),
        Y.reshape(2, 3, 2, 10).transpose(0, 2, 1, 3).reshape(2, 6, 10),
    )
    np.testing.assert_allclose(A.native_norm(t64(X)).item(), np.linalg.norm(X))
    np.testing.assert_allclose(A.native_norm(t64(X), 3).item(), (np.abs(X) ** 3).sum() ** (1 / 3))
    np.testing.assert_allclose(A.native_norm(t64(X), None, [1], True, None).numpy(), np.linalg.norm(X, axis=1)[:, None])
    v = t64(Y, True)
    for dim in (0, 1, 3, -2):
        keep = dim % 4
        expected = np.sqrt((Y**2).sum(tuple(i for i in range(4) if i != keep), keepdims=True))
        np.testing.assert_allclose(A.norm_except_dim(v, 2, dim).detach().numpy(), expected)
    assert A.norm_except_dim(v, 2, -1).dim() == 0
    assert gradcheck(lambda v: A.norm_except_dim(v, 3, 1), (v,))
    assert gradcheck(lambda v: A.native_norm(v, 2), (v,))


# ---------------------------------------------------------------------------------------- sampling, pools
def test_grid_sampler_is_grid_sample():
    x = t64(Y, True)
    grid = t64(RNG.uniform(-1.2, 1.2, size=(2, 3, 3, 2)), True)
    for interp, mode in enumerate(["bilinear", "nearest"]):
        for pad, padding in enumerate(["zeros", "border", "reflection"]):
            for align in (False, True):
                ours = A.grid_sampler(x, grid, interp, pad, align)
                expected = F.grid_sample(x, grid, mode, padding, align)
                np.testing.assert_array_equal(ours.detach().numpy(), expected.detach().numpy())
    assert gradcheck(lambda x, g: A.grid_sampler_2d(x, g, 0, 1, False), (x, grid))
    volume = t64(RNG.normal(size=(1, 2, 3, 4, 5)), True)
    grid3 = t64(RNG.uniform(-1, 1, size=(1, 2, 2, 2, 3)), True)
    assert A.grid_sampler_3d(volume, grid3, 0, 0, True).shape == (1, 2, 2, 2, 2)
    assert gradcheck(lambda v, g: A.grid_sampler(v, g, 0, 2, False), (volume, grid3))
    with pytest.raises(RuntimeError, match="expected 4D input and grid with same number of dimensions"):
        A.grid_sampler_2d(volume, grid3, 0, 0, False)
    with pytest.raises(RuntimeError, match="bicubic interpolation only supports 4D input"):
        A.grid_sampler(volume, grid3, 2, 0, False)
    with pytest.raises(RuntimeError, match="same batch size"):
        A.grid_sampler(x[:1], grid, 0, 0, False)


def test_grid_sampler_bicubic():
    # at pixel centres (align_corners=True, whole positions) cubic convolution gives the pixels back
    img = t64(RNG.normal(size=(1, 2, 4, 5)), True)
    ys, xs = np.meshgrid(np.arange(4), np.arange(5), indexing="ij")
    grid = t64(np.stack([xs / 4 * 2 - 1, ys / 3 * 2 - 1], -1)[None])
    for pad in range(3):
        np.testing.assert_allclose(
            A.grid_sampler(img, grid, 2, pad, True).detach().numpy(), img.detach().numpy(), atol=1e-12
        )
    points = t64(RNG.uniform(-1.3, 1.3, size=(1, 3, 2, 2)), True)
    for pad in range(3):
        assert gradcheck(lambda x, g, p=pad: A.grid_sampler_2d(x, g, 2, p, False), (img, points))


def test_affine_grid_and_pools():
    theta = t64(RNG.normal(size=(2, 2, 3)), True)
    np.testing.assert_array_equal(
        A.affine_grid_generator(theta, [2, 3, 4, 5], False).detach().numpy(),
        F.affine_grid(theta, [2, 3, 4, 5], False).detach().numpy(),
    )
    assert gradcheck(lambda th: A.affine_grid_generator(th, [2, 1, 3, 2], True), (theta,))
    x = t64(RNG.normal(size=(2, 3, 8)), True)
    values, indices = A.adaptive_max_pool1d(x, 3)
    assert indices.dtype == ember.int64 and values.shape == (2, 3, 3)
    np.testing.assert_array_equal(values.detach().numpy(), np.take_along_axis(x.detach().numpy(), indices.numpy(), -1))
    values, indices = A.max_pool1d_with_indices(x, 2)
    np.testing.assert_array_equal(values.detach().numpy(), x.detach().numpy().reshape(2, 3, 4, 2).max(-1))
    values, _ = A.max_pool1d_with_indices(x, 3, 2, 1, 1, True)
    assert values.shape == F.max_pool1d(x, 3, 2, 1, 1, True).shape
    assert gradcheck(lambda x: A.max_pool1d_with_indices(x, 3, [], 1)[0], (x,))
    with pytest.raises(RuntimeError, match="Expected 2 to 3 dimensions"):
        A.adaptive_max_pool1d(ember.randn(2, 3, 4, 5), 2)


# ------------------------------------------------------------------------------------------------- nn
def test_linear_cross_entropy():
    x, w = t64(RNG.normal(size=(4, 3)), True), t64(RNG.normal(size=(5, 3)), True)
    bias = t64(RNG.normal(size=5), True)
    target = ember.tensor([0, 4, 2, 1])
    for kw in [{}, {"reduction": "sum", "label_smoothing": 0.1}, {"ignore_index": 2, "reduction": "none"}]:
        expected = F.cross_entropy(F.linear(x, w, bias), target, **kw)
        ours = F.linear_cross_entropy(x, w, target, linear_bias=bias, **kw)
        np.testing.assert_allclose(ours.detach().numpy(), expected.detach().numpy())
    assert gradcheck(lambda x, w, b: F.linear_cross_entropy(x, w, target, linear_bias=b), (x, w, bias))
    # K-dimensional: weight (C, d1, in) gives logits (N, C, d1)
    wk = t64(RNG.normal(size=(5, 2, 3)), True)
    tk = ember.tensor([[0, 1], [4, 4], [2, 3], [1, 0]])
    expected = F.cross_entropy(F.linear(x, wk.reshape(10, 3)).reshape(4, 5, 2), tk)
    np.testing.assert_allclose(F.linear_cross_entropy(x, wk, tk).item(), expected.item())
    probs = F.softmax(t64(RNG.normal(size=(4, 5))), -1)
    with pytest.raises(RuntimeError, match="ignore_index cannot be specified when target contains probabilities"):
        F.linear_cross_entropy(x, w, probs, ignore_index=1)
    with pytest.raises(RuntimeError, match="expected input with dimensionality 1 or 2"):
        F.linear_cross_entropy(x[None], w, target)
    with pytest.raises(RuntimeError, match="in_features"):
        F.linear_cross_entropy(x, w[:, :2], target)


def test_linear_cross_entropy_loss_module():
    ember.manual_seed(0)
    m = ember.nn.LinearCrossEntropyLoss(3, 5, out_features=(2,), bias=True, reduction="sum")
    assert m.linear.weight.shape == (10, 3) and m.linear.bias.shape == (10,)
    x, target = ember.randn(4, 3), ember.randint(0, 5, (4, 2))
    logits = F.linear(x, m.linear.weight, m.linear.bias).reshape(4, 5, 2)
    np.testing.assert_allclose(m(x, target).item(), F.cross_entropy(logits, target, reduction="sum").item(), rtol=1e-6)
    assert "num_classes=5" in repr(m) and "out_features=(2,)" in repr(m)
    with pytest.raises(RuntimeError, match="expected weight shape to be"):
        ember.nn.LinearCrossEntropyLoss(3, 5, weight=ember.ones(4))
    with pytest.raises(RuntimeError, match="label_smoothing to be in range"):
        ember.nn.LinearCrossEntropyLoss(3, 5, label_smoothing=2.0)


def test_factory_kwargs_and_assert_int_or_pair():
    fk = ember.nn.factory_kwargs
    assert fk(None) == {} and fk({"device": "cpu", "dtype": None}) == {"device": "cpu", "dtype": None}
    assert fk({"dtype": ember.float64, "factory_kwargs": {"device": "cpu"}}) == {
        "dtype": ember.float64,
        "device": "cpu",
    }
    with pytest.raises(TypeError, match="unexpected kwargs"):
        fk({"foo": 1})
    with pytest.raises(TypeError, match="device specified twice"):
        fk({"device": "cpu", "factory_kwargs": {"device": "cpu"}})
    F.assert_int_or_pair(3, "k", "{} bad")
    F.assert_int_or_pair([1, 2], "k", "{} bad")
    with pytest.raises(AssertionError, match="k must be"):
        F.assert_int_or_pair([1, 2, 3], "k", "{} must be an int or a pair")


# ---------------------------------------------------------------------------------------------- torch
class _Ember:
    """ember as torch is called in the parity cases: the new ops from _torch_level_aten (not yet exported by
    ember's __init__), everything else from ember."""

    def __getattr__(self, name):
        return getattr(A, name) if name in A.__all__ else getattr(ember, name)


def _describe(r):
    rs = r if isinstance(r, (tuple, list)) else (r,)
    return [(tuple(t.shape), str(t.dtype).split(".")[-1]) for t in rs], rs


TORCH_CASES = [
    *[(name, fn, (X,)) for name, fn, _ in COPIES],
    *[(name, fn, (X,)) for name, fn, _ in LISTS],
    ("detach_copy", lambda m, x: m.detach_copy(x), (X,)),
    ("view_copy_dtype", lambda m, x: m.view_copy(x.float(), m.int32), (X,)),
    *[
        (
            name,
            lambda m, x, w, _t=transposed, _kw=kw: _conv_call(m, x, w, None, _t, _kw),
            (RNG.normal(size=xs), RNG.normal(size=ws)),
        )
        for name, xs, ws, transposed, kw in CONVS
    ],
    ("native_layer_norm", lambda m, y: m.native_layer_norm(y, [4, 5], None, None, 1e-5), (Y,)),
    ("native_batch_norm", lambda m, y: m.native_batch_norm(y, None, None, None, None, True, 0.1, 1e-5), (Y,)),
    (
        "native_batch_norm_eval",
        lambda m, y: m.native_batch_norm(
            y, None, None, m.zeros(3, dtype=m.float64), m.ones(3, dtype=m.float64), False, 0.1, 1e-5
        ),
        (Y,),
    ),
    ("native_group_norm", lambda m, y: m.native_group_norm(y.reshape(2, 6, 10), None, None, 2, 6, 10, 3, 1e-5), (Y,)),
    ("native_dropout_eval", lambda m, y: m.native_dropout(y, 0.5, False), (Y,)),
    ("native_channel_shuffle", lambda m, y: m.native_channel_shuffle(y.reshape(2, 6, 10), 3), (Y,)),
    ("norm_except_dim", lambda m, y: m.norm_except_dim(y, 3, 2), (Y,)),
    ("norm_except_dim_all", lambda m, y: m.norm_except_dim(y, 2, -1), (Y,)),
    ("norm_except_dim_neg", lambda m, y: m.norm_except_dim(y, 2, -2), (Y,)),
    ("grid_sampler", lambda m, y, g: m.grid_sampler(y, g, 0, 0, False), (Y, RNG.uniform(-1.2, 1.2, (2, 3, 3, 2)))),
    ("grid_sampler_2d", lambda m, y, g: m.grid_sampler_2d(y, g, 1, 2, True), (Y, RNG.uniform(-1.2, 1.2, (2, 3, 3, 2)))),
    *[
        (
            f"grid_sampler_bicubic_{pad}_{align}",
            lambda m, y, g, p=pad, a=align: m.grid_sampler(y, g, 2, p, a),
            (Y, RNG.uniform(-1.5, 1.5, (2, 3, 4, 2))),
        )
        for pad in range(3)
        for align in (False, True)
    ],
    (
        "grid_sampler_3d",
        lambda m, v, g: m.grid_sampler_3d(v, g, 0, 1, False),
        (RNG.normal(size=(1, 2, 3, 4, 5)), RNG.uniform(-1.2, 1.2, (1, 2, 2, 2, 3))),
    ),
    (
        "affine_grid_generator",
        lambda m, th: m.affine_grid_generator(th, [2, 3, 4, 5], False),
        (RNG.normal(size=(2, 2, 3)),),
    ),
    (
        "affine_grid_generator_3d",
        lambda m, th: m.affine_grid_generator(th, [2, 3, 4, 5, 6], True),
        (RNG.normal(size=(2, 3, 4)),),
    ),
    ("adaptive_max_pool1d", lambda m, y: m.adaptive_max_pool1d(y[0, 0], 3), (Y,)),
    ("max_pool1d_with_indices", lambda m, y: m.max_pool1d_with_indices(y[0], 3, 2, 1, 1, True), (Y,)),
    ("max_pool1d_with_indices_default_stride", lambda m, x: m.max_pool1d_with_indices(x, 2, [], 1), (X,)),
]


@pytest.mark.parametrize("name,fn,arrays", TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
def test_against_torch(name, fn, arrays):
    torch = pytest.importorskip("torch")
    ours = fn(_Ember(), *(ember.tensor(a) for a in arrays))
    theirs = fn(torch, *(torch.tensor(a) for a in arrays))
    (ours_meta, ours_list), (theirs_meta, theirs_list) = _describe(ours), _describe(theirs)
    assert ours_meta == theirs_meta, name
    assert type(ours) is type(theirs) or not isinstance(theirs, (tuple, list))
    for a, b in zip(ours_list, theirs_list):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6, atol=1e-8, err_msg=name)
        assert a.requires_grad == b.requires_grad


GRAD_CASES = [
    ("permute_copy", lambda m, x: m.permute_copy(x, (1, 0))),
    ("split_copy", lambda m, x: m.split_copy(x, 3, 1)),
    ("native_layer_norm", lambda m, x: m.native_layer_norm(x, [4], None, None, 1e-5)),
    ("native_batch_norm", lambda m, x: m.native_batch_norm(x, None, None, None, None, True, 0.1, 1e-5)),
    ("native_group_norm", lambda m, x: m.native_group_norm(x, None, None, 3, 4, 1, 2, 1e-5)),
    ("native_dropout", lambda m, x: m.native_dropout(x, 0.5, True)),
    ("norm_except_dim", lambda m, x: m.norm_except_dim(x, 2, 1)),
    ("max_pool1d_with_indices", lambda m, x: m.max_pool1d_with_indices(x, 2)),
]


@pytest.mark.parametrize("name,fn", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_requires_grad_of_each_output_against_torch(name, fn):
    torch = pytest.importorskip("torch")
    ours = fn(_Ember(), ember.tensor(X, requires_grad=True))
    theirs = fn(torch, torch.tensor(X, requires_grad=True))
    ours, theirs = _describe(ours)[1], _describe(theirs)[1]
    assert [t.requires_grad for t in ours] == [t.requires_grad for t in theirs]
    assert [t.dtype == ember.bool for t in ours] == [t.dtype == torch.bool for t in theirs]


def test_native_norm_against_torch_sparse():
    torch = pytest.importorskip("torch")
    for p in (2, 3, 1):
        expected = torch.native_norm(torch.tensor(X).to_sparse(), p)
        np.testing.assert_allclose(A.native_norm(ember.tensor(X), p).item(), expected.item(), rtol=1e-12)


def test_nn_against_torch():
    torch = pytest.importorskip("torch")
    x, w, b = RNG.normal(size=(4, 3)), RNG.normal(size=(5, 2, 3)), RNG.normal(size=(5, 2))
    target = RNG.integers(0, 5, size=(4, 2))
    probs = RNG.dirichlet(np.ones(5), size=4)
    for kw in [{}, {"reduction": "none", "label_smoothing": 0.2}, {"ignore_index": 1}]:
        ours = F.linear_cross_entropy(
            ember.tensor(x), ember.tensor(w), ember.tensor(target), linear_bias=ember.tensor(b), **kw
        )
        theirs = torch.nn.functional.linear_cross_entropy(
            torch.tensor(x), torch.tensor(w), torch.tensor(target), linear_bias=torch.tensor(b), **kw
        )
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10)
    ours = F.linear_cross_entropy(ember.tensor(x), ember.tensor(w[:, 0]), ember.tensor(probs))
    theirs = torch.nn.functional.linear_cross_entropy(torch.tensor(x), torch.tensor(w[:, 0]), torch.tensor(probs))
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-10)
    for bad in [
        lambda m, f: f(m.tensor(x)[None], m.tensor(w), m.tensor(target)),
        lambda m, f: f(m.tensor(x[0]), m.tensor(w), m.tensor(target[0])),
    ]:
        with pytest.raises(RuntimeError) as theirs_err:
            bad(torch, torch.nn.functional.linear_cross_entropy)
        with pytest.raises(RuntimeError) as ours_err:
            bad(ember, F.linear_cross_entropy)
        assert str(ours_err.value) == str(theirs_err.value)
    ours_m, theirs_m = (
        ember.nn.LinearCrossEntropyLoss(3, 5, bias=True),
        torch.nn.LinearCrossEntropyLoss(3, 5, bias=True),
    )
    assert ours_m.extra_repr() == theirs_m.extra_repr()
    assert ember.nn.factory_kwargs({"dtype": 1, "factory_kwargs": {"device": "cpu"}}) == torch.nn.factory_kwargs(
        {"dtype": 1, "factory_kwargs": {"device": "cpu"}}
    )


ERROR_CASES = [
    ("slice_step", lambda m: m.slice_copy(m.ones(3, 4), 1, 0, 4, -1)),
    ("group_norm_numel", lambda m: m.native_group_norm(m.ones(2, 6, 5), None, None, 2, 6, 4, 3, 1e-5)),
    ("group_norm_groups", lambda m: m.native_group_norm(m.ones(2, 6, 5), None, None, 2, 6, 5, 4, 1e-5)),
    ("grid_2d_rank", lambda m: m.grid_sampler_2d(m.ones(1, 2, 3, 4, 5), m.ones(1, 2, 2, 2, 3), 0, 0, False)),
    ("grid_bicubic_3d", lambda m: m.grid_sampler(m.ones(1, 2, 3, 4, 5), m.ones(1, 2, 2, 2, 3), 2, 0, False)),
    ("grid_batch", lambda m: m.grid_sampler(m.ones(2, 3, 4, 4), m.ones(1, 2, 2, 2), 0, 0, False)),
    (
        "conv_rank",
        lambda m: m.convolution(m.ones(3, 5, 5), m.ones(2, 3, 2, 2), None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1),
    ),
    ("adaptive_rank", lambda m: m.adaptive_max_pool1d(m.ones(2, 3, 4, 5), 2)),
    ("channel_shuffle", lambda m: m.native_channel_shuffle(m.ones(2, 5, 3), 2)),
    ("select_range", lambda m: m.select_copy(m.ones(3, 4), 1, 9)),
    ("out_dtype", lambda m: m.t_copy(m.ones(3, 4), out=m.empty(0, dtype=m.int64))),
    ("affine_theta", lambda m: m.affine_grid_generator(m.ones(2, 2, 3), [2, 3, 4, 5, 6], False)),
    ("layer_norm_shape", lambda m: m.native_layer_norm(m.ones(3, 4), [5], None, None, 1e-5)),
    (
        "conv_channels",
        lambda m: m.convolution(m.ones(1, 3, 5, 5), m.ones(2, 4, 2, 2), None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1),
    ),
    ("permute_dims", lambda m: m.permute_copy(m.ones(3, 4), (0,))),
    ("split_sizes", lambda m: m.split_with_sizes_copy(m.ones(3, 4), [1, 2], 1)),
    ("unfold_size", lambda m: m.unfold_copy(m.ones(3, 4), 1, 9, 1)),
    ("view_size", lambda m: m.view_copy(m.ones(3, 4), (5, -1))),
]


@pytest.mark.parametrize("name,fn", ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_errors_against_torch(name, fn):
    torch = pytest.importorskip("torch")
    with pytest.raises((RuntimeError, IndexError)) as theirs:
        fn(torch)
    with pytest.raises(theirs.type) as ours:
        fn(_Ember())
    first = str(theirs.value).split("(Could this")[0].strip().split("\n")[0]
    assert first.rstrip(".") in str(ours.value) or str(ours.value).rstrip(".") in first, (str(ours.value), first)


# ----------------------------------------------------------------------------- embedding_bag, grouped_mm


def _bags(indices, starts, total):
    ends = list(starts[1:]) + [total]
    return [indices[s:e] for s, e in zip(starts, ends)]


@pytest.mark.parametrize("mode", [0, 1, 2])
def test_embedding_bag_aten_form_returns_four_results(mode):
    w = RNG.normal(size=(10, 3))
    idx, starts = np.array([1, 2, 4, 5, 4, 3, 2, 9]), [0, 4, 4]  # the middle bag is empty
    out, offset2bag, bag_size, max_indices = ember.embedding_bag(
        ember.from_numpy(w), ember.from_numpy(idx), ember.tensor(starts), False, mode
    )
    bags = _bags(idx, starts, len(idx))
    reduce = [np.sum, np.mean, np.max][mode]
    want = np.stack([reduce(w[b], axis=0) if len(b) else np.zeros(3) for b in bags])
    np.testing.assert_allclose(out.detach().numpy(), want)
    sizes = [len(b) for b in bags]
    if mode == 0:
        assert offset2bag.shape == (0,) and bag_size.tolist() == [0, 0, 0] and max_indices.tolist() == [0, 0, 0]
    else:
        assert offset2bag.tolist() == [0, 0, 0, 0, 2, 2, 2, 2] and bag_size.tolist() == sizes
    if mode == 2:
        rows = [b[np.argmax(w[b], axis=0)] if len(b) else np.zeros(3, int) for b in bags]
        np.testing.assert_array_equal(max_indices.numpy(), np.stack(rows))
    w_t = ember.from_numpy(w).requires_grad_()
    assert gradcheck(lambda w: ember.embedding_bag(w, ember.from_numpy(idx), ember.tensor([0, 4]), False, 1)[0], (w_t,))


def test_embedding_bag_aten_form_matches_pytorch():
    torch = pytest.importorskip("torch")
    w = RNG.normal(size=(10, 3)).astype(np.float32)
    idx, off = np.array([1, 2, 4, 5, 4, 3, 2, 9]), np.array([0, 3])
    for mode in (0, 1, 2):
        for padding_idx in (None, 2):
            args = (False, mode, False, None, False, padding_idx)
            got = ember.embedding_bag(ember.from_numpy(w), ember.from_numpy(idx), ember.from_numpy(off), *args)
            want = torch.embedding_bag(torch.from_numpy(w), torch.from_numpy(idx), torch.from_numpy(off), *args)
            np.testing.assert_allclose(got[0].detach().numpy(), want[0].detach().numpy(), rtol=1e-6)
            for g, t in zip(got[1:], want[1:]):
                np.testing.assert_array_equal(g.numpy(), t.numpy())


def _grouped_reference(a, b, ends):
    starts = [0] + list(ends[:-1])
    if a.ndim == 2 and b.ndim == 3:
        out = np.zeros((a.shape[0], b.shape[2]))
        for g, (s, e) in enumerate(zip(starts, ends)):
            out[s:e] = a[s:e] @ b[g]
        return out
    if a.ndim == 3 and b.ndim == 2:
        out = np.zeros((a.shape[1], b.shape[1]))
        for g, (s, e) in enumerate(zip(starts, ends)):
            out[:, s:e] = a[g] @ b[:, s:e]
        return out
    return np.stack([a[:, s:e] @ b[s:e] for s, e in zip(starts, ends)])


@pytest.mark.parametrize(
    "shape_a,shape_b,ends",
    [
        ((7, 4), (3, 4, 5), [2, 2, 6]),
        ((3, 2, 4), (4, 9), [3, 5, 8]),
        ((2, 8), (8, 3), [3, 8]),
        ((3, 2, 4), (3, 4, 5), None),
    ],
)
def test_grouped_mm_against_numpy_and_gradcheck(shape_a, shape_b, ends):
    a, b = RNG.normal(size=shape_a), RNG.normal(size=shape_b)
    offs = None if ends is None else ember.tensor(ends, dtype=ember.int32)
    got = F.grouped_mm(ember.from_numpy(a), ember.from_numpy(b), offs=offs)
    want = a @ b if ends is None else _grouped_reference(a, b, ends)  # rows past offs[-1] are zero
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-12)
    inputs = (ember.from_numpy(a).requires_grad_(), ember.from_numpy(b).requires_grad_())
    assert gradcheck(lambda x, y: F.grouped_mm(x, y, offs=offs), inputs)


def test_grouped_mm_errors():
    a, b = ember.ones(6, 4), ember.ones(3, 4, 5)
    with pytest.raises(RuntimeError, match="Bias not supported yet"):
        F.grouped_mm(a, b, offs=ember.tensor([2, 4, 6], dtype=ember.int32), bias=ember.ones(3, 5))
    with pytest.raises(RuntimeError, match="int32"):
        F.grouped_mm(a, b, offs=ember.tensor([2, 4, 6]))
    with pytest.raises(RuntimeError, match="contraction dimension of mat_a and mat_b must match"):
        F.grouped_mm(ember.ones(6, 3), b, offs=ember.tensor([2, 4, 6], dtype=ember.int32))
    with pytest.raises(RuntimeError, match="offs must be given"):
        F.grouped_mm(a, b)
    with pytest.raises(TypeError, match="argument 'mat_a' \\(position 1\\) must be Tensor, not NoneType"):
        F.grouped_mm(None, b)
    with pytest.raises(TypeError, match="argument 'weight' \\(position 1\\) must be Tensor"):
        ember.embedding_bag(None, ember.tensor([1]), ember.tensor([0]))
    assert F.grouped_mm(a, b, offs=ember.tensor([2, 4, 6], dtype=ember.int32), out_dtype=ember.float64).dtype == (
        ember.float64
    )


def test_grouped_mm_matches_pytorch():
    torch = pytest.importorskip("torch")
    a, b = RNG.normal(size=(6, 8)).astype(np.float32), RNG.normal(size=(3, 8, 8)).astype(np.float32)
    offs = np.array([2, 4, 6], dtype=np.int32)
    got = F.grouped_mm(ember.from_numpy(a), ember.from_numpy(b), offs=ember.from_numpy(offs))
    want = torch.nn.functional.grouped_mm(torch.from_numpy(a), torch.from_numpy(b), offs=torch.from_numpy(offs))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-5)
