// Note [CUDA host emulation]
// This machine, and CI, have no GPU. libember_cuda_emulated.so is the CUDA
// backend itself, the very .cu files of libember_cuda.so, compiled by the host
// compiler against emulation/runtime.h and emulation/cublas.h in place of CUDA's
// headers: one device whose memory is host memory (fresh allocations filled with
// 0xff, never zero), streams that run their work on host threads of their own
// (Note [Asynchronous emulation]), cuBLAS's products
// as column-major loops with cuBLAS's argument checks, and launches that run
// every thread of every block. A block's threads are fibers on the calling
// thread, resumed in turn, each to its next __syncthreads or its end, so shared
// memory and barriers behave as on the GPU; a launch outside CUDA's limits
// (threads per block, grid sides) fails with CUDA's error. So the launch
// configurations, the grid-stride loops, the block reductions and the host-side
// argument mapping are all tested here, not just the per-element code.
// With EMBER_CUDA_BACKEND=emulated, ember loads it in place of libember_cuda.so
// and reports one CUDA device, so tests/test_cuda.py's GPU tests run here
// (tests/test_cuda_emulated.py). What it cannot check is the GPU itself: races
// between a kernel's threads (they take turns), warp-level timing, atomics under
// contention, cuBLAS's own kernels, and the speed.
#define EMBER_CUDA_EMULATED 1
#include "kernels/cuda/backend.cu"
#include "kernels/cuda/conv.cu"
#include "kernels/cuda/elementwise.cu"
#include "kernels/cuda/gather.cu"
#include "kernels/cuda/optim.cu"
#include "kernels/cuda/random.cu"
#include "kernels/cuda/reduce.cu"
#include "kernels/cuda/rnn.cu"
#include "kernels/cuda/sort.cu"
