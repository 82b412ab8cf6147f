// libember_cuda.so's Backend (Note [CUDA backend]): devices and their streams,
// the caching allocator, host <-> device copies, cuBLAS products, and the
// forwarding of kernel calls to elementwise.cu, reduce.cu and random.cu.
#ifdef EMBER_CUDA_EMULATED
#include "kernels/cuda/emulation/cublas.h"
#else
#include <cublas_v2.h>
#endif

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "kernels/cuda/caching_allocator.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"
#include "kernels/cuda/pinned_pool.h"

namespace ember {
namespace cuda {
namespace {

// Note [Current CUDA device]
// A kernel runs on the device that is current when it is launched, so every
// launch makes its tensors' device current (per host thread; skipped when it
// already is, asking CUDA, as another library may have changed it). That must
// not change what the user set: ember.cuda.current_device() (where
// device="cuda" goes) is this thread's own choice, from set_device, and starts
// as CUDA's current device before ember's first launch moved it (a first copy
// to cuda:1 does not make cuda:1 the user's device).
thread_local int t_user_device = -1;  // ember.cuda.set_device's, -1 until asked

void set_current(int device) {
  int current = -1;
  const bool known = cudaGetDevice(&current) == cudaSuccess;
  if (known && t_user_device < 0) t_user_device = current;  // the choice, taken before a launch changes it
  if (known && current == device) return;
  check(cudaSetDevice(device), "cudaSetDevice");
}

struct DeviceState {
  cudaStream_t stream = nullptr;
  cublasHandle_t blas = nullptr;
  std::string name;
  std::atomic<IndexErrorRecord*> index_errors{nullptr};  // Note [Deferred index errors]: on the device
  IndexErrorRecord* index_errors_read = nullptr;         // its copy in pinned host memory, read after a wait
  std::atomic<bool> index_kernels_queued{false};
  // While capturing a graph: the pinned blocks its copies read (kept for its replays), and whether a wait
  // was refused (the capture then fails at its end). Guarded by State's mutex.
  std::atomic<bool> capturing{false};
  bool capture_failed = false;
  GraphRng* graph_rng = nullptr;  // Note [CUDA graph random numbers]; made once, never freed
  std::vector<std::pair<void*, size_t>> capture_staging;
};

// A captured graph, instantiated, with the pinned blocks its copies read at every replay.
struct CapturedGraph {
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  int device = 0;
  std::vector<std::pair<void*, size_t>> staging;
};

struct State {
  std::mutex mutex;
  DeviceState devices[kMaxDevices];
};

// Never destroyed: tensors freed while the interpreter shuts down still find it.
State& state() {
  static State* s = new State();
  return *s;
}

DeviceState& device_state(int device) {
  if (device < 0 || device >= kMaxDevices) throw std::runtime_error("CUDA error: invalid device ordinal");
  return state().devices[device];
}

void* raw_alloc(size_t size, int device) {
  set_current(device);
  void* p = nullptr;
  cudaError_t status = cudaMalloc(&p, size);
  if (status == cudaErrorMemoryAllocation) {
    cudaGetLastError();  // clear it: the allocator empties its cache and asks again
    return nullptr;
  }
  check(status, "cudaMalloc");
  return p;
}

void raw_free(void* p, int device) {
  set_current(device);
  cudaFree(p);  // no check: at exit the runtime may already be gone
}

std::string describe(int device) {
  size_t free_bytes = 0, total = 0;
  set_current(device);
  cudaMemGetInfo(&free_bytes, &total);
  return "a total capacity of " + std::to_string(total >> 20) + " MiB of which " + std::to_string(free_bytes >> 20) +
         " MiB is free";
}

// Never destroyed, as State.
CachingAllocator& allocator() {
  static CachingAllocator* a = new CachingAllocator({&raw_alloc, &raw_free, &describe});
  return *a;
}

// Never destroyed, as State.
PinnedPool& pinned_pool() {
  static PinnedPool* p = new PinnedPool();
  return *p;
}

// The streams made so far: a copy from pinned memory may be queued on any of them. A capturing stream
// runs nothing until a replay (and an event may not be recorded on it): its device waited before the
// capture, and the blocks the capture reads are the graph's (CapturedGraph::staging).
std::vector<cudaStream_t> streams_in_use() {
  std::vector<cudaStream_t> streams;
  std::lock_guard<std::mutex> lock(state().mutex);
  for (auto& d : state().devices)
    if (d.stream && !d.capturing) streams.push_back(d.stream);
  return streams;
}

// Note [CUDA graph pools]: a wait for a capturing device is refused (CUDA's own words), and fails the capture.
void refuse_while_capturing(int device, const char* what) {
  DeviceState& d = device_state(device);
  if (!d.capturing) return;
  {
    std::lock_guard<std::mutex> lock(state().mutex);
    d.capture_failed = true;
  }
  throw std::runtime_error(std::string("CUDA error: operation not permitted when stream is capturing (") + what + ")");
}

const char* cublas_status(cublasStatus_t s) {
  // cublasGetStatusString exists in cuBLAS 11.4+
  return cublasGetStatusString(s);
}

void check_blas(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS)
    throw std::runtime_error(std::string("CUDA error: ") + cublas_status(s) + " (" + what + ")");
}

cublasHandle_t blas_for(int device) {
  DeviceState& d = device_state(device);
  cudaStream_t s = stream_for(device);
  std::lock_guard<std::mutex> lock(state().mutex);
  if (!d.blas) {
    check_blas(cublasCreate(&d.blas), "cublasCreate");
    check_blas(cublasSetStream(d.blas, s), "cublasSetStream");
  }
  return d.blas;
}

class CudaBackend final : public Backend {
 public:
  int device_count() override {
    int n = 0;
    return cudaGetDeviceCount(&n) == cudaSuccess ? n : 0;  // no driver (error 35) or no GPU: none
  }
  int current_device() override {
    if (t_user_device < 0) check(cudaGetDevice(&t_user_device), "cudaGetDevice");
    return t_user_device;
  }
  void set_device(int device) override {
    set_current(device);
    t_user_device = device;
  }
  void synchronize(int device) override {
    refuse_while_capturing(device, "synchronize");
    set_current(device);
    const bool reading = queue_index_error_read(device);
    check(cudaDeviceSynchronize(), "synchronize");
    if (reading) raise_read_index_error(device);
  }
  const char* device_name(int device) override {
    DeviceState& d = device_state(device);
    std::lock_guard<std::mutex> lock(state().mutex);
    if (d.name.empty()) {
      cudaDeviceProp prop;
      check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
      d.name = prop.name;
    }
    return d.name.c_str();
  }

  DeviceProperties device_properties(int device) override {
    cudaDeviceProp prop;
    check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
    DeviceProperties out;
    std::strncpy(out.name, prop.name, sizeof out.name - 1);
    out.major = prop.major, out.minor = prop.minor, out.multi_processor_count = prop.multiProcessorCount;
    out.total_memory = prop.totalGlobalMem;
    return out;
  }

  void mem_get_info(int device, uint64_t* free_bytes, uint64_t* total_bytes) override {
    set_current(device);
    size_t free_now = 0, total = 0;
    check(cudaMemGetInfo(&free_now, &total), "cudaMemGetInfo");
    *free_bytes = free_now, *total_bytes = total;
  }

  bool can_access_peer(int device, int peer) override {
    int can = 0;
    check(cudaDeviceCanAccessPeer(&can, device, peer), "cudaDeviceCanAccessPeer");
    return can != 0;
  }

  void* event_create(int device, bool timing) override {
    set_current(device);
    cudaEvent_t event;
    check(cudaEventCreateWithFlags(&event, timing ? 0 : cudaEventDisableTiming), "cudaEventCreate");
    return event;
  }
  void event_destroy(void* event) override { check(cudaEventDestroy((cudaEvent_t)event), "cudaEventDestroy"); }
  void event_record(void* event, int device) override {
    check(cudaEventRecord((cudaEvent_t)event, stream_for(device)), "cudaEventRecord");
  }
  void event_synchronize(void* event) override {
    check(cudaEventSynchronize((cudaEvent_t)event), "cudaEventSynchronize");
    raise_index_error(-1);
  }
  bool event_query(void* event) override {
    const cudaError_t status = cudaEventQuery((cudaEvent_t)event);
    if (status == cudaErrorNotReady) {
      cudaGetLastError();  // not an error: the work before it is still running
      return false;
    }
    check(status, "cudaEventQuery");
    return true;
  }
  float event_elapsed_ms(void* start, void* end) override {
    float ms = 0;
    check(cudaEventElapsedTime(&ms, (cudaEvent_t)start, (cudaEvent_t)end), "cudaEventElapsedTime");
    return ms;
  }

  void* alloc(size_t nbytes, int device) override { return allocator().alloc(nbytes, device); }
  void free(void* p, size_t nbytes, int device) override { allocator().free(p, nbytes, device); }
  MemoryStats memory_stats(int device) override { return allocator().stats(device); }
  void reset_peak_memory_stats(int device) override { allocator().reset_peak(device); }
  void reset_accumulated_memory_stats(int device) override { allocator().reset_counts(device); }
  void set_memory_fraction(int device, double fraction) override {
    allocator().set_limit(device, fraction, (uint64_t)(fraction * (double)device_properties(device).total_memory));
  }
  double memory_fraction(int device) override { return allocator().fraction(device); }
  void empty_cache() override {
    int n = device_count();
    for (int device = 0; device < n && device < kMaxDevices; ++device) {
      if (!state().devices[device].stream) continue;  // never used
      check(cudaStreamSynchronize(stream_for(device)), "empty_cache");
      allocator().release(device);
    }
    pinned_pool().release_idle();
  }

  void copy_bytes(void* dst, int dst_device, const void* src, int src_device, size_t nbytes) override {
    const int device = dst_device >= 0 ? dst_device : src_device;
    cudaStream_t s = stream_for(device);
    cudaMemcpyKind kind = dst_device < 0   ? cudaMemcpyDeviceToHost
                          : src_device < 0 ? cudaMemcpyHostToDevice
                                           : cudaMemcpyDeviceToDevice;
    if (kind == cudaMemcpyDeviceToDevice && dst_device != src_device) {
      // Between devices: after both streams' earlier work, and before the source device's later work
      // (which may reuse the source's memory once the host frees it).
      cudaStream_t src_stream = stream_for(src_device);
      check(cudaStreamSynchronize(src_stream), "copy between devices");
      s = stream_for(dst_device);
      check(cudaMemcpyPeerAsync(dst, dst_device, src, src_device, nbytes, s), "cudaMemcpyPeerAsync");
      stream_wait_stream(src_stream, s, dst_device);
      return;
    }
    if (kind != cudaMemcpyDeviceToDevice) refuse_while_capturing(device, "copy to or from the host");
    check(cudaMemcpyAsync(dst, src, nbytes, kind, s), "cudaMemcpyAsync");
    // The host reads (or frees) its side next: wait for the copy.
    if (kind == cudaMemcpyDeviceToDevice) return;
    const bool reading = queue_index_error_read(device);  // covered by the same wait
    check(cudaStreamSynchronize(s), "copy to or from the host");
    if (reading) raise_read_index_error(device);
  }

  void* host_alloc(size_t nbytes) override { return pinned_pool().alloc(nbytes); }
  void host_free(void* p, size_t nbytes) override { pinned_pool().free(p, nbytes, streams_in_use()); }
  void copy_to_device_async(void* dst, int dst_device, const void* pinned_src, size_t nbytes) override {
    check(cudaMemcpyAsync(dst, pinned_src, nbytes, cudaMemcpyHostToDevice, stream_for(dst_device)),
          "cudaMemcpyAsync (non_blocking)");
  }

  void copy_to_device_staged(void* dst, int dst_device, const void* src, size_t nbytes) override {
    cuda::copy_to_device_staged(dst, src, nbytes, dst_device);
  }

  void copy(const TensorArg& dst, const TensorArg& src) override { cuda::copy(dst, src); }
  void check_fits_int64(const TensorArg& t) override { cuda::check_fits_int64(t); }
  void fill(const TensorArg& dst, double value) override { cuda::fill(dst, value); }
  void unary(int op, const TensorArg& out, const TensorArg& a) override { cuda::unary(op, out, a); }
  void binary(int op, const TensorArg& out, const TensorArg& a, const TensorArg& b) override {
    cuda::binary(op, out, a, b);
  }
  void where(const TensorArg& out, const TensorArg& cond, const TensorArg& a, const TensorArg& b) override {
    cuda::where(out, cond, a, b);
  }
  void clamp(const TensorArg& out, const TensorArg& a, const double* lo, const double* hi) override {
    cuda::clamp(out, a, lo, hi);
  }
  void reduce(int op, const TensorArg& out, const TensorArg& in, uint64_t mask) override {
    cuda::reduce(op, out, in, mask);
  }
  void gemm(const GemmArgs& g) override;
  void softmax(int kind, const TensorArg& out, const TensorArg& x, int64_t outer, int64_t n, int64_t inner) override {
    cuda::softmax(kind, out, x, outer, n, inner);
  }
  void softmax_backward(int kind, const TensorArg& gx, const TensorArg& g, const TensorArg& y, int64_t outer, int64_t n,
                        int64_t inner) override {
    cuda::softmax_backward(kind, gx, g, y, outer, n, inner);
  }
  void index_offsets(const TensorArg& offsets, const TensorArg& index, const IndexArgs& a) override {
    cuda::index_offsets(offsets, index, a);
  }
  void gather(const TensorArg& out, const TensorArg& src, const TensorArg& outer, const int64_t* inner,
              int64_t n_inner) override {
    cuda::gather(out, src, outer, inner, n_inner);
  }
  void scatter(const TensorArg& dst, const TensorArg& values, const TensorArg& outer, const int64_t* inner,
               int64_t n_inner, bool accumulate) override {
    cuda::scatter(dst, values, outer, inner, n_inner, accumulate);
  }
  void reduce_arg(bool is_max, const TensorArg& values, const TensorArg& indices, const TensorArg& in,
                  int dim) override {
    cuda::reduce_arg(is_max, values, indices, in, dim);
  }
  void nll_loss(const TensorArg& loss, const TensorArg& wt, const TensorArg& x, const TensorArg& target,
                const TensorArg* weight, int64_t ignore_index) override {
    cuda::nll_loss(loss, wt, x, target, weight, ignore_index);
  }
  void sgd(int device, int dtype, const SgdTensors* params, int64_t count) override {
    cuda::sgd(device, dtype, params, count);
  }
  void adam(int device, int dtype, const AdamTensors* params, int64_t count) override {
    cuda::adam(device, dtype, params, count);
  }
  void im2col(const TensorArg& cols, const TensorArg& x, const ConvArgs& g) override { cuda::im2col(cols, x, g); }
  void col2im(const TensorArg& x, const TensorArg& cols, const ConvArgs& g) override { cuda::col2im(x, cols, g); }
  void max_pool2d(const TensorArg& values, const TensorArg& indices, const TensorArg& x, const ConvArgs& g) override {
    cuda::max_pool2d(values, indices, x, g);
  }
  void max_pool2d_backward(const TensorArg& grad_in, const TensorArg& grad_out, const TensorArg& indices) override {
    cuda::max_pool2d_backward(grad_in, grad_out, indices);
  }
  void scan(int op, const TensorArg& out, const TensorArg* indices, const TensorArg& x, int64_t outer, int64_t n,
            int64_t inner) override {
    cuda::scan(op, out, indices, x, outer, n, inner);
  }
  void layer_norm(const TensorArg& out, const TensorArg& mean, const TensorArg& rstd, const TensorArg& x,
                  const TensorArg* weight, const TensorArg* bias, double eps) override {
    cuda::layer_norm(out, mean, rstd, x, weight, bias, eps);
  }
  void batch_norm(const TensorArg& out, const TensorArg& mean, const TensorArg& var, const TensorArg& invstd,
                  const TensorArg& x, const TensorArg* weight, const TensorArg* bias, double eps) override {
    cuda::batch_norm(out, mean, var, invstd, x, weight, bias, eps);
  }
  void batch_norm_backward(const TensorArg* gx, const TensorArg* gw, const TensorArg* gb, const TensorArg& g,
                           const TensorArg& x, const TensorArg& mean, const TensorArg& invstd,
                           const TensorArg* weight) override {
    cuda::batch_norm_backward(gx, gw, gb, g, x, mean, invstd, weight);
  }
  void layer_norm_backward(const TensorArg* gx, const TensorArg* gw, const TensorArg* gb, const TensorArg& g,
                           const TensorArg& x, const TensorArg& mean, const TensorArg& rstd,
                           const TensorArg* weight) override {
    cuda::layer_norm_backward(gx, gw, gb, g, x, mean, rstd, weight);
  }
  void sort_rows(const TensorArg& values, const TensorArg& indices, const TensorArg& x, bool descending) override {
    cuda::sort_rows(values, indices, x, descending);
  }
  void search_rows(const TensorArg& out, const TensorArg& sorted, const TensorArg& values, bool right) override {
    cuda::search_rows(out, sorted, values, right);
  }
  void scatter_reduce(int op, const TensorArg& dst, const TensorArg& values, const TensorArg& offsets,
                      bool include_self) override {
    cuda::scatter_reduce(op, dst, values, offsets, include_self);
  }
  void lstm_cell(const TensorArg& h, const TensorArg& c, const TensorArg& act, const TensorArg& tanh_c,
                 const TensorArg& gates, const TensorArg& c_prev) override {
    cuda::lstm_cell(h, c, act, tanh_c, gates, c_prev);
  }
  void lstm_cell_backward(const TensorArg& d_gates, const TensorArg& d_c_prev, const TensorArg* gh, const TensorArg* gc,
                          const TensorArg& act, const TensorArg& tanh_c, const TensorArg& c_prev) override {
    cuda::lstm_cell_backward(d_gates, d_c_prev, gh, gc, act, tanh_c, c_prev);
  }
  void uniform(const TensorArg& out, double lo, double hi, uint64_t seed, uint64_t offset, const void* graph) override {
    cuda::uniform(out, lo, hi, seed, offset, graph);
  }
  void normal(const TensorArg& out, double mean, double std, uint64_t seed, uint64_t offset,
              const void* graph) override {
    cuda::normal(out, mean, std, seed, offset, graph);
  }
  void randint(const TensorArg& out, int64_t low, uint64_t range, uint64_t seed, uint64_t offset,
               const void* graph) override {
    cuda::randint(out, low, range, seed, offset, graph);
  }

  void capture_begin(int device, uint64_t pool) override {
    DeviceState& d = device_state(device);
    if (d.capturing)
      throw std::runtime_error("CUDA graph capture: cuda:" + std::to_string(device) + " is capturing already");
    cudaStream_t s = stream_for(device);
    index_error_record(device);  // made (and zeroed) now: made inside, its zeroing would be part of the graph
    graph_rng(device);
    check(cudaStreamSynchronize(s), "CUDA graph capture");  // nothing of before runs during the capture
    allocator().set_capture_pool(device, pool);
    const cudaError_t status = cudaStreamBeginCapture(s, cudaStreamCaptureModeRelaxed);
    if (status != cudaSuccess) allocator().set_capture_pool(device, 0);
    check(status, "cudaStreamBeginCapture");
    std::lock_guard<std::mutex> lock(state().mutex);
    d.capture_failed = false;
    d.capturing = true;
  }
  void* capture_end(int device) override {
    DeviceState& d = device_state(device);
    if (!d.capturing)
      throw std::runtime_error("CUDA graph capture: cuda:" + std::to_string(device) + " is not capturing");
    cudaStream_t s = stream_for(device);
    auto* g = new CapturedGraph();
    g->device = device;
    bool failed;
    {
      std::lock_guard<std::mutex> lock(state().mutex);
      d.capturing = false;
      failed = d.capture_failed;
      g->staging.swap(d.capture_staging);
    }
    allocator().set_capture_pool(device, 0);
    cudaError_t status = cudaStreamEndCapture(s, &g->graph);
    if (status == cudaSuccess && failed) status = cudaErrorStreamCaptureInvalidated;
    if (status == cudaSuccess) status = cudaGraphInstantiate(&g->exec, g->graph, 0);
    if (status != cudaSuccess) {
      graph_destroy(g);
      check(status, "CUDA graph capture");
    }
    return g;
  }
  void graph_replay(void* graph) override {
    auto* g = static_cast<CapturedGraph*>(graph);
    check(cudaGraphLaunch(g->exec, stream_for(g->device)), "cudaGraphLaunch");
    device_state(g->device).index_kernels_queued.store(true);  // its index kernels may record an error
  }
  void graph_destroy(void* graph) override {
    auto* g = static_cast<CapturedGraph*>(graph);
    if (g->exec) cudaGraphExecDestroy(g->exec);  // no check: CUDA finishes a replay under way first
    if (g->graph) cudaGraphDestroy(g->graph);
    const std::vector<cudaStream_t> streams = streams_in_use();
    for (auto& [p, n] : g->staging) pinned_pool().free(p, n, streams);  // reused once the replays have run
    delete g;
  }
  bool capturing(int device) override { return device_state(device).capturing; }
  void* graph_rng(int device) override {
    DeviceState& d = device_state(device);
    std::lock_guard<std::mutex> lock(state().mutex);
    if (!d.graph_rng) {
      set_current(device);
      void* p = nullptr;
      check(cudaMalloc(&p, sizeof(GraphRng)), "cudaMalloc");
      d.graph_rng = static_cast<GraphRng*>(p);
    }
    return d.graph_rng;
  }
  void graph_replay_drawing(void* graph, uint64_t seed, uint64_t offset) override {
    const int device = static_cast<CapturedGraph*>(graph)->device;
    const GraphRng state{seed, offset};
    cuda::copy_to_device_staged(graph_rng(device), &state, sizeof state, device);  // queued before it: no wait
    graph_replay(graph);
  }
  void release_pool(int device, uint64_t pool) override { allocator().release_pool(device, pool); }
  void use_pool(int device, uint64_t pool) override { allocator().set_user_pool(device, pool); }
  int64_t memory_blocks(int device, MemoryBlock* out, int64_t capacity) override {
    return allocator().blocks(device, out, capacity);
  }
  void set_caching(bool enabled) override {
    allocator().set_caching(enabled);
    if (!enabled) empty_cache();  // and the blocks cached so far
  }
  HostMemoryStats host_memory_stats() override { return pinned_pool().stats(); }
  void reset_host_memory_stats(bool peaks) override { pinned_pool().reset_stats(peaks); }

  void* stream_handle(int device) override { return stream_for(device); }
  void* blas_handle(int device) override { return blas_for(device); }
  const char* error_string(int code) override { return cudaGetErrorString(static_cast<cudaError_t>(code)); }
  void stream_wait_event(void* stream, void* event) override {
    check(cudaStreamWaitEvent((cudaStream_t)stream, (cudaEvent_t)event, 0), "cudaStreamWaitEvent");
  }
  void stream_wait_stream(void* waiting, void* waited, int waited_device) override {
    if (waiting == waited) return;  // a stream is in order with itself
    set_current(waited_device);     // the event must be made on the device of the stream it is recorded on
    cudaEvent_t reached;
    check(cudaEventCreateWithFlags(&reached, cudaEventDisableTiming), "cudaEventCreate");
    check(cudaEventRecord(reached, (cudaStream_t)waited), "cudaEventRecord");
    check(cudaStreamWaitEvent((cudaStream_t)waiting, reached, 0), "cudaStreamWaitEvent");
    check(cudaEventDestroy(reached), "cudaEventDestroy");  // CUDA keeps it until the wait is done
  }
};

// float32 products in full FP32, as PyTorch's default (allow_tf32 False): cuBLAS's default math mode.
// float16/bfloat16 (autocast's products): cublasGemmEx with float accumulation, as PyTorch's default.
void gemm_half(cublasHandle_t h, const GemmArgs& g) {
  const cudaDataType_t type = g.dtype == kFloat16 ? CUDA_R_16F : CUDA_R_16BF;
  const float alpha = (float)g.alpha, beta = (float)g.beta;
  auto op = [](bool t) { return t ? CUBLAS_OP_T : CUBLAS_OP_N; };
  check_blas(
      cublasGemmStridedBatchedEx(h, op(g.trans_a), op(g.trans_b), (int)g.m, (int)g.n, (int)g.k, &alpha, g.a, type,
                                 (int)g.lda, g.stride_a, g.b, type, (int)g.ldb, g.stride_b, &beta, g.c, type,
                                 (int)g.ldc, g.stride_c, (int)g.batch, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
      "cublasGemmStridedBatchedEx");
}

void CudaBackend::gemm(const GemmArgs& g) {
  if (g.dtype != kFloat32 && g.dtype != kFloat64 && g.dtype != kFloat16 && g.dtype != kBFloat16)
    unsupported("matmul on " + dtype_label(g.dtype) + " tensors");
  cublasHandle_t h = blas_for(g.device);
  auto op = [](bool t) { return t ? CUBLAS_OP_T : CUBLAS_OP_N; };
  // cuBLAS takes 32-bit sizes: larger products are refused rather than wrapped.
  auto fits = [](int64_t v) { return v <= INT32_MAX; };
  if (!fits(g.m) || !fits(g.n) || !fits(g.k) || !fits(g.lda) || !fits(g.ldb) || !fits(g.ldc) || !fits(g.batch))
    unsupported("matmul with a side of 2**31 or more");
  if (g.dtype == kFloat16 || g.dtype == kBFloat16) {
    gemm_half(h, g);
  } else if (g.dtype == kFloat32) {
    float alpha = (float)g.alpha, beta = (float)g.beta;
    check_blas(cublasSgemmStridedBatched(h, op(g.trans_a), op(g.trans_b), (int)g.m, (int)g.n, (int)g.k, &alpha,
                                         static_cast<const float*>(g.a), (int)g.lda, g.stride_a,
                                         static_cast<const float*>(g.b), (int)g.ldb, g.stride_b, &beta,
                                         static_cast<float*>(g.c), (int)g.ldc, g.stride_c, (int)g.batch),
               "cublasSgemmStridedBatched");
  } else {
    double alpha = g.alpha, beta = g.beta;
    check_blas(cublasDgemmStridedBatched(h, op(g.trans_a), op(g.trans_b), (int)g.m, (int)g.n, (int)g.k, &alpha,
                                         static_cast<const double*>(g.a), (int)g.lda, g.stride_a,
                                         static_cast<const double*>(g.b), (int)g.ldb, g.stride_b, &beta,
                                         static_cast<double*>(g.c), (int)g.ldc, g.stride_c, (int)g.batch),
               "cublasDgemmStridedBatched");
  }
}

}  // namespace

cudaStream_t stream_for(int device) {
  DeviceState& d = device_state(device);
  set_current(device);
  if (!d.stream) {
    std::lock_guard<std::mutex> lock(state().mutex);
    if (!d.stream) check(cudaStreamCreateWithFlags(&d.stream, cudaStreamNonBlocking), "cudaStreamCreate");
  }
  return d.stream;
}

// Note [Deferred index errors]
IndexErrorRecord* index_error_record(int device) {
  DeviceState& d = device_state(device);
  if (IndexErrorRecord* made = d.index_errors.load(std::memory_order_acquire)) return made;  // every launch but one
  cudaStream_t s = stream_for(device);
  std::lock_guard<std::mutex> lock(state().mutex);
  if (!d.index_errors) {  // made once per device, never freed (as the stream)
    void* p = nullptr;
    void* host = nullptr;
    check(cudaMalloc(&p, sizeof(IndexErrorRecord)), "cudaMalloc");
    check(cudaHostAlloc(&host, sizeof(IndexErrorRecord), cudaHostAllocDefault), "cudaHostAlloc");
    check(cudaMemsetAsync(p, 0, sizeof(IndexErrorRecord), s), "cudaMemsetAsync");
    d.index_errors_read = static_cast<IndexErrorRecord*>(host);
    d.index_errors = static_cast<IndexErrorRecord*>(p);
  }
  return d.index_errors;
}

static bool launch_blocking() {
  static const bool blocking = [] {
    const char* v = std::getenv("CUDA_LAUNCH_BLOCKING");
    return v && std::string(v) == "1";
  }();
  return blocking;
}

void index_kernel_launched(int device) {
  device_state(device).index_kernels_queued.store(true);
  if (!launch_blocking()) return;
  check(cudaStreamSynchronize(stream_for(device)), "CUDA_LAUNCH_BLOCKING");
  raise_index_error(device);
}

bool queue_index_error_read(int device) {
  DeviceState& d = device_state(device);
  if (!d.index_kernels_queued.exchange(false)) return false;  // (the record exists once a kernel was queued)
  check(cudaMemcpyAsync(d.index_errors_read, d.index_errors, sizeof(IndexErrorRecord), cudaMemcpyDeviceToHost,
                        stream_for(device)),
        "reading index errors");
  return true;
}

void raise_read_index_error(int device) {
  DeviceState& d = device_state(device);
  const IndexErrorRecord r = *d.index_errors_read;
  if (!r.set) return;
  d.index_errors_read->set = 0;
  check(cudaMemsetAsync(d.index_errors, 0, sizeof r, stream_for(device)), "cudaMemsetAsync");
  std::string text = index_error_text(r.kind, r.value, r.dim, r.size);
  if (!launch_blocking())
    text += " (found on cuda:" + std::to_string(device) +
            " by a kernel queued earlier; CUDA_LAUNCH_BLOCKING=1 raises it at its call)";
  if (r.kind == kIndexAlongDim || r.kind == kUInt64TooLarge) throw std::runtime_error(text);
  throw std::out_of_range(text);
}

void raise_index_error(int device) {
  if (device < 0) {
    for (int i = 0; i < kMaxDevices; ++i) raise_index_error(i);
    return;
  }
  if (device_state(device).capturing) return;  // read at the first wait after the capture
  if (!queue_index_error_read(device)) return;
  check(cudaStreamSynchronize(stream_for(device)), "reading index errors");
  raise_read_index_error(device);
}

void copy_to_device_staged(void* dst, const void* src, size_t n, int device) {
  if (n == 0) return;
  void* staging = pinned_pool().alloc(n);
  std::memcpy(staging, src, n);
  check(cudaMemcpyAsync(dst, staging, n, cudaMemcpyHostToDevice, stream_for(device)), "cudaMemcpyAsync (staged)");
  DeviceState& d = device_state(device);
  if (d.capturing) {  // the graph reads the block at every replay: it keeps it
    std::lock_guard<std::mutex> lock(state().mutex);
    d.capture_staging.emplace_back(staging, n);
    return;
  }
  pinned_pool().free(staging, n, streams_in_use());  // handed out again once the copy has run
}

Scratch::Scratch(size_t n, int dev) : nbytes(n), device(dev) { data = ember_cuda_backend()->alloc(n, dev); }
Scratch::~Scratch() { ember_cuda_backend()->free(data, nbytes, device); }

}  // namespace cuda
}  // namespace ember

extern "C" __attribute__((visibility("default"))) ember::cuda::Backend* ember_cuda_backend() {
  static ember::cuda::CudaBackend* backend = new ember::cuda::CudaBackend();
  return backend;
}
