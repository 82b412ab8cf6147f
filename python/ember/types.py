"""ember.types: PyTorch's type aliases for annotations (``torch.types``): what a size, a number, a device
or a dtype may be given as."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import IO, Any, Union

from ._C import Tensor, device, dtype
from ._symbolic import SymBool, SymFloat, SymInt
from ._tensor import Size

__all__ = ["Device", "FileLike", "Number", "Storage", "Tensor"]

_bool, _int, _float, _complex, _str, _bytes = bool, int, float, complex, str, bytes
_dtype, _device, _size = dtype, device, Union[Size, list[int], tuple[int, ...]]
_layout = _qscheme = _dispatchkey = Any  # ember has one layout, no quantization, no dispatch keys
_symsize = Union[Size, Sequence[Union[int, SymInt]]]
IntLikeType = Union[int, SymInt]
FloatLikeType = Union[float, SymFloat]
BoolLikeType = Union[bool, SymBool]
py_sym_types = (SymInt, SymFloat, SymBool)
PySymType = Union[SymInt, SymFloat, SymBool]
Number = _Number = Union[int, float, bool]
Device = Union[device, str, int, None]
Storage = Any  # ember's storages are its tensors' memory (Tensor.untyped_storage())
FileLike = Union[str, os.PathLike, IO[bytes]]
_TensorOrTensors = Union[Tensor, Sequence[Tensor]]
_TensorOrOptionalTensors = Union[Tensor, Sequence[Union[Tensor, None]]]
