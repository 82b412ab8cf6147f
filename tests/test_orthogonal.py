"""nn.utils.parametrizations.orthogonal: the parametrized weight is orthogonal for every map and shape, trains,
takes assignments, and matches PyTorch (oracle, when installed) on map choice and initial values."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember import nn
from ember.nn.utils import parametrize
from ember.nn.utils.parametrizations import _geqrf_reflectors, _householder_product, _OrthMaps, _Orthogonal, orthogonal

MAPS = ["matrix_exp", "cayley", "householder"]
SHAPES = [(5, 5), (7, 3), (3, 7)]


def _gram_error(W: ember.Tensor) -> float:
    """max |Q^T Q - I| (tall or square) or |Q Q^T - I| (wide) over the last two dims."""
    n, k = W.shape[-2], W.shape[-1]
    G = W.mT @ W if n >= k else W @ W.mT
    return float((G - ember.eye(min(n, k), dtype=W.dtype)).abs().max())


def _linear(shape: tuple[int, int], dtype) -> nn.Linear:
    ember.manual_seed(0)
    return nn.Linear(shape[1], shape[0]).to(dtype)


@pytest.mark.parametrize("dtype,tol", [(ember.float32, 1e-5), (ember.float64, 1e-10)])
@pytest.mark.parametrize("triv", [True, False])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("orthogonal_map", MAPS)
def test_weight_is_orthogonal(orthogonal_map, shape, triv, dtype, tol):
    lin = orthogonal(_linear(shape, dtype), orthogonal_map=orthogonal_map, use_trivialization=triv)
    assert parametrize.is_parametrized(lin, "weight")
    assert lin.weight.shape == shape and lin.weight.dtype == dtype
    assert _gram_error(lin.weight) < tol
    # Away from the initial point too: a random unconstrained original (for householder its diagonal holds the
    # +-1 signs, which are not free, as in PyTorch).
    original = lin.parametrizations.weight.original
    with ember.no_grad():
        X = ember.randn(*shape, dtype=dtype)
        if orthogonal_map == "householder":
            X.diagonal().copy_(original.diagonal())
        original.copy_(X)
    assert _gram_error(lin.weight) < tol


@pytest.mark.parametrize("triv", [True, False])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("orthogonal_map", MAPS)
def test_sgd_keeps_orthogonal(orthogonal_map, shape, triv):
    lin = orthogonal(_linear(shape, ember.float64), orthogonal_map=orthogonal_map, use_trivialization=triv)
    original = lin.parametrizations.weight.original
    opt = ember.optim.SGD(lin.parameters(), lr=0.1)
    x = ember.randn(8, shape[1], dtype=ember.float64)
    target = ember.randn(8, shape[0], dtype=ember.float64)
    losses = []
    for _ in range(5):
        opt.zero_grad()
        loss = ((lin(x) - target) ** 2).mean()
        loss.backward()
        assert original.grad is not None and float(original.grad.abs().sum()) > 0
        opt.step()
        losses.append(float(loss))
        assert _gram_error(lin.weight) < 1e-10
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("shape", [(4, 4), (6, 2), (2, 6), (3, 4, 4), (8, 3, 3, 3), (8, 3, 2, 5)])
def test_output_and_batched_shapes(shape):
    if len(shape) == 2:
        module = orthogonal(nn.Linear(shape[1], shape[0]))
        assert module(ember.randn(5, shape[1])).shape == (5, shape[0])
    elif len(shape) == 4:
        # A conv weight (out, in, kh, kw) is a batch of kh x kw matrices, as in PyTorch.
        module = orthogonal(nn.Conv2d(shape[1], shape[0], (shape[2], shape[3])))
        assert module(ember.randn(2, shape[1], 6, 7)).shape == (2, shape[0], 7 - shape[2], 8 - shape[3])
    else:
        module = nn.Module()
        module.weight = nn.Parameter(ember.randn(*shape))
        orthogonal(module)
    assert module.weight.shape == shape
    assert _gram_error(module.weight) < 1e-5


def test_gradcheck_maps():
    for orthogonal_map in MAPS:
        for shape in [(3, 3), (4, 2), (2, 4), (2, 3, 3)]:
            X = ember.randn(*shape, dtype=ember.float64)
            orth = _Orthogonal(X, _OrthMaps[orthogonal_map])
            orth.right_inverse(X)  # sets base: X's QR, completed to a square orthogonal matrix
            X = X.clone().requires_grad_()
            assert ember.autograd.gradcheck(orth, (X,), eps=1e-6, atol=1e-5)
            plain = _Orthogonal(X, orth.orthogonal_map, use_trivialization=False)
            assert ember.autograd.gradcheck(plain, (X,), eps=1e-6, atol=1e-5)


def test_householder_product_gradcheck():
    A = ember.randn(5, 3, dtype=ember.float64, requires_grad=True)
    tau = ember.rand(3, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(_householder_product, (A, tau), eps=1e-6, atol=1e-5)


@pytest.mark.parametrize("shape", SHAPES)
def test_assign_orthogonal_matrix(shape):
    lin = orthogonal(nn.Linear(shape[1], shape[0]).double())
    Q, _ = ember.linalg.qr(ember.randn(max(shape), min(shape), dtype=ember.float64))
    if shape[0] < shape[1]:
        Q = Q.mT
    lin.weight = Q
    assert float((lin.weight - Q).abs().max()) < 1e-12
    with pytest.raises(ValueError, match="Expected a matrix"):
        lin.weight = ember.randn(shape[0] + 1, shape[1], dtype=ember.float64)


def test_assign_without_trivialization():
    lin = orthogonal(nn.Linear(4, 4).double(), orthogonal_map="householder", use_trivialization=False)
    Q, _ = ember.linalg.qr(ember.randn(4, 4, dtype=ember.float64))
    lin.weight = Q
    assert float((lin.weight - Q).abs().max()) < 1e-12
    lin = orthogonal(nn.Linear(4, 4), orthogonal_map="matrix_exp", use_trivialization=False)
    with pytest.raises(NotImplementedError):
        lin.weight = ember.eye(4)


def test_errors():
    with pytest.raises(ValueError, match="Expected a matrix or batch of matrices"):
        orthogonal(nn.Linear(3, 3), "bias")
    with pytest.raises(ValueError, match="orthogonal_map has to be one of"):
        orthogonal(nn.Linear(3, 3), orthogonal_map="qr")
    with pytest.raises(ValueError, match="has no parameter or buffer"):
        orthogonal(nn.Linear(3, 3), "nope")


def test_state_dict_has_base():
    lin = orthogonal(nn.Linear(3, 5))
    keys = set(lin.state_dict())
    assert {"parametrizations.weight.original", "parametrizations.weight.0.base", "bias"} <= keys


# ---- PyTorch as an oracle ----


def _to_torch(x, torch):
    return torch.from_numpy(np.array(x.detach().numpy()))


def _from_torch(x):
    return ember.tensor(x.detach().numpy())


@pytest.mark.parametrize("triv", [True, False])
@pytest.mark.parametrize("orthogonal_map", [None, *MAPS])
@pytest.mark.parametrize("shape", [(4, 4), (6, 3), (3, 6), (8, 3, 3, 3), (8, 3, 2, 5), (2, 5, 3)])
def test_matches_torch(shape, orthogonal_map, triv):
    torch = pytest.importorskip("torch")
    w = np.random.default_rng(0).standard_normal(shape)
    tmod, emod = torch.nn.Module(), nn.Module()
    tmod.weight = torch.nn.Parameter(torch.from_numpy(w.copy()))
    emod.weight = nn.Parameter(ember.tensor(w.copy()))
    torch.nn.utils.parametrizations.orthogonal(tmod, orthogonal_map=orthogonal_map, use_trivialization=triv)
    orthogonal(emod, orthogonal_map=orthogonal_map, use_trivialization=triv)
    tp, ep = tmod.parametrizations.weight[0], emod.parametrizations.weight[0]
    assert ep.orthogonal_map.name == tp.orthogonal_map.name
    assert hasattr(ep, "base") == hasattr(tp, "base")
    assert tuple(ep.shape) == tuple(tp.shape)
    np.testing.assert_allclose(
        emod.parametrizations.weight.original.detach().numpy(),
        tmod.parametrizations.weight.original.detach().numpy(),
        atol=1e-10,
    )
    n, k = shape[-2], shape[-1]
    if triv and n != k:
        # base completes the weight with random columns: only the weight's own columns are determined.
        ebase, tbase = ep.base.detach().numpy(), tp.base.detach().numpy()
        m = min(n, k)
        np.testing.assert_allclose(ebase[..., :m], tbase[..., :m], atol=1e-10)
    np.testing.assert_allclose(emod.weight.detach().numpy(), tmod.weight.detach().numpy(), atol=1e-10)
    # The map itself, away from the initial point: set the same originals and compare.
    X = np.random.default_rng(1).standard_normal(shape)
    if tp.orthogonal_map.name == "householder":
        X = X * (1 - np.eye(n, k)) + np.eye(n, k) * tmod.parametrizations.weight.original.detach().numpy()
    with torch.no_grad():
        tmod.parametrizations.weight.original.copy_(torch.from_numpy(X))
        if triv:
            tp.base.copy_(_to_torch(ep.base, torch))
    with ember.no_grad():
        emod.parametrizations.weight.original.copy_(ember.tensor(X))
    np.testing.assert_allclose(emod.weight.detach().numpy(), tmod.weight.detach().numpy(), atol=1e-9)
    # And the gradients of a loss through it.
    g = np.random.default_rng(2).standard_normal(shape)
    (tmod.weight * torch.from_numpy(g)).sum().backward()
    (emod.weight * ember.tensor(g)).sum().backward()
    np.testing.assert_allclose(
        emod.parametrizations.weight.original.grad.numpy(),
        tmod.parametrizations.weight.original.grad.numpy(),
        atol=1e-8,
    )


@pytest.mark.parametrize("shape", [(4, 4), (6, 3), (3, 6)])
def test_assign_non_orthogonal_matches_torch(shape):
    """PyTorch does not raise for a non-orthogonal assignment: it stores its QR orthogonalisation."""
    torch = pytest.importorskip("torch")
    w = np.random.default_rng(3).standard_normal(shape)
    tlin = torch.nn.utils.parametrizations.orthogonal(torch.nn.Linear(shape[1], shape[0]).double())
    elin = orthogonal(nn.Linear(shape[1], shape[0]).double())
    tlin.weight = torch.from_numpy(w)
    elin.weight = ember.tensor(w)
    assert _gram_error(elin.weight) < 1e-10
    if shape[0] == shape[1]:
        np.testing.assert_allclose(elin.weight.detach().numpy(), tlin.weight.detach().numpy(), atol=1e-10)


def test_helpers_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    A, tau = rng.standard_normal((2, 6, 4)), rng.random((2, 4))
    np.testing.assert_allclose(
        _householder_product(ember.tensor(A), ember.tensor(tau)).numpy(),
        torch.linalg.householder_product(torch.from_numpy(A), torch.from_numpy(tau)).numpy(),
        atol=1e-12,
    )
    M = rng.standard_normal((2, 6, 4))
    M[0, :, 1] = 0.0  # a column LAPACK does not reflect (tau = 0)
    X, t = torch.geqrf(torch.from_numpy(M))
    X.diagonal(dim1=-2, dim2=-1).sign_()
    X.diagonal(dim1=-2, dim2=-1)[t == 0.0] *= -1
    np.testing.assert_allclose(_geqrf_reflectors(ember.tensor(M)).numpy(), X.numpy(), atol=1e-12)
