"""nn.functional ops that PyTorch records as one node (Note [Fused nodes]): the node's name, first and
second derivatives against finite differences in float64, and values and gradients against PyTorch."""

import os
import subprocess

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from helpers import python_command

# name -> (call on (F, x, t), PyTorch's node name). x: input in (0.05, 0.95) shifted by -0.5
# for the activations; t: a target in (0, 1).
CASES = {
    "gelu": (lambda F, x, t: F.gelu(x), "GeluBackward0"),
    "gelu_tanh": (lambda F, x, t: F.gelu(x, approximate="tanh"), "GeluBackward0"),
    "silu": (lambda F, x, t: F.silu(x), "SiluBackward0"),
    "softplus": (lambda F, x, t: F.softplus(x, beta=2.0, threshold=0.5), "SoftplusBackward0"),
    "elu": (lambda F, x, t: F.elu(x, alpha=0.7), "EluBackward0"),
    "selu": (lambda F, x, t: F.selu(x), "EluBackward0"),
    "celu": (lambda F, x, t: F.celu(x, alpha=1.5), "CeluBackward0"),
    "leaky_relu": (lambda F, x, t: F.leaky_relu(x, 0.2), "LeakyReluBackward0"),
    "hardtanh": (lambda F, x, t: F.hardtanh(x, -0.3, 0.2), "HardtanhBackward0"),
    "relu6": (lambda F, x, t: F.relu6(x * 20), "HardtanhBackward0"),
    "logsigmoid": (lambda F, x, t: F.logsigmoid(x), "LogSigmoidBackward0"),
    "mse": (lambda F, x, t: F.mse_loss(x, t), "MseLossBackward0"),
    "mse_sum": (lambda F, x, t: F.mse_loss(x, t, reduction="sum"), "MseLossBackward0"),
    "mse_none": (lambda F, x, t: F.mse_loss(x, t, reduction="none"), "MseLossBackward0"),
    "smooth_l1": (lambda F, x, t: F.smooth_l1_loss(x, t, beta=0.3), "SmoothL1LossBackward0"),
    "huber": (lambda F, x, t: F.huber_loss(x, t, delta=0.3, reduction="sum"), "HuberLossBackward0"),
    "bce": (lambda F, x, t: F.binary_cross_entropy(x + 0.5, t), "BinaryCrossEntropyBackward0"),
    "bce_logits": (
        lambda F, x, t: F.binary_cross_entropy_with_logits(x * 4, t),
        "BinaryCrossEntropyWithLogitsBackward0",
    ),
    "bce_logits_pos": (
        lambda F, x, t: F.binary_cross_entropy_with_logits(x, t, pos_weight=x.detach()[0] * 0 + 3.0, reduction="none"),
        "BinaryCrossEntropyWithLogitsBackward0",
    ),
}

# Away from the kinks (|x| not near 0 or the clamp bounds) so finite differences are exact enough.
X = np.array([[0.41, -0.37, 0.13, -0.12], [0.27, -0.44, 0.36, -0.21], [0.07, 0.33, -0.28, 0.18]])
T = np.array([[0.2, 0.7, 0.5, 0.1], [0.9, 0.3, 0.6, 0.4], [0.8, 0.35, 0.45, 0.65]])


@pytest.mark.parametrize("name", CASES)
def test_one_node_with_pytorchs_name(name):
    fn, node = CASES[name]
    x = ember.tensor(X, requires_grad=True)
    assert type(fn(F, x, ember.tensor(T)).grad_fn).__name__ == node


@pytest.mark.parametrize("name", CASES)
def test_first_and_second_derivatives(name):
    fn, _ = CASES[name]
    x = ember.tensor(X, requires_grad=True)
    t = ember.tensor(T, requires_grad=not name.startswith("bce"))
    inputs = (x, t) if t.requires_grad else (x,)
    f = (lambda a, b: fn(F, a, b)) if t.requires_grad else (lambda a: fn(F, a, t))
    assert ember.autograd.gradcheck(f, inputs)
    assert ember.autograd.gradgradcheck(f, inputs)


@pytest.mark.parametrize("name", CASES)
def test_matches_pytorch(name):
    torch = pytest.importorskip("torch")
    fn, node = CASES[name]
    results = []
    for lib in (ember, torch):
        x = lib.tensor(X, requires_grad=True)
        t = lib.tensor(T)
        out = fn(lib.nn.functional, x, t)
        out.sum().backward()
        assert type(out.grad_fn).__name__ == node
        results.append((out.detach().numpy(), x.grad.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12, atol=1e-14)


def test_saved_values_as_pytorch():
    x = ember.tensor(X, requires_grad=True)
    node = F.gelu(x, approximate="tanh").grad_fn
    assert node._saved_approximate == "tanh" and node._saved_self is x
    node = F.softplus(x, beta=2.0, threshold=3.0).grad_fn
    assert (node._saved_beta, node._saved_threshold) == (2.0, 3.0)
    node = F.mse_loss(x, ember.tensor(T), reduction="sum").grad_fn
    assert node._saved_reduction == 2
    assert F.smooth_l1_loss(x, ember.tensor(T), beta=0.5).grad_fn._saved_beta == 0.5
    assert F.huber_loss(x, ember.tensor(T), delta=0.5).grad_fn._saved_delta == 0.5


def test_weights_get_no_gradient():
    x = ember.tensor(X, requires_grad=True)
    w = ember.ones(3, 4, dtype=ember.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="'binary_cross_entropy_with_logits' is not differentiable with respect "
                       "to argument 'weight'"):  # fmt: skip
        F.binary_cross_entropy_with_logits(x, ember.tensor(T), weight=w)


def test_extreme_logits_stay_finite():
    x = ember.tensor([1e4, -1e4, 0.0], requires_grad=True)
    t = ember.tensor([0.0, 1.0, 0.5])
    loss = F.binary_cross_entropy_with_logits(x, t, reduction="sum")
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(x.grad.numpy()).all()
    assert np.isfinite(F.softplus(ember.tensor([1e4, -1e4])).numpy()).all()


# ------------------------------------------------------------------ the fused LSTM cell


def _lstm_cell_by_ops(gates, c_prev):
    i, f, g, o = gates.chunk(4, 1)
    c = i.sigmoid() * g.tanh() + f.sigmoid() * c_prev
    return o.sigmoid() * c.tanh(), c


def test_lstm_cell_is_one_node_matching_the_composed_step():
    rng = np.random.default_rng(0)
    gates = ember.tensor(rng.normal(size=(3, 8)) * 3, requires_grad=True)
    c_prev = ember.tensor(rng.normal(size=(3, 2)), requires_grad=True)
    h, c = ember._C._lstm_cell(gates, c_prev)
    assert h.grad_fn is c.grad_fn and h.grad_fn.name() == "ThnnFusedLstmCellBackward0"
    h_ref, c_ref = _lstm_cell_by_ops(gates, c_prev)
    np.testing.assert_allclose(h.detach().numpy(), h_ref.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(c.detach().numpy(), c_ref.detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("outputs", ["both", "h", "c"])
def test_lstm_cell_first_and_second_derivatives(outputs):
    rng = np.random.default_rng(1)
    gates = ember.tensor(rng.normal(size=(2, 12)), dtype=ember.float64, requires_grad=True)
    c_prev = ember.tensor(rng.normal(size=(2, 3)), dtype=ember.float64, requires_grad=True)
    pick = {"both": lambda r: r, "h": lambda r: r[0], "c": lambda r: r[1]}[outputs]

    def f(g, c):
        return pick(ember._C._lstm_cell(g, c))

    assert ember.autograd.gradcheck(f, (gates, c_prev))
    assert ember.autograd.gradgradcheck(f, (gates, c_prev))


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
def test_lstm_cell_backward_rows_match_the_composed_step(dtype):
    # Note [LSTM cell backward rows]: 37 hidden units run the vector body and its tail; the running dc
    # is updated in place by the layer, here by the op's own fresh buffers.
    rng = np.random.default_rng(2)
    gates = ember.tensor(rng.normal(size=(5, 4 * 37)) * 2, dtype=dtype, requires_grad=True)
    c_prev = ember.tensor(rng.normal(size=(5, 37)), dtype=dtype, requires_grad=True)
    gh, gc = (ember.tensor(rng.normal(size=(5, 37)), dtype=dtype) for _ in range(2))
    fused = ember.autograd.grad(ember._C._lstm_cell(gates, c_prev), (gates, c_prev), (gh, gc))
    composed = ember.autograd.grad(_lstm_cell_by_ops(gates, c_prev), (gates, c_prev), (gh, gc))
    tol = 1e-5 if dtype == ember.float32 else 1e-12
    for a, b in zip(fused, composed):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("cap", ["avx2", "sse", "none"])
def test_lstm_cell_backward_rows_under_each_instruction_set_cap(cap):
    # Note [LSTM cell backward rows]: EMBER_VEC_MATH caps the variant (AVX-512, AVX2, the SSE2 build),
    # so every one this CPU has is checked against the composed step, in a process of its own.
    code = (
        "import sys; sys.path.insert(0, %r)\n"
        "import test_fused_nodes as t\n"
        "import ember\n"
        "t.test_lstm_cell_backward_rows_match_the_composed_step(ember.float32)\n"
        "t.test_lstm_cell_backward_rows_match_the_composed_step(ember.float64)\n"
        "print('ok')\n"
    ) % os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ, EMBER_VEC_MATH=cap)
    out = subprocess.run([*python_command(), "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.split()[-1] == "ok", out.stderr[-2000:]


def test_lstm_cell_checks_shapes_and_dtypes():
    with pytest.raises(RuntimeError, match="expected gates \\(B, 4H\\) and c \\(B, H\\)"):
        ember._C._lstm_cell(ember.zeros(2, 7), ember.zeros(2, 2))
    with pytest.raises(RuntimeError, match="one floating dtype"):
        ember._C._lstm_cell(ember.zeros(2, 8), ember.zeros(2, 2, dtype=ember.float64))


# ------------------------------------------------------------------ the LSTM layer (Note [LSTM layer])


def _layer_by_cells(xw, h0, c0, w_hh, reverse):
    steps = xw.shape[0]
    h, c, outs = h0, c0, [None] * steps
    for k in range(steps):
        t = steps - 1 - k if reverse else k
        h, c = ember._C._lstm_cell(ember.addmm(xw[t], h, w_hh.t()), c)
        outs[t] = h
    return ember.stack(outs), h, c


@pytest.mark.parametrize("reverse", [False, True])
def test_lstm_layer_is_one_node_matching_the_steps(reverse):
    rng = np.random.default_rng(2)
    args = [ember.tensor(rng.normal(size=s) * 0.7, dtype=ember.float64, requires_grad=True)
            for s in [(4, 2, 12), (2, 3), (2, 3), (12, 3)]]  # fmt: skip
    out, h_n, c_n = ember._C._lstm_layer(*args, reverse)
    assert out.grad_fn is h_n.grad_fn is c_n.grad_fn and out.grad_fn.name() == "LstmLayerBackward0"
    for a, b in zip((out, h_n, c_n), _layer_by_cells(*args, reverse)):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12)
    for pick in (lambda r: r, lambda r: r[0], lambda r: r[2]):
        assert ember.autograd.gradcheck(lambda *z, pick=pick: pick(ember._C._lstm_layer(*z, reverse)), tuple(args))
    assert ember.autograd.gradgradcheck(lambda *z: ember._C._lstm_layer(*z, reverse)[0], tuple(args))


def graph_node_names(out):
    """The names of every node of out's backward graph."""
    names, stack = set(), [out.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node.name() in names:
            continue
        names.add(node.name())
        stack.extend(f for f, _ in node.next_functions)
    return names


def test_lstm_module_uses_one_node_per_layer_and_direction():
    lstm = ember.nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    out, _ = lstm(ember.randn(5, 2, 3))
    names = graph_node_names(out)
    assert "LstmLayerBackward0" in names and "ThnnFusedLstmCellBackward0" not in names


# ------------------------------------------------------------------ the GRU layer (Note [GRU layer])


def _gru_by_steps(xw, h0, w_hh, b_hh, reverse):
    """PyTorch's GRU equations, one step at a time with plain ops."""
    steps, hidden = xw.shape[0], h0.shape[1]
    h, outs = h0, [None] * steps
    for k in range(steps):
        t = steps - 1 - k if reverse else k
        gh = h @ w_hh.t() + (b_hh if b_hh is not None else 0)
        r = (xw[t, :, :hidden] + gh[:, :hidden]).sigmoid()
        z = (xw[t, :, hidden : 2 * hidden] + gh[:, hidden : 2 * hidden]).sigmoid()
        n = (xw[t, :, 2 * hidden :] + r * gh[:, 2 * hidden :]).tanh()
        h = (1 - z) * n + z * h
        outs[t] = h
    return ember.stack(outs), h


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_gru_layer_is_one_node_matching_the_steps(reverse, bias):
    rng = np.random.default_rng(3)
    shapes = [(4, 2, 9), (2, 3), (9, 3)] + ([(9,)] if bias else [])
    args = [ember.tensor(rng.normal(size=s) * 0.7, dtype=ember.float64, requires_grad=True) for s in shapes]
    full = args if bias else [*args, None]
    out, h_n = ember._C._gru_layer(*full, reverse)
    assert out.grad_fn is h_n.grad_fn and out.grad_fn.name() == "GruLayerBackward0"
    for a, b in zip((out, h_n), _gru_by_steps(*full, reverse)):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12)

    def layer(*z):
        return ember._C._gru_layer(*z, *([] if bias else [None]), reverse)

    for pick in (lambda r: r, lambda r: r[0], lambda r: r[1]):
        assert ember.autograd.gradcheck(lambda *z, pick=pick: pick(layer(*z)), tuple(args))
    assert ember.autograd.gradgradcheck(lambda *z: layer(*z)[0], tuple(args))


def test_gru_module_uses_one_node_per_layer_and_direction():
    gru = ember.nn.GRU(3, 4, num_layers=2, bidirectional=True)
    out, h_n = gru(ember.randn(5, 2, 3))
    names = graph_node_names(out)
    assert "GruLayerBackward0" in names and "SigmoidBackward0" not in names
    with pytest.raises(RuntimeError, match="gru_layer: expected xw"):
        ember._C._gru_layer(ember.zeros(2, 1, 7), ember.zeros(1, 3), ember.zeros(9, 3))
    with pytest.raises(RuntimeError, match="gru_layer: expected inputs of one dtype, got Float and Double"):
        ember._C._gru_layer(ember.zeros(2, 1, 9), ember.zeros(1, 3, dtype=ember.float64), ember.zeros(9, 3))
    with pytest.raises(RuntimeError, match="gru_layer: expected floating point inputs, got Long"):
        ember._C._gru_layer(*(ember.zeros(*s, dtype=ember.int64) for s in [(2, 1, 9), (1, 3), (9, 3)]))


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
def test_rnn_layer_is_one_node_matching_the_steps(relu, reverse):
    rng = np.random.default_rng(4)
    args = [ember.tensor(rng.normal(size=s) * 0.7, dtype=ember.float64, requires_grad=True)
            for s in [(4, 2, 3), (2, 3), (3, 3)]]  # fmt: skip
    out, h_n = ember._C._rnn_layer(*args, relu, reverse)
    assert out.grad_fn is h_n.grad_fn and out.grad_fn.name() == "RnnLayerBackward0"
    xw, h, w_hh = args
    steps = [None] * 4
    for k in range(4):
        t = 3 - k if reverse else k
        pre = xw[t] + h @ w_hh.t()
        h = steps[t] = pre.relu() if relu else pre.tanh()
    np.testing.assert_allclose(out.detach().numpy(), ember.stack(steps).detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(h_n.detach().numpy(), h.detach().numpy(), rtol=1e-12)
    for pick in (lambda r: r, lambda r: r[0], lambda r: r[1]):
        assert ember.autograd.gradcheck(lambda *z, pick=pick: pick(ember._C._rnn_layer(*z, relu, reverse)), tuple(args))
    assert ember.autograd.gradgradcheck(lambda *z: ember._C._rnn_layer(*z, relu, reverse)[0], tuple(args))


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_module_uses_one_node_per_layer_and_direction(nonlinearity):
    rnn = ember.nn.RNN(3, 4, num_layers=2, bidirectional=True, nonlinearity=nonlinearity)
    out, _ = rnn(ember.randn(5, 2, 3))
    assert "RnnLayerBackward0" in graph_node_names(out)
    with pytest.raises(RuntimeError, match="rnn_layer: expected xw"):
        ember._C._rnn_layer(ember.zeros(2, 1, 4), ember.zeros(1, 3), ember.zeros(3, 3))
    with pytest.raises(RuntimeError, match="rnn_layer: expected inputs of one dtype, got Float and Half"):
        ember._C._rnn_layer(ember.zeros(2, 1, 3), ember.zeros(1, 3), ember.zeros(3, 3, dtype=ember.float16))


# ------------------------------------------------------------------ packed batches (Note [Packed layer steps])

LENGTHS = [4, 3, 3, 1]  # longest first, as a PackedSequence holds them
BATCH_SIZES = [sum(n > t for n in LENGTHS) for t in range(max(LENGTHS))]  # [4, 3, 3, 1]

# op name -> (gate count, call(xw, h0, c0, w_hh, b_hh, reverse, batch_sizes), node name)
PACKED_LAYERS = {
    "lstm": (4, lambda xw, h0, c, w, b, *rest: ember._C._lstm_layer(xw, h0, c, w, *rest), "LstmLayerBackward0"),
    "gru": (3, lambda xw, h0, c, w, b, *rest: ember._C._gru_layer(xw, h0, w, b, *rest), "GruLayerBackward0"),
    "gru_no_bias": (3, lambda xw, h0, c, w, _, *rest: ember._C._gru_layer(xw, h0, w, None, *rest), "GruLayerBackward0"),
    "rnn_tanh": (1, lambda xw, h0, c, w, b, *rest: ember._C._rnn_layer(xw, h0, w, False, *rest), "RnnLayerBackward0"),
    "rnn_relu": (1, lambda xw, h0, c, w, b, *rest: ember._C._rnn_layer(xw, h0, w, True, *rest), "RnnLayerBackward0"),
}


def packed_layer_args(gates, dtype=ember.float64, hidden=3, seed=5):
    """(xw packed (N, G), h0, c0, w_hh, b_hh) for LENGTHS, each a leaf that requires grad."""
    rng = np.random.default_rng(seed)
    shapes = [(sum(LENGTHS), gates * hidden), (4, hidden), (4, hidden), (gates * hidden, hidden), (gates * hidden,)]
    return [ember.tensor(rng.normal(size=s) * 0.7, dtype=dtype, requires_grad=True) for s in shapes]


def packed_rows(t, i):
    """The packed rows of sequence i: its step t at offset(t) + i."""
    offsets = np.concatenate([[0], np.cumsum(BATCH_SIZES)[:-1]])
    return [int(offsets[t]) + i for t in range(LENGTHS[i])]


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("name", list(PACKED_LAYERS))
def test_packed_layer_matches_each_sequence_alone(name, reverse):
    gates, call, node = PACKED_LAYERS[name]
    xw, h0, c0, w, b = packed_layer_args(gates)
    found = call(xw, h0, c0, w, b, reverse, BATCH_SIZES)
    assert found[0].shape == (sum(LENGTHS), 3) and found[0].grad_fn.name() == node
    assert all(f.grad_fn is found[0].grad_fn for f in found)
    for i in range(len(LENGTHS)):
        alone = call(xw[packed_rows(None, i)].unsqueeze(1), h0[i : i + 1], c0[i : i + 1], w, b, reverse, [])
        np.testing.assert_allclose(
            found[0].detach().numpy()[packed_rows(None, i)], alone[0].detach().numpy()[:, 0], rtol=1e-12
        )
        for final, final_alone in zip(found[1:], alone[1:]):
            np.testing.assert_allclose(final.detach().numpy()[i], final_alone.detach().numpy()[0], rtol=1e-12)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("name", list(PACKED_LAYERS))
def test_packed_layer_gradients(name, reverse):
    gates, call, _ = PACKED_LAYERS[name]
    args = packed_layer_args(gates)
    used = [0, 1, 3] + ([2] if name == "lstm" else []) + ([4] if name == "gru" else [])
    leaves = tuple(args[k] for k in used)

    def layer(*z):
        full = list(args)
        for k, v in zip(used, z):
            full[k] = v
        return call(*full, reverse, BATCH_SIZES)

    assert ember.autograd.gradcheck(layer, leaves)
    assert ember.autograd.gradgradcheck(lambda *z: layer(*z)[0], leaves)


@pytest.mark.parametrize("name", list(PACKED_LAYERS))
def test_packed_float32_layer_matches_float64(name):
    # float32 steps run Note [Packed recurrent products]' kernels over partial row tiles and panels.
    gates, call, _ = PACKED_LAYERS[name]
    found = []
    for dtype in (ember.float32, ember.float64):
        args = packed_layer_args(gates, dtype, hidden=37)
        outs = call(*args, True, BATCH_SIZES)
        sum((o * (k + 1)).sum() for k, o in enumerate(outs)).backward()
        found.append([t.detach().numpy() for t in (*outs, *(a.grad for a in args if a.grad is not None))])
    for a, b in zip(*found):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5 * np.abs(b).max())


def test_packed_layer_errors():
    xw, h0, c0, w, _ = packed_layer_args(4)
    cases = {
        (3, 4, 3, 1): "lstm_layer: batch_sizes must be positive, non-increasing and at most the batch \\(4\\)",
        (4, 3, 3, 0, 1): "lstm_layer: batch_sizes must be positive",
        (5, 3, 2, 1): "at most the batch \\(4\\), got \\[5, 3, 2, 1\\]",
        (4, 3, 2, 1): "lstm_layer: batch_sizes \\[4, 3, 2, 1\\] do not describe 11 rows of a batch of 4",
        (3, 3, 3, 2): "do not describe 11 rows of a batch of 4",
    }
    for sizes, words in cases.items():
        with pytest.raises(RuntimeError, match=words):
            ember._C._lstm_layer(xw, h0, c0, w, False, list(sizes))
    with pytest.raises(RuntimeError, match="lstm_layer: expected inputs of one dtype, got Float and Double"):
        ember._C._lstm_layer(ember.zeros(2, 1, 12), ember.zeros(1, 3, dtype=ember.float64), ember.zeros(1, 3),
                             ember.zeros(12, 3))  # fmt: skip
    with pytest.raises(RuntimeError, match="rnn_layer: expected xw \\(N, H\\) and h0 \\(B, H\\) with batch_sizes"):
        ember._C._rnn_layer(ember.zeros(4, 1, 3), ember.zeros(1, 3), ember.zeros(3, 3), False, False, [1, 1, 1, 1])


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
def test_packed_module_runs_one_node_per_layer_and_direction(cls):
    from ember.nn.utils.rnn import pack_padded_sequence

    m = getattr(ember.nn, cls)(3, 4, num_layers=2, bidirectional=True)
    packed = pack_padded_sequence(ember.randn(5, 3, 3), [5, 2, 4], enforce_sorted=False)
    out, _ = m(packed)
    names = graph_node_names(out.data)
    assert cls.capitalize() + "LayerBackward0" in names
    assert not names & {"ThnnFusedLstmCellBackward0", "SigmoidBackward0", "TanhBackward0", "ReluBackward0"}
