"""``torch.utils.data._utils.pin_memory``: the module path libraries import the DataLoader's pinning helper
from (speechbrain's batches pin themselves with it)."""

from __future__ import annotations

from typing import Any

from .. import _pin

__all__ = ["pin_memory"]


def pin_memory(data: Any, device: Any = None) -> Any:
    """``data`` with every tensor inside pinned (Note [Pinned memory]); ``device`` is PyTorch's argument
    naming the accelerator, which ember's pinning does not need."""
    return _pin.pin_memory(data)
