// The host emulation's streams, events, copies and memory (Note [Asynchronous emulation]).
//
// Note [Asynchronous emulation]
// A GPU runs a stream's work after the host has queued it and moved on; ember
// must wait (synchronize, a copy to the host) before the host reads what the
// device wrote, must not reuse a pinned host block while a queued copy still
// reads it, and must not let one stream reuse memory another stream still
// uses. Work that ran when it was queued would hide every such mistake. So
// each emulated stream has a host thread of its own that runs its work in
// order, as the GPU would, while the thread that queued it goes on:
// - a launch checks its shape at once (a bad one fails at the call, as in
//   CUDA) and queues the grid; a fault inside a kernel is reported by the
//   stream's next synchronisation, as CUDA's sticky errors are;
// - a copy from pageable host memory takes its bytes at the call (CUDA stages
//   them); one from pinned memory (cudaHostAlloc's) reads them when it runs,
//   so a pinned block reused too early gives wrong numbers here too; a copy
//   to pageable host memory returns when done, one to pinned memory at once;
// - events complete when the stream reaches them, cudaStreamWaitEvent holds
//   a stream there, and the synchronisations wait for real (and are counted:
//   ember_emulation_waits, so tests can check that a path never waits);
// - cudaFree and cudaFreeHost wait for the device first, as CUDA's do;
// - a stream holds at most 1024 queued items: past that the host waits, as
//   with CUDA's launch queue.
// EMBER_CUDA_EMULATED_SYNC=1 runs the work at its call instead, to tell an
// ordering mistake from a kernel's. A forked child (no stream threads) does so
// too. A capturing stream (cudaStreamBeginCapture) keeps its work in the graph
// instead of running it, and refuses what CUDA refuses there: a wait for it, a
// copy to pageable host memory or from it (the graph could not read those bytes
// at a replay); each refusal invalidates the capture, as in CUDA.
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "kernels/cuda/emulation/runtime.h"

using ember::cuda::emulation::fail;
using ember::cuda::emulation::valid_device;

struct CUgraph_st {
  std::vector<std::function<void()>> work;
  bool invalidated = false;  // a refused call during the capture
};
struct CUgraphExec_st {
  std::vector<std::function<void()>> work;
};

struct CUstream_st {
  int device = 0;
  CUgraph_st* capture = nullptr;  // while capturing: where queued work goes
  std::deque<std::function<void()>> work;
  bool running = false;             // the thread is running the front item
  cudaError_t error = cudaSuccess;  // a fault in its work, until a synchronisation reports it
  std::condition_variable wake;     // work was queued
};

struct CUevent_st {
  uint64_t recorded = 0, reached = 0;  // records queued; how many of them the stream has reached
  std::chrono::steady_clock::time_point time;
  int queued = 0;          // queued work that refers to it (records, cudaStreamWaitEvent's waits)
  bool destroyed = false;  // cudaEventDestroy'd: the last of that work deletes it
};

namespace ember {
namespace cuda {
namespace emulation {
namespace {

// One lock for every stream and event; never destroyed, as a stream's thread may outlive main().
std::mutex& lock_all() {
  static auto* m = new std::mutex();
  return *m;
}
std::condition_variable& progress() {  // notified whenever a stream finishes an item
  static auto* c = new std::condition_variable();
  return *c;
}
std::vector<CUstream_st*>& streams() {
  static auto* s = new std::vector<CUstream_st*>();
  return *s;
}
std::map<const char*, size_t>& pinned_blocks() {  // cudaHostAlloc's: start -> bytes (guarded by lock_all)
  static auto* s = new std::map<const char*, size_t>();
  return *s;
}

// After queued work that referred to `event` (lock held).
void release_event(CUevent_st* event) {
  if (--event->queued == 0 && event->destroyed) delete event;
}

bool run_inline() {
  static const bool sync = std::getenv("EMBER_CUDA_EMULATED_SYNC") != nullptr;
  return sync;
}
std::atomic<bool> forked{false};  // in a child of fork(): the stream threads are gone
constexpr size_t kQueueDepth = 1024;

void stream_thread(CUstream_st* s) {
  std::unique_lock<std::mutex> lock(lock_all());
  for (;;) {
    s->wake.wait(lock, [s] { return !s->work.empty(); });
    s->running = true;
    std::function<void()> item = std::move(s->work.front());
    lock.unlock();
    last_error = cudaSuccess;
    item();
    const cudaError_t status = last_error;
    lock.lock();
    s->work.pop_front();
    s->running = false;
    if (status != cudaSuccess && s->error == cudaSuccess) s->error = status;
    progress().notify_all();
  }
}

bool idle(const CUstream_st* s) { return s->work.empty() && !s->running; }
// Every stream of `device` (-1: of all devices) idle (lock held).
bool device_idle(int device) {
  for (CUstream_st* s : streams())
    if ((device < 0 || s->device == device) && !idle(s)) return false;
  return true;
}

// Waits (lock held) until `done`; at once in a forked child, which has no stream threads.
template <class Done>
void wait_for(std::unique_lock<std::mutex>& lock, Done done) {
  if (!forked) progress().wait(lock, done);
}

std::atomic<unsigned long long> g_waits{0};

// A wait of ember's for the device: counted (ember_emulation_waits).
template <class Done>
void wait_until(std::unique_lock<std::mutex>& lock, Done done) {
  ++g_waits;
  wait_for(lock, done);
}

cudaError_t take_error(CUstream_st* s) {
  const cudaError_t status = s->error;
  s->error = cudaSuccess;
  return status == cudaSuccess ? cudaSuccess : fail(status);
}

// Waits for every stream of `device` (-1: of all devices), without counting a wait.
void drain(int device) {
  std::unique_lock<std::mutex> lock(lock_all());
  wait_for(lock, [device] { return device_idle(device); });
}

// A stream handle that came from outside (ExternalStream's): one of the emulation's, or CUDA's
// "invalid resource handle" instead of a crash (lock held).
bool known(const CUstream_st* s) {
  for (CUstream_st* k : streams())
    if (k == s) return true;
  return false;
}

// A call CUDA refuses on a capturing stream (lock held): the capture is invalidated.
cudaError_t refuse_in_capture_locked(CUstream_st* s) {
  s->capture->invalidated = true;
  return fail(cudaErrorStreamCaptureUnsupported);
}

void after_fork_in_child() { forked = true; }

}  // namespace

void enqueue(cudaStream_t stream, std::function<void()> work) {
  if (stream && stream->capture) {
    std::lock_guard<std::mutex> lock(lock_all());
    stream->capture->work.push_back(std::move(work));
    return;
  }
  if (!stream || run_inline() || forked) {
    if (!stream) drain(current_device);  // the legacy default stream follows all others
    work();
    return;
  }
  std::unique_lock<std::mutex> lock(lock_all());
  // A GPU's queue holds about a thousand launches; past that the host waits, as CUDA's does (else a host far
  // ahead of its device would hold every staged copy's pinned block at once).
  wait_for(lock, [stream] { return stream->work.size() < kQueueDepth; });
  stream->work.push_back(std::move(work));
  stream->wake.notify_one();
}

}  // namespace emulation
}  // namespace cuda
}  // namespace ember

using ember::cuda::emulation::drain;
using ember::cuda::emulation::enqueue;
using ember::cuda::emulation::idle;
using ember::cuda::emulation::lock_all;
using ember::cuda::emulation::pinned_blocks;
using ember::cuda::emulation::progress;
using ember::cuda::emulation::refuse_in_capture_locked;
using ember::cuda::emulation::wait_for;
using ember::cuda::emulation::wait_until;

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned) {
  static const bool at_fork = pthread_atfork(nullptr, nullptr, &ember::cuda::emulation::after_fork_in_child) == 0;
  (void)at_fork;
  auto* s = new CUstream_st();
  s->device = ember::cuda::emulation::current_device;
  {
    std::lock_guard<std::mutex> lock(lock_all());
    ember::cuda::emulation::streams().push_back(s);
  }
  std::thread(&ember::cuda::emulation::stream_thread, s).detach();  // lives as long as the process
  *stream = s;
  return cudaSuccess;
}

namespace {
cudaError_t refuse_in_capture(cudaStream_t s) {
  std::lock_guard<std::mutex> lock(lock_all());
  return refuse_in_capture_locked(s);
}
}  // namespace

cudaError_t cudaStreamSynchronize(cudaStream_t s) {
  if (!s) return cudaDeviceSynchronize();
  if (s->capture) return refuse_in_capture(s);
  std::unique_lock<std::mutex> lock(lock_all());
  wait_until(lock, [s] { return idle(s); });
  return ember::cuda::emulation::take_error(s);
}

cudaError_t cudaDeviceSynchronize() {
  const int device = ember::cuda::emulation::current_device;
  std::unique_lock<std::mutex> lock(lock_all());
  auto& all = ember::cuda::emulation::streams();
  for (CUstream_st* s : all)
    if (s->device == device && s->capture) return refuse_in_capture_locked(s);
  wait_until(lock, [device] { return ember::cuda::emulation::device_idle(device); });
  cudaError_t status = cudaSuccess;
  for (CUstream_st* s : all)
    if (s->device == device && s->error != cudaSuccess) status = ember::cuda::emulation::take_error(s);
  return status;
}

cudaError_t cudaMalloc(void** p, size_t size) {
  const size_t rounded = (size + 255) / 256 * 256;  // cudaMalloc's alignment
  *p = rounded ? std::aligned_alloc(256, rounded) : nullptr;
  if (rounded && !*p) return fail(cudaErrorMemoryAllocation);
  if (*p) std::memset(*p, 0xff, rounded);  // fresh device memory is not zero: a kernel must not assume it
  return cudaSuccess;
}

cudaError_t cudaFree(void* p) {
  drain(-1);
  std::free(p);
  return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total) {
  *total = size_t(sysconf(_SC_PHYS_PAGES)) * size_t(sysconf(_SC_PAGE_SIZE));
  *free_bytes = size_t(sysconf(_SC_AVPHYS_PAGES)) * size_t(sysconf(_SC_PAGE_SIZE));
  return cudaSuccess;
}

namespace {
bool is_pinned(const void* p) {
  std::lock_guard<std::mutex> lock(lock_all());
  auto& blocks = pinned_blocks();
  auto it = blocks.upper_bound(static_cast<const char*>(p));
  if (it == blocks.begin()) return false;
  --it;
  return static_cast<const char*>(p) < it->first + it->second;
}
}  // namespace

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t n, cudaMemcpyKind kind, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  const bool from_pageable = kind == cudaMemcpyHostToDevice && !is_pinned(src);
  const bool to_pageable = kind == cudaMemcpyDeviceToHost && !is_pinned(dst);
  if (stream && stream->capture && (from_pageable || to_pageable)) return refuse_in_capture(stream);
  if (from_pageable) {
    auto staged = std::make_shared<std::vector<char>>((const char*)src, (const char*)src + n);
    enqueue(stream, [dst, staged] { std::memcpy(dst, staged->data(), staged->size()); });
    return cudaSuccess;
  }
  enqueue(stream, [dst, src, n] { std::memmove(dst, src, n); });
  if (to_pageable && stream) {
    std::unique_lock<std::mutex> lock(lock_all());  // to pageable memory: CUDA returns when it is done
    wait_for(lock, [stream] { return idle(stream); });
  }
  return cudaSuccess;
}

cudaError_t cudaMemcpyPeerAsync(void* dst, int dst_device, const void* src, int src_device, size_t n,
                                cudaStream_t stream) {
  if (!valid_device(dst_device) || !valid_device(src_device)) return fail(cudaErrorInvalidDevice);
  enqueue(stream, [dst, src, n] { std::memmove(dst, src, n); });
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* p, int value, size_t n, cudaStream_t stream) {
  enqueue(stream, [p, value, n] { std::memset(p, value, n); });
  return cudaSuccess;
}

cudaError_t cudaHostAlloc(void** p, size_t size, unsigned) {
  *p = size ? std::aligned_alloc(4096, (size + 4095) / 4096 * 4096) : nullptr;
  if (size && !*p) return fail(cudaErrorMemoryAllocation);
  std::lock_guard<std::mutex> lock(lock_all());
  if (*p) pinned_blocks()[static_cast<const char*>(*p)] = size;
  return cudaSuccess;
}

cudaError_t cudaFreeHost(void* p) {
  drain(-1);
  {
    std::lock_guard<std::mutex> lock(lock_all());
    pinned_blocks().erase(static_cast<const char*>(p));
  }
  std::free(p);
  return cudaSuccess;
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned) {
  *event = new CUevent_st();
  (*event)->time = std::chrono::steady_clock::now();
  return cudaSuccess;
}

// Events inside a capture (graph nodes in CUDA) are not emulated: ember records none there.
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  uint64_t record;
  {
    std::lock_guard<std::mutex> lock(lock_all());
    if (stream && !ember::cuda::emulation::known(stream)) return fail(cudaErrorInvalidResourceHandle);
    if (stream && stream->capture) return refuse_in_capture_locked(stream);
    record = ++event->recorded;
    if (stream && idle(stream) && !ember::cuda::emulation::run_inline()) {
      event->reached = record;  // nothing queued before it: reached at once
      event->time = std::chrono::steady_clock::now();
      return cudaSuccess;
    }
    ++event->queued;
  }
  enqueue(stream, [event, record] {
    std::lock_guard<std::mutex> lock(lock_all());
    event->time = std::chrono::steady_clock::now();
    if (event->reached < record) event->reached = record;
    ember::cuda::emulation::release_event(event);
    progress().notify_all();
  });
  return cudaSuccess;
}

cudaError_t cudaEventQuery(cudaEvent_t event) {
  std::lock_guard<std::mutex> lock(lock_all());
  return event->reached == event->recorded ? cudaSuccess : cudaErrorNotReady;
}

cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  std::unique_lock<std::mutex> lock(lock_all());
  const uint64_t record = event->recorded;
  wait_until(lock, [event, record] { return event->reached >= record; });
  return cudaSuccess;
}

cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned) {
  uint64_t record;
  {
    std::lock_guard<std::mutex> lock(lock_all());
    if (stream && !ember::cuda::emulation::known(stream)) return fail(cudaErrorInvalidResourceHandle);
    if (stream && stream->capture) return refuse_in_capture_locked(stream);
    record = event->recorded;
    ++event->queued;
  }
  enqueue(stream, [event, record] {
    std::unique_lock<std::mutex> lock(lock_all());
    wait_for(lock, [event, record] { return event->reached >= record; });
    ember::cuda::emulation::release_event(event);
  });
  return cudaSuccess;
}

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  std::lock_guard<std::mutex> lock(lock_all());
  *ms = std::chrono::duration<float, std::milli>(end->time - start->time).count();
  return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  std::lock_guard<std::mutex> lock(lock_all());
  if (event->queued == 0)
    delete event;
  else
    event->destroyed = true;  // as CUDA: the work queued before still reaches it
  return cudaSuccess;
}

// How many times ember waited for the emulated device (tests read it with ctypes).
extern "C" __attribute__((visibility("default"))) unsigned long long ember_emulation_waits() {
  return ember::cuda::emulation::g_waits.load();
}

cudaError_t cudaStreamBeginCapture(cudaStream_t stream, cudaStreamCaptureMode) {
  if (!stream || stream->capture) return fail(cudaErrorInvalidValue);  // the legacy stream; a capture under way
  std::lock_guard<std::mutex> lock(lock_all());
  stream->capture = new CUgraph_st();
  return cudaSuccess;
}

cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* graph) {
  if (!stream || !stream->capture) return fail(cudaErrorInvalidValue);
  std::lock_guard<std::mutex> lock(lock_all());
  CUgraph_st* captured = stream->capture;
  stream->capture = nullptr;
  if (captured->invalidated) {
    delete captured;
    *graph = nullptr;
    return fail(cudaErrorStreamCaptureInvalidated);
  }
  *graph = captured;
  return cudaSuccess;
}

cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long) {
  *exec = new CUgraphExec_st{graph->work};
  return cudaSuccess;
}

// A replay queues the captured work, in its order, as one item of the stream.
cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream) {
  ember::cuda::emulation::count_launch();
  enqueue(stream, [work = exec->work] {
    for (const auto& item : work) item();
  });
  return cudaSuccess;
}

cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  delete exec;
  return cudaSuccess;
}

cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  delete graph;
  return cudaSuccess;
}
