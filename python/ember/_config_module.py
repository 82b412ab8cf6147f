"""The ``patch`` of a settings module (``torch._dynamo.config``, ``torch._inductor.config``): changes some of
the module's settings for a ``with`` block or while a decorated function runs, and refuses a name the module
does not have with PyTorch's AttributeError."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any


@contextlib.contextmanager
def _patched(module: ModuleType, public_name: str, changes: dict[str, Any]) -> Iterator[None]:
    for name in changes:
        if not hasattr(module, name) or name.startswith("_"):
            raise AttributeError(f"{public_name} does not have attribute {name!r}")
    saved = {name: getattr(module, name) for name in changes}
    for name, value in changes.items():
        setattr(module, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(module, name, value)


class _Patch:
    def __init__(self, module: ModuleType, public_name: str, changes: dict[str, Any]) -> None:
        self._args = (module, public_name, changes)
        self._active: Any = None

    def __enter__(self) -> None:
        self._active = _patched(*self._args)
        self._active.__enter__()

    def __exit__(self, *exc: Any) -> None:
        self._active.__exit__(*exc)

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            with _patched(*self._args):
                return fn(*args, **kwargs)

        return run


def patch_function(module: ModuleType, public_name: str) -> Callable[..., _Patch]:
    """The module's ``patch(name, value)`` / ``patch({...})`` / ``patch(**changes)``."""

    def patch(arg: str | dict[str, Any] | None = None, value: Any = None, **changes: Any) -> _Patch:
        if isinstance(arg, str):
            changes[arg] = value
        elif isinstance(arg, dict):
            changes.update(arg)
        return _Patch(module, public_name, changes)

    return patch
