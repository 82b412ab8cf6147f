"""Names PyTorch programs use without needing what they name: the symbolic-shape functions on plain
numbers (``sym_max``, ``SymInt``, ...), the kept assertions (``_assert_async``, ``_assert_scalar``), the vmap
query ``_C._are_functorch_transforms_active``, the complex and float8 dtypes as names (Note [Named-only
dtypes]): they compare, promote and report as PyTorch's, and a tensor of one is refused with a TypeError;
Python's number types as dtypes, and ``ember.fft``'s real-valued part."""

import math
import pickle

import numpy as np
import pytest

import ember


def test_sym_functions_on_plain_numbers_give_pytorchs_answers():
    assert ember.sym_int(3.7) == 3 and ember.sym_int(-3.7) == -3 and isinstance(ember.sym_int(2.0), int)
    assert ember.sym_float(3) == 3.0 and isinstance(ember.sym_float(3), float)
    assert ember.sym_max(2, 5) == 5 and isinstance(ember.sym_max(2, 5), int)
    assert ember.sym_max(2.0, 5) == 5.0 and isinstance(ember.sym_max(2.0, 5), float)
    assert ember.sym_min(2, 5.0) == 2.0 and isinstance(ember.sym_min(2, 5.0), float)
    assert ember.sym_not(0) is True and ember.sym_ite(False, 1, 2) == 2
    assert ember.sym_sqrt(4) == 2.0 and ember.sym_sum([1, 2, 3]) == 6 and ember.sym_sum([]) == 0
    assert ember.sym_fresh_size(5) == 5
    ember.sym_constrain_range(2, min=0, max=3)
    with pytest.raises(RuntimeError, match=r"Invalid value range for 5 between \[0, 3\]"):
        ember.sym_constrain_range_for_size(5, min=0, max=3)
    with pytest.raises(TypeError, match="sym_max: expected an int or float, got Tensor"):
        ember.sym_max(ember.tensor(2), 3)
    # no object is symbolic: sizes are plain ints
    assert not isinstance(ember.ones(3).shape[0], (ember.SymInt, ember.SymFloat, ember.SymBool))
    with pytest.raises(TypeError, match="no symbolic sizes"):
        ember.SymInt(3)


def test_kept_assertions_raise_runtime_error():
    ember._assert_async(ember.tensor(1))
    with pytest.raises(RuntimeError, match="Expected Tensor with single nonzero value, but got zero"):
        ember._assert_async(ember.tensor(False))
    with pytest.raises(RuntimeError, match="^shapes differ$"):
        ember._assert_async(ember.tensor(0.0), "shapes differ")
    with pytest.raises(RuntimeError, match="more than one value is ambiguous"):
        ember._assert_async(ember.tensor([1, 1]))
    ember._assert_scalar(True, "fine")
    with pytest.raises(RuntimeError, match="^boo$"):
        ember._assert_scalar(False, "boo")


def test_functorch_transforms_are_active_inside_vmap_only():
    assert ember._C._are_functorch_transforms_active() is False
    seen = []
    ember.func.vmap(lambda x: seen.append(ember._C._are_functorch_transforms_active()) or x)(ember.ones(2))
    assert seen == [True]
    assert ember._C._are_functorch_transforms_active() is False


def test_complex_dtypes_are_names_that_compare_promote_and_report():
    assert ember.cfloat is ember.complex64 and ember.cdouble is ember.complex128 and ember.chalf is ember.complex32
    assert [d.itemsize for d in (ember.complex32, ember.complex64, ember.complex128)] == [4, 8, 16]
    assert ember.complex64.is_complex and not ember.complex64.is_floating_point and ember.complex64.is_signed
    assert not ember.float32.is_complex and str(ember.cfloat) == "ember.complex64"
    assert ember.float32 not in (ember.complex32, ember.complex64, ember.complex128)
    assert pickle.loads(pickle.dumps(ember.complex128)) == ember.complex128
    assert ember.float16.to_complex() is ember.complex32 and ember.bfloat16.to_complex() is ember.complex64
    assert ember.complex64.to_real() is ember.float32 and ember.int32.to_real() is ember.int32
    assert ember.complex64.to_complex() is ember.complex64
    with pytest.raises(RuntimeError, match="Unknown Complex ScalarType for Long"):
        ember.int64.to_complex()
    promote = ember.promote_types
    assert promote(ember.float64, ember.complex64) is ember.complex128
    assert promote(ember.int64, ember.complex32) is ember.complex32
    assert promote(ember.bfloat16, ember.complex32) is ember.complex64
    assert promote(ember.bool, ember.complex128) is ember.complex128
    assert promote(ember.complex32, ember.complex64) is ember.complex64
    with pytest.raises(RuntimeError, match="attempted to promote UInt64 and ComplexFloat"):
        promote(ember.uint64, ember.complex64)
    assert ember.can_cast(ember.float64, ember.complex64) and not ember.can_cast(ember.complex64, ember.float64)
    info = ember.finfo(ember.complex64)
    assert info.dtype == "float32" and info.eps == ember.finfo(ember.float32).eps
    with pytest.raises(TypeError, match="requires an integer input type"):
        ember.iinfo(ember.complex64)
    assert not ember.is_complex(ember.ones(1)) and not ember.ones(1).is_complex()
    assert math.isclose(ember.finfo(ember.complex128).eps, 2.0**-52)


@pytest.mark.parametrize(
    "make",
    [lambda: ember.zeros(2, dtype=ember.complex32), lambda: ember.tensor([1.0], dtype=ember.chalf)],
)
def test_complex32_is_refused(make):
    # complex64 and complex128 tensors exist (Note [Complex tensors], tests/test_complex.py); complex32 does not
    with pytest.raises(NotImplementedError, match="ember's complex tensors are complex64 and complex128"):
        make()
    with pytest.raises(TypeError, match="ember has no complex tensors: complex32"):
        ember.ones(2).view(ember.complex32)


def test_set_default_dtype_refuses_complex():
    with pytest.raises(TypeError, match="only floating-point types are supported as the default type"):
        ember.set_default_dtype(ember.complex64)


def test_python_number_types_stand_for_dtypes_as_in_pytorch():
    assert ember.tensor([1.5], dtype=int).dtype is ember.int64
    assert ember.zeros(2, dtype=bool).dtype is ember.bool
    assert ember.arange(3, dtype=float).dtype is ember.float64
    assert ember.full((2,), 1, dtype=int).dtype is ember.int64
    assert ember.randn(2, dtype=float).dtype is ember.float64
    x = ember.ones(2)
    assert x.to(int).dtype is ember.int64 and x.to(dtype=float).dtype is ember.float64
    assert x.new_zeros(2, dtype=int).dtype is ember.int64 and ember.zeros_like(x, dtype=int).dtype is ember.int64
    assert ember.ones(2, dtype=ember.float64).view(int).dtype is ember.int64  # the bits, as an int64 view
    assert ember.empty(1, dtype=complex).dtype is ember.complex128
    assert ember.tensor([1], dtype=complex).dtype is ember.complex128 and x.to(complex).dtype is ember.complex128


def test_fft_frequencies_and_shifts_match_numpy():
    np.testing.assert_allclose(ember.fft.fftfreq(5).numpy(), np.fft.fftfreq(5), rtol=1e-6)
    np.testing.assert_allclose(ember.fft.fftfreq(6, d=0.5, dtype=ember.float64).numpy(), np.fft.fftfreq(6, 0.5))
    np.testing.assert_allclose(ember.fft.rfftfreq(7, d=0.25).numpy(), np.fft.rfftfreq(7, 0.25), rtol=1e-6)
    assert ember.fft.fftfreq(4, requires_grad=True).requires_grad
    a = np.arange(12.0).reshape(3, 4)
    t = ember.tensor(a, requires_grad=True)
    np.testing.assert_array_equal(ember.fft.fftshift(t).detach().numpy(), np.fft.fftshift(a))
    np.testing.assert_array_equal(ember.fft.ifftshift(t, dim=1).detach().numpy(), np.fft.ifftshift(a, axes=1))
    np.testing.assert_array_equal(ember.fft.fftshift(t, dim=(0,)).detach().numpy(), np.fft.fftshift(a, axes=(0,)))
    ember.fft.fftshift(t).sum().backward()  # a roll: every element's gradient is 1
    np.testing.assert_array_equal(t.grad.numpy(), np.ones_like(a))


def test_float8_dtypes_are_names_with_pytorchs_facts():
    # transformers' and safetensors' dtype tables name them; no ember tensor has one
    names = ["float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu"]
    for name in names:
        d = getattr(ember, name)
        assert d.is_floating_point and d.itemsize == 1 and not d.is_complex and str(d) == f"ember.{name}"
        with pytest.raises(TypeError, match=f"ember has no float8 tensors: {name}"):
            ember.zeros(1, dtype=d)
    assert ember.float8_e4m3fn.is_signed and not ember.float8_e8m0fnu.is_signed
    info = ember.finfo(ember.float8_e4m3fn)
    assert (info.max, info.eps, info.tiny, info.bits, info.dtype) == (448.0, 0.125, 2.0**-6, 8, "float8_e4m3fn")
    assert ember.finfo(ember.float8_e5m2).max == 57344.0 and ember.finfo(ember.float8_e8m0fnu).min == 2.0**-127
    assert ember.promote_types(ember.float8_e5m2, ember.float8_e5m2) is ember.float8_e5m2
    with pytest.raises(RuntimeError, match="Promotion for Float8 Types is not supported, attempted to promote "
                                           "Float8_e4m3fn and Float"):  # fmt: skip
        ember.promote_types(ember.float8_e4m3fn, ember.float32)
    with pytest.raises(RuntimeError, match="Unknown Complex ScalarType for Float8_e4m3fn"):
        ember.float8_e4m3fn.to_complex()


def test_quantized_bits_and_sub_byte_dtypes_are_names_with_pytorchs_facts():
    """tensordict's dtype table names every PyTorch dtype: they exist, report and refuse as PyTorch's."""
    quantized = {"qint8": 1, "quint8": 1, "qint32": 4, "quint4x2": 1, "quint2x4": 1}
    bits = {"bits1x8": 1, "bits2x4": 1, "bits4x2": 1, "bits8": 1, "bits16": 2}
    sub_byte = {f"{kind}{n}": 1 for kind in ("int", "uint") for n in range(1, 8)}
    for kind, table in (("quantized", quantized), ("bits", bits), ("sub-byte", sub_byte)):
        for name, size in table.items():
            d = getattr(ember, name)
            assert d.itemsize == size and str(d) == f"ember.{name}" and not d.is_complex
            assert not d.is_floating_point and pickle.loads(pickle.dumps(d)) is d
            with pytest.raises(TypeError, match=f"ember has no {kind} tensors: {name}"):
                ember.empty(2, dtype=d)
    assert ember.float4_e2m1fn_x2.is_floating_point and ember.float4_e2m1fn_x2.is_signed
    assert ember.bit is ember.uint1 and ember.int3.is_signed and not ember.uint3.is_signed
    with pytest.raises(RuntimeError, match="isSignedType not supported for quantized types"):
        bool(ember.qint8.is_signed)
    with pytest.raises(RuntimeError, match="Bits types are undefined"):
        bool(ember.bits8.is_signed)
    with pytest.raises(RuntimeError, match="promoteTypes with quantized numbers is not handled yet.*QInt8 Float"):
        ember.promote_types(ember.qint8, ember.float32)
    with pytest.raises(RuntimeError, match=r"^Promotion from Float and Bits8 is unsupported\.$"):
        ember.promote_types(ember.float32, ember.bits8)
    assert ember.promote_types(ember.int3, ember.int3) is ember.int3
    # a dtype unpickles as the same object, as PyTorch's: `dtype is ember.float32` checks hold after a round trip
    for d in (ember.float32, ember.int64, ember.complex64, ember.bit):
        assert pickle.loads(pickle.dumps(d)) is d
