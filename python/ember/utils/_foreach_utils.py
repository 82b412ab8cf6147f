"""``torch.utils._foreach_utils``: the grouping of tensor lists by device and dtype that foreach code runs first
(optimizer libraries import it: pytorch_optimizer), and the predicates of foreach and fused kernel support."""

from __future__ import annotations

from typing import Any

from .._C import Tensor
from ..grad_mode import no_grad

__all__: list[str] = []

TensorListList = list[list[Any]]
Indices = list[int]
_foreach_supported_types = [Tensor]


def _get_foreach_kernels_supported_devices() -> list[str]:
    """The device types with foreach kernels (PyTorch's list; the CPU runs foreach ops too, one tensor at a time)."""
    return ["cuda", "xpu", "mtia", "privateuseone"]


def _get_fused_kernels_supported_devices() -> list[str]:
    """The device types with fused optimizer kernels (PyTorch's list)."""
    return ["mps", "cuda", "xpu", "hpu", "cpu", "mtia", "privateuseone"]


@no_grad()
def _group_tensors_by_device_and_dtype(
    tensorlistlist: TensorListList, with_indices: bool = False
) -> dict[tuple[Any, Any], tuple[TensorListList, Indices]]:
    """The lists split by the (device, dtype) of the first list's tensors: each key gives the lists' entries at
    those positions (Nones and numbers of the other lists included), and their positions if with_indices. As
    PyTorch, the other lists are assumed to match the first at each position; the first may hold no None."""
    groups: dict[tuple[Any, Any], tuple[TensorListList, Indices]] = {}
    for i, t in enumerate(tensorlistlist[0]):
        if t is None:
            raise RuntimeError("_group_tensors_by_device_and_dtype: the first tensor list may not hold None")
        lists, indices = groups.setdefault((t.device, t.dtype), ([[] for _ in tensorlistlist], []))
        for grouped, source in zip(lists, tensorlistlist):
            grouped.append(source[i] if source else None)
        if with_indices:
            indices.append(i)
    return groups


def _device_has_foreach_support(device: Any) -> bool:
    """Whether foreach ops run on the device (any of PyTorch's foreach devices, or the CPU)."""
    return device.type in (*_get_foreach_kernels_supported_devices(), "cpu")


def _has_foreach_support(tensors: list[Any], device: Any) -> bool:
    """Whether foreach ops apply to these tensors on the device: plain tensors (or None) only, as PyTorch."""
    return _device_has_foreach_support(device) and all(
        t is None or type(t) in _foreach_supported_types for t in tensors
    )
