"""Run under mpiexec -n 2 with argument `raise` or `timeout`: a rank that fails must end the job with an error,
never leave the other rank waiting forever in a collective."""

from __future__ import annotations

import sys
import time
from datetime import timedelta

import ember
import ember.distributed as dist

mode = sys.argv[1]
dist.init_process_group(backend="mpi", timeout=timedelta(seconds=3))
rank = dist.get_rank()
dist.all_reduce(ember.ones(4))  # both ranks get here
if rank == 1:
    if mode == "raise":
        raise ValueError("rank 1 fails on purpose")
    time.sleep(60)  # "timeout": rank 1 hangs outside any collective
dist.all_reduce(ember.ones(4))  # rank 0 waits here for rank 1
print("rank 0 finished an all_reduce that rank 1 never joined", flush=True)
