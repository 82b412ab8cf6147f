#pragma once
// CPU kernels of softmax and log_softmax and their gradients, each one pass
// over a (outer, n, inner) layout, normalising along the middle dim (Note
// [Fused softmax] in softmax.cpp).
#include "core/tensor.h"

namespace ember {
namespace kernels {

enum class SoftmaxKind {
  Softmax,
  LogSoftmax,
  SafeSoftmax,  // softmax, and zeros for a slice of -inf only (PyTorch's _safe_softmax)
};

// x: (outer, n, inner) contiguous float32 or float64 -> out: same shape and
// dtype, contiguous. SafeSoftmax takes inner == 1 only.
void softmax(const Tensor& out, const Tensor& x, int64_t outer, int64_t n, int64_t inner, SoftmaxKind kind);

// The gradient of softmax (log: of log_softmax) from its result y and the
// incoming gradient g, all (outer, n, inner) contiguous of one float dtype:
// softmax: gx = y * (g - sum(g * y)); log_softmax: gx = g - exp(y) * sum(g).
void softmax_backward(const Tensor& gx, const Tensor& g, const Tensor& y, int64_t outer, int64_t n, int64_t inner,
                      bool log);

}  // namespace kernels
}  // namespace ember
