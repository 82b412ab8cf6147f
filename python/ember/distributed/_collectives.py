"""Collectives on tensors, as torch.distributed's: each one an MPI non-blocking operation on the tensor's own
memory (Note [Zero-copy interop]), finished by Work (Note [Waiting on MPI])."""

from __future__ import annotations

import enum
from datetime import timedelta
from typing import Any, Callable

from .. import _C
from .._creation import empty
from ..grad_mode import no_grad
from ._process_group import ProcessGroup, _group_rank, _member, _mpi
from ._work import Work

__all__ = [
    "P2POp",
    "ReduceOp",
    "all_gather",
    "all_gather_into_tensor",
    "all_gather_single",
    "all_gather_coalesced",
    "all_reduce",
    "all_reduce_coalesced",
    "all_to_all",
    "all_to_all_single",
    "barrier",
    "batch_isend_irecv",
    "broadcast",
    "gather",
    "irecv",
    "isend",
    "monitored_barrier",
    "recv",
    "reduce",
    "reduce_op",
    "reduce_scatter",
    "reduce_scatter_single",
    "reduce_scatter_tensor",
    "scatter",
    "send",
]


class RedOpType(enum.IntEnum):
    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7


class ReduceOp:
    """The reductions of all_reduce, reduce and reduce_scatter: ReduceOp.SUM, AVG, PRODUCT, MIN, MAX, BAND,
    BOR, BXOR (PyTorch's RedOpType values)."""

    RedOpType = RedOpType
    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX
    BAND = RedOpType.BAND
    BOR = RedOpType.BOR
    BXOR = RedOpType.BXOR


reduce_op = ReduceOp  # PyTorch's deprecated name

_BITWISE = (RedOpType.BAND, RedOpType.BOR, RedOpType.BXOR)
_BOOL = _C.dtype.bool


_OPS: dict[tuple[Any, Any], Any] = {}  # (op, dtype) -> MPI operation, once checked


def _mpi_op(op: Any, dtype: Any, what: str) -> Any:
    """MPI's operation for `op` on `dtype`, checked once per pair."""
    found = _OPS.get((op, dtype))
    if found is None:
        found = _OPS[op, dtype] = _choose_mpi_op(op, dtype, what)
    return found


def _choose_mpi_op(op: Any, dtype: Any, what: str) -> Any:
    """Booleans reduce logically (SUM and MAX as OR, PRODUCT and MIN as AND); AVG is a SUM that the caller
    divides afterwards; bitwise reductions need integers, AVG floating point."""
    mpi = _mpi()
    try:
        op = RedOpType(op)
    except ValueError:
        raise ValueError(
            f"{what}: unknown reduction {op!r}; use dist.ReduceOp.SUM, AVG, PRODUCT, MIN, MAX, ..."
        ) from None
    if dtype == _BOOL:
        logical = {"SUM": mpi.LOR, "MAX": mpi.LOR, "BOR": mpi.LOR, "PRODUCT": mpi.LAND, "MIN": mpi.LAND,
                   "BAND": mpi.LAND, "BXOR": mpi.LXOR}  # fmt: skip
        if op.name not in logical:
            raise ValueError(f"{what}: ReduceOp.{op.name} is not defined for {dtype} tensors")
        return logical[op.name]
    if op in _BITWISE and dtype.is_floating_point:
        raise ValueError(f"{what}: Cannot use ReduceOp.{op.name} with non-integral dtype {dtype}")
    if op == RedOpType.AVG and not dtype.is_floating_point:
        raise ValueError(f"{what}: ReduceOp.AVG needs a floating-point tensor, got {dtype} (use SUM and divide)")
    names = {"AVG": "SUM", "PRODUCT": "PROD"}
    return getattr(mpi, names.get(op.name, op.name))


def _memory(tensor: Any, what: str) -> Any:
    """The tensor's memory as MPI reads and writes it: the tensor itself, detached (autograd does not see a
    collective, as in PyTorch), contiguous, on the CPU."""
    if not isinstance(tensor, _C.Tensor):
        raise TypeError(f"{what}: expected a Tensor, got {type(tensor).__name__}")
    if not tensor.device.type == "cpu":
        raise RuntimeError(f"{what}: ember's MPI collectives take CPU tensors, got one on {tensor.device}")
    if not tensor.is_contiguous():
        raise RuntimeError(
            f"{what}: Tensors must be contiguous (got shape {tuple(tensor.shape)}, strides {tensor.stride()})"
        )
    return tensor.detach()


def _same_dtype(tensors: list[Any], dtype: Any, what: str) -> None:
    for t in tensors:
        if t.dtype != dtype:
            raise TypeError(f"{what}: all tensors must have one dtype, got {t.dtype} and {dtype}")


def _run(
    pg: ProcessGroup,
    what: str,
    start: Callable[[Any], Any],
    async_op: bool,
    finish: Callable[[], None] | None = None,
    result: list[Any] | None = None,
    keep: tuple[Any, ...] = (),
    statuses: list[Any] | None = None,
) -> Work | None:
    """Starts the operation on pg's communicator; returns its Work when async_op, else waits for it."""
    requests = start(pg.comm)
    work = Work(
        requests if isinstance(requests, list) else [requests], pg.timeout, what, finish, result, keep, statuses
    )
    if async_op:
        return work
    work.wait()
    return None


def _averaged(buffer: Any, op: Any, pg: ProcessGroup) -> Callable[[], None] | None:
    return (lambda: buffer.div_(pg.size())) if op == RedOpType.AVG else None


def _counts(tensors: list[Any], size: int, what: str, name: str) -> list[int]:
    if len(tensors) != size:
        raise ValueError(f"{what}: {name} has {len(tensors)} tensors, the group has {size} ranks")
    return [t.numel() for t in tensors]


def _flat_empty(counts: list[int], dtype: Any) -> Any:
    return empty(sum(counts), dtype=dtype)


def _copy_out(flat: Any, tensors: list[Any], counts: list[int]) -> Callable[[], None]:
    """Copies consecutive chunks of `flat` into `tensors` (the lists of all_gather, gather and all_to_all)."""

    def finish() -> None:
        offset = 0
        with no_grad():
            for t, n in zip(tensors, counts):
                t.copy_(flat[offset : offset + n].view(t.shape))
                offset += n

    return finish


def _concatenated(tensors: list[Any], dtype: Any) -> Any:
    return _C.cat([t.detach().reshape(-1) for t in tensors]) if tensors else empty(0, dtype=dtype)


def all_reduce(tensor: Any, op: Any = ReduceOp.SUM, group: Any = None, async_op: bool = False) -> Work | None:
    """Reduces `tensor` across the group in place: every rank ends with the SUM (AVG, PRODUCT, MIN, MAX, ...)."""
    pg = _member(group, "all_reduce")
    if pg is None:
        return None
    buf = _memory(tensor, "all_reduce")
    mpi_op = _mpi_op(op, buf.dtype, "all_reduce")
    mpi = _mpi()
    return _run(
        pg,
        "all_reduce",
        lambda c: c.Iallreduce(mpi.IN_PLACE, buf, mpi_op),
        async_op,
        _averaged(buf, op, pg),
        [tensor],
        (buf,),
    )


def broadcast(
    tensor: Any, src: int | None = None, group: Any = None, async_op: bool = False, group_src: int | None = None
) -> Work | None:
    """Copies `tensor` of rank src into `tensor` of every other rank."""
    pg = _member(group, "broadcast")
    if pg is None:
        return None
    root = _group_rank(pg, src, group_src, "src")
    buf = _memory(tensor, "broadcast")
    return _run(pg, "broadcast", lambda c: c.Ibcast(buf, root), async_op, None, [tensor], (buf,))


def reduce(
    tensor: Any,
    dst: int | None = None,
    op: Any = ReduceOp.SUM,
    group: Any = None,
    async_op: bool = False,
    group_dst: int | None = None,
) -> Work | None:
    """Reduces `tensor` across the group into `tensor` of rank dst; the other ranks' tensors are unchanged."""
    pg = _member(group, "reduce")
    if pg is None:
        return None
    root = _group_rank(pg, dst, group_dst, "dst")
    buf = _memory(tensor, "reduce")
    mpi_op = _mpi_op(op, buf.dtype, "reduce")
    mpi = _mpi()
    if pg.rank() == root:
        return _run(
            pg,
            "reduce",
            lambda c: c.Ireduce(mpi.IN_PLACE, buf, mpi_op, root),
            async_op,
            _averaged(buf, op, pg),
            [tensor],
            (buf,),
        )
    return _run(pg, "reduce", lambda c: c.Ireduce(buf, None, mpi_op, root), async_op, None, [tensor], (buf,))


def all_gather(tensor_list: list[Any], tensor: Any, group: Any = None, async_op: bool = False) -> Work | None:
    """Fills tensor_list[i] with `tensor` of rank i; the ranks' tensors may differ in size (MPI_Allgatherv)."""
    pg = _member(group, "all_gather")
    if pg is None:
        return None
    buf = _memory(tensor, "all_gather")
    counts = _counts(tensor_list, pg.size(), "all_gather", "tensor_list")
    _same_dtype(tensor_list, buf.dtype, "all_gather")
    if counts[pg.rank()] != buf.numel():
        raise ValueError(
            f"all_gather: tensor_list[{pg.rank()}] has {counts[pg.rank()]} elements, tensor has {buf.numel()}"
        )
    flat = _flat_empty(counts, buf.dtype)
    start = lambda c: c.Iallgatherv(buf, [flat, counts])  # noqa: E731
    return _run(pg, "all_gather", start, async_op, _copy_out(flat, tensor_list, counts), tensor_list, (buf, flat))


def all_reduce_coalesced(
    tensors: list[Any], op: Any = ReduceOp.SUM, group: Any = None, async_op: bool = False
) -> Work | None:
    """all_reduce of several tensors of one dtype as one operation (their elements end to end), as PyTorch's
    deprecated all_reduce_coalesced."""
    pg = _member(group, "all_reduce_coalesced")
    if pg is None:
        return None
    if not tensors:
        return Work([], pg.timeout, "all_reduce_coalesced") if async_op else None
    _same_dtype(tensors, tensors[0].dtype, "all_reduce_coalesced")
    flat = _concatenated(tensors, tensors[0].dtype)
    counts = [t.numel() for t in tensors]
    work = all_reduce(flat, op, group, async_op=True)
    work._then(_copy_out(flat, tensors, counts))  # after AVG's division of `flat`
    work._result = list(tensors)
    if async_op:
        return work
    work.wait()
    return None


def all_gather_coalesced(
    output_tensor_lists: list[list[Any]], input_tensor_list: list[Any], group: Any = None, async_op: bool = False
) -> Work | None:
    """all_gather of each tensor of input_tensor_list: output_tensor_lists[i][j] is rank i's j-th tensor."""
    pg = _member(group, "all_gather_coalesced")
    if pg is None:
        return None
    if len(output_tensor_lists) != pg.size():
        raise ValueError(
            f"all_gather_coalesced: {len(output_tensor_lists)} output lists, the group has {pg.size()} ranks"
        )
    works = [
        all_gather([out[j] for out in output_tensor_lists], t, group, async_op=True)
        for j, t in enumerate(input_tensor_list)
    ]
    if not async_op:
        for w in works:
            w.wait()
        return None

    def copy_out() -> None:  # each all_gather's copies into its output lists
        for w in works:
            w.wait()

    return Work([r for w in works for r in w._requests], pg.timeout, "all_gather_coalesced", copy_out)


def all_gather_into_tensor(
    output_tensor: Any, input_tensor: Any, group: Any = None, async_op: bool = False
) -> Work | None:
    """Writes the ranks' input_tensor one after another into output_tensor (size: ranks x input), without copies."""
    pg = _member(group, "all_gather_into_tensor")
    if pg is None:
        return None
    out = _memory(output_tensor, "all_gather_into_tensor")
    buf = _memory(input_tensor, "all_gather_into_tensor")
    _same_dtype([out], buf.dtype, "all_gather_into_tensor")
    if out.numel() != pg.size() * buf.numel():
        raise ValueError(
            f"all_gather_into_tensor: output has {out.numel()} elements, expected {pg.size()} ranks x {buf.numel()}"
        )
    return _run(
        pg, "all_gather_into_tensor", lambda c: c.Iallgather(buf, out), async_op, None, [output_tensor], (buf, out)
    )


def reduce_scatter(
    output: Any, input_list: list[Any], op: Any = ReduceOp.SUM, group: Any = None, async_op: bool = False
) -> Work | None:
    """Reduces input_list[i] across the ranks into `output` of rank i."""
    pg = _member(group, "reduce_scatter")
    if pg is None:
        return None
    out = _memory(output, "reduce_scatter")
    counts = _counts(input_list, pg.size(), "reduce_scatter", "input_list")
    _same_dtype(input_list, out.dtype, "reduce_scatter")
    if counts[pg.rank()] != out.numel():
        raise ValueError(
            f"reduce_scatter: input_list[{pg.rank()}] has {counts[pg.rank()]} elements, output has {out.numel()}"
        )
    flat = _concatenated(input_list, out.dtype)
    mpi_op = _mpi_op(op, out.dtype, "reduce_scatter")
    start = lambda c: c.Ireduce_scatter(flat, out, counts, mpi_op)  # noqa: E731
    return _run(pg, "reduce_scatter", start, async_op, _averaged(out, op, pg), [output], (flat, out))


def reduce_scatter_tensor(
    output: Any, input: Any, op: Any = ReduceOp.SUM, group: Any = None, async_op: bool = False
) -> Work | None:  # noqa: A002
    """Reduces `input` (ranks x output) across the ranks; rank i gets the i-th chunk in `output`, without copies."""
    pg = _member(group, "reduce_scatter_tensor")
    if pg is None:
        return None
    out = _memory(output, "reduce_scatter_tensor")
    buf = _memory(input, "reduce_scatter_tensor")
    _same_dtype([out], buf.dtype, "reduce_scatter_tensor")
    if buf.numel() != pg.size() * out.numel():
        raise ValueError(
            f"reduce_scatter_tensor: input has {buf.numel()} elements, expected {pg.size()} ranks x {out.numel()}"
        )
    mpi_op = _mpi_op(op, out.dtype, "reduce_scatter_tensor")
    start = lambda c: c.Ireduce_scatter_block(buf, out, mpi_op)  # noqa: E731
    return _run(pg, "reduce_scatter_tensor", start, async_op, _averaged(out, op, pg), [output], (buf, out))


def gather(
    tensor: Any,
    gather_list: list[Any] | None = None,
    dst: int | None = None,
    group: Any = None,
    async_op: bool = False,
    group_dst: int | None = None,
) -> Work | None:
    """Rank dst receives every rank's `tensor` into gather_list (given on dst only)."""
    pg = _member(group, "gather")
    if pg is None:
        return None
    root = _group_rank(pg, dst, group_dst, "dst")
    buf = _memory(tensor, "gather")
    if pg.rank() != root:
        if gather_list:
            raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination ranks.")
        return _run(pg, "gather", lambda c: c.Igatherv(buf, None, root), async_op, None, [], (buf,))
    if gather_list is None:
        raise ValueError("Argument ``gather_list`` must be specified on destination rank.")
    counts = _counts(gather_list, pg.size(), "gather", "gather_list")
    _same_dtype(gather_list, buf.dtype, "gather")
    flat = _flat_empty(counts, buf.dtype)
    start = lambda c: c.Igatherv(buf, [flat, counts], root)  # noqa: E731
    return _run(pg, "gather", start, async_op, _copy_out(flat, gather_list, counts), gather_list, (buf, flat))


def scatter(
    tensor: Any,
    scatter_list: list[Any] | None = None,
    src: int | None = None,
    group: Any = None,
    async_op: bool = False,
    group_src: int | None = None,
) -> Work | None:
    """Rank i receives scatter_list[i] of rank src (given on src only) into `tensor`."""
    pg = _member(group, "scatter")
    if pg is None:
        return None
    root = _group_rank(pg, src, group_src, "src")
    out = _memory(tensor, "scatter")
    if pg.rank() != root:
        if scatter_list:
            raise ValueError("Argument ``scatter_list`` must NOT be specified on non-source ranks.")
        return _run(pg, "scatter", lambda c: c.Iscatterv(None, out, root), async_op, None, [tensor], (out,))
    if scatter_list is None:
        raise ValueError("Argument ``scatter_list`` must be specified on source rank.")
    counts = _counts(scatter_list, pg.size(), "scatter", "scatter_list")
    _same_dtype(scatter_list, out.dtype, "scatter")
    flat = _concatenated(scatter_list, out.dtype)
    return _run(pg, "scatter", lambda c: c.Iscatterv([flat, counts], out, root), async_op, None, [tensor], (flat, out))


def _displacements(counts: list[int]) -> list[int]:
    out, total = [], 0
    for n in counts:
        out.append(total)
        total += n
    return out


def all_to_all_single(
    output: Any,
    input: Any,  # noqa: A002
    output_split_sizes: list[int] | None = None,
    input_split_sizes: list[int] | None = None,
    group: Any = None,
    async_op: bool = False,
) -> Work | None:
    """Splits `input` along dim 0 (equally, or by input_split_sizes) and sends piece i to rank i; `output`
    receives the pieces in rank order (split by output_split_sizes)."""
    pg = _member(group, "all_to_all_single")
    if pg is None:
        return None
    out = _memory(output, "all_to_all_single")
    buf = _memory(input, "all_to_all_single")
    _same_dtype([out], buf.dtype, "all_to_all_single")

    def element_counts(t: Any, splits: list[int] | None, name: str) -> list[int]:
        rows = t.shape[0] if t.dim() else 1
        row = t.numel() // rows if rows else 0
        if splits is None:
            if rows % pg.size():
                raise ValueError(f"all_to_all_single: {name} has {rows} rows, not divisible by {pg.size()} ranks")
            splits = [rows // pg.size()] * pg.size()
        if len(splits) != pg.size() or sum(splits) != rows:
            raise ValueError(
                f"all_to_all_single: {name}_split_sizes {splits} must have {pg.size()} sizes adding up to {rows}"
            )
        return [s * row for s in splits]

    sent = element_counts(buf, input_split_sizes, "input")
    received = element_counts(out, output_split_sizes, "output")
    start = lambda c: c.Ialltoallv([buf, (sent, _displacements(sent))], [out, (received, _displacements(received))])  # noqa: E731
    return _run(pg, "all_to_all_single", start, async_op, None, [output], (buf, out))


def all_to_all(
    output_tensor_list: list[Any], input_tensor_list: list[Any], group: Any = None, async_op: bool = False
) -> Work | None:
    """Sends input_tensor_list[i] to rank i; output_tensor_list[i] receives rank i's piece."""
    pg = _member(group, "all_to_all")
    if pg is None:
        return None
    sent = _counts(input_tensor_list, pg.size(), "all_to_all", "input_tensor_list")
    received = _counts(output_tensor_list, pg.size(), "all_to_all", "output_tensor_list")
    dtype = input_tensor_list[0].dtype if input_tensor_list else _C.dtype.float32
    _same_dtype(input_tensor_list + output_tensor_list, dtype, "all_to_all")
    flat_in, flat_out = _concatenated(input_tensor_list, dtype), _flat_empty(received, dtype)
    sends, receives = [flat_in, (sent, _displacements(sent))], [flat_out, (received, _displacements(received))]
    start = lambda c: c.Ialltoallv(sends, receives)  # noqa: E731
    finish = _copy_out(flat_out, output_tensor_list, received)
    return _run(pg, "all_to_all", start, async_op, finish, output_tensor_list, (flat_in, flat_out))


def barrier(
    group: Any = None, async_op: bool = False, device_ids: Any = None, timeout: timedelta | None = None
) -> Work | None:
    """Returns once every rank of the group has called it."""
    pg = _member(group, "barrier")
    if pg is None:
        return None
    work = Work([pg.comm.Ibarrier()], timeout or pg.timeout, "barrier")
    if async_op:
        return work
    work.wait()
    return None


def monitored_barrier(group: Any = None, timeout: timedelta | None = None, wait_all_ranks: bool = False) -> None:
    """A barrier that raises RuntimeError, naming this rank, when the others do not arrive within timeout."""
    pg = _member(group, "monitored_barrier")
    if pg is None:
        return
    try:
        Work([pg.comm.Ibarrier()], timeout or pg.timeout, f"monitored_barrier on rank {pg.rank()}").wait()
    except RuntimeError as e:
        raise RuntimeError(f"Rank {pg.rank()} timed out in monitored_barrier: {e}") from None


def _point_to_point(
    tensor: Any, peer: int | None, group: Any, tag: int, group_peer: int | None, receive: bool, async_op: bool
) -> Work | None:
    what = "recv" if receive else "send"
    pg = _member(group, what)
    if pg is None:
        return None
    buf = _memory(tensor, what)
    mpi = _mpi()
    statuses = [mpi.Status()]
    if receive and peer is None and group_peer is None:
        other = mpi.ANY_SOURCE
    else:
        other = _group_rank(pg, peer, group_peer, "src" if receive else "dst")
    start = (lambda c: c.Irecv(buf, other, tag)) if receive else (lambda c: c.Isend(buf, other, tag))
    work = _run(pg, what, start, True, None, [tensor], (buf,), statuses)
    work._group_ranks = pg.ranks  # source_rank() answers in global ranks
    if async_op:
        return work
    work.wait()
    return work


def send(tensor: Any, dst: int | None = None, group: Any = None, tag: int = 0, group_dst: int | None = None) -> None:
    """Sends `tensor` to rank dst; returns once it has been sent."""
    _point_to_point(tensor, dst, group, tag, group_dst, False, False)


def recv(tensor: Any, src: int | None = None, group: Any = None, tag: int = 0, group_src: int | None = None) -> int:
    """Receives into `tensor` from rank src (any rank for None); returns the sender's rank."""
    work = _point_to_point(tensor, src, group, tag, group_src, True, False)
    return -1 if work is None else _global_source(work)


def _global_source(work: Work) -> int:
    return work._group_ranks[work.source_rank()]


def isend(
    tensor: Any, dst: int | None = None, group: Any = None, tag: int = 0, group_dst: int | None = None
) -> Work | None:
    """send without waiting: returns a Work."""
    return _point_to_point(tensor, dst, group, tag, group_dst, False, True)


def irecv(
    tensor: Any, src: int | None = None, group: Any = None, tag: int = 0, group_src: int | None = None
) -> Work | None:
    """recv without waiting: returns a Work."""
    return _point_to_point(tensor, src, group, tag, group_src, True, True)


class P2POp:
    """One send or receive of batch_isend_irecv: P2POp(dist.isend or dist.irecv, tensor, peer)."""

    def __init__(
        self,
        op: Callable[..., Any],
        tensor: Any,
        peer: int | None = None,
        group: Any = None,
        tag: int = 0,
        group_peer: int | None = None,
    ) -> None:
        if op not in (isend, irecv):
            raise ValueError(
                "Invalid ``op``. Expected ``op`` to be of type ``ember.distributed.isend`` or "
                "``ember.distributed.irecv``."
            )
        self.op, self.tensor, self.peer, self.group, self.tag, self.group_peer = (
            op,
            tensor,
            peer,
            group,
            tag,
            group_peer,
        )


def batch_isend_irecv(p2p_op_list: list[P2POp]) -> list[Work]:
    """Starts every send and receive of the list; returns their Works."""
    works = []
    for p in p2p_op_list:
        peer_keyword = "group_dst" if p.op is isend else "group_src"
        work = p.op(p.tensor, p.peer, p.group, p.tag, **{peer_keyword: p.group_peer})
        if work is not None:
            works.append(work)
    return works


# PyTorch's names for the single-tensor forms.
all_gather_single = all_gather_into_tensor
reduce_scatter_single = reduce_scatter_tensor
