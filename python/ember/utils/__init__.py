"""ember.utils: data loading utilities (``ember.utils.data``), as ``torch.utils``."""

from . import data  # noqa: F401
