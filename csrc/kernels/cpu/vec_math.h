#pragma once
// Note [Vector math]
// Scalar libm (std::exp, std::tanh, ...) does not vectorise: one call per
// element costs 3-20 ns, 10-40x what a SIMD version costs. The contiguous runs
// of the float transcendental kernels therefore go to glibc's libmvec, the
// vector variants of libm that GCC itself calls under -fopenmp-simd/-ffast-math
// (`_ZGVeN16v_expf` takes 16 floats in a zmm register and returns 16 results).
//
// Why libmvec and not our own polynomials: on glibc 2.35+ it has every op we
// need (exp, log, tanh, expm1, log1p, erf, sin, cos, tan, float and double);
// it gives NaN, +-inf, +-0, subnormals, overflow and underflow exactly as
// scalar libm does; it stays within 4 ulp of the exact result (glibc 2.36
// measures <= 3.9 ulp, and exactly 4 for float erf, which returns +-1 from
// |x| = 3.65 on; scalar libm is within 1 ulp, tanh 2); and it is 10-40x faster
// than the scalar calls. Our own polynomials for 9 functions x 2 dtypes, with
// their special cases, would be a second libm to maintain and to get right.
// tests/test_kernels.py checks all of the above against numpy.
//
// Portability: the functions are looked up once with dlopen/dlsym, never
// linked, so the module loads on any glibc (and musl, macOS, ...): a function
// that is missing (glibc 2.22-2.34 has only exp, log, sin, cos), or a platform
// without libmvec, falls back to the scalar loop. The widest variant the CPU
// runs is picked at run time (AVX-512 'e', AVX2 'd', SSE 'b'); the callers are
// compiled with `target` attributes, never -march, so the wheel stays generic.
// The environment variable EMBER_VEC_MATH=avx2, sse or none caps that choice.
//
// Every element of a contiguous run, the tail included (padded to a full
// vector), and a one-element tensor go through the same vector function, whose
// lanes are independent, so a result never depends on its position, on the
// run length or on the thread split (tests/test_kernels.py). Strided and
// broadcast runs keep the scalar reference (std::exp, ...); the two may differ
// by the few ulp the two libraries differ by. sigmoid is built on the vector
// exp with the same formula as its scalar reference (elementwise.cpp).
#include <cstdint>

namespace ember {
namespace kernels {

enum class VecFn { Exp, Log, Tanh, Expm1, Log1p, Erf, Sin, Cos, Tan, Sigmoid };

// y[i] = fn(x[i]) for i < n; x and y contiguous, y == x allowed. Returns false,
// having written nothing, when no vector version is available: the caller
// runs its scalar loop.
bool vec_math(VecFn fn, const float* x, float* y, int64_t n);
bool vec_math(VecFn fn, const double* x, double* y, int64_t n);

// Which variants run: "avx512", "avx2", "sse", or "none" (no libmvec).
const char* vec_math_isa();
// The widest instruction set ember's run-time-dispatched vector loops may use (libmvec's functions,
// the LSTM cell's backward rows): 3 AVX-512, 2 AVX2, 1 SSE, 0 none; EMBER_VEC_MATH=avx2|sse|none
// caps it (the CPU still decides below the cap).
int vec_isa_cap();
// Off: every kernel takes its scalar reference path (tests compare the two).
// Returns the previous setting.
bool set_vec_math_enabled(bool enabled);

}  // namespace kernels
}  // namespace ember
