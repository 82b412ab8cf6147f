#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "core/error.h"

namespace ember {

// Note [Storage dtypes]
// The first five dtypes are the compute dtypes: every kernel has a loop for
// each. The storage dtypes (uint8, int8, int16, float16, bfloat16, uint16,
// uint32, uint64) are held, viewed, copied, converted, filled, gathered and
// scattered natively; every other kernel computes them in their compute dtype
// (int32 for the small integers, int64 for uint32 and uint64, float32 for the
// half floats, as PyTorch's CPU kernels accumulate half floats in float) and
// narrows the result into the output (kernels/cpu/widen.h). Integer results
// wrap exactly as in the narrow type, and a half-float result is rounded once
// per op, as PyTorch's CPU kernels round it. uint64 values of 2**63 and more
// have no int64 counterpart: widening refuses them rather than compute with
// wrong numbers. The op layer sees thirteen first-class dtypes (promotion,
// checks, grad); only the kernels' loops stay at five, which keeps the build
// small.
// The numbers are stable: a pickled dtype is its number.
enum class DType : uint8_t {
  Bool = 0,
  Int32 = 1,
  Int64 = 2,
  Float32 = 3,
  Float64 = 4,
  UInt8 = 5,
  Int8 = 6,
  Int16 = 7,
  Float16 = 8,
  BFloat16 = 9,
  UInt16 = 10,
  UInt32 = 11,
  UInt64 = 12,
  // Note [Named-only dtypes]: the complex and float8 dtypes are named, never
  // held by a TensorImpl. PyTorch code names them in dtype tables and checks
  // (safetensors, kornia, transformers), so the names exist and compare,
  // promote and report as PyTorch's; a tensor of one is refused where every
  // tensor is made (TensorImpl's constructor), so no kernel meets them. A
  // complex64/128 tensor is a Python stand-in over a real tensor of its parts
  // (Note [Complex tensors]). The quantized, bits and sub-byte dtypes are names
  // only for good: ember has no quantized or packed tensors.
  Complex32 = 13,
  Complex64 = 14,
  Complex128 = 15,
  Float8_e4m3fn = 16,
  Float8_e5m2 = 17,
  Float8_e4m3fnuz = 18,
  Float8_e5m2fnuz = 19,
  Float8_e8m0fnu = 20,
  QInt8 = 21,
  QUInt8 = 22,
  QInt32 = 23,
  QUInt4x2 = 24,
  QUInt2x4 = 25,
  Bits1x8 = 26,
  Bits2x4 = 27,
  Bits4x2 = 28,
  Bits8 = 29,
  Bits16 = 30,
  Float4_e2m1fn_x2 = 31,
  Int1 = 32,  // Int1..Int7 and UInt1..UInt7 follow in order
  UInt1 = 39
};
constexpr int kNumDTypes = 13;      // the dtypes a tensor can have
constexpr int kNumDTypeNames = 46;  // with the named-only ones
constexpr int kNumNamedOnly = kNumDTypeNames - (int)DType::Complex32;
inline bool is_named_only(DType t) { return t >= DType::Complex32; }
inline bool is_complex(DType t) { return t >= DType::Complex32 && t <= DType::Complex128; }
inline bool is_float8(DType t) { return t >= DType::Float8_e4m3fn && t <= DType::Float8_e8m0fnu; }
inline bool is_quantized(DType t) { return t >= DType::QInt8 && t <= DType::QUInt2x4; }
inline bool is_bits(DType t) { return t >= DType::Bits1x8 && t <= DType::Bits16; }
inline bool is_sub_byte(DType t) { return (int)t >= (int)DType::Int1 && (int)t < kNumDTypeNames; }
inline DType named_only_dtype(int i) { return (DType)((int)DType::Complex32 + i); }
// What kind of tensor a named-only dtype would make, for the refusal's message.
inline const char* named_only_kind(DType t) {
  if (is_complex(t)) return "complex";
  if (is_float8(t)) return "float8";
  if (is_quantized(t)) return "quantized";
  return is_bits(t) ? "bits" : "sub-byte";
}
constexpr DType kAllDTypes[kNumDTypes] = {
    DType::Bool,     DType::UInt8,   DType::Int8,    DType::Int16,  DType::Int32,  DType::Int64, DType::Float16,
    DType::BFloat16, DType::Float32, DType::Float64, DType::UInt16, DType::UInt32, DType::UInt64};

inline size_t itemsize(DType t) {
  switch (t) {
    case DType::Bool:
    case DType::UInt8:
    case DType::Float8_e4m3fn:
    case DType::Float8_e5m2:
    case DType::Float8_e4m3fnuz:
    case DType::Float8_e5m2fnuz:
    case DType::Float8_e8m0fnu:
    case DType::Int8: return 1;
    case DType::QInt32: return 4;
    case DType::Bits16: return 2;
    case DType::QInt8:
    case DType::QUInt8:
    case DType::QUInt4x2:
    case DType::QUInt2x4:
    case DType::Bits1x8:
    case DType::Bits2x4:
    case DType::Bits4x2:
    case DType::Bits8:
    case DType::Float4_e2m1fn_x2:
    case DType::Int1:
    case DType::UInt1: return 1;
    case DType::Int16:
    case DType::UInt16:
    case DType::Float16:
    case DType::BFloat16: return 2;
    case DType::Int32:
    case DType::UInt32:
    case DType::Complex32:
    case DType::Float32: return 4;
    case DType::Int64:
    case DType::UInt64:
    case DType::Complex64:
    case DType::Float64: return 8;
    case DType::Complex128: return 16;
  }
  return 1;  // Int1..Int7, UInt1..UInt7: one byte each, as PyTorch reports them
}

// One row per dtype: its name, PyTorch's legacy tensor type name (used in the
// in-place error message) and PyTorch's scalar type name ("Float", "Long",
// used in its kernel error messages).
struct DTypeNames {
  const char* name;
  const char* legacy;
  const char* scalar;
};
inline const DTypeNames& dtype_names(DType t) {
  static const DTypeNames rows[kNumDTypeNames] = {{"bool", "BoolTensor", "Bool"},
                                                  {"int32", "IntTensor", "Int"},
                                                  {"int64", "LongTensor", "Long"},
                                                  {"float32", "FloatTensor", "Float"},
                                                  {"float64", "DoubleTensor", "Double"},
                                                  {"uint8", "ByteTensor", "Byte"},
                                                  {"int8", "CharTensor", "Char"},
                                                  {"int16", "ShortTensor", "Short"},
                                                  {"float16", "HalfTensor", "Half"},
                                                  {"bfloat16", "BFloat16Tensor", "BFloat16"},
                                                  {"uint16", "UInt16Tensor", "UInt16"},
                                                  {"uint32", "UInt32Tensor", "UInt32"},
                                                  {"uint64", "UInt64Tensor", "UInt64"},
                                                  {"complex32", "ComplexHalfTensor", "ComplexHalf"},
                                                  {"complex64", "ComplexFloatTensor", "ComplexFloat"},
                                                  {"complex128", "ComplexDoubleTensor", "ComplexDouble"},
                                                  {"float8_e4m3fn", "Float8_e4m3fnTensor", "Float8_e4m3fn"},
                                                  {"float8_e5m2", "Float8_e5m2Tensor", "Float8_e5m2"},
                                                  {"float8_e4m3fnuz", "Float8_e4m3fnuzTensor", "Float8_e4m3fnuz"},
                                                  {"float8_e5m2fnuz", "Float8_e5m2fnuzTensor", "Float8_e5m2fnuz"},
                                                  {"float8_e8m0fnu", "Float8_e8m0fnuTensor", "Float8_e8m0fnu"},
                                                  {"qint8", "QInt8Tensor", "QInt8"},
                                                  {"quint8", "QUInt8Tensor", "QUInt8"},
                                                  {"qint32", "QInt32Tensor", "QInt32"},
                                                  {"quint4x2", "QUInt4x2Tensor", "QUInt4x2"},
                                                  {"quint2x4", "QUInt2x4Tensor", "QUInt2x4"},
                                                  {"bits1x8", "Bits1x8Tensor", "Bits1x8"},
                                                  {"bits2x4", "Bits2x4Tensor", "Bits2x4"},
                                                  {"bits4x2", "Bits4x2Tensor", "Bits4x2"},
                                                  {"bits8", "Bits8Tensor", "Bits8"},
                                                  {"bits16", "Bits16Tensor", "Bits16"},
                                                  {"float4_e2m1fn_x2", "Float4_e2m1fn_x2Tensor", "Float4_e2m1fn_x2"},
                                                  {"int1", "Int1Tensor", "Int1"},
                                                  {"int2", "Int2Tensor", "Int2"},
                                                  {"int3", "Int3Tensor", "Int3"},
                                                  {"int4", "Int4Tensor", "Int4"},
                                                  {"int5", "Int5Tensor", "Int5"},
                                                  {"int6", "Int6Tensor", "Int6"},
                                                  {"int7", "Int7Tensor", "Int7"},
                                                  {"uint1", "UInt1Tensor", "UInt1"},
                                                  {"uint2", "UInt2Tensor", "UInt2"},
                                                  {"uint3", "UInt3Tensor", "UInt3"},
                                                  {"uint4", "UInt4Tensor", "UInt4"},
                                                  {"uint5", "UInt5Tensor", "UInt5"},
                                                  {"uint6", "UInt6Tensor", "UInt6"},
                                                  {"uint7", "UInt7Tensor", "UInt7"}};
  return rows[(int)t < kNumDTypeNames ? (int)t : 0];
}
inline const char* dtype_name(DType t) { return dtype_names(t).name; }
inline const char* legacy_type_name(DType t) { return dtype_names(t).legacy; }
inline const char* scalar_type_name(DType t) { return dtype_names(t).scalar; }
// The C++ type name PyTorch's type metadata prints (its masked_fill mask error: "dtype unsigned char").
inline const char* type_meta_name(DType t) {
  switch (t) {
    case DType::Bool: return "bool";
    case DType::UInt8: return "unsigned char";
    case DType::Int8: return "signed char";
    case DType::Int16: return "short int";
    case DType::Int32: return "int";
    case DType::Int64: return "long int";
    case DType::UInt16: return "short unsigned int";
    case DType::UInt32: return "unsigned int";
    case DType::UInt64: return "long unsigned int";
    case DType::Float16: return "c10::Half";
    case DType::BFloat16: return "c10::BFloat16";
    case DType::Float32: return "float";
    case DType::Float64: return "double";
    default: return dtype_name(t);
  }
}

inline bool is_floating(DType t) {
  return t == DType::Float32 || t == DType::Float64 || t == DType::Float16 || t == DType::BFloat16;
}
inline bool is_integral(DType t, bool include_bool) {
  switch (t) {
    case DType::UInt8:
    case DType::Int8:
    case DType::Int16:
    case DType::Int32:
    case DType::Int64:
    case DType::UInt16:
    case DType::UInt32:
    case DType::UInt64: return true;
    case DType::Bool: return include_bool;
    default: return false;
  }
}
// 0 bool, 1 integer, 2 floating: the categories PyTorch's promotion compares.
inline int dtype_category(DType t) { return t == DType::Bool ? 0 : is_floating(t) ? 2 : 1; }

// Storage dtypes compute in a wider dtype (Note [Storage dtypes]).
inline bool is_storage_only(DType t) { return (int)t >= 5 && !is_named_only(t); }
// uint16, uint32 and uint64: PyTorch's "shell" unsigned dtypes, which it
// does not promote with any other integer or bool dtype.
inline bool is_wide_unsigned(DType t) { return t >= DType::UInt16 && t <= DType::UInt64; }
inline DType compute_dtype(DType t) {
  if (!is_storage_only(t)) return t;
  if (t == DType::UInt32 || t == DType::UInt64) return DType::Int64;
  return is_floating(t) ? DType::Float32 : DType::Int32;
}

// PyTorch's promotion table (c10/core/ScalarType.cpp): the smallest dtype
// holding both, except that uint8 with a signed integer gives the next signed
// size up, and float16 with bfloat16 gives float32.
inline DType promote(DType a, DType b) {
  if (a == b) return a;
  const int ca = dtype_category(a), cb = dtype_category(b);
  const bool both_exact = ca < 2 && cb < 2;  // a float with a shell unsigned is the float
  EMBER_CHECK(!(both_exact && (is_wide_unsigned(a) || is_wide_unsigned(b))),
              "Promotion for uint16, uint32, uint64 types is not supported, attempted to promote ",
              dtype_names(a).scalar, " and ", dtype_names(b).scalar);
  if (ca != cb) return ca > cb ? a : b;
  // Two floats: float64 if either is; else float32 (float16 with bfloat16 too).
  if (ca == 2) return a == DType::Float64 || b == DType::Float64 ? DType::Float64 : DType::Float32;
  // Two integers: the wider one; uint8 with int8 needs int16 for both ranges.
  if (itemsize(a) == itemsize(b)) return DType::Int16;
  return itemsize(a) > itemsize(b) ? a : b;
}
// The float dtype promotions give where no operand is a float tensor (an integer tensor / 2, exp of an integer
// tensor, an integer tensor times a Python float): float32 unless set_default_dtype chose another, as PyTorch's.
DType default_float();
void set_default_float(DType dtype);

// IEEE half and bfloat16 as storage: 16 bits, converted through float with
// round-to-nearest-even (PyTorch's c10::Half and c10::BFloat16 do the same).
struct Half {
  uint16_t bits = 0;
  Half() = default;
  Half(float f) : bits(from_float(f)) {}
  template <class T, class = std::enable_if_t<std::is_arithmetic_v<T>>>
  Half(T v) : Half(static_cast<float>(v)) {}
  operator float() const { return to_float(bits); }
  static uint16_t from_float(float f);
  static float to_float(uint16_t h);
};

struct BFloat16 {
  uint16_t bits = 0;
  BFloat16() = default;
  BFloat16(float f) : bits(from_float(f)) {}
  template <class T, class = std::enable_if_t<std::is_arithmetic_v<T>>>
  BFloat16(T v) : BFloat16(static_cast<float>(v)) {}
  operator float() const {
    uint32_t u = uint32_t(bits) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
  static uint16_t from_float(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40);  // NaN stays a quiet NaN
    return uint16_t((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);                 // round to nearest even
  }
};

inline uint16_t Half::from_float(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  const uint32_t sign = (u >> 16) & 0x8000u;
  u &= 0x7fffffffu;
  if (u > 0x7f800000u) return uint16_t(sign | 0x7e00u);   // NaN
  if (u >= 0x477ff000u) return uint16_t(sign | 0x7c00u);  // rounds to infinity (>= 65520)
  if (u < 0x38800000u) {                                  // below 2^-14: a subnormal half (or zero)
    float a;
    std::memcpy(&a, &u, 4);
    // Adding 0.5 aligns the value's bits so the float unit rounds it to the
    // subnormal grid (2^-24) with round-to-nearest-even.
    float shifted = a + 0.5f;
    uint32_t v;
    std::memcpy(&v, &shifted, 4);
    return uint16_t(sign | (v - 0x3f000000u));
  }
  const uint32_t odd = (u >> 13) & 1u;
  u += 0xc8000fffu + odd;  // rebias the exponent (-112 << 23) and round to nearest even
  return uint16_t(sign | (u >> 13));
}

inline float Half::to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
  uint32_t u;
  if (exp == 0x1fu) {
    u = sign | 0x7f800000u | (man << 13);  // inf, NaN
  } else if (exp == 0) {
    float f = float(man) * 5.9604644775390625e-08f;  // man * 2^-24 (zero and subnormals)
    std::memcpy(&u, &f, 4);
    u |= sign;
  } else {
    u = sign | ((exp + 112u) << 23) | (man << 13);
  }
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

template <class T>
struct type_tag {
  using type = T;
};

// Calls f(type_tag<T>{}) with T the C++ type of compute dtype t. Kernels
// that reach it with a storage dtype were not widened (kernels/cpu/widen.h).
template <class F>
decltype(auto) dispatch(DType t, F&& f) {
  switch (t) {
    case DType::Bool: return f(type_tag<bool>{});
    case DType::Int32: return f(type_tag<int32_t>{});
    case DType::Int64: return f(type_tag<int64_t>{});
    case DType::Float32: return f(type_tag<float>{});
    case DType::Float64: return f(type_tag<double>{});
    default: break;
  }
  throw std::logic_error(std::string("ember: a compute kernel reached the storage dtype ") + dtype_name(t));
}

// Every dtype: for the kernels that only move, convert or fill values.
template <class F>
decltype(auto) dispatch_all(DType t, F&& f) {
  switch (t) {
    case DType::UInt8: return f(type_tag<uint8_t>{});
    case DType::Int8: return f(type_tag<int8_t>{});
    case DType::Int16: return f(type_tag<int16_t>{});
    case DType::Float16: return f(type_tag<Half>{});
    case DType::BFloat16: return f(type_tag<BFloat16>{});
    case DType::UInt16: return f(type_tag<uint16_t>{});
    case DType::UInt32: return f(type_tag<uint32_t>{});
    case DType::UInt64: return f(type_tag<uint64_t>{});
    default: return dispatch(t, std::forward<F>(f));
  }
}

template <class F>
decltype(auto) dispatch_floating(DType t, const char* op, F&& f) {
  switch (t) {
    case DType::Float32: return f(type_tag<float>{});
    case DType::Float64: return f(type_tag<double>{});
    default: EMBER_FAIL(NotImplemented, "\"", op, "\" not implemented for '", dtype_names(t).scalar, "'");
  }
}

template <class T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<bool>() {
  return DType::Bool;
}
template <>
constexpr DType dtype_of<int32_t>() {
  return DType::Int32;
}
template <>
constexpr DType dtype_of<int64_t>() {
  return DType::Int64;
}
template <>
constexpr DType dtype_of<float>() {
  return DType::Float32;
}
template <>
constexpr DType dtype_of<double>() {
  return DType::Float64;
}

template <>
constexpr DType dtype_of<uint8_t>() {
  return DType::UInt8;
}
template <>
constexpr DType dtype_of<int8_t>() {
  return DType::Int8;
}
template <>
constexpr DType dtype_of<int16_t>() {
  return DType::Int16;
}
template <>
constexpr DType dtype_of<Half>() {
  return DType::Float16;
}
template <>
constexpr DType dtype_of<BFloat16>() {
  return DType::BFloat16;
}
template <>
constexpr DType dtype_of<uint16_t>() {
  return DType::UInt16;
}
template <>
constexpr DType dtype_of<uint32_t>() {
  return DType::UInt32;
}
template <>
constexpr DType dtype_of<uint64_t>() {
  return DType::UInt64;
}

// One value converted as PyTorch's casts do: nonzero is true; a float into a
// narrower or unsigned integer goes through int64 and wraps (-1.0 into uint8
// is 255, into uint32 4294967295); into uint64, values from 2**63 up convert
// directly, as int64 cannot hold them.
template <class O, class I>
O convert(I x) {
  if constexpr (std::is_same_v<O, I>) {
    return x;
  } else if constexpr (std::is_same_v<O, bool>) {
    if constexpr (std::is_class_v<I>)
      return static_cast<float>(x) != 0.0f;
    else
      return x != I(0);
  } else if constexpr (std::is_same_v<O, uint64_t> && !std::is_integral_v<I>) {
    const double d = static_cast<double>(x);
    return d >= 9223372036854775808.0 ? static_cast<uint64_t>(d) : static_cast<uint64_t>(static_cast<int64_t>(d));
  } else if constexpr (std::is_integral_v<O> && (sizeof(O) < 4 || std::is_unsigned_v<O>) && !std::is_integral_v<I>) {
    return static_cast<O>(static_cast<int64_t>(static_cast<double>(x)));
  } else if constexpr (std::is_class_v<I>) {
    return static_cast<O>(static_cast<float>(x));
  } else {
    return static_cast<O>(x);
  }
}

}  // namespace ember
