"""ember.cuda: CUDA devices (Note [CUDA backend] in csrc/kernels/cuda/backend.h).

A build with the CUDA backend (``EMBER_CUDA=ON pip install .``) runs tensors on NVIDIA GPUs; in a
build without it, or on a machine without a GPU, every query answers as PyTorch's do there:
``is_available()`` is False, ``device_count()`` is 0, the memory counters are 0, and making a CUDA
tensor raises RuntimeError saying why."""

from __future__ import annotations

from typing import Any

from .. import _C, _legacy
from . import (
    amp,  # noqa: F401  (torch.cuda.amp's deprecated names)
    nvtx,  # noqa: F401
)
from ._devices import _index
from ._monitoring import (  # noqa: F401  (nvidia-smi's numbers through NVML)
    clock_rate,
    device_memory_used,
    list_gpu_processes,
    memory_usage,
    power_draw,
    temperature,
    utilization,
)
from .streams import (  # noqa: F401
    Event,
    ExternalStream,
    Stream,
    StreamContext,
    current_stream,
    default_stream,
    set_stream,
    stream,
)


def is_available() -> bool:
    """Whether CUDA tensors can be made: a CUDA build, a driver and at least one GPU."""
    return _C._cuda_is_available()


def is_built() -> bool:
    """Whether this ember was built with its CUDA backend (a GPU may still be missing)."""
    return _C._cuda_built()


def device_count() -> int:
    """The number of CUDA devices (0 without CUDA)."""
    return _C._cuda_device_count()


def is_initialized() -> bool:
    """Whether CUDA can be used (ember starts CUDA at its first CUDA tensor)."""
    return is_available()


def current_device() -> int:
    """The index of the current CUDA device."""
    return _C._cuda_current_device()


def set_device(device: Any) -> None:
    """Makes ``device`` (an index, 'cuda:N' or ember.device) the current CUDA device."""
    if device is None:
        raise ValueError("Expected a torch.device with a specified index or an integer, but got:None")
    index = _index(device)
    if index >= 0:
        _C._cuda_set_device(index)


def synchronize(device: Any = None) -> None:
    """Waits until every kernel queued on ``device`` (default: the current one) has finished."""
    _C._cuda_synchronize(_index(device))


def get_device_name(device: Any = None) -> str:
    """The GPU's name, as the driver reports it."""
    return _C._cuda_device_name(_index(device))


class device:
    """``with ember.cuda.device(1):`` makes device 1 current inside the block."""

    def __init__(self, device: Any) -> None:
        self.index = _index(device)
        self.previous = -1

    def __enter__(self) -> device:
        if self.index >= 0:
            self.previous = current_device()
            set_device(self.index)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.index >= 0:
            set_device(self.previous)


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


def manual_seed(seed: int) -> None:
    """Seeds the CUDA generator (Philox); a no-op effect without CUDA, as in PyTorch."""
    _C._cuda_manual_seed(int(seed) & 0xFFFF_FFFF_FFFF_FFFF)


def manual_seed_all(seed: int) -> None:
    """Seeds the CUDA generator of every device (ember keeps one stream for all)."""
    manual_seed(seed)


def seed() -> None:
    """Seeds the CUDA generator from a random number."""
    import random

    manual_seed(random.getrandbits(63))


seed_all = seed


def initial_seed() -> int:
    """The CUDA generator's seed."""
    return _C._cuda_initial_seed()


def _checked(device: Any) -> None:
    """Raises PyTorch's error where CUDA cannot be used (no build, driver or GPU, or a bad index)."""
    _C._cuda_device_name(_index(device))


def get_rng_state(device: Any = "cuda") -> Any:
    """The CUDA generator's state as PyTorch gives it: 16 uint8 bytes on the CPU, the Philox seed then
    the offset (Note [CUDA random numbers]: ember keeps one stream for every device)."""
    import numpy as np

    from .. import _creation

    _checked(device)
    seed, offset = _C._cuda_rng_state()
    return _creation.tensor(np.array([seed, offset], dtype="<u8").view(np.uint8), device="cpu")


def set_rng_state(new_state: Any, device: Any = "cuda") -> None:
    """Sets the CUDA generator's state from ``get_rng_state``'s 16 bytes."""
    import numpy as np

    _checked(device)
    if new_state.dtype != _C.dtype.uint8 or new_state.numel() != 16:
        raise RuntimeError(
            f"Expected a 16-byte uint8 CUDA generator state (seed and offset), got {new_state.numel()} "
            f"elements of {new_state.dtype}"
        )
    seed, offset = np.ascontiguousarray(new_state.cpu().numpy()).view("<u8")
    _C._cuda_set_rng_state(int(seed), int(offset))


def get_rng_state_all() -> list:
    """``get_rng_state()`` of each device."""
    return [get_rng_state(i) for i in range(device_count())]


def set_rng_state_all(new_states: Any) -> None:
    """``set_rng_state`` of each device from ``get_rng_state_all()``'s list."""
    for i, state in enumerate(new_states):
        set_rng_state(state, i)


OutOfMemoryError = _C.OutOfMemoryError  # a RuntimeError, raised when the caching allocator runs out


def init() -> None:
    """Starts CUDA (ember does at its first CUDA tensor): raises PyTorch's error where it cannot be used."""
    _checked(None)


class _CudaDeviceProperties:
    """``get_device_properties``'s answer: name, compute capability, memory and multiprocessors."""

    def __init__(self, name: str, major: int, minor: int, total_memory: int, multi_processor_count: int) -> None:
        self.name, self.major, self.minor = name, major, minor
        self.total_memory, self.multi_processor_count = total_memory, multi_processor_count

    def __repr__(self) -> str:
        return (
            f"_CudaDeviceProperties(name='{self.name}', major={self.major}, minor={self.minor}, "
            f"total_memory={self.total_memory // (1 << 20)}MB, multi_processor_count={self.multi_processor_count})"
        )


def _valid_index(device: Any) -> int:
    """PyTorch's checked device index: None or 'cuda' the current device; AssertionError("Invalid device id")
    for an index outside [0, device_count())."""
    init()  # PyTorch's lazy init: its RuntimeError where CUDA cannot be used
    index = _index(device)
    if device is None or (index == -1 and not isinstance(device, int)):
        index = current_device()
    if index < 0 or index >= device_count():
        raise AssertionError("Invalid device id")
    return index


def get_device_properties(device: Any = None) -> _CudaDeviceProperties:
    """The device's properties (the current device's by default)."""
    return _CudaDeviceProperties(**_C._cuda_device_properties(_valid_index(device)))


def get_device_capability(device: Any = None) -> tuple[int, int]:
    """The device's compute capability (major, minor): (9, 0) for an H100."""
    p = get_device_properties(device)
    return p.major, p.minor


def mem_get_info(device: Any = None) -> tuple[int, int]:
    """(free, total) bytes of the device's memory, as the driver counts them (the cache's blocks are not free)."""
    return tuple(_C._cuda_mem_get_info(_index(device)))


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """Whether bfloat16 tensors work on the current device: natively from compute capability 8.0; ember
    computes them in float32 on any GPU, which ``including_emulation`` counts."""
    if not is_available():
        return False
    return including_emulation or get_device_capability() >= (8, 0)


def _architectures() -> list[str]:
    try:
        from .._cuda_build import ARCHITECTURES
    except ImportError:  # a build without the CUDA backend
        return []
    return [a.split("-")[0] for a in ARCHITECTURES.split(";") if a]


def get_arch_list() -> list[str]:
    """The architectures this build's kernels are compiled for (['sm_80', 'sm_90']); [] without CUDA."""
    return [f"sm_{a}" for a in _architectures()] if is_available() else []


def get_gencode_flags() -> str:
    """nvcc's -gencode flags for get_arch_list()'s architectures."""
    return " ".join(f"-gencode compute=compute_{a},code=sm_{a}" for a in _architectures()) if is_available() else ""


def ipc_collect() -> None:
    """Frees memory shared with other processes: ember shares none (a no-op, as PyTorch's without any)."""


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


class device_of(device):  # noqa: N801 (torch.cuda.device_of)
    """``with ember.cuda.device_of(t):`` makes t's device current inside the block (nothing for a CPU tensor)."""

    def __init__(self, obj: Any) -> None:
        super().__init__(obj.get_device() if getattr(obj, "is_cuda", False) else -1)


def can_device_access_peer(device: Any, peer_device: Any) -> bool:
    """Whether ``device`` can read ``peer_device``'s memory directly (CUDA's peer access)."""
    return _C._cuda_can_access_peer(_valid_index(device), _valid_index(peer_device))


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


_SYNC_DEBUG_MODES = {"default": 0, "warn": 1, "error": 2}


def set_sync_debug_mode(debug_mode: int | str) -> None:
    """Reports operations that wait for the GPU (Note [Sync debug mode]): 0 or "default" lets them be, 1 or "warn"
    warns at each, 2 or "error" raises RuntimeError "called a synchronizing CUDA operation". A copy between the
    host and a GPU that waits (``.item()``, ``.cpu()``, ``nonzero``, a tensor made on the GPU from host data)
    counts; ``synchronize()`` does not."""
    if isinstance(debug_mode, str):
        if debug_mode not in _SYNC_DEBUG_MODES:
            raise RuntimeError("invalid value of debug_mode, expected one of `default`, `warn`, `error`")
        debug_mode = _SYNC_DEBUG_MODES[debug_mode]
    if debug_mode not in (0, 1, 2):
        raise RuntimeError("invalid value of debug_mode, expected one of 0,1,2")
    _C._cuda_set_sync_debug_mode(int(debug_mode))


def get_sync_debug_mode() -> int:
    """The sync debug mode: 0 (default), 1 (warn) or 2 (error)."""
    return _C._cuda_get_sync_debug_mode()


def is_tf32_supported() -> bool:
    """Whether the GPU has TF32 tensor cores (compute capability 8.0 and up); ember's float32 products run in
    full FP32 whatever the answer."""
    return is_available() and get_device_capability() >= (8, 0)


has_half = True  # float16 tensors work on CUDA
has_magma = False  # ember's CUDA linear algebra runs on the host through LAPACK, not MAGMA

# PyTorch's older names of the allocator counters.
memory_cached = memory_reserved
max_memory_cached = max_memory_reserved
reset_max_memory_allocated = reset_peak_memory_stats
reset_max_memory_cached = reset_peak_memory_stats


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


# The legacy typed classes of CUDA tensors: ember.cuda.FloatTensor(2, 3) and isinstance(t, ember.cuda.FloatTensor).
FloatTensor = _legacy.CUDA_CLASSES["FloatTensor"]
DoubleTensor = _legacy.CUDA_CLASSES["DoubleTensor"]
HalfTensor = _legacy.CUDA_CLASSES["HalfTensor"]
BFloat16Tensor = _legacy.CUDA_CLASSES["BFloat16Tensor"]
LongTensor = _legacy.CUDA_CLASSES["LongTensor"]
IntTensor = _legacy.CUDA_CLASSES["IntTensor"]
ShortTensor = _legacy.CUDA_CLASSES["ShortTensor"]
CharTensor = _legacy.CUDA_CLASSES["CharTensor"]
ByteTensor = _legacy.CUDA_CLASSES["ByteTensor"]
BoolTensor = _legacy.CUDA_CLASSES["BoolTensor"]
