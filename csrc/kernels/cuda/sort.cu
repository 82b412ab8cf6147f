// Sorting rows on the device (sort, argsort, msort, topk, kthvalue, median):
// one block per row, a bitonic network in shared memory over (value, index)
// pairs; and searching sorted rows (searchsorted, bucketize): a binary search
// per value. The index breaks ties, so the order is the stable one of the CPU's
// kernels/cpu/sort.cpp: NaN after every number ascending, before them
// descending. Rows longer than kSortMax are refused with unsupported(), and
// so go to the host fallback (Note [CUDA host fallback]).
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace ember {
namespace cuda {
namespace {

constexpr int kSortMax = 2048;  // a row's pairs in shared memory: 2048 x (8 + 4) bytes

// Whether (a, ia) comes before (b, ib); indices at or past n are padding, after everything.
template <class A>
__device__ inline bool before(A a, int ia, A b, int ib, int n, bool descending) {
  if (ia >= n || ib >= n) return ib >= n && ia < n;
  const bool a_nan = is_nan(a), b_nan = is_nan(b);
  if (a_nan || b_nan) {
    if (a_nan && b_nan) return ia < ib;
    return descending ? a_nan : b_nan;  // NaN is the largest value
  }
  if (a != b) return descending ? a > b : a < b;
  return ia < ib;
}

template <class A>
__global__ void sort_rows_kernel(const char* x, char* values, int64_t* indices, int dtype, int n, int padded,
                                 bool descending) {
  __shared__ A keys[kSortMax];
  __shared__ int at[kSortMax];
  const int size = itemsize_of(dtype);
  const int64_t row = blockIdx.x;
  for (int i = threadIdx.x; i < padded; i += blockDim.x) {
    keys[i] = i < n ? load_as<A>(x + (row * n + i) * size, dtype) : A(0);
    at[i] = i;
  }
  __syncthreads();
  for (int k = 2; k <= padded; k <<= 1)
    for (int j = k >> 1; j > 0; j >>= 1) {
      for (int i = threadIdx.x; i < padded; i += blockDim.x) {
        const int partner = i ^ j;
        if (partner <= i) continue;
        const bool ascending_run = (i & k) == 0;
        const bool swap = ascending_run ? before(keys[partner], at[partner], keys[i], at[i], n, descending)
                                        : before(keys[i], at[i], keys[partner], at[partner], n, descending);
        if (swap) {
          A key = keys[i];
          keys[i] = keys[partner];
          keys[partner] = key;
          int index = at[i];
          at[i] = at[partner];
          at[partner] = index;
        }
      }
      __syncthreads();
    }
  for (int i = threadIdx.x; i < n; i += blockDim.x) {
    store_as<A>(values + (row * n + i) * size, dtype, keys[i]);
    indices[row * n + i] = at[i];
  }
}

// NaN ranks above every number, as in kernels/cpu/sort.cpp.
template <class A>
__device__ inline bool less_nan_last(A a, A b) {
  return is_nan(b) ? !is_nan(a) : a < b;
}

// Value i's position in its row of `seq` (n long; the one row when shared): the first element not
// below it (lower bound), or above it (right: upper bound).
template <class A>
__global__ void search_kernel(const char* seq, const char* vals, char* out, int dtype, bool out_int32, int64_t n,
                              int64_t m, int64_t total, bool shared, bool right) {
  const int size = itemsize_of(dtype);
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
    const A x = load_as<A>(vals + i * size, dtype);
    const char* row = seq + (shared ? 0 : i / m * n) * size;
    int64_t lo = 0, hi = n;
    while (lo < hi) {
      const int64_t mid = lo + (hi - lo) / 2;
      const A y = load_as<A>(row + mid * size, dtype);
      if (right ? !less_nan_last(x, y) : less_nan_last(y, x))
        lo = mid + 1;
      else
        hi = mid;
    }
    if (out_int32)
      reinterpret_cast<int32_t*>(out)[i] = (int32_t)lo;
    else
      reinterpret_cast<int64_t*>(out)[i] = lo;
  }
}

}  // namespace

void search_rows(const TensorArg& out, const TensorArg& sorted, const TensorArg& values, bool right) {
  const int64_t total = numel(values);
  if (total == 0) return;
  if (values.dtype == kUInt64) unsupported("a search of uint64 tensors");
  const int64_t n = sorted.sizes[sorted.ndim - 1], m = values.ndim ? values.sizes[values.ndim - 1] : 1;
  const bool shared = numel(sorted) == n;
  cudaStream_t s = stream_for(out.device);
  dispatch_compute(values.dtype, [&](auto tag) {
    using A = decltype(tag);
    EMBER_LAUNCH(search_kernel<A>, blocks_for(total), kThreads, s)(sorted.data, values.data, out.data, values.dtype,
                                                                   out.dtype == kInt32, n, m, total, shared, right);
  });
  check_launch("a searchsorted");
}

void sort_rows(const TensorArg& values, const TensorArg& indices, const TensorArg& x, bool descending) {
  const int64_t n = x.ndim ? x.sizes[x.ndim - 1] : 1;
  const int64_t rows = n ? numel(x) / n : 0;
  if (rows == 0) return;
  if (n > kSortMax) unsupported("a sort of rows longer than " + std::to_string(kSortMax));
  if (x.dtype == kUInt64) unsupported("a sort of uint64 tensors");
  int padded = 1;
  while (padded < n) padded <<= 1;
  cudaStream_t s = stream_for(values.device);
  dispatch_compute(x.dtype, [&](auto tag) {
    using A = decltype(tag);
    EMBER_LAUNCH(sort_rows_kernel<A>, (unsigned)rows, kThreads, s)(x.data, values.data, (int64_t*)indices.data, x.dtype,
                                                                   (int)n, padded, descending);
  });
  check_launch("a sort");
}

}  // namespace cuda
}  // namespace ember
