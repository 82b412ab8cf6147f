"""Samplers: iterables of dataset indices (or of index lists, for BatchSampler), as ``torch.utils.data``.

A ``generator`` may be an ``ember.Generator`` (the usual choice), a numpy
``Generator``/``RandomState`` or a ``random.Random``; None draws from ember's
global generator, so ``ember.manual_seed`` makes the order reproducible.
"""

from __future__ import annotations

import numbers
from typing import Generic, Iterable, Iterator, Sequence, Sized, TypeVar

from .dataset import _GeneratorLike, _randint, _randperm

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "BatchSampler"]

T_co = TypeVar("T_co", covariant=True)


class Sampler(Generic[T_co]):
    """Base class: subclasses define ``__iter__`` and usually ``__len__``."""

    def __init__(self, data_source: Sized | None = None) -> None:
        pass

    def __iter__(self) -> Iterator[T_co]:
        """Iterate over the indices (defined by subclasses)."""
        raise NotImplementedError


class SequentialSampler(Sampler[int]):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        """Iterate over ``range(len(data_source))``."""
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        """The number of indices: ``len(data_source)``."""
        return len(self.data_source)


class RandomSampler(Sampler[int]):
    """A random order of the indices; with ``replacement``, ``num_samples`` independent draws.

    Without replacement and ``num_samples`` > len(data_source), whole
    permutations follow each other (then part of one), as PyTorch.
    """

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: _GeneratorLike = None,
    ) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={self.replacement}")
        if not isinstance(self.num_samples, int) or isinstance(self.num_samples, bool) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        """The number of indices drawn per epoch (``len(data_source)`` unless given)."""
        # the dataset's size may change after the sampler is made
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        """Draw the indices of one epoch."""
        n = len(self.data_source)
        if self.replacement:
            # drawn lazily in chunks, as PyTorch: num_samples may be far more than fits in memory
            chunk = 32
            for _ in range(self.num_samples // chunk):
                yield from _randint(n, chunk, self.generator)
            yield from _randint(n, self.num_samples % chunk, self.generator)
            return
        for _ in range(self.num_samples // n):
            yield from _randperm(n, self.generator)
        if self.num_samples % n:
            yield from _randperm(n, self.generator)[: self.num_samples % n]

    def __len__(self) -> int:
        """The number of indices per epoch: ``num_samples``."""
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """The given ``indices``, in a random order."""

    def __init__(self, indices: Sequence[int], generator: _GeneratorLike = None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        """Draw a new random order of ``indices``."""
        for i in _randperm(len(self.indices), self.generator):
            yield self.indices[i]

    def __len__(self) -> int:
        """The number of indices."""
        return len(self.indices)


class BatchSampler(Sampler[list]):
    """Groups the indices of ``sampler`` into lists of ``batch_size`` (the last one shorter unless ``drop_last``)."""

    def __init__(self, sampler: Sampler[int] | Iterable[int], batch_size: int, drop_last: bool) -> None:
        if not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        """Iterate over the batches of indices."""
        batch = []
        for idx in self.sampler:
            batch.append(idx)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        """The number of batches."""
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
