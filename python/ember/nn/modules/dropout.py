"""Dropout layers: in training mode they zero elements (or whole channels) with probability p and scale the
rest by 1 / (1 - p) (the alpha dropouts keep SELU's mean and variance instead); the identity in eval mode."""

from __future__ import annotations

from ..._C import Tensor
from .. import functional as F
from .module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"]


class _DropoutNd(Module):
    """Holds p (checked to be a probability) and inplace."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self) -> str:
        """p and inplace."""
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """During training, zeroes each element of the input with probability p and scales the rest by 1 / (1 - p);
    the identity in eval mode."""

    def forward(self, input: Tensor) -> Tensor:
        """Returns dropout(input, p) in training mode, input itself in eval mode."""
        return F.dropout(input, self.p, self.training, self.inplace)


class Dropout1d(_DropoutNd):
    """During training, zeroes whole channels of an input (N, C, L) or (C, L) with probability p and scales the
    rest by 1 / (1 - p)."""

    def forward(self, input: Tensor) -> Tensor:
        """Returns dropout1d(input, p) in training mode, input itself in eval mode."""
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """During training, zeroes whole channels of an input (N, C, H, W) with probability p and scales the rest
    by 1 / (1 - p)."""

    def forward(self, input: Tensor) -> Tensor:
        """Returns dropout2d(input, p) in training mode, input itself in eval mode."""
        return F.dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(_DropoutNd):
    """During training, zeroes whole channels of an input (N, C, D, H, W) or (C, D, H, W) with probability p and
    scales the rest by 1 / (1 - p)."""

    def forward(self, input: Tensor) -> Tensor:
        """Returns dropout3d(input, p) in training mode, input itself in eval mode."""
        return F.dropout3d(input, self.p, self.training, self.inplace)


class AlphaDropout(_DropoutNd):
    """Alpha dropout, for SELU networks: during training, sets elements to SELU's negative saturation value with
    probability p, then scales and shifts so that a zero-mean unit-variance input keeps its mean and variance.
    inplace=True writes the result into the input (PyTorch's layer ignores the flag)."""

    def forward(self, input: Tensor) -> Tensor:
        """Returns alpha_dropout(input, p) in training mode, input itself in eval mode."""
        return F.alpha_dropout(input, self.p, self.training, self.inplace)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels of an input (N, C, *); inplace as AlphaDropout."""

    def forward(self, input: Tensor) -> Tensor:
        """Returns feature_alpha_dropout(input, p) in training mode, input itself in eval mode."""
        return F.feature_alpha_dropout(input, self.p, self.training, self.inplace)
