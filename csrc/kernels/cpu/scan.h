#pragma once
// CPU kernels of cumulative ops (cumsum, cumprod, logcumsumexp, cummax,
// cummin): inclusive scans along the middle dim of a (outer, n, inner) layout.
#include "core/tensor.h"

namespace ember {
namespace kernels {

enum class ScanOp { Sum, Prod, LogSumExp, Max, Min };

// x: (outer, n, inner) contiguous, of out's dtype -> out: same shape, contiguous;
// indices (int64, same shape) for Max/Min only: where each running extreme was
// taken (the latest of equal values, and a NaN once seen, as PyTorch).
void scan(ScanOp op, const Tensor& out, const Tensor& indices, const Tensor& x, int64_t outer, int64_t n,
          int64_t inner);

}  // namespace kernels
}  // namespace ember
