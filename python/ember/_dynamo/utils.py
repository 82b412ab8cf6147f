"""ember._dynamo.utils, as ``torch._dynamo.utils``: the query libraries make before choosing a code path
for ``torch.compile``."""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

__all__ = ["disable_cache_limit", "is_compile_supported"]


def is_compile_supported(device_type: Any) -> bool:
    """Whether ``ember.compile`` works for tensors on ``device_type``: on the CPU and CUDA, where it runs the
    function eagerly (torchvision then takes its Python versions of roi_align and kin)."""
    from .._C import device

    return device(device_type).type in ("cpu", "cuda")


@contextlib.contextmanager
def disable_cache_limit() -> Iterator[None]:
    """A block in which compiled code may recompile without limit (heavyball's optimizer steps): ember compiles
    nothing, so the block runs as it is."""
    yield
