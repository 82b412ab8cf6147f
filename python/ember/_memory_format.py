"""Memory formats, as torch.memory_format: ``contiguous_format``, ``channels_last``,
``channels_last_3d`` and ``preserve_format`` (Note [Memory formats] in csrc/ops/ops.h).

A format chooses the strides of a tensor being created or copied: ``contiguous``,
``clone``, ``is_contiguous`` (compiled, reading each object's ``_ember_memory_format``),
and ``empty``, the ``*_like`` functions and ``Tensor.to`` here. ember's ops return
row-major results whatever their inputs' strides (PyTorch's keep channels-last)."""

from __future__ import annotations

from typing import Any

from . import _C, _names
from ._C import Tensor

__all__ = ["channels_last", "channels_last_3d", "contiguous_format", "memory_format", "preserve_format"]


class memory_format:
    """A memory format (torch.memory_format): the order of a tensor's dims in memory."""

    __slots__ = ("_ember_memory_format", "_name")

    def __init__(self, name: str, code: int) -> None:
        self._name, self._ember_memory_format = name, code  # code: MemoryFormat in csrc/ops/ops.h

    def __repr__(self) -> str:
        return _names.qualified(self._name)

    def __reduce__(self) -> str:
        return self._name  # pickled by name: unpickling gives the same object


preserve_format = memory_format("preserve_format", 0)
contiguous_format = memory_format("contiguous_format", 1)
channels_last = memory_format("channels_last", 2)
channels_last_3d = memory_format("channels_last_3d", 3)


def check(value: Any, op: str) -> None:
    """PyTorch's TypeError for a memory_format that is not one."""
    if value is not None and not isinstance(value, memory_format):
        raise TypeError(f"{op}(): argument 'memory_format' must be ember.memory_format, not {type(value).__name__}")


def laid_out_like(result: Tensor, input: Tensor, fmt: Any, op: str) -> Tensor:
    """``result`` (row-major, of input's shape) with the strides ``fmt`` gives a copy of ``input``
    (preserve_format, the default: input's own when they are dense). No copy in the common case."""
    check(fmt, op)
    if fmt is None or fmt is preserve_format:
        if input.is_contiguous():
            return result
    elif fmt is contiguous_format:
        return result
    strides = tuple(_C._memory_format_strides(input, fmt))
    return with_strides(result, strides)


def with_strides(t: Tensor, strides: tuple[int, ...]) -> Tensor:
    """``t``'s values in a new tensor with ``strides`` (dense), keeping its requires_grad as a leaf."""
    if tuple(t.stride()) == strides:
        return t
    from ._tensor_extras import empty_strided
    from .grad_mode import no_grad

    out = empty_strided(t.shape, strides, dtype=t.dtype, device=t.device)
    with no_grad():
        out.copy_(t)
    return out.requires_grad_(t.requires_grad)


def empty_in_format(size: tuple[int, ...], dtype: Any, fmt: Any, device: Any = None) -> Tensor | None:
    """``empty(size, memory_format=fmt, device=device)``'s tensor when fmt asks for other strides than row-major;
    else None."""
    check(fmt, "empty")
    if fmt is None or fmt is contiguous_format:
        return None
    if fmt is preserve_format:
        raise RuntimeError("unsupported memory format Preserve")
    from ._tensor_extras import empty_strided

    # a stride-0 stand-in of that shape (one element of memory) carries the sizes the strides are made for
    stand_in = empty_strided(size, (0,) * len(size), dtype=dtype)
    return empty_strided(size, tuple(_C._memory_format_strides(stand_in, fmt)), dtype=dtype, device=device)


def dim_order(self: Tensor, *, ambiguity_check: bool | list = False) -> tuple[int, ...]:
    """The dims from outermost to innermost in memory (larger strides first; ties in dim order).

    ambiguity_check (True, or a list of memory formats) raises, as PyTorch, when several orders fit the
    tensor: a dim of size one, or two neighbouring dims with equal strides."""
    if not isinstance(ambiguity_check, (bool, list)):
        raise TypeError(
            f"dim_order(): ambiguity_check must be a bool or a list of memory formats, not {ambiguity_check}"
        )
    strides = self.stride()
    if ambiguity_check is not False and (1 in self.shape or any(a == b for a, b in zip(strides, strides[1:]))):
        formats = ambiguity_check if isinstance(ambiguity_check, list) else []
        if sum(self.is_contiguous(memory_format=f) for f in formats) != 1:
            raise RuntimeError(
                "The tensor does not have unique dim order, or cannot map to exact one of the given memory formats."
            )
        raise RuntimeError("The tensor does not have unique dim order.")
    return tuple(sorted(range(self.dim()), key=lambda d: (-strides[d], d)))
