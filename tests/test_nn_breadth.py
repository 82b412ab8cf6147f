"""The breadth of ember.nn without PyTorch: the activations, losses, padding, dropout, distance and
normalisation layers composed of other ops, the parameter containers, DataParallel, and nn.utils' weight and
spectral normalisation and parametrize. Forwards against numpy, gradients against finite differences in float64
(helpers.check_op), random layers by their statistics; tests/test_parity_nn_breadth_torch.py compares the same
with PyTorch."""

import copy
import pickle
import warnings

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import gradcheck, gradgradcheck
from helpers import check_op

rng = np.random.default_rng(0)


def t64(a, requires_grad=False):
    return ember.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def np_(t):
    return t.detach().numpy()


def _softplus(x):
    return np.logaddexp(0.0, x)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _reduce(loss, reduction):
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


# ---------------------------------------------------------------------------------------------------------------------
# activations

# Inputs keep away from the kinks (|x| near 3 for the hard ones, lambd for the shrinks), where finite
# differences straddle two pieces.
KINKLESS = np.array([-4.5, -2.4, -1.3, -0.2, 0.35, 1.1, 2.2, 4.0])

ACTIVATIONS = [
    ("mish", F.mish, lambda x: x * np.tanh(_softplus(x)), [(3, 4)]),
    ("hardswish", F.hardswish, lambda x: x * np.clip(x + 3, 0, 6) / 6, [KINKLESS]),
    ("hardsigmoid", F.hardsigmoid, lambda x: np.clip(x + 3, 0, 6) / 6, [KINKLESS]),
    ("softsign", F.softsign, lambda x: x / (1 + np.abs(x)), [(3, 4)]),
    ("tanhshrink", F.tanhshrink, lambda x: x - np.tanh(x), [(3, 4)]),
    (
        "softshrink",
        lambda x: F.softshrink(x, 0.3),
        lambda x: np.where(x > 0.3, x - 0.3, np.where(x < -0.3, x + 0.3, 0.0)),
        [KINKLESS],
    ),
    ("hardshrink", lambda x: F.hardshrink(x, 0.3), lambda x: np.where(np.abs(x) > 0.3, x, 0.0), [KINKLESS]),
    ("softmin", lambda x: F.softmin(x, 1), lambda x: np.exp(-x) / np.exp(-x).sum(1, keepdims=True), [(3, 4)]),
    ("glu", lambda x: F.glu(x, 0), lambda x: x[:2] * _sigmoid(x[2:]), [(4, 3)]),
    ("rrelu_eval", lambda x: F.rrelu(x, 0.1, 0.3), lambda x: np.where(x > 0, x, 0.2 * x), [KINKLESS]),
    ("prelu", F.prelu, lambda x, w: np.where(x > 0, x, w[None, :, None] * x), [KINKLESS.reshape(2, 2, 2), (2,)]),
    ("prelu_shared", F.prelu, lambda x, w: np.where(x > 0, x, w * x), [(3, 4), (1,)]),
]


@pytest.mark.parametrize("name, fn, ref, inputs", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_forward_and_gradients(name, fn, ref, inputs):
    check_op(inputs, fn, ref, gradgrad=True)


def test_activation_modules_and_inplace():
    x = KINKLESS.reshape(2, 4)
    for module, fn in [
        (nn.Mish(), F.mish),
        (nn.Hardswish(), F.hardswish),
        (nn.Hardsigmoid(), F.hardsigmoid),
        (nn.SELU(), F.selu),
        (nn.CELU(0.5), lambda t: F.celu(t, 0.5)),
        (nn.GLU(), F.glu),
        (nn.Softmin(1), lambda t: F.softmin(t, 1)),
        (nn.Softsign(), F.softsign),
        (nn.Tanhshrink(), F.tanhshrink),
        (nn.Softshrink(), F.softshrink),
        (nn.Hardshrink(), F.hardshrink),
        (nn.RReLU().eval(), F.rrelu),
    ]:
        np.testing.assert_allclose(np_(module(t64(x))), np_(fn(t64(x))), err_msg=type(module).__name__)
    for name in ("mish", "hardswish", "hardsigmoid"):
        a = t64(x)
        out = getattr(F, name)(a, inplace=True)
        assert out is a
        np.testing.assert_allclose(np_(a), np_(getattr(F, name)(t64(x))))
    # in place on a tensor of the graph: the gradient is that of the out-of-place op
    a = t64(x, True)
    b = a * 1.0
    F.hardswish(b, inplace=True).sum().backward()
    c = t64(x, True)
    F.hardswish(c).sum().backward()
    np.testing.assert_allclose(np_(a.grad), np_(c.grad))


def test_softmax2d_and_softmin_implicit_dim():
    x = rng.standard_normal((2, 3, 2, 2))
    e = np.exp(x - x.max(1, keepdims=True))
    np.testing.assert_allclose(np_(nn.Softmax2d()(t64(x))), e / e.sum(1, keepdims=True))
    np.testing.assert_allclose(np_(nn.Softmax2d()(t64(x[0]))), (e / e.sum(1, keepdims=True))[0])
    with pytest.raises(ValueError, match="Softmax2d: expected input to be 3D or 4D, got 2D instead"):
        nn.Softmax2d()(t64(x[0, 0]))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
        out = F.softmin(t64(x[0, 0]))
    np.testing.assert_allclose(np_(out).sum(1), 1.0)


def test_rrelu_training_draws_slopes_in_range_and_differentiates_by_them():
    x = t64(-np.ones((50, 40)) * 2.0, True)
    out = F.rrelu(x, 0.1, 0.3, training=True)
    slopes = np_(out) / -2.0
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3 and slopes.std() > 0.03
    out.sum().backward()
    np.testing.assert_allclose(np_(x.grad), slopes)
    pos = t64(np.ones(5))
    np.testing.assert_array_equal(np_(nn.RReLU()(pos)), 1.0)  # positive inputs unchanged in training too
    a = t64(-np.ones(4))
    assert F.rrelu_(a, 0.2, 0.2, training=True) is a
    np.testing.assert_allclose(np_(a), -0.2)


def test_prelu_module_initialises_and_learns_its_slopes():
    m = nn.PReLU(3, init=0.1, dtype=ember.float64)
    np.testing.assert_array_equal(np_(m.weight), 0.1)
    x = t64(rng.standard_normal((4, 3, 2)), True)
    assert gradcheck(lambda a, w: F.prelu(a, w), (x, m.weight))
    assert [n for n, _ in m.named_parameters()] == ["weight"]


def test_gumbel_softmax_soft_and_hard():
    logits = t64(rng.standard_normal((6, 5)), True)
    soft = F.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(np_(soft).sum(-1), 1.0)
    hard = F.gumbel_softmax(logits, hard=True, dim=-1)
    h = np_(hard)
    assert set(np.unique(h)) <= {0.0, 1.0} and (h.sum(-1) == 1).all()
    (hard * t64(np.arange(5.0))).sum().backward()  # straight-through: the soft sample's gradient
    assert np.abs(np_(logits.grad)).sum() > 0
    # the samples follow softmax(logits): the argmax frequency of a strongly preferred class
    many = F.gumbel_softmax(t64(np.tile([[3.0, 0.0, 0.0]], (4000, 1))), hard=True)
    freq = np_(many).mean(0)
    expected = np.exp([3.0, 0, 0]) / np.exp([3.0, 0, 0]).sum()
    np.testing.assert_allclose(freq, expected, atol=0.03)


# ---------------------------------------------------------------------------------------------------------------------
# padding

PAD_CASES = [
    ("reflect", (2, 1), (2, 3, 4)),
    ("reflect", (1, 2, 2, 0), (2, 3, 4)),
    ("reflect", (1, 1, 2, 1, 0, 2), (1, 2, 3, 4, 3)),
    ("replicate", (3, 1), (3, 2)),
    ("replicate", (0, 2, 3, 1), (1, 2, 3, 4)),
    ("replicate", (2, 1, 1, 0, 1, 3), (2, 2, 2, 3)),
    ("circular", (2, 4), (2, 3, 4)),
    ("circular", (1, 2, 3, 0), (2, 3, 4)),
    ("circular", (1, 1, 2, 1, 1, 0), (1, 2, 3, 3, 2)),
]
NP_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


@pytest.mark.parametrize("mode, pad, shape", PAD_CASES)
def test_pad_modes_match_numpy(mode, pad, shape):
    widths = [(0, 0)] * len(shape)
    for i in range(len(pad) // 2):
        widths[len(shape) - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    check_op([shape], lambda x: F.pad(x, pad, mode=mode), lambda x: np.pad(x, widths, mode=NP_MODES[mode]))


@pytest.mark.parametrize(
    "mode, pad, expected",
    [
        # negative pads crop first; reflect and replicate index the original input, circular wraps the cropped one
        ("reflect", (-1, 2), [1.0, 2.0, 1.0, 0.0]),
        ("reflect", (-3, 2), [1.0, 0.0]),
        ("replicate", (-1, 2), [1.0, 2.0, 2.0, 2.0]),
        ("replicate", (2, -2), [0.0, 0.0, 0.0]),
        ("circular", (-1, 2), [1.0, 2.0, 1.0, 2.0]),
        ("circular", (-3, 0), []),
    ],
)
def test_pad_negative_sides(mode, pad, expected):
    out = F.pad(t64(np.arange(3.0).reshape(1, 1, 3)), pad, mode=mode)
    np.testing.assert_array_equal(np_(out).reshape(-1), expected)


def test_pad_gradient_sums_the_reads():
    x = t64(np.arange(4.0).reshape(1, 1, 4), True)
    F.pad(x, (3, 3), mode="reflect").sum().backward()
    # each output reads one input: x0 once, x1 twice from the left side, ...
    np.testing.assert_array_equal(np_(x.grad).reshape(-1), [2.0, 3.0, 3.0, 2.0])
    x.grad = None
    F.pad(x, (2, 1), mode="replicate").sum().backward()
    np.testing.assert_array_equal(np_(x.grad).reshape(-1), [3.0, 1.0, 1.0, 2.0])
    assert gradgradcheck(lambda a: F.pad(a, (1, 2), mode="circular") ** 2, (t64(rng.standard_normal((2, 3)), True),))


PAD_MODULES = [
    (nn.ZeroPad1d(2), "constant", (2, 2), {}),
    (nn.ZeroPad2d((1, 2, 0, 1)), "constant", (1, 2, 0, 1), {}),
    (nn.ZeroPad3d(1), "constant", (1,) * 6, {}),
    (nn.ConstantPad1d((1, 0), 2.5), "constant", (1, 0), {"value": 2.5}),
    (nn.ConstantPad2d(1, -1.0), "constant", (1,) * 4, {"value": -1.0}),
    (nn.ConstantPad3d((1, 0, 0, 1, 1, 0), 3.0), "constant", (1, 0, 0, 1, 1, 0), {"value": 3.0}),
    (nn.ReflectionPad1d(1), "reflect", (1, 1), {}),
    (nn.ReflectionPad2d((1, 0, 1, 1)), "reflect", (1, 0, 1, 1), {}),
    (nn.ReflectionPad3d(1), "reflect", (1,) * 6, {}),
    (nn.ReplicationPad1d((2, 0)), "replicate", (2, 0), {}),
    (nn.ReplicationPad2d(2), "replicate", (2,) * 4, {}),
    (nn.ReplicationPad3d((0, 1, 1, 0, 2, 1)), "replicate", (0, 1, 1, 0, 2, 1), {}),
    (nn.CircularPad1d(2), "circular", (2, 2), {}),
    (nn.CircularPad2d((1, 2, 2, 1)), "circular", (1, 2, 2, 1), {}),
    (nn.CircularPad3d(1), "circular", (1,) * 6, {}),
]


@pytest.mark.parametrize("module, mode, pad, kw", PAD_MODULES, ids=[type(m[0]).__name__ for m in PAD_MODULES])
def test_padding_modules_are_f_pad(module, mode, pad, kw):
    assert module.padding == pad
    x = t64(rng.standard_normal((2, 3, 3, 4, 3)[: 2 + len(pad) // 2]))
    np.testing.assert_array_equal(np_(module(x)), np_(F.pad(x, pad, mode, **kw)))


def test_circular_pad_modules_check_the_input_dims():
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        nn.CircularPad1d(1)(ember.ones(1, 2, 3, 4))
    with pytest.raises(ValueError, match=r"expected 4D or 5D input \(got 3D input\)"):
        nn.CircularPad3d(1)(ember.ones(1, 2, 3))


# ---------------------------------------------------------------------------------------------------------------------
# losses


def _log_softmax(x):
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


P = rng.uniform(0.1, 1.0, (3, 4))
SIGNS = np.where(rng.random((3, 4)) < 0.5, -1.0, 1.0)
ML_TARGET = np.array([[2, 0, -1, 3], [1, -1, 0, 0], [0, 1, 2, 3]])


def _multilabel_margin_np(x, y):
    out = []
    for xi, yi in zip(x, y):
        targets = []
        for j in yi:
            if j < 0:
                break
            targets.append(j)
        others = [i for i in range(len(xi)) if i not in targets]
        out.append(sum(max(0.0, 1 - (xi[j] - xi[i])) for j in targets for i in others) / len(xi))
    return np.array(out)


def _multi_margin_np(x, y, p=1, margin=1.0, w=None):
    out = []
    for xi, yi in zip(x, y):
        s = 0.0
        for i in range(len(xi)):
            if i != yi:
                z = max(0.0, margin - xi[yi] + xi[i]) ** p
                s += z * (1.0 if w is None else w[yi])
        out.append(s / len(xi))
    return np.array(out)


def _cosine_np(a, b):
    return (a * b).sum(-1) / np.sqrt(((a * a).sum(-1) + 1e-12) * ((b * b).sum(-1) + 1e-12))


def _gaussian_np(x, t, v, full=False, eps=1e-6):
    v = np.maximum(v, eps)
    loss = 0.5 * (np.log(v) + (x - t) ** 2 / v)
    return loss + 0.5 * np.log(2 * np.pi) if full else loss


def _stirling(t):
    return np.where(t > 1, t * np.log(np.maximum(t, 1)) - t + 0.5 * np.log(2 * np.pi * np.maximum(t, 1)), 0.0)


LOSSES = [
    ("kl_div", lambda x, t, r: F.kl_div(x, t, reduction=r), lambda x, t: t * (np.log(t) - x), [(3, 4), P]),
    (
        "kl_div_log_target",
        lambda x, t, r: F.kl_div(x, t, reduction=r, log_target=True),
        lambda x, t: np.exp(t) * (t - x),
        [(3, 4), (3, 4)],
    ),
    ("poisson_nll", lambda x, t, r: F.poisson_nll_loss(x, t, reduction=r), lambda x, t: np.exp(x) - t * x, [(3, 4), P]),
    (
        "poisson_nll_rate_full",
        lambda x, t, r: F.poisson_nll_loss(x, t, log_input=False, full=True, reduction=r),
        lambda x, t: x - t * np.log(x + 1e-8) + _stirling(t),
        # targets away from 1, where the Stirling term switches on (a step finite differences would straddle)
        [P + 0.5, np.array([[0.0, 0.7, 2.5, 4.0], [0.5, 3.0, 1.5, 7.0], [2.0, 0.0, 9.0, 1.3]])],
    ),
    (
        "gaussian_nll",
        lambda x, t, v, r: F.gaussian_nll_loss(x, t, v, reduction=r),
        _gaussian_np,
        [(3, 4), (3, 4), P],
    ),
    (
        "gaussian_nll_full_shared",
        lambda x, t, v, r: F.gaussian_nll_loss(x, t, v, full=True, reduction=r),
        lambda x, t, v: _gaussian_np(x, t, v[:, None], full=True),
        [(3, 4), (3, 4), P[:, 0]],
    ),
    (
        "margin_ranking",
        lambda a, b, y, r: F.margin_ranking_loss(a, b, y, 0.2, reduction=r),
        lambda a, b, y: np.maximum(0, -y * (a - b) + 0.2),
        [(3, 4), (3, 4), SIGNS],
    ),
    (
        "hinge_embedding",
        lambda x, y, r: F.hinge_embedding_loss(x, y, 0.7, reduction=r),
        lambda x, y: np.where(y == 1, x, np.maximum(0, 0.7 - x)),
        [(3, 4), SIGNS],
    ),
    (
        "soft_margin",
        lambda x, y, r: F.soft_margin_loss(x, y, reduction=r),
        lambda x, y: np.log1p(np.exp(-y * x)),
        [(3, 4), SIGNS],
    ),
    (
        "multilabel_soft_margin",
        lambda x, y, w, r: F.multilabel_soft_margin_loss(x, y, w, reduction=r),
        lambda x, y, w: -(w * (y * np.log(_sigmoid(x)) + (1 - y) * np.log(_sigmoid(-x)))).mean(-1),
        [(3, 4), (SIGNS > 0).astype(np.float64), P[0]],
    ),
    (
        "multilabel_margin",
        lambda x, y, r: F.multilabel_margin_loss(x, y, reduction=r),
        _multilabel_margin_np,
        [(3, 4), ML_TARGET],
    ),
    (
        "multi_margin",
        lambda x, y, r: F.multi_margin_loss(x, y, reduction=r),
        _multi_margin_np,
        [(3, 4), np.array([1, 3, 0])],
    ),
    (
        "multi_margin_p2_weight",  # a constant weight: PyTorch refuses one that requires grad
        lambda x, y, r: F.multi_margin_loss(x, y, 2, 0.5, ember.tensor(P[0], dtype=x.dtype), reduction=r),
        lambda x, y: _multi_margin_np(x, y, 2, 0.5, P[0]),
        [(3, 4), np.array([1, 3, 0])],
    ),
    (
        "cosine_embedding",
        lambda a, b, y, r: F.cosine_embedding_loss(a, b, y, 0.1, reduction=r),
        lambda a, b, y: np.where(y == 1, 1 - _cosine_np(a, b), np.maximum(0, _cosine_np(a, b) - 0.1)),
        [(3, 4), (3, 4), SIGNS[:, 0]],
    ),
    (
        "triplet_margin",
        lambda a, p, n, r: F.triplet_margin_loss(a, p, n, margin=2.0, reduction=r),
        lambda a, p, n: np.maximum(
            0, 2.0 + np.linalg.norm(a - p + 1e-6, axis=-1) - np.linalg.norm(a - n + 1e-6, axis=-1)
        ),
        [(3, 4), (3, 4), (3, 4)],
    ),
    (
        "triplet_margin_p1_swap",
        lambda a, p, n, r: F.triplet_margin_loss(a, p, n, margin=3.0, p=1, swap=True, reduction=r),
        lambda a, p, n: np.maximum(
            0,
            3.0 + np.abs(a - p + 1e-6).sum(-1) - np.minimum(np.abs(a - n + 1e-6).sum(-1), np.abs(p - n + 1e-6).sum(-1)),
        ),
        [(3, 4), (3, 4), (3, 4)],
    ),
    (
        "triplet_with_distance",
        lambda a, p, n, r: F.triplet_margin_with_distance_loss(
            a, p, n, distance_function=lambda u, v: (u - v).square().sum(-1), margin=1.5, reduction=r
        ),
        lambda a, p, n: np.maximum(0, 1.5 + ((a - p) ** 2).sum(-1) - ((a - n) ** 2).sum(-1)),
        [(3, 4), (3, 4), (3, 4)],
    ),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name, fn, ref, inputs", LOSSES, ids=[c[0] for c in LOSSES])
def test_loss_forward_and_gradients(name, fn, ref, inputs, reduction):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # kl_div's note about reduction='mean'
        check_op(
            inputs,
            lambda *ts: fn(*ts, reduction),
            lambda *arrays: _reduce(ref(*arrays), reduction),
            low=-1.5,
            high=1.5,
        )


def test_kl_div_batchmean_zero_target_and_legacy_arguments():
    x = _log_softmax(rng.standard_normal((4, 3)))
    t = np.array([[0.0, 0.5, 0.5], [1.0, 0.0, 0.0], [0.2, 0.3, 0.5], [0.1, 0.1, 0.8]])
    target = t64(t, True)
    out = F.kl_div(t64(x), target, reduction="batchmean")
    ref = np.where(t > 0, t * (np.log(np.where(t > 0, t, 1.0)) - x), -t * x).sum() / 4
    np.testing.assert_allclose(out.item(), ref)
    out.backward()
    assert np.isfinite(np_(target.grad)).all()  # 0 log 0 = 0 has no NaN gradient
    with pytest.warns(UserWarning, match="please use reduction='sum' instead"):
        legacy = F.kl_div(t64(x), t64(t), size_average=False)
    np.testing.assert_allclose(legacy.item(), ref * 4)


def test_loss_modules_call_their_functions():
    x, y = t64(rng.standard_normal((3, 4))), t64(SIGNS)
    pairs = [
        (
            nn.KLDivLoss(reduction="batchmean", log_target=True),
            lambda: F.kl_div(x, y, reduction="batchmean", log_target=True),
        ),
        (nn.PoissonNLLLoss(full=True), lambda: F.poisson_nll_loss(x, y.abs(), full=True)),
        (nn.HingeEmbeddingLoss(0.5, reduction="sum"), lambda: F.hinge_embedding_loss(x, y, 0.5, reduction="sum")),
        (nn.SoftMarginLoss(), lambda: F.soft_margin_loss(x, y)),
        (nn.MultiLabelSoftMarginLoss(t64(P[0])), lambda: F.multilabel_soft_margin_loss(x, (y > 0).double(), t64(P[0]))),
    ]
    for module, fn in pairs:
        target = (
            y.abs()
            if isinstance(module, nn.PoissonNLLLoss)
            else (y > 0).double()
            if isinstance(module, nn.MultiLabelSoftMarginLoss)
            else y
        )
        np.testing.assert_allclose(np_(module(x, target)), np_(fn()), err_msg=type(module).__name__)
    assert list(nn.MultiLabelSoftMarginLoss(t64(P[0])).state_dict()) == ["weight"]
    assert list(nn.MultiMarginLoss(weight=t64(P[0])).state_dict()) == ["weight"]
    with pytest.warns(UserWarning, match="please use reduction='none' instead"):
        assert nn.SoftMarginLoss(reduce=False).reduction == "none"
    g = nn.GaussianNLLLoss(eps=0.5)
    np.testing.assert_allclose(np_(g(x, x * 0, 0.1)), _gaussian_np(np_(x), 0.0, 0.1, eps=0.5).mean())


def test_gaussian_nll_clamps_the_variance_value_but_not_its_gradient():
    var = t64([1e-9, 2.0], True)
    F.gaussian_nll_loss(t64([0.0, 0.0]), t64([1.0, 1.0]), var, eps=1e-3, reduction="sum").backward()
    # d/dv 0.5 (log v + 1 / v) at the clamped value v = 1e-3, passed through to the unclamped var (as PyTorch)
    np.testing.assert_allclose(np_(var.grad), [0.5 * (1 / 1e-3 - 1 / 1e-6), 0.5 * (1 / 2 - 1 / 4)])


def test_multi_class_margin_losses_take_unbatched_inputs():
    x = rng.standard_normal(4)
    out = F.multilabel_margin_loss(t64(x), ember.tensor([3, 0, -1, 1]), reduction="none")
    assert out.shape == ()
    np.testing.assert_allclose(out.item(), _multilabel_margin_np(x[None], [[3, 0, -1, 1]])[0])
    out = F.multi_margin_loss(t64(x), ember.tensor(2), reduction="none")
    assert out.shape == ()
    np.testing.assert_allclose(out.item(), _multi_margin_np(x[None], [2])[0])
    empty = F.multilabel_margin_loss(ember.ones(0, 3), ember.ones(0, 3).long(), reduction="none")
    assert empty.shape == (0,)


# ---------------------------------------------------------------------------------------------------------------------
# distances


def _cdist_np(a, b, p):
    d = np.abs(a[..., :, None, :] - b[..., None, :, :])
    if p == 0:
        return (d != 0).sum(-1).astype(a.dtype)
    if np.isinf(p):
        return d.max(-1)
    return (d**p).sum(-1) ** (1 / p)


@pytest.mark.parametrize("p", [0.0, 1.0, 1.5, 2.0, 3.0, float("inf")])
@pytest.mark.parametrize(
    "mode", ["use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist"]
)
def test_cdist_matches_numpy(p, mode):
    check_op(
        [(2, 4, 3), (5, 3)],
        lambda a, b: ember.cdist(a, b, p, mode),
        lambda a, b: _cdist_np(a, b, p),
        grad=p != 0,
        min_abs=0.05,
    )
    # above 25 rows the default mode takes the matrix-product path for p = 2
    a, b = rng.standard_normal((30, 3)), rng.standard_normal((4, 3))
    np.testing.assert_allclose(np_(ember.cdist(t64(a), t64(b), p, mode)), _cdist_np(a, b, p), rtol=1e-9)


def test_cdist_and_pdist_gradient_is_zero_at_zero_distance():
    a = t64([[0.0, 1.0], [2.0, 2.0]], True)
    for mode in ("use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist"):
        a.grad = None
        ember.cdist(a, a.detach(), compute_mode=mode).sum().backward()
        assert np.isfinite(np_(a.grad)).all()
    b = t64([[1.0, 1.0], [1.0, 1.0], [0.0, 1.0]], True)
    F.pdist(b).sum().backward()
    np.testing.assert_allclose(np_(b.grad), [[1.0, 0.0], [1.0, 0.0], [-2.0, 0.0]])


def test_pdist_pairwise_distance_and_cosine_similarity_match_numpy():
    def pdist_np(x, p):
        n = len(x)
        return np.array([_cdist_np(x[i : i + 1], x[j : j + 1], p)[0, 0] for i in range(n) for j in range(i + 1, n)])

    for p in (1.0, 2.0, 3.0):
        check_op([(5, 3)], lambda x, p=p: F.pdist(x, p), lambda x, p=p: pdist_np(x, p))
    check_op(
        [(3, 4), (4,)],
        lambda a, b: F.pairwise_distance(a, b, 3.0, 1e-3, keepdim=True),
        lambda a, b: (np.abs(a - b + 1e-3) ** 3).sum(-1, keepdims=True) ** (1 / 3),
    )
    check_op(
        [(2, 3, 4), (3, 4)],
        lambda a, b: F.cosine_similarity(a, b, dim=-1),
        lambda a, b: (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)),
    )
    x = t64(rng.standard_normal((3, 4)))
    np.testing.assert_allclose(np_(nn.CosineSimilarity(0)(x, x)), 1.0)
    np.testing.assert_allclose(np_(nn.PairwiseDistance(eps=0.0)(x, x)), 0.0)
    assert F.pdist(ember.ones(1, 3)).shape == (0,)


# ---------------------------------------------------------------------------------------------------------------------
# dropout


def test_channel_dropouts_zero_whole_channels_and_scale_the_rest():
    for fn, shape in [(F.dropout1d, (20, 30, 4)), (F.dropout2d, (20, 30, 2, 3)), (F.dropout3d, (20, 30, 2, 2, 2))]:
        out = np_(fn(ember.ones(*shape, dtype=ember.float64), 0.4))
        per_channel = out.reshape(20, 30, -1)
        assert (per_channel == per_channel[..., :1]).all(), fn.__name__  # one draw per channel
        assert set(np.unique(per_channel)) <= {0.0, 1 / 0.6}
        assert abs((per_channel[..., 0] == 0).mean() - 0.4) < 0.1
    unbatched = np_(F.dropout1d(ember.ones(30, 5, dtype=ember.float64), 0.5))
    assert unbatched.shape == (30, 5) and (unbatched == unbatched[:, :1]).all()
    x = ember.ones(3, 4, 5, 2)
    assert F.dropout2d(x, 0.5, training=False) is x
    assert nn.Dropout3d(0.3).eval()(x.unsqueeze(-1)).shape == (3, 4, 5, 2, 1)
    np.testing.assert_array_equal(np_(F.dropout2d(x, 1.0)), 0.0)


def test_channel_dropout_in_place_and_gradient():
    x = ember.ones(4, 6, 3)
    assert F.dropout1d(x, 0.5, inplace=True) is x
    u = ember.ones(6, 3)
    out = F.dropout1d(u, 0.5, inplace=True)
    assert out.shape == (6, 3) and u.shape == (6, 3)
    np.testing.assert_array_equal(np_(out), np_(u))
    a = t64(np.ones((5, 8, 2, 2)), True)
    y = F.dropout2d(a, 0.5)
    y.sum().backward()
    np.testing.assert_array_equal(np_(a.grad), np_(y))  # the mask times the scale


def test_alpha_dropout_keeps_mean_and_variance():
    x = ember.randn(200000, dtype=ember.float64)
    out = np_(F.alpha_dropout(x, 0.3, training=True))
    assert abs(out.mean()) < 0.02 and abs(out.std() - 1) < 0.02

    def dropped_value(p):  # SELU's saturation -alpha, after the affine map a * x + b that restores mean and variance
        alpha = 1.7580993408473766
        a = 1 / np.sqrt((alpha**2 * p + 1) * (1 - p))
        return -alpha * a + alpha * a * p

    dropped = out == dropped_value(0.3)
    assert abs(dropped.mean() - 0.3) < 0.01
    feat = np_(F.feature_alpha_dropout(ember.randn(40, 50, 3, dtype=ember.float64), 0.5, training=True))
    shifted = np.isclose(feat, dropped_value(0.5))
    assert (shifted == shifted[..., :1]).all() and 0.4 < shifted.mean() < 0.6  # whole channels
    y = ember.randn(3, 4)
    assert F.alpha_dropout(y, 0.5) is y  # training=False by default, as PyTorch
    assert nn.AlphaDropout(0.5).eval()(y) is y
    z = ember.randn(30, 4)
    assert nn.FeatureAlphaDropout(0.5, inplace=True)(z) is z
    a = t64(np.ones(10), True)
    F.alpha_dropout(a, 0.5, training=True).sum().backward()
    assert set(np.round(np_(a.grad), 12)) <= {0.0, round(1 / np.sqrt((1.7580993408473766**2 * 0.5 + 1) * 0.5), 12)}


# ---------------------------------------------------------------------------------------------------------------------
# normalisation, channel shuffle


def _lrn_np(x, size, alpha, beta, k):
    c = x.shape[1]
    sq = x * x
    div = np.zeros_like(x)
    for i in range(c):
        lo, hi = max(0, i - size // 2), min(c, i + (size - 1) // 2 + 1)
        div[:, i] = sq[:, lo:hi].sum(1) / size
    return x / (k + alpha * div) ** beta


def test_rms_norm_local_response_norm_and_channel_shuffle_match_numpy():
    check_op(
        [(3, 4), (4,)],
        lambda x, w: F.rms_norm(x, [4], w, 1e-3),
        lambda x, w: x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-3) * w,
        gradgrad=True,
    )
    x = rng.standard_normal((2, 3))
    np.testing.assert_allclose(np_(F.rms_norm(t64(x), 3)), x / np.sqrt((x * x).mean(-1, keepdims=True) + 2.2e-16))
    for size, shape in [(3, (2, 5, 4)), (2, (2, 4, 3, 2)), (4, (1, 5, 2, 2, 3))]:
        check_op(
            [shape],
            lambda x, s=size: F.local_response_norm(x, s, 0.5, 0.6, 2.0),
            lambda x, s=size: _lrn_np(x, s, 0.5, 0.6, 2.0),
        )
    check_op(
        [(2, 6, 3)],
        lambda x: F.channel_shuffle(x, 3),
        lambda x: x.reshape(2, 3, 2, 3).transpose(0, 2, 1, 3).reshape(2, 6, 3),
    )
    np.testing.assert_array_equal(
        np_(nn.ChannelShuffle(2)(ember.arange(4.0).reshape(1, 4, 1))).reshape(-1), [0, 2, 1, 3]
    )


def test_rms_norm_module_and_batch_norm3d():
    m = nn.RMSNorm((2, 3), eps=1e-4).double()
    assert [n for n, _ in m.named_parameters()] == ["weight"] and m.weight.shape == (2, 3)
    x = t64(rng.standard_normal((4, 2, 3)), True)
    assert gradcheck(lambda a, w: F.rms_norm(a, (2, 3), w, 1e-4), (x, m.weight))
    assert nn.RMSNorm(3, elementwise_affine=False).weight is None
    bn = nn.BatchNorm3d(3).double()
    y = rng.standard_normal((2, 3, 2, 2, 2))
    out = np_(bn(t64(y)))
    mean, var = y.mean((0, 2, 3, 4), keepdims=True), y.var((0, 2, 3, 4), keepdims=True)
    np.testing.assert_allclose(out, (y - mean) / np.sqrt(var + 1e-5), rtol=1e-10)
    np.testing.assert_allclose(np_(bn.running_mean), 0.1 * mean.reshape(-1), rtol=1e-10)
    with pytest.raises(ValueError, match=r"expected 5D input \(got 4D input\)"):
        bn(t64(y[0]))


# ---------------------------------------------------------------------------------------------------------------------
# containers, DataParallel


def test_parameter_list_registers_and_converts():
    pl = nn.ParameterList([ember.ones(2), nn.Parameter(ember.zeros(3))])
    pl.append(ember.ones(1))
    pl += [ember.zeros(2, 2)]
    assert len(pl) == 4 and all(isinstance(p, nn.Parameter) for p in pl)
    assert [n for n, _ in pl.named_parameters()] == ["0", "1", "2", "3"]
    pl[-1] = ember.full((1,), 7.0)
    assert pl[3].item() == 7.0 and isinstance(pl[3], nn.Parameter)
    assert len(pl[1:3]) == 2 and pl[1:3][0] is pl[1]
    pl.double()
    assert all(p.dtype == ember.float64 for p in pl)
    with pytest.raises(IndexError, match="index 4 is out of range"):
        pl[4]
    with pytest.raises(TypeError, match="ParameterList.extend should be called with an iterable, but got Tensor"):
        pl.extend(ember.ones(2))
    clone = copy.deepcopy(pl)
    assert clone[0] is not pl[0] and np_(clone[0]).tolist() == np_(pl[0]).tolist()
    assert "0" not in dir(pl)


def test_parameter_dict_registers_and_behaves_as_a_dict():
    pd = nn.ParameterDict({"b": ember.ones(2), "a": ember.zeros(3)})
    assert list(pd) == ["a", "b"]  # a plain dict in sorted order, as PyTorch
    pd["c"] = nn.Parameter(ember.ones(1))
    pd.update([("d", ember.ones(1))])
    assert list(pd.keys()) == ["a", "b", "c", "d"] and "c" in pd and len(pd) == 4
    assert [n for n, _ in pd.named_parameters()] == ["a", "b", "c", "d"]
    assert pd.get("zz") is None and pd.setdefault("e", ember.ones(2)).shape == (2,)
    assert pd.pop("e").shape == (2,) and "e" not in pd
    del pd["d"]
    assert list(pd.state_dict()) == ["a", "b", "c"]
    merged = pd | nn.ParameterDict({"z": ember.ones(1)})
    assert list(merged) == ["a", "b", "c", "z"] and merged["a"] is pd["a"]
    assert list(pd.fromkeys(["x", "y"], ember.ones(1))) == ["x", "y"]
    pd.clear()
    assert len(pd) == 0 and list(pd.parameters()) == []
    with pytest.raises(TypeError, match="cannot be used as a key as it is not a string"):
        pd[0] = ember.ones(1)


def test_data_parallel_is_a_pass_through_wrapper():
    inner = nn.Linear(3, 2)
    dp = nn.DataParallel(inner, device_ids=[0], output_device=0, dim=0)
    assert dp.module is inner and dp.device_ids == [0] and dp.dim == 0
    x = ember.randn(4, 3)
    np.testing.assert_array_equal(np_(dp(x)), np_(inner(x)))
    assert list(dp.state_dict()) == ["module.weight", "module.bias"]
    assert nn.parallel.DataParallel is nn.DataParallel

    class Kw(nn.Module):
        def forward(self, x, scale=1.0):
            return x * scale

    np.testing.assert_array_equal(np_(nn.DataParallel(Kw())(x, scale=2.0)), np_(x) * 2)
    np.testing.assert_array_equal(np_(nn.parallel.data_parallel(Kw(), (x,), module_kwargs={"scale": 3.0})), np_(x) * 3)


def test_parallel_steps_split_replicate_apply_and_gather_with_gradients():
    from ember.nn.parallel import gather, parallel_apply, replicate, scatter, scatter_kwargs

    x = ember.arange(10.0).reshape(5, 2).requires_grad_()
    parts = scatter((x, 3, {"k": x}), ["cpu", "cpu"], dim=0)
    assert len(parts) == 2 and [p[0].shape for p in parts] == [(3, 2), (2, 2)] and parts[1][1] == 3
    np.testing.assert_array_equal(np_(parts[1][2]["k"]), np_(x)[3:])
    args, kwargs = scatter_kwargs((x,), {"scale": 2.0}, ["cpu", "cpu"])
    assert len(args) == len(kwargs) == 2 and kwargs[1] == {"scale": 2.0}
    net = nn.Linear(2, 1)
    replicas = replicate(net, ["cpu", "cpu"])
    outputs = parallel_apply(replicas, [(p[0],) for p in parts])
    joined = gather(outputs, -1, dim=0)
    np.testing.assert_allclose(np_(joined), np_(net(x)), rtol=1e-6)
    joined.sum().backward()  # through the replicas' copies to the network's own parameters and to x
    np.testing.assert_allclose(np_(net.weight.grad), np_(x).sum(0, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(np_(x.grad), np.repeat(np_(net.weight), 5, 0), rtol=1e-6)
    assert all(not p.requires_grad for p in replicate(net, ["cpu"], detach=True)[0].parameters())
    nested = gather([{"a": (ember.ones(1), None)}, {"a": (ember.zeros(2), None)}], "cpu")
    assert nested["a"][0].tolist() == [1.0, 0.0, 0.0] and nested["a"][1] is None


# ---------------------------------------------------------------------------------------------------------------------
# nn.utils: weight_norm, spectral_norm, parametrize


def test_weight_norm_hook_and_parametrization_compute_g_v_over_norm():
    for apply, g_name, v_name in [
        (nn.utils.weight_norm, "weight_g", "weight_v"),
        (
            nn.utils.parametrizations.weight_norm,
            "parametrizations.weight.original0",
            "parametrizations.weight.original1",
        ),
    ]:
        lin = nn.Linear(4, 3).double()
        w = np_(lin.weight).copy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            apply(lin)
        params = dict(lin.named_parameters())
        g, v = params[g_name], params[v_name]
        np.testing.assert_allclose(np_(g).reshape(-1), np.linalg.norm(w, axis=1))
        x = t64(rng.standard_normal((2, 4)))
        np.testing.assert_allclose(np_(lin(x)), np_(x) @ w.T + np_(lin.bias), rtol=1e-12)
        with ember.no_grad():
            g.mul_(2.0)
        np.testing.assert_allclose(np_(lin(x)), np_(x) @ (2 * w).T + np_(lin.bias), rtol=1e-12)
        assert gradcheck(lambda gg, vv, x=x: F.linear(x, gg * vv / vv.norm(2, 1, keepdim=True)), (g, v))
        lin(x).sum().backward()
        assert g.grad is not None and v.grad is not None


def test_weight_norm_hook_warns_and_removes():
    lin = nn.Linear(4, 3)
    with pytest.warns(FutureWarning, match="ember.nn.utils.parametrizations.weight_norm"):
        nn.utils.weight_norm(lin, dim=None)
    assert lin.weight_g.shape == ()
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks on the same parameter weight"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            nn.utils.weight_norm(lin, dim=None)
    x = ember.randn(2, 4)
    before = np_(lin(x))
    nn.utils.remove_weight_norm(lin)
    assert isinstance(lin.weight, nn.Parameter) and not lin._forward_pre_hooks
    np.testing.assert_allclose(np_(lin(x)), before, rtol=1e-6)


@pytest.mark.parametrize("parametrized", [False, True])
def test_spectral_norm_divides_by_the_largest_singular_value(parametrized):
    conv = nn.Conv2d(2, 4, 3).double()
    w = np_(conv.weight).copy()
    sigma = np.linalg.svd(w.reshape(4, -1), compute_uv=False)[0]
    if parametrized:
        nn.utils.parametrizations.spectral_norm(conv, n_power_iterations=100)
    else:
        nn.utils.spectral_norm(conv, n_power_iterations=100)
    x = t64(rng.standard_normal((1, 2, 5, 5)))
    conv(x)  # training: power iteration
    np.testing.assert_allclose(np_(conv.weight), w / sigma, rtol=1e-6)
    conv.eval()
    u_before = np_(conv.parametrizations.weight[0]._u if parametrized else conv.weight_u).copy()
    conv(x)
    np.testing.assert_array_equal(np_(conv.parametrizations.weight[0]._u if parametrized else conv.weight_u), u_before)
    conv.train()
    out = conv(x).sum()
    out.backward()
    orig = conv.parametrizations.weight.original if parametrized else conv.weight_orig
    assert orig.grad is not None and np.isfinite(np_(orig.grad)).all()


def test_spectral_norm_hook_state_dict_version_and_removal():
    lin = nn.utils.spectral_norm(nn.Linear(3, 2))
    sd = lin.state_dict()
    assert list(sd) == ["bias", "weight_orig", "weight_u", "weight_v"]
    assert sd._metadata[""]["spectral_norm"] == {"weight.version": 1}
    other = nn.utils.spectral_norm(nn.Linear(3, 2))
    other.load_state_dict(sd)
    np.testing.assert_array_equal(np_(other.weight_u), np_(lin.weight_u))
    nn.utils.remove_spectral_norm(lin)
    assert list(lin.state_dict()) == ["bias", "weight"]
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found in"):
        nn.utils.remove_spectral_norm(lin)


def test_spectral_norm_hook_upgrades_a_version_0_state_dict():
    lin = nn.utils.spectral_norm(nn.Linear(4, 3).double())
    lin(t64(rng.standard_normal((2, 4))))
    sd = lin.state_dict()
    old = {
        "bias": sd["bias"],
        "weight_orig": sd["weight_orig"],
        "weight_u": sd["weight_u"],
        "weight": lin.weight.detach(),
    }
    fresh = nn.utils.spectral_norm(nn.Linear(4, 3).double())
    fresh.eval().load_state_dict(old, strict=False)
    np.testing.assert_allclose(np_(fresh(t64(np.eye(4)))), np_(lin.eval()(t64(np.eye(4)))), rtol=1e-8)


class Symmetric(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).transpose(-1, -2)

    def right_inverse(self, A):
        return A.triu()


def test_parametrize_register_read_assign_and_remove():
    P = nn.utils.parametrize
    m = nn.Linear(3, 3).double()
    P.register_parametrization(m, "weight", Symmetric())
    assert type(m).__name__ == "ParametrizedLinear" and isinstance(m, nn.Linear)
    assert P.is_parametrized(m) and P.is_parametrized(m, "weight") and not P.is_parametrized(m, "bias")
    assert P.type_before_parametrizations(m) is nn.Linear
    w = np_(m.weight)
    np.testing.assert_array_equal(w, w.T)
    assert [n for n, _ in m.named_parameters()] == ["bias", "parametrizations.weight.original"]
    original = m.parametrizations.weight.original
    target = np.arange(9.0).reshape(3, 3)
    m.weight = t64(target + target.T)
    assert m.parametrizations.weight.original is original  # updated in place through right_inverse
    np.testing.assert_array_equal(np_(m.weight), target + target.T)
    x = t64(rng.standard_normal((2, 3)))
    m(x).sum().backward()
    g = np_(original.grad)
    np.testing.assert_array_equal(g, np.triu(g))  # the lower triangle does not reach the output
    with P.cached():
        assert m.weight is m.weight
    assert m.weight is not m.weight
    P.remove_parametrizations(m, "weight")
    assert type(m) is nn.Linear and isinstance(m.weight, nn.Parameter)
    np.testing.assert_array_equal(np_(m.weight), target + target.T)


def test_parametrize_checks_deepcopy_and_pickle():
    P = nn.utils.parametrize
    m = P.register_parametrization(nn.Linear(3, 3), "weight", Symmetric())
    clone = copy.deepcopy(m)
    assert type(clone).__name__ == "ParametrizedLinear"
    np.testing.assert_array_equal(np_(clone.weight), np_(m.weight))
    assert clone.parametrizations.weight.original is not m.parametrizations.weight.original
    with pytest.raises(RuntimeError, match="only supported through state_dict"):
        pickle.dumps(m)
    with pytest.raises(ValueError, match="may not change the shape of the tensor"):
        P.register_parametrization(nn.Linear(3, 3), "weight", nn.Flatten(0))
    with pytest.raises(ValueError, match="may not change the dtype of the tensor"):

        class ToDouble(nn.Module):
            def forward(self, X):
                return X.double()

        P.register_parametrization(nn.Linear(3, 3), "weight", ToDouble())
    unsafe = P.register_parametrization(nn.Linear(3, 3), "weight", nn.Flatten(0), unsafe=True)
    assert unsafe.weight.shape == (9,)
    with pytest.raises(ValueError, match="Cannot leave unparametrized"):
        P.remove_parametrizations(nn.utils.parametrizations.weight_norm(nn.Linear(2, 2)), "weight", False)


def test_transfer_parametrizations_and_params():
    P = nn.utils.parametrize
    a = P.register_parametrization(nn.Linear(3, 3), "weight", Symmetric())
    b = nn.Linear(3, 3)
    P.transfer_parametrizations_and_params(a, b)
    assert b.parametrizations.weight.original is a.parametrizations.weight.original
    np.testing.assert_array_equal(np_(b.weight), np_(a.weight))


def test_state_dict_hooks_of_module():
    m = nn.Linear(2, 2)
    seen = []
    handle = m._register_state_dict_hook(lambda mod, sd, prefix, meta: seen.append(sorted(sd)))
    m.state_dict()
    assert seen == [["bias", "weight"]]
    handle.remove()
    m.state_dict()
    assert len(seen) == 1

    def rename(module, state_dict, prefix, *rest):
        state_dict[prefix + "weight"] = state_dict.pop(prefix + "w")

    m.register_load_state_dict_pre_hook(rename)
    m.load_state_dict({"w": ember.ones(2, 2), "bias": ember.zeros(2)})
    np.testing.assert_array_equal(np_(m.weight), 1.0)
