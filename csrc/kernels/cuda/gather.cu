// Indexing by offsets (gather, scatter), argmax/argmin along a dim, and
// nll_loss's per-sample forward.
#include <vector>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace ember {
namespace cuda {
namespace {

// Host offsets copied to the device for one launch (stream-ordered: the scratch is
// handed out again only to later work on the same stream).
struct DeviceOffsets {
  Scratch scratch;
  DeviceOffsets(const int64_t* host, int64_t n, int device)
      : scratch((size_t)std::max<int64_t>(n, 1) * sizeof(int64_t), device) {
    if (n)
      check(cudaMemcpyAsync(scratch.data, host, n * sizeof(int64_t), cudaMemcpyHostToDevice, stream_for(device)),
            "copying index offsets");
  }
  const int64_t* get() const { return static_cast<const int64_t*>(scratch.data); }
};

template <class U>
__global__ void gather_kernel(U* out, const U* src, const int64_t* outer, const int64_t* inner, int64_t n_outer,
                              int64_t n_inner) {
  const int64_t n = n_outer * n_inner;
  for (int64_t k = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; k < n; k += (int64_t)gridDim.x * blockDim.x)
    out[k] = src[outer[k / n_inner] + inner[k % n_inner]];
}

template <class U>
__global__ void scatter_kernel(U* dst, const U* values, const int64_t* outer, const int64_t* inner, int64_t n_outer,
                               int64_t n_inner) {
  const int64_t n = n_outer * n_inner;
  for (int64_t k = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; k < n; k += (int64_t)gridDim.x * blockDim.x)
    dst[outer[k / n_inner] + inner[k % n_inner]] = values[k];
}

template <class T>
__device__ void atomic_add(T* p, T v) {
  if constexpr (std::is_same<T, int64_t>::value)
    atomicAdd(reinterpret_cast<unsigned long long*>(p), (unsigned long long)v);
  else
    atomicAdd(p, v);
}

template <class T>
__global__ void scatter_add_kernel(T* dst, const T* values, const int64_t* outer, const int64_t* inner, int64_t n_outer,
                                   int64_t n_inner) {
  const int64_t n = n_outer * n_inner;
  for (int64_t k = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; k < n; k += (int64_t)gridDim.x * blockDim.x)
    atomic_add(dst + outer[k / n_inner] + inner[k % n_inner], values[k]);
}

// Elements moved as unsigned words of the dtype's size: gather and plain scatter never convert.
template <class F>
void by_width(int dtype, F&& f) {
  switch (itemsize_of(dtype)) {
    case 1: f(uint8_t()); break;
    case 2: f(uint16_t()); break;
    case 4: f(uint32_t()); break;
    default: f(uint64_t()); break;
  }
}

template <class A>
__global__ void arg_kernel(ReduceGeometry g, const char* in, int dtype, int size, bool is_max, char* values,
                           int values_dtype, int64_t* indices) {
  for (int64_t o = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; o < g.outputs;
       o += (int64_t)gridDim.x * blockDim.x) {
    A best;
    indices[o] = arg_extreme<A>(g, in, dtype, size, o, is_max, best);
    store_as<A>(values + o * itemsize_of(values_dtype), values_dtype, best);
  }
}

// bad[0]: set when a target is out of range, bad[1]: that target
template <class T>
__global__ void nll_kernel(T* loss, T* wt, const T* x, const int64_t* target, const T* weight, int64_t N, int64_t C,
                           int64_t ignore_index, unsigned long long* bad) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < N; i += (int64_t)gridDim.x * blockDim.x)
    if (!nll_element(loss, wt, x, target, weight, C, ignore_index, i) && atomicCAS(bad, 0ull, 1ull) == 0ull)
      bad[1] = (unsigned long long)target[i];
}

}  // namespace

void gather(const TensorArg& out, const TensorArg& src, const int64_t* outer, int64_t n_outer, const int64_t* inner,
            int64_t n_inner) {
  if (n_outer * n_inner == 0) return;
  DeviceOffsets o(outer, n_outer, out.device), r(inner, n_inner, out.device);
  cudaStream_t s = stream_for(out.device);
  by_width(out.dtype, [&](auto tag) {
    using U = decltype(tag);
    EMBER_LAUNCH(gather_kernel<U>, blocks_for(n_outer * n_inner), kThreads, s)(
        reinterpret_cast<U*>(out.data), reinterpret_cast<const U*>(src.data), o.get(), r.get(), n_outer, n_inner);
  });
  check_launch("a gather");
}

void scatter(const TensorArg& dst, const TensorArg& values, const int64_t* outer, int64_t n_outer, const int64_t* inner,
             int64_t n_inner, bool accumulate) {
  if (n_outer * n_inner == 0) return;
  cudaStream_t s = stream_for(dst.device);
  if (accumulate) {
    if (dst.dtype != kFloat32 && dst.dtype != kFloat64 && dst.dtype != kInt64 && dst.dtype != kInt32)
      unsupported("index_put_/scatter_add_ accumulating this dtype");
    DeviceOffsets o(outer, n_outer, dst.device), r(inner, n_inner, dst.device);
    auto launch = [&](auto tag) {
      using T = decltype(tag);
      EMBER_LAUNCH(scatter_add_kernel<T>, blocks_for(n_outer * n_inner), kThreads, s)(
          reinterpret_cast<T*>(dst.data), reinterpret_cast<const T*>(values.data), o.get(), r.get(), n_outer, n_inner);
    };
    if (dst.dtype == kFloat32) launch(float());
    if (dst.dtype == kFloat64) launch(double());
    if (dst.dtype == kInt64) launch(int64_t());
    if (dst.dtype == kInt32) launch(int());
  } else {
    DeviceOffsets o(outer, n_outer, dst.device), r(inner, n_inner, dst.device);
    by_width(dst.dtype, [&](auto tag) {
      using U = decltype(tag);
      EMBER_LAUNCH(scatter_kernel<U>, blocks_for(n_outer * n_inner), kThreads, s)(
          reinterpret_cast<U*>(dst.data), reinterpret_cast<const U*>(values.data), o.get(), r.get(), n_outer, n_inner);
    });
  }
  check_launch("a scatter");
}

void reduce_arg(bool is_max, const TensorArg& values, const TensorArg& indices, const TensorArg& in, int dim) {
  ReduceGeometry g = reduce_geometry(in, uint64_t(1) << dim);
  if (g.outputs == 0) return;
  cudaStream_t s = stream_for(values.device);
  dispatch_compute(in.dtype, [&](auto tag) {
    using A = decltype(tag);
    EMBER_LAUNCH(arg_kernel<A>, blocks_for(g.outputs), kThreads, s)(g, in.data, in.dtype, itemsize_of(in.dtype), is_max,
                                                                    values.data, values.dtype,
                                                                    reinterpret_cast<int64_t*>(indices.data));
  });
  check_launch("argmax/argmin");
}

void nll_loss(const TensorArg& loss, const TensorArg& wt, const TensorArg& x, const TensorArg& target,
              const TensorArg* weight, int64_t ignore_index) {
  const int64_t N = x.sizes[0], C = x.sizes[1];
  if (N == 0) return;
  cudaStream_t s = stream_for(loss.device);
  Scratch bad(2 * sizeof(unsigned long long), loss.device);
  check(cudaMemsetAsync(bad.data, 0, 2 * sizeof(unsigned long long), s), "nll_loss");
  auto flag = static_cast<unsigned long long*>(bad.data);
  float32_or_64(x.dtype, "nll_loss", [&](auto tag) {
    using T = decltype(tag);
    EMBER_LAUNCH(nll_kernel<T>, blocks_for(N), kThreads, s)(
        (T*)loss.data, (T*)wt.data, (const T*)x.data, (const int64_t*)target.data,
        weight ? (const T*)weight->data : nullptr, N, C, ignore_index, flag);
  });
  check_launch("nll_loss");
  unsigned long long host[2];  // the check PyTorch makes with a device assertion, as an IndexError
  check(cudaMemcpyAsync(host, flag, sizeof host, cudaMemcpyDeviceToHost, s), "nll_loss");
  check(cudaStreamSynchronize(s), "nll_loss");
  if (host[0])
    throw std::out_of_range("nll_loss: Target " + std::to_string((long long)host[1]) + " is out of bounds (" +
                            std::to_string(C) + " classes).");
}

}  // namespace cuda
}  // namespace ember
