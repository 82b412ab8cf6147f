"""torch-level creation functions composed from ember's ops: logspace and the signal windows
(hann, hamming, blackman, bartlett, kaiser), of the default dtype unless one is given."""

from __future__ import annotations

import math
from typing import Any

from . import _C, _creation
from ._C import Tensor

__all__ = ["bartlett_window", "blackman_window", "hamming_window", "hann_window", "kaiser_window", "logspace"]


def logspace(
    start: float,
    end: float,
    steps: int,
    base: float = 10.0,
    *,
    out: Tensor | None = None,
    dtype: _C.dtype | None = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """``steps`` values from ``base ** start`` to ``base ** end``, evenly spaced on a log scale."""
    _creation._check_layout_and_pinning(layout, False, "logspace")
    exponents = _creation.linspace(start, end, steps, dtype=_C.dtype.float64, device=device)
    values = _C.pow(_creation.full((steps,), float(base), dtype=_C.dtype.float64, device=device), exponents)
    # Computed in float64, then converted (integer dtypes truncate, as a cast does).
    target = dtype or (out.dtype if out is not None else _creation.get_default_dtype())
    result = _creation._into(out, values.to(target), "logspace")
    return result.requires_grad_(True) if requires_grad else result


def _window(name: str, window_length: int, periodic: bool, dtype: _C.dtype | None, layout: Any, device: Any,
            requires_grad: bool, formula: Any, pin_memory: bool = False) -> Tensor:  # fmt: skip
    """A window of ``window_length`` points from ``formula(phase)``, phase = 2 pi n / N running over [0, 2 pi]
    (N = length for a periodic window, the DFT's convention; length - 1 for a symmetric one)."""
    _creation._check_device(device)
    _creation._check_layout_and_pinning(layout, pin_memory, name, device)
    dtype = dtype or _creation.get_default_dtype()
    if not (dtype == _C.dtype.float32 or dtype == _C.dtype.float64):
        raise RuntimeError(f"{name} expects floating point dtypes, got: {dtype}")
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got window_length={window_length}")
    if window_length <= 1:
        result = _creation.ones(window_length, dtype=dtype)
    else:
        n = window_length if periodic else window_length - 1
        phase = _creation.arange(window_length, dtype=_C.dtype.float64) * (2 * math.pi / n)
        result = formula(phase, n).to(dtype)
    return _creation._finish(result, requires_grad, device, pin_memory)


def hann_window(window_length: int, periodic: bool = True, *, dtype: _C.dtype | None = None, layout: Any = None,
                device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:  # fmt: skip
    """The Hann window: ``0.5 - 0.5 cos(2 pi n / N)``."""
    return _window("hann_window", window_length, periodic, dtype, layout, device, requires_grad,
                   lambda p, n: 0.5 - 0.5 * p.cos(), pin_memory)  # fmt: skip


def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54, beta: float = 0.46, *,
                   dtype: _C.dtype | None = None, layout: Any = None, device: Any = None,
                   requires_grad: bool = False, pin_memory: bool = False) -> Tensor:  # fmt: skip
    """The Hamming window: ``alpha - beta cos(2 pi n / N)``."""
    return _window("hamming_window", window_length, periodic, dtype, layout, device, requires_grad,
                   lambda p, n: alpha - beta * p.cos(), pin_memory)  # fmt: skip


def blackman_window(window_length: int, periodic: bool = True, *, dtype: _C.dtype | None = None,
                    layout: Any = None, device: Any = None, requires_grad: bool = False,
                    pin_memory: bool = False) -> Tensor:  # fmt: skip
    """The Blackman window: ``0.42 - 0.5 cos(2 pi n / N) + 0.08 cos(4 pi n / N)``."""
    return _window("blackman_window", window_length, periodic, dtype, layout, device, requires_grad,
                   lambda p, n: 0.42 - 0.5 * p.cos() + 0.08 * (2 * p).cos(), pin_memory)  # fmt: skip


def bartlett_window(window_length: int, periodic: bool = True, *, dtype: _C.dtype | None = None,
                    layout: Any = None, device: Any = None, requires_grad: bool = False,
                    pin_memory: bool = False) -> Tensor:  # fmt: skip
    """The Bartlett (triangular) window: ``1 - |2 n / N - 1|``."""
    return _window("bartlett_window", window_length, periodic, dtype, layout, device, requires_grad,
                   lambda p, n: 1 - (p / math.pi - 1).abs(), pin_memory)  # fmt: skip


def kaiser_window(window_length: int, periodic: bool = True, beta: float = 12.0, *, dtype: _C.dtype | None = None,
                  layout: Any = None, device: Any = None, requires_grad: bool = False,
                  pin_memory: bool = False) -> Tensor:  # fmt: skip
    """The Kaiser window: ``I0(beta sqrt(1 - (2n/N - 1)^2)) / I0(beta)``."""
    return _window("kaiser_window", window_length, periodic, dtype, layout, device, requires_grad,
                   _kaiser_formula(beta), pin_memory)  # fmt: skip


def _kaiser_formula(beta: float) -> Any:
    def formula(phase: Tensor, n: int) -> Tensor:
        ratio = phase * (1 / math.pi) - 1  # 2n/N - 1, from -1 to 1
        arg = ((1 - ratio * ratio).clamp_min(0.0)).sqrt() * beta
        # exp(-|x|) I0(x) keeps a large beta finite: I0(a) / I0(b) = i0e(a) / i0e(b) * exp(a - b)
        return (
            _C._special_i0e(arg)
            / _C._special_i0e(_creation.tensor(float(beta), dtype=_C.dtype.float64))
            * (arg - beta).exp()
        )

    return formula
