"""ember.accelerator: PyTorch's device-agnostic accelerator queries. This build of ember has no
accelerator, so every query says so (is_available() False, device_count() 0), and scripts that ask
``torch.accelerator.is_available()`` before choosing a device fall back to the CPU."""

from __future__ import annotations

from typing import Any

__all__ = ["current_accelerator", "current_device_index", "device_count", "is_available", "synchronize"]


def is_available() -> bool:
    """Whether an accelerator can be used: never in this build."""
    return False


def device_count() -> int:
    """The number of accelerator devices: 0."""
    return 0


def current_accelerator(check_available: bool = False) -> Any:
    """The accelerator's device type, or None: None (this build has none)."""
    return None


def current_device_index() -> int:
    """The current accelerator device's index: -1, as PyTorch reports without one."""
    return -1


def synchronize(device: Any = None) -> None:
    """Waits for an accelerator's work to finish: there is none."""
    raise RuntimeError("Cannot access accelerator device when none is available.")
