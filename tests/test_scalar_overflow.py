"""Note [Scalar overflow]: a number written into a tensor must fit the tensor's dtype, or PyTorch raises
"value cannot be converted to type ... without overflow" (ember wrapped it silently, or made inf); and
integers fill int64 tensors exactly (a double holds them only up to 2**53)."""

from __future__ import annotations

import numpy as np
import pytest

import ember

I32 = ember.int32
WORDS = "value cannot be converted to type {} without overflow"


def overflow(type_name: str):
    return pytest.raises(RuntimeError, match=WORDS.format(type_name))


@pytest.mark.parametrize(
    "dtype, value, type_name",
    [
        (ember.uint8, 256, "uint8_t"),
        (ember.uint8, -256, "uint8_t"),  # negatives down to -255 wrap; -256 does not fit
        (ember.int8, 200, "int8_t"),
        (ember.int16, 40000, "int16_t"),
        (ember.int32, 2**40, "int"),
        (ember.int32, float("nan"), "int"),
        (ember.int32, float("inf"), "int"),
        (ember.int64, 1e19, "int64_t"),
        (ember.uint8, -3.0, "uint8_t"),  # a float does not wrap into an unsigned dtype
        (ember.float16, 1e6, "c10::Half"),
        (ember.float16, 100000, "c10::Half"),
        (ember.bfloat16, 1e39, "c10::BFloat16"),
        (ember.float32, 1e300, "float"),
    ],
)
def test_fill_refuses_a_number_its_dtype_cannot_hold(dtype, value, type_name):
    with overflow(type_name):
        ember.zeros(2, dtype=dtype).fill_(value)
    with overflow(type_name):
        ember.full((2,), value, dtype=dtype)


@pytest.mark.parametrize(
    "dtype, value, expected",
    [
        (ember.uint8, -3, 253),  # PyTorch's unsigned wrap for negative integers
        (ember.uint8, 255, 255),
        (ember.int16, -300, -300),
        (ember.int32, 3.7, 3),  # a float in range truncates
        (ember.int64, 2**60 + 1, 2**60 + 1),  # exact, not rounded through a double
        (ember.int64, -(2**63), -(2**63)),
        (ember.float16, float("inf"), float("inf")),
        (ember.float32, float("-inf"), float("-inf")),
        (ember.float64, 1e300, 1e300),
        (ember.bool, 2**40, True),
    ],
)
def test_fill_keeps_every_number_its_dtype_holds(dtype, value, expected):
    assert ember.zeros(2, dtype=dtype).fill_(value).tolist() == [expected] * 2
    assert ember.full((2,), value, dtype=dtype).tolist() == [expected] * 2


def test_the_ops_that_write_a_number_check_it_as_fill_does():
    x, m = ember.zeros(2, dtype=I32), ember.tensor([True, False])
    f16 = ember.zeros(2, dtype=ember.float16)
    for write in [
        lambda: x.masked_fill(m, 2**40),
        lambda: x.index_fill(0, ember.tensor([0]), 2**40),
        lambda: x.scatter(0, ember.tensor([0]), 2**40),
        lambda: x.clamp(min=2**40),
        lambda: ember.add(x, x, alpha=2**40),
        lambda: ember.sub(x, 2, alpha=2**40),
        lambda: ember.addcmul(x, x, x, value=2**40),
        lambda: ember.where(m, x, 2**40),
        lambda: ember.full_like(x, 2**40),
        lambda: x.new_full((2,), 2**40),
        lambda: x.clone().__setitem__(0, 2**40),
        lambda: x.clone().__setitem__(m, 2**40),
        lambda: x.clone().__setitem__(ember.tensor([0]), 2**40),
    ]:
        with overflow("int"):
            write()
    with overflow("c10::Half"):
        f16.masked_fill(m, ember.tensor(1e6))  # a 0-d tensor value is checked too
    with overflow("c10::Half"):
        ember.nn.functional.hardtanh(f16, -1e6, 1e6)
    with overflow("float"):
        ember.add(ember.ones(2), ember.ones(2), alpha=1e300)
    with overflow("float"):
        ember.zeros(2).clamp(min=1e40)


def test_what_pytorch_lets_through_still_computes():
    f16, u8 = ember.zeros(2, dtype=ember.float16), ember.zeros(2, dtype=ember.uint8)
    assert (f16 + 1e6).tolist() == [float("inf")] * 2  # a binary op's number is not converted first
    assert ember.where(ember.tensor([True, False]), f16, 1e6).tolist() == [0.0, float("inf")]
    f16c = f16.clone()
    f16c[:] = 1e6  # a float tensor takes inf through indexing, as in PyTorch
    assert f16c.tolist() == [float("inf")] * 2
    assert u8.clamp(min=-3).tolist() == [253, 253]  # the bound wraps into the dtype first, as PyTorch's
    assert ember.add(u8, u8, alpha=-3).tolist() == [0, 0]
    assert (ember.zeros(2, dtype=I32) + 2**40).tolist() == [0, 0]  # binary ops wrap, as PyTorch's


@pytest.mark.parametrize(
    "data, dtype, name",
    [
        ([256], ember.uint8, "uint8"),
        ([-256], ember.uint8, "uint8"),
        ([200], ember.int8, "int8"),
        ([2**40], ember.int32, "int32"),
        ([3e10], ember.int32, "int32"),
        ([float("nan")], ember.int64, "int64"),
        (2**40, ember.int32, "int32"),
    ],
)
def test_tensor_refuses_python_numbers_beyond_an_integer_dtype(data, dtype, name):
    with pytest.raises(RuntimeError, match=WORDS.format(name)):
        ember.tensor(data, dtype=dtype)


def test_tensor_keeps_pytorchs_conversions():
    assert ember.tensor([-3], dtype=ember.uint8).tolist() == [253]
    assert ember.tensor([1e300], dtype=ember.float32).tolist() == [float("inf")]  # floats are not checked
    assert ember.tensor([1.5], dtype=int).tolist() == [1]
    with pytest.raises(ValueError, match="Overflow when unpacking long long"):
        ember.tensor([2**63], dtype=ember.int64)
    # numpy arrays convert as numpy casts them, unchecked, in PyTorch too
    assert ember.tensor(np.array([2**40]), dtype=I32).tolist() == np.array([2**40]).astype(np.int32).tolist()


def test_masked_fill_names_a_mask_dtype_as_pytorchs_type_metadata():
    for dtype, name in [
        (ember.uint8, "unsigned char"),
        (ember.int64, "long int"),
        (ember.float16, "c10::Half"),
        (ember.float32, "float"),
        (ember.int16, "short int"),
    ]:
        with pytest.raises(RuntimeError, match=f"but got mask with dtype {name}$"):
            ember.ones(3).masked_fill(ember.tensor([1, 0, 1]).to(dtype), 0.0)


def test_fill_names_its_argument_value():
    with pytest.raises(TypeError, match="fill_\\(\\): argument 'value' must be Tensor or Number, not list"):
        ember.empty(2).fill_([0.1, 1.0])
