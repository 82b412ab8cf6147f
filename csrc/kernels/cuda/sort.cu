// Sorting rows on the device (sort, argsort, msort, topk, kthvalue, median):
// one block per chunk of kSortMax elements, a bitonic network in shared memory
// over (value, index) pairs; longer rows then merge their sorted chunks in
// passes of doubling width. Searching sorted rows (searchsorted, bucketize): a
// binary search per value. The index breaks ties, so the order is the stable
// one of the CPU's kernels/cpu/sort.cpp: NaN after every number ascending,
// before them descending.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace ember {
namespace cuda {
namespace {

constexpr int kSortMax = 2048;  // a chunk's pairs in shared memory: 2048 x (8 + 4) bytes

// Whether (a, ia) comes before (b, ib). No two elements of a row share an index, so this is a strict total order.
template <class A>
__device__ inline bool before(A a, int64_t ia, A b, int64_t ib, bool descending) {
  const bool a_nan = is_nan(a), b_nan = is_nan(b);
  if (a_nan || b_nan) {
    if (a_nan && b_nan) return ia < ib;
    return descending ? a_nan : b_nan;  // NaN is the largest value
  }
  if (a != b) return descending ? a > b : a < b;
  return ia < ib;
}

// Sorts each chunk of kSortMax elements of each row (block b: row b / chunks, chunk b % chunks). Rows of one
// chunk write the result (values in the dtype); longer rows write keys in the compute type A for the merges.
template <class A>
__global__ void sort_chunks_kernel(const char* x, int dtype, int64_t n, int64_t chunks, bool descending, char* values,
                                   A* keys_out, int64_t* indices) {
  __shared__ A keys[kSortMax];
  __shared__ int at[kSortMax];  // a place in the chunk; places at or past `len` are padding, after everything
  const int size = itemsize_of(dtype);
  const int64_t row = blockIdx.x / chunks, first = blockIdx.x % chunks * kSortMax;
  const int len = (int)(n - first < kSortMax ? n - first : kSortMax);
  int padded = 1;
  while (padded < len) padded <<= 1;
  const int64_t base = row * n + first;
  for (int i = threadIdx.x; i < padded; i += blockDim.x) {
    keys[i] = i < len ? load_as<A>(x + (base + i) * size, dtype) : A(0);
    at[i] = i;
  }
  __syncthreads();
  for (int k = 2; k <= padded; k <<= 1)
    for (int j = k >> 1; j > 0; j >>= 1) {
      for (int i = threadIdx.x; i < padded; i += blockDim.x) {
        const int partner = i ^ j;
        if (partner <= i) continue;
        // (lo, hi): the pair's places in the order this run wants
        const int lo = (i & k) == 0 ? i : partner, hi = lo == i ? partner : i;
        const bool in_order = at[hi] >= len || (at[lo] < len && before(keys[lo], at[lo], keys[hi], at[hi], descending));
        if (!in_order) {
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
  for (int i = threadIdx.x; i < len; i += blockDim.x) {
    if (keys_out)
      keys_out[base + i] = keys[i];
    else
      store_as<A>(values + (base + i) * size, dtype, keys[i]);
    indices[base + i] = first + at[i];
  }
}

// One merge pass over rows of sorted runs `width` long: runs 2r and 2r+1 become one. An element's place in the
// merged run is its place in its own run plus the number of the partner run's elements that come before it.
// The last pass (values set) writes the result in the dtype.
template <class A>
__global__ void merge_runs_kernel(const A* keys, const int64_t* at, int64_t n, int64_t width, int64_t total,
                                  bool descending, A* keys_out, int64_t* at_out, char* values, int dtype) {
  for (int64_t k = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; k < total; k += (int64_t)gridDim.x * blockDim.x) {
    const int64_t row = k / n * n, p = k % n, run = p / width, start = run * width;
    const bool left = (run & 1) == 0;
    const int64_t from = left ? start + width : start - width;
    int64_t lo = from, hi = left ? from + width : start;
    if (hi > n) hi = n;
    const A key = keys[k];
    const int64_t index = at[k];
    while (lo < hi) {  // the first partner element not before this one
      const int64_t mid = lo + (hi - lo) / 2;
      if (before(keys[row + mid], at[row + mid], key, index, descending))
        lo = mid + 1;
      else
        hi = mid;
    }
    const int64_t place = row + (left ? start : from) + (p - start) + (lo > from ? lo - from : 0);
    if (values)
      store_as<A>(values + place * itemsize_of(dtype), dtype, key);
    else
      keys_out[place] = key;
    at_out[place] = index;
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

// The compute type of a sort: dispatch_compute's, but uint64 compares as itself (its values from 2**63 up are
// not int64's order).
template <class F>
void dispatch_sortable(int dtype, F&& f) {
  if (dtype == kUInt64)
    f(uint64_t());
  else
    dispatch_compute(dtype, f);
}

}  // namespace

void search_rows(const TensorArg& out, const TensorArg& sorted, const TensorArg& values, bool right) {
  const int64_t total = numel(values);
  if (total == 0) return;
  const int64_t n = sorted.sizes[sorted.ndim - 1], m = values.ndim ? values.sizes[values.ndim - 1] : 1;
  const bool shared = numel(sorted) == n;
  cudaStream_t s = stream_for(out.device);
  dispatch_sortable(values.dtype, [&](auto tag) {
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
  const int64_t chunks = (n + kSortMax - 1) / kSortMax, total = rows * n;
  cudaStream_t s = stream_for(values.device);
  auto* out_at = reinterpret_cast<int64_t*>(indices.data);
  dispatch_sortable(x.dtype, [&](auto tag) {
    using A = decltype(tag);
    if (chunks == 1) {
      EMBER_LAUNCH(sort_chunks_kernel<A>, (unsigned)rows, kThreads, s)(x.data, x.dtype, n, 1, descending, values.data,
                                                                       nullptr, out_at);
      return;
    }
    // Keys and places in two halves of scratch, passed back and forth by the merges.
    Scratch keys(2 * total * sizeof(A), values.device), places(2 * total * sizeof(int64_t), values.device);
    A* key_buf[2] = {static_cast<A*>(keys.data), static_cast<A*>(keys.data) + total};
    int64_t* at_buf[2] = {static_cast<int64_t*>(places.data), static_cast<int64_t*>(places.data) + total};
    EMBER_LAUNCH(sort_chunks_kernel<A>, (unsigned)(rows * chunks), kThreads, s)(x.data, x.dtype, n, chunks, descending,
                                                                                nullptr, key_buf[0], at_buf[0]);
    int from = 0;
    for (int64_t width = kSortMax; width < n; width <<= 1, from ^= 1) {
      const bool last = width * 2 >= n;
      EMBER_LAUNCH(merge_runs_kernel<A>, blocks_for(total), kThreads, s)(
          key_buf[from], at_buf[from], n, width, total, descending, key_buf[from ^ 1], last ? out_at : at_buf[from ^ 1],
          last ? values.data : nullptr, x.dtype);
    }
  });
  check_launch("a sort");
}

}  // namespace cuda
}  // namespace ember
