"""ember.nn.parallel.scatter_gather, replicate and parallel_apply: DataParallel's steps as functions, as
torch.nn.parallel's. ``scatter`` splits each tensor of a nested input into chunks along ``dim``, one per
target device (other objects are repeated); ``gather`` concatenates per-device outputs onto one device. Both
are differentiable (chunks and copies between devices are ops). ember's DataParallel itself does not use
them: it runs the module once (see DataParallel)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from ... import _C
from ..modules.module import Module

__all__ = ["gather", "parallel_apply", "replicate", "scatter", "scatter_kwargs"]


def _device(d: int | str | _C.device | None) -> _C.device:
    """A target device: an int is a CUDA index, -1 the CPU (as PyTorch's gather takes it)."""
    if isinstance(d, int):
        return _C.device("cpu") if d == -1 else _C.device("cuda", d)
    return _C.device("cpu") if d is None else _C.device(d)


def scatter(inputs: Any, target_gpus: Sequence[int | _C.device], dim: int = 0) -> Any:
    """``inputs`` split for each target device: tensors chunked along ``dim`` (one chunk per device, fewer
    when the tensor has fewer rows), tuples, lists and dicts split element-wise, other objects repeated."""
    devices = [_device(d) for d in target_gpus]

    def split(obj: Any) -> list[Any]:
        if isinstance(obj, _C.Tensor):
            return [chunk.to(device) for chunk, device in zip(obj.chunk(len(devices), dim), devices)]
        if isinstance(obj, tuple) and obj:
            return list(zip(*map(split, obj)))
        if isinstance(obj, list) and obj:
            return [list(parts) for parts in zip(*map(split, obj))]
        if isinstance(obj, dict) and obj:
            return [type(obj)(parts) for parts in zip(*map(split, obj.items()))]
        return [obj for _ in devices]

    return split(inputs)


def scatter_kwargs(
    inputs: tuple[Any, ...], kwargs: dict[str, Any] | None, target_gpus: Sequence[int | _C.device], dim: int = 0
) -> tuple[tuple[Any, ...], tuple[dict[str, Any], ...]]:
    """``scatter`` of the positional and keyword inputs, the shorter list padded with empty ones."""
    scattered_inputs = scatter(inputs, target_gpus, dim) if inputs else []
    scattered_kwargs = scatter(kwargs, target_gpus, dim) if kwargs else []
    scattered_inputs += [()] * (len(scattered_kwargs) - len(scattered_inputs))
    scattered_kwargs += [{}] * (len(scattered_inputs) - len(scattered_kwargs))
    return tuple(scattered_inputs), tuple(scattered_kwargs)


def gather(outputs: Any, target_device: int | _C.device, dim: int = 0) -> Any:
    """Per-device ``outputs`` joined on ``target_device`` (-1: the CPU): tensors concatenated along ``dim``,
    tuples, lists and dicts joined element-wise; None stays None."""
    device = _device(target_device)

    def join(parts: Sequence[Any]) -> Any:
        first = parts[0]
        if isinstance(first, _C.Tensor):
            return _C.cat([p.to(device) for p in parts], dim)
        if first is None:
            return None
        if isinstance(first, dict):
            if any(len(p) != len(first) for p in parts):
                raise ValueError("All dicts must have the same number of keys")
            return type(first)((k, join([p[k] for p in parts])) for k in first)
        return type(first)(map(join, zip(*parts)))

    return join(outputs)


def replicate(network: Module, devices: Sequence[int | _C.device], detach: bool = False) -> list[Module]:
    """A copy of ``network`` on each device. Each replica's parameters are copies of the network's made by
    differentiable ``to`` (gradients reach the network's parameters), or detached ones with ``detach``."""
    replicas = []
    for device in (_device(d) for d in devices):
        replica = copy.deepcopy(network)
        originals = dict(network.named_modules())
        for name, module in replica.named_modules():
            source = originals[name]
            for key, param in source._parameters.items():
                if param is not None:
                    moved = param.detach().to(device, copy=True) if detach else param.to(device, copy=True)
                    module._parameters[key] = moved
            for key, buffer in source._buffers.items():
                if buffer is not None:
                    module._buffers[key] = buffer.to(device, copy=True)
        replicas.append(replica)
    return replicas


def parallel_apply(
    modules: Sequence[Module],
    inputs: Sequence[Any],
    kwargs_tup: Sequence[dict[str, Any]] | None = None,
    devices: Sequence[int | _C.device | None] | None = None,
) -> list[Any]:
    """``modules[i](*inputs[i], **kwargs_tup[i])`` for each i, in order, with ``devices[i]`` (a GPU) the current
    CUDA device while it runs (PyTorch runs them in threads, one per GPU; ember's CUDA work is queued per device
    already)."""
    import contextlib

    from ... import cuda

    if len(modules) != len(inputs):
        raise AssertionError(f"The number of modules {len(modules)} is not equal to the number of inputs {len(inputs)}")
    kwargs_tup = kwargs_tup if kwargs_tup is not None else [{} for _ in modules]
    devices = devices if devices is not None else [None] * len(modules)
    outputs = []
    for module, args, kwargs, device in zip(modules, inputs, kwargs_tup, devices):
        args = args if isinstance(args, (list, tuple)) else (args,)
        where = None if device is None else _device(device)
        with cuda.device(where) if where is not None and where.type == "cuda" else contextlib.nullcontext():
            outputs.append(module(*args, **kwargs))
    return outputs
