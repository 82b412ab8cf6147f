"""ember.distributed._functional_collectives: PyTorch's functional collectives, which return a new tensor
instead of writing into their argument. ember's collectives finish before they return, so ``wait_tensor``
gives its tensor back; the ``_autograd`` forms differentiate (ember.distributed.nn). ``group`` is a process
group or None (the world), not PyTorch's lists of ranks or device meshes."""

from __future__ import annotations

from typing import Any

from .. import _C
from . import _collectives as c
from ._process_group import get_world_size

__all__ = ["all_gather_tensor", "all_reduce", "all_to_all_single", "all_to_all_single_autograd", "wait_tensor"]

_REDUCE_OPS = {"sum": c.ReduceOp.SUM, "avg": c.ReduceOp.AVG, "product": c.ReduceOp.PRODUCT,
               "min": c.ReduceOp.MIN, "max": c.ReduceOp.MAX}  # fmt: skip


def wait_tensor(tensor: Any) -> Any:
    """The result of a functional collective: ember's are complete already."""
    return tensor


def _exchanged_shape(tensor: Any, output_split_sizes: list[int] | None) -> tuple[int, ...]:
    rows = tensor.size(0) if output_split_sizes is None else sum(output_split_sizes)
    return (rows, *tuple(tensor.shape)[1:])


def all_to_all_single(self: Any, output_split_sizes: list[int] | None, input_split_sizes: list[int] | None,
                      group: Any = None, tag: str = "") -> Any:  # fmt: skip
    """``self`` split along dim 0 by ``input_split_sizes`` and exchanged: a new tensor of what each rank sent
    here, in rank order."""
    out = self.new_empty(_exchanged_shape(self, output_split_sizes))
    c.all_to_all_single(out, self.contiguous(), output_split_sizes, input_split_sizes, group=group)
    return out


def all_to_all_single_autograd(self: Any, output_split_sizes: list[int] | None, input_split_sizes: list[int] | None,
                               group: Any = None, tag: str = "") -> Any:  # fmt: skip
    """all_to_all_single, differentiable (the gradient travels back the same way)."""
    from .nn import functional

    template = self.new_empty(_exchanged_shape(self, output_split_sizes))
    return functional.all_to_all_single(template, self, output_split_sizes, input_split_sizes, group=group)


def all_reduce(self: Any, reduceOp: str, group: Any = None, tag: str = "") -> Any:  # noqa: N803
    """A new tensor holding ``self`` reduced over the ranks (``reduceOp``: "sum", "avg", "product", "min" or
    "max")."""
    if reduceOp.lower() not in _REDUCE_OPS:
        raise ValueError(f"all_reduce: unknown reduceOp {reduceOp!r}; expected one of {sorted(_REDUCE_OPS)}")
    out = self.clone()
    c.all_reduce(out, _REDUCE_OPS[reduceOp.lower()], group=group)
    return out


def all_gather_tensor(self: Any, gather_dim: int, group: Any = None, tag: str = "") -> Any:
    """Every rank's ``self`` concatenated along ``gather_dim``, in rank order."""
    parts = [self.new_empty(tuple(self.shape)) for _ in range(get_world_size(group))]
    c.all_gather(parts, self.contiguous(), group=group)
    return _C.cat(parts, gather_dim)
