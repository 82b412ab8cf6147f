"""ember.sparse: PyTorch's ``torch.sparse`` functions for sparse COO tensors (``ember.sparse_coo_tensor``,
``Tensor.to_sparse``): ``mm``, ``addmm`` and ``sum``. Gradients reach a sparse operand's values and the
dense operand (see ``ember._sparse``)."""

from __future__ import annotations

from typing import Any

from .._C import Tensor
from .._sparse import SparseCooTensor, _mm
from .._sparse import sum as _sparse_sum

__all__ = ["addmm", "mm", "sum"]


def _require_sparse(x: Any, name: str) -> SparseCooTensor:
    if type(x) is not SparseCooTensor:
        raise RuntimeError(
            f"{name}: expected a sparse COO tensor as the first argument, got a dense {type(x).__name__}"
        )
    return x


def mm(sparse: Any, dense: Tensor) -> Tensor:
    """``sparse @ dense``: a 2-D sparse COO matrix times a dense matrix or vector (a dense result)."""
    return _mm(_require_sparse(sparse, "torch.sparse.mm"), dense, "torch.sparse.mm")


def addmm(mat: Tensor, mat1: Any, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``beta * mat + alpha * (mat1 @ mat2)`` with ``mat1`` sparse."""
    return mat * beta + _mm(_require_sparse(mat1, "torch.sparse.addmm"), mat2, "torch.sparse.addmm") * alpha


def sum(input: Any, dim: Any = None, dtype: Any = None) -> Any:  # noqa: A001
    """Every entry of a sparse tensor summed (a 0-d dense tensor), or over ``dim``."""
    return _sparse_sum(_require_sparse(input, "torch.sparse.sum"), dim, dtype)
