"""ember.ao, as ``torch.ao``: PyTorch's model-optimisation namespace. ember has only the part of
``quantization`` that a float model uses (see ember.ao.quantization)."""

from . import quantization  # noqa: F401

__all__ = ["quantization"]
