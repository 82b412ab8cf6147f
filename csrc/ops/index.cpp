// Indexing: basic indices become views (select/slice/unsqueeze); tensor and
// mask indices ("advanced") gather through offsets (kernels/cpu/index.h).
#include <numeric>
#include "core/cuda.h"
#include "kernels/cuda_dispatch.h"

#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/index.h"
#include "ops/op_node.h"

namespace ember {

namespace {

// Advanced indices of `dims` of some tensor, broadcast to one shape, int64.
struct AdvIndex {
  DimList dims;
  TensorList idx;
  Shape shape;
  int kind = cuda::kIndexWrapping;  // index_select's indices do not wrap
};

bool adjacent(const DimList& dims) {
  for (size_t i = 1; i < dims.size(); ++i)
    if (dims[i] != dims[i - 1] + 1) return false;
  return true;
}

AdvIndex make_adv(DimList dims, TensorList idx) {
  AdvIndex a;
  a.dims = std::move(dims);
  Shape shape = idx[0]->sizes();
  for (auto& t : idx) {
    EMBER_CHECK_KIND(is_integral(t->dtype(), false), Index,
                     "tensors used as indices must be long, int, byte or bool tensors");
    if (!broadcastable(shape, t->sizes())) {  // PyTorch's IndexError, naming every index's shape
      std::string shapes;
      for (auto& u : idx) shapes += (shapes.empty() ? "" : ", ") + detail::cat(u->sizes());
      EMBER_FAIL(Index, "shape mismatch: indexing tensors could not be broadcast together with shapes ", shapes);
    }
    shape = broadcast_shapes(shape, t->sizes());
  }
  for (auto& t : idx) a.idx.push_back(contiguous(expand(cast_for_kernel(t, DType::Int64), shape)));
  a.shape = shape;
  return a;
}

// Offsets of each indexed position (outer: int64 of the index shape, on src's device) and of each
// element of the rest (inner).
Tensor adv_offsets(const Tensor& src, const AdvIndex& a, std::vector<int64_t>& inner) {
  Tensor outer = empty(a.shape, DType::Int64, src->device());
  for (size_t k = 0; k < a.dims.size(); ++k) {
    kernels::IndexBounds args;
    args.dim = a.dims[k], args.size = src->size(args.dim), args.stride = src->stride(args.dim);
    args.kind = a.kind, args.add = k > 0;
    kernels::index_offsets(outer, moved_to(a.idx[k], src->device()), args);  // (x[cpu_index] is allowed)
  }
  Shape rs, rst;
  for (int64_t d = 0; d < src->dim(); ++d)
    if (std::find(a.dims.begin(), a.dims.end(), d) == a.dims.end()) {
      rs.push_back(src->size(d));
      rst.push_back(src->stride(d));
    }
  inner = kernels::strided_offsets(rs, rst);
  return outer;
}

// Shape of the result laid out as index dims then the rest, and the
// permutation that puts the index dims where PyTorch puts them.
Shape gathered_shape(const Tensor& src, const AdvIndex& a) {
  Shape s = a.shape;
  for (int64_t d = 0; d < src->dim(); ++d)
    if (std::find(a.dims.begin(), a.dims.end(), d) == a.dims.end()) s.push_back(src->size(d));
  return s;
}
DimList result_permutation(const Tensor& src, const AdvIndex& a) {
  int64_t ni = (int64_t)a.shape.size(), total = ni + src->dim() - (int64_t)a.dims.size();
  DimList perm(total);
  std::iota(perm.begin(), perm.end(), 0);
  if (!adjacent(a.dims) || a.dims[0] == 0) return perm;
  int64_t before = a.dims[0];
  DimList p;
  for (int64_t i = 0; i < before; ++i) p.push_back(ni + i);
  for (int64_t i = 0; i < ni; ++i) p.push_back(i);
  for (int64_t i = ni + before; i < total; ++i) p.push_back(i);
  return p;
}
bool is_identity(const DimList& p) {
  for (size_t i = 0; i < p.size(); ++i)
    if (p[i] != (int64_t)i) return false;
  return true;
}
Shape permuted(const Shape& s, const DimList& p) {
  Shape r;
  for (auto d : p) r.push_back(s[d]);
  return r;
}

Tensor index_adv(const Tensor& src, const AdvIndex& a);
Tensor index_put_adv(const Tensor& base, const AdvIndex& a, const Tensor& values, bool accumulate);

namespace {  // a State is private to its op's file (Note [Node state])

// Advanced-index nodes keep the indexed dims in their state and the index
// tensors as saved tensors "indices".
struct IndexState {
  DimList dims;
  Shape self_sizes;    // IndexBackward0: the indexed tensor
  Shape values_sizes;  // IndexPutBackward0: the values written
  bool accumulate = false;
  void fields(StateFields& f) const {
    f.add("self_sym_sizes", self_sizes);
    f.add("accumulate", accumulate);
  }
};
}  // namespace

void save_adv(StateNode<IndexState>& n, const AdvIndex& a) {
  n.state.dims = a.dims;
  for (auto& t : a.idx) n.save("indices[]", t);  // a list: _saved_indices is a tuple
}
AdvIndex load_adv(StateNode<IndexState>& n) {
  AdvIndex a;
  a.dims = n.state.dims;
  for (size_t k = 0; k < a.dims.size(); ++k) a.idx.push_back(n.saved_at(k));
  a.shape = a.idx[0]->sizes();
  return a;
}

Tensor index_adv(const Tensor& src, const AdvIndex& a) {
  std::vector<int64_t> inner;
  const Tensor outer = adv_offsets(src, a, inner);
  Tensor out = empty(gathered_shape(src, a), src->dtype());
  kernels::gather_offsets(out, src, outer, inner);
  DimList p = result_permutation(src, a);
  // Contiguous in the result's own order, as PyTorch's is: code goes on with .view() (x[:, mask].view(-1)).
  if (!is_identity(p)) out = contiguous(make_view(out, permuted(out->sizes(), p), permuted(out->strides(), p), 0));
  auto n = make_node<IndexState>("IndexBackward0", {&src}, [](auto& n, variable_list& g) -> variable_list {
    return {index_put_adv(zeros(n.state.self_sizes, g[0]->dtype()), load_adv(n), g[0], true)};
  });
  if (n) {
    n->state.self_sizes = src->sizes();
    save_adv(*n, a);
  }
  return attach(n, out);
}

// The value of an indexed assignment, checked against the selection's shape: it broadcasts to it, where
// size-1 leading dims beyond the selection's rank are dropped (PyTorch's rule: x[i] = v[None] is allowed).
Tensor fit_value(const Tensor& value, const Shape& target) {
  bool fits = true;
  for (int64_t i = 1; i <= value->dim(); ++i) {
    const int64_t v = value->size(value->dim() - i);
    const int64_t at = int64_t(target.size()) - i;
    fits = fits && (v == 1 || (at >= 0 && v == target[at]));
  }
  EMBER_CHECK(fits, "shape mismatch: value tensor of shape ", detail::cat(value->sizes()),
              " cannot be broadcast to indexing result of shape ", detail::cat(target));
  if (value->dim() <= int64_t(target.size())) return value;
  return reshape(value, Shape(value->sizes().end() - target.size(), value->sizes().end()));
}

// The gradient of an assigned value from the selection's gradient: summed where the value broadcast,
// and given back the leading 1s that fit_value dropped.
Tensor grad_of_value(const Tensor& selected, const Shape& value_sizes) {
  if (int64_t(value_sizes.size()) <= selected->dim()) return sum_to(selected, value_sizes);
  const Shape tail(value_sizes.end() - selected->dim(), value_sizes.end());
  return reshape(sum_to(selected, tail), value_sizes);
}

// values laid out as index dims then the rest, contiguous, in base's dtype.
Tensor scatter_layout(const Tensor& base, const AdvIndex& a, const Tensor& values) {
  DimList p = result_permutation(base, a);
  Shape result_shape = permuted(gathered_shape(base, a), p);
  Tensor v = expand(cast_for_kernel(fit_value(values, result_shape), base->dtype()), result_shape);
  DimList inv(p.size());
  for (size_t i = 0; i < p.size(); ++i) inv[p[i]] = (int64_t)i;
  Tensor laid = make_view(v, permuted(v->sizes(), inv), permuted(v->strides(), inv), v->offset());
  // laid out already, and not read from the memory being written: no copy
  if (laid->is_contiguous() && laid->dtype() == base->dtype() && laid->device() == base->device() &&
      laid->storage() != base->storage())
    return laid;
  Tensor out = empty(laid->sizes(), base->dtype());
  kernels::copy(out, laid);
  return out;
}

void scatter_into(const Tensor& dst, const AdvIndex& a, const Tensor& values, bool accumulate) {
  std::vector<int64_t> inner;
  const Tensor outer = adv_offsets(dst, a, inner);
  kernels::scatter_offsets(dst, scatter_layout(dst, a, values), outer, inner, accumulate);
}

Tensor index_put_adv(const Tensor& base, const AdvIndex& a, const Tensor& values, bool accumulate) {
  Tensor out = empty(base->sizes(), base->dtype());
  kernels::copy(out, base);
  scatter_into(out, a, values, accumulate);
  auto n = make_node<IndexState>("IndexPutBackward0", {&base, &values}, [](auto& n, variable_list& g) -> variable_list {
    AdvIndex a = load_adv(n);
    Tensor gb, gv;
    if (n.needs(0)) gb = n.state.accumulate ? g[0] : index_put_adv(g[0], a, zeros({}, g[0]->dtype()), false);
    if (n.needs(1)) gv = grad_of_value(index_adv(g[0], a), n.state.values_sizes);
    return {gb, gv};
  });
  if (n) {
    n->state.accumulate = accumulate;
    n->state.values_sizes = values->sizes();
    save_adv(*n, a);
  }
  return attach(n, out);
}

struct CopySlicesState {
  Region region;
  Shape values_sizes;
  std::optional<Shape> base_strides;  // set when the region is in base's own (dense) layout
  void fields(StateFields& f) const { region.fields(f); }
};
}  // namespace

int64_t mask_as_positions(const Tensor& mask, const Tensor& t, int64_t first, DimList& dims, TensorList& idx) {
  EMBER_CHECK_KIND(first + mask->dim() <= t->dim(), Index, "too many indices for tensor of dimension ", t->dim());
  for (int64_t k = 0; k < mask->dim(); ++k)
    EMBER_CHECK_KIND(mask->size(k) == t->size(first + k), Index, "The shape of the mask ", detail::cat(mask->sizes()),
                     " at index ", k, " does not match the shape of the indexed tensor ", detail::cat(t->sizes()),
                     " at index ", first + k);
  Tensor nz = nonzero(mask);
  for (int64_t k = 0; k < mask->dim(); ++k) {
    dims.push_back(first + k);
    idx.push_back(select(nz, 1, k));
  }
  return first + mask->dim();
}

// g laid out with `strides` (itself when it already is).
static Tensor in_layout(const Tensor& g, const Shape& strides) {
  if (g->strides() == strides) return g;
  Tensor out = empty_dense_strided(g->sizes(), strides, g->dtype());
  kernels::copy(out, g);
  return out;
}

Tensor region_put(const Tensor& base, const Tensor& value, const Shape& sizes, const Shape& strides, int64_t offset,
                  bool in_base_layout) {
  const Shape layout = in_base_layout ? base->strides() : contiguous_strides(base->sizes());
  Tensor out = empty_dense_strided(base->sizes(), layout, base->dtype());
  kernels::copy(out, base);
  Tensor region = make_view(out, sizes, strides, offset);
  kernels::copy(region, fit_value(value, sizes));
  auto n = make_node<CopySlicesState>("CopySlices", {&base, &value}, [](auto& n, variable_list& g) -> variable_list {
    const Region& r = n.state.region;
    const auto& base_strides = n.state.base_strides;
    Tensor gc = base_strides ? in_layout(g[0], *base_strides) : contiguous(g[0]);
    Tensor gb, gv;
    if (n.needs(0)) gb = region_put(gc, zeros({}, gc->dtype()), r.sizes, r.strides, r.offset, bool(base_strides));
    if (n.needs(1))
      gv = grad_of_value(as_strided(gc, r.sizes, r.strides, r.offset + gc->offset()), n.state.values_sizes);
    return {gb, gv};
  });
  if (n) {
    n->state = {Region{sizes, strides, offset}, value->sizes(), std::nullopt};
    if (in_base_layout) n->state.base_strides = layout;
  }
  return attach(n, out);
}

namespace {

struct ParsedIndex {
  Tensor view;       // after the basic indices
  DimList adv_dims;  // advanced indices, dims relative to `view`
  TensorList adv_idx;
  bool basic_is_trivial = true;  // only full slices / ellipsis: `view` has t's geometry
};

ParsedIndex apply_indices(const Tensor& t, const std::vector<TensorIndex>& indices) {
  int64_t consumed = 0;
  bool seen_ellipsis = false;
  for (auto& ix : indices) {
    switch (ix.kind) {
      case TensorIndex::Integer:
      case TensorIndex::Slice: consumed += 1; break;
      case TensorIndex::TensorIdx: consumed += ix.tensor->dtype() == DType::Bool ? ix.tensor->dim() : 1; break;
      case TensorIndex::Ellipsis:
        EMBER_CHECK_KIND(!seen_ellipsis, Index, "an index can only have a single ellipsis ('...')");
        seen_ellipsis = true;
        break;
      default: break;
    }
  }
  EMBER_CHECK_KIND(consumed <= t->dim(), Index, "too many indices for tensor of dimension ", t->dim());
  ParsedIndex r;
  r.view = t;
  int64_t bool_dim = -1;  // the dim the first bool index added; later ones share it, as numpy
  int64_t d = 0;
  for (size_t position = 0; position < indices.size(); ++position) {
    const TensorIndex& ix = indices[position];
    if (ix.kind == TensorIndex::Integer) {
      // PyTorch names the integer's place in the index ("dimension 1" for x[0, 9] and x[..., 9])
      const int64_t size = r.view->size(d);
      EMBER_CHECK_KIND(ix.integer >= -size && ix.integer < size, Index, "index ", ix.integer,
                       " is out of bounds for dimension ", position, " with size ", size);
    }
    switch (ix.kind) {
      case TensorIndex::None:
        r.view = unsqueeze(r.view, d++);
        r.basic_is_trivial = false;
        break;
      case TensorIndex::Ellipsis: d += t->dim() - consumed; break;
      case TensorIndex::Integer:
        r.view = select(r.view, d, ix.integer);
        r.basic_is_trivial = false;
        break;
      case TensorIndex::Slice: {
        // A slice over the whole dim is no op, as PyTorch's (x[:, :2] records one SliceBackward0; x[:] an alias)
        const int64_t length = r.view->size(d);
        // (as PyTorch's test: a start of 0 or none, not a negative one that reaches back to 0)
        const bool whole = ix.step == 1 && (!ix.start || *ix.start == 0) && (!ix.stop || *ix.stop >= length);
        if (!whole) {
          r.view = slice(r.view, d, ix.start, ix.stop, ix.step);
          r.basic_is_trivial = false;
        }
        d++;
        break;
      }
      case TensorIndex::Boolean:
        r.basic_is_trivial = false;
        if (bool_dim < 0) {
          bool_dim = d++;
          r.view = unsqueeze(r.view, bool_dim);
        }
        if (!ix.integer) r.view = slice(r.view, bool_dim, 0, 0, 1);
        break;
      case TensorIndex::TensorIdx: {
        const Tensor& m = ix.tensor;
        if (m->dtype() == DType::Bool) {
          d = mask_as_positions(m, r.view, d, r.adv_dims, r.adv_idx);
        } else {
          r.adv_dims.push_back(d++);
          r.adv_idx.push_back(ix.tensor);
        }
        break;
      }
    }
  }
  return r;
}

}  // namespace

Tensor index(const Tensor& t, const std::vector<TensorIndex>& indices) {
  ParsedIndex p = apply_indices(t, indices);
  if (p.adv_idx.empty()) return p.view == t ? alias(t) : p.view;  // x[...]: a new view, still in the graph
  return index_adv(p.view, make_adv(p.adv_dims, p.adv_idx));
}

Tensor index_along(const Tensor& t, const DimList& dims, const TensorList& idx) {
  return index_adv(t, make_adv(dims, idx));
}
Tensor index_put_along(const Tensor& base, const DimList& dims, const TensorList& idx, const Tensor& values,
                       bool accumulate, int bounds) {
  AdvIndex a = make_adv(dims, idx);
  a.kind = bounds;
  return index_put_adv(base, a, values, accumulate);
}

void check_index_put_dtypes(const Tensor& t, const Tensor& values, bool advanced) {
  EMBER_CHECK(!advanced || values->dtype() == t->dtype() || values->is_wrapped_number,
              "Index put requires the source and destination dtypes match, got ", legacy_type_name(t->dtype()),
              " for the destination and ", legacy_type_name(values->dtype()), " for the source.");
}

void index_put_(Tensor& t, const std::vector<TensorIndex>& indices, const Tensor& value_in) {
  bool records = any_requires_grad({&t, &value_in});
  if (records && t->is_leaf() && t->requires_grad()) {  // PyTorch writes through the basic indices' view
    NoGradGuard ng;
    EMBER_CHECK(apply_indices(t, indices).view == t,
                "a view of a leaf Variable that requires grad is being used in an in-place operation.");
  }
  check_inplace(t, "index_put_", records);
  check_no_internal_overlap(t);
  const bool advanced = std::any_of(indices.begin(), indices.end(),
                                    [](const TensorIndex& i) { return i.kind == TensorIndex::TensorIdx; });
  check_index_put_dtypes(t, value_in, advanced);
  Tensor value = records ? to_dtype(value_in, t->dtype()) : value_in;
  if (!records) {
    NoGradGuard ng;
    ParsedIndex p = apply_indices(t, indices);
    if (p.adv_idx.empty()) {
      const Tensor fitted = fit_value(value, p.view->sizes());
      check_no_partial_overlap(p.view, fitted);
      kernels::copy(p.view, fitted);
    } else {
      scatter_into(p.view, make_adv(p.adv_dims, p.adv_idx), value, false);
    }
    t->bump_version();
    return;
  }
  Tensor result;
  {
    ParsedIndex p;
    {
      NoGradGuard ng;
      p = apply_indices(t, indices);
    }
    if (p.adv_idx.empty()) {
      // Region geometry relative to a contiguous t: index a contiguous twin.
      auto twin = std::make_shared<TensorImpl>(t->storage(), t->sizes(), contiguous_strides(t->sizes()), 0, t->dtype());
      NoGradGuard ng;
      Tensor region = apply_indices(twin, indices).view;
      AutoGradMode on(true);
      result = region_put(t, value, region->sizes(), region->strides(), region->offset());
    } else if (p.basic_is_trivial) {
      result = index_put_adv(t, make_adv(p.adv_dims, p.adv_idx), value, false);
    } else {
      // Tensor indices mixed with integers, slices or None: the same index read from an arange gives the
      // selected elements' row-major positions in t, so the assignment is one flat tensor index.
      Tensor positions;
      {
        NoGradGuard ng;
        positions = index(reshape(arange(0, double(t->numel()), 1, DType::Int64), t->sizes()), indices);
      }
      const Shape& target = positions->sizes();
      const Tensor fitted = fit_value(value, target);
      const Tensor flat_positions = reshape(positions, {positions->numel()});
      const Tensor flat_value = reshape(expand(fitted, target), {positions->numel()});
      const Tensor flat = index_put_adv(reshape(t, {t->numel()}), make_adv({0}, {flat_positions}), flat_value, false);
      result = reshape(flat, t->sizes());
    }
  }
  commit_inplace(t, result);
}

namespace {  // a State is private to its op's file (Note [Node state])

// gather, scatter_add, index_select: the dim they index and the input's shape.
struct DimAndSizesState {
  int64_t dim = 0;
  Shape self_sizes;
  void fields(StateFields& f) const {
    f.add("dim", dim);
    f.add("self_sym_sizes", self_sizes);
  }
};
}  // namespace

// nonzero on a device: the running count of true elements gives each its row of the result, and its
// linear position there becomes coordinates. One wait, for the count that sizes the result (as PyTorch's).
static Tensor nonzero_on_device(const Tensor& t) {
  NoGradGuard ng;
  const int64_t n = t->numel(), nd = t->dim();
  const Tensor hit = reshape(t->dtype() == DType::Bool ? t : ne(t, int_num(0)), {n});
  const Tensor running = cumsum(hit, 0, DType::Int64);
  const int64_t count = n ? (int64_t)item_as_double(select(running, 0, n - 1)) : 0;
  // each true element to its row, the others to one spare row past the end
  const Tensor row = where(hit, sub(running, int_num(1)), int_num(count));
  const Tensor all = arange(0, double(n), 1, DType::Int64);
  const Tensor linear = narrow(scatter(empty({count + 1}, DType::Int64), 0, row, all), 0, 0, count);
  if (nd == 0 || count == 0) return empty({count, nd}, DType::Int64);
  TensorList coords(nd);
  int64_t stride = 1;
  for (int64_t d = nd - 1; d >= 0; --d) {
    coords[d] = remainder(floor_divide(linear, int_num(stride)), int_num(std::max<int64_t>(t->size(d), 1)));
    stride *= t->size(d);
  }
  return stack(coords, 1);
}

Tensor nonzero(const Tensor& t) {
  if (t->device().type == DeviceType::CUDA) return nonzero_on_device(t);
  Tensor c = contiguous(t);
  std::vector<int64_t> hits;
  dispatch_all(c->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* p = c->data<T>();
    for (int64_t i = 0; i < c->numel(); ++i)
      if (convert<bool>(p[i])) hits.push_back(i);
  });
  int64_t nd = t->dim();
  Tensor out = empty({(int64_t)hits.size(), nd}, DType::Int64, Device{});  // t is on the host here
  int64_t* o = out->data<int64_t>();
  for (size_t h = 0; h < hits.size(); ++h) {
    int64_t rem = hits[h];
    for (int64_t d = nd - 1; d >= 0; --d) {
      o[h * nd + d] = rem % t->size(d);
      rem /= t->size(d);
    }
  }
  return out;
}

void check_gather_args(const Tensor& t, int64_t d, const Tensor& index, const char* op) {
  check_device_strict(*t, *index);
  EMBER_CHECK(index->dtype() == DType::Int64 || index->dtype() == DType::Int32, op,
              "(): Expected dtype int32/int64 for index");
  EMBER_CHECK(index->dim() == t->dim() || (t->dim() == 0 && index->dim() <= 1),
              "Index tensor must have the same number of dimensions as input tensor");
  for (int64_t k = 0; k < t->dim(); ++k)
    EMBER_CHECK(k == d || index->size(k) <= t->size(k), "Size does not match at dimension ", k, " expected index ",
                detail::cat(index->sizes()), " to be no larger than self ", detail::cat(t->sizes()),
                " apart from dimension ", d);
}

// Offsets of t's elements addressed by `index` along `d` (gather/scatter layout).
// Unlike indexing with [], gather and scatter_add do not wrap negative indices:
// PyTorch raises a RuntimeError for them as for any index past the end.
Tensor along_dim_offsets(const Tensor& t, int64_t d, const Tensor& index) {
  Tensor offsets = empty(index->sizes(), DType::Int64, t->device());
  kernels::IndexBounds a;
  a.size = t->dim() ? t->size(d) : 1, a.stride = t->dim() ? t->stride(d) : 0, a.dim = d;
  a.kind = cuda::kIndexAlongDim;
  a.place_strides = t->strides();
  if (t->dim()) a.place_strides[d] = 0;
  kernels::index_offsets(offsets, contiguous(cast_for_kernel(index, DType::Int64)), a);  // int32 indices too
  return offsets;
}

// gather, scatter_add and index_select of a 0-d tensor: the same op on it as a
// one-element vector (PyTorch treats a 0-d tensor so).
static Tensor as_vector(const Tensor& t) { return reshape(t, {t->numel()}); }

Tensor gather(const Tensor& t, int64_t dim, const Tensor& index) {
  int64_t d = wrap_dim(dim, t->dim());
  check_gather_args(t, d, index, "gather");
  if (t->dim() == 0) return reshape(gather(as_vector(t), 0, as_vector(index)), index->sizes());
  Tensor out = empty(index->sizes(), t->dtype());
  kernels::gather_offsets(out, t, along_dim_offsets(t, d, index), {0});
  auto n = make_node<DimAndSizesState>("GatherBackward0", {&t}, [](auto& n, variable_list& g) -> variable_list {
    return {scatter_add(zeros(n.state.self_sizes, g[0]->dtype()), n.state.dim, n.saved_at(0), g[0])};
  });
  if (n) {
    n->state = {d, t->sizes()};
    n->save("index", index);
  }
  return attach(n, out);
}

Tensor scatter_add(const Tensor& t, int64_t dim, const Tensor& index, const Tensor& src) {
  int64_t d = wrap_dim(dim, t->dim());
  check_gather_args(t, d, index, "scatter_add");
  EMBER_CHECK(src->dtype() == t->dtype(), "scatter_add(): Expected self.dtype to be equal to src.dtype");
  EMBER_CHECK(src->dim() == index->dim() || (t->dim() == 0 && src->dim() <= 1),
              "Index tensor must have the same number of dimensions as src tensor");
  // Each index element reads the src element at its own position.
  for (int64_t k = 0; k < index->dim(); ++k)
    EMBER_CHECK(index->size(k) <= (src->dim() ? src->size(k) : 1), "Expected index ", detail::cat(index->sizes()),
                " to be no larger than self ", detail::cat(t->sizes()), " apart from dimension ", d,
                " and to be no larger size than src ", detail::cat(src->sizes()));
  if (t->dim() == 0) return reshape(scatter_add(as_vector(t), 0, as_vector(index), as_vector(src)), {});
  Tensor out = empty(t->sizes(), t->dtype());
  kernels::copy(out, t);
  Tensor vals = contiguous(make_view(src, index->sizes(), src->strides(), src->offset()));
  kernels::scatter_offsets(out, vals, along_dim_offsets(out, d, index), {0}, true);
  auto n =
      make_node<DimAndSizesState>("ScatterAddBackward0", {&t, &src}, [](auto& n, variable_list& g) -> variable_list {
        return {n.needs(0) ? g[0] : Tensor(), n.needs(1) ? gather(g[0], n.state.dim, n.saved_at(0)) : Tensor()};
      });
  if (n) {
    n->state = {d, t->sizes()};
    n->save("index", index);
  }
  return attach(n, out);
}

Tensor index_select(const Tensor& t, int64_t dim, const Tensor& index) {
  EMBER_CHECK_KIND(index->dim() <= 1, Index, "index_select(): Index is supposed to be a vector");
  EMBER_CHECK(is_integral(index->dtype(), false), "index_select(): Expected dtype int32/int64 for index");
  check_device_strict(*t, *index);
  int64_t d = wrap_dim(dim, t->dim());
  if (t->dim() == 0) {
    EMBER_CHECK(index->numel() == 1, "index_select(): Index to scalar can have only 1 value, got ", index->numel(),
                " value(s)");
    return reshape(index_select(as_vector(t), 0, as_vector(index)), {});
  }
  // Negative indices are out of bounds here (index_adv would wrap them), as in
  // PyTorch. PyTorch raises RuntimeError; ember keeps IndexError, which
  // nn.functional.embedding turns into PyTorch's "index out of range in self".
  AdvIndex a = make_adv({d}, {reshape(index, {-1})});
  a.kind = cuda::kIndexSelect;
  Tensor out;
  {
    NoGradGuard ng;
    out = index_adv(t, a);
    if (index->dim() == 0 && t->dim() > 0)
      out = reshape(contiguous(out), t->sizes().size() ? [&] {
        Shape s = t->sizes();
        s[d] = 1;
        return s;
      }()
                                                       : Shape{});
  }
  out = contiguous(out);
  auto n = make_node<DimAndSizesState>("IndexSelectBackward0", {&t}, [](auto& n, variable_list& g) -> variable_list {
    AdvIndex a = make_adv({n.state.dim}, {n.saved_at(0)});
    return {index_put_adv(zeros(n.state.self_sizes, g[0]->dtype()), a, g[0], true)};
  });
  if (n) {
    n->state = {d, t->sizes()};
    n->save("index", reshape(index, {-1}));
  }
  return attach(n, out);
}

Tensor masked_fill(const Tensor& t, const Tensor& mask, const Tensor& value) {
  EMBER_CHECK(mask->dtype() == DType::Bool, "masked_fill_ only supports boolean masks, but got mask with dtype ",
              type_meta_name(mask->dtype()));
  EMBER_CHECK(value->dim() == 0, "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with ",
              value->dim(), " dimension(s).");
  check_value_fits(value, t->dtype());  // Note [Scalar overflow]
  Tensor v = to_dtype(value, t->dtype());
  return renamed(where(mask, v, t), "MaskedFillBackward0");
}

}  // namespace ember
