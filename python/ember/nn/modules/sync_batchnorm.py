"""SyncBatchNorm: batch normalization whose training statistics are those of the whole global batch, across
the ranks of an ember.distributed process group, as torch.nn.SyncBatchNorm.

Forward gathers each rank's per-channel (mean, variance, count) and combines them (Chan's parallel
variance: no cancellation from sums of squares); backward all-reduces the per-channel sums of dy and
dy * x_hat, so that each rank's input gradient is that of the sum of every rank's loss. The weight and bias
gradients stay local sums, which DistributedDataParallel then averages: with DDP, training equals
BatchNorm on the global batch in one process. In eval mode, or outside a process group of several ranks,
it is BatchNorm.
"""

from __future__ import annotations

from typing import Any

from ... import _C
from ..._C import Tensor
from ...autograd.function import Function
from .batchnorm import _BatchNorm
from .module import Module

__all__ = ["SyncBatchNorm"]


def _channel_view(t: Tensor, dim: int) -> Tensor:
    """A per-channel vector shaped to broadcast against (N, C, *) inputs of `dim` dimensions."""
    return t.reshape([1, -1] + [1] * (dim - 2))


class _SyncBatchNormFunction(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, weight: Tensor | None, bias: Tensor | None, module: SyncBatchNorm, factor: float):
        from ... import distributed as dist

        dims = [0] + list(range(2, x.dim()))
        count = x.numel() // x.shape[1]
        mean = x.mean(dims)
        var = x.var(dims, unbiased=False)
        local = _C.cat([mean, var, mean.new_full((1,), float(count), device=mean.device)])
        everyone = local.new_zeros(module.world_size, local.numel(), device=local.device)
        dist.all_gather_into_tensor(everyone, local, group=module.process_group)
        means, variances, counts = everyone[:, : mean.numel()], everyone[:, mean.numel() : -1], everyone[:, -1:]
        total = counts.sum()
        if total.item() <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {list(x.shape)}")
        global_mean = (means * counts).sum(0) / total
        global_var = ((variances + (means - global_mean) ** 2) * counts).sum(0) / total
        if module.training and module.track_running_stats:
            unbiased = global_var * (total / (total - 1))
            module.running_mean.mul_(1 - factor).add_(global_mean * factor)
            module.running_var.mul_(1 - factor).add_(unbiased * factor)
        invstd = (global_var + module.eps).rsqrt()
        x_hat = (x - _channel_view(global_mean, x.dim())) * _channel_view(invstd, x.dim())
        y = x_hat
        if weight is not None:
            y = y * _channel_view(weight, x.dim())
        if bias is not None:
            y = y + _channel_view(bias, x.dim())
        ctx.save_for_backward(x_hat, invstd, weight)
        ctx.module, ctx.total, ctx.dims = module, total, dims
        return y

    @staticmethod
    def backward(ctx: Any, grad_y: Tensor):
        from ... import distributed as dist

        x_hat, invstd, weight = ctx.saved_tensors
        sum_dy = grad_y.sum(ctx.dims)
        sum_dy_xhat = (grad_y * x_hat).sum(ctx.dims)
        grad_weight = sum_dy_xhat if ctx.needs_input_grad[1] else None  # local sums: DDP averages them
        grad_bias = sum_dy if ctx.needs_input_grad[2] else None
        grad_x = None
        if ctx.needs_input_grad[0]:
            sums = _C.cat([sum_dy, sum_dy_xhat])
            dist.all_reduce(sums, group=ctx.module.process_group)
            mean_dy, mean_dy_xhat = (sums / ctx.total).chunk(2)
            scale = invstd if weight is None else invstd * weight
            dim = grad_y.dim()
            grad_x = (grad_y - _channel_view(mean_dy, dim) - x_hat * _channel_view(mean_dy_xhat, dim)) * _channel_view(
                scale, dim
            )
        return grad_x, grad_weight, grad_bias, None, None


class SyncBatchNorm(_BatchNorm):
    """Batch normalization over dim 1 of an (N, C, *) input, with the statistics of the global batch across
    the ranks of `process_group` (the default group for None) in training; arguments as BatchNorm1d."""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        process_group: Any = None,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
        self.process_group = process_group

    def _check_input_dim(self, input: Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")

    @property
    def world_size(self) -> int:
        from ... import distributed as dist

        return dist.get_world_size(self.process_group) if dist.is_initialized() else 1

    def forward(self, input: Tensor) -> Tensor:
        """Normalises with the global batch's statistics when training across several ranks, else as BatchNorm."""
        self._check_input_dim(input)
        if not self.training or self.world_size <= 1:
            return super().forward(input)
        return _SyncBatchNormFunction.apply(input, self.weight, self.bias, self, self._running_stats_factor())

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group: Any = None) -> Module:
        """`module` with every BatchNorm*d layer replaced by a SyncBatchNorm holding its parameters and
        running statistics (the module itself when it is a BatchNorm layer)."""
        converted = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            converted = cls(module.num_features, module.eps, module.momentum, module.affine,
                            module.track_running_stats, process_group)  # fmt: skip
            if module.affine:
                converted.weight, converted.bias = module.weight, module.bias
            converted.running_mean, converted.running_var = module.running_mean, module.running_var
            converted.num_batches_tracked = module.num_batches_tracked
            converted.training = module.training
        for name, child in module.named_children():
            converted.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return converted
