// Fused optimizer steps: ember.optim calls these with a whole parameter group.
// They run outside autograd and bump each written tensor's version.
#include <cmath>

#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/optim.h"
#include "ops/op_node.h"

namespace ember {

static void check_pair(const Tensor& p, const Tensor& other, const char* what, const char* op) {
  EMBER_CHECK(other && other->sizes() == p->sizes() && other->dtype() == p->dtype(), op, ": ", what, " of shape ",
              other ? detail::cat(other->sizes()) : std::string("None"), " does not match the parameter's shape ",
              detail::cat(p->sizes()), " and dtype ", dtype_name(p->dtype()));
  EMBER_CHECK(other->is_contiguous(), op, ": ", what, " must be contiguous");
}

// Runs `update` on a contiguous parameter, through a contiguous copy if needed.
template <class F>
static void on_contiguous(const Tensor& p, F update) {
  if (p->is_contiguous()) {
    update(p);
  } else {
    Tensor c = contiguous(detach(p));
    update(c);
    NoGradGuard ng;
    Tensor target = detach(p);
    kernels::copy(target, c);
  }
  p->bump_version();
}

TensorList sgd_step_(const TensorList& params, const TensorList& grads, TensorList bufs, double lr, double momentum,
                     double dampening, double weight_decay, bool nesterov, bool maximize) {
  EMBER_CHECK(grads.size() == params.size() && bufs.size() == params.size(),
              "sgd: expected as many grads and momentum "
              "buffers as params, got ",
              params.size(), ", ", grads.size(), " and ", bufs.size());
  NoGradGuard ng;
  std::vector<kernels::SgdParam> together;  // contiguous parameters: one multi-tensor step (Note [Multi-tensor steps])
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& p = params[i];
    Tensor g = contiguous(detach(grads[i]));
    EMBER_CHECK(g->sizes() == p->sizes() && g->dtype() == p->dtype(), "sgd: gradient of shape ",
                detail::cat(g->sizes()), " does not match the parameter's shape ", detail::cat(p->sizes()));
    bool first = false;
    if (momentum != 0) {
      if (!bufs[i]) {
        bufs[i] = empty(p->sizes(), p->dtype(), p->device());
        first = true;
      }
      check_pair(p, bufs[i], "momentum buffer", "sgd");
    }
    const Tensor buf = momentum != 0 ? bufs[i] : Tensor();
    if (p->is_contiguous()) {
      together.push_back({p, g, buf, first});
      p->bump_version();
    } else {
      on_contiguous(p, [&](const Tensor& pc) {
        kernels::sgd_update(pc, g, buf, first, lr, momentum, dampening, weight_decay, nesterov, maximize);
      });
    }
    if (bufs[i]) bufs[i]->bump_version();
  }
  kernels::sgd_update_many(together, lr, momentum, dampening, weight_decay, nesterov, maximize);
  return bufs;
}

void adam_step_(const TensorList& params, const TensorList& grads, const TensorList& exp_avgs,
                const TensorList& exp_avg_sqs, const TensorList& max_exp_avg_sqs, const std::vector<int64_t>& steps,
                const TensorList& device_steps, const AdamOptions& o, const Tensor& device_lr) {
  size_t n = params.size();
  EMBER_CHECK(grads.size() == n && exp_avgs.size() == n && exp_avg_sqs.size() == n && steps.size() == n &&
                  (!o.amsgrad || max_exp_avg_sqs.size() == n) && (device_steps.empty() || device_steps.size() == n),
              "adam: expected one grad, state and step per param");
  NoGradGuard ng;
  std::vector<kernels::AdamParam> together;  // contiguous parameters: one multi-tensor step (Note [Multi-tensor steps])
  for (size_t i = 0; i < n; ++i) {
    const Tensor& p = params[i];
    Tensor g = contiguous(detach(grads[i]));
    EMBER_CHECK(g->sizes() == p->sizes() && g->dtype() == p->dtype(), "adam: gradient of shape ",
                detail::cat(g->sizes()), " does not match the parameter's shape ", detail::cat(p->sizes()));
    check_pair(p, exp_avgs[i], "exp_avg", "adam");
    check_pair(p, exp_avg_sqs[i], "exp_avg_sq", "adam");
    if (o.amsgrad) check_pair(p, max_exp_avg_sqs[i], "max_exp_avg_sq", "adam");
    if (device_lr)
      EMBER_CHECK(device_lr->device() == p->device() && device_lr->numel() == 1 && device_lr->is_contiguous() &&
                      (device_lr->dtype() == DType::Float32 || device_lr->dtype() == DType::Float64),
                  "adam: a tensor lr on the GPU must be a float32 or float64 tensor of one element on the parameter's "
                  "device, got ",
                  dtype_name(device_lr->dtype()), " of shape ", detail::cat(device_lr->sizes()), " on ",
                  device_lr->device().str(), " for a parameter on ", p->device().str());
    const Tensor step = device_steps.empty() ? Tensor() : device_steps[i];
    if (step) {
      EMBER_CHECK(step->device() == p->device() && p->device().type == DeviceType::CUDA &&
                      step->dtype() == DType::Float32 && step->numel() == 1 && step->is_contiguous(),
                  "adam: a step count on the device must be a float32 tensor of one element on the parameter's "
                  "CUDA device, got ",
                  dtype_name(step->dtype()), " of shape ", detail::cat(step->sizes()), " on ", step->device().str(),
                  " for a parameter on ", p->device().str());
    } else {
      EMBER_CHECK(steps[i] >= 1, "adam: step counts start at 1, got ", steps[i]);
    }
    kernels::AdamScalars s{o.lr,
                           o.beta1,
                           o.beta2,
                           o.eps,
                           o.weight_decay,
                           1.0 - std::pow(o.beta1, (double)steps[i]),
                           std::sqrt(1.0 - std::pow(o.beta2, (double)steps[i])),
                           o.amsgrad,
                           o.maximize,
                           o.decoupled_weight_decay,
                           step ? reinterpret_cast<float*>(step->raw_data_ptr()) : nullptr,
                           device_lr ? &device_lr : nullptr};
    if (step) step->bump_version();
    const Tensor vmax = o.amsgrad ? max_exp_avg_sqs[i] : Tensor();
    if (p->is_contiguous()) {
      together.push_back({p, g, exp_avgs[i], exp_avg_sqs[i], vmax, s});
      p->bump_version();
    } else {
      on_contiguous(p, [&](const Tensor& pc) { kernels::adam_update(pc, g, exp_avgs[i], exp_avg_sqs[i], vmax, s); });
    }
    exp_avgs[i]->bump_version();
    exp_avg_sqs[i]->bump_version();
    if (o.amsgrad) max_exp_avg_sqs[i]->bump_version();
  }
  kernels::adam_update_many(together);
}

}  // namespace ember
