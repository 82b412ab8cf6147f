"""``svd_lowrank`` and ``pca_lowrank``: a rank-q SVD by random projection (Halko, Martinsson and Tropp,
2009: a randomized range finder with ``niter`` power iterations, then the SVD of the small projected
matrix), as PyTorch's. The results are ember ops, so they differentiate; the projection draws from ember's
generator, so the numbers match PyTorch's only where the answer does not depend on the draw (a matrix of
rank <= q)."""

from __future__ import annotations

from ._C import Tensor

__all__ = ["pca_lowrank", "svd_lowrank"]


def _minus(product: Tensor, correction: Tensor | None) -> Tensor:
    return product if correction is None else product - correction


def _range_basis(A: Tensor, q: int, niter: int, M: Tensor | None) -> Tensor:
    """An orthonormal (m, q) basis whose span holds most of A - M's range."""
    from . import linalg
    from ._creation import randn

    probe = randn(*A.shape[:-2], A.shape[-1], q, dtype=A.dtype, device=A.device)
    basis = linalg.qr(_minus(A @ probe, None if M is None else M @ probe)).Q
    for _ in range(niter):  # power iterations sharpen the basis where the singular values decay slowly
        back = _minus(A.mT @ basis, None if M is None else M.mT @ basis)
        basis = linalg.qr(back).Q
        basis = linalg.qr(_minus(A @ basis, None if M is None else M @ basis)).Q
    return basis


def svd_lowrank(A: Tensor, q: int | None = 6, niter: int = 2, M: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """U, S, V with (A - M) ~ U diag(S) V^T, of rank q (A: (*, m, n))."""
    from . import linalg

    if not isinstance(A, Tensor):
        raise TypeError(f"svd_lowrank(): argument 'A' must be Tensor, not {type(A).__name__}")
    q = 6 if q is None else q
    m, n = A.shape[-2:]
    if not 0 <= q <= min(m, n):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than min(m, n)={min(m, n)}")
    if niter < 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if M is not None:
        M = M.broadcast_to(A.shape)
    if m < n or n > q:  # project the transpose, so the small matrix is (q, m)
        basis = _range_basis(A.mT, q, niter, None if M is None else M.mT)
        U, S, Vh = linalg.svd(_minus(A @ basis, None if M is None else M @ basis), full_matrices=False)
        return U, S, basis @ Vh.mT
    basis = _range_basis(A, q, niter, M)
    U, S, Vh = linalg.svd(_minus(basis.mT @ A, None if M is None else basis.mT @ M), full_matrices=False)
    return basis @ U, S, Vh.mT


def pca_lowrank(A: Tensor, q: int | None = None, center: bool = True, niter: int = 2) -> tuple[Tensor, Tensor, Tensor]:
    """The principal components of A's rows: ``svd_lowrank`` of A with its column means subtracted
    (``center``); q defaults to min(6, m, n)."""
    if not isinstance(A, Tensor):
        raise TypeError(f"pca_lowrank(): argument 'A' must be Tensor, not {type(A).__name__}")
    m, n = A.shape[-2:]
    q = min(6, m, n) if q is None else q
    if not 0 <= q <= min(m, n):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than min(m, n)={min(m, n)}")
    if niter < 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if not center:
        return svd_lowrank(A, q, niter=niter)
    return svd_lowrank(A - A.mean(dim=-2, keepdim=True), q, niter=niter)
