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

class SavedVariable {
 public:
  SavedVariable() = default;
  SavedVariable(const Tensor& t, bool is_output);

  Tensor unpack(const std::shared_ptr<Node>& owner) const;
  void reset() {
    data_.reset();
    released_ = true;
  }
  bool defined() const { return was_defined_; }

 private:
  Tensor data_;
  uint32_t saved_version_ = 0;
  uint32_t output_nr_ = 0;
  bool is_output_ = false;
  bool was_defined_ = false;
  bool released_ = false;
};

}  // namespace ember
