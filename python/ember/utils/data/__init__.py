"""Datasets and the DataLoader, with PyTorch's API (``torch.utils.data``).

``DataLoader(num_workers=n)`` makes batches in n worker processes (``get_worker_info()`` inside them).
Shuffling draws from ember's global generator (seed it with ``ember.manual_seed``)
unless a ``generator`` is given; see ``DataLoader``. ``DistributedSampler`` gives each process of a
distributed job its own share of a dataset (``ember.utils.data.distributed``).
"""

from . import _utils  # noqa: F401  (torch.utils.data._utils.collate)
from ._worker import WorkerInfo, get_worker_info
from .dataloader import DataLoader, default_collate, default_convert
from .dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)
from .distributed import DistributedSampler
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = [
    "BatchSampler",
    "ChainDataset",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "DistributedSampler",
    "IterableDataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "StackDataset",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "WorkerInfo",
    "default_collate",
    "default_convert",
    "get_worker_info",
    "random_split",
]
