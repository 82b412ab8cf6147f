"""Run under mpiexec -n N: DistributedDataParallel trains to the same parameters as one process on the global
batch (float64 to 1e-12, float32 to rounding), with uneven buckets, unused parameters, no_sync and
gradient_as_bucket_view; and raises PyTorch's errors."""

from __future__ import annotations

import copy
import sys
from datetime import timedelta

import numpy as np

import ember
import ember.distributed as dist
import ember.nn as nn
from ember.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group(backend="mpi", timeout=timedelta(seconds=60))
rank, size = dist.get_rank(), dist.get_world_size()
PER_RANK = 6


class Net(nn.Module):
    """width 4096 makes parameters of 256 KB and more, which DDP reduces in place (Note [DDP buckets])."""

    def __init__(self, width: int = 16) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(5, width), nn.Tanh(), nn.Linear(width, 16), nn.Tanh(), nn.Linear(16, 3))
        self.extra = nn.Sequential(nn.Linear(5, 2 * width), nn.Linear(2 * width, 3))  # for rank 0's rows only
        self.never = nn.Linear(5, 3)  # used by no rank

    def forward(self, x: ember.Tensor, extra: ember.Tensor | None = None) -> ember.Tensor:
        y = self.body(x)
        return y if extra is None else y + extra * self.extra(x)


def batch(step: int, dtype: ember.dtype) -> tuple[ember.Tensor, ember.Tensor]:
    rng = np.random.default_rng(step)
    x, y = rng.standard_normal((PER_RANK * size, 5)), rng.standard_normal((PER_RANK * size, 3))
    return ember.tensor(x, dtype=dtype), ember.tensor(y, dtype=dtype)


def train(
    dtype: ember.dtype, steps: int = 20, accumulate: int = 1, unused: bool = False, width: int = 16, **ddp_kwargs
) -> None:
    what = f"{dtype}, accumulate={accumulate}, unused={unused}, width={width}, {ddp_kwargs}"
    ember.manual_seed(1234 + rank)  # every rank starts differently: DDP must broadcast rank 0's parameters
    local = Net(width).to(dtype)
    if not unused:  # frozen parameters are not DDP's: only the unused-parameter runs keep them trainable
        local.extra.requires_grad_(False)
        local.never.requires_grad_(False)
    model = DDP(local, find_unused_parameters=unused, **ddp_kwargs)
    everyone = [None] * size
    dist.all_gather_object(everyone, [p.detach().numpy().copy() for p in local.parameters()])
    for theirs in everyone:
        assert all(np.array_equal(a, b) for a, b in zip(theirs, everyone[0])), "parameters differ after construction"
    reference = copy.deepcopy(local)  # one process, the global batch
    lr = 0.05 * 16 / width  # wide layers take smaller steps, or training diverges
    opt = ember.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    ref_opt = ember.optim.SGD(reference.parameters(), lr=lr, momentum=0.9)
    rows = slice(rank * PER_RANK, (rank + 1) * PER_RANK)
    for step in range(steps):
        x, y = batch(step, dtype)
        extra = (ember.arange(PER_RANK * size) < PER_RANK).to(dtype).unsqueeze(1) if unused else None
        opt.zero_grad()
        micro = np.array_split(np.arange(PER_RANK), accumulate)
        for i, part in enumerate(micro):
            part_rows = ember.tensor(part + rank * PER_RANK)
            args = (x[part_rows],) + ((extra[part_rows],) if unused else ())
            context = model.no_sync() if i < accumulate - 1 else ember.enable_grad()
            with context:
                loss = ((model(*args) - y[part_rows]) ** 2).sum() / (PER_RANK * 3)
                loss.backward()
        opt.step()
        ref_opt.zero_grad()
        ref_args = (x,) + ((extra,) if unused else ())
        (((reference(*ref_args) - y) ** 2).sum() / (PER_RANK * size * 3)).backward()
        ref_opt.step()
    del rows
    tol = 1e-12 if dtype == ember.float64 else 1e-5
    for (name, p), q in zip(local.named_parameters(), reference.parameters()):
        if name.startswith("never"):
            assert p.grad is None, f"{what}: a parameter no rank used got a gradient"
            continue
        if not unused and name.startswith("extra"):
            assert p.grad is None, f"{what}: {name} was not used"
            continue
        err = ((p - q).abs().max() / q.abs().max().clamp(min=1)).item()  # relative to the largest weight
        if err > tol:
            sys.exit(f"rank {rank}: {what}: {name} differs from one process on the global batch by {err}")
    assert list(model.state_dict())[0].startswith("module."), list(model.state_dict())


def unused_parameter_error() -> None:
    model = DDP(Net().double())  # `extra` and `never` get no gradient, and find_unused_parameters is off
    x, y = batch(0, ember.float64)
    ((model(x[:PER_RANK]) - y[:PER_RANK]) ** 2).mean().backward()
    try:
        model(x[:PER_RANK])
    except RuntimeError as e:
        assert "Expected to have finished reduction in the prior iteration" in str(e), e
        assert "find_unused_parameters=True" in str(e) and "rank" in str(e), e
    else:
        sys.exit(f"rank {rank}: no error for parameters without gradient")


def buffers_follow_rank_0() -> None:
    ember.manual_seed(rank)
    net = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4)).double()
    net[1].running_mean.fill_(float(rank + 1))
    model = DDP(net, init_sync=False)
    net[1].running_mean.fill_(float(rank + 7))
    model.eval()
    model(ember.randn(3, 4, dtype=ember.float64))
    assert net[1].running_mean.tolist() == [7.0] * 4, net[1].running_mean  # rank 0's, broadcast before forward


for dtype in (ember.float64, ember.float32):
    train(dtype)
train(ember.float64, bucket_cap_mb=0.0005, gradient_as_bucket_view=True)  # many buckets of uneven sizes
train(ember.float64, bucket_cap_mb=0.0002, unused=True)
train(ember.float64, accumulate=2)
train(ember.float64, steps=5, width=4096)  # large parameters, reduced in their gradients' memory
train(ember.float32, steps=5, width=4096, unused=True, gradient_as_bucket_view=True)
train(ember.float64, accumulate=3, gradient_as_bucket_view=True, bucket_cap_mb=0.001)
unused_parameter_error()
buffers_follow_rank_0()
try:
    DDP(nn.Linear(2, 2), device_ids=[0])
except ValueError as e:
    assert "CPU" in str(e)
print(f"rank {rank} of {size}: DDP matches one process")


def sync_batchnorm_equals_batchnorm_on_the_global_batch() -> None:
    ember.manual_seed(5)
    reference = nn.Sequential(nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(16, 2))
    reference = reference.double()
    local = nn.SyncBatchNorm.convert_sync_batchnorm(copy.deepcopy(reference))
    assert isinstance(local[1], nn.SyncBatchNorm)
    model = DDP(local)
    opt = ember.optim.SGD(model.parameters(), lr=0.1)
    ref_opt = ember.optim.SGD(reference.parameters(), lr=0.1)
    rows = ember.arange(rank * 3, rank * 3 + 3)
    for step in range(5):
        rng = np.random.default_rng(step)
        x = ember.tensor(rng.standard_normal((3 * size, 2, 4, 4)) + step)
        y = ember.tensor(rng.standard_normal((3 * size, 2)))
        opt.zero_grad()
        (((model(x[rows]) - y[rows]) ** 2).sum() / 3).backward()  # this rank's mean: DDP averages the ranks
        opt.step()
        ref_opt.zero_grad()
        (((reference(x) - y) ** 2).sum() / (3 * size)).backward()
        ref_opt.step()
    for (name, a), b in zip(local.state_dict().items(), reference.state_dict().values()):
        err = (a.double() - b.double()).abs().max().item()
        if err > 1e-12:
            sys.exit(f"rank {rank}: SyncBatchNorm: {name} differs from BatchNorm on the global batch by {err}")


sync_batchnorm_equals_batchnorm_on_the_global_batch()
print(f"rank {rank} of {size}: SyncBatchNorm matches BatchNorm on the global batch")
