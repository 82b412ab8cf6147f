"""ember.cuda.memory, as torch.cuda.memory: the caching allocator's counters and limits
(Note [CUDA caching allocator]), and its blocks for other CUDA code (``caching_allocator_alloc``).
ember.cuda re-exports every name."""

from __future__ import annotations

import operator
from typing import Any

from .. import _C
from ._devices import _index, _valid_index
from ._monitoring import list_gpu_processes  # noqa: F401  (torch.cuda.memory's too)

__all__ = [
    "caching_allocator_alloc",
    "caching_allocator_delete",
    "empty_cache",
    "get_allocator_backend",
    "get_per_process_memory_fraction",
    "list_gpu_processes",
    "max_memory_allocated",
    "max_memory_cached",
    "max_memory_reserved",
    "mem_get_info",
    "memory_allocated",
    "memory_cached",
    "memory_reserved",
    "memory_stats",
    "memory_stats_as_nested_dict",
    "memory_summary",
    "reset_accumulated_memory_stats",
    "reset_max_memory_allocated",
    "reset_max_memory_cached",
    "reset_peak_memory_stats",
    "set_per_process_memory_fraction",
]


def _stat(name: str, device: Any) -> int:
    return int(_C._cuda_memory_stats(_index(device)).get(name, 0))


def memory_allocated(device: Any = None) -> int:
    """Bytes held by CUDA tensors on the device (rounded up as the caching allocator hands them out)."""
    return _stat("allocated", device)


def max_memory_allocated(device: Any = None) -> int:
    """The peak of memory_allocated since the start or reset_peak_memory_stats()."""
    return _stat("max_allocated", device)


def memory_reserved(device: Any = None) -> int:
    """Bytes the caching allocator holds from CUDA: in use plus cached for reuse."""
    return _stat("reserved", device)


def max_memory_reserved(device: Any = None) -> int:
    """The peak of memory_reserved."""
    return _stat("max_reserved", device)


def memory_stats(device: Any = None) -> dict:
    """The allocator's counters (PyTorch's keys for the ones ember keeps)."""
    s = _C._cuda_memory_stats(_index(device))
    return {
        "allocated_bytes.all.current": s.get("allocated", 0),
        "allocated_bytes.all.peak": s.get("max_allocated", 0),
        "reserved_bytes.all.current": s.get("reserved", 0),
        "reserved_bytes.all.peak": s.get("max_reserved", 0),
        "num_alloc_retries": 0,
        "allocation.all.allocated": s.get("allocations", 0),
    }


def reset_peak_memory_stats(device: Any = None) -> None:
    """Sets the peaks to the current values."""
    _C._cuda_reset_peak_memory_stats(_index(device))


def empty_cache() -> None:
    """Gives the cached, unused blocks back to CUDA (tensors in use keep theirs)."""
    _C._cuda_empty_cache()


def memory_summary(device: Any = None, abbreviated: bool = False) -> str:
    """The caching allocator's counters as a table (PyTorch prints more of them; ember's table is the short one,
    ``abbreviated`` or not)."""
    s = memory_stats(device)
    rows = [
        ("Allocated memory", s["allocated_bytes.all.current"], s["allocated_bytes.all.peak"]),
        ("GPU reserved memory", s["reserved_bytes.all.current"], s["reserved_bytes.all.peak"]),
    ]
    lines = [f"{'Metric':<24}{'Cur Usage':>14}{'Peak Usage':>14}"]
    lines += [f"{name:<24}{cur / 2**20:>11.1f} MB{peak / 2**20:>11.1f} MB" for name, cur, peak in rows]
    lines.append(f"{'Allocations':<24}{s['allocation.all.allocated']:>14}")
    return "\n".join(lines) + "\n"


def set_per_process_memory_fraction(fraction: float, device: Any = None) -> None:
    """Caps the memory ember's caching allocator may hold on ``device`` at ``fraction`` of its capacity: past
    it, the cache is released and then an allocation raises ``OutOfMemoryError``. 1.0 removes the cap."""
    if not isinstance(fraction, float):
        raise TypeError("Invalid type for fraction argument, must be `float`")
    if fraction < 0 or fraction > 1:
        raise ValueError(f"Invalid fraction value: {fraction}. Allowed range: 0~1")
    _C._cuda_set_memory_fraction(fraction, _valid_index(device))


def get_per_process_memory_fraction(device: Any = None) -> float:
    """The fraction set by set_per_process_memory_fraction (1.0 unless set)."""
    return _C._cuda_memory_fraction(_valid_index(device))


def reset_accumulated_memory_stats(device: Any = None) -> None:
    """Sets the allocator's counts that only grow (allocations made, cache hits) to zero."""
    _C._cuda_reset_accumulated_memory_stats(_index(device))


def memory_stats_as_nested_dict(device: Any = None) -> dict:
    """memory_stats() nested at its dots: {'allocated_bytes': {'all': {'current': ...}}, ...}."""
    nested: dict = {}
    for key, value in memory_stats(device).items():
        *path, last = key.split(".")
        level = nested
        for part in path:
            level = level.setdefault(part, {})
        level[last] = value
    return nested


def mem_get_info(device: Any = None) -> tuple[int, int]:
    """(free, total) bytes of the device's memory, as the driver counts them (the cache's blocks are not free)."""
    return tuple(_C._cuda_mem_get_info(_index(device)))


# PyTorch's older names of the allocator counters.
memory_cached = memory_reserved
max_memory_cached = max_memory_reserved
reset_max_memory_allocated = reset_peak_memory_stats
reset_max_memory_cached = reset_peak_memory_stats


def get_allocator_backend() -> str:
    """The allocator in use: ember's caching allocator, which PyTorch calls "native"."""
    return "native"


_raw_blocks: dict[int, tuple[int, int]] = {}  # caching_allocator_alloc's pointers -> (bytes, device)


def caching_allocator_alloc(size: int, device: Any = None, stream: Any = None) -> int:
    """``size`` bytes of device memory from ember's caching allocator, as an integer address, for other CUDA
    code; ``caching_allocator_delete`` gives them back. ``stream`` must be the device's stream (ember queues a
    device's work on one: ``None``, an ``ember.cuda.Stream`` or its ``cuda_stream``)."""
    from .streams import Stream

    index = _valid_index(device)
    handle = _C._cuda_stream_handle(index)
    if isinstance(stream, Stream):
        stream = stream.cuda_stream
    if stream is not None and not isinstance(stream, int):
        raise TypeError(
            "Invalid type for stream argument, must be `torch.cuda.Stream` or `int` representing a pointer to "
            "an existing stream"
        )
    if stream not in (None, handle):
        raise ValueError(f"caching_allocator_alloc: ember queues cuda:{index}'s work on stream {handle:#x} only")
    size = operator.index(size)  # a float size is a TypeError, as PyTorch's size_t argument
    if size < 0:
        raise RuntimeError(f"caching_allocator_alloc: size must be non-negative, got {size}")
    if size == 0:
        return 0  # a null pointer, as PyTorch's allocator gives for no bytes
    ptr = _C._cuda_raw_alloc(size, index)
    _raw_blocks[ptr] = (size, index)
    return ptr


def caching_allocator_delete(mem_ptr: int) -> None:
    """Gives ``caching_allocator_alloc``'s block back to the allocator (work queued on it runs first: one stream).
    0 (the null pointer of a 0-byte allocation) is let be."""
    if mem_ptr == 0:
        return
    if mem_ptr not in _raw_blocks:
        raise RuntimeError(f"caching_allocator_delete: {mem_ptr!r} was not allocated by caching_allocator_alloc")
    size, device = _raw_blocks.pop(mem_ptr)
    _C._cuda_raw_free(mem_ptr, size, device)
