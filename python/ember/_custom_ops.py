"""ember._custom_ops, as ``torch._custom_ops`` (PyTorch's older custom-op module): the fake-implementation
context, which torchvision's shape functions ask for. ember's custom ops are ``ember.library``'s."""

from __future__ import annotations

from .library import custom_op, get_ctx  # noqa: F401

__all__ = ["custom_op", "get_ctx"]
