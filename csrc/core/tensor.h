#pragma once
// TensorImpl: shared storage + sizes + strides + offset + dtype + device.
// A Tensor is a shared_ptr to one; a null Tensor is "undefined" (e.g. a missing grad).
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

#include "core/device.h"
#include "core/dtype.h"
#include "core/shape.h"

namespace ember {

struct AutogradMeta;
struct Node;

// Note [Version counter]
// Every in-place write bumps the counter; a SavedVariable remembers the value it
// saw and refuses to unpack a tensor changed since. Views and detach() share the
// counter of their storage; `.data` gets a counter of its own (PyTorch's contract:
// `.data` writes are invisible to autograd's checks).
struct VersionCounter {
  std::atomic<uint32_t> value{0};
};

struct Storage {
  void* data = nullptr;
  size_t nbytes = 0;
  Device device;
  VersionCounter version;
  // Frees memory that ember does not own (releases the numpy array behind
  // from_numpy); when empty, `data` came from cpu_alloc (core/allocator.h).
  std::function<void()> release_foreign;
  bool pinned = false;  // page-locked host memory (Note [Pinned memory])

  Storage() = default;
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  ~Storage();
};

std::shared_ptr<Storage> allocate_storage(size_t nbytes, Device device);
// CPU storage in page-locked memory from the CUDA backend (Note [Pinned memory]); raises
// PyTorch's error where no GPU can be used.
std::shared_ptr<Storage> allocate_pinned_storage(size_t nbytes);

class TensorImpl;
using Tensor = std::shared_ptr<TensorImpl>;
// Note [Missing CUDA kernels] (core/cuda.h)
[[noreturn]] void fail_missing_kernel(const TensorImpl& t);

class TensorImpl {
 public:
  TensorImpl(std::shared_ptr<Storage> storage, Shape sizes, Shape strides, int64_t offset, DType dtype);
  ~TensorImpl();

  const Shape& sizes() const { return sizes_; }
  const Shape& strides() const { return strides_; }
  // d in [0, dim()): callers wrap user dims first (wrap_dim), so an
  // out-of-range d is ember's bug, reported instead of reading past the shape.
  int64_t size(int64_t d) const {
    EMBER_ASSERT(d >= 0 && d < (int64_t)sizes_.size());
    return sizes_[d];
  }
  int64_t stride(int64_t d) const {
    EMBER_ASSERT(d >= 0 && d < (int64_t)strides_.size());
    return strides_[d];
  }
  int64_t dim() const { return (int64_t)sizes_.size(); }
  int64_t numel() const { return numel_; }
  int64_t offset() const { return offset_; }
  DType dtype() const { return dtype_; }
  Device device() const { return storage_->device; }
  bool is_contiguous() const { return contiguous_; }
  const std::shared_ptr<Storage>& storage() const { return storage_; }
  // Host memory of the first element, for the CPU kernels; a CUDA tensor is refused (Note [Missing CUDA kernels]).
  char* data_ptr() const {
    if (__builtin_expect(storage_->device.type != DeviceType::CPU, 0)) fail_missing_kernel(*this);
    return raw_data_ptr();
  }
  // The address of the first element on its device (DLPack, Tensor.data_ptr(), overlap checks).
  char* raw_data_ptr() const { return static_cast<char*>(storage_->data) + offset_ * (int64_t)itemsize(dtype_); }
  template <class T>
  T* data() const {
    return reinterpret_cast<T*>(data_ptr());
  }

  // Note [Version counter]
  uint32_t version() const { return version_counter().value.load(std::memory_order_relaxed); }
  void bump_version() { version_counter().value.fetch_add(1, std::memory_order_relaxed); }
  void use_own_version_counter() { own_version_ = std::make_shared<VersionCounter>(); }
  void share_version_counter_of(const TensorImpl& other) { own_version_ = other.own_version_; }

  // A Python number turned into a 0-d tensor: it does not widen a tensor's dtype.
  bool is_wrapped_number = false;
  // Made in inference mode (a view: its base was); such a tensor is not
  // saved for backward nor changed in place outside inference mode (PyTorch's
  // inference tensors).
  bool is_inference = false;

  // Autograd: allocated only for tensors that take part in a graph.
  AutogradMeta* autograd() const { return autograd_.get(); }
  AutogradMeta& autograd_mut();
  bool requires_grad() const;
  bool is_leaf() const;
  const std::shared_ptr<Node>& grad_fn() const;

  // Differentiable views remember their base (Note [In-place on views]).
  Tensor view_base;
  // Note [View creation]: how a view was made decides whether an in-place op
  // on it may be recorded (PyTorch's CreationMeta).
  enum class ViewCreation : uint8_t { Default, NoGradMode, InferenceMode, MultiOutput, CustomFunction };
  ViewCreation view_creation = ViewCreation::Default;
  const char* view_creator = nullptr;  // MultiOutput: the op ("Split", "Unbind")
  uint32_t view_output_nr = 0;         // MultiOutput / CustomFunction: which output
  uint32_t view_version = 0;           // the version when the view was made

  void set_geometry(Shape sizes, Shape strides, int64_t offset);
  // resize_ into a larger storage: the version counter stays with the tensor.
  void set_storage(std::shared_ptr<Storage> storage) {
    if (!own_version_) {
      own_version_ = std::make_shared<VersionCounter>();
      own_version_->value.store(storage_->version.value.load(std::memory_order_relaxed), std::memory_order_relaxed);
    }
    storage_ = std::move(storage);
  }
  // `x.data = y`: x now shows y's storage, geometry and dtype (autograd meta
  // kept). x keeps counting its own versions from where it was, as in PyTorch:
  // its saved-tensor checks do not move to y's counter.
  void set_data(const TensorImpl& other) {
    auto kept = std::make_shared<VersionCounter>();
    kept->value.store(version(), std::memory_order_relaxed);
    storage_ = other.storage_;
    dtype_ = other.dtype_;
    own_version_ = std::move(kept);
    set_geometry(other.sizes_, other.strides_, other.offset_);
  }

 private:
  VersionCounter& version_counter() const { return own_version_ ? *own_version_ : storage_->version; }

  std::shared_ptr<Storage> storage_;
  Shape sizes_, strides_;
  int64_t offset_ = 0;
  int64_t numel_ = 0;
  DType dtype_;
  bool contiguous_ = true;
  std::shared_ptr<VersionCounter> own_version_;
  std::unique_ptr<AutogradMeta> autograd_;
};

// Note [Memory overlap]
// An in-place write is refused, with PyTorch's words, when the written-to
// tensor holds several elements at one address (a broadcast view from expand:
// the op would write each address several times), and when it shares memory
// with an input in another layout (x[1:].copy_(x[:-1]), a.add_(a.t())): the
// kernel would read values it already overwrote. As in PyTorch, the second is
// decided where that is cheap and certain: both tensors dense without internal
// overlap and their memory ranges intersecting; the very same layout
// (a.add_(a)) is fine, and so are interleaved views that never meet.
bool has_internal_overlap(const TensorImpl& t);
bool partially_overlaps(const TensorImpl& a, const TensorImpl& b);

// Note [Op device]
// An op's C++ code makes its results with empty(sizes, dtype), which puts them
// on the device of the op's inputs: the op registry (registry.h) sets it for
// the duration of a call whose first tensor argument is on a CUDA device, and
// the engine for a node's backward; otherwise it is the CPU, and costs nothing.
// Ops that mix devices (copies between them) name the device explicitly.
// While no thread holds a guard to another device (g_device_guards == 0), the
// answer is the CPU without reading thread-local storage (a call in a shared
// library): a CPU program pays one relaxed load per allocation.
inline std::atomic<int> g_device_guards{0};
inline thread_local Device tls_op_device;
inline Device op_device() { return g_device_guards.load(std::memory_order_relaxed) ? tls_op_device : Device{}; }
class OpDeviceGuard {
 public:
  explicit OpDeviceGuard(Device d) : previous_(op_device()), counted_(!d.is_cpu()) {
    if (counted_) g_device_guards.fetch_add(1, std::memory_order_relaxed);
    tls_op_device = d;
  }
  ~OpDeviceGuard() {
    tls_op_device = previous_;
    if (counted_) g_device_guards.fetch_sub(1, std::memory_order_relaxed);
  }
  OpDeviceGuard(const OpDeviceGuard&) = delete;
  OpDeviceGuard& operator=(const OpDeviceGuard&) = delete;

 private:
  Device previous_;
  bool counted_;
};

// A new contiguous tensor; contents uninitialised. Without a device: op_device().
Tensor empty(const Shape& sizes, DType dtype, Device device);
inline Tensor empty(const Shape& sizes, DType dtype) { return empty(sizes, dtype, op_device()); }
// A tensor over existing storage (a view); shares the version counter.
Tensor make_view(const Tensor& base, Shape sizes, Shape strides, int64_t offset);
// Whether the elements fill a block of memory exactly once, in some order of the dims.
bool non_overlapping_and_dense(const TensorImpl& t);
// A 0-d tensor holding a Python number (is_wrapped_number).
Tensor wrapped_scalar(double v, DType dtype);
// The element at flat index 0 read as double (for .item() and scalars).
double item_as_double(const Tensor& t);
// The element at flat index 0 of an integer or bool tensor, exactly.
int64_t item_as_int64(const Tensor& t);

// Hooks the Python layer installs so the core can release the GIL around long
// kernels without depending on Python (no-ops when unset). release() leaves
// state null when the calling thread does not hold the GIL (e.g. inside the
// engine, which already released it).
struct ThreadRelease {
  static void (*release)(void**);
  static void (*reacquire)(void*);
};

// Lets other Python threads run while a long kernel works.
class AllowThreads {
 public:
  explicit AllowThreads(bool when = true) {
    if (when && ThreadRelease::release) ThreadRelease::release(&state_);
  }
  ~AllowThreads() {
    if (state_) ThreadRelease::reacquire(state_);
  }
  AllowThreads(const AllowThreads&) = delete;
  AllowThreads& operator=(const AllowThreads&) = delete;

 private:
  void* state_ = nullptr;
};

}  // namespace ember
