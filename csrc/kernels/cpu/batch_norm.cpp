// Note [Fused batch norm]
// Batch norm in training as ember ops was a mean, a variance (two passes), a
// scale and a shift over the whole input, and in backward a node per op: about
// six passes each way and a dozen nodes per layer. Here a channel's N * S
// values (N runs of S contiguous ones) are summed for the mean, then for the
// squared deviations (two passes, as exact as the composite), and normalised
// with the affine folded into one scale and shift; the backward sums dy and
// dy * xhat per channel in one pass and writes dx in a second. Channels are
// independent, so they are split over the threads; each channel's sums run in
// the same order whatever the split (bitwise the same for any thread count).
// The op and node are csrc/ops/norm.cpp's NativeBatchNormBackward0.
#include "kernels/cpu/batch_norm.h"

#include <cmath>

#include "kernels/cpu/loops.h"
#include "kernels/cuda_dispatch.h"

namespace ember {
namespace kernels {

namespace {
struct ChannelLayout {
  int64_t N, C, S;
  // The first value of channel c's run n.
  int64_t at(int64_t n, int64_t c) const { return (n * C + c) * S; }
};

template <typename F>
void over_channels(const ChannelLayout& l, F per_channel) {
  const bool parallel = l.N * l.C * l.S >= kParallelGrain && l.C > 1;
  AllowThreads allow(parallel);
#pragma omp parallel for num_threads(parallel ? max_threads() : 1) schedule(static)
  for (int64_t c = 0; c < l.C; ++c) per_channel(c);
}
}  // namespace

void batch_norm(const Tensor& out, const Tensor& mean, const Tensor& var, const Tensor& invstd, const Tensor& x,
                const Tensor& weight, const Tensor& bias, double eps) {
  if (on_cuda(out)) return cuda_dispatch::batch_norm(out, mean, var, invstd, x, weight, bias, eps);
  const ChannelLayout l{x->size(0), x->size(1), x->size(2)};
  const double count = (double)(l.N * l.S);
  dispatch_floating(x->dtype(), "batch_norm", [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
      const T* in = x->data<T>();
      T* o = out->data<T>();
      const T* w = weight ? weight->data<T>() : nullptr;
      const T* b = bias ? bias->data<T>() : nullptr;
      T *m = mean->data<T>(), *v = var->data<T>(), *r = invstd->data<T>();
      over_channels(l, [&](int64_t c) {
        double sum = 0;
        for (int64_t n = 0; n < l.N; ++n) {
          const T* run = in + l.at(n, c);
          T part = 0;
          for (int64_t s = 0; s < l.S; ++s) part += run[s];
          sum += part;
        }
        const T mu = (T)(sum / count);
        double squares = 0;
        for (int64_t n = 0; n < l.N; ++n) {
          const T* run = in + l.at(n, c);
          T part = 0;
          for (int64_t s = 0; s < l.S; ++s) part += (run[s] - mu) * (run[s] - mu);
          squares += part;
        }
        const T variance = (T)(squares / count), rstd = (T)(1.0 / std::sqrt(squares / count + eps));
        m[c] = mu, v[c] = variance, r[c] = rstd;
        const T scale = w ? rstd * w[c] : rstd, shift = (b ? b[c] : T(0)) - mu * scale;
        for (int64_t n = 0; n < l.N; ++n) {
          const T* run = in + l.at(n, c);
          T* dst = o + l.at(n, c);
          for (int64_t s = 0; s < l.S; ++s) dst[s] = run[s] * scale + shift;
        }
      });
    } else {
      EMBER_FAIL(NotImplemented, "batch_norm: float32 and float64 only, got ", scalar_type_name(x->dtype()));
    }
  });
}

void batch_norm_backward(const Tensor& gx, const Tensor& gw, const Tensor& gb, const Tensor& g, const Tensor& x,
                         const Tensor& mean, const Tensor& invstd, const Tensor& weight) {
  if (on_cuda(g)) return cuda_dispatch::batch_norm_backward(gx, gw, gb, g, x, mean, invstd, weight);
  const ChannelLayout l{x->size(0), x->size(1), x->size(2)};
  const double count = (double)(l.N * l.S);
  dispatch_floating(x->dtype(), "batch_norm_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
      const T *in = x->data<T>(), *dy = g->data<T>(), *m = mean->data<T>(), *r = invstd->data<T>();
      const T* w = weight ? weight->data<T>() : nullptr;
      T* dx = gx ? gx->data<T>() : nullptr;
      over_channels(l, [&](int64_t c) {
        const T mu = m[c], rstd = r[c];
        double sum_dy = 0, sum_dy_dev = 0;  // sums of dy and of dy * (x - mean)
        for (int64_t n = 0; n < l.N; ++n) {
          const T *run = in + l.at(n, c), *grad = dy + l.at(n, c);
          T part_dy = 0, part_dy_x = 0;
          for (int64_t s = 0; s < l.S; ++s) {
            part_dy += grad[s];
            part_dy_x += grad[s] * (run[s] - mu);
          }
          sum_dy += part_dy, sum_dy_dev += part_dy_x;
        }
        // an empty channel has NaN statistics; its sums stay 0, as PyTorch's gradients
        const double sum_dy_xhat = count > 0 ? sum_dy_dev * rstd : 0.0;
        if (gw) gw->data<T>()[c] = (T)sum_dy_xhat;
        if (gb) gb->data<T>()[c] = (T)sum_dy;
        if (!dx) return;
        // dx = w * rstd * (dy - mean(dy) - xhat * mean(dy * xhat))
        const T scale = (w ? w[c] : T(1)) * rstd, mean_dy = (T)(sum_dy / count);
        const T xhat_coef = (T)(sum_dy_xhat / count) * rstd;  // times (x - mu) gives xhat * mean(dy * xhat)
        for (int64_t n = 0; n < l.N; ++n) {
          const T *run = in + l.at(n, c), *grad = dy + l.at(n, c);
          T* dst = dx + l.at(n, c);
          for (int64_t s = 0; s < l.S; ++s) dst[s] = scale * (grad[s] - mean_dy - (run[s] - mu) * xhat_coef);
        }
      });
    } else {
      EMBER_FAIL(NotImplemented, "batch_norm_backward: float32 and float64 only, got ", scalar_type_name(x->dtype()));
    }
  });
}

}  // namespace kernels
}  // namespace ember
