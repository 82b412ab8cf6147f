// Sorting and searching: sort, topk, kthvalue, median, searchsorted, isin and
// unique. Values picked out of the input along a dim (sort, topk, kthvalue,
// median with dim) share one backward: the gradient scattered to the indices.
#include <cmath>

#include "core/cuda.h"
#include "kernels/cpu/sort.h"
#include "ops/op_node.h"

namespace ember {

namespace {  // a State is private to its op's file (Note [Node state])

// Values picked from the input along `dim` at saved "indices".
struct PickState {
  Shape self_sizes;
  int64_t dim = 0;
  bool keepdim = true;
  void fields(StateFields& f) const {
    f.add("dim", dim);
    f.add("keepdim", keepdim);
    f.add("self_sym_sizes", self_sizes);
  }
};

// An op PyTorch gives a node whose formula is missing (unique): the output
// requires grad, and backward raises with PyTorch's words.
struct MissingState {
  const char* op = "";
  void fields(StateFields&) const {}
};
}  // namespace

// `values` (taken from t along dim at `indices`) gets a node that scatters the gradient back there.
static Tensor attach_pick(const char* name, const Tensor& t, const Tensor& values, const Tensor& indices, int64_t dim,
                          bool keepdim) {
  auto n = make_node<PickState>(name, {&t}, [](auto& n, variable_list& g) -> variable_list {
    const PickState& s = n.state;
    if (s.self_sizes.empty()) return {g[0]};
    Tensor idx = n.saved_at(0), gk = g[0];
    if (!s.keepdim) {
      idx = unsqueeze(idx, s.dim);
      gk = unsqueeze(gk, s.dim);
    }
    return {scatter_add(zeros(s.self_sizes, g[0]->dtype()), s.dim, idx, gk)};
  });
  if (n) {
    n->state = {t->sizes(), dim, keepdim};
    n->save("indices", indices);
  }
  return attach(n, values);
}

// t sorted along d (outside autograd): values and int64 indices of t's shape.
static std::pair<Tensor, Tensor> sort_along(const Tensor& t, int64_t d, bool descending) {
  NoGradGuard ng;
  if (t->dim() == 0) return {clone(t), zeros({}, DType::Int64)};
  DimList perm, inv(t->dim());
  for (int64_t i = 0; i < t->dim(); ++i)
    if (i != d) perm.push_back(i);
  perm.push_back(d);
  for (size_t k = 0; k < perm.size(); ++k) inv[perm[k]] = (int64_t)k;
  Tensor x = contiguous(permute(t, perm));
  Tensor v = empty(x->sizes(), t->dtype()), i = empty(x->sizes(), DType::Int64);
  kernels::sort_rows(v, i, x, descending);
  return {contiguous(permute(v, inv)), contiguous(permute(i, inv))};
}

std::pair<Tensor, Tensor> sort(const Tensor& t, int64_t dim, bool descending, bool stable) {
  int64_t d = wrap_dim(dim, t->dim());
  auto [v, i] = sort_along(t, d, descending);  // always stable
  return {attach_pick("SortBackward0", t, v, i, d, true), i};
}

// PyTorch's order-statistic kernels have no bool instance (sort and mode do): they raise, naming the kernel.
static void refuse_bool(const Tensor& t, const char* kernel) {
  EMBER_CHECK_KIND(t->dtype() != DType::Bool, NotImplemented, "\"", kernel, "\" not implemented for 'Bool'");
}

std::pair<Tensor, Tensor> topk(const Tensor& t, int64_t k, int64_t dim, bool largest, bool sorted) {
  EMBER_CHECK(t->dtype() != DType::Bool || !t->device().is_cpu(), "topk does not support bool dtypes on CPU");
  int64_t d = wrap_dim(dim, t->dim());
  int64_t size = t->dim() ? t->size(d) : 1;
  EMBER_CHECK(k >= 0 && k <= size, "selected index k out of range");
  auto [v, i] = sort_along(t, d, largest);  // the k first, sorted whatever `sorted` says
  if (t->dim()) {
    NoGradGuard ng;
    v = contiguous(narrow(v, d, 0, k));
    i = contiguous(narrow(i, d, 0, k));
  }
  return {attach_pick("TopkBackward0", t, v, i, d, true), i};
}

// The element at sorted position pos[slice] of each slice of t along d.
static std::pair<Tensor, Tensor> pick_sorted(const Tensor& t, int64_t d, const Tensor& pos, bool keepdim) {
  NoGradGuard ng;
  auto [sv, si] = sort_along(t, d, false);
  Tensor v = gather(sv, d, pos), i = gather(si, d, pos);
  if (!keepdim) {
    v = squeeze(v, DimList{d});
    i = squeeze(i, DimList{d});
  }
  return {contiguous(v), contiguous(i)};
}

// A 0-d tensor picks itself (index 0).
static std::pair<Tensor, Tensor> pick_scalar(const char* name, const Tensor& t) {
  Tensor v;
  {
    NoGradGuard ng;
    v = clone(t);
  }
  Tensor i = zeros({}, DType::Int64);
  return {attach_pick(name, t, v, i, 0, true), i};
}

static Shape kept_shape(const Tensor& t, int64_t d) {
  Shape s = t->sizes();
  s[d] = 1;
  return s;
}

std::pair<Tensor, Tensor> kthvalue(const Tensor& t, int64_t k, int64_t dim, bool keepdim) {
  refuse_bool(t, "kthvalue_cpu");
  int64_t d = wrap_dim(dim, t->dim());
  int64_t size = t->dim() ? t->size(d) : 1;
  EMBER_CHECK_KIND(size > 0, Index, "kthvalue(): Expected reduction dim ", d, " to have non-zero size.");
  EMBER_CHECK(k >= 1 && k <= size, "kthvalue(): selected number k out of range for dimension ", d);
  if (t->dim() == 0) return pick_scalar("KthvalueBackward0", t);
  auto [v, i] = pick_sorted(t, d, full(kept_shape(t, d), (double)(k - 1), DType::Int64), keepdim);
  return {attach_pick("KthvalueBackward0", t, v, i, d, keepdim), i};
}

std::pair<Tensor, Tensor> median_dim(const Tensor& t, int64_t dim, bool keepdim, bool ignore_nan) {
  const char* op = ignore_nan ? "nanmedian" : "median";
  const char* name = ignore_nan ? "NanmedianBackward1" : "MedianBackward1";
  refuse_bool(t, "median_out");
  int64_t d = wrap_dim(dim, t->dim());
  EMBER_CHECK_KIND(t->dim() == 0 || t->size(d) > 0, Index, op, "(): Expected reduction dim ", d,
                   " to have non-zero size.");
  if (t->dim() == 0) return pick_scalar(name, t);
  // Sorted, NaNs come last: median picks the first NaN of a slice holding one,
  // nanmedian the lower median of the numbers (of the NaNs when all are NaN, as PyTorch).
  Tensor pos;
  {
    NoGradGuard ng;
    const int64_t n = t->size(d);
    const Tensor nans = sum(isnan(t), {d}, true), numbers = sub(int_num(n), nans);
    if (ignore_nan)  // (numbers ? numbers : n) - 1) / 2
      pos = floor_divide(sub(where(gt(numbers, int_num(0)), numbers, int_num(n)), int_num(1)), int_num(2));
    else
      pos = where(gt(nans, int_num(0)), numbers, int_num((n - 1) / 2));
    pos = contiguous(pos);
  }
  auto [v, i] = pick_sorted(t, d, pos, keepdim);
  return {attach_pick(name, t, v, i, d, keepdim), i};
}

// median(), nanmedian() of all elements: ties (and NaNs, for a NaN result) share the gradient evenly, as min()/max().
Tensor median_all(const Tensor& t, bool ignore_nan) {
  refuse_bool(t, "median_cpu");
  Tensor out;
  {
    NoGradGuard ng;
    out = t->numel() ? median_dim(reshape(t, {-1}), 0, false, ignore_nan).first : full({}, NAN, t->dtype());
  }
  auto n = make_node(ignore_nan ? "NanmedianBackward0" : "MedianBackward0", {&t},
                     [](auto& n, variable_list& g) -> variable_list {
                       Tensor x = n.saved_at(0), r = n.saved_at(1);
                       Tensor hit = logical_or(eq(x, r), logical_and(isnan(x), isnan(r)));
                       Tensor w = to_dtype(hit, g[0]->dtype());
                       return {div(mul(g[0], w), sum_all(w))};
                     });
  if (n) {
    n->save("self", t);
    attach(n, out);
    n->save_output("result", out);
  }
  return out;
}

Tensor searchsorted(const Tensor& sorted, const Tensor& values_in, bool out_int32, bool right, const Tensor& sorter) {
  check_same_device(*sorted, *values_in);  // a number (a 0-d CPU tensor) is searched for on the device
  const Tensor values = moved_to(values_in, sorted->device());
  EMBER_CHECK(sorted->dim() >= 1,
              "searchsorted(): boundaries tensor should have positive dimension, but got 0 dimension");
  bool leading_match = sorted->dim() == values->dim();
  for (int64_t k = 0; leading_match && k + 1 < sorted->dim(); ++k) leading_match = sorted->size(k) == values->size(k);
  EMBER_CHECK(sorted->dim() == 1 || leading_match,
              "searchsorted(): boundaries tensor should be 1 dimension or the first N-1 dimensions of boundaries "
              "tensor and input value tensor must match, but we got boundaries tensor ",
              detail::cat(sorted->sizes()), " and input value tensor ", detail::cat(values->sizes()));
  NoGradGuard ng;
  Tensor seq = sorted;
  if (sorter) {
    EMBER_CHECK(sorter->dtype() == DType::Int64, "searchsorted(): sorter must be a tensor of long dtype but got ",
                dtype_name(sorter->dtype()));
    EMBER_CHECK(sorter->sizes() == sorted->sizes(),
                "searchsorted(): boundary and sorter must have the same size, but got boundary tensor ",
                detail::cat(sorted->sizes()), "and got sorter tensor ", detail::cat(sorter->sizes()));
    seq = gather(sorted, -1, sorter);
  }
  DType dt = promote(sorted->dtype(), values->dtype());
  Tensor out = empty(values->sizes(), out_int32 ? DType::Int32 : DType::Int64);
  kernels::search_rows(out, contiguous(cast_for_kernel(seq, dt)), contiguous(cast_for_kernel(values, dt)), right);
  return out;
}

// isin on a CUDA device: the test values sorted, then a binary search per element (NaN equals nothing).
static Tensor isin_by_search(const Tensor& elements, const Tensor& test_elements, DType dt, bool invert) {
  check_same_device(*elements, *test_elements);  // a number (a 0-d CPU tensor) may join
  const Tensor test = moved_to(test_elements, elements->device());
  const Tensor sorted = sort(reshape(cast_for_kernel(test, dt), {-1}), 0, false, false).first;
  const Tensor e = cast_for_kernel(elements, dt);
  if (sorted->numel() == 0) return full(e->sizes(), invert ? 1.0 : 0.0, DType::Bool);
  const Tensor at = clamp(searchsorted(sorted, e, false, false, Tensor()), std::nullopt, double(sorted->numel() - 1));
  const Tensor found = eq(reshape(gather(sorted, 0, reshape(at, {-1})), e->sizes()), e);
  return invert ? logical_not(found) : found;
}

Tensor isin(const Tensor& elements, const Tensor& test_elements, bool invert) {
  NoGradGuard ng;
  DType dt = result_type(elements, test_elements);
  if (!elements->device().is_cpu()) return isin_by_search(elements, test_elements, dt, invert);
  Tensor out = empty(elements->sizes(), DType::Bool);
  kernels::isin(out, contiguous(cast_for_kernel(elements, dt)), contiguous(cast_for_kernel(test_elements, dt)), invert);
  return out;
}

// unique's rows (one per value to compare) in sorted order (int64), and whether each begins a new value (bool).
static std::pair<Tensor, Tensor> unique_order_on_host(const Tensor& rows, bool consecutive) {
  std::vector<int64_t> order;
  std::vector<char> starts;
  kernels::unique_rows(rows, consecutive, order, starts);
  const int64_t n = (int64_t)order.size();
  Tensor order_t = empty({n}, DType::Int64, Device{}), starts_t = empty({n}, DType::Bool, Device{});
  std::copy(order.begin(), order.end(), order_t->data<int64_t>());
  std::copy(starts.begin(), starts.end(), starts_t->data<bool>());
  return {order_t, starts_t};
}
// The same on a device: a stable sort per column, last column first, sorts the rows lexicographically
// (NaN last; NaNs tie, as less_nan_last's), and a row starts a value unless it equals the one before
// (NaN equals nothing).
static std::pair<Tensor, Tensor> unique_order_by_sorts(const Tensor& rows, bool consecutive) {
  const int64_t n = rows->size(0), len = rows->size(1);
  Tensor order = arange(0, double(n), 1, DType::Int64);
  for (int64_t c = len - 1; c >= 0 && !consecutive; --c)
    order = index_select(order, 0, sort(index_select(select(rows, 1, c), 0, order), 0, false, true).second);
  if (n == 0) return {order, empty({0}, DType::Bool, rows->device())};
  const Tensor sorted = index_select(rows, 0, order);
  const Tensor differs = any(ne(narrow(sorted, 0, 1, n - 1), narrow(sorted, 0, 0, n - 1)), 1, false);
  return {order, cat({full({1}, 1.0, DType::Bool), differs}, 0)};
}

std::array<Tensor, 3> unique(const Tensor& t, std::optional<int64_t> dim, bool consecutive) {
  int64_t d = 0;
  if (dim) {
    EMBER_CHECK_KIND(t->dim() > 0, Index, "Dimension specified as ", *dim, " but tensor has no dimensions");
    d = wrap_dim(*dim, t->dim());
    for (int64_t k = 0; k < t->dim(); ++k)
      EMBER_CHECK(k == d || t->size(k) > 0 || t->size(d) == 0,
                  "There are 0 sized dimensions, and they aren't selected, so unique cannot be applied");
  }
  Tensor rows;  // one row per element (no dim), or per slice along dim
  {
    NoGradGuard ng;
    if (!dim)
      rows = contiguous(reshape(t, {t->numel(), 1}));
    else
      rows = contiguous(reshape(contiguous(transpose(t, 0, d)), {t->size(d), t->size(d) ? -1 : 0}));
  }
  Tensor firsts, inverse, counts;
  {
    NoGradGuard ng;
    const int64_t n = rows->size(0);
    auto [order, starts] =
        rows->device().is_cpu() ? unique_order_on_host(rows, consecutive) : unique_order_by_sorts(rows, consecutive);
    // Each sorted row's value number; the rows that start a value; how many rows each value has.
    const Tensor group = sub(cumsum(starts, 0, DType::Int64), int_num(1));
    inverse = scatter(empty({n}, DType::Int64, rows->device()), 0, order, group);
    const Tensor at = reshape(nonzero(starts), {-1});  // the one wait: the number of values
    firsts = index_select(order, 0, at);
    counts = n ? sub(cat({narrow(at, 0, 1, at->numel() - 1), full({1}, double(n), DType::Int64)}, 0), at)
               : empty({0}, DType::Int64, rows->device());
  }
  Tensor values;
  {
    NoGradGuard ng;
    values = dim ? index_select(t, d, firsts) : index_select(reshape(t, {-1}), 0, firsts);
    if (!dim) inverse = reshape(inverse, t->sizes());
  }
  const char* name = dim ? (consecutive ? "UniqueDimConsecutiveBackward0" : "UniqueDimBackward0")
                         : (consecutive ? "UniqueConsecutiveBackward0" : "Unique2Backward0");
  auto node = make_node<MissingState>(name, {&t}, [](auto& n, variable_list&) -> variable_list {
    EMBER_FAIL(NotImplemented, "the derivative for '", n.state.op, "' is not implemented.");
  });
  if (node)
    node->state.op = dim ? (consecutive ? "unique_dim_consecutive" : "unique_dim")
                         : (consecutive ? "unique_consecutive" : "_unique2");
  return {attach(node, values), inverse, counts};
}

}  // namespace ember
