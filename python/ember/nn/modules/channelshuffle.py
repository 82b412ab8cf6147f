"""ChannelShuffle: interleaves groups of channels (ShuffleNet), a thin module over nn.functional."""

from __future__ import annotations

from ..._C import Tensor
from .. import functional as F
from .module import Module

__all__ = ["ChannelShuffle"]


class ChannelShuffle(Module):
    """Divides the C channels of an input (N, C, *) into `groups` groups and interleaves them."""

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, input: Tensor) -> Tensor:
        """Returns channel_shuffle(input, groups)."""
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        """groups."""
        return f"groups={self.groups}"
