// The host emulation's CUDA runtime (Note [CUDA host emulation]): one device whose memory is
// host memory, streams that run their work at once, and launches that run every thread of
// every block. A block's threads are fibers on the calling host thread: each runs until it
// finishes or reaches __syncthreads, and a barrier is passed only when every thread of the
// block has reached it, so the kernels' shared-memory reductions run exactly as written.
#include "kernels/cuda/emulation/runtime.h"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <vector>

#if !defined(__x86_64__)
#include <ucontext.h>
#endif

namespace ember {
namespace cuda {
namespace emulation {
namespace {

constexpr int kMaxThreadsPerBlock = 1024;
constexpr size_t kStackBytes = 128 << 10;
constexpr size_t kGuardBytes = 4096;  // below each stack: an overflow faults instead of corrupting the next

#if defined(__x86_64__)
// Fibers: a switch saves the callee-saved registers on the old stack and pops them from the new
// one (~10 ns; ucontext's swapcontext makes a system call per switch, ~200 ns).
extern "C" void ember_emulation_switch(void** save_sp, void* load_sp);
asm(R"(
  .text
  .p2align 4
  .globl ember_emulation_switch
  .hidden ember_emulation_switch
  .type ember_emulation_switch, @function
ember_emulation_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size ember_emulation_switch, .-ember_emulation_switch
)");

struct Context {
  void* sp = nullptr;
};
void switch_to(Context& from, Context& to) { ember_emulation_switch(&from.sp, to.sp); }
void start(Context& fiber, char* stack_top, void (*entry)()) {
  auto* sp = reinterpret_cast<void**>(reinterpret_cast<uintptr_t>(stack_top) & ~uintptr_t(15));
  *--sp = nullptr;                              // entry's return address: it never returns
  *--sp = reinterpret_cast<void*>(entry);       // where the switch's `ret` goes
  for (int i = 0; i < 6; ++i) *--sp = nullptr;  // rbp, rbx, r12-r15
  fiber.sp = sp;
}
#else
struct Context {
  ucontext_t uc;
};
void switch_to(Context& from, Context& to) { swapcontext(&from.uc, &to.uc); }
void start(Context& fiber, char* stack_top, void (*entry)()) {
  getcontext(&fiber.uc);
  fiber.uc.uc_stack.ss_sp = stack_top - kStackBytes;
  fiber.uc.uc_stack.ss_size = kStackBytes;
  fiber.uc.uc_link = nullptr;
  makecontext(&fiber.uc, entry, 0);
}
#endif

enum class ThreadState { Running, AtBarrier, Done };

// The fibers of one host thread: stacks mapped once, reused by every block it runs.
struct Block {
  char* stacks = nullptr;
  Context scheduler;
  Context fibers[kMaxThreadsPerBlock];
  ThreadState state[kMaxThreadsPerBlock];
  int current = 0;
  void (*thread)(const void*) = nullptr;
  const void* data = nullptr;
  bool failed = false;

  int guarded = 0;  // the stacks below this one have their guard page

  Block() {
    const size_t total = (kStackBytes + kGuardBytes) * kMaxThreadsPerBlock;
    void* p = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) std::abort();
    stacks = static_cast<char*>(p);
  }
  ~Block() { munmap(stacks, (kStackBytes + kGuardBytes) * kMaxThreadsPerBlock); }
  // Guard pages are set as blocks need them: each one splits the mapping, and 1024 per host
  // thread ran 64 nested backward threads into the kernel's limit on mappings (thread creation
  // then failed with EAGAIN); most launches use 256 threads.
  void guard(int n_threads) {
    for (; guarded < n_threads; ++guarded)
      if (mprotect(stacks + guarded * (kStackBytes + kGuardBytes), kGuardBytes, PROT_NONE) != 0) std::abort();
  }
  char* stack_top(int t) { return stacks + (t + 1) * (kStackBytes + kGuardBytes); }
};

thread_local Block* block = nullptr;

Block& this_threads_block() {
  static thread_local std::unique_ptr<Block> storage;  // on the heap: fibers' contexts are large
  if (!storage) storage = std::make_unique<Block>();
  return *storage;
}

void fiber_entry() {
  Block& b = *block;
  try {
    b.thread(b.data);
  } catch (...) {
    b.failed = true;  // no exception crosses a fiber: the launch reports a failure
  }
  b.state[b.current] = ThreadState::Done;
  switch_to(b.fibers[b.current], b.scheduler);
  std::abort();  // a finished fiber is never resumed
}

void set_thread_index(const dim3& shape, int t) {
  threadIdx.x = t % shape.x;
  threadIdx.y = t / shape.x % shape.y;
  threadIdx.z = t / (shape.x * shape.y);
}

void run_block(Block& b, const dim3& shape, int n_threads, bool reversed) {
  b.guard(n_threads);
  for (int t = 0; t < n_threads; ++t) {
    start(b.fibers[t], b.stack_top(t), &fiber_entry);
    b.state[t] = ThreadState::Running;
  }
  // Each round resumes every unfinished thread once; it runs to its next barrier or its end.
  // The order flips between rounds and blocks: a kernel that counts on one thread's write
  // before another's read without a barrier between them gets a wrong answer here too.
  for (bool pending = true; pending; reversed = !reversed) {
    pending = false;
    for (int i = 0; i < n_threads; ++i) {
      const int t = reversed ? n_threads - 1 - i : i;
      if (b.state[t] == ThreadState::Done) continue;
      b.current = t;
      b.state[t] = ThreadState::Running;
      set_thread_index(shape, t);
      switch_to(b.scheduler, b.fibers[t]);
      pending = pending || b.state[t] != ThreadState::Done;
    }
  }
}

}  // namespace

thread_local cudaError_t last_error = cudaSuccess;
thread_local int current_device = 0;

cudaError_t fail(cudaError_t status) {
  last_error = status;
  return status;
}

// EMBER_CUDA_EMULATED_DEVICES=n (1 to 8; 1 by default) devices, for tests of several GPUs.
int device_count() {
  static const int n = [] {
    const char* v = std::getenv("EMBER_CUDA_EMULATED_DEVICES");
    int k = v ? std::atoi(v) : 1;
    return k < 1 ? 1 : k > 8 ? 8 : k;
  }();
  return n;
}
bool valid_device(int device) { return device >= 0 && device < device_count(); }

void syncthreads() {
  Block& b = *block;
  b.state[b.current] = ThreadState::AtBarrier;
  switch_to(b.fibers[b.current], b.scheduler);
}

static std::atomic<unsigned long long> g_launches{0};
void count_launch() { ++g_launches; }

bool launch_shape_ok(dim3 grid, dim3 shape) {
  const uint64_t n_threads = uint64_t(shape.x) * shape.y * shape.z;
  if (n_threads == 0 || n_threads > kMaxThreadsPerBlock || shape.z > 64 || grid.x == 0 || grid.y == 0 || grid.z == 0 ||
      grid.x > 0x7fffffffu || grid.y > 65535 || grid.z > 65535) {
    last_error = cudaErrorInvalidConfiguration;
    return false;
  }
  return true;
}

void run_grid(dim3 grid, dim3 shape, void (*thread)(const void*), const void* data) {
  const int n_threads = int(shape.x * shape.y * shape.z);  // launch_shape_ok checked it when it was queued
  Block& b = this_threads_block();
  block = &b;
  b.thread = thread;
  b.data = data;
  b.failed = false;
  blockDim = shape;
  gridDim = grid;
  for (unsigned z = 0; z < grid.z; ++z)
    for (unsigned y = 0; y < grid.y; ++y)
      for (unsigned x = 0; x < grid.x; ++x) {
        blockIdx.x = x;
        blockIdx.y = y;
        blockIdx.z = z;
        run_block(b, shape, n_threads, (x + y + z) % 2 == 1);
      }
  if (b.failed) last_error = cudaErrorLaunchFailure;
}

}  // namespace emulation
}  // namespace cuda
}  // namespace ember

using ember::cuda::emulation::fail;
using ember::cuda::emulation::last_error;
using ember::cuda::emulation::valid_device;

const char* cudaGetErrorString(cudaError_t status) {
  switch (status) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorNotReady: return "device not ready";
    case cudaErrorLaunchFailure: return "unspecified launch failure";
    case cudaErrorStreamCaptureUnsupported: return "operation not permitted when stream is capturing";
    case cudaErrorStreamCaptureInvalidated: return "operation failed due to a previous error during capture";
  }
  return "unrecognized error code";
}

cudaError_t cudaGetLastError() {
  cudaError_t status = last_error;
  last_error = cudaSuccess;
  return status;
}

cudaError_t cudaGetDeviceCount(int* count) {
  *count = ember::cuda::emulation::device_count();
  return cudaSuccess;
}

cudaError_t cudaGetDevice(int* device) {
  *device = ember::cuda::emulation::current_device;
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
  if (!valid_device(device)) return fail(cudaErrorInvalidDevice);
  ember::cuda::emulation::current_device = device;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (!valid_device(device)) return fail(cudaErrorInvalidDevice);
  std::strncpy(prop->name, "ember CUDA host emulation", sizeof prop->name);
  prop->totalGlobalMem = size_t(sysconf(_SC_PHYS_PAGES)) * size_t(sysconf(_SC_PAGE_SIZE));
  prop->major = 9, prop->minor = 0;  // what the build's newest architecture (sm_90) runs
  prop->multiProcessorCount = 1;
  return cudaSuccess;
}

// Emulated devices share host memory: each reaches every other one.
cudaError_t cudaDeviceCanAccessPeer(int* can, int device, int peer) {
  if (!valid_device(device) || !valid_device(peer)) return fail(cudaErrorInvalidDevice);
  *can = device != peer;
  return cudaSuccess;
}

// How many kernels ember launched on the emulated device (tests and tools/cuda_launches.py read it
// with ctypes; ember_emulation_waits, in streams.cpp, the waits).
extern "C" __attribute__((visibility("default"))) unsigned long long ember_emulation_launches() {
  return ember::cuda::emulation::g_launches.load();
}
