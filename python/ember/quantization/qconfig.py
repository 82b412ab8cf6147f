"""ember.quantization.qconfig, as ``torch.quantization.qconfig``: ``QConfig`` and the default configurations'
names (see ember.ao.quantization)."""

from ..ao.quantization import QConfig, get_default_qat_qconfig, get_default_qconfig  # noqa: F401

__all__ = ["QConfig", "get_default_qat_qconfig", "get_default_qconfig"]
