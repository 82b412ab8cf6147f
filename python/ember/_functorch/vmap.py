"""``torch._functorch.vmap``: the helpers libraries import from vmap's module (tensordict). ember's vmap
(ember.func.vmap, Note [Batched tensors]) does not run through these functions, so replacing them (as
tensordict's vmap support for TensorDicts does) changes nothing in it."""

from __future__ import annotations

from typing import Any

from .._C import Tensor
from .._functorch_c import _add_batch_dim, _maybe_remove_batch_dim, _remove_batch_dim
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
