"""ember._dynamo: the ``torch._dynamo`` calls eager code makes (``is_compiling``, ``disable``, ``config``, marking
dims dynamic), answered as ``ember.compiler`` answers them: ember compiles nothing."""

from __future__ import annotations

from typing import Any

from ..compiler import allow_in_graph, assume_constant_result, disable, is_compiling, reset  # noqa: F401
from . import config  # noqa: F401  (torch._dynamo.config: settings that change nothing in ember)

__all__ = ["OptimizedModule", "allow_in_graph", "assume_constant_result", "config", "disable", "is_compiling",
           "mark_dynamic", "mark_static", "mark_static_address", "maybe_mark_dynamic", "reset"]  # fmt: skip


class OptimizedModule:
    """The type of a module ``torch.compile`` compiled: ember.compile returns the module itself, so no object
    is one (``isinstance(m, OptimizedModule)`` is False, as for an uncompiled module in PyTorch)."""


def mark_dynamic(t: Any, index: Any, **kwargs: Any) -> None:
    """Accepted: ember has no compiled graphs whose shapes to generalise."""


def maybe_mark_dynamic(t: Any, index: Any) -> None:
    """Accepted, as mark_dynamic."""


def mark_static(t: Any, index: Any = None) -> None:
    """Accepted, as mark_dynamic."""


def mark_static_address(t: Any, guard: bool = True) -> None:
    """Accepted: marks a tensor whose address a compiled graph may keep (transformers' caches); ember compiles
    no graphs."""


from . import eval_frame, exc, utils  # noqa: E402, F401  (torch._dynamo's submodules, reached as attributes)
