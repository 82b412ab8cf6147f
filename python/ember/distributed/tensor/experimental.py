"""ember.distributed.tensor.experimental: ``implicit_replication``, PyTorch's context in which plain tensors
mix with DTensors as replicated ones. ember has no DTensors, so every tensor is plain and the context
changes nothing."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["implicit_replication"]


@contextlib.contextmanager
def implicit_replication() -> Iterator[None]:
    yield
