#include <cmath>
#include <type_traits>

#include "core/rng.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/random.h"
#include "ops/ops.h"

namespace ember {

Generator& Generator::default_cpu() {
  static Generator g;
  return g;
}

void manual_seed(uint64_t seed) {
  auto& g = Generator::default_cpu();
  std::lock_guard<std::mutex> lock(g.mutex);
  g.seed = seed;
  g.engine.seed(seed);
}

uint64_t initial_seed() { return Generator::default_cpu().seed; }

Tensor full(const Shape& shape, double value, DType dtype) {
  Tensor t = empty(shape, dtype);
  kernels::fill(t, value);
  return t;
}
Tensor zeros(const Shape& shape, DType dtype) { return full(shape, 0.0, dtype); }
Tensor ones(const Shape& shape, DType dtype) { return full(shape, 1.0, dtype); }
Tensor zeros_like(const Tensor& t) {
  OpDeviceGuard on(t->device());
  return zeros(t->sizes(), t->dtype());
}
Tensor ones_like(const Tensor& t) {
  OpDeviceGuard on(t->device());
  return ones(t->sizes(), t->dtype());
}

// A storage dtype's values are made in its compute dtype, then narrowed
// (Note [Storage dtypes]): one rounding, as PyTorch's float accumulation.
static Tensor narrowed(const Tensor& wide, DType dtype) {
  Tensor t = empty(wide->sizes(), dtype);
  kernels::copy(t, wide);
  return t;
}

// Note [Op device]: the creation functions below write their values on the host; called
// while an op runs on a CUDA device (an op's helper: flip's positions, a mask), the result
// moves there.
template <class Make>
static Tensor made_on_host(Make make) {
  const Device device = op_device();
  if (device.is_cpu()) return make();
  Tensor host;
  {
    OpDeviceGuard on_host(Device{});
    host = make();
  }
  return to_device(host, device, host->dtype());
}
static Tensor arange_on_host(double start, double end, double step, DType dtype) {
  if (is_storage_only(dtype)) return narrowed(arange(start, end, step, compute_dtype(dtype)), dtype);
  EMBER_CHECK(step != 0, "arange: step must be nonzero");
  EMBER_CHECK(std::isfinite(start) && std::isfinite(end), "arange: unsupported range: ", start, " -> ", end);
  EMBER_CHECK((step > 0 && end >= start) || (step < 0 && end <= start),
              "upper bound and lower bound inconsistent with step sign");
  int64_t n = (int64_t)std::ceil((end - start) / step);
  Tensor t = empty({n}, dtype);
  dispatch(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = t->data<T>();
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(start + (double)i * step);
  });
  return t;
}
Tensor arange(double start, double end, double step, DType dtype) {
  return made_on_host([&] { return arange_on_host(start, end, step, dtype); });
}

static Tensor linspace_on_host(double start, double end, int64_t steps, DType dtype) {
  if (is_storage_only(dtype)) return narrowed(linspace(start, end, steps, compute_dtype(dtype)), dtype);
  EMBER_CHECK(steps >= 0, "linspace: number of steps must be non-negative");
  Tensor t = empty({steps}, dtype);
  dispatch(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    // In the output precision, filled symmetrically from both ends, as PyTorch,
    // so the last value is exactly `end` and results match bit for bit.
    using S = std::conditional_t<std::is_floating_point_v<T>, T, double>;
    T* p = t->data<T>();
    if (steps == 1) {
      p[0] = static_cast<T>(start);
      return;
    }
    const S a = static_cast<S>(start), b = static_cast<S>(end);
    const S step = (b - a) / static_cast<S>(steps - 1);
    const int64_t half = steps / 2;
    for (int64_t i = 0; i < steps; ++i)
      // fused multiply-add, as PyTorch's vectorised kernel computes it
      p[i] = static_cast<T>(i < half ? std::fma(step, static_cast<S>(i), a)
                                     : std::fma(-step, static_cast<S>(steps - 1 - i), b));
  });
  return t;
}
Tensor linspace(double start, double end, int64_t steps, DType dtype) {
  return made_on_host([&] { return linspace_on_host(start, end, steps, dtype); });
}

static Tensor eye_on_host(int64_t n, int64_t m, DType dtype) {
  if (is_storage_only(dtype)) return narrowed(eye(n, m, compute_dtype(dtype)), dtype);
  EMBER_CHECK(n >= 0 && m >= 0, "eye: n and m must be non-negative, got ", n, " and ", m);
  Tensor t = zeros({n, m}, dtype);
  dispatch(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    for (int64_t i = 0; i < std::min(n, m); ++i) t->data<T>()[i * m + i] = T(1);
  });
  return t;
}
Tensor eye(int64_t n, int64_t m, DType dtype) {
  return made_on_host([&] { return eye_on_host(n, m, dtype); });
}

template <class Fill>
static Tensor random_fill(const Shape& shape, DType dtype, Generator* gen, Fill fill) {
  if (is_storage_only(dtype)) return narrowed(random_fill(shape, compute_dtype(dtype), gen, fill), dtype);
  Tensor t = empty(shape, dtype);
  auto& g = gen ? *gen : Generator::default_cpu();
  std::lock_guard<std::mutex> lock(g.mutex);
  dispatch(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = t->data<T>();
    for (int64_t i = 0; i < t->numel(); ++i) p[i] = static_cast<T>(fill(g.engine));
  });
  return t;
}

// Uniform or normal values (Note [Random fills]); a half float computes in float32 and narrows.
template <class Fill>
static Tensor float_random(const Shape& shape, DType dtype, Generator* gen, Fill fill) {
  Tensor t = empty(shape, is_storage_only(dtype) ? DType::Float32 : dtype);
  auto& g = gen ? *gen : Generator::default_cpu();
  {
    std::lock_guard<std::mutex> lock(g.mutex);
    if (t->dtype() == DType::Float32)
      fill(g.engine, t->data<float>(), t->numel());
    else
      fill(g.engine, t->data<double>(), t->numel());
  }
  return t;
}

static Tensor rand_on_host(const Shape& shape, DType dtype, Generator* gen) {
  EMBER_CHECK_KIND(is_floating(dtype), NotImplemented, "\"check_uniform_bounds\" not implemented for '",
                   scalar_type_name(dtype), "'");
  Tensor t = float_random(shape, dtype, gen, [](auto& e, auto* p, int64_t n) { kernels::uniform_fill(e, p, n); });
  if (!is_storage_only(dtype)) return t;
  // Stay in [0, 1) after rounding: a half float takes a multiple of 2^-digits
  // of its mantissa, as PyTorch's uniform kernel does.
  const float grid = dtype == DType::Float16 ? 2048.0f : 256.0f;
  float* p = t->data<float>();
  for (int64_t i = 0; i < t->numel(); ++i) p[i] = std::floor(p[i] * grid) / grid;
  return narrowed(t, dtype);
}
Tensor rand(const Shape& shape, DType dtype, Generator* gen) {
  return made_on_host([&] { return rand_on_host(shape, dtype, gen); });
}

static Tensor randn_on_host(const Shape& shape, DType dtype, Generator* gen) {
  EMBER_CHECK_KIND(is_floating(dtype), NotImplemented, "\"normal_kernel_cpu\" not implemented for '",
                   scalar_type_name(dtype), "'");
  Tensor t = float_random(shape, dtype, gen, [](auto& e, auto* p, int64_t n) { kernels::normal_fill(e, p, n); });
  return is_storage_only(dtype) ? narrowed(t, dtype) : t;
}
Tensor randn(const Shape& shape, DType dtype, Generator* gen) {
  return made_on_host([&] { return randn_on_host(shape, dtype, gen); });
}

static Tensor randint_on_host(int64_t low, int64_t high, const Shape& shape, DType dtype, Generator* gen) {
  EMBER_CHECK(low < high, "random_ expects 'from' to be less than 'to', but got from=", low, " >= to=", high);
  kernels::UniformIndex index((uint64_t)high - (uint64_t)low);
  return random_fill(shape, dtype, gen, [&](std::mt19937_64& e) { return (int64_t)((uint64_t)low + index(e)); });
}
Tensor randint(int64_t low, int64_t high, const Shape& shape, DType dtype, Generator* gen) {
  return made_on_host([&] { return randint_on_host(low, high, shape, dtype, gen); });
}

static Tensor randperm_on_host(int64_t n, DType dtype, Generator* gen) {
  EMBER_CHECK(n >= 0, "randperm: n must be non-negative, got ", n);
  std::vector<int64_t> perm(n);
  for (int64_t i = 0; i < n; ++i) perm[i] = i;
  auto& g = gen ? *gen : Generator::default_cpu();
  {
    std::lock_guard<std::mutex> lock(g.mutex);
    std::shuffle(perm.begin(), perm.end(), g.engine);
  }
  Tensor t = empty({n}, dtype);
  dispatch_all(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    for (int64_t i = 0; i < n; ++i) t->data<T>()[i] = convert<T>(perm[i]);
  });
  return t;
}
Tensor randperm(int64_t n, DType dtype, Generator* gen) {
  return made_on_host([&] { return randperm_on_host(n, dtype, gen); });
}

}  // namespace ember
