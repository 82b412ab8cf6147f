#pragma once
#include "core/tensor.h"

namespace ember {
namespace kernels {

// out: (B, M, N) contiguous = alpha * a: (B, M, K) @ b: (B, K, N) + beta * out;
// a and b any strides (B may be broadcast with stride 0). Float dtypes go to
// BLAS; a matrix whose strides are a transposed layout is passed with a
// transpose flag, not copied. With beta == 0, out's old values are not read.
void bmm(const Tensor& out, const Tensor& a, const Tensor& b, double alpha = 1.0, double beta = 0.0);

}  // namespace kernels
}  // namespace ember

namespace ember {
namespace kernels {
// Keeps OpenBLAS on the calling thread; bmm threads with OpenMP (Note [BLAS threads]).
void blas_single_threaded();
// c (M, N; row stride ldc) = op(a) (M, K) @ op(b) (K, N) + beta * c, row-major, op transposing when
// asked (a then stored (K, M) with row stride lda; b (N, K) with ldb), on the calling thread: for
// kernels that split their own work across threads.
void gemm_on_thread(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* a, int64_t lda,
                    const float* b, int64_t ldb, float beta, float* c, int64_t ldc);
void gemm_on_thread(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const double* a, int64_t lda,
                    const double* b, int64_t ldb, double beta, double* c, int64_t ldc);
// Whether bmm can hand a (rows, cols) operand with these strides to BLAS as is.
bool blas_can_read(int64_t rows, int64_t cols, int64_t rs, int64_t cs);
}  // namespace kernels
}  // namespace ember
