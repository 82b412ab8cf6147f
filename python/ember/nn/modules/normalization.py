"""LayerNorm and RMSNorm normalise over the trailing `normalized_shape` dims, then an elementwise affine;
GroupNorm over groups of channels; LocalResponseNorm across neighbouring channels."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ... import _C
from ..._C import Tensor
from ..._creation import tensor
from ...autograd.function import Function, once_differentiable
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ._utils import new_empty
from .module import Module

__all__ = ["CrossMapLRN2d", "GroupNorm", "LayerNorm", "LocalResponseNorm", "RMSNorm"]


class LayerNorm(Module):
    """Applies Layer Normalization over the trailing dims given by normalized_shape:
    y = (x - mean) / sqrt(var + eps) * weight + bias, with the biased variance.

    weight (ones) and bias (zeros) have shape normalized_shape and exist only if elementwise_affine
    (bias only if bias is True too).
    """

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device: str | _C.device | None = None,
        dtype: _C.dtype | None = None,
    ) -> None:
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(new_empty(self.normalized_shape, device, dtype))
            if bias:
                self.bias = Parameter(new_empty(self.normalized_shape, device, dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Resets weight to ones and bias to zeros."""
        if self.elementwise_affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        """Returns layer_norm(input) with the layer's shape, weight, bias and eps."""
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        """normalized_shape and the options."""
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
            f"bias={self.bias is not None}"
        )


class GroupNorm(Module):
    """Applies Group Normalization: the C channels split into num_groups groups, each normalised over its
    channels and the spatial dims of each sample; weight (ones) and bias (zeros) per channel when affine."""

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        device: str | _C.device | None = None,
        dtype: _C.dtype | None = None,
    ) -> None:
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError("num_channels must be divisible by num_groups")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        if affine:
            self.weight = Parameter(new_empty((num_channels,), device, dtype))
            self.bias = Parameter(new_empty((num_channels,), device, dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Resets weight to ones and bias to zeros."""
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        """Returns group_norm(input) with the layer's groups, weight, bias and eps."""
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        """num_groups, num_channels and the options."""
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class RMSNorm(Module):
    """Applies Root Mean Square Layer Normalization over the trailing dims given by normalized_shape:
    y = x / sqrt(mean(x^2) + eps) * weight; eps=None means the machine epsilon of the input's dtype, weight
    (ones, shape normalized_shape) exists only if elementwise_affine."""

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float | None = None,
        elementwise_affine: bool = True,
        device: str | _C.device | None = None,
        dtype: _C.dtype | None = None,
    ) -> None:
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(new_empty(self.normalized_shape, device, dtype))
        else:
            self.register_parameter("weight", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Resets weight to ones."""
        if self.elementwise_affine:
            init.ones_(self.weight)

    def forward(self, x: Tensor) -> Tensor:
        """Returns rms_norm(x) with the layer's shape, weight and eps."""
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        """normalized_shape and the options."""
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class LocalResponseNorm(Module):
    """Applies local response normalisation across the channels (dim 1) of an input (N, C, *):
    y = x / (k + alpha * mean of x^2 over `size` neighbouring channels)^beta."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> None:
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input: Tensor) -> Tensor:
        """Returns local_response_norm(input) with the layer's options."""
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        """size and the options."""
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


def _cross_map_windows(channels: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The (C, C) 0/1 channel windows of the legacy (Lua Torch) cross-map LRN, forward and backward.

    The forward is PyTorch's running sum replayed on indicator rows: it starts with the first (size - 1) // 2 + 1
    channels and, for each next channel, adds the one entering the window and drops the one leaving it only once
    c > pre_pad (so channel 0 is never dropped: a quirk PyTorch keeps). The backward window is the one PyTorch's
    hand-written backward sums over, [c - inversePrePad, c - inversePrePad + size), which is not the transpose of
    the forward's; it is reproduced as is so gradients agree with PyTorch's."""
    pre_pad = int((size - 1) / 2 + 1)
    fwd = np.zeros((channels, channels))
    fwd[0, : min(pre_pad, channels)] = 1.0
    for c in range(1, channels):
        fwd[c] = fwd[c - 1]
        if c < channels - pre_pad + 1:
            fwd[c, c + pre_pad - 1] += 1.0
        if c > pre_pad:
            fwd[c, c - pre_pad] -= 1.0
    inverse_pre_pad = int(size - (size - 1) / 2)
    c, d = np.arange(channels)[:, None], np.arange(channels)[None, :]
    bwd = ((d >= c - inverse_pre_pad) & (d < c - inverse_pre_pad + size)).astype(np.float64)
    return fwd, bwd


def _mix_channels(window: Tensor, x: Tensor) -> Tensor:
    """out[n, c] = sum_d window[c, d] * x[n, d] for x (N, C, H, W): one matmul over the channels-last view."""
    return _C.matmul(x.permute(0, 2, 3, 1), window.t()).permute(0, 3, 1, 2)


class _CrossMapLRN2dFunction(Function):
    """PyTorch's torch.nn._functions.CrossMapLRN2d: the forward window sum and the legacy backward formula
    grad * scale^-beta - 2 alpha beta / size * x * window_sum(grad * out / scale), both as ember ops."""

    @staticmethod
    def forward(ctx: Any, input: Tensor, size: int, alpha: float, beta: float, k: float) -> Tensor:
        if input.dim() != 4:
            raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.dim()}D instead.")
        fwd, bwd = _cross_map_windows(input.size(1), size)
        fwd_t = tensor(fwd, dtype=input.dtype).to(input.device)
        scale = _mix_channels(fwd_t, input * input) * (alpha / size) + k
        output = input * scale.pow(-beta)
        ctx.save_for_backward(input, output, scale)
        ctx.options = (size, alpha, beta)
        ctx.bwd = tensor(bwd, dtype=input.dtype).to(input.device)
        return output

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad_output: Tensor) -> tuple[Tensor | None, ...]:
        input, output, scale = ctx.saved_tensors
        size, alpha, beta = ctx.options
        ratio = _mix_channels(ctx.bwd, grad_output * output / scale)
        grad_input = scale.pow(-beta) * grad_output - (2 * alpha * beta / size) * input * ratio
        return grad_input, None, None, None, None


class CrossMapLRN2d(Module):
    """The legacy (Lua Torch) local response normalisation across the channels of a 4-D input (N, C, H, W):
    y = x * (k + alpha / size * sum of x^2 over a channel window)^-beta. Kept for models ported from it; its
    window and backward follow PyTorch's exactly (see _cross_map_windows), LocalResponseNorm is the modern one."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1) -> None:
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input: Tensor) -> Tensor:
        """The normalised input (a custom autograd Function, as PyTorch's)."""
        return _CrossMapLRN2dFunction.apply(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        """size and the options."""
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
