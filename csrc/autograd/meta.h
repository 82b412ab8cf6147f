#pragma once
#include <memory>
#include <mutex>
#include <vector>

#include "autograd/node.h"

namespace ember {

struct AutogradMeta {
  bool requires_grad = false;
  bool retains_grad = false;
  int64_t retain_grad_hook_id = 0;  // its hook on grad_fn (moves with in-place ops)
  Tensor grad;
  // The Python object of `grad` (opaque here): python/autograd.cpp's .grad getter.
  std::shared_ptr<void> grad_object;
  std::shared_ptr<Node> grad_fn;
  uint32_t output_nr = 0;
  // The version the tensor had when grad_fn was set: a view whose version has
  // moved on since was changed in place through its base or a sibling view
  // (Note [View history]).
  uint32_t history_version = 0;
  // A leaf's AccumulateGrad lives as long as some graph refers to it.
  std::weak_ptr<Node> grad_accumulator;
  // Hooks of a leaf (a non-leaf's hooks live on its grad_fn).
  std::vector<Node::TensorHook> leaf_hooks;
  // register_post_accumulate_grad_hook: run with the leaf once .grad is updated.
  std::vector<Node::TensorHook> post_accumulate_hooks;
  // A leaf's grad_dtype: the dtype gradients are cast to before they reach .grad.
  enum class GradDType : uint8_t { kOwn, kSet, kAny } grad_dtype_mode = GradDType::kOwn;
  DType grad_dtype = DType::Float32;  // with kSet
  std::mutex mutex;                   // guards grad and grad_accumulator across backward threads

  ~AutogradMeta() { release_node(std::move(grad_fn)); }
};

}  // namespace ember
