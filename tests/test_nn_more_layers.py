"""The rarer torch.nn layers against PyTorch (float64 values and gradients): AdaptiveLogSoftmaxWithLoss,
NLLLoss2d and Container (deprecated spellings), CrossMapLRN2d, functional.conv_tbc and fractional max pooling
(with the same _random_samples the regions, values and indices equal PyTorch's exactly)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

TOL = dict(rtol=1e-10, atol=1e-12)


def to_np(t):
    return t.detach().numpy()


def _pair(a, requires_grad=True):
    """The same float64 array as an ember and a torch leaf."""
    return (
        ember.tensor(a, dtype=ember.float64, requires_grad=requires_grad),
        torch.tensor(a, dtype=torch.float64, requires_grad=requires_grad),
    )


def _close(e, t, what="value"):
    assert tuple(e.shape) == tuple(t.shape), what
    np.testing.assert_allclose(to_np(e), to_np(t), err_msg=what, **TOL)


def _copy_params(module_e, module_t):
    """torch's parameters into ember's module through load_state_dict (the same keys and shapes)."""
    state = {k: ember.tensor(v.detach().numpy()) for k, v in module_t.state_dict().items()}
    module_e.load_state_dict(state)


# ---------------------------------------------------------------------------------------------------------------------
# AdaptiveLogSoftmaxWithLoss


def _asm_pair(in_features=16, n_classes=20, cutoffs=(4, 10, 15), div_value=2.0, head_bias=True):
    torch.manual_seed(0)
    mt = torch.nn.AdaptiveLogSoftmaxWithLoss(in_features, n_classes, list(cutoffs), div_value, head_bias).double()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zero-sized tail Linear layers warn in both libraries
        me = ember.nn.AdaptiveLogSoftmaxWithLoss(
            in_features, n_classes, cutoffs, div_value, head_bias, dtype=ember.float64
        )
    _copy_params(me, mt)
    return me, mt


def test_adaptive_log_softmax_structure_and_repr():
    me, mt = _asm_pair()
    assert repr(me) == repr(mt)
    assert list(me.state_dict().keys()) == list(mt.state_dict().keys())
    for k, v in mt.state_dict().items():
        assert tuple(me.state_dict()[k].shape) == tuple(v.shape), k
    for name in ("shortlist_size", "n_clusters", "head_size", "cutoffs", "in_features", "n_classes", "div_value"):
        assert getattr(me, name) == getattr(mt, name), name
    assert isinstance(me.tail, ember.nn.ModuleList) and isinstance(me.tail[0], ember.nn.Sequential)
    assert "AdaptiveLogSoftmaxWithLoss" in ember.nn.__all__


@pytest.mark.parametrize("head_bias", [False, True])
def test_adaptive_log_softmax_forward_and_grads(head_bias):
    me, mt = _asm_pair(head_bias=head_bias)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((12, 16))
    target = np.array([0, 3, 4, 9, 10, 14, 15, 19, 2, 11, 17, 5])
    xe, xt = _pair(x)
    oe = me(xe, ember.tensor(target))
    ot = mt(xt, torch.tensor(target))
    assert type(oe).__name__ == "_ASMoutput" and oe._fields == ("output", "loss")
    _close(oe.output, ot.output, "output")
    _close(oe.loss, ot.loss, "loss")
    w = rng.standard_normal(12)
    (oe.loss + (oe.output * ember.tensor(w)).sum()).backward()
    (ot.loss + (ot.output * torch.tensor(w)).sum()).backward()
    _close(xe.grad, xt.grad, "input grad")
    pe, pt = dict(me.named_parameters()), dict(mt.named_parameters())
    assert pe.keys() == pt.keys()
    for k in pt:
        _close(pe[k].grad, pt[k].grad, f"grad {k}")


def test_adaptive_log_softmax_unbatched_and_only_shortlist():
    me, mt = _asm_pair()
    x = np.random.default_rng(2).standard_normal(16)
    for target in (2, 12):
        oe = me(ember.tensor(x), ember.tensor(target))
        ot = mt(torch.tensor(x), torch.tensor(target))
        _close(oe.output, ot.output)
        _close(oe.loss, ot.loss)
    xs = np.random.default_rng(3).standard_normal((3, 16))
    _close(me(ember.tensor(xs), ember.tensor([0, 1, 3])).loss, mt(torch.tensor(xs), torch.tensor([0, 1, 3])).loss)


def test_adaptive_log_softmax_log_prob_and_predict():
    me, mt = _asm_pair()
    rng = np.random.default_rng(4)
    x = rng.standard_normal((30, 16)) * 3
    xe, xt = _pair(x)
    le, lt = me.log_prob(xe), mt.log_prob(xt)
    _close(le, lt, "log_prob")
    np.testing.assert_allclose(np.exp(to_np(le)).sum(1), 1.0, rtol=1e-12)
    g = rng.standard_normal((30, 20))
    (le * ember.tensor(g)).sum().backward()
    (lt * torch.tensor(g)).sum().backward()
    _close(xe.grad, xt.grad, "log_prob input grad")
    for k, p in mt.named_parameters():
        _close(dict(me.named_parameters())[k].grad, p.grad, f"log_prob grad {k}")
    pe, pt = me.predict(ember.tensor(x)), mt.predict(torch.tensor(x))
    np.testing.assert_array_equal(pe.numpy(), pt.numpy())
    assert pe.dtype == ember.int64
    # all rows in the shortlist / all rows in clusters: bias the head to force each branch
    with ember.no_grad(), torch.no_grad():
        for col_range in (slice(0, 4), slice(4, 7)):
            bias = np.zeros(7)
            bias[col_range] = 50.0
            me.head.bias.copy_(ember.tensor(bias))
            mt.head.bias.copy_(torch.tensor(bias))
            np.testing.assert_array_equal(me.predict(ember.tensor(x)).numpy(), mt.predict(torch.tensor(x)).numpy())


def test_adaptive_log_softmax_errors():
    with pytest.raises(ValueError, match="cutoffs should be a sequence of length larger than 0"):
        ember.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [])
    for bad in ([5, 3], [0, 3], [3, 10], [3, 3], [2.5]):
        with pytest.raises(ValueError, match="unique, positive"):
            ember.nn.AdaptiveLogSoftmaxWithLoss(8, 10, bad)
    me, _ = _asm_pair()
    with pytest.raises(RuntimeError, match="same size in the batch dimension"):
        me(ember.zeros(3, 16, dtype=ember.float64), ember.tensor([0, 1]))
    with pytest.raises(RuntimeError, match=r"Target values should be in \[0, 19\]"):
        me(ember.zeros(2, 16, dtype=ember.float64), ember.tensor([0, 20]))
    with pytest.raises(RuntimeError, match="multi-target not supported"):
        me(ember.zeros(2, 16, dtype=ember.float64), ember.tensor([[0, 1]]))


# ---------------------------------------------------------------------------------------------------------------------
# NLLLoss2d and Container: PyTorch's deprecated spellings


def test_nll_loss2d_deprecated_and_equal_to_nll_loss():
    with pytest.warns(FutureWarning, match="`NLLLoss2d` has been deprecated"):
        le = ember.nn.NLLLoss2d(ignore_index=1, reduction="sum")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        lt = torch.nn.NLLLoss2d(ignore_index=1, reduction="sum")
    assert isinstance(le, ember.nn.NLLLoss) and repr(le) == repr(lt) == "NLLLoss2d()"
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 4, 3, 3))
    target = rng.integers(0, 4, (2, 3, 3))
    xe, xt = _pair(x)
    oe = le(ember.nn.functional.log_softmax(xe, 1), ember.tensor(target))
    ot = lt(torch.log_softmax(xt, 1), torch.tensor(target))
    _close(oe, ot)
    oe.backward()
    ot.backward()
    _close(xe.grad, xt.grad, "grad")
    assert "NLLLoss2d" in ember.nn.__all__


def test_container_deprecated_kwargs_become_children():
    with pytest.warns(FutureWarning, match="`nn.Container` is deprecated"):
        ce = ember.nn.Container(fc=ember.nn.Linear(2, 3), act=ember.nn.ReLU())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        ct = torch.nn.Container(fc=torch.nn.Linear(2, 3), act=torch.nn.ReLU())
    assert repr(ce) == repr(ct)
    assert [n for n, _ in ce.named_children()] == ["fc", "act"]
    assert list(ce.state_dict().keys()) == list(ct.state_dict().keys())
    assert isinstance(ce, ember.nn.Module) and "Container" in ember.nn.__all__


# ---------------------------------------------------------------------------------------------------------------------
# CrossMapLRN2d


@pytest.mark.parametrize("channels,size", [(7, 5), (7, 3), (3, 5), (6, 4), (1, 3), (8, 2), (10, 7)])
def test_cross_map_lrn2d_values_and_grads(channels, size):
    rng = np.random.default_rng(channels * 10 + size)
    x = rng.standard_normal((2, channels, 3, 4))
    me, mt = ember.nn.CrossMapLRN2d(size, alpha=0.3, beta=0.75, k=2.0), torch.nn.CrossMapLRN2d(size, 0.3, 0.75, 2.0)
    assert repr(me) == repr(mt)
    xe, xt = _pair(x)
    oe, ot = me(xe), mt(xt)
    _close(oe, ot, "output")
    g = rng.standard_normal(x.shape)
    oe.backward(ember.tensor(g))
    ot.backward(torch.tensor(g))
    _close(xe.grad, xt.grad, "grad (PyTorch's legacy backward formula)")


def test_cross_map_lrn2d_defaults_and_errors():
    assert repr(ember.nn.CrossMapLRN2d(3)) == repr(torch.nn.CrossMapLRN2d(3))
    x = np.random.default_rng(0).standard_normal((1, 4, 2, 2)) * 10
    _close(ember.nn.CrossMapLRN2d(3)(ember.tensor(x)), torch.nn.CrossMapLRN2d(3)(torch.tensor(x)))
    # size 1 (no neighbours): the values agree; PyTorch's own backward raises for it, so no gradient comparison
    _close(ember.nn.CrossMapLRN2d(1)(ember.tensor(x)), torch.nn.CrossMapLRN2d(1)(torch.tensor(x)))
    with pytest.raises(ValueError, match="Expected input to be 4D, got 3D instead"):
        ember.nn.CrossMapLRN2d(3)(ember.zeros(2, 3, 4))


# ---------------------------------------------------------------------------------------------------------------------
# conv_tbc


@pytest.mark.parametrize("pad", [0, 1, 2])
def test_conv_tbc_values_and_grads(pad):
    rng = np.random.default_rng(pad)
    x, w, b = rng.standard_normal((7, 3, 4)), rng.standard_normal((3, 4, 5)), rng.standard_normal(5)
    (xe, xt), (we, wt), (be, bt) = _pair(x), _pair(w), _pair(b)
    oe = ember.nn.functional.conv_tbc(xe, we, be, pad)
    ot = torch.nn.functional.conv_tbc(xt, wt, bt, pad)
    _close(oe, ot, "output")
    g = rng.standard_normal(tuple(ot.shape))
    oe.backward(ember.tensor(g))
    ot.backward(torch.tensor(g))
    for e, t, what in ((xe, xt, "input"), (we, wt, "weight"), (be, bt, "bias")):
        _close(e.grad, t.grad, f"grad {what}")
    assert "conv_tbc" in ember.nn.functional.__all__


def test_conv_tbc_errors():
    F = ember.nn.functional
    z = ember.zeros
    cases = [
        ((3, 2), (2, 2, 6), (6,), "Input must have 3 dims"),
        ((3, 2, 4), (2, 4), (6,), "Weight tensor must have 3 dims"),
        ((3, 2, 4), (2, 4, 6), (5,), "Bias size must equal dim 2"),
        ((3, 2, 4), (2, 5, 6), (6,), "Input dim 2 \\(input channels\\) is not == dim 1"),
    ]
    for xs, ws, bs, msg in cases:
        with pytest.raises(RuntimeError, match=msg):
            F.conv_tbc(z(*xs), z(*ws), z(*bs))


# ---------------------------------------------------------------------------------------------------------------------
# fractional max pooling


FRACTIONAL_CASES = [
    # (nd, input shape, kernel_size, output_size, output_ratio)
    (2, (2, 3, 9, 11), 3, (4, 5), None),
    (2, (2, 3, 10, 10), (2, 3), None, (0.5, 0.7)),
    (2, (3, 7, 7), 2, 6, None),
    (2, (1, 2, 5, 6), 2, 1, None),
    (3, (2, 2, 7, 8, 9), 2, (4, 5, 3), None),
    (3, (2, 6, 7, 5), (2, 3, 2), None, 0.5),
]


@pytest.mark.parametrize("case", FRACTIONAL_CASES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_fractional_max_pool_matches_torch(case, dtype):
    nd, shape, kernel_size, output_size, output_ratio = case
    edtype, tdtype = getattr(ember, dtype), getattr(torch, dtype)
    rng = np.random.default_rng(len(shape) * 7 + nd)
    x = rng.standard_normal(shape)
    batch = shape[0] if len(shape) == nd + 2 else 1
    samples = rng.random((batch, shape[-nd - 1], nd))
    fe = getattr(ember.nn.functional, f"fractional_max_pool{nd}d")
    ft = getattr(torch.nn.functional, f"fractional_max_pool{nd}d")
    xe = ember.tensor(x, dtype=edtype, requires_grad=True)
    xt = torch.tensor(x, dtype=tdtype, requires_grad=True)
    kwargs = dict(output_size=output_size, output_ratio=output_ratio, return_indices=True)
    ve, ie = fe(xe, kernel_size, _random_samples=ember.tensor(samples, dtype=edtype), **kwargs)
    vt, it = ft(xt, kernel_size, _random_samples=torch.tensor(samples, dtype=tdtype), **kwargs)
    assert ie.dtype == ember.int64
    np.testing.assert_array_equal(ie.numpy(), it.numpy())
    np.testing.assert_array_equal(to_np(ve), to_np(vt))
    g = rng.standard_normal(tuple(vt.shape))
    ve.backward(ember.tensor(g, dtype=edtype))
    vt.backward(torch.tensor(g, dtype=tdtype))
    np.testing.assert_allclose(to_np(xe.grad), to_np(xt.grad), rtol=1e-6, atol=1e-6)
    # the module, with the samples as its buffer, and the _with_indices spelling agree
    me = getattr(ember.nn, f"FractionalMaxPool{nd}d")(
        kernel_size, output_size, output_ratio, _random_samples=ember.tensor(samples, dtype=edtype)
    )
    np.testing.assert_array_equal(to_np(me(xe)), to_np(vt))
    with_indices = getattr(ember.nn.functional, f"fractional_max_pool{nd}d_with_indices")
    np.testing.assert_array_equal(
        with_indices(xe, kernel_size, output_size, output_ratio, _random_samples=ember.tensor(samples, dtype=edtype))[
            1
        ].numpy(),
        it.numpy(),
    )


def test_fractional_max_pool_ties_nan_and_random_samples():
    F = ember.nn.functional
    x = np.zeros((1, 1, 6, 6))
    x[0, 0, 2, 3] = np.nan
    x[0, 0, 3, 3] = np.nan
    s = np.random.default_rng(0).random((1, 1, 2))
    ve, ie = F.fractional_max_pool2d(ember.tensor(x), 3, 3, return_indices=True, _random_samples=ember.tensor(s))
    vt, it = torch.nn.functional.fractional_max_pool2d(
        torch.tensor(x), 3, 3, return_indices=True, _random_samples=torch.tensor(s)
    )
    np.testing.assert_array_equal(ie.numpy(), it.numpy())
    np.testing.assert_array_equal(ve.numpy(), vt.numpy())
    # without _random_samples: fresh samples each call, every output a max of a kernel window
    xr = ember.randn(2, 3, 8, 8, dtype=ember.float64)
    v, i = F.fractional_max_pool2d(xr, 2, output_ratio=0.5, return_indices=True)
    assert tuple(v.shape) == (2, 3, 4, 4)
    np.testing.assert_array_equal(
        v.numpy(), np.take_along_axis(xr.numpy().reshape(2, 3, -1), i.numpy().reshape(2, 3, -1), 2).reshape(2, 3, 4, 4)
    )


def test_fractional_max_pool_modules_and_errors():
    for nd in (2, 3):
        me = getattr(ember.nn, f"FractionalMaxPool{nd}d")(2, output_ratio=0.5, return_indices=True)
        mt = getattr(torch.nn, f"FractionalMaxPool{nd}d")(2, output_ratio=0.5, return_indices=True)
        assert repr(me) == repr(mt)
        for attr in ("kernel_size", "output_size", "output_ratio", "return_indices"):
            assert getattr(me, attr) == getattr(mt, attr), attr
        assert list(me.state_dict()) == list(mt.state_dict()) == []
        assert f"FractionalMaxPool{nd}d" in ember.nn.__all__
        assert f"fractional_max_pool{nd}d_with_indices" in ember.nn.functional.__all__
    with pytest.raises(ValueError, match="requires specifying either an output size, or a pooling ratio"):
        ember.nn.FractionalMaxPool2d(2)
    with pytest.raises(ValueError, match="only one of output_size and output_ratio"):
        ember.nn.FractionalMaxPool2d(2, 3, 0.5)
    with pytest.raises(ValueError, match="output_ratio must be between 0 and 1"):
        ember.nn.FractionalMaxPool3d(2, output_ratio=1.5)
    with pytest.raises(ValueError, match="kernel_size must be greater than 0"):
        ember.nn.FractionalMaxPool2d(0, output_size=2)
    F = ember.nn.functional
    with pytest.raises(ValueError, match="fractional_max_pool2d requires specifying either an output_size"):
        F.fractional_max_pool2d(ember.zeros(1, 1, 4, 4), 2)
    with pytest.raises(RuntimeError, match="pool height 3 too large relative to input height 4"):
        F.fractional_max_pool2d(ember.zeros(1, 2, 4, 4), 3, 3)
    with pytest.raises(RuntimeError, match="pool time 3 too large relative to input time 4"):
        F.fractional_max_pool3d(ember.zeros(1, 2, 4, 4, 4), 3, 3)
    with pytest.raises(RuntimeError, match="no less then input batch size"):
        F.fractional_max_pool2d(ember.zeros(2, 2, 4, 4), 2, 2, _random_samples=ember.rand(1, 2, 2))
