"""ember.fx: the names of ``torch.fx`` that code annotates with or checks against. ember has no FX tracer
(its ops are bound in C++, without PyTorch's dispatch to trace through): ``symbolic_trace`` and building a
``GraphModule`` raise ``NotImplementedError``, and no ember object is a ``GraphModule``."""

from __future__ import annotations

from typing import Any

__all__ = ["Graph", "GraphModule", "Proxy", "Tracer", "symbolic_trace", "wrap"]


def _no_fx(what: str) -> NotImplementedError:
    return NotImplementedError(f"ember.fx.{what}: ember has no FX tracer (its ops are bound in C++)")


class _Untraceable:
    """A torch.fx class by name: making one raises, as there is no graph to build."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise _no_fx(type(self).__name__)


class GraphModule(_Untraceable):
    pass


class Graph(_Untraceable):
    pass


class Tracer(_Untraceable):
    pass


class Proxy(_Untraceable):
    pass


def symbolic_trace(root: Any, concrete_args: Any = None) -> Any:
    raise _no_fx("symbolic_trace")


def wrap(fn_or_name: Any) -> Any:
    """``torch.fx.wrap``: marks a function to stay a leaf when traced; returns it (nothing is traced)."""
    return fn_or_name
