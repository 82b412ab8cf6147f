"""ember.cpu: the CPU as a device module, as torch.cpu (one device, always available; streams and
synchronization are no-ops, as PyTorch's), and torch.cpu.amp's deprecated names."""

from __future__ import annotations

from typing import Any

from . import amp

__all__ = ["amp", "current_device", "device_count", "is_available", "synchronize"]


def is_available() -> bool:
    return True


def device_count() -> int:
    return 1


def current_device() -> str:
    return "cpu"


def synchronize(device: Any = None) -> None:
    """CPU work is finished when its op returns: nothing to wait for."""


def is_initialized() -> bool:
    return True


def set_device(device: Any) -> None:
    """The CPU is the only CPU device: nothing to select."""
