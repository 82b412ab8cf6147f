// Random numbers on the device (Note [CUDA random numbers]): Philox 4x32-10,
// the counter-based generator of Salmon et al. (2011), as cuRAND and PyTorch
// use it. Element i of a call takes counter (offset + i) / 4 of the stream
// `seed`, word i % 4: any launch geometry gives the same numbers. In a captured
// graph the seed and the start of the offsets come from the device's GraphRng
// at each replay (Note [CUDA graph random numbers]); `offset` is then relative.
#include <cmath>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace ember {
namespace cuda {
namespace {

template <class T>
__global__ void uniform_kernel(Indexer<1> ix, double lo, double hi, Philox p, uint64_t offset, const GraphRng* graph) {
  if (graph) p = philox(graph->seed), offset += graph->base;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < ix.numel; i += (int64_t)gridDim.x * blockDim.x)
    ix.store<T>(0, i, uniform_value<T>(p, offset, i, lo, hi));
}

template <class T>
__global__ void normal_kernel(Indexer<1> ix, double mean, double std, Philox p, uint64_t offset,
                              const GraphRng* graph) {
  if (graph) p = philox(graph->seed), offset += graph->base;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < ix.numel; i += (int64_t)gridDim.x * blockDim.x)
    ix.store<T>(0, i, normal_value<T>(p, offset, i, mean, std));
}

template <class T>
__global__ void randint_kernel(Indexer<1> ix, int64_t low, uint64_t range, Philox p, uint64_t offset,
                               const GraphRng* graph) {
  if (graph) p = philox(graph->seed), offset += graph->base;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < ix.numel; i += (int64_t)gridDim.x * blockDim.x)
    ix.store<T>(0, i, (T)randint_value(p, offset, i, low, range));
}

}  // namespace

void randint(const TensorArg& out, int64_t low, uint64_t range, uint64_t seed, uint64_t offset, const void* graph) {
  const TensorArg* args[1] = {&out};
  Indexer<1> ix = make_indexer<1>(args);
  if (ix.numel == 0) return;
  cudaStream_t s = stream_for(out.device);
  dispatch_compute(out.dtype, [&](auto tag) {
    using T = decltype(tag);
    EMBER_LAUNCH(randint_kernel<T>, blocks_for(ix.numel), kThreads, s)(ix, low, range, philox(seed), offset,
                                                                       static_cast<const GraphRng*>(graph));
  });
  check_launch("randint");
}

void uniform(const TensorArg& out, double lo, double hi, uint64_t seed, uint64_t offset, const void* graph) {
  const TensorArg* args[1] = {&out};
  Indexer<1> ix = make_indexer<1>(args);
  if (ix.numel == 0) return;
  if (!is_float_dtype(out.dtype)) unsupported("uniform_ of an integer tensor");
  cudaStream_t s = stream_for(out.device);
  dispatch_compute(out.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point<T>::value)
      EMBER_LAUNCH(uniform_kernel<T>, blocks_for(ix.numel), kThreads, s)(ix, lo, hi, philox(seed), offset,
                                                                         static_cast<const GraphRng*>(graph));
  });
  check_launch("uniform_");
}

void normal(const TensorArg& out, double mean, double std, uint64_t seed, uint64_t offset, const void* graph) {
  const TensorArg* args[1] = {&out};
  Indexer<1> ix = make_indexer<1>(args);
  if (ix.numel == 0) return;
  if (!is_float_dtype(out.dtype)) unsupported("normal_ of an integer tensor");
  cudaStream_t s = stream_for(out.device);
  dispatch_compute(out.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point<T>::value)
      EMBER_LAUNCH(normal_kernel<T>, blocks_for(ix.numel), kThreads, s)(ix, mean, std, philox(seed), offset,
                                                                        static_cast<const GraphRng*>(graph));
  });
  check_launch("normal_");
}

}  // namespace cuda
}  // namespace ember
