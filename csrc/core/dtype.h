#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.h"

namespace ember {

// Ordered by promotion rank: promote(a, b) is the larger of the two.
enum class DType : uint8_t { Bool = 0, Int32 = 1, Int64 = 2, Float32 = 3, Float64 = 4 };
constexpr int kNumDTypes = 5;

inline size_t itemsize(DType t) {
  switch (t) {
    case DType::Bool: return 1;
    case DType::Int32: return 4;
    case DType::Int64: return 8;
    case DType::Float32: return 4;
    case DType::Float64: return 8;
  }
  return 0;
}

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::Bool: return "bool";
    case DType::Int32: return "int32";
    case DType::Int64: return "int64";
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
  }
  return "?";
}

// PyTorch's legacy tensor type names, used in the in-place error message.
inline const char* legacy_type_name(DType t) {
  switch (t) {
    case DType::Bool: return "BoolTensor";
    case DType::Int32: return "IntTensor";
    case DType::Int64: return "LongTensor";
    case DType::Float32: return "FloatTensor";
    case DType::Float64: return "DoubleTensor";
  }
  return "?";
}

// PyTorch's scalar type names ("Float", "Long"), used in its kernel error messages.
inline const char* scalar_type_name(DType t) {
  switch (t) {
    case DType::Bool: return "Bool";
    case DType::Int32: return "Int";
    case DType::Int64: return "Long";
    case DType::Float32: return "Float";
    case DType::Float64: return "Double";
  }
  return "?";
}

inline bool is_floating(DType t) { return t == DType::Float32 || t == DType::Float64; }
inline bool is_integral(DType t, bool include_bool) {
  return t == DType::Int32 || t == DType::Int64 || (include_bool && t == DType::Bool);
}
// 0 bool, 1 integer, 2 floating: the categories PyTorch's promotion compares.
inline int dtype_category(DType t) { return t == DType::Bool ? 0 : is_floating(t) ? 2 : 1; }
inline DType promote(DType a, DType b) { return a > b ? a : b; }
constexpr DType kDefaultFloat = DType::Float32;

template <class T>
struct type_tag {
  using type = T;
};

// Calls f(type_tag<T>{}) with T the C++ type of dtype t.
template <class F>
decltype(auto) dispatch(DType t, F&& f) {
  switch (t) {
    case DType::Bool: return f(type_tag<bool>{});
    case DType::Int32: return f(type_tag<int32_t>{});
    case DType::Int64: return f(type_tag<int64_t>{});
    case DType::Float32: return f(type_tag<float>{});
    case DType::Float64: return f(type_tag<double>{});
  }
  throw std::logic_error("ember: unknown dtype");
}

template <class F>
decltype(auto) dispatch_floating(DType t, const char* op, F&& f) {
  switch (t) {
    case DType::Float32: return f(type_tag<float>{});
    case DType::Float64: return f(type_tag<double>{});
    default: EMBER_FAIL(Runtime, "\"", op, "\" not implemented for '", dtype_name(t), "'");
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

}  // namespace ember
