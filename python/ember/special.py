"""ember.special: the names PyTorch's torch.special gives some of ember's functions."""

from __future__ import annotations

from ._C import igamma as gammainc
from ._C import igammac as gammaincc

__all__ = ["gammainc", "gammaincc"]
