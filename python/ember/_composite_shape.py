"""torch-level shape functions composed from ember's view and copy ops (expand, permute, reshape, narrow,
cat, ...): broadcasting, atleast_*, the *stack and *split families, meshgrid, index helpers."""

from __future__ import annotations

import itertools
import numbers
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _C, _creation
from ._C import Tensor
from ._tensor import Size

__all__ = [
    "adjoint",
    "argwhere",
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "broadcast_shapes",
    "broadcast_tensors",
    "broadcast_to",
    "cartesian_prod",
    "column_stack",
    "combinations",
    "diagflat",
    "diagonal_scatter",
    "dsplit",
    "dstack",
    "hsplit",
    "hstack",
    "meshgrid",
    "moveaxis",
    "movedim",
    "narrow_copy",
    "ravel",
    "row_stack",
    "select_scatter",
    "as_strided_scatter",
    "as_strided_copy",
    "slice_scatter",
    "tensor_split",
    "tril_indices",
    "triu_indices",
    "unflatten",
    "unravel_index",
    "vander",
    "vsplit",
    "vstack",
]


def _out(out: Tensor | None, result: Tensor, name: str) -> Tensor:
    """``out=``: the result written into ``out`` (resized as needed), as the registry's ops do."""
    return result if out is None else _C._write_out(out, result, name)


def _tensors(args: tuple[Any, ...]) -> list[Tensor]:
    """f(a, b) and f([a, b]) both mean the tensors a and b."""
    return list(args[0]) if len(args) == 1 and isinstance(args[0], (list, tuple)) else list(args)


# ------------------------------------------------------------------------------------------ broadcasting


def broadcast_shapes(*shapes: int | Sequence[int]) -> Size:
    """The shape tensors of the given shapes broadcast to, without making them."""
    result: list[int] = []
    for k, shape in enumerate(shapes):
        shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
        if any(int(s) < 0 for s in shape):
            raise RuntimeError(f"Trying to create tensor with negative dimension {min(shape)}: {list(shape)}")
        result = [1] * (len(shape) - len(result)) + result
        for i in range(1, len(shape) + 1):
            have, new = result[-i], int(shape[-i])
            if new != 1 and have != 1 and new != have:
                raise RuntimeError(
                    f"Attempting to broadcast a dimension of length {new} at {-i}! Mismatching argument at index "
                    f"{k} had {shape}; but expected shape should be broadcastable to {result}"
                )
            result[-i] = new if have == 1 else have
    return Size(result)


def broadcast_tensors(*tensors: Tensor) -> tuple[Tensor, ...]:
    """The tensors expanded (as views) to their common broadcast shape."""
    tensors = _tensors(tensors)
    shape = broadcast_shapes(*(t.shape for t in tensors))
    return tuple(t.expand(shape) for t in tensors)


def broadcast_to(input: Tensor, size: Sequence[int]) -> Tensor:
    """``input`` expanded (a view) to ``size``; -1 keeps a dim's size."""
    return input.expand(tuple(size))


def meshgrid(*tensors: Tensor, indexing: str | None = None) -> tuple[Tensor, ...]:
    """Coordinate grids of the 1-D (or 0-D) tensors: with ``indexing="ij"`` the k-th grid varies along dim
    k; with ``"xy"`` the first two dims are swapped (Cartesian, as numpy's default). Without ``indexing``
    it is "ij", with PyTorch's warning that it will have to be given."""
    tensors = _tensors(tensors)
    if indexing is None:
        warnings.warn(
            "torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
            UserWarning,
            stacklevel=2,
        )
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in tensors:
        if t.dim() > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t.dim()}D")
    flat = [t.reshape(-1) for t in tensors]
    swap = indexing == "xy" and len(flat) >= 2
    if swap:
        flat[0], flat[1] = flat[1], flat[0]
    shape = [t.shape[0] for t in flat]
    grids = []
    for k, t in enumerate(flat):
        view = [1] * len(flat)
        view[k] = -1
        grids.append(t.reshape(view).expand(shape))
    if swap:  # the grids of the swapped inputs, back in the callers' order
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


# ------------------------------------------------------------------------------------ atleast_*, stacks


def _atleast(tensors: tuple[Any, ...], nd: int, layout: Any) -> Tensor | tuple[Tensor, ...]:
    single = len(tensors) == 1 and isinstance(tensors[0], Tensor)
    results = tuple(t if t.dim() >= nd else t.reshape(layout(t)) for t in _tensors(tensors))
    return results[0] if single else results


def atleast_1d(*tensors: Tensor) -> Tensor | tuple[Tensor, ...]:
    """Each tensor with at least one dim (a 0-D one becomes shape (1,)); one tensor in, one out."""
    return _atleast(tensors, 1, lambda t: (1,))


def atleast_2d(*tensors: Tensor) -> Tensor | tuple[Tensor, ...]:
    """Each tensor with at least two dims: 0-D becomes (1, 1), 1-D (n,) becomes (1, n)."""
    return _atleast(tensors, 2, lambda t: (1, t.numel()))


def atleast_3d(*tensors: Tensor) -> Tensor | tuple[Tensor, ...]:
    """Each tensor with at least three dims: 0-D becomes (1, 1, 1), (n,) becomes (1, n, 1), (m, n) (m, n, 1)."""
    return _atleast(tensors, 3, lambda t: (1, t.numel(), 1) if t.dim() < 2 else (*t.shape, 1))


def _as_list(tensors: Any, name: str) -> list[Tensor]:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{name}(): argument 'tensors' must be tuple of Tensors, not {type(tensors).__name__}")
    if not tensors:
        raise RuntimeError(f"{name} expects a non-empty TensorList")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
    return list(tensors)


def hstack(tensors: Sequence[Tensor], *, out: Tensor | None = None) -> Tensor:
    """The tensors joined column-wise: along dim 0 when all are 1-D, else dim 1."""
    # one tensor at a time: atleast_1d of one tensor returns it, not a tuple (list() would split its rows)
    ts = [atleast_1d(t) for t in _as_list(tensors, "hstack")]
    return _out(out, _C.cat(ts, 0 if ts[0].dim() == 1 else 1), "hstack")


def vstack(tensors: Sequence[Tensor], *, out: Tensor | None = None) -> Tensor:
    """The tensors joined row-wise (along dim 0), 1-D ones as rows."""
    return _out(out, _C.cat([atleast_2d(t) for t in _as_list(tensors, "vstack")], 0), "vstack")


def row_stack(tensors: Sequence[Tensor], *, out: Tensor | None = None) -> Tensor:
    """Alias of ``vstack``."""
    return vstack(tensors, out=out)


def dstack(tensors: Sequence[Tensor], *, out: Tensor | None = None) -> Tensor:
    """The tensors joined depth-wise (along dim 2), after ``atleast_3d``."""
    return _out(out, _C.cat([atleast_3d(t) for t in _as_list(tensors, "dstack")], 2), "dstack")


def column_stack(tensors: Sequence[Tensor], *, out: Tensor | None = None) -> Tensor:
    """The tensors as columns side by side: 0-D and 1-D ones become columns, then joined along dim 1."""
    ts = [t.reshape(t.numel(), 1) if t.dim() < 2 else t for t in _as_list(tensors, "column_stack")]
    return _out(out, _C.cat(ts, 1), "column_stack")


# ------------------------------------------------------------------------------------------ splitting


def tensor_split(
    input: Tensor,
    indices_or_sections: Any = None,
    dim: int = 0,
    *,
    sections: int | None = None,
    indices: Sequence[int] | None = None,
    tensor_indices_or_sections: Tensor | None = None,
) -> tuple[Tensor, ...]:
    """Views of ``input`` split along ``dim``: into n nearly equal parts (the first ``size % n`` one larger)
    when given an int n, or at the given indices (a list, or a 1-D int tensor). PyTorch's keyword names
    for each form, ``sections=``, ``indices=`` and ``tensor_indices_or_sections=``, work too."""
    given = [x for x in (indices_or_sections, sections, indices, tensor_indices_or_sections) if x is not None]
    if len(given) != 1:
        raise TypeError(
            "tensor_split() takes one of indices_or_sections, sections, indices or tensor_indices_or_sections"
        )
    indices_or_sections = given[0]
    if input.dim() == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    if isinstance(indices_or_sections, Tensor):
        if indices_or_sections.is_floating_point() or indices_or_sections.dim() > 1:
            raise RuntimeError(
                "tensor_split expected tensor_indices_or_sections to be a zero-dimensional or one-dimensional "
                f"integer tensor, but got a tensor with {indices_or_sections.dim()} dims"
            )
        indices_or_sections = indices_or_sections.tolist()
    dim = dim % input.dim()
    size = input.shape[dim]
    if isinstance(indices_or_sections, numbers.Integral) and not isinstance(indices_or_sections, bool):
        n = int(indices_or_sections)
        if n <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {n}")
        lengths = [size // n + (1 if k < size % n else 0) for k in range(n)]
        bounds = list(itertools.accumulate([0] + lengths))
    elif isinstance(indices_or_sections, (list, tuple)):
        bounds = [0] + [int(i) for i in indices_or_sections] + [size]
    else:
        raise TypeError(
            "tensor_split(): argument 'indices_or_sections' must be an int, a sequence of ints or a Tensor, "
            f"not {type(indices_or_sections).__name__}"
        )
    parts = []
    for start, stop in zip(bounds[:-1], bounds[1:]):
        start = min(max(start + size if start < 0 else start, 0), size)
        stop = min(max(stop + size if stop < 0 else stop, start), size)
        parts.append(input.narrow(dim, start, stop - start))
    return tuple(parts)


def _split_along(name: str, input: Tensor, indices_or_sections: Any, dim: int, min_dims: int) -> tuple[Tensor, ...]:
    if input.dim() < min_dims:
        raise RuntimeError(
            f"torch.{name} requires a tensor with at least {min_dims} dimension, but got a tensor with "
            f"{input.dim()} dimensions!"
        )
    if isinstance(indices_or_sections, numbers.Integral):
        size = input.shape[dim]
        if indices_or_sections == 0 or size % indices_or_sections:
            raise RuntimeError(
                f"torch.{name} attempted to split along dimension {dim}, but the size of the dimension {size} "
                f"is not divisible by the split_size {indices_or_sections}!"
            )
    return tensor_split(input, indices_or_sections, dim)


def hsplit(input: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:
    """``tensor_split`` along dim 1 (dim 0 for a 1-D tensor); an int must divide that dim's size."""
    return _split_along("hsplit", input, indices_or_sections, 1 if input.dim() > 1 else 0, 1)


def vsplit(input: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:
    """``tensor_split`` along dim 0 of a tensor of 2 or more dims; an int must divide that dim's size."""
    return _split_along("vsplit", input, indices_or_sections, 0, 2)


def dsplit(input: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:
    """``tensor_split`` along dim 2 of a tensor of 3 or more dims; an int must divide that dim's size."""
    return _split_along("dsplit", input, indices_or_sections, 2, 3)


# ------------------------------------------------------------------------------------ products of sets


def cartesian_prod(*tensors: Tensor) -> Tensor:
    """The Cartesian product of 1-D tensors: one row per combination, as itertools.product."""
    tensors = _tensors(tensors)
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return _C.stack([g.reshape(-1) for g in grids], 1)


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """The length-``r`` combinations of the elements of 1-D ``input``, one per row, as
    itertools.combinations (or combinations_with_replacement)."""
    if input.dim() != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return input.new_empty(0)
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    # The combinations of positions (no data touched), then one gather: differentiable w.r.t. input.
    rows = np.array(list(pick(range(input.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    index = _creation.tensor(rows.reshape(-1), device=_creation._device_of(input))
    return input.index_select(0, index).reshape(-1, r)


def tril_indices(
    row: int, col: int, offset: int = 0, *, dtype: Any = None, device: Any = None, layout: Any = None
) -> Tensor:
    """The (row, column) coordinates of the lower triangle of a row x col matrix (below diagonal
    ``offset``), as a 2 x N int64 tensor, row by row."""
    _creation._check_layout_and_pinning(layout, False, "tril_indices")
    _creation._check_device(device)
    r, c = np.tril_indices(row, offset, col)
    return _creation.tensor(np.stack([r, c]).reshape(2, -1), dtype=dtype or _C.dtype.int64, device=device)


def triu_indices(
    row: int, col: int, offset: int = 0, *, dtype: Any = None, device: Any = None, layout: Any = None
) -> Tensor:
    """The (row, column) coordinates of the upper triangle of a row x col matrix (above diagonal
    ``offset``), as a 2 x N int64 tensor, row by row."""
    _creation._check_layout_and_pinning(layout, False, "triu_indices")
    _creation._check_device(device)
    r, c = np.triu_indices(row, offset, col)
    return _creation.tensor(np.stack([r, c]).reshape(2, -1), dtype=dtype or _C.dtype.int64, device=device)


def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:
    """The Vandermonde matrix of 1-D ``x``: columns ``x**(N-1), ..., x, 1`` (reversed when ``increasing``)."""
    if x.dim() != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x.shape[0] if N is None else int(N)
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    if not x.is_floating_point():
        x = x.to(_C.dtype.int64)  # as PyTorch: integer and bool inputs give int64
    # Successive products, not pow: pow's gradient at x = 0 with exponent 0 is nan.
    columns = [_creation.ones_like(x)] if n else []
    for _ in range(1, n):
        columns.append(columns[-1] * x)
    if not increasing:
        columns.reverse()
    return _C.stack(columns, 1) if columns else x.new_empty((x.shape[0], 0))


# ------------------------------------------------------------------------------------ views and copies


def _dims(d: int | Sequence[int]) -> list[int]:
    return [int(d)] if isinstance(d, numbers.Integral) else [int(x) for x in d]


def movedim(input: Tensor, source: int | Sequence[int], destination: int | Sequence[int]) -> Tensor:
    """``input`` with its dims ``source`` moved to positions ``destination`` (a view); the others keep
    their order."""
    src, dst = _dims(source), _dims(destination)
    nd = input.dim()
    if len(src) != len(dst):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({src} dims) should contain the same number "
            f"of dims as destination ({dst} dims)"
        )
    for d in src + dst:
        if not -max(nd, 1) <= d < max(nd, 1):
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-max(nd, 1)}, {max(nd, 1) - 1}], but got {d})"
            )
    src = [d % nd for d in src] if nd else src
    dst = [d % nd for d in dst] if nd else dst
    if len(set(src)) != len(src):
        raise RuntimeError(f"movedim: repeated dim in `source` ({_dims(source)})")
    if len(set(dst)) != len(dst):
        raise RuntimeError(f"movedim: repeated dim in `destination` ({_dims(destination)})")
    order = [-1] * nd
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(d for d in range(nd) if d not in src)
    order = [next(rest) if o == -1 else o for o in order]
    return input.permute(order) if nd else input


moveaxis = movedim


def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    """``input`` with dim ``dim`` split into ``sizes`` (one of which may be -1)."""
    nd = input.dim()
    if nd == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    dim = dim % nd
    sizes = [int(s) for s in sizes]
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    known = 1
    for s in sizes:
        known *= s if s != -1 else 1
    size = input.shape[dim]
    bad = sizes.count(-1) > 1 or (-1 in sizes and (known == 0 or size % known)) or (-1 not in sizes and known != size)
    if bad:
        raise RuntimeError(
            f"unflatten: Provided sizes {sizes} don't multiply up to the size of dim {dim} ({size}) in the input tensor"
        )
    return input.reshape(list(input.shape[:dim]) + sizes + list(input.shape[dim + 1 :]))


def ravel(input: Tensor) -> Tensor:
    """``input`` flattened to 1-D (a view when contiguous, else a copy)."""
    return input.reshape(-1)


def argwhere(input: Tensor) -> Tensor:
    """The indices of the nonzero elements of ``input``, one row per element (as ``nonzero``)."""
    return _C.nonzero(input)


def narrow_copy(input: Tensor, dim: int, start: int, length: int, *, out: Tensor | None = None) -> Tensor:
    """A copy of ``input.narrow(dim, start, length)``."""
    return _out(out, input.narrow(dim, start, length).clone(), "narrow_copy")


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """A 2-D tensor with the flattened ``input`` on diagonal ``offset``."""
    return _C.diag(input.reshape(-1), offset)


def _scatter_into(input: Tensor, view: Any, src: Tensor, name: str) -> Tensor:
    """A copy of ``input`` with ``src`` written into the part ``view(copy)`` selects; differentiable in both."""
    out = input.clone()
    part = view(out)
    if tuple(part.shape) != tuple(src.shape):
        raise RuntimeError(
            f"{name}: expected src to have a size equal to the slice of self. src size = {list(src.shape)}, "
            f"slice size = {list(part.shape)}"
        )
    part.copy_(src)
    return out


def slice_scatter(input: Tensor, src: Tensor, dim: int = 0, start: int | None = None, end: int | None = None,
                  step: int = 1) -> Tensor:  # fmt: skip
    """A copy of ``input`` with ``src`` written into the slice ``start:end:step`` of dim ``dim``."""
    index = (slice(None),) * (dim % input.dim()) + (slice(start, end, step),)
    return _scatter_into(input, lambda t: t[index], src, "slice_scatter")


def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:
    """A copy of ``input`` with ``src`` written into ``input.select(dim, index)``."""
    return _scatter_into(input, lambda t: t.select(dim, index), src, "select_scatter")


def as_strided_scatter(
    input: Tensor, src: Tensor, size: Sequence[int], stride: Sequence[int], storage_offset: int | None = None
) -> Tensor:
    """A copy of ``input`` with ``src`` written into its ``as_strided(size, stride, storage_offset)`` view."""
    return _scatter_into(input, lambda t: t.as_strided(size, stride, storage_offset), src, "as_strided_scatter")


def as_strided_copy(
    input: Tensor, size: Sequence[int], stride: Sequence[int], storage_offset: int | None = None
) -> Tensor:
    """A copy of ``input.as_strided(size, stride, storage_offset)``."""
    return input.as_strided(size, stride, storage_offset).clone()


def diagonal_scatter(input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """A copy of ``input`` with ``src`` written into its diagonal ``input.diagonal(offset, dim1, dim2)``."""
    return _scatter_into(input, lambda t: t.diagonal(offset, dim1, dim2), src, "diagonal_scatter")


def adjoint(input: Tensor) -> Tensor:
    """The conjugate transpose of the last two dims (a view; the conjugation changes nothing for real dtypes)."""
    if input.dim() < 2:
        raise RuntimeError(
            f"tensor.adjoint() is only supported on matrices or batches of matrices. Got {input.dim()}-D tensor."
        )
    return input.transpose(-2, -1)


def unravel_index(indices: Tensor | int, shape: int | Sequence[int]) -> tuple[Tensor, ...]:
    """The coordinates in a tensor of ``shape`` of the flat ``indices`` (one int64 tensor per dim, each of
    the shape of ``indices``); negative indices count from the end, as Python's."""
    if not isinstance(indices, Tensor):
        indices = _creation.tensor(indices)
    if indices.is_floating_point() or indices.dtype == _C.dtype.bool:
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
    shape = [int(shape)] if isinstance(shape, numbers.Integral) else [int(s) for s in shape]
    if any(s < 0 for s in shape):
        raise ValueError("'shape' cannot have negative values, but got " + str(tuple(shape)))
    idx = indices.to(_C.dtype.int64)
    coords = []  # as PyTorch, indices out of range wrap around rather than raise
    for size in reversed(shape):
        coords.append(idx.remainder(size))
        idx = idx.floor_divide(size)
    return tuple(reversed(coords))
