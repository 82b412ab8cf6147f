"""ember.onnx: present so that scripts doing ``import torch.onnx`` (for an optional export step)
import. ember cannot export ONNX graphs: ``export`` raises NotImplementedError. Libraries that register
ONNX translations of their ops at import (torchvision) find ``register_custom_op_symbolic``,
``symbolic_helper`` and the ``symbolic_opsetN`` modules; the translations are kept and never run."""

from __future__ import annotations

import enum
import re
import sys
import types
from collections.abc import Callable
from typing import Any

from . import symbolic_helper  # noqa: F401

__all__ = ["TensorProtoDataType", "export", "is_in_onnx_export", "register_custom_op_symbolic"]

_custom_symbolics: dict[tuple[str, int], Callable[..., Any]] = {}


class TensorProtoDataType(enum.IntEnum):
    """ONNX's element types by number, as ``torch.onnx.TensorProtoDataType``."""

    UNDEFINED, FLOAT, UINT8, INT8, UINT16, INT16, INT32, INT64, STRING, BOOL, FLOAT16, DOUBLE = range(12)
    UINT32, UINT64, COMPLEX64, COMPLEX128, BFLOAT16 = range(12, 17)


def export(*args: Any, **kwargs: Any) -> None:
    """Would write the model as an ONNX graph: ember has no ONNX exporter (raises NotImplementedError)."""
    raise NotImplementedError("ember.onnx.export: ember cannot export ONNX graphs (it records no TorchScript)")


def is_in_onnx_export() -> bool:
    """Whether an ONNX export is running: never."""
    return False


def register_custom_op_symbolic(symbolic_name: str, symbolic_fn: Callable[..., Any], opset_version: int) -> None:
    """Keeps ``symbolic_fn`` as the ONNX translation of the op ``"namespace::name"`` (used by no export here)."""
    if not re.fullmatch(r"\w+::\w+", symbolic_name):
        raise ValueError(
            f"Failed to register operator {symbolic_name}. The symbolic name must match the format "
            "domain::name, and should start with a letter and contain only alphanumerical characters"
        )
    _custom_symbolics[(symbolic_name, opset_version)] = symbolic_fn


def unregister_custom_op_symbolic(symbolic_name: str, opset_version: int) -> None:
    """Forgets the translation ``register_custom_op_symbolic`` kept."""
    _custom_symbolics.pop((symbolic_name, opset_version), None)


def _opset_module(version: int) -> types.ModuleType:
    module = types.ModuleType(f"{__name__}.symbolic_opset{version}", f"ONNX opset {version}'s translations (none).")
    sys.modules[module.__name__] = module  # so `import ember.onnx.symbolic_opset11` finds it too
    return module


# torch.onnx.symbolic_opset7 .. 20: modules of op translations, which only an export would call
globals().update({f"symbolic_opset{version}": _opset_module(version) for version in range(7, 21)})
