#pragma once
// Note [Torch function dispatch]
// PyTorch calls `__torch_function__` of a Tensor subclass (and of any object
// whose type defines one) for every op it takes part in, and the method of
// the innermost TorchFunctionMode for every op while modes are on; plain
// Tensor and types that opted out (nn.Parameter sets
// `__torch_function__ = _disabled_torch_function_impl`) are left alone.
// ember does the same for every registry op (Note [Op registry]) without a
// cost on the plain path:
//  - the Tensor caster (common.h) marks the thread when it loads an object
//    whose type overrides `__torch_function__` (one type compare for a plain
//    tensor);
//  - the registry's call wrapper (Profiled, registry.h) reads that mark and
//    the mode depth (one thread-local load); when either is set it checks
//    the call's own arguments (a mark can be left by a call that never
//    reached a registry op) and then refuses the call the way a BatchedTensor
//    argument is refused (Note [Batched dispatch]): pybind11 goes on to the
//    catch-all overload, which hands the original Python arguments to the
//    hook ember.overrides installs; that runs handle_torch_function, with the
//    public function (ember.add) or method (Tensor.add) as `func`.
// Non-Tensor objects with `__torch_function__` reach the catch-all anyway,
// since no typed overload accepts them. DisableTorchFunctionSubclass and
// DisableTorchFunction set this thread's level, read before any mark is
// made. The default Tensor.__torch_function__ (python/ember/overrides.py)
// runs the op with subclasses disabled and makes tensor results instances of
// the subclass with as_subclass, which is AliasBackward0 when the result
// requires grad, as in PyTorch.
#include <atomic>
#include <optional>
#include <type_traits>
#include <vector>

#include "python/common.h"

namespace ember {
namespace bind {
namespace torch_function {

enum Level : int { kEnabled = 0, kSubclassesDisabled = 1, kAllDisabled = 2 };

// This thread's state. Trivially constructed, so reading it is one TLS access.
struct ThreadState {
  bool subclass_arg = false;  // the Tensor caster loaded an object whose type overrides __torch_function__
  bool redirected = false;    // a registry op refused its call for dispatch; read by the catch-all
  int level = kEnabled;
  int mode_depth = 0;  // TorchFunctionModes entered on this thread
};
inline thread_local ThreadState t_state;
// Set for good once any thread marks a call or enters a mode: until then a registry call on tensors
// reads no thread state at all (a relaxed load of this, as the profiler's switch).
inline std::atomic<bool> g_armed{false};

// Whether this thread's TorchFunctionModes take its calls (DisableTorchFunction turns them off too).
inline bool modes_on(const ThreadState& s) { return s.mode_depth > 0 && s.level < kAllDisabled; }

// A hook ember.overrides hands over, kept (a strong reference) for the module's life in `slot`.
inline void keep_hook(PyObject*& slot, py::object hook) {
  Py_XDECREF(slot);
  slot = hook.release().ptr();
}

// Whether objects of `type` dispatch: it has a __torch_function__ that is not the opt-out one.
// (Called for types other than Tensor itself, whose own default never runs for a plain tensor.)
bool type_overrides(PyTypeObject* type);
// Whether `obj` takes part in dispatch: not a plain tensor, number or None, and its type (or, for a
// list or tuple, an element's) overrides __torch_function__.
bool object_overrides(PyObject* obj);
// Whether the Python object of a C++ tensor argument is of a dispatching subclass.
bool tensor_overrides(const TensorImpl* t);
// Whether the op `name` (an interned name) has a catch-all overload to refuse a call to: every
// registry op, indexing, and the private bindings _add_catch_all_overloads gave one.
bool has_catch_all(const char* name);
void add_catch_all(const char* name);

template <class T>
bool arg_overrides(const T& a) {
  using U = std::decay_t<T>;
  if constexpr (std::is_same_v<U, Tensor>)
    return a && tensor_overrides(a.get());
  else if constexpr (std::is_same_v<U, TensorList>) {
    for (auto& t : a)
      if (t && tensor_overrides(t.get())) return true;
    return false;
  } else if constexpr (std::is_same_v<U, std::optional<Tensor>>)
    return a && *a && tensor_overrides(a->get());
  else if constexpr (std::is_base_of_v<py::handle, U>)
    return object_overrides(a.ptr());
  else
    return false;
}

template <class T>
constexpr bool is_object_arg = std::is_base_of_v<py::handle, std::decay_t<T>>;

// Whether a registry op's call goes to __torch_function__ instead (Note [Torch function dispatch]).
// Arguments taken as Python objects were not seen by the Tensor caster: they are checked by type.
template <class... A>
bool redirects(const char* name, const A&... a) {
  bool object_args = false;
  if constexpr ((is_object_arg<A> || ...)) {
    object_args = ((is_object_arg<A> && arg_overrides(a)) || ...) && t_state.level == kEnabled;
  } else {
    if (!g_armed.load(std::memory_order_relaxed)) return false;
  }
  ThreadState& s = t_state;
  if (!s.subclass_arg && !object_args && s.mode_depth == 0) return false;
  s.subclass_arg = false;
  if (!modes_on(s) && !object_args && !(s.level == kEnabled && (arg_overrides(a) || ...))) return false;
  if (!has_catch_all(name)) return false;  // a private binding without one: runs as is
  s.redirected = true;
  return true;
}

// The catch-all overload's part (registry.cpp): the hook's answer to a call, or NotImplemented.
py::object dispatch(const char* name, bool method, const py::args& args, const py::kwargs& kwargs);
// Whether the hook's answer says no handler implements an operator (a + b): the operator then
// returns NotImplemented to Python, which tries the other operand's reflected one, as PyTorch's do.
bool operator_refused(const py::object& answer);
// Binds the hook's setter, the levels, the mode depth, _disabled_torch_function_impl and _as_subclass.
void install(py::module_& m, py::handle tensor_class);
// Binds DispatchingFunction, _dispatching_function and its hook's setter (Note [Python functions dispatch]).
void install_dispatching_function(py::module_& m);

}  // namespace torch_function
}  // namespace bind
}  // namespace ember
