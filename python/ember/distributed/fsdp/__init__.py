"""ember.distributed.fsdp: PyTorch's fully sharded data parallelism by name. ember shards no parameters
across ranks (DistributedDataParallel replicates them over MPI ranks), so wrapping a module raises
NotImplementedError, no module is an ``FSDPModule``, and the policy and configuration classes are plain
records that libraries build before deciding whether to shard."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, NoReturn

__all__ = [
    "BackwardPrefetch", "CPUOffload", "CPUOffloadPolicy", "FSDPModule", "FullyShardedDataParallel", "MixedPrecision",
    "MixedPrecisionPolicy", "OffloadPolicy", "ShardingStrategy", "StateDictType", "fully_shard",
]  # fmt: skip


def _no_fsdp(what: str) -> NotImplementedError:
    return NotImplementedError(
        f"ember.distributed.fsdp.{what}: ember shards no parameters across ranks; use "
        "ember.nn.parallel.DistributedDataParallel, which replicates them over MPI ranks"
    )


class FSDPModule:
    """No ember module is one (``fully_shard`` raises)."""


class FullyShardedDataParallel:
    def __new__(cls, *args: Any, **kwargs: Any) -> NoReturn:
        raise _no_fsdp("FullyShardedDataParallel")


def fully_shard(module: Any, *args: Any, **kwargs: Any) -> NoReturn:
    raise _no_fsdp("fully_shard")


class ShardingStrategy(enum.Enum):
    FULL_SHARD = enum.auto()
    SHARD_GRAD_OP = enum.auto()
    NO_SHARD = enum.auto()
    HYBRID_SHARD = enum.auto()
    _HYBRID_SHARD_ZERO2 = enum.auto()


class BackwardPrefetch(enum.Enum):
    BACKWARD_PRE = enum.auto()
    BACKWARD_POST = enum.auto()


class StateDictType(enum.Enum):
    FULL_STATE_DICT = enum.auto()
    LOCAL_STATE_DICT = enum.auto()
    SHARDED_STATE_DICT = enum.auto()


@dataclass
class CPUOffload:
    offload_params: bool = False


@dataclass
class MixedPrecision:
    param_dtype: Any = None
    reduce_dtype: Any = None
    buffer_dtype: Any = None
    keep_low_precision_grads: bool = False
    cast_forward_inputs: bool = False
    cast_root_forward_inputs: bool = True


@dataclass
class OffloadPolicy:
    pass


@dataclass
class CPUOffloadPolicy(OffloadPolicy):
    pin_memory: bool = True


@dataclass(frozen=True)
class MixedPrecisionPolicy:
    param_dtype: Any = None
    reduce_dtype: Any = None
    output_dtype: Any = None
    cast_forward_inputs: bool = True
