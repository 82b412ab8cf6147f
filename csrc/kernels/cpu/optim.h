#pragma once
// Fused per-parameter optimizer updates: one pass over the parameter, in the
// order of operations of PyTorch's single-tensor implementations so results
// agree to float rounding. All tensors contiguous, same dtype and size.
#include <vector>

#include "core/tensor.h"
#include "kernels/cuda/backend.h"

namespace ember {
namespace kernels {

// p: (n,), g: (n,), buf: (n,) or null when momentum == 0; `first`: buf is new (set, not decayed)
void sgd_update(const Tensor& p, const Tensor& g, const Tensor& buf, bool first, double lr, double momentum,
                double dampening, double weight_decay, bool nesterov, bool maximize);

struct AdamScalars {
  double lr, beta1, beta2, eps, weight_decay, bias_correction1, bias_correction2_sqrt;
  bool amsgrad, maximize, decoupled_weight_decay;
  float* step = nullptr;  // a CUDA parameter's count on its device (Note [Capturable steps]); null: the above
  const Tensor* device_lr = nullptr;  // a learning rate on the parameter's device, read there; null: lr above
};
// p, g, m, v: (n,); vmax: (n,) when amsgrad else null
void adam_update(const Tensor& p, const Tensor& g, const Tensor& m, const Tensor& v, const Tensor& vmax,
                 const AdamScalars& s);
// The scalars as the step's elements take them (kernels/cpu/optim_step.h), on either device.
inline cuda::AdamArgs adam_args(const AdamScalars& a) {
  cuda::AdamArgs s;
  s.lr = a.lr, s.beta1 = a.beta1, s.beta2 = a.beta2, s.eps = a.eps, s.weight_decay = a.weight_decay;
  s.bias_correction1 = a.bias_correction1, s.bias_correction2_sqrt = a.bias_correction2_sqrt;
  s.maximize = a.maximize, s.decoupled_weight_decay = a.decoupled_weight_decay;
  return s;
}

// Note [Multi-tensor steps]: the steps of many parameters at once. Each parameter's tensors are contiguous,
// of its dtype and size (buf, vmax null when not used); on a CUDA device, the float32 and float64 ones of
// each device and dtype step in one launch, the others one by one as above.
struct SgdParam {
  Tensor p, g, buf;
  bool first = false;
};
void sgd_update_many(const std::vector<SgdParam>& params, double lr, double momentum, double dampening,
                     double weight_decay, bool nesterov, bool maximize);
struct AdamParam {
  Tensor p, g, m, v, vmax;
  AdamScalars s;
};
void adam_update_many(const std::vector<AdamParam>& params);

}  // namespace kernels
}  // namespace ember
