// Convolution patches (im2col, col2im) and max pooling; a convolution is im2col
// and a cuBLAS product (ops/conv.cpp).
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace ember {
namespace cuda {
namespace {

struct Strides3 {
  int64_t s[3];
};

template <class A>
__global__ void im2col_kernel(int64_t n, ConvArgs g, const char* x, char* cols, int dtype, Strides3 cs) {
  for (int64_t e = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; e < n; e += (int64_t)gridDim.x * blockDim.x)
    im2col_element<A>(e, g, x, cols, dtype, cs.s);
}

template <class A>
__global__ void col2im_kernel(int64_t n, ConvArgs g, char* x, const char* cols, int dtype, Strides3 cs) {
  for (int64_t e = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; e < n; e += (int64_t)gridDim.x * blockDim.x)
    col2im_element<A>(e, g, x, cols, dtype, cs.s);
}

template <class A>
__global__ void max_pool_kernel(int64_t n, ConvArgs g, const char* x, char* values, int64_t* indices, int dtype) {
  for (int64_t o = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; o < n; o += (int64_t)gridDim.x * blockDim.x)
    max_pool_element<A>(o, g, x, values, indices, dtype);
}

template <class T>
__global__ void max_pool_backward_kernel(int64_t n, int64_t out_plane, int64_t in_plane, T* grad_in, const T* grad_out,
                                         const int64_t* indices) {
  for (int64_t o = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; o < n; o += (int64_t)gridDim.x * blockDim.x)
    atomicAdd(grad_in + o / out_plane * in_plane + indices[o], grad_out[o]);  // windows may overlap
}

}  // namespace

void im2col(const TensorArg& cols, const TensorArg& x, const ConvArgs& g) {
  const int64_t n = numel(cols);
  if (n == 0) return;
  Strides3 cs{{cols.strides[0], cols.strides[1], cols.strides[2]}};
  cudaStream_t s = stream_for(cols.device);
  floating(x.dtype, "im2col of an integer tensor", [&](auto tag) {
    using A = decltype(tag);
    EMBER_LAUNCH(im2col_kernel<A>, blocks_for(n), kThreads, s)(n, g, x.data, cols.data, x.dtype, cs);
  });
  check_launch("im2col");
}

void col2im(const TensorArg& x, const TensorArg& cols, const ConvArgs& g) {
  const int64_t n = numel(x);
  if (n == 0) return;
  Strides3 cs{{cols.strides[0], cols.strides[1], cols.strides[2]}};
  cudaStream_t s = stream_for(x.device);
  floating(x.dtype, "col2im of an integer tensor", [&](auto tag) {
    using A = decltype(tag);
    EMBER_LAUNCH(col2im_kernel<A>, blocks_for(n), kThreads, s)(n, g, x.data, cols.data, x.dtype, cs);
  });
  check_launch("col2im");
}

void max_pool2d(const TensorArg& values, const TensorArg& indices, const TensorArg& x, const ConvArgs& g) {
  const int64_t n = numel(values);
  if (n == 0) return;
  cudaStream_t s = stream_for(values.device);
  floating(x.dtype, "max_pool2d of an integer tensor", [&](auto tag) {
    using A = decltype(tag);
    EMBER_LAUNCH(max_pool_kernel<A>, blocks_for(n), kThreads, s)(n, g, x.data, values.data, (int64_t*)indices.data,
                                                                 x.dtype);
  });
  check_launch("max_pool2d");
}

void max_pool2d_backward(const TensorArg& grad_in, const TensorArg& grad_out, const TensorArg& indices) {
  fill(grad_in, 0.0);
  const int64_t n = numel(grad_out);
  if (n == 0) return;
  const int64_t out_plane = grad_out.sizes[2] * grad_out.sizes[3], in_plane = grad_in.sizes[2] * grad_in.sizes[3];
  cudaStream_t s = stream_for(grad_in.device);
  float32_or_64(grad_in.dtype, "max_pool2d backward", [&](auto tag) {
    using T = decltype(tag);
    EMBER_LAUNCH(max_pool_backward_kernel<T>, blocks_for(n), kThreads, s)(
        n, out_plane, in_plane, (T*)grad_in.data, (const T*)grad_out.data, (const int64_t*)indices.data);
  });
  check_launch("max_pool2d backward");
}

}  // namespace cuda
}  // namespace ember
