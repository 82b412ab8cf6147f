#pragma once
// What the unary elementwise ops of arith.cpp and unary_math.cpp share: the
// forward through one elementwise kernel and the two ways a node saves what
// its formula needs.
#include "kernels/cpu/elementwise.h"
#include "ops/op_node.h"

namespace ember {

// 2 / sqrt(pi), erf's derivative at 0 (erfc, erfinv and erfcx's formulas).
inline constexpr double kTwoOverSqrtPi = 1.1283791670955126;

// out = op(t); a float function (`float_op`) of an integer tensor computes in the default float dtype.
Tensor unary_forward(kernels::UnaryOp op, const Tensor& t, bool float_op);
// A unary op whose derivative needs its input (saved as "self").
Tensor unary_with_input(kernels::UnaryOp op, const char* name, Formula fn, const Tensor& t, bool float_op);
// A unary op whose derivative needs its result (saved as "result").
Tensor unary_with_result(kernels::UnaryOp op, const char* name, Formula fn, const Tensor& t);

}  // namespace ember
