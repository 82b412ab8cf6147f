#pragma once
// The kernels of libember_cuda.so, which backend.cu's Backend forwards to;
// shapes and meanings as in backend.h.
#include "kernels/cuda/backend.h"

namespace ember {
namespace cuda {

void copy(const TensorArg& dst, const TensorArg& src);
void fill(const TensorArg& dst, double value);
void unary(int op, const TensorArg& out, const TensorArg& a);
void binary(int op, const TensorArg& out, const TensorArg& a, const TensorArg& b);
void where(const TensorArg& out, const TensorArg& cond, const TensorArg& a, const TensorArg& b);
void clamp(const TensorArg& out, const TensorArg& a, const double* lo, const double* hi);
void reduce(int op, const TensorArg& out, const TensorArg& in, uint64_t mask);
void softmax(int kind, const TensorArg& out, const TensorArg& x, int64_t outer, int64_t n, int64_t inner);
void softmax_backward(int kind, const TensorArg& gx, const TensorArg& g, const TensorArg& y, int64_t outer, int64_t n,
                      int64_t inner);
void index_offsets(const TensorArg& offsets, const TensorArg& index, const IndexArgs& a);
void check_fits_int64(const TensorArg& t);
void gather(const TensorArg& out, const TensorArg& src, const TensorArg& outer, const int64_t* inner, int64_t n_inner);
void scatter(const TensorArg& dst, const TensorArg& values, const TensorArg& outer, const int64_t* inner,
             int64_t n_inner, bool accumulate);
void reduce_arg(bool is_max, const TensorArg& values, const TensorArg& indices, const TensorArg& in, int dim);
void nll_loss(const TensorArg& loss, const TensorArg& wt, const TensorArg& x, const TensorArg& target,
              const TensorArg* weight, int64_t ignore_index);
void sgd(int device, int dtype, const SgdTensors* params, int64_t count);
void adam(int device, int dtype, const AdamTensors* params, int64_t count);
// `n` bytes from the host to device memory at `dst`, queued without waiting: through a pinned block of the pool
// (Note [Staged host copies]).
void copy_to_device_staged(void* dst, const void* src, size_t n, int device);
void im2col(const TensorArg& cols, const TensorArg& x, const ConvArgs& g);
void col2im(const TensorArg& x, const TensorArg& cols, const ConvArgs& g);
void max_pool2d(const TensorArg& values, const TensorArg& indices, const TensorArg& x, const ConvArgs& g);
void max_pool2d_backward(const TensorArg& grad_in, const TensorArg& grad_out, const TensorArg& indices);
void scan(int op, const TensorArg& out, const TensorArg* indices, const TensorArg& x, int64_t outer, int64_t n,
          int64_t inner);
// x: (rows, cols) contiguous float32/float64, weight and bias (cols) or null -> out, and mean/rstd (rows).
void layer_norm(const TensorArg& out, const TensorArg& mean, const TensorArg& rstd, const TensorArg& x,
                const TensorArg* weight, const TensorArg* bias, double eps);
// x (N, C, S) contiguous float32/float64 -> out (N, C, S); mean, var (biased), invstd (C) (kernels/cpu/batch_norm.h).
void batch_norm(const TensorArg& out, const TensorArg& mean, const TensorArg& var, const TensorArg& invstd,
                const TensorArg& x, const TensorArg* weight, const TensorArg* bias, double eps);
// batch_norm's first-order backward from g (N, C, S): gx (N, C, S), gw and gb (C) each null when not wanted.
void batch_norm_backward(const TensorArg* gx, const TensorArg* gw, const TensorArg* gb, const TensorArg& g,
                         const TensorArg& x, const TensorArg& mean, const TensorArg& invstd, const TensorArg* weight);
// layer_norm's first-order backward: gx (rows, cols), gw and gb (cols) each null when not wanted.
void layer_norm_backward(const TensorArg* gx, const TensorArg* gw, const TensorArg* gb, const TensorArg& g,
                         const TensorArg& x, const TensorArg& mean, const TensorArg& rstd, const TensorArg* weight);
// x: (rows, n) contiguous -> values, indices (int64) of its shape: each row sorted stably (sort.cu).
void sort_rows(const TensorArg& values, const TensorArg& indices, const TensorArg& x, bool descending);
// sorted: (..., n) contiguous, one row or one per row of values (contiguous, its dtype) -> out
// (int32 or int64, values' shape): each value's insertion position (sort.cu).
void search_rows(const TensorArg& out, const TensorArg& sorted, const TensorArg& values, bool right);
// scatter_reduce at element offsets of dst (contiguous; values contiguous, one per offset; offsets int64 on the
// device, negative for a bad index); op in
// ops/scatter.cpp's order (sum, prod, mean, amax, amin) (gather.cu).
void scatter_reduce(int op, const TensorArg& dst, const TensorArg& values, const TensorArg& offsets, bool include_self);
// The fused LSTM cell and its backward, as kernels/cpu/rnn.h's; gh and gc may be null (zero) (rnn.cu).
void lstm_cell(const TensorArg& h, const TensorArg& c, const TensorArg& act, const TensorArg& tanh_c,
               const TensorArg& gates, const TensorArg& c_prev);
void lstm_cell_backward(const TensorArg& d_gates, const TensorArg& d_c_prev, const TensorArg* gh, const TensorArg* gc,
                        const TensorArg& act, const TensorArg& tanh_c, const TensorArg& c_prev);
void uniform(const TensorArg& out, double lo, double hi, uint64_t seed, uint64_t offset, const void* graph);
void normal(const TensorArg& out, double mean, double std, uint64_t seed, uint64_t offset, const void* graph);
void randint(const TensorArg& out, int64_t low, uint64_t range, uint64_t seed, uint64_t offset, const void* graph);
// Scratch memory from the caching allocator, given back when the holder goes.
struct Scratch {
  Scratch(size_t nbytes, int device);
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  void* data = nullptr;
  size_t nbytes = 0;
  int device = 0;
};

}  // namespace cuda
}  // namespace ember
