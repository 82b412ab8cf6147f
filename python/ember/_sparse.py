"""Sparse COO tensors (``ember.sparse_coo_tensor``, ``Tensor.to_sparse``), as PyTorch's ``torch.sparse_coo``
layout: ``indices`` (sparse_dim x nnz, int64) and ``values`` (nnz x dense dims) of a tensor of ``size``.

A SparseCooTensor is a stand-in (Note [Batched dispatch]): ``isinstance(s, Tensor)`` holds, the compiled
ops hand calls with one to ``dispatch`` here, which runs what a sparse tensor supports in PyTorch's
common use (``mm``/``matmul``/``addmm`` with a dense matrix, scaling, adding, ``sum``, ``to_dense``,
``coalesce``, transposing, moving) and raises PyTorch's NotImplementedError for the rest. Each of these
is written with dense ops on ``values``, so gradients reach ``values`` (and the dense operand) through
ember's autograd; a sparse tensor itself gets no ``.grad`` (see the README)."""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from . import _C, _creation, _sparse_ops
from ._batched import TensorLike, keep_checks_on, stand_in_class, to_arguments
from ._C import Tensor
from ._creation import get_default_dtype, tensor, zeros
from ._tensor import Size

__all__ = ["SparseCooTensor", "sparse_coo_tensor", "to_sparse"]


def _scalar(x: Any) -> bool:
    return isinstance(x, (int, float, bool)) or (isinstance(x, Tensor) and not isinstance(x, SparseCooTensor)
                                                 and x.dim() == 0)  # fmt: skip


class SparseCooTensor(TensorLike):
    """A tensor of ``size`` whose nonzero entries are ``values`` at ``indices`` (layout ``sparse_coo``)."""

    __slots__ = ("_idx", "_vals", "_size", "_coalesced", "__weakref__")

    def __init__(self, indices: Tensor, values: Tensor, size: tuple[int, ...], coalesced: bool) -> None:
        self._idx, self._vals, self._size, self._coalesced = indices, values, tuple(size), coalesced
        keep_checks_on()  # the compiled ops now look for stand-ins among their arguments

    @property  # type: ignore[misc]
    def __class__(self) -> type:
        return stand_in_class(False)

    # ------------------------------------------------------------------ what a tensor reports
    shape = property(lambda self: Size(self._size))
    dtype = property(lambda self: self._vals.dtype)
    device = property(lambda self: self._vals.device)
    layout = property(lambda self: _creation.sparse_coo)
    is_sparse = property(lambda self: True)
    is_sparse_csr = is_quantized = is_meta = is_mkldnn = is_nested = property(lambda self: False)
    is_cuda = property(lambda self: self._vals.is_cuda)
    ndim = property(lambda self: len(self._size))
    grad_fn = property(lambda self: self._vals.grad_fn)
    grad = property(lambda self: None)
    is_leaf = property(lambda self: self._vals.is_leaf)

    @property
    def requires_grad(self) -> bool:
        return self._vals.requires_grad

    def requires_grad_(self, requires_grad: bool = True) -> SparseCooTensor:
        self._vals.requires_grad_(requires_grad)
        return self

    def size(self, dim: int | None = None) -> Any:
        return self.shape if dim is None else self._size[dim]

    def dim(self) -> int:
        return len(self._size)

    def __len__(self) -> int:
        if not self._size:
            raise TypeError("len() of a 0-d tensor")
        return self._size[0]

    def numel(self) -> int:
        n = 1
        for s in self._size:
            n *= s
        return n

    def is_floating_point(self) -> bool:
        return self._vals.is_floating_point()

    def is_complex(self) -> bool:
        return self._vals.is_complex()

    def element_size(self) -> int:
        return self._vals.element_size()

    def sparse_dim(self) -> int:
        return self._idx.shape[0]

    def dense_dim(self) -> int:
        return self._vals.dim() - 1

    def _nnz(self) -> int:
        return self._vals.shape[0]

    def is_coalesced(self) -> bool:
        return self._coalesced

    def _coalesced_(self, coalesced: bool) -> SparseCooTensor:
        """Marks the tensor coalesced (or not) without checking, as PyTorch's (PyG marks the indices it
        sorted itself); returns self."""
        self._coalesced = bool(coalesced)
        return self

    def index_select(self, dim: int, index: Tensor) -> SparseCooTensor:
        """The slices ``index`` picks along a sparse ``dim`` (repeats allowed), as a sparse tensor whose
        values keep their gradient (PyG's ASAPooling selects clusters so)."""
        dim = dim + self.dim() if dim < 0 else dim
        if not 0 <= dim < self.sparse_dim():
            raise IndexError(f"index_select(): sparse index_select along dense dim {dim} is not supported by ember")
        given, size = index.reshape(-1), self._size[dim]
        index = _C.where(given < 0, given + size, given)  # negative indices count from the end, as PyTorch's
        outside = (index < 0) | (index >= size)
        if bool(outside.any()):
            raise IndexError(
                f"index_select(): index contains {int(given[outside][0])} that is out of range for tensor of size "
                f"{list(self._size)} at dimension {dim}"
            )
        hits = self._idx[dim].unsqueeze(1) == index.unsqueeze(0)  # (nnz, len(index)): entry e lands at slot k
        entries, slots = hits.nonzero(as_tuple=True)
        indices = self._idx.index_select(1, entries).clone()
        indices[dim] = slots
        size = (*self._size[:dim], index.shape[0], *self._size[dim + 1 :])
        return SparseCooTensor(indices, self._vals.index_select(0, entries), size, False)

    def _indices(self) -> Tensor:
        return self._idx

    def _values(self) -> Tensor:
        return self._vals

    def indices(self) -> Tensor:
        if not self._coalesced:
            raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call .coalesce() first")
        return self._idx

    def values(self) -> Tensor:
        if not self._coalesced:
            raise RuntimeError("Cannot get values on an uncoalesced tensor, please call .coalesce() first")
        return self._vals

    def __repr__(self) -> str:
        return _sparse_repr(self, [("indices", self._idx), ("values", self._vals)], force_newline=True)

    # ------------------------------------------------------------------ conversions
    def coalesce(self) -> SparseCooTensor:
        """Indices sorted and unique, values of repeated indices summed."""
        if self._coalesced:
            return self
        linear = _linear_index(self._idx, self._size[: self.sparse_dim()])
        unique, inverse = _C.unique(linear, sorted=True, return_inverse=True)
        values = zeros((unique.shape[0], *self._vals.shape[1:]), dtype=self.dtype, device=self.device)
        values = values.index_add(0, inverse, self._vals)
        return SparseCooTensor(_unravel(unique, self._size[: self.sparse_dim()]), values, self._size, True)

    def to_dense(self, dtype: Any = None, *, masked_grad: bool = True) -> Tensor:
        dense = zeros(self._size, dtype=self.dtype, device=self.device)
        dense = dense.index_put(tuple(self._idx), self._vals, accumulate=True)
        return dense if dtype is None else dense.to(dtype)

    def to_sparse(self, sparse_dim: Any = None, *, layout: Any = None, blocksize: Any = None,
                  dense_dim: Any = None) -> SparseCooTensor:  # fmt: skip
        """This tensor in ``layout`` (COO when none is given); its sparse dims cannot change."""
        if layout is _creation.sparse_csr:
            return self.to_sparse_csr(dense_dim)
        _check_sparse_layout(layout, blocksize, "to_sparse")
        if sparse_dim is not None and sparse_dim != self.sparse_dim():
            raise NotImplementedError(
                f"to_sparse: ember keeps a sparse tensor's {self.sparse_dim()} sparse dims (asked for {sparse_dim}); "
                "call .to_dense().to_sparse(sparse_dim)"
            )
        return self.to_sparse_coo()

    def to_sparse_coo(self) -> SparseCooTensor:
        if type(self) is SparseCooTensor:
            return self
        return SparseCooTensor(self._idx, self._vals, self._size, self._coalesced)

    def to_sparse_csr(self, dense_dim: Any = None) -> Any:
        from ._sparse_csr import SparseCsrTensor

        if dense_dim:
            raise NotImplementedError("to_sparse_csr: ember's CSR tensors have no dense dims")
        if self.dim() != 2 or self.sparse_dim() != 2:
            raise RuntimeError(f"to_sparse_csr: ember makes CSR tensors of 2-D matrices, got size {list(self._size)}")
        c = self.coalesce()
        return SparseCsrTensor(c._idx, c._vals, c._size, True)

    def _map_values(self, fn: Any, indices: Tensor | None = None) -> SparseCooTensor:
        idx = self._idx if indices is None else indices
        return type(self)(idx, fn(self._vals), self._size, self._coalesced)

    def to(self, *args: Any, **kwargs: Any) -> SparseCooTensor:
        dtype, device = to_arguments(args, kwargs)
        idx = self._idx if device is None else self._idx.to(device)
        return self._map_values(lambda v: v.to(*args, **kwargs), idx)

    def cpu(self) -> SparseCooTensor:
        return self.to("cpu")

    def cuda(self, device: Any = None, non_blocking: bool = False) -> SparseCooTensor:
        return self.to("cuda" if device is None else device, non_blocking=non_blocking)

    def float(self) -> SparseCooTensor:
        return self._map_values(lambda v: v.float())

    def double(self) -> SparseCooTensor:
        return self._map_values(lambda v: v.double())

    def half(self) -> SparseCooTensor:
        return self._map_values(lambda v: v.half())

    def detach(self) -> SparseCooTensor:
        return self._map_values(lambda v: v.detach())

    def clone(self, *, memory_format: Any = None) -> SparseCooTensor:
        return type(self)(self._idx.clone(), self._vals.clone(), self._size, self._coalesced)

    def t(self) -> SparseCooTensor:
        if self.dim() > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.dim()}D")
        return self.transpose(0, -1) if self.dim() == 2 else self

    def transpose(self, dim0: int, dim1: int) -> SparseCooTensor:
        d0, d1 = dim0 % self.dim(), dim1 % self.dim()
        if max(d0, d1) >= self.sparse_dim():
            raise NotImplementedError("transpose of a sparse tensor's dense dims: ember swaps sparse dims only")
        order = list(range(self.sparse_dim()))
        order[d0], order[d1] = order[d1], order[d0]
        size = list(self._size)
        size[d0], size[d1] = size[d1], size[d0]
        return SparseCooTensor(self._idx[order], self._vals, tuple(size), False)

    # ------------------------------------------------------------------ arithmetic
    def __mul__(self, other: Any) -> SparseCooTensor:
        if not _scalar(other):
            return dispatch("mul", True, (self, other), {})
        return self._map_values(lambda v: v * other)

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> SparseCooTensor:
        if not _scalar(other):
            return dispatch("div", True, (self, other), {})
        return self._map_values(lambda v: v / other)

    def __neg__(self) -> SparseCooTensor:
        return self._map_values(lambda v: -v)

    def __add__(self, other: Any) -> Any:
        return dispatch("add", True, (self, other), {})

    def __radd__(self, other: Any) -> Any:
        return dispatch("add", True, (other, self), {})

    def __sub__(self, other: Any) -> Any:
        return self + (-other)

    def __matmul__(self, other: Any) -> Tensor:
        return _mm(self, other, "matmul")

    def mm(self, other: Any) -> Tensor:
        return _mm(self, other, "mm")

    matmul = __matmul__

    def sum(self, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Any:
        return sum(self, dim, dtype=dtype) if not keepdim else self.to_dense().sum(dim, keepdim=True, dtype=dtype)


def _sparse_repr(t: SparseCooTensor, fields: list[tuple[str, Tensor]], force_newline: bool) -> str:
    """PyTorch's repr of a sparse tensor: its parts, then size, nnz, dtype, layout, device and autograd."""
    from ._tensor_str import _add_suffixes, _tensor_str

    indent = len("tensor(")
    parts = []
    for name, part in fields:  # each as PyTorch writes it: its values indented under its name, no dtype
        opening = f"{name}=tensor("
        body = _tensor_str(part.detach(), indent + len(opening)) if part.numel() else f"[], size={tuple(part.shape)}"
        parts.append(opening + body + ")")
    suffixes = ["size=(" + ", ".join(map(str, t._size)) + ("," if len(t._size) == 1 else "") + ")", f"nnz={t._nnz()}"]
    if t.dtype not in (get_default_dtype(), _C.dtype.int64, _C.dtype.bool):  # the dtypes a repr leaves unsaid
        suffixes.append(f"dtype={t.dtype}")
    suffixes.append(f"layout={t.layout}")
    if t.device.type != "cpu":
        suffixes.append(f"device='{t.device}'")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes("tensor(" + (",\n" + " " * indent).join(parts), suffixes, indent, force_newline)


def _check_sparse_layout(layout: Any, blocksize: Any, op: str) -> None:
    """Refuses a layout ember does not have (CSC and the blocked ones) and a block size (BSR/BSC only)."""
    if layout not in (None, _creation.sparse_coo, _creation.sparse_csr) or blocksize is not None:
        raise NotImplementedError(f"{op}: ember has the sparse_coo and sparse_csr layouts, not {layout} or blocks")


def _linear_index(indices: Tensor, sizes: tuple[int, ...]) -> Tensor:
    linear = zeros((indices.shape[1],), dtype=_C.dtype.int64, device=indices.device)
    for d, n in enumerate(sizes):
        linear = linear * n + indices[d]
    return linear


def _unravel(linear: Tensor, sizes: tuple[int, ...]) -> Tensor:
    rows = []
    for n in reversed(sizes):
        rows.append(linear % n)
        linear = linear // n
    return _C.stack(rows[::-1]) if rows else linear.reshape(0, -1)


def _check_product(sparse: SparseCooTensor, other: Any) -> None:
    if sparse.shape[1] != other.shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({sparse.shape[0]}x{sparse.shape[1]} and "
            f"{'x'.join(map(str, other.shape))})"
        )
    if sparse.dtype != other.dtype:
        raise RuntimeError(f"expected mat1 and mat2 to have the same dtype, but got: {sparse.dtype} != {other.dtype}")


def _sparse_product(a: SparseCooTensor, b: SparseCooTensor) -> SparseCooTensor:
    """``a @ b`` of two 2-D sparse matrices, sparse as PyTorch's: every pair of entries a[i, k] and b[k, j]
    multiplied and summed into (i, j) by coalesce (an entry whose products cancel stays, a stored zero, as
    PyTorch keeps it). Which entries pair is found on the host; the values' products differentiate."""
    inner_a, inner_b = a._idx[1].cpu().numpy(), b._idx[0].cpu().numpy()
    order = np.argsort(inner_b, kind="stable")
    first = np.searchsorted(inner_b[order], inner_a, "left")
    counts = np.searchsorted(inner_b[order], inner_a, "right") - first
    left = np.repeat(np.arange(inner_a.size), counts)  # a's entry of each pair, b's below
    right = order[np.repeat(first, counts) + np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)]
    left_t, right_t = (tensor(x, dtype=_C.dtype.int64, device=a._idx.device) for x in (left, right))
    indices = _C.stack([a._idx[0].index_select(0, left_t), b._idx[1].index_select(0, right_t)])
    values = a._vals.index_select(0, left_t) * b._vals.index_select(0, right_t)
    return SparseCooTensor(indices, values, (a.shape[0], b.shape[1]), False).coalesce()


def _mm(sparse: SparseCooTensor, dense: Any, name: str, reduce: str = "sum") -> Any:
    """``sparse @ dense`` for a 2-D sparse matrix: each value times its column's row of ``dense``, summed
    into its row (index_add; or reduced by ``reduce``), so gradients reach the values and ``dense``. A sparse
    ``dense`` gives a sparse product (``_sparse_product``)."""
    if isinstance(dense, SparseCooTensor):
        if reduce == "sum" and sparse.dim() == dense.dim() == 2 and sparse.dense_dim() == dense.dense_dim() == 0:
            _check_product(sparse, dense)
            return _sparse_product(sparse, dense)
        dense = dense.to_dense()
    if not isinstance(dense, Tensor):
        raise TypeError(f"{name}(): argument 'mat2' (position 2) must be Tensor, not {type(dense).__name__}")
    if sparse.dim() != 2 or sparse.sparse_dim() != 2 or dense.dim() not in (1, 2):
        raise RuntimeError(
            f"{name}: ember multiplies a 2-D sparse matrix by a 1-D or 2-D dense one, got sparse of size "
            f"{tuple(sparse.shape)} and dense of size {tuple(dense.shape)}"
        )
    _check_product(sparse, dense)
    rows, cols = sparse._idx[0], sparse._idx[1]
    values = sparse._vals if dense.dim() == 1 else sparse._vals.unsqueeze(1)
    out = zeros((sparse.shape[0], *dense.shape[1:]), dtype=dense.dtype, device=dense.device)
    products = values * dense.index_select(0, cols)
    if reduce == "sum":
        return out.index_add(0, rows, products)
    if reduce not in _MM_REDUCTIONS:
        raise RuntimeError(f"sparse_mm_reduce: reduce type of {reduce} has not been enabled.")
    # each row's products reduced; a row without entries stays 0, as PyTorch's
    target = rows.reshape(-1, *([1] * (products.dim() - 1))).expand_as(products)
    return out.scatter_reduce(0, target, products, _MM_REDUCTIONS[reduce], include_self=False)


def _bmm(sparse: SparseCooTensor, dense: Any) -> Tensor:
    """``bmm(sparse, dense)`` for a 3-D sparse batch: the batches' matrices laid along one diagonal (rows
    b * n + i, columns b * m + j), multiplied as one 2-D product."""
    if not isinstance(dense, Tensor):
        raise TypeError(f"bmm(): argument 'mat2' (position 2) must be Tensor, not {type(dense).__name__}")
    if sparse.dim() != 3 or sparse.sparse_dim() != 3 or dense.dim() != 3:
        raise RuntimeError(
            f"bmm: ember multiplies a 3-D sparse batch by a 3-D dense one, got sparse of size "
            f"{tuple(sparse.shape)} and dense of size {tuple(dense.shape)}"
        )
    b, n, m = sparse.shape
    if tuple(dense.shape[:2]) != (b, m):
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{b}, {m}] but got: "
            f"[{dense.shape[0]}, {dense.shape[1]}]."
        )
    batch, rows, cols = sparse._idx
    diagonal = SparseCooTensor(_C.stack([batch * n + rows, batch * m + cols]), sparse._vals, (b * n, b * m), False)
    return _mm(diagonal, dense.reshape(b * m, dense.shape[2]), "bmm").reshape(b, n, dense.shape[2])


# torch.sparse.mm's reductions besides "sum" (PyTorch names the max and min either way)
_MM_REDUCTIONS = {"mean": "mean", "max": "amax", "amax": "amax", "min": "amin", "amin": "amin"}


def _add(a: Any, b: Any, alpha: Any = 1) -> Any:
    if isinstance(a, SparseCooTensor) and isinstance(b, SparseCooTensor):
        if a.shape != b.shape:
            raise RuntimeError(f"add: expected sizes of 'self' and 'other' to match, but {tuple(a.shape)} != "
                               f"{tuple(b.shape)}")  # fmt: skip
        values = _C.cat([a._vals, b._vals * alpha])
        return SparseCooTensor(_C.cat([a._idx, b._idx], 1), values, a._size, False)
    if isinstance(a, SparseCooTensor):
        raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) instead.")
    return a + b.to_dense() * alpha


def sum(input: SparseCooTensor, dim: Any = None, dtype: Any = None) -> Any:  # noqa: A001
    """``ember.sparse.sum``: every entry (a 0-d dense tensor), or over ``dim`` (sparse when sparse dims are
    left, as PyTorch)."""
    if dim is None:
        return input._vals.sum(dtype=dtype)
    dims = sorted(d % input.dim() for d in ((dim,) if isinstance(dim, int) else dim))
    dense = input.to_dense().sum(dims, dtype=dtype)
    left_sparse = input.sparse_dim() - len([d for d in dims if d < input.sparse_dim()])
    return dense if left_sparse == 0 else dense.to_sparse(left_sparse)


def dispatch(name: str, method: bool, args: tuple, kwargs: dict) -> Any:
    """The ops a sparse COO tensor supports; PyTorch's NotImplementedError for the rest."""
    if kwargs.get("out") is not None and name in ("mm", "matmul", "addmm", "bmm", "sparse_mm"):
        kwargs = dict(kwargs)
        out = kwargs.pop("out")
        return _C._write_out(out, dispatch(name, method, args, kwargs), name)  # a dense result into out
    if name.startswith("__") and name.endswith("__"):  # an operator: x + s reaches here as s.__radd__(x)
        name = name[2:-2]
        if name[0] == "r" and name[1:] in ("add", "sub", "mul", "matmul", "truediv"):
            name, args = name[1:], (args[1], args[0])
        name = {"truediv": "div"}.get(name, name)
    if name == "sub":
        return _add(args[0], args[1], alpha=-kwargs.get("alpha", 1))
    if name in ("mm", "matmul", "sparse_mm") and isinstance(args[0], SparseCooTensor):
        return _mm(args[0], args[1], name)
    if name == "bmm" and isinstance(args[0], SparseCooTensor):
        return _bmm(args[0], args[1])
    if name in ("mm", "matmul") and isinstance(args[1], SparseCooTensor):  # dense @ sparse = (sparseᵀ @ denseᵀ)ᵀ
        return _mm(args[1].to_sparse_coo().t(), args[0].t(), name).t()
    if name == "addmm" and isinstance(args[1], SparseCooTensor):
        beta, alpha = kwargs.get("beta", 1), kwargs.get("alpha", 1)
        return args[0] * beta + _mm(args[1], args[2], name) * alpha
    if name == "add":
        return _add(*args, **kwargs)
    if name in ("mul", "multiply", "div", "true_divide") and _scalar(args[1]) and isinstance(args[0], SparseCooTensor):
        return args[0] * args[1] if name.startswith("mul") else args[0] / args[1]
    if name == "is_contiguous":  # PyTorch answers False for a sparse tensor
        return False
    if name in ("is_same_size",):
        return tuple(args[0].shape) == tuple(args[1].shape)
    if name == "index_select" and isinstance(args[0], SparseCooTensor):
        return args[0].index_select(*args[1:], **kwargs)
    if name in _sparse_ops.OPS:
        return _sparse_ops.OPS[name](*args, **kwargs)
    if name in ("mul", "multiply") and all(isinstance(x, SparseCooTensor) for x in args[:2]):
        return _sparse_ops.mul(args[0], args[1])
    raise NotImplementedError(
        f"Could not run 'aten::{name}' with arguments from the 'SparseCPU' backend: ember's sparse COO tensors "
        "support mm/matmul/addmm, bmm of a 3-D batch, add, scaling, products, sum, index_select, cat, stack, "
        "select, unsqueeze, unbind, coalesce, to_dense and transposes (call .to_dense() for other ops)"
    )


def involved(args: tuple, kwargs: dict) -> bool:
    for a in (*args, *kwargs.values()):
        for x in a if isinstance(a, (tuple, list)) else (a,):
            if isinstance(x, SparseCooTensor):
                return True
    return False


def sparse_coo_tensor(indices: Any, values: Any, size: Any = None, *, dtype: Any = None, device: Any = None,
                      requires_grad: bool = False, check_invariants: bool | None = None,
                      is_coalesced: bool | None = None, pin_memory: bool = False) -> SparseCooTensor:  # fmt: skip
    """PyTorch's ``torch.sparse_coo_tensor``: ``values[k]`` at ``indices[:, k]`` of a tensor of ``size``
    (inferred from the largest indices when omitted). Indices must lie inside ``size``."""
    idx = indices if isinstance(indices, Tensor) else tensor(indices, dtype=_C.dtype.int64)
    vals = values if isinstance(values, Tensor) else tensor(values, dtype=dtype)
    idx = idx.to(dtype=_C.dtype.int64, device=device if device is not None else vals.device)
    vals = vals.to(dtype=dtype or vals.dtype, device=device or vals.device)
    if idx.dim() != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: {list(idx.shape)}")
    if vals.dim() == 0 or idx.shape[1] != vals.shape[0]:
        raise RuntimeError(
            f"indices and values must have same nnz, but got nnz from indices: {idx.shape[1]}, nnz from values: "
            f"{vals.shape[0] if vals.dim() else 1}"
        )
    sparse_dim = idx.shape[0]
    if size is None:
        maxes = idx.amax(1).tolist() if idx.shape[1] else [-1] * sparse_dim
        size = (*[m + 1 for m in maxes], *vals.shape[1:])
    try:  # ints, or what stands for one (a numpy integer): PyTorch's TypeError otherwise
        size = tuple(operator.index(n) for n in size) if isinstance(size, (tuple, list)) else None
    except TypeError:
        size = None
    if size is None:
        raise TypeError("sparse_coo_tensor(): argument 'size' must be tuple of ints")
    if len(size) != sparse_dim + vals.dim() - 1 or tuple(size[sparse_dim:]) != tuple(vals.shape[1:]):
        raise RuntimeError(
            f"number of dimensions must be sparse_dim ({sparse_dim}) + dense_dim ({vals.dim() - 1}), but got "
            f"{len(size)} (size {list(size)}, values of size {list(vals.shape)})"
        )
    if idx.shape[1]:
        low, high = idx.amin(1).tolist(), idx.amax(1).tolist()
        for d in range(sparse_dim):
            if low[d] < 0:
                raise RuntimeError(f"found negative index {low[d]} for dim {d}")
            if high[d] >= size[d]:
                raise RuntimeError(
                    f"size is inconsistent with indices: for dim {d}, size is {size[d]} but found index {high[d]}"
                )
    if pin_memory:  # page-locked, as PyTorch pins both parts (without a GPU: its error)
        idx, vals = idx.pin_memory(), vals.pin_memory()
    out = SparseCooTensor(idx, vals, size, bool(is_coalesced) or idx.shape[1] <= 1)
    return out.requires_grad_() if requires_grad else out


def to_sparse(self: Tensor, sparse_dim: Any = None, *, layout: Any = None, blocksize: Any = None,
              dense_dim: Any = None) -> SparseCooTensor:  # fmt: skip
    """``Tensor.to_sparse``: the nonzero entries of ``self`` (over its first ``sparse_dim`` dims; the rest
    stay dense in ``values``), coalesced."""
    if layout is _creation.sparse_csr:
        return to_sparse(self).to_sparse_csr(dense_dim)
    _check_sparse_layout(layout, blocksize, "to_sparse")
    if dense_dim is not None and sparse_dim is not None and int(sparse_dim) + int(dense_dim) != self.dim():
        raise RuntimeError(
            f"to_sparse: sparse_dim ({sparse_dim}) and dense_dim ({dense_dim}) must add up to {self.dim()}"
        )
    k = int(sparse_dim) if sparse_dim is not None else self.dim() - int(dense_dim or 0)
    if not 0 < k <= self.dim() if self.dim() else k != 0:
        raise RuntimeError(f"sparse_dim must be in [0, {self.dim()}], but got {k}")
    nonzero = self != 0
    if k < self.dim():
        nonzero = nonzero.flatten(k).any(-1)
    idx = nonzero.nonzero().t().contiguous()
    return SparseCooTensor(idx, self[tuple(idx)], tuple(self.shape), True)
