"""Autocast's float32 rule for ops written in Python (Note [Autocast]): the losses and distances that
PyTorch's autocast lists run in float32 are compositions of ember ops here, so each widens its
float16/bfloat16 tensor arguments to float32 first while autocast is on for their device type, as
PyTorch's dispatcher does for the native ops (ops implemented in C++ get the same from the registry).
A call at the top of the op rather than a decorator: a wrapper's frame would move the op's warnings
off the caller's line."""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

from . import _C

_HALF_FLOATS = (_C.dtype.float16, _C.dtype.bfloat16)


def float32_under_autocast(device_types: tuple[str, ...], *args: Any) -> tuple[Any, ...]:
    """``args`` with each half-float tensor on one of ``device_types`` ('cpu', 'cuda') widened to float32
    while autocast is on for its device type; everything else as it is."""
    if not _C._autocast_active():  # one call while no thread has autocast on
        return args
    return tuple(_widened(a, device_types) for a in args)


def _widened(x: Any, device_types: tuple[str, ...]) -> Any:
    if not isinstance(x, _C.Tensor) or x.dtype not in _HALF_FLOATS:
        return x
    kind = x.device.type
    if kind not in device_types or not _C._autocast_state(kind)[0]:
        return x
    return x.float()


_DEVICE_TYPES = ("cpu", "cuda")


def states() -> tuple[tuple[bool, Any], ...]:
    """This thread's autocast state of each device type, for ``applied`` to restore elsewhere: a backward's
    recomputation runs on the engine's thread of its device (Note [Autocast])."""
    return tuple(_C._autocast_state(kind) for kind in _DEVICE_TYPES)


@contextlib.contextmanager
def applied(saved: tuple[tuple[bool, Any], ...]) -> Iterator[None]:
    """Runs the block under ``states()``'s ``saved`` autocast states, then restores this thread's."""
    callers = states()
    for kind, (enabled, dtype) in zip(_DEVICE_TYPES, saved):
        _C._set_autocast_state(enabled, dtype, kind)
    try:
        yield
    finally:
        for kind, (enabled, dtype) in zip(_DEVICE_TYPES, callers):
            _C._set_autocast_state(enabled, dtype, kind)
