"""DataLoader(pin_memory=True) where a GPU is available: each batch's tensors are put in page-locked memory
(Note [Pinned memory]), so that ``batch.to("cuda", non_blocking=True)`` queues the copy without waiting, as
torch.utils.data's pin-memory step does (ember pins on the iterating thread)."""

from __future__ import annotations

import collections.abc
from typing import Any

from ... import _C


def pin_memory(data: Any) -> Any:
    """``data`` with every tensor inside (dicts, named and plain tuples, lists, objects with a ``pin_memory``
    method) pinned; anything else as it is."""
    if isinstance(data, _C.Tensor):
        return data.pin_memory()
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        pinned = {k: pin_memory(v) for k, v in data.items()}
        try:
            return type(data)(pinned)  # type: ignore[call-arg]
        except TypeError:  # a mapping type that cannot be built from a dict
            return pinned
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # a namedtuple
        return type(data)(*(pin_memory(v) for v in data))
    if isinstance(data, tuple):
        return tuple(pin_memory(v) for v in data)
    if isinstance(data, collections.abc.Sequence):
        pinned_list = [pin_memory(v) for v in data]
        try:
            return type(data)(pinned_list)  # type: ignore[call-arg]
        except TypeError:
            return pinned_list
    if hasattr(data, "pin_memory"):
        return data.pin_memory()
    return data
