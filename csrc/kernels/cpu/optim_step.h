#pragma once
// Element i of the fused optimizer steps, in the order of operations of
// PyTorch's single-tensor implementations: written once for the CPU loops of
// kernels/cpu/optim.cpp and the CUDA kernels of kernels/cuda/optim.cu (and
// their host emulation), so both devices step alike.
#include <cmath>
#include <cstdint>

#include "kernels/cuda/backend.h"

#ifndef EMBER_HD
#ifdef __CUDACC__
#define EMBER_HD __host__ __device__
#else
#define EMBER_HD
#endif
#endif

namespace ember {
namespace cuda {

#ifndef __CUDACC__
using std::sqrt;
#endif

// SGD's scalars in the parameter's dtype, made once per loop (or thread): the step of element i.
template <class T>
struct SgdStep {
  T wd, mom, damp, neg_lr, sign;  // sign: -1 to maximize (a product by +-1 is exact; it vectorizes better)
  bool decay, first, nesterov;
  EMBER_HD explicit SgdStep(const SgdArgs& s)
      : wd((T)s.weight_decay),
        mom((T)s.momentum),
        damp((T)(1.0 - s.dampening)),
        neg_lr((T)(-s.lr)),
        sign(s.maximize ? T(-1) : T(1)),
        decay(s.weight_decay != 0),
        first(s.first),
        nesterov(s.nesterov) {}
  EMBER_HD void operator()(T* x, const T* gr, T* b, int64_t i) const {
    T d = sign * gr[i];
    if (decay) d = d + wd * x[i];
    if (b) {
      b[i] = first ? d : b[i] * mom + damp * d;
      d = nesterov ? d + mom * b[i] : b[i];
    }
    x[i] = x[i] + neg_lr * d;
  }
};

template <class T>
EMBER_HD inline void adam_element(T* x, const T* gr, T* ma, T* va, T* vm, int64_t i, const AdamArgs& s) {
  const T w1 = (T)(1.0 - s.beta1), b2 = (T)s.beta2, w2 = (T)(1.0 - s.beta2), wd = (T)s.weight_decay;
  const T decay = (T)(1.0 - s.lr * s.weight_decay), bc2 = (T)s.bias_correction2_sqrt, eps = (T)s.eps;
  const T neg_step = (T)(-(s.lr / s.bias_correction1));
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
  const T denom = sqrt(second) / bc2 + eps;
  x[i] = x[i] + neg_step * ma[i] / denom;
}

}  // namespace cuda
}  // namespace ember
