"""ember.distributed._tensor.experimental: PyTorch's older path of ember.distributed.tensor.experimental."""

from ..tensor.experimental import implicit_replication

__all__ = ["implicit_replication"]
