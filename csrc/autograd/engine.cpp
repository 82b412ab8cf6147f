// Note [Engine order]
// A dependency-counting executor, as PyTorch's: a first pass from the roots
// assigns each reachable node a dense id and counts the edges into it; a node
// runs once, when every gradient it will receive has arrived, taking the
// sum of them from its input buffer. Among ready nodes the one created last
// (highest sequence_nr) runs first, which consumes late layers' gradients
// before early ones are produced and keeps peak memory low; AccumulateGrad has
// the highest priority so leaf gradients land as soon as they are complete.
#include "autograd/engine.h"

#include <queue>
#include <unordered_map>

#include "autograd/accumulate_grad.h"
#include "autograd/grad_mode.h"
#include "autograd/meta.h"
#include "ops/ops.h"

namespace ember {
namespace {

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
  if (!slot) { slot = std::move(g); return; }
  if (!GradMode::is_enabled() && slot.use_count() == 1 && slot->storage().use_count() == 1 && !slot->view_base &&
      slot->sizes() == broadcast_shapes(slot->sizes(), g->sizes()) && slot->dtype() == promote(slot->dtype(), g->dtype())) {
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
  if (g->dtype() != expected.dtype) g = to_dtype(g, expected.dtype);
  return g;
}

}  // namespace

variable_list run_backward(const variable_list& roots, const variable_list& grad_roots,
                           const variable_list& inputs, const BackwardOptions& opts) {
  EMBER_ASSERT(roots.size() == grad_roots.size());
  auto root = std::make_shared<GraphRoot>();
  for (size_t i = 0; i < roots.size(); ++i) {
    Edge e = gradient_edge(roots[i]);
    EMBER_CHECK(e.valid(), "element ", i, " of tensors does not require grad and does not have a grad_fn");
    root->next_edges.push_back(std::move(e));
    root->grads.push_back(grad_roots[i]);
  }

  // Dependency pass: dense ids, edge counts, and for `inputs`, which nodes lie
  // on a path to one (`needed`).
  std::unordered_map<Node*, int> ids;
  std::vector<Node*> nodes;
  std::vector<int> deps;
  auto id_of = [&](Node* n) {
    auto [it, fresh] = ids.emplace(n, (int)nodes.size());
    if (fresh) { nodes.push_back(n); deps.push_back(0); }
    return std::make_pair(it->second, fresh);
  };
  id_of(root.get());
  std::vector<Node*> stack{root.get()};
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (auto& e : n->next_edges) {
      if (!e.valid()) continue;
      auto [id, fresh] = id_of(e.fn.get());
      deps[id]++;
      if (fresh) stack.push_back(e.fn.get());
    }
  }
  const int num_nodes = (int)nodes.size();

  std::vector<Capture> captures;
  std::vector<char> needed(num_nodes, inputs.empty() ? 1 : 0);
  std::vector<char> is_target(num_nodes, 0);
  std::vector<Edge> input_edges;
  for (size_t i = 0; i < inputs.size(); ++i) {
    Edge e = gradient_edge(inputs[i]);
    EMBER_CHECK(e.valid(), "One of the differentiated Tensors does not require grad");
    auto it = ids.find(e.fn.get());
    if (it != ids.end()) {
      captures.push_back({it->second, e.input_nr, i});
      is_target[it->second] = 1;
    }
    input_edges.push_back(std::move(e));
  }
  if (!inputs.empty()) {
    // A node is needed when one of its edges leads to a needed node or a
    // capture target; ids grow in discovery order, so iterate to a fixpoint.
    bool changed = true;
    while (changed) {
      changed = false;
      for (int id = num_nodes - 1; id >= 0; --id) {
        if (needed[id]) continue;
        for (auto& e : nodes[id]->next_edges) {
          if (!e.valid()) continue;
          int c = ids[e.fn.get()];
          if (needed[c] || is_target[c]) { needed[id] = 1; changed = true; break; }
        }
      }
    }
  }

  AutoGradMode grad_mode(opts.create_graph);
  std::vector<variable_list> buffers(num_nodes);
  buffers[0] = variable_list{};
  variable_list captured(inputs.size());

  auto cmp = [&](int a, int b) { return nodes[a]->sequence_nr < nodes[b]->sequence_nr; };
  std::priority_queue<int, std::vector<int>, decltype(cmp)> ready(cmp);
  ready.push(0);

  while (!ready.empty()) {
    int id = ready.top();
    ready.pop();
    Node* node = nodes[id];
    variable_list grads = std::move(buffers[id]);
    grads.resize(node->num_inputs());

    for (uint32_t k = 0; k < grads.size(); ++k) {
      if (!grads[k]) continue;
      if (!node->pre_hooks.empty()) grads[k] = run_tensor_hooks(node->pre_hooks, k, std::move(grads[k]));
      if (!node->retain_grad_hooks.empty()) run_tensor_hooks(node->retain_grad_hooks, k, grads[k]);
    }
    if (is_target[id])
      for (auto& c : captures)
        if (c.node_id == id) captured[c.input_index] = grads[c.input_nr];

    // With `inputs`, a node runs only on the way to another input.
    if (id != 0 && !needed[id]) continue;

    bool any_defined = id == 0;
    for (auto& g : grads) any_defined |= (bool)g;
    variable_list outputs;
    if (any_defined) {
      // Formulas see zeros, never undefined, for outputs that got no gradient.
      for (uint32_t k = 0; k < grads.size(); ++k)
        if (!grads[k]) grads[k] = zeros(node->input_metas[k].shape, node->input_metas[k].dtype);
      outputs = node->apply(std::move(grads));
    }
    if (!opts.keep_graph) node->release_variables();
    if (any_defined && outputs.size() != node->next_edges.size())
      EMBER_FAIL(Runtime, "function ", node->name(), " returned an incorrect number of gradients (expected ",
                 node->next_edges.size(), ", got ", outputs.size(), ")");

    for (size_t j = 0; j < node->next_edges.size(); ++j) {
      const Edge& e = node->next_edges[j];
      if (!e.valid()) continue;
      int child = ids[e.fn.get()];
      if (any_defined && outputs[j]) {
        Tensor g = validate_gradient(*node, j, std::move(outputs[j]), e.fn->input_metas[e.input_nr]);
        auto& buf = buffers[child];
        if (buf.size() < e.fn->num_inputs()) buf.resize(e.fn->num_inputs());
        accumulate_into(buf[e.input_nr], std::move(g));
      }
      if (--deps[child] == 0 && (needed[child] || is_target[child])) ready.push(child);
    }
  }

  if (inputs.empty()) return {};
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (captured[i]) continue;
    if (!opts.allow_unused && !opts.accumulate_grad)
      EMBER_FAIL(Runtime, "One of the differentiated Tensors appears to not have been used in the graph. "
                          "Set allow_unused=True if this is the desired behavior.");
  }
  if (!opts.accumulate_grad) return captured;

  // backward(inputs=...): accumulate into .grad of exactly those tensors.
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!captured[i]) continue;
    if (inputs[i]->is_leaf()) {
      input_edges[i].fn->apply({captured[i]});
    } else {
      auto& meta = inputs[i]->autograd_mut();
      std::lock_guard<std::mutex> lock(meta.mutex);
      meta.grad = meta.grad ? add(meta.grad, captured[i]) : (opts.create_graph ? captured[i] : detach(captured[i]));
    }
  }
  return {};
}

}  // namespace ember
