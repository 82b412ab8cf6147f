"""``linalg.eig`` and ``linalg.eigvals``: the eigen-decomposition of a general square matrix, whose
eigenvalues and eigenvectors are complex (ember's complex tensors, Note [Complex tensors]). LAPACK's
geev through numpy: the eigenvalues in LAPACK's order, each eigenvector of norm 1 with its largest
component real, as PyTorch's (which calls geev too). The eigenvalues of a real matrix differentiate
(PyTorch's formula, V^-H diag(gL) V^H, its real part); the eigenvectors' derivative is not there yet (a
backward that needs it raises)."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _C, _complex, _names, grad_mode, return_types
from ._C import Tensor
from .autograd.function import Function

__all__ = ["eig", "eigvals"]


def _decomposed(name: str, A: Tensor, vectors: bool) -> tuple[Any, Any]:
    from .linalg import _check_square, _np

    _check_square(name, A)
    a = _np(A)
    if not np.isfinite(a).all():
        raise RuntimeError(_names.qualified(f"{name}: input tensor should not contain infs or NaNs."))
    dtype = _complex.complex_dtype_of(A.dtype)
    if A.requires_grad and grad_mode.is_grad_enabled():
        values, vectors_pair = _Eig.apply(A, a, dtype)
        return _complex.ComplexTensor(values), (_complex.ComplexTensor(vectors_pair) if vectors else None)
    if vectors:
        w, v = np.linalg.eig(a)
        return _complex_tensor(w, dtype, A), _complex_tensor(v, dtype, A)
    return _complex_tensor(np.linalg.eigvals(a), dtype, A), None


class _Eig(Function):
    """eig of a real matrix, its results as (re, im) pairs: the eigenvalues' gradient V^-H diag(gL) V^H (real
    part, as PyTorch's for a real input); the eigenvectors' raises when asked for."""

    _node_name = "LinalgEigBackward0"

    @staticmethod
    def forward(ctx: Any, A: Tensor, a: np.ndarray, dtype: Any) -> tuple[Tensor, Tensor]:
        w, v = np.linalg.eig(a)
        ctx.vectors, ctx.like = v, A
        return _complex_tensor(w, dtype, A)._pair, _complex_tensor(v, dtype, A)._pair

    @staticmethod
    def backward(ctx: Any, g_values: Any, g_vectors: Any) -> tuple[Any, None, None]:
        if g_vectors is not None and bool((g_vectors != 0).any()):
            raise NotImplementedError(
                "linalg.eig: ember has no derivative of a general matrix's eigenvectors yet; differentiate the "
                "eigenvalues (linalg.eigvals), or use linalg.eigh for a symmetric matrix"
            )
        if g_values is None:
            return None, None, None
        from .linalg import _np

        g = _np(g_values)
        V = ctx.vectors
        Vh = np.conj(np.swapaxes(V, -1, -2))
        grad = np.linalg.solve(Vh, (g[..., 0] + 1j * g[..., 1])[..., :, None] * Vh).real  # V^-H diag(gL) V^H
        A = ctx.like
        result = _C.from_numpy(np.ascontiguousarray(grad, dtype=_np(A).dtype))
        return (result.to(A.device) if A.is_cuda else result), None, None


def _complex_tensor(a: np.ndarray, dtype: Any, like: Tensor) -> Any:
    """numpy's complex result (complex128 for float32 input too) as ember's complex tensor of ``dtype``."""
    t = _complex.from_numpy_array(np.ascontiguousarray(a, dtype=_complex._NUMPY_COMPLEX[like.dtype]), dtype)
    return t.to(like.device) if like.is_cuda else t


def eig(A: Tensor, *, out: Any = None) -> Any:
    """The eigenvalues and eigenvectors (columns) of a square matrix or batch of them, both complex:
    ``A @ V = V @ diag(L)``, as ``(eigenvalues, eigenvectors)``."""
    values, vectors = _decomposed("linalg.eig", A, True)
    result = return_types.linalg_eig(values, vectors)
    if out is not None:
        for dst, src in zip(out, result):
            dst.copy_(src)
        return out
    return result


def eigvals(A: Tensor, *, out: Any = None) -> Any:
    """The (complex) eigenvalues of a square matrix or batch of them, in eig's order."""
    values, _ = _decomposed("linalg.eigvals", A, False)
    return values if out is None else out.copy_(values)
