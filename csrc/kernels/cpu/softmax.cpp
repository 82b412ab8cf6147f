#include "kernels/cpu/softmax.h"
#include "kernels/cuda_dispatch.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/cpu/loops.h"
#include "kernels/cpu/vec_math.h"

// Note [Fused softmax]
// softmax(x) = exp(x - max) / sum(exp(x - max)) was five ops (amax, sub, exp,
// sum, div), each a pass over the tensor with a temporary: 2.2x PyTorch's time
// on attention scores (16x4x64x64), 3.8x once a causal mask put -inf in them.
// Here each slice along the normalised dim is one sweep of its own: the max,
// the shifted values, their exp (libmvec, Note [Vector math]; the same
// function ember.exp runs), the sum in double, the scaling by 1 / sum. A slice's result
// depends on that slice only, so it does not depend on the thread split. A NaN
// makes its whole slice NaN, and so does an all -inf slice (x - max is
// -inf + inf), as the unfused formula and PyTorch do. The gradients are one sweep as well;
// a backward that must itself be differentiated (create_graph) keeps the
// formula in ember ops (ops/reduce.cpp).

namespace ember {
namespace kernels {

namespace {

// The max may skip a NaN (a vector max does): the NaN still reaches the slice's sum through its exp,
// and so every value of the slice, as in PyTorch.
template <class T>
inline T softmax_max_step(T m, T v) {
  return v > m ? v : m;
}

// y = exp(x), x and y distinct. libmvec takes a slow path, lane by lane, for inputs that underflow,
// and masked scores are exactly that (-inf, or -1e9 in older programs): 3x the time of the whole
// softmax when a causal mask hid half the scores. So such lanes are raised to where the fast path
// starts and their results replaced by 0 afterwards, in loops without branches; only inputs between
// that point and where exp rounds to 0 (rare) take the scalar libm's value.
template <class T>
void softmax_exp(const T* x, T* y, int64_t n) {
  constexpr T fast_low = sizeof(T) == 4 ? T(-87) : T(-708);   // libmvec's fast path above
  constexpr T zero_low = sizeof(T) == 4 ? T(-104) : T(-746);  // exp(x) rounds to 0 below
  T least = std::numeric_limits<T>::infinity();
#pragma omp simd reduction(min : least)
  for (int64_t i = 0; i < n; ++i) least = x[i] < least ? x[i] : least;
  if (least >= fast_low) {
    if (!vec_math(VecFn::Exp, x, y, n))
      for (int64_t i = 0; i < n; ++i) y[i] = std::exp(x[i]);
    return;
  }
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] < fast_low ? fast_low : x[i];
  if (!vec_math(VecFn::Exp, y, y, n))
    for (int64_t i = 0; i < n; ++i) y[i] = std::exp(y[i]);
  // Two loops, each simple enough for the compiler to vectorise (one loop doing both was not).
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] < fast_low ? T(0) : y[i];
  T underflowing = -std::numeric_limits<T>::infinity();  // the largest input below fast_low
#pragma omp simd reduction(max : underflowing)
  for (int64_t i = 0; i < n; ++i) {
    const T v = x[i] < fast_low ? x[i] : -std::numeric_limits<T>::infinity();
    underflowing = v > underflowing ? v : underflowing;
  }
  if (underflowing >= zero_low)  // exp(x) is subnormal here, not 0
    for (int64_t i = 0; i < n; ++i)
      if (x[i] < fast_low && x[i] >= zero_low) y[i] = std::exp(x[i]);
}

// One contiguous slice (inner == 1): y = softmax(x) or log_softmax(x); tmp holds n values.
template <class T>
void softmax_slice(const T* x, T* y, int64_t n, SoftmaxKind kind, T* tmp) {
  T m = -std::numeric_limits<T>::infinity();
#pragma omp simd reduction(max : m)
  for (int64_t i = 0; i < n; ++i) m = softmax_max_step(m, x[i]);
  if (kind == SoftmaxKind::SafeSoftmax && m == -std::numeric_limits<T>::infinity()) {
    bool all_masked = true;  // the max skips NaN (softmax_max_step): a NaN keeps the slice NaN
    for (int64_t i = 0; i < n; ++i) all_masked = all_masked && x[i] == m;
    if (all_masked) {
      std::fill(y, y + n, T(0));
      return;
    }
  }
  const bool log = kind == SoftmaxKind::LogSoftmax;
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] - m;
  softmax_exp(y, tmp, n);
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += tmp[i];
  if (log) {
    // (x - max) - log sum exp(x - max), not x - logsumexp(x): with logits near 1e4, max + log(...)
    // rounds log(2) to the float spacing at 1e4 (~1e-3).
    const T log_sum = (T)std::log(s);
    for (int64_t i = 0; i < n; ++i) y[i] -= log_sum;
  } else {
    const T scale = T(1) / (T)s;  // a product, not a division per element (as PyTorch's kernel)
    for (int64_t i = 0; i < n; ++i) y[i] = tmp[i] * scale;
  }
}

// One (n, inner) block normalised along n, vectorised along inner; tmp holds n * inner values,
// m and s inner each.
template <class T>
void softmax_block(const T* x, T* y, int64_t n, int64_t inner, bool log, T* tmp, T* m, double* s) {
  std::fill(m, m + inner, -std::numeric_limits<T>::infinity());
  std::fill(s, s + inner, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < inner; ++j) m[j] = softmax_max_step(m[j], x[i * inner + j]);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < inner; ++j) y[i * inner + j] = x[i * inner + j] - m[j];
  softmax_exp(y, tmp, n * inner);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < inner; ++j) s[j] += tmp[i * inner + j];
  for (int64_t j = 0; j < inner; ++j) m[j] = log ? (T)std::log(s[j]) : T(1) / (T)s[j];  // m reused
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < inner; ++j) {
      const int64_t k = i * inner + j;
      y[k] = log ? y[k] - m[j] : tmp[k] * m[j];
    }
}

template <class T>
void softmax_slice_backward(const T* g, const T* y, T* gx, int64_t n, bool log) {
  double acc = 0;
  if (log) {
#pragma omp simd reduction(+ : acc)
    for (int64_t i = 0; i < n; ++i) acc += g[i];
    softmax_exp(y, gx, n);
    const T sum = (T)acc;
    for (int64_t i = 0; i < n; ++i) gx[i] = g[i] - gx[i] * sum;
  } else {
#pragma omp simd reduction(+ : acc)
    for (int64_t i = 0; i < n; ++i) acc += (double)g[i] * (double)y[i];
    const T dot = (T)acc;
    for (int64_t i = 0; i < n; ++i) gx[i] = y[i] * (g[i] - dot);
  }
}

template <class T>
void softmax_block_backward(const T* g, const T* y, T* gx, int64_t n, int64_t inner, bool log, double* s, T* r) {
  std::fill(s, s + inner, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < inner; ++j) {
      const int64_t k = i * inner + j;
      s[j] += log ? (double)g[k] : (double)g[k] * (double)y[k];
    }
  for (int64_t j = 0; j < inner; ++j) r[j] = (T)s[j];
  if (log) softmax_exp(y, gx, n * inner);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < inner; ++j) {
      const int64_t k = i * inner + j;
      gx[k] = log ? g[k] - gx[k] * r[j] : y[k] * (g[k] - r[j]);
    }
}

// f(first, last, scratch) over the outer index range, split across threads when the work pays;
// each thread gets its own scratch of `scratch_bytes`.
template <class F>
void softmax_for_outer(int64_t outer, int64_t work, size_t scratch_bytes, F f) {
  AllowThreads allow(work >= kParallelGrain);
  const int threads = work >= kParallelGrain ? (int)std::min<int64_t>(max_threads(), outer) : 1;
  if (threads <= 1) {
    std::vector<char> scratch(scratch_bytes);
    f(0, outer, scratch.data());
    return;
  }
  // doubles: each thread's slice starts aligned for the doubles and Ts the scratch holds
  ThreadScratch<double> scratch(threads, (int64_t)(scratch_bytes + sizeof(double) - 1) / (int64_t)sizeof(double));
#pragma omp parallel num_threads(threads)
  {
#ifdef _OPENMP
    const int64_t t = omp_get_thread_num(), count = omp_get_num_threads();
#else
    const int64_t t = 0, count = 1;
#endif
    f(outer * t / count, outer * (t + 1) / count, reinterpret_cast<char*>(scratch.mine()));
  }
}

template <class T>
void softmax_typed(const Tensor& out, const Tensor& x, int64_t outer, int64_t n, int64_t inner, SoftmaxKind kind) {
  const bool log = kind == SoftmaxKind::LogSoftmax;
  const T* xp = x->data<T>();
  T* yp = out->data<T>();
  const int64_t block = n * inner;
  const size_t scratch = inner == 1 ? n * sizeof(T) : block * sizeof(T) + inner * (sizeof(T) + sizeof(double));
  softmax_for_outer(outer, outer * block, scratch, [&](int64_t first, int64_t last, char* buf) {
    // The doubles first, so that each part of the scratch is aligned for its type.
    for (int64_t o = first; o < last; ++o) {
      if (inner == 1)
        softmax_slice(xp + o * block, yp + o * block, n, kind, (T*)buf);
      else
        softmax_block(xp + o * block, yp + o * block, n, inner, log, (T*)(buf + inner * (sizeof(double) + sizeof(T))),
                      (T*)(buf + inner * sizeof(double)), (double*)buf);
    }
  });
}

template <class T>
void softmax_backward_typed(const Tensor& gx, const Tensor& g, const Tensor& y, int64_t outer, int64_t n, int64_t inner,
                            bool log) {
  const T *gp = g->data<T>(), *yp = y->data<T>();
  T* op = gx->data<T>();
  const int64_t block = n * inner;
  const size_t scratch = inner == 1 ? 0 : inner * (sizeof(T) + sizeof(double));
  softmax_for_outer(outer, outer * block, scratch, [&](int64_t first, int64_t last, char* buf) {
    for (int64_t o = first; o < last; ++o) {
      const int64_t at = o * block;
      if (inner == 1)
        softmax_slice_backward(gp + at, yp + at, op + at, n, log);
      else
        softmax_block_backward(gp + at, yp + at, op + at, n, inner, log, (double*)buf,
                               (T*)(buf + inner * sizeof(double)));
    }
  });
}

}  // namespace

void softmax(const Tensor& out, const Tensor& x, int64_t outer, int64_t n, int64_t inner, SoftmaxKind kind) {
  if (on_cuda(out)) return cuda_dispatch::softmax(out, x, outer, n, inner, kind);
  EMBER_ASSERT(kind != SoftmaxKind::SafeSoftmax || inner == 1);
  if (x->dtype() == DType::Float64)
    softmax_typed<double>(out, x, outer, n, inner, kind);
  else
    softmax_typed<float>(out, x, outer, n, inner, kind);
}

void softmax_backward(const Tensor& gx, const Tensor& g, const Tensor& y, int64_t outer, int64_t n, int64_t inner,
                      bool log) {
  if (on_cuda(gx)) return cuda_dispatch::softmax_backward(gx, g, y, outer, n, inner, log);
  if (y->dtype() == DType::Float64)
    softmax_backward_typed<double>(gx, g, y, outer, n, inner, log);
  else
    softmax_backward_typed<float>(gx, g, y, outer, n, inner, log);
}

}  // namespace kernels
}  // namespace ember
