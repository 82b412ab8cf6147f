#include "kernels/cpu/matmul.h"

#include <cblas.h>

#include <type_traits>

#include "kernels/cpu/loops.h"

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
  for (int64_t i = 0; i < M * N; ++i) c[i] = beta == T(0) ? T(0) : beta * c[i];
  for (int64_t i = 0; i < M; ++i)
    for (int64_t k = 0; k < K; ++k) {
      T av = alpha * a[i * ars + k * acs];
      for (int64_t j = 0; j < N; ++j) c[i * N + j] += av * b[k * brs + j * bcs];
    }
}

}  // namespace

void bmm(const Tensor& out, const Tensor& a, const Tensor& b, double alpha, double beta) {
  const int64_t B = out->size(0), M = out->size(1), N = out->size(2), K = a->size(2);
  AllowThreads allow(B * M * N * K >= kParallelGrain);
  dispatch(out->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* c = out->data<T>();
    if (K == 0) {
      for (int64_t i = 0; i < out->numel(); ++i) c[i] = beta == 0 ? T(0) : T(beta * c[i]);
      return;
    }
    if constexpr (std::is_floating_point_v<T>) {
      Tensor ac = a, bc = b;
      BlasLayout la = blas_layout(M, K, a->stride(1), a->stride(2));
      BlasLayout lb = blas_layout(K, N, b->stride(1), b->stride(2));
      EMBER_ASSERT(la.ok && lb.ok);  // the op layer makes odd layouts contiguous
      for (int64_t i = 0; i < B; ++i)
        gemm<T>(la.trans, lb.trans, M, N, K, T(alpha), a->data<T>() + i * a->stride(0), la.ld,
                b->data<T>() + i * b->stride(0), lb.ld, T(beta), c + i * out->stride(0), out->stride(1));
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
