"""DistributedDataParallel on ember.distributed (MPI): each rank trains a replica on its share of the batch,
and gradients are averaged across ranks during backward.

Note [DDP buckets]
As PyTorch's reducer: the parameters are grouped, in reverse order (the order backward produces their
gradients), into buckets of one dtype and about bucket_cap_mb (the first one 1 MB, so communication starts
early). Each parameter has a post-accumulate-grad hook; it writes the gradient, divided by the world size, into
its slot of the bucket's flat buffer (one pass: the copy is the division). Unlike PyTorch, a parameter of 256 KB
or more is a bucket of its own, reduced in its gradient's own memory: no copy in, no copy out. Copies are what
DDP costs beyond the all-reduce itself, and ranks copying at the same time share the memory bandwidth (on this
2-core machine each copy ran 2x slower beside the other rank's); a gradient that large also needs no company to
amortise an all-reduce's fixed cost. When every slot of a bucket is filled, and every bucket before it has been
launched, the bucket's all-reduce starts as a non-blocking MPI operation, while backward goes on computing the
earlier layers' gradients. Buckets launch strictly in order on every rank, whatever order the executor's threads
finish in, since MPI requires every rank to start collectives in one order. A callback queued for the end of
backward waits for the all-reduces and writes the averages back into .grad (or, with gradient_as_bucket_view,
makes .grad a view of the bucket).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from ... import _C
from ..._C import div
from ..._creation import _device_of, tensor, zeros
from ...grad_mode import no_grad
from ..modules.module import Module

__all__ = ["DistributedDataParallel"]

_FIRST_BUCKET_BYTES = 1024 * 1024  # as PyTorch's dist._DEFAULT_FIRST_BUCKET_BYTES
_DEFAULT_BUCKET_MB = 25

_UNFINISHED_REDUCTION = (
    "Expected to have finished reduction in the prior iteration before starting a new one. This error indicates "
    "that your module has parameters that were not used in producing loss. You can enable unused parameter "
    "detection by passing the keyword argument `find_unused_parameters=True` to "
    "`ember.nn.parallel.DistributedDataParallel`, and by making sure all `forward` function outputs participate "
    "in calculating loss.\nParameter indices which did not receive grad for rank {rank}: {indices}"
)


_OWN_BUCKET_BYTES = 256 * 1024  # parameters this large are reduced in their gradient's memory


class _Bucket:
    def __init__(self, params: list[tuple[int, Any]]) -> None:
        self.params = params  # (index in the module's parameter list, parameter)
        self.offsets, total = [], 0
        for _, p in params:
            self.offsets.append(total)
            total += p.numel()
        # A bucket of one large parameter reduces that parameter's gradient in place: no flat buffer.
        self.in_place = len(params) == 1 and total * params[0][1].element_size() >= _OWN_BUCKET_BYTES
        first = params[0][1]
        self.flat = None if self.in_place else zeros(total, dtype=first.dtype, device=_device_of(first))
        self.buffer: Any = None  # what this iteration's all-reduce runs on
        self.pending = len(params)
        self.work: Any = None


def _assign_buckets(params: list[Any], first_cap: int, cap: int) -> list[_Bucket]:
    """Parameters in reverse order into buckets of one dtype each, closed once they reach the byte cap; a
    parameter of _OWN_BUCKET_BYTES or more is a bucket of its own (Note [DDP buckets])."""
    buckets, open_buckets = [], {}
    for index in reversed(range(len(params))):
        p = params[index]
        if p.numel() * p.element_size() >= _OWN_BUCKET_BYTES:
            buckets.append(_Bucket([(index, p)]))
            continue
        members = open_buckets.setdefault(p.dtype, [])
        members.append((index, p))
        limit = first_cap if not buckets else cap
        if sum(q.numel() * q.element_size() for _, q in members) >= limit:
            buckets.append(_Bucket(members))
            del open_buckets[p.dtype]
    buckets.extend(_Bucket(members) for members in open_buckets.values())
    return buckets


def _tensors_in(value: Any) -> Iterator[Any]:
    """The tensors of a forward's output (nested tuples, lists and dicts)."""
    if isinstance(value, _C.Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _tensors_in(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _tensors_in(v)


def _parameters_reached(outputs: Any) -> set[int]:
    """ids of the leaf tensors the outputs' autograd graph accumulates into."""
    seen: dict[int, Any] = {}  # keeps the node objects alive, so their ids stay unique
    stack = [t.grad_fn for t in _tensors_in(outputs) if t.grad_fn is not None]
    reached = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen[id(node)] = node
        variable = getattr(node, "variable", None)
        if variable is not None:
            reached.add(id(variable))
        stack.extend(n for n, _ in node.next_functions if n is not None)
    return reached


class _Reducer:
    """The gradient averaging of one DistributedDataParallel: buckets, hooks, and the end-of-backward wait."""

    def __init__(self, params: list[Any], pg: Any, bucket_bytes: int, find_unused: bool, as_view: bool) -> None:
        self.params, self.pg, self.find_unused, self.as_view = params, pg, find_unused, as_view
        self.buckets = _assign_buckets(params, min(_FIRST_BUCKET_BYTES, bucket_bytes), bucket_bytes)
        self.slot = {}
        for b, bucket in enumerate(self.buckets):
            for s, (_, p) in enumerate(bucket.params):
                self.slot[id(p)] = (b, s)
        self.lock = threading.Lock()  # the executor's threads run hooks concurrently
        self.armed = False  # a forward with gradient sync ran; its backward has not finished
        self.started = False  # a hook of that backward has run
        self.next_bucket = 0
        self.used: set[int] = set()
        self.unfinished: list[int] = []
        self.handles = [p.register_post_accumulate_grad_hook(self._on_gradient) for p in params]

    def check_finished(self) -> None:
        """PyTorch's error when the previous backward left parameters without gradient (raised once)."""
        if self.unfinished:
            indices, self.unfinished = self.unfinished, []
            raise RuntimeError(_UNFINISHED_REDUCTION.format(rank=self.pg.rank(), indices=" ".join(map(str, indices))))

    def prepare(self, outputs: Any) -> None:
        """Called by forward, after the module ran, when this iteration's gradients are to be averaged."""
        for bucket in self.buckets:
            bucket.pending, bucket.work = len(bucket.params), None
        self.next_bucket, self.used, self.started, self.armed = 0, set(), False, True
        if self.find_unused:
            reached = _parameters_reached(outputs)
            with self.lock:
                for p in self.params:
                    if id(p) not in reached:  # no gradient will come: its slot holds zeros
                        self._fill(p, None)

    def _on_gradient(self, p: Any) -> None:
        if not self.armed:  # no_sync(), or a backward through no DDP forward
            return
        with self.lock:
            if not self.started:
                self.started = True
                _C._queue_callback(self._finish)
            self.used.add(id(p))
            self._fill(p, p.grad)

    def _fill(self, p: Any, grad: Any) -> None:
        """Writes grad / world size into p's slot (zeros for no gradient), and launches the buckets now ready."""
        b, s = self.slot[id(p)]
        bucket = self.buckets[b]
        ranks = self.pg.size()
        with no_grad():
            if bucket.in_place and grad is not None and grad.is_contiguous():
                bucket.buffer = grad.div_(ranks)
            elif bucket.in_place:  # no gradient, or a strided one: reduce a contiguous copy
                if grad is None:
                    bucket.buffer = zeros(p.numel(), dtype=p.dtype, device=_device_of(p))
                else:
                    bucket.buffer = div(grad.reshape(-1), ranks)
            else:
                piece = bucket.flat[bucket.offsets[s] : bucket.offsets[s] + p.numel()]
                div(grad.reshape(-1), ranks, out=piece) if grad is not None else piece.zero_()
                bucket.buffer = bucket.flat
        bucket.pending -= 1
        while self.next_bucket < len(self.buckets) and self.buckets[self.next_bucket].pending == 0:
            self._launch(self.buckets[self.next_bucket])
            self.next_bucket += 1
        for earlier in self.buckets[: self.next_bucket]:
            earlier.work.is_completed()  # drives MPI's progress on the reductions in flight

    def _launch(self, bucket: _Bucket) -> None:
        from ... import distributed as dist

        bucket.work = dist.all_reduce(bucket.buffer, group=self.pg, async_op=True)

    def _finish(self) -> None:
        """End of backward: wait for the reductions and write the averaged gradients."""
        from ... import distributed as dist

        self.armed = False
        if self.next_bucket < len(self.buckets):  # parameters without gradient: PyTorch's error, at next forward
            self.unfinished = sorted(
                i for b in self.buckets[self.next_bucket :] for i, p in b.params if id(p) not in self.used
            )
        globally_used = None
        if self.find_unused:
            used = [int(id(p) in self.used) for p in self.params]
            flags = tensor(used, dtype=_C.dtype.int32, device="cpu")  # the collectives take CPU tensors
            dist.all_reduce(flags, op=dist.ReduceOp.MAX, group=self.pg)
            globally_used = flags.tolist()
        for bucket in self.buckets[: self.next_bucket]:
            bucket.work.wait()
            self._write_back(bucket, globally_used)

    def _write_back(self, bucket: _Bucket, globally_used: list[int] | None) -> None:
        with no_grad():
            for (index, p), offset in zip(bucket.params, bucket.offsets):
                if globally_used is not None and not globally_used[index]:
                    continue  # no rank computed a gradient for it: .grad stays as it was, as in PyTorch
                if bucket.buffer is p.grad:
                    continue  # reduced in place
                average = bucket.buffer[offset : offset + p.numel()].view(p.shape)
                if p.grad is None or (self.as_view and not bucket.in_place):
                    p.grad = average if self.as_view or bucket.in_place else average.clone()
                else:
                    p.grad.copy_(average)


class DistributedDataParallel(Module):
    """Data-parallel training across the ranks of an ember.distributed process group (MPI), as
    torch.nn.parallel.DistributedDataParallel.

    At construction the parameters and buffers of rank 0 are broadcast to every rank. Each forward runs the
    wrapped `module` (``.module``) on this rank's inputs; the following backward averages the gradients across
    ranks while it runs (Note [DDP buckets]), so every rank's optimizer takes the same step. Keywords as
    PyTorch's: bucket_cap_mb (25), find_unused_parameters (parameters the forward did not use get zero
    gradients in the average instead of blocking it), gradient_as_bucket_view, broadcast_buffers (rank 0's
    buffers, e.g. BatchNorm's running statistics, are broadcast before each forward), init_sync; device_ids
    and output_device are for GPUs and must stay None. ``no_sync()`` skips averaging, to accumulate gradients
    over several backward passes. state_dict keys carry the ``module.`` prefix, as in PyTorch.
    """

    def __init__(
        self,
        module: Module,
        device_ids: Any = None,
        output_device: Any = None,
        dim: int = 0,
        broadcast_buffers: bool = True,
        init_sync: bool = True,
        process_group: Any = None,
        bucket_cap_mb: float | None = None,
        find_unused_parameters: bool = False,
        check_reduction: bool = False,
        gradient_as_bucket_view: bool = False,
        static_graph: bool = False,
        delay_all_reduce_named_params: Any = None,
        param_to_hook_all_reduce: Any = None,
        mixed_precision: Any = None,
        device_mesh: Any = None,
    ) -> None:
        super().__init__()
        from ... import distributed as dist

        if device_ids not in (None, []) or output_device is not None:
            raise ValueError(
                "DistributedDataParallel: device_ids and output_device are for GPU modules; ember's DDP runs on "
                "the CPU: leave them None"
            )
        if mixed_precision is not None or device_mesh is not None:
            raise ValueError("DistributedDataParallel: mixed_precision and device_mesh are not supported by ember")
        pg = dist._process_group._resolve(process_group)
        params = list({id(p): p for p in module.parameters() if p.requires_grad}.values())
        if not params:
            raise RuntimeError(
                "DistributedDataParallel is not needed when a module doesn't have any parameter that requires a "
                "gradient."
            )
        self.module = module
        self.process_group = pg
        self.device_ids, self.output_device, self.dim = device_ids, output_device, dim
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.bucket_bytes_cap = int((_DEFAULT_BUCKET_MB if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024)
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        if init_sync:
            self._broadcast(list(module.parameters()) + list(module.buffers()))
        self._reducer = _Reducer(params, pg, self.bucket_bytes_cap, find_unused_parameters, gradient_as_bucket_view)

    def _broadcast(self, tensors: list[Any]) -> None:
        from ... import distributed as dist

        for t in tensors:
            dist.broadcast(t.detach(), group_src=0, group=self.process_group)

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        if self.broadcast_buffers and self.require_forward_param_sync:
            self._broadcast(list(self.module.buffers()))
        sync = _C.is_grad_enabled() and self.require_backward_grad_sync
        if sync:
            self._reducer.check_finished()  # before running the forward, as PyTorch
        output = self.module(*inputs, **kwargs)
        if sync:
            self._reducer.prepare(output)
        return output

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Inside, backward accumulates gradients locally without averaging them; the first backward after it
        averages the accumulated gradients."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def join(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            "DistributedDataParallel.join (uneven inputs across ranks) is not supported by ember: give every rank "
            "the same number of batches (DistributedSampler(drop_last=True) does)"
        )

    def register_comm_hook(self, state: Any, hook: Any) -> None:
        raise NotImplementedError("DistributedDataParallel.register_comm_hook is not supported by ember")

    def _get_name(self) -> str:
        return "DistributedDataParallel"
