"""numpy.linalg's factorizations on the OpenBLAS ember links (ember._C._lapack_*, csrc/python/lapack.cpp).

ember.linalg computes on numpy arrays; these functions take and return them with numpy.linalg's
shapes, batching and errors (``LinAlgError`` is numpy's, so either may be caught), and give LAPACK's
``info`` where ember needs it (``getrf``, ``cholesky_info``, ...). Running LAPACK from ember's own
OpenBLAS keeps numpy's separate BLAS threads idle: they would otherwise spin beside ember's
(Note [Thread budget]). float32 stays float32 (numpy would compute in float64 only for integers).

LAPACK reads column-major matrices: a C-ordered batch transposed is one (``_fortran``); symmetric
inputs need no transpose, only the other triangle named (``_flip``)."""

from __future__ import annotations

import numpy as np

from . import _C

LinAlgError = np.linalg.LinAlgError

_FLIP = {"L": "U", "U": "L"}


def _float(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    return a if a.dtype in (np.float32, np.float64) else a.astype(np.float64)


def _fortran(a: np.ndarray) -> np.ndarray:
    """A fresh C-contiguous batch holding each matrix of ``a`` in column-major order."""
    return np.swapaxes(a, -1, -2).copy(order="C")


def _back(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.swapaxes(a, -1, -2))


def _raise_if(info: np.ndarray, message: str) -> None:
    if np.any(info != 0):
        raise LinAlgError(message)


def _getrf(a: np.ndarray, transposed: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """getrf of each matrix of ``a`` (of its transpose when ``transposed``: the C-ordered buffer as
    LAPACK reads it, no copy to transpose), the factors left as LAPACK wrote them."""
    m, n = a.shape[-2:]
    piv = np.zeros(a.shape[:-2] + (min(m, n),), dtype=np.int32)
    if a.size == 0:
        return a.copy(), piv, np.zeros(a.shape[:-2], dtype=np.int32)
    lu = np.array(a, order="C", copy=True) if transposed else _fortran(a)
    return lu, piv, _C._lapack_getrf(lu, piv)


def getrf(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """LU with partial pivoting of a batch of m x n matrices (LAPACK's getrf): the packed factors,
    the 1-based row swaps (int32) and ``info`` (the first zero pivot, 1-based; 0 when none)."""
    lu, piv, info = _getrf(_float(a), False)
    return _back(lu), piv, info


def _det_parts(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """U's diagonal and (-1) to the number of row interchanges, from the LU of A^T (det(A^T) = det(A))."""
    lu, piv, _ = _getrf(a, True)
    swaps = np.count_nonzero(piv != np.arange(1, piv.shape[-1] + 1, dtype=np.int32), axis=-1)
    return np.diagonal(lu, axis1=-2, axis2=-1), 1.0 - 2.0 * (swaps % 2)


def det(a: np.ndarray) -> np.ndarray:
    """The product of U's diagonal, signed by the row swaps (as numpy.linalg.det)."""
    a = _float(a)
    diag, sign = _det_parts(a)
    return (sign * np.prod(diag, axis=-1)).astype(a.dtype)


def slogdet(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """sign and log|det| of each square matrix, from its LU (sign 0 and -inf when singular)."""
    a = _float(a)
    diag, sign = _det_parts(a)
    with np.errstate(divide="ignore"):
        logabs = np.sum(np.log(np.abs(diag)), axis=-1)
    sign = sign * np.prod(np.sign(diag), axis=-1)
    return sign.astype(a.dtype), logabs.astype(a.dtype)


def solve_info(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """X with A X = B (B: (..., n, k), batches broadcast) and ``info`` per matrix; X holds whatever
    LAPACK left where ``info`` is not 0."""
    a, b = _float(a), _float(b)
    dtype = np.result_type(a, b)
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = np.broadcast_to(a.astype(dtype, copy=False), batch + a.shape[-2:])
    b = np.broadcast_to(b.astype(dtype, copy=False), batch + b.shape[-2:])
    if a.shape[-1] == 0 or b.shape[-1] == 0 or a.size == 0:
        return np.zeros(b.shape, dtype=dtype), np.zeros(batch, dtype=np.int32)
    lu, x = _fortran(a), _fortran(b)
    info = _C._lapack_gesv(lu, x)
    return _back(x), info


def solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    x, info = solve_info(a, b)
    _raise_if(info, "Singular matrix")
    return x


def inv_info(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = _float(a)
    eye = np.broadcast_to(np.eye(a.shape[-1], dtype=a.dtype), a.shape)
    return solve_info(a, eye)


def inv(a: np.ndarray) -> np.ndarray:
    x, info = inv_info(a)
    _raise_if(info, "Singular matrix")
    return x


def cholesky_info(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The lower Cholesky factor of each symmetric matrix (its lower triangle read) and ``info``
    (the order of the first minor that is not positive-definite; 0 when none)."""
    a = _float(a)
    if a.size == 0:
        return a.copy(), np.zeros(a.shape[:-2], dtype=np.int32)
    low = np.array(a, order="C", copy=True)
    info = _C._lapack_potrf(low, "U")  # the C-ordered lower triangle is the column-major upper one
    return np.tril(low), info


def qr_raw(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """geqrf as numpy.linalg.qr(mode='raw'): ``h`` the column-major factors seen in C order (the
    transpose: (..., n, m)), ``tau`` the reflectors' scales."""
    a = _float(a)
    h = _fortran(a)
    tau = np.zeros(a.shape[:-2] + (min(a.shape[-2:]),), dtype=a.dtype)
    if a.size:
        _C._lapack_geqrf(h, tau)
    return h, tau


def qr(a: np.ndarray, mode: str = "reduced") -> tuple[np.ndarray, np.ndarray]:
    """Q and R as numpy.linalg.qr in ``reduced`` or ``complete`` mode."""
    a = _float(a)
    m, n = a.shape[-2:]
    k = min(m, n)
    h, tau = qr_raw(a)
    r = np.triu(_back(h))
    q_cols = m if mode == "complete" else k
    r = r if mode == "complete" or m <= n else r[..., :k, :]
    if a.size == 0:
        return np.broadcast_to(np.eye(m, q_cols, dtype=a.dtype), a.shape[:-2] + (m, q_cols)).copy(), r
    q = np.zeros(a.shape[:-2] + (q_cols, m), dtype=a.dtype)  # column-major Q: (..., columns, rows)
    q[..., :k, :] = h[..., :k, :]
    _C._lapack_orgqr(q, tau)
    return _back(q), r


def _syevd(a: np.ndarray, uplo: str, vectors: bool) -> tuple[np.ndarray, np.ndarray]:
    a = _float(a)
    uplo = uplo.upper()
    if uplo not in _FLIP:
        raise ValueError("UPLO argument must be 'L' or 'U'")
    n = a.shape[-1]
    w = np.zeros(a.shape[:-1], dtype=a.dtype)
    v = np.array(a, order="C", copy=True)
    if a.size:
        _raise_if(_C._lapack_syevd(v, w, "V" if vectors else "N", _FLIP[uplo]), "Eigenvalues did not converge")
    return w, _back(v) if n else v


def eigh(a: np.ndarray, UPLO: str = "L") -> tuple[np.ndarray, np.ndarray]:
    return _syevd(a, UPLO, True)


def eigvalsh(a: np.ndarray, UPLO: str = "L") -> np.ndarray:
    return _syevd(a, UPLO, False)[0]


def svd(a: np.ndarray, full_matrices: bool = True, compute_uv: bool = True):
    """numpy.linalg.svd by gesdd. LAPACK factors the C-ordered buffer as the column-major
    transpose: A^T = U' S V'^T, so A's U is V' and its Vh is U'^T, each already C-ordered."""
    a = _float(a)
    m, n = a.shape[-2:]
    k = min(m, n)
    batch = a.shape[:-2]
    s = np.zeros(batch + (k,), dtype=a.dtype)
    ucols, vtrows = (n, m) if full_matrices else (k, k)
    vh = np.zeros(batch + (ucols, n), dtype=a.dtype)  # U' (n x ucols, column-major)
    u = np.zeros(batch + (m, vtrows), dtype=a.dtype)  # V'^T (vtrows x m, column-major)
    if a.size == 0:
        if compute_uv:
            eye_u, eye_v = np.eye(m, vtrows, dtype=a.dtype), np.eye(ucols, n, dtype=a.dtype)
            return np.broadcast_to(eye_u, u.shape).copy(), s, np.broadcast_to(eye_v, vh.shape).copy()
        return s
    work = np.array(a, order="C", copy=True)
    jobz = ("A" if full_matrices else "S") if compute_uv else "N"
    _raise_if(_C._lapack_gesdd(work, s, vh, u, jobz), "SVD did not converge")
    return (u, s, vh) if compute_uv else s
