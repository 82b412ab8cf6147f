// Elementwise CUDA kernels: copy (with conversion), fill, unary and binary ops,
// where and clamp, over strided and broadcast operands (common.cuh's Indexer).
// One kernel per compute type; the op is a uniform switch inside it, which
// keeps the build small and costs nothing against the memory traffic.
#include <cmath>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace ember {
namespace cuda {
namespace {

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
    if (!is_nan(v)) {  // a NaN bound gives NaN, as PyTorch's (and the CPU's) min(max(v, lo), hi)
      if (has_lo && (v < lo || is_nan(lo))) v = lo;
      if (has_hi && (v > hi || is_nan(hi))) v = hi;
    }
    ix.store<T>(0, i, v);
  }
}

}  // namespace

void copy(const TensorArg& dst, const TensorArg& src) {
  const TensorArg* args[2] = {&dst, &src};
  Indexer<2> ix = make_indexer<2>(args);
  if (ix.numel == 0) return;
  int compute = copy_compute(dst.dtype, src.dtype);
  cudaStream_t s = stream_for(dst.device);
  dispatch_compute(compute, [&](auto tag) {
    using T = decltype(tag);
    EMBER_LAUNCH(copy_kernel<T>, blocks_for(ix.numel), kThreads, s)(ix);
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
    EMBER_LAUNCH(fill_kernel<T>, blocks_for(ix.numel), kThreads, s)(ix, (T)value);
  });
  check_launch("fill_");
}

void unary(int op, const TensorArg& out, const TensorArg& a) {
  if (!unary_supported(op, is_float_dtype(a.dtype))) unsupported("it on " + dtype_label(a.dtype) + " tensors");
  const TensorArg* args[2] = {&out, &a};
  Indexer<2> ix = make_indexer<2>(args);
  if (ix.numel == 0) return;
  cudaStream_t s = stream_for(out.device);
  dispatch_compute(a.dtype, [&](auto tag) {
    using T = decltype(tag);
    EMBER_LAUNCH(unary_kernel<T>, blocks_for(ix.numel), kThreads, s)(ix, op);
  });
  check_launch("a unary op");
}

void binary(int op, const TensorArg& out, const TensorArg& a, const TensorArg& b) {
  // x ** 0.5 and x ** -0.5 by a number are square roots, as in PyTorch's pow_tensor_scalar and
  // ember's CPU kernel: (-0.0) ** 0.5 is -0.0 and (-inf) ** 0.5 NaN, where pow gives 0.0 and inf.
  if (op == (int)BinaryOp::Pow && b.host_scalar && is_float_dtype(a.dtype) && std::fabs(b.scalar) == 0.5)
    return unary((int)(b.scalar > 0 ? UnaryOp::Sqrt : UnaryOp::Rsqrt), out, a);
  int compute = a.host_scalar ? b.dtype : a.dtype;
  if (!binary_supported(op, compute)) unsupported("it on " + dtype_label(compute) + " tensors");
  const TensorArg* args[3] = {&out, &a, &b};
  Indexer<3> ix = make_indexer<3>(args);
  if (ix.numel == 0) return;
  cudaStream_t s = stream_for(out.device);
  dispatch_compute(compute, [&](auto tag) {
    using T = decltype(tag);
    EMBER_LAUNCH(binary_kernel<T>, blocks_for(ix.numel), kThreads, s)(ix, op);
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
    EMBER_LAUNCH(where_kernel<T>, blocks_for(ix.numel), kThreads, s)(ix);
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
    EMBER_LAUNCH(clamp_kernel<T>, blocks_for(ix.numel), kThreads, s)(ix, lo != nullptr, lo ? (T)*lo : T(0),
                                                                     hi != nullptr, hi ? (T)*hi : T(0));
  });
  check_launch("clamp");
}

}  // namespace cuda
}  // namespace ember
