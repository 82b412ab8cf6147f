#pragma once
// Two kinds of check (DESIGN.md): user errors, which become the matching Python
// exception and name the op, shapes and dtypes; internal invariants, which name
// file and line because they are ember's bugs, not the user's.
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace ember {

enum class ErrorKind { Runtime, Value, Type, Index, NotImplemented };

struct Error : std::runtime_error {
  ErrorKind kind;
  Error(ErrorKind k, const std::string& msg) : std::runtime_error(msg), kind(k) {}
};

namespace detail {
inline std::ostream& operator<<(std::ostream& os, const std::vector<int64_t>& v) {
  os << '[';
  for (size_t i = 0; i < v.size(); ++i) os << (i ? ", " : "") << v[i];
  return os << ']';
}
template <class... Args>
std::string cat(const Args&... args) {
  std::ostringstream s;
  (s << ... << args);
  return s.str();
}
}  // namespace detail

}  // namespace ember

#define EMBER_CHECK_KIND(cond, kind, ...)                                                           \
  do {                                                                                              \
    if (!(cond)) throw ::ember::Error(::ember::ErrorKind::kind, ::ember::detail::cat(__VA_ARGS__)); \
  } while (0)
#define EMBER_CHECK(cond, ...) EMBER_CHECK_KIND(cond, Runtime, __VA_ARGS__)
#define EMBER_FAIL(kind, ...) throw ::ember::Error(::ember::ErrorKind::kind, ::ember::detail::cat(__VA_ARGS__))

#define EMBER_ASSERT(cond)                                                                                \
  do {                                                                                                    \
    if (!(cond))                                                                                          \
      throw std::logic_error(                                                                             \
          ::ember::detail::cat("ember internal assert failed at ", __FILE__, ":", __LINE__, ": " #cond)); \
  } while (0)
