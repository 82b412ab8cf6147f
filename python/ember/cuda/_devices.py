"""Device arguments of ember.cuda's functions, shared by its modules: an index from None, an int, 'cuda:N' or an
ember.device."""

from __future__ import annotations

from typing import Any

from .. import _C


def _index(device: Any) -> int:
    """-1 (the current device) for None; the index of an int, 'cuda:N' or ember.device."""
    if device is None:
        return -1
    if isinstance(device, int):
        return device
    d = device if isinstance(device, _C.device) else _C.device(device)
    if d.type != "cuda":
        raise ValueError(f"Expected a cuda device, but got: {d}")
    return -1 if d.index is None else d.index


def _device_index(device: Any) -> int:
    """The device's index, the current device's for None or 'cuda'."""
    index = _index(device)
    return _C._cuda_current_device() if index < 0 else index
