"""``scan``: a loop that threads a carry through the slices of its inputs, as ``torch._higher_order_ops.scan``
(computed eagerly, one ``combine_fn`` call per slice)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import _C
from ..utils._pytree import tree_flatten, tree_unflatten

__all__ = ["scan"]


def scan(combine_fn: Callable[[Any, Any], tuple[Any, Any]], init: Any, xs: Any, *, dim: int = 0,
         reverse: bool = False, additional_inputs: tuple | None = None) -> tuple[Any, Any]:  # fmt: skip
    """``(final carry, ys)``: ``carry, y = combine_fn(carry, x_i)`` for each slice ``x_i`` of ``xs`` along
    ``dim`` (from the end with ``reverse``), starting from ``init``; the ys are stacked along ``dim``.
    ``additional_inputs`` are passed after the slice on every call."""
    leaves, spec = tree_flatten(xs)
    if not leaves or not all(isinstance(leaf, _C.Tensor) for leaf in leaves):
        raise RuntimeError(f"Scan: xs must be a tensor or a pytree of tensors, got {xs!r}")
    rank = leaves[0].dim()
    if not -rank <= dim < rank:
        raise IndexError(f"Scan: dim {dim} is out of range for xs of {rank} dimensions")
    length = leaves[0].shape[dim]
    if any(leaf.shape[dim] != length for leaf in leaves):
        raise RuntimeError("Scan: all xs tensors must have the same size along the scanned dim")
    carry, outputs = init, []
    for i in reversed(range(length)) if reverse else range(length):
        x = tree_unflatten([leaf.select(dim, i) for leaf in leaves], spec)
        carry, y = combine_fn(carry, x, *(additional_inputs or ()))
        outputs.append(y)
    if reverse:
        outputs.reverse()
    if not outputs:
        raise RuntimeError("Scan: xs must have at least one element along the scanned dim")
    flat_ys = [tree_flatten(y)[0] for y in outputs]
    ys_spec = tree_flatten(outputs[0])[1]
    stacked = [_C.stack([ys[k] for ys in flat_ys], dim) for k in range(len(flat_ys[0]))]
    return carry, tree_unflatten(stacked, ys_spec)
