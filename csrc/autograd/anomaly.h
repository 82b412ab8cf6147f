#pragma once
// Note [Anomaly mode]
// autograd.detect_anomaly() / set_detect_anomaly(True): every node created
// while it is on remembers the Python stack of the forward call that made it
// (the binding layer's on_node_created callback stores it in the node's
// metadata); when a node fails in backward, that stack is reported as a
// warning before the error propagates, and with check_nan a node whose
// gradients contain NaN is an error naming it, in PyTorch's words. Off, it
// costs one relaxed atomic load per node.
#include <atomic>
#include <functional>

#include "autograd/node.h"

namespace ember {

struct AnomalyMode {
  static bool is_enabled() { return enabled_.load(std::memory_order_relaxed); }
  static bool check_nan() { return check_nan_.load(std::memory_order_relaxed); }
  static void set(bool enabled, bool check_nan) {
    enabled_.store(enabled);
    check_nan_.store(check_nan);
  }
  // Set by the Python bindings: record the forward stack; report it for a failing node.
  static std::function<void(Node&)> on_node_created;
  static std::function<void(const Node&)> report_failure;

 private:
  static std::atomic<bool> enabled_, check_nan_;
};

// With check_nan: a RuntimeError if output `i` of `node` has a NaN.
void check_anomalous_output(const Node& node, const variable_list& outputs);

}  // namespace ember
