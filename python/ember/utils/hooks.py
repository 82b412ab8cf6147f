"""ember.utils.hooks, as ``torch.utils.hooks``: the handle a hook registration returns."""

from __future__ import annotations

from ..nn.modules.module import RemovableHandle

__all__ = ["RemovableHandle"]
