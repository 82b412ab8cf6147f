// Registry entries (Note [Op registry]) of the elementwise ops, comparisons,
// logic and bitwise ops, and the Python operators of Tensor.
#include "kernels/cuda_dispatch.h"
#include "python/registry.h"

namespace ember {
namespace bind {
namespace {

py::object not_implemented() { return py::reinterpret_borrow<py::object>(Py_NotImplemented); }

// One functor type per shape of op, so that all unary ops (and all binary
// ones) share one pybind11 instantiation: the build stays small.
struct Unary {
  Tensor (*fn)(const Tensor&);
  Tensor operator()(const Tensor& t) const { return fn(t); }
};
// `other` a tensor or a Python number.
struct Binary {
  Tensor (*fn)(const Tensor&, const Tensor&);
  const char* name;
  Tensor operator()(const Tensor& a, TensorOrNumber b) const { return fn(a, require_operand(b, name)); }
};
// `other` a tensor.
struct TensorBinary {
  Tensor (*fn)(const Tensor&, const Tensor&);
  Tensor operator()(const Tensor& a, const Tensor& b) const { return fn(a, b); }
};

// a + b, a < b, ...: NotImplemented for an operand that is neither a tensor nor
// a number, so Python tries the other operand's method. As in PyTorch, a numpy
// array on the right becomes a tensor, and on the left (reflected: the array's
// own operator gave way) it is refused.
struct Operator {
  Tensor (*fn)(const Tensor&, const Tensor&);
  bool reflected;
  py::object operator()(const Tensor& self, py::object h) const {
    Tensor other = reflected ? operand(h) : operand_or_array(h);
    if (!other && PyComplex_Check(h.ptr())) throw py::reference_cast_error();  // Note [Complex tensors]
    if (!other) return not_implemented();
    return py::cast(reflected ? fn(other, self) : fn(self, other));
  }
};
// a += b: in place, with the op's own in-place implementation.
struct InplaceOperator {
  Tensor& (*fn)(Tensor&, const Tensor&);
  py::object operator()(Tensor& self, py::handle h) const {
    Tensor other = operand_or_array(h);
    if (!other && PyComplex_Check(h.ptr())) throw py::reference_cast_error();  // Note [Complex tensors]
    if (!other) return not_implemented();
    fn(self, other);
    return py::cast(self);
  }
};

Tensor& add_1(Tensor& a, const Tensor& b) { return add_(a, b); }
Tensor& sub_1(Tensor& a, const Tensor& b) { return sub_(a, b); }
Tensor add_1(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor sub_1(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor rsub(const Tensor& a, const Tensor& b) { return renamed(sub(a, b), "RsubBackward1"); }
Tensor rdiv(const Tensor& a, const Tensor& b) { return mul(reciprocal(b), a); }
Tensor square(const Tensor& t) { return pow(t, wrapped_scalar(2.0, DType::Int64)); }

// a &= b, a <<= b, ...: the generic in-place form of a bitwise op.
template <Tensor (*Fn)(const Tensor&, const Tensor&)>
Tensor& bitwise_inplace(Tensor& self, const Tensor& other) {
  return apply_inplace(self, false, "bitwise operator", [&](const Tensor& s) { return Fn(s, other); });
}

// a //= b, a %= b: the op computed, then written into self (recorded when grad is needed).
template <Tensor (*Fn)(const Tensor&, const Tensor&)>
Tensor& recorded_inplace(Tensor& self, const Tensor& other) {
  bool records = GradMode::is_enabled() && (self->requires_grad() || other->requires_grad());
  return apply_inplace(self, records, "in-place operator", [&](const Tensor& s) { return Fn(s, other); });
}

// A number bound of clamp, as the dtype holds it: PyTorch converts it first, checked (Note [Scalar overflow]);
// a negative integer wraps into an unsigned dtype.
std::optional<double> opt_number(py::handle h, DType dtype) {
  if (h.is_none()) return std::nullopt;
  const double v = h.cast<double>();
  check_value_fits(v, dtype);
  if (!is_integral(dtype, false) || v >= 0 || !py::isinstance<py::int_>(h)) return v;
  return item_as_double(cast_for_kernel(wrapped_scalar(v, DType::Int64), dtype));
}

// clamp(min, max) with numbers, tensors or None for each bound.
Tensor clamp_any(const Tensor& t_in, py::handle lo, py::handle hi) {
  // The result's dtype promotes with the bounds, as PyTorch's (an integer tensor
  // clamped to 0.5 gives floats; bool to 1 gives int64).
  DType rt = t_in->dtype();
  for (py::handle bound : {lo, hi})
    if (!bound.is_none() && !is_tensor(bound)) rt = promote(rt, result_type(t_in, require_operand(bound, "clamp")));
  const Tensor t = rt == t_in->dtype() ? t_in : to_dtype(t_in, rt);
  if (is_tensor(lo) || is_tensor(hi)) {
    // a number beside a tensor bound is a 0-d bound of the result's dtype
    auto as_bound = [&](py::handle h) {
      if (h.is_none()) return Tensor();
      return is_tensor(h) ? h.cast<Tensor>() : wrapped_scalar(*opt_number(h, rt), rt);
    };
    return clamp(t, as_bound(lo), as_bound(hi));
  }
  return clamp(t, opt_number(lo, rt), opt_number(hi, rt));
}

void register_operators(OpRegistry& r) {
  r.family("operators");
  // Comparison and bitwise operators give bool or integer results: no gradient.
  const struct {
    const char* name;
    Tensor (*fn)(const Tensor&, const Tensor&);
    bool reflected;
    unsigned forms;
    const char* doc;
  } binary[] = {
      {"__add__", add_1, false, 0, "self + other"},
      {"__radd__", add_1, true, 0, "other + self"},
      {"__sub__", sub_1, false, 0, "self - other"},
      {"__rsub__", rsub, true, 0, "other - self"},
      {"__mul__", mul, false, 0, "self * other"},
      {"__rmul__", mul, true, 0, "other * self"},
      {"__truediv__", div, false, 0, "self / other"},
      {"__rtruediv__", rdiv, true, 0, "other / self"},
      {"__pow__", pow, false, 0, "self ** other"},
      {"__rpow__", pow, true, 0, "other ** self"},
      {"__matmul__", matmul, false, 0, "self @ other"},
      {"__rmatmul__", matmul, true, 0, "other @ self"},
      {"__eq__", eq, false, kNoGrad, "self == other, elementwise"},
      {"__ne__", ne, false, kNoGrad, "self != other, elementwise"},
      {"__lt__", lt, false, kNoGrad, "self < other, elementwise"},
      {"__le__", le, false, kNoGrad, "self <= other, elementwise"},
      {"__gt__", gt, false, kNoGrad, "self > other, elementwise"},
      {"__ge__", ge, false, kNoGrad, "self >= other, elementwise"},
      {"__and__", bitwise_and, false, kNoGrad, "self & other (bitwise; logical for bool)"},
      {"__rand__", bitwise_and, true, kNoGrad, "other & self"},
      {"__or__", bitwise_or, false, kNoGrad, "self | other (bitwise; logical for bool)"},
      {"__ror__", bitwise_or, true, kNoGrad, "other | self"},
      {"__xor__", bitwise_xor, false, kNoGrad, "self ^ other (bitwise; logical for bool)"},
      {"__rxor__", bitwise_xor, true, kNoGrad, "other ^ self"},
      {"__lshift__", bitwise_left_shift, false, kNoGrad, "self << other"},
      {"__rlshift__", bitwise_left_shift, true, kNoGrad, "other << self"},
      {"__rshift__", bitwise_right_shift, false, kNoGrad, "self >> other"},
      {"__rrshift__", bitwise_right_shift, true, kNoGrad, "other >> self"},
      {"__floordiv__", floor_divide, false, 0, "self // other"},
      {"__rfloordiv__", floor_divide, true, 0, "other // self"},
      {"__mod__", remainder, false, 0, "self % other (the sign of other, as Python's)"},
      {"__rmod__", remainder, true, 0, "other % self"},
  };
  for (auto& op : binary) r.method(op.name, op.forms, op.doc, Operator{op.fn, op.reflected}, py::arg("other"));
  const struct {
    const char* name;
    Tensor& (*fn)(Tensor&, const Tensor&);
    unsigned forms;
    const char* doc;
  } inplace[] = {
      {"__iadd__", add_1, 0, "self += other"},
      {"__isub__", sub_1, 0, "self -= other"},
      {"__imul__", mul_, 0, "self *= other"},
      {"__itruediv__", div_, 0, "self /= other"},
      {"__ipow__", pow_, 0, "self **= other"},
      {"__ifloordiv__", recorded_inplace<floor_divide>, 0, "self //= other"},
      {"__imod__", recorded_inplace<remainder>, 0, "self %= other"},
      {"__iand__", bitwise_inplace<bitwise_and>, kNoGrad, "self &= other"},
      {"__ior__", bitwise_inplace<bitwise_or>, kNoGrad, "self |= other"},
      {"__ixor__", bitwise_inplace<bitwise_xor>, kNoGrad, "self ^= other"},
      {"__ilshift__", bitwise_inplace<bitwise_left_shift>, kNoGrad, "self <<= other"},
      {"__irshift__", bitwise_inplace<bitwise_right_shift>, kNoGrad, "self >>= other"},
  };
  for (auto& op : inplace) r.method(op.name, op.forms, op.doc, InplaceOperator{op.fn}, py::arg("other"));

  r.method("__neg__", 0, "-self", Unary{neg});
  r.method("__pos__", 0, "+self: self", [](const Tensor& t) { return t; });
  r.method("__abs__", 0, "abs(self)", Unary{abs});
  r.method("__invert__", kNoGrad, "~self: bitwise not (logical not for bool)", [](const Tensor& t) {
    EMBER_CHECK_KIND(!is_floating(t->dtype()), Type,
                     "~ (operator.invert) is only implemented on integer and Boolean-type tensors");
    return bitwise_not(t);
  });
  r.method("__bool__", kNoGrad, "The truth value of a one-element tensor.", [](const Tensor& t) {
    EMBER_CHECK(t->numel() == 1, "Boolean value of Tensor with more than one value is ambiguous");
    return item_as_double(t) != 0.0;
  });
  r.method("__float__", kNoGrad, "The value of a one-element tensor as a Python float.", [](const Tensor& t) {
    EMBER_CHECK_KIND(t->numel() == 1, Value, "only one element tensors can be converted to Python scalars");
    return item_as_double(t);
  });
  r.method("__int__", kNoGrad, "The value of a one-element tensor as a Python int.", [](const Tensor& t) -> py::object {
    EMBER_CHECK_KIND(t->numel() == 1, Value, "only one element tensors can be converted to Python scalars");
    if (t->dtype() == DType::UInt64) return py::int_(*kernels::host_copy(t)->data<uint64_t>());  // from 2**63 up
    if (!is_floating(t->dtype())) return py::int_(item_as_int64(t));
    // Python's int(float): ValueError for NaN, OverflowError for inf, exact for large values
    PyObject* v = PyLong_FromDouble(item_as_double(t));
    if (!v) throw py::error_already_set();
    return py::reinterpret_steal<py::object>(v);
  });
  r.method("__index__", kNoGrad, "The value of a one-element integer tensor, for use as an index.",
           [](const Tensor& t) {
             EMBER_CHECK_KIND(t->numel() == 1 && is_integral(t->dtype(), true), Type,
                              "only integer tensors of a single element can be converted to an index");
             return item_as_int64(t);
           });
  r.method("__hash__", kNoGrad, "Identity hash, as PyTorch: tensors are hashable by object.",
           [](py::handle self) { return (intptr_t)self.ptr(); });
}

// clamp with one bound, named as PyTorch's nodes (Backward0 for a number bound, Backward1 for a tensor).
struct OneBoundClamp {
  bool is_min;
  Tensor operator()(const Tensor& t, TensorOrNumber bound) const {
    Tensor r = is_min ? clamp_any(t, bound, py::none()) : clamp_any(t, py::none(), bound);
    const bool tensor_bound = is_tensor(bound);
    return renamed(r, is_min ? (tensor_bound ? "ClampMinBackward1" : "ClampMinBackward0")
                             : (tensor_bound ? "ClampMaxBackward1" : "ClampMaxBackward0"));
  }
};

// The elementwise functions of unary_math.cpp, lerp, addcmul and addcdiv.
void register_unary_math(OpRegistry& r) {
  const struct {
    const char* name;
    Tensor (*fn)(const Tensor&);
    const char* doc;
  } unary[] = {
      {"floor", floor, "Rounds each element down to an integer (integers unchanged)."},
      {"ceil", ceil, "Rounds each element up to an integer (integers unchanged)."},
      {"trunc", trunc, "Rounds each element toward zero (integers unchanged)."},
      {"frac", frac, "The fractional part of each element: input - trunc(input)."},
      {"asin", asin, "Returns the arcsine of each element."},
      {"acos", acos, "Returns the arccosine of each element."},
      {"atan", atan, "Returns the arctangent of each element."},
      {"sinh", sinh, "Returns the hyperbolic sine of each element."},
      {"cosh", cosh, "Returns the hyperbolic cosine of each element."},
      {"asinh", asinh, "Returns the inverse hyperbolic sine of each element."},
      {"acosh", acosh, "Returns the inverse hyperbolic cosine of each element."},
      {"atanh", atanh, "Returns the inverse hyperbolic tangent of each element."},
      {"log2", log2, "Returns the base-2 logarithm of each element."},
      {"log10", log10, "Returns the base-10 logarithm of each element."},
      {"exp2", exp2, "Returns 2 raised to each element."},
      {"erfc", erfc, "Returns the complementary error function 1 - erf(input) of each element."},
      {"erfinv", erfinv, "Returns the inverse error function of each element."},
      {"lgamma", lgamma, "Returns log |Gamma(input)| for each element."},
      {"digamma", digamma, "Returns the digamma function (the derivative of lgamma) of each element."},
      {"i0", i0, "Returns the modified Bessel function of the first kind of order 0, I0, of each element."},
  };
  for (auto& op : unary) r.op(op.name, kAll, op.doc, Unary{op.fn});
  r.alias("fix", "trunc").alias("arcsin", "asin").alias("arccos", "acos").alias("arctan", "atan");
  r.alias("arcsinh", "asinh").alias("arccosh", "acosh").alias("arctanh", "atanh");
  r.op(
      "round", kAll, "Rounds each element to the nearest integer, half to even, or to `decimals` decimal places.",
      [](const Tensor& t, int64_t decimals) { return round(t, decimals); }, py::kw_only(), py::arg("decimals") = 0);
  r.function(
      "polygamma", kOut, "The n-th derivative of the digamma function, elementwise.",
      [](int64_t n, const Tensor& t) { return polygamma(n, t); }, py::arg("n"), py::arg("input"));
  r.method(
      "polygamma", 0, "The n-th derivative of the digamma function, elementwise.",
      [](const Tensor& t, int64_t n) { return polygamma(n, t); }, py::arg("n"));
  r.inplace(
      "polygamma", "In-place version of :meth:`Tensor.polygamma`.",
      [](Tensor& t, int64_t n) -> Tensor& {
        bool records = GradMode::is_enabled() && t->requires_grad();
        return apply_inplace(t, records, "polygamma_", [&](const Tensor& s) { return polygamma(n, s); });
      },
      py::arg("n"));
  r.op(
      "mvlgamma", kAll, "The multivariate log-gamma function of dimension p, elementwise.",
      [](const Tensor& t, int64_t p) { return mvlgamma(t, p); }, py::arg("p"));
  r.op(
      "nan_to_num", kAll,
      "Replaces NaN by `nan`, +inf by `posinf` and -inf by `neginf` (by default 0 and the dtype's largest and "
      "lowest values).",
      [](const Tensor& t, std::optional<double> nan, std::optional<double> posinf, std::optional<double> neginf) {
        return nan_to_num(t, nan, posinf, neginf);
      },
      py::arg("nan") = 0.0, py::arg("posinf") = py::none(), py::arg("neginf") = py::none());
  r.op("clamp_min", kAll, "Clamps each element to at least min (a number or a tensor).", OneBoundClamp{true},
       py::arg("min"));
  r.op("clamp_max", kAll, "Clamps each element to at most max (a number or a tensor).", OneBoundClamp{false},
       py::arg("max"));
  r.op(
      "lerp", kAll, "Linear interpolation input + weight * (end - input); weight a number or a tensor.",
      [](const Tensor& t, const Tensor& end, TensorOrNumber w) {
        return lerp(t, end, require_operand(w, "lerp", "weight"));
      },
      py::arg("end"), py::arg("weight"));
  r.op(
      "addcmul", kAll, "input + value * tensor1 * tensor2 (broadcasting).",
      [](const Tensor& t, const Tensor& a, const Tensor& b, double v) { return addcmul(t, a, b, v); },
      py::arg("tensor1"), py::arg("tensor2"), py::kw_only(), py::arg("value") = 1.0);
  r.op(
      "addcdiv", kAll, "input + value * tensor1 / tensor2 (broadcasting; float division).",
      [](const Tensor& t, const Tensor& a, const Tensor& b, double v) { return addcdiv(t, a, b, v); },
      py::arg("tensor1"), py::arg("tensor2"), py::kw_only(), py::arg("value") = 1.0);
  // torch.special's functions that torch has no top-level name for: private, re-exported by ember.special.
  def_private(
      r.module(), "_special_xlog1py",
      [](const Tensor& a, TensorOrNumber b) { return xlog1py(a, require_operand(b, "xlog1py")); },
      "input * log1p(other), 0 where input is 0.", py::arg("input"), py::arg("other"));
  def_private(
      r.module(), "_special_zeta",
      [](const Tensor& a, TensorOrNumber b) { return zeta(a, require_operand(b, "zeta")); },
      "The Hurwitz zeta function of input (s) and other (q).", py::arg("input"), py::arg("other"));
  const struct {
    const char* name;
    Tensor (*fn)(const Tensor&);
    const char* doc;
  } special[] = {
      {"_special_i0e", special_i0e, "The exponentially scaled modified Bessel function of order 0: exp(-|x|) I0(x)."},
      {"_special_i1", special_i1, "The modified Bessel function of the first kind of order 1, I1."},
      {"_special_i1e", special_i1e, "The exponentially scaled modified Bessel function of order 1: exp(-|x|) I1(x)."},
      {"_special_erfcx", special_erfcx, "The scaled complementary error function exp(x^2) erfc(x)."},
      {"_special_bessel_j0", bessel_j0, "The Bessel function of the first kind of order 0 (not differentiable)."},
      {"_special_bessel_j1", bessel_j1, "The Bessel function of the first kind of order 1 (not differentiable)."},
      {"_special_bessel_y0", bessel_y0, "The Bessel function of the second kind of order 0 (not differentiable)."},
      {"_special_bessel_y1", bessel_y1, "The Bessel function of the second kind of order 1 (not differentiable)."},
      {"_special_modified_bessel_i0", modified_bessel_i0, "I0, as i0 but not differentiable."},
      {"_special_modified_bessel_i1", modified_bessel_i1, "I1, as i1 but not differentiable."},
      {"_special_modified_bessel_k0", modified_bessel_k0,
       "The modified Bessel function of the second kind of order 0 (not differentiable)."},
      {"_special_modified_bessel_k1", modified_bessel_k1,
       "The modified Bessel function of the second kind of order 1 (not differentiable)."},
      {"_special_scaled_modified_bessel_k0", scaled_modified_bessel_k0, "exp(x) K0(x) (not differentiable)."},
      {"_special_scaled_modified_bessel_k1", scaled_modified_bessel_k1, "exp(x) K1(x) (not differentiable)."},
      {"_special_airy_ai", airy_ai, "Airy's function Ai (not differentiable)."},
      {"_special_spherical_bessel_j0", spherical_bessel_j0,
       "The spherical Bessel function of the first kind of order 0, sin(x)/x (not differentiable)."},
  };
  for (auto& op : special) def_private(r.module(), op.name, op.fn, op.doc, py::arg("input"));
}

// A uint8 condition is read as a mask, as PyTorch does, with its deprecation warning.
Tensor where_condition(const Tensor& c) {
  return byte_as_mask(c,
                      "where received a uint8 condition tensor. This behavior is deprecated and will be removed in a "
                      "future version of PyTorch. Use a boolean condition instead.");
}

void register_elementwise(OpRegistry& r) {
  r.family("elementwise");
  r.op(
      "add", kFunction | kMethod | kOut, "Adds other, scaled by alpha, to input: input + alpha * other (broadcasting).",
      [](const Tensor& a, TensorOrNumber b, double alpha) { return add(a, require_operand(b, "add"), alpha); },
      py::arg("other"), py::kw_only(), py::arg("alpha") = 1.0);
  r.inplace(
      "add", "In-place version of :meth:`Tensor.add`.",
      [](Tensor& a, TensorOrNumber b, double alpha) -> Tensor& { return add_(a, require_operand(b, "add_"), alpha); },
      py::arg("other"), py::kw_only(), py::arg("alpha") = 1.0);
  r.op(
      "sub", kFunction | kMethod | kOut, "Subtracts other, scaled by alpha, from input: input - alpha * other.",
      [](const Tensor& a, TensorOrNumber b, double alpha) { return sub(a, require_operand(b, "sub"), alpha); },
      py::arg("other"), py::kw_only(), py::arg("alpha") = 1.0);
  r.inplace(
      "sub", "In-place version of :meth:`Tensor.sub`.",
      [](Tensor& a, TensorOrNumber b, double alpha) -> Tensor& { return sub_(a, require_operand(b, "sub_"), alpha); },
      py::arg("other"), py::kw_only(), py::arg("alpha") = 1.0);
  r.alias("subtract", "sub");
  r.op("mul", kFunction | kMethod | kOut, "Multiplies input by other, elementwise (broadcasting).", Binary{mul, "mul"},
       py::arg("other"));
  r.inplace(
      "mul", "In-place version of :meth:`Tensor.mul`.",
      [](Tensor& a, TensorOrNumber b) -> Tensor& { return mul_(a, require_operand(b, "mul_")); }, py::arg("other"));
  r.alias("multiply", "mul");
  r.op(
      "div", kFunction | kMethod | kOut,
      "Divides input by other, elementwise: true division (integers give floats), or rounded with rounding_mode "
      "'trunc' or 'floor' (integers stay integers; zero gradient).",
      [](const Tensor& a, TensorOrNumber b, std::optional<std::string> mode) {
        return div_rounding(a, require_operand(b, "div"), mode);
      },
      py::arg("other"), py::kw_only(), py::arg("rounding_mode") = py::none());
  r.inplace(
      "div", "In-place version of :meth:`Tensor.div`.",
      [](Tensor& a, TensorOrNumber b, std::optional<std::string> mode) -> Tensor& {
        Tensor other = require_operand(b, "div_");
        if (!mode) return div_(a, other);
        bool records = GradMode::is_enabled() && (a->requires_grad() || other->requires_grad());
        return apply_inplace(a, records, "div_", [&](const Tensor& s) { return div_rounding(s, other, mode); });
      },
      py::arg("other"), py::kw_only(), py::arg("rounding_mode") = py::none());
  r.alias("divide", "div").alias("true_divide", "div");
  const struct {
    const char* name;
    Tensor (*fn)(const Tensor&, const Tensor&);
    const char* doc;
  } rounding[] = {
      {"floor_divide", floor_divide, "input / other rounded toward -inf (integers stay integers; zero gradient)."},
      {"remainder", remainder, "Python's input % other: the remainder of floor division, with the sign of other."},
      {"fmod", fmod, "C's fmod: the remainder of truncating division, with the sign of input."},
      {"atan2", atan2, "The angle of the point (other, input): atan(input / other) in the right quadrant."},
      {"hypot", hypot, "sqrt(input ** 2 + other ** 2), without overflow."},
      {"logaddexp", logaddexp, "log(exp(input) + exp(other)), without overflow."},
      {"logaddexp2", logaddexp2, "log2(2 ** input + 2 ** other), without overflow."},
      {"xlogy", xlogy, "input * log(other), 0 where input is 0."},
      {"igamma", igamma, "The regularized lower incomplete gamma function P(input, other)."},
      {"igammac", igammac, "The regularized upper incomplete gamma function Q(input, other) = 1 - P(input, other)."},
  };
  for (auto& op : rounding) r.op(op.name, kAll, op.doc, Binary{op.fn, op.name}, py::arg("other"));
  r.alias("arctan2", "atan2");
  r.function(
      "pow", kOut, "Raises input to the power exponent, elementwise; either may be a Python number.",
      [](TensorOrNumber a, TensorOrNumber b) { return pow(require_operand(a, "pow"), require_operand(b, "pow")); },
      py::arg("input"), py::arg("exponent"));
  r.method("pow", 0, "Raises self to the power exponent, elementwise.", Binary{pow, "pow"}, py::arg("exponent"));
  r.inplace(
      "pow", "In-place version of :meth:`Tensor.pow`.",
      [](Tensor& a, TensorOrNumber b) -> Tensor& { return pow_(a, require_operand(b, "pow_")); }, py::arg("exponent"));
  r.op("maximum", kFunction | kMethod | kOut, "The elementwise maximum of input and other (NaN propagates).",
       TensorBinary{maximum}, py::arg("other"));
  r.op("minimum", kFunction | kMethod | kOut, "The elementwise minimum of input and other (NaN propagates).",
       TensorBinary{minimum}, py::arg("other"));

  const struct {
    const char* name;
    Tensor (*fn)(const Tensor&);
    const char* doc;
  } unary[] = {
      {"neg", neg, "Returns -input."},
      {"abs", abs, "Returns the absolute value of each element."},
      {"sqrt", sqrt, "Returns the square root of each element."},
      {"rsqrt", rsqrt, "Returns the reciprocal of the square root of each element."},
      {"exp", exp, "Returns e raised to each element."},
      {"log", log, "Returns the natural logarithm of each element."},
      {"log1p", log1p, "Returns log(1 + input), accurate for small input."},
      {"expm1", expm1, "Returns exp(input) - 1, accurate for small input."},
      {"sin", sin, "Returns the sine of each element."},
      {"cos", cos, "Returns the cosine of each element."},
      {"tan", tan, "Returns the tangent of each element."},
      {"tanh", tanh, "Returns the hyperbolic tangent of each element."},
      {"sigmoid", sigmoid, "Returns the logistic sigmoid 1 / (1 + exp(-input)) of each element."},
      {"sign", sign, "Returns the sign (-1, 0 or 1) of each element."},
      {"reciprocal", reciprocal, "Returns 1 / input."},
      {"erf", erf, "Returns the error function of each element."},
      {"square", square, "Returns input ** 2."},
  };
  for (auto& op : unary) r.op(op.name, kAll, op.doc, Unary{op.fn});
  r.alias("negative", "neg").alias("absolute", "abs");
  register_unary_math(r);
  r.op("relu", kFunction | kMethod | kInPlace, "Returns max(input, 0) elementwise.", Unary{relu});
  r.op(
      "clamp", kAll, "Clamps each element into [min, max]; each bound a number, a tensor or None.",
      [](const Tensor& t, OptionalNumber lo, OptionalNumber hi) { return clamp_any(t, lo, hi); },
      py::arg("min") = py::none(), py::arg("max") = py::none());
  r.alias("clip", "clamp");
  r.family("in-place");
  r.method(
      "copy_", 0,
      "Copies src into self (broadcasting, converting dtype); returns self. non_blocking: a copy from pinned host "
      "memory to a GPU is queued without waiting for it, as Tensor.to's.",
      [](Tensor& t, TensorOrNumber src, bool non_blocking) -> Tensor& {
        kernels::cuda_dispatch::NonBlockingCopies copies(non_blocking);
        return copy_(t, require_operand(src, "copy_"));
      },
      py::arg("src"), py::arg("non_blocking") = false);
  r.method(
      "fill_", 0, "Fills self with value (a number or a 0-d tensor); returns self.",
      [](Tensor& t, TensorOrNumber v) -> Tensor& { return fill_(t, require_operand(v, "fill_", "value")); },
      py::arg("value"));
  r.method("zero_", 0, "Fills self with zeros; returns self.", [](Tensor& t) -> Tensor& { return zero_(t); });
  r.family("elementwise");
  r.function(
      "where", kOut,
      "Chooses input where condition is true, else other, elementwise (broadcasting); where(condition) alone is "
      "nonzero(condition, as_tuple=True).",
      [](const Tensor& c, OptionalNumber a, OptionalNumber b) -> py::object {
        if (a.is_none() && b.is_none()) return nonzero_tuple(c);
        if (a.is_none() || b.is_none()) throw py::type_error("where() expected both input and other, or neither");
        return py::cast(where(where_condition(c), require_operand(a, "where"), require_operand(b, "where")));
      },
      py::arg("condition"), py::arg("input") = py::none(), py::arg("other") = py::none());
  r.method(
      "where", 0, "Chooses self where condition is true, else other, elementwise.",
      [](const Tensor& self, const Tensor& c, TensorOrNumber b) {
        return where(where_condition(c), self, require_operand(b, "where"));
      },
      py::arg("condition"), py::arg("other"));
}

void register_logic(OpRegistry& r) {
  r.family("comparison and logic");
  const struct {
    const char* name;
    Tensor (*fn)(const Tensor&, const Tensor&);
    const char* doc;
  } compare[] = {
      {"eq", eq, "input == other, elementwise (bool)."}, {"ne", ne, "input != other, elementwise (bool)."},
      {"lt", lt, "input < other, elementwise (bool)."},  {"le", le, "input <= other, elementwise (bool)."},
      {"gt", gt, "input > other, elementwise (bool)."},  {"ge", ge, "input >= other, elementwise (bool)."},
  };
  for (auto& op : compare) r.op(op.name, kAll | kNoGrad, op.doc, Binary{op.fn, op.name}, py::arg("other"));
  r.alias("not_equal", "ne").alias("less", "lt").alias("less_equal", "le").alias("greater", "gt");
  r.alias("greater_equal", "ge");
  const struct {
    const char* name;
    Tensor (*fn)(const Tensor&, const Tensor&);
    const char* doc;
  } logical[] = {
      {"logical_and", logical_and, "Elementwise logical AND of input and other (nonzero is true)."},
      {"logical_or", logical_or, "Elementwise logical OR of input and other (nonzero is true)."},
      {"logical_xor", logical_xor, "Elementwise logical XOR of input and other (nonzero is true)."},
  };
  for (auto& op : logical) r.op(op.name, kAll | kNoGrad, op.doc, TensorBinary{op.fn}, py::arg("other"));
  r.op("logical_not", kAll | kNoGrad, "Elementwise logical NOT (zero is true).", Unary{logical_not});
  const struct {
    const char* name;
    Tensor (*fn)(const Tensor&, const Tensor&);
    const char* doc;
  } bitwise[] = {
      {"bitwise_and", bitwise_and, "Bitwise AND of integer or bool tensors (logical AND for bool)."},
      {"bitwise_or", bitwise_or, "Bitwise OR of integer or bool tensors (logical OR for bool)."},
      {"bitwise_xor", bitwise_xor, "Bitwise XOR of integer or bool tensors (logical XOR for bool)."},
      {"bitwise_left_shift", bitwise_left_shift, "input << other for integer tensors."},
      {"bitwise_right_shift", bitwise_right_shift, "input >> other (arithmetic) for integer tensors."},
  };
  for (auto& op : bitwise) r.op(op.name, kAll | kNoGrad, op.doc, Binary{op.fn, op.name}, py::arg("other"));
  r.op("bitwise_not", kAll | kNoGrad, "Bitwise NOT of an integer tensor (logical NOT for bool).", Unary{bitwise_not});
  r.op("isnan", kFunction | kMethod | kNoGrad, "Whether each element is NaN.", Unary{isnan});
  r.op("isinf", kFunction | kMethod | kNoGrad, "Whether each element is +inf or -inf.", Unary{isinf});
  r.op("isfinite", kFunction | kMethod | kNoGrad, "Whether each element is finite (not NaN, not inf).",
       Unary{isfinite});
  r.op("signbit", kFunction | kMethod | kOut | kNoGrad, "Whether each element has its sign bit set (-0.0 included).",
       Unary{signbit});
}

}  // namespace

void register_math_ops(OpRegistry& r) {
  register_operators(r);
  register_elementwise(r);
  register_logic(r);
}

}  // namespace bind
}  // namespace ember
