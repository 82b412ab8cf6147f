// Operators, tensor methods and module functions. Each op is bound once as a
// method and, where PyTorch has one, as a function (`def_both`).
#include <cmath>

#include "core/rng.h"
#include "kernels/cpu/vec_math.h"
#include "ops/op_node.h"
#include "python/bindings.h"

namespace ember {
namespace bind {

static py::object not_implemented() { return py::reinterpret_borrow<py::object>(Py_NotImplemented); }

template <class F, class... Extra>
static void def_both(py::module_& m, TensorClass& cls, const char* name, F f, const Extra&... extra) {
  cls.def(name, f, extra...);
  m.def(name, f, py::arg("input"), extra...);
}


static std::optional<double> opt_number(py::handle h) {
  if (h.is_none()) return std::nullopt;
  return h.cast<double>();
}

static double norm_p(py::handle p) {
  if (p.is_none()) return 2.0;
  if (py::isinstance<py::str>(p)) {
    std::string s = p.cast<std::string>();
    if (s == "fro") return 2.0;
    EMBER_FAIL(Value, "norm: unsupported norm type '", s, "' (supported: numbers, inf, 'fro')");
  }
  return p.cast<double>();
}

// var/std accept (dim, unbiased, keepdim) or correction=.
static double correction_arg(py::handle unbiased, py::handle correction) {
  if (!correction.is_none()) return correction.cast<double>();
  if (!unbiased.is_none()) return unbiased.cast<bool>() ? 1.0 : 0.0;
  return 1.0;
}

static Tensor with_dtype(Tensor t, py::handle dtype) {
  auto dt = dtype_arg(dtype);
  return dt ? to_dtype(t, *dt) : t;
}

void init_tensor_ops(py::module_& m, TensorClass& cls) {
  // ---- operators
#define EMBER_BINARY_OPERATOR(pyname, expr)                          \
  cls.def(pyname, [](const Tensor& a, py::handle h) -> py::object {  \
    Tensor b = operand(h);                                           \
    if (!b) return not_implemented();                                \
    return py::cast(expr);                                           \
  })
  EMBER_BINARY_OPERATOR("__add__", add(a, b));
  EMBER_BINARY_OPERATOR("__radd__", add(a, b));
  EMBER_BINARY_OPERATOR("__sub__", sub(a, b));
  EMBER_BINARY_OPERATOR("__rsub__", renamed(sub(b, a), "RsubBackward1"));
  EMBER_BINARY_OPERATOR("__mul__", mul(a, b));
  EMBER_BINARY_OPERATOR("__rmul__", mul(a, b));
  EMBER_BINARY_OPERATOR("__truediv__", div(a, b));
  EMBER_BINARY_OPERATOR("__rtruediv__", mul(reciprocal(a), b));
  EMBER_BINARY_OPERATOR("__pow__", pow(a, b));
  EMBER_BINARY_OPERATOR("__rpow__", pow(b, a));
  EMBER_BINARY_OPERATOR("__matmul__", matmul(a, b));
  EMBER_BINARY_OPERATOR("__rmatmul__", matmul(b, a));
  EMBER_BINARY_OPERATOR("__eq__", eq(a, b));
  EMBER_BINARY_OPERATOR("__ne__", ne(a, b));
  EMBER_BINARY_OPERATOR("__lt__", lt(a, b));
  EMBER_BINARY_OPERATOR("__le__", le(a, b));
  EMBER_BINARY_OPERATOR("__gt__", gt(a, b));
  EMBER_BINARY_OPERATOR("__ge__", ge(a, b));
  EMBER_BINARY_OPERATOR("__and__", logical_and(a, b));
  EMBER_BINARY_OPERATOR("__or__", logical_or(a, b));
  EMBER_BINARY_OPERATOR("__xor__", logical_xor(a, b));
  EMBER_BINARY_OPERATOR("__rand__", logical_and(a, b));
  EMBER_BINARY_OPERATOR("__ror__", logical_or(a, b));
#undef EMBER_BINARY_OPERATOR
#define EMBER_INPLACE_OPERATOR(pyname, fn)                           \
  cls.def(pyname, [](Tensor& a, py::handle h) -> py::object {        \
    Tensor b = operand(h);                                           \
    if (!b) return not_implemented();                                \
    fn(a, b);                                                        \
    return py::cast(a);                                              \
  })
  EMBER_INPLACE_OPERATOR("__iadd__", add_);
  EMBER_INPLACE_OPERATOR("__isub__", sub_);
  EMBER_INPLACE_OPERATOR("__imul__", mul_);
  EMBER_INPLACE_OPERATOR("__itruediv__", div_);
  EMBER_INPLACE_OPERATOR("__ipow__", pow_);
#undef EMBER_INPLACE_OPERATOR
  cls.def("__neg__", [](const Tensor& t) { return neg(t); });
  cls.def("__pos__", [](const Tensor& t) { return t; });
  cls.def("__abs__", [](const Tensor& t) { return abs(t); });
  cls.def("__invert__", [](const Tensor& t) {
    EMBER_CHECK(!is_floating(t->dtype()), "bitwise_not_cpu not implemented for '", dtype_name(t->dtype()), "'");
    EMBER_CHECK(t->dtype() == DType::Bool, "ember: ~ is only implemented for bool tensors");
    return logical_not(t);
  });
  cls.def("__bool__", [](const Tensor& t) {
    EMBER_CHECK(t->numel() == 1, "Boolean value of Tensor with more than one value is ambiguous");
    return item_as_double(t) != 0.0;
  });
  cls.def("__float__", [](const Tensor& t) {
    EMBER_CHECK_KIND(t->numel() == 1, Type, "only one element tensors can be converted to Python scalars");
    return item_as_double(t);
  });
  cls.def("__int__", [](const Tensor& t) {
    EMBER_CHECK_KIND(t->numel() == 1, Type, "only one element tensors can be converted to Python scalars");
    return (int64_t)item_as_double(t);
  });
  cls.def("__index__", [](const Tensor& t) {
    EMBER_CHECK_KIND(t->numel() == 1 && is_integral(t->dtype(), true), Type,
                     "only integer tensors of a single element can be converted to an index");
    return (int64_t)item_as_double(t);
  });
  cls.def("__hash__", [](py::handle self) { return (intptr_t)self.ptr(); });

  // ---- elementwise
  def_both(m, cls, "add", [](const Tensor& a, py::handle b, double alpha) { return add(a, require_operand(b, "add"), alpha); },
           py::arg("other"), py::kw_only(), py::arg("alpha") = 1.0);
  def_both(m, cls, "sub", [](const Tensor& a, py::handle b, double alpha) { return sub(a, require_operand(b, "sub"), alpha); },
           py::arg("other"), py::kw_only(), py::arg("alpha") = 1.0);
  def_both(m, cls, "mul", [](const Tensor& a, py::handle b) { return mul(a, require_operand(b, "mul")); }, py::arg("other"));
  def_both(m, cls, "div", [](const Tensor& a, py::handle b) { return div(a, require_operand(b, "div")); }, py::arg("other"));
  def_both(m, cls, "true_divide", [](const Tensor& a, py::handle b) { return div(a, require_operand(b, "div")); }, py::arg("other"));
  cls.def("pow", [](const Tensor& a, py::handle b) { return pow(a, require_operand(b, "pow")); }, py::arg("exponent"));
  m.def("pow", [](py::handle a, py::handle b) { return pow(require_operand(a, "pow"), require_operand(b, "pow")); },
        py::arg("input"), py::arg("exponent"));
  def_both(m, cls, "maximum", [](const Tensor& a, const Tensor& b) { return maximum(a, b); }, py::arg("other"));
  def_both(m, cls, "minimum", [](const Tensor& a, const Tensor& b) { return minimum(a, b); }, py::arg("other"));
  def_both(m, cls, "eq", [](const Tensor& a, py::handle b) { return eq(a, require_operand(b, "eq")); }, py::arg("other"));
  def_both(m, cls, "ne", [](const Tensor& a, py::handle b) { return ne(a, require_operand(b, "ne")); }, py::arg("other"));
  def_both(m, cls, "lt", [](const Tensor& a, py::handle b) { return lt(a, require_operand(b, "lt")); }, py::arg("other"));
  def_both(m, cls, "le", [](const Tensor& a, py::handle b) { return le(a, require_operand(b, "le")); }, py::arg("other"));
  def_both(m, cls, "gt", [](const Tensor& a, py::handle b) { return gt(a, require_operand(b, "gt")); }, py::arg("other"));
  def_both(m, cls, "ge", [](const Tensor& a, py::handle b) { return ge(a, require_operand(b, "ge")); }, py::arg("other"));
  def_both(m, cls, "logical_and", [](const Tensor& a, const Tensor& b) { return logical_and(a, b); }, py::arg("other"));
  def_both(m, cls, "logical_or", [](const Tensor& a, const Tensor& b) { return logical_or(a, b); }, py::arg("other"));
  def_both(m, cls, "logical_xor", [](const Tensor& a, const Tensor& b) { return logical_xor(a, b); }, py::arg("other"));
#define EMBER_UNARY(name, fn) def_both(m, cls, name, [](const Tensor& t) { return fn(t); })
  EMBER_UNARY("neg", neg);
  EMBER_UNARY("negative", neg);
  EMBER_UNARY("abs", abs);
  EMBER_UNARY("absolute", abs);
  EMBER_UNARY("sqrt", sqrt);
  EMBER_UNARY("rsqrt", rsqrt);
  EMBER_UNARY("exp", exp);
  EMBER_UNARY("log", log);
  EMBER_UNARY("log1p", log1p);
  EMBER_UNARY("expm1", expm1);
  EMBER_UNARY("sin", sin);
  EMBER_UNARY("cos", cos);
  EMBER_UNARY("tan", tan);
  EMBER_UNARY("tanh", tanh);
  EMBER_UNARY("sigmoid", sigmoid);
  EMBER_UNARY("relu", relu);
  EMBER_UNARY("sign", sign);
  EMBER_UNARY("reciprocal", reciprocal);
  EMBER_UNARY("erf", erf);
  EMBER_UNARY("logical_not", logical_not);
  EMBER_UNARY("isnan", isnan);
  EMBER_UNARY("isinf", isinf);
  EMBER_UNARY("isfinite", isfinite);
#undef EMBER_UNARY
  def_both(m, cls, "square", [](const Tensor& t) { return pow(t, wrapped_scalar(2.0, DType::Int64)); });
  auto clamp_fn = [](const Tensor& t, py::handle lo, py::handle hi) {
    if (is_tensor(lo) || is_tensor(hi)) {
      Tensor r = t;
      if (is_tensor(lo)) r = maximum(r, lo.cast<Tensor>());
      else if (!lo.is_none()) r = clamp(r, lo.cast<double>(), std::nullopt);
      if (is_tensor(hi)) r = minimum(r, hi.cast<Tensor>());
      else if (!hi.is_none()) r = clamp(r, std::nullopt, hi.cast<double>());
      return r;
    }
    return clamp(t, opt_number(lo), opt_number(hi));
  };
  def_both(m, cls, "clamp", clamp_fn, py::arg("min") = py::none(), py::arg("max") = py::none());
  def_both(m, cls, "clip", clamp_fn, py::arg("min") = py::none(), py::arg("max") = py::none());
  m.def("where", [](const Tensor& c, py::handle a, py::handle b) {
    return where(c, require_operand(a, "where"), require_operand(b, "where"));
  }, py::arg("condition"), py::arg("input"), py::arg("other"));
  cls.def("where", [](const Tensor& self, const Tensor& c, py::handle b) { return where(c, self, require_operand(b, "where")); },
          py::arg("condition"), py::arg("other"));

  // ---- in-place
  cls.def("add_", [](Tensor& a, py::handle b, double alpha) { return add_(a, require_operand(b, "add_"), alpha); },
          py::arg("other"), py::kw_only(), py::arg("alpha") = 1.0);
  cls.def("sub_", [](Tensor& a, py::handle b, double alpha) { return sub_(a, require_operand(b, "sub_"), alpha); },
          py::arg("other"), py::kw_only(), py::arg("alpha") = 1.0);
  cls.def("mul_", [](Tensor& a, py::handle b) { return mul_(a, require_operand(b, "mul_")); }, py::arg("other"));
  cls.def("div_", [](Tensor& a, py::handle b) { return div_(a, require_operand(b, "div_")); }, py::arg("other"));
  cls.def("pow_", [](Tensor& a, py::handle b) { return pow_(a, require_operand(b, "pow_")); }, py::arg("exponent"));
  cls.def("clamp_", [](Tensor& t, py::handle lo, py::handle hi) { return clamp_(t, opt_number(lo), opt_number(hi)); },
          py::arg("min") = py::none(), py::arg("max") = py::none());
  cls.def("zero_", [](Tensor& t) { return zero_(t); });
  cls.def("fill_", [](Tensor& t, py::handle v) { return fill_(t, require_operand(v, "fill_")); }, py::arg("value"));
  cls.def("copy_", [](Tensor& t, const Tensor& src) { return copy_(t, src); }, py::arg("src"));

  // ---- reductions
  def_both(m, cls, "sum", [](const Tensor& t, py::handle dim, bool keepdim, py::handle dtype) {
    return sum(t, dims_arg(dim), keepdim, dtype_arg(dtype));
  }, py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(), py::arg("dtype") = py::none());
  def_both(m, cls, "mean", [](const Tensor& t, py::handle dim, bool keepdim, py::handle dtype) {
    return mean(with_dtype(t, dtype), dims_arg(dim), keepdim);
  }, py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(), py::arg("dtype") = py::none());
  def_both(m, cls, "prod", [](const Tensor& t, py::handle dim, bool keepdim, py::handle dtype) {
    return prod(with_dtype(t, dtype), dim.is_none() ? std::nullopt : std::optional<int64_t>(dim.cast<int64_t>()), keepdim);
  }, py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(), py::arg("dtype") = py::none());
  auto extreme = [](bool is_max) {
    return [is_max](const Tensor& t, py::handle dim, bool keepdim) -> py::object {
      if (dim.is_none()) return py::cast(is_max ? max_all(t) : min_all(t));
      if (is_tensor(dim)) return py::cast(is_max ? maximum(t, dim.cast<Tensor>()) : minimum(t, dim.cast<Tensor>()));
      auto [v, i] = is_max ? max_dim(t, dim.cast<int64_t>(), keepdim) : min_dim(t, dim.cast<int64_t>(), keepdim);
      return make_return_pair(is_max ? "max" : "min", v, i);
    };
  };
  def_both(m, cls, "max", extreme(true), py::arg("dim") = py::none(), py::arg("keepdim") = false);
  def_both(m, cls, "min", extreme(false), py::arg("dim") = py::none(), py::arg("keepdim") = false);
  def_both(m, cls, "amax", [](const Tensor& t, py::handle dim, bool keepdim) { return amax(t, dims_arg(dim), keepdim); },
           py::arg("dim") = py::tuple(), py::arg("keepdim") = false);
  def_both(m, cls, "amin", [](const Tensor& t, py::handle dim, bool keepdim) { return amin(t, dims_arg(dim), keepdim); },
           py::arg("dim") = py::tuple(), py::arg("keepdim") = false);
  auto opt_dim = [](py::handle d) { return d.is_none() ? std::nullopt : std::optional<int64_t>(d.cast<int64_t>()); };
  def_both(m, cls, "argmax", [opt_dim](const Tensor& t, py::handle dim, bool keepdim) { return argmax(t, opt_dim(dim), keepdim); },
           py::arg("dim") = py::none(), py::arg("keepdim") = false);
  def_both(m, cls, "argmin", [opt_dim](const Tensor& t, py::handle dim, bool keepdim) { return argmin(t, opt_dim(dim), keepdim); },
           py::arg("dim") = py::none(), py::arg("keepdim") = false);
  def_both(m, cls, "all", [opt_dim](const Tensor& t, py::handle dim, bool keepdim) { return all(t, opt_dim(dim), keepdim); },
           py::arg("dim") = py::none(), py::arg("keepdim") = false);
  def_both(m, cls, "any", [opt_dim](const Tensor& t, py::handle dim, bool keepdim) { return any(t, opt_dim(dim), keepdim); },
           py::arg("dim") = py::none(), py::arg("keepdim") = false);
  auto var_like = [](bool is_std) {
    return [is_std](const Tensor& t, py::handle dim, py::handle unbiased, bool keepdim, py::handle correction) {
      if (PyBool_Check(dim.ptr())) {  // x.var(False): the legacy `unbiased` positional
        unbiased = dim;
        dim = py::none();
      }
      double c = correction_arg(unbiased, correction);
      return is_std ? ember::std(t, dims_arg(dim), c, keepdim) : var(t, dims_arg(dim), c, keepdim);
    };
  };
  def_both(m, cls, "var", var_like(false), py::arg("dim") = py::none(), py::arg("unbiased") = py::none(),
           py::arg("keepdim") = false, py::kw_only(), py::arg("correction") = py::none());
  def_both(m, cls, "std", var_like(true), py::arg("dim") = py::none(), py::arg("unbiased") = py::none(),
           py::arg("keepdim") = false, py::kw_only(), py::arg("correction") = py::none());
  def_both(m, cls, "norm", [](const Tensor& t, py::handle p, py::handle dim, bool keepdim, py::handle dtype) {
    return renamed(norm(with_dtype(t, dtype), norm_p(p), dims_arg(dim), keepdim), "LinalgVectorNormBackward0");
  }, py::arg("p") = "fro", py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(), py::arg("dtype") = py::none());
  def_both(m, cls, "logsumexp", [](const Tensor& t, py::handle dim, bool keepdim) { return logsumexp(t, dims_arg(dim), keepdim); },
           py::arg("dim"), py::arg("keepdim") = false);
  def_both(m, cls, "softmax", [](const Tensor& t, int64_t dim, py::handle dtype) { return softmax(with_dtype(t, dtype), dim); },
           py::arg("dim"), py::arg("dtype") = py::none());
  def_both(m, cls, "log_softmax", [](const Tensor& t, int64_t dim, py::handle dtype) { return log_softmax(with_dtype(t, dtype), dim); },
           py::arg("dim"), py::arg("dtype") = py::none());

  // ---- linear algebra
  def_both(m, cls, "matmul", [](const Tensor& a, const Tensor& b) { return matmul(a, b); }, py::arg("other"));
  def_both(m, cls, "mm", [](const Tensor& a, const Tensor& b) { return mm(a, b); }, py::arg("mat2"));
  def_both(m, cls, "bmm", [](const Tensor& a, const Tensor& b) { return bmm(a, b); }, py::arg("mat2"));
  def_both(m, cls, "addmm", [](const Tensor& input, const Tensor& a, const Tensor& b, double beta, double alpha) {
    return addmm(input, a, b, beta, alpha);
  }, py::arg("mat1"), py::arg("mat2"), py::kw_only(), py::arg("beta") = 1.0, py::arg("alpha") = 1.0);
  def_both(m, cls, "dot", [](const Tensor& a, const Tensor& b) { return dot(a, b); }, py::arg("other"));
  def_both(m, cls, "mv", [](const Tensor& a, const Tensor& b) { return mv(a, b); }, py::arg("vec"));
  def_both(m, cls, "outer", [](const Tensor& a, const Tensor& b) { return outer(a, b); }, py::arg("vec2"));
  m.def("ger", [](const Tensor& a, const Tensor& b) { return outer(a, b); }, py::arg("input"), py::arg("vec2"));

  // ---- views and shape
  cls.def("view", [](const Tensor& t, py::args shape) {
    if (shape.size() == 1 && py::isinstance<DType>(shape[0]))
      EMBER_FAIL(NotImplemented, "view(dtype) (reinterpreting the bytes as another dtype) is not supported by ember; "
                 "use .to(dtype) to convert values");
    return view(t, shape_args(shape));
  });
  cls.def("view_as", [](const Tensor& t, const Tensor& o) { return view(t, o->sizes()); }, py::arg("other"));
  cls.def("reshape", [](const Tensor& t, py::args shape) { return reshape(t, shape_args(shape)); });
  m.def("reshape", [](const Tensor& t, py::handle shape) { return reshape(t, dims_arg(shape)); }, py::arg("input"), py::arg("shape"));
  cls.def("reshape_as", [](const Tensor& t, const Tensor& o) { return reshape(t, o->sizes()); }, py::arg("other"));
  def_both(m, cls, "transpose", [](const Tensor& t, int64_t a, int64_t b) { return transpose(t, a, b); }, py::arg("dim0"), py::arg("dim1"));
  def_both(m, cls, "swapaxes", [](const Tensor& t, int64_t a, int64_t b) { return transpose(t, a, b); }, py::arg("axis0"), py::arg("axis1"));
  def_both(m, cls, "t", [](const Tensor& t) { return t_(t); });
  cls.def_property_readonly("T", [](const Tensor& t) {
    DimList d;
    for (int64_t i = t->dim() - 1; i >= 0; --i) d.push_back(i);
    return permute(t, d);
  });
  cls.def_property_readonly("mT", [](const Tensor& t) { return transpose(t, -2, -1); });
  cls.def("permute", [](const Tensor& t, py::args dims) { return permute(t, shape_args(dims)); });
  m.def("permute", [](const Tensor& t, py::handle dims) { return permute(t, dims_arg(dims)); }, py::arg("input"), py::arg("dims"));
  cls.def("expand", [](const Tensor& t, py::args shape) { return expand(t, shape_args(shape)); });
  cls.def("expand_as", [](const Tensor& t, const Tensor& o) { return expand(t, o->sizes()); }, py::arg("other"));
  def_both(m, cls, "squeeze", [](const Tensor& t, py::handle dim) {
    return squeeze(t, dim.is_none() ? std::nullopt : std::optional<DimList>(dims_arg(dim)));
  }, py::arg("dim") = py::none());
  def_both(m, cls, "unsqueeze", [](const Tensor& t, int64_t d) { return unsqueeze(t, d); }, py::arg("dim"));
  def_both(m, cls, "flatten", [](const Tensor& t, int64_t s, int64_t e) { return flatten(t, s, e); },
           py::arg("start_dim") = 0, py::arg("end_dim") = -1);
  def_both(m, cls, "narrow", [](const Tensor& t, int64_t d, int64_t s, int64_t l) { return narrow(t, d, s, l); },
           py::arg("dim"), py::arg("start"), py::arg("length"));
  def_both(m, cls, "select", [](const Tensor& t, int64_t d, int64_t i) { return select(t, d, i); }, py::arg("dim"), py::arg("index"));
  def_both(m, cls, "contiguous", [](const Tensor& t) { return contiguous(t); });
  def_both(m, cls, "clone", [](const Tensor& t) { return clone(t); });
  def_both(m, cls, "detach", [](const Tensor& t) { return detach(t); });

  // ---- joining, splitting, indexing
  m.def("cat", [](const TensorList& ts, int64_t dim) { return cat(ts, dim); }, py::arg("tensors"), py::arg("dim") = 0);
  m.def("concat", [](const TensorList& ts, int64_t dim) { return cat(ts, dim); }, py::arg("tensors"), py::arg("dim") = 0);
  m.def("concatenate", [](const TensorList& ts, int64_t dim) { return cat(ts, dim); }, py::arg("tensors"), py::arg("dim") = 0);
  m.def("stack", [](const TensorList& ts, int64_t dim) { return stack(ts, dim); }, py::arg("tensors"), py::arg("dim") = 0);
  def_both(m, cls, "split", [](const Tensor& t, py::handle size, int64_t dim) {
    TensorList r = PyLong_Check(size.ptr()) ? split(t, size.cast<int64_t>(), dim) : split_sizes(t, dims_arg(size), dim);
    return py::tuple(py::cast(r));
  }, py::arg("split_size_or_sections"), py::arg("dim") = 0);
  def_both(m, cls, "chunk", [](const Tensor& t, int64_t n, int64_t dim) { return py::tuple(py::cast(chunk(t, n, dim))); },
           py::arg("chunks"), py::arg("dim") = 0);
  def_both(m, cls, "unbind", [](const Tensor& t, int64_t dim) { return py::tuple(py::cast(unbind(t, dim))); }, py::arg("dim") = 0);
  def_both(m, cls, "gather", [](const Tensor& t, int64_t d, const Tensor& i) { return gather(t, d, i); }, py::arg("dim"), py::arg("index"));
  def_both(m, cls, "scatter_add", [](const Tensor& t, int64_t d, const Tensor& i, const Tensor& s) { return scatter_add(t, d, i, s); },
           py::arg("dim"), py::arg("index"), py::arg("src"));
  def_both(m, cls, "index_select", [](const Tensor& t, int64_t d, const Tensor& i) { return index_select(t, d, i); },
           py::arg("dim"), py::arg("index"));
  def_both(m, cls, "masked_fill", [](const Tensor& t, const Tensor& mask, py::handle v) {
    return masked_fill(t, mask, require_operand(v, "masked_fill"));
  }, py::arg("mask"), py::arg("value"));
  def_both(m, cls, "nonzero", [](const Tensor& t) { return nonzero(t); });

  // ---- dtype conversions
  cls.def("float", [](const Tensor& t) { return to_dtype(t, DType::Float32); });
  cls.def("double", [](const Tensor& t) { return to_dtype(t, DType::Float64); });
  cls.def("long", [](const Tensor& t) { return to_dtype(t, DType::Int64); });
  cls.def("int", [](const Tensor& t) { return to_dtype(t, DType::Int32); });
  cls.def("bool", [](const Tensor& t) { return to_dtype(t, DType::Bool); });
  cls.def("type_as", [](const Tensor& t, const Tensor& o) { return to_dtype(t, o->dtype()); }, py::arg("other"));
  cls.def("_to_dtype", [](const Tensor& t, DType d) { return to_dtype(t, d); }, py::arg("dtype"));

  // ---- Note [Vector math] switches, for tests and benchmarks
  m.def("_vec_math_isa", &kernels::vec_math_isa);
  m.def("_set_vec_math_enabled", &kernels::set_vec_math_enabled, py::arg("enabled"));

  // ---- creation (Python parses sizes; see ember/__init__.py)
  m.def("_full", [](const Shape& s, py::handle v, DType d) {
    Tensor val = require_operand(v, "full");
    return full(s, item_as_double(val), d);
  });
  m.def("_zeros", [](const Shape& s, DType d) { return zeros(s, d); });
  m.def("_ones", [](const Shape& s, DType d) { return ones(s, d); });
  m.def("_empty", [](const Shape& s, DType d) { return empty(s, d); });
  m.def("_arange", [](double a, double b, double s, DType d) { return arange(a, b, s, d); });
  m.def("_linspace", [](double a, double b, int64_t n, DType d) { return linspace(a, b, n, d); });
  m.def("_eye", [](int64_t n, int64_t k, DType d) { return eye(n, k, d); });
  m.def("_rand", [](const Shape& s, DType d, Generator* g) { return rand(s, d, g); },
        py::arg("size"), py::arg("dtype"), py::arg("generator") = nullptr);
  m.def("_randn", [](const Shape& s, DType d, Generator* g) { return randn(s, d, g); },
        py::arg("size"), py::arg("dtype"), py::arg("generator") = nullptr);
  m.def("_randint", [](int64_t lo, int64_t hi, const Shape& s, DType d, Generator* g) { return randint(lo, hi, s, d, g); },
        py::arg("low"), py::arg("high"), py::arg("size"), py::arg("dtype"), py::arg("generator") = nullptr);
  m.def("_randperm", [](int64_t n, DType d, Generator* g) { return randperm(n, d, g); },
        py::arg("n"), py::arg("dtype"), py::arg("generator") = nullptr);
  py::class_<Generator>(m, "Generator")
      .def(py::init([](py::object device) {
        if (!device.is_none()) check_device_available(py::isinstance<Device>(device) ? device.cast<Device>()
                                                                                    : parse_device(py::str(device)));
        return new Generator();
      }), py::arg("device") = py::none())
      .def("manual_seed", [](py::object self, uint64_t seed) {
        auto& g = self.cast<Generator&>();
        std::lock_guard<std::mutex> lock(g.mutex);
        g.seed = seed;
        g.engine.seed(seed);
        return self;
      }, py::arg("seed"))
      .def("initial_seed", [](Generator& g) { return g.seed; })
      .def_property_readonly("device", [](Generator&) { return Device{}; });
  m.def("default_generator", []() { return &Generator::default_cpu(); }, py::return_value_policy::reference);
  m.def("manual_seed", [](uint64_t seed) { manual_seed(seed); }, py::arg("seed"));
  m.def("initial_seed", &initial_seed);
  m.def("result_type", [](py::handle a, py::handle b) {
    return result_type(require_operand(a, "result_type"), require_operand(b, "result_type"));
  }, py::arg("tensor1"), py::arg("tensor2"));
}

}  // namespace bind
}  // namespace ember
