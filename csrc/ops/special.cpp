// Elementwise math of two or three tensors beyond arith.cpp: atan2, the
// rounding divisions (floor_divide, remainder, fmod), the incomplete gamma
// functions, hypot, logaddexp, xlogy, zeta, and lerp/addcmul/addcdiv.
#include <cmath>

#include "ops/binary.h"

namespace ember {

using kernels::BinaryOp;

// The float dtype a float-only function of a and b computes in (integers promote to the default float).
static DType float_result(const Tensor& a, const Tensor& b) {
  DType rt = result_type(a, b);
  return is_floating(rt) ? rt : default_float();
}
Tensor binary_forward_float(BinaryOp op, const Tensor& a, const Tensor& b) {
  DType rt = float_result(a, b);
  return binary_forward(op, a, b, rt, rt);
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
  check_integer_divisor(b, rt);
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
// backward pass reaches it.
static Tensor incomplete_gamma(const Tensor& a, const Tensor& x, bool lower) {
  DType rt = result_type(a, x);  // integers: the kernel's NotImplementedError, as PyTorch
  Tensor out = binary_forward(lower ? BinaryOp::Igamma : BinaryOp::Igammac, a, x, rt, rt);
  auto n = make_node<BinaryState>(lower ? "IgammaBackward0" : "IgammacBackward0", {&a, &x},
                                  [](auto& n, variable_list& g) -> variable_list {
                                    const bool lower = std::string(n.op_name) == "IgammaBackward0";
                                    EMBER_CHECK_KIND(!n.needs(0), NotImplemented, "the derivative for '",
                                                     lower ? "igamma" : "igammac", ": input' is not implemented.");
                                    Tensor a = n.saved_at(0), x = n.saved_at(1);
                                    Tensor d = exp(sub(sub(mul(sub(a, num(1.0)), log(x)), x), lgamma(a)));
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

// A float-only binary function with its node: `fn` computes the gradients of both inputs
// (each summed back to its input's shape by the caller's Broadcast).
static Tensor float_binary_op(BinaryOp op, const char* name, const Tensor& a, const Tensor& b,
                              StateNode<BinaryState>::Formula fn, bool save_result = false) {
  Tensor out = binary_forward_float(op, a, b);
  auto n = make_node<BinaryState>(name, {&a, &b}, fn);
  if (n) {
    n->state.bc.remember(a, b);
    n->save("self", a);
    n->save("other", b);
    attach(n, out);
    if (save_result) n->save_output("result", out);
  }
  return out;
}
// Both gradients at once, only those needed, summed back to the input shapes.
template <class GA, class GB>
static variable_list two_grads(StateNode<BinaryState>& n, GA ga, GB gb) {
  return {n.needs(0) ? n.state.bc.grad(ga(), 0) : Tensor(), n.needs(1) ? n.state.bc.grad(gb(), 1) : Tensor()};
}

Tensor hypot(const Tensor& a, const Tensor& b) {
  return float_binary_op(
      BinaryOp::Hypot, "HypotBackward0", a, b,
      [](auto& n, variable_list& g) -> variable_list {
        Tensor x = n.saved_at(0), y = n.saved_at(1), r = n.saved_at(2);
        return two_grads(n, [&] { return mul(g[0], div(x, r)); }, [&] { return mul(g[0], div(y, r)); });
      },
      true);
}
// d/da log(e^a + e^b) = 1 / (1 + e^(b - a)); base 2 the same with powers of 2.
static Tensor log_add_exp(const Tensor& a, const Tensor& b, bool base2) {
  return float_binary_op(base2 ? BinaryOp::LogAddExp2 : BinaryOp::LogAddExp,
                         base2 ? "Logaddexp2Backward0" : "LogaddexpBackward0", a, b,
                         [](auto& n, variable_list& g) -> variable_list {
                           Tensor x = n.saved_at(0), y = n.saved_at(1);
                           const bool base2 = n.op_name[9] == '2';
                           auto share = [&](const Tensor& from, const Tensor& to) {
                             Tensor d = sub(to, from);
                             return div(g[0], add(num(1.0), base2 ? exp2(d) : exp(d)));
                           };
                           return two_grads(n, [&] { return share(x, y); }, [&] { return share(y, x); });
                         });
}
Tensor logaddexp(const Tensor& a, const Tensor& b) { return log_add_exp(a, b, false); }
Tensor logaddexp2(const Tensor& a, const Tensor& b) { return log_add_exp(a, b, true); }

// x * log(y) (log1p(y)), 0 where x == 0: d/dx = log(y) (log1p(y)), also at x == 0, d/dy = x / y (x / (1 + y)).
// As PyTorch, d/dx is 0 where x == 0 and y has no log (y <= 0; y <= -1 for log1p).
static Tensor x_log(const Tensor& a, const Tensor& b, bool log1p_of_b) {
  return float_binary_op(
      log1p_of_b ? BinaryOp::Xlog1py : BinaryOp::Xlogy, log1p_of_b ? "SpecialXlog1PyBackward0" : "XlogyBackward0", a, b,
      [](auto& n, variable_list& g) -> variable_list {
        Tensor x = n.saved_at(0), y = n.saved_at(1);
        const bool l1p = n.op_name[0] == 'S';
        return two_grads(
            n,
            [&] {
              Tensor no_log = logical_and(eq(x, num(0.0)), le(y, num(l1p ? -1.0 : 0.0)));
              return where(no_log, zeros({}, g[0]->dtype()), l1p ? xlog1py(g[0], y) : xlogy(g[0], y));
            },
            [&] { return mul(g[0], div(x, l1p ? add(y, num(1.0)) : y)); });
      });
}
Tensor xlogy(const Tensor& a, const Tensor& b) { return x_log(a, b, false); }
Tensor xlog1py(const Tensor& a, const Tensor& b) { return x_log(a, b, true); }

// Hurwitz zeta(s, q): d/dq = -s zeta(s + 1, q); no formula in s, as PyTorch.
Tensor zeta(const Tensor& s, const Tensor& q) {
  return float_binary_op(BinaryOp::Zeta, "SpecialZetaBackward0", s, q, [](auto& n, variable_list& g) -> variable_list {
    EMBER_CHECK_KIND(!n.needs(0), NotImplemented, "the derivative for 'self' is not implemented.");
    Tensor s = n.saved_at(0), q = n.saved_at(1);
    return {Tensor(), n.state.bc.grad(mul(g[0], neg(mul(s, zeta(add(s, num(1.0)), q)))), 1)};
  });
}

// ---- three tensors

namespace {
struct LerpState {
  Broadcast self_end;  // sums self's and end's gradients back to their shapes
  Shape out_sizes, weight_sizes;
  std::optional<double> weight;  // a number weight (LerpBackward0)
  void fields(StateFields& f) const { f.add("weight", weight); }
};
struct AddcState {  // addcmul / addcdiv
  Shape self_sizes, t1_sizes, t2_sizes;
  double value = 1;
  void fields(StateFields& f) const { f.add("value", value); }
};
}  // namespace

static Tensor sum_back(const Tensor& g, const Shape& shape) { return g->sizes() == shape ? g : sum_to(g, shape); }

// input + weight * (end - input), computed from the nearer end (PyTorch's numerics).
// 1 - weight; a number weight stays a number (sub of two numbers would make a default-dtype
// tensor, and a float64 lerp would then round its weight to float32).
static Tensor one_minus(const Tensor& weight) {
  return weight->is_wrapped_number ? num(1.0 - item_as_double(weight)) : sub(num(1.0), weight);
}

Tensor lerp(const Tensor& self, const Tensor& end, const Tensor& weight) {
  const bool number_weight = weight->is_wrapped_number;
  EMBER_CHECK(is_floating(self->dtype()) && self->dtype() == end->dtype(),
              "lerp: expected self and end of the same float dtype, but got ", scalar_type_name(self->dtype()), " and ",
              scalar_type_name(end->dtype()));
  Tensor out;
  {
    NoGradGuard ng;
    // half floats compute in float32 and round once (Note [Half-float arithmetic])
    const Tensor start = widened_half(self), stop = widened_half(end), w = widened_half(weight);
    Tensor diff = sub(stop, start);
    Tensor near_start = add(start, mul(w, diff));
    Tensor near_end = sub(stop, mul(diff, one_minus(w)));
    out = where(lt(abs(w), num(0.5)), near_start, near_end);
    if (out->dtype() != self->dtype()) out = to_dtype(out, self->dtype());
  }
  auto fn = [](auto& n, variable_list& g) -> variable_list {
    Tensor w = n.saved_at(0);
    Tensor gs, ge, gw;
    if (n.needs(0)) gs = sum_back(mul(g[0], one_minus(w)), n.state.self_end.self_sizes);
    if (n.needs(1)) ge = sum_back(mul(g[0], w), n.state.self_end.other_sizes);
    if (n.needs(2)) gw = sum_back(mul(g[0], sub(n.saved_at(2), n.saved_at(1))), n.state.weight_sizes);
    return {gs, ge, gw};
  };
  auto n = make_node<LerpState>(number_weight ? "LerpBackward0" : "LerpBackward1", {&self, &end, &weight}, fn);
  if (n) {
    n->state.self_end = {false, self->sizes(), end->sizes()};
    n->state.weight_sizes = weight->sizes();
    if (number_weight) n->state.weight = item_as_double(weight);
    n->save("weight", weight);
    n->save("self", self);
    n->save("end", end);
  }
  return attach(n, out);
}

// input + value * t1 * t2 (addcmul) or input + value * t1 / t2 (addcdiv).
static Tensor addc(const Tensor& self, const Tensor& t1, const Tensor& t2, double value, bool divide) {
  if (divide)
    EMBER_CHECK(is_floating(t1->dtype()) || is_floating(t2->dtype()),
                "Integer division with addcdiv is no longer supported, and in a future release addcdiv will perform "
                "a true division of tensor1 and tensor2. The historic addcdiv behavior can be implemented as "
                "(input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer inputs and as "
                "(input + value * tensor1 / tensor2) for float inputs. The future addcdiv behavior is just the "
                "latter implementation: (input + value * tensor1 / tensor2), for all dtypes.");
  Tensor out;
  {
    NoGradGuard ng;
    // three half floats of one dtype compute in float32 and round once (Note [Half-float arithmetic])
    const DType dt = self->dtype();
    const bool half = is_half_float(dt) && t1->dtype() == dt && t2->dtype() == dt;
    const Tensor a = half ? widened_half(t1) : t1, b = half ? widened_half(t2) : t2;
    Tensor prod = divide ? div(a, b) : mul(a, b);
    out = add(half ? widened_half(self) : self, prod, value);
    if (half) out = to_dtype(out, dt);
  }
  auto fn = [](auto& n, variable_list& g) -> variable_list {
    const bool divide = n.op_name[4] == 'd';
    const double v = n.state.value;
    Tensor a = n.saved_at(0), b = n.saved_at(1), scaled = mul(g[0], num(v));
    Tensor gs, g1, g2;
    if (n.needs(0)) gs = sum_back(g[0], n.state.self_sizes);
    if (n.needs(1)) g1 = sum_back(divide ? div(scaled, b) : mul(scaled, b), n.state.t1_sizes);
    if (n.needs(2)) g2 = sum_back(divide ? neg(div(mul(scaled, a), mul(b, b))) : mul(scaled, a), n.state.t2_sizes);
    return {gs, g1, g2};
  };
  auto n = make_node<AddcState>(divide ? "AddcdivBackward0" : "AddcmulBackward0", {&self, &t1, &t2}, fn);
  if (n) {
    n->state = {self->sizes(), t1->sizes(), t2->sizes(), value};
    n->save("tensor1", t1);
    n->save("tensor2", t2);
  }
  return attach(n, out);
}
Tensor addcmul(const Tensor& self, const Tensor& t1, const Tensor& t2, double value) {
  return addc(self, t1, t2, value, false);
}
Tensor addcdiv(const Tensor& self, const Tensor& t1, const Tensor& t2, double value) {
  return addc(self, t1, t2, value, true);
}

}  // namespace ember
