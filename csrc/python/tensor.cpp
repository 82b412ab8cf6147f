// Tensor attributes, numpy interop, indexing, conversions to Python values.
#include "autograd/grad_mode.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cuda_dispatch.h"
#include "python/bindings.h"
#include "python/registry.h"
#include "python/torch_function.h"

namespace ember {

// resize_ in a memory format (PyTorch's keyword): row-major, then restrided to channels-last when asked.
static Tensor& resized_in_format(Tensor& t, const Shape& sizes, MemoryFormat f) {
  EMBER_CHECK(f != MemoryFormat::Preserve, "Unsupported memory formatPreserve");
  EMBER_CHECK(f != MemoryFormat::ChannelsLast || sizes.size() == 4,
              "required rank 4 tensor to use channels_last format");
  EMBER_CHECK(f != MemoryFormat::ChannelsLast3d || sizes.size() == 5,
              "required rank 5 tensor to use channels_last_3d format");
  resize_(t, sizes);
  if (f != MemoryFormat::Contiguous) t->set_geometry(t->sizes(), memory_format_strides(t, f), t->offset());
  return t;
}
namespace bind {

static py::dtype numpy_dtype(DType d) {
  // numpy has no bfloat16; PyTorch refuses it with these words.
  EMBER_CHECK_KIND(d != DType::BFloat16, Type, "Got unsupported ScalarType BFloat16");
  return py::dtype(d == DType::Bool ? std::string("bool") : dtype_name(d));
}

static DType dtype_from_numpy(const py::dtype& dt) {
  const char kind = dt.kind();
  const size_t size = dt.itemsize();
  for (DType d : kAllDTypes) {
    const char ours = d == DType::Bool                           ? 'b'
                      : d == DType::UInt8 || is_wide_unsigned(d) ? 'u'
                      : is_floating(d)                           ? 'f'
                                                                 : 'i';
    if (d != DType::BFloat16 && ours == kind && itemsize(d) == size) return d;
  }
  throw py::type_error("can't convert np.ndarray of type " + std::string(py::str(dt)) +
                       ". The only supported types are: float64, float32, float16, int64, int32, int16, int8, "
                       "uint64, uint32, uint16, uint8, and bool.");
}

// A numpy array viewing the tensor's memory; the array keeps the storage alive.
static py::array to_numpy(const Tensor& t) {
  // As PyTorch: allowed under no_grad, where nothing could be recorded through it.
  EMBER_CHECK(!(t->requires_grad() && GradMode::is_enabled()),
              "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.");
  EMBER_CHECK_KIND(t->device().is_cpu(), Type, "can't convert ", t->device().str(),
                   " device type tensor to numpy. Use Tensor.cpu() to copy the tensor to host memory first.");
  std::vector<py::ssize_t> shape(t->sizes().begin(), t->sizes().end()), strides;
  for (auto s : t->strides()) strides.push_back(s * (py::ssize_t)itemsize(t->dtype()));
  auto* keep = new std::shared_ptr<Storage>(t->storage());
  py::capsule owner(keep, [](void* p) { delete static_cast<std::shared_ptr<Storage>*>(p); });
  return py::array(numpy_dtype(t->dtype()), shape, strides, t->data_ptr(), owner);
}

// A tensor viewing the array's memory; the tensor keeps the array alive.
static Tensor array_view(py::array arr) {
  DType dt = dtype_from_numpy(arr.dtype());
  Shape sizes, strides;
  for (py::ssize_t i = 0; i < arr.ndim(); ++i) {
    sizes.push_back(arr.shape(i));
    py::ssize_t st = arr.strides(i);
    EMBER_CHECK_KIND(st >= 0, Value,
                     "At least one stride in the given numpy array is negative, and tensors with negative "
                     "strides are not currently supported. (You can probably work around this by making a copy of "
                     "your array  with array.copy().) ");
    EMBER_CHECK_KIND(st % (py::ssize_t)itemsize(dt) == 0, Value,
                     "given numpy array strides not a multiple of the element byte size. Copy the numpy array to "
                     "reallocate the memory.");
    strides.push_back(st / (py::ssize_t)itemsize(dt));
  }
  auto st = std::make_shared<Storage>();
  auto* ref = new PyRef(arr);
  st->data = const_cast<void*>(arr.data());
  st->release_foreign = [ref] { delete ref; };
  st->nbytes = arr.nbytes();
  return std::make_shared<TensorImpl>(st, sizes, strides, 0, dt);
}

// ember.from_numpy: a read-only array stays read-only, with PyTorch's warning, once per program.
static Tensor from_numpy(py::array arr) {
  static std::atomic<bool> warned_read_only{false};
  if (!arr.writeable() && !warned_read_only.exchange(true)) {
    const char* msg =
        "The given NumPy array is not writable, and ember does not support non-writable tensors. This means writing "
        "to this tensor will result in undefined behavior. You may want to copy the array to protect its data or make "
        "it writable before converting it to a tensor. This type of warning will be suppressed for the rest of this "
        "program.";
    if (PyErr_WarnEx(PyExc_UserWarning, msg, 1) < 0) throw py::error_already_set();
  }
  return array_view(arr);
}

static Tensor from_numpy_copy(py::array arr, std::optional<DType> dtype) {
  Tensor src = array_view(py::array::ensure(arr));
  Tensor out = empty(src->sizes(), dtype.value_or(src->dtype()));
  kernels::copy(out, src);
  return out;
}

static py::object item(const Tensor& tensor) {
  EMBER_CHECK(tensor->numel() == 1, "a Tensor with ", tensor->numel(), " elements cannot be converted to Scalar");
  const Tensor t = kernels::host_copy(tensor);  // a CUDA tensor's value: the copy waits for the device
  return dispatch_all(t->dtype(), [&](auto tag) -> py::object {
    using T = typename decltype(tag)::type;
    T v = *t->data<T>();
    if constexpr (std::is_same_v<T, bool>)
      return py::bool_(v);
    else if constexpr (std::is_unsigned_v<T>)
      return py::int_((uint64_t)v);  // uint64 values from 2**63 up stay positive
    else if constexpr (std::is_integral_v<T>)
      return py::int_((int64_t)v);
    else
      return py::float_(convert<double>(v));
  });
}

// PyTorch's rule (old NumPy's): a short non-tuple sequence that holds a tensor, a sequence, a slice, None or
// Ellipsis is a tuple of indices, with a deprecation warning; other lists are one index (x[[0, 2]] picks rows).
static bool sequence_as_tuple(py::handle idx) {
  if (is_tensor(idx) || py::isinstance<py::array>(idx) || PyUnicode_Check(idx.ptr()) || PyBytes_Check(idx.ptr()) ||
      !PySequence_Check(idx.ptr()))
    return false;
  Py_ssize_t n = PySequence_Size(idx.ptr());
  if (n < 0) PyErr_Clear();
  if (n < 0 || n >= 32) return false;
  for (Py_ssize_t i = 0; i < n; ++i) {
    py::object item = py::reinterpret_steal<py::object>(PySequence_GetItem(idx.ptr(), i));
    if (!item) {
      PyErr_Clear();
      return false;
    }
    if (is_tensor(item) || PySequence_Check(item.ptr()) || PySlice_Check(item.ptr()) || item.is_none() ||
        item.ptr() == Py_Ellipsis) {
      const char* msg =
          "Using a non-tuple sequence for multidimensional indexing is deprecated and will be changed in pytorch "
          "2.9; use x[tuple(seq)] instead of x[seq]. In pytorch 2.9 this will be interpreted as tensor index, "
          "x[torch.tensor(seq)], which will result either in an error or a different result";
      if (PyErr_WarnEx(PyExc_UserWarning, msg, 1) < 0) throw py::error_already_set();
      return true;
    }
  }
  return false;
}

static std::vector<TensorIndex> parse_index(py::handle idx) {
  std::vector<TensorIndex> out;
  auto one = [&](py::handle h) {
    TensorIndex ix{TensorIndex::None};
    if (h.is_none()) {
      ix.kind = TensorIndex::None;
    } else if (h.ptr() == Py_Ellipsis) {
      ix.kind = TensorIndex::Ellipsis;
    } else if (PyBool_Check(h.ptr())) {
      ix.kind = TensorIndex::Boolean;
      ix.integer = h.ptr() == Py_True;
    } else if (PyLong_Check(h.ptr())) {
      ix.kind = TensorIndex::Integer;
      ix.integer = h.cast<int64_t>();
    } else if (PySlice_Check(h.ptr())) {
      ix.kind = TensorIndex::Slice;
      auto get = [&](const char* name) -> std::optional<int64_t> {
        py::object v = h.attr(name);
        if (v.is_none()) return std::nullopt;
        return py::int_(v).cast<int64_t>();
      };
      ix.start = get("start");
      ix.stop = get("stop");
      ix.step = get("step").value_or(1);
    } else if (is_tensor(h)) {
      Tensor t = h.cast<Tensor>();
      t = byte_index_as_mask(t);
      if (t->dim() == 0 && t->dtype() == DType::Bool) {
        ix.kind = TensorIndex::Boolean;
        ix.integer = item_as_int64(t) != 0;  // (read on the host: a CUDA mask's one value too)
      } else if (t->dim() == 0 && is_integral(t->dtype(), false)) {
        ix.kind = TensorIndex::Integer;
        ix.integer = item_as_int64(t);
      } else {
        EMBER_CHECK_KIND(t->dtype() == DType::Bool || t->dtype() == DType::Int64 || t->dtype() == DType::Int32, Index,
                         "tensors used as indices must be long, int, byte or bool tensors");
        ix.kind = TensorIndex::TensorIdx;
        ix.tensor = t;
      }
    } else if (py::hasattr(h, "__index__") && !py::isinstance<py::array>(h)) {
      ix.kind = TensorIndex::Integer;
      ix.integer = index_value(h);
    } else {
      // lists and arrays of ints or bools index like tensors
      Tensor t = py::module_::import("ember").attr("tensor")(h).cast<Tensor>();
      if (t->numel() == 0) t = to_dtype(t, DType::Int64);  // [] indexes nothing, as PyTorch
      ix.kind = TensorIndex::TensorIdx;
      ix.tensor = t;
    }
    out.push_back(ix);
  };
  if (PyTuple_Check(idx.ptr()) || sequence_as_tuple(idx)) {
    for (auto h : idx) one(h);
  } else {
    one(idx);
  }
  return out;
}

// A user's dim of t, wrapped: a 0-d tensor has none (PyTorch's IndexError).
static int64_t dim_of(const Tensor& t, int64_t dim) {
  EMBER_CHECK_KIND(t->dim() > 0, Index, "Dimension specified as ", dim, " but tensor has no dimensions");
  return wrap_dim(dim, t->dim());
}

static py::object size_of(const Tensor& t, OptionalDim dim) {
  if (dim.is_none()) return py::module_::import("ember").attr("Size")(py::cast(t->sizes()));
  return py::int_(t->size(dim_of(t, int_arg(dim))));
}

static py::object stride_of(const Tensor& t, OptionalDim dim) {
  if (dim.is_none()) return py::tuple(py::cast(t->strides()));
  return py::int_(t->stride(dim_of(t, int_arg(dim))));
}

void init_tensor(py::module_& m, TensorClass& cls) {
  cls.def(py::init([](const Tensor& other) {
            // Tensor(t): an alias of t's data without its autograd history (used by Parameter).
            return make_view(other, other->sizes(), other->strides(), other->offset());
          }),
          py::arg("data"))
      .def_property_readonly(
          "shape", [](const Tensor& t) { return py::module_::import("ember").attr("Size")(py::cast(t->sizes())); },
          "The sizes of the dims, an ember.Size.")
      .def("size", size_of, "The shape (an ember.Size), or the size of dim.", py::arg("dim") = py::none())
      .def("size", size_of, "numpy's name of dim: x.size(axis=1).", py::arg("axis"))
      .def("stride", stride_of, "The strides in elements (a tuple), or the stride of dim.", py::arg("dim") = py::none())
      .def("stride", stride_of, "numpy's name of dim: x.stride(axis=1).", py::arg("axis"))
      .def("dim", &TensorImpl::dim, "The number of dims.")
      .def("ndimension", &TensorImpl::dim, "The number of dims (an alias of dim()).")
      .def_property_readonly("ndim", &TensorImpl::dim, "The number of dims.")
      .def("numel", &TensorImpl::numel, "The number of elements.")
      .def("nelement", &TensorImpl::numel, "The number of elements (an alias of numel()).")
      .def(
          "__len__",
          [](const Tensor& t) {
            if (t->dim() == 0) throw py::type_error("len() of a 0-d tensor");
            return t->size(0);
          },
          "The size of the first dim.")
      .def("storage_offset", &TensorImpl::offset, "The offset of the first element in the storage, in elements.")
      .def(
          "_storage_nbytes",
          [](const Tensor& t) -> int64_t { return t->storage() ? (int64_t)t->storage()->nbytes : 0; },
          "The size of the tensor's storage in bytes (Tensor.untyped_storage().nbytes()).")
      .def(
          "resize_",
          [](Tensor& t, py::args sizes, py::kwargs kw) -> Tensor& {
            py::handle format = py::none();
            for (auto item : kw) {
              if (py::str(item.first).cast<std::string>() != "memory_format")
                throw py::type_error("resize_() got an unexpected keyword argument '" +
                                     py::str(item.first).cast<std::string>() + "'");
              format = item.second;
            }
            return resized_in_format(t, shape_args(sizes),
                                     memory_format_arg(format, MemoryFormat::Contiguous, "resize_"));
          },
          "Makes self contiguous (or as memory_format says) with the given sizes, keeping its elements in order "
          "(a larger storage when needed; new elements are uninitialised). Not for tensors that require grad.")
      .def(
          "resize_as_",
          [](Tensor& t, const Tensor& other, py::handle memory_format) -> Tensor& {
            const MemoryFormat f = memory_format_arg(memory_format, MemoryFormat::Contiguous, "resize_as_");
            if (f != MemoryFormat::Preserve) return resized_in_format(t, other->sizes(), f);
            resize_(t, other->sizes());  // preserve_format: the template's strides, when they are dense
            t->set_geometry(t->sizes(), memory_format_strides(other, MemoryFormat::Preserve), t->offset());
            return t;
          },
          "self.resize_(other.shape), laid out as memory_format says (preserve_format: as other).",
          py::arg("the_template"), py::kw_only(), py::arg("memory_format") = py::none())
      .def(
          "set_",
          [](Tensor& t, std::optional<Tensor> source) -> Tensor& {
            return set_(t, source ? *source : empty({0}, t->dtype(), t->device()));
          },
          "Makes self show source's memory and geometry (an empty tensor without source).",
          py::arg("source") = py::none())
      .def(
          "set_",
          [](Tensor& t, const Tensor& source, int64_t storage_offset, py::handle size, py::handle stride) -> Tensor& {
            Shape sizes = dims_arg(size, "size");
            return set_(t, source, storage_offset, sizes,
                        stride.is_none() ? contiguous_strides(sizes) : dims_arg(stride, "stride"));
          },
          "self.set_(source, storage_offset, size, stride=None): source's memory under this geometry.",
          py::arg("source"), py::arg("storage_offset"), py::arg("size"), py::arg("stride") = py::none())
      .def(
          "element_size", [](const Tensor& t) { return itemsize(t->dtype()); }, "The size of one element in bytes.")
      .def(
          "is_contiguous",
          [](const Tensor& t, py::object memory_format) {
            return is_contiguous_as(t, memory_format_arg(memory_format, MemoryFormat::Contiguous, "is_contiguous"));
          },
          "Whether the elements lie without gaps in row-major order (or memory_format's order).", py::kw_only(),
          py::arg("memory_format") = py::none())
      .def(
          "is_floating_point", [](const Tensor& t) { return is_floating(t->dtype()); },
          "Whether the dtype is a floating point dtype.")
      .def(
          "data_ptr", [](const Tensor& t) { return (uintptr_t)t->raw_data_ptr(); }, "The address of the first element.")
      .def_property_readonly("dtype", &TensorImpl::dtype, "The element type.")
      .def_property_readonly("device", &TensorImpl::device, "Where the tensor's memory lives.")
      .def_property_readonly(
          "is_cuda", [](const Tensor& t) { return !t->device().is_cpu(); },
          "Whether the tensor lives on a CUDA device.")
      .def_property_readonly(
          "is_cpu", [](const Tensor& t) { return t->device().is_cpu(); }, "Whether the tensor lives in host memory.")
      .def_property_readonly(
          "is_meta", [](const Tensor&) { return false; },
          "Whether the tensor is on the meta device (only ember.MetaTensor stand-ins are).")
      .def_property_readonly(
          "_version",
          [](const Tensor& t) {
            EMBER_CHECK(!t->is_inference, "Inference tensors do not track version counter.");
            return t->version();
          },
          "The version counter (Note [Version counter]).")
      .def(
          "is_inference", [](const Tensor& t) { return t->is_inference; },
          "Whether the tensor was made in inference mode (or is a view of one that was).")
      .def_property_readonly(
          "output_nr", [](const Tensor& t) { return t->autograd() ? t->autograd()->output_nr : 0u; },
          "Which output of its grad_fn the tensor is.")
      .def_property_readonly(
          "_base", [](const Tensor& t) { return t->view_base; }, "The tensor a view looks into.")
      .def("item", &item, "The value of a one-element tensor as a Python number.")
      .def(
          "numpy",
          [](const Tensor& t, bool force) {
            // force=True: PyTorch's detach().cpu() first (always shares memory on the CPU).
            return to_numpy(force ? detach(t) : t);
          },
          "A numpy array sharing the tensor's memory (CPU tensors that do not require grad; force=True detaches "
          "first).",
          py::kw_only(), py::arg("force") = false)
      .def(
          "__getitem__",
          [](const Tensor& t, py::handle idx) {
            // A BatchedTensor or MetaTensor index: the catch-all overload takes the call (Note [Batched dispatch]).
            if (batching::active() && batching::holds_batched(idx)) throw py::reference_cast_error();
            // A subclass's or a mode's call goes to __torch_function__ (Note [Torch function dispatch]).
            static const char* const op = interned_name("__getitem__");  // (the name its catch-all has)
            if (torch_function::redirects(op, t, idx)) throw py::reference_cast_error();
            OpDeviceGuard on(t->device());  // Note [Op device]: bound outside the registry
            return index(t, parse_index(idx));
          },
          "self[index]: integers, slices, None, ..., integer or bool tensors and lists.", py::arg("index"))
      .def(
          "__setitem__",
          [](Tensor& t, py::handle idx, py::handle value) {
            if (batching::active() && (batching::holds_batched(idx) || batching::holds_batched(value)))
              throw py::reference_cast_error();  // to the catch-all overload (Note [Batched dispatch])
            static const char* const op = interned_name("__setitem__");
            if (torch_function::redirects(op, t, idx, value)) throw py::reference_cast_error();
            Tensor v = operand(value);
            // a number must fit an integer tensor (Note [Scalar overflow]); a float one takes inf, as PyTorch's
            if (v && v->is_wrapped_number && is_integral(t->dtype(), false)) check_value_fits(v, t->dtype());
            if (!v) {
              // numbers, sequences and arrays convert (PyTorch refuses the latter two); anything else is
              // PyTorch's TypeError
              const bool sequence = py::isinstance<py::sequence>(value) && !py::isinstance<py::str>(value);
              if (!sequence && !PyNumber_Check(value.ptr())) {
                py::handle type = (PyObject*)Py_TYPE(value.ptr());
                std::string module = py::str(type.attr("__module__")), name = py::str(type.attr("__qualname__"));
                if (module != "builtins") name = module + "." + name;
                throw py::type_error("can't assign a " + name + " to a " +
                                     py::str(py::cast(t).attr("type")()).cast<std::string>());
              }
              v = py::module_::import("ember").attr("tensor")(value, py::arg("dtype") = t->dtype()).cast<Tensor>();
            }
            OpDeviceGuard on(t->device());
            index_put_(t, parse_index(idx), v);
          },
          "self[index] = value, in place (recorded by autograd).", py::arg("index"), py::arg("value"));

  m.def(
      "_index_as_tuple",
      [](py::handle idx) -> py::object {
        if (PyTuple_Check(idx.ptr())) return py::reinterpret_borrow<py::object>(idx);
        if (sequence_as_tuple(idx)) return py::tuple(py::reinterpret_borrow<py::object>(idx));
        return py::make_tuple(idx);
      },
      "An index as the tuple of its items, by the rule of Tensor.__getitem__ (a short list holding a slice, None, "
      "..., a tensor or a sequence is a tuple, with PyTorch's deprecation warning; any other object is one item). "
      "The stand-ins' indexing calls it.",
      py::arg("index"));
  m.def("from_numpy", &from_numpy, "A tensor sharing the memory of a numpy array.", py::arg("ndarray"));
  m.def(
      "_from_numpy_copy", [](py::array arr, OptionalDType dtype) { return from_numpy_copy(arr, dtype_arg(dtype)); },
      "A tensor holding a copy of a numpy array, converted to dtype.", py::arg("array"), py::arg("dtype") = py::none());
  for (const char* overloaded : {"size", "stride", "set_"}) show_first_overload(cls.attr(overloaded).ptr());
}

}  // namespace bind
}  // namespace ember
