"""ember's recurrent and attention layers against PyTorch's: torch's state_dict is loaded into ember's module
(so the parameter names and shapes must agree), then outputs, input gradients and parameter gradients are
compared, over the layers' options. Runs only where PyTorch is importable."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import ember  # noqa: E402

# torch's notes about its own kernels; the mask-dtype deprecation warning is checked in test_rnn_attention.py
pytestmark = pytest.mark.filterwarnings(
    "ignore:LSTM with projections", "ignore:Support for mismatched", "ignore:enable_nested_tensor"
)

DTYPES = {
    "float32": (ember.float32, torch.float32, dict(rtol=2e-4, atol=2e-5)),
    "float64": (ember.float64, torch.float64, dict(rtol=1e-9, atol=1e-11)),
}


def to_np(t):
    return t.detach().numpy()


def flat(out):
    """The tensors of an output: nested tuples, PackedSequence (its data) and None flattened away."""
    if out is None:
        return []
    if hasattr(out, "batch_sizes"):
        return [out.data]
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in flat(o)]
    return [out]


def build_pair(build, dtype):
    em_dtype, t_dtype, _ = DTYPES[dtype]
    torch.manual_seed(0)
    tm = build(torch.nn).to(t_dtype)
    em = build(ember.nn).to(em_dtype)
    assert list(em.state_dict()) == list(tm.state_dict())
    em.load_state_dict({k: ember.tensor(to_np(v)) for k, v in tm.state_dict().items()})
    return em, tm


def compare(em, tm, make_inputs, dtype, call=lambda m, *xs: m(*xs)):
    """make_inputs(lib, T) -> inputs (float tensors made with T require grad); runs both modules, compares
    every output, then backward of a random weighting of the outputs: input and parameter gradients."""
    em_dtype, t_dtype, tol = DTYPES[dtype]
    rng = np.random.default_rng(1)
    arrays = {}

    def make_T(lib, lib_dtype):
        counter = iter(range(100))

        def T(shape_or_array, grad=True):
            key = next(counter)
            if key not in arrays:
                a = shape_or_array if isinstance(shape_or_array, np.ndarray) else rng.standard_normal(shape_or_array)
                arrays[key] = a
            a = arrays[key]
            if a.dtype.kind == "f":
                return lib.tensor(a, dtype=lib_dtype, requires_grad=grad)
            return lib.tensor(a)

        return T

    e_in = make_inputs(ember, make_T(ember, em_dtype))
    t_in = make_inputs(torch, make_T(torch, t_dtype))
    e_out, t_out = flat(call(em, *e_in)), flat(call(tm, *t_in))
    assert len(e_out) == len(t_out)
    for i, (a, b) in enumerate(zip(e_out, t_out)):
        assert tuple(a.shape) == tuple(b.shape), f"output {i}"
        np.testing.assert_allclose(to_np(a), to_np(b), err_msg=f"output {i}", **tol)
    weights = [rng.standard_normal(tuple(b.shape)) for b in t_out]
    sum((a * ember.tensor(w, dtype=em_dtype)).sum() for a, w in zip(e_out, weights) if a.requires_grad).backward()
    sum((b * torch.tensor(w, dtype=t_dtype)).sum() for b, w in zip(t_out, weights) if b.requires_grad).backward()
    for (name, pe), (_, pt) in zip(em.named_parameters(), tm.named_parameters()):
        if pt.grad is None:
            assert pe.grad is None or not np.any(to_np(pe.grad)), name
            continue
        np.testing.assert_allclose(to_np(pe.grad), to_np(pt.grad), err_msg=f"grad of {name}", **tol)
    for i, (a, b) in enumerate(zip(flat(e_in), flat(t_in))):
        if getattr(b, "requires_grad", False) and b.is_leaf:
            np.testing.assert_allclose(to_np(a.grad), to_np(b.grad), err_msg=f"grad of input {i}", **tol)


# ---------------------------------------------------------------------------------------------------------------------
# recurrent layers

RNN_CASES = [
    ("rnn_tanh", lambda nn: nn.RNN(3, 4)),
    ("rnn_relu_2l_bi", lambda nn: nn.RNN(3, 4, num_layers=2, nonlinearity="relu", bidirectional=True)),
    ("rnn_nobias_bf", lambda nn: nn.RNN(3, 4, bias=False, batch_first=True)),
    ("lstm", lambda nn: nn.LSTM(3, 4)),
    ("lstm_2l_bi_bf", lambda nn: nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True)),
    ("lstm_proj", lambda nn: nn.LSTM(3, 5, num_layers=2, proj_size=2, bidirectional=True)),
    ("lstm_nobias", lambda nn: nn.LSTM(3, 4, bias=False)),
    ("gru", lambda nn: nn.GRU(3, 4)),
    ("gru_3l_bi", lambda nn: nn.GRU(3, 4, num_layers=3, bidirectional=True)),
    ("gru_nobias_bf", lambda nn: nn.GRU(3, 4, bias=False, batch_first=True, num_layers=2)),
]


def _state_shapes(m, batch):
    rows = m.num_layers * (2 if m.bidirectional else 1)
    h = m.proj_size if getattr(m, "proj_size", 0) else m.hidden_size
    return [(rows, batch, h), (rows, batch, m.hidden_size)] if m.mode == "LSTM" else [(rows, batch, h)]


def _hx(m, T, batch, unbatched=False):
    shapes = _state_shapes(m, batch)
    states = [T(s[:1] + s[2:] if unbatched else s) for s in shapes]
    return tuple(states) if m.mode == "LSTM" else states[0]


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("with_h0", [False, True])
@pytest.mark.parametrize("case,build", RNN_CASES, ids=[c[0] for c in RNN_CASES])
def test_rnn_padded(case, build, with_h0, dtype):
    em, tm = build_pair(build, dtype)
    shape = (2, 5, 3) if em.batch_first else (5, 2, 3)

    def inputs(lib, T):
        x = T(shape)
        return (x, _hx(em, T, 2)) if with_h0 else (x,)

    compare(em, tm, inputs, dtype)


@pytest.mark.parametrize("case,build", RNN_CASES, ids=[c[0] for c in RNN_CASES])
def test_rnn_unbatched(case, build):
    em, tm = build_pair(build, "float64")
    compare(em, tm, lambda lib, T: (T((4, 3)), _hx(em, T, 1, unbatched=True)), "float64")


@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("case,build", RNN_CASES, ids=[c[0] for c in RNN_CASES])
def test_rnn_packed(case, build, enforce_sorted):
    em, tm = build_pair(build, "float64")
    lengths = [5, 3, 3, 1] if enforce_sorted else [3, 5, 1, 3]
    shape = (4, 5, 3) if em.batch_first else (5, 4, 3)

    def inputs(lib, T):
        x = T(shape)
        packed = lib.nn.utils.rnn.pack_padded_sequence(x, lengths, em.batch_first, enforce_sorted)
        return packed, _hx(em, T, 4)

    def call(m, packed, hx):
        out, h = m(packed, hx)
        lib = ember if isinstance(m, ember.nn.Module) else torch
        padded, lens = lib.nn.utils.rnn.pad_packed_sequence(out, batch_first=em.batch_first, total_length=6)
        return padded, h

    compare(em, tm, inputs, "float64", call)


CELLS = [
    ("rnn_cell", lambda nn: nn.RNNCell(3, 4)),
    ("rnn_cell_relu_nobias", lambda nn: nn.RNNCell(3, 4, bias=False, nonlinearity="relu")),
    ("lstm_cell", lambda nn: nn.LSTMCell(3, 4)),
    ("gru_cell", lambda nn: nn.GRUCell(3, 4)),
    ("gru_cell_nobias", lambda nn: nn.GRUCell(3, 4, bias=False)),
]


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("case,build", CELLS, ids=[c[0] for c in CELLS])
def test_cells(case, build, dtype):
    em, tm = build_pair(build, dtype)
    lstm = "lstm" in case

    def inputs(lib, T):
        return T((2, 3)), ((T((2, 4)), T((2, 4))) if lstm else T((2, 4)))

    compare(em, tm, inputs, dtype)
    compare(em, tm, lambda lib, T: (T((3,)),), dtype)  # unbatched, zero state


def test_pack_utilities_match_torch():
    rng = np.random.default_rng(0)
    seqs = [rng.standard_normal((n, 2)) for n in (2, 4, 1, 3)]
    for padding_side in ("right", "left"):
        a = ember.nn.utils.rnn.pad_sequence([ember.tensor(s) for s in seqs], True, 0.5, padding_side)
        b = torch.nn.utils.rnn.pad_sequence([torch.tensor(s) for s in seqs], True, 0.5, padding_side)
        np.testing.assert_array_equal(to_np(a), to_np(b))
    pe = ember.nn.utils.rnn.pack_sequence([ember.tensor(s) for s in seqs], enforce_sorted=False)
    pt = torch.nn.utils.rnn.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    for a, b in zip(pe, pt):
        np.testing.assert_array_equal(to_np(a), to_np(b))
    ue, ut = (
        ember.nn.utils.rnn.pad_packed_sequence(pe, padding_value=-2),
        torch.nn.utils.rnn.pad_packed_sequence(pt, padding_value=-2),
    )
    np.testing.assert_array_equal(to_np(ue[0]), to_np(ut[0]))
    np.testing.assert_array_equal(to_np(ue[1]), to_np(ut[1]))


# ---------------------------------------------------------------------------------------------------------------------
# attention

SDPA_CASES = [
    ("plain", {}, None),
    ("causal_scale", {"is_causal": True, "scale": 0.3}, None),
    ("bool_mask_broadcast", {}, "bool"),
    ("float_mask", {}, "float"),
    ("gqa", {"enable_gqa": True}, None),
]


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("case,kw,mask", SDPA_CASES, ids=[c[0] for c in SDPA_CASES])
def test_sdpa(case, kw, mask, dtype):
    em_dtype, t_dtype, tol = DTYPES[dtype]
    rng = np.random.default_rng(2)
    heads_kv = 2 if kw.get("enable_gqa") else 4
    arrays = [rng.standard_normal((2, 4, 3, 5)), rng.standard_normal((2, heads_kv, 6, 5))]
    arrays.append(rng.standard_normal((2, heads_kv, 6, 3)))
    m = None
    if mask == "bool":
        m = rng.random((3, 6)) < 0.6
        m[1] = False  # a fully masked row: zeros, as PyTorch
    elif mask == "float":
        m = rng.standard_normal((4, 1, 6))
    out_g = []
    for lib, d in ((ember, em_dtype), (torch, t_dtype)):
        q, k, v = (lib.tensor(a, dtype=d, requires_grad=True) for a in arrays)
        mask_t = None if m is None else lib.tensor(m, dtype=d) if m.dtype.kind == "f" else lib.tensor(m)
        out = lib.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask_t, **kw)
        (out * lib.tensor(np.linspace(-1, 1, out.numel()).reshape(tuple(out.shape)), dtype=d)).sum().backward()
        out_g.append([out, q.grad, k.grad, v.grad])
    for a, b in zip(*out_g):
        np.testing.assert_allclose(to_np(a), to_np(b), **tol)


MHA_CASES = [
    ("default", lambda nn: nn.MultiheadAttention(8, 2)),
    ("nobias", lambda nn: nn.MultiheadAttention(8, 4, bias=False)),
    ("bias_kv_zero_attn", lambda nn: nn.MultiheadAttention(8, 2, add_bias_kv=True, add_zero_attn=True)),
    ("kdim_vdim", lambda nn: nn.MultiheadAttention(8, 2, kdim=3, vdim=5)),
    ("batch_first", lambda nn: nn.MultiheadAttention(8, 2, batch_first=True)),
]

MHA_CALLS = [
    ("plain", {}),
    ("bool_key_padding", {"key_padding_mask": "kpm_bool"}),
    ("float_key_padding_no_weights", {"key_padding_mask": "kpm_float", "need_weights": False}),
    ("bool_attn_mask_per_head", {"attn_mask": "am3_bool", "average_attn_weights": False}),
    ("float_attn_mask_and_padding", {"attn_mask": "am_float", "key_padding_mask": "kpm_float"}),
    ("causal_self", {"attn_mask": "causal", "is_causal": True, "self": True}),
]


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("call_case,call_kw", MHA_CALLS, ids=[c[0] for c in MHA_CALLS])
@pytest.mark.parametrize("case,build", MHA_CASES, ids=[c[0] for c in MHA_CASES])
def test_multihead_attention(case, build, call_case, call_kw, dtype):
    em, tm = build_pair(build, dtype)
    rng = np.random.default_rng(3)
    n, length, source = 2, 3, 4
    kpm = rng.random((n, source)) < 0.3
    kpm[:, 0] = False
    masks = {
        "kpm_bool": kpm,
        "kpm_float": np.where(kpm, -1e4, rng.standard_normal((n, source))),
        "am3_bool": np.triu(np.ones((n * em.num_heads, length, source), bool), 2),
        "am_float": rng.standard_normal((length, source)),
        "causal": np.triu(np.full((length, length), -np.inf), 1),
    }
    self_attn = call_kw.get("self", False) and em.kdim == em.embed_dim

    def seq(shape):
        return (shape[1], shape[0], shape[2]) if em.batch_first else shape

    def inputs(lib, T):
        q = T(seq((length, n, 8)))
        if self_attn:
            return (q, q, q)
        return (q, T(seq((source, n, em.kdim))), T(seq((source, n, em.vdim))))

    def call(m, q, k, v):
        lib = ember if isinstance(m, ember.nn.Module) else torch
        kw = {}
        for key, value in call_kw.items():
            if key == "self":
                continue
            if isinstance(value, str):
                a = masks[value]
                if value == "causal" and not self_attn:
                    a = np.triu(np.full((length, source), -np.inf), 1)
                value = lib.tensor(a) if a.dtype == bool else lib.tensor(a, dtype=q.dtype)
            kw[key] = value
        if self_attn:
            return m(q, q, q, **kw)
        return m(q, k, v, **kw)

    compare(em, tm, inputs, dtype, call)


def test_multihead_attention_unbatched():
    em, tm = build_pair(lambda nn: nn.MultiheadAttention(6, 3, add_bias_kv=True), "float64")
    compare(em, tm, lambda lib, T: (T((3, 6)), T((5, 6)), T((5, 6))), "float64")


# ---------------------------------------------------------------------------------------------------------------------
# transformer (training mode with dropout 0: PyTorch's eval-mode fast path returns zeros at padded positions)

ENC_CASES = [
    ("post_relu", lambda nn: nn.TransformerEncoderLayer(8, 2, 16, 0.0)),
    ("pre_gelu_bf", lambda nn: nn.TransformerEncoderLayer(8, 2, 16, 0.0, "gelu", norm_first=True, batch_first=True)),
    ("nobias_eps", lambda nn: nn.TransformerEncoderLayer(8, 4, 16, 0.0, bias=False, layer_norm_eps=1e-3)),
    (
        "stack_with_norm",
        lambda nn: nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, 0.0), 2, nn.LayerNorm(8), False),
    ),
]


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("case,build", ENC_CASES, ids=[c[0] for c in ENC_CASES])
def test_transformer_encoder(case, build, masked, dtype):
    em, tm = build_pair(build, dtype)
    batch_first = "bf" in case
    stack = case.startswith("stack")

    def call(m, x):
        lib = ember if isinstance(m, ember.nn.Module) else torch
        if not masked:
            return m(x)
        kpm = lib.tensor([[False, False, False, True, True], [False] * 5])
        causal = lib.nn.Transformer.generate_square_subsequent_mask(5, dtype=x.dtype)
        if stack:
            return m(x, mask=causal, src_key_padding_mask=kpm)
        return m(x, src_mask=causal, src_key_padding_mask=kpm, is_causal=True)

    compare(em, tm, lambda lib, T: (T((2, 5, 8) if batch_first else (5, 2, 8)),), dtype, call)


DEC_CASES = [
    ("post_relu", lambda nn: nn.TransformerDecoderLayer(8, 2, 16, 0.0)),
    ("pre_gelu_bf", lambda nn: nn.TransformerDecoderLayer(8, 2, 16, 0.0, "gelu", norm_first=True, batch_first=True)),
    ("stack", lambda nn: nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16, 0.0), 2, nn.LayerNorm(8))),
]


@pytest.mark.parametrize("case,build", DEC_CASES, ids=[c[0] for c in DEC_CASES])
def test_transformer_decoder(case, build):
    em, tm = build_pair(build, "float64")
    batch_first = "bf" in case

    def call(m, tgt, memory):
        lib = ember if isinstance(m, ember.nn.Module) else torch
        causal = lib.nn.Transformer.generate_square_subsequent_mask(4, dtype=tgt.dtype)
        mem_kpm = lib.tensor([[False, False, True], [False, False, False]])
        return m(tgt, memory, tgt_mask=causal, memory_key_padding_mask=mem_kpm)

    def inputs(lib, T):
        return (T((2, 4, 8) if batch_first else (4, 2, 8)), T((2, 3, 8) if batch_first else (3, 2, 8)))

    compare(em, tm, inputs, "float64", call)


@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer(batch_first):
    em, tm = build_pair(
        lambda nn: nn.Transformer(8, 2, 2, 1, 16, dropout=0.0, activation="gelu", batch_first=batch_first), "float64"
    )

    def call(m, src, tgt):
        tgt_mask = m.generate_square_subsequent_mask(3, dtype=tgt.dtype)
        lib = ember if isinstance(m, ember.nn.Module) else torch
        kpm = lib.tensor([[False, False, False, True], [False] * 4])
        return m(src, tgt, tgt_mask=tgt_mask, src_key_padding_mask=kpm, memory_key_padding_mask=kpm)

    shapes = [(2, 4, 8), (2, 3, 8)] if batch_first else [(4, 2, 8), (3, 2, 8)]
    compare(em, tm, lambda lib, T: tuple(T(s) for s in shapes), "float64", call)


# ---------------------------------------------------------------------------------------------------------------------
# embedding bag

BAG_CASES = [
    ("sum_offsets", {"mode": "sum"}, "offsets"),
    ("mean_offsets_padding", {"mode": "mean", "padding_idx": 2}, "offsets"),
    ("max_offsets", {"mode": "max"}, "offsets"),
    ("sum_2d", {"mode": "sum"}, "2d"),
    ("mean_2d", {"mode": "mean"}, "2d"),
    ("sum_per_sample_weights", {"mode": "sum"}, "psw"),
    ("sum_include_last_offset", {"mode": "sum", "include_last_offset": True}, "last"),
    ("max_norm_int32", {"mode": "max", "max_norm": 1.0}, "int32"),
]


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("case,kw,kind", BAG_CASES, ids=[c[0] for c in BAG_CASES])
def test_embedding_bag(case, kw, kind, dtype):
    em, tm = build_pair(lambda nn: nn.EmbeddingBag(7, 3, **kw), dtype)
    idx = np.array([1, 2, 6, 6, 0, 3, 2, 5])

    def inputs(lib, T):
        if kind == "2d":
            return (lib.tensor(idx.reshape(4, 2)),)
        if kind == "last":
            return (lib.tensor(idx), lib.tensor([0, 3, 3, 8]))
        if kind == "int32":
            return (lib.tensor(idx.astype(np.int32)), lib.tensor(np.array([0, 3, 3, 5], np.int32)))
        offsets = lib.tensor([0, 3, 3, 5])
        if kind == "psw":
            return (lib.tensor(idx), offsets, T((8,)))
        return (lib.tensor(idx), offsets)

    compare(em, tm, inputs, dtype)
