"""Recurrent and attention layers: RNN/LSTM/GRU and their cells, packed sequences, scaled dot-product and
multi-head attention, Transformer layers, EmbeddingBag. Forward against numpy references, gradients
against finite differences in float64 (small sizes), packed against unpacked runs, and error cases."""

import math
import os
import pickle
import subprocess
import warnings

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import gradcheck, gradgradcheck
from ember.func import functional_call
from ember.nn.utils.rnn import (
    PackedSequence,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
    unpack_sequence,
    unpad_sequence,
)
from helpers import python_command

rng = np.random.default_rng(0)


def t64(a, requires_grad=False):
    return ember.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def np_(t):
    return t.detach().numpy()


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def params_of(module):
    return {k: np_(v) for k, v in module.named_parameters()}


def gradcheck_module(module, inputs, out_fn=lambda out: out):
    """gradcheck of module's output with respect to its float inputs and every parameter."""
    names = [k for k, _ in module.named_parameters()]
    leaves = [p.detach().clone().requires_grad_(True) for _, p in module.named_parameters()]

    def fn(*args):
        xs, ps = args[: len(inputs)], args[len(inputs) :]
        return out_fn(functional_call(module, dict(zip(names, ps)), tuple(xs)))

    return gradcheck(fn, (*inputs, *leaves))


# ---------------------------------------------------------------------------------------------------------------------
# numpy references


def np_cell(mode, x, state, p, suffix=""):
    w_ih, w_hh = p["weight_ih" + suffix], p["weight_hh" + suffix]
    b_ih = p.get("bias_ih" + suffix, 0)
    b_hh = p.get("bias_hh" + suffix, 0)
    h = state[0]
    gi = x @ w_ih.T + b_ih
    gh = h @ w_hh.T + b_hh
    if mode == "tanh":
        return (np.tanh(gi + gh),)
    if mode == "relu":
        return (np.maximum(gi + gh, 0),)
    if mode == "lstm":
        i, f, g, o = np.split(gi + gh, 4, axis=1)
        c = sigmoid(f) * state[1] + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        if "weight_hr" + suffix in p:
            h = h @ p["weight_hr" + suffix].T
        return h, c
    r_i, z_i, n_i = np.split(gi, 3, axis=1)
    r_h, z_h, n_h = np.split(gh, 3, axis=1)
    r, z = sigmoid(r_i + r_h), sigmoid(z_i + z_h)
    n = np.tanh(n_i + r * n_h)
    return ((1 - z) * n + z * h,)


def np_rnn(mode, x, params, num_layers, bidirectional, h0):
    """x (T, B, I); h0: tuple of (L * D, B, H); returns (output, finals tuple)."""
    dirs = 2 if bidirectional else 1
    finals = [[] for _ in h0]
    inp = x
    for layer in range(num_layers):
        outs = []
        for d in range(dirs):
            suffix = f"_l{layer}" + ("_reverse" if d else "")
            state = tuple(h[layer * dirs + d] for h in h0)
            seq = [None] * len(inp)
            order = range(len(inp) - 1, -1, -1) if d else range(len(inp))
            for t in order:
                state = np_cell(mode, inp[t], state, params, suffix)
                seq[t] = state[0]
            outs.append(np.stack(seq))
            for k, s in enumerate(state):
                finals[k].append(s)
        inp = np.concatenate(outs, -1)
    return inp, tuple(np.stack(f) for f in finals)


MODES = {"tanh": (nn.RNN, {}), "relu": (nn.RNN, {"nonlinearity": "relu"}), "lstm": (nn.LSTM, {}), "gru": (nn.GRU, {})}


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("num_layers,bidirectional", [(1, False), (2, True)])
def test_rnn_forward_matches_numpy(mode, num_layers, bidirectional):
    cls, kw = MODES[mode]
    m = cls(3, 4, num_layers=num_layers, bidirectional=bidirectional, **kw).double()
    x = rng.standard_normal((5, 2, 3))
    rows = num_layers * (2 if bidirectional else 1)
    h0 = tuple(rng.standard_normal((rows, 2, 4)) for _ in range(2 if mode == "lstm" else 1))
    out, hn = m(t64(x), tuple(t64(h) for h in h0) if mode == "lstm" else t64(h0[0]))
    ref_out, ref_h = np_rnn(mode, x, params_of(m), num_layers, bidirectional, h0)
    np.testing.assert_allclose(np_(out), ref_out, rtol=1e-10, atol=1e-12)
    for a, b in zip(hn if mode == "lstm" else (hn,), ref_h):
        np.testing.assert_allclose(np_(a), b, rtol=1e-10, atol=1e-12)


def test_lstm_proj_size_matches_numpy():
    m = nn.LSTM(3, 5, num_layers=2, proj_size=2, bidirectional=True).double()
    assert m.weight_hr_l0.shape == (2, 5) and m.weight_hh_l1_reverse.shape == (20, 2)
    assert m.weight_ih_l1.shape == (20, 4)
    x = rng.standard_normal((4, 3, 3))
    out, (h, c) = m(t64(x))
    assert out.shape == (4, 3, 4) and h.shape == (4, 3, 2) and c.shape == (4, 3, 5)
    ref_out, (ref_h, ref_c) = np_rnn("lstm", x, params_of(m), 2, True, (np.zeros((4, 3, 2)), np.zeros((4, 3, 5))))
    np.testing.assert_allclose(np_(out), ref_out, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np_(c), ref_c, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", list(MODES))
def test_rnn_gradcheck(mode):
    cls, kw = MODES[mode]
    m = cls(2, 3, num_layers=2, bidirectional=True, **kw).double()
    x = t64(rng.standard_normal((3, 2, 2)), requires_grad=True)
    h0 = t64(rng.standard_normal((4, 2, 3)), requires_grad=True)
    if mode == "lstm":
        assert gradcheck_module(m, [x], lambda out: (out[0], out[1][0], out[1][1]))
    else:
        assert gradcheck_module(m, [x, h0])


def test_second_derivatives_lstm_and_attention():
    lstm = nn.LSTM(2, 2).double()
    x = t64(rng.standard_normal((2, 1, 2)), requires_grad=True)
    assert gradgradcheck(lambda x: lstm(x)[0], (x,))
    mha = nn.MultiheadAttention(2, 1).double()
    assert gradgradcheck(lambda q: mha(q, q, q)[0], (x,))


def test_lstm_gradcheck_initial_state():
    m = nn.LSTM(2, 3, batch_first=True).double()
    x = t64(rng.standard_normal((2, 3, 2)), requires_grad=True)
    h0 = t64(rng.standard_normal((1, 2, 3)), requires_grad=True)
    c0 = t64(rng.standard_normal((1, 2, 3)), requires_grad=True)
    assert gradcheck(lambda x, h, c: m(x, (h, c))[1], (x, h0, c0))


def test_rnn_batch_first_and_unbatched():
    m = nn.GRU(3, 4, num_layers=2, batch_first=True).double()
    x = rng.standard_normal((2, 5, 3))
    out, h = m(t64(x))
    assert out.shape == (2, 5, 4) and h.shape == (2, 2, 4)
    m2 = nn.GRU(3, 4, num_layers=2).double()
    m2.load_state_dict(m.state_dict())
    out2, h2 = m2(t64(x.transpose(1, 0, 2)))
    np.testing.assert_allclose(np_(out), np_(out2).transpose(1, 0, 2), rtol=1e-12)
    # unbatched (T, I) input: same as a batch of one
    single, hs = m(t64(x[0]))
    assert single.shape == (5, 4) and hs.shape == (2, 4)
    np.testing.assert_allclose(np_(single), np_(out)[0], rtol=1e-12)
    np.testing.assert_allclose(np_(hs), np_(h)[:, 0], rtol=1e-12)


def test_rnn_parameters_names_shapes_and_init():
    m = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    names = [k for k, _ in m.named_parameters()]
    assert names[:5] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_ih_l0_reverse"]
    assert names[-1] == "bias_hh_l1_reverse" and len(names) == 16
    assert m.weight_ih_l1.shape == (16, 8) and m.bias_hh_l0.shape == (16,)
    bound = 1 / math.sqrt(4)
    for p in m.parameters():
        assert np.all(np.abs(np_(p)) <= bound)
    assert len(m.all_weights) == 4 and m.all_weights[1][0] is m.weight_ih_l0_reverse
    assert [k for k, _ in nn.GRU(2, 3, bias=False).named_parameters()] == ["weight_ih_l0", "weight_hh_l0"]
    m.flatten_parameters()  # a no-op
    assert repr(m) == "LSTM(3, 4, num_layers=2, bidirectional=True)"
    assert repr(nn.RNN(2, 3, nonlinearity="relu", batch_first=True)) == "RNN(2, 3, batch_first=True, nonlinearity=relu)"


# Note [Packed recurrent products]: float32 layers multiply each step by a weight packed once, in
# register tiles of up to 8 rows by panels of 16 or 32 columns. Batch 13 and hidden 37 leave partial
# tiles and panels (4H = 148, 3H = 111); batch 32, hidden 64 runs the panels on several threads.
PACKED_CASES = [(6, 13, 5, 37), (4, 32, 8, 64)]


def float32_layers_and_grads(mode, T, B, In, H, seed=0):
    """A 2-layer bidirectional float32 layer's output, final states and gradients (inputs, h0, every
    parameter), with the float64 copy's for reference."""
    cls, kw = MODES[mode]
    ember.manual_seed(seed)
    m = cls(In, H, num_layers=2, bidirectional=True, **kw)
    r = np.random.default_rng(seed)
    x = r.standard_normal((T, B, In)).astype(np.float32)
    states = [r.standard_normal((4, B, H)).astype(np.float32) for _ in range(2 if mode == "lstm" else 1)]
    found = []
    for module in (m, cls(In, H, num_layers=2, bidirectional=True, **kw).double()):
        if module is not m:
            module.load_state_dict({k: v.double() for k, v in m.state_dict().items()})
        dt = next(module.parameters()).dtype
        xs = ember.tensor(x, dtype=dt, requires_grad=True)
        hs = [ember.tensor(h, dtype=dt, requires_grad=True) for h in states]
        out, finals = module(xs, tuple(hs) if mode == "lstm" else hs[0])
        finals = finals if mode == "lstm" else (finals,)
        loss = (out * out).sum() + sum((f * (k + 2)).sum() for k, f in enumerate(finals))
        loss.backward()
        grads = [xs.grad, *(h.grad for h in hs), *(p.grad for p in module.parameters())]
        found.append([np_(t).astype(np.float64) for t in (out, *finals, *grads)])
    return found


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("T,B,In,H", PACKED_CASES)
def test_float32_layers_match_float64(mode, T, B, In, H):
    got, ref = float32_layers_and_grads(mode, T, B, In, H)
    for a, b in zip(got, ref):
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-4 * np.abs(b).max())


@pytest.mark.parametrize("mode", list(MODES))
def test_float32_layers_same_bits_on_any_thread_count(mode):
    before = ember.get_num_threads()
    try:
        ember.set_num_threads(1)
        one = float32_layers_and_grads(mode, *PACKED_CASES[1])[0]
        ember.set_num_threads(2)
        two = float32_layers_and_grads(mode, *PACKED_CASES[1])[0]
    finally:
        ember.set_num_threads(before)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


def layers_in_child(isa):
    """float32_layers_and_grads of every mode in a child with EMBER_PACKED_GEMM=isa: (isa used, results)."""
    env = dict(os.environ, EMBER_PACKED_GEMM=isa)
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(__file__), env.get("PYTHONPATH", "")])
    code = (
        "import sys, pickle, ember, test_rnn_attention as t\n"
        "got = {m: t.float32_layers_and_grads(m, *t.PACKED_CASES[0])[0] for m in t.MODES}\n"
        "sys.stdout.buffer.write(pickle.dumps((ember._C._packed_gemm_isa(), got)))"
    )
    out = subprocess.run([*python_command(), "-c", code], env=env, capture_output=True)
    assert out.returncode == 0, out.stderr.decode()[-3000:]
    return pickle.loads(out.stdout)


def test_packed_kernels_of_each_isa_and_blas_agree():
    here = {m: float32_layers_and_grads(m, *PACKED_CASES[0])[0] for m in MODES}
    isa = ember._C._packed_gemm_isa()
    if "EMBER_PACKED_GEMM" not in os.environ:
        assert isa in ("avx512", "avx2", "off")
    avx2_isa, avx2 = layers_in_child("avx2")
    blas_isa, blas = layers_in_child("off")
    assert blas_isa == "off"
    for mode in MODES:
        for a, b, c in zip(here[mode], avx2[mode], blas[mode]):
            if avx2_isa == "avx2" and isa != "off":
                # One fused multiply-add per term, in order, in either ISA: the same bits.
                np.testing.assert_array_equal(a, b)
            np.testing.assert_allclose(a, c, rtol=1e-4, atol=1e-4 * np.abs(c).max())


def test_rnn_dropout_between_layers():
    m = nn.LSTM(3, 4, num_layers=2, dropout=0.5).double()
    x = t64(rng.standard_normal((6, 2, 3)))
    m.eval()
    a, _ = m(x)
    b, _ = m(x)
    np.testing.assert_array_equal(np_(a), np_(b))
    m.train()
    ember.manual_seed(1)
    c, _ = m(x)
    assert not np.allclose(np_(a), np_(c))  # the first layer's output was dropped out
    m.dropout = 0.0
    d, _ = m(x)
    np.testing.assert_allclose(np_(a), np_(d), rtol=1e-12)


@pytest.mark.parametrize(
    "cell_cls,mode",
    [
        (nn.RNNCell, "tanh"),
        (lambda i, h: nn.RNNCell(i, h, nonlinearity="relu"), "relu"),
        (nn.LSTMCell, "lstm"),
        (nn.GRUCell, "gru"),
    ],
)
def test_cells_match_numpy_and_gradcheck(cell_cls, mode):
    cell = cell_cls(3, 4).double()
    x = rng.standard_normal((2, 3))
    states = tuple(rng.standard_normal((2, 4)) for _ in range(2 if mode == "lstm" else 1))
    arg = tuple(t64(s) for s in states) if mode == "lstm" else t64(states[0])
    out = cell(t64(x), arg)
    ref = np_cell(mode, x, states, params_of(cell))
    for a, b in zip(out if mode == "lstm" else (out,), ref):
        np.testing.assert_allclose(np_(a), b, rtol=1e-10, atol=1e-12)
    # unbatched and default (zero) state
    single = cell(t64(x[0]))
    ref0 = np_cell(mode, x[:1], tuple(np.zeros((1, 4)) for _ in states), params_of(cell))
    np.testing.assert_allclose(np_(single[0] if mode == "lstm" else single), ref0[0][0], rtol=1e-10, atol=1e-12)
    xs = t64(x, requires_grad=True)
    hs = [t64(s, requires_grad=True) for s in states]
    if mode == "lstm":
        assert gradcheck_module(cell, [xs])
        assert gradcheck(lambda x, h, c: cell(x, (h, c)), (xs, *hs))
    else:
        assert gradcheck_module(cell, [xs, hs[0]])


def test_cell_errors():
    cell = nn.LSTMCell(3, 4)
    with pytest.raises(ValueError, match="LSTMCell: Expected input to be 1D or 2D, got 3D instead"):
        cell(ember.zeros(1, 2, 3))
    with pytest.raises(RuntimeError, match="input has inconsistent input_size: got 5 expected 3"):
        cell(ember.zeros(2, 5))
    with pytest.raises(RuntimeError, match="Input batch size 2 doesn't match hidden0 batch size 3"):
        cell(ember.zeros(2, 3), (ember.zeros(3, 4), ember.zeros(3, 4)))
    with pytest.raises(ValueError, match="RNNCell: Expected hidden to be 1D or 2D"):
        nn.RNNCell(3, 4)(ember.zeros(2, 3), ember.zeros(1, 2, 4))


def test_rnn_errors():
    with pytest.raises(ValueError, match="Unknown nonlinearity 'sigmoid'"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="dropout should be a number in range"):
        nn.LSTM(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM"):
        nn.GRU(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="hidden_size must be greater than zero"):
        nn.GRU(3, 0)
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.GRU(3, 4, dropout=0.2)
    for cls in (nn.RNN, nn.LSTM, nn.GRU):  # PyTorch's words for an empty padded sequence
        with pytest.raises(RuntimeError, match="Expected sequence length to be larger than 0 in RNN"):
            cls(3, 4)(ember.zeros(0, 2, 3))


@pytest.mark.parametrize("mode", list(MODES))
def test_empty_batch_gives_empty_outputs_and_zero_gradients(mode):
    # As PyTorch: a batch of no sequences runs (the layer nodes take 0 rows per step).
    cls, kw = MODES[mode]
    m = cls(3, 4, num_layers=2, bidirectional=True, **kw)
    x = ember.zeros(5, 0, 3, requires_grad=True)
    out, finals = m(x)
    finals = finals if mode == "lstm" else (finals,)
    assert out.shape == (5, 0, 8) and all(f.shape == (4, 0, 4) for f in finals)
    (out.sum() + sum(f.sum() for f in finals)).backward()
    assert x.grad.shape == (5, 0, 3)
    for p in m.parameters():
        np.testing.assert_array_equal(np_(p.grad), 0)
    m = nn.LSTM(3, 4, num_layers=2)
    with pytest.raises(ValueError, match="LSTM: Expected input to be 2D or 3D, got 4D instead"):
        m(ember.zeros(1, 2, 3, 3))
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size. Expected 3, got 5"):
        m(ember.zeros(2, 2, 5))
    with pytest.raises(
        RuntimeError, match=r"Expected hidden\[0\] size \(2, 2, 4\), got \[1, 2, 4\]"
    ):  # PyTorch's words
        m(ember.zeros(5, 2, 3), (ember.zeros(1, 2, 4), ember.zeros(2, 2, 4)))
    with pytest.raises(RuntimeError, match="For batched 3-D input, hx and cx should also be 3-D"):
        m(ember.zeros(5, 2, 3), (ember.zeros(2, 4), ember.zeros(2, 4)))
    with pytest.raises(RuntimeError, match="For unbatched 2-D input, hx should also be 2-D but got 3-D tensor"):
        nn.RNN(3, 4)(ember.zeros(5, 3), ember.zeros(1, 1, 4))
    with pytest.raises(ValueError, match="RNN input dtype"):
        nn.RNN(3, 4)(ember.zeros(5, 2, 3, dtype=ember.float64))


# ---------------------------------------------------------------------------------------------------------------------
# packed sequences


def test_pad_sequence_right_left_and_batch_first():
    seqs = [rng.standard_normal((n, 2)) for n in (3, 1, 2)]
    out = pad_sequence([t64(s) for s in seqs], padding_value=-1.0)
    assert out.shape == (3, 3, 2)
    ref = np.full((3, 3, 2), -1.0)
    for b, s in enumerate(seqs):
        ref[: len(s), b] = s
    np.testing.assert_array_equal(np_(out), ref)
    left = pad_sequence([t64(s) for s in seqs], batch_first=True, padding_side="left")
    ref_left = np.zeros((3, 3, 2))
    for b, s in enumerate(seqs):
        ref_left[b, 3 - len(s) :] = s
    np.testing.assert_array_equal(np_(left), ref_left)
    with pytest.raises(ValueError, match="padding_side"):
        pad_sequence([t64(seqs[0])], padding_side="middle")
    assert [list(s.shape) for s in unpad_sequence(out, ember.tensor([3, 1, 2]))] == [[3, 2], [1, 2], [2, 2]]


def test_pack_padded_layout_and_roundtrip():
    x = np.arange(4 * 3, dtype=np.float64).reshape(4, 3)  # (T, B): value 3 * t + b
    packed = pack_padded_sequence(t64(x), [4, 2, 1])
    assert isinstance(packed, PackedSequence) and packed.sorted_indices is None
    np.testing.assert_array_equal(np_(packed.data), [0, 1, 2, 3, 4, 6, 9])
    assert packed.batch_sizes.tolist() == [3, 2, 1, 1] and packed.batch_sizes.dtype == ember.int64
    padded, lengths = pad_packed_sequence(packed, padding_value=-1, total_length=5)
    assert lengths.tolist() == [4, 2, 1] and padded.shape == (5, 3)
    ref = np.where(np.arange(5)[:, None] < np.array([4, 2, 1]), np.vstack([x, np.zeros((1, 3))]), -1)
    np.testing.assert_array_equal(np_(padded), ref)
    # unsorted lengths: sorted inside, original order restored on the way out
    unsorted = pack_padded_sequence(t64(x.T), [2, 4, 1], batch_first=True, enforce_sorted=False)
    assert unsorted.sorted_indices.tolist() == [1, 0, 2] and unsorted.unsorted_indices.tolist() == [1, 0, 2]
    back, lengths = pad_packed_sequence(unsorted, batch_first=True)
    assert lengths.tolist() == [2, 4, 1]
    mask = np.arange(4)[None, :] < np.array([2, 4, 1])[:, None]
    np.testing.assert_array_equal(np_(back), np.where(mask, x.T, 0))


def test_pack_sequence_and_unpack_with_gradients():
    seqs = [t64(rng.standard_normal((n, 2)), requires_grad=True) for n in (2, 4, 3)]
    packed = pack_sequence(seqs, enforce_sorted=False)
    back = unpack_sequence(packed)
    for a, b in zip(seqs, back):
        np.testing.assert_array_equal(np_(a), np_(b))
    assert gradcheck(lambda a, b, c: pad_packed_sequence(pack_sequence([a, b, c], enforce_sorted=False))[0], seqs)


def test_pack_errors():
    with pytest.raises(RuntimeError, match="`lengths` array must be sorted in decreasing order"):
        pack_padded_sequence(ember.zeros(3, 2), [1, 3])
    with pytest.raises(RuntimeError, match="Length of all samples has to be greater than 0"):
        pack_padded_sequence(ember.zeros(3, 2), [3, 0])
    with pytest.raises(ValueError, match="Expected total_length to be at least the length of the longest"):
        pad_packed_sequence(pack_padded_sequence(ember.zeros(3, 2), [3, 1]), total_length=2)


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("bidirectional", [False, True])
def test_packed_matches_each_sequence_run_alone(mode, bidirectional):
    cls, kw = MODES[mode]
    m = cls(3, 4, num_layers=2, bidirectional=bidirectional, **kw).double()
    lengths = [3, 5, 1, 4]
    x = rng.standard_normal((5, 4, 3))
    rows = 2 * (2 if bidirectional else 1)
    h0 = tuple(t64(rng.standard_normal((rows, 4, 4))) for _ in range(2 if mode == "lstm" else 1))
    hx = h0 if mode == "lstm" else h0[0]
    packed = pack_padded_sequence(t64(x), lengths, enforce_sorted=False)
    out, hn = m(packed, hx)
    assert isinstance(out, PackedSequence)
    padded, _ = pad_packed_sequence(out)
    hn = hn if mode == "lstm" else (hn,)
    for b, n in enumerate(lengths):
        state = tuple(h[:, b] for h in h0)
        alone, h_alone = m(t64(x[:n, b]), state if mode == "lstm" else state[0])
        np.testing.assert_allclose(np_(padded)[:n, b], np_(alone), rtol=1e-10, atol=1e-12)
        np.testing.assert_array_equal(np_(padded)[n:, b], 0)
        for a, c in zip(hn, h_alone if mode == "lstm" else (h_alone,)):
            np.testing.assert_allclose(np_(a)[:, b], np_(c), rtol=1e-10, atol=1e-12)


def test_packed_gradcheck():
    m = nn.GRU(2, 3, bidirectional=True).double()
    x = t64(rng.standard_normal((3, 3, 2)), requires_grad=True)

    def fn(x):
        out, h = m(pack_padded_sequence(x, [2, 3, 1], enforce_sorted=False))
        return pad_packed_sequence(out)[0], h

    assert gradcheck(fn, (x,))


# ---------------------------------------------------------------------------------------------------------------------
# attention


def np_softmax(s):
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def np_sdpa(q, k, v, mask=None, scale=None):
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    s = q @ np.swapaxes(k, -1, -2) * scale
    if mask is not None:
        s = s + (np.where(mask, 0, -np.inf) if mask.dtype == bool else mask)
    return np_softmax(s) @ v


def test_sdpa_matches_numpy_with_masks():
    q, k, v = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((2, 3, 6, 2))
    for mask in (None, rng.random((4, 6)) < 0.8, rng.standard_normal((3, 1, 6))):
        if mask is not None and mask.dtype == bool:
            mask[:, 0] = True  # every query keeps a key
        got = F.scaled_dot_product_attention(t64(q), t64(k), t64(v), None if mask is None else ember.tensor(mask))
        np.testing.assert_allclose(np_(got), np_sdpa(q, k, v, mask), rtol=1e-10, atol=1e-12)
    causal = F.scaled_dot_product_attention(t64(q), t64(k), t64(v), is_causal=True, scale=0.5)
    np.testing.assert_allclose(np_(causal), np_sdpa(q, k, v, np.tril(np.ones((4, 6), bool)), 0.5), rtol=1e-10)


def test_sdpa_fully_masked_rows_are_zero_with_finite_gradients():
    q = t64(rng.standard_normal((3, 2)), requires_grad=True)
    k = t64(rng.standard_normal((4, 2)), requires_grad=True)
    v = t64(rng.standard_normal((4, 2)), requires_grad=True)
    mask = ember.tensor([[True, False, True, True], [False] * 4, [True] * 4])
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    np.testing.assert_array_equal(np_(out)[1], 0)
    out.sum().backward()
    assert np.isfinite(np_(q.grad)).all() and np.isfinite(np_(v.grad)).all()
    assert gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=mask), (q, k, v))


def test_sdpa_gqa_and_gradcheck():
    q = rng.standard_normal((1, 4, 3, 2))
    k, v = rng.standard_normal((1, 2, 5, 2)), rng.standard_normal((1, 2, 5, 3))
    got = F.scaled_dot_product_attention(t64(q), t64(k), t64(v), enable_gqa=True)
    ref = np_sdpa(q, np.repeat(k, 2, axis=1), np.repeat(v, 2, axis=1))
    np.testing.assert_allclose(np_(got), ref, rtol=1e-10)
    args = [t64(a, requires_grad=True) for a in (q, k, v)]
    assert gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, enable_gqa=True, is_causal=True), args)
    with pytest.raises(RuntimeError, match="Explicit attn_mask should not be set when is_causal=True"):
        F.scaled_dot_product_attention(*args, attn_mask=ember.ones(3, 5), is_causal=True)


def np_mha(q, k, v, p, heads, mask=None):
    """Sequence-first (L, N, E) reference for packed in-projection weights; returns (out, averaged weights)."""
    e = q.shape[-1]
    wq, wk, wv = np.split(p["in_proj_weight"], 3)
    bq, bk, bv = np.split(p["in_proj_bias"], 3)
    qp, kp, vp = q @ wq.T + bq, k @ wk.T + bk, v @ wv.T + bv
    hd = e // heads

    def split(x):  # (L, N, E) -> (N, H, L, hd)
        return x.reshape(x.shape[0], x.shape[1], heads, hd).transpose(1, 2, 0, 3)

    s = split(qp) @ np.swapaxes(split(kp), -1, -2) / math.sqrt(hd)
    if mask is not None:
        s = s + mask
    w = np_softmax(s)
    o = (w @ split(vp)).transpose(2, 0, 1, 3).reshape(q.shape[0], q.shape[1], e)
    return o @ p["out_proj.weight"].T + p["out_proj.bias"], w.mean(1)


def test_mha_matches_numpy_and_masks():
    m = nn.MultiheadAttention(6, 2).double()
    with ember.no_grad():
        m.in_proj_bias.uniform_(-1, 1)
        m.out_proj.bias.uniform_(-1, 1)
    q, k = rng.standard_normal((3, 2, 6)), rng.standard_normal((4, 2, 6))
    kpm = np.array([[False, False, True, False], [False, True, False, False]])
    out, w = m(t64(q), t64(k), t64(k), key_padding_mask=ember.tensor(kpm))
    ref, ref_w = np_mha(q, k, k, params_of(m), 2, np.where(kpm, -np.inf, 0)[:, None, None, :])
    np.testing.assert_allclose(np_(out), ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np_(w), ref_w, rtol=1e-10, atol=1e-12)
    # self-attention (one projection matmul) with a causal float mask, heads not averaged
    causal = nn.Transformer.generate_square_subsequent_mask(3, dtype=ember.float64)
    out, w = m(t64(q), t64(q), t64(q), attn_mask=causal, average_attn_weights=False, is_causal=True)
    ref, _ = np_mha(q, q, q, params_of(m), 2, np_(causal))
    np.testing.assert_allclose(np_(out), ref, rtol=1e-10, atol=1e-12)
    assert w.shape == (2, 2, 3, 3) and np.allclose(np.triu(np_(w)[0, 0], 1), 0)
    out2, none = m(t64(q), t64(q), t64(q), attn_mask=causal, need_weights=False)
    assert none is None
    np.testing.assert_allclose(np_(out2), np_(out), rtol=1e-12)


def test_mha_options_shapes_and_gradcheck():
    m = nn.MultiheadAttention(4, 2, kdim=3, vdim=5, add_bias_kv=True, add_zero_attn=True, batch_first=True).double()
    names = [k for k, _ in m.named_parameters()]
    assert names == ["q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_bias", "bias_k", "bias_v",
                     "out_proj.weight", "out_proj.bias"]  # fmt: skip
    q = t64(rng.standard_normal((2, 3, 4)), requires_grad=True)
    k = t64(rng.standard_normal((2, 4, 3)), requires_grad=True)
    v = t64(rng.standard_normal((2, 4, 5)), requires_grad=True)
    out, w = m(q, k, v)
    assert out.shape == (2, 3, 4) and w.shape == (2, 3, 6)  # 4 keys + bias_k + zero key
    assert gradcheck_module(m, [q, k, v], lambda o: o[0])
    # unbatched
    out, w = m(q[0], k[0], v[0], average_attn_weights=False)
    assert out.shape == (3, 4) and w.shape == (2, 3, 6)


def test_mha_errors():
    m = nn.MultiheadAttention(4, 2)
    x = ember.zeros(3, 2, 4)
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(5, 2)
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        m(x, x, x, is_causal=True)
    with pytest.raises(RuntimeError, match="The shape of the 2D attn_mask is"):
        m(x, x, x, attn_mask=ember.zeros(2, 2))
    with pytest.raises(AssertionError, match="expected `key` and `value` to be 3-D"):
        m(x, x[0], x[0])
    with pytest.raises(AssertionError, match="was expecting embedding dimension of 4, but got 3"):
        m(ember.zeros(3, 2, 3), x, x)
    with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and attn_mask is deprecated"):
        m(x, x, x, key_padding_mask=ember.zeros(2, 3, dtype=ember.bool), attn_mask=ember.zeros(3, 3))
    layer = nn.TransformerEncoderLayer(4, 2, 8)
    with pytest.warns(UserWarning, match="Support for mismatched src_key_padding_mask and src_mask is deprecated"):
        layer(x, src_mask=ember.zeros(3, 3), src_key_padding_mask=ember.zeros(2, 3, dtype=ember.bool))


# ---------------------------------------------------------------------------------------------------------------------
# transformer


def test_transformer_encoder_layer_matches_reference_composition():
    layer = nn.TransformerEncoderLayer(4, 2, dim_feedforward=8, dropout=0.0).double()
    x = t64(rng.standard_normal((3, 2, 4)))
    sa = layer.self_attn(x, x, x, need_weights=False)[0]
    h = layer.norm1(x + sa)
    ref = layer.norm2(h + layer.linear2(F.relu(layer.linear1(h))))
    np.testing.assert_allclose(np_(layer(x)), np_(ref), rtol=1e-12)
    pre = nn.TransformerEncoderLayer(4, 2, 8, 0.0, "gelu", norm_first=True).double()
    h = x + pre.self_attn(pre.norm1(x), pre.norm1(x), pre.norm1(x), need_weights=False)[0]
    ref = h + pre.linear2(F.gelu(pre.linear1(pre.norm2(h))))
    np.testing.assert_allclose(np_(pre(x)), np_(ref), rtol=1e-12)


def test_transformer_layers_gradcheck():
    enc = nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.0, batch_first=True).double()
    x = t64(rng.standard_normal((2, 3, 4)), requires_grad=True)
    kpm = ember.tensor([[False, False, True], [False, False, False]])
    assert gradcheck(lambda x: enc(x, src_key_padding_mask=kpm), (x,))
    dec = nn.TransformerDecoderLayer(4, 2, dim_feedforward=6, dropout=0.0, norm_first=True).double()
    tgt = t64(rng.standard_normal((3, 2, 4)), requires_grad=True)
    mem = t64(rng.standard_normal((5, 2, 4)), requires_grad=True)
    mask = nn.Transformer.generate_square_subsequent_mask(3, dtype=ember.float64)
    assert gradcheck(lambda t, m: dec(t, m, tgt_mask=mask, tgt_is_causal=True), (tgt, mem))


def test_transformer_structure_and_shapes():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=16)
    keys = list(model.state_dict())
    assert keys[0] == "encoder.layers.0.self_attn.in_proj_weight" and "decoder.norm.bias" in keys
    assert "decoder.layers.0.multihead_attn.out_proj.weight" in keys and "encoder.norm.weight" in keys
    assert model.encoder.layers[0].linear1.weight is not model.encoder.layers[1].linear1.weight
    out = model(ember.randn(5, 2, 8), ember.randn(4, 2, 8), tgt_mask=model.generate_square_subsequent_mask(4))
    assert out.shape == (4, 2, 8)
    mask = nn.Transformer.generate_square_subsequent_mask(3)
    np.testing.assert_array_equal(np_(mask), np.triu(np.full((3, 3), -np.inf), 1))
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        model(ember.randn(5, 2, 8), ember.randn(4, 3, 8))
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 2, enable_nested_tensor=False)
    assert enc(ember.randn(5, 2, 8), mask=nn.Transformer.generate_square_subsequent_mask(5)).shape == (5, 2, 8)


# ---------------------------------------------------------------------------------------------------------------------
# embedding bag


def np_bags(weight, idx, offsets, mode, psw=None, padding_idx=None):
    ends = list(offsets[1:]) + [len(idx)]
    out = np.zeros((len(offsets), weight.shape[1]))
    for b, (s, e) in enumerate(zip(offsets, ends)):
        keep = [i for i in range(s, e) if idx[i] != padding_idx]
        if not keep:
            continue
        rows = weight[idx[keep]] * (psw[keep, None] if psw is not None else 1)
        out[b] = {"sum": rows.sum(0), "mean": rows.mean(0), "max": rows.max(0)}[mode]
    return out


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_matches_numpy_and_gradcheck(mode):
    w = rng.standard_normal((6, 3))
    idx = np.array([1, 2, 5, 5, 0, 3, 1])
    offsets = np.array([0, 3, 3, 5])
    for pad in (None, 5):
        got = F.embedding_bag(ember.tensor(idx), t64(w), ember.tensor(offsets), mode=mode, padding_idx=pad)
        np.testing.assert_allclose(np_(got), np_bags(w, idx, offsets, mode, padding_idx=pad), rtol=1e-12)
    wt = t64(w, requires_grad=True)
    assert gradcheck(lambda w: F.embedding_bag(ember.tensor(idx), w, ember.tensor(offsets), mode=mode), (wt,))
    # 2-D input: fixed-size bags
    idx2 = np.array([[0, 2], [4, 4], [1, 3]])
    got = nn.EmbeddingBag.from_pretrained(t64(w), mode=mode)(ember.tensor(idx2))
    np.testing.assert_allclose(np_(got), np_bags(w, idx2.reshape(-1), np.array([0, 2, 4]), mode), rtol=1e-12)


def test_embedding_bag_per_sample_weights_and_module():
    w = rng.standard_normal((5, 2))
    idx, offsets, psw = np.array([0, 4, 2, 1]), np.array([0, 1]), rng.standard_normal(4)
    bag = nn.EmbeddingBag(5, 2, mode="sum").double()
    bag.load_state_dict({"weight": t64(w)})
    got = bag(ember.tensor(idx), ember.tensor(offsets), t64(psw))
    np.testing.assert_allclose(np_(got), np_bags(w, idx, offsets, "sum", psw), rtol=1e-12)
    args = (t64(w, requires_grad=True), t64(psw, requires_grad=True))
    assert gradcheck(lambda w, p: F.embedding_bag(ember.tensor(idx), w, ember.tensor(offsets), None, mode="sum",
                                                  per_sample_weights=p), args)  # fmt: skip
    last = F.embedding_bag(ember.tensor(idx), t64(w), ember.tensor([0, 1, 4]), include_last_offset=True)
    np.testing.assert_allclose(np_(last), np_bags(w, idx, np.array([0, 1]), "mean"), rtol=1e-12)
    assert repr(nn.EmbeddingBag(5, 2, padding_idx=0)) == "EmbeddingBag(5, 2, mode=mean, padding_idx=0)"
    assert np.all(np_(nn.EmbeddingBag(5, 2, padding_idx=0).weight)[0] == 0)


def test_embedding_bag_errors():
    w = ember.randn(5, 2)
    with pytest.raises(NotImplementedError, match="per_sample_weights is only supported for mode='sum'"):
        F.embedding_bag(ember.tensor([0, 1]), w, ember.tensor([0]), per_sample_weights=ember.ones(2))
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
        F.embedding_bag(ember.tensor([0, 1]), w)
    with pytest.raises(ValueError, match="if input is 2D, then offsets has to be None"):
        F.embedding_bag(ember.tensor([[0, 1]]), w, ember.tensor([0]))
    with pytest.raises(ValueError, match="mode has to be one of sum, mean or max"):
        F.embedding_bag(ember.tensor([[0, 1]]), w, mode="min")
    with pytest.raises(RuntimeError, match="offsets\\[0\\] has to be 0"):
        F.embedding_bag(ember.tensor([0, 1]), w, ember.tensor([1]))
    with pytest.raises(RuntimeError, match=r"Index 1 of input takes value 7 which is not in the valid range \[0, 5\)"):
        F.embedding_bag(ember.tensor([0, 7]), w, ember.tensor([0]))
