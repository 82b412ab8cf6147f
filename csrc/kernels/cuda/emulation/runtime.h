#pragma once
// The part of CUDA's runtime API that ember's kernels use, on the host (Note [CUDA host emulation]):
// the .cu files include this in place of <cuda_runtime.h> when EMBER_CUDA_EMULATED is defined, and
// their kernels run as written, every thread of every block, __syncthreads included.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <tuple>
#include <utility>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
// A block's shared memory: one copy per host thread, which runs one block at a time.
#define __shared__ static thread_local

struct uint3 {
  unsigned x = 0, y = 0, z = 0;
};
struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned vx = 1, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
};

// The built-in variables, set by the block scheduler before it resumes a thread.
inline thread_local uint3 threadIdx;
inline thread_local uint3 blockIdx;
inline thread_local dim3 blockDim;
inline thread_local dim3 gridDim;

typedef enum cudaError {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorNoDevice = 100,
  cudaErrorInvalidDevice = 101,
  cudaErrorInvalidResourceHandle = 400,
  cudaErrorNotReady = 600,
  cudaErrorLaunchFailure = 719,
  cudaErrorStreamCaptureUnsupported = 900,
  cudaErrorStreamCaptureInvalidated = 901,
} cudaError_t;

enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
};

struct CUstream_st;
typedef CUstream_st* cudaStream_t;
constexpr unsigned cudaStreamNonBlocking = 1;

struct CUevent_st;
typedef CUevent_st* cudaEvent_t;

// CUDA graphs: a stream's work captured, then replayed (emulation/streams.cpp).
struct CUgraph_st;
typedef CUgraph_st* cudaGraph_t;
struct CUgraphExec_st;
typedef CUgraphExec_st* cudaGraphExec_t;
enum cudaStreamCaptureMode {
  cudaStreamCaptureModeGlobal = 0,
  cudaStreamCaptureModeThreadLocal = 1,
  cudaStreamCaptureModeRelaxed = 2
};
constexpr unsigned cudaEventDisableTiming = 2;
constexpr unsigned cudaHostAllocDefault = 0;

struct cudaDeviceProp {
  char name[256];
  size_t totalGlobalMem;
  int major, minor, multiProcessorCount;
};

const char* cudaGetErrorString(cudaError_t status);
cudaError_t cudaGetLastError();
cudaError_t cudaGetDeviceCount(int* count);
cudaError_t cudaGetDevice(int* device);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device);
cudaError_t cudaDeviceCanAccessPeer(int* can, int device, int peer);
cudaError_t cudaDeviceSynchronize();
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned flags);
cudaError_t cudaStreamSynchronize(cudaStream_t stream);
cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned flags);
cudaError_t cudaMalloc(void** p, size_t size);
cudaError_t cudaFree(void* p);
cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total);
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t n, cudaMemcpyKind kind, cudaStream_t stream);
cudaError_t cudaMemcpyPeerAsync(void* dst, int dst_device, const void* src, int src_device, size_t n,
                                cudaStream_t stream);
cudaError_t cudaMemsetAsync(void* p, int value, size_t n, cudaStream_t stream);
cudaError_t cudaHostAlloc(void** p, size_t size, unsigned flags);
cudaError_t cudaFreeHost(void* p);
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned flags);
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream);
cudaError_t cudaEventQuery(cudaEvent_t event);
cudaError_t cudaEventSynchronize(cudaEvent_t event);
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end);
cudaError_t cudaEventDestroy(cudaEvent_t event);
cudaError_t cudaStreamBeginCapture(cudaStream_t stream, cudaStreamCaptureMode mode);
cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* graph);
cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long flags);
cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream);
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec);
cudaError_t cudaGraphDestroy(cudaGraph_t graph);

// Atomics: the threads of a launch take turns on one host thread and switch only at
// __syncthreads, so a read-modify-write is never interleaved.
template <class T>
T atomicAdd(T* p, T v) {
  T old = *p;
  *p = old + v;
  return old;
}
template <class U>  // unsigned int and unsigned long long, as CUDA's
U atomicCAS(U* p, U compare, U v) {
  U old = *p;
  if (old == compare) *p = v;
  return old;
}

namespace ember {
namespace cuda {
namespace emulation {

// Runs `thread(data)` for every thread of every block of the grid, in order, each thread on
// a fiber of its own so that __syncthreads can suspend it (runtime.cpp).
void run_grid(dim3 grid, dim3 block, void (*thread)(const void*), const void* data);
// Whether a launch's shape is within CUDA's limits; if not, cudaGetLastError reports it at once.
bool launch_shape_ok(dim3 grid, dim3 block);
// Counts a launch (each kernel's, and each emulated cuBLAS call's) when it is queued:
// ember_emulation_launches() reads the count.
void count_launch();
void syncthreads();

extern thread_local cudaError_t last_error;  // what cudaGetLastError returns next
extern thread_local int current_device;      // cudaSetDevice's
cudaError_t fail(cudaError_t status);        // sets last_error, returns status
int device_count();
bool valid_device(int device);

// Note [Asynchronous emulation]: queues `work` on the stream; it runs on the stream's own host
// thread, after the work queued before it.
void enqueue(cudaStream_t stream, std::function<void()> work);

template <class... P>
struct Launch {
  dim3 grid, block;
  cudaStream_t stream;
  void (*kernel)(P...);
  template <class... A>
  void operator()(A&&... args) const {
    if (!launch_shape_ok(grid, block)) return;
    count_launch();
    struct Call {
      void (*kernel)(P...);
      std::tuple<P...> params;  // converted once, as a launch copies its arguments
    } call{kernel, std::tuple<P...>(std::forward<A>(args)...)};
    enqueue(stream, [grid = grid, block = block, call] {
      run_grid(
          grid, block,
          [](const void* d) { std::apply(static_cast<const Call*>(d)->kernel, static_cast<const Call*>(d)->params); },
          &call);
    });
  }
};
template <class... P>
Launch<P...> launch(dim3 grid, dim3 block, cudaStream_t stream, void (*kernel)(P...)) {
  return {grid, block, stream, kernel};
}

}  // namespace emulation
}  // namespace cuda
}  // namespace ember

inline void __syncthreads() { ember::cuda::emulation::syncthreads(); }
