// Joining (cat, stack) and splitting (split, chunk, unbind).
#include "core/cuda.h"
#include "kernels/cpu/elementwise.h"
#include "ops/op_node.h"

namespace ember {

namespace {  // a State is private to its op's file (Note [Node state])

// cat: the length each input had along `dim` (-1: a skipped legacy empty tensor).
struct CatState {
  int64_t dim = 0;
  DimList sizes;
  void fields(StateFields& f) const { f.add("dim", dim); }
};
}  // namespace

Tensor cat(const TensorList& ts, int64_t dim) {
  EMBER_CHECK(!ts.empty(), "torch.cat(): expected a non-empty list of Tensors");
  // PyTorch skips legacy empty 1-D tensors of shape [0].
  const Tensor* ref = nullptr;
  for (auto& t : ts)
    if (!(t->dim() == 1 && t->size(0) == 0)) {
      ref = &t;
      break;
    }
  if (!ref) ref = &ts[0];
  for (size_t i = 0; i < ts.size(); ++i) {
    EMBER_CHECK(ts[i]->dim() > 0, "zero-dimensional tensor (at position ", i, ") cannot be concatenated");
    check_device_strict(*ts[0], *ts[i]);
  }
  int64_t nd = (*ref)->dim();
  int64_t d = wrap_dim(dim, nd);
  DType dt = ts[0]->dtype();
  Shape shape = (*ref)->sizes();
  shape[d] = 0;
  for (size_t i = 0; i < ts.size(); ++i) {
    const Tensor& t = ts[i];
    dt = promote(dt, t->dtype());
    if (t->dim() == 1 && t->size(0) == 0 && nd != 1) continue;
    EMBER_CHECK(t->dim() == nd, "Tensors must have same number of dimensions: got ", nd, " and ", t->dim());
    for (int64_t k = 0; k < nd; ++k)
      EMBER_CHECK(k == d || t->size(k) == shape[k], "Sizes of tensors must match except in dimension ", d,
                  ". Expected size ", shape[k], " but got size ", t->size(k), " for tensor number ", i,
                  " in the list.");
    shape[d] += t->size(d);
  }
  Tensor out = empty(shape, dt);
  int64_t pos = 0;
  DimList sizes;
  for (auto& t : ts) {
    bool skipped = t->dim() == 1 && t->size(0) == 0 && nd != 1;
    int64_t len = skipped ? 0 : t->size(d);
    sizes.push_back(skipped ? -1 : len);
    if (len == 0) continue;
    Shape s = out->sizes();
    s[d] = len;
    kernels::copy(make_view(out, s, out->strides(), pos * out->stride(d)), t);
    pos += len;
  }
  auto n = make_node_list<CatState>("CatBackward0", ts, [](auto& n, variable_list& g) -> variable_list {
    variable_list grads;
    int64_t pos = 0;
    for (size_t i = 0; i < n.state.sizes.size(); ++i) {
      int64_t len = n.state.sizes[i];
      if (len < 0) {
        grads.push_back(zeros({0}, g[0]->dtype()));
        continue;
      }
      grads.push_back(n.needs(i) ? narrow(g[0], n.state.dim, pos, len) : Tensor());
      pos += len;
    }
    return grads;
  });
  if (n) n->state = {d, sizes};
  return attach(n, out);
}

Tensor stack(const TensorList& ts, int64_t dim) {
  EMBER_CHECK(!ts.empty(), "stack expects a non-empty TensorList");
  int64_t d = wrap_dim(dim, ts[0]->dim() + 1);
  for (size_t i = 1; i < ts.size(); ++i)
    EMBER_CHECK(ts[i]->sizes() == ts[0]->sizes(), "stack expects each tensor to be equal size, but got ",
                detail::cat(ts[0]->sizes()), " at entry 0 and ", detail::cat(ts[i]->sizes()), " at entry ", i);
  Tensor out;
  {
    NoGradGuard ng;
    TensorList parts;
    for (auto& t : ts) parts.push_back(unsqueeze(t, d));
    out = cat(parts, d);
  }
  auto n = make_node_list<DimState>("StackBackward0", ts, [](auto& n, variable_list& g) -> variable_list {
    variable_list grads;
    for (size_t i = 0; i < n.next_edges.size(); ++i)
      grads.push_back(n.needs(i) ? select(g[0], n.state.dim, (int64_t)i) : Tensor());
    return grads;
  });
  if (n) n->state.dim = d;
  return attach(n, out);
}

// Views of consecutive pieces along `dim`, one multi-output node for all.
static TensorList split_views(const Tensor& t, const DimList& sizes, int64_t d, const char* name) {
  TensorList outs;
  {
    NoGradGuard ng;
    int64_t pos = 0;
    for (auto len : sizes) {
      outs.push_back(narrow(t, d, pos, len));
      pos += len;
    }
  }
  note_multi_output_views(outs, *t, name[5] == 'W' ? "SplitWithSizes" : "Split");
  auto n =
      make_node<DimState>(name, {&t}, [](auto& n, variable_list& g) -> variable_list { return {cat(g, n.state.dim)}; });
  if (n) {
    n->state.dim = d;
    for (auto& o : outs) set_history(o, n);
  }
  return outs;
}

TensorList split_sizes(const Tensor& t, const DimList& sizes, int64_t dim) {
  EMBER_CHECK(t->dim() > 0, "split expects at least a 1-dimensional tensor");
  int64_t d = wrap_dim(dim, t->dim());
  int64_t total = 0;
  for (auto s : sizes) total += s;
  EMBER_CHECK(total == t->size(d), "split_with_sizes expects split_sizes to sum exactly to ", t->size(d),
              " (input tensor's size at dimension ", d, "), but got split_sizes=", detail::cat(sizes));
  return split_views(t, sizes, d, "SplitWithSizesBackward0");
}

TensorList split(const Tensor& t, int64_t size, int64_t dim) {
  EMBER_CHECK(t->dim() > 0, "split expects at least a 1-dimensional tensor");
  EMBER_CHECK(size > 0 || t->size(wrap_dim(dim, t->dim())) == 0,
              "split_size can only be 0 if dimension size is 0, but got dimension size of ",
              t->size(wrap_dim(dim, t->dim())));
  int64_t d = wrap_dim(dim, t->dim());
  DimList sizes;
  for (int64_t pos = 0; pos < t->size(d); pos += size) sizes.push_back(std::min(size, t->size(d) - pos));
  if (sizes.empty()) sizes.push_back(0);
  return split_views(t, sizes, d, "SplitBackward0");
}

TensorList chunk(const Tensor& t, int64_t chunks, int64_t dim) {
  EMBER_CHECK(t->dim() > 0, "chunk expects at least a 1-dimensional tensor");
  EMBER_CHECK(chunks > 0, "chunk expects `chunks` to be greater than 0, got: ", chunks);
  int64_t size = t->size(wrap_dim(dim, t->dim()));
  if (size == 0) {  // `chunks` empty pieces, as PyTorch's
    TensorList pieces;
    for (int64_t i = 0; i < chunks; ++i) pieces.push_back(narrow(t, dim, 0, 0));
    return pieces;
  }
  return split(t, std::max<int64_t>((size + chunks - 1) / chunks, 1), dim);
}

TensorList unbind(const Tensor& t, int64_t dim) {
  EMBER_CHECK(t->dim() > 0, "Dimension specified as 0 but tensor has no dimensions");
  int64_t d = wrap_dim(dim, t->dim());
  TensorList outs;
  {
    NoGradGuard ng;
    for (int64_t i = 0; i < t->size(d); ++i) outs.push_back(select(t, d, i));
  }
  note_multi_output_views(outs, *t, "Unbind");
  auto n = make_node<DimState>("UnbindBackward0", {&t},
                               [](auto& n, variable_list& g) -> variable_list { return {stack(g, n.state.dim)}; });
  if (n) {
    n->state.dim = d;
    for (auto& o : outs) set_history(o, n);
  }
  return outs;
}

}  // namespace ember
