"""Sparse CSR matrices (``ember.sparse_csr_tensor``, ``Tensor.to_sparse_csr``), PyTorch's ``sparse_csr`` layout:
``crow_indices`` (where each row's entries start), ``col_indices`` and ``values``. A SparseCsrTensor keeps the
coalesced COO indices of ``_sparse``'s SparseCooTensor, so it runs the same ops (products with dense matrices,
sums, conversions) with the same gradients, and answers as a CSR tensor."""

from __future__ import annotations

from typing import Any

from . import _C, _creation
from ._C import Tensor
from ._creation import arange, tensor, zeros
from ._histogram import bincount
from ._sparse import SparseCooTensor, _sparse_repr, sparse_coo_tensor

__all__ = ["SparseCsrTensor", "sparse_csr_tensor"]


class SparseCsrTensor(SparseCooTensor):
    """A 2-D sparse matrix in PyTorch's ``sparse_csr`` layout: ``crow_indices`` (row starts), ``col_indices``
    and ``values``. It keeps the coalesced COO indices the ops above use, and answers as a CSR tensor."""

    __slots__ = ()

    layout = property(lambda self: _creation.sparse_csr)
    is_sparse = property(lambda self: False)
    is_sparse_csr = property(lambda self: True)

    def crow_indices(self) -> Tensor:
        counts = bincount(self._idx[0], minlength=self._size[0])  # entries per row
        return _C.cat([zeros((1,), dtype=_C.dtype.int64, device=self.device), counts.cumsum(0)])

    def col_indices(self) -> Tensor:
        return self._idx[1]

    def indices(self) -> Tensor:
        raise RuntimeError("indices expected sparse coordinate tensor layout but got SparseCsr")

    def values(self) -> Tensor:
        return self._vals

    def to_sparse_csr(self, dense_dim: Any = None) -> SparseCsrTensor:
        if dense_dim:
            raise NotImplementedError("to_sparse_csr: ember's CSR tensors have no dense dims")
        return self

    def transpose(self, dim0: int, dim1: int) -> SparseCooTensor:
        raise NotImplementedError("transpose of a sparse CSR tensor: ember has no CSC layout; call .to_sparse_coo()")

    def __repr__(self) -> str:
        fields = [("crow_indices", self.crow_indices()), ("col_indices", self._idx[1]), ("values", self._vals)]
        return _sparse_repr(self, fields, force_newline=False)


def sparse_csr_tensor(crow_indices: Any, col_indices: Any, values: Any, size: Any = None, *, dtype: Any = None,
                      device: Any = None, requires_grad: bool = False, check_invariants: bool | None = None,
                      pin_memory: bool = False) -> SparseCsrTensor:  # fmt: skip
    """PyTorch's ``torch.sparse_csr_tensor`` for a 2-D matrix: row ``i`` holds ``values[crow[i]:crow[i+1]]`` at
    columns ``col_indices[crow[i]:crow[i+1]]``."""
    crow = crow_indices if isinstance(crow_indices, Tensor) else tensor(crow_indices, dtype=_C.dtype.int64)
    cols = col_indices if isinstance(col_indices, Tensor) else tensor(col_indices, dtype=_C.dtype.int64)
    if crow.dim() != 1 or cols.dim() != 1:
        raise RuntimeError("sparse_csr_tensor: ember makes CSR tensors of 2-D matrices (1-D crow and col indices)")
    crow = crow.to(dtype=_C.dtype.int64)
    if crow.numel() == 0 or int(crow[0]) != 0:
        raise RuntimeError("`crow_indices[..., 0] == 0` is not satisfied.")
    if int(crow[-1]) != cols.numel():
        raise RuntimeError(f"`crow_indices[..., -1] == nnz` is not satisfied (nnz {cols.numel()}).")
    counts = crow.diff()
    if bool((counts < 0).any()):
        raise RuntimeError("`0 <= crow_indices[..., 1:] - crow_indices[..., :-1] <= ncols` is not satisfied.")
    rows = _C.repeat_interleave(arange(counts.shape[0], device=crow.device), counts) if counts.shape[0] else cols
    if size is None:
        size = (counts.shape[0], int(cols.max()) + 1 if cols.numel() else 0)
    coo = sparse_coo_tensor(_C.stack([rows, cols.to(dtype=_C.dtype.int64)]), values, size, dtype=dtype, device=device,
                            is_coalesced=True)  # fmt: skip
    out = SparseCsrTensor(coo._idx, coo._vals, coo._size, True)
    return out.requires_grad_() if requires_grad else out
