"""The breadth of ember.nn against torch.nn: the activations, losses, padding, dropout, distance and
normalisation layers composed of other ops, the parameter containers, DataParallel, and nn.utils' weight and
spectral normalisation and parametrize. The same inputs and weights (torch's, loaded through load_state_dict)
must give the same outputs, gradients (inputs, parameters) and buffers; reprs, state_dict keys and error
messages agree. Runs only where PyTorch is importable.
"""

import math
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import ember  # noqa: E402

DTYPES = {
    "float32": (ember.float32, torch.float32, dict(rtol=2e-5, atol=2e-6)),
    "float64": (ember.float64, torch.float64, dict(rtol=1e-10, atol=1e-12)),
}


def to_np(t):
    return t.detach().numpy()


def _tensor(lib, a, dtype, requires_grad):
    if a.dtype.kind in "iub":
        return lib.tensor(a)
    return lib.tensor(a, dtype=dtype, requires_grad=requires_grad)


def _close(a, b, tol, what):
    assert tuple(a.shape) == tuple(b.shape), what
    np.testing.assert_allclose(to_np(a), to_np(b), err_msg=what, **tol)


def _compare(fe, ft, arrays, dtype, grads=None, modules=None, tol=None):
    """fe(*ember tensors) against ft(*torch tensors): values, then the gradients of a random projection of the
    output with respect to the float inputs (all, or those flagged in grads) and the modules' parameters, and
    the modules' buffers and parameters after the call."""
    edtype, tdtype, dtype_tol = DTYPES[dtype]
    tol = tol or dtype_tol
    grads = [a.dtype.kind == "f" for a in arrays] if grads is None else grads
    xe = [_tensor(ember, a, edtype, g) for a, g in zip(arrays, grads)]
    xt = [_tensor(torch, a, tdtype, g) for a, g in zip(arrays, grads)]
    oe, ot = fe(*xe), ft(*xt)
    assert oe.dtype == edtype, oe.dtype
    _close(oe, ot, tol, "output")
    if ot.requires_grad:
        g = np.random.default_rng(2).standard_normal(tuple(ot.shape))
        (oe * ember.tensor(g, dtype=edtype)).sum().backward()
        (ot * torch.tensor(g, dtype=tdtype)).sum().backward()
        for i, (a, b) in enumerate(zip(xe, xt)):
            if b.requires_grad:
                _close(a.grad, b.grad, tol, f"grad of input {i}")
    if modules is not None:
        em, tm = modules
        tparams = dict(tm.named_parameters())
        for n, p in em.named_parameters():
            assert (p.grad is None) == (tparams[n].grad is None), n
            if p.grad is not None:
                _close(p.grad, tparams[n].grad, tol, f"grad of {n}")
            _close(p, tparams[n], tol, f"parameter {n}")
        tbufs = dict(tm.named_buffers())
        for n, b in em.named_buffers():
            _close(b, tbufs[n], tol, f"buffer {n}")


def _load_torch_state(em, tm):
    em.load_state_dict({k: ember.tensor(to_np(v)) for k, v in tm.state_dict().items()})


def _compare_modules(build, arrays, dtype, grads=None, tol=None):
    """build(nn) made with each library (torch's weights loaded into ember's), then compared with _compare."""
    edtype, tdtype, _ = DTYPES[dtype]
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # the hook-based weight_norm's deprecation
        tm = build(torch.nn).to(tdtype)
        em = build(ember.nn).to(edtype)
    assert repr(em) == repr(tm)
    assert list(em.state_dict()) == list(tm.state_dict())
    _load_torch_state(em, tm)
    _compare(em, tm, arrays, dtype, grads, modules=(em, tm), tol=tol)


def _arrays(specs, seed=1):
    """Arrays from specs: a shape (normal values), ("int", low, high, shape), ("sign", shape) for +-1,
    ("pos", shape) for values in [0.1, 2), or an array as is."""
    g = np.random.default_rng(seed)
    out = []
    for s in specs:
        if isinstance(s, np.ndarray):
            out.append(s)
        elif s[0] == "int":
            out.append(g.integers(s[1], s[2], size=s[3]))
        elif s[0] == "sign":
            out.append(np.where(g.random(s[1]) < 0.5, -1.0, 1.0))
        elif s[0] == "pos":
            out.append(g.uniform(0.1, 2.0, size=s[1]))
        else:
            out.append(g.standard_normal(s) * 1.5)
    return out


# ---------------------------------------------------------------------------------------------------------------------
# layers: (id, build(nn), input specs)

ACTIVATIONS = [
    ("mish", lambda nn: nn.Mish(), [(3, 4)]),
    ("hardswish", lambda nn: nn.Hardswish(), [(4, 5)]),
    ("hardsigmoid", lambda nn: nn.Hardsigmoid(), [(4, 5)]),
    ("selu", lambda nn: nn.SELU(), [(3, 4)]),
    ("celu", lambda nn: nn.CELU(0.7), [(3, 4)]),
    ("prelu_shared", lambda nn: nn.PReLU(), [(2, 3, 4)]),
    ("prelu_channels", lambda nn: nn.PReLU(3, init=0.1), [(2, 3, 4)]),
    ("prelu_channels_2d", lambda nn: nn.PReLU(3), [(5, 3)]),
    ("rrelu_eval", lambda nn: nn.RReLU(0.1, 0.3).eval(), [(3, 4)]),
    ("glu", lambda nn: nn.GLU(), [(3, 6)]),
    ("glu_dim0", lambda nn: nn.GLU(0), [(4, 3)]),
    ("softmin", lambda nn: nn.Softmin(dim=1), [(3, 4)]),
    ("softmax2d", lambda nn: nn.Softmax2d(), [(2, 3, 4, 2)]),
    ("softmax2d_unbatched", lambda nn: nn.Softmax2d(), [(3, 4, 2)]),
    ("softsign", lambda nn: nn.Softsign(), [(3, 4)]),
    ("tanhshrink", lambda nn: nn.Tanhshrink(), [(3, 4)]),
    ("softshrink", lambda nn: nn.Softshrink(0.8), [(3, 4)]),
    ("hardshrink", lambda nn: nn.Hardshrink(0.8), [(3, 4)]),
]

PADDING = [
    ("zero1d", lambda nn: nn.ZeroPad1d((2, -1)), [(2, 3, 4)]),
    ("zero2d", lambda nn: nn.ZeroPad2d(1), [(2, 3, 4)]),
    ("zero3d", lambda nn: nn.ZeroPad3d((1, 0, 2, 1, 0, 1)), [(1, 2, 2, 3, 2)]),
    ("constant1d", lambda nn: nn.ConstantPad1d(2, 3.5), [(2, 3)]),
    ("constant2d", lambda nn: nn.ConstantPad2d((1, 2, -1, 1), -1.0), [(2, 3, 4)]),
    ("constant3d", lambda nn: nn.ConstantPad3d(1, 0.5), [(2, 2, 2, 3)]),
    ("reflection1d", lambda nn: nn.ReflectionPad1d((3, 1)), [(2, 3, 5)]),
    ("reflection1d_unbatched_crop", lambda nn: nn.ReflectionPad1d((-1, 2)), [(3, 4)]),
    ("reflection2d", lambda nn: nn.ReflectionPad2d((1, 2, 2, 0)), [(2, 2, 3, 4)]),
    ("reflection3d", lambda nn: nn.ReflectionPad3d(1), [(1, 2, 3, 3, 2)]),
    ("replication1d", lambda nn: nn.ReplicationPad1d((3, 1)), [(2, 3, 2)]),
    ("replication2d", lambda nn: nn.ReplicationPad2d((1, -1, 3, 2)), [(2, 3, 4)]),
    ("replication3d", lambda nn: nn.ReplicationPad3d((2, 1, 0, 1, 1, 2)), [(1, 2, 2, 3, 2)]),
    ("circular1d", lambda nn: nn.CircularPad1d((2, 3)), [(2, 3, 4)]),
    ("circular1d_crop", lambda nn: nn.CircularPad1d((-1, 2)), [(2, 3, 4)]),
    ("circular2d", lambda nn: nn.CircularPad2d((1, 2, 2, 0)), [(2, 2, 3, 4)]),
    ("circular3d", lambda nn: nn.CircularPad3d(1), [(2, 2, 3, 2)]),
]

OTHER_LAYERS = [
    ("dropout1d_eval", lambda nn: nn.Dropout1d(0.3).eval(), [(2, 3, 4)]),
    ("dropout2d_eval", lambda nn: nn.Dropout2d(0.3).eval(), [(2, 3, 4, 2)]),
    ("dropout3d_eval", lambda nn: nn.Dropout3d(0.3).eval(), [(2, 3, 2, 2, 2)]),
    ("alpha_dropout_eval", lambda nn: nn.AlphaDropout(0.3).eval(), [(3, 4)]),
    ("feature_alpha_dropout_eval", lambda nn: nn.FeatureAlphaDropout(0.3).eval(), [(2, 3, 4)]),
    ("dropout_p0", lambda nn: nn.Dropout2d(0.0), [(2, 3, 4, 2)]),
    ("rms_norm", lambda nn: nn.RMSNorm(4), [(3, 4)]),
    ("rms_norm_2d_eps", lambda nn: nn.RMSNorm((3, 4), eps=1e-3), [(2, 3, 4)]),
    ("rms_norm_no_affine", lambda nn: nn.RMSNorm([4], elementwise_affine=False), [(2, 3, 4)]),
    ("local_response_norm_3d", lambda nn: nn.LocalResponseNorm(3, alpha=0.5, beta=0.6, k=2.0), [(2, 5, 4)]),
    ("local_response_norm_4d_even", lambda nn: nn.LocalResponseNorm(2, alpha=0.3), [(2, 4, 3, 2)]),
    ("local_response_norm_5d", lambda nn: nn.LocalResponseNorm(4, alpha=0.2), [(1, 5, 2, 2, 3)]),
    ("batch_norm3d", lambda nn: nn.BatchNorm3d(3), [(2, 3, 2, 3, 2)]),
    ("batch_norm3d_eval", lambda nn: nn.BatchNorm3d(3, momentum=None).eval(), [(2, 3, 2, 2, 2)]),
    ("channel_shuffle", lambda nn: nn.ChannelShuffle(2), [(2, 6, 3)]),
    ("channel_shuffle_4d", lambda nn: nn.ChannelShuffle(3), [(1, 6, 2, 2)]),
    ("cosine_similarity", lambda nn: nn.CosineSimilarity(), [(3, 4), (3, 4)]),
    ("cosine_similarity_broadcast", lambda nn: nn.CosineSimilarity(dim=-1, eps=1e-3), [(2, 3, 4), (3, 4)]),
    ("pairwise_distance", lambda nn: nn.PairwiseDistance(), [(3, 4), (3, 4)]),
    ("pairwise_distance_p1_keepdim", lambda nn: nn.PairwiseDistance(1.0, 1e-3, keepdim=True), [(3, 4), (4,)]),
    ("pairwise_distance_pinf", lambda nn: nn.PairwiseDistance(float("inf")), [(3, 4), (3, 4)]),
    ("data_parallel", lambda nn: nn.DataParallel(nn.Linear(4, 3)), [(5, 4)]),
    ("data_parallel_mlp", lambda nn: nn.DataParallel(nn.Sequential(nn.Linear(4, 3), nn.Mish())), [(5, 4)]),
]


def _weight_norm(nn, module, **kw):
    return nn.utils.weight_norm(module, **kw)


NORMALISED_LAYERS = [
    ("weight_norm_hook", lambda nn: nn.utils.weight_norm(nn.Linear(4, 3)), [(5, 4)]),
    ("weight_norm_hook_dim1", lambda nn: nn.utils.weight_norm(nn.Linear(4, 3), dim=1), [(5, 4)]),
    ("weight_norm_hook_whole", lambda nn: nn.utils.weight_norm(nn.Linear(4, 3), dim=None), [(5, 4)]),
    ("weight_norm_hook_conv", lambda nn: nn.utils.weight_norm(nn.Conv2d(2, 3, 2)), [(1, 2, 4, 4)]),
    ("weight_norm", lambda nn: nn.utils.parametrizations.weight_norm(nn.Linear(4, 3)), [(5, 4)]),
    ("weight_norm_dim1", lambda nn: nn.utils.parametrizations.weight_norm(nn.Linear(4, 3), dim=1), [(5, 4)]),
    ("weight_norm_conv", lambda nn: nn.utils.parametrizations.weight_norm(nn.Conv2d(2, 3, 2)), [(1, 2, 4, 4)]),
    ("spectral_norm_hook", lambda nn: nn.utils.spectral_norm(nn.Linear(4, 3)), [(5, 4)]),
    ("spectral_norm_hook_eval", lambda nn: nn.utils.spectral_norm(nn.Linear(4, 3)).eval(), [(5, 4)]),
    (
        "spectral_norm_hook_conv",
        lambda nn: nn.utils.spectral_norm(nn.Conv2d(2, 3, 2), n_power_iterations=3),
        [(1, 2, 4, 4)],
    ),
    ("spectral_norm", lambda nn: nn.utils.parametrizations.spectral_norm(nn.Linear(4, 3)), [(5, 4)]),
    ("spectral_norm_eval", lambda nn: nn.utils.parametrizations.spectral_norm(nn.Linear(4, 3)).eval(), [(5, 4)]),
    (
        "spectral_norm_conv_dim1",
        lambda nn: nn.utils.parametrizations.spectral_norm(nn.Conv2d(2, 3, 2), n_power_iterations=2, dim=1),
        [(1, 2, 4, 4)],
    ),
    ("spectral_norm_bias", lambda nn: nn.utils.parametrizations.spectral_norm(nn.Linear(4, 3), "bias"), [(5, 4)]),
]

LAYERS = ACTIVATIONS + PADDING + OTHER_LAYERS + NORMALISED_LAYERS


# Two of PyTorch's float64 gradients use a float32 constant: hardsigmoid's backward multiplies by 1.0f / 6.0f,
# celu's by 1 / alpha computed as alpha.toFloat(). ember's are exact, so these compare at float32's precision.
FLOAT32_GRADIENT_IN_TORCH = {"hardsigmoid": dict(rtol=1e-7, atol=1e-9), "celu": dict(rtol=1e-7, atol=1e-9)}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, build, specs", LAYERS, ids=[c[0] for c in LAYERS])
def test_layer_matches_torch(name, build, specs, dtype):
    _compare_modules(
        build, _arrays(specs), dtype, tol=FLOAT32_GRADIENT_IN_TORCH.get(name) if dtype == "float64" else None
    )


def test_module_reprs_match_torch():
    def build(nn):
        return nn.Sequential(
            nn.Hardswish(inplace=True),
            nn.Hardsigmoid(inplace=True),
            nn.Mish(inplace=True),
            nn.SELU(True),
            nn.CELU(0.5, inplace=True),
            nn.RReLU(inplace=True),
            nn.PReLU(4),
            nn.GLU(0),
            nn.Softmin(0),
            nn.Softshrink(),
            nn.Hardshrink(1.5),
            nn.AlphaDropout(0.2, inplace=True),
            nn.ZeroPad2d((1, 2, 3, 4)),
            nn.ConstantPad3d(2, 1.5),
            nn.ReflectionPad1d(2),
            nn.ReplicationPad2d(1),
            nn.CircularPad3d((1, 2, 3, 4, 5, 6)),
            nn.RMSNorm(4, eps=1e-5),
            nn.LocalResponseNorm(3),
            nn.ChannelShuffle(2),
            nn.CosineSimilarity(0, 1e-5),
            nn.PairwiseDistance(1.0, keepdim=True),
            nn.KLDivLoss(log_target=True),
            nn.MultiMarginLoss(2, weight=None),
            nn.TripletMarginWithDistanceLoss(margin=0.5),
            nn.TripletMarginLoss(),
            nn.DataParallel(nn.Linear(2, 2)),
        )

    em, tm = build(ember.nn), build(torch.nn)
    assert repr(em) == repr(tm)
    assert list(em.state_dict()) == list(tm.state_dict())


# ---------------------------------------------------------------------------------------------------------------------
# losses: (id, build(nn, T, reduction), input specs, which inputs require grad)


def _multilabel_targets(n, c, seed=4):
    """int64 targets (n, c) for multilabel_margin_loss: distinct classes first, then -1, then junk (ignored)."""
    g = np.random.default_rng(seed)
    t = np.full((n, c), -1)
    for i in range(n):
        k = int(g.integers(0, c + 1))
        t[i, :k] = g.permutation(c)[:k]
        if k + 1 < c:
            t[i, k + 1 :] = g.integers(0, c, size=c - k - 1)
    return t


def _log_probs(shape, seed):
    a = np.random.default_rng(seed).standard_normal(shape)
    return a - np.log(np.exp(a).sum(-1, keepdims=True))


def _weights(n, seed):
    return np.random.default_rng(seed).uniform(0.3, 2.0, size=n)


LOSSES = [
    ("kl_div", lambda nn, T, r: nn.KLDivLoss(reduction=r), [_log_probs((3, 4), 1), ("pos", (3, 4))], [1, 1]),
    (
        "kl_div_zero_target",
        lambda nn, T, r: nn.KLDivLoss(reduction=r),
        [_log_probs((2, 3), 1), np.array([[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])],
        [1, 0],
    ),
    (
        "kl_div_log_target",
        lambda nn, T, r: nn.KLDivLoss(reduction=r, log_target=True),
        [_log_probs((3, 4), 1), _log_probs((3, 4), 2)],
        [1, 1],
    ),
    ("poisson_nll", lambda nn, T, r: nn.PoissonNLLLoss(reduction=r), [(3, 4), ("pos", (3, 4))], [1, 1]),
    (
        "poisson_nll_rate_full",
        lambda nn, T, r: nn.PoissonNLLLoss(log_input=False, full=True, reduction=r),
        [("pos", (3, 4)), np.array([[0.0, 1.0, 2.5, 4.0], [0.5, 3.0, 1.5, 7.0], [2.0, 0.0, 9.0, 1.0]])],
        [1, 0],
    ),
    (
        "gaussian_nll",
        lambda nn, T, r: nn.GaussianNLLLoss(reduction=r),
        [(3, 4), (3, 4), ("pos", (3, 4))],
        [1, 1, 1],
    ),
    (
        "gaussian_nll_full_shared_var",
        lambda nn, T, r: nn.GaussianNLLLoss(full=True, eps=0.5, reduction=r),
        [(3, 4), (3, 4), ("pos", (3, 1))],
        [1, 1, 1],
    ),
    (
        "gaussian_nll_var_one_dim_less",
        lambda nn, T, r: nn.GaussianNLLLoss(reduction=r),
        [(3, 4), (3, 4), ("pos", (3,))],
        [1, 0, 1],
    ),
    (
        "margin_ranking",
        lambda nn, T, r: nn.MarginRankingLoss(0.3, reduction=r),
        [(6,), (6,), ("sign", (6,))],
        [1, 1, 0],
    ),
    ("hinge_embedding", lambda nn, T, r: nn.HingeEmbeddingLoss(1.5, reduction=r), [(3, 4), ("sign", (3, 4))], [1, 0]),
    ("soft_margin", lambda nn, T, r: nn.SoftMarginLoss(reduction=r), [(3, 4), ("sign", (3, 4))], [1, 0]),
    (
        "multilabel_soft_margin",
        lambda nn, T, r: nn.MultiLabelSoftMarginLoss(reduction=r),
        [(3, 4), ("int", 0, 2, (3, 4))],
        [1, 0],
    ),
    (
        "multilabel_soft_margin_weight",
        lambda nn, T, r: nn.MultiLabelSoftMarginLoss(T(_weights(4, 5)), reduction=r),
        [(3, 4), ("pos", (3, 4))],
        [1, 1],
    ),
    (
        "multilabel_margin",
        lambda nn, T, r: nn.MultiLabelMarginLoss(reduction=r),
        [(5, 4), _multilabel_targets(5, 4)],
        [1, 0],
    ),
    (
        "multilabel_margin_unbatched",
        lambda nn, T, r: nn.MultiLabelMarginLoss(reduction=r),
        [(4,), np.array([3, 0, -1, 1])],
        [1, 0],
    ),
    ("multi_margin", lambda nn, T, r: nn.MultiMarginLoss(reduction=r), [(5, 4), ("int", 0, 4, (5,))], [1, 0]),
    (
        "multi_margin_p2_weight",
        lambda nn, T, r: nn.MultiMarginLoss(p=2, margin=0.7, weight=T(_weights(4, 6)), reduction=r),
        [(5, 4), ("int", 0, 4, (5,))],
        [1, 0],
    ),
    ("multi_margin_unbatched", lambda nn, T, r: nn.MultiMarginLoss(reduction=r), [(4,), np.array(2)], [1, 0]),
    (
        "cosine_embedding",
        lambda nn, T, r: nn.CosineEmbeddingLoss(0.2, reduction=r),
        [(5, 3), (5, 3), ("sign", (5,))],
        [1, 1, 0],
    ),
    (
        "cosine_embedding_unbatched",
        lambda nn, T, r: nn.CosineEmbeddingLoss(reduction=r),
        [(3,), (3,), np.array(-1.0)],
        [1, 1, 0],
    ),
    (
        "triplet_margin",
        lambda nn, T, r: nn.TripletMarginLoss(margin=2.0, reduction=r),
        [(4, 3), (4, 3), (4, 3)],
        [1, 1, 1],
    ),
    (
        "triplet_margin_p1_swap",
        lambda nn, T, r: nn.TripletMarginLoss(margin=3.0, p=1, swap=True, reduction=r),
        [(4, 3), (4, 3), (4, 3)],
        [1, 1, 1],
    ),
    (
        "triplet_distance_default",
        lambda nn, T, r: nn.TripletMarginWithDistanceLoss(margin=2.0, reduction=r),
        [(4, 3), (4, 3), (4, 3)],
        [1, 1, 1],
    ),
    (
        "triplet_distance_cosine_swap",
        lambda nn, T, r: nn.TripletMarginWithDistanceLoss(
            distance_function=lambda a, b: 1.0 - nn.functional.cosine_similarity(a, b),
            margin=0.8,
            swap=True,
            reduction=r,
        ),
        [(4, 3), (4, 3), (4, 3)],
        [1, 1, 1],
    ),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name, build, specs, grads", LOSSES, ids=[c[0] for c in LOSSES])
def test_loss_matches_torch(name, build, specs, grads, reduction, dtype):
    edtype, tdtype, _ = DTYPES[dtype]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # kl_div's note about reduction='mean'
        em = build(ember.nn, lambda a: ember.tensor(a, dtype=edtype), reduction)
        tm = build(torch.nn, lambda a: torch.tensor(a, dtype=tdtype), reduction)
        assert repr(em) == repr(tm)
        assert list(em.state_dict()) == list(tm.state_dict())
        _compare(em, tm, _arrays(specs), dtype, [bool(g) for g in grads])


@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_batchmean_and_legacy_reduction_match_torch(log_target):
    x, t = _log_probs((3, 4), 1), _log_probs((3, 4), 2) if log_target else np.exp(_log_probs((3, 4), 2))
    for kw in (dict(reduction="batchmean"), dict(size_average=False), dict(reduce=False)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)

            def fe(a, b, kw=kw):
                return ember.nn.functional.kl_div(a, b, log_target=log_target, **kw)

            def ft(a, b, kw=kw):
                return torch.nn.functional.kl_div(a, b, log_target=log_target, **kw)

            _compare(fe, ft, [x, t], "float64")


# ---------------------------------------------------------------------------------------------------------------------
# functional forms


def _pad(mode, pad):
    return lambda F: lambda x: F.pad(x, pad, mode=mode)


FUNCTIONALS = [
    ("pad_reflect_2d", _pad("reflect", (2, 1, 1, 2)), [(3, 4, 5)]),
    ("pad_reflect_3d_crop", _pad("reflect", (1, -1, 0, 2, -1, 1)), [(1, 3, 3, 4, 3)]),
    ("pad_replicate_3d", _pad("replicate", (3, 1, 0, 2, 2, 1)), [(2, 2, 3, 2)]),
    ("pad_circular_2d_crop", _pad("circular", (-2, 1, 1, -1)), [(2, 3, 4, 5)]),
    ("pad_circular_full_wrap", _pad("circular", (4, 4)), [(2, 4)]),
    ("pad_reflect_value_0", lambda F: lambda x: F.pad(x, (1, 1), "reflect", 0.0), [(2, 3)]),
    ("hardswish", lambda F: F.hardswish, [np.array([-4.0, -3.0, -1.5, 0.0, 2.0, 3.0, 5.0])]),
    ("hardsigmoid", lambda F: F.hardsigmoid, [np.array([-4.0, -3.0, -1.5, 0.0, 2.0, 3.0, 5.0])]),
    ("softshrink_kinks", lambda F: lambda x: F.softshrink(x, 1.0), [np.array([-2.0, -1.0, 0.3, 1.0, 3.0])]),
    ("hardshrink_kinks", lambda F: lambda x: F.hardshrink(x, 1.0), [np.array([-2.0, -1.0, 0.3, 1.0, 3.0])]),
    ("mish_large", lambda F: F.mish, [np.array([-50.0, -20.0, 0.0, 19.0, 21.0, 60.0])]),
    ("prelu_1d_scalar_weight", lambda F: F.prelu, [(5,), np.array([0.3])]),
    ("prelu_channels", lambda F: F.prelu, [(2, 3, 2), ("pos", (3,))]),
    ("glu_dim1", lambda F: lambda x: F.glu(x, 1), [(2, 4, 3)]),
    ("softmin_dtype", lambda F: lambda x: F.softmin(x, -1, dtype=x.dtype), [(3, 4)]),
    ("rrelu_eval", lambda F: lambda x: F.rrelu(x, 0.2, 0.4), [(3, 4)]),
    ("rms_norm_weight", lambda F: lambda x, w: F.rms_norm(x, (4,), w, 1e-4), [(3, 4), (4,)]),
    ("local_response_norm", lambda F: lambda x: F.local_response_norm(x, 5, 0.5, 0.9, 1.5), [(2, 6, 3)]),
    ("channel_shuffle", lambda F: lambda x: F.channel_shuffle(x, 2), [(2, 4, 3, 2)]),
    # PyTorch has no derivative for native_channel_shuffle: values only
    ("native_channel_shuffle", lambda F: lambda x: F.native_channel_shuffle(x, 4).detach(), [(2, 4, 3)]),
    ("cosine_similarity_zero_vector", lambda F: F.cosine_similarity, [np.zeros((2, 3)), (2, 3)]),
    ("cosine_similarity_dim0", lambda F: lambda a, b: F.cosine_similarity(a, b, 0), [(3,), (3,)]),
    ("pairwise_distance_scalars", lambda F: F.pairwise_distance, [np.array(1.5), np.array(-0.5)]),
    # numpy's keyword names, which PyTorch accepts too
    ("cosine_similarity_axis", lambda F: lambda a, b: F.cosine_similarity(a, b, axis=0), [(3, 4), (3, 4)]),
    ("pairwise_distance_keepdims", lambda F: lambda a, b: F.pairwise_distance(a, b, keepdims=True), [(3, 4), (4,)]),
    ("pdist", lambda F: F.pdist, [(5, 3)]),
    ("pdist_p1", lambda F: lambda x: F.pdist(x, 1.0), [(4, 3)]),
    ("pdist_pinf", lambda F: lambda x: F.pdist(x, float("inf")), [(4, 3)]),
    ("normalize_out", lambda F: lambda x: F.normalize(x, 2.0, 1), [(3, 4)]),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, make, specs", FUNCTIONALS, ids=[c[0] for c in FUNCTIONALS])
def test_functional_matches_torch(name, make, specs, dtype):
    tol = FLOAT32_GRADIENT_IN_TORCH.get(name) if dtype == "float64" else None
    _compare(make(ember.nn.functional), make(torch.nn.functional), _arrays(specs), dtype, tol=tol)


CDIST = [
    ("p2_small", 2.0, "use_mm_for_euclid_dist_if_necessary", [(4, 3), (5, 3)]),
    ("p2_large_uses_mm", 2.0, "use_mm_for_euclid_dist_if_necessary", [(30, 3), (5, 3)]),
    ("p2_mm", 2.0, "use_mm_for_euclid_dist", [(2, 4, 3), (5, 3)]),
    ("p2_no_mm", 2.0, "donot_use_mm_for_euclid_dist", [(30, 3), (26, 3)]),
    ("p1_batched", 1.0, "use_mm_for_euclid_dist_if_necessary", [(2, 4, 3), (2, 5, 3)]),
    ("p0", 0.0, "use_mm_for_euclid_dist_if_necessary", [(4, 3), (5, 3)]),
    ("p3_broadcast", 3.0, "use_mm_for_euclid_dist_if_necessary", [(3, 1, 4, 2), (2, 5, 2)]),
    ("p_inf", float("inf"), "use_mm_for_euclid_dist_if_necessary", [(4, 3), (5, 3)]),
    ("p1_5", 1.5, "use_mm_for_euclid_dist_if_necessary", [(4, 3), (5, 3)]),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, p, mode, specs", CDIST, ids=[c[0] for c in CDIST])
def test_cdist_matches_torch(name, p, mode, specs, dtype):
    def fe(a, b):
        return ember.cdist(a, b, p, mode)

    def ft(a, b):
        return torch.cdist(a, b, p, mode)

    _compare(fe, ft, _arrays(specs), dtype)


def test_cdist_zero_distance_has_zero_gradient_as_torch():
    a = np.array([[0.0, 1.0], [2.0, 2.0]])
    for mode in ("use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist"):
        _compare(
            lambda x, y, m=mode: ember.cdist(x, y, compute_mode=m),
            lambda x, y, m=mode: torch.cdist(x, y, 2.0, m),
            [a, a.copy()],
            "float64",
        )
    assert ember.cosine_similarity is ember.nn.functional.cosine_similarity
    assert ember.pairwise_distance is ember.nn.functional.pairwise_distance
    assert ember.pdist is ember.nn.functional.pdist


def test_inplace_functional_variants_match_torch():
    x = np.random.default_rng(0).standard_normal((3, 4)) * 2
    calls = [
        ("elu_", (0.5,)),
        ("leaky_relu_", (0.2,)),
        ("hardtanh_", (-0.5, 0.7)),
        ("selu_", ()),
        ("celu_", (0.6,)),
        ("rrelu_", (0.1, 0.2)),
        ("threshold_", (0.1, -2.0)),
        ("relu_", ()),
    ]
    for name, args in calls:
        e, t = ember.tensor(x), torch.tensor(x)
        re, rt = getattr(ember.nn.functional, name)(e, *args), getattr(torch.nn.functional, name)(t, *args)
        assert re is e and rt is t, name
        np.testing.assert_allclose(to_np(e), to_np(t), rtol=1e-12, err_msg=name)
    for name in ("mish", "hardswish", "hardsigmoid", "silu", "selu", "celu", "elu"):
        e, t = ember.tensor(x), torch.tensor(x)
        getattr(ember.nn.functional, name)(e, inplace=True)
        getattr(torch.nn.functional, name)(t, inplace=True)
        np.testing.assert_allclose(to_np(e), to_np(t), rtol=1e-12, err_msg=name)


def test_normalize_out_writes_into_out_as_torch():
    x = np.random.default_rng(0).standard_normal((3, 4))
    oe, ot = ember.empty(3, 4, dtype=ember.float64), torch.empty(3, 4, dtype=torch.float64)
    re = ember.nn.functional.normalize(ember.tensor(x), dim=0, out=oe)
    rt = torch.nn.functional.normalize(torch.tensor(x), dim=0, out=ot)
    assert re is oe and rt is ot
    np.testing.assert_allclose(to_np(oe), to_np(ot), rtol=1e-12)


# ---------------------------------------------------------------------------------------------------------------------
# containers, parametrize


def test_parameter_list_and_dict_match_torch():
    def build(lib):
        plist = lib.nn.ParameterList([lib.ones(2, 3), lib.nn.Parameter(lib.zeros(4)), "text"])
        plist.append(lib.ones(1, dtype=lib.float64))
        plist.extend([lib.zeros(2)])
        pdict = lib.nn.ParameterDict({"b": lib.ones(2), "a": lib.zeros(3, 1)})
        pdict["c"] = lib.nn.Parameter(lib.ones(1), requires_grad=False)
        pdict.update([("d", lib.zeros(2, 2)), ("e", 5)])
        holder = lib.nn.Module()
        holder.plist, holder.pdict = plist, pdict
        return holder

    em, tm = build(ember), build(torch)
    assert repr(em) == repr(tm).replace("torch.", "ember.")
    assert list(em.state_dict()) == list(tm.state_dict())
    assert [n for n, _ in em.named_parameters()] == [n for n, _ in tm.named_parameters()]
    assert len(em.plist) == len(tm.plist) == 5 and em.plist[2] == tm.plist[2] == "text"
    assert repr(em.plist[1:4]) == repr(tm.plist[1:4]).replace("torch.", "ember.")
    assert list(em.pdict.keys()) == list(tm.pdict.keys())
    assert em.pdict.popitem()[0] == tm.pdict.popitem()[0] == "e"
    assert list(reversed(em.pdict)) == list(reversed(tm.pdict))
    assert list((em.pdict | ember.nn.ParameterDict({"z": ember.ones(1)})).keys()) == list(
        (tm.pdict | torch.nn.ParameterDict({"z": torch.ones(1)})).keys()
    )
    for lib, m in ((ember, em), (torch, tm)):
        with pytest.raises(RuntimeError, match="ParameterList should not be called."):
            m.plist(lib.ones(1))
        with pytest.raises(RuntimeError, match="ParameterDict should not be called."):
            m.pdict(lib.ones(1))


class _Symmetric:
    """A parametrization written once for both libraries: X -> triu(X) + triu(X, 1)^T."""

    @staticmethod
    def make(lib):
        class Symmetric(lib.nn.Module):
            def forward(self, X):
                return X.triu() + X.triu(1).transpose(-1, -2)

            def right_inverse(self, A):
                return A.triu()

        class Scale(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.s = lib.nn.Parameter(lib.tensor(1.5))

            def forward(self, X):
                return X * self.s

        return Symmetric, Scale


@pytest.mark.parametrize("dtype", DTYPES)
def test_parametrize_matches_torch(dtype):
    edtype, tdtype, tol = DTYPES[dtype]

    def build(lib):
        Symmetric, Scale = _Symmetric.make(lib)
        lib.manual_seed(0)
        m = lib.nn.Linear(3, 3).to(edtype if lib is ember else tdtype)
        P = lib.nn.utils.parametrize
        P.register_parametrization(m, "weight", Symmetric())
        P.register_parametrization(m, "weight", Scale().to(edtype if lib is ember else tdtype))
        return m

    em, tm = build(ember), build(torch)
    assert type(em).__name__ == type(tm).__name__ == "ParametrizedLinear"
    assert repr(em) == repr(tm)
    assert list(em.state_dict()) == list(tm.state_dict())
    _load_torch_state(em, tm)
    _close(em.weight, tm.weight, tol, "parametrized weight")
    _compare(em, tm, _arrays([(4, 3)]), dtype, modules=(em, tm))
    for lib, m in ((ember, em), (torch, tm)):
        P = lib.nn.utils.parametrize
        assert P.is_parametrized(m) and P.is_parametrized(m, "weight") and not P.is_parametrized(m, "bias")
        assert P.type_before_parametrizations(m) is lib.nn.Linear
        with P.cached():
            assert m.weight is m.weight
        assert m.weight is not m.weight
    # assigning goes through right_inverse (Scale has none: an error, in both)
    for lib, m in ((ember, em), (torch, tm)):
        with pytest.raises(RuntimeError, match="parametrization Scale does not implement right_inverse."):
            m.weight = lib.ones(3, 3)
    ember.nn.utils.parametrize.remove_parametrizations(em, "weight", leave_parametrized=True)
    torch.nn.utils.parametrize.remove_parametrizations(tm, "weight", leave_parametrized=True)
    assert type(em) is ember.nn.Linear and type(tm) is torch.nn.Linear
    assert list(em.state_dict()) == list(tm.state_dict()) == ["bias", "weight"]
    _close(em.weight, tm.weight, tol, "weight left parametrized")


def test_parametrize_right_inverse_and_unparametrized_removal_match_torch():
    results = []
    for lib in (ember, torch):
        Symmetric, _ = _Symmetric.make(lib)
        m = lib.nn.Linear(3, 3, bias=False)
        with lib.no_grad():
            m.weight.copy_(lib.arange(9.0).reshape(3, 3))
        P = lib.nn.utils.parametrize
        P.register_parametrization(m, "weight", Symmetric())
        original = m.parametrizations.weight.original
        m.weight = lib.arange(9.0).reshape(3, 3) * 2  # right_inverse: keeps the upper triangle
        assert m.parametrizations.weight.original is original  # set in place
        w = to_np(m.weight).copy()
        P.remove_parametrizations(m, "weight", leave_parametrized=False)
        results.append((w, to_np(m.weight).copy(), isinstance(m.weight, lib.nn.Parameter)))
    (we, oe, pe), (wt, ot, pt) = results
    np.testing.assert_array_equal(we, wt)
    np.testing.assert_array_equal(oe, ot)
    assert pe and pt


def test_weight_norm_state_dict_loads_into_parametrization_as_torch():
    for lib in (ember, torch):
        lib.manual_seed(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            old = lib.nn.utils.weight_norm(lib.nn.Linear(4, 3))
        new = lib.nn.utils.parametrizations.weight_norm(lib.nn.Linear(4, 3))
        new.load_state_dict(old.state_dict())
        x = lib.ones(2, 4)
        np.testing.assert_allclose(to_np(new(x)), to_np(old(x)), rtol=1e-6)
        assert list(new.state_dict()) == [
            "bias",
            "parametrizations.weight.original0",
            "parametrizations.weight.original1",
        ]


def test_spectral_norm_removal_and_weight_match_torch():
    def run(lib):
        lib.manual_seed(0)
        m = lib.nn.utils.spectral_norm(lib.nn.Linear(4, 3).double())
        return m

    em, tm = run(ember), run(torch)
    _load_torch_state(em, tm)
    x = np.random.default_rng(0).standard_normal((2, 4))
    for _ in range(3):  # three training steps of power iteration
        em(ember.tensor(x))
        tm(torch.tensor(x))
    _close(em.weight_u, tm.weight_u, DTYPES["float64"][2], "u")
    ember.nn.utils.remove_spectral_norm(em)
    torch.nn.utils.remove_spectral_norm(tm)
    assert list(em.state_dict()) == list(tm.state_dict())
    assert not em._state_dict_hooks and not em._load_state_dict_pre_hooks
    _close(em.weight, tm.weight, DTYPES["float64"][2], "weight after removal")
    sd = tm.state_dict()
    assert math.isfinite(float(sd["weight"].abs().sum()))


# ---------------------------------------------------------------------------------------------------------------------
# errors


ERRORS = [
    lambda lib: lib.nn.functional.pad(lib.ones(1, 2, 3), (3, 1), mode="reflect"),
    lambda lib: lib.nn.functional.pad(lib.ones(2, 3, 3), (1, 1, 3, 1), mode="reflect"),
    lambda lib: lib.nn.functional.pad(lib.ones(1, 1, 3, 3, 3), (1, 1, 1, 1, 3, 0), mode="reflect"),
    lambda lib: lib.nn.functional.pad(lib.ones(3), (1, 1), mode="replicate"),
    lambda lib: lib.nn.functional.pad(lib.ones(2, 3), (1, 1, 1, 1), mode="circular"),
    lambda lib: lib.nn.functional.pad(lib.ones(1, 2, 3), (4, 4), mode="circular"),
    lambda lib: lib.nn.functional.pad(lib.ones(1, 2, 3), (1, 1), mode="foo"),
    lambda lib: lib.nn.functional.pad(lib.ones(1, 2, 3), (1, 1), mode="reflect", value=2.0),
    lambda lib: lib.nn.functional.pad(lib.ones(2, 0, 3), (1, 1), mode="replicate"),
    lambda lib: lib.nn.functional.pad(lib.ones(1, 1, 3), (-3, 0), mode="replicate"),
    lambda lib: lib.nn.CircularPad2d(1)(lib.ones(2, 3)),
    lambda lib: lib.nn.functional.glu(lib.ones(2, 5), 1),
    lambda lib: lib.nn.functional.glu(lib.tensor(1.0)),
    lambda lib: lib.nn.functional.rrelu(lib.ones(3), 0.5, 0.2),
    lambda lib: lib.nn.functional.prelu(lib.ones(2, 4), lib.ones(3)),
    lambda lib: lib.nn.functional.prelu(lib.tensor(1.0), lib.ones(3)),
    lambda lib: lib.nn.functional.prelu(lib.ones(3), lib.ones(1, 1)),
    lambda lib: lib.nn.functional.softshrink(lib.ones(3), -1.0),
    lambda lib: lib.nn.functional.softshrink(lib.ones(3, dtype=lib.float64), -1.0),
    lambda lib: lib.nn.Softmax2d()(lib.ones(2, 3)),
    lambda lib: lib.nn.functional.dropout1d(lib.ones(3), 0.5),
    lambda lib: lib.nn.functional.alpha_dropout(lib.ones(3), 1.5),
    lambda lib: lib.nn.functional.feature_alpha_dropout(lib.ones(3), 0.5, True),
    lambda lib: lib.nn.Dropout3d(-0.1),
    lambda lib: lib.nn.functional.rms_norm(lib.ones(3, 4), [4], lib.ones(3)),
    lambda lib: lib.nn.functional.local_response_norm(lib.ones(3, 4), 2),
    lambda lib: lib.nn.functional.channel_shuffle(lib.ones(2, 4, 3), 0),
    lambda lib: lib.nn.functional.channel_shuffle(lib.ones(2, 5, 3), 2),
    lambda lib: lib.nn.functional.channel_shuffle(lib.ones(2, 4), 2),
    lambda lib: lib.nn.BatchNorm3d(2)(lib.ones(2, 2, 3)),
    lambda lib: lib.cdist(lib.ones(3), lib.ones(3)),
    lambda lib: lib.cdist(lib.ones(2, 3), lib.ones(2, 4)),
    lambda lib: lib.cdist(lib.ones(2, 3), lib.ones(2, 3), p=-1),
    lambda lib: lib.cdist(lib.ones(2, 3, dtype=lib.int64), lib.ones(2, 3, dtype=lib.int64)),
    lambda lib: lib.cdist(lib.ones(2, 3), lib.ones(2, 3), compute_mode="foo"),
    lambda lib: lib.cdist(lib.ones(2, 3), lib.ones(2, 3, dtype=lib.float64)),
    lambda lib: lib.pdist(lib.ones(3)),
    lambda lib: lib.pdist(lib.ones(3, 2), p=-1),
    lambda lib: lib.nn.functional.cosine_similarity(lib.ones(2, 3), lib.ones(4, 3)),
    lambda lib: lib.nn.functional.cosine_similarity(lib.ones(2, 3, dtype=lib.int64), lib.ones(2, 3, dtype=lib.int64)),
    lambda lib: lib.nn.functional.kl_div(lib.ones(2, 3), lib.ones(3), reduction="bad"),
    lambda lib: lib.nn.functional.margin_ranking_loss(lib.ones(3), lib.ones(3), lib.ones(2, 3)),
    lambda lib: lib.nn.functional.multilabel_margin_loss(lib.ones(2, 3), lib.tensor([[0, 5, -1], [1, -1, 0]])),
    lambda lib: lib.nn.functional.multilabel_margin_loss(lib.ones(2, 3), lib.tensor([[0, 1], [1, -1]])),
    lambda lib: lib.nn.functional.multilabel_margin_loss(lib.ones(2, 3), lib.ones(2, 3)),
    lambda lib: lib.nn.functional.multilabel_margin_loss(lib.ones(2, 3, 4), lib.ones(2, 3, 4).long()),
    lambda lib: lib.nn.functional.multi_margin_loss(lib.ones(2, 3), lib.tensor([0, 5])),
    lambda lib: lib.nn.functional.multi_margin_loss(lib.ones(2, 3), lib.tensor([0, 1, 2])),
    lambda lib: lib.nn.functional.multi_margin_loss(lib.ones(2, 3), lib.tensor([0, 1]), weight=lib.ones(4)),
    lambda lib: lib.nn.functional.multi_margin_loss(lib.ones(2, 3), lib.tensor([0, 1]), p=3),
    lambda lib: lib.nn.functional.multi_margin_loss(lib.ones(2, 3), lib.tensor([0, 1]), weight=lib.ones(3, 1)),
    lambda lib: lib.nn.MultiMarginLoss(weight=lib.ones(3, 1)),
    lambda lib: lib.nn.functional.cosine_embedding_loss(lib.ones(2, 3), lib.ones(2, 3), lib.ones(2, 1)),
    lambda lib: lib.nn.functional.cosine_embedding_loss(lib.ones(3), lib.ones(3), lib.ones(2)),
    lambda lib: lib.nn.functional.cosine_embedding_loss(lib.ones(2, 3), lib.ones(2, 3), lib.tensor(1.0)),
    lambda lib: lib.nn.functional.triplet_margin_loss(lib.ones(3), lib.ones(3), lib.ones(2, 3)),
    lambda lib: lib.nn.functional.triplet_margin_loss(lib.ones(3), lib.ones(3), lib.ones(3), margin=0),
    lambda lib: lib.nn.functional.triplet_margin_with_distance_loss(
        lib.ones(3), lib.ones(3), lib.ones(3), reduction="avg"
    ),
    lambda lib: lib.nn.TripletMarginLoss(margin=-1.0),
    lambda lib: lib.nn.TripletMarginWithDistanceLoss(margin=0.0),
    lambda lib: lib.nn.functional.gaussian_nll_loss(lib.ones(3), lib.ones(3), lib.ones(2)),
    lambda lib: lib.nn.functional.gaussian_nll_loss(lib.ones(3), lib.ones(3), -1.0),
    lambda lib: lib.nn.functional.gaussian_nll_loss(lib.ones(4, 3), lib.ones(4, 3), lib.ones(1, 1)),
    lambda lib: lib.nn.functional.gaussian_nll_loss(lib.ones(3), lib.ones(3), lib.ones(3), reduction="x"),
    lambda lib: lib.nn.functional.multilabel_soft_margin_loss(lib.ones(4, 3), lib.ones(4, 3), reduction="x"),
    lambda lib: lib.nn.functional.poisson_nll_loss(lib.ones(3), lib.ones(3), reduction="x"),
    lambda lib: lib.nn.ParameterList([lib.ones(1)])[3],
    lambda lib: lib.nn.ParameterList().extend(lib.ones(2)),
    lambda lib: lib.nn.ParameterDict()[1],
    lambda lib: lib.nn.ParameterDict([("a", lib.ones(1), 3)]),
    lambda lib: lib.nn.utils.parametrize.remove_parametrizations(lib.nn.Linear(2, 2), "weight"),
    lambda lib: lib.nn.utils.parametrize.register_parametrization(lib.nn.Linear(2, 2), "foo", lib.nn.Identity()),
    lambda lib: lib.nn.utils.parametrize.register_parametrization(lib.nn.Linear(2, 2), "weight", lib.nn.Flatten(0)),
    lambda lib: lib.nn.utils.remove_weight_norm(lib.nn.ReLU()),
    lambda lib: lib.nn.utils.spectral_norm(lib.nn.utils.spectral_norm(lib.nn.Linear(2, 2))),
    lambda lib: lib.nn.utils.spectral_norm(lib.nn.Linear(2, 2), n_power_iterations=0),
    lambda lib: lib.nn.utils.parametrizations.spectral_norm(lib.nn.Linear(2, 2), dim=2),
    lambda lib: lib.nn.utils.parametrizations.spectral_norm(lib.nn.Linear(2, 2), "foo"),
]


@pytest.mark.parametrize("call", ERRORS)
def test_error_messages_match_torch(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as te:
            call(torch)
        with pytest.raises(Exception) as ee:
            call(ember)
    assert type(ee.value) is type(te.value)
    assert str(ee.value) == str(te.value).replace("torch.", "ember.")


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda lib: lib.nn.functional.kl_div(lib.zeros(2), lib.ones(2)), "'batchmean' divides only by the batch"),
        (lambda lib: lib.nn.functional.softmin(lib.ones(2, 3)), "Implicit dimension choice for softmin"),
        (lambda lib: lib.nn.functional.gumbel_softmax(lib.ones(2, 3), eps=1e-3), "`eps` parameter is deprecated"),
        (lambda lib: lib.nn.functional.dropout2d(lib.ones(2, 3, 4), 0.5), "Received a 3D input to dropout2d"),
        (lambda lib: lib.nn.functional.dropout3d(lib.ones(2, 3), 0.5), "Received a 2-D input to dropout3d"),
        (
            lambda lib: lib.nn.functional.margin_ranking_loss(lib.ones(2), lib.ones(2), lib.ones(2), reduce=False),
            "please use reduction='none' instead",
        ),
    ],
)
def test_warnings_match_torch(call, words):
    for lib in (torch, ember):
        with pytest.warns(Warning, match=words.replace("(", r"\(").replace(")", r"\)")) as record:
            call(lib)
    assert record[0].filename == __file__  # ember's warnings point at the caller's line


NORM_DTYPE_CALLS = {
    "layer_norm": lambda F, x, p: F.layer_norm(x(2, 4), (4,), p(4), p(4)),
    "layer_norm bias only": lambda F, x, p: F.layer_norm(x(2, 4), (4,), None, p(4)),
    "group_norm": lambda F, x, p: F.group_norm(x(2, 4, 3), 2, p(4), p(4)),
    "batch_norm train": lambda F, x, p: F.batch_norm(x(3, 4), p(4), p(4), p(4), p(4), training=True),
    "batch_norm statistics only": lambda F, x, p: F.batch_norm(x(3, 4), p(4), p(4), None, None, training=True),
    "batch_norm eval": lambda F, x, p: F.batch_norm(x(3, 4), p(4), p(4), p(4), p(4)),
    "batch_norm weight only": lambda F, x, p: F.batch_norm(x(3, 4), x(4), x(4), p(4), None),
    "instance_norm": lambda F, x, p: F.instance_norm(x(2, 4, 3), weight=p(4), bias=p(4)),
    "rms_norm": lambda F, x, p: F.rms_norm(x(2, 4), (4,), p(4)),
}


@pytest.mark.parametrize("op", list(NORM_DTYPE_CALLS))
def test_normalisation_dtype_mixes_match_torch(op):
    """Every pair of input and parameter dtypes: the same result dtype, or the same error."""
    names = ["float32", "float64", "bfloat16", "float16"]

    def outcome(lib, F, x_name, p_name):
        def make(name):
            return lambda *s: lib.ones(*s, dtype=getattr(lib, name))

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return str(NORM_DTYPE_CALLS[op](F, make(x_name), make(p_name)).dtype).split(".")[-1]
        except RuntimeError as e:
            return str(e)

    for x_name in names:
        for p_name in names:
            mine = outcome(ember, ember.nn.functional, x_name, p_name)
            theirs = outcome(torch, torch.nn.functional, x_name, p_name)
            assert mine == theirs, (op, x_name, p_name)
