"""linalg.ldl_factor / ldl_factor_ex / ldl_solve (LAPACK's sytrf/sytrs in ember's OpenBLAS) and lobpcg:
the factors rebuild A, solves against numpy, eigenpairs against numpy.linalg.eigh, eigenvalue gradients by
gradcheck in float64, and PyTorch's factors, pivots and words when it is importable."""

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck

RNG = np.random.default_rng(0)


def symmetric(n, batch=(), dtype=np.float64, seed=0):
    a = np.random.default_rng(seed).standard_normal(batch + (n, n))
    return (a + np.swapaxes(a, -1, -2)).astype(dtype)  # indefinite: 2x2 pivots occur


def test_ldl_factor_solves_and_keeps_lapacks_form():
    A = symmetric(6)
    LD, pivots = ember.linalg.ldl_factor(ember.from_numpy(A))
    assert LD.dtype == ember.float64 and pivots.dtype == ember.int32 and pivots.shape == (6,)
    assert np.all(np.triu(LD.numpy(), 1) == 0)  # the upper triangle is zeroed, as PyTorch's
    B = RNG.standard_normal((6, 3))
    X = ember.linalg.ldl_solve(LD, pivots, ember.from_numpy(B))
    np.testing.assert_allclose(X.numpy(), np.linalg.solve(A, B), rtol=1e-10, atol=1e-12)
    # the 2x2 case that needs a 2x2 pivot block: LAPACK marks both rows negative
    LD2, piv2 = ember.linalg.ldl_factor(ember.tensor([[0.0, 1.0], [1.0, 0.0]]))
    assert piv2.tolist() == [-2, -2] and LD2.tolist() == [[0.0, 0.0], [1.0, 0.0]]


@pytest.mark.parametrize("dtype,tol", [(np.float32, 1e-4), (np.float64, 1e-10)])
def test_ldl_batches_and_broadcasting(dtype, tol):
    A = symmetric(5, (2, 3), dtype)
    LD, pivots, info = ember.linalg.ldl_factor_ex(ember.from_numpy(A))
    assert LD.shape == (2, 3, 5, 5) and pivots.shape == (2, 3, 5) and info.shape == (2, 3)
    assert info.tolist() == [[0] * 3] * 2
    B = RNG.standard_normal((3, 5, 2)).astype(dtype)  # broadcasts over the first batch dimension
    X = ember.linalg.ldl_solve(LD, pivots, ember.from_numpy(B))
    np.testing.assert_allclose(X.numpy(), np.linalg.solve(A, np.broadcast_to(B, (2, 3, 5, 2))), rtol=tol, atol=tol)


def test_ldl_errors_info_and_no_derivative():
    LD, pivots, info = ember.linalg.ldl_factor_ex(ember.zeros(2, 2))
    assert info.dim() == 0 and info.item() == 1
    with pytest.raises(ember.linalg.LinAlgError, match="D\\[1, 1\\] is exactly zero"):
        ember.linalg.ldl_factor(ember.zeros(2, 2))
    with pytest.raises(ember.linalg.LinAlgError):
        ember.linalg.ldl_factor_ex(ember.zeros(2, 2), check_errors=True)
    with pytest.raises(RuntimeError, match="must be batches of square matrices, but they are 2 by 3 matrices"):
        ember.linalg.ldl_factor(ember.ones(2, 3))
    with pytest.raises(RuntimeError, match="Expected a floating point or complex tensor as input. Got Long"):
        ember.linalg.ldl_factor(ember.tensor([[1, 2], [2, 1]]))
    LD, pivots = ember.linalg.ldl_factor(ember.from_numpy(symmetric(3)))
    with pytest.raises(TypeError, match="argument 'pivots' \\(position 2\\) must be Tensor, not NoneType"):
        ember.linalg.ldl_solve(LD, None, ember.ones(3, 1))
    with pytest.raises(RuntimeError, match="Expected b and A to have the same dtype"):
        ember.linalg.ldl_solve(LD, pivots, ember.ones(3, 1))
    x = ember.from_numpy(symmetric(3)).requires_grad_()
    with pytest.raises(RuntimeError, match="derivative for aten::linalg_ldl_factor_ex is not implemented"):
        ember.linalg.ldl_factor(x)[0].sum().backward()


def test_ldl_matches_pytorch():
    torch = pytest.importorskip("torch")
    for seed in range(4):
        A = symmetric(7, (2,), seed=seed)
        got = ember.linalg.ldl_factor(ember.from_numpy(A))
        want = torch.linalg.ldl_factor(torch.from_numpy(A))
        np.testing.assert_array_equal(got.pivots.numpy(), want.pivots.numpy())
        np.testing.assert_allclose(got.LD.numpy(), want.LD.numpy(), rtol=1e-10, atol=1e-12)
        B = RNG.standard_normal((2, 7, 2))
        np.testing.assert_allclose(
            ember.linalg.ldl_solve(got.LD, got.pivots, ember.from_numpy(B)).numpy(),
            torch.linalg.ldl_solve(want.LD, want.pivots, torch.from_numpy(B)).numpy(),
            rtol=1e-10,
        )


def spd(n, batch=(), seed=0):
    a = np.random.default_rng(seed).standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


@pytest.mark.parametrize("largest", [True, False])
def test_lobpcg_finds_the_extreme_eigenpairs(largest):
    ember.manual_seed(0)
    A = spd(40)
    E, X = ember.lobpcg(ember.from_numpy(A), k=3, largest=largest)
    w = np.linalg.eigvalsh(A)
    want = w[::-1][:3] if largest else w[:3]
    np.testing.assert_allclose(E.numpy(), want, rtol=1e-6)
    np.testing.assert_allclose(A @ X.numpy(), X.numpy() * E.numpy(), atol=1e-4 * np.abs(w).max())
    np.testing.assert_allclose(X.numpy().T @ X.numpy(), np.eye(3), atol=1e-8)


def test_lobpcg_generalized_batched_and_preconditioned():
    ember.manual_seed(1)
    A, B = spd(30, (2,), 1), spd(30, (2,), 2)
    E, X = ember.lobpcg(ember.from_numpy(A), k=2, B=ember.from_numpy(B), n=4)
    assert E.shape == (2, 2) and X.shape == (2, 30, 2)
    for i in range(2):  # B^-1 A's largest eigenvalues; the vectors are B-orthonormal
        w = np.sort(np.linalg.eigvals(np.linalg.solve(B[i], A[i])).real)[::-1][:2]
        np.testing.assert_allclose(E[i].numpy(), w, rtol=1e-6)
        np.testing.assert_allclose(X[i].numpy().T @ B[i] @ X[i].numpy(), np.eye(2), atol=1e-8)
    iK = ember.from_numpy(np.linalg.inv(np.diag(np.diag(A[0]))))
    E0, _ = ember.lobpcg(ember.from_numpy(A[0]), k=1, iK=iK, largest=False)
    np.testing.assert_allclose(E0.numpy(), np.linalg.eigvalsh(A[0])[:1], rtol=1e-6)


def test_lobpcg_eigenvalue_gradients_and_refusals():
    ember.manual_seed(2)
    A = ember.from_numpy(spd(12)).requires_grad_()

    def top_eigenvalues(a):
        return ember.lobpcg((a + a.mT) / 2, k=2, X=ember.from_numpy(np.eye(12)[:, :4]), niter=-1, tol=1e-12)[0]

    assert gradcheck(top_eigenvalues, (A,), atol=1e-5)
    with pytest.raises(RuntimeError, match="derivative of the eigenvectors is not implemented"):
        ember.lobpcg(A, k=1)[1].sum().backward()
    with pytest.raises(ValueError, match="smaller than 3 x the number of requested eigenpairs"):
        ember.lobpcg(ember.from_numpy(spd(5)), k=2)
    with pytest.raises(ValueError, match="A must be square"):
        ember.lobpcg(ember.ones(4, 5))
    with pytest.raises(ValueError, match="k must be at least 1"):
        ember.lobpcg(ember.from_numpy(spd(9)), k=0)
    with pytest.raises(NotImplementedError, match="tracker"):
        ember.lobpcg(ember.from_numpy(spd(9)), k=1, tracker=lambda worker: None)


def test_svd_lowrank_recovers_a_low_rank_matrix_and_its_singular_values():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(20, 4)) @ rng.normal(size=(4, 15))  # rank 4: a rank-6 sketch is exact
    want = np.linalg.svd(a, compute_uv=False)
    for shape in [(20, 15), (15, 20)]:  # both branches: the tall matrix and its transpose
        x = ember.tensor(a if shape == (20, 15) else a.T)
        U, S, V = ember.svd_lowrank(x, q=6)
        assert U.shape == (shape[0], 6) and S.shape == (6,) and V.shape == (shape[1], 6)
        np.testing.assert_allclose(((U * S) @ V.mT).numpy(), x.numpy(), atol=1e-10)
        np.testing.assert_allclose(S.numpy()[:4], want[:4], rtol=1e-10)
    M = ember.tensor(np.ones((20, 15)))
    U, S, V = ember.svd_lowrank(ember.tensor(a) + M, q=6, M=M)
    np.testing.assert_allclose(S.numpy()[:4], want[:4], rtol=1e-10)
    # principal components: the SVD of the centered matrix
    centered = a - a.mean(0, keepdims=True)
    _, S, _ = ember.pca_lowrank(ember.tensor(a), q=4)
    np.testing.assert_allclose(S.numpy(), np.linalg.svd(centered, compute_uv=False)[:4], rtol=1e-10)
    assert ember.pca_lowrank(ember.tensor(a))[1].shape == (6,)  # q = min(6, m, n)
    with pytest.raises(ValueError, match=r"q\(=30\) must be non-negative integer and not greater than min\(m, n\)=15"):
        ember.svd_lowrank(ember.tensor(a), q=30)

    def top_two(t):
        ember.manual_seed(0)  # the same random projection at every evaluation
        return ember.svd_lowrank(t, q=2, niter=1)[1]

    assert gradcheck(top_two, (ember.tensor(rng.normal(size=(5, 4)), requires_grad=True),))
