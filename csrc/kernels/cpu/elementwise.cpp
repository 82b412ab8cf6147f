#include "kernels/cpu/elementwise.h"
#include "kernels/cuda_dispatch.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "kernels/cpu/bessel_math.h"
#include "kernels/cpu/integer.h"
#include "kernels/cpu/loops.h"
#include "kernels/cpu/special_math.h"
#include "kernels/cpu/vec_math.h"
#include "kernels/cpu/widen.h"

namespace ember {
namespace kernels {

bool is_comparison(BinaryOp op) { return op >= BinaryOp::Eq; }
bool is_predicate(UnaryOp op) { return op >= UnaryOp::LogicalNot; }

template <class T>
static T int_pow(T base, T exp) {
  if (exp < 0) return base == 1 ? 1 : (base == -1 ? ((exp & 1) ? -1 : 1) : 0);
  T r = 1;
  while (exp) {
    if (exp & 1) r = wrap_mul(r, base);
    base = wrap_mul(base, base);
    exp >>= 1;
  }
  return r;
}

// Shifts by a negative count or by the width or more are defined, as in
// PyTorch: left gives 0, right gives the sign (0 or -1).
template <class T>
static T shift_left(T x, T n) {
  using U = std::make_unsigned_t<T>;
  return (n < 0 || n >= T(sizeof(T) * 8)) ? T(0) : T(U(x) << n);
}
template <class T>
static T shift_right(T x, T n) {
  return (n < 0 || n >= T(sizeof(T) * 8)) ? T(x < 0 ? -1 : 0) : T(x >> n);
}

template <class T>
static T nan_max(T a, T b) {
  if constexpr (std::is_floating_point_v<T>)
    if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<T>::quiet_NaN();
  return a > b ? a : b;
}
template <class T>
static T nan_min(T a, T b) {
  if constexpr (std::is_floating_point_v<T>)
    if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<T>::quiet_NaN();
  return a < b ? a : b;
}

// Rounding divisions as PyTorch computes them. Floats: the quotient of
// (a - fmod(a, b)) / b, rounded so that floor_divide(a, b) * b + remainder(a, b)
// is a, without the error of floor(a / b); integers: C's truncating division,
// corrected toward -inf. Integer divisors are never 0 here (the op checks).
template <class T>
static T floor_div(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (b == T(0)) return a / b;
    T mod = std::fmod(a, b);
    T div = (a - mod) / b;
    if (mod != T(0) && ((b < T(0)) != (mod < T(0)))) div -= T(1);
    if (div == T(0)) return std::copysign(T(0), a / b);
    T fl = std::floor(div);
    return div - fl > T(0.5) ? fl + T(1) : fl;
  } else {
    if (b == T(-1)) return wrap_neg(a);  // INT_MIN / -1 wraps, as PyTorch
    T q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
  }
}
template <class T>
static T trunc_div(T a, T b) {
  if constexpr (std::is_floating_point_v<T>)
    return std::trunc(a / b);
  else
    return b == T(-1) ? wrap_neg(a) : a / b;
}
template <class T>
static T remainder_of(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    T mod = std::fmod(a, b);
    return (mod != T(0) && ((b < T(0)) != (mod < T(0)))) ? mod + b : mod;
  } else {
    if (b == T(-1)) return T(0);
    T r = a % b;
    return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
  }
}
template <class T>
static T fmod_of(T a, T b) {
  if constexpr (std::is_floating_point_v<T>)
    return std::fmod(a, b);
  else
    return b == T(-1) ? T(0) : a % b;
}

template <class T>
static void rounding_typed(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b) {
  if constexpr (std::is_same_v<T, bool>) {
    EMBER_FAIL(NotImplemented, "\"", op == BinaryOp::Fmod ? "fmod" : (op == BinaryOp::Remainder ? "remainder" : "div"),
               "_cpu\" not implemented for 'Bool'");
  } else {
    switch (op) {
      case BinaryOp::FloorDivide: return binary_loop<T, T>(out, a, b, [](T x, T y) -> T { return floor_div(x, y); });
      case BinaryOp::TruncDivide: return binary_loop<T, T>(out, a, b, [](T x, T y) -> T { return trunc_div(x, y); });
      case BinaryOp::Remainder: return binary_loop<T, T>(out, a, b, [](T x, T y) -> T { return remainder_of(x, y); });
      default: return binary_loop<T, T>(out, a, b, [](T x, T y) -> T { return fmod_of(x, y); });
    }
  }
}

template <class T>
static T log_add_exp2(T x, T y) {
  if (std::isinf(x) && x == y) return x;
  T m = std::max(x, y);
  return m + std::log1p(std::exp2(-std::fabs(x - y))) / T(0.69314718055994530942);
}

static const char* float_binary_name(BinaryOp op) {
  switch (op) {
    case BinaryOp::Atan2: return "atan2";
    case BinaryOp::Igamma: return "igamma";
    case BinaryOp::Igammac: return "igammac";
    case BinaryOp::Hypot: return "hypot";
    case BinaryOp::LogAddExp: return "logaddexp";
    case BinaryOp::LogAddExp2: return "logaddexp2";
    case BinaryOp::Xlogy: return "xlogy";
    case BinaryOp::Xlog1py: return "xlog1py";
    default: return "zeta";
  }
}

// atan2, the incomplete gamma functions and the other float-only binary
// functions: float dtypes (callers promote integers).
template <class T>
static void float_binary(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b) {
  if constexpr (std::is_floating_point_v<T>) {
    switch (op) {
      case BinaryOp::Atan2: return binary_loop<T, T>(out, a, b, [](T y, T x) -> T { return std::atan2(y, x); });
      case BinaryOp::Igamma: return binary_loop<T, T>(out, a, b, [](T s, T x) -> T { return T(igamma(s, x)); });
      case BinaryOp::Igammac: return binary_loop<T, T>(out, a, b, [](T s, T x) -> T { return T(igammac(s, x)); });
      case BinaryOp::Hypot: return binary_loop<T, T>(out, a, b, [](T x, T y) -> T { return std::hypot(x, y); });
      case BinaryOp::LogAddExp: return binary_loop<T, T>(out, a, b, [](T x, T y) -> T { return log_add_exp(x, y); });
      case BinaryOp::LogAddExp2: return binary_loop<T, T>(out, a, b, [](T x, T y) -> T { return log_add_exp2(x, y); });
      case BinaryOp::Xlogy:
        return binary_loop<T, T>(out, a, b, [](T x, T y) -> T {
          if (std::isnan(y)) return y;
          return x == T(0) ? T(0) : x * std::log(y);
        });
      case BinaryOp::Xlog1py:
        return binary_loop<T, T>(out, a, b, [](T x, T y) -> T {
          if (std::isnan(y)) return y;
          return x == T(0) ? T(0) : x * std::log1p(y);
        });
      case BinaryOp::Zeta: return binary_loop<T, T>(out, a, b, [](T s, T q) -> T { return T(hurwitz_zeta(s, q)); });
      default: break;
    }
  }
  EMBER_FAIL(NotImplemented, "\"", float_binary_name(op), "_cpu\" not implemented for '",
             scalar_type_name(dtype_of<T>()), "'");
}

static const char* bitwise_kernel_name(BinaryOp op) {
  switch (op) {
    case BinaryOp::BitAnd: return "bitwise_and_cpu";
    case BinaryOp::BitOr: return "bitwise_or_cpu";
    case BinaryOp::BitXor: return "bitwise_xor_cpu";
    case BinaryOp::ShiftLeft: return "lshift_cpu";
    default: return "rshift_cpu";
  }
}

template <class T>
static void bitwise_typed(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b) {
  if constexpr (std::is_floating_point_v<T>) {
    EMBER_FAIL(NotImplemented, "\"", bitwise_kernel_name(op), "\" not implemented for '",
               scalar_type_name(dtype_of<T>()), "'");
  } else if constexpr (std::is_same_v<T, bool>) {
    switch (op) {
      case BinaryOp::BitAnd: return binary_loop<T, T>(out, a, b, [](T x, T y) -> T { return x && y; });
      case BinaryOp::BitOr: return binary_loop<T, T>(out, a, b, [](T x, T y) -> T { return x || y; });
      case BinaryOp::BitXor: return binary_loop<T, T>(out, a, b, [](T x, T y) -> T { return x != y; });
      case BinaryOp::ShiftLeft: return binary_loop<T, T>(out, a, b, [](T x, T) -> T { return x; });
      default: return binary_loop<T, T>(out, a, b, [](T x, T y) -> T { return x && !y; });
    }
  } else {
    switch (op) {
      case BinaryOp::BitAnd: return binary_loop<T, T>(out, a, b, [](T x, T y) -> T { return x & y; });
      case BinaryOp::BitOr: return binary_loop<T, T>(out, a, b, [](T x, T y) -> T { return x | y; });
      case BinaryOp::BitXor: return binary_loop<T, T>(out, a, b, [](T x, T y) -> T { return x ^ y; });
      case BinaryOp::ShiftLeft: return binary_loop<T, T>(out, a, b, [](T x, T y) -> T { return shift_left(x, y); });
      default: return binary_loop<T, T>(out, a, b, [](T x, T y) -> T { return shift_right(x, y); });
    }
  }
}

// x ** e for one exponent e (a tensor ** number, and PowBackward0's x ** (e - 1)), as PyTorch's
// pow_tensor_scalar kernel computes it: the exponents programs use most (2 in squared errors, 1 in
// the gradient of a square, 3, 0.5, -0.5, -1, -2) as products, square roots and divisions, which
// vectorise; std::pow per element took 1.5 ms for the gradient of a square of 131k floats (6x PyTorch).
template <class T>
static void pow_scalar_exponent(const Tensor& out, const Tensor& a, T e) {
  if (e == T(2)) return unary_loop<T, T>(out, a, [](T x) -> T { return x * x; });
  if (e == T(1)) return unary_loop<T, T>(out, a, [](T x) -> T { return x; });
  if (e == T(3)) return unary_loop<T, T>(out, a, [](T x) -> T { return x * x * x; });
  if (e == T(0.5)) return unary_loop<T, T>(out, a, [](T x) -> T { return std::sqrt(x); });
  if (e == T(-0.5)) return unary_loop<T, T>(out, a, [](T x) -> T { return T(1) / std::sqrt(x); });
  if (e == T(-1)) return unary_loop<T, T>(out, a, [](T x) -> T { return T(1) / x; });
  if (e == T(-2)) return unary_loop<T, T>(out, a, [](T x) -> T { return T(1) / (x * x); });
  unary_loop<T, T>(out, a, [e](T x) -> T { return std::pow(x, e); });
}

template <class T>
static void binary_typed(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b) {
  switch (op) {
    case BinaryOp::Add:
      if constexpr (std::is_same_v<T, bool>)
        return binary_loop<T, T>(out, a, b, [](T x, T y) -> T { return x || y; });
      else
        return binary_loop<T, T>(out, a, b, [](T x, T y) -> T { return wrap_add(x, y); });
    case BinaryOp::Sub: return binary_loop<T, T>(out, a, b, [](T x, T y) -> T { return wrap_sub(x, y); });
    case BinaryOp::Mul:
      if constexpr (std::is_same_v<T, bool>)
        return binary_loop<T, T>(out, a, b, [](T x, T y) -> T { return x && y; });
      else
        return binary_loop<T, T>(out, a, b, [](T x, T y) -> T { return wrap_mul(x, y); });
    case BinaryOp::Div:
      if constexpr (std::is_integral_v<T>)
        EMBER_FAIL(Runtime, "div: integer division must be done in a floating dtype");
      else
        return binary_loop<T, T>(out, a, b, [](T x, T y) -> T { return x / y; });
    case BinaryOp::Pow:
      if constexpr (std::is_same_v<T, bool>)
        EMBER_FAIL(NotImplemented, "\"pow\" not implemented for 'Bool'");
      else if constexpr (std::is_integral_v<T>)
        return binary_loop<T, T>(out, a, b, [](T x, T y) -> T { return int_pow(x, y); });
      else if (b->numel() == 1)
        return pow_scalar_exponent<T>(out, a, *b->data<T>());
      else
        return binary_loop<T, T>(out, a, b, [](T x, T y) -> T { return y == T(2) ? x * x : std::pow(x, y); });
    case BinaryOp::Maximum: return binary_loop<T, T>(out, a, b, [](T x, T y) -> T { return nan_max(x, y); });
    case BinaryOp::Minimum: return binary_loop<T, T>(out, a, b, [](T x, T y) -> T { return nan_min(x, y); });
    case BinaryOp::ThresholdBackward:
      return binary_loop<T, T>(out, a, b, [](T g, T r) -> T { return r > T(0) ? g : T(0); });
    case BinaryOp::TanhBackward:
    case BinaryOp::SigmoidBackward:
      // Gradient formulas: float dtypes only (their callers are float ops).
      if constexpr (std::is_floating_point_v<T>) {
        if (op == BinaryOp::TanhBackward)
          return binary_loop<T, T>(out, a, b, [](T g, T y) -> T { return g * (T(1) - y * y); });
        return binary_loop<T, T>(out, a, b, [](T g, T y) -> T { return g * y * (T(1) - y); });
      }
      EMBER_ASSERT(false);
    case BinaryOp::Atan2:
    case BinaryOp::Igamma:
    case BinaryOp::Igammac:
    case BinaryOp::Hypot:
    case BinaryOp::LogAddExp:
    case BinaryOp::LogAddExp2:
    case BinaryOp::Xlogy:
    case BinaryOp::Xlog1py:
    case BinaryOp::Zeta: return float_binary<T>(op, out, a, b);
    case BinaryOp::FloorDivide:
    case BinaryOp::TruncDivide:
    case BinaryOp::Remainder:
    case BinaryOp::Fmod: return rounding_typed<T>(op, out, a, b);
    case BinaryOp::BitAnd:
    case BinaryOp::BitOr:
    case BinaryOp::BitXor:
    case BinaryOp::ShiftLeft:
    case BinaryOp::ShiftRight: return bitwise_typed<T>(op, out, a, b);
    case BinaryOp::Eq: return binary_loop<bool, T>(out, a, b, [](T x, T y) { return x == y; });
    case BinaryOp::Ne: return binary_loop<bool, T>(out, a, b, [](T x, T y) { return x != y; });
    case BinaryOp::Lt: return binary_loop<bool, T>(out, a, b, [](T x, T y) { return x < y; });
    case BinaryOp::Le: return binary_loop<bool, T>(out, a, b, [](T x, T y) { return x <= y; });
    case BinaryOp::Gt: return binary_loop<bool, T>(out, a, b, [](T x, T y) { return x > y; });
    case BinaryOp::Ge: return binary_loop<bool, T>(out, a, b, [](T x, T y) { return x >= y; });
    case BinaryOp::LogicalAnd: return binary_loop<bool, T>(out, a, b, [](T x, T y) { return x != T(0) && y != T(0); });
    case BinaryOp::LogicalOr: return binary_loop<bool, T>(out, a, b, [](T x, T y) { return x != T(0) || y != T(0); });
    case BinaryOp::LogicalXor:
      return binary_loop<bool, T>(out, a, b, [](T x, T y) { return (x != T(0)) != (y != T(0)); });
  }
}

void binary(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b) {
  if (on_cuda(out)) return cuda_dispatch::binary(op, out, a, b);
  if (any_storage_only(out, a, b)) {
    Widening w;
    binary(op, w.out(out), w.in(a), w.in(b));
    return w.finish();
  }
  dispatch(a->dtype(), [&](auto tag) { binary_typed<typename decltype(tag)::type>(op, out, a, b); });
}

// Note [Vector math]: a contiguous run goes to vec_math(); a strided or
// broadcast run, or a platform without libmvec, to the scalar reference f.
// A one-element tensor counts as contiguous whatever its strides (make_plan
// drops size-1 dims), so x[i].exp() is bit for bit x.exp()[i].
template <class T, class F>
struct VecMathInner {
  VecFn fn;
  F f;
  bool one_element;
  void operator()(const std::array<char*, 2>& p, const std::array<int64_t, 2>& s, int64_t n) {
    const bool contiguous = one_element || (s[0] == sizeof(T) && s[1] == sizeof(T));
    if (contiguous && vec_math(fn, (const T*)p[1], (T*)p[0], n)) return;
    UnaryInner<T, T, F>{f}(p, s, n);
  }
};

template <class T, class F>
static void vec_unary(VecFn fn, const Tensor& out, const Tensor& a, F f) {
  unary_runs(out, a, VecMathInner<T, F>{fn, f, out->numel() == 1});
}

template <class T>
static void bessel_unary(UnaryOp op, const Tensor& out, const Tensor& a);

template <class T>
static void float_unary(UnaryOp op, const Tensor& out, const Tensor& a) {
  switch (op) {
    case UnaryOp::Sqrt: return unary_loop<T, T>(out, a, [](T x) -> T { return std::sqrt(x); });
    case UnaryOp::Rsqrt: return unary_loop<T, T>(out, a, [](T x) -> T { return T(1) / std::sqrt(x); });
    case UnaryOp::Exp: return vec_unary<T>(VecFn::Exp, out, a, [](T x) -> T { return std::exp(x); });
    case UnaryOp::Log: return vec_unary<T>(VecFn::Log, out, a, [](T x) -> T { return std::log(x); });
    case UnaryOp::Log1p: return vec_unary<T>(VecFn::Log1p, out, a, [](T x) -> T { return std::log1p(x); });
    case UnaryOp::Expm1: return vec_unary<T>(VecFn::Expm1, out, a, [](T x) -> T { return std::expm1(x); });
    case UnaryOp::Sin: return vec_unary<T>(VecFn::Sin, out, a, [](T x) -> T { return std::sin(x); });
    case UnaryOp::Cos: return vec_unary<T>(VecFn::Cos, out, a, [](T x) -> T { return std::cos(x); });
    case UnaryOp::Tan: return vec_unary<T>(VecFn::Tan, out, a, [](T x) -> T { return std::tan(x); });
    case UnaryOp::Tanh: return vec_unary<T>(VecFn::Tanh, out, a, [](T x) -> T { return std::tanh(x); });
    case UnaryOp::Sigmoid:
      // exp(-|x|) cannot overflow, so very negative x keeps its tiny result (not 1 / inf = 0)
      return vec_unary<T>(VecFn::Sigmoid, out, a, [](T x) -> T {
        const T t = std::exp(-std::fabs(x));
        return (x >= T(0) ? T(1) : t) / (T(1) + t);
      });
    case UnaryOp::Reciprocal: return unary_loop<T, T>(out, a, [](T x) -> T { return T(1) / x; });
    case UnaryOp::Erf: return vec_unary<T>(VecFn::Erf, out, a, [](T x) -> T { return std::erf(x); });
    case UnaryOp::IsNan: return unary_loop<bool, T>(out, a, [](T x) { return std::isnan(x); });
    case UnaryOp::IsInf: return unary_loop<bool, T>(out, a, [](T x) { return std::isinf(x); });
    case UnaryOp::IsFinite: return unary_loop<bool, T>(out, a, [](T x) { return std::isfinite(x); });
    case UnaryOp::Lgamma: return unary_loop<T, T>(out, a, [](T x) -> T { return std::lgamma(x); });
    case UnaryOp::Floor: return unary_loop<T, T>(out, a, [](T x) -> T { return std::floor(x); });
    case UnaryOp::Ceil: return unary_loop<T, T>(out, a, [](T x) -> T { return std::ceil(x); });
    case UnaryOp::Trunc: return unary_loop<T, T>(out, a, [](T x) -> T { return std::trunc(x); });
    case UnaryOp::Round: return unary_loop<T, T>(out, a, [](T x) -> T { return std::nearbyint(x); });
    case UnaryOp::Frac: return unary_loop<T, T>(out, a, [](T x) -> T { return x - std::trunc(x); });
    case UnaryOp::Asin: return unary_loop<T, T>(out, a, [](T x) -> T { return std::asin(x); });
    case UnaryOp::Acos: return unary_loop<T, T>(out, a, [](T x) -> T { return std::acos(x); });
    case UnaryOp::Atan: return unary_loop<T, T>(out, a, [](T x) -> T { return std::atan(x); });
    case UnaryOp::Sinh: return unary_loop<T, T>(out, a, [](T x) -> T { return std::sinh(x); });
    case UnaryOp::Cosh: return unary_loop<T, T>(out, a, [](T x) -> T { return std::cosh(x); });
    case UnaryOp::Asinh: return unary_loop<T, T>(out, a, [](T x) -> T { return std::asinh(x); });
    case UnaryOp::Acosh: return unary_loop<T, T>(out, a, [](T x) -> T { return std::acosh(x); });
    case UnaryOp::Atanh: return unary_loop<T, T>(out, a, [](T x) -> T { return std::atanh(x); });
    case UnaryOp::Log2: return unary_loop<T, T>(out, a, [](T x) -> T { return std::log2(x); });
    case UnaryOp::Log10: return unary_loop<T, T>(out, a, [](T x) -> T { return std::log10(x); });
    case UnaryOp::Exp2: return unary_loop<T, T>(out, a, [](T x) -> T { return std::exp2(x); });
    case UnaryOp::Erfc: return unary_loop<T, T>(out, a, [](T x) -> T { return std::erfc(x); });
    case UnaryOp::Erfinv: return unary_loop<T, T>(out, a, [](T x) -> T { return T(erfinv(double(x))); });
    case UnaryOp::Digamma: return unary_loop<T, T>(out, a, [](T x) -> T { return T(digamma(double(x))); });
    default: return bessel_unary<T>(op, out, a);
  }
}

// The functions of bessel_math.h, in double precision, rounded once to T.
template <class T>
static void bessel_unary(UnaryOp op, const Tensor& out, const Tensor& a) {
  auto run = [&](double (*f)(double)) { unary_loop<T, T>(out, a, [f](T x) -> T { return T(f(double(x))); }); };
  switch (op) {
    case UnaryOp::I0: return run([](double x) { return bessel_i(0, x, false); });
    case UnaryOp::I0e: return run([](double x) { return bessel_i(0, x, true); });
    case UnaryOp::I1: return run([](double x) { return bessel_i(1, x, false); });
    case UnaryOp::I1e: return run([](double x) { return bessel_i(1, x, true); });
    case UnaryOp::Erfcx: return run(erfcx);
    case UnaryOp::BesselJ0: return run([](double x) { return bessel_j(0, x); });
    case UnaryOp::BesselJ1: return run([](double x) { return bessel_j(1, x); });
    case UnaryOp::BesselY0: return run([](double x) { return bessel_y(0, x); });
    case UnaryOp::BesselY1: return run([](double x) { return bessel_y(1, x); });
    case UnaryOp::ModifiedBesselK0: return run([](double x) { return bessel_k(0, x, false); });
    case UnaryOp::ModifiedBesselK1: return run([](double x) { return bessel_k(1, x, false); });
    case UnaryOp::ScaledModifiedBesselK0: return run([](double x) { return bessel_k(0, x, true); });
    case UnaryOp::ScaledModifiedBesselK1: return run([](double x) { return bessel_k(1, x, true); });
    case UnaryOp::AiryAi: return run(airy_ai);
    case UnaryOp::SphericalBesselJ0: return run(spherical_bessel_j0);
    default: break;
  }
  EMBER_ASSERT(false);
}

static const char* unary_kernel_name(UnaryOp op) {
  switch (op) {
    case UnaryOp::Frac: return "frac";
    case UnaryOp::Erfinv: return "erfinv";
    case UnaryOp::Digamma: return "digamma";
    default: return "unary";
  }
}

template <class T>
static void any_unary(UnaryOp op, const Tensor& out, const Tensor& a) {
  switch (op) {
    case UnaryOp::Neg:
      if constexpr (std::is_same_v<T, bool>)
        EMBER_FAIL(Runtime,
                   "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, "
                   "use the `~` or `logical_not()` operator instead.");
      else
        return unary_loop<T, T>(out, a, [](T x) -> T { return wrap_neg(x); });
    case UnaryOp::Abs:
      if constexpr (std::is_same_v<T, bool>)
        return unary_loop<T, T>(out, a, [](T x) -> T { return x; });
      else if constexpr (std::is_floating_point_v<T>)
        return unary_loop<T, T>(out, a, [](T x) -> T { return std::fabs(x); });  // abs(-0.0) is 0.0, as PyTorch
      else
        return unary_loop<T, T>(out, a, [](T x) -> T { return x < 0 ? wrap_neg(x) : x; });
    case UnaryOp::Relu: return unary_loop<T, T>(out, a, [](T x) -> T { return x > T(0) ? x : (x != x ? x : T(0)); });
    case UnaryOp::Sign:
      if constexpr (std::is_same_v<T, bool>)
        return unary_loop<T, T>(out, a, [](T x) -> T { return x; });
      else
        return unary_loop<T, T>(
            out, a, [](T x) -> T { return x != x ? T(0) : T((T(0) < x) - (x < T(0))); });  // sign(NaN) = 0, as PyTorch
    case UnaryOp::LogicalNot: return unary_loop<bool, T>(out, a, [](T x) { return x == T(0); });
    case UnaryOp::BitNot:
      if constexpr (std::is_same_v<T, bool>)
        return unary_loop<T, T>(out, a, [](T x) -> T { return !x; });
      else if constexpr (std::is_integral_v<T>)
        return unary_loop<T, T>(out, a, [](T x) -> T { return ~x; });
      else
        EMBER_FAIL(NotImplemented, "\"bitwise_not_cpu\" not implemented for '", scalar_type_name(dtype_of<T>()), "'");
    case UnaryOp::IsNan:
    case UnaryOp::IsInf:
      if constexpr (!std::is_floating_point_v<T>) return unary_loop<bool, T>(out, a, [](T) { return false; });
      break;
    case UnaryOp::IsFinite:
      if constexpr (!std::is_floating_point_v<T>) return unary_loop<bool, T>(out, a, [](T) { return true; });
      break;
    case UnaryOp::Floor:
    case UnaryOp::Ceil:
    case UnaryOp::Trunc:
    case UnaryOp::Round:
      if constexpr (!std::is_floating_point_v<T>) return unary_loop<T, T>(out, a, [](T x) -> T { return x; });
      break;
    case UnaryOp::Signbit:
      if constexpr (std::is_floating_point_v<T>)
        return unary_loop<bool, T>(out, a, [](T x) { return std::signbit(x); });
      else
        return unary_loop<bool, T>(out, a, [](T x) { return x < T(0); });
    default: break;
  }
  if constexpr (std::is_floating_point_v<T>)
    return float_unary<T>(op, out, a);
  else
    EMBER_FAIL(NotImplemented, "\"", unary_kernel_name(op), "_cpu\" not implemented for '",
               scalar_type_name(dtype_of<T>()), "'");
}

void unary(UnaryOp op, const Tensor& out, const Tensor& a) {
  if (on_cuda(out)) return cuda_dispatch::unary(op, out, a);
  if (any_storage_only(out, a)) {
    Widening w;
    unary(op, w.out(out), w.in(a));
    return w.finish();
  }
  dispatch(a->dtype(), [&](auto tag) { any_unary<typename decltype(tag)::type>(op, out, a); });
}

#if defined(__x86_64__)
// float16 <-> float32 is what every float16 op pays on the way in and out
// (Note [Storage dtypes]): 8 values per instruction where the CPU has F16C
// (every x86-64 CPU since 2012), the portable conversion elsewhere.
__attribute__((target("avx,f16c"))) static void half_to_float_f16c(const uint16_t* in, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)(in + i))));
  for (; i < n; ++i) out[i] = Half::to_float(in[i]);
}

__attribute__((target("avx,f16c"))) static void float_to_half_f16c(const float* in, uint16_t* out, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128((__m128i*)(out + i), _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; ++i) out[i] = Half::from_float(in[i]);
}

// True when it did the copy: both contiguous, one float16 and the other float32.
static bool copy_half_float_f16c(const Tensor& dst, const Tensor& src) {
  static const bool has_f16c = __builtin_cpu_supports("f16c") && __builtin_cpu_supports("avx");
  const bool to_float = dst->dtype() == DType::Float32 && src->dtype() == DType::Float16;
  const bool to_half = dst->dtype() == DType::Float16 && src->dtype() == DType::Float32;
  if (!has_f16c || !(to_float || to_half) || !dst->is_contiguous() || !src->is_contiguous() ||
      dst->sizes() != src->sizes())
    return false;
  const int64_t n = dst->numel(), chunk = 1 << 14;
  const int64_t chunks = (n + chunk - 1) / chunk;
  AllowThreads allow(n >= kParallelGrain);
#pragma omp parallel for num_threads(max_threads()) schedule(static) if (n >= kParallelGrain)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t at = c * chunk, len = std::min(chunk, n - at);
    if (to_float)
      half_to_float_f16c(src->data<uint16_t>() + at, dst->data<float>() + at, len);
    else
      float_to_half_f16c(src->data<float>() + at, dst->data<uint16_t>() + at, len);
  }
  return true;
}
#else
static bool copy_half_float_f16c(const Tensor&, const Tensor&) { return false; }
#endif

void copy(const Tensor& dst, const Tensor& src) {
  if (on_cuda(dst) || on_cuda(src)) return cuda_dispatch::copy(dst, src);
  if (copy_half_float_f16c(dst, src)) return;
  dispatch_all(dst->dtype(), [&](auto out_tag) {
    using O = typename decltype(out_tag)::type;
    dispatch_all(src->dtype(), [&](auto in_tag) {
      using I = typename decltype(in_tag)::type;
      unary_loop<O, I>(dst, src, [](I x) { return convert<O>(x); });
    });
  });
}

void fill(const Tensor& dst, double value) {
  if (on_cuda(dst)) return cuda_dispatch::fill(dst, value);
  dispatch_all(dst->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T v = convert<T>(value);
    auto plan = make_plan<1>(dst->sizes(), {dst.get()}, {&dst->strides()});
    for_each_run<1>(plan, [v](const std::array<char*, 1>& p, const std::array<int64_t, 1>& s, int64_t n) {
      if (s[0] == sizeof(T)) {
        T* o = (T*)p[0];
        for (int64_t i = 0; i < n; ++i) o[i] = v;
      } else {
        for (int64_t i = 0; i < n; ++i) *(T*)(p[0] + i * s[0]) = v;
      }
    });
  });
}

void clamp(const Tensor& out, const Tensor& a, const double* lo, const double* hi) {
  if (on_cuda(out)) return cuda_dispatch::clamp(out, a, lo, hi);
  if (any_storage_only(out, a)) {
    Widening w;
    clamp(w.out(out), w.in(a), lo, hi);
    return w.finish();
  }
  dispatch(a->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, bool>) {
      const char* kernel = lo && hi ? "clamp_scalar_cpu" : (lo ? "clamp_min_scalar_cpu" : "clamp_max_scalar_cpu");
      EMBER_FAIL(NotImplemented, "\"", kernel, "\" not implemented for 'Bool'");
    } else {
      // A missing bound is the type's extreme; selects without branches, which vectorise: with
      // branches a ReLU's clamp mispredicted half its elements and ran at 2 ns each. A NaN input
      // compares false and passes through; a NaN bound makes every element NaN, as in PyTorch.
      using Limits = std::numeric_limits<T>;
      const T l = lo ? static_cast<T>(*lo) : (Limits::has_infinity ? -Limits::infinity() : Limits::lowest());
      const T h = hi ? static_cast<T>(*hi) : (Limits::has_infinity ? Limits::infinity() : Limits::max());
      if (l != l || h != h) {
        unary_loop<T, T>(out, a, [](T) -> T { return std::numeric_limits<T>::quiet_NaN(); });
        return;
      }
      unary_loop<T, T>(out, a, [=](T x) -> T {
        const T above = l > x ? l : x;
        return above > h ? h : above;
      });
    }
  });
}

void where(const Tensor& out, const Tensor& cond, const Tensor& a, const Tensor& b) {
  if (on_cuda(out)) return cuda_dispatch::where(out, cond, a, b);
  dispatch_all(out->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    OperandStrides sc(*cond, out->sizes()), sa(*a, out->sizes()), sb(*b, out->sizes());
    auto plan = make_plan<4>(out->sizes(), {out.get(), cond.get(), a.get(), b.get()},
                             {&out->strides(), sc.strides, sa.strides, sb.strides});
    for_each_run<4>(plan, [](const std::array<char*, 4>& p, const std::array<int64_t, 4>& s, int64_t n) {
      for (int64_t i = 0; i < n; ++i)
        *(T*)(p[0] + i * s[0]) =
            *(const bool*)(p[1] + i * s[1]) ? *(const T*)(p[2] + i * s[2]) : *(const T*)(p[3] + i * s[3]);
    });
  });
}

}  // namespace kernels
}  // namespace ember
