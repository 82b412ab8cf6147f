"""DistributedSampler: each of ``num_replicas`` processes reads its own share of a dataset, as
``torch.utils.data.distributed``.

The shares are made by PyTorch's algorithm, step for step, so that a job that switches between ember and
PyTorch (or mixes them across ranks) splits an unshuffled dataset the same way: pad (or, with ``drop_last``,
truncate) the index list to a multiple of ``num_replicas``, then rank r takes every ``num_replicas``-th index
from position r. Shuffled orders come from an ``ember.Generator``, so they are reproducible in ember but are
not PyTorch's permutations.
"""

from __future__ import annotations

import math
from typing import Iterator, Sized, TypeVar

from .sampler import Sampler

__all__ = ["DistributedSampler"]

T_co = TypeVar("T_co", covariant=True)


def _from_process_group(what: str) -> int:
    """The world size or rank of the default process group: as PyTorch, RuntimeError without mpi4py, and
    ember.distributed's ValueError before init_process_group."""
    from ... import distributed as dist  # here: ember.distributed imports ember.utils' neighbours

    if not dist.is_available():
        raise RuntimeError("Requires distributed package to be available")
    return dist.get_world_size() if what == "world_size" else dist.get_rank()


class DistributedSampler(Sampler[T_co]):
    """Restricts sampling to the share of ``dataset`` that belongs to process ``rank`` of ``num_replicas``.

    Every rank sees ``num_samples`` indices per epoch. Unless ``drop_last``, the index list is padded by
    repeating indices from its start, so a few samples may be seen twice per epoch; with ``drop_last`` the tail
    that does not divide evenly is dropped instead. With ``shuffle``, every rank must use the same ``seed`` and
    call ``set_epoch(epoch)`` before each epoch: the order is a permutation seeded with ``seed + epoch``, and the
    ranks agree on it only because they draw the same one (otherwise their shares overlap).

    ``num_replicas`` and ``rank`` default to the world size and rank of ``ember.distributed``'s default process
    group; without one they must be given.
    """

    def __init__(
        self,
        dataset: Sized,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if num_replicas is None:
            num_replicas = _from_process_group("world_size")
        if rank is None:
            rank = _from_process_group("rank")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if self.drop_last and n % self.num_replicas != 0:
            # every rank gets the same number of samples without padding: drop the tail that does not divide
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator[T_co]:
        """This rank's indices for the current epoch."""
        n = len(self.dataset)
        if self.shuffle:
            # the same permutation on every rank: seeded by seed + epoch only, never by the rank
            from ... import _C, _creation

            g = _C.Generator()
            g.manual_seed(self.seed + self.epoch)
            indices = _creation.randperm(n, generator=g, device="cpu").tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            padding_size = self.total_size - len(indices)
            if padding_size <= len(indices):
                indices += indices[:padding_size]
            else:  # fewer samples than ranks: repeat the whole list as often as needed
                indices += (indices * math.ceil(padding_size / len(indices)))[:padding_size]
        else:
            indices = indices[: self.total_size]
        assert len(indices) == self.total_size
        indices = indices[self.rank : self.total_size : self.num_replicas]
        assert len(indices) == self.num_samples
        return iter(indices)

    def __len__(self) -> int:
        """``num_samples``: the number of indices this rank sees per epoch."""
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch, which seeds the shuffled order (``seed + epoch``); call it on every rank before each
        epoch, or every epoch repeats the same order."""
        self.epoch = epoch
