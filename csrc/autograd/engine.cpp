// Note [Engine order]
// A dependency-counting executor, as PyTorch's: a first pass from the roots
// assigns each reachable node a dense id and counts the edges into it; a node
// runs once, when every gradient it will receive has arrived, taking the
// sum of them from its input buffer. Among ready nodes the one created last
// (highest sequence_nr) runs first, which consumes late layers' gradients
// before early ones are produced and keeps peak memory low; AccumulateGrad has
// the highest priority so leaf gradients land as soon as they are complete.
//
// Note [Deterministic accumulation]
// When several edges feed one input of a node, their gradients are summed in a
// fixed order: by producer, latest-created first (then by edge index), whatever
// order they arrive in. The order is computed in the dependency pass; an
// arriving gradient is folded into the running sum as soon as every gradient
// before it has arrived, else parked until then. So the serial and the
// parallel executor give bitwise identical results, and in the serial one,
// where gradients nearly always arrive in that order, nothing waits.
//
// Note [Parallel backward]
// With more than one thread in ember's budget and a graph with enough work,
// the backward pass runs on the calling thread plus pool threads
// (worker_pool.h): whichever thread is free takes the highest-priority ready
// node. A node is "heavy" when it is not cheap (views of the gradient,
// AccumulateGrad) and receives or produces at least kHeavyNodeWork gradient
// elements, but fewer than kWholeMachineWork (bigger nodes use all the cores
// through their kernels' own threads already).
// Helpers are asked for only when a heavy node runs while another node that is
// not cheap is ready (a chain with cheap side nodes, as an MLP's backward,
// never leaves the calling thread), and a heavy node that runs beside other
// heavy ones gets a share of the kernel threads, not all of them, so the cores
// are not oversubscribed.
// A backward started on a pool thread (from a hook or a custom Function) and a
// create_graph pass run serially. By default it needs kAutoParallelThreads
// threads (below); set_parallel_backward(false) turns all of this off.
//
// Note [Device threads]
// As PyTorch's engine, a pass that holds nodes of a CUDA device runs them on that
// device's own thread (worker_pool.h), which only queues kernels on the device's
// stream, while the calling thread runs the CPU nodes: a CPU branch and a GPU branch
// of one graph proceed side by side, and the caller's Python is free for hooks of CPU
// tensors. A node's device is that of its gradients (its input metadata). Ready
// nodes of a device go to its thread's queue (shared by every pass, so a backward
// started inside a node while a pass waits on that device still gets its nodes run);
// the caller runs its CPU nodes and waits until no node of the pass is queued or
// running anywhere, and after an error until the device threads have dropped what
// they held of the pass. The summation order stays fixed
// (Note [Deterministic accumulation]): the gradients are bitwise those of a
// serial run. A pass started on a device thread or a pool thread, and a
// create_graph pass, runs serially where it was started.
#include "autograd/engine.h"

#include <optional>
#include "core/profiler.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <queue>
#include <thread>
#include <tuple>
#include <unordered_map>

#include "autograd/accumulate_grad.h"
#include "autograd/anomaly.h"
#include "autograd/grad_mode.h"
#include "autograd/meta.h"
#include "autograd/worker_pool.h"
#include "kernels/cpu/loops.h"
#include "kernels/cpu/threads.h"
#include "ops/ops.h"

namespace ember {

// Unset (the default), the parallel executor runs only with at least
// kAutoParallelThreads threads: on 2 cores every workload measured ran slower
// with it than with the serial executor and both threads in the kernels (the
// four-branch benchmark's smallest case 1.2-2.3 ms against 0.61-0.63, a
// ResNet-style step 80-95 ms against 70-79), since the kernels already use
// both cores and each hand-off wakes a sleeping thread. set_parallel_backward
// sets it on (any budget above one thread) or off.
constexpr int kAutoParallelThreads = 4;
static std::atomic<int> g_parallel_backward{-1};  // -1 unset, 0 off, 1 on
static std::atomic<uint64_t> g_parallel_passes{0}, g_helper_nodes{0};
BackwardStats backward_stats() { return {g_parallel_passes.load(), g_helper_nodes.load()}; }
void set_parallel_backward(std::optional<bool> enabled) { g_parallel_backward.store(enabled ? *enabled : -1); }
bool parallel_backward_enabled() { return g_parallel_backward.load() != 0; }
std::optional<bool> parallel_backward_setting() {
  const int setting = g_parallel_backward.load();
  return setting < 0 ? std::nullopt : std::optional<bool>(setting == 1);
}
// Whether a pass with `budget` kernel threads may run on several threads.
static bool parallel_backward_for(int budget) {
  const int setting = g_parallel_backward.load();
  return setting == 1 ? budget > 1 : setting < 0 && budget >= kAutoParallelThreads;
}

// The backward pass running on this thread (all empty outside one); a helper thread
// running a pass's nodes takes the caller's.
struct PassContext {
  // Its final callbacks: a node on a helper thread queues into the caller's list.
  std::vector<std::function<void()>>* final_callbacks = nullptr;
  uint64_t id = 0;  // passes are numbered from 1 in the order they start
  // Started with `inputs` (autograd.grad, backward(inputs=)): the reentrant
  // checkpoint cannot work inside such a pass.
  bool has_inputs = false;
};
static thread_local PassContext t_pass;
static std::mutex g_final_callbacks_mutex;
static std::atomic<uint64_t> g_backward_passes{0};

// Makes `pass` this thread's pass for the scope, then gives the previous one back.
struct PassScope {
  PassContext previous = t_pass;
  explicit PassScope(const PassContext& pass) { t_pass = pass; }
  ~PassScope() { t_pass = previous; }
};

namespace {

// Below this many gradient elements in the whole graph, handing nodes to other
// threads costs more than it saves: the pass stays serial.
constexpr int64_t kParallelBackwardWork = 1 << 16;
constexpr int64_t kHeavyNodeWork = 4096;
// Nodes this big already keep every core busy through their own kernels'
// threads: running another branch beside them would only oversubscribe.
constexpr int64_t kWholeMachineWork = 1 << 17;

struct GraphRoot : Node {
  variable_list grads;
  variable_list apply(variable_list&&) override { return grads; }
  std::string name() const override { return "GraphRoot"; }
};

struct Capture {
  int node_id;
  uint32_t input_nr;
  size_t input_index;  // position in `inputs`
};

// Adds `g` into a buffer slot. In place only when nothing else can see the
// buffer and no graph is being recorded; out of place otherwise.
void accumulate_into(Tensor& slot, Tensor&& g) {
  if (!g) return;
  if (!slot) {
    slot = std::move(g);
    return;
  }
  if (!GradMode::is_enabled() && slot.use_count() == 1 && slot->storage().use_count() == 1 && !slot->view_base &&
      slot->sizes() == broadcast_shapes(slot->sizes(), g->sizes()) &&
      slot->dtype() == promote(slot->dtype(), g->dtype())) {
    add_(slot, g);
  } else {
    slot = add(slot, g);
  }
}

// Checks a node's output gradient against what the next node expects.
Tensor validate_gradient(const Node& producer, size_t index, Tensor g, const InputMeta& expected) {
  if (g->sizes() != expected.shape) {
    EMBER_CHECK(expand_compatible(expected.shape, g->sizes()), "Function ", producer.name(),
                " returned an invalid gradient at index ", index, " - got ", detail::cat(g->sizes()),
                " but expected shape compatible with ", detail::cat(expected.shape));
    g = sum_to(g, expected.shape);
  }
  if (g->dtype() != expected.dtype && !expected.any_dtype) g = to_dtype(g, expected.dtype);
  return g;
}

// Everything one backward pass needs, in flat arrays indexed by dense node id,
// edge number (edges of node i are edge_begin[i] .. edge_end(i)) and input
// slot (slots of node i start at slot_begin[i]).
struct GraphTask {
  BackwardOptions opts;
  std::vector<Node*> nodes;
  std::vector<int> deps;
  std::vector<char> needed, is_target, heavy;
  // 0: the calling thread; d + 1: CUDA device d's thread (Note [Device threads]); empty without CUDA nodes
  std::vector<int> lane;
  // Edge -> child id and the child's input slot (-1 for an invalid edge), rank among that slot's producers.
  std::vector<int> edge_begin, edge_child, edge_slot, edge_rank;
  std::vector<int> slot_begin;
  // Per slot: producers, how many are folded, the running sum; parked arrivals
  // (Note [Deterministic accumulation]) live at park_begin[slot] + rank.
  std::vector<int> slot_producers, slot_folded, park_begin;
  std::vector<Tensor> slot_sum, parked;
  std::vector<char> arrived;
  std::vector<Capture> captures;
  variable_list captured;
  int64_t work = 0;  // gradient elements over all nodes: the serial/parallel decision
  PassContext pass;  // its final callbacks, number, whether started with `inputs`

  // Scheduling state; guarded by `mutex` in a parallel pass.
  struct ByPriority {
    const std::vector<Node*>* nodes;
    bool operator()(int a, int b) const { return (*nodes)[a]->sequence_nr < (*nodes)[b]->sequence_nr; }
  };
  std::priority_queue<int, std::vector<int>, ByPriority> ready{ByPriority{&nodes}};
  std::mutex mutex;
  std::condition_variable changed;
  int running = 0;
  int heavy_ready = 0, heavy_running = 0, costly_ready = 0;  // costly: not cheap
  int waiting = 0;                                           // threads blocked on `changed`
  bool helpers_asked = false;
  bool on_device_threads = false;  // Note [Device threads]
  int outstanding = 0;             // its nodes queued or running on any thread (device threads in use)
  std::exception_ptr error;
  HelperGroup helpers;

  int slot_of(int node, uint32_t input_nr) const { return slot_begin[node] + (int)input_nr; }
  int edge_end(int node) const { return edge_begin[node] + (int)nodes[node]->next_edges.size(); }
  bool runnable(int id) const { return needed[id] || is_target[id]; }
};

// The dependency pass: dense ids, edge counts, the fixed summation order and,
// for `inputs`, which nodes lie on a path to one (`needed`).
void build_graph(GraphTask& task, Node* root, const variable_list& inputs, std::vector<Edge>& input_edges) {
  std::unordered_map<Node*, int> ids;
  int num_slots = 0;
  auto id_of = [&](Node* n) {
    auto [it, fresh] = ids.emplace(n, (int)task.nodes.size());
    if (fresh) {
      task.nodes.push_back(n);
      task.deps.push_back(0);
      task.slot_begin.push_back(num_slots);
      num_slots += (int)n->num_inputs();
      task.edge_begin.push_back(0);
    }
    return std::make_pair(it->second, fresh);
  };
  id_of(root);
  // Depth-first discovery; a node's edges are numbered when it is expanded.
  std::vector<int> order;
  std::vector<int> stack{0};
  while (!stack.empty()) {
    int id = stack.back();
    stack.pop_back();
    order.push_back(id);
    Node* n = task.nodes[id];
    task.edge_begin[id] = (int)task.edge_child.size();
    for (auto& e : n->next_edges) {
      int child = -1, slot = -1;
      if (e.valid()) {
        bool fresh;
        std::tie(child, fresh) = id_of(e.fn.get());
        task.deps[child]++;
        slot = task.slot_of(child, e.input_nr);
        if (fresh) stack.push_back(child);
      }
      task.edge_child.push_back(child);
      task.edge_slot.push_back(slot);
    }
  }
  const int num_nodes = (int)task.nodes.size();
  task.heavy.assign(num_nodes, 0);
  for (int i = 0; i < num_nodes; ++i) {
    // What a node receives and what it produces: SumBackward takes a scalar
    // and hands on a whole tensor, AddmmBackward the other way round.
    int64_t received = 0, produced = 0;
    bool placed = false;  // its device's lane is its first tensor gradient's (Note [Device threads])
    for (auto& m : task.nodes[i]->input_metas) {
      received += shape_numel(m.shape);
      if (placed || !m.is_tensor) continue;
      placed = true;
      if (m.device.type != DeviceType::CUDA) continue;
      if (task.lane.empty()) task.lane.assign(num_nodes, 0);  // only graphs with CUDA nodes have lanes
      task.lane[i] = std::max(m.device.index, 0) + 1;
    }
    for (auto& e : task.nodes[i]->next_edges)
      if (e.valid()) produced += shape_numel(e.fn->input_metas[e.input_nr].shape);
    task.work += received;
    const int64_t size = std::max(received, produced);
    task.heavy[i] = !task.nodes[i]->cheap && size >= kHeavyNodeWork && size < kWholeMachineWork;
  }
  task.slot_producers.assign(num_slots, 0);
  for (int slot : task.edge_slot)
    if (slot >= 0) task.slot_producers[slot]++;
  task.edge_rank.assign(task.edge_slot.size(), 0);
  // Ranks within slots fed by several edges: latest producer first, then edge index.
  struct Arrival {
    int slot;
    uint64_t seq;
    int edge;
  };
  std::vector<Arrival> shared;
  for (int i = 0; i < num_nodes; ++i)
    for (int e = task.edge_begin[i]; e < task.edge_end(i); ++e) {
      int slot = task.edge_slot[e];
      if (slot >= 0 && task.slot_producers[slot] > 1) shared.push_back({slot, task.nodes[i]->sequence_nr, e});
    }
  std::sort(shared.begin(), shared.end(), [](const Arrival& a, const Arrival& b) {
    if (a.slot != b.slot) return a.slot < b.slot;
    if (a.seq != b.seq) return a.seq > b.seq;
    return a.edge < b.edge;
  });
  for (size_t k = 0; k < shared.size(); ++k)
    task.edge_rank[shared[k].edge] =
        k && shared[k - 1].slot == shared[k].slot ? task.edge_rank[shared[k - 1].edge] + 1 : 0;
  task.park_begin.assign(num_slots, 0);
  int parked = 0;
  for (int s = 0; s < num_slots; ++s) {
    task.park_begin[s] = parked;
    if (task.slot_producers[s] > 1) parked += task.slot_producers[s];
  }
  task.parked.resize(parked);
  task.arrived.assign(parked, 0);
  task.slot_folded.assign(num_slots, 0);
  task.slot_sum.resize(num_slots);

  task.needed.assign(num_nodes, inputs.empty() ? 1 : 0);
  task.is_target.assign(num_nodes, 0);
  for (size_t i = 0; i < inputs.size(); ++i) {
    Edge e = gradient_edge(inputs[i]);
    EMBER_CHECK(e.valid(), "One of the differentiated Tensors does not require grad");
    auto it = ids.find(e.fn.get());
    if (it != ids.end()) {
      task.captures.push_back({it->second, e.input_nr, i});
      task.is_target[it->second] = 1;
    }
    input_edges.push_back(std::move(e));
  }
  if (!inputs.empty()) {
    // A node is needed when one of its edges leads to a needed node or a
    // capture target: children are discovered after their parents, so walking
    // the discovery order backwards settles each node after its children...
    // except across shared sub-graphs, hence the fixpoint.
    bool changed = true;
    while (changed) {
      changed = false;
      for (auto it = order.rbegin(); it != order.rend(); ++it) {
        int id = *it;
        if (task.needed[id]) continue;
        for (int e = task.edge_begin[id]; e < task.edge_end(id); ++e) {
          int c = task.edge_child[e];
          if (c >= 0 && (task.needed[c] || task.is_target[c])) {
            task.needed[id] = 1;
            changed = true;
            break;
          }
        }
      }
    }
    // backward(inputs=...) runs the inputs' own nodes, as PyTorch: a leaf's AccumulateGrad
    // accumulates (with its hooks), a non-leaf's grad_fn runs its hooks (its result goes no further).
    if (task.opts.accumulate_grad)
      for (int i = 0; i < num_nodes; ++i) task.needed[i] |= task.is_target[i];
  }
  task.captured.resize(inputs.size());
}

// Folds the gradient arriving along edge `e` into its slot (Note [Deterministic accumulation]).
void receive(GraphTask& task, int e, int slot, Tensor&& g) {
  if (task.slot_producers[slot] == 1) {
    task.slot_sum[slot] = std::move(g);
    return;
  }
  int base = task.park_begin[slot];
  task.parked[base + task.edge_rank[e]] = std::move(g);
  task.arrived[base + task.edge_rank[e]] = 1;
  int& folded = task.slot_folded[slot];
  while (folded < task.slot_producers[slot] && task.arrived[base + folded]) {
    accumulate_into(task.slot_sum[slot], std::move(task.parked[base + folded]));
    ++folded;
  }
}

// Runs a node's own hooks in registration order: each may replace `grads`.
variable_list run_node_hooks(const std::vector<Node::NodeHook>& registered, variable_list grads,
                             const variable_list& incoming) {
  const std::vector<Node::NodeHook> hooks = registered;  // a copy: a hook may remove one
  for (auto& h : hooks) {
    variable_list r = h.fn(grads, incoming);
    if (!r.empty()) grads = std::move(r);
  }
  return grads;
}

// Runs node `id` on the gradients gathered for it. Returns its outputs, already
// checked against what each child expects (empty when it did not run).
variable_list run_node(GraphTask& task, int id) {
  Node* node = task.nodes[id];
  variable_list grads(node->num_inputs());
  for (uint32_t k = 0; k < grads.size(); ++k) grads[k] = std::move(task.slot_sum[task.slot_of(id, k)]);

  // Tensor hooks see every output's gradient, None for one that got none (as PyTorch's).
  if (node->is_accumulate_grad && grads[0])
    grads[0] = static_cast<AccumulateGrad*>(node)->run_leaf_hooks(std::move(grads[0]));
  for (uint32_t k = 0; k < grads.size(); ++k) {
    if (!node->pre_hooks.empty()) grads[k] = run_tensor_hooks(node->pre_hooks, k, std::move(grads[k]));
    if (grads[k] && !node->retain_grad_hooks.empty()) run_tensor_hooks(node->retain_grad_hooks, k, grads[k]);
  }
  if (task.is_target[id])
    for (auto& c : task.captures)
      if (c.node_id == id) task.captured[c.input_index] = grads[c.input_nr];

  // With `inputs`, a node runs only on the way to another input.
  if (id != 0 && !task.needed[id]) return {};

  if (!node->node_pre_hooks.empty()) grads = run_node_hooks(node->node_pre_hooks, std::move(grads), {});
  bool any_defined = id == 0;
  for (auto& g : grads) any_defined |= (bool)g;
  variable_list outputs;
  // Post-hooks see the gradients apply() received (apply consumes its own copy).
  variable_list incoming = node->post_hooks.empty() ? variable_list() : grads;
  {
    // Note [Concurrent backward]: threads running backward through one graph
    // take its nodes one at a time; a second run sees the saved tensors
    // intact, or freed (PyTorch's "backward through the graph a second
    // time" error), never half-freed.
    std::lock_guard<std::recursive_mutex> lock(node->mutex);
    // Note [Op device]: the formulas' results go to the device of the gradients (a guard only
    // for a device other than the CPU: none on the CPU path).
    Device device;
    for (auto& g : grads)
      if (g) {
        device = g->device();
        break;
      }
    // Note [Profiler events]: the node's name is built only while profiling.
    profiler::Scope event(profiler::Kind::Backward, nullptr, profiler::active() ? node->name() : std::string(),
                          device.type == DeviceType::CUDA ? device.index : -1);
    if (any_defined) {
      std::optional<OpDeviceGuard> on;
      if (!device.is_cpu()) on.emplace(device);
      // Formulas see zeros, never undefined, for outputs that got no gradient.
      if (node->materializes_grads())
        for (uint32_t k = 0; k < grads.size(); ++k)
          if (!grads[k] && node->input_metas[k].is_tensor)
            grads[k] = zeros(node->input_metas[k].shape, node->input_metas[k].dtype);
      if (AnomalyMode::is_enabled()) {
        try {
          outputs = node->apply(std::move(grads));
          if (AnomalyMode::check_nan()) check_anomalous_output(*node, outputs);
        } catch (...) {
          if (AnomalyMode::report_failure) AnomalyMode::report_failure(*node);
          throw;
        }
      } else {
        outputs = node->apply(std::move(grads));
      }
    }
    if (!task.opts.keep_graph) node->release_variables();
  }
  if (!any_defined) return {};
  if (!node->post_hooks.empty()) outputs = run_node_hooks(node->post_hooks, std::move(outputs), incoming);
  if (outputs.size() != node->next_edges.size())
    EMBER_FAIL(Runtime, "function ", node->name(), " returned an incorrect number of gradients (expected ",
               node->next_edges.size(), ", got ", outputs.size(), ")");
  for (size_t j = 0; j < outputs.size(); ++j) {
    const Edge& e = node->next_edges[j];
    if (e.valid() && outputs[j])
      outputs[j] = validate_gradient(*node, j, std::move(outputs[j]), e.fn->input_metas[e.input_nr]);
  }
  return outputs;
}

void run_on_device_thread(GraphTask& task, int id);

void push_ready(GraphTask& task, int id) {
  if (task.on_device_threads) {
    ++task.outstanding;
    if (task.lane[id] > 0) {
      post_to_device_thread(task.lane[id] - 1, task.nodes[id]->sequence_nr,
                            [&task, id] { run_on_device_thread(task, id); });
      return;
    }
  }
  task.ready.push(id);
  task.heavy_ready += task.heavy[id];
  task.costly_ready += !task.nodes[id]->cheap;
}

// Hands node `id`'s outputs to its children; children that become ready are queued.
void deliver(GraphTask& task, int id, variable_list& outputs) {
  for (int e = task.edge_begin[id]; e < task.edge_end(id); ++e) {
    int child = task.edge_child[e];
    // A node neither needed nor an input of autograd.grad never runs, nor do its hooks.
    if (child < 0 || !(task.needed[child] || task.is_target[child])) continue;
    size_t j = e - task.edge_begin[id];
    receive(task, e, task.edge_slot[e], j < outputs.size() ? std::move(outputs[j]) : Tensor());
    if (--task.deps[child] == 0 && task.runnable(child)) push_ready(task, child);
  }
}

void run_serial(GraphTask& task) {
  while (!task.ready.empty()) {
    int id = task.ready.top();
    task.ready.pop();
    variable_list outputs = run_node(task, id);
    if (id != 0 && !task.needed[id]) continue;  // pruned: its children never become ready
    deliver(task, id, outputs);
  }
}

// One thread's share of a parallel pass: take the best ready node, run it
// unlocked, deliver its outputs locked, until nothing is ready or running.
void work_loop(GraphTask& task, bool is_caller) {
  AutoGradMode grad_mode(task.opts.create_graph);
  PassScope pass(task.pass);
  const int budget = kernels::max_threads();
  std::unique_lock<std::mutex> lock(task.mutex);
  for (;;) {
    while (!task.error && task.ready.empty() && task.running > 0) {
      ++task.waiting;
      task.changed.wait(lock);
      --task.waiting;
    }
    if (task.error || task.ready.empty()) break;  // failed, or nothing ready and nothing running: done
    int id = task.ready.top();
    task.ready.pop();
    ++task.running;
    const bool heavy = task.heavy[id];
    task.heavy_ready -= heavy;
    task.heavy_running += heavy;
    task.costly_ready -= !task.nodes[id]->cheap;
    // Help pays when heavy work runs and another node that does real work is
    // ready (it may lead into a second heavy branch, as a sum of branches does).
    bool ask_help = is_caller && !task.helpers_asked && task.heavy_running >= 1 && task.costly_ready >= 1;
    if (ask_help) task.helpers_asked = true;
    // Heavy nodes that may run at the same time share the kernel threads.
    int concurrent = std::min<int>(budget, std::max(1, task.heavy_running + task.heavy_ready));
    lock.unlock();
    if (ask_help) WorkerPool::instance().help(task.helpers, budget - 1);
    variable_list outputs;
    std::exception_ptr err;
    try {
      kernels::ThreadCap cap(std::max(1, budget / std::max(1, concurrent)));
      outputs = run_node(task, id);
    } catch (...) { err = std::current_exception(); }
    if (!is_caller) g_helper_nodes.fetch_add(1, std::memory_order_relaxed);
    lock.lock();
    --task.running;
    task.heavy_running -= heavy;
    if (err) {
      if (!task.error) task.error = err;
    } else if (id == 0 || task.needed[id]) {
      deliver(task, id, outputs);
    }
    // Wake waiters only when there is something for them: work, or the end.
    if (task.waiting && (task.error || !task.ready.empty() || task.running == 0)) task.changed.notify_all();
  }
}

// deliver() for a pass on device threads: a failure (summing gradients may raise) becomes the pass's
// error, so that no thread leaves while another still holds work of the pass.
void deliver_or_fail(GraphTask& task, int id, variable_list& outputs) {
  try {
    deliver(task, id, outputs);
  } catch (...) {
    if (!task.error) task.error = std::current_exception();
  }
}

// A node of a pass on device threads, run by its device's thread (Note [Device threads]).
void run_on_device_thread(GraphTask& task, int id) {
  PassScope pass(task.pass);
  bool failed;
  {
    std::lock_guard<std::mutex> lock(task.mutex);
    failed = (bool)task.error;
  }
  variable_list outputs;
  std::exception_ptr err;
  if (!failed) try {
      outputs = run_node(task, id);
    } catch (...) { err = std::current_exception(); }
  std::lock_guard<std::mutex> lock(task.mutex);  // released before `outputs` goes: the last touch of `task`
  if (err && !task.error) task.error = err;
  // After another thread's error nothing more is queued: the caller is waiting for the pass to drain.
  if (!task.error && task.needed[id]) deliver_or_fail(task, id, outputs);
  --task.outstanding;
  task.changed.notify_all();
}

// The calling thread's share of a pass on device threads: its CPU nodes, then the wait.
void run_with_device_threads(GraphTask& task) {
  AutoGradMode grad_mode(false);
  std::unique_lock<std::mutex> lock(task.mutex);
  for (;;) {
    task.changed.wait(lock, [&] { return task.error || !task.ready.empty() || task.outstanding == 0; });
    if (task.error) {
      task.outstanding -= (int)task.ready.size();  // its own queue: dropped
      task.ready = decltype(task.ready)(GraphTask::ByPriority{&task.nodes});
      task.changed.wait(lock, [&] { return task.outstanding == 0; });  // device threads drop theirs
      std::rethrow_exception(task.error);
    }
    if (task.ready.empty()) return;  // nothing queued or running anywhere: done
    int id = task.ready.top();
    task.ready.pop();
    lock.unlock();
    variable_list outputs;
    std::exception_ptr err;
    try {
      outputs = run_node(task, id);
    } catch (...) { err = std::current_exception(); }
    lock.lock();
    if (err && !task.error) task.error = err;
    if (!task.error && (id == 0 || task.needed[id])) deliver_or_fail(task, id, outputs);
    --task.outstanding;
  }
}

void run_parallel(GraphTask& task) {
  g_parallel_passes.fetch_add(1, std::memory_order_relaxed);
  task.helpers.work = [&task] { work_loop(task, false); };
  {
    kernels::OwnHelpersScope own;  // the pass's threads compete with each other, not with a busy machine
    work_loop(task, true);
    task.helpers.wait();  // helpers still inside work_loop hold references to `task`
  }
  if (task.error) std::rethrow_exception(task.error);
}

}  // namespace

namespace {
variable_list run_backward_here(const variable_list& roots, const variable_list& grad_roots,
                                const variable_list& inputs, const BackwardOptions& opts);
}  // namespace

// Note [Reentrant backward]
// A backward started inside a backward (a custom Function's backward or a hook
// calling backward, as checkpointing does) runs on the same thread, nested.
// Each level costs C++ and Python stack, and Python raises RecursionError
// after about a thousand frames; so, as PyTorch does, every
// kMaxReentrantDepth levels the nested pass continues on a fresh thread (with
// this thread's grad modes) while this one waits.
constexpr int kMaxReentrantDepth = 32;
static thread_local int t_reentrant_depth = 0;
// Set on the fresh thread of a pass nested on a device thread (the device thread it would
// hand nodes to is waiting for it), and while a checkpoint recomputation holds the generator's
// lock (a node on another thread could wait for that lock while this thread waits for it):
// the passes started here run all their nodes on this thread.
static thread_local bool t_serial_passes = false;

bool set_serial_backward(bool on) {
  const bool before = t_serial_passes;
  t_serial_passes = on;
  return before;
}

uintptr_t current_backward_pass_id() { return t_pass.id; }
bool current_backward_pass_has_inputs() { return t_pass.has_inputs; }

void queue_backward_callback(std::function<void()> callback) {
  EMBER_CHECK(t_pass.final_callbacks, "Final callbacks can only be installed during backward pass.");
  std::lock_guard<std::mutex> lock(g_final_callbacks_mutex);
  t_pass.final_callbacks->push_back(std::move(callback));
}

variable_list run_backward(const variable_list& roots, const variable_list& grad_roots, const variable_list& inputs,
                           const BackwardOptions& opts) {
  if (t_reentrant_depth < kMaxReentrantDepth) {
    ++t_reentrant_depth;
    struct Leave {
      ~Leave() { --t_reentrant_depth; }
    } leave;
    return run_backward_here(roots, grad_roots, inputs, opts);
  }
  variable_list result;
  std::exception_ptr error;
  const bool grad_mode = GradMode::is_enabled(), inference = GradMode::is_inference();
  const bool serial_only = on_device_thread() || t_serial_passes;
  std::thread fresh([&] {
    GradMode::set_enabled(grad_mode);
    GradMode::set_inference(inference);
    t_serial_passes = serial_only;
    try {
      result = run_backward(roots, grad_roots, inputs, opts);
    } catch (...) { error = std::current_exception(); }
  });
  fresh.join();
  if (error) std::rethrow_exception(error);
  return result;
}

namespace {
variable_list run_backward_here(const variable_list& roots, const variable_list& grad_roots,
                                const variable_list& inputs, const BackwardOptions& opts) {
  EMBER_ASSERT(roots.size() == grad_roots.size());
  auto root = std::make_shared<GraphRoot>();
  for (size_t i = 0; i < roots.size(); ++i) {
    Edge e = gradient_edge(roots[i]);
    EMBER_CHECK(e.valid(), "element ", i, " of tensors does not require grad and does not have a grad_fn");
    root->next_edges.push_back(std::move(e));
    root->grads.push_back(grad_roots[i]);
  }

  std::vector<std::function<void()>> final_callbacks;
  GraphTask task;
  task.opts = opts;
  task.pass = {&final_callbacks, ++g_backward_passes, !inputs.empty()};
  PassScope pass(task.pass);
  std::vector<Edge> input_edges;
  build_graph(task, root.get(), inputs, input_edges);
  task.on_device_threads =
      !task.lane.empty() && !opts.create_graph && !on_worker_thread() && !on_device_thread() && !t_serial_passes;
  push_ready(task, 0);

  const int budget = kernels::max_threads();
  // A pass that records a graph (create_graph) stays serial: the nodes it creates
  // get their sequence numbers in a fixed order, and those order the summation
  // of a later backward through them (Note [Deterministic accumulation]).
  if (task.on_device_threads) {
    run_with_device_threads(task);
  } else if (parallel_backward_for(budget) && !on_worker_thread() && !opts.create_graph && !t_serial_passes &&
             task.work >= kParallelBackwardWork) {
    run_parallel(task);
  } else {
    AutoGradMode grad_mode(opts.create_graph);
    run_serial(task);
  }
  variable_list& captured = task.captured;
  // A callback may queue another; each runs once, in order.
  for (size_t i = 0; i < final_callbacks.size(); ++i) {
    auto callback = final_callbacks[i];  // a copy: the callback may queue more and move the vector
    callback();
  }

  if (inputs.empty()) return {};
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (captured[i]) continue;
    if (!opts.allow_unused && !opts.accumulate_grad)
      EMBER_FAIL(Runtime, "The differentiated Tensor at index ", i,
                 " appears to not have been used in the graph. Set allow_unused=True if this is the desired "
                 "behavior.");
  }
  if (!opts.accumulate_grad) return captured;

  // backward(inputs=...): a leaf's AccumulateGrad ran in the pass; a non-leaf input keeps its
  // gradient as retain_grad would.
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!captured[i] || inputs[i]->is_leaf()) continue;
    auto& meta = inputs[i]->autograd_mut();
    std::lock_guard<std::mutex> lock(meta.mutex);
    meta.grad = meta.grad ? add(meta.grad, captured[i]) : (opts.create_graph ? captured[i] : detach(captured[i]));
  }
  return {};
}
}  // namespace

}  // namespace ember
