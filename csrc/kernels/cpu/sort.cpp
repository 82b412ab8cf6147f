#include "kernels/cpu/sort.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "kernels/cpu/loops.h"
#include "kernels/cpu/widen.h"
#include "kernels/cuda_dispatch.h"

namespace ember {
namespace kernels {

// NaN ranks above every number, as in PyTorch's sort.
template <class T>
static bool less_nan_last(T a, T b) {
  return is_nan(b) ? !is_nan(a) : a < b;
}

void sort_rows(const Tensor& values, const Tensor& indices, const Tensor& x, bool descending) {
  if (on_cuda(values)) return cuda_dispatch::sort_rows(values, indices, x, descending);
  if (any_storage_only(values, x)) {
    Widening w;
    sort_rows(w.out(values), indices, w.in(x), descending);
    return w.finish();
  }
  const int64_t n = x->dim() ? x->size(x->dim() - 1) : 1;
  const int64_t rows = n ? x->numel() / n : 0;
  dispatch(x->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* in = x->data<T>();
    T* out = values->data<T>();
    int64_t* idx = indices->data<int64_t>();
#pragma omp parallel for num_threads(max_threads()) schedule(static) if (x->numel() >= kParallelGrain && rows > 1)
    for (int64_t r = 0; r < rows; ++r) {
      const T* row = in + r * n;
      int64_t* ir = idx + r * n;
      std::iota(ir, ir + n, int64_t(0));
      if (descending)
        std::stable_sort(ir, ir + n, [row](int64_t a, int64_t b) { return less_nan_last(row[b], row[a]); });
      else
        std::stable_sort(ir, ir + n, [row](int64_t a, int64_t b) { return less_nan_last(row[a], row[b]); });
      for (int64_t j = 0; j < n; ++j) out[r * n + j] = row[ir[j]];
    }
  });
}

void search_rows(const Tensor& out, const Tensor& sorted, const Tensor& values, bool right) {
  if (any_storage_only(sorted, values)) {
    Widening w;
    search_rows(out, w.in(sorted), w.in(values), right);
    return w.finish();
  }
  if (on_cuda(out)) return cuda_dispatch::search_rows(out, sorted, values, right);
  const int64_t n = sorted->size(sorted->dim() - 1), m = values->dim() ? values->size(values->dim() - 1) : 1;
  const int64_t rows = m ? values->numel() / m : 0;
  const bool shared = sorted->numel() == n;
  dispatch(values->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* seq = sorted->data<T>();
    const T* v = values->data<T>();
    dispatch(out->dtype(), [&](auto otag) {
      using O = typename decltype(otag)::type;
      O* o = out->data<O>();
      for (int64_t r = 0; r < rows; ++r) {
        const T* s = shared ? seq : seq + r * n;
        for (int64_t j = 0; j < m; ++j) {
          T x = v[r * m + j];
          const T* at =
              right ? std::upper_bound(s, s + n, x, less_nan_last<T>) : std::lower_bound(s, s + n, x, less_nan_last<T>);
          o[r * m + j] = static_cast<O>(at - s);
        }
      }
    });
  });
}

void isin(const Tensor& out, const Tensor& elements, const Tensor& test, bool invert) {
  if (any_storage_only(elements, test)) {
    Widening w;
    isin(out, w.in(elements), w.in(test), invert);
    return w.finish();
  }
  dispatch(elements->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    std::vector<T> t(test->data<T>(), test->data<T>() + test->numel());
    std::sort(t.begin(), t.end(), less_nan_last<T>);
    const T* e = elements->data<T>();
    bool* o = out->data<bool>();
    for (int64_t i = 0; i < elements->numel(); ++i) {
      // NaN equals nothing, itself included.
      bool found = !is_nan(e[i]) && std::binary_search(t.begin(), t.end(), e[i], less_nan_last<T>);
      o[i] = found != invert;
    }
  });
}

void unique_rows(const Tensor& x, bool consecutive, std::vector<int64_t>& order, std::vector<char>& starts) {
  if (any_storage_only(x)) {
    Widening w;
    unique_rows(w.in(x), consecutive, order, starts);
    return w.finish();
  }
  const int64_t n = x->size(0), len = x->dim() > 1 ? x->size(1) : 1;
  order.resize(n);
  std::iota(order.begin(), order.end(), int64_t(0));
  starts.assign(n, 0);
  dispatch(x->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* p = x->data<T>();
    auto row_less = [&](int64_t a, int64_t b) {
      return std::lexicographical_compare(p + a * len, p + a * len + len, p + b * len, p + b * len + len,
                                          less_nan_last<T>);
    };
    // NaN equals nothing, so each NaN is its own value, as in PyTorch.
    auto row_equal = [&](int64_t a, int64_t b) { return std::equal(p + a * len, p + a * len + len, p + b * len); };
    if (!consecutive) std::stable_sort(order.begin(), order.end(), row_less);
    for (int64_t j = 0; j < n; ++j) starts[j] = j == 0 || !row_equal(order[j - 1], order[j]);
  });
}

}  // namespace kernels
}  // namespace ember
