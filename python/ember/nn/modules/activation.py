"""Activation layers: thin modules over nn.functional, with PyTorch's reprs."""

from __future__ import annotations

from typing import Any

from ... import _C
from ..._C import Tensor
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ._utils import new_empty
from .module import Module

__all__ = [
    "ReLU",
    "LeakyReLU",
    "GELU",
    "SiLU",
    "Sigmoid",
    "Tanh",
    "Softmax",
    "LogSoftmax",
    "LogSigmoid",
    "Softplus",
    "ELU",
    "Hardtanh",
    "ReLU6",
    "Threshold",
    "Mish",
    "Hardswish",
    "Hardsigmoid",
    "SELU",
    "CELU",
    "PReLU",
    "RReLU",
    "GLU",
    "Softmin",
    "Softmax2d",
    "Softsign",
    "Tanhshrink",
    "Softshrink",
    "Hardshrink",
]


class _Inplace(Module):
    """An activation whose only option is inplace (overwrite the input with the result)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def extra_repr(self) -> str:
        """'inplace=True', or nothing."""
        return "inplace=True" if self.inplace else ""


class ReLU(_Inplace):
    """Applies the rectified linear unit elementwise: max(0, x)."""

    def forward(self, input: Tensor) -> Tensor:
        """Returns relu(input)."""
        return F.relu(input, inplace=self.inplace)


class SiLU(_Inplace):
    """Applies the Sigmoid Linear Unit (swish) elementwise: x * sigmoid(x)."""

    def forward(self, input: Tensor) -> Tensor:
        """Returns silu(input)."""
        return F.silu(input, inplace=self.inplace)


class LeakyReLU(Module):
    """Applies max(0, x) + negative_slope * min(0, x) elementwise."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        """Returns leaky_relu(input, negative_slope)."""
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        """negative_slope, and inplace if set."""
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    """Applies the Gaussian Error Linear Unit x * Phi(x) elementwise; approximate='tanh' uses the tanh estimate."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        """Returns gelu(input, approximate)."""
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        """approximate."""
        return f"approximate={self.approximate!r}"


class Sigmoid(Module):
    """Applies 1 / (1 + exp(-x)) elementwise."""

    def forward(self, input: Tensor) -> Tensor:
        """Returns input.sigmoid()."""
        return input.sigmoid()


class Tanh(Module):
    """Applies the hyperbolic tangent elementwise."""

    def forward(self, input: Tensor) -> Tensor:
        """Returns input.tanh()."""
        return input.tanh()


class LogSigmoid(Module):
    """Applies log(sigmoid(x)) elementwise, computed stably."""

    def forward(self, input: Tensor) -> Tensor:
        """Returns logsigmoid(input)."""
        return F.logsigmoid(input)


class Softplus(Module):
    """Applies log(1 + exp(beta * x)) / beta elementwise; linear (x) where beta * x > threshold."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input: Tensor) -> Tensor:
        """Returns softplus(input, beta, threshold)."""
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        """beta and threshold."""
        return f"beta={self.beta}, threshold={self.threshold}"


class ELU(Module):
    """Applies the Exponential Linear Unit elementwise: x if x > 0, else alpha * (exp(x) - 1)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        """Returns elu(input, alpha)."""
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        """alpha, and inplace if set."""
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class Hardtanh(Module):
    """Clamps each element into [min_val, max_val]."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace
        if max_val <= min_val:
            raise AssertionError("max_val must be greater than min_val")

    def forward(self, input: Tensor) -> Tensor:
        """Returns hardtanh(input, min_val, max_val)."""
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        """min_val and max_val, and inplace if set."""
        return f"min_val={self.min_val}, max_val={self.max_val}" + (", inplace=True" if self.inplace else "")


class ReLU6(Hardtanh):
    """Applies min(max(0, x), 6) elementwise."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        """'inplace=True', or nothing."""
        return "inplace=True" if self.inplace else ""


class Softmax(Module):
    """Applies softmax along dim, so that slices along dim sum to 1 (dim=None is deprecated)."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        if not hasattr(self, "dim"):
            self.dim = None

    def forward(self, input: Tensor) -> Tensor:
        """Returns softmax(input, dim)."""
        return F.softmax(input, self.dim, _stacklevel=5)

    def extra_repr(self) -> str:
        """dim."""
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """Applies log(softmax(x)) along dim, computed stably (dim=None is deprecated)."""

    def forward(self, input: Tensor) -> Tensor:
        """Returns log_softmax(input, dim)."""
        return F.log_softmax(input, self.dim, _stacklevel=5)


class Threshold(Module):
    """Replaces the elements not greater than ``threshold`` by ``value``."""

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        """Returns threshold(input, self.threshold, self.value)."""
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        """'threshold=..., value=...' (and inplace=True), as PyTorch."""
        inplace = ", inplace=True" if self.inplace else ""
        return f"threshold={self.threshold}, value={self.value}{inplace}"


class Mish(_Inplace):
    """Applies x * tanh(softplus(x)) elementwise."""

    def forward(self, input: Tensor) -> Tensor:
        """Returns mish(input)."""
        return F.mish(input, inplace=self.inplace)


class Hardswish(_Inplace):
    """Applies x * relu6(x + 3) / 6 elementwise (MobileNetV3)."""

    def forward(self, input: Tensor) -> Tensor:
        """Returns hardswish(input)."""
        return F.hardswish(input, self.inplace)

    def extra_repr(self) -> str:
        """Nothing: PyTorch's repr does not show inplace here."""
        return ""


class Hardsigmoid(_Inplace):
    """Applies relu6(x + 3) / 6 elementwise."""

    def forward(self, input: Tensor) -> Tensor:
        """Returns hardsigmoid(input)."""
        return F.hardsigmoid(input, self.inplace)

    def extra_repr(self) -> str:
        """Nothing: PyTorch's repr does not show inplace here."""
        return ""


class SELU(_Inplace):
    """Applies scale * elu(x, alpha) elementwise with the self-normalising constants of Klambauer et al."""

    def forward(self, input: Tensor) -> Tensor:
        """Returns selu(input)."""
        return F.selu(input, self.inplace)


class CELU(Module):
    """Applies max(0, x) + min(0, alpha * (exp(x / alpha) - 1)) elementwise."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        """Returns celu(input, alpha)."""
        return F.celu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        """alpha, and inplace if set."""
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class PReLU(Module):
    """Applies max(0, x) + weight * min(0, x) elementwise with a learnt slope: one shared by all channels
    (num_parameters=1) or one per channel (dim 1 of the input), each initialised to init."""

    def __init__(
        self,
        num_parameters: int = 1,
        init: float = 0.25,
        device: str | _C.device | None = None,
        dtype: _C.dtype | None = None,
    ) -> None:
        self.num_parameters = num_parameters
        super().__init__()
        self.init = init
        self.weight = Parameter(new_empty((num_parameters,), device, dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Sets every slope to init."""
        init.constant_(self.weight, self.init)

    def forward(self, input: Tensor) -> Tensor:
        """Returns prelu(input, weight)."""
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        """num_parameters."""
        return f"num_parameters={self.num_parameters}"


class RReLU(Module):
    """Randomized leaky ReLU: in training, negative inputs are scaled by slopes drawn uniformly from
    [lower, upper]; in eval mode by their mean (lower + upper) / 2."""

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False) -> None:
        super().__init__()
        self.lower = lower
        self.upper = upper
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        """Returns rrelu(input, lower, upper, training)."""
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        """lower and upper, and inplace if set."""
        return f"lower={self.lower}, upper={self.upper}" + (", inplace=True" if self.inplace else "")


class GLU(Module):
    """The gated linear unit: the input split in halves a, b along dim, then a * sigmoid(b)."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        """Returns glu(input, dim)."""
        return F.glu(input, self.dim)

    def extra_repr(self) -> str:
        """dim."""
        return f"dim={self.dim}"


class Softmin(Softmax):
    """Applies softmax(-x) along dim (dim=None is deprecated)."""

    def forward(self, input: Tensor) -> Tensor:
        """Returns softmin(input, dim)."""
        return F.softmin(input, self.dim, _stacklevel=5)


class Softmax2d(Module):
    """Applies softmax over the channels (dim -3) of an input (N, C, H, W) or (C, H, W)."""

    def forward(self, input: Tensor) -> Tensor:
        """Returns softmax(input, -3)."""
        if input.dim() not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.dim()}D instead")
        return F.softmax(input, -3, _stacklevel=5)


class Softsign(Module):
    """Applies x / (1 + |x|) elementwise."""

    def forward(self, input: Tensor) -> Tensor:
        """Returns softsign(input)."""
        return F.softsign(input)


class Tanhshrink(Module):
    """Applies x - tanh(x) elementwise."""

    def forward(self, input: Tensor) -> Tensor:
        """Returns tanhshrink(input)."""
        return F.tanhshrink(input)


class _Shrink(Module):
    """A shrinkage with threshold lambd."""

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def extra_repr(self) -> str:
        """lambd."""
        return str(self.lambd)


class Softshrink(_Shrink):
    """Applies soft shrinkage elementwise: x - lambd above lambd, x + lambd below -lambd, 0 between."""

    def forward(self, input: Tensor) -> Tensor:
        """Returns softshrink(input, lambd)."""
        return F.softshrink(input, self.lambd)


class Hardshrink(_Shrink):
    """Applies hard shrinkage elementwise: 0 for -lambd <= x <= lambd, x elsewhere."""

    def forward(self, input: Tensor) -> Tensor:
        """Returns hardshrink(input, lambd)."""
        return F.hardshrink(input, self.lambd)


# PyTorch defines MultiheadAttention in torch.nn.modules.activation; checkpoints and safe_globals name it there.
from .attention import MultiheadAttention  # noqa: E402, F401
