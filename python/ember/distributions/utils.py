"""Helpers shared by the distributions, as torch.distributions.utils."""

from __future__ import annotations

import numbers
from typing import Any, Callable

from .. import _C
from .._composite_shape import broadcast_tensors
from .._creation import tensor
from .._dtype_info import finfo
from ..nn import functional as F

__all__ = [
    "broadcast_all",
    "clamp_probs",
    "lazy_property",
    "logits_to_probs",
    "probs_to_logits",
    "tril_matrix_to_vec",
    "vec_to_tril_matrix",
]


def broadcast_all(*values: Any) -> tuple:
    """The arguments as tensors of one broadcast shape; numbers become tensors of the first tensor's dtype
    (of the default dtype when all are numbers)."""
    if not all(isinstance(v, (_C.Tensor, numbers.Number)) for v in values):
        raise ValueError(
            "Input arguments must all be instances of numbers.Number, torch.Tensor or objects implementing "
            "__torch_function__."
        )
    like = next((v for v in values if isinstance(v, _C.Tensor)), None)
    options = {"dtype": like.dtype, "device": like.device} if like is not None else {}
    tensors = [v if isinstance(v, _C.Tensor) else tensor(float(v), **options) for v in values]
    return tuple(broadcast_tensors(*tensors)) if len(tensors) > 1 else tuple(tensors)


def clamp_probs(probs: Any) -> Any:
    """probs clamped into [eps, 1 - eps] of their dtype, so that their logs stay finite."""
    eps = finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def logits_to_probs(logits: Any, is_binary: bool = False) -> Any:
    """Probabilities from logits: a sigmoid for one binary event, else a softmax over the last dim."""
    return logits.sigmoid() if is_binary else F.softmax(logits, dim=-1)


def probs_to_logits(probs: Any, is_binary: bool = False) -> Any:
    """Logits from probabilities (clamped first): log(p) - log1p(-p) for binary events, else log(p)."""
    ps = clamp_probs(probs)
    return ps.log() - (-ps).log1p() if is_binary else ps.log()


class lazy_property:
    """A property computed on first use and then stored on the instance (logits from probs, or back)."""

    def __init__(self, wrapped: Callable[[Any], Any]) -> None:
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__

    def __get__(self, instance: Any, obj_type: Any = None) -> Any:
        if instance is None:
            return self
        from ..grad_mode import enable_grad

        with enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


def sum_rightmost(value: Any, dim: int) -> Any:
    """value summed over its `dim` rightmost dims."""
    return value.reshape(*value.shape[: value.dim() - dim], -1).sum(-1) if dim > 0 else value


_sum_rightmost = sum_rightmost  # PyTorch's private name, which flow libraries import (zuko)
euler_constant = 0.57721566490153286060  # the Euler-Mascheroni constant, as PyTorch's utils give it


def _standard_normal(shape: Any, dtype: Any, device: Any) -> Any:
    """Standard normal draws of ``shape`` (PyTorch's private helper, used by distribution libraries)."""
    from .._creation import empty

    return empty(tuple(shape), dtype=dtype, device=device).normal_()


def _tril_positions(n: int, diag: int) -> list[int]:
    """Flat positions (row-major) of the entries of an n x n matrix on or below diagonal `diag`."""
    return [i * n + j for i in range(n) for j in range(n) if j <= i + diag]


def tril_matrix_to_vec(mat: Any, diag: int = 0) -> Any:
    """The entries of a (batch of) square matrices on or below diagonal `diag`, row by row, as vectors."""
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    index = tensor(_tril_positions(n, diag), device=mat.device).long()
    return mat.flatten(-2)[..., index]


def vec_to_tril_matrix(vec: Any, diag: int = 0) -> Any:
    """The inverse of tril_matrix_to_vec: a (batch of) square matrices, zero above diagonal `diag`."""
    b = 1 + 2 * diag
    n = (-b + (b * b + 8 * vec.shape[-1] + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    if round(n) - n > finfo(vec.dtype).eps:
        raise ValueError(
            f"The size of last dimension is {vec.shape[-1]} which cannot be expressed as "
            "the lower triangular part of a square D x D matrix."
        )
    n = round(n)
    # every entry picks an element of [0, *vec]: 0 above the diagonal (an index, so it differentiates)
    picks = [0] * (n * n)
    for k, pos in enumerate(_tril_positions(n, diag)):
        picks[pos] = k + 1
    padded = F.pad(vec, [1, 0], value=0.0)
    return padded[..., tensor(picks, device=vec.device).long()].reshape(*vec.shape[:-1], n, n)
