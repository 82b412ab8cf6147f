#pragma once
#include "core/tensor.h"

namespace ember {
namespace kernels {

enum class ReduceOp { Sum, Prod, Max, Min, Any, All };

// out: `in`'s shape with size 1 at the dims in `mask`, contiguous; its dtype
// is the result dtype (sum/prod of integers: int64; any/all: bool).
// Float sums accumulate in double.
void reduce(ReduceOp op, const Tensor& out, const Tensor& in, uint64_t mask);

// values, indices: `in`'s shape with size 1 at `dim`. First extreme wins; NaN
// counts as the extreme (as PyTorch's max/min/argmax).
void reduce_arg(bool is_max, const Tensor& values, const Tensor& indices, const Tensor& in, int64_t dim);

}  // namespace kernels
}  // namespace ember
