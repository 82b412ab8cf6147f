#pragma once
// Products with a matrix packed once and used many times: a recurrent layer's
// weight, multiplied by a few rows of hidden state at every step
// (Note [Packed recurrent products] in packed_gemm.cpp).
#include <cstdint>
#include <memory>

namespace ember {
namespace kernels {

// B (K, N) in panels of `panel` columns: panel p holds B[k][p * panel + j] at k * panel + j, the
// last panel padded with zeros. Empty (panel == 0) where this CPU has no kernel for it.
struct PackedMatrix {
  int64_t K = 0, N = 0, panel = 0;
  std::unique_ptr<float[]> data;
  explicit operator bool() const { return panel > 0; }
};

// Packs B[k][n] = b[k * stride_k + n * stride_n]; an empty PackedMatrix where the CPU has neither
// AVX2 with FMA nor AVX-512 (callers then use BLAS), or where EMBER_PACKED_GEMM=0.
PackedMatrix pack_matrix(const float* b, int64_t K, int64_t N, int64_t stride_k, int64_t stride_n);

// "avx512", "avx2" or "off" (no kernel: callers use BLAS).
const char* packed_gemm_isa();

// c[i][n] = (add ? add[i * ld_add + n] : 0) + sum_k a[i * lda + k] B[k][n] for i < M, n < N, over
// ember's threads by panels. `add` may be `c` itself (ld_add == ldc). Each element is summed in the
// same order for any thread count.
void packed_gemm(int64_t M, const float* a, int64_t lda, const PackedMatrix& b, const float* add, int64_t ld_add,
                 float* c, int64_t ldc);

}  // namespace kernels
}  // namespace ember
