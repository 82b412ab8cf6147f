"""ember._dynamo.utils, as ``torch._dynamo.utils``: the query libraries make before choosing a code path
for ``torch.compile``."""

from __future__ import annotations

from typing import Any

__all__ = ["is_compile_supported"]


def is_compile_supported(device_type: Any) -> bool:
    """Whether ``ember.compile`` works for tensors on ``device_type``: on the CPU and CUDA, where it runs the
    function eagerly (torchvision then takes its Python versions of roi_align and kin)."""
    from .._C import device

    return device(device_type).type in ("cpu", "cuda")
