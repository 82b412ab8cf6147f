// Widened operands for the storage dtypes (Note [Storage dtypes], core/dtype.h).
#include "kernels/cpu/widen.h"

#include "kernels/cpu/elementwise.h"
#include "kernels/cuda/backend.h"
#include "kernels/cuda_dispatch.h"

namespace ember {
namespace kernels {

// uint64 computes in int64, which holds it exactly only below 2**63; a larger
// value would come out of the int64 loop as a negative number.
static void check_fits_int64(const Tensor& wide) {
  const int64_t* v = wide->data<int64_t>();
  bool negative = false;
  for (int64_t i = 0, n = wide->numel(); i < n; ++i) negative |= v[i] < 0;
  EMBER_CHECK(!negative, cuda::index_error_text(cuda::kUInt64TooLarge, 0, 0, 0));  // the words of both devices
}

Tensor Widening::in(const Tensor& t) const {
  if (!t || !is_storage_only(t->dtype())) return t;
  Tensor wide = empty(t->sizes(), compute_dtype(t->dtype()), t->device());
  copy(wide, t);
  if (t->dtype() == DType::UInt64) {
    if (wide->device().is_cpu())
      check_fits_int64(wide);
    else
      cuda_dispatch::check_fits_int64(wide);  // on the device: raised at its next wait
  }
  return wide;
}

Tensor Widening::buffer(const Tensor& t, bool keep_values) {
  if (!t || !is_storage_only(t->dtype())) return t;
  Tensor wide = keep_values ? in(t) : empty(t->sizes(), compute_dtype(t->dtype()), t->device());
  writebacks_.emplace_back(t, wide);
  return wide;
}

void Widening::finish() {
  for (auto& [output, wide] : writebacks_) copy(output, wide);
  writebacks_.clear();
}

}  // namespace kernels
}  // namespace ember
