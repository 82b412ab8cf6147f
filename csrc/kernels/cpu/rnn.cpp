#include "kernels/cpu/rnn.h"

#include <cmath>
#include <vector>

#include "kernels/cpu/loops.h"
#include "kernels/cpu/vec_math.h"
#include "kernels/cpu/widen.h"
#include "kernels/cuda_dispatch.h"

namespace ember {
namespace kernels {

// y = fn(x) over n contiguous values: the SIMD variant when there is one (Note [Vector math]).
template <class T>
static void activate(VecFn fn, const T* x, T* y, int64_t n) {
  if (vec_math(fn, x, y, n)) return;
  for (int64_t k = 0; k < n; ++k) {
    if (fn == VecFn::Tanh) {
      y[k] = std::tanh(x[k]);
    } else {
      const T t = std::exp(-std::fabs(x[k]));  // no overflow for very negative x
      y[k] = (x[k] >= T(0) ? T(1) : t) / (T(1) + t);
    }
  }
}

void lstm_cell(const Tensor& h, const Tensor& c, const Tensor& act, const Tensor& tanh_c, const Tensor& gates,
               const Tensor& c_prev) {
  if (any_storage_only(h, c, act, tanh_c, gates, c_prev)) {
    Widening w;
    lstm_cell(w.out(h), w.out(c), w.out(act), w.out(tanh_c), w.in(gates), w.in(c_prev));
    return w.finish();
  }
  if (on_cuda(h)) return cuda_dispatch::lstm_cell(h, c, act, tanh_c, gates, c_prev);
  const int64_t B = c_prev->size(0), H = c_prev->size(1);
  dispatch(gates->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_floating_point_v<T>) {
      const T *g = gates->data<T>(), *cp = c_prev->data<T>();
      T *ho = h->data<T>(), *co = c->data<T>(), *a = act->data<T>(), *tc = tanh_c->data<T>();
#pragma omp parallel for num_threads(max_threads()) schedule(static) if (B * H * 4 >= kParallelGrain && B > 1)
      for (int64_t b = 0; b < B; ++b) {
        const T* gb = g + b * 4 * H;
        T* ab = a + b * 4 * H;
        activate(VecFn::Sigmoid, gb, ab, 2 * H);              // input, forget
        activate(VecFn::Tanh, gb + 2 * H, ab + 2 * H, H);     // cell
        activate(VecFn::Sigmoid, gb + 3 * H, ab + 3 * H, H);  // output
        const T *i = ab, *f = ab + H, *gg = ab + 2 * H, *o = ab + 3 * H;
        T *cb = co + b * H, *tb = tc + b * H, *hb = ho + b * H;
        const T* cpb = cp + b * H;
        for (int64_t j = 0; j < H; ++j) cb[j] = f[j] * cpb[j] + i[j] * gg[j];
        activate(VecFn::Tanh, cb, tb, H);
        for (int64_t j = 0; j < H; ++j) hb[j] = o[j] * tb[j];
      }
    } else {
      EMBER_FAIL(NotImplemented, "lstm_cell: floating point inputs only");
    }
  });
}

// Note [LSTM cell backward rows]
// One row of lstm_cell_backward. The layer's backward updates its running dc
// in place, so dc_in may be d_c_prev itself: each element is read before it is
// written, which `omp simd` keeps. As a plain loop GCC vectorised nothing (the
// pointers may alias), and a 32x256 step took 13 us beside its 36 us product on
// two threads; compiled for AVX-512 below (cell_backward_rows) it takes 5 us.
template <class T>
inline __attribute__((always_inline)) void cell_backward_row(int64_t H, const T* dh, const T* dc_in, const T* a,
                                                             const T* tc, const T* cp, T* db, T* dcp) {
#pragma omp simd
  for (int64_t j = 0; j < H; ++j) {
    const T i = a[j], f = a[H + j], gg = a[2 * H + j], o = a[3 * H + j], t = tc[j];
    const T dc = dc_in[j] + dh[j] * o * (T(1) - t * t);
    db[j] = dc * gg * i * (T(1) - i);
    db[H + j] = dc * cp[j] * f * (T(1) - f);
    db[2 * H + j] = dc * i * (T(1) - gg * gg);
    db[3 * H + j] = dh[j] * t * o * (T(1) - o);
    dcp[j] = dc * f;
  }
}

template <class T>
using CellBackwardRow = void (*)(int64_t, const T*, const T*, const T*, const T*, const T*, T*, T*);

template <class T>
void cell_backward_row_base(int64_t H, const T* dh, const T* dc_in, const T* a, const T* tc, const T* cp, T* db,
                            T* dcp) {
  cell_backward_row(H, dh, dc_in, a, tc, cp, db, dcp);
}

#if defined(__x86_64__) && defined(__GNUC__)
template <class T>
__attribute__((target("avx512f"))) void cell_backward_row_avx512(int64_t H, const T* dh, const T* dc_in, const T* a,
                                                                 const T* tc, const T* cp, T* db, T* dcp) {
  cell_backward_row(H, dh, dc_in, a, tc, cp, db, dcp);
}
template <class T>
__attribute__((target("avx2,fma"))) void cell_backward_row_avx2(int64_t H, const T* dh, const T* dc_in, const T* a,
                                                                const T* tc, const T* cp, T* db, T* dcp) {
  cell_backward_row(H, dh, dc_in, a, tc, cp, db, dcp);
}
#endif

// The widest variant this CPU runs (the kernels are built for x86-64's baseline, SSE2), capped as
// libmvec's functions are (EMBER_VEC_MATH: tests reach every variant).
template <class T>
CellBackwardRow<T> cell_backward_rows() {
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  const int cap = vec_isa_cap();
  if (cap >= 3 && __builtin_cpu_supports("avx512f")) return cell_backward_row_avx512<T>;
  if (cap >= 2 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return cell_backward_row_avx2<T>;
#endif
  return cell_backward_row_base<T>;
}

void lstm_cell_backward(const Tensor& d_gates, const Tensor& d_c_prev, const Tensor& gh, const Tensor& gc,
                        const Tensor& act, const Tensor& tanh_c, const Tensor& c_prev) {
  if (any_storage_only(d_gates, d_c_prev, gh, gc, act, tanh_c, c_prev)) {
    Widening w;
    lstm_cell_backward(w.out(d_gates), w.out(d_c_prev), w.in(gh), w.in(gc), w.in(act), w.in(tanh_c), w.in(c_prev));
    return w.finish();
  }
  if (on_cuda(d_gates)) return cuda_dispatch::lstm_cell_backward(d_gates, d_c_prev, gh, gc, act, tanh_c, c_prev);
  const int64_t B = c_prev->size(0), H = c_prev->size(1);
  dispatch(act->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_floating_point_v<T>) {
      static const CellBackwardRow<T> row = cell_backward_rows<T>();
      const std::vector<T> zeros(gh && gc ? 0 : H, T(0));  // an undefined gradient reads as zeros
      const T *dh = gh ? gh->data<T>() : zeros.data(), *dc_in = gc ? gc->data<T>() : zeros.data();
      const int64_t dh_rows = gh ? H : 0, dc_rows = gc ? H : 0;
      const T *a = act->data<T>(), *tc = tanh_c->data<T>(), *cp = c_prev->data<T>();
      T *dg = d_gates->data<T>(), *dcp = d_c_prev->data<T>();
#pragma omp parallel for num_threads(max_threads()) schedule(static) if (B * H * 4 >= kParallelGrain && B > 1)
      for (int64_t b = 0; b < B; ++b)
        row(H, dh + b * dh_rows, dc_in + b * dc_rows, a + b * 4 * H, tc + b * H, cp + b * H, dg + b * 4 * H,
            dcp + b * H);
    } else {
      EMBER_FAIL(NotImplemented, "lstm_cell: floating point inputs only");
    }
  });
}

}  // namespace kernels
}  // namespace ember
