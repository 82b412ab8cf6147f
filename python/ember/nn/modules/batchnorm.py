"""BatchNorm1d / BatchNorm2d / BatchNorm3d: batch statistics in training (running averages updated in place),
running statistics in eval mode, as PyTorch."""

from __future__ import annotations

from ... import _C
from ..._C import Tensor
from ..._creation import ones, tensor, zeros
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ._utils import factory_kwargs, new_empty
from .module import Module

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d"]


class _NormBase(Module):
    """What batch and instance normalization share, as PyTorch's base of that name: the affine parameters,
    the running statistics and their checkpoint versions (an InstanceNorm is not a _BatchNorm, so code that
    finds batch norms by class, as convert_sync_batchnorm does, leaves it alone)."""

    _version = 2

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: str | _C.device | None = None,
        dtype: _C.dtype | None = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(new_empty((num_features,), device, dtype))
            if bias:
                self.bias = Parameter(new_empty((num_features,), device, dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            kw = factory_kwargs(device, dtype)
            self.register_buffer("running_mean", zeros(num_features, **kw))
            self.register_buffer("running_var", ones(num_features, **kw))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=_C.dtype.int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """Resets running_mean to 0, running_var to 1 and num_batches_tracked to 0."""
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        """Resets the running statistics, and weight to ones and bias to zeros."""
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def extra_repr(self) -> str:
        """num_features and the options."""
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )

    def _load_from_state_dict(
        self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
    ):
        # Checkpoints without version (a plain dict) or from before num_batches_tracked existed load without it.
        version = local_metadata.get("version", None)
        if (version is None or version < 2) and self.track_running_stats:
            key = prefix + "num_batches_tracked"
            if key not in state_dict:
                state_dict[key] = (
                    self.num_batches_tracked
                    if self.num_batches_tracked is not None
                    else tensor(0, dtype=_C.dtype.int64)
                )
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )


class _BatchNorm(_NormBase):
    """Batch normalization over dim 1 (channels): y = (x - mean) / sqrt(var + eps) * weight + bias."""

    def _running_stats_factor(self) -> float:
        """The weight of this batch's statistics in the running ones; counts the batch when training."""
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            # momentum=None means a cumulative (equal-weight) average over the batches seen.
            factor = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
        return factor

    def forward(self, input: Tensor) -> Tensor:
        """Normalises input with the batch statistics (training) or the running ones (eval)."""
        self._check_input_dim(input)
        factor = self._running_stats_factor()
        bn_training = self.training or (self.running_mean is None and self.running_var is None)
        use_buffers = not self.training or self.track_running_stats
        return F.batch_norm(
            input,
            self.running_mean if use_buffers else None,
            self.running_var if use_buffers else None,
            self.weight,
            self.bias,
            bn_training,
            factor,
            self.eps,
        )


class BatchNorm1d(_BatchNorm):
    """Applies Batch Normalization over a 2-D or 3-D input (N, C) or (N, C, L):
    y = (x - mean) / sqrt(var + eps) * weight + bias, per channel.

    Args:
        num_features: C, the number of channels.
        eps: added to the variance for numerical stability.
        momentum: the weight of the batch statistics in the running averages; None for a cumulative average.
        affine: whether the layer has a learnable per-channel weight (ones) and bias (zeros).
        track_running_stats: keep running averages for eval mode; if False, batch statistics are always used.
        bias: with affine, whether to learn the bias.
    """

    def _check_input_dim(self, input):
        if input.dim() != 2 and input.dim() != 3:
            raise ValueError(f"expected 2D or 3D input (got {input.dim()}D input)")


class BatchNorm2d(_BatchNorm):
    """Applies Batch Normalization over a 4-D input (N, C, H, W), per channel; arguments as BatchNorm1d."""

    def _check_input_dim(self, input):
        if input.dim() != 4:
            raise ValueError(f"expected 4D input (got {input.dim()}D input)")


class BatchNorm3d(_BatchNorm):
    """Applies Batch Normalization over a 5-D input (N, C, D, H, W), per channel; arguments as BatchNorm1d."""

    def _check_input_dim(self, input):
        if input.dim() != 5:
            raise ValueError(f"expected 5D input (got {input.dim()}D input)")
