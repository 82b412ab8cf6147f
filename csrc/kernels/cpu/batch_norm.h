#pragma once
// CPU kernels of batch normalisation in training (batch statistics) over an
// (N, C, S) contiguous input, S the product of the spatial sizes, forward and
// first-order backward (Note [Fused batch norm] in batch_norm.cpp).
#include "core/tensor.h"

namespace ember {
namespace kernels {

// x (N, C, S) contiguous float32/float64 -> out (N, C, S); mean, var (biased)
// and invstd (C) of x's dtype; weight and bias (C) contiguous of x's dtype, or null.
void batch_norm(const Tensor& out, const Tensor& mean, const Tensor& var, const Tensor& invstd, const Tensor& x,
                const Tensor& weight, const Tensor& bias, double eps);

// The gradients of batch_norm from g (N, C, S) contiguous: gx (N, C, S), gw and gb (C); each may be null.
void batch_norm_backward(const Tensor& gx, const Tensor& gw, const Tensor& gb, const Tensor& g, const Tensor& x,
                         const Tensor& mean, const Tensor& invstd, const Tensor& weight);

}  // namespace kernels
}  // namespace ember
