// Registry entries (Note [Op registry]) of the reductions and softmax.
#include "python/registry.h"

namespace ember {
namespace bind {
namespace {

Tensor with_dtype(Tensor t, py::handle dtype) {
  auto dt = dtype_arg(dtype);
  return dt ? to_dtype(t, *dt) : t;
}

double norm_p(py::handle p) {
  if (p.is_none()) return 2.0;
  if (py::isinstance<py::str>(p)) {
    std::string s = p.cast<std::string>();
    if (s == "fro") return 2.0;
    EMBER_FAIL(Value, "norm: unsupported norm type '", s, "' (supported: numbers, inf, 'fro')");
  }
  return p.cast<double>();
}

// var/std accept (dim, unbiased, keepdim) or correction=.
double correction_arg(py::handle unbiased, py::handle correction) {
  if (!correction.is_none()) return correction.cast<double>();
  if (!unbiased.is_none()) return unbiased.cast<bool>() ? 1.0 : 0.0;
  return 1.0;
}

// max()/min(): over everything, over a dim (values, indices), or elementwise against a tensor.
struct Extreme {
  bool is_max;
  py::object operator()(const Tensor& t, py::handle dim, bool keepdim) const {
    if (dim.is_none()) return py::cast(is_max ? max_all(t) : min_all(t));
    if (is_tensor(dim)) return py::cast(is_max ? maximum(t, dim.cast<Tensor>()) : minimum(t, dim.cast<Tensor>()));
    auto [v, i] = is_max ? max_dim(t, int_arg(dim), keepdim) : min_dim(t, int_arg(dim), keepdim);
    return make_return_pair(is_max ? "max" : "min", v, i);
  }
};

struct VarLike {
  bool is_std;
  Tensor operator()(const Tensor& t, py::handle dim, py::handle unbiased, bool keepdim, py::handle correction) const {
    if (PyBool_Check(dim.ptr())) {  // x.var(False): the legacy `unbiased` positional
      unbiased = dim;
      dim = py::none();
    }
    double c = correction_arg(unbiased, correction);
    return is_std ? ember::std(t, dims_arg(dim), c, keepdim) : var(t, dims_arg(dim), c, keepdim);
  }
};

// amax, amin, logsumexp: (dims, keepdim).
struct DimsReduce {
  Tensor (*fn)(const Tensor&, const DimList&, bool);
  Tensor operator()(const Tensor& t, Dims dim, bool keepdim) const { return fn(t, dims_arg(dim), keepdim); }
};
// argmax, argmin, all, any: (optional dim, keepdim).
struct OptDimReduce {
  Tensor (*fn)(const Tensor&, std::optional<int64_t>, bool);
  Tensor operator()(const Tensor& t, OptionalDim dim, bool keepdim) const { return fn(t, optional_dim(dim), keepdim); }
};
struct Softmax {
  Tensor (*fn)(const Tensor&, int64_t);
  Tensor operator()(const Tensor& t, int64_t dim, OptionalDType dtype) const { return fn(with_dtype(t, dtype), dim); }
};

}  // namespace

void register_reduce_ops(OpRegistry& r) {
  r.family("reductions");
  const unsigned forms = kFunction | kMethod | kOut;
  r.op(
      "sum", forms, "Sums input over dim (all dims when None); dtype= casts first; integers sum as int64.",
      [](const Tensor& t, Dims dim, bool keepdim, OptionalDType dtype) {
        return sum(t, dims_arg(dim), keepdim, dtype_arg(dtype));
      },
      py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(), py::arg("dtype") = py::none());
  r.op(
      "mean", forms, "The mean of input over dim (all dims when None); floating dtypes only.",
      [](const Tensor& t, Dims dim, bool keepdim, OptionalDType dtype) {
        return mean(with_dtype(t, dtype), dims_arg(dim), keepdim);
      },
      py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(), py::arg("dtype") = py::none());
  r.op(
      "prod", forms, "The product of input's elements, over one dim or all of them.",
      [](const Tensor& t, OptionalDim dim, bool keepdim, OptionalDType dtype) {
        return prod(t, optional_dim(dim), keepdim, dtype_arg(dtype));
      },
      py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(), py::arg("dtype") = py::none());
  r.op("max", kFunction | kMethod | kOut,
       "The maximum of all elements; with dim, the named tuple (values, indices); with a tensor, the elementwise "
       "maximum.",
       Extreme{true}, py::arg("dim") = py::none(), py::arg("keepdim") = false);
  r.op("min", kFunction | kMethod | kOut,
       "The minimum of all elements; with dim, the named tuple (values, indices); with a tensor, the elementwise "
       "minimum.",
       Extreme{false}, py::arg("dim") = py::none(), py::arg("keepdim") = false);
  r.op("amax", forms, "The maximum over dim (all dims when empty); ties share the gradient.", DimsReduce{amax},
       py::arg("dim") = py::tuple(), py::arg("keepdim") = false);
  r.op("amin", forms, "The minimum over dim (all dims when empty); ties share the gradient.", DimsReduce{amin},
       py::arg("dim") = py::tuple(), py::arg("keepdim") = false);
  r.op("argmax", forms | kNoGrad, "The index of the maximum over dim (of the flattened input when None).",
       OptDimReduce{argmax}, py::arg("dim") = py::none(), py::arg("keepdim") = false);
  r.op("argmin", forms | kNoGrad, "The index of the minimum over dim (of the flattened input when None).",
       OptDimReduce{argmin}, py::arg("dim") = py::none(), py::arg("keepdim") = false);
  r.op("all", forms | kNoGrad, "Whether all elements are nonzero, over dim or everywhere.", OptDimReduce{all},
       py::arg("dim") = py::none(), py::arg("keepdim") = false);
  r.op("any", forms | kNoGrad, "Whether any element is nonzero, over dim or everywhere.", OptDimReduce{any},
       py::arg("dim") = py::none(), py::arg("keepdim") = false);
  r.op("var", forms,
       "The variance over dim, with Bessel's correction unless unbiased=False or correction= says otherwise.",
       VarLike{false}, py::arg("dim") = py::none(), py::arg("unbiased") = py::none(), py::arg("keepdim") = false,
       py::kw_only(), py::arg("correction") = py::none());
  r.op("std", forms, "The standard deviation over dim (see var for the correction).", VarLike{true},
       py::arg("dim") = py::none(), py::arg("unbiased") = py::none(), py::arg("keepdim") = false, py::kw_only(),
       py::arg("correction") = py::none());
  r.op("trace", kFunction | kMethod, "The sum of the diagonal of a matrix.", [](const Tensor& t) { return trace(t); });
  r.function(
      "var_mean", 0, "(var, mean) over dim, in one call (see var for the correction).",
      [](const Tensor& t, py::handle dim, py::handle unbiased, bool keepdim, py::handle correction) {
        Tensor v = VarLike{false}(t, dim, unbiased, keepdim, correction);
        return py::make_tuple(v, mean(t, PyBool_Check(dim.ptr()) ? DimList{} : dims_arg(dim), keepdim));
      },
      py::arg("input"), py::arg("dim") = py::none(), py::arg("unbiased") = py::none(), py::arg("keepdim") = false,
      py::kw_only(), py::arg("correction") = py::none());
  r.function(
      "std_mean", 0, "(std, mean) over dim, in one call (see var for the correction).",
      [](const Tensor& t, py::handle dim, py::handle unbiased, bool keepdim, py::handle correction) {
        Tensor v = VarLike{true}(t, dim, unbiased, keepdim, correction);
        return py::make_tuple(v, mean(t, PyBool_Check(dim.ptr()) ? DimList{} : dims_arg(dim), keepdim));
      },
      py::arg("input"), py::arg("dim") = py::none(), py::arg("unbiased") = py::none(), py::arg("keepdim") = false,
      py::kw_only(), py::arg("correction") = py::none());
  r.op(
      "norm", forms, "The p-norm of input over dim (all dims when None): p a number, inf, -inf or 'fro'.",
      [](const Tensor& t, py::handle p, Dims dim, bool keepdim, OptionalDType dtype) {
        return renamed(norm(with_dtype(t, dtype), norm_p(p), dims_arg(dim), keepdim), "LinalgVectorNormBackward0");
      },
      py::arg("p") = "fro", py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(),
      py::arg("dtype") = py::none());
  r.op(
      "nansum", forms, "sum treating NaN as zero.",
      [](const Tensor& t, Dims dim, bool keepdim, OptionalDType dtype) {
        return nansum(t, dims_arg(dim), keepdim, dtype_arg(dtype));
      },
      py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(), py::arg("dtype") = py::none());
  r.op(
      "nanmean", forms, "The mean of the elements that are not NaN.",
      [](const Tensor& t, Dims dim, bool keepdim, OptionalDType dtype) {
        return nanmean(t, dims_arg(dim), keepdim, dtype_arg(dtype));
      },
      py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(), py::arg("dtype") = py::none());
  r.family("cumulative");
  r.op(
      "cumsum", kAll, "The running sum along dim; integers sum as int64 unless dtype says otherwise.",
      [](const Tensor& t, int64_t dim, OptionalDType dtype) { return cumsum(t, dim, dtype_arg(dtype)); },
      py::arg("dim"), py::kw_only(), py::arg("dtype") = py::none());
  r.op(
      "cumprod", kAll, "The running product along dim; integers multiply as int64 unless dtype says otherwise.",
      [](const Tensor& t, int64_t dim, OptionalDType dtype) { return cumprod(t, dim, dtype_arg(dtype)); },
      py::arg("dim"), py::kw_only(), py::arg("dtype") = py::none());
  r.op(
      "logcumsumexp", kFunction | kMethod | kOut, "log(cumsum(exp(input))) along dim, computed without overflow.",
      [](const Tensor& t, int64_t dim) { return logcumsumexp(t, dim); }, py::arg("dim"));
  for (bool is_max : {true, false})
    r.op(
        is_max ? "cummax" : "cummin", kFunction | kMethod | kOut,
        is_max ? "The named tuple (values, indices) of the running maximum along dim (NaN propagates)."
               : "The named tuple (values, indices) of the running minimum along dim (NaN propagates).",
        [is_max](const Tensor& t, int64_t dim) {
          auto [v, i] = is_max ? cummax(t, dim) : cummin(t, dim);
          return make_return_pair(is_max ? "cummax" : "cummin", v, i);
        },
        py::arg("dim"));
  r.family("reductions");
  r.op("logsumexp", forms, "log(sum(exp(input))) over dim, computed without overflow.", DimsReduce{logsumexp},
       py::arg("dim"), py::arg("keepdim") = false);
  r.op("softmax", kFunction | kMethod, "exp(input) / sum(exp(input)) along dim; dtype= casts first.", Softmax{softmax},
       py::arg("dim"), py::arg("dtype") = py::none());
  r.op("log_softmax", kFunction | kMethod, "log(softmax(input)) along dim, computed stably; dtype= casts first.",
       Softmax{log_softmax}, py::arg("dim"), py::arg("dtype") = py::none());
  r.op("_safe_softmax", kFunction,
       "softmax along dim, with zeros for a slice whose values are all -inf (attention rows with every key "
       "masked) instead of NaN.",
       Softmax{safe_softmax}, py::arg("dim"), py::arg("dtype") = py::none());
}

}  // namespace bind
}  // namespace ember
