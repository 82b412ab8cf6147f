#include "kernels/cpu/conv.h"

#include <cmath>
#include <limits>

#include "kernels/cpu/loops.h"
#include "kernels/cpu/widen.h"

namespace ember {
namespace kernels {

void im2col(const Tensor& cols, const Tensor& x, const Conv2dGeometry& g) {
  if (any_storage_only(cols, x)) {
    Widening w;
    im2col(w.out(cols), w.in(x), g);
    return w.finish();
  }
  const int64_t N = x->size(0), C = g.channels, H = g.height, W = g.width;
  const int64_t L = g.out_h * g.out_w, K = C * g.kh * g.kw;
  EMBER_ASSERT(cols->stride(2) == 1 || L == 1);
  AllowThreads allow(N * K * L >= kParallelGrain);
  dispatch(x->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* src = x->data<T>();
    T* dst = cols->data<T>();
    const int64_t n_stride = cols->stride(0), row_stride = cols->stride(1);
#pragma omp parallel for num_threads(max_threads()) collapse(2) schedule(static) if (N * K * L >= kParallelGrain)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t row = 0; row < K; ++row) {
        const int64_t c = row / (g.kh * g.kw), ki = (row / g.kw) % g.kh, kj = row % g.kw;
        const T* plane = src + (n * C + c) * H * W;
        T* out = dst + n * n_stride + row * row_stride;
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
  if (any_storage_only(x, cols)) {
    Widening w;
    col2im(w.inout(x), w.in(cols), g);
    return w.finish();
  }
  const int64_t N = x->size(0), C = g.channels, H = g.height, W = g.width;
  const int64_t L = g.out_h * g.out_w, K = C * g.kh * g.kw;
  EMBER_ASSERT(cols->stride(2) == 1 || L == 1);
  AllowThreads allow(N * K * L >= kParallelGrain);
  dispatch(x->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* dst = x->data<T>();
    const T* src = cols->data<T>();
    const int64_t n_stride = cols->stride(0), row_stride = cols->stride(1);
    // Each (n, c) plane is written by its own rows only: planes run in parallel.
#pragma omp parallel for num_threads(max_threads()) collapse(2) schedule(static) if (N * K * L >= kParallelGrain)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t c = 0; c < C; ++c) {
        T* plane = dst + (n * C + c) * H * W;
        for (int64_t i = 0; i < H * W; ++i) plane[i] = T(0);
        for (int64_t ki = 0; ki < g.kh; ++ki)
          for (int64_t kj = 0; kj < g.kw; ++kj) {
            const T* in = src + n * n_stride + ((c * g.kh + ki) * g.kw + kj) * row_stride;
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
  if (any_storage_only(values, x)) {
    Widening w;
    max_pool2d(w.out(values), indices, w.in(x), g);
    return w.finish();
  }
  const int64_t planes = x->size(0) * g.channels, H = g.height, W = g.width;
  AllowThreads allow(values->numel() * g.kh * g.kw >= kParallelGrain);
  dispatch_floating(x->dtype(), "max_pool2d", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* src = x->data<T>();
    T* vo = values->data<T>();
    int64_t* io = indices->data<int64_t>();
    const bool two_by_two = g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.ph == 0 && g.pw == 0 && g.dh == 1 &&
                            g.dw == 1 && 2 * g.out_h <= H && 2 * g.out_w <= W;
#pragma omp parallel for num_threads(max_threads()) \
    schedule(static) if (values->numel() * g.kh * g.kw >= kParallelGrain)
    for (int64_t p = 0; p < planes; ++p) {
      const T* plane = src + p * H * W;
      if (two_by_two) {  // the common 2x2 window, stride 2, all inside: no bounds to check
        // The first maximum in scan order, or the last NaN (as PyTorch), picked by selects rather
        // than branches: which value wins is data, so branches mispredict (the pass took ~10% longer).
        for (int64_t oh = 0; oh < g.out_h; ++oh) {
          T* vrow = vo + (p * g.out_h + oh) * g.out_w;
          int64_t* irow = io + (p * g.out_h + oh) * g.out_w;
          for (int64_t ow = 0, out_w = g.out_w; ow < out_w; ++ow) {
            const int64_t top = 2 * oh * W + 2 * ow;
            T best = plane[top];
            int64_t at = top;
            for (const int64_t next : {top + 1, top + W, top + W + 1}) {
              const T v = plane[next];
              const bool wins = (v > best) | (v != v);  // no short circuit: no branch
              best = wins ? v : best;
              at = wins ? next : at;
            }
            vrow[ow] = best;
            irow[ow] = at;
          }
        }
        continue;
      }
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
              if (bi < 0 || v > best || std::isnan(v)) {  // ties: the first; NaN: the last (as PyTorch)
                best = v;
                bi = ih * W + iw;
              }
            }
          }
          const int64_t o = (p * g.out_h + oh) * g.out_w + ow;
          vo[o] = best;
          io[o] = bi;
        }
    }
  });
}

void max_pool2d_backward(const Tensor& grad_in, const Tensor& grad_out, const Tensor& indices) {
  if (any_storage_only(grad_in, grad_out)) {
    Widening w;
    max_pool2d_backward(w.inout(grad_in), w.in(grad_out), indices);
    return w.finish();
  }
  const int64_t planes = grad_in->size(0) * grad_in->size(1), HW = grad_in->size(2) * grad_in->size(3);
  const int64_t L = grad_out->size(2) * grad_out->size(3);
  AllowThreads allow(planes * (HW + L) >= kParallelGrain);
  dispatch_floating(grad_in->dtype(), "max_pool2d_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* gi = grad_in->data<T>();
    const T* go = grad_out->data<T>();
    const int64_t* idx = indices->data<int64_t>();
    // Each plane's gradient comes from its own outputs only: planes run in parallel.
#pragma omp parallel for num_threads(max_threads()) schedule(static) if (planes * (HW + L) >= kParallelGrain)
    for (int64_t p = 0; p < planes; ++p) {
      T* plane = gi + p * HW;
      for (int64_t i = 0; i < HW; ++i) plane[i] = T(0);
      for (int64_t l = 0; l < L; ++l) plane[idx[p * L + l]] += go[p * L + l];
    }
  });
}

}  // namespace kernels
}  // namespace ember
