"""ember.onnx: present so that scripts doing ``import torch.onnx`` (for an optional export step)
import. ember cannot export ONNX graphs: ``export`` raises NotImplementedError."""

from __future__ import annotations

from typing import Any

__all__ = ["export", "is_in_onnx_export"]


def export(*args: Any, **kwargs: Any) -> None:
    """Would write the model as an ONNX graph: ember has no ONNX exporter (raises NotImplementedError)."""
    raise NotImplementedError("ember.onnx.export: ember cannot export ONNX graphs (it records no TorchScript)")


def is_in_onnx_export() -> bool:
    """Whether an ONNX export is running: never."""
    return False
