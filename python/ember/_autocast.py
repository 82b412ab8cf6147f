"""Autocast's rules for ops written in Python (Note [Autocast]): the losses and distances that
PyTorch's autocast lists run in float32 are compositions of ember ops here, so each widens its
float16/bfloat16 tensor arguments to float32 first while autocast is on for their device type, as
PyTorch's dispatcher does for the native ops (ops implemented in C++ get the same from the registry);
the ops it runs in lower precision cast theirs down the same way.
A call at the top of the op rather than a decorator: a wrapper's frame would move the op's warnings
off the caller's line."""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

from . import _C

_HALF_FLOATS = (_C.dtype.float16, _C.dtype.bfloat16)
_C._is_any_autocast_enabled = _C._autocast_active  # PyTorch's name (its RNN checks ask it)


def float32_under_autocast(device_types: tuple[str, ...], *args: Any) -> tuple[Any, ...]:
    """``args`` with each half-float tensor on one of ``device_types`` ('cpu', 'cuda') widened to float32
    while autocast is on for its device type; everything else as it is."""
    if not _C._autocast_active():  # one call while no thread has autocast on
        return args
    return tuple(_widened(a, device_types) for a in args)


def _autocast_dtype(x: _C.Tensor, device_types: tuple[str, ...]) -> Any:
    """The autocast dtype of x's device type when it is one of device_types and autocast is on there, else None."""
    kind = x.device.type
    if kind not in device_types:
        return None
    enabled, dtype = _C._autocast_state(kind)
    return dtype if enabled else None


def _widened(x: Any, device_types: tuple[str, ...]) -> Any:
    if not isinstance(x, _C.Tensor) or x.dtype not in _HALF_FLOATS or _autocast_dtype(x, device_types) is None:
        return x
    return x.float()


def lower_under_autocast(device_types: tuple[str, ...], *args: Any) -> tuple[Any, ...]:
    """``args`` with each float tensor but float64 on one of ``device_types`` cast to its device type's autocast
    dtype while autocast is on for it: PyTorch's lower-precision rule, for the listed ops written in Python
    here (the recurrent layers, prelu, the transposed convolutions, linalg.vecdot); everything else as it is."""
    if not _C._autocast_active():
        return args
    return tuple(_lowered(a, device_types) for a in args)


def _lowered(x: Any, device_types: tuple[str, ...]) -> Any:
    if not isinstance(x, _C.Tensor) or not x.is_floating_point() or x.dtype == _C.dtype.float64:
        return x
    dtype = _autocast_dtype(x, device_types)
    return x.to(dtype) if dtype is not None and x.dtype != dtype else x


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


@contextlib.contextmanager
def disabled() -> Iterator[None]:
    """Runs the block with autocast off for every device type: for an op that sets its own precision."""
    with applied(tuple((False, dtype) for _, dtype in states())):
        yield
