"""InstanceNorm1d/2d/3d: each channel of each sample normalised over its own spatial dims, as PyTorch
(no affine and no running statistics by default)."""

from __future__ import annotations

from ..._C import Tensor
from .. import functional as F
from .batchnorm import _NormBase

__all__ = ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"]


class _InstanceNorm(_NormBase):
    """Instance normalization over the spatial dims of (N, C, *) or unbatched (C, *) inputs."""

    _spatial_dims = 1

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float = 0.1,
        affine: bool = False,
        track_running_stats: bool = False,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def forward(self, input: Tensor) -> Tensor:
        """Normalises with the input's statistics (training, or without running statistics) or the running ones."""
        batched = self._spatial_dims + 2
        if input.dim() not in (batched - 1, batched):
            raise ValueError(f"expected {batched - 1}D or {batched}D input (got {input.dim()}D input)")
        if input.dim() == batched - 1:
            return self.forward(input.unsqueeze(0)).squeeze(0)
        use_input_stats = self.training or not self.track_running_stats
        momentum = 0.1 if self.momentum is None else self.momentum
        return F.instance_norm(
            input, self.running_mean, self.running_var, self.weight, self.bias, use_input_stats, momentum, self.eps
        )


class InstanceNorm1d(_InstanceNorm):
    """Applies Instance Normalization over a (N, C, L) or (C, L) input."""

    _spatial_dims = 1


class InstanceNorm2d(_InstanceNorm):
    """Applies Instance Normalization over a (N, C, H, W) or (C, H, W) input."""

    _spatial_dims = 2


class InstanceNorm3d(_InstanceNorm):
    """Applies Instance Normalization over a (N, C, D, H, W) or (C, D, H, W) input."""

    _spatial_dims = 3
