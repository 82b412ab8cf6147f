#pragma once
#include "core/tensor.h"

namespace ember {
namespace kernels {

// Negative log-likelihood per sample, the forward of nll_loss.
// x: (N, C) contiguous float; target: (N,) contiguous int64; weight: (C,)
// contiguous, same dtype as x, or null (all ones).
// loss: (N,) = -weight[t] * x[i, t];  wt: (N,) = weight[t]; both 0 where
// target == ignore_index. Throws IndexError for a target outside [0, C).
void nll_loss_forward(const Tensor& loss, const Tensor& wt, const Tensor& x, const Tensor& target, const Tensor& weight,
                      int64_t ignore_index);

}  // namespace kernels
}  // namespace ember
