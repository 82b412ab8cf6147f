// ember._C: the compiled module. Types (dtype, device, Tensor) are defined
// here; the op, autograd and tensor-method bindings live in their own files.
#include <cstring>

#include "core/allocator.h"
#include "kernels/cpu/loops.h"
#include "kernels/cpu/matmul.h"
#include "python/common.h"
#include "python/registry.h"
#include "python/torch_function.h"

namespace ember {
namespace bind {

// A handle, not an object: a static py::object would be released after the interpreter is gone.
static py::handle return_types;

py::object make_return_pair(const char* kind, const Tensor& values, const Tensor& indices) {
  return return_types.attr(kind)(values, indices);
}

std::optional<DType> dtype_arg(py::handle h) {
  if (h.is_none()) return std::nullopt;
  if (py::isinstance<DType>(h)) return h.cast<DType>();
  // numpy dtypes and Python types are accepted where PyTorch accepts them.
  if (h.ptr() == (PyObject*)&PyFloat_Type) return DType::Float64;
  if (h.ptr() == (PyObject*)&PyLong_Type) return DType::Int64;
  if (h.ptr() == (PyObject*)&PyBool_Type) return DType::Bool;
  throw py::type_error("dtype must be an ember.dtype, got " + std::string(py::repr(h)));
}

// The dtype objects, made once by init_types (kept for the interpreter's life).
static PyObject* g_dtype_objects[kNumDTypeNames] = {};

py::handle dtype_object(DType d) { return g_dtype_objects[(int)d]; }

static void init_types(py::module_& m) {
  py::enum_<DType> dtype(m, "dtype",
                         "The element type of a tensor: ember.float32 (default), float64, float16, bfloat16, "
                         "int64, int32, int16, int8, uint8, uint16, uint32, uint64, bool; complex32, "
                         "the float8, quantized, bits and sub-byte dtypes are names only (no tensor has them), "
                         "complex64/complex128 tensors are Python stand-ins.");
  for (DType d : kAllDTypes) dtype.value(dtype_name(d), d);
  for (int i = 0; i < kNumNamedOnly; ++i) dtype.value(dtype_name(named_only_dtype(i)), named_only_dtype(i));
  dtype.def("__repr__", [](DType d) { return std::string("ember.") + dtype_name(d); })
      .def("__str__", [](DType d) { return std::string("ember.") + dtype_name(d); })
      .def_property_readonly(
          "is_floating_point", [](DType d) { return is_floating(d) || is_float8(d) || d == DType::Float4_e2m1fn_x2; },
          "Whether it is a float dtype.")
      .def_property_readonly(
          "is_complex", [](DType d) { return is_complex(d); }, "Whether it is a complex dtype.")
      .def_property_readonly(
          "itemsize", [](DType d) { return itemsize(d); }, "The size of one element in bytes.")
      .def_property_readonly(
          "is_signed",
          [](DType d) {
            // PyTorch's words for the dtypes that have no sign to tell
            if (is_quantized(d)) throw std::runtime_error("isSignedType not supported for quantized types");
            if (is_bits(d)) throw std::runtime_error("Bits types are undefined");
            bool unsigned_sub_byte = d >= DType::UInt1;
            return d != DType::Bool && d != DType::UInt8 && d != DType::Float8_e8m0fnu && !is_wide_unsigned(d) &&
                   !unsigned_sub_byte;
          },
          "Whether it holds signed values.");
  // A dtype is not a number: without this, pybind11 would take ember.float32
  // as the int 3 wherever an int is expected (x.chunk(ember.int64), a dim...).
  // The enum's hash and pickle state used int(self); they read the value directly.
  for (DType d : kAllDTypes) g_dtype_objects[(int)d] = dtype.attr(dtype_name(d)).ptr();
  for (int i = 0; i < kNumNamedOnly; ++i)  // the enum's members live as long as the type
    g_dtype_objects[(int)named_only_dtype(i)] = dtype.attr(dtype_name(named_only_dtype(i))).ptr();
  dtype.attr("__index__") = py::none();
  dtype.attr("__int__") = py::none();
  dtype.attr("__hash__") = py::cpp_function([](DType d) { return (int)d; }, py::is_method(dtype), "Hash of the dtype.");
  dtype.attr("__getstate__") =
      py::cpp_function([](DType d) { return (int)d; }, py::is_method(dtype), "The dtype's pickle state.");

  py::class_<Device>(m, "device", "Where a tensor's memory lives: device('cpu'), device('cuda', 0), ...")
      .def(py::init([](const std::string& s) { return parse_device(s); }), py::arg("type"))
      .def(py::init([](const std::string& s, int index) {
             EMBER_CHECK(index >= 0, "Device index must not be negative");
             return parse_device(s, index);
           }),
           py::arg("type"), py::arg("index"))
      .def(py::init([](const Device& d) { return d; }), py::arg("device"))
      .def_property_readonly("type", &Device::type_name, "The device type: 'cpu' or 'cuda'.")
      .def_property_readonly(
          "index",
          [](const Device& d) -> py::object { return d.index < 0 ? py::none() : py::object(py::int_(d.index)); },
          "The device index, or None.")
      .def("__repr__",
           [](const Device& d) {
             return "device(type='" + d.type_name() + "'" + (d.index >= 0 ? ", index=" + std::to_string(d.index) : "") +
                    ")";
           })
      .def("__str__", &Device::str, "'cpu', 'cuda:0', ...")
      .def(
          "__eq__",
          [](const Device& a, py::handle b) {
            if (py::isinstance<Device>(b)) return a == b.cast<Device>();
            if (!py::isinstance<py::str>(b)) return false;
            try {  // a string naming a device ember does not have ("npu") names no device of ember's
              return a == parse_device(b.cast<std::string>());
            } catch (const Error&) { return false; }
          },
          "Equal to a device or a device string naming the same device.", py::arg("other"))
      .def(
          "__hash__", [](const Device& d) { return std::hash<std::string>()(d.str()); }, "Hash of the device's string.")
      .def(py::pickle([](const Device& d) { return py::make_tuple(d.str()); },
                      [](py::tuple t) { return parse_device(t[0].cast<std::string>()); }));
  py::implicitly_convertible<std::string, Device>();

  m.def("_cuda_is_available", &cuda_is_available, "Whether this build has CUDA and a GPU is present (never, today).");
  // Whether a Tensor object was built (its C++ tensor made): Tensor.__init__ leaves a subclass instance
  // its __new__ already built alone, as PyTorch's (torchvision's tv_tensors pass __init__ their own keywords).
  m.def(
      "_is_constructed",
      [](py::handle obj) {
        auto* inst = reinterpret_cast<py::detail::instance*>(obj.ptr());
        return py::isinstance<TensorImpl>(obj) && inst->get_value_and_holder().holder_constructed();
      },
      "Whether the Tensor object holds a built tensor.", py::arg("obj"));
  m.def("_empty_cache", &empty_cache, "Frees the CPU buffers the caching allocator keeps for reuse.");
  m.def("_set_default_float", &set_default_float,
        "The float dtype of promotions without a float tensor (set_default_dtype sets it).", py::arg("dtype"));
  m.def("_set_caching_allocator", &set_caching_allocator, "Switches the CPU caching allocator on or off.",
        py::arg("enabled"));
  m.def(
      "_allocator_stats",
      [] {
        AllocatorStats s = allocator_stats();
        return py::dict(py::arg("hits") = s.hits, py::arg("misses") = s.misses,
                        py::arg("cached_bytes") = s.cached_bytes, py::arg("exact") = s.exact);
      },
      "The caching allocator's hits, misses and cached bytes.");
  m.def(
      "_check_device", [](const Device& d) { check_device_available(d); },
      "Raises RuntimeError unless tensors can live on device.", py::arg("device"));
}

static void register_threads(OpRegistry& r) {
  r.family("utilities");
  r.function(
      "set_num_threads", kNoGrad, "Sets the number of threads ember's kernels use.",
      [](int n) { kernels::set_num_threads(n); }, py::arg("int"));
  r.function("get_num_threads", kNoGrad, "The number of threads ember's kernels use.",
             [] { return kernels::thread_budget(); });
  // The threads a parallel region would take now (Note [Busy machine]); for the tests.
  r.module().def("_parallel_threads", [] { return kernels::max_threads(); });
}

}  // namespace bind
}  // namespace ember

// Note [Hashable methods]
// pybind11 binds a class's methods as `instancemethod` objects, which
// Python leaves unhashable (they compare by their function but define no
// hash); PyTorch's Tensor methods are hashable method descriptors, and
// libraries key dicts by them (linear_operator's and every
// __torch_function__ table: HANDLED[torch.Tensor.matmul]). The hash given
// here is the function's, agreeing with instancemethod's equality. Only
// extension modules make instancemethods, so no Python code sees a change
// but that hash() now answers.
static Py_hash_t instancemethod_hash(PyObject* self) { return PyObject_Hash(PyInstanceMethod_GET_FUNCTION(self)); }

PYBIND11_MODULE(_C, m) {
  using namespace ember;
  m.doc() = "ember's compiled core";
  kernels::blas_single_threaded();                        // Note [BLAS threads]
  PyInstanceMethod_Type.tp_hash = instancemethod_hash;    // Note [Hashable methods]
  PyObject* method_dict = PyInstanceMethod_Type.tp_dict;  // its __hash__ = None says "unhashable" to Python code
  if (method_dict && PyDict_GetItemString(method_dict, "__hash__") == Py_None) {
    PyDict_DelItemString(method_dict, "__hash__");
    PyType_Modified(&PyInstanceMethod_Type);
  }

  // torch.OutOfMemoryError: a RuntimeError; the caching allocator's "CUDA out of memory" raises it
  // (the CUDA library throws a std::runtime_error with those first words: no type crosses its dlopen).
  static PyObject* out_of_memory = PyErr_NewExceptionWithDoc(
      "ember.OutOfMemoryError", "Raised when a device runs out of memory (torch.OutOfMemoryError).", PyExc_RuntimeError,
      nullptr);
  m.attr("OutOfMemoryError") = py::handle(out_of_memory);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      PyObject* kind = PyExc_RuntimeError;
      switch (e.kind) {
        case ErrorKind::Value: kind = PyExc_ValueError; break;
        case ErrorKind::Type: kind = PyExc_TypeError; break;
        case ErrorKind::Index: kind = PyExc_IndexError; break;
        case ErrorKind::NotImplemented: kind = PyExc_NotImplementedError; break;
        default: break;
      }
      PyErr_SetString(kind, e.what());
    } catch (const std::logic_error& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    } catch (const py::reference_cast_error&) {
      throw;                             // pybind11's "try the next overload"
    } catch (const py::cast_error& e) {  // Note [Argument errors]
      PyErr_SetString(PyExc_TypeError, bind::unsupported_argument_message(e.what()).c_str());
    } catch (const std::runtime_error& e) {
      if (std::strncmp(e.what(), "CUDA out of memory", 18) != 0) throw;  // the others as pybind11 translates them
      PyErr_SetString(out_of_memory, e.what());
    }
  });

  ThreadRelease::release = [](void** state) { *state = PyGILState_Check() ? PyEval_SaveThread() : nullptr; };
  ThreadRelease::reacquire = [](void* state) { PyEval_RestoreThread((PyThreadState*)state); };

  auto collections = py::module_::import("collections");
  auto rt = py::module_::import("types").attr("SimpleNamespace")();
  for (const char* kind : {"max", "min", "sort", "topk", "kthvalue", "median", "nanmedian", "cummax", "cummin"})
    rt.attr(kind) = collections.attr("namedtuple")(kind, py::make_tuple("values", "indices"));
  bind::return_types = rt.inc_ref();
  m.attr("return_types") = rt;

  bind::init_types(m);
  py::class_<TensorImpl, std::shared_ptr<TensorImpl>> tensor(
      m, "Tensor", "A multi-dimensional array of one dtype on one device, with autograd history.", py::dynamic_attr(),
      py::buffer_protocol(), py::custom_type_setup(&bind::tensor_type_setup));
  bind::init_tensor(m, tensor);
  bind::torch_function::install(m, tensor);  // Note [Torch function dispatch]
  bind::init_interop(m, tensor);
  bind::init_profiler(m);
  bind::init_lapack(m);
  bind::init_cuda(m);
  bind::init_autograd(m, tensor);

  // Note [Op registry]
  bind::OpRegistry registry(m, tensor);
  bind::register_math_ops(registry);
  bind::register_reduce_ops(registry);
  bind::register_sort_ops(registry);
  bind::register_linalg_ops(registry);
  bind::register_shape_ops(registry);
  bind::register_index_ops(registry);
  bind::register_nn_ops(registry);
  bind::register_creation_ops(registry);
  bind::register_threads(registry);
  registry.publish({"Tensor", "dtype", "device", "Generator", "default_generator", "from_numpy"});
  bind::add_lenient_forms(m);
  bind::batching::install(m);
  bind::autocast::install(m);
  // pickle's protocols 0 and 1 make copyreg construct pybind11's base class,
  // which aborts the interpreter; these pickle through protocol 2 whatever
  // protocol is asked (their py::pickle state is the same).
  for (const char* name : {"dtype", "device", "Generator"})
    m.attr(name).attr("__reduce_ex__") = py::cpp_function(
        [](py::handle self, int protocol) -> py::object {
          return py::module_::import("builtins").attr("object").attr("__reduce_ex__")(self, std::max(protocol, 2));
        },
        py::is_method(m.attr(name)), py::arg("protocol"), "pickle support for every protocol.");
  // Objects of the graph cannot be pickled (as in PyTorch): a TypeError, never an abort.
  for (const char* name : {"Node", "RemovableHandle", "_SavedTensorsHandle"})
    m.attr(name).attr("__reduce_ex__") = py::cpp_function(
        [](py::handle self, int) -> py::object {
          throw py::type_error("cannot pickle '" + std::string(py::str(py::type::handle_of(self).attr("__name__"))) +
                               "' object");
        },
        py::is_method(m.attr(name)), py::arg("protocol"), "Refuses: graph objects cannot be pickled.");
  // tools/gen_stubs.py turns them off: the stub generator would read these
  // untyped signatures instead of pybind11's typed ones.
  const char* text_signatures = std::getenv("EMBER_TEXT_SIGNATURES");
  if (!text_signatures || std::string(text_signatures) != "0") {
    for (const char* scope : {"Tensor", "device", "Generator", "Node", "RemovableHandle"})
      bind::add_text_signatures(m.attr(scope));
    bind::add_text_signatures(m);
  }
}
