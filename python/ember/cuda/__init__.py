"""ember.cuda: CUDA devices (Note [CUDA backend] in csrc/kernels/cuda/backend.h).

A build with the CUDA backend (``EMBER_CUDA=ON pip install .``) runs tensors on NVIDIA GPUs; in a
build without it, or on a machine without a GPU, every query answers as PyTorch's do there:
``is_available()`` is False, ``device_count()`` is 0, the memory counters are 0, and making a CUDA
tensor raises RuntimeError saying why."""

from __future__ import annotations

from typing import Any

from .. import _C, _legacy, _torch_misc
from . import (  # noqa: F401  (torch.cuda.memory and torch.cuda.random, re-exported below)
    amp,  # noqa: F401  (torch.cuda.amp's deprecated names)
    memory,
    nvtx,  # noqa: F401
    random,
)
from ._devices import _checked, _index, _valid_index
from ._monitoring import (  # noqa: F401  (nvidia-smi's numbers through NVML)
    clock_rate,
    device_memory_used,
    list_gpu_processes,
    memory_usage,
    power_draw,
    temperature,
    utilization,
)
from .graphs import *  # noqa: F401,F403
from .memory import *  # noqa: F401,F403
from .random import *  # noqa: F401,F403
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


class CudaError(RuntimeError):
    """A CUDA runtime status other than success, with CUDA's words: ``CudaError(2)`` says "out of memory (2)"."""

    def __init__(self, code: int) -> None:
        super().__init__(f"{_C._cuda_error_string(int(code))} ({int(code)})")


def check_error(res: int) -> None:
    """Raises ``CudaError(res)`` unless ``res`` (a cudaError_t from other CUDA code) is 0, success."""
    if res != 0:
        raise CudaError(res)


def current_blas_handle() -> int:
    """The current device's ``cublasHandle_t`` (as an integer), bound to the device's stream."""
    return _C._cuda_blas_handle(_valid_index(None))


OutOfMemoryError = _C.OutOfMemoryError  # a RuntimeError, raised when the caching allocator runs out
AcceleratorError = _torch_misc.AcceleratorError  # torch.cuda's name of torch.AcceleratorError


class DeferredCudaCallError(Exception):
    """PyTorch's error for a call queued until CUDA starts that then failed (ember starts CUDA at once)."""


def get_stream_from_external(data_ptr: int, device: Any = None) -> ExternalStream:
    """A ``Stream`` for a ``cudaStream_t`` made by other CUDA code (``ExternalStream(data_ptr, device)``)."""
    return ExternalStream(data_ptr, device)


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


def get_device_properties(device: Any = None) -> _CudaDeviceProperties:
    """The device's properties (the current device's by default)."""
    return _CudaDeviceProperties(**_C._cuda_device_properties(_valid_index(device)))


def get_device_capability(device: Any = None) -> tuple[int, int]:
    """The device's compute capability (major, minor): (9, 0) for an H100."""
    p = get_device_properties(device)
    return p.major, p.minor


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


class device_of(device):  # noqa: N801 (torch.cuda.device_of)
    """``with ember.cuda.device_of(t):`` makes t's device current inside the block (nothing for a CPU tensor)."""

    def __init__(self, obj: Any) -> None:
        super().__init__(obj.get_device() if getattr(obj, "is_cuda", False) else -1)


def can_device_access_peer(device: Any, peer_device: Any) -> bool:
    """Whether ``device`` can read ``peer_device``'s memory directly (CUDA's peer access)."""
    return _C._cuda_can_access_peer(_valid_index(device), _valid_index(peer_device))


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
