#include "kernels/cpu/conv.h"

#include <cmath>
#include <limits>

#include "kernels/cpu/loops.h"

namespace ember {
namespace kernels {

void im2col(const Tensor& cols, const Tensor& x, const Conv2dGeometry& g) {
  const int64_t N = x->size(0), C = g.channels, H = g.height, W = g.width;
  const int64_t L = g.out_h * g.out_w, K = C * g.kh * g.kw;
  AllowThreads allow(N * K * L >= kParallelGrain);
  dispatch(x->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* src = x->data<T>();
    T* dst = cols->data<T>();
#pragma omp parallel for num_threads(max_threads()) collapse(2) schedule(static) if (N * K * L >= kParallelGrain)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t row = 0; row < K; ++row) {
        const int64_t c = row / (g.kh * g.kw), ki = (row / g.kw) % g.kh, kj = row % g.kw;
        const T* plane = src + (n * C + c) * H * W;
        T* out = dst + (n * K + row) * L;
        for (int64_t oh = 0; oh < g.out_h; ++oh) {
          const int64_t ih = oh * g.sh - g.ph + ki * g.dh;
          T* o = out + oh * g.out_w;
          if (ih < 0 || ih >= H) {
            for (int64_t ow = 0; ow < g.out_w; ++ow) o[ow] = T(0);
            continue;
          }
          for (int64_t ow = 0; ow < g.out_w; ++ow) {
            const int64_t iw = ow * g.sw - g.pw + kj * g.dw;
            o[ow] = (iw >= 0 && iw < W) ? plane[ih * W + iw] : T(0);
          }
        }
      }
  });
}

void col2im(const Tensor& x, const Tensor& cols, const Conv2dGeometry& g) {
  const int64_t N = x->size(0), C = g.channels, H = g.height, W = g.width;
  const int64_t L = g.out_h * g.out_w, K = C * g.kh * g.kw;
  AllowThreads allow(N * K * L >= kParallelGrain);
  dispatch(x->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* dst = x->data<T>();
    const T* src = cols->data<T>();
    // Each (n, c) plane is written by its own rows only: planes run in parallel.
#pragma omp parallel for num_threads(max_threads()) collapse(2) schedule(static) if (N * K * L >= kParallelGrain)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t c = 0; c < C; ++c) {
        T* plane = dst + (n * C + c) * H * W;
        for (int64_t i = 0; i < H * W; ++i) plane[i] = T(0);
        for (int64_t ki = 0; ki < g.kh; ++ki)
          for (int64_t kj = 0; kj < g.kw; ++kj) {
            const T* in = src + (n * K + (c * g.kh + ki) * g.kw + kj) * L;
            for (int64_t oh = 0; oh < g.out_h; ++oh) {
              const int64_t ih = oh * g.sh - g.ph + ki * g.dh;
              if (ih < 0 || ih >= H) continue;
              for (int64_t ow = 0; ow < g.out_w; ++ow) {
                const int64_t iw = ow * g.sw - g.pw + kj * g.dw;
                if (iw >= 0 && iw < W) plane[ih * W + iw] += in[oh * g.out_w + ow];
              }
            }
          }
      }
  });
}

void max_pool2d(const Tensor& values, const Tensor& indices, const Tensor& x, const Conv2dGeometry& g) {
  const int64_t planes = x->size(0) * g.channels, H = g.height, W = g.width;
  AllowThreads allow(values->numel() * g.kh * g.kw >= kParallelGrain);
  dispatch_floating(x->dtype(), "max_pool2d", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* src = x->data<T>();
    T* vo = values->data<T>();
    int64_t* io = indices->data<int64_t>();
#pragma omp parallel for num_threads(max_threads()) \
    schedule(static) if (values->numel() * g.kh * g.kw >= kParallelGrain)
    for (int64_t p = 0; p < planes; ++p) {
      const T* plane = src + p * H * W;
      for (int64_t oh = 0; oh < g.out_h; ++oh)
        for (int64_t ow = 0; ow < g.out_w; ++ow) {
          T best = -std::numeric_limits<T>::infinity();
          int64_t bi = -1;
          for (int64_t ki = 0; ki < g.kh; ++ki) {
            const int64_t ih = oh * g.sh - g.ph + ki * g.dh;
            if (ih < 0 || ih >= H) continue;
            for (int64_t kj = 0; kj < g.kw; ++kj) {
              const int64_t iw = ow * g.sw - g.pw + kj * g.dw;
              if (iw < 0 || iw >= W) continue;
              const T v = plane[ih * W + iw];
              if (bi < 0 || v > best || std::isnan(v)) {
                best = v;
                bi = ih * W + iw;
                if (std::isnan(v)) goto done;
              }
            }
          }
        done:
          const int64_t o = (p * g.out_h + oh) * g.out_w + ow;
          vo[o] = best;
          io[o] = bi;
        }
    }
  });
}

}  // namespace kernels
}  // namespace ember
