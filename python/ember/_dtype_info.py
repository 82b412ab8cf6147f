"""Facts about dtypes, as PyTorch's finfo/iinfo, promote_types, can_cast and is_complex give them."""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from . import _C, _creation
from ._C import Tensor, dtype

__all__ = ["can_cast", "finfo", "iinfo", "is_complex", "promote_types"]

_NUMPY = {
    dtype.float16: np.float16,
    dtype.float32: np.float32,
    dtype.float64: np.float64,
    dtype.uint8: np.uint8,
    dtype.uint16: np.uint16,
    dtype.uint32: np.uint32,
    dtype.uint64: np.uint64,
    dtype.int8: np.int8,
    dtype.int16: np.int16,
    dtype.int32: np.int32,
    dtype.int64: np.int64,
}
_FLOATS = (dtype.float16, dtype.bfloat16, dtype.float32, dtype.float64)
_FLOAT8_NAMES = ("float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu")

# bfloat16, which numpy lacks: float32's range with an 8-bit significand (PyTorch's finfo values).
_BFLOAT16 = {"bits": 16, "eps": 2.0**-7, "max": 3.3895313892515355e38, "tiny": 2.0**-126, "resolution": 0.01}
# The float8 formats (named only, Note [Named-only dtypes]): PyTorch's finfo values.
_FLOAT8 = {
    "float8_e4m3fn": {"eps": 0.125, "max": 448.0, "tiny": 2.0**-6},
    "float8_e5m2": {"eps": 0.25, "max": 57344.0, "tiny": 2.0**-14},
    "float8_e4m3fnuz": {"eps": 0.125, "max": 240.0, "tiny": 2.0**-7},
    "float8_e5m2fnuz": {"eps": 0.125, "max": 57344.0, "tiny": 2.0**-15},
    "float8_e8m0fnu": {"eps": 1.0, "max": 2.0**127, "tiny": 2.0**-127, "min": 2.0**-127},
}

# Note [Named-only dtypes]: the quantized ones, and the packed (bits and sub-byte) ones.
_QUANTIZED_NAMES = ("qint8", "quint8", "qint32", "quint4x2", "quint2x4")
_PACKED_NAMES = (
    "float4_e2m1fn_x2",
    *(f"bits{k}" for k in ("1x8", "2x4", "4x2", "8", "16")),
    *(f"int{n}" for n in range(1, 8)),
    *(f"uint{n}" for n in range(1, 8)),
)

_SCALAR_NAMES = {
    "float16": "Half",
    "bfloat16": "BFloat16",
    "float32": "Float",
    "float64": "Double",
    "uint8": "Byte",
    "uint16": "UInt16",
    "uint32": "UInt32",
    "uint64": "UInt64",
    "int8": "Char",
    "int16": "Short",
    "int32": "Int",
    "int64": "Long",
    "bool": "Bool",
    "complex32": "ComplexHalf",
    "complex64": "ComplexFloat",
    "complex128": "ComplexDouble",
    **{name: name[0].upper() + name[1:] for name in _FLOAT8_NAMES},
    **dict(zip(_QUANTIZED_NAMES, ("QInt8", "QUInt8", "QInt32", "QUInt4x2", "QUInt2x4"))),
    **{name: ("UInt" + name[4:] if name.startswith("uint") else name.capitalize()) for name in _PACKED_NAMES},
}


# C++ type names, as PyTorch's messages spell them (out='s dtype check, mm's mixed dtypes)
_CPP_TYPES = {
    "float32": "float",
    "float64": "double",
    "float16": "c10::Half",
    "bfloat16": "c10::BFloat16",
    "complex64": "c10::complex<float>",
    "complex128": "c10::complex<double>",
    "int64": "long int",
    "int32": "int",
    "int16": "short int",
    "int8": "signed char",
    "uint8": "unsigned char",
    "uint16": "unsigned short",
    "uint32": "unsigned int",
    "uint64": "unsigned long",
    "bool": "bool",
}


def _cpp_type_name(dt: Any) -> str:
    """PyTorch's C++ type name of a dtype, as its messages say it ('float' for float32)."""
    name = str(dt).split(".")[-1]
    return _CPP_TYPES.get(name, name)


def _scalar_name(dt: dtype) -> str:
    """PyTorch's scalar type name of a dtype, as its messages say it ('Float' for float32)."""
    return _SCALAR_NAMES.get(dt.name, str(dt))


def _python_scalar_type_as_dtype(type: Any) -> Any:
    """A Python scalar type as the dtype PyTorch takes it for (float: float64, int: int64, complex: complex128,
    bool: bool); anything else as it is."""
    from ._tensor import _PYTHON_DTYPES

    return _PYTHON_DTYPES[type] if isinstance(type, builtins.type) and type in _PYTHON_DTYPES else type


class finfo:
    """Machine limits of a floating point dtype (the default dtype when none is given): ``bits``, ``eps``,
    ``max``, ``min``, ``tiny`` (= ``smallest_normal``), ``resolution`` and ``dtype`` (its name)."""

    def __init__(self, type: dtype | None = None) -> None:
        type = _creation.get_default_dtype() if type is None else _python_scalar_type_as_dtype(type)
        if isinstance(type, dtype) and type.is_complex:  # a complex dtype's parts, as PyTorch's
            type = to_real(type)
        if isinstance(type, dtype) and type.name in _FLOAT8:
            self._float8(type.name)
            return
        if not isinstance(type, dtype) or type not in _FLOATS:
            raise TypeError(f"ember.finfo() requires a floating point input type. Use ember.iinfo to handle '{type}'")
        if type == dtype.bfloat16:
            facts = dict(_BFLOAT16)
        else:
            info = np.finfo(_NUMPY[type])
            facts = {
                "bits": int(info.bits),
                "eps": float(info.eps),
                "max": float(info.max),
                "tiny": float(info.smallest_normal),
                "resolution": 10.0 ** -int(info.precision),  # as PyTorch: 1e-06 for float32, not its rounding
            }
        self.bits = facts["bits"]
        self.eps = facts["eps"]
        self.max = facts["max"]
        self.min = -facts["max"]
        self.tiny = self.smallest_normal = facts["tiny"]
        self.resolution = facts["resolution"]
        self.dtype = type.name

    def _float8(self, name: str) -> None:
        facts = _FLOAT8[name]
        self.bits, self.resolution, self.dtype = 8, 1.0, name
        self.eps, self.max = facts["eps"], facts["max"]
        self.min = facts.get("min", -facts["max"])
        self.tiny = self.smallest_normal = facts["tiny"]

    def __repr__(self) -> str:
        return (
            f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
            f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})"
        )


class iinfo:
    """Machine limits of an integer dtype: ``bits``, ``max``, ``min`` and ``dtype`` (its name)."""

    def __init__(self, type: dtype) -> None:
        type = _python_scalar_type_as_dtype(type)
        if type == dtype.bool:
            raise TypeError("ember.bool is not supported by ember.iinfo")
        if not isinstance(type, dtype) or type.is_floating_point or type.is_complex:
            raise TypeError(f"ember.iinfo() requires an integer input type. Use ember.finfo to handle '{type}'")
        info = np.iinfo(_NUMPY[type])
        self.bits = int(info.bits)
        self.max = int(info.max)
        self.min = int(info.min)
        self.dtype = type.name

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


def _category(d: dtype) -> int:
    """0 bool, 1 integer, 2 floating, 3 complex: PyTorch's promotion and casting compare these."""
    return 0 if d == dtype.bool else 2 if d.is_floating_point else 3 if d.is_complex else 1


# Note [Named-only dtypes]: a complex dtype and its parts' dtype.
_COMPLEX_OF = {dtype.float16: dtype.complex32, dtype.float32: dtype.complex64, dtype.float64: dtype.complex128}
_REAL_OF = {c: r for r, c in _COMPLEX_OF.items()}


def to_real(self: dtype) -> dtype:
    """``dtype.to_real()``: a complex dtype's parts' dtype (complex64 -> float32); any other dtype itself."""
    return _REAL_OF.get(self, self)


def to_complex(self: dtype) -> dtype:
    """``dtype.to_complex()``: the complex dtype with parts of this float dtype (float32 -> complex64; bfloat16
    -> complex64, as PyTorch's); a complex dtype itself."""
    if self.is_complex:
        return self
    if self not in _COMPLEX_OF and self != dtype.bfloat16:
        raise RuntimeError(f"Unknown Complex ScalarType for {_scalar_name(self)}")
    return _COMPLEX_OF.get(self, dtype.complex64)


def _check_dtype(d: Any, fn: str, arg: str) -> None:
    if not isinstance(d, dtype):
        raise TypeError(f"{fn}(): argument '{arg}' must be ember.dtype, not {type(d).__name__}")


def promote_types(type1: dtype, type2: dtype) -> dtype:
    """The smallest dtype both ``type1`` and ``type2`` convert to without losing their category
    (``promote_types(int32, float32)`` is float32)."""
    _check_dtype(type1, "promote_types", "type1")
    _check_dtype(type2, "promote_types", "type2")
    if type1.name in _QUANTIZED_NAMES or type2.name in _QUANTIZED_NAMES:  # PyTorch's words
        raise RuntimeError(
            "promoteTypes with quantized numbers is not handled yet; figure out what the correct rules should be, "
            f"offending types: {_scalar_name(type1)} {_scalar_name(type2)}"
        )
    if (type1.name in _PACKED_NAMES or type2.name in _PACKED_NAMES) and type1 != type2:
        raise RuntimeError(f"Promotion from {_scalar_name(type1)} and {_scalar_name(type2)} is unsupported.")
    if type1.name in _PACKED_NAMES:
        return type1
    float8 = [t for t in (type1, type2) if t.name in _FLOAT8]
    if float8 and type1 != type2:
        raise RuntimeError(
            f"Promotion for Float8 Types is not supported, attempted to promote {_scalar_name(type1)} and "
            f"{_scalar_name(type2)}"
        )
    if float8:
        return type1
    if type1.is_complex or type2.is_complex:  # no tensor of theirs exists: promote their parts
        parts = [to_real(t) if t.is_complex else t for t in (type1, type2)]
        if any(_category(p) < 2 for p in parts):  # with bool or an integer: the complex one
            for t in (type1, type2):
                if t.name in ("uint16", "uint32", "uint64"):
                    raise RuntimeError(
                        "Promotion for uint16, uint32, uint64 types is not supported, attempted to promote "
                        f"{_scalar_name(type1)} and {_scalar_name(type2)}"
                    )
            return type1 if type1.is_complex else type2
        return to_complex(promote_types(*parts))
    # 1-D tensors, not 0-d ones, so the dimensioned-tensor promotion rule applies to both.
    return _C.result_type(_C._empty([0], type1), _C._empty([0], type2))


def can_cast(from_: dtype, to: dtype) -> bool:
    """Whether PyTorch's casting rules allow ``from_`` into ``to``: not to a lower category
    (floating to integer, or anything but bool to bool)."""
    _check_dtype(from_, "can_cast", "from_")
    _check_dtype(to, "can_cast", "to")
    return _category(from_) <= _category(to)


def is_complex(input: Tensor) -> bool:
    """Whether input's dtype is complex: never so yet (Note [Named-only dtypes])."""
    if not isinstance(input, Tensor):
        raise TypeError(f"is_complex(): argument 'input' must be Tensor, not {type(input).__name__}")
    return input.dtype.is_complex


dtype.to_real = to_real
dtype.to_complex = to_complex


def _reduce(self: dtype) -> tuple:
    """Pickles a dtype as its name on the dtype class, so it unpickles as the same object (``d is
    ember.float32`` holds after a round trip, as for PyTorch's dtypes)."""
    return (getattr, (dtype, self.name))


dtype.__reduce__ = _reduce
