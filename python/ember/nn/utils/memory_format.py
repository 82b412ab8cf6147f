"""convert_conv2d_weight_memory_format / convert_conv3d_weight_memory_format (torch.nn.utils.memory_format).

ember stores every tensor contiguous (row-major) and has no channels_last layout, so there is nothing to convert:
these accept any memory format (torch.contiguous_format, torch.channels_last, channels_last_3d, or a name) and
return the module unchanged, so that code written for PyTorch runs; results are the same, only speed differs.
"""

from __future__ import annotations

from typing import TypeVar

from ..modules.module import Module

__all__ = ["convert_conv2d_weight_memory_format", "convert_conv3d_weight_memory_format"]

M = TypeVar("M", bound=Module)


def convert_conv2d_weight_memory_format(module: M, memory_format: object) -> M:
    """Returns module itself: ember's only layout is the contiguous one (see the module docstring)."""
    return module


def convert_conv3d_weight_memory_format(module: M, memory_format: object) -> M:
    """Returns module itself: ember's only layout is the contiguous one (see the module docstring)."""
    return module
