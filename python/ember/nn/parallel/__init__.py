"""ember.nn.parallel: DataParallel (one device, see DataParallel), its steps as functions (scatter, gather,
replicate, parallel_apply) and DistributedDataParallel (across the processes of an MPI job, on
ember.distributed), as torch.nn.parallel."""

from .data_parallel import DataParallel, data_parallel
from .distributed import DistributedDataParallel
from .scatter_gather import gather, parallel_apply, replicate, scatter, scatter_kwargs

__all__ = [
    "DataParallel",
    "DistributedDataParallel",
    "data_parallel",
    "gather",
    "parallel_apply",
    "replicate",
    "scatter",
    "scatter_kwargs",
]
