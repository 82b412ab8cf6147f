#include "kernels/cpu/optim.h"
#include "kernels/cuda_dispatch.h"

#include "kernels/cpu/loops.h"
#include "kernels/cpu/optim_step.h"
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
  cuda::SgdArgs a;
  a.lr = lr, a.momentum = momentum, a.dampening = dampening, a.weight_decay = weight_decay;
  a.nesterov = nesterov, a.maximize = maximize, a.first = first;
  dispatch_floating(p->dtype(), "sgd", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* x = p->data<T>();
    const T* gr = g->data<T>();
    T* b = buf ? buf->data<T>() : nullptr;
    const int64_t n = p->numel();
    const cuda::SgdStep<T> step(a);
    // (firstprivate: each thread's own copy of the scalars, which no store through x can alias)
#pragma omp parallel for num_threads(max_threads()) schedule(static) if (n >= kParallelGrain) firstprivate(step)
    for (int64_t i = 0; i < n; ++i) step(x, gr, b, i);
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
  cuda::AdamArgs a = adam_args(s);
  dispatch_floating(p->dtype(), "adam", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* x = p->data<T>();
    const T* gr = g->data<T>();
    T* ma = m->data<T>();
    T* va = v->data<T>();
    T* vm = vmax ? vmax->data<T>() : nullptr;
    const int64_t n = p->numel();
    // (firstprivate: as sgd's)
#pragma omp parallel for num_threads(max_threads()) schedule(static) if (n >= kParallelGrain) firstprivate(a)
    for (int64_t i = 0; i < n; ++i) cuda::adam_element(x, gr, ma, va, vm, i, a);
  });
}

}  // namespace kernels
}  // namespace ember
