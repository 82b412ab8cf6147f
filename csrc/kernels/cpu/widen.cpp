// Widened operands for the storage dtypes (Note [Storage dtypes], core/dtype.h).
#include "kernels/cpu/widen.h"

#include "kernels/cpu/elementwise.h"

namespace ember {
namespace kernels {

Tensor Widening::in(const Tensor& t) const {
  if (!t || !is_storage_only(t->dtype())) return t;
  Tensor wide = empty(t->sizes(), compute_dtype(t->dtype()));
  copy(wide, t);
  return wide;
}

Tensor Widening::buffer(const Tensor& t, bool keep_values) {
  if (!t || !is_storage_only(t->dtype())) return t;
  Tensor wide = keep_values ? in(t) : empty(t->sizes(), compute_dtype(t->dtype()));
  writebacks_.emplace_back(t, wide);
  return wide;
}

void Widening::finish() {
  for (auto& [output, wide] : writebacks_) copy(output, wide);
  writebacks_.clear();
}

}  // namespace kernels
}  // namespace ember
