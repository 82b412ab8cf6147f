// Indexing by offsets (index offsets, gather, scatter), argmax/argmin along a
// dim, and nll_loss's per-sample forward.
#include <vector>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace ember {
namespace cuda {
namespace {

// Host offsets copied to the device for one launch (stream-ordered: the scratch is
// handed out again only to later work on the same stream), through pinned memory
// (Note [Staged host copies]: no wait, and a CUDA graph can replay the copy).
struct DeviceOffsets {
  Scratch scratch;
  DeviceOffsets(const int64_t* host, int64_t n, int device)
      : scratch((size_t)std::max<int64_t>(n, 1) * sizeof(int64_t), device) {
    copy_to_device_staged(scratch.data, host, n * sizeof(int64_t), device);
  }
  const int64_t* get() const { return static_cast<const int64_t*>(scratch.data); }
};

// Note [Deferred index errors]: offsets[i] from index[i]; one out of range is recorded and made kBadOffset.
__global__ void index_offsets_kernel(int64_t* offsets, const int64_t* index, int64_t n, TensorArg shape, IndexArgs a,
                                     IndexErrorRecord* errors) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    int64_t base = 0;
    if (a.add) {
      base = offsets[i];
    } else {  // the offset of place i under place_strides
      for (int64_t d = shape.ndim - 1, rest = i; d >= 0; --d) {
        base += rest % shape.sizes[d] * a.place_strides[d];
        rest /= shape.sizes[d];
      }
    }
    const int64_t v = index[i], wrapped = v < 0 && a.kind == kIndexWrapping ? v + a.size : v;
    offsets[i] = wrapped >= 0 && wrapped < a.size ? base + wrapped * a.stride
                                                  : record_index_error(errors, a.kind, v, a.dim, a.size);
  }
}

// Note [Deferred index errors]: a uint64 value from 2**63 up (negative as int64) where ember computes in int64.
__global__ void check_fits_int64_kernel(TensorArg t, int64_t n, IndexErrorRecord* errors) {
  const int64_t* data = reinterpret_cast<const int64_t*>(t.data);
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    int64_t offset = 0;
    for (int64_t d = t.ndim - 1, rest = i; d >= 0; --d) {
      offset += rest % t.sizes[d] * t.strides[d];
      rest /= t.sizes[d];
    }
    if (data[offset] < 0) record_index_error(errors, kUInt64TooLarge, 0, 0, 0);
  }
}

template <class U>
__global__ void gather_kernel(U* out, const U* src, const int64_t* outer, const int64_t* inner, int64_t n_outer,
                              int64_t n_inner) {
  const int64_t n = n_outer * n_inner;
  for (int64_t k = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; k < n; k += (int64_t)gridDim.x * blockDim.x) {
    const int64_t o = outer[k / n_inner];
    out[k] = o < 0 ? U(0) : src[o + inner[k % n_inner]];  // a bad index's element reads nothing
  }
}

template <class U>
__global__ void scatter_kernel(U* dst, const U* values, const int64_t* outer, const int64_t* inner, int64_t n_outer,
                               int64_t n_inner) {
  const int64_t n = n_outer * n_inner;
  for (int64_t k = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; k < n; k += (int64_t)gridDim.x * blockDim.x)
    if (outer[k / n_inner] >= 0) dst[outer[k / n_inner] + inner[k % n_inner]] = values[k];
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
    if (outer[k / n_inner] >= 0) atomic_add(dst + outer[k / n_inner] + inner[k % n_inner], values[k]);
}

// scatter_reduce's reductions (ops/scatter.cpp's Reduce order: sum, prod, mean, amax, amin), NaN winning
// amax and amin as on the CPU; prod, amax and amin applied by compare-and-swap on the element's bits.
enum ReduceKind { kSum, kProd, kMean, kAmax, kAmin };

template <class T>
__device__ inline T reduce_pair(int op, T a, T b) {
  if (op == kProd) return T(a * b);
  if (is_nan(a) || is_nan(b)) return is_nan(a) ? a : b;
  return (op == kAmax ? b > a : b < a) ? b : a;
}

template <class T>
__device__ void atomic_reduce(int op, T* p, T v) {
  using U = typename std::conditional<sizeof(T) == 4, unsigned int, unsigned long long>::type;
  U* word = reinterpret_cast<U*>(p);
  U old = *word, assumed;
  do {
    assumed = old;
    T current, next;
    memcpy(&current, &assumed, sizeof(T));
    next = reduce_pair(op, current, v);
    U bits;
    memcpy(&bits, &next, sizeof(T));
    old = atomicCAS(word, assumed, bits);
  } while (old != assumed);
}

template <class T>
__global__ void scatter_reduce_kernel(int op, T* dst, const T* values, const int64_t* offsets, int64_t n,
                                      bool set_identity, T identity) {
  for (int64_t k = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; k < n; k += (int64_t)gridDim.x * blockDim.x) {
    if (offsets[k] < 0) continue;  // a bad index
    if (set_identity)
      dst[offsets[k]] = identity;  // every writer writes the same value
    else if (op == kSum || op == kMean)
      atomic_add(dst + offsets[k], values[k]);
    else
      atomic_reduce(op, dst + offsets[k], values[k]);
  }
}

// The mean: each target's count (1 for self when it takes part), then the division where it is over one.
__global__ void count_kernel(unsigned long long* counts, const int64_t* offsets, int64_t n) {
  for (int64_t k = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; k < n; k += (int64_t)gridDim.x * blockDim.x)
    if (offsets[k] >= 0) atomicAdd(counts + offsets[k], 1ull);
}

template <class T>
__global__ void mean_kernel(T* dst, const unsigned long long* counts, int64_t numel, unsigned long long self) {
  for (int64_t p = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; p < numel; p += (int64_t)gridDim.x * blockDim.x) {
    const unsigned long long c = counts[p] + (counts[p] ? self : 0);
    if (c <= 1) continue;
    if constexpr (std::is_integral<T>::value)
      dst[p] = T(floor(double(dst[p]) / double(c)));
    else
      dst[p] = dst[p] / T(c);
  }
}

template <class T>
T reduce_identity(int op) {
  using L = std::numeric_limits<T>;
  if (op == kProd) return T(1);
  if (op == kAmax) return L::has_infinity ? -L::infinity() : L::lowest();
  if (op == kAmin) return L::has_infinity ? L::infinity() : L::max();
  return T(0);
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

template <class T>
__global__ void nll_kernel(T* loss, T* wt, const T* x, const int64_t* target, const T* weight, int64_t N, int64_t C,
                           int64_t ignore_index, IndexErrorRecord* errors) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < N; i += (int64_t)gridDim.x * blockDim.x)
    if (!nll_element(loss, wt, x, target, weight, C, ignore_index, i))
      record_index_error(errors, kNllTarget, target[i], 1, C);
}

}  // namespace

void check_fits_int64(const TensorArg& t) {
  const int64_t n = numel(t);
  if (n == 0) return;
  EMBER_LAUNCH(check_fits_int64_kernel, blocks_for(n), kThreads, stream_for(t.device))(t, n,
                                                                                       index_error_record(t.device));
  check_launch("the uint64 range check");
  index_kernel_launched(t.device);
}

void index_offsets(const TensorArg& offsets, const TensorArg& index, const IndexArgs& a) {
  if (numel(offsets) == 0) return;
  EMBER_LAUNCH(index_offsets_kernel, blocks_for(numel(offsets)), kThreads, stream_for(offsets.device))(
      reinterpret_cast<int64_t*>(offsets.data), reinterpret_cast<const int64_t*>(index.data), numel(offsets), offsets,
      a, index_error_record(offsets.device));
  check_launch("index offsets");
  index_kernel_launched(offsets.device);
}

void gather(const TensorArg& out, const TensorArg& src, const TensorArg& outer, const int64_t* inner, int64_t n_inner) {
  const int64_t n_outer = numel(outer);
  if (n_outer * n_inner == 0) return;
  DeviceOffsets r(inner, n_inner, out.device);
  const auto* o = reinterpret_cast<const int64_t*>(outer.data);
  cudaStream_t s = stream_for(out.device);
  by_width(out.dtype, [&](auto tag) {
    using U = decltype(tag);
    EMBER_LAUNCH(gather_kernel<U>, blocks_for(n_outer * n_inner), kThreads, s)(
        reinterpret_cast<U*>(out.data), reinterpret_cast<const U*>(src.data), o, r.get(), n_outer, n_inner);
  });
  check_launch("a gather");
}

void scatter(const TensorArg& dst, const TensorArg& values, const TensorArg& outer, const int64_t* inner,
             int64_t n_inner, bool accumulate) {
  const int64_t n_outer = numel(outer);
  if (n_outer * n_inner == 0) return;
  cudaStream_t s = stream_for(dst.device);
  DeviceOffsets r(inner, n_inner, dst.device);
  const auto* o = reinterpret_cast<const int64_t*>(outer.data);
  if (accumulate) {
    if (dst.dtype != kFloat32 && dst.dtype != kFloat64 && dst.dtype != kInt64 && dst.dtype != kInt32)
      unsupported("index_put_/scatter_add_ accumulating this dtype");
    auto launch = [&](auto tag) {
      using T = decltype(tag);
      EMBER_LAUNCH(scatter_add_kernel<T>, blocks_for(n_outer * n_inner), kThreads, s)(
          reinterpret_cast<T*>(dst.data), reinterpret_cast<const T*>(values.data), o, r.get(), n_outer, n_inner);
    };
    if (dst.dtype == kFloat32) launch(float());
    if (dst.dtype == kFloat64) launch(double());
    if (dst.dtype == kInt64) launch(int64_t());
    if (dst.dtype == kInt32) launch(int());
  } else {
    by_width(dst.dtype, [&](auto tag) {
      using U = decltype(tag);
      EMBER_LAUNCH(scatter_kernel<U>, blocks_for(n_outer * n_inner), kThreads, s)(
          reinterpret_cast<U*>(dst.data), reinterpret_cast<const U*>(values.data), o, r.get(), n_outer, n_inner);
    });
  }
  check_launch("a scatter");
}

void scatter_reduce(int op, const TensorArg& dst, const TensorArg& values, const TensorArg& offsets,
                    bool include_self) {
  const int64_t n = numel(offsets);
  if (n == 0) return;
  if (dst.dtype != kFloat32 && dst.dtype != kFloat64 && dst.dtype != kInt64 && dst.dtype != kInt32)
    unsupported("scatter_reduce of " + dtype_label(dst.dtype) + " tensors");
  cudaStream_t s = stream_for(dst.device);
  const auto* o = reinterpret_cast<const int64_t*>(offsets.data);
  auto launch = [&](auto tag) {
    using T = decltype(tag);
    T* d = reinterpret_cast<T*>(dst.data);
    const T* v = reinterpret_cast<const T*>(values.data);
    const T identity = reduce_identity<T>(op);
    if (!include_self)
      EMBER_LAUNCH(scatter_reduce_kernel<T>, blocks_for(n), kThreads, s)(op, d, v, o, n, true, identity);
    EMBER_LAUNCH(scatter_reduce_kernel<T>, blocks_for(n), kThreads, s)(op, d, v, o, n, false, identity);
    if (op != kMean) return;
    const int64_t total = numel(dst);
    Scratch counts((size_t)total * sizeof(unsigned long long), dst.device);
    auto c = static_cast<unsigned long long*>(counts.data);
    check(cudaMemsetAsync(c, 0, (size_t)total * sizeof(unsigned long long), s), "scatter_reduce");
    EMBER_LAUNCH(count_kernel, blocks_for(n), kThreads, s)(c, o, n);
    EMBER_LAUNCH(mean_kernel<T>, blocks_for(total), kThreads, s)(d, c, total, include_self ? 1ull : 0ull);
  };
  if (dst.dtype == kFloat32) launch(float());
  if (dst.dtype == kFloat64) launch(double());
  if (dst.dtype == kInt64) launch(int64_t());
  if (dst.dtype == kInt32) launch(int32_t());
  check_launch("scatter_reduce");
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
  float32_or_64(x.dtype, "nll_loss", [&](auto tag) {
    using T = decltype(tag);
    EMBER_LAUNCH(nll_kernel<T>, blocks_for(N), kThreads, s)(
        (T*)loss.data, (T*)wt.data, (const T*)x.data, (const int64_t*)target.data,
        weight ? (const T*)weight->data : nullptr, N, C, ignore_index, index_error_record(loss.device));
  });
  check_launch("nll_loss");
  index_kernel_launched(loss.device);
}

}  // namespace cuda
}  // namespace ember
