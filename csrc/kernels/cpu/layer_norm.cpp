#include "kernels/cpu/layer_norm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/loops.h"
#include "kernels/cuda_dispatch.h"

// Note [Fused layer norm]
// F.layer_norm was eight ops (mean, var, sub, add, rsqrt, mul, then weight
// and bias), as many nodes, and as many passes over the activations each way;
// PyTorch runs one kernel and one NativeLayerNormBackward0 node. So does ember
// now. Forward: each row's mean and variance in double (two passes over a row,
// which stays in cache), then one pass writing the output. Backward: one pass
// per row for the input's gradient; the weight's and bias's are sums over the
// rows, taken over fixed blocks of rows and merged in a fixed order, so no
// result depends on the thread count. A backward under create_graph is the
// same formula in ember ops (ops/norm.cpp), differentiable again.

namespace ember {
namespace kernels {

namespace {

constexpr int64_t kLayerNormRowBlock = 32;

// f(first_block, last_block) over the blocks of kLayerNormRowBlock rows, split across threads when the work pays.
template <class F>
void layer_norm_for_blocks(int64_t rows, int64_t cols, F f) {
  const int64_t blocks = (rows + kLayerNormRowBlock - 1) / kLayerNormRowBlock;
  const bool parallel = rows * cols >= kParallelGrain && blocks > 1;
  AllowThreads allow(parallel);
  const int threads = parallel ? (int)std::min<int64_t>(max_threads(), blocks) : 1;
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
  for (int64_t b = 0; b < blocks; ++b) f(b, b * kLayerNormRowBlock, std::min(rows, (b + 1) * kLayerNormRowBlock));
}

template <class T>
void layer_norm_typed(const Tensor& out, const Tensor& mean, const Tensor& rstd, const Tensor& x, const Tensor& weight,
                      const Tensor& bias, double eps) {
  const int64_t rows = mean->numel(), cols = rows ? x->numel() / rows : 0;
  const T* xp = x->data<T>();
  const T* w = weight ? weight->data<T>() : nullptr;
  const T* b = bias ? bias->data<T>() : nullptr;
  T *op = out->data<T>(), *mp = mean->data<T>(), *rp = rstd->data<T>();
  layer_norm_for_blocks(rows, cols, [&](int64_t, int64_t first, int64_t last) {
    for (int64_t r = first; r < last; ++r) {
      const T* xr = xp + r * cols;
      T* o = op + r * cols;
      double s = 0;
#pragma omp simd reduction(+ : s)
      for (int64_t j = 0; j < cols; ++j) s += xr[j];
      const double mu = s / (double)cols;
      double v = 0;
#pragma omp simd reduction(+ : v)
      for (int64_t j = 0; j < cols; ++j) v += ((double)xr[j] - mu) * ((double)xr[j] - mu);
      const T m = (T)mu, q = (T)(1.0 / std::sqrt(v / (double)cols + eps));
      mp[r] = m;
      rp[r] = q;
      if (w && b)
        for (int64_t j = 0; j < cols; ++j) o[j] = (xr[j] - m) * q * w[j] + b[j];
      else if (w)
        for (int64_t j = 0; j < cols; ++j) o[j] = (xr[j] - m) * q * w[j];
      else if (b)
        for (int64_t j = 0; j < cols; ++j) o[j] = (xr[j] - m) * q + b[j];
      else
        for (int64_t j = 0; j < cols; ++j) o[j] = (xr[j] - m) * q;
    }
  });
}

template <class T>
void layer_norm_backward_typed(const Tensor& gx, const Tensor& gw, const Tensor& gb, const Tensor& g, const Tensor& x,
                               const Tensor& mean, const Tensor& rstd, const Tensor& weight) {
  const int64_t rows = mean->numel(), cols = rows ? x->numel() / rows : 0;
  const T *gp = g->data<T>(), *xp = x->data<T>(), *mp = mean->data<T>(), *rp = rstd->data<T>();
  const T* w = weight ? weight->data<T>() : nullptr;
  T* gxp = gx ? gx->data<T>() : nullptr;
  const int64_t blocks = (rows + kLayerNormRowBlock - 1) / kLayerNormRowBlock;
  // Per block of rows, its column sums of g * xhat (weight) and g (bias).
  std::vector<double> part_w(gw ? blocks * cols : 0), part_b(gb ? blocks * cols : 0);
  layer_norm_for_blocks(rows, cols, [&](int64_t block, int64_t first, int64_t last) {
    double* pw = gw ? part_w.data() + block * cols : nullptr;
    double* pb = gb ? part_b.data() + block * cols : nullptr;
    for (int64_t r = first; r < last; ++r) {
      const T *gr = gp + r * cols, *xr = xp + r * cols;
      const T m = mp[r], q = rp[r];
      if (pw)
        for (int64_t j = 0; j < cols; ++j) pw[j] += (double)gr[j] * (double)((xr[j] - m) * q);
      if (pb)
        for (int64_t j = 0; j < cols; ++j) pb[j] += (double)gr[j];
      if (!gxp) continue;
      double a = 0, c = 0;  // the means of g*w and g*w*xhat
#pragma omp simd reduction(+ : a, c)
      for (int64_t j = 0; j < cols; ++j) {
        const T gw_j = w ? gr[j] * w[j] : gr[j];
        a += gw_j;
        c += (double)gw_j * (double)((xr[j] - m) * q);
      }
      const T mean_gw = (T)(a / (double)cols), mean_gwx = (T)(c / (double)cols);
      T* out = gxp + r * cols;
      for (int64_t j = 0; j < cols; ++j) {
        const T gw_j = w ? gr[j] * w[j] : gr[j];
        out[j] = q * (gw_j - mean_gw - (xr[j] - m) * q * mean_gwx);
      }
    }
  });
  auto merge = [&](const std::vector<double>& part, const Tensor& to) {
    T* dst = to->data<T>();
    for (int64_t j = 0; j < cols; ++j) {
      double s = 0;
      for (int64_t block = 0; block < blocks; ++block) s += part[block * cols + j];
      dst[j] = (T)s;
    }
  };
  if (gw) merge(part_w, gw);
  if (gb) merge(part_b, gb);
}

}  // namespace

void layer_norm(const Tensor& out, const Tensor& mean, const Tensor& rstd, const Tensor& x, const Tensor& weight,
                const Tensor& bias, double eps) {
  if (on_cuda(out)) return cuda_dispatch::layer_norm(out, mean, rstd, x, weight, bias, eps);
  if (x->dtype() == DType::Float64)
    layer_norm_typed<double>(out, mean, rstd, x, weight, bias, eps);
  else
    layer_norm_typed<float>(out, mean, rstd, x, weight, bias, eps);
}

void layer_norm_backward(const Tensor& gx, const Tensor& gw, const Tensor& gb, const Tensor& g, const Tensor& x,
                         const Tensor& mean, const Tensor& rstd, const Tensor& weight) {
  if (on_cuda(g)) return cuda_dispatch::layer_norm_backward(gx, gw, gb, g, x, mean, rstd, weight);
  if (x->dtype() == DType::Float64)
    layer_norm_backward_typed<double>(gx, gw, gb, g, x, mean, rstd, weight);
  else
    layer_norm_backward_typed<float>(gx, gw, gb, g, x, mean, rstd, weight);
}

}  // namespace kernels
}  // namespace ember
