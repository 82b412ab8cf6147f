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


class UntypedStorage:
    """A tensor's memory as bytes."""

    def __init__(self, size: int = 0, *, device: Any = None) -> None:
        from ._creation import zeros

        self._owner = zeros(int(size), dtype=_dt.uint8)  # a new storage of `size` bytes

    @classmethod
    def _of(cls, t: Any) -> UntypedStorage:
        storage = cls.__new__(cls)
        storage._owner = t
        return storage

    def _bytes(self) -> Any:
        """The whole storage as a uint8 tensor (a view)."""
        t = self._owner
        return t.as_strided((t._storage_nbytes() // t.element_size(),), (1,), 0).view(_dt.uint8)

    def data_ptr(self) -> int:
        t = self._owner
        return t.data_ptr() - t.storage_offset() * t.element_size()

    def nbytes(self) -> int:
        return self._owner._storage_nbytes()

    def size(self) -> int:
        return self.nbytes()

    __len__ = size

    def element_size(self) -> int:
        return 1

    @property
    def device(self) -> Any:
        return self._owner.device

    def tolist(self) -> list:
        return self._bytes().tolist()

    def __getitem__(self, index: Any) -> Any:
        return self._bytes()[index].tolist()

    def __setitem__(self, index: Any, value: Any) -> None:
        self._bytes()[index] = value

    def fill_(self, value: int) -> UntypedStorage:
        self._bytes().fill_(value)
        return self

    def is_shared(self) -> bool:
        return self._owner.is_shared()

    def __repr__(self) -> str:
        body = "\n".join(f" {v}" for v in self.tolist())
        return f"{body}\n[ember.storage.UntypedStorage(device={self.device}) of size {self.size()}]"


class TypedStorage:
    """A tensor's memory as elements of its dtype (deprecated in PyTorch, which warns on Tensor.storage())."""

    dtype: Any = None

    def __init__(self, *args: Any, dtype: Any = None, device: Any = None) -> None:
        from ._creation import tensor, zeros

        dtype = dtype or type(self).dtype or _dt.float32
        if len(args) == 1 and not isinstance(args[0], int):
            self._owner = tensor(list(args[0]), dtype=dtype)  # FloatStorage([1.0, 2.0])
        else:
            self._owner = zeros(int(args[0]) if args else 0, dtype=dtype)
        self.dtype = dtype

    @classmethod
    def _of(cls, t: Any) -> TypedStorage:
        storage = cls.__new__(cls)
        storage._owner, storage.dtype = t, t.dtype
        return storage

    def _elements(self) -> Any:
        t = self._owner
        return t.as_strided((self.size(),), (1,), 0)

    def size(self) -> int:
        return self._owner._storage_nbytes() // self._owner.element_size()

    __len__ = size

    def element_size(self) -> int:
        return self._owner.element_size()

    def nbytes(self) -> int:
        return self._owner._storage_nbytes()

    def data_ptr(self) -> int:
        return UntypedStorage._of(self._owner).data_ptr()

    @property
    def device(self) -> Any:
        return self._owner.device

    def untyped(self) -> UntypedStorage:
        return UntypedStorage._of(self._owner)

    _untyped_storage = property(untyped)

    def tolist(self) -> list:
        return self._elements().tolist()

    def __getitem__(self, index: Any) -> Any:
        return self._elements()[index].tolist()

    def __setitem__(self, index: Any, value: Any) -> None:
        self._elements()[index] = value

    def fill_(self, value: Any) -> TypedStorage:
        self._elements().fill_(value)
        return self

    def is_shared(self) -> bool:
        return self._owner.is_shared()

    def __repr__(self) -> str:
        body = "\n".join(f" {v}" for v in self.tolist())
        return f"{body}\n[ember.storage.TypedStorage(dtype={self.dtype}, device={self.device}) of size {self.size()}]"


def _legacy(name: str, dtype: Any) -> type:
    return type(name, (TypedStorage,), {"dtype": dtype, "__doc__": f"TypedStorage of {dtype} (a legacy name)."})


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
