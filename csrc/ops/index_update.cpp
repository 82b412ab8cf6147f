// Writes into and reads out of a tensor along an index: index_add, index_copy,
// index_fill, scatter, masked_select, masked_scatter, take, put,
// take_along_dim, and the NaN-skipping sums; each with PyTorch's node name and
// formula. The positions come from index.cpp's advanced indexing and from
// gather's offsets, so bounds are checked in one place.
#include <algorithm>
#include <cstring>

#include "core/cuda.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/index.h"
#include "ops/op_node.h"

namespace ember {

namespace {  // a State is private to its op's file (Note [Node state])
struct IndexDimState {
  int64_t dim = 0;
  double alpha = 1;
  Shape source_sizes;
  void fields(StateFields& f) const {
    f.add("dim", dim);
    f.add("alpha", alpha);
  }
};
struct ShapeState {  // the shapes gradients are summed or reshaped back to
  Shape self_sizes, source_sizes;
  bool accumulate = false;
  void fields(StateFields& f) const { f.add("accumulate", accumulate); }
};
}  // namespace

static void check_index_vector(const Tensor& t, const Tensor& index, const char* op) {
  check_device_strict(*t, *index);
  EMBER_CHECK_KIND(index->dim() <= 1, Index, op, "(): Index is supposed to be a vector");
  EMBER_CHECK(index->dtype() == DType::Int64 || index->dtype() == DType::Int32, op,
              "(): Expected dtype int32/int64 for index");
}

// `values` written at positions index along dim d of t (accumulating or not), outside autograd; `bounds` says
// how an index out of range is told (index_add and index_copy refuse negative ones, as PyTorch's).
static Tensor write_along(const Tensor& t, int64_t d, const Tensor& index, const Tensor& values, bool accumulate,
                          int bounds = cuda::kIndexWrapping) {
  NoGradGuard ng;
  if (t->dim() == 0)
    return reshape(write_along(reshape(t, {1}), 0, index, reshape(values, {-1}), accumulate, bounds), {});
  return index_put_along(t, {d}, {reshape(index, {-1})}, values, accumulate, bounds);
}

// The slice of source along d each index position writes: source's shape must be t's with size(d) = len(index).
static void check_source(const Tensor& t, int64_t d, const Tensor& index, const Tensor& source, const char* op) {
  EMBER_CHECK(source->dtype() == t->dtype(), op, "_(): self (", scalar_type_name(t->dtype()), ") and source (",
              scalar_type_name(source->dtype()), ") must have the same scalar type");
  Shape want = t->sizes();
  if (t->dim()) want[d] = index->numel();
  // only the index's length differs: PyTorch's words (index_add's a RuntimeError, index_copy's an IndexError)
  if (t->dim() && source->dim() == t->dim() && source->size(d) != index->numel()) {
    Shape with_source_length = want;
    with_source_length[d] = source->size(d);
    const bool add = std::strcmp(op, "index_add") == 0;
    if (source->sizes() == with_source_length)
      throw Error(add ? ErrorKind::Runtime : ErrorKind::Index,
                  detail::cat(op, "_(): Number of indices (", index->numel(), ") should be equal to source.size(dim)",
                              add ? ": (" : " (", source->size(d), add ? "), for dim: " + std::to_string(d) : ")"));
  }
  const bool ok = source->sizes() == want || (source->dim() == 0 && index->numel() == 1 && t->dim() <= 1);
  EMBER_CHECK_KIND(ok, Index, op, "_(): source ", detail::cat(source->sizes()), " must have the shape of self ",
                   detail::cat(t->sizes()), " with dim ", d, " of the index's length ", index->numel());
}

Tensor index_add(const Tensor& t, int64_t dim, const Tensor& index, const Tensor& source, double alpha) {
  check_index_vector(t, index, "index_add");
  const int64_t d = wrap_dim(dim, std::max<int64_t>(t->dim(), 1));
  check_source(t, d, index, source, "index_add");
  Tensor scaled = source;
  if (alpha != 1) {
    NoGradGuard ng;
    scaled = mul(source, alpha_scalar(source, alpha));
  }
  Tensor out = write_along(t, d, index, scaled, true, cuda::kIndexAlongDim);
  auto n = make_node<IndexDimState>("IndexAddBackward0", {&t, &source}, [](auto& n, variable_list& g) -> variable_list {
    Tensor gs;
    if (n.needs(1)) {
      gs = reshape(index_select(g[0], n.state.dim, n.saved_at(0)), n.state.source_sizes);
      if (n.state.alpha != 1) gs = mul(gs, num(n.state.alpha));
    }
    return {n.needs(0) ? g[0] : Tensor(), gs};
  });
  if (n) {
    n->state = {d, alpha, source->sizes()};
    n->save("index", index);
  }
  return attach(n, out);
}

// The gradient of an overwritten tensor: zero where the index wrote.
static Tensor zero_along(const Tensor& g, int64_t dim, const Tensor& index) {
  return index_fill(g, dim, index, zeros({}, g->dtype()));
}

Tensor index_copy(const Tensor& t, int64_t dim, const Tensor& index, const Tensor& source) {
  // index_copy and index_fill take int64 indices only (index_add, index_select and scatter int32 too), as PyTorch's
  EMBER_CHECK(index->dtype() == DType::Int64, "index_copy_(): Expected a long tensor for index, but got ",
              scalar_type_name(index->dtype()));
  check_index_vector(t, index, "index_copy");
  const int64_t d = wrap_dim(dim, std::max<int64_t>(t->dim(), 1));
  check_source(t, d, index, source, "index_copy");
  Tensor out = write_along(t, d, index, source, false, cuda::kIndexCopy);
  auto n =
      make_node<IndexDimState>("IndexCopyBackward0", {&t, &source}, [](auto& n, variable_list& g) -> variable_list {
        Tensor index = n.saved_at(0);
        return {n.needs(0) ? zero_along(g[0], n.state.dim, index) : Tensor(),
                n.needs(1) ? reshape(index_select(g[0], n.state.dim, index), n.state.source_sizes) : Tensor()};
      });
  if (n) {
    n->state = {d, 1.0, source->sizes()};
    n->save("index", index);
  }
  return attach(n, out);
}

Tensor index_fill(const Tensor& t, int64_t dim, const Tensor& index, const Tensor& value) {
  // PyTorch's index_fill raises its dtype error as an IndexError (index_add's and index_copy's: RuntimeError)
  EMBER_CHECK_KIND(index->dtype() == DType::Int64, Index, "index_fill_(): Expected dtype int64 for index.");
  check_index_vector(t, index, "index_fill");
  EMBER_CHECK(value->dim() == 0, "index_fill_ only supports a 0-dimensional value tensor, but got tensor with ",
              value->dim(), " dimension(s).");
  const int64_t d = wrap_dim(dim, std::max<int64_t>(t->dim(), 1));
  Tensor out = write_along(t, d, index, cast_for_kernel(value, t->dtype()), false);
  const char* name = value->is_wrapped_number ? "IndexFillBackward0" : "IndexFillBackward1";
  auto n = make_node<IndexDimState>(name, {&t, &value}, [](auto& n, variable_list& g) -> variable_list {
    Tensor index = n.saved_at(0);
    return {n.needs(0) ? zero_along(g[0], n.state.dim, index) : Tensor(),
            n.needs(1) ? sum_all(index_select(g[0], n.state.dim, index)) : Tensor()};
  });
  if (n) {
    n->state = {d, 1.0, {}};
    n->save("index", index);
  }
  return attach(n, out);
}

// scatter: src (or a value) written at the positions gather would read from.
static Tensor scatter_forward(const Tensor& t, int64_t d, const Tensor& index, const Tensor& src) {
  Tensor out = empty(t->sizes(), t->dtype());
  kernels::copy(out, t);
  if (index->numel() == 0) return out;
  Tensor vals = contiguous(cast_for_kernel(src, t->dtype()));
  kernels::scatter_offsets(out, vals, along_dim_offsets(out, d, index), {0}, false);
  return out;
}

Tensor scatter(const Tensor& t, int64_t dim, const Tensor& index, const Tensor& src) {
  const int64_t d = wrap_dim(dim, std::max<int64_t>(t->dim(), 1));
  check_gather_args(t, d, index, "scatter");
  EMBER_CHECK(src->dtype() == t->dtype(), "scatter(): Expected self.dtype to be equal to src.dtype");
  for (int64_t k = 0; k < index->dim(); ++k)
    EMBER_CHECK(index->size(k) <= (src->dim() ? src->size(k) : 1), "Expected index ", detail::cat(index->sizes()),
                " to be no larger than self ", detail::cat(t->sizes()), " apart from dimension ", d,
                " and to be no larger size than src ", detail::cat(src->sizes()));
  if (t->dim() == 0) return reshape(scatter(reshape(t, {1}), 0, reshape(index, {-1}), reshape(src, {-1})), {});
  Tensor window = make_view(src, index->sizes(), src->strides(), src->offset());  // the elements index reads
  Tensor out = scatter_forward(t, d, index, window);
  auto n = make_node<IndexDimState>("ScatterBackward0", {&t, &src}, [](auto& n, variable_list& g) -> variable_list {
    Tensor index = n.saved_at(0);
    Tensor gs;
    if (n.needs(1)) {  // gather reads index's shape; src may be larger: zeros elsewhere
      Tensor got = gather(g[0], n.state.dim, index);
      gs = got->sizes() == n.state.source_sizes ? got : [&] {
        Tensor z = zeros(n.state.source_sizes, got->dtype());
        return region_put(z, got, got->sizes(), contiguous_strides(n.state.source_sizes), 0);
      }();
    }
    return {n.needs(0) ? scatter_value(g[0], n.state.dim, index, zeros({}, g[0]->dtype())) : Tensor(), gs};
  });
  if (n) {
    n->state = {d, 1.0, src->sizes()};
    n->save("index", index);
  }
  return attach(n, out);
}

Tensor scatter_value(const Tensor& t, int64_t dim, const Tensor& index, const Tensor& value) {
  const int64_t d = wrap_dim(dim, std::max<int64_t>(t->dim(), 1));
  check_gather_args(t, d, index, "scatter");
  if (t->dim() == 0) return reshape(scatter_value(reshape(t, {1}), 0, reshape(index, {-1}), value), {});
  // the value (a number: a 0-d CPU tensor) is written from t's device
  const Tensor v = moved_to(value, t->device());
  Tensor out = scatter_forward(t, d, index, expand(cast_for_kernel(v, t->dtype()), index->sizes()));
  auto n = make_node<IndexDimState>("ScatterBackward1", {&t}, [](auto& n, variable_list& g) -> variable_list {
    return {scatter_value(g[0], n.state.dim, n.saved_at(0), zeros({}, g[0]->dtype()))};
  });
  if (n) {
    n->state = {d, 1.0, {}};
    n->save("index", index);
  }
  return attach(n, out);
}

// Column k of nonzero(mask): the positions of mask's true elements along dim k.
static TensorList true_positions(const Tensor& mask) {
  Tensor nz = nonzero(mask);  // (count, ndim)
  TensorList cols;
  for (int64_t k = 0; k < mask->dim(); ++k) cols.push_back(contiguous(select(nz, 1, k)));
  return cols;
}
static DimList all_dims(int64_t n) {
  DimList d(n);
  for (int64_t k = 0; k < n; ++k) d[k] = k;
  return d;
}
static void check_bool_mask(const Tensor& t, const Tensor& mask, const char* op) {
  check_device_strict(*t, *mask);
  EMBER_CHECK(mask->dtype() == DType::Bool, op, ": expected BoolTensor for mask");
}

Tensor masked_select(const Tensor& t, const Tensor& mask) {
  check_bool_mask(t, mask, "masked_select");
  const Shape shape = broadcast_shapes(t->sizes(), mask->sizes());
  Tensor out;
  {
    NoGradGuard ng;
    Tensor tb = expand(t, shape), mb = contiguous(expand(mask, shape));
    out =
        shape.empty() ? reshape(clone(tb), {1}) : contiguous(index_along(tb, all_dims(tb->dim()), true_positions(mb)));
    if (shape.empty() && !item_as_double(mb)) out = narrow(out, 0, 0, 0);
    out = contiguous(out);
  }
  auto n = make_node<ShapeState>("MaskedSelectBackward0", {&t}, [](auto& n, variable_list& g) -> variable_list {
    Tensor mask = n.saved_at(0);
    const Shape shape = broadcast_shapes(n.state.self_sizes, mask->sizes());
    Tensor z = zeros(shape, g[0]->dtype());
    return {sum_to(masked_scatter(z, expand(mask, shape), g[0]), n.state.self_sizes)};
  });
  if (n) {
    n->state.self_sizes = t->sizes();
    n->save("mask", mask);
  }
  return attach(n, out);
}

Tensor masked_scatter(const Tensor& t, const Tensor& mask, const Tensor& source) {
  check_bool_mask(t, mask, "masked_scatter_");
  EMBER_CHECK(source->dtype() == t->dtype(), "masked_scatter_: expected self and source to have same dtypes but got ",
              scalar_type_name(t->dtype()), " and ", scalar_type_name(source->dtype()));
  const Shape shape = broadcast_shapes(t->sizes(), mask->sizes());
  Tensor out;
  {
    NoGradGuard ng;
    Tensor mb = contiguous(expand(mask, shape));
    const int64_t count = int64_t(item_as_double(sum_all(cast_for_kernel(mb, DType::Int64))));
    EMBER_CHECK(source->numel() >= count, "masked_scatter: expected source to have at least ", count,
                " elements (the number of ones in mask), but got ", source->numel());
    Tensor base = contiguous(expand(t, shape));
    if (shape.empty()) {
      out = count ? reshape(clone(narrow(reshape(source, {-1}), 0, 0, 1)), {}) : clone(base);
    } else {
      Tensor vals = narrow(reshape(source, {-1}), 0, 0, count);
      out = index_put_along(base, all_dims(base->dim()), true_positions(mb), vals, false);
    }
  }
  auto n =
      make_node<ShapeState>("MaskedScatterBackward0", {&t, &source}, [](auto& n, variable_list& g) -> variable_list {
        Tensor mask = n.saved_at(0);
        Tensor gt, gs;
        if (n.needs(0)) gt = sum_to(masked_fill(g[0], mask, zeros({}, g[0]->dtype())), n.state.self_sizes);
        if (n.needs(1)) {  // the first count elements of source, zeros after them
          Tensor taken = masked_select(g[0], mask);
          const int64_t total = shape_numel(n.state.source_sizes);
          Tensor padded = cat({taken, zeros({total - taken->numel()}, g[0]->dtype())}, 0);
          gs = reshape(padded, n.state.source_sizes);
        }
        return {gt, gs};
      });
  if (n) {
    n->state.self_sizes = t->sizes();
    n->state.source_sizes = source->sizes();
    n->save("mask", mask);
  }
  return attach(n, out);
}

Tensor take(const Tensor& t, const Tensor& index) {
  EMBER_CHECK(index->dtype() == DType::Int64, "take(): Expected a long tensor for index, but got ",
              scalar_type_name(index->dtype()));
  check_device_strict(*t, *index);
  Tensor out;
  {
    NoGradGuard ng;
    EMBER_CHECK_KIND(t->numel() > 0 || index->numel() == 0, Index, "take(): tried to take from an empty tensor");
    Tensor flat = reshape(t, {-1});
    out = index->numel() ? reshape(contiguous(index_along(flat, {0}, {reshape(index, {-1})})), index->sizes())
                         : zeros(index->sizes(), t->dtype());
  }
  auto n = make_node<ShapeState>("TakeBackward0", {&t}, [](auto& n, variable_list& g) -> variable_list {
    Tensor z = zeros(n.state.self_sizes, g[0]->dtype());
    return {put(z, n.saved_at(0), g[0], true)};
  });
  if (n) {
    n->state.self_sizes = t->sizes();
    n->save("index", index);
  }
  return attach(n, out);
}

Tensor put(const Tensor& t, const Tensor& index, const Tensor& source, bool accumulate) {
  EMBER_CHECK(index->dtype() == DType::Int64, "put_(): Expected a long tensor for index, but got ",
              scalar_type_name(index->dtype()));
  EMBER_CHECK(source->dtype() == t->dtype(), "put_(): self and source expected to have the same dtype, but got ",
              scalar_type_name(t->dtype()), " and ", scalar_type_name(source->dtype()));
  EMBER_CHECK(index->numel() == source->numel(),
              "put_(): Expected source and index to have the same number of "
              "elements, but got source.numel() = ",
              source->numel(), ", index.numel() = ", index->numel());
  check_device_strict(*t, *index);
  Tensor out;
  {
    NoGradGuard ng;
    out =
        index->numel()
            ? reshape(index_put_along(reshape(t, {-1}), {0}, {reshape(index, {-1})}, reshape(source, {-1}), accumulate),
                      t->sizes())
            : clone(t);
  }
  auto n = make_node<ShapeState>("PutBackward0", {&t, &source}, [](auto& n, variable_list& g) -> variable_list {
    Tensor index = n.saved_at(0);
    Tensor gt, gs;
    if (n.needs(0))
      gt = n.state.accumulate ? g[0] : put(g[0], index, zeros(n.state.source_sizes, g[0]->dtype()), false);
    if (n.needs(1)) gs = reshape(take(g[0], index), n.state.source_sizes);
    return {gt, gs};
  });
  if (n) {
    n->state = {t->sizes(), source->sizes(), accumulate};
    n->save("index", index);
  }
  return attach(n, out);
}

Tensor take_along_dim(const Tensor& t, const Tensor& indices, std::optional<int64_t> dim) {
  EMBER_CHECK(indices->dtype() == DType::Int64, "torch.take_along_dim(): dtype of indices should be Long but got ",
              scalar_type_name(indices->dtype()));
  if (!dim) return gather(reshape(t, {-1}), 0, reshape(indices, {-1}));
  EMBER_CHECK(t->dim() == indices->dim(),
              "torch.take_along_dim(): input and indices should have the same number of "
              "dimensions, but got ",
              t->dim(), " dimensions for input, and ", indices->dim(), " dimensions for indices");
  const int64_t d = wrap_dim(*dim, t->dim());
  // Broadcast every dim but d.
  Shape ts = t->sizes(), is = indices->sizes();
  ts[d] = 1;
  is[d] = 1;
  Shape b = broadcast_shapes(ts, is);
  Shape tb = b, ib = b;
  tb[d] = t->size(d);
  ib[d] = indices->size(d);
  return gather(expand(t, tb), d, expand(indices, ib));
}

// The NaN-skipping sums: NaN counts as 0 (its gradient too).
Tensor nansum(const Tensor& t, const DimList& dims, bool keepdim, std::optional<DType> dtype) {
  if (!is_floating(t->dtype())) return sum(t, dims, keepdim, dtype);
  Tensor skipped = where(isnan(t), zeros({}, t->dtype()), t);
  return renamed(sum(skipped, dims, keepdim, dtype), "NansumBackward0");
}
Tensor nanmean(const Tensor& t, const DimList& dims, bool keepdim, std::optional<DType> dtype) {
  EMBER_CHECK(is_floating(t->dtype()), "nanmean(): expected input to have floating point dtype but got ",
              scalar_type_name(t->dtype()));
  Tensor counted;
  {
    NoGradGuard ng;
    counted = sum(logical_not(isnan(t)), dims, keepdim, std::nullopt);
  }
  return div(nansum(t, dims, keepdim, dtype), counted);
}

}  // namespace ember
