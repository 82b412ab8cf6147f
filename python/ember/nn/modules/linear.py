"""Identity, Linear and Bilinear layers."""

from __future__ import annotations

import math
from typing import Any

from ... import _C
from ..._C import Tensor
from .. import functional as F
from .. import init
from ._utils import register_weight_and_bias, reset_kaiming_uniform
from .module import Module

__all__ = ["Identity", "Linear", "Bilinear", "NonDynamicallyQuantizableLinear"]


class Identity(Module):
    """A placeholder that returns its input; accepts and ignores any constructor arguments."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        """Returns input itself."""
        return input


class Linear(Module):
    """Applies a linear transformation to the incoming data: y = x A^T + b.

    weight A (out_features, in_features) and bias b (out_features,), both initialised from
    U(-1/sqrt(in_features), 1/sqrt(in_features)); no bias if bias is False.
    Shape: input (*, in_features); output (*, out_features).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        device: str | _C.device | None = None,
        dtype: _C.dtype | None = None,
    ) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        register_weight_and_bias(self, (out_features, in_features), bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialises weight and bias as PyTorch (kaiming_uniform_ with a=sqrt(5))."""
        reset_kaiming_uniform(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        """Returns linear(input, weight, bias)."""
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        """The feature counts and whether there is a bias."""
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Bilinear(Module):
    """Applies a bilinear transformation to the incoming data: y = x1^T A x2 + b.

    weight A (out_features, in1_features, in2_features) and bias b (out_features,), both initialised from
    U(-1/sqrt(in1_features), 1/sqrt(in1_features)).
    Shape: input1 (*, in1_features), input2 (*, in2_features); output (*, out_features).
    """

    def __init__(
        self,
        in1_features: int,
        in2_features: int,
        out_features: int,
        bias: bool = True,
        device: str | _C.device | None = None,
        dtype: _C.dtype | None = None,
    ) -> None:
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        register_weight_and_bias(self, (out_features, in1_features, in2_features), bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialises weight and bias from U(-1/sqrt(in1_features), 1/sqrt(in1_features))."""
        if self.in1_features <= 0:
            raise ValueError(f"in1_features must be > 0, but got (in1_features={self.in1_features})")
        bound = 1 / math.sqrt(self.weight.size(1))
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        """Returns bilinear(input1, input2, weight, bias)."""
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        """The feature counts and whether there is a bias."""
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear that PyTorch's quantization leaves alone (MultiheadAttention's out_proj); in ember, a Linear."""
