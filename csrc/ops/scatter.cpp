// Reducing scatters: scatter_reduce (sum, prod, mean, amax, amin into input
// at index along dim) and index_reduce (the same with a 1-D index of slices,
// computed as a scatter_reduce with the index expanded to the source's shape).
// Gradients as PyTorch's: ties of amax/amin share it evenly; prod handles
// zeros and, as PyTorch, refuses a double backward through several zeros
// scattered to one place.
#include <cmath>
#include <limits>

#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/widen.h"
#include "kernels/cuda_dispatch.h"
#include "ops/op_node.h"

namespace ember {

namespace {  // a State is private to its op's file (Note [Node state])
enum class Reduce { Sum, Prod, Mean, Amax, Amin };

struct ScatterReduceState {
  int64_t dim = 0;
  std::string reduce;
  bool include_self = true;
  const char* op = "scatter_reduce";  // the name in errors (index_reduce goes through here)
  void fields(StateFields& f) const {
    f.add("dim", dim);
    f.add("reduce", reduce);
    f.add("include_self", include_self);
  }
};

struct ErrorState {
  std::string message;
  void fields(StateFields&) const {}
};
}  // namespace

// t itself on a first backward; with create_graph, a node that raises `message` when differentiated again.
static Tensor delayed_error(const Tensor& t, std::string message) {
  auto n = make_node<ErrorState>(
      "DelayedError", {&t}, [](auto& n, variable_list&) -> variable_list { EMBER_FAIL(Runtime, n.state.message); });
  if (!n) return t;
  n->state.message = std::move(message);
  return attach(n, detach(t));
}

// out[offs[i]] = reduce(out[offs[i]], v[i]) over i, then the mean's division.
template <class T>
static void reduce_into(T* o, const T* v, const Tensor& offsets, int64_t numel, Reduce r, bool include_self) {
  const int64_t* offs = offsets->data<int64_t>();
  const int64_t n = offsets->numel();
  T lowest =
      std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::lowest();
  T highest = std::numeric_limits<T>::has_infinity ? std::numeric_limits<T>::infinity() : std::numeric_limits<T>::max();
  std::vector<int64_t> count(r == Reduce::Mean ? numel : 0, include_self ? 1 : 0);
  if (!include_self)
    for (int64_t i = 0; i < n; ++i)
      o[offs[i]] = r == Reduce::Prod ? T(1) : (r == Reduce::Amax ? lowest : (r == Reduce::Amin ? highest : T(0)));
  auto isnan = [](T x) { return x != x; };
  for (int64_t i = 0; i < n; ++i) {
    T& a = o[offs[i]];
    T b = v[i];
    switch (r) {
      case Reduce::Sum:
      case Reduce::Mean: a = T(a + b); break;
      case Reduce::Prod: a = T(a * b); break;
      case Reduce::Amax: a = isnan(a) || isnan(b) ? T(NAN) : (b > a ? b : a); break;
      case Reduce::Amin: a = isnan(a) || isnan(b) ? T(NAN) : (b < a ? b : a); break;
    }
    if (r == Reduce::Mean) count[offs[i]] += 1;
  }
  if (r != Reduce::Mean) return;
  for (int64_t p = 0; p < numel; ++p) {
    if (count[p] <= 1) continue;
    if constexpr (std::is_integral_v<T>)
      o[p] = T(std::floor((double)o[p] / (double)count[p]));
    else
      o[p] = o[p] / T(count[p]);
  }
}

static Reduce parse_reduce(const std::string& s) {
  if (s == "sum") return Reduce::Sum;
  if (s == "prod") return Reduce::Prod;
  if (s == "mean") return Reduce::Mean;
  if (s == "amax") return Reduce::Amax;
  if (s == "amin") return Reduce::Amin;
  EMBER_FAIL(Runtime, "reduce argument must be either sum, prod, mean, amax or amin, got ", s);
}

static Tensor scatter_reduce_impl(const Tensor& t, int64_t dim, const Tensor& index, const Tensor& src_in,
                                  const std::string& reduce, bool include_self, const char* op);

static variable_list scatter_reduce_backward(StateNode<ScatterReduceState>& n, variable_list& g) {
  const ScatterReduceState& s = n.state;
  Tensor self = n.saved_at(0), index = n.saved_at(1), src = n.saved_at(2), result = n.saved_at(3);
  const int64_t d = s.dim;
  Tensor grad = g[0], gs, gsrc;
  Tensor one = ones({}, grad->dtype()), zero = zeros({}, grad->dtype());
  switch (parse_reduce(s.reduce)) {
    case Reduce::Sum:
      gs = grad;
      gsrc = gather(grad, d, index);
      break;
    case Reduce::Prod: {
      // The product of the others, without dividing by a zero: zeros of self
      // and single zeros of src are read as 1 in a second product.
      Tensor masked_self = where(eq(self, num(0.0)), one, self);
      gs = div(mul(grad, scatter_reduce_impl(masked_self, d, index, src, "prod", s.include_self, s.op)), masked_self);
      Tensor src_zero = eq(src, num(0.0));
      Tensor zeros_at = gather(scatter_add(zeros_like(self), d, index, to_dtype(src_zero, self->dtype())), d, index);
      Tensor single_zero = logical_and(src_zero, eq(zeros_at, num(1.0)));
      Tensor masked_src_result =
          scatter_reduce_impl(self, d, index, where(single_zero, one, src), "prod", s.include_self, s.op);
      gsrc = where(single_zero, gather(mul(grad, masked_src_result), d, index),
                   div(gather(mul(grad, result), d, index), where(src_zero, one, src)));
      bool several = item_as_double(any(gt(zeros_at, num(1.0)), std::nullopt, false)) != 0;
      if (several) {
        bool index_reduce = std::string(s.op) == "index_reduce";
        const char* what = index_reduce ? "source" : "src";
        gsrc =
            delayed_error(gsrc, detail::cat(s.op, "(): Double backward is unsupported for ", what, " when >1 zeros in ",
                                            what, " are scattered to the same position. This may be caused by ",
                                            "scattering a zero to a position that already holds one."));
      }
      break;
    }
    case Reduce::Mean: {
      Tensor count = scatter_add(s.include_self ? ones_like(grad) : zeros_like(grad), d, index, ones_like(src));
      gs = div(grad, where(eq(count, num(0.0)), one, count));
      gsrc = gather(gs, d, index);
      break;
    }
    case Reduce::Amax:
    case Reduce::Amin: {
      // Every value (of self and src) equal to the result shares its gradient evenly.
      Tensor value = gather(result, d, index);
      Tensor self_hit = to_dtype(eq(self, result), grad->dtype()), src_hit = to_dtype(eq(src, value), grad->dtype());
      Tensor shared = div(grad, scatter_add(self_hit, d, index, src_hit));
      gs = mul(self_hit, shared);
      gsrc = mul(src_hit, gather(shared, d, index));
      break;
    }
  }
  // Without include_self, the scattered-to values of self were replaced: no gradient.
  if (!s.include_self && n.needs(0)) {
    Tensor hit = gt(scatter_add(zeros_like(grad), d, index, ones_like(src)), num(0.0));
    gs = where(hit, zero, gs);
  }
  return {n.needs(0) ? gs : Tensor(), n.needs(1) ? gsrc : Tensor()};
}

static Tensor scatter_reduce_impl(const Tensor& t, int64_t dim, const Tensor& index, const Tensor& src_in,
                                  const std::string& reduce, bool include_self, const char* op) {
  Reduce r = parse_reduce(reduce);
  if (t->dim() == 0) {
    auto v = [](const Tensor& x) { return reshape(x, {x->numel()}); };
    return reshape(scatter_reduce_impl(v(t), 0, v(index), v(src_in), reduce, include_self, op), {});
  }
  int64_t d = wrap_dim(dim, t->dim());
  check_gather_args(t, d, index, "scatter_reduce");
  EMBER_CHECK(src_in->dtype() == t->dtype(), "scatter_reduce(): Expected self.dtype to be equal to src.dtype");
  if (t->dtype() == DType::Bool && std::string(op) == "scatter_reduce") {
    // as PyTorch's: sum and amax are a logical or, prod and amin an and (counted in int32, then != 0); no mean
    EMBER_CHECK_KIND(r != Reduce::Mean, NotImplemented,
                     "scatter_reduce(): reduce='mean' of bool tensors is not "
                     "supported, as in PyTorch (\"scatter_gather_tensor_cpu_reduce_mean\" not implemented for 'Bool')");
    Tensor counted = scatter_reduce_impl(cast_for_kernel(t, DType::Int32), d, index,
                                         cast_for_kernel(src_in, DType::Int32), reduce, include_self, op);
    return cast_for_kernel(counted, DType::Bool);
  }
  EMBER_CHECK(src_in->dim() == index->dim(), "Index tensor must have the same number of dimensions as src tensor");
  for (int64_t k = 0; k < index->dim(); ++k)
    EMBER_CHECK(index->size(k) <= src_in->size(k), "Expected index ", detail::cat(index->sizes()),
                " to be no larger than self ", detail::cat(t->sizes()), " apart from dimension ", d,
                " and to be no larger size than src ", detail::cat(src_in->sizes()));
  // Only src's elements under index take part: src narrowed to index's shape (differentiably).
  Tensor src = src_in;
  for (int64_t k = 0; k < index->dim(); ++k)
    if (src->size(k) != index->size(k)) src = narrow(src, k, 0, index->size(k));
  Tensor out = empty(t->sizes(), t->dtype());
  kernels::copy(out, t);
  const Tensor offs = along_dim_offsets(out, d, index);
  Tensor vals = contiguous(detach(src));
  kernels::Widening widening;  // out and vals are contiguous, so the offsets hold for their buffers
  const Tensor wide_out = widening.inout(out), wide_vals = widening.in(vals);
  if (kernels::on_cuda(wide_out))
    kernels::cuda_dispatch::scatter_reduce((int)r, wide_out, wide_vals, offs, include_self);
  else
    dispatch(wide_out->dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      if constexpr (std::is_same_v<T, bool>)
        EMBER_FAIL(NotImplemented, op, "(): bool tensors are not supported by ember");
      else
        reduce_into<T>(wide_out->data<T>(), wide_vals->data<T>(), offs, out->numel(), r, include_self);
    });
  widening.finish();
  auto n = make_node<ScatterReduceState>(
      std::string(op) == "index_reduce" ? "IndexReduceBackward0" : "ScatterReduceBackward0", {&t, &src},
      scatter_reduce_backward);
  if (n) {
    n->state = {d, reduce, include_self, op};
    n->save("self", t);
    n->save("index", index);
    n->save("src", src);
    attach(n, out);
    n->save_output("result", out);
  }
  return out;
}

Tensor scatter_reduce(const Tensor& t, int64_t dim, const Tensor& index, const Tensor& src, const std::string& reduce,
                      bool include_self) {
  return scatter_reduce_impl(t, dim, index, src, reduce, include_self, "scatter_reduce");
}

Tensor index_reduce(const Tensor& t, int64_t dim, const Tensor& index, const Tensor& source, const std::string& reduce,
                    bool include_self) {
  EMBER_CHECK(reduce == "prod" || reduce == "mean" || reduce == "amax" || reduce == "amin",
              "index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got ", reduce, ".");
  EMBER_CHECK_KIND(index->dim() <= 1, Index, "index_reduce_(): Index is supposed to be a vector");
  EMBER_CHECK(index->dtype() == DType::Int64 || index->dtype() == DType::Int32,
              "index_reduce_(): Expected dtype int32/int64 for index");
  EMBER_CHECK(source->dtype() == t->dtype(), "index_reduce_(): self (", dtype_name(t->dtype()), ") and source (",
              dtype_name(source->dtype()), ") must have the same scalar type");
  const int64_t nd = std::max<int64_t>(t->dim(), 1);
  int64_t d = wrap_dim(dim, t->dim());
  Tensor self = t->dim() ? t : reshape(t, {1}), src = source->dim() ? source : reshape(source, {1});
  EMBER_CHECK(src->dim() == nd, "index_reduce_(): Source/destination tensor must have same dimensions, got ",
              detail::cat(t->sizes()), " and ", detail::cat(source->sizes()));
  for (int64_t k = 0; k < nd; ++k)
    EMBER_CHECK(k == d || src->size(k) == self->size(k), "index_reduce_(): source ", detail::cat(source->sizes()),
                " and self ", detail::cat(t->sizes()), " must have the same size apart from dimension ", d);
  EMBER_CHECK(index->numel() == src->size(d), "index_reduce_(): Number of indices (", index->numel(),
              ") should be equal to source.size(dim) (", src->size(d), ")");
  // index[i] for every element of source's slice i along d.
  Shape along(nd, 1);
  along[d] = index->numel();
  Tensor full_index = contiguous(expand(reshape(cast_for_kernel(index, DType::Int64), along), src->sizes()));
  Tensor out = scatter_reduce_impl(self, d, full_index, src, reduce, include_self, "index_reduce");
  return t->dim() ? out : reshape(out, {});
}

}  // namespace ember
