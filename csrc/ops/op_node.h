#pragma once
// The node every built-in op uses: a name as PyTorch spells it, its saved
// tensors, a typed State of non-tensor values, and the formula itself (a plain
// function, so each op reads as: forward, then `make_node<State>(...)` with a
// lambda). See Note [Node state].
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "autograd/grad_mode.h"
#include "autograd/meta.h"
#include "autograd/saved_variable.h"
#include "ops/ops.h"

namespace ember {

// Note [Node state]
// A node keeps what its backward formula needs in two named places: saved
// tensors (SavedVariable: version-checked, freed after backward) named as
// PyTorch names them ("self", "other", "result"), and a State struct of plain
// values (dims, shapes, scalars) declared next to its op:
//
//   struct ClampState {
//     std::optional<double> min, max;
//     void fields(StateFields& f) const { f.add("min", min); f.add("max", max); }
//   };
//   auto n = make_node<ClampState>("ClampBackward1", {&t}, formula);
//   if (n) { n->state = {lo, hi}; n->save("self", t); }
//
// Formulas read them as n.saved_at(i) and n.state.min; Python reads both by
// name as grad_fn._saved_min, grad_fn._saved_self (graph tools show them).
// Tensors saved under a name ending in "[]" form a list: grad_fn._saved_indices
// is then a tuple, as PyTorch's for a list of tensors.

// A state value as Python sees it: None, bool, int, float, a tuple of ints or a string.
using StateValue = std::variant<std::monostate, bool, int64_t, double, std::vector<int64_t>, std::string>;

struct StateFields {
  std::vector<std::pair<const char*, StateValue>> items;
  void add(const char* name, bool v) { items.emplace_back(name, v); }
  void add(const char* name, int64_t v) { items.emplace_back(name, v); }
  void add(const char* name, double v) { items.emplace_back(name, v); }
  void add(const char* name, const std::vector<int64_t>& v) { items.emplace_back(name, v); }
  void add(const char* name, DType v) { items.emplace_back(name, std::string(dtype_name(v))); }
  void add(const char* name, const std::string& v) { items.emplace_back(name, v); }
  template <class T>
  void add(const char* name, const std::optional<T>& v) {
    if (v)
      add(name, *v);
    else
      items.emplace_back(name, std::monostate{});
  }
};

// Where a view, a slice assignment or as_strided looks, in elements of a
// contiguous layout of the tensor it looks into.
struct Region {
  Shape sizes, strides;
  int64_t offset = 0;
  void fields(StateFields& f) const {
    f.add("size", sizes);
    f.add("stride", strides);
    f.add("storage_offset", offset);
  }
};

// The State of ops whose formula needs no values besides saved tensors.
struct NoState {
  void fields(StateFields&) const {}
};

struct OpNode : Node {
  const char* op_name;
  std::vector<SavedVariable> saved;  // each under its name (SavedVariable::name)

  explicit OpNode(const char* name) : op_name(name) {}
  std::string name() const override { return op_name; }
  void release_variables() override {
    for (auto& s : saved) s.reset();
  }
  Tensor saved_at(size_t i) { return saved[i].unpack(shared_from_this()); }
  void save(const char* name, const Tensor& t) { saved.emplace_back(t, false).name = name; }
  // Call after attach(): a node's own output is saved without a cycle.
  void save_output(const char* name, const Tensor& t) { saved.emplace_back(t, true).name = name; }
  bool needs(size_t i) const { return should_compute_output(i); }
  // The State's values by name (Note [Node state]).
  virtual StateFields state_fields() const = 0;
};

template <class State>
struct StateNode final : OpNode {
  using Formula = variable_list (*)(StateNode& node, variable_list& grads);
  Formula formula;
  State state;

  StateNode(const char* name, Formula f) : OpNode(name), formula(f) {}
  variable_list apply(variable_list&& grads) override { return formula(*this, grads); }
  StateFields state_fields() const override {
    StateFields f;
    state.fields(f);
    return f;
  }
};

// The formula type of a stateless op.
using Formula = StateNode<NoState>::Formula;

// Inference tensors take no part in autograd (PyTorch leaves them out of its autograd
// dispatch), whatever their requires_grad says.
inline bool any_requires_grad(std::initializer_list<const Tensor*> ts) {
  if (!GradMode::is_enabled()) return false;
  for (auto* t : ts)
    if (*t && (*t)->requires_grad() && !(*t)->is_inference) return true;
  return false;
}

// A node whose edges lead to `inputs`, or nullptr when nothing needs a
// gradient. The formula comes last, so an op reads: forward, then its node.
template <class State = NoState>
std::shared_ptr<StateNode<State>> make_node(const char* name, std::initializer_list<const Tensor*> inputs,
                                            typename StateNode<State>::Formula fn) {
  if (!any_requires_grad(inputs)) return nullptr;
  auto node = std::make_shared<StateNode<State>>(name, fn);
  node->next_edges.reserve(inputs.size());
  node->saved.reserve(2);  // most formulas keep one or two tensors: no regrowth
  for (auto* t : inputs) node->next_edges.push_back(gradient_edge(*t));
  return node;
}

template <class State = NoState>
std::shared_ptr<StateNode<State>> make_node_list(const char* name, const TensorList& inputs,
                                                 typename StateNode<State>::Formula fn) {
  if (!GradMode::is_enabled()) return nullptr;
  bool any = false;
  for (auto& t : inputs) any |= t->requires_grad();
  if (!any) return nullptr;
  auto node = std::make_shared<StateNode<State>>(name, fn);
  for (auto& t : inputs) node->next_edges.push_back(gradient_edge(t));
  return node;
}

// Makes `out` the next output of `node` (no-op without a node). set_history's
// work, without converting the node pointer to a temporary shared_ptr<Node>.
// Note [Views made inside an op]
// An op that computes under a NoGradGuard may end with a view of its own
// temporary (conv2d reshapes its product, sort and topk view their buffers).
// Such a view remembers it was made without grad, and an in-place op on the
// result (ReLU(inplace=True) after a 1x1 convolution) was refused as "a view
// ... created in no_grad mode". The result is the op's own new tensor, as in
// PyTorch (its _unsafe_view), so it stops being a view when attach() meets it,
// with or without a node (repeat of a constant, then a[0] = w that requires grad).
// Only a base nothing else holds qualifies (no other tensor can see a write
// through the result), and one without autograd history: a view op's result
// keeps its tracking, also one that inherits "made in no_grad" from its
// input (y = x.view(2) under no_grad, then z = y.view(2): z /= 2 raises).
inline void forget_internal_view(const Tensor& out) {
  using VC = TensorImpl::ViewCreation;
  if (!out->view_base || (out->view_creation != VC::NoGradMode && out->view_creation != VC::InferenceMode)) return;
  if (out->view_base.use_count() != 1 || out->view_base->requires_grad()) return;
  out->view_base = Tensor();
  out->view_creation = VC::Default;
}

template <class N>
const Tensor& attach(const std::shared_ptr<N>& node, const Tensor& out) {
  forget_internal_view(out);  // also without a node: repeat's result of a constant takes a recorded write later
  if (!node) return out;
  auto& meta = out->autograd_mut();
  meta.grad_fn = node;
  meta.output_nr = node->add_input_meta(out);
  meta.history_version = out->version();
  return out;
}

// Renames the node that produced `t` (PyTorch names some nodes after the entry
// point, e.g. `2 - x` is RsubBackward1, masked_fill's where is MaskedFillBackward0).
inline Tensor renamed(Tensor t, const char* name) {
  if (auto* meta = t->autograd(); meta && meta->grad_fn)
    if (auto* n = dynamic_cast<OpNode*>(meta->grad_fn.get())) n->op_name = name;
  return t;
}

// Writes an in-place op's differentiable result into self and rebases the
// history of self (and of its base, for a view). See Note [In-place ops].
Tensor& commit_inplace(Tensor& self, const Tensor& result);
// commit_inplace's second half: self (already holding result's values) takes
// result's history (a custom Function's mark_dirty).
void rebase_inplace(const Tensor& self, const Tensor& result);
// A copy of `base` with `value` written into the region `sizes/strides/offset`
// of a contiguous layout of base (PyTorch's CopySlices); with `in_base_layout`, of
// base's own layout (dense: a view's geometry on a channels-last or transposed base).
Tensor region_put(const Tensor& base, const Tensor& value, const Shape& sizes, const Shape& strides, int64_t offset,
                  bool in_base_layout = false);

// A State several ops' files share (Note [Node state]): the dim an op joins,
// splits or unsqueezes along.
struct DimState {
  int64_t dim = 0;
  void fields(StateFields& f) const { f.add("dim", dim); }
};

// A float64 constant in a backward formula: a wrapped number, so it takes the
// gradient's dtype as a Python scalar would.
inline Tensor num(double v) { return wrapped_scalar(v, DType::Float64); }
// An integer as ops take a Python int: it keeps an integer tensor's dtype.
inline Tensor int_num(int64_t v) { return wrapped_scalar(double(v), DType::Int64); }

}  // namespace ember
