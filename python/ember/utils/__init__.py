"""ember.utils: data loading (``ember.utils.data``) and activation checkpointing
(``ember.utils.checkpoint``), as ``torch.utils``."""

from . import checkpoint, data  # noqa: F401
