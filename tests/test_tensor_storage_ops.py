"""Tensor.resize_, resize_as_, set_ and as_strided: storage-level methods, as PyTorch's."""

import warnings

import numpy as np
import pytest

import ember
from helpers import NO_CUDA_MESSAGE


def test_resize_keeps_elements_in_order_and_grows_storage():
    x = ember.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert x.resize_(4).tolist() == [1.0, 2.0, 3.0, 4.0]
    x.resize_(3, 2)  # larger: the old elements first, in a new storage
    assert x.shape == (3, 2) and x.is_contiguous()
    np.testing.assert_array_equal(x.numpy().reshape(-1)[:4], [1.0, 2.0, 3.0, 4.0])
    x.resize_(1)
    assert x.tolist() == [1.0]


def test_resize_bumps_the_version_only_when_the_shape_changes():
    x = ember.zeros(2)
    x.resize_(2)
    assert x._version == 0
    x.resize_as_(ember.zeros(3))
    assert x._version == 1 and x.shape == (3,)


def test_resize_refuses_tensors_that_require_grad_and_negative_sizes():
    with pytest.raises(RuntimeError, match="cannot resize variables that require grad"):
        ember.zeros(2, requires_grad=True).resize_(3)
    with pytest.raises(RuntimeError, match="negative dimension"):
        ember.zeros(2).resize_(-1)
    with pytest.raises(RuntimeError, match="Storage size calculation overflowed"):
        ember.zeros(2).resize_(2**62)  # bytes past 2**64: must not wrap into a small "fits" check


def test_set_shows_the_source_memory_and_gives_the_leaf_a_new_accumulator():
    p = ember.ones(4, requires_grad=True)
    src = ember.arange(4.0)
    with ember.no_grad():
        p.set_(src[1:])
    assert p.tolist() == [1.0, 2.0, 3.0]
    src[1] = 10.0
    assert p[0].item() == 10.0  # the same memory
    (p * 2).sum().backward()
    assert p.grad.tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        p.set_(ember.zeros(3))
    with pytest.raises(RuntimeError, match="Could not set tensor"):
        ember.zeros(2).set_(ember.zeros(2, dtype=ember.int64))


def test_unsafe_split_pieces_can_be_changed_in_place_in_autograd():
    a = ember.tensor(np.arange(9.0).reshape(3, 3), requires_grad=True)
    s1, s2, s3 = (a + a).unsafe_split(1)
    s1.mul_(s2)
    s1.sum().backward()
    expected = np.zeros((3, 3))
    expected[0] = 2 * (2 * np.arange(3.0, 6.0))
    expected[1] = 2 * (2 * np.arange(0.0, 3.0))
    np.testing.assert_allclose(a.grad.numpy(), expected)


def test_set_with_a_geometry_views_the_source_storage():
    src = ember.arange(10.0)
    y = ember.empty(0)
    y.set_(src, 2, (2, 3), (3, 1))
    assert y.tolist() == [[2.0, 3.0, 4.0], [5.0, 6.0, 7.0]]
    assert y.storage_offset() == 2 and y.stride() == (3, 1)
    y.set_(src, 4, (3,))  # contiguous strides by default
    assert y.tolist() == [4.0, 5.0, 6.0]
    with pytest.raises(RuntimeError, match="does not fit in the source's storage"):
        y.set_(src, 5, (2, 3))
    with pytest.raises(RuntimeError, match="overflowed|does not fit"):
        y.set_(src, 0, (2**62, 4), (2**62, 1))


def test_as_strided_views_storage_and_sums_gradients_of_repeated_elements():
    base = ember.arange(12.0).reshape(3, 4)
    x = base[:, 1:]  # storage offset 1, strides (4, 1)
    assert x.as_strided((2, 2), (1, 2)).tolist() == [[1.0, 3.0], [2.0, 4.0]]  # from x's own offset
    assert ember.as_strided(x, (2, 2), (1, 2), 0).tolist() == [[0.0, 2.0], [1.0, 3.0]]
    view = base.as_strided((2,), (5,))
    view.mul_(10)  # a view: the write reaches base
    assert base[0, 0].item() == 0.0 and base[1, 1].item() == 50.0
    a = ember.arange(6.0, requires_grad=True)
    windows = a.as_strided((3, 2), (1, 1))  # overlapping windows [0,1], [1,2], [2,3]
    assert windows.grad_fn.name() == "AsStridedBackward0"
    windows.sum().backward()
    assert a.grad.tolist() == [1.0, 2.0, 2.0, 1.0, 0.0, 0.0]
    t = ember.randn(4, 5, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda u: u.t().as_strided((3, 3), (2, 1), 1), (t,))  # a non-contiguous input
    assert ember.autograd.gradgradcheck(lambda u: u.as_strided((4, 2), (3, 1)) ** 2, (t,))
    with pytest.raises(RuntimeError, match=r"setStorage: sizes \[3, 3\], strides \[2, 2\], storage offset 0"):
        ember.arange(6.0).as_strided((3, 3), (2, 2))
    with pytest.raises(RuntimeError, match="Negative strides are not supported"):
        ember.arange(6.0).as_strided((3,), (-1,))
    y = ember.zeros(2, 3)
    assert y.as_strided_((3, 2), (2, 1)) is y and y.shape == (3, 2)
    src = ember.ones(2, 2)
    scattered = ember.as_strided_scatter(ember.zeros(3, 3), src, (2, 2), (3, 1), 1)
    assert scattered.tolist() == [[0, 1, 1], [0, 1, 1], [0, 0, 0]]
    assert ember.as_strided_copy(base, (2,), (5,)).tolist() == view.tolist()


def test_as_strided_under_vmap_and_on_meta():
    from ember.func import vmap

    x = ember.randn(4, 6)
    for fn in (lambda r: r.as_strided((2, 2), (1, 2)), lambda r: r.as_strided((3,), (2,), 1)):
        loop = ember.stack([fn(r) for r in x])
        assert ember.equal(vmap(fn)(x), loop)
    meta = ember.empty(4, 6, device="meta").as_strided((2, 3), (1, 2))
    assert meta.is_meta and meta.shape == (2, 3) and meta.stride() == (1, 2)


def test_as_strided_against_torch():
    torch = pytest.importorskip("torch")
    data = np.arange(20.0).reshape(4, 5)
    for args in [((3, 2), (1, 1)), ((2, 3), (5, 2), 3), ((4,), (6,))]:
        ours = ember.tensor(data, requires_grad=True)
        theirs = torch.tensor(data, requires_grad=True)
        a, b = ours.as_strided(*args), theirs.as_strided(*args)
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
        (a * a).sum().backward()
        (b * b).sum().backward()
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy())


def test_storages_are_windows_onto_the_tensor_memory():
    base = ember.arange(6.0)
    t = base.reshape(2, 3)[:, 1:]
    u = t.untyped_storage()
    assert u.nbytes() == u.size() == len(u) == 24 and u.element_size() == 1
    assert u.data_ptr() == t.data_ptr() - t.storage_offset() * 4 == base.untyped_storage().data_ptr()
    assert u.tolist()[4:8] == list(np.float32(1.0).tobytes())
    with pytest.warns(UserWarning, match="TypedStorage is deprecated"):
        s = t.storage()
    assert s.size() == 6 and s.dtype == ember.float32 and s.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    s[0] = 9.0  # a window: the write reaches the tensors sharing the memory
    assert base[0].item() == 9.0
    assert ember.FloatStorage(3).size() == 3 and ember.LongStorage([1, 2]).tolist() == [1, 2]
    assert ember.zeros(2).untyped_storage().data_ptr() != base.untyped_storage().data_ptr()
    assert ember.UntypedStorage(5).nbytes() == 5 and ember.FloatStorage(2).dtype == ember.float32
    if not ember.cuda.is_available():
        with pytest.raises(RuntimeError, match=NO_CUDA_MESSAGE):
            ember.UntypedStorage(3, device="cuda")


def test_storages_against_torch():
    torch = pytest.importorskip("torch")
    for lib in (ember, torch):
        t = lib.arange(12.0, dtype=lib.float64).reshape(3, 4)[1:, ::2]
        u = t.untyped_storage()
        assert (u.nbytes(), len(u), u.data_ptr() == t.data_ptr() - t.storage_offset() * 8) == (96, 96, True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PyTorch warns once per process
            s = t.storage()
        assert (s.size(), s.element_size(), s.tolist()[:3], s[5]) == (12, 8, [0.0, 1.0, 2.0], 5.0)


@pytest.mark.parametrize("sizes", [(2, 1, 1), (1, 1), (3,), (2, 2)])
def test_repeat_copies_its_tiles_into_new_memory(sizes):
    # a repeat of leading new dims reshapes an expanded view without a copy; the result must not alias
    base = ember.eye(3) if len(sizes) > 1 else ember.ones(3)
    out = base.repeat(*sizes)
    assert out.is_contiguous() and out.untyped_storage().data_ptr() != base.untyped_storage().data_ptr()
    expected = np.tile(base.numpy(), sizes)
    out.view(-1)[0] = 7.0  # writes one tile, not every tile nor the input
    expected.reshape(-1)[0] = 7.0
    np.testing.assert_array_equal(out.numpy(), expected)
    assert base.view(-1)[0].item() == 1.0
