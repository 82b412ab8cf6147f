#include "autograd/saved_variable.h"

#include "autograd/grad_mode.h"
#include "autograd/meta.h"

namespace ember {

static thread_local std::vector<std::shared_ptr<SavedTensorHooks>> t_saved_tensor_hooks;

void push_saved_tensor_hooks(std::shared_ptr<SavedTensorHooks> hooks) {
  t_saved_tensor_hooks.push_back(std::move(hooks));
}
void pop_saved_tensor_hooks() {
  EMBER_CHECK(!t_saved_tensor_hooks.empty(), "no saved tensor hooks to pop");
  t_saved_tensor_hooks.pop_back();
}
std::shared_ptr<SavedTensorHooks> current_saved_tensor_hooks() {
  return t_saved_tensor_hooks.empty() ? nullptr : t_saved_tensor_hooks.back();
}

SavedVariable::SavedVariable(const Tensor& t, bool is_output) {
  if (!t) return;
  EMBER_CHECK(!t->is_inference || GradMode::is_inference(),
              "Inference tensors cannot be saved for backward. Please do not use Tensors created in inference mode "
              "in computation tracked by autograd. To work around this, you can make a clone to get a normal tensor "
              "and use it in autograd, or use `ember.no_grad()` instead of `ember.inference_mode()`.");
  was_defined_ = true;
  is_output_ = is_output;
  saved_version_ = t->version();
  if (is_output) output_nr_ = t->autograd() ? t->autograd()->output_nr : 0;
  // Python numbers turned into tensors are not the user's tensors: PyTorch never packs them.
  if (auto hooks = t->is_wrapped_number ? nullptr : current_saved_tensor_hooks()) {
    // Popped while pack runs, so a pack hook that computes does not recurse into itself.
    t_saved_tensor_hooks.pop_back();
    struct Restore {
      std::shared_ptr<SavedTensorHooks> h;
      ~Restore() { t_saved_tensor_hooks.push_back(h); }
    } restore{hooks};
    {
      NoGradGuard no_grad;  // as PyTorch: what pack computes is not recorded
      packed_ = hooks->pack(t);
    }
    hooks_ = hooks;
    save_history(t);
    EMBER_CHECK(t->version() == saved_version_,
                "A saved tensor pack hook is modifying its input in place. Tensors provided as input to pack hook can "
                "not be modified by in-place operations as this can lead to unexpected side-effects. Please open an "
                "issue if you need to perform in-place operations on the input to a pack hook.");
    return;
  }
  data_ = is_output ? make_view(t, t->sizes(), t->strides(), t->offset()) : t;
  had_history_ = !is_output && t->grad_fn();
}

void SavedVariable::register_hooks(std::shared_ptr<SavedTensorHooks> hooks) {
  EMBER_CHECK(!released_,
              "Calling register_hooks on a saved tensor after it has been freed. Saved intermediate values of the "
              "graph are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if you need "
              "to backward through the graph a second time or if you need to access saved values after calling "
              "backward.");
  EMBER_CHECK(was_defined_, "Calling register_hooks on a saved tensor whose value is None is not allowed");
  EMBER_CHECK(!hooks_,
              "Calling register_hooks on a saved tensor after it has been freed or after hooks have already been set "
              "is not allowed");
  const uint32_t version = data_->version();
  {
    NoGradGuard no_grad;
    packed_ = hooks->pack(data_);
  }
  EMBER_CHECK(data_->version() == version,
              "A saved tensor pack hook is modifying its input in place. Tensors provided as input to pack hook can "
              "not be modified by in-place operations as this can lead to unexpected side-effects. Please open an "
              "issue if you need to perform in-place operations on the input to a pack hook.");
  hooks_ = std::move(hooks);
  save_history(data_);
  data_.reset();
}

void SavedVariable::save_history(const Tensor& t) {
  if (is_output_ || !t->requires_grad()) return;  // an output gets its owner back at unpack
  if (t->is_leaf()) {
    grad_accumulator_ = gradient_edge(t).fn;
    leaf_requires_grad_ = true;
  } else {
    grad_fn_ = t->grad_fn();
    output_nr_ = t->autograd()->output_nr;
  }
}

void throw_saved_tensors_freed() {
  EMBER_FAIL(Runtime,
             "Trying to backward through the graph a second time (or directly access saved tensors after "
             "they have already been freed). Saved intermediate values of the graph are freed when you call "
             ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
             "graph a second time or if you need to access saved tensors after calling backward.");
}

Tensor SavedVariable::unpack(const std::shared_ptr<Node>& owner) const {
  if (released_) throw_saved_tensors_freed();
  if (!was_defined_) return Tensor();
  if (hooks_) {
    Tensor unpacked = hooks_->unpack(packed_);
    // What unpack returned keeps its values, not its own history: it takes the saved tensor's.
    if (is_output_ && (!GradMode::is_enabled() || !owner)) return unpacked;
    if (!is_output_ && !grad_fn_ && !leaf_requires_grad_ && !unpacked->requires_grad()) return unpacked;
    Tensor t = make_view(unpacked, unpacked->sizes(), unpacked->strides(), unpacked->offset());
    if (is_output_ || grad_fn_) {
      auto& meta = t->autograd_mut();
      meta.grad_fn = is_output_ ? owner : grad_fn_;
      meta.output_nr = output_nr_;
    } else if (leaf_requires_grad_) {
      auto& meta = t->autograd_mut();
      meta.requires_grad = true;
      meta.grad_accumulator = grad_accumulator_;
    }
    return t;
  }
  if (data_->version() != saved_version_) {
    std::string producer;
    if (is_output_ && owner)
      producer = detail::cat(", which is output ", output_nr_, " of ", owner->name(), ",");
    else if (data_->grad_fn())
      producer = detail::cat(", which is output ", data_->autograd()->output_nr, " of ", data_->grad_fn()->name(), ",");
    EMBER_FAIL(
        Runtime,
        "one of the variables needed for gradient computation has been modified by an inplace operation: [ember.",
        legacy_type_name(data_->dtype()), " ", detail::cat(data_->sizes()), "]", producer, " is at version ",
        data_->version(), "; expected version ", saved_version_,
        " instead. Hint: the in-place change happened between the forward pass and backward(); "
        "use an out-of-place op (e.g. x = x + 1 instead of x += 1) or .clone() the tensor first.");
  }
  EMBER_CHECK(!had_history_ || data_->grad_fn(),
              "Trying to use a saved tensor that has been detached in-place, i.e. with .detach_().This is not "
              "supported, please use out-of-place `.detach()` instead");
  if (!is_output_ || !GradMode::is_enabled() || !owner) return data_;
  // create_graph: the output must again be a differentiable function of its inputs.
  Tensor t = make_view(data_, data_->sizes(), data_->strides(), data_->offset());
  auto& meta = t->autograd_mut();
  meta.grad_fn = owner;
  meta.output_nr = output_nr_;
  return t;
}

}  // namespace ember
