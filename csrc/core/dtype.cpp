#include "core/dtype.h"

#include <atomic>

namespace ember {

namespace {
std::atomic<DType> g_default_float{DType::Float32};  // one for the process, as PyTorch's default dtype
}  // namespace

DType default_float() { return g_default_float.load(std::memory_order_relaxed); }
void set_default_float(DType dtype) { g_default_float.store(dtype, std::memory_order_relaxed); }

}  // namespace ember
