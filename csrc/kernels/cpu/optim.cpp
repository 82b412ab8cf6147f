#include "kernels/cpu/optim.h"
#include "kernels/cuda_dispatch.h"

#include <cmath>

#include "kernels/cpu/loops.h"
#include "kernels/cpu/widen.h"

namespace ember {
namespace kernels {

void sgd_update(const Tensor& p, const Tensor& g, const Tensor& buf, bool first, double lr, double momentum,
                double dampening, double weight_decay, bool nesterov, bool maximize) {
  if (any_storage_only(p, g, buf)) {  // half floats step in float32, on either device
    Widening w;
    sgd_update(w.inout(p), w.in(g), w.inout(buf), first, lr, momentum, dampening, weight_decay, nesterov, maximize);
    return w.finish();
  }
  if (on_cuda(p))
    return cuda_dispatch::sgd_update(p, g, buf, first, lr, momentum, dampening, weight_decay, nesterov, maximize);
  dispatch_floating(p->dtype(), "sgd", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* x = p->data<T>();
    const T* gr = g->data<T>();
    T* b = buf ? buf->data<T>() : nullptr;
    const T wd = (T)weight_decay, mom = (T)momentum, damp = (T)(1.0 - dampening), neg_lr = (T)(-lr);
    const int64_t n = p->numel();
#pragma omp parallel for num_threads(max_threads()) schedule(static) if (n >= kParallelGrain)
    for (int64_t i = 0; i < n; ++i) {
      T d = maximize ? -gr[i] : gr[i];
      if (weight_decay != 0) d = d + wd * x[i];
      if (b) {
        b[i] = first ? d : b[i] * mom + damp * d;
        d = nesterov ? d + mom * b[i] : b[i];
      }
      x[i] = x[i] + neg_lr * d;
    }
  });
}

void adam_update(const Tensor& p, const Tensor& g, const Tensor& m, const Tensor& v, const Tensor& vmax,
                 const AdamScalars& s) {
  if (any_storage_only(p, g, m, v, vmax)) {  // half floats step in float32, on either device
    Widening w;
    adam_update(w.inout(p), w.in(g), w.inout(m), w.inout(v), w.inout(vmax), s);
    return w.finish();
  }
  if (on_cuda(p)) return cuda_dispatch::adam_update(p, g, m, v, vmax, s);
  dispatch_floating(p->dtype(), "adam", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* x = p->data<T>();
    const T* gr = g->data<T>();
    T* ma = m->data<T>();
    T* va = v->data<T>();
    T* vm = vmax ? vmax->data<T>() : nullptr;
    const T w1 = (T)(1.0 - s.beta1), b2 = (T)s.beta2, w2 = (T)(1.0 - s.beta2), wd = (T)s.weight_decay;
    const T decay = (T)(1.0 - s.lr * s.weight_decay), bc2 = (T)s.bias_correction2_sqrt, eps = (T)s.eps;
    const T neg_step = (T)(-(s.lr / s.bias_correction1));
    const int64_t n = p->numel();
#pragma omp parallel for num_threads(max_threads()) schedule(static) if (n >= kParallelGrain)
    for (int64_t i = 0; i < n; ++i) {
      T d = s.maximize ? -gr[i] : gr[i];
      if (s.weight_decay != 0) {
        if (s.decoupled_weight_decay)
          x[i] = x[i] * decay;
        else
          d = d + wd * x[i];
      }
      ma[i] = ma[i] + w1 * (d - ma[i]);  // lerp with weight < 0.5, as PyTorch
      va[i] = va[i] * b2 + w2 * d * d;
      T second = va[i];
      if (vm) {
        vm[i] = vm[i] > va[i] ? vm[i] : va[i];
        second = vm[i];
      }
      const T denom = std::sqrt(second) / bc2 + eps;
      x[i] = x[i] + neg_step * ma[i] / denom;
    }
  });
}

}  // namespace kernels
}  // namespace ember
