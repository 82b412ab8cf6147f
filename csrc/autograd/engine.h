#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include "autograd/node.h"

namespace ember {

struct BackwardOptions {
  bool keep_graph = false;      // retain_graph
  bool create_graph = false;    // record the backward pass itself
  bool accumulate_grad = true;  // backward(): into .grad; autograd.grad(): returned
  bool allow_unused = false;
};

// Runs the backward pass from `roots`, seeded with `grad_roots` (same length;
// each defined). With `inputs` empty every reachable leaf accumulates its
// gradient; otherwise only the paths to `inputs` run and their gradients are
// returned (accumulate_grad=false) or accumulated into their .grad.
// Runs `callback` when the backward pass running on this thread (the
// innermost, if nested) has finished all its nodes; RuntimeError outside a
// backward pass. (PyTorch's Variable._execution_engine.queue_callback.)
void queue_backward_callback(std::function<void()> callback);
// An id of the backward pass running on this thread (helper threads included),
// 0 outside one: per-pass state of hooks (register_multi_grad_hook) is keyed by it.
uintptr_t current_backward_pass_id();
// Whether the pass on this thread was started with `inputs` (false outside a pass).
bool current_backward_pass_has_inputs();

// While on, the backward passes this thread starts run every node on it (no device threads, no
// parallel workers); returns the previous setting. utils/checkpoint.py turns it on while a
// recomputation holds the generator's lock.
bool set_serial_backward(bool on);

variable_list run_backward(const variable_list& roots, const variable_list& grad_roots, const variable_list& inputs,
                           const BackwardOptions& opts);

// The switch for Note [Parallel backward] (on by default).
// On, off, or (nullopt) back to the default: on with at least 4 threads (engine.cpp).
void set_parallel_backward(std::optional<bool> enabled);
std::optional<bool> parallel_backward_setting();  // what set_parallel_backward last set
bool parallel_backward_enabled();
// Counters since start-up: backward passes run in parallel mode, nodes run by helper threads.
struct BackwardStats {
  uint64_t parallel_passes, helper_nodes;
};
BackwardStats backward_stats();

}  // namespace ember
