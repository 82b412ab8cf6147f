#pragma once
// Node: one backward function in the graph. apply() maps the gradients of the
// forward outputs to the gradients of the forward inputs, which flow along
// next_edges. Names match PyTorch's (AddBackward0, MulBackward0, ...).
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace ember {

struct Node;
using variable_list = std::vector<Tensor>;
using Hook = std::function<Tensor(const Tensor&)>;

// Drops a node reference without recursing through a long chain of nodes (a
// 100k-op chain would otherwise overflow the stack when freed).
void release_node(std::shared_ptr<Node>&& node);

struct Edge {
  std::shared_ptr<Node> fn;
  uint32_t input_nr = 0;

  Edge() = default;
  Edge(std::shared_ptr<Node> f, uint32_t nr) : fn(std::move(f)), input_nr(nr) {}
  Edge(const Edge&) = default;
  Edge(Edge&&) noexcept = default;
  Edge& operator=(const Edge&) = default;
  Edge& operator=(Edge&&) noexcept = default;
  ~Edge() { release_node(std::move(fn)); }
  bool valid() const { return fn != nullptr; }
};

// What the node expects for each gradient it receives (shape and dtype of the
// matching forward output): used to materialise zeros for missing gradients.
struct InputMeta {
  Shape shape;
  DType dtype;
  Device device;
  bool is_tensor = true;   // false: a custom Function's non-tensor output (its gradient is always None)
  bool any_dtype = false;  // gradients keep their dtype (a leaf with grad_dtype None)
};

struct Node : std::enable_shared_from_this<Node> {
  Node();
  virtual ~Node() = default;

  virtual variable_list apply(variable_list&& grads) = 0;
  virtual std::string name() const = 0;
  virtual void release_variables() {}
  // A Python custom Function is the only node that needs the GIL.
  virtual bool is_python() const { return false; }
  // Whether apply() gets zeros (else undefined) for outputs that got no gradient.
  virtual bool materializes_grads() const { return true; }
  // Its apply is O(1) (views of the gradient, AccumulateGrad): never worth a
  // thread of its own (Note [Parallel backward]).
  bool cheap = false;
  bool is_accumulate_grad = false;  // an AccumulateGrad (accumulate_grad.h)
  // Note [Concurrent backward]: held while the engine runs the node and frees
  // its saved tensors. Recursive: a hook inside apply may run a backward that
  // reaches this node again on the same thread.
  std::recursive_mutex mutex;

  // Later nodes run first (Note [Engine order]); AccumulateGrad uses the max.
  uint64_t sequence_nr;
  std::vector<Edge> next_edges;
  std::vector<InputMeta> input_metas;

  // Tensor hooks registered on the outputs of this node, run on the incoming
  // gradient before apply(); retain_grad hooks run after the others.
  struct TensorHook {
    uint32_t output_nr;
    int64_t id;
    Hook fn;
    // The Python callable `fn` keeps alive, if any (opaque here): the garbage
    // collector is shown it (Note [Python objects held by C++]).
    void* py_object = nullptr;
  };
  std::vector<TensorHook> pre_hooks;
  std::vector<TensorHook> retain_grad_hooks;

  // Hooks on the node itself (grad_fn.register_prehook / register_hook): a
  // pre-hook sees every incoming gradient before apply() (after the tensor
  // hooks), a post-hook the gradients apply() produced and the incoming ones.
  // A non-empty result replaces the gradients it was given first.
  using GradsHook = std::function<variable_list(const variable_list& grads, const variable_list& incoming)>;
  struct NodeHook {
    int64_t id;
    GradsHook fn;
    void* py_object = nullptr;  // as TensorHook::py_object
  };
  std::vector<NodeHook> node_pre_hooks, post_hooks;
  // Python's view of the node (its metadata dict), opaque here.
  std::shared_ptr<void> py_state;

  uint32_t num_inputs() const { return (uint32_t)input_metas.size(); }
  bool should_compute_output(size_t i) const { return i < next_edges.size() && next_edges[i].valid(); }

  // Registers `t` as output number input_metas.size() of this node.
  uint32_t add_input_meta(const Tensor& t);
};

// The edge along which the gradient of `t` flows: its grad_fn, or the
// AccumulateGrad of a leaf that requires grad, or an empty edge.
Edge gradient_edge(const Tensor& t);
// Makes `t` output `output_nr` of `fn` (the forward output side of a node).
void set_history(const Tensor& t, const std::shared_ptr<Node>& fn);
// Note [View history]: a view changed in place through its base or a sibling
// gets a fresh history from its base's current one.
void refresh_view_history(const Tensor& t);
// PyTorch's refusal of an in-place change of a view made in no_grad or inference mode
// (`indirect`: the change went through its base or another view of it).
[[noreturn]] void throw_view_made_without_grad_modified(const TensorImpl& view, bool indirect);
// The forward op of a node, as PyTorch's messages name it: "MulBackward0" -> "Mul", "FnBackward" -> "Fn".
std::string forward_op_name(const Node& node);
// Gives `t` a new history (an in-place op's node). Its retain_grad hook moves
// along, so t.grad is the gradient of the new value, as in PyTorch.
void rebase_history(const Tensor& t, std::shared_ptr<Node> fn, uint32_t output_nr);
// `t.data = data`. A new dtype or device drops t's cached AccumulateGrad, as
// PyTorch does: the cached one (kept alive by an old graph) would cast later
// gradients back to the old dtype.
void set_data(const Tensor& t, const Tensor& data);

// Tensor hook ids are global so RemovableHandle can find them.
int64_t next_hook_id();

}  // namespace ember
