// Zero-copy exchange of tensor memory with other libraries: the Python buffer
// protocol (memoryview, mpi4py, struct, array) and DLPack (numpy, PyTorch,
// JAX, CuPy: `np.from_dlpack(t)`, `ember.from_dlpack(x)`). See Note [Zero-copy interop].
#include "autograd/grad_mode.h"
#include "core/cuda.h"
#include "python/bindings.h"

namespace ember {
namespace bind {

// Note [Zero-copy interop]
// Both protocols hand out the tensor's own memory, never a copy, so a
// collective (ember.distributed) or a foreign library writes straight into
// the tensor. The exporter keeps the storage alive: the buffer protocol holds
// a reference to the Tensor object, a DLPack capsule a shared_ptr to the
// storage until the consumer calls the deleter. Both refuse a tensor that
// requires grad (the foreign library could change it behind autograd's back):
// the buffer protocol while grad mode is on, as numpy() does, DLPack always,
// as PyTorch does; and both refuse a tensor that is not on the CPU.

// DLPack's C ABI, declared here from the specification (dmlc/dlpack,
// include/dlpack/dlpack.h): the unversioned "dltensor" capsule (0.8) that
// every consumer reads, and the "dltensor_versioned" one (1.x) with flags,
// which consumers that ask for it (numpy 2) need to see a writable tensor.
namespace dlpack {
enum DeviceType : int32_t { kDLCPU = 1, kDLCUDA = 2 };
enum TypeCode : uint8_t { kDLInt = 0, kDLUInt = 1, kDLFloat = 2, kDLBfloat = 4, kDLComplex = 5, kDLBool = 6 };
struct Device {
  int32_t device_type;
  int32_t device_id;
};
struct DataType {
  uint8_t code;
  uint8_t bits;
  uint16_t lanes;
};
struct DLTensor {
  void* data;
  Device device;
  int32_t ndim;
  DataType dtype;
  int64_t* shape;
  int64_t* strides;  // in elements; may be null for a compact row-major tensor
  uint64_t byte_offset;
};
struct ManagedTensor {
  DLTensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(ManagedTensor* self);
};
struct Version {
  uint32_t major;
  uint32_t minor;
};
constexpr uint64_t kFlagReadOnly = 1;
struct ManagedTensorVersioned {
  Version version;
  void* manager_ctx;
  void (*deleter)(ManagedTensorVersioned* self);
  uint64_t flags;
  DLTensor dl_tensor;
};
}  // namespace dlpack

// grad_mode_matters: the buffer protocol, like numpy(), allows a tensor that
// requires grad under no_grad; DLPack refuses it in any mode, as PyTorch does.
static void check_exportable(const TensorImpl& t, const char* what, bool grad_mode_matters, bool any_device = false) {
  EMBER_CHECK(!(t.requires_grad() && (GradMode::is_enabled() || !grad_mode_matters)),
              "Can't export tensors that require gradient through ", what, ", use tensor.detach()");
  EMBER_CHECK(any_device || t.device().is_cpu(), "can't export a ", t.device().str(), " tensor through ", what,
              ": it shares host memory only. Use Tensor.cpu() first.");
}

// DLPack's (device type, index) of a tensor: CPU memory, or a CUDA device's.
static dlpack::Device dlpack_device(const TensorImpl& t) {
  if (t.device().type == DeviceType::CUDA) return {dlpack::kDLCUDA, (int32_t)t.device().index};
  return {dlpack::kDLCPU, 0};
}

static const char* buffer_format(DType d) {
  switch (d) {
    case DType::Bool: return "?";
    case DType::UInt8: return "B";
    case DType::Int8: return "b";
    case DType::Int16: return "h";
    case DType::Int32: return "i";
    case DType::Int64: return "q";
    case DType::Float16: return "e";
    case DType::Float32: return "f";
    case DType::Float64: return "d";
    case DType::UInt16: return "H";
    case DType::UInt32: return "I";
    case DType::UInt64: return "Q";
    default: break;  // bfloat16, and the dtypes no tensor has (Note [Named-only dtypes])
  }
  EMBER_FAIL(Type, "the buffer protocol has no format for ", dtype_name(d), "; use DLPack or convert first");
}

static py::buffer_info tensor_buffer(TensorImpl& t) {
  check_exportable(t, "the buffer protocol", true);
  auto item = (py::ssize_t)itemsize(t.dtype());
  std::vector<py::ssize_t> shape(t.sizes().begin(), t.sizes().end()), strides;
  for (auto s : t.strides()) strides.push_back(s * item);
  return py::buffer_info(t.data_ptr(), item, buffer_format(t.dtype()), t.dim(), shape, strides);
}

// What the capsule owns: the DLPack struct, the shape and strides it points
// into, and the storage that keeps the memory alive.
struct ExportedTensor {
  dlpack::ManagedTensor managed{};
  dlpack::ManagedTensorVersioned versioned{};
  std::vector<int64_t> shape, strides;
  std::shared_ptr<Storage> storage;
};

static dlpack::DataType dlpack_dtype(DType d) {
  uint8_t bits = (uint8_t)(8 * itemsize(d));
  switch (d) {
    case DType::Bool: return {dlpack::kDLBool, bits, 1};
    case DType::UInt8:
    case DType::UInt16:
    case DType::UInt32:
    case DType::UInt64: return {dlpack::kDLUInt, bits, 1};
    case DType::Int8:
    case DType::Int16:
    case DType::Int32:
    case DType::Int64: return {dlpack::kDLInt, bits, 1};
    case DType::Float16:
    case DType::Float32:
    case DType::Float64: return {dlpack::kDLFloat, bits, 1};
    case DType::BFloat16: return {dlpack::kDLBfloat, bits, 1};
    default: break;  // no tensor has the other dtypes (Note [Named-only dtypes])
  }
  throw std::logic_error("unknown dtype");
}

static const char* const kCapsuleName = "dltensor";
static const char* const kUsedCapsuleName = "used_dltensor";
static const char* const kVersionedCapsuleName = "dltensor_versioned";
static const char* const kUsedVersionedCapsuleName = "used_dltensor_versioned";

// A capsule nobody consumed still owns the tensor; a consumed one was renamed
// "used_..." and its consumer calls the deleter.
template <typename Managed>
static py::capsule owning_capsule(Managed* managed, const char* name) {
  PyCapsule_Destructor release;
  if constexpr (std::is_same_v<Managed, dlpack::ManagedTensor>)
    release = [](PyObject* capsule) {
      if (!PyCapsule_IsValid(capsule, kCapsuleName)) return;
      auto* m = static_cast<dlpack::ManagedTensor*>(PyCapsule_GetPointer(capsule, kCapsuleName));
      m->deleter(m);
    };
  else
    release = [](PyObject* capsule) {
      if (!PyCapsule_IsValid(capsule, kVersionedCapsuleName)) return;
      auto* m = static_cast<dlpack::ManagedTensorVersioned*>(PyCapsule_GetPointer(capsule, kVersionedCapsuleName));
      m->deleter(m);
    };
  PyObject* capsule = PyCapsule_New(managed, name, release);
  if (!capsule) throw py::error_already_set();
  return py::reinterpret_steal<py::capsule>(capsule);
}

// Tensor.__dlpack__(stream=None, *, max_version=None, dl_device=None, copy=None):
// a capsule viewing the tensor; versioned (1.0) when the consumer's
// max_version allows it, else the unversioned one.
static py::capsule to_dlpack(const Tensor& t, bool versioned, py::object copy) {
  check_exportable(*t, "DLPack", false, true);
  // A CUDA tensor's producer stream (the device's one stream) is finished before a consumer on any
  // stream reads it: the simplest of the protocol's synchronisations.
  if (t->device().type == DeviceType::CUDA) cuda_call([&] { cuda_backend().synchronize(t->device().index); });
  EMBER_CHECK_KIND(copy.is_none() || !copy.cast<bool>(), Value,
                   "__dlpack__(copy=True): ember exports its tensors' own memory; copy with clone() first");
  auto* out = new ExportedTensor;
  out->shape.assign(t->sizes().begin(), t->sizes().end());
  out->strides.assign(t->strides().begin(), t->strides().end());
  out->storage = t->storage();
  dlpack::DLTensor dl;
  dl.data = t->raw_data_ptr();
  dl.device = dlpack_device(*t);
  dl.ndim = (int32_t)t->dim();
  dl.dtype = dlpack_dtype(t->dtype());
  dl.shape = out->shape.data();
  dl.strides = out->strides.data();
  dl.byte_offset = 0;
  if (versioned) {
    out->versioned = {
        {1, 0},
        out,
        [](dlpack::ManagedTensorVersioned* self) { delete static_cast<ExportedTensor*>(self->manager_ctx); },
        0,
        dl};
    return owning_capsule(&out->versioned, kVersionedCapsuleName);
  }
  out->managed = {dl, out, [](dlpack::ManagedTensor* self) { delete static_cast<ExportedTensor*>(self->manager_ctx); }};
  return owning_capsule(&out->managed, kCapsuleName);
}

// The dtype's usual name ("uint8", "float16", ...), for the error that refuses it.
static std::string dlpack_dtype_name(dlpack::DataType t) {
  const char* kind = t.code == dlpack::kDLInt       ? "int"
                     : t.code == dlpack::kDLUInt    ? "uint"
                     : t.code == dlpack::kDLFloat   ? "float"
                     : t.code == dlpack::kDLBfloat  ? "bfloat"
                     : t.code == dlpack::kDLComplex ? "complex"
                     : t.code == dlpack::kDLBool    ? "bool"
                                                    : nullptr;
  if (!kind) return "DLPack type code " + std::to_string(t.code) + " of " + std::to_string(t.bits) + " bits";
  return std::string(kind) + std::to_string(t.bits);
}

static DType dtype_from_dlpack(dlpack::DataType t) {
  EMBER_CHECK_KIND(t.lanes == 1, Type, "from_dlpack: vector dtypes (lanes=", t.lanes, ") are not supported");
  for (DType d : kAllDTypes) {
    const dlpack::DataType ours = dlpack_dtype(d);
    if (ours.code == t.code && ours.bits == t.bits) return d;
  }
  throw py::type_error(
      "from_dlpack: unsupported dtype " + dlpack_dtype_name(t) +
      "; ember has bool, uint8, uint16, uint32, uint64, int8, int16, int32, int64, float16, bfloat16, float32 "
      "and float64");
}

// A tensor viewing a DLTensor's memory; `release` runs when the last tensor
// sharing that memory is freed.
static Tensor tensor_from_dltensor(const dlpack::DLTensor& dl, std::function<void()> release) {
  EMBER_CHECK(dl.device.device_type == dlpack::kDLCPU || dl.device.device_type == dlpack::kDLCUDA,
              "from_dlpack: the tensor lives on DLPack device type ", dl.device.device_type,
              "; ember reads host (CPU) and CUDA memory only");
  Device device;
  if (dl.device.device_type == dlpack::kDLCUDA)
    device = resolve_cuda_device(Device{DeviceType::CUDA, (int)dl.device.device_id});  // raises without CUDA
  DType dt = dtype_from_dlpack(dl.dtype);
  Shape sizes(dl.shape, dl.shape + dl.ndim), strides(dl.ndim);
  int64_t extent = 1, contiguous = 1;
  bool empty_tensor = false;
  for (int d = dl.ndim - 1; d >= 0; --d) {
    strides[d] = dl.strides ? dl.strides[d] : contiguous;
    contiguous *= sizes[d];
    EMBER_CHECK_KIND(strides[d] >= 0, Value, "from_dlpack: negative strides are not supported; copy the array first");
    if (sizes[d] == 0) empty_tensor = true;
    extent += (sizes[d] - 1) * strides[d];
  }
  auto storage = std::make_shared<Storage>();
  storage->data = static_cast<char*>(dl.data) + dl.byte_offset;
  storage->nbytes = empty_tensor ? 0 : (size_t)extent * itemsize(dt);
  storage->release_foreign = std::move(release);
  storage->device = device;
  return std::make_shared<TensorImpl>(storage, sizes, strides, 0, dt);
}

// ember.from_dlpack's core: consumes a "dltensor" or "dltensor_versioned"
// capsule (renaming it "used_...", as the protocol asks), so it can be
// consumed only once.
static Tensor from_dlpack_capsule(py::capsule capsule) {
  PyObject* c = capsule.ptr();
  Tensor out;
  const char* used;
  if (PyCapsule_IsValid(c, kVersionedCapsuleName)) {
    auto* m = static_cast<dlpack::ManagedTensorVersioned*>(PyCapsule_GetPointer(c, kVersionedCapsuleName));
    EMBER_CHECK_KIND(m->version.major == 1, Value, "from_dlpack: DLPack version ", m->version.major, ".",
                     m->version.minor, " is not supported (ember reads 1.x)");
    out = tensor_from_dltensor(m->dl_tensor, [m] {
      if (m->deleter) m->deleter(m);
    });
    used = kUsedVersionedCapsuleName;
  } else {
    EMBER_CHECK_KIND(PyCapsule_IsValid(c, kCapsuleName), Value,
                     "from_dlpack expects a DLPack capsule named 'dltensor' or 'dltensor_versioned' (a capsule can be "
                     "consumed only once)");
    auto* m = static_cast<dlpack::ManagedTensor*>(PyCapsule_GetPointer(c, kCapsuleName));
    out = tensor_from_dltensor(m->dl_tensor, [m] {
      if (m->deleter) m->deleter(m);
    });
    used = kUsedCapsuleName;
  }
  if (PyCapsule_SetName(c, used) != 0) throw py::error_already_set();
  return out;
}

void init_interop(py::module_& m, TensorClass& cls) {
  cls.def_buffer(&tensor_buffer);
  cls.def(
      "__dlpack__",
      [](const Tensor& t, py::object stream, py::object max_version, py::object dl_device, py::object copy) {
        (void)stream;  // a CUDA tensor's work is finished before export (to_dlpack)
        bool versioned = !max_version.is_none() && max_version.cast<std::pair<int, int>>().first >= 1;
        if (!dl_device.is_none()) {
          auto dev = dl_device.cast<std::pair<int, int>>();
          const dlpack::Device own = dlpack_device(*t);
          EMBER_CHECK_KIND(dev.first == own.device_type && dev.second == own.device_id, Value,
                           "__dlpack__: ember exports the tensor's own memory, on DLPack device (", own.device_type,
                           ", ", own.device_id, "), not a copy to dl_device=(", dev.first, ", ", dev.second, ")");
        }
        return to_dlpack(t, versioned, copy);
      },
      "A DLPack capsule viewing the tensor's memory (the DLPack protocol; see ember.from_dlpack).",
      py::arg("stream") = py::none(), py::kw_only(), py::arg("max_version") = py::none(),
      py::arg("dl_device") = py::none(), py::arg("copy") = py::none());
  cls.def(
      "__dlpack_device__",
      [](const Tensor& t) {
        const dlpack::Device d = dlpack_device(*t);
        return py::make_tuple((int)d.device_type, (int)d.device_id);
      },
      "(device type, index) of the DLPack protocol: (1, 0) for CPU memory, (2, index) for a CUDA device.");
  m.def("_from_dlpack_capsule", &from_dlpack_capsule, "A tensor viewing the memory of a DLPack capsule.",
        py::arg("capsule"));
}

}  // namespace bind
}  // namespace ember
