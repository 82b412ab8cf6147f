#pragma once
// Argument conversion shared by the binding files. Bindings convert Python
// values into C++ ones and call csrc/ops; no op logic lives here.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/typing.h>

#include "autograd/meta.h"
#include "ops/ops.h"

namespace py = pybind11;

namespace ember {
namespace bind {
void set_node_class(pybind11::handle obj, const Node& node);  // autograd.cpp
pybind11::handle dtype_object(DType d);                       // module.cpp
}  // namespace bind
}  // namespace ember

// Note [No null tensors from Python]
// pybind11 turns None into an empty shared_ptr for every `const Tensor&` and
// list-of-tensor parameter, and the op would then dereference it. This caster
// (visible in every binding file through this header) refuses None, so any
// such call raises TypeError at the boundary, once for all bindings. Optional
// tensors are std::optional<Tensor> or OptionalTensor parameters, which accept
// None before this caster runs.
namespace ember {
namespace bind {
namespace torch_function {           // Note [Torch function dispatch] (torch_function.h)
extern PyTypeObject* g_tensor_type;  // ember.Tensor, once the module has made it
// Marks this thread when obj's type overrides __torch_function__ (obj: a tensor of a subclass);
// false (the argument is refused) once this call was already refused for dispatch, so that the
// overloads after the first go to the catch-all without running (or throwing) again.
bool note_subclass(PyObject* obj);
}  // namespace torch_function
}  // namespace bind
}  // namespace ember

namespace pybind11 {
namespace detail {
template <>
class type_caster<std::shared_ptr<ember::TensorImpl>>
    : public copyable_holder_caster<ember::TensorImpl, std::shared_ptr<ember::TensorImpl>> {
 public:
  bool load(handle src, bool convert) {
    if (src.is_none()) return false;
    if (!copyable_holder_caster<ember::TensorImpl, std::shared_ptr<ember::TensorImpl>>::load(src, convert))
      return false;
    if (Py_TYPE(src.ptr()) != ember::bind::torch_function::g_tensor_type)
      return ember::bind::torch_function::note_subclass(src.ptr());
    return true;
  }
};

// A dtype reaching Python is always the one object of its kind, so
// `t.dtype is ember.float32` holds as in PyTorch (pybind11 would make a new
// enum object per cast). Python's number types stand for dtypes wherever one
// is taken, as PyTorch's argument parser reads them: int is int64, float
// float64, bool bool, complex complex128 (zuko writes as_tensor(x, dtype=int)).
template <>
class type_caster<ember::DType> : public type_caster_base<ember::DType> {
 public:
  bool load(handle src, bool convert) {
    static ember::DType python_types[] = {ember::DType::Int64, ember::DType::Float64, ember::DType::Bool,
                                          ember::DType::Complex128};
    PyObject* type = src.ptr();
    const int index = type == (PyObject*)&PyLong_Type      ? 0
                      : type == (PyObject*)&PyFloat_Type   ? 1
                      : type == (PyObject*)&PyBool_Type    ? 2
                      : type == (PyObject*)&PyComplex_Type ? 3
                                                           : -1;
    if (index < 0) return type_caster_base<ember::DType>::load(src, convert);
    value = &python_types[index];
    return true;
  }
  static handle cast(const ember::DType& src, return_value_policy policy, handle parent) {
    handle obj = ember::bind::dtype_object(src);  // null while the enum itself is being made
    return obj ? obj.inc_ref() : type_caster_base<ember::DType>::cast(src, policy, parent);
  }
  static handle cast(const ember::DType* src, return_value_policy policy, handle parent) {
    return src ? cast(*src, policy, parent) : none().release();
  }
};

// A list of tensors (cat's, stack's) is a sequence of tensors, never one tensor: PyTorch refuses
// cat(t), which pybind11's list caster would read as t's rows.
template <>
class type_caster<std::vector<std::shared_ptr<ember::TensorImpl>>>
    : public list_caster<std::vector<std::shared_ptr<ember::TensorImpl>>, std::shared_ptr<ember::TensorImpl>> {
 public:
  bool load(handle src, bool convert) {
    if (isinstance<ember::TensorImpl>(src)) return false;
    return list_caster::load(src, convert);
  }
};

// Every node object reaching Python gets its own class (Note [Node classes]).
template <>
class type_caster<std::shared_ptr<ember::Node>>
    : public copyable_holder_caster<ember::Node, std::shared_ptr<ember::Node>> {
 public:
  static handle cast(const std::shared_ptr<ember::Node>& src, return_value_policy policy, handle parent) {
    handle obj = copyable_holder_caster<ember::Node, std::shared_ptr<ember::Node>>::cast(src, policy, parent);
    if (obj && src) ember::bind::set_node_class(obj, *src);
    return obj;
  }
};
}  // namespace detail
}  // namespace pybind11

namespace ember {
namespace bind {

// A Python object kept by C++ (hooks, custom Function state) that may be
// dropped on a thread that does not hold the GIL.
struct PyRef {
  py::object obj;
  explicit PyRef(py::object o) : obj(std::move(o)) {}
  ~PyRef() {
    // At interpreter shutdown there may be no thread state to take the GIL
    // with; the process is ending, so the reference is left to it.
    if (!Py_IsInitialized() || _Py_IsFinalizing()) {
      obj.release();
      return;
    }
    py::gil_scoped_acquire gil;
    obj = py::object();
  }
};

// Entering Python from C++ (a node's backward, a hook, a callback): the GIL, and no op
// device (Note [Op device]), so the tensors the Python code makes go where it says, not to
// the device of the node that runs it.
struct EnterPython {
  OpDeviceGuard on_host{Device{}};
  py::gil_scoped_acquire gil;
};

inline bool is_tensor(py::handle h) { return py::isinstance<TensorImpl>(h); }

// Parameter types that name what they accept in signatures and stubs; the
// binding reads their values with operand(), dims_arg() and dtype_arg().
using TensorOrNumber = py::typing::Union<TensorImpl, py::float_>;
using OptionalTensor = py::typing::Optional<TensorImpl>;
using OptionalNumber = py::typing::Optional<py::typing::Union<TensorImpl, py::float_>>;
using Dims = py::typing::Optional<py::typing::Union<py::int_, py::typing::Tuple<py::int_, py::ellipsis>>>;
using OptionalDim = py::typing::Optional<py::int_>;
using OptionalDType = py::typing::Optional<DType>;

// Tensor operand from a Tensor or a Python number (a wrapped number, which
// does not widen the other operand's dtype). Null if neither.
inline Tensor operand(py::handle h) {
  if (is_tensor(h)) return h.cast<Tensor>();
  if (PyBool_Check(h.ptr())) return wrapped_scalar(h.ptr() == Py_True ? 1.0 : 0.0, DType::Bool);
  if (PyLong_Check(h.ptr())) {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(h.ptr(), &overflow);
    if (overflow) throw py::value_error("ember: Python integer too large for int64");
    Tensor t = empty({}, DType::Int64, Device{});  // a number stays on the host (Note [Op device])
    *t->data<int64_t>() = v;
    t->is_wrapped_number = true;
    return t;
  }
  if (PyFloat_Check(h.ptr())) return wrapped_scalar(PyFloat_AS_DOUBLE(h.ptr()), DType::Float64);
  // numpy scalars and 0-d arrays behave as Python numbers.
  if (py::hasattr(h, "dtype") && py::hasattr(h, "item") && py::hasattr(h, "ndim") && h.attr("ndim").cast<int>() == 0)
    return operand(h.attr("item")());
  return Tensor();
}

// operand(), and a numpy array as a tensor: `tensor + array` gives a tensor, as in PyTorch.
inline Tensor operand_or_array(py::handle h) {
  Tensor t = operand(h);
  if (t || !py::isinstance<py::array>(h)) return t;
  return py::module_::import("ember").attr("as_tensor")(h).cast<Tensor>();
}

// pybind11's cast_error, raised where a binding converts a Python value the C++ code cannot
// take ("Unable to cast Python instance of type <class 'str'> to C++ type '?'"), reworded as a
// TypeError message naming the value's type (Note [Argument errors]).
inline std::string unsupported_argument_message(const char* what) {
  const std::string text = what, open = "<class '";
  const size_t start = text.find(open), end = start == std::string::npos ? start : text.find("'>", start);
  if (end == std::string::npos) return text;
  return "an argument of type " + text.substr(start + open.size(), end - start - open.size()) +
         " is not supported here";
}

// The name of h's type, for error messages ("not str").
inline std::string type_name(py::handle h) { return py::str(py::type::handle_of(h).attr("__name__")); }

inline Tensor require_operand(py::handle h, const char* op, const char* arg = "other") {
  Tensor t = operand(h);
  // A Python complex number: the call goes on to the catch-all overload, which hands it to the
  // complex tensors' rules (Note [Complex tensors]).
  if (!t && PyComplex_Check(h.ptr())) throw py::reference_cast_error();
  if (!t)
    throw py::type_error(std::string(op) + "(): argument '" + arg + "' must be Tensor or Number, not " + type_name(h));
  return t;
}

// operator.index(h) as an int64; its TypeError (a float tensor's, say) passes on.
inline int64_t index_value(py::handle h) {
  PyObject* index = PyNumber_Index(h.ptr());
  if (!index) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(index).cast<int64_t>();
}

// Note [Argument errors]
// An int or list-of-ints argument that holds something else is PyTorch's TypeError naming the
// argument ("argument 'dim' must be tuple of ints, not str"). The helpers that read such
// arguments do not know the op, so they throw ArgumentError; the registry's call wrapper puts
// the op's name in front ("sum(): argument ..."), and where no wrapper runs the message
// reaches Python as it is, still a TypeError. Other values a binding cannot convert raise
// pybind11's cast_error; the wrapper and the module's exception translator turn it into a
// TypeError naming the value's type (and the op, in the wrapper) instead of pybind11's
// RuntimeError "Unable to cast ... to C++ type '?'". reference_cast_error is left alone:
// pybind11 reads it as "try the next overload" (Note [Torch function dispatch]).
struct ArgumentError : Error {
  explicit ArgumentError(const std::string& msg) : Error(ErrorKind::Type, msg) {}
};

// One item of an int list: anything with __index__ (a Python or numpy int, a 0-d integer tensor).
inline int64_t int_list_item(py::handle x, size_t pos, const char* arg) {
  if (!PyIndex_Check(x.ptr()))
    throw ArgumentError(detail::cat("argument '", arg, "' must be tuple of ints, but found element of type ",
                                    type_name(x), " at pos ", pos));
  return index_value(x);
}

// An int argument (a dim): anything with __index__; else PyTorch's TypeError naming it.
inline int64_t int_arg(py::handle h, const char* arg = "dim") {
  if (!PyIndex_Check(h.ptr())) throw ArgumentError(detail::cat("argument '", arg, "' must be int, not ", type_name(h)));
  return index_value(h);
}

// dim=None or an int.
inline std::optional<int64_t> optional_dim(py::handle h) {
  if (h.is_none()) return std::nullopt;
  return int_arg(h);
}

// The items of a sequence of ints; a str or a non-sequence is refused by its type's name.
inline DimList int_list(py::handle h, const char* arg) {
  if (PyUnicode_Check(h.ptr()) || PyBytes_Check(h.ptr()) || !py::isinstance<py::iterable>(h))
    throw ArgumentError(detail::cat("argument '", arg, "' must be tuple of ints, not ", type_name(h)));
  DimList d;
  for (auto x : h) d.push_back(int_list_item(x, d.size(), arg));
  return d;
}

// dim=None | int | tuple/list of ints  ->  DimList (empty: all dims)
inline DimList dims_arg(py::handle h, const char* arg = "dim") {
  if (h.is_none()) return {};
  // one int: a Python int, or anything with __index__ (a numpy int, a 0-d integer tensor)
  if (PyIndex_Check(h.ptr())) return {index_value(h)};
  return int_list(h, arg);
}

// A shape given as varargs ints or as one sequence: view(2, 3) or view((2, 3)).
inline Shape shape_args(const py::args& args, const char* arg = "size") {
  if (args.size() == 1 && !PyIndex_Check(args[0].ptr())) return int_list(args[0], arg);
  Shape s;
  for (auto x : args) s.push_back(int_list_item(x, s.size(), arg));
  return s;
}

// Sizes given as arguments, one sequence, or PyTorch's keyword (x.reshape(shape=(2, 3))).
inline Shape shape_or_keyword(const py::args& args, const py::kwargs& kw, const char* op, const char* keyword) {
  for (auto item : kw)
    if (py::str(item.first).cast<std::string>() != keyword)
      throw py::type_error(std::string(op) + "() got an unexpected keyword argument '" +
                           py::str(item.first).cast<std::string>() + "'");
  if (kw.contains(keyword)) {
    if (args.size() != 0)
      throw py::type_error(std::string(op) + "() got multiple values for argument '" + keyword + "'");
    return dims_arg(kw[keyword], keyword);
  }
  return shape_args(args, keyword);
}

std::optional<DType> dtype_arg(py::handle h);
// nonzero(t, as_tuple=True): one index tensor per dim (a 0-d t counts as 1-d).
// A uint8 tensor read as a bool mask, as PyTorch still reads one where it deprecates it (an index, where's
// condition), with that place's deprecation warning.
inline Tensor byte_as_mask(const Tensor& t, const char* deprecation) {
  if (t->dtype() != DType::UInt8) return t;
  if (PyErr_WarnEx(PyExc_UserWarning, deprecation, 1) < 0) throw py::error_already_set();
  return to_dtype(t, DType::Bool);
}
inline Tensor byte_index_as_mask(const Tensor& index) {
  return byte_as_mask(index,
                      "indexing with dtype torch.uint8 is now deprecated, please use a dtype torch.bool instead.");
}

inline py::tuple nonzero_tuple(const Tensor& t) {
  Tensor nz = nonzero(t->dim() ? t : reshape(t, {1}));
  py::tuple out(nz->size(1));
  for (int64_t d = 0; d < nz->size(1); ++d) out[d] = py::cast(contiguous(select(nz, 1, d)));
  return out;
}
py::object make_return_pair(const char* kind, const Tensor& values, const Tensor& indices);

}  // namespace bind
}  // namespace ember

namespace ember {
// A memory_format argument (Note [Memory formats]): one of ember's format objects (they carry
// their MemoryFormat as `_ember_memory_format`), or None for `if_none`.
inline MemoryFormat memory_format_arg(py::handle h, MemoryFormat if_none, const char* op) {
  if (h.is_none()) return if_none;
  if (!py::hasattr(h, "_ember_memory_format"))
    throw py::type_error(std::string(op) + "(): argument 'memory_format' must be ember.memory_format, not " +
                         py::str(py::type::handle_of(h).attr("__name__")).cast<std::string>());
  return static_cast<MemoryFormat>(h.attr("_ember_memory_format").cast<int>());
}
}  // namespace ember
