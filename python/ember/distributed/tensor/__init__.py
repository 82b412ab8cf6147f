"""ember.distributed.tensor: PyTorch's DTensor names. ember's data parallelism runs over MPI ranks with whole
tensors (ember.distributed, DistributedDataParallel); it has no tensors sharded over a device mesh. So no
ember tensor is a ``DTensor`` (``isinstance`` is False, as libraries check before treating one specially),
the placements are plain values, and making a DTensor raises NotImplementedError."""

from __future__ import annotations

from typing import Any, NoReturn

from .placement_types import Partial, Placement, Replicate, Shard

__all__ = ["DTensor", "Partial", "Placement", "Replicate", "Shard", "distribute_module", "distribute_tensor"]


def _no_dtensor(what: str) -> NotImplementedError:
    return NotImplementedError(
        f"ember.distributed.tensor.{what}: ember has no tensors sharded over a device mesh (DTensor); "
        "ember.distributed runs data parallelism over MPI ranks with whole tensors"
    )


class DTensor:
    """No ember tensor is one."""

    def __new__(cls, *args: Any, **kwargs: Any) -> NoReturn:
        raise _no_dtensor("DTensor")

    @staticmethod
    def from_local(*args: Any, **kwargs: Any) -> NoReturn:
        raise _no_dtensor("DTensor.from_local")


def distribute_tensor(*args: Any, **kwargs: Any) -> NoReturn:
    raise _no_dtensor("distribute_tensor")


def distribute_module(*args: Any, **kwargs: Any) -> NoReturn:
    raise _no_dtensor("distribute_module")
