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
void uniform(const TensorArg& out, double lo, double hi, uint64_t seed, uint64_t offset);
void normal(const TensorArg& out, double mean, double std, uint64_t seed, uint64_t offset);
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
