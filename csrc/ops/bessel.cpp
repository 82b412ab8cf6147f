// Bessel functions and erfcx (torch.i0 and torch.special's), on the kernels of
// kernels/cpu/bessel_math.h (Note [Bessel functions]). i0, i0e, i1, i1e and
// erfcx carry PyTorch's derivatives; the others are not differentiable in
// PyTorch either (their results never require grad).
#include <cmath>

#include "ops/unary.h"

namespace ember {

using kernels::UnaryOp;

// x with its zeros replaced by one, for formulas that divide by x and take a limit at 0.
static Tensor nonzero_or_one(const Tensor& x) { return where(eq(x, num(0.0)), num(1.0), x); }

Tensor i0(const Tensor& t) {
  return unary_with_input(
      UnaryOp::I0, "I0Backward0",
      [](auto& n, variable_list& g) -> variable_list { return {mul(g[0], special_i1(n.saved_at(0)))}; }, t, true);
}
Tensor special_i0e(const Tensor& t) {
  // (e^-|x| I0)' = e^-|x| I1 - sgn(x) e^-|x| I0
  return unary_with_input(
      UnaryOp::I0e, "SpecialI0EBackward0",
      [](auto& n, variable_list& g) -> variable_list {
        Tensor x = n.saved_at(0);
        return {mul(g[0], sub(special_i1e(x), mul(sign(x), special_i0e(x))))};
      },
      t, true);
}
Tensor special_i1(const Tensor& t) {
  // I1' = I0 - I1 / x, 1/2 at 0
  return unary_with_input(
      UnaryOp::I1, "SpecialI1Backward0",
      [](auto& n, variable_list& g) -> variable_list {
        Tensor x = n.saved_at(0);
        Tensor d = sub(i0(x), div(special_i1(x), nonzero_or_one(x)));
        return {mul(g[0], where(eq(x, num(0.0)), num(0.5), d))};
      },
      t, true);
}
Tensor special_i1e(const Tensor& t) {
  // (e^-|x| I1)' = e^-|x| I0 - e^-|x| I1 (sgn(x) + 1/x), 1/2 at 0
  return unary_with_input(
      UnaryOp::I1e, "SpecialI1EBackward0",
      [](auto& n, variable_list& g) -> variable_list {
        Tensor x = n.saved_at(0);
        Tensor d = sub(special_i0e(x), mul(special_i1e(x), add(sign(x), reciprocal(nonzero_or_one(x)))));
        return {mul(g[0], where(eq(x, num(0.0)), num(0.5), d))};
      },
      t, true);
}
Tensor special_erfcx(const Tensor& t) {
  // erfcx' = 2 x erfcx(x) - 2 / sqrt(pi)
  return unary_with_input(
      UnaryOp::Erfcx, "SpecialErfcxBackward0",
      [](auto& n, variable_list& g) -> variable_list {
        Tensor x = n.saved_at(0);
        return {mul(g[0], sub(mul(mul(x, special_erfcx(x)), num(2.0)), num(kTwoOverSqrtPi)))};
      },
      t, true);
}

Tensor bessel_j0(const Tensor& t) { return unary_forward(UnaryOp::BesselJ0, t, true); }
Tensor bessel_j1(const Tensor& t) { return unary_forward(UnaryOp::BesselJ1, t, true); }
Tensor bessel_y0(const Tensor& t) { return unary_forward(UnaryOp::BesselY0, t, true); }
Tensor bessel_y1(const Tensor& t) { return unary_forward(UnaryOp::BesselY1, t, true); }
Tensor modified_bessel_i0(const Tensor& t) { return unary_forward(UnaryOp::I0, t, true); }
Tensor modified_bessel_i1(const Tensor& t) { return unary_forward(UnaryOp::I1, t, true); }
Tensor modified_bessel_k0(const Tensor& t) { return unary_forward(UnaryOp::ModifiedBesselK0, t, true); }
Tensor modified_bessel_k1(const Tensor& t) { return unary_forward(UnaryOp::ModifiedBesselK1, t, true); }
Tensor scaled_modified_bessel_k0(const Tensor& t) { return unary_forward(UnaryOp::ScaledModifiedBesselK0, t, true); }
Tensor scaled_modified_bessel_k1(const Tensor& t) { return unary_forward(UnaryOp::ScaledModifiedBesselK1, t, true); }
Tensor airy_ai(const Tensor& t) { return unary_forward(UnaryOp::AiryAi, t, true); }
Tensor spherical_bessel_j0(const Tensor& t) { return unary_forward(UnaryOp::SphericalBesselJ0, t, true); }

}  // namespace ember
