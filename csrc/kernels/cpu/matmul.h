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
// Whether bmm can hand a (rows, cols) operand with these strides to BLAS as is.
bool blas_can_read(int64_t rows, int64_t cols, int64_t rs, int64_t cs);
}  // namespace kernels
}  // namespace ember
