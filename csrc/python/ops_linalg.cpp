// Registry entries (Note [Op registry]) of the matrix products.
#include "python/registry.h"

namespace ember {
namespace bind {
namespace {

struct Product {
  Tensor (*fn)(const Tensor&, const Tensor&);
  Tensor operator()(const Tensor& a, const Tensor& b) const { return fn(a, b); }
};

Tensor addmm_scaled(const Tensor& input, const Tensor& a, const Tensor& b, double beta, double alpha) {
  return addmm(input, a, b, beta, alpha);
}

}  // namespace

void register_linalg_ops(OpRegistry& r) {
  r.family("linear algebra");
  const unsigned forms = kFunction | kMethod | kOut;
  r.op("matmul", forms,
       "The matrix product of two tensors: dot, matrix-vector, matrix or batched (broadcast batch dims).",
       Product{matmul}, py::arg("other"));
  r.op("mm", forms, "The product of two matrices (n, m) @ (m, p).", Product{mm}, py::arg("mat2"));
  r.op("bmm", forms, "The batched product of (b, n, m) and (b, m, p) tensors.", Product{bmm}, py::arg("mat2"));
  r.op(
      "addmm", forms | kInPlace, "beta * input + alpha * (mat1 @ mat2), input broadcast to the product's shape.",
      [](const Tensor& input, const Tensor& a, const Tensor& b, double beta, double alpha) {
        return addmm_scaled(input, a, b, beta, alpha);
      },
      py::arg("mat1"), py::arg("mat2"), py::kw_only(), py::arg("beta") = 1.0, py::arg("alpha") = 1.0);
  r.op("dot", forms, "The dot product of two 1-D tensors.", Product{dot}, py::arg("tensor"));
  r.op("mv", forms, "The product of a matrix (n, m) and a vector (m).", Product{mv}, py::arg("vec"));
  r.op("outer", forms, "The outer product of two vectors: (n) x (m) -> (n, m).", Product{outer}, py::arg("vec2"));
  r.alias("ger", "outer");
}

}  // namespace bind
}  // namespace ember
