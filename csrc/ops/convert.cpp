#include <algorithm>
#include <cmath>
#include <limits>

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

// Note [Scalar overflow]: a number written into a tensor must fit the tensor's dtype, as PyTorch's
// checked conversion demands: an integer beyond an integer dtype's range (an unsigned dtype also takes
// negatives down to -max, which wrap), NaN, inf or a float beyond an integer dtype's range, a finite number
// beyond a floating dtype's largest. bool takes anything. The error names the C++ type PyTorch converts to.
static bool held_real(DType d) { return d <= DType::UInt64; }  // the dtypes a TensorImpl holds

static const char* cpp_type_name(DType d) {
  switch (d) {
    case DType::UInt8: return "uint8_t";
    case DType::Int8: return "int8_t";
    case DType::Int16: return "int16_t";
    case DType::Int32: return "int";
    case DType::Int64: return "int64_t";
    case DType::UInt16: return "uint16_t";
    case DType::UInt32: return "uint32_t";
    case DType::UInt64: return "uint64_t";
    case DType::Float16: return "c10::Half";
    case DType::BFloat16: return "c10::BFloat16";
    case DType::Float32: return "float";
    default: return "double";
  }
}

// The representable range of a real dtype, as doubles (exact for every bound but int64's and uint64's).
static std::pair<double, double> dtype_range(DType d) {
  switch (d) {
    case DType::UInt8: return {0, 255};
    case DType::Int8: return {-128, 127};
    case DType::Int16: return {-32768, 32767};
    case DType::Int32: return {-2147483648.0, 2147483647.0};
    case DType::UInt16: return {0, 65535};
    case DType::UInt32: return {0, 4294967295.0};
    case DType::Float16: return {-65504.0, 65504.0};
    case DType::BFloat16:
    case DType::Float32: return {-std::numeric_limits<float>::max(), std::numeric_limits<float>::max()};
    default: return {-std::numeric_limits<double>::max(), std::numeric_limits<double>::max()};
  }
}

static bool integer_overflows(int64_t v, bool value_unsigned, DType d) {
  if (d == DType::Int64) return value_unsigned && v < 0;  // a uint64 of 2**63 and more
  if (d == DType::UInt64) return false;  // every int64 wraps into it (negatives as PyTorch's unsigned rule)
  const auto [lo, hi] = dtype_range(d);
  if (value_unsigned && v < 0) return true;
  const double x = static_cast<double>(v);
  if (lo == 0) return x > hi || -x > hi;  // unsigned: negatives wrap, down to -max
  return x < lo || x > hi;
}

// `wraps`: an integral-valued v is an integer (APIs that take the number as a double: alpha, clamp's bounds),
// which wraps into an unsigned dtype; a float does not.
static bool double_overflows(double v, DType d, bool wraps) {
  if (d == DType::Bool || d == DType::Float64 || !held_real(d)) return false;
  if (is_floating(d)) {
    const auto [lo, hi] = dtype_range(d);
    return std::isfinite(v) && (v < lo || v > hi);
  }
  if (!std::isfinite(v)) return true;
  // APIs that take the number as a double (alpha, clamp's bounds): an integer wraps into an unsigned dtype
  const bool unsigned_int = d == DType::UInt8 || d == DType::UInt16 || d == DType::UInt32 || d == DType::UInt64;
  if (wraps && unsigned_int && v < 0 && v == std::floor(v)) v = -v;
  if (d == DType::Int64) return v < -9223372036854775808.0 || v >= 9223372036854775808.0;
  if (d == DType::UInt64) return v < 0 || v >= 18446744073709551616.0;
  const auto [lo, hi] = dtype_range(d);
  return v < lo || v > hi;
}

bool value_overflows(double v, DType d) { return double_overflows(v, d, true); }

void check_value_fits(double v, DType d) {
  EMBER_CHECK(!value_overflows(v, d), "value cannot be converted to type ", cpp_type_name(d), " without overflow");
}

void check_value_fits(const Tensor& value, DType d) {
  const DType vd = value->dtype();
  if (!held_real(vd) || !value->device().is_cpu()) return;  // a GPU value is not read back: that would wait
  const bool integer = is_integral(vd, true);
  const bool overflows = integer && !is_floating(d) && d != DType::Bool
                             ? integer_overflows(item_as_int64(value), vd == DType::UInt64, d)
                             : double_overflows(item_as_double(value), d, integer);
  EMBER_CHECK(!overflows, "value cannot be converted to type ", cpp_type_name(d), " without overflow");
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
  DType self_dtype = DType::Float32;
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
