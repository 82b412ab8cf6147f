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

namespace {

bool listed(const char* name, std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (std::strcmp(n, name) == 0) return true;
  return false;
}

}  // namespace

Policies policy_of(const char* name) {
  // PyTorch's lists (aten/src/ATen/autocast_mode.h and its AMP docs), for the names ember
  // registers; a private name stands for the nn.functional op that calls it.
  Policies p;
  if (listed(name,
             {"matmul", "__matmul__", "__rmatmul__", "mm", "bmm", "addmm", "baddbmm", "addbmm", "conv2d", "prelu"})) {
    p.cpu = Policy::Lower;
    p.cuda = Policy::Lower;
  }
  if (listed(name, {"mv"})) p.cuda = Policy::Lower;
  // Losses: float32 under both (PyTorch's CPU list has them too).
  if (listed(name, {"prod", "cdist", "_mse_loss", "_nll_loss", "_smooth_l1_loss", "_binary_cross_entropy_with_logits",
                    "_binary_cross_entropy"}))
    p.cpu = Policy::Float32;
  if (listed(name, {"trace", "cholesky_inverse", "cholesky_solve", "polar", "quantile", "nanquantile"}))
    p.cpu = Policy::Float32;
  if (listed(name, {"__pow__",
                    "__rpow__",
                    "pow",
                    "__rtruediv__",
                    "__rdiv__",
                    "acos",
                    "asin",
                    "cosh",
                    "sinh",
                    "tan",
                    "erfinv",
                    "exp",
                    "expm1",
                    "log",
                    "log10",
                    "log1p",
                    "log2",
                    "reciprocal",
                    "rsqrt",
                    "cumprod",
                    "cumsum",
                    "prod",
                    "sum",
                    "norm",
                    "logsumexp",
                    "softmax",
                    "log_softmax",
                    "cdist",
                    "renorm",
                    "_softplus",
                    "_native_layer_norm",
                    "_native_group_norm",
                    "_mse_loss",
                    "_nll_loss",
                    "_smooth_l1_loss",
                    "_binary_cross_entropy_with_logits"}))
    p.cuda = Policy::Float32;
  if (listed(name, {"_binary_cross_entropy"})) p.cuda = Policy::Banned;
  return p;
}

void refuse_unsafe() {
  EMBER_FAIL(Runtime,
             "torch.nn.functional.binary_cross_entropy and torch.nn.BCELoss are unsafe to autocast.\n"
             "Many models use a sigmoid layer right before the binary cross entropy layer.\n"
             "In this case, combine the two layers using torch.nn.functional.binary_cross_entropy_with_logits\n"
             "or torch.nn.BCEWithLogitsLoss.  binary_cross_entropy_with_logits and BCEWithLogits are\n"
             "safe to autocast.");
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
  m.def("_autocast_active", &active, "Whether this thread has autocast on for some device (Note [Autocast]).");
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
