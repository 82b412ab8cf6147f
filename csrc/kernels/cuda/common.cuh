#pragma once
// What the CUDA kernels share: status checks, dtype loads and stores, and the
// index arithmetic of strided, broadcast operands.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "kernels/cuda/backend.h"

namespace ember {
namespace cuda {

// A CUDA status as RuntimeError with CUDA's words (core/cuda.cpp maps the exception).
inline void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess)
    throw std::runtime_error(std::string("CUDA error: ") + cudaGetErrorString(status) + " (" + what + ")");
}
// After every launch: a bad configuration shows here, a fault in the kernel at the next synchronisation.
inline void check_launch(const char* op) {
  cudaError_t status = cudaGetLastError();
  if (status != cudaSuccess)
    throw std::runtime_error(std::string("CUDA error: ") + cudaGetErrorString(status) + " (launching " + op + ")");
}
// No kernel for this op or dtype (NotImplementedError on the Python side).
[[noreturn]] inline void unsupported(const std::string& what) {
  throw std::invalid_argument("Could not run '" + what +
                              "' with arguments from the 'CUDA' backend: ember has no "
                              "CUDA kernel for it yet");
}

// The one stream of each device (Note [CUDA caching allocator]); sets the device current.
cudaStream_t stream_for(int device);

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
__host__ __device__ inline int itemsize_of(int d) {
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
__device__ __forceinline__ T load_as(const char* p, int d) {
  switch (d) {
    case kBool: return T(*reinterpret_cast<const bool*>(p));
    case kInt32: return T(*reinterpret_cast<const int32_t*>(p));
    case kInt64: return T(*reinterpret_cast<const int64_t*>(p));
    case kFloat32: return T(*reinterpret_cast<const float*>(p));
    case kFloat64: return T(*reinterpret_cast<const double*>(p));
    case kUInt8: return T(*reinterpret_cast<const uint8_t*>(p));
    case kInt8: return T(*reinterpret_cast<const int8_t*>(p));
    case kInt16: return T(*reinterpret_cast<const int16_t*>(p));
    case kFloat16: return T(__half2float(*reinterpret_cast<const __half*>(p)));
    case kBFloat16: return T(__bfloat162float(*reinterpret_cast<const __nv_bfloat16*>(p)));
    case kUInt16: return T(*reinterpret_cast<const uint16_t*>(p));
    case kUInt32: return T(*reinterpret_cast<const uint32_t*>(p));
    default: return T(*reinterpret_cast<const uint64_t*>(p));
  }
}

// Float to integer conversions of out-of-range values are undefined in C++; as
// PyTorch's kernels, go through int64 (wrapping as the narrow type does).
template <class I, class T>
__device__ __forceinline__ I to_int(T v) {
  if constexpr (std::is_floating_point<T>::value)
    return (I)(int64_t)v;
  else
    return (I)v;
}

template <class T>
__device__ __forceinline__ void store_as(char* p, int d, T v) {
  switch (d) {
    case kBool: *reinterpret_cast<bool*>(p) = v != T(0); break;
    case kInt32: *reinterpret_cast<int32_t*>(p) = to_int<int32_t>(v); break;
    case kInt64: *reinterpret_cast<int64_t*>(p) = to_int<int64_t>(v); break;
    case kFloat32: *reinterpret_cast<float*>(p) = (float)v; break;
    case kFloat64: *reinterpret_cast<double*>(p) = (double)v; break;
    case kUInt8: *reinterpret_cast<uint8_t*>(p) = to_int<uint8_t>(v); break;
    case kInt8: *reinterpret_cast<int8_t*>(p) = to_int<int8_t>(v); break;
    case kInt16: *reinterpret_cast<int16_t*>(p) = to_int<int16_t>(v); break;
    case kFloat16: *reinterpret_cast<__half*>(p) = __float2half((float)v); break;
    case kBFloat16: *reinterpret_cast<__nv_bfloat16*>(p) = __float2bfloat16((float)v); break;
    case kUInt16: *reinterpret_cast<uint16_t*>(p) = to_int<uint16_t>(v); break;
    case kUInt32: *reinterpret_cast<uint32_t*>(p) = to_int<uint32_t>(v); break;
    default: *reinterpret_cast<uint64_t*>(p) = (uint64_t)to_int<int64_t>(v); break;
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

  __device__ __forceinline__ int64_t offset(int k, int64_t i) const {
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
  __device__ __forceinline__ T load(int k, int64_t i) const {
    if (scalar[k]) return T(scalar_value[k]);
    return load_as<T>(data[k] + offset(k, i) * itemsize[k], dtype[k]);
  }
  template <class T>
  __device__ __forceinline__ void store(int k, int64_t i, T v) const {
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

constexpr int kThreads = 256;
inline unsigned blocks_for(int64_t n) {
  int64_t b = (n + kThreads - 1) / kThreads;
  return (unsigned)(b < 65536 * 8 ? (b > 0 ? b : 1) : 65536 * 8);
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

}  // namespace cuda
}  // namespace ember
