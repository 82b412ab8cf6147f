"""ember.nn: neural-network layers, losses and initialisers with torch.nn's API.

Module, Parameter and Buffer; layers in nn.modules (one area per file); the stateless
functions behind them in nn.functional; initialisers in nn.init; gradient clipping, weight and spectral
normalisation and parametrizations in nn.utils; DataParallel in nn.parallel.
"""

from . import attention, functional, init, parallel, quantized, utils  # noqa: F401
from .modules import *  # noqa: F401,F403
from .modules import __all__ as _modules_all
from .modules.module import (  # noqa: F401
    register_module_buffer_registration_hook,
    register_module_forward_hook,
    register_module_forward_pre_hook,
    register_module_module_registration_hook,
    register_module_parameter_registration_hook,
)
from .parallel import DataParallel  # noqa: F401
from .parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter  # noqa: F401

__all__ = [
    "Buffer",
    "DataParallel",
    "Parameter",
    "UninitializedBuffer",
    "UninitializedParameter",
    "functional",
    "init",
    "parallel",
    "utils",
] + _modules_all


def factory_kwargs(kwargs: dict | None) -> dict:
    """kwargs checked and canonicalised for a factory function (ember.empty(..., **result)): only device,
    dtype and memory_format are allowed, plus a factory_kwargs dict whose entries must not repeat them."""
    if kwargs is None:
        return {}
    allowed = {"device", "dtype", "memory_format", "factory_kwargs"}
    unexpected = kwargs.keys() - allowed
    if unexpected:
        raise TypeError(f"unexpected kwargs {unexpected}")
    result = dict(kwargs)
    nested = result.pop("factory_kwargs", None) or {}
    for key, value in nested.items():
        if key in result:
            raise TypeError(f"{key} specified twice, in **kwargs and in factory_kwargs")
        result[key] = value
    return result
