"""Samplers: iterables of dataset indices (or of index lists, for BatchSampler), as ``torch.utils.data``.

A ``generator`` may be an ``ember.Generator`` (the usual choice), a numpy
``Generator``/``RandomState`` or a ``random.Random``; None draws from ember's
global generator, so ``ember.manual_seed`` makes the order reproducible.
"""

from __future__ import annotations

import numbers
from typing import Generic, Iterable, Iterator, Sequence, Sized, TypeVar

import numpy as np

from .dataset import _GeneratorLike, _randint, _randperm, _uniform

__all__ = [
    "Sampler",
    "SequentialSampler",
    "RandomSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
    "BatchSampler",
]

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


class WeightedRandomSampler(Sampler[int]):
    """``num_samples`` indices in ``range(len(weights))``, index i drawn with probability proportional to
    ``weights[i]``; without ``replacement`` each index at most once (``torch.multinomial``'s semantics).

    Weights need not sum to one; they must be non-negative, finite, and not all zero.
    """

    def __init__(
        self,
        weights: Sequence[float],
        num_samples: int,
        replacement: bool = True,
        generator: _GeneratorLike = None,
    ) -> None:
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement}")
        values = weights.detach().cpu().numpy() if hasattr(weights, "detach") else weights
        w = np.asarray(values, dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape {tuple(w.shape)}")
        if not np.all(np.isfinite(w)) or np.any(w < 0) or not w.sum() > 0:
            raise RuntimeError("invalid multinomial distribution (weights must be finite, non-negative, sum > 0)")
        if not replacement and num_samples > np.count_nonzero(w):
            raise RuntimeError(
                "invalid multinomial distribution (with replacement=False, not enough non-negative category to sample)"
            )
        from ... import _creation

        # on the device of the weights given as a tensor, as PyTorch's as_tensor (the draws use the host copy _w)
        self.weights = _creation.tensor(w, dtype=_creation.float64, device=getattr(weights, "device", None))
        self._w = w
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        """Draw the indices of one epoch."""
        u = _uniform(self.num_samples if self.replacement else len(self._w), self.generator)
        if self.replacement:  # inverse of the cumulative distribution
            cdf = np.cumsum(self._w)
            picks = np.searchsorted(cdf, u * cdf[-1], side="right")
            yield from (int(i) for i in np.minimum(picks, len(self._w) - 1))
            return
        # Efraimidis-Spirakis: the k smallest of -log(u)/w are a weighted draw without replacement
        with np.errstate(divide="ignore"):
            keys = -np.log1p(-u) / self._w
        yield from (int(i) for i in np.argsort(keys, kind="stable")[: self.num_samples])

    def __len__(self) -> int:
        """``num_samples``."""
        return self.num_samples


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
