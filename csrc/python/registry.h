#pragma once
#include <deque>
// Note [Op registry]
// Every op Python can reach is one registry entry, in the binding file of its
// family (ops_math.cpp, ops_reduce.cpp, ...):
//
//   r.op("exp", kFunction | kMethod | kInPlace | kOut, "Returns e raised to each element of input.",
//        [](const Tensor& t) { return exp(t); });
//
// From that one entry come: the function ember.exp(input) (first parameter
// named `input`), the method Tensor.exp(), the in-place method Tensor.exp_()
// (the op computed as usual, then written into self: Note [In-place ops]), the
// `out=` keyword of the function, the docstring with a signature `inspect`
// reads, and the row of `_C._op_registry()`, from which ember/__init__.py
// exports the functions (`_C.__all__`), tools/gen_docs.py writes docs/ops.md,
// and tests/test_registry.py checks that each op is exported, documented and
// gradient-checked (tests/op_db.py). An op with its own in-place kernel
// registers it with r.inplace(); names PyTorch also accepts with r.alias().
#include <atomic>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "autograd/grad_mode.h"
#include "core/cuda.h"
#include "core/profiler.h"
#include "ops/op_node.h"
#include "python/autocast.h"
#include "python/bindings.h"
#include "python/host_fallback.h"
#include "python/torch_function.h"

namespace ember {
namespace bind {

enum Form : unsigned {
  kFunction = 1,  // ember.<name>(input, ...)
  kMethod = 2,    // Tensor.<name>(...)
  kInPlace = 4,   // Tensor.<name>_(...)
  kOut = 8,       // ember.<name>(..., out=tensor)
  kNoGrad = 16,   // its results never require grad (comparisons, argmax, ...)
};
constexpr unsigned kAll = kFunction | kMethod | kInPlace | kOut;

struct OpInfo {
  std::string name, family, doc;
  unsigned forms = 0;
  std::vector<std::string> aliases;
};

// out=: checks, resizes `out` to the result's shape (warning when it had
// elements, as PyTorch) and copies the result into it; returns `out`.
Tensor write_out(py::handle out, const Tensor& result, const char* op);
// out= of an op returning a (named) tuple of tensors (sort, max(dim), ...): `out` a tuple of as many
// tensors, each written as write_out does; returns the result's tuple type holding the out tensors.
py::object write_out_tuple(py::handle out, const py::object& result, const char* op);

// Whether a Python argument of an op is a tensor that requires grad (decides
// whether an in-place op records a node).
template <class T>
bool arg_requires_grad(const T& a) {
  using U = std::decay_t<T>;
  if constexpr (std::is_same_v<U, Tensor>)
    return a && a->requires_grad();
  else if constexpr (std::is_same_v<U, TensorList>) {
    for (auto& t : a)
      if (arg_requires_grad(t)) return true;
    return false;
  } else if constexpr (std::is_base_of_v<py::handle, U>)
    return is_tensor(a) && a.template cast<Tensor>()->requires_grad();
  else
    return false;
}

// An argument's entry in a profiler event's input shapes: a tensor's sizes,
// [] for anything else (as PyTorch's "Input Shapes" column).
template <class T>
std::vector<int64_t> profiled_shape(const T& a) {
  using U = std::decay_t<T>;
  if constexpr (std::is_same_v<U, Tensor>)
    return a ? std::vector<int64_t>(a->sizes().begin(), a->sizes().end()) : std::vector<int64_t>();
  else if constexpr (std::is_base_of_v<py::handle, U>)
    return is_tensor(a) ? profiled_shape(a.template cast<Tensor>()) : std::vector<int64_t>();
  else
    return {};
}

// Note [Batched dispatch]
// ember.func.vmap passes BatchedTensors (python/ember/func/_vmap.py): Python
// objects, not tensors, that stand for one tensor per batch entry. No op's
// compiled code knows them. Every registered function and method ends its
// overload set with a catch-all (*args, **kwargs) overload, added last by
// publish(), that hands the call to the batching hook vmap installs; the
// hook applies the op's batching rule, or answers NotImplemented, and the
// catch-all then raises reference_cast_error, which pybind11 reads as "no
// match here": the usual "incompatible function arguments" TypeError. A
// Tensor parameter refuses a BatchedTensor before any op runs; a parameter
// taking any object (a number or a tensor) would accept it, so while a vmap
// runs the Profiled wrapper refuses such a call the same way. Outside vmap
// this costs one relaxed atomic load per call.
namespace batching {
extern std::atomic<bool> g_active;
inline bool active() { return g_active.load(std::memory_order_relaxed); }
// Whether `h`, or an element of `h` when it is a tuple or list, is a BatchedTensor.
bool holds_batched(py::handle h);
// The catch-all overload's body: the hook's answer, or reference_cast_error.
py::object dispatch(const char* name, bool method, const py::args& args, const py::kwargs& kwargs);
// Binds _C._set_batching_hook and _C._set_batching_active.
void install(py::module_& m);
}  // namespace batching

// The first tensor argument of a call (Note [Op device]).
template <class T>
void first_tensor(const T& a, const TensorImpl*& first) {
  if constexpr (std::is_same_v<std::decay_t<T>, Tensor>) {
    if (!first && a) first = a.get();
  } else if constexpr (std::is_same_v<std::decay_t<T>, TensorList>) {
    if (!first && !a.empty() && a[0]) first = a[0].get();
  } else if constexpr (std::is_base_of_v<py::handle, std::decay_t<T>>) {  // a tensor or a number
    if (!first && is_tensor(a)) {  // not a vmap BatchedTensor, a Python subclass without a C++ tensor
      // (the holder caster itself: no __torch_function__ note for an argument redirects() checked)
      py::detail::copyable_holder_caster<TensorImpl, Tensor> caster;
      if (caster.load(a, false)) first = static_cast<Tensor&>(caster).get();  // a keeps it alive
    }
  }
}

template <class T>
bool batched_arg(const T& a) {
  if constexpr (std::is_base_of_v<py::handle, std::decay_t<T>>)
    return batching::holds_batched(a);
  else
    return false;
}

// An op as the registry binds it: while a profiler session runs, each call
// is an event named after the op (Note [Profiler events]); while a vmap runs,
// a call with a BatchedTensor argument goes to the catch-all overload (Note
// [Batched dispatch]); otherwise the cost is two relaxed atomic loads.
// Functors of one type stay one type, so ops sharing a functor still share
// their compiled dispatcher.
template <class F, class Sig>
struct Profiled;
template <class F, class R, class C, class... A>
struct Profiled<F, R (C::*)(A...) const> {
  F fn;
  const char* name;
  autocast::Policies cast;     // Note [Autocast]
  bool host_fallback = false;  // Note [CUDA host fallback]
  R operator()(A... a) const {
    if (torch_function::redirects(name, a...)) throw py::reference_cast_error();
    try {
      if (cast.any() && autocast::active()) return call(autocast::cast_arg<A>(a, cast, name)...);
      return call(std::forward<A>(a)...);
    } catch (const ArgumentError& e) {  // Note [Argument errors]
      throw Error(ErrorKind::Type, std::string(name) + "(): " + e.what());
    } catch (const py::reference_cast_error&) {
      throw;  // pybind11's "try the next overload"
    } catch (const py::cast_error& e) {
      throw Error(ErrorKind::Type, std::string(name) + "(): " + unsupported_argument_message(e.what()));
    }
  }
  template <class... B>
  R call(B&&... a) const {
    const TensorImpl* first = nullptr;
    (first_tensor(a, first), ...);
    const bool on_cuda = first && first->device().type == DeviceType::CUDA;
    if (!on_cuda && !profiler::active() && !batching::active()) return fn(std::forward<B>(a)...);
    if (batching::active() && (batched_arg(a) || ...)) throw py::reference_cast_error();
    if (on_cuda) return on_device(first->device(), std::forward<B>(a)...);
    if (!profiler::active()) return fn(std::forward<B>(a)...);
    profiler::Scope event(profiler::Kind::Op, name);
    record_shapes(event, a...);
    return fn(std::forward<B>(a)...);
  }
  template <class... B>
  static void record_shapes(const profiler::Scope& event, const B&... a) {
    if (event.handle() >= 0 && profiler::recording_shapes())
      profiler::set_shapes(event.handle(), {profiled_shape(a)...});
  }
  // A call on CUDA tensors: results on their device (Note [Op device]), and the op's name in
  // the error of a kernel ember lacks there (Note [Missing CUDA kernels]).
  // The arguments are passed as lvalues: a host fallback may still need them.
  template <class... B>
  R on_device(Device device, B&&... a) const {
    OpDeviceGuard guard(device);
    try {
      if (profiler::active()) {
        profiler::Scope event(profiler::Kind::Op, name, {}, device.index);  // Note [Profiler device time]
        record_shapes(event, a...);
        return fn(a...);
      }
      return fn(a...);
    } catch (const MissingKernel& missing) {
      // (an op taking Tensor& writes into its argument: never run on a copy)
      if constexpr (host_fallback::returnable<R> &&
                    std::is_invocable_v<const F&, decltype(host_fallback::to_host(std::declval<B&>()))...>) {
        if (host_fallback) {  // Note [CUDA host fallback]
          host_fallback::warn_once(name);
          R result = [&] {
            OpDeviceGuard on_host(Device{});
            return fn(host_fallback::to_host(a)...);
          }();
          return host_fallback::back(result, device);
        }
      } else if constexpr (std::is_same_v<R, Tensor&>) {
        if (host_fallback) return in_place_on_host(a...);
      }
      EMBER_FAIL(NotImplemented, "Could not run '", name, "' with arguments from the 'CUDA' backend: ", missing.detail,
                 "; move its inputs to the CPU with .cpu()");
    }
  }
  // The in-place form of a host-fallback op (x.scatter_reduce_(...)): it writes into a host copy
  // of self, which copy_ then writes back (one in-place write of self for autograd and versions).
  template <class S, class... Rest>
  R in_place_on_host(S& self, Rest&... rest) const {
    if constexpr (std::is_same_v<std::decay_t<S>, Tensor> &&
                  std::is_invocable_v<const F&, Tensor&, decltype(host_fallback::to_host(std::declval<Rest&>()))...>) {
      host_fallback::warn_once(name);
      Tensor host = host_fallback::to_host(self);
      {
        OpDeviceGuard on_host(Device{});
        fn(host, host_fallback::to_host(rest)...);
      }
      return copy_(self, host);
    } else {
      EMBER_FAIL(NotImplemented, "Could not run '", name, "' with arguments from the 'CUDA' backend");
    }
  }
};
// A copy of `name` that lives as long as the module: some ops are registered
// under names built at registration time.
const char* interned_name(const char* name);
// Note [Shared dispatchers]
// pybind11 compiles a dispatcher (argument conversion, call, result
// conversion) for each C++ type it binds, and every lambda is a type of its
// own: with three forms per op (function with out=, method, in-place), the
// binding files compiled for 20-40 s each, most of it in these near-identical
// copies. A lambda without captures is therefore bound through a plain
// function pointer (OpPointer): ops of one signature share one type, so one
// dispatcher per form, whatever the number of ops. The price is an indirect
// call, ~1 ns against pybind11's ~100 ns of argument conversion.
template <class Sig>
struct OpPointer;
template <class R, class... A>
struct OpPointer<R(A...)> {
  R (*fn)(A...);
  R operator()(A... a) const { return fn(std::forward<A>(a)...); }
};
template <class Sig>
struct SignatureOf;
template <class R, class C, class... A>
struct SignatureOf<R (C::*)(A...) const> {
  using type = R(A...);
};
// F as the registry binds it: OpPointer when F has no captures, else F itself.
template <class F>
auto erase_type(F fn) {
  using Sig = typename SignatureOf<decltype(&F::operator())>::type;
  if constexpr (std::is_convertible_v<F, Sig*>)
    return OpPointer<Sig>{static_cast<Sig*>(fn)};
  else
    return fn;
}
template <class F>
Profiled<F, decltype(&F::operator())> profiled(const char* name, F fn) {
  return {std::move(fn), interned_name(name), autocast::policy_of(name), host_fallback::enabled_for(name)};
}

// A private module function taking tensors that is not a registry op (nn.functional's fused
// nodes, torch.special's extras): bound through the same call wrapper, for the profiler, the
// op's device (Note [Op device]) and the missing-kernel error (Note [Missing CUDA kernels]).
template <class F, class... Extra>
void def_private(py::module_& m, const char* name, F fn, const Extra&... extra) {
  if constexpr (std::is_pointer_v<F>)
    m.def(name, profiled(name, OpPointer<std::remove_pointer_t<F>>{fn}), extra...);
  else
    m.def(name, profiled(name, erase_type(std::move(fn))), extra...);
}

// Note [Keyword aliases]
// PyTorch's argument parser also accepts numpy's names: axis= for dim=,
// keepdims= for keepdim=. pybind11 matches keywords by one name, so an op with
// such a parameter gets a second overload whose parameters carry numpy's
// names (same types: the same compiled dispatcher). pybind11 tries it only
// when the first overload does not match, so calls with PyTorch's names pay
// nothing; docs and signatures show the first overload only. A call mixing the
// two (dim= with keepdims=) matches neither: the catch-all retries it with
// PyTorch's names (registry.cpp, retry_with_torch_names).
template <class T>
T with_numpy_names(const T& e, bool& renamed) {
  if constexpr (std::is_base_of_v<py::arg, T>) {
    T copy = e;
    if (std::strcmp(e.name, "dim") == 0) copy.name = "axis", renamed = true;
    if (std::strcmp(e.name, "keepdim") == 0) copy.name = "keepdims", renamed = true;
    return copy;
  } else {
    return e;
  }
}

// An overload set's docstring reduced to its first overload's, so that inspect.signature
// reads it (Note [Keyword aliases]); for methods given a numpy-names overload by hand.
void show_first_overload(PyObject* fn);

class OpRegistry {
 public:
  OpRegistry(py::module_& m, TensorClass& cls) : m_(m), cls_(cls) {}

  // The family (a section of docs/ops.md) of the ops registered next.
  void family(const char* name) { family_ = name; }

  // An op written as fn(const Tensor& self, args...), bound in the given forms.
  template <class F, class... Extra>
  OpRegistry& op(const char* name, unsigned forms, const char* doc, F fn, const Extra&... extra) {
    record(name, forms, doc);
    bind_op(name, forms, doc, erase_type(std::move(fn)), extra...);
    return *this;
  }
  // A function whose parameters are all given in `extra` (its first one is
  // not the tensor: cat(tensors), where(condition, ...), pow(number, tensor)).
  template <class F, class... Extra>
  OpRegistry& function(const char* name, unsigned forms, const char* doc, F fn, const Extra&... extra) {
    record(name, forms | kFunction, doc);
    auto pf = profiled(name, erase_type(std::move(fn)));
    def_function(name, doc, forms & kOut, pf, &decltype(pf)::operator(), extra...);
    return *this;
  }
  // A method only (Tensor.view, Tensor.float, operators such as __add__).
  template <class F, class... Extra>
  OpRegistry& method(const char* name, unsigned forms, const char* doc, F fn, const Extra&... extra) {
    record(name, forms | kMethod, doc);
    def_method(name, doc, profiled(name, erase_type(std::move(fn))), extra...);
    return *this;
  }
  // The in-place method `name`_ of op `name`, with its own implementation.
  template <class F, class... Extra>
  OpRegistry& inplace(const char* name, const char* doc, F fn, const Extra&... extra) {
    record(name, kInPlace, nullptr);
    const char* method = inplace_names_.emplace_back(std::string(name) + "_").c_str();  // lives as long as this
    def_method(method, doc, profiled(method, erase_type(std::move(fn))), extra...);
    return *this;
  }
  // `alias` names the same function, method and in-place method as `target`.
  OpRegistry& alias(const char* alias, const char* target);

  TensorClass& tensor_class() { return cls_; }
  py::module_& module() { return m_; }

  // Adds the catch-all overloads (Note [Batched dispatch]), sets _C.__all__
  // and _C._op_registry() from what was registered.
  void publish(const std::vector<const char*>& extra_exports);

 private:
  void record(const char* name, unsigned forms, const char* doc);

  // def(extra...), and def(the same with numpy's names) when there are any
  // (Note [Keyword aliases]).
  template <class Def, class... Extra>
  void def_with_aliases(py::handle scope, const char* name, Def def, const Extra&... extra) {
    def(extra...);
    bool renamed = false;
    auto again = [&](const auto&... e) {
      if (!renamed) return;
      def(e...);
      aliased_.emplace_back(scope, name);
    };
    again(with_numpy_names(extra, renamed)...);
  }

  // op()'s work, on the erased type (Note [Shared dispatchers]): one instantiation per signature.
  template <class E, class... Extra>
  void bind_op(const char* name, unsigned forms, const char* doc, E fn, const Extra&... extra) {
    auto pf = profiled(name, fn);
    using P = decltype(pf);
    if (forms & kMethod) def_method(name, doc, pf, extra...);
    if (forms & kFunction) def_function(name, doc, forms & kOut, pf, &P::operator(), py::arg("input"), extra...);
    if (forms & kInPlace) def_inplace(name, fn, &E::operator(), extra...);  // recorded under its own name
  }
  template <class P, class... Extra>
  void def_method(const char* name, const char* doc, const P& pf, const Extra&... extra) {
    def_with_aliases(cls_, name, [&](const auto&... e) { cls_.def(name, pf, doc, e...); }, extra...);
  }

  template <class F, class R, class... Args, class... Extra>
  void def_function(const char* name, const char* doc, bool with_out, F fn, R (F::*)(Args...) const,
                    const Extra&... extra) {
    if constexpr (std::is_same_v<R, Tensor>) {
      if (with_out) {
        auto with = [fn, name](Args... args, OptionalTensor out) -> Tensor {
          Tensor r = fn(std::forward<Args>(args)...);
          if (out.is_none()) return r;
          return write_out(out, r, name);
        };
        auto def = [&](const auto&... e) { m_.def(name, with, doc, e...); };
        if constexpr ((std::is_same_v<Extra, py::kw_only> || ...))
          def_with_aliases(m_, name, def, extra..., py::arg("out") = py::none());
        else
          def_with_aliases(m_, name, def, extra..., py::kw_only(), py::arg("out") = py::none());
        return;
      }
    } else if constexpr (std::is_same_v<R, py::object>) {
      if (with_out) {  // an op whose result is one tensor or, for some arguments, something else
        auto with = [fn, name](Args... args, OptionalTensor out) -> py::object {
          py::object r = fn(std::forward<Args>(args)...);
          if (out.is_none()) return r;
          if (py::isinstance<py::tuple>(r)) return write_out_tuple(out, r, name);
          if (!is_tensor(r)) throw py::type_error(std::string(name) + "(): out= is not supported for these arguments");
          return py::cast(write_out(out, r.cast<Tensor>(), name));
        };
        auto def = [&](const auto&... e) { m_.def(name, with, doc, e...); };
        if constexpr ((std::is_same_v<Extra, py::kw_only> || ...))
          def_with_aliases(m_, name, def, extra..., py::arg("out") = py::none());
        else
          def_with_aliases(m_, name, def, extra..., py::kw_only(), py::arg("out") = py::none());
        return;
      }
    }
    EMBER_ASSERT(!with_out);  // out= needs an op that returns one tensor
    def_with_aliases(m_, name, [&](const auto&... e) { m_.def(name, fn, doc, e...); }, extra...);
  }

  template <class F, class R, class Self, class... Rest, class... Extra>
  void def_inplace(const char* name, F fn, R (F::*)(Self, Rest...) const, const Extra&... extra) {
    if constexpr (std::is_same_v<R, Tensor>) {
      // The registry is gone once the module is built: the method keeps its own copy of the name.
      const char* inplace_name = inplace_names_.emplace_back(std::string(name) + "_").c_str();
      std::string doc = "In-place version of :meth:`Tensor." + std::string(name) + "`.";
      auto method = profiled(inplace_name, [fn, op = std::string(inplace_name)](Tensor& self, Rest... rest) -> Tensor& {
        bool records = GradMode::is_enabled() && (arg_requires_grad(self) || (arg_requires_grad(rest) || ...));
        return apply_inplace(self, records, op.c_str(), [&](const Tensor& s) { return fn(s, rest...); });
      });
      def_with_aliases(
          cls_, inplace_name, [&](const auto&... e) { cls_.def(inplace_name, method, doc.c_str(), e...); }, extra...);
    } else {
      EMBER_ASSERT(false);  // an in-place form needs an op that returns one tensor
    }
  }

  py::module_& m_;
  TensorClass& cls_;
  std::string family_ = "misc";
  std::vector<OpInfo> infos_;
  std::vector<std::pair<py::handle, const char*>> aliased_;  // functions with a numpy-names overload
  std::deque<std::string> inplace_names_;                    // "squeeze_", ... (a deque: c_str() stays valid)
};

// Gives every pybind11 function and method of `scope` a text signature, so
// inspect.signature() and help() show its parameters (CPython reads it from
// the head of the docstring; pybind11 writes typed signatures it cannot read).
void add_text_signatures(py::handle scope);

// The registration of each family (csrc/python/ops_<family>.cpp).
void register_math_ops(OpRegistry& r);
void register_reduce_ops(OpRegistry& r);
void register_linalg_ops(OpRegistry& r);
void register_shape_ops(OpRegistry& r);
void register_index_ops(OpRegistry& r);
void register_creation_ops(OpRegistry& r);
void register_nn_ops(OpRegistry& r);
void register_sort_ops(OpRegistry& r);

}  // namespace bind
}  // namespace ember
