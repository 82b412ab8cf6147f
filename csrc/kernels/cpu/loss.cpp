#include "kernels/cpu/loss.h"
#include "kernels/cuda_dispatch.h"

#include "kernels/cpu/loops.h"
#include "kernels/cpu/widen.h"

namespace ember {
namespace kernels {

void nll_loss_forward(const Tensor& loss, const Tensor& wt, const Tensor& x, const Tensor& target, const Tensor& weight,
                      int64_t ignore_index) {
  if (any_storage_only(loss, wt, x, weight)) {  // half floats compute in float32, on either device
    Widening w;
    nll_loss_forward(w.out(loss), w.out(wt), w.in(x), target, w.in(weight), ignore_index);
    return w.finish();
  }
  if (on_cuda(loss)) return cuda_dispatch::nll_loss_forward(loss, wt, x, target, weight, ignore_index);
  const int64_t N = x->size(0), C = x->size(1);
  const int64_t* t = target->data<int64_t>();
  // Bounds first, so a bad target raises before anything is written.
  for (int64_t i = 0; i < N; ++i)
    EMBER_CHECK_KIND(t[i] == ignore_index || (t[i] >= 0 && t[i] < C), Index, "nll_loss: Target ", t[i],
                     " is out of bounds (", C, " classes).");
  dispatch_floating(x->dtype(), "nll_loss", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* xs = x->data<T>();
    const T* w = weight ? weight->data<T>() : nullptr;
    T* l = loss->data<T>();
    T* ws = wt->data<T>();
    for (int64_t i = 0; i < N; ++i) {
      if (t[i] == ignore_index) {
        l[i] = T(0);
        ws[i] = T(0);
        continue;
      }
      ws[i] = w ? w[t[i]] : T(1);
      l[i] = -ws[i] * xs[i * C + t[i]];
    }
  });
}

}  // namespace kernels
}  // namespace ember
