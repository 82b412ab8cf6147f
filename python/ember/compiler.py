"""ember.compiler, as ``torch.compiler``: ``ember.compile`` compiles nothing (ember's ops already run in C++),
so ``is_compiling()`` and ``is_dynamo_compiling()`` say False, ``disable`` and ``allow_in_graph`` leave what they
decorate as it is, and ``reset``/``cudagraph_mark_step_begin`` have nothing to do."""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from ._runtime import compile  # noqa: F401  (torch.compiler.compile)

__all__ = [
    "allow_in_graph", "assume_constant_result", "compile", "cudagraph_mark_step_begin", "disable",
    "is_compiling", "is_dynamo_compiling", "is_exporting", "reset", "substitute_in_graph",
]  # fmt: skip

_F = TypeVar("_F")


def is_compiling() -> bool:
    """False: nothing runs compiled in ember."""
    return False


def is_dynamo_compiling() -> bool:
    """False: nothing runs compiled in ember."""
    return False


def is_exporting() -> bool:
    """False: ember exports no graphs."""
    return False


def disable(fn: Any = None, recursive: bool = True, *, reason: str | None = None) -> Any:
    """``@disable`` or ``disable(fn)``: the function unchanged (it always runs eagerly)."""
    if fn is None:
        return lambda f: f
    return fn


def allow_in_graph(fn: _F) -> _F:
    """The function unchanged."""
    return fn


def assume_constant_result(fn: _F) -> _F:
    """The function unchanged."""
    return fn


def substitute_in_graph(original_fn: Callable, **kwargs: Any) -> Callable[[_F], _F]:
    """A decorator that leaves its function as it is (there is no graph to put it in)."""
    return lambda fn: fn


def reset() -> None:
    """Nothing compiled, nothing to reset."""


def cudagraph_mark_step_begin() -> None:
    """Nothing to mark: ember.compile makes no CUDA graphs (ember.cuda.CUDAGraph does, by hand)."""
