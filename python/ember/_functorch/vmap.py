"""``torch._functorch.vmap``: the helpers libraries import from vmap's module (tensordict). ember's vmap
(ember.func.vmap, Note [Batched tensors]) does not run through these functions, so replacing them (as
tensordict's vmap support for TensorDicts does) changes nothing in it."""

from __future__ import annotations

from typing import Any

from .._C import Tensor
from .._functorch_c import _add_batch_dim, _remove_batch_dim, is_batchedtensor
from ..utils._pytree import _broadcast_to_and_flatten, tree_flatten, tree_unflatten

__all__ = [
    "Tensor",
    "_add_batch_dim",
    "_broadcast_to_and_flatten",
    "_get_name",
    "_maybe_remove_batch_dim",
    "_remove_batch_dim",
    "tree_flatten",
    "tree_unflatten",
]


def _get_name(func: Any) -> str:
    """A function's name for vmap's messages (its repr when it has none)."""
    return getattr(func, "__name__", repr(func))


def _maybe_remove_batch_dim(name: str, batched_output: Any, vmap_level: int, batch_size: int, out_dim: Any) -> Any:
    """A vmapped function's output with the batch of vmap_level made a real dim at out_dim; out_dim=None
    requires the output not to be batched (it is returned as it is)."""
    if out_dim is None:
        if isinstance(batched_output, Tensor) and is_batchedtensor(batched_output):
            raise ValueError(f"vmap({name}, ...): `{name}` can not return a BatchedTensor when out_dim is None")
        return batched_output
    if not isinstance(batched_output, Tensor):
        raise ValueError(
            f"vmap({name}, ...): `{name}` must only return Tensors, got type {type(batched_output)}. Did you "
            "mean to set out_dims= to None for output?"
        )
    return _remove_batch_dim(batched_output, vmap_level, batch_size, out_dim)
