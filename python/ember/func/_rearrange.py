"""func.rearrange: einops' ``rearrange`` (``"b (h w) c -> b h w c"``) as one reshape, one permute
and one reshape of ember ops, so it is differentiable and a view where reshape can be."""

from __future__ import annotations

import math
import re
from typing import Sequence

from .._C import Tensor

_TOKEN = re.compile(r"\.\.\.|\(|\)|[A-Za-z_][A-Za-z0-9_]*|1|\S")
_ELLIPSIS = "..."

__all__ = ["rearrange"]


class _Merged(list):
    """A parenthesized group (its axes merged into one dim), told apart from a lone ``...``."""


def _is_lone_ellipsis(group: list[str]) -> bool:
    return group == [_ELLIPSIS] and not isinstance(group, _Merged)


def _parse(side: str) -> list[list[str]]:
    """A side of the pattern as its groups of axis names: "b (h w) 1" -> [["b"], ["h", "w"], []]."""
    groups: list[list[str]] = []
    open_group: list[str] | None = None
    for token in _TOKEN.findall(side):
        if token == "(":
            if open_group is not None:
                raise ValueError(f"rearrange: nested parentheses in {side.strip()!r}")
            open_group = _Merged()
        elif token == ")":
            if open_group is None:
                raise ValueError(f"rearrange: unbalanced parentheses in {side.strip()!r}")
            groups.append(open_group)
            open_group = None
        elif token == "1":  # a unit dim (inside a group: a factor of one)
            if open_group is None:
                groups.append([])
        elif token == _ELLIPSIS or token.isidentifier():
            if open_group is not None:
                open_group.append(token)
            else:
                groups.append([token])
        else:
            raise ValueError(f"rearrange: unexpected {token!r} in {side.strip()!r}")
    if open_group is not None:
        raise ValueError(f"rearrange: unbalanced parentheses in {side.strip()!r}")
    return groups


def rearrange(tensor: Tensor | Sequence[Tensor], pattern: str, **axes_lengths: int) -> Tensor:
    """Reorders, splits and merges dims by an einops pattern (``"b (h w) c -> b h w c"``, ``"... c -> c ..."``,
    ``()`` or ``1`` for a unit dim); axes_lengths give the sizes a split cannot infer. A list of tensors is
    stacked first."""
    if isinstance(tensor, (list, tuple)):
        from .. import stack

        tensor = stack(list(tensor))
    if pattern.count("->") != 1:
        raise ValueError(f"rearrange: the pattern must have one '->', got {pattern!r}")
    left_text, right_text = pattern.split("->")
    left, right = _parse(left_text), _parse(right_text)
    left_names = [n for g in left for n in g]
    right_names = [n for g in right for n in g]
    only_one_side = set(left_names) ^ set(right_names)
    if only_one_side:
        raise ValueError(f"Identifiers only on one side of rearrange expression (should be on both): {only_one_side}")
    if len(set(left_names)) != len(left_names) or len(set(right_names)) != len(right_names):
        raise ValueError(f"rearrange: an axis name is repeated in {pattern!r}")
    if any(_ELLIPSIS in g and not _is_lone_ellipsis(g) for g in left):
        raise ValueError("rearrange: an ellipsis inside parentheses is only allowed on the right side")
    has_ellipsis = _ELLIPSIS in left_names
    fixed = len(left) - (1 if has_ellipsis else 0)
    if (has_ellipsis and tensor.dim() < fixed) or (not has_ellipsis and tensor.dim() != len(left)):
        raise ValueError(
            f"Number of dimensions in pattern ({len(left)}) must be equal to the number of dimensions in the "
            f"tensor ({tensor.dim()})"
        )
    # the sizes of the elementary axes, the ellipsis standing for the dims it covers
    sizes: dict[str, int] = dict(axes_lengths)
    ellipsis_sizes: list[int] = []
    dim = 0
    for group in left:
        if _is_lone_ellipsis(group):
            count = tensor.dim() - fixed
            ellipsis_sizes = list(tensor.shape[dim : dim + count])
            dim += count
            continue
        size = tensor.shape[dim]
        unknown = [n for n in group if n not in sizes]
        known = math.prod(sizes[n] for n in group if n in sizes)
        if len(unknown) > 1:
            raise ValueError(f"rearrange: cannot infer the sizes of two dimensions at once: {unknown}")
        if unknown:
            if known == 0 or size % known:
                raise ValueError(f"rearrange: dim of size {size} cannot be split into {group} with {axes_lengths}")
            sizes[unknown[0]] = size // known
        elif known != size:
            raise ValueError(f"rearrange: dim {dim} has size {size}, but the pattern gives {group} = {known}")
        dim += 1

    def expand(names: list[str]) -> list[str]:  # the ellipsis as one name per covered dim
        out = []
        for n in names:
            out.extend([f"...{i}" for i in range(len(ellipsis_sizes))] if n == _ELLIPSIS else [n])
        return out

    for i, s in enumerate(ellipsis_sizes):
        sizes[f"...{i}"] = s
    elementary = expand(left_names)
    target = expand(right_names)
    split = tensor.reshape([sizes[n] for n in elementary])
    moved = split.permute([elementary.index(n) for n in target])
    shape: list[int] = []
    for group in right:
        if _is_lone_ellipsis(group):
            shape.extend(ellipsis_sizes)
        else:
            shape.append(math.prod(sizes[n] for n in expand(group)))
    return moved.reshape(shape)
