#pragma once
// Note [CUDA host fallback]
// Ops ember has no CUDA kernel for yet raise PyTorch's "Could not run '<op>'
// with arguments from the 'CUDA' backend" (Note [Missing CUDA kernels]). For a
// list of ops that only compute a new result from their inputs (sort and unique
// of uint64, scatter_reduce of other dtypes, ...), the registry instead runs the op on host copies of its
// tensor arguments and moves the results back to the device, warning once per
// op as PyTorch's MPS fallback does. The copies are ember's differentiable
// to_device, so gradients flow back to the device tensors. It is correct and
// slow (the device waits for each copy): a bridge until those ops have kernels,
// never used for an op that returns a view. An in-place form (scatter_reduce_)
// runs on a host copy of self, which copy_ writes back into self.
#include <tuple>
#include <type_traits>
#include <utility>

#include "ops/ops.h"
#include "python/bindings.h"

namespace ember {
namespace bind {
namespace host_fallback {

bool enabled_for(const char* op);
void warn_once(const char* op);

template <class T>
auto to_host(const T& a) {
  using U = std::decay_t<T>;
  if constexpr (std::is_same_v<U, Tensor>) {
    return a ? moved_to(a, Device{}) : a;
  } else if constexpr (std::is_same_v<U, TensorList>) {
    TensorList out;
    for (const Tensor& t : a) out.push_back(to_host(t));
    return out;
  } else if constexpr (std::is_base_of_v<py::object, U>) {  // a tensor or a number (TensorOrNumber, ...)
    if (is_tensor(a)) {
      Tensor t = a.template cast<Tensor>();
      if (!t->device().is_cpu()) return py::reinterpret_borrow<U>(py::cast(to_device(t, Device{}, t->dtype())));
    }
    return U(a);
  } else {
    return U(a);
  }
}

inline Tensor back(const Tensor& t, Device d) { return t ? moved_to(t, d) : t; }
inline TensorList back(const TensorList& ts, Device d) {
  TensorList out;
  for (const Tensor& t : ts) out.push_back(back(t, d));
  return out;
}
py::object back(const py::object& o, Device d);  // a tensor, or a (named) tuple of them
template <class... T>
std::tuple<T...> back(const std::tuple<T...>& r, Device d) {
  return std::apply([&](const auto&... e) { return std::tuple<T...>(back(e, d)...); }, r);
}
template <class T>
T back(const T& v, Device) {  // numbers, shapes: as they are
  return v;
}

// Whether a result of type R can come back from the host (not a reference into an argument).
template <class R>
constexpr bool returnable = !std::is_reference_v<R> && !std::is_void_v<R>;

}  // namespace host_fallback
}  // namespace bind
}  // namespace ember
