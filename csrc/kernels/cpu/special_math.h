#pragma once
// The regularized incomplete gamma functions P(a, x) (igamma) and Q(a, x) =
// 1 - P(a, x) (igammac), after Cephes' igam/igamc: a power series for
// x < a + 1, a continued fraction above (each converges fast on its side), and
// the other as 1 minus the one computed. Special values as PyTorch and scipy.
#include <algorithm>
#include <cmath>
#include <limits>

// The functions marked so also compile into the CUDA kernels (kernels/cuda/portable.h).
#ifdef __CUDACC__
#define EMBER_MATH_HD __host__ __device__
#else
#define EMBER_MATH_HD
#endif

namespace ember {
namespace kernels {

// log(e^x + e^y) without overflow: the larger plus log1p of the smaller's share.
template <class T>
inline T log_add_exp(T x, T y) {
  if (std::isinf(x) && x == y) return x;  // -inf + -inf, inf + inf: no inf - inf
  T m = std::max(x, y);
  return m + std::log1p(std::exp(-std::fabs(x - y)));
}

namespace igamma_detail {
constexpr double kEps = 1.11022302462515654042e-16;  // 2^-53
constexpr double kMaxLog = 7.09782712893383996843e2;
constexpr double kBig = 4.503599627370496e15;
constexpr double kBigInv = 2.22044604925031308085e-16;
constexpr int kMaxIter = 100000;  // a guard; convergence takes O(sqrt(a)) terms

// x^a e^-x / Gamma(a), the factor both expansions share; 0 when it underflows.
EMBER_MATH_HD inline double prefactor(double a, double x) {
  double ax = a * std::log(x) - x - std::lgamma(a);
  return ax < -kMaxLog ? 0.0 : std::exp(ax);
}

// P(a, x) by its power series; for x <= a + 1.
EMBER_MATH_HD inline double series(double a, double x) {
  double ax = prefactor(a, x);
  if (ax == 0.0) return 0.0;
  double r = a, c = 1.0, sum = 1.0;
  for (int i = 0; i < kMaxIter && c / sum > kEps; ++i) {
    r += 1.0;
    c *= x / r;
    sum += c;
  }
  return sum * ax / a;
}

// Q(a, x) by its continued fraction; for x > a + 1.
EMBER_MATH_HD inline double continued_fraction(double a, double x) {
  double ax = prefactor(a, x);
  if (ax == 0.0) return 0.0;
  double y = 1.0 - a, z = x + y + 1.0, c = 0.0;
  double pkm2 = 1.0, qkm2 = x, pkm1 = x + 1.0, qkm1 = z * x;
  double ans = pkm1 / qkm1, t = 1.0;
  for (int i = 0; i < kMaxIter && t > kEps; ++i) {
    c += 1.0;
    y += 1.0;
    z += 2.0;
    double yc = y * c;
    double pk = pkm1 * z - pkm2 * yc, qk = qkm1 * z - qkm2 * yc;
    if (qk != 0.0) {
      double r = pk / qk;
      t = std::fabs((ans - r) / r);
      ans = r;
    } else {
      t = 1.0;
    }
    pkm2 = pkm1;
    pkm1 = pk;
    qkm2 = qkm1;
    qkm1 = qk;
    if (std::fabs(pk) > kBig) {
      pkm2 *= kBigInv;
      pkm1 *= kBigInv;
      qkm2 *= kBigInv;
      qkm1 *= kBigInv;
    }
  }
  return ans * ax;
}

// P(a, x) (`lower`) or Q(a, x) by Temme's uniform asymptotic expansion, for large a with x near a, where the
// power series needs O(sqrt(a)) terms and loses digits (1e-10 at a = 1e5; a = x = 1e10 gave P = 0.34 for 0.5);
// within 5% of a from a = 1e4 on this is good to ~1e-12 (against mpmath): Q = erfc(eta sqrt(a/2)) / 2 + R,
// P = erfc(-eta sqrt(a/2)) / 2 - R, R = exp(-a eta^2 / 2) / sqrt(2 pi a) (c0(eta) + c1(eta) / a),
// eta^2 / 2 = lambda - 1 - log(lambda), lambda = x / a; c0 = 1 / (lambda - 1) - 1 / eta, by its Taylor series
// where that cancels; the next terms are O(a^-2). Each tail is computed as itself, so a tiny one keeps its digits.
EMBER_MATH_HD inline double temme(double a, double x, bool lower) {
  const double mu = (x - a) / a;  // lambda - 1
  const double half_eta2 =
      std::fabs(mu) < 1e-3 ? mu * mu * (0.5 + mu * (-1.0 / 3 + mu * (0.25 - mu / 5))) : mu - std::log1p(mu);
  const double eta = std::copysign(std::sqrt(2 * half_eta2), mu);
  const double c0 = std::fabs(eta) < 1e-3
                        ? -1.0 / 3 + eta * (1.0 / 12 + eta * (-2.0 / 135 + eta * (1.0 / 864 + eta / 2835)))
                        : 1 / mu - 1 / eta;
  const double c1 = -1.0 / 540 - eta / 288;
  const double r = std::exp(-a * half_eta2) / std::sqrt(2 * 3.14159265358979323846 * a) * (c0 + c1 / a);
  return lower ? 0.5 * std::erfc(-eta * std::sqrt(a / 2)) - r : 0.5 * std::erfc(eta * std::sqrt(a / 2)) + r;
}
}  // namespace igamma_detail

// P(a, x) when `lower`, else Q(a, x).
EMBER_MATH_HD inline double incomplete_gamma(double a, double x, bool lower) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (std::isnan(a) || std::isnan(x) || a < 0 || x < 0) return nan;
  if (a == 0) return x > 0 ? (lower ? 1.0 : 0.0) : nan;
  if (x == 0) return lower ? 0.0 : 1.0;
  if (std::isinf(a)) return std::isinf(x) ? nan : (lower ? 0.0 : 1.0);
  if (std::isinf(x)) return lower ? 1.0 : 0.0;
  if (a > 1e4 && std::fabs(x - a) < 0.05 * a) return igamma_detail::temme(a, x, lower);
  if (x > a + 1.0) {
    double q = igamma_detail::continued_fraction(a, x);
    return lower ? 1.0 - q : q;
  }
  double p = igamma_detail::series(a, x);
  return lower ? p : 1.0 - p;
}
EMBER_MATH_HD inline double igamma(double a, double x) { return incomplete_gamma(a, x, true); }
EMBER_MATH_HD inline double igammac(double a, double x) { return incomplete_gamma(a, x, false); }

// psi(x) = d/dx log Gamma(x): reflection for x < 0, the recurrence
// psi(x) = psi(x + 1) - 1/x up to x >= 10, then the asymptotic series.
EMBER_MATH_HD inline double digamma(double x) {
  constexpr double kPi = 3.14159265358979323846;
  if (std::isnan(x) || x == -std::numeric_limits<double>::infinity()) return std::numeric_limits<double>::quiet_NaN();
  if (x == 0) return std::copysign(std::numeric_limits<double>::infinity(), -x);  // as PyTorch: psi(+-0) = -+inf
  if (x < 0) {
    if (x == std::floor(x)) return std::numeric_limits<double>::quiet_NaN();  // poles
    return digamma(1 - x) - kPi / std::tan(kPi * x);
  }
  double acc = 0;
  while (x < 10) acc -= 1 / x, x += 1;
  if (std::isinf(x)) return x;
  const double z = 1 / (x * x);
  // Bernoulli numbers B_2k / 2k for k = 1..7
  const double series =
      z *
      (1.0 / 12 - z * (1.0 / 120 - z * (1.0 / 252 - z * (1.0 / 240 - z * (1.0 / 132 - z * (691.0 / 32760 - z / 12))))));
  return acc + std::log(x) - 0.5 / x - series;
}

// zeta(s, q) = sum_k (k + q)^-s, s > 1: direct terms until q + k >= 9, then the
// Euler-Maclaurin tail with the constants (2j)! / B_2j. Poles as scipy.
EMBER_MATH_HD inline double hurwitz_zeta(double s, double q) {
  constexpr double kInf = std::numeric_limits<double>::infinity(), kNaN = std::numeric_limits<double>::quiet_NaN();
  constexpr double kEps = 1.11022302462515654042e-16;
  // not static: the CUDA kernels compile this function too
  const double kTail[12] = {12.0,
                            -720.0,
                            30240.0,
                            -1209600.0,
                            47900160.0,
                            -1.8924375803183791606e9,
                            7.47242496e10,
                            -2.950130727918164224e12,
                            1.1646782814350067249e14,
                            -4.5979787224074726105e15,
                            1.8152105401943546773e17,
                            -7.1661652561756670113e18};
  if (std::isnan(s) || std::isnan(q)) return kNaN;
  if (s == 1) return kInf;
  if (s < 1) return kNaN;
  if (q <= 0) {
    if (q == std::floor(q)) return kInf;
    if (s != std::floor(s)) return kNaN;  // q^-s is not real
  }
  double sum = std::pow(q, -s), a = q, b = 0;
  int i = 0;
  while (i < 9 || a <= 9) {
    ++i;
    a += 1;
    b = std::pow(a, -s);
    sum += b;
    if (std::fabs(b / sum) < kEps) return sum;
  }
  const double w = a;
  sum += b * w / (s - 1) - 0.5 * b;
  double fact = 1, k = 0;
  for (double c : kTail) {
    fact *= s + k;
    b /= w;
    const double t = fact * b / c;
    sum += t;
    if (std::fabs(t / sum) < kEps) break;
    k += 1;
    fact *= s + k;
    b /= w;
    k += 1;
  }
  return sum;
}

// erfinv(y): Giles' single-precision polynomial as the first guess, then
// Newton steps on erf(x) - y to double precision.
EMBER_MATH_HD inline double erfinv(double y) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  if (std::isnan(y) || y < -1 || y > 1) return std::numeric_limits<double>::quiet_NaN();
  if (y == 1) return kInf;
  if (y == -1) return -kInf;
  double w = -std::log((1 - y) * (1 + y)), p;
  if (w < 5) {
    w -= 2.5;
    p = 2.81022636e-08;
    for (double c : {3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503, -0.00417768164,
                     0.246640727, 1.50140941})
      p = c + p * w;
  } else {
    w = std::sqrt(w) - 3;
    p = -0.000200214257;
    for (double c : {0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047,
                     1.00167406, 2.83297682})
      p = c + p * w;
  }
  double x = p * y;
  for (int i = 0; i < 3; ++i) {
    const double slope = 1.1283791670955126 * std::exp(-x * x);  // d/dx erf(x)
    if (slope == 0) break;
    x -= (std::erf(x) - y) / slope;
  }
  return x;
}

}  // namespace kernels
}  // namespace ember
