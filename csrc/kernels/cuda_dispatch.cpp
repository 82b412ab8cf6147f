// Kernels of CUDA tensors, handed to libember_cuda.so (Note [CUDA backend]).
#include "kernels/cuda_dispatch.h"

#include <atomic>

#include "core/cuda.h"
#include "kernels/cpu/widen.h"

namespace ember {
namespace kernels {
Tensor host_copy(const Tensor& t) {
  if (!t || t->device().is_cpu()) return t;
  Tensor h = empty(t->sizes(), t->dtype(), Device{});
  copy(h, t);
  return h;
}

namespace cuda_dispatch {
namespace {

cuda::Backend& backend() { return cuda_backend(); }

// A contiguous copy of `t` on its own device, in its own dtype (itself when it already is one).
Tensor dense(const Tensor& t) {
  if (t->is_contiguous()) return t;
  Tensor out = empty(t->sizes(), t->dtype(), t->device());
  kernels::copy(out, t);  // the CPU kernel for a CPU tensor, this file's for a CUDA one
  return out;
}

thread_local bool t_non_blocking = false;

// An input a kernel computes with. uint64 computes in int64 (Note [Storage dtypes]), which cannot hold
// values from 2**63 up: the CPU raises at once, a GPU at its next wait (the values are on the device).
cuda::TensorArg input_arg(const Tensor& t) {
  cuda::TensorArg a = cuda_arg(t);
  if (t->dtype() == DType::UInt64 && !a.host_scalar) backend().check_fits_int64(a);
  return a;
}

// An input a kernel reads as an array, on out's device: a CPU tensor here (even a 0-d one, which
// elementwise kernels take as a number) is a bug of ember's, an internal error rather than a crash.
cuda::TensorArg array_arg(const Tensor& t, const Tensor& out) {
  EMBER_ASSERT(t->device() == out->device());
  return input_arg(t);
}

// An optional tensor's argument, on the device of `like` (PyTorch's mixed-device error otherwise);
// an empty one for a null tensor (the caller passes a null pointer then).
cuda::TensorArg optional_arg(const Tensor& t, const Tensor& like) {
  if (!t) return cuda::TensorArg();
  check_same_device(*like, *t);
  return cuda_arg(t);
}

// dst (contiguous, src's sizes and dtype) = src, on different devices.
void copy_bytes(const Tensor& dst, const Tensor& src) {
  size_t n = (size_t)src->numel() * itemsize(src->dtype());
  if (n == 0) return;
  auto index = [](const Tensor& t) { return t->device().is_cpu() ? -1 : t->device().index; };
  if (t_non_blocking && src->storage()->pinned && !dst->device().is_cpu()) {
    // the pinned block is not handed out again before the copy has run (Note [Pinned memory])
    cuda_call([&] { backend().copy_to_device_async(dst->raw_data_ptr(), index(dst), src->raw_data_ptr(), n); });
    return;
  }
  // Note [Staged host copies]: a small copy from pageable host memory to a device goes through a pinned
  // block of the pool: the host copies its bytes there at once and queues the rest, so the call does not
  // wait for the device (the pool hands the block out again once the copy has run). Larger copies wait,
  // as PyTorch's do: their transfer outlasts the wait, and pinning them would hold as much page-locked memory.
  constexpr size_t kStagedCopyMax = size_t(1) << 20;
  if (src->device().is_cpu() && !dst->device().is_cpu() && n <= kStagedCopyMax) {
    cuda_call([&] { backend().copy_to_device_staged(dst->raw_data_ptr(), index(dst), src->raw_data_ptr(), n); });
    return;
  }
  if (dst->device().is_cpu() || src->device().is_cpu()) note_synchronizing_op();  // Note [Sync debug mode]
  cuda_call([&] { backend().copy_bytes(dst->raw_data_ptr(), index(dst), src->raw_data_ptr(), index(src), n); });
}

}  // namespace

NonBlockingCopies::NonBlockingCopies(bool on) : previous_(t_non_blocking) { t_non_blocking = on; }
NonBlockingCopies::~NonBlockingCopies() { t_non_blocking = previous_; }

void binary(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b) {
  cuda_call([&] { backend().binary((int)op, cuda_arg(out), input_arg(a), input_arg(b)); });
}

void unary(UnaryOp op, const Tensor& out, const Tensor& a) {
  cuda_call([&] { backend().unary((int)op, cuda_arg(out), input_arg(a)); });
}

void copy(const Tensor& dst, const Tensor& src) {
  if (dst->numel() == 0) return;
  const bool same_device = dst->device() == src->device();
  if (same_device || (src->device().is_cpu() && src->dim() == 0)) {
    cuda_call([&] { backend().copy(cuda_arg(dst), cuda_arg(src)); });
    return;
  }
  // Across devices: bytes move in src's dtype and layout, then convert on dst's device.
  Tensor from = dense(src);
  const bool direct = dst->is_contiguous() && dst->dtype() == src->dtype() && dst->sizes() == src->sizes();
  Tensor landing = direct ? dst : empty(src->sizes(), src->dtype(), dst->device());
  copy_bytes(landing, from);
  if (direct) return;
  if (dst->device().is_cpu())
    kernels::copy(dst, landing);
  else
    cuda_call([&] { backend().copy(cuda_arg(dst), cuda_arg(landing)); });
}

void layer_norm(const Tensor& out, const Tensor& mean, const Tensor& rstd, const Tensor& x, const Tensor& weight,
                const Tensor& bias, double eps) {
  cuda_call([&] {
    cuda::TensorArg w = optional_arg(weight, x), b = optional_arg(bias, x);
    backend().layer_norm(cuda_arg(out), cuda_arg(mean), cuda_arg(rstd), array_arg(x, out), weight ? &w : nullptr,
                         bias ? &b : nullptr, eps);
  });
}

void batch_norm(const Tensor& out, const Tensor& mean, const Tensor& var, const Tensor& invstd, const Tensor& x,
                const Tensor& weight, const Tensor& bias, double eps) {
  cuda_call([&] {
    cuda::TensorArg w = optional_arg(weight, x), b = optional_arg(bias, x);
    backend().batch_norm(cuda_arg(out), cuda_arg(mean), cuda_arg(var), cuda_arg(invstd), array_arg(x, out),
                         weight ? &w : nullptr, bias ? &b : nullptr, eps);
  });
}

namespace {
// batch_norm's and layer_norm's backward take the same arguments: gradients wanted (or null), g, x, the
// statistics and the weight (or null).
using NormBackward = void (cuda::Backend::*)(const cuda::TensorArg*, const cuda::TensorArg*, const cuda::TensorArg*,
                                             const cuda::TensorArg&, const cuda::TensorArg&, const cuda::TensorArg&,
                                             const cuda::TensorArg&, const cuda::TensorArg*);
void norm_backward(NormBackward method, const Tensor& gx, const Tensor& gw, const Tensor& gb, const Tensor& g,
                   const Tensor& x, const Tensor& mean, const Tensor& scale, const Tensor& weight) {
  cuda_call([&] {
    cuda::TensorArg ax = optional_arg(gx, g), aw = optional_arg(gw, g), ab = optional_arg(gb, g),
                    w = optional_arg(weight, g);
    (backend().*method)(gx ? &ax : nullptr, gw ? &aw : nullptr, gb ? &ab : nullptr, cuda_arg(g), array_arg(x, g),
                        cuda_arg(mean), cuda_arg(scale), weight ? &w : nullptr);
  });
}
}  // namespace

void batch_norm_backward(const Tensor& gx, const Tensor& gw, const Tensor& gb, const Tensor& g, const Tensor& x,
                         const Tensor& mean, const Tensor& invstd, const Tensor& weight) {
  norm_backward(&cuda::Backend::batch_norm_backward, gx, gw, gb, g, x, mean, invstd, weight);
}

void layer_norm_backward(const Tensor& gx, const Tensor& gw, const Tensor& gb, const Tensor& g, const Tensor& x,
                         const Tensor& mean, const Tensor& rstd, const Tensor& weight) {
  norm_backward(&cuda::Backend::layer_norm_backward, gx, gw, gb, g, x, mean, rstd, weight);
}

void sort_rows(const Tensor& values, const Tensor& indices, const Tensor& x, bool descending) {
  cuda_call([&] { backend().sort_rows(cuda_arg(values), cuda_arg(indices), array_arg(x, values), descending); });
}

void search_rows(const Tensor& out, const Tensor& sorted, const Tensor& values, bool right) {
  cuda_call([&] { backend().search_rows(cuda_arg(out), array_arg(sorted, out), array_arg(values, out), right); });
}

void scatter_reduce(int op, const Tensor& dst, const Tensor& values, const Tensor& offsets, bool include_self) {
  cuda_call(
      [&] { backend().scatter_reduce(op, cuda_arg(dst), array_arg(values, dst), cuda_arg(offsets), include_self); });
}

void lstm_cell(const Tensor& h, const Tensor& c, const Tensor& act, const Tensor& tanh_c, const Tensor& gates,
               const Tensor& c_prev) {
  cuda_call([&] {
    backend().lstm_cell(cuda_arg(h), cuda_arg(c), cuda_arg(act), cuda_arg(tanh_c), array_arg(gates, h),
                        array_arg(c_prev, h));
  });
}

void lstm_cell_backward(const Tensor& d_gates, const Tensor& d_c_prev, const Tensor& gh, const Tensor& gc,
                        const Tensor& act, const Tensor& tanh_c, const Tensor& c_prev) {
  cuda_call([&] {
    const cuda::TensorArg dh = gh ? array_arg(gh, d_gates) : cuda::TensorArg{},
                          dc = gc ? array_arg(gc, d_gates) : cuda::TensorArg{};
    backend().lstm_cell_backward(cuda_arg(d_gates), cuda_arg(d_c_prev), gh ? &dh : nullptr, gc ? &dc : nullptr,
                                 array_arg(act, d_gates), array_arg(tanh_c, d_gates), array_arg(c_prev, d_gates));
  });
}

void fill(const Tensor& dst, double value) {
  if (dst->numel()) cuda_call([&] { backend().fill(cuda_arg(dst), value); });
}

void clamp(const Tensor& out, const Tensor& a, const double* lo, const double* hi) {
  cuda_call([&] { backend().clamp(cuda_arg(out), input_arg(a), lo, hi); });
}

void where(const Tensor& out, const Tensor& cond, const Tensor& a, const Tensor& b) {
  for (const Tensor* t : {&cond, &a, &b}) check_same_device(*out, **t);  // a 0-d CPU tensor joins as a number
  cuda_call([&] { backend().where(cuda_arg(out), cuda_arg(cond), input_arg(a), input_arg(b)); });
}

void reduce(ReduceOp op, const Tensor& out, const Tensor& in, uint64_t mask) {
  cuda_call([&] { backend().reduce((int)op, cuda_arg(out), array_arg(in, out), mask); });
}

// out: (B, M, N) contiguous = alpha * a @ b + beta * out. cuBLAS is column-major:
// it computes out^T (N, M) = b^T @ a^T, which reads row-major b and a as they are.
void bmm(const Tensor& out, const Tensor& a, const Tensor& b, double alpha, double beta) {
  check_same_device(*a, *b);
  const int64_t batch = out->size(0), M = out->size(1), N = out->size(2), K = a->size(2);
  if (out->numel() == 0) return;
  if (K == 0) {
    if (beta == 0)
      fill(out, 0.0);
    else
      cuda_dispatch::binary(BinaryOp::Mul, out, out, wrapped_scalar(beta, out->dtype()));
    return;
  }
  // An operand BLAS reads as is: rows or columns contiguous; otherwise a dense copy.
  auto readable = [](const Tensor& t, bool& trans, int64_t& ld) -> Tensor {
    int64_t rows = t->size(1), cols = t->size(2), rs = t->stride(1), cs = t->stride(2);
    if (cs == 1 && rs >= std::max<int64_t>(cols, 1)) {
      trans = false, ld = rows > 1 ? rs : std::max<int64_t>(cols, 1);
      return t;
    }
    if (rs == 1 && cs >= std::max<int64_t>(rows, 1)) {
      trans = true, ld = cols > 1 ? cs : std::max<int64_t>(rows, 1);
      return t;
    }
    Tensor d = dense(t);
    trans = false, ld = std::max<int64_t>(cols, 1);
    return d;
  };
  bool ta = false, tb = false;
  int64_t lda = 0, ldb = 0;
  Tensor A = readable(a, ta, lda), B = readable(b, tb, ldb);
  cuda::GemmArgs g;
  g.dtype = (int)out->dtype();
  g.device = out->device().index;
  // column-major: C' (N x M) = B' (N x K) @ A' (K x M)
  g.m = N, g.n = M, g.k = K, g.batch = batch;
  g.a = B->raw_data_ptr(), g.lda = ldb, g.trans_a = tb, g.stride_a = B->size(0) == 1 ? 0 : B->stride(0);
  g.b = A->raw_data_ptr(), g.ldb = lda, g.trans_b = ta, g.stride_b = A->size(0) == 1 ? 0 : A->stride(0);
  g.c = out->raw_data_ptr(), g.ldc = N, g.stride_c = M * N;
  g.alpha = alpha, g.beta = beta;
  cuda_call([&] { backend().gemm(g); });
}

void softmax(const Tensor& out, const Tensor& x, int64_t outer, int64_t n, int64_t inner, SoftmaxKind kind) {
  Tensor xd = dense(x);
  cuda_call([&] { backend().softmax((int)kind, cuda_arg(out), array_arg(xd, out), outer, n, inner); });
}

void softmax_backward(const Tensor& gx, const Tensor& g, const Tensor& y, int64_t outer, int64_t n, int64_t inner,
                      bool log) {
  Tensor gd = dense(g), yd = dense(y);
  cuda_call([&] {
    backend().softmax_backward((int)(log ? SoftmaxKind::LogSoftmax : SoftmaxKind::Softmax), cuda_arg(gx), cuda_arg(gd),
                               cuda_arg(yd), outer, n, inner);
  });
}

void check_fits_int64(const Tensor& wide) {
  cuda_call([&] { backend().check_fits_int64(cuda_arg(wide)); });
}

void index_offsets(const Tensor& offsets, const Tensor& index, const IndexBounds& b) {
  check_same_device(*offsets, *index);
  cuda::IndexArgs a;
  a.size = b.size, a.stride = b.stride, a.dim = b.dim, a.kind = b.kind, a.add = b.add;
  const cuda::TensorArg out = cuda_arg(offsets);  // (refuses more dims than cuda::kMaxDims)
  for (size_t k = 0; k < b.place_strides.size() && k < (size_t)cuda::kMaxDims; ++k)
    a.place_strides[k] = b.place_strides[k];
  cuda_call([&] { backend().index_offsets(out, cuda_arg(index), a); });
}

void gather_offsets(const Tensor& out, const Tensor& src, const Tensor& outer, const std::vector<int64_t>& inner) {
  check_same_device(*out, *src);
  cuda_call(
      [&] { backend().gather(cuda_arg(out), cuda_arg(src), cuda_arg(outer), inner.data(), (int64_t)inner.size()); });
}

void scatter_offsets(const Tensor& dst, const Tensor& values, const Tensor& outer, const std::vector<int64_t>& inner,
                     bool accumulate) {
  check_same_device(*dst, *values);
  if (accumulate && is_storage_only(dst->dtype())) {  // half floats add up in float32 (the kernels' atomics)
    Widening wide;
    scatter_offsets(wide.inout(dst), wide.in(values), outer, inner, true);
    return wide.finish();
  }
  cuda_call([&] {
    backend().scatter(cuda_arg(dst), cuda_arg(values), cuda_arg(outer), inner.data(), (int64_t)inner.size(),
                      accumulate);
  });
}

void reduce_arg(bool is_max, const Tensor& values, const Tensor& indices, const Tensor& in, int64_t dim) {
  cuda_call(
      [&] { backend().reduce_arg(is_max, cuda_arg(values), cuda_arg(indices), array_arg(in, values), (int)dim); });
}

void nll_loss_forward(const Tensor& loss, const Tensor& wt, const Tensor& x, const Tensor& target, const Tensor& weight,
                      int64_t ignore_index) {
  check_same_device(*x, *target);
  cuda::TensorArg w = optional_arg(weight, x);
  cuda_call([&] {
    backend().nll_loss(cuda_arg(loss), cuda_arg(wt), cuda_arg(x), cuda_arg(target), weight ? &w : nullptr,
                       ignore_index);
  });
}

void sgd_many(int device, DType dtype, const std::vector<cuda::SgdTensors>& params) {
  cuda_call([&] { backend().sgd(device, (int)dtype, params.data(), (int64_t)params.size()); });
}

void adam_many(int device, DType dtype, const std::vector<cuda::AdamTensors>& params) {
  cuda_call([&] { backend().adam(device, (int)dtype, params.data(), (int64_t)params.size()); });
}

namespace {
cuda::ConvArgs conv_args(const Conv2dGeometry& g) {
  cuda::ConvArgs a;
  a.channels = g.channels, a.height = g.height, a.width = g.width, a.kh = g.kh, a.kw = g.kw, a.sh = g.sh, a.sw = g.sw;
  a.ph = g.ph, a.pw = g.pw, a.dh = g.dh, a.dw = g.dw, a.out_h = g.out_h, a.out_w = g.out_w;
  return a;
}
}  // namespace

void im2col(const Tensor& cols, const Tensor& x, const Conv2dGeometry& g) {
  Tensor xd = dense(x);
  cuda_call([&] { backend().im2col(cuda_arg(cols), cuda_arg(xd), conv_args(g)); });
}

void col2im(const Tensor& x, const Tensor& cols, const Conv2dGeometry& g) {
  cuda_call([&] { backend().col2im(cuda_arg(x), cuda_arg(cols), conv_args(g)); });
}

void max_pool2d(const Tensor& values, const Tensor& indices, const Tensor& x, const Conv2dGeometry& g) {
  Tensor xd = dense(x);
  cuda_call([&] { backend().max_pool2d(cuda_arg(values), cuda_arg(indices), cuda_arg(xd), conv_args(g)); });
}

void max_pool2d_backward(const Tensor& grad_in, const Tensor& grad_out, const Tensor& indices) {
  if (is_storage_only(grad_in->dtype())) {  // half floats add up in float32 (the kernel's atomics)
    Widening wide;
    max_pool2d_backward(wide.out(grad_in), wide.in(grad_out), indices);
    return wide.finish();
  }
  Tensor gd = dense(grad_out), id = dense(indices);
  cuda_call([&] { backend().max_pool2d_backward(cuda_arg(grad_in), cuda_arg(gd), cuda_arg(id)); });
}

void scan(ScanOp op, const Tensor& out, const Tensor& indices, const Tensor& x, int64_t outer, int64_t n,
          int64_t inner) {
  cuda::TensorArg idx = indices ? cuda_arg(indices) : cuda::TensorArg();
  cuda_call(
      [&] { backend().scan((int)op, cuda_arg(out), indices ? &idx : nullptr, array_arg(x, out), outer, n, inner); });
}

// Note [CUDA random numbers]
// One Philox stream per process: (seed, offset). Each call takes the next
// `numel` counters, so results depend only on the seed and the calls made
// since, never on the launch geometry. ember.cuda.manual_seed sets the seed and
// rewinds the offset; ember.cuda.get_rng_state is the pair, as PyTorch's 16 bytes.
// A Generator(device="cuda") keeps a stream of its own, (seed, philox_offset).
namespace {
std::atomic<uint64_t> g_seed{67280421310721ull}, g_offset{0};
// Note [CUDA graph random numbers]
// A captured graph's kernels keep the arguments of their capture, so draws with
// the Philox counters as arguments would repeat at every replay. While a device
// captures, its draws count their offsets from the generator's offset when the
// capture began, and pass the device's GraphRng: the kernels add its `base` and
// take its seed. The capture itself consumes nothing (the offset goes back at
// its end); each replay copies (seed, offset) into the GraphRng, queued before
// it, and moves the generator past the graph's counters, so replays draw what
// the same eager calls would have, as PyTorch's graph-safe generator does.
struct CaptureStart {
  std::atomic<int64_t> offset{-1};  // the offset a device's capture began at; -1: not capturing
};
CaptureStart g_capture_start[cuda::kMaxDevices];

bool valid_device(int device) { return device >= 0 && device < cuda::kMaxDevices; }

struct Counters {
  uint64_t seed, offset;
  const void* graph;  // the device's GraphRng while it captures, else null
};

// The seed, offset and GraphRng of a draw of `numel` values on `device`, from `gen`'s own stream when given
// (Note [CUDA random numbers]: a Generator(device="cuda") keeps its (seed, offset) as the default one does).
Counters take_counters(int device, int64_t numel, Generator* gen) {
  const uint64_t count = ((uint64_t)numel + 3) / 4 * 4;
  const int64_t start = valid_device(device) ? g_capture_start[device].offset.load() : -1;
  if (gen) {
    EMBER_CHECK(start < 0, "random numbers drawn from a Generator(device=\"cuda\") while cuda:", device,
                " captures a CUDA graph: ember's graph would replay the same numbers every time; draw them from the "
                "default CUDA generator (no generator=), whose replays draw anew");
    std::lock_guard<std::mutex> lock(gen->mutex);
    const uint64_t offset = gen->philox_offset;
    gen->philox_offset += count;
    return {gen->seed, offset, nullptr};
  }
  const uint64_t offset = g_offset.fetch_add(count);
  if (start < 0) return {g_seed, offset, nullptr};
  return {g_seed, offset - (uint64_t)start, backend().graph_rng(device)};
}
}  // namespace

void rng_capture_begin(int device) {
  EMBER_CHECK(valid_device(device), "CUDA graph capture: device index ", device);
  g_capture_start[device].offset = (int64_t)g_offset.load();
}
uint64_t rng_capture_end(int device) {
  if (!valid_device(device)) return 0;
  const int64_t start = g_capture_start[device].offset.exchange(-1);
  if (start < 0) return 0;
  const uint64_t end = g_offset.exchange((uint64_t)start);  // the capture drew nothing yet: its replays will
  return end - (uint64_t)start;
}
void graph_replay(void* graph, uint64_t counters) {
  if (counters == 0) {
    cuda_call([&] { backend().graph_replay(graph); });
    return;
  }
  const uint64_t offset = g_offset.fetch_add(counters);
  cuda_call([&] { backend().graph_replay_drawing(graph, g_seed, offset); });
}
void manual_seed(uint64_t seed) {
  g_seed = seed;
  g_offset = 0;
}
uint64_t initial_seed() { return g_seed; }
std::pair<uint64_t, uint64_t> rng_state() { return {g_seed.load(), g_offset.load()}; }
void set_rng_state(uint64_t seed, uint64_t offset) {
  g_seed = seed;
  g_offset = offset;
}

void uniform(const Tensor& out, double lo, double hi, Generator* gen) {
  const Counters c = take_counters(out->device().index, out->numel(), gen);
  cuda_call([&] { backend().uniform(cuda_arg(out), lo, hi, c.seed, c.offset, c.graph); });
}

void randint(const Tensor& out, int64_t low, int64_t high, Generator* gen) {
  EMBER_CHECK(low < high, "random_ expects 'from' to be less than 'to', but got from=", low, " >= to=", high);
  const Counters c = take_counters(out->device().index, out->numel(), gen);
  cuda_call([&] { backend().randint(cuda_arg(out), low, (uint64_t)high - (uint64_t)low, c.seed, c.offset, c.graph); });
}

void normal(const Tensor& out, double mean, double std, Generator* gen) {
  const Counters c = take_counters(out->device().index, out->numel(), gen);
  cuda_call([&] { backend().normal(cuda_arg(out), mean, std, c.seed, c.offset, c.graph); });
}

}  // namespace cuda_dispatch
}  // namespace kernels
}  // namespace ember
