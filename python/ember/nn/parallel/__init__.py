"""ember.nn.parallel: DataParallel, as torch.nn.parallel, on one device (see DataParallel)."""

from .data_parallel import DataParallel, data_parallel

__all__ = ["DataParallel", "data_parallel"]
