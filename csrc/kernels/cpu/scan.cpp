#include "kernels/cpu/scan.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "kernels/cpu/integer.h"
#include "kernels/cpu/loops.h"
#include "kernels/cpu/special_math.h"
#include "kernels/cpu/widen.h"
#include "kernels/cuda_dispatch.h"

namespace ember {
namespace kernels {

// Row j of the scan from row j - 1 (prev) and input row j, across `inner`
// contiguous elements: the loop the compiler vectorises for sum and prod.
template <class T>
static void scan_slab(ScanOp op, T* out, int64_t* idx, const T* x, int64_t n, int64_t inner) {
  std::copy(x, x + inner, out);
  if (idx) std::fill(idx, idx + inner, int64_t(0));
  for (int64_t j = 1; j < n; ++j) {
    const T* xj = x + j * inner;
    const T* prev = out + (j - 1) * inner;
    T* oj = out + j * inner;
    switch (op) {
      case ScanOp::Sum:
        if constexpr (std::is_same_v<T, bool>)
          EMBER_ASSERT(false);  // callers scan integers as int64
        else
          for (int64_t i = 0; i < inner; ++i) oj[i] = wrap_add(prev[i], xj[i]);
        break;
      case ScanOp::Prod:
        if constexpr (std::is_same_v<T, bool>)
          EMBER_ASSERT(false);
        else
          for (int64_t i = 0; i < inner; ++i) oj[i] = wrap_mul(prev[i], xj[i]);
        break;
      case ScanOp::LogSumExp:
        if constexpr (std::is_floating_point_v<T>)
          for (int64_t i = 0; i < inner; ++i) oj[i] = log_add_exp(prev[i], xj[i]);
        else
          EMBER_ASSERT(false);
        break;
      case ScanOp::Max:
      case ScanOp::Min: {
        const int64_t* iprev = idx + (j - 1) * inner;
        int64_t* ij = idx + j * inner;
        const bool is_max = op == ScanOp::Max;
        for (int64_t i = 0; i < inner; ++i) {
          const T v = xj[i], best = prev[i];
          const bool take = is_nan(v) || (!is_nan(best) && (is_max ? v >= best : v <= best));
          oj[i] = take ? v : best;
          ij[i] = take ? j : iprev[i];
        }
        break;
      }
    }
  }
}

void scan(ScanOp op, const Tensor& out, const Tensor& indices, const Tensor& x, int64_t outer, int64_t n,
          int64_t inner) {
  if (on_cuda(out)) return cuda_dispatch::scan(op, out, indices, x, outer, n, inner);
  if (any_storage_only(out, x)) {
    Widening w;
    scan(op, w.out(out), indices, w.in(x), outer, n, inner);
    return w.finish();
  }
  if (outer * n * inner == 0) return;
  dispatch(x->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* in = x->data<T>();
    T* o = out->data<T>();
    int64_t* idx = indices ? indices->data<int64_t>() : nullptr;
    const int64_t slab = n * inner;
#pragma omp parallel for num_threads(max_threads()) schedule(static) if (x->numel() >= kParallelGrain && outer > 1)
    for (int64_t b = 0; b < outer; ++b)
      scan_slab<T>(op, o + b * slab, idx ? idx + b * slab : nullptr, in + b * slab, n, inner);
  });
}

}  // namespace kernels
}  // namespace ember
