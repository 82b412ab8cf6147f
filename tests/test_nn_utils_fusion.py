"""nn.utils: conv/linear + BatchNorm fusion (values against the two layers in eval mode, float64, and against
torch.nn.utils.fusion), skip_init, the deprecated clip_grad_norm alias, and the memory-format converters."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.nn.utils import (
    clip_grad_norm,
    convert_conv2d_weight_memory_format,
    convert_conv3d_weight_memory_format,
    fuse_conv_bn_eval,
    fuse_conv_bn_weights,
    fuse_linear_bn_eval,
    fuse_linear_bn_weights,
    skip_init,
)

rng = np.random.default_rng(0)


def npy(x: ember.Tensor) -> np.ndarray:
    return x.detach().numpy()


def t(*shape: int) -> ember.Tensor:
    return ember.tensor(rng.standard_normal(shape), dtype=ember.float64)


def trained_bn(bn: nn.Module) -> nn.Module:
    """A BatchNorm in eval mode with non-trivial running statistics and affine parameters."""
    bn = bn.double()
    c = bn.num_features
    with ember.no_grad():
        bn.running_mean.copy_(t(c))
        bn.running_var.copy_(ember.tensor(rng.uniform(0.3, 2.0, c), dtype=ember.float64))
        if bn.weight is not None:
            bn.weight.copy_(t(c))
            bn.bias.copy_(t(c))
    return bn.eval()


CONV_CASES = [
    (lambda: nn.Conv1d(3, 4, 3, padding=1), nn.BatchNorm1d, (2, 3, 7), False),
    (lambda: nn.Conv2d(3, 6, 3, stride=2, groups=3), nn.BatchNorm2d, (2, 3, 8, 8), False),
    (lambda: nn.Conv2d(3, 4, 3, bias=False), nn.BatchNorm2d, (2, 3, 6, 6), False),
    (lambda: nn.Conv3d(2, 4, 2), nn.BatchNorm3d, (1, 2, 4, 4, 4), False),
    (lambda: nn.ConvTranspose1d(3, 4, 3, stride=2), nn.BatchNorm1d, (2, 3, 5), True),
    (lambda: nn.ConvTranspose2d(3, 4, 3, stride=2), nn.BatchNorm2d, (2, 3, 4, 4), True),
    (lambda: nn.ConvTranspose2d(4, 6, 3, groups=2, bias=False), nn.BatchNorm2d, (2, 4, 4, 4), True),
]


@pytest.mark.parametrize("make_conv, bn_cls, shape, transpose", CONV_CASES)
def test_fuse_conv_bn_eval_equals_conv_then_bn(make_conv, bn_cls, shape, transpose):
    conv = make_conv().double().eval()
    bn = trained_bn(bn_cls(conv.out_channels))
    fused = fuse_conv_bn_eval(conv, bn, transpose=transpose)
    assert type(fused) is type(conv) and fused is not conv
    assert isinstance(fused.weight, nn.Parameter) and isinstance(fused.bias, nn.Parameter)
    assert fused.weight.shape == conv.weight.shape and fused.bias.shape == (conv.out_channels,)
    x = t(*shape)
    np.testing.assert_allclose(npy(fused(x)), npy(bn(conv(x))), rtol=1e-10, atol=1e-10)
    assert conv.bias is None or fused.bias is not conv.bias  # conv itself is left alone


def test_fuse_conv_bn_without_affine():
    conv = nn.Conv2d(2, 3, 3).double().eval()
    bn = trained_bn(nn.BatchNorm2d(3, affine=False))
    x = t(1, 2, 5, 5)
    np.testing.assert_allclose(npy(fuse_conv_bn_eval(conv, bn)(x)), npy(bn(conv(x))), rtol=1e-10, atol=1e-10)


def test_fuse_requires_eval_and_running_stats():
    with pytest.raises(AssertionError, match="Fusion only for eval!"):
        fuse_conv_bn_eval(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3).eval())
    with pytest.raises(AssertionError, match="Fusion only for eval!"):
        fuse_linear_bn_eval(nn.Linear(2, 3).eval(), nn.BatchNorm1d(3))
    with pytest.raises(AssertionError, match="bn.running_mean and bn.running_var must not be None"):
        fuse_conv_bn_eval(nn.Conv2d(2, 3, 3).eval(), nn.BatchNorm2d(3, track_running_stats=False).eval())


@pytest.mark.parametrize("bias", [True, False])
def test_fuse_linear_bn_eval_equals_linear_then_bn(bias):
    lin = nn.Linear(5, 4, bias=bias).double().eval()
    bn = trained_bn(nn.BatchNorm1d(4))
    fused = fuse_linear_bn_eval(lin, bn)
    x = t(6, 5)
    np.testing.assert_allclose(npy(fused(x)), npy(bn(lin(x))), rtol=1e-10, atol=1e-10)
    assert type(fused) is nn.Linear and fused.bias.shape == (4,)


def test_fuse_linear_bn_feature_mismatch():
    with pytest.raises(AssertionError, match="linear.out_features == bn.num_features or bn.num_features == 1"):
        fuse_linear_bn_eval(nn.Linear(5, 4).eval(), nn.BatchNorm1d(3).eval())


def test_fuse_weights_keep_requires_grad_and_dtype():
    w = nn.Parameter(ember.randn(4, 3, 3, 3))
    w.requires_grad_(False)
    fw, fb = fuse_conv_bn_weights(w, None, ember.zeros(4), ember.ones(4), 1e-5, None, None)
    assert not fw.requires_grad and fw.dtype == ember.float32 and fb.shape == (4,)
    np.testing.assert_allclose(npy(fw), npy(w) / np.sqrt(1 + 1e-5), rtol=1e-6)
    lw, lb = fuse_linear_bn_weights(nn.Parameter(ember.randn(4, 3)), None, ember.zeros(4), ember.ones(4), 0.0,
                                    ember.ones(4) * 2, ember.ones(4))  # fmt: skip
    assert lw.requires_grad and np.allclose(npy(lb), 1.0)


def test_fusion_matches_torch():
    torch = pytest.importorskip("torch")
    tconv = torch.nn.ConvTranspose2d(3, 4, 3, stride=2).double().eval()
    tbn = torch.nn.BatchNorm2d(4).double().eval()
    with torch.no_grad():
        tbn.running_mean.uniform_(-1, 1)
        tbn.running_var.uniform_(0.5, 2)
        tbn.weight.uniform_(-1, 1)
        tbn.bias.uniform_(-1, 1)
    tf = torch.nn.utils.fusion.fuse_conv_bn_eval(tconv, tbn, transpose=True)
    conv = nn.ConvTranspose2d(3, 4, 3, stride=2).double().eval()
    bn = nn.BatchNorm2d(4).double().eval()
    conv.load_state_dict({k: ember.tensor(v.numpy()) for k, v in tconv.state_dict().items()})
    bn.load_state_dict({k: ember.tensor(v.numpy()) for k, v in tbn.state_dict().items()})
    ef = fuse_conv_bn_eval(conv, bn, transpose=True)
    np.testing.assert_allclose(npy(ef.weight), tf.weight.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(npy(ef.bias), tf.bias.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_skip_init_constructs_with_right_shapes_without_init():
    m = skip_init(nn.Linear, 5, 3)
    assert type(m) is nn.Linear and m.weight.shape == (3, 5) and m.bias.shape == (3,)
    assert m.weight.requires_grad
    c = skip_init(nn.Conv2d, in_channels=2, out_channels=4, kernel_size=3, bias=False)
    assert c.weight.shape == (4, 2, 3, 3) and c.bias is None
    # initialisers are restored afterwards
    ember.manual_seed(0)
    assert np.abs(npy(nn.Linear(100, 50).weight)).max() > 0.05
    bn = skip_init(nn.BatchNorm1d, 3)
    assert bn.running_var.shape == (3,)
    with pytest.raises(RuntimeError, match="Expected a Module"):
        skip_init(int, 3)
    with pytest.raises(RuntimeError, match="Module must support a 'device' arg to skip initialization"):
        skip_init(nn.ReLU)


def test_skip_init_leaves_values_as_allocated(monkeypatch):
    calls = []
    monkeypatch.setattr(nn.init, "kaiming_uniform_", lambda tensor, *a, **k: calls.append(1) or tensor)
    skip_init(nn.Linear, 4, 2)
    assert calls == []  # reset_parameters' initialiser was not reached


def test_clip_grad_norm_deprecated_alias():
    p = nn.Parameter(ember.tensor([3.0, 4.0]))
    p.grad = ember.tensor([3.0, 4.0])
    with pytest.warns(FutureWarning, match=r"`torch.nn.utils.clip_grad_norm` is now deprecated in favor of"):
        total = clip_grad_norm([p], 1.0)
    assert float(total) == pytest.approx(5.0)
    np.testing.assert_allclose(npy(p.grad), [0.6, 0.8], rtol=1e-5)


def test_clip_grad_norm_warning_matches_torch():
    torch = pytest.importorskip("torch")
    tp = torch.nn.Parameter(torch.ones(2))
    tp.grad = torch.ones(2)
    with warnings.catch_warnings(record=True) as tw:
        warnings.simplefilter("always")
        torch.nn.utils.clip_grad_norm([tp], 1.0)
    p = nn.Parameter(ember.ones(2))
    p.grad = ember.ones(2)
    with warnings.catch_warnings(record=True) as ew:
        warnings.simplefilter("always")
        clip_grad_norm([p], 1.0)
    assert [str(w.message) for w in ew] == [str(w.message) for w in tw]
    assert [w.category for w in ew] == [w.category for w in tw]


def test_memory_format_converters_lay_out_conv_weights():
    m = nn.Sequential(nn.Conv2d(2, 3, 3), nn.Sequential(nn.Conv3d(3, 1, 1), nn.ConvTranspose2d(3, 2, 2)))
    before = {k: npy(v).copy() for k, v in m.state_dict().items()}
    assert convert_conv2d_weight_memory_format(m, ember.channels_last) is m
    assert m[0].weight.is_contiguous(memory_format=ember.channels_last)
    assert m[1][1].weight.is_contiguous(memory_format=ember.channels_last)  # nested, transposed conv too
    assert m[1][0].weight.is_contiguous()  # 3-D convs are convert_conv3d's
    assert convert_conv3d_weight_memory_format(m, ember.channels_last_3d) is m
    assert m[1][0].weight.is_contiguous(memory_format=ember.channels_last_3d)
    assert isinstance(m[0].weight, nn.Parameter)
    assert all(np.array_equal(before[k], npy(v)) for k, v in m.state_dict().items())
    convert_conv2d_weight_memory_format(m, ember.contiguous_format)
    assert m[0].weight.is_contiguous()
