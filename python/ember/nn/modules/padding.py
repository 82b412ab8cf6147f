"""Padding layers: constant (and zero), reflection, replication and circular padding of the last 1, 2 or 3
dims, thin modules over nn.functional.pad. padding is an int (every side) or a tuple
(left, right[, top, bottom[, front, back]])."""

from __future__ import annotations

from collections.abc import Sequence

from ..._C import Tensor
from .. import functional as F
from .module import Module

__all__ = [
    "CircularPad1d",
    "CircularPad2d",
    "CircularPad3d",
    "ConstantPad1d",
    "ConstantPad2d",
    "ConstantPad3d",
    "ReflectionPad1d",
    "ReflectionPad2d",
    "ReflectionPad3d",
    "ReplicationPad1d",
    "ReplicationPad2d",
    "ReplicationPad3d",
    "ZeroPad1d",
    "ZeroPad2d",
    "ZeroPad3d",
]


def _sides(padding: int | Sequence[int], n: int) -> tuple[int, ...]:
    return tuple(padding) if isinstance(padding, Sequence) else (padding,) * n


class _PadNd(Module):
    """Pads the last `_dims` dims of the input with F.pad in mode `_mode`."""

    _mode = "constant"
    _dims = 1

    def __init__(self, padding: int | Sequence[int]) -> None:
        super().__init__()
        self.padding = _sides(padding, 2 * self._dims)

    def forward(self, input: Tensor) -> Tensor:
        """Returns pad(input, padding, mode)."""
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        """The padding tuple."""
        return f"{self.padding}"


class _CircularPadNd(_PadNd):
    _mode = "circular"

    def forward(self, input: Tensor) -> Tensor:
        """Returns pad(input, padding, 'circular'), for a batched or unbatched input only."""
        if input.dim() not in (self._dims + 1, self._dims + 2):
            raise ValueError(f"expected {self._dims + 1}D or {self._dims + 2}D input (got {input.dim()}D input)")
        return F.pad(input, self.padding, "circular")


class CircularPad1d(_CircularPadNd):
    """Pads the last dim of an input (C, W) or (N, C, W) by wrapping around (the end continues with the start)."""


class CircularPad2d(_CircularPadNd):
    """Pads the last 2 dims of an input (C, H, W) or (N, C, H, W) by wrapping around."""

    _dims = 2


class CircularPad3d(_CircularPadNd):
    """Pads the last 3 dims of an input (C, D, H, W) or (N, C, D, H, W) by wrapping around."""

    _dims = 3


class _ConstantPadNd(_PadNd):
    def __init__(self, padding: int | Sequence[int], value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        """Returns pad(input, padding, value=value)."""
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        """padding and value."""
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pads the last dim of the input with a constant value."""


class ConstantPad2d(_ConstantPadNd):
    """Pads the last 2 dims of the input with a constant value."""

    _dims = 2


class ConstantPad3d(_ConstantPadNd):
    """Pads the last 3 dims of the input with a constant value."""

    _dims = 3


class _ReflectionPadNd(_PadNd):
    _mode = "reflect"


class ReflectionPad1d(_ReflectionPadNd):
    """Pads the last dim of an input (C, W) or (N, C, W) with its reflection at the edges (the edge itself is not
    repeated); each pad must be smaller than the dim."""


class ReflectionPad2d(_ReflectionPadNd):
    """Pads the last 2 dims of an input (C, H, W) or (N, C, H, W) with their reflection at the edges."""

    _dims = 2


class ReflectionPad3d(_ReflectionPadNd):
    """Pads the last 3 dims of an input (C, D, H, W) or (N, C, D, H, W) with their reflection at the edges."""

    _dims = 3


class _ReplicationPadNd(_PadNd):
    _mode = "replicate"


class ReplicationPad1d(_ReplicationPadNd):
    """Pads the last dim of an input (C, W) or (N, C, W) by repeating its edge values."""


class ReplicationPad2d(_ReplicationPadNd):
    """Pads the last 2 dims of an input (C, H, W) or (N, C, H, W) by repeating their edge values."""

    _dims = 2


class ReplicationPad3d(_ReplicationPadNd):
    """Pads the last 3 dims of an input (C, D, H, W) or (N, C, D, H, W) by repeating their edge values."""

    _dims = 3


class _ZeroPad:
    """ConstantPadNd with value 0, shown without it."""

    def __init__(self, padding: int | Sequence[int]) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        """The padding tuple."""
        return f"{self.padding}"


class ZeroPad1d(_ZeroPad, ConstantPad1d):
    """Pads the last dim of the input with zeros."""


class ZeroPad2d(_ZeroPad, ConstantPad2d):
    """Pads the last 2 dims of the input with zeros."""


class ZeroPad3d(_ZeroPad, ConstantPad3d):
    """Pads the last 3 dims of the input with zeros."""
