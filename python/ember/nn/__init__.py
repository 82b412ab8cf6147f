"""ember.nn: neural-network layers, losses and initialisers with torch.nn's API.

Module, Parameter and Buffer; layers in nn.modules (one area per file); the stateless
functions behind them in nn.functional; initialisers in nn.init; gradient clipping in nn.utils.
"""

from . import functional, init, utils  # noqa: F401
from .modules import *  # noqa: F401,F403
from .modules import __all__ as _modules_all
from .modules.module import register_module_forward_hook, register_module_forward_pre_hook  # noqa: F401
from .parameter import Buffer, Parameter  # noqa: F401

__all__ = ["Buffer", "Parameter", "functional", "init", "utils"] + _modules_all
