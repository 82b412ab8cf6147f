"""Memory formats (Note [Memory formats]): the format objects, the strides that clone, contiguous,
empty, the *_like functions, Tensor.to and Module.to give, is_contiguous's checks, PyTorch's errors,
autograd through format copies and in-place writes on views of channels-last or transposed bases."""

import pickle

import numpy as np
import pytest

import ember
from ember import channels_last, channels_last_3d, contiguous_format, preserve_format

NCHW = (2, 3, 4, 5)


def _channels_last_strides(n, c, h, w):
    return (h * w * c, 1, w * c, c)


def test_format_objects():
    assert repr(channels_last) == "ember.channels_last"
    assert isinstance(contiguous_format, ember.memory_format)
    for fmt in (channels_last, channels_last_3d, contiguous_format, preserve_format):
        assert pickle.loads(pickle.dumps(fmt)) is fmt


def test_contiguous_and_is_contiguous_in_channels_last():
    x = ember.randn(*NCHW)
    y = x.contiguous(memory_format=channels_last)
    assert y.stride() == _channels_last_strides(*NCHW)
    assert not y.is_contiguous() and y.is_contiguous(memory_format=channels_last)
    assert x.is_contiguous(memory_format=contiguous_format) and not x.is_contiguous(memory_format=channels_last)
    np.testing.assert_array_equal(y.numpy(), x.numpy())
    assert y.contiguous(memory_format=channels_last) is y  # already in the format: itself
    back = y.contiguous()
    assert back.is_contiguous() and np.array_equal(back.numpy(), x.numpy())
    # dims of size one may have any stride (PyTorch's rule)
    assert ember.randn(2, 3, 1, 1).is_contiguous(memory_format=channels_last)
    z = ember.randn(2, 3, 4, 5, 6).contiguous(memory_format=channels_last_3d)
    assert z.stride() == (360, 1, 90, 18, 3) and z.is_contiguous(memory_format=channels_last_3d)


def test_clone_and_like_preserve_dense_strides():
    t = ember.randn(3, 4).t()
    assert t.clone().stride() == (1, 4)  # preserve_format, PyTorch's default
    assert t.clone(memory_format=contiguous_format).stride() == (3, 1)
    y = ember.randn(*NCHW).contiguous(memory_format=channels_last)
    for like in (ember.zeros_like, ember.ones_like, ember.empty_like, ember.rand_like, ember.randn_like):
        assert like(y).stride() == y.stride(), like.__name__
        assert like(y, memory_format=contiguous_format).is_contiguous()
    assert ember.zeros_like(y).sum().item() == 0 and ember.ones_like(y).sum().item() == y.numel()
    sparse = ember.randn(4, 6)[:, ::2]  # not dense: a row-major copy
    assert sparse.clone().is_contiguous() and ember.zeros_like(sparse).is_contiguous()


def test_empty_and_to_in_a_format():
    e = ember.empty(*NCHW, memory_format=channels_last)
    assert e.stride() == _channels_last_strides(*NCHW)
    assert ember.empty(2, 3, memory_format=contiguous_format).is_contiguous()
    x = ember.randn(*NCHW)
    y = x.to(memory_format=channels_last)
    assert y.is_contiguous(memory_format=channels_last) and np.array_equal(y.numpy(), x.numpy())
    d = x.to(ember.float64, memory_format=channels_last)
    assert d.dtype == ember.float64 and d.is_contiguous(memory_format=channels_last)
    assert y.to(memory_format=channels_last) is y
    assert y.to(memory_format=channels_last, copy=True) is not y


def test_errors_as_pytorch():
    with pytest.raises(RuntimeError, match="required rank 4 tensor to use channels_last format"):
        ember.ones(2, 3).contiguous(memory_format=channels_last)
    with pytest.raises(RuntimeError, match="required rank 5 tensor to use channels_last_3d format"):
        ember.ones(2, 3).clone(memory_format=channels_last_3d)
    with pytest.raises(RuntimeError, match="required rank 4 tensor to use channels_last format"):
        ember.ones(2, 3, 4).to(memory_format=channels_last)
    with pytest.raises(RuntimeError, match="unsupported memory format Preserve"):
        ember.empty(2, 3, memory_format=preserve_format)
    with pytest.raises(RuntimeError, match="preserve memory format is unsupported by the contiguous operator"):
        ember.ones(2, 3).t().contiguous(memory_format=preserve_format)
    assert ember.ones(2, 3).contiguous(memory_format=preserve_format).is_contiguous()
    with pytest.raises(TypeError, match="argument 'memory_format' must be ember.memory_format, not int"):
        ember.ones(2, 3).contiguous(memory_format=1)
    assert not ember.ones(2, 3).is_contiguous(memory_format=channels_last)


def test_gradients_through_format_copies():
    x = ember.randn(*NCHW, dtype=ember.float64, requires_grad=True)
    y = x.contiguous(memory_format=channels_last)
    assert type(y.grad_fn).__name__ == "CloneBackward0"
    w = ember.randn(*NCHW, dtype=ember.float64)
    (y * w).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), w.numpy())
    assert ember.autograd.gradcheck(lambda t: t.contiguous(memory_format=channels_last) * 2, (x,))
    # a leaf created in channels-last gets its gradient in its own layout
    leaf = ember.randn(*NCHW).to(memory_format=channels_last).requires_grad_()
    (leaf * 3).sum().backward()
    assert leaf.grad.stride() == leaf.stride()


def test_in_place_writes_on_views_of_strided_bases():
    # the base is dense but not row-major (a transposed clone, a channels-last copy): CopySlices works in its layout
    x = ember.randn(3, 4, dtype=ember.float64, requires_grad=True)

    def f(x):
        y = x.t().clone()
        assert y.stride() == (1, 4)
        y[0] = 5.0
        y[1:, 1] *= 2
        return y

    got = f(x)
    want = x.detach().numpy().T.copy()
    want[0] = 5
    want[1:, 1] *= 2
    np.testing.assert_allclose(got.detach().numpy(), want)
    assert ember.autograd.gradcheck(f, (x,))
    z = ember.randn(*NCHW, dtype=ember.float64, requires_grad=True)

    def g(z):
        c = z.contiguous(memory_format=channels_last)
        c[:, 0] = 0.0
        c[0, :, 1, 1] += 1.0
        return c

    assert g(z).is_contiguous(memory_format=channels_last)
    assert ember.autograd.gradcheck(g, (z,))


def test_module_to_channels_last():
    model = ember.nn.Sequential(ember.nn.Conv2d(3, 4, 3), ember.nn.ReLU(), ember.nn.Flatten(), ember.nn.Linear(24, 2))
    before = model(ember.randn(*NCHW))
    assert model.to(memory_format=channels_last) is model
    assert model[0].weight.is_contiguous(memory_format=channels_last)
    assert isinstance(model[0].weight, ember.nn.Parameter) and model[3].weight.is_contiguous()  # 2-D: unchanged
    x = ember.randn(*NCHW)
    out = model(x.to(memory_format=channels_last))
    np.testing.assert_allclose(out.detach().numpy(), model(x).detach().numpy(), rtol=1e-6)
    assert before.shape == out.shape
    out.sum().backward()
    assert model[0].weight.grad.stride() == model[0].weight.stride()


def test_dim_order():
    assert ember.ones(2, 3).dim_order() == (0, 1)
    assert ember.ones(2, 3).t().dim_order() == (1, 0)
    assert ember.ones(*NCHW).to(memory_format=channels_last).dim_order() == (0, 2, 3, 1)
    assert ember.ones(1, 3, 1, 1).dim_order() == (0, 1, 2, 3)
    # ambiguity_check: a size-one dim (or equal neighbouring strides) admits several orders
    assert ember.ones(2, 3).dim_order(ambiguity_check=True) == (0, 1)
    with pytest.raises(RuntimeError, match="cannot map to exact one of the given memory formats"):
        ember.ones(1, 3, 1, 1).dim_order(ambiguity_check=True)
    with pytest.raises(RuntimeError, match="^The tensor does not have unique dim order.$"):
        ember.ones(1, 3, 1, 1).dim_order(ambiguity_check=[contiguous_format])
    with pytest.raises(TypeError, match="ambiguity_check must be a bool or a list"):
        ember.ones(2).dim_order(ambiguity_check="yes")


def test_parity_with_torch():
    torch = pytest.importorskip("torch")
    for shape in [NCHW, (1, 3, 1, 1), (2, 1, 4, 1), (2, 0, 3, 3)]:  # empty: contiguous in every format
        e = ember.zeros(*shape).contiguous(memory_format=channels_last)
        t = torch.zeros(*shape).contiguous(memory_format=torch.channels_last)
        assert e.is_contiguous(memory_format=channels_last) == t.is_contiguous(memory_format=torch.channels_last)
        if 0 not in shape:
            assert e.stride() == t.stride()
            assert e.dim_order() == t.dim_order()
    for make in [lambda lib: lib.ones(3, 4).t(), lambda lib: lib.ones(*NCHW).permute(0, 2, 3, 1)]:
        assert make(ember).clone().stride() == make(torch).clone().stride()
        assert ember.zeros_like(make(ember)).stride() == torch.zeros_like(make(torch)).stride()
