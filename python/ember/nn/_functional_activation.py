"""The activations of nn.functional that are compositions of other ops (re-exported by nn.functional).

Each is built from differentiable ember ops, so gradients and double backward come for free; the kinks are
written with where() on the same conditions as PyTorch's backward formulas, so that the gradient at a kink
(hardswish at -3 and 3, softshrink at +-lambd, ...) is PyTorch's too, and NaN propagates as in PyTorch.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from .. import _C
from .._autocast import lower_under_autocast
from .._creation import empty_like, ones_like, zeros_like
from ..grad_mode import no_grad
from ._functional_utils import _inplace, _softmax_dim

if TYPE_CHECKING:
    from .._C import Tensor

__all__ = [
    "mish",
    "hardswish",
    "hardsigmoid",
    "prelu",
    "rrelu",
    "rrelu_",
    "glu",
    "softmin",
    "softsign",
    "tanhshrink",
    "softshrink",
    "hardshrink",
    "gumbel_softmax",
]


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """Applies x * tanh(softplus(x)) elementwise (Misra, 2019)."""
    if inplace:
        return _inplace(input, mish)
    return input * _C._softplus(input, 1.0, 20.0).tanh()


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """Applies x * relu6(x + 3) / 6 elementwise: 0 for x <= -3, x for x >= 3, x (x + 3) / 6 between."""
    if inplace:
        return _inplace(input, hardswish)
    return _C.where(input <= -3.0, 0.0, _C.where(input >= 3.0, input, input * (input + 3.0) / 6.0))


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """Applies relu6(x + 3) / 6 elementwise: 0 for x <= -3, 1 for x >= 3, x / 6 + 1 / 2 between."""
    if inplace:
        return _inplace(input, hardsigmoid)
    return _C.where(input <= -3.0, 0.0, _C.where(input >= 3.0, 1.0, input / 6.0 + 0.5))


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """Applies max(0, x) + weight * min(0, x) elementwise, with a learnt slope: weight is a scalar or 1-D with
    one slope per channel (dim 1 of input; an input of fewer than 2 dims has one channel)."""
    input, weight = lower_under_autocast(("cpu", "cuda"), input, weight)  # on PyTorch's lower-precision lists
    n = weight.numel()
    if n != 1:
        if input.dim() == 0:
            raise RuntimeError("Not allow zero-dim input tensor.")
        channels = input.shape[1] if input.dim() > 1 else 1
        if channels != n:
            raise RuntimeError(
                f"Mismatch of parameter numbers and input channel size. Found parameter numbers = {n} and "
                f"channel size = {channels}."
            )
    if weight.dim() > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.dim()}")
    if input.dim() > 1 and weight.dim() == 1:
        weight = weight.reshape((1, n) + (1,) * (input.dim() - 2))
    return _C.where(input > 0, input, weight * input)


def _check_rrelu_bounds(lower, upper):
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")


def rrelu(
    input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False, inplace: bool = False
) -> Tensor:
    """Randomized leaky ReLU: in training, each x <= 0 is multiplied by a slope drawn uniformly from
    [lower, upper] (the gradient uses the same slopes); otherwise leaky_relu with slope (lower + upper) / 2."""
    return _rrelu(input, lower, upper, training, inplace)


def _rrelu(input: Tensor, lower: float, upper: float, training: bool, inplace: bool, generator: Any = None) -> Tensor:
    """rrelu, its slopes drawn from generator (torch.rrelu_'s keyword; the global generator when None)."""
    _check_rrelu_bounds(lower, upper)
    if inplace:
        return _inplace(input, lambda x: _rrelu(x, lower, upper, training, False, generator))
    if not training:
        return _C._leaky_relu(input, (lower + upper) / 2)
    with no_grad():
        slopes = _C.where(input <= 0, empty_like(input).uniform_(lower, upper, generator=generator), 1.0)
    return input * slopes


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False) -> Tensor:
    """In-place version of rrelu."""
    return rrelu(input, lower, upper, training, inplace=True)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """The gated linear unit: input split in halves a, b along dim, then a * sigmoid(b)."""
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    size = input.shape[dim]
    if size % 2:
        d = dim + input.dim() if dim < 0 else dim
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {size}")
    a, b = input.split(size // 2, dim)
    return a * b.sigmoid()


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: _C.dtype | None = None) -> Tensor:
    """Applies softmax(-x) along dim (dim=None is deprecated, as for softmax); dtype, if given, is the dtype
    the input is cast to first."""
    if dim is None:
        dim = _softmax_dim("softmin", input.dim(), _stacklevel)
    return _C.softmax(-input, dim, dtype)


def softsign(input: Tensor) -> Tensor:
    """Applies x / (1 + |x|) elementwise."""
    return input / (input.abs() + 1)


def tanhshrink(input: Tensor) -> Tensor:
    """Applies x - tanh(x) elementwise."""
    return input - input.tanh()


def _inside(input, lambd):
    return (input >= -lambd).logical_and(input <= lambd)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """Applies soft shrinkage elementwise: x - lambd for x > lambd, x + lambd for x < -lambd, 0 between."""
    if lambd < 0:
        double = input.dtype == _C.dtype.float64
        name, top = ("Double", 1.7976931348623157e308) if double else ("Float", 3.4028234663852886e38)
        raise RuntimeError(f"lambda must be in range [0, {top:g}] for input dtype {name}, but found {lambd:g}")
    return _C.where(_inside(input, lambd), 0.0, input - input.sign() * lambd)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """Applies hard shrinkage elementwise: 0 for -lambd <= x <= lambd, x elsewhere."""
    return _C.where(_inside(input, lambd), 0.0, input)


def gumbel_softmax(logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10, dim: int = -1) -> Tensor:
    """Samples from the Gumbel-Softmax distribution: softmax((logits + g) / tau) along dim with g ~ Gumbel(0, 1).

    With hard=True the result is the one-hot vector of the argmax, differentiated as the soft sample
    (straight-through). eps is deprecated and unused, as in PyTorch.
    """
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    with no_grad():
        # -log(E) with E ~ Exponential(1) = -log(1 - U), U uniform on [0, 1)
        gumbels = -(-(-empty_like(logits).uniform_(0.0, 1.0)).log1p()).log()
    y_soft = ((logits + gumbels) / tau).softmax(dim)
    if not hard:
        return y_soft
    index = y_soft.argmax(dim, keepdim=True)
    y_hard = zeros_like(logits).scatter_add(dim, index, ones_like(index, dtype=logits.dtype))
    return y_hard - y_soft.detach() + y_soft
