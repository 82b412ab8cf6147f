"""ember.cuda.memory, as torch.cuda.memory: the caching allocator's counters and limits
(Note [CUDA caching allocator]), its blocks for other CUDA code (``caching_allocator_alloc``), private
memory pools (``MemPool``, ``use_mem_pool``; Note [CUDA graph pools]), ``memory_snapshot`` and the pinned
host allocator's ``host_memory_stats``. ember.cuda re-exports every name."""

from __future__ import annotations

import contextlib
import itertools
import operator
from typing import Any, Iterator

from .. import _C
from ._devices import _index, _valid_index
from ._monitoring import list_gpu_processes  # noqa: F401  (torch.cuda.memory's too)

__all__ = [
    "MemPool",
    "caching_allocator_alloc",
    "caching_allocator_delete",
    "caching_allocator_enable",
    "empty_cache",
    "get_allocator_backend",
    "get_per_process_memory_fraction",
    "host_memory_stats",
    "host_memory_stats_as_nested_dict",
    "list_gpu_processes",
    "max_memory_allocated",
    "max_memory_cached",
    "max_memory_reserved",
    "mem_get_info",
    "memory_allocated",
    "memory_cached",
    "memory_reserved",
    "memory_snapshot",
    "memory_stats",
    "memory_stats_as_nested_dict",
    "memory_summary",
    "reset_accumulated_host_memory_stats",
    "reset_accumulated_memory_stats",
    "reset_max_memory_allocated",
    "reset_max_memory_cached",
    "reset_peak_host_memory_stats",
    "reset_peak_memory_stats",
    "set_per_process_memory_fraction",
    "use_mem_pool",
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


def caching_allocator_enable(value: bool = True) -> None:
    """Turns the caching of freed blocks on (the default) or off: off, each freed block goes back to CUDA at
    once (``cudaFree``, which waits for the device), and the blocks cached so far go too. Private pools
    (CUDA graphs, ``MemPool``) keep theirs."""
    if _C._cuda_is_available():
        _C._cuda_set_caching(bool(value))


# ---- private pools (Note [CUDA graph pools]): CUDA graphs and MemPools hand their numbers to the allocator
_pool_numbers = itertools.count(1)
_pool_users: dict[tuple[int, int], int] = {}  # (device, pool number) -> graphs and MemPools that use it


def _new_pool_id() -> tuple[int, int]:
    return (0, next(_pool_numbers))


def _join_pool(device: int, number: int) -> None:
    _pool_users[(device, number)] = _pool_users.get((device, number), 0) + 1


def _leave_pool(device: int, number: int) -> None:
    """One user fewer; with none left, the pool's blocks join the cache."""
    key = (device, number)
    _pool_users[key] -= 1
    if not _pool_users[key]:
        del _pool_users[key]
        _C._cuda_release_pool(*key)


class MemPool:
    """A private pool of the caching allocator, as ``torch.cuda.MemPool``: inside ``use_mem_pool(pool)``
    the device's tensors take its blocks, and their blocks go back to it when freed, so no tensor made
    outside shares them. When the pool object is gone, its blocks join the cache (as its tensors free them).
    ``id`` may be given to a CUDA graph capture (``graph(g, pool=pool.id)``). ember serves every pool from
    its own caching allocator: ``allocator`` must be None; ``use_on_oom`` and ``no_split`` are kept (ember
    never splits a block)."""

    def __init__(self, allocator: Any = None, use_on_oom: bool = False, no_split: bool = False) -> None:
        if allocator is not None:
            raise NotImplementedError(
                "ember.cuda.MemPool: pluggable allocators are not supported; ember's caching allocator serves "
                "every pool (pass allocator=None)"
            )
        self._id = _new_pool_id()
        self._devices: set[int] = set()  # the devices whose allocator it has been a pool of
        self.use_on_oom, self.no_split = bool(use_on_oom), bool(no_split)

    @property
    def id(self) -> tuple[int, int]:
        """The pool's number, as PyTorch's pair of integers."""
        return self._id

    @property
    def allocator(self) -> None:
        """The pluggable allocator behind the pool: None, ember's caching allocator."""
        return None

    def use_count(self) -> int:
        """How many hold the pool: the object itself, each ``use_mem_pool`` block and each CUDA graph
        captured into it."""
        return 1 + sum(n for (_, number), n in _pool_users.items() if number == self._id[1]) - len(self._devices)

    def snapshot(self, include_traces: bool = True) -> list[dict]:
        """``memory_snapshot`` of this pool's blocks."""
        return memory_snapshot(self._id, include_traces=include_traces)

    def _hold(self, device: int) -> None:
        if device not in self._devices:
            self._devices.add(device)
            _join_pool(device, self._id[1])

    def __del__(self) -> None:
        for device in getattr(self, "_devices", ()):
            try:
                _leave_pool(device, self._id[1])
            except Exception:  # at interpreter exit the allocator may be gone already
                pass


_routed: dict[int, list[int]] = {}  # device -> the pool numbers of the use_mem_pool blocks open, innermost last


@contextlib.contextmanager
def use_mem_pool(pool: MemPool, device: Any = None) -> Iterator[None]:
    """Routes the device's allocations (the current device's by default) to ``pool`` inside the block, as
    PyTorch's. ember queues a device's work on one stream, and the block routes all of that device's
    allocations, a backward's on the engine's thread too (PyTorch routes only the calling thread's)."""
    if not isinstance(pool, MemPool):
        raise TypeError(f"use_mem_pool: pool must be a torch.cuda.MemPool, got {type(pool).__name__}")
    index = _valid_index(device)
    pool._hold(index)
    _join_pool(index, pool.id[1])
    stack = _routed.setdefault(index, [])
    stack.append(pool.id[1])
    _C._cuda_use_pool(index, pool.id[1])
    try:
        yield
    finally:
        stack.pop()
        _C._cuda_use_pool(index, stack[-1] if stack else 0)
        _leave_pool(index, pool.id[1])


def memory_snapshot(mempool_id: tuple[int, int] | None = None, include_traces: bool = True) -> list[dict]:
    """The caching allocator's blocks on every device, as PyTorch's list of segments (a pool's alone with
    ``mempool_id``). ember never splits a block, so each segment holds one block: ``"active_allocated"`` when
    a tensor holds it, ``"inactive"`` when cached. ember records no stack traces (``frames`` are empty)."""
    segments = []
    number = 0 if mempool_id is None else mempool_id[1]
    for device in range(_C._cuda_device_count() if _C._cuda_is_available() else 0):
        stream = _C._cuda_stream_handle(device)
        for address, size, requested, pool, active in sorted(_C._cuda_memory_blocks(device)):
            if number and pool != number:
                continue
            used = size if active else 0
            block = {
                "address": address,
                "size": size,
                "requested_size": requested,
                "state": "active_allocated" if active else "inactive",
                "frames": [],
            }
            segments.append(
                {
                    "device": device,
                    "address": address,
                    "total_size": size,
                    "allocated_size": used,
                    "active_size": used,
                    "requested_size": requested,
                    "stream": stream,
                    "segment_type": "small" if size <= 1 << 20 else "large",
                    "segment_pool_id": (0, pool),
                    "is_expandable": False,
                    "frames": [],
                    "blocks": [block],
                }
            )
    return segments


# ---- the pinned host allocator (Note [Pinned memory])


def host_memory_stats_as_nested_dict() -> dict[str, Any]:
    """host_memory_stats() nested at its dots, as PyTorch's."""
    raw = _C._cuda_host_memory_stats() if _C._cuda_is_available() else {}
    if not raw:
        return {}
    nested: dict[str, Any] = {}
    for name in ("allocations", "allocated_bytes", "active_requests", "active_bytes"):
        nested[name] = dict(zip(("current", "peak", "allocated", "freed"), raw[name]))
    for name, calls in (("host_alloc_time", "num_host_alloc"), ("host_free_time", "num_host_free")):
        total, most, least, count = raw[name]
        nested[calls] = count
        nested[name] = {
            "total": total,
            "max": most,
            "min": least,
            "count": count,
            "avg": total / count if count else 0.0,
        }
    return nested


def host_memory_stats() -> dict[str, Any]:
    """The pinned host allocator's counters (``pin_memory()`` blocks and ember's staged copies), as PyTorch's
    sorted flat keys: ``allocations``/``allocated_bytes`` (blocks held, cached ones too),
    ``active_requests``/``active_bytes`` (handed out), each ``.current``, ``.peak``, ``.allocated``,
    ``.freed``; ``num_host_alloc``/``num_host_free`` and ``host_alloc_time``/``host_free_time`` (microseconds:
    ``.total``, ``.max``, ``.min``, ``.count``, ``.avg``)."""
    flat = []
    for key, value in host_memory_stats_as_nested_dict().items():
        if isinstance(value, dict):
            flat += [(f"{key}.{k}", v) for k, v in value.items()]
        else:
            flat.append((key, value))
    return dict(sorted(flat))


def reset_peak_host_memory_stats() -> None:
    """Sets the pinned allocator's peaks to the current values."""
    if _C._cuda_is_available():
        _C._cuda_reset_host_memory_stats(True)


def reset_accumulated_host_memory_stats() -> None:
    """Sets the pinned allocator's accumulated counts and times to zero."""
    if _C._cuda_is_available():
        _C._cuda_reset_host_memory_stats(False)
