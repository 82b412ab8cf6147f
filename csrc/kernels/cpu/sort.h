#pragma once
// CPU kernels of sorting and searching: each works on rows of contiguous
// tensors (the caller moves the dim of interest last).
#include <vector>

#include "core/tensor.h"

namespace ember {
namespace kernels {

// x: (rows, n) contiguous -> values (x's dtype) and indices (int64), (rows, n)
// contiguous: each row sorted stably, NaN after every number (before, descending).
void sort_rows(const Tensor& values, const Tensor& indices, const Tensor& x, bool descending);
// sorted: (R, n) contiguous, R 1 (shared by every row of values) or values' rows;
// values: (rows, m) contiguous of sorted's dtype -> out (rows, m) int64 or int32:
// the insertion point of each value (after equal ones when `right`).
void search_rows(const Tensor& out, const Tensor& sorted, const Tensor& values, bool right);
// out[i] = elements[i] is one of test (both contiguous, of one dtype); out bool.
void isin(const Tensor& out, const Tensor& elements, const Tensor& test, bool invert);

}  // namespace kernels
}  // namespace ember

namespace ember {
namespace kernels {
// x: (n, L) contiguous rows. order: the rows sorted lexicographically and
// stably (as they are when `consecutive`); starts[j]: order[j] begins a new
// run of equal rows.
void unique_rows(const Tensor& x, bool consecutive, std::vector<int64_t>& order, std::vector<char>& starts);
}  // namespace kernels
}  // namespace ember
