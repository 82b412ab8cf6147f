"""Convolutions over 1, 2 and 3 spatial dims, their transposes, and unfold/fold (im2col/col2im).

Only conv2d is a C++ op (im2col + BLAS). The rest are compositions of differentiable ember ops, so their
gradients come from autograd:

- conv1d is conv2d over a height-1 image;
- conv3d gathers the kD depth slices each output plane needs into the channel dim and makes one conv2d call
  (a (O, C/g, kD, kH, kW) weight is a (O, C/g * kD, kH, kW) one once the slices sit next to their channel);
- conv_transposeNd, the adjoint of convNd, is a matmul of the weight with the input (per group) giving each
  input element's contribution to its output window, summed into place by col2im (scatter_add);
- unfold and fold are the C++ im2col and col2im (Note [Unfold as im2col]) for plain floating point tensors,
  and conv_transpose2d sums its blocks with that col2im; elsewhere (vmap, meta, integers, 1-D and 3-D) unfold
  gathers the sliding blocks with index_select and col2im is a scatter_add.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .. import _C
from .._autocast import _HALF_FLOATS, lower_under_autocast
from .._autocast import disabled as _autocast_disabled
from .._creation import tensor, zeros
from . import functional as F  # F.pad, looked up at call time (functional imports this module)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .._C import Tensor

__all__ = [
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "conv_tbc",
    "unfold",
    "fold",
]


def _ntuple(value: int | Sequence[int], n: int) -> tuple[int, ...]:
    """(value,) * n for an int (or a 1-sequence, as PyTorch accepts), tuple(value) otherwise. A value
    that holds no numbers (a str, None) is a TypeError naming its type, as PyTorch's."""
    if isinstance(value, int):
        return (value,) * n
    if isinstance(value, str) or not hasattr(value, "__iter__"):
        raise TypeError(f"expected an int or a tuple of ints, but got {type(value).__name__}")
    items = tuple(value)
    for v in items:
        if isinstance(v, str) or not isinstance(v, (int, float, np.number, _C.Tensor)):
            raise TypeError(f"expected a tuple of ints, but found element of type {type(v).__name__}")
    items = tuple(int(v) for v in items)
    return items * n if len(items) == 1 else items


def _index(values: np.ndarray, like: Tensor) -> Tensor:
    """An int64 ember tensor of numpy index values (a constant of the graph), on like's device (a meta
    input gets a meta index: the shapes are all a meta op reads)."""
    return tensor(np.ascontiguousarray(values, dtype=np.int64), device=like.device)


def _pad_spec(lo: Sequence[int], hi: Sequence[int]) -> list[int]:
    """F.pad's (last-dim-first) padding list for per-spatial-dim low/high pads given first-dim-first."""
    spec: list[int] = []
    for a, b in zip(reversed(lo), reversed(hi)):
        spec += [a, b]
    return spec


def same_padding(kernel: Sequence[int], dilation: Sequence[int]) -> tuple[list[int], list[int]]:
    """padding='same' as PyTorch: dilation * (k - 1) in total per dim, half on each side, the odd one on the
    high (right/bottom/back) side. Returns (low, high) per spatial dim."""
    total = [d * (k - 1) for k, d in zip(kernel, dilation)]
    return [t // 2 for t in total], [t - t // 2 for t in total]


def _check_conv_shapes(name: str, input: Tensor, weight: Tensor, nd: int, groups: int, transposed: bool) -> None:
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {name}, but got input of size: "
            f"{list(input.shape)}"
        )
    if weight.dim() != nd + 2:
        raise RuntimeError(
            "weight should have at least three dimensions" if nd == 1 else f"{name}: expected a {nd + 2}-D weight"
        )
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    _check_weight_groups(weight, groups)  # PyTorch's order: the weight's groups, then the input's channels
    channels = input.shape[0 if input.dim() == nd + 1 else 1]
    expected = weight.shape[0] if transposed else weight.shape[1] * groups
    if channels != expected:
        batched_shape = list(input.shape) if input.dim() == nd + 2 else [1, *input.shape]
        given = "transposed=1" if transposed else f"groups={groups}"
        raise RuntimeError(
            f"Given {given}, weight of size {list(weight.shape)}, expected input{batched_shape} to have "
            f"{expected} channels, but got {channels} channels instead"
        )


def _check_weight_groups(weight: Tensor, groups: int) -> None:
    for rule, holds in (("at least", weight.shape[0] >= groups), ("divisible by", weight.shape[0] % groups == 0)):
        if not holds:
            raise RuntimeError(
                f"Given groups={groups}, expected weight to be {rule} {groups} at dimension 0, but got weight of "
                f"size {list(weight.shape)} instead"
            )


def _check_kernel_fits(input: Tensor, weight: Tensor, padding: tuple, dilation: tuple, nd: int) -> None:
    """PyTorch's refusal of a (dilated) kernel larger than the padded input, in its words."""
    padded = [size + 2 * p for size, p in zip(input.shape[-nd:], padding)]
    kernel = [d * (k - 1) + 1 for k, d in zip(weight.shape[2:], dilation)]
    if any(k > size for k, size in zip(kernel, padded)):
        raise RuntimeError(
            f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). Kernel size: "
            f"({' x '.join(map(str, kernel))}). Kernel size can't be greater than actual input size"
        )


def _conv3d_batched(x, weight, bias, stride, padding, dilation, groups):
    """conv3d of a batched (N, C, D, H, W) x as one conv2d over (N * D_out, C * kD, H, W)."""
    n, c, depth, h, w = x.shape
    o, kd = weight.shape[0], weight.shape[2]
    if padding[0]:
        x = F.pad(x, (0, 0, 0, 0, padding[0], padding[0]))
        depth += 2 * padding[0]
    d_out = (depth - dilation[0] * (kd - 1) - 1) // stride[0] + 1  # >= 1: _conv checked the kernel fits
    # Depth index of kernel offset j for output plane t: t * stride + j * dilation.
    depth_index = np.arange(d_out)[:, None] * stride[0] + np.arange(kd)[None, :] * dilation[0]
    cols = x.index_select(2, _index(depth_index.ravel(), x)).reshape(n, c, d_out, kd, h, w)
    cols = cols.permute(0, 2, 1, 3, 4, 5).reshape(n * d_out, c * kd, h, w)  # channel c * kD + j, as the weight
    w2 = weight.reshape(o, weight.shape[1] * kd, weight.shape[3], weight.shape[4])
    out = _C.conv2d(cols, w2, bias, stride[1:], padding[1:], dilation[1:], groups)
    return out.reshape(n, d_out, o, out.shape[2], out.shape[3]).permute(0, 2, 1, 3, 4)


def _conv_batched(x, weight, bias, stride, padding, dilation, groups, nd):
    """The convolution of a batched input with symmetric int padding, by spatial rank."""
    if nd == 2:
        return _C.conv2d(x, weight, bias, stride, padding, dilation, groups)
    if nd == 1:
        out = _C.conv2d(
            x.unsqueeze(2), weight.unsqueeze(2), bias, (1, stride[0]), (0, padding[0]), (1, dilation[0]), groups
        )
        return out.squeeze(2)
    return _conv3d_batched(x, weight, bias, stride, padding, dilation, groups)


def _conv(name, input, weight, bias, stride, padding, dilation, groups, nd):
    _check_conv_shapes(name, input, weight, nd, groups, transposed=False)
    stride, dilation = _ntuple(stride, nd), _ntuple(dilation, nd)
    batched = input.dim() == nd + 2
    x = input if batched else input.unsqueeze(0)
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0,) * nd
        elif padding == "same":
            if any(s != 1 for s in stride):  # RuntimeError here, ValueError from the modules, as PyTorch
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            lo, hi = same_padding(weight.shape[2:], dilation)
            if lo != hi:  # odd total padding: the extra element goes on the high side, as PyTorch
                x = F.pad(x, _pad_spec([0] * nd, [b - a for a, b in zip(lo, hi)]))
            padding = tuple(lo)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    padding = _ntuple(padding, nd)
    _check_kernel_fits(x, weight, padding, dilation, nd)
    out = _conv_batched(x, weight, bias, stride, padding, dilation, groups, nd)
    return out if batched else out.squeeze(0)


def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int] = 1,
    padding: str | int | tuple[int] = 0,
    dilation: int | tuple[int] = 1,
    groups: int = 1,
) -> Tensor:
    """Applies a 1-D convolution (cross-correlation) over an input signal composed of several input planes.

    input (N, C_in, L) or (C_in, L), weight (C_out, C_in // groups, k), bias (C_out,); padding may be an int,
    'valid' (none) or 'same' (output length = input length, stride 1 only).
    L_out = (L + 2 * padding - dilation * (k - 1) - 1) // stride + 1.
    """
    return _conv("conv1d", input, weight, bias, stride, padding, dilation, groups, 1)


def conv_tbc(input: Tensor, weight: Tensor, bias: Tensor, pad: int = 0) -> Tensor:
    """Applies a 1-D sequence convolution over input (time, batch, in_channels), the layout of fairseq's
    sequence models: weight (kernel_width, in_channels, out_channels), bias (out_channels,), pad time steps of
    zeros at both ends. It is conv1d on the (batch, channels, time) view, so its gradients are conv1d's;
    the result is (time + 2 * pad - kernel_width + 1, batch, out_channels)."""
    if input.dim() != 3:
        raise RuntimeError("Input must have 3 dims: time, batch, in_channel")
    if weight.dim() != 3:
        raise RuntimeError("Weight tensor must have 3 dims: kernel_width, in_channels, out_channels.")
    if bias.dim() != 1 or bias.shape[0] != weight.shape[2]:
        raise RuntimeError("Bias size must equal dim 2 in the weight tensor (output channels).")
    if input.shape[2] != weight.shape[1]:
        raise RuntimeError("Input dim 2 (input channels) is not == dim 1 in the weight tensor")
    out = conv1d(input.permute(1, 2, 0), weight.permute(2, 1, 0), bias, padding=pad)
    return out.permute(2, 0, 1)


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: str | int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> Tensor:
    """Applies a 2-D convolution (cross-correlation) over an input image composed of several input planes.

    input (N, C_in, H, W) or (C_in, H, W), weight (C_out, C_in // groups, kH, kW), bias (C_out,);
    padding may be an int, a pair, 'valid' (no padding) or 'same' (output size = input size, stride 1 only).
    """
    if not isinstance(padding, str):  # the C++ op checks shapes and options itself
        return _C.conv2d(input, weight, bias, stride, padding, dilation, groups)
    return _conv("conv2d", input, weight, bias, stride, padding, dilation, groups, 2)


def conv3d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int, int, int] = 1,
    padding: str | int | tuple[int, int, int] = 0,
    dilation: int | tuple[int, int, int] = 1,
    groups: int = 1,
) -> Tensor:
    """Applies a 3-D convolution (cross-correlation) over an input volume composed of several input planes.

    input (N, C_in, D, H, W) or (C_in, D, H, W), weight (C_out, C_in // groups, kD, kH, kW), bias (C_out,);
    padding may be an int, a triple, 'valid' or 'same' (stride 1 only). Composed as one conv2d over the
    gathered depth slices (memory: kD / stride_D times the input).
    """
    return _conv("conv3d", input, weight, bias, stride, padding, dilation, groups, 3)


def _conv_transpose(name, input, weight, bias, stride, padding, output_padding, groups, dilation, nd):
    # on PyTorch's lower-precision autocast lists, bias included (a float32 bias made the result float32)
    input, weight, bias = lower_under_autocast(("cpu", "cuda"), input, weight, bias)
    if input.dtype in _HALF_FLOATS and weight.dtype == input.dtype and (bias is None or bias.dtype == input.dtype):
        # half floats accumulate in float32 and round once, bias included, as PyTorch's (the matmul, each
        # overlap summed by col2im and the bias add each rounded before)
        wide = [None if t is None else t.float() for t in (input, weight, bias)]
        with _autocast_disabled():
            out = _conv_transpose(name, *wide, stride, padding, output_padding, groups, dilation, nd)
        return out.to(input.dtype)
    _check_conv_shapes(name, input, weight, nd, groups, transposed=True)
    if isinstance(padding, str):
        raise RuntimeError(f"{name}(): argument 'padding' must be tuple of ints, not str")
    stride, padding, dilation = _ntuple(stride, nd), _ntuple(padding, nd), _ntuple(dilation, nd)
    output_padding = _ntuple(output_padding, nd)
    if any(op >= max(s, d) for op, s, d in zip(output_padding, stride, dilation)):
        raise RuntimeError(
            f"output padding must be smaller than either stride or dilation, but got output_padding={output_padding}, "
            f"stride={stride} and dilation={dilation}"
        )
    batched = input.dim() == nd + 2
    x = input if batched else input.unsqueeze(0)
    n, spatial, kernel = x.shape[0], list(x.shape[2:]), list(weight.shape[2:])
    out_sizes = [
        (size - 1) * st - 2 * p + dl * (k - 1) + op + 1
        for size, st, p, dl, k, op in zip(spatial, stride, padding, dilation, kernel, output_padding)
    ]
    if any(size < 1 for size in out_sizes):
        raise RuntimeError(f"{name}: the calculated output size {out_sizes} is too small (input {list(input.shape)})")
    # Every input element scatters weight * value onto the output window it would have been computed from:
    # columns (C_out/g * K, C_in/g) @ (C_in/g, L) per group, then summed into place by col2im.
    c_in, c_out_g = weight.shape[0], weight.shape[1]
    k_total, length = int(np.prod(kernel)), int(np.prod(spatial))
    w = weight.reshape(groups, c_in // groups, c_out_g * k_total).transpose(1, 2)
    cols = _C.matmul(w, x.reshape(n, groups, c_in // groups, length))  # (N, g, C_out/g * K, L)
    # The col2im kernel, where the output size gives back the input's block count (an output_padding
    # of a stride or more, allowed under a larger dilation, adds blocks).
    whole = all(
        _block_count(o, k, dl, p, st) == size
        for o, k, dl, p, st, size in zip(out_sizes, kernel, dilation, padding, stride, spatial)
    )
    if nd == 2 and whole and _kernel_ready(cols):
        out = _C._col2im(cols.reshape(n, -1, length), out_sizes, kernel, dilation, padding, stride)
    else:
        out = _col2im(
            cols.reshape(n, groups * c_out_g, k_total, length), spatial, out_sizes, kernel, dilation, padding, stride
        )
    if bias is not None:
        out = out + bias.reshape(-1, *([1] * nd))
    return out if batched else out.squeeze(0)


def conv_transpose1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int] = 1,
    padding: int | tuple[int] = 0,
    output_padding: int | tuple[int] = 0,
    groups: int = 1,
    dilation: int | tuple[int] = 1,
) -> Tensor:
    """Applies a 1-D transposed convolution ("deconvolution"), the adjoint of conv1d.

    input (N, C_in, L) or (C_in, L), weight (C_in, C_out // groups, k), bias (C_out,);
    L_out = (L - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1.
    """
    return _conv_transpose(
        "conv_transpose1d", input, weight, bias, stride, padding, output_padding, groups, dilation, 1
    )


def conv_transpose2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    output_padding: int | tuple[int, int] = 0,
    groups: int = 1,
    dilation: int | tuple[int, int] = 1,
) -> Tensor:
    """Applies a 2-D transposed convolution ("deconvolution"), the adjoint of conv2d.

    input (N, C_in, H, W) or (C_in, H, W), weight (C_in, C_out // groups, kH, kW), bias (C_out,);
    H_out = (H - 1) * stride[0] - 2 * padding[0] + dilation[0] * (kH - 1) + output_padding[0] + 1, W likewise.
    """
    return _conv_transpose(
        "conv_transpose2d", input, weight, bias, stride, padding, output_padding, groups, dilation, 2
    )


def conv_transpose3d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int, int, int] = 1,
    padding: int | tuple[int, int, int] = 0,
    output_padding: int | tuple[int, int, int] = 0,
    groups: int = 1,
    dilation: int | tuple[int, int, int] = 1,
) -> Tensor:
    """Applies a 3-D transposed convolution ("deconvolution"), the adjoint of conv3d.

    input (N, C_in, D, H, W) or (C_in, D, H, W), weight (C_in, C_out // groups, kD, kH, kW), bias (C_out,).
    """
    return _conv_transpose(
        "conv_transpose3d", input, weight, bias, stride, padding, output_padding, groups, dilation, 3
    )


# ---------------------------------------------------------------------------------------------------------------------
# unfold / fold (im2col / col2im)


def _check_blocks(op, kernel, dilation, padding, stride):
    """The sliding-block options as the C++ im2col/col2im check them (before any block is counted)."""
    for k, s, p, d in zip(kernel, stride, padding, dilation):
        if k <= 0:
            raise RuntimeError(f"{op}: kernel size should be greater than zero, but got kernel_size={k}")
        if s <= 0:
            raise RuntimeError(f"{op}: stride should be greater than zero, but got stride={s}")
        if p < 0:
            raise RuntimeError(f"{op}: negative padding is not supported, got padding={p}")
        if d <= 0:
            raise RuntimeError(f"{op}: dilation should be greater than zero, but got dilation={d}")


def _block_count(size, kernel, dilation, padding, stride):
    """How many sliding blocks fit along one dim (0 or less: none)."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def _block_index(size, kernel, dilation, padding, stride):
    """(blocks, k) positions in the padded input of each sliding block's elements along one dim."""
    blocks = _block_count(size, kernel, dilation, padding, stride)
    return np.arange(max(blocks, 0))[:, None] * stride + np.arange(kernel)[None, :] * dilation


def _kernel_ready(*tensors):
    """Whether im2col/col2im's C++ kernels take these: plain floating point tensors (not vmap's or meta ones,
    which take the composite path below; integer tensors too, which PyTorch refuses and ember sums exactly)."""
    return F._plain_tensors(*tensors) and all(t.is_floating_point() for t in tensors)


def _col2im(cols, blocks, out_sizes, kernel, dilation, padding, stride):
    """cols (N, C, K, L) -> (N, C, *out_sizes): element k of block l added at its place in the output, K running
    over the kernel positions and L over the blocks, both row-major. Output position along dim i of kernel
    position k_i of block b_i: b_i * stride_i + k_i * dilation_i - padding_i; those outside are dropped."""
    n, c, k_total, length = cols.shape
    nd = len(blocks)
    # A canvas that holds every position (the padding and any overhang included), cropped at the end.
    canvas = [
        max(p + size, (b - 1) * st + dl * (k - 1) + 1)
        for b, size, k, dl, p, st in zip(blocks, out_sizes, kernel, dilation, padding, stride)
    ]
    flat = np.zeros((), dtype=np.int64)
    for i in range(nd):
        shape = [1] * (2 * nd)
        shape[i], shape[nd + i] = kernel[i], blocks[i]
        pos = np.arange(kernel[i])[:, None] * dilation[i] + np.arange(blocks[i])[None, :] * stride[i]
        flat = flat * canvas[i] + pos.reshape(shape)
    index = _index(flat.reshape(-1), cols).expand(n, c, k_total * length)
    out = zeros(n, c, int(np.prod(canvas)), dtype=cols.dtype, device=cols.device).scatter_add(
        2, index, cols.reshape(n, c, -1)
    )
    crop = tuple(slice(p, p + size) for p, size in zip(padding, out_sizes))
    return out.reshape(n, c, *canvas)[(slice(None), slice(None)) + crop]


def _check_tensor_like(op: str, input: object) -> None:
    """PyTorch's TypeError for an input that is no tensor (vmap's and meta tensors have dim(), so pass)."""
    if not hasattr(input, "dim"):
        raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")


def unfold(
    input: Tensor,
    kernel_size: int | tuple[int, int],
    dilation: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    stride: int | tuple[int, int] = 1,
) -> Tensor:
    """Extracts sliding local blocks from a batched input (N, C, H, W) (or unbatched (C, H, W)) into
    (N, C * kH * kW, L), L the number of blocks; the channel dim runs over (c, kh, kw), c slowest."""
    _check_tensor_like("im2col", input)
    if input.dim() not in (3, 4):
        raise RuntimeError(f"Input Error: Only 3D or 4D input Tensors are supported (got {input.dim()}D)")
    kernel, dilation = _ntuple(kernel_size, 2), _ntuple(dilation, 2)
    padding, stride = _ntuple(padding, 2), _ntuple(stride, 2)
    _check_blocks("im2col", kernel, dilation, padding, stride)
    batched = input.dim() == 4
    x = input if batched else input.unsqueeze(0)
    n, c, h, w = x.shape
    rows = _block_index(h, kernel[0], dilation[0], padding[0], stride[0])
    cols = _block_index(w, kernel[1], dilation[1], padding[1], stride[1])
    if rows.shape[0] < 1 or cols.shape[0] < 1:
        raise RuntimeError(
            f"Given input with spatial size ({h}, {w}), kernel_size={kernel}, dilation={dilation}, "
            f"padding={padding}, calculated shape of the array of sliding blocks as "
            f"({rows.shape[0]}, {cols.shape[0]}), but its components must be at least one."
        )
    if _kernel_ready(input):  # one pass and one node, Im2ColBackward0 (Note [Unfold as im2col])
        return _C._im2col(input, kernel, dilation, padding, stride)
    x = F.pad(x, (padding[1], padding[1], padding[0], padding[0]))
    x = x.index_select(2, _index(rows.ravel(), x)).reshape(n, c, rows.shape[0], kernel[0], x.shape[3])
    x = x.index_select(4, _index(cols.ravel(), x)).reshape(n, c, rows.shape[0], kernel[0], cols.shape[0], kernel[1])
    out = x.permute(0, 1, 3, 5, 2, 4).reshape(n, c * kernel[0] * kernel[1], rows.shape[0] * cols.shape[0])
    return out if batched else out.squeeze(0)


def fold(
    input: Tensor,
    output_size: int | tuple[int, int],
    kernel_size: int | tuple[int, int],
    dilation: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    stride: int | tuple[int, int] = 1,
) -> Tensor:
    """Combines an array of sliding local blocks (N, C * kH * kW, L) (or (C * kH * kW, L)) into a tensor
    (N, C, *output_size), summing overlapping values: the adjoint of unfold."""
    _check_tensor_like("col2im", input)
    if input.dim() not in (2, 3):
        raise RuntimeError(
            f"Input Error: Only unbatched (2D) or batched (3D) input Tensors are supported (got {input.dim()}D)"
        )
    size, kernel = _ntuple(output_size, 2), _ntuple(kernel_size, 2)
    dilation, padding, stride = _ntuple(dilation, 2), _ntuple(padding, 2), _ntuple(stride, 2)
    _check_blocks("col2im", kernel, dilation, padding, stride)
    batched = input.dim() == 3
    x = input if batched else input.unsqueeze(0)
    n, ck, length = x.shape
    k = kernel[0] * kernel[1]
    if ck % k != 0:
        raise RuntimeError(
            "Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got "
            f"input.size(1)={ck} and kernel_size={kernel}."
        )
    rows = _block_index(size[0], kernel[0], dilation[0], padding[0], stride[0])
    cols = _block_index(size[1], kernel[1], dilation[1], padding[1], stride[1])
    if rows.shape[0] * cols.shape[0] != length:
        raise RuntimeError(
            f"Given output_size={size}, kernel_size={kernel}, dilation={dilation}, padding={padding}, "
            f"stride={stride}, expected size of input's dimension 2 to match the calculated number of sliding "
            f"blocks {rows.shape[0]} * {cols.shape[0]} = {rows.shape[0] * cols.shape[0]}, but got "
            f"input.size(2)={length}."
        )
    if _kernel_ready(input):  # one pass and one node, Col2ImBackward0 (Note [Unfold as im2col])
        return _C._col2im(input, size, kernel, dilation, padding, stride)
    blocks = [rows.shape[0], cols.shape[0]]
    out = _col2im(x.reshape(n, ck // k, k, length), blocks, size, kernel, dilation, padding, stride)
    return out if batched else out.squeeze(0)
