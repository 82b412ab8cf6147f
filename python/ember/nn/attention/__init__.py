"""``torch.nn.attention``: which implementations ``scaled_dot_product_attention`` may use.

PyTorch picks among several kernels (flash, memory-efficient, cuDNN, math); ember has one, composed
from batched matmuls and a softmax (nn/_functional_attention.py), whose numbers are the math kernel's.
The flags are kept as PyTorch keeps them, one global set of enabled backends, and they decide what
PyTorch's would: ember's kernel stands for the math and flash backends on the CPU (PyTorch's CPU has
those two) and for every backend on CUDA; with none of those enabled the call fails as PyTorch's does.
``torch.backends.cuda``'s ``enable_*_sdp`` and ``*_sdp_enabled`` set and read the same flags.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterator
from typing import Any

__all__ = [
    "SDPBackend",
    "SDPAParams",
    "WARN_FOR_UNFUSED_KERNELS",
    "can_use_efficient_attention",
    "can_use_flash_attention",
    "sdpa_kernel",
]

WARN_FOR_UNFUSED_KERNELS = False


class SDPBackend(enum.Enum):
    """The implementations of scaled_dot_product_attention, numbered as PyTorch's (``int()`` gives the
    number; as PyTorch's, a member does not equal its number)."""

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4

    def __int__(self) -> int:
        return self.value


# Every backend starts enabled, as in PyTorch.
_enabled: set[SDPBackend] = {
    SDPBackend.MATH,
    SDPBackend.FLASH_ATTENTION,
    SDPBackend.EFFICIENT_ATTENTION,
    SDPBackend.CUDNN_ATTENTION,
    SDPBackend.OVERRIDEABLE,
}
_CPU_BACKENDS = (SDPBackend.MATH, SDPBackend.FLASH_ATTENTION)


def _set_enabled(backend: SDPBackend, enabled: bool) -> None:
    if enabled:
        _enabled.add(backend)
    else:
        _enabled.discard(backend)


def _is_enabled(backend: SDPBackend) -> bool:
    return backend in _enabled


def _check_available(on_cuda: bool) -> None:
    """Raises PyTorch's error when the enabled backends leave scaled_dot_product_attention none to run."""
    if not any(b in _enabled for b in (_enabled if on_cuda else _CPU_BACKENDS)):
        raise RuntimeError(
            "No viable backend for scaled_dot_product_attention was found. This is likely due to turning off "
            "both the math kernel and the fused kernels."
        )


@contextlib.contextmanager
def sdpa_kernel(backends: list[SDPBackend] | SDPBackend, set_priority: bool = False) -> Iterator[dict]:
    """Enables only ``backends`` for the ``with`` block, then restores the flags as they were.
    ``set_priority`` orders PyTorch's choice among several; ember has one kernel, so it orders nothing."""
    if not isinstance(backends, (list, SDPBackend)):
        raise AssertionError(
            "Backend must be an instance of SDPBackend or a list of SDPBackend instances, got "
            f"{type(backends).__name__}"
        )
    chosen = {backends} if isinstance(backends, SDPBackend) else set(backends)
    previous = set(_enabled)
    _enabled.clear()
    _enabled.update(b for b in chosen if isinstance(b, SDPBackend))
    try:
        yield {}
    finally:
        _enabled.clear()
        _enabled.update(previous)


class SDPAParams:
    """The arguments of one scaled_dot_product_attention call, as the ``can_use_*`` checks take them."""

    def __init__(
        self,
        query: Any,
        key: Any,
        value: Any,
        attn_mask: Any = None,
        dropout: float = 0.0,
        is_causal: bool = False,
        enable_gqa: bool = False,
    ) -> None:
        self.query, self.key, self.value, self.attn_mask = query, key, value, attn_mask
        self.dropout, self.is_causal, self.enable_gqa = dropout, is_causal, enable_gqa


def can_use_flash_attention(params: SDPAParams, debug: bool = False) -> bool:
    """False: ember has no flash-attention kernel (its one kernel computes what the math backend does)."""
    return False


def can_use_efficient_attention(params: SDPAParams, debug: bool = False) -> bool:
    """False: ember has no memory-efficient attention kernel."""
    return False
