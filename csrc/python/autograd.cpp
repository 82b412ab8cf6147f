// Autograd bindings: tensor autograd attributes, hooks, the engine entry
// point, grad modes, graph nodes, and the node behind autograd.Function.
#include <unordered_map>

#include "autograd/accumulate_grad.h"
#include "autograd/anomaly.h"
#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/saved_variable.h"
#include "ops/op_node.h"
#include "python/bindings.h"

namespace ember {
namespace bind {
namespace {

// The backward of a Python autograd.Function: calls cls.backward(ctx, *grads)
// with the GIL held. One edge per forward argument (empty for non-tensors).
struct PyFunctionNode : Node {
  std::shared_ptr<PyRef> ctx, backward;
  std::string fn_name;
  std::vector<SavedVariable> saved;
  // For each value forward returned, its gradient's slot (-1: not a tensor,
  // backward gets None). ctx.set_materialize_grads(False): None, not zeros,
  // for outputs that got no gradient.
  std::vector<int> output_slots;
  bool materialize = true;

  bool materializes_grads() const override { return materialize; }

  std::string name() const override { return fn_name; }
  bool is_python() const override { return true; }
  void release_variables() override {
    for (auto& s : saved) s.reset();
  }

  variable_list apply(variable_list&& grads) override {
    EnterPython python;
    // Only a node no tensor can reach loses its state to the garbage collector.
    EMBER_ASSERT(ctx && backward);
    py::tuple args(output_slots.size() + 1);
    args[0] = ctx->obj;
    for (size_t i = 0; i < output_slots.size(); ++i) {
      int slot = output_slots[i];
      args[i + 1] = slot >= 0 && grads[slot] ? py::cast(grads[slot]) : py::none();
    }
    py::object result = backward->obj(*args);
    py::tuple res = py::isinstance<py::tuple>(result) ? result.cast<py::tuple>() : py::make_tuple(result);
    size_t expected = next_edges.size();
    bool extra_are_none = true;
    for (size_t i = expected; i < res.size(); ++i) extra_are_none &= res[i].is_none();
    if (res.size() < expected || !extra_are_none)
      EMBER_FAIL(Runtime, "function ", fn_name, " returned an incorrect number of gradients (expected ", expected,
                 ", got ", res.size(), ")");
    variable_list out(expected);
    for (size_t i = 0; i < expected; ++i) {
      if (res[i].is_none()) continue;
      if (!is_tensor(res[i]))
        EMBER_FAIL(Type, "function ", fn_name, " returned a gradient of type ",
                   std::string(py::str(py::type::handle_of(res[i]).attr("__name__"))), " at index ", i,
                   "; expected a Tensor or None");
      out[i] = res[i].cast<Tensor>();
    }
    return out;
  }
};

}  // namespace

// Note [Node classes]
// In PyTorch each kind of node has its own Python class (MulBackward0,
// AccumulateGrad, a custom Function's FnBackward); tools such as torchviz
// label graphs with type(grad_fn).__name__. ember's nodes are C++ objects
// bound as one class, Node; the first time a node of some name reaches Python,
// a subclass of Node of that name is made (empty __slots__: its instances keep
// Node's layout, so an object's class can be set to it), and the caster of
// std::shared_ptr<Node> (common.h) gives every node object its name's class.
void set_node_class(py::handle obj, const Node& node) {
  // Created once per name and kept for the life of the interpreter.
  static auto* classes = new std::unordered_map<std::string, PyObject*>();
  std::string name = node.name();
  auto it = classes->find(name);
  if (it == classes->end()) {
    py::handle base = py::type::of<Node>();
    std::string short_name = name.substr(name.rfind(':') == std::string::npos ? 0 : name.rfind(':') + 1);
    py::dict ns;
    ns["__slots__"] = py::tuple();
    ns["__module__"] = node.is_python() ? "ember.autograd.function" : "builtins";
    ns["__qualname__"] = short_name;
    py::object cls = py::handle((PyObject*)Py_TYPE(base.ptr()))(short_name, py::make_tuple(base), ns);
    it = classes->emplace(name, cls.release().ptr()).first;
  }
  if ((PyObject*)Py_TYPE(obj.ptr()) != it->second && PyObject_SetAttrString(obj.ptr(), "__class__", it->second) != 0)
    throw py::error_already_set();
}

namespace {

// A view among a custom Function's outputs refuses in-place changes, in PyTorch's words for a
// Function with one output or with several (Note [View creation]).
void mark_custom_function_view(TensorImpl& view, uint32_t output_nr, const py::list& outputs) {
  int tensors = 0;
  for (auto h : outputs) tensors += is_tensor(h);
  view.view_creation = tensors > 1 ? TensorImpl::ViewCreation::MultiOutput : TensorImpl::ViewCreation::CustomFunction;
  view.view_creator = nullptr;  // named after the Function's node
  view.view_output_nr = output_nr;
}

// Note [Saved tensor hooks]: a Python pack/unpack pair.
struct PyHooks : SavedTensorHooks {
  std::shared_ptr<void> pack(const Tensor& t) override {
    EnterPython python;
    return std::make_shared<PyRef>(pack_fn()(t));
  }
  Tensor unpack(const std::shared_ptr<void>& packed) override {
    EnterPython python;
    py::object r = unpack_fn()(static_cast<PyRef*>(packed.get())->obj);
    if (!is_tensor(r))
      throw py::type_error("Output of saved tensor unpack_hook expected to be a Tensor but got result of type " +
                           std::string(py::str(py::type::handle_of(r).attr("__name__"))));
    return r.cast<Tensor>();
  }
  py::object& pack_fn() { return pack_ref->obj; }
  py::object& unpack_fn() { return unpack_ref->obj; }
  std::shared_ptr<PyRef> pack_ref, unpack_ref;
};

std::shared_ptr<SavedTensorHooks> python_saved_hooks(py::function pack, py::function unpack) {
  auto hooks = std::make_shared<PyHooks>();
  hooks->pack_ref = std::make_shared<PyRef>(pack);
  hooks->unpack_ref = std::make_shared<PyRef>(unpack);
  return hooks;
}

// grad_fn._raw_saved_<name>: one saved tensor of a node, to give it its own hooks.
struct RawSavedTensor {
  std::weak_ptr<Node> node;
  size_t index;
  SavedVariable& variable() const {
    auto n = node.lock();
    if (!n) throw_saved_tensors_freed();
    return static_cast<OpNode&>(*n).saved[index];
  }
};

// ctx.saved_tensors: unpacks the node's saved tensors (version-checked; an
// error once backward has freed them). Weak, so ctx does not keep the node alive.
struct SavedTensorsHandle {
  std::weak_ptr<PyFunctionNode> node;
  py::tuple unpack() const {
    auto n = node.lock();
    py::list out;
    if (!n) throw_saved_tensors_freed();
    for (auto& s : n->saved) out.append(py::cast(s.unpack(n)));
    return py::tuple(out);
  }
};

struct HookHandle {
  std::weak_ptr<TensorImpl> leaf;
  std::weak_ptr<Node> node;
  int64_t id;
  void remove() {
    // Tensor hooks and node hooks alike.
    auto drop = [&](auto& hooks) {
      hooks.erase(std::remove_if(hooks.begin(), hooks.end(), [&](auto& h) { return h.id == id; }), hooks.end());
    };
    if (auto t = leaf.lock()) {
      drop(t->autograd_mut().leaf_hooks);
      drop(t->autograd_mut().post_accumulate_hooks);
    }
    if (auto n = node.lock()) {
      drop(n->pre_hooks);
      drop(n->node_pre_hooks);
      drop(n->post_hooks);
    }
  }
};

// A Python hook on a node (grad_fn.register_prehook / register_hook): called
// with tuples of gradients (None for a missing one); a tuple it returns must
// have one entry per gradient.
Node::GradsHook python_node_hook(py::function fn, bool is_post) {
  auto ref = std::make_shared<PyRef>(fn);
  return [ref, is_post](const variable_list& grads, const variable_list& incoming) -> variable_list {
    EnterPython python;
    auto as_tuple = [](const variable_list& v) {
      py::tuple t(v.size());
      for (size_t i = 0; i < v.size(); ++i) t[i] = v[i] ? py::cast(v[i]) : py::none();
      return t;
    };
    py::object r = is_post ? ref->obj(as_tuple(grads), as_tuple(incoming)) : ref->obj(as_tuple(grads));
    if (r.is_none()) return {};
    std::string name = py::str(py::getattr(ref->obj, "__name__", py::repr(ref->obj)));
    if (!py::isinstance<py::tuple>(r) && !py::isinstance<py::list>(r))
      throw py::type_error("expected tuple, but hook returned '" +
                           std::string(py::str(py::type::handle_of(r).attr("__name__"))) + "'");
    py::sequence seq = r;
    EMBER_CHECK(seq.size() == grads.size(), "hook '", name, "' has returned an incorrect number of values (got ",
                seq.size(), ", but expected ", grads.size(), ")");
    variable_list out(grads.size());
    for (size_t i = 0; i < out.size(); ++i) {
      if (seq[i].is_none()) continue;
      if (!is_tensor(seq[i]))
        throw py::type_error("expected Variable or None (got " +
                             std::string(py::str(py::type::handle_of(seq[i]).attr("__name__"))) + ")");
      out[i] = seq[i].cast<Tensor>();
    }
    return out;
  };
}

// A Python tensor hook: may replace the gradient, with one of the same shape
// and dtype (PyTorch's checks and words).
Hook python_hook(py::function fn) {
  auto ref = std::make_shared<PyRef>(fn);
  return [ref](const Tensor& g) -> Tensor {
    EnterPython python;
    py::object r = ref->obj(g);
    if (r.is_none()) return Tensor();
    if (!is_tensor(r)) throw py::type_error("hook must return None or a Tensor");
    Tensor out = r.cast<Tensor>();
    if (!g) return out;  // an output that got no gradient (the hook was called with None)
    std::string name = py::str(py::getattr(ref->obj, "__name__", py::repr(ref->obj)));
    EMBER_CHECK(out->sizes() == g->sizes(), "hook '", name, "' has changed the size of value");
    EMBER_CHECK(out->dtype() == g->dtype(), "hook '", name, "' has changed the type of value (was ember.",
                legacy_type_name(g->dtype()), " got ember.", legacy_type_name(out->dtype()), ")");
    return out;
  };
}

const char* kNonLeafGradWarning =
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute won't be "
    "populated during autograd.backward(). If you indeed want the .grad field to be populated for a non-leaf Tensor, "
    "use .retain_grad() on the non-leaf Tensor. If you access the non-leaf Tensor by mistake, make sure you access "
    "the leaf Tensor instead.";

py::object state_value(const StateValue& v) {
  return std::visit(
      [](const auto& x) -> py::object {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>)
          return py::none();
        else if constexpr (std::is_same_v<T, std::vector<int64_t>>)
          return py::tuple(py::cast(x));
        else
          return py::cast(x);
      },
      v);
}

// A saved tensor's name as Python sees it: a list's "indices[]" is "indices".
std::string saved_name(const char* name) {
  std::string s = name;
  return s.size() > 2 && s.compare(s.size() - 2, 2, "[]") == 0 ? s.substr(0, s.size() - 2) : s;
}

// grad_fn._saved_<name>: a saved tensor or a State value of a built-in op's
// node by name (Note [Node state]); a list of tensors comes as a tuple.
py::object saved_attribute(Node& node, const std::string& attr) {
  const std::string prefix = "_saved_";
  auto* op = dynamic_cast<OpNode*>(&node);
  const std::string raw = "_raw_saved_";
  if (op && attr.compare(0, raw.size(), raw) == 0) {
    std::string key = attr.substr(raw.size());
    for (size_t i = 0; i < op->saved.size(); ++i)
      if (key == op->saved[i].name) return py::cast(RawSavedTensor{op->shared_from_this(), i});
  }
  if (op && attr.compare(0, prefix.size(), prefix) == 0) {
    std::string key = attr.substr(prefix.size());
    py::list tensors;
    bool is_list = false;
    for (size_t i = 0; i < op->saved.size(); ++i)
      if (key == saved_name(op->saved[i].name)) {
        is_list |= key != op->saved[i].name;
        Tensor t = op->saved_at(i);
        tensors.append(t ? py::cast(t) : py::none());
      }
    if (tensors.size() > 0) return is_list ? py::object(py::tuple(tensors)) : tensors[0];
    for (auto& [name, value] : op->state_fields().items)
      if (key == name) return state_value(value);
  }
  throw py::attribute_error("'" + node.name() + "' object has no attribute '" + attr + "'");
}

py::list saved_attribute_names(Node& node) {
  py::list names;
  auto* op = dynamic_cast<OpNode*>(&node);
  if (!op) return names;
  std::vector<std::string> seen;
  auto add = [&](const char* name) {
    std::string attr = "_saved_" + saved_name(name);
    if (std::find(seen.begin(), seen.end(), attr) != seen.end()) return;
    seen.push_back(attr);
    names.append(attr);
  };
  for (const SavedVariable& s : op->saved) add(s.name);
  for (auto& item : op->state_fields().items) add(item.first);
  return names;
}

void set_requires_grad(const Tensor& t, bool on) {
  EMBER_CHECK(!(on && t->is_inference && !GradMode::is_inference()),
              "Setting requires_grad=True on inference tensor outside InferenceMode is not allowed.");
  if (!t->is_leaf()) {
    EMBER_CHECK(on,
                "you can only change requires_grad flags of leaf variables. If you want to use a computed variable "
                "in a subgraph that doesn't require differentiation use var_no_grad = var.detach().");
    return;
  }
  EMBER_CHECK(!on || is_floating(t->dtype()),
              "Only Tensors of floating point and complex dtype can require gradients (got ", dtype_name(t->dtype()),
              ")");
  if (on || t->autograd()) t->autograd_mut().requires_grad = on;
}

}  // namespace

// Note [Python objects held by C++]
// A tensor's C++ side can hold Python objects: its hooks, and through a
// grad_fn only it owns, a custom Function's ctx and backward. Python's cycle
// collector cannot see those references, so a hook closing over its tensor,
// or `ctx.out = output`, would keep a whole graph alive forever. The Tensor
// type's tp_traverse shows them to the collector and tp_clear drops them, as
// PyTorch's THPVariable does (a grad_fn shared with other tensors is skipped:
// it is not this tensor's to report).
namespace {

using TraverseFn = int (*)(PyObject*, visitproc, void*);
using ClearFn = int (*)(PyObject*);
TraverseFn pybind11_traverse = nullptr;  // pybind11's, for the instance dict
ClearFn pybind11_clear = nullptr;

TensorImpl* tensor_of(PyObject* self) {
  auto* inst = reinterpret_cast<py::detail::instance*>(self);
  auto vh = inst->get_value_and_holder();
  return vh.holder_constructed() ? vh.holder<Tensor>().get() : nullptr;
}

// The node whose Python-held objects count as the tensor's own.
Node* owned_grad_fn(TensorImpl& t) {
  auto* meta = t.autograd();
  return meta && meta->grad_fn && meta->grad_fn.use_count() == 1 ? meta->grad_fn.get() : nullptr;
}

// The Python objects a node holds: its hooks, its metadata, a custom Function's ctx and backward.
int visit_node(Node& n, visitproc visit, void* arg) {
  for (auto& h : n.pre_hooks) Py_VISIT(static_cast<PyObject*>(h.py_object));
  for (auto& h : n.node_pre_hooks) Py_VISIT(static_cast<PyObject*>(h.py_object));
  for (auto& h : n.post_hooks) Py_VISIT(static_cast<PyObject*>(h.py_object));
  if (n.py_state) Py_VISIT(static_cast<PyRef*>(n.py_state.get())->obj.ptr());
  if (auto* fn = dynamic_cast<PyFunctionNode*>(&n)) {
    if (fn->ctx) Py_VISIT(fn->ctx->obj.ptr());
    if (fn->backward) Py_VISIT(fn->backward->obj.ptr());
  }
  return 0;
}

void clear_node(Node& n) {
  n.pre_hooks.clear();
  n.node_pre_hooks.clear();
  n.post_hooks.clear();
  n.py_state.reset();
  if (auto* fn = dynamic_cast<PyFunctionNode*>(&n)) {
    fn->ctx.reset();
    fn->backward.reset();
  }
}

int tensor_traverse(PyObject* self, visitproc visit, void* arg) {
  if (int r = pybind11_traverse(self, visit, arg)) return r;
  TensorImpl* t = tensor_of(self);
  if (!t || !t->autograd()) return 0;
  for (auto& h : t->autograd()->leaf_hooks) Py_VISIT(static_cast<PyObject*>(h.py_object));
  for (auto& h : t->autograd()->post_accumulate_hooks) Py_VISIT(static_cast<PyObject*>(h.py_object));
  if (Node* n = owned_grad_fn(*t)) return visit_node(*n, visit, arg);
  return 0;
}

int tensor_clear(PyObject* self) {
  TensorImpl* t = tensor_of(self);
  if (t && t->autograd()) {
    t->autograd_mut().leaf_hooks.clear();
    t->autograd_mut().post_accumulate_hooks.clear();
    if (Node* n = owned_grad_fn(*t)) clear_node(*n);
  }
  return pybind11_clear(self);
}

// A node object (grad_fn) reports its node's Python objects when it is the
// node's only owner: then a hook closing over the grad_fn object is a cycle
// the collector can break (a node still in a graph is not its to report).
TraverseFn node_pybind11_traverse = nullptr;
ClearFn node_pybind11_clear = nullptr;

Node* owned_node(PyObject* self) {
  auto* inst = reinterpret_cast<py::detail::instance*>(self);
  auto vh = inst->get_value_and_holder();
  if (!vh.holder_constructed()) return nullptr;
  auto& holder = vh.holder<std::shared_ptr<Node>>();
  return holder && holder.use_count() == 1 ? holder.get() : nullptr;
}

int node_traverse(PyObject* self, visitproc visit, void* arg) {
  if (int r = node_pybind11_traverse(self, visit, arg)) return r;
  if (Node* n = owned_node(self)) return visit_node(*n, visit, arg);
  return 0;
}

int node_clear(PyObject* self) {
  if (Node* n = owned_node(self)) clear_node(*n);
  return node_pybind11_clear(self);
}

}  // namespace

static void node_type_setup(PyHeapTypeObject* heap_type) {
  auto* type = &heap_type->ht_type;
  EMBER_ASSERT(type->tp_flags & Py_TPFLAGS_HAVE_GC);
  node_pybind11_traverse = type->tp_traverse;
  node_pybind11_clear = type->tp_clear;
  type->tp_traverse = node_traverse;
  type->tp_clear = node_clear;
}

void tensor_type_setup(PyHeapTypeObject* heap_type) {
  auto* type = &heap_type->ht_type;
  // py::dynamic_attr made the type GC-tracked with pybind11's traverse/clear for
  // the instance dict; ours call them and add the C++-held objects.
  EMBER_ASSERT(type->tp_flags & Py_TPFLAGS_HAVE_GC);
  pybind11_traverse = type->tp_traverse;
  pybind11_clear = type->tp_clear;
  type->tp_traverse = tensor_traverse;
  type->tp_clear = tensor_clear;
}

void init_autograd(py::module_& m, TensorClass& cls) {
  py::class_<HookHandle>(m, "RemovableHandle", "What register_hook returns: remove() unregisters the hook.")
      .def("remove", &HookHandle::remove, "Unregisters the hook.")
      .def(
          "__enter__", [](py::object self) { return self; }, "The handle itself.")
      .def("__exit__", [](HookHandle& h, py::args) { h.remove(); }, "Unregisters the hook.");

  // dynamic_attr: node classes made at run time are GC types, as every class
  // made by type(); Node must be one too for __class__ assignment (Note [Node classes]).
  py::class_<Node, std::shared_ptr<Node>>(m, "Node", py::dynamic_attr(), py::custom_type_setup(&node_type_setup),
                                          "A backward function of the graph (a tensor's grad_fn).")
      .def("name", &Node::name, "The node's name as PyTorch spells it (MulBackward0, AccumulateGrad, ...).")
      .def_property_readonly(
          "next_functions",
          [](const Node& n) {
            py::tuple out(n.next_edges.size());
            for (size_t i = 0; i < n.next_edges.size(); ++i) {
              const Edge& e = n.next_edges[i];
              out[i] = py::make_tuple(e.fn ? py::cast(e.fn) : py::none(), e.input_nr);
            }
            return out;
          },
          "The (node, input number) pairs the node's gradients flow to.")
      .def(
          "__call__",
          [](Node& n, py::args args) -> py::object {
            // Runs the node's formula on the given gradients (None: none for that output), as
            // PyTorch's nodes do when called; no hooks run.
            if (args.size() != n.num_inputs())
              throw py::type_error(n.name() + ": expected " + std::to_string(n.num_inputs()) + " arguments, got " +
                                   std::to_string(args.size()) + " instead");
            variable_list grads(args.size());
            for (size_t k = 0; k < args.size(); ++k) {
              if (args[k].is_none()) {
                if (n.materializes_grads() && n.input_metas[k].is_tensor)
                  grads[k] = zeros(n.input_metas[k].shape, n.input_metas[k].dtype);
                continue;
              }
              if (!is_tensor(args[k]))
                throw py::type_error(n.name() + ": expected a Tensor or None as argument " + std::to_string(k) +
                                     ", got " + std::string(py::str(py::type::handle_of(args[k]).attr("__name__"))));
              grads[k] = args[k].cast<Tensor>();
            }
            variable_list out;
            {
              py::gil_scoped_release release;
              std::lock_guard<std::recursive_mutex> lock(n.mutex);
              out = n.apply(std::move(grads));
            }
            auto as_object = [](const Tensor& t) { return t ? py::cast(t) : py::none(); };
            if (out.size() == 1) return as_object(out[0]);
            py::tuple result(out.size());
            for (size_t i = 0; i < out.size(); ++i) result[i] = as_object(out[i]);
            return result;
          },
          "Runs the node's backward formula on one gradient per output of the forward op.")
      .def_property_readonly(
          "variable",
          [](const Node& n) -> py::object {
            if (auto* acc = dynamic_cast<const AccumulateGrad*>(&n)) return py::cast(acc->variable);
            throw py::attribute_error("'" + n.name() + "' object has no attribute 'variable'");
          },
          "The leaf an AccumulateGrad node accumulates into.")
      .def(
          "__getattr__",
          [](Node& n, const std::string& attr) -> py::object {
            // A custom Function's node answers for its ctx, as PyTorch's (where they are one object).
            if (auto* fn = dynamic_cast<PyFunctionNode*>(&n); fn && fn->ctx) {
              if (PyObject* r = PyObject_GetAttrString(fn->ctx->obj.ptr(), attr.c_str()))
                return py::reinterpret_steal<py::object>(r);
              // An error other than a missing attribute (saved_tensors once freed) is the answer.
              if (!PyErr_ExceptionMatches(PyExc_AttributeError)) throw py::error_already_set();
              PyErr_Clear();
            }
            return saved_attribute(n, attr);
          },
          py::arg("name"),
          "A saved tensor or value of the node's formula by name: grad_fn._saved_self, grad_fn._saved_dim, ...")
      .def_property_readonly(
          "metadata",
          [](Node& n) {
            if (!n.py_state) n.py_state = std::make_shared<PyRef>(py::dict());
            return static_cast<PyRef*>(n.py_state.get())->obj;
          },
          "A dict kept with the node for the user's own data.")
      .def(
          "register_prehook",
          [](Node& n, py::function fn) {
            HookHandle h{{}, n.shared_from_this(), next_hook_id()};
            n.node_pre_hooks.push_back({h.id, python_node_hook(fn, false), fn.ptr()});
            return h;
          },
          py::arg("fn"),
          "Registers fn(grad_outputs) to run before the node; it may return a tuple replacing the gradients.")
      .def(
          "register_hook",
          [](Node& n, py::function fn) {
            HookHandle h{{}, n.shared_from_this(), next_hook_id()};
            n.post_hooks.push_back({h.id, python_node_hook(fn, true), fn.ptr()});
            return h;
          },
          py::arg("fn"),
          "Registers fn(grad_inputs, grad_outputs) to run after the node; it may return a tuple replacing grad_inputs.")
      .def(
          "_sequence_nr", [](const Node& n) { return n.sequence_nr; },
          "The node's creation order (later nodes run first in backward).")
      .def(
          "__dir__",
          [](py::handle self) {
            py::list names = py::module_::import("builtins").attr("object").attr("__dir__")(self);
            for (auto name : saved_attribute_names(self.cast<Node&>())) names.append(name);
            return names;
          },
          "The node's attributes, with its _saved_* names.")
      .def(
          "__repr__",
          [](py::handle self) {
            std::ostringstream s;
            s << "<" << std::string(py::str(py::type::handle_of(self).attr("__name__"))) << " object at "
              << (const void*)self.ptr() << ">";
            return s.str();
          },
          "<MulBackward0 object at 0x...>, as PyTorch.");

  py::class_<RawSavedTensor>(m, "SavedTensor", "A saved tensor of a node (grad_fn._raw_saved_self, ...).")
      .def(
          "register_hooks",
          [](RawSavedTensor& s, py::function pack, py::function unpack) {
            s.variable().register_hooks(python_saved_hooks(pack, unpack));
          },
          py::arg("pack_hook"), py::arg("unpack_hook"),
          "Packs the saved tensor with pack_hook now; backward gets it back from unpack_hook.");
  py::class_<SavedTensorsHandle>(m, "_SavedTensorsHandle", "ctx.saved_tensors of a custom Function.")
      .def("unpack", &SavedTensorsHandle::unpack, "The saved tensors, version-checked.");

  cls.def_property(
      "requires_grad", [](const Tensor& t) { return t->requires_grad(); },
      [](const Tensor& t, bool on) { set_requires_grad(t, on); },
      "Whether autograd records operations on the tensor (settable on leaves).");
  cls.def(
      "requires_grad_",
      [](const Tensor& t, bool on) {
        set_requires_grad(t, on);
        return t;
      },
      "Sets requires_grad of a leaf in place; returns self.", py::arg("requires_grad") = true);
  cls.def_property_readonly(
      "is_leaf", [](const Tensor& t) { return t->is_leaf(); },
      "Whether the tensor was created by the user rather than by a recorded op.");
  cls.def_property_readonly(
      "grad_fn",
      [](const Tensor& t) {
        refresh_view_history(t);
        return t->grad_fn();
      },
      "The Node that created the tensor, or None for a leaf.");
  cls.def_property_readonly(
      "retains_grad", [](const Tensor& t) { return t->autograd() && t->autograd()->retains_grad; },
      "Whether a non-leaf keeps its .grad (retain_grad() was called).");
  cls.def_property(
      "grad",
      [](const Tensor& t) -> py::object {
        if (!t->is_leaf() && !(t->autograd() && t->autograd()->retains_grad))
          PyErr_WarnEx(PyExc_UserWarning, kNonLeafGradWarning, 1);
        auto* meta = t->autograd();
        if (!meta || !meta->grad) return py::none();
        // The same Python object every time while .grad is the same tensor, kept
        // alive by its owner as in PyTorch (weakref.ref(x.grad) stays valid).
        auto* cached = static_cast<PyRef*>(meta->grad_object.get());
        if (cached && cached->obj.cast<TensorImpl*>() == meta->grad.get()) return cached->obj;
        py::object obj = py::cast(meta->grad);
        meta->grad_object = std::make_shared<PyRef>(obj);
        return obj;
      },
      [](const Tensor& t, py::object g) {
        if (g.is_none()) {
          if (t->autograd()) {
            t->autograd_mut().grad.reset();
            t->autograd_mut().grad_object.reset();
          }
          return;
        }
        if (!is_tensor(g))
          throw py::type_error("assigned grad expected to be a Tensor or None but got grad of type " +
                               std::string(py::str(py::type::handle_of(g).attr("__name__"))));
        Tensor grad = g.cast<Tensor>();
        EMBER_CHECK(grad.get() != t.get(), "can't assign Variable as its own grad");
        EMBER_CHECK(grad->sizes() == t->sizes(), "attempting to assign a gradient of size '",
                    detail::cat(grad->sizes()), "' to a tensor of size '", detail::cat(t->sizes()),
                    "'. Please ensure that the gradient and the tensor are the same size");
        auto expected = t->is_leaf() ? grad_dtype(t) : std::optional<DType>(t->dtype());
        EMBER_CHECK(!expected || grad->dtype() == *expected, "attempting to assign a gradient with dtype '",
                    dtype_name(grad->dtype()), "' to a tensor with grad_dtype '",
                    dtype_name(expected.value_or(t->dtype())), "'. The gradient must match the tensor's dtype.");
        t->autograd_mut().grad = grad;
      },
      "The accumulated gradient, or None.");
  cls.def_property(
      "grad_dtype",
      [](const Tensor& t) -> std::optional<DType> {
        EMBER_CHECK(t->is_leaf(), "grad_dtype can only be accessed on leaf tensors.");
        return grad_dtype(t);
      },
      [](const Tensor& t, std::optional<DType> dtype) {
        EMBER_CHECK(t->is_leaf(), "grad_dtype can only be set on leaf tensors.");
        set_grad_dtype(t, dtype);
      },
      "The dtype a leaf's gradients are cast to before they reach .grad (its own dtype unless set); "
      "None: gradients keep their dtype.");
  cls.def_property(
      "data",
      [](const Tensor& t) {
        Tensor d = make_view(t, t->sizes(), t->strides(), t->offset());
        d->use_own_version_counter();
        return d;
      },
      [](const Tensor& t, const Tensor& other) { set_data(t, other); },
      "An alias of the tensor's data outside autograd (its writes are not version-checked).");
  cls.def(
      "detach_",
      [](const Tensor& t) {
        EMBER_CHECK(!t->view_base, "Can't detach views in-place. Use detach() instead.");
        if (auto* meta = t->autograd()) {
          meta->grad_fn.reset();
          meta->requires_grad = false;
        }
        return t;
      },
      "Detaches the tensor from the graph in place; returns self.");
  cls.def(
      "retain_grad",
      [](const Tensor& t) {
        EMBER_CHECK(t->requires_grad(), "can't retain_grad on Tensor that has requires_grad=False");
        if (t->is_leaf() || t->autograd()->retains_grad) return;
        std::weak_ptr<TensorImpl> weak = t;
        t->grad_fn()->retain_grad_hooks.push_back(
            {t->autograd()->output_nr, next_hook_id(), [weak](const Tensor& g) -> Tensor {
               if (auto self = weak.lock()) {
                 auto& meta = self->autograd_mut();
                 std::lock_guard<std::mutex> lock(meta.mutex);
                 if (!meta.grad)
                   meta.grad = GradMode::is_enabled() ? g : clone(g);
                 else
                   meta.grad = add(meta.grad, g);
               }
               return Tensor();
             }});
        t->autograd_mut().retains_grad = true;
        t->autograd_mut().retain_grad_hook_id = t->grad_fn()->retain_grad_hooks.back().id;
      },
      "Makes a non-leaf keep its .grad during backward.");
  cls.def(
      "register_hook",
      [](const Tensor& t, py::function fn) {
        EMBER_CHECK(t->requires_grad(), "cannot register a hook on a tensor that doesn't require gradient");
        HookHandle h;
        h.id = next_hook_id();
        if (t->is_leaf()) {
          t->autograd_mut().leaf_hooks.push_back({0, h.id, python_hook(fn), fn.ptr()});
          h.leaf = t;
        } else {
          t->grad_fn()->pre_hooks.push_back({t->autograd()->output_nr, h.id, python_hook(fn), fn.ptr()});
          h.node = t->grad_fn();
        }
        return h;
      },
      "Registers hook(grad) to run on the tensor's gradient; it may return a replacement. Returns a RemovableHandle.",
      py::arg("hook"));

  cls.def(
      "register_post_accumulate_grad_hook",
      [](const Tensor& t, py::function fn) {
        EMBER_CHECK(t->requires_grad(), "cannot register a hook on a tensor that doesn't require gradient");
        EMBER_CHECK(t->is_leaf(), "post accumulate grad hooks cannot be registered on non-leaf tensors");
        auto ref = std::make_shared<PyRef>(fn);
        HookHandle h;
        h.id = next_hook_id();
        h.leaf = t;
        Hook hook = [ref](const Tensor& leaf) -> Tensor {
          EnterPython python;
          py::object r = ref->obj(leaf);
          EMBER_CHECK(r.is_none(), "hooks should return None.");
          return Tensor();
        };
        t->autograd_mut().post_accumulate_hooks.push_back({0, h.id, hook, fn.ptr()});
        return h;
      },
      "Registers hook(tensor) to run after the leaf's .grad was accumulated. Returns a RemovableHandle.",
      py::arg("hook"));

  m.def(
      "_push_saved_tensors_hooks",
      [](py::function pack, py::function unpack) { push_saved_tensor_hooks(python_saved_hooks(pack, unpack)); },
      py::arg("pack_hook"), py::arg("unpack_hook"), "Pushes a pair of saved-tensor hooks on this thread.");
  m.def(
      "_increment_version", [](const Tensor& t) { t->bump_version(); }, py::arg("tensor"),
      "Bumps the tensor's version counter, as an in-place op would.");
  m.def(
      "_gradient_edge",
      [](const Tensor& t) {
        Edge e = gradient_edge(t);
        EMBER_CHECK(e.valid(),
                    "It is not possible to get the gradient edge for a Tensor that does not require gradients");
        return py::make_tuple(e.fn, e.input_nr);
      },
      py::arg("tensor"), "(node, output number): where the tensor's gradient enters the graph.");
  m.def(
      "_mark_custom_function_views",
      [](py::list outputs) {
        for (size_t i = 0; i < outputs.size(); ++i)
          if (is_tensor(outputs[i])) {
            Tensor t = outputs[i].cast<Tensor>();
            if (t->view_base) mark_custom_function_view(*t, (uint32_t)i, outputs);
          }
      },
      "Marks the views among the outputs of a custom Function run without recording (Note [View creation]).");
  m.def("_set_serial_backward", &set_serial_backward,
        "While on, backward passes this thread starts run all their nodes on it; returns the previous setting.",
        py::arg("on"));
  m.def("_current_backward_pass_id", &current_backward_pass_id,
        "An id of the backward pass running on this thread, 0 outside one.");
  m.def(
      "_is_checkpoint_valid", [] { return !current_backward_pass_has_inputs(); },
      "False inside a backward pass started with `inputs` (autograd.grad, backward(inputs=)), "
      "where the reentrant checkpoint cannot run.");
  m.def(
      "_queue_callback",
      [](py::function fn) {
        auto ref = std::make_shared<PyRef>(fn);
        queue_backward_callback([ref] {
          EnterPython python;
          ref->obj();
        });
      },
      py::arg("callback"), "Runs callback() once the current backward pass has finished its nodes.");
  m.def(
      "_tensor_for_edge",
      [](const std::shared_ptr<Node>& node, uint32_t output_nr) {
        // Stands for a GradientEdge in autograd.grad/backward: a tensor whose
        // gradient edge is (node, output_nr), shaped as that gradient.
        EMBER_CHECK(output_nr < node->num_inputs(), "GradientEdge output_nr ", output_nr, " out of range for ",
                    node->name(), " with ", node->num_inputs(), " inputs");
        const InputMeta& m = node->input_metas[output_nr];
        Tensor t = zeros(m.shape, m.dtype);
        auto& meta = t->autograd_mut();
        meta.grad_fn = node;
        meta.output_nr = output_nr;
        return t;
      },
      py::arg("node"), py::arg("output_nr"), "A tensor standing for a GradientEdge (autograd.grad's inputs/outputs).");
  m.def("_pop_saved_tensors_hooks", &pop_saved_tensor_hooks, "Pops this thread's innermost saved-tensor hooks.");

  // Note [Anomaly mode]: the Python halves.
  AnomalyMode::on_node_created = [](Node& node) {
    EnterPython python;
    py::object stack = py::module_::import("traceback").attr("format_stack")();
    if (!node.py_state) node.py_state = std::make_shared<PyRef>(py::dict());
    py::dict meta = static_cast<PyRef*>(node.py_state.get())->obj;
    meta["traceback_"] = stack;
  };
  AnomalyMode::report_failure = [](const Node& node) {
    EnterPython python;
    py::object stack;
    if (node.py_state) {
      py::dict meta = static_cast<PyRef*>(node.py_state.get())->obj;
      if (meta.contains("traceback_")) stack = meta["traceback_"];
    }
    std::string message =
        stack ? "Error detected in " + node.name() + ". Traceback of forward call that caused the error:\n" +
                    py::str("").attr("join")(stack).cast<std::string>()
              : "Error detected in " + node.name() +
                    ". No forward pass information available. Enable detect anomaly during forward pass for more "
                    "information.";
    // The error being raised is the one to see; a failure to warn (warnings as errors) must not replace it.
    if (PyErr_WarnEx(PyExc_UserWarning, message.c_str(), 1) != 0) PyErr_Clear();
  };
  m.def(
      "_set_anomaly_enabled", [](bool enabled, bool check_nan) { AnomalyMode::set(enabled, check_nan); },
      py::arg("enabled"), py::arg("check_nan") = true, "Turns anomaly detection on or off (process-wide).");
  m.def("is_anomaly_enabled", &AnomalyMode::is_enabled, "Whether anomaly detection is on.");
  m.def("is_anomaly_check_nan_enabled", &AnomalyMode::check_nan, "Whether anomaly detection checks for NaN.");

  m.def(
      "_run_backward",
      [](const TensorList& roots, const TensorList& grads, bool keep_graph, bool create_graph, const TensorList& inputs,
         bool allow_unused, bool accumulate_grad) {
        BackwardOptions opts;
        opts.keep_graph = keep_graph;
        opts.create_graph = create_graph;
        opts.allow_unused = allow_unused;
        opts.accumulate_grad = accumulate_grad;
        variable_list result;
        {
          py::gil_scoped_release release;
          result = run_backward(roots, grads, inputs, opts);
        }
        py::list out;
        for (auto& g : result) out.append(g ? py::cast(g) : py::none());
        return out;
      },
      "Runs the engine from roots (the C++ half of autograd.backward and autograd.grad).");

  m.def("_set_parallel_backward", &set_parallel_backward,
        "Switches the parallel backward executor on or off; None: back to the default (on with 4+ threads).",
        py::arg("enabled"));
  m.def("_is_parallel_backward_enabled", &parallel_backward_enabled, "Whether the parallel executor is on.");
  m.def("_parallel_backward_setting", &parallel_backward_setting,
        "What _set_parallel_backward last set: True, False, or None for the default.");
  m.def(
      "_parallel_backward_stats",
      [] {
        BackwardStats s = backward_stats();
        return py::make_tuple(s.parallel_passes, s.helper_nodes);
      },
      "(parallel passes, nodes run by helper threads) since start-up.");
  m.def("is_grad_enabled", &GradMode::is_enabled, "Whether autograd records operations on this thread.");
  m.def("_set_grad_enabled", &GradMode::set_enabled, "Sets grad mode on this thread.", py::arg("mode"));
  m.def("is_inference_mode_enabled", &GradMode::is_inference, "Whether inference mode is on on this thread.");
  m.def("_set_inference_mode", &GradMode::set_inference, "Sets inference mode on this thread.", py::arg("mode"));

  // autograd.Function.apply's C++ half: wires the outputs of forward into the graph.
  m.def(
      "_make_function_node",
      [](py::object ctx, py::object backward, const std::string& name, py::list inputs, py::list outputs,
         py::list non_differentiable, py::list dirty, py::list to_save, bool materialize_grads) {
        auto node = std::make_shared<PyFunctionNode>();
        node->ctx = std::make_shared<PyRef>(ctx);
        node->backward = std::make_shared<PyRef>(backward);
        node->fn_name = name;
        node->materialize = materialize_grads;
        std::vector<TensorImpl*> input_ptrs;
        for (auto h : inputs) {
          if (is_tensor(h)) {
            Tensor t = h.cast<Tensor>();
            node->next_edges.push_back(gradient_edge(t));
            input_ptrs.push_back(t.get());
          } else {
            node->next_edges.push_back(Edge());
          }
        }
        auto listed = [](py::list list, TensorImpl* t) {
          for (auto h : list)
            if (is_tensor(h) && h.cast<Tensor>().get() == t) return true;
          return false;
        };
        py::list result;
        std::vector<std::pair<TensorImpl*, Tensor>> wired;  // forward's tensor -> the one returned
        for (auto h : outputs) {
          if (!is_tensor(h)) {
            // Counted among the outputs (output_nr as PyTorch's), never given a gradient.
            result.append(h);
            node->output_slots.push_back(-1);
            node->input_metas.push_back(InputMeta{{}, DType::Float32, Device{}, false});
            continue;
          }
          Tensor t = h.cast<Tensor>();
          TensorImpl* original = t.get();
          bool differentiable = !listed(non_differentiable, original) && is_floating(t->dtype());
          bool is_input = std::find(input_ptrs.begin(), input_ptrs.end(), original) != input_ptrs.end();
          auto seen = std::find_if(wired.begin(), wired.end(), [&](auto& w) { return w.first == original; });
          if (seen != wired.end()) {
            // The same tensor returned twice is one object, with the history of its last position.
            t = seen->second;
          } else if (is_input && listed(dirty, original)) {
            // mark_dirty: forward changed this input in place; the input itself
            // takes the node as its history (its base too, for a view).
            EMBER_CHECK(!(t->is_leaf() && t->requires_grad()),
                        "a leaf Variable that requires grad has been used in an in-place operation.");
            check_inplace(t, name.c_str(), true);
          } else if (is_input || t->requires_grad()) {
            // An input returned as is becomes a view of it, so the input keeps its own history.
            Tensor alias = make_view(t, t->sizes(), t->strides(), t->offset());
            alias->view_base = t->view_base ? t->view_base : t;
            t = alias;
          }
          node->output_slots.push_back((int)node->input_metas.size());
          if (differentiable && is_input && seen == wired.end() && listed(dirty, original)) {
            Tensor wired_alias = make_view(t, t->sizes(), t->strides(), t->offset());
            set_history(wired_alias, node);
            rebase_inplace(t, wired_alias);
          } else if (differentiable) {
            set_history(t, node);
            // A view made inside forward (or an input returned as is) may not be modified in place later.
            if (t->view_base) mark_custom_function_view(*t, (uint32_t)(node->input_metas.size() - 1), outputs);
          } else {
            node->add_input_meta(t);
          }
          if (seen == wired.end()) wired.emplace_back(original, t);
          result.append(py::cast(t));
        }
        for (auto h : to_save) {
          if (h.is_none()) {
            node->saved.emplace_back();
            continue;
          }
          Tensor t = h.cast<Tensor>();
          // Saving an output of forward saves the wired output, without a cycle; an input
          // returned as-is is saved as the input it is (PyTorch gives that object back).
          bool is_output = false;
          const bool input_as_is =
              std::find(input_ptrs.begin(), input_ptrs.end(), t.get()) != input_ptrs.end() && !listed(dirty, t.get());
          for (size_t i = 0; i < outputs.size() && !is_output && !input_as_is; ++i)
            if (is_tensor(outputs[i]) && outputs[i].cast<Tensor>().get() == t.get()) {
              t = result[i].cast<Tensor>();
              is_output = t->grad_fn().get() == node.get();
            }
          node->saved.emplace_back(t, is_output);
        }
        ctx.attr("_saved_handle") = SavedTensorsHandle{node};
        return result;
      },
      "Wires the outputs of a custom Function's forward into the graph (the C++ half of Function.apply).");
}

}  // namespace bind
}  // namespace ember
