// Reductions (sum, prod, max, min, any, all over any set of dims) and softmax.
// Note [CUDA reductions]
// Each output element is reduced by one block (256 threads striding over its
// elements, then a tree in shared memory) when it has many elements, or by one
// thread when it has few. When there are few outputs of many elements each (a
// full sum), each output is split across up to 1024 blocks writing partial
// results, and a second launch reduces those: every SM takes part.
#include <cfloat>
#include <cmath>

#include "kernels/cpu/reduce.h"
#include "kernels/cpu/softmax.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace ember {
namespace cuda {
namespace {

// A block's threads combine their values; thread 0 gets the result.
template <class A>
__device__ A block_combine(int op, A v) {
  __shared__ A shared[kThreads];
  shared[threadIdx.x] = v;
  __syncthreads();
  for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) shared[threadIdx.x] = combine(op, shared[threadIdx.x], shared[threadIdx.x + s]);
    __syncthreads();
  }
  return shared[0];
}

// grid: (outputs, splits); each block reduces its share of one output's elements into
// `partial` (splits > 1) or the output itself.
template <class A>
__global__ void reduce_blocks(ReduceGeometry g, const char* in, int in_dtype, int in_size, char* out, int out_dtype,
                              int out_size, int op, A* partial, int splits) {
  int64_t o = blockIdx.x;
  int split = blockIdx.y;
  int64_t base = g.base(o);
  A acc = identity<A>(op);
  for (int64_t r = (int64_t)split * blockDim.x + threadIdx.x; r < g.reduced; r += (int64_t)splits * blockDim.x)
    acc = combine(op, acc, load_as<A>(in + (base + g.inner(r)) * in_size, in_dtype));
  acc = block_combine(op, acc);
  if (threadIdx.x != 0) return;
  if (splits > 1)
    partial[o * splits + split] = acc;
  else
    store_as<A>(out + o * out_size, out_dtype, acc);
}

template <class A>
__global__ void reduce_partials(const A* partial, int splits, char* out, int out_dtype, int out_size, int op) {
  int64_t o = blockIdx.x;
  A acc = identity<A>(op);
  for (int s = threadIdx.x; s < splits; s += blockDim.x) acc = combine(op, acc, partial[o * splits + s]);
  acc = block_combine(op, acc);
  if (threadIdx.x == 0) store_as<A>(out + o * out_size, out_dtype, acc);
}

// One thread per output: outputs of few elements each.
template <class A>
__global__ void reduce_threads(ReduceGeometry g, const char* in, int in_dtype, int in_size, char* out, int out_dtype,
                               int out_size, int op) {
  for (int64_t o = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; o < g.outputs;
       o += (int64_t)gridDim.x * blockDim.x) {
    int64_t base = g.base(o);
    A acc = identity<A>(op);
    for (int64_t r = 0; r < g.reduced; ++r)
      acc = combine(op, acc, load_as<A>(in + (base + g.inner(r)) * in_size, in_dtype));
    store_as<A>(out + o * out_size, out_dtype, acc);
  }
}

}  // namespace

void reduce(int op, const TensorArg& out, const TensorArg& in, uint64_t mask) {
  ReduceGeometry g = reduce_geometry(in, mask);
  if (g.outputs == 0) return;
  const int in_size = itemsize_of(in.dtype), out_size = itemsize_of(out.dtype);
  cudaStream_t s = stream_for(out.device);
  dispatch_compute(reduce_accumulator(op, in.dtype), [&](auto tag) {
    using A = decltype(tag);
    if (g.reduced < 64 && g.outputs >= 1024) {
      EMBER_LAUNCH(reduce_threads<A>, blocks_for(g.outputs), kThreads, s)(g, in.data, in.dtype, in_size, out.data,
                                                                          out.dtype, out_size, op);
      return;
    }
    int splits = 1;
    if (g.outputs < 256) {  // few outputs: spread each over blocks (Note [CUDA reductions])
      int64_t want = g.reduced / (kThreads * 16);
      splits = (int)std::max<int64_t>(1, std::min<int64_t>(want, 1024 / g.outputs + 1));
    }
    if (splits == 1) {
      EMBER_LAUNCH(reduce_blocks<A>, dim3((unsigned)g.outputs, 1), kThreads, s)(g, in.data, in.dtype, in_size, out.data,
                                                                                out.dtype, out_size, op, nullptr, 1);
      return;
    }
    Scratch partial((size_t)g.outputs * splits * sizeof(A), out.device);
    A* p = static_cast<A*>(partial.data);
    EMBER_LAUNCH(reduce_blocks<A>, dim3((unsigned)g.outputs, splits), kThreads, s)(
        g, in.data, in.dtype, in_size, out.data, out.dtype, out_size, op, p, splits);
    EMBER_LAUNCH(reduce_partials<A>, (unsigned)g.outputs, kThreads, s)(p, splits, out.data, out.dtype, out_size, op);
  });
  check_launch("a reduction");
}

namespace {

using kernels::SoftmaxKind;

// x, y: (outer, n, inner) contiguous; one block per (outer, inner) slice of n elements.
template <class T>
__global__ void softmax_kernel(const char* x, char* y, int dtype, int64_t n, int64_t inner, int kind) {
  using A = typename std::conditional<std::is_same<T, double>::value, double, float>::type;
  const int64_t slice = blockIdx.x, o = slice / inner, i = slice % inner;
  const int size = itemsize_of(dtype);
  auto at = [&](int64_t j) { return (o * n + j) * inner + i; };
  A m = -INFINITY;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
    A v = load_as<A>(x + at(j) * size, dtype);
    m = isnan(v) || v > m ? v : m;
  }
  m = block_combine((int)ReduceOp::Max, m);
  __syncthreads();
  A sum = 0;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) sum += exp(load_as<A>(x + at(j) * size, dtype) - m);
  sum = block_combine((int)ReduceOp::Sum, sum);
  const bool all_masked = isinf(m) && m < 0;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
    A v = load_as<A>(x + at(j) * size, dtype) - m;
    A r;
    if (kind == (int)SoftmaxKind::LogSoftmax)
      r = v - log(sum);
    else if (kind == (int)SoftmaxKind::SafeSoftmax && all_masked)
      r = 0;
    else
      r = exp(v) / sum;
    store_as<A>(y + at(j) * size, dtype, r);
  }
}

template <class T>
__global__ void softmax_backward_kernel(const char* g, const char* y, char* gx, int dtype, int64_t n, int64_t inner,
                                        int kind) {
  using A = typename std::conditional<std::is_same<T, double>::value, double, float>::type;
  const int64_t slice = blockIdx.x, o = slice / inner, i = slice % inner;
  const int size = itemsize_of(dtype);
  auto at = [&](int64_t j) { return ((o * n + j) * inner + i) * size; };
  const bool log_kind = kind == (int)SoftmaxKind::LogSoftmax;
  A dot = 0;  // softmax: sum(g * y); log_softmax: sum(g)
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
    A gv = load_as<A>(g + at(j), dtype);
    dot += log_kind ? gv : gv * load_as<A>(y + at(j), dtype);
  }
  dot = block_combine((int)ReduceOp::Sum, dot);
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
    A gv = load_as<A>(g + at(j), dtype), yv = load_as<A>(y + at(j), dtype);
    store_as<A>(gx + at(j), dtype, log_kind ? gv - exp(yv) * dot : yv * (gv - dot));
  }
}

}  // namespace

namespace {
template <class A>
__global__ void scan_kernel(int op, char* out, int64_t* indices, const char* x, int dtype, int64_t n, int64_t inner,
                            int64_t columns) {
  for (int64_t c = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; c < columns; c += (int64_t)gridDim.x * blockDim.x)
    scan_column<A>(op, out, indices, x, dtype, n, inner, c);
}
}  // namespace

// One thread per (outer, inner) column, sequential along n: enough columns keep the GPU busy; a
// single long scan would want a parallel prefix sum (not yet).
void scan(int op, const TensorArg& out, const TensorArg* indices, const TensorArg& x, int64_t outer, int64_t n,
          int64_t inner) {
  const int64_t columns = outer * inner;
  if (columns == 0 || n == 0) return;
  if (x.dtype == kBool) unsupported("a scan of a bool tensor");
  cudaStream_t s = stream_for(out.device);
  dispatch_compute(x.dtype, [&](auto tag) {
    using A = decltype(tag);
    EMBER_LAUNCH(scan_kernel<A>, blocks_for(columns), kThreads, s)(
        op, out.data, indices ? (int64_t*)indices->data : nullptr, x.data, x.dtype, n, inner, columns);
  });
  check_launch("a cumulative op");
}

namespace {
// One block per row of x (rows, cols), all contiguous in A: the row's mean and variance from two block
// sums (the biased variance of var(x, 0), as the CPU kernel), then y = (x - mean) * rstd * w + b.
template <class A>
__global__ void layer_norm_kernel(const A* x, const A* w, const A* b, A* y, A* mean, A* rstd, int64_t cols,
                                  double eps) {
  const int64_t row = blockIdx.x;
  const A* xr = x + row * cols;
  A sum = 0;
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) sum += xr[j];
  const A m = block_combine((int)ReduceOp::Sum, sum) / A(cols);
  __syncthreads();  // the shared buffer is used again
  A squares = 0;
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) squares += (xr[j] - m) * (xr[j] - m);
  const A r = A(1) / sqrt(block_combine((int)ReduceOp::Sum, squares) / A(cols) + A(eps));
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
    A v = (xr[j] - m) * r;
    if (w) v *= w[j];
    if (b) v += b[j];
    y[row * cols + j] = v;
  }
  if (threadIdx.x == 0) {
    mean[row] = m;
    rstd[row] = r;
  }
}
// Batch norm's training forward, one block per channel of x (N, C, S): the channel's mean and biased
// variance over its N * S values from two block sums, then y = (x - mean) * invstd * w + b.
template <class A>
__global__ void batch_norm_kernel(const A* x, const A* w, const A* b, A* y, A* mean, A* var, A* invstd, int64_t N,
                                  int64_t C, int64_t S, double eps) {
  const int64_t c = blockIdx.x, count = N * S;
  auto at = [&](int64_t e) { return (e / S * C + c) * S + e % S; };
  A sum = 0;
  for (int64_t e = threadIdx.x; e < count; e += blockDim.x) sum += x[at(e)];
  const A m = block_combine((int)ReduceOp::Sum, sum) / A(count);
  __syncthreads();  // the shared buffer is used again
  A squares = 0;
  for (int64_t e = threadIdx.x; e < count; e += blockDim.x) squares += (x[at(e)] - m) * (x[at(e)] - m);
  const A v = block_combine((int)ReduceOp::Sum, squares) / A(count), r = A(1) / sqrt(v + A(eps));
  const A scale = w ? w[c] * r : r, shift = b ? b[c] : A(0);
  for (int64_t e = threadIdx.x; e < count; e += blockDim.x) y[at(e)] = (x[at(e)] - m) * scale + shift;
  if (threadIdx.x == 0) {
    mean[c] = m;
    var[c] = v;
    invstd[c] = r;
  }
}

// Batch norm's first-order backward, one block per channel (kernels/cpu/batch_norm.cpp's formula): the sums
// of g and of g * (x - mean) over the channel's N * S values, then gw, gb and
// gx = w * invstd * (g - mean(g) - xhat * mean(g * xhat)). An empty channel gives zero sums.
template <class A>
__global__ void batch_norm_grad_kernel(const A* g, const A* x, const A* mean, const A* invstd, const A* w, A* gx, A* gw,
                                       A* gb, int64_t N, int64_t C, int64_t S) {
  const int64_t c = blockIdx.x, count = N * S;
  auto at = [&](int64_t e) { return (e / S * C + c) * S + e % S; };
  const A mu = mean[c], rstd = invstd[c];
  A part_g = 0, part_gx = 0;
  for (int64_t e = threadIdx.x; e < count; e += blockDim.x) {
    part_g += g[at(e)];
    part_gx += g[at(e)] * (x[at(e)] - mu);
  }
  const A sum_g = block_combine((int)ReduceOp::Sum, part_g);
  __syncthreads();  // the shared buffer is used again
  const A sum_g_xhat = count > 0 ? block_combine((int)ReduceOp::Sum, part_gx) * rstd : A(0);
  if (threadIdx.x == 0) {
    if (gw) gw[c] = sum_g_xhat;
    if (gb) gb[c] = sum_g;
  }
  if (!gx) return;
  const A scale = (w ? w[c] : A(1)) * rstd, mean_g = sum_g / A(count), xhat_coef = sum_g_xhat / A(count) * rstd;
  for (int64_t e = threadIdx.x; e < count; e += blockDim.x)
    gx[at(e)] = scale * (g[at(e)] - mean_g - (x[at(e)] - mu) * xhat_coef);
}

// The input's gradient, one block per row: rstd * (g*w - mean(g*w) - xhat * mean(g*w * xhat)).
template <class A>
__global__ void layer_norm_grad_input_kernel(const A* g, const A* x, const A* mean, const A* rstd, const A* w, A* gx,
                                             int64_t cols) {
  const int64_t row = blockIdx.x;
  const A *gr = g + row * cols, *xr = x + row * cols;
  const A m = mean[row], q = rstd[row];
  A sum_gw = 0, sum_gwx = 0;
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
    const A gw = w ? gr[j] * w[j] : gr[j];
    sum_gw += gw;
    sum_gwx += gw * (xr[j] - m) * q;
  }
  const A mean_gw = block_combine((int)ReduceOp::Sum, sum_gw) / A(cols);
  __syncthreads();  // the shared buffer is used again
  const A mean_gwx = block_combine((int)ReduceOp::Sum, sum_gwx) / A(cols);
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
    const A gw = w ? gr[j] * w[j] : gr[j];
    gx[row * cols + j] = q * (gw - mean_gw - (xr[j] - m) * q * mean_gwx);
  }
}

// The weight's and bias's gradients, a thread per column: sums over rows of g * xhat and of g.
template <class A>
__global__ void layer_norm_grad_params_kernel(const A* g, const A* x, const A* mean, const A* rstd, A* gw, A* gb,
                                              int64_t rows, int64_t cols) {
  for (int64_t j = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; j < cols; j += (int64_t)gridDim.x * blockDim.x) {
    A sum_w = 0, sum_b = 0;
    for (int64_t r = 0; r < rows; ++r) {
      const A gv = g[r * cols + j];
      sum_w += gv * (x[r * cols + j] - mean[r]) * rstd[r];
      sum_b += gv;
    }
    if (gw) gw[j] = sum_w;
    if (gb) gb[j] = sum_b;
  }
}
}  // namespace

void layer_norm_backward(const TensorArg* gx, const TensorArg* gw, const TensorArg* gb, const TensorArg& g,
                         const TensorArg& x, const TensorArg& mean, const TensorArg& rstd, const TensorArg* weight) {
  const int64_t rows = numel(mean), cols = rows ? numel(x) / rows : 0;
  if (rows == 0 || cols == 0) return;
  cudaStream_t s = stream_for(g.device);
  auto launch = [&](auto tag) {
    using A = decltype(tag);
    auto at = [](const TensorArg* t) { return t ? (A*)t->data : nullptr; };
    if (gx)
      EMBER_LAUNCH(layer_norm_grad_input_kernel<A>, (unsigned)rows, kThreads, s)(
          (const A*)g.data, (const A*)x.data, (const A*)mean.data, (const A*)rstd.data, at(weight), at(gx), cols);
    if (gw || gb)
      EMBER_LAUNCH(layer_norm_grad_params_kernel<A>, blocks_for(cols), kThreads, s)(
          (const A*)g.data, (const A*)x.data, (const A*)mean.data, (const A*)rstd.data, at(gw), at(gb), rows, cols);
  };
  float32_or_64(x.dtype, "layer_norm backward", launch);
  check_launch("layer_norm backward");
}

void batch_norm_backward(const TensorArg* gx, const TensorArg* gw, const TensorArg* gb, const TensorArg& g,
                         const TensorArg& x, const TensorArg& mean, const TensorArg& invstd, const TensorArg* weight) {
  const int64_t N = x.sizes[0], C = x.sizes[1], S = x.sizes[2];
  if (C == 0) return;
  cudaStream_t s = stream_for(g.device);
  float32_or_64(x.dtype, "batch_norm backward", [&](auto tag) {
    using A = decltype(tag);
    auto at = [](const TensorArg* t) { return t ? (A*)t->data : nullptr; };
    EMBER_LAUNCH(batch_norm_grad_kernel<A>, (unsigned)C, kThreads, s)((const A*)g.data, (const A*)x.data,
                                                                      (const A*)mean.data, (const A*)invstd.data,
                                                                      at(weight), at(gx), at(gw), at(gb), N, C, S);
  });
  check_launch("batch_norm backward");
}

void batch_norm(const TensorArg& out, const TensorArg& mean, const TensorArg& var, const TensorArg& invstd,
                const TensorArg& x, const TensorArg* weight, const TensorArg* bias, double eps) {
  const int64_t N = x.sizes[0], C = x.sizes[1], S = x.sizes[2];
  if (C == 0 || N * S == 0) return;
  cudaStream_t s = stream_for(out.device);
  float32_or_64(x.dtype, "batch_norm", [&](auto tag) {
    using A = decltype(tag);
    EMBER_LAUNCH(batch_norm_kernel<A>, (unsigned)C, kThreads, s)(
        (const A*)x.data, weight ? (const A*)weight->data : nullptr, bias ? (const A*)bias->data : nullptr,
        (A*)out.data, (A*)mean.data, (A*)var.data, (A*)invstd.data, N, C, S, eps);
  });
  check_launch("batch_norm");
}

void layer_norm(const TensorArg& out, const TensorArg& mean, const TensorArg& rstd, const TensorArg& x,
                const TensorArg* weight, const TensorArg* bias, double eps) {
  const int64_t rows = numel(mean), cols = rows ? numel(x) / rows : 0;
  if (rows == 0 || cols == 0) return;
  cudaStream_t s = stream_for(out.device);
  auto launch = [&](auto tag) {
    using A = decltype(tag);
    EMBER_LAUNCH(layer_norm_kernel<A>, (unsigned)rows, kThreads, s)(
        (const A*)x.data, weight ? (const A*)weight->data : nullptr, bias ? (const A*)bias->data : nullptr,
        (A*)out.data, (A*)mean.data, (A*)rstd.data, cols, eps);
  };
  float32_or_64(x.dtype, "layer_norm", launch);
  check_launch("layer_norm");
}

void softmax(int kind, const TensorArg& out, const TensorArg& x, int64_t outer, int64_t n, int64_t inner) {
  if (outer * inner == 0 || n == 0) return;
  cudaStream_t s = stream_for(out.device);
  dispatch_compute(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point<T>::value)
      EMBER_LAUNCH(softmax_kernel<T>, (unsigned)(outer * inner), kThreads, s)(x.data, out.data, x.dtype, n, inner,
                                                                              kind);
    else
      unsupported("softmax of an integer tensor");
  });
  check_launch("softmax");
}

void softmax_backward(int kind, const TensorArg& gx, const TensorArg& g, const TensorArg& y, int64_t outer, int64_t n,
                      int64_t inner) {
  if (outer * inner == 0 || n == 0) return;
  cudaStream_t s = stream_for(gx.device);
  dispatch_compute(y.dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point<T>::value)
      EMBER_LAUNCH(softmax_backward_kernel<T>, (unsigned)(outer * inner), kThreads, s)(g.data, y.data, gx.data, y.dtype,
                                                                                       n, inner, kind);
    else
      unsupported("softmax backward of an integer tensor");
  });
  check_launch("softmax backward");
}

}  // namespace cuda
}  // namespace ember
