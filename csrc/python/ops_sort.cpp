// Registry entries (Note [Op registry]) of sorting and searching.
#include "python/registry.h"

namespace ember {
namespace bind {
namespace {

Tensor optional_tensor(py::handle h) { return h.is_none() ? Tensor() : h.cast<Tensor>(); }

// median and nanmedian: of all elements, or (values, indices) along dim.
struct Median {
  bool ignore_nan;
  py::object operator()(const Tensor& t, OptionalDim dim, bool keepdim) const {
    if (dim.is_none()) return py::cast(median_all(t, ignore_nan));
    auto [v, i] = median_dim(t, int_arg(dim), keepdim, ignore_nan);
    return make_return_pair(ignore_nan ? "nanmedian" : "median", v, i);
  }
};

// unique's result: values alone, or a tuple with the inverse and/or the counts.
py::object unique_result(const std::array<Tensor, 3>& r, bool return_inverse, bool return_counts) {
  if (!return_inverse && !return_counts) return py::cast(r[0]);
  py::list out;
  out.append(r[0]);
  if (return_inverse) out.append(r[1]);
  if (return_counts) out.append(r[2]);
  return py::tuple(out);
}

}  // namespace

void register_sort_ops(OpRegistry& r) {
  r.family("sorting and searching");
  r.op(
      "sort", kFunction | kMethod | kOut,
      "The named tuple (values, indices) of input sorted along dim (stably; NaN sorts as the largest value).",
      [](const Tensor& t, int64_t dim, bool descending, bool stable) {
        auto [v, i] = sort(t, dim, descending, stable);
        return make_return_pair("sort", v, i);
      },
      py::arg("dim") = -1, py::arg("descending") = false, py::kw_only(), py::arg("stable") = false);
  r.op(
      "argsort", kFunction | kMethod | kNoGrad, "The indices that sort input along dim (sort's indices).",
      [](const Tensor& t, int64_t dim, bool descending, bool stable) {
        NoGradGuard ng;
        return sort(t, dim, descending, stable).second;
      },
      py::arg("dim") = -1, py::arg("descending") = false, py::kw_only(), py::arg("stable") = false);
  r.op("msort", kFunction | kMethod | kOut, "input sorted along its first dim (sort(input, 0)'s values).",
       [](const Tensor& t) { return sort(t, 0, false, false).first; });
  r.op(
      "topk", kFunction | kMethod | kOut, "The named tuple (values, indices) of the k largest (or smallest) along dim.",
      [](const Tensor& t, int64_t k, int64_t dim, bool largest, bool sorted) {
        auto [v, i] = topk(t, k, dim, largest, sorted);
        return make_return_pair("topk", v, i);
      },
      py::arg("k"), py::arg("dim") = -1, py::arg("largest") = true, py::arg("sorted") = true);
  r.op(
      "kthvalue", kFunction | kMethod | kOut,
      "The named tuple (values, indices) of the k-th smallest element along dim.",
      [](const Tensor& t, int64_t k, int64_t dim, bool keepdim) {
        auto [v, i] = kthvalue(t, k, dim, keepdim);
        return make_return_pair("kthvalue", v, i);
      },
      py::arg("k"), py::arg("dim") = -1, py::arg("keepdim") = false);
  r.op("median", kFunction | kMethod | kOut,
       "The lower median of all elements (NaN if any is NaN); with dim, the named tuple (values, indices).",
       Median{false}, py::arg("dim") = py::none(), py::arg("keepdim") = false);
  r.op("nanmedian", kFunction | kMethod | kOut,
       "median ignoring NaN (NaN when a slice has only NaN); with dim, the named tuple (values, indices).",
       Median{true}, py::arg("dim") = py::none(), py::arg("keepdim") = false);
  r.function(
      "searchsorted", kOut | kNoGrad,
      "The indices where input's values would be inserted into the innermost dim of sorted_sequence to keep it "
      "sorted (after equal values when right=True or side='right').",
      [](const Tensor& seq, TensorOrNumber values, bool out_int32, bool right, std::optional<std::string> side,
         OptionalTensor sorter) {
        if (side) {
          EMBER_CHECK(*side == "left" || *side == "right",
                      "torch.searchsorted(): side can only be 'left' or 'right' but got ", *side);
          EMBER_CHECK(!(right && *side == "left"),
                      "torch.searchsorted(): side and right can't be set to opposites, got side of left while right "
                      "was True");
          right = *side == "right";
        }
        return searchsorted(seq, require_operand(values, "searchsorted"), out_int32, right, optional_tensor(sorter));
      },
      py::arg("sorted_sequence"), py::arg("input"), py::kw_only(), py::arg("out_int32") = false,
      py::arg("right") = false, py::arg("side") = py::none(), py::arg("sorter") = py::none());
  r.function(
      "bucketize", kOut | kNoGrad,
      "The index of the bucket of 1-D boundaries each element of input falls in (searchsorted with the roles "
      "swapped).",
      [](TensorOrNumber input, const Tensor& boundaries, bool out_int32, bool right) {
        EMBER_CHECK(boundaries->dim() == 1, "boundaries tensor must be 1 dimension, but got dim(", boundaries->dim(),
                    ")");
        return searchsorted(boundaries, require_operand(input, "bucketize"), out_int32, right, Tensor());
      },
      py::arg("input"), py::arg("boundaries"), py::kw_only(), py::arg("out_int32") = false, py::arg("right") = false);
  r.function(
      "isin", kOut | kNoGrad, "Whether each element of elements is in test_elements (either may be a number).",
      [](TensorOrNumber elements, TensorOrNumber test, bool assume_unique, bool invert) {
        return isin(require_operand(elements, "isin"), require_operand(test, "isin"), invert);
      },
      py::arg("elements"), py::arg("test_elements"), py::kw_only(), py::arg("assume_unique") = false,
      py::arg("invert") = false);
  r.op(
      "count_nonzero", kFunction | kMethod | kNoGrad, "The number of nonzero elements over dim (all dims when None).",
      [](const Tensor& t, Dims dim) { return count_nonzero(t, dims_arg(dim)); }, py::arg("dim") = py::none());
  r.op(
      "unique", kFunction | kMethod,
      "The sorted unique elements of input (or slices along dim), with the inverse indices and counts if asked.",
      [](const Tensor& t, bool sorted, bool return_inverse, bool return_counts, OptionalDim dim) {
        return unique_result(unique(t, optional_dim(dim), false), return_inverse, return_counts);
      },
      py::arg("sorted") = true, py::arg("return_inverse") = false, py::arg("return_counts") = false,
      py::arg("dim") = py::none());
  r.op(
      "unique_consecutive", kFunction | kMethod,
      "input with each run of equal consecutive elements (or slices along dim) kept once; inverse and counts if "
      "asked.",
      [](const Tensor& t, bool return_inverse, bool return_counts, OptionalDim dim) {
        return unique_result(unique(t, optional_dim(dim), true), return_inverse, return_counts);
      },
      py::arg("return_inverse") = false, py::arg("return_counts") = false, py::arg("dim") = py::none());
}

}  // namespace bind
}  // namespace ember
