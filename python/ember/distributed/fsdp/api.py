"""ember.distributed.fsdp.api: the module PyTorch defines FSDP's configuration records in (mmengine imports them
from here): the sharding and prefetch enums, and the state-dict configurations, as plain dataclasses with
PyTorch's fields and defaults. ember shards nothing (see ember.distributed.fsdp)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import BackwardPrefetch, CPUOffload, MixedPrecision, ShardingStrategy, StateDictType

__all__ = ["BackwardPrefetch", "CPUOffload", "FullOptimStateDictConfig", "FullStateDictConfig",
           "LocalOptimStateDictConfig", "LocalStateDictConfig", "MixedPrecision", "OptimStateDictConfig",
           "ShardedOptimStateDictConfig", "ShardedStateDictConfig", "ShardingStrategy", "StateDictConfig",
           "StateDictSettings", "StateDictType"]  # fmt: skip


@dataclass
class StateDictConfig:
    offload_to_cpu: bool = False


@dataclass
class FullStateDictConfig(StateDictConfig):
    rank0_only: bool = False


@dataclass
class LocalStateDictConfig(StateDictConfig):
    offload_to_cpu: bool = False


@dataclass
class ShardedStateDictConfig(StateDictConfig):
    _use_dtensor: bool = False


@dataclass
class OptimStateDictConfig:
    offload_to_cpu: bool = True


@dataclass
class FullOptimStateDictConfig(OptimStateDictConfig):
    rank0_only: bool = False


@dataclass
class LocalOptimStateDictConfig(OptimStateDictConfig):
    offload_to_cpu: bool = False


@dataclass
class ShardedOptimStateDictConfig(OptimStateDictConfig):
    _use_dtensor: bool = False


@dataclass
class StateDictSettings:
    state_dict_type: Any
    state_dict_config: StateDictConfig
    optim_state_dict_config: OptimStateDictConfig
