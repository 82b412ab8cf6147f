"""ember.linalg against numpy.linalg: values, shapes and named tuples; gradcheck (float64, small
well-conditioned inputs) for every differentiable function and gradgradcheck for a few; the
errors' key words; the torch-level names and Tensor methods."""

import math

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck

LA = ember.linalg
RNG = np.random.default_rng(0)


def rand(*shape):
    return RNG.standard_normal(shape)


def square(n, batch=()):
    """Well-conditioned: a random matrix plus n on the diagonal."""
    return rand(*batch, n, n) + n * np.eye(n)


def spd(n, batch=()):
    a = rand(*batch, n, n)
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def T(a, grad=False, dtype=None):
    return ember.tensor(a, dtype=dtype or ember.float64, requires_grad=grad)


def close(t, a, tol=1e-10):
    t = t.detach().numpy() if isinstance(t, ember.Tensor) else t
    np.testing.assert_allclose(t, a, rtol=tol, atol=tol)


# ------------------------------------------------------------------------------------------ forward


def test_module_and_exports():
    assert ember.linalg.__name__ == "ember.linalg"
    for name in LA.__all__:
        assert callable(getattr(LA, name))
    for name in "inverse det logdet slogdet cholesky qr svd pinverse".split():
        assert callable(getattr(ember, name)) and callable(getattr(ember.Tensor, name))


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
def test_inv_det_slogdet(dtype):
    a = square(4, (2,))
    x = T(a, dtype=dtype)
    tol = 1e-4 if dtype == ember.float32 else 1e-10
    assert LA.inv(x).dtype == dtype
    close(LA.inv(x), np.linalg.inv(a), tol)
    close(LA.det(x), np.linalg.det(a), tol)
    sign, logabs = LA.slogdet(x)
    ref = np.linalg.slogdet(a)
    close(sign, ref.sign, tol)
    close(logabs, ref.logabsdet, tol)
    assert LA.det(x).shape == (2,) and LA.det(x[0]).shape == ()
    inv, info = LA.inv_ex(x)
    assert info.dtype == ember.int32 and info.tolist() == [0, 0]
    close(inv, np.linalg.inv(a), tol)


def test_named_tuples():
    x = T(spd(3))
    r = LA.slogdet(x)
    assert type(r).__name__ == "linalg_slogdet" and r._fields == ("sign", "logabsdet")
    assert LA.qr(x)._fields == ("Q", "R")
    assert LA.eigh(x)._fields == ("eigenvalues", "eigenvectors")
    assert LA.svd(x)._fields == ("U", "S", "Vh")
    assert LA.inv_ex(x)._fields == ("inverse", "info")
    assert LA.cholesky_ex(x)._fields == ("L", "info")
    assert LA.lstsq(x, x)._fields == ("solution", "residuals", "rank", "singular_values")
    assert ember.svd(x)._fields == ("U", "S", "V")
    assert ember.slogdet(x)._fields == ("sign", "logabsdet")


def test_solve_forms():
    a, b = square(3, (2,)), rand(2, 3, 4)
    close(LA.solve(T(a), T(b)), np.linalg.solve(a, b))
    v = rand(3)
    close(LA.solve(T(a[0]), T(v)), np.linalg.solve(a[0], v))
    bv = rand(2, 3)  # a batch of vectors: B has A's shape without its last dim
    close(LA.solve(T(a), T(bv)), np.linalg.solve(a, bv[..., None])[..., 0])
    # broadcasting of batch dims
    close(LA.solve(T(a[0]), T(b)), np.linalg.solve(a[0], b))
    # left=False: X A = B
    bl = rand(2, 4, 3)
    x = LA.solve(T(a), T(bl), left=False)
    close(x.numpy() @ a, bl)


def test_solve_triangular():
    a = np.triu(square(3))
    b = rand(3, 2)
    close(LA.solve_triangular(T(a + np.tril(rand(3, 3), -1)), T(b), upper=True), np.linalg.solve(a, b))
    al = np.tril(square(3))
    x = LA.solve_triangular(T(al), T(rand(2, 3)), upper=False, left=False)
    assert x.shape == (2, 3)
    # unitriangular: the diagonal is read as ones, whatever it holds
    strict = np.triu(rand(3, 3), 1)
    close(
        LA.solve_triangular(T(strict + 5 * np.eye(3)), T(b), upper=True, unitriangular=True),
        np.linalg.solve(strict + np.eye(3), b),
    )


def test_cholesky():
    a = spd(4, (3,))
    L = LA.cholesky(T(a))
    close(L, np.linalg.cholesky(a))
    U = LA.cholesky(T(a), upper=True)
    close(U, np.swapaxes(np.linalg.cholesky(a), -1, -2))
    L2, info = LA.cholesky_ex(T(a))
    assert info.tolist() == [0, 0, 0]
    close(ember.cholesky(T(a[0])), np.linalg.cholesky(a[0]))
    close(T(a[0]).cholesky(upper=True), np.linalg.cholesky(a[0]).T)


@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (3, 5), (2, 4, 3)])
@pytest.mark.parametrize("mode", ["reduced", "complete", "r"])
def test_qr(shape, mode):
    a = rand(*shape)
    Q, R = LA.qr(T(a), mode=mode)
    if mode == "r":
        assert Q.shape == (0,)
        close(R, np.linalg.qr(a, mode="r"))
        return
    q, r = np.linalg.qr(a, mode=mode)
    close(Q, q)
    close(R, r)
    close(Q.numpy() @ R.numpy(), a)


def test_torch_qr_svd_forms():
    a = rand(5, 3)
    Q, R = ember.qr(T(a), some=False)
    assert Q.shape == (5, 5) and R.shape == (5, 3)
    U, S, V = ember.svd(T(a))
    assert U.shape == (5, 3) and V.shape == (3, 3)
    close((U.numpy() * S.numpy()) @ V.numpy().T, a)
    U, S, V = T(a).svd(some=False)
    assert U.shape == (5, 5)
    U, S, V = ember.svd(T(a), compute_uv=False)
    assert U.abs().sum().item() == 0 and V.shape == (3, 3)
    close(S, np.linalg.svd(a, compute_uv=False))


def test_eigh_eigvalsh():
    a = spd(4, (2,)) - 3 * np.eye(4)
    w, v = LA.eigh(T(a))
    rw, _ = np.linalg.eigh(a)
    close(w, rw)
    close(v.numpy() @ np.apply_along_axis(np.diag, -1, w.numpy()) @ np.swapaxes(v.numpy(), -1, -2), a)
    close(LA.eigvalsh(T(a)), rw)
    # UPLO: only that triangle is read
    lower = np.tril(a[0]) + np.triu(rand(4, 4), 1)
    close(LA.eigvalsh(T(lower)), np.linalg.eigvalsh(a[0]))
    upper = np.triu(a[0]) + np.tril(rand(4, 4), -1)
    close(LA.eigvalsh(T(upper), UPLO="U"), np.linalg.eigvalsh(a[0]))


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 4, 4)])
def test_svd(shape):
    a = rand(*shape)
    U, S, Vh = LA.svd(T(a), full_matrices=False)
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    close(S, s)
    close(U.numpy() * S.numpy()[..., None, :] @ Vh.numpy(), a)
    Uf, _, Vhf = LA.svd(T(a))
    assert Uf.shape[-1] == shape[-2] and Vhf.shape[-2] == shape[-1]
    close(LA.svdvals(T(a)), s)


def test_pinv_lstsq_rank():
    a = rand(5, 3)
    close(LA.pinv(T(a)), np.linalg.pinv(a))
    h = spd(3)
    close(LA.pinv(T(h), hermitian=True), np.linalg.pinv(h))
    close(ember.pinverse(T(a)), np.linalg.pinv(a))
    b = rand(5, 2)
    sol, res, rank, sv = LA.lstsq(T(a), T(b))
    rs, rres, rrank, rsv = np.linalg.lstsq(a, b, rcond=None)
    close(sol, rs)
    assert rank.item() == rrank and sv.numel() == 0 and res.numel() == 0  # gelsy: no residuals, as PyTorch
    sol, res, rank, sv = LA.lstsq(T(a), T(b), driver="gelsd")
    close(res, rres)
    close(sv, rsv)
    assert LA.lstsq(T(a), T(b), driver="gelsd").singular_values.shape == (3,)
    assert LA.lstsq(T(a), T(b), driver="gels").rank.numel() == 0
    # rank-deficient: the minimum-norm solution, no residuals
    d = a.copy()
    d[:, 2] = d[:, 0] + d[:, 1]
    sol, res, rank, _ = LA.lstsq(T(d), T(b))
    close(sol, np.linalg.lstsq(d, b, rcond=None)[0], 1e-8)
    assert rank.item() == 2 and res.numel() == 0
    assert LA.matrix_rank(T(d)).item() == 2 and LA.matrix_rank(T(d)).dtype == ember.int64
    assert LA.matrix_rank(T(a)).item() == 3
    assert LA.matrix_rank(T(np.stack([a, d]))).tolist() == [3, 2]
    assert LA.matrix_rank(T(d), atol=10.0).item() < 2
    # a vector right-hand side
    bv = rand(5)
    close(LA.lstsq(T(a), T(bv)).solution, np.linalg.lstsq(a, bv, rcond=None)[0])


@pytest.mark.parametrize("ord", ["fro", "nuc", math.inf, -math.inf, 1, -1, 2, -2])
def test_matrix_norm(ord):
    a = rand(2, 3, 4)
    ref = np.linalg.norm(a, ord=ord, axis=(-2, -1))
    close(LA.matrix_norm(T(a), ord), ref)
    close(LA.matrix_norm(T(a), ord, dim=(0, 2)), np.linalg.norm(a, ord=ord, axis=(0, 2)))
    k = LA.matrix_norm(T(a), ord, keepdim=True)
    assert k.shape == (2, 1, 1)
    close(LA.norm(T(a[0]), ord), np.linalg.norm(a[0], ord))


@pytest.mark.parametrize("ord", [2, 1, 3, 0, math.inf, -math.inf, 0.5])
def test_vector_norm(ord):
    a = rand(3, 4)
    close(LA.vector_norm(T(a), ord), np.linalg.norm(a.ravel(), ord))
    close(LA.vector_norm(T(a), ord, dim=1), np.linalg.norm(a, ord, axis=1))
    assert LA.vector_norm(T(a), ord, dim=(0, 1), keepdim=True).shape == (1, 1)
    close(LA.norm(T(a[0]), ord), np.linalg.norm(a[0], ord))


def test_norm_defaults_and_dtype():
    a = rand(2, 3, 4)
    close(LA.norm(T(a)), np.linalg.norm(a.ravel()))
    close(LA.norm(T(a), dim=(1, 2)), np.linalg.norm(a, axis=(1, 2)))
    close(LA.norm(T(a), dim=2), np.linalg.norm(a, axis=2))
    x = ember.tensor([3.0, 4.0])
    assert LA.vector_norm(x, dtype=ember.float64).dtype == ember.float64
    with pytest.raises(RuntimeError, match="Expected a floating point or complex tensor as input. Got Long"):
        LA.vector_norm(ember.tensor([3, 4]), dtype=ember.float32)  # as PyTorch: dtype= does not convert ints
    with pytest.raises(RuntimeError, match="Expected a floating point or complex tensor as input. Got Long"):
        LA.matrix_norm(ember.ones(2, 2, dtype=ember.int64), dtype=ember.float64)


def test_small_functions():
    a, b = rand(2, 3, 3), rand(2, 3, 3)
    close(LA.matmul(T(a), T(b)), a @ b)
    close(LA.cross(T(a), T(b)), np.cross(a, b))
    close(LA.cross(T(a), T(b), dim=1), np.cross(a, b, axis=1))
    close(LA.diagonal(T(a)), np.diagonal(a, axis1=-2, axis2=-1))
    close(LA.diagonal(T(a), offset=1, dim1=0, dim2=2), np.diagonal(a, 1, 0, 2))
    close(LA.vecdot(T(a), T(b)), (a * b).sum(-1))
    close(LA.vecdot(T(a), T(b), dim=0), (a * b).sum(0))
    m1, m2, m3, v = rand(2, 3), rand(3, 4), rand(4, 2), rand(2)
    close(LA.multi_dot([T(m1), T(m2), T(m3)]), m1 @ m2 @ m3)
    close(LA.multi_dot([T(v), T(m1), T(m2), T(m3), T(v)]), v @ m1 @ m2 @ m3 @ v)
    s = square(3)
    close(LA.matrix_power(T(s), 3), np.linalg.matrix_power(s, 3))
    close(LA.matrix_power(T(s), -2), np.linalg.matrix_power(s, -2))
    close(ember.matrix_power(T(s), -1), np.linalg.inv(s))
    close(T(s).matrix_power(-3), np.linalg.matrix_power(s, -3), 1e-9)
    close(LA.matrix_power(T(s), 0), np.eye(3))


def test_torch_level_names_and_methods():
    s = spd(3)
    x = T(s)
    close(ember.inverse(x), np.linalg.inv(s))
    close(x.inverse(), np.linalg.inv(s))
    close(ember.det(x), np.linalg.det(s))
    close(x.det(), np.linalg.det(s))
    close(ember.logdet(x), np.log(np.linalg.det(s)))
    close(x.logdet(), np.log(np.linalg.det(s)))
    assert math.isnan(ember.logdet(T(-np.eye(3))).item())
    assert ember.logdet(T(np.zeros((2, 2)))).item() == -math.inf
    close(x.slogdet().logabsdet, np.linalg.slogdet(s).logabsdet)
    close(x.cholesky(), np.linalg.cholesky(s))
    close(x.qr().R, np.linalg.qr(s)[1])
    close(x.svd().S, np.linalg.svd(s)[1])
    close(x.pinverse(), np.linalg.pinv(s))


def test_no_grad_outputs_and_node_names():
    x = T(spd(3), grad=True)
    assert type(LA.inv(x).grad_fn).__name__ == "LinalgInvExBackward0"
    assert type(LA.det(x).grad_fn).__name__ == "LinalgDetBackward0"
    sign, logabs = LA.slogdet(x)
    assert type(sign.grad_fn).__name__ == "LinalgSlogdetBackward0"  # as PyTorch's: sign is an output of the node
    assert type(logabs.grad_fn).__name__ == "LinalgSlogdetBackward0"
    assert type(LA.solve(x, x).grad_fn).__name__ == "LinalgSolveExBackward0"
    assert type(LA.cholesky(x).grad_fn).__name__ == "LinalgCholeskyExBackward0"
    assert type(LA.qr(x).Q.grad_fn).__name__ == "LinalgQrBackward0"
    assert type(LA.eigh(x).eigenvalues.grad_fn).__name__ == "LinalgEighBackward0"
    assert type(LA.svd(x).S.grad_fn).__name__ == "LinalgSvdBackward0"
    assert type(LA.solve_triangular(x, x, upper=True).grad_fn).__name__ == "LinalgSolveTriangularBackward0"
    inv, info = LA.inv_ex(x)
    assert not info.requires_grad
    with ember.no_grad():
        assert not LA.inv(x).requires_grad


# ----------------------------------------------------------------------------------------- gradients


def sym(x):
    return x + x.mT


def pd(x):
    return x @ x.mT + x.shape[-1] * ember.eye(x.shape[-1], dtype=x.dtype)


def sign_free(r):
    """Eigen/singular vectors are defined up to sign: their squares are not."""
    return tuple(t * t for t in r)


# (id, f, input arrays); every f is differentiable in all its inputs.
GRAD_CASES = [
    ("inv", LA.inv, [square(3)]),
    ("inv-batch", LA.inv, [square(3, (2,))]),
    ("inv_ex", lambda a: LA.inv_ex(a).inverse, [square(3)]),
    ("det", LA.det, [square(3, (2,))]),
    ("slogdet", lambda a: LA.slogdet(a).logabsdet, [square(3, (2,))]),
    ("logdet", ember.logdet, [spd(3)]),
    ("solve", LA.solve, [square(3, (2,)), rand(2, 3, 2)]),
    ("solve-broadcast", LA.solve, [square(3), rand(2, 3, 2)]),
    ("solve-vector", LA.solve, [square(3), rand(3)]),
    ("solve-left-false", lambda a, b: LA.solve(a, b, left=False), [square(3), rand(2, 3)]),
    ("solve_triangular", lambda a, b: LA.solve_triangular(a, b, upper=True), [square(3), rand(3, 2)]),
    (
        "solve_triangular-right-unit",
        lambda a, b: LA.solve_triangular(a, b, upper=False, left=False, unitriangular=True),
        [square(3), rand(2, 3)],
    ),
    ("cholesky", lambda a: LA.cholesky(pd(a)), [rand(3, 3)]),
    ("cholesky-upper", lambda a: LA.cholesky(pd(a), upper=True), [rand(2, 3, 3)]),
    ("cholesky_ex", lambda a: LA.cholesky_ex(pd(a)).L, [rand(3, 3)]),
    ("qr-tall", lambda a: tuple(LA.qr(a)), [rand(4, 3)]),
    ("qr-square-batch", lambda a: tuple(LA.qr(a)), [rand(2, 3, 3)]),
    ("qr-wide", lambda a: tuple(LA.qr(a)), [rand(3, 5)]),
    ("qr-complete-square", lambda a: tuple(LA.qr(a, mode="complete")), [rand(3, 3)]),
    ("eigh", lambda a: sign_free(LA.eigh(sym(a))), [rand(4, 4)]),
    ("eigh-upper", lambda a: sign_free(LA.eigh(sym(a), UPLO="U")), [rand(2, 3, 3)]),
    ("eigvalsh", lambda a: LA.eigvalsh(sym(a)), [rand(4, 4)]),
    ("svd-tall", lambda a: sign_free(LA.svd(a, full_matrices=False)), [rand(5, 3)]),
    ("svd-wide", lambda a: sign_free(LA.svd(a, full_matrices=False)), [rand(3, 5)]),
    ("svd-U-Vh", lambda a: (lambda r: r.U @ r.Vh)(LA.svd(a, full_matrices=False)), [rand(4, 3)]),
    ("svdvals", LA.svdvals, [rand(4, 3)]),
    ("torch-svd", lambda a: sign_free(ember.svd(a)), [rand(4, 3)]),
    ("pinv", LA.pinv, [rand(4, 3)]),
    ("pinv-wide", LA.pinv, [rand(2, 4)]),
    ("pinv-hermitian", lambda a: LA.pinv(sym(a), hermitian=True), [rand(3, 3)]),
    ("lstsq", lambda a, b: LA.lstsq(a, b).solution, [rand(5, 3), rand(5, 2)]),
    ("matrix_norm-fro", LA.matrix_norm, [rand(3, 4)]),
    ("matrix_norm-nuc", lambda a: LA.matrix_norm(a, "nuc"), [rand(3, 4)]),
    ("matrix_norm-2", lambda a: LA.matrix_norm(a, 2), [rand(3, 4)]),
    ("matrix_norm--2", lambda a: LA.matrix_norm(a, -2), [rand(3, 4)]),
    ("matrix_norm-inf", lambda a: LA.matrix_norm(a, math.inf), [rand(3, 4)]),
    ("matrix_norm-1", lambda a: LA.matrix_norm(a, 1, dim=(0, 1)), [rand(3, 4)]),
    ("vector_norm", lambda a: LA.vector_norm(a, 3, dim=1), [rand(3, 4)]),
    ("norm", LA.norm, [rand(3, 4)]),
    ("matrix_power-neg", lambda a: LA.matrix_power(a, -2), [square(3)]),
    ("multi_dot", lambda a, b, c: LA.multi_dot([a, b, c]), [rand(3), rand(3, 4), rand(4, 2)]),
    ("vecdot", LA.vecdot, [rand(2, 3), rand(2, 3)]),
    ("cross", LA.cross, [rand(2, 3), rand(2, 3)]),
    ("pinverse", ember.pinverse, [rand(4, 3)]),
    ("lu_factor", lambda a: LA.lu_factor(a).LU, [rand(2, 3, 3)]),
    ("lu", lambda a: tuple(LA.lu(a))[1:], [rand(4, 4)]),
    ("lu_solve", lambda a, b: LA.lu_solve(*LA.lu_factor(a), b), [square(3), rand(3, 2)]),
    ("lu_solve-adjoint", lambda a, b: LA.lu_solve(*LA.lu_factor(a), b, adjoint=True), [square(3), rand(3, 2)]),
    ("lu_solve-right", lambda a, b: LA.lu_solve(*LA.lu_factor(a), b, left=False), [square(3), rand(2, 3)]),
    (
        "lu_solve-right-adjoint",
        lambda a, b: LA.lu_solve(*LA.lu_factor(a), b, left=False, adjoint=True),
        [square(3), rand(2, 3)],
    ),
    ("cholesky_solve", lambda a, b: ember.cholesky_solve(b, LA.cholesky(pd(a))), [rand(3, 3), rand(3, 2)]),
    ("cholesky_inverse", lambda a: ember.cholesky_inverse(LA.cholesky(pd(a), upper=True), True), [rand(3, 3)]),
    ("triangular_solve", lambda a, b: ember.triangular_solve(b, a, transpose=True).solution, [square(3), rand(3, 2)]),
    ("lu_unpack", lambda a: tuple(ember.lu_unpack(*LA.lu_factor(a)))[1:], [rand(3, 3)]),
    ("cond", LA.cond, [square(3)]),
    ("cond-fro", lambda a: LA.cond(a, "fro"), [square(3)]),
    ("tensorinv", lambda a: LA.tensorinv(a, ind=2), [square(6).reshape(2, 3, 6)]),
    ("tensorsolve", LA.tensorsolve, [square(6).reshape(2, 3, 6), rand(2, 3)]),
    ("vander", lambda x: LA.vander(x, N=4), [rand(2, 3)]),
    ("matrix_exp", LA.matrix_exp, [rand(2, 3, 3)]),
    ("matrix_exp-large", LA.matrix_exp, [3 * rand(3, 3)]),
]


@pytest.mark.parametrize("name,f,arrays", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradcheck(name, f, arrays):
    inputs = [T(a, grad=True) for a in arrays]
    assert gradcheck(f, inputs)


GRADGRAD = {"inv", "det", "slogdet", "solve", "solve_triangular", "cholesky", "qr-tall", "qr-wide", "eigh"}
GRADGRAD |= {"svd-tall", "svd-U-Vh", "pinv", "matrix_norm-nuc", "matrix_power-neg", "matrix_exp", "lu", "lu_solve"}


GRADGRAD_CASES = [c for c in GRAD_CASES if c[0] in GRADGRAD]


@pytest.mark.parametrize("name,f,arrays", GRADGRAD_CASES, ids=[c[0] for c in GRADGRAD_CASES])
def test_gradgradcheck(name, f, arrays):
    inputs = [T(a, grad=True) for a in arrays]
    assert gradgradcheck(f, inputs)


def test_det_gradient_of_singular_matrix_is_the_adjugate():
    a = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])
    x = T(a, grad=True)
    LA.det(x).backward()
    cof = np.array(
        [[np.linalg.det(np.delete(np.delete(a, i, 0), j, 1)) * (-1) ** (i + j) for j in range(3)] for i in range(3)]
    )
    close(x.grad, cof, 1e-9)
    x = T(np.array([[1.0, 2.0], [2.0, 4.0]]), grad=True)
    LA.det(x).backward()
    close(x.grad, [[4.0, -2.0], [-2.0, 1.0]], 1e-9)


# --------------------------------------------------------------------------------------------- errors


def test_errors():
    with pytest.raises(RuntimeError, match="linalg.inv: A must be batches of square matrices, but they are 2 by 3"):
        LA.inv(ember.ones(2, 3))
    with pytest.raises(RuntimeError, match="The diagonal element 2 is zero.*singular"):
        LA.inv(ember.tensor([[1.0, 2.0], [2.0, 4.0]]))
    with pytest.raises(LA.LinAlgError, match=r"\(Batch element 1\).*singular"):
        LA.inv(ember.tensor([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 2.0], [2.0, 4.0]]]))
    assert issubclass(LA.LinAlgError, RuntimeError)
    with pytest.raises(RuntimeError, match="linalg.inv: Expected a floating point or complex tensor as input. Got Lo"):
        LA.inv(ember.tensor([[1, 2], [3, 4]]))
    with pytest.raises(RuntimeError, match=r"not positive-definite \(the leading minor of order 2 is not"):
        LA.cholesky(ember.tensor([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(RuntimeError, match="must have at least 2 dimensions"):
        LA.det(ember.ones(3))
    with pytest.raises(RuntimeError, match="singular"):
        LA.solve(ember.tensor([[1.0, 2.0], [2.0, 4.0]]), ember.ones(2))
    with pytest.raises(RuntimeError, match="Incompatible shapes of A and B"):
        LA.solve(ember.eye(2), ember.ones(3))
    with pytest.raises(RuntimeError, match="unrecognized mode"):
        LA.qr(ember.ones(3, 2), mode="x")
    with pytest.raises(RuntimeError, match="Expected UPLO argument to be 'L' or 'U'"):
        LA.eigh(ember.eye(2), UPLO="X")
    with pytest.raises(RuntimeError, match="Order 3 not supported"):
        LA.matrix_norm(ember.ones(3, 3), 3)
    with pytest.raises(RuntimeError, match="expected at least 2 tensors"):
        LA.multi_dot([ember.ones(3)])
    with pytest.raises(RuntimeError, match="parameter `driver` should be one of"):
        LA.lstsq(ember.ones(3, 2), ember.ones(3, 2), driver="foo")
    x = ember.ones(3, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match="not computed when mode='r'"):
        LA.qr(x, mode="r").R.sum().backward()
    x = ember.tensor(rand(3, 2), requires_grad=True)
    with pytest.raises(RuntimeError, match="not differentiable when mode='complete' and nrows > ncols"):
        LA.qr(x, mode="complete").Q.sum().backward()


def test_ex_variants_report_info():
    singular = ember.tensor([[[2.0, 0.0], [0.0, 1.0]], [[1.0, 2.0], [2.0, 4.0]]])
    inverse, info = LA.inv_ex(singular)
    assert info.tolist() == [0, 2]
    close(inverse[0], np.diag([0.5, 1.0]))
    with pytest.raises(RuntimeError, match="singular"):
        LA.inv_ex(singular, check_errors=True)
    L, info = LA.cholesky_ex(ember.tensor([[1.0, 2.0], [2.0, 1.0]]))
    assert info.item() == 2
    with pytest.raises(RuntimeError, match="positive-definite"):
        LA.cholesky_ex(ember.tensor([[1.0, 2.0], [2.0, 1.0]]), check_errors=True)
    result, info = LA.solve_ex(singular, ember.ones(2, 2))
    assert info.tolist() == [0, 2]


@pytest.mark.parametrize("dtype, tol", [(np.float32, 2e-4), (np.float64, 1e-10)])
def test_factorizations_run_embers_lapack_not_numpys(monkeypatch, dtype, tol):
    """ember.linalg calls LAPACK in the OpenBLAS it links (ember._C._lapack_*): with numpy.linalg's
    factorizations made to fail, every one still gives numpy's values, in the input's dtype."""
    a, b, s = square(4, (2, 3)).astype(dtype), rand(2, 3, 4, 2).astype(dtype), spd(4, (3,)).astype(dtype)
    wide = rand(2, 3, 5).astype(dtype)
    expected = {
        "inv": np.linalg.inv(a),
        "det": np.linalg.det(a),
        "logabsdet": np.linalg.slogdet(a)[1],
        "solve": np.linalg.solve(a, b),
        "cholesky": np.linalg.cholesky(s),
        "eigvalsh": np.linalg.eigvalsh(s),
        "svdvals": np.linalg.svd(wide, compute_uv=False),
        "R": np.abs(np.linalg.qr(wide)[1]),
    }
    for name in ("inv", "det", "slogdet", "solve", "cholesky", "qr", "eigh", "eigvalsh", "svd"):
        monkeypatch.setattr(np.linalg, name, lambda *args, **kwargs: pytest.fail("numpy.linalg was called"))
    got = {
        "inv": LA.inv(ember.tensor(a)),
        "det": LA.det(ember.tensor(a)),
        "logabsdet": LA.slogdet(ember.tensor(a)).logabsdet,
        "solve": LA.solve(ember.tensor(a), ember.tensor(b)),
        "cholesky": LA.cholesky(ember.tensor(s)),
        "eigvalsh": LA.eigh(ember.tensor(s)).eigenvalues,
        "svdvals": LA.svd(ember.tensor(wide)).S,
        "R": LA.qr(ember.tensor(wide)).R.abs(),
    }
    for name, value in got.items():
        assert value.dtype == ember.tensor(a).dtype, name
        close(value, expected[name], tol * np.abs(expected[name]).max())
    U, S, Vh = LA.svd(ember.tensor(wide), full_matrices=True)
    close(U.numpy() @ (S.numpy()[..., :, None] * Vh.numpy()[..., :3, :]), wide, tol * 10)
    w, V = LA.eigh(ember.tensor(s))
    close(V.numpy() @ (w.numpy()[..., :, None] * np.swapaxes(V.numpy(), -1, -2)), s, tol * 100)


def test_lapack_bindings_refuse_arrays_that_do_not_fit():
    # ember._C._lapack_* write into the arrays they are given: one too small, of another dtype, strided,
    # empty or not square raises instead of running past its end
    C, a = ember._C, np.ones((2, 3, 3))
    for call in (
        lambda: C._lapack_getrf(a.copy(), np.zeros(1, np.int32)),
        lambda: C._lapack_getrf(a.copy(), np.zeros((2, 3), np.int64)),
        lambda: C._lapack_getrf(np.ones((3, 3))[:, ::2], np.zeros(2, np.int32)),
        lambda: C._lapack_getrf(np.ones((3, 3), np.float16), np.zeros(3, np.int32)),
        lambda: C._lapack_gesv(np.ones((2, 3, 4)), np.ones((2, 1, 3))),
        lambda: C._lapack_gesv(a.copy(), np.ones((1, 1, 3))),
        lambda: C._lapack_potrf(a.copy(), "X"),
        lambda: C._lapack_syevd(a.copy(), np.zeros(1), "V", "L"),
        lambda: C._lapack_gesdd(a.copy(), np.zeros((2, 3)), np.zeros(1), np.zeros(1), "A"),
        lambda: C._lapack_geqrf(np.ones((2, 0, 3)), np.zeros(0)),
        lambda: C._lapack_orgqr(np.ones((2, 4, 3)), np.zeros((2, 2))),
        lambda: C._lapack_sytrs(a.copy(), np.zeros((2, 3), np.int32), np.ones(5)),
    ):
        with pytest.raises((RuntimeError, ValueError), match="_lapack: "):
            call()


def test_info_names_the_failing_matrix_and_minor():
    """LAPACK's info per batch element: the first zero pivot of LU, the order of the first leading
    minor that is not positive-definite; the other elements are computed."""
    mats = np.stack([np.eye(3), [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 0.0, 1.0]], 2 * np.eye(3)])
    assert LA.lu_factor_ex(T(mats)).info.tolist() == [0, 2, 0]
    inverse, info = LA.inv_ex(T(mats))
    assert info.tolist() == [0, 2, 0] and bool(inverse[1].isnan().all())
    close(inverse[2], np.eye(3) / 2)
    not_pd = np.stack([np.eye(3), [[1.0, 0.0, 0.0], [0.0, 1.0, 2.0], [0.0, 2.0, 1.0]]])
    L, info = LA.cholesky_ex(T(not_pd))
    assert info.tolist() == [0, 3]
    close(L[0], np.eye(3))
    # as PyTorch, the partial factor LAPACK leaves: the columns before the failing minor, then the pivot that
    # failed (1 - 2*2); trust-region solvers (torchmin's trust-exact) read it to find a better shift
    close(L[1], [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 2.0, -3.0]])
    with pytest.raises(RuntimeError, match=r"\(Batch element 1\): The factorization could not be completed"):
        LA.cholesky(T(not_pd))


def test_cond_tensorinv_tensorsolve_vander_matrix_exp():
    a = square(3)
    s = np.linalg.svd(a, compute_uv=False)
    close(LA.cond(T(a)), s[0] / s[-1])
    close(LA.cond(T(a), -2), s[-1] / s[0])
    for p in ["fro", "nuc", math.inf, -math.inf, 1, -1]:
        close(LA.cond(T(a), p), np.linalg.cond(a, p))
    assert LA.cond(T(np.array([[1.0, 2.0], [2.0, 4.0]])), 1).item() == math.inf
    t = square(6).reshape(2, 3, 6)
    close(LA.tensorinv(T(t)), np.linalg.tensorinv(t))
    b = rand(2, 3)
    close(LA.tensorsolve(T(t), T(b)), np.linalg.tensorsolve(t, b))
    t2 = np.moveaxis(t, 2, 0)
    close(LA.tensorsolve(T(t2), T(b), dims=(0,)), np.linalg.tensorsolve(t2, b, axes=(0,)))
    x = rand(4)
    close(LA.vander(T(x)), np.vander(x, increasing=True))
    close(LA.vander(T(x), N=2), np.vander(x, 2, increasing=True))
    w = rand(3)
    q = np.linalg.qr(rand(3, 3))[0]
    m = q @ np.diag(w) @ q.T  # exp of a symmetric matrix, by its eigendecomposition
    close(LA.matrix_exp(T(m)), q @ np.diag(np.exp(w)) @ q.T, 1e-12)
    close(ember.matrix_exp(T(5 * m)), q @ np.diag(np.exp(5 * w)) @ q.T, 1e-9)
    close(T(np.zeros((2, 2))).matrix_exp(), np.eye(2))


@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 3), (5, 3), (3, 5)])
def test_lu(shape):
    a = rand(*shape)
    P, L, U = LA.lu(T(a))
    close(P.numpy() @ L.numpy() @ U.numpy(), a)
    k = min(shape[-2:])
    assert L.shape[-2:] == (shape[-2], k) and U.shape[-2:] == (k, shape[-1])
    close(L.numpy(), np.tril(L.numpy()))
    close(np.diagonal(L.numpy(), axis1=-2, axis2=-1), np.ones(L.shape[:-2] + (k,)))
    LU, piv, info = LA.lu_factor_ex(T(a))
    assert piv.dtype == ember.int32 and piv.shape == LU.shape[:-2] + (k,) and (info == 0).all()
    close(np.triu(LU.numpy())[..., :k, :], U.numpy())


def test_lu_solve_and_singular_info():
    a, b = square(3, (2,)), rand(2, 3, 2)
    LU, piv = LA.lu_factor(T(a))
    close(LA.lu_solve(LU, piv, T(b)), np.linalg.solve(a, b))
    close(LA.lu_solve(LU, piv, T(b), adjoint=True), np.linalg.solve(np.swapaxes(a, -1, -2), b))
    bt = np.swapaxes(b, -1, -2)
    close(LA.lu_solve(LU, piv, T(bt), left=False), np.swapaxes(np.linalg.solve(np.swapaxes(a, -1, -2), b), -1, -2))
    s = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])
    assert LA.lu_factor_ex(T(s)).info.item() == 3
    with pytest.raises(RuntimeError, match="singular"):
        LA.lu_factor_ex(T(s), check_errors=True)


def test_lu_gradient_of_non_square_is_not_implemented():
    x = T(rand(4, 3), grad=True)
    with pytest.raises(NotImplementedError, match="non-square"):
        LA.lu(x).U.sum().backward()
    with pytest.raises(NotImplementedError, match="non-square"):
        LA.lu_factor(x).LU.sum().backward()


def test_torch_level_factor_solvers():
    a, b = spd(3), rand(3, 2)
    L = LA.cholesky(T(a))
    close(ember.cholesky_solve(T(b), L), np.linalg.solve(a, b))
    close(ember.cholesky_solve(T(b), L.mT, upper=True), np.linalg.solve(a, b))
    close(ember.cholesky_inverse(L), np.linalg.inv(a))
    u = np.triu(square(3))
    sol, coef = ember.triangular_solve(T(b), T(u))
    close(sol, np.linalg.solve(u, b))
    close(coef, u)
    P, Lf, U = ember.lu_unpack(*LA.lu_factor(T(a)))
    close(P.numpy() @ Lf.numpy() @ U.numpy(), a)
    LU, piv = ember.lu(T(a))
    close(ember.lu_solve(T(b), LU, piv), np.linalg.solve(a, b))
    assert len(T(a).lu(get_infos=True)) == 3
    assert not hasattr(ember.Tensor, "lu_unpack")


# Forward AD (jvp): the Functions that have one; the composed functions follow from their parts.
FORWARD_AD = {"inv", "inv-batch", "det", "slogdet", "logdet", "solve", "solve-broadcast", "solve-vector"}
FORWARD_AD |= {"solve-left-false", "solve_triangular", "solve_triangular-right-unit", "cholesky", "cholesky-upper"}
FORWARD_AD |= {"eigh", "eigh-upper", "eigvalsh", "matrix_power-neg", "cholesky_solve", "tensorsolve"}
FORWARD_AD_CASES = [c for c in GRAD_CASES if c[0] in FORWARD_AD]


@pytest.mark.parametrize("name,f,arrays", FORWARD_AD_CASES, ids=[c[0] for c in FORWARD_AD_CASES])
def test_forward_ad(name, f, arrays):
    inputs = [T(a, grad=True) for a in arrays]
    assert gradcheck(f, inputs, check_forward_ad=True)


def test_forward_ad_of_singular_det_is_the_adjugate():
    a = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])
    assert gradcheck(LA.det, [T(a, grad=True)], check_forward_ad=True)


def test_batched_outer_products_and_batch_broadcast_operands():
    # bmm with K = 1 runs as one pass of outer products (streaming stores when the output is far larger than
    # the caches, Note [Streaming stores]), and a b shared by every batch (stride 0) as one product (vmap's
    # per-sample gradients produce both): values and gradients as the general path's.
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(4, 5, 1)), rng.normal(size=(4, 1, 3))
    np.testing.assert_allclose(ember.bmm(ember.tensor(a), ember.tensor(b)).numpy(), a @ b, rtol=1e-12)
    for dtype, (batch, m, n) in [(np.float32, (64, 784, 128)), (np.float64, (9, 700, 512)), (np.float32, (3, 5, 7))]:
        big_a, big_b = rng.normal(size=(batch, m, 1)).astype(dtype), rng.normal(size=(batch, n, 1)).astype(dtype)
        # b as a transposed view (strided rows) and as a contiguous copy; products of one term are exact
        for right in (ember.tensor(big_b).transpose(1, 2), ember.tensor(big_b).transpose(1, 2).contiguous()):
            assert np.array_equal(ember.bmm(ember.tensor(big_a), right).numpy(), big_a @ big_b.transpose(0, 2, 1))
    w = rng.normal(size=(6, 3))
    x = rng.normal(size=(4, 2, 6))
    shared = ember.tensor(w).unsqueeze(0).expand(4, 6, 3)
    np.testing.assert_allclose(ember.bmm(ember.tensor(x), shared).numpy(), x @ w, rtol=1e-12)
    ta = ember.tensor(a, requires_grad=True)
    tb = ember.tensor(b, requires_grad=True)
    assert ember.autograd.gradcheck(ember.bmm, (ta, tb))
    tx = ember.tensor(x, requires_grad=True)
    tw = ember.tensor(w, requires_grad=True)
    assert ember.autograd.gradcheck(lambda p, q: ember.bmm(p, q.unsqueeze(0).expand(4, 6, 3)), (tx, tw))
