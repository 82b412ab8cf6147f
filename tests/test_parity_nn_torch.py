"""ember.nn against torch.nn: same weights and inputs give the same outputs and gradients;
reprs, state_dict keys and error messages agree. Runs only where PyTorch is importable.

Each layer or loss is written once as ``build(nn, T)`` (T makes a tensor from numpy) and
built with ember and with torch; torch's weights are copied into ember's module through
load_state_dict, so that path is exercised as well.
"""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import ember  # noqa: E402

# torch's own note about padding='same' with an even kernel (it pads a copy, as ember does)
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")

DTYPES = {
    "float32": (ember.float32, torch.float32, dict(rtol=1e-5, atol=1e-6)),
    "float64": (ember.float64, torch.float64, dict(rtol=1e-10, atol=1e-12)),
}


def T_ember(a, dtype=None):
    return ember.tensor(a, dtype=dtype)


def T_torch(a, dtype=None):
    return torch.tensor(a, dtype=dtype)


def to_np(t):
    return t.detach().numpy()


def load_torch_weights(em, tm):
    em.load_state_dict({k: ember.tensor(to_np(v)) for k, v in tm.state_dict().items()})


def close(a, b, tol, what):
    np.testing.assert_allclose(to_np(a), to_np(b), err_msg=what, **tol)


# (id, build(nn) -> module, inputs: list of shapes or ("int", high, shape))
LAYERS = [
    ("linear", lambda nn: nn.Linear(5, 3), [(4, 5)]),
    ("linear_3d_nobias", lambda nn: nn.Linear(5, 3, bias=False), [(2, 4, 5)]),
    ("bilinear", lambda nn: nn.Bilinear(3, 4, 2), [(5, 3), (5, 4)]),
    ("relu", lambda nn: nn.ReLU(), [(3, 4)]),
    ("leaky_relu", lambda nn: nn.LeakyReLU(0.2), [(3, 4)]),
    ("gelu", lambda nn: nn.GELU(), [(3, 4)]),
    ("gelu_tanh", lambda nn: nn.GELU(approximate="tanh"), [(3, 4)]),
    ("silu", lambda nn: nn.SiLU(), [(3, 4)]),
    ("sigmoid", lambda nn: nn.Sigmoid(), [(3, 4)]),
    ("tanh", lambda nn: nn.Tanh(), [(3, 4)]),
    ("softmax", lambda nn: nn.Softmax(dim=1), [(3, 4)]),
    ("log_softmax", lambda nn: nn.LogSoftmax(dim=-1), [(2, 3, 4)]),
    ("logsigmoid", lambda nn: nn.LogSigmoid(), [(3, 4)]),
    ("softplus", lambda nn: nn.Softplus(beta=2.0, threshold=3.0), [(3, 4)]),
    ("elu", lambda nn: nn.ELU(alpha=0.7), [(3, 4)]),
    ("hardtanh", lambda nn: nn.Hardtanh(-0.5, 0.8), [(3, 4)]),
    ("relu6", lambda nn: nn.ReLU6(), [(3, 4)]),
    ("identity", lambda nn: nn.Identity(), [(3, 4)]),
    ("flatten", lambda nn: nn.Flatten(), [(2, 3, 4)]),
    ("unflatten", lambda nn: nn.Unflatten(1, (2, 3)), [(4, 6)]),
    ("dropout_eval", lambda nn: nn.Dropout(0.3).eval(), [(3, 4)]),
    ("embedding", lambda nn: nn.Embedding(7, 3), [("int", 7, (2, 5))]),
    ("embedding_padding", lambda nn: nn.Embedding(7, 3, padding_idx=1), [("int", 7, (2, 5))]),
    ("embedding_max_norm", lambda nn: nn.Embedding(7, 3, max_norm=1.0), [("int", 7, (6,))]),
    ("layer_norm", lambda nn: nn.LayerNorm(4), [(3, 4)]),
    ("layer_norm_2d_nobias", lambda nn: nn.LayerNorm((3, 4), bias=False, eps=1e-3), [(2, 3, 4)]),
    ("batch_norm_train", lambda nn: nn.BatchNorm1d(4), [(6, 4)]),
    ("batch_norm_3d", lambda nn: nn.BatchNorm1d(3, momentum=None), [(4, 3, 5)]),
    ("batch_norm_eval", lambda nn: _with_stats(nn.BatchNorm1d(4)).eval(), [(6, 4)]),
    ("batch_norm_untracked", lambda nn: nn.BatchNorm1d(4, affine=False, track_running_stats=False).eval(), [(6, 4)]),
    ("batch_norm2d", lambda nn: nn.BatchNorm2d(2), [(3, 2, 3, 3)]),
    ("conv2d", lambda nn: nn.Conv2d(2, 3, 3), [(2, 2, 6, 5)]),
    (
        "conv2d_strided",
        lambda nn: nn.Conv2d(4, 4, (3, 2), stride=2, padding=1, dilation=(1, 2), groups=2),
        [(1, 4, 7, 7)],
    ),
    ("conv2d_same", lambda nn: nn.Conv2d(2, 2, 4, padding="same", bias=False), [(1, 2, 5, 6)]),
    ("max_pool2d", lambda nn: nn.MaxPool2d(2), [(2, 3, 6, 6)]),
    ("max_pool2d_pad_ceil", lambda nn: nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), [(1, 2, 6, 7)]),
    ("mlp", lambda nn: nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3), nn.LogSoftmax(1)), [(5, 6)]),
    (
        "cnn",
        lambda nn: nn.Sequential(
            nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(12, 2)
        ),
        [(2, 1, 4, 4)],
    ),
]


def _with_stats(bn):
    """A BatchNorm whose running statistics are not the defaults (made with the module's own framework)."""
    g = np.random.default_rng(5)
    bn.running_mean.copy_(bn.running_mean.new_tensor(g.uniform(-1, 1, bn.num_features)))
    bn.running_var.copy_(bn.running_var.new_tensor(g.uniform(0.5, 2, bn.num_features)))
    return bn


def _make_inputs(specs, seed):
    g = np.random.default_rng(seed)
    out = []
    for spec in specs:
        if spec[0] == "int":
            out.append(g.integers(0, spec[1], size=spec[2]))
        else:
            out.append(g.standard_normal(spec) * 1.5)
    return out


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, build, specs", LAYERS, ids=[c[0] for c in LAYERS])
def test_layer_matches_torch(name, build, specs, dtype):
    edtype, tdtype, tol = DTYPES[dtype]
    torch.manual_seed(0)
    tm = build(torch.nn).to(tdtype)
    em = build(ember.nn).to(edtype)
    assert repr(em) == repr(tm)
    assert list(em.state_dict()) == list(tm.state_dict())
    assert [n for n, _ in em.named_parameters()] == [n for n, _ in tm.named_parameters()]
    load_torch_weights(em, tm)
    arrays = _make_inputs(specs, seed=1)
    xe = [
        ember.tensor(a, dtype=None if a.dtype.kind == "i" else edtype, requires_grad=a.dtype.kind == "f")
        for a in arrays
    ]
    xt = [
        torch.tensor(a, dtype=None if a.dtype.kind == "i" else tdtype, requires_grad=a.dtype.kind == "f")
        for a in arrays
    ]
    oe, ot = em(*xe), tm(*xt)
    assert oe.dtype == edtype and tuple(oe.shape) == tuple(ot.shape)
    close(oe, ot, tol, "output")
    g = np.random.default_rng(2).standard_normal(tuple(ot.shape))
    (oe * ember.tensor(g, dtype=edtype)).sum().backward()
    (ot * torch.tensor(g, dtype=tdtype)).sum().backward()
    for i, (a, b) in enumerate(zip(xe, xt)):
        if b.requires_grad:
            close(a.grad, b.grad, tol, f"grad of input {i}")
    tparams = dict(tm.named_parameters())
    for n, p in em.named_parameters():
        assert (p.grad is None) == (tparams[n].grad is None), n
        if p.grad is not None:
            close(p.grad, tparams[n].grad, tol, f"grad of {n}")
    tbufs = dict(tm.named_buffers())
    for n, b in em.named_buffers():  # running statistics after a training step, weights renormalised in place
        close(b, tbufs[n], tol, f"buffer {n}")
    for n, p in em.named_parameters():
        close(p, tparams[n], tol, f"parameter {n} after forward")


def _weights(n, seed, low=0.3, high=2.0):
    return np.random.default_rng(seed).uniform(low, high, size=n)


# (id, build(nn, T) -> loss module, input maker(rng) -> (input array, target array, input_grad, target_grad))
def _logits_and_classes(shape, c, ignore=False):
    def make(g):
        x = g.standard_normal(shape) * 2
        t_shape = (shape[0],) + tuple(shape[2:]) if len(shape) > 1 else ()
        t = g.integers(0, c, size=t_shape)
        if ignore and t.ndim:
            t.reshape(-1)[1] = -100
        return x, t, True, False

    return make


def _logits_and_probs(shape):
    def make(g):
        p = g.random(shape)
        return g.standard_normal(shape) * 2, p / p.sum(1, keepdims=True), True, True

    return make


def _pair(shape, low=None):
    def make(g):
        if low is not None:
            return g.uniform(low, 1 - low, size=shape), g.random(shape), True, True
        return g.standard_normal(shape), g.standard_normal(shape), True, True

    return make


LOSSES = [
    ("mse", lambda nn, T, r: nn.MSELoss(reduction=r), _pair((3, 4))),
    ("l1", lambda nn, T, r: nn.L1Loss(reduction=r), _pair((3, 4))),
    ("huber", lambda nn, T, r: nn.HuberLoss(reduction=r, delta=0.8), _pair((3, 4))),
    ("smooth_l1", lambda nn, T, r: nn.SmoothL1Loss(reduction=r, beta=0.6), _pair((3, 4))),
    ("smooth_l1_beta0", lambda nn, T, r: nn.SmoothL1Loss(reduction=r, beta=0.0), _pair((3, 4))),
    ("ce", lambda nn, T, r: nn.CrossEntropyLoss(reduction=r), _logits_and_classes((5, 4), 4)),
    (
        "ce_weight_ignore",
        lambda nn, T, r: nn.CrossEntropyLoss(T(_weights(4, 3)), reduction=r),
        _logits_and_classes((5, 4), 4, ignore=True),
    ),
    (
        "ce_ignore_index_0",
        lambda nn, T, r: nn.CrossEntropyLoss(ignore_index=0, reduction=r),
        _logits_and_classes((6, 3), 3),
    ),
    (
        "ce_label_smoothing",
        lambda nn, T, r: nn.CrossEntropyLoss(reduction=r, label_smoothing=0.15),
        _logits_and_classes((5, 4), 4, ignore=True),
    ),
    (
        "ce_smoothing_weight",
        lambda nn, T, r: nn.CrossEntropyLoss(T(_weights(4, 4)), reduction=r, label_smoothing=0.3),
        _logits_and_classes((5, 4), 4, ignore=True),
    ),
    ("ce_spatial", lambda nn, T, r: nn.CrossEntropyLoss(reduction=r), _logits_and_classes((2, 3, 4, 2), 3, True)),
    (
        "ce_spatial_smoothing_weight",
        lambda nn, T, r: nn.CrossEntropyLoss(T(_weights(3, 6)), reduction=r, label_smoothing=0.2),
        _logits_and_classes((2, 3, 5), 3, True),
    ),
    ("ce_unbatched", lambda nn, T, r: nn.CrossEntropyLoss(reduction=r), _logits_and_classes((5,), 5)),
    ("ce_probs", lambda nn, T, r: nn.CrossEntropyLoss(reduction=r), _logits_and_probs((4, 5))),
    (
        "ce_probs_weight_smoothing",
        lambda nn, T, r: nn.CrossEntropyLoss(T(_weights(5, 7)), reduction=r, label_smoothing=0.2),
        _logits_and_probs((4, 5)),
    ),
    ("ce_probs_spatial", lambda nn, T, r: nn.CrossEntropyLoss(reduction=r), _logits_and_probs((2, 3, 4))),
    ("nll", lambda nn, T, r: nn.NLLLoss(T(_weights(4, 8)), reduction=r), _logits_and_classes((5, 4), 4, True)),
    ("nll_spatial", lambda nn, T, r: nn.NLLLoss(reduction=r), _logits_and_classes((2, 4, 3, 3), 4, True)),
    ("bce", lambda nn, T, r: nn.BCELoss(reduction=r), _pair((3, 4), low=0.05)),
    ("bce_weight", lambda nn, T, r: nn.BCELoss(T(_weights((3, 4), 9)), reduction=r), _pair((3, 4), low=0.05)),
    ("bce_logits", lambda nn, T, r: nn.BCEWithLogitsLoss(reduction=r), _pair((3, 4))),
    (
        "bce_logits_weights",
        lambda nn, T, r: nn.BCEWithLogitsLoss(T(_weights((3, 4), 10)), reduction=r, pos_weight=T(_weights(4, 11))),
        _pair((3, 4)),
    ),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name, build, make", LOSSES, ids=[c[0] for c in LOSSES])
def test_loss_matches_torch(name, build, make, reduction, dtype):
    edtype, tdtype, tol = DTYPES[dtype]
    x, t, x_grad, t_grad = make(np.random.default_rng(3))
    em = build(ember.nn, lambda a: ember.tensor(a, dtype=edtype), reduction)
    tm = build(torch.nn, lambda a: torch.tensor(a, dtype=tdtype), reduction)
    assert repr(em) == repr(tm)
    assert list(em.state_dict()) == list(tm.state_dict())
    xe, xt = ember.tensor(x, dtype=edtype, requires_grad=True), torch.tensor(x, dtype=tdtype, requires_grad=True)
    if t.dtype.kind == "i":
        te, tt = ember.tensor(t), torch.tensor(t)
    else:
        te = ember.tensor(t, dtype=edtype, requires_grad=t_grad)
        tt = torch.tensor(t, dtype=tdtype, requires_grad=t_grad)
    oe, ot = em(xe, te), tm(xt, tt)
    assert tuple(oe.shape) == tuple(ot.shape) and oe.dtype == edtype
    close(oe, ot, tol, "loss")
    g = np.random.default_rng(4).standard_normal(tuple(ot.shape))
    (oe * ember.tensor(g, dtype=edtype)).sum().backward()
    (ot * torch.tensor(g, dtype=tdtype)).sum().backward()
    close(xe.grad, xt.grad, tol, "grad of input")
    if t_grad and t.dtype.kind == "f":
        close(te.grad, tt.grad, tol, "grad of target")


@pytest.mark.parametrize(
    "fn, args",
    [
        ("mse_loss", lambda T: (T([[1e4, -1e4]]), T([[-1e4, 1e4]]))),
        ("cross_entropy", lambda T: (T([[1e4, -1e4, 0.0], [-1e4, 5e3, -5e3]]), T([1, 2]).long())),
        (
            "binary_cross_entropy_with_logits",
            lambda T: (T([1e4, -1e4, 30.0, -30.0, 0.0]), T([0.0, 1.0, 0.5, 0.5, 1.0])),
        ),
        ("logsigmoid", lambda T: (T([-1e4, -20.0, 0.0, 20.0, 1e4]),)),
        ("softplus", lambda T: (T([-1e4, -20.0, 0.0, 20.0, 1e4]),)),
    ],
)
def test_stability_for_extreme_float32_values_matches_torch(fn, args):
    ae = args(lambda v: ember.tensor(v, dtype=ember.float32))
    at = args(lambda v: torch.tensor(v, dtype=torch.float32))
    ae[0].requires_grad_()
    at[0].requires_grad_()
    oe, ot = getattr(ember.nn.functional, fn)(*ae), getattr(torch.nn.functional, fn)(*at)
    assert np.isfinite(to_np(oe)).all()
    np.testing.assert_allclose(to_np(oe), to_np(ot), rtol=1e-5, atol=1e-6)
    oe.sum().backward()
    ot.sum().backward()
    assert np.isfinite(to_np(ae[0].grad)).all()
    np.testing.assert_allclose(to_np(ae[0].grad), to_np(at[0].grad), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "call",
    [
        lambda F, T: F.one_hot(T(np.array([3, 0, 2, 1]))),
        lambda F, T: F.one_hot(T(np.array([[1], [0]])), 5),
        lambda F, T: F.pad(T(np.arange(24.0).reshape(2, 3, 4)), (1, 2, 0, 1), value=-1.5),
        lambda F, T: F.pad(T(np.arange(24.0).reshape(2, 3, 4)), (-1, 2, 1, -2)),
        lambda F, T: F.normalize(T(np.arange(1.0, 7.0).reshape(2, 3)), dim=1),
        lambda F, T: F.softmax(T(np.arange(6.0).reshape(2, 3)), dim=0),
        lambda F, T: F.dropout(T(np.ones((2, 3))), 0.4, training=False),
        lambda F, T: F.leaky_relu(T(np.array([-2.0, 0.0, 3.0])), 0.3),
        lambda F, T: F.linear(T(np.ones((2, 3))), T(np.arange(6.0).reshape(2, 3)), T(np.array([1.0, -1.0]))),
    ],
)
def test_functional_matches_torch(call):
    oe = call(ember.nn.functional, ember.tensor)
    ot = call(torch.nn.functional, torch.tensor)
    assert tuple(oe.shape) == tuple(ot.shape)
    assert str(oe.dtype).split(".")[-1] == str(ot.dtype).split(".")[-1]
    np.testing.assert_allclose(to_np(oe), to_np(ot), rtol=1e-6)


def test_grad_fn_names_of_the_main_paths():
    x = ember.randn(4, 3, requires_grad=True)
    lin = ember.nn.Linear(3, 2)
    assert lin(x).grad_fn.name() == torch.nn.Linear(3, 2)(torch.randn(4, 3)).grad_fn.name() == "AddmmBackward0"
    assert ember.nn.functional.cross_entropy(x, ember.tensor([0, 1, 2, 0])).grad_fn.name() == "NllLossBackward0"
    assert ember.nn.Conv2d(1, 1, 2)(ember.randn(1, 1, 3, 3)).grad_fn.name() == "ConvolutionBackward0"


# ---------------------------------------------------------------------------------------------------------------------
# reprs and mechanics compared directly


def _model(nn):
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.Tanh()]),
        nn.ModuleDict({"head": nn.Linear(16, 3), "act": nn.LogSoftmax(dim=1)}),
        nn.Sequential(nn.Embedding(5, 2, padding_idx=0), nn.LayerNorm(2), nn.Dropout(0.1), nn.GELU("tanh")),
    )


def test_model_repr_state_dict_and_named_modules_match_torch():
    em, tm = _model(ember.nn), _model(torch.nn)
    assert repr(em) == repr(tm)
    assert list(em.state_dict()) == list(tm.state_dict())
    assert [n for n, _ in em.named_modules()] == [n for n, _ in tm.named_modules()]
    assert [n for n, _ in em.named_buffers()] == [n for n, _ in tm.named_buffers()]
    assert sorted(em.state_dict()._metadata.items()) == sorted(tm.state_dict()._metadata.items())
    assert repr(em[5][0:2]) == repr(tm[5][0:2])
    assert repr(ember.nn.Parameter(ember.tensor([1.0, 2.0]))) == repr(torch.nn.Parameter(torch.tensor([1.0, 2.0])))


def _load_error(lib, sd_fn):
    m = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.BatchNorm1d(3))
    sd = sd_fn(lib, m.state_dict())
    with pytest.raises(RuntimeError) as info:
        m.load_state_dict(sd)
    strict_false = m.load_state_dict(sd, strict=False) if "size mismatch" not in str(info.value) else None
    return str(info.value).replace("torch.Size", "ember.Size"), strict_false


@pytest.mark.parametrize(
    "edit",
    [
        lambda lib, sd: {k: v for k, v in sd.items() if k != "0.bias"},
        lambda lib, sd: {**sd, "2.weight": lib.ones(1), "extra": lib.ones(1)},
        lambda lib, sd: {**{k: v for k, v in sd.items() if not k.startswith("1.")}, "1.foo.bar": lib.ones(1)},
        lambda lib, sd: {**sd, "0.weight": lib.ones(3, 3), "1.running_mean": lib.ones(4)},
    ],
)
def test_load_state_dict_errors_match_torch(edit):
    msg_e, res_e = _load_error(ember, edit)
    msg_t, res_t = _load_error(torch, edit)
    assert msg_e == msg_t
    if res_t is not None:
        assert (res_e.missing_keys, res_e.unexpected_keys) == (res_t.missing_keys, res_t.unexpected_keys)
        assert repr(res_e) == repr(res_t).replace("torch", "ember")


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.nn.functional.cross_entropy(lib.ones(3, 4), lib.tensor([0, 1])),
        lambda lib: lib.nn.functional.cross_entropy(lib.ones(3, 4), lib.tensor([0, 1, 7])),
        lambda lib: lib.nn.functional.cross_entropy(lib.ones(3, 4), lib.tensor([0, 1, 2]), label_smoothing=2.0),
        lambda lib: lib.nn.functional.cross_entropy(lib.ones(2, 3, 4), lib.zeros(2, 5, dtype=lib.int64)),
        lambda lib: lib.nn.functional.nll_loss(lib.ones(3, 4), lib.zeros(3, 1, dtype=lib.int64)),
        lambda lib: lib.nn.functional.mse_loss(lib.ones(2), lib.ones(2), reduction="avg"),
        lambda lib: lib.nn.functional.binary_cross_entropy(lib.ones(2) * 2, lib.ones(2)),
        lambda lib: lib.nn.functional.binary_cross_entropy(lib.ones(2), lib.ones(1)),
        lambda lib: lib.nn.functional.binary_cross_entropy_with_logits(lib.ones(2), lib.ones(1)),
        lambda lib: lib.nn.functional.one_hot(lib.tensor([-1])),
        lambda lib: lib.nn.functional.layer_norm(lib.ones(3, 4), (3,)),
        lambda lib: lib.nn.functional.batch_norm(lib.ones(1, 3), lib.zeros(3), lib.ones(3), training=True),
        lambda lib: lib.nn.Dropout(2.0),
        lambda lib: lib.nn.functional.conv2d(lib.ones(1, 1, 3, 3), lib.ones(1, 1, 2, 2), padding="foo"),
        lambda lib: lib.nn.functional.gelu(lib.ones(2), approximate="fast"),
        lambda lib: lib.nn.functional.smooth_l1_loss(lib.ones(2), lib.ones(2), beta=-1.0),
        lambda lib: lib.nn.functional.pad(lib.ones(2), (1, 1, 1, 1)),
        lambda lib: lib.nn.functional.one_hot(lib.tensor([3]), 2),
        lambda lib: lib.nn.Embedding(3, 2, padding_idx=5),
        lambda lib: lib.nn.init.kaiming_uniform_(lib.ones(2, 2), mode="bad"),
        lambda lib: lib.nn.init.calculate_gain("swish"),
        lambda lib: lib.nn.init.xavier_uniform_(lib.ones(3)),
        lambda lib: lib.nn.Linear(2, 2).register_buffer("a.b", None),
        lambda lib: lib.nn.Linear(2, 2).train(1),
        lambda lib: setattr(lib.nn.Linear(2, 2), "weight", lib.ones(2, 2)),
        lambda lib: lib.nn.Linear(2, 2).no_such_attribute,
    ],
)
def test_error_messages_match_torch(call):
    with pytest.raises(Exception) as te:
        call(torch)
    with pytest.raises(Exception) as ee:
        call(ember)
    assert type(ee.value) is type(te.value)
    norm = str(te.value).replace("torch.Size", "ember.Size").replace("torch.FloatTensor", "ember.FloatTensor")
    # ember may add context around PyTorch's words (e.g. "nll_loss: Target 7 is out of bounds (4 classes).")
    assert norm.rstrip(".") in str(ee.value)


@pytest.mark.parametrize(
    "nonlinearity, param",
    [
        ("linear", None),
        ("conv2d", None),
        ("sigmoid", None),
        ("tanh", None),
        ("relu", None),
        ("leaky_relu", None),
        ("leaky_relu", 0.3),
        ("selu", None),
    ],
)
def test_calculate_gain_matches_torch(nonlinearity, param):
    assert ember.nn.init.calculate_gain(nonlinearity, param) == torch.nn.init.calculate_gain(nonlinearity, param)


@pytest.mark.parametrize("shape", [(5, 3), (8, 4, 3, 2), (2, 3, 4)])
def test_fans_and_default_init_bounds_match_torch(shape):
    fe = ember.nn.init._calculate_fan_in_and_fan_out(ember.empty(*shape))
    assert fe == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))
    for init in ("kaiming_uniform_", "xavier_uniform_"):
        e, t = ember.empty(*shape), torch.empty(*shape)
        getattr(ember.nn.init, init)(e)
        getattr(torch.nn.init, init)(t)
        be, bt = np.abs(to_np(e)).max(), np.abs(to_np(t)).max()
        bound = math.sqrt(3) * (
            math.sqrt(2 / (1 + 0.01**2)) / math.sqrt(fe[0]) if init.startswith("kaiming") else math.sqrt(2 / sum(fe))
        )
        assert be <= bound and bt <= bound


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 0.5, float("inf"), "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    g = np.random.default_rng(6)
    grads = [g.standard_normal((3, 4)), g.standard_normal(5), g.standard_normal((2, 2, 2))]
    pe = [ember.nn.Parameter(ember.zeros(*a.shape)) for a in grads]
    pt = [torch.nn.Parameter(torch.zeros(*a.shape)) for a in grads]
    for p, q, a in zip(pe, pt, grads):
        p.grad = ember.tensor(a, dtype=ember.float32)
        q.grad = torch.tensor(a, dtype=torch.float32)
    ne = ember.nn.utils.clip_grad_norm_(pe, max_norm, norm_type)
    nt = torch.nn.utils.clip_grad_norm_(pt, max_norm, norm_type)
    np.testing.assert_allclose(ne.item(), nt.item(), rtol=1e-6)
    for p, q in zip(pe, pt):
        np.testing.assert_allclose(to_np(p.grad), to_np(q.grad), rtol=1e-6, atol=1e-7)
    ember.nn.utils.clip_grad_value_(pe, 0.1)
    torch.nn.utils.clip_grad_value_(pt, 0.1)
    for p, q in zip(pe, pt):
        np.testing.assert_allclose(to_np(p.grad), to_np(q.grad), rtol=1e-6, atol=1e-7)
    ve = ember.nn.utils.parameters_to_vector(pe)
    vt = torch.nn.utils.parameters_to_vector(pt)
    np.testing.assert_array_equal(to_np(ve), to_np(vt))
