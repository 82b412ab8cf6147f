"""The storage dtypes uint8, int8, int16, float16 and bfloat16 (Note [Storage dtypes] in csrc/core/dtype.h):
held and converted natively, computed in int32/float32 and narrowed once per op. Values against numpy
(float16 and the small integers in numpy's own types; bfloat16 against a float32 bit-level reference)."""

import io
import math
import pickle

import numpy as np
import pytest

import ember

SMALL_INTS = [(ember.uint8, np.uint8), (ember.int8, np.int8), (ember.int16, np.int16)]
HALVES = [ember.float16, ember.bfloat16]


def bf16_round(a):
    """float32 -> bfloat16 -> float32 with round-to-nearest-even, NaN kept: the reference for bfloat16."""
    bits = np.asarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16 << 16).astype(np.uint32)
    out = rounded.view(np.float32)
    return np.where(np.isnan(a), np.float32("nan"), out)


def as_dtype(a, dt):
    """numpy float32 values rounded to dt (float16 or bfloat16), as float32."""
    return np.asarray(a, np.float16).astype(np.float32) if dt == ember.float16 else bf16_round(a)


def values(t):
    return np.asarray(t.float().numpy() if t.dtype == ember.bfloat16 else t.numpy())


def interesting_floats(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    parts = [
        rng.standard_normal(n) * 10.0 ** rng.integers(-9, 6, n),  # many magnitudes, subnormal halves too
        [0.0, -0.0, np.inf, -np.inf, np.nan, 65504, 65519.99, 65520, 1e-8, 5.96e-8, 2.98e-8, 3.0e-8, -3.0e-8],
    ]
    return np.concatenate([np.asarray(p, np.float64) for p in parts]).astype(np.float32)


# ----------------------------------------------------------------------------- dtype objects and promotion


def test_dtype_objects_and_aliases():
    assert ember.half is ember.float16 and ember.short is ember.int16
    for dt, size, signed, floating in [
        (ember.uint8, 1, False, False),
        (ember.int8, 1, True, False),
        (ember.int16, 2, True, False),
        (ember.float16, 2, True, True),
        (ember.bfloat16, 2, True, True),
    ]:
        assert dt.itemsize == size and dt.is_signed == signed and dt.is_floating_point == floating
        assert repr(dt) == "ember." + dt.name
        assert ember.empty(3, dtype=dt).element_size() == size
        assert pickle.loads(pickle.dumps(dt)) == dt


def test_promotion_follows_pytorchs_table():
    P = ember.promote_types
    assert P(ember.uint8, ember.int8) == ember.int16
    assert P(ember.uint8, ember.int16) == ember.int16
    assert P(ember.int8, ember.int32) == ember.int32
    assert P(ember.float16, ember.bfloat16) == ember.float32
    assert P(ember.float16, ember.int64) == ember.float16
    assert P(ember.bfloat16, ember.float64) == ember.float64
    assert P(ember.bool, ember.uint8) == ember.uint8
    u8 = ember.tensor([1, 2], dtype=ember.uint8)
    assert (u8 + 1).dtype == ember.uint8  # a Python number does not widen
    assert (u8 + 1.5).dtype == ember.float32
    assert (u8 + ember.tensor(3)).dtype == ember.uint8  # a 0-d tensor of the same category neither
    assert (u8 + ember.tensor([1], dtype=ember.int8)).dtype == ember.int16
    h = ember.tensor([1.0], dtype=ember.float16)
    assert (h * 2.0).dtype == ember.float16 and (h * ember.tensor(2.0)).dtype == ember.float16
    assert (h + ember.tensor([1], dtype=ember.bfloat16)).dtype == ember.float32
    assert (u8 / 2).dtype == ember.float32 and u8.sum().dtype == ember.int64 and h.sum().dtype == ember.float16


# ----------------------------------------------------------------------------- conversions


def test_float16_conversion_matches_numpy_bit_for_bit():
    a = interesting_floats()
    got = ember.from_numpy(a).half().numpy()
    with np.errstate(over="ignore"):  # numpy warns where a value rounds to infinity
        want = a.astype(np.float16)
    np.testing.assert_array_equal(got.view(np.uint16), want.view(np.uint16))
    back = ember.from_numpy(got).float().numpy()
    np.testing.assert_array_equal(back, got.astype(np.float32))


def test_bfloat16_conversion_rounds_to_nearest_even():
    a = interesting_floats(seed=1)
    got = ember.from_numpy(a).bfloat16().float().numpy()
    np.testing.assert_array_equal(got, bf16_round(a))
    # halfway between 1 and 1 + 2^-7 rounds to even (1), just above rounds up
    t = ember.tensor([1 + 2.0**-8, 1 + 2.0**-8 + 2.0**-20, 1 + 3 * 2.0**-8], dtype=ember.bfloat16)
    assert t.tolist() == [1.0, 1 + 2.0**-7, 1 + 2 * 2.0**-7]


@pytest.mark.parametrize("dt,np_dt", SMALL_INTS)
def test_integer_conversions_wrap_as_pytorch(dt, np_dt):
    src = np.array([-300, -129, -1, 0, 1, 127, 128, 255, 256, 40000], dtype=np.int64)
    got = ember.from_numpy(src).to(dt).numpy()
    np.testing.assert_array_equal(got, src.astype(np_dt))
    floats = ember.tensor([-1.7, 2.9, 100.5])
    np.testing.assert_array_equal(floats.to(dt).numpy(), np.array([-1, 2, 100]).astype(np_dt))
    assert ember.tensor([0, 3], dtype=dt).bool().tolist() == [False, True]


def test_numpy_round_trips_share_memory():
    for np_dt in (np.uint8, np.int8, np.int16, np.float16):
        a = np.arange(6, dtype=np_dt).reshape(2, 3)
        t = ember.from_numpy(a)
        assert t.dtype == getattr(ember, np.dtype(np_dt).name)
        t[0, 0] = 5
        assert a[0, 0] == 5 and t.numpy().dtype == np_dt
        assert ember.tensor(a).dtype == t.dtype and ember.as_tensor(a).dtype == t.dtype
    with pytest.raises(TypeError, match="Got unsupported ScalarType BFloat16"):
        ember.ones(2, dtype=ember.bfloat16).numpy()
    with pytest.raises(TypeError, match="can't convert np.ndarray of type"):
        ember.from_numpy(np.zeros(2, dtype=np.complex64))


def test_methods_and_legacy_names():
    x = ember.tensor([1.5, -2.0])
    assert x.half().dtype == ember.float16 and x.bfloat16().dtype == ember.bfloat16
    assert x.byte().dtype == ember.uint8 and x.char().dtype == ember.int8 and x.short().dtype == ember.int16
    assert x.type("torch.HalfTensor").dtype == ember.float16 and x.half().type() == "ember.HalfTensor"
    b = ember.ByteTensor([1, 2, 255])
    assert b.dtype == ember.uint8 and isinstance(b, ember.ByteTensor) and not isinstance(b, ember.CharTensor)
    assert ember.BFloat16Tensor(2, 3).shape == (2, 3) and ember.ShortTensor([1]).dtype == ember.int16
    assert x.to(ember.float16).tolist() == [1.5, -2.0] and x.bfloat16().tolist() == [1.5, -2.0]
    assert ember.tensor(3, dtype=ember.uint8).item() == 3 and isinstance(ember.tensor(2.5).half().item(), float)


# ----------------------------------------------------------------------------- arithmetic


@pytest.mark.parametrize("dt,np_dt", SMALL_INTS)
def test_integer_arithmetic_wraps_as_numpy(dt, np_dt):
    rng = np.random.default_rng(2)
    info = np.iinfo(np_dt)
    a = rng.integers(info.min, info.max + 1, 200).astype(np_dt)
    b = rng.integers(1, min(info.max, 50), 200).astype(np_dt)
    ta, tb = ember.from_numpy(a.copy()), ember.from_numpy(b.copy())
    with np.errstate(over="ignore"):
        for got, want in [
            (ta + tb, a + b),
            (ta - tb, a - b),
            (ta * tb, a * b),
            (ta // tb, a // b),
            (ta % tb, a % b),
            (ta & tb, a & b),
            (ta | tb, a | b),
            (ta ^ tb, a ^ b),
            (~ta, ~a),
            (ta << 2, (a.astype(np.int64) << 2).astype(np_dt)),
            (ta >> 1, a >> 1),
            (ta.abs(), np.abs(a)),
            (ta.maximum(tb), np.maximum(a, b)),
        ]:
            assert got.dtype == dt
            np.testing.assert_array_equal(got.numpy(), want)
        if dt != ember.uint8:
            np.testing.assert_array_equal((-ta).numpy(), -a)
    np.testing.assert_array_equal((ta < tb).numpy(), a < b)
    np.testing.assert_allclose((ta / tb).numpy(), a.astype(np.float32) / b, rtol=1e-6)


@pytest.mark.parametrize("dt", HALVES)
def test_half_float_ops_round_the_float32_result_once(dt):
    rng = np.random.default_rng(3)
    a = as_dtype(rng.standard_normal(300).astype(np.float32) * 3, dt)
    b = as_dtype(rng.uniform(0.5, 2.0, 300).astype(np.float32), dt)
    ta, tb = ember.tensor(a).to(dt), ember.tensor(b).to(dt)
    exact = [
        (ta + tb, a + b),
        (ta * tb, a * b),
        (ta / tb, a / b),
        (ta - 1.5, a - np.float32(1.5)),
        (ta.clamp(-1, 1), np.clip(a, -1, 1)),
        (ember.where(ta > 0, ta, tb), np.where(a > 0, a, b)),
        (ta.relu(), np.maximum(a, 0)),
    ]
    for got, want in exact:
        assert got.dtype == dt
        np.testing.assert_array_equal(values(got), as_dtype(want.astype(np.float32), dt))
    # transcendental functions: float32's result (to within its last bit) rounded once
    eps = ember.finfo(dt).eps
    for got, want in [(ta.exp(), np.exp(a)), (tb.log(), np.log(b)), (ta.tanh(), np.tanh(a)), (tb.sqrt(), np.sqrt(b))]:
        assert got.dtype == dt
        np.testing.assert_allclose(values(got), want, rtol=eps, atol=1e-6)


@pytest.mark.parametrize("dt", HALVES)
def test_half_float_scalars_and_composites_as_pytorch(dt):
    """Note [Half-float arithmetic]: mul and the divisions keep a number in float32 (x * 0.1 is x * 0.1f
    rounded once), add and sub round it to the dtype first; lerp, addcmul/addcdiv and add with alpha
    compute in float32 and round once, where rounding after each step differed in 5-25% of elements."""
    rng = np.random.default_rng(4)
    a = as_dtype(rng.standard_normal(2000).astype(np.float32), dt)
    b = as_dtype(rng.standard_normal(2000).astype(np.float32), dt)
    ta, tb = ember.tensor(a).to(dt), ember.tensor(b).to(dt)
    f = np.float32
    exact = [
        (ta * 0.1, a * f(0.1)),
        (ta * ember.tensor(0.1, dtype=ember.float64), a * f(0.1)),
        (ta.clone().mul_(0.1), a * f(0.1)),
        (ember._foreach_mul_([ta.clone()], 0.1)[0], a * as_dtype(f(0.1), dt)),  # PyTorch's in-place foreach rounds it
        (ta / 3.0, a / f(3.0)),
        (ta.clone().div_(0.7), a / f(0.7)),
        (ta + 0.1, a + as_dtype(f(0.1), dt)),
        (ember.lerp(ta, tb, 0.1), a + f(0.1) * (b - a)),
        (ember.addcdiv(ta, tb, tb.abs() + 1, value=0.3), a + f(0.3) * b / as_dtype(np.abs(b) + 1, dt)),
    ]
    for i, (got, want) in enumerate(exact):
        assert got.dtype == dt
        np.testing.assert_array_equal(values(got), as_dtype(want.astype(np.float32), dt), err_msg=f"case {i}")
    once = [  # a fused multiply-add (PyTorch's) may differ in the last bit
        (ember.add(ta, tb, alpha=0.1), a + as_dtype(f(0.1), dt) * b),
        (ta.clone().sub_(tb, alpha=0.3), a - as_dtype(f(0.3), dt) * b),
        (ember.addcmul(ta, tb, tb, value=0.3), a + f(0.3) * b * b),
        (ember.lerp(ta, tb, 0.7), b - (b - a) * f(0.3)),
    ]
    for got, want in once:
        assert got.dtype == dt
        assert np.mean(values(got) != as_dtype(want.astype(np.float32), dt)) < 0.005


@pytest.mark.parametrize("dt", HALVES)
def test_half_float_reductions_and_products_accumulate_in_float(dt):
    rng = np.random.default_rng(4)
    a = as_dtype(rng.standard_normal((8, 64)).astype(np.float32), dt)
    b = as_dtype(rng.standard_normal((64, 5)).astype(np.float32), dt)
    ta, tb = ember.tensor(a).to(dt), ember.tensor(b).to(dt)
    for got, want in [
        (ta.sum(1), a.sum(1, dtype=np.float64)),
        (ta.mean(), a.mean(dtype=np.float64)),
        (ta @ tb, a.astype(np.float64) @ b),
        (ta.softmax(1), np.exp(a) / np.exp(a).sum(1, keepdims=True)),
        (ta.cumsum(1), np.cumsum(a, 1, dtype=np.float64)),
    ]:
        assert got.dtype == dt
        np.testing.assert_array_equal(values(got), as_dtype(want.astype(np.float32), dt))
    assert ta.max().item() == a.max() and ta.argmin().item() == a.argmin()
    sv, si = ta.sort(1)
    np.testing.assert_array_equal(values(sv), np.sort(a, 1))
    np.testing.assert_array_equal(si.numpy(), np.argsort(a, 1, kind="stable"))


@pytest.mark.parametrize("dt,np_dt", SMALL_INTS)
def test_integer_reductions(dt, np_dt):
    a = np.random.default_rng(5).integers(0, 100, (4, 6)).astype(np_dt)
    t = ember.from_numpy(a)
    assert t.sum().dtype == ember.int64 and t.sum().item() == a.astype(np.int64).sum()
    np.testing.assert_array_equal(t.sum(0).numpy(), a.sum(0, dtype=np.int64))
    assert t.max().dtype == dt and t.max().item() == a.max()
    np.testing.assert_array_equal(t.argmax(1).numpy(), a.argmax(1))
    np.testing.assert_array_equal(t.cumsum(1).numpy(), a.cumsum(1, dtype=np.int64))
    np.testing.assert_array_equal(t.unique().numpy(), np.unique(a))
    with pytest.raises(
        RuntimeError, match="mean.*Got: " + {"uint8": "Byte", "int8": "Char", "int16": "Short"}[dt.name]
    ):
        t.mean()


# ----------------------------------------------------------------------------- memory: views, in place, indexing


def test_views_and_in_place_ops_write_the_narrow_storage():
    x = ember.zeros(2, 3, dtype=ember.uint8)
    row = x[1]
    row.add_(250)
    row[0] += 10  # wraps: 260 -> 4
    x.t()[2, 0] = 7
    assert x.tolist() == [[0, 0, 7], [4, 250, 250]]
    x.mul_(2)
    assert x.tolist() == [[0, 0, 14], [8, 244, 244]]
    h = ember.ones(4, dtype=ember.float16)
    h[1:3].mul_(0.1)
    np.testing.assert_array_equal(h.numpy(), np.array([1, 0.1, 0.1, 1], np.float16))
    h.index_fill_(0, ember.tensor([3]), 2.5).clamp_(max=2)
    assert h.numpy()[3] == 2 and h.dtype == ember.float16
    idx = ember.tensor([2, 0, 2])
    assert ember.tensor([10, 20, 30], dtype=ember.int8)[idx].tolist() == [30, 10, 30]
    acc = ember.zeros(3, dtype=ember.float16).index_add_(0, idx, ember.ones(3, dtype=ember.float16))
    assert acc.tolist() == [1.0, 0.0, 2.0]
    s = ember.zeros(2, 3, dtype=ember.bfloat16).scatter_add_(
        1, ember.tensor([[0, 0], [2, 1]]), ember.ones(2, 2).bfloat16()
    )
    assert s.tolist() == [[2.0, 0.0, 0.0], [0.0, 1.0, 1.0]]
    assert ember.cat([ember.ones(1, dtype=ember.int16), ember.zeros(1, dtype=ember.uint8)]).dtype == ember.int16


def test_uint8_index_is_a_deprecated_mask_and_small_int_indices_are_refused():
    x = ember.arange(4.0)
    with pytest.warns(UserWarning, match="indexing with dtype torch.uint8 is now deprecated"):
        assert x[ember.tensor([1, 0, 3, 0], dtype=ember.uint8)].tolist() == [0.0, 2.0]
    with pytest.raises(IndexError, match="tensors used as indices must be long, int, byte or bool tensors"):
        x[ember.tensor([1, 2], dtype=ember.int8)]


def test_creation_functions():
    for dt in (ember.uint8, ember.int8, ember.int16, ember.float16, ember.bfloat16):
        assert ember.zeros(2, dtype=dt).tolist() == [0, 0] and ember.ones(2, dtype=dt).dtype == dt
        assert ember.full((2,), 7, dtype=dt).tolist() == [7, 7]
        assert ember.arange(4, dtype=dt).tolist() == [0, 1, 2, 3]
        assert ember.eye(2, dtype=dt).tolist() == [[1, 0], [0, 1]]
        assert sorted(ember.randperm(5, dtype=dt).tolist()) == [0, 1, 2, 3, 4]
        assert ember.randint(0, 5, (50,), dtype=dt).dtype == dt
        assert ember.zeros_like(ember.ones(2, dtype=dt)).dtype == dt
    assert ember.full((1,), -1, dtype=ember.uint8).item() == 255
    for dt in HALVES:
        r = ember.rand(10000, dtype=dt)
        assert r.dtype == dt and 0 <= r.min().item() and r.max().item() < 1
        assert abs(ember.randn(10000, dtype=dt).float().std().item() - 1) < 0.05
        np.testing.assert_array_equal(values(ember.linspace(0, 1, 5, dtype=dt)), [0, 0.25, 0.5, 0.75, 1])
    with pytest.raises(RuntimeError, match="not implemented"):
        ember.randn(3, dtype=ember.uint8)


# ----------------------------------------------------------------------------- autograd and nn


def test_only_floating_small_dtypes_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        ember.zeros(2, dtype=ember.uint8, requires_grad=True)
    assert ember.zeros(2, dtype=ember.float16, requires_grad=True).requires_grad


@pytest.mark.parametrize("dt", HALVES)
def test_gradients_in_half_floats_follow_float32(dt):
    rng = np.random.default_rng(6)
    a = as_dtype(rng.standard_normal((4, 5)).astype(np.float32), dt)
    w = as_dtype(rng.standard_normal((5, 3)).astype(np.float32), dt)
    grads = {}
    for run in (dt, ember.float32):
        x = ember.tensor(a, dtype=run, requires_grad=True)
        m = ember.tensor(w, dtype=run, requires_grad=True)
        y = (x @ m).tanh().sum() + (x * x).mean()
        y.backward()
        assert x.grad.dtype == run and m.grad.dtype == run
        assert y.grad_fn.name() == "AddBackward0"
        grads[run] = (values(x.grad), values(m.grad))
    tol = 4 * ember.finfo(dt).eps
    for half, full in zip(grads[dt], grads[ember.float32]):
        np.testing.assert_allclose(half, full, rtol=tol, atol=tol)


@pytest.mark.parametrize("dt", HALVES)
def test_a_small_network_trains_in_half_floats(dt):
    ember.manual_seed(0)
    net = ember.nn.Sequential(
        ember.nn.Conv2d(1, 4, 3, padding=1),
        ember.nn.ReLU(),
        ember.nn.MaxPool2d(2),
        ember.nn.Flatten(),
        ember.nn.Linear(4 * 4 * 4, 3),
    ).to(dt)
    assert all(p.dtype == dt for p in net.parameters())
    opt = ember.optim.Adam(net.parameters(), lr=0.01)
    x = ember.randn(16, 1, 8, 8, dtype=dt)
    target = ember.randint(0, 3, (16,))
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = ember.nn.functional.cross_entropy(net(x), target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert loss.dtype == dt and all(math.isfinite(v) for v in losses)
    assert losses[-1] < 0.6 * losses[0]
    assert opt.state[net[0].weight]["exp_avg"].dtype == dt


def test_module_half_and_bfloat16_keep_integer_buffers():
    bn = ember.nn.BatchNorm1d(3).half()
    assert bn.weight.dtype == ember.float16 and bn.num_batches_tracked.dtype == ember.int64
    assert ember.nn.Linear(2, 2).bfloat16().weight.dtype == ember.bfloat16
    assert ember.nn.Linear(2, 2).half().float().weight.dtype == ember.float32


# ----------------------------------------------------------------------------- save, repr, limits


def test_save_load_round_trip_every_dtype():
    state = {dt.name: ember.arange(6, dtype=dt).view(2, 3).t() for dt in (ember.uint8, ember.int8, ember.int16)}
    state.update({dt.name: ember.linspace(-1, 1, 6, dtype=dt) for dt in HALVES})
    buf = io.BytesIO()
    ember.save(state, buf)
    buf.seek(0)
    loaded = ember.load(buf)
    for name, t in state.items():
        assert loaded[name].dtype == t.dtype and loaded[name].tolist() == t.tolist()


def test_repr_and_limits():
    assert repr(ember.tensor([1.5, 2.0], dtype=ember.float16)) == "tensor([1.5000, 2.0000], dtype=ember.float16)"
    assert repr(ember.tensor([1, 200], dtype=ember.uint8)) == "tensor([  1, 200], dtype=ember.uint8)"
    assert f"{ember.tensor(2.5, dtype=ember.bfloat16)}" == "2.5"
    assert ember.finfo(ember.float16).max == 65504 and ember.finfo(ember.float16).eps == 2.0**-10
    assert ember.finfo(ember.bfloat16).eps == 2.0**-7 and ember.finfo(ember.bfloat16).bits == 16
    assert (ember.iinfo(ember.uint8).min, ember.iinfo(ember.uint8).max) == (0, 255)
    assert (ember.iinfo(ember.int8).min, ember.iinfo(ember.int16).max) == (-128, 32767)
    assert ember.tensor([70000.0]).half().isinf().item()


# ----------------------------------------------------------------------------- view(dtype)


def test_view_dtype_reads_the_same_bytes():
    a = np.array([[1.0, -2.5], [3.0, 0.1]], np.float32)
    x = ember.from_numpy(a.copy())
    np.testing.assert_array_equal(x.view(ember.int32).numpy(), a.view(np.int32))
    np.testing.assert_array_equal(x.view(ember.uint8).numpy(), a.view(np.uint8))
    np.testing.assert_array_equal(x.view(ember.int16).numpy(), a.view(np.int16))
    np.testing.assert_array_equal(x.view(ember.float64).numpy(), a.view(np.float64))
    halves = (a.view(np.uint16).astype(np.uint32) << 16).view(np.float32)  # each 16 bits as a bfloat16
    np.testing.assert_array_equal(x.view(ember.bfloat16).float().numpy(), halves)
    h = ember.tensor([1.0, -2.0], dtype=ember.float16)
    np.testing.assert_array_equal(h.view(ember.int16).numpy(), np.array([1.0, -2.0], np.float16).view(np.int16))
    # a view: writes show through, and the version counter is shared
    u = x.view(ember.uint8)
    u[0, :4] = ember.tensor([0, 0, 128, 63], dtype=ember.uint8)  # 1.0 little-endian
    assert x[0, 0].item() == 1.0 and x._version == u._version
    # a strided row of whole elements views; the sizes follow PyTorch's rules and words
    assert x[1:].view(ember.int8).shape == (1, 8) and x[:, :1].view(ember.int16).shape == (2, 2)
    with pytest.raises(RuntimeError, match=r"self.stride\(-1\) must be 1 to view Float as Byte"):
        x.t().view(ember.uint8)
    with pytest.raises(RuntimeError, match=r"self.size\(-1\) must be divisible by 2 to view Float as Double"):
        ember.ones(3).view(ember.float64)
    with pytest.raises(RuntimeError, match="self.dim\\(\\) cannot be 0"):
        ember.tensor(1.0).view(ember.uint8)
    w = ember.ones(2, requires_grad=True)
    assert not w.view(ember.int32).requires_grad and w.view(ember.float32).requires_grad


def test_view_as_bool_refuses_bytes_other_than_0_and_1():
    assert ember.tensor([0, 1], dtype=ember.uint8).view(ember.bool).tolist() == [False, True]
    with pytest.raises(RuntimeError, match="other than 0 and 1"):
        ember.tensor([0, 2], dtype=ember.uint8).view(ember.bool)
    with ember.device("meta"):
        assert ember.ones(2, 4).view(ember.float16).shape == (2, 8)


# ----------------------------------------------------------------------------- every op


def _tensors_of(out):
    if isinstance(out, ember.Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _tensors_of(o)]
    return []


@pytest.mark.parametrize("dt", HALVES)
def test_every_op_case_runs_in_half_floats_as_in_float32(dt):
    """Each float case of tests/op_db.py, its float inputs rounded to dt: what runs in float32 runs in dt,
    and every float result agrees with float32's to within dt's precision (a few roundings)."""
    import warnings

    from helpers import random_array
    from op_db import CASES

    tol = 8 * ember.finfo(dt).eps
    checked, failures = 0, []
    for case in CASES:
        opts = case.opts
        if opts.get("integer"):
            continue
        rng = np.random.default_rng(0)
        low, high, min_abs = opts.get("low", -2.0), opts.get("high", 2.0), opts.get("min_abs", 0.0)
        arrays = [
            a if isinstance(a, np.ndarray) else random_array(a, rng, low, high, False, min_abs) for a in case.inputs
        ]
        if not any(a.dtype.kind == "f" for a in arrays):
            continue
        op = getattr(ember, case.name, None) or getattr(ember.Tensor, case.name)

        def run(dtype, case=case, op=op, arrays=arrays):
            tensors = [
                ember.tensor(as_dtype(a.astype(np.float32), dt)).to(dtype) if a.dtype.kind == "f" else ember.tensor(a)
                for a in arrays
            ]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return _tensors_of(case.invoke(op, *tensors))

        try:
            want = run(ember.float32)
        except Exception:  # noqa: BLE001 (a case that raises by design, in every dtype)
            continue
        try:
            got = run(dt)
        except Exception as exc:  # noqa: BLE001
            failures.append(f"{case.name} {case.id}: {type(exc).__name__}: {exc}")
            continue
        checked += 1
        for w, g in zip(want, got):
            if not w.dtype.is_floating_point:
                continue
            w, g = w.detach().double().numpy(), g.detach().double().numpy()
            if w.shape != g.shape or np.isnan(w).tolist() != np.isnan(g).tolist():
                failures.append(f"{case.name} {case.id}: shape or NaNs differ")
            elif w.size and np.nanmax(np.abs(w - g) / np.maximum(np.abs(w), 1.0)) > tol:
                failures.append(f"{case.name} {case.id}: off by {np.nanmax(np.abs(w - g)):.3g}")
    assert checked >= 200 and not failures, (checked, failures[:10])
