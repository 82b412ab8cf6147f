// The op registry (Note [Op registry]): what every entry shares.
#include "python/registry.h"

#include <set>

#include <algorithm>

namespace ember {
namespace bind {

void OpRegistry::record(const char* name, unsigned forms, const char* doc) {
  auto it = std::find_if(infos_.begin(), infos_.end(), [&](const OpInfo& i) { return i.name == name; });
  if (it == infos_.end()) {
    infos_.push_back(OpInfo{name, family_, doc ? doc : "", 0, {}});
    it = infos_.end() - 1;
  }
  it->forms |= forms;
  if (it->doc.empty() && doc) it->doc = doc;
}

OpRegistry& OpRegistry::alias(const char* alias, const char* target) {
  auto it = std::find_if(infos_.begin(), infos_.end(), [&](const OpInfo& i) { return i.name == target; });
  EMBER_ASSERT(it != infos_.end());
  it->aliases.push_back(alias);
  std::string inplace_alias = std::string(alias) + "_", inplace_target = std::string(target) + "_";
  if (it->forms & kFunction) m_.attr(alias) = m_.attr(target);
  if (it->forms & kMethod) cls_.attr(alias) = cls_.attr(target);
  if (it->forms & kInPlace) cls_.attr(inplace_alias.c_str()) = cls_.attr(inplace_target.c_str());
  return *this;
}

namespace {

PyCFunctionObject* as_cfunction(PyObject* fn) {
  if (PyInstanceMethod_Check(fn)) fn = PyInstanceMethod_GET_FUNCTION(fn);
  return PyCFunction_Check(fn) ? reinterpret_cast<PyCFunctionObject*>(fn) : nullptr;
}

// Replaces a function's docstring (pybind11 allocates them with strdup).
void set_doc(PyCFunctionObject* f, const std::string& doc) {
  std::free(const_cast<char*>(f->m_ml->ml_doc));
  f->m_ml->ml_doc = strdup(doc.c_str());
}

}  // namespace

// An overload set's docstring reduced to its first overload's (Note [Keyword aliases]).
void show_first_overload(PyObject* fn) {
  PyCFunctionObject* f = as_cfunction(fn);
  if (!f || !f->m_ml->ml_doc) return;
  std::string d = f->m_ml->ml_doc;
  size_t first = d.find("\n\n1. "), second = d.find("\n\n2. ");
  if (first == std::string::npos || second == std::string::npos) return;
  set_doc(f, d.substr(first + 5, second - first - 5) + "\n");
}

namespace {

// Removes the catch-all overload from an overload set's docstring, leaving a lone overload's
// docstring as pybind11 writes it for a single function.
void hide_catch_all(PyObject* fn) {
  PyCFunctionObject* f = as_cfunction(fn);
  if (!f || !f->m_ml->ml_doc) return;
  std::string d = f->m_ml->ml_doc;
  size_t last = d.rfind("(*args, **kwargs) -> object");
  size_t head = last == std::string::npos ? last : d.rfind("\n\n", last);
  if (head == std::string::npos) return;
  if (d.compare(head, 5, "\n\n2. ") == 0)
    show_first_overload(fn);  // one real overload left: its docstring alone, as for a single function
  else
    set_doc(f, d.substr(0, head + 1));
}

}  // namespace

namespace batching {
std::atomic<bool> g_active{false};
namespace {
PyObject* g_hook = nullptr;         // ember.func._vmap's dispatcher (a strong reference, kept for the module's life)
PyTypeObject* g_batched = nullptr;  // its BatchedTensor class
}  // namespace

bool holds_batched(py::handle h) {
  if (!g_batched || !h) return false;
  if (PyObject_TypeCheck(h.ptr(), g_batched)) return true;
  if (PyTuple_Check(h.ptr()) || PyList_Check(h.ptr()))
    for (py::handle e : h)
      if (PyObject_TypeCheck(e.ptr(), g_batched)) return true;
  return false;
}

// Whether a Python complex number is among the arguments: complex arithmetic runs in Python's
// rules (Note [Complex tensors]), before any complex tensor exists too.
namespace {
bool holds_complex_number(const py::args& args, const py::kwargs& kwargs) {
  for (py::handle a : args)
    if (PyComplex_Check(a.ptr())) return true;
  for (auto item : kwargs)
    if (PyComplex_Check(item.second.ptr())) return true;
  return false;
}

PyObject* g_module = nullptr;  // ember._C, whose functions and Tensor methods a renamed call is retried on

// Note [Keyword aliases]: numpy's names have their own overload, so a call that mixes them with
// PyTorch's (sum(dim=1, keepdims=True), as piq and PyTorch accept) matches neither. It is retried
// once with PyTorch's names; null when the call has no such mix (or names one parameter twice).
py::object retry_with_torch_names(const char* name, bool method, const py::args& args, const py::kwargs& kwargs) {
  static const std::pair<const char*, const char*> kRenames[] = {{"axis", "dim"}, {"keepdims", "keepdim"}};
  bool numpy_name = false, torch_name = false;
  for (auto [numpy, torch] : kRenames) {
    if (kwargs.contains(numpy) && kwargs.contains(torch)) return py::object();
    numpy_name |= bool(kwargs.contains(numpy));
    torch_name |= bool(kwargs.contains(torch));
  }
  if (!numpy_name || !torch_name || !g_module) return py::object();
  py::dict renamed;
  for (auto item : kwargs) {
    py::str key = py::reinterpret_borrow<py::str>(item.first);
    for (auto [numpy, torch] : kRenames)
      if (key.equal(py::str(numpy))) key = py::str(torch);
    renamed[key] = item.second;
  }
  auto module = py::reinterpret_borrow<py::module_>(g_module);
  py::object scope = method ? py::object(module.attr("Tensor")) : py::object(module);
  return scope.attr(name)(*args, **renamed);
}

// The ops whose first argument is a sequence of tensors: a call no overload took that holds something else in
// it gets PyTorch's words for the element, not a listing of the overloads (and of every tensor given).
void check_tensor_sequence(const char* name, bool method, const py::args& args) {
  static const std::set<std::string> kTakeSequences = {"cat",    "concat", "concatenate",  "stack",    "hstack",
                                                       "vstack", "dstack", "column_stack", "row_stack"};
  if (method || args.empty() || !kTakeSequences.count(name)) return;
  if (!PyList_Check(args[0].ptr()) && !PyTuple_Check(args[0].ptr())) return;
  py::sequence items = py::reinterpret_borrow<py::sequence>(args[0]);
  for (size_t i = 0; i < items.size(); ++i) {
    py::object item = items[i];
    if (!is_tensor(item))
      throw py::type_error("expected Tensor as element " + std::to_string(i) + " in argument 0, but got " +
                           Py_TYPE(item.ptr())->tp_name);
  }
}
}  // namespace

py::object dispatch(const char* name, bool method, const py::args& args, const py::kwargs& kwargs) {
  if ((active() || holds_complex_number(args, kwargs)) && g_hook) {
    py::object r = py::reinterpret_borrow<py::object>(g_hook)(name, method, args, kwargs);
    if (!r.is(py::reinterpret_borrow<py::object>(Py_NotImplemented))) {
      // the call is answered: a refusal it made for __torch_function__ must not refuse the next call's
      // subclass arguments (a real tensor plus a complex one left every later requires_grad_ of a subclass
      // instance "incompatible")
      torch_function::t_state.redirected = torch_function::t_state.subclass_arg = false;
      return r;
    }
  }
  py::object r = torch_function::dispatch(name, method, args, kwargs);  // Note [Torch function dispatch]
  if (torch_function::operator_refused(r)) return py::reinterpret_borrow<py::object>(Py_NotImplemented);
  if (!r.is(py::reinterpret_borrow<py::object>(Py_NotImplemented))) return r;
  if (py::object renamed = retry_with_torch_names(name, method, args, kwargs)) return renamed;
  check_tensor_sequence(name, method, args);
  throw py::reference_cast_error();
}

void install(py::module_& m) {
  g_module = m.ptr();  // the module lives as long as the process
  m.def(
      "_set_batching_hook",
      [](py::object hook, py::object batched_type) {
        Py_XDECREF(g_hook);
        g_hook = hook.release().ptr();
        g_batched = reinterpret_cast<PyTypeObject*>(batched_type.release().ptr());
      },
      py::arg("hook"), py::arg("batched_type"),
      "Installs vmap's dispatcher for calls with BatchedTensor arguments (Note [Batched dispatch]).");
  m.def(
      "_add_catch_all_overloads",
      [m](const std::vector<std::string>& names) mutable {
        for (const std::string& n : names) {
          const char* name = interned_name(n.c_str());
          torch_function::add_catch_all(name);
          m.def(name,
                [name](const py::args& args, const py::kwargs& kwargs) { return dispatch(name, false, args, kwargs); });
          hide_catch_all(m.attr(name).ptr());
        }
      },
      py::arg("names"), "Gives module functions bound outside the registry (the fused nn ops) the catch-all overload.");
  // Indexing is bound outside the registry too; its overloads refuse stand-in indices and values.
  py::object tensor = m.attr("Tensor");
  for (const char* name : {interned_name("__getitem__"), interned_name("__setitem__")}) {
    torch_function::add_catch_all(name);
    tensor.attr(name) = py::cpp_function(
        [name](const py::args& args, const py::kwargs& kwargs) { return dispatch(name, true, args, kwargs); },
        py::name(name), py::is_method(tensor), py::sibling(tensor.attr(name)));
    hide_catch_all(tensor.attr(name).ptr());
  }
  m.def(
      "_set_batching_active", [](bool on) { g_active.store(on, std::memory_order_relaxed); }, py::arg("on"),
      "Turns the batching checks on while any vmap runs (Note [Batched dispatch]).");
}
}  // namespace batching

void OpRegistry::publish(const std::vector<const char*>& extra_exports) {
  for (const OpInfo& i : infos_) {
    const char* name = interned_name(i.name.c_str());
    auto catch_all = [](const char* op, bool method) {
      return [op, method](const py::args& args, const py::kwargs& kwargs) {
        return batching::dispatch(op, method, args, kwargs);
      };
    };
    if (i.forms & kFunction) m_.def(name, catch_all(name, false));
    if (i.forms & kMethod) cls_.def(name, catch_all(name, true));
    if (i.forms & (kFunction | kMethod)) torch_function::add_catch_all(name);  // Note [Torch function dispatch]
    if (i.forms & kInPlace) {
      const char* inplace = interned_name((i.name + "_").c_str());
      cls_.def(inplace, catch_all(inplace, true));
      torch_function::add_catch_all(inplace);
    }
  }
  for (const OpInfo& i : infos_) {  // aliases name the overload sets that now end with the catch-all
    for (const std::string& a : i.aliases) {
      if (i.forms & kFunction) m_.attr(a.c_str()) = m_.attr(i.name.c_str());
      if (i.forms & kMethod) cls_.attr(a.c_str()) = cls_.attr(i.name.c_str());
      if (i.forms & kInPlace) cls_.attr((a + "_").c_str()) = cls_.attr((i.name + "_").c_str());
    }
  }
  for (const OpInfo& i : infos_) {
    std::string inplace = i.name + "_";
    if (i.forms & kFunction) hide_catch_all(m_.attr(i.name.c_str()).ptr());
    if (i.forms & kMethod) hide_catch_all(cls_.attr(i.name.c_str()).ptr());
    if (i.forms & kInPlace) hide_catch_all(cls_.attr(inplace.c_str()).ptr());
  }
  for (auto& [scope, name] : aliased_) show_first_overload(scope.attr(name).ptr());
  py::list all;
  for (const char* name : extra_exports) all.append(name);
  for (const OpInfo& i : infos_) {
    if (!(i.forms & kFunction)) continue;
    all.append(i.name);
    for (auto& a : i.aliases) all.append(a);
  }
  m_.attr("__all__") = all;
  // The rows outlive the registry (a module-lifetime copy; no Python objects held).
  static std::vector<OpInfo> rows;
  rows = infos_;
  m_.def(
      "_op_registry",
      []() -> py::list {
        py::list out;
        for (const OpInfo& i : rows) {
          py::dict row;
          row["name"] = i.name;
          row["family"] = i.family;
          row["doc"] = i.doc;
          row["function"] = bool(i.forms & kFunction);
          row["method"] = bool(i.forms & kMethod);
          row["inplace"] = bool(i.forms & kInPlace);
          row["out"] = bool(i.forms & kOut);
          row["differentiable"] = !(i.forms & kNoGrad);
          row["aliases"] = py::tuple(py::cast(i.aliases));
          out.append(row);
        }
        return out;
      },
      "The registered ops (Note [Op registry]): one dict per op with its name, family, doc, forms and aliases.");
}

Tensor write_out(py::handle out_arg, const Tensor& result, const char* op) {
  if (!is_tensor(out_arg))
    throw py::type_error(std::string(op) + "(): argument 'out' must be Tensor, not " +
                         std::string(py::str(py::type::handle_of(out_arg).attr("__name__"))));
  Tensor out = out_arg.cast<Tensor>();
  if (out->sizes() != result->sizes() && out->numel() != 0) {
    std::string msg = detail::cat(
        "An output with one or more elements was resized since it had shape ", out->sizes(),
        ", which does not match the required output shape ", result->sizes(),
        ". This behavior is deprecated, and in a future PyTorch release outputs will not be resized unless they have "
        "zero elements. You can explicitly reuse an out tensor t by resizing it, inplace, to zero elements with "
        "t.resize_(0).");
    if (PyErr_WarnEx(PyExc_UserWarning, msg.c_str(), 1) < 0) throw py::error_already_set();
  }
  copy_to_out(out, result, op);
  return out;
}

py::object write_out_tuple(py::handle out_arg, const py::object& result, const char* op) {
  const size_t n = py::len(result);
  if (!py::isinstance<py::tuple>(out_arg) && !py::isinstance<py::list>(out_arg))
    throw py::type_error(std::string(op) + "(): argument 'out' must be tuple of Tensors, not " +
                         std::string(py::str(py::type::handle_of(out_arg).attr("__name__"))));
  py::sequence outs = out_arg.cast<py::sequence>();
  if (py::len(outs) != n)
    throw py::type_error(std::string(op) + "(): argument 'out' must be a tuple of " + std::to_string(n) +
                         " Tensors, got " + std::to_string(py::len(outs)));
  py::list written;
  for (size_t i = 0; i < n; ++i) written.append(write_out(outs[i], result[py::int_(i)].cast<Tensor>(), op));
  return py::type::handle_of(result)(*written);
}

namespace {

// Splits "a: int, b: list[int] = [1, 2]" at the commas outside brackets and quotes.
std::vector<std::string> split_params(const std::string& s) {
  std::vector<std::string> parts;
  int depth = 0;
  char quote = 0;
  std::string cur;
  for (char c : s) {
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '[' || c == '(' || c == '{') {
      ++depth;
    } else if (c == ']' || c == ')' || c == '}') {
      --depth;
    } else if (c == ',' && depth == 0) {
      parts.push_back(cur);
      cur.clear();
      continue;
    }
    cur += c;
  }
  if (!cur.empty()) parts.push_back(cur);
  for (auto& p : parts) p.erase(0, p.find_first_not_of(' '));
  return parts;
}

// A default as pybind11 prints it that inspect can evaluate as a literal.
bool literal_default(const std::string& d) {
  return !d.empty() && d.find('<') == std::string::npos && d.find("ember.") == std::string::npos;
}

// "add(input: ember._C.Tensor, *, alpha: float = 1.0) -> ember._C.Tensor" -> "(input, *, alpha=1.0)",
// or "" when a default is not a literal.
std::string text_signature(const std::string& first_line) {
  size_t open = first_line.find('('), close = first_line.rfind(") ->");
  if (open == std::string::npos || close == std::string::npos || close < open) return "";
  std::string out = "(";
  bool first = true;
  for (const std::string& p : split_params(first_line.substr(open + 1, close - open - 1))) {
    std::string name = p.substr(0, p.find(':')), def;
    size_t eq = p.rfind(" = ");
    if (eq != std::string::npos && p.find(':') != std::string::npos) {
      def = p.substr(eq + 3);
      if (!literal_default(def)) return "";
    }
    out += (first ? "" : ", ") + name + (def.empty() ? "" : "=" + def);
    first = false;
  }
  return out + ")";
}

void add_text_signature(PyObject* fn) {
  PyCFunctionObject* f = as_cfunction(fn);
  if (!f) return;
  const char* doc = f->m_ml->ml_doc;
  if (!doc) return;
  std::string d(doc), name(f->m_ml->ml_name);
  if (d.compare(0, name.size() + 1, name + "(") != 0) return;  // no signature, or an overload set
  std::string sig = text_signature(d.substr(0, d.find('\n')));
  if (sig.empty()) return;
  set_doc(f, name + sig + "\n--\n\n" + d);  // CPython strips this head from __doc__
}

}  // namespace

void add_text_signatures(py::handle scope) {
  for (auto item : scope.attr("__dict__").attr("values")()) add_text_signature(item.ptr());
}

const char* interned_name(const char* name) {
  static auto* names = new std::set<std::string>();  // never destroyed: the module's functions point into it
  return names->insert(name).first->c_str();
}

}  // namespace bind
}  // namespace ember
