"""Tensor methods that are not on the per-op hot path, written in Python and
attached to the compiled ember._C.Tensor class."""

from __future__ import annotations

import copy as _copy
from collections.abc import Iterator, Sequence
from typing import Any

import numpy

from . import _C, _memory_format, _names
from ._C import Generator, Tensor, device, dtype
from ._tensor_str import tensor_repr


class Size(tuple):
    """The shape of a tensor: a tuple of ints that prints as ember.Size([2, 3])."""

    def __repr__(self) -> str:
        return _names.qualified(f"Size({list(self)})")

    def numel(self) -> int:
        """The number of elements of a tensor of this shape."""
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, item: Any) -> Any:
        r = super().__getitem__(item)
        return Size(r) if isinstance(item, slice) else r

    # Joined or repeated shapes stay Sizes, as torch.Size's (batch_shape + event_shape).
    def __add__(self, other: Any) -> Any:
        return Size(tuple(self) + tuple(other)) if isinstance(other, tuple) else NotImplemented

    def __radd__(self, other: Any) -> Any:
        return Size(tuple(other) + tuple(self)) if isinstance(other, tuple) else NotImplemented

    def __mul__(self, count: Any) -> Any:
        return Size(tuple(self) * count)

    __rmul__ = __mul__


def _backward(
    self: Tensor,
    gradient: Tensor | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Sequence[Tensor] | Tensor | None = None,
) -> None:
    """Computes the gradient of this tensor w.r.t. graph leaves (accumulated into .grad)."""
    from . import autograd

    autograd.backward(self, gradient, retain_graph, create_graph, inputs=inputs)


def _tolist(self: Tensor) -> Any:
    """The tensor's values as a (nested) list of Python numbers."""
    t = self.detach().cpu()
    if t.dtype == _C.dtype.bfloat16:  # numpy has no bfloat16; its values are exact in float32
        t = t.float()
    return t.numpy().tolist()


def _array(self: Tensor, dtype: Any = None, copy: bool | None = None) -> numpy.ndarray:
    """np.asarray(tensor): the values as a numpy array (sharing memory when no conversion is needed); a tensor
    that requires grad raises, as numpy() and PyTorch's do (detach() it first)."""
    arr = self.numpy()
    return arr if dtype is None else arr.astype(dtype, copy=False)


def _format(self: Tensor, spec: str) -> str:
    """format(tensor, spec): a 0-d tensor formats as its value (f"{t:.2f}"); other tensors take no format
    spec, as in PyTorch."""
    if self.dim() == 0:
        return self.item().__format__(spec)
    if spec:
        raise TypeError("unsupported format string passed to Tensor.__format__")
    return str(self)


def _iter(self: Tensor) -> Iterator[Tensor]:
    """Iterates over the first dim."""
    if self.dim() == 0:
        raise TypeError("iteration over a 0-d tensor")
    return iter(self.unbind(0))


def _contains(self: Tensor, element: Any) -> bool:
    """element in tensor: whether any element equals it (a tensor or a number; anything else raises, as PyTorch)."""
    if not isinstance(element, (Tensor, int, float, complex, numpy.number, numpy.bool_)):
        raise RuntimeError(f"Tensor.__contains__ only supports Tensor or scalar, but you passed in a {type(element)}.")
    return bool((self == element).any())


# Python's number types where a dtype is taken (common.h's dtype caster reads them so too)
_PYTHON_DTYPES = {int: _C.dtype.int64, float: _C.dtype.float64, bool: _C.dtype.bool, complex: _C.dtype.complex128}


def _to(
    self: Tensor,
    *args: Any,
    dtype: dtype | None = None,
    device: str | device | None = None,
    non_blocking: bool = False,
    copy: bool = False,
    memory_format: Any = None,
) -> Tensor:
    """to(dtype), to(device), to(device, dtype), to(other), with keyword forms; copy=True always copies;
    memory_format=ember.channels_last (or contiguous_format, ...) lays the result out so.

    non_blocking=True: a copy from pinned memory (``pin_memory()``) to a GPU is queued without waiting for it,
    as PyTorch's (Note [Pinned memory]); other copies wait as before."""
    if memory_format is not None and memory_format is not _memory_format.preserve_format:
        _memory_format.check(memory_format, "to")
        converted = _to(self, *args, dtype=dtype, device=device, copy=copy, non_blocking=non_blocking)
        laid_out = converted.contiguous(memory_format=memory_format)
        return laid_out.clone(memory_format=memory_format) if copy and laid_out is self else laid_out
    for a in args:
        if isinstance(a, _C.dtype) or (isinstance(a, type) and a in _PYTHON_DTYPES):
            dtype = a
        elif isinstance(a, Tensor):
            dtype, device = a.dtype, a.device
        elif isinstance(a, (str, _C.device)):
            device = a
        elif a is not None:
            raise TypeError(f"to() received an invalid combination of arguments: {type(a).__name__}")
    if isinstance(dtype, type):  # x.to(float), as PyTorch's argument parser reads it
        dtype = _PYTHON_DTYPES.get(dtype, dtype)
    if device is not None and str(device) == "meta":
        from . import _meta

        return _meta.copied(self, dtype or self.dtype)
    if isinstance(dtype, _C.dtype) and dtype.is_complex:  # Note [Complex tensors]
        from . import _complex

        moved = self if device is None else _to(self, device=device, non_blocking=non_blocking)
        return _complex.to_complex(moved, dtype)
    if device is not None:
        device = _C.device(f"cuda:{device}" if isinstance(device, int) else device)
        if not _same_device(device, self.device):
            return self._to_device(device, dtype or self.dtype, non_blocking)
    if dtype is None or dtype == self.dtype:
        return self.clone() if copy else self
    return self._to_dtype(dtype)


def _same_device(wanted: device, have: device) -> bool:
    """Whether a tensor on ``have`` is already on ``wanted`` ('cuda' means the current CUDA device)."""
    if wanted.type != have.type:
        return False
    if wanted.index is None or wanted.type == "cpu":
        return wanted.type == "cpu" or have.index == _C._cuda_current_device()
    return wanted.index == have.index


def _cpu(self: Tensor, memory_format: Any = None) -> Tensor:
    """The tensor on the CPU: itself when it is there, else a copy (which waits for the GPU)."""
    return self if self.device.type == "cpu" else self._to_device(_C.device("cpu"), self.dtype)


def _cuda(self: Tensor, device: int | str | device | None = None, non_blocking: bool = False) -> Tensor:
    """The tensor on a CUDA device (the current one by default): itself when it is there, else a copy.
    Raises RuntimeError where CUDA cannot be used."""
    target = (
        device
        if isinstance(device, _C.device)
        else _C.device("cuda" if device is None else device if isinstance(device, str) else f"cuda:{device}")
    )
    if target.type != "cuda":
        raise RuntimeError("Invalid device, must be cuda device")
    return _to(self, target, non_blocking=non_blocking)


def _deepcopy(self: Tensor, memo: dict) -> Tensor:
    """copy.deepcopy(tensor): a detached copy of a leaf, with its requires_grad and a copy of its grad."""
    if not self.is_leaf:
        raise RuntimeError(
            "Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol "
            "at the moment.  If you were attempting to deepcopy a module, this may be because of a "
            "torch.nn.utils.weight_norm usage, see https://github.com/pytorch/pytorch/pull/103001"
        )
    if id(self) in memo:
        return memo[id(self)]
    from .overrides import DisableTorchFunctionSubclass

    with DisableTorchFunctionSubclass():
        out = self.detach().clone()
    subclass = type(self) is not Tensor
    if subclass:  # a subclass's copy is one, with a copy of its attributes (PyTorch's)
        out = Tensor._make_subclass(type(self), out)
    memo[id(self)] = out  # (before the attributes: they may refer back to self)
    if subclass:
        out.__dict__.update(_copy.deepcopy(self.__dict__, memo))
    out.requires_grad_(self.requires_grad)
    if self.grad is not None:
        out.grad = _copy.deepcopy(self.grad, memo)
    return out


def _rebuild_tensor(values: numpy.ndarray, dtype_name: str, requires_grad: bool, device: str | None = None) -> Tensor:
    """Unpickles a tensor (see _reduce_ex): a leaf holding the values, on ``device`` when given (a CUDA tensor's).

    The array is fresh (unpickled, or copied by _reduce_ex for copy.copy), so
    the tensor takes its memory instead of copying it once more: batches sent
    from DataLoader workers are not copied again here."""
    from . import _creation

    ember_dtype = getattr(dtype, dtype_name)
    fresh = isinstance(values, numpy.ndarray) and values.size and values.dtype == numpy.dtype(dtype_name)
    if fresh and values.flags.c_contiguous and values.flags.writeable and values.flags.aligned:
        t = _C.from_numpy(values)
    else:
        t = _creation.tensor(values, dtype=ember_dtype, device="cpu")
    if device is not None:
        t = t.to(device)
    return t.requires_grad_(requires_grad) if requires_grad else t


def _reduce_ex(self: Tensor, protocol: int) -> tuple:
    """pickle (any protocol), copy and multiprocessing: the values, dtype, requires_grad and the attributes set on
    the tensor, and the device of a CUDA tensor (it comes back there, as in PyTorch). As in PyTorch, the graph is
    not pickled: a tensor that requires grad comes back as a leaf."""
    from .overrides import DisableTorchFunctionSubclass

    with DisableTorchFunctionSubclass():
        values = self.detach().contiguous().cpu().numpy().copy()
    args = (values, self.dtype.name, self.requires_grad) + ((str(self.device),) if self.is_cuda else ())
    if type(self) is not Tensor:  # a Tensor subclass comes back as one, as PyTorch's (_rebuild_from_type_v2)
        return (_rebuild_subclass, (type(self), args), dict(self.__dict__) or None)
    return (_rebuild_tensor, args, dict(self.__dict__) or None)


def _rebuild_subclass(cls: type, args: tuple) -> Tensor:
    """Unpickles an instance of the Tensor subclass ``cls`` (see _reduce_ex): a leaf, as a plain tensor's."""
    return Tensor._make_subclass(cls, _rebuild_tensor(*args), args[2])


def _new(factory: str) -> Any:
    def method(
        self: Tensor,
        *size_args: int | Sequence[int],
        dtype: dtype | None = None,
        device: str | device | None = None,
        requires_grad: bool = False,
        layout: Any = None,
        pin_memory: bool = False,
        size: Sequence[int] | None = None,
    ) -> Tensor:
        from . import _creation

        _creation._check_layout_and_pinning(layout, False, f"new_{factory}")
        if size is not None:  # PyTorch's keyword form: x.new_zeros(size=(2, 3))
            size = (tuple(size),)
        return getattr(_creation, factory)(
            *(size if size is not None else size_args),
            dtype=dtype or self.dtype,
            device=device if device is not None else _creation._device_of(self),
            requires_grad=requires_grad,
            pin_memory=pin_memory,
        )

    method.__name__ = f"new_{factory}"
    method.__doc__ = f"ember.{factory}(*size) with this tensor's dtype and device unless they are given."
    return method


def _new_full(
    self: Tensor,
    size: Sequence[int],
    fill_value: float,
    dtype: dtype | None = None,
    device: str | device | None = None,
    requires_grad: bool = False,
    layout: Any = None,
    pin_memory: bool = False,
) -> Tensor:
    """ember.full(size, fill_value) with this tensor's dtype and device unless they are given."""
    from . import _creation

    return _creation.full(
        size,
        fill_value,
        dtype=dtype or self.dtype,
        device=device if device is not None else _creation._device_of(self),
        requires_grad=requires_grad,
        layout=layout,
        pin_memory=pin_memory,
    )


def _new_tensor(
    self: Tensor,
    data: Any,
    dtype: dtype | None = None,
    device: str | device | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """ember.tensor(data) with this tensor's dtype and device unless they are given."""
    from . import _creation

    device = device if device is not None else _creation._device_of(self)
    return _creation.tensor(data, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)


def _uniform_(
    self: Tensor, a: float = 0.0, b: float = 1.0, *, generator: Generator | None = None, **bounds: float
) -> Tensor:
    """Fills self with samples uniform on [a, b), outside autograd; returns self. PyTorch's keyword
    names, ``from`` and ``to`` (``from`` is a Python keyword: ``x.uniform_(**{"from": 0, "to": 1})``), work too."""
    from . import _creation, grad_mode

    unknown = set(bounds) - {"from", "to"}
    if unknown:
        raise TypeError(f"uniform_() got an unexpected keyword argument '{unknown.pop()}'")
    a, b = bounds.get("from", a), bounds.get("to", b)
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a} > to={b}")
    with grad_mode.no_grad():
        # drawn on self's device (a GPU's Philox stream, Note [CUDA random numbers]), not on the host and copied
        draws = _creation.rand(*self.shape, dtype=self.dtype, device=_random_device(self), generator=generator)
        return self.copy_(draws * (b - a) + a)


def _random_device(t: Tensor) -> Any:
    """Where uniform_/normal_ draw for ``t``: its own device, the CPU for a meta tensor."""
    return "cpu" if t.device.type == "meta" else t.device


def _normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Generator | None = None) -> Tensor:
    """Fills self with normal samples of the given mean and std, outside autograd; returns self."""
    from . import _creation, grad_mode

    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")

    with grad_mode.no_grad():
        draws = _creation.randn(*self.shape, dtype=self.dtype, device=_random_device(self), generator=generator)
        return self.copy_(draws * std + mean)


def _volatile(self: Tensor) -> bool:
    """Removed in PyTorch 0.4 (no_grad replaced it): always False, with PyTorch's warning."""
    import warnings

    warnings.warn("volatile was removed (Variable.volatile is always False)", UserWarning, stacklevel=2)
    return False


def _is_view(self: Tensor) -> bool:
    """Whether the tensor is a view of another (its _base); PyTorch's private method, which tools such as
    torchviz call."""
    return self._base is not None


_METHODS = {
    "_is_view": _is_view,
    "dim_order": _memory_format.dim_order,
    "volatile": property(_volatile),
    "backward": _backward,
    "tolist": _tolist,
    "__array__": _array,
    "__repr__": tensor_repr,
    "__str__": tensor_repr,
    "__format__": _format,
    "__iter__": _iter,
    "__contains__": _contains,
    "__deepcopy__": _deepcopy,
    "__reduce_ex__": _reduce_ex,
    "to": _to,
    "cpu": _cpu,
    "cuda": _cuda,
    "new_zeros": _new("zeros"),
    "new_ones": _new("ones"),
    "new_empty": _new("empty"),
    "new_full": _new_full,
    "new_tensor": _new_tensor,
    "uniform_": _uniform_,
    "normal_": _normal_,
    "__array_priority__": 1000,  # numpy defers to Tensor operators (np_array * tensor -> Tensor)
}


def _undeletable(name: str) -> Any:
    def deleter(self: Tensor) -> None:
        raise RuntimeError(f"can't delete {name}")

    return deleter


def install() -> None:
    """Attaches the methods above to ember.Tensor."""
    for name, fn in _METHODS.items():
        setattr(Tensor, name, fn)
    # `del x.grad` clears it, as in PyTorch (pybind11's properties have no deleter).
    grad = Tensor.__dict__["grad"]
    Tensor.grad = property(grad.fget, grad.fset, lambda self: grad.fset(self, None), grad.__doc__)
    # Other attributes refuse deletion with PyTorch's RuntimeError, not AttributeError.
    for name in ("data", "requires_grad", "_version", "grad_fn", "is_leaf", "shape"):
        prop = Tensor.__dict__[name]
        setattr(Tensor, name, property(prop.fget, prop.fset, _undeletable(name), prop.__doc__))
    Tensor.__module__ = "ember"
