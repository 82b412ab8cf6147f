"""``torch._C._functorch`` and ``torch._C._nn`` as importable modules (``ember._C._functorch``): libraries import
functorch's batching entry points from it (tensordict: ``from torch._C._functorch import is_batchedtensor,
_add_batch_dim, _remove_batch_dim, get_unwrapped``). They act on ember's BatchedTensor (Note [Batched tensors]),
whose levels are numbered as PyTorch's, from 1 for the outermost running vmap."""

from __future__ import annotations

import sys
import types
from typing import Any

from . import _C, _batched


def is_batchedtensor(tensor: Any) -> bool:
    """Whether tensor is vmap's per-entry view of a batch."""
    return type(tensor) is _batched.BatchedTensor


def is_legacy_batchedtensor(tensor: Any) -> bool:
    """False: ember has one kind of batched tensor (PyTorch's legacy vmap's kind is gone)."""
    return False


def get_unwrapped(tensor: Any) -> Any:
    """The tensor a BatchedTensor holds, its batch dim first."""
    if type(tensor) is not _batched.BatchedTensor:
        raise RuntimeError("get_unwrapped: expected a tensor wrapped by a functorch transform (vmap)")
    return tensor._value


def maybe_get_level(tensor: Any) -> int:
    """The vmap level a BatchedTensor belongs to; -1 for any other tensor."""
    return tensor._level.depth if type(tensor) is _batched.BatchedTensor else -1


def current_level() -> int:
    """The innermost running vmap's level (-1 when none runs)."""
    running = _batched.levels()
    return running[-1].depth if running else -1


def _running_level(level: int, op: str) -> _batched.Level:
    for running in _batched.levels():
        if running.depth == level:
            return running
    raise RuntimeError(f"{op}: no vmap of level {level} is running")


def _require_tensor(tensor: Any, op: str) -> None:
    if not isinstance(tensor, _C.Tensor):
        raise TypeError(f"{op}(): argument 'self' must be Tensor, not {type(tensor).__name__}")


def _add_batch_dim(tensor: Any, batch_dim: int, level: int) -> Any:
    """tensor as seen inside the vmap of `level`: per entry along batch_dim."""
    _require_tensor(tensor, "_add_batch_dim")
    running = _running_level(level, "_add_batch_dim")
    value = tensor.movedim(batch_dim, 0)
    if value.shape[0] != running.size:
        raise ValueError(
            f"vmap: Expected all tensors to have the same size in the mapped dimension, got sizes "
            f"{running.size} and {value.shape[0]} for the mapped dimension"
        )
    return _batched.BatchedTensor(value, running)


def _remove_batch_dim(tensor: Any, level: int, batch_size: int, out_dim: int) -> Any:
    """The batch of `level` as a tensor with its batch at out_dim (tensor repeated when it is not batched)."""
    _require_tensor(tensor, "_remove_batch_dim")
    if type(tensor) is _batched.BatchedTensor and tensor._level.depth == level:
        return tensor._value.movedim(0, out_dim)
    return tensor.unsqueeze(0).expand(batch_size, *tensor.shape).movedim(0, out_dim)


def _maybe_remove_batch_dim(name: str, batched_output: Any, vmap_level: int, batch_size: int, out_dim: Any) -> Any:
    """A vmapped function's output with the batch of vmap_level made a real dim at out_dim (vmap's outputs go
    through it; torch._functorch.vmap's name); out_dim=None requires the output not to be batched at that
    level, and returns it as it is."""
    if out_dim is None:
        if maybe_get_level(batched_output) == vmap_level:
            raise ValueError(f"vmap({name}, ...): `{name}` can not return a BatchedTensor when out_dim is None")
        return batched_output
    if not _batched.is_tensor(batched_output):
        raise ValueError(
            f"vmap({name}, ...): `{name}` must only return Tensors, got type {type(batched_output)}. Did you "
            "mean to set out_dims= to None for output?"
        )
    return _remove_batch_dim(batched_output, vmap_level, batch_size, out_dim)


def _module(name: str, doc: str, **functions: Any) -> types.ModuleType:
    module = types.ModuleType(f"ember._C.{name}", doc)
    for key, fn in functions.items():
        setattr(module, key, fn)
    sys.modules[module.__name__] = module
    setattr(_C, name, module)
    return module


def install() -> None:
    """Attaches the modules to ember._C (and sys.modules, so ``from torch._C._functorch import ...`` works)."""
    from .nn.modules.module import _parse_to

    _module(
        "_functorch",
        __doc__,
        is_batchedtensor=is_batchedtensor,
        is_legacy_batchedtensor=is_legacy_batchedtensor,
        get_unwrapped=get_unwrapped,
        maybe_get_level=maybe_get_level,
        current_level=current_level,
        _add_batch_dim=_add_batch_dim,
        _remove_batch_dim=_remove_batch_dim,
        _are_functorch_transforms_active=_C._are_functorch_transforms_active,
    )
    _module("_nn", "torch._C._nn: Module.to's argument parser.", _parse_to=_parse_to)
