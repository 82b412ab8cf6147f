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
//
// Note [Packed layer steps]: the layers take a packed batch too (PyTorch's
// PackedSequence: the steps' rows one after another, batch_sizes[t] sequences
// still going at step t, longest first). Step t reads and writes the first
// batch_sizes[t] rows of the (B, H) state; as the sizes never grow, a sequence
// that ends keeps its last state in the rows past them, which makes the final
// states, and a reverse direction finds each sequence's initial state there
// when it joins at its last step. A padded batch is the case of equal sizes.
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

  // `add` is (B, N) or a bias (N) broadcast over the rows; undefined for none. Written into `into`
  // ((B, N), contiguous) when that is given, else into a new tensor.
  Tensor operator()(const Tensor& x, const Tensor& add, Tensor into = Tensor()) const {
    if (!packed_) {
      const Tensor w = transposed_ ? transpose(w_, 0, 1) : w_;
      Tensor result = add ? addmm(add, x, w) : mm(x, w);
      return into ? copy_(into, result) : result;
    }
    EMBER_ASSERT(x->dtype() == DType::Float32 && (!add || add->dtype() == DType::Float32));  // the layers check
    Tensor a = contiguous(x), extra = add ? contiguous(add) : Tensor();
    if (!into) into = empty({a->size(0), packed_.N}, DType::Float32);
    kernels::packed_gemm(a->size(0), a->data<float>(), a->size(1), packed_, extra ? extra->data<float>() : nullptr,
                         extra && extra->dim() == 2 ? packed_.N : 0, into->data<float>(), packed_.N);
    return into;
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
struct LayerState {
  bool reverse = false;
  std::vector<int64_t> batch_sizes;  // empty for a padded batch
  void fields(StateFields& f) const {
    f.add("reverse", reverse);
    f.add("batch_sizes", batch_sizes);
  }
};

// The rows of each step (Note [Packed layer steps]): step t covers rows [offset[t], offset[t] + size[t])
// of the (N, G) inputs and (N, H) outputs, N = rows, and the first size[t] rows of the (B, H) state.
struct LayerSteps {
  std::vector<int64_t> size, offset;
  int64_t rows = 0;
  bool packed = false;
  int64_t count() const { return (int64_t)size.size(); }
};
}  // namespace

// The order steps run in: forwards, or backwards for the reverse direction.
static int64_t step_at(int64_t k, int64_t T, bool reverse) { return reverse ? T - 1 - k : k; }

// xw (T, B, G) padded, or (N, G) packed with batch_sizes; checks the layout against h0's B rows, H columns
// and the G = gates * H columns xw must have.
static LayerSteps layer_steps(const char* op, const Tensor& xw, const Tensor& h0, int64_t gates,
                              const std::vector<int64_t>& batch_sizes) {
  const bool packed = !batch_sizes.empty();
  EMBER_CHECK(h0->dim() == 2 && xw->dim() == (packed ? 2 : 3) && xw->size(xw->dim() - 1) == gates * h0->size(1) &&
                  (packed || (xw->size(1) == h0->size(0) && xw->size(0) > 0)),
              op, ": expected xw ", packed ? "(N, " : "(T, B, ", gates > 1 ? std::to_string(gates) : "",
              "H) and h0 (B, H)", packed ? " with batch_sizes" : "", ", got ", detail::cat(xw->sizes()), " and ",
              detail::cat(h0->sizes()));
  LayerSteps s;
  s.packed = packed;
  s.size = packed ? batch_sizes : std::vector<int64_t>(xw->size(0), h0->size(0));
  for (size_t t = 0; t < s.size.size(); ++t) {
    EMBER_CHECK((s.size[t] > 0 || !packed) && s.size[t] <= (t ? s.size[t - 1] : h0->size(0)), op,
                ": batch_sizes must be positive, non-increasing and at most the batch (", h0->size(0), "), got ",
                detail::cat(batch_sizes));
    s.offset.push_back(s.rows);
    s.rows += s.size[t];
  }
  EMBER_CHECK(!packed || (s.size[0] == h0->size(0) && s.rows == xw->size(0)), op, ": batch_sizes ",
              detail::cat(batch_sizes), " do not describe ", xw->size(0), " rows of a batch of ", h0->size(0));
  return s;
}

static Tensor rows(const Tensor& t, int64_t start, int64_t length) { return narrow(t, 0, start, length); }

// The pieces one after another along dim 0: the one piece itself (no copy) when there is one.
static Tensor cat_rows(const TensorList& pieces) { return pieces.size() == 1 ? pieces[0] : cat(pieces, 0); }

// A contiguous (T, B, G) or (N, G) tensor as (N, G): a view.
static Tensor flat_rows(const Tensor& t) { return reshape(t, {-1, t->size(t->dim() - 1)}); }

// `state` with its first rows replaced by `head` (differentiable).
static Tensor with_rows(const Tensor& state, const Tensor& head) {
  const int64_t B = state->size(0), b = head->size(0);
  return b == B ? head : cat({head, narrow(state, 0, b, B - b)}, 0);
}

// The state the k-th step run starts from, from `after` (N, H), each step's state after it, and `initial`
// (B, H): the rows of the step run before, and where sequences join (a packed batch in reverse) theirs.
static Tensor state_before(const Tensor& after, const Tensor& initial, const LayerSteps& s, int64_t k, bool reverse) {
  const int64_t T = s.count(), b = s.size[step_at(k, T, reverse)];
  if (k == 0) return rows(initial, 0, b);
  const int64_t p = step_at(k - 1, T, reverse), bp = s.size[p];
  Tensor from_step = rows(after, s.offset[p], std::min(b, bp));
  return b <= bp ? from_step : cat({from_step, rows(initial, bp, b - bp)}, 0);
}

// Every step's starting state, in the steps' row order: (N, H).
static Tensor states_before(const Tensor& after, const Tensor& initial, const LayerSteps& s, bool reverse) {
  const int64_t T = s.count();
  TensorList pieces(T);
  for (int64_t k = 0; k < T; ++k) pieces[step_at(k, T, reverse)] = state_before(after, initial, s, k, reverse);
  return cat_rows(pieces);
}

// Each sequence's state after its last step, (B, H), from `after` (N, H).
static Tensor final_state(const Tensor& after, const LayerSteps& s, bool reverse) {
  const int64_t T = s.count();
  if (reverse || !s.packed) {  // the step run last covers every row
    const int64_t last = step_at(T - 1, T, reverse);
    return clone(rows(after, s.offset[last], s.size[last]));
  }
  TensorList pieces;  // rows [size[t + 1], size[t]) end at step t: the later steps hold the lower rows
  for (int64_t t = T - 1; t >= 0; --t) {
    const int64_t next = t + 1 < T ? s.size[t + 1] : 0;
    if (s.size[t] > next) pieces.push_back(rows(after, s.offset[t] + next, s.size[t] - next));
  }
  return pieces.size() == 1 ? clone(pieces[0]) : cat(pieces, 0);
}

static Shape output_shape(const Tensor& xw, int64_t H) {
  Shape shape = xw->sizes();
  shape.back() = H;
  return shape;
}

// The steps' outputs (time order) as the layer's output: (T, B, H) stacked, or (N, H) packed.
static Tensor join_steps(const TensorList& outs, const LayerSteps& s) {
  if (!s.packed) return stack(outs, 0);
  return cat_rows(outs);
}

// The layers mix their inputs in products: one floating dtype for all, named as the op.
static void check_layer_dtypes(const char* op, std::initializer_list<const Tensor*> inputs) {
  const DType dt = (**inputs.begin())->dtype();
  EMBER_CHECK(is_floating(dt), op, ": expected floating point inputs, got ", scalar_type_name(dt));
  for (const Tensor* t : inputs)
    EMBER_CHECK(!*t || (*t)->dtype() == dt, op, ": expected inputs of one dtype, got ", scalar_type_name(dt), " and ",
                scalar_type_name((*t)->dtype()));
}

// The layer's derivative with differentiable ops, for create_graph: the steps recomputed, then the
// same reverse loop as the kernels'.
static variable_list lstm_layer_backward_ops(const variable_list& g, const Tensor& xw, const Tensor& h0,
                                             const Tensor& c0, const Tensor& w_hh, const LayerSteps& s, bool reverse) {
  const int64_t T = s.count();
  Tensor x = flat_rows(xw), wt = transpose(w_hh, 0, 1), h = h0, c = c0;
  TensorList gates(T), c_prev(T), h_prev(T), dxw(T);
  for (int64_t k = 0; k < T; ++k) {
    const int64_t t = step_at(k, T, reverse), b = s.size[t];
    h_prev[t] = rows(h, 0, b), c_prev[t] = rows(c, 0, b);
    gates[t] = addmm(rows(x, s.offset[t], b), h_prev[t], wt);
    auto hc = lstm_cell(gates[t], c_prev[t]);
    h = with_rows(h, hc.first), c = with_rows(c, hc.second);
  }
  Tensor gout = g[0] ? flat_rows(g[0]) : Tensor();
  Tensor dh = g[1] ? g[1] : zeros_like(h0), dc = g[2] ? g[2] : zeros_like(c0), dw;
  for (int64_t k = T - 1; k >= 0; --k) {
    const int64_t t = step_at(k, T, reverse), b = s.size[t];
    Tensor dh_t = gout ? add(rows(dh, 0, b), rows(gout, s.offset[t], b)) : rows(dh, 0, b);
    variable_list d = lstm_cell_backward_ops(dh_t, rows(dc, 0, b), gates[t], c_prev[t]);
    dxw[t] = d[0];
    Tensor step_dw = mm(transpose(d[0], 0, 1), h_prev[t]);
    dw = dw ? add(dw, step_dw) : step_dw;
    dh = with_rows(dh, mm(d[0], w_hh)), dc = with_rows(dc, d[1]);
  }
  return {reshape(cat_rows(dxw), xw->sizes()), dh, dc, dw};
}

std::array<Tensor, 3> lstm_layer(const Tensor& xw, const Tensor& h0, const Tensor& c0, const Tensor& w_hh, bool reverse,
                                 const std::vector<int64_t>& batch_sizes) {
  const LayerSteps steps = layer_steps("lstm_layer", xw, h0, 4, batch_sizes);
  EMBER_CHECK(c0->sizes() == h0->sizes() && w_hh->dim() == 2 && w_hh->size(0) == 4 * h0->size(1) &&
                  w_hh->size(1) == h0->size(1),
              "lstm_layer: expected c0 ", detail::cat(h0->sizes()), " and w_hh (4H, H) for H = ", h0->size(1), ", got ",
              detail::cat(c0->sizes()), " and ", detail::cat(w_hh->sizes()));
  check_layer_dtypes("lstm_layer", {&xw, &h0, &c0, &w_hh});
  const int64_t T = steps.count(), N = steps.rows, H = h0->size(1);
  const DType dt = xw->dtype();
  Tensor out = empty(output_shape(xw, H), dt), cs = empty({N, H}, dt), tanhs = empty({N, H}, dt);
  Tensor acts = empty({N, 4 * H}, dt), h_n, c_n;
  {
    NoGradGuard ng;
    Tensor x = flat_rows(contiguous(xw)), o = flat_rows(out), h0c = contiguous(h0), c0c = contiguous(c0);
    const StepProduct times_w_hh_t(w_hh, true);
    for (int64_t k = 0; k < T; ++k) {
      const int64_t t = step_at(k, T, reverse), b = steps.size[t], r = steps.offset[t];
      Tensor gates = times_w_hh_t(state_before(o, h0c, steps, k, reverse), rows(x, r, b));
      kernels::lstm_cell(rows(o, r, b), rows(cs, r, b), rows(acts, r, b), rows(tanhs, r, b), gates,
                         contiguous(state_before(cs, c0c, steps, k, reverse)));
    }
    h_n = final_state(o, steps, reverse), c_n = final_state(cs, steps, reverse);
  }
  auto n = make_node<LayerState>("LstmLayerBackward0", {&xw, &h0, &c0, &w_hh}, [](auto& n, variable_list& g) {
    Tensor xw = n.saved_at(0), h0 = n.saved_at(1), c0 = n.saved_at(2), w_hh = n.saved_at(3);
    const bool reverse = n.state.reverse;
    const LayerSteps steps = layer_steps("lstm_layer", xw, h0, 4, n.state.batch_sizes);
    if (GradMode::is_enabled()) return lstm_layer_backward_ops(g, xw, h0, c0, w_hh, steps, reverse);
    Tensor o = flat_rows(n.saved_at(4)), cs = n.saved_at(5), acts = n.saved_at(6), tanhs = n.saved_at(7);
    const int64_t T = steps.count(), B = h0->size(0), H = h0->size(1);
    Tensor dxw = empty(xw->sizes(), xw->dtype()), dx = flat_rows(dxw);
    auto state_grad = [&](const Tensor& given) {
      return given ? clone(contiguous(given)) : zeros({B, H}, xw->dtype());
    };
    Tensor dh = state_grad(g[1]), dc = state_grad(g[2]);
    Tensor gout = g[0] ? flat_rows(contiguous(g[0])) : Tensor(), h0c = contiguous(h0), c0c = contiguous(c0);
    const StepProduct times_w_hh(w_hh, false);
    bool has_output_grad = false;  // whether dh's rows already hold the step's output gradient
    for (int64_t k = T - 1; k >= 0; --k) {
      const int64_t t = step_at(k, T, reverse), b = steps.size[t], r = steps.offset[t];
      Tensor dh_t = rows(dh, 0, b), dc_t = rows(dc, 0, b), dgates = rows(dx, r, b);
      if (gout && !has_output_grad) dh_t = add(dh_t, rows(gout, r, b));
      kernels::lstm_cell_backward(dgates, dc_t, dh_t, dc_t, rows(acts, r, b), rows(tanhs, r, b),
                                  contiguous(state_before(cs, c0c, steps, k, reverse)));
      // dh's rows = dgates W_hh, plus in the same pass the output gradient of the step run before when
      // that step covers the same rows.
      const int64_t p = k > 0 ? step_at(k - 1, T, reverse) : -1;
      has_output_grad = gout && p >= 0 && steps.size[p] == b;
      times_w_hh(dgates, has_output_grad ? rows(gout, steps.offset[p], b) : Tensor(), rows(dh, 0, b));
    }
    Tensor dw;
    if (n.needs(3)) dw = mm(transpose(dx, 0, 1), states_before(o, h0c, steps, reverse));
    return variable_list{dxw, dh, dc, dw};
  });
  if (n) {
    n->state.reverse = reverse;
    n->state.batch_sizes = batch_sizes;
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

// Note [GRU layer]: a GRU layer's time loop (one direction) as one node, as
// Note [LSTM layer] does for the LSTM, here with ember ops rather than a fused
// cell kernel. The forward keeps every step's gates r, z, n, the hidden part
// of n's pre-activation (W_hn h + b_hn, which r multiplies) and the state the
// step started from; the backward runs the steps in reverse, then forms the
// recurrent weight's and bias's gradients of all steps in one product and one
// sum. With create_graph it recomputes the steps with recorded ops and runs the
// same reverse loop on them. Packed batches as Note [Packed layer steps].
namespace {
struct GruSteps {
  TensorList r, z, n, ghn, h_prev;  // per step, in time order
  Tensor out, h_last;
};
}  // namespace

// xw (T, B, 3H) or (N, 3H): the input projections with b_ih; h0 (B, H); w_hh (3H, H); b_hh (3H) or null.
static GruSteps gru_steps(const Tensor& xw, const Tensor& h0, const Tensor& w_hh, const Tensor& b_hh,
                          const LayerSteps& steps, bool reverse) {
  const int64_t T = steps.count(), H = h0->size(1);
  GruSteps s;
  for (auto* list : {&s.r, &s.z, &s.n, &s.ghn, &s.h_prev}) list->resize(T);
  TensorList outs(T);
  Tensor x_rows = flat_rows(xw), h = h0;
  const StepProduct times_w_hh_t(w_hh, true);
  for (int64_t k = 0; k < T; ++k) {
    const int64_t t = step_at(k, T, reverse), b = steps.size[t];
    Tensor x = rows(x_rows, steps.offset[t], b), hb = rows(h, 0, b);
    Tensor gh = times_w_hh_t(hb, b_hh);
    Tensor rz = sigmoid(add(narrow(x, 1, 0, 2 * H), narrow(gh, 1, 0, 2 * H)));
    s.r[t] = narrow(rz, 1, 0, H), s.z[t] = narrow(rz, 1, H, H), s.ghn[t] = narrow(gh, 1, 2 * H, H);
    s.n[t] = tanh(add(narrow(x, 1, 2 * H, H), mul(s.r[t], s.ghn[t])));
    s.h_prev[t] = hb;
    outs[t] = add(s.n[t], mul(s.z[t], sub(hb, s.n[t])));  // (1 - z) * n + z * h
    h = with_rows(h, outs[t]);
  }
  s.out = join_steps(outs, steps);
  s.h_last = h;
  return s;
}

// The gradients of (xw, h0, w_hh, b_hh) from those of (output, h_n), through the steps.
static variable_list gru_backward_steps(const variable_list& g, const GruSteps& s, const Tensor& xw, const Tensor& h0,
                                        const Tensor& w_hh, bool has_bias, const LayerSteps& steps, bool reverse) {
  const int64_t T = steps.count();
  Tensor dh = g[1] ? g[1] : zeros_like(h0), gout = g[0] ? flat_rows(g[0]) : Tensor();
  TensorList dxw(T), dgh(T);
  const StepProduct times_w_hh(w_hh, false);
  for (int64_t k = T - 1; k >= 0; --k) {
    const int64_t t = step_at(k, T, reverse), b = steps.size[t];
    const Tensor &r = s.r[t], &z = s.z[t], &n = s.n[t];
    Tensor dh_t = gout ? add(rows(dh, 0, b), rows(gout, steps.offset[t], b)) : rows(dh, 0, b);
    Tensor dn_pre = mul(mul(dh_t, sub(num(1.0), z)), sub(num(1.0), mul(n, n)));
    Tensor dr_pre = mul(mul(dn_pre, s.ghn[t]), mul(r, sub(num(1.0), r)));
    Tensor dz_pre = mul(mul(dh_t, sub(s.h_prev[t], n)), mul(z, sub(num(1.0), z)));
    dxw[t] = cat({dr_pre, dz_pre, dn_pre}, 1);
    dgh[t] = cat({dr_pre, dz_pre, mul(dn_pre, r)}, 1);
    dh = with_rows(dh, times_w_hh(dgh[t], mul(dh_t, z)));
  }
  Tensor dgh_all = cat_rows(dgh);
  Tensor dw = mm(transpose(dgh_all, 0, 1), cat_rows(s.h_prev));
  return {reshape(cat_rows(dxw), xw->sizes()), dh, dw, has_bias ? sum(dgh_all, {0}, false) : Tensor()};
}

std::array<Tensor, 2> gru_layer(const Tensor& xw, const Tensor& h0, const Tensor& w_hh, const Tensor& b_hh,
                                bool reverse, const std::vector<int64_t>& batch_sizes) {
  const LayerSteps steps = layer_steps("gru_layer", xw, h0, 3, batch_sizes);
  EMBER_CHECK(w_hh->dim() == 2 && w_hh->size(0) == 3 * h0->size(1) && w_hh->size(1) == h0->size(1) &&
                  (!b_hh || (b_hh->dim() == 1 && b_hh->size(0) == w_hh->size(0))),
              "gru_layer: expected w_hh (3H, H) and b_hh (3H) for H = ", h0->size(1), ", got ",
              detail::cat(w_hh->sizes()), b_hh ? " and " + detail::cat(b_hh->sizes()) : std::string(" and no b_hh"));
  check_layer_dtypes("gru_layer", {&xw, &h0, &w_hh, &b_hh});
  GruSteps s;
  {
    NoGradGuard ng;
    s = gru_steps(xw, h0, w_hh, b_hh, steps, reverse);
  }
  auto n = make_node<LayerState>("GruLayerBackward0", {&xw, &h0, &w_hh, &b_hh}, [](auto& n, variable_list& g) {
    Tensor xw = n.saved_at(0), h0 = n.saved_at(1), w_hh = n.saved_at(2), b_hh = n.saved_at(3);
    const bool reverse = n.state.reverse;
    const LayerSteps steps = layer_steps("gru_layer", xw, h0, 3, n.state.batch_sizes);
    if (GradMode::is_enabled())
      return gru_backward_steps(g, gru_steps(xw, h0, w_hh, b_hh, steps, reverse), xw, h0, w_hh, (bool)b_hh, steps,
                                reverse);
    Tensor workspace = n.saved_at(5);
    const int64_t T = steps.count();
    GruSteps s;
    TensorList* lists[] = {&s.r, &s.z, &s.n, &s.ghn, &s.h_prev};
    for (int64_t i = 0; i < 5; ++i) {
      lists[i]->resize(T);
      Tensor all = select(workspace, 0, i);
      for (int64_t t = 0; t < T; ++t) (*lists[i])[t] = rows(all, steps.offset[t], steps.size[t]);
    }
    return gru_backward_steps(g, s, xw, h0, w_hh, (bool)b_hh, steps, reverse);
  });
  Tensor out = s.out, h_n = s.h_last;
  if (n) {
    n->state.reverse = reverse;
    n->state.batch_sizes = batch_sizes;
    for (auto* t : {&xw, &h0, &w_hh, &b_hh}) n->save("input", *t);
    n->save("output", out);
    {
      // (5, N, H): r, z, n, W_hn h + b_hn and the starting state of every step; only a backward reads them.
      NoGradGuard ng;
      n->save("workspace",
              stack({cat_rows(s.r), cat_rows(s.z), cat_rows(s.n), cat_rows(s.ghn), cat_rows(s.h_prev)}, 0));
    }
    attach(n, out);
    attach(n, h_n);
  }
  return {out, h_n};
}

// The Elman RNN's layer, as Note [GRU layer]: h_t = act(xw_t + h_(t-1) W_hh^T), act tanh or relu (xw
// holds both biases). Returns each step's output and starting state, in time order.
static std::pair<TensorList, TensorList> rnn_steps(const Tensor& xw, const Tensor& h0, const Tensor& w_hh,
                                                   bool relu_act, const LayerSteps& steps, bool reverse) {
  const int64_t T = steps.count();
  TensorList outs(T), h_prev(T);
  Tensor x = flat_rows(xw), h = h0;
  const StepProduct times_w_hh_t(w_hh, true);
  for (int64_t k = 0; k < T; ++k) {
    const int64_t t = step_at(k, T, reverse), b = steps.size[t];
    h_prev[t] = rows(h, 0, b);
    Tensor pre = times_w_hh_t(h_prev[t], rows(x, steps.offset[t], b));
    outs[t] = relu_act ? relu(pre) : tanh(pre);
    h = with_rows(h, outs[t]);
  }
  return {outs, h_prev};
}

static variable_list rnn_backward_steps(const variable_list& g, const TensorList& outs, const TensorList& h_prev,
                                        const Tensor& xw, const Tensor& h0, const Tensor& w_hh, bool relu_act,
                                        const LayerSteps& steps, bool reverse) {
  const int64_t T = steps.count();
  Tensor dh = g[1] ? g[1] : zeros_like(h0), gout = g[0] ? flat_rows(g[0]) : Tensor();
  TensorList dpre(T);
  const StepProduct times_w_hh(w_hh, false);
  for (int64_t k = T - 1; k >= 0; --k) {
    const int64_t t = step_at(k, T, reverse), b = steps.size[t];
    const Tensor& h_t = outs[t];
    Tensor dh_t = gout ? add(rows(dh, 0, b), rows(gout, steps.offset[t], b)) : rows(dh, 0, b);
    dpre[t] = relu_act ? threshold_backward(dh_t, h_t) : mul(dh_t, sub(num(1.0), mul(h_t, h_t)));
    dh = with_rows(dh, times_w_hh(dpre[t], Tensor()));
  }
  Tensor dx = cat_rows(dpre);
  Tensor dw = mm(transpose(dx, 0, 1), cat_rows(h_prev));
  return {reshape(dx, xw->sizes()), dh, dw};
}

namespace {
struct RnnLayerState : LayerState {
  bool relu = false;
  void fields(StateFields& f) const {
    f.add("relu", relu);
    LayerState::fields(f);
  }
};
}  // namespace

std::array<Tensor, 2> rnn_layer(const Tensor& xw, const Tensor& h0, const Tensor& w_hh, bool relu_act, bool reverse,
                                const std::vector<int64_t>& batch_sizes) {
  const LayerSteps steps = layer_steps("rnn_layer", xw, h0, 1, batch_sizes);
  EMBER_CHECK(w_hh->dim() == 2 && w_hh->size(0) == h0->size(1) && w_hh->size(1) == h0->size(1),
              "rnn_layer: expected w_hh (H, H) for H = ", h0->size(1), ", got ", detail::cat(w_hh->sizes()));
  check_layer_dtypes("rnn_layer", {&xw, &h0, &w_hh});
  Tensor out, h_n, h_prev_all;
  {
    NoGradGuard ng;
    auto [outs, h_prev] = rnn_steps(xw, h0, w_hh, relu_act, steps, reverse);
    out = join_steps(outs, steps);
    h_n = final_state(flat_rows(out), steps, reverse);
    h_prev_all = cat_rows(h_prev);
  }
  auto n = make_node<RnnLayerState>("RnnLayerBackward0", {&xw, &h0, &w_hh}, [](auto& n, variable_list& g) {
    Tensor xw = n.saved_at(0), h0 = n.saved_at(1), w_hh = n.saved_at(2);
    const bool relu_act = n.state.relu, reverse = n.state.reverse;
    const LayerSteps steps = layer_steps("rnn_layer", xw, h0, 1, n.state.batch_sizes);
    if (GradMode::is_enabled()) {
      auto [outs, h_prev] = rnn_steps(xw, h0, w_hh, relu_act, steps, reverse);
      return rnn_backward_steps(g, outs, h_prev, xw, h0, w_hh, relu_act, steps, reverse);
    }
    Tensor out = flat_rows(n.saved_at(3)), h_prev_all = n.saved_at(4);
    const int64_t T = steps.count();
    TensorList outs(T), h_prev(T);
    for (int64_t t = 0; t < T; ++t) {
      outs[t] = rows(out, steps.offset[t], steps.size[t]);
      h_prev[t] = rows(h_prev_all, steps.offset[t], steps.size[t]);
    }
    return rnn_backward_steps(g, outs, h_prev, xw, h0, w_hh, relu_act, steps, reverse);
  });
  if (n) {
    n->state.relu = relu_act, n->state.reverse = reverse, n->state.batch_sizes = batch_sizes;
    for (auto* t : {&xw, &h0, &w_hh}) n->save("input", *t);
    n->save("output", out);
    n->save("workspace", h_prev_all);
    attach(n, out);
    attach(n, h_n);
  }
  return {out, h_n};
}

}  // namespace ember
