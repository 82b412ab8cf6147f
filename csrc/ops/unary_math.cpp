// Elementwise functions of one tensor beyond arith.cpp: rounding, inverse
// trigonometric and hyperbolic functions, log2/log10/exp2, and the special
// functions (erfc, erfinv, lgamma, digamma, polygamma, mvlgamma), with
// PyTorch's derivatives and node names.
#include <cmath>

#include <limits>

#include "ops/binary.h"
#include "ops/unary.h"

namespace ember {

using kernels::UnaryOp;

namespace {  // a State is private to its op's file (Note [Node state])
struct DecimalsState {
  int64_t decimals = 0;
  void fields(StateFields& f) const { f.add("decimals", decimals); }
};
struct OrderState {  // polygamma's n, mvlgamma's p
  int64_t n = 0;
  void fields(StateFields& f) const { f.add("n", n); }
};
struct NanToNumState {
  void fields(StateFields&) const {}
};
}  // namespace

// ---- rounding: a step function's gradient is zero (zeros, as PyTorch's formulas give)

static variable_list zero_grad(OpNode&, variable_list& g) { return {zeros_like(g[0])}; }

static Tensor rounding(UnaryOp op, const char* name, const char* kernel, const Tensor& t) {
  // Integers round to themselves; bool has no rounding kernel in PyTorch (it raises, naming it).
  EMBER_CHECK_KIND(t->dtype() != DType::Bool, NotImplemented, "\"", kernel, "\" not implemented for 'Bool'");
  Tensor out = unary_forward(op, t, false);
  auto n = make_node(name, {&t}, [](auto& n, variable_list& g) { return zero_grad(n, g); });
  return attach(n, out);
}
Tensor floor(const Tensor& t) { return rounding(UnaryOp::Floor, "FloorBackward0", "floor_vml_cpu", t); }
Tensor ceil(const Tensor& t) { return rounding(UnaryOp::Ceil, "CeilBackward0", "ceil_vml_cpu", t); }
Tensor trunc(const Tensor& t) { return rounding(UnaryOp::Trunc, "TruncBackward0", "trunc_vml_cpu", t); }
Tensor round(const Tensor& t, int64_t decimals) {
  if (decimals == 0) return rounding(UnaryOp::Round, "RoundBackward0", "round_vml_cpu", t);
  EMBER_CHECK_KIND(is_floating(t->dtype()), NotImplemented, "\"round_cpu\" not implemented for '",
                   scalar_type_name(t->dtype()), "'");
  // As PyTorch: x * 10^d rounded half to even, divided back (negative d rounds to tens, hundreds, ...).
  Tensor out;
  {
    NoGradGuard ng;
    const bool neg_d = decimals < 0;
    Tensor ten = wrapped_scalar(std::pow(10.0, double(neg_d ? -decimals : decimals)), t->dtype());
    Tensor scaled = neg_d ? div(t, ten) : mul(t, ten);
    out = unary_forward(UnaryOp::Round, scaled, false);
    out = neg_d ? mul(out, ten) : div(out, ten);
  }
  auto n = make_node<DecimalsState>("RoundBackward1", {&t},
                                    [](auto&, variable_list& g) -> variable_list { return {zeros_like(g[0])}; });
  if (n) n->state.decimals = decimals;
  return attach(n, out);
}
Tensor frac(const Tensor& t) {
  Tensor out = unary_forward(UnaryOp::Frac, t, false);
  auto n = make_node("FracBackward0", {&t}, [](auto&, variable_list& g) -> variable_list { return {g[0]}; });
  return attach(n, out);
}

// ---- inverse trigonometric and hyperbolic functions

static Tensor one_minus_square(const Tensor& x) { return sub(num(1.0), mul(x, x)); }

Tensor asin(const Tensor& t) {
  return unary_with_input(
      UnaryOp::Asin, "AsinBackward0",
      [](auto& n, variable_list& g) -> variable_list { return {mul(g[0], rsqrt(one_minus_square(n.saved_at(0))))}; }, t,
      true);
}
Tensor acos(const Tensor& t) {
  return unary_with_input(
      UnaryOp::Acos, "AcosBackward0",
      [](auto& n, variable_list& g) -> variable_list {
        return {neg(mul(g[0], rsqrt(one_minus_square(n.saved_at(0)))))};
      },
      t, true);
}
Tensor atan(const Tensor& t) {
  return unary_with_input(
      UnaryOp::Atan, "AtanBackward0",
      [](auto& n, variable_list& g) -> variable_list {
        Tensor x = n.saved_at(0);
        return {div(g[0], add(mul(x, x), num(1.0)))};
      },
      t, true);
}
Tensor sinh(const Tensor& t) {
  return unary_with_input(
      UnaryOp::Sinh, "SinhBackward0",
      [](auto& n, variable_list& g) -> variable_list { return {mul(g[0], cosh(n.saved_at(0)))}; }, t, true);
}
Tensor cosh(const Tensor& t) {
  return unary_with_input(
      UnaryOp::Cosh, "CoshBackward0",
      [](auto& n, variable_list& g) -> variable_list { return {mul(g[0], sinh(n.saved_at(0)))}; }, t, true);
}
Tensor asinh(const Tensor& t) {
  return unary_with_input(
      UnaryOp::Asinh, "AsinhBackward0",
      [](auto& n, variable_list& g) -> variable_list {
        Tensor x = n.saved_at(0);
        return {mul(g[0], rsqrt(add(mul(x, x), num(1.0))))};
      },
      t, true);
}
Tensor acosh(const Tensor& t) {
  return unary_with_input(
      UnaryOp::Acosh, "AcoshBackward0",
      [](auto& n, variable_list& g) -> variable_list {
        Tensor x = n.saved_at(0);
        return {mul(g[0], rsqrt(sub(mul(x, x), num(1.0))))};
      },
      t, true);
}
Tensor atanh(const Tensor& t) {
  return unary_with_input(
      UnaryOp::Atanh, "AtanhBackward0",
      [](auto& n, variable_list& g) -> variable_list { return {div(g[0], one_minus_square(n.saved_at(0)))}; }, t, true);
}

// ---- logarithms and powers of 2 and 10

constexpr double kLn2 = 0.69314718055994530942, kLn10 = 2.30258509299404568402;

Tensor log2(const Tensor& t) {
  return unary_with_input(
      UnaryOp::Log2, "Log2Backward0",
      [](auto& n, variable_list& g) -> variable_list { return {div(g[0], mul(n.saved_at(0), num(kLn2)))}; }, t, true);
}
Tensor log10(const Tensor& t) {
  return unary_with_input(
      UnaryOp::Log10, "Log10Backward0",
      [](auto& n, variable_list& g) -> variable_list { return {div(g[0], mul(n.saved_at(0), num(kLn10)))}; }, t, true);
}
Tensor exp2(const Tensor& t) {
  return unary_with_result(
      UnaryOp::Exp2, "Exp2Backward0",
      [](auto& n, variable_list& g) -> variable_list { return {mul(g[0], mul(n.saved_at(0), num(kLn2)))}; }, t);
}

// ---- special functions

Tensor erfc(const Tensor& t) {
  return unary_with_input(
      UnaryOp::Erfc, "ErfcBackward0",
      [](auto& n, variable_list& g) -> variable_list {
        Tensor x = n.saved_at(0);  // d/dx erfc(x) = -2/sqrt(pi) exp(-x^2)
        return {mul(g[0], mul(exp(neg(mul(x, x))), num(-kTwoOverSqrtPi)))};
      },
      t, true);
}
Tensor erfinv(const Tensor& t) {
  return unary_with_result(
      UnaryOp::Erfinv, "ErfinvBackward0",
      [](auto& n, variable_list& g) -> variable_list {
        Tensor y = n.saved_at(0);  // d/dx erfinv(x) = sqrt(pi)/2 exp(erfinv(x)^2)
        return {mul(g[0], mul(exp(mul(y, y)), num(1.0 / kTwoOverSqrtPi)))};
      },
      t);
}
Tensor lgamma(const Tensor& t) {
  return unary_with_input(
      UnaryOp::Lgamma, "LgammaBackward0",
      [](auto& n, variable_list& g) -> variable_list { return {mul(g[0], digamma(n.saved_at(0)))}; }, t, true);
}
Tensor digamma(const Tensor& t) {
  return unary_with_input(
      UnaryOp::Digamma, "DigammaBackward0",
      [](auto& n, variable_list& g) -> variable_list { return {mul(g[0], polygamma(1, n.saved_at(0)))}; }, t, true);
}

// polygamma(n, x) = (-1)^(n+1) n! zeta(n + 1, x) for n >= 1; digamma for n = 0.
static Tensor polygamma_forward(int64_t order, const Tensor& x) {
  if (order == 0) return unary_forward(UnaryOp::Digamma, x, true);
  const DType dt = is_floating(x->dtype()) ? x->dtype() : default_float();
  double factorial = 1;
  for (int64_t k = 2; k <= order && std::isfinite(factorial); ++k) factorial *= double(k);  // inf past 170!
  Tensor s = wrapped_scalar(double(order + 1), dt);
  Tensor zeta = binary_forward_float(kernels::BinaryOp::Zeta, s, x);
  NoGradGuard ng;
  return mul(zeta, num(order % 2 ? factorial : -factorial));
}
Tensor polygamma(int64_t order, const Tensor& t) {
  EMBER_CHECK(order >= 0, "polygamma(n, x) does not support negative n.");
  Tensor out = polygamma_forward(order, t);
  auto n = make_node<OrderState>("PolygammaBackward0", {&t}, [](auto& n, variable_list& g) -> variable_list {
    return {mul(g[0], polygamma(n.state.n + 1, n.saved_at(0)))};
  });
  if (n) {
    n->state.n = order;
    n->save("self", t);
  }
  return attach(n, out);
}
// The multivariate log-gamma of dimension p: sum_i lgamma(x - i/2) + p(p-1)/4 log(pi).
Tensor mvlgamma(const Tensor& input, int64_t p) {
  EMBER_CHECK(p >= 1, "p has to be greater than or equal to 1");
  // An integer input computes in float32, as PyTorch's (its result is float).
  const Tensor t = is_floating(input->dtype()) ? input : to_dtype(input, default_float());
  Tensor out;
  {
    NoGradGuard ng;
    // PyTorch's domain check; it also bounds the loop below by the inputs' values.
    EMBER_CHECK(item_as_double(all(gt(t, num(0.5 * (double(p) - 1))), std::nullopt, false)),
                "All elements must be greater than (p-1)/2");
    out = full(t->sizes(), double(p) * (double(p) - 1) / 4.0 * std::log(M_PI), t->dtype());
    for (int64_t i = 0; i < p && t->numel() > 0; ++i) out = add(out, lgamma(sub(t, num(0.5 * double(i)))));
  }
  auto n = make_node<OrderState>("MvlgammaBackward0", {&t}, [](auto& n, variable_list& g) -> variable_list {
    Tensor x = n.saved_at(0), d = digamma(x);
    for (int64_t i = 1; i < n.state.n && x->numel() > 0; ++i) d = add(d, digamma(sub(x, num(0.5 * double(i)))));
    return {mul(g[0], d)};
  });
  if (n) {
    n->state.n = p;
    n->save("self", t);
  }
  return attach(n, out);
}

// nan_to_num: NaN, +inf and -inf replaced (the infinities by the dtype's extremes by
// default); the gradient flows through the finite elements only.
Tensor nan_to_num(const Tensor& t, std::optional<double> nan, std::optional<double> posinf,
                  std::optional<double> neginf) {
  Tensor out;
  if (!is_floating(t->dtype())) {
    NoGradGuard ng;  // integers carry no gradient
    out = clone(t);
  } else {
    NoGradGuard ng;
    const bool f32 = t->dtype() == DType::Float32;
    const double big = f32 ? double(std::numeric_limits<float>::max()) : std::numeric_limits<double>::max();
    Tensor d = detach(t);
    out = where(isnan(d), wrapped_scalar(nan.value_or(0.0), t->dtype()), d);
    out = where(logical_and(isinf(out), gt(out, num(0.0))), wrapped_scalar(posinf.value_or(big), t->dtype()), out);
    out = where(logical_and(isinf(out), lt(out, num(0.0))), wrapped_scalar(neginf.value_or(-big), t->dtype()), out);
  }
  auto n = make_node<NanToNumState>("NanToNumBackward0", {&t}, [](auto& n, variable_list& g) -> variable_list {
    return {mul(g[0], isfinite(n.saved_at(0)))};
  });
  if (n) n->save("self", t);
  return attach(n, out);
}

}  // namespace ember
