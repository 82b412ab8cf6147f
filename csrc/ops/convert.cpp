#include <algorithm>

#include "core/cuda.h"
#include "kernels/cpu/elementwise.h"
#include "ops/op_node.h"

namespace ember {

// A same-valued tensor of `dtype` outside autograd (for kernel inputs).
Tensor cast_for_kernel(const Tensor& t, DType dtype) {
  if (t->dtype() == dtype) return t;
  Tensor out = empty(t->sizes(), dtype, t->device());
  kernels::copy(out, t);
  out->is_wrapped_number = t->is_wrapped_number;
  return out;
}

Tensor clone(const Tensor& t) { return clone_strided(t, contiguous_strides(t->sizes())); }

Tensor contiguous(const Tensor& t) { return t->is_contiguous() ? t : clone(t); }

Tensor empty_dense_strided(const Shape& sizes, const Shape& strides, DType dtype) {
  if (strides == contiguous_strides(sizes)) return empty(sizes, dtype);
  return std::make_shared<TensorImpl>(allocate_storage(storage_bytes(sizes, itemsize(dtype)), op_device()), sizes,
                                      strides, 0, dtype);
}

Tensor clone_strided(const Tensor& t, const Shape& strides) {
  OpDeviceGuard on(t->device());
  Tensor out = empty_dense_strided(t->sizes(), strides, t->dtype());
  kernels::copy(out, t);
  auto node = make_node("CloneBackward0", {&t}, [](auto&, variable_list& g) -> variable_list { return {g[0]}; });
  return attach(node, out);
}

// Channels-last orders: the dims from innermost to outermost (channels innermost).
static const std::vector<int64_t>& channels_last_order(MemoryFormat f) {
  static const std::vector<int64_t> two_d = {1, 3, 2, 0}, three_d = {1, 4, 3, 2, 0};
  return f == MemoryFormat::ChannelsLast ? two_d : three_d;
}

static void check_rank(const Tensor& t, MemoryFormat f) {
  if (f == MemoryFormat::ChannelsLast) EMBER_CHECK(t->dim() == 4, "required rank 4 tensor to use channels_last format");
  if (f == MemoryFormat::ChannelsLast3d)
    EMBER_CHECK(t->dim() == 5, "required rank 5 tensor to use channels_last_3d format");
}

Shape memory_format_strides(const Tensor& t, MemoryFormat f) {
  if (f == MemoryFormat::Preserve) return non_overlapping_and_dense(*t) ? t->strides() : contiguous_strides(t->sizes());
  if (f == MemoryFormat::Contiguous) return contiguous_strides(t->sizes());
  check_rank(t, f);
  Shape strides(t->sizes().size());
  int64_t next = 1;
  for (int64_t d : channels_last_order(f)) {
    strides[d] = next;
    next *= std::max<int64_t>(t->size(d), 1);
  }
  return strides;
}

bool is_contiguous_as(const Tensor& t, MemoryFormat f) {
  if (f == MemoryFormat::Contiguous || f == MemoryFormat::Preserve) return t->is_contiguous();
  if (t->dim() != (f == MemoryFormat::ChannelsLast ? 4 : 5)) return false;
  if (t->numel() == 0) return true;
  int64_t expected = 1;  // as PyTorch: dims of size 1 may have any stride
  for (int64_t d : channels_last_order(f)) {
    if (t->size(d) == 1) continue;
    if (t->stride(d) != expected) return false;
    expected *= t->size(d);
  }
  return true;
}

Tensor clone(const Tensor& t, MemoryFormat f) { return clone_strided(t, memory_format_strides(t, f)); }

Tensor contiguous(const Tensor& t, MemoryFormat f) {
  if (is_contiguous_as(t, f)) return t;
  EMBER_CHECK(f != MemoryFormat::Preserve, "preserve memory format is unsupported by the contiguous operator");
  return clone(t, f);
}

namespace {  // a State is private to its op's file (Note [Node state])

struct ToCopyState {
  DType self_dtype = kDefaultFloat;
  Device self_device;
  void fields(StateFields& f) const { f.add("self_dtype", self_dtype); }
};
}  // namespace

Tensor to_dtype(const Tensor& t, DType dtype) {
  if (t->dtype() == dtype) return t;
  Tensor out = cast_for_kernel(t, dtype);
  out->is_wrapped_number = false;
  if (!is_floating(dtype)) return out;  // integer results are never differentiable
  auto node = make_node<ToCopyState>("ToCopyBackward0", {&t}, [](auto& n, variable_list& g) -> variable_list {
    return {to_dtype(g[0], n.state.self_dtype)};
  });
  if (node) node->state.self_dtype = t->dtype();
  return attach(node, out);
}

// Across devices: a copy on `device` in `dtype`; its gradient goes back to t's device and dtype.
Tensor to_device(const Tensor& t, Device device, DType dtype) {
  if (device.type == DeviceType::CUDA)
    device = resolve_cuda_device(device);
  else
    check_device_available(device);
  if (device == t->device()) return to_dtype(t, dtype);
  Tensor out;
  {
    OpDeviceGuard on(device);  // in t's layout where it is dense (channels_last stays so), as PyTorch
    out = empty_dense_strided(t->sizes(), memory_format_strides(t, MemoryFormat::Preserve), dtype);
  }
  kernels::copy(out, t);
  if (!is_floating(dtype)) return out;
  auto node = make_node<ToCopyState>("ToCopyBackward0", {&t}, [](auto& n, variable_list& g) -> variable_list {
    return {to_device(g[0], n.state.self_device, n.state.self_dtype)};
  });
  if (node) {
    node->state.self_dtype = t->dtype();
    node->state.self_device = t->device();
  }
  return attach(node, out);
}

// A copy of CPU tensor t in page-locked memory (Note [Pinned memory]); t itself when it is there.
Tensor pin_memory(const Tensor& t) {
  EMBER_CHECK(t->device().is_cpu(), "cannot pin '", t->device().str(),
              "' tensor: only dense CPU tensors can be pinned");
  if (t->storage()->pinned) return t;
  auto storage = allocate_pinned_storage(storage_bytes(t->sizes(), itemsize(t->dtype())));
  Tensor out =
      std::make_shared<TensorImpl>(std::move(storage), t->sizes(), contiguous_strides(t->sizes()), 0, t->dtype());
  kernels::copy(out, t);
  auto node =
      make_node<NoState>("PinMemoryBackward0", {&t}, [](auto&, variable_list& g) -> variable_list { return {g[0]}; });
  return attach(node, out);
}

Tensor detach(const Tensor& t) { return make_view(t, t->sizes(), t->strides(), t->offset()); }

}  // namespace ember
