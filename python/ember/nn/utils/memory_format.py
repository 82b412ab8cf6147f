"""convert_conv2d_weight_memory_format / convert_conv3d_weight_memory_format (torch.nn.utils.memory_format):
the weights of every Conv2d/ConvTranspose2d (Conv3d/ConvTranspose3d) in a module laid out in a memory format
(Note [Memory formats]); the values, and so the results, are unchanged."""

from __future__ import annotations

from typing import Any, TypeVar

from ..modules.conv import Conv2d, Conv3d, ConvTranspose2d, ConvTranspose3d
from ..modules.module import Module

__all__ = ["convert_conv2d_weight_memory_format", "convert_conv3d_weight_memory_format"]

M = TypeVar("M", bound=Module)


def _convert(module: M, memory_format: Any, kinds: tuple[type, ...]) -> M:
    for m in module.modules():
        if isinstance(m, kinds):
            m.weight.data = m.weight.detach().clone(memory_format=memory_format)
    return module


def convert_conv2d_weight_memory_format(module: M, memory_format: Any) -> M:
    """Lays out the weight of every Conv2d and ConvTranspose2d in ``module`` in ``memory_format``; returns module."""
    return _convert(module, memory_format, (Conv2d, ConvTranspose2d))


def convert_conv3d_weight_memory_format(module: M, memory_format: Any) -> M:
    """Lays out the weight of every Conv3d and ConvTranspose3d in ``module`` in ``memory_format``; returns module."""
    return _convert(module, memory_format, (Conv3d, ConvTranspose3d))
