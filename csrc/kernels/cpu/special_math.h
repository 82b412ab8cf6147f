#pragma once
// The regularized incomplete gamma functions P(a, x) (igamma) and Q(a, x) =
// 1 - P(a, x) (igammac), after Cephes' igam/igamc: a power series for
// x < a + 1, a continued fraction above (each converges fast on its side), and
// the other as 1 minus the one computed. Special values as PyTorch and scipy.
#include <cmath>
#include <limits>

namespace ember {
namespace kernels {

namespace igamma_detail {
constexpr double kEps = 1.11022302462515654042e-16;  // 2^-53
constexpr double kMaxLog = 7.09782712893383996843e2;
constexpr double kBig = 4.503599627370496e15;
constexpr double kBigInv = 2.22044604925031308085e-16;
constexpr int kMaxIter = 100000;  // a guard; convergence takes O(sqrt(a)) terms

// x^a e^-x / Gamma(a), the factor both expansions share; 0 when it underflows.
inline double prefactor(double a, double x) {
  double ax = a * std::log(x) - x - std::lgamma(a);
  return ax < -kMaxLog ? 0.0 : std::exp(ax);
}

// P(a, x) by its power series; for x <= a + 1.
inline double series(double a, double x) {
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
inline double continued_fraction(double a, double x) {
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
}  // namespace igamma_detail

// P(a, x) when `lower`, else Q(a, x).
inline double incomplete_gamma(double a, double x, bool lower) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (std::isnan(a) || std::isnan(x) || a < 0 || x < 0) return nan;
  if (a == 0) return x > 0 ? (lower ? 1.0 : 0.0) : nan;
  if (x == 0) return lower ? 0.0 : 1.0;
  if (std::isinf(a)) return std::isinf(x) ? nan : (lower ? 0.0 : 1.0);
  if (std::isinf(x)) return lower ? 1.0 : 0.0;
  if (x > a + 1.0) {
    double q = igamma_detail::continued_fraction(a, x);
    return lower ? 1.0 - q : q;
  }
  double p = igamma_detail::series(a, x);
  return lower ? p : 1.0 - p;
}
inline double igamma(double a, double x) { return incomplete_gamma(a, x, true); }
inline double igammac(double a, double x) { return incomplete_gamma(a, x, false); }

}  // namespace kernels
}  // namespace ember
