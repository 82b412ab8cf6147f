#pragma once
#include <memory>

#include "autograd/node.h"

namespace ember {

// A tensor a backward formula needs, remembered with the version it had
// (Note [Version counter]). A node's own output is kept as a plain alias
// without grad_fn, or the graph would own itself through a cycle; unpack()
// gives it back its history so create_graph still works.
// The error for using saved tensors after backward freed them.
[[noreturn]] void throw_saved_tensors_freed();

// Note [Saved tensor hooks]
// autograd.graph.saved_tensors_hooks(pack, unpack): while a pair is pushed on
// this thread, every tensor a node saves is handed to pack() and only what it
// returns is kept; backward gets the tensor back from unpack(). The pair is
// opaque here (the Python bindings implement it). Packed tensors are not
// version-checked: ember cannot see the tensor behind what pack returned.
struct SavedTensorHooks {
  virtual ~SavedTensorHooks() = default;
  virtual std::shared_ptr<void> pack(const Tensor& t) = 0;
  virtual Tensor unpack(const std::shared_ptr<void>& packed) = 0;
};
void push_saved_tensor_hooks(std::shared_ptr<SavedTensorHooks> hooks);
void pop_saved_tensor_hooks();
// The innermost pair pushed on this thread, or null.
std::shared_ptr<SavedTensorHooks> current_saved_tensor_hooks();

class SavedVariable {
 public:
  SavedVariable() = default;
  SavedVariable(const Tensor& t, bool is_output);

  Tensor unpack(const std::shared_ptr<Node>& owner) const;
  void reset() {
    data_.reset();
    packed_.reset();
    hooks_.reset();
    released_ = true;
  }
  bool defined() const { return was_defined_; }
  // A built-in op's name for it ("self", "result"): grad_fn._saved_<name> finds it by this
  // (Note [Node state]).
  const char* name = nullptr;
  // grad_fn._raw_saved_x.register_hooks(pack, unpack): packs the saved tensor now.
  void register_hooks(std::shared_ptr<SavedTensorHooks> hooks);

 private:
  void save_history(const Tensor& t);
  Tensor data_;
  std::shared_ptr<SavedTensorHooks> hooks_;  // set: data_ is empty and packed_ holds pack()'s result
  std::shared_ptr<void> packed_;
  // With hooks, where the saved tensor's gradient went, so that what unpack()
  // returns gets that history back, as the tensor itself would have it (PyTorch's
  // rule): a non-leaf's grad_fn, or a leaf's AccumulateGrad.
  std::shared_ptr<Node> grad_fn_;
  std::weak_ptr<Node> grad_accumulator_;
  bool leaf_requires_grad_ = false;
  uint32_t saved_version_ = 0;
  uint32_t output_nr_ = 0;
  bool is_output_ = false;
  bool had_history_ = false;  // a saved input with a grad_fn: detach_() on it is an error at unpack
  bool was_defined_ = false;
  bool released_ = false;
};

}  // namespace ember
