// Uniform and normal fills (Note [Random fills], random.h).
#include "kernels/cpu/random.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "kernels/cpu/vec_math.h"

namespace ember {
namespace kernels {

// Values per block: the normals' scratch (uniforms, radii, angles) stays in L1.
constexpr int64_t kRandomBlock = 256;

template <class T>
static void uniform_values(std::mt19937_64& engine, T* out, int64_t n) {
  if constexpr (std::is_same_v<T, float>) {
    int64_t i = 0;
    for (; i + 2 <= n; i += 2) {
      const uint64_t word = engine();
      out[i] = (float)(word >> 40) * 0x1p-24f;
      out[i + 1] = (float)((word >> 8) & 0xFFFFFFu) * 0x1p-24f;
    }
    if (i < n) out[i] = (float)(engine() >> 40) * 0x1p-24f;
  } else {
    for (int64_t i = 0; i < n; ++i) out[i] = (double)(engine() >> 11) * 0x1p-53;
  }
}

void uniform_fill(std::mt19937_64& engine, float* out, int64_t n) { uniform_values(engine, out, n); }
void uniform_fill(std::mt19937_64& engine, double* out, int64_t n) { uniform_values(engine, out, n); }

// y = fn(x) over n values: libmvec where it is, else the scalar function.
template <class T, class F>
static void vec_or_scalar(VecFn fn, F scalar, const T* x, T* y, int64_t n) {
  if (vec_math(fn, x, y, n)) return;
  for (int64_t i = 0; i < n; ++i) y[i] = scalar(x[i]);
}

// One block of 2 * half normals: u1 from the first half of the uniforms, u2 from the second;
// out[i] = r cos(theta), out[half + i] = r sin(theta), r = sqrt(-2 log(1 - u1)), theta = 2 pi u2.
template <class T>
static void box_muller(std::mt19937_64& engine, T* out, int64_t half) {
  T u[kRandomBlock], r[kRandomBlock / 2];
  uniform_values(engine, u, 2 * half);
  for (int64_t i = 0; i < half; ++i) u[i] = T(1) - u[i];  // (0, 1]: log stays finite
  vec_or_scalar(VecFn::Log, [](T x) { return std::log(x); }, u, r, half);
  for (int64_t i = 0; i < half; ++i) r[i] = std::sqrt(T(-2) * r[i]);
  T* theta = u + half;
  for (int64_t i = 0; i < half; ++i) theta[i] *= T(2 * M_PI);
  vec_or_scalar(VecFn::Cos, [](T x) { return std::cos(x); }, theta, out, half);
  vec_or_scalar(VecFn::Sin, [](T x) { return std::sin(x); }, theta, out + half, half);
  for (int64_t i = 0; i < half; ++i) out[i] *= r[i], out[half + i] *= r[i];
}

template <class T>
static void normal_values(std::mt19937_64& engine, T* out, int64_t n) {
  int64_t i = 0;
  for (; i + kRandomBlock <= n; i += kRandomBlock) box_muller(engine, out + i, kRandomBlock / 2);
  if (i < n) {  // the tail: a block of its length rounded up to even, partly kept
    T tail[kRandomBlock];
    const int64_t half = (n - i + 1) / 2;
    box_muller(engine, tail, half);
    std::copy(tail, tail + (n - i), out + i);
  }
}

void normal_fill(std::mt19937_64& engine, float* out, int64_t n) { normal_values(engine, out, n); }
void normal_fill(std::mt19937_64& engine, double* out, int64_t n) { normal_values(engine, out, n); }

}  // namespace kernels
}  // namespace ember
