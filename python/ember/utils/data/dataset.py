"""Datasets: ``Dataset``, ``IterableDataset``, ``ChainDataset``, ``TensorDataset``,
``Subset``, ``ConcatDataset`` and ``random_split``, as in ``torch.utils.data``."""

from __future__ import annotations

import bisect
import math
import numbers
import random as _pyrandom
import warnings
from typing import Any, Generic, Iterable, Iterator, Sequence, TypeVar, Union

import numpy as np

from ..._C import Generator, Tensor

__all__ = [
    "Dataset",
    "IterableDataset",
    "ChainDataset",
    "TensorDataset",
    "StackDataset",
    "Subset",
    "ConcatDataset",
    "random_split",
]

T_co = TypeVar("T_co", covariant=True)

# What a ``generator`` argument may be (see _randperm); shared with sampler.py and dataloader.py.
_GeneratorLike = Union[Generator, np.random.Generator, np.random.RandomState, _pyrandom.Random, None]


def _randperm(n: int, generator: _GeneratorLike = None) -> list[int]:
    """A random permutation of range(n) as a list of ints.

    generator: None draws from ember's global generator (``ember.manual_seed``
    makes it reproducible); a ``numpy.random.Generator`` or ``RandomState`` uses
    its ``permutation``; a ``random.Random`` its ``shuffle``; an
    ``ember.Generator``, when ember has one, is passed to ``ember.randperm``.
    """
    if generator is None:
        from ..._creation import randperm

        return randperm(n, device="cpu").tolist()  # on the CPU whatever the default device: the same draws
    if isinstance(generator, (np.random.Generator, np.random.RandomState)):
        return [int(i) for i in generator.permutation(n)]
    if isinstance(generator, _pyrandom.Random):
        perm = list(range(n))
        generator.shuffle(perm)
        return perm
    import ember

    if getattr(ember, "Generator", None) is not None and isinstance(generator, ember.Generator):
        return ember.randperm(n, generator=generator, device=generator.device).tolist()
    raise TypeError(
        "generator must be None, an ember.Generator, a numpy.random.Generator or RandomState, "
        f"or a random.Random, not {type(generator).__name__}"
    )


def _randint(high: int, size: int, generator: _GeneratorLike = None) -> list[int]:
    """`size` ints uniform in [0, high), from the same sources as _randperm."""
    if generator is None:
        from ..._creation import randint

        return randint(0, high, (size,), device="cpu").tolist()
    if isinstance(generator, np.random.Generator):
        return [int(i) for i in generator.integers(0, high, size)]
    if isinstance(generator, np.random.RandomState):
        return [int(i) for i in generator.randint(0, high, size)]
    if isinstance(generator, _pyrandom.Random):
        return [generator.randrange(high) for _ in range(size)]
    import ember

    if getattr(ember, "Generator", None) is not None and isinstance(generator, ember.Generator):
        return ember.randint(0, high, (size,), generator=generator, device=generator.device).tolist()
    raise TypeError(
        "generator must be None, an ember.Generator, a numpy.random.Generator or RandomState, "
        f"or a random.Random, not {type(generator).__name__}"
    )


def _uniform(size: int, generator: _GeneratorLike = None) -> np.ndarray:
    """`size` float64 values uniform in [0, 1), from the same sources as _randperm."""
    if isinstance(generator, np.random.Generator):
        return generator.random(size)
    if isinstance(generator, np.random.RandomState):
        return generator.random_sample(size)
    if isinstance(generator, _pyrandom.Random):
        return np.array([generator.random() for _ in range(size)], dtype=np.float64)
    from ... import _creation

    if generator is None:
        return _creation.rand(size, dtype=_creation.float64, device="cpu").numpy()
    if isinstance(generator, Generator):
        return _creation.rand(size, dtype=_creation.float64, generator=generator, device=generator.device).cpu().numpy()
    raise TypeError(
        "generator must be None, an ember.Generator, a numpy.random.Generator or RandomState, "
        f"or a random.Random, not {type(generator).__name__}"
    )


class Dataset(Generic[T_co]):
    """A map-style dataset: subclasses define ``__getitem__(index)`` and usually ``__len__``."""

    def __getitem__(self, index: Any) -> T_co:
        """Return the sample at ``index`` (defined by subclasses)."""
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other: Dataset[T_co]) -> ConcatDataset:
        """``ConcatDataset([self, other])``."""
        return ConcatDataset([self, other])


class IterableDataset(Dataset[T_co]):
    """An iterable-style dataset: subclasses define ``__iter__``."""

    def __iter__(self) -> Iterator[T_co]:
        """Iterate over the samples (defined by subclasses)."""
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __add__(self, other: Dataset[T_co]) -> ChainDataset:
        """``ChainDataset([self, other])``."""
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """The samples of several iterable datasets, one after the other (what ``a + b`` gives)."""

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = datasets

    def __iter__(self) -> Iterator[Any]:
        """Iterate over the samples of each dataset in turn."""
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield from d

    def __len__(self) -> int:
        """The total number of samples of the datasets."""
        total = 0
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            total += len(d)
        return total


class TensorDataset(Dataset):
    """Samples are tuples ``(t[i] for t in tensors)``; every tensor has the same first dimension."""

    def __init__(self, *tensors: Tensor) -> None:
        for t in tensors:
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset expects tensors, got {type(t).__name__}")
        # PyTorch asserts here, so its callers may catch AssertionError: raise that, even under -O
        if tensors and any(tensors[0].size(0) != t.size(0) for t in tensors):
            raise AssertionError(
                "Size mismatch between tensors: first dimensions are " + ", ".join(str(t.size(0)) for t in tensors)
            )
        self.tensors = tensors

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        """Return ``tuple(t[index] for t in tensors)``."""
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        """The size of the tensors' first dimension (0 without tensors)."""
        return self.tensors[0].size(0) if self.tensors else 0


class Subset(Dataset[T_co]):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx: int | list[int]) -> Any:
        """Return ``dataset[indices[idx]]`` (a list of indices is mapped element by element)."""
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices: list[int]) -> list[Any]:
        # used by DataLoader: one call for a whole batch when the inner dataset supports it
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self) -> int:
        """The number of indices."""
        return len(self.indices)


class ConcatDataset(Dataset[T_co]):
    """The concatenation of several map-style datasets."""

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = []
        total = 0
        for d in self.datasets:
            total += len(d)
            self.cumulative_sizes.append(total)

    def __len__(self) -> int:
        """The total number of samples of the datasets."""
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int) -> Any:
        """Return sample ``idx`` of the concatenation (negative indices count from the end)."""
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[which - 1] if which > 0 else 0
        return self.datasets[which][idx - start]


class StackDataset(Dataset):
    """Several map-style datasets of one length side by side: sample i is the tuple of their samples i
    (``StackDataset(a, b)``) or the dict of them by name (``StackDataset(image=a, label=b)``)."""

    def __init__(self, *args: Dataset, **kwargs: Dataset) -> None:
        if args and kwargs:
            raise ValueError(
                "Supported either ``tuple``- (via ``args``) or``dict``- (via ``kwargs``) like input/output, but both "
                "types are given."
            )
        if not args and not kwargs:
            raise ValueError("At least one dataset should be passed")
        self.datasets: tuple | dict = args if args else kwargs
        parts = list(args) if args else list(kwargs.values())
        self._length = len(parts[0])
        if any(len(d) != self._length for d in parts):
            raise ValueError("Size mismatch between datasets")

    def __getitem__(self, index: int) -> Any:
        if isinstance(self.datasets, dict):
            return {name: d[index] for name, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __getitems__(self, indices: list) -> list:
        """A batch of samples; a part that fetches batches itself (``__getitems__``) is asked once."""
        named = isinstance(self.datasets, dict)
        parts = self.datasets.items() if named else enumerate(self.datasets)
        columns = {}
        for key, d in parts:
            fetch = getattr(d, "__getitems__", None)
            column = fetch(indices) if callable(fetch) else [d[i] for i in indices]
            if len(column) != len(indices):
                raise ValueError(f"Nested dataset's output size mismatch. Expected {len(indices)}, got {len(column)}")
            columns[key] = column
        if named:
            return [{key: columns[key][j] for key in columns} for j in range(len(indices))]
        return [tuple(columns[k][j] for k in range(len(columns))) for j in range(len(indices))]

    def __len__(self) -> int:
        return self._length


def random_split(dataset: Dataset, lengths: Sequence[int | float], generator: _GeneratorLike = None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping ``Subset``s of the given lengths.

    ``lengths`` are counts summing to ``len(dataset)`` or fractions summing to 1
    (the remainder of flooring is spread one by one over the first subsets, as
    PyTorch).  The split is a permutation drawn from ``generator`` (see
    ``DataLoader`` for what it may be; None uses ember's global generator).
    """
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            counts.append(int(math.floor(n * frac)))
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, c in enumerate(counts):
            if c == 0:
                warnings.warn(
                    f"Length of split at index {i} is 0. This might result in an empty dataset.", stacklevel=1
                )
        lengths = counts
    if any(not isinstance(x, numbers.Integral) or x < 0 for x in lengths):
        raise ValueError(f"lengths must be non-negative integers or fractions summing to 1, got {lengths}")
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    perm = _randperm(n, generator)
    out = []
    offset = 0
    for length in lengths:
        out.append(Subset(dataset, perm[offset : offset + length]))
        offset += length
    return out
