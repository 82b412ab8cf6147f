"""ember.onnx.symbolic_helper: the decorators ONNX translations are written with (``parse_args``,
``quantized_args``). They return the translation unchanged: ember exports nothing, so nothing parses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["parse_args", "quantized_args"]


def parse_args(*arg_descriptors: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declares how a translation's arguments are read (``"v"``, ``"i"``, ``"f"``, ...)."""
    return lambda fn: fn


def quantized_args(*arg_q_descriptors: bool, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declares which of a translation's arguments are quantized."""
    return lambda fn: fn
