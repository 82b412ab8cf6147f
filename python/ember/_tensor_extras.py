"""Smaller pieces of torch's API that real scripts reach for: ``mode``, ``range``, ``empty_strided``,
``asarray``, ``frexp``, ``nextafter`` and the Tensor methods ``unfold``, ``fill_diagonal_``,
``apply_``/``map_``, ``nbytes``/``itemsize`` and the storage-sharing ones, which on ember's CPU
tensors are facts (``is_shared()`` False) or no-ops (``share_memory_()``)."""

from __future__ import annotations

import builtins
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import _C, return_types
from ._C import Tensor
from ._composite import _axis_alias
from ._creation import (
    _check_device,
    _check_layout_and_pinning,
    _device_of,
    _finish,
    _pinned,
    arange,
    empty,
    full,
    get_default_dtype,
    tensor,
)
from ._storage import _StorageWindow
from .grad_mode import no_grad

_builtin_range = builtins.range  # `range` below is torch.range

__all__ = ["alpha_dropout", "asarray", "dropout", "empty_strided", "frexp", "mode", "nextafter", "range"]

_ModeResult = return_types.mode
_FrexpResult = return_types.frexp


def _mode_row(row: np.ndarray) -> int:
    """The index of the mode of a 1-D row: the smallest of the most frequent values, at its last place."""
    values, counts = np.unique(row, return_counts=True)
    best = values[np.argmax(counts)]  # unique sorts, so the first maximum is the smallest value
    # unique counts NaNs as one value (as PyTorch's mode does), which `==` cannot find again
    return int(np.flatnonzero(np.isnan(row) if best != best else row == best)[-1])


@_axis_alias
def mode(input: Tensor, dim: int = -1, keepdim: bool = False, *, out: tuple[Tensor, Tensor] | None = None):
    """(values, indices): the most frequent value along dim (the smallest of ties) and its last index; the
    values carry the gradient to the elements they came from."""
    d = dim % max(input.dim(), 1)
    if input.dim() and input.shape[d] == 0:  # other empty dims give an empty result, as PyTorch's
        raise IndexError(f"mode(): Expected reduction dim {d} to have non-zero size.")
    with no_grad():
        # the modes are found on the host (np.unique per row); only the indices go back to input's device
        moved = np.moveaxis(_host_array(input).reshape(input.shape or (1,)), d, -1)
        flat = moved.reshape(-1, moved.shape[-1]) if moved.shape[-1] else moved.reshape(-1, 0)
        idx = np.array([_mode_row(r) for r in flat], dtype=np.int64).reshape(moved.shape[:-1])
        indices = tensor(np.expand_dims(idx, d) if input.dim() else idx.reshape(()), device=_device_of(input))
    values = input.gather(d, indices) if input.dim() else input.clone()
    if not keepdim and input.dim():
        values, indices = values.squeeze(d), indices.squeeze(d)
    result = _ModeResult(values, indices)
    if out is not None:
        return _ModeResult(*(_C._write_out(o, r, "mode") for o, r in zip(out, result)))
    return result


def range(start: float = 0, end: float | None = None, step: float = 1, *, out: Tensor | None = None,
          dtype: _C.dtype | None = None, layout: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:  # fmt: skip
    """Values from start to end *inclusive* by step, in the default float dtype; deprecated in PyTorch
    (it warns, as here): use arange, whose end is exclusive."""
    warnings.warn(
        "torch.range is deprecated and will be removed in a future release because its behavior is inconsistent "
        "with Python's range builtin. Instead, use torch.arange, which produces values in [start, end).",
        UserWarning,
        stacklevel=2,
    )
    if end is None:
        start, end = 0, start
    _check_layout_and_pinning(layout, False, "range")
    _check_device(device)
    count = int((end - start) // step) + 1
    where = device if out is None else out.device  # made where it goes: device=, out's, or the default device
    r = arange(count, dtype=_C.dtype.float64, device=where).mul(step).add(start).to(dtype or get_default_dtype())
    r = r if out is None else _C._write_out(out, r, "range")
    return r.requires_grad_(True) if requires_grad else r


def empty_strided(size: Sequence[int], stride: Sequence[int], *, dtype: _C.dtype | None = None, layout: Any = None,
                  device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:  # fmt: skip
    """An uninitialised tensor with the given sizes and strides (over a storage just large enough)."""
    _check_device(device)
    _check_layout_and_pinning(layout, pin_memory, "empty_strided", device)
    size, stride = tuple(size), tuple(stride)
    if len(size) != len(stride):
        raise RuntimeError(
            f"mismatch in length of strides and shape: got {len(stride)} strides for {len(size)} dimensions"
        )
    extent = 1 + sum((s - 1) * st for s, st in zip(size, stride)) if all(size) else 0
    dt = dtype or get_default_dtype()
    base = empty(extent, dtype=dt, device=device)
    strided = empty(0, dtype=dt, device=device).set_(base, 0, size, stride)
    return _finish(_pinned(strided, pin_memory), requires_grad, strided.device)


def asarray(obj: Any, *, dtype: _C.dtype | None = None, device: Any = None, copy: bool | None = None,
            requires_grad: bool = False) -> Tensor:  # fmt: skip
    """obj as a tensor: shared with a tensor or numpy array when no conversion is needed and copy is not True."""
    _check_device(device)
    r = _as_array_tensor(obj, dtype, copy)  # a tensor or array stays where it is; other data: the default device
    if device is not None:
        r = r.to(device)
    return r.requires_grad_(True) if requires_grad else r


def _as_array_tensor(obj: Any, dtype: _C.dtype | None, copy: bool | None) -> Tensor:
    if isinstance(obj, Tensor):
        r = obj if dtype is None or obj.dtype == dtype else obj.to(dtype)
        return r.clone() if copy and r is obj else r
    if isinstance(obj, _StorageWindow):  # its memory, read as dtype (a storage's own unit without one)
        r = obj._view()
        r = r if dtype is None or dtype == r.dtype else r.view(dtype)
        return r.clone() if copy else r
    if isinstance(obj, np.ndarray) and not copy:
        r = _C.from_numpy(np.ascontiguousarray(obj)) if obj.dtype.kind in "fiub" else tensor(obj)
        return r if dtype is None else r.to(dtype)
    return tensor(obj, dtype=dtype)


def frexp(input: Tensor, *, out: tuple[Tensor, Tensor] | None = None):
    """(mantissa, exponent): input = mantissa * 2 ** exponent, mantissa in [0.5, 1) (int32 exponents)."""
    if not input.is_floating_point():
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    m, e = np.frexp(_host_array(input))  # on the host; the results go back to input's device
    device = _device_of(input)
    result = _FrexpResult(tensor(m, dtype=input.dtype, device=device), tensor(e.astype(np.int32), device=device))
    if out is not None:
        return _FrexpResult(*(_C._write_out(o, r, "frexp") for o, r in zip(out, result)))
    return result


def _host_array(t: Tensor) -> np.ndarray:
    """t's values in a numpy array on the host; bfloat16 (which numpy lacks) as float32, exactly."""
    t = t.detach().cpu()
    return (t.float() if t.dtype == _C.dtype.bfloat16 else t).numpy()


def _nextafter_bfloat16(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """nextafter for bfloat16 values held in float32 arrays (of one shape): a step of one in bfloat16's 16 bits,
    away from zero where b is farther from zero; from a zero, the smallest subnormal with b's sign."""
    bits = (a.view(np.uint32) >> 16).astype(np.int32)
    stepped = np.where(a == 0, np.where(b < 0, 0x8001, 0x0001), bits + np.where((b > a) == (a > 0), 1, -1))
    result = (stepped.astype(np.uint32) << 16).view(np.float32)
    return np.where(a == b, b, np.where(np.isnan(a) | np.isnan(b), np.float32(np.nan), result))


def nextafter(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The next floating-point value after input toward other, elementwise (no gradient)."""
    a, b = _host_array(input), _host_array(other)  # on the host, back to input's device
    if input.dtype == _C.dtype.bfloat16:
        a, b = (np.ascontiguousarray(v, dtype=np.float32) for v in np.broadcast_arrays(a, b))
        values = _nextafter_bfloat16(a, b)
    else:
        values = np.nextafter(a, b.astype(a.dtype))
    r = tensor(values, dtype=input.dtype, device=_device_of(input))
    return r if out is None else _C._write_out(out, r, "nextafter")


def dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """torch.dropout: nn.functional.dropout with PyTorch's top-level parameter names."""
    from .nn import functional as F

    return F.dropout(input, p, train)


def alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """torch.alpha_dropout: nn.functional.alpha_dropout with PyTorch's top-level parameter names."""
    from .nn import functional as F

    return F.alpha_dropout(input, p, train)


# ------------------------------------------------------------------------------------------ Tensor methods


def _unfold(self: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """The windows of `size` elements every `step` along dimension: that dim becomes the window count and
    a last dim of `size` is added (a copy, differentiable; PyTorch returns a view)."""
    d = dimension % max(self.dim(), 1)
    n = self.shape[d] if self.dim() else 1
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    count = (n - size) // step + 1
    device = _device_of(self)
    index = (arange(count, device=device) * step).unsqueeze(1) + arange(size, device=device)  # (count, size)
    x = self if self.dim() else self.reshape(1)
    picked = x.index_select(d, index.reshape(-1))  # dim d holds count * size elements
    shape = list(x.shape)
    shape[d : d + 1] = [count, size]
    return picked.reshape(shape).movedim(d + 1, -1)


def _fill_diagonal_(self: Tensor, fill_value: float, wrap: bool = False) -> Tensor:
    """Writes fill_value on the main diagonal (all dims of one size beyond 2-D); a tall matrix restarts its
    diagonal every N + 1 rows when wrap=True, as PyTorch."""
    if self.dim() < 2:
        raise RuntimeError("dimensions must larger than 1")
    if self.dim() > 2 and len(set(self.shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    rows, cols = self.shape[0], self.shape[-1]
    if self.dim() == 2:
        stride, length = cols + 1, min(rows, cols)
        if wrap and rows > cols:
            length = (rows * cols + cols) // (cols + 1)
    else:
        stride, length = sum(cols**k for k in _builtin_range(self.dim())), cols
    device = _device_of(self)
    flat = arange(length, device=device) * stride
    flat = flat[flat < self.numel()]
    return self.put_(flat, full(tuple(flat.shape), fill_value, dtype=self.dtype, device=device))


def _apply_(self: Tensor, callable: Callable[[Any], Any]) -> Tensor:
    """Replaces each element x by callable(x), in place (a Python loop: slow, as PyTorch says of it too)."""
    if self.requires_grad:
        raise RuntimeError("apply_ is only implemented on CPU tensors that do not require grad")
    values = [callable(v) for v in self.reshape(-1).tolist()]
    with no_grad():
        return self.copy_(tensor(values, dtype=self.dtype, device=_device_of(self)).reshape(self.shape))


def _map_(self: Tensor, other: Tensor, callable: Callable[[Any, Any], Any]) -> Tensor:
    """Replaces each element x by callable(x, y), y the matching element of other (broadcast), in place."""
    if self.requires_grad:
        raise RuntimeError("map_ is only implemented on CPU tensors that do not require grad")
    ys = other.expand(self.shape).reshape(-1).tolist()
    values = [callable(x, y) for x, y in zip(self.reshape(-1).tolist(), ys)]
    with no_grad():
        return self.copy_(tensor(values, dtype=self.dtype, device=_device_of(self)).reshape(self.shape))


def _pin_memory(self: Tensor, device: Any = None) -> Tensor:
    """A copy in page-locked host memory, from which copies to the GPU run without waiting
    (``.to("cuda", non_blocking=True)``); the tensor itself when it is pinned already. Raises PyTorch's
    error where no GPU can be used (Note [Pinned memory])."""
    return _C._pin_memory(self)


_METHODS: dict[str, Any] = {
    "unfold": _unfold,
    "fill_diagonal_": _fill_diagonal_,
    "apply_": _apply_,
    "map_": _map_,
    "mode": mode,
    "frexp": frexp,
    "nextafter": nextafter,
    "nbytes": property(lambda self: self.numel() * self.element_size(), doc="The size of the elements in bytes."),
    "itemsize": property(lambda self: self.element_size(), doc="The size of one element in bytes."),
    "is_shared": lambda self: False,
    "share_memory_": lambda self: self,
    "is_pinned": lambda self, device=None: _C._is_pinned(self),
    "pin_memory": _pin_memory,
}


# A sparse layout's accessors on a dense tensor: PyTorch's Tensor has them all and raises naming
# the layout each needs (code probes `hasattr(t, "values")` or catches the RuntimeError).
_SPARSE_ACCESSORS = {
    "is_coalesced": "sparse coordinate tensor layout",
    "coalesce": "sparse coordinate tensor layout",
    "indices": "sparse coordinate tensor layout",
    "values": "sparse tensor layout",
    "crow_indices": "sparse row compressed tensor layout",
    "col_indices": "sparse row compressed tensor layout",
    "ccol_indices": "sparse column compressed tensor layout",
    "row_indices": "sparse column compressed tensor layout",
}


def _sparse_accessor(name: str, layout: str) -> Any:
    def accessor(self: Tensor) -> Any:
        raise RuntimeError(f"{name} expected {layout} but got Strided")

    accessor.__name__ = accessor.__qualname__ = name
    accessor.__doc__ = f"A sparse tensor's {name}(): a dense tensor raises, as PyTorch's (it needs the {layout})."
    return accessor


for _name, _layout in _SPARSE_ACCESSORS.items():
    _METHODS[_name] = _sparse_accessor(_name, _layout)
_METHODS["sparse_dim"] = lambda self: 0
_METHODS["dense_dim"] = lambda self: self.dim()
_METHODS["is_distributed"] = lambda self: False


def _to_sparse(self: Tensor, *args: Any, **kwargs: Any) -> Any:
    from ._sparse import to_sparse

    return to_sparse(self, *args, **kwargs)


def _to_sparse_coo(self: Tensor) -> Any:
    return _to_sparse(self)


def _to_sparse_csr(self: Tensor, dense_dim: Any = None) -> Any:
    return _to_sparse(self).to_sparse_csr(dense_dim)


_METHODS["to_sparse"], _METHODS["to_sparse_coo"], _METHODS["to_sparse_csr"] = _to_sparse, _to_sparse_coo, _to_sparse_csr
# Other backends' and layouts' flags, which scripts test before taking a device path (DCGAN's
# `input.is_cuda or input.is_xpu`): an ember tensor is dense, on the CPU, never any of them.
for _flag in ("is_xpu", "is_mps", "is_ipu", "is_maia", "is_mtia", "is_vulkan",
              "is_mkldnn", "is_quantized", "is_sparse", "is_sparse_csr", "is_nested"):  # fmt: skip
    _METHODS[_flag] = property(lambda self: False, doc=f"False: ember tensors are dense CPU tensors ({_flag}).")


def install() -> None:
    """Attaches the methods above to ember.Tensor."""
    docs = {
        "is_shared": "Whether the tensor is in shared memory: never in ember (DataLoader workers pickle batches).",
        "share_memory_": "Moves the storage to shared memory: a no-op in ember; returns self.",
        "is_pinned": "Whether the tensor is in page-locked host memory (Tensor.pin_memory()).",
        "sparse_dim": "The number of sparse dims: 0 for a dense tensor.",
        "dense_dim": "The number of dense dims: all of a dense tensor's.",
        "is_distributed": "Whether the tensor is distributed: never.",
        "to_sparse": "The tensor as a sparse COO tensor (its nonzero entries).",
        "to_sparse_coo": "The tensor as a sparse COO tensor (its nonzero entries).",
        "to_sparse_csr": "The 2-D tensor as a sparse CSR tensor (its nonzero entries).",
    }
    for name, fn in _METHODS.items():
        if name in docs:
            fn.__doc__ = docs[name]
            fn.__name__ = name
        setattr(Tensor, name, fn)
