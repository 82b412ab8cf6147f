// Layer and group normalisation as one op and one node each, NativeLayerNormBackward0 and
// NativeGroupNormBackward0 as in PyTorch (Note [Fused layer norm] in kernels/cpu/layer_norm.cpp):
// a group norm is a layer norm over rows of N * group, then a per-channel affine.
#include <algorithm>
#include <cmath>
#include <string>

#include "kernels/cpu/batch_norm.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/layer_norm.h"
#include "ops/op_node.h"

namespace ember {

namespace {  // a State is private to its op's file (Note [Node state])

struct LayerNormState {
  Shape normalized_shape;
  double eps = 1e-5;
  void fields(StateFields& f) const { f.add("normalized_shape", normalized_shape); }
};

// The normalised dims (the last k) of a tensor of `dim` dims.
DimList layer_norm_dims(int64_t dim, size_t k) {
  DimList dims;
  for (int64_t d = dim - (int64_t)k; d < dim; ++d) dims.push_back(d);
  return dims;
}

// rstd * (gwx - mean(gwx) - xhat * mean(gwx * xhat)), the means over dims: a normalisation's input
// gradient (gwx the output's gradient times the weight), in differentiable ops.
Tensor normalized_input_grad(const Tensor& gwx, const Tensor& xhat, const Tensor& rstd, const DimList& dims) {
  return mul(rstd, sub(sub(gwx, mean(gwx, dims, true)), mul(xhat, mean(mul(gwx, xhat), dims, true))));
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
    gx = normalized_input_grad(gwx, xhat, rstd, dims);
  }
  if (need_w) gw = lead.empty() ? mul(g, xhat) : sum(mul(g, xhat), lead, false);
  if (need_b) gb = lead.empty() ? g : sum(g, lead, false);
  return {gx, gw, gb};
}

// Whether a backward runs the row kernel (CPU or CUDA): a first-order one (no create_graph) of
// float32/float64 with the gradient and weight of the input's dtype; else the formula in ember ops.
bool kernel_backward(const Tensor& g, const Tensor& x, const Tensor& w) {
  const DType dt = x->dtype();
  return !GradMode::is_enabled() && (dt == DType::Float32 || dt == DType::Float64) && g->dtype() == dt &&
         (!w || w->dtype() == dt);
}

variable_list layer_norm_formula(StateNode<LayerNormState>& n, variable_list& g) {
  Tensor x = n.saved_at(0), mean_t = n.saved_at(1), rstd = n.saved_at(2), w = n.saved_at(3);
  const bool need_x = n.needs(0), need_w = n.needs(1), need_b = n.needs(2);
  const DType dt = x->dtype();
  if (!kernel_backward(g[0], x, w)) return layer_norm_backward_ops(g[0], x, w, n.state, need_x, need_w, need_b);
  Tensor gc = contiguous(g[0]), xc = contiguous(x);
  Tensor gx = need_x ? empty(x->sizes(), dt) : Tensor();
  Tensor gw = need_w ? empty(n.state.normalized_shape, dt) : Tensor();
  Tensor gb = need_b ? empty(n.state.normalized_shape, dt) : Tensor();
  Tensor wc = w ? contiguous(w) : Tensor();
  kernels::layer_norm_backward(gx, gw, gb, gc, xc, contiguous(mean_t), contiguous(rstd), wc);
  return {gx, gw, gb};
}

struct GroupNormState {
  int64_t N = 0, C = 0, HxW = 0, group = 1;
  double eps = 1e-5;
  void fields(StateFields& f) const {
    f.add("N", N);
    f.add("C", C);
    f.add("HxW", HxW);
    f.add("group", group);
  }
};

// x as (N, group, C / group * HxW) and the per-channel view (1, C, 1) of a weight.
Tensor by_group(const Tensor& t, const GroupNormState& s) { return reshape(t, {s.N, s.group, -1}); }
Tensor per_channel(const Tensor& w, const GroupNormState& s) { return reshape(w, {1, s.C, 1}); }

// The gradients of (x, weight, bias) of group_norm in ember ops (create_graph, narrow dtypes):
// the statistics recomputed from x, as layer_norm_backward_ops does.
variable_list group_norm_backward_ops(const Tensor& g, const Tensor& x, const Tensor& w, const GroupNormState& s,
                                      bool need_x, bool need_w, bool need_b) {
  Tensor xg = by_group(x, s);
  Tensor rstd = rsqrt(add(var(xg, {2}, 0, true), num(s.eps)));
  Tensor xhat = reshape(mul(sub(xg, mean(xg, {2}, true)), rstd), {s.N, s.C, s.HxW});
  Tensor g3 = reshape(g, {s.N, s.C, s.HxW});
  Tensor gx, gw, gb;
  if (need_x) {
    Tensor gwx = by_group(w ? mul(g3, per_channel(w, s)) : g3, s), xh = by_group(xhat, s);
    gx = reshape(normalized_input_grad(gwx, xh, rstd, {2}), x->sizes());
  }
  if (need_w) gw = sum(mul(g3, xhat), {0, 2}, false);
  if (need_b) gb = sum(g3, {0, 2}, false);
  return {gx, gw, gb};
}

variable_list group_norm_formula(StateNode<GroupNormState>& n, variable_list& g) {
  Tensor x = n.saved_at(0), w = n.saved_at(1), mean_t = n.saved_at(2), rstd = n.saved_at(3);
  const bool need_x = n.needs(0), need_w = n.needs(1), need_b = n.needs(2);
  const DType dt = x->dtype();
  if (!kernel_backward(g[0], x, w)) return group_norm_backward_ops(g[0], x, w, n.state, need_x, need_w, need_b);
  const GroupNormState& s = n.state;
  Tensor g3 = contiguous(reshape(g[0], {s.N, s.C, s.HxW})), xc = contiguous(x);
  Tensor gx, gw, gb;
  if (need_x) {  // layer norm's row kernel, rows = N * group, on g scaled by the weight
    gx = empty(x->sizes(), dt);
    Tensor gwx = w ? contiguous(mul(g3, per_channel(w, s))) : g3;
    kernels::layer_norm_backward(gx, Tensor(), Tensor(), gwx, xc, contiguous(mean_t), contiguous(rstd), Tensor());
  }
  if (need_w) {
    Tensor m = reshape(mean_t, {s.N, s.group, 1}), r = reshape(rstd, {s.N, s.group, 1});
    Tensor xhat = reshape(mul(sub(by_group(xc, s), m), r), {s.N, s.C, s.HxW});
    gw = sum(mul(g3, xhat), {0, 2}, false);
  }
  if (need_b) gb = sum(g3, {0, 2}, false);
  return {gx, gw, gb};
}

struct BatchNormState {
  double eps = 1e-5;
  void fields(StateFields& f) const {
    f.add("eps", eps);
    f.add("training", true);
  }
};

// (N, C, S): the batch, the channels, the product of the spatial sizes.
Shape channel_layout(const Tensor& x) {
  int64_t spatial = 1;
  for (int64_t d = 2; d < x->dim(); ++d) spatial *= x->size(d);
  return {x->size(0), x->size(1), spatial};
}

// The gradients of (x, weight, bias) of batch_norm in ember ops (create_graph, narrow dtypes): the
// batch statistics recomputed from x, as layer_norm_backward_ops does.
variable_list batch_norm_backward_ops(const Tensor& g, const Tensor& x, const Tensor& w, const BatchNormState& s,
                                      bool need_x, bool need_w, bool need_b) {
  const Shape layout = channel_layout(x);
  Tensor x3 = reshape(x, layout), g3 = reshape(g, layout);
  Tensor rstd = rsqrt(add(var(x3, {0, 2}, 0, true), num(s.eps)));
  Tensor xhat = mul(sub(x3, mean(x3, {0, 2}, true)), rstd);
  Tensor gx, gw, gb;
  if (need_x) {
    Tensor gwx = w ? mul(g3, reshape(w, {1, layout[1], 1})) : g3;
    gx = reshape(normalized_input_grad(gwx, xhat, rstd, {0, 2}), x->sizes());
  }
  if (need_w) gw = sum(mul(g3, xhat), {0, 2}, false);
  if (need_b) gb = sum(g3, {0, 2}, false);
  return {gx, gw, gb};
}

variable_list batch_norm_formula(StateNode<BatchNormState>& n, variable_list& g) {
  Tensor x = n.saved_at(0), w = n.saved_at(1), mean_t = n.saved_at(2), invstd = n.saved_at(3);
  const bool need_x = n.needs(0), need_w = n.needs(1), need_b = n.needs(2);
  const DType dt = x->dtype();
  if (!kernel_backward(g[0], x, w)) return batch_norm_backward_ops(g[0], x, w, n.state, need_x, need_w, need_b);
  const Shape layout = channel_layout(x);
  Tensor gx = need_x ? empty(x->sizes(), dt) : Tensor();
  Tensor gw = need_w ? empty({layout[1]}, dt) : Tensor();
  Tensor gb = need_b ? empty({layout[1]}, dt) : Tensor();
  kernels::batch_norm_backward(gx ? reshape(gx, layout) : Tensor(), gw, gb, contiguous(reshape(g[0], layout)),
                               contiguous(reshape(x, layout)), mean_t, invstd, w ? contiguous(w) : Tensor());
  return {gx, gw, gb};
}

}  // namespace

std::tuple<Tensor, Tensor, Tensor, Tensor> native_batch_norm_train(const Tensor& input, const Tensor& weight,
                                                                   const Tensor& bias, double eps) {
  EMBER_CHECK(input->dim() >= 2, "batch_norm: expected an input of 2 or more dimensions, got ", input->dim());
  const int64_t C = input->size(1);
  for (const auto& [t, name] : {std::pair<const Tensor&, const char*>{weight, "weight"}, {bias, "bias"}})
    EMBER_CHECK(!t || (t->dim() == 1 && t->numel() == C), "batch_norm: expected ", name, " of ", C,
                " elements (the input's channels), got ", name, " of shape ", t->sizes(), " and input of shape ",
                input->sizes());
  EMBER_CHECK_KIND(is_floating(input->dtype()), NotImplemented, "\"batch_norm\" not implemented for '",
                   scalar_type_name(input->dtype()), "'");
  EMBER_CHECK(input->numel() / std::max<int64_t>(C, 1) != 1,  // none (an empty batch) is allowed, as PyTorch
              "Expected more than 1 value per channel when training, got input size ", input->sizes());
  Tensor out, mean_t, var_t, invstd;
  {
    NoGradGuard ng;
    const Tensor x = contiguous(widened(input));
    const DType ct = x->dtype();
    const Shape layout = channel_layout(x);
    Tensor y = empty(x->sizes(), ct);  // the output itself, not a view of a no-grad reshape
    mean_t = empty({C}, ct), var_t = empty({C}, ct), invstd = empty({C}, ct);
    Tensor w = weight ? contiguous(to_dtype(weight, ct)) : Tensor(),
           b = bias ? contiguous(to_dtype(bias, ct)) : Tensor();
    kernels::batch_norm(reshape(y, layout), mean_t, var_t, invstd, reshape(x, layout), w, b, eps);
    out = to_dtype(y, input->dtype());
  }
  auto n = make_node<BatchNormState>("NativeBatchNormBackward0", {&input, &weight, &bias}, batch_norm_formula);
  if (n) {
    n->state.eps = eps;
    n->save("input", input);
    n->save("weight", weight);
    n->save("result1", mean_t);
    n->save("result2", invstd);
    attach(n, out);
  }
  return {out, mean_t, var_t, invstd};
}

std::tuple<Tensor, Tensor, Tensor> native_group_norm(const Tensor& input, const Tensor& weight, const Tensor& bias,
                                                     int64_t N, int64_t C, int64_t HxW, int64_t group, double eps) {
  EMBER_CHECK(input->numel() == N * C * HxW, "Expected X.numel() == N * C * HxW to be true, but got false.");
  EMBER_CHECK(group > 0 && C % group == 0,
              "Expected number of channels in input to be divisible by num_groups, but got input of shape ",
              input->sizes(), " and num_groups=", group);
  for (const auto& [t, name] : {std::pair<const Tensor&, const char*>{weight, "weight"}, {bias, "bias"}})
    EMBER_CHECK(!t || (t->dim() == 1 && t->numel() == C), "Expected ", name,
                " to be a vector of size equal to the number of channels in input, but got ", name, " of shape ",
                t->sizes(), " and input of shape ", input->sizes());
  EMBER_CHECK_KIND(is_floating(input->dtype()), NotImplemented, "\"GroupNormKernelImpl\" not implemented for '",
                   scalar_type_name(input->dtype()), "'");
  GroupNormState s{N, C, HxW, group, eps};
  Tensor out, mean_t, rstd;
  {
    NoGradGuard ng;
    const Tensor x = contiguous(widened(input));
    const DType ct = x->dtype();
    Tensor normed = empty(x->sizes(), ct);
    mean_t = empty({N, group}, ct);
    rstd = empty({N, group}, ct);
    if (x->numel()) kernels::layer_norm(normed, mean_t, rstd, x, Tensor(), Tensor(), eps);  // rows of a group
    if (N * group > 0 && x->numel() == 0) {  // groups without values: PyTorch's NaN statistics
      mean_t = full({N, group}, NAN, ct);
      rstd = full({N, group}, NAN, ct);
    }
    Tensor y = reshape(normed, {N, C, HxW});
    if (weight) y = mul(y, per_channel(to_dtype(weight, ct), s));
    if (bias) y = add(y, per_channel(to_dtype(bias, ct), s));
    out = to_dtype(reshape(y, input->sizes()), input->dtype());
  }
  auto n = make_node<GroupNormState>("NativeGroupNormBackward0", {&input, &weight, &bias}, group_norm_formula);
  if (n) {
    n->state = s;
    n->save("input", input);
    n->save("weight", weight);
    n->save("result1", mean_t);
    n->save("result2", rstd);
    attach(n, out);
  }
  return {out, mean_t, rstd};
}

std::tuple<Tensor, Tensor, Tensor> native_layer_norm(const Tensor& input, const Shape& normalized_shape,
                                                     const Tensor& weight, const Tensor& bias, double eps) {
  const size_t k = normalized_shape.size();
  const int64_t dim = input->dim();
  bool matches = k >= 1 && (int64_t)k <= dim;
  for (size_t i = 0; matches && i < k; ++i) matches = input->size(dim - (int64_t)k + (int64_t)i) == normalized_shape[i];
  if (!matches) {
    std::string star = "[*";
    for (int64_t s : normalized_shape) star += ", " + std::to_string(s);
    EMBER_FAIL(Runtime, "Given normalized_shape=", normalized_shape, ", expected input with shape ", star,
               "], but got input of size", input->sizes());
  }
  for (const auto& [t, name] : {std::pair<const Tensor&, const char*>{weight, "weight"}, {bias, "bias"}})
    EMBER_CHECK(!t || t->sizes() == normalized_shape, "Expected ", name,
                " to be of same shape as normalized_shape, but got ", name, " of shape ", t->sizes(),
                " and normalized_shape = ", normalized_shape);
  EMBER_CHECK_KIND(is_floating(input->dtype()), NotImplemented, "\"LayerNormKernelImpl\" not implemented for '",
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
