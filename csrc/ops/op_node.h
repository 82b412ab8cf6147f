#pragma once
// The node every built-in op uses: a name as PyTorch spells it, the tensors
// its formula needs, its non-tensor arguments, and the formula itself (a plain
// function, so each op reads as: forward, then `make_node(...)` with a lambda).
#include "autograd/grad_mode.h"
#include "autograd/meta.h"
#include "autograd/saved_variable.h"
#include "ops/ops.h"

namespace ember {

struct OpNode;
using BackwardFn = variable_list (*)(OpNode& node, variable_list& grads);

struct OpArgs {
  Shape shape0, shape1;  // input shapes (e.g. for sum_to after broadcasting)
  DimList dims;
  double s0 = 0, s1 = 0;
  int64_t i0 = 0, i1 = 0, i2 = 0;
  bool flag = false;
  bool same_shapes = false;  // broadcasting binary ops: both inputs had the output's shape
  DType dtype = kDefaultFloat;
};

struct OpNode : Node {
  const char* op_name;
  BackwardFn fn;
  std::vector<SavedVariable> saved;
  OpArgs args;

  OpNode(const char* name, BackwardFn f) : op_name(name), fn(f) {}
  variable_list apply(variable_list&& grads) override { return fn(*this, grads); }
  std::string name() const override { return op_name; }
  void release_variables() override {
    for (auto& s : saved) s.reset();
  }
  Tensor saved_at(size_t i) { return saved[i].unpack(shared_from_this()); }
  void save(const Tensor& t) { saved.emplace_back(t, false); }
  // Call after attach(): a node's own output is saved without a cycle.
  void save_output(const Tensor& t) { saved.emplace_back(t, true); }
  bool needs(size_t i) const { return should_compute_output(i); }
};

inline bool any_requires_grad(std::initializer_list<const Tensor*> ts) {
  if (!GradMode::is_enabled()) return false;
  for (auto* t : ts)
    if (*t && (*t)->requires_grad()) return true;
  return false;
}

// A node whose edges lead to `inputs`, or nullptr when nothing needs a gradient.
inline std::shared_ptr<OpNode> make_node(const char* name, BackwardFn fn, std::initializer_list<const Tensor*> inputs) {
  if (!any_requires_grad(inputs)) return nullptr;
  auto node = std::make_shared<OpNode>(name, fn);
  node->next_edges.reserve(inputs.size());
  node->saved.reserve(2);  // most formulas keep one or two tensors: no regrowth
  for (auto* t : inputs) node->next_edges.push_back(gradient_edge(*t));
  return node;
}

inline std::shared_ptr<OpNode> make_node_list(const char* name, BackwardFn fn, const TensorList& inputs) {
  if (!GradMode::is_enabled()) return nullptr;
  bool any = false;
  for (auto& t : inputs) any |= t->requires_grad();
  if (!any) return nullptr;
  auto node = std::make_shared<OpNode>(name, fn);
  for (auto& t : inputs) node->next_edges.push_back(gradient_edge(t));
  return node;
}

// Makes `out` the next output of `node` (no-op without a node).
inline const Tensor& attach(const std::shared_ptr<OpNode>& node, const Tensor& out) {
  if (node) set_history(out, node);
  return out;
}

// Writes an in-place op's differentiable result into self and rebases the
// history of self (and of its base, for a view). See Note [In-place ops].
Tensor& commit_inplace(Tensor& self, const Tensor& result);
// A copy of `base` with `value` written into the region `sizes/strides/offset`
// of a contiguous layout of base (PyTorch's CopySlices).
Tensor region_put(const Tensor& base, const Tensor& value, const Shape& sizes, const Shape& strides, int64_t offset);

}  // namespace ember
