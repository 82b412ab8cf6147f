#pragma once
// The one place where kernels go by device (Note [CUDA backend]): each kernel
// entry of kernels/cpu/ that has a CUDA counterpart starts with
//   if (on_cuda(out)) return cuda_dispatch::binary(op, out, a, b);
// and these functions hand the tensors to libember_cuda.so.
#include <utility>
#include <vector>
#include "core/rng.h"
#include "core/tensor.h"

#include "kernels/cpu/conv.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/index.h"
#include "kernels/cpu/optim.h"
#include "kernels/cpu/reduce.h"
#include "kernels/cpu/scan.h"
#include "kernels/cpu/softmax.h"

namespace ember {
namespace kernels {

inline bool on_cuda(const Tensor& t) { return t->device().type == DeviceType::CUDA; }
// t itself on the CPU, else a CPU copy (which waits for the device): for ops that read index
// values on the host to compute offsets (advanced indexing, gather, nonzero).
Tensor host_copy(const Tensor& t);

namespace cuda_dispatch {
// While one is alive on this thread, a copy from pinned host memory to a device is queued
// without waiting for it (non_blocking=True; Note [Pinned memory]).
class NonBlockingCopies {
 public:
  explicit NonBlockingCopies(bool on);
  ~NonBlockingCopies();
  NonBlockingCopies(const NonBlockingCopies&) = delete;
  NonBlockingCopies& operator=(const NonBlockingCopies&) = delete;

 private:
  bool previous_;
};
void binary(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b);
void unary(UnaryOp op, const Tensor& out, const Tensor& a);
// dst = src converted and broadcast, across devices too (host <-> device copies)
void copy(const Tensor& dst, const Tensor& src);
void fill(const Tensor& dst, double value);
void clamp(const Tensor& out, const Tensor& a, const double* lo, const double* hi);
void where(const Tensor& out, const Tensor& cond, const Tensor& a, const Tensor& b);
void reduce(ReduceOp op, const Tensor& out, const Tensor& in, uint64_t mask);
void bmm(const Tensor& out, const Tensor& a, const Tensor& b, double alpha, double beta);
void softmax(const Tensor& out, const Tensor& x, int64_t outer, int64_t n, int64_t inner, SoftmaxKind kind);
void softmax_backward(const Tensor& gx, const Tensor& g, const Tensor& y, int64_t outer, int64_t n, int64_t inner,
                      bool log);
void index_offsets(const Tensor& offsets, const Tensor& index, const IndexBounds& a);
// Note [CUDA graph random numbers]: the generator's side of a capture of `device` (its draws count from the
// offset at its beginning; at its end the offset goes back there, and the counters the capture drew are
// returned), and a replay that first moves the generator past those counters.
void rng_capture_begin(int device);
uint64_t rng_capture_end(int device);
void graph_replay(void* graph, uint64_t counters);
// A uint64 tensor widened to int64 on a GPU: values from 2**63 up raise at the next wait (the CPU's words).
void check_fits_int64(const Tensor& wide);
void gather_offsets(const Tensor& out, const Tensor& src, const Tensor& outer, const std::vector<int64_t>& inner);
void sort_rows(const Tensor& values, const Tensor& indices, const Tensor& x, bool descending);
void search_rows(const Tensor& out, const Tensor& sorted, const Tensor& values, bool right);
void scatter_reduce(int op, const Tensor& dst, const Tensor& values, const Tensor& offsets, bool include_self);
void lstm_cell(const Tensor& h, const Tensor& c, const Tensor& act, const Tensor& tanh_c, const Tensor& gates,
               const Tensor& c_prev);
void lstm_cell_backward(const Tensor& d_gates, const Tensor& d_c_prev, const Tensor& gh, const Tensor& gc,
                        const Tensor& act, const Tensor& tanh_c, const Tensor& c_prev);
void layer_norm(const Tensor& out, const Tensor& mean, const Tensor& rstd, const Tensor& x, const Tensor& weight,
                const Tensor& bias, double eps);
void batch_norm(const Tensor& out, const Tensor& mean, const Tensor& var, const Tensor& invstd, const Tensor& x,
                const Tensor& weight, const Tensor& bias, double eps);
void batch_norm_backward(const Tensor& gx, const Tensor& gw, const Tensor& gb, const Tensor& g, const Tensor& x,
                         const Tensor& mean, const Tensor& invstd, const Tensor& weight);
void layer_norm_backward(const Tensor& gx, const Tensor& gw, const Tensor& gb, const Tensor& g, const Tensor& x,
                         const Tensor& mean, const Tensor& rstd, const Tensor& weight);
void scatter_offsets(const Tensor& dst, const Tensor& values, const Tensor& outer, const std::vector<int64_t>& inner,
                     bool accumulate);
void reduce_arg(bool is_max, const Tensor& values, const Tensor& indices, const Tensor& in, int64_t dim);
void nll_loss_forward(const Tensor& loss, const Tensor& wt, const Tensor& x, const Tensor& target, const Tensor& weight,
                      int64_t ignore_index);
// Note [Multi-tensor steps]: parameters of one float dtype on one device, one launch.
void sgd_many(int device, DType dtype, const std::vector<cuda::SgdTensors>& params);
void adam_many(int device, DType dtype, const std::vector<cuda::AdamTensors>& params);
void im2col(const Tensor& cols, const Tensor& x, const Conv2dGeometry& g);
void col2im(const Tensor& x, const Tensor& cols, const Conv2dGeometry& g);
void max_pool2d(const Tensor& values, const Tensor& indices, const Tensor& x, const Conv2dGeometry& g);
void max_pool2d_backward(const Tensor& grad_in, const Tensor& grad_out, const Tensor& indices);
void scan(ScanOp op, const Tensor& out, const Tensor& indices, const Tensor& x, int64_t outer, int64_t n,
          int64_t inner);
// Note [CUDA random numbers]
void manual_seed(uint64_t seed);
uint64_t initial_seed();
std::pair<uint64_t, uint64_t> rng_state();  // (seed, offset): Note [CUDA random numbers]
void set_rng_state(uint64_t seed, uint64_t offset);
// gen: a Generator(device="cuda") whose own Philox stream draws (null: the default one's).
void uniform(const Tensor& out, double lo, double hi, Generator* gen = nullptr);
void normal(const Tensor& out, double mean, double std, Generator* gen = nullptr);
// Integers in [low, high) from the Philox stream, into out of any dtype (torch.randint on a GPU).
void randint(const Tensor& out, int64_t low, int64_t high, Generator* gen = nullptr);
}  // namespace cuda_dispatch

}  // namespace kernels
}  // namespace ember
