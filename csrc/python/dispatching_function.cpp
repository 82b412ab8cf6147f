// Note [Python functions dispatch]
// ember's functions written in Python (nn.functional's, the composites of ember.*, linalg, special
// and fft) reach __torch_function__ as PyTorch's do, with themselves as `func`: each public one that
// takes tensors is a DispatchingFunction wrapping the Python function (ember.overrides wraps them
// at import). Its call checks the arguments as the registry's call wrapper does (a plain tensor, a
// number, a str or None by pointer compares; a tuple's or list's items; another type by one cached
// type lookup) and the thread's level and mode depth (Note [Torch function dispatch]); when nothing
// dispatches it calls the function directly (vectorcall: about 30 ns more than calling it), else it
// hands the call to ember.overrides' hook. To Python it looks like the function: __name__,
// __qualname__, __module__, __doc__ and __wrapped__ (so inspect.signature reads the function's), it
// pickles by name, and binds as a method when a class holds it, as a function does. This is also
// what lets an FX Proxy pass through them (Note [FX graphs]). And where the function fails with an
// AttributeError because an argument is not the tensor its annotation asks for (kron(x, "a")), the
// wrapper raises PyTorch's TypeError naming that argument instead, at no cost when calls succeed.
#include "python/torch_function.h"

namespace ember {
namespace bind {
namespace torch_function {
namespace {

struct DispatchingFunction {
  PyObject_HEAD vectorcallfunc vectorcall;
  PyObject* fn;
  PyObject* dict;
  PyObject* weakrefs;
};

PyObject* g_function_hook = nullptr;        // ember.overrides' _dispatch_function (strong, for the module's life)
PyObject* g_argument_error_hook = nullptr;  // ember.overrides' _argument_type_error

PyObject* new_ref(PyObject* o) {  // Py_NewRef, which Python 3.9 lacks
  Py_INCREF(o);
  return o;
}

bool dispatches(PyObject* const* args, Py_ssize_t n) {
  const ThreadState& s = t_state;
  if (modes_on(s)) return true;
  if (s.level != kEnabled) return false;
  for (Py_ssize_t i = 0; i < n; ++i)
    if (object_overrides(args[i])) return true;
  return false;
}

// hook(self, positional args, keyword args) for the arguments of a vectorcall.
PyObject* call_hook(PyObject* hook, PyObject* self, PyObject* const* args, Py_ssize_t npos, PyObject* kwnames) {
  const Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
  PyObject* positional = PyTuple_New(npos);
  PyObject* keywords = PyDict_New();
  if (!positional || !keywords) {
    Py_XDECREF(positional);
    Py_XDECREF(keywords);
    return nullptr;
  }
  for (Py_ssize_t i = 0; i < npos; ++i) PyTuple_SET_ITEM(positional, i, new_ref(args[i]));
  for (Py_ssize_t i = 0; i < nkw; ++i)
    if (PyDict_SetItem(keywords, PyTuple_GET_ITEM(kwnames, i), args[npos + i]) < 0) {
      Py_DECREF(positional);
      Py_DECREF(keywords);
      return nullptr;
    }
  PyObject* result = PyObject_CallFunctionObjArgs(hook, self, positional, keywords, nullptr);
  Py_DECREF(positional);
  Py_DECREF(keywords);
  return result;
}

// The function's AttributeError where an argument of the wrong type reached it ('str' object has no
// attribute 'dim') becomes PyTorch's TypeError naming the argument, when the hook finds one that is
// not the Tensor its annotation asks for; else the AttributeError stands. Only on the error path.
PyObject* explain_attribute_error(PyObject* self, PyObject* const* args, Py_ssize_t npos, PyObject* kwnames) {
  if (!g_argument_error_hook || !PyErr_ExceptionMatches(PyExc_AttributeError)) return nullptr;
  PyObject *type, *value, *traceback;
  PyErr_Fetch(&type, &value, &traceback);
  PyObject* answer = call_hook(g_argument_error_hook, self, args, npos, kwnames);
  if (!answer) {  // the hook raised the TypeError: it replaces the AttributeError
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(traceback);
    return nullptr;
  }
  Py_DECREF(answer);
  PyErr_Restore(type, value, traceback);
  return nullptr;
}

PyObject* call(PyObject* self, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
  auto* f = reinterpret_cast<DispatchingFunction*>(self);
  const Py_ssize_t npos = PyVectorcall_NARGS(nargsf), nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
  if (!g_function_hook || !dispatches(args, npos + nkw)) {
    PyObject* result = PyObject_Vectorcall(f->fn, args, nargsf, kwnames);
    return result ? result : explain_attribute_error(self, args, npos, kwnames);
  }
  return call_hook(g_function_hook, self, args, npos, kwnames);
}

int traverse(PyObject* self, visitproc visit, void* arg) {
  auto* f = reinterpret_cast<DispatchingFunction*>(self);
  Py_VISIT(f->fn);
  Py_VISIT(f->dict);
  return 0;
}

int clear(PyObject* self) {
  auto* f = reinterpret_cast<DispatchingFunction*>(self);
  Py_CLEAR(f->fn);
  Py_CLEAR(f->dict);
  return 0;
}

void dealloc(PyObject* self) {
  PyObject_GC_UnTrack(self);
  if (reinterpret_cast<DispatchingFunction*>(self)->weakrefs) PyObject_ClearWeakRefs(self);
  clear(self);
  Py_TYPE(self)->tp_free(self);
}

PyObject* repr(PyObject* self) {  // as a function's: <function relu at 0x...>
  PyObject* name = PyObject_GetAttrString(self, "__qualname__");
  if (!name) return nullptr;
  PyObject* text = PyUnicode_FromFormat("<function %U at %p>", name, self);
  Py_DECREF(name);
  return text;
}

// A method when a class holds it (obj.f(x) passes obj), as a Python function binds.
PyObject* descr_get(PyObject* self, PyObject* obj, PyObject* /*type*/) {
  if (!obj || obj == Py_None) return new_ref(self);
  return PyMethod_New(self, obj);
}

// Pickled by name, as a function: pickle finds it again at __module__.__qualname__.
PyObject* reduce(PyObject* self, PyObject* /*unused*/) { return PyObject_GetAttrString(self, "__qualname__"); }

PyMethodDef methods[] = {{"__reduce__", reduce, METH_NOARGS, nullptr}, {nullptr, nullptr, 0, nullptr}};
PyGetSetDef getset[] = {{"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, nullptr, nullptr},
                        {nullptr, nullptr, nullptr, nullptr, nullptr}};

PyTypeObject make_type() {
  PyTypeObject t = {PyVarObject_HEAD_INIT(nullptr, 0)};
  t.tp_name = "ember._C.DispatchingFunction";
  t.tp_basicsize = sizeof(DispatchingFunction);
  t.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL | Py_TPFLAGS_METHOD_DESCRIPTOR;
  t.tp_doc =
      "An ember function written in Python that dispatches __torch_function__ (Note [Python functions dispatch]).";
  t.tp_vectorcall_offset = offsetof(DispatchingFunction, vectorcall);
  t.tp_call = PyVectorcall_Call;
  t.tp_dictoffset = offsetof(DispatchingFunction, dict);
  t.tp_weaklistoffset = offsetof(DispatchingFunction, weakrefs);
  t.tp_traverse = traverse;
  t.tp_clear = clear;
  t.tp_dealloc = dealloc;
  t.tp_repr = repr;
  t.tp_descr_get = descr_get;
  t.tp_methods = methods;
  t.tp_getset = getset;
  return t;
}
PyTypeObject g_type = make_type();

}  // namespace

void install_dispatching_function(py::module_& m) {
  if (PyType_Ready(&g_type) < 0) throw py::error_already_set();
  m.attr("DispatchingFunction") = py::handle(reinterpret_cast<PyObject*>(&g_type));
  m.def(
      "_dispatching_function",
      [](py::function fn) {
        auto* f = PyObject_GC_New(DispatchingFunction, &g_type);
        if (!f) throw py::error_already_set();
        f->vectorcall = call;
        f->fn = new_ref(fn.ptr());
        f->dict = nullptr;
        f->weakrefs = nullptr;
        PyObject_GC_Track(reinterpret_cast<PyObject*>(f));
        py::object wrapper = py::reinterpret_steal<py::object>(reinterpret_cast<PyObject*>(f));
        for (const char* name : {"__module__", "__name__", "__qualname__", "__doc__"})
          if (py::hasattr(fn, name)) wrapper.attr(name) = fn.attr(name);
        wrapper.attr("__wrapped__") = fn;
        return wrapper;
      },
      py::arg("fn"), "fn as a DispatchingFunction (Note [Python functions dispatch]).");
  m.def(
      "_set_function_dispatch_hook",
      [](py::object hook, py::object argument_error_hook) {
        keep_hook(g_function_hook, hook);
        keep_hook(g_argument_error_hook, argument_error_hook);
      },
      py::arg("hook"), py::arg("argument_error_hook"),
      "Installs ember.overrides' hooks for DispatchingFunction calls that dispatch and for the AttributeError of "
      "an argument of the wrong type.");
}

}  // namespace torch_function
}  // namespace bind
}  // namespace ember
