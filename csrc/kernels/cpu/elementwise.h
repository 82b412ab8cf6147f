#pragma once
// CPU elementwise kernels. All take an allocated output (first) and inputs
// already converted to the compute dtype; inputs broadcast to out's shape.
#include "core/tensor.h"

namespace ember {
namespace kernels {

enum class BinaryOp {
  Add,
  Sub,
  Mul,
  Div,
  Pow,
  Maximum,
  Minimum,
  // Fused backward formulas, one pass each (a = incoming gradient, b = saved result):
  ThresholdBackward,  // b > 0 ? a : 0        (relu)
  TanhBackward,       // a * (1 - b * b)
  SigmoidBackward,    // a * b * (1 - b)
  Atan2,
  Igamma,   // P(a, x), floats only
  Igammac,  // Q(a, x), floats only
  // Rounding divisions; integer callers check for zero divisors first.
  FloorDivide,
  TruncDivide,
  Remainder,  // the sign of b (Python's %)
  Fmod,       // the sign of a (C's fmod)
  // Integer and bool dtypes only:
  BitAnd,
  BitOr,
  BitXor,
  ShiftLeft,
  ShiftRight,
  Eq,
  Ne,
  Lt,
  Le,
  Gt,
  Ge,
  LogicalAnd,
  LogicalOr,
  LogicalXor,
};
enum class UnaryOp {
  Neg,
  Abs,
  Sqrt,
  Rsqrt,
  Exp,
  Log,
  Log1p,
  Expm1,
  Sin,
  Cos,
  Tan,
  Tanh,
  Sigmoid,
  Relu,
  Sign,
  Reciprocal,
  Erf,
  Lgamma,  // kernel only: the constant of igamma's gradient
  BitNot,
  LogicalNot,
  IsNan,
  IsInf,
  IsFinite,
  Signbit,
};

bool is_comparison(BinaryOp op);  // output is bool
bool is_predicate(UnaryOp op);    // output is bool

// x: any shape, out: broadcast(a, b) shape
void binary(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b);
void unary(UnaryOp op, const Tensor& out, const Tensor& a);
// dst[i] = src[i] converted to dst's dtype; src broadcast to dst's shape
void copy(const Tensor& dst, const Tensor& src);
void fill(const Tensor& dst, double value);
// out = min(max(a, lo), hi); NaN stays NaN
void clamp(const Tensor& out, const Tensor& a, const double* lo, const double* hi);
// out = cond ? a : b; cond bool, a and b of out's dtype
void where(const Tensor& out, const Tensor& cond, const Tensor& a, const Tensor& b);

}  // namespace kernels
}  // namespace ember
