// Note [Fused nodes]
// nn.functional ops that PyTorch computes as one node (GeluBackward0,
// MseLossBackward0, BinaryCrossEntropyWithLogitsBackward0, ...) are one node
// here too: the forward is composed of other ops run without recording, the
// backward is the derivative formula of derivatives.yaml written with ops (so
// create_graph still gives second derivatives). Graph tools then show
// PyTorch's names, `_saved_*` its values, and a backward runs one node per op
// instead of a chain of five or ten.
#include <cmath>

#include "kernels/cpu/elementwise.h"
#include "ops/op_node.h"

namespace ember {

namespace {  // a State is private to its op's file (Note [Node state])

Tensor zero_like_scalar(const Tensor& like) { return zeros({}, like->dtype()); }

struct GeluState {
  bool tanh = false;
  void fields(StateFields& f) const { f.items.emplace_back("approximate", std::string(tanh ? "tanh" : "none")); }
};
struct SoftplusState {
  double beta = 1, threshold = 20;
  void fields(StateFields& f) const {
    f.add("beta", beta);
    f.add("threshold", threshold);
  }
};
struct EluState {
  double alpha = 1, scale = 1, input_scale = 1;
  void fields(StateFields& f) const {
    f.add("alpha", alpha);
    f.add("scale", scale);
    f.add("input_scale", input_scale);
  }
};
struct LeakyReluState {
  double negative_slope = 0.01;
  void fields(StateFields& f) const { f.add("negative_slope", negative_slope); }
};
struct HardtanhState {
  double min_val = -1, max_val = 1;
  void fields(StateFields& f) const {
    f.add("min_val", min_val);
    f.add("max_val", max_val);
  }
};
// Losses: the reduction (0 none, 1 mean, 2 sum) and the loss's own parameter.
struct LossState {
  int64_t reduction = 1;
  double beta = 0;  // smooth_l1's beta or huber's delta
  const char* beta_name = nullptr;
  void fields(StateFields& f) const {
    f.add("reduction", reduction);
    if (beta_name) f.add(beta_name, beta);
  }
};

struct EmbeddingState {
  int64_t num_weights = 0, dim = 0, padding_idx = -1;
  void fields(StateFields& f) const {
    f.add("weight_sym_argsize_0", num_weights);
    f.add("padding_idx", padding_idx);
    f.add("scale_grad_by_freq", false);
    f.add("sparse", false);
  }
};
struct PadState {
  DimList pad;
  void fields(StateFields& f) const { f.add("pad", pad); }
};

// The loss of each element reduced as asked.
Tensor reduce_loss(const Tensor& loss, int64_t reduction) {
  if (reduction == 0) return loss;
  Tensor total = sum_all(loss);
  return reduction == 2 ? total : div(total, num((double)loss->numel()));
}

// d(reduced loss)/d(each element's loss), shaped as the elements.
Tensor reduction_grad(const Tensor& g, const Tensor& like, int64_t reduction) {
  if (reduction == 0) return g;
  Tensor e = expand(g, like->sizes());
  return reduction == 2 ? e : div(e, num((double)like->numel()));
}

}  // namespace

// Weights scale the loss but get no gradient: PyTorch refuses one that requires grad, in these words.
void check_weight_needs_no_grad(const Tensor& w, const char* function, const char* arg) {
  EMBER_CHECK(!(w && GradMode::is_enabled() && w->requires_grad()), "The function '", function,
              "' is not differentiable with respect to argument '", arg,
              "'. This input cannot have requires_grad True.");
}

// F.embedding: the rows of weight at the indices, one EmbeddingBackward0 node (PyTorch's), whose backward adds each
// gradient row into the row it read; the padding_idx row (when >= 0) gets none.
Tensor embedding(const Tensor& weight, const Tensor& indices, int64_t padding_idx) {
  EMBER_CHECK(weight->dim() == 2, "'weight' must be 2-D");
  Tensor out;
  {
    NoGradGuard ng;
    Shape shape = indices->sizes();
    shape.push_back(weight->size(1));
    out = reshape(index_select(weight, 0, reshape(indices, {-1})), shape);
  }
  auto n = make_node<EmbeddingState>("EmbeddingBackward0", {&weight}, [](auto& n, variable_list& g) -> variable_list {
    const EmbeddingState& s = n.state;
    Tensor index = reshape(n.saved_at(0), {-1});
    Tensor grad = reshape(g[0], {index->numel(), s.dim});
    if (s.padding_idx >= 0) grad = where(unsqueeze(eq(index, int_num(s.padding_idx)), 1), zero_like_scalar(grad), grad);
    OpDeviceGuard on(grad->device());
    return {index_add(zeros({s.num_weights, s.dim}, grad->dtype()), 0, index, grad, 1.0)};
  });
  if (n) {
    n->state = {weight->size(0), weight->size(1), padding_idx};
    n->save("indices", indices);
  }
  return attach(n, out);
}

// F.pad's constant mode: one ConstantPadNdBackward0 node, whose backward pads the gradient by the negated pads
// (crops what was added, adds zeros where the forward cropped).
Tensor constant_pad_nd(const Tensor& t, const DimList& pad, double value) {
  EMBER_CHECK(pad.size() % 2 == 0, "Length of pad must be even but instead it equals ", pad.size());
  EMBER_CHECK((int64_t)pad.size() / 2 <= t->dim(),
              "Length of pad should be no more than twice the number of "
              "dimensions of the input. Pad length is ",
              pad.size(), " while the input has ", t->dim(), " dimensions.");
  Tensor out;
  {
    NoGradGuard ng;
    Tensor x = t;  // the input cropped by the negative pads
    Shape shape;
    for (size_t i = 0; i < pad.size() / 2; ++i) {
      const int64_t d = t->dim() - 1 - (int64_t)i, lo = pad[2 * i], hi = pad[2 * i + 1];
      const int64_t kept = x->size(d) + std::min<int64_t>(lo, 0) + std::min<int64_t>(hi, 0);
      EMBER_CHECK(kept >= 0, "narrow(): length must be non-negative.");  // (PyTorch's words here)
      x = narrow(x, d, std::max<int64_t>(-lo, 0), kept);
    }
    shape = x->sizes();
    for (size_t i = 0; i < pad.size() / 2; ++i) {
      const int64_t d = t->dim() - 1 - (int64_t)i;
      shape[d] += std::max<int64_t>(pad[2 * i], 0) + std::max<int64_t>(pad[2 * i + 1], 0);
    }
    OpDeviceGuard on(t->device());
    out = full(shape, value, t->dtype());
    Tensor region = out;
    for (size_t i = 0; i < pad.size() / 2; ++i) {
      const int64_t d = t->dim() - 1 - (int64_t)i;
      region = narrow(region, d, std::max<int64_t>(pad[2 * i], 0), x->size(d));
    }
    kernels::copy(region, x);
  }
  auto n = make_node<PadState>("ConstantPadNdBackward0", {&t}, [](auto& n, variable_list& g) -> variable_list {
    DimList negated;
    for (int64_t p : n.state.pad) negated.push_back(-p);
    return {constant_pad_nd(g[0], negated, 0.0)};
  });
  if (n) n->state.pad = pad;
  return attach(n, out);
}

Tensor gelu(const Tensor& x, bool tanh_approximation) {
  EMBER_CHECK(is_floating(x->dtype()), "gelu: expected a floating point input, got ", dtype_name(x->dtype()));
  Tensor out;
  {
    NoGradGuard ng;
    if (tanh_approximation) {
      Tensor inner = mul(add(x, mul(num(0.044715), mul(x, mul(x, x)))), num(std::sqrt(2.0 / M_PI)));
      out = mul(mul(x, num(0.5)), add(tanh(inner), num(1.0)));
    } else {
      out = mul(mul(x, num(0.5)), add(erf(mul(x, num(M_SQRT1_2))), num(1.0)));
    }
  }
  auto n = make_node<GeluState>("GeluBackward0", {&x}, [](auto& n, variable_list& g) -> variable_list {
    Tensor x = n.saved_at(0);
    Tensor d;
    if (n.state.tanh) {
      const double k = std::sqrt(2.0 / M_PI);
      Tensor x2 = mul(x, x);
      Tensor t = tanh(mul(add(x, mul(num(0.044715), mul(x2, x))), num(k)));
      Tensor dinner = mul(add(mul(x2, num(3 * 0.044715)), num(1.0)), num(k));
      d = add(mul(add(t, num(1.0)), num(0.5)), mul(mul(x, num(0.5)), mul(sub(num(1.0), mul(t, t)), dinner)));
    } else {
      Tensor cdf = mul(add(erf(mul(x, num(M_SQRT1_2))), num(1.0)), num(0.5));
      Tensor pdf = mul(exp(mul(mul(x, x), num(-0.5))), num(0.5 * M_2_SQRTPI * M_SQRT1_2));
      d = add(cdf, mul(x, pdf));
    }
    return {mul(g[0], d)};
  });
  if (n) {
    n->state.tanh = tanh_approximation;
    n->save("self", x);
  }
  return attach(n, out);
}

Tensor silu(const Tensor& x) {
  Tensor out;
  {
    NoGradGuard ng;
    out = mul(x, sigmoid(x));
  }
  auto n = make_node("SiluBackward0", {&x}, [](auto& n, variable_list& g) -> variable_list {
    Tensor x = n.saved_at(0), s = sigmoid(x);
    return {mul(g[0], mul(s, add(mul(x, sub(num(1.0), s)), num(1.0))))};
  });
  if (n) n->save("self", x);
  return attach(n, out);
}

// log(1 + exp(z)) for any z without overflow: max(z, 0) + log1p(exp(-|z|)).
static Tensor stable_softplus(const Tensor& z) { return add(clamp(z, 0.0, std::nullopt), log1p(exp(neg(abs(z))))); }
// log(sigmoid(x)) = -softplus(-x), without overflow.
static Tensor log_sigmoid(const Tensor& x) { return neg(stable_softplus(neg(x))); }

Tensor softplus(const Tensor& x, double beta, double threshold) {
  Tensor out;
  {
    NoGradGuard ng;
    Tensor z = mul(x, num(beta));
    out = where(gt(z, num(threshold)), x, div(stable_softplus(z), num(beta)));
  }
  auto n = make_node<SoftplusState>("SoftplusBackward0", {&x}, [](auto& n, variable_list& g) -> variable_list {
    Tensor z = mul(n.saved_at(0), num(n.state.beta));
    return {where(gt(z, num(n.state.threshold)), g[0], mul(g[0], sigmoid(z)))};
  });
  if (n) {
    n->state = {beta, threshold};
    n->save("self", x);
  }
  return attach(n, out);
}

// elu, selu and celu: scale * (x > 0 ? x : alpha * (exp(x * input_scale) - 1)).
Tensor elu(const Tensor& x, double alpha, double scale, double input_scale, const char* name) {
  Tensor out;
  {
    NoGradGuard ng;
    Tensor negative = mul(expm1(mul(clamp(x, std::nullopt, 0.0), num(input_scale))), num(alpha * scale));
    out = where(gt(x, num(0.0)), mul(x, num(scale)), negative);
  }
  auto n = make_node<EluState>(name, {&x}, [](auto& n, variable_list& g) -> variable_list {
    const EluState& s = n.state;
    Tensor x = n.saved_at(0);
    Tensor negative =
        mul(exp(mul(clamp(x, std::nullopt, 0.0), num(s.input_scale))), num(s.alpha * s.scale * s.input_scale));
    return {mul(g[0], where(gt(x, num(0.0)), num(s.scale), negative))};
  });
  if (n) {
    n->state = {alpha, scale, input_scale};
    n->save("self", x);
  }
  return attach(n, out);
}

Tensor leaky_relu(const Tensor& x, double negative_slope) {
  Tensor out;
  {
    NoGradGuard ng;
    out = where(gt(x, num(0.0)), x, mul(x, num(negative_slope)));
  }
  auto n = make_node<LeakyReluState>("LeakyReluBackward0", {&x}, [](auto& n, variable_list& g) -> variable_list {
    return {where(gt(n.saved_at(0), num(0.0)), g[0], mul(g[0], num(n.state.negative_slope)))};
  });
  if (n) {
    n->state.negative_slope = negative_slope;
    n->save("self", x);
  }
  return attach(n, out);
}

Tensor hardtanh(const Tensor& x, double min_val, double max_val) {
  check_value_fits(min_val, x->dtype());  // Note [Scalar overflow]
  check_value_fits(max_val, x->dtype());
  Tensor out;
  {
    NoGradGuard ng;
    out = clamp(x, min_val, max_val);
  }
  auto n = make_node<HardtanhState>("HardtanhBackward0", {&x}, [](auto& n, variable_list& g) -> variable_list {
    Tensor x = n.saved_at(0);
    // PyTorch: no gradient at the bounds themselves.
    Tensor inside = logical_and(gt(x, num(n.state.min_val)), lt(x, num(n.state.max_val)));
    return {where(inside, g[0], zero_like_scalar(g[0]))};
  });
  if (n) {
    n->state = {min_val, max_val};
    n->save("self", x);
  }
  return attach(n, out);
}

Tensor logsigmoid(const Tensor& x) {
  Tensor out;
  {
    NoGradGuard ng;
    out = log_sigmoid(x);
  }
  auto n = make_node("LogSigmoidBackward0", {&x}, [](auto& n, variable_list& g) -> variable_list {
    return {mul(g[0], sigmoid(neg(n.saved_at(0))))};
  });
  if (n) n->save("self", x);
  return attach(n, out);
}

Tensor mse_loss(const Tensor& input, const Tensor& target, int64_t reduction) {
  Tensor out;
  {
    NoGradGuard ng;
    Tensor d = sub(input, target);
    out = reduce_loss(mul(d, d), reduction);
  }
  auto n = make_node<LossState>("MseLossBackward0", {&input, &target}, [](auto& n, variable_list& g) -> variable_list {
    Tensor x = n.saved_at(0), t = n.saved_at(1);
    Tensor d = sub(x, t);
    Tensor gi = mul(reduction_grad(g[0], d, n.state.reduction), mul(d, num(2.0)));
    return {n.needs(0) ? sum_to(gi, x->sizes()) : Tensor(), n.needs(1) ? sum_to(neg(gi), t->sizes()) : Tensor()};
  });
  if (n) {
    n->state.reduction = reduction;
    n->save("self", input);
    n->save("target", target);
  }
  return attach(n, out);
}

// smooth_l1 (beta) and huber (delta): quadratic below the threshold, linear above.
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, int64_t reduction, double beta, bool huber) {
  EMBER_CHECK(beta >= 0, huber ? "huber_loss does not support non-positive values for delta."
                               : "smooth_l1_loss does not support negative values for beta.");
  Tensor out;
  {
    NoGradGuard ng;
    Tensor d = sub(input, target), ad = abs(d);
    Tensor quad = mul(mul(d, d), num(huber ? 0.5 : (beta > 0 ? 0.5 / beta : 0.0)));
    Tensor lin = huber ? mul(sub(ad, num(0.5 * beta)), num(beta)) : sub(ad, num(0.5 * beta));
    out = reduce_loss(where(lt(ad, num(beta)), quad, lin), reduction);
  }
  auto n = make_node<LossState>(huber ? "HuberLossBackward0" : "SmoothL1LossBackward0", {&input, &target},
                                [](auto& n, variable_list& g) -> variable_list {
                                  const LossState& s = n.state;
                                  const bool huber = s.beta_name[0] == 'd';
                                  Tensor x = n.saved_at(0), t = n.saved_at(1);
                                  Tensor d = sub(x, t);
                                  Tensor inside = lt(abs(d), num(s.beta));
                                  Tensor slope = huber ? clamp(d, -s.beta, s.beta) : [&] {
                                    Tensor sign_d = where(gt(d, num(0.0)), num(1.0), num(-1.0));
                                    Tensor quad = s.beta > 0 ? div(d, num(s.beta)) : mul(d, num(0.0));
                                    return where(inside, quad, where(eq(d, num(0.0)), num(0.0), sign_d));
                                  }();
                                  Tensor gi = mul(reduction_grad(g[0], d, s.reduction), slope);
                                  return {n.needs(0) ? sum_to(gi, x->sizes()) : Tensor(),
                                          n.needs(1) ? sum_to(neg(gi), t->sizes()) : Tensor()};
                                });
  if (n) {
    n->state = {reduction, beta, huber ? "delta" : "beta"};
    n->save("self", input);
    n->save("target", target);
  }
  return attach(n, out);
}

Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight, int64_t reduction) {
  EMBER_CHECK(input->sizes() == target->sizes(), "binary_cross_entropy: the target's shape ",
              detail::cat(target->sizes()), " must be the input's ", detail::cat(input->sizes()));
  check_weight_needs_no_grad(weight, "binary_cross_entropy", "weight");
  Tensor out;
  {
    NoGradGuard ng;
    // The logs are clamped at -100 as PyTorch's, so 0 * log(0) is 0, not NaN.
    Tensor l = add(mul(target, clamp(log(input), -100.0, std::nullopt)),
                   mul(sub(num(1.0), target), clamp(log1p(neg(input)), -100.0, std::nullopt)));
    l = neg(l);
    if (weight) l = mul(l, weight);
    out = reduce_loss(l, reduction);
  }
  auto n = make_node<LossState>(
      "BinaryCrossEntropyBackward0", {&input, &target}, [](auto& n, variable_list& g) -> variable_list {
        Tensor x = n.saved_at(0), t = n.saved_at(1), w = n.saved_at(2);
        Tensor gr = reduction_grad(g[0], x, n.state.reduction);
        if (w) gr = mul(gr, w);
        Tensor gx, gt;
        if (n.needs(0)) gx = div(mul(gr, sub(x, t)), clamp(mul(sub(num(1.0), x), x), 1e-12, std::nullopt));
        if (n.needs(1))
          gt = mul(gr, sub(clamp(log1p(neg(x)), -100.0, std::nullopt), clamp(log(x), -100.0, std::nullopt)));
        return {gx, gt};
      });
  if (n) {
    n->state.reduction = reduction;
    n->save("self", input);
    n->save("target", target);
    n->save("weight", weight);
  }
  return attach(n, out);
}

Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target, const Tensor& weight,
                                        const Tensor& pos_weight, int64_t reduction) {
  EMBER_CHECK(input->sizes() == target->sizes(), "Target size (", detail::cat(target->sizes()),
              ") must be the same as input size (", detail::cat(input->sizes()), ")");
  check_weight_needs_no_grad(weight, "binary_cross_entropy_with_logits", "weight");
  check_weight_needs_no_grad(pos_weight, "binary_cross_entropy_with_logits", "pos_weight");
  Tensor out;
  {
    NoGradGuard ng;
    // (1 - t) x - c log(sigmoid(x)), c = 1 + (pos_weight - 1) t: stable for |x| large.
    Tensor log_sig = log_sigmoid(input);
    Tensor c = pos_weight ? add(mul(sub(pos_weight, num(1.0)), target), num(1.0)) : Tensor();
    Tensor l = sub(mul(sub(num(1.0), target), input), c ? mul(c, log_sig) : log_sig);
    if (weight) l = mul(l, weight);
    out = reduce_loss(l, reduction);
  }
  auto n = make_node<LossState>(
      "BinaryCrossEntropyWithLogitsBackward0", {&input, &target}, [](auto& n, variable_list& g) -> variable_list {
        Tensor x = n.saved_at(0), t = n.saved_at(1), w = n.saved_at(2), pw = n.saved_at(3);
        Tensor gr = reduction_grad(g[0], x, n.state.reduction);
        if (w) gr = mul(gr, w);
        Tensor gx, gt;
        if (n.needs(0)) {
          // d/dx = c sigmoid(x) - pos_weight t (sigmoid(x) - t without pos_weight)
          Tensor s = sigmoid(x);
          Tensor d = pw ? sub(mul(add(mul(sub(pw, num(1.0)), t), num(1.0)), s), mul(pw, t)) : sub(s, t);
          gx = mul(gr, d);
        }
        if (n.needs(1)) {
          // d/dt = -x - (pos_weight - 1) log(sigmoid(x))
          Tensor d = neg(x);
          if (pw) d = sub(d, mul(sub(pw, num(1.0)), log_sigmoid(x)));
          gt = mul(gr, d);
        }
        return {gx, gt};
      });
  if (n) {
    n->state.reduction = reduction;
    n->save("self", input);
    n->save("target", target);
    n->save("weight", weight);
    n->save("pos_weight", pos_weight);
  }
  return attach(n, out);
}

}  // namespace ember
