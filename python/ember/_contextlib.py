"""Context managers that are also decorators (``torch.utils._contextlib``): the grad modes are built on them,
and libraries subclass ``_DecoratorContextManager`` for their own (tensordict's option setters)."""

from __future__ import annotations

import functools
import inspect
import sys
import warnings
from typing import Any, Callable, TypeVar

_F = TypeVar("_F", bound=Callable[..., Any])

__all__ = ["_DecoratorContextManager", "_NoParamDecoratorContextManager", "context_decorator"]


def _wrap_generator(ctx_factory: Callable[[], Any], func: _F) -> _F:
    """A generator function that runs inside a fresh context each time it is resumed; the caller's state is in
    force between yields."""

    @functools.wraps(func)
    def generator(*args: Any, **kwargs: Any) -> Any:
        gen = func(*args, **kwargs)
        try:
            with ctx_factory():
                response = gen.send(None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:
                    with ctx_factory():
                        gen.close()
                    raise
                except BaseException:
                    with ctx_factory():
                        response = gen.throw(*sys.exc_info())
                else:
                    with ctx_factory():
                        response = gen.send(request)
        except StopIteration as done:
            return done.value

    return generator  # type: ignore[return-value]


def context_decorator(ctx_factory: Any, func: _F) -> _F:
    """func run inside ``ctx_factory()`` (or a context manager given itself) on each call (each resumption, for
    a generator function)."""
    if callable(ctx_factory) and hasattr(ctx_factory, "__enter__"):
        raise TypeError(
            f"Passed in {ctx_factory} is both callable and also a valid context manager (has __enter__), making it "
            "ambiguous which interface to use. If you intended to pass a context manager factory, rewrite your call "
            "as context_decorator(lambda: ctx()); if you intended to pass a context manager directly, rewrite your "
            "call as context_decorator(lambda: ctx)"
        )
    if not callable(ctx_factory):  # a context manager itself, entered on every call
        manager = ctx_factory

        def ctx_factory() -> Any:
            return manager

    if inspect.isclass(func):
        # As PyTorch 2.x: deprecated; the class's construction runs inside the context.
        warnings.warn(
            "Decorating classes is deprecated and will be disabled in future versions. You should only decorate "
            "functions or methods. To preserve the current behavior of class decoration, you can directly "
            "decorate the `__init__` method and nothing else.",
            FutureWarning,
            stacklevel=3,
        )
        cls = func

        def construct(*args: Any, **kwargs: Any) -> Any:
            with ctx_factory():
                return cls(*args, **kwargs)

        return construct  # type: ignore[return-value]
    if inspect.isgeneratorfunction(func):
        return _wrap_generator(ctx_factory, func)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with ctx_factory():
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


class _DecoratorContextManager:
    """A context manager that also decorates: ``@ctx()`` runs the function inside a fresh copy (``clone``)."""

    def __call__(self, func: _F) -> _F:
        """Decorate ``func`` so that each call runs inside a fresh copy of this context."""
        return context_decorator(self.clone, func)

    def __enter__(self) -> None:
        raise NotImplementedError

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        raise NotImplementedError

    def clone(self) -> Any:
        """A fresh context manager of the same kind (one that takes no arguments; override otherwise)."""
        return self.__class__()


class _NoParamDecoratorContextManager(_DecoratorContextManager):
    """One that also decorates without parentheses: ``@ctx`` as ``@ctx()``."""

    def __new__(cls, orig_func: Any = None) -> Any:
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)
