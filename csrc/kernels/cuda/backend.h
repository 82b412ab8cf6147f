#pragma once
// Note [CUDA backend]
// The CUDA kernels live in a library of their own, libember_cuda.so, which
// ember._C loads with dlopen at the first CUDA tensor (core/cuda.cpp), never
// at import: a CPU user of a CUDA build pays neither its load time nor
// cuBLAS's memory. The two sides share only this header: plain structs and
// one abstract class whose instance the library returns from
// ember_cuda_backend(). Nothing of _C is linked into the library, so its
// kernels see tensors as TensorArg (pointer, dtype, sizes, strides) and report
// failures as exceptions of the standard library, which core/cuda.cpp turns
// into ember's: std::invalid_argument for an op or dtype the backend has no
// kernel for (NotImplementedError), std::runtime_error for a CUDA or cuBLAS
// status (RuntimeError with CUDA's own words). The op layer stays the same on
// both devices: each kernel entry of kernels/cpu/ hands a CUDA output to this
// backend (the one dispatch point by device), and backward formulas are ember
// ops, so they run on the device of their inputs.
#include <cstddef>
#include <cstdint>
#include <string>

namespace ember {
namespace cuda {

constexpr int kBackendVersion = 6;  // bumped whenever Backend, TensorArg or a step's table change
constexpr int kMaxDims = 16;
constexpr int kMaxDevices = 64;  // the device indices the per-device state (backend, allocator, generator) holds

// A strided tensor as a kernel sees it; strides count elements. A 0-d CPU
// tensor beside CUDA ones (a Python number, as PyTorch allows) comes by value:
// host_scalar set, `scalar` its value, no data.
struct TensorArg {
  char* data = nullptr;  // the first element
  bool host_scalar = false;
  double scalar = 0;
  int64_t int_scalar = 0;  // the same value exactly, read by integer kernels (int64 past 2^53)
  int dtype = 0;           // ember::DType's number
  int device = 0;
  int ndim = 0;
  int64_t sizes[kMaxDims] = {};
  int64_t strides[kMaxDims] = {};
};

struct DeviceProperties {
  char name[256] = {};
  int major = 0, minor = 0, multi_processor_count = 0;
  uint64_t total_memory = 0;
};

struct MemoryStats {
  uint64_t allocated = 0, max_allocated = 0, reserved = 0, max_reserved = 0;
  uint64_t allocations = 0, cache_hits = 0;
};
// One block of the caching allocator, for memory_snapshot: ember never splits a block, so each is its own segment.
struct MemoryBlock {
  uint64_t address = 0, size = 0, requested = 0;  // requested: the bytes asked for (0 for a cached block)
  uint64_t pool = 0;                              // the private pool it belongs to (0: the cache)
  bool active = false;                            // handed out, else cached
};
// A counter of the pinned host allocator, as PyTorch's host_memory_stats keeps them.
struct HostStat {
  int64_t current = 0, peak = 0, allocated = 0, freed = 0;
};
struct HostMemoryStats {
  HostStat allocations, allocated_bytes, active_requests, active_bytes;  // blocks held, blocks handed out
  double alloc_us_total = 0, alloc_us_max = 0, alloc_us_min = 0, free_us_total = 0, free_us_max = 0, free_us_min = 0;
  int64_t alloc_count = 0, free_count = 0;  // cudaHostAlloc and cudaFreeHost calls
};

// C = alpha * op(A) @ op(B) + beta * C, column-major as cuBLAS reads it, for
// `batch` matrices `stride_*` elements apart (0: the same matrix for all).
struct GemmArgs {
  int dtype = 0, device = 0;
  bool trans_a = false, trans_b = false;
  int64_t m = 0, n = 0, k = 0, batch = 1;
  const void* a = nullptr;
  int64_t lda = 0, stride_a = 0;
  const void* b = nullptr;
  int64_t ldb = 0, stride_b = 0;
  void* c = nullptr;
  int64_t ldc = 0, stride_c = 0;
  double alpha = 1.0, beta = 0.0;
};

// The scalars of the fused optimizer steps (kernels/cpu/optim.h).
struct SgdArgs {
  double lr = 0, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false, maximize = false, first = false;  // first: the momentum buffer is new
};
struct AdamArgs {
  double lr = 0, beta1 = 0, beta2 = 0, eps = 0, weight_decay = 0, bias_correction1 = 1, bias_correction2_sqrt = 1;
  bool maximize = false, decoupled_weight_decay = false;
};

// One parameter of a multi-tensor step (Note [Multi-tensor steps]): its contiguous tensors, element count
// and scalars; buf, vmax null when not used.
struct SgdTensors {
  void* p = nullptr;
  const void* g = nullptr;
  void* buf = nullptr;
  int64_t n = 0;
  SgdArgs s;
};
struct AdamTensors {
  void* p = nullptr;
  const void* g = nullptr;
  void *m = nullptr, *v = nullptr, *vmax = nullptr;
  int64_t n = 0;
  AdamArgs s;
  float* step = nullptr;     // Note [Capturable steps]: the count on the device (s's bias corrections unused)
  const void* lr = nullptr;  // a learning rate on the device (float32 or float64, lr_dtype), else s.lr
  int lr_dtype = 0;
};

// A convolution's or pooling's window geometry (kernels/cpu/conv.h's Conv2dGeometry).
struct ConvArgs {
  int64_t channels = 0, height = 0, width = 0;
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;
  int64_t out_h = 0, out_w = 0;
};

// Note [Deferred index errors]
// Index kernels (advanced indexing, index_select, gather, scatter, nll_loss's
// targets, and the check of uint64 values widened to int64) check their indices on the device, so a call does not wait
// for the GPU to read them on the host. A kernel that meets an index out of range skips that element (no access out of
// bounds) and records the first such index in its device's error record; the backend raises it at the device's next
// wait (.item(), .cpu(), synchronize, a copy to the host), as PyTorch's device-side assertions surface, but with the
// CPU's words and exception type. CUDA_LAUNCH_BLOCKING=1 makes each such kernel wait and raise at its own call.
enum IndexErrorKind {
  kIndexWrapping,   // x[i]: -size <= i < size (IndexError)
  kIndexAlongDim,   // gather/scatter: 0 <= i < size (RuntimeError)
  kIndexSelect,     // index_select/embedding: 0 <= i < size (IndexError)
  kIndexCopy,       // index_copy: 0 <= i < size (IndexError, its own prefix); index_add uses kIndexAlongDim
  kNllTarget,       // nll_loss: 0 <= target < classes (IndexError)
  kUInt64TooLarge,  // a uint64 value from 2**63 up where ember computes in int64 (RuntimeError; Note [Storage dtypes])
};
// An index error's words, the same on both devices.
inline std::string index_error_text(int kind, long long value, long long dim, long long size) {
  const std::string bounds =
      " is out of bounds for dimension " + std::to_string(dim) + " with size " + std::to_string(size);
  if (kind == kNllTarget)
    return "nll_loss: Target " + std::to_string(value) + " is out of bounds (" + std::to_string(size) + " classes).";
  if (kind == kUInt64TooLarge)
    return "ember computes uint64 tensors in int64, which cannot hold this op's value of 2**63 or more; copies, views "
           "and conversions (to(), float(), ...) keep such values exactly";
  const char* prefix = kind == kIndexSelect ? "index_select(): index "
                       : kind == kIndexCopy ? "index_copy_(): index "
                                            : "index ";
  return prefix + std::to_string(value) + bounds;
}

// offsets[i] = (add ? offsets[i] : the offset of place i of `offsets`' shape under place_strides) +
// v * stride, v = index[i] wrapped when negative and `wrap` (kIndexWrapping). index and offsets are
// contiguous int64 of one shape; an index out of range adds nothing (Note [Deferred index errors]).
struct IndexArgs {
  int64_t size = 0, stride = 0, dim = 0;
  int kind = kIndexWrapping;
  bool add = false;
  int64_t place_strides[kMaxDims] = {};
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual int version() const { return kBackendVersion; }

  // Devices: these take the driver's answer (0 devices without a driver).
  virtual int device_count() = 0;
  virtual int current_device() = 0;
  virtual void set_device(int device) = 0;
  virtual void synchronize(int device) = 0;
  virtual const char* device_name(int device) = 0;
  virtual DeviceProperties device_properties(int device) = 0;
  virtual void mem_get_info(int device, uint64_t* free_bytes, uint64_t* total_bytes) = 0;
  virtual bool can_access_peer(int device, int peer) = 0;
  // Events (ember.cuda.Event) on a device's one stream; elapsed_ms needs events made with timing.
  virtual void* event_create(int device, bool timing) = 0;
  virtual void event_destroy(void* event) = 0;
  virtual void event_record(void* event, int device) = 0;
  virtual void event_synchronize(void* event) = 0;
  virtual bool event_query(void* event) = 0;
  virtual float event_elapsed_ms(void* start, void* end) = 0;

  // The caching allocator (Note [CUDA caching allocator]).
  virtual void* alloc(size_t nbytes, int device) = 0;
  virtual void free(void* p, size_t nbytes, int device) = 0;
  virtual MemoryStats memory_stats(int device) = 0;
  virtual void reset_peak_memory_stats(int device) = 0;
  virtual void reset_accumulated_memory_stats(int device) = 0;  // the counts (allocations, cache hits)
  // set_per_process_memory_fraction: the allocator holds at most fraction * the device's memory.
  virtual void set_memory_fraction(int device, double fraction) = 0;
  virtual double memory_fraction(int device) = 0;
  virtual void empty_cache() = 0;

  // Bytes between host (device -1) and devices; a copy to the host waits for it.
  virtual void copy_bytes(void* dst, int dst_device, const void* src, int src_device, size_t nbytes) = 0;
  // Note [Pinned memory]: page-locked host memory, cached; a freed block is handed out again only
  // once the copies queued from it have run. A copy from it to a device may return at once.
  virtual void* host_alloc(size_t nbytes) = 0;
  virtual void host_free(void* p, size_t nbytes) = 0;
  virtual void copy_to_device_async(void* dst, int dst_device, const void* pinned_src, size_t nbytes) = 0;
  // Note [Staged host copies]: pageable host bytes copied into a pinned block at once, the rest queued.
  virtual void copy_to_device_staged(void* dst, int dst_device, const void* src, size_t nbytes) = 0;

  // Kernels: `out` first, shapes as kernels/cpu/elementwise.h says.
  virtual void copy(const TensorArg& dst, const TensorArg& src) = 0;  // converts dtype; src broadcast
  virtual void fill(const TensorArg& dst, double value) = 0;
  virtual void unary(int op, const TensorArg& out, const TensorArg& a) = 0;  // kernels::UnaryOp
  virtual void binary(int op, const TensorArg& out, const TensorArg& a, const TensorArg& b) = 0;
  virtual void where(const TensorArg& out, const TensorArg& cond, const TensorArg& a, const TensorArg& b) = 0;
  virtual void clamp(const TensorArg& out, const TensorArg& a, const double* lo, const double* hi) = 0;
  // out: in's shape with size 1 at the dims of `mask` (kernels::ReduceOp)
  virtual void reduce(int op, const TensorArg& out, const TensorArg& in, uint64_t mask) = 0;
  virtual void gemm(const GemmArgs& g) = 0;
  // (outer, n, inner) layout as kernels/cpu/softmax.h; kind: kernels::SoftmaxKind
  virtual void softmax(int kind, const TensorArg& out, const TensorArg& x, int64_t outer, int64_t n, int64_t inner) = 0;
  virtual void softmax_backward(int kind, const TensorArg& gx, const TensorArg& g, const TensorArg& y, int64_t outer,
                                int64_t n, int64_t inner) = 0;
  // Indexing by element offsets (kernels/cpu/index.h), `outer` on the device (int64, contiguous) and
  // `inner` (the offsets of the elements each index addresses) from the host:
  // out[i * n_inner + r] = src[outer[i] + inner[r]]; scatter writes (or adds) the other way.
  virtual void index_offsets(const TensorArg& offsets, const TensorArg& index, const IndexArgs& a) = 0;
  // A uint64 tensor an int64 computation reads (any strides; or its int64 widened copy): an element from
  // 2**63 up is recorded as kUInt64TooLarge, raised at the next wait as the CPU raises it at once
  // (Note [Deferred index errors]).
  virtual void check_fits_int64(const TensorArg& t) = 0;
  virtual void gather(const TensorArg& out, const TensorArg& src, const TensorArg& outer, const int64_t* inner,
                      int64_t n_inner) = 0;
  virtual void scatter(const TensorArg& dst, const TensorArg& values, const TensorArg& outer, const int64_t* inner,
                       int64_t n_inner, bool accumulate) = 0;
  // values, indices: in's shape with size 1 at `dim`; the first extreme wins, NaN counts as one
  virtual void reduce_arg(bool is_max, const TensorArg& values, const TensorArg& indices, const TensorArg& in,
                          int dim) = 0;
  // kernels/cpu/loss.h's nll_loss_forward; weight may be null. An out-of-range target raises
  // std::out_of_range (IndexError) at the next wait (Note [Deferred index errors]).
  virtual void nll_loss(const TensorArg& loss, const TensorArg& wt, const TensorArg& x, const TensorArg& target,
                        const TensorArg* weight, int64_t ignore_index) = 0;
  // Note [Multi-tensor steps]: the fused step of `count` parameters of one float dtype on one device, in
  // one launch (PyTorch's foreach implementations launch about as few).
  virtual void sgd(int device, int dtype, const SgdTensors* params, int64_t count) = 0;
  virtual void adam(int device, int dtype, const AdamTensors* params, int64_t count) = 0;
  // Convolution patches and pooling (kernels/cpu/conv.h): x (N, C, H, W) contiguous; cols
  // (N, C*kh*kw, out_h*out_w) with any strides; col2im zeroes x and sums into it.
  virtual void im2col(const TensorArg& cols, const TensorArg& x, const ConvArgs& g) = 0;
  virtual void col2im(const TensorArg& x, const TensorArg& cols, const ConvArgs& g) = 0;
  virtual void max_pool2d(const TensorArg& values, const TensorArg& indices, const TensorArg& x, const ConvArgs& g) = 0;
  // grad_in (N, C, H, W) zeroed, then each output's gradient added at its index
  virtual void max_pool2d_backward(const TensorArg& grad_in, const TensorArg& grad_out, const TensorArg& indices) = 0;
  // Inclusive scans (kernels/cpu/scan.h's ScanOp) along the middle dim of (outer, n, inner)
  // contiguous x and out; indices (int64) for max/min only, else null.
  virtual void scan(int op, const TensorArg& out, const TensorArg* indices, const TensorArg& x, int64_t outer,
                    int64_t n, int64_t inner) = 0;
  // Philox 4x32-10 counter-based numbers: the stream (seed, offset) decides every element.
  // kernels/cpu/layer_norm.h's forward: x (rows, cols) contiguous; weight, bias (cols) or null
  virtual void layer_norm(const TensorArg& out, const TensorArg& mean, const TensorArg& rstd, const TensorArg& x,
                          const TensorArg* weight, const TensorArg* bias, double eps) = 0;
  // kernels/cpu/batch_norm.h's training forward: x (N, C, S) contiguous; weight, bias (C) or null
  virtual void batch_norm(const TensorArg& out, const TensorArg& mean, const TensorArg& var, const TensorArg& invstd,
                          const TensorArg& x, const TensorArg* weight, const TensorArg* bias, double eps) = 0;
  // kernels/cpu/batch_norm.h's backward; gx, gw, gb null when not wanted
  virtual void batch_norm_backward(const TensorArg* gx, const TensorArg* gw, const TensorArg* gb, const TensorArg& g,
                                   const TensorArg& x, const TensorArg& mean, const TensorArg& invstd,
                                   const TensorArg* weight) = 0;
  // kernels/cpu/layer_norm.h's backward; gx, gw, gb null when not wanted
  virtual void layer_norm_backward(const TensorArg* gx, const TensorArg* gw, const TensorArg* gb, const TensorArg& g,
                                   const TensorArg& x, const TensorArg& mean, const TensorArg& rstd,
                                   const TensorArg* weight) = 0;
  // x: (rows, n) contiguous -> values and int64 indices, each row sorted stably (kernels/cpu/sort.h)
  virtual void sort_rows(const TensorArg& values, const TensorArg& indices, const TensorArg& x, bool descending) = 0;
  // searchsorted/bucketize: kernels/cpu/sort.h's search_rows
  virtual void search_rows(const TensorArg& out, const TensorArg& sorted, const TensorArg& values, bool right) = 0;
  // ops/scatter.cpp's scatter_reduce at element offsets (op: sum, prod, mean, amax, amin)
  virtual void scatter_reduce(int op, const TensorArg& dst, const TensorArg& values, const TensorArg& offsets,
                              bool include_self) = 0;
  // kernels/cpu/rnn.h's fused LSTM cell and its backward; gh and gc may be null (zero)
  virtual void lstm_cell(const TensorArg& h, const TensorArg& c, const TensorArg& act, const TensorArg& tanh_c,
                         const TensorArg& gates, const TensorArg& c_prev) = 0;
  virtual void lstm_cell_backward(const TensorArg& d_gates, const TensorArg& d_c_prev, const TensorArg* gh,
                                  const TensorArg* gc, const TensorArg& act, const TensorArg& tanh_c,
                                  const TensorArg& c_prev) = 0;
  // `graph`: null, or graph_rng(device) while it captures (Note [CUDA graph random numbers]): the kernels then
  // take the seed and the offsets' start from it at each replay, `offset` counting from there.
  virtual void uniform(const TensorArg& out, double lo, double hi, uint64_t seed, uint64_t offset,
                       const void* graph) = 0;
  virtual void normal(const TensorArg& out, double mean, double std, uint64_t seed, uint64_t offset,
                      const void* graph) = 0;
  // integers in [low, low + range), any dtype
  virtual void randint(const TensorArg& out, int64_t low, uint64_t range, uint64_t seed, uint64_t offset,
                       const void* graph) = 0;

  // Interop (ember.cuda's stream_handle, ExternalStream, current_blas_handle, CudaError): the device's
  // stream and cuBLAS handle as CUDA's own types; CUDA's words for a status code.
  virtual void* stream_handle(int device) = 0;
  virtual void* blas_handle(int device) = 0;
  virtual const char* error_string(int code) = 0;
  // Work queued on `stream` after this runs after the work queued before `event`'s record (no host wait).
  virtual void stream_wait_event(void* stream, void* event) = 0;
  // Work queued on `waiting` after this runs after the work queued on `waited` (of `waited_device`) so far.
  virtual void stream_wait_stream(void* waiting, void* waited, int waited_device) = 0;

  // CUDA graphs (ember.cuda.CUDAGraph): the device's stream is captured from capture_begin to capture_end,
  // which returns the graph, instantiated; its allocations come from the private `pool`
  // (Note [CUDA graph pools]). A wait for the device while it captures raises, and capture_end then too.
  virtual void capture_begin(int device, uint64_t pool) = 0;
  virtual void* capture_end(int device) = 0;
  virtual void graph_replay(void* graph) = 0;
  virtual void graph_destroy(void* graph) = 0;
  virtual bool capturing(int device) = 0;
  virtual void release_pool(int device, uint64_t pool) = 0;
  // Note [CUDA graph random numbers]: the device's GraphRng (device memory, made when a capture begins), and
  // the replay of a graph that draws: the generator's state (seed, offset) is copied there, then the graph.
  virtual void* graph_rng(int device) = 0;
  virtual void graph_replay_drawing(void* graph, uint64_t seed, uint64_t offset) = 0;

  // ember.cuda.MemPool: use_mem_pool routes the device's allocations to `pool` (0: the cache again).
  virtual void use_pool(int device, uint64_t pool) = 0;
  // memory_snapshot: the device's blocks (up to `capacity` written; returns how many there are).
  virtual int64_t memory_blocks(int device, MemoryBlock* out, int64_t capacity) = 0;
  // caching_allocator_enable: freed blocks kept for reuse (true) or given back to CUDA at once.
  virtual void set_caching(bool enabled) = 0;
  // host_memory_stats, and their resets (peaks: the peaks to the current values; else the accumulated counts).
  virtual HostMemoryStats host_memory_stats() = 0;
  virtual void reset_host_memory_stats(bool peaks) = 0;
};

}  // namespace cuda
}  // namespace ember

// The library's one exported symbol.
extern "C" ember::cuda::Backend* ember_cuda_backend();
