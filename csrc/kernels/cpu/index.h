#pragma once
// Indexing kernels over precomputed element offsets: every gather-like op
// (advanced indexing, gather, index_select) and scatter-like op (index_put,
// scatter_add) reduces to "element (i, r) lives at outer[i] + inner[r]".
#include <vector>

#include "core/tensor.h"

namespace ember {
namespace kernels {

// out: contiguous, numel == outer.size() * inner.size(); out[i, r] = src[outer[i] + inner[r]]
void gather_offsets(const Tensor& out, const Tensor& src, const std::vector<int64_t>& outer,
                    const std::vector<int64_t>& inner);
// values: contiguous, same dtype as dst; dst[outer[i] + inner[r]] (+)= values[i, r].
// Duplicates: the last write wins, or all add up when accumulating.
void scatter_offsets(const Tensor& dst, const Tensor& values, const std::vector<int64_t>& outer,
                     const std::vector<int64_t>& inner, bool accumulate);
// Element offsets (relative to t's first element) of every element of a view
// with t's storage geometry `sizes`/`strides`, in row-major order.
std::vector<int64_t> strided_offsets(const Shape& sizes, const Shape& strides);

}  // namespace kernels
}  // namespace ember
