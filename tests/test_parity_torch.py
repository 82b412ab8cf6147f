"""ember against PyTorch itself: same forward values, gradients and grad_fn names.

Runs only where PyTorch is importable.  Each case is written once as
``fn(lib, *tensors)`` and run with ``lib=ember`` and ``lib=torch``.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import ember  # noqa: E402


def case(id_, shapes, fn, **opts):
    return pytest.param(shapes, fn, opts, id=id_)


S = (3, 4)
B = (2, 3, 4)
OPS = [
    # elementwise
    case("add", [S, (4,)], lambda m, a, b: a + b),
    case("add_alpha", [S, S], lambda m, a, b: m.add(a, b, alpha=0.5)),
    case("sub", [(3, 1), (1, 4)], lambda m, a, b: a - b),
    case("rsub", [S], lambda m, a: 2 - a),
    case("mul", [B, (3, 1)], lambda m, a, b: a * b, gg=True),
    case("div", [S, ()], lambda m, a, b: a / b, min_abs=0.3, gg=True),
    case("rdiv", [S], lambda m, a: 2 / a, min_abs=0.3),
    case("neg", [S], lambda m, a: -a),
    case("pow_scalar", [S], lambda m, a: a**3, gg=True),
    case("pow_neg_scalar", [S], lambda m, a: a**-0.5, low=0.2),
    case("rpow", [S], lambda m, a: 2**a, gg=True),
    case("pow_tensor", [S, S], lambda m, a, b: a**b, low=0.2, gg=True),
    case("abs", [S], lambda m, a: a.abs(), min_abs=0.05),
    case("sqrt", [S], lambda m, a: a.sqrt(), low=0.1, gg=True),
    case("rsqrt", [S], lambda m, a: a.rsqrt(), low=0.1),
    case("exp", [S], lambda m, a: m.exp(a), gg=True),
    case("log", [S], lambda m, a: a.log(), low=0.1, gg=True),
    case("log1p", [S], lambda m, a: a.log1p(), low=-0.8),
    case("expm1", [S], lambda m, a: a.expm1()),
    case("sin", [S], lambda m, a: a.sin(), gg=True),
    case("cos", [S], lambda m, a: m.cos(a)),
    case("tan", [S], lambda m, a: a.tan(), low=-1.2, high=1.2),
    case("tanh", [S], lambda m, a: a.tanh(), gg=True),
    case("sigmoid", [S], lambda m, a: m.sigmoid(a), gg=True),
    case("relu", [S], lambda m, a: a.relu(), min_abs=0.05),
    case("clamp", [S], lambda m, a: a.clamp(-0.5, 0.5)),
    case("clamp_min", [S], lambda m, a: m.clamp(a, min=0.1)),
    case("maximum", [S, (4,)], lambda m, a, b: m.maximum(a, b)),
    case("minimum", [S, S], lambda m, a, b: m.minimum(a, b)),
    case("where", [S, S], lambda m, a, b: m.where(a > b, a * 2, b)),
    case("sign", [S], lambda m, a: a.sign() * a, min_abs=0.05),
    # reductions
    case("sum", [B], lambda m, a: a.sum()),
    case("sum_dims", [B], lambda m, a: a.sum((0, -1), keepdim=True)),
    case("mean", [B], lambda m, a: a.mean(1)),
    case("prod", [B], lambda m, a: a.prod(-1), min_abs=0.3, gg=True),
    case("prod_all", [S], lambda m, a: a.prod(), min_abs=0.3),
    case("max", [B], lambda m, a: a.max()),
    case("max_dim", [B], lambda m, a: a.max(1)),
    case("min_dim_keepdim", [B], lambda m, a: m.min(a, -1, keepdim=True)),
    case("amax", [B], lambda m, a: a.amax((0, 2))),
    case("amin", [B], lambda m, a: a.amin(1, keepdim=True)),
    case("var", [B], lambda m, a: a.var(1), gg=True),
    case("var_correction", [B], lambda m, a: a.var((0, 2), correction=0)),
    case("std", [B], lambda m, a: a.std(), gg=True),
    case("std_unbiased_false", [B], lambda m, a: a.std(-1, unbiased=False, keepdim=True)),
    case("norm", [B], lambda m, a: a.norm(), gg=True),
    case("norm_dim", [B], lambda m, a: a.norm(dim=-1, keepdim=True)),
    case("logsumexp", [B], lambda m, a: a.logsumexp(1), gg=True),
    case("softmax", [B], lambda m, a: a.softmax(-1), gg=True),
    case("log_softmax", [B], lambda m, a: m.log_softmax(a, dim=1), gg=True),
    # linear algebra
    case("matmul_1d_1d", [(4,), (4,)], lambda m, a, b: a @ b),
    case("matmul_2d_1d", [S, (4,)], lambda m, a, b: a @ b),
    case("matmul_2d_2d", [S, (4, 5)], lambda m, a, b: m.matmul(a, b), gg=True),
    # PyTorch's grad_fn names for these reflect its internal decomposition; not compared
    case("matmul_1d_2d", [(3,), S], lambda m, a, b: a @ b, names=False),
    case("matmul_batched", [B, (2, 4, 5)], lambda m, a, b: a @ b, names=False),
    case("matmul_broadcast", [(2, 1, 3, 4), (5, 4, 2)], lambda m, a, b: a @ b, names=False),
    case("mm", [S, (4, 2)], lambda m, a, b: m.mm(a, b)),
    case("bmm", [B, (2, 4, 3)], lambda m, a, b: m.bmm(a, b), gg=True),
    case("dot", [(5,), (5,)], lambda m, a, b: m.dot(a, b)),
    case("mv", [S, (4,)], lambda m, a, b: m.mv(a, b)),
    case("outer", [(3,), (4,)], lambda m, a, b: m.outer(a, b)),
    # joining, splitting, views
    case("cat", [S, (2, 4)], lambda m, a, b: m.cat([a, b, a])),
    case("stack", [S, S], lambda m, a, b: m.stack([a, b], -1)),
    case("split", [(5, 3)], lambda m, a: a.split(2)),
    case("split_sizes", [(5, 3)], lambda m, a: a.split([1, 4])),
    case("chunk", [(3, 6)], lambda m, a: a.chunk(3, 1)),
    case("view", [B], lambda m, a: a.view(6, 4)),
    case("reshape", [B], lambda m, a: a.reshape(4, -1)),
    case("transpose", [B], lambda m, a: a.transpose(0, 2)),
    case("t", [S], lambda m, a: a.t()),
    case("T", [S], lambda m, a: a.T),
    case("permute", [B], lambda m, a: a.permute(1, 2, 0)),
    case("expand", [(3, 1)], lambda m, a: a.expand(2, 3, 4)),
    case("squeeze", [(1, 3, 1)], lambda m, a: a.squeeze()),
    case("squeeze_dim", [(1, 3, 1)], lambda m, a: a.squeeze(-1)),
    case("unsqueeze", [S], lambda m, a: a.unsqueeze(1)),
    case("flatten", [B], lambda m, a: a.flatten(1)),
    case("narrow", [S], lambda m, a: a.narrow(1, 1, 2)),
    case("select", [B], lambda m, a: a[1]),
    case("slice", [B], lambda m, a: a[:, 1:, ::2]),
    case("none_index", [S], lambda m, a: a[..., None]),
    case("clone", [S], lambda m, a: a.clone()),
    case("contiguous", [S], lambda m, a: a.t().contiguous()),
    # indexing
    case("index_int", [S], lambda m, a: a[m.tensor([2, 0, 2])]),
    case("index_pairs", [S], lambda m, a: a[m.tensor([0, 1]), m.tensor([3, 3])]),
    case("index_mask", [S], lambda m, a: a[a > 0]),
    case("gather", [S], lambda m, a: a.gather(1, m.tensor([[0, 0], [3, 1], [2, 2]]))),
    case("index_select", [S], lambda m, a: m.index_select(a, 1, m.tensor([3, 0, 3]))),
    # a small network
    case("mlp", [(5, 4), (4, 3), (3,)], lambda m, x, w, b: ((x @ w + b).tanh() @ w.t()).log_softmax(-1), gg=True),
]


def _arrays(shapes, opts, seed):
    rng = np.random.default_rng(seed)
    out = []
    for s in shapes:
        a = rng.uniform(opts.get("low", -2.0), opts.get("high", 2.0), size=s)
        bad = np.abs(a) < opts.get("min_abs", 0.0)
        while bad.any():
            a[bad] = rng.uniform(opts.get("low", -2.0), opts.get("high", 2.0), size=int(bad.sum()))
            bad = np.abs(a) < opts.get("min_abs", 0.0)
        out.append(np.asarray(a, dtype=np.float64))
    return out


def _tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _dtype_name(d):
    return str(d).rsplit(".", 1)[-1]


def _np(t):
    return t.detach().numpy()


@pytest.mark.parametrize("shapes, fn, opts", OPS)
def test_parity(shapes, fn, opts):
    arrays = _arrays(shapes, opts, seed=len(shapes))
    xe = [ember.tensor(a, requires_grad=True) for a in arrays]
    xt = [torch.tensor(a, requires_grad=True) for a in arrays]
    ye, yt = _tuple(fn(ember, *xe)), _tuple(fn(torch, *xt))
    assert len(ye) == len(yt)
    for e, t in zip(ye, yt):
        assert tuple(e.shape) == tuple(t.shape)
        assert _dtype_name(e.dtype) == _dtype_name(t.dtype)
        np.testing.assert_allclose(_np(e), _np(t), rtol=1e-10, atol=1e-12)
        assert e.requires_grad == t.requires_grad
        if t.grad_fn is not None and opts.get("names", True):
            assert e.grad_fn.name() == type(t.grad_fn).__name__

    diff = [i for i, t in enumerate(yt) if t.requires_grad]
    rng = np.random.default_rng(99)
    vs = [rng.uniform(-1, 1, size=tuple(yt[i].shape)) for i in diff]
    ge = ember.autograd.grad(
        [ye[i] for i in diff], xe, [ember.tensor(v) for v in vs], create_graph=opts.get("gg", False), allow_unused=True
    )
    gt = torch.autograd.grad(
        [yt[i] for i in diff], xt, [torch.tensor(v) for v in vs], create_graph=opts.get("gg", False), allow_unused=True
    )
    for e, t in zip(ge, gt):
        assert (e is None) == (t is None)
        if t is not None:
            np.testing.assert_allclose(_np(e), _np(t), rtol=1e-10, atol=1e-12)

    if opts.get("gg"):  # second order: d/dx of <grad, w>
        ws = [rng.uniform(-1, 1, size=a.shape) for a in arrays]
        st = sum((g * torch.tensor(w)).sum() for g, w in zip(gt, ws) if g is not None and g.requires_grad)
        se = sum((g * ember.tensor(w)).sum() for g, w in zip(ge, ws) if g is not None and g.requires_grad)
        hh_e = ember.autograd.grad(se, xe, allow_unused=True)
        hh_t = torch.autograd.grad(st, xt, allow_unused=True)
        for e, t in zip(hh_e, hh_t):
            if t is None:
                assert e is None or not _np(e).any()
            else:
                np.testing.assert_allclose(_np(e), _np(t), rtol=1e-9, atol=1e-12)


A = np.array([[0.0, 1.0, -1.0, 2.0], [1.0, 1.0, 0.0, -2.0], [2.0, 0.0, 0.0, 1.0]])
NO_GRAD_OPS = [
    pytest.param(lambda m, a: a.argmax(), id="argmax"),
    pytest.param(lambda m, a: a.argmax(1, keepdim=True), id="argmax_dim"),
    pytest.param(lambda m, a: m.argmin(a, dim=0), id="argmin_dim"),
    pytest.param(lambda m, a: a.max(0).indices, id="max_indices"),
    pytest.param(lambda m, a: (a == 1, a != 0, a < a.t()[:4, :3].t(), a <= 0, a > 0.5, a >= 1), id="compare"),
    pytest.param(lambda m, a: (m.eq(a, a[0]), m.lt(a, 1), a.ge(a[:, :1])), id="compare_fn"),
    pytest.param(lambda m, a: (m.logical_not(a), m.logical_and(a > 0, a < 2), m.logical_or(a > 1, a < 0)), id="logic"),
    pytest.param(lambda m, a: (m.isnan(a / a), m.isinf(1 / a)), id="isnan_isinf"),
    pytest.param(lambda m, a: ((a > 0).all(), (a > -3).all(), (a > 1).any(1), m.any(a > 5)), id="all_any"),
    pytest.param(lambda m, a: (a.long() * 3, a.long() / 2, (a > 0) + (a < 1)), id="int_bool_arith"),
    pytest.param(lambda m, a: (m.arange(7), m.arange(0, 1, 0.2), m.linspace(-1, 1, 7), m.eye(3, 4)), id="creation"),
]


@pytest.mark.parametrize("fn", NO_GRAD_OPS)
def test_parity_no_grad(fn):
    with np.errstate(divide="ignore", invalid="ignore"):
        ye, yt = _tuple(fn(ember, ember.tensor(A))), _tuple(fn(torch, torch.tensor(A)))
    for e, t in zip(ye, yt):
        assert tuple(e.shape) == tuple(t.shape)
        assert _dtype_name(e.dtype) == _dtype_name(t.dtype)
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-6)
