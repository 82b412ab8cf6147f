#pragma once
// What the CUDA kernels compute, element by element, written once for the GPU
// and the host (Note [CUDA host emulation]): dtype loads and stores, the index
// arithmetic of strided and broadcast operands, the elementwise ops, the
// reductions' combine step and the Philox generator. nvcc compiles it into the
// kernels of kernels/cuda/*.cu; g++ into emulated.cpp.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "kernels/cpu/bessel_math.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/reduce.h"
#include "kernels/cpu/scan.h"
#include "kernels/cpu/special_math.h"
#include "kernels/cuda/backend.h"

#ifdef __CUDACC__
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#endif
#include "kernels/cpu/optim_step.h"  // EMBER_HD, and the fused optimizer steps' elements

namespace ember {
namespace cuda {

#ifndef __CUDACC__
// On the host, the overloads of <cmath> (float stays float, as in CUDA's device library).
using std::abs, std::acos, std::acosh, std::asin, std::asinh, std::atan, std::atan2, std::atanh, std::ceil, std::cos,
    std::cosh, std::erf, std::erfc, std::exp, std::exp2, std::expm1, std::fabs, std::floor, std::fmod, std::hypot,
    std::isfinite, std::isinf, std::isnan, std::lgamma, std::log, std::log10, std::log1p, std::log2, std::pow,
    std::rint, std::signbit, std::sin, std::sinh, std::sqrt, std::tan, std::tanh, std::trunc;
#endif

// The functions CUDA's device library has and the host's libm lacks (or names otherwise).
namespace math {
#ifdef __CUDACC__
template <class T>
__device__ inline T rsqrt(T x) {
  return ::rsqrt(x);
}
template <class T>
__device__ inline T erfcx(T x) {
  return ::erfcx(x);
}
template <class T>
__device__ inline T i0(T x) {
  return ::cyl_bessel_i0(x);
}
template <class T>
__device__ inline T i1(T x) {
  return ::cyl_bessel_i1(x);
}
template <class T>
__device__ inline T j0(T x) {
  return ::j0(x);
}
template <class T>
__device__ inline T j1(T x) {
  return ::j1(x);
}
template <class T>
__device__ inline T y0(T x) {
  return ::y0(x);
}
template <class T>
__device__ inline T y1(T x) {
  return ::y1(x);
}
#else
// On the host (the emulation), the CPU kernels' functions (kernels/cpu/bessel_math.h).
template <class T>
inline T rsqrt(T x) {
  return T(1) / std::sqrt(x);
}
template <class T>
inline T erfcx(T x) {
  return T(kernels::erfcx((double)x));
}
template <class T>
inline T i0(T x) {
  return T(kernels::bessel_i(0, (double)x, false));
}
template <class T>
inline T i1(T x) {
  return T(kernels::bessel_i(1, (double)x, false));
}
template <class T>
inline T j0(T x) {
  return T(kernels::bessel_j(0, (double)x));
}
template <class T>
inline T j1(T x) {
  return T(kernels::bessel_j(1, (double)x));
}
template <class T>
inline T y0(T x) {
  return T(kernels::bessel_y(0, (double)x));
}
template <class T>
inline T y1(T x) {
  return T(kernels::bessel_y(1, (double)x));
}
#endif
EMBER_HD inline uint32_t umulhi(uint32_t a, uint32_t b) {
#ifdef __CUDA_ARCH__
  return __umulhi(a, b);
#else
  return (uint32_t)(((uint64_t)a * b) >> 32);
#endif
}
}  // namespace math

// Half floats as their bits: IEEE binary16 and bfloat16, rounded to nearest even.
EMBER_HD inline float half_to_float(uint16_t h) {
#ifdef __CUDA_ARCH__
  return __half2float(__ushort_as_half(h));
#else
  uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000 | (mant << 13);
  } else if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      int e = -1;
      do {
        mant <<= 1;
        ++e;
      } while (!(mant & 0x400));
      bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((mant & 0x3ff) << 13);
    }
  } else {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  }
  float f;
  memcpy(&f, &bits, 4);
  return f;
#endif
}
EMBER_HD inline uint16_t float_to_half(float f) {
#ifdef __CUDA_ARCH__
  return __half_as_ushort(__float2half_rn(f));
#else
  uint32_t x;
  memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000, absx = x & 0x7fffffff;
  if (absx >= 0x7f800000) return (uint16_t)(sign | 0x7c00 | (absx > 0x7f800000 ? 0x200 : 0));
  if (absx >= 0x477ff000) return (uint16_t)(sign | 0x7c00);  // rounds past 65504: inf
  if (absx < 0x38800000) {                                   // subnormal or zero in half
    float a;
    memcpy(&a, &absx, 4);
    return (uint16_t)(sign | (uint32_t)std::nearbyint(a * 16777216.0f));  // units of 2^-24, ties to even
  }
  uint32_t rounded = absx + 0xfff + ((absx >> 13) & 1);
  return (uint16_t)(sign | ((rounded - 0x38000000) >> 13));
#endif
}
EMBER_HD inline float bfloat16_to_float(uint16_t h) {
  uint32_t bits = (uint32_t)h << 16;
  float f;
  memcpy(&f, &bits, 4);
  return f;
}
EMBER_HD inline uint16_t float_to_bfloat16(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  if ((x & 0x7fffffff) > 0x7f800000) return (uint16_t)((x >> 16) | 0x40);  // NaN stays NaN
  return (uint16_t)((x + 0x7fff + ((x >> 16) & 1)) >> 16);
}

// No kernel for this op or dtype (NotImplementedError on the Python side).
// core/cuda.cpp turns it into NotImplementedError, the op's name before the words.
[[noreturn]] inline void unsupported(const std::string& what) {
  throw std::invalid_argument("ember has no CUDA kernel for " + what + " yet");
}
inline std::string dtype_label(int dtype) { return scalar_type_name((DType)dtype); }

// ember::DType numbers (core/dtype.h)
enum Dt : int {
  kBool = 0,
  kInt32 = 1,
  kInt64 = 2,
  kFloat32 = 3,
  kFloat64 = 4,
  kUInt8 = 5,
  kInt8 = 6,
  kInt16 = 7,
  kFloat16 = 8,
  kBFloat16 = 9,
  kUInt16 = 10,
  kUInt32 = 11,
  kUInt64 = 12
};
inline bool is_float_dtype(int d) { return d == kFloat32 || d == kFloat64 || d == kFloat16 || d == kBFloat16; }
EMBER_HD inline int itemsize_of(int d) {
  switch (d) {
    case kBool:
    case kUInt8:
    case kInt8: return 1;
    case kInt16:
    case kUInt16:
    case kFloat16:
    case kBFloat16: return 2;
    case kInt32:
    case kUInt32:
    case kFloat32: return 4;
    default: return 8;
  }
}

// The element at p, of dtype d, as T (a uniform branch: every thread of a launch takes the same case).
template <class T>
EMBER_HD inline T load_as(const char* p, int d) {
  switch (d) {
    case kBool: return T(*reinterpret_cast<const bool*>(p));
    case kInt32: return T(*reinterpret_cast<const int32_t*>(p));
    case kInt64: return T(*reinterpret_cast<const int64_t*>(p));
    case kFloat32: return T(*reinterpret_cast<const float*>(p));
    case kFloat64: return T(*reinterpret_cast<const double*>(p));
    case kUInt8: return T(*reinterpret_cast<const uint8_t*>(p));
    case kInt8: return T(*reinterpret_cast<const int8_t*>(p));
    case kInt16: return T(*reinterpret_cast<const int16_t*>(p));
    case kFloat16: return T(half_to_float(*reinterpret_cast<const uint16_t*>(p)));
    case kBFloat16: return T(bfloat16_to_float(*reinterpret_cast<const uint16_t*>(p)));
    case kUInt16: return T(*reinterpret_cast<const uint16_t*>(p));
    case kUInt32: return T(*reinterpret_cast<const uint32_t*>(p));
    default: return T(*reinterpret_cast<const uint64_t*>(p));
  }
}

// Float to integer conversions of out-of-range values are undefined in C++; as
// PyTorch's kernels, go through int64 (wrapping as the narrow type does).
template <class I, class T>
EMBER_HD inline I to_int(T v) {
  if constexpr (std::is_floating_point<T>::value)
    return (I)(int64_t)v;
  else
    return (I)v;
}

// uint64 from 2^63 up is out of int64's range: a float that large converts directly (as the CPU's).
template <class T>
EMBER_HD inline uint64_t to_uint64(T v) {
  if constexpr (std::is_floating_point<T>::value)
    if (v >= T(9223372036854775808.0)) return (uint64_t)v;
  return (uint64_t)to_int<int64_t>(v);
}

template <class T>
EMBER_HD inline void store_as(char* p, int d, T v) {
  switch (d) {
    case kBool: *reinterpret_cast<bool*>(p) = v != T(0); break;
    case kInt32: *reinterpret_cast<int32_t*>(p) = to_int<int32_t>(v); break;
    case kInt64: *reinterpret_cast<int64_t*>(p) = to_int<int64_t>(v); break;
    case kFloat32: *reinterpret_cast<float*>(p) = (float)v; break;
    case kFloat64: *reinterpret_cast<double*>(p) = (double)v; break;
    case kUInt8: *reinterpret_cast<uint8_t*>(p) = to_int<uint8_t>(v); break;
    case kInt8: *reinterpret_cast<int8_t*>(p) = to_int<int8_t>(v); break;
    case kInt16: *reinterpret_cast<int16_t*>(p) = to_int<int16_t>(v); break;
    case kFloat16: *reinterpret_cast<uint16_t*>(p) = float_to_half((float)v); break;
    case kBFloat16: *reinterpret_cast<uint16_t*>(p) = float_to_bfloat16((float)v); break;
    case kUInt16: *reinterpret_cast<uint16_t*>(p) = to_int<uint16_t>(v); break;
    case kUInt32: *reinterpret_cast<uint32_t*>(p) = to_int<uint32_t>(v); break;
    default: *reinterpret_cast<uint64_t*>(p) = to_uint64(v); break;
  }
}

// Up to three operands seen through the output's shape: operand k's element of
// flat output index i sits at data[k] + offset(k, i) * itemsize[k]. A host
// scalar has no data and every offset 0.
template <int N>
struct Indexer {
  int ndim = 0;
  bool contiguous = true;  // every operand dense in the output's order: offset(k, i) = i
  int64_t numel = 1;
  int64_t sizes[kMaxDims];
  int64_t strides[N][kMaxDims];
  char* data[N];
  int dtype[N];
  int itemsize[N];
  bool scalar[N];
  double scalar_value[N];
  int64_t scalar_int[N];  // the host scalar for integer types: exact past 2^53

  EMBER_HD inline int64_t offset(int k, int64_t i) const {
    if (contiguous) return i;
    int64_t off = 0;
    for (int d = ndim - 1; d >= 0; --d) {
      int64_t c = i % sizes[d];
      i /= sizes[d];
      off += c * strides[k][d];
    }
    return off;
  }
  template <class T>
  EMBER_HD inline T load(int k, int64_t i) const {
    if (scalar[k]) {
      if constexpr (std::is_integral<T>::value)
        return T(scalar_int[k]);
      else
        return T(scalar_value[k]);
    }
    return load_as<T>(data[k] + offset(k, i) * itemsize[k], dtype[k]);
  }
  template <class T>
  EMBER_HD inline void store(int k, int64_t i, T v) const {
    store_as<T>(data[k] + offset(k, i) * itemsize[k], dtype[k], v);
  }
};

// Operand 0 is the output; the others broadcast to its shape.
template <int N>
Indexer<N> make_indexer(const TensorArg* args[N]) {
  Indexer<N> ix;
  const TensorArg& out = *args[0];
  ix.ndim = out.ndim;
  for (int d = 0; d < out.ndim; ++d) {
    ix.sizes[d] = out.sizes[d];
    ix.numel *= out.sizes[d];
  }
  for (int k = 0; k < N; ++k) {
    const TensorArg& a = *args[k];
    ix.data[k] = a.data;
    ix.dtype[k] = a.dtype;
    ix.itemsize[k] = itemsize_of(a.dtype);
    ix.scalar[k] = a.host_scalar;
    ix.scalar_value[k] = a.scalar;
    ix.scalar_int[k] = a.int_scalar;
    int64_t expected = 1;
    for (int d = out.ndim - 1; d >= 0; --d) {
      int ad = d - (out.ndim - a.ndim);  // the operand's dims align to the right
      int64_t stride = 0;
      if (!a.host_scalar && ad >= 0 && a.sizes[ad] != 1) stride = a.strides[ad];
      ix.strides[k][d] = stride;
      if (!a.host_scalar && out.sizes[d] != 1 && stride != expected) ix.contiguous = false;
      expected *= out.sizes[d];
    }
    if (!a.host_scalar && a.ndim != out.ndim) {
      int64_t n = 1;
      for (int d = 0; d < a.ndim; ++d) n *= a.sizes[d];
      if (n != ix.numel) ix.contiguous = false;
    }
  }
  return ix;
}

inline int64_t numel(const TensorArg& t) {
  int64_t n = 1;
  for (int d = 0; d < t.ndim; ++d) n *= t.sizes[d];
  return n;
}

// A kernel for the float dtypes: double for float64, float for float32 and the half floats.
template <class F>
void floating(int dtype, const char* op, F&& f) {
  if (dtype == kFloat64)
    f(double());
  else if (is_float_dtype(dtype))
    f(float());
  else
    unsupported(op);
}

// Kernels over float32 or float64 data as plain arrays (callers widen half floats first).
template <class F>
void float32_or_64(int dtype, const char* op, F&& launch) {
  if (dtype == kFloat64)
    launch(double());
  else if (dtype == kFloat32)
    launch(float());
  else
    unsupported(std::string(op) + " of " + dtype_label(dtype) + " tensors");
}

// The compute type of a dtype (Note [Storage dtypes]): half floats compute in float,
// small integers in int64 on the GPU (exact, and one instantiation fewer).
template <class F>
void dispatch_compute(int dtype, F&& f) {
  switch (dtype) {
    case kBool: f(bool()); break;
    case kFloat32:
    case kFloat16:
    case kBFloat16: f(float()); break;
    case kFloat64: f(double()); break;
    default: f(int64_t()); break;
  }
}

using kernels::BinaryOp;
using kernels::ReduceOp;
using kernels::UnaryOp;

template <class T>
EMBER_HD inline bool is_nan(T v) {
  if constexpr (std::is_floating_point<T>::value)
    return isnan(v);
  else
    return false;
}

template <class T>
EMBER_HD T unary_op(int op, T x) {
  if constexpr (std::is_floating_point<T>::value) {
    switch ((UnaryOp)op) {
      case UnaryOp::Neg: return -x;
      case UnaryOp::Abs: return fabs(x);
      case UnaryOp::Sqrt: return sqrt(x);
      case UnaryOp::Rsqrt: return math::rsqrt(x);
      case UnaryOp::Exp: return exp(x);
      case UnaryOp::Log: return log(x);
      case UnaryOp::Log1p: return log1p(x);
      case UnaryOp::Expm1: return expm1(x);
      case UnaryOp::Sin: return sin(x);
      case UnaryOp::Cos: return cos(x);
      case UnaryOp::Tan: return tan(x);
      case UnaryOp::Tanh: return tanh(x);
      case UnaryOp::Sigmoid: return T(1) / (T(1) + exp(-x));
      case UnaryOp::Relu: return x > T(0) ? x : (isnan(x) ? x : T(0));
      case UnaryOp::Sign: return T((x > T(0)) - (x < T(0)));  // NaN gives 0, as PyTorch on both devices
      case UnaryOp::Reciprocal: return T(1) / x;
      case UnaryOp::Erf: return erf(x);
      case UnaryOp::Lgamma: return lgamma(x);
      case UnaryOp::Floor: return floor(x);
      case UnaryOp::Ceil: return ceil(x);
      case UnaryOp::Trunc: return trunc(x);
      case UnaryOp::Round: return rint(x);
      case UnaryOp::Frac: return x - trunc(x);
      case UnaryOp::Asin: return asin(x);
      case UnaryOp::Acos: return acos(x);
      case UnaryOp::Atan: return atan(x);
      case UnaryOp::Sinh: return sinh(x);
      case UnaryOp::Cosh: return cosh(x);
      case UnaryOp::Asinh: return asinh(x);
      case UnaryOp::Acosh: return acosh(x);
      case UnaryOp::Atanh: return atanh(x);
      case UnaryOp::Log2: return log2(x);
      case UnaryOp::Log10: return log10(x);
      case UnaryOp::Exp2: return exp2(x);
      case UnaryOp::Erfc: return erfc(x);
      case UnaryOp::Erfinv: return T(kernels::erfinv((double)x));  // kernels/cpu/special_math.h
      case UnaryOp::Digamma: return T(kernels::digamma((double)x));
      case UnaryOp::I0: return math::i0(x);
      case UnaryOp::I1: return math::i1(x);
      case UnaryOp::Erfcx: return math::erfcx(x);
      case UnaryOp::BesselJ0: return math::j0(x);
      case UnaryOp::BesselJ1: return math::j1(x);
      case UnaryOp::BesselY0: return math::y0(x);
      case UnaryOp::BesselY1: return math::y1(x);
      // the ones CUDA's library lacks: the CPU's double-precision functions (kernels/cpu/bessel_math.h)
      case UnaryOp::I0e: return T(kernels::bessel_i(0, (double)x, true));
      case UnaryOp::I1e: return T(kernels::bessel_i(1, (double)x, true));
      case UnaryOp::ModifiedBesselK0: return T(kernels::bessel_k(0, (double)x, false));
      case UnaryOp::ModifiedBesselK1: return T(kernels::bessel_k(1, (double)x, false));
      case UnaryOp::ScaledModifiedBesselK0: return T(kernels::bessel_k(0, (double)x, true));
      case UnaryOp::ScaledModifiedBesselK1: return T(kernels::bessel_k(1, (double)x, true));
      case UnaryOp::AiryAi: return T(kernels::airy_ai((double)x));
      case UnaryOp::SphericalBesselJ0: return T(kernels::spherical_bessel_j0((double)x));
      case UnaryOp::LogicalNot: return T(x == T(0));
      case UnaryOp::IsNan: return T(isnan(x));
      case UnaryOp::IsInf: return T(isinf(x));
      case UnaryOp::IsFinite: return T(isfinite(x));
      case UnaryOp::Signbit: return T(signbit(x));
      default: return x;  // refused on the host (unary_supported)
    }
  } else {
    switch ((UnaryOp)op) {
      case UnaryOp::Neg: return T(-x);
      case UnaryOp::Abs: return x < T(0) ? T(-x) : x;
      case UnaryOp::Sign: return T((x > T(0)) - (x < T(0)));
      case UnaryOp::Relu: return x > T(0) ? x : T(0);
      case UnaryOp::BitNot:
        if constexpr (std::is_same<T, bool>::value)
          return !x;
        else
          return ~x;
      case UnaryOp::LogicalNot: return T(x == T(0));
      case UnaryOp::IsNan:
      case UnaryOp::IsInf: return T(0);
      case UnaryOp::IsFinite: return T(1);
      case UnaryOp::Signbit: return T(x < T(0));
      default: return x;  // rounding: integers pass through
    }
  }
}

inline bool unary_supported(int op, bool floating) {
  switch ((UnaryOp)op) {
    case UnaryOp::Neg:
    case UnaryOp::Abs:
    case UnaryOp::Sign:
    case UnaryOp::Relu:
    case UnaryOp::LogicalNot:
    case UnaryOp::IsNan:
    case UnaryOp::IsInf:
    case UnaryOp::IsFinite:
    case UnaryOp::Signbit:
    case UnaryOp::Floor:
    case UnaryOp::Ceil:
    case UnaryOp::Trunc:
    case UnaryOp::Round: return true;
    case UnaryOp::BitNot: return !floating;
    default: return floating;
  }
}

template <class T>
EMBER_HD T floor_div(T a, T b) {
  if constexpr (std::is_floating_point<T>::value) {
    return floor(a / b);
  } else {
    T q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? T(q - 1) : q;
  }
}

template <class T>
EMBER_HD T binary_op(int op, T a, T b) {
  constexpr bool fl = std::is_floating_point<T>::value;
  switch ((BinaryOp)op) {
    case BinaryOp::Add:
      if constexpr (std::is_same<T, bool>::value)
        return a || b;
      else
        return a + b;
    case BinaryOp::Sub: return T(a - b);
    case BinaryOp::Mul:
      if constexpr (std::is_same<T, bool>::value)
        return a && b;
      else
        return a * b;
    case BinaryOp::Div: return b == T(0) && !fl ? T(0) : T(a / b);
    case BinaryOp::Pow:
      if constexpr (fl) {
        return pow(a, b);
      } else {
        if (b < T(0)) return T(a == T(1) ? 1 : (a == T(-1) ? ((b % 2) ? -1 : 1) : 0));
        T r = 1, base = a;
        for (T e = b; e > T(0); e = T(e / 2)) {
          if (e % 2) r = T(r * base);
          base = T(base * base);
        }
        return r;
      }
    case BinaryOp::Maximum: return is_nan(a) || is_nan(b) ? (is_nan(a) ? a : b) : (a > b ? a : b);
    case BinaryOp::Minimum: return is_nan(a) || is_nan(b) ? (is_nan(a) ? a : b) : (a < b ? a : b);
    case BinaryOp::ThresholdBackward: return b > T(0) ? a : T(0);
    case BinaryOp::TanhBackward: return T(a * (T(1) - b * b));
    case BinaryOp::SigmoidBackward: return T(a * b * (T(1) - b));
    case BinaryOp::Eq: return T(a == b);
    case BinaryOp::Ne: return T(a != b);
    case BinaryOp::Lt: return T(a < b);
    case BinaryOp::Le: return T(a <= b);
    case BinaryOp::Gt: return T(a > b);
    case BinaryOp::Ge: return T(a >= b);
    case BinaryOp::LogicalAnd: return T(a != T(0) && b != T(0));
    case BinaryOp::LogicalOr: return T(a != T(0) || b != T(0));
    case BinaryOp::LogicalXor: return T((a != T(0)) != (b != T(0)));
    default: break;
  }
  if constexpr (fl) {
    switch ((BinaryOp)op) {
      case BinaryOp::Atan2: return atan2(a, b);
      case BinaryOp::Igamma: return T(kernels::igamma((double)a, (double)b));
      case BinaryOp::Igammac: return T(kernels::igammac((double)a, (double)b));
      case BinaryOp::Zeta: return T(kernels::hurwitz_zeta((double)a, (double)b));
      case BinaryOp::Hypot: return hypot(a, b);
      case BinaryOp::LogAddExp: {
        T m = a > b ? a : b;
        return isinf(m) && a == b ? m : m + log1p(exp(-fabs(a - b)));
      }
      case BinaryOp::LogAddExp2: {
        T m = a > b ? a : b;
        return isinf(m) && a == b ? m : m + log1p(exp2(-fabs(a - b))) / log(T(2));
      }
      case BinaryOp::Xlogy: return isnan(b) ? b : (a == T(0) ? T(0) : a * log(b));
      case BinaryOp::Xlog1py: return isnan(b) ? b : (a == T(0) ? T(0) : a * log1p(b));
      case BinaryOp::FloorDivide: return floor_div(a, b);
      case BinaryOp::TruncDivide: return trunc(a / b);
      case BinaryOp::Remainder: {
        T r = fmod(a, b);
        return (r != T(0) && ((r < T(0)) != (b < T(0)))) ? r + b : r;
      }
      case BinaryOp::Fmod: return fmod(a, b);
      default: return a;
    }
  } else if constexpr (!std::is_same<T, bool>::value) {
    switch ((BinaryOp)op) {
      case BinaryOp::FloorDivide: return floor_div(a, b);
      case BinaryOp::TruncDivide: return T(a / b);
      case BinaryOp::Remainder: {
        T r = T(a % b);
        return (r != 0 && ((r < 0) != (b < 0))) ? T(r + b) : r;
      }
      case BinaryOp::Fmod: return T(a % b);
      case BinaryOp::BitAnd: return T(a & b);
      case BinaryOp::BitOr: return T(a | b);
      case BinaryOp::BitXor: return T(a ^ b);
      case BinaryOp::ShiftLeft: return b < 0 || b >= 64 ? T(0) : T((uint64_t)a << b);
      case BinaryOp::ShiftRight: return b < 0 || b >= 64 ? T(a < 0 ? -1 : 0) : T(a >> b);
      default: return a;
    }
  } else {
    switch ((BinaryOp)op) {
      case BinaryOp::BitAnd: return a && b;
      case BinaryOp::BitOr: return a || b;
      case BinaryOp::BitXor: return a != b;
      default: return a;
    }
  }
}

template <class A>
EMBER_HD inline A identity(int op) {
  switch ((ReduceOp)op) {
    case ReduceOp::Prod:
    case ReduceOp::All: return A(1);
    case ReduceOp::Max:
      if constexpr (std::is_floating_point<A>::value)
        return -INFINITY;
      else
        return A(INT64_MIN);
    case ReduceOp::Min:
      if constexpr (std::is_floating_point<A>::value)
        return INFINITY;
      else
        return A(INT64_MAX);
    default: return A(0);
  }
}

template <class A>
EMBER_HD inline A combine(int op, A x, A y) {
  switch ((ReduceOp)op) {
    case ReduceOp::Sum: return A(x + y);
    case ReduceOp::Prod:
      if constexpr (std::is_same<A, bool>::value)
        return x && y;
      else
        return x * y;
    case ReduceOp::Max:
      if constexpr (std::is_floating_point<A>::value)
        if (isnan(x) || isnan(y)) return isnan(x) ? x : y;
      return x > y ? x : y;
    case ReduceOp::Min:
      if constexpr (std::is_floating_point<A>::value)
        if (isnan(x) || isnan(y)) return isnan(x) ? x : y;
      return x < y ? x : y;
    case ReduceOp::Any: return A(x != A(0) || y != A(0));
    default: return A(x != A(0) && y != A(0));  // All
  }
}

inline bool binary_supported(int op, int compute) {
  switch ((BinaryOp)op) {
    case BinaryOp::Zeta:
    case BinaryOp::Igamma:
    case BinaryOp::Igammac:
    case BinaryOp::Atan2:
    case BinaryOp::Hypot:
    case BinaryOp::LogAddExp:
    case BinaryOp::LogAddExp2:
    case BinaryOp::Xlogy:
    case BinaryOp::Xlog1py: return is_float_dtype(compute);  // half floats compute in float32
    case BinaryOp::BitAnd:
    case BinaryOp::BitOr:
    case BinaryOp::BitXor: return !is_float_dtype(compute);
    case BinaryOp::ShiftLeft:
    case BinaryOp::ShiftRight:
    case BinaryOp::FloorDivide:
    case BinaryOp::TruncDivide:
    case BinaryOp::Remainder:
    case BinaryOp::Fmod: return compute != kBool;
    default: return true;
  }
}

// The compute type of a copy: the wider side's, so int64 <-> int64 stays exact and floats keep
// theirs; into bool, a value is true when nonzero in its own type.
inline int copy_compute(int dst, int src) {
  if (dst == kBool) return is_float_dtype(src) ? kFloat64 : kInt64;
  if (dst == kFloat64 || src == kFloat64) return kFloat64;
  if (is_float_dtype(dst) || is_float_dtype(src)) return kFloat32;
  return kInt64;
}

// Output index -> input offset of its first element, and reduced index -> offset from there.
struct ReduceGeometry {
  int kept_ndim = 0, red_ndim = 0;
  int64_t kept_sizes[kMaxDims], kept_strides[kMaxDims];  // input strides of the kept dims
  int64_t red_sizes[kMaxDims], red_strides[kMaxDims];
  int64_t outputs = 1, reduced = 1;
  EMBER_HD inline int64_t base(int64_t o) const {
    int64_t off = 0;
    for (int d = kept_ndim - 1; d >= 0; --d) {
      off += (o % kept_sizes[d]) * kept_strides[d];
      o /= kept_sizes[d];
    }
    return off;
  }
  EMBER_HD inline int64_t inner(int64_t r) const {
    int64_t off = 0;
    for (int d = red_ndim - 1; d >= 0; --d) {
      off += (r % red_sizes[d]) * red_strides[d];
      r /= red_sizes[d];
    }
    return off;
  }
};

inline ReduceGeometry reduce_geometry(const TensorArg& in, uint64_t mask) {
  ReduceGeometry g;
  for (int d = 0; d < in.ndim; ++d) {
    if (mask >> d & 1) {
      g.red_sizes[g.red_ndim] = in.sizes[d];
      g.red_strides[g.red_ndim++] = in.strides[d];
      g.reduced *= in.sizes[d];
    } else {
      g.kept_sizes[g.kept_ndim] = in.sizes[d];
      g.kept_strides[g.kept_ndim++] = in.strides[d];
      g.outputs *= in.sizes[d];
    }
  }
  return g;
}

// A reduction's accumulator: the input's compute type; any/all and bool sums in int64.
inline int reduce_accumulator(int op, int in_dtype) {
  if (op == (int)ReduceOp::Any || op == (int)ReduceOp::All || in_dtype == kBool) return kInt64;
  return in_dtype;
}

// Philox 4x32-10 (Salmon et al., 2011), as cuRAND and PyTorch use it.
struct Words {
  uint32_t w[4];
};
struct Philox {
  uint32_t key[2];
  EMBER_HD Words operator()(uint64_t counter) const {
    uint32_t c[4] = {(uint32_t)counter, (uint32_t)(counter >> 32), 0, 0};
    uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; ++round) {
      uint32_t hi0 = math::umulhi(0xD2511F53u, c[0]), lo0 = 0xD2511F53u * c[0];
      uint32_t hi1 = math::umulhi(0xCD9E8D57u, c[2]), lo1 = 0xCD9E8D57u * c[2];
      uint32_t n0 = hi1 ^ c[1] ^ k0, n2 = hi0 ^ c[3] ^ k1;
      c[0] = n0, c[1] = lo1, c[2] = n2, c[3] = lo0;
      k0 += 0x9E3779B9u, k1 += 0xBB67AE85u;
    }
    return Words{{c[0], c[1], c[2], c[3]}};
  }
};

EMBER_HD inline Philox philox(uint64_t seed) { return Philox{{(uint32_t)seed, (uint32_t)(seed >> 32)}}; }

// Note [CUDA graph random numbers]: a device's generator state for the draws of captured graphs, written
// before each replay (the seed, and the offset the replay's draws start at), read by the kernels then.
struct GraphRng {
  uint64_t seed, base;
};

// A uniform double in [0, 1) from 53 random bits, or a float from 24.
EMBER_HD inline double unit(const Philox& p, uint64_t index, bool wide) {
  Words r = p(index / 2);  // two elements per counter when wide (64 bits each), four otherwise
  if (wide) {
    int pair = (int)(index % 2) * 2;
    uint64_t bits = ((uint64_t)r.w[pair] << 32 | r.w[pair + 1]) >> 11;
    return bits * (1.0 / 9007199254740992.0);
  }
  return (r.w[index % 2] >> 8) * (1.0 / 16777216.0);
}

// Output o of an argmax/argmin along the one reduced dim of g: (index, value).
template <class A>
EMBER_HD inline int64_t arg_extreme(const ReduceGeometry& g, const char* in, int dtype, int size, int64_t o,
                                    bool is_max, A& best) {
  const int64_t base = g.base(o);
  int64_t at = 0;
  best = load_as<A>(in + base * size, dtype);
  for (int64_t r = 1; r < g.reduced && !is_nan(best); ++r) {
    A v = load_as<A>(in + (base + g.inner(r)) * size, dtype);
    if (is_nan(v) || (is_max ? v > best : v < best)) best = v, at = r;
  }
  return at;
}

// Sample i of nll_loss: returns false for a target outside [0, C) other than ignore_index.
template <class T>
EMBER_HD inline bool nll_element(T* loss, T* wt, const T* x, const int64_t* target, const T* weight, int64_t C,
                                 int64_t ignore_index, int64_t i) {
  const int64_t t = target[i];
  if (t == ignore_index) {
    loss[i] = wt[i] = T(0);
    return true;
  }
  if (t < 0 || t >= C) return false;
  const T w = weight ? weight[t] : T(1);
  loss[i] = -w * x[i * C + t];
  wt[i] = w;
  return true;
}

// Element e of im2col's cols, in (n, k, l) order; cs: cols' strides. Padding reads zero.
template <class A>
EMBER_HD inline void im2col_element(int64_t e, const ConvArgs& g, const char* x, char* cols, int dtype,
                                    const int64_t* cs) {
  const int64_t K = g.channels * g.kh * g.kw, L = g.out_h * g.out_w, size = itemsize_of(dtype);
  const int64_t n = e / (K * L), k = e / L % K, l = e % L;
  const int64_t c = k / (g.kh * g.kw), i = k / g.kw % g.kh, j = k % g.kw;
  const int64_t ih = l / g.out_w * g.sh - g.ph + i * g.dh, iw = l % g.out_w * g.sw - g.pw + j * g.dw;
  A v = 0;
  if (ih >= 0 && ih < g.height && iw >= 0 && iw < g.width)
    v = load_as<A>(x + (((n * g.channels + c) * g.height + ih) * g.width + iw) * size, dtype);
  store_as<A>(cols + (n * cs[0] + k * cs[1] + l * cs[2]) * size, dtype, v);
}

// Element e of col2im's x (n, c, h, w): the sum of the patch entries that read it (no atomics).
template <class A>
EMBER_HD inline void col2im_element(int64_t e, const ConvArgs& g, char* x, const char* cols, int dtype,
                                    const int64_t* cs) {
  const int64_t size = itemsize_of(dtype), w = e % g.width, h = e / g.width % g.height;
  const int64_t c = e / (g.width * g.height) % g.channels, n = e / (g.width * g.height * g.channels);
  A acc = 0;
  for (int64_t i = 0; i < g.kh; ++i) {
    const int64_t oh_scaled = h + g.ph - i * g.dh;
    if (oh_scaled < 0 || oh_scaled % g.sh || oh_scaled / g.sh >= g.out_h) continue;
    for (int64_t j = 0; j < g.kw; ++j) {
      const int64_t ow_scaled = w + g.pw - j * g.dw;
      if (ow_scaled < 0 || ow_scaled % g.sw || ow_scaled / g.sw >= g.out_w) continue;
      const int64_t k = (c * g.kh + i) * g.kw + j, l = oh_scaled / g.sh * g.out_w + ow_scaled / g.sw;
      acc += load_as<A>(cols + (n * cs[0] + k * cs[1] + l * cs[2]) * size, dtype);
    }
  }
  store_as<A>(x + e * size, dtype, acc);
}

// Output o of max_pool2d, (plane, oh, ow) order: the first maximum in scan order, or the last NaN
// (PyTorch's convention); padding never wins. Its index is h * W + w within the plane.
template <class A>
EMBER_HD inline void max_pool_element(int64_t o, const ConvArgs& g, const char* x, char* values, int64_t* indices,
                                      int dtype) {
  const int64_t size = itemsize_of(dtype), ow = o % g.out_w, oh = o / g.out_w % g.out_h, p = o / (g.out_w * g.out_h);
  const char* plane = x + p * g.height * g.width * size;
  A best = 0;
  int64_t at = -1;
  for (int64_t i = 0; i < g.kh; ++i) {
    const int64_t h = oh * g.sh - g.ph + i * g.dh;
    if (h < 0 || h >= g.height) continue;
    for (int64_t j = 0; j < g.kw; ++j) {
      const int64_t w = ow * g.sw - g.pw + j * g.dw;
      if (w < 0 || w >= g.width) continue;
      const A v = load_as<A>(plane + (h * g.width + w) * size, dtype);
      if (at < 0 || v > best || is_nan(v)) best = v, at = h * g.width + w;
    }
  }
  store_as<A>(values + o * size, dtype, best);
  indices[o] = at;
}

// Column c = (o, i) of an inclusive scan over n rows of (outer, n, inner) contiguous x, as
// kernels/cpu/scan.cpp: integers wrap, max/min take the latest of equal values and keep a NaN.
template <class A>
EMBER_HD inline void scan_column(int op, char* out, int64_t* indices, const char* x, int dtype, int64_t n,
                                 int64_t inner, int64_t c) {
  const int64_t size = itemsize_of(dtype), base = c / inner * n * inner + c % inner;
  A acc = load_as<A>(x + base * size, dtype);
  int64_t at = 0;
  store_as<A>(out + base * size, dtype, acc);
  if (indices) indices[base] = 0;
  for (int64_t j = 1; j < n; ++j) {
    const int64_t k = base + j * inner;
    const A v = load_as<A>(x + k * size, dtype);
    switch ((kernels::ScanOp)op) {
      case kernels::ScanOp::Sum:
        if constexpr (std::is_integral<A>::value)
          acc = (A)((uint64_t)acc + (uint64_t)v);  // wraps, as the narrow type would
        else
          acc = acc + v;
        break;
      case kernels::ScanOp::Prod:
        if constexpr (std::is_integral<A>::value)
          acc = (A)((uint64_t)acc * (uint64_t)v);
        else
          acc = acc * v;
        break;
      case kernels::ScanOp::LogSumExp:
        if constexpr (std::is_floating_point<A>::value) {
          const A m = acc > v ? acc : v;
          acc = isinf(m) && acc == v ? m : m + log1p(exp(-fabs(acc - v)));
        }
        break;
      default: {  // Max, Min
        const bool is_max = op == (int)kernels::ScanOp::Max;
        if (is_nan(v) || (!is_nan(acc) && (is_max ? v >= acc : v <= acc))) acc = v, at = j;
      }
    }
    store_as<A>(out + k * size, dtype, acc);
    if (indices) indices[k] = at;
  }
}

// Element i of uniform_/normal_ from the stream (seed, offset) (Note [CUDA random numbers]).
template <class T>
EMBER_HD inline T uniform_value(const Philox& p, uint64_t offset, int64_t i, double lo, double hi) {
  double u = unit(p, 2 * (offset + i), std::is_same<T, double>::value);  // the even units, as normal_'s pairs
  T v = (T)(lo + (hi - lo) * u);
  return v >= (T)hi && hi > lo ? (T)lo : v;  // rounding to the upper bound: stay in [lo, hi)
}

// Element i of randint from the stream (seed, offset): the 64 bits of uniform_'s unit, modulo the range
// (a bias below range / 2^64).
EMBER_HD inline int64_t randint_value(const Philox& p, uint64_t offset, int64_t i, int64_t low, uint64_t range) {
  const uint64_t index = 2 * (offset + i);
  Words r = p(index / 2);
  const int pair = (int)(index % 2) * 2;
  const uint64_t bits = (uint64_t)r.w[pair] << 32 | r.w[pair + 1];
  return (int64_t)((uint64_t)low + bits % range);
}

// Box-Muller on units 2j and 2j+1 (j = element index rounded down to even): a call
// of n elements at `offset` reads units [2 offset, 2 (offset + n)), as uniform_ does.
template <class T>
EMBER_HD inline T normal_value(const Philox& p, uint64_t offset, int64_t i, double mean, double std) {
  const bool wide = std::is_same<T, double>::value;
  uint64_t pair = (offset + i) / 2 * 2;
  double u1 = unit(p, 2 * pair, wide), u2 = unit(p, 2 * pair + 1, wide);
  double radius = sqrt(-2.0 * log(1.0 - u1));  // 1 - u1 in (0, 1]: no log(0)
  double angle = 6.283185307179586 * u2;
  double z = (offset + i) % 2 ? radius * sin(angle) : radius * cos(angle);
  return (T)(mean + std * z);
}

}  // namespace cuda
}  // namespace ember
