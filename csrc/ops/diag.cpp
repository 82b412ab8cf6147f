// Diagonals and triangles built from views and region writes: diag,
// diag_embed (the gradient reads the diagonal back), tril and triu (a mask).
#include "ops/op_node.h"

namespace ember {

Tensor diag_embed(const Tensor& t, int64_t offset, int64_t dim1, int64_t dim2) {
  EMBER_CHECK(t->dim() >= 1, "diag_embed(): input must have at least 1 dimension");
  const int64_t nd = t->dim() + 1;
  int64_t d1 = wrap_dim(dim1, nd), d2 = wrap_dim(dim2, nd);
  EMBER_CHECK(d1 != d2, "diagonal dimensions cannot be identical ", dim1, ", ", dim2);
  const int64_t n = t->size(t->dim() - 1) + (offset < 0 ? -offset : offset);
  Shape shape(t->sizes().begin(), t->sizes().end() - 1);
  shape.insert(shape.begin() + std::min(d1, d2), n);
  shape.insert(shape.begin() + std::max(d1, d2), n);
  Tensor base = zeros(shape, t->dtype());
  Tensor region;
  {
    NoGradGuard ng;
    region = diagonal(base, offset, d1, d2);  // base is contiguous: its geometry is the region's
  }
  return renamed(region_put(base, t, region->sizes(), region->strides(), region->offset()), "DiagEmbedBackward0");
}

Tensor diag(const Tensor& t, int64_t k) {
  EMBER_CHECK(t->dim() == 1 || t->dim() == 2, "diag(): Supports 1D or 2D tensors. Got ", t->dim(), "D");
  if (t->dim() == 1) return diag_embed(t, k, 0, 1);
  return renamed(clone(diagonal(t, k, 0, 1)), "DiagonalBackward0_copy");
}

// Elements on and below (tril) or on and above (triu) the k-th diagonal of the last two dims; zeros elsewhere.
static Tensor triangle(const Tensor& t, int64_t k, bool lower) {
  const char* op = lower ? "tril" : "triu";
  EMBER_CHECK(t->dim() >= 2, op, ": input tensor must have at least 2 dimensions");
  const int64_t rows = t->size(t->dim() - 2), cols = t->size(t->dim() - 1);
  Tensor mask = empty({rows, cols}, DType::Bool, Device{});  // made on the host, moved to t's device
  bool* m = mask->data<bool>();
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) m[i * cols + j] = lower ? j - i <= k : j - i >= k;
  return renamed(where(moved_to(mask, t->device()), t, zeros({}, t->dtype())),
                 lower ? "TrilBackward0" : "TriuBackward0");
}
Tensor tril(const Tensor& t, int64_t k) { return triangle(t, k, true); }
Tensor triu(const Tensor& t, int64_t k) { return triangle(t, k, false); }

}  // namespace ember
