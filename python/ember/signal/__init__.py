"""ember.signal, as ``torch.signal``: the window functions of ``ember.signal.windows``."""

from . import windows

__all__ = ["windows"]
