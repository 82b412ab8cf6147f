// The fused optimizer steps (kernels/cpu/optim.h) over many parameters in one launch.
//
// Note [Multi-tensor steps]
// A model's parameters are many tensors; a launch per tensor costs a few
// microseconds each on the host, which a step over a few hundred small
// parameters pays in full. As PyTorch's foreach implementations do, the
// parameters of one step are cut into chunks of kChunk elements, and one
// launch runs a block per chunk; the table of parameters and chunks goes to
// the device through a pinned block (Note [Staged host copies]), without
// waiting. Each element steps as on the CPU (kernels/cpu/optim_step.h).
#include <vector>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels.h"

namespace ember {
namespace cuda {
namespace {

constexpr int64_t kChunk = 64 * 1024;

struct Chunk {
  int64_t param, start;
};

template <class T>
__global__ void sgd_kernel(const SgdTensors* params, const Chunk* chunks) {
  const Chunk c = chunks[blockIdx.x];
  // (copies in registers: the stores through the parameters' pointers cannot reach them)
  const SgdTensors t = params[c.param];
  const SgdStep<T> step(t.s);
  T* x = (T*)t.p;
  const T* g = (const T*)t.g;
  T* b = (T*)t.buf;
  const int64_t end = c.start + kChunk < t.n ? c.start + kChunk : t.n;
  for (int64_t i = c.start + threadIdx.x; i < end; i += blockDim.x) step(x, g, b, i);
}

// Note [Capturable steps]
// A step whose count lives on the host (PyTorch's default) bakes its bias
// corrections into the launch, so a CUDA graph would replay the first step's
// forever. With capturable=True or fused=True, each count is a float32 0-d
// tensor on the parameter's device, as PyTorch keeps it: count_steps adds one
// to every count of the table, then adam_kernel computes the corrections from
// the new count on the device. Two launches a group, no host wait, and a
// replay steps the counts as eager calls would. A learning rate given as a
// tensor on the GPU is read there too, so a scheduler's fill_ between replays
// takes effect.
__global__ void count_steps(const AdamTensors* params, int64_t count) {
  const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < count && params[i].step) *params[i].step += 1.0f;
}

template <class T>
__global__ void adam_kernel(const AdamTensors* params, const Chunk* chunks) {
  const Chunk c = chunks[blockIdx.x];
  const AdamTensors t = params[c.param];  // (as sgd_kernel's)
  AdamArgs s = t.s;
  if (t.lr) s.lr = load_as<double>(static_cast<const char*>(t.lr), t.lr_dtype);  // (a scheduler may change it)
  if (t.step) {  // (as the host computes them from its count)
    const double n = *t.step;
    s.bias_correction1 = 1.0 - pow(s.beta1, n);
    s.bias_correction2_sqrt = sqrt(1.0 - pow(s.beta2, n));
  }
  T *x = (T*)t.p, *m = (T*)t.m, *v = (T*)t.v, *vmax = (T*)t.vmax;
  const T* g = (const T*)t.g;
  const int64_t end = c.start + kChunk < t.n ? c.start + kChunk : t.n;
  for (int64_t i = c.start + threadIdx.x; i < end; i += blockDim.x) adam_element(x, g, m, v, vmax, i, s);
}

// The parameters' table and their chunks on the device, then kernel<T> over the chunks.
template <class P, class Launch>
void run_chunks(int device, const P* params, int64_t count, const char* what, Launch launch) {
  std::vector<Chunk> chunks;
  for (int64_t p = 0; p < count; ++p)
    for (int64_t start = 0; start < params[p].n; start += kChunk) chunks.push_back({p, start});
  if (chunks.empty()) return;
  const size_t table = (size_t)count * sizeof(P), list = chunks.size() * sizeof(Chunk);
  Scratch scratch(table + list, device);
  char* base = static_cast<char*>(scratch.data);
  copy_to_device_staged(base, params, table, device);
  copy_to_device_staged(base + table, chunks.data(), list, device);
  launch((unsigned)chunks.size(), reinterpret_cast<const P*>(base), reinterpret_cast<const Chunk*>(base + table),
         stream_for(device));
  check_launch(what);
}

}  // namespace

void sgd(int device, int dtype, const SgdTensors* params, int64_t count) {
  if (dtype != kFloat32 && dtype != kFloat64) unsupported("the fused SGD step of this dtype");
  run_chunks(device, params, count, "the SGD step", [&](unsigned blocks, const SgdTensors* p, const Chunk* c, auto s) {
    if (dtype == kFloat32)
      EMBER_LAUNCH(sgd_kernel<float>, blocks, kThreads, s)(p, c);
    else
      EMBER_LAUNCH(sgd_kernel<double>, blocks, kThreads, s)(p, c);
  });
}

void adam(int device, int dtype, const AdamTensors* params, int64_t count) {
  if (dtype != kFloat32 && dtype != kFloat64) unsupported("the fused Adam step of this dtype");
  bool device_steps = false;
  for (int64_t i = 0; i < count; ++i) device_steps |= params[i].step != nullptr;
  run_chunks(device, params, count, "the Adam step",
             [&](unsigned blocks, const AdamTensors* p, const Chunk* c, auto s) {
               if (device_steps) EMBER_LAUNCH(count_steps, blocks_for(count), kThreads, s)(p, count);
               if (dtype == kFloat32)
                 EMBER_LAUNCH(adam_kernel<float>, blocks, kThreads, s)(p, c);
               else
                 EMBER_LAUNCH(adam_kernel<double>, blocks, kThreads, s)(p, c);
             });
}

}  // namespace cuda
}  // namespace ember
