"""Lazy modules (LazyLinear, LazyConv*/LazyConvTranspose*, LazyBatchNorm*, LazyInstanceNorm*): shapes inferred on
the first forward, the class switch to the non-lazy layer, outputs equal to that layer's, state_dict round trips,
uninitialized-parameter errors, and reprs / error words against PyTorch."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.nn.modules.instancenorm import _InstanceNorm
from ember.nn.modules.lazy import LazyModuleMixin
from ember.nn.parameter import UninitializedBuffer, UninitializedParameter

rng = np.random.default_rng(0)


def npy(x: ember.Tensor) -> np.ndarray:
    return x.detach().numpy()


def t(*shape: int) -> ember.Tensor:
    return ember.tensor(rng.standard_normal(shape), dtype=ember.float64)


# (lazy class, non-lazy class, constructor args of the lazy one, non-lazy args given in_channels, input shape)
CASES = [
    (nn.LazyLinear, nn.Linear, (3,), lambda c: (c, 3), (4, 5)),
    (nn.LazyConv1d, nn.Conv1d, (4, 3), lambda c: (c, 4, 3), (2, 3, 9)),
    (nn.LazyConv2d, nn.Conv2d, (4, 3), lambda c: (c, 4, 3), (2, 3, 7, 7)),
    (nn.LazyConv3d, nn.Conv3d, (4, 2), lambda c: (c, 4, 2), (2, 3, 4, 4, 4)),
    (nn.LazyConvTranspose1d, nn.ConvTranspose1d, (4, 3), lambda c: (c, 4, 3), (2, 3, 6)),
    (nn.LazyConvTranspose2d, nn.ConvTranspose2d, (4, 3), lambda c: (c, 4, 3), (2, 3, 5, 5)),
    (nn.LazyConvTranspose3d, nn.ConvTranspose3d, (4, 2), lambda c: (c, 4, 2), (2, 3, 3, 3, 3)),
    (nn.LazyBatchNorm1d, nn.BatchNorm1d, (), lambda c: (c,), (4, 3, 5)),
    (nn.LazyBatchNorm2d, nn.BatchNorm2d, (), lambda c: (c,), (4, 3, 5, 5)),
    (nn.LazyBatchNorm3d, nn.BatchNorm3d, (), lambda c: (c,), (2, 3, 3, 3, 3)),
    (nn.LazyInstanceNorm1d, nn.InstanceNorm1d, (), lambda c: (c,), (4, 3, 5)),
    (nn.LazyInstanceNorm2d, nn.InstanceNorm2d, (), lambda c: (c,), (4, 3, 5, 5)),
    (nn.LazyInstanceNorm3d, nn.InstanceNorm3d, (), lambda c: (c,), (2, 3, 3, 3, 3)),
]
IDS = [c[0].__name__ for c in CASES]


def in_size(m: nn.Module) -> int:
    return getattr(m, "in_features", None) or getattr(m, "in_channels", None) or m.num_features


def plain_twin(lazy_cls: type, plain_cls: type, plain_args, c: int) -> nn.Module:
    """The non-lazy layer with the lazy one's options (the lazy norms default to affine and running stats on)."""
    if issubclass(plain_cls, _InstanceNorm):
        return plain_cls(*plain_args(c), affine=True, track_running_stats=True).double()
    return plain_cls(*plain_args(c)).double()


@pytest.mark.parametrize("lazy_cls, plain_cls, args, plain_args, shape", CASES, ids=IDS)
def test_first_forward_infers_shape_and_becomes_plain_layer(lazy_cls, plain_cls, args, plain_args, shape):
    m = lazy_cls(*args).double()
    assert isinstance(m, LazyModuleMixin) and m.has_uninitialized_params()
    assert all(isinstance(p, UninitializedParameter) for p in m.parameters())
    x = t(*shape)
    y = m(x)
    assert type(m) is plain_cls
    assert not isinstance(m, LazyModuleMixin)
    c = shape[-1] if plain_cls is nn.Linear else shape[1]
    assert in_size(m) == c
    assert all(type(p) is nn.Parameter for p in m.parameters())
    assert all(type(b) is ember.Tensor for b in m.buffers())
    ref = plain_twin(lazy_cls, plain_cls, plain_args, c)
    assert [tuple(p.shape) for p in ref.parameters()] == [tuple(p.shape) for p in m.parameters()]
    assert [tuple(b.shape) for b in ref.buffers()] == [tuple(b.shape) for b in m.buffers()]
    m2 = lazy_cls(*args).double()
    m2(x)  # the same statistics update as m's first call
    ref.load_state_dict(m2.state_dict())
    ref.train(m2.training)
    np.testing.assert_allclose(npy(ref(x)), npy(m2(x)), rtol=1e-12, atol=1e-12)
    assert y.shape == ref(x).shape


@pytest.mark.parametrize("lazy_cls, plain_cls, args, plain_args, shape", CASES, ids=IDS)
def test_state_dict_round_trip_into_fresh_lazy_module(lazy_cls, plain_cls, args, plain_args, shape):
    src = lazy_cls(*args).double()
    x = t(*shape)
    src(x)
    src.eval()
    dst = lazy_cls(*args).double()
    dst.load_state_dict(src.state_dict())
    assert not dst.has_uninitialized_params()
    for (k, a), (k2, b) in zip(src.state_dict().items(), dst.state_dict().items()):
        assert k == k2
        np.testing.assert_array_equal(npy(a), npy(b))
    dst.eval()
    np.testing.assert_array_equal(npy(dst(x)), npy(src(x)))
    assert type(dst) is plain_cls
    assert in_size(dst) == in_size(src)


def test_linear_parameters_initialised_as_linear():
    ember.manual_seed(0)
    m = nn.LazyLinear(50)
    m(ember.randn(2, 100))
    bound = 1 / 100**0.5
    w = npy(m.weight)
    assert w.shape == (50, 100) and np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(npy(m.bias)).max() <= bound
    assert m.weight.requires_grad and m.bias.requires_grad


def test_norm_initialisation_and_running_stats_update():
    m = nn.LazyBatchNorm1d().double()
    x = t(8, 3)
    m(x)
    np.testing.assert_array_equal(npy(m.weight), np.ones(3))
    np.testing.assert_array_equal(npy(m.bias), np.zeros(3))
    np.testing.assert_allclose(npy(m.running_mean), 0.1 * npy(x).mean(0), rtol=1e-12)
    assert int(m.num_batches_tracked) == 1
    assert m.running_mean.dtype == ember.float64


def test_no_bias_and_no_affine_options():
    lin = nn.LazyLinear(3, bias=False)
    assert lin.bias is None
    lin(t(2, 4).float())
    assert lin.bias is None and lin.weight.shape == (3, 4)
    bn = nn.LazyBatchNorm2d(affine=False, track_running_stats=False)
    assert bn.weight is None and bn.running_mean is None and not bn.has_uninitialized_params()
    bn(t(2, 3, 2, 2).float())
    assert type(bn) is nn.BatchNorm2d and bn.num_features == 3


def test_unbatched_conv_and_instance_norm_inputs():
    c = nn.LazyConv2d(5, 3)
    assert c(ember.randn(3, 6, 6)).shape == (5, 4, 4)
    assert c.in_channels == 3 and c.weight.shape == (5, 3, 3, 3)
    n = nn.LazyInstanceNorm1d()
    n(ember.randn(3, 7))  # (C, L): C is dim 0
    assert n.num_features == 3


def test_groups_and_transposed_weight_layout():
    c = nn.LazyConv1d(6, 3, groups=2)
    c(ember.randn(1, 4, 8))
    assert c.weight.shape == (6, 2, 3)
    ct = nn.LazyConvTranspose2d(6, 3, groups=3, stride=2)
    ct(ember.randn(1, 9, 4, 4))
    assert ct.weight.shape == (9, 2, 3, 3) and ct.bias.shape == (6,)
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.LazyConv1d(6, 3, groups=2)(ember.randn(1, 3, 8))


def test_conv_rejects_wrong_rank():
    with pytest.raises(RuntimeError, match=r"Expected 3D \(unbatched\) or 4D \(batched\) input to LazyConv2d"):
        nn.LazyConv2d(4, 3)(ember.randn(3, 3))


def test_uninitialized_shape_access_raises():
    m = nn.LazyLinear(3)
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter or buffer"):
        m.weight.shape  # noqa: B018
    bn = nn.LazyBatchNorm1d()
    with pytest.raises(RuntimeError, match="Call `forward` to initialize the parameters"):
        bn.running_mean.shape  # noqa: B018
    assert repr(m.weight) == "<UninitializedParameter>" and repr(bn.running_mean) == "<UninitializedBuffer>"
    with pytest.raises(RuntimeError, match="Can't share memory on an uninitialized parameter"):
        m.weight.share_memory_()


def test_loading_uninitialized_into_initialized_raises_shape_error():
    lazy = nn.LazyLinear(3)
    plain = nn.Linear(4, 3)
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter"):
        plain.load_state_dict(lazy.state_dict())


def test_state_dict_of_lazy_module_holds_uninitialized_entries():
    sd = nn.LazyBatchNorm1d().state_dict()
    assert list(sd) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert isinstance(sd["weight"], UninitializedParameter) and isinstance(sd["running_mean"], UninitializedBuffer)


def test_load_then_forward_sets_in_sizes():
    src = nn.LazyConv2d(4, 3)
    src(ember.randn(1, 2, 5, 5))
    dst = nn.LazyConv2d(4, 3)
    dst.load_state_dict(src.state_dict())
    assert dst.weight.shape == (4, 2, 3, 3)
    dst(ember.randn(1, 2, 5, 5))
    assert type(dst) is nn.Conv2d and dst.in_channels == 2
    lin = nn.LazyLinear(3)
    lin.load_state_dict(nn.Linear(7, 3).state_dict())
    with pytest.raises(AssertionError, match="The in_features inferred from input: 5 is not equal"):
        lin(ember.randn(2, 5))


def test_optimizer_built_before_first_forward_updates_materialized_parameters():
    ember.manual_seed(0)
    m = nn.LazyLinear(2)
    params = list(m.parameters())
    assert len(params) == 2 and all(isinstance(p, UninitializedParameter) for p in params)
    opt = ember.optim.SGD(m.parameters(), lr=0.5)
    y = m(ember.randn(3, 4))
    assert params[0] is m.weight  # materialised in place: the optimizer holds the live parameter
    before = m.weight.detach().clone()
    y.sum().backward()
    opt.step()
    assert not np.allclose(npy(before), npy(m.weight))


def test_to_dtype_before_first_forward():
    m = nn.LazyBatchNorm1d().double()
    assert isinstance(m.running_mean, UninitializedBuffer) and m.running_mean.dtype == ember.float64
    assert m.weight.dtype == ember.float64
    m(t(4, 3))
    assert m.running_var.dtype == ember.float64 and m.weight.dtype == ember.float64


def test_nested_network_and_deepcopy_pickle_of_lazy_module():
    net = nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(2))
    clone = copy.deepcopy(net)
    assert isinstance(clone[0].weight, UninitializedParameter)
    again = pickle.loads(pickle.dumps(net))
    assert isinstance(again[2].weight, UninitializedParameter)
    assert again(ember.randn(5, 4)).shape == (5, 2) and type(again[0]) is nn.Linear and again[0].in_features == 4
    assert net(ember.randn(5, 3)).shape == (5, 2)
    assert [type(m) for m in net] == [nn.Linear, nn.ReLU, nn.Linear]
    assert net[2].in_features == 8
    assert clone(ember.randn(1, 6)).shape == (1, 2)


def test_mixin_interface():
    class Base(LazyModuleMixin, nn.Module):
        pass

    with pytest.raises(NotImplementedError, match="initialize_parameters is not implemented for Base"):
        Base().initialize_parameters()
    assert nn.UninitializedParameter is UninitializedParameter and nn.UninitializedBuffer is UninitializedBuffer
    u = UninitializedParameter(requires_grad=False, dtype=ember.float64)
    u.materialize((2, 3))
    assert type(u) is nn.Parameter and u.shape == (2, 3) and u.dtype == ember.float64 and not u.requires_grad


# ---- against PyTorch ----

REPR_CASES = [
    ("LazyLinear", (3,), {}, (4, 5)),
    ("LazyLinear", (3,), {"bias": False}, (4, 5)),
    ("LazyConv1d", (4, 3), {"stride": 2, "padding": 1}, (2, 3, 9)),
    ("LazyConv2d", (4, 3), {"dilation": 2, "bias": False}, (2, 3, 9, 9)),
    ("LazyConv3d", (4, 2), {}, (1, 2, 3, 3, 3)),
    ("LazyConvTranspose1d", (4, 3), {"output_padding": 1, "stride": 2}, (2, 3, 5)),
    ("LazyConvTranspose2d", (4, 3), {"groups": 2}, (2, 4, 5, 5)),
    ("LazyConvTranspose3d", (4, 2), {}, (1, 2, 3, 3, 3)),
    ("LazyBatchNorm1d", (), {"momentum": 0.3}, (4, 3)),
    ("LazyBatchNorm2d", (), {"affine": False}, (4, 3, 2, 2)),
    ("LazyBatchNorm3d", (), {}, (2, 3, 2, 2, 2)),
    ("LazyInstanceNorm1d", (), {}, (2, 3, 5)),
    ("LazyInstanceNorm2d", (), {"eps": 1e-3}, (2, 3, 4, 4)),
    ("LazyInstanceNorm3d", (), {}, (2, 3, 2, 2, 2)),
]


@pytest.mark.parametrize("name, args, kwargs, shape", REPR_CASES, ids=[c[0] for c in REPR_CASES])
def test_reprs_and_shapes_match_torch(name, args, kwargs, shape):
    torch = pytest.importorskip("torch")
    tm = getattr(torch.nn, name)(*args, **kwargs)
    em = getattr(nn, name)(*args, **kwargs)
    assert repr(em) == repr(tm)
    assert list(em.state_dict()) == list(tm.state_dict())
    x = rng.standard_normal(shape).astype(np.float32)
    ty = tm(torch.from_numpy(x))
    ey = em(ember.tensor(x))
    assert repr(em) == repr(tm)
    assert type(em).__name__ == type(tm).__name__
    assert tuple(ey.shape) == tuple(ty.shape)
    assert {k: tuple(v.shape) for k, v in em.state_dict().items()} == {
        k: tuple(v.shape) for k, v in tm.state_dict().items()
    }


def test_outputs_match_torch_given_same_parameters():
    torch = pytest.importorskip("torch")
    tm = torch.nn.LazyConv2d(4, 3, padding=1).double()
    em = nn.LazyConv2d(4, 3, padding=1).double()
    x = rng.standard_normal((2, 3, 5, 5))
    tm(torch.from_numpy(x))
    em.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    np.testing.assert_allclose(npy(em(ember.tensor(x))), tm(torch.from_numpy(x)).detach().numpy(), 1e-12)


def test_uninitialized_error_words_match_torch():
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError) as te:
        torch.nn.LazyLinear(3).weight.shape  # noqa: B018
    with pytest.raises(RuntimeError) as ee:
        nn.LazyLinear(3).weight.shape  # noqa: B018
    assert str(ee.value) == str(te.value)
    assert repr(nn.LazyLinear(3).weight) == repr(torch.nn.LazyLinear(3).weight)
