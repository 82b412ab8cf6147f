#include "autograd/saved_variable.h"

#include "autograd/grad_mode.h"
#include "autograd/meta.h"

namespace ember {

SavedVariable::SavedVariable(const Tensor& t, bool is_output) {
  if (!t) return;
  was_defined_ = true;
  is_output_ = is_output;
  saved_version_ = t->version();
  if (is_output) {
    output_nr_ = t->autograd() ? t->autograd()->output_nr : 0;
    data_ = make_view(t, t->sizes(), t->strides(), t->offset());
  } else {
    data_ = t;
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
  if (!is_output_ || !GradMode::is_enabled() || !owner) return data_;
  // create_graph: the output must again be a differentiable function of its inputs.
  Tensor t = make_view(data_, data_->sizes(), data_->strides(), data_->offset());
  auto& meta = t->autograd_mut();
  meta.grad_fn = owner;
  meta.output_nr = output_nr_;
  return t;
}

}  // namespace ember
