#include "kernels/cpu/elementwise.h"
#include "ops/op_node.h"

namespace ember {

// A same-valued tensor of `dtype` outside autograd (for kernel inputs).
Tensor cast_for_kernel(const Tensor& t, DType dtype) {
  if (t->dtype() == dtype) return t;
  Tensor out = empty(t->sizes(), dtype);
  kernels::copy(out, t);
  out->is_wrapped_number = t->is_wrapped_number;
  return out;
}

Tensor clone(const Tensor& t) {
  Tensor out = empty(t->sizes(), t->dtype());
  kernels::copy(out, t);
  auto node = make_node("CloneBackward0", {&t}, [](auto&, variable_list& g) -> variable_list { return {g[0]}; });
  return attach(node, out);
}

Tensor contiguous(const Tensor& t) { return t->is_contiguous() ? t : clone(t); }

namespace {  // a State is private to its op's file (Note [Node state])

struct ToCopyState {
  DType self_dtype = kDefaultFloat;
  void fields(StateFields& f) const { f.add("self_dtype", self_dtype); }
};
}  // namespace

Tensor to_dtype(const Tensor& t, DType dtype) {
  if (t->dtype() == dtype) return t;
  Tensor out = cast_for_kernel(t, dtype);
  out->is_wrapped_number = false;
  if (!is_floating(dtype)) return out;  // integer results are never differentiable
  auto node = make_node<ToCopyState>("ToCopyBackward0", {&t}, [](auto& n, variable_list& g) -> variable_list {
    return {to_dtype(g[0], n.state.self_dtype)};
  });
  if (node) node->state.self_dtype = t->dtype();
  return attach(node, out);
}

Tensor detach(const Tensor& t) { return make_view(t, t->sizes(), t->strides(), t->offset()); }

}  // namespace ember
