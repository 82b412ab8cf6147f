"""ember.lobpcg: the k largest (or smallest) eigenpairs of a symmetric positive definite generalized
problem A X = B X diag(E), by the Locally Optimal Block Preconditioned Conjugate Gradient method
(Knyazev 2001), with PyTorch's signature, defaults and convergence test.

Each step is a Rayleigh-Ritz projection on the span of the current vectors X, the (preconditioned)
residuals W and the previous directions P, B-orthonormalized by an eigendecomposition of the basis's
Gram matrix (directions it finds dependent are dropped: the robustness ``method="ortho"`` asks for).
The small dense problems run in float64 through numpy; the results come back in A's dtype.

Gradients: the eigenvalues differentiate with respect to A (and B) as PyTorch's do at convergence,
dE_i = x_i^T (dA - E_i dB) x_i; the eigenvectors' derivative is not implemented, and backward through
them raises instead of returning a wrong gradient."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _C, _lapack
from ._C import Tensor
from .autograd.function import Function

__all__ = ["lobpcg"]

_EPS = {"float32": 1.2e-07, "float64": 2.23e-16}


def _host(t: Tensor) -> np.ndarray:
    """t's values in float64 on the host (a copy of a CUDA tensor), where the iteration runs; a sparse t dense
    (the iteration multiplies by it as a matrix: pymde's spectral embedding passes a sparse Laplacian)."""
    t = (t.to_dense() if t.is_sparse or t.is_sparse_csr else t).detach()
    return (t.cpu() if t.is_cuda else t).numpy().astype(np.float64)


def _rayleigh_ritz(A: np.ndarray, B: np.ndarray | None, S: np.ndarray, largest: bool) -> tuple[np.ndarray, np.ndarray]:
    """Ritz values and the coefficients Y (Ritz vectors = S @ Y) of A on span(S), best first."""
    BS = S if B is None else B @ S
    G = S.T @ BS
    d, V = _lapack.eigh((G + G.T) / 2)
    keep = d > d.max() * S.shape[0] * np.finfo(np.float64).eps
    T = V[:, keep] / np.sqrt(d[keep])  # S @ T is B-orthonormal
    Q = S @ T
    H = Q.T @ (A @ Q)
    w, Z = _lapack.eigh((H + H.T) / 2)
    order = np.argsort(-w if largest else w, kind="stable")
    return w[order], T @ Z[:, order]


def _solve_one(
    A: np.ndarray,
    B: np.ndarray | None,
    X: np.ndarray,
    iK: np.ndarray | None,
    k: int,
    niter: int,
    tol: float,
    largest: bool,
) -> tuple[np.ndarray, np.ndarray]:
    n = X.shape[1]
    # PyTorch's scale for the residuals: the norms of A and B on the starting block
    a_norm = np.linalg.norm(A @ X) / np.linalg.norm(X)
    b_norm = 1.0 if B is None else np.linalg.norm(B @ X) / np.linalg.norm(X)
    E, Y = _rayleigh_ritz(A, B, X, largest)
    X, E = X @ Y[:, :n], E[:n]
    P = None
    step = 0
    while niter < 0 or step < niter:
        BX = X if B is None else B @ X
        R = A @ X - BX * E
        rerr = np.linalg.norm(R, axis=0) / (np.linalg.norm(X, axis=0) * (a_norm + np.abs(E) * b_norm))
        if bool(np.all(rerr[:k] < tol)):
            break
        W = R if iK is None else iK @ R
        S = np.concatenate([X, W] if P is None else [X, W, P], axis=1)
        E_all, Y = _rayleigh_ritz(A, B, S, largest)
        if Y.shape[1] < n:  # the basis collapsed (an exact invariant subspace): nothing left to gain
            break
        X, E = S @ Y[:, :n], E_all[:n]
        P = S[:, n:] @ Y[n:, :n]
        step += 1
    return E[:k], X[:, :k]


class _Lobpcg(Function):
    """lobpcg's node: eigenvalue gradients x_i^T dA x_i (and -E_i x_i^T dB x_i); none for eigenvectors."""

    _node_name = "LOBPCGAutogradFunctionBackward"

    @staticmethod
    def forward(ctx: Any, A: Tensor, B: Any, X0: Tensor, iK: Any, k: int, niter: int, tol: float, largest: bool):
        a = _host(A)
        b = None if B is None else _host(B)
        x0 = _host(X0)
        ik = None if iK is None else _host(iK)
        batch, m = a.shape[:-2], a.shape[-1]
        E = np.empty(batch + (k,))
        X = np.empty(batch + (m, k))
        for idx in np.ndindex(*batch):
            E[idx], X[idx] = _solve_one(a[idx], None if b is None else b[idx], x0[idx], ik, k, niter, tol, largest)
        np_dtype = np.float32 if A.dtype == _C.dtype.float32 else np.float64
        E_t = _C.from_numpy(np.array(E, dtype=np_dtype, order="C"))
        X_t = _C.from_numpy(np.array(X, dtype=np_dtype, order="C"))
        if A.is_cuda:  # computed on the host; the results go back to A's device
            E_t, X_t = E_t.to(A.device), X_t.to(A.device)
        ctx.save_for_backward(E_t, X_t)
        ctx.has_B = B is not None
        return E_t, X_t

    @staticmethod
    def backward(ctx: Any, gE: Any, gX: Any) -> Any:
        if gX is not None and bool((gX != 0).any()):
            raise RuntimeError(
                "lobpcg: the derivative of the eigenvectors is not implemented in ember; differentiate the "
                "eigenvalues, or use linalg.eigh for the eigenvectors"
            )
        E, X = ctx.saved_tensors
        if gE is None:
            return (None,) * 8
        XgX = _C.matmul(X * gE.unsqueeze(-2), X.transpose(-2, -1))  # sum_i gE_i x_i x_i^T
        gB = None
        if ctx.has_B:
            gB = -_C.matmul(X * (gE * E).unsqueeze(-2), X.transpose(-2, -1))
        return XgX, gB, None, None, None, None, None, None


def lobpcg(
    A: Tensor,
    k: int | None = None,
    B: Tensor | None = None,
    X: Tensor | None = None,
    n: int | None = None,
    iK: Tensor | None = None,
    niter: int | None = None,
    tol: float | None = None,
    largest: bool | None = None,
    method: str | None = None,
    tracker: Any = None,
    ortho_iparams: dict | None = None,
    ortho_fparams: dict | None = None,
    ortho_bparams: dict | None = None,
) -> tuple[Tensor, Tensor]:
    """The k largest (``largest=False``: smallest) eigenvalues E and eigenvectors X of the symmetric
    generalized problem A X = B X diag(E) (B positive definite, the identity when None), A of shape
    (*, m, m): ``(E, X)``, E (*, k) and X (*, m, k). X gives the starting vectors (default random,
    n = k of them); iK is a preconditioner applied to the residuals; the iteration stops when every
    one of the k pairs has relative residual below tol (default sqrt of the dtype's eps) or after niter
    steps (default 1000; -1: no limit). ember runs one robust variant for both ``method``s ("ortho",
    "basic"), so the ``ortho_*`` tuning dicts of PyTorch's ortho variant change nothing; a ``tracker``
    (PyTorch calls it with its worker object each step) raises NotImplementedError."""
    from ._creation import _device_of, randn

    if not isinstance(A, Tensor) or not A.is_floating_point():
        raise TypeError("lobpcg: A must be a floating point Tensor")
    if A.dim() < 2 or A.shape[-2] != A.shape[-1]:
        raise ValueError(f"A must be square, got shape {tuple(A.shape)}")
    if B is not None and tuple(B.shape) != tuple(A.shape):
        raise ValueError(f"A and B must have same shape, got {tuple(A.shape)} vs {tuple(B.shape)}")
    if tracker is not None:  # PyTorch calls it with its LOBPCG worker each step; ember has no such object
        raise NotImplementedError("lobpcg: ember does not support tracker")
    if method not in (None, "ortho", "basic"):
        raise ValueError(f"lobpcg: method must be 'ortho' or 'basic', got {method!r}")
    m = A.shape[-1]
    k = (1 if X is None else X.shape[-1]) if k is None else k
    n = (k if n is None else n) if X is None else X.shape[-1]
    if m < 3 * n:
        raise ValueError(
            f"LOBPCG algorithm is not applicable when the number of A rows (={m}) is smaller than 3 x the "
            f"number of requested eigenpairs (={n})"
        )
    if k < 1:
        raise ValueError(f"lobpcg: k must be at least 1, got {k}")
    if k > n:
        raise ValueError(f"lobpcg: k (={k}) must not exceed the number of starting vectors n (={n})")
    name = "float64" if A.dtype == _C.dtype.float64 else "float32"
    tol = _EPS[name] ** 0.5 if tol is None else tol
    if X is None:
        X = randn(*A.shape[:-2], m, n, dtype=A.dtype, device=_device_of(A))
    elif tuple(X.shape) != tuple(A.shape[:-2]) + (m, n):
        X = X.expand(*A.shape[:-2], m, n)
    E, V = _Lobpcg.apply(A, B, X, iK, k, 1000 if niter is None else niter, tol, True if largest is None else largest)
    return E, V
