// libember_cuda.so's Backend (Note [CUDA backend]): devices and their streams,
// the caching allocator, host <-> device copies, cuBLAS products, and the
// forwarding of kernel calls to elementwise.cu, reduce.cu and random.cu.
#include <cublas_v2.h>

#include <algorithm>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace ember {
namespace cuda {
namespace {

constexpr int kMaxDevices = 64;

void set_current(int device) { check(cudaSetDevice(device), "cudaSetDevice"); }

// Note [CUDA caching allocator]
// cudaMalloc and cudaFree synchronise the device and cost tens of
// microseconds; a training step would pay them for every op. Freed blocks are
// kept on a free list per (device, rounded size) and handed out again. Every
// kernel of a device runs on that device's one stream, in order, so a block
// freed by the host can be handed to the next kernel at once: the kernel that
// last used it runs first (stream order). When cudaMalloc fails, the cache is
// released and the allocation tried again, before PyTorch's "CUDA out of
// memory" error. Sizes round up to 512 bytes below 1 MiB, to 2 MiB above, so
// that slightly different sizes share blocks.
size_t rounded(size_t n) {
  const size_t small = 512, large = size_t(2) << 20;
  return n < (size_t(1) << 20) ? (n + small - 1) / small * small : (n + large - 1) / large * large;
}

struct DeviceState {
  std::unordered_map<size_t, std::vector<void*>> free_lists;
  MemoryStats stats;
  cudaStream_t stream = nullptr;
  cublasHandle_t blas = nullptr;
  std::string name;
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

void release_cached(int device) {
  DeviceState& d = device_state(device);
  set_current(device);
  for (auto& [size, blocks] : d.free_lists) {
    for (void* p : blocks) cudaFree(p);
    d.stats.reserved -= size * blocks.size();
  }
  d.free_lists.clear();
}

std::string mib(uint64_t bytes) { return std::to_string(bytes / (1024.0 * 1024.0)).substr(0, 8) + " MiB"; }

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
    int d = 0;
    check(cudaGetDevice(&d), "cudaGetDevice");
    return d;
  }
  void set_device(int device) override { set_current(device); }
  void synchronize(int device) override {
    set_current(device);
    check(cudaDeviceSynchronize(), "synchronize");
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

  void* alloc(size_t nbytes, int device) override {
    size_t size = rounded(nbytes);
    DeviceState& d = device_state(device);
    {
      std::lock_guard<std::mutex> lock(state().mutex);
      auto it = d.free_lists.find(size);
      if (it != d.free_lists.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        note_allocated(d, size);
        d.stats.cache_hits++;
        return p;
      }
    }
    set_current(device);
    void* p = nullptr;
    cudaError_t status = cudaMalloc(&p, size);
    if (status == cudaErrorMemoryAllocation) {
      cudaGetLastError();  // clear it
      std::lock_guard<std::mutex> lock(state().mutex);
      release_cached(device);
      status = cudaMalloc(&p, size);
    }
    if (status == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      size_t free_bytes = 0, total = 0;
      cudaMemGetInfo(&free_bytes, &total);
      throw std::runtime_error("CUDA out of memory. Tried to allocate " + mib(size) + ". GPU " +
                               std::to_string(device) + " has a total capacity of " + mib(total) + " of which " +
                               mib(free_bytes) + " is free. Of the allocated memory " + mib(d.stats.allocated) +
                               " is allocated by ember.");
    }
    check(status, "cudaMalloc");
    std::lock_guard<std::mutex> lock(state().mutex);
    d.stats.reserved += size;
    d.stats.max_reserved = std::max(d.stats.max_reserved, d.stats.reserved);
    note_allocated(d, size);
    return p;
  }
  void free(void* p, size_t nbytes, int device) override {
    size_t size = rounded(nbytes);
    DeviceState& d = device_state(device);
    std::lock_guard<std::mutex> lock(state().mutex);
    d.free_lists[size].push_back(p);
    d.stats.allocated -= size;
  }
  MemoryStats memory_stats(int device) override {
    std::lock_guard<std::mutex> lock(state().mutex);
    return device_state(device).stats;
  }
  void reset_peak_memory_stats(int device) override {
    std::lock_guard<std::mutex> lock(state().mutex);
    MemoryStats& s = device_state(device).stats;
    s.max_allocated = s.allocated;
    s.max_reserved = s.reserved;
  }
  void empty_cache() override {
    int n = device_count();
    for (int device = 0; device < n && device < kMaxDevices; ++device) {
      if (!state().devices[device].stream) continue;  // never used
      check(cudaStreamSynchronize(stream_for(device)), "empty_cache");
      std::lock_guard<std::mutex> lock(state().mutex);
      release_cached(device);
    }
  }

  void copy_bytes(void* dst, int dst_device, const void* src, int src_device, size_t nbytes) override {
    const int device = dst_device >= 0 ? dst_device : src_device;
    cudaStream_t s = stream_for(device);
    cudaMemcpyKind kind = dst_device < 0   ? cudaMemcpyDeviceToHost
                          : src_device < 0 ? cudaMemcpyHostToDevice
                                           : cudaMemcpyDeviceToDevice;
    if (kind == cudaMemcpyDeviceToDevice && dst_device != src_device) {
      // Between devices: after both streams' earlier work.
      check(cudaStreamSynchronize(stream_for(src_device)), "copy between devices");
      check(cudaMemcpyPeerAsync(dst, dst_device, src, src_device, nbytes, s), "cudaMemcpyPeerAsync");
      return;
    }
    check(cudaMemcpyAsync(dst, src, nbytes, kind, s), "cudaMemcpyAsync");
    // The host reads (or frees) its side next: wait for the copy.
    if (kind != cudaMemcpyDeviceToDevice) check(cudaStreamSynchronize(s), "copy to or from the host");
  }

  void copy(const TensorArg& dst, const TensorArg& src) override { cuda::copy(dst, src); }
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
  void uniform(const TensorArg& out, double lo, double hi, uint64_t seed, uint64_t offset) override {
    cuda::uniform(out, lo, hi, seed, offset);
  }
  void normal(const TensorArg& out, double mean, double std, uint64_t seed, uint64_t offset) override {
    cuda::normal(out, mean, std, seed, offset);
  }

 private:
  static void note_allocated(DeviceState& d, size_t size) {
    d.stats.allocated += size;
    d.stats.allocations++;
    d.stats.max_allocated = std::max(d.stats.max_allocated, d.stats.allocated);
  }
};

// float32 products in full FP32, as PyTorch's default (allow_tf32 False): cuBLAS's default math mode.
void CudaBackend::gemm(const GemmArgs& g) {
  if (g.dtype != kFloat32 && g.dtype != kFloat64) unsupported("matmul of this dtype");
  cublasHandle_t h = blas_for(g.device);
  auto op = [](bool t) { return t ? CUBLAS_OP_T : CUBLAS_OP_N; };
  // cuBLAS takes 32-bit sizes: larger products are refused rather than wrapped.
  auto fits = [](int64_t v) { return v <= INT32_MAX; };
  if (!fits(g.m) || !fits(g.n) || !fits(g.k) || !fits(g.lda) || !fits(g.ldb) || !fits(g.ldc) || !fits(g.batch))
    unsupported("matmul with a side of 2**31 or more");
  if (g.dtype == kFloat32) {
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

Scratch::Scratch(size_t n, int dev) : nbytes(n), device(dev) { data = ember_cuda_backend()->alloc(n, dev); }
Scratch::~Scratch() { ember_cuda_backend()->free(data, nbytes, device); }

}  // namespace cuda
}  // namespace ember

extern "C" __attribute__((visibility("default"))) ember::cuda::Backend* ember_cuda_backend() {
  static ember::cuda::CudaBackend* backend = new ember::cuda::CudaBackend();
  return backend;
}
