"""``DataLoader``, ``default_collate`` and ``default_convert``, as ``torch.utils.data``.

With ``num_workers > 0`` batches are made by worker processes (``_worker.py``).
"""

from __future__ import annotations

import collections.abc
import copy
import itertools
import numbers
import re
import warnings
from typing import Any, Callable, Generic, Iterable, Iterator, Sequence, TypeVar

import numpy as np

from ... import _C, _creation
from ..._C import Tensor, stack
from ._pin import pin_memory
from ._worker import WorkerPool, run_epoch
from .dataset import Dataset, IterableDataset, Subset, TensorDataset, _GeneratorLike, _randint
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler

# PyTorch's annotation aliases, which samplers and loaders written for it import
T_co = TypeVar("T_co", covariant=True)
_collate_fn_t = Callable[[list[Any]], Any]
_worker_init_fn_t = Callable[[int], None]

__all__ = [
    "BatchSampler",
    "DataLoader",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "SubsetRandomSampler",
    "default_collate",
    "default_convert",
]

_STR_OR_OBJECT_DTYPE = re.compile(r"[SaUO]")
_COLLATE_ERROR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _rebuild_mapping(elem: Any, values: dict[Any, Any]) -> Any:
    """A mapping like ``elem`` (same type when possible) holding ``values``."""
    try:
        if isinstance(elem, collections.abc.MutableMapping):
            clone = copy.copy(elem)
            clone.update(values)
            return clone
        return type(elem)(values)
    except TypeError:  # the mapping type cannot be built from a dict
        return values


def _rebuild_sequence(elem: Any, values: list[Any]) -> Any:
    try:
        if isinstance(elem, collections.abc.MutableSequence):
            clone = copy.copy(elem)
            for i, v in enumerate(values):
                clone[i] = v
            return clone
        return type(elem)(values)
    except TypeError:
        return values


def collate_tensor_fn(batch: Sequence[Any], *, collate_fn_map: dict | None = None) -> Any:
    return stack(list(batch), 0)


def collate_numpy_array_fn(batch: Sequence[Any], *, collate_fn_map: dict | None = None) -> Any:
    if _STR_OR_OBJECT_DTYPE.search(batch[0].dtype.str):
        raise TypeError(_COLLATE_ERROR.format(batch[0].dtype))
    return collate([_creation.as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch: Sequence[Any], *, collate_fn_map: dict | None = None) -> Any:
    return _creation.as_tensor(np.asarray(batch))  # numpy scalars keep their dtype


def collate_float_fn(batch: Sequence[Any], *, collate_fn_map: dict | None = None) -> Any:
    return _creation.tensor(batch, dtype=_creation.float64)


def collate_int_fn(batch: Sequence[Any], *, collate_fn_map: dict | None = None) -> Any:
    return _creation.tensor(batch)  # bools too: they give a bool tensor


def collate_str_fn(batch: Sequence[Any], *, collate_fn_map: dict | None = None) -> Any:
    return batch


# How default_collate collates each kind of element (PyTorch's table: code extends a copy of it and passes it
# to ``collate``). The keys are tried in order with isinstance after an exact type match: numpy's scalars
# before float, as numpy's float64 is a float.
default_collate_fn_map: dict[Any, Callable[..., Any]] = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def collate(batch: Sequence[Any], *, collate_fn_map: dict[Any, Callable[..., Any]] | None = None) -> Any:
    """Merge a list of samples into a batch: each element by ``collate_fn_map``'s function for its type;
    dicts, namedtuples, tuples and lists element by element (a tuple sample gives a list)."""
    elem = batch[0]
    if collate_fn_map is not None:
        if type(elem) in collate_fn_map:
            return collate_fn_map[type(elem)](batch, collate_fn_map=collate_fn_map)
        for kind, fn in collate_fn_map.items():
            if isinstance(elem, kind):
                return fn(batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        return _rebuild_mapping(
            elem, {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map) for key in elem}
        )
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(collate(samples, collate_fn_map=collate_fn_map) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = [collate(samples, collate_fn_map=collate_fn_map) for samples in zip(*batch)]
        if isinstance(elem, tuple):
            return transposed  # a list, as PyTorch
        return _rebuild_sequence(elem, transposed)
    raise TypeError(_COLLATE_ERROR.format(type(elem)))


def default_collate(batch: Sequence[Any]) -> Any:
    """Merge a list of samples into a batch: tensors are stacked along a new first dimension,
    numbers become tensors (float64 for floats, int64 for ints), numpy arrays become tensors,
    dicts/tuples/lists are collated element by element (a tuple sample gives a list), strings
    stay lists."""
    return collate(batch, collate_fn_map=default_collate_fn_map)


def default_convert(data: Any) -> Any:
    """Turn numpy arrays and scalars (also inside dicts, tuples and lists) into tensors; leave the rest."""
    if isinstance(data, Tensor):
        return data
    if type(data).__module__ == "numpy" and not isinstance(data, (np.str_, np.bytes_)):
        if isinstance(data, np.ndarray) and _STR_OR_OBJECT_DTYPE.search(data.dtype.str):
            return data
        return _creation.as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _rebuild_mapping(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild_sequence(data, [default_convert(d) for d in data])
    return data


def _tensor_columns(dataset: Any, indices: list[Any]) -> tuple[tuple[Tensor, ...], list[int]] | None:
    """When ``dataset`` is a TensorDataset, or Subsets of one, its tensors and the indices
    into them; otherwise None.  Subclasses that override ``__getitem__`` are not looked through."""
    while isinstance(dataset, Subset) and type(dataset).__getitem__ is Subset.__getitem__:
        indices = [dataset.indices[i] for i in indices]
        dataset = dataset.dataset
    if not (isinstance(dataset, TensorDataset) and type(dataset).__getitem__ is TensorDataset.__getitem__):
        return None
    # index_select wants plain non-negative ints; anything else (tensors, -1) goes the general way
    if not all(isinstance(i, numbers.Integral) and i >= 0 for i in indices):
        return None
    return dataset.tensors, indices


class _MapFetcher:
    """Makes one batch of a map-style dataset from its indices (in the main process or a worker)."""

    def __init__(self, dataset: Any, collate_fn: Callable, auto_collation: bool, default_collate: bool) -> None:
        self.dataset, self.collate_fn = dataset, collate_fn
        self.auto_collation, self.default_collate = auto_collation, default_collate

    def fetch(self, index: Any) -> Any:
        if not self.auto_collation:
            return self.collate_fn(self.dataset[index])
        columns = _tensor_columns(self.dataset, index) if self.default_collate else None
        if columns is not None:
            tensors, indices = columns
            # the index on each tensor's device (one copy per device: a dataset's tensors may live apart)
            positions = {}
            for t in tensors:
                if t.device not in positions:
                    device = _creation._device_of(t)
                    positions[t.device] = _creation.tensor(indices, dtype=_creation.int64, device=device)
            return [t.index_select(0, positions[t.device]) for t in tensors]
        getitems = getattr(self.dataset, "__getitems__", None)
        samples = getitems(index) if callable(getitems) else [self.dataset[i] for i in index]
        return self.collate_fn(samples)

    def reset(self) -> None:
        pass


class _IterableFetcher:
    """Makes the next batch of an IterableDataset (StopIteration at its end)."""

    def __init__(self, dataset: Any, collate_fn: Callable, batch_size: int | None, drop_last: bool) -> None:
        self.dataset, self.collate_fn, self.batch_size, self.drop_last = dataset, collate_fn, batch_size, drop_last
        self.iterator: Iterator[Any] | None = None

    def reset(self) -> None:
        self.iterator = iter(self.dataset)

    def fetch(self, index: Any = None) -> Any:
        if self.iterator is None:
            self.reset()
        if self.batch_size is None:
            return self.collate_fn(next(self.iterator))
        batch = []
        for sample in self.iterator:
            batch.append(sample)
            if len(batch) == self.batch_size:
                return self.collate_fn(batch)
        if batch and not self.drop_last:
            return self.collate_fn(batch)
        raise StopIteration


class _CountedIterableFetcher(_IterableFetcher):
    """An IterableDataset's fetcher taking as many samples as its index has entries (PyTorch's, with
    auto-collation: the sampler gives batches of indices that the dataset ignores)."""

    def fetch(self, index: Any = None) -> Any:
        if self.iterator is None:
            self.reset()
        batch = [sample for _, sample in zip(index, self.iterator)]
        if not batch or (self.drop_last and len(batch) < len(index)):
            raise StopIteration
        return self.collate_fn(batch)


class _DatasetKind:
    """PyTorch's two kinds of dataset and the fetcher each gets: code that makes a loader's iterator itself
    (fastai's DataLoader passes ``_SingleProcessDataLoaderIter`` a loader of its own) goes through it."""

    Map, Iterable = 0, 1

    @staticmethod
    def create_fetcher(kind: int, dataset: Any, auto_collation: bool, collate_fn: Callable, drop_last: bool) -> Any:
        """The object whose ``fetch(index)`` makes one batch (one sample without auto-collation)."""
        if kind == _DatasetKind.Map:
            return _MapFetcher(dataset, collate_fn, auto_collation, default_collate=False)
        if auto_collation:
            return _CountedIterableFetcher(dataset, collate_fn, None, drop_last)
        return _IterableFetcher(dataset, collate_fn, None, drop_last)


def _pinned_if_asked(loader: Any, batches: Iterator[Any]) -> Iterator[Any]:
    """The batches in page-locked memory when the loader asks for it and a GPU is there."""
    return map(pin_memory, batches) if loader.pin_memory and _C._cuda_device_count() else batches


def _loader_fetcher(loader: Any) -> Any:
    """A loader-like object's fetcher (not an ember DataLoader's), as PyTorch's iterator makes it."""
    return _DatasetKind.create_fetcher(
        loader._dataset_kind, loader.dataset, loader._auto_collation, loader.collate_fn, loader.drop_last
    )


def _fetched(fetcher: Any, indices: Iterable[Any]) -> Iterator[Any]:
    """A batch per index, until the indices or the fetcher (StopIteration) run out."""
    for index in indices:
        try:
            yield fetcher.fetch(index)
        except StopIteration:
            return


def _epoch_in_workers(loader: Any, pool: WorkerPool, iterable: bool, keep_pool: bool) -> Iterator[Any]:
    """One epoch's batches from the worker processes of ``pool``, which is shut down after it unless kept."""
    tasks = None if iterable else iter(loader._index_sampler)
    try:
        yield from run_epoch(pool, tasks, loader.prefetch_factor, loader.in_order, iterable)
    finally:
        if not keep_pool:
            pool.shutdown()


def _check_context(context: Any, num_workers: int) -> Any:
    """A multiprocessing context from a start method's name or a context, checked as PyTorch does."""
    import multiprocessing
    import multiprocessing.context

    if num_workers == 0:
        raise ValueError(
            "multiprocessing_context can only be used with multi-process loading (num_workers > 0), but got "
            f"num_workers={num_workers}"
        )
    if isinstance(context, str):
        valid = multiprocessing.get_all_start_methods()
        if context not in valid:
            raise ValueError(
                f"multiprocessing_context option should specify a valid start method in {valid!r}, but got "
                f"multiprocessing_context={context!r}"
            )
        return multiprocessing.get_context(context)
    if not isinstance(context, multiprocessing.context.BaseContext):
        raise TypeError(
            "multiprocessing_context option should be a valid context object or a string specifying the start "
            f"method, but got multiprocessing_context={context}"
        )
    return context


class _BaseDataLoaderIter:
    """An epoch's iterator, of PyTorch's class names (code checks ``isinstance(it, _BaseDataLoaderIter)``):
    ``next()`` gives the batches, ``len()`` the loader's length, ``_num_yielded`` the batches given so far."""

    def __init__(self, loader: DataLoader, batches: Iterator[Any] | None = None) -> None:
        # an ember DataLoader hands over its batches; another loader-like object (fastai's) is read as
        # PyTorch's iterator reads it
        if batches is None:
            batches = self._batches_of(loader)
        self._dataset = loader.dataset
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        self._pin_memory = loader.pin_memory
        self._loader = loader
        self._batches = batches
        self._num_yielded = 0

    def __iter__(self) -> _BaseDataLoaderIter:
        return self

    def __next__(self) -> Any:
        batch = next(self._batches)
        self._num_yielded += 1
        return batch

    def __len__(self) -> int:
        return len(self._loader)

    def _batches_of(self, loader: Any) -> Iterator[Any]:
        # the next index from the loader's _index_sampler, fetched, until either runs out (PyTorch's way)
        return _pinned_if_asked(loader, _fetched(_loader_fetcher(loader), loader._index_sampler))


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    """The iterator of a loader without workers."""


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    """The iterator of a loader with worker processes."""

    def _batches_of(self, loader: Any) -> Iterator[Any]:
        # made in loader.num_workers processes, worker i seeded base_seed + i, as PyTorch's iterator makes them
        base_seed = _randint(2**62, 1, loader.generator)[0]
        pool = WorkerPool(_loader_fetcher(loader), loader.num_workers, base_seed, loader.worker_init_fn,
                          loader.multiprocessing_context, loader.timeout)  # fmt: skip
        iterable = loader._dataset_kind == _DatasetKind.Iterable
        yield from _pinned_if_asked(loader, _epoch_in_workers(loader, pool, iterable, keep_pool=False))


class DataLoader(Generic[T_co]):
    """Combines a dataset and a sampler, and iterates over the dataset in batches, as
    ``torch.utils.data.DataLoader``.

    ``shuffle=True`` draws a new order every epoch from ``generator`` (an
    ``ember.Generator``; None uses ember's global generator).  A batch of a
    TensorDataset (or of Subsets of one, as ``random_split`` returns) with the
    default ``collate_fn`` is gathered with one ``index_select`` per tensor
    instead of stacking one tensor per sample; the result is the same.
    ``num_workers > 0`` makes the batches in worker processes (see
    ``get_worker_info``; ``prefetch_factor``, ``persistent_workers``,
    ``worker_init_fn``, ``multiprocessing_context``, ``timeout`` and
    ``in_order`` as in PyTorch). Worker ``i`` seeds ember's global generator
    and Python's ``random`` with ``base_seed + i`` (``base_seed`` drawn from
    ``generator`` each epoch, as PyTorch) and numpy's global generator with a
    value derived from both. Batches travel from the workers pickled.
    ``pin_memory=True`` puts each batch's tensors in page-locked memory where a
    GPU is available (for ``.to("cuda", non_blocking=True)``); elsewhere it
    warns and does nothing, as PyTorch does without an accelerator.

    Args:
        batch_size: samples per batch; None turns auto-batching off (``collate_fn`` then gets single samples).
        sampler: yields the sample indices; ``batch_sampler`` yields whole batches of them instead.
        collate_fn: merges a list of samples into a batch (``default_collate`` by default,
            ``default_convert`` without auto-batching).
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler | Iterable[Any] | None = None,
        batch_sampler: Sampler[list] | Iterable[list[Any]] | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context: Any = None,
        generator: _GeneratorLike = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
    ) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 to enable "
                "multiprocessing, otherwise set prefetch_factor to None."
            )
        if prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if multiprocessing_context is not None:
            multiprocessing_context = _check_context(multiprocessing_context, num_workers)
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if pin_memory and not _C._cuda_device_count():
            warnings.warn(
                "'pin_memory' argument is set as true but no accelerator is found, then device pinned memory won't "
                "be used.",
                stacklevel=2,
            )
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        iterable = isinstance(dataset, IterableDataset)
        if iterable:
            for name, value in (("shuffle", shuffle), ("sampler", sampler), ("batch_sampler", batch_sampler)):
                if value not in (None, False):
                    raise ValueError(
                        f"DataLoader with IterableDataset: expected unspecified {name} option, but got {name}={value}"
                    )
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last"
                )
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")
        if sampler is None and not iterable:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.generator = generator
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.prefetch_factor = 2 if prefetch_factor is None and num_workers > 0 else prefetch_factor
        self.persistent_workers = persistent_workers
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order
        self._workers: WorkerPool | None = None
        self._iterator: _BaseDataLoaderIter | None = None  # the latest epoch's, as PyTorch keeps it
        self._default_collate = collate_fn is None
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self._initialized = True

    def __setattr__(self, name: str, value: Any) -> None:
        if getattr(self, "_initialized", False) and name in (
            "batch_size",
            "batch_sampler",
            "sampler",
            "drop_last",
            "dataset",
            "persistent_workers",
        ):
            raise ValueError(f"{name} attribute should not be set after {type(self).__name__} is initialized")
        super().__setattr__(name, value)

    @property
    def _auto_collation(self) -> bool:
        return (
            self.batch_size is not None if isinstance(self.dataset, IterableDataset) else self.batch_sampler is not None
        )

    @property
    def _index_sampler(self) -> Any:
        return self.batch_sampler if self.batch_sampler is not None else self.sampler

    def __iter__(self) -> Iterator[Any]:
        """Iterate over the batches (or, without auto-batching, the converted samples) of one epoch."""
        iterable = isinstance(self.dataset, IterableDataset)
        fetcher = self._fetcher()
        # Drawn every epoch, with workers or not (as PyTorch), so that a seeded
        # shuffle gives the same order whatever num_workers is.
        base_seed = _randint(2**62, 1, self.generator)[0]
        batches = (
            self._iter_workers(fetcher, iterable, base_seed)
            if self.num_workers > 0
            else self._iter_here(fetcher, iterable)
        )
        batches = _pinned_if_asked(self, batches)
        kind = _MultiProcessingDataLoaderIter if self.num_workers > 0 else _SingleProcessDataLoaderIter
        self._iterator = kind(self, batches)
        return self._iterator

    def _fetcher(self) -> Any:
        if isinstance(self.dataset, IterableDataset):
            return _IterableFetcher(self.dataset, self.collate_fn, self.batch_size, self.drop_last)
        return _MapFetcher(self.dataset, self.collate_fn, self._auto_collation, self._default_collate)

    def _iter_here(self, fetcher: Any, iterable: bool) -> Iterator[Any]:
        if iterable:
            fetcher.reset()
            yield from _fetched(fetcher, itertools.repeat(None))
            return
        for index in self._index_sampler:
            yield fetcher.fetch(index)

    def _iter_workers(self, fetcher: Any, iterable: bool, base_seed: int) -> Iterator[Any]:
        pool = self._workers
        if pool is None:  # worker i is seeded base_seed + i, as PyTorch
            pool = WorkerPool(
                fetcher, self.num_workers, base_seed, self.worker_init_fn, self.multiprocessing_context, self.timeout
            )
            if self.persistent_workers:
                self._workers = pool
        yield from _epoch_in_workers(self, pool, iterable, keep_pool=self.persistent_workers)

    def __len__(self) -> int:
        """The number of batches (of samples without auto-batching) per epoch."""
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)  # a TypeError when the dataset has no length, as PyTorch
            if self.batch_size is not None:
                n = n // self.batch_size if self.drop_last else -(-n // self.batch_size)
            return n
        return len(self._index_sampler)
