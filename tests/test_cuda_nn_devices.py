"""ember.nn and ember.utils.data on CUDA inputs: the helpers they make (masks, index tensors, paddings, buffers,
materialized lazy parameters, sampler draws) land on the inputs' device, so each call gives on the GPU the
values and gradients it gives on the CPU; and under ember.set_default_device("cuda"), CPU inputs stay on the CPU."""

import copy

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.nn.utils import parametrizations as P
from ember.nn.utils import rnn as rnn_utils
from ember.utils.data import DataLoader, RandomSampler, TensorDataset, WeightedRandomSampler

pytestmark = pytest.mark.cuda

requires_gpu = pytest.mark.skipif(not ember.cuda.is_available(), reason="no CUDA GPU")

rng = np.random.default_rng(0)
X = rng.standard_normal((4, 6))
IMG = rng.standard_normal((2, 3, 5, 6))
SEQ = rng.standard_normal((5, 3, 4))
Q, K = rng.standard_normal((2, 2, 4, 8)), rng.standard_normal((2, 2, 6, 8))
THETA2, THETA3 = rng.standard_normal((2, 2, 3)), rng.standard_normal((2, 3, 4))
GRID = rng.uniform(-1.2, 1.2, (2, 4, 3, 2))
W = rng.standard_normal((10, 3))
LABELS = np.array([[3, 0, -1, 1, 0, 0], [1, 2, 5, -1, 0, 0], [0] * 6, [5, 4, 3, 2, 1, 0]])


def module(build, dev):
    """The module build() makes (seeded, float64), on dev: the same weights on every device."""
    ember.manual_seed(0)
    return build().double().to(dev)


def packed_lstm(T, dev):
    m = module(lambda: nn.LSTM(4, 3, num_layers=2, bidirectional=True), dev)
    packed = rnn_utils.pack_padded_sequence(T(SEQ, True), [3, 5, 2], enforce_sorted=False)
    assert packed.batch_sizes.device.type == "cpu" and packed.sorted_indices.device.type == dev
    out, (h, c) = m(packed)
    padded, lengths = rnn_utils.pad_packed_sequence(out, batch_first=True, padding_value=-1.0, total_length=6)
    assert lengths.device.type == "cpu" and lengths.tolist() == [3, 5, 2]
    return padded, h, c


def sequences(T, dev):
    seqs = [T(SEQ[:n, 0], True) for n in (5, 2, 4)]
    padded = rnn_utils.pad_sequence(seqs, batch_first=True, padding_value=0.5, padding_side="left")
    unpacked = rnn_utils.unpack_sequence(rnn_utils.pack_sequence(seqs, enforce_sorted=False))
    return (padded, *unpacked)


def mha(T, dev):
    m = module(lambda: nn.MultiheadAttention(8, 2, add_bias_kv=True, add_zero_attn=True), dev)
    kpm = T(np.array([[False, False, True, False, False, True], [False] * 6]), dtype=ember.bool)
    q, k = T(Q[0].transpose(1, 0, 2).reshape(4, 2, 8), True), T(K[0].transpose(1, 0, 2).reshape(6, 2, 8), True)
    return m(q, k, k, key_padding_mask=kpm, need_weights=False)[0]


def encoder(T, dev):
    layer = module(lambda: nn.TransformerEncoderLayer(8, 2, dim_feedforward=6, dropout=0.0), dev)
    mask = nn.Transformer.generate_square_subsequent_mask(4, device=dev, dtype=ember.float64)
    assert mask.device.type == dev
    return layer(T(Q[0].transpose(1, 0, 2).reshape(4, 2, 8), True), src_mask=mask)  # is_causal detected


def adaptive(T, dev):
    m = module(lambda: nn.AdaptiveLogSoftmaxWithLoss(6, 10, cutoffs=[3, 6], div_value=2.0), dev)
    out = m(T(X, True), T(np.array([0, 4, 9, 7]), dtype=ember.int64))
    return out.output, out.loss


def orthogonal(T, dev):
    outs = []
    for orth_map in ("matrix_exp", "cayley"):
        lin = module(lambda: nn.Linear(3, 5), dev)
        P.orthogonal(lin, orthogonal_map=orth_map)
        outs.append(lin(T(X[:, :3], True)))
    return tuple(outs)


def spectral(T, dev):
    lin = module(lambda: nn.Linear(6, 4), dev)
    P.spectral_norm(lin)
    return lin(T(X, True))


def lazy(T, dev):
    ember.manual_seed(0)
    lin, bn = nn.LazyLinear(3, device=dev, dtype=ember.float64), nn.LazyBatchNorm1d(device=dev, dtype=ember.float64)
    assert lin.weight.device.type == dev and bn.num_batches_tracked.device.type == dev
    assert copy.deepcopy(lin).weight.device.type == dev
    x = T(X, True)
    bn(lin(x))  # materializes both, initialised from dev's generator: set fixed weights to compare
    assert lin.weight.device.type == bn.running_mean.device.type == bn.weight.device.type == dev
    with ember.no_grad():
        lin.weight.copy_(T(rng_fixed((3, 6))))
        lin.bias.copy_(T(rng_fixed((3,)) + 1))
    return bn(lin(x))


def embedding_bag(T, dev, mode, **kw):
    idx = T(np.array([1, 2, 4, 5, 4, 3, 2, 9, 0]), dtype=ember.int64)
    offsets = T(np.array([0, 2, 2, 6]), dtype=ember.int64)
    return F.embedding_bag(idx, T(W, True), offsets, mode=mode, **kw)


def grouped_mm(T, dev):
    offs = T(np.array([2, 3]), dtype=ember.int32)
    a, b = T(rng_fixed((5, 4)), True), T(rng_fixed((2, 4, 3)), True)
    rows = F.grouped_mm(a, b, offs=offs)  # rows 3:5 are zeros
    cols = F.grouped_mm(T(rng_fixed((2, 3, 4)), True), T(rng_fixed((4, 6)), True), offs=offs)
    return rows, cols


def rng_fixed(shape):
    return np.cos(np.arange(int(np.prod(shape)), dtype=np.float64)).reshape(shape)


def unpool(T, dev):
    x = T(IMG, True)
    out, idx = F.max_pool2d(x, 2, return_indices=True)
    out1, idx1 = F.max_pool1d(x[0], 2, return_indices=True)
    return F.max_unpool2d(out, idx, 2, output_size=(5, 6)), F.max_unpool1d(out1, idx1, 2)


CASES = {
    "multilabel_margin": lambda T, dev: F.multilabel_margin_loss(T(X, True), T(LABELS, dtype=ember.int64)),
    "multi_margin": lambda T, dev: F.multi_margin_loss(
        T(X, True), T(np.array([1, 0, 5, 3]), dtype=ember.int64), p=2, weight=T(np.arange(1.0, 7.0)), reduction="none"
    ),
    "grouped_mm": grouped_mm,
    "max_unpool": unpool,
    "affine_grid_2d": lambda T, dev: F.affine_grid(T(THETA2, True), [2, 3, 4, 5], align_corners=False),
    "affine_grid_3d": lambda T, dev: F.affine_grid(T(THETA3, True), [2, 1, 2, 3, 2], align_corners=True),
    "grid_sample_nearest": lambda T, dev: F.grid_sample(
        T(IMG, True), T(GRID), mode="nearest", padding_mode="zeros", align_corners=False
    ),
    "one_hot": lambda T, dev: F.one_hot(T(np.array([[0, 3], [2, 1]]), dtype=ember.int64), 5),
    "pad_reflect": lambda T, dev: F.pad(T(IMG, True), (2, 1, 1, 3), mode="reflect"),
    "pad_replicate": lambda T, dev: F.pad(T(IMG, True), (1, -1, 2, 0), mode="replicate"),
    "pad_circular": lambda T, dev: F.pad(T(IMG, True), (3, 2, 0, -1), mode="circular"),
    "sdpa_causal": lambda T, dev: F.scaled_dot_product_attention(T(Q, True), T(K, True), T(K, True), is_causal=True),
    "sdpa_bool_mask": lambda T, dev: F.scaled_dot_product_attention(
        T(Q, True), T(K, True), T(K, True), attn_mask=T(rng_fixed((4, 6)) > 0, dtype=ember.bool)
    ),
    "mha_zero_attn_padding": mha,
    "encoder_causal_mask": encoder,
    "embedding_bag_sum": lambda T, dev: embedding_bag(T, dev, "sum", per_sample_weights=T(np.linspace(0.5, 2, 9))),
    "embedding_bag_mean_padding": lambda T, dev: embedding_bag(T, dev, "mean", padding_idx=4),
    "embedding_bag_max_last": lambda T, dev: embedding_bag(T, dev, "max", include_last_offset=True),
    "pack_padded_lstm": packed_lstm,
    "pad_and_pack_sequences": sequences,
    "adaptive_log_softmax": adaptive,
    "orthogonal_wide": orthogonal,
    "spectral_norm": spectral,
    "lazy_linear_batchnorm": lazy,
}


def _flat(out):
    return [o for o in (out if isinstance(out, tuple) else (out,)) if isinstance(o, ember.Tensor)]


def run(case, dev, dtype=ember.float64):
    """The case's outputs and the gradients of its leaves, as numpy, with the inputs made on dev."""
    leaves = []

    def T(a, grad=False, dtype=dtype):
        t = ember.tensor(np.asarray(a), dtype=dtype, device=dev)
        if grad:
            t.requires_grad_(True)
            leaves.append(t)
        return t

    outs = _flat(CASES[case](T, dev))
    assert all(o.device.type == dev for o in outs), [o.device for o in outs]
    differentiable = [o for o in outs if o.requires_grad]
    if differentiable:
        # a weighted sum, so that each output element has its own gradient (a plain sum of a softmax is 0)
        loss = sum((o * ember.tensor(rng_fixed(o.shape), dtype=o.dtype, device=dev)).sum() for o in differentiable)
        loss.backward()
    values = [o.detach().cpu().numpy() for o in outs]
    grads = [None if t.grad is None else t.grad.cpu().numpy() for t in leaves]
    return values, grads


def assert_same(got, expected, rtol=1e-6, atol=1e-9):
    (values, grads), (ref_values, ref_grads) = got, expected
    assert len(values) == len(ref_values) and len(grads) == len(ref_grads)
    for v, r in zip(values, ref_values):
        np.testing.assert_allclose(v, r, rtol=rtol, atol=atol)
    for g, r in zip(grads, ref_grads):
        assert (g is None) == (r is None)
        if g is not None:
            np.testing.assert_allclose(g, r, rtol=rtol, atol=atol)


@requires_gpu
# embedding_bag's max mode: scatter_reduce has no CUDA kernel yet and says so when it falls back to the CPU
@pytest.mark.filterwarnings("ignore:The operator 'scatter_reduce' is not currently supported")
@pytest.mark.parametrize("case", list(CASES))
def test_cuda_inputs_give_the_cpu_values_and_gradients(case):
    assert_same(run(case, "cuda"), run(case, "cpu"))


@requires_gpu
@pytest.mark.parametrize("case", ["multi_margin", "pad_reflect", "sdpa_causal", "embedding_bag_mean_padding"])
def test_float32_cuda_inputs(case):
    assert_same(run(case, "cuda", ember.float32), run(case, "cpu", ember.float32), rtol=1e-4, atol=1e-5)


DEFAULT_DEVICE_CASES = [
    "multilabel_margin",
    "multi_margin",
    "grouped_mm",
    "max_unpool",
    "affine_grid_2d",
    "grid_sample_nearest",
    "one_hot",
    "pad_circular",
    "sdpa_causal",
    "embedding_bag_max_last",
    "pad_and_pack_sequences",
]


@requires_gpu
def test_cpu_inputs_stay_on_the_cpu_under_a_cuda_default_device():
    expected = {case: run(case, "cpu") for case in DEFAULT_DEVICE_CASES}

    def draws():
        ember.manual_seed(3)
        weighted = list(WeightedRandomSampler([0.1, 0.0, 2.0, 1.0], 12))
        return list(RandomSampler(range(20))), list(RandomSampler(range(5), replacement=True)), weighted

    expected_draws = draws()
    ember.set_default_device("cuda")
    try:
        for case in DEFAULT_DEVICE_CASES:
            assert_same(run(case, "cpu"), expected[case])  # run() checks that the outputs are on the CPU
        # the samplers draw on the CPU: the same indices whatever the default device
        assert draws() == expected_draws
        # packing keeps the CPU data's index tensors on the CPU, batch_sizes and lengths included
        packed = rnn_utils.pack_padded_sequence(ember.zeros(4, 2, device="cpu"), [2, 4], enforce_sorted=False)
        assert {t.device.type for t in packed} == {"cpu"}
        padded, lengths = rnn_utils.pad_packed_sequence(packed)
        assert padded.device.type == lengths.device.type == "cpu"
        bn = nn.BatchNorm1d(3, device="cpu")
        assert bn.num_batches_tracked.device.type == "cpu"
    finally:
        ember.set_default_device(None)


@requires_gpu
def test_packed_sequence_moves_with_its_permutations():
    packed = rnn_utils.pack_padded_sequence(ember.tensor(SEQ), [3, 5, 2], enforce_sorted=False)
    assert not packed.is_cuda
    on_gpu = packed.cuda()
    assert on_gpu.is_cuda and on_gpu.data.device.type == "cuda"
    assert on_gpu.sorted_indices.device.type == on_gpu.unsorted_indices.device.type == "cuda"
    assert on_gpu.batch_sizes.device.type == "cpu"
    back = on_gpu.to(dtype=ember.float32).cpu()
    assert not back.is_cuda and back.sorted_indices.device.type == "cpu" and back.data.dtype == ember.float32
    np.testing.assert_array_equal(back.sorted_indices.numpy(), packed.sorted_indices.numpy())
    np.testing.assert_allclose(back.data.numpy(), packed.data.numpy(), rtol=1e-6)


@requires_gpu
def test_data_loading_of_cuda_tensors():
    x, y = ember.tensor(X, device="cuda"), ember.arange(4, device="cuda")
    batches = list(DataLoader(TensorDataset(x, y), batch_size=3))  # the one-index_select fast path
    assert [b[0].device.type for b in batches] == ["cuda", "cuda"]
    np.testing.assert_array_equal(batches[1][0].cpu().numpy(), X[3:])
    np.testing.assert_array_equal(batches[0][1].cpu().numpy(), [0, 1, 2])
    sampler = WeightedRandomSampler(ember.tensor([0.0, 1.0, 0.0, 3.0], device="cuda"), 10)
    assert sampler.weights.device.type == "cuda" and set(sampler) <= {1, 3}


@requires_gpu
def test_initialisers_and_gradient_clipping_on_cuda():
    w = ember.empty(4, 6, device="cuda")
    for init in (nn.init.uniform_, nn.init.normal_, nn.init.trunc_normal_, nn.init.xavier_uniform_):
        init(w)
        assert w.device.type == "cuda" and np.isfinite(w.cpu().numpy()).all()
    nn.init.orthogonal_(w)
    np.testing.assert_allclose((w @ w.t()).cpu().numpy(), np.eye(4), atol=1e-5)
    nn.init.eye_(w)
    np.testing.assert_array_equal(w.cpu().numpy(), np.eye(4, 6))
    nn.init.sparse_(w, 0.5)
    assert ((w.cpu().numpy() == 0).sum(0) >= 2).all()
    # gradients on two devices: one total norm, each gradient scaled on its own device
    a = ember.ones(3, requires_grad=True)
    b = ember.ones(3, device="cuda", requires_grad=True)
    (a.sum() + (2 * b).sum().cpu()).backward()
    total = nn.utils.clip_grad_norm_([a, b], 1.0)
    np.testing.assert_allclose(float(total), np.sqrt(15.0), rtol=1e-6)
    assert b.grad.device.type == "cuda"
    np.testing.assert_allclose(b.grad.cpu().numpy(), 2 / np.sqrt(15.0), rtol=1e-5)


@requires_gpu
def test_spectral_norm_hook_upgrades_an_old_state_dict_on_cuda():
    # one checkpoint (its random start vectors drawn once, on the CPU), loaded on each device
    lin = nn.utils.spectral_norm(module(lambda: nn.Linear(5, 3), "cpu"))
    lin(ember.tensor(X[:, :5]))
    sd = lin.state_dict()
    # a version-0 checkpoint: no weight_v, which the hook solves for from weight_u and the weight
    old = {"bias": sd["bias"], "weight_orig": sd["weight_orig"], "weight_u": sd["weight_u"]}
    old["weight"] = lin.weight.detach()

    def build(dev):
        fresh = nn.utils.spectral_norm(module(lambda: nn.Linear(5, 3), dev))
        fresh.eval().load_state_dict({k: v.to(dev) for k, v in old.items()}, strict=False)
        assert fresh.weight_v.device.type == dev
        return fresh(ember.tensor(np.eye(5), device=dev)).detach().cpu().numpy()

    np.testing.assert_allclose(build("cuda"), build("cpu"), rtol=1e-8, atol=1e-12)


@requires_gpu
@pytest.mark.parametrize("use_reentrant", [False, True])
def test_checkpoint_recomputes_under_the_forwards_cuda_autocast(use_reentrant):
    # the recomputation runs on the GPU's engine thread: it takes the forward's autocast state of every
    # device type, as PyTorch's checkpoint does (it made float32 tensors there and, without reentrance, raised)
    from ember.utils.checkpoint import checkpoint

    block = nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.Linear(8, 4)).cuda()
    x = ember.randn(3, 4, device="cuda", requires_grad=True)
    grads = []
    for wrap in (lambda f, a: f(a), lambda f, a: checkpoint(f, a, use_reentrant=use_reentrant)):
        with ember.autocast("cuda", dtype=ember.bfloat16):
            y = wrap(block, x)
        assert y.dtype == ember.bfloat16
        y.float().square().sum().backward()
        grads.append([x.grad.clone()] + [p.grad.clone() for p in block.parameters()])
        x.grad = None
        block.zero_grad()
    for plain, checkpointed in zip(*grads):
        assert ember.equal(plain, checkpointed)


@requires_gpu
@pytest.mark.parametrize("cast_inputs", [None, ember.float32])
def test_custom_bwd_runs_under_the_forwards_cuda_autocast(cast_inputs):
    seen = []

    class Product(ember.autograd.Function):
        @staticmethod
        @ember.amp.custom_fwd(device_type="cuda", cast_inputs=cast_inputs)
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a @ b

        @staticmethod
        @ember.amp.custom_bwd(device_type="cuda")
        def backward(ctx, grad):
            seen.append((ember.is_autocast_enabled("cuda"), ember.get_autocast_dtype("cuda")))
            a, b = ctx.saved_tensors
            return grad @ b.mT, a.mT @ grad

    a = ember.randn(2, 3, device="cuda", requires_grad=True)
    b = ember.randn(3, 2, device="cuda", requires_grad=True)
    with ember.autocast("cuda", dtype=ember.bfloat16):
        out = Product.apply(a, b)
    assert out.dtype == (ember.bfloat16 if cast_inputs is None else ember.float32)
    out.float().sum().backward()  # outside autocast: the backward gets the forward's state back
    # as PyTorch's: on as in the forward, but off where cast_inputs ran the forward without autocast
    assert seen == [(cast_inputs is None, ember.bfloat16)]
    assert a.grad.shape == a.shape and b.grad.dtype == ember.float32
