// Elementwise math beyond arith.cpp: atan2, the rounding divisions
// (floor_divide, remainder, fmod) and the incomplete gamma functions.
#include <cmath>

#include "ops/binary.h"

namespace ember {

using kernels::BinaryOp;

static Tensor num(double v) { return wrapped_scalar(v, DType::Float64); }

namespace {  // a State is private to its op's file (Note [Node state])
struct BinaryState {
  Broadcast bc;
  void fields(StateFields&) const {}
};
}  // namespace

// The float dtype a float-only function of a and b computes in (integers promote to the default float).
static DType float_result(const Tensor& a, const Tensor& b) {
  DType rt = result_type(a, b);
  return is_floating(rt) ? rt : kDefaultFloat;
}

Tensor atan2(const Tensor& a, const Tensor& b) {
  DType rt = float_result(a, b);
  Tensor out = binary_forward(BinaryOp::Atan2, a, b, rt, rt);
  auto n = make_node<BinaryState>("Atan2Backward0", {&a, &b}, [](auto& n, variable_list& g) -> variable_list {
    Tensor y = n.saved_at(0), x = n.saved_at(1);
    // d/dy = x / (x^2 + y^2), d/dx = -y / (x^2 + y^2); 0 at the origin, as PyTorch.
    Tensor r2 = add(mul(x, x), mul(y, y));
    Tensor at_origin = eq(r2, num(0.0)), safe = where(at_origin, num(1.0), r2);
    Tensor zero = zeros({}, g[0]->dtype());
    Tensor gy, gx;
    if (n.needs(0)) gy = n.state.bc.grad(where(at_origin, zero, div(mul(g[0], x), safe)), 0);
    if (n.needs(1)) gx = n.state.bc.grad(where(at_origin, zero, neg(div(mul(g[0], y), safe))), 1);
    return {gy, gx};
  });
  if (n) {
    n->state.bc.remember(a, b);
    n->save("self", a);
    n->save("other", b);
  }
  return attach(n, out);
}

// floor_divide is div(rounding_mode="floor"); its gradient is zero (PyTorch raises instead).
Tensor floor_divide(const Tensor& a, const Tensor& b) { return div_rounding(a, b, std::string("floor")); }

// remainder and fmod: a - b * q with q = floor(a / b) or trunc(a / b); the
// gradient of a is the incoming one, that of b is -q times it.
static Tensor rounded_remainder(const Tensor& a, const Tensor& b, bool python_style) {
  DType rt = result_type(a, b);
  if (!is_floating(rt)) {
    NoGradGuard ng;
    EMBER_CHECK(!item_as_double(any(eq(b, num(0.0)), std::nullopt, false)), "ZeroDivisionError");
  }
  Tensor out = binary_forward(python_style ? BinaryOp::Remainder : BinaryOp::Fmod, a, b, rt, rt);
  // Backward0 when other is a number (only self has a gradient), Backward1 for two tensors.
  const char* name = b->is_wrapped_number ? (python_style ? "RemainderBackward0" : "FmodBackward0")
                                          : (python_style ? "RemainderBackward1" : "FmodBackward1");
  auto n = make_node<BinaryState>(name, {&a, &b}, [](auto& n, variable_list& g) -> variable_list {
    Tensor ga, gb;
    if (n.needs(0)) ga = n.state.bc.grad(g[0], 0);
    if (n.needs(1)) {
      Tensor a = n.saved_at(0), b = n.saved_at(1);
      Tensor q = div_rounding(a, b, std::string(n.op_name[0] == 'R' ? "floor" : "trunc"));
      gb = n.state.bc.grad(neg(mul(g[0], q)), 1);
    }
    return {ga, gb};
  });
  if (n) {
    n->state.bc.remember(a, b);
    n->save("self", a);
    n->save("other", b);
  }
  return attach(n, out);
}
Tensor remainder(const Tensor& a, const Tensor& b) { return rounded_remainder(a, b, true); }
Tensor fmod(const Tensor& a, const Tensor& b) { return rounded_remainder(a, b, false); }

// igamma and igammac: d/dx P(a, x) = x^(a-1) e^-x / Gamma(a) = -d/dx Q(a, x). The
// derivative in a has no closed form; as PyTorch, its formula raises when a
// backward pass reaches it. lgamma(a) enters as a constant (ember has no
// lgamma op), so a second derivative in a is not available either.
static Tensor incomplete_gamma(const Tensor& a, const Tensor& x, bool lower) {
  DType rt = result_type(a, x);  // integers: the kernel's NotImplementedError, as PyTorch
  Tensor out = binary_forward(lower ? BinaryOp::Igamma : BinaryOp::Igammac, a, x, rt, rt);
  auto n = make_node<BinaryState>(lower ? "IgammaBackward0" : "IgammacBackward0", {&a, &x},
                                  [](auto& n, variable_list& g) -> variable_list {
                                    const bool lower = std::string(n.op_name) == "IgammaBackward0";
                                    EMBER_CHECK_KIND(!n.needs(0), NotImplemented, "the derivative for '",
                                                     lower ? "igamma" : "igammac", ": input' is not implemented.");
                                    Tensor a = n.saved_at(0), x = n.saved_at(1);
                                    DType dt = g[0]->dtype();
                                    Tensor lg = empty(a->sizes(), dt);
                                    kernels::unary(kernels::UnaryOp::Lgamma, lg, cast_for_kernel(a, dt));
                                    Tensor d = exp(sub(sub(mul(sub(a, num(1.0)), log(x)), x), lg));
                                    return {Tensor(), n.state.bc.grad(mul(g[0], lower ? d : neg(d)), 1)};
                                  });
  if (n) {
    n->state.bc.remember(a, x);
    n->save("self", a);
    n->save("other", x);
  }
  return attach(n, out);
}
Tensor igamma(const Tensor& a, const Tensor& x) { return incomplete_gamma(a, x, true); }
Tensor igammac(const Tensor& a, const Tensor& x) { return incomplete_gamma(a, x, false); }

}  // namespace ember
