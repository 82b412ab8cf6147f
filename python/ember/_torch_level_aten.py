"""torch-level ATen ops that real scripts and exported graphs call: the ``*_copy`` forms of view ops (the
view's values as a new contiguous tensor), ``convolution`` with ATen's nine arguments, the ``native_*``
normalizations that also return their statistics, ``grid_sampler`` with ATen's int modes, the pools
that return indices and ``embedding_bag`` with ATen's four results. Each is composed of ember ops, so
each differentiates like the ops it is made of.

grad_fn names: PyTorch names the node of a ``*_copy`` result ``<View>Backward0_copy``; ember's result is
a clone of the view, so its grad_fn is ``CloneBackward0`` (the gradient is the same)."""

from __future__ import annotations

from typing import Any, Sequence

from . import _C
from ._C import Tensor
from ._dtype_info import _cpp_type_name
from .nn import functional as F
from .nn.utils.weight_norm import _norm_except_dim
from .nn.utils.weight_norm import _weight_norm as _normalised_weight

__all__ = [
    "_weight_norm",
    "_weight_norm_interface",
    "adaptive_max_pool1d",
    "affine_grid_generator",
    "alias_copy",
    "convolution",
    "detach_copy",
    "diagonal_copy",
    "embedding_bag",
    "expand_copy",
    "grid_sampler",
    "grid_sampler_2d",
    "grid_sampler_3d",
    "max_pool1d_with_indices",
    "native_batch_norm",
    "native_channel_shuffle",
    "native_dropout",
    "native_group_norm",
    "native_layer_norm",
    "native_norm",
    "norm_except_dim",
    "permute_copy",
    "select_copy",
    "slice_copy",
    "split_copy",
    "split_with_sizes_copy",
    "squeeze_copy",
    "t_copy",
    "transpose_copy",
    "unbind_copy",
    "unfold_copy",
    "unsqueeze_copy",
    "view_copy",
]


def _e() -> Any:
    """The ember package (its creation functions and grad modes), read when an op runs: this module is
    imported while the package initialises."""
    import ember

    return ember


def _copy(view: Tensor, out: Tensor | None, name: str) -> Tensor:
    """The view's values in a new contiguous tensor (it never shares input's storage), or written into out,
    which must have the result's dtype."""
    result = view.clone(memory_format=_e().contiguous_format)
    if out is None:
        return result
    if out.dtype != result.dtype:
        raise RuntimeError(
            f"Expected out tensor to have dtype {_cpp_type_name(result.dtype)}, but got "
            f"{_cpp_type_name(out.dtype)} instead"
        )
    return _C._write_out(out, result, name)


def _copies(views: Sequence[Tensor], out: Sequence[Tensor] | None) -> tuple[Tensor, ...] | None:
    """Each view copied; with out=, written into out's tensors (which must have the views' shapes), and None
    returned as PyTorch's list-out ops do."""
    if out is None:
        return tuple(v.clone(memory_format=_e().contiguous_format) for v in views)
    if len(out) != len(views):
        raise RuntimeError(f"expected out to have {len(views)} tensors, got {len(out)}")
    for o, v in zip(out, views):
        o.copy_(v)
    return None


# ------------------------------------------------------------------------------------------ *_copy ops
def alias_copy(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """A copy of input (the value of ``alias``), never input itself."""
    return _copy(input, out, "alias_copy")


def detach_copy(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """A copy of input detached from the graph (the value of ``detach``)."""
    return _copy(input.detach(), out, "detach_copy")


def diagonal_copy(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1, *, out: Tensor | None = None) -> Tensor:
    """A copy of ``input.diagonal(offset, dim1, dim2)``."""
    return _copy(input.diagonal(offset, dim1, dim2), out, "diagonal_copy")


def expand_copy(input: Tensor, size: Sequence[int], *, implicit: bool = False, out: Tensor | None = None) -> Tensor:
    """A copy of ``input.expand(size)`` (-1 keeps a dim); implicit is accepted and has no effect."""
    return _copy(input.expand(*size), out, "expand_copy")


def permute_copy(input: Tensor, dims: Sequence[int], *, out: Tensor | None = None) -> Tensor:
    """A copy of ``input.permute(dims)``."""
    return _copy(input.permute(*dims), out, "permute_copy")


def select_copy(input: Tensor, dim: int, index: int, *, out: Tensor | None = None) -> Tensor:
    """A copy of ``input.select(dim, index)``."""
    if input.dim() and -max(input.dim(), 1) <= dim < input.dim():
        size = input.shape[dim]
        if not -size <= index < size:
            raise IndexError(
                f"select(): index {index} out of range for tensor of size {list(input.shape)} at dimension {dim}"
            )
    return _copy(input.select(dim, index), out, "select_copy")


def slice_copy(
    input: Tensor,
    dim: int = 0,
    start: int | None = None,
    end: int | None = None,
    step: int = 1,
    *,
    out: Tensor | None = None,
) -> Tensor:
    """A copy of input[start:end:step] along dim (start and end clamped as Python slices are)."""
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    n = input.dim()
    if not -max(n, 1) <= dim < max(n, 1):
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    dim = dim % n if n else 0
    index = (slice(None),) * dim + (slice(start, end, step),)
    return _copy(input[index], out, "slice_copy")


def split_copy(
    input: Tensor, split_size: int, dim: int = 0, *, out: Sequence[Tensor] | None = None
) -> tuple[Tensor, ...] | None:
    """Copies of ``input.split(split_size, dim)``: chunks of split_size (the last may be smaller)."""
    return _copies(input.split(split_size, dim), out)


def split_with_sizes_copy(
    input: Tensor, split_sizes: Sequence[int], dim: int = 0, *, out: Sequence[Tensor] | None = None
) -> tuple[Tensor, ...] | None:
    """Copies of ``input.split(split_sizes, dim)``, whose sizes must add up to input's size at dim."""
    return _copies(input.split(list(split_sizes), dim), out)


def squeeze_copy(input: Tensor, dim: int | Sequence[int] | None = None, *, out: Tensor | None = None) -> Tensor:
    """A copy of ``input.squeeze()``, or of ``input.squeeze(dim)`` (an int or a tuple of dims)."""
    view = input.squeeze() if dim is None else input.squeeze(dim if isinstance(dim, int) else tuple(dim))
    return _copy(view, out, "squeeze_copy")


def t_copy(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """A copy of ``input.t()`` (input of at most 2 dims)."""
    return _copy(input.t(), out, "t_copy")


def transpose_copy(input: Tensor, dim0: int, dim1: int, *, out: Tensor | None = None) -> Tensor:
    """A copy of ``input.transpose(dim0, dim1)``."""
    return _copy(input.transpose(dim0, dim1), out, "transpose_copy")


def unbind_copy(input: Tensor, dim: int = 0, *, out: Sequence[Tensor] | None = None) -> tuple[Tensor, ...] | None:
    """Copies of ``input.unbind(dim)``: the slices along dim."""
    return _copies(input.unbind(dim), out)


def unfold_copy(input: Tensor, dimension: int, size: int, step: int, *, out: Tensor | None = None) -> Tensor:
    """A copy of ``input.unfold(dimension, size, step)``: windows of size along dimension, a new last dim."""
    return _copy(input.unfold(dimension, size, step), out, "unfold_copy")


def unsqueeze_copy(input: Tensor, dim: int, *, out: Tensor | None = None) -> Tensor:
    """A copy of ``input.unsqueeze(dim)``."""
    return _copy(input.unsqueeze(dim), out, "unsqueeze_copy")


def view_copy(input: Tensor, size: Any = None, *, dtype: _C.dtype | None = None, out: Tensor | None = None) -> Tensor:
    """A copy of input with shape size (one -1 inferred), or of its bytes read as dtype (given as dtype= or in
    size's place). Unlike ``view`` it needs no compatible strides: the values are copied anyway."""
    if isinstance(size, _C.dtype):
        size, dtype = None, size
    if (size is None) == (dtype is None):
        raise TypeError("view_copy() expected exactly one of size and dtype")
    if dtype is not None:
        return _copy(input.detach().view(dtype) if input.dtype != dtype else input, out, "view_copy")
    return _copy(input.reshape(*size), out, "view_copy")


# --------------------------------------------------------------------------------------- convolution
def _ntuple(v: int | Sequence[int], n: int, name: str) -> tuple[int, ...]:
    t = (int(v),) * n if isinstance(v, int) else tuple(int(i) for i in v)
    if len(t) == 1 and n > 1:
        t = t * n
    if len(t) != n:
        raise RuntimeError(
            f"expected {name} to be a single integer value or a list of {n} values to match the "
            f"convolution dimensions, but got {name}={list(t)}"
        )
    return t


def convolution(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    stride: Sequence[int],
    padding: Sequence[int],
    dilation: Sequence[int],
    transposed: bool,
    output_padding: Sequence[int],
    groups: int,
) -> Tensor:
    """N-d convolution (N = weight.dim() - 2, 1 to 3) of a batched input, transposed or not: ATen's single
    entry point behind F.conv{1,2,3}d and F.conv_transpose{1,2,3}d."""
    n = weight.dim() - 2
    if n not in (1, 2, 3):
        raise RuntimeError(
            f"convolution: expected a 3-, 4- or 5-dimensional weight, got weight of size {list(weight.shape)}"
        )
    if input.dim() != weight.dim():
        raise RuntimeError(
            f"Expected {n + 2}-dimensional input for {n + 2}-dimensional weight {list(weight.shape)}, "
            f"but got {input.dim()}-dimensional input of size {list(input.shape)} instead"
        )
    stride_, padding_, dilation_ = (
        _ntuple(a, n, k) for a, k in ((stride, "stride"), (padding, "padding"), (dilation, "dilation"))
    )
    if transposed:
        out_pad = _ntuple(output_padding, n, "output_padding")
        conv_t = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[n - 1]
        return conv_t(input, weight, bias, stride_, padding_, out_pad, groups, dilation_)
    conv = (F.conv1d, F.conv2d, F.conv3d)[n - 1]
    return conv(input, weight, bias, stride_, padding_, dilation_, groups)


# ------------------------------------------------------------------------------------ normalizations
def _rstd(var: Tensor, eps: float) -> Tensor:
    return (var + eps).rsqrt()


def native_layer_norm(
    input: Tensor, normalized_shape: Sequence[int], weight: Tensor | None, bias: Tensor | None, eps: float
) -> tuple[Tensor, Tensor, Tensor]:
    """(F.layer_norm's output, mean, rstd): mean and 1/sqrt(var + eps) over the last len(normalized_shape)
    dims, shaped input.shape[:-k] + (1,) * k, without grad (as PyTorch's)."""
    return _C._native_layer_norm(input, [int(s) for s in normalized_shape], weight, bias, eps)


def native_batch_norm(
    input: Tensor,
    weight: Tensor | None,
    bias: Tensor | None,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    training: bool,
    momentum: float,
    eps: float,
) -> tuple[Tensor, Tensor, Tensor]:
    """(F.batch_norm's output, save_mean, save_invstd). In training the batch's per-channel (dim 1) mean and
    1/sqrt(biased var + eps), of shape (C,), and the running stats updated in place; in eval two empty (0,)
    tensors, as PyTorch's CPU kernel returns."""
    if not training and (running_mean is None or running_var is None):
        raise RuntimeError("native_batch_norm: running_mean and running_var must be defined in evaluation mode")
    output = F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)
    if not training:
        return output, input.new_empty((0,)).detach(), input.new_empty((0,)).detach()
    dims = (0, *range(2, input.dim()))
    with _e().no_grad():
        x = input.detach()
        mean = x.mean(dims)
        invstd = _rstd(x.var(dims, unbiased=False), eps)
    return output, mean, invstd


def native_group_norm(
    input: Tensor, weight: Tensor | None, bias: Tensor | None, N: int, C: int, HxW: int, group: int, eps: float
) -> tuple[Tensor, Tensor, Tensor]:
    """(F.group_norm's output, mean, rstd), mean and rstd of shape (N, group) over each group's channels and
    positions; all three differentiable, as PyTorch's."""
    if input.numel() != N * C * HxW:
        raise RuntimeError("Expected X.numel() == N * C * HxW to be true, but got false.")
    if C % group:
        raise RuntimeError(
            f"Expected number of channels in input to be divisible by num_groups, but got input "
            f"of shape {list(input.shape)} and num_groups={group}"
        )
    output = F.group_norm(input, group, weight, bias, eps)
    x = input.reshape(N, group, -1)
    mean = x.mean(-1)
    rstd = _rstd(x.var(-1, unbiased=False), eps)
    return output, mean, rstd


def native_dropout(input: Tensor, p: float, train: bool | None) -> tuple[Tensor, Tensor]:
    """(output, mask): in training each element kept with probability 1 - p and scaled by 1 / (1 - p),
    mask (bool) saying which; with train False, output a copy of input and mask all True. train None
    means training, as in PyTorch."""
    from ._creation import _device_of

    device = _device_of(input)
    if train is not None and not train:
        return input.clone(), _e().ones(input.shape, dtype=_e().bool, device=device)
    if p >= 1:
        mask = _e().zeros(input.shape, dtype=_e().bool, device=device)
        return input * mask, mask
    mask = _e().rand(input.shape, dtype=input.dtype, device=device) >= p
    return input * mask / (1.0 - p), mask


def native_channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """Channels (dim 1) regrouped: (N, g, C/g, *) -> (N, C/g, g, *) (F.native_channel_shuffle)."""
    return F.native_channel_shuffle(input, groups)


def native_norm(
    input: Tensor,
    p: float | None = 2,
    dim: int | Sequence[int] | None = None,
    keepdim: bool = False,
    dtype: _C.dtype | None = None,
) -> Tensor:
    """The p-norm of input (of all its elements, or over dim). PyTorch implements it for sparse tensors
    only; ember gives the same values for dense ones (a sparse tensor's norm is that of its dense form)."""
    p = 2 if p is None else p
    if dim is not None:
        dim = (dim,) if isinstance(dim, int) else tuple(dim)
    from . import linalg

    return linalg.vector_norm(input, p, dim, keepdim, dtype=dtype)


def norm_except_dim(v: Tensor, pow: float = 2, dim: int = 0) -> Tensor:
    """The pow-norm of v over every dim but dim, kept as size-1 dims (weight_norm's g); dim -1 means the norm
    of all of v, a 0-d tensor."""
    return _norm_except_dim(v, pow, dim)


def _weight_norm(v: Tensor, g: Tensor, dim: int = 0) -> Tensor:
    """weight_norm's weight v * (g / norm_except_dim(v, 2, dim)) (PyTorch's private op, which code calls)."""
    return _normalised_weight(v, g, dim)


def _weight_norm_interface(v: Tensor, g: Tensor, dim: int = 0) -> tuple[Tensor, Tensor]:
    """(the weight, the norms of v it divides by): _weight_norm and norm_except_dim(v, 2, dim) at once."""
    norms = _norm_except_dim(v, 2, dim)
    return v * (g / norms), norms


# ----------------------------------------------------------------------------------- sampling, pools
_INTERPOLATION = {0: "bilinear", 1: "nearest", 2: "bicubic"}
_PADDING = {0: "zeros", 1: "border", 2: "reflection"}


def _grid_sample(
    input: Tensor, grid: Tensor, interpolation_mode: int, padding_mode: int, align_corners: bool, dims: tuple[int, ...]
) -> Tensor:
    if input.dim() not in dims or grid.dim() != input.dim():
        want = " or ".join(f"{d}D" for d in dims)
        raise RuntimeError(
            f"grid_sampler(): expected {want} input and grid with same number of dimensions, but got "
            f"input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}"
        )
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(
            f"grid_sampler(): expected grid and input to have same batch size, but got input with "
            f"sizes {list(input.shape)} and grid with sizes {list(grid.shape)}"
        )
    if interpolation_mode not in _INTERPOLATION:
        raise RuntimeError(f"grid_sampler(): unknown interpolation mode {interpolation_mode}")
    if padding_mode not in _PADDING:
        raise RuntimeError(f"grid_sampler(): unknown padding mode {padding_mode}")
    return F.grid_sample(input, grid, _INTERPOLATION[interpolation_mode], _PADDING[padding_mode], align_corners)


def grid_sampler(
    input: Tensor, grid: Tensor, interpolation_mode: int, padding_mode: int, align_corners: bool
) -> Tensor:
    """F.grid_sample with ATen's int modes: interpolation 0 bilinear, 1 nearest, 2 bicubic; padding 0 zeros,
    1 border, 2 reflection. A 4-D input is sampled in 2-D, a 5-D one in 3-D."""
    return _grid_sample(input, grid, interpolation_mode, padding_mode, align_corners, (4, 5))


def grid_sampler_2d(
    input: Tensor, grid: Tensor, interpolation_mode: int, padding_mode: int, align_corners: bool
) -> Tensor:
    """grid_sampler of a 4-D input (N, C, H, W) at grid (N, H_out, W_out, 2)."""
    return _grid_sample(input, grid, interpolation_mode, padding_mode, align_corners, (4,))


def grid_sampler_3d(
    input: Tensor, grid: Tensor, interpolation_mode: int, padding_mode: int, align_corners: bool
) -> Tensor:
    """grid_sampler of a 5-D input (N, C, D, H, W) at grid (N, D_out, H_out, W_out, 3)."""
    return _grid_sample(input, grid, interpolation_mode, padding_mode, align_corners, (5,))


def affine_grid_generator(theta: Tensor, size: Sequence[int], align_corners: bool) -> Tensor:
    """The sampling grid of the affine maps theta (N, 2, 3) or (N, 3, 4) for an output of size (F.affine_grid)."""
    k = len(size) - 1  # homogeneous coordinates of a point: 3 in 2-D, 4 in 3-D
    if theta.dim() == 3 and len(size) in (4, 5) and theta.shape[2] != k:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{size[0]}, {k}] but got: "
            f"[{theta.shape[0]}, {theta.shape[2]}]."
        )
    return F.affine_grid(theta, list(size), align_corners)


def adaptive_max_pool1d(input: Tensor, output_size: int | Sequence[int]) -> tuple[Tensor, Tensor]:
    """(values, indices) of the adaptive max pool of a (C, L) or (N, C, L) input to output_size positions."""
    if input.dim() not in (2, 3):
        raise RuntimeError(
            f"Expected 2 to 3 dimensions, but got {input.dim()}-dimensional tensor for argument #1 "
            "'self' (while checking arguments for adaptive_max_pool1d)"
        )
    return F.adaptive_max_pool1d(input, output_size, return_indices=True)


def max_pool1d_with_indices(
    input: Tensor,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] = (),
    padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    ceil_mode: bool = False,
) -> tuple[Tensor, Tensor]:
    """(values, indices) of the 1-D max pool of a (C, L) or (N, C, L) input; an empty stride means
    kernel_size."""
    no_stride = not isinstance(stride, int) and len(stride) == 0
    return F.max_pool1d(input, kernel_size, None if no_stride else stride, padding, dilation, ceil_mode, True)


_BAG_MODES = {0: "sum", 1: "mean", 2: "max"}


def embedding_bag(
    weight: Tensor,
    indices: Tensor,
    offsets: Tensor,
    scale_grad_by_freq: bool = False,
    mode: int = 0,
    sparse: bool = False,
    per_sample_weights: Tensor | None = None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """ATen's embedding_bag (mode 0 sum, 1 mean, 2 max): ``(output, offset2bag, bag_size, max_indices)``,
    output as ``F.embedding_bag``'s. The other three are what PyTorch's CPU kernel returns: the bag of each
    index (empty for sum without padding_idx), each bag's size (zeros for sum) and, for max, the weight
    row that gave each maximum (else bag_size again, or zeros for sum)."""
    import numpy as np

    from ._householder import _check_tensors

    _check_tensors("embedding_bag", weight=weight, indices=indices, offsets=offsets)
    if mode not in _BAG_MODES:
        raise RuntimeError(f"embedding_bag: mode must be 0 (sum), 1 (mean) or 2 (max), got {mode}")
    output = F.embedding_bag(
        indices,
        weight,
        offsets,
        None,
        2,
        scale_grad_by_freq,
        _BAG_MODES[mode],
        sparse,
        per_sample_weights,
        include_last_offset,
        padding_idx,
    )
    # the bookkeeping outputs are counted on the host, then go to weight's device
    idx = indices.reshape(-1).cpu().numpy().astype(np.int64)
    bags = output.shape[0]
    starts = offsets.cpu().numpy().astype(np.int64)[:bags] if indices.dim() == 1 else np.arange(bags) * indices.shape[1]
    offset2bag = np.searchsorted(starts, np.arange(idx.size), side="right") - 1
    counted = idx != padding_idx if padding_idx is not None else np.ones(idx.size, bool)
    sizes = np.bincount(offset2bag[counted], minlength=bags)[:bags] if idx.size else np.zeros(bags, np.int64)
    device = output.device

    def as_long(a: Any) -> Tensor:
        t = _C.from_numpy(np.ascontiguousarray(a, dtype=np.int64))
        return t if device.type == "cpu" else t.to(device)

    if mode == 0:
        o2b = as_long(offset2bag) if padding_idx is not None else as_long(np.zeros(0))
        return output, o2b, as_long(np.zeros(bags)), as_long(np.zeros(bags))
    if mode == 1:
        return output, as_long(offset2bag), as_long(sizes), as_long(sizes)
    w = weight.detach().cpu().numpy()
    best = np.zeros((bags, w.shape[1]), dtype=np.int64)
    for b in range(bags):
        rows = idx[(offset2bag == b) & counted]
        if rows.size:
            best[b] = rows[np.argmax(w[rows], axis=0)]
    return output, as_long(offset2bag), as_long(sizes), as_long(best)
