"""ember.autograd.profiler: the autograd profiler (profile, record_function), as torch.autograd.profiler.

Events are recorded in C++ (Note [Profiler events]); profile collects them when it stops. ember.profiler
(torch.profiler's API: activities, schedule, on_trace_ready) is built on the same session.
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from typing import Any, Callable

from .. import _C
from .profiler_util import EventList, FunctionEvent, FunctionEventAvg, events_from_records, warn_unrecorded

__all__ = ["EventList", "FunctionEvent", "FunctionEventAvg", "emit_itt", "emit_nvtx", "profile", "record_function"]


class profile:  # noqa: N801  (PyTorch's name)
    """Records the ops, backward nodes and user ranges run while it is active:

        with ember.autograd.profiler.profile(record_shapes=True) as prof:
            loss = model(x).sum(); loss.backward()
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=10))

    enabled=False makes it do nothing. record_shapes keeps each op's input shapes; profile_memory the
    bytes its tensors allocate and free. Only one profiler runs at a time (RuntimeError otherwise, as
    PyTorch's "Profiler is already enabled"). ``use_device="cuda"`` (or the deprecated ``use_cuda=True``)
    adds the GPU time of the ops and nodes that run on one (Note [Profiler device time]); with_stack,
    with_flops and with_modules are accepted with a warning: ember records no stacks, FLOPs or module names.
    """

    def __init__(self, enabled: bool = True, *, use_cuda: bool = False, use_device: Any = None,
                 record_shapes: bool = False, with_flops: bool = False, profile_memory: bool = False,
                 with_stack: bool = False, with_modules: bool = False, use_kineto: bool = False,
                 use_cpu: bool = True, experimental_config: Any = None, acc_events: bool = False,
                 custom_trace_id_callback: Any = None) -> None:  # fmt: skip
        if use_cuda and enabled:
            warnings.warn("The attribute `use_cuda` will be deprecated soon, please use ``use_device = 'cuda'`` "
                          "instead.", FutureWarning, stacklevel=2)  # fmt: skip
            use_device = "cuda"
        device = str(use_device).split(":")[0] if use_device is not None else None
        from .. import cuda

        self._device_time = device == "cuda" and cuda.is_available()
        if device == "cuda" and not self._device_time and enabled:
            warnings.warn("CUDA is not available, disabling CUDA profiling", stacklevel=2)  # PyTorch's words
        warn_unrecorded(use_device=None if device in (None, "cuda") else use_device, with_flops=with_flops,
                        with_stack=with_stack, with_modules=with_modules, experimental_config=experimental_config,
                        acc_events=acc_events, custom_trace_id_callback=custom_trace_id_callback)  # fmt: skip
        self.use_cuda, self.use_device = use_cuda, use_device
        self.enabled = enabled
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.function_events: EventList | None = None
        self.entered = False

    def __enter__(self) -> profile:
        if not self.enabled:
            return self
        if self.entered:
            raise RuntimeError("Profiler context manager is not reentrant")
        _C._profiler_start(self.record_shapes, self.profile_memory, self._device_time)
        self.entered = True
        return self

    def __exit__(self, *exc: Any) -> None:
        if not self.enabled or not self.entered:
            return
        self.entered = False
        self.function_events = events_from_records(_C._profiler_stop())

    def _events(self) -> EventList:
        if self.function_events is None:
            raise RuntimeError("Profiler didn't finish running")
        return self.function_events

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0) -> EventList:
        """One row per op name (per name and input shapes with group_by_input_shape)."""
        return self._events().key_averages(group_by_input_shape, group_by_stack_n)

    def total_average(self) -> FunctionEventAvg:
        return self._events().total_average()

    def table(self, sort_by: str | None = None, row_limit: int = 100, **kwargs: Any) -> str:
        return self._events().table(sort_by=sort_by, row_limit=row_limit, **kwargs)

    def export_chrome_trace(self, path: str) -> None:
        self._events().export_chrome_trace(path)

    @property
    def self_cpu_time_total(self) -> float:
        return self._events().self_cpu_time_total

    def __str__(self) -> str:
        return self.table()


class record_function(contextlib.ContextDecorator):  # noqa: N801  (PyTorch's name)
    """A named range in the profile, around a block (``with record_function("data"):``) or a function
    (``@record_function("loss")``); nothing is recorded while no profiler runs."""

    def __init__(self, name: str, args: str | None = None) -> None:
        self.name = name
        self.args = args
        self._handles: list[int] = []

    def __enter__(self) -> record_function:
        self._handles.append(_C._record_function_enter(self.name))
        return self

    def __exit__(self, *exc: Any) -> None:
        handle = self._handles.pop()
        if handle >= 0:
            _C._record_function_exit(handle)


def profiled_method(label: Callable[[Any], str]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Wraps a method so that, while a profiler runs, each call is a range named label(self) (the
    optimizers' "Optimizer.step#SGD.step"); otherwise it costs one call to _C._profiler_enabled."""

    def wrap(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def profiled(self: Any, *args: Any, **kwargs: Any) -> Any:
            if not _C._profiler_enabled():
                return method(self, *args, **kwargs)
            with record_function(label(self)):
                return method(self, *args, **kwargs)

        profiled.__wrapped_for_profiler__ = True
        return profiled

    return wrap


class emit_nvtx(contextlib.ContextDecorator):  # noqa: N801  (PyTorch's name)
    """``torch.autograd.profiler.emit_nvtx``: PyTorch marks each op as an NVTX range for Nsight; ember's NVTX
    marks nothing (as ``ember.cuda.nvtx``), so the block runs unmarked. ``ember.profiler`` records the ops."""

    def __init__(self, enabled: bool = True, record_shapes: bool = False) -> None:
        self.enabled, self.record_shapes = enabled, record_shapes

    def __enter__(self) -> emit_nvtx:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None


class emit_itt(emit_nvtx):  # noqa: N801  (PyTorch's name)
    """``torch.autograd.profiler.emit_itt``: Intel VTune's ranges, which ember does not mark either."""
