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
      "_autocast_state",
      [](const std::string& device) {
        const State& s = state();
        return device == "cuda" ? py::make_tuple(s.cuda_enabled, s.cuda_dtype) : py::make_tuple(s.enabled, s.dtype);
      },
      "(enabled, dtype) of this thread's autocast on device ('cpu' or 'cuda'; Note [Autocast]).",
      py::arg("device") = "cpu");
  m.def(
      "_set_autocast_state",
      [](bool enabled, DType dtype, const std::string& device) {
        State& s = state();
        const bool was_on = s.any();
        if (device == "cuda") {
          s.cuda_enabled = enabled;
          s.cuda_dtype = dtype;
        } else {
          s.enabled = enabled;
          s.dtype = dtype;
        }
        if (s.any() != was_on) g_threads_on.fetch_add(s.any() ? 1 : -1, std::memory_order_relaxed);
      },
      py::arg("enabled"), py::arg("dtype"), py::arg("device") = "cpu",
      "Sets this thread's autocast on device ('cpu' or 'cuda'; Note [Autocast]).");
}

}  // namespace autocast
}  // namespace bind
}  // namespace ember
