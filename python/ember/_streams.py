"""``ember.Stream`` and ``ember.Event``: PyTorch's device-generic streams and events. On a CUDA device they
are ember.cuda's (one stream per device, Note [Device threads]); on the CPU, where work runs in order as it
is called, a stream has nothing queued (``query()`` is True, ``synchronize`` returns at once) and an event
is complete once recorded, as PyTorch's CPU stream and event behave."""

from __future__ import annotations

from typing import Any

from . import _C

__all__ = ["Event", "Stream"]


def _device_of(device: Any, what: str) -> _C.device:
    """The device a stream or event is made for: the current accelerator's by default, else the CPU."""
    if device is None:
        from . import accelerator

        current = accelerator.current_accelerator()
        where = _C.device("cpu") if current is None else current
    else:
        where = _C.device(f"cuda:{device}") if isinstance(device, int) else _C.device(device)
    if where.type not in ("cpu", "cuda"):
        raise RuntimeError(f"ember.{what}: no {what.lower()}s on {where.type} devices")
    return where


class Stream:
    """A stream of ``device`` (the current accelerator's, else the CPU's)."""

    def __new__(cls, device: Any = None, priority: int = 0, **kwargs: Any) -> Any:
        where = _device_of(device, "Stream")
        if where.type == "cuda":
            from .cuda import Stream as CudaStream

            return CudaStream(where, priority)
        stream = super().__new__(cls)
        stream.device, stream.priority = where, priority
        return stream

    device_type = property(lambda self: self.device.type)
    device_index = property(lambda self: -1)
    stream_id = property(lambda self: 0)

    def query(self) -> bool:
        return True

    def synchronize(self) -> None:
        return None

    def wait_event(self, event: Event) -> None:
        return None

    def wait_stream(self, stream: Stream) -> None:
        return None

    def record_event(self, event: Event | None = None) -> Event:
        event = Event() if event is None else event
        event.record(self)
        return event

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Stream) and other.device == self.device

    def __hash__(self) -> int:
        return hash(("ember.Stream", str(self.device)))

    def __repr__(self) -> str:
        return f"ember.Stream device_type={self.device_type}, device_index=-1, stream_id=0"


class Event:
    """An event of ``device`` (the current accelerator's, else the CPU's)."""

    def __new__(cls, device: Any = None, *, enable_timing: bool = False, blocking: bool = False,
                interprocess: bool = False) -> Any:  # fmt: skip
        where = _device_of(device, "Event")
        if where.type == "cuda":
            from .cuda import Event as CudaEvent

            return CudaEvent(enable_timing=enable_timing, blocking=blocking, interprocess=interprocess)
        event = super().__new__(cls)
        event.device, event._recorded = where, False
        return event

    device_type = property(lambda self: self.device.type)

    def record(self, stream: Any = None) -> None:
        self._recorded = True

    def wait(self, stream: Any = None) -> None:
        return None

    def query(self) -> bool:
        return True

    def synchronize(self) -> None:
        return None

    def elapsed_time(self, end_event: Event) -> float:
        raise RuntimeError("elapsed_time: CPU events record no time; use time.perf_counter")

    def __repr__(self) -> str:
        return f"ember.Event device_type={self.device_type}, device_index=-1, event_flag=0, event_id=0"
