#include "autograd/node.h"

#include <algorithm>
#include <cctype>
#include <iterator>
#include <limits>

#include "autograd/accumulate_grad.h"
#include "autograd/anomaly.h"
#include "autograd/grad_mode.h"
#include "autograd/meta.h"
#include "ops/ops.h"

namespace ember {

static std::atomic<uint64_t> global_sequence_nr{0};
static std::atomic<int64_t> global_hook_id{0};

Node::Node() : sequence_nr(global_sequence_nr.fetch_add(1, std::memory_order_relaxed)) {
  if (AnomalyMode::is_enabled() && AnomalyMode::on_node_created) AnomalyMode::on_node_created(*this);
}

int64_t next_hook_id() { return ++global_hook_id; }

uint32_t Node::add_input_meta(const Tensor& t) {
  input_metas.push_back(InputMeta{t->sizes(), t->dtype(), t->device()});
  return (uint32_t)input_metas.size() - 1;
}

namespace {
// The nodes a release has yet to drop: the first few in place, so that freeing
// a small graph (an op's node and its inputs' AccumulateGrads) allocates nothing.
struct PendingNodes {
  std::shared_ptr<Node> first[8];
  size_t count = 0;
  std::vector<std::shared_ptr<Node>> more;
  void push(std::shared_ptr<Node>&& node) {
    if (count < std::size(first))
      first[count++] = std::move(node);
    else
      more.push_back(std::move(node));
  }
  std::shared_ptr<Node> pop() {
    if (!more.empty()) {
      std::shared_ptr<Node> node = std::move(more.back());
      more.pop_back();
      return node;
    }
    return count ? std::move(first[--count]) : nullptr;
  }
};
}  // namespace

void release_node(std::shared_ptr<Node>&& node) {
  // Only the last owner destroys; it parks further nodes on a thread-local list
  // that is drained in a loop instead of by recursion.
  thread_local PendingNodes* pending = nullptr;
  if (!node) return;
  if (node.use_count() > 1) {
    node.reset();
    return;
  }
  if (pending) {
    pending->push(std::move(node));
    return;
  }
  PendingNodes list;
  pending = &list;
  node.reset();
  while (std::shared_ptr<Node> next = list.pop()) next.reset();
  pending = nullptr;
}

static std::shared_ptr<Node> grad_accumulator(const Tensor& leaf) {
  auto& meta = leaf->autograd_mut();
  std::lock_guard<std::mutex> lock(meta.mutex);
  auto acc = meta.grad_accumulator.lock();
  if (!acc) {
    acc = std::make_shared<AccumulateGrad>(leaf);
    meta.grad_accumulator = acc;
  }
  return acc;
}

void set_data(const Tensor& t, const Tensor& data) {
  EMBER_CHECK(!t->requires_grad() || is_floating(data->dtype()),
              "data set to a tensor that requires gradients must be floating point or complex dtype");
  if (auto* meta = t->autograd(); meta && (data->dtype() != t->dtype() || data->device() != t->device())) {
    std::lock_guard<std::mutex> lock(meta->mutex);
    meta->grad_accumulator.reset();
  }
  t->set_data(*data);
}

// Note [View history]
// An in-place op through one view rewrites its base's history
// (Note [In-place on views]), and other views of that base made before it still point at the
// old history: their gradient would skip the in-place op. As PyTorch does,
// such a view (its version moved on since its grad_fn was set) gets a fresh
// history when it is next used in a graph: an as_strided view of its base's
// current history.
std::string forward_op_name(const Node& node) {
  std::string name = node.name();
  while (!name.empty() && std::isdigit((unsigned char)name.back())) name.pop_back();
  if (name.size() > 8 && name.compare(name.size() - 8, 8, "Backward") == 0) name.resize(name.size() - 8);
  return name;
}

void throw_view_made_without_grad_modified(const TensorImpl& view, bool indirect) {
  const bool inference = view.view_creation == TensorImpl::ViewCreation::InferenceMode;
  std::string prefix = "A view was created in";
  if (const auto& fn = view.grad_fn())  // a view (made with grad) of such a view
    prefix = detail::cat("Output ", view.autograd()->output_nr, " of ", forward_op_name(*fn),
                         " is a view of a view which was created in");
  EMBER_FAIL(Runtime, prefix, inference ? " inference mode and " : " no_grad mode and ",
             indirect ? "its base or another view of its base has been" : "is being",
             inference ? " modified inplace in normal mode." : " modified inplace with grad mode enabled.",
             " Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify your code by "
             "moving both the view and the inplace either both inside the ",
             inference ? "inference_mode" : "no_grad",
             " block (if you don't want the inplace to be tracked) or both outside (if you want the inplace to be "
             "tracked).");
}

void refresh_view_history(const Tensor& t) {
  using VC = TensorImpl::ViewCreation;
  if (!t->view_base) return;
  const Tensor& base = t->view_base;
  auto* meta = t->autograd();
  const bool has_history = meta && meta->grad_fn;
  if (!has_history && !base->requires_grad()) return;
  // A view without history of its own is as old as its creation.
  if (t->version() == (has_history ? meta->history_version : t->view_version)) return;
  if (t->view_creation == VC::NoGradMode || t->view_creation == VC::InferenceMode)
    throw_view_made_without_grad_modified(*t, /*indirect=*/true);
  if (!base->requires_grad() || !base->is_contiguous()) return;
  AutoGradMode record(true);
  Tensor v = as_strided(base, t->sizes(), t->strides(), t->offset());
  rebase_history(t, v->autograd()->grad_fn, v->autograd()->output_nr);
}

Edge gradient_edge(const Tensor& t) {
  if (!t) return Edge();
  refresh_view_history(t);
  auto* meta = t->autograd();
  if (!meta) return Edge();
  if (meta->grad_fn) return Edge(meta->grad_fn, meta->output_nr);
  if (meta->requires_grad) return Edge(grad_accumulator(t), 0);
  return Edge();
}

void set_history(const Tensor& t, const std::shared_ptr<Node>& fn) {
  auto& meta = t->autograd_mut();
  meta.grad_fn = fn;
  meta.output_nr = fn->add_input_meta(t);
  meta.history_version = t->version();
}

void rebase_history(const Tensor& t, std::shared_ptr<Node> fn, uint32_t output_nr) {
  auto& meta = t->autograd_mut();
  std::shared_ptr<Node> old = std::move(meta.grad_fn);
  meta.grad_fn = std::move(fn);
  meta.output_nr = output_nr;
  meta.history_version = t->version();
  if (meta.retains_grad && old && meta.grad_fn) {
    auto& hooks = old->retain_grad_hooks;
    auto it = std::find_if(hooks.begin(), hooks.end(), [&](auto& h) { return h.id == meta.retain_grad_hook_id; });
    if (it != hooks.end()) {
      Node::TensorHook hook = std::move(*it);
      hooks.erase(it);
      hook.output_nr = output_nr;
      meta.grad_fn->retain_grad_hooks.push_back(std::move(hook));
    }
  }
  release_node(std::move(old));
}

Tensor run_tensor_hooks(const std::vector<Node::TensorHook>& registered, uint32_t output_nr, Tensor grad) {
  // A copy: a hook may remove itself or another hook (handle.remove()) while they run.
  const std::vector<Node::TensorHook> hooks = registered;
  for (auto& h : hooks) {
    if (h.output_nr != output_nr) continue;
    Tensor r = h.fn(grad);
    if (r) grad = std::move(r);
  }
  return grad;
}

// Whether `g` is the only user of its memory, so it can become .grad as is: a
// contiguous tensor nobody else holds, or a contiguous view covering its whole
// buffer whose base nothing else holds (the transposed gradient of Note
// [Gradient layout] after TBackward).
// `refs`: the references expected besides nobody else's (the engine keeps one more for post-hooks).
static bool sole_owner(const Tensor& g, long refs) {
  if (g.use_count() != refs || !g->is_contiguous()) return false;
  if (!g->view_base) return g->storage().use_count() == 1;
  return g->view_base.use_count() == 1 && g->storage().use_count() == 2 && g->offset() == 0 &&
         g->numel() * (int64_t)itemsize(g->dtype()) == (int64_t)g->storage()->nbytes;
}

AccumulateGrad::AccumulateGrad(Tensor leaf) : variable(std::move(leaf)) {
  sequence_nr = std::numeric_limits<uint64_t>::max();
  cheap = true;
  is_accumulate_grad = true;
  add_input_meta(variable);
  apply_grad_dtype();
}

void AccumulateGrad::apply_grad_dtype() {
  const auto& meta = *variable->autograd();
  InputMeta& in = input_metas[0];
  in.dtype = meta.grad_dtype_mode == AutogradMeta::GradDType::kSet ? meta.grad_dtype : variable->dtype();
  in.any_dtype = meta.grad_dtype_mode == AutogradMeta::GradDType::kAny;
}

void set_grad_dtype(const Tensor& leaf, std::optional<DType> dtype) {
  auto& meta = leaf->autograd_mut();
  std::shared_ptr<Node> acc;
  {
    std::lock_guard<std::mutex> lock(meta.mutex);
    meta.grad_dtype_mode = dtype ? AutogradMeta::GradDType::kSet : AutogradMeta::GradDType::kAny;
    if (dtype) meta.grad_dtype = *dtype;
    acc = meta.grad_accumulator.lock();
  }
  if (acc) static_cast<AccumulateGrad&>(*acc).apply_grad_dtype();
}

std::optional<DType> grad_dtype(const Tensor& leaf) {
  const auto* meta = leaf->autograd();
  if (!meta || meta->grad_dtype_mode == AutogradMeta::GradDType::kOwn) return leaf->dtype();
  if (meta->grad_dtype_mode == AutogradMeta::GradDType::kAny) return std::nullopt;
  return meta->grad_dtype;
}

Tensor AccumulateGrad::run_leaf_hooks(Tensor grad) const {
  return run_tensor_hooks(variable->autograd()->leaf_hooks, 0, std::move(grad));
}

// A new .grad holding g's values. PyTorch's gradient layout contract: the .grad of a dense,
// non-overlapping leaf has the leaf's strides (a transposed weight gets a transposed
// gradient); of any other, contiguous. Under create_graph the copy is recorded, so .grad's
// grad_fn is CopyBackwards, as PyTorch's.
static Tensor new_grad_like_leaf(const Tensor& g, const Tensor& leaf) {
  const bool leaf_layout = !leaf->is_contiguous() && non_overlapping_and_dense(*leaf);
  if (!leaf_layout && !GradMode::is_enabled()) return clone(g);
  Tensor out = leaf_layout ? std::make_shared<TensorImpl>(
                                 allocate_storage((size_t)leaf->numel() * itemsize(g->dtype()), g->device()),
                                 leaf->sizes(), leaf->strides(), 0, g->dtype())
                           : empty(g->sizes(), g->dtype(), g->device());
  return copy_(out, g);
}

variable_list AccumulateGrad::apply(variable_list&& grads) {
  Tensor g = std::move(grads[0]);
  auto& meta = variable->autograd_mut();
  if (!g) return {};
  {
    std::lock_guard<std::mutex> lock(meta.mutex);
    if (!meta.grad) {
      // Steal the buffer when nothing else holds it (Note [Engine order]); a
      // gradient that shares its memory must be copied so .grad owns its own.
      // Post-hooks get the incoming gradient (the engine's copy), which is then .grad itself, as PyTorch's.
      if (!GradMode::is_enabled() && g->dtype() == variable->dtype() && sole_owner(g, 1 + !post_hooks.empty()) &&
          (variable->is_contiguous() || g->strides() == variable->strides()))
        meta.grad =
            g->view_base ? std::make_shared<TensorImpl>(g->storage(), g->sizes(), g->strides(), 0, g->dtype()) : g;
      else
        meta.grad = new_grad_like_leaf(g, variable);
    } else if (GradMode::is_enabled()) {
      meta.grad = add(meta.grad, g);  // create_graph: keep the graph of the sum
    } else {
      add_(meta.grad, g);
    }
  }
  const auto post_hooks = meta.post_accumulate_hooks;  // a copy: a hook may remove one
  for (auto& h : post_hooks) h.fn(variable);
  return {};
}

}  // namespace ember
