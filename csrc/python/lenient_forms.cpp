// Note [Lenient call forms]
// PyTorch's argument parser takes two call forms that ember's bindings would
// refuse: a Python number as the input of the few arithmetic functions its
// parser lets numbers stand for tensors (torch.add(1.0, t), torch.div(1.0, t),
// torch.sub, mul, true_divide, floor_divide, and remainder's Scalar-self
// overload), and the deprecated overloads that put a number before the tensors
// (p.add_(-lr, grad), exp_avg_sq.addcmul_(1 - beta2, g, g),
// torch.addcmul(t, 0.5, a, b)), which older optimizers still use. Each gets one
// more overload at the end of its overload set: pybind11 tries it only after
// the others (and vmap's catch-all) refuse a call, so ordinary calls pay
// nothing. It reorders the arguments and calls the overload set again, so the
// op runs through its registry path (devices, autocast, profiler, vmap); a
// deprecated form warns once, with PyTorch's words.
#include <set>
#include <string>

#include "python/bindings.h"
#include "python/common.h"
#include "python/registry.h"

namespace ember {
namespace bind {
namespace {

void warn_deprecated_once(const std::string& name, const char* form, const char* instead) {
  static std::set<std::string> warned;
  if (!warned.insert(name).second) return;
  const std::string text = "This overload of " + name + " is deprecated:\n\t" + name + form +
                           "\nConsider using one of the following signatures instead:\n\t" + name + instead;
  if (PyErr_WarnEx(PyExc_UserWarning, text.c_str(), 1) != 0) throw py::error_already_set();
}

// `number` as the wrapped-number tensor an operator makes of it (it does not widen the other operand); anything
// else lets pybind11 go on, to its usual "incompatible function arguments" error.
Tensor number_operand(py::handle number) {
  if (!(PyFloat_Check(number.ptr()) || PyLong_Check(number.ptr()))) throw py::reference_cast_error();
  return operand(number);
}

// Appends `fn` to the overload set `scope.name` (a function of the module, or a Tensor method). pybind11
// extends the set's chain in place, so the attribute and its aliases (subtract for sub) keep their objects.
template <class F>
void append_overload(py::object scope, const char* name, bool method, F fn) {
  py::object existing = scope.attr(name);  // (a method read from the class: its function)
  if (method)
    py::cpp_function(fn, py::name(name), py::is_method(scope), py::sibling(existing));
  else
    py::cpp_function(fn, py::name(name), py::scope(scope), py::sibling(existing));
  show_first_overload(existing.ptr());  // its docstring names the first overload only, as before
}

}  // namespace

void add_lenient_forms(py::module_& m) {
  py::object tensor = m.attr("Tensor");
  // number first: torch.add(1.0, t) is add(wrapped 1.0, t)
  // (subtract, multiply, divide and true_divide name the same overload sets as sub, mul and div)
  for (const char* name : {"add", "sub", "mul", "div", "floor_divide", "remainder"}) {
    py::object op = m.attr(name);
    append_overload(m, name, false, [op](py::object number, py::args rest, py::kwargs kwargs) {
      return op(number_operand(number), *rest, **kwargs);
    });
  }
  // deprecated: add(input, alpha, other), t.add(alpha, other), t.add_(alpha, other), and sub's
  for (const char* name : {"add", "sub"}) {
    py::object fn = m.attr(name);
    append_overload(m, name, false, [fn, name](const Tensor& input, double alpha, const Tensor& other, py::kwargs kw) {
      warn_deprecated_once(name, "(Tensor input, Number alpha, Tensor other, *, Tensor out)",
                           "(Tensor input, Tensor other, *, Number alpha = 1, Tensor out = None)");
      kw["alpha"] = alpha;
      return fn(input, other, **kw);
    });
    for (const std::string& method : {std::string(name), std::string(name) + "_"}) {
      py::object bound = tensor.attr(method.c_str());
      append_overload(tensor, interned_name(method.c_str()), true,
                      [bound, method](py::object self, double alpha, const Tensor& other) {
                        warn_deprecated_once(method, "(Number alpha, Tensor other)",
                                             "(Tensor other, *, Number alpha = 1)");
                        return bound(self, other, py::arg("alpha") = alpha);
                      });
    }
  }
  // deprecated: addcmul(input, value, tensor1, tensor2), t.addcmul(value, t1, t2), t.addcmul_(...), addcdiv's
  for (const char* name : {"addcmul", "addcdiv"}) {
    py::object fn = m.attr(name);
    append_overload(m, name, false,
                    [fn, name](const Tensor& input, double value, const Tensor& a, const Tensor& b, py::kwargs kw) {
                      warn_deprecated_once(
                          name, "(Tensor input, Number value, Tensor tensor1, Tensor tensor2, *, Tensor out)",
                          "(Tensor input, Tensor tensor1, Tensor tensor2, *, Number value = 1, Tensor out = None)");
                      kw["value"] = value;
                      return fn(input, a, b, **kw);
                    });
    for (const std::string& method : {std::string(name), std::string(name) + "_"}) {
      py::object bound = tensor.attr(method.c_str());
      append_overload(tensor, interned_name(method.c_str()), true,
                      [bound, method](py::object self, double value, const Tensor& a, const Tensor& b) {
                        warn_deprecated_once(method, "(Number value, Tensor tensor1, Tensor tensor2)",
                                             "(Tensor tensor1, Tensor tensor2, *, Number value = 1)");
                        return bound(self, a, b, py::arg("value") = value);
                      });
    }
  }
}

}  // namespace bind
}  // namespace ember
