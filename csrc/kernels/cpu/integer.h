#pragma once
#include <type_traits>

namespace ember {
namespace kernels {

// Integer arithmetic wraps around on overflow, as PyTorch's (two's complement);
// in C++ signed overflow is undefined, so it is done on the unsigned type.
template <class T>
inline T wrap_add(T x, T y) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)
    return T(std::make_unsigned_t<T>(x) + std::make_unsigned_t<T>(y));
  else
    return x + y;
}
template <class T>
inline T wrap_sub(T x, T y) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)
    return T(std::make_unsigned_t<T>(x) - std::make_unsigned_t<T>(y));
  else
    return x - y;
}
template <class T>
inline T wrap_mul(T x, T y) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)
    return T(std::make_unsigned_t<T>(x) * std::make_unsigned_t<T>(y));
  else
    return x * y;
}

template <class T>
inline T wrap_neg(T x) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)
    return wrap_sub(T(0), x);
  else
    return -x;  // not 0 - x: -(+0.0) is -0.0
}

}  // namespace kernels
}  // namespace ember
