#pragma once
// Indexing kernels over precomputed element offsets: every gather-like op
// (advanced indexing, gather, index_select) and scatter-like op (index_put,
// scatter_add) reduces to "element (i, r) lives at outer[i] + inner[r]".
// The outer offsets are an int64 tensor on the indexed tensor's device, made
// from the index tensors there (index_offsets), so a CUDA index is never read
// on the host (Note [Deferred index errors]).
#include <vector>

#include "core/tensor.h"
#include "kernels/cuda/backend.h"

namespace ember {
namespace kernels {

// offsets (contiguous int64, index's shape) from index (contiguous int64), as backend.h's IndexArgs
// says: offsets[i] = (add ? offsets[i] : the offset of place i under place_strides) + index[i] * stride.
// An index out of range raises here on the CPU (the kind's exception and words), at the device's next
// wait on CUDA. (On the CPU, tensors of any number of dims; CUDA kernels take up to cuda::kMaxDims.)
struct IndexBounds {
  int64_t size = 0, stride = 0, dim = 0;
  int kind = cuda::kIndexWrapping;
  bool add = false;
  Shape place_strides;  // empty: every place at offset 0
};
void index_offsets(const Tensor& offsets, const Tensor& index, const IndexBounds& a);
// out: contiguous, numel == outer.numel() * inner.size(); out[i, r] = src[outer[i] + inner[r]]
void gather_offsets(const Tensor& out, const Tensor& src, const Tensor& outer, const std::vector<int64_t>& inner);
// values: contiguous, same dtype as dst; dst[outer[i] + inner[r]] (+)= values[i, r].
// Duplicates: the last write wins, or all add up when accumulating.
void scatter_offsets(const Tensor& dst, const Tensor& values, const Tensor& outer, const std::vector<int64_t>& inner,
                     bool accumulate);
// Element offsets (relative to t's first element) of every element of a view
// with t's storage geometry `sizes`/`strides`, in row-major order.
std::vector<int64_t> strided_offsets(const Shape& sizes, const Shape& strides);

}  // namespace kernels
}  // namespace ember
