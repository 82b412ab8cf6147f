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

// x: (N, C, H, W) contiguous -> cols: (N, C*kh*kw, out_h*out_w), any strides for its first two dims
// (a (K, N, L) buffer seen as (N, K, L) makes the whole batch one (K, N*L) matrix); padding reads 0
void im2col(const Tensor& cols, const Tensor& x, const Conv2dGeometry& g);
// Whether conv2d_forward/backward take x (N, C, H, W): float32 or float64, and a batch that makes enough
// image blocks to keep threads busy (the same answer whatever the thread count)
bool conv2d_by_image_blocks(const Tensor& x, const Conv2dGeometry& g);
// out: (N, O, out_h, out_w) contiguous = weight (O, C*kh*kw) contiguous applied to each image's patches of
// x (N, C, H, W) contiguous, plus bias (O) when given; float32 and float64 (Note [Convolution by image blocks])
void conv2d_forward(const Tensor& out, const Tensor& x, const Tensor& weight, const Tensor& bias,
                    const Conv2dGeometry& g);
// Its gradients from grad_out (N, O, out_h, out_w) contiguous: grad_x (N, C, H, W) and grad_w (O, C*kh*kw),
// each contiguous and written whole, or null when not wanted
void conv2d_backward(const Tensor& grad_x, const Tensor& grad_w, const Tensor& grad_out, const Tensor& x,
                     const Tensor& weight, const Conv2dGeometry& g);
// cols: (N, C*kh*kw, out_h*out_w), strided as im2col's -> x: (N, C, H, W) contiguous, zeroed then summed into
void col2im(const Tensor& x, const Tensor& cols, const Conv2dGeometry& g);
// x: (N, C, H, W) contiguous -> values, indices: (N, C, out_h, out_w); index = h * W + w of the max
// within its plane (PyTorch's convention: the first of equal maxima, the last NaN); padding never wins.
void max_pool2d(const Tensor& values, const Tensor& indices, const Tensor& x, const Conv2dGeometry& g);
// grad_out, indices: (N, C, out_h, out_w) contiguous, as max_pool2d made them -> grad_in: (N, C, H, W)
// contiguous, zeroed then each output's gradient added at its max.
void max_pool2d_backward(const Tensor& grad_in, const Tensor& grad_out, const Tensor& indices);

}  // namespace kernels
}  // namespace ember
