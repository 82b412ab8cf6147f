"""ember.utils._device, as ``torch.utils._device``: the device context behind ``with ember.device(...)`` and
``set_default_device`` (``DeviceContext``), the creation functions it steers (``_device_constructors``) and
PyTorch's ``set_device`` decorator. ember keeps the device in its creation functions, not in a
TorchFunctionMode, so entering a DeviceContext costs nothing per op."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from .. import _C, _creation

__all__ = ["DeviceContext", "device_decorator", "set_device"]


def __getattr__(name: str) -> Any:
    if name == "CURRENT_DEVICE":  # None unless a device block or set_default_device chose one, as PyTorch's
        chosen = _creation._device_stack or _creation._default_device != "cpu"
        return _creation.get_default_device() if chosen else None
    raise AttributeError(f"module 'ember.utils._device' has no attribute '{name}'")


@functools.lru_cache(1)
def _device_constructors() -> set[Callable[..., Any]]:
    """The creation functions a device block makes tensors with (PyTorch's list, those ember has)."""
    import ember

    names = """empty empty_permuted empty_strided empty_quantized ones arange bartlett_window blackman_window eye
    fft.fftfreq fft.rfftfreq full hamming_window hann_window kaiser_window linspace logspace nested.nested_tensor
    rand randn randint randperm range sparse_coo_tensor tensor tril_indices triu_indices zeros asarray""".split()
    found = set()
    for name in names:
        obj: Any = ember
        for part in name.split("."):
            obj = getattr(obj, part, None)
        if obj is not None:
            found.add(obj)
    return found


class DeviceContext:
    """``with DeviceContext(device):`` makes creation functions put new tensors on ``device``, as
    ``with ember.device(device):`` does."""

    def __init__(self, device: Any) -> None:
        self.device = _C.device(device)

    def __enter__(self) -> DeviceContext:
        _creation._enter_device(self.device)
        return self

    def __exit__(self, *exc: Any) -> None:
        _creation._exit_device(self.device)


def device_decorator(device: Any, func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` run inside ``DeviceContext(device)``."""

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        with DeviceContext(device):
            return func(*args, **kwargs)

    return run


def set_device(device: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A decorator: the function makes its tensors on ``device``."""
    return lambda func: device_decorator(_C.device(device), func)
