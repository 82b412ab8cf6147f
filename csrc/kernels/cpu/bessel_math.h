#pragma once
// Bessel functions of order 0 and 1 and the scaled complementary error
// function, in double precision (float dtypes compute here and round once).
// Note [Bessel functions]: each range uses a method that converges without
// cancellation there:
// - I0, I1: the power series (positive terms) up to |x| = 20, the asymptotic
//   expansion above (its error, about e^-2x, is below 1e-17 there);
// - K0, K1 (and K of any real order, for Airy's Ai): up to x = 20 the integral
//   e^x K_nu(x) = int_0^inf exp(-x (cosh t - 1)) cosh(nu t) dt by the
//   trapezoidal rule, exponentially accurate for this analytic, fast-decaying
//   integrand (h = 0.05 leaves about e^-60); the asymptotic expansion above;
// - J0, J1, Y0, Y1: up to |x| = 25 Miller's backward recurrence for J_k,
//   normalised by J0 + 2 sum J_2k = 1, and Neumann's series of Y0 and Y1 in
//   those J_k; Hankel's asymptotic expansion above.
// - erfcx: exp(x^2) erfc(x) directly below x = 2, the continued fraction of
//   erfc above (no underflow of erfc, no overflow of exp(x^2)).
#include <cmath>
#include <limits>

#include "kernels/cpu/special_math.h"  // EMBER_MATH_HD: these compile into the CUDA kernels too

namespace ember {
namespace kernels {

namespace bessel_detail {
constexpr double kPi = 3.14159265358979323846;
constexpr double kEulerGamma = 0.57721566490153286061;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// sum_k (x/2)^(2k+nu) / (k! (k+nu)!), x >= 0, nu in {0, 1}: positive terms.
EMBER_MATH_HD inline double i_series(int nu, double x) {
  const double q = x * x / 4;
  double term = nu ? x / 2 : 1.0, sum = term;
  for (int k = 1; k < 1000 && term > sum * 1e-18; ++k) {
    term *= q / (double(k) * double(k + nu));
    sum += term;
  }
  return sum;
}

// The asymptotic series sum_k s^k a_k(nu) / x^k, a_k = prod_j (4 nu^2 - (2j-1)^2) / (8 j),
// summed while its terms shrink; s = -1 for I, +1 for K.
EMBER_MATH_HD inline double large_x_series(double nu, double x, double s) {
  const double mu = 4 * nu * nu;
  double term = 1.0, sum = 1.0;
  for (int k = 1; k < 200; ++k) {
    const double next = term * s * (mu - double(2 * k - 1) * double(2 * k - 1)) / (8.0 * k * x);
    if (std::fabs(next) >= std::fabs(term) || std::fabs(next) < 1e-18 * std::fabs(sum)) break;
    term = next;
    sum += term;
  }
  return sum;
}

// e^-|x| I_nu(|x|), nu in {0, 1}.
EMBER_MATH_HD inline double scaled_i_abs(int nu, double ax) {
  if (ax <= 20) return i_series(nu, ax) * std::exp(-ax);
  return large_x_series(nu, ax, -1.0) / std::sqrt(2 * kPi * ax);
}
}  // namespace bessel_detail

// I_nu(x) (scaled: e^-|x| I_nu(x)) for nu in {0, 1}; I0 even, I1 odd.
EMBER_MATH_HD inline double bessel_i(int nu, double x, bool scaled) {
  using namespace bessel_detail;
  if (std::isnan(x)) return x;
  const double ax = std::fabs(x);
  if (std::isinf(x)) return scaled ? 0.0 : (nu && x < 0 ? -kInf : kInf);
  double v;
  if (scaled) {
    v = scaled_i_abs(nu, ax);
  } else {
    v = ax <= 20 ? i_series(nu, ax) : scaled_i_abs(nu, ax) * std::exp(ax);  // inf past x = 713
  }
  return nu && x < 0 ? -v : v;
}

// e^x K_nu(x) for real nu >= 0, x > 0.
EMBER_MATH_HD inline double scaled_bessel_k_positive(double nu, double x) {
  using namespace bessel_detail;
  if (x > 20) return large_x_series(nu, x, 1.0) * std::sqrt(kPi / (2 * x));
  constexpr double h = 0.05;  // the trapezoidal rule's step (Note [Bessel functions])
  double sum = 0.5;           // f(0) / 2
  for (int k = 1; k < 100000; ++k) {
    const double t = k * h;
    const double decay = x * (std::cosh(t) - 1);
    // past this point the terms are below e^-50 and only shrink (x sinh t > nu there)
    if (decay - nu * t > 50) break;
    sum += std::exp(-decay) * std::cosh(nu * t);
  }
  return sum * h;
}

// K_nu(x) (scaled: e^x K_nu(x)) for nu in {0, 1}: inf at 0, NaN below.
EMBER_MATH_HD inline double bessel_k(int nu, double x, bool scaled) {
  using namespace bessel_detail;
  if (std::isnan(x) || x < 0) return kNaN;
  if (x == 0) return kInf;
  if (std::isinf(x)) return 0.0;
  const double v = scaled_bessel_k_positive(nu, x);
  return scaled ? v : v * std::exp(-x);
}

namespace bessel_detail {
// J_0(x), J_1(x), Y_0(x), Y_1(x) for 0 < x <= 25 (Miller and Neumann).
struct SmallJY {
  double j0, j1, y0, y1;
};
EMBER_MATH_HD inline SmallJY small_jy(double x) {
  if (x < 1e-5) {  // the series' first terms (the next are 1e-20 relative); the recurrence would overflow
    const double lg = std::log(x / 2) + kEulerGamma, q = x * x / 4;
    return {1 - q, x / 2 * (1 - q / 2), 2 / kPi * (lg * (1 - q) + q), -2 / (kPi * x) + x / kPi * (lg - 0.5)};
  }
  constexpr int kMaxOrder = 100;
  double j[kMaxOrder + 2] = {};
  int top = int(x + 12 * std::cbrt(x) + 24);
  top += top % 2;  // even, so the normalising sum ends on an even order
  j[top + 1] = 0.0;
  j[top] = 1e-30;
  for (int k = top; k >= 1; --k) {
    j[k - 1] = 2.0 * k / x * j[k] - j[k + 1];
    if (std::fabs(j[k - 1]) > 1e250)  // rescale what exists so far; the dropped values are negligible
      for (int m = k - 1; m <= top; ++m) j[m] *= 1e-250;
  }
  double norm = j[0];
  for (int k = 2; k <= top; k += 2) norm += 2 * j[k];
  for (int k = 0; k <= top; ++k) j[k] /= norm;
  // Y0 = 2/pi [(log(x/2) + gamma) J0 - 2 sum_k (-1)^k J_2k / k]
  // Y1 = 2/pi [(log(x/2) + gamma) J1 - J0 / x + sum_k (-1)^k (J_2k-1 - J_2k+1) / k]  (Y1 = -Y0')
  const double lg = std::log(x / 2) + kEulerGamma;
  double s0 = 0, s1 = 0;
  for (int k = 1; 2 * k <= top; ++k) {
    const double sign = k % 2 ? -1.0 : 1.0;
    s0 += sign * j[2 * k] / k;
    s1 += sign * (j[2 * k - 1] - j[2 * k + 1]) / k;
  }
  return {j[0], j[1], 2 / kPi * (lg * j[0] - 2 * s0), 2 / kPi * (lg * j[1] - j[0] / x + s1)};
}

// Hankel's expansion for x > 25: J = sqrt(2/(pi x)) (P cos c - Q sin c), Y = ... (P sin c + Q cos c),
// c = x - (nu/2 + 1/4) pi; cos c and sin c from cos x and sin x, which the library reduces exactly.
EMBER_MATH_HD inline void large_jy(int nu, double x, double* jv, double* yv) {
  const double mu = 4.0 * nu * nu;
  double p = 1, q = 0, term = 1;
  for (int k = 1; k < 200; ++k) {
    const double next = term * (mu - double(2 * k - 1) * double(2 * k - 1)) / (8.0 * k * x);
    if (std::fabs(next) >= std::fabs(term) || std::fabs(next) < 1e-18) break;
    term = next;
    // a_k / x^k goes to Q (odd k) or P (even k), with the sign (-1)^floor(k/2)
    const double signed_term = (k / 2) % 2 ? -term : term;
    (k % 2 ? q : p) += signed_term;
  }
  const double phase = (nu / 2.0 + 0.25) * kPi;
  const double c = std::cos(x) * std::cos(phase) + std::sin(x) * std::sin(phase);
  const double s = std::sin(x) * std::cos(phase) - std::cos(x) * std::sin(phase);
  const double scale = std::sqrt(2 / (kPi * x));
  *jv = scale * (p * c - q * s);
  *yv = scale * (p * s + q * c);
}
}  // namespace bessel_detail

// J_nu(x) for nu in {0, 1}: J0 even, J1 odd.
EMBER_MATH_HD inline double bessel_j(int nu, double x) {
  using namespace bessel_detail;
  if (std::isnan(x)) return x;
  const double ax = std::fabs(x);
  if (std::isinf(x)) return 0.0;
  if (ax == 0) return nu ? x : 1.0;
  double v, unused;
  if (ax <= 25) {
    const SmallJY r = small_jy(ax);
    v = nu ? r.j1 : r.j0;
  } else {
    large_jy(nu, ax, &v, &unused);
  }
  return nu && x < 0 ? -v : v;
}

// Y_nu(x) for nu in {0, 1}: -inf at 0, NaN below.
EMBER_MATH_HD inline double bessel_y(int nu, double x) {
  using namespace bessel_detail;
  if (std::isnan(x) || x < 0) return kNaN;
  if (x == 0) return -kInf;
  if (std::isinf(x)) return 0.0;
  if (x <= 25) {
    const SmallJY r = small_jy(x);
    return nu ? r.y1 : r.y0;
  }
  double unused, v;
  large_jy(nu, x, &unused, &v);
  return v;
}

// Airy's Ai(x): for x > 2, sqrt(x/3)/pi K_1/3(2/3 x^1.5); for x < -8 the oscillating
// asymptotic form; between, its Maclaurin series (at most ~7 digits of cancellation at -8).
EMBER_MATH_HD inline double airy_ai(double x) {
  using namespace bessel_detail;
  if (std::isnan(x) || std::isinf(x)) return kNaN;  // NaN at both infinities, as PyTorch
  const double zeta = 2.0 / 3.0 * std::pow(std::fabs(x), 1.5);
  if (x > 2) return std::sqrt(x / 3) / kPi * scaled_bessel_k_positive(1.0 / 3.0, zeta) * std::exp(-zeta);
  if (x < -8) {
    // Ai(-z) ~ z^-1/4 / sqrt(pi) [sin(zeta + pi/4) P - cos(zeta + pi/4) Q] with
    // u_k = (6k-5)(6k-3)(6k-1) / ((2k-1) 216 k) u_(k-1); P = sum (-1)^k u_2k zeta^-2k, Q = sum (-1)^k u_2k+1 ...
    double p = 1, q = 0, u = 1;
    for (int k = 1; k < 100; ++k) {
      const double next = u * (6.0 * k - 5) * (6.0 * k - 3) * (6.0 * k - 1) / ((2.0 * k - 1) * 216.0 * k * zeta);
      if (std::fabs(next) >= std::fabs(u) || std::fabs(next) < 1e-18) break;
      u = next;
      const double signed_u = (k / 2) % 2 ? -u : u;
      (k % 2 ? q : p) += signed_u;
    }
    const double angle = zeta + kPi / 4;
    return std::pow(-x, -0.25) / std::sqrt(kPi) * (std::sin(angle) * p - std::cos(angle) * q);
  }
  // Ai(x) = c1 f(x) - c2 g(x), f = sum 3^k (1/3)_k x^3k / (3k)!, g = sum 3^k (2/3)_k x^(3k+1) / (3k+1)!
  constexpr double c1 = 0.355028053887817239260, c2 = 0.258819403792806798405;
  const double x3 = x * x * x;
  double f = 1, g = x, tf = 1, tg = x;
  for (int k = 1; k < 200; ++k) {
    tf *= x3 / ((3.0 * k - 1) * (3.0 * k));
    tg *= x3 / ((3.0 * k) * (3.0 * k + 1));
    f += tf;
    g += tg;
    if (std::fabs(tf) < 1e-18 * std::fabs(f) && std::fabs(tg) < 1e-18 * (std::fabs(g) + 1e-300)) break;
  }
  return c1 * f - c2 * g;
}

// sin(x) / x, 1 at 0 and 0 at both infinities.
EMBER_MATH_HD inline double spherical_bessel_j0(double x) {
  return x == 0 ? 1.0 : std::isinf(x) ? 0.0 : std::sin(x) / x;
}

// exp(x^2) erfc(x), the scaled complementary error function.
EMBER_MATH_HD inline double erfcx(double x) {
  using namespace bessel_detail;
  if (std::isnan(x)) return x;
  if (x < 0) {
    if (x < -26.7) return kInf;  // 2 exp(x^2) overflows
    return 2 * std::exp(x * x) - erfcx(-x);
  }
  if (x < 2) return std::exp(x * x) * std::erfc(x);
  if (x > 1e8) return 1 / (x * std::sqrt(kPi));  // the fraction's first term; the rest is below 1e-16
  // erfc(x) e^(x^2) sqrt(pi) = 1 / (x + (1/2) / (x + 1 / (x + (3/2) / (x + ...)))), by Lentz's method
  constexpr double tiny = 1e-300;
  double f = x, c = x, d = 0;
  for (int k = 1; k < 500; ++k) {
    const double a = k / 2.0;
    d = x + a * d;
    d = d == 0 ? tiny : d;
    c = x + a / c;
    c = c == 0 ? tiny : c;
    d = 1 / d;
    const double delta = c * d;
    f *= delta;
    if (std::fabs(delta - 1) < 1e-16) break;
  }
  return 1 / (f * std::sqrt(kPi));
}

}  // namespace kernels
}  // namespace ember
