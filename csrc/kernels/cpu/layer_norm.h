#pragma once
// CPU kernels of layer normalisation over the last `cols` values of each of
// `rows` rows, forward and first-order backward (Note [Fused layer norm] in
// layer_norm.cpp).
#include "core/tensor.h"

namespace ember {
namespace kernels {

// x (rows, cols) contiguous float32/float64 -> out (rows, cols), mean and rstd
// (rows) of x's dtype; weight and bias (cols) contiguous of x's dtype, or null.
void layer_norm(const Tensor& out, const Tensor& mean, const Tensor& rstd, const Tensor& x, const Tensor& weight,
                const Tensor& bias, double eps);

// The gradients of layer_norm from g (rows, cols) contiguous: gx (rows, cols),
// and when not null gw and gb (cols).
void layer_norm_backward(const Tensor& gx, const Tensor& gw, const Tensor& gb, const Tensor& g, const Tensor& x,
                         const Tensor& mean, const Tensor& rstd, const Tensor& weight);

}  // namespace kernels
}  // namespace ember
