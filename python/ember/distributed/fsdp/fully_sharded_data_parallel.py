"""ember.distributed.fsdp.fully_sharded_data_parallel: the module path PyTorch defines
``FullyShardedDataParallel`` in, which accelerate imports it from (see ember.distributed.fsdp)."""

from . import (  # noqa: F401
    BackwardPrefetch,
    CPUOffload,
    FullyShardedDataParallel,
    MixedPrecision,
    ShardingStrategy,
    StateDictType,
)
from .api import FullOptimStateDictConfig, FullStateDictConfig, StateDictSettings  # noqa: F401

__all__ = ["BackwardPrefetch", "CPUOffload", "FullyShardedDataParallel", "MixedPrecision", "ShardingStrategy",
           "StateDictType"]  # fmt: skip
