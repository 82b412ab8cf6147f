#pragma once
// ember._C's side of the CUDA backend (Note [CUDA backend]): finding and
// loading libember_cuda.so, the device queries, and the conversions between a
// TensorImpl and what a CUDA kernel sees.
#include "core/tensor.h"
#include "kernels/cuda/backend.h"

namespace ember {

// Whether libember_cuda.so lies beside ember._C (a build with EMBER_CUDA).
bool cuda_built();
// The number of CUDA devices the driver sees, asked without loading the backend
// (0 in a build without CUDA, without a driver, or without a GPU).
int cuda_device_count();
// The backend, loaded at the first call; raises PyTorch's errors where no GPU
// can be used. Every call into it goes through cuda_call().
cuda::Backend& cuda_backend();
// `device` with its index resolved (cuda -> cuda:<current>); raises when it
// cannot be used.
Device resolve_cuda_device(Device device);

// A kernel argument for `t` (on a CUDA device, at most cuda::kMaxDims dims).
cuda::TensorArg cuda_arg(const TensorImpl& t);
inline cuda::TensorArg cuda_arg(const Tensor& t) { return cuda_arg(*t); }

// Runs f (calls into the backend), turning the backend's std::invalid_argument
// (no kernel for this op or dtype) into MissingKernel (NotImplementedError) and
// its std::out_of_range (an index error, Note [Deferred index errors]) into IndexError.
void rethrow_cuda_error();

// Note [Sync debug mode]: ember.cuda.set_sync_debug_mode. A copy between the host and a device
// that waits for the device (.item(), .cpu(), nonzero's count, a tensor made on the device from host
// data) calls note_synchronizing_op() first: 0 lets it be, 1 warns, 2 raises RuntimeError, with
// PyTorch's words "called a synchronizing CUDA operation". ember.cuda.synchronize() is not counted.
void set_sync_debug_mode(int mode);
int sync_debug_mode();
void note_synchronizing_op();
// Note [CUDA graph pools]: random numbers drawn on the host for `device` (randint, randperm with a CPU
// generator=) while it captures a CUDA graph are refused: the graph would copy the same numbers at every replay.
void refuse_draw_in_capture(Device device);
// How mode 1 warns: set by the Python module (a UserWarning; it takes the GIL).
void set_sync_warning_handler(void (*handler)(const char* message));
template <class F>
auto cuda_call(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::logic_error&) {  // std::invalid_argument, std::out_of_range
    rethrow_cuda_error();
    throw;
  }
}

// Note [Missing CUDA kernels]
// A CPU kernel reading a CUDA tensor would read device memory as host memory
// (a crash at best). TensorImpl::data_ptr() refuses it with this error instead;
// the op registry adds the op's name as it passes (registry.h), giving
// PyTorch's "Could not run '<op>' with arguments from the 'CUDA' backend".
// `detail` says what is missing; the registry puts the op's name before it.
struct MissingKernel : Error {
  explicit MissingKernel(const std::string& what)
      : Error(ErrorKind::NotImplemented, "Could not run this op with arguments from the 'CUDA' backend: " + what +
                                             "; move its inputs to the CPU with .cpu()"),
        detail(what) {}
  std::string detail;
};

// "Expected all tensors to be on the same device, ..." unless `a` and `b` are
// on one device; a 0-d CPU tensor may join a CUDA one (as a number), as in PyTorch.
void check_same_device(const TensorImpl& a, const TensorImpl& b);
// The same error with no exception for 0-d tensors, for the arguments PyTorch checks
// so: the index or mask of gather, index_select, embedding, ..., addmm's bias, the
// operands of products and of cat.
void check_device_strict(const TensorImpl& a, const TensorImpl& b);
// An in-place op's operand: on self's device, or a 0-d CPU tensor (a number).
void check_operand_device(const TensorImpl& self, const TensorImpl& other);

}  // namespace ember
