"""``associative_scan``: an inclusive scan with an associative combine function, computed eagerly by the
parallel odd/even recursion (about 2n combines of halving slices, log2(n) levels), so ``combine_fn`` sees
slices of the inputs that keep the scanned dim and any pointwise function works."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import _C
from ..utils._pytree import tree_flatten, tree_unflatten

__all__ = ["associative_scan"]


def _every_other(leaves: list[Any], dim: int, start: int, stop: int | None = None) -> list[Any]:
    return [leaf[(slice(None),) * dim + (slice(start, stop, 2),)] for leaf in leaves]


def _slice(leaves: list[Any], dim: int, start: int, stop: int | None) -> list[Any]:
    return [leaf[(slice(None),) * dim + (slice(start, stop),)] for leaf in leaves]


def _interleave(evens: Any, odds: Any, dim: int) -> Any:
    """evens[0], odds[0], evens[1], ... along dim (evens has as many as odds, or one more)."""
    n_odd = odds.shape[dim]
    paired = _C.stack([evens.narrow(dim, 0, n_odd), odds], dim + 1).flatten(dim, dim + 1)
    return paired if evens.shape[dim] == n_odd else _C.cat([paired, evens.narrow(dim, n_odd, 1)], dim)


def _scan(combine: Callable[[list[Any], list[Any]], list[Any]], leaves: list[Any], dim: int) -> list[Any]:
    n = leaves[0].shape[dim]
    if n < 2:
        return leaves
    # combine neighbours pairwise, scan the half as long sequence, then fill in the even positions
    pairs = combine(_every_other(leaves, dim, 0, n - 1), _every_other(leaves, dim, 1))
    odd = _scan(combine, pairs, dim)
    tail = _every_other(leaves, dim, 2)
    even_rest = combine(_slice(odd, dim, 0, tail[0].shape[dim]), tail)
    even = [_C.cat([leaf.narrow(dim, 0, 1), rest], dim) for leaf, rest in zip(leaves, even_rest)]
    return [_interleave(e, o, dim) for e, o in zip(even, odd)]


def associative_scan(combine_fn: Callable[[Any, Any], Any], xs: Any, dim: int, reverse: bool = False,
                     combine_mode: str = "pointwise") -> Any:  # fmt: skip
    """The inclusive scan of ``xs`` (a tensor or a pytree of tensors of one shape) along ``dim`` with
    ``combine_fn(a, b)`` (pytrees of xs's structure), which must be associative; ``reverse`` scans from the
    end. ``combine_mode`` is accepted in both of PyTorch's values: the computation is the same eager one on
    every device."""
    if combine_mode not in ("pointwise", "generic"):
        raise ValueError(f"Combine_mode must either 'pointwise' or 'generic', but got {combine_mode}")
    leaves, spec = tree_flatten(xs)
    if not leaves or not all(isinstance(leaf, _C.Tensor) for leaf in leaves):
        raise ValueError(f"xs leaves must be a Tensor, got {leaves!r}")
    shape = leaves[0].shape
    if any(leaf.shape != shape for leaf in leaves):
        raise ValueError(f"All xs leaves must have the same shape, got {[tuple(leaf.shape) for leaf in leaves]}")
    if leaves[0].dim() == 0:
        raise ValueError("All xs leaves must at least have 'dim' number of dimensions and scan dimension > 0")
    dim = dim + leaves[0].dim() if dim < 0 else dim
    if not 0 <= dim < leaves[0].dim():
        raise IndexError(f"Dimension out of range (expected to be in range of [{-leaves[0].dim()}, "
                         f"{leaves[0].dim() - 1}], but got {dim})")  # fmt: skip
    if reverse:
        leaves = [leaf.flip(dim) for leaf in leaves]

    def combine(a: list[Any], b: list[Any]) -> list[Any]:
        out, _ = tree_flatten(combine_fn(tree_unflatten(a, spec), tree_unflatten(b, spec)))
        return out

    result = _scan(combine, leaves, dim)
    if reverse:
        result = [leaf.flip(dim) for leaf in result]
    return tree_unflatten(result, spec)
