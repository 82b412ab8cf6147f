// Elementwise ops: type promotion, broadcasting, and their derivatives.
#include <cmath>

#include "core/cuda.h"
#include "ops/binary.h"
#include "ops/unary.h"

namespace ember {

using kernels::BinaryOp;
using kernels::UnaryOp;

// A Python number counts as the default dtype of its kind when promoting.
static DType promotion_dtype(const Tensor& t) {
  if (t->is_wrapped_number && is_floating(t->dtype())) return default_float();
  return t->dtype();
}

// PyTorch's rule: dim>0 tensors outrank 0-d tensors, which outrank Python
// numbers, unless the lower tier is of a higher category (bool < int < float).
DType result_type(const Tensor& a, const Tensor& b) {
  std::optional<DType> tiers[3];  // dimensioned, zero-dim, wrapped
  for (const Tensor* t : {&a, &b}) {
    int tier = (*t)->is_wrapped_number ? 2 : ((*t)->dim() == 0 ? 1 : 0);
    DType d = promotion_dtype(*t);
    tiers[tier] = tiers[tier] ? promote(*tiers[tier], d) : d;
  }
  auto combine = [](std::optional<DType> higher, std::optional<DType> lower) -> std::optional<DType> {
    if (!higher) return lower;
    if (!lower || is_floating(*higher)) return higher;
    if (*higher == DType::Bool || is_floating(*lower)) return promote(*higher, *lower);
    return higher;
  };
  return *combine(tiers[0], combine(tiers[1], tiers[2]));
}

static Tensor scalar(double v, DType dtype) { return wrapped_scalar(v, dtype); }

// other * alpha as a kernel input (the node of add/sub records alpha itself).
// alpha * t in the dtype the sum computes in (a bfloat16 t added to a float32 tensor is scaled in
// float32, as PyTorch, not rounded to bfloat16 first).
static Tensor scaled(const Tensor& t, double alpha, DType compute) {
  if (alpha == 1.0) return t;
  NoGradGuard no_grad;
  const Tensor& widened = t->dtype() == compute || t->is_wrapped_number ? t : to_dtype(t, compute);
  return mul(widened, alpha_scalar(t, alpha));
}

Tensor alpha_scalar(const Tensor& other, double alpha) {
  if (!is_integral(other->dtype(), true)) return scalar(alpha, DType::Float64);
  // An integer tensor stays an integer tensor: alpha must be integral too (PyTorch's rule and words).
  EMBER_CHECK(alpha == std::floor(alpha),
              "For integral input tensors, argument alpha must not be a floating point number.");
  return scalar(alpha, DType::Int64);
}

Tensor widened_half(const Tensor& t) { return is_half_float(t->dtype()) ? to_dtype(t, DType::Float32) : t; }

Tensor binary_operand(BinaryOp op, const Tensor& b, DType compute) {  // Note [Half-float arithmetic]
  const bool divides = op == BinaryOp::Div || op == BinaryOp::FloorDivide || op == BinaryOp::TruncDivide;
  const bool opmath_scalar = (op == BinaryOp::Mul || divides) && is_half_float(compute) && b->dim() == 0 &&
                             b->dtype() != compute && b->device().is_cpu();
  return cast_for_kernel(b, opmath_scalar ? DType::Float32 : compute);
}

Tensor binary_forward(BinaryOp op, const Tensor& a, const Tensor& b, DType compute, DType out_dtype) {
  check_same_device(*a, *b);
  Tensor out =
      empty(broadcast_shapes(a->sizes(), b->sizes()), out_dtype, a->device().is_cpu() ? b->device() : a->device());
  kernels::binary(op, out, cast_for_kernel(a, compute), binary_operand(op, b, compute));
  return out;
}

double rounded_alpha(double alpha, DType d) {  // (its callers checked that alpha fits: Note [Scalar overflow])
  return item_as_double(cast_for_kernel(scalar(alpha, DType::Float64), d));
}

// a + alpha * b (or a - alpha * b) with a half-float result: computed in float32 with alpha rounded to
// the result's dtype, then rounded once (Note [Half-float arithmetic]).
static Tensor half_float_alpha_sum(BinaryOp op, const Tensor& a, const Tensor& b, double alpha, DType rt) {
  NoGradGuard no_grad;
  Tensor product = mul(widened_half(b), scalar(rounded_alpha(alpha, rt), DType::Float64));
  return to_dtype(binary_forward(op, widened_half(a), product, DType::Float32, DType::Float32), rt);
}

// a op alpha * b, for add and sub.
static Tensor alpha_sum(BinaryOp op, const Tensor& a, const Tensor& b, double alpha) {
  const DType rt = result_type(a, b);
  if (alpha != 1.0) check_value_fits(alpha, rt);  // Note [Scalar overflow]
  if (alpha != 1.0 && is_half_float(rt)) return half_float_alpha_sum(op, a, b, alpha, rt);
  return binary_forward(op, a, scaled(b, alpha, rt), rt, rt);
}

namespace {  // a State is private to its op's file (Note [Node state])

// div's node: true division records rounding_mode None, as PyTorch's DivBackward nodes show it.
struct DivState {
  Broadcast bc;
  std::optional<std::string> rounding_mode;
  void fields(StateFields& f) const { f.add("rounding_mode", rounding_mode); }
};

struct AlphaState {
  Broadcast bc;
  double alpha = 1.0;
  void fields(StateFields& f) const { f.add("alpha", alpha); }
};

struct ExponentState {  // tensor ** number
  double exponent = 0;
  void fields(StateFields& f) const { f.add("exponent", exponent); }
};

struct BaseState {  // number ** tensor
  double self = 0;
  void fields(StateFields& f) const { f.add("self", self); }
};

struct MinMaxState {
  Broadcast bc;
  bool is_max = true;
  void fields(StateFields&) const {}
};

struct ClampTensorsState {  // clamp with tensor bounds
  Shape self_sizes, min_sizes, max_sizes;
  void fields(StateFields&) const {}
};
struct ClampState {
  std::optional<double> min, max;
  void fields(StateFields& f) const {
    f.add("min", min);
    f.add("max", max);
  }
};
}  // namespace

Tensor add(const Tensor& a, const Tensor& b, double alpha) {
  Tensor out = alpha_sum(BinaryOp::Add, a, b, alpha);
  auto n = make_node<AlphaState>("AddBackward0", {&a, &b}, [](auto& n, variable_list& g) -> variable_list {
    double alpha = n.state.alpha;
    return {n.needs(0) ? n.state.bc.grad(g[0], 0) : Tensor(),
            n.needs(1) ? n.state.bc.grad(alpha == 1.0 ? g[0] : mul(g[0], scalar(alpha, DType::Float64)), 1) : Tensor()};
  });
  if (n) {
    n->state.bc.remember(a, b);
    n->state.alpha = alpha;
  }
  return attach(n, out);
}

// PyTorch refuses a bool operand of a subtraction (a bool number too), in its words.
void check_sub_operands(const Tensor& a, const Tensor& b) {
  const bool bool_a = a->dtype() == DType::Bool, bool_b = b->dtype() == DType::Bool;
  EMBER_CHECK(!(bool_a && bool_b),
              "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or `logical_xor()` "
              "operator instead.");
  EMBER_CHECK(!(bool_a || bool_b),
              "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a "
              "mask, use the `~` or `logical_not()` operator instead.");
}

Tensor sub(const Tensor& a, const Tensor& b, double alpha) {
  check_sub_operands(a, b);
  Tensor out = alpha_sum(BinaryOp::Sub, a, b, alpha);
  auto n = make_node<AlphaState>("SubBackward0", {&a, &b}, [](auto& n, variable_list& g) -> variable_list {
    return {n.needs(0) ? n.state.bc.grad(g[0], 0) : Tensor(),
            n.needs(1) ? n.state.bc.grad(mul(g[0], scalar(-n.state.alpha, DType::Float64)), 1) : Tensor()};
  });
  if (n) {
    n->state.bc.remember(a, b);
    n->state.alpha = alpha;
  }
  return attach(n, out);
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward(BinaryOp::Mul, a, b, result_type(a, b), result_type(a, b));
  auto n = make_node<BinaryState>("MulBackward0", {&a, &b}, [](auto& n, variable_list& g) -> variable_list {
    return {n.needs(0) ? n.state.bc.grad(mul(g[0], n.saved_at(1)), 0) : Tensor(),
            n.needs(1) ? n.state.bc.grad(mul(g[0], n.saved_at(0)), 1) : Tensor()};
  });
  if (n) {
    n->state.bc.remember(a, b);
    n->save("self", n->needs(1) ? a : Tensor());
    n->save("other", n->needs(0) ? b : Tensor());
  }
  return attach(n, out);
}

Tensor div(const Tensor& a, const Tensor& b) {
  DType rt = result_type(a, b);
  DType compute = is_floating(rt) ? rt : default_float();  // true division
  Tensor out = binary_forward(BinaryOp::Div, a, b, compute, compute);
  auto n = make_node<DivState>("DivBackward0", {&a, &b}, [](auto& n, variable_list& g) -> variable_list {
    Tensor a = n.saved_at(0), b = n.saved_at(1);
    return {n.needs(0) ? n.state.bc.grad(div(g[0], b), 0) : Tensor(),
            // -g (a / b) / b, as PyTorch's: b * b overflows float32 from |b| ~ 1.8e19 on (then NaN, not -inf)
            n.needs(1) ? n.state.bc.grad(neg(mul(g[0], div(div(a, b), b))), 1) : Tensor()};
  });
  if (n) {
    n->state.bc.remember(a, b);
    n->save("self", n->needs(1) ? a : Tensor());
    n->save("other", b);
  }
  return attach(n, out);
}

// Integer division by zero has no value (PyTorch raises the same error). The divisor is checked
// as the kernel will see it: a Python number cast to the tensor's dtype may become 0 (2**63 as int32).
void check_integer_divisor(const Tensor& b, DType compute) {
  if (is_floating(compute)) return;
  NoGradGuard ng;
  OpDeviceGuard on(b->device());  // Note [Op device]: a Python number divides a CUDA tensor on the host
  Tensor seen = cast_for_kernel(b, compute);
  EMBER_CHECK(!item_as_double(any(eq(seen, scalar(0.0, DType::Int64)), std::nullopt, false)), "ZeroDivisionError");
}

Tensor div_rounding(const Tensor& a, const Tensor& b, const std::optional<std::string>& mode) {
  if (!mode) return div(a, b);
  EMBER_CHECK(*mode == "trunc" || *mode == "floor",
              "div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '", *mode, "'");
  DType rt = result_type(a, b);
  check_integer_divisor(b, rt);
  Tensor out = binary_forward(*mode == "trunc" ? BinaryOp::TruncDivide : BinaryOp::FloorDivide, a, b, rt, rt);
  // A step function: zero gradient for both inputs (PyTorch's DivBackward2 with rounding_mode).
  auto n = make_node<DivState>("DivBackward2", {&a, &b}, [](auto& n, variable_list& g) -> variable_list {
    Tensor z = zeros_like(g[0]);
    return {n.needs(0) ? n.state.bc.grad(z, 0) : Tensor(), n.needs(1) ? n.state.bc.grad(z, 1) : Tensor()};
  });
  if (n) {
    n->state.bc.remember(a, b);
    n->state.rounding_mode = mode;
    n->save("other", b);
  }
  return attach(n, out);
}

Tensor pow(const Tensor& a, const Tensor& b) {
  DType rt = result_type(a, b);
  if (is_integral(rt, true) && !is_floating(b->dtype())) {
    // Integer powers: a negative exponent has no integer result.
    EMBER_CHECK(!(b->is_wrapped_number && item_as_double(b) < 0),
                "Integers to negative integer powers are not allowed.");
  }
  // A bool to a bool number: PyTorch's shortcuts for the exponents 1 and 0 (a copy, ones); no bool pow kernel.
  const bool bool_power = rt == DType::Bool && b->is_wrapped_number;
  Tensor out =
      bool_power ? (item_as_double(b) != 0 ? clone(a) : ones_like(a)) : binary_forward(BinaryOp::Pow, a, b, rt, rt);
  if (b->is_wrapped_number) {
    // tensor ** number
    auto n = make_node<ExponentState>("PowBackward0", {&a}, [](auto& n, variable_list& g) -> variable_list {
      double e = n.state.exponent;
      if (e == 0.0) return {zeros_like(g[0])};
      Tensor a = n.saved_at(0);
      return {mul(g[0], mul(pow(a, scalar(e - 1.0, DType::Float64)), scalar(e, DType::Float64)))};
    });
    if (n) {
      n->state.exponent = item_as_double(b);
      n->save("self", a);
    }
    return attach(n, out);
  }
  if (a->is_wrapped_number) {
    // number ** tensor: d/db = result * log(a)
    auto n = make_node<BaseState>("PowBackward2", {&b}, [](auto& n, variable_list& g) -> variable_list {
      Tensor result = n.saved_at(0);
      double base = n.state.self;
      if (base == 0.0) {
        // 0 ** b: no log of 0; PyTorch's gradient is 0 where b >= 0 (result * log 0 elsewhere).
        Tensor gl = mul(g[0], mul(result, scalar(-INFINITY, DType::Float64)));
        return {where(ge(n.saved_at(1), scalar(0.0, DType::Float64)), zeros({}, gl->dtype()), gl)};
      }
      return {mul(g[0], mul(result, scalar(std::log(base), DType::Float64)))};
    });
    if (n) {
      n->state.self = item_as_double(a);
      attach(n, out);
      n->save_output("result", out);
      n->save("exponent", b);
    }
    return out;
  }
  auto n = make_node<BinaryState>("PowBackward1", {&a, &b}, [](auto& n, variable_list& g) -> variable_list {
    Tensor a = n.saved_at(0), b = n.saved_at(1), result = n.saved_at(2);
    Tensor ga, gb;
    if (n.needs(0)) {
      // b * a ** (b - 1) is 0 * inf at a = 0, b = 0: PyTorch's gradient is 0 wherever b == 0.
      Tensor ge_ = mul(g[0], mul(b, pow(a, sub(b, scalar(1.0, DType::Float64)))));
      ga = n.state.bc.grad(where(eq(b, scalar(0.0, DType::Float64)), zeros({}, ge_->dtype()), ge_), 0);
    }
    if (n.needs(1)) {
      // 0 ** b for b >= 0 has no log; PyTorch sets that gradient to 0.
      Tensor zero_base = logical_and(eq(a, scalar(0.0, DType::Float64)), ge(b, scalar(0.0, DType::Float64)));
      Tensor gl = where(zero_base, zeros({}, g[0]->dtype()), mul(g[0], mul(result, log(a))));
      gb = n.state.bc.grad(gl, 1);
    }
    return {ga, gb};
  });
  if (n) {
    n->state.bc.remember(a, b);
    n->save("self", a);
    n->save("exponent", b);
    attach(n, out);
    n->save_output("result", out);
  }
  return out;
}

static Tensor minmax(BinaryOp op, const char* name, const Tensor& a, const Tensor& b) {
  DType rt = result_type(a, b);
  Tensor out = binary_forward(op, a, b, rt, rt);
  auto n = make_node<MinMaxState>(name, {&a, &b}, [](auto& n, variable_list& g) -> variable_list {
    Tensor a = n.saved_at(0), b = n.saved_at(1);
    bool is_max = n.state.is_max;
    // Ties split the gradient evenly, as PyTorch; an input gets none only where the other wins, so a NaN
    // (no comparison holds) passes it to both, as PyTorch's masks do.
    Tensor half = mul(g[0], scalar(0.5, DType::Float64));
    Tensor zero = zeros({}, g[0]->dtype());
    Tensor a_wins = is_max ? gt(a, b) : lt(a, b), b_wins = is_max ? lt(a, b) : gt(a, b);
    Tensor shared = where(eq(a, b), half, g[0]);
    Tensor ga = where(b_wins, zero, shared);
    Tensor gb = where(a_wins, zero, shared);
    return {n.needs(0) ? n.state.bc.grad(ga, 0) : Tensor(), n.needs(1) ? n.state.bc.grad(gb, 1) : Tensor()};
  });
  if (n) {
    n->state.bc.remember(a, b);
    n->state.is_max = op == BinaryOp::Maximum;
    n->save("self", a);
    n->save("other", b);
  }
  return attach(n, out);
}
Tensor maximum(const Tensor& a, const Tensor& b) { return minmax(BinaryOp::Maximum, "MaximumBackward0", a, b); }
Tensor minimum(const Tensor& a, const Tensor& b) { return minmax(BinaryOp::Minimum, "MinimumBackward0", a, b); }

// ---- unary

// Integer inputs of float functions (exp, sin, ...) compute in the default float dtype.
Tensor unary_forward(UnaryOp op, const Tensor& t, bool float_op) {
  DType dt = (float_op && !is_floating(t->dtype())) ? default_float() : t->dtype();
  Tensor out = empty(t->sizes(), kernels::is_predicate(op) ? DType::Bool : dt);
  kernels::unary(op, out, cast_for_kernel(t, dt));
  return out;
}

Tensor unary_with_input(UnaryOp op, const char* name, Formula fn, const Tensor& t, bool float_op) {
  Tensor out = unary_forward(op, t, float_op);
  auto n = make_node(name, {&t}, fn);
  if (n) n->save("self", t);
  return attach(n, out);
}
Tensor unary_with_result(UnaryOp op, const char* name, Formula fn, const Tensor& t) {
  Tensor out = unary_forward(op, t, true);
  auto n = make_node(name, {&t}, fn);
  if (n) {
    attach(n, out);
    n->save_output("result", out);
  }
  return out;
}

// A float64 0-d tensor constant (not a wrapped number) in a backward formula.
static Tensor f64_scalar(double v) { return scalar(v, DType::Float64); }

Tensor neg(const Tensor& t) {
  Tensor out = unary_forward(UnaryOp::Neg, t, false);
  auto n = make_node("NegBackward0", {&t}, [](auto&, variable_list& g) -> variable_list { return {neg(g[0])}; });
  return attach(n, out);
}
Tensor abs(const Tensor& t) {
  EMBER_CHECK_KIND(t->dtype() != DType::Bool, NotImplemented, "\"abs_cpu\" not implemented for 'Bool'");
  return unary_with_input(
      UnaryOp::Abs, "AbsBackward0",
      [](auto& n, variable_list& g) -> variable_list { return {mul(g[0], sign(n.saved_at(0)))}; }, t, false);
}
Tensor sqrt(const Tensor& t) {
  return unary_with_result(
      UnaryOp::Sqrt, "SqrtBackward0",
      [](auto& n, variable_list& g) -> variable_list { return {div(g[0], mul(n.saved_at(0), f64_scalar(2.0)))}; }, t);
}
Tensor rsqrt(const Tensor& t) {
  return unary_with_result(
      UnaryOp::Rsqrt, "RsqrtBackward0",
      [](auto& n, variable_list& g) -> variable_list {
        Tensor r = n.saved_at(0);
        return {mul(g[0], mul(pow(r, f64_scalar(3.0)), f64_scalar(-0.5)))};
      },
      t);
}
Tensor exp(const Tensor& t) {
  return unary_with_result(
      UnaryOp::Exp, "ExpBackward0",
      [](auto& n, variable_list& g) -> variable_list { return {mul(g[0], n.saved_at(0))}; }, t);
}
Tensor log(const Tensor& t) {
  return unary_with_input(
      UnaryOp::Log, "LogBackward0",
      [](auto& n, variable_list& g) -> variable_list { return {div(g[0], n.saved_at(0))}; }, t, true);
}
Tensor log1p(const Tensor& t) {
  return unary_with_input(
      UnaryOp::Log1p, "Log1PBackward0",
      [](auto& n, variable_list& g) -> variable_list { return {div(g[0], add(n.saved_at(0), f64_scalar(1.0)))}; }, t,
      true);
}
Tensor expm1(const Tensor& t) {
  return unary_with_result(
      UnaryOp::Expm1, "Expm1Backward0",
      [](auto& n, variable_list& g) -> variable_list { return {mul(g[0], add(n.saved_at(0), f64_scalar(1.0)))}; }, t);
}
Tensor sin(const Tensor& t) {
  return unary_with_input(
      UnaryOp::Sin, "SinBackward0",
      [](auto& n, variable_list& g) -> variable_list { return {mul(g[0], cos(n.saved_at(0)))}; }, t, true);
}
Tensor cos(const Tensor& t) {
  return unary_with_input(
      UnaryOp::Cos, "CosBackward0",
      [](auto& n, variable_list& g) -> variable_list { return {mul(g[0], neg(sin(n.saved_at(0))))}; }, t, true);
}
Tensor tan(const Tensor& t) {
  return unary_with_result(
      UnaryOp::Tan, "TanBackward0",
      [](auto& n, variable_list& g) -> variable_list {
        Tensor r = n.saved_at(0);
        return {mul(g[0], add(mul(r, r), f64_scalar(1.0)))};
      },
      t);
}
// Note [Fused backward ops]: the backward formulas of relu, tanh and sigmoid are
// single-pass kernels (threshold_backward, tanh_backward, sigmoid_backward), as
// in PyTorch, instead of two or three elementwise ops and their temporaries. They
// are ops with nodes of their own, so create_graph still differentiates them.
static Tensor fused_backward(BinaryOp op, const char* name, Formula fn, const Tensor& grad, const Tensor& result) {
  DType dt = result_type(grad, result);
  Tensor out = binary_forward(op, grad, result, dt, dt);
  auto n = make_node(name, {&grad, &result}, fn);
  if (n) {
    n->save("grad_output", grad);
    n->save("output", result);
  }
  return attach(n, out);
}
Tensor threshold_backward(const Tensor& grad, const Tensor& result) {
  return fused_backward(
      BinaryOp::ThresholdBackward, "ThresholdBackwardBackward0",
      [](auto& n, variable_list& g) -> variable_list {
        // A step function: zero gradient w.r.t. the saved result (zeros, not None, as PyTorch).
        return {n.needs(0) ? threshold_backward(g[0], n.saved_at(1)) : Tensor(),
                n.needs(1) ? zeros_like(n.saved_at(1)) : Tensor()};
      },
      grad, result);
}
Tensor tanh_backward(const Tensor& grad, const Tensor& y) {
  return fused_backward(
      BinaryOp::TanhBackward, "TanhBackwardBackward0",
      [](auto& n, variable_list& g) -> variable_list {
        Tensor go = n.saved_at(0), y = n.saved_at(1);  // d/dy [go (1 - y^2)] = -2 go y
        return {n.needs(0) ? tanh_backward(g[0], y) : Tensor(),
                n.needs(1) ? mul(mul(g[0], go), mul(y, f64_scalar(-2.0))) : Tensor()};
      },
      grad, y);
}
Tensor sigmoid_backward(const Tensor& grad, const Tensor& y) {
  return fused_backward(
      BinaryOp::SigmoidBackward, "SigmoidBackwardBackward0",
      [](auto& n, variable_list& g) -> variable_list {
        Tensor go = n.saved_at(0), y = n.saved_at(1);  // d/dy [go y (1 - y)] = go (1 - 2y)
        return {n.needs(0) ? sigmoid_backward(g[0], y) : Tensor(),
                n.needs(1) ? mul(mul(g[0], go), sub(f64_scalar(1.0), mul(y, f64_scalar(2.0)))) : Tensor()};
      },
      grad, y);
}

Tensor tanh(const Tensor& t) {
  return unary_with_result(
      UnaryOp::Tanh, "TanhBackward0",
      [](auto& n, variable_list& g) -> variable_list { return {tanh_backward(g[0], n.saved_at(0))}; }, t);
}
Tensor sigmoid(const Tensor& t) {
  return unary_with_result(
      UnaryOp::Sigmoid, "SigmoidBackward0",
      [](auto& n, variable_list& g) -> variable_list { return {sigmoid_backward(g[0], n.saved_at(0))}; }, t);
}
Tensor reciprocal(const Tensor& t) {
  return unary_with_result(
      UnaryOp::Reciprocal, "ReciprocalBackward0",
      [](auto& n, variable_list& g) -> variable_list {
        Tensor r = n.saved_at(0);
        return {neg(mul(g[0], mul(r, r)))};
      },
      t);
}
Tensor erf(const Tensor& t) {
  return unary_with_input(
      UnaryOp::Erf, "ErfBackward0",
      [](auto& n, variable_list& g) -> variable_list {
        Tensor x = n.saved_at(0);  // d/dx erf(x) = 2/sqrt(pi) exp(-x^2)
        return {mul(g[0], mul(exp(neg(mul(x, x))), f64_scalar(1.1283791670955126)))};
      },
      t, true);
}

Tensor relu(const Tensor& t) {
  EMBER_CHECK(t->dtype() != DType::Bool, "Boolean inputs not supported for relu");
  Tensor out = unary_forward(UnaryOp::Relu, t, false);
  auto n = make_node("ReluBackward0", {&t}, [](auto& n, variable_list& g) -> variable_list {
    return {threshold_backward(g[0], n.saved_at(0))};
  });
  if (n) {
    attach(n, out);
    n->save_output("result", out);
  }
  return out;
}
Tensor sign(const Tensor& t) {
  Tensor out = unary_forward(UnaryOp::Sign, t, false);
  auto n =
      make_node("SignBackward0", {&t}, [](auto&, variable_list& g) -> variable_list { return {zeros_like(g[0])}; });
  return attach(n, out);
}

Tensor clamp(const Tensor& t, std::optional<double> lo, std::optional<double> hi) {
  EMBER_CHECK(lo || hi, "torch.clamp: At least one of 'min' or 'max' must not be None");
  Tensor out = empty(t->sizes(), t->dtype());
  kernels::clamp(out, t, lo ? &*lo : nullptr, hi ? &*hi : nullptr);
  auto n = make_node<ClampState>("ClampBackward1", {&t}, [](auto& n, variable_list& g) -> variable_list {
    Tensor x = n.saved_at(0);
    const auto& s = n.state;
    Tensor keep;
    if (s.min) keep = ge(x, f64_scalar(*s.min));
    if (s.max) keep = keep ? logical_and(keep, le(x, f64_scalar(*s.max))) : le(x, f64_scalar(*s.max));
    return {where(keep, g[0], zeros({}, g[0]->dtype()))};
  });
  if (n) {
    n->state = {lo, hi};
    n->save("self", t);
  }
  return attach(n, out);
}

// clamp with tensor bounds (an undefined one is absent). PyTorch's gradients: the input keeps it where it
// lies within its bounds, ties included; a bound takes it where the input passes it (the max also where it
// is below the min, since the result is then the max).
Tensor clamp(const Tensor& t, const Tensor& lo, const Tensor& hi) {
  Tensor out;
  {
    NoGradGuard ng;
    out = lo ? maximum(t, lo) : t;
    if (hi) out = minimum(out, hi);
  }
  auto fn = [](auto& n, variable_list& g) -> variable_list {
    Tensor x = n.saved_at(0), lo = n.saved_at(1), hi = n.saved_at(2), zero = zeros({}, g[0]->dtype());
    Tensor gx, glo, ghi;
    if (n.needs(0)) {
      Tensor keep = lo ? ge(x, lo) : Tensor();
      if (hi) keep = keep ? logical_and(keep, le(x, hi)) : le(x, hi);
      gx = sum_to(where(keep, g[0], zero), n.state.self_sizes);
    }
    if (n.needs(1)) {
      Tensor below = lt(x, lo);
      glo = sum_to(where(hi ? logical_and(below, lt(lo, hi)) : below, g[0], zero), n.state.min_sizes);
    }
    if (n.needs(2)) {
      Tensor above = gt(x, hi);
      ghi = sum_to(where(lo ? logical_or(above, lt(hi, lo)) : above, g[0], zero), n.state.max_sizes);
    }
    return {gx, glo, ghi};
  };
  auto n = make_node<ClampTensorsState>("ClampBackward0", {&t, &lo, &hi}, fn);
  if (n) {
    n->state = {t->sizes(), lo ? lo->sizes() : Shape{}, hi ? hi->sizes() : Shape{}};
    n->save("self", t);
    n->save("min", lo);
    n->save("max", hi);
  }
  return attach(n, out);
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  EMBER_CHECK(cond->dtype() == DType::Bool,
              "where expected condition to be a boolean tensor, but got a tensor with dtype ",
              dtype_name(cond->dtype()));
  DType rt = result_type(a, b);
  // a number must fit the result's dtype (Note [Scalar overflow]); PyTorch lets a half-float result take it
  for (const Tensor* v : {&a, &b})
    if ((*v)->is_wrapped_number && !is_half_float(rt)) check_value_fits(*v, rt);
  Shape shape = broadcast_shapes(cond->sizes(), broadcast_shapes(a->sizes(), b->sizes()));
  // on the values' device: a 0-d CPU condition joins CUDA values as a number (the kernel refuses a larger one)
  const Device device = !a->device().is_cpu() ? a->device() : !b->device().is_cpu() ? b->device() : cond->device();
  Tensor out = empty(shape, rt, device);
  kernels::where(out, cond, cast_for_kernel(a, rt), cast_for_kernel(b, rt));
  auto n = make_node<BinaryState>("WhereBackward0", {&a, &b}, [](auto& n, variable_list& g) -> variable_list {
    Tensor c = n.saved_at(0);
    Tensor zero = zeros({}, g[0]->dtype());
    return {n.needs(0) ? n.state.bc.grad(where(c, g[0], zero), 0) : Tensor(),
            n.needs(1) ? n.state.bc.grad(where(c, zero, g[0]), 1) : Tensor()};
  });
  if (n) {
    n->state.bc.remember(a, b);
    n->save("condition", cond);
  }
  return attach(n, out);
}

// ---- comparisons and logic: no gradient

static Tensor compare(BinaryOp op, const Tensor& a, const Tensor& b) {
  return binary_forward(op, a, b, result_type(a, b), DType::Bool);
}
Tensor eq(const Tensor& a, const Tensor& b) { return compare(BinaryOp::Eq, a, b); }
Tensor ne(const Tensor& a, const Tensor& b) { return compare(BinaryOp::Ne, a, b); }
Tensor lt(const Tensor& a, const Tensor& b) { return compare(BinaryOp::Lt, a, b); }
Tensor le(const Tensor& a, const Tensor& b) { return compare(BinaryOp::Le, a, b); }
Tensor gt(const Tensor& a, const Tensor& b) { return compare(BinaryOp::Gt, a, b); }
Tensor ge(const Tensor& a, const Tensor& b) { return compare(BinaryOp::Ge, a, b); }
Tensor logical_and(const Tensor& a, const Tensor& b) { return compare(BinaryOp::LogicalAnd, a, b); }
Tensor logical_or(const Tensor& a, const Tensor& b) { return compare(BinaryOp::LogicalOr, a, b); }
Tensor logical_xor(const Tensor& a, const Tensor& b) { return compare(BinaryOp::LogicalXor, a, b); }
// Bitwise ops: integer and bool dtypes (floats raise NotImplementedError, as PyTorch).
static Tensor bitwise(BinaryOp op, const Tensor& a, const Tensor& b) {
  DType rt = result_type(a, b);
  return binary_forward(op, a, b, rt, rt);
}
Tensor bitwise_and(const Tensor& a, const Tensor& b) { return bitwise(BinaryOp::BitAnd, a, b); }
Tensor bitwise_or(const Tensor& a, const Tensor& b) { return bitwise(BinaryOp::BitOr, a, b); }
Tensor bitwise_xor(const Tensor& a, const Tensor& b) { return bitwise(BinaryOp::BitXor, a, b); }
Tensor bitwise_left_shift(const Tensor& a, const Tensor& b) { return bitwise(BinaryOp::ShiftLeft, a, b); }
Tensor bitwise_right_shift(const Tensor& a, const Tensor& b) { return bitwise(BinaryOp::ShiftRight, a, b); }
Tensor bitwise_not(const Tensor& t) { return unary_forward(UnaryOp::BitNot, t, false); }

Tensor logical_not(const Tensor& t) { return unary_forward(UnaryOp::LogicalNot, t, false); }
Tensor isnan(const Tensor& t) { return unary_forward(UnaryOp::IsNan, t, false); }
Tensor isinf(const Tensor& t) { return unary_forward(UnaryOp::IsInf, t, false); }
Tensor isfinite(const Tensor& t) { return unary_forward(UnaryOp::IsFinite, t, false); }
Tensor signbit(const Tensor& t) { return unary_forward(UnaryOp::Signbit, t, false); }

}  // namespace ember
