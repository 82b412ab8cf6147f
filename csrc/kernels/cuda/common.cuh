#pragma once
// What the CUDA kernels share besides portable.h: status checks, launches and their sizes.
#ifdef EMBER_CUDA_EMULATED
#include "kernels/cuda/emulation/runtime.h"
// The host emulation runs a launch's threads itself (Note [CUDA host emulation]).
#define EMBER_LAUNCH(kernel, grid, block, stream) ::ember::cuda::emulation::launch(grid, block, stream, kernel)
#else
#include <cuda_runtime.h>
#define EMBER_LAUNCH(kernel, grid, block, stream) kernel<<<grid, block, 0, stream>>>
#endif

#include <cstdint>
#include <stdexcept>
#include <string>

#include "kernels/cuda/portable.h"

namespace ember {
namespace cuda {

// A CUDA status as RuntimeError with CUDA's words (core/cuda.cpp maps the exception).
inline void check(cudaError_t status, const char* what) {
  if (status == cudaSuccess) return;
  // The runtime also keeps the error as its last one: reported here, it must not fail the next
  // launch's check_launch too (a bad device index made the following kernel's error).
  cudaGetLastError();
  throw std::runtime_error(std::string("CUDA error: ") + cudaGetErrorString(status) + " (" + what + ")");
}
// After every launch: a bad configuration shows here, a fault in the kernel at the next synchronisation.
inline void check_launch(const char* op) {
  cudaError_t status = cudaGetLastError();
  if (status != cudaSuccess)
    throw std::runtime_error(std::string("CUDA error: ") + cudaGetErrorString(status) + " (launching " + op + ")");
}

// The one stream of each device (Note [CUDA caching allocator]); sets the device current.
cudaStream_t stream_for(int device);

// Note [Deferred index errors]: each device's record of the first index out of range a kernel met.
struct IndexErrorRecord {
  unsigned long long set;  // 0 until a kernel records an error
  long long value, dim, size;
  int kind;  // IndexErrorKind
};
// The record of `device`, for a kernel about to be launched there.
IndexErrorRecord* index_error_record(int device);
// After such a launch: the device's next wait looks at its record (CUDA_LAUNCH_BLOCKING=1: waits and looks now).
void index_kernel_launched(int device);
// Waits for `device` (-1: every device) and raises the first error recorded there since the last look.
void raise_index_error(int device);
// The same around a wait of one's own: queue_index_error_read before it (false: nothing to read), then
// raise_read_index_error after it, so that one wait covers the record's copy to the host.
bool queue_index_error_read(int device);
void raise_read_index_error(int device);

// Offsets of elements whose index was out of range: negative, and still negative after other offsets are added.
constexpr int64_t kBadOffset = INT64_MIN / 4;

__device__ inline int64_t record_index_error(IndexErrorRecord* r, int kind, long long value, long long dim,
                                             long long size) {
  if (atomicCAS(&r->set, 0ull, 1ull) == 0ull) {
    r->value = value, r->dim = dim, r->size = size;
    r->kind = kind;
  }
  return kBadOffset;
}

constexpr int kThreads = 256;
inline unsigned blocks_for(int64_t n) {
  int64_t b = (n + kThreads - 1) / kThreads;
  return (unsigned)(b < 65536 * 8 ? (b > 0 ? b : 1) : 65536 * 8);
}

}  // namespace cuda
}  // namespace ember
