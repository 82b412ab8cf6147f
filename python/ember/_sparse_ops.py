"""Shape ops and elementwise products of sparse COO tensors (`_sparse.SparseCooTensor`), as PyTorch's: ``cat``,
``stack``, ``unsqueeze``, ``select``, ``unbind`` (so iteration), in-place ``+=``, ``sparse * sparse`` and the
``*_like`` factories of a sparse tensor.
Each works on the indices and values only: the values' ops differentiate, the indices are data. The ops
along a sparse dim are here; along a dense dim (of a hybrid tensor's values) only ``unsqueeze``."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _C
from ._batched import _wrap_dim
from ._creation import tensor, zeros


def _sparse_type() -> type:
    from ._sparse import SparseCooTensor

    return SparseCooTensor


def _along_sparse_dim(x: Any, dim: int, op: str) -> int:
    d = _wrap_dim(dim, x.dim(), op)
    if d >= x.sparse_dim():
        raise NotImplementedError(f"{op}: ember's sparse tensors take it along a sparse dim only, got dim {dim}")
    return d


def cat(tensors: Any, dim: int = 0) -> Any:
    """The tensors joined along ``dim`` (a sparse dim): each one's indices along it shifted by the sizes
    before it."""
    sparse = _sparse_type()
    tensors = list(tensors)
    if not tensors or not all(isinstance(t, sparse) for t in tensors):
        raise RuntimeError("cat: ember joins sparse tensors only with sparse tensors (call .to_dense() first)")
    first = tensors[0]
    d = _along_sparse_dim(first, dim, "cat")
    for t in tensors[1:]:
        same = t.sparse_dim() == first.sparse_dim() and t.dim() == first.dim()
        if not same or any(a != b for k, (a, b) in enumerate(zip(t.shape, first.shape)) if k != d):
            raise RuntimeError(
                f"cat: sparse tensors must have the same sizes except along dim {d}: got {tuple(first.shape)} "
                f"and {tuple(t.shape)}"
            )
    indices, offset = [], 0
    for t in tensors:
        shifted = t._idx.clone()
        shifted[d] += offset
        indices.append(shifted)
        offset += t.shape[d]
    size = list(first.shape)
    size[d] = offset
    return sparse(_C.cat(indices, 1), _C.cat([t._vals for t in tensors]), tuple(size), False)


def unsqueeze(x: Any, dim: int) -> Any:
    """A dim of size 1 at ``dim``: a sparse one (a row of zeros in the indices) within the sparse dims, else a
    dense one of the values."""
    d = _wrap_dim(dim, x.dim() + 1, "unsqueeze")
    size = (*x.shape[:d], 1, *x.shape[d:])
    if d <= x.sparse_dim():
        zero_row = x._idx[:1] * 0
        indices = _C.cat([x._idx[:d], zero_row, x._idx[d:]])
        return _sparse_type()(indices, x._vals, size, x._coalesced)
    return _sparse_type()(x._idx, x._vals.unsqueeze(d - x.sparse_dim() + 1), size, x._coalesced)


def stack(tensors: Any, dim: int = 0) -> Any:
    """The tensors along a new ``dim``: each unsqueezed there, then joined."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    d = _wrap_dim(dim, tensors[0].dim() + 1, "stack")
    return cat([unsqueeze(t, d) for t in tensors], d)


def select(x: Any, dim: int, index: int) -> Any:
    """The slice at ``index`` along ``dim`` (a sparse dim): the entries there, without that index row; a
    dense tensor when no sparse dim is left (the values there, summed into their place)."""
    d = _along_sparse_dim(x, dim, "select")
    n = x.shape[d]
    if not -n <= index < n:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(x.shape)} at dimension {d}")
    hits = (x._idx[d] == index % n).nonzero().reshape(-1)
    indices = _C.cat([x._idx[:d], x._idx[d + 1 :]]).index_select(1, hits)
    values = x._vals.index_select(0, hits)
    size = (*x.shape[:d], *x.shape[d + 1 :])
    if x.sparse_dim() == 1:  # nothing sparse is left: the values' sum is the slice
        return values.sum(0)
    return _sparse_type()(indices, values, size, x._coalesced)


def unbind(x: Any, dim: int = 0) -> tuple:
    """Every slice along ``dim`` (iterating a sparse tensor gives these along dim 0)."""
    d = _along_sparse_dim(x, dim, "unbind")
    return tuple(select(x, d, i) for i in range(x.shape[d]))


def iadd(x: Any, other: Any, alpha: Any = 1) -> Any:
    """``x += other`` in place: a sparse x takes the sum's indices and values (uncoalesced, as ``add`` leaves
    them); a dense x adds the sparse summand's dense form."""
    from ._sparse import _add

    if not isinstance(x, _sparse_type()):
        return x.add_(other.to_dense(), alpha=alpha)
    result = _add(x, other, alpha)
    x._idx, x._vals, x._coalesced = result._idx, result._vals, False
    return x


def mul(a: Any, b: Any) -> Any:
    """The elementwise product of two sparse tensors of one shape: the entries both have (coalesced first),
    their values multiplied; the result is coalesced."""
    if tuple(a.shape) != tuple(b.shape) or a.sparse_dim() != b.sparse_dim():
        raise RuntimeError(
            f"mul: expected sizes of 'self' and 'other' to match, but {tuple(a.shape)} != {tuple(b.shape)}"
        )
    from ._sparse import _linear_index

    a, b = a.coalesce(), b.coalesce()
    sizes = tuple(a.shape[: a.sparse_dim()])
    la, lb = (_linear_index(t._idx, sizes).cpu().numpy() for t in (a, b))
    _, in_a, in_b = np.intersect1d(la, lb, assume_unique=True, return_indices=True)
    picked_a, picked_b = (tensor(k, dtype=_C.dtype.int64, device=a._idx.device) for k in (in_a, in_b))
    values = a._vals.index_select(0, picked_a) * b._vals.index_select(0, picked_b)
    return _sparse_type()(a._idx.index_select(1, picked_a), values, tuple(a.shape), True)


def like(op: str, input: Any, dtype: Any, device: Any = None, requires_grad: bool = False) -> Any:
    """zeros_like/empty_like of a sparse COO tensor: one without entries, of its shape and sparse dims (PyTorch's),
    on ``device`` (input's by default); PyTorch's sparse backend fills nothing else (ones_like, rand_like,
    full_like raise)."""
    if op not in ("zeros_like", "empty_like"):
        raise NotImplementedError(f"{op}: Could not run it with arguments from the 'SparseCPU' backend (PyTorch's "
                                  "sparse tensors take zeros_like and empty_like only)")  # fmt: skip
    from ._sparse import sparse_coo_tensor

    device = input.device if device is None else device
    values = zeros((0, *input.shape[input.sparse_dim() :]), dtype=dtype or input.dtype, device=device)
    indices = zeros((input.sparse_dim(), 0), dtype=_C.dtype.int64, device=device)
    return sparse_coo_tensor(indices, values, tuple(input.shape), requires_grad=requires_grad)


OPS = {"cat": cat, "concat": cat, "concatenate": cat, "stack": stack, "unsqueeze": unsqueeze, "select": select,
       "unbind": unbind, "iadd": iadd, "add_": iadd}  # fmt: skip
