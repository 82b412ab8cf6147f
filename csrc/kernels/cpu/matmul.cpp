#include "kernels/cpu/matmul.h"
#include "kernels/cuda_dispatch.h"

#include <cblas.h>

#include <type_traits>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "kernels/cpu/integer.h"
#include "kernels/cpu/loops.h"
#include "kernels/cpu/widen.h"

namespace ember {
namespace kernels {
namespace {

// How BLAS can read a (rows, cols) matrix with element strides (rs, cs).
struct BlasLayout {
  bool ok;
  CBLAS_TRANSPOSE trans;
  int64_t ld;
};

BlasLayout blas_layout(int64_t rows, int64_t cols, int64_t rs, int64_t cs) {
  if (cols <= 1 || cs == 1) {
    int64_t ld = rows <= 1 ? std::max<int64_t>(cols, 1) : rs;
    if (ld >= std::max<int64_t>(cols, 1)) return {true, CblasNoTrans, ld};
  }
  if (rows <= 1 || rs == 1) {
    int64_t ld = cols <= 1 ? std::max<int64_t>(rows, 1) : cs;
    if (ld >= std::max<int64_t>(rows, 1)) return {true, CblasTrans, ld};
  }
  return {false, CblasNoTrans, 0};
}

template <class T>
void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t M, int64_t N, int64_t K, T alpha, const T* a, int64_t lda,
          const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  if constexpr (std::is_same_v<T, float>) {
    scipy_cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
  } else if constexpr (std::is_same_v<T, double>) {
    scipy_cblas_dgemm(CblasRowMajor, ta, tb, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
  }
}

// Reference path for integer dtypes (BLAS has none): ikj order keeps the inner loop contiguous in out and b.
template <class T>
void naive_mm(int64_t M, int64_t N, int64_t K, T alpha, const T* a, int64_t ars, int64_t acs, const T* b, int64_t brs,
              int64_t bcs, T beta, T* c) {
  // Integer products wrap around on overflow, as PyTorch's (kernels/cpu/integer.h).
  for (int64_t i = 0; i < M * N; ++i) c[i] = beta == T(0) ? T(0) : wrap_mul(beta, c[i]);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t k = 0; k < K; ++k) {
      T av = wrap_mul(alpha, a[i * ars + k * acs]);
      for (int64_t j = 0; j < N; ++j) c[i * N + j] = wrap_add(c[i * N + j], wrap_mul(av, b[k * brs + j * bcs]));
    }
}

// Note [BLAS threads]
// OpenBLAS from PyPI threads with a pthread pool of its own, ember's kernels
// with OpenMP. On a loaded core the two fight: OpenMP workers spin for a while
// after each parallel region and a BLAS call right after an elementwise op
// waited ~8 ms for its threads (measured: a 128x784x256 addmm, 8 ms instead of
// 0.3 ms). So OpenBLAS is kept single-threaded (see blas_single_threaded) and
// ember splits each product over its own OpenMP threads: by batch when there
// are several matrices, else by blocks of rows (or columns) of the output. Each
// block is still a large GEMM, so OpenBLAS's packing and kernels stay efficient.
constexpr int64_t kParallelFlops = 1 << 18;                         // below ~64^3 one thread is faster
constexpr int64_t kMinBlockSide = 128, kMinParallelBlockSide = 32;  // see blas_bmm

// Note [Streaming stores]
// An outer product (K == 1) writes its whole output and reads next to nothing:
// per-sample weight gradients under vmap (64 x 128 x 784 floats, 26 MB) are
// such products. One pass over the output beats B thin BLAS calls (1.3x). An
// ordinary store first reads the cache line it writes; streaming stores skip
// that read and the caches: 26 MB took 1.4 ms instead of 4.2 ms on one core
// here. Only outputs far larger than a core's share of the caches stream, as
// such a result cannot stay cached for the next op anyway.
constexpr int64_t kStreamFromBytes = int64_t(16) << 20;

// out (B, M, N), contiguous = alpha * a (B, M, 1) @ b (B, 1, N).
template <class T>
void outer_product(const Tensor& out, const Tensor& a, const Tensor& b, T alpha) {
  const int64_t B = out->size(0), M = out->size(1), N = out->size(2);
  const T* ad = a->data<T>();
  const T* bd = b->data<T>();
  T* c = out->data<T>();
  const int64_t bs = b->stride(2);
  bool stream = false;
#if defined(__SSE2__)
  constexpr int64_t kLanes = 16 / sizeof(T);
  stream = bs == 1 && N % kLanes == 0 && reinterpret_cast<uintptr_t>(c) % 16 == 0 &&
           out->numel() * int64_t(sizeof(T)) >= kStreamFromBytes;
#endif
  auto fill_row = [&](int64_t row) {
    const int64_t i = row / M, r = row % M;
    const T scale = alpha * ad[i * a->stride(0) + r * a->stride(1)];
    const T* brow = bd + i * b->stride(0);
    T* crow = c + row * N;
#if defined(__SSE2__)
    if (stream) {
      for (int64_t j = 0; j < N; j += kLanes) {
        if constexpr (std::is_same_v<T, float>)
          _mm_stream_ps(crow + j, _mm_mul_ps(_mm_set1_ps(scale), _mm_loadu_ps(brow + j)));
        else
          _mm_stream_pd(crow + j, _mm_mul_pd(_mm_set1_pd(scale), _mm_loadu_pd(brow + j)));
      }
      return;
    }
#endif
    for (int64_t j = 0; j < N; ++j) crow[j] = scale * brow[j * bs];
  };
#pragma omp parallel num_threads(max_threads())
  {
#pragma omp for schedule(static) nowait
    for (int64_t row = 0; row < B * M; ++row) fill_row(row);
#if defined(__SSE2__)
    if (stream) _mm_sfence();  // this thread's streamed lines reach memory before the op returns
#endif
  }
}

template <class T>
void blas_bmm(const Tensor& out, const Tensor& a, const Tensor& b, T alpha, T beta) {
  const int64_t B = out->size(0), M = out->size(1), N = out->size(2), K = a->size(2);
  if (K == 1 && beta == T(0) && B * M > 1 && out->is_contiguous()) return outer_product<T>(out, a, b, alpha);
  BlasLayout la = blas_layout(M, K, a->stride(1), a->stride(2));
  BlasLayout lb = blas_layout(K, N, b->stride(1), b->stride(2));
  EMBER_ASSERT(la.ok && lb.ok);  // the op layer makes odd layouts contiguous
  const T* ad = a->data<T>();
  const T* bd = b->data<T>();
  T* c = out->data<T>();
  const int64_t ldc = out->stride(1);
  // Block (batch i, rows [r0, r1), cols [c0, c1)) of the output.
  auto block = [&](int64_t i, int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
    gemm<T>(la.trans, lb.trans, r1 - r0, c1 - c0, K, alpha, ad + i * a->stride(0) + r0 * a->stride(1), la.ld,
            bd + i * b->stride(0) + c0 * b->stride(2), lb.ld, beta, c + i * out->stride(0) + r0 * ldc + c0, ldc);
  };
  // Note [Deterministic products]: the blocks depend on the shapes and on the
  // machine's cores, never on the thread count (OpenBLAS picks its kernels by
  // block size, and the last bits of a result with them), so a product is
  // bitwise the same with one thread, with two, or under the parallel backward
  // executor's thread caps.
  if (B * M * N * K < kParallelFlops) {
    for (int64_t i = 0; i < B; ++i) block(i, 0, M, 0, N);
    return;
  }
  if (B > 1) {
#pragma omp parallel for num_threads(max_threads()) schedule(static)
    for (int64_t i = 0; i < B; ++i) block(i, 0, M, 0, N);
    return;
  }
  // One matrix: an even number (2 to 8, and no more than the machine has cores) of 16-aligned blocks
  // along its longer side, each at least kMinBlockSide wide where the side allows: every block re-packs
  // the whole other operand, so 32-wide blocks of a 128x256x256 product packed its 128 KB left operand
  // eight times and two threads ran it no faster than one (85 us either way with OpenBLAS's AVX-512
  // kernels; 41 us in two blocks of 128). On 2 cores two blocks beat blocks of 128: 1024x256x1024 at
  // 495 GFLOP/s instead of 452, 2048^3 at 486 instead of 436, a convolution's 128x1152x1568 at 460
  // instead of 420 (OpenBLAS's SkylakeX kernels, two threads).
  const bool by_rows = M >= N;
  const int64_t len = by_rows ? M : N;
  const int64_t most = std::min<int64_t>(8, std::max(2, machine_cores()));
  int64_t parts =
      len < 2 * kMinParallelBlockSide ? 1 : std::min<int64_t>(most, std::max<int64_t>(2, len / kMinBlockSide));
  if (parts > 1) parts &= ~int64_t(1);
  const int64_t step = ((len + parts - 1) / parts + 15) / 16 * 16;
#pragma omp parallel for num_threads(max_threads()) schedule(static)
  for (int64_t p = 0; p < parts; ++p) {
    int64_t lo = std::min(len, p * step), hi = std::min(len, lo + step);
    if (lo >= hi) continue;
    if (by_rows)
      block(0, lo, hi, 0, N);
    else
      block(0, 0, M, lo, hi);
  }
}

}  // namespace

void blas_single_threaded() { scipy_openblas_set_num_threads(1); }

void gemm_on_thread(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* a, int64_t lda,
                    const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  gemm<float>(trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, M, N, K, 1.0f, a, lda, b, ldb,
              beta, c, ldc);
}
void gemm_on_thread(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const double* a, int64_t lda,
                    const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  gemm<double>(trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, M, N, K, 1.0, a, lda, b, ldb,
               beta, c, ldc);
}

void bmm(const Tensor& out, const Tensor& a, const Tensor& b, double alpha, double beta) {
  if (on_cuda(out)) return cuda_dispatch::bmm(out, a, b, alpha, beta);
  if (any_storage_only(out, a, b)) {
    Widening w;
    bmm(beta == 0 ? w.out(out) : w.inout(out), w.in(a), w.in(b), alpha, beta);
    return w.finish();
  }
  const int64_t B = out->size(0), M = out->size(1), N = out->size(2), K = a->size(2);
  if (out->numel() == 0) return;  // nothing to write (an empty operand's strides may be anything)
  AllowThreads allow(B * M * N * K >= kParallelGrain);
  dispatch(out->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* c = out->data<T>();
    if (K == 0) {
      for (int64_t i = 0; i < out->numel(); ++i) c[i] = beta == 0 ? T(0) : T(beta * c[i]);
      return;
    }
    if constexpr (std::is_floating_point_v<T>) {
      blas_bmm<T>(out, a, b, T(alpha), T(beta));
    } else if constexpr (std::is_same_v<T, bool>) {
      EMBER_FAIL(NotImplemented, "\"addmm_impl_cpu_\" not implemented for 'Bool'");
    } else {
      for (int64_t i = 0; i < B; ++i)
        naive_mm<T>(M, N, K, T(alpha), a->data<T>() + i * a->stride(0), a->stride(1), a->stride(2),
                    b->data<T>() + i * b->stride(0), b->stride(1), b->stride(2), T(beta), c + i * M * N);
    }
  });
}

bool blas_can_read(int64_t rows, int64_t cols, int64_t rs, int64_t cs) { return blas_layout(rows, cols, rs, cs).ok; }

}  // namespace kernels
}  // namespace ember
