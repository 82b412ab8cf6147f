"""ember._dynamo._trace_wrapped_higher_order_op: ``TransformGetItemToIndex``, which PyTorch enters so that
``A[q_idx]`` with a 0-d index tensor indexes per batch entry under ``vmap`` (its default turns the index
into a Python number first, which vmap cannot do). ember's vmap indexes by a 0-d batched tensor per entry
already, so the context changes nothing (transformers' attention masks enter it)."""

from __future__ import annotations

from typing import Any

__all__ = ["TransformGetItemToIndex"]


class TransformGetItemToIndex:
    def __enter__(self) -> TransformGetItemToIndex:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None
