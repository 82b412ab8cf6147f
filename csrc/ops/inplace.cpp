// Note [In-place ops]
// Without autograd recording, an in-place op runs its kernel straight into
// self. With it, the op is computed out of place from an alias of self that
// carries self's old history (a copy when the formula needs self's old
// values), written into self, and self takes over the new node as its grad_fn
// ("rebasing" its history), so gradients flow through the in-place op.
// Note [In-place on views]: an in-place op on a view also rewrites its base's
// history: the base becomes CopySlices(old base, new view values), and the
// view becomes an as_strided view of the new base. Views of the base made
// before the in-place op keep their old history (PyTorch regenerates those).
#include <algorithm>

#include "core/cuda.h"
#include "kernels/cpu/elementwise.h"
#include "ops/binary.h"
#include "ops/op_node.h"

namespace ember {

static bool can_cast(DType from, DType to) { return dtype_category(from) <= dtype_category(to); }

// Note [View creation]: PyTorch's refusals, in its words.
// The custom Function whose output `self` is, for messages (its node's name without "Backward").
static std::string function_name(const TensorImpl& self) {
  return self.grad_fn() ? forward_op_name(*self.grad_fn()) : std::string("a custom Function");
}

void check_view_creation(const TensorImpl& self) {
  using VC = TensorImpl::ViewCreation;
  switch (self.view_creation) {
    case VC::Default: return;
    case VC::NoGradMode:
    case VC::InferenceMode: throw_view_made_without_grad_modified(self, /*indirect=*/false);
    case VC::MultiOutput:
      EMBER_FAIL(Runtime, "Output ", self.view_output_nr, " of ",
                 self.view_creator ? self.view_creator : function_name(self),
                 " is a view and is being modified inplace. This view is the output of a function that "
                 "returns multiple views. Such functions do not allow the output views to be modified inplace. You "
                 "should replace the inplace operation by an out-of-place one.");
    case VC::CustomFunction: {
      EMBER_FAIL(Runtime, "Output ", self.view_output_nr, " of ", function_name(self),
                 " is a view and is being modified inplace. This view was created inside a custom Function (or "
                 "because an input was returned as-is) and the autograd logic to handle view+inplace would override "
                 "the custom backward associated with the custom Function, leading to incorrect gradients. This "
                 "behavior is forbidden. You can fix this by cloning the output of the custom Function.");
    }
  }
}

// Inference tensors are written only inside inference_mode (PyTorch's rule).
static void check_inference_write(const Tensor& self) {
  EMBER_CHECK(!self->is_inference || GradMode::is_inference(),
              "Inplace update to inference tensor outside InferenceMode is not allowed.You can make a clone to get a "
              "normal tensor before doing inplace update.See https://github.com/pytorch/rfcs/pull/17 for more "
              "details.");
}

void check_inplace(const Tensor& self, const char* op, bool records_grad) {
  check_inference_write(self);
  if (!records_grad) return;
  if (self->view_base) check_view_creation(*self);
  if (self->view_base && self->view_base->is_leaf() && self->view_base->requires_grad())
    EMBER_FAIL(Runtime, "a view of a leaf Variable that requires grad is being used in an in-place operation.");
  if (self->is_leaf() && self->requires_grad())
    EMBER_FAIL(Runtime, "a leaf Variable that requires grad is being used in an in-place operation.");
  if (self->view_base) {  // a dense base of any strides works (region_put in its layout); a sparser one not yet
    EMBER_CHECK_KIND(non_overlapping_and_dense(*self->view_base), NotImplemented, op,
                     ": in-place operation on a view of a non-contiguous tensor that takes part in autograd is not "
                     "supported by ember yet; use the out-of-place op (e.g. y = y * 2) or .clone() the base first");
  }
}

// Note [Memory overlap]
void check_no_internal_overlap(const Tensor& self) {
  EMBER_CHECK(!has_internal_overlap(*self),
              "unsupported operation: more than one element of the written-to tensor refers to a single memory "
              "location. Please clone() the tensor before performing the operation.");
}
void check_no_partial_overlap(const Tensor& self, const Tensor& input) {
  EMBER_CHECK(!partially_overlaps(*self, *input),
              "unsupported operation: some elements of the input tensor and the written-to tensor refer to a single "
              "memory location. Please clone() the tensor before performing the operation.");
}

static void check_result_dtype(const Tensor& self, DType result, const char* op) {
  if (!can_cast(result, self->dtype()))
    EMBER_FAIL(Runtime, op, ": result type ", scalar_type_name(result), " can't be cast to the desired output type ",
               scalar_type_name(self->dtype()));
}

static void check_inplace_shape(const Tensor& self, const Tensor& other, const char* op) {
  Shape b = broadcast_shapes(self->sizes(), other->sizes());
  EMBER_CHECK(b == self->sizes(), op, ": output with shape ", detail::cat(self->sizes()),
              " doesn't match the broadcast shape ", detail::cat(b));
}

// Self's values under self's current history (Note [In-place ops]).
static Tensor history_alias(const Tensor& self, bool copy_values) {
  Tensor alias;
  if (copy_values) {
    alias = empty(self->sizes(), self->dtype());
    kernels::copy(alias, self);
  } else {
    alias = make_view(self, self->sizes(), self->strides(), self->offset());
  }
  if (auto* meta = self->autograd()) {
    auto& m = alias->autograd_mut();
    m.grad_fn = meta->grad_fn;
    m.output_nr = meta->output_nr;
    m.requires_grad = meta->requires_grad;
  }
  return alias;
}

// The base of view `self` takes over the in-place result (Note [In-place on views]).
static void rebase_view(const Tensor& self, const Tensor& result) {
  Tensor base = self->view_base;
  Tensor new_base =
      region_put(history_alias(base, false), result, self->sizes(), self->strides(), self->offset() - base->offset(),
                 /*in_base_layout=*/!base->is_contiguous());
  rebase_history(base, new_base->autograd()->grad_fn, new_base->autograd()->output_nr);
  Tensor v = as_strided(base, self->sizes(), self->strides(), self->offset());
  rebase_history(self, v->autograd()->grad_fn, v->autograd()->output_nr);
}

void rebase_inplace(const Tensor& self, const Tensor& result) {
  auto* rm = result->autograd();
  if (!rm || !rm->grad_fn) return;
  if (self->view_base) {
    // PyTorch's CopySlices bypasses the view's old node, so tensor hooks registered on the view
    // before the in-place op never run; ember's CopySlices reaches that node: drop them there.
    if (auto* m = self->autograd(); m && m->grad_fn) {
      auto& hooks = m->grad_fn->pre_hooks;
      hooks.erase(std::remove_if(hooks.begin(), hooks.end(), [&](auto& h) { return h.output_nr == m->output_nr; }),
                  hooks.end());
    }
    rebase_view(self, result);
  } else {
    rebase_history(self, rm->grad_fn, rm->output_nr);
  }
}

Tensor& commit_inplace(Tensor& self, const Tensor& result) {
  kernels::copy(self, result);
  self->bump_version();
  rebase_inplace(self, result);
  return self;
}

// Runs `op` in place. `fast` writes into self directly; `recorded` computes the
// differentiable result from self's history alias.
template <class Fast, class Recorded>
static Tensor& inplace(Tensor& self, const Tensor* other, const char* name, bool saves_self, Fast fast,
                       Recorded recorded) {
  bool records = other ? any_requires_grad({&self, other}) : any_requires_grad({&self});
  check_inplace(self, name, records);
  if (!records) {
    fast();
    self->bump_version();
    return self;
  }
  return commit_inplace(self, recorded(history_alias(self, saves_self)));
}

static Tensor& binary_inplace(Tensor& self, const Tensor& other, kernels::BinaryOp op, const char* name,
                              bool saves_self, Tensor (*fn)(const Tensor&, const Tensor&)) {
  DType rt = op == kernels::BinaryOp::Div && !is_floating(result_type(self, other)) ? default_float()
                                                                                    : result_type(self, other);
  check_result_dtype(self, rt, name);
  check_operand_device(*self, *other);
  check_inplace_shape(self, other, name);
  check_no_internal_overlap(self);
  check_no_partial_overlap(self, other);
  return inplace(
      self, &other, name, saves_self,
      [&] {
        if (rt == self->dtype()) {
          kernels::binary(op, self, self, binary_operand(op, other, rt));
        } else {
          Tensor tmp = empty(self->sizes(), rt);
          kernels::binary(op, tmp, cast_for_kernel(self, rt), binary_operand(op, other, rt));
          kernels::copy(self, tmp);
        }
      },
      [&](const Tensor& s) { return fn(s, other); });
}

static void check_result_shape(const Tensor& self, const Tensor& result, const char* op) {
  EMBER_CHECK(result->sizes() == self->sizes(), op, ": output with shape ", detail::cat(self->sizes()),
              " doesn't match the broadcast shape ", detail::cat(result->sizes()));
}

Tensor& apply_inplace(Tensor& self, bool records, const char* op, const std::function<Tensor(const Tensor&)>& compute) {
  check_inplace(self, op, records);
  check_no_internal_overlap(self);  // the result is computed apart, then copied: inputs may overlap self
  if (!records) {
    Tensor result;
    {
      NoGradGuard no_grad;
      result = compute(self);
    }
    check_result_dtype(self, result->dtype(), op);
    check_result_shape(self, result, op);
    kernels::copy(self, result);
    self->bump_version();
    return self;
  }
  // The formula may save self's old values: it gets a copy (Note [In-place ops]).
  Tensor result = compute(history_alias(self, true));
  check_result_dtype(self, result->dtype(), op);
  check_result_shape(self, result, op);
  return commit_inplace(self, result);
}

Tensor& copy_to_out(Tensor& out, const Tensor& result, const char* op) {
  EMBER_CHECK(!GradMode::is_enabled() || !(result->requires_grad() || out->requires_grad()), op,
              "(): functions with out=... arguments don't support automatic differentiation, but one of the "
              "arguments requires grad.");
  check_inference_write(out);
  check_result_dtype(out, result->dtype(), op);
  check_no_internal_overlap(out);
  if (out->sizes() != result->sizes()) {
    EMBER_CHECK(!out->view_base, op, "(): the out= tensor of shape ", detail::cat(out->sizes()),
                " is a view and cannot be resized to the result's shape ", detail::cat(result->sizes()));
    Tensor fresh = empty(result->sizes(), out->dtype());
    out->set_data(*fresh);
  }
  kernels::copy(out, result);
  out->bump_version();
  return out;
}

Tensor& add_(Tensor& self, const Tensor& other, double alpha) {
  // mul records a node only when `other` requires grad, so alpha's gradient is right either way.
  if (alpha != 1.0) {
    check_no_partial_overlap(self, other);  // the product below is a copy: check what add_ would have read
    // scaled in the dtype the sum computes in: a bfloat16 `other` on a float32 tensor is not rounded first
    const DType compute = result_type(self, other);
    check_value_fits(alpha, compute);  // Note [Scalar overflow]
    if (is_half_float(compute)) {      // Note [Half-float arithmetic]: a float32 sum, rounded once into self
      return add_(self, mul(widened_half(other), wrapped_scalar(rounded_alpha(alpha, compute), DType::Float64)), 1.0);
    }
    const bool widen = other->dtype() != compute && !other->is_wrapped_number && is_floating(compute);
    return add_(self, mul(widen ? to_dtype(other, compute) : other, alpha_scalar(other, alpha)), 1.0);
  }
  return binary_inplace(self, other, kernels::BinaryOp::Add, "add_", false,
                        [](const Tensor& a, const Tensor& b) { return add(a, b); });
}
Tensor& sub_(Tensor& self, const Tensor& other, double alpha) {
  check_sub_operands(self, other);
  if (alpha != 1.0) return add_(self, other, -alpha);
  return binary_inplace(self, other, kernels::BinaryOp::Sub, "sub_", false,
                        [](const Tensor& a, const Tensor& b) { return sub(a, b); });
}
Tensor& mul_(Tensor& self, const Tensor& other) {
  return binary_inplace(self, other, kernels::BinaryOp::Mul, "mul_", true,
                        [](const Tensor& a, const Tensor& b) { return mul(a, b); });
}
Tensor& div_(Tensor& self, const Tensor& other) {
  return binary_inplace(self, other, kernels::BinaryOp::Div, "div_", true,
                        [](const Tensor& a, const Tensor& b) { return div(a, b); });
}
Tensor& pow_(Tensor& self, const Tensor& other) {
  if (result_type(self, other) == DType::Bool && other->is_wrapped_number) return copy_(self, pow(self, other));
  return binary_inplace(self, other, kernels::BinaryOp::Pow, "pow_", true,
                        [](const Tensor& a, const Tensor& b) { return pow(a, b); });
}

namespace {  // a State is private to its op's file (Note [Node state])
struct OverwriteState {
  Shape value_sizes;
  DType value_dtype = DType::Float32;
  Device value_device;  // copy_ from another device: the gradient goes back there
  void fields(StateFields& f) const { f.add("src_sym_sizes", value_sizes); }
};
}  // namespace

// fill_, zero_ and copy_ under autograd: self's values replaced by `value`
// (broadcast and cast to self's dtype). The old values get a zero gradient,
// `value` the gradient summed back to its shape, as PyTorch's FillBackward,
// ZeroBackward0 and CopyBackwards.
static Tensor overwrite(const Tensor& self, const Tensor& value, const char* name) {
  Tensor out = empty(self->sizes(), self->dtype());
  kernels::copy(out, value);
  auto n = make_node<OverwriteState>(name, {&self, &value}, [](auto& n, variable_list& g) -> variable_list {
    if (!n.needs(1)) return {n.needs(0) ? zeros_like(g[0]) : Tensor(), Tensor()};
    Tensor gv = sum_to(to_dtype(g[0], n.state.value_dtype), n.state.value_sizes);
    return {n.needs(0) ? zeros_like(g[0]) : Tensor(), moved_to(gv, n.state.value_device)};
  });
  if (n) n->state = {value->sizes(), value->dtype(), value->device()};
  return attach(n, out);
}

Tensor& fill_(Tensor& self, const Tensor& value) {
  EMBER_CHECK(value->dim() == 0, "fill_ only supports 0-dimension value tensor but got tensor with ", value->dim(),
              " dimensions.");
  check_value_fits(value, self->dtype());  // Note [Scalar overflow]
  // an integer fills an integer tensor exactly (a double holds int64 values only up to 2**53)
  const bool exact =
      is_integral(value->dtype(), false) && is_integral(self->dtype(), false) && value->device() == self->device();
  return inplace(
      self, &value, "fill_", false,
      [&] { exact ? kernels::copy(self, value) : kernels::fill(self, item_as_double(value)); },
      [&](const Tensor& s) {
        return overwrite(s, value, value->is_wrapped_number ? "FillBackward2" : "FillBackward3");
      });
}

Tensor& zero_(Tensor& self) {
  return inplace(
      self, nullptr, "zero_", false, [&] { kernels::fill(self, 0.0); },
      [&](const Tensor& s) { return overwrite(s, wrapped_scalar(0.0, self->dtype()), "ZeroBackward0"); });
}

Tensor& copy_(Tensor& self, const Tensor& src) {
  check_inplace_shape(self, src, "copy_");
  if (self.get() == src.get()) {  // a no-op, after the checks every in-place op makes
    check_inplace(self, "copy_", any_requires_grad({&self}));
    return self;
  }
  check_no_internal_overlap(self);
  check_no_partial_overlap(self, src);
  return inplace(
      self, &src, "copy_", false, [&] { kernels::copy(self, src); },
      [&](const Tensor& s) { return overwrite(s, src, "CopyBackwards"); });
}

}  // namespace ember
