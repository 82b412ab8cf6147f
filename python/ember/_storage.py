"""Storages, as torch's: ``Tensor.untyped_storage()`` (the bytes a tensor views) and the deprecated
``Tensor.storage()`` (the same memory read as elements of the tensor's dtype). Each is a window onto the
tensor's memory, not a copy: writes through it reach every tensor sharing the storage. Libraries read
``data_ptr()`` and ``nbytes()`` from them to tell which tensors share memory."""

from __future__ import annotations

import warnings
from typing import Any

from . import _C

__all__ = ["TypedStorage", "UntypedStorage"]

_dt = _C.dtype


class _StorageWindow:
    """What both storages share: a tensor (`_owner`) whose storage they show, through `_view()`, a 1-D
    tensor over the whole storage in the storage's unit."""

    _owner: Any

    @classmethod
    def _of(cls, t: Any) -> Any:
        storage = cls.__new__(cls)
        storage._owner = t
        return storage

    def _view(self) -> Any:
        raise NotImplementedError

    def size(self) -> int:
        return self.nbytes() // self.element_size()

    def __len__(self) -> int:
        return self.size()

    def nbytes(self) -> int:
        return self._owner._storage_nbytes()

    def data_ptr(self) -> int:
        t = self._owner
        return t.data_ptr() - t.storage_offset() * t.element_size()

    @property
    def device(self) -> Any:
        return self._owner.device

    def tolist(self) -> list:
        return self._view().tolist()

    def __getitem__(self, index: Any) -> Any:
        return self._view()[index].tolist()

    def __setitem__(self, index: Any, value: Any) -> None:
        self._view()[index] = value

    def fill_(self, value: Any) -> Any:
        self._view().fill_(value)
        return self

    def is_shared(self) -> bool:
        return self._owner.is_shared()

    def _describe(self) -> str:
        raise NotImplementedError

    def __repr__(self) -> str:
        body = "\n".join(f" {v}" for v in self.tolist())
        return f"{body}\n[ember.storage.{type(self).__name__}({self._describe()}) of size {self.size()}]"


def _new_owner(count: int, dtype: Any, device: Any) -> Any:
    """A fresh tensor of count elements: the owner of a storage made by a constructor."""
    from ._creation import _check_device, zeros

    _check_device(device)
    return zeros(int(count), dtype=dtype)


class UntypedStorage(_StorageWindow):
    """A tensor's memory as bytes, or a slice of those bytes (``storage[start:stop]``, sharing them)."""

    _span: tuple[int, int] | None = None  # a slice's (first byte, byte count) in its owner's storage

    def __init__(self, size: int = 0, *, device: Any = None) -> None:
        self._owner = _new_owner(size, _dt.uint8, device)

    @classmethod
    def from_file(cls, filename: str, shared: bool = False, nbytes: int = 0) -> UntypedStorage:
        """``nbytes`` bytes of a file, memory-mapped (``shared``: writes reach the file; else copy-on-write), as
        safetensors loads a checkpoint."""
        from ._torch_misc import from_file

        return cls._of(from_file(filename, shared, nbytes, dtype=_dt.uint8))

    def _view(self) -> Any:
        t = self._owner
        whole = t.as_strided((t._storage_nbytes() // t.element_size(),), (1,), 0).view(_dt.uint8)
        return whole if self._span is None else whole[self._span[0] : self._span[0] + self._span[1]]

    def nbytes(self) -> int:
        return super().nbytes() if self._span is None else self._span[1]

    def data_ptr(self) -> int:
        return super().data_ptr() + (0 if self._span is None else self._span[0])

    def __getitem__(self, index: Any) -> Any:
        if not isinstance(index, slice):
            return super().__getitem__(index)
        start, stop, step = index.indices(self.nbytes())
        if step != 1:
            raise RuntimeError(f"Trying to slice with a step of {step}, but only a step of 1 is supported")
        piece = UntypedStorage._of(self._owner)
        piece._span = ((self._span or (0, 0))[0] + start, max(stop - start, 0))
        return piece

    def untyped(self) -> UntypedStorage:
        """The storage itself (as a TypedStorage's ``untyped()``)."""
        return self

    def element_size(self) -> int:
        return 1

    def _describe(self) -> str:
        return f"device={self.device}"


class TypedStorage(_StorageWindow):
    """A tensor's memory as elements of its dtype (deprecated in PyTorch, which warns on Tensor.storage())."""

    def __init__(self, *args: Any, dtype: Any = None, device: Any = None) -> None:
        from ._creation import _check_device, tensor

        dtype = dtype or getattr(type(self), "_legacy_dtype", None) or _dt.float32
        if len(args) == 1 and not isinstance(args[0], int):  # FloatStorage([1.0, 2.0])
            _check_device(device)
            self._owner = tensor(list(args[0]), dtype=dtype)
        else:
            self._owner = _new_owner(args[0] if args else 0, dtype, device)

    @property
    def dtype(self) -> Any:
        return self._owner.dtype

    def _view(self) -> Any:
        return self._owner.as_strided((self.size(),), (1,), 0)

    def element_size(self) -> int:
        return self._owner.element_size()

    def untyped(self) -> UntypedStorage:
        return UntypedStorage._of(self._owner)

    _untyped_storage = property(untyped)

    def _describe(self) -> str:
        return f"dtype={self.dtype}, device={self.device}"


def _legacy(name: str, dtype: Any) -> type:
    return type(name, (TypedStorage,), {"_legacy_dtype": dtype, "__doc__": f"TypedStorage of {dtype} (a legacy name)."})


FloatStorage = _legacy("FloatStorage", _dt.float32)
DoubleStorage = _legacy("DoubleStorage", _dt.float64)
HalfStorage = _legacy("HalfStorage", _dt.float16)
BFloat16Storage = _legacy("BFloat16Storage", _dt.bfloat16)
LongStorage = _legacy("LongStorage", _dt.int64)
IntStorage = _legacy("IntStorage", _dt.int32)
ShortStorage = _legacy("ShortStorage", _dt.int16)
CharStorage = _legacy("CharStorage", _dt.int8)
ByteStorage = _legacy("ByteStorage", _dt.uint8)
BoolStorage = _legacy("BoolStorage", _dt.bool)


def untyped_storage(self: Any) -> Any:
    """The memory this tensor views, as bytes (shared, not copied)."""
    return UntypedStorage._of(self)


def storage(self: Any) -> Any:
    """The memory this tensor views, as elements of its dtype (deprecated in PyTorch: it warns)."""
    warnings.warn(
        "TypedStorage is deprecated. It will be removed in the future and UntypedStorage will be the only storage "
        "class. This should only matter to you if you are using storages directly.  To access UntypedStorage "
        "directly, use tensor.untyped_storage() instead of tensor.storage()",
        UserWarning,
        stacklevel=2,
    )
    return TypedStorage._of(self)


def install() -> None:
    _C.Tensor.untyped_storage = untyped_storage
    _C.Tensor.storage = storage
    _C.Tensor.storage_type = storage_type


def storage_type(self: Any) -> type:
    """The class of this tensor's storage()."""
    return TypedStorage
