// The fused LSTM cell: the elementwise part of one LSTM step as one kernel and
// one node (PyTorch's _thnn_fused_lstm_cell), so a step records an addmm and
// this node instead of a dozen elementwise nodes. The backward is a kernel too;
// under create_graph it is the same derivative written with differentiable ops.
#include "kernels/cpu/rnn.h"
#include "ops/op_node.h"

namespace ember {

static Tensor num(double v) { return wrapped_scalar(v, DType::Float64); }

// d(h, c)/d(gates, c_prev) from (gh, gc) with differentiable ops: a second backward differentiates it.
static variable_list lstm_cell_backward_ops(const Tensor& gh_in, const Tensor& gc, const Tensor& gates,
                                            const Tensor& c_prev) {
  const int64_t H = c_prev->size(1);
  Tensor i = sigmoid(narrow(gates, 1, 0, H)), f = sigmoid(narrow(gates, 1, H, H));
  Tensor g = tanh(narrow(gates, 1, 2 * H, H)), o = sigmoid(narrow(gates, 1, 3 * H, H));
  Tensor c = add(mul(f, c_prev), mul(i, g));
  Tensor tc = tanh(c);
  Tensor gh = gh_in ? gh_in : zeros_like(c);
  Tensor dc = mul(mul(gh, o), sub(num(1.0), mul(tc, tc)));
  if (gc) dc = add(dc, gc);
  auto dsig = [](const Tensor& s) { return mul(s, sub(num(1.0), s)); };
  Tensor d_gates = cat({mul(mul(dc, g), dsig(i)), mul(mul(dc, c_prev), dsig(f)),
                        mul(mul(dc, i), sub(num(1.0), mul(g, g))), mul(mul(gh, tc), dsig(o))},
                       1);
  return {d_gates, mul(dc, f)};
}

std::pair<Tensor, Tensor> lstm_cell(const Tensor& gates_in, const Tensor& c_prev_in) {
  EMBER_CHECK(gates_in->dim() == 2 && c_prev_in->dim() == 2 && gates_in->size(0) == c_prev_in->size(0) &&
                  gates_in->size(1) == 4 * c_prev_in->size(1),
              "lstm_cell: expected gates (B, 4H) and c (B, H), got ", detail::cat(gates_in->sizes()), " and ",
              detail::cat(c_prev_in->sizes()));
  EMBER_CHECK(is_floating(gates_in->dtype()) && gates_in->dtype() == c_prev_in->dtype(),
              "lstm_cell: expected gates and c of one floating dtype, got ", scalar_type_name(gates_in->dtype()),
              " and ", scalar_type_name(c_prev_in->dtype()));
  Tensor gates = contiguous(gates_in), c_prev = contiguous(c_prev_in);
  Tensor h = empty(c_prev->sizes(), c_prev->dtype()), c = empty(c_prev->sizes(), c_prev->dtype());
  // The activated gates and tanh(c): the backward's inputs, kept instead of recomputed.
  Tensor act = empty(gates->sizes(), gates->dtype()), tanh_c = empty(c_prev->sizes(), c_prev->dtype());
  kernels::lstm_cell(h, c, act, tanh_c, gates, c_prev);
  auto n = make_node("ThnnFusedLstmCellBackward0", {&gates_in, &c_prev_in}, [](auto& n, variable_list& g) {
    Tensor gates = n.saved_at(0), c_prev = n.saved_at(1);
    if (GradMode::is_enabled()) return lstm_cell_backward_ops(g[0], g[1], gates, c_prev);
    Tensor act = n.saved_at(2), tanh_c = n.saved_at(3);
    Tensor d_gates = empty(gates->sizes(), gates->dtype()), d_c_prev = empty(c_prev->sizes(), c_prev->dtype());
    kernels::lstm_cell_backward(d_gates, d_c_prev, g[0] ? contiguous(g[0]) : Tensor(),
                                g[1] ? contiguous(g[1]) : Tensor(), act, tanh_c, contiguous(c_prev));
    return variable_list{d_gates, d_c_prev};
  });
  if (n) {
    n->save("input_gates", gates_in);
    n->save("cx", c_prev_in);
    n->save("workspace", act);
    n->save("tanh_cy", tanh_c);
    attach(n, h);
    attach(n, c);
  }
  return {h, c};
}

}  // namespace ember
