"""ember.cuda.Stream and ember.cuda.Event, as torch.cuda's.

ember queues every kernel of a device on one stream (Note [CUDA backend]), so a ``Stream`` stands for that
stream: work in ``with ember.cuda.stream(s):`` runs on it in order, which is always a correct schedule of what
several streams would allow. Events record a point of that stream: ``synchronize``/``query`` wait for or ask
about the work before it, ``elapsed_time`` times the work between two of them (``enable_timing=True``).
``cuda_stream`` is the real ``cudaStream_t``, so other CUDA code (CuPy, a custom kernel) can queue its work
in order with ember's; ``ExternalStream`` wraps a stream of such code: inside ``with ember.cuda.stream(ext):``
ember's work runs after what was queued on ``ext`` before the block, and ``ext``'s later work after ember's."""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

from .. import _C
from ._devices import _device_index


class Event:
    """A point in a device's stream (made at the first ``record``, on the stream's device). ``blocking`` is
    kept: PyTorch's choice between spinning and sleeping while ``synchronize`` waits, which gives the same
    result either way."""

    def __init__(self, enable_timing: bool = False, blocking: bool = False, interprocess: bool = False) -> None:
        if interprocess:
            raise NotImplementedError("ember.cuda.Event: interprocess events are not supported by ember")
        self.enable_timing, self.blocking, self.interprocess = enable_timing, blocking, interprocess
        self._handle: int | None = None
        self._device: int | None = None

    def record(self, stream: Stream | None = None) -> None:
        """Marks the current point of ``stream`` (default: the current device's)."""
        device = stream.device_index if stream is not None else _device_index(None)
        if self._handle is None:
            self._handle, self._device = _C._cuda_event_create(device, self.enable_timing), device
        elif device != self._device:
            raise RuntimeError(
                f"Event device {self._device} does not match recording stream's device {device}."
            )  # PyTorch's words
        if isinstance(stream, ExternalStream):  # the point covers what was queued there too
            Stream(device).wait_stream(stream)
        _C._cuda_event_record(self._handle, device)

    def wait(self, stream: Stream | None = None) -> None:
        """Makes the work queued on ``stream`` (default: the current device's) from now on run after the work
        recorded before the event, on any device; the host does not wait."""
        if self._handle is not None:
            target = stream if stream is not None else Stream()
            _C._cuda_stream_wait_event(target.cuda_stream, self._handle)

    def query(self) -> bool:
        """Whether the work recorded before the event has run (True for an event never recorded)."""
        return self._handle is None or _C._cuda_event_query(self._handle)

    def synchronize(self) -> None:
        """Waits for the work recorded before the event."""
        if self._handle is not None:
            _C._cuda_event_synchronize(self._handle)

    def elapsed_time(self, end_event: Event) -> float:
        """Milliseconds from this event's record to ``end_event``'s (both recorded, with enable_timing)."""
        if not (self.enable_timing and end_event.enable_timing):
            raise RuntimeError("Both events must be created with argument 'enable_timing=True'.")
        if self._handle is None or end_event._handle is None:
            raise RuntimeError("Both events must be recorded before calculating elapsed time.")
        return _C._cuda_event_elapsed_ms(self._handle, end_event._handle)

    def ipc_handle(self) -> Any:
        raise NotImplementedError("ember.cuda.Event: interprocess events are not supported by ember")

    def __del__(self) -> None:
        if getattr(self, "_handle", None) is not None:
            with contextlib.suppress(Exception):  # at interpreter exit the module may be gone
                _C._cuda_event_destroy(self._handle)

    def __repr__(self) -> str:
        return f"<ember.cuda.Event {'uninitialized' if self._handle is None else hex(self._handle)}>"


class Stream:
    """A device's stream (ember runs each device's work on one, in order). ``priority`` is kept and
    reported; with one stream per device there is nothing to order by it. PyTorch's keywords for a stream
    rebuilt from its parts (``stream_id``, ``device_index``, ``device_type``) name that same stream."""

    def __init__(self, device: Any = None, priority: int = 0, **kwargs: Any) -> None:
        unknown = set(kwargs) - {"stream_id", "device_index", "device_type"}
        if unknown:
            raise TypeError(f"Stream() got an unexpected keyword argument '{sorted(unknown)[0]}'")
        if kwargs.get("device_type", 1) not in (1, "cuda"):  # 1: c10's DeviceType::CUDA
            raise ValueError(f"Stream(): expected a CUDA stream, got device_type={kwargs['device_type']}")
        self.device_index = _device_index(kwargs.get("device_index", device))
        self.priority = priority

    @property
    def device(self) -> _C.device:
        return _C.device("cuda", self.device_index)

    @property
    def cuda_stream(self) -> int:
        """The ``cudaStream_t`` ember queues the device's work on, as an integer."""
        return _C._cuda_stream_handle(self.device_index)

    def synchronize(self) -> None:
        """Waits for the work queued on the stream."""
        _C._cuda_synchronize(self.device_index)

    def query(self) -> bool:
        """Whether the work queued on the stream has run."""
        event = Event()
        event.record(self)
        return event.query()

    def wait_event(self, event: Event) -> None:
        event.wait(self)

    def wait_stream(self, stream: Stream) -> None:
        """Work queued here after this call runs after the work queued on ``stream`` so far (no host wait)."""
        _C._cuda_stream_wait_stream(self.cuda_stream, stream.cuda_stream, stream.device_index)

    def record_event(self, event: Event | None = None) -> Event:
        event = event if event is not None else Event()
        event.record(self)
        return event

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Stream) and (other.device_index, other.cuda_stream) == (
            self.device_index,
            self.cuda_stream,
        )

    def __hash__(self) -> int:
        return hash(("ember.cuda.Stream", self.device_index, self.cuda_stream))

    def __repr__(self) -> str:
        return f"<ember.cuda.{type(self).__name__} device=cuda:{self.device_index} cuda_stream={self.cuda_stream:#x}>"


class ExternalStream(Stream):
    """A stream made by other CUDA code (``stream_ptr``: its ``cudaStream_t`` as an integer) on ``device``.
    ember's work inside ``with ember.cuda.stream(ext):`` still runs on ember's stream, ordered after the work
    queued on ``ext`` before the block; work queued on ``ext`` after the block runs after ember's."""

    def __init__(self, stream_ptr: int, device: Any = None) -> None:
        if not isinstance(stream_ptr, int):
            raise TypeError(
                f"ExternalStream(): stream_ptr must be an int (a cudaStream_t), got {type(stream_ptr).__name__}"
            )
        super().__init__(device)
        self._stream_ptr = stream_ptr

    @property
    def cuda_stream(self) -> int:
        return self._stream_ptr


def current_stream(device: Any = None) -> Stream:
    """The stream ember queues ``device``'s work on (the current device's by default)."""
    return Stream(device)


default_stream = current_stream


def set_stream(stream: Stream | None) -> None:
    """Makes ``stream``'s device current (its work goes on that device's one stream)."""
    if stream is not None:
        _C._cuda_set_device(stream.device_index)


@contextlib.contextmanager
def stream(stream: Stream | None) -> Iterator[None]:
    """``with ember.cuda.stream(s):`` runs the block on ``s``'s device (and so on its stream)."""
    if stream is None:
        yield
        return
    from . import current_device

    before = current_device()
    _C._cuda_set_device(stream.device_index)
    external = isinstance(stream, ExternalStream)
    if external:  # ember's work in the block runs after what was queued there
        Stream(stream.device_index).wait_stream(stream)
    try:
        yield
    finally:
        if external:  # and the stream's later work after ember's
            stream.wait_stream(Stream(stream.device_index))
        _C._cuda_set_device(before)


StreamContext = stream
