// Elementwise CUDA kernels: copy (with conversion), fill, unary and binary ops,
// where and clamp, over strided and broadcast operands (common.cuh's Indexer).
// One kernel per compute type; the op is a uniform switch inside it, which
// keeps the build small and costs nothing against the memory traffic.
#include <cmath>

#include "kernels/cpu/elementwise.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace ember {
namespace cuda {
namespace {

using kernels::BinaryOp;
using kernels::UnaryOp;

template <class T>
__device__ __forceinline__ bool is_nan(T v) {
  if constexpr (std::is_floating_point<T>::value)
    return isnan(v);
  else
    return false;
}

template <class T>
__device__ T unary_op(int op, T x) {
  if constexpr (std::is_floating_point<T>::value) {
    switch ((UnaryOp)op) {
      case UnaryOp::Neg: return -x;
      case UnaryOp::Abs: return fabs(x);
      case UnaryOp::Sqrt: return sqrt(x);
      case UnaryOp::Rsqrt: return rsqrt(x);
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
      case UnaryOp::Sign: return isnan(x) ? x : T((x > T(0)) - (x < T(0)));
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
      case UnaryOp::Erfinv: return erfinv(x);
      case UnaryOp::I0: return cyl_bessel_i0(x);
      case UnaryOp::I1: return cyl_bessel_i1(x);
      case UnaryOp::Erfcx: return erfcx(x);
      case UnaryOp::BesselJ0: return j0(x);
      case UnaryOp::BesselJ1: return j1(x);
      case UnaryOp::BesselY0: return y0(x);
      case UnaryOp::BesselY1: return y1(x);
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

bool unary_supported(int op, bool floating) {
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
    case UnaryOp::Digamma:
    case UnaryOp::I0e:
    case UnaryOp::I1e:
    case UnaryOp::ModifiedBesselK0:
    case UnaryOp::ModifiedBesselK1:
    case UnaryOp::ScaledModifiedBesselK0:
    case UnaryOp::ScaledModifiedBesselK1:
    case UnaryOp::AiryAi:
    case UnaryOp::SphericalBesselJ0: return false;
    default: return floating;
  }
}

template <class T>
__device__ T floor_div(T a, T b) {
  if constexpr (std::is_floating_point<T>::value) {
    return floor(a / b);
  } else {
    T q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? T(q - 1) : q;
  }
}

template <class T>
__device__ T binary_op(int op, T a, T b) {
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

bool binary_supported(int op, int compute) {
  switch ((BinaryOp)op) {
    case BinaryOp::Igamma:
    case BinaryOp::Igammac:
    case BinaryOp::Zeta: return false;
    case BinaryOp::Atan2:
    case BinaryOp::Hypot:
    case BinaryOp::LogAddExp:
    case BinaryOp::LogAddExp2:
    case BinaryOp::Xlogy:
    case BinaryOp::Xlog1py: return compute == kFloat64 || compute == kFloat32;
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

template <class T>
__global__ void copy_kernel(Indexer<2> ix) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < ix.numel; i += (int64_t)gridDim.x * blockDim.x)
    ix.store<T>(0, i, ix.load<T>(1, i));
}

template <class T>
__global__ void fill_kernel(Indexer<1> ix, T value) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < ix.numel; i += (int64_t)gridDim.x * blockDim.x)
    ix.store<T>(0, i, value);
}

template <class T>
__global__ void unary_kernel(Indexer<2> ix, int op) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < ix.numel; i += (int64_t)gridDim.x * blockDim.x)
    ix.store<T>(0, i, unary_op<T>(op, ix.load<T>(1, i)));
}

template <class T>
__global__ void binary_kernel(Indexer<3> ix, int op) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < ix.numel; i += (int64_t)gridDim.x * blockDim.x)
    ix.store<T>(0, i, binary_op<T>(op, ix.load<T>(1, i), ix.load<T>(2, i)));
}

template <class T>
__global__ void where_kernel(Indexer<4> ix) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < ix.numel; i += (int64_t)gridDim.x * blockDim.x)
    ix.store<T>(0, i, ix.load<bool>(1, i) ? ix.load<T>(2, i) : ix.load<T>(3, i));
}

template <class T>
__global__ void clamp_kernel(Indexer<2> ix, bool has_lo, T lo, bool has_hi, T hi) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < ix.numel; i += (int64_t)gridDim.x * blockDim.x) {
    T v = ix.load<T>(1, i);
    if (!is_nan(v)) {
      if (has_lo && v < lo) v = lo;
      if (has_hi && v > hi) v = hi;
    }
    ix.store<T>(0, i, v);
  }
}

}  // namespace

// The compute type of a copy: the wider side's, so int64 <-> int64 stays exact and floats keep theirs.
static int copy_compute(int dst, int src) {
  if (dst == kFloat64 || src == kFloat64) return kFloat64;
  if (is_float_dtype(dst) || is_float_dtype(src)) return kFloat32;
  if (dst == kBool) return kBool;
  return kInt64;
}

void copy(const TensorArg& dst, const TensorArg& src) {
  const TensorArg* args[2] = {&dst, &src};
  Indexer<2> ix = make_indexer<2>(args);
  if (ix.numel == 0) return;
  // bool destination: a value is true when nonzero in its own type, whatever it converts through
  int compute =
      dst.dtype == kBool ? (is_float_dtype(src.dtype) ? kFloat64 : kInt64) : copy_compute(dst.dtype, src.dtype);
  cudaStream_t s = stream_for(dst.device);
  dispatch_compute(compute, [&](auto tag) {
    using T = decltype(tag);
    copy_kernel<T><<<blocks_for(ix.numel), kThreads, 0, s>>>(ix);
  });
  check_launch("copy_");
}

void fill(const TensorArg& dst, double value) {
  const TensorArg* args[1] = {&dst};
  Indexer<1> ix = make_indexer<1>(args);
  if (ix.numel == 0) return;
  cudaStream_t s = stream_for(dst.device);
  dispatch_compute(dst.dtype, [&](auto tag) {
    using T = decltype(tag);
    fill_kernel<T><<<blocks_for(ix.numel), kThreads, 0, s>>>(ix, (T)value);
  });
  check_launch("fill_");
}

void unary(int op, const TensorArg& out, const TensorArg& a) {
  if (!unary_supported(op, is_float_dtype(a.dtype))) unsupported("unary op " + std::to_string(op));
  const TensorArg* args[2] = {&out, &a};
  Indexer<2> ix = make_indexer<2>(args);
  if (ix.numel == 0) return;
  cudaStream_t s = stream_for(out.device);
  dispatch_compute(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    unary_kernel<T><<<blocks_for(ix.numel), kThreads, 0, s>>>(ix, op);
  });
  check_launch("a unary op");
}

void binary(int op, const TensorArg& out, const TensorArg& a, const TensorArg& b) {
  int compute = a.host_scalar ? b.dtype : a.dtype;
  if (!binary_supported(op, compute)) unsupported("binary op " + std::to_string(op));
  const TensorArg* args[3] = {&out, &a, &b};
  Indexer<3> ix = make_indexer<3>(args);
  if (ix.numel == 0) return;
  cudaStream_t s = stream_for(out.device);
  dispatch_compute(compute, [&](auto tag) {
    using T = decltype(tag);
    binary_kernel<T><<<blocks_for(ix.numel), kThreads, 0, s>>>(ix, op);
  });
  check_launch("a binary op");
}

void where(const TensorArg& out, const TensorArg& cond, const TensorArg& a, const TensorArg& b) {
  const TensorArg* args[4] = {&out, &cond, &a, &b};
  Indexer<4> ix = make_indexer<4>(args);
  if (ix.numel == 0) return;
  cudaStream_t s = stream_for(out.device);
  dispatch_compute(out.dtype, [&](auto tag) {
    using T = decltype(tag);
    where_kernel<T><<<blocks_for(ix.numel), kThreads, 0, s>>>(ix);
  });
  check_launch("where");
}

void clamp(const TensorArg& out, const TensorArg& a, const double* lo, const double* hi) {
  const TensorArg* args[2] = {&out, &a};
  Indexer<2> ix = make_indexer<2>(args);
  if (ix.numel == 0) return;
  cudaStream_t s = stream_for(out.device);
  dispatch_compute(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    clamp_kernel<T><<<blocks_for(ix.numel), kThreads, 0, s>>>(ix, lo != nullptr, lo ? (T)*lo : T(0), hi != nullptr,
                                                              hi ? (T)*hi : T(0));
  });
  check_launch("clamp");
}

}  // namespace cuda
}  // namespace ember
