// Layer normalisation as one op and one node, NativeLayerNormBackward0 as in
// PyTorch (Note [Fused layer norm] in kernels/cpu/layer_norm.cpp).
#include <cmath>
#include <sstream>

#include "kernels/cpu/layer_norm.h"
#include "ops/op_node.h"

namespace ember {

namespace {  // a State is private to its op's file (Note [Node state])

struct LayerNormState {
  Shape normalized_shape;
  double eps = 1e-5;
  void fields(StateFields& f) const { f.add("normalized_shape", normalized_shape); }
};

std::string shape_text(const Shape& s) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < s.size(); ++i) out << (i ? ", " : "") << s[i];
  out << "]";
  return out.str();
}

// The normalised dims (the last k) of a tensor of `dim` dims.
DimList layer_norm_dims(int64_t dim, size_t k) {
  DimList dims;
  for (int64_t d = dim - (int64_t)k; d < dim; ++d) dims.push_back(d);
  return dims;
}

// The gradients of (x, weight, bias) written with ember ops, differentiable again (create_graph):
// mean and rstd recomputed from x so that their dependence on x is part of the graph.
variable_list layer_norm_backward_ops(const Tensor& g, const Tensor& x, const Tensor& w, const LayerNormState& s,
                                      bool need_x, bool need_w, bool need_b) {
  const DimList dims = layer_norm_dims(x->dim(), s.normalized_shape.size());
  DimList lead;
  for (int64_t d = 0; d < x->dim() - (int64_t)s.normalized_shape.size(); ++d) lead.push_back(d);
  Tensor rstd = rsqrt(add(var(x, dims, 0, true), num(s.eps)));
  Tensor xhat = mul(sub(x, mean(x, dims, true)), rstd);
  Tensor gx, gw, gb;
  if (need_x) {
    Tensor gwx = w ? mul(g, w) : g;
    gx = mul(rstd, sub(sub(gwx, mean(gwx, dims, true)), mul(xhat, mean(mul(gwx, xhat), dims, true))));
  }
  if (need_w) gw = lead.empty() ? mul(g, xhat) : sum(mul(g, xhat), lead, false);
  if (need_b) gb = lead.empty() ? g : sum(g, lead, false);
  return {gx, gw, gb};
}

variable_list layer_norm_formula(StateNode<LayerNormState>& n, variable_list& g) {
  Tensor x = n.saved_at(0), mean_t = n.saved_at(1), rstd = n.saved_at(2), w = n.saved_at(3);
  const bool need_x = n.needs(0), need_w = n.needs(1), need_b = n.needs(2);
  const DType dt = x->dtype();
  const bool fused = (dt == DType::Float32 || dt == DType::Float64) && g[0]->dtype() == dt && (!w || w->dtype() == dt);
  if (GradMode::is_enabled() || !fused) return layer_norm_backward_ops(g[0], x, w, n.state, need_x, need_w, need_b);
  Tensor gc = contiguous(g[0]), xc = contiguous(x);
  Tensor gx = need_x ? empty(x->sizes(), dt) : Tensor();
  Tensor gw = need_w ? empty(n.state.normalized_shape, dt) : Tensor();
  Tensor gb = need_b ? empty(n.state.normalized_shape, dt) : Tensor();
  Tensor wc = w ? contiguous(w) : Tensor();
  kernels::layer_norm_backward(gx, gw, gb, gc, xc, contiguous(mean_t), contiguous(rstd), wc);
  return {gx, gw, gb};
}

}  // namespace

std::tuple<Tensor, Tensor, Tensor> native_layer_norm(const Tensor& input, const Shape& normalized_shape,
                                                     const Tensor& weight, const Tensor& bias, double eps) {
  const size_t k = normalized_shape.size();
  const int64_t dim = input->dim();
  bool matches = k >= 1 && (int64_t)k <= dim;
  for (size_t i = 0; matches && i < k; ++i) matches = input->size(dim - (int64_t)k + (int64_t)i) == normalized_shape[i];
  if (!matches) {
    std::string star = "[*";
    for (int64_t s : normalized_shape) star += ", " + std::to_string(s);
    EMBER_FAIL(Runtime, "Given normalized_shape=", shape_text(normalized_shape), ", expected input with shape ", star,
               "], but got input of size", shape_text(input->sizes()));
  }
  for (const auto& [t, name] : {std::pair<const Tensor&, const char*>{weight, "weight"}, {bias, "bias"}})
    EMBER_CHECK(!t || t->sizes() == normalized_shape, "Expected ", name,
                " to be of same shape as normalized_shape, but got ", name, " of shape ", shape_text(t->sizes()),
                " and normalized_shape = ", shape_text(normalized_shape));
  EMBER_CHECK(is_floating(input->dtype()), "\"LayerNormKernelImpl\" not implemented for '",
              scalar_type_name(input->dtype()), "'");
  Tensor out, mean_t, rstd;
  {
    NoGradGuard ng;
    const Tensor x = contiguous(widened(input));
    const DType ct = x->dtype();
    Shape stat_shape(input->sizes().begin(), input->sizes().end() - (int64_t)k);
    const int64_t rows = shape_numel(stat_shape);
    stat_shape.insert(stat_shape.end(), k, 1);
    out = empty(x->sizes(), ct);
    mean_t = empty(stat_shape, ct);
    rstd = empty(stat_shape, ct);
    auto param = [&](const Tensor& p) { return p ? contiguous(to_dtype(p, ct)) : Tensor(); };
    if (rows && x->numel()) kernels::layer_norm(out, mean_t, rstd, x, param(weight), param(bias), eps);
    if (!x->numel()) {  // no values: PyTorch's NaN statistics of an empty row
      mean_t = full(stat_shape, NAN, ct);
      rstd = full(stat_shape, NAN, ct);
    }
    out = to_dtype(out, input->dtype());
  }
  auto n = make_node<LayerNormState>("NativeLayerNormBackward0", {&input, &weight, &bias}, layer_norm_formula);
  if (n) {
    n->state.normalized_shape = normalized_shape;
    n->state.eps = eps;
    n->save("input", input);
    n->save("result1", mean_t);
    n->save("result2", rstd);
    n->save("weight", weight);
    n->save("bias", bias);
    attach(n, out);
  }
  return {out, mean_t, rstd};
}

}  // namespace ember
