"""Distances between vectors, as torch.cdist / torch.pdist / torch.pairwise_distance / torch.cosine_similarity
(nn.functional re-exports the last three). Composed of differentiable ops: the gradient at a zero distance is
0, as PyTorch's backward formulas define it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import _C, _dtype_info
from ._autocast import float32_under_autocast
from ._creation import _device_of, ones, ones_like
from ._dtype_info import _scalar_name
from .grad_mode import no_grad

if TYPE_CHECKING:
    from ._C import Tensor

__all__ = ["cdist", "pdist", "pairwise_distance", "cosine_similarity"]

_CDIST_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist")


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """The p-norm distance between each pair of rows of x1 (*, P, M) and x2 (*, R, M): a (*, P, R) tensor, the
    batch dims broadcast.

    p=2 is computed through a matrix product (|a|^2 + |b|^2 - 2 a.b, as PyTorch) with
    compute_mode='use_mm_for_euclid_dist', or with the default when P or R exceeds 25; otherwise, and with
    'donot_use_mm_for_euclid_dist', as the norm of the differences (more exact, (*, P, R, M) memory).
    """
    x1, x2 = float32_under_autocast(("cpu", "cuda"), x1, x2)
    if compute_mode not in _CDIST_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    for name, t in (("X1", x1), ("X2", x2)):
        if t.dim() < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {t.dim()}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    for name, t in (("X1", x1), ("X2", x2)):
        if not t.is_floating_point():
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: {_scalar_name(t.dtype)}")
    if x1.dtype != x2.dtype:
        raise RuntimeError(f"expected scalar type {_scalar_name(x1.dtype)} but found {_scalar_name(x2.dtype)}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    mode = _CDIST_MODES.index(compute_mode)
    if p == 2 and (mode == 1 or (mode == 0 and (x1.shape[-2] > 25 or x2.shape[-2] > 25))):
        return _euclidean_dist(x1, x2)
    return (x1.unsqueeze(-2) - x2.unsqueeze(-3)).norm(p, -1)


def _euclidean_dist(x1, x2):
    """sqrt(|a|^2 + |b|^2 - 2 a.b) as one matmul of augmented rows [-2a, |a|^2, 1] . [b, 1, |b|^2] (PyTorch's
    _euclidean_dist); negative rounding is clamped to 0, where the gradient is 0."""
    n1 = x1.square().sum(-1, keepdim=True)
    n2 = x2.square().sum(-1, keepdim=True)
    a = _C.cat([x1 * -2.0, n1, ones_like(n1)], -1)
    b = _C.cat([x2, ones_like(n2), n2], -1)
    d2 = a.matmul(b.transpose(-1, -2)).clamp(min=0.0)
    zero = d2 == 0
    return _C.where(zero, 0.0, _C.where(zero, 1.0, d2).sqrt())


def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """The p-norm distance between each pair of rows of input (N, M), i < j, in row-major order: N (N - 1) / 2
    values (the upper triangle of cdist(input, input), without the diagonal)."""
    (input,) = float32_under_autocast(("cuda",), input)
    if input.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.dim()}D")
    if not input.is_floating_point():
        raise RuntimeError("pdist only supports floating-point dtypes")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    n = input.shape[0]
    pairs = ones(n, n, device=_device_of(input)).triu(1).nonzero()
    return (input.index_select(0, pairs[:, 0]) - input.index_select(0, pairs[:, 1])).norm(p, -1)


def pairwise_distance(
    x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False, *, keepdims: bool | None = None
) -> Tensor:
    """The p-norm of x1 - x2 + eps over the last dim (of the broadcast shape); keepdims is numpy's keepdim."""
    if keepdims is not None:
        keepdim = keepdims
    last = max(x1.dim(), x2.dim()) - 1
    return (x1 - x2 + eps).norm(p, last, keepdim)


def _broadcast_shape(a, b):
    a, b = tuple(a), tuple(b)
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    for i in reversed(range(n)):  # from the last dim, as PyTorch: its error names the last mismatch
        if a[i] != b[i] and 1 not in (a[i], b[i]):
            raise RuntimeError(
                f"The size of tensor a ({a[i]}) must match the size of tensor b ({b[i]}) at non-singleton dimension {i}"
            )
    return tuple(y if x == 1 else x for x, y in zip(a, b))


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8, *, axis: int | None = None) -> Tensor:
    """The cosine of the angle between x1 and x2 along dim (the two broadcast first): sum(x1 / |x1| * x2 / |x2|).

    Each norm is raised to eps at least for the value only, as PyTorch (the gradient flows through the norm
    as computed), so a zero vector gives 0. axis is numpy's name for dim.
    """
    x1, x2 = float32_under_autocast(("cuda",), x1, x2)
    if axis is not None:
        dim = axis
    common = _C.result_type(x1, x2)
    if not common.is_floating_point:
        raise RuntimeError(
            f"expected common dtype to be floating point, yet common dtype is {_dtype_info._scalar_name(common)}"
        )
    shape = _broadcast_shape(x1.shape, x2.shape)
    x1, x2 = x1.to(common).expand(shape), x2.to(common).expand(shape)
    n1 = x1.norm(2, dim, keepdim=True).clone()
    n2 = x2.norm(2, dim, keepdim=True).clone()
    with no_grad():
        n1.clamp_(min=eps)
        n2.clamp_(min=eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)
