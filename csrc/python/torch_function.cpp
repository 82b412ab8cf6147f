// __torch_function__ dispatch of registry ops (Note [Torch function dispatch]).
#include "python/torch_function.h"

#include <unordered_set>

#include "ops/ops.h"

namespace ember {
namespace bind {
namespace torch_function {

PyTypeObject* g_tensor_type = nullptr;

namespace {
PyObject* g_name = nullptr;              // "__torch_function__", interned
PyObject* g_disabled_impl = nullptr;     // _C._disabled_torch_function_impl (held by the module)
PyObject* g_hook = nullptr;              // ember.overrides' dispatcher (a strong reference, for the module's life)
PyObject* g_operator_refused = nullptr;  // its answer for an operator no __torch_function__ implements
std::unordered_set<const char*> g_catch_all_names;  // private bindings given a catch-all (interned names)

// The level for a block: `level` or stricter, back to what it was when the block ends.
struct LevelGuard {
  int saved;
  explicit LevelGuard(int level) : saved(t_state.level) { t_state.level = std::max(saved, level); }
  ~LevelGuard() { t_state.level = saved; }
};

const py::detail::type_info* tensor_type_info() {
  static const py::detail::type_info* info = py::detail::get_type_info(typeid(TensorImpl));
  return info;
}

// An instance of the Tensor subclass `cls` holding `t`, made without running cls.__new__ or
// __init__ (a subclass's __new__ may itself call as_subclass).
py::object wrap_as(py::handle cls, const Tensor& t) {
  PyObject* obj = py::detail::make_new_instance(reinterpret_cast<PyTypeObject*>(cls.ptr()));
  if (!obj) throw py::error_already_set();
  auto* inst = reinterpret_cast<py::detail::instance*>(obj);
  auto v_h = inst->get_value_and_holder(tensor_type_info());
  v_h.value_ptr() = t.get();
  tensor_type_info()->init_instance(inst, &t);  // registers the instance and copies the holder
  return py::reinterpret_steal<py::object>(obj);
}

}  // namespace

bool type_overrides(PyTypeObject* type) {
  if (!g_name) return false;
  PyObject* f = _PyType_Lookup(type, g_name);  // borrowed; the type's method cache makes it cheap
  return f && f != g_disabled_impl;
}

bool note_subclass(PyObject* obj) {
  ThreadState& s = t_state;
  if (s.level != kEnabled || !type_overrides(Py_TYPE(obj))) return true;
  if (s.redirected) return false;
  s.subclass_arg = true;
  g_armed.store(true, std::memory_order_relaxed);
  return true;
}

namespace {
// The arguments that never dispatch, known without a type lookup: a plain tensor, a number, None,
// a str, and an index's slices and ellipses.
bool plain(PyTypeObject* type) {
  return type == g_tensor_type || type == &PyLong_Type || type == &PyFloat_Type || type == &PyBool_Type ||
         type == Py_TYPE(Py_None) || type == &PySlice_Type || type == &PyEllipsis_Type || type == &PyUnicode_Type;
}
}  // namespace

bool object_overrides(PyObject* obj) {
  if (!obj) return false;
  PyTypeObject* type = Py_TYPE(obj);
  if (plain(type)) return false;
  // A tuple subclass may dispatch itself (brevitas's QuantTensor is a NamedTuple with __torch_function__)
  if (!PyTuple_CheckExact(obj) && !PyList_CheckExact(obj) && type_overrides(type)) return true;
  if (PyTuple_Check(obj) || PyList_Check(obj)) {  // a list of tensors, or an index, taken as an object
    for (py::handle e : py::reinterpret_borrow<py::object>(obj))
      if (!plain(Py_TYPE(e.ptr())) && type_overrides(Py_TYPE(e.ptr()))) return true;
    return false;
  }
  return false;  // (a type that overrides returned above)
}

bool tensor_overrides(const TensorImpl* t) {
  py::handle obj = py::detail::get_object_handle(t, tensor_type_info());
  return obj && Py_TYPE(obj.ptr()) != g_tensor_type && type_overrides(Py_TYPE(obj.ptr()));
}

bool has_catch_all(const char* name) { return g_catch_all_names.count(name) > 0; }
void add_catch_all(const char* name) { g_catch_all_names.insert(name); }

py::object dispatch(const char* name, bool method, const py::args& args, const py::kwargs& kwargs) {
  ThreadState& s = t_state;
  const bool redirected = s.redirected;
  s.redirected = s.subclass_arg = false;
  if (!g_hook) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
  return py::reinterpret_borrow<py::object>(g_hook)(name, method, args, kwargs, redirected);
}

bool operator_refused(const py::object& answer) { return answer.ptr() == g_operator_refused; }

void install(py::module_& m, py::handle tensor_class) {
  g_tensor_type = reinterpret_cast<PyTypeObject*>(tensor_class.ptr());
  g_name = PyUnicode_InternFromString("__torch_function__");
  install_dispatching_function(m);
  m.def(
      "_disabled_torch_function_impl",
      [](py::object func, py::object /*types*/, py::object args, py::object kwargs) {
        LevelGuard guard(kSubclassesDisabled);
        py::tuple positional = args.is_none() ? py::tuple() : py::tuple(args);
        py::dict keywords = kwargs.is_none() ? py::dict() : py::dict(kwargs);
        return func(*positional, **keywords);
      },
      py::arg("func"), py::arg("types"), py::arg("args") = py::tuple(), py::arg("kwargs") = py::none(),
      "The __torch_function__ a Tensor subclass sets to opt out of dispatch (nn.Parameter's): runs func "
      "with subclasses' __torch_function__ disabled and returns its result as is.");
  g_disabled_impl = m.attr("_disabled_torch_function_impl").ptr();
  m.def(
      "_set_torch_function_hook",
      [](py::object hook, py::object operator_refused) {
        keep_hook(g_hook, hook);
        keep_hook(g_operator_refused, operator_refused);
      },
      py::arg("hook"), py::arg("operator_refused"),
      "Installs ember.overrides' dispatcher and the object it answers for an operator nothing implements "
      "(Note [Torch function dispatch]).");
  m.def(
      "_set_torch_function_level",
      [](int level) {
        int previous = t_state.level;
        t_state.level = level;
        return previous;
      },
      py::arg("level"),
      "Sets this thread's __torch_function__ level (0 on, 1 subclasses off, 2 all off); returns the previous.");
  m.def(
      "_torch_function_level", [] { return t_state.level; },
      "This thread's __torch_function__ level (0 on, 1 subclasses off, 2 all off).");
  m.def(
      "_set_torch_function_mode_depth",
      [](int depth) {
        t_state.mode_depth = depth;
        if (depth > 0) g_armed.store(true, std::memory_order_relaxed);
      },
      py::arg("depth"), "Tells the registry how many TorchFunctionModes this thread has entered.");
  m.def(
      "_as_subclass",
      [](const Tensor& t, py::handle cls) {
        if (!PyType_Check(cls.ptr()) || !PyType_IsSubtype(reinterpret_cast<PyTypeObject*>(cls.ptr()), g_tensor_type))
          throw py::type_error("as_subclass: expected a subclass of Tensor, got " + std::string(py::repr(cls)));
        return wrap_as(cls, alias(t));
      },
      py::arg("tensor"), py::arg("cls"),
      "t as an instance of the Tensor subclass cls: an alias of t, AliasBackward0 when t requires grad.");
}

}  // namespace torch_function
}  // namespace bind
}  // namespace ember
