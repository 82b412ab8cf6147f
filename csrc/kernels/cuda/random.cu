// Random numbers on the device (Note [CUDA random numbers]): Philox 4x32-10,
// the counter-based generator of Salmon et al. (2011), as cuRAND and PyTorch
// use it. Element i of a call takes counter (offset + i) / 4 of the stream
// `seed`, word i % 4: any launch geometry gives the same numbers.
#include <cmath>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace ember {
namespace cuda {
namespace {

struct Philox {
  uint32_t key[2];
  __device__ uint4 operator()(uint64_t counter) const {
    uint32_t c[4] = {(uint32_t)counter, (uint32_t)(counter >> 32), 0, 0};
    uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; ++round) {
      uint32_t hi0 = __umulhi(0xD2511F53u, c[0]), lo0 = 0xD2511F53u * c[0];
      uint32_t hi1 = __umulhi(0xCD9E8D57u, c[2]), lo1 = 0xCD9E8D57u * c[2];
      uint32_t n0 = hi1 ^ c[1] ^ k0, n2 = hi0 ^ c[3] ^ k1;
      c[0] = n0, c[1] = lo1, c[2] = n2, c[3] = lo0;
      k0 += 0x9E3779B9u, k1 += 0xBB67AE85u;
    }
    return make_uint4(c[0], c[1], c[2], c[3]);
  }
};

__device__ __forceinline__ uint32_t word(uint4 v, int i) { return i == 0 ? v.x : i == 1 ? v.y : i == 2 ? v.z : v.w; }

// A uniform double in [0, 1) from 53 random bits, or a float from 24.
__device__ __forceinline__ double unit(const Philox& p, uint64_t index, bool wide) {
  uint4 r = p(index / 2);  // two elements per counter when wide (64 bits each), four otherwise
  if (wide) {
    int pair = (int)(index % 2) * 2;
    uint64_t bits = ((uint64_t)word(r, pair) << 32 | word(r, pair + 1)) >> 11;
    return bits * (1.0 / 9007199254740992.0);
  }
  return (word(r, (int)(index % 2)) >> 8) * (1.0 / 16777216.0);
}

template <class T>
__global__ void uniform_kernel(Indexer<1> ix, double lo, double hi, Philox p, uint64_t offset) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < ix.numel; i += (int64_t)gridDim.x * blockDim.x) {
    double u = unit(p, 2 * (offset + i), std::is_same<T, double>::value);  // the even units, as normal_'s pairs
    T v = (T)(lo + (hi - lo) * u);
    if (v >= (T)hi && hi > lo) v = (T)lo;  // rounding to the upper bound: stay in [lo, hi)
    ix.store<T>(0, i, v);
  }
}

// Box-Muller on units 2j and 2j+1 (j = element index rounded down to even): a call
// of n elements at `offset` reads units [2 offset, 2 (offset + n)), as uniform_ does.
template <class T>
__global__ void normal_kernel(Indexer<1> ix, double mean, double std, Philox p, uint64_t offset) {
  const bool wide = std::is_same<T, double>::value;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < ix.numel; i += (int64_t)gridDim.x * blockDim.x) {
    uint64_t pair = (offset + i) / 2 * 2;
    double u1 = unit(p, 2 * pair, wide), u2 = unit(p, 2 * pair + 1, wide);
    double radius = sqrt(-2.0 * log(1.0 - u1));  // 1 - u1 in (0, 1]: no log(0)
    double angle = 6.283185307179586 * u2;
    double z = (offset + i) % 2 ? radius * sin(angle) : radius * cos(angle);
    ix.store<T>(0, i, (T)(mean + std * z));
  }
}

Philox philox(uint64_t seed) { return Philox{{(uint32_t)seed, (uint32_t)(seed >> 32)}}; }

}  // namespace

void uniform(const TensorArg& out, double lo, double hi, uint64_t seed, uint64_t offset) {
  const TensorArg* args[1] = {&out};
  Indexer<1> ix = make_indexer<1>(args);
  if (ix.numel == 0) return;
  if (!is_float_dtype(out.dtype)) unsupported("uniform_ of an integer tensor");
  cudaStream_t s = stream_for(out.device);
  dispatch_compute(out.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point<T>::value)
      uniform_kernel<T><<<blocks_for(ix.numel), kThreads, 0, s>>>(ix, lo, hi, philox(seed), offset);
  });
  check_launch("uniform_");
}

void normal(const TensorArg& out, double mean, double std, uint64_t seed, uint64_t offset) {
  const TensorArg* args[1] = {&out};
  Indexer<1> ix = make_indexer<1>(args);
  if (ix.numel == 0) return;
  if (!is_float_dtype(out.dtype)) unsupported("normal_ of an integer tensor");
  cudaStream_t s = stream_for(out.device);
  dispatch_compute(out.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point<T>::value)
      normal_kernel<T><<<blocks_for(ix.numel), kThreads, 0, s>>>(ix, mean, std, philox(seed), offset);
  });
  check_launch("normal_");
}

}  // namespace cuda
}  // namespace ember
