"""torch.lstm / gru / rnn_tanh / rnn_relu (padded and packed overloads) and the four *_cell functions
(ember._torch_level_rnn): values and gradients against ember's own nn modules with the same weights,
gradcheck in float64, argument parsing and errors; then parity with PyTorch's functions where PyTorch is
importable."""

import numpy as np
import pytest

import ember
import ember._torch_level_rnn as rnn_functions
from ember._torch_level_rnn import (
    __all__ as RNN_ALL,
)
from ember._torch_level_rnn import (
    gru,
    gru_cell,
    lstm,
    lstm_cell,
    rnn_relu,
    rnn_relu_cell,
    rnn_tanh,
    rnn_tanh_cell,
)
from ember.autograd import gradcheck
from ember.nn.utils.rnn import PackedSequence

try:
    import torch
except ImportError:  # the parity tests below are skipped
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not importable")
pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections")

FUNCTIONS = {"LSTM": lstm, "GRU": gru, "RNN_TANH": rnn_tanh, "RNN_RELU": rnn_relu}
CELLS = {"LSTM": lstm_cell, "GRU": gru_cell, "RNN_TANH": rnn_tanh_cell, "RNN_RELU": rnn_relu_cell}
T, B, I, H = 4, 3, 5, 6  # noqa: E741  (seq_len, batch, input_size, hidden_size)
LENGTHS = [4, 3, 1]  # a packed batch, sorted by decreasing length
BATCH_SIZES = [3, 2, 2, 1]


def module(lib, mode, *args, **kwargs):
    """lib.nn's module for mode (ember's or torch's)."""
    if mode == "LSTM":
        return lib.nn.LSTM(*args, **kwargs)
    if mode == "GRU":
        return lib.nn.GRU(*args, **kwargs)
    return lib.nn.RNN(*args, nonlinearity="tanh" if mode == "RNN_TANH" else "relu", **kwargs)


def cell_module(lib, mode, *args, **kwargs):
    if mode == "LSTM":
        return lib.nn.LSTMCell(*args, **kwargs)
    if mode == "GRU":
        return lib.nn.GRUCell(*args, **kwargs)
    return lib.nn.RNNCell(*args, nonlinearity="tanh" if mode == "RNN_TANH" else "relu", **kwargs)


def leaf(a, dtype=ember.float64):
    return ember.tensor(np.asarray(a), dtype=dtype, requires_grad=True)


def np_(t):
    return t.detach().numpy()


def flat(out):
    if isinstance(out, PackedSequence):
        return [out.data]
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in flat(o)]
    return [out]


def backward_weighted(outputs, seed=3):
    """Backward of a fixed random weighting of every output, so each output's gradient path is exercised."""
    rng = np.random.default_rng(seed)
    total = None
    for o in outputs:
        w = rng.standard_normal(tuple(o.shape))
        term = (o * ember.tensor(w, dtype=o.dtype)).sum()
        total = term if total is None else total + term
    total.backward()


def assert_close(a, b, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(np_(a) if not isinstance(a, np.ndarray) else a, np_(b), rtol=rtol, atol=atol)


def states(mode, rows, batch, hidden, proj=0, seed=1):
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((rows, batch, proj or hidden))
    return [h, rng.standard_normal((rows, batch, hidden))] if mode == "LSTM" else [h]


# ---------------------------------------------------------------------------------------------------------------------
# against ember's nn modules, same weights


CONFIGS = [
    dict(num_layers=1, bidirectional=False, batch_first=False, bias=True),
    dict(num_layers=2, bidirectional=False, batch_first=False, bias=False),
    dict(num_layers=1, bidirectional=True, batch_first=True, bias=True),
    dict(num_layers=2, bidirectional=True, batch_first=True, bias=False),
    dict(num_layers=2, bidirectional=True, batch_first=False, bias=True),
]


def run_module_and_function(mode, config, packed=False, proj=0):
    """(module outputs, function outputs, module leaves' grads, function leaves' grads) for the same data."""
    extra = dict(proj_size=proj) if proj else {}
    m = module(ember, mode, I, H, dtype=ember.float64, **config, **extra)
    rows = config["num_layers"] * (2 if config["bidirectional"] else 1)
    rng = np.random.default_rng(0)
    hs = states(mode, rows, B, H, proj)
    if packed:
        x = rng.standard_normal((sum(LENGTHS), I))
    else:
        x = rng.standard_normal((B, T, I) if config["batch_first"] else (T, B, I))
    mx, mh = leaf(x), [leaf(h) for h in hs]
    fx, fh = leaf(x), [leaf(h) for h in hs]
    fparams = [leaf(np_(p)) for p in m._flat_weights]
    batch_sizes = ember.tensor(BATCH_SIZES)
    m_in = PackedSequence(mx, batch_sizes) if packed else mx
    m_out = m(m_in, tuple(mh) if mode == "LSTM" else mh[0])
    hx = tuple(fh) if mode == "LSTM" else fh[0]
    scalars = (config["bias"], config["num_layers"], 0.0, False, config["bidirectional"])
    if packed:
        f_out = FUNCTIONS[mode](fx, batch_sizes, hx, fparams, *scalars)
    else:
        f_out = FUNCTIONS[mode](fx, hx, fparams, *scalars, config["batch_first"])
    m_flat, f_flat = flat(m_out), flat(f_out)
    backward_weighted(m_flat)
    backward_weighted(f_flat)
    m_grads = [mx.grad, *(h.grad for h in mh), *(p.grad for p in m._flat_weights)]
    f_grads = [fx.grad, *(h.grad for h in fh), *(p.grad for p in fparams)]
    return m_flat, f_out, m_grads, f_grads


@pytest.mark.parametrize("mode", list(FUNCTIONS))
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_padded_matches_module(mode, config):
    m_flat, f_out, m_grads, f_grads = run_module_and_function(mode, config)
    assert isinstance(f_out, tuple) and len(f_out) == (3 if mode == "LSTM" else 2)
    for a, b in zip(m_flat, f_out):
        assert tuple(a.shape) == tuple(b.shape)
        assert_close(a, b)
    for a, b in zip(m_grads, f_grads):
        assert_close(a, b)


@pytest.mark.parametrize("mode", list(FUNCTIONS))
@pytest.mark.parametrize("bidirectional", [False, True])
def test_packed_matches_module(mode, bidirectional):
    config = dict(num_layers=2, bidirectional=bidirectional, batch_first=False, bias=True)
    m_flat, f_out, m_grads, f_grads = run_module_and_function(mode, config, packed=True)
    directions = 2 if bidirectional else 1
    assert tuple(f_out[0].shape) == (sum(LENGTHS), directions * H)
    for a, b in zip(m_flat, f_out):
        assert_close(a, b)
    for a, b in zip(m_grads, f_grads):
        assert_close(a, b)


@pytest.mark.parametrize("packed", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_lstm_projections_match_module(packed, bias):
    config = dict(num_layers=2, bidirectional=True, batch_first=False, bias=bias)
    m_flat, f_out, m_grads, f_grads = run_module_and_function("LSTM", config, packed=packed, proj=2)
    assert tuple(f_out[1].shape) == (4, B, 2) and tuple(f_out[2].shape) == (4, B, H)
    for a, b in zip(m_flat, f_out):
        assert_close(a, b)
    for a, b in zip(m_grads, f_grads):
        assert_close(a, b)


def test_batch_first_output_is_a_view_of_the_right_values():
    m = ember.nn.GRU(I, H, batch_first=True, dtype=ember.float64)
    x = ember.randn(B, T, I, dtype=ember.float64)
    h = ember.zeros(1, B, H, dtype=ember.float64)
    out, h_n = gru(x, h, m._flat_weights, True, 1, 0.0, False, False, True)
    ref, ref_h = m(x, h)
    assert tuple(out.shape) == (B, T, H) and not out.is_contiguous()
    assert_close(ref, out)
    assert_close(ref_h, h_n)


@pytest.mark.parametrize("mode", list(CELLS))
@pytest.mark.parametrize("bias", [True, False])
def test_cells_match_cell_modules(mode, bias):
    m = cell_module(ember, mode, I, H, bias=bias, dtype=ember.float64)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((B, I))
    hs = [rng.standard_normal((B, H)) for _ in range(2 if mode == "LSTM" else 1)]
    mx, mh, fx, fh = leaf(x), [leaf(h) for h in hs], leaf(x), [leaf(h) for h in hs]
    params = [m.weight_ih, m.weight_hh] + ([m.bias_ih, m.bias_hh] if bias else [])
    fparams = [leaf(np_(p)) for p in params]
    ref = m(mx, tuple(mh) if mode == "LSTM" else mh[0])
    out = CELLS[mode](fx, tuple(fh) if mode == "LSTM" else fh[0], *fparams)
    if mode == "LSTM":
        assert isinstance(out, tuple) and len(out) == 2
    for a, b in zip(flat(ref), flat(out)):
        assert_close(a, b)
    backward_weighted(flat(ref))
    backward_weighted(flat(out))
    for a, b in zip([mx, *mh, *params], [fx, *fh, *fparams]):
        assert_close(a.grad, b.grad)


def test_cell_with_only_one_bias():
    w_ih, w_hh, b = (ember.randn(*s, dtype=ember.float64) for s in ((3 * H, I), (3 * H, H), (3 * H,)))
    x, h = ember.randn(B, I, dtype=ember.float64), ember.randn(B, H, dtype=ember.float64)
    zero = ember.zeros(3 * H, dtype=ember.float64)
    assert_close(gru_cell(x, h, w_ih, w_hh, b, zero), gru_cell(x, h, w_ih, w_hh, b))
    assert_close(gru_cell(x, h, w_ih, w_hh, zero, b), gru_cell(x, h, w_ih, w_hh, None, b))


# ---------------------------------------------------------------------------------------------------------------------
# gradcheck (float64, tiny)


def tiny(shape, seed):
    return leaf(np.random.default_rng(seed).standard_normal(shape) * 0.5)


@pytest.mark.parametrize("mode", list(FUNCTIONS))
def test_gradcheck_padded_two_layers_bidirectional(mode):
    gates = {"LSTM": 4, "GRU": 3}.get(mode, 1)
    x, h = tiny((3, 2, 2), 0), [tiny((4, 2, 2), k + 1) for k in range(2 if mode == "LSTM" else 1)]
    params = []
    for layer in range(2):
        for _ in range(2):
            params += [tiny((gates * 2, 2 if layer == 0 else 4), 10), tiny((gates * 2, 2), 11)]
            params += [tiny((gates * 2,), 12), tiny((gates * 2,), 13)]
    n_h = len(h)

    def fn(x, *rest):
        hx = tuple(rest[:n_h]) if mode == "LSTM" else rest[0]
        return FUNCTIONS[mode](x, hx, list(rest[n_h:]), True, 2, 0.0, True, True, False)

    assert gradcheck(fn, (x, *h, *params))


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_gradcheck_packed(mode):
    gates = 4 if mode == "LSTM" else 3
    x = tiny((4, 2), 0)  # lengths [2, 1, 1]: batch_sizes [3, 1]
    h = [tiny((2, 3, 2), k + 1) for k in range(2 if mode == "LSTM" else 1)]
    params = []
    for _ in range(2):
        params += [tiny((gates * 2, 2), 10), tiny((gates * 2, 2), 11), tiny((gates * 2,), 12), tiny((gates * 2,), 13)]
    n_h = len(h)
    batch_sizes = ember.tensor([3, 1])

    def fn(x, *rest):
        hx = tuple(rest[:n_h]) if mode == "LSTM" else rest[0]
        return FUNCTIONS[mode](x, batch_sizes, hx, list(rest[n_h:]), True, 1, 0.0, False, True)

    assert gradcheck(fn, (x, *h, *params))


@pytest.mark.parametrize("mode", list(CELLS))
def test_gradcheck_cells(mode):
    gates = {"LSTM": 4, "GRU": 3}.get(mode, 1)
    x = tiny((2, 3), 0)
    h = [tiny((2, 2), k + 1) for k in range(2 if mode == "LSTM" else 1)]
    w = [tiny((gates * 2, 3), 5), tiny((gates * 2, 2), 6), tiny((gates * 2,), 7), tiny((gates * 2,), 8)]

    def fn(x, *rest):
        if mode == "LSTM":
            return CELLS[mode](x, rest[:2], *rest[2:])
        return CELLS[mode](x, *rest)

    assert gradcheck(fn, (x, *h, *w))


# ---------------------------------------------------------------------------------------------------------------------
# dropout, argument parsing, errors


def two_layer_gru():
    m = ember.nn.GRU(I, H, 2, dtype=ember.float64)
    x = ember.randn(T, B, I, dtype=ember.float64)
    return m, x, ember.zeros(2, B, H, dtype=ember.float64)


def test_dropout_only_in_training_and_between_layers():
    m, x, h = two_layer_gru()
    p = m._flat_weights
    ref = gru(x, h, p, True, 2, 0.0, False, False, False)
    for out in (gru(x, h, p, True, 2, 0.0, True, False, False), gru(x, h, p, True, 2, 0.7, False, False, False)):
        assert_close(ref[0], out[0])
    dropped = gru(x, h, p, True, 2, 0.7, True, False, False)
    assert not np.allclose(np_(ref[0]), np_(dropped[0]))
    # one layer: no boundary to drop at, and the probability is not even looked at (as ATen)
    one = gru(x, h[:1], p[:4], True, 1, 1.5, True, False, False)
    assert_close(gru(x, h[:1], p[:4], True, 1, 0.0, False, False, False)[0], one[0])
    with pytest.raises(RuntimeError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        gru(x, h, p, True, 2, 1.5, True, False, False)


def test_keyword_arguments_pick_the_overload():
    m, x, h = two_layer_gru()
    p = m._flat_weights
    ref = gru(x, h, p, True, 2, 0.0, False, False, False)
    by_name = gru(
        input=x,
        hx=h,
        params=p,
        has_biases=True,
        num_layers=2,
        dropout=0.0,
        train=False,
        bidirectional=False,
        batch_first=False,
    )
    assert_close(ref[0], by_name[0])
    data = x.reshape(T * B, I)
    sizes = ember.tensor([B] * T)
    packed = gru(
        data=data,
        batch_sizes=sizes,
        hx=h,
        params=tuple(p),
        has_biases=True,
        num_layers=2,
        dropout=0.0,
        train=False,
        bidirectional=False,
    )
    assert_close(ref[0].reshape(T * B, H), packed[0])
    assert_close(ref[1], packed[1])
    mixed = gru(x, h, p, True, 2, dropout=0.0, train=False, bidirectional=False, batch_first=False)
    assert_close(ref[0], mixed[0])


def test_lstm_accepts_list_hx_and_tuple_params():
    m = ember.nn.LSTM(I, H, dtype=ember.float64)
    x, h = ember.randn(T, B, I, dtype=ember.float64), ember.zeros(1, B, H, dtype=ember.float64)
    a = lstm(x, (h, h), m._flat_weights, True, 1, 0.0, False, False, False)
    b = lstm(x, [h, h], tuple(m._flat_weights), True, 1, 0.0, False, False, False)
    for u, v in zip(a, b):
        assert_close(u, v)


def test_stacked_errors():
    m, x, h = two_layer_gru()
    p = m._flat_weights
    with pytest.raises(TypeError, match=r"gru\(\) received an invalid combination of arguments"):
        gru(x, h, p, True, 2, 0.0, False, False)  # 8 arguments fit neither overload
    with pytest.raises(TypeError, match=r"gru\(\) received an invalid combination"):
        gru(x, (h,), p, True, 2, 0.0, False, False, False)
    with pytest.raises(TypeError, match=r"lstm\(\) received an invalid combination"):
        lstm(x, h, p, True, 2, 0.0, False, False, False)
    lm = ember.nn.LSTM(I, H, dtype=ember.float64)
    with pytest.raises(RuntimeError, match="lstm expects two hidden states"):
        lstm(x, (h[:1],), lm._flat_weights, True, 1, 0.0, False, False, False)
    with pytest.raises(RuntimeError, match=r"gru: expected 8 params .* got 7"):
        gru(x, h, p[:-1], True, 2, 0.0, False, False, False)
    with pytest.raises(RuntimeError, match=r"gru: expected 4 params"):
        gru(x, h, p, False, 2, 0.0, False, False, False)
    with pytest.raises(RuntimeError, match=r"params\[5\] \(weight_hh of layer 1\) should have shape \(18, 6\)"):
        gru(x, h, p[:5] + [p[5][:, :5]] + p[6:], True, 2, 0.0, False, False, False)
    with pytest.raises(RuntimeError, match=r"params\[0\] \(weight_ih of layer 0\) should have shape \(18, 4\)"):
        gru(x[..., :4], h, p, True, 2, 0.0, False, False, False)
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(2, 3, 6\), got \[1, 3, 6\]"):
        gru(x, h[:1], p, True, 2, 0.0, False, False, False)
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(2, 3, 6\), got \[2, 2, 6\]"):
        gru(x, h[:, :2], p, True, 2, 0.0, False, False, False)
    with pytest.raises(RuntimeError, match="expected hx\\[0\\] to be 3-D"):
        gru(x, h[0], p, True, 2, 0.0, False, False, False)
    with pytest.raises(RuntimeError, match="hx\\[0\\] has dtype"):
        gru(x, h.float(), p, True, 2, 0.0, False, False, False)
    with pytest.raises(RuntimeError, match="to have 3 dimensions, got 2"):
        gru(x[:, 0], h, p, True, 2, 0.0, False, False, False)
    with pytest.raises(RuntimeError, match="Expected sequence length to be larger than 0 in RNN"):
        gru(x[:0], h, p, True, 2, 0.0, False, False, False)
    with pytest.raises(RuntimeError, match="num_layers must be at least 1"):
        gru(x, h, [], True, 0, 0.0, False, False, False)


def test_packed_errors():
    m, x, h = two_layer_gru()
    p = m._flat_weights
    data = x.reshape(T * B, I)[:7]
    with pytest.raises(RuntimeError, match="scalar type Long"):
        gru(data, ember.tensor([3.0, 2.0, 2.0]), h, p, True, 2, 0.0, False, False)
    with pytest.raises(RuntimeError, match="non-increasing"):
        gru(data, ember.tensor([3, 1, 3]), h, p, True, 2, 0.0, False, False)
    with pytest.raises(RuntimeError, match="batch_sizes sum to 6, but the packed data has 7 rows"):
        gru(data, ember.tensor([3, 2, 1]), h, p, True, 2, 0.0, False, False)
    with pytest.raises(RuntimeError, match="to have 2 dimensions, got 3"):
        gru(x, ember.tensor([3, 2, 2]), h, p, True, 2, 0.0, False, False)
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(2, 2, 6\), got \[2, 3, 6\]"):
        gru(data[:5], ember.tensor([2, 2, 1]), h, p, True, 2, 0.0, False, False)


def test_cell_errors():
    w_ih, w_hh = ember.randn(4 * H, I), ember.randn(4 * H, H)
    x, h = ember.randn(B, I), ember.randn(B, H)
    with pytest.raises(RuntimeError, match="lstm_cell expects two hidden states"):
        lstm_cell(x, (h,), w_ih, w_hh)
    with pytest.raises(TypeError, match="must be tuple of Tensors, not Tensor"):
        lstm_cell(x, h, w_ih, w_hh)
    with pytest.raises(TypeError, match="must be Tensor, not tuple"):
        gru_cell(x, (h,), w_ih[: 3 * H], w_hh[: 3 * H])
    with pytest.raises(RuntimeError, match="input has inconsistent input_size: got 4 expected 5"):
        lstm_cell(x[:, :4], (h, h), w_ih, w_hh)
    with pytest.raises(RuntimeError, match="Input batch size 3 doesn't match hidden1 batch size 2"):
        lstm_cell(x, (h, h[:2]), w_ih, w_hh)
    with pytest.raises(RuntimeError, match="hidden0 has inconsistent hidden_size: got 5, expected 6"):
        lstm_cell(x, (h[:, :5], h), w_ih, w_hh)
    with pytest.raises(RuntimeError, match=r"weight_ih first dim must be 3 \* hidden_size = 18, but got 24"):
        gru_cell(x, h, w_ih, w_hh[: 3 * H])
    with pytest.raises(RuntimeError, match=r"weight_hh first dim must be 1 \* hidden_size = 6, but got 24"):
        rnn_tanh_cell(x, h, w_ih[:H], w_hh)
    with pytest.raises(IndexError, match="Dimension out of range"):
        rnn_relu_cell(x[0], h[0], w_ih[:H], w_hh[:H])


def test_public_functions_have_docstrings():
    names = ["lstm", "gru", "rnn_tanh", "rnn_relu"]
    assert sorted(RNN_ALL) == sorted(names + [f"{n}_cell" for n in names])
    for name in RNN_ALL:
        doc = getattr(rnn_functions, name).__doc__
        assert doc and doc.strip(), name


# ---------------------------------------------------------------------------------------------------------------------
# parity with PyTorch's functions


def torch_module_weights(mode, dtype_name, config, proj=0):
    extra = dict(proj_size=proj) if proj else {}
    torch.manual_seed(0)
    tm = module(torch, mode, I, H, **config, **extra).to(getattr(torch, dtype_name))
    return [p.detach().numpy().copy() for p in tm._flat_weights]


def both(arrays, dtype_name):
    """The same arrays as ember and torch leaves."""
    em = [ember.tensor(a, dtype=getattr(ember, dtype_name), requires_grad=True) for a in arrays]
    tt = [torch.tensor(a, dtype=getattr(torch, dtype_name), requires_grad=True) for a in arrays]
    return em, tt


def compare_with_torch(em_out, t_out, em_leaves, t_leaves, dtype_name):
    tol = dict(rtol=1e-9, atol=1e-11) if dtype_name == "float64" else dict(rtol=2e-4, atol=2e-5)
    assert isinstance(em_out, tuple) == isinstance(t_out, tuple)
    em_flat, t_flat = flat(em_out), [t_out] if not isinstance(t_out, tuple) else list(t_out)
    assert len(em_flat) == len(t_flat)
    for a, b in zip(em_flat, t_flat):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(np_(a), b.detach().numpy(), **tol)
    rng = np.random.default_rng(5)
    weights = [rng.standard_normal(tuple(b.shape)) for b in t_flat]
    sum(((a * ember.tensor(w, dtype=a.dtype)).sum() for a, w in zip(em_flat, weights)), ember.tensor(0.0)).backward()
    sum((b * torch.tensor(w, dtype=b.dtype)).sum() for b, w in zip(t_flat, weights)).backward()
    for a, b in zip(em_leaves, t_leaves):
        assert (a.grad is None) == (b.grad is None)
        if b.grad is not None:
            np.testing.assert_allclose(np_(a.grad), b.grad.numpy(), **tol)


PARITY_CONFIGS = [
    dict(num_layers=1, bidirectional=False, batch_first=False, bias=True),
    dict(num_layers=2, bidirectional=False, batch_first=True, bias=True),
    dict(num_layers=1, bidirectional=True, batch_first=False, bias=False),
    dict(num_layers=2, bidirectional=True, batch_first=True, bias=True),
    dict(num_layers=2, bidirectional=True, batch_first=False, bias=False),
]


@needs_torch
@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
@pytest.mark.parametrize("mode", list(FUNCTIONS))
@pytest.mark.parametrize("config", PARITY_CONFIGS, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_padded_parity_with_torch(mode, config, dtype_name):
    params = torch_module_weights(mode, dtype_name, config)
    rows = config["num_layers"] * (2 if config["bidirectional"] else 1)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((B, T, I) if config["batch_first"] else (T, B, I))
    (ex, *eh), (tx, *th) = both([x, *states(mode, rows, B, H)], dtype_name)
    ep, tp = both(params, dtype_name)
    # train=True with dropout=0: the training path, nothing dropped
    scalars = (config["bias"], config["num_layers"], 0.0, True, config["bidirectional"], config["batch_first"])
    em_out = FUNCTIONS[mode](ex, tuple(eh) if mode == "LSTM" else eh[0], ep, *scalars)
    t_out = getattr(torch, mode.lower())(tx, tuple(th) if mode == "LSTM" else th[0], tp, *scalars)
    if config["batch_first"]:
        assert em_out[0].stride() == t_out[0].stride()
    compare_with_torch(em_out, t_out, [ex, *eh, *ep], [tx, *th, *tp], dtype_name)


@needs_torch
@pytest.mark.parametrize("mode", list(FUNCTIONS))
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_packed_parity_with_torch(mode, bidirectional, num_layers):
    config = dict(num_layers=num_layers, bidirectional=bidirectional, bias=True)
    params = torch_module_weights(mode, "float64", config)
    rows = num_layers * (2 if bidirectional else 1)
    x = np.random.default_rng(0).standard_normal((sum(LENGTHS), I))
    (ex, *eh), (tx, *th) = both([x, *states(mode, rows, B, H)], "float64")
    ep, tp = both(params, "float64")
    scalars = (True, num_layers, 0.0, True, bidirectional)
    em_out = FUNCTIONS[mode](ex, ember.tensor(BATCH_SIZES), tuple(eh) if mode == "LSTM" else eh[0], ep, *scalars)
    t_out = getattr(torch, mode.lower())(
        tx, torch.tensor(BATCH_SIZES), tuple(th) if mode == "LSTM" else th[0], tp, *scalars
    )
    compare_with_torch(em_out, t_out, [ex, *eh, *ep], [tx, *th, *tp], "float64")


@needs_torch
@pytest.mark.parametrize("packed", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_lstm_projection_parity_with_torch(packed, bias):
    config = dict(num_layers=2, bidirectional=True, bias=bias)
    params = torch_module_weights("LSTM", "float64", config, proj=2)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((sum(LENGTHS), I) if packed else (T, B, I))
    (ex, *eh), (tx, *th) = both([x, *states("LSTM", 4, B, H, proj=2)], "float64")
    ep, tp = both(params, "float64")
    scalars = (bias, 2, 0.0, False, True)
    if packed:
        em_out = lstm(ex, ember.tensor(BATCH_SIZES), tuple(eh), ep, *scalars)
        t_out = torch.lstm(tx, torch.tensor(BATCH_SIZES), tuple(th), tp, *scalars)
    else:
        em_out = lstm(ex, tuple(eh), ep, *scalars, False)
        t_out = torch.lstm(tx, tuple(th), tp, *scalars, False)
    compare_with_torch(em_out, t_out, [ex, *eh, *ep], [tx, *th, *tp], "float64")


@needs_torch
@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
@pytest.mark.parametrize("mode", list(CELLS))
@pytest.mark.parametrize("biases", ["both", "none", "ih", "hh"])
def test_cell_parity_with_torch(mode, biases, dtype_name):
    torch.manual_seed(0)
    tm = cell_module(torch, mode, I, H)
    weights = [p.detach().numpy().astype(np.float64) for p in (tm.weight_ih, tm.weight_hh, tm.bias_ih, tm.bias_hh)]
    rng = np.random.default_rng(1)
    x = rng.standard_normal((B, I))
    hs = [rng.standard_normal((B, H)) for _ in range(2 if mode == "LSTM" else 1)]
    (ex, *eh), (tx, *th) = both([x, *hs], dtype_name)
    ew, tw = both(weights, dtype_name)
    keep = {"both": (True, True), "none": (False, False), "ih": (True, False), "hh": (False, True)}[biases]
    eb = [b if k else None for b, k in zip(ew[2:], keep)]
    tb = [b if k else None for b, k in zip(tw[2:], keep)]
    em_hx = tuple(eh) if mode == "LSTM" else eh[0]
    t_hx = tuple(th) if mode == "LSTM" else th[0]
    em_out = CELLS[mode](ex, em_hx, ew[0], ew[1], *eb)
    t_out = getattr(torch, mode.lower() + "_cell")(tx, t_hx, tw[0], tw[1], *tb)
    compare_with_torch(em_out, t_out, [ex, *eh, *ew], [tx, *th, *tw], dtype_name)


@needs_torch
def test_error_words_match_torch():
    """The errors ATen raises itself (not its crashes on inconsistent calls) have the same words."""
    cases = [
        ("lstm_cell", lambda lib, x, h, w: lib.lstm_cell(x, (h,), w[0], w[1]), "lstm_cell expects two hidden states"),
        ("lstm_cell", lambda lib, x, h, w: lib.lstm_cell(x[:, :4], (h, h), w[0], w[1]), "input has inconsistent"),
        ("lstm_cell", lambda lib, x, h, w: lib.lstm_cell(x, (h, h[:2]), w[0], w[1]), "doesn't match hidden1"),
        ("lstm_cell", lambda lib, x, h, w: lib.lstm_cell(x, (h[:, :5], h), w[0], w[1]), "hidden0 has inconsistent"),
        ("gru_cell", lambda lib, x, h, w: lib.gru_cell(x, h, w[0], w[1][:18]), "weight_ih first dim must be"),
        (
            "lstm",
            lambda lib, x, h, w: lib.lstm(x[None], (h[None],), [w[0], w[1]], False, 1, 0.0, False, False, False),
            "lstm expects two hidden states",
        ),
        (
            "lstm",
            lambda lib, x, h, w: lib.lstm(
                x[None], (h[None, :].expand(2, B, H),) * 2, [w[0], w[1], w[1], w[1]], False, 2, 1.5, True, False, False
            ),
            "dropout probability has to be between 0 and 1",
        ),
        (
            "lstm",
            lambda lib, x, h, w: lib.lstm(
                x[:0, None], (h[None], h[None]), [w[0], w[1]], False, 1, 0.0, False, False, False
            ),
            "Expected sequence length to be larger than 0",
        ),
    ]
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((B, I)), rng.standard_normal((B, H))]
    weights = [rng.standard_normal((4 * H, I)), rng.standard_normal((4 * H, H))]
    for name, call, words in cases:
        messages = []
        for lib, mod in ((torch, torch), (ember, rnn_functions)):
            x, h = (lib.tensor(a, dtype=lib.float32) for a in arrays)
            w = [lib.tensor(a, dtype=lib.float32) for a in weights]
            with pytest.raises(RuntimeError) as info:
                call(mod, x, h, w)
            messages.append(str(info.value))
        assert words in messages[0] and words in messages[1], (name, messages)
