"""skip_init (torch.nn.utils.init): constructing a module without its default random initialisation."""

from __future__ import annotations

import inspect
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from .. import init as nn_init
from ..modules.module import Module

__all__ = ["skip_init"]

M = TypeVar("M", bound=Module)

_lock = threading.Lock()


@contextmanager
def _no_init() -> Iterator[None]:
    """Makes the in-place initialisers of ember.nn.init (uniform_, kaiming_uniform_, ones_, ...) no-ops.

    PyTorch builds the module on the meta device and then allocates empty storage (to_empty); ember has no meta
    device, so the layers' reset_parameters run but their initialisers leave the storage as it was allocated.
    """
    names = [n for n in dir(nn_init) if n.endswith("_") and not n.startswith("_") and callable(getattr(nn_init, n))]
    with _lock:
        saved = {n: getattr(nn_init, n) for n in names}
        try:
            for n in names:
                setattr(nn_init, n, lambda tensor, *args, **kwargs: tensor)
            yield
        finally:
            for n, f in saved.items():
                setattr(nn_init, n, f)


def skip_init(module_cls: type[M], *args: Any, **kwargs: Any) -> M:
    """Constructs module_cls(*args, **kwargs) without running nn.init's initialisers: parameters have the right
    shapes and uninitialised values (useful when custom initialisation or a checkpoint follows). As PyTorch, the
    module must take a `device` argument."""
    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    with _no_init():
        return module_cls(*args, **kwargs)
