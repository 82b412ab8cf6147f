#include "kernels/cpu/optim.h"
#include "kernels/cuda_dispatch.h"

#include <map>

#include "core/cuda.h"

#include "kernels/cpu/loops.h"
#include "kernels/cpu/optim_step.h"
#include "kernels/cpu/widen.h"

namespace ember {
namespace kernels {

static cuda::SgdArgs sgd_args(bool first, double lr, double momentum, double dampening, double weight_decay,
                              bool nesterov, bool maximize) {
  cuda::SgdArgs a;
  a.lr = lr, a.momentum = momentum, a.dampening = dampening, a.weight_decay = weight_decay;
  a.nesterov = nesterov, a.maximize = maximize, a.first = first;
  return a;
}

// Whether a parameter steps in a multi-tensor launch: float32 or float64 on a CUDA device, its tensors there.
static bool in_one_launch(const Tensor& p, const Tensor& g) {
  return on_cuda(p) && (p->dtype() == DType::Float32 || p->dtype() == DType::Float64) && g->dtype() == p->dtype();
}

// Note [Multi-tensor steps]: the descriptors of each (device, dtype) group, in the parameters' order.
template <class D>
using Groups = std::map<std::pair<int, int>, std::vector<D>>;

void sgd_update(const Tensor& p, const Tensor& g, const Tensor& buf, bool first, double lr, double momentum,
                double dampening, double weight_decay, bool nesterov, bool maximize) {
  if (any_storage_only(p, g, buf)) {  // half floats step in float32, on either device
    Widening w;
    sgd_update(w.inout(p), w.in(g), w.inout(buf), first, lr, momentum, dampening, weight_decay, nesterov, maximize);
    return w.finish();
  }
  if (on_cuda(p)) {
    EMBER_CHECK(in_one_launch(p, g), "sgd: a gradient of dtype ", dtype_name(g->dtype()), " for a parameter of ",
                dtype_name(p->dtype()));
    return sgd_update_many({{p, g, buf, first}}, lr, momentum, dampening, weight_decay, nesterov, maximize);
  }
  const cuda::SgdArgs a = sgd_args(first, lr, momentum, dampening, weight_decay, nesterov, maximize);
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
  if (on_cuda(p)) {
    EMBER_CHECK(in_one_launch(p, g), "adam: a gradient of dtype ", dtype_name(g->dtype()), " for a parameter of ",
                dtype_name(p->dtype()));
    return adam_update_many({{p, g, m, v, vmax, s}});
  }
  EMBER_CHECK(!s.step && !s.device_lr, "adam: a step count or learning rate on the GPU for a parameter on the CPU");
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

void sgd_update_many(const std::vector<SgdParam>& params, double lr, double momentum, double dampening,
                     double weight_decay, bool nesterov, bool maximize) {
  Groups<cuda::SgdTensors> groups;
  for (const SgdParam& q : params) {
    if (!in_one_launch(q.p, q.g)) {
      sgd_update(q.p, q.g, q.buf, q.first, lr, momentum, dampening, weight_decay, nesterov, maximize);
      continue;
    }
    check_same_device(*q.p, *q.g);
    cuda::SgdTensors t;
    t.p = q.p->raw_data_ptr(), t.g = q.g->raw_data_ptr(), t.buf = q.buf ? q.buf->raw_data_ptr() : nullptr;
    t.n = q.p->numel();
    t.s = sgd_args(q.first, lr, momentum, dampening, weight_decay, nesterov, maximize);
    groups[{q.p->device().index, (int)q.p->dtype()}].push_back(t);
  }
  for (auto& [key, group] : groups) cuda_dispatch::sgd_many(key.first, (DType)key.second, group);
}

void adam_update_many(const std::vector<AdamParam>& params) {
  Groups<cuda::AdamTensors> groups;
  for (const AdamParam& q : params) {
    if (!in_one_launch(q.p, q.g)) {
      adam_update(q.p, q.g, q.m, q.v, q.vmax, q.s);
      continue;
    }
    check_same_device(*q.p, *q.g);
    cuda::AdamTensors t;
    t.p = q.p->raw_data_ptr(), t.g = q.g->raw_data_ptr(), t.m = q.m->raw_data_ptr(), t.v = q.v->raw_data_ptr();
    t.vmax = q.vmax ? q.vmax->raw_data_ptr() : nullptr;
    t.n = q.p->numel();
    t.s = adam_args(q.s);
    t.step = q.s.step;
    if (q.s.device_lr) t.lr = (*q.s.device_lr)->raw_data_ptr(), t.lr_dtype = (int)(*q.s.device_lr)->dtype();
    groups[{q.p->device().index, (int)q.p->dtype()}].push_back(t);
  }
  for (auto& [key, group] : groups) cuda_dispatch::adam_many(key.first, (DType)key.second, group);
}

}  // namespace kernels
}  // namespace ember
