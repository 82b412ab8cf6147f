"""ember.linalg against torch.linalg on the same inputs: values, shapes, dtypes, named tuples, node
names and gradients (eigen/singular vectors compared through sign-free quantities); the errors'
words; and the torch-level names (inverse, det, logdet, slogdet, cholesky, qr, svd, pinverse)."""

import math

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(1)


def rand(*shape):
    return RNG.standard_normal(shape)


def square(n, batch=()):
    return rand(*batch, n, n) + n * np.eye(n)


def spd(n, batch=()):
    a = rand(*batch, n, n)
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def sym(m, x):
    return x + x.mT


def pd(m, x):
    return x @ x.mT + x.shape[-1] * m.eye(x.shape[-1], dtype=x.dtype)


def sq(r):
    """Sign-free: the squares of vectors defined up to sign."""
    return tuple(t * t for t in r)


# (id, f(module, *inputs) -> tensor or tuple of tensors, input arrays)
CASES = [
    ("inv", lambda m, a: m.linalg.inv(a), [square(3, (2,))]),
    ("inv_ex", lambda m, a: tuple(m.linalg.inv_ex(a)), [square(3)]),
    ("det", lambda m, a: m.linalg.det(a), [square(4, (2,))]),
    ("slogdet", lambda m, a: tuple(m.linalg.slogdet(a)), [rand(2, 3, 3)]),
    ("solve", lambda m, a, b: m.linalg.solve(a, b), [square(3, (2,)), rand(2, 3, 4)]),
    ("solve-vector", lambda m, a, b: m.linalg.solve(a, b), [square(3), rand(3)]),
    ("solve-vector-batch", lambda m, a, b: m.linalg.solve(a, b), [square(3, (2,)), rand(2, 3)]),
    ("solve-broadcast", lambda m, a, b: m.linalg.solve(a, b), [square(3), rand(2, 3, 2)]),
    ("solve-left-false", lambda m, a, b: m.linalg.solve(a, b, left=False), [square(3), rand(4, 3)]),
    ("solve_triangular", lambda m, a, b: m.linalg.solve_triangular(a, b, upper=True), [square(3), rand(3, 2)]),
    (
        "solve_triangular-right",
        lambda m, a, b: m.linalg.solve_triangular(a, b, upper=False, left=False, unitriangular=True),
        [square(3, (2,)), rand(2, 2, 3)],
    ),
    ("cholesky", lambda m, a: m.linalg.cholesky(pd(m, a)), [rand(2, 3, 3)]),
    ("cholesky-upper", lambda m, a: m.linalg.cholesky(pd(m, a), upper=True), [rand(3, 3)]),
    ("cholesky_ex", lambda m, a: tuple(m.linalg.cholesky_ex(pd(m, a))), [rand(3, 3)]),
    ("qr-tall", lambda m, a: tuple(m.linalg.qr(a)), [rand(5, 3)]),
    ("qr-wide", lambda m, a: tuple(m.linalg.qr(a)), [rand(3, 5)]),
    ("qr-batch", lambda m, a: tuple(m.linalg.qr(a)), [rand(2, 3, 3)]),
    ("eigh", lambda m, a: sq(m.linalg.eigh(sym(m, a))), [rand(4, 4)]),
    ("eigh-U", lambda m, a: sq(m.linalg.eigh(sym(m, a), UPLO="U")), [rand(2, 3, 3)]),
    ("eigvalsh", lambda m, a: m.linalg.eigvalsh(sym(m, a)), [rand(4, 4)]),
    ("svd", lambda m, a: sq(m.linalg.svd(a, full_matrices=False)), [rand(5, 3)]),
    ("svd-wide", lambda m, a: sq(m.linalg.svd(a, full_matrices=False)), [rand(2, 3, 4)]),
    ("svd-full-square", lambda m, a: sq(m.linalg.svd(a)), [rand(3, 3)]),
    ("svdvals", lambda m, a: m.linalg.svdvals(a), [rand(4, 3)]),
    ("pinv", lambda m, a: m.linalg.pinv(a), [rand(4, 3)]),
    ("pinv-hermitian", lambda m, a: m.linalg.pinv(sym(m, a), hermitian=True), [rand(3, 3)]),
    ("lstsq", lambda m, a, b: m.linalg.lstsq(a, b).solution, [rand(5, 3), rand(5, 2)]),
    ("matrix_rank", lambda m, a: m.linalg.matrix_rank(a), [rand(2, 4, 3)]),
    *[
        (f"matrix_norm-{o}", lambda m, a, o=o: m.linalg.matrix_norm(a, o), [rand(2, 3, 4)])
        for o in ["fro", "nuc", math.inf, -math.inf, 1, -1, 2, -2]
    ],
    *[
        (f"vector_norm-{o}", lambda m, a, o=o: m.linalg.vector_norm(a, o, dim=-1), [rand(3, 4)])
        for o in [2, 1, 3, math.inf, -math.inf]
    ],
    ("norm", lambda m, a: m.linalg.norm(a), [rand(3, 4)]),
    ("norm-dim", lambda m, a: m.linalg.norm(a, dim=(0, 1), keepdim=True), [rand(3, 4, 2)]),
    ("norm-ord", lambda m, a: m.linalg.norm(a, "nuc"), [rand(3, 4)]),
    ("cross", lambda m, a, b: m.linalg.cross(a, b), [rand(2, 3), rand(2, 3)]),
    ("vecdot", lambda m, a, b: m.linalg.vecdot(a, b), [rand(2, 3), rand(2, 3)]),
    ("multi_dot", lambda m, a, b, c: m.linalg.multi_dot([a, b, c]), [rand(3), rand(3, 4), rand(4, 2)]),
    ("matrix_power", lambda m, a: m.linalg.matrix_power(a, -2), [square(3)]),
    ("diagonal", lambda m, a: m.linalg.diagonal(a, offset=1), [rand(2, 3, 3)]),
    ("lu_factor", lambda m, a: tuple(m.linalg.lu_factor(a)), [rand(2, 4, 4)]),
    ("lu_factor_ex", lambda m, a: tuple(m.linalg.lu_factor_ex(a)), [rand(3, 3)]),
    ("lu", lambda m, a: tuple(m.linalg.lu(a)), [rand(4, 4)]),
    ("lu-tall-forward", lambda m, a: tuple(t.detach() for t in m.linalg.lu(a)), [rand(5, 3)]),
    ("lu_solve", lambda m, a, b: m.linalg.lu_solve(*m.linalg.lu_factor(a), b), [square(3, (2,)), rand(2, 3, 2)]),
    (
        "lu_solve-right-adjoint",
        lambda m, a, b: m.linalg.lu_solve(*m.linalg.lu_factor(a), b, left=False, adjoint=True),
        [square(3), rand(2, 3)],
    ),
    ("cond", lambda m, a: m.linalg.cond(a), [square(3, (2,))]),
    ("cond-nuc", lambda m, a: m.linalg.cond(a, "nuc"), [square(3)]),
    ("tensorinv", lambda m, a: m.linalg.tensorinv(a), [square(6).reshape(2, 3, 6)]),
    ("tensorsolve", lambda m, a, b: m.linalg.tensorsolve(a, b), [square(6).reshape(2, 3, 6), rand(2, 3)]),
    ("vander", lambda m, x: m.linalg.vander(x, N=4), [rand(2, 3)]),
    ("matrix_exp", lambda m, a: m.linalg.matrix_exp(a), [rand(2, 3, 3)]),
    ("torch.matrix_exp", lambda m, a: m.matrix_exp(3 * a), [rand(3, 3)]),
    ("Tensor.matrix_exp", lambda m, a: a.matrix_exp(), [rand(3, 3)]),
    (
        "torch.cholesky_solve",
        lambda m, a, b: m.cholesky_solve(b, m.linalg.cholesky(pd(m, a))),
        [rand(3, 3), rand(3, 2)],
    ),
    (
        "torch.cholesky_solve-upper",
        lambda m, a, b: m.cholesky_solve(b, m.linalg.cholesky(pd(m, a), upper=True), upper=True),
        [rand(2, 3, 3), rand(2, 3, 2)],
    ),
    ("torch.cholesky_inverse", lambda m, a: m.cholesky_inverse(m.linalg.cholesky(pd(m, a))), [rand(3, 3)]),
    (
        "Tensor.cholesky_inverse",
        lambda m, a: m.linalg.cholesky(pd(m, a), upper=True).cholesky_inverse(True),
        [rand(3, 3)],
    ),
    ("torch.triangular_solve", lambda m, a, b: tuple(m.triangular_solve(b, a)), [square(3), rand(3, 2)]),
    (
        "torch.triangular_solve-T",
        lambda m, a, b: m.triangular_solve(b, a, upper=False, transpose=True, unitriangular=True)[0],
        [square(3, (2,)), rand(2, 3, 2)],
    ),
    ("torch.lu_solve", lambda m, a, b: m.lu_solve(b, *m.linalg.lu_factor(a)), [square(3), rand(3, 2)]),
    ("Tensor.lu_solve", lambda m, a, b: b.lu_solve(*m.linalg.lu_factor(a)), [square(3), rand(3, 2)]),
    ("torch.lu_unpack", lambda m, a: tuple(m.lu_unpack(*m.linalg.lu_factor(a))), [rand(2, 4, 4)]),
    ("torch.lu_unpack-tall", lambda m, a: tuple(m.lu_unpack(*m.linalg.lu_factor(a.detach()))), [rand(5, 3)]),
    ("torch.lu", lambda m, a: tuple(m.lu(a)), [rand(3, 3)]),
    ("Tensor.lu", lambda m, a: tuple(a.lu(get_infos=True)), [rand(3, 3)]),
    ("torch.inverse", lambda m, a: m.inverse(a), [square(3)]),
    ("torch.det", lambda m, a: m.det(a), [square(3)]),
    ("torch.logdet", lambda m, a: m.logdet(pd(m, a)), [rand(3, 3)]),
    ("torch.slogdet", lambda m, a: tuple(m.slogdet(a)), [square(3)]),
    ("torch.cholesky", lambda m, a: m.cholesky(pd(m, a)), [rand(3, 3)]),
    ("torch.qr", lambda m, a: tuple(m.qr(a)), [rand(4, 3)]),
    ("torch.svd", lambda m, a: sq(m.svd(a)), [rand(4, 3)]),
    ("torch.pinverse", lambda m, a: m.pinverse(a), [rand(4, 3)]),
    ("Tensor.inverse", lambda m, a: a.inverse(), [square(3)]),
    ("Tensor.det", lambda m, a: a.det(), [square(3)]),
    ("Tensor.logdet", lambda m, a: pd(m, a).logdet(), [rand(3, 3)]),
    ("Tensor.slogdet", lambda m, a: a.slogdet()[1], [square(3)]),
    ("Tensor.cholesky", lambda m, a: pd(m, a).cholesky(), [rand(3, 3)]),
    ("Tensor.qr", lambda m, a: tuple(a.qr()), [rand(3, 3)]),
    ("Tensor.svd", lambda m, a: sq(a.svd()), [rand(3, 3)]),
    ("Tensor.pinverse", lambda m, a: a.pinverse(), [rand(3, 4)]),
    ("Tensor.matrix_power", lambda m, a: a.matrix_power(-1), [square(3)]),
]


def as_tuple(r):
    return r if isinstance(r, tuple) else (r,)


@pytest.mark.parametrize("name,f,arrays", CASES, ids=[c[0] for c in CASES])
def test_values_and_gradients(name, f, arrays):
    te = [ember.tensor(a, requires_grad=True) for a in arrays]
    tt = [torch.tensor(a, requires_grad=True) for a in arrays]
    re, rt = as_tuple(f(ember, *te)), as_tuple(f(torch, *tt))
    assert len(re) == len(rt)
    for e, t in zip(re, rt):
        assert tuple(e.shape) == tuple(t.shape), name
        assert str(e.dtype).split(".")[1] == str(t.dtype).split(".")[1], name
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-8, atol=1e-9, err_msg=name)
    # the gradient of a weighted sum of the differentiable outputs
    weights = [rand(*t.shape) for t in rt]
    diff = [k for k, t in enumerate(rt) if t.requires_grad]
    if not diff:
        return
    le = sum((re[k] * ember.tensor(weights[k])).sum() for k in diff)
    lt = sum((rt[k] * torch.tensor(weights[k])).sum() for k in diff)
    le.backward()
    lt.backward()
    for x, y in zip(te, tt):
        np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy(), rtol=1e-7, atol=1e-8, err_msg=name)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dtypes_follow_input(dtype):
    a = square(3)
    e = ember.tensor(a, dtype=getattr(ember, dtype))
    t = torch.tensor(a, dtype=getattr(torch, dtype))
    for fn in ("inv", "det", "cholesky", "svdvals", "pinv", "matrix_norm"):
        x = e @ e.mT if fn == "cholesky" else e
        y = t @ t.mT if fn == "cholesky" else t
        re, rt = getattr(ember.linalg, fn)(x), getattr(torch.linalg, fn)(y)
        assert str(re.dtype) == str(rt.dtype).replace("torch", "ember")
        tol = 1e-4 if dtype == "float32" else 1e-10
        np.testing.assert_allclose(re.numpy(), rt.numpy(), rtol=tol, atol=tol)


def test_named_tuple_fields_match():
    a = spd(3)
    e, t = ember.tensor(a), torch.tensor(a)
    pairs = [
        (ember.linalg.slogdet(e), torch.linalg.slogdet(t)),
        (ember.linalg.qr(e), torch.linalg.qr(t)),
        (ember.linalg.eigh(e), torch.linalg.eigh(t)),
        (ember.linalg.svd(e), torch.linalg.svd(t)),
        (ember.linalg.inv_ex(e), torch.linalg.inv_ex(t)),
        (ember.linalg.cholesky_ex(e), torch.linalg.cholesky_ex(t)),
        (ember.linalg.solve_ex(e, e), torch.linalg.solve_ex(t, t)),
        (ember.linalg.lstsq(e, e), torch.linalg.lstsq(t, t)),
        (ember.linalg.lu(e), torch.linalg.lu(t)),
        (ember.linalg.lu_factor(e), torch.linalg.lu_factor(t)),
        (ember.linalg.lu_factor_ex(e), torch.linalg.lu_factor_ex(t)),
        (ember.slogdet(e), torch.slogdet(t)),
        (ember.qr(e), torch.qr(t)),
        (ember.svd(e), torch.svd(t)),
    ]
    for re, rt in pairs:
        assert re._fields == tuple(type(rt).__match_args__) if hasattr(type(rt), "__match_args__") else True
        assert type(re).__name__ == type(rt).__name__
        for x, y in zip(re, rt):
            assert tuple(x.shape) == tuple(y.shape)


@pytest.mark.parametrize("driver", [None, "gels", "gelsy", "gelsd", "gelss"])
def test_lstsq_fields_per_driver(driver):
    a, b = rand(5, 3), rand(5, 2)
    re = ember.linalg.lstsq(ember.tensor(a), ember.tensor(b), driver=driver)
    rt = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), driver=driver)
    for x, y in zip(re, rt):
        assert tuple(x.shape) == tuple(y.shape), driver
        np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=1e-8, atol=1e-9)


def test_node_names_match():
    a = spd(3)
    e = ember.tensor(a, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    for f in [
        lambda m, x: m.linalg.inv(x),
        lambda m, x: m.linalg.det(x),
        lambda m, x: m.linalg.slogdet(x)[1],
        lambda m, x: m.linalg.solve(x, x),
        lambda m, x: m.linalg.cholesky(x),
        lambda m, x: m.linalg.qr(x)[0],
        lambda m, x: m.linalg.eigh(x)[0],
        lambda m, x: m.linalg.svd(x)[1],
        lambda m, x: m.linalg.solve_triangular(x, x, upper=True),
        lambda m, x: m.linalg.lu(x)[1],
        lambda m, x: m.linalg.lu_factor(x)[0],
    ]:
        assert f(ember, e).grad_fn.name() == f(torch, t).grad_fn.name()


ERRORS = [
    lambda m: m.linalg.inv(m.ones(2, 3)),
    lambda m: m.linalg.inv(m.tensor([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])),
    lambda m: m.linalg.inv(m.tensor([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 2.0], [2.0, 4.0]]])),
    lambda m: m.linalg.inv(m.tensor([[1, 2], [3, 4]])),
    lambda m: m.linalg.cholesky(m.tensor([[1.0, 2.0], [2.0, 1.0]])),
    lambda m: m.linalg.cholesky(m.tensor([[[4.0, 0.0], [0.0, 1.0]], [[1.0, 2.0], [2.0, 1.0]]])),
    lambda m: m.linalg.solve(m.tensor([[1.0, 2.0], [2.0, 4.0]]), m.ones(2)),
    lambda m: m.linalg.solve(m.eye(2), m.ones(3)),
    lambda m: m.linalg.solve(m.eye(2), m.ones(2, 2, dtype=m.float64)),
    lambda m: m.linalg.det(m.ones(2, 3)),
    lambda m: m.linalg.det(m.ones(3)),
    lambda m: m.linalg.qr(m.ones(3, 2), mode="x"),
    lambda m: m.linalg.eigh(m.eye(2), UPLO="X"),
    lambda m: m.linalg.matrix_norm(m.ones(3), "fro"),
    lambda m: m.linalg.matrix_norm(m.ones(3, 3), 3),
    lambda m: m.linalg.vector_norm(m.ones(3, dtype=m.int64)),
    lambda m: m.linalg.matrix_norm(m.ones(2, 2, dtype=m.int64), dtype=m.float64),
    lambda m: m.linalg.norm(m.tensor([3, 4]), dtype=m.float32),
    lambda m: m.linalg.svd(m.ones(3, dtype=m.float64)),
    lambda m: m.linalg.eigh(m.ones(2, 3)),
    lambda m: m.linalg.cholesky(m.ones(2, 3)),
    lambda m: m.linalg.solve_triangular(m.ones(2, 3), m.ones(2, 2), upper=True),
    lambda m: m.linalg.norm(m.ones(3, 3, 3), 2),
    lambda m: m.linalg.multi_dot([m.ones(3)]),
    lambda m: m.linalg.solve_triangular(m.eye(3), m.ones(3, 2), upper=True, left=False),
    lambda m: m.linalg.lstsq(m.ones(3, 2), m.ones(3, 2), driver="foo"),
    lambda m: m.linalg.qr(m.ones(3, 2, requires_grad=True), mode="r")[1].sum().backward(),
    lambda m: (
        m.linalg.qr(m.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 7.0]], requires_grad=True), mode="complete")[0]
        .sum()
        .backward()
    ),
]


@pytest.mark.parametrize("k", range(len(ERRORS)))
def test_errors_match(k):
    f = ERRORS[k]
    with pytest.raises(Exception) as et:
        f(torch)
    with pytest.raises(Exception) as ee:
        f(ember)
    assert isinstance(ee.value, RuntimeError) == isinstance(et.value, RuntimeError)
    assert str(ee.value) == str(et.value)
    if isinstance(et.value, torch.linalg.LinAlgError):
        assert isinstance(ee.value, ember.linalg.LinAlgError)


def test_full_matrices_svd_gradient():
    a = rand(3, 3)
    te, tt = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    for m, x in ((ember, te), (torch, tt)):
        U, S, Vh = m.linalg.svd(x)
        ((U * U).sum(0) @ S + (Vh * Vh * m.tensor(a)).sum()).backward()
    np.testing.assert_allclose(te.grad.numpy(), tt.grad.numpy(), rtol=1e-7, atol=1e-8)


def gp_fit(m):
    """A real program: fit a Gaussian process's log length scale and noise by Adam on the negative log
    marginal likelihood (cholesky, solve_triangular, logdet of the factor's diagonal, slogdet)."""
    rng = np.random.default_rng(3)
    xs = m.tensor(np.sort(rng.uniform(-3, 3, 12)))
    ys = m.tensor(np.sin(np.sort(rng.uniform(-3, 3, 12))) + 0.1 * rng.standard_normal(12))
    log_ell = m.tensor(0.0, dtype=m.float64, requires_grad=True)
    log_noise = m.tensor(-1.0, dtype=m.float64, requires_grad=True)
    opt = m.optim.Adam([log_ell, log_noise], lr=0.05)
    losses = []
    for _ in range(15):
        opt.zero_grad()
        d = xs.unsqueeze(0) - xs.unsqueeze(1)
        K = m.exp(-0.5 * d * d / m.exp(2 * log_ell)) + m.exp(log_noise) * m.eye(12, dtype=m.float64)
        L = m.linalg.cholesky(K)
        alpha = m.linalg.solve_triangular(L, ys.unsqueeze(-1), upper=False)
        nll = 0.5 * (alpha * alpha).sum() + m.log(L.diagonal()).sum() + 0.0 * m.linalg.slogdet(K).logabsdet
        nll.backward()
        opt.step()
        losses.append(nll.item())
    return losses, log_ell.item(), log_noise.item()


def test_gaussian_process_program():
    le, lt = gp_fit(ember), gp_fit(torch)
    np.testing.assert_allclose(le[0], lt[0], rtol=1e-9)
    np.testing.assert_allclose(le[1:], lt[1:], rtol=1e-9)


@pytest.mark.parametrize(
    "f",
    [
        lambda m, a: m.linalg.inv(a),
        lambda m, a: m.linalg.det(a),
        lambda m, a: m.linalg.slogdet(a)[1],
        lambda m, a: m.linalg.solve(a, a.sum(-1)),
        lambda m, a: m.linalg.cholesky(a @ a.mT),
        lambda m, a: m.linalg.eigh(a + a.mT)[0],
    ],
)
def test_forward_ad_tangents_match(f):
    a, da = square(3), rand(3, 3)
    import torch.autograd.forward_ad as tfw

    import ember.autograd.forward_ad as efw

    with efw.dual_level():
        te = efw.unpack_dual(f(ember, efw.make_dual(ember.tensor(a), ember.tensor(da)))).tangent
    with tfw.dual_level():
        tt = tfw.unpack_dual(f(torch, tfw.make_dual(torch.tensor(a), torch.tensor(da)))).tangent
    np.testing.assert_allclose(te.numpy(), tt.numpy(), rtol=1e-8, atol=1e-9)
