"""Autocast (Note [Autocast]): inside ``ember.autocast("cpu", dtype=ember.bfloat16)`` the products and
convolutions PyTorch's CPU autocast lists run in the lower dtype; the state is per thread, as PyTorch's.
CUDA autocast is accepted and disabled with PyTorch's warning where CUDA is not available (always, in
this build)."""

from __future__ import annotations

import functools
import warnings
from typing import Any, Callable

from .. import _C

__all__ = ["autocast", "custom_bwd", "custom_fwd", "is_autocast_available"]

_CPU_DTYPES = (_C.dtype.bfloat16, _C.dtype.float16)
_DEVICE_TYPES = ("cpu", "cuda", "xpu", "mps", "hpu", "xla", "mtia", "maia", "ipu", "meta")
_nesting = [0]  # autocast_increment_nesting / autocast_decrement_nesting, as PyTorch counts
_cache_enabled = [True]
_other_dtypes: dict[str, Any] = {}  # set_autocast_dtype of the device types ember has no kernels for


def is_autocast_available(device_type: str) -> bool:
    """Whether autocast works on device_type: the CPU, and CUDA where it is available."""
    return device_type == "cpu" or (device_type == "cuda" and _C._cuda_is_available())


class autocast:
    """A context manager (and decorator) running the ops of its region in a lower-precision dtype where
    PyTorch's autocast does: ``autocast(device_type, dtype=None, enabled=True, cache_enabled=None)``."""

    def __init__(
        self, device_type: str, dtype: Any = None, enabled: bool = True, cache_enabled: bool | None = None
    ) -> None:
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        if device_type not in _DEVICE_TYPES:
            raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}'")
        self.device = device_type
        self.fast_dtype = dtype if dtype is not None else get_autocast_dtype(device_type)
        self._cache_enabled = _cache_enabled[0] if cache_enabled is None else cache_enabled
        if enabled and device_type == "cuda" and not _C._cuda_is_available():
            warnings.warn("User provided device_type of 'cuda', but CUDA is not available. Disabling", stacklevel=2)
            enabled = False
        elif enabled and device_type == "cpu" and self.fast_dtype not in _CPU_DTYPES:
            warnings.warn(
                "In CPU autocast, but the target dtype is not supported. Disabling autocast.\n"
                "CPU Autocast only supports dtype of torch.bfloat16, torch.float16 currently.",
                stacklevel=2,
            )
            enabled = False
        elif enabled and device_type not in ("cpu", "cuda"):
            enabled = False  # devices ember has no kernels for: nothing runs there
        self._enabled = enabled

    def __enter__(self) -> autocast:
        self._previous = _C._autocast_state(self.device) if self.device in ("cpu", "cuda") else None
        self._previous_cache = _cache_enabled[0]
        _nesting[0] += 1
        _cache_enabled[0] = self._cache_enabled
        if self.device in ("cpu", "cuda"):
            _C._set_autocast_state(self._enabled, self.fast_dtype, self.device)
        return self

    def __exit__(self, *exc: Any) -> bool:
        _nesting[0] -= 1
        _cache_enabled[0] = self._previous_cache
        if self._previous is not None:
            _C._set_autocast_state(*self._previous, self.device)
        return False

    def __call__(self, func: Callable) -> Callable:
        @functools.wraps(func)
        def decorate_autocast(*args: Any, **kwargs: Any) -> Any:
            with autocast(self.device, self.fast_dtype, self._enabled, self._cache_enabled):
                return func(*args, **kwargs)

        return decorate_autocast


def _check_device(device_type: str) -> None:
    if device_type not in _DEVICE_TYPES:
        raise RuntimeError(f"unsupported device_type: {device_type}")


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """Whether autocast is on for device_type (CUDA's, PyTorch's legacy default, without one)."""
    if device_type is None or device_type == "cuda":
        return _C._autocast_state("cuda")[0]
    if device_type != "cpu":
        _check_device(device_type)
        return False
    return _C._autocast_state()[0]


def get_autocast_dtype(device_type: str) -> Any:
    """The dtype autocast uses on device_type: bfloat16 on the CPU, float16 on CUDA, unless set."""
    _check_device(device_type)
    # this thread's, which an autocast block sets (even one CUDA's absence turned off, as PyTorch's)
    if device_type in ("cpu", "cuda"):
        return _C._autocast_state(device_type)[1]
    return _other_dtypes.get(device_type, _C.dtype.float16)


def set_autocast_enabled(device_type: Any, enabled: bool | None = None) -> None:
    """Turns autocast on device_type on or off; the legacy one-argument form (CUDA's) changes nothing here."""
    if enabled is None:  # the legacy form: CUDA's
        device_type, enabled = "cuda", device_type
    _check_device(device_type)
    if device_type in ("cpu", "cuda"):
        _C._set_autocast_state(bool(enabled), _C._autocast_state(device_type)[1], device_type)


def set_autocast_dtype(device_type: str, dtype: Any) -> None:
    """Sets the dtype autocast casts to on device_type."""
    _check_device(device_type)
    if device_type in ("cpu", "cuda"):
        _C._set_autocast_state(_C._autocast_state(device_type)[0], dtype, device_type)
    else:
        _other_dtypes[device_type] = dtype


def is_autocast_cpu_enabled() -> bool:
    """Whether CPU autocast is on in this thread."""
    return is_autocast_enabled("cpu")


def set_autocast_cpu_enabled(enabled: bool) -> None:
    """Turns this thread's CPU autocast on or off."""
    set_autocast_enabled("cpu", enabled)


def get_autocast_cpu_dtype() -> Any:
    """The dtype CPU autocast casts to (bfloat16 unless set)."""
    return get_autocast_dtype("cpu")


def set_autocast_cpu_dtype(dtype: Any) -> None:
    """Sets the dtype CPU autocast casts to."""
    set_autocast_dtype("cpu", dtype)


def get_autocast_gpu_dtype() -> Any:
    """The dtype CUDA autocast would cast to (float16 unless set)."""
    return get_autocast_dtype("cuda")


def set_autocast_gpu_dtype(dtype: Any) -> None:
    """Sets the dtype CUDA autocast would cast to."""
    set_autocast_dtype("cuda", dtype)


def is_autocast_cache_enabled() -> bool:
    """Whether autocast's cache of cast weights is on (accepted; ember casts per call)."""
    return _cache_enabled[0]


def set_autocast_cache_enabled(enabled: bool) -> None:
    """Turns autocast's cache flag on or off (ember casts per call either way)."""
    _cache_enabled[0] = bool(enabled)


def clear_autocast_cache() -> None:
    """ember keeps no cache of cast weights: casts are per call, so there is nothing to clear."""


def autocast_increment_nesting() -> int:
    """Counts one more open autocast region; returns the count."""
    _nesting[0] += 1
    return _nesting[0]


def autocast_decrement_nesting() -> int:
    """Counts one autocast region closed; returns the count."""
    _nesting[0] -= 1
    return _nesting[0]


def custom_fwd(fwd: Callable | None = None, *, device_type: str = "cpu", cast_inputs: Any = None) -> Callable:
    """A decorator for a custom Function's forward: with cast_inputs, its floating tensor arguments are
    cast to that dtype and it runs with autocast off; without, it runs under the caller's autocast state."""
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args: Any, **kwargs: Any) -> Any:
        # as PyTorch's: the backward runs with device_type's autocast as this forward ran (off with cast_inputs)
        enabled = is_autocast_enabled(device_type)
        args[0]._autocast_state = (device_type, enabled and cast_inputs is None, get_autocast_dtype(device_type))
        if cast_inputs is None or not enabled:
            return fwd(*args, **kwargs)

        def cast(x: Any) -> Any:
            return x.to(cast_inputs) if isinstance(x, _C.Tensor) and x.is_floating_point() else x

        with autocast(device_type, enabled=False):
            return fwd(*(cast(a) for a in args), **{k: cast(v) for k, v in kwargs.items()})

    return decorate_fwd


def custom_bwd(bwd: Callable | None = None, *, device_type: str = "cpu") -> Callable:
    """A decorator for a custom Function's backward: it runs under the autocast state of its forward."""
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args: Any, **kwargs: Any) -> Any:
        state = getattr(args[0], "_autocast_state", None)
        if state is None:
            return bwd(*args, **kwargs)
        kind, enabled, dtype = state
        with autocast(kind, enabled=enabled, dtype=dtype):
            return bwd(*args, **kwargs)

    return decorate_bwd
