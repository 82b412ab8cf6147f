#include "core/shape.h"

#include <algorithm>

#include "core/error.h"

namespace ember {

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  bool overflow = false;
  for (auto v : s) {
    EMBER_CHECK(v >= 0, "Trying to create tensor with negative dimension ", v, ": ", detail::cat(s));
    overflow |= __builtin_mul_overflow(n, v, &n);
  }
  // A dim of size 0 makes the product 0 whatever the other sizes are.
  for (auto v : s)
    if (v == 0) return 0;
  EMBER_CHECK(!overflow, "Storage size calculation overflowed with sizes=", detail::cat(s));
  return n;
}

size_t storage_bytes(const Shape& s, size_t itemsize) {
  int64_t bytes = 0;
  int64_t n = shape_numel(s);
  EMBER_CHECK(!__builtin_mul_overflow(n, (int64_t)itemsize, &bytes),
              "Storage size calculation overflowed with sizes=", detail::cat(s));
  return (size_t)bytes;
}

Shape contiguous_strides(const Shape& sizes) {
  Shape st(sizes.size());
  int64_t acc = 1;
  for (int64_t i = (int64_t)sizes.size() - 1; i >= 0; --i) {
    st[i] = acc;
    acc *= sizes[i] > 1 ? sizes[i] : 1;
  }
  return st;
}

int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op) {
  int64_t n = ndim > 0 ? ndim : 1;  // a 0-d tensor accepts dim 0 and -1, like PyTorch
  if (dim < -n || dim >= n)
    EMBER_FAIL(Index, "Dimension out of range (expected to be in range of [", -n, ", ", n - 1, "], but got ", dim, ")");
  return dim < 0 ? dim + n : dim;
}

// Two sizes of one dim broadcast when they are equal or either is 1.
static bool sizes_broadcast(int64_t x, int64_t y) { return x == y || x == 1 || y == 1; }

bool broadcastable(const Shape& a, const Shape& b) {
  for (size_t i = 1; i <= std::min(a.size(), b.size()); ++i)
    if (!sizes_broadcast(a[a.size() - i], b[b.size() - i])) return false;
  return true;
}

Shape broadcast_shapes(const Shape& a, const Shape& b) {
  size_t n = a.size() > b.size() ? a.size() : b.size();
  Shape out(n);
  for (size_t i = n; i-- > 0;) {  // from the last dim, as PyTorch: its error names the last mismatch
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (!sizes_broadcast(da, db))
      EMBER_FAIL(Runtime, "The size of tensor a (", da, ") must match the size of tensor b (", db,
                 ") at non-singleton dimension ", i, " (shapes ", detail::cat(a), " and ", detail::cat(b), ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Shape broadcast_strides(const Shape& src_sizes, const Shape& src_strides, const Shape& to) {
  Shape st(to.size(), 0);
  size_t off = to.size() - src_sizes.size();
  for (size_t i = 0; i < src_sizes.size(); ++i)
    st[off + i] = (src_sizes[i] == 1 && to[off + i] != 1) ? 0 : src_strides[i];
  return st;
}

uint64_t dim_mask(const std::vector<int64_t>& dims, int64_t ndim, const char* op) {
  EMBER_CHECK(ndim <= 64, op, ": tensors with more than 64 dimensions are not supported");
  if (dims.empty()) return ndim == 0 ? 0 : (ndim == 64 ? ~0ull : ((1ull << ndim) - 1));
  uint64_t mask = 0;
  for (auto d : dims) {
    int64_t w = wrap_dim(d, ndim, op);
    if (ndim == 0) continue;
    EMBER_CHECK(!(mask & (1ull << w)), op, ": dim ", w, " appears multiple times in the list of dims");
    mask |= 1ull << w;
  }
  return mask;
}

}  // namespace ember
