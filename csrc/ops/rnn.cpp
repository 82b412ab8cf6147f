// The fused LSTM cell: the elementwise part of one LSTM step as one kernel and
// one node (PyTorch's _thnn_fused_lstm_cell), so a step records an addmm and
// this node instead of a dozen elementwise nodes. The backward is a kernel too;
// under create_graph it is the same derivative written with differentiable ops.
//
// Note [LSTM layer]: a whole layer's time loop (one direction) as one node. The
// forward keeps every step's activated gates, tanh(c) and c; the backward runs
// the steps in reverse with the cell kernel and one product per step for the
// hidden state's gradient, then forms the recurrent weight's gradient of all
// steps in one product (dW_hh = sum_t dgates_t^T h_(t-1)), where a per-step
// graph would compute T products and accumulate T weight-sized gradients.
#include "kernels/cpu/rnn.h"
#include "kernels/cpu/packed_gemm.h"
#include "ops/op_node.h"

namespace ember {

// x (B, K) @ B (+ add), with B = w^T or w for one recurrent weight w, at every step of a layer: float32
// outside autograd goes through the weight packed once (Note [Packed recurrent products]), the rest
// through addmm and mm, which record their nodes when grad mode is on.
class StepProduct {
 public:
  StepProduct(const Tensor& w, bool transpose_w) : w_(transpose_w ? transpose(w, 0, 1) : w) {
    if (GradMode::is_enabled() || w->dtype() != DType::Float32 || !w->device().is_cpu()) return;
    w_ = contiguous(w), transposed_ = transpose_w;
    const int64_t K = w_->size(transposed_ ? 1 : 0), N = w_->size(transposed_ ? 0 : 1), H = w_->size(1);
    packed_ = kernels::pack_matrix(w_->data<float>(), K, N, transposed_ ? 1 : H, transposed_ ? H : 1);
  }

  // `add` is (B, N) or a bias (N) broadcast over the rows; undefined for none.
  Tensor operator()(const Tensor& x, const Tensor& add) const {
    if (!packed_) {
      const Tensor w = transposed_ ? transpose(w_, 0, 1) : w_;
      return add ? addmm(add, x, w) : mm(x, w);
    }
    Tensor a = contiguous(x), extra = add ? contiguous(add) : Tensor();
    Tensor out = empty({a->size(0), packed_.N}, DType::Float32);
    kernels::packed_gemm(a->size(0), a->data<float>(), a->size(1), packed_, extra ? extra->data<float>() : nullptr,
                         extra && extra->dim() == 2 ? packed_.N : 0, out->data<float>(), packed_.N);
    return out;
  }

 private:
  Tensor w_;
  bool transposed_ = false;
  kernels::PackedMatrix packed_;
};

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

namespace {  // a State is private to its op's file (Note [Node state])
struct LstmLayerState {
  bool reverse = false;
  void fields(StateFields& f) const { f.add("reverse", reverse); }
};
}  // namespace

// The order steps run in: forwards, or backwards for the reverse direction.
static int64_t step_at(int64_t k, int64_t T, bool reverse) { return reverse ? T - 1 - k : k; }

// Every step's hidden input h_(t-1), laid out as the steps: (T, B, H).
static Tensor previous_hidden(const Tensor& out, const Tensor& h0, bool reverse) {
  const int64_t T = out->size(0);
  Tensor first = unsqueeze(h0, 0);
  if (T == 1) return first;
  return reverse ? cat({narrow(out, 0, 1, T - 1), first}, 0) : cat({first, narrow(out, 0, 0, T - 1)}, 0);
}

// The layer's derivative with differentiable ops, for create_graph: the steps recomputed, then the
// same reverse loop as the kernels'.
static variable_list lstm_layer_backward_ops(const variable_list& g, const Tensor& xw, const Tensor& h0,
                                             const Tensor& c0, const Tensor& w_hh, bool reverse) {
  const int64_t T = xw->size(0);
  TensorList gates(T), c_prev(T), h_prev(T);
  Tensor h = h0, c = c0, wt = transpose(w_hh, 0, 1);
  for (int64_t k = 0; k < T; ++k) {
    const int64_t t = step_at(k, T, reverse);
    gates[t] = addmm(select(xw, 0, t), h, wt);
    c_prev[t] = c, h_prev[t] = h;
    auto hc = lstm_cell(gates[t], c);
    h = hc.first, c = hc.second;
  }
  Tensor dh = g[1] ? g[1] : zeros_like(h0), dc = g[2] ? g[2] : zeros_like(c0), dw;
  TensorList dxw(T);
  for (int64_t k = T - 1; k >= 0; --k) {
    const int64_t t = step_at(k, T, reverse);
    Tensor dh_t = g[0] ? add(dh, select(g[0], 0, t)) : dh;
    variable_list d = lstm_cell_backward_ops(dh_t, dc, gates[t], c_prev[t]);
    dxw[t] = d[0];
    Tensor step_dw = mm(transpose(d[0], 0, 1), h_prev[t]);
    dw = dw ? add(dw, step_dw) : step_dw;
    dh = mm(d[0], w_hh), dc = d[1];
  }
  return {stack(dxw, 0), dh, dc, dw};
}

std::array<Tensor, 3> lstm_layer(const Tensor& xw, const Tensor& h0, const Tensor& c0, const Tensor& w_hh,
                                 bool reverse) {
  EMBER_CHECK(xw->dim() == 3 && h0->dim() == 2 && c0->sizes() == h0->sizes() && w_hh->dim() == 2 &&
                  xw->size(1) == h0->size(0) && xw->size(2) == 4 * h0->size(1) && w_hh->size(0) == xw->size(2) &&
                  w_hh->size(1) == h0->size(1) && xw->size(0) > 0,
              "lstm_layer: expected xw (T, B, 4H), h0 and c0 (B, H), w_hh (4H, H); got ", detail::cat(xw->sizes()),
              ", ", detail::cat(h0->sizes()), ", ", detail::cat(c0->sizes()), ", ", detail::cat(w_hh->sizes()));
  const int64_t T = xw->size(0), B = h0->size(0), H = h0->size(1);
  const DType dt = xw->dtype();
  Tensor out = empty({T, B, H}, dt), cs = empty({T, B, H}, dt), tanhs = empty({T, B, H}, dt);
  Tensor acts = empty({T, B, 4 * H}, dt);
  {
    NoGradGuard ng;
    Tensor x = contiguous(xw), h = contiguous(h0), c = contiguous(c0);
    const StepProduct times_w_hh_t(w_hh, true);
    for (int64_t k = 0; k < T; ++k) {
      const int64_t t = step_at(k, T, reverse);
      Tensor gates = times_w_hh_t(h, select(x, 0, t));
      Tensor h_t = select(out, 0, t), c_t = select(cs, 0, t);
      kernels::lstm_cell(h_t, c_t, select(acts, 0, t), select(tanhs, 0, t), gates, c);
      h = h_t, c = c_t;
    }
  }
  const int64_t last = step_at(T - 1, T, reverse);
  Tensor h_n, c_n;
  {
    NoGradGuard ng;
    h_n = clone(select(out, 0, last)), c_n = clone(select(cs, 0, last));
  }
  auto n = make_node<LstmLayerState>("LstmLayerBackward0", {&xw, &h0, &c0, &w_hh}, [](auto& n, variable_list& g) {
    Tensor xw = n.saved_at(0), h0 = n.saved_at(1), c0 = n.saved_at(2), w_hh = n.saved_at(3);
    const bool reverse = n.state.reverse;
    if (GradMode::is_enabled()) return lstm_layer_backward_ops(g, xw, h0, c0, w_hh, reverse);
    Tensor out = n.saved_at(4), cs = n.saved_at(5), acts = n.saved_at(6), tanhs = n.saved_at(7);
    const int64_t T = xw->size(0), B = h0->size(0), H = h0->size(1);
    Tensor dxw = empty({T, B, 4 * H}, xw->dtype());
    Tensor dh = g[1] ? contiguous(g[1]) : zeros(h0->sizes(), xw->dtype());
    Tensor dc = g[2] ? contiguous(g[2]) : Tensor();
    Tensor gout = g[0] ? contiguous(g[0]) : Tensor();
    Tensor c0c = contiguous(c0);
    const StepProduct times_w_hh(w_hh, false);
    // dh_t: the gradient reaching step t's output, from the later steps and from `output`.
    Tensor dh_t = gout ? add(dh, select(gout, 0, step_at(T - 1, T, reverse))) : dh;
    for (int64_t k = T - 1; k >= 0; --k) {
      const int64_t t = step_at(k, T, reverse);
      Tensor c_prev = k == 0 ? c0c : select(cs, 0, step_at(k - 1, T, reverse));
      Tensor dgates = select(dxw, 0, t), dc_prev = empty({B, H}, xw->dtype());
      kernels::lstm_cell_backward(dgates, dc_prev, dh_t, dc, select(acts, 0, t), select(tanhs, 0, t), c_prev);
      dc = dc_prev;
      const bool from_output = gout && k > 0;  // the earlier step's own output gradient joins in the product
      dh_t = times_w_hh(dgates, from_output ? select(gout, 0, step_at(k - 1, T, reverse)) : Tensor());
    }
    dh = dh_t;
    Tensor dw;
    if (n.needs(3))
      dw = mm(transpose(reshape(dxw, {T * B, 4 * H}), 0, 1), reshape(previous_hidden(out, h0, reverse), {T * B, H}));
    return variable_list{dxw, dh, dc ? dc : zeros(h0->sizes(), xw->dtype()), dw};
  });
  if (n) {
    n->state.reverse = reverse;
    for (auto* t : {&xw, &h0, &c0, &w_hh}) n->save("input", *t);
    n->save("output", out);
    n->save("cy", cs);
    n->save("workspace", acts);
    n->save("tanh_cy", tanhs);
    attach(n, out);
    attach(n, h_n);
    attach(n, c_n);
  }
  return {out, h_n, c_n};
}

// The layers below mix their inputs in products: one floating dtype for all, named as the op.
static void check_layer_dtypes(const char* op, std::initializer_list<const Tensor*> inputs) {
  const DType dt = (**inputs.begin())->dtype();
  EMBER_CHECK(is_floating(dt), op, ": expected floating point inputs, got ", scalar_type_name(dt));
  for (const Tensor* t : inputs)
    EMBER_CHECK(!*t || (*t)->dtype() == dt, op, ": expected inputs of one dtype, got ", scalar_type_name(dt), " and ",
                scalar_type_name((*t)->dtype()));
}

// Note [GRU layer]: a GRU layer's time loop (one direction) as one node, as
// Note [LSTM layer] does for the LSTM, here with ember ops rather than a fused
// cell kernel. The forward keeps every step's gates r, z, n and the hidden
// part of n's pre-activation (W_hn h + b_hn, which r multiplies); the backward
// runs the steps in reverse, then forms the recurrent weight's and bias's
// gradients of all steps in one product and one sum. With create_graph it
// recomputes the steps with recorded ops and runs the same reverse loop on them.
namespace {
struct GruSteps {
  TensorList r, z, n, ghn, h_prev;  // per step, in time order
  Tensor out, h_last;
};
}  // namespace

// xw (T, B, 3H): the input projections with b_ih; h0 (B, H); w_hh (3H, H); b_hh (3H) or null.
static GruSteps gru_steps(const Tensor& xw, const Tensor& h0, const Tensor& w_hh, const Tensor& b_hh, bool reverse) {
  const int64_t T = xw->size(0), H = h0->size(1);
  GruSteps s;
  for (auto* list : {&s.r, &s.z, &s.n, &s.ghn, &s.h_prev}) list->resize(T);
  TensorList outs(T);
  Tensor h = h0;
  const StepProduct times_w_hh_t(w_hh, true);
  for (int64_t k = 0; k < T; ++k) {
    const int64_t t = step_at(k, T, reverse);
    Tensor x = select(xw, 0, t);
    Tensor gh = times_w_hh_t(h, b_hh);
    Tensor rz = sigmoid(add(narrow(x, 1, 0, 2 * H), narrow(gh, 1, 0, 2 * H)));
    s.r[t] = narrow(rz, 1, 0, H), s.z[t] = narrow(rz, 1, H, H), s.ghn[t] = narrow(gh, 1, 2 * H, H);
    s.n[t] = tanh(add(narrow(x, 1, 2 * H, H), mul(s.r[t], s.ghn[t])));
    s.h_prev[t] = h;
    h = add(s.n[t], mul(s.z[t], sub(h, s.n[t])));  // (1 - z) * n + z * h
    outs[t] = h;
  }
  s.out = stack(outs, 0);
  s.h_last = h;
  return s;
}

// The gradients of (xw, h0, w_hh, b_hh) from those of (output, h_n), through the steps.
static variable_list gru_backward_steps(const variable_list& g, const GruSteps& s, const Tensor& h0, const Tensor& w_hh,
                                        bool has_bias, bool reverse) {
  const int64_t T = (int64_t)s.r.size(), B = h0->size(0), H = h0->size(1);
  Tensor dh = g[1] ? g[1] : zeros_like(h0);
  TensorList dxw(T), dgh(T);
  const StepProduct times_w_hh(w_hh, false);
  for (int64_t k = T - 1; k >= 0; --k) {
    const int64_t t = step_at(k, T, reverse);
    const Tensor &r = s.r[t], &z = s.z[t], &n = s.n[t];
    Tensor dh_t = g[0] ? add(dh, select(g[0], 0, t)) : dh;
    Tensor dn_pre = mul(mul(dh_t, sub(num(1.0), z)), sub(num(1.0), mul(n, n)));
    Tensor dr_pre = mul(mul(dn_pre, s.ghn[t]), mul(r, sub(num(1.0), r)));
    Tensor dz_pre = mul(mul(dh_t, sub(s.h_prev[t], n)), mul(z, sub(num(1.0), z)));
    dxw[t] = cat({dr_pre, dz_pre, dn_pre}, 1);
    dgh[t] = cat({dr_pre, dz_pre, mul(dn_pre, r)}, 1);
    dh = times_w_hh(dgh[t], mul(dh_t, z));
  }
  Tensor dgh_all = reshape(stack(dgh, 0), {T * B, 3 * H});
  Tensor dw = mm(transpose(dgh_all, 0, 1), reshape(stack(s.h_prev, 0), {T * B, H}));
  return {stack(dxw, 0), dh, dw, has_bias ? sum(dgh_all, {0}, false) : Tensor()};
}

std::array<Tensor, 2> gru_layer(const Tensor& xw, const Tensor& h0, const Tensor& w_hh, const Tensor& b_hh,
                                bool reverse) {
  EMBER_CHECK(xw->dim() == 3 && h0->dim() == 2 && w_hh->dim() == 2 && xw->size(1) == h0->size(0) &&
                  xw->size(2) == 3 * h0->size(1) && w_hh->size(0) == xw->size(2) && w_hh->size(1) == h0->size(1) &&
                  xw->size(0) > 0 && (!b_hh || (b_hh->dim() == 1 && b_hh->size(0) == xw->size(2))),
              "gru_layer: expected xw (T, B, 3H), h0 (B, H), w_hh (3H, H), b_hh (3H); got ", detail::cat(xw->sizes()),
              ", ", detail::cat(h0->sizes()), ", ", detail::cat(w_hh->sizes()),
              b_hh ? ", " + detail::cat(b_hh->sizes()) : std::string(", no b_hh"));
  check_layer_dtypes("gru_layer", {&xw, &h0, &w_hh, &b_hh});
  GruSteps s;
  {
    NoGradGuard ng;
    s = gru_steps(xw, h0, w_hh, b_hh, reverse);
  }
  auto n = make_node<LstmLayerState>("GruLayerBackward0", {&xw, &h0, &w_hh, &b_hh}, [](auto& n, variable_list& g) {
    Tensor xw = n.saved_at(0), h0 = n.saved_at(1), w_hh = n.saved_at(2), b_hh = n.saved_at(3);
    const bool reverse = n.state.reverse;
    if (GradMode::is_enabled())
      return gru_backward_steps(g, gru_steps(xw, h0, w_hh, b_hh, reverse), h0, w_hh, (bool)b_hh, reverse);
    Tensor out = n.saved_at(4), gates = n.saved_at(5);
    const int64_t T = xw->size(0);
    GruSteps s;
    for (auto* list : {&s.r, &s.z, &s.n, &s.ghn, &s.h_prev}) list->resize(T);
    const Tensor r = select(gates, 0, 0), z = select(gates, 0, 1), nn = select(gates, 0, 2), ghn = select(gates, 0, 3);
    const Tensor h_prev = previous_hidden(out, h0, reverse);
    for (int64_t t = 0; t < T; ++t) {
      s.r[t] = select(r, 0, t), s.z[t] = select(z, 0, t), s.n[t] = select(nn, 0, t), s.ghn[t] = select(ghn, 0, t);
      s.h_prev[t] = select(h_prev, 0, t);
    }
    return gru_backward_steps(g, s, h0, w_hh, (bool)b_hh, reverse);
  });
  Tensor h_n = s.h_last;
  if (n) {
    n->state.reverse = reverse;
    for (auto* t : {&xw, &h0, &w_hh, &b_hh}) n->save("input", *t);
    n->save("output", s.out);
    {
      // (4, T, B, H): r, z, n and W_hn h + b_hn of every step; only a backward reads them.
      NoGradGuard ng;
      n->save("workspace", stack({stack(s.r, 0), stack(s.z, 0), stack(s.n, 0), stack(s.ghn, 0)}, 0));
    }
    attach(n, s.out);
    attach(n, h_n);
  }
  return {s.out, h_n};
}

// The Elman RNN's layer, as Note [GRU layer]: h_t = act(xw_t + h_(t-1) W_hh^T), act tanh or relu (xw
// holds both biases). out (T, B, H) in time order.
static Tensor rnn_steps(const Tensor& xw, const Tensor& h0, const Tensor& w_hh, bool relu_act, bool reverse) {
  const int64_t T = xw->size(0);
  TensorList outs(T);
  Tensor h = h0;
  const StepProduct times_w_hh_t(w_hh, true);
  for (int64_t k = 0; k < T; ++k) {
    const int64_t t = step_at(k, T, reverse);
    Tensor pre = times_w_hh_t(h, select(xw, 0, t));
    h = outs[t] = relu_act ? relu(pre) : tanh(pre);
  }
  return stack(outs, 0);
}

static variable_list rnn_backward_steps(const variable_list& g, const Tensor& out, const Tensor& h0, const Tensor& w_hh,
                                        bool relu_act, bool reverse) {
  const int64_t T = out->size(0), B = h0->size(0), H = h0->size(1);
  Tensor dh = g[1] ? g[1] : zeros_like(h0);
  TensorList dpre(T);
  const StepProduct times_w_hh(w_hh, false);
  for (int64_t k = T - 1; k >= 0; --k) {
    const int64_t t = step_at(k, T, reverse);
    Tensor h_t = select(out, 0, t);
    Tensor dh_t = g[0] ? add(dh, select(g[0], 0, t)) : dh;
    dpre[t] = relu_act ? threshold_backward(dh_t, h_t) : mul(dh_t, sub(num(1.0), mul(h_t, h_t)));
    dh = times_w_hh(dpre[t], Tensor());
  }
  Tensor dxw = stack(dpre, 0);
  Tensor dw = mm(transpose(reshape(dxw, {T * B, H}), 0, 1), reshape(previous_hidden(out, h0, reverse), {T * B, H}));
  return {dxw, dh, dw};
}

namespace {
struct RnnLayerState {
  bool relu = false, reverse = false;
  void fields(StateFields& f) const {
    f.add("relu", relu);
    f.add("reverse", reverse);
  }
};
}  // namespace

std::array<Tensor, 2> rnn_layer(const Tensor& xw, const Tensor& h0, const Tensor& w_hh, bool relu_act, bool reverse) {
  EMBER_CHECK(xw->dim() == 3 && h0->dim() == 2 && w_hh->dim() == 2 && xw->size(1) == h0->size(0) &&
                  xw->size(2) == h0->size(1) && w_hh->size(0) == h0->size(1) && w_hh->size(1) == h0->size(1) &&
                  xw->size(0) > 0,
              "rnn_layer: expected xw (T, B, H), h0 (B, H), w_hh (H, H); got ", detail::cat(xw->sizes()), ", ",
              detail::cat(h0->sizes()), ", ", detail::cat(w_hh->sizes()));
  check_layer_dtypes("rnn_layer", {&xw, &h0, &w_hh});
  Tensor out, h_n;
  {
    NoGradGuard ng;
    out = rnn_steps(xw, h0, w_hh, relu_act, reverse);
    h_n = clone(select(out, 0, step_at(xw->size(0) - 1, xw->size(0), reverse)));
  }
  auto n = make_node<RnnLayerState>("RnnLayerBackward0", {&xw, &h0, &w_hh}, [](auto& n, variable_list& g) {
    Tensor xw = n.saved_at(0), h0 = n.saved_at(1), w_hh = n.saved_at(2);
    const bool relu_act = n.state.relu, reverse = n.state.reverse;
    Tensor out = GradMode::is_enabled() ? rnn_steps(xw, h0, w_hh, relu_act, reverse) : n.saved_at(3);
    return rnn_backward_steps(g, out, h0, w_hh, relu_act, reverse);
  });
  if (n) {
    n->state = {relu_act, reverse};
    for (auto* t : {&xw, &h0, &w_hh}) n->save("input", *t);
    n->save("output", out);
    attach(n, out);
    attach(n, h_n);
  }
  return {out, h_n};
}

}  // namespace ember
