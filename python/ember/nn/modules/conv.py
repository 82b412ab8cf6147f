"""Conv1d/2d/3d and ConvTranspose1d/2d/3d over nn.functional's convolutions (conv2d is the C++ op, its backward
ConvolutionBackward0; the others are compositions over it)."""

from __future__ import annotations

import warnings
from typing import Any

from ... import _C
from ..._C import Tensor
from .. import functional as F
from .._functional_conv import _ntuple, same_padding
from ..parameter import Parameter
from ._utils import new_empty, register_weight_and_bias, reset_kaiming_uniform
from .module import Module

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """The options, parameters and repr shared by the convolution layers (PyTorch's _ConvNd).

    weight: (out_channels, in_channels // groups, *kernel_size), or (in_channels, out_channels // groups,
    *kernel_size) when transposed; bias (out_channels,); both initialised from U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    """

    _dims = 2

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride,
        padding,
        dilation,
        transposed: bool,
        output_padding,
        groups: int,
        bias: bool,
        padding_mode: str,
        device: str | _C.device | None = None,
        dtype: _C.dtype | None = None,
    ) -> None:
        super().__init__()
        nd = self._dims
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        stride = _ntuple(stride, nd)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of {{'same', 'valid'}}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                "padding_mode must be one of {'zeros', 'reflect', 'replicate', 'circular'}, but got "
                f"padding_mode='{padding_mode}'"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _ntuple(kernel_size, nd)
        self.stride = stride
        self.padding = padding if isinstance(padding, str) else _ntuple(padding, nd)
        self.dilation = _ntuple(dilation, nd)
        self.transposed = transposed
        self.output_padding = _ntuple(output_padding, nd)
        self.groups = groups
        self.padding_mode = padding_mode
        # F.pad's order (last dim first) of the padding a non-'zeros' padding_mode applies before the convolution.
        if self.padding == "same":
            lo, hi = same_padding(self.kernel_size, self.dilation)
        elif self.padding == "valid":
            lo = hi = [0] * nd
        else:
            lo = hi = list(self.padding)
        self._reversed_padding_repeated_twice = [p for a, b in zip(reversed(lo), reversed(hi)) for p in (a, b)]
        shape = (in_channels, out_channels // groups) if transposed else (out_channels, in_channels // groups)
        register_weight_and_bias(self, shape + self.kernel_size, bias and not transposed, device, dtype)
        if bias and transposed:  # out_channels entries, which is not weight.shape[0] here
            self.bias = Parameter(new_empty((out_channels,), device, dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialises weight and bias as PyTorch (kaiming_uniform_ with a=sqrt(5))."""
        reset_kaiming_uniform(self.weight, self.bias)

    def extra_repr(self) -> str:
        """The channels, kernel size and stride, and the options that differ from their defaults."""
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * len(self.padding):
            s += f", padding={self.padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    """A forward convolution layer of `_dims` spatial dims over `_conv` (F.conv1d/2d/3d)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, ...],
        stride: int | tuple[int, ...] = 1,
        padding: str | int | tuple[int, ...] = 0,
        dilation: int | tuple[int, ...] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: str | _C.device | None = None,
        dtype: _C.dtype | None = None,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            False,
            0,
            groups,
            bias,
            padding_mode,
            device,
            dtype,
        )

    @staticmethod
    def _conv(*args):
        raise NotImplementedError

    def _conv_forward(self, input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        """The convolution of input with the given weight and bias and the layer's options (padding_mode applied
        first); PyTorch's hook for subclasses that transform the weight (weight standardisation, ...)."""
        if self.padding_mode != "zeros":
            padded = F.pad(input, self._reversed_padding_repeated_twice, self.padding_mode)
            return self._conv(padded, weight, bias, self.stride, 0, self.dilation, self.groups)
        return self._conv(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input: Tensor) -> Tensor:
        """The convolution of input with the layer's weight and bias."""
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(_Conv):
    """Applies a 1-D convolution over an input (N, C_in, L) or (C_in, L): output (N, C_out, L_out),
    L_out = (L + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1. padding may be an int, 'valid' or
    'same'; padding_mode 'zeros', 'reflect', 'replicate' or 'circular'."""

    _dims = 1
    _conv = staticmethod(F.conv1d)


class Conv2d(_Conv):
    """Applies a 2-D convolution over an input (N, C_in, H, W) or (C_in, H, W): output (N, C_out, H_out, W_out),
    H_out = (H + 2 * padding[0] - dilation[0] * (kH - 1) - 1) // stride[0] + 1, and likewise W_out.

    weight (out_channels, in_channels // groups, kH, kW), bias (out_channels,); padding may be an int, a pair,
    'valid' or 'same'; padding_mode 'zeros', 'reflect', 'replicate' or 'circular'.
    """

    _dims = 2
    _conv = staticmethod(F.conv2d)


class Conv3d(_Conv):
    """Applies a 3-D convolution over an input (N, C_in, D, H, W) or (C_in, D, H, W): output
    (N, C_out, D_out, H_out, W_out), each size as Conv2d's. padding may be an int, a triple, 'valid' or 'same';
    padding_mode 'zeros', 'reflect', 'replicate' or 'circular'."""

    _dims = 3
    _conv = staticmethod(F.conv3d)


class _ConvTranspose(_ConvNd):
    """A transposed convolution layer of `_dims` spatial dims over `_conv_transpose`."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, ...],
        stride: int | tuple[int, ...] = 1,
        padding: int | tuple[int, ...] = 0,
        output_padding: int | tuple[int, ...] = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: int | tuple[int, ...] = 1,
        padding_mode: str = "zeros",
        device: str | _C.device | None = None,
        dtype: _C.dtype | None = None,
    ) -> None:
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {self.__class__.__name__}')
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            True,
            output_padding,
            groups,
            bias,
            padding_mode,
            device,
            dtype,
        )

    @staticmethod
    def _conv_transpose(*args):
        raise NotImplementedError

    def _output_padding(self, input: Tensor, output_size) -> tuple[int, ...]:
        """output_padding, or the one that makes the output output_size (spatial sizes, optionally with the
        leading batch/channel sizes), as PyTorch."""
        if output_size is None:
            return self.output_padding
        nd = self._dims
        non_spatial = 2 if input.dim() == nd + 2 else 1
        output_size = list(output_size)
        if len(output_size) == non_spatial + nd:
            output_size = output_size[non_spatial:]
        if len(output_size) != nd:
            raise ValueError(
                f"ConvTranspose{nd}D: for {input.dim()}D input, output_size must have {nd} or {non_spatial + nd} "
                f"elements (got {len(output_size)})"
            )
        min_sizes = [
            (input.shape[d + non_spatial] - 1) * self.stride[d]
            - 2 * self.padding[d]
            + self.dilation[d] * (self.kernel_size[d] - 1)
            + 1
            for d in range(nd)
        ]
        max_sizes = [m + s - 1 for m, s in zip(min_sizes, self.stride)]
        for size, lo, hi in zip(output_size, min_sizes, max_sizes):
            if size < lo or size > hi:
                raise ValueError(
                    f"requested an output size of {output_size}, but valid sizes range from {min_sizes} to "
                    f"{max_sizes} (for an input of {input.shape[non_spatial:]})"
                )
        return tuple(size - lo for size, lo in zip(output_size, min_sizes))

    def forward(self, input: Tensor, output_size: list[int] | None = None) -> Tensor:
        """The transposed convolution of input; output_size (optional) picks the output_padding."""
        output_padding = self._output_padding(input, output_size)
        return self._conv_transpose(
            input, self.weight, self.bias, self.stride, self.padding, output_padding, self.groups, self.dilation
        )


class ConvTranspose1d(_ConvTranspose):
    """Applies a 1-D transposed convolution over an input (N, C_in, L) or (C_in, L): the gradient of Conv1d with
    respect to its input. L_out = (L - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding
    + 1. weight (in_channels, out_channels // groups, kernel_size)."""

    _dims = 1
    _conv_transpose = staticmethod(F.conv_transpose1d)


class ConvTranspose2d(_ConvTranspose):
    """Applies a 2-D transposed convolution over an input (N, C_in, H, W) or (C_in, H, W): the gradient of Conv2d
    with respect to its input. H_out = (H - 1) * stride[0] - 2 * padding[0] + dilation[0] * (kH - 1) +
    output_padding[0] + 1, W likewise. weight (in_channels, out_channels // groups, kH, kW)."""

    _dims = 2
    _conv_transpose = staticmethod(F.conv_transpose2d)


class ConvTranspose3d(_ConvTranspose):
    """Applies a 3-D transposed convolution over an input (N, C_in, D, H, W) or (C_in, D, H, W): the gradient of
    Conv3d with respect to its input. weight (in_channels, out_channels // groups, kD, kH, kW)."""

    _dims = 3
    _conv_transpose = staticmethod(F.conv_transpose3d)


_ConvTransposeNd = _ConvTranspose  # PyTorch's name for the transposed convolutions' base class


class _ConvTransposeMixin(_ConvTranspose):
    """PyTorch's deprecated internal base of transposed convolutions (mmengine imports it); warns when made."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        warnings.warn(
            "`_ConvTransposeMixin` is a deprecated internal class. Please consider using public APIs.",
            FutureWarning,
            stacklevel=2,
        )
        super().__init__(*args, **kwargs)
