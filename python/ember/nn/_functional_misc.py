"""The channel-wise and alpha dropouts, RMS and local response normalisation and the grouped
matrix product of nn.functional (re-exported by it), composed of other ops."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .. import _C
from .._creation import _device_of, rand, zeros
from ..grad_mode import no_grad
from ._functional_utils import _normalized_dims

if TYPE_CHECKING:
    from .._C import Tensor

__all__ = [
    "alpha_dropout",
    "feature_alpha_dropout",
    "dropout1d",
    "dropout2d",
    "dropout3d",
    "rms_norm",
    "local_response_norm",
    "grouped_mm",
]

# The SELU constants' negative saturation value alpha * scale: where alpha dropout sets a dropped unit.
_ALPHA = 1.7580993408473766


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _dropout(input, p, training, inplace, feature=False, alpha=False):
    """PyTorch's _dropout_impl: keep each element (or, with feature, each channel of each sample: the noise has
    shape (N, C, 1, ...)) with probability 1 - p; the kept ones are scaled by 1 / (1 - p), or, for alpha
    dropout, the dropped ones set to -_ALPHA and an affine map a * x + b restores mean 0 and variance 1."""
    if p == 0 or not training or input.numel() == 0:
        return input
    if p == 1:
        return input.mul_(0.0) if inplace else input * 0.0
    if feature and input.dim() < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    shape = tuple(input.shape[:2]) + (1,) * (input.dim() - 2) if feature else tuple(input.shape)
    keep = 1.0 - p
    # The noise is built outside the graph; the recorded ops are one multiply (and one add for alpha dropout).
    with no_grad():
        noise = (rand(*shape, dtype=input.dtype, device=input.device) < keep).to(input.dtype)
        if alpha:
            a = 1.0 / math.sqrt((_ALPHA * _ALPHA * p + 1) * keep)
            shift = (noise - 1).mul_(_ALPHA * a).add_(_ALPHA * a * p)
            noise.mul_(a)
        else:
            noise.mul_(1.0 / keep)
    out = input.mul_(noise) if inplace else input * noise
    if alpha:
        out = out.add_(shift) if inplace else out + shift
    return out


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Alpha dropout (for SELU networks): in training, sets each element to SELU's negative saturation value
    with probability p, then scales and shifts so that mean and variance are kept."""
    _check_p(p)
    return _dropout(input, p, training, inplace, alpha=True)


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels: each channel of each sample of input (N, C, *) is masked with
    probability p."""
    _check_p(p)
    return _dropout(input, p, training, inplace, feature=True, alpha=True)


def _feature_dropout_unbatched(input, p, training, inplace, batched):
    """Channel-wise dropout; an input without a batch dim gets one for the duration, as PyTorch."""
    if not batched:
        input = input.unsqueeze_(0) if inplace else input.unsqueeze(0)
    out = _dropout(input, p, training, inplace, feature=True)
    if not batched:
        out = out.squeeze_(0) if inplace else out.squeeze(0)
    return out


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """In training, zeroes whole channels of input (N, C, L) or (C, L) with probability p and scales the rest by
    1 / (1 - p)."""
    _check_p(p)
    dim = input.dim()
    if dim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {dim}D input. Note that dropout1d exists to "
            "provide channel-wise dropout on inputs with 1 spatial dimension, a channel dimension, and an "
            "optional batch dimension (i.e. 2D or 3D inputs)."
        )
    return _feature_dropout_unbatched(input, p, training, inplace, dim == 3)


def _warn_feature_dims(name, dim, spatial):
    warnings.warn(
        f"{name}: Received a {dim}-D input to {name}, which is deprecated and will result in an error in a future "
        f"release. To retain the behavior and silence this warning, please use dropout instead. Note that {name} "
        f"exists to provide channel-wise dropout on inputs with {spatial} spatial dimensions, a channel dimension, "
        f"and an optional batch dimension (i.e. {spatial + 1}D or {spatial + 2}D inputs).",
        stacklevel=3,
    )


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """In training, zeroes whole channels of input (N, C, H, W) with probability p and scales the rest by
    1 / (1 - p). A 3-D input is taken as (N, C, L) (1-D channel-wise dropout, with PyTorch's warning)."""
    _check_p(p)
    dim = input.dim()
    if dim not in (3, 4):
        _warn_feature_dims("dropout2d", dim, 2)
    if dim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior is "
            "desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior will "
            "change in a future release to interpret the input as one without a batch dimension, i.e. shape "
            "(C, H, W). To maintain the 1D channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2,
        )
    return _dropout(input, p, training, inplace, feature=True)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """In training, zeroes whole channels of input (N, C, D, H, W) or (C, D, H, W) with probability p and scales
    the rest by 1 / (1 - p)."""
    _check_p(p)
    dim = input.dim()
    if dim not in (4, 5):
        _warn_feature_dims("dropout3d", dim, 3)
    return _feature_dropout_unbatched(input, p, training, inplace, dim == 5)


_EPS = {_C.dtype.float32: 1.1920928955078125e-07, _C.dtype.float64: 2.220446049250313e-16}


def rms_norm(
    input: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None, eps: float | None = None
) -> Tensor:
    """Root mean square layer normalisation over the trailing dims given by normalized_shape:
    x / sqrt(mean(x^2) + eps) * weight; eps=None means the machine epsilon of input's dtype."""
    dims = _normalized_dims(input, normalized_shape)
    if weight is not None and tuple(weight.shape) != tuple(input.shape[input.dim() - len(dims) :]):
        raise RuntimeError(
            f"Expected weight to be of same shape as normalized_shape, but got weight of shape "
            f"{list(weight.shape)} and normalized_shape = {list(input.shape[input.dim() - len(dims) :])}"
        )
    if eps is None:
        eps = _EPS.get(input.dtype, _EPS[_C.dtype.float32])
    out = input * (input.square().mean(dims, keepdim=True) + eps).rsqrt()
    # the input's dtype whatever the weight's, as PyTorch's
    return out if weight is None else (out * weight).to(input.dtype)


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Tensor:
    """Local response normalisation across channels (dim 1) of input (N, C, *):
    x / (k + alpha * mean of x^2 over the `size` neighbouring channels)^beta, the window zero-padded at the ends."""
    dim = input.dim()
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality                          input (got {dim} dimensions)")
    if input.numel() == 0:
        return input
    sq = input * input
    n, c = input.shape[0], input.shape[1]
    rest = tuple(input.shape[2:])
    padded = _C.cat(
        [
            zeros(n, size // 2, *rest, dtype=input.dtype, device=input.device),
            sq,
            zeros(n, (size - 1) // 2, *rest, dtype=input.dtype, device=input.device),
        ],
        1,
    )
    window = padded.narrow(1, 0, c)
    for i in range(1, size):
        window = window + padded.narrow(1, i, c)
    return input / (window / size * alpha + k).pow(beta)


def _group_bounds(offs, groups: int, total: int, what: str) -> list[tuple[int, int]]:
    """(start, end) of each group from offs, the groups' cumulative ends (int32, PyTorch's layout)."""
    if offs is None:
        raise RuntimeError(f"grouped_mm: offs must be given when {what} is 2D")
    if offs.dtype != _C.dtype.int32 or offs.dim() != 1:
        raise RuntimeError(f"grouped_mm: offs must be a 1D int32 tensor, got {offs.dim()}D {offs.dtype}")
    ends = [int(e) for e in offs.tolist()]
    if len(ends) != groups and groups != -1:
        raise RuntimeError(f"grouped_mm: offs has {len(ends)} groups, but mat_b has {groups}")
    starts = [0] + ends[:-1]
    if any(e < s for s, e in zip(starts, ends)) or (ends and ends[-1] > total):
        raise RuntimeError(f"grouped_mm: offs {ends} must be non-decreasing and at most {total}")
    return list(zip(starts, ends))


def _cat_with_zeros(parts, filled: int, total: int, zeros_shape, dim: int, like: Tensor):
    """parts joined along dim, then zeros (of like's dtype and device) for what lies past the last group
    (filled of total)."""
    if filled < total:
        parts.append(zeros(*zeros_shape(total - filled), dtype=like.dtype, device=_device_of(like)))
    return _C.cat(parts, dim)


def grouped_mm(mat_a, mat_b, *, offs=None, bias=None, out_dtype=None):
    """Matrix products over groups of rows or columns, as Mixture-of-Experts layers use (PyTorch's
    F.grouped_mm, which runs on the CPU for float32 too). ``offs`` holds each group's cumulative end:

    - a 2D (M, K), b 3D (G, K, N): rows offs[g-1]:offs[g] of a times b[g], an (M, N) result;
    - a 3D (G, M, K), b 3D (G, K, N): one product per group (offs None), (G, M, N);
    - a 2D (M, K), b 2D (K, N): the K range of each group (weight gradients), (G, M, N);
    - a 3D (G, M, K), b 2D (K, N): a[g] times columns offs[g-1]:offs[g] of b, (M, N).

    Rows or columns past offs[-1] are zero (PyTorch leaves them unwritten). Composed of matmuls, so
    backward works (PyTorch's CPU backward does not)."""
    from .._householder import _check_tensors

    _check_tensors("grouped_mm", mat_a=mat_a, mat_b=mat_b)
    if bias is not None:
        raise RuntimeError("Bias not supported yet")
    if mat_a.dim() not in (2, 3) or mat_b.dim() not in (2, 3):
        raise RuntimeError(f"grouped_mm: mat_a and mat_b must be 2D or 3D, got {mat_a.dim()}D and {mat_b.dim()}D")
    if mat_a.dtype != mat_b.dtype:
        raise RuntimeError(f"grouped_mm: mat_a and mat_b must have the same dtype, got {mat_a.dtype} and {mat_b.dtype}")
    if mat_a.shape[-1] != mat_b.shape[-2]:
        raise RuntimeError("contraction dimension of mat_a and mat_b must match")
    a3, b3 = mat_a.dim() == 3, mat_b.dim() == 3
    if a3 and b3:
        if offs is not None:
            raise RuntimeError("grouped_mm: offs must be None when mat_a and mat_b are both 3D")
        if mat_a.shape[0] != mat_b.shape[0]:
            raise RuntimeError(f"grouped_mm: {mat_a.shape[0]} groups in mat_a but {mat_b.shape[0]} in mat_b")
        out = _C.matmul(mat_a, mat_b)
    elif b3:  # groups of a's rows
        m = mat_a.shape[0]
        bounds = _group_bounds(offs, mat_b.shape[0], m, "mat_a")
        parts = [_C.matmul(mat_a[s:e], mat_b[g]) for g, (s, e) in enumerate(bounds)]
        filled = bounds[-1][1] if bounds else 0
        out = _cat_with_zeros(parts, filled, m, lambda rest: (rest, mat_b.shape[-1]), 0, mat_a)
    elif a3:  # groups of b's columns
        n = mat_b.shape[1]
        bounds = _group_bounds(offs, mat_a.shape[0], n, "mat_b")
        parts = [_C.matmul(mat_a[g], mat_b[:, s:e]) for g, (s, e) in enumerate(bounds)]
        filled = bounds[-1][1] if bounds else 0
        out = _cat_with_zeros(parts, filled, n, lambda rest: (mat_a.shape[1], rest), 1, mat_a)
    else:  # groups of the shared K
        bounds = _group_bounds(offs, -1, mat_a.shape[1], "mat_a")
        out = _C.stack([_C.matmul(mat_a[:, s:e], mat_b[s:e]) for s, e in bounds], 0)
    return out if out_dtype is None or out_dtype == out.dtype else out.to(out_dtype)
