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


def _checked(device: Any) -> None:
    """Raises PyTorch's error where CUDA cannot be used (no build, driver or GPU, or a bad index)."""
    _C._cuda_device_name(_index(device))


def _valid_index(device: Any) -> int:
    """PyTorch's checked device index: None or 'cuda' the current device; AssertionError("Invalid device id")
    for an index outside [0, device_count())."""
    _checked(None)  # PyTorch's lazy init: its RuntimeError where CUDA cannot be used
    index = _index(device)
    if device is None or (index == -1 and not isinstance(device, int)):
        index = _C._cuda_current_device()
    if index < 0 or index >= _C._cuda_device_count():
        raise AssertionError("Invalid device id")
    return index
