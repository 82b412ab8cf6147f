"""ember.cuda.nvtx, as torch.cuda.nvtx: ember emits no NVTX ranges, so these mark nothing for Nsight; they
keep code that annotates itself running (range_push returns the depth, range_pop the depth left)."""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Iterator

_depth = threading.local()


def range_push(msg: str) -> int:
    depth = getattr(_depth, "value", 0)
    _depth.value = depth + 1
    return depth


def range_pop() -> int:
    depth = getattr(_depth, "value", 0)
    if depth == 0:
        return -1
    _depth.value = depth - 1
    return depth - 1


def range_start(msg: str) -> int:
    return 0


def range_end(range_id: int) -> None:
    return None


def mark(msg: str) -> None:
    return None


@contextlib.contextmanager
def range(msg: str, *args: Any, **kwargs: Any) -> Iterator[None]:  # noqa: A001 (torch.cuda.nvtx.range)
    range_push(msg.format(*args, **kwargs))
    try:
        yield
    finally:
        range_pop()
