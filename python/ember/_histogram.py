"""Counting: bincount, histc and histogram, as torch's (no gradient).

Each reduces to one index_add of ones (or weights) into the bins, so they run
as ember kernels, not Python loops.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _C, return_types
from ._C import Tensor
from ._composite_shape import _out
from ._creation import _device_of, linspace, ones_like, tensor, zeros
from ._dtype_info import _scalar_name
from .grad_mode import no_grad

__all__ = ["bincount", "histc", "histogram", "histogramdd"]

histogram_result = return_types.histogram


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """How often each non-negative integer occurs in 1-D input (or the sum of its weights)."""
    if input.dim() != 1 or input.is_floating_point() or (input.numel() and int(input.min()) < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if weights is not None and weights.shape != input.shape:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    with no_grad():
        n = max(int(input.max()) + 1 if input.numel() else 0, minlength)
        index = input.long()
        device = _device_of(input)
        if weights is None:
            return zeros(n, dtype=_C.dtype.int64, device=device).index_add_(0, index, ones_like(index))
        dtype = weights.dtype if weights.is_floating_point() else _C.dtype.float64
        return zeros(n, dtype=dtype, device=device).index_add_(0, index, weights.to(dtype))


def _bin_counts(input: Tensor, edges_low: float, edges_high: float, bins: int, weight: Tensor | None) -> Tensor:
    """Counts (or weights) of input's values in `bins` equal bins of [low, high]; the top edge belongs to the last."""
    x = input.reshape(-1).double()
    inside = (x >= edges_low) & (x <= edges_high)
    w = weight.reshape(-1).double() if weight is not None else ones_like(x)
    x, w = x[inside], w[inside]
    width = (edges_high - edges_low) / bins
    index = ((x - edges_low) / width).floor().long().clamp(0, bins - 1)
    return zeros(bins, dtype=_C.dtype.float64, device=_device_of(x)).index_add_(0, index, w)


def _data_range(input: Tensor, low: float, high: float) -> tuple[float, float]:
    """PyTorch's rule: min == max means the data's range; an empty range widens by 1 on each side."""
    if low == high and input.numel():
        low, high = float(input.min()), float(input.max())
    if low == high:
        low, high = low - 1, high + 1
    return low, high


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0, *, out: Tensor | None = None) -> Tensor:  # noqa: A002  (PyTorch's parameter names)
    """A histogram of `bins` equal bins between min and max (the data's range when they are equal)."""
    if not input.is_floating_point():
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for '{_scalar_name(input.dtype)}'")
    if bins <= 0:
        raise RuntimeError(f"torch.histc(): bins must be > 0, but got {bins} for dimension 0")
    if min > max:
        raise RuntimeError("torch.histc(): max must be larger than min")
    with no_grad():
        low, high = _data_range(input, float(min), float(max))
        r = _bin_counts(input, low, high, bins, None).to(input.dtype)
    return _out(out, r, "histc")


def histogram(
    input: Tensor,
    bins: int | Tensor | Sequence[float] = 100,
    *,
    range: tuple[float, float] | None = None,  # noqa: A002  (PyTorch's parameter name)
    weight: Tensor | None = None,
    density: bool = False,
    out: tuple[Tensor, Tensor] | None = None,
) -> tuple[Tensor, Tensor]:
    """(hist, bin_edges): counts (or weights) of input's values in the bins, equal bins over range, or the
    given edges; density=True divides by the total and the bin widths."""
    if not input.is_floating_point():
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for '{_scalar_name(input.dtype)}'")
    with no_grad():
        if isinstance(bins, int):
            low, high = _data_range(input, *(range if range is not None else (0.0, 0.0)))
            edges = linspace(low, high, bins + 1, dtype=input.dtype, device=_device_of(input))
            hist = _bin_counts(input, low, high, bins, weight)
        else:
            edges = (
                bins if isinstance(bins, Tensor) else tensor(list(bins), dtype=input.dtype, device=_device_of(input))
            )
            x = input.reshape(-1).double()
            e = edges.double()
            w = weight.reshape(-1).double() if weight is not None else ones_like(x)
            inside = (x >= e[0]) & (x <= e[-1])
            x, w = x[inside], w[inside]
            index = (_C.searchsorted(e.contiguous(), x, right=True) - 1).clamp(0, e.numel() - 2)
            hist = zeros(e.numel() - 1, dtype=_C.dtype.float64, device=_device_of(x)).index_add_(0, index, w)
        if density:
            widths = edges.double()[1:] - edges.double()[:-1]
            hist = hist / (hist.sum() * widths)
        result = histogram_result(hist.to(input.dtype), edges.to(input.dtype))
    if out is not None:
        out[0].copy_(result.hist)
        out[1].copy_(result.bin_edges)
        return histogram_result(*out)
    return result


_histogramdd_result = return_types.histogramdd


def histogramdd(
    input: Tensor,
    bins: int | Sequence[int] | Sequence[Tensor] = 10,
    *,
    range: Sequence[float] | None = None,  # noqa: A002  (PyTorch's parameter name)
    weight: Tensor | None = None,
    density: bool = False,
) -> tuple[Tensor, tuple[Tensor, ...]]:
    """(hist, bin_edges): the D-dimensional histogram of the points in input's rows (its last dim is D):
    ``bins`` a count for every dim, a count per dim, or edges per dim; ``range`` (min0, max0, min1, ...)."""
    if not input.is_floating_point():
        raise NotImplementedError(f"\"histogramdd_cpu\" not implemented for '{_scalar_name(input.dtype)}'")
    if input.dim() < 2:
        raise RuntimeError("torch.histogramdd: input tensor should have at least 2 dimensions")
    # numpy counts on the host; the results go back to input's device
    points = input.detach().reshape(-1, input.shape[-1]).double().cpu().numpy()
    dims = points.shape[1]
    if isinstance(bins, int):
        np_bins: Any = [bins] * dims
    else:
        np_bins = [b.detach().double().cpu().numpy() if isinstance(b, Tensor) else b for b in bins]
        if len(np_bins) != dims:
            raise RuntimeError(
                f"histogramdd: The size of bins must be equal to the innermost dimension of the input. "
                f"Got {len(np_bins)} and {dims}"
            )
    np_range = None if range is None else [(range[2 * d], range[2 * d + 1]) for d in builtins.range(dims)]
    w = None if weight is None else weight.detach().reshape(-1).double().cpu().numpy()
    hist, edges = np.histogramdd(points, bins=np_bins, range=np_range, weights=w, density=density)
    device = _device_of(input)
    return _histogramdd_result(
        tensor(hist, dtype=input.dtype, device=device),
        tuple(tensor(e, dtype=input.dtype, device=device) for e in edges),
    )


_METHODS = {"bincount": bincount, "histc": histc, "histogram": histogram}


def install() -> None:
    """Attaches bincount, histc and histogram as Tensor methods."""
    for name, fn in _METHODS.items():
        setattr(Tensor, name, fn)
