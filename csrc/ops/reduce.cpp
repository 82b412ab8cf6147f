// Reductions and the normalisations built on them (softmax, log_softmax).
#include <algorithm>
#include <cmath>

#include "kernels/cpu/reduce.h"
#include "kernels/cpu/softmax.h"
#include "ops/op_node.h"

namespace ember {

using kernels::ReduceOp;
static DimList shape_to_dims(uint64_t mask) {
  DimList d;
  for (int64_t i = 0; i < 64; ++i)
    if (mask & (1ull << i)) d.push_back(i);
  return d;
}

// prod over the dims of `mask` (one dim or all, as prod() takes) with the masked-out elements read as 1.
static Tensor prod_masked(const Tensor& x, const Tensor& drop, uint64_t mask, bool keepdim) {
  DimList d = shape_to_dims(mask);
  Tensor y = where(drop, ones({}, x->dtype()), x);
  if (d.size() == 1 && x->dim() > 1) return prod(y, d[0], keepdim);
  return prod(y, std::nullopt, false);
}

static Shape keepdim_shape(const Shape& in, uint64_t mask) {
  Shape s = in;
  for (size_t d = 0; d < s.size(); ++d)
    if (mask & (1ull << d)) s[d] = 1;
  return s;
}

static Shape drop_dims(const Shape& in, uint64_t mask) {
  Shape s;
  for (size_t d = 0; d < in.size(); ++d)
    if (!(mask & (1ull << d))) s.push_back(in[d]);
  return s;
}

// A contiguous keepdim-shaped result seen without its reduced dims.
static Tensor maybe_squeeze(const Tensor& t, uint64_t mask, bool keepdim) {
  if (keepdim) return t;
  Shape s = drop_dims(t->sizes(), mask);
  return make_view(t, s, contiguous_strides(s), t->offset());
}

static Tensor reduce_forward(ReduceOp op, const Tensor& t, uint64_t mask, bool keepdim, DType out_dtype) {
  Tensor out = empty(keepdim_shape(t->sizes(), mask), out_dtype);
  kernels::reduce(op, out, t, mask);
  return maybe_squeeze(out, mask, keepdim);
}

namespace {  // a State is private to its op's file (Note [Node state])

// What a reduction's formula needs: the input's shape, the reduced dims (a
// bit mask) and keepdim.
struct Reduction {
  Shape self_sizes;
  uint64_t mask = 0;
  bool keepdim = false;

  Reduction() = default;
  Reduction(const Tensor& t, uint64_t m, bool kd) : self_sizes(t->sizes()), mask(m), keepdim(kd) {}
  DimList dims() const { return shape_to_dims(mask); }
  // The gradient of the reduction, broadcast back to the input's shape.
  Tensor expand_grad(const Tensor& g) const {
    // A full reduction's 0-d gradient expands as it is (PyTorch's graph: no ViewBackward0 first).
    Tensor gk = keepdim || g->dim() == 0 ? g : reshape(g, keepdim_shape(self_sizes, mask));
    return expand(gk, self_sizes);
  }
  // A kept-dim view of a saved result, for formulas that combine it with the input.
  Tensor keep(const Tensor& r) const { return keepdim ? r : reshape(r, keepdim_shape(self_sizes, mask)); }
  void fields(StateFields& f) const {
    f.add("dim", dims());
    f.add("keepdim", keepdim);
    f.add("self_sym_sizes", self_sizes);
  }
};

struct ReduceState {
  Reduction r;
  void fields(StateFields& f) const { r.fields(f); }
};

struct MeanState {
  Reduction r;
  double count = 0;  // elements per output value
  void fields(StateFields& f) const {
    r.fields(f);
    f.add("count", count);
  }
};

struct ProdState {
  Reduction r;
  bool has_dim = false;  // ProdBackward1: prod over one dim
  void fields(StateFields& f) const {
    if (has_dim) f.add("dim", r.dims()[0]);
    if (has_dim) f.add("keepdim", r.keepdim);
  }
};
struct VarState {
  Reduction r;
  double correction = 1;
  // n - correction, n the number of elements reduced into each output value
  double divisor() const {
    double n = 1;
    for (auto d : r.dims()) n *= (double)r.self_sizes[d];
    return n - correction;
  }
  void fields(StateFields& f) const {
    r.fields(f);
    f.add("correction", correction);
  }
};

struct NormState {
  Reduction r;
  double ord = 2;
  void fields(StateFields& f) const {
    r.fields(f);
    f.add("ord", ord);
  }
};

struct MaxDimState {
  Reduction r;
  int64_t dim = 0;
  void fields(StateFields& f) const {
    f.add("dim", dim);
    f.add("keepdim", r.keepdim);
    f.add("self_sym_sizes", r.self_sizes);
  }
};

struct SoftmaxState {
  int64_t dim = 0;
  void fields(StateFields& f) const { f.add("dim", dim); }
};
}  // namespace

static uint64_t mask_of(const Tensor& t, const DimList& dims, const char* op) { return dim_mask(dims, t->dim(), op); }

// The dtype the sum and prod kernels produce: int64 for integers and bool.
static DType accumulate_dtype(const Tensor& t) { return is_integral(t->dtype(), true) ? DType::Int64 : t->dtype(); }

Tensor sum(const Tensor& t, const DimList& dims, bool keepdim, std::optional<DType> dtype) {
  uint64_t mask = mask_of(t, dims, "sum");
  Tensor in = dtype ? to_dtype(t, *dtype) : t;
  Tensor out = reduce_forward(ReduceOp::Sum, in, mask, keepdim, accumulate_dtype(in));
  // Integers sum as int64 unless a dtype is asked for, which is the result's (as PyTorch).
  if (dtype && out->dtype() != *dtype) out = cast_for_kernel(out, *dtype);
  auto n =
      make_node<ReduceState>(dims.empty() ? "SumBackward0" : "SumBackward1", {&in},
                             [](auto& n, variable_list& g) -> variable_list { return {n.state.r.expand_grad(g[0])}; });
  if (n) n->state.r = Reduction(in, mask, keepdim);
  return attach(n, out);
}

Tensor sum_all(const Tensor& t) { return sum(t, {}, false); }

Tensor mean(const Tensor& t, const DimList& dims, bool keepdim) {
  EMBER_CHECK(is_floating(t->dtype()),
              "mean(): could not infer output dtype. Input dtype must be either a floating "
              "point or complex dtype. Got: ",
              scalar_type_name(t->dtype()));
  uint64_t mask = mask_of(t, dims, "mean");
  // A half float sums and scales in float32 and rounds once (Note [Storage dtypes]).
  Tensor out = reduce_forward(ReduceOp::Sum, t, mask, keepdim, compute_dtype(t->dtype()));
  int64_t count = t->numel() / std::max<int64_t>(out->numel(), 1);
  if (out->numel() == 0 || t->numel() == 0) count = 0;
  {
    NoGradGuard ng;
    Tensor scale = wrapped_scalar(count ? 1.0 / (double)count : NAN, DType::Float64);
    out = to_dtype(mul(out, scale), t->dtype());
  }
  auto n = make_node<MeanState>(dims.empty() ? "MeanBackward0" : "MeanBackward1", {&t},
                                [](auto& n, variable_list& g) -> variable_list {
                                  return {div(n.state.r.expand_grad(g[0]), num(n.state.count))};
                                });
  if (n) n->state = {Reduction(t, mask, keepdim), (double)count};
  return attach(n, out);
}

Tensor prod(const Tensor& t_in, std::optional<int64_t> dim, bool keepdim, std::optional<DType> dtype) {
  const Tensor t = dtype ? to_dtype(t_in, *dtype) : t_in;
  uint64_t mask = dim ? mask_of(t, {*dim}, "prod") : mask_of(t, {}, "prod");
  Tensor out = reduce_forward(ReduceOp::Prod, t, mask, keepdim, accumulate_dtype(t));
  if (dtype && out->dtype() != *dtype) out = cast_for_kernel(out, *dtype);
  auto n = make_node<ProdState>(
      dim ? "ProdBackward1" : "ProdBackward0", {&t}, [](auto& n, variable_list& g) -> variable_list {
        Tensor x = n.saved_at(0), result = n.saved_at(1);
        const Reduction& red = n.state.r;
        const Shape& s = red.self_sizes;
        uint64_t m = red.mask;
        bool kd = red.keepdim;
        // prod of the others: result / x where x != 0; with exactly one zero in the
        // slice, the zero's gradient is the product of the rest.
        Tensor is_zero = eq(x, num(0.0));
        Tensor zero_count = red.keep(sum(is_zero, red.dims(), kd));
        Tensor without_zeros = red.keep(prod_masked(x, is_zero, m, kd));
        Tensor r = red.keep(result);
        Tensor safe_x = where(is_zero, ones({}, x->dtype()), x);
        Tensor others = where(is_zero, where(eq(zero_count, num(1.0)), expand(without_zeros, s), zeros({}, x->dtype())),
                              div(expand(r, s), safe_x));
        return {mul(red.expand_grad(g[0]), others)};
      });
  if (n) {
    n->state = {Reduction(t, mask, keepdim), dim.has_value() && t->dim() > 0};
    n->save("self", t);
    attach(n, out);
    n->save_output("result", out);
  }
  return out;
}

static Tensor extreme_all(const Tensor& t, bool is_max) {
  EMBER_CHECK(t->numel() > 0, is_max ? "max" : "min",
              "(): Expected reduction dim to be specified for input.numel() == 0. "
              "Specify the reduction dim with the 'dim' argument.");
  return is_max ? amax(t, {}, false) : amin(t, {}, false);
}

static Tensor amax_amin(const Tensor& t, const DimList& dims, bool keepdim, bool is_max, const char* name) {
  const char* op = is_max ? "amax" : "amin";
  uint64_t mask = mask_of(t, dims, op);
  if (t->numel() == 0) {
    // An empty tensor reduced over non-empty dims gives an empty result, as PyTorch's; an empty dim has no extreme.
    EMBER_CHECK(!dims.empty(), op,
                "(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with "
                "the 'dim' argument.");
    for (int64_t d = 0; d < t->dim(); ++d)
      EMBER_CHECK_KIND(!((mask >> d) & 1) || t->size(d) > 0, Index, op, "(): Expected reduction dim ", d,
                       " to have non-zero size.");
  }
  Tensor out = reduce_forward(is_max ? ReduceOp::Max : ReduceOp::Min, t, mask, keepdim, t->dtype());
  auto n = make_node<ReduceState>(name, {&t}, [](auto& n, variable_list& g) -> variable_list {
    // Ties share the gradient evenly.
    const Reduction& red = n.state.r;
    Tensor x = n.saved_at(0), r = red.keep(n.saved_at(1));
    Tensor is_extreme = eq(x, r);
    // max()/min() of a tensor holding NaN are NaN, and PyTorch shares the gradient among the NaNs
    // (amax/amin keep their own rule: no element equals NaN).
    if (n.op_name[0] == 'M') is_extreme = logical_or(is_extreme, logical_and(isnan(x), isnan(r)));
    Tensor hit = to_dtype(is_extreme, g[0]->dtype());
    Tensor count = sum(hit, red.dims(), true);
    return {div(mul(red.expand_grad(g[0]), hit), count)};
  });
  if (n) {
    n->state.r = Reduction(t, mask, keepdim);
    n->save("self", t);
    attach(n, out);
    n->save_output("result", out);
  }
  return out;
}
Tensor amax(const Tensor& t, const DimList& dims, bool keepdim) {
  return amax_amin(t, dims, keepdim, true, "AmaxBackward0");
}
Tensor amin(const Tensor& t, const DimList& dims, bool keepdim) {
  return amax_amin(t, dims, keepdim, false, "AminBackward0");
}
Tensor max_all(const Tensor& t) { return renamed(extreme_all(t, true), "MaxBackward1"); }
Tensor min_all(const Tensor& t) { return renamed(extreme_all(t, false), "MinBackward1"); }

static std::pair<Tensor, Tensor> extreme_dim(const Tensor& t, int64_t dim, bool keepdim, bool is_max) {
  int64_t d = wrap_dim(dim, t->dim());
  const char* op = is_max ? "max" : "min";
  EMBER_CHECK_KIND(t->dim() == 0 || t->size(d) > 0, Index, op, "(): Expected reduction dim ", d,
                   " to have non-zero size.");
  uint64_t mask = t->dim() == 0 ? 0 : (1ull << d);
  Shape ks = keepdim_shape(t->sizes(), mask);
  Tensor values = empty(ks, t->dtype()), indices = empty(ks, DType::Int64);
  if (t->dim() == 0) {
    kernels::reduce(ReduceOp::Max, values, t, 0);
    reinterpret_cast<int64_t*>(indices->data_ptr())[0] = 0;
  } else {
    kernels::reduce_arg(is_max, values, indices, t, d);
  }
  values = maybe_squeeze(values, mask, keepdim);
  indices = maybe_squeeze(indices, mask, keepdim);
  auto n = make_node<MaxDimState>(is_max ? "MaxBackward0" : "MinBackward0", {&t},
                                  [](auto& n, variable_list& g) -> variable_list {
                                    const Reduction& red = n.state.r;
                                    if (red.self_sizes.empty()) return {g[0]};
                                    Tensor idx = red.keep(n.saved_at(0)), gk = red.keep(g[0]);
                                    return {scatter_add(zeros(red.self_sizes, g[0]->dtype()), n.state.dim, idx, gk)};
                                  });
  if (n) {
    n->state = {Reduction(t, mask, keepdim), d};
    n->save("indices", indices);
  }
  attach(n, values);
  return {values, indices};
}
std::pair<Tensor, Tensor> max_dim(const Tensor& t, int64_t dim, bool keepdim) {
  return extreme_dim(t, dim, keepdim, true);
}
std::pair<Tensor, Tensor> min_dim(const Tensor& t, int64_t dim, bool keepdim) {
  return extreme_dim(t, dim, keepdim, false);
}

static Tensor arg_extreme(const Tensor& t, std::optional<int64_t> dim, bool keepdim, bool is_max) {
  NoGradGuard ng;
  EMBER_CHECK(t->dtype() != DType::Bool, is_max ? "argmax" : "argmin", "(): does not support bool input");
  if (dim) return extreme_dim(t, *dim, keepdim, is_max).second;
  EMBER_CHECK_KIND(t->numel() > 0, Index, is_max ? "argmax" : "argmin",
                   "(): Expected reduction dim to be specified for input.numel() == 0.");
  Tensor flat = reshape(t, {t->numel()});
  Tensor idx = extreme_dim(flat, 0, false, is_max).second;
  return keepdim ? reshape(idx, Shape(t->dim(), 1)) : idx;
}
Tensor argmax(const Tensor& t, std::optional<int64_t> dim, bool keepdim) { return arg_extreme(t, dim, keepdim, true); }
Tensor argmin(const Tensor& t, std::optional<int64_t> dim, bool keepdim) { return arg_extreme(t, dim, keepdim, false); }

// var and std share the forward; each has its own node.
static Tensor centered(const Tensor& t, uint64_t mask) { return sub(t, mean(t, shape_to_dims(mask), true)); }

Tensor var(const Tensor& t, const DimList& dims, double correction, bool keepdim) {
  EMBER_CHECK(is_floating(t->dtype()), "var(): input dtype should be floating point, got ", dtype_name(t->dtype()));
  uint64_t mask = mask_of(t, dims, "var");
  VarState state{Reduction(t, mask, keepdim), correction};
  Tensor out;
  {
    NoGradGuard ng;
    Tensor c = centered(widened(t), mask);
    out = div(sum(mul(c, c), shape_to_dims(mask), keepdim), num(std::max(state.divisor(), 0.0)));
    out = to_dtype(out, t->dtype());
  }
  auto n = make_node<VarState>("VarBackward0", {&t}, [](auto& n, variable_list& g) -> variable_list {
    Tensor x = n.saved_at(0);
    Tensor c = centered(x, n.state.r.mask);
    Tensor gk = n.state.r.expand_grad(g[0]);
    return {mul(gk, mul(c, num(2.0 / n.state.divisor())))};
  });
  if (n) {
    n->state = state;
    n->save("self", t);
  }
  return attach(n, out);
}

Tensor std(const Tensor& t, const DimList& dims, double correction, bool keepdim) {
  Tensor out;
  {
    NoGradGuard ng;
    out = sqrt(var(t, dims, correction, keepdim));
    // float32 squares overflow above ~1.8e19 though the deviation itself fits:
    // then in float64, as PyTorch accumulates (std([3e37, -3e37, 1]) is 3e37, not inf).
    if (t->dtype() == DType::Float32 && item_as_double(any(isinf(out), std::nullopt, false)))
      out = to_dtype(sqrt(var(to_dtype(t, DType::Float64), dims, correction, keepdim)), DType::Float32);
  }
  uint64_t mask = mask_of(t, dims, "std");
  auto n = make_node<VarState>("StdBackward0", {&t}, [](auto& n, variable_list& g) -> variable_list {
    Tensor x = n.saved_at(0), s = n.state.r.keep(n.saved_at(1));
    Tensor c = centered(x, n.state.r.mask);
    Tensor gk = n.state.r.expand_grad(g[0]);
    // where the deviation is 0 (constant input) the gradient is 0, as PyTorch masks it, not 0/0
    Tensor q = div(gk, mul(s, num(n.state.divisor())));
    return {mul(where(eq(s, num(0.0)), zeros({}, q->dtype()), q), c)};
  });
  if (n) {
    n->state = {Reduction(t, mask, keepdim), correction};
    n->save("self", t);
    attach(n, out);
    n->save_output("result", out);
  }
  return out;
}

Tensor norm(const Tensor& t, double p, const DimList& dims, bool keepdim) {
  EMBER_CHECK(is_floating(t->dtype()), "linalg.vector_norm: Expected a floating point or complex tensor as input. Got ",
              legacy_type_name(t->dtype()));
  uint64_t mask = mask_of(t, dims, "norm");
  DimList rd = shape_to_dims(mask);
  Tensor out;
  {
    NoGradGuard ng;
    // float16/bfloat16 compute in float32 and round once at the end, as PyTorch (rounding the
    // squares, the sum and the root each to bfloat16 missed by one step in ~15% of norms).
    const bool narrow = t->dtype() == DType::Float16 || t->dtype() == DType::BFloat16;
    Tensor a = abs(narrow ? to_dtype(t, DType::Float32) : t);
    if (std::isinf(p))
      out = p > 0 ? amax(a, rd, keepdim) : amin(a, rd, keepdim);
    else if (p == 0)
      out = sum(to_dtype(ne(a, num(0.0)), a->dtype()), rd, keepdim);
    else if (p == 1)
      out = sum(a, rd, keepdim);
    else if (p == 2)
      out = sqrt(sum(mul(a, a), rd, keepdim));
    else
      out = pow(sum(pow(a, num(p)), rd, keepdim), num(1.0 / p));
    if (narrow) out = to_dtype(out, t->dtype());
  }
  auto n = make_node<NormState>(dims.empty() ? "NormBackward0" : "NormBackward1", {&t},
                                [](auto& n, variable_list& g) -> variable_list {
                                  const Reduction& red = n.state.r;
                                  Tensor x = n.saved_at(0), r = red.keep(n.saved_at(1));
                                  Tensor gk = red.expand_grad(g[0]);
                                  double p = n.state.ord;
                                  Tensor zero = zeros({}, x->dtype());
                                  if (p == 0) return {zeros_like(x)};
                                  if (p == 1) return {mul(gk, sign(x))};
                                  if (std::isinf(p)) {
                                    Tensor hit = to_dtype(eq(abs(x), r), x->dtype());
                                    Tensor count = sum(hit, red.dims(), true);
                                    return {div(mul(mul(gk, sign(x)), hit), count)};
                                  }
                                  // d||x||_p / dx = sign(x) |x|^(p-1) / ||x||^(p-1); 0 where the norm is 0, and
                                  // (p < 1, where |0|^(p-1) is inf) 0 at zero elements, as PyTorch's.
                                  Tensor scale = p == 2 ? x : mul(sign(x), pow(abs(x), num(p - 1)));
                                  if (p < 1) scale = where(eq(x, num(0.0)), zero, scale);
                                  Tensor denom = p == 2 ? r : pow(r, num(p - 1));
                                  return {where(eq(r, num(0.0)), zero, div(mul(gk, scale), denom))};
                                });
  if (n) {
    n->state = {Reduction(t, mask, keepdim), p};
    n->save("self", t);
    attach(n, out);
    n->save_output("result", out);
  }
  return out;
}

// The max over rd (kept dims), by which softmax-like ops shift their input;
// 0 for an empty tensor, which has no max and needs no shift.
static Tensor max_shift(const Tensor& x, const DimList& rd) {
  return x->numel() == 0 ? zeros({}, x->dtype()) : amax(x, rd, true);
}

Tensor logsumexp(const Tensor& t, const DimList& dims, bool keepdim) {
  uint64_t mask = mask_of(t, dims, "logsumexp");
  DimList rd = shape_to_dims(mask);
  Tensor out;
  {
    NoGradGuard ng;
    Tensor x = is_floating(t->dtype()) ? widened(t) : to_dtype(t, default_float());
    // Shift by the max so exp cannot overflow; an all -inf slice keeps shift 0.
    Tensor m = max_shift(x, rd);
    m = where(isinf(m), zeros({}, m->dtype()), m);
    out = add(log(sum(exp(sub(x, m)), rd, true)), m);
    out = keepdim ? out : maybe_squeeze(contiguous(out), mask, false);
    if (is_floating(t->dtype())) out = to_dtype(out, t->dtype());
  }
  auto n = make_node<ReduceState>("LogsumexpBackward0", {&t}, [](auto& n, variable_list& g) -> variable_list {
    Tensor x = n.saved_at(0), r = n.state.r.keep(n.saved_at(1));
    Tensor gk = n.state.r.expand_grad(g[0]);
    return {mul(gk, exp(sub(x, r)))};
  });
  if (n) {
    n->state.r = Reduction(t, mask, keepdim);
    n->save("self", t);
    attach(n, out);
    n->save_output("result", out);
  }
  return out;
}

// softmax and log_softmax compute in the input's float dtype; an integer input
// has none (PyTorch's kernel error; dtype= converts first). An empty one stays as it is.
static void check_softmax_input(const Tensor& t, const char* kernel) {
  EMBER_CHECK_KIND(is_floating(t->dtype()) || t->numel() == 0, NotImplemented, "\"", kernel, "\" not implemented for '",
                   scalar_type_name(t->dtype()), "'");
}

// The (outer, n, inner) sizes around dim d of `t` (a 0-d tensor: one slice of one element).
static std::array<int64_t, 3> softmax_layout(const Tensor& t, int64_t d) {
  std::array<int64_t, 3> sizes{1, t->dim() ? t->size(d) : 1, 1};
  for (int64_t k = 0; k < t->dim(); ++k)
    if (k != d) sizes[k < d ? 0 : 2] *= t->size(k);
  return sizes;
}

// softmax, log_softmax or _safe_softmax of a float32/float64 tensor along d, one kernel (Note
// [Fused softmax]); a safe softmax along a dim other than the last zeroes its all -inf slices after.
static Tensor softmax_forward(const Tensor& x, int64_t d, kernels::SoftmaxKind kind) {
  Tensor c = contiguous(x);
  Tensor out = empty(c->sizes(), c->dtype());
  auto [outer, n, inner] = softmax_layout(c, d);
  const bool safe_after = kind == kernels::SoftmaxKind::SafeSoftmax && inner != 1;
  if (c->numel()) kernels::softmax(out, c, outer, n, inner, safe_after ? kernels::SoftmaxKind::Softmax : kind);
  if (safe_after) out = masked_fill(out, all(eq(c, num(-INFINITY)), d, true), num(0.0));
  return out;
}

// The gradient of softmax (log: log_softmax) from its result y. A first-order backward of a float32/
// float64 result is one kernel; under create_graph, ember ops, so that it is differentiable again.
static Tensor softmax_grad(const Tensor& g, const Tensor& y, int64_t d, bool log) {
  const bool fused_dtype = (y->dtype() == DType::Float32 || y->dtype() == DType::Float64) && g->dtype() == y->dtype();
  if (GradMode::is_enabled() || !fused_dtype || g->sizes() != y->sizes()) {
    if (log) return sub(g, mul(exp(y), sum(g, {d}, true)));
    Tensor gy = mul(g, y);
    return sub(gy, mul(y, sum(gy, {d}, true)));
  }
  Tensor gc = contiguous(g), yc = contiguous(y);
  Tensor gx = empty(yc->sizes(), yc->dtype());
  auto [outer, n, inner] = softmax_layout(yc, d);
  if (yc->numel()) kernels::softmax_backward(gx, gc, yc, outer, n, inner, log);
  return gx;
}

template <kernels::SoftmaxKind Kind>
static variable_list softmax_formula(StateNode<SoftmaxState>& n, variable_list& g) {
  // A safe softmax's zero slices give zero gradients through softmax's formula.
  return {softmax_grad(g[0], n.saved_at(0), n.state.dim, Kind == kernels::SoftmaxKind::LogSoftmax)};
}

static Tensor softmax_op(const Tensor& t, int64_t dim, kernels::SoftmaxKind kind) {
  using kernels::SoftmaxKind;
  const bool log = kind == SoftmaxKind::LogSoftmax;
  const char* name = log ? "log_softmax" : kind == SoftmaxKind::Softmax ? "softmax" : "_safe_softmax";
  check_softmax_input(t, log ? "log_softmax_lastdim_kernel_impl" : "softmax_lastdim_kernel_impl");
  if (!is_floating(t->dtype())) return empty(t->sizes(), t->dtype());  // empty: nothing to compute
  const int64_t d = wrap_dim(dim, t->dim(), name);                     // a 0-d tensor: 0
  Tensor out;
  {
    NoGradGuard ng;
    out = to_dtype(softmax_forward(widened(t), d, kind), t->dtype());
  }
  auto n = log ? make_node<SoftmaxState>("LogSoftmaxBackward0", {&t}, softmax_formula<SoftmaxKind::LogSoftmax>)
               : make_node<SoftmaxState>(kind == SoftmaxKind::Softmax ? "SoftmaxBackward0" : "SafeSoftmaxBackward0",
                                         {&t}, softmax_formula<SoftmaxKind::Softmax>);
  if (n) {
    n->state.dim = d;
    attach(n, out);
    n->save_output("result", out);
  }
  return out;
}

Tensor softmax(const Tensor& t, int64_t dim) { return softmax_op(t, dim, kernels::SoftmaxKind::Softmax); }
Tensor log_softmax(const Tensor& t, int64_t dim) { return softmax_op(t, dim, kernels::SoftmaxKind::LogSoftmax); }
Tensor safe_softmax(const Tensor& t, int64_t dim) { return softmax_op(t, dim, kernels::SoftmaxKind::SafeSoftmax); }

static Tensor logical_reduce(ReduceOp op, const Tensor& t, std::optional<int64_t> dim, bool keepdim) {
  uint64_t mask = dim ? mask_of(t, {*dim}, "all") : mask_of(t, {}, "all");
  Tensor out = reduce_forward(op, t, mask, keepdim, DType::Bool);
  return t->dtype() == DType::UInt8 ? to_dtype(out, DType::UInt8) : out;  // uint8 stays uint8, as PyTorch's
}
Tensor all(const Tensor& t, std::optional<int64_t> dim, bool keepdim) {
  return logical_reduce(ReduceOp::All, t, dim, keepdim);
}
Tensor any(const Tensor& t, std::optional<int64_t> dim, bool keepdim) {
  return logical_reduce(ReduceOp::Any, t, dim, keepdim);
}

Tensor count_nonzero(const Tensor& t, const DimList& dims) {
  NoGradGuard ng;
  return sum(ne(t, num(0.0)), dims, false);
}

bool expand_compatible(const Shape& target, const Shape& shape) {
  // `target` can be broadcast to `shape`.
  if (target.size() > shape.size()) return false;
  size_t off = shape.size() - target.size();
  for (size_t i = 0; i < target.size(); ++i)
    if (target[i] != 1 && target[i] != shape[off + i]) return false;
  return true;
}

Tensor sum_to(const Tensor& t, const Shape& shape) {
  if (t->sizes() == shape) return t;
  EMBER_ASSERT(expand_compatible(shape, t->sizes()));
  size_t off = t->dim() - shape.size();
  DimList dims;
  for (size_t i = 0; i < (size_t)t->dim(); ++i)
    if (i < off || (shape[i - off] == 1 && t->size(i) != 1)) dims.push_back((int64_t)i);
  Tensor r = dims.empty() ? t : sum(t, dims, true);
  return r->sizes() == shape ? r : reshape(r, shape);
}

}  // namespace ember
