"""ember.cuda: CUDA kernels are not built in this version; every query says so."""

from __future__ import annotations

from .. import _C
from . import amp  # noqa: F401  (torch.cuda.amp's deprecated names)


def is_available() -> bool:
    """Returns whether CUDA can be used: False in this version."""
    return _C._cuda_is_available()


def device_count() -> int:
    """Returns the number of CUDA devices: 0 in this version."""
    return 0


def manual_seed(seed: int) -> None:
    """A no-op without CUDA, as in PyTorch."""


def manual_seed_all(seed: int) -> None:
    """A no-op without CUDA, as in PyTorch."""
