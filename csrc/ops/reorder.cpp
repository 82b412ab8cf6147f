// Ops that move elements without changing them: flip, roll, rot90 and
// repeat_interleave, with PyTorch's node names and formulas.
#include <algorithm>
#include <limits>

#include "kernels/cuda_dispatch.h"
#include "ops/op_node.h"

namespace ember {

namespace {  // a State is private to its op's file (Note [Node state])
struct FlipState {
  DimList dims;
  void fields(StateFields& f) const { f.add("dims", dims); }
};
struct RollState {
  DimList shifts, dims;
  void fields(StateFields& f) const {
    f.add("shifts", shifts);
    f.add("dims", dims);
  }
};
struct Rot90State {
  int64_t k = 1;
  DimList dims;
  void fields(StateFields& f) const {
    f.add("k", k);
    f.add("dims", dims);
  }
};
}  // namespace

static Tensor reversed_positions(int64_t n) { return arange(double(n - 1), -1.0, -1.0, DType::Int64); }

Tensor flip(const Tensor& t, const DimList& dims_in) {
  DimList dims;
  for (int64_t d : dims_in) {
    const int64_t w = wrap_dim(d, std::max<int64_t>(t->dim(), 1));
    EMBER_CHECK(std::find(dims.begin(), dims.end(), w) == dims.end(), "dim ", w,
                " appears multiple times in the list of dims");
    dims.push_back(w);
  }
  Tensor out;
  {
    NoGradGuard ng;
    out = t;
    if (t->dim())  // a 0-d tensor (dims [0] or [-1]) has nothing to reverse
      for (int64_t d : dims) out = index_select(out, d, reversed_positions(t->size(d)));
    if (out.get() == t.get()) out = clone(t);
  }
  auto n = make_node<FlipState>("FlipBackward0", {&t},
                                [](auto& n, variable_list& g) -> variable_list { return {flip(g[0], n.state.dims)}; });
  if (n) n->state.dims = dims;
  return attach(n, out);
}

// Elements shifted by `shift` along d, those pushed past the end coming back at the start.
static Tensor roll_dim(const Tensor& t, int64_t shift, int64_t d) {
  const int64_t n = t->size(d);
  if (n == 0) return t;
  const int64_t s = ((shift % n) + n) % n;
  if (s == 0) return t;
  return cat({narrow(t, d, n - s, s), narrow(t, d, 0, n - s)}, d);
}

Tensor roll(const Tensor& t, const DimList& shifts, const DimList& dims_in) {
  EMBER_CHECK(!shifts.empty(), "`shifts` required");
  EMBER_CHECK(dims_in.empty() ? shifts.size() == 1 : shifts.size() == dims_in.size(),
              "shifts and dimensions must align. shifts: ", shifts.size(), ", dims:", dims_in.size());
  // a 0-d tensor has no dim to roll along (wrap_dim would take dim 0 for it, as other ops do)
  EMBER_CHECK_KIND(t->dim() > 0 || dims_in.empty(), Index, "Dimension specified as ", dims_in.empty() ? 0 : dims_in[0],
                   " but tensor has no dimensions");
  DimList dims;
  for (int64_t d : dims_in) dims.push_back(wrap_dim(d, t->dim()));
  Tensor out;
  {
    NoGradGuard ng;
    if (dims.empty()) {  // the flattened tensor rolled, in its shape again
      out = reshape(roll_dim(reshape(t, {-1}), shifts[0], 0), t->sizes());
    } else {
      out = t;
      for (size_t i = 0; i < dims.size(); ++i) out = roll_dim(out, shifts[i], dims[i]);
    }
    if (out.get() == t.get()) out = clone(t);
    out = contiguous(out);
  }
  auto n = make_node<RollState>("RollBackward0", {&t}, [](auto& n, variable_list& g) -> variable_list {
    DimList back;
    for (int64_t s : n.state.shifts) back.push_back(-s);
    return {roll(g[0], back, n.state.dims)};
  });
  if (n) n->state = {shifts, dims};
  return attach(n, out);
}

// A quarter turn k times in the plane of dims, from the first dim toward the second.
Tensor rot90(const Tensor& t, int64_t k, const DimList& dims_in) {
  EMBER_CHECK(dims_in.size() == 2, "expected total rotation dims == 2, but got dims = ", dims_in.size());
  EMBER_CHECK(t->dim() >= 2, "expected total dims >= 2, but got total dims = ", t->dim());
  const int64_t d0 = wrap_dim(dims_in[0], t->dim()), d1 = wrap_dim(dims_in[1], t->dim());
  EMBER_CHECK(d0 != d1, "expected rotation dims to be different, but got dim0 = ", dims_in[0],
              " and dim1 = ", dims_in[1]);
  EMBER_CHECK(std::abs(d0 - d1) != t->dim(), "expected rotation dims to be different, but got dim0 = ", dims_in[0],
              " and dim1 = ", dims_in[1]);
  const int64_t turns = ((k % 4) + 4) % 4;
  Tensor out;
  {
    NoGradGuard ng;
    switch (turns) {
      case 1: out = contiguous(transpose(flip(t, {d1}), d0, d1)); break;
      case 2: out = flip(t, {d0, d1}); break;
      case 3: out = contiguous(transpose(flip(t, {d0}), d0, d1)); break;
      default: out = clone(t);
    }
  }
  auto n = make_node<Rot90State>("Rot90Backward0", {&t}, [](auto& n, variable_list& g) -> variable_list {
    return {rot90(g[0], -n.state.k, n.state.dims)};
  });
  if (n) n->state = {k, {d0, d1}};
  return attach(n, out);
}

// repeat_interleave(repeats): each position i repeated repeats[i] times.
Tensor repeat_interleave_index(const Tensor& repeats, std::optional<int64_t> output_size) {
  EMBER_CHECK(repeats->dim() <= 1, "repeat_interleave only accept 1D vector as repeat");
  EMBER_CHECK(is_integral(repeats->dtype(), false), "repeats has to be Long or Int tensor");
  Tensor r = contiguous(cast_for_kernel(reshape(repeats, {-1}), DType::Int64));
  const bool on_device = !r->device().is_cpu();
  if (on_device) r = kernels::host_copy(r);  // the checks and the total on the host: one wait, as PyTorch's
  const int64_t* p = r->data<int64_t>();
  int64_t total = 0;
  for (int64_t i = 0; i < r->numel(); ++i) {
    EMBER_CHECK(p[i] >= 0, "repeats can not be negative");
    EMBER_CHECK(p[i] <= std::numeric_limits<int64_t>::max() - total,
                "repeat_interleave: the total number of repeats overflows int64");
    total += p[i];
  }
  if (output_size) EMBER_CHECK(*output_size == total, "allocated size does not match required size");
  if (on_device) {  // position k's index: the first i whose running total of repeats passes k
    const Tensor ends = cumsum(reshape(repeats, {-1}), 0, DType::Int64);
    const bool int32 = repeats->dtype() == DType::Int32;
    return searchsorted(ends, arange(0, (double)total, 1, DType::Int64), int32, true, Tensor());
  }
  Tensor out = empty({total}, DType::Int64, Device{});
  int64_t* o = out->data<int64_t>();
  for (int64_t i = 0, at = 0; i < r->numel(); ++i)
    for (int64_t c = 0; c < p[i]; ++c) o[at++] = i;
  if (repeats->dtype() == DType::Int32) out = cast_for_kernel(out, DType::Int32);  // the repeats' dtype, as PyTorch's
  return moved_to(out, op_device());  // CPU repeats of a CUDA input: the index on its device
}

Tensor repeat_interleave(const Tensor& t, const Tensor& repeats, std::optional<int64_t> dim,
                         std::optional<int64_t> output_size) {
  Tensor x = dim ? t : reshape(t, {-1});
  const int64_t d = dim ? wrap_dim(*dim, std::max<int64_t>(t->dim(), 1)) : 0;
  if (x->dim() == 0) x = reshape(x, {1});
  const int64_t n = x->size(d);
  Tensor reps = repeats;
  if (repeats->numel() == 1 && n != 1) reps = expand(reshape(repeats, {1}), {n});
  EMBER_CHECK(reps->numel() == n,
              "repeats must have the same size as input along dim, but got repeats.size(0) = ", reps->numel(),
              " and input.size(", d, ") = ", n);
  return index_select(x, d, repeat_interleave_index(reps, output_size));
}

}  // namespace ember
