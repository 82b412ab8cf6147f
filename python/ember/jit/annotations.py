"""ember.jit.annotations, as ``torch.jit.annotations``: the TorchScript-only annotation helpers that code
imports for its type hints (torchvision's ``BroadcastingList2``)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple, Union  # noqa: F401, UP035  (re-exported, as PyTorch's)

from ..futures import Future  # noqa: F401

__all__ = ["Any", "BroadcastingList1", "BroadcastingList2", "BroadcastingList3", "Dict", "Future", "List",
           "Optional", "Tuple", "Union"]  # fmt: skip


class _BroadcastingList:
    """``BroadcastingListN[T]``: a T or N of them, for TorchScript; subscripted, it is None, as PyTorch's."""

    def __getitem__(self, types: Any) -> None:
        return None


BroadcastingList1 = BroadcastingList2 = BroadcastingList3 = _BroadcastingList()
