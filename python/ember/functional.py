"""``torch.functional``: the module PyTorch defines its Python-level tensor functions in. The names are the
same objects as ``ember.einsum`` & co; PyTorch's ``stft``, ``istft``, ``lu``, ``pca_lowrank`` and
``svd_lowrank`` are not in ember."""

from __future__ import annotations

from ._C import norm, split, unique, unique_consecutive
from ._composite_linalg import block_diag, chain_matmul, einsum, tensordot
from ._composite_shape import (
    atleast_1d,
    atleast_2d,
    atleast_3d,
    broadcast_shapes,
    broadcast_tensors,
    cartesian_prod,
    meshgrid,
    unravel_index,
)
from ._distance import cdist

__all__ = [
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "block_diag",
    "broadcast_shapes",
    "broadcast_tensors",
    "cartesian_prod",
    "cdist",
    "chain_matmul",
    "einsum",
    "meshgrid",
    "norm",
    "split",
    "tensordot",
    "unique",
    "unique_consecutive",
    "unravel_index",
]
