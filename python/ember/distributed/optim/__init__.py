"""ember.distributed.optim: see zero_redundancy_optimizer."""

from .zero_redundancy_optimizer import ZeroRedundancyOptimizer

__all__ = ["ZeroRedundancyOptimizer"]
