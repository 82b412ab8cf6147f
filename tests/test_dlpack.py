"""Zero-copy interop: the buffer protocol (memoryview(t)) and DLPack (t.__dlpack__, ember.from_dlpack,
ember.utils.dlpack) with numpy and PyTorch. Every exchange views the same memory, so the tests write through
one side and read through the other; see Note [Zero-copy interop] in csrc/python/interop.cpp."""

import gc
import sys

import numpy as np
import pytest

import ember
import ember.utils.dlpack

DTYPES = [
    (ember.bool, np.bool_, "?"),
    (ember.int32, np.int32, "i"),
    (ember.int64, np.int64, "q"),
    (ember.float32, np.float32, "f"),
    (ember.float64, np.float64, "d"),
]


def _values(np_dtype, shape=(2, 3)):
    n = int(np.prod(shape))
    if np_dtype is np.bool_:
        return (np.arange(n) % 3 == 0).reshape(shape)
    return np.arange(n, dtype=np_dtype).reshape(shape) - 2


def _torch_dtype(torch, np_dtype):
    return {np.bool_: torch.bool, np.int32: torch.int32, np.int64: torch.int64}.get(
        np_dtype, torch.float32 if np_dtype is np.float32 else torch.float64
    )


# ---- buffer protocol ----


@pytest.mark.parametrize("dtype,np_dtype,fmt", DTYPES)
def test_buffer_format_shape_and_strides(dtype, np_dtype, fmt):
    t = ember.tensor(_values(np_dtype), dtype=dtype)
    m = memoryview(t)
    itemsize = np.dtype(np_dtype).itemsize
    assert (m.format, m.itemsize, m.ndim, m.shape) == (fmt, itemsize, 2, (2, 3))
    assert m.strides == (3 * itemsize, itemsize)  # in bytes, not elements
    assert not m.readonly and m.c_contiguous
    np.testing.assert_array_equal(np.asarray(m), _values(np_dtype))


def test_buffer_of_non_contiguous_views_is_strided():
    t = ember.arange(12, dtype=ember.float32).reshape(3, 4)
    m = memoryview(t.T)
    assert m.shape == (4, 3) and m.strides == (4, 16)
    assert not m.c_contiguous and m.f_contiguous
    np.testing.assert_array_equal(np.asarray(m), np.arange(12, dtype=np.float32).reshape(3, 4).T)
    # a view with a storage offset and a step: the buffer starts at element 5
    v = t[1:, 1::2]
    m = memoryview(v)
    assert m.shape == (2, 2) and m.strides == (16, 8)
    np.testing.assert_array_equal(np.asarray(m), [[5, 7], [9, 11]])
    # a broadcast view: stride 0
    m = memoryview(ember.arange(3.0).expand(2, 3))
    assert m.strides == (0, 4)
    np.testing.assert_array_equal(np.asarray(m), [[0, 1, 2], [0, 1, 2]])


def test_buffer_shares_memory_both_ways():
    t = ember.zeros(2, 3)
    a = np.asarray(memoryview(t))
    a[0, 1] = 42.0
    assert t[0, 1].item() == 42.0
    t[1, 2] = -1.0
    assert a[1, 2] == -1.0
    # through a transposed view too
    b = np.asarray(memoryview(t.T))
    b[2, 0] = 7.0
    assert t[0, 2].item() == 7.0


def test_buffer_0d_and_empty():
    m = memoryview(ember.tensor(3))
    assert (m.shape, m.strides, m.format) == ((), (), "q") and m.tolist() == 3
    m = memoryview(ember.zeros(0, 3))
    assert m.shape == (0, 3) and m.nbytes == 0
    assert np.asarray(m).shape == (0, 3)


def test_buffer_keeps_the_tensor_alive():
    m = memoryview(ember.arange(4.0))
    gc.collect()
    assert m.tolist() == [0.0, 1.0, 2.0, 3.0]
    t = ember.arange(3.0)
    before = sys.getrefcount(t)
    m = memoryview(t)
    assert sys.getrefcount(t) == before + 1
    m.release()
    assert sys.getrefcount(t) == before


def test_buffer_refuses_tensors_that_require_grad():
    for t in [ember.ones(3, requires_grad=True), ember.ones(3, requires_grad=True) * 2]:  # leaf and non-leaf
        before = sys.getrefcount(t)
        with pytest.raises(BufferError) as info:
            memoryview(t)
        assert isinstance(info.value.__cause__, RuntimeError)
        assert "require gradient" in str(info.value.__cause__)
        assert sys.getrefcount(t) == before  # the refusal holds no reference
    assert memoryview(t.detach()).tolist() == [2.0, 2.0, 2.0]
    with ember.no_grad():  # with grad mode off the buffer is given
        assert memoryview(ember.ones(2, requires_grad=True)).tolist() == [1.0, 1.0]


# ---- DLPack: the producer side ----


def test_dlpack_device():
    assert ember.zeros(2).__dlpack_device__() == (1, 0)  # (kDLCPU, device 0)


def test_dlpack_capsule_names():
    t = ember.arange(3.0)
    assert "dltensor" in repr(t.__dlpack__()) and "versioned" not in repr(t.__dlpack__())
    assert '"dltensor"' in repr(t.__dlpack__(max_version=(0, 8)))
    assert '"dltensor_versioned"' in repr(t.__dlpack__(max_version=(1, 0)))
    assert '"dltensor_versioned"' in repr(t.__dlpack__(max_version=(1, 5)))
    assert '"dltensor"' in repr(ember.utils.dlpack.to_dlpack(t))
    assert type(t.__dlpack__()).__name__ == "PyCapsule"


def test_dlpack_keywords():
    t = ember.arange(3.0)
    assert '"dltensor"' in repr(t.__dlpack__(copy=False))
    assert '"dltensor"' in repr(t.__dlpack__(dl_device=(1, 0)))
    with pytest.raises(ValueError, match="copy"):
        t.__dlpack__(copy=True)
    with pytest.raises(ValueError, match="own memory, on DLPack device \\(1, 0\\), not a copy"):
        t.__dlpack__(dl_device=(2, 0))
    with pytest.raises(TypeError):  # max_version is keyword-only, as the array API says
        t.__dlpack__(None, (1, 0))


def test_dlpack_refuses_tensors_that_require_grad():
    t = ember.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="require gradient"):
        t.__dlpack__()
    with pytest.raises(RuntimeError, match="require gradient"):
        np.from_dlpack(t)
    with pytest.raises(RuntimeError, match="require gradient"):
        ember.utils.dlpack.to_dlpack(t * 2)
    with ember.no_grad(), pytest.raises(RuntimeError, match="require gradient"):  # in any grad mode, as PyTorch
        t.__dlpack__()
    np.testing.assert_array_equal(np.from_dlpack(t.detach()), [1.0, 1.0, 1.0])


def test_unconsumed_capsules_release_the_tensor():
    t = ember.arange(3.0)
    before = sys.getrefcount(t)
    for max_version in [None, (1, 0)]:
        c = t.__dlpack__(max_version=max_version)
        del c
        gc.collect()
    assert sys.getrefcount(t) == before
    c = ember.arange(3.0).__dlpack__()  # the capsule alone keeps the memory alive
    gc.collect()
    assert ember.from_dlpack(c).tolist() == [0.0, 1.0, 2.0]


# ---- DLPack with numpy ----


@pytest.mark.parametrize("dtype,np_dtype,fmt", DTYPES)
def test_numpy_round_trip_every_dtype(dtype, np_dtype, fmt):
    a = _values(np_dtype)
    e = ember.from_dlpack(a)
    assert e.dtype == dtype and tuple(e.shape) == (2, 3)
    np.testing.assert_array_equal(e.numpy(), a)
    back = np.from_dlpack(e)
    assert back.dtype == np_dtype and np.shares_memory(back, a)
    np.testing.assert_array_equal(back, a)


def test_numpy_to_ember_shares_memory_both_ways():
    a = np.arange(6.0).reshape(2, 3)
    e = ember.from_dlpack(a)
    a[0, 0] = 100.0
    assert e[0, 0].item() == 100.0
    e[1, 2] = -5.0
    assert a[1, 2] == -5.0


def test_ember_to_numpy_shares_memory_both_ways():
    t = ember.arange(6, dtype=ember.int64).reshape(2, 3)
    n = np.from_dlpack(t)
    assert n.dtype == np.int64 and n.flags.writeable
    n[1, 1] = 40
    assert t[1, 1].item() == 40
    t[0, 2] = -3
    assert n[0, 2] == -3
    n2 = np.from_dlpack(t)
    assert np.shares_memory(n, n2)


def test_numpy_strides_are_preserved():
    a = np.arange(12.0).reshape(3, 4)
    e = ember.from_dlpack(a.T)
    assert e.stride() == (1, 4) and tuple(e.shape) == (4, 3)
    np.testing.assert_array_equal(e.numpy(), a.T)
    e = ember.from_dlpack(a[1:, ::2])
    assert e.stride() == (4, 2)
    np.testing.assert_array_equal(e.numpy(), [[4, 6], [8, 10]])
    e[0, 1] = -1.0
    assert a[1, 2] == -1.0
    t = ember.arange(12, dtype=ember.float32).reshape(3, 4)
    n = np.from_dlpack(t.T)
    assert n.strides == (4, 16)
    np.testing.assert_array_equal(n, np.arange(12, dtype=np.float32).reshape(3, 4).T)
    n = np.from_dlpack(t[1:, 1::2])  # a storage offset: the data pointer moves, the values follow
    np.testing.assert_array_equal(n, [[5, 7], [9, 11]])
    n[0, 0] = 50.0
    assert t[1, 1].item() == 50.0


def test_negative_strides_are_refused():
    with pytest.raises(ValueError, match="negative strides"):
        ember.from_dlpack(np.arange(5)[::-1])
    assert ember.from_dlpack(np.arange(5)[::-1].copy()).tolist() == [4, 3, 2, 1, 0]


def test_unsupported_dtype():
    torch = pytest.importorskip("torch")
    a = torch.zeros(3, dtype=torch.float8_e4m3fn)  # a dtype ember's tensors do not have
    before = sys.getrefcount(a)
    with pytest.raises(TypeError, match="unsupported dtype DLPack type code 10 of 8 bits"):
        ember.from_dlpack(a)
    gc.collect()
    assert sys.getrefcount(a) == before  # the refused capsule was released, not leaked


@pytest.mark.parametrize("np_dtype", [np.complex64, np.complex128])
def test_complex_arrays_are_shared_both_ways(np_dtype):
    a = (np.arange(6) + 1j * np.arange(6)).reshape(2, 3).astype(np_dtype)
    t = ember.from_dlpack(a[:, ::2])  # a strided view stays a view (Note [Complex tensors])
    assert t.dtype == getattr(ember, np.dtype(np_dtype).name) and t.stride() == (3, 2)
    t[1, 1] = 7j
    assert a[1, 2] == 7j
    back = np.from_dlpack(ember.tensor(a))
    assert back.dtype == np_dtype and np.array_equal(back, a)
    with pytest.raises(RuntimeError, match="Can't export tensors that require gradient"):
        ember.tensor(a, requires_grad=True).__dlpack__()


def test_capsule_is_consumed_once():
    a = np.arange(3.0)
    c = a.__dlpack__()
    e = ember.from_dlpack(c)
    assert e.tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(ValueError, match="consumed only once"):
        ember.from_dlpack(c)
    c = ember.arange(3.0).__dlpack__(max_version=(1, 0))
    assert ember.utils.dlpack.from_dlpack(c).tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(ValueError, match="consumed only once"):
        ember.utils.dlpack.from_dlpack(c)


def test_from_dlpack_entry_points():
    a = np.arange(3, dtype=np.int32)
    for fn in [ember.from_dlpack, ember.utils.dlpack.from_dlpack]:
        e = fn(a)
        assert e.dtype == ember.int32 and e.tolist() == [0, 1, 2]
    t = ember.arange(4.0)
    via_capsule = ember.utils.dlpack.from_dlpack(ember.utils.dlpack.to_dlpack(t))
    via_capsule[0] = 9.0
    assert t[0].item() == 9.0
    same = ember.from_dlpack(t)  # an ember tensor is a producer like any other
    same[1] = 8.0
    assert t[1].item() == 8.0
    with pytest.raises(TypeError, match="__dlpack__ or a DLPack capsule"):
        ember.from_dlpack([1, 2])


def test_producer_without_max_version_and_non_cpu_producer():
    class OldProducer:  # DLPack < 1.0: __dlpack__ takes no max_version
        def __init__(self, a):
            self.a = a

        def __dlpack__(self, stream=None):
            return self.a.__dlpack__()

        def __dlpack_device__(self):
            return (1, 0)

    a = np.arange(4.0)
    e = ember.from_dlpack(OldProducer(a))
    a[1] = 5.0
    assert e.tolist() == [0.0, 5.0, 2.0, 3.0]

    class CudaProducer:
        def __dlpack__(self, **kwargs):
            raise AssertionError("a device ember cannot read must be refused before asking for a capsule")

        def __dlpack_device__(self):
            return (2, 0)

    if not ember.cuda.is_available():  # with a GPU, ember reads CUDA capsules (test_cuda.py)
        with pytest.raises(RuntimeError, match="device type 2"):
            ember.from_dlpack(CudaProducer())


def test_lifetime_numpy_producer_deleted():
    a = np.arange(5, dtype=np.int32) * 3
    e = ember.from_dlpack(a)
    del a
    gc.collect()
    _ = [np.full(5, -1, dtype=np.int32) for _ in range(50)]  # would likely reuse freed memory
    assert e.tolist() == [0, 3, 6, 9, 12]
    b = np.zeros(3)
    before = sys.getrefcount(b)
    e = ember.from_dlpack(b)
    assert sys.getrefcount(b) == before + 1  # the ember tensor holds the array ...
    del e
    gc.collect()
    assert sys.getrefcount(b) == before  # ... and lets it go


def test_lifetime_ember_producer_deleted():
    t = ember.arange(5.0) * 2
    n = np.from_dlpack(t)
    del t
    gc.collect()
    _ = [ember.full((5,), -1.0) for _ in range(50)]
    np.testing.assert_array_equal(n, [0.0, 2.0, 4.0, 6.0, 8.0])
    t = ember.arange(3.0)
    a = np.asarray(memoryview(t))
    del t
    gc.collect()
    np.testing.assert_array_equal(a, [0.0, 1.0, 2.0])


def test_0d_and_empty_round_trip():
    z = ember.from_dlpack(np.array(2.5))
    assert z.dim() == 0 and z.item() == 2.5
    n = np.from_dlpack(ember.tensor(3.5))
    assert n.shape == () and n == 3.5
    e = ember.from_dlpack(np.zeros((0, 3), dtype=np.float32))
    assert tuple(e.shape) == (0, 3) and e.dtype == ember.float32
    n = np.from_dlpack(ember.zeros(0, 3))
    assert n.shape == (0, 3) and n.dtype == np.float32
    assert tuple(ember.from_dlpack(ember.zeros(4, 0)).shape) == (4, 0)


def test_from_dlpack_result_is_a_plain_leaf():
    e = ember.from_dlpack(np.arange(3.0))
    assert not e.requires_grad and e.is_leaf
    e.requires_grad_()
    (e * e).sum().backward()
    assert e.grad.tolist() == [0.0, 2.0, 4.0]


# ---- DLPack with PyTorch ----


@pytest.mark.parametrize("dtype,np_dtype,fmt", DTYPES)
def test_torch_round_trip_every_dtype(dtype, np_dtype, fmt):
    torch = pytest.importorskip("torch")
    x = torch.from_numpy(_values(np_dtype).copy())
    e = ember.from_dlpack(x)
    assert e.dtype == dtype
    np.testing.assert_array_equal(e.numpy(), x.numpy())
    back = torch.from_dlpack(e)
    assert back.dtype == _torch_dtype(torch, np_dtype) and back.data_ptr() == x.data_ptr()
    assert torch.equal(back, x)


def test_torch_shares_memory_both_ways():
    torch = pytest.importorskip("torch")
    x = torch.zeros(2, 3)
    e = ember.from_dlpack(x)
    x[0, 1] = 4.0
    assert e[0, 1].item() == 4.0
    e[1, 0] = -2.0
    assert x[1, 0].item() == -2.0
    t = ember.zeros(3, dtype=ember.int64)
    y = torch.from_dlpack(t)
    y += 7
    assert t.tolist() == [7, 7, 7]
    t[2] = 1
    assert y.tolist() == [7, 7, 1]


def test_torch_strides_are_preserved():
    torch = pytest.importorskip("torch")
    x = torch.arange(6).reshape(2, 3)
    e = ember.from_dlpack(x.t())
    assert e.stride() == (1, 3) and e.tolist() == x.t().tolist()
    t = ember.arange(12.0).reshape(3, 4)
    y = torch.from_dlpack(t.T)
    assert y.stride() == (1, 4) and y.tolist() == t.T.tolist()
    y = torch.from_dlpack(t[1:, 1::2])
    assert y.stride() == (4, 2) and y.tolist() == [[5.0, 7.0], [9.0, 11.0]]


def test_torch_capsules_and_versions():
    torch = pytest.importorskip("torch")
    from torch.utils.dlpack import from_dlpack as torch_from_dlpack

    t = ember.arange(3.0)
    for max_version in [None, (1, 0)]:
        y = torch_from_dlpack(t.__dlpack__(max_version=max_version))
        y[0] = 5.0
        assert t[0].item() == 5.0
        t[0] = 0.0
    c = ember.utils.dlpack.to_dlpack(t)
    torch_from_dlpack(c)
    with pytest.raises(RuntimeError, match="consumed only once"):
        torch_from_dlpack(c)
    e = ember.from_dlpack(torch.utils.dlpack.to_dlpack(torch.arange(3)))
    assert e.dtype == ember.int64 and e.tolist() == [0, 1, 2]


def test_torch_lifetime():
    torch = pytest.importorskip("torch")
    x = torch.arange(4.0) + 1
    e = ember.from_dlpack(x)
    del x
    gc.collect()
    _ = [torch.full((4,), -1.0) for _ in range(50)]
    assert e.tolist() == [1.0, 2.0, 3.0, 4.0]
    t = ember.arange(4.0) + 1
    y = torch.from_dlpack(t)
    del t
    gc.collect()
    _ = [ember.full((4,), -1.0) for _ in range(50)]
    assert y.tolist() == [1.0, 2.0, 3.0, 4.0]


def test_torch_refusals():
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="require gradient"):
        torch.from_dlpack(ember.ones(2, requires_grad=True))
    shared = torch.tensor([1 + 2j, 3j])
    ember.from_dlpack(shared)[0] = 5j  # complex tensors are shared with PyTorch too
    assert shared[0].item() == 5j and torch.from_dlpack(ember.tensor([2j])).dtype == torch.complex64
    for dtype in [torch.uint16, torch.uint32, torch.uint64]:  # PyTorch's shell unsigned dtypes, both ways
        back = torch.from_dlpack(ember.from_dlpack(torch.tensor([1, 2**15, 7], dtype=dtype)))
        assert back.dtype == dtype and back.tolist() == [1, 2**15, 7]
