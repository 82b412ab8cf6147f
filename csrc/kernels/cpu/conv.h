#pragma once
// Convolution and pooling kernels over (N, C, H, W) images.
#include "core/tensor.h"

namespace ember {
namespace kernels {

struct Conv2dGeometry {
  int64_t channels, height, width;  // input plane
  int64_t kh, kw, sh, sw, ph, pw, dh, dw;
  int64_t out_h, out_w;
};

// x: (N, C, H, W) contiguous -> cols: (N, C*kh*kw, out_h*out_w) contiguous; padding reads 0
void im2col(const Tensor& cols, const Tensor& x, const Conv2dGeometry& g);
// cols: (N, C*kh*kw, out_h*out_w) contiguous -> x: (N, C, H, W) contiguous, zeroed then summed into
void col2im(const Tensor& x, const Tensor& cols, const Conv2dGeometry& g);
// x: (N, C, H, W) contiguous -> values, indices: (N, C, out_h, out_w); index = h * W + w of the max
// within its plane (PyTorch's convention); padding never wins; NaN propagates.
void max_pool2d(const Tensor& values, const Tensor& indices, const Tensor& x, const Conv2dGeometry& g);

}  // namespace kernels
}  // namespace ember
