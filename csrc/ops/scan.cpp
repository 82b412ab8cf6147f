// Cumulative ops along a dim: cumsum, cumprod, logcumsumexp, cummax, cummin,
// with PyTorch's node names and formulas (Note [Node state]).
#include "kernels/cpu/scan.h"
#include "ops/op_node.h"

namespace ember {

using kernels::ScanOp;

namespace {  // a State is private to its op's file (Note [Node state])
struct ScanState {
  int64_t dim = 0;
  DType self_dtype = DType::Float32;
  void fields(StateFields& f) const { f.add("dim", dim); }
};
struct ExtremeState {  // cummax / cummin
  int64_t dim = 0;
  Shape self_sizes;
  void fields(StateFields& f) const { f.add("dim", dim); }
};
}  // namespace

// The scan of t (converted to `dtype`) along `dim`, and the indices of cummax/cummin.
static std::pair<Tensor, Tensor> scan_forward(ScanOp op, const Tensor& t, int64_t dim, DType dtype) {
  const int64_t d = wrap_dim(dim, t->dim());
  Tensor x = contiguous(cast_for_kernel(t, dtype));
  int64_t outer = 1, inner = 1, n = t->dim() ? t->size(d) : 1;
  for (int64_t k = 0; k < d; ++k) outer *= t->size(k);
  for (int64_t k = d + 1; k < t->dim(); ++k) inner *= t->size(k);
  Tensor out = empty(t->sizes(), dtype);
  Tensor idx = (op == ScanOp::Max || op == ScanOp::Min) ? empty(t->sizes(), DType::Int64) : Tensor();
  kernels::scan(op, out, idx, x, outer, n, inner);
  return {out, idx};
}

// The sum over j >= i along dim: a cumulative sum from the end.
static Tensor reverse_cumsum(const Tensor& g, int64_t dim) { return flip(cumsum(flip(g, {dim}), dim), {dim}); }

// The gradient in the input's dtype (cumsum(dtype=float64) of a float32 input gives float32 gradients).
static Tensor in_dtype(const Tensor& g, DType dt) { return g->dtype() == dt ? g : to_dtype(g, dt); }

Tensor cumsum(const Tensor& t, int64_t dim, std::optional<DType> dtype) {
  const DType dt = dtype ? *dtype : (is_integral(t->dtype(), true) ? DType::Int64 : t->dtype());
  Tensor out = scan_forward(ScanOp::Sum, t, dim, dt).first;
  auto n = make_node<ScanState>("CumsumBackward0", {&t}, [](auto& n, variable_list& g) -> variable_list {
    return {in_dtype(reverse_cumsum(g[0], n.state.dim), n.state.self_dtype)};
  });
  if (n) n->state = {wrap_dim(dim, t->dim()), t->dtype()};
  return attach(n, out);
}

// t with dim d moved last, and back.
static Tensor dim_to_last(const Tensor& t, int64_t d) {
  DimList order;
  for (int64_t k = 0; k < t->dim(); ++k)
    if (k != d) order.push_back(k);
  order.push_back(d);
  return permute(t, order);
}
static Tensor last_to_dim(const Tensor& t, int64_t d) {
  DimList order;
  const int64_t last = t->dim() - 1;
  for (int64_t k = 0, src = 0; k < t->dim(); ++k) order.push_back(k == d ? last : src++);
  return permute(t, order);
}

// d out_j / d x_i = prod_{k <= j, k != i} x_k for j >= i. Without zeros that is
// out_j / x_i; with zeros, the products are formed explicitly: an (n, n) table
// per row, the cumulative product over j of x_j for j > i.
static Tensor cumprod_backward(const Tensor& g, const Tensor& x, const Tensor& out, int64_t dim) {
  if (x->numel() == 0) return zeros_like(x);
  const bool has_zero = item_as_double(any(eq(x, num(0.0)), std::nullopt, false)) != 0;
  if (!has_zero) return div(reverse_cumsum(mul(g, out), dim), x);
  if (x->dim() == 0) return g;                                // one element: d out / d x = 1
  Tensor xl = dim_to_last(x, dim), gl = dim_to_last(g, dim);  // (..., n)
  const int64_t last = x->dim() - 1, n = xl->size(last);
  Tensor i = reshape(arange(0, double(n), 1, DType::Int64), {n, 1});
  Tensor j = reshape(arange(0, double(n), 1, DType::Int64), {1, n});
  Tensor table = where(gt(j, i), unsqueeze(xl, last), num(1.0));  // (..., n_i, n_j): x_j where j > i
  Tensor partial = where(ge(j, i), cumprod(table, last + 1, std::nullopt), num(0.0));  // prod_{i < k <= j} x_k
  Tensor s = sum(mul(partial, unsqueeze(gl, last)), {last + 1}, false);                // summed over j >= i
  Tensor before = cumprod(cat({ones_like(narrow(xl, last, 0, 1)), narrow(xl, last, 0, n - 1)}, last), last,
                          std::nullopt);  // prod_{k < i} x_k
  return last_to_dim(mul(before, s), dim);
}

Tensor cumprod(const Tensor& t, int64_t dim, std::optional<DType> dtype) {
  const DType dt = dtype ? *dtype : (is_integral(t->dtype(), true) ? DType::Int64 : t->dtype());
  Tensor out = scan_forward(ScanOp::Prod, t, dim, dt).first;
  auto n = make_node<ScanState>("CumprodBackward0", {&t}, [](auto& n, variable_list& g) -> variable_list {
    Tensor x = n.saved_at(0), result = n.saved_at(1);
    Tensor xd = in_dtype(x, g[0]->dtype());
    return {in_dtype(cumprod_backward(g[0], xd, result, n.state.dim), n.state.self_dtype)};
  });
  if (n) {
    n->state = {wrap_dim(dim, t->dim()), t->dtype()};
    n->save("self", t);
    attach(n, out);
    n->save_output("result", out);
  }
  return out;
}

// d out_j / d x_i = exp(x_i - out_j) for j >= i; the sum over j in log space,
// the positive and negative parts of the gradient apart (no overflow).
Tensor logcumsumexp(const Tensor& t, int64_t dim) {
  EMBER_CHECK_KIND(is_floating(t->dtype()), NotImplemented, "\"logcumsumexp_out_cpu\" not implemented for '",
                   scalar_type_name(t->dtype()), "'");
  Tensor out = scan_forward(ScanOp::LogSumExp, t, dim, t->dtype()).first;
  auto n = make_node<ScanState>("LogcumsumexpBackward0", {&t}, [](auto& n, variable_list& g) -> variable_list {
    Tensor x = n.saved_at(0), result = n.saved_at(1);
    const int64_t d = n.state.dim;
    // log|g| where g has the part's sign, else the lowest finite value (never -inf: its
    // derivative would make NaN of a second backward).
    Tensor lowest = wrapped_scalar(g[0]->dtype() == DType::Float32 ? -3.4028234663852886e38 : -1.7976931348623157e308,
                                   g[0]->dtype());
    Tensor log_abs = log(abs(g[0]));
    auto part = [&](const Tensor& has_sign) {
      Tensor lse = flip(logcumsumexp(flip(sub(where(has_sign, log_abs, lowest), result), {d}), d), {d});
      return exp(add(lse, x));
    };
    return {sub(part(gt(g[0], num(0.0))), part(lt(g[0], num(0.0))))};
  });
  if (n) {
    n->state = {wrap_dim(dim, t->dim()), t->dtype()};
    n->save("self", t);
    attach(n, out);
    n->save_output("result", out);
  }
  return out;
}

static std::pair<Tensor, Tensor> cumulative_extreme(const Tensor& t, int64_t dim, bool is_max) {
  auto [values, indices] = scan_forward(is_max ? ScanOp::Max : ScanOp::Min, t, dim, t->dtype());
  auto n = make_node<ExtremeState>(is_max ? "CummaxBackward0" : "CumminBackward0", {&t},
                                   [](auto& n, variable_list& g) -> variable_list {
                                     Tensor z = zeros(n.state.self_sizes, g[0]->dtype());
                                     if (z->dim() == 0) return {g[0]};
                                     return {scatter_add(z, n.state.dim, n.saved_at(0), g[0])};
                                   });
  if (n) {
    n->state = {wrap_dim(dim, t->dim()), t->sizes()};
    n->save("indices", indices);
  }
  attach(n, values);
  return {values, indices};
}
std::pair<Tensor, Tensor> cummax(const Tensor& t, int64_t dim) { return cumulative_extreme(t, dim, true); }
std::pair<Tensor, Tensor> cummin(const Tensor& t, int64_t dim) { return cumulative_extreme(t, dim, false); }

}  // namespace ember
