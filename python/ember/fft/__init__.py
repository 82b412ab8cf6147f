"""ember.fft: PyTorch's discrete Fourier transforms (``fft``, ``ifft``, ``rfft``, ``irfft``, ``hfft``,
``ihfft`` and their 2-D and n-D forms), differentiable, on complex tensors (Note [Complex tensors]), with the
sample frequencies and shifts (``fftfreq``, ``rfftfreq``, ``fftshift``, ``ifftshift``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .._C import Tensor
from ._transforms import (
    fft,
    fft2,
    fftn,
    hfft,
    hfft2,
    hfftn,
    ifft,
    ifft2,
    ifftn,
    ihfft,
    ihfft2,
    ihfftn,
    irfft,
    irfft2,
    irfftn,
    rfft,
    rfft2,
    rfftn,
)  # fmt: skip

__all__ = [
    "fft", "fft2", "fftfreq", "fftn", "fftshift", "hfft", "hfft2", "hfftn", "ifft", "ifft2", "ifftn",
    "ifftshift", "ihfft", "ihfft2", "ihfftn", "irfft", "irfft2", "irfftn", "rfft", "rfft2", "rfftfreq", "rfftn",
]  # fmt: skip


def _frequencies(values: list[float], out: Tensor | None, dtype: Any, device: Any, requires_grad: bool) -> Tensor:
    from .._creation import get_default_dtype, tensor

    result = tensor(values, dtype=dtype if dtype is not None else get_default_dtype(), device=device)
    if out is not None:
        return out.resize_(result.shape).copy_(result)
    return result.requires_grad_(requires_grad)


def fftfreq(
    n: int, d: float = 1.0, *, out: Tensor | None = None, dtype: Any = None, layout: Any = None, device: Any = None,
    requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """The sample frequencies of an n-point transform with spacing d: ``[0, 1, ..., -2, -1] / (d * n)``."""
    values = [(k if k <= (n - 1) // 2 else k - n) / (d * n) for k in range(n)]
    return _frequencies(values, out, dtype, device, requires_grad)


def rfftfreq(
    n: int, d: float = 1.0, *, out: Tensor | None = None, dtype: Any = None, layout: Any = None, device: Any = None,
    requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """The non-negative sample frequencies of an n-point real transform: ``[0, 1, ..., n // 2] / (d * n)``."""
    return _frequencies([k / (d * n) for k in range(n // 2 + 1)], out, dtype, device, requires_grad)


def _shifted(input: Tensor, dim: int | Sequence[int] | None, half: Callable[[int], int]) -> Tensor:
    dims = list(range(input.dim())) if dim is None else [dim] if isinstance(dim, int) else list(dim)
    if not dims:
        return input.clone()
    return input.roll([half(input.size(d)) for d in dims], dims)


def fftshift(input: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:
    """input rolled so the zero frequency is in the middle of each of ``dim`` (all dims by default)."""
    return _shifted(input, dim, lambda size: size // 2)


def ifftshift(input: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:
    """The inverse of fftshift."""
    return _shifted(input, dim, lambda size: -(size // 2))
