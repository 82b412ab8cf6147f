"""ember._higher_order_ops, as ``torch._higher_order_ops``: the control-flow operators models import
(transformers' Mamba takes ``associative_scan``). ember runs them eagerly, as Python over its ops, so they
differentiate like any ember code."""

from .associative_scan import associative_scan
from .scan import scan

__all__ = ["associative_scan", "scan"]
