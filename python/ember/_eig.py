"""``linalg.eig`` and ``linalg.eigvals``: the eigen-decomposition of a general square matrix, whose
eigenvalues and eigenvectors are complex (ember's complex tensors, Note [Complex tensors]). LAPACK's
geev through numpy: the eigenvalues in LAPACK's order, each eigenvector of norm 1 with its largest
component real, as PyTorch's (which calls geev too). Forward only: a matrix that requires grad raises
(ember has no derivative for them yet; ``eigh`` has one, for symmetric matrices)."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _complex, _names, grad_mode, return_types
from ._C import Tensor

__all__ = ["eig", "eigvals"]


def _decomposed(name: str, A: Tensor, vectors: bool) -> tuple[Any, Any]:
    from .linalg import _check_square, _np

    _check_square(name, A)
    if A.requires_grad and grad_mode.is_grad_enabled():
        raise NotImplementedError(
            f"{name}: ember has no derivative for the eigen-decomposition of a general matrix yet; call it "
            "under ember.no_grad() or on A.detach() (linalg.eigh differentiates, for symmetric matrices)"
        )
    a = _np(A)
    if not np.isfinite(a).all():
        raise RuntimeError(_names.qualified(f"{name}: input tensor should not contain infs or NaNs."))
    dtype = _complex.complex_dtype_of(A.dtype)
    if vectors:
        w, v = np.linalg.eig(a)
        return _complex_tensor(w, dtype, A), _complex_tensor(v, dtype, A)
    return _complex_tensor(np.linalg.eigvals(a), dtype, A), None


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
