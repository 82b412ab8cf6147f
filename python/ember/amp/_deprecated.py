"""torch.cuda.amp / torch.cpu.amp: PyTorch's older spellings of ember.amp, each warning as PyTorch's
do (FutureWarning) and then doing what the torch.amp form does."""

from __future__ import annotations

import warnings
from typing import Any

from .. import _C
from .autocast_mode import autocast as _autocast
from .grad_scaler import GradScaler as _GradScaler


def _warn(old: str, device: str) -> None:
    warnings.warn(
        f"`torch.{device}.amp.{old}(args...)` is deprecated. Please use `torch.amp.{old}('{device}', args...)` "
        "instead.",
        FutureWarning,
        stacklevel=3,
    )


class CudaAutocast(_autocast):
    """torch.cuda.amp.autocast(enabled=True, dtype=float16, cache_enabled=True)."""

    def __init__(self, enabled: bool = True, dtype: Any = _C.dtype.float16, cache_enabled: bool = True) -> None:
        _warn("autocast", "cuda")
        super().__init__("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class CpuAutocast(_autocast):
    """torch.cpu.amp.autocast(enabled=True, dtype=bfloat16, cache_enabled=True)."""

    def __init__(self, enabled: bool = True, dtype: Any = _C.dtype.bfloat16, cache_enabled: bool = True) -> None:
        _warn("autocast", "cpu")
        super().__init__("cpu", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


def _deprecated_scaler(device: str) -> type:
    """torch.<device>.amp.GradScaler(...): torch.amp.GradScaler(device, ...) after PyTorch's FutureWarning."""

    class GradScaler(_GradScaler):
        def __init__(
            self,
            init_scale: float = 2.0**16,
            growth_factor: float = 2.0,
            backoff_factor: float = 0.5,
            growth_interval: int = 2000,
            enabled: bool = True,
        ) -> None:
            _warn("GradScaler", device)
            super().__init__(device, init_scale, growth_factor, backoff_factor, growth_interval, enabled)

    GradScaler.__doc__ = f"torch.{device}.amp.GradScaler: deprecated; torch.amp.GradScaler('{device}', ...)."
    return GradScaler


CudaGradScaler = _deprecated_scaler("cuda")
CpuGradScaler = _deprecated_scaler("cpu")
