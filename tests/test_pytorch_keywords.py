"""PyTorch's keyword spellings that ember accepts beside its own (found by tools/api_coverage.py)."""

import numpy as np
import pytest

import ember


def test_layout_and_pin_memory_keywords():
    x = ember.ones(2, 3)
    for fn in (ember.zeros_like, ember.ones_like, ember.empty_like, ember.rand_like, ember.randn_like):
        assert fn(x, layout=ember.strided).shape == (2, 3)
    assert repr(ember.strided) == "ember.strided"
    with pytest.raises(RuntimeError, match="only the strided layout"):
        ember.zeros_like(x, layout="sparse_coo")
    if not ember.cuda.is_available():  # PyTorch's words without an accelerator (test_cuda.py pins with one)
        with pytest.raises(RuntimeError, match="Cannot access accelerator device when none is available"):
            x.new_zeros(2, pin_memory=True)
    assert x.new_ones(size=(4,)).tolist() == [1.0] * 4
    g = ember.Generator().manual_seed(3)
    a = ember.rand_like(x, generator=g)
    b = ember.rand_like(x, generator=ember.Generator().manual_seed(3))
    assert a.tolist() == b.tolist()
    with pytest.raises(TypeError, match="generator"):
        ember.zeros_like(x, generator=g)


def test_factories_take_size_layout_and_out_as_pytorchs():
    # monai writes torch.zeros(size=shape, ...); scripts pass layout=torch.strided to every factory
    for factory in (ember.zeros, ember.ones, ember.empty, ember.rand, ember.randn):
        assert factory(size=(2, 3)).shape == (2, 3) and factory(size=[4]).shape == (4,)
        assert factory(2, layout=ember.strided).shape == (2,)
        with pytest.raises(TypeError, match="got multiple values for argument 'size'"):
            factory(2, size=(3,))
        with pytest.raises(RuntimeError, match="only the strided layout"):
            factory(2, layout="sparse_coo")
    assert ember.zeros(size=(2,), device="meta").device.type == "meta"
    assert ember.arange(3, layout=ember.strided).tolist() == [0, 1, 2]
    assert ember.eye(2, layout=ember.strided).shape == (2, 2)
    assert ember.linspace(0, 1, 3, layout=ember.strided).shape == (3,)
    out = ember.empty(1, dtype=ember.int32)
    drawn = ember.randint(0, 5, (3,), out=out, layout=ember.strided)
    assert drawn is out and out.shape == (3,) and out.dtype == ember.int32 and ((out >= 0) & (out < 5)).all()
    nhwc = ember.ones(1, 2, 3, 3).contiguous(memory_format=ember.channels_last)
    assert ember.full_like(nhwc, 2.0).stride() == nhwc.stride()  # the input's layout, as PyTorch's
    assert ember.full_like(nhwc, 2.0, memory_format=ember.contiguous_format).is_contiguous()


def test_method_keywords_found_in_pytorchs_documented_signatures():
    x = ember.ones(1, 2, 3, 3)
    for convert in (x.float, x.double, x.half, x.bfloat16, x.long, x.int, x.short, x.char, x.byte, x.bool):
        assert convert(memory_format=ember.preserve_format).shape == x.shape
    nhwc = x.double(memory_format=ember.channels_last)
    assert nhwc.dtype == ember.float64 and nhwc.is_contiguous(memory_format=ember.channels_last)
    with pytest.raises(TypeError, match="must be ember.memory_format"):
        x.float(memory_format="channels_last")
    v = ember.ones(3)
    assert v.expand(size=(2, 3)).shape == (2, 3) and v.repeat(repeats=(2,)).shape == (6,)
    assert x.view(size=(18,)).shape == (18,) and x.view(dtype=ember.int32).dtype == ember.int32
    with pytest.raises(TypeError, match="got multiple values for argument 'size'"):
        v.expand(3, size=(3,))
    m = ember.eye(2, dtype=ember.float64) * 2
    np.testing.assert_allclose(m.cholesky_solve(input2=ember.eye(2, dtype=ember.float64)).numpy(), m.numpy())
    assert ember.cholesky_solve(input=m, input2=ember.eye(2, dtype=ember.float64)).shape == (2, 2)
    resized = ember.empty(0).resize_(2, 3, 4, 5, memory_format=ember.channels_last)
    assert resized.stride() == (60, 1, 15, 3)
    assert ember.empty(0).resize_as_(resized, memory_format=ember.preserve_format).stride() == (60, 1, 15, 3)
    with pytest.raises(RuntimeError, match="Unsupported memory formatPreserve"):
        ember.empty(0).resize_(2, memory_format=ember.preserve_format)
    with pytest.raises(RuntimeError, match="required rank 4 tensor to use channels_last format"):
        ember.empty(0).resize_(2, 3, memory_format=ember.channels_last)


def test_method_keywords():
    x = ember.arange(6.0)
    assert x.reshape(shape=(2, 3)).shape == (2, 3)
    assert x.reshape(2, 3).permute(dims=(1, 0)).shape == (3, 2)
    with pytest.raises(TypeError, match="unexpected keyword argument 'size'"):
        x.reshape(size=(2, 3))
    u = ember.empty(1000).uniform_(**{"from": 2.0, "to": 3.0})
    assert 2.0 <= u.min().item() and u.max().item() < 3.0
    assert x.unsqueeze(0).squeeze_(axis=0).shape == (6,)
    w = ember.ones(3, requires_grad=True)
    np.testing.assert_array_equal(w.numpy(force=True), np.ones(3))
    assert ember.dot(ember.ones(2), tensor=ember.ones(2)).item() == 2.0
    assert x.type(ember.float64, non_blocking=True).dtype == ember.float64


def test_size_and_stride_take_numpy_axis():
    x = ember.zeros(2, 3)
    assert x.size(axis=1) == 3 and x.stride(axis=0) == 3
    assert x.size() == (2, 3) and x.size(-1) == 3 and x.stride() == (3, 1)


def test_unsupported_memory_format_and_unknown_type_keywords_raise():
    x = ember.ones(2)
    with pytest.raises(TypeError, match="argument 'memory_format' must be ember.memory_format, not str"):
        ember.zeros_like(x, memory_format="channels_last")
    with pytest.raises(TypeError):
        x.type(ember.float64, async_=True)
