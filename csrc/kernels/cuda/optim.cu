// The fused optimizer steps (kernels/cpu/optim.h), one thread per element.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace ember {
namespace cuda {
namespace {

template <class T>
__global__ void sgd_kernel(T* x, const T* g, T* b, int64_t n, SgdArgs s) {
  const SgdStep<T> step(s);
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    step(x, g, b, i);
}

template <class T>
__global__ void adam_kernel(T* x, const T* g, T* m, T* v, T* vmax, int64_t n, AdamArgs s) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    adam_element(x, g, m, v, vmax, i, s);
}

}  // namespace

void sgd(const TensorArg& p, const TensorArg& g, const TensorArg* buf, const SgdArgs& s) {
  const int64_t n = numel(p);
  if (n == 0) return;
  cudaStream_t st = stream_for(p.device);
  if (p.dtype == kFloat32)
    EMBER_LAUNCH(sgd_kernel<float>, blocks_for(n), kThreads, st)((float*)p.data, (const float*)g.data,
                                                                 buf ? (float*)buf->data : nullptr, n, s);
  else if (p.dtype == kFloat64)
    EMBER_LAUNCH(sgd_kernel<double>, blocks_for(n), kThreads, st)((double*)p.data, (const double*)g.data,
                                                                  buf ? (double*)buf->data : nullptr, n, s);
  else
    unsupported("the fused SGD step of this dtype");
  check_launch("the SGD step");
}

void adam(const TensorArg& p, const TensorArg& g, const TensorArg& m, const TensorArg& v, const TensorArg* vmax,
          const AdamArgs& s) {
  const int64_t n = numel(p);
  if (n == 0) return;
  cudaStream_t st = stream_for(p.device);
  if (p.dtype == kFloat32)
    EMBER_LAUNCH(adam_kernel<float>, blocks_for(n), kThreads, st)((float*)p.data, (const float*)g.data, (float*)m.data,
                                                                  (float*)v.data, vmax ? (float*)vmax->data : nullptr,
                                                                  n, s);
  else if (p.dtype == kFloat64)
    EMBER_LAUNCH(adam_kernel<double>, blocks_for(n), kThreads, st)((double*)p.data, (const double*)g.data,
                                                                   (double*)m.data, (double*)v.data,
                                                                   vmax ? (double*)vmax->data : nullptr, n, s);
  else
    unsupported("the fused Adam step of this dtype");
  check_launch("the Adam step");
}

}  // namespace cuda
}  // namespace ember
