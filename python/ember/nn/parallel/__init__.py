"""ember.nn.parallel: DataParallel (one device, see DataParallel) and DistributedDataParallel (across the
processes of an MPI job, on ember.distributed), as torch.nn.parallel."""

from .data_parallel import DataParallel, data_parallel
from .distributed import DistributedDataParallel

__all__ = ["DataParallel", "DistributedDataParallel", "data_parallel"]
