"""Resampling: interpolate (and the deprecated upsample*), pixel_shuffle / pixel_unshuffle, affine_grid and
grid_sample, composed from differentiable ember ops.

interpolate is separable: each spatial dim is resampled in turn as a weighted sum of a few index_select
"taps" (1 for nearest, 2 for linear, 4 for cubic), whose indices and weights are constant tables computed with
numpy in the input's precision by PyTorch's CPU formulas (so that a float32 input picks the same neighbours as
PyTorch). grid_sample gathers the corners of each sample point with gather; its weights are differentiable in
the grid, so gradients flow to both the input and the grid.
"""

from __future__ import annotations

import itertools
import math
import warnings
from typing import TYPE_CHECKING

import numpy as np

from .. import _C
from .._creation import _device_of, linspace, ones, tensor
from ..grad_mode import no_grad
from ._functional_conv import _index
from ._functional_pool import _adaptive_avg

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .._C import Tensor

__all__ = [
    "interpolate",
    "upsample",
    "upsample_nearest",
    "upsample_bilinear",
    "pixel_shuffle",
    "pixel_unshuffle",
    "channel_shuffle",
    "native_channel_shuffle",
    "affine_grid",
    "grid_sample",
]

_MODE_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
_ALL_MODES = "nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact"


def _opmath(input: Tensor) -> type:
    """The numpy type PyTorch's CPU kernels compute source positions in: float for float32, double for double."""
    return np.float64 if input.dtype == _C.dtype.float64 else np.float32


def _scale(in_size: int, out_size: int, scale: float | None, align_corners: bool, t: type):
    """PyTorch's area_pixel_compute_scale: output-to-input step along one dim."""
    if align_corners:
        return t(in_size - 1) / t(out_size - 1) if out_size > 1 else t(0)
    if scale is not None and scale > 0:
        return t(1.0 / scale)
    return t(in_size) / t(out_size)


def _taps(mode, in_size, out_size, scale, align_corners, t):
    """[(index (out,), weight (out,) or None)] of one dim: out[i] = sum_j x[index_j[i]] * weight_j[i]."""
    dst = np.arange(out_size)
    if mode == "nearest":
        if out_size == in_size:
            return [(dst, None)]
        if out_size == 2 * in_size:
            return [(dst >> 1, None)]
        s = _scale(in_size, out_size, scale, False, np.float32)  # PyTorch: always float here
        return [(np.minimum(np.floor(dst.astype(np.float32) * s).astype(np.int64), in_size - 1), None)]
    if mode == "nearest-exact":
        s = _scale(in_size, out_size, scale, False, np.float32)
        src = np.float32((dst + 0.5) * np.float64(s))
        return [(np.minimum(np.floor(src).astype(np.int64), in_size - 1), None)]
    s = _scale(in_size, out_size, scale, align_corners, t)
    if align_corners:
        src = s * dst.astype(t)
    else:
        src = s * (dst.astype(t) + t(0.5)) - t(0.5)
    if mode == "cubic":
        i0 = np.floor(src).astype(np.int64)
        frac = (src - i0).astype(t)
        a = t(-0.75)

        def near(x):  # |x| <= 1
            return ((a + 2) * x - (a + 3)) * x * x + 1

        def far(x):  # 1 < |x| < 2
            return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

        weights = [far(frac + 1), near(frac), near(1 - frac), far(2 - frac)]
        return [(np.clip(i0 - 1 + j, 0, in_size - 1), w) for j, w in enumerate(weights)]
    src = np.maximum(src, t(0))  # linear: a source before the first centre reads the first element
    i0 = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    lam = np.clip(src - i0, 0, 1).astype(t)
    i1 = np.minimum(i0 + 1, in_size - 1)
    return [(i0, (1 - lam).astype(t)), (i1, lam)]


def _antialias_taps(kind, in_size, out_size, scale, align_corners, t):
    """Taps of antialiased linear / cubic resampling (PIL's, as PyTorch's antialias=True): when shrinking, the
    filter is stretched by the scale so that every input pixel contributes; weights normalised to sum to 1."""
    s = _scale(in_size, out_size, scale, align_corners, np.float64)
    width, filt = (1.0, _triangle) if kind == "linear" else (2.0, _keys_cubic)
    support = width * s if s >= 1.0 else width
    inv = 1.0 / s if s >= 1.0 else 1.0
    centre = s * (np.arange(out_size) + 0.5)  # align_corners changes the scale only
    start = np.maximum((centre - support + 0.5).astype(np.int64), 0)
    stop = np.minimum((centre + support + 0.5).astype(np.int64), in_size)
    taps = int((stop - start).max())
    offsets = np.arange(taps)[None, :]
    weights = filt((start[:, None] + offsets - centre[:, None] + 0.5) * inv) * (offsets < (stop - start)[:, None])
    weights = weights / weights.sum(axis=1, keepdims=True)
    index = np.minimum(start[:, None] + offsets, in_size - 1)
    return [(index[:, j], weights[:, j].astype(t)) for j in range(taps)]


def _triangle(x):
    return np.maximum(1.0 - np.abs(x), 0.0)


def _keys_cubic(x, a=-0.5):
    x = np.abs(x)
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return np.where(x < 1, near, np.where(x < 2, far, 0.0))


def _resample_dim(x: Tensor, dim: int, taps) -> Tensor:
    shape = [1] * x.dim()
    shape[dim] = -1
    out = None
    for index, weight in taps:
        term = x.index_select(dim, _index(index, x))
        if weight is not None:
            term = term * tensor(weight, dtype=x.dtype, device=x.device).reshape(shape)
        out = term if out is None else out + term
    return out


def _output_sizes(input, size, scale_factor, recompute_scale_factor, nd):
    """(output sizes, scales handed to the kernel) as torch.nn.functional.interpolate computes them."""
    spatial = list(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        sizes = [size] * nd if isinstance(size, int) else list(size)
        if len(sizes) != nd:
            raise ValueError(
                "Input and output must have the same number of spatial dimensions, but got input with spatial "
                f"dimensions of {spatial} and output size of {size}. Please provide input tensor in (N, C, "
                "d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) format."
            )
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
        return [int(s) for s in sizes], [None] * nd
    if scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    scales = [float(scale_factor)] * nd if isinstance(scale_factor, (int, float)) else list(scale_factor)
    if len(scales) != nd:
        raise ValueError(
            "Input and scale_factor must have the same number of spatial dimensions, but got input with spatial "
            f"dimensions of {spatial} and scale_factor of shape {list(scales)}. Please provide input tensor in (N, "
            "C, d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) format."
        )
    sizes = [math.floor(float(n) * s) for n, s in zip(spatial, scales)]
    # recompute_scale_factor=True: the kernel derives the step from the sizes, not from the given factors.
    return sizes, [None] * nd if recompute_scale_factor else [float(s) for s in scales]


def interpolate(
    input: Tensor,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Down/up samples input (N, C, *spatial) to size or by scale_factor.

    Modes: 'nearest' (PyTorch's legacy floor rule), 'nearest-exact' (pixel centres), 'linear' (3-D input),
    'bilinear' / 'bicubic' (4-D), 'trilinear' (5-D), 'area' (adaptive average pooling). align_corners (linear
    modes only, default False) maps the corner pixels' centres onto each other. antialias (bilinear and bicubic)
    low-pass filters when downsampling, as PIL.
    """
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError(
                "align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | "
                "trilinear"
            )
    elif align_corners is None:
        align_corners = False
    nd = input.dim() - 2
    if mode not in _MODE_DIMS and mode not in ("nearest", "area", "nearest-exact"):
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.dim()}D) for the modes: "
            f"{_ALL_MODES} (got {mode})"
        )
    if nd not in (1, 2, 3):
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.dim()}D) for the modes: "
            f"{_ALL_MODES} (got {mode})"
        )
    if mode in _MODE_DIMS and _MODE_DIMS[mode] != nd:
        raise NotImplementedError(f"Got {input.dim()}D input, but {mode} mode needs {_MODE_DIMS[mode] + 2}D input")
    sizes, scales = _output_sizes(input, size, scale_factor, recompute_scale_factor, nd)
    if antialias and not (mode in ("bilinear", "bicubic") and nd == 2):
        raise ValueError(
            "Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires a 4-D tensor as input"
        )
    if any(s <= 0 for s in list(input.shape[2:]) + sizes):
        raise RuntimeError(
            f"Input and output sizes should be greater than 0, but got input {list(input.shape[2:])} output {sizes}"
        )
    if mode == "area":
        return _adaptive_avg(f"adaptive_avg_pool{nd}d", input, nd, sizes)
    kind = {"bilinear": "linear", "trilinear": "linear", "bicubic": "cubic"}.get(mode, mode)
    t = _opmath(input)
    # half floats sum their taps in float32 and round once, as PyTorch's kernels (1 ulp off in a quarter of a
    # bfloat16 linear upsampling when each product and sum rounded)
    widen = kind in ("linear", "cubic") and input.dtype in (_C.dtype.float16, _C.dtype.bfloat16)
    x = input.float() if widen else input
    taps = _antialias_taps if antialias else _taps
    for i in range(nd):
        x = _resample_dim(x, 2 + i, taps(kind, input.shape[2 + i], sizes[i], scales[i], align_corners, t))
    return x.to(input.dtype) if widen else x


def upsample(
    input: Tensor,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
) -> Tensor:
    """Deprecated alias of interpolate (warns, as PyTorch)."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(
    input: Tensor, size: int | Sequence[int] | None = None, scale_factor: float | None = None
) -> Tensor:
    """Deprecated: interpolate(input, size, scale_factor, mode='nearest') (warns, as PyTorch)."""
    warnings.warn(
        "`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2
    )
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(
    input: Tensor, size: int | Sequence[int] | None = None, scale_factor: float | None = None
) -> Tensor:
    """Deprecated: interpolate(input, size, scale_factor, mode='bilinear', align_corners=True) (warns)."""
    warnings.warn(
        "`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2
    )
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---------------------------------------------------------------------------------------------------------------------
# pixel shuffle


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """Rearranges (*, C * r^2, H, W) into (*, C, H * r, W * r), r = upscale_factor (sub-pixel convolution)."""
    if input.dim() < 3:
        raise RuntimeError(
            f"pixel_shuffle expects input to have at least 3 dimensions, but got input with {input.dim()} dimension(s)"
        )
    r = upscale_factor
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    *lead, c, h, w = input.shape
    if c % (r * r) != 0:
        raise RuntimeError(
            "pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of upscale_factor, "
            f"but input.size(-3)={c} is not divisible by {r * r}"
        )
    n = len(lead)
    x = input.reshape(*lead, c // (r * r), r, r, h, w)
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)  # (*, C, H, r, W, r)
    return x.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """Rearranges (*, C, H * r, W * r) into (*, C * r^2, H, W), r = downscale_factor: pixel_shuffle's inverse."""
    if input.dim() < 3:
        raise RuntimeError(
            "pixel_unshuffle expects input to have at least 3 dimensions, but got input with "
            f"{input.dim()} dimension(s)"
        )
    r = downscale_factor
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    *lead, c, h, w = input.shape
    for name, size, dim in (("height", h, -2), ("width", w, -1)):
        if size % r != 0:
            raise RuntimeError(
                f"pixel_unshuffle expects {name} to be divisible by downscale_factor, but input.size({dim})={size} "
                f"is not divisible by {r}"
            )
    n = len(lead)
    x = input.reshape(*lead, c, h // r, r, w // r, r)
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)  # (*, C, r, r, H, W)
    return x.reshape(*lead, c * r * r, h // r, w // r)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """Interleaves the channels of (N, C, *) across groups (ShuffleNet): channel g * (C / groups) + i moves to
    i * groups + g."""
    if input.dim() <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with sizes {list(input.shape)}")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{groups}")
    n, c, *rest = input.shape
    if c % groups != 0:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels and {groups} groups.")
    return input.reshape(n, groups, c // groups, *rest).transpose(1, 2).reshape(input.shape)


native_channel_shuffle = channel_shuffle  # PyTorch's other name for it


# ---------------------------------------------------------------------------------------------------------------------
# spatial transformers


def _grid_alignment_default(align_corners):
    if align_corners is None:
        warnings.warn(
            "Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. Please "
            "specify align_corners=True if the old behavior is desired. See the documentation of grid_sample for "
            "details.",
            stacklevel=3,
        )
        return False
    return align_corners


def _base_coordinates(steps: int, align_corners: bool, dtype, device=None) -> Tensor:
    """Normalised [-1, 1] coordinates of `steps` pixels: their centres, or their corners with align_corners."""
    if steps <= 1:
        return tensor([0.0], dtype=dtype, device=device)
    coords = linspace(-1, 1, steps, dtype=dtype, device=device)
    return coords if align_corners else coords * ((steps - 1) / steps)


def affine_grid(theta: Tensor, size: Sequence[int], align_corners: bool | None = None) -> Tensor:
    """The sampling grid (N, H, W, 2) (or (N, D, H, W, 3)) of a batch of affine matrices theta (N, 2, 3)
    (or (N, 3, 4)) for an output of size (N, C, H, W) (or (N, C, D, H, W)); the grid's last dim is (x, y[, z])."""
    align_corners = _grid_alignment_default(align_corners)
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    given, size = size, list(size)
    if len(size) == 4:
        if theta.dim() != 3 or tuple(theta.shape[-2:]) != (2, 3):
            raise ValueError(
                f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {given}. Got {theta.shape}."
            )
    elif len(size) == 5:
        if theta.dim() != 3 or tuple(theta.shape[-2:]) != (3, 4):
            raise ValueError(
                f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {given}. Got {theta.shape}."
            )
    else:
        raise NotImplementedError(
            "affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, respectively. "
            f"Got size {given}."
        )
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {given}")
    if align_corners and min(size[2:]) == 1:
        warnings.warn(
            "Since version 1.3.0, affine_grid behavior has changed for unit-size grids when align_corners=True. "
            "This is not an intended use case of affine_grid. See the documentation of affine_grid for details.",
            stacklevel=2,
        )
    spatial = size[2:]
    # (*spatial, nd + 1) homogeneous coordinates (x, y[, z], 1): x runs along the last dim.
    device = _device_of(theta)
    axes = [_base_coordinates(s, align_corners, theta.dtype, device) for s in spatial]
    columns = []
    for i in range(len(spatial)):
        view = [1] * len(spatial)
        view[len(spatial) - 1 - i] = -1
        columns.append(axes[len(spatial) - 1 - i].reshape(view).expand(*spatial))
    columns.append(ones(*spatial, dtype=theta.dtype, device=device))
    base = _C.stack(columns, -1).reshape(1, -1, len(spatial) + 1)
    grid = base.matmul(theta.transpose(1, 2))  # (N, prod(spatial), nd)
    return grid.reshape(size[0], *spatial, len(spatial))


def _floor(x: Tensor) -> Tensor:
    """floor of a tensor, outside autograd (grid positions: no gradient flows through them)."""
    return x.detach().floor()


def _round_half_even(x: Tensor) -> Tensor:
    """std::nearbyint, as PyTorch's nearest grid_sample: halves go to the even neighbour."""
    with no_grad():
        r = _floor(x + 0.5)
        tie_to_odd = ((r - x) == 0.5).logical_and(r.remainder(2) == 1)
        return _C.where(tie_to_odd, r - 1, r)


def _reflect(coord: Tensor, twice_low: int, twice_high: int) -> Tensor:
    """PyTorch's reflect_coordinates: coord reflected off [twice_low / 2, twice_high / 2] until inside."""
    if twice_low == twice_high:
        return coord * 0
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    coord = (coord - low).abs()
    extra = coord.fmod(span)
    flips = _floor(coord / span)
    return _C.where(flips.remainder(2) == 0, extra + low, span - extra + low)


def _source_coordinate(coord: Tensor, size: int, padding_mode: str, align_corners: bool) -> Tensor:
    """A normalised grid coordinate as a pixel position of an input dim of `size`, padding_mode applied."""
    if align_corners:
        coord = (coord + 1) / 2 * (size - 1)
    else:
        coord = ((coord + 1) * size - 1) / 2
    if padding_mode == "reflection":
        coord = _reflect(coord, 0, 2 * (size - 1)) if align_corners else _reflect(coord, -1, 2 * size - 1)
    if padding_mode in ("border", "reflection"):
        coord = coord.clamp(0, size - 1)
    return coord


def _tap_index(i: Tensor, size: int, padding: str, align_corners: bool) -> tuple[Tensor, Tensor]:
    """(index into [0, size), in bounds) of integer tap positions i after padding's rule for the outside."""
    if padding == "border":
        i = i.clamp(0, size - 1)
    elif padding == "reflection":
        i = _reflect(i, 0, 2 * (size - 1)) if align_corners else _reflect(i, -1, 2 * size - 1)
        i = i.clamp(0, size - 1)
    inside = (i >= 0) & (i <= size - 1)
    return i.clamp(0, size - 1).long(), inside


def _cubic_weights(t: Tensor) -> list[Tensor]:
    """The four cubic-convolution weights (A = -0.75) of taps at -1, 0, 1, 2 for a fraction t in [0, 1)."""
    a = -0.75

    def near(x: Tensor) -> Tensor:  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x: Tensor) -> Tensor:  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _bicubic_grid_sample(input: Tensor, grid: Tensor, padding: str, align_corners: bool) -> Tensor:
    """grid_sample's bicubic mode: 16 taps around each point, each tap's
    position padded by padding's rule (zeros: outside taps read 0), weighted by cubic convolution."""
    n, c, h, w = input.shape
    ho, wo = grid.shape[1], grid.shape[2]
    gx, gy = grid[..., 0], grid[..., 1]
    if align_corners:
        x, y = (gx + 1) / 2 * (w - 1), (gy + 1) / 2 * (h - 1)
    else:
        x, y = ((gx + 1) * w - 1) / 2, ((gy + 1) * h - 1) / 2
    x0, y0 = x.detach().floor(), y.detach().floor()
    wx, wy = _cubic_weights(x - x0), _cubic_weights(y - y0)
    flat = input.reshape(n, c, h * w)
    out = None
    for j in range(4):
        iy, in_y = _tap_index(y0 + (j - 1), h, padding, align_corners)
        for i in range(4):
            ix, in_x = _tap_index(x0 + (i - 1), w, padding, align_corners)
            index = (iy * w + ix).reshape(n, 1, ho * wo).expand(n, c, ho * wo)
            value = flat.gather(2, index).reshape(n, c, ho, wo)
            weight = (wx[i] * wy[j] * (in_x & in_y).to(grid.dtype)).unsqueeze(1)
            term = value * weight
            out = term if out is None else out + term
    return out


def grid_sample(
    input: Tensor,
    grid: Tensor,
    mode: str = "bilinear",
    padding_mode: str = "zeros",
    align_corners: bool | None = None,
) -> Tensor:
    """Samples input (N, C, H, W) at the normalised (x, y) positions of grid (N, H_out, W_out, 2) ((-1, -1) the
    top-left, (1, 1) the bottom-right): output (N, C, H_out, W_out); likewise a volume (N, C, D, H, W) at the
    (x, y, z) of grid (N, D_out, H_out, W_out, 3). mode 'bilinear' (trilinear for volumes), 'nearest' or
    'bicubic' (4-D only);
    padding_mode 'zeros', 'border' or 'reflection' for points outside. The gradient flows to input and grid."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(
            f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', but got: '{mode}'"
        )
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(
            "nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or 'reflection', "
            f"but got: '{padding_mode}'"
        )
    align_corners = _grid_alignment_default(align_corners)
    nd = input.dim() - 2
    if nd not in (2, 3):
        raise RuntimeError(
            "grid_sampler(): expected 4D or 5D input and grid with same number of dimensions, but got input with "
            f"sizes {list(input.shape)} and grid with sizes {list(grid.shape)}"
        )
    if grid.dim() != nd + 2 or grid.shape[-1] != nd or grid.shape[0] != input.shape[0]:
        raise RuntimeError(
            f"grid_sampler(): expected grid to have size {nd} in last dimension and the same batch size as input, "
            f"but got grid with sizes {list(grid.shape)} and input with sizes {list(input.shape)}"
        )
    if mode == "bicubic":
        if nd != 2:
            raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
        return _bicubic_grid_sample(input, grid, padding_mode, align_corners)
    n, c, sizes = input.shape[0], input.shape[1], list(input.shape[2:])
    out_spatial = list(grid.shape[1:-1])
    points = int(np.prod(out_spatial))
    # grid's last dim is (x, y[, z]): x indexes the last spatial dim (W), y the one before, z the depth.
    source = [_source_coordinate(grid[..., nd - 1 - i], sizes[i], padding_mode, align_corners) for i in range(nd)]
    flat_input = input.reshape(n, c, -1)

    def corner(position: list[Tensor], weight: Tensor) -> Tensor:
        """weight * input[position] per sample point, zero where the position falls outside the input."""
        inside, flat = None, None
        for i, p in enumerate(position):
            ok = (p >= 0).logical_and(p <= sizes[i] - 1)
            inside = ok if inside is None else inside.logical_and(ok)
            clamped = p.clamp(0, sizes[i] - 1)
            flat = clamped if flat is None else flat * sizes[i] + clamped
        flat = flat.long().reshape(n, 1, points)
        values = flat_input.gather(2, flat.expand(n, c, points)).reshape(n, c, *out_spatial)
        return values * (weight * inside.to(weight.dtype)).unsqueeze(1)

    if mode == "nearest":
        return corner([_round_half_even(v) for v in source], ones(1, dtype=input.dtype, device=_device_of(input)))
    low = [_floor(v) for v in source]
    out = None
    for upper in itertools.product((False, True), repeat=nd):  # the 2^nd corners around each point
        weight = None
        for v, lo, up in zip(source, low, upper):
            factor = v - lo if up else lo + 1 - v
            weight = factor if weight is None else weight * factor
        term = corner([lo + 1 if up else lo for lo, up in zip(low, upper)], weight)
        out = term if out is None else out + term
    return out
