#pragma once
// What the broadcasting binary ops of arith.cpp and special.cpp share: the
// forward through one elementwise kernel, and the gradient's reduction back
// to each input's shape.
#include "kernels/cpu/elementwise.h"
#include "ops/op_node.h"

namespace ember {

// out = op(a, b) with a and b converted to `compute`; out of `out_dtype`, broadcast shape.
Tensor binary_forward(kernels::BinaryOp op, const Tensor& a, const Tensor& b, DType compute, DType out_dtype);
// The same for a float-only function: integer and bool inputs compute in the default float dtype.
Tensor binary_forward_float(kernels::BinaryOp op, const Tensor& a, const Tensor& b);

// Note [Half-float arithmetic]: PyTorch's CPU kernels compute float16 and bfloat16 in float and
// round once per op; ember's kernels do too (Note [Storage dtypes]), but a composite of ops would
// round after each. So lerp, addcmul/addcdiv and add/sub with an alpha compute their half-float
// results in float32 and round once (alpha itself rounded to the result's dtype first, as
// PyTorch's add does), and mul and the divisions keep a number or 0-d operand in float (PyTorch's opmath
// scalar: x * 0.1 is x * 0.1f rounded once, not x * bfloat16(0.1)); add and sub round it first.
inline bool is_half_float(DType d) { return d == DType::Float16 || d == DType::BFloat16; }
// t as float32 when it is half-float (its values are exact there), else t.
Tensor widened_half(const Tensor& t);
// b as the kernel of `op` computing in `compute` reads it: a scalar of a half-float mul or division stays float32.
// alpha as PyTorch's half-float add reads it: rounded to the result's dtype `d` (PyTorch's error when it overflows).
double rounded_alpha(double alpha, DType d);
Tensor binary_operand(kernels::BinaryOp op, const Tensor& b, DType compute);

// PyTorch's RuntimeError for a bool operand of sub/sub_/rsub (it points at `~` and `^` instead).
void check_sub_operands(const Tensor& a, const Tensor& b);

// Raises ZeroDivisionError when an integer division (compute dtype not floating) would divide by
// zero, looking at the divisor as the kernel will see it (cast to `compute`).
void check_integer_divisor(const Tensor& b, DType compute);

// Broadcasting binary ops sum each input's gradient back to that input's
// shape; when both inputs had the output's shape (the common case) there is
// nothing to sum, and no shape is copied.
struct Broadcast {
  bool same_shapes = true;
  Shape self_sizes, other_sizes;

  void remember(const Tensor& a, const Tensor& b) {
    same_shapes = a->sizes() == b->sizes();
    if (same_shapes) return;
    self_sizes = a->sizes();
    other_sizes = b->sizes();
  }
  // The gradient of input i (0 or 1), summed back to its shape.
  Tensor grad(const Tensor& g, int i) const { return same_shapes ? g : sum_to(g, i ? other_sizes : self_sizes); }
};

// The State of a broadcasting binary op's node (Note [Node state]).
struct BinaryState {
  Broadcast bc;
  void fields(StateFields&) const {}
};

}  // namespace ember
