// The fused LSTM cell's elementwise part on the device (kernels/cpu/rnn.h): a thread per
// (row, unit) reads its four gate pre-activations and writes the activated gates, c, tanh(c)
// and h; the backward reads them back. The products before it run in cuBLAS.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace ember {
namespace cuda {
namespace {

template <class T>
__device__ inline T lstm_sigmoid(T x) {
  const T t = exp(-fabs(x));  // no overflow for very negative x, as the CPU's
  return (x >= T(0) ? T(1) : t) / (T(1) + t);
}

template <class T>
__global__ void lstm_cell_kernel(T* h, T* c, T* act, T* tanh_c, const T* gates, const T* c_prev, int64_t B, int64_t H) {
  for (int64_t k = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; k < B * H; k += (int64_t)gridDim.x * blockDim.x) {
    const int64_t b = k / H, j = k % H;
    const T* g = gates + b * 4 * H + j;
    T* a = act + b * 4 * H + j;
    const T i = lstm_sigmoid(g[0]), f = lstm_sigmoid(g[H]), gg = tanh(g[2 * H]), o = lstm_sigmoid(g[3 * H]);
    a[0] = i, a[H] = f, a[2 * H] = gg, a[3 * H] = o;
    const T cn = f * c_prev[k] + i * gg, t = tanh(cn);
    c[k] = cn, tanh_c[k] = t, h[k] = o * t;
  }
}

// dc_in may be d_c_prev itself (the layer's running dc): each thread reads its element first.
template <class T>
__global__ void lstm_cell_backward_kernel(T* d_gates, T* d_c_prev, const T* gh, const T* gc, const T* act,
                                          const T* tanh_c, const T* c_prev, int64_t B, int64_t H) {
  for (int64_t k = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; k < B * H; k += (int64_t)gridDim.x * blockDim.x) {
    const int64_t b = k / H, j = k % H;
    const T* a = act + b * 4 * H + j;
    const T i = a[0], f = a[H], gg = a[2 * H], o = a[3 * H], t = tanh_c[k];
    const T dh = gh ? gh[k] : T(0), dc = (gc ? gc[k] : T(0)) + dh * o * (T(1) - t * t);
    T* db = d_gates + b * 4 * H + j;
    db[0] = dc * gg * i * (T(1) - i);
    db[H] = dc * c_prev[k] * f * (T(1) - f);
    db[2 * H] = dc * i * (T(1) - gg * gg);
    db[3 * H] = dh * t * o * (T(1) - o);
    d_c_prev[k] = dc * f;
  }
}

template <class T>
const T* optional_data(const TensorArg* t) {
  return t ? reinterpret_cast<const T*>(t->data) : nullptr;
}

}  // namespace

void lstm_cell(const TensorArg& h, const TensorArg& c, const TensorArg& act, const TensorArg& tanh_c,
               const TensorArg& gates, const TensorArg& c_prev) {
  const int64_t B = c_prev.sizes[0], H = c_prev.sizes[1];
  if (B * H == 0) return;
  cudaStream_t s = stream_for(h.device);
  float32_or_64(gates.dtype, "lstm_cell", [&](auto tag) {
    using T = decltype(tag);
    EMBER_LAUNCH(lstm_cell_kernel<T>, blocks_for(B * H), kThreads, s)(
        (T*)h.data, (T*)c.data, (T*)act.data, (T*)tanh_c.data, (const T*)gates.data, (const T*)c_prev.data, B, H);
  });
  check_launch("lstm_cell");
}

void lstm_cell_backward(const TensorArg& d_gates, const TensorArg& d_c_prev, const TensorArg* gh, const TensorArg* gc,
                        const TensorArg& act, const TensorArg& tanh_c, const TensorArg& c_prev) {
  const int64_t B = c_prev.sizes[0], H = c_prev.sizes[1];
  if (B * H == 0) return;
  cudaStream_t s = stream_for(d_gates.device);
  float32_or_64(act.dtype, "lstm_cell's backward", [&](auto tag) {
    using T = decltype(tag);
    EMBER_LAUNCH(lstm_cell_backward_kernel<T>, blocks_for(B * H), kThreads, s)(
        (T*)d_gates.data, (T*)d_c_prev.data, optional_data<T>(gh), optional_data<T>(gc), (const T*)act.data,
        (const T*)tanh_c.data, (const T*)c_prev.data, B, H);
  });
  check_launch("lstm_cell's backward");
}

}  // namespace cuda
}  // namespace ember
