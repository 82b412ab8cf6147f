"""ember.quantization, as ``torch.quantization``: PyTorch's older path to ``torch.ao.quantization``, whose
names it re-exports (see ember.ao.quantization)."""

from ..ao.quantization import *  # noqa: F403
from ..ao.quantization import __all__  # noqa: F401
from . import observer  # noqa: F401
