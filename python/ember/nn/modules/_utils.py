"""Helpers shared by layer modules."""
import math

from ... import _C
from ..._creation import empty
from .. import init
from ..parameter import Parameter


def factory_kwargs(device, dtype):
    if device is not None:
        _C._check_device(device if isinstance(device, _C.device) else _C.device(device))
    return {"dtype": dtype}


def new_empty(shape, device=None, dtype=None):
    """Uninitialised storage for a parameter or buffer (reset_parameters fills it)."""
    return empty(*shape, **factory_kwargs(device, dtype))


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def register_weight_and_bias(module, weight_shape, bias, device, dtype):
    """module.weight of `weight_shape` and module.bias of (weight_shape[0],), or a registered None bias."""
    module.weight = Parameter(new_empty(weight_shape, device, dtype))
    if bias:
        module.bias = Parameter(new_empty((weight_shape[0],), device, dtype))
    else:
        module.register_parameter("bias", None)


def reset_kaiming_uniform(weight, bias):
    """PyTorch's default init of Linear and Conv layers: kaiming_uniform_(a=sqrt(5)), which gives
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the weight, and the same bound for the bias."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound)
