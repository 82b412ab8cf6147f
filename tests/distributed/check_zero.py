"""Run under mpiexec -n N: ZeroRedundancyOptimizer steps the parameters as the unsharded optimizer does
(every rank holds them all after each step, each rank keeps the state of its own only), its consolidated
state_dict is the unsharded one, and load_state_dict reads it back."""

from __future__ import annotations

import copy
import sys
from datetime import timedelta

import numpy as np

import ember
import ember.distributed as dist
import ember.nn as nn
from ember.distributed.optim import ZeroRedundancyOptimizer

dist.init_process_group(backend="mpi", timeout=timedelta(seconds=60))
rank, size = dist.get_rank(), dist.get_world_size()


def check(ok: bool, what: str) -> None:
    if not ok:
        sys.exit(f"rank {rank}: {what}")


ember.manual_seed(0)
model = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3)).double()
reference = copy.deepcopy(model)
x = ember.tensor(np.random.default_rng(0).normal(size=(8, 5)))  # the same batch on every rank
for optimizer_class, options in [(ember.optim.SGD, {"lr": 0.1, "momentum": 0.9}), (ember.optim.Adam, {"lr": 0.01})]:
    zero = ZeroRedundancyOptimizer(model.parameters(), optimizer_class, **options)
    plain = optimizer_class(reference.parameters(), **options)
    own = sum(len(g["params"]) for g in zero.optim.param_groups)
    check(size == 1 or own < 4, f"{optimizer_class.__name__}: rank owns {own} of 4 parameters")
    for _ in range(3):
        for net, opt in ((model, zero), (reference, plain)):
            opt.zero_grad()
            net(x).pow(2).sum().backward()
            opt.step()
    for a, b in zip(model.parameters(), reference.parameters()):
        check(np.allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12, atol=1e-12), "parameters differ")
    zero.consolidate_state_dict(to=0)
    if rank == 0:
        saved = zero.state_dict()
        want = plain.state_dict()
        check(sorted(saved["state"]) == sorted(want["state"]), "consolidated state covers other parameters")
        for k, state in want["state"].items():
            for name, value in state.items():
                got = saved["state"][k][name]
                check(np.allclose(np.asarray(got), np.asarray(value), rtol=1e-12), f"state {k}.{name} differs")
        fresh = ZeroRedundancyOptimizer(copy.deepcopy(model).parameters(), optimizer_class, **options)
        if size == 1:
            fresh.load_state_dict(saved)
            check(len(fresh.optim.state) == len(want["state"]), "load_state_dict took the state")
    else:
        try:
            zero.state_dict()
            check(False, "state_dict answered on a rank it was not consolidated to")
        except RuntimeError as error:
            check("has not been consolidated on this rank" in str(error), str(error))

print(f"rank {rank}: ZeroRedundancyOptimizer matches the unsharded optimizer", flush=True)
dist.destroy_process_group()
