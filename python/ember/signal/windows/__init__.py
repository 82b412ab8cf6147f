"""ember.signal.windows, as ``torch.signal.windows``: SciPy's window functions (symmetric by default, ``sym=False``
for the periodic form a DFT takes), computed in float64 and returned in the default dtype or ``dtype``.

The cosine sums (hann, hamming, blackman, nuttall, general_cosine, general_hamming), bartlett and kaiser share the
``*_window`` functions' construction (``ember._composite_creation._window``); the others are written here from
their definitions. Arguments are checked with PyTorch's errors (ValueError)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, Callable

from ... import _C
from ..._C import Tensor
from ..._composite_creation import _kaiser_formula, _window

__all__ = [
    "bartlett",
    "blackman",
    "cosine",
    "exponential",
    "gaussian",
    "general_cosine",
    "general_hamming",
    "hamming",
    "hann",
    "kaiser",
    "nuttall",
]


def _checked(name: str, M: int, dtype: Any, layout: Any) -> None:
    if isinstance(M, bool) or not hasattr(M, "__index__"):
        raise TypeError(f"{name}(): the window length M must be an int, got {type(M).__name__}")
    if M < 0:
        raise ValueError(f"{name} requires non-negative window length, got M={M}")
    if layout is not None and str(layout) not in ("ember.strided", "torch.strided"):
        raise ValueError(f"{name} is implemented for strided tensors only, got: {layout}")
    if dtype is not None and dtype not in (_C.dtype.float32, _C.dtype.float64):
        raise ValueError(f"{name} expects float32 or float64 dtypes, got: {dtype}")


def _make(name: str, M: int, sym: bool, dtype: Any, layout: Any, device: Any, requires_grad: bool,
          formula: Callable[[Tensor, int], Tensor]) -> Tensor:  # fmt: skip
    """formula(phase, N) over phase = 2 pi k / N, k = 0..M-1, N = M - 1 when sym else M (a periodic window is the
    symmetric one of M + 1 points without its last)."""
    _checked(name, M, dtype, layout)
    return _window(name, M, not sym, dtype, None, device, requires_grad, formula)


def _index(phase: Tensor, N: int) -> Tensor:
    return phase * (N / (2 * math.pi))  # k


def general_cosine(M: int, *, a: Iterable[float], sym: bool = True, dtype: Any = None, layout: Any = None,
                   device: Any = None, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """sum_i (-1)^i a_i cos(2 pi i k / N): the cosine-sum window with coefficients a."""
    if not isinstance(a, Iterable):
        raise TypeError(f"Coefficients must be a list/tuple, got: {type(a)}")
    coefficients = [float(c) for c in a]
    if not coefficients:
        raise ValueError("Coefficients cannot be empty")

    def formula(phase: Tensor, N: int) -> Tensor:
        total = phase * 0.0
        for i, c in enumerate(coefficients):
            total = total + (-1) ** i * c * (phase * i).cos()
        return total

    return _make("general_cosine", M, sym, dtype, layout, device, requires_grad, formula)


def general_hamming(M: int, *, alpha: float = 0.54, sym: bool = True, dtype: Any = None, layout: Any = None,
                    device: Any = None, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """alpha - (1 - alpha) cos(2 pi k / N)."""
    return general_cosine(M, a=[alpha, 1.0 - alpha], sym=sym, dtype=dtype, layout=layout, device=device,
                          requires_grad=requires_grad)  # fmt: skip


def hamming(M: int, *, sym: bool = True, dtype: Any = None, layout: Any = None, device: Any = None,
            requires_grad: bool = False) -> Tensor:  # fmt: skip
    """The Hamming window: general_hamming with alpha 0.54."""
    return general_hamming(M, alpha=0.54, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)  # fmt: skip


def hann(M: int, *, sym: bool = True, dtype: Any = None, layout: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:  # fmt: skip
    """The Hann window: general_hamming with alpha 0.5."""
    return general_hamming(M, alpha=0.5, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)  # fmt: skip


def blackman(M: int, *, sym: bool = True, dtype: Any = None, layout: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:  # fmt: skip
    """The Blackman window: general_cosine with a = (0.42, 0.5, 0.08)."""
    return general_cosine(M, a=[0.42, 0.5, 0.08], sym=sym, dtype=dtype, layout=layout, device=device,
                          requires_grad=requires_grad)  # fmt: skip


def nuttall(M: int, *, sym: bool = True, dtype: Any = None, layout: Any = None, device: Any = None,
            requires_grad: bool = False) -> Tensor:  # fmt: skip
    """The minimum 4-term Blackman-Harris window of Nuttall."""
    return general_cosine(M, a=[0.3635819, 0.4891775, 0.1365995, 0.0106411], sym=sym, dtype=dtype, layout=layout,
                          device=device, requires_grad=requires_grad)  # fmt: skip


def bartlett(M: int, *, sym: bool = True, dtype: Any = None, layout: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:  # fmt: skip
    """The triangular window with zero ends: 1 - |2k / N - 1|."""
    return _make("bartlett", M, sym, dtype, layout, device, requires_grad, lambda p, N: 1 - (p / math.pi - 1).abs())


def cosine(M: int, *, sym: bool = True, dtype: Any = None, layout: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:  # fmt: skip
    """The sine window: sin(pi (k + 1/2) / (N + 1))."""
    return _make("cosine", M, sym, dtype, layout, device, requires_grad,
                 lambda p, N: ((_index(p, N) + 0.5) * (math.pi / (N + 1))).sin())  # fmt: skip


def gaussian(M: int, *, std: float = 1.0, sym: bool = True, dtype: Any = None, layout: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """exp(-((k - N/2) / std)^2 / 2)."""
    if std <= 0:
        raise ValueError(f"Standard deviation must be positive, got: {std} instead.")
    return _make("gaussian", M, sym, dtype, layout, device, requires_grad,
                 lambda p, N: (((_index(p, N) - N / 2) / std) ** 2 * -0.5).exp())  # fmt: skip


def exponential(M: int, *, center: float | None = None, tau: float = 1.0, sym: bool = True, dtype: Any = None,
                layout: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """exp(-|k - center| / tau), center N/2 by default (a symmetric window takes no other)."""
    if tau <= 0:
        raise ValueError(f"Tau must be positive, got: {tau} instead.")
    if sym and center is not None:
        raise ValueError("Center must be None for symmetric windows")

    def formula(phase: Tensor, N: int) -> Tensor:
        middle = N / 2 if center is None else center
        return ((_index(phase, N) - middle).abs() * (-1 / tau)).exp()

    return _make("exponential", M, sym, dtype, layout, device, requires_grad, formula)


def kaiser(M: int, *, beta: float = 12.0, sym: bool = True, dtype: Any = None, layout: Any = None,
           device: Any = None, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """I0(beta sqrt(1 - (2k/N - 1)^2)) / I0(beta)."""
    if beta < 0:
        raise ValueError(f"beta must be non-negative, got: {beta} instead.")
    return _make("kaiser", M, sym, dtype, layout, device, requires_grad, _kaiser_formula(beta))
