// Loss functions that get a node of their own, as in PyTorch (the others are
// composed in python/ember/nn/functional.py).
#include "kernels/cpu/loss.h"
#include "core/cuda.h"
#include "ops/op_node.h"

namespace ember {

namespace {  // a State is private to its op's file (Note [Node state])

// Note [nll_loss]: cross_entropy is log_softmax followed by nll_loss, and its
// grad_fn is NllLossBackward0, as in PyTorch. The gradient w.r.t. the input is
// -weight[t] * g (/ total weight for 'mean') scattered into column t of a zero
// matrix: scatter_add is differentiable in its source, so double backward works.
struct NllLossState {
  Shape self_sizes;
  int64_t batch = 0, classes = 0;
  int64_t reduction = 1;  // 0 none, 1 mean, 2 sum
  int64_t ignore_index = -100;
  void fields(StateFields& f) const {
    f.add("self_sym_sizes", self_sizes);
    f.add("reduction", reduction);
    f.add("ignore_index", ignore_index);
  }
};
}  // namespace

Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight, int64_t reduction,
                int64_t ignore_index) {
  check_weight_needs_no_grad(weight, "nll_loss_forward", "weight");
  EMBER_CHECK(input->dim() == 1 || input->dim() == 2,
              "nll_loss: expected input of 1 or 2 dimensions (C) or (N, C), got ", input->dim(), "-D input of shape ",
              detail::cat(input->sizes()));
  EMBER_CHECK(is_floating(input->dtype()), "nll_loss: expected a floating point input, got ",
              dtype_name(input->dtype()));
  EMBER_CHECK(target->dtype() == DType::Int64, "nll_loss: expected scalar type Long for target but found ",
              dtype_name(target->dtype()));
  EMBER_CHECK(target->dim() == input->dim() - 1, "nll_loss: expected a target of ", input->dim() - 1,
              " dimension(s) for an input of shape ", detail::cat(input->sizes()), ", got target of shape ",
              detail::cat(target->sizes()));
  EMBER_CHECK_KIND(reduction >= 0 && reduction <= 2, Value, "nll_loss: ", reduction, " is not a valid reduction");
  const bool batched = input->dim() == 2;
  const int64_t N = batched ? input->size(0) : 1, C = input->size(-1 + input->dim());
  EMBER_CHECK(!batched || target->size(0) == N, "Expected input batch_size (", N, ") to match target batch_size (",
              target->size(0), ").");
  EMBER_CHECK(
      !weight || (weight->dim() == 1 && weight->size(0) == C), "weight tensor should be defined either for all ", C,
      " classes or no classes but got weight tensor of shape: ", weight ? detail::cat(weight->sizes()) : std::string());
  EMBER_CHECK(!weight || weight->dtype() == input->dtype(), "nll_loss: expected weight of dtype ",
              dtype_name(input->dtype()), ", got ", dtype_name(weight->dtype()));

  check_same_device(*input, *target);
  Tensor x = contiguous(reshape(detach(input), {N, C}));
  Tensor t = contiguous(reshape(target, {N}));
  Tensor w = weight ? contiguous(detach(weight)) : Tensor();
  Tensor per_sample = empty({N}, input->dtype()), wt = empty({N}, input->dtype());
  kernels::nll_loss_forward(per_sample, wt, x, t, w, ignore_index);

  Tensor total_weight;  // the mean's divisor, 0-d on the input's device (no wait for it on CUDA)
  Tensor out;
  {
    NoGradGuard ng;
    if (reduction == 0) {
      out = batched ? per_sample : reshape(per_sample, {});
    } else {
      out = sum_all(per_sample);
      if (reduction == 1) {
        total_weight = sum_all(wt);
        out = div(out, total_weight);  // 0 / 0 = nan, as PyTorch
      }
    }
  }
  auto n = make_node<NllLossState>("NllLossBackward0", {&input}, [](auto& n, variable_list& g) -> variable_list {
    const NllLossState& s = n.state;
    Tensor coef = n.saved_at(1);  // -weight[t] (/ total weight), 0 where ignored
    Tensor src = mul(s.reduction == 0 ? reshape(g[0], {coef->numel()}) : g[0], coef);
    Tensor grad = scatter_add(zeros({s.batch, s.classes}, coef->dtype()), 1, n.saved_at(0), unsqueeze(src, 1));
    return {reshape(grad, s.self_sizes)};
  });
  if (n) {
    NoGradGuard ng;
    n->state = {input->sizes(), N, C, reduction, ignore_index};
    // Ignored targets point at column 0: their coefficient is 0, so they add nothing.
    Tensor safe_t = where(eq(t, int_num(ignore_index)), zeros({N}, DType::Int64), t);
    n->save("target", unsqueeze(safe_t, 1));
    n->save("coefficient", reduction == 1 ? div(wt, neg(total_weight)) : neg(wt));
    n->save("weight", weight);  // not used by the formula: grad_fn._saved_weight shows it (None without one)
  }
  return attach(n, out);
}

}  // namespace ember
