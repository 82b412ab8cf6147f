#pragma once
// Fused per-parameter optimizer updates: one pass over the parameter, in the
// order of operations of PyTorch's single-tensor implementations so results
// agree to float rounding. All tensors contiguous, same dtype and size.
#include "core/tensor.h"

namespace ember {
namespace kernels {

// p: (n,), g: (n,), buf: (n,) or null when momentum == 0; `first`: buf is new (set, not decayed)
void sgd_update(const Tensor& p, const Tensor& g, const Tensor& buf, bool first, double lr, double momentum,
                double dampening, double weight_decay, bool nesterov, bool maximize);

struct AdamScalars {
  double lr, beta1, beta2, eps, weight_decay, bias_correction1, bias_correction2_sqrt;
  bool amsgrad, maximize, decoupled_weight_decay;
};
// p, g, m, v: (n,); vmax: (n,) when amsgrad else null
void adam_update(const Tensor& p, const Tensor& g, const Tensor& m, const Tensor& v, const Tensor& vmax,
                 const AdamScalars& s);

}  // namespace kernels
}  // namespace ember
