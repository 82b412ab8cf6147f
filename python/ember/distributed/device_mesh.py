"""ember.distributed.device_mesh: PyTorch's DeviceMesh names. ember.distributed's ranks form one flat group
(MPI's), with no multi-dimensional mesh: making one raises NotImplementedError, and no object is one."""

from __future__ import annotations

from typing import Any, NoReturn

__all__ = ["DeviceMesh", "init_device_mesh"]


def _no_mesh(what: str) -> NotImplementedError:
    return NotImplementedError(
        f"ember.distributed.device_mesh.{what}: ember.distributed has one flat group of MPI ranks, no device mesh"
    )


class DeviceMesh:
    def __new__(cls, *args: Any, **kwargs: Any) -> NoReturn:
        raise _no_mesh("DeviceMesh")


def init_device_mesh(*args: Any, **kwargs: Any) -> NoReturn:
    raise _no_mesh("init_device_mesh")
