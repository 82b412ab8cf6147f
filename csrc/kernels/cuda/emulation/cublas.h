#pragma once
// The cuBLAS calls backend.cu makes, on the host (Note [CUDA host emulation]): the column-major
// product C = alpha op(A) op(B) + beta C, batched, with cuBLAS's argument checks (a leading
// dimension too small for its operand is CUBLAS_STATUS_INVALID_VALUE), so the products ember
// asks for are checked against cuBLAS's contract to the letter.
#include <cstdint>

#include "kernels/cuda/emulation/runtime.h"
#include "kernels/cuda/portable.h"

typedef enum {
  CUBLAS_STATUS_SUCCESS = 0,
  CUBLAS_STATUS_INVALID_VALUE = 7,
} cublasStatus_t;
typedef enum { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1 } cublasOperation_t;
typedef enum { CUDA_R_32F = 0, CUDA_R_64F = 1, CUDA_R_16F = 2, CUDA_R_16BF = 14 } cudaDataType_t;
typedef enum { CUBLAS_COMPUTE_32F = 68 } cublasComputeType_t;
typedef enum { CUBLAS_GEMM_DEFAULT = -1 } cublasGemmAlgo_t;
struct cublasContext {
  cudaStream_t stream = nullptr;
};
typedef cublasContext* cublasHandle_t;

inline cublasStatus_t cublasCreate(cublasHandle_t* handle) {
  *handle = new cublasContext();
  return CUBLAS_STATUS_SUCCESS;
}
inline cublasStatus_t cublasSetStream(cublasHandle_t handle, cudaStream_t stream) {
  handle->stream = stream;
  return CUBLAS_STATUS_SUCCESS;
}
inline const char* cublasGetStatusString(cublasStatus_t s) {
  return s == CUBLAS_STATUS_SUCCESS ? "CUBLAS_STATUS_SUCCESS" : "CUBLAS_STATUS_INVALID_VALUE";
}

namespace ember {
namespace cuda {
namespace emulation {

// T accumulates; `dtype` is ember's for the operands' storage (half floats accumulate in float,
// as cublasGemmEx with CUBLAS_COMPUTE_32F).
template <class T>
cublasStatus_t gemm(cublasHandle_t handle, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, T alpha,
                    const void* a, int lda, int64_t stride_a, const void* b, int ldb, int64_t stride_b, T beta, void* c,
                    int ldc, int64_t stride_c, int batch, int dtype) {
  auto at_least = [](int ld, int rows) { return ld >= (rows > 1 ? rows : 1); };
  if (m < 0 || n < 0 || k < 0 || batch < 0 || !at_least(lda, ta == CUBLAS_OP_N ? m : k) ||
      !at_least(ldb, tb == CUBLAS_OP_N ? k : n) || !at_least(ldc, m))
    return CUBLAS_STATUS_INVALID_VALUE;
  count_launch();
  // alpha and beta are read at the call (host pointer mode), the operands when the stream gets there
  enqueue(handle->stream, [=] {
    const int size = itemsize_of(dtype);
    auto load = [&](const void* base, int64_t index) { return load_as<T>((const char*)base + index * size, dtype); };
    for (int64_t p = 0; p < batch; ++p)
      for (int64_t j = 0; j < n; ++j)
        for (int64_t i = 0; i < m; ++i) {
          T acc = 0;
          for (int64_t l = 0; l < k; ++l)
            acc += load(a, p * stride_a + (ta == CUBLAS_OP_T ? l + i * lda : i + l * lda)) *  // op(A)(i, l)
                   load(b, p * stride_b + (tb == CUBLAS_OP_T ? j + l * ldb : l + j * ldb));   // op(B)(l, j)
          char* out = (char*)c + (p * stride_c + i + j * ldc) * size;
          T old = beta == T(0) ? T(0) : load_as<T>(out, dtype);  // beta 0: C is not read (cuBLAS)
          store_as<T>(out, dtype, alpha * acc + beta * old);
        }
  });
  return CUBLAS_STATUS_SUCCESS;
}

}  // namespace emulation
}  // namespace cuda
}  // namespace ember

inline cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t handle, cublasOperation_t ta, cublasOperation_t tb,
                                                int m, int n, int k, const float* alpha, const float* a, int lda,
                                                long long stride_a, const float* b, int ldb, long long stride_b,
                                                const float* beta, float* c, int ldc, long long stride_c, int batch) {
  return ember::cuda::emulation::gemm<float>(handle, ta, tb, m, n, k, *alpha, a, lda, stride_a, b, ldb, stride_b, *beta,
                                             c, ldc, stride_c, batch, ember::cuda::kFloat32);
}

inline cublasStatus_t cublasDgemmStridedBatched(cublasHandle_t handle, cublasOperation_t ta, cublasOperation_t tb,
                                                int m, int n, int k, const double* alpha, const double* a, int lda,
                                                long long stride_a, const double* b, int ldb, long long stride_b,
                                                const double* beta, double* c, int ldc, long long stride_c, int batch) {
  return ember::cuda::emulation::gemm<double>(handle, ta, tb, m, n, k, *alpha, a, lda, stride_a, b, ldb, stride_b,
                                              *beta, c, ldc, stride_c, batch, ember::cuda::kFloat64);
}

inline cublasStatus_t cublasGemmStridedBatchedEx(cublasHandle_t handle, cublasOperation_t ta, cublasOperation_t tb,
                                                 int m, int n, int k, const void* alpha, const void* a,
                                                 cudaDataType_t type, int lda, long long stride_a, const void* b,
                                                 cudaDataType_t, int ldb, long long stride_b, const void* beta, void* c,
                                                 cudaDataType_t, int ldc, long long stride_c, int batch,
                                                 cublasComputeType_t, cublasGemmAlgo_t) {
  const int dtype = type == CUDA_R_16F ? ember::cuda::kFloat16 : ember::cuda::kBFloat16;
  return ember::cuda::emulation::gemm<float>(handle, ta, tb, m, n, k, *static_cast<const float*>(alpha), a, lda,
                                             stride_a, b, ldb, stride_b, *static_cast<const float*>(beta), c, ldc,
                                             stride_c, batch, dtype);
}
