// Contiguous runs of the float transcendental kernels through glibc's libmvec:
// see Note [Vector math] in vec_math.h.
#include "kernels/cpu/vec_math.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#if defined(__x86_64__) && defined(__GLIBC__)
#include <dlfcn.h>
#define EMBER_HAVE_LIBMVEC 1
#endif

namespace ember {
namespace kernels {

static std::atomic<bool> g_enabled{true};

// EMBER_VEC_MATH=avx2|sse|none caps the choice: tests reach every path, and a
// user can reproduce the results of another machine or turn the whole thing off.
int vec_isa_cap() {
  static const int cap = [] {
    const char* e = std::getenv("EMBER_VEC_MATH");
    if (!e) return 3;
    return !std::strcmp(e, "none") ? 0 : !std::strcmp(e, "sse") ? 1 : !std::strcmp(e, "avx2") ? 2 : 3;
  }();
  return cap;
}

bool set_vec_math_enabled(bool enabled) { return g_enabled.exchange(enabled); }

#ifdef EMBER_HAVE_LIBMVEC
// GCC warns that a 32/64-byte vector argument changes the ABI without AVX; the
// calls that pass one are only ever inlined into the target() functions below.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

namespace {

// The libm functions, in VecFn order; Sigmoid is built on Exp.
constexpr int kNumFns = (int)VecFn::Sigmoid;
const char* const kNames[kNumFns] = {"exp", "log", "tanh", "expm1", "log1p", "erf", "sin", "cos", "tan"};

template <class T, int W>
struct Vec {
  typedef T type __attribute__((vector_size(W * sizeof(T))));
};

// y = fn(x) over n elements, W at a time; the tail is padded with ones (an
// ordinary argument for every function) so it goes through fn too.
// Inlined into the callers below, whose target attribute sets the ISA and so
// the register the vector argument travels in (xmm, ymm or zmm).
template <class T, int W>
inline __attribute__((always_inline)) void run_blocks(const void* fn, const T* x, T* y, int64_t n) {
  using V = typename Vec<T, W>::type;
  auto f = reinterpret_cast<V (*)(V)>(const_cast<void*>(fn));
  V v;
  int64_t i = 0;
  for (; i + W <= n; i += W) {
    std::memcpy(&v, x + i, sizeof v);
    v = f(v);
    std::memcpy(y + i, &v, sizeof v);
  }
  if (i < n) {
    T buf[W];
    for (int k = 0; k < W; ++k) buf[k] = k < n - i ? x[i + k] : T(1);
    std::memcpy(&v, buf, sizeof v);
    v = f(v);
    std::memcpy(y + i, &v, (n - i) * sizeof(T));
  }
}

// sigmoid(x) = (x >= 0 ? 1 : t) / (1 + t) with t = exp(-|x|): exp never
// overflows and very negative x keeps its tiny (subnormal) result. The same
// formula as the scalar reference in elementwise.cpp; `fn` is the vector exp.
template <class T, int W>
inline __attribute__((always_inline)) void sigmoid_blocks(const void* fn, const T* x, T* y, int64_t n) {
  constexpr int64_t kBlock = 256;
  T t[kBlock], r[kBlock];  // locals, so the loops vectorise even when y == x
  for (int64_t i = 0; i < n; i += kBlock) {
    const int64_t m = std::min(kBlock, n - i);
    for (int64_t k = 0; k < m; ++k) t[k] = -std::fabs(x[i + k]);
    run_blocks<T, W>(fn, t, t, m);
    for (int64_t k = 0; k < m; ++k) r[k] = (x[i + k] >= T(0) ? T(1) : t[k]) / (T(1) + t[k]);
    std::memcpy(y + i, r, m * sizeof(T));
  }
}

template <class T, int W>
inline __attribute__((always_inline)) void run(const void* fn, bool sigmoid, const T* x, T* y, int64_t n) {
  if (sigmoid)
    sigmoid_blocks<T, W>(fn, x, y, n);
  else
    run_blocks<T, W>(fn, x, y, n);
}

// One entry point per ISA and dtype; the target attribute applies to all that is inlined.
using F32 = const float*;
using F64 = const double*;
__attribute__((target("avx512f"))) void run_avx512(const void* f, bool sig, F32 x, float* y, int64_t n) {
  run<float, 16>(f, sig, x, y, n);
}
__attribute__((target("avx512f"))) void run_avx512(const void* f, bool sig, F64 x, double* y, int64_t n) {
  run<double, 8>(f, sig, x, y, n);
}
__attribute__((target("avx2"))) void run_avx2(const void* f, bool sig, F32 x, float* y, int64_t n) {
  run<float, 8>(f, sig, x, y, n);
}
__attribute__((target("avx2"))) void run_avx2(const void* f, bool sig, F64 x, double* y, int64_t n) {
  run<double, 4>(f, sig, x, y, n);
}
void run_sse(const void* f, bool sig, F32 x, float* y, int64_t n) { run<float, 4>(f, sig, x, y, n); }
void run_sse(const void* f, bool sig, F64 x, double* y, int64_t n) { run<double, 2>(f, sig, x, y, n); }

template <class T>
using Runner = void (*)(const void*, bool, const T*, T*, int64_t);

struct Table {
  const char* isa = "none";
  Runner<float> run_f = nullptr;
  Runner<double> run_d = nullptr;
  const void* f32[kNumFns] = {};  // null where this glibc lacks the function
  const void* f64[kNumFns] = {};
};

Table load() {
  Table t;
  const int cap = vec_isa_cap();
  // Never closed: the table points into it for the life of the process.
  void* lib = cap ? dlopen("libmvec.so.1", RTLD_NOW | RTLD_LOCAL) : nullptr;
  if (!lib) return t;
  __builtin_cpu_init();
  char abi;   // the vector ABI letter of the mangled name
  int lanes;  // float lanes; double has half
  if (cap >= 3 && __builtin_cpu_supports("avx512f")) {
    t = {"avx512", run_avx512, run_avx512};
    abi = 'e', lanes = 16;
  } else if (cap >= 2 && __builtin_cpu_supports("avx2")) {
    t = {"avx2", run_avx2, run_avx2};
    abi = 'd', lanes = 8;
  } else {
    t = {"sse", run_sse, run_sse};
    abi = 'b', lanes = 4;
  }
  char name[48];
  for (int k = 0; k < kNumFns; ++k) {
    std::snprintf(name, sizeof name, "_ZGV%cN%dv_%sf", abi, lanes, kNames[k]);
    t.f32[k] = dlsym(lib, name);
    std::snprintf(name, sizeof name, "_ZGV%cN%dv_%s", abi, lanes / 2, kNames[k]);
    t.f64[k] = dlsym(lib, name);
  }
  return t;
}

const Table& table() {
  static const Table t = load();
  return t;
}

template <class T>
bool apply(VecFn fn, const T* x, T* y, int64_t n) {
  if (!g_enabled.load(std::memory_order_relaxed)) return false;
  const Table& t = table();
  Runner<T> runner;
  const void* const* fns;
  if constexpr (std::is_same_v<T, float>)
    runner = t.run_f, fns = t.f32;
  else
    runner = t.run_d, fns = t.f64;
  const void* f = fns[(int)(fn == VecFn::Sigmoid ? VecFn::Exp : fn)];
  if (!runner || !f) return false;
  runner(f, fn == VecFn::Sigmoid, x, y, n);
  return true;
}

}  // namespace

bool vec_math(VecFn fn, const float* x, float* y, int64_t n) { return apply(fn, x, y, n); }
bool vec_math(VecFn fn, const double* x, double* y, int64_t n) { return apply(fn, x, y, n); }
const char* vec_math_isa() { return table().isa; }

#else  // no libmvec on this platform: every kernel keeps its scalar loop

bool vec_math(VecFn, const float*, float*, int64_t) { return false; }
bool vec_math(VecFn, const double*, double*, int64_t) { return false; }
const char* vec_math_isa() { return "none"; }

#endif

}  // namespace kernels
}  // namespace ember
