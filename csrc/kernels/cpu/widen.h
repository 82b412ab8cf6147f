// The kernels' half of Note [Storage dtypes] (core/dtype.h): a kernel called
// with uint8/int8/int16/float16/bfloat16 tensors runs its compute-dtype loop
// on widened copies and narrows its outputs back.
#pragma once
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace ember {
namespace kernels {

template <class... T>
bool any_storage_only(const T&... tensors) {
  return (... || (tensors && is_storage_only(tensors->dtype())));
}

// One kernel call's widened operands. Inputs become contiguous copies in
// their compute dtype; outputs get a compute-dtype buffer that finish()
// narrows into them (inout() also starts the buffer from the output's
// values, for kernels that read what they write). Null tensors and compute
// dtypes pass through unchanged.
class Widening {
 public:
  Tensor in(const Tensor& t) const;
  Tensor out(const Tensor& t) { return buffer(t, false); }
  Tensor inout(const Tensor& t) { return buffer(t, true); }
  void finish();

 private:
  Tensor buffer(const Tensor& t, bool keep_values);
  std::vector<std::pair<Tensor, Tensor>> writebacks_;  // (output, its buffer)
};

}  // namespace kernels
}  // namespace ember
