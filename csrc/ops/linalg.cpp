// Matrix products. Every product reaches kernels::bmm (BLAS for float dtypes).
#include <tuple>

#include "core/cuda.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/matmul.h"
#include "ops/op_node.h"

namespace ember {

static const char* c_type(DType t) {
  switch (t) {
    case DType::Float32: return "float";
    case DType::Float64: return "double";
    case DType::Int64: return "long int";
    case DType::Int32: return "int";
    case DType::Int16: return "short int";
    case DType::Int8: return "signed char";
    case DType::UInt8: return "unsigned char";
    case DType::UInt16: return "unsigned short";
    case DType::UInt32: return "unsigned int";
    case DType::UInt64: return "unsigned long";
    case DType::Float16: return "c10::Half";
    case DType::BFloat16: return "c10::BFloat16";
    default: return "bool";
  }
}

static void check_same_dtype(const Tensor& a, const Tensor& b, const char* what) {
  EMBER_CHECK(a->dtype() == b->dtype(), "expected ", what, " to have the same dtype, but got: ", c_type(a->dtype()),
              " != ", c_type(b->dtype()));
}

// A (B, R, C) operand BLAS can read as is, or a contiguous copy of it.
static Tensor blas_ready(const Tensor& t) {
  return kernels::blas_can_read(t->size(1), t->size(2), t->stride(1), t->stride(2)) ? t : contiguous(t);
}

// out (B, M, N) = a (B, M, K) @ b (B, K, N), no autograd.
static Tensor bmm_forward(const Tensor& a, const Tensor& b) {
  check_device_strict(*a, *b);
  const int64_t B = a->size(0), M = a->size(1), N = b->size(2);
  const int64_t row_stride = M == 1 ? a->stride(0) : a->stride(1);
  if (B > 1 && b->stride(0) == 0 && a->stride(0) == M * row_stride) {
    // One b for every batch (an expanded weight: vmap's per-sample gradients) and a whose batch
    // and rows merge: one (B * M, K) @ (K, N) product instead of B thin ones.
    Tensor rows = make_view(a, {1, B * M, a->size(2)}, {0, row_stride, a->stride(2)}, a->offset());
    Tensor one_b = make_view(b, {1, b->size(1), N}, {0, b->stride(1), b->stride(2)}, b->offset());
    Tensor out = empty({1, B * M, N}, a->dtype());
    NoGradGuard ng;
    kernels::bmm(out, blas_ready(rows), blas_ready(one_b));
    return make_view(out, {B, M, N}, contiguous_strides({B, M, N}), 0);
  }
  Tensor out = empty({a->size(0), a->size(1), b->size(2)}, a->dtype());
  NoGradGuard ng;
  kernels::bmm(out, blas_ready(a), blas_ready(b));
  return out;
}

static Tensor as3d(const Tensor& t) {
  Shape s = t->sizes(), st = t->strides();
  s.insert(s.begin(), 1);
  st.insert(st.begin(), 0);
  return make_view(t, s, st, t->offset());
}

// Note [Gradient layout]
// The gradient of a product's operand is computed in that operand's layout:
// for a transposed operand (nn.Linear multiplies by weight.t()), (g^T a)^T
// instead of a^T g, so after TBackward the weight's gradient is contiguous and
// AccumulateGrad takes the buffer as .grad instead of copying it.
static bool transposed_layout(const Tensor& t) {
  return t->dim() == 2 && t->size(0) > 1 && t->size(1) > 1 && t->stride(0) == 1 && t->stride(1) == t->size(0);
}
// d(a @ b)/da and /db for gradient g; `*_transposed` say how a and b were laid out.
static Tensor mm_grad_a(const Tensor& g, const Tensor& b, bool a_transposed) {
  return a_transposed ? t_(mm(b, t_(g))) : mm(g, t_(b));
}
static Tensor mm_grad_b(const Tensor& g, const Tensor& a, bool b_transposed) {
  return b_transposed ? t_(mm(t_(g), a)) : mm(t_(a), g);
}

namespace {  // a State is private to its op's file (Note [Node state])

// Products remember which operands were transposed (Note [Gradient layout]).
struct MmState {
  bool self_transposed = false, mat2_transposed = false;
  void fields(StateFields&) const {}
};

struct AddmmState {
  bool mat1_transposed = false, mat2_transposed = false;
  Shape self_sizes;
  double beta = 1, alpha = 1;
  void fields(StateFields& f) const {
    f.add("beta", beta);
    f.add("alpha", alpha);
    f.add("self_sym_sizes", self_sizes);
  }
};
}  // namespace

Tensor mm(const Tensor& a, const Tensor& b) {
  EMBER_CHECK(a->dim() == 2, "self must be a matrix");
  EMBER_CHECK(b->dim() == 2, "mat2 must be a matrix");
  EMBER_CHECK(a->size(1) == b->size(0), "mat1 and mat2 shapes cannot be multiplied (", a->size(0), "x", a->size(1),
              " and ", b->size(0), "x", b->size(1), ")");
  check_same_dtype(a, b, "m1 and m2");  // PyTorch's words for mm (addmm says mat1 and mat2)
  Tensor r = bmm_forward(as3d(a), as3d(b));
  Tensor out = make_view(r, {a->size(0), b->size(1)}, contiguous_strides({a->size(0), b->size(1)}), 0);
  auto n = make_node<MmState>("MmBackward0", {&a, &b}, [](auto& n, variable_list& g) -> variable_list {
    return {n.needs(0) ? mm_grad_a(g[0], n.saved_at(1), n.state.self_transposed) : Tensor(),
            n.needs(1) ? mm_grad_b(g[0], n.saved_at(0), n.state.mat2_transposed) : Tensor()};
  });
  if (n) {
    n->state = {transposed_layout(a), transposed_layout(b)};
    n->save("self", n->needs(1) ? a : Tensor());
    n->save("mat2", n->needs(0) ? b : Tensor());
  }
  return attach(n, out);
}

// Note [addmm]: nn.Linear's forward, as in PyTorch: bias is written into the
// output first and BLAS adds the product to it (beta = 1), one pass instead of
// a matmul followed by an add.
Tensor addmm(const Tensor& input, const Tensor& a, const Tensor& b, double beta, double alpha) {
  EMBER_CHECK(a->dim() == 2, "addmm: mat1 must be a matrix, got ", a->dim(), "-D tensor");
  EMBER_CHECK(b->dim() == 2, "addmm: mat2 must be a matrix, got ", b->dim(), "-D tensor");
  EMBER_CHECK(a->size(1) == b->size(0), "mat1 and mat2 shapes cannot be multiplied (", a->size(0), "x", a->size(1),
              " and ", b->size(0), "x", b->size(1), ")");
  for (auto [x, y, what] : {std::tuple{&a, &b, "mat1 and mat2"}, std::tuple{&input, &a, "self and mat2"}})
    EMBER_CHECK((*x)->dtype() == (*y)->dtype(), what, " must have the same dtype, but got ",
                scalar_type_name((*x)->dtype()), " and ", scalar_type_name((*y)->dtype()));  // PyTorch's addmm words
  check_same_device(*a, *b);
  check_device_strict(*a, *input);  // PyTorch's addmm refuses a 0-d CPU bias too
  Shape shape{a->size(0), b->size(1)};
  EMBER_CHECK(expand_compatible(input->sizes(), shape), "addmm: self of shape ", detail::cat(input->sizes()),
              " cannot be broadcast to the product's shape ", detail::cat(shape));
  Tensor out = empty({1, shape[0], shape[1]}, a->dtype());
  {
    NoGradGuard ng;
    Tensor out2 = make_view(out, shape, contiguous_strides(shape), 0);
    if (beta != 0) kernels::copy(out2, expand(input, shape));
    kernels::bmm(out, blas_ready(as3d(a)), blas_ready(as3d(b)), alpha, beta);
  }
  out = make_view(out, shape, contiguous_strides(shape), 0);
  auto n = make_node<AddmmState>("AddmmBackward0", {&input, &a, &b}, [](auto& n, variable_list& g) -> variable_list {
    const AddmmState& s = n.state;
    auto scaled = [](const Tensor& t, double k) { return k == 1.0 ? t : mul(t, wrapped_scalar(k, DType::Float64)); };
    return {n.needs(0) ? sum_to(scaled(g[0], s.beta), s.self_sizes) : Tensor(),
            n.needs(1) ? scaled(mm_grad_a(g[0], n.saved_at(1), s.mat1_transposed), s.alpha) : Tensor(),
            n.needs(2) ? scaled(mm_grad_b(g[0], n.saved_at(0), s.mat2_transposed), s.alpha) : Tensor()};
  });
  if (n) {
    n->state = {transposed_layout(a), transposed_layout(b), input->sizes(), beta, alpha};
    n->save("mat1", n->needs(2) ? a : Tensor());
    n->save("mat2", n->needs(1) ? b : Tensor());
  }
  return attach(n, out);
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  EMBER_CHECK(a->dim() == 3, "batch1 must be a 3D tensor");
  EMBER_CHECK(b->dim() == 3, "batch2 must be a 3D tensor");
  EMBER_CHECK(a->size(0) == b->size(0), "batch1 and batch2 must have same number of batches, got ", a->size(0), " and ",
              b->size(0));
  EMBER_CHECK(a->size(2) == b->size(1), "Expected size for first two dimensions of batch2 tensor to be: [", a->size(0),
              ", ", a->size(2), "] but got: [", b->size(0), ", ", b->size(1), "].");
  check_same_dtype(a, b, "batch1 and batch2");
  Tensor out = bmm_forward(a, b);
  auto n = make_node("BmmBackward0", {&a, &b}, [](auto& n, variable_list& g) -> variable_list {
    return {n.needs(0) ? bmm(g[0], transpose(n.saved_at(1), 1, 2)) : Tensor(),
            n.needs(1) ? bmm(transpose(n.saved_at(0), 1, 2), g[0]) : Tensor()};
  });
  if (n) {
    n->save("self", n->needs(1) ? a : Tensor());
    n->save("mat2", n->needs(0) ? b : Tensor());
  }
  return attach(n, out);
}

Tensor dot(const Tensor& a, const Tensor& b) {
  EMBER_CHECK(a->dim() == 1 && b->dim() == 1, "1D tensors expected, but got ", a->dim(), "D and ", b->dim(),
              "D tensors");
  EMBER_CHECK(a->size(0) == b->size(0), "inconsistent tensor size, expected tensor [", a->size(0), "] and src [",
              b->size(0), "] to have the same number of elements, but got ", a->size(0), " and ", b->size(0),
              " elements respectively");
  check_same_dtype(a, b, "both vectors");
  Shape sa{1, 1, a->size(0)}, sta{0, 0, a->stride(0)}, sb{1, b->size(0), 1}, stb{0, b->stride(0), 0};
  Tensor r = bmm_forward(make_view(a, sa, sta, a->offset()), make_view(b, sb, stb, b->offset()));
  Tensor out = make_view(r, {}, {}, 0);
  auto n = make_node("DotBackward0", {&a, &b}, [](auto& n, variable_list& g) -> variable_list {
    return {n.needs(0) ? mul(g[0], n.saved_at(1)) : Tensor(), n.needs(1) ? mul(g[0], n.saved_at(0)) : Tensor()};
  });
  if (n) {
    n->save("self", a);
    n->save("tensor", b);
  }
  return attach(n, out);
}

Tensor mv(const Tensor& a, const Tensor& v) {
  EMBER_CHECK(a->dim() == 2 && v->dim() == 1, "vector + matrix @ vector expected, got ", a->dim(), ", ", v->dim());
  EMBER_CHECK(a->size(1) == v->size(0), "size mismatch, got input (", a->size(0), "), mat (", a->size(0), "x",
              a->size(1), "), vec (", v->size(0), ")");
  check_same_dtype(a, v, "mat and vec");
  Tensor r = bmm_forward(as3d(a), make_view(v, {1, v->size(0), 1}, {0, v->stride(0), 0}, v->offset()));
  Tensor out = make_view(r, {a->size(0)}, {1}, 0);
  auto n = make_node("MvBackward0", {&a, &v}, [](auto& n, variable_list& g) -> variable_list {
    return {n.needs(0) ? outer(g[0], n.saved_at(1)) : Tensor(), n.needs(1) ? mv(t_(n.saved_at(0)), g[0]) : Tensor()};
  });
  if (n) {
    n->save("self", a);
    n->save("vec", v);
  }
  return attach(n, out);
}

Tensor outer(const Tensor& a, const Tensor& b) {
  EMBER_CHECK(a->dim() == 1, "outer: Expected 1-D argument self, but got ", a->dim(), "-D");
  EMBER_CHECK(b->dim() == 1, "outer: Expected 1-D argument vec2, but got ", b->dim(), "-D");
  return mul(reshape(a, {-1, 1}), b);  // (as PyTorch's: a ViewBackward0 on the first vector only)
}

Tensor matmul(const Tensor& a, const Tensor& b) {
  int64_t da = a->dim(), db = b->dim();
  EMBER_CHECK(da > 0 && db > 0, "both arguments to matmul need to be at least 1D, but they are ", da, "D and ", db,
              "D");
  if (da == 1 && db == 1) return dot(a, b);
  if (da == 2 && db == 1) return mv(a, b);
  if (da == 1 && db == 2) return squeeze(mm(unsqueeze(a, 0), b), DimList{0});
  if (da == 2 && db == 2) return mm(a, b);
  if (da >= 3 && db <= 2) {
    // Fold the batch into the rows: one big mm instead of many small ones.
    Shape out_shape(a->sizes().begin(), a->sizes().end() - 1);
    Tensor a2 = reshape(a, {-1, a->size(-1 + da)});
    Tensor r = db == 2 ? mm(a2, b) : mv(a2, b);
    if (db == 2) out_shape.push_back(b->size(1));
    return renamed(reshape(r, out_shape), "UnsafeViewBackward0");  // PyTorch's _unsafe_view
  }
  if (da == 3 && db == 3 && a->size(0) == b->size(0)) return bmm(a, b);
  // General case: broadcast the batch dims, then one bmm.
  Tensor a3 = da == 1 ? unsqueeze(a, 0) : a;
  Tensor b3 = db == 1 ? unsqueeze(b, 1) : b;
  Shape ba(a3->sizes().begin(), a3->sizes().end() - 2), bb(b3->sizes().begin(), b3->sizes().end() - 2);
  Shape batch = broadcast_shapes(ba, bb);
  int64_t B = shape_numel(batch);
  int64_t M = a3->size(a3->dim() - 2), K = a3->size(a3->dim() - 1), K2 = b3->size(b3->dim() - 2),
          N = b3->size(b3->dim() - 1);
  EMBER_CHECK(K == K2, "Expected size for first two dimensions of batch2 tensor to be: [", B, ", ", K, "] but got: [",
              B, ", ", K2, "].");
  Shape ea = batch, eb = batch;
  ea.insert(ea.end(), {M, K});
  eb.insert(eb.end(), {K2, N});
  Tensor r = bmm(reshape(expand(a3, ea), {B, M, K}), reshape(expand(b3, eb), {B, K2, N}));
  Shape out_shape = batch;
  if (da > 1) out_shape.push_back(M);
  if (db > 1) out_shape.push_back(N);
  return reshape(r, out_shape);
}

}  // namespace ember
