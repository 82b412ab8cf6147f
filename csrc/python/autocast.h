#pragma once
// Note [Autocast]
// ember.autocast("cpu", dtype=bfloat16) runs the products and convolutions
// PyTorch's CPU autocast lists (matmul, mm, bmm, addmm, baddbmm, addbmm,
// conv2d, ...) in the lower dtype: the registry's call wrapper (Profiled,
// registry.h) casts their float32 tensor arguments first, so the result has
// PyTorch's dtype. Ops PyTorch keeps in float32 under autocast (prod, cdist,
// trace, ...) get half-float arguments widened back. The state is per thread,
// as PyTorch's; while no thread has autocast on, the wrapper pays one relaxed
// atomic load. Backward formulas call ops in C++, past the wrapper, so a
// backward pass keeps the dtypes its forward pass had. autocast("cuda") has a
// state of its own (float16 by default) and PyTorch's CUDA lists, which are
// longer (softmax, log_softmax, sums, exp/log and the losses run in float32;
// binary_cross_entropy is refused as unsafe): each op has a policy per device
// type, and each state casts only the tensors of its device. Losses and
// distances written in Python get the same treatment from _autocast.py.
#include <atomic>
#include <optional>
#include <type_traits>
#include <utility>

#include "core/dtype.h"
#include "ops/ops.h"
#include "python/bindings.h"

namespace ember {
namespace bind {
namespace autocast {

enum class Policy : unsigned char { None, Lower, Float32, Banned };
// An op's policy under CPU autocast and under CUDA autocast.
struct Policies {
  Policy cpu = Policy::None, cuda = Policy::None;
  bool any() const { return cpu != Policy::None || cuda != Policy::None; }
};

struct State {
  bool enabled = false;
  DType dtype = DType::BFloat16;
  // autocast("cuda"): the same lists, applied to CUDA tensors (PyTorch's CUDA lists are longer)
  bool cuda_enabled = false;
  DType cuda_dtype = DType::Float16;
  bool any() const { return enabled || cuda_enabled; }
};

extern std::atomic<int> g_threads_on;  // threads whose autocast is on
State& state();                        // this thread's
inline bool active() { return g_threads_on.load(std::memory_order_relaxed) > 0 && state().any(); }

// The policies of a registered op, by name (PyTorch's CPU and CUDA autocast lists).
Policies policy_of(const char* name);

// PyTorch's refusal of binary_cross_entropy under CUDA autocast.
[[noreturn]] void refuse_unsafe();

inline Tensor cast_tensor(const Tensor& t, Policies policies, const char* op) {
  if (!t) return t;
  const State& s = state();
  const bool cuda = t->device().type == DeviceType::CUDA;
  if (!(cuda ? s.cuda_enabled : s.enabled && t->device().is_cpu())) return t;
  const Policy policy = cuda ? policies.cuda : policies.cpu;
  if (policy == Policy::Banned) refuse_unsafe();
  const DType lower = cuda ? s.cuda_dtype : s.dtype;
  // PyTorch's cached_cast: every floating dtype but float64 (a bfloat16 input under float16 autocast too)
  if (policy == Policy::Lower && is_floating(t->dtype()) && t->dtype() != DType::Float64 && t->dtype() != lower)
    return to_dtype(t, lower);
  if (policy == Policy::Float32 && (t->dtype() == DType::Float16 || t->dtype() == DType::BFloat16))
    return to_dtype(t, DType::Float32);
  return t;
}

// An argument declared as A (a parameter of the op's functor) as the policy
// wants it: a float tensor cast; anything else, and a tensor the op writes
// through a non-const reference, passed on unchanged.
template <class A>
decltype(auto) cast_arg(std::remove_reference_t<A>& a, Policies policies, const char* op) {
  using U = std::decay_t<A>;
  constexpr bool mutable_ref = std::is_lvalue_reference_v<A> && !std::is_const_v<std::remove_reference_t<A>>;
  if constexpr (std::is_same_v<U, Tensor> && !mutable_ref) {
    return cast_tensor(a, policies, op);
  } else if constexpr (std::is_same_v<U, std::optional<Tensor>> && !mutable_ref) {  // conv2d's bias
    return a ? std::optional<Tensor>(cast_tensor(*a, policies, op)) : a;
  } else if constexpr (std::is_base_of_v<py::object, U> && !mutable_ref) {
    if (!py::isinstance<TensorImpl>(a)) return U(a);  // a number: promotion does the rest
    return py::reinterpret_steal<U>(py::cast(cast_tensor(a.template cast<Tensor>(), policies, op)).release());
  } else {
    return std::forward<A>(a);
  }
}

// Binds _C._autocast_state() and _C._set_autocast_state(enabled, dtype).
void install(py::module_& m);

}  // namespace autocast
}  // namespace bind
}  // namespace ember
