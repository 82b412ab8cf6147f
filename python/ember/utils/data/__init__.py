"""Datasets and the DataLoader, with PyTorch's API (``torch.utils.data``).

Everything runs in the calling process: ``num_workers`` is accepted and ignored.
Shuffling draws from ember's global generator (seed it with ``ember.manual_seed``)
unless a ``generator`` is given; see ``DataLoader``.
"""

from .dataloader import DataLoader, default_collate, default_convert
from .dataset import ChainDataset, ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler

__all__ = [
    "BatchSampler",
    "ChainDataset",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "IterableDataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "default_collate",
    "default_convert",
    "random_split",
]
