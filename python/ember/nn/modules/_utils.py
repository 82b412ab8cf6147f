"""Helpers shared by layer modules."""

from __future__ import annotations

import math
from typing import Any

from ... import _C
from ..._C import Tensor
from ..._creation import _on_meta, empty
from .. import init
from ..parameter import Parameter
from .module import Module


def factory_kwargs(device: str | _C.device | None, dtype: _C.dtype | None) -> dict[str, Any]:
    """Checks device (the CPU, or meta: Note [Meta tensors]) and returns the creation keyword arguments."""
    if device is not None and not _on_meta(device):
        _C._check_device(device if isinstance(device, _C.device) else _C.device(device))
    return {"dtype": dtype, "device": device}


def new_empty(shape: tuple[int, ...], device: str | _C.device | None = None, dtype: _C.dtype | None = None) -> Tensor:
    """Uninitialised storage for a parameter or buffer (reset_parameters fills it)."""
    return empty(*shape, **factory_kwargs(device, dtype))


def pair(v: int | tuple[int, ...]) -> tuple[int, ...]:
    """(v, v) for an int, tuple(v) otherwise."""
    return (v, v) if isinstance(v, int) else tuple(v)


def register_weight_and_bias(
    module: Module, weight_shape: tuple[int, ...], bias: bool, device: str | _C.device | None, dtype: _C.dtype | None
) -> None:
    """module.weight of `weight_shape` and module.bias of (weight_shape[0],), or a registered None bias."""
    module.weight = Parameter(new_empty(weight_shape, device, dtype))
    if bias:
        module.bias = Parameter(new_empty((weight_shape[0],), device, dtype))
    else:
        module.register_parameter("bias", None)


def reset_kaiming_uniform(weight: Tensor, bias: Tensor | None) -> None:
    """PyTorch's default init of Linear and Conv layers: kaiming_uniform_(a=sqrt(5)), which gives
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the weight, and the same bound for the bias."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound)
