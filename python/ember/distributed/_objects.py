"""Collectives on picklable Python objects (broadcast_object_list, all_gather_object, gather_object,
scatter_object_list), as PyTorch's: each object is pickled into bytes, the sizes travel first, then the bytes,
through the same non-blocking operations and waits as the tensor collectives."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np

from ._process_group import _group_rank, _member, _mpi
from ._work import Work

# Point-to-point object messages travel under their own tag, apart from the tensors of send/recv (tag 0, ...).
_OBJECT_TAG = 32767

__all__ = [
    "all_gather_object",
    "broadcast_object_list",
    "gather_object",
    "recv_object_list",
    "scatter_object_list",
    "send_object_list",
]


def _pickled(objects: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """(the objects' pickles end to end as uint8, their sizes as int64)."""
    blobs = [pickle.dumps(o, protocol=pickle.HIGHEST_PROTOCOL) for o in objects]
    data = np.frombuffer(b"".join(blobs), dtype=np.uint8).copy()
    return data, np.array([len(b) for b in blobs], dtype=np.int64)


def _unpickled(data: np.ndarray, sizes: np.ndarray) -> list[Any]:
    out, offset = [], 0
    for n in sizes.tolist():
        out.append(pickle.loads(data[offset : offset + n].tobytes()))
        offset += n
    return out


def _done(pg: Any, request: Any, what: str) -> None:
    Work([request], pg.timeout, what).wait()


def _offsets(sizes: np.ndarray) -> list[int]:
    return np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64).tolist() if len(sizes) else []


def broadcast_object_list(
    object_list: list[Any], src: int | None = None, group: Any = None, device: Any = None, group_src: int | None = None
) -> None:
    """Replaces object_list's items on every rank with those of rank src (the lists have the same length)."""
    pg = _member(group, "broadcast_object_list")
    if pg is None:
        return
    root = _group_rank(pg, src, group_src, "src")
    if pg.rank() == root:
        data, sizes = _pickled(object_list)
    else:
        sizes = np.empty(len(object_list), dtype=np.int64)
    _done(pg, pg.comm.Ibcast(sizes, root), "broadcast_object_list")
    if pg.rank() != root:
        data = np.empty(int(sizes.sum()), dtype=np.uint8)
    _done(pg, pg.comm.Ibcast(data, root), "broadcast_object_list")
    if pg.rank() != root:
        object_list[:] = _unpickled(data, sizes)


def _gather_bytes(pg: Any, obj: Any, root: int | None, what: str) -> list[Any] | None:
    """Every rank's pickled `obj`, unpickled in rank order, on root (on every rank for root None)."""
    data, size = _pickled([obj])
    sizes = np.empty(pg.size(), dtype=np.int64)
    everyone = root is None
    if everyone:
        _done(pg, pg.comm.Iallgather(size, sizes), what)
    else:
        _done(pg, pg.comm.Igather(size, sizes, root), what)
    if not everyone and pg.rank() != root:
        _done(pg, pg.comm.Igatherv(data, None, root), what)
        return None
    received = np.empty(int(sizes.sum()), dtype=np.uint8)
    layout = [received, (sizes.tolist(), _offsets(sizes))]
    request = pg.comm.Iallgatherv(data, layout) if everyone else pg.comm.Igatherv(data, layout, root)
    _done(pg, request, what)
    return _unpickled(received, sizes)


def all_gather_object(object_list: list[Any], obj: Any, group: Any = None) -> None:
    """object_list[i] becomes rank i's `obj`, on every rank (object_list has one item per rank)."""
    pg = _member(group, "all_gather_object")
    if pg is None:
        return
    if len(object_list) != pg.size():
        raise ValueError(
            f"all_gather_object: object_list has {len(object_list)} items, the group has {pg.size()} ranks"
        )
    object_list[:] = _gather_bytes(pg, obj, None, "all_gather_object")


def gather_object(
    obj: Any,
    object_gather_list: list[Any] | None = None,
    dst: int | None = None,
    group: Any = None,
    group_dst: int | None = None,
) -> None:
    """On rank dst, object_gather_list[i] becomes rank i's `obj` (the list is given on dst only)."""
    pg = _member(group, "gather_object")
    if pg is None:
        return
    root = _group_rank(pg, dst, group_dst, "dst")
    if pg.rank() == root and (object_gather_list is None or len(object_gather_list) != pg.size()):
        raise ValueError(f"gather_object: object_gather_list must have {pg.size()} items on the destination rank")
    gathered = _gather_bytes(pg, obj, root, "gather_object")
    if gathered is not None:
        object_gather_list[:] = gathered


def scatter_object_list(
    scatter_object_output_list: list[Any],
    scatter_object_input_list: list[Any] | None = None,
    src: int | None = None,
    group: Any = None,
    group_src: int | None = None,
) -> None:
    """Rank i gets scatter_object_input_list[i] of rank src in scatter_object_output_list[0]."""
    pg = _member(group, "scatter_object_list")
    if pg is None:
        return
    root = _group_rank(pg, src, group_src, "src")
    if not isinstance(scatter_object_output_list, list) or len(scatter_object_output_list) < 1:
        raise ValueError("Expected argument scatter_object_output_list to be a list of size at least 1.")
    size = np.empty(1, dtype=np.int64)
    if pg.rank() == root:
        if scatter_object_input_list is None or len(scatter_object_input_list) != pg.size():
            raise ValueError(f"scatter_object_list: the input list must have {pg.size()} items on the source rank")
        data, sizes = _pickled(scatter_object_input_list)
        _done(pg, pg.comm.Iscatter(sizes, size, root), "scatter_object_list")
        layout = [data, (sizes.tolist(), _offsets(sizes))]
    else:
        _done(pg, pg.comm.Iscatter(None, size, root), "scatter_object_list")
        layout = None
    received = np.empty(int(size[0]), dtype=np.uint8)
    _done(pg, pg.comm.Iscatterv(layout, received, root), "scatter_object_list")
    scatter_object_output_list[0] = pickle.loads(received.tobytes())


def send_object_list(
    object_list: list[Any], dst: int | None = None, group: Any = None, device: Any = None, group_dst: int | None = None
) -> None:
    """Sends the picklable objects of object_list to rank dst, which receives them with recv_object_list."""
    pg = _member(group, "send_object_list")
    if pg is None:
        return
    peer = _group_rank(pg, dst, group_dst, "dst")
    data, sizes = _pickled(object_list)
    _done(pg, pg.comm.Isend(sizes, peer, _OBJECT_TAG), "send_object_list")
    _done(pg, pg.comm.Isend(data, peer, _OBJECT_TAG), "send_object_list")


def recv_object_list(
    object_list: list[Any], src: int | None = None, group: Any = None, device: Any = None, group_src: int | None = None
) -> int:
    """Fills object_list (as long as the sender's) with the objects rank src sent (any rank for None); returns
    the sender's rank."""
    pg = _member(group, "recv_object_list")
    if pg is None:
        return -1
    mpi = _mpi()
    peer = mpi.ANY_SOURCE if src is None and group_src is None else _group_rank(pg, src, group_src, "src")
    sizes = np.empty(len(object_list), dtype=np.int64)
    status = mpi.Status()
    Work([pg.comm.Irecv(sizes, peer, _OBJECT_TAG)], pg.timeout, "recv_object_list", statuses=[status]).wait()
    sender = status.Get_source()
    data = np.empty(int(sizes.sum()), dtype=np.uint8)
    _done(pg, pg.comm.Irecv(data, sender, _OBJECT_TAG), "recv_object_list")
    object_list[:] = _unpickled(data, sizes)
    return pg.ranks[sender]
