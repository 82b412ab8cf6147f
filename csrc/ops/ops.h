#pragma once
// The list of ember's ops. Each family lives in csrc/ops/<family>.cpp with its
// forward (dispatching to csrc/kernels/cpu) and its backward node side by side.
// Backward formulas call these same functions, so they are differentiable and
// create_graph=True works for every op.
#include <array>
#include <functional>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace ember {

using TensorList = std::vector<Tensor>;
using DimList = std::vector<int64_t>;

// ---- creation (create.cpp)
Tensor zeros(const Shape& shape, DType dtype = DType::Float32);
Tensor ones(const Shape& shape, DType dtype = DType::Float32);
Tensor full(const Shape& shape, double value, DType dtype);
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor arange(double start, double end, double step, DType dtype);
Tensor linspace(double start, double end, int64_t steps, DType dtype);
Tensor eye(int64_t n, int64_t m, DType dtype);
struct Generator;
// Random tensors draw from `gen`, or from the default generator when null.
Tensor rand(const Shape& shape, DType dtype, Generator* gen = nullptr);
Tensor randn(const Shape& shape, DType dtype, Generator* gen = nullptr);
Tensor randint(int64_t low, int64_t high, const Shape& shape, DType dtype, Generator* gen = nullptr);
Tensor randperm(int64_t n, DType dtype, Generator* gen = nullptr);
void manual_seed(uint64_t seed);
uint64_t initial_seed();

// ---- copies and conversions (convert.cpp)
// A same-valued tensor of `dtype` outside autograd (for kernel inputs); `t` itself when it has that dtype.
Tensor cast_for_kernel(const Tensor& t, DType dtype);
Tensor clone(const Tensor& t);
Tensor contiguous(const Tensor& t);
// Note [Memory formats]: ember.contiguous_format / channels_last / channels_last_3d /
// preserve_format. A format is a choice of strides at creation and copy (clone, contiguous,
// *_like, empty, to); the ops themselves return row-major results whatever their inputs' strides.
enum class MemoryFormat { Preserve, Contiguous, ChannelsLast, ChannelsLast3d };
// The strides of a copy of t in format f (preserve: t's own when dense and non-overlapping).
Shape memory_format_strides(const Tensor& t, MemoryFormat f);
bool is_contiguous_as(const Tensor& t, MemoryFormat f);
// An uninitialised tensor with the given strides (dense and non-overlapping).
Tensor empty_dense_strided(const Shape& sizes, const Shape& strides, DType dtype);
// A copy with the given strides (dense and non-overlapping), recorded as CloneBackward0.
Tensor clone_strided(const Tensor& t, const Shape& strides);
Tensor clone(const Tensor& t, MemoryFormat f);
Tensor contiguous(const Tensor& t, MemoryFormat f);
Tensor to_dtype(const Tensor& t, DType dtype);                  // differentiable between float dtypes
Tensor to_device(const Tensor& t, Device device, DType dtype);  // across devices; differentiable
// t on `device`: itself when it is there, else to_device's copy (a number's 0-d CPU tensor joining a CUDA op).
inline Tensor moved_to(const Tensor& t, Device device) {
  return t->device() == device ? t : to_device(t, device, t->dtype());
}
Tensor pin_memory(const Tensor& t);  // in page-locked host memory (Note [Pinned memory]); differentiable
// t in its compute dtype (Note [Storage dtypes]): a composite forward (softmax,
// var, ...) computes a half float in float32 and rounds its result once, as
// PyTorch's fused CPU kernels do. Call it under NoGradGuard.
inline Tensor widened(const Tensor& t) { return to_dtype(t, compute_dtype(t->dtype())); }
Tensor detach(const Tensor& t);  // shares storage and version counter
Tensor& copy_(Tensor& self, const Tensor& src);

// ---- elementwise (arith.cpp)
DType result_type(const Tensor& a, const Tensor& b);
Tensor add(const Tensor& a, const Tensor& b, double alpha = 1.0);
// alpha as the wrapped number add/sub multiply `other` by: an int for integer tensors.
Tensor alpha_scalar(const Tensor& other, double alpha);
Tensor sub(const Tensor& a, const Tensor& b, double alpha = 1.0);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
// div with rounding_mode "trunc" or "floor" (integers stay integers; zero gradient), or true division
// when none (a DivBackward0 node that records rounding_mode None).
Tensor div_rounding(const Tensor& a, const Tensor& b, const std::optional<std::string>& rounding_mode);
Tensor pow(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor neg(const Tensor& t);
Tensor abs(const Tensor& t);
Tensor sqrt(const Tensor& t);
Tensor rsqrt(const Tensor& t);
Tensor exp(const Tensor& t);
Tensor log(const Tensor& t);
Tensor log1p(const Tensor& t);
Tensor expm1(const Tensor& t);
Tensor sin(const Tensor& t);
Tensor cos(const Tensor& t);
Tensor tan(const Tensor& t);
Tensor tanh(const Tensor& t);
Tensor sigmoid(const Tensor& t);
Tensor relu(const Tensor& t);
Tensor sign(const Tensor& t);
Tensor reciprocal(const Tensor& t);
Tensor erf(const Tensor& t);
// Fused backward formulas (Note [Fused backward ops]); result = the op's saved output.
Tensor threshold_backward(const Tensor& grad, const Tensor& result);
Tensor tanh_backward(const Tensor& grad, const Tensor& result);
Tensor sigmoid_backward(const Tensor& grad, const Tensor& result);
Tensor clamp(const Tensor& t, std::optional<double> min, std::optional<double> max);
// tensor bounds; an undefined one is absent (PyTorch's ClampBackward0)
Tensor clamp(const Tensor& t, const Tensor& min, const Tensor& max);
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
// no gradient; bool results
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor logical_and(const Tensor& a, const Tensor& b);
Tensor logical_or(const Tensor& a, const Tensor& b);
Tensor logical_xor(const Tensor& a, const Tensor& b);
Tensor logical_not(const Tensor& t);
// integer and bool dtypes; result_type promotion
Tensor bitwise_and(const Tensor& a, const Tensor& b);
Tensor bitwise_or(const Tensor& a, const Tensor& b);
Tensor bitwise_xor(const Tensor& a, const Tensor& b);
Tensor bitwise_left_shift(const Tensor& a, const Tensor& b);
Tensor bitwise_right_shift(const Tensor& a, const Tensor& b);
Tensor bitwise_not(const Tensor& t);
Tensor isnan(const Tensor& t);
Tensor isinf(const Tensor& t);
Tensor isfinite(const Tensor& t);

// ---- more elementwise math (special.cpp)
Tensor atan2(const Tensor& a, const Tensor& b);
Tensor floor_divide(const Tensor& a, const Tensor& b);
Tensor remainder(const Tensor& a, const Tensor& b);  // Python's %: the sign of b
Tensor fmod(const Tensor& a, const Tensor& b);       // C's fmod: the sign of a
Tensor igamma(const Tensor& a, const Tensor& x);     // regularized lower incomplete gamma P(a, x)
Tensor igammac(const Tensor& a, const Tensor& x);    // regularized upper incomplete gamma Q(a, x)
Tensor signbit(const Tensor& t);
Tensor hypot(const Tensor& a, const Tensor& b);
Tensor logaddexp(const Tensor& a, const Tensor& b);
Tensor logaddexp2(const Tensor& a, const Tensor& b);
Tensor xlogy(const Tensor& a, const Tensor& b);
Tensor xlog1py(const Tensor& a, const Tensor& b);
Tensor zeta(const Tensor& s, const Tensor& q);  // Hurwitz zeta
// weight: a tensor, or a wrapped number (LerpBackward0)
Tensor lerp(const Tensor& self, const Tensor& end, const Tensor& weight);
Tensor addcmul(const Tensor& self, const Tensor& t1, const Tensor& t2, double value);
Tensor addcdiv(const Tensor& self, const Tensor& t1, const Tensor& t2, double value);

// ---- elementwise functions of one tensor (unary_math.cpp)
Tensor floor(const Tensor& t);  // rounding: integers unchanged, zero gradient
Tensor ceil(const Tensor& t);
Tensor trunc(const Tensor& t);
Tensor round(const Tensor& t, int64_t decimals = 0);  // half to even
Tensor frac(const Tensor& t);
Tensor asin(const Tensor& t);
Tensor acos(const Tensor& t);
Tensor atan(const Tensor& t);
Tensor sinh(const Tensor& t);
Tensor cosh(const Tensor& t);
Tensor asinh(const Tensor& t);
Tensor acosh(const Tensor& t);
Tensor atanh(const Tensor& t);
Tensor log2(const Tensor& t);
Tensor log10(const Tensor& t);
Tensor exp2(const Tensor& t);
Tensor erfc(const Tensor& t);
Tensor erfinv(const Tensor& t);
Tensor lgamma(const Tensor& t);
Tensor digamma(const Tensor& t);
Tensor polygamma(int64_t n, const Tensor& t);
Tensor mvlgamma(const Tensor& t, int64_t p);
// bessel.cpp: i0, i0e, i1, i1e and erfcx differentiable; the rest forward-only, as in PyTorch
Tensor i0(const Tensor& t);
Tensor special_i0e(const Tensor& t);
Tensor special_i1(const Tensor& t);
Tensor special_i1e(const Tensor& t);
Tensor special_erfcx(const Tensor& t);
Tensor bessel_j0(const Tensor& t);
Tensor bessel_j1(const Tensor& t);
Tensor bessel_y0(const Tensor& t);
Tensor bessel_y1(const Tensor& t);
Tensor modified_bessel_i0(const Tensor& t);
Tensor modified_bessel_i1(const Tensor& t);
Tensor modified_bessel_k0(const Tensor& t);
Tensor modified_bessel_k1(const Tensor& t);
Tensor scaled_modified_bessel_k0(const Tensor& t);
Tensor scaled_modified_bessel_k1(const Tensor& t);
Tensor airy_ai(const Tensor& t);
Tensor spherical_bessel_j0(const Tensor& t);
Tensor nan_to_num(const Tensor& t, std::optional<double> nan, std::optional<double> posinf,
                  std::optional<double> neginf);

// ---- in-place (inplace.cpp); each bumps the version counter
Tensor& add_(Tensor& self, const Tensor& other, double alpha = 1.0);
Tensor& sub_(Tensor& self, const Tensor& other, double alpha = 1.0);
Tensor& mul_(Tensor& self, const Tensor& other);
Tensor& div_(Tensor& self, const Tensor& other);
Tensor& pow_(Tensor& self, const Tensor& other);
Tensor& fill_(Tensor& self, const Tensor& value);
Tensor& zero_(Tensor& self);
// Checks shared by every in-place op before it writes (leaf, view, dtype).
void check_inplace(const Tensor& self, const char* op, bool records_grad);
// Note [View creation]: PyTorch's refusal of a recorded in-place op on such a view, if it is one.
void check_view_creation(const TensorImpl& self);
// Note [View creation]: records how `view` (a view of `parent`) was made.
void note_view_creation(TensorImpl& view, const TensorImpl& parent);
// The outputs of an op returning several views (split, unbind): `creator` as
// PyTorch names it in its error ("Split", "Unbind").
void note_multi_output_views(TensorList& views, const TensorImpl& parent, const char* creator);
// Note [Scalar overflow]: PyTorch's error when a number does not fit the dtype it is written into.
bool value_overflows(double value, DType dtype);
void check_value_fits(double value, DType dtype);
void check_value_fits(const Tensor& value, DType dtype);  // value: a 0-d tensor
// Note [Memory overlap]: RuntimeErrors with PyTorch's words.
void check_no_internal_overlap(const Tensor& self);
void check_no_partial_overlap(const Tensor& self, const Tensor& input);
// The in-place form of any op: `compute` (the op applied to self) runs, and its
// result is written into self; recorded as that op's node when `records`
// (Note [In-place ops]). The result must keep self's shape and cast to its dtype.
Tensor& apply_inplace(Tensor& self, bool records, const char* op, const std::function<Tensor(const Tensor&)>& compute);
// out=: `result` written into `out`, which is resized to result's shape when it
// differs; refused when autograd would have to record it, as in PyTorch.
Tensor& copy_to_out(Tensor& out, const Tensor& result, const char* op);

// ---- reductions (reduce.cpp)
Tensor sum(const Tensor& t, const DimList& dims, bool keepdim, std::optional<DType> dtype = std::nullopt);
Tensor sum_all(const Tensor& t);
Tensor mean(const Tensor& t, const DimList& dims, bool keepdim);
Tensor prod(const Tensor& t, std::optional<int64_t> dim, bool keepdim, std::optional<DType> dtype = std::nullopt);
Tensor amax(const Tensor& t, const DimList& dims, bool keepdim);
Tensor amin(const Tensor& t, const DimList& dims, bool keepdim);
Tensor max_all(const Tensor& t);
Tensor min_all(const Tensor& t);
std::pair<Tensor, Tensor> max_dim(const Tensor& t, int64_t dim, bool keepdim);
std::pair<Tensor, Tensor> min_dim(const Tensor& t, int64_t dim, bool keepdim);
Tensor argmax(const Tensor& t, std::optional<int64_t> dim, bool keepdim);
Tensor argmin(const Tensor& t, std::optional<int64_t> dim, bool keepdim);
Tensor var(const Tensor& t, const DimList& dims, double correction, bool keepdim);
Tensor std(const Tensor& t, const DimList& dims, double correction, bool keepdim);
Tensor norm(const Tensor& t, double p, const DimList& dims, bool keepdim);
Tensor logsumexp(const Tensor& t, const DimList& dims, bool keepdim);
Tensor softmax(const Tensor& t, int64_t dim);
Tensor log_softmax(const Tensor& t, int64_t dim);
// softmax, with zeros for a slice of -inf only instead of NaN (PyTorch's _safe_softmax: attention rows
// with every key masked).
Tensor safe_softmax(const Tensor& t, int64_t dim);
// (output, mean, rstd) of layer normalisation over the trailing dims `normalized_shape` (weight and bias
// may be null); mean and rstd shaped input.shape[:-k] + (1,) * k, without grad (ops/norm.cpp).
std::tuple<Tensor, Tensor, Tensor> native_layer_norm(const Tensor& input, const Shape& normalized_shape,
                                                     const Tensor& weight, const Tensor& bias, double eps);
// Batch norm with the batch's statistics, as one node (NativeBatchNormBackward0; Note [Fused batch norm]):
// (output, mean, biased variance, invstd), the last three per channel.
std::tuple<Tensor, Tensor, Tensor, Tensor> native_batch_norm_train(const Tensor& input, const Tensor& weight,
                                                                   const Tensor& bias, double eps);
// (output, mean, rstd) of group normalisation: input (N, C, *) with HxW values per channel, the C channels in
// `group` groups; mean and rstd (N, group), without grad (ops/norm.cpp).
std::tuple<Tensor, Tensor, Tensor> native_group_norm(const Tensor& input, const Tensor& weight, const Tensor& bias,
                                                     int64_t N, int64_t C, int64_t HxW, int64_t group, double eps);
Tensor all(const Tensor& t, std::optional<int64_t> dim, bool keepdim);
Tensor any(const Tensor& t, std::optional<int64_t> dim, bool keepdim);
// Sums a broadcast gradient back to `shape` (the reverse of broadcasting).
Tensor sum_to(const Tensor& t, const Shape& shape);
bool expand_compatible(const Shape& target, const Shape& shape);
Tensor count_nonzero(const Tensor& t, const DimList& dims);

// ---- sorting and searching (sort.cpp); index outputs are int64 and never require grad
std::pair<Tensor, Tensor> sort(const Tensor& t, int64_t dim, bool descending, bool stable);
std::pair<Tensor, Tensor> topk(const Tensor& t, int64_t k, int64_t dim, bool largest, bool sorted);
std::pair<Tensor, Tensor> kthvalue(const Tensor& t, int64_t k, int64_t dim, bool keepdim);
// The lower median; NaN when a NaN is present, unless ignore_nan (nanmedian).
Tensor median_all(const Tensor& t, bool ignore_nan);
std::pair<Tensor, Tensor> median_dim(const Tensor& t, int64_t dim, bool keepdim, bool ignore_nan);
// sorter: an undefined Tensor when absent.
Tensor searchsorted(const Tensor& sorted, const Tensor& values, bool out_int32, bool right, const Tensor& sorter);
Tensor isin(const Tensor& elements, const Tensor& test_elements, bool invert);
// unique / unique_consecutive: {values, inverse, counts}.
std::array<Tensor, 3> unique(const Tensor& t, std::optional<int64_t> dim, bool consecutive);

// ---- linear algebra (linalg.cpp)
Tensor mm(const Tensor& a, const Tensor& b);
Tensor bmm(const Tensor& a, const Tensor& b);
Tensor addmm(const Tensor& input, const Tensor& mat1, const Tensor& mat2, double beta = 1.0, double alpha = 1.0);
Tensor matmul(const Tensor& a, const Tensor& b);
Tensor dot(const Tensor& a, const Tensor& b);
Tensor mv(const Tensor& a, const Tensor& v);
Tensor outer(const Tensor& a, const Tensor& b);

// ---- views (view.cpp): share storage and version counter
Tensor view(const Tensor& t, const Shape& shape);
Tensor view_dtype(const Tensor& t, DType dtype);  // the same bytes read as another dtype
Tensor reshape(const Tensor& t, const Shape& shape);
Tensor transpose(const Tensor& t, int64_t d0, int64_t d1);
Tensor t_(const Tensor& t);     // .t()
Tensor alias(const Tensor& t);  // a view of all of t (x[...]), AliasBackward0
Tensor permute(const Tensor& t, const DimList& dims);
Tensor expand(const Tensor& t, const Shape& shape);
Tensor squeeze(const Tensor& t, std::optional<DimList> dims);
Tensor unsqueeze(const Tensor& t, int64_t dim);
Tensor flatten(const Tensor& t, int64_t start, int64_t end);
Tensor narrow(const Tensor& t, int64_t dim, int64_t start, int64_t length);
Tensor select(const Tensor& t, int64_t dim, int64_t index);
Tensor slice(const Tensor& t, int64_t dim, std::optional<int64_t> start, std::optional<int64_t> end, int64_t step);
Tensor as_strided(const Tensor& t, const Shape& sizes, const Shape& strides, int64_t offset);
Tensor& resize_(Tensor& self, const Shape& sizes);
Tensor& set_(Tensor& self, const Tensor& source);
Tensor& set_(Tensor& self, const Tensor& source, int64_t offset, const Shape& sizes, const Shape& strides);
Tensor repeat(const Tensor& t, const DimList& repeats);
Tensor trace(const Tensor& t);
Tensor diagonal(const Tensor& t, int64_t offset, int64_t dim1, int64_t dim2);  // a view

// ---- cumulative ops (scan.cpp); integer inputs of cumsum/cumprod give int64 unless dtype says
Tensor cumsum(const Tensor& t, int64_t dim, std::optional<DType> dtype = std::nullopt);
Tensor cumprod(const Tensor& t, int64_t dim, std::optional<DType> dtype = std::nullopt);
Tensor logcumsumexp(const Tensor& t, int64_t dim);
std::pair<Tensor, Tensor> cummax(const Tensor& t, int64_t dim);  // values, int64 indices
std::pair<Tensor, Tensor> cummin(const Tensor& t, int64_t dim);

// ---- moving elements (reorder.cpp); copies, not views
Tensor flip(const Tensor& t, const DimList& dims);
Tensor roll(const Tensor& t, const DimList& shifts, const DimList& dims);  // no dims: the flattened tensor
Tensor rot90(const Tensor& t, int64_t k, const DimList& dims);
// repeats: int64 (a single count or one per position along dim); no dim: the flattened tensor
Tensor repeat_interleave(const Tensor& t, const Tensor& repeats, std::optional<int64_t> dim,
                         std::optional<int64_t> output_size);
Tensor repeat_interleave_index(const Tensor& repeats, std::optional<int64_t> output_size);

// ---- diagonals and triangles (diag.cpp)
Tensor diag(const Tensor& t, int64_t diagonal);
Tensor diag_embed(const Tensor& t, int64_t offset, int64_t dim1, int64_t dim2);
Tensor tril(const Tensor& t, int64_t diagonal);
Tensor triu(const Tensor& t, int64_t diagonal);
// self becomes `view` (an out-of-place view op's result on self), recorded as `name`.
Tensor& inplace_view(Tensor& self, const Tensor& view, const char* name);

// ---- joining and splitting (join.cpp)
Tensor cat(const TensorList& ts, int64_t dim);
Tensor stack(const TensorList& ts, int64_t dim);
TensorList split(const Tensor& t, int64_t size, int64_t dim);
TensorList split_sizes(const Tensor& t, const DimList& sizes, int64_t dim);
TensorList chunk(const Tensor& t, int64_t chunks, int64_t dim);
TensorList unbind(const Tensor& t, int64_t dim);

// ---- indexing (index.cpp)
struct TensorIndex {
  enum Kind { None, Ellipsis, Integer, Slice, Boolean, TensorIdx } kind;
  int64_t integer = 0;
  std::optional<int64_t> start, stop;
  int64_t step = 1;
  Tensor tensor;
};
Tensor index(const Tensor& t, const std::vector<TensorIndex>& indices);
// t indexed by int64 tensors at `dims` (advanced indexing, negative indices wrap), and its
// out-of-place write: IndexBackward0 / IndexPutBackward0 nodes.
Tensor index_along(const Tensor& t, const DimList& dims, const TensorList& idx);
// `bounds`: how an index out of range is told (cuda::IndexErrorKind; negative indices wrap by default)
Tensor index_put_along(const Tensor& base, const DimList& dims, const TensorList& idx, const Tensor& values,
                       bool accumulate, int bounds = 0);
// A boolean mask indexing t's dims from `first` on: the positions of its ones, one int64 index per
// dim it covers, appended to dims/idx (PyTorch's IndexError if its shape differs). The next dim.
int64_t mask_as_positions(const Tensor& mask, const Tensor& t, int64_t first, DimList& dims, TensorList& idx);
void index_put_(Tensor& t, const std::vector<TensorIndex>& indices, const Tensor& value);
// PyTorch's dtype rule of a write at indices: advanced ones (index_put) take values of t's dtype only (a number
// converts), basic ones (a copy_ into the view) any dtype.
void check_index_put_dtypes(const Tensor& t, const Tensor& values, bool advanced);
Tensor gather(const Tensor& t, int64_t dim, const Tensor& index);
Tensor scatter_add(const Tensor& t, int64_t dim, const Tensor& index, const Tensor& src);
Tensor index_select(const Tensor& t, int64_t dim, const Tensor& index);
Tensor nonzero(const Tensor& t);
Tensor masked_fill(const Tensor& t, const Tensor& mask, const Tensor& value);
// Checks of gather-like ops and the offsets of t's elements addressed by `index` along d.
void check_gather_args(const Tensor& t, int64_t d, const Tensor& index, const char* op);
Tensor along_dim_offsets(const Tensor& t, int64_t d, const Tensor& index);  // int64 on t's device

// ---- writes and reads along an index (index_update.cpp)
Tensor index_add(const Tensor& t, int64_t dim, const Tensor& index, const Tensor& source, double alpha);
Tensor index_copy(const Tensor& t, int64_t dim, const Tensor& index, const Tensor& source);
Tensor index_fill(const Tensor& t, int64_t dim, const Tensor& index, const Tensor& value);  // value: 0-d
Tensor scatter(const Tensor& t, int64_t dim, const Tensor& index, const Tensor& src);
Tensor scatter_value(const Tensor& t, int64_t dim, const Tensor& index, const Tensor& value);  // value: 0-d
Tensor masked_select(const Tensor& t, const Tensor& mask);
Tensor masked_scatter(const Tensor& t, const Tensor& mask, const Tensor& source);
Tensor take(const Tensor& t, const Tensor& index);
Tensor put(const Tensor& t, const Tensor& index, const Tensor& source, bool accumulate);
Tensor take_along_dim(const Tensor& t, const Tensor& indices, std::optional<int64_t> dim);
Tensor nansum(const Tensor& t, const DimList& dims, bool keepdim, std::optional<DType> dtype = std::nullopt);
Tensor nanmean(const Tensor& t, const DimList& dims, bool keepdim, std::optional<DType> dtype = std::nullopt);

// ---- reducing scatters (scatter.cpp); reduce: sum, prod, mean, amax or amin
Tensor scatter_reduce(const Tensor& t, int64_t dim, const Tensor& index, const Tensor& src, const std::string& reduce,
                      bool include_self);
Tensor index_reduce(const Tensor& t, int64_t dim, const Tensor& index, const Tensor& source, const std::string& reduce,
                    bool include_self);

// ---- convolution and pooling (conv.cpp); inputs (N, C, H, W) or (C, H, W)
using Pair = std::array<int64_t, 2>;
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Pair& stride, const Pair& padding,
              const Pair& dilation, int64_t groups);
// F.unfold / F.fold (Note [Unfold as im2col]): (N, C, H, W) or (C, H, W) <-> (N, C*kh*kw, L) or (C*kh*kw, L).
Tensor im2col(const Tensor& x, const Pair& kernel, const Pair& dilation, const Pair& padding, const Pair& stride);
Tensor col2im(const Tensor& cols, const Pair& output_size, const Pair& kernel, const Pair& dilation,
              const Pair& padding, const Pair& stride);
Tensor max_pool2d(const Tensor& x, const Pair& kernel, const Pair& stride, const Pair& padding, const Pair& dilation,
                  bool ceil_mode);

// ---- losses with a node of their own (loss.cpp); reduction: 0 none, 1 mean, 2 sum
// Note [Fused nodes] (fused.cpp): nn.functional ops with one node each, as PyTorch's.
Tensor gelu(const Tensor& x, bool tanh_approximation);
Tensor silu(const Tensor& x);
Tensor softplus(const Tensor& x, double beta, double threshold);
// elu, selu (EluBackward0) and celu (CeluBackward0): scale * (x > 0 ? x : alpha * (exp(x * input_scale) - 1)).
Tensor elu(const Tensor& x, double alpha, double scale, double input_scale, const char* name);
Tensor leaky_relu(const Tensor& x, double negative_slope);
Tensor constant_pad_nd(const Tensor& t, const DimList& pad, double value);
Tensor embedding(const Tensor& weight, const Tensor& indices, int64_t padding_idx);
Tensor hardtanh(const Tensor& x, double min_val, double max_val);
Tensor logsigmoid(const Tensor& x);
// Losses: reduction 0 none, 1 mean, 2 sum.
Tensor mse_loss(const Tensor& input, const Tensor& target, int64_t reduction);
// beta is huber's delta when huber.
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, int64_t reduction, double beta, bool huber);
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight, int64_t reduction);
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target, const Tensor& weight,
                                        const Tensor& pos_weight, int64_t reduction);
Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight, int64_t reduction,
                int64_t ignore_index);
// A loss's class weight takes no gradient: PyTorch's RuntimeError naming `function` and `arg` when it requires one.
void check_weight_needs_no_grad(const Tensor& w, const char* function, const char* arg);

// ---- recurrent cells (rnn.cpp): gates (B, 4H) pre-activations, c_prev (B, H) -> (h, c)
std::pair<Tensor, Tensor> lstm_cell(const Tensor& gates, const Tensor& c_prev);
// One LSTM layer and direction (Note [LSTM layer]): xw (T, B, 4H) the input projections with both
// biases, or (N, 4H) packed with batch_sizes (Note [Packed layer steps]); h0 and c0 (B, H), w_hh (4H, H)
// -> output (T, B, H) or (N, H), h_n, c_n (B, H).
std::array<Tensor, 3> lstm_layer(const Tensor& xw, const Tensor& h0, const Tensor& c0, const Tensor& w_hh, bool reverse,
                                 const std::vector<int64_t>& batch_sizes = {});
// One GRU layer and direction (Note [GRU layer]): xw (T, B, 3H) the input projections with b_ih (or packed
// as lstm_layer's), h0 (B, H), w_hh (3H, H), b_hh (3H) or null -> output (T, B, H) or (N, H), h_n (B, H).
std::array<Tensor, 2> gru_layer(const Tensor& xw, const Tensor& h0, const Tensor& w_hh, const Tensor& b_hh,
                                bool reverse, const std::vector<int64_t>& batch_sizes = {});
// One Elman RNN layer and direction (Note [GRU layer]): xw (T, B, H) with both biases (or packed), h0 (B, H),
// w_hh (H, H), tanh or relu -> output (T, B, H) or (N, H), h_n (B, H).
std::array<Tensor, 2> rnn_layer(const Tensor& xw, const Tensor& h0, const Tensor& w_hh, bool relu, bool reverse,
                                const std::vector<int64_t>& batch_sizes = {});

// ---- fused optimizer updates (optim.cpp): in place, outside autograd
TensorList sgd_step_(const TensorList& params, const TensorList& grads, TensorList momentum_buffers, double lr,
                     double momentum, double dampening, double weight_decay, bool nesterov, bool maximize);
struct AdamOptions {
  double lr, beta1, beta2, eps, weight_decay;
  bool amsgrad, maximize, decoupled_weight_decay;
};
// steps[i]: the i-th count, already counted on the host; unless device_steps[i] is a CUDA parameter's float32
// 0-d count on its device, which the step counts itself (Note [Capturable steps]). device_steps may be empty.
// device_lr: the learning rate as a one-element tensor on the parameters' GPU, read there (o.lr unused).
void adam_step_(const TensorList& params, const TensorList& grads, const TensorList& exp_avgs,
                const TensorList& exp_avg_sqs, const TensorList& max_exp_avg_sqs, const std::vector<int64_t>& steps,
                const TensorList& device_steps, const AdamOptions& o, const Tensor& device_lr = Tensor());

}  // namespace ember
