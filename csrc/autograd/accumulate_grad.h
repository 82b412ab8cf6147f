#pragma once
#include <optional>

#include "autograd/node.h"

namespace ember {

// The sink of a leaf: adds the incoming gradient into leaf.grad. The leaf's
// tensor hooks run before it, in the engine, as any node's tensor pre-hooks
// (so before its node pre-hooks, and for autograd.grad's captures too).
struct AccumulateGrad : Node {
  explicit AccumulateGrad(Tensor leaf);
  variable_list apply(variable_list&& grads) override;
  // The leaf's tensor hooks (register_hook) on its incoming gradient.
  Tensor run_leaf_hooks(Tensor grad) const;
  std::string name() const override { return "torch::autograd::AccumulateGrad"; }
  // Takes the leaf's grad_dtype as the dtype incoming gradients are cast to.
  void apply_grad_dtype();
  Tensor variable;
};

// Tensor.grad_dtype of a leaf: the dtype its gradients are cast to; nullopt: none (any dtype).
std::optional<DType> grad_dtype(const Tensor& leaf);
void set_grad_dtype(const Tensor& leaf, std::optional<DType> dtype);

// Runs `hooks` on `grad` in registration order; a hook's non-None result replaces it.
Tensor run_tensor_hooks(const std::vector<Node::TensorHook>& hooks, uint32_t output_nr, Tensor grad);

}  // namespace ember
