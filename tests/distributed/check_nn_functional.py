"""Run under mpiexec -n N (tests/test_distributed.py does): ember.distributed.nn's differentiable collectives,
their values and the gradients that reach every rank's input, against what each rank can compute by hand."""

from __future__ import annotations

import sys
from datetime import timedelta

import numpy as np

import ember
import ember.distributed as dist
import ember.distributed.nn as dist_nn

dist.init_process_group(backend="mpi", timeout=timedelta(seconds=60))
rank, size = dist.get_rank(), dist.get_world_size()
weights = np.arange(1, size + 1, dtype=np.float64)  # rank r's weight: r + 1


def leaf(values) -> ember.Tensor:
    return ember.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def check(got, want, what: str) -> None:
    g = got.detach().numpy() if isinstance(got, ember.Tensor) else np.asarray(got)
    if not np.allclose(g, want, rtol=1e-12, atol=1e-12):
        sys.exit(f"rank {rank}: {what}: got {g!r}, want {np.asarray(want)!r}")


x = leaf([rank + 1.0, 2.0 * rank])
y = dist_nn.all_reduce(x)
check(y, [weights.sum(), 2.0 * (size - 1) * size / 2], "all_reduce forward")
(y * (rank + 1)).sum().backward()
check(x.grad, [weights.sum()] * 2, "all_reduce gradient")  # every rank's weight reaches every input
check(x, [rank + 1.0, 2.0 * rank], "all_reduce leaves its input")

x = leaf([rank + 1.0])
gathered = dist_nn.all_gather(x)
check(ember.cat(gathered), weights, "all_gather forward")
sum(g * (rank + 1) * (r + 1) for r, g in enumerate(gathered)).sum().backward()
check(x.grad, [(rank + 1) * weights.sum()], "all_gather gradient")

x = leaf([rank + 5.0])
y = dist_nn.broadcast(x, src=0)
check(y, [5.0], "broadcast forward")
(y * (rank + 1)).sum().backward()
check(x.grad, [weights.sum() if rank == 0 else 0.0], "broadcast gradient")

x = leaf([rank + 1.0])
y = dist_nn.reduce(x, dst=0)
if rank == 0:
    check(y, [weights.sum()], "reduce forward")
(y * (2.0 if rank == 0 else 0.0)).sum().backward()
check(x.grad, [2.0], "reduce gradient")

x = leaf([rank + 1.0])
parts = dist_nn.gather(x, dst=0)
if rank == 0:
    check(ember.cat(parts), weights, "gather forward")
sum(p * (r + 1) * (rank == 0) for r, p in enumerate(parts)).sum().backward()
check(x.grad, [rank + 1.0], "gather gradient")

pieces = [leaf([10.0 * r]) for r in range(size)]
mine = dist_nn.scatter(pieces, src=0)
check(mine, [10.0 * rank], "scatter forward")
(mine * (rank + 1)).sum().backward()
if rank == 0:
    for r, p in enumerate(pieces):
        check(p.grad, [r + 1.0], "scatter gradient")

x = leaf([100.0 * rank + k for k in range(size)])  # element k goes to rank k
y = dist_nn.all_to_all_single(ember.empty(size, dtype=ember.float64), x)
check(y, [100.0 * r + rank for r in range(size)], "all_to_all_single forward")
(y * (rank + 1)).sum().backward()
check(x.grad, weights, "all_to_all_single gradient")

inputs = [leaf([float(rank * size + k)]) for k in range(size)]
outs = dist_nn.all_to_all([ember.empty(1, dtype=ember.float64) for _ in range(size)], inputs)
check(ember.cat(outs), [float(r * size + rank) for r in range(size)], "all_to_all forward")
sum(o * (rank + 1) for o in outs).sum().backward()
for k, t in enumerate(inputs):
    check(t.grad, [k + 1.0], "all_to_all gradient")

# the functional collectives (torch.distributed._functional_collectives): new tensors, the same exchanges
import ember.distributed._functional_collectives as funcol  # noqa: E402

x = leaf([100.0 * rank + k for k in range(size)])
y = funcol.wait_tensor(funcol.all_to_all_single_autograd(x, None, None))
check(y, [100.0 * r + rank for r in range(size)], "functional all_to_all_single_autograd forward")
(y * (rank + 1)).sum().backward()
check(x.grad, weights, "functional all_to_all_single_autograd gradient")
check(funcol.all_to_all_single(x.detach(), None, None), [100.0 * r + rank for r in range(size)], "functional a2a")
check(funcol.all_reduce(ember.tensor([rank + 1.0], dtype=ember.float64), "sum"), [weights.sum()], "functional sum")
check(funcol.all_reduce(ember.tensor([rank + 1.0], dtype=ember.float64), "max"), [float(size)], "functional max")
gathered = funcol.all_gather_tensor(ember.tensor([[float(rank)]], dtype=ember.float64), 1)
check(gathered, [[float(r) for r in range(size)]], "functional all_gather_tensor")

print(f"rank {rank}: distributed.nn values and gradients match", flush=True)
dist.destroy_process_group()
