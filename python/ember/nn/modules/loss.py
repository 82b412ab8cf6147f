"""Loss modules: each holds its options and calls the nn.functional loss of the same name.

reduction is 'mean' (the default), 'sum' or 'none' (one loss per element or sample); size_average and reduce
are its deprecated spellings, as PyTorch.
"""

from __future__ import annotations

import warnings

from ..._C import Tensor
from .. import functional as F
from .module import Module

__all__ = [
    "MSELoss",
    "L1Loss",
    "HuberLoss",
    "SmoothL1Loss",
    "NLLLoss",
    "CrossEntropyLoss",
    "BCELoss",
    "BCEWithLogitsLoss",
]


def _legacy_reduction(size_average, reduce):
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if (size_average and reduce) else "sum" if reduce else "none"
    warnings.warn(
        f"size_average and reduce args will be deprecated, please use reduction='{ret}' instead.", stacklevel=3
    )
    return ret


class _Loss(Module):
    """Base of the losses: holds reduction."""

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__()
        if size_average is not None or reduce is not None:
            reduction = _legacy_reduction(size_average, reduce)
        self.reduction = reduction


class _WeightedLoss(_Loss):
    """Base of the losses with a per-class weight."""

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        # A buffer, as PyTorch: it follows .to(dtype) and appears in state_dict as 'weight'.
        self.register_buffer("weight", weight)


class MSELoss(_Loss):
    """Measures the mean squared error (x - y)^2 between each element of input x and target y."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """Returns mse_loss(input, target)."""
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Measures the mean absolute error |x - y| between each element of input x and target y."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """Returns l1_loss(input, target)."""
        return F.l1_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """Huber loss: 0.5 * (x - y)^2 where |x - y| < delta, else delta * (|x - y| - 0.5 * delta)."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """Returns huber_loss(input, target, delta=delta)."""
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class SmoothL1Loss(_Loss):
    """Smooth L1 loss: 0.5 * (x - y)^2 / beta where |x - y| < beta, else |x - y| - 0.5 * beta."""

    def __init__(
        self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean", beta: float = 1.0
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """Returns smooth_l1_loss(input, target, beta=beta)."""
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class NLLLoss(_WeightedLoss):
    """The negative log likelihood loss, for log-probabilities input (N, C) (or (C,), or (N, C, d1, ...)) and
    class indices target (N,); weight (C,) rescales each class, targets equal to ignore_index are skipped."""

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """Returns nll_loss(input, target) with the layer's options."""
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """The cross entropy loss between logits input (N, C) (or (C,), or (N, C, d1, ...)) and target: class
    indices (N,), or class probabilities of input's shape. weight (C,) rescales each class, targets equal to
    ignore_index are skipped and label_smoothing mixes in the uniform distribution."""

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """Returns cross_entropy(input, target) with the layer's options."""
        return F.cross_entropy(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class BCELoss(_WeightedLoss):
    """The binary cross entropy -(y * log(x) + (1 - y) * log(1 - x)) between probabilities input x and target y;
    weight, if given, scales each element."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """Returns binary_cross_entropy(input, target) with the layer's options."""
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """A Sigmoid layer and BCELoss in one, computed stably, for logits input; pos_weight weighs the positive
    examples of each class (the last dim), weight, if given, scales each element."""

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        pos_weight: Tensor | None = None,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """Returns binary_cross_entropy_with_logits(input, target) with the layer's options."""
        return F.binary_cross_entropy_with_logits(
            input, target, self.weight, pos_weight=self.pos_weight, reduction=self.reduction
        )
