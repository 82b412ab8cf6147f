"""Folding an eval-mode BatchNorm into the convolution or linear layer before it (torch.nn.utils.fusion).

In eval mode BatchNorm is the affine map y = (x - running_mean) / sqrt(running_var + eps) * weight + bias per
channel, so it can be absorbed into the preceding layer's weight and bias: one layer instead of two at inference.
"""

from __future__ import annotations

import copy
from typing import TypeVar

from ..._C import Tensor
from ..._creation import ones_like, zeros_like
from ..modules.batchnorm import _BatchNorm
from ..modules.conv import _ConvNd
from ..modules.linear import Linear
from ..parameter import Parameter

__all__ = ["fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval", "fuse_linear_bn_weights"]

ConvT = TypeVar("ConvT", bound=_ConvNd)
LinearT = TypeVar("LinearT", bound=Linear)


def _check_eval(layer: object, bn: _BatchNorm) -> None:
    """Fusion uses the running statistics, which only eval-mode BatchNorm applies."""
    if layer.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("bn.running_mean and bn.running_var must not be None")


def fuse_conv_bn_eval(conv: ConvT, bn: _BatchNorm, transpose: bool = False) -> ConvT:
    """A new convolution (a deep copy of conv) equal to conv followed by bn, both in eval mode.

    transpose=True for a transposed convolution, whose output channels are weight dim 1.
    """
    _check_eval(conv, bn)
    fused = copy.deepcopy(conv)
    fused.weight, fused.bias = fuse_conv_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias, transpose
    )
    return fused


def fuse_conv_bn_weights(
    conv_w: Tensor,
    conv_b: Tensor | None,
    bn_rm: Tensor,
    bn_rv: Tensor,
    bn_eps: float,
    bn_w: Tensor | None,
    bn_b: Tensor | None,
    transpose: bool = False,
) -> tuple[Parameter, Parameter]:
    """The fused convolution (weight, bias) as Parameters: weight scaled per output channel by
    bn_w / sqrt(bn_rv + eps), bias (conv_b - bn_rm) * that scale + bn_b; dtypes kept."""
    weight_dtype = conv_w.dtype
    bias_dtype = conv_b.dtype if conv_b is not None else weight_dtype
    if conv_b is None:
        conv_b = zeros_like(bn_rm)
    if bn_w is None:
        bn_w = ones_like(bn_rm)
    if bn_b is None:
        bn_b = zeros_like(bn_rm)
    var_rsqrt = (bn_rv + bn_eps).rsqrt()
    fused_w = _scale_output_channels(conv_w, bn_w * var_rsqrt, transpose).to(dtype=weight_dtype)
    fused_b = ((conv_b - bn_rm) * var_rsqrt * bn_w + bn_b).to(dtype=bias_dtype)
    return Parameter(fused_w.detach(), conv_w.requires_grad), Parameter(fused_b.detach(), conv_b.requires_grad)


def _scale_output_channels(conv_w: Tensor, scale: Tensor, transpose: bool) -> Tensor:
    """conv_w with each output channel's kernel multiplied by scale[channel].

    A transposed weight is (in_channels, out_channels // groups, *k): with groups > 1 output channel
    g * (out // groups) + j is row j of dim 1 within group g's block of dim 0 (PyTorch's fusion only handles
    groups=1 there and fails on a shape mismatch).
    """
    rest = [1] * (conv_w.dim() - 2)
    if not transpose:
        return conv_w * scale.reshape([-1, 1, *rest])
    per_group = conv_w.shape[1]
    groups = scale.shape[0] // per_group
    if groups == 1:
        return conv_w * scale.reshape([1, -1, *rest])
    blocks = conv_w.reshape([groups, conv_w.shape[0] // groups, *conv_w.shape[1:]])
    return (blocks * scale.reshape([groups, 1, per_group, *rest])).reshape(list(conv_w.shape))


def fuse_linear_bn_eval(linear: LinearT, bn: _BatchNorm) -> LinearT:
    """A new Linear (a deep copy of linear) equal to linear followed by bn, both in eval mode.

    bn's features must match linear's output features (or be 1, broadcast), as PyTorch requires.
    """
    _check_eval(linear, bn)
    if linear.out_features != bn.num_features and bn.num_features != 1:
        raise AssertionError(
            "To fuse, linear.out_features == bn.num_features or bn.num_features == 1, "
            f"got linear.out_features={linear.out_features} and bn.num_features={bn.num_features}"
        )
    fused = copy.deepcopy(linear)
    fused.weight, fused.bias = fuse_linear_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias
    )
    return fused


def fuse_linear_bn_weights(
    linear_w: Tensor,
    linear_b: Tensor | None,
    bn_rm: Tensor,
    bn_rv: Tensor,
    bn_eps: float,
    bn_w: Tensor,
    bn_b: Tensor,
) -> tuple[Parameter, Parameter]:
    """The fused Linear (weight, bias) as Parameters: rows scaled by bn_w / sqrt(bn_rv + eps), bias
    (linear_b - bn_rm) * that scale + bn_b; dtypes kept."""
    weight_dtype = linear_w.dtype
    bias_dtype = linear_b.dtype if linear_b is not None else weight_dtype
    if linear_b is None:
        linear_b = zeros_like(bn_rm)
    scale = bn_w * (bn_rv + bn_eps).rsqrt()
    fused_w = linear_w * scale.unsqueeze(-1).to(dtype=weight_dtype)
    fused_b = ((linear_b - bn_rm) * scale + bn_b).to(dtype=bias_dtype)
    return Parameter(fused_w.detach(), linear_w.requires_grad), Parameter(fused_b.detach(), linear_b.requires_grad)
