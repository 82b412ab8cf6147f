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
  // Float dtypes only (callers promote integers):
  Hypot,
  LogAddExp,   // log(e^a + e^b)
  LogAddExp2,  // log2(2^a + 2^b)
  Xlogy,       // a * log(b), 0 where a == 0 (NaN b stays NaN)
  Xlog1py,     // a * log1p(b), 0 where a == 0
  Zeta,        // Hurwitz zeta(a, b)
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
  Lgamma,
  // Rounding: integers pass through unchanged.
  Floor,
  Ceil,
  Trunc,
  Round,  // half to even
  Frac,   // x - trunc(x), floats only
  // Float dtypes only (callers promote integers):
  Asin,
  Acos,
  Atan,
  Sinh,
  Cosh,
  Asinh,
  Acosh,
  Atanh,
  Log2,
  Log10,
  Exp2,
  Erfc,
  Erfinv,
  Digamma,
  // Bessel and related functions (Note [Bessel functions]); floats only
  I0,
  I0e,
  I1,
  I1e,
  Erfcx,
  BesselJ0,
  BesselJ1,
  BesselY0,
  BesselY1,
  ModifiedBesselK0,
  ModifiedBesselK1,
  ScaledModifiedBesselK0,
  ScaledModifiedBesselK1,
  AiryAi,
  SphericalBesselJ0,
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
