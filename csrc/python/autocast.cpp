#include "python/autocast.h"

#include <cstring>

namespace ember {
namespace bind {
namespace autocast {

std::atomic<int> g_threads_on{0};

State& state() {
  thread_local State s;
  return s;
}

Policy policy_of(const char* name) {
  // PyTorch's CPU lists (aten/src/ATen/autocast_mode.cpp), for the names ember registers.
  static const char* const lower[] = {"matmul", "__matmul__", "__rmatmul__", "mm",     "bmm",
                                      "addmm",  "baddbmm",    "addbmm",      "conv2d", "prelu"};
  static const char* const float32[] = {"prod",           "cdist", "trace",    "cholesky_inverse",
                                        "cholesky_solve", "polar", "quantile", "nanquantile"};
  for (const char* n : lower)
    if (std::strcmp(n, name) == 0) return Policy::Lower;
  for (const char* n : float32)
    if (std::strcmp(n, name) == 0) return Policy::Float32;
  return Policy::None;
}

void install(py::module_& m) {
  m.def(
      "_autocast_state", [] { return py::make_tuple(state().enabled, state().dtype); },
      "(enabled, dtype) of this thread's CPU autocast (Note [Autocast]).");
  m.def(
      "_set_autocast_state",
      [](bool enabled, DType dtype) {
        State& s = state();
        if (enabled != s.enabled) g_threads_on.fetch_add(enabled ? 1 : -1, std::memory_order_relaxed);
        s.enabled = enabled;
        s.dtype = dtype;
      },
      py::arg("enabled"), py::arg("dtype"), "Sets this thread's CPU autocast (Note [Autocast]).");
}

}  // namespace autocast
}  // namespace bind
}  // namespace ember
