"""The torch-level segment and sparse ops graph libraries call (PyG's ``segment``, ``softmax`` with
``ptr`` and ``index2ptr``, pykeen's R-GCN ``spmm``): ``_segment_reduce`` over consecutive runs of a dim,
the COO/CSR index conversions and ``spmm``. Each is composed of ember ops (scatter_reduce, searchsorted),
so it differentiates as they do."""

from __future__ import annotations

from typing import Any

from . import _C
from ._C import Tensor
from ._creation import arange

__all__ = ["_convert_indices_from_coo_to_csr", "_convert_indices_from_csr_to_coo", "_segment_reduce", "spmm"]

# PyTorch's reduction names and scatter_reduce's for them (max and min are the amax and amin of a segment).
_REDUCTIONS = {"sum": "sum", "mean": "mean", "max": "amax", "amax": "amax", "min": "amin", "amin": "amin",
               "prod": "prod"}  # fmt: skip
_EMPTY = {"sum": 0.0, "mean": float("nan"), "amax": float("-inf"), "amin": float("inf"), "prod": 1.0}


def _segment_reduce(
    data: Tensor,
    reduce: str,
    *,
    lengths: Tensor | None = None,
    indices: Tensor | None = None,
    offsets: Tensor | None = None,
    axis: int = 0,
    unsafe: bool = False,
    initial: Any = None,
) -> Tensor:
    """``data`` reduced over consecutive segments of dim ``axis``, given by their ``lengths`` or by
    ``offsets`` (the segment starts and the end), whose last dim is ``axis`` (the dims before it match
    ``data``'s). An empty segment gives ``initial``, else the reduction's identity (mean: NaN);
    ``initial`` also takes part in every segment, as PyTorch's."""
    if not isinstance(data, Tensor):
        raise TypeError(f"segment_reduce(): argument 'data' (position 1) must be Tensor, not {type(data).__name__}")
    if reduce not in _REDUCTIONS:
        raise RuntimeError(f"segment_reduce(): reduction {reduce} is not supported")
    if indices is not None:
        raise RuntimeError("segment_reduce(): indices based reduction is not supported yet.")
    if lengths is None and offsets is None:
        raise RuntimeError("segment_reduce(): Either lengths or offsets must be defined.")
    if lengths is None:
        lengths = offsets[..., 1:] - offsets[..., :-1]
    if data.dim() < lengths.dim():
        raise RuntimeError(
            f"segment_reduce(): data ({data.dim()}-d) must have at least the dims of lengths ({lengths.dim()}-d)"
        )
    axis = axis + data.dim() if axis < 0 else axis
    if lengths.dim() - 1 != axis:
        raise RuntimeError(f"segment_reduce(): Expected axis to be the last dimension of lengths but got {axis}.")
    if not unsafe and (lengths < 0).any():
        raise RuntimeError("segment_reduce(): lengths contains negative value!")
    lead, count, rest = data.shape[:axis], lengths.shape[-1], data.shape[axis + 1 :]
    lengths = lengths.expand(*lead, count)
    if not unsafe and (lengths.sum(-1) != data.shape[axis]).any():
        raise RuntimeError(
            "segment_reduce(): Expected all rows of lengths along axis to sum to data.size(lengths.dim()-1) "
            "when !unsafe."
        )
    lengths = lengths.reshape(-1)
    # every element's segment, numbered over the leading dims too; then one scatter_reduce along dim 0
    segment_of = arange(lengths.shape[0], device=data.device).repeat_interleave(lengths)
    flat = data.reshape(-1, *rest)
    target = segment_of.reshape(-1, *([1] * len(rest))).expand_as(flat)
    how = _REDUCTIONS[reduce]
    fill = _EMPTY[how] if initial is None else initial
    out = data.new_full((lengths.shape[0], *rest), fill)
    if how == "mean" and initial is not None:  # (initial + the segment's sum) / its length; initial when empty
        sums = data.new_zeros(out.shape).scatter_reduce(0, target, flat, "sum") + initial
        counts = lengths.reshape(-1, *([1] * len(rest))).to(data.dtype)
        out = _C.where(counts > 0, sums / counts.clamp(min=1), out)
    else:
        out = out.scatter_reduce(0, target, flat, how, include_self=initial is not None)
    return out.reshape(*lead, count, *rest)


def _convert_indices_from_coo_to_csr(input: Tensor, size: int, *, out_int32: bool = False) -> Tensor:
    """The row pointers (``size + 1`` entries) of sorted COO row indices: where each row's entries start."""
    rows = arange(size + 1, dtype=input.dtype, device=input.device)
    return _C.searchsorted(input, rows, out_int32=out_int32)


def _convert_indices_from_csr_to_coo(
    crow_indices: Tensor, col_indices: Tensor, *, out_int32: bool = False, transpose: bool = False
) -> Tensor:
    """The COO indices (2 x nnz: rows, then columns; columns first when ``transpose``) of CSR indices."""
    dtype = _C.dtype.int32 if out_int32 else _C.dtype.int64
    counts = crow_indices[1:] - crow_indices[:-1]
    rows = arange(counts.shape[0], dtype=dtype, device=crow_indices.device).repeat_interleave(counts)
    pair = (col_indices.to(dtype), rows) if transpose else (rows, col_indices.to(dtype))
    return _C.stack(pair)


def spmm(input: Any, mat2: Tensor) -> Tensor:
    """``torch.spmm``: a sparse matrix times a dense one (``ember.sparse.mm``); dense operands multiply too."""
    from . import sparse

    return sparse.mm(input, mat2) if getattr(input, "is_sparse", False) else _C.mm(input, mat2)
