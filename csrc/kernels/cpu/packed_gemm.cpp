// Note [Packed recurrent products]
// A recurrent layer multiplies the same weight by a few rows of hidden state at
// every step: an LSTM of hidden 256 at batch 32 runs 32x256 @ 256x1024 once per
// step and 32x1024 @ 1024x256 once per step of its backward. BLAS packs both
// operands into its own panel layout at every call, so each step re-packed the
// 1 MB weight to multiply it by 32 rows: OpenBLAS ran that shape at about 60%
// of the rate of a large product. Here the weight is packed once per layer call
// into panels of 16 (AVX2) or 32 (AVX-512) columns, and each step runs one
// register-blocked kernel over them: a tile of up to MR rows by one panel keeps
// its sums in registers for the whole depth K, reading the panel (K * panel
// floats, 32 KB at K = 256, within L1) once per tile and broadcasting the rows'
// elements. Threads take whole panels, and each sum runs over k in order with
// one fused multiply-add per term, so a result is bitwise the same for any
// thread count and either instruction set.
#include "kernels/cpu/packed_gemm.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "kernels/cpu/loops.h"

namespace ember {
namespace kernels {

// GCC warns that a 32/64-byte vector argument changes the ABI without AVX; such
// values only live inside the target() functions below.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

namespace {

// One panel of a product over every row (packed_panel_rows's arguments), for one instruction set.
using PackedPanelFn = void (*)(int64_t, int64_t, const float*, int64_t, const float*, const float*, int64_t, float*,
                               int64_t, int64_t);

struct PackedKernel {
  PackedPanelFn run = nullptr;
  int64_t panel = 0;  // columns per panel; 0: no kernel for this CPU
};

#if defined(__x86_64__) && defined(__GNUC__)
template <int W>
struct PackedLanes {
  typedef float type __attribute__((vector_size(W * sizeof(float))));
};

// Rows [0, R) of c, one panel of NV vectors of W floats: c = add + a @ panel. `cols` of the panel's
// columns are real (the last panel may be partly padding). Inlined into the target() functions
// below, whose ISA it then compiles to; `acc += s * b` contracts to a fused multiply-add there
// (GNU C++ contracts by default, and the result is then one rounding per term either way).
template <int W, int NV, int R>
inline __attribute__((always_inline)) void packed_tile(int64_t K, const float* a, int64_t lda, const float* panel,
                                                       const float* add, int64_t ld_add, float* c, int64_t ldc,
                                                       int64_t cols) {
  using V = typename PackedLanes<W>::type;
  constexpr int kPanel = W * NV;
  V acc[R][NV];
  for (int i = 0; i < R; ++i)
    for (int v = 0; v < NV; ++v) acc[i][v] = V{};
  for (int64_t k = 0; k < K; ++k) {
    V b[NV];
    for (int v = 0; v < NV; ++v) std::memcpy(&b[v], panel + k * kPanel + v * W, sizeof(V));
    for (int i = 0; i < R; ++i) {
      const V s = V{} + a[i * lda + k];
      for (int v = 0; v < NV; ++v) acc[i][v] += s * b[v];
    }
  }
  for (int i = 0; i < R; ++i) {
    float sums[kPanel];
    std::memcpy(sums, acc[i], sizeof sums);
    const float* add_row = add ? add + i * ld_add : nullptr;
    float* c_row = c + i * ldc;
    for (int64_t j = 0; j < cols; ++j) c_row[j] = add_row ? add_row[j] + sums[j] : sums[j];
  }
}

// Every row of one panel, MR rows at a time.
template <int W, int NV, int MR>
inline __attribute__((always_inline)) void packed_panel_rows(int64_t M, int64_t K, const float* a, int64_t lda,
                                                             const float* panel, const float* add, int64_t ld_add,
                                                             float* c, int64_t ldc, int64_t cols) {
  static_assert(MR <= 8, "the switch below instantiates up to 8 rows");
  for (int64_t i = 0; i < M; i += MR) {
    const float* ai = a + i * lda;
    const float* addi = add ? add + i * ld_add : nullptr;
    float* ci = c + i * ldc;
    switch (std::min<int64_t>(MR, M - i)) {
#define EMBER_TILE_CASE(r) \
  case r: packed_tile<W, NV, r>(K, ai, lda, panel, addi, ld_add, ci, ldc, cols); break;
      EMBER_TILE_CASE(8)
      EMBER_TILE_CASE(7)
      EMBER_TILE_CASE(6)
      EMBER_TILE_CASE(5)
      EMBER_TILE_CASE(4)
      EMBER_TILE_CASE(3)
      EMBER_TILE_CASE(2)
      EMBER_TILE_CASE(1)
#undef EMBER_TILE_CASE
    }
  }
}

// AVX-512: 8 rows x 32 columns, 16 sums in zmm registers. AVX2: 6 rows x 16 columns, 12 in ymm.
__attribute__((target("avx512f"))) void panel_avx512(int64_t M, int64_t K, const float* a, int64_t lda,
                                                     const float* panel, const float* add, int64_t ld_add, float* c,
                                                     int64_t ldc, int64_t cols) {
  packed_panel_rows<16, 2, 8>(M, K, a, lda, panel, add, ld_add, c, ldc, cols);
}
__attribute__((target("avx2,fma"))) void panel_avx2(int64_t M, int64_t K, const float* a, int64_t lda,
                                                    const float* panel, const float* add, int64_t ld_add, float* c,
                                                    int64_t ldc, int64_t cols) {
  packed_panel_rows<8, 2, 6>(M, K, a, lda, panel, add, ld_add, c, ldc, cols);
}

// EMBER_PACKED_GEMM=avx2 caps the choice, =off turns the kernels off (tests reach every path).
PackedKernel choose_packed_kernel() {
  const char* cap = std::getenv("EMBER_PACKED_GEMM");
  const bool off = cap && !std::strcmp(cap, "off"), avx2_only = cap && !std::strcmp(cap, "avx2");
  if (off) return {};
  __builtin_cpu_init();
  if (!avx2_only && __builtin_cpu_supports("avx512f")) return {panel_avx512, 32};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return {panel_avx2, 16};
  return {};
}
#else
PackedKernel choose_packed_kernel() { return {}; }
#endif

const PackedKernel& packed_kernel() {
  static const PackedKernel k = choose_packed_kernel();
  return k;
}

// Below this many multiply-adds a product runs on one thread (as Note [BLAS threads]'s cut-off).
constexpr int64_t kParallelMultiplyAdds = 1 << 18;

}  // namespace

const char* packed_gemm_isa() {
  const int64_t width = packed_kernel().panel;
  return width == 32 ? "avx512" : width == 16 ? "avx2" : "off";
}

PackedMatrix pack_matrix(const float* b, int64_t K, int64_t N, int64_t stride_k, int64_t stride_n) {
  PackedMatrix p;
  const int64_t width = packed_kernel().panel;
  if (!width || K <= 0 || N <= 0) return p;
  const int64_t panels = (N + width - 1) / width;
  p.K = K, p.N = N, p.panel = width;
  p.data.reset(new float[panels * K * width]);
  float* out = p.data.get();
#pragma omp parallel for num_threads(max_threads()) schedule(static) if (K * N >= kParallelGrain)
  for (int64_t q = 0; q < panels; ++q) {
    float* dst = out + q * K * width;
    const int64_t cols = std::min(width, N - q * width);
    // Along whichever of k and n is contiguous in b, so the reads stream.
    if (stride_k == 1) {
      for (int64_t j = 0; j < width; ++j)
        for (int64_t k = 0; k < K; ++k) dst[k * width + j] = j < cols ? b[k + (q * width + j) * stride_n] : 0.0f;
    } else {
      for (int64_t k = 0; k < K; ++k)
        for (int64_t j = 0; j < width; ++j)
          dst[k * width + j] = j < cols ? b[k * stride_k + (q * width + j) * stride_n] : 0.0f;
    }
  }
  return p;
}

void packed_gemm(int64_t M, const float* a, int64_t lda, const PackedMatrix& b, const float* add, int64_t ld_add,
                 float* c, int64_t ldc) {
  const PackedKernel& k = packed_kernel();
  const int64_t width = b.panel, panels = (b.N + width - 1) / width;
  const bool parallel = M * b.N * b.K >= kParallelMultiplyAdds && panels > 1;
#pragma omp parallel for num_threads(max_threads()) schedule(static) if (parallel)
  for (int64_t q = 0; q < panels; ++q) {
    const int64_t col = q * width;
    k.run(M, b.K, a, lda, b.data.get() + q * b.K * width, add ? add + col : nullptr, ld_add, c + col, ldc,
          std::min(width, b.N - col));
  }
}

}  // namespace kernels
}  // namespace ember
