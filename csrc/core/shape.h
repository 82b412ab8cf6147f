#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace ember {

using Shape = std::vector<int64_t>;

// The number of elements; RuntimeError for a negative size or an overflow
// (PyTorch's "Storage size calculation overflowed with sizes=[...]").
int64_t shape_numel(const Shape& s);
// numel * itemsize, checked the same way.
size_t storage_bytes(const Shape& s, size_t itemsize);
Shape contiguous_strides(const Shape& sizes);
// Wraps a possibly negative dim into [0, ndim); names the op in the IndexError.
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op = "dim");
// numpy broadcasting; the error names both shapes as PyTorch does.
Shape broadcast_shapes(const Shape& a, const Shape& b);
// Whether a and b broadcast together (broadcast_shapes would not raise).
bool broadcastable(const Shape& a, const Shape& b);
// Strides that read `sizes` from a tensor of shape `src_sizes`/`src_strides` broadcast to it.
Shape broadcast_strides(const Shape& src_sizes, const Shape& src_strides, const Shape& to);
// A bitmask of reduced dims from a dim list (empty list: all dims).
uint64_t dim_mask(const std::vector<int64_t>& dims, int64_t ndim, const char* op);

}  // namespace ember
