"""Pooling over 1, 2 and 3 spatial dims: max, average, power-average (Lp) and adaptive.

Only max_pool2d without indices is a C++ op. The rest are compositions of differentiable ember ops:

- windowed max (with indices, 3-D, adaptive): a loop over the kernel offsets keeps a running max and its flat
  index (PyTorch's tie and NaN rules) without a graph; the values are then gathered at those indices, so the
  gradient is a scatter to exactly those elements;
- average pooling: a window sum is a depthwise convolution with a ones kernel (the C++ conv2d), divided by a
  constant table of window sizes (count_include_pad, ceil_mode's clipped windows, divisor_override);
- adaptive average pooling: one (out, in) averaging matrix per spatial dim, applied with matmul;
- max unpooling: scatter_add of the values at their indices into a zero plane.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .. import _C
from .._creation import _device_of, ones, rand, tensor, zeros
from ..grad_mode import no_grad
from . import functional as F  # F.pad, looked up at call time (functional imports this module)
from ._functional_conv import _conv_batched, _index, _ntuple, _pad_spec

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .._C import Tensor

__all__ = [
    "max_pool1d",
    "max_pool2d",
    "max_pool3d",
    "avg_pool1d",
    "avg_pool2d",
    "avg_pool3d",
    "lp_pool1d",
    "lp_pool2d",
    "lp_pool3d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "adaptive_max_pool3d",
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_avg_pool3d",
    "max_pool1d_with_indices",
    "max_pool2d_with_indices",
    "max_pool3d_with_indices",
    "adaptive_max_pool1d_with_indices",
    "adaptive_max_pool2d_with_indices",
    "adaptive_max_pool3d_with_indices",
    "max_unpool1d",
    "max_unpool2d",
    "max_unpool3d",
    "fractional_max_pool2d",
    "fractional_max_pool3d",
    "fractional_max_pool2d_with_indices",
    "fractional_max_pool3d_with_indices",
]


def _pool_out_size(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's pooling_output_shape: with ceil_mode the last window may hang over the end, but it must start
    inside the input or its left padding."""
    out = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _check_dims(name: str, input: Tensor, nd: int) -> None:
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"{name}: Expected {nd + 1}D or {nd + 2}D (batch mode) tensor for input, but got: {list(input.shape)}"
        )


def _pool_geometry(name, input, nd, kernel_size, stride, padding, dilation, ceil_mode):
    """Checks the options as PyTorch's pool shape check; returns (kernel, stride, padding, dilation, out sizes)."""
    _check_dims(name, input, nd)
    k = _ntuple(kernel_size, nd)
    s = k if stride is None or (not isinstance(stride, int) and len(stride) == 0) else _ntuple(stride, nd)
    p, d = _ntuple(padding, nd), _ntuple(dilation, nd)
    if not len(k) == len(s) == len(p) == len(d) == nd:
        raise RuntimeError(f"{name}: kernel_size, stride, padding and dilation must have {nd} elements each")
    if any(v <= 0 for v in k):
        raise RuntimeError(f"{name}: kernel size should be greater than zero, but got kernel_size={k}")
    if any(v <= 0 for v in s):
        raise RuntimeError(f"{name}: stride should be greater than zero, but got stride={s}")
    if any(v <= 0 for v in d):
        raise RuntimeError(f"{name}: dilation should be greater than zero, but got dilation={d}")
    for ki, pi, di in zip(k, p, d):
        if pi < 0 or pi > ((ki - 1) * di + 1) // 2:
            raise RuntimeError(
                f"pad should be at most half of effective kernel size, but got pad={pi}, kernel_size={ki} and "
                f"dilation={di}"
            )
    sizes = input.shape[-nd:]
    too_small = any(0 < size < ki for size, ki in zip(sizes, k))
    if name == "avg_pool3d" and too_small:  # PyTorch's check, padding or not (an empty dim is another error)
        raise RuntimeError(
            "input image (T: {} H: {} W: {}) smaller than kernel size (kT: {} kH: {} kW: {})".format(*sizes, *k)
        )
    outs = [_pool_out_size(*args, ceil_mode) for args in zip(sizes, k, s, p, d)]
    if any(o < 1 for o in outs):
        channels = input.shape[-nd - 1]
        if nd == 1:  # PyTorch pools 1-D as a height-1 image, and says so
            sizes, outs = [1, *sizes], [1, *outs]
        raise RuntimeError(
            f"Given input size: ({'x'.join(map(str, [channels, *sizes]))}). Calculated output size: "
            f"({'x'.join(map(str, [channels, *outs]))}). Output size is too small"
        )
    return k, s, p, d, outs


def _take_positions(x: Tensor, dim: int, column: np.ndarray, size: int, pad: int) -> Tensor:
    """x's elements at input positions `column` along dim, x being the input padded by `pad` in front along dim:
    a strided view when the positions are evenly spaced inside x (regular pooling), else an index_select of the
    positions clipped into the input (padding positions are masked out by the caller)."""
    start = int(column[0]) + pad
    step = int(column[1] - column[0]) if len(column) > 1 else 1
    last = start + step * (len(column) - 1)
    evenly_spaced = np.array_equal(np.diff(column), np.full(len(column) - 1, step))
    if evenly_spaced and step > 0 and start >= 0 and last < x.shape[dim]:
        index = [slice(None)] * x.dim()
        index[dim] = slice(start, last + 1, step)
        return x[tuple(index)]
    return x.index_select(dim, _index(np.clip(column, 0, size - 1) + pad, x))


def _window_argmax(padded: Tensor, index_per_dim: list[np.ndarray], sizes: list[int], pads: list[int]) -> Tensor:
    """(..., *out) int64 flat index into the input plane of each window's max, as PyTorch's kernels pick it: the
    first maximum in scan order, NaN beating everything (the last NaN wins).

    index_per_dim[i] is an (out_i, k_i) table of input positions along spatial dim i; positions outside
    [0, sizes[i]) are padding and never picked. `padded` is the input padded by pads[i] in front of dim i (with
    anything: padding is masked). One update per kernel offset, each elementwise over the whole output.
    """
    nd = len(index_per_dim)
    lead = padded.dim() - nd
    state = {}

    def update(candidate, position, inside):
        outs = candidate.shape[lead:]
        position = _index(np.broadcast_to(position, outs), candidate)
        inside = tensor(np.ascontiguousarray(np.broadcast_to(inside, outs)), device=candidate.device)
        if not state:
            state.update(best=candidate, argmax=position.expand(candidate.shape), found=inside.expand(candidate.shape))
            return
        best, found = state["best"], state["found"]
        better = (candidate > best).logical_or(candidate.isnan()).logical_or(found.logical_not())
        change = inside.logical_and(better)
        state["best"] = _C.where(change, candidate, best)
        state["argmax"] = _C.where(change, position, state["argmax"])
        state["found"] = found.logical_or(inside)

    def visit(x, dim, position, inside):
        """Walks the kernel offsets dim by dim in scan order, reusing the selection along the earlier dims."""
        if dim == nd:
            update(x, position, inside)
            return
        table, size = index_per_dim[dim], sizes[dim]
        shape = [1] * nd
        shape[dim] = -1
        for j in range(table.shape[1]):
            column = table[:, j]
            inside_j = ((column >= 0) & (column < size)).reshape(shape)
            clipped = np.clip(column, 0, size - 1).reshape(shape)
            taken = _take_positions(x, lead + dim, column, size, pads[dim])
            visit(taken, dim + 1, position * size + clipped, inside & inside_j)

    with no_grad():
        visit(padded.detach(), 0, np.zeros((), dtype=np.int64), np.ones((), dtype=bool))
    return state["argmax"]


def _windowed_max(input: Tensor, index_per_dim: list[np.ndarray], return_indices: bool, pads=None):
    """The window maxima (and their indices): the argmax found without a graph, the values gathered at it, so
    that the gradient goes to exactly the element PyTorch picks. pads: zero padding (low, high) per dim that lets
    regular windows be strided views."""
    nd = len(index_per_dim)
    lead = input.shape[: input.dim() - nd]
    sizes = list(input.shape[len(lead) :])
    padded = input if pads is None else F.pad(input, _pad_spec([lo for lo, _ in pads], [hi for _, hi in pads]))
    indices = _window_argmax(padded, index_per_dim, sizes, [0] * nd if pads is None else [lo for lo, _ in pads])
    outs = indices.shape[len(lead) :]
    values = input.reshape(*lead, -1).gather(-1, indices.reshape(*lead, -1)).reshape(*lead, *outs)
    return (values, indices) if return_indices else values


def _max_pool1d_values(input, kernel_size, stride, padding, dilation, ceil_mode):
    """max_pool1d without indices: PyTorch's own checks and words, then the C++ max_pool2d on a height-1 image."""
    if input.dim() not in (2, 3):
        raise RuntimeError(
            "max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for input, but "
            f"got:{list(input.shape)}"
        )
    (k,), (p,), (d,) = _ntuple(kernel_size, 1), _ntuple(padding, 1), _ntuple(dilation, 1)
    s = k if stride is None or (not isinstance(stride, int) and len(stride) == 0) else _ntuple(stride, 1)[0]
    for what, value in (("kernel_size", k), ("stride", s), ("dilation", d)):
        if value <= 0:
            raise RuntimeError(f"max_pool1d() {what} must be greater than zero, but got {value}")
    if p < 0:
        raise RuntimeError(f"max_pool1d() padding must be non-negative, but got {p}")
    if p > k // 2:
        raise RuntimeError(
            f"max_pool1d() padding should be at most half of kernel size, but got padding={p} and kernel_size={k}"
        )
    out = _pool_out_size(input.shape[-1], k, s, p, d, ceil_mode)
    if out < 1:
        raise RuntimeError(f"max_pool1d() Invalid computed output size: {out}")
    return _C.max_pool2d(input.unsqueeze(-2), (1, k), (1, s), (0, p), (1, d), ceil_mode).squeeze(-2)


def _max_pool(name, input, nd, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    if nd == 1 and not return_indices:
        return _max_pool1d_values(input, kernel_size, stride, padding, dilation, ceil_mode)
    k, s, p, d, outs = _pool_geometry(name, input, nd, kernel_size, stride, padding, dilation, ceil_mode)
    # Input positions of each window's elements; those outside the input are padding (or ceil_mode's overhang).
    index = [
        np.arange(o)[:, None] * si + np.arange(ki)[None, :] * di - pi for o, ki, si, di, pi in zip(outs, k, s, d, p)
    ]
    high = [max(int(ix.max()) + 1 - size, 0) for ix, size in zip(index, input.shape[-nd:])]
    return _windowed_max(input, index, return_indices, pads=list(zip(p, high)))


def max_pool1d(
    input: Tensor,
    kernel_size: int | tuple[int],
    stride: int | tuple[int] | None = None,
    padding: int | tuple[int] = 0,
    dilation: int | tuple[int] = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """Applies a 1-D max pooling over an input (N, C, L) or (C, L); stride defaults to kernel_size.
    With return_indices, also returns the int64 index of each max within its (L,) row."""
    return _max_pool("max_pool1d", input, 1, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(
    input: Tensor,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """Applies a 2-D max pooling over an input (N, C, H, W) or (C, H, W); stride defaults to kernel_size.
    With return_indices, also returns the int64 flat index (h * W + w) of each max within its plane."""
    if not return_indices:
        return _C.max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode)
    return _max_pool("max_pool2d", input, 2, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d(
    input: Tensor,
    kernel_size: int | tuple[int, int, int],
    stride: int | tuple[int, int, int] | None = None,
    padding: int | tuple[int, int, int] = 0,
    dilation: int | tuple[int, int, int] = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """Applies a 3-D max pooling over an input (N, C, D, H, W) or (C, D, H, W); stride defaults to
    kernel_size. With return_indices, also returns the flat index (d * H * W + h * W + w) of each max."""
    return _max_pool("max_pool3d", input, 3, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _window_sizes(size, k, s, p, out, count_include_pad):
    """The divisor of each output position along one dim: the window clipped to the padded input
    (count_include_pad) or to the input itself."""
    start = np.arange(out) * s - p
    end = np.minimum(start + k, size + p)
    if count_include_pad:
        return end - start
    return np.minimum(end, size) - np.maximum(start, 0)


def _avg_pool(name, input, nd, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    k, s, p, _, outs = _pool_geometry(name, input, nd, kernel_size, stride, padding, 1, ceil_mode)
    sizes = input.shape[-nd:]
    lead = input.shape[:-nd]
    # Pad with zeros (they add nothing to a sum), far enough for ceil_mode's overhanging last window.
    high = [max((o - 1) * si + ki - (size + pi), pi) for o, si, ki, size, pi in zip(outs, s, k, sizes, p)]
    x = F.pad(input.reshape(-1, 1, *sizes), _pad_spec(p, high))
    kernel = ones(1, 1, *k, dtype=input.dtype, device=input.device)
    sums = _conv_batched(x, kernel, None, s, (0,) * nd, (1,) * nd, 1, nd).reshape(*lead, *outs)
    if divisor_override is not None:
        if divisor_override == 0:
            raise RuntimeError("divisor must be not zero")
        return sums / divisor_override
    divisor = np.ones((), dtype=np.float64)
    for i in range(nd):
        counts = _window_sizes(sizes[i], k[i], s[i], p[i], outs[i], count_include_pad)
        divisor = divisor[..., None] * counts
    return sums / tensor(divisor, dtype=input.dtype, device=input.device)


def avg_pool1d(
    input: Tensor,
    kernel_size: int | tuple[int],
    stride: int | tuple[int] | None = None,
    padding: int | tuple[int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """Applies a 1-D average pooling over an input (N, C, L) or (C, L); stride defaults to kernel_size.
    count_include_pad: whether the zero padding counts in the divisor."""
    return _avg_pool("avg_pool1d", input, 1, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(
    input: Tensor,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """Applies a 2-D average pooling over an input (N, C, H, W) or (C, H, W); stride defaults to kernel_size.
    count_include_pad: whether the zero padding counts in the divisor; divisor_override replaces the divisor."""
    return _avg_pool(
        "avg_pool2d", input, 2, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
    )


def avg_pool3d(
    input: Tensor,
    kernel_size: int | tuple[int, int, int],
    stride: int | tuple[int, int, int] | None = None,
    padding: int | tuple[int, int, int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """Applies a 3-D average pooling over an input (N, C, D, H, W) or (C, D, H, W); stride defaults to
    kernel_size. count_include_pad and divisor_override as avg_pool2d."""
    return _avg_pool(
        "avg_pool3d", input, 3, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
    )


def _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, nd):
    """PyTorch's formula: the window mean of x ** p, times the window size, to the power 1 / p (negative means
    of odd powers are kept signed and go through relu, as PyTorch)."""
    k = _ntuple(kernel_size, nd)
    out = _avg_pool(f"lp_pool{nd}d", input.pow(norm_type), nd, k, stride, 0, ceil_mode, True, None)
    return ((out.sign() * out.abs().relu()) * int(np.prod(k))).pow(1.0 / norm_type)


def lp_pool1d(
    input: Tensor, norm_type: float, kernel_size: int, stride: int | None = None, ceil_mode: bool = False
) -> Tensor:
    """Applies a 1-D power-average pooling: (sum over the window of x ** p) ** (1 / p), p = norm_type."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 1)


def lp_pool2d(
    input: Tensor,
    norm_type: float,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    ceil_mode: bool = False,
) -> Tensor:
    """Applies a 2-D power-average pooling: (sum over the window of x ** p) ** (1 / p), p = norm_type."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 2)


def lp_pool3d(
    input: Tensor,
    norm_type: float,
    kernel_size: int | tuple[int, int, int],
    stride: int | tuple[int, int, int] | None = None,
    ceil_mode: bool = False,
) -> Tensor:
    """Applies a 3-D power-average pooling: (sum over the window of x ** p) ** (1 / p), p = norm_type."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 3)


# ---------------------------------------------------------------------------------------------------------------------
# adaptive pooling


def _adaptive_sizes(name, input, nd, output_size):
    if input.dim() not in (nd + 1, nd + 2) or any(s == 0 for s in input.shape[-nd:]):
        raise RuntimeError(f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got {list(input.shape)}")
    outs = (output_size,) * nd if isinstance(output_size, int) or output_size is None else tuple(output_size)
    if len(outs) != nd:
        raise RuntimeError(f"{name}: output_size must be {nd}")
    # None keeps the input's size along that dim, as PyTorch.
    outs = tuple(size if o is None else int(o) for o, size in zip(outs, input.shape[-nd:]))
    if any(o < 0 for o in outs):
        raise RuntimeError(f"{name}: elements of output_size must be greater than or equal to 0 but got {outs}")
    return outs


def _bins(size, out):
    """Adaptive pooling's bins along one dim: [floor(i * size / out), ceil((i + 1) * size / out))."""
    i = np.arange(out)
    return (i * size) // out, ((i + 1) * size + out - 1) // out


def _adaptive_max(name, input, nd, output_size, return_indices):
    outs = _adaptive_sizes(name, input, nd, output_size)
    sizes = input.shape[-nd:]
    index = []
    for size, out in zip(sizes, outs):
        start, end = _bins(size, out)
        width = int((end - start).max()) if out else 1
        # Short bins repeat their last element: a duplicate never changes a max, and the first copy wins.
        index.append(np.minimum(start[:, None] + np.arange(width)[None, :], end[:, None] - 1))
    return _windowed_max(input, index, return_indices)


def _adaptive_avg(name, input, nd, output_size):
    outs = _adaptive_sizes(name, input, nd, output_size)
    if nd > 1 and all(out == 1 for out in outs):  # a global average: a mean, as PyTorch's (MeanBackward1)
        return input.mean(tuple(range(-nd, 0)), keepdim=True)
    x = input
    for i, (size, out) in enumerate(zip(input.shape[-nd:], outs)):
        start, end = _bins(size, out)
        cols = np.arange(size)[None, :]
        inside = (cols >= start[:, None]) & (cols < end[:, None])
        averaging = tensor(inside / (end - start)[:, None], dtype=input.dtype, device=input.device)  # (out, size)
        d = input.dim() - nd + i
        x = _C.matmul(x.transpose(d, -1), averaging.t()).transpose(d, -1)
    return x


def adaptive_max_pool1d(
    input: Tensor, output_size: int | tuple[int], return_indices: bool = False
) -> Tensor | tuple[Tensor, Tensor]:
    """Applies a 1-D adaptive max pooling over an input (N, C, L) or (C, L): output length output_size,
    bin i spanning [floor(i * L / out), ceil((i + 1) * L / out))."""
    return _adaptive_max("adaptive_max_pool1d", input, 1, output_size, return_indices)


def adaptive_max_pool2d(
    input: Tensor, output_size: int | tuple[int | None, int | None], return_indices: bool = False
) -> Tensor | tuple[Tensor, Tensor]:
    """Applies a 2-D adaptive max pooling over an input (N, C, H, W) or (C, H, W) to output_size (an int, or a
    pair whose None entries keep the input's size)."""
    return _adaptive_max("adaptive_max_pool2d", input, 2, output_size, return_indices)


def adaptive_max_pool3d(
    input: Tensor, output_size: int | tuple[int | None, ...], return_indices: bool = False
) -> Tensor | tuple[Tensor, Tensor]:
    """Applies a 3-D adaptive max pooling over an input (N, C, D, H, W) or (C, D, H, W) to output_size."""
    return _adaptive_max("adaptive_max_pool3d", input, 3, output_size, return_indices)


def adaptive_avg_pool1d(input: Tensor, output_size: int | tuple[int]) -> Tensor:
    """Applies a 1-D adaptive average pooling over an input (N, C, L) or (C, L): output length output_size,
    bin i spanning [floor(i * L / out), ceil((i + 1) * L / out))."""
    return _adaptive_avg("adaptive_avg_pool1d", input, 1, output_size)


def adaptive_avg_pool2d(input: Tensor, output_size: int | tuple[int | None, int | None]) -> Tensor:
    """Applies a 2-D adaptive average pooling over an input (N, C, H, W) or (C, H, W) to output_size (an int,
    or a pair whose None entries keep the input's size)."""
    return _adaptive_avg("adaptive_avg_pool2d", input, 2, output_size)


def adaptive_avg_pool3d(input: Tensor, output_size: int | tuple[int | None, ...]) -> Tensor:
    """Applies a 3-D adaptive average pooling over an input (N, C, D, H, W) or (C, D, H, W) to output_size."""
    return _adaptive_avg("adaptive_avg_pool3d", input, 3, output_size)


def _always_with_indices(pool):
    """PyTorch's *_with_indices spelling of a max pool: (values, indices) whatever return_indices says."""

    def with_indices(input, *args, return_indices=True, **kwargs):
        return pool(input, *args, return_indices=True, **kwargs)

    with_indices.__name__ = with_indices.__qualname__ = f"{pool.__name__}_with_indices"
    with_indices.__doc__ = f"{pool.__name__}(..., return_indices=True): returns (values, int64 indices)."
    return with_indices


max_pool1d_with_indices = _always_with_indices(max_pool1d)
max_pool2d_with_indices = _always_with_indices(max_pool2d)
max_pool3d_with_indices = _always_with_indices(max_pool3d)
adaptive_max_pool1d_with_indices = _always_with_indices(adaptive_max_pool1d)
adaptive_max_pool2d_with_indices = _always_with_indices(adaptive_max_pool2d)
adaptive_max_pool3d_with_indices = _always_with_indices(adaptive_max_pool3d)


# ---------------------------------------------------------------------------------------------------------------------
# max unpooling


def _max_unpool(input, indices, kernel_size, stride, padding, output_size, nd):
    k = _ntuple(kernel_size, nd)
    s = k if stride is None else _ntuple(stride, nd)
    p = _ntuple(padding, nd)
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"max_unpool{nd}d: Expected {nd + 1}D or {nd + 2}D input, but got {list(input.shape)}")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(
            f"Expected shape of indices to be same as that of the input tensor ({list(input.shape)}) but got "
            f"indices tensor with shape: {list(indices.shape)}"
        )
    spatial = input.shape[-nd:]
    default = [(spatial[i] - 1) * s[i] + k[i] - 2 * p[i] for i in range(nd)]
    if output_size is None:
        sizes = default
    else:
        sizes = output_size[2:] if len(output_size) == nd + 2 else output_size
        if len(sizes) != nd:
            raise ValueError(
                f"output_size should be a sequence containing {nd} or {nd + 2} elements, but it has a length of "
                f"'{len(sizes)}'"
            )
        for d in range(nd):
            low, high = default[d] - s[d], default[d] + s[d]
            if not low < sizes[d] < high:
                raise ValueError(f'invalid output_size "{sizes}" (dim {d} must be between {low} and {high})')
        sizes = [int(v) for v in sizes]
    plane = int(np.prod(sizes))
    if indices.numel() and (int(indices.max().item()) >= plane or int(indices.min().item()) < 0):
        bad = int(indices.max().item()) if int(indices.max().item()) >= plane else int(indices.min().item())
        raise RuntimeError(
            f"Found an invalid max index: {bad} (output volumes are of size {'x'.join(map(str, sizes))})"
        )
    lead = input.shape[:-nd]
    rows = int(np.prod(lead))
    out = zeros(rows, plane, dtype=input.dtype, device=_device_of(input))
    # scatter_add: overlapping windows that picked the same element add up (PyTorch keeps one of them).
    out = out.scatter_add(1, indices.reshape(rows, -1), input.reshape(rows, -1))
    return out.reshape(*lead, *sizes)


def max_unpool1d(
    input: Tensor,
    indices: Tensor,
    kernel_size: int | tuple[int],
    stride: int | tuple[int] | None = None,
    padding: int | tuple[int] = 0,
    output_size: Sequence[int] | None = None,
) -> Tensor:
    """The partial inverse of max_pool1d: each value of input put back at its index (from max_pool1d's
    return_indices) in a zero (N, C, L_out); L_out = (L - 1) * stride - 2 * padding + kernel_size or output_size."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 1)


def max_unpool2d(
    input: Tensor,
    indices: Tensor,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    output_size: Sequence[int] | None = None,
) -> Tensor:
    """The partial inverse of max_pool2d: each value of input put back at its flat index (from max_pool2d's
    return_indices) in a zero (N, C, H_out, W_out)."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 2)


def max_unpool3d(
    input: Tensor,
    indices: Tensor,
    kernel_size: int | tuple[int, int, int],
    stride: int | tuple[int, int, int] | None = None,
    padding: int | tuple[int, int, int] = 0,
    output_size: Sequence[int] | None = None,
) -> Tensor:
    """The partial inverse of max_pool3d: each value of input put back at its flat index in a zero volume."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 3)


# ---------------------------------------------------------------------------------------------------------------------
# fractional max pooling


def _fractional_intervals(samples: np.ndarray, input_size: int, output_size: int, pool_size: int) -> np.ndarray:
    """PyTorch's generate_intervals for every plane at once: window starts (..., output_size) from samples (...,)
    in [0, 1). Computed in the input's floating type (samples' dtype), as PyTorch's scalar_t, so the int
    truncations and hence the windows agree exactly."""
    dtype = samples.dtype.type
    i = np.arange(output_size, dtype=samples.dtype)
    seq = np.zeros((*samples.shape, output_size), dtype=np.int64)
    if output_size > 1:
        alpha = dtype(input_size - pool_size) / dtype(output_size - 1)
        u = samples[..., None]
        seq = ((i + u) * alpha).astype(np.int64) - (u * alpha).astype(np.int64)
    if output_size > 0:
        seq[..., output_size - 1] = input_size - pool_size
    return seq


def _fractional_max_pool(name, input, nd, kernel_size, output_size, output_ratio, return_indices, _random_samples):
    """Max over pseudo-random windows of fixed size kernel_size: window starts per (batch, channel, dim) from
    _random_samples (N, C, nd) (fresh uniform samples when None), samples[..., j] driving spatial dim j for
    fractional_max_pool3d and samples[..., 0] the width, [..., 1] the height for fractional_max_pool2d, as
    PyTorch's kernels. The argmax (first maximum in scan order, a NaN wins) is found in numpy without a graph,
    and the values are gathered at it so the gradient goes to exactly those elements."""
    if output_size is None and output_ratio is None:
        raise ValueError(f"{name} requires specifying either an output_size or an output_ratio")
    sizes = [input.size(d) for d in range(-nd, 0)]
    if output_size is None:
        if nd == 2 and not isinstance(output_ratio, (int, float)) and len(output_ratio) > 2:
            raise ValueError(f"{name} requires output_ratio to either be a single Int or tuple of Ints.")
        ratio = tuple(output_ratio) if isinstance(output_ratio, (tuple, list)) else (output_ratio,) * nd
        output_size = [int(size * r) for size, r in zip(sizes, ratio)]
    outs = list(_ntuple(output_size, nd))
    ks = list(_ntuple(kernel_size, nd))
    batched = input.dim() == nd + 2
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: {list(input.shape)}")
    channels = input.size(-nd - 1)
    if _random_samples is None:
        n_batch = input.size(0) if batched else 1
        _random_samples = rand(n_batch, channels, nd, dtype=input.dtype, device=input.device)
    x = input if batched else input.unsqueeze(0)
    n = x.size(0)
    if _random_samples.size(0) < n:
        raise RuntimeError("Expect _random_samples.size(0) no less then input batch size.")
    words = ["height", "width"] if nd == 2 else ["time", "height", "width"]
    where = name if nd == 2 else f"{name}_out"
    for word, out, k, size in zip(words, outs, ks, sizes):
        if out + k - 1 > size:
            raise RuntimeError(f"{where}(): pool {word} {k} too large relative to input {word} {size}")
    samples = _random_samples.detach().cpu().numpy()[:n]
    # PyTorch reads the samples of a 2-D pool as (width, height), of a 3-D pool as (time, height, width).
    columns = [1, 0] if nd == 2 else [0, 1, 2]
    flat = np.zeros((n, channels, *outs, *([1] * nd)), dtype=np.int64)
    stride = 1
    for j in reversed(range(nd)):
        starts = _fractional_intervals(samples[:, :channels, columns[j]], sizes[j], outs[j], ks[j])  # (N, C, out_j)
        pos = starts[..., None] + np.arange(ks[j])  # (N, C, out_j, k_j)
        shape = [n, channels] + [1] * (2 * nd)
        shape[2 + j], shape[2 + nd + j] = outs[j], ks[j]
        flat = flat + pos.reshape(shape) * stride
        stride *= sizes[j]
    flat = flat.reshape(n, channels, *outs, -1)  # the window's plane indices in scan order
    plane = x.detach().cpu().numpy().reshape(n, channels, -1)
    window = np.take_along_axis(plane, flat.reshape(n, channels, -1), axis=2).reshape(flat.shape)
    nan = np.isnan(window)
    last_nan = flat.shape[-1] - 1 - np.argmax(nan[..., ::-1], axis=-1)
    pick = np.where(nan.any(-1), last_nan, np.argmax(np.where(nan, -np.inf, window), axis=-1))
    indices_np = np.take_along_axis(flat, pick[..., None], axis=-1)[..., 0]
    indices = tensor(indices_np, device=input.device)
    values = x.reshape(n, channels, -1).gather(-1, indices.reshape(n, channels, -1)).reshape(n, channels, *outs)
    if not batched:
        values, indices = values.squeeze(0), indices.squeeze(0)
    return (values, indices) if return_indices else values


def fractional_max_pool2d(
    input: Tensor,
    kernel_size: int | tuple[int, int],
    output_size: int | tuple[int, int] | None = None,
    output_ratio: float | tuple[float, float] | None = None,
    return_indices: bool = False,
    _random_samples: Tensor | None = None,
) -> Tensor | tuple[Tensor, Tensor]:
    """Applies 2-D fractional max pooling (Graham, 2014) over input (N, C, H, W) or (C, H, W): kernel_size
    windows at pseudo-random, overlapping positions that shrink the plane to output_size (or
    int(size * output_ratio)). _random_samples (N, C, 2) in [0, 1) fixes the positions (a fresh ember.rand draw
    otherwise); indices are flat h * W + w positions in the input plane."""
    return _fractional_max_pool(
        "fractional_max_pool2d", input, 2, kernel_size, output_size, output_ratio, return_indices, _random_samples
    )


def fractional_max_pool3d(
    input: Tensor,
    kernel_size: int | tuple[int, int, int],
    output_size: int | tuple[int, int, int] | None = None,
    output_ratio: float | tuple[float, float, float] | None = None,
    return_indices: bool = False,
    _random_samples: Tensor | None = None,
) -> Tensor | tuple[Tensor, Tensor]:
    """Applies 3-D fractional max pooling over input (N, C, T, H, W) or (C, T, H, W), as fractional_max_pool2d;
    _random_samples is (N, C, 3) and indices are flat (t * H + h) * W + w positions."""
    return _fractional_max_pool(
        "fractional_max_pool3d", input, 3, kernel_size, output_size, output_ratio, return_indices, _random_samples
    )


fractional_max_pool2d_with_indices = _always_with_indices(fractional_max_pool2d)
fractional_max_pool3d_with_indices = _always_with_indices(fractional_max_pool3d)
