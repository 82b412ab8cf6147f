"""uint16, uint32 and uint64: PyTorch's "shell" unsigned dtypes (Note [Storage dtypes] in csrc/core/dtype.h).
Held, viewed and converted natively; computed in int32 (uint16) or int64 (uint32, uint64) and wrapped back,
checked against numpy's own unsigned types. PyTorch refuses to promote them with other integer dtypes, and
so does ember; uint64 values of 2**63 and more are kept by copies and conversions and refused by compute."""

import io
import pickle

import numpy as np
import pytest

import ember

UNSIGNED = [(ember.uint16, np.uint16), (ember.uint32, np.uint32), (ember.uint64, np.uint64)]


def sample(np_dt, seed=0):
    """Values across the type's range (below 2**63 for uint64, which ember computes in int64)."""
    rng = np.random.default_rng(seed)
    top = min(np.iinfo(np_dt).max, 2**62)
    edge = np.array([0, 1, top, top - 1, np.iinfo(np_dt).max // 3], dtype=np_dt)
    return np.concatenate([edge, rng.integers(0, top, 19, dtype=np.uint64).astype(np_dt)]).reshape(4, 6)


@pytest.mark.parametrize("dt,np_dt", UNSIGNED)
def test_dtype_objects(dt, np_dt):
    assert dt.itemsize == np.dtype(np_dt).itemsize and not dt.is_signed and not dt.is_floating_point
    assert repr(dt) == "ember." + np.dtype(np_dt).name and pickle.loads(pickle.dumps(dt)) == dt
    assert ember.iinfo(dt).max == np.iinfo(np_dt).max and ember.iinfo(dt).min == 0
    assert ember.empty(3, dtype=dt).element_size() == dt.itemsize
    assert ember.tensor([1], dtype=dt).type() == f"ember.UInt{8 * dt.itemsize}Tensor"


@pytest.mark.parametrize("dt,np_dt", UNSIGNED)
def test_numpy_round_trips_share_memory_and_keep_every_value(dt, np_dt):
    a = np.array([0, 1, np.iinfo(np_dt).max, np.iinfo(np_dt).max - 7], dtype=np_dt)
    t = ember.from_numpy(a)
    assert t.dtype == dt and t.tolist() == [int(v) for v in a]
    a[0] = 5
    assert t[0].item() == 5  # a view, not a copy
    assert t.numpy().dtype == np_dt and ember.tensor(a).dtype == dt
    assert t[2].item() == int(np.iinfo(np_dt).max) and int(t[2]) == int(np.iinfo(np_dt).max)
    assert bytes(memoryview(t)) == a.tobytes()


@pytest.mark.parametrize("dt,np_dt", UNSIGNED)
def test_conversions_wrap_as_pytorch(dt, np_dt):
    # negative integers wrap (PyTorch and numpy agree); floats go through int64 first, as PyTorch's casts
    assert ember.tensor([-1, 3], dtype=dt).tolist() == [int(np.iinfo(np_dt).max), 3]
    assert ember.tensor([-1.0, 2.7]).to(dt).tolist() == [int(np.iinfo(np_dt).max), 2]
    big = np.array([np.iinfo(np_dt).max], dtype=np_dt)
    assert ember.from_numpy(big).double().item() == float(big[0])
    assert ember.from_numpy(big).to(ember.int64).item() == int(big.astype(np.int64)[0])


def test_uint64_from_2_to_the_63_up_is_kept_by_copies_and_conversions():
    big = 2**64 - 2
    t = ember.tensor([big, 2**63], dtype=ember.uint64)
    assert t.tolist() == [big, 2**63] and t[0].item() == big
    assert t.clone()[1].item() == 2**63 and t.double()[0].item() == float(big)
    assert ember.tensor([1.5e19], dtype=ember.float64).to(ember.uint64).item() == 15000000000000000000
    # beside small ints (numpy would make floats of them all), as PyTorch reads Python ints
    assert ember.tensor([big, 5, 0], dtype=ember.uint64).tolist() == [big, 5, 0]
    assert ember.tensor([[7], [big]], dtype=ember.uint64).tolist() == [[7], [big]]
    with pytest.raises(ValueError, match="Overflow when unpacking long long"):
        ember.tensor([big, 5])
    assert t.view(ember.int64).tolist() == [-2, -(2**63)]
    with pytest.raises(RuntimeError, match="2\\*\\*63"):
        t + 1  # its int64 computation would give wrong numbers: refused, not wrong
    with pytest.raises(ValueError, match="Overflow when unpacking long long"):
        ember.tensor([2**63])  # a Python int beyond int64 with no dtype, as PyTorch


@pytest.mark.parametrize("dt,np_dt", UNSIGNED)
def test_arithmetic_and_comparisons_wrap_as_numpy(dt, np_dt):
    a, b = sample(np_dt, 0), sample(np_dt, 1)
    ta, tb = ember.from_numpy(a.copy()), ember.from_numpy(b.copy())
    with np.errstate(over="ignore"):
        for got, want in [
            (ta * tb, a * b),
            (ta & tb, a & b),
            (ta | tb, a | b),
            (ta ^ tb, a ^ b),
            (ta * 3, a * np_dt(3)),
            (ta == tb, a == b),
            (ta != ta, a != a),
        ]:
            assert got.dtype == (ember.bool if want.dtype == bool else dt)
            np.testing.assert_array_equal(got.numpy(), want)
    if dt != ember.uint64:  # sums that stay below 2**63
        with np.errstate(over="ignore"):
            np.testing.assert_array_equal((ta + tb).numpy(), a + b)
            np.testing.assert_array_equal((ta - tb).numpy(), a - b)  # wraps below zero
        np.testing.assert_array_equal((ta < tb).numpy(), a < b)
        np.testing.assert_array_equal(ember.maximum(ta, tb).numpy(), np.maximum(a, b))


@pytest.mark.parametrize("dt,np_dt", UNSIGNED)
def test_reductions_sort_unique_and_indexing(dt, np_dt):
    a = sample(np_dt, 2) // 16  # sums stay below 2**63
    t = ember.from_numpy(a.copy())
    assert t.sum().dtype == ember.int64 and t.sum().item() == int(a.astype(object).sum())
    np.testing.assert_array_equal(t.cumsum(1).numpy(), a.astype(np.int64).cumsum(1))
    np.testing.assert_array_equal(t.sort(dim=1).values.numpy(), np.sort(a, axis=1))
    np.testing.assert_array_equal(t.unique().numpy(), np.unique(a))
    np.testing.assert_array_equal(t[:, [0, 2]].numpy(), a[:, [0, 2]])
    np.testing.assert_array_equal(ember.cat([t, t]).numpy(), np.concatenate([a, a]))
    np.testing.assert_array_equal(t.flip(0).numpy(), a[::-1])
    t[1] = 7
    assert t[1].tolist() == [7] * 6 and t.dtype == dt


@pytest.mark.parametrize("dt,np_dt", UNSIGNED)
def test_creation_functions(dt, np_dt):
    assert ember.zeros(2, dtype=dt).tolist() == [0, 0] and ember.ones(2, dtype=dt).dtype == dt
    assert ember.full((2,), 7, dtype=dt).tolist() == [7, 7] and ember.arange(4, dtype=dt).tolist() == [0, 1, 2, 3]
    r = ember.randint(0, 1000, (50,), dtype=dt)
    assert r.dtype == dt and 0 <= int(r.min()) and int(r.max()) < 1000
    assert ember.zeros_like(r).dtype == dt


def test_promotion_with_other_integers_is_refused_as_in_pytorch():
    u = ember.tensor([1, 2], dtype=ember.uint32)
    for other in [ember.tensor([True, False]), ember.tensor([1, 2], dtype=ember.uint8), ember.tensor([1, 2])]:
        with pytest.raises(RuntimeError, match="Promotion for uint16, uint32, uint64 types is not supported"):
            u + other
    with pytest.raises(RuntimeError, match="attempted to promote UInt32 and UInt16"):
        ember.promote_types(ember.uint32, ember.uint16)
    assert ember.promote_types(ember.uint64, ember.float16) == ember.float16
    assert (u + 1).dtype == ember.uint32 and (u * 2.5).dtype == ember.float32
    assert ember.result_type(u, 5) == ember.uint32


@pytest.mark.parametrize("dt,np_dt", UNSIGNED)
def test_save_load_and_dlpack_round_trips(dt, np_dt):
    t = ember.from_numpy(np.array([0, 1, np.iinfo(np_dt).max], dtype=np_dt))
    buf = io.BytesIO()
    ember.save({"t": t, "half": t[1:]}, buf)
    buf.seek(0)
    back = ember.load(buf)
    assert back["t"].dtype == dt and back["t"].tolist() == t.tolist() and back["half"].tolist() == t[1:].tolist()
    d = ember.from_dlpack(t)
    assert d.dtype == dt and d.tolist() == t.tolist()
    np.testing.assert_array_equal(np.from_dlpack(t), t.numpy())
