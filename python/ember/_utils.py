"""ember._utils, as ``torch._utils``: the helpers code imports from there (fastai's mixed-precision
utilities flatten parameters into one buffer), and the checkpoint rebuild functions of
ember.serialization under the names PyTorch's pickles use."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from . import _C
from ._C import Tensor
from .serialization import _rebuild_parameter, _rebuild_parameter_with_state, _rebuild_tensor_v2  # noqa: F401

__all__ = ["_element_size", "_flatten_dense_tensors", "_get_device_index", "_unflatten_dense_tensors"]


def _flatten_dense_tensors(tensors: Sequence[Tensor]) -> Tensor:
    """The tensors' elements in one 1-D tensor, one after another (their dtype; a copy)."""
    if len(tensors) == 1:
        return tensors[0].contiguous().view(-1)
    return _C.cat([t.contiguous().view(-1) for t in tensors])


def _unflatten_dense_tensors(flat: Tensor, tensors: Sequence[Tensor]) -> tuple[Tensor, ...]:
    """Views of ``flat`` with the shapes of ``tensors``, in order (``_flatten_dense_tensors``' inverse)."""
    outputs, offset = [], 0
    for t in tensors:
        n = t.numel()
        outputs.append(flat.narrow(0, offset, n).view_as(t))
        offset += n
    return tuple(outputs)


def _take_tensors(tensors: Sequence[Tensor], size_limit: int) -> Iterator[list[Tensor]]:
    """Chunks of ``tensors``, each of one type (``tensor.type()``) and at most ``size_limit`` bytes (one
    larger tensor makes a chunk alone), in order within a type: how PyTorch groups gradients for bucketed
    all-reduces (mmengine's, apex's). A sparse tensor counts its indices and values."""
    chunks: dict[str, list] = {}
    for tensor in tensors:
        if tensor.is_sparse:
            parts = (tensor._indices(), tensor._values())
            size = sum(p.numel() * p.element_size() for p in parts)
        else:
            size = tensor.numel() * tensor.element_size()
        chunk = chunks.setdefault(tensor.type(), [[], 0])
        if chunk[1] + size > size_limit and chunk[1] > 0:
            yield chunk[0]
            chunk = chunks[tensor.type()] = [[], 0]
        chunk[0].append(tensor)
        chunk[1] += size
    for held, _ in chunks.values():
        if held:
            yield held


def _reorder_tensors_as(tensors: Sequence[Tensor], ordered_tensors: Sequence[Tensor]) -> tuple[Tensor, ...]:
    """``tensors`` (grouped by type, as ``_take_tensors`` leaves them) put back in the order of
    ``ordered_tensors``: each type's tensors in turn, by position among that type."""
    grouped: dict[str, list[Tensor]] = {}
    for t in tensors:
        grouped.setdefault(t.type(), []).append(t)
    by_type = {k: iter(v) for k, v in grouped.items()}
    return tuple(next(by_type[t.type()]) for t in ordered_tensors)


def _element_size(dtype: Any) -> int:
    """Bytes per element of ``dtype``."""
    return dtype.itemsize


def _get_device_index(device: Any, optional: bool = False, allow_cpu: bool = False) -> int:
    """The index of ``device`` (a device, a string, or an int), as PyTorch's: a device without one gives the
    current CUDA device when ``optional``; a CPU device, -1 when ``allow_cpu``."""
    if isinstance(device, int):
        return device
    if isinstance(device, str):
        device = _C.device(device)
    if device.type == "cpu":
        if not allow_cpu:
            raise ValueError(f"Expected a non cpu device, but got: {device}")
        return -1
    if device.index is not None:
        return device.index
    if not optional:
        raise ValueError(f"Expected a torch.device with a specified index or an integer, but got:{device}")
    from . import cuda

    return cuda.current_device()


def _get_available_device_type() -> str | None:
    """The accelerator kind present: "cuda" when a CUDA device is (real or emulated), else None."""
    import ember

    return "cuda" if ember.cuda.is_available() else None


def _get_device_module(device_type: str | None = None) -> Any:
    """The module of a device kind (ember.cuda for "cuda"), the available accelerator's when none is named."""
    import ember

    device_type = _get_available_device_type() if device_type is None else device_type
    if device_type is None:
        device_type = "cuda"
    module = getattr(ember, device_type, None)
    if module is None:
        raise RuntimeError(
            f"Device '{device_type}' does not have a corresponding module registered as 'torch.{device_type}'."
        )
    return module
