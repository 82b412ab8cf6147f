"""Differentiable collectives, as ``torch.distributed.nn.functional``: each runs its ember.distributed
collective forward and the adjoint collective backward, so gradients reach every rank's inputs:

- ``all_reduce`` (SUM or AVG): backward all-reduces the gradient the same way;
- ``all_gather``: backward gives each rank the sum, over the ranks, of the gradient of its own slot;
- ``broadcast``: backward reduces the gradients (summed) to ``src``; the other ranks' inputs get zeros;
- ``reduce``: backward broadcasts ``dst``'s gradient to every rank;
- ``gather``/``scatter`` and ``all_to_all``/``all_to_all_single``: backward runs the reverse exchange."""

from __future__ import annotations

from typing import Any

from ... import _creation
from ...autograd import Function
from .. import _collectives as c
from .. import _process_group as pg

__all__ = [
    "all_gather", "all_reduce", "all_to_all", "all_to_all_single", "broadcast", "gather", "reduce", "scatter",
]  # fmt: skip


def _checked(tensor: Any, op: str) -> Any:
    from ..._C import Tensor

    if not isinstance(tensor, Tensor):
        raise TypeError(f"ember.distributed.nn.{op}(): expected a Tensor, got {type(tensor).__name__}")
    return tensor


def _rank(group: Any) -> int:
    return pg.get_rank(group)


def _size(group: Any) -> int:
    return pg.get_world_size(group)


class _AllReduce(Function):
    @staticmethod
    def forward(ctx: Any, op: Any, group: Any, tensor: Any) -> Any:
        ctx.op, ctx.group = op, group
        out = tensor.clone()
        c.all_reduce(out, op=op, group=group)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        if ctx.op not in (c.ReduceOp.SUM, c.ReduceOp.AVG):
            raise RuntimeError("Only SUM and AVG reductions are differentiable in all_reduce, got " + str(ctx.op))
        return None, None, _AllReduce.apply(ctx.op, ctx.group, grad.contiguous())


def all_reduce(tensor: Any, op: Any = c.ReduceOp.SUM, group: Any = None) -> Any:
    """The all-reduced tensor (a new one; ``tensor`` is left as it is)."""
    return _AllReduce.apply(op, group, _checked(tensor, "all_reduce"))


class _AllGather(Function):
    @staticmethod
    def forward(ctx: Any, group: Any, tensor: Any) -> Any:
        ctx.group = group
        out = [_creation.empty_like(tensor) for _ in range(_size(group))]
        c.all_gather(out, tensor.contiguous(), group=group)
        return tuple(out)

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> Any:
        # rank r's input went to slot r of every rank: its gradient is the sum of those slots' gradients
        from ... import stack

        summed = stack([g.contiguous() for g in grads])
        c.all_reduce(summed, group=ctx.group)
        return None, summed[_rank(ctx.group)]


def all_gather(tensor: Any, group: Any = None) -> tuple[Any, ...]:
    """Every rank's ``tensor``, in rank order."""
    return _AllGather.apply(group, _checked(tensor, "all_gather"))


class _Broadcast(Function):
    @staticmethod
    def forward(ctx: Any, src: int, group: Any, tensor: Any) -> Any:
        ctx.src, ctx.group = src, group
        out = tensor.clone().contiguous()
        c.broadcast(out, src, group=group)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        total = _Reduce.apply(ctx.src, c.ReduceOp.SUM, ctx.group, grad.contiguous())
        return None, None, total if _rank(ctx.group) == ctx.src else total.zero_()


def broadcast(tensor: Any, src: int, group: Any = None) -> Any:
    """``src``'s tensor, on every rank."""
    return _Broadcast.apply(src, group, _checked(tensor, "broadcast"))


class _Reduce(Function):
    @staticmethod
    def forward(ctx: Any, dst: int, op: Any, group: Any, tensor: Any) -> Any:
        ctx.dst, ctx.group = dst, group
        out = tensor.clone().contiguous()
        c.reduce(out, dst, op=op, group=group)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return None, None, None, _Broadcast.apply(ctx.dst, ctx.group, grad.contiguous())


def reduce(tensor: Any, dst: int, op: Any = c.ReduceOp.SUM, group: Any = None) -> Any:
    """The reduction on ``dst`` (the other ranks' results are their partial values, as MPI leaves them)."""
    return _Reduce.apply(dst, op, group, _checked(tensor, "reduce"))


class _Gather(Function):
    @staticmethod
    def forward(ctx: Any, dst: int, group: Any, tensor: Any) -> Any:
        ctx.dst, ctx.group = dst, group
        out = [_creation.zeros_like(tensor) for _ in range(_size(group))]
        c.gather(tensor.contiguous(), out if _rank(group) == dst else None, dst, group=group)
        return tuple(out)

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> Any:
        return None, None, _Scatter.apply(ctx.dst, ctx.group, *grads)


def gather(tensor: Any, dst: int = 0, group: Any = None) -> tuple[Any, ...]:
    """Every rank's ``tensor`` on ``dst`` (zeros on the other ranks)."""
    return _Gather.apply(dst, group, _checked(tensor, "gather"))


class _Scatter(Function):
    @staticmethod
    def forward(ctx: Any, src: int, group: Any, *tensors: Any) -> Any:
        ctx.src, ctx.group = src, group
        out = _creation.empty_like(tensors[_rank(group)])
        c.scatter(out, [t.contiguous() for t in tensors] if _rank(group) == src else None, src, group=group)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return (None, None, *_Gather.apply(ctx.src, ctx.group, grad))


def scatter(tensors: list[Any], src: int = 0, group: Any = None) -> Any:
    """This rank's tensor of ``src``'s list (every rank passes a list of the right shapes)."""
    return _Scatter.apply(src, group, *[_checked(t, "scatter") for t in tensors])


class _AllToAll(Function):
    @staticmethod
    def forward(ctx: Any, group: Any, *tensors: Any) -> Any:
        ctx.group = group
        size = _size(group)
        outputs, inputs = list(tensors[:size]), [t.contiguous() for t in tensors[size:]]
        received = [_creation.empty_like(o) for o in outputs]
        c.all_to_all(received, inputs, group=group)
        return tuple(received)

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> Any:
        # what went to rank j comes back from rank j
        returned = [_creation.empty_like(g) for g in grads]
        c.all_to_all(returned, [g.contiguous() for g in grads], group=ctx.group)
        return (None, *[None] * len(grads), *returned)


def all_to_all(output_tensor_list: list[Any], input_tensor_list: list[Any], group: Any = None) -> tuple[Any, ...]:
    """Tensor j of the input goes to rank j; the result holds, in rank order, what each rank sent here
    (``output_tensor_list`` gives the shapes and is left as it is)."""
    tensors = [_checked(t, "all_to_all") for t in [*output_tensor_list, *input_tensor_list]]
    return _AllToAll.apply(group, *tensors)


def all_to_all_single(output: Any, input: Any, output_split_sizes: Any = None, input_split_sizes: Any = None,
                      group: Any = None) -> Any:  # noqa: A002  # fmt: skip
    """``input`` split along dim 0 and exchanged (``all_to_all_single``'s splits); a new tensor of ``output``'s
    shape."""
    _checked(output, "all_to_all_single")
    checked = _checked(input, "all_to_all_single")
    return _AllToAllSingle.apply(group, output, input_split_sizes, output_split_sizes, checked)


class _AllToAllSingle(Function):
    @staticmethod
    def forward(ctx: Any, group: Any, output: Any, input_splits: Any, output_splits: Any, tensor: Any) -> Any:
        ctx.group, ctx.splits, ctx.input_shape = group, (input_splits, output_splits), tensor.shape
        out = _creation.empty_like(output)
        c.all_to_all_single(out, tensor.contiguous(), output_splits, input_splits, group=group)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        input_splits, output_splits = ctx.splits
        back = _creation.empty(ctx.input_shape, dtype=grad.dtype, device=grad.device)
        c.all_to_all_single(back, grad.contiguous(), input_splits, output_splits, group=ctx.group)
        return None, None, None, None, back
