"""Run under mpiexec -n N (tests/test_distributed.py does): every collective of ember.distributed against numpy,
on every rank. Each rank's data comes from a seed of its rank, so each rank computes every expected value."""

from __future__ import annotations

import sys
from datetime import timedelta

import numpy as np

import ember
import ember.distributed as dist

dist.init_process_group(backend="mpi", timeout=timedelta(seconds=60))
rank, size = dist.get_rank(), dist.get_world_size()
DTYPES = {"float32": np.float32, "float64": np.float64, "int32": np.int32, "int64": np.int64}


def data(r: int, shape: tuple[int, ...] = (3, 4), dtype: str = "float64") -> np.ndarray:
    rng = np.random.default_rng(100 + r)
    return (
        (rng.standard_normal(shape) * 10).astype(DTYPES[dtype])
        if "float" in dtype
        else rng.integers(-5, 9, shape).astype(DTYPES[dtype])
    )


def tensor(a: np.ndarray) -> ember.Tensor:
    return ember.tensor(a.copy())


def check(got: ember.Tensor, want: np.ndarray, what: str) -> None:
    g = got.numpy()
    tol = 1e-5 if g.dtype == np.float32 else 1e-12
    if g.shape != want.shape or g.dtype != want.dtype or not np.allclose(g, want, rtol=tol, atol=tol):
        sys.exit(f"rank {rank}: {what}: got {g!r}, want {want!r}")


everyone = [data(r) for r in range(size)]

# all_reduce, every reduction, float and integer dtypes, blocking and async
for dtype in DTYPES:
    inputs = [data(r, dtype=dtype) for r in range(size)]
    reductions = {
        dist.ReduceOp.SUM: np.sum,
        dist.ReduceOp.PRODUCT: np.prod,
        dist.ReduceOp.MIN: np.min,
        dist.ReduceOp.MAX: np.max,
    }
    if "float" in dtype:
        reductions[dist.ReduceOp.AVG] = np.mean
    else:
        reductions.update({dist.ReduceOp.BAND: np.bitwise_and.reduce, dist.ReduceOp.BOR: np.bitwise_or.reduce,
                           dist.ReduceOp.BXOR: np.bitwise_xor.reduce})  # fmt: skip
    for op, reduce in reductions.items():
        for async_op in (False, True):
            t = tensor(inputs[rank])
            work = dist.all_reduce(t, op=op, async_op=async_op)
            if async_op:
                assert work.wait() is True and work.is_completed() and work.is_success()
                assert work.result()[0] is t
            check(
                t,
                reduce(np.stack(inputs), axis=0).astype(DTYPES[dtype]),
                f"all_reduce {op.name} {dtype} async={async_op}",
            )

flags = ember.tensor([rank == 0, True, False])
dist.all_reduce(flags)  # bool SUM is a logical OR
check(flags, np.array([True, True, False]), "all_reduce of bool")

# broadcast from every root, and through group_src
for root in range(size):
    t = tensor(everyone[rank])
    dist.broadcast(t, src=root)
    check(t, everyone[root], f"broadcast from {root}")
t = tensor(everyone[rank])
dist.broadcast(t, group_src=size - 1, async_op=True).wait()
check(t, everyone[size - 1], "broadcast(group_src=)")

# reduce: the root gets the sum, the others keep their input
for root in range(size):
    t = tensor(everyone[rank])
    dist.reduce(t, dst=root, op=dist.ReduceOp.SUM)
    check(t, np.sum(everyone, axis=0) if rank == root else everyone[rank], f"reduce to {root}")

# all_gather with tensors of different sizes per rank, and all_gather_into_tensor
uneven = [data(r, shape=(r + 1, 2)) for r in range(size)]
out = [ember.zeros(r + 1, 2, dtype=ember.float64) for r in range(size)]
dist.all_gather(out, tensor(uneven[rank]))
for r in range(size):
    check(out[r], uneven[r], f"all_gather item {r}")
big = ember.zeros(size * 3, 4, dtype=ember.float64)
dist.all_gather_into_tensor(big, tensor(everyone[rank]))
check(big, np.concatenate(everyone), "all_gather_into_tensor")
stacked = ember.zeros(size, 3, 4, dtype=ember.float64)
dist.all_gather_into_tensor(stacked, tensor(everyone[rank]), async_op=True).wait()
check(stacked, np.stack(everyone), "all_gather_into_tensor, stacked")

# reduce_scatter and reduce_scatter_tensor: rank i gets the sum of every rank's i-th piece
pieces = [[data(10 * r + i, shape=(i + 2,)) for i in range(size)] for r in range(size)]
out = ember.zeros(rank + 2, dtype=ember.float64)
dist.reduce_scatter(out, [tensor(p) for p in pieces[rank]])
check(out, np.sum([pieces[r][rank] for r in range(size)], axis=0), "reduce_scatter")
flat = [data(50 + r, shape=(size * 5,)) for r in range(size)]
out = ember.zeros(5, dtype=ember.float64)
dist.reduce_scatter_tensor(out, tensor(flat[rank]), op=dist.ReduceOp.AVG)
check(out, np.mean(flat, axis=0)[rank * 5 : rank * 5 + 5], "reduce_scatter_tensor AVG")

# gather and scatter from every root
for root in range(size):
    gathered = [ember.zeros(r + 1, 2, dtype=ember.float64) for r in range(size)] if rank == root else None
    dist.gather(tensor(uneven[rank]), gathered, dst=root)
    if rank == root:
        for r in range(size):
            check(gathered[r], uneven[r], f"gather to {root}, item {r}")
    scattered = ember.zeros(rank + 1, 2, dtype=ember.float64)
    dist.scatter(scattered, [tensor(a) for a in uneven] if rank == root else None, src=root)
    check(scattered, uneven[rank], f"scatter from {root}")

# all_to_all_single (equal and uneven splits) and all_to_all
rows = [data(70 + r, shape=(size * 2, 3)) for r in range(size)]
out = ember.zeros(size * 2, 3, dtype=ember.float64)
dist.all_to_all_single(out, tensor(rows[rank]))
check(out, np.concatenate([rows[r][rank * 2 : rank * 2 + 2] for r in range(size)]), "all_to_all_single")
send_sizes = [[(r + i) % 3 + 1 for i in range(size)] for r in range(size)]  # rank r sends send_sizes[r][i] rows to i
sources = [data(80 + r, shape=(sum(send_sizes[r]), 2)) for r in range(size)]
recv_sizes = [send_sizes[r][rank] for r in range(size)]
out = ember.zeros(sum(recv_sizes), 2, dtype=ember.float64)
dist.all_to_all_single(out, tensor(sources[rank]), recv_sizes, send_sizes[rank])


def piece(r: int, i: int) -> np.ndarray:
    start = sum(send_sizes[r][:i])
    return sources[r][start : start + send_sizes[r][i]]


check(out, np.concatenate([piece(r, rank) for r in range(size)]), "all_to_all_single, uneven splits")
outs = [ember.zeros(send_sizes[r][rank], 2, dtype=ember.float64) for r in range(size)]
dist.all_to_all(outs, [tensor(piece(rank, i)) for i in range(size)])
for r in range(size):
    check(outs[r], piece(r, rank), f"all_to_all item {r}")

# send/recv around a ring; recv from any source returns the sender; isend/irecv and batch_isend_irecv
right, left = (rank + 1) % size, (rank - 1) % size
if size > 1:
    received = ember.zeros(3, 4, dtype=ember.float64)
    if rank % 2 == 0:
        dist.send(tensor(everyone[rank]), dst=right)
        sender = dist.recv(received, src=left)
    else:
        sender = dist.recv(received)
        dist.send(tensor(everyone[rank]), dst=right)
    check(received, everyone[left], "send/recv")
    assert sender == left, (sender, left)
    received = ember.zeros(3, 4, dtype=ember.float64)
    works = dist.batch_isend_irecv([dist.P2POp(dist.isend, tensor(everyone[rank]), right, tag=7),
                                    dist.P2POp(dist.irecv, received, left, tag=7)])  # fmt: skip
    for w in works:
        w.wait()
    check(received, everyone[left], "batch_isend_irecv")

# barrier, monitored_barrier, object collectives
dist.barrier()
dist.barrier(async_op=True).wait()
dist.monitored_barrier(timeout=timedelta(seconds=30))
objects = [{"rank": rank, "text": "x" * rank}, [rank] * 3] if rank == 0 else [None, None]
dist.broadcast_object_list(objects, src=0)
assert objects == [{"rank": 0, "text": ""}, [0, 0, 0]], objects
gathered_objects = [None] * size
dist.all_gather_object(gathered_objects, ("hello", rank, np.arange(rank)))
assert [g[1] for g in gathered_objects] == list(range(size)), gathered_objects
assert all(np.array_equal(g[2], np.arange(r)) for r, g in enumerate(gathered_objects))
target = [None] * size if rank == size - 1 else None
dist.gather_object({"r": rank}, target, dst=size - 1)
assert rank != size - 1 or target == [{"r": r} for r in range(size)], target
got = [None]
dist.scatter_object_list(got, [f"item {r}" for r in range(size)] if rank == 0 else None, src=0)
assert got == [f"item {rank}"], got

# object messages, coalesced collectives, subgroups by enumeration, the launcher's environment
if size > 1:
    if rank == 0:
        dist.send_object_list([{"to": 1}, "two"], dst=1)
    elif rank == 1:
        got = [None, None]
        assert dist.recv_object_list(got) == 0 and got == [{"to": 1}, "two"], got
pair = [tensor(data(90 + rank, shape=(2,))), tensor(data(95 + rank, shape=(3, 2)))]
dist.all_reduce_coalesced(pair, op=dist.ReduceOp.AVG)
check(pair[0], np.mean([data(90 + r, shape=(2,)) for r in range(size)], axis=0), "all_reduce_coalesced, first")
check(pair[1], np.mean([data(95 + r, shape=(3, 2)) for r in range(size)], axis=0), "all_reduce_coalesced, second")
outputs = [[ember.zeros(2, dtype=ember.float64), ember.zeros(1, dtype=ember.float64)] for _ in range(size)]
dist.all_gather_coalesced(
    outputs, [tensor(data(rank, shape=(2,))), tensor(data(rank + 9, shape=(1,)))], async_op=True
).wait()
for r in range(size):
    check(outputs[r][0], data(r, shape=(2,)), "all_gather_coalesced")
    check(outputs[r][1], data(r + 9, shape=(1,)), "all_gather_coalesced")
mine, subgroups = dist.new_subgroups_by_enumeration([[r] for r in range(size)])
assert len(subgroups) == size and dist.get_process_group_ranks(mine) == [rank]
assert dist.get_node_local_rank() == rank and dist.get_pg_count() == 1 + size  # one machine: local rank = rank
halves = [list(range(0, size, 2)), list(range(1, size, 2))] if size > 1 else [[0]]
half = dist.split_group(split_ranks=halves)
assert dist.get_process_group_ranks(half) == halves[rank % 2] and dist.get_rank(half) == rank // 2
if size > 1 and rank != size - 1:  # the last rank is left out and does not call it
    shrunk = dist.shrink_group([size - 1])
    t = tensor(everyone[rank])
    dist.all_reduce(t, group=shrunk)
    check(t, np.sum(everyone[:-1], axis=0), "all_reduce on a shrunk group")
big = ember.zeros(size * 3, 4, dtype=ember.float64)
dist.all_gather_single(big, tensor(everyone[rank]))
check(big, np.concatenate(everyone), "all_gather_single")

# groups: a group of the even ranks; ranks outside it get NON_GROUP_MEMBER and skip its collectives
evens = dist.new_group([r for r in range(size) if r % 2 == 0])
if rank % 2 == 0:
    assert dist.get_world_size(evens) == (size + 1) // 2 and dist.get_rank(evens) == rank // 2
    assert dist.get_process_group_ranks(evens) == list(range(0, size, 2))
    t = tensor(everyone[rank])
    dist.all_reduce(t, group=evens)
    check(t, np.sum(everyone[::2], axis=0), "all_reduce on a group")
    t = tensor(everyone[rank])
    dist.broadcast(t, src=0, group=evens)  # src is a global rank, as in PyTorch
    check(t, everyone[0], "broadcast on a group")
else:
    assert evens is dist.GroupMember.NON_GROUP_MEMBER and dist.get_rank(evens) == -1

# errors: clear Python exceptions, not crashes
for call, kind, words in [
    (lambda: dist.all_reduce(ember.zeros(3, 4).t()), RuntimeError, "contiguous"),
    (lambda: dist.all_reduce(ember.ones(2), op=dist.ReduceOp.BAND), ValueError, "non-integral"),
    (lambda: dist.all_reduce(ember.ones(2, dtype=ember.int64), op=dist.ReduceOp.AVG), ValueError, "floating-point"),
    (lambda: dist.all_gather([ember.zeros(2)] * (size + 1), ember.zeros(2)), ValueError, "ranks"),
    (lambda: dist.broadcast(ember.zeros(2)), ValueError, "src"),
    (lambda: dist.broadcast(ember.zeros(2), src=size), ValueError, "not part of group"),
    (lambda: dist.init_process_group("mpi"), RuntimeError, "twice"),
    (lambda: dist.all_reduce([1, 2]), TypeError, "Tensor"),
]:  # fmt: skip
    try:
        call()
    except kind as e:
        assert words in str(e), (words, str(e))
    else:
        sys.exit(f"rank {rank}: expected {kind.__name__} with {words!r}")

# a tensor that requires grad is reduced in its memory, not recorded by autograd (as PyTorch)
w = ember.ones(3, requires_grad=True)
dist.all_reduce(w)
assert w.requires_grad and w.grad_fn is None and w.tolist() == [float(size)] * 3

dist.destroy_process_group()
assert not dist.is_initialized()
print(f"rank {rank} of {size}: all collectives match numpy")
