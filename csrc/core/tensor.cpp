#include "core/tensor.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "autograd/grad_mode.h"
#include "autograd/meta.h"
#include "core/allocator.h"
#include "core/cuda.h"
#include "core/profiler.h"

namespace ember {

void (*ThreadRelease::release)(void**) = nullptr;
void (*ThreadRelease::reacquire)(void*) = nullptr;

Storage::~Storage() {
  if (release_foreign) {
    release_foreign();
  } else if (device.type == DeviceType::CUDA) {
    if (profiler::active()) profiler::on_memory(-(int64_t)nbytes, true);
    if (data) cuda_backend().free(data, nbytes, device.index);  // never throws: a destructor
  } else {
    if (profiler::active()) profiler::on_memory(-(int64_t)nbytes);
    cpu_free(data, nbytes);
  }
}

std::shared_ptr<Storage> allocate_pinned_storage(size_t nbytes) {
  EMBER_CHECK(cuda_device_count() > 0, "Cannot access accelerator device when none is available.");
  cuda::Backend& b = cuda_backend();
  auto st = std::make_shared<Storage>();
  st->data = nbytes ? cuda_call([&] { return b.host_alloc(nbytes); }) : nullptr;
  st->nbytes = nbytes;
  st->pinned = true;
  void* p = st->data;
  st->release_foreign = [p, nbytes] {
    if (p) cuda_backend().host_free(p, nbytes);
  };
  return st;
}

std::shared_ptr<Storage> allocate_storage(size_t nbytes, Device device) {
  auto st = std::make_shared<Storage>();
  if (device.type == DeviceType::CUDA) {
    device = resolve_cuda_device(device);
    cuda::Backend& b = cuda_backend();
    st->data = nbytes ? cuda_call([&] { return b.alloc(nbytes, device.index); }) : nullptr;
    st->nbytes = nbytes;
    st->device = device;
    if (profiler::active()) profiler::on_memory((int64_t)nbytes, true);
    return st;
  }
  check_device_available(device);
  st->data = nbytes ? cpu_alloc(nbytes) : nullptr;
  st->nbytes = nbytes;
  st->device = device;
  if (profiler::active()) profiler::on_memory((int64_t)nbytes);
  return st;
}

static bool compute_contiguous(const Shape& sizes, const Shape& strides) {
  for (auto s : sizes)
    if (s == 0) return true;  // no elements: any strides describe a contiguous tensor (as PyTorch)
  int64_t expected = 1;
  for (int64_t i = (int64_t)sizes.size() - 1; i >= 0; --i) {
    if (sizes[i] == 1) continue;
    if (strides[i] != expected) return false;
    expected *= sizes[i];
  }
  return true;
}

TensorImpl::TensorImpl(std::shared_ptr<Storage> storage, Shape sizes, Shape strides, int64_t offset, DType dtype)
    : is_inference(GradMode::is_inference()), storage_(std::move(storage)), dtype_(dtype) {
  EMBER_CHECK_KIND(!is_named_only(dtype), Type, "ember has no ", named_only_kind(dtype),
                   " tensors: ", dtype_name(dtype), " is a dtype name only (Note [Named-only dtypes])");
  set_geometry(std::move(sizes), std::move(strides), offset);
}

TensorImpl::~TensorImpl() = default;

void TensorImpl::set_geometry(Shape sizes, Shape strides, int64_t offset) {
  sizes_ = std::move(sizes);
  strides_ = std::move(strides);
  offset_ = offset;
  numel_ = shape_numel(sizes_);
  contiguous_ = compute_contiguous(sizes_, strides_);
}

AutogradMeta& TensorImpl::autograd_mut() {
  if (!autograd_) autograd_ = std::make_unique<AutogradMeta>();
  return *autograd_;
}

// A view made in no_grad or inference mode of a base that requires grad requires grad too,
// with no grad_fn and no gradient of its own (as PyTorch's).
bool TensorImpl::requires_grad() const {
  if (autograd_ && (autograd_->requires_grad || autograd_->grad_fn)) return true;
  // A view follows its base (PyTorch's differentiable views), except an inference tensor's.
  return view_base && !is_inference && view_base->requires_grad();
}
bool TensorImpl::is_leaf() const { return !autograd_ || !autograd_->grad_fn; }
const std::shared_ptr<Node>& TensorImpl::grad_fn() const {
  static const std::shared_ptr<Node> none;
  return autograd_ ? autograd_->grad_fn : none;
}

// Dims of size > 1 ordered by stride pack the elements without gaps or repeats.
bool non_overlapping_and_dense(const TensorImpl& t) {
  if (t.is_contiguous()) return true;
  std::vector<std::pair<int64_t, int64_t>> dims;  // (stride, size)
  for (int64_t d = 0; d < t.dim(); ++d)
    if (t.size(d) != 1) dims.emplace_back(t.stride(d), t.size(d));
  std::sort(dims.begin(), dims.end());
  int64_t expected = 1;
  for (auto [stride, size] : dims) {
    if (stride != expected) return false;
    expected *= size;
  }
  return true;
}

bool has_internal_overlap(const TensorImpl& t) {
  if (t.numel() <= 1) return false;  // no two elements to share an address
  for (int64_t d = 0; d < t.dim(); ++d)
    if (t.size(d) > 1 && t.stride(d) == 0) return true;
  return false;
}

bool partially_overlaps(const TensorImpl& a, const TensorImpl& b) {
  if (a.numel() == 0 || b.numel() == 0 || a.storage()->data != b.storage()->data) return false;
  if (!non_overlapping_and_dense(a) || !non_overlapping_and_dense(b)) return false;  // too hard: allowed
  if (a.offset() == b.offset() && a.sizes() == b.sizes() && a.strides() == b.strides()) return false;
  // Dense tensors cover [offset, offset + numel) of their storage.
  return a.offset() < b.offset() + b.numel() && b.offset() < a.offset() + a.numel();
}

Tensor empty(const Shape& sizes, DType dtype, Device device) {
  auto st = allocate_storage(storage_bytes(sizes, itemsize(dtype)), device);
  return std::make_shared<TensorImpl>(std::move(st), sizes, contiguous_strides(sizes), 0, dtype);
}

Tensor make_view(const Tensor& base, Shape sizes, Shape strides, int64_t offset) {
  auto t = std::make_shared<TensorImpl>(base->storage(), std::move(sizes), std::move(strides), offset, base->dtype());
  t->share_version_counter_of(*base);
  t->is_inference = base->is_inference;
  return t;
}

Tensor wrapped_scalar(double v, DType dtype) {
  Tensor t = empty({}, dtype, Device{});  // a number stays on the host (a CUDA kernel takes it by value)
  dispatch_all(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    *t->data<T>() = convert<T>(v);
  });
  t->is_wrapped_number = true;
  return t;
}

// A CUDA tensor's first element, copied to the host (the copy waits for the device).
static Tensor on_host(const Tensor& t) {
  if (t->device().is_cpu()) return t;
  Tensor h = empty({}, t->dtype(), Device{});
  cuda::Backend& b = cuda_backend();
  cuda_call([&] { b.copy_bytes(h->raw_data_ptr(), -1, t->raw_data_ptr(), t->device().index, itemsize(t->dtype())); });
  return h;
}

int64_t item_as_int64(const Tensor& tensor) {
  Tensor t = on_host(tensor);
  return dispatch_all(t->dtype(), [&](auto tag) -> int64_t {
    using T = typename decltype(tag)::type;
    return convert<int64_t>(*t->data<T>());
  });
}

double item_as_double(const Tensor& tensor) {
  Tensor t = on_host(tensor);
  return dispatch_all(t->dtype(), [&](auto tag) -> double {
    using T = typename decltype(tag)::type;
    return convert<double>(*t->data<T>());
  });
}

}  // namespace ember
