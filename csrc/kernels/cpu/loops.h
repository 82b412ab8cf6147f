#pragma once
// Note [Elementwise loops]
// Every elementwise kernel runs through for_each_run(): the operands (output
// first) are described by byte strides over one common shape (stride 0 where an
// input is broadcast, so expanded inputs are never materialised). Dims are
// reordered innermost-first and merged where contiguous, then the linear range
// is cut into runs along the innermost dim; each run is handed to the kernel's
// inner loop with its pointers and byte strides. Inner loops test for unit
// strides so the compiler can vectorise the contiguous case. Above kParallelGrain
// elements the range is split across OpenMP threads.
#include <array>
#include <cmath>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <vector>

#include "core/tensor.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace ember {
namespace kernels {

// Whether v is NaN; false for integer types (NaN ranks above every number in sort and the scans).
template <class T>
inline bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>)
    return std::isnan(v);
  else
    return false;
}

constexpr int64_t kParallelGrain = 32768;

int thread_budget();          // the threads ember may use (threads.cpp; get_num_threads)
int machine_cores();          // the cores this process may use (affinity, cgroup quota), read once
int max_threads();            // what a parallel region takes now: the budget, or 1 while the machine is busy
void set_num_threads(int n);  // n >= 1
// While alive, max_threads() on this thread returns at most n.
struct ThreadCap {
  explicit ThreadCap(int n);
  ~ThreadCap();
  ThreadCap(const ThreadCap&) = delete;
  ThreadCap& operator=(const ThreadCap&) = delete;

 private:
  int previous;
};

// Per-thread work buffers, allocated before the parallel region: an allocation that fails inside one
// would end the process instead of raising (MemoryError). Left uninitialised: every use writes first.
template <typename T>
class ThreadScratch {
 public:
  ThreadScratch(int threads, int64_t each) : each_(each), buffer_(new T[threads * each]) {}
  T* mine() const {
#ifdef _OPENMP
    return buffer_.get() + omp_get_thread_num() * each_;
#else
    return buffer_.get();
#endif
  }

 private:
  int64_t each_;
  std::unique_ptr<T[]> buffer_;
};

// As PyTorch's TensorIterator: elementwise kernels take up to 25 dimensions.
constexpr int kMaxLoopDims = 25;

// A vector with room for kMaxLoopDims entries, kept inline: a plan is built
// on every op call and heap allocations there were a visible share of the
// per-op cost of small tensors.
template <class T>
struct DimArray {
  std::array<T, kMaxLoopDims> v;
  int n = 0;
  bool empty() const { return n == 0; }
  int size() const { return n; }
  T& back() { return v[n - 1]; }
  void push_back(const T& x) { v[n++] = x; }
  T& operator[](int i) { return v[i]; }
  const T& operator[](int i) const { return v[i]; }
  const T* begin() const { return v.data(); }
  const T* end() const { return v.data() + n; }
};

template <int N>
struct LoopPlan {
  DimArray<int64_t> sizes;                   // innermost first, merged
  DimArray<std::array<int64_t, N>> strides;  // bytes, per dim per operand
  std::array<char*, N> base;
  int64_t numel = 1;
};

// The element strides of an operand seen with the output's shape `to` (stride 0
// where it is broadcast): its own strides, not copied, when it has that shape.
struct OperandStrides {
  Shape scratch;
  const Shape* strides;
  OperandStrides(const TensorImpl& t, const Shape& to) : strides(&t.strides()) {
    if (t.sizes() != to) {
      scratch = broadcast_strides(t.sizes(), t.strides(), to);
      strides = &scratch;
    }
  }
};

// operands[0] is the output; all are viewed with `shape` (inputs already broadcast).
template <int N>
LoopPlan<N> make_plan(const Shape& shape, const std::array<const TensorImpl*, N>& ops,
                      const std::array<const Shape*, N>& elem_strides) {
  LoopPlan<N> p;
  int nd = (int)shape.size();
  for (int k = 0; k < N; ++k) p.base[k] = ops[k]->data_ptr();
  for (int d = nd - 1; d >= 0; --d) {
    if (shape[d] == 1) continue;
    std::array<int64_t, N> st;
    for (int k = 0; k < N; ++k) st[k] = (*elem_strides[k])[d] * (int64_t)itemsize(ops[k]->dtype());
    if (!p.sizes.empty()) {
      bool mergeable = true;
      for (int k = 0; k < N; ++k) mergeable &= st[k] == p.strides.back()[k] * p.sizes.back();
      if (mergeable) {
        p.sizes.back() *= shape[d];
        continue;
      }
    }
    // Size-1 dims were skipped and mergeable ones merged: only truly strided
    // layouts come near the limit.
    EMBER_CHECK(p.sizes.size() < kMaxLoopDims, "elementwise kernels support at most ", kMaxLoopDims,
                " non-mergeable dimensions, got a tensor of shape ", detail::cat(shape));
    p.sizes.push_back(shape[d]);
    p.strides.push_back(st);
  }
  if (p.sizes.empty()) {
    p.sizes.push_back(1);
    p.strides.push_back({});
  }
  for (auto s : p.sizes) p.numel *= s;
  return p;
}

// Runs inner(ptrs, strides0, n) over linear elements [begin, end) of the plan.
template <int N, class Inner>
void run_range(const LoopPlan<N>& p, int64_t begin, int64_t end, Inner& inner) {
  const int nd = p.sizes.size();
  std::array<int64_t, kMaxLoopDims> coord{};
  int64_t rem = begin;
  for (int d = 0; d < nd; ++d) {
    coord[d] = rem % p.sizes[d];
    rem /= p.sizes[d];
  }
  while (begin < end) {
    std::array<char*, N> ptrs = p.base;
    for (int d = 0; d < nd; ++d)
      for (int k = 0; k < N; ++k) ptrs[k] += coord[d] * p.strides[d][k];
    int64_t n = p.sizes[0] - coord[0];
    if (n > end - begin) n = end - begin;
    inner(ptrs, p.strides[0], n);
    begin += n;
    coord[0] += n;
    for (int d = 0; d < nd - 1 && coord[d] == p.sizes[d]; ++d) {
      coord[d] = 0;
      coord[d + 1]++;
    }
  }
}

template <int N, class Inner>
void for_each_run(const LoopPlan<N>& p, Inner inner) {
  if (p.numel == 0) return;
  AllowThreads allow(p.numel >= kParallelGrain);
#ifdef _OPENMP
  int threads = max_threads();
  if (p.numel >= kParallelGrain && threads > 1) {
    int64_t chunks = std::min<int64_t>(threads, p.numel / (kParallelGrain / 2));
#pragma omp parallel for num_threads((int)chunks) schedule(static)
    for (int64_t c = 0; c < chunks; ++c) {
      Inner local = inner;
      run_range<N>(p, p.numel * c / chunks, p.numel * (c + 1) / chunks, local);
    }
    return;
  }
#endif
  run_range<N>(p, 0, p.numel, inner);
}

// Elementwise map: out[i] = f(in0[i], ...). Out and In are C++ element types.
template <class Out, class In, class F>
struct UnaryInner {
  F f;
  void operator()(const std::array<char*, 2>& p, const std::array<int64_t, 2>& s, int64_t n) {
    Out* o = (Out*)p[0];
    const In* a = (const In*)p[1];
    if (s[0] == sizeof(Out) && s[1] == sizeof(In)) {
      for (int64_t i = 0; i < n; ++i) o[i] = f(a[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) *(Out*)(p[0] + i * s[0]) = f(*(const In*)(p[1] + i * s[1]));
    }
  }
};

template <class Out, class In, class F>
struct BinaryInner {
  F f;
  void operator()(const std::array<char*, 3>& p, const std::array<int64_t, 3>& s, int64_t n) {
    Out* __restrict o = (Out*)p[0];
    const In* a = (const In*)p[1];
    const In* b = (const In*)p[2];
    if (s[0] == sizeof(Out) && s[1] == sizeof(In) && s[2] == sizeof(In)) {
      for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], b[i]);
    } else if (s[0] == sizeof(Out) && s[1] == sizeof(In) && s[2] == 0) {
      const In bv = *b;
      for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], bv);
    } else if (s[0] == sizeof(Out) && s[1] == 0 && s[2] == sizeof(In)) {
      const In av = *a;
      for (int64_t i = 0; i < n; ++i) o[i] = f(av, b[i]);
    } else {
      for (int64_t i = 0; i < n; ++i)
        *(Out*)(p[0] + i * s[0]) = f(*(const In*)(p[1] + i * s[1]), *(const In*)(p[2] + i * s[2]));
    }
  }
};

// Runs inner(ptrs, strides, n) (an inner loop like UnaryInner) over out = f(a).
template <class Inner>
void unary_runs(const Tensor& out, const Tensor& a, Inner inner) {
  OperandStrides sa(*a, out->sizes());
  auto plan = make_plan<2>(out->sizes(), {out.get(), a.get()}, {&out->strides(), sa.strides});
  for_each_run<2>(plan, inner);
}

template <class Out, class In, class F>
void unary_loop(const Tensor& out, const Tensor& a, F f) {
  unary_runs(out, a, UnaryInner<Out, In, F>{f});
}

template <class Out, class In, class F>
void binary_loop(const Tensor& out, const Tensor& a, const Tensor& b, F f) {
  OperandStrides sa(*a, out->sizes()), sb(*b, out->sizes());
  auto plan = make_plan<3>(out->sizes(), {out.get(), a.get(), b.get()}, {&out->strides(), sa.strides, sb.strides});
  for_each_run<3>(plan, BinaryInner<Out, In, F>{f});
}

}  // namespace kernels
}  // namespace ember
