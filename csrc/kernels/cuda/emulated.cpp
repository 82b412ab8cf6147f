// Note [CUDA host emulation]
// This machine, and CI, have no GPU, yet most of the CUDA path is ember's own
// code on the host: device propagation through ops and backward, copies between
// devices, the kernels' argument mapping (strides, broadcasting, the operand
// order and leading dimensions of a cuBLAS product), the allocator, the errors.
// libember_cuda_emulated.so is a Backend whose "device" memory is host memory
// and whose kernels are loops over the same per-element code as the CUDA
// kernels (portable.h: loads, stores, Indexer, ops, combine, Philox); its
// products follow cuBLAS's column-major contract to the letter. With
// EMBER_CUDA_BACKEND=emulated, ember loads it in place of libember_cuda.so and
// reports one CUDA device, so tests/test_cuda.py's GPU tests run here
// (tests/test_cuda_emulated.py). What it cannot check is the GPU itself: launch
// configurations, shared memory, cuBLAS and the speed.
#include <cstdlib>
#include <cstring>
#include <vector>

#include "kernels/cpu/softmax.h"
#include "kernels/cuda/caching_allocator.h"
#include "kernels/cuda/portable.h"

namespace ember {
namespace cuda {
namespace {

void* raw_alloc(size_t size, int) { return std::malloc(size); }
void raw_free(void* p, int) { std::free(p); }
std::string describe(int) { return "the host emulation"; }

CachingAllocator& allocator() {
  static CachingAllocator* a = new CachingAllocator({&raw_alloc, &raw_free, &describe});
  return *a;
}

template <int N, class F>
void each(const Indexer<N>& ix, F f) {
  for (int64_t i = 0; i < ix.numel; ++i) f(i);
}

void check_device(int device) {
  if (device != 0) throw std::runtime_error("CUDA error: invalid device ordinal (the emulation has one device)");
}

// The column-major product cuBLAS computes: C = alpha op(A) op(B) + beta C, batched; T accumulates
// (half floats in float, as cublasGemmEx with CUBLAS_COMPUTE_32F).
template <class T>
void gemm_typed(const GemmArgs& g) {
  const int size = itemsize_of(g.dtype);
  auto at = [&](const void* base, int64_t index) { return load_as<T>((const char*)base + index * size, g.dtype); };
  for (int64_t b = 0; b < g.batch; ++b)
    for (int64_t j = 0; j < g.n; ++j)
      for (int64_t i = 0; i < g.m; ++i) {
        T acc = 0;
        for (int64_t l = 0; l < g.k; ++l) {
          T av = at(g.a, b * g.stride_a + (g.trans_a ? l + i * g.lda : i + l * g.lda));  // op(A)(i, l)
          T bv = at(g.b, b * g.stride_b + (g.trans_b ? j + l * g.ldb : l + j * g.ldb));  // op(B)(l, j)
          acc += av * bv;
        }
        char* out = (char*)g.c + (b * g.stride_c + i + j * g.ldc) * size;
        T old = g.beta == 0 ? T(0) : load_as<T>(out, g.dtype);  // beta 0: C not read (cuBLAS)
        store_as<T>(out, g.dtype, (T)g.alpha * acc + (T)g.beta * old);
      }
}

template <class A>
void softmax_typed(int kind, const TensorArg& out, const TensorArg& x, int64_t outer, int64_t n, int64_t inner) {
  const int size = itemsize_of(x.dtype);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      auto at = [&](int64_t j) { return ((o * n + j) * inner + i) * size; };
      A m = -INFINITY, sum = 0;
      for (int64_t j = 0; j < n; ++j) {
        A v = load_as<A>(x.data + at(j), x.dtype);
        m = std::isnan(v) || v > m ? v : m;
      }
      for (int64_t j = 0; j < n; ++j) sum += std::exp(load_as<A>(x.data + at(j), x.dtype) - m);
      const bool all_masked = std::isinf(m) && m < 0;
      for (int64_t j = 0; j < n; ++j) {
        A v = load_as<A>(x.data + at(j), x.dtype) - m;
        A r = kind == (int)kernels::SoftmaxKind::LogSoftmax                  ? v - std::log(sum)
              : kind == (int)kernels::SoftmaxKind::SafeSoftmax && all_masked ? A(0)
                                                                             : std::exp(v) / sum;
        store_as<A>(out.data + at(j), out.dtype, r);
      }
    }
}

template <class A>
void softmax_backward_typed(int kind, const TensorArg& gx, const TensorArg& g, const TensorArg& y, int64_t outer,
                            int64_t n, int64_t inner) {
  const int size = itemsize_of(y.dtype);
  const bool log_kind = kind == (int)kernels::SoftmaxKind::LogSoftmax;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      auto at = [&](int64_t j) { return ((o * n + j) * inner + i) * size; };
      A dot = 0;
      for (int64_t j = 0; j < n; ++j) {
        A gv = load_as<A>(g.data + at(j), y.dtype);
        dot += log_kind ? gv : gv * load_as<A>(y.data + at(j), y.dtype);
      }
      for (int64_t j = 0; j < n; ++j) {
        A gv = load_as<A>(g.data + at(j), y.dtype), yv = load_as<A>(y.data + at(j), y.dtype);
        store_as<A>(gx.data + at(j), y.dtype, log_kind ? gv - std::exp(yv) * dot : yv * (gv - dot));
      }
    }
}

class EmulatedBackend final : public Backend {
 public:
  int device_count() override { return 1; }
  int current_device() override { return 0; }
  void set_device(int device) override { check_device(device); }
  void synchronize(int device) override { check_device(device); }
  const char* device_name(int) override { return "ember CUDA host emulation"; }

  void* alloc(size_t nbytes, int device) override {
    check_device(device);
    return allocator().alloc(nbytes, device);
  }
  void free(void* p, size_t nbytes, int device) override { allocator().free(p, nbytes, device); }
  MemoryStats memory_stats(int device) override { return allocator().stats(device); }
  void reset_peak_memory_stats(int device) override { allocator().reset_peak(device); }
  void empty_cache() override { allocator().release(0); }
  void copy_bytes(void* dst, int, const void* src, int, size_t nbytes) override { std::memcpy(dst, src, nbytes); }

  void copy(const TensorArg& dst, const TensorArg& src) override {
    const TensorArg* args[2] = {&dst, &src};
    Indexer<2> ix = make_indexer<2>(args);
    dispatch_compute(copy_compute(dst.dtype, src.dtype), [&](auto tag) {
      using T = decltype(tag);
      each(ix, [&](int64_t i) { ix.store<T>(0, i, ix.load<T>(1, i)); });
    });
  }
  void fill(const TensorArg& dst, double value) override {
    const TensorArg* args[1] = {&dst};
    Indexer<1> ix = make_indexer<1>(args);
    dispatch_compute(dst.dtype, [&](auto tag) {
      using T = decltype(tag);
      each(ix, [&](int64_t i) { ix.store<T>(0, i, (T)value); });
    });
  }
  void unary(int op, const TensorArg& out, const TensorArg& a) override {
    if (!unary_supported(op, is_float_dtype(a.dtype))) unsupported("it on " + dtype_label(a.dtype) + " tensors");
    const TensorArg* args[2] = {&out, &a};
    Indexer<2> ix = make_indexer<2>(args);
    dispatch_compute(a.dtype, [&](auto tag) {
      using T = decltype(tag);
      each(ix, [&](int64_t i) { ix.store<T>(0, i, unary_op<T>(op, ix.load<T>(1, i))); });
    });
  }
  void binary(int op, const TensorArg& out, const TensorArg& a, const TensorArg& b) override {
    int compute = a.host_scalar ? b.dtype : a.dtype;
    if (!binary_supported(op, compute)) unsupported("it on " + dtype_label(compute) + " tensors");
    const TensorArg* args[3] = {&out, &a, &b};
    Indexer<3> ix = make_indexer<3>(args);
    dispatch_compute(compute, [&](auto tag) {
      using T = decltype(tag);
      each(ix, [&](int64_t i) { ix.store<T>(0, i, binary_op<T>(op, ix.load<T>(1, i), ix.load<T>(2, i))); });
    });
  }
  void where(const TensorArg& out, const TensorArg& cond, const TensorArg& a, const TensorArg& b) override {
    const TensorArg* args[4] = {&out, &cond, &a, &b};
    Indexer<4> ix = make_indexer<4>(args);
    dispatch_compute(out.dtype, [&](auto tag) {
      using T = decltype(tag);
      each(ix, [&](int64_t i) { ix.store<T>(0, i, ix.load<bool>(1, i) ? ix.load<T>(2, i) : ix.load<T>(3, i)); });
    });
  }
  void clamp(const TensorArg& out, const TensorArg& a, const double* lo, const double* hi) override {
    const TensorArg* args[2] = {&out, &a};
    Indexer<2> ix = make_indexer<2>(args);
    dispatch_compute(a.dtype, [&](auto tag) {
      using T = decltype(tag);
      each(ix, [&](int64_t i) {
        T v = ix.load<T>(1, i);
        if (!is_nan(v)) {
          if (lo && v < (T)*lo) v = (T)*lo;
          if (hi && v > (T)*hi) v = (T)*hi;
        }
        ix.store<T>(0, i, v);
      });
    });
  }
  void reduce(int op, const TensorArg& out, const TensorArg& in, uint64_t mask) override {
    ReduceGeometry g = reduce_geometry(in, mask);
    const int in_size = itemsize_of(in.dtype), out_size = itemsize_of(out.dtype);
    dispatch_compute(reduce_accumulator(op, in.dtype), [&](auto tag) {
      using A = decltype(tag);
      for (int64_t o = 0; o < g.outputs; ++o) {
        int64_t base = g.base(o);
        A acc = identity<A>(op);
        for (int64_t r = 0; r < g.reduced; ++r)
          acc = combine(op, acc, load_as<A>(in.data + (base + g.inner(r)) * in_size, in.dtype));
        store_as<A>(out.data + o * out_size, out.dtype, acc);
      }
    });
  }
  void gemm(const GemmArgs& g) override {
    if (g.dtype == kFloat32 || g.dtype == kFloat16 || g.dtype == kBFloat16)
      gemm_typed<float>(g);
    else if (g.dtype == kFloat64)
      gemm_typed<double>(g);
    else
      unsupported("matmul on " + dtype_label(g.dtype) + " tensors");
  }
  void softmax(int kind, const TensorArg& out, const TensorArg& x, int64_t outer, int64_t n, int64_t inner) override {
    if (!is_float_dtype(x.dtype)) unsupported("softmax of an integer tensor");
    if (x.dtype == kFloat64)
      softmax_typed<double>(kind, out, x, outer, n, inner);
    else
      softmax_typed<float>(kind, out, x, outer, n, inner);
  }
  void softmax_backward(int kind, const TensorArg& gx, const TensorArg& g, const TensorArg& y, int64_t outer, int64_t n,
                        int64_t inner) override {
    if (y.dtype == kFloat64)
      softmax_backward_typed<double>(kind, gx, g, y, outer, n, inner);
    else
      softmax_backward_typed<float>(kind, gx, g, y, outer, n, inner);
  }
  void gather(const TensorArg& out, const TensorArg& src, const int64_t* outer, int64_t n_outer, const int64_t* inner,
              int64_t n_inner) override {
    const int size = itemsize_of(out.dtype);
    for (int64_t k = 0; k < n_outer * n_inner; ++k)
      std::memcpy(out.data + k * size, src.data + (outer[k / n_inner] + inner[k % n_inner]) * size, size);
  }
  void scatter(const TensorArg& dst, const TensorArg& values, const int64_t* outer, int64_t n_outer,
               const int64_t* inner, int64_t n_inner, bool accumulate) override {
    const int size = itemsize_of(dst.dtype);
    if (accumulate && dst.dtype != kFloat32 && dst.dtype != kFloat64 && dst.dtype != kInt64 && dst.dtype != kInt32)
      unsupported("index_put_/scatter_add_ accumulating this dtype");
    for (int64_t k = 0; k < n_outer * n_inner; ++k) {
      char* d = dst.data + (outer[k / n_inner] + inner[k % n_inner]) * size;
      const char* v = values.data + k * size;
      if (!accumulate)
        std::memcpy(d, v, size);
      else
        dispatch_compute(dst.dtype, [&](auto tag) {
          using T = decltype(tag);
          store_as<T>(d, dst.dtype, T(load_as<T>(d, dst.dtype) + load_as<T>(v, dst.dtype)));
        });
    }
  }
  void reduce_arg(bool is_max, const TensorArg& values, const TensorArg& indices, const TensorArg& in,
                  int dim) override {
    ReduceGeometry g = reduce_geometry(in, uint64_t(1) << dim);
    dispatch_compute(in.dtype, [&](auto tag) {
      using A = decltype(tag);
      for (int64_t o = 0; o < g.outputs; ++o) {
        A best;
        reinterpret_cast<int64_t*>(indices.data)[o] =
            arg_extreme<A>(g, in.data, in.dtype, itemsize_of(in.dtype), o, is_max, best);
        store_as<A>(values.data + o * itemsize_of(values.dtype), values.dtype, best);
      }
    });
  }
  void nll_loss(const TensorArg& loss, const TensorArg& wt, const TensorArg& x, const TensorArg& target,
                const TensorArg* weight, int64_t ignore_index) override {
    const int64_t N = x.sizes[0], C = x.sizes[1];
    auto run = [&](auto tag) {
      using T = decltype(tag);
      for (int64_t i = 0; i < N; ++i)
        if (!nll_element((T*)loss.data, (T*)wt.data, (const T*)x.data, (const int64_t*)target.data,
                         weight ? (const T*)weight->data : nullptr, C, ignore_index, i))
          throw std::out_of_range("nll_loss: Target " + std::to_string(((const int64_t*)target.data)[i]) +
                                  " is out of bounds (" + std::to_string(C) + " classes).");
    };
    if (x.dtype == kFloat32)
      run(float());
    else if (x.dtype == kFloat64)
      run(double());
    else
      unsupported("nll_loss of this dtype");
  }
  void sgd(const TensorArg& p, const TensorArg& g, const TensorArg* buf, const SgdArgs& s) override {
    const int64_t n = numel(p);
    auto run = [&](auto tag) {
      using T = decltype(tag);
      for (int64_t i = 0; i < n; ++i) sgd_element((T*)p.data, (const T*)g.data, buf ? (T*)buf->data : nullptr, i, s);
    };
    if (p.dtype == kFloat32)
      run(float());
    else if (p.dtype == kFloat64)
      run(double());
    else
      unsupported("the fused SGD step of this dtype");
  }
  void adam(const TensorArg& p, const TensorArg& g, const TensorArg& m, const TensorArg& v, const TensorArg* vmax,
            const AdamArgs& s) override {
    const int64_t n = numel(p);
    auto run = [&](auto tag) {
      using T = decltype(tag);
      for (int64_t i = 0; i < n; ++i)
        adam_element((T*)p.data, (const T*)g.data, (T*)m.data, (T*)v.data, vmax ? (T*)vmax->data : nullptr, i, s);
    };
    if (p.dtype == kFloat32)
      run(float());
    else if (p.dtype == kFloat64)
      run(double());
    else
      unsupported("the fused Adam step of this dtype");
  }
  void im2col(const TensorArg& cols, const TensorArg& x, const ConvArgs& g) override {
    floating(x.dtype, "im2col of an integer tensor", [&](auto tag) {
      using A = decltype(tag);
      for (int64_t e = 0; e < numel(cols); ++e) im2col_element<A>(e, g, x.data, cols.data, x.dtype, cols.strides);
    });
  }
  void col2im(const TensorArg& x, const TensorArg& cols, const ConvArgs& g) override {
    floating(x.dtype, "col2im of an integer tensor", [&](auto tag) {
      using A = decltype(tag);
      for (int64_t e = 0; e < numel(x); ++e) col2im_element<A>(e, g, x.data, cols.data, x.dtype, cols.strides);
    });
  }
  void max_pool2d(const TensorArg& values, const TensorArg& indices, const TensorArg& x, const ConvArgs& g) override {
    floating(x.dtype, "max_pool2d of an integer tensor", [&](auto tag) {
      using A = decltype(tag);
      for (int64_t o = 0; o < numel(values); ++o)
        max_pool_element<A>(o, g, x.data, values.data, (int64_t*)indices.data, x.dtype);
    });
  }
  void max_pool2d_backward(const TensorArg& grad_in, const TensorArg& grad_out, const TensorArg& indices) override {
    if (grad_in.dtype != kFloat32 && grad_in.dtype != kFloat64) unsupported("max_pool2d backward of this dtype");
    fill(grad_in, 0.0);
    const int64_t out_plane = grad_out.sizes[2] * grad_out.sizes[3], in_plane = grad_in.sizes[2] * grad_in.sizes[3];
    floating(grad_in.dtype, "max_pool2d backward of an integer tensor", [&](auto tag) {
      using A = decltype(tag);
      const int64_t* at = (const int64_t*)indices.data;
      for (int64_t o = 0; o < numel(grad_out); ++o)
        ((A*)grad_in.data)[o / out_plane * in_plane + at[o]] += ((const A*)grad_out.data)[o];
    });
  }
  void scan(int op, const TensorArg& out, const TensorArg* indices, const TensorArg& x, int64_t outer, int64_t n,
            int64_t inner) override {
    if (x.dtype == kBool) unsupported("a scan of a bool tensor");
    dispatch_compute(x.dtype, [&](auto tag) {
      using A = decltype(tag);
      for (int64_t c = 0; c < outer * inner && n; ++c)
        scan_column<A>(op, out.data, indices ? (int64_t*)indices->data : nullptr, x.data, x.dtype, n, inner, c);
    });
  }
  void uniform(const TensorArg& out, double lo, double hi, uint64_t seed, uint64_t offset) override {
    const TensorArg* args[1] = {&out};
    Indexer<1> ix = make_indexer<1>(args);
    if (!is_float_dtype(out.dtype)) unsupported("uniform_ of an integer tensor");
    Philox p = philox(seed);
    dispatch_compute(out.dtype, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (std::is_floating_point<T>::value)
        each(ix, [&](int64_t i) { ix.store<T>(0, i, uniform_value<T>(p, offset, i, lo, hi)); });
    });
  }
  void normal(const TensorArg& out, double mean, double std, uint64_t seed, uint64_t offset) override {
    const TensorArg* args[1] = {&out};
    Indexer<1> ix = make_indexer<1>(args);
    if (!is_float_dtype(out.dtype)) unsupported("normal_ of an integer tensor");
    Philox p = philox(seed);
    dispatch_compute(out.dtype, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (std::is_floating_point<T>::value)
        each(ix, [&](int64_t i) { ix.store<T>(0, i, normal_value<T>(p, offset, i, mean, std)); });
    });
  }
};

}  // namespace
}  // namespace cuda
}  // namespace ember

extern "C" __attribute__((visibility("default"))) ember::cuda::Backend* ember_cuda_backend() {
  static ember::cuda::EmulatedBackend* backend = new ember::cuda::EmulatedBackend();
  return backend;
}
