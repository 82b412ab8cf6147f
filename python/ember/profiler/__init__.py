"""ember.profiler: where the time of a training step goes, with torch.profiler's API.

    from ember.profiler import profile, record_function, ProfilerActivity, schedule
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        train_step()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=10))
    prof.export_chrome_trace("trace.json")      # chrome://tracing or ui.perfetto.dev

Events are recorded in C++ (Note [Profiler events]): every op called from Python as aten::<name>, every
backward node with the executor thread that ran it (parallel branches show side by side in the trace),
record_function ranges, optimizer steps (Optimizer.step#SGD.step).
"""

from __future__ import annotations

import enum
import os
import socket
import time
import warnings
from typing import Any, Callable, Iterable

from .. import _C
from ..autograd.profiler import record_function
from ..autograd.profiler_util import EventList, events_from_records, warn_unrecorded

__all__ = [
    "DeviceType",
    "ProfilerAction",
    "ProfilerActivity",
    "profile",
    "record_function",
    "schedule",
    "supported_activities",
    "kineto_available",
    "tensorboard_trace_handler",
]


class ProfilerActivity(enum.Enum):
    """What to record: CPU (ember's ops and nodes) and, where a GPU is, CUDA (the GPU time of the ops and nodes
    that run there: Note [Profiler device time]); the other device activities are accepted and record nothing."""

    CPU = 0
    XPU = 1
    MTIA = 2
    CUDA = 3
    HPU = 4
    PrivateUse1 = 5


def supported_activities() -> set[ProfilerActivity]:
    """The activities ember records here: the CPU's, and CUDA's where a GPU is available."""
    from .. import cuda

    return {ProfilerActivity.CPU, ProfilerActivity.CUDA} if cuda.is_available() else {ProfilerActivity.CPU}


class DeviceType(enum.Enum):
    """The device an event ran on; ember's events are all CPU."""

    CPU = 0
    CUDA = 1


def kineto_available() -> bool:
    """False: ember records its events itself, without PyTorch's Kineto library."""
    return False


class ProfilerAction(enum.Enum):
    """What a schedule says about a step."""

    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0,
             skip_first_wait: int = 0) -> Callable[[int], ProfilerAction]:  # fmt: skip
    """Steps to skip_first, then cycles of `wait` idle steps, `warmup` steps and `active` recorded ones (the
    last of which saves: on_trace_ready runs), `repeat` times (0: forever), as torch.profiler.schedule.
    skip_first_wait skips the wait of the first cycle."""
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results", stacklevel=2)
    if active <= 0 or wait < 0 or warmup < 0 or skip_first < 0:
        raise ValueError("Invalid profiler schedule arguments")

    def action(step: int) -> ProfilerAction:
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait:
            step += wait
        cycle = wait + warmup + active
        if repeat > 0 and step // cycle >= repeat:
            return ProfilerAction.NONE
        position = step % cycle
        if position < wait:
            return ProfilerAction.NONE
        if position < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if position < cycle - 1 else ProfilerAction.RECORD_AND_SAVE

    return action


def _always_record(step: int) -> ProfilerAction:
    return ProfilerAction.RECORD


_RECORDING = (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)


class profile:  # noqa: N801  (PyTorch's name)
    """A profiling session: as a context manager, or start()/stop(); with a schedule, prof.step() after each
    training step moves it on, and on_trace_ready(prof) runs at the end of each recorded cycle (and at stop,
    for what was recorded). Only one runs at a time (RuntimeError otherwise)."""

    def __init__(self, *, activities: Iterable[ProfilerActivity] | None = None,
                 schedule: Callable[[int], ProfilerAction] | None = None,
                 on_trace_ready: Callable[[profile], Any] | None = None, record_shapes: bool = False,
                 profile_memory: bool = False, with_stack: bool = False, with_flops: bool = False,
                 with_modules: bool = False, experimental_config: Any = None,
                 execution_trace_observer: Any = None, acc_events: bool = False, use_cuda: bool | None = None,
                 custom_trace_id_callback: Any = None) -> None:  # fmt: skip
        self.activities = set(activities) if activities is not None else supported_activities()
        if use_cuda is not None:  # PyTorch's deprecated switch of the CUDA activity
            warnings.warn("`use_cuda` is deprecated, use `activities` argument instead", FutureWarning, stacklevel=2)
            self.activities = (
                self.activities | {ProfilerActivity.CUDA} if use_cuda else self.activities - {ProfilerActivity.CUDA}
            )
        if not self.activities:
            raise AssertionError("No valid profiler activities found")
        if self.activities - supported_activities():
            warnings.warn(
                "ember.profiler records the CPU activity, and CUDA's where a GPU is; the other activities record "
                "nothing",
                stacklevel=2,
            )
        self._device_time = ProfilerActivity.CUDA in self.activities & supported_activities()
        warn_unrecorded(with_stack=with_stack, with_flops=with_flops, with_modules=with_modules,
                        experimental_config=experimental_config,
                        execution_trace_observer=execution_trace_observer, acc_events=acc_events,
                        custom_trace_id_callback=custom_trace_id_callback)  # fmt: skip
        self.schedule = schedule or _always_record
        self.on_trace_ready = on_trace_ready
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.step_num = 0
        self.current_action = ProfilerAction.NONE
        self._recording = False
        self._events: EventList | None = None

    def __enter__(self) -> profile:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def start(self) -> None:
        self.current_action = self.schedule(self.step_num)
        self._transition(ProfilerAction.NONE, self.current_action)

    def stop(self) -> None:
        if self._recording:
            self._collect()
            if self.on_trace_ready is not None:
                self.on_trace_ready(self)
        self.current_action = ProfilerAction.NONE

    def step(self) -> None:
        """Marks the end of a training step: the schedule decides whether the next one is recorded."""
        previous = self.current_action
        self.step_num += 1
        self.current_action = self.schedule(self.step_num)
        self._transition(previous, self.current_action)

    def _transition(self, previous: ProfilerAction, current: ProfilerAction) -> None:
        if previous == ProfilerAction.RECORD_AND_SAVE or (previous in _RECORDING and current not in _RECORDING):
            if self._recording:
                self._collect()
                if previous == ProfilerAction.RECORD_AND_SAVE and self.on_trace_ready is not None:
                    self.on_trace_ready(self)
        if current in _RECORDING and not self._recording:
            _C._profiler_start(self.record_shapes, self.profile_memory, self._device_time)
            self._recording = True

    def _collect(self) -> None:
        self._recording = False
        self._events = events_from_records(_C._profiler_stop())

    def events(self) -> EventList:
        """Every recorded event of the last recorded cycle."""
        if self._events is None:
            raise RuntimeError("the profiler has recorded nothing yet (no recorded step has finished)")
        return self._events

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:  # fmt: skip
        """One row per name (per name and input shapes with group_by_input_shape): .table() prints it."""
        return self.events().key_averages(group_by_input_shape, group_by_stack_n)

    def export_chrome_trace(self, path: str) -> None:
        """The events as Chrome trace-event JSON (chrome://tracing, ui.perfetto.dev), a track per thread."""
        self.events().export_chrome_trace(path)

    def export_stacks(self, path: str, metric: str = "self_cpu_time_total") -> None:
        raise NotImplementedError("export_stacks needs with_stack, which ember does not record")


def tensorboard_trace_handler(dir_name: str, worker_name: str | None = None, use_gzip: bool = False) -> Callable:
    """An on_trace_ready that writes each trace to dir_name/<worker>.<time>.pt.trace.json[.gz], the files
    TensorBoard's profiler plugin reads (writing them needs no TensorBoard)."""

    def handler(prof: profile) -> None:
        os.makedirs(dir_name, exist_ok=True)
        worker = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        path = os.path.join(dir_name, f"{worker}.{int(time.time() * 1000)}.pt.trace.json")
        prof.export_chrome_trace(path)
        if use_gzip:
            import gzip

            with open(path, "rb") as f, gzip.open(path + ".gz", "wb") as g:
                g.write(f.read())
            os.remove(path)

    return handler
