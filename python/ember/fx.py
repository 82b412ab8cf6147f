"""ember.fx: the names of ``torch.fx`` that code annotates with or checks against. ember has no FX tracer
(its ops are bound in C++, without PyTorch's dispatch to trace through): ``symbolic_trace`` and building a
``GraphModule`` raise ``NotImplementedError``, and no ember object is a ``GraphModule``."""

from __future__ import annotations

from typing import Any

__all__ = ["Graph", "GraphModule", "Proxy", "Tracer", "symbolic_trace", "wrap"]


def _no_fx(what: str) -> NotImplementedError:
    return NotImplementedError(f"ember.fx.{what}: ember has no FX tracer (its ops are bound in C++)")


class GraphModule:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise _no_fx("GraphModule")


class Graph:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise _no_fx("Graph")


class Tracer:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise _no_fx("Tracer")


class Proxy:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise _no_fx("Proxy")


def symbolic_trace(root: Any, concrete_args: Any = None) -> Any:
    raise _no_fx("symbolic_trace")


def wrap(fn_or_name: Any) -> Any:
    """``torch.fx.wrap``: marks a function to stay a leaf when traced; returns it (nothing is traced)."""
    return fn_or_name
