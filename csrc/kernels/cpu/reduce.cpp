#include "kernels/cpu/reduce.h"
#include "kernels/cpu/widen.h"
#include "kernels/cuda_dispatch.h"

#include <cmath>
#include <type_traits>
#include <vector>

#include "kernels/cpu/integer.h"
#include "kernels/cpu/loops.h"

namespace ember {
namespace kernels {
namespace {

// The input split into kept dims (one per output element) and reduced dims.
struct ReducePlan {
  Shape kept_sizes, kept_strides;  // elements, outermost first
  LoopPlan<1> inner;               // the reduced sub-space, byte strides
  int64_t num_out = 1;
};

ReducePlan make_reduce_plan(const Tensor& in, uint64_t mask) {
  ReducePlan p;
  Shape red_sizes, red_strides;
  for (int64_t d = 0; d < in->dim(); ++d) {
    if (mask & (1ull << d)) {
      red_sizes.push_back(in->size(d));
      red_strides.push_back(in->stride(d));
    } else {
      p.kept_sizes.push_back(in->size(d));
      p.kept_strides.push_back(in->stride(d));
      p.num_out *= in->size(d);
    }
  }
  // The reduced sub-space is described like an elementwise operand.
  TensorImpl view(in->storage(), red_sizes, red_strides, in->offset(), in->dtype());
  p.inner = make_plan<1>(red_sizes, {&view}, {&red_strides});
  return p;
}

int64_t kept_offset(const ReducePlan& p, int64_t o) {
  int64_t off = 0;
  for (int64_t d = (int64_t)p.kept_sizes.size() - 1; d >= 0; --d) {
    off += (o % p.kept_sizes[d]) * p.kept_strides[d];
    o /= p.kept_sizes[d];
  }
  return off;
}

template <ReduceOp op, class T, class Acc>
struct Reducer {
  static Acc init() {
    if constexpr (op == ReduceOp::Sum || op == ReduceOp::Any) return Acc(0);
    if constexpr (op == ReduceOp::Prod || op == ReduceOp::All) return Acc(1);
    if constexpr (op == ReduceOp::Max)
      return std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity()
                                                  : std::numeric_limits<T>::lowest();
    if constexpr (op == ReduceOp::Min)
      return std::numeric_limits<T>::has_infinity ? std::numeric_limits<T>::infinity() : std::numeric_limits<T>::max();
  }
  static Acc combine(Acc a, Acc b) {
    if constexpr (op == ReduceOp::Sum) return wrap_add(a, b);
    if constexpr (op == ReduceOp::Prod) return wrap_mul(a, b);
    if constexpr (op == ReduceOp::Any) return a || b;
    if constexpr (op == ReduceOp::All) return a && b;
    if constexpr (op == ReduceOp::Max || op == ReduceOp::Min) {
      if constexpr (std::is_floating_point_v<Acc>)
        if (a != a || b != b) return std::numeric_limits<Acc>::quiet_NaN();
      return op == ReduceOp::Max ? (a > b ? a : b) : (a < b ? a : b);
    }
  }
  // Accumulates one run of n elements at byte stride s.
  static Acc run(const char* p, int64_t s, int64_t n, Acc acc) {
    if (s == sizeof(T)) {
      const T* x = (const T*)p;
      if constexpr (op == ReduceOp::Sum) {
        Acc local = 0;
        for (int64_t i = 0; i < n; ++i) local = wrap_add(local, (Acc)x[i]);
        return wrap_add(acc, local);
      }
      for (int64_t i = 0; i < n; ++i)
        acc = combine(acc, (Acc)(op == ReduceOp::Any || op == ReduceOp::All ? x[i] != T(0) : x[i]));
      return acc;
    }
    for (int64_t i = 0; i < n; ++i) {
      T v = *(const T*)(p + i * s);
      acc = combine(acc, (Acc)(op == ReduceOp::Any || op == ReduceOp::All ? v != T(0) : v));
    }
    return acc;
  }
};

// A sum over the leading dims of a contiguous tensor (a bias gradient: the sum
// over the batch) goes row by row into a row of accumulators, unit stride and
// vectorised, where the generic path walks one column at a time down a
// stride. Each output adds its elements in the same order as there, so the
// result is the same. Returns false when the layout does not fit.
template <class T, class Acc, class Out>
bool sum_leading_dims(const Tensor& out, const Tensor& in, uint64_t mask) {
  const int64_t nd = in->dim();
  int64_t k = 0;
  while (k < nd && ((mask >> k) & 1)) ++k;
  if (!in->is_contiguous() || k == 0 || k == nd || (mask >> k) != 0) return false;
  int64_t rows = 1, cols = 1;
  for (int64_t d = 0; d < nd; ++d) (d < k ? rows : cols) *= in->size(d);
  if (cols < 16) return false;  // few outputs: the generic path is as good
  const T* x = in->data<T>();
  Out* o = out->data<Out>();
  auto columns = [&](int64_t c0, int64_t c1) {
    std::vector<Acc> acc(c1 - c0, Acc(0));
    for (int64_t r = 0; r < rows; ++r) {
      const T* row = x + r * cols + c0;
      for (int64_t c = 0; c < c1 - c0; ++c) acc[c] += (Acc)row[c];
    }
    for (int64_t c = c0; c < c1; ++c) o[c] = (Out)acc[c - c0];
  };
  AllowThreads allow(rows * cols >= kParallelGrain);
  const int64_t chunks = rows * cols >= kParallelGrain ? std::min<int64_t>(max_threads(), cols / 16) : 1;
#pragma omp parallel for num_threads((int)std::max<int64_t>(chunks, 1)) schedule(static) if (chunks > 1)
  for (int64_t t = 0; t < std::max<int64_t>(chunks, 1); ++t) columns(cols * t / chunks, cols * (t + 1) / chunks);
  return true;
}

template <ReduceOp op, class T, class Acc, class Out>
void reduce_all(const Tensor& out, const Tensor& in, uint64_t mask) {
  if constexpr (op == ReduceOp::Sum)
    if (sum_leading_dims<T, Acc, Out>(out, in, mask)) return;
  using R = Reducer<op, T, Acc>;
  ReducePlan p = make_reduce_plan(in, mask);
  Out* o = out->data<Out>();
  const int64_t red = p.inner.numel;
  const int64_t isz = (int64_t)sizeof(T);
  auto reduce_range = [&](int64_t out_idx, int64_t begin, int64_t end) {
    LoopPlan<1> plan = p.inner;
    plan.base[0] = in->data_ptr() + kept_offset(p, out_idx) * isz;
    Acc acc = R::init();
    auto inner = [&](const std::array<char*, 1>& ptr, const std::array<int64_t, 1>& s, int64_t n) {
      acc = R::run(ptr[0], s[0], n, acc);
    };
    if (red > 0) run_range<1>(plan, begin, end, inner);
    return acc;
  };
  AllowThreads allow(p.num_out * red >= kParallelGrain);
  const int threads = max_threads();
  if (p.num_out >= threads && p.num_out * red >= kParallelGrain && threads > 1) {
#pragma omp parallel for num_threads(max_threads()) schedule(static)
    for (int64_t i = 0; i < p.num_out; ++i) o[i] = (Out)reduce_range(i, 0, red);
  } else if (red >= kParallelGrain) {
    // Few outputs, long reductions: partials over chunks that depend on the size
    // only (not on the thread count, so the result does not either), merged in
    // a fixed order.
    const int chunks = (int)std::min<int64_t>(16, red / (kParallelGrain / 2));
    for (int64_t i = 0; i < p.num_out; ++i) {
      std::vector<Acc> partial(chunks, R::init());
#pragma omp parallel for schedule(static) num_threads(threads)
      for (int c = 0; c < chunks; ++c) partial[c] = reduce_range(i, red * c / chunks, red * (c + 1) / chunks);
      Acc acc = R::init();
      for (auto v : partial) acc = R::combine(acc, v);
      o[i] = (Out)acc;
    }
  } else {
    for (int64_t i = 0; i < p.num_out; ++i) o[i] = (Out)reduce_range(i, 0, red);
  }
}

template <ReduceOp op>
void reduce_dispatch(const Tensor& out, const Tensor& in, uint64_t mask) {
  dispatch(in->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (op == ReduceOp::Any || op == ReduceOp::All) {
      reduce_all<op, T, bool, bool>(out, in, mask);
    } else if constexpr (op == ReduceOp::Max || op == ReduceOp::Min) {
      reduce_all<op, T, T, T>(out, in, mask);
    } else if constexpr (std::is_floating_point_v<T>) {
      if (out->dtype() == DType::Float32)
        reduce_all<op, T, double, float>(out, in, mask);
      else
        reduce_all<op, T, double, double>(out, in, mask);
    } else {
      EMBER_ASSERT(out->dtype() == DType::Int64);
      reduce_all<op, T, int64_t, int64_t>(out, in, mask);
    }
  });
}

}  // namespace

void reduce(ReduceOp op, const Tensor& out, const Tensor& in, uint64_t mask) {
  if (on_cuda(out)) return cuda_dispatch::reduce(op, out, in, mask);
  if (any_storage_only(out, in)) {
    Widening w;
    reduce(op, w.out(out), w.in(in), mask);
    return w.finish();
  }
  switch (op) {
    case ReduceOp::Sum: return reduce_dispatch<ReduceOp::Sum>(out, in, mask);
    case ReduceOp::Prod: return reduce_dispatch<ReduceOp::Prod>(out, in, mask);
    case ReduceOp::Max: return reduce_dispatch<ReduceOp::Max>(out, in, mask);
    case ReduceOp::Min: return reduce_dispatch<ReduceOp::Min>(out, in, mask);
    case ReduceOp::Any: return reduce_dispatch<ReduceOp::Any>(out, in, mask);
    case ReduceOp::All: return reduce_dispatch<ReduceOp::All>(out, in, mask);
  }
}

void reduce_arg(bool is_max, const Tensor& values, const Tensor& indices, const Tensor& in, int64_t dim) {
  if (on_cuda(values)) return cuda_dispatch::reduce_arg(is_max, values, indices, in, dim);
  if (any_storage_only(values, in)) {
    Widening w;
    reduce_arg(is_max, w.out(values), indices, w.in(in), dim);
    return w.finish();
  }
  dispatch(in->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    ReducePlan p = make_reduce_plan(in, 1ull << dim);
    const int64_t n = in->size(dim), s = in->stride(dim);
    T* vo = values->data<T>();
    int64_t* io = indices->data<int64_t>();
    const T* base = in->data<T>();
#pragma omp parallel for num_threads(max_threads()) schedule(static) if (p.num_out * n >= kParallelGrain)
    for (int64_t o = 0; o < p.num_out; ++o) {
      const T* x = base + kept_offset(p, o);
      T best = x[0];
      int64_t bi = 0;
      for (int64_t i = 1; i < n; ++i) {
        T v = x[i * s];
        if constexpr (std::is_floating_point_v<T>) {
          if (best != best) break;
          if (v != v) {
            best = v;
            bi = i;
            break;
          }
        }
        if (is_max ? v > best : v < best) {
          best = v;
          bi = i;
        }
      }
      vo[o] = best;
      io[o] = bi;
    }
  });
}

}  // namespace kernels
}  // namespace ember
