#pragma once
#include <memory>
#include <mutex>
#include <vector>

#include "autograd/node.h"

namespace ember {

struct AutogradMeta {
  bool requires_grad = false;
  bool retains_grad = false;
  Tensor grad;
  std::shared_ptr<Node> grad_fn;
  uint32_t output_nr = 0;
  // A leaf's AccumulateGrad lives as long as some graph refers to it.
  std::weak_ptr<Node> grad_accumulator;
  // Hooks of a leaf (a non-leaf's hooks live on its grad_fn).
  std::vector<Node::TensorHook> leaf_hooks;
  std::mutex mutex;  // guards grad and grad_accumulator across backward threads

  ~AutogradMeta() { release_node(std::move(grad_fn)); }
};

}  // namespace ember
