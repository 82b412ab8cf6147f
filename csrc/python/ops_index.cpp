// Registry entries (Note [Op registry]) of the ops that write or read along an
// index (index_add, scatter, masked_select, take, ...) and of the ops that
// move elements (flip, roll, rot90, repeat_interleave).
#include "python/registry.h"

namespace ember {
namespace bind {
namespace {

// The value of index_fill / scatter: a Python number, or a 0-d tensor; checked here, before a number is
// converted to the tensor's dtype (Note [Scalar overflow]).
Tensor fill_value(py::handle v, const Tensor& like, const char* op) {
  Tensor t = require_operand(v, op, "value");
  if (t->dim() == 0) check_value_fits(t, like->dtype());  // Note [Scalar overflow]
  if (t->is_wrapped_number && t->dtype() != like->dtype()) return wrapped_scalar(item_as_double(t), like->dtype());
  return t;
}

void register_index_updates(OpRegistry& r) {
  r.family("indexing");
  r.op(
      "index_add", kAll, "A copy of input with alpha * source added into the slices index picks along dim.",
      [](const Tensor& t, int64_t dim, const Tensor& index, const Tensor& source, double alpha) {
        return index_add(t, dim, index, source, alpha);
      },
      py::arg("dim"), py::arg("index"), py::arg("source"), py::kw_only(), py::arg("alpha") = 1.0);
  r.op(
      "index_copy", kAll, "A copy of input with the slices of source written where index points along dim.",
      [](const Tensor& t, int64_t dim, const Tensor& index, const Tensor& source) {
        return index_copy(t, dim, index, source);
      },
      py::arg("dim"), py::arg("index"), py::arg("source"));
  r.op(
      "index_fill", kFunction | kMethod | kInPlace, "A copy of input with value written in the slices index picks.",
      [](const Tensor& t, int64_t dim, const Tensor& index, TensorOrNumber value) {
        return index_fill(t, dim, index, fill_value(value, t, "index_fill"));
      },
      py::arg("dim"), py::arg("index"), py::arg("value"));
  r.op(
      "index_put", kFunction | kMethod | kInPlace,
      "A copy of input with values written (or added, accumulate=True) at the positions of a tuple of index "
      "tensors, one per leading dim.",
      [](const Tensor& t, const TensorList& indices, const Tensor& values, bool accumulate) {
        EMBER_CHECK(!indices.empty(), "index_put(): expected at least one index tensor, got none");
        EMBER_CHECK_KIND((int64_t)indices.size() <= t->dim(), Index, "too many indices for tensor of dimension ",
                         t->dim(), " (got ", indices.size(), ")");
        DimList dims;
        TensorList positions;
        for (Tensor index : indices) {
          index = byte_index_as_mask(index);
          if (index->dtype() == DType::Bool && index->dim() > 0) {  // a mask: the positions of its ones
            mask_as_positions(index, t, (int64_t)dims.size(), dims, positions);
          } else {
            dims.push_back((int64_t)dims.size());
            positions.push_back(index);
          }
        }
        check_index_put_dtypes(t, values, true);
        return index_put_along(t, dims, positions, to_dtype(values, t->dtype()), accumulate);
      },
      py::arg("indices"), py::arg("values"), py::arg("accumulate") = false);
  r.op(
      "scatter", kAll,
      "A copy of input with src (or value) written at index along dim; reduce='add' or 'multiply' combines "
      "instead.",
      [](const Tensor& t, int64_t dim, const Tensor& index, OptionalNumber src, OptionalNumber value,
         std::optional<std::string> reduce) {
        EMBER_CHECK_KIND(src.is_none() != value.is_none(), Type, "scatter() expected exactly one of src or value");
        Tensor s = src.is_none()     ? fill_value(value, t, "scatter")
                   : !is_tensor(src) ? fill_value(src, t, "scatter")
                                     : require_operand(src, "scatter", "src");
        if (reduce) {
          EMBER_CHECK(*reduce == "add" || *reduce == "multiply", "reduce argument must be either add or multiply, got ",
                      *reduce);
          Tensor full_src = s->dim() == 0 ? expand(to_dtype(s, t->dtype()), index->sizes()) : s;
          return scatter_reduce(t, dim, index, full_src, *reduce == "add" ? "sum" : "prod", true);
        }
        return s->dim() == 0 && (s->is_wrapped_number || !is_tensor(src)) ? scatter_value(t, dim, index, s)
                                                                          : scatter(t, dim, index, s);
      },
      py::arg("dim"), py::arg("index"), py::arg("src") = py::none(), py::kw_only(), py::arg("value") = py::none(),
      py::arg("reduce") = py::none());
  r.op(
      "masked_select", kFunction | kMethod | kOut, "The 1-D tensor of input's elements where mask is true.",
      [](const Tensor& t, const Tensor& mask) { return masked_select(t, mask); }, py::arg("mask"));
  r.op(
      "masked_scatter", kFunction | kMethod | kInPlace,
      "A copy of input with source's leading elements written, in order, where mask is true.",
      [](const Tensor& t, const Tensor& mask, const Tensor& source) { return masked_scatter(t, mask, source); },
      py::arg("mask"), py::arg("source"));
  r.op(
      "take", kFunction | kMethod | kOut, "The elements of the flattened input at index (in index's shape).",
      [](const Tensor& t, const Tensor& index) { return take(t, index); }, py::arg("index"));
  r.op(
      "put", kFunction | kMethod | kInPlace,
      "A copy of input with source written (or added, accumulate=True) at the flat positions of index.",
      [](const Tensor& t, const Tensor& index, const Tensor& source, bool accumulate) {
        return put(t, index, source, accumulate);
      },
      py::arg("index"), py::arg("source"), py::arg("accumulate") = false);
  r.op(
      "take_along_dim", kFunction | kMethod | kOut,
      "The values at indices along dim (indices broadcast with input elsewhere); of the flattened input when dim "
      "is None.",
      [](const Tensor& t, const Tensor& indices, OptionalDim dim) {
        return take_along_dim(t, indices, optional_dim(dim));
      },
      py::arg("indices"), py::arg("dim") = py::none());
}

void register_reorder(OpRegistry& r) {
  r.family("reordering");
  r.op(
      "flip", kFunction | kOut, "A copy with the order of elements reversed along dims.",
      [](const Tensor& t, py::handle dims) { return flip(t, dims_arg(dims, "dims")); }, py::arg("dims"));
  r.method("flip", 0, "A copy with the order of elements reversed along dims (as arguments, one sequence or dims=).",
           [](const Tensor& t, py::args dims, py::kwargs kwargs) {
             if (kwargs.contains("dims")) {
               if (dims.size() || kwargs.size() > 1)
                 throw py::type_error("flip() takes the dims as arguments or as dims=, not both");
               return flip(t, dims_arg(kwargs["dims"], "dims"));
             }
             if (kwargs.size()) throw py::type_error("flip() got an unexpected keyword argument");
             return flip(t, dims.size() == 1 ? dims_arg(dims[0], "dims") : shape_args(dims, "dims"));
           });
  r.op("fliplr", kFunction | kMethod | kOut, "A copy reversed left to right (dim 1).", [](const Tensor& t) {
    EMBER_CHECK(t->dim() >= 2, "Input must be >= 2-d.");
    return flip(t, {1});
  });
  r.op("flipud", kFunction | kMethod | kOut, "A copy reversed up to down (dim 0).", [](const Tensor& t) {
    EMBER_CHECK(t->dim() >= 1, "Input must be >= 1-d.");
    return flip(t, {0});
  });
  r.op(
      "roll", kFunction | kMethod | kOut,
      "A copy with elements shifted along dims, wrapping around (the flattened tensor when dims is empty).",
      [](const Tensor& t, py::handle shifts, py::handle dims) {
        return roll(t, dims_arg(shifts, "shifts"), dims_arg(dims, "dims"));
      },
      py::arg("shifts"), py::arg("dims") = py::tuple());
  r.op(
      "rot90", kFunction | kMethod | kOut, "A copy rotated k quarter turns in the plane of dims.",
      [](const Tensor& t, int64_t k, py::handle dims) { return rot90(t, k, dims_arg(dims, "dims")); }, py::arg("k") = 1,
      py::arg("dims") = py::make_tuple(0, 1));
  r.op(
      "repeat_interleave", kFunction | kMethod,
      "Each element (or slice along dim) repeated `repeats` times in place; repeats a number or one count per "
      "element. repeat_interleave(repeats) alone: the indices 0, 1, ... each repeated.",
      [](const Tensor& t, OptionalNumber repeats, OptionalDim dim, OptionalDim output_size) {
        std::optional<int64_t> size =
            output_size.is_none() ? std::nullopt : std::optional<int64_t>(output_size.cast<int64_t>());
        if (repeats.is_none()) return repeat_interleave_index(t, size);
        Tensor reps =
            is_tensor(repeats) ? repeats.cast<Tensor>() : wrapped_scalar(double(repeats.cast<int64_t>()), DType::Int64);
        std::optional<int64_t> d = optional_dim(dim);
        return repeat_interleave(t, reps, d, size);
      },
      py::arg("repeats") = py::none(), py::arg("dim") = py::none(), py::kw_only(), py::arg("output_size") = py::none());
}

}  // namespace

void register_index_ops(OpRegistry& r) {
  register_index_updates(r);
  register_reorder(r);
}

}  // namespace bind
}  // namespace ember
