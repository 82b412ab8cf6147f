"""Convolution, pooling and resampling against PyTorch: the same inputs and weights through ember and torch,
values and gradients compared (float64 tightly, float32 values loosely), over grids of strides, paddings,
dilations and groups; and the error types and words of bad calls."""

import warnings

import numpy as np
import pytest

import ember
import ember.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

rng = np.random.default_rng(0)


def check(ember_fn, torch_fn, *arrays, float32=True, atol=1e-10):
    """ember_fn(*ember tensors) against torch_fn(*torch tensors): values (and indices of a returned pair), and
    the gradients of every float input for one random upstream gradient."""
    e_in = [ember.tensor(a, requires_grad=a.dtype == np.float64) for a in arrays]
    t_in = [torch.tensor(a, requires_grad=a.dtype == np.float64) for a in arrays]
    e_out, t_out = ember_fn(*e_in), torch_fn(*t_in)
    if isinstance(t_out, tuple):
        np.testing.assert_array_equal(e_out[1].numpy(), t_out[1].numpy())
        assert e_out[1].dtype == ember.int64
        e_out, t_out = e_out[0], t_out[0]
    assert tuple(e_out.shape) == tuple(t_out.shape)
    np.testing.assert_allclose(e_out.detach().numpy(), t_out.detach().numpy(), rtol=1e-9, atol=atol)
    upstream = rng.standard_normal(tuple(t_out.shape))
    e_out.backward(ember.tensor(upstream))
    t_out.backward(torch.tensor(upstream))
    for e, t in zip(e_in, t_in):
        if t.grad is not None:
            grad = np.zeros(t.shape) if e.grad is None else e.grad.numpy()
            np.testing.assert_allclose(grad, t.grad.numpy(), rtol=1e-9, atol=atol)
    if float32:
        e32 = ember_fn(*[ember.tensor(a, dtype=ember.float32 if a.dtype == np.float64 else None) for a in arrays])
        t32 = torch_fn(*[torch.tensor(a.astype(np.float32) if a.dtype == np.float64 else a) for a in arrays])
        e32, t32 = (e32[0], t32[0]) if isinstance(t32, tuple) else (e32, t32)
        assert e32.dtype == ember.float32
        np.testing.assert_allclose(e32.numpy(), t32.numpy(), rtol=1e-4, atol=1e-4)


def check_f(name, arrays, *args, **kwargs):
    """check of nn.functional.<name>(*arrays, *args, **kwargs) in both libraries."""
    check(lambda *a: getattr(F, name)(*a, *args, **kwargs), lambda *a: getattr(TF, name)(*a, *args, **kwargs), *arrays)


def randn(*shape):
    return rng.standard_normal(shape)


# ---------------------------------------------------------------------------------------------------------------------
# convolutions

CONV_GRID = [  # stride, padding, dilation, groups
    (1, 0, 1, 1),
    (2, 1, 1, 2),
    (3, 2, 2, 1),
    (2, 0, 3, 4),
    (1, "same", 2, 2),
    (1, "valid", 1, 1),
]


@pytest.mark.parametrize("stride, padding, dilation, groups", CONV_GRID)
@pytest.mark.parametrize("bias", [True, False])
def test_conv1d(stride, padding, dilation, groups, bias):
    x, w, b = randn(2, 4, 13), randn(8, 4 // groups, 3), randn(8) if bias else None
    args = (stride, padding, dilation, groups)
    if b is None:
        check(lambda x, w: F.conv1d(x, w, None, *args), lambda x, w: TF.conv1d(x, w, None, *args), x, w)
    else:
        check(lambda x, w, b: F.conv1d(x, w, b, *args), lambda x, w, b: TF.conv1d(x, w, b, *args), x, w, b)


@pytest.mark.parametrize("stride, padding, dilation, groups", CONV_GRID)
def test_conv2d_grid(stride, padding, dilation, groups):
    x, w, b = randn(2, 4, 9, 10), randn(6 if groups < 4 else 8, 4 // groups, 3, 2), None
    b = randn(w.shape[0])
    args = (stride, padding, dilation, groups)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch: 'same' with an even kernel copies the input
        check(lambda x, w, b: F.conv2d(x, w, b, *args), lambda x, w, b: TF.conv2d(x, w, b, *args), x, w, b)


@pytest.mark.parametrize(
    "stride, padding, dilation, groups",
    [((1, 2, 1), (1, 0, 2), (2, 1, 1), 2), (2, 1, 1, 1), (1, "same", (1, 2, 1), 1), (1, 0, 1, 4)],
)
def test_conv3d(stride, padding, dilation, groups):
    x, w, b = randn(2, 4, 6, 7, 5), randn(4, 4 // groups, 3, 2, 3), randn(4)
    args = (stride, padding, dilation, groups)
    check(lambda x, w, b: F.conv3d(x, w, b, *args), lambda x, w, b: TF.conv3d(x, w, b, *args), x, w, b)


def test_conv_unbatched_inputs():
    check(lambda x, w: F.conv1d(x, w, padding=1), lambda x, w: TF.conv1d(x, w, padding=1), randn(3, 8), randn(2, 3, 3))
    check(lambda x, w: F.conv3d(x, w), lambda x, w: TF.conv3d(x, w), randn(2, 4, 4, 4), randn(3, 2, 2, 2, 2))
    check(
        lambda x, w: F.conv_transpose2d(x, w, stride=2),
        lambda x, w: TF.conv_transpose2d(x, w, stride=2),
        randn(2, 4, 3),
        randn(2, 3, 2, 2),
    )


TRANSPOSE_GRID = [  # stride, padding, output_padding, groups, dilation
    (1, 0, 0, 1, 1),
    (2, 1, 1, 1, 1),
    (3, 2, 2, 2, 1),
    (2, 0, 1, 2, 2),
    (1, 1, 1, 1, 2),
    (3, 4, 0, 4, 1),  # padding larger than dilation * (k - 1): the stride-1 convolution's input is cropped
]


@pytest.mark.parametrize("stride, padding, output_padding, groups, dilation", TRANSPOSE_GRID)
def test_conv_transpose1d_and_2d(stride, padding, output_padding, groups, dilation):
    args = (stride, padding, output_padding, groups, dilation)
    x1, w1, b = randn(2, 4, 7), randn(4, 2, 3), randn(2 * groups)
    check(
        lambda x, w, b: F.conv_transpose1d(x, w, b, *args),
        lambda x, w, b: TF.conv_transpose1d(x, w, b, *args),
        x1,
        w1,
        b,
    )
    x2, w2 = randn(2, 4, 5, 6), randn(4, 2, 3, 2)
    check(
        lambda x, w, b: F.conv_transpose2d(x, w, b, *args),
        lambda x, w, b: TF.conv_transpose2d(x, w, b, *args),
        x2,
        w2,
        b,
    )


def test_conv_transpose2d_mixed_per_dim_options():
    args = ((2, 3), (1, 0), (1, 2), 1, (2, 1))
    check(
        lambda x, w: F.conv_transpose2d(x, w, None, *args),
        lambda x, w: TF.conv_transpose2d(x, w, None, *args),
        randn(1, 3, 4, 5),
        randn(3, 2, 3, 3),
    )


@pytest.mark.parametrize("stride, padding, output_padding, groups, dilation", [(2, 1, 1, 2, 1), (1, 0, 0, 1, 2)])
def test_conv_transpose3d(stride, padding, output_padding, groups, dilation):
    args = (stride, padding, output_padding, groups, dilation)
    check(
        lambda x, w, b: F.conv_transpose3d(x, w, b, *args),
        lambda x, w, b: TF.conv_transpose3d(x, w, b, *args),
        randn(2, 4, 3, 4, 3),
        randn(4, 2, 2, 3, 2),
        randn(2 * groups),
    )


def _copy_parameters(ember_module, torch_module):
    for name, p in torch_module.named_parameters():
        getattr(ember_module, name).data.copy_(ember.tensor(p.detach().numpy()))


@pytest.mark.parametrize("padding_mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("dims, padding", [(1, 2), (2, (1, 2)), (2, "same"), (3, 1)])
def test_conv_modules_padding_modes(dims, padding, padding_mode):
    name = f"Conv{dims}d"
    kwargs = dict(kernel_size=3 if dims != 2 else (3, 4), padding=padding, padding_mode=padding_mode, groups=2)
    t_mod = getattr(torch.nn, name)(4, 6, dtype=torch.float64, **kwargs)
    e_mod = getattr(ember.nn, name)(4, 6, dtype=ember.float64, **kwargs)
    _copy_parameters(e_mod, t_mod)
    assert repr(e_mod) == repr(t_mod)
    assert e_mod._reversed_padding_repeated_twice == list(t_mod._reversed_padding_repeated_twice)
    x = randn(2, 4, *[5, 6, 4][:dims])
    check(e_mod, t_mod, x, float32=False)
    e_mod.weight.grad = None
    t_mod.weight.grad = None
    e_mod(ember.tensor(x)).sum().backward()
    t_mod(torch.tensor(x)).sum().backward()
    np.testing.assert_allclose(e_mod.weight.grad.numpy(), t_mod.weight.grad.numpy(), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(e_mod.bias.grad.numpy(), t_mod.bias.grad.numpy(), rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_conv_transpose_modules_and_output_size(dims):
    name = f"ConvTranspose{dims}d"
    kwargs = dict(kernel_size=3, stride=2, padding=1, groups=2, dilation=1)
    t_mod = getattr(torch.nn, name)(4, 6, dtype=torch.float64, **kwargs)
    e_mod = getattr(ember.nn, name)(4, 6, dtype=ember.float64, **kwargs)
    _copy_parameters(e_mod, t_mod)
    assert repr(e_mod) == repr(t_mod)
    assert e_mod.weight.shape == tuple(t_mod.weight.shape) and e_mod.bias.shape == (6,)
    x = randn(2, 4, *[4, 3, 3][:dims])
    check(e_mod, t_mod, x, float32=False)
    size = [2 * s for s in x.shape[2:]]  # the larger of the two valid sizes: output_padding 1
    check(lambda x: e_mod(x, output_size=size), lambda x: t_mod(x, output_size=size), x, float32=False)


def test_module_initialisation_bounds_match_torch():
    for name, args in [("Conv1d", (4, 6, 3)), ("Conv3d", (2, 4, 2)), ("ConvTranspose2d", (4, 6, (3, 2)))]:
        t_mod, e_mod = getattr(torch.nn, name)(*args, groups=2), getattr(ember.nn, name)(*args, groups=2)
        bound = 1 / np.sqrt(t_mod.weight[0].numel())  # kaiming_uniform(a=sqrt(5)): 1/sqrt(fan_in)
        assert np.abs(e_mod.weight.detach().numpy()).max() <= bound + 1e-7
        assert np.abs(e_mod.bias.detach().numpy()).max() <= bound + 1e-7
        assert e_mod.weight.shape == tuple(t_mod.weight.shape)


# ---------------------------------------------------------------------------------------------------------------------
# pooling

MAX_POOL_GRID = [  # kernel, stride, padding, dilation, ceil_mode
    (2, None, 0, 1, False),
    (3, 2, 1, 1, True),
    (3, 1, 1, 2, False),
    (2, 3, 1, 1, True),
]


@pytest.mark.parametrize("kernel, stride, padding, dilation, ceil_mode", MAX_POOL_GRID)
def test_max_pool_with_indices(kernel, stride, padding, dilation, ceil_mode):
    args = (kernel, stride, padding, dilation, ceil_mode)
    for fn, shape in [("max_pool1d", (2, 3, 11)), ("max_pool2d", (2, 3, 7, 8)), ("max_pool3d", (1, 2, 5, 6, 7))]:
        x = randn(*shape)
        for indices in (False, True):
            check_f(fn, (x,), *args, return_indices=indices)


def test_max_pool_ties_and_nan_pick_torchs_index():
    ties = rng.integers(0, 3, (2, 3, 7, 8)).astype(np.float64)  # many equal maxima: the first in scan order wins
    nan = randn(1, 2, 6, 6)
    nan[0, 0, 1, 1] = nan[0, 1, 2, 3] = nan[0, 1, 3, 3] = np.nan  # NaN beats numbers; the last NaN wins
    for x in (ties, nan):
        check_f("max_pool2d", (x,), 3, 2, 1, 1, True, return_indices=True)
        check_f("max_pool2d", (x,), 2, return_indices=True)  # the 2x2 stride-2 fast path
        check_f("max_pool2d", (x[..., :5, :7],), 2, ceil_mode=True)  # partial windows: the general path
        check_f("adaptive_max_pool2d", (x,), (4, 3), return_indices=True)
        check_f("max_pool1d", (x[:, 0],), 3, 1, 1, 2, return_indices=True)


AVG_POOL_GRID = [  # kernel, stride, padding, ceil_mode, count_include_pad
    (2, None, 0, False, True),
    (3, 2, 1, True, True),
    (3, 2, 1, True, False),
    (4, 3, 2, False, False),
    (3, 2, 1, False, True),
]


@pytest.mark.parametrize("kernel, stride, padding, ceil_mode, count_include_pad", AVG_POOL_GRID)
def test_avg_pool(kernel, stride, padding, ceil_mode, count_include_pad):
    args = (kernel, stride, padding, ceil_mode, count_include_pad)
    check(lambda x: F.avg_pool1d(x, *args), lambda x: TF.avg_pool1d(x, *args), randn(2, 3, 11))
    for override in (None, 5):
        check_f("avg_pool2d", (randn(2, 3, 7, 9),), *args, override)
    check(lambda x: F.avg_pool3d(x, *args), lambda x: TF.avg_pool3d(x, *args), randn(1, 2, 5, 6, 7))


def test_avg_pool_rectangular_options():
    args = ((2, 3), (1, 2), (1, 0), True, False)
    check(lambda x: F.avg_pool2d(x, *args), lambda x: TF.avg_pool2d(x, *args), randn(1, 2, 6, 7))


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0])
def test_lp_pool(norm_type):
    x = np.abs(randn(2, 3, 7, 8)) + 0.1  # positive: odd powers would otherwise give NaN in both
    check(lambda x: F.lp_pool2d(x, norm_type, 2), lambda x: TF.lp_pool2d(x, norm_type, 2), x)
    check(lambda x: F.lp_pool1d(x, norm_type, 3, 2, True), lambda x: TF.lp_pool1d(x, norm_type, 3, 2, True), x[:, :, 0])
    check(lambda x: F.lp_pool3d(x, norm_type, 2), lambda x: TF.lp_pool3d(x, norm_type, 2), x.reshape(1, 2, 3, 7, 8))


@pytest.mark.parametrize("output_size", [1, 3, 5, 7, 11])
def test_adaptive_pool_1d(output_size):
    x = randn(2, 3, 7)
    check(lambda x: F.adaptive_avg_pool1d(x, output_size), lambda x: TF.adaptive_avg_pool1d(x, output_size), x)
    check(
        lambda x: F.adaptive_max_pool1d(x, output_size, True),
        lambda x: TF.adaptive_max_pool1d(x, output_size, True),
        x,
    )


@pytest.mark.parametrize("output_size", [2, (3, None), (5, 4), (None, 9)])
def test_adaptive_pool_2d_3d(output_size):
    x = randn(2, 3, 7, 6)
    check(lambda x: F.adaptive_avg_pool2d(x, output_size), lambda x: TF.adaptive_avg_pool2d(x, output_size), x)
    check(
        lambda x: F.adaptive_max_pool2d(x, output_size, True),
        lambda x: TF.adaptive_max_pool2d(x, output_size, True),
        x,
    )
    size3 = (2, *output_size) if isinstance(output_size, tuple) else output_size
    x3 = randn(1, 2, 5, 7, 6)
    check(lambda x: F.adaptive_avg_pool3d(x, size3), lambda x: TF.adaptive_avg_pool3d(x, size3), x3)
    check(lambda x: F.adaptive_max_pool3d(x, size3, True), lambda x: TF.adaptive_max_pool3d(x, size3, True), x3)


def test_pool_modules_match_torch():
    x = randn(2, 3, 8, 7)
    for name, args, kwargs in [
        ("MaxPool2d", (3,), dict(stride=2, padding=1, return_indices=True, ceil_mode=True)),
        ("AvgPool2d", (3,), dict(stride=2, padding=1, count_include_pad=False, divisor_override=None)),
        ("LPPool2d", (2, 3), dict(stride=2)),
        ("AdaptiveAvgPool2d", ((3, None),), {}),
        ("AdaptiveMaxPool2d", (3,), dict(return_indices=True)),
    ]:
        e_mod, t_mod = getattr(ember.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
        assert repr(e_mod) == repr(t_mod)
        check(e_mod, t_mod, np.abs(x) if name == "LPPool2d" else x)
    for name in ("MaxPool1d", "AvgPool1d", "AdaptiveAvgPool1d", "AdaptiveMaxPool1d", "LPPool1d"):
        args = (2, 3) if name == "LPPool1d" else (3,)
        e_mod, t_mod = getattr(ember.nn, name)(*args), getattr(torch.nn, name)(*args)
        assert repr(e_mod) == repr(t_mod)
        check(e_mod, t_mod, np.abs(x[:, :, 0]))
    for name in ("MaxPool3d", "AvgPool3d", "AdaptiveAvgPool3d", "AdaptiveMaxPool3d", "LPPool3d"):
        args = (2, 2) if name == "LPPool3d" else (2,)
        e_mod, t_mod = getattr(ember.nn, name)(*args), getattr(torch.nn, name)(*args)
        assert repr(e_mod) == repr(t_mod)
        check(e_mod, t_mod, np.abs(x.reshape(1, 6, 8, 7)).reshape(1, 2, 3, 8, 7))


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_max_unpool_and_with_indices_spellings(dims):
    shape = (2, 3, *[8, 6, 4][:dims])
    x = torch.tensor(randn(*shape))
    values, indices = getattr(TF, f"max_pool{dims}d_with_indices")(x, 2, 2, 0, 1, False)
    e_values, e_indices = getattr(F, f"max_pool{dims}d_with_indices")(ember.tensor(x.numpy()), 2, 2, 0, 1, False)
    np.testing.assert_array_equal(e_indices.numpy(), indices.numpy())
    np.testing.assert_array_equal(e_values.numpy(), values.numpy())
    idx = indices.numpy()
    check(
        lambda v, i: getattr(F, f"max_unpool{dims}d")(v, i, 2),
        lambda v, i: getattr(TF, f"max_unpool{dims}d")(v, i, 2),
        values.numpy(),
        idx,
    )
    larger = [s + 1 for s in shape[2:]]  # output_size one larger than the default in every dim
    e_mod, t_mod = getattr(ember.nn, f"MaxUnpool{dims}d")(2), getattr(torch.nn, f"MaxUnpool{dims}d")(2)
    assert repr(e_mod) == repr(t_mod)
    check(lambda v, i: e_mod(v, i, larger), lambda v, i: t_mod(v, i, larger), values.numpy(), idx)
    e_adaptive = getattr(F, f"adaptive_max_pool{dims}d_with_indices")(ember.tensor(x.numpy()), 3)
    t_adaptive = getattr(TF, f"adaptive_max_pool{dims}d_with_indices")(x, 3)
    np.testing.assert_array_equal(e_adaptive[1].numpy(), t_adaptive[1].numpy())


def test_channel_shuffle():
    check(lambda x: F.channel_shuffle(x, 3), lambda x: TF.channel_shuffle(x, 3), randn(2, 6, 4, 5))
    check(lambda x: ember.channel_shuffle(x, 2), lambda x: torch.channel_shuffle(x, 2), randn(2, 4, 3))
    e_mod, t_mod = ember.nn.ChannelShuffle(2), torch.nn.ChannelShuffle(2)
    assert repr(e_mod) == repr(t_mod)
    check(e_mod, t_mod, randn(1, 4, 2, 2, 2))


# ---------------------------------------------------------------------------------------------------------------------
# unfold / fold


@pytest.mark.parametrize(
    "kernel, dilation, padding, stride",
    [(2, 1, 0, 1), ((2, 3), (1, 2), 1, (2, 1)), (3, 2, 2, 3), ((1, 2), 1, (0, 1), 2)],
)
def test_unfold_fold(kernel, dilation, padding, stride):
    x = randn(2, 3, 7, 8)
    args = (kernel, dilation, padding, stride)
    check(lambda x: F.unfold(x, *args), lambda x: TF.unfold(x, *args), x)
    blocks = TF.unfold(torch.tensor(x), *args).numpy()
    check(lambda b: F.fold(b, (7, 8), *args), lambda b: TF.fold(b, (7, 8), *args), randn(*blocks.shape))
    e_mod, t_mod = ember.nn.Fold((7, 8), *args), torch.nn.Fold((7, 8), *args)
    assert repr(e_mod) == repr(t_mod) and repr(ember.nn.Unfold(*args)) == repr(torch.nn.Unfold(*args))
    check(e_mod, t_mod, randn(*blocks.shape[1:]))  # unbatched (C * k, L)


# ---------------------------------------------------------------------------------------------------------------------
# resampling

INTERP_SIZES = [
    dict(scale_factor=2),
    dict(scale_factor=1.7),
    dict(size=(3, 11)),
    dict(scale_factor=(0.6, 2.3), recompute_scale_factor=True),
    dict(scale_factor=(1 / 3, 3.0)),
]


@pytest.mark.parametrize("sizes", INTERP_SIZES, ids=str)
@pytest.mark.parametrize(
    "mode, align_corners",
    [
        ("nearest", None),
        ("nearest-exact", None),
        ("bilinear", False),
        ("bilinear", True),
        ("bicubic", False),
        ("bicubic", True),
        ("area", None),
    ],
)
def test_interpolate_2d(mode, align_corners, sizes):
    x = randn(2, 3, 5, 7)
    kwargs = dict(mode=mode, align_corners=align_corners, **sizes)
    if mode == "area" and "recompute_scale_factor" in kwargs:
        kwargs.pop("recompute_scale_factor")
    check(lambda x: F.interpolate(x, **kwargs), lambda x: TF.interpolate(x, **kwargs), x)


@pytest.mark.parametrize("align_corners", [False, True])
def test_interpolate_1d_3d(align_corners):
    x1, x3 = randn(2, 3, 7), randn(1, 2, 3, 4, 5)
    for mode in ("nearest", "nearest-exact", "area", "linear"):
        ac = align_corners if mode == "linear" else None
        for kwargs in (dict(scale_factor=1.5), dict(size=4), dict(scale_factor=0.3)):
            check_f("interpolate", (x1,), mode=mode, align_corners=ac, **kwargs)
    for mode in ("nearest", "trilinear"):
        ac = align_corners if mode == "trilinear" else None
        check_f("interpolate", (x3,), size=(5, 3, 7), mode=mode, align_corners=ac)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_interpolate_antialias(mode, align_corners):
    x = randn(1, 2, 17, 13)
    for sizes in (dict(size=(5, 7)), dict(scale_factor=0.37), dict(scale_factor=(2.5, 0.5))):
        check_f("interpolate", (x,), mode=mode, align_corners=align_corners, antialias=True, **sizes)


def test_interpolate_float32_nearest_picks_torchs_neighbours():
    # Source indices are computed in float32 as PyTorch's CPU kernel: odd scales must land on the same pixels.
    x = rng.standard_normal((1, 1, 37, 29)).astype(np.float32)
    for kwargs in (dict(size=(100, 31)), dict(scale_factor=1 / 3), dict(scale_factor=2.9), dict(size=(13, 7))):
        for mode in ("nearest", "nearest-exact", "bilinear"):
            e = F.interpolate(ember.tensor(x), mode=mode, **kwargs).numpy()
            t = TF.interpolate(torch.tensor(x), mode=mode, **kwargs).numpy()
            if mode == "bilinear":  # same neighbours and weights; the float32 sums round differently
                np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-5)
            else:
                np.testing.assert_array_equal(e, t)


def test_upsample_modules_and_aliases():
    x = randn(2, 3, 4, 5)
    for name, kwargs in [
        ("Upsample", dict(scale_factor=2, mode="bilinear")),
        ("Upsample", dict(size=(7, 3), mode="bicubic", align_corners=True)),
        ("UpsamplingNearest2d", dict(scale_factor=3)),
        ("UpsamplingBilinear2d", dict(size=(6, 9))),
    ]:
        e_mod, t_mod = getattr(ember.nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
        assert repr(e_mod) == repr(t_mod)
        check(e_mod, t_mod, x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for fn, kwargs in [("upsample", dict(scale_factor=2, mode="nearest")), ("upsample_bilinear", dict(size=7))]:
            check_f(fn, (x,), **kwargs)
        check(lambda x: F.upsample_nearest(x, size=(3, 8)), lambda x: TF.upsample_nearest(x, size=(3, 8)), x)


def test_pixel_shuffle_and_unshuffle():
    check(lambda x: F.pixel_shuffle(x, 3), lambda x: TF.pixel_shuffle(x, 3), randn(2, 18, 3, 4))
    check(lambda x: ember.pixel_shuffle(x, 2), lambda x: torch.pixel_shuffle(x, 2), randn(2, 3, 8, 3, 4))
    check(lambda x: F.pixel_unshuffle(x, 2), lambda x: TF.pixel_unshuffle(x, 2), randn(3, 4, 6))
    for e_mod, t_mod in [
        (ember.nn.PixelShuffle(2), torch.nn.PixelShuffle(2)),
        (ember.nn.PixelUnshuffle(2), torch.nn.PixelUnshuffle(2)),
    ]:
        assert repr(e_mod) == repr(t_mod)
        check(e_mod, t_mod, randn(1, 4, 6, 8))


@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid(align_corners):
    check(
        lambda t: F.affine_grid(t, [2, 3, 4, 5], align_corners),
        lambda t: TF.affine_grid(t, [2, 3, 4, 5], align_corners),
        randn(2, 2, 3),
    )
    with warnings.catch_warnings(record=True) as caught:  # both warn about the unit-size dim with align_corners
        warnings.simplefilter("always")
        check(
            lambda t: F.affine_grid(t, (2, 1, 3, 1, 4), align_corners),
            lambda t: TF.affine_grid(t, (2, 1, 3, 1, 4), align_corners),
            randn(2, 3, 4),
        )
    assert any("unit-size grids" in str(w.message) for w in caught) == align_corners


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample(mode, padding_mode, align_corners):
    x = randn(2, 3, 5, 6)
    grid = rng.uniform(-1.4, 1.4, (2, 4, 7, 2))  # some points outside, where padding_mode decides
    check(
        lambda x, g: F.grid_sample(x, g, mode, padding_mode, align_corners),
        lambda x, g: TF.grid_sample(x, g, mode, padding_mode, align_corners),
        x,
        grid,
    )


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_grid_sample_volumes(mode, padding_mode):
    x = randn(2, 2, 3, 4, 5)
    grid = rng.uniform(-1.3, 1.3, (2, 2, 3, 4, 3))
    for align_corners in (False, True):
        check_f("grid_sample", (x, grid), mode, padding_mode, align_corners)


def test_affine_grid_then_grid_sample_rotates_like_torch():
    angle = 0.3
    theta = np.array([[[np.cos(angle), -np.sin(angle), 0.1], [np.sin(angle), np.cos(angle), -0.2]]])
    x = randn(1, 2, 6, 6)
    check(
        lambda x, t: F.grid_sample(x, F.affine_grid(t, (1, 2, 6, 6), False), align_corners=False),
        lambda x, t: TF.grid_sample(x, TF.affine_grid(t, (1, 2, 6, 6), False), align_corners=False),
        x,
        theta,
    )


# ---------------------------------------------------------------------------------------------------------------------
# errors


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.nn.functional.conv1d(lib.ones(1, 2, 5), lib.ones(3, 3, 2)),
        lambda lib: lib.nn.functional.conv1d(lib.ones(5), lib.ones(3, 3, 2)),
        lambda lib: lib.nn.functional.conv3d(lib.ones(1, 2, 4, 4, 4), lib.ones(3, 3, 2, 2, 2)),
        lambda lib: lib.nn.functional.conv1d(lib.ones(1, 3, 5), lib.ones(3, 3, 2), stride=2, padding="same"),
        lambda lib: lib.nn.functional.conv_transpose2d(lib.ones(1, 3, 5, 5), lib.ones(2, 3, 3, 3)),
        lambda lib: lib.nn.Conv1d(4, 4, 3, groups=3),
        lambda lib: lib.nn.Conv3d(4, 6, 3, groups=4),
        lambda lib: lib.nn.Conv1d(4, 4, 3, padding="full"),
        lambda lib: lib.nn.Conv3d(4, 4, 3, stride=2, padding="same"),
        lambda lib: lib.nn.Conv1d(4, 4, 3, padding_mode="mirror"),
        lambda lib: lib.nn.ConvTranspose2d(4, 4, 3, padding_mode="reflect"),
        lambda lib: lib.nn.ConvTranspose1d(2, 2, 3, stride=2)(lib.ones(1, 2, 4), output_size=[12]),
        lambda lib: lib.nn.Conv1d(2, 2, 3, padding=4, padding_mode="reflect")(lib.ones(1, 2, 4)),
        lambda lib: lib.nn.Conv1d(2, 2, 3, padding=5, padding_mode="circular")(lib.ones(1, 2, 4)),
        lambda lib: lib.nn.functional.max_pool1d(lib.ones(1, 3, 4), 3, padding=2),
        lambda lib: lib.nn.functional.max_pool1d(lib.ones(1, 3, 1), 3),
        lambda lib: lib.nn.functional.max_pool1d(lib.ones(1, 3, 5), 2, 0),
        lambda lib: lib.nn.functional.max_pool1d(lib.ones(3, 3, 1, 5), 2),
        lambda lib: lib.nn.functional.max_pool1d(lib.ones(1, 3, 1), 3, return_indices=True),
        lambda lib: lib.nn.functional.avg_pool2d(lib.ones(1, 3, 4, 4), 3, padding=2),
        lambda lib: lib.nn.functional.avg_pool2d(lib.ones(1, 3, 1, 1), 2),
        lambda lib: lib.nn.functional.max_pool3d(lib.ones(1, 3, 1, 1, 1), 2, return_indices=True),
        lambda lib: lib.nn.functional.fold(lib.ones(1, 7, 9), (4, 4), 2),
        lambda lib: lib.nn.functional.fold(lib.ones(1, 8, 8), (4, 4), 2),
        lambda lib: lib.nn.functional.pixel_shuffle(lib.ones(1, 5, 8, 8), 2),
        lambda lib: lib.nn.functional.pixel_unshuffle(lib.ones(1, 5, 7, 8), 2),
        lambda lib: lib.nn.functional.pixel_unshuffle(lib.ones(1, 5, 8, 7), 2),
        lambda lib: lib.nn.functional.pixel_shuffle(lib.ones(5, 8), 2),
        lambda lib: lib.nn.functional.channel_shuffle(lib.ones(1, 5, 2, 2), 2),
        lambda lib: lib.nn.functional.channel_shuffle(lib.ones(5), 2),
        lambda lib: lib.nn.functional.max_unpool2d(
            lib.ones(1, 1, 2, 2), lib.zeros(1, 1, 2, 2, dtype=lib.int64), 2, output_size=(7, 7)
        ),
        lambda lib: lib.nn.functional.max_unpool2d(
            lib.ones(1, 1, 2, 2), lib.full((1, 1, 2, 2), 16, dtype=lib.int64), 2
        ),
        lambda lib: lib.nn.functional.max_unpool1d(
            lib.ones(1, 1, 2), lib.zeros(1, 1, 2, dtype=lib.int64), 2, output_size=(1, 2, 3, 4)
        ),
        lambda lib: lib.nn.functional.interpolate(lib.ones(1, 2, 4), scale_factor=2, size=3),
        lambda lib: lib.nn.functional.interpolate(lib.ones(1, 2, 4)),
        lambda lib: lib.nn.functional.interpolate(lib.ones(1, 2, 4), size=3, mode="nearest", align_corners=True),
        lambda lib: lib.nn.functional.interpolate(lib.ones(1, 2, 4, 4), size=3, mode="linear"),
        lambda lib: lib.nn.functional.interpolate(lib.ones(1, 2, 4), size=3, mode="bilinear"),
        lambda lib: lib.nn.functional.interpolate(lib.ones(1, 2, 4), size=(3, 3)),
        lambda lib: lib.nn.functional.interpolate(lib.ones(1, 2, 4), size=3, mode="linear", antialias=True),
        lambda lib: lib.nn.functional.interpolate(lib.ones(1, 2, 4), size=3, recompute_scale_factor=True),
        lambda lib: lib.nn.functional.affine_grid(lib.ones(1, 2, 3), (1, 1, 4, 4, 4), False),
        lambda lib: lib.nn.functional.affine_grid(lib.ones(1, 2, 3, dtype=lib.int64), (1, 1, 4, 4), False),
        lambda lib: lib.nn.functional.grid_sample(lib.ones(1, 1, 4, 4), lib.ones(1, 2, 2, 2), mode="box"),
        lambda lib: lib.nn.functional.grid_sample(lib.ones(1, 1, 4, 4), lib.ones(1, 2, 2, 2), padding_mode="wrap"),
    ],
)
def test_error_messages_match_torch(call):
    with pytest.raises(Exception) as te:
        call(torch)
    with pytest.raises(Exception) as ee:
        call(ember)
    assert type(ee.value) is type(te.value), (ee.value, te.value)
    # The first sentence, up to a printed set (whose order varies between processes), in ember's spelling.
    words = str(te.value).replace("torch.", "ember.").split(". ")[0].split("{")[0]
    assert words in str(ee.value), (str(ee.value), str(te.value))
