"""PyTorch's legacy tensor names, kept because real scripts still use them: the ``ember.Tensor(...)``
constructor, the typed classes (``FloatTensor``, ``LongTensor``, ...), ``Tensor.type(...)`` with
their names, and ``typename``/``is_storage``."""

from __future__ import annotations

import collections.abc
import numbers
from typing import Any

import numpy as np

from . import _C, _creation, _names
from ._C import Tensor, dtype

__all__ = [
    "BFloat16Tensor",
    "BoolTensor",
    "ByteTensor",
    "CharTensor",
    "DoubleTensor",
    "FloatTensor",
    "HalfTensor",
    "IntTensor",
    "LongTensor",
    "ShortTensor",
    "is_storage",
    "typename",
]


def _is_size(args: tuple[Any, ...]) -> bool:
    """Tensor(2, 3) and Tensor(ember.Size([2, 3])) give a shape; Tensor([2, 3]) and Tensor((2, 3)) give data."""
    if len(args) == 1 and type(args[0]).__name__ == "Size":
        return True
    return bool(args) and all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in args)


def _legacy_new(
    dt: dtype, name: str, args: tuple[Any, ...], device: Any, size: Any, device_type: str = "cpu"
) -> Tensor:
    """What ``FloatTensor(...)`` and ``Tensor(...)`` build: empty of a shape, a copy of data, or nothing, on the
    CPU (``ember.cuda.FloatTensor``: on the current GPU), as PyTorch's legacy constructors."""
    if device is None:
        kind = device_type
    else:  # an index means a CUDA device, as in PyTorch
        kind = (
            "cuda" if isinstance(device, int) else (device if isinstance(device, _C.device) else _C.device(device)).type
        )
    if kind != device_type:
        raise RuntimeError(f"legacy constructor expects device type: {device_type} but device type: {kind} was passed")
    _creation._check_device(device)
    place = device if device is not None or device_type == "cpu" else "cuda"  # (None: the default device)

    def empty(shape: Any) -> Tensor:
        return _creation.empty(_creation._size(shape), dtype=dt, device=place)

    if size is not None:
        if args:
            raise TypeError(f"{name}(): size= cannot be given with positional arguments")
        return empty((size,) if isinstance(size, numbers.Integral) else tuple(size))
    if not args:
        return empty((0,))
    if _is_size(args):
        return empty(args)
    if len(args) > 1:
        raise TypeError(
            f"{name}(): expected a sequence of ints (a shape) or one data argument, got {len(args)} arguments"
        )
    data = args[0]
    if isinstance(data, Tensor):
        if data.dtype != dt:
            raise TypeError(f"{name}(): expected a tensor of dtype {dt}, got {data.dtype}")
        if data.device.type != device_type:
            raise TypeError(f"{name}(): expected a {device_type} tensor, got one on {data.device}")
        return data
    if data.ndim == 0 if isinstance(data, np.ndarray) else not isinstance(data, collections.abc.Sequence):
        raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")
    return _creation.tensor(data, dtype=dt, device=place)


# The original pybind11 constructor, Tensor(t): a fresh leaf sharing t's storage (nn.Parameter builds on it).
_pybind_init = Tensor.__init__


def _tensor_init(self: Tensor, *args: Any, device: Any = None, size: Any = None, **kwargs: Any) -> None:
    """``ember.Tensor(...)``, PyTorch's legacy constructor: ``Tensor(2, 3)`` is an uninitialised tensor of the
    default dtype and that shape, ``Tensor([1., 2.])`` a copy of the data in the default dtype, ``Tensor()``
    an empty one, ``Tensor(size=(2, 3))`` as ``Tensor(2, 3)``, and ``Tensor(t)`` a tensor sharing t's data.
    A subclass instance its ``__new__`` already built (``as_subclass``) is left as it is, whatever the
    arguments, as PyTorch's Tensor.__init__ does."""
    if _C._is_constructed(self):
        return
    if kwargs:
        raise TypeError(f"Tensor(): got an unexpected keyword argument {next(iter(kwargs))!r}")
    if len(args) == 1 and isinstance(args[0], Tensor) and size is None:
        _pybind_init(self, args[0])
        return
    _pybind_init(self, _legacy_new(_creation.get_default_dtype(), "Tensor", args, device, size))


class _LegacyTensorType(type):
    """The metaclass of FloatTensor & co: ``isinstance(t, FloatTensor)`` holds for float32 CPU tensors,
    ``isinstance(t, ember.cuda.FloatTensor)`` for float32 CUDA tensors, as in PyTorch."""

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype and obj.device.type == cls.device_type

    def __repr__(cls) -> str:
        return f"<class '{cls.__module__}.{cls.__name__}'>"


def _legacy_class(name: str, dt: dtype, device_type: str = "cpu") -> type:
    def __new__(cls: type, *args: Any, device: Any = None, size: Any = None) -> Tensor:
        return _legacy_new(dt, name, args, device, size, device_type)

    where = "" if device_type == "cpu" else " CUDA"
    doc = (
        f"``{name}(...)``: PyTorch's legacy constructor of{where} {dt} tensors (a shape, data, or nothing); "
        f"``isinstance(t, {name})`` tells whether t is a{where} {dt} tensor."
    )
    attrs = {"__new__": __new__, "__doc__": doc, "dtype": dt, "device_type": device_type, "is_sparse": False}
    attrs["is_cuda"] = device_type == "cuda"
    cls = _LegacyTensorType(name, (), attrs)
    cls.__module__ = "ember" if device_type == "cpu" else "ember.cuda"
    return cls


FloatTensor = _legacy_class("FloatTensor", dtype.float32)
DoubleTensor = _legacy_class("DoubleTensor", dtype.float64)
LongTensor = _legacy_class("LongTensor", dtype.int64)
IntTensor = _legacy_class("IntTensor", dtype.int32)
BoolTensor = _legacy_class("BoolTensor", dtype.bool)
ByteTensor = _legacy_class("ByteTensor", dtype.uint8)
CharTensor = _legacy_class("CharTensor", dtype.int8)
ShortTensor = _legacy_class("ShortTensor", dtype.int16)
HalfTensor = _legacy_class("HalfTensor", dtype.float16)
BFloat16Tensor = _legacy_class("BFloat16Tensor", dtype.bfloat16)

_CLASSES = (
    FloatTensor,
    DoubleTensor,
    LongTensor,
    IntTensor,
    BoolTensor,
    ByteTensor,
    CharTensor,
    ShortTensor,
    HalfTensor,
    BFloat16Tensor,
)
_BY_DTYPE = {c.dtype: c for c in _CLASSES}
_BY_NAME = {c.__name__: c for c in _CLASSES}
# ember.cuda.FloatTensor & co (ember/cuda/__init__.py exports them)
CUDA_CLASSES = {c.__name__: _legacy_class(c.__name__, c.dtype, "cuda") for c in _CLASSES}


def legacy_type_name(t: Tensor) -> str:
    """'ember.FloatTensor' for a float32 tensor, and so on ('ember.UInt32Tensor' for the unsigned dtypes
    that have no legacy class, as PyTorch names them); 'ember.cuda.FloatTensor' on a GPU."""
    cls = _BY_DTYPE.get(t.dtype)
    name = cls.__name__ if cls else f"UInt{8 * t.element_size()}Tensor"
    return _names.qualified(f"cuda.{name}" if t.device.type == "cuda" else name)  # Note [Printed module name]


def _target_of_type_arg(arg: Any) -> tuple[dtype, str | None]:
    """The dtype, and the device type ('cpu', 'cuda', or None for the tensor's own), that ``Tensor.type(arg)``
    converts to: a dtype, a legacy class, or a type name ('torch.DoubleTensor', 'torch.cuda.FloatTensor')."""
    if isinstance(arg, dtype):
        return arg, None
    if isinstance(arg, _LegacyTensorType):
        return arg.dtype, arg.device_type
    if isinstance(arg, str):
        module, _, name = arg.rpartition(".")
        if module in ("torch", "ember", "torch.cuda", "ember.cuda") and name in _BY_NAME:
            return _BY_NAME[name].dtype, "cuda" if module.endswith("cuda") else "cpu"
    raise ValueError(f"invalid type: '{arg}'")


def tensor_type(self: Tensor, dtype: Any = None, non_blocking: bool = False) -> str | Tensor:
    """With no argument, the legacy type name ('ember.FloatTensor'); else self converted to ``dtype``: a dtype,
    a legacy class (``ember.DoubleTensor``) or its name ('torch.DoubleTensor' or 'ember.DoubleTensor'; a
    'torch.cuda.' name moves it to the current GPU, a CPU name to the CPU). Returns self when the type
    already matches, as PyTorch."""
    if dtype is None:
        return legacy_type_name(self)
    target, device = _target_of_type_arg(dtype)
    if device is not None and device != self.device.type:
        return self.to(device, target, non_blocking=non_blocking)
    return self if target == self.dtype else self.to(target)


def typename(obj: Any) -> str:
    """The type name PyTorch's torch.typename gives: 'ember.FloatTensor' for tensors, the qualified class
    name otherwise."""
    if isinstance(obj, Tensor):
        return legacy_type_name(obj)
    module = getattr(obj, "__module__", "") or ""
    qualname = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if qualname is None:
        module = type(obj).__module__
        qualname = type(obj).__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


def is_storage(obj: Any) -> bool:
    """Whether obj is a tensor storage object: always False, as ember exposes no storage objects."""
    return False


def install() -> None:
    """Attaches the legacy constructor and ``type()`` to ember.Tensor."""
    Tensor.__init__ = _tensor_init
    Tensor.type = tensor_type
