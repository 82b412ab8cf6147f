"""Results' dtypes and the ops' support of dtypes as PyTorch's (a sweep of 118 ops over 11 dtypes against
PyTorch 2.13, the seventeenth session)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember


def test_all_and_any_of_uint8_stay_uint8():
    """PyTorch's documented exception: uint8 inputs give uint8 results, every other dtype bool."""
    x = ember.tensor([1, 0, 3], dtype=ember.uint8)
    assert x.all().dtype == x.any(0).dtype == ember.all(x, 0, keepdim=True).dtype == ember.uint8
    assert x.all().item() == 0 and x.any().item() == 1
    assert ember.tensor([1, 2]).all().dtype == ember.bool


def test_ldexp_keeps_the_promoted_dtype():
    """A half-float input stays half (ember gave float32); the power is computed wider, so 1e-3 * 2**20 fits."""
    r = ember.ldexp(ember.tensor([1e-3, 2.0], dtype=ember.float16), ember.tensor([20, 1]))
    assert r.dtype == ember.float16 and r.tolist() == [1049.0, 4.0]
    assert ember.ldexp(ember.tensor([1.0], dtype=ember.bfloat16), ember.tensor([1.0])).dtype == ember.float32
    assert ember.ldexp(ember.tensor([1, 2]), ember.tensor([3, 1])).dtype == ember.float32
    assert ember.ldexp(ember.tensor([1.0]), ember.tensor([3.0], dtype=ember.float64)).dtype == ember.float64


def test_bfloat16_nextafter_frexp_and_mode():
    """numpy has no bfloat16 (these raised "Got unsupported ScalarType BFloat16"); nextafter steps in
    bfloat16's own spacing, not float32's."""
    a = [0.0, -0.0, 1.0, 1.0, -1.0, 3.5, math.inf, 2.0]
    b = [1.0, -1.0, 2.0, 0.0, 0.0, 3.5, 0.0, math.nan]
    r = ember.nextafter(ember.tensor(a, dtype=ember.bfloat16), ember.tensor(b, dtype=ember.bfloat16))
    assert r.dtype == ember.bfloat16
    got = r.float().tolist()
    assert got[0] == 2.0**-133 and got[1] == -(2.0**-133)  # bfloat16's smallest subnormal
    assert got[2:6] == [1 + 2.0**-7, 1 - 2.0**-8, -1 + 2.0**-8, 3.5]
    assert got[6] == float(ember.finfo(ember.bfloat16).max) and math.isnan(got[7])
    mantissa, exponent = ember.frexp(ember.tensor([3.0, 0.75], dtype=ember.bfloat16))
    assert mantissa.dtype == ember.bfloat16 and mantissa.tolist() == [0.75, 0.75] and exponent.tolist() == [2, 0]
    values, indices = ember.mode(ember.tensor([1.0, 2.0, 2.0], dtype=ember.bfloat16))
    assert values.item() == 2.0 and values.dtype == ember.bfloat16 and indices.item() == 2


def test_complex_float_power_and_addcdiv():
    z = ember.tensor([1 + 1j, 2 - 1j])
    r = ember.float_power(z, 2)
    assert r.dtype == ember.complex128  # computed in double precision, as PyTorch's
    np.testing.assert_allclose(r.numpy(), np.array([1 + 1j, 2 - 1j]) ** 2)
    w = ember.tensor([2.0 + 0j, 1 + 3j])
    expected = z.numpy() + 0.5 * z.numpy() / w.numpy()
    np.testing.assert_allclose(ember.addcdiv(z, z, w, value=0.5).numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(z.clone().addcdiv_(z, w, value=0.5).numpy(), expected, rtol=1e-6)


@pytest.mark.parametrize("dtype, name", [(ember.float32, "Float"), (ember.float16, "Half"), (ember.bool, "Bool")])
def test_gcd_of_non_integers_is_pytorchs_not_implemented(dtype, name):
    x = ember.ones(2, dtype=dtype)
    with pytest.raises(NotImplementedError, match=f"\"gcd_cpu\" not implemented for '{name}'"):
        ember.gcd(x, x)


def test_default_dtype_reaches_the_promotions():
    """PyTorch promotes integer and bool tensors with a Python float, true division and float functions to the
    default dtype (ember's C++ core kept float32: neuromancer's KAN grid then met float64 noise in lstsq)."""
    i = ember.arange(3)
    ember.set_default_dtype(ember.float64)
    try:
        promoted = [i * 0.5, i + 1.5, i / 2, ember.sqrt(i), ember.exp(i), i**0.5, ember.tensor([True]) * 1.5,
                    ember.logsumexp(i, 0), (2 * np.pi / 1.618) * ember.arange(1, 4)]  # fmt: skip
        assert all(t.dtype == ember.float64 for t in promoted)
        assert ember.result_type(i, 1.5) == ember.float64
        np.testing.assert_array_equal(
            ((2 * np.pi / 1.618) * ember.arange(1, 4)).numpy(), (2 * np.pi / 1.618) * np.arange(1, 4)
        )
        assert (ember.ones(2, dtype=ember.float32) * 1.5).dtype == ember.float32  # a float tensor keeps its dtype
        assert i.float().dtype == ember.float32
        with pytest.raises(RuntimeError, match="result type Double can't be cast to the desired output type Long"):
            i.clone().div_(2)
    finally:
        ember.set_default_dtype(ember.float32)
    assert (i / 2).dtype == ember.float32 and ember.exp(i).dtype == ember.float32
