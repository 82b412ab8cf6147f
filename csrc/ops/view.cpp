// View ops: new geometry over the same storage and version counter. Each
// remembers its base (Note [In-place on views] in inplace.cpp).
#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>
#include <unordered_map>

#include "kernels/cpu/elementwise.h"
#include "ops/op_node.h"

namespace ember {

namespace {  // a State is private to its op's file (Note [Node state])

// View nodes that reshape the gradient back to the input's shape.
struct SizesState {
  Shape self_sizes;
  void fields(StateFields& f) const { f.add("self_sym_sizes", self_sizes); }
};
// repeat: the repeats, the gradient's shape as (repeat, size) pairs, and the input's shape.
struct RepeatState {
  DimList repeats;
  Shape tiled, self_sizes;
  void fields(StateFields& f) const {
    f.add("repeats", repeats);
    f.add("self_sym_sizes", self_sizes);
  }
};
}  // namespace

// Note [View creation]
// PyTorch refuses to record an in-place op on some views, because the graph
// it would build is wrong or ambiguous: views made in no_grad or inference
// mode (then modified with grad mode on), the outputs of ops returning several
// views (split, chunk, unbind: their node would have to be rewritten for all
// of them), and views returned by a custom Function (the view's own history
// would bypass the custom backward). A view records how it was made; a view of
// such a view inherits it; check_inplace() refuses with PyTorch's words.
void note_view_creation(TensorImpl& view, const TensorImpl& parent) {
  using VC = TensorImpl::ViewCreation;
  view.view_version = view.version();
  if (GradMode::is_inference()) {
    view.view_creation = VC::InferenceMode;
  } else if (!GradMode::is_enabled()) {
    view.view_creation = VC::NoGradMode;
  } else {
    view.view_creation = parent.view_creation;
    view.view_creator = parent.view_creator;
    view.view_output_nr = parent.view_output_nr;
  }
}

void note_multi_output_views(TensorList& views, const TensorImpl& parent, const char* creator) {
  for (size_t i = 0; i < views.size(); ++i) {
    note_view_creation(*views[i], parent);
    if (views[i]->view_creation != TensorImpl::ViewCreation::Default) continue;
    views[i]->view_creation = TensorImpl::ViewCreation::MultiOutput;
    views[i]->view_creator = creator;
    views[i]->view_output_nr = (uint32_t)i;
  }
}

static Tensor make_child_view(const Tensor& t, Shape sizes, Shape strides, int64_t offset) {
  Tensor v = make_view(t, std::move(sizes), std::move(strides), offset);
  if (t->is_inference) return v;  // an inference tensor's views are not tracked as views (PyTorch's rule)
  v->view_base = t->view_base ? t->view_base : t;
  note_view_creation(*v, *t);
  return v;
}

// -1 inferred; numel checked, naming both sizes as PyTorch.
static Shape infer_size(const Shape& shape, int64_t numel) {
  Shape out = shape;
  int64_t known = 1, infer = -1;
  bool overflow = false;  // then no shape of these sizes holds `numel` elements
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      EMBER_CHECK(infer < 0, "only one dimension can be inferred");
      infer = (int64_t)i;
    } else {
      EMBER_CHECK(shape[i] >= 0, "invalid shape dimension ", shape[i]);
      overflow |= __builtin_mul_overflow(known, shape[i], &known);
    }
  }
  if (overflow && known != 0)
    EMBER_FAIL(Runtime, "shape '", detail::cat(shape), "' is invalid for input of size ", numel);
  if (infer >= 0) {
    EMBER_CHECK(known != 0 && numel % known == 0, "shape '", detail::cat(shape), "' is invalid for input of size ",
                numel);
    out[infer] = numel / known;
  } else {
    EMBER_CHECK(known == numel, "shape '", detail::cat(shape), "' is invalid for input of size ", numel);
  }
  return out;
}

// Strides that give `t` the shape `shape` without copying, if any exist
// (groups of dims that are contiguous with each other may be re-split).
static std::optional<Shape> view_strides(const Tensor& t, const Shape& shape) {
  if (t->numel() == 0 || t->is_contiguous()) return contiguous_strides(shape);
  const Shape& os = t->sizes();
  const Shape& ot = t->strides();
  Shape ns(shape.size());
  int64_t view_d = (int64_t)shape.size() - 1;
  int64_t chunk_base_stride = ot.empty() ? 1 : ot.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t d = (int64_t)os.size() - 1; d >= 0; --d) {
    tensor_numel *= os[d];
    if (d == 0 || (os[d - 1] != 1 && ot[d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
        ns[view_d] = view_numel * chunk_base_stride;
        view_numel *= shape[view_d];
        view_d--;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (d > 0) {
        chunk_base_stride = ot[d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  if (view_d != -1) return std::nullopt;
  return ns;
}

Tensor view(const Tensor& t, const Shape& shape_in) {
  Shape shape = infer_size(shape_in, t->numel());
  auto st = view_strides(t, shape);
  EMBER_CHECK(st,
              "view size is not compatible with input tensor's size and stride (at least one dimension spans "
              "across two contiguous subspaces). Use .reshape(...) instead.");
  Tensor out = make_child_view(t, shape, *st, t->offset());
  auto n = make_node<SizesState>("ViewBackward0", {&t}, [](auto& n, variable_list& g) -> variable_list {
    return {reshape(g[0], n.state.self_sizes)};
  });
  if (n) {
    n->state.self_sizes = t->sizes();
    n->cheap = true;  // returns a view of the gradient
  }
  return attach(n, out);
}

// view(dtype): the same bytes read as another dtype, with PyTorch's rules and
// words. Between element sizes the last dim scales, so it must be contiguous.
// Not differentiable: the result never requires grad, as in PyTorch.
Tensor view_dtype(const Tensor& t, DType dtype) {
  if (dtype == t->dtype()) return view(t, t->sizes());
  const int64_t from = (int64_t)itemsize(t->dtype()), to = (int64_t)itemsize(dtype);
  Shape sizes = t->sizes(), strides = t->strides();
  int64_t offset = t->offset();
  if (from != to) {
    const std::string what =
        std::string(scalar_type_name(t->dtype())) + " as " + scalar_type_name(dtype) + " (different element sizes)";
    EMBER_CHECK(t->dim() > 0, "self.dim() cannot be 0 to view ", what);
    const size_t last = sizes.size() - 1;
    EMBER_CHECK(strides[last] == 1, "self.stride(-1) must be 1 to view ", what, ", but got ", strides[last]);
    if (to < from) {
      const int64_t ratio = from / to;
      sizes[last] *= ratio;
      for (size_t d = 0; d < last; ++d) strides[d] *= ratio;
      offset *= ratio;
    } else {
      const int64_t ratio = to / from;
      EMBER_CHECK(sizes[last] % ratio == 0, "self.size(-1) must be divisible by ", ratio, " to view ", what,
                  ", but got ", sizes[last]);
      EMBER_CHECK(offset % ratio == 0, "self.storage_offset() must be divisible by ", ratio, " to view ", what,
                  ", but got ", offset);
      for (size_t d = 0; d < last; ++d) {
        EMBER_CHECK(strides[d] % ratio == 0, "self.stride(", d, ") must be divisible by ", ratio, " to view ", what,
                    ", but got ", strides[d]);
        strides[d] /= ratio;
      }
      sizes[last] /= ratio;
      offset /= ratio;
    }
  }
  auto out = std::make_shared<TensorImpl>(t->storage(), std::move(sizes), std::move(strides), offset, dtype);
  out->share_version_counter_of(*t);
  out->is_inference = t->is_inference;
  if (dtype == DType::Bool && t->numel() > 0) {
    // A bool byte other than 0 or 1 is undefined behaviour in C++: refuse what PyTorch lets through.
    NoGradGuard ng;
    EMBER_CHECK(item_as_int64(amax(view_dtype(t, DType::UInt8), {}, false)) <= 1,
                "view(ember.bool): the bytes hold values other than 0 and 1");
  }
  return out;
}

Tensor reshape(const Tensor& t, const Shape& shape_in) {
  Shape shape = infer_size(shape_in, t->numel());
  if (view_strides(t, shape)) return view(t, shape);
  Tensor out = renamed(view(clone(t), shape), "UnsafeViewBackward0");
  out->view_base.reset();  // a fresh copy: no longer a view of `t`
  return out;
}

namespace {  // a State is private to its op's file (Note [Node state])

struct TransposeState {
  int64_t dim0 = 0, dim1 = 0;
  void fields(StateFields& f) const {
    f.add("dim0", dim0);
    f.add("dim1", dim1);
  }
};
}  // namespace

Tensor transpose(const Tensor& t, int64_t d0, int64_t d1) {
  int64_t nd = t->dim();
  d0 = wrap_dim(d0, nd);
  d1 = wrap_dim(d1, nd);
  Shape s = t->sizes(), st = t->strides();
  if (nd > 0) {
    std::swap(s[d0], s[d1]);
    std::swap(st[d0], st[d1]);
  }
  Tensor out = make_child_view(t, s, st, t->offset());
  auto n = make_node<TransposeState>("TransposeBackward0", {&t}, [](auto& n, variable_list& g) -> variable_list {
    return {transpose(g[0], n.state.dim0, n.state.dim1)};
  });
  if (n) {
    n->state = {d0, d1};
    n->cheap = true;  // returns a view of the gradient
  }
  return attach(n, out);
}

Tensor alias(const Tensor& t) {
  Tensor out = make_child_view(t, t->sizes(), t->strides(), t->offset());
  auto n = make_node("AliasBackward0", {&t}, [](auto&, variable_list& g) -> variable_list { return {g[0]}; });
  if (n) n->cheap = true;  // passes the gradient on
  return attach(n, out);
}

Tensor t_(const Tensor& t) {
  EMBER_CHECK(t->dim() <= 2, "t() expects a tensor with <= 2 dimensions, but self is ", t->dim(), "D");
  Tensor out;
  {
    NoGradGuard ng;
    out = t->dim() < 2 ? make_child_view(t, t->sizes(), t->strides(), t->offset()) : transpose(t, 0, 1);
  }
  note_view_creation(*out, *t);  // under the caller's grad mode, not the guard's
  auto n = make_node("TBackward0", {&t}, [](auto&, variable_list& g) -> variable_list { return {t_(g[0])}; });
  if (n) n->cheap = true;  // returns a view of the gradient
  return attach(n, out);
}

namespace {  // a State is private to its op's file (Note [Node state])

struct PermuteState {
  DimList dims;
  void fields(StateFields& f) const { f.add("dims", dims); }
};
}  // namespace

Tensor permute(const Tensor& t, const DimList& dims) {
  int64_t nd = t->dim();
  EMBER_CHECK((int64_t)dims.size() == nd,
              "permute(sparse_coo): number of dimensions in the tensor input does not match "
              "the length of the desired ordering of dimensions i.e. input.dim() = ",
              nd, " is not equal to len(dims) = ", dims.size());
  Shape s(nd), st(nd);
  DimList wrapped(nd);
  std::vector<bool> seen(nd, false);
  for (int64_t i = 0; i < nd; ++i) {
    int64_t d = wrap_dim(dims[i], nd);
    EMBER_CHECK(!seen[d], "permute(): duplicate dims are not allowed.");
    seen[d] = true;
    s[i] = t->size(d);
    st[i] = t->stride(d);
    wrapped[i] = d;
  }
  Tensor out = make_child_view(t, s, st, t->offset());
  auto n = make_node<PermuteState>("PermuteBackward0", {&t}, [](auto& n, variable_list& g) -> variable_list {
    const DimList& dims = n.state.dims;
    DimList inverse(dims.size());
    for (size_t i = 0; i < dims.size(); ++i) inverse[dims[i]] = (int64_t)i;
    return {permute(g[0], inverse)};
  });
  if (n) {
    n->state.dims = wrapped;
    n->cheap = true;  // returns a view of the gradient
  }
  return attach(n, out);
}

Tensor expand(const Tensor& t, const Shape& shape) {
  EMBER_CHECK(shape.size() >= (size_t)t->dim(), "expand(", legacy_type_name(t->dtype()), "{", detail::cat(t->sizes()),
              "}, size=", detail::cat(shape), "): the number of sizes provided (", shape.size(),
              ") must be greater or equal to the number of dimensions in the tensor (", t->dim(), ")");
  size_t off = shape.size() - t->dim();
  Shape s(shape.size()), st(shape.size(), 0);
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i < off) {
      EMBER_CHECK(shape[i] >= 0, "expand: -1 is not allowed in a leading, non-existing dimension");
      s[i] = shape[i];
      continue;
    }
    int64_t have = t->size(i - off), want = shape[i] == -1 ? have : shape[i];
    EMBER_CHECK(have == want || have == 1, "The expanded size of the tensor (", want,
                ") must match the existing size (", have, ") at non-singleton dimension ", i,
                ".  Target sizes: ", detail::cat(shape), ".  Tensor sizes: ", detail::cat(t->sizes()));
    s[i] = want;
    st[i] = have == want ? t->stride(i - off) : 0;
  }
  if (s == t->sizes()) return t;
  Tensor out = make_child_view(t, s, st, t->offset());
  auto n = make_node<SizesState>("ExpandBackward0", {&t}, [](auto& n, variable_list& g) -> variable_list {
    return {sum_to(g[0], n.state.self_sizes)};
  });
  if (n) n->state.self_sizes = t->sizes();
  return attach(n, out);
}

Tensor squeeze(const Tensor& t, std::optional<DimList> dims) {
  // Which dims may go (every one without `dims`); a vector, not a bit mask: a
  // tensor may have more than 64 dims.
  std::vector<bool> chosen(t->dim(), !dims);
  if (dims)
    for (auto d : *dims) {
      int64_t w = wrap_dim(d, t->dim());  // checked for a 0-d tensor too, as PyTorch
      if (t->dim()) chosen[w] = true;
    }
  Shape s, st;
  for (int64_t i = 0; i < t->dim(); ++i)
    if (!chosen[i] || t->size(i) != 1) {
      s.push_back(t->size(i));
      st.push_back(t->stride(i));
    }
  Tensor out = make_child_view(t, s, st, t->offset());
  const char* name = !dims ? "SqueezeBackward0" : (dims->size() == 1 ? "SqueezeBackward1" : "SqueezeBackward2");
  auto n = make_node<SizesState>(
      name, {&t}, [](auto& n, variable_list& g) -> variable_list { return {reshape(g[0], n.state.self_sizes)}; });
  if (n) {
    n->state.self_sizes = t->sizes();
    n->cheap = true;  // returns a view of the gradient
  }
  return attach(n, out);
}

Tensor unsqueeze(const Tensor& t, int64_t dim) {
  int64_t d = wrap_dim(dim, t->dim() + 1);
  Shape s = t->sizes(), st = t->strides();
  int64_t new_stride = d < t->dim() ? t->size(d) * t->stride(d) : 1;
  s.insert(s.begin() + d, 1);
  st.insert(st.begin() + d, new_stride);
  Tensor out = make_child_view(t, s, st, t->offset());
  auto n = make_node<DimState>("UnsqueezeBackward0", {&t}, [](auto& n, variable_list& g) -> variable_list {
    return {squeeze(g[0], DimList{n.state.dim})};
  });
  if (n) {
    n->state.dim = d;
    n->cheap = true;  // returns a view of the gradient
  }
  return attach(n, out);
}

Tensor flatten(const Tensor& t, int64_t start, int64_t end) {
  start = wrap_dim(start, t->dim());
  end = wrap_dim(end, t->dim());
  if (t->dim() == 0) return reshape(t, {1});
  EMBER_CHECK(start <= end, "flatten() has invalid args: start_dim cannot come after end_dim");
  if (start == end) return t;
  Shape s(t->sizes().begin(), t->sizes().begin() + start);
  int64_t m = 1;
  for (int64_t i = start; i <= end; ++i) m *= t->size(i);
  s.push_back(m);
  s.insert(s.end(), t->sizes().begin() + end + 1, t->sizes().end());
  return reshape(t, s);
}

// The gradient of a view into a region: zeros of the input's shape with the
// gradient written where the view looked (geometry relative to a contiguous input).
static Tensor embed(const Tensor& g, const Shape& base, const Shape& sizes, const Shape& strides, int64_t offset) {
  Tensor out = zeros(base, g->dtype());
  Tensor region = make_view(out, sizes, strides, offset);
  kernels::copy(region, g);
  auto n = make_node<Region>("AsStridedScatterBackward0", {&g}, [](auto& n, variable_list& gg) -> variable_list {
    Tensor c = contiguous(gg[0]);
    return {as_strided(c, n.state.sizes, n.state.strides, n.state.offset + c->offset())};
  });
  if (n) n->state = {sizes, strides, offset};
  return attach(n, out);
}

namespace {  // a State is private to its op's file (Note [Node state])

// A region view's node: where it looks in a contiguous layout of its input.
struct RegionViewState {
  Shape self_sizes;
  Region region;
  void fields(StateFields& f) const {
    f.add("self_sym_sizes", self_sizes);
    region.fields(f);
  }
};
}  // namespace

static variable_list region_backward(StateNode<RegionViewState>& n, variable_list& g) {
  const Region& r = n.state.region;
  return {embed(g[0], n.state.self_sizes, r.sizes, r.strides, r.offset)};
}

// A region view (select/slice/as_strided) with its backward node.
static Tensor region_view(const Tensor& t, const char* name, Shape sizes, Shape strides, int64_t offset,
                          Shape rel_strides, int64_t rel_offset) {
  Tensor out = make_child_view(t, std::move(sizes), std::move(strides), offset);
  auto n = make_node<RegionViewState>(name, {&t}, region_backward);
  if (n) n->state = {t->sizes(), Region{out->sizes(), std::move(rel_strides), rel_offset}};
  return attach(n, out);
}

Tensor select(const Tensor& t, int64_t dim, int64_t index) {
  EMBER_CHECK_KIND(t->dim() > 0, Index, "select() cannot be applied to a 0-dim tensor.");
  int64_t d = wrap_dim(dim, t->dim());
  int64_t size = t->size(d);
  EMBER_CHECK_KIND(index >= -size && index < size, Index, "index ", index, " is out of bounds for dimension ", d,
                   " with size ", size);
  if (index < 0) index += size;
  Shape s = t->sizes(), st = t->strides(), cst = contiguous_strides(t->sizes());
  int64_t offset = t->offset() + index * st[d], rel = index * cst[d];
  s.erase(s.begin() + d);
  st.erase(st.begin() + d);
  cst.erase(cst.begin() + d);
  return region_view(t, "SelectBackward0", s, st, offset, cst, rel);
}

Tensor slice(const Tensor& t, int64_t dim, std::optional<int64_t> start_in, std::optional<int64_t> end_in,
             int64_t step) {
  EMBER_CHECK_KIND(t->dim() > 0, Index, "slice() cannot be applied to a 0-dim tensor.");
  EMBER_CHECK_KIND(step > 0, Value, "step must be greater than zero");
  int64_t d = wrap_dim(dim, t->dim());
  int64_t size = t->size(d);
  int64_t start = start_in.value_or(0), end = end_in.value_or(size);
  if (start < 0) start += size;
  if (end < 0) end += size;
  start = std::clamp<int64_t>(start, 0, size);
  end = std::clamp<int64_t>(end, start, size);
  // Written so that a huge step cannot overflow: with one element or none the
  // step does not matter, and with more it is less than the dim's size.
  int64_t len = start < end ? (end - start - 1) / step + 1 : 0;
  Shape s = t->sizes(), st = t->strides(), cst = contiguous_strides(t->sizes());
  int64_t offset = t->offset() + start * st[d], rel = start * cst[d];
  s[d] = len;
  if (len > 1) {
    st[d] *= step;
    cst[d] *= step;
  }
  return region_view(t, "SliceBackward0", s, st, offset, cst, rel);
}

// The diagonal of dims dim1 and dim2 (offset above it when positive), as a
// last dim: a view striding by both dims' strides at once.
Tensor diagonal(const Tensor& t, int64_t offset, int64_t dim1, int64_t dim2) {
  int64_t d1 = wrap_dim(dim1, t->dim()), d2 = wrap_dim(dim2, t->dim());
  EMBER_CHECK(t->dim() >= 2, "diagonal dimensions requires ndim larger than 1, got ", t->dim());
  EMBER_CHECK(d1 != d2, "diagonal dimensions cannot be identical ", dim1, ", ", dim2);
  auto geometry = [&](Shape sizes, Shape strides, int64_t base) {
    int64_t len = offset >= 0 ? std::min(sizes[d1], sizes[d2] - offset) : std::min(sizes[d1] + offset, sizes[d2]);
    len = std::max<int64_t>(len, 0);
    if (len > 0) base += offset >= 0 ? offset * strides[d2] : -offset * strides[d1];
    int64_t step = strides[d1] + strides[d2];
    for (int64_t d : {std::max(d1, d2), std::min(d1, d2)}) {
      sizes.erase(sizes.begin() + d);
      strides.erase(strides.begin() + d);
    }
    sizes.push_back(len);
    strides.push_back(step);
    return std::make_tuple(sizes, strides, base);
  };
  auto [s, st, off] = geometry(t->sizes(), t->strides(), t->offset());
  auto [unused, cst, rel] = geometry(t->sizes(), contiguous_strides(t->sizes()), 0);
  return region_view(t, "DiagonalBackward0", s, st, off, cst, rel);
}

Tensor narrow(const Tensor& t, int64_t dim, int64_t start, int64_t length) {
  EMBER_CHECK_KIND(t->dim() > 0, Index, "narrow() cannot be applied to a 0-dim tensor.");
  int64_t d = wrap_dim(dim, t->dim());
  int64_t size = t->size(d);
  if (start < 0) start += size;
  EMBER_CHECK_KIND(start >= 0 && start <= size, Index, "start out of range (expected to be in range of [", -size, ", ",
                   size, "], but got ", start, ")");
  EMBER_CHECK(length >= 0 && start + length <= size, "start (", start, ") + length (", length,
              ") exceeds dimension size (", size, ").");
  return slice(t, d, start, start + length, 1);
}

// x.repeat(*sizes): the tensor tiled sizes[i] times along each dim (leading
// dims added for extra sizes). Composed of reshape/expand, whose gradients sum
// the tiles back; the last node carries PyTorch's name. The tiles are copied, as
// PyTorch's are: a reshape of the expanded view alone can stay a view (stride 0
// over a repeated leading dim), which would make the tiles one memory.
// repeat: the input tiled repeats[i] times along each dim, as one RepeatBackward0 node (PyTorch's); its backward
// sums the gradient's tiles.
Tensor repeat(const Tensor& t, const DimList& repeats) {
  EMBER_CHECK(repeats.size() >= (size_t)t->dim(),
              "Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor");
  for (auto r : repeats)
    EMBER_CHECK(r >= 0, "Trying to create tensor with negative dimension ", r, ": ", detail::cat(repeats));
  const size_t n = repeats.size();
  Shape padded(n - t->dim(), 1);
  padded.insert(padded.end(), t->sizes().begin(), t->sizes().end());
  Shape interleaved, expanded, result;
  for (size_t i = 0; i < n; ++i) {
    interleaved.insert(interleaved.end(), {1, padded[i]});
    expanded.insert(expanded.end(), {repeats[i], padded[i]});
    result.push_back(repeats[i] * padded[i]);
  }
  Tensor out;
  {
    NoGradGuard ng;
    out = reshape(clone(expand(reshape(t, interleaved), expanded)), result);
  }
  auto node = make_node<RepeatState>("RepeatBackward0", {&t}, [](auto& node, variable_list& g) -> variable_list {
    const RepeatState& s = node.state;
    DimList tile_dims;  // the even dims of the (repeat, size) pairs
    for (size_t i = 0; i < s.repeats.size(); ++i) tile_dims.push_back(2 * (int64_t)i);
    return {reshape(sum(reshape(g[0], s.tiled), tile_dims, false), s.self_sizes)};
  });
  if (node) node->state = {repeats, expanded, t->sizes()};
  return attach(node, out);
}

// The sum of a matrix's diagonal: every (cols + 1)-th element of its flat form; one TraceBackward0 node, whose
// backward puts the gradient on the diagonal.
Tensor trace(const Tensor& t) {
  EMBER_CHECK(t->dim() == 2, "trace: expected a matrix, but got tensor with dim ", t->dim());
  const int64_t n = std::min(t->size(0), t->size(1));
  Tensor out;
  {
    NoGradGuard ng;
    Tensor flat = reshape(t, {t->numel()});
    out = sum_all(slice(flat, 0, 0, n == 0 ? 0 : (n - 1) * (t->size(1) + 1) + 1, t->size(1) + 1));
  }
  auto node = make_node<SizesState>("TraceBackward0", {&t}, [](auto& node, variable_list& g) -> variable_list {
    const Shape& s = node.state.self_sizes;
    OpDeviceGuard on(g[0]->device());
    return {mul(eye(s[0], s[1], g[0]->dtype()), g[0])};
  });
  if (node) node->state.self_sizes = t->sizes();
  return attach(node, out);
}

// In-place view ops (t_, transpose_, squeeze_, unsqueeze_): self takes the
// geometry of `view` (the out-of-place op's result on self) and, when recorded,
// its history, under the in-place op's node name (TBackward1, ...).
Tensor& inplace_view(Tensor& self, const Tensor& view, const char* name) {
  const bool records = GradMode::is_enabled() && self->requires_grad();
  check_inplace(self, name, false);  // an inference tensor outside inference_mode
  if (records && self->view_base) check_view_creation(*self);
  EMBER_CHECK(!(records && self->is_leaf()),
              "a leaf Variable that requires grad is being used in an in-place operation.");
  self->set_geometry(view->sizes(), view->strides(), view->offset());
  self->bump_version();
  if (records && view->grad_fn()) {
    renamed(view, name);
    rebase_history(self, view->grad_fn(), view->autograd()->output_nr);
  }
  return self;
}

// Tensor.resize_: self becomes contiguous with `sizes`, in its storage when that is
// large enough from self's offset, else in a larger one holding the old elements first.
// Not for tensors in autograd (PyTorch: "cannot resize variables that require grad").
Tensor& resize_(Tensor& self, const Shape& sizes) {
  EMBER_CHECK(!(self->requires_grad() && !self->is_inference), "cannot resize variables that require grad");
  check_inplace(self, "resize_", false);
  const int64_t numel = shape_numel(sizes);  // refuses negative sizes and overflows
  if (sizes == self->sizes()) return self;   // nothing changes, not even the version (PyTorch's rule)
  int64_t extent = 0;                        // elements the storage must hold from its start
  EMBER_CHECK(!__builtin_add_overflow(self->offset(), numel, &extent),
              "Storage size calculation overflowed with sizes=", detail::cat(sizes));
  if (storage_bytes({extent}, itemsize(self->dtype())) > self->storage()->nbytes) {
    Tensor grown = empty({extent}, self->dtype(), self->device());
    const int64_t keep = std::min<int64_t>(self->storage()->nbytes / itemsize(self->dtype()), extent);
    std::memcpy(grown->data_ptr(), self->storage()->data, (size_t)keep * itemsize(self->dtype()));
    self->set_storage(grown->storage());
  }
  self->set_geometry(sizes, contiguous_strides(sizes), self->offset());
  self->bump_version();
  return self;
}

// Tensor.set_(source): self shows source's storage and geometry (its own autograd
// identity kept, but a fresh AccumulateGrad: graphs recorded before do not reach it).
Tensor& set_(Tensor& self, const Tensor& source) {
  EMBER_CHECK(self->dtype() == source->dtype(), "Could not set tensor of type ", dtype_name(source->dtype()),
              " to a tensor of type ", dtype_name(self->dtype()));
  check_inplace(self, "set_", GradMode::is_enabled() && self->requires_grad());
  set_data(self, source);  // self keeps counting versions where it was
  if (auto* meta = self->autograd()) {
    std::lock_guard<std::mutex> lock(meta->mutex);
    meta->grad_accumulator.reset();
  }
  self->bump_version();
  return self;
}

// Tensor.set_(source, storage_offset, size, stride): source's storage under this
// geometry, which must lie inside it.
Tensor& set_(Tensor& self, const Tensor& source, int64_t offset, const Shape& sizes, const Shape& strides) {
  EMBER_CHECK(sizes.size() == strides.size(), "set_: mismatch in length of sizes (", sizes.size(), ") and strides (",
              strides.size(), ")");
  bool overflow = offset < 0 || offset == std::numeric_limits<int64_t>::max();
  int64_t last = offset - 1;  // the furthest element read (none for an empty view)
  if (shape_numel(sizes) > 0) {
    last = offset;
    for (size_t d = 0; d < sizes.size(); ++d) {
      EMBER_CHECK(strides[d] >= 0, "set_: negative stride in ", detail::cat(strides));
      int64_t span = 0;
      overflow |= __builtin_mul_overflow(sizes[d] - 1, strides[d], &span) || __builtin_add_overflow(last, span, &last);
    }
    overflow |= last == std::numeric_limits<int64_t>::max();  // last + 1 below
  }
  EMBER_CHECK(!overflow && storage_bytes({last + 1}, itemsize(source->dtype())) <= source->storage()->nbytes,
              "set_: a view of size ", detail::cat(sizes), ", stride ", detail::cat(strides), " and storage offset ",
              offset, " does not fit in the source's storage");
  set_(self, source);
  self->set_geometry(sizes, strides, offset);
  return self;
}

namespace {  // a State is private to its op's file (Note [Node state])

// as_strided's node: the input's geometry and the view's, both in storage positions.
struct AsStridedState {
  Region input, view;
  void fields(StateFields& f) const { view.fields(f); }
};

// Storage position of each element of a (sizes, strides, offset) geometry, in row-major order.
std::vector<int64_t> storage_positions(const Shape& sizes, const Shape& strides, int64_t offset) {
  std::vector<int64_t> pos(1, offset);
  for (size_t d = 0; d < sizes.size(); ++d) {
    std::vector<int64_t> next;
    next.reserve(pos.size() * sizes[d]);
    for (int64_t p : pos)
      for (int64_t i = 0; i < sizes[d]; ++i) next.push_back(p + i * strides[d]);
    pos.swap(next);
  }
  return pos;
}

// Positions computed on the host, on the op's device (Note [Op device]).
Tensor int64_tensor(const std::vector<int64_t>& values) {
  Tensor t = empty({(int64_t)values.size()}, DType::Int64, Device{});
  std::copy(values.begin(), values.end(), t->data<int64_t>());
  return moved_to(t, op_device());
}

// The gradient of an as_strided view w.r.t. its input: each view element's gradient added to the
// input element at the same storage position (several when the view overlaps itself; none when it
// looks at storage the input does not cover).
variable_list as_strided_backward(StateNode<AsStridedState>& n, variable_list& g) {
  const Region &in = n.state.input, &view = n.state.view;
  std::vector<int64_t> in_pos = storage_positions(in.sizes, in.strides, in.offset);
  std::unordered_map<int64_t, int64_t> element_at;
  for (size_t i = 0; i < in_pos.size(); ++i) element_at.emplace(in_pos[i], (int64_t)i);
  std::vector<int64_t> from, to;
  std::vector<int64_t> view_pos = storage_positions(view.sizes, view.strides, view.offset);
  for (size_t k = 0; k < view_pos.size(); ++k) {
    auto it = element_at.find(view_pos[k]);
    if (it == element_at.end()) continue;
    from.push_back((int64_t)k);
    to.push_back(it->second);
  }
  Tensor flat = reshape(g[0], {-1});
  Tensor picked = from.size() == view_pos.size() ? flat : index_select(flat, 0, int64_tensor(from));
  Tensor grad = index_add(zeros({(int64_t)in_pos.size()}, g[0]->dtype()), 0, int64_tensor(to), picked, 1.0);
  return {reshape(grad, in.sizes)};
}
}  // namespace

// A view of t's storage with the given sizes, strides (in elements) and storage offset, as PyTorch's.
Tensor as_strided(const Tensor& t, const Shape& sizes, const Shape& strides, int64_t offset) {
  EMBER_CHECK(sizes.size() == strides.size(), "mismatch in length of strides and shape");
  for (int64_t st : strides)
    EMBER_CHECK(st >= 0,
                "as_strided: Negative strides are not supported at the moment, got strides: ", detail::cat(strides));
  for (int64_t sz : sizes)
    EMBER_CHECK(sz >= 0, "Trying to create tensor with negative dimension ", sz, ": ", detail::cat(sizes));
  EMBER_CHECK(offset >= 0, "Tensor: invalid storage offset ", offset);
  int64_t last = offset, numel = 1;
  for (size_t d = 0; d < sizes.size(); ++d) {
    numel *= sizes[d];
    if (sizes[d] > 0) last += (sizes[d] - 1) * strides[d];
  }
  const int64_t item = itemsize(t->dtype()), storage = t->storage() ? (int64_t)t->storage()->nbytes / item : 0;
  EMBER_CHECK(numel == 0 || last < storage, "setStorage: sizes ", detail::cat(sizes), ", strides ",
              detail::cat(strides), ", storage offset ", offset, ", and itemsize ", item,
              " requiring a storage size of ", (last + 1) * item, " are out of bounds for storage of size ",
              storage * item);
  Tensor out = make_child_view(t, sizes, strides, offset);
  auto n = make_node<AsStridedState>("AsStridedBackward0", {&t}, as_strided_backward);
  if (n) n->state = {Region{t->sizes(), t->strides(), t->offset()}, Region{sizes, strides, offset}};
  return attach(n, out);
}

}  // namespace ember
