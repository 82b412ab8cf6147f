"""Helpers shared by layer modules."""
from ... import _C
from ..._creation import empty


def factory_kwargs(device, dtype):
    if device is not None:
        _C._check_device(device if isinstance(device, _C.device) else _C.device(device))
    return {"dtype": dtype}


def new_empty(shape, device=None, dtype=None):
    """Uninitialised storage for a parameter or buffer (reset_parameters fills it)."""
    return empty(*shape, **factory_kwargs(device, dtype))


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)
