"""The profiler's events and their summaries, as torch.autograd.profiler_util: FunctionEvent, EventList
(key_averages, table, export_chrome_trace) and FunctionEventAvg.

The events come from C++ (Note [Profiler events]) as flat records per thread; here they become a tree by
time nesting on each thread, which gives each event its self time (its own, without its children's) and
its total memory (its own allocations and its children's).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

__all__ = ["EventList", "FunctionEvent", "FunctionEventAvg", "Interval"]

KINDS = ("cpu_op", "backward", "user_annotation")

# PyTorch's names of ember's operator methods, as its profiler shows them (aten::mul for `a * b`).
_OPERATOR_NAMES = {
    "__add__": "add", "__radd__": "add", "__iadd__": "add_", "__sub__": "sub", "__rsub__": "rsub",
    "__isub__": "sub_", "__mul__": "mul", "__rmul__": "mul", "__imul__": "mul_", "__truediv__": "div",
    "__rtruediv__": "div", "__itruediv__": "div_", "__floordiv__": "floor_divide", "__rfloordiv__": "floor_divide",
    "__ifloordiv__": "floor_divide_", "__mod__": "remainder", "__rmod__": "remainder", "__imod__": "remainder_",
    "__pow__": "pow", "__rpow__": "pow", "__ipow__": "pow_", "__matmul__": "matmul", "__rmatmul__": "matmul",
    "__neg__": "neg", "__abs__": "abs", "__invert__": "bitwise_not", "__and__": "bitwise_and",
    "__rand__": "bitwise_and", "__iand__": "bitwise_and_", "__or__": "bitwise_or", "__ror__": "bitwise_or",
    "__ior__": "bitwise_or_", "__xor__": "bitwise_xor", "__rxor__": "bitwise_xor", "__ixor__": "bitwise_xor_",
    "__lshift__": "bitwise_left_shift", "__rshift__": "bitwise_right_shift", "__eq__": "eq", "__ne__": "ne",
    "__lt__": "lt", "__le__": "le", "__gt__": "gt", "__ge__": "ge", "__getitem__": "index",
    "__setitem__": "index_put_",
}  # fmt: skip


def op_name(registry_name: str) -> str:
    """PyTorch's profiler name of an ember op: aten::<name> (aten::add_, aten::_safe_softmax as PyTorch names them;
    an operator method without an entry above loses its dunder underscores)."""
    dunder = registry_name.startswith("__") and registry_name.endswith("__") and len(registry_name) > 4
    return "aten::" + _OPERATOR_NAMES.get(registry_name, registry_name[2:-2] if dunder else registry_name)


class Interval:
    """[start, end] in microseconds."""

    def __init__(self, start: float, end: float) -> None:
        self.start, self.end = start, end

    def elapsed_us(self) -> float:
        return self.end - self.start


class _CudaMemoryNames:
    """PyTorch's older names of the device memory counts and times."""

    @property
    def cuda_memory_usage(self) -> int:
        return self.device_memory_usage

    @property
    def self_cuda_memory_usage(self) -> int:
        return self.self_device_memory_usage

    @property
    def cuda_time_total(self) -> float:
        return self.device_time_total

    @property
    def self_cuda_time_total(self) -> float:
        return self.self_device_time_total

    @property
    def device_time(self) -> float:
        return self.device_time_total / self.count if self.count else 0.0

    @property
    def cuda_time(self) -> float:
        return self.device_time


class FunctionEvent(_CudaMemoryNames):
    """One recorded op, backward node or user range: name, thread, time_range (us), input_shapes, its
    children on the same thread (cpu_children), cpu_time_total and self_cpu_time_total (us), and
    cpu_memory_usage / self_cpu_memory_usage (bytes of host memory) and device_memory_usage /
    self_device_memory_usage (of CUDA memory; also named cuda_memory_usage) when memory was profiled;
    device_time_total / self_device_time_total (us of GPU time, also named cuda_time_total) with the CUDA
    activity (Note [Profiler device time]): the event's own, or its children's on the GPU."""

    def __init__(self, id: int, name: str, kind: str, thread: int, start_us: float, end_us: float,  # noqa: A002
                 self_bytes: int, input_shapes: list[list[int]], self_device_bytes: int = 0,
                 device_us: float | None = None, device_index: int = -1) -> None:  # fmt: skip
        self.id = id
        self.name = name
        self.kind = kind
        self.thread = thread
        self.time_range = Interval(start_us, end_us)
        self.input_shapes = input_shapes
        self.self_cpu_memory_usage = self_bytes
        self.self_device_memory_usage = self_device_bytes
        self.cpu_children: list[FunctionEvent] = []
        self.cpu_parent: FunctionEvent | None = None
        self.count = 1
        self.device_type = "CPU"
        self.device_index = device_index  # the GPU its device time was measured on (-1: none)
        self._device_us = device_us
        self.device_timed = device_us is not None
        self.is_async = False

    @property
    def key(self) -> str:
        return self.name

    @property
    def cpu_time_total(self) -> float:
        return self.time_range.elapsed_us()

    @property
    def self_cpu_time_total(self) -> float:
        return self.cpu_time_total - sum(c.cpu_time_total for c in self.cpu_children)

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total

    @property
    def cpu_memory_usage(self) -> int:
        return self.self_cpu_memory_usage + sum(c.cpu_memory_usage for c in self.cpu_children)

    @property
    def device_memory_usage(self) -> int:
        return self.self_device_memory_usage + sum(c.device_memory_usage for c in self.cpu_children)

    @property
    def device_time_total(self) -> float:
        """The GPU time between the event's marks on its device, or, unmarked, its children's."""
        if self._device_us is not None:
            return self._device_us
        return sum(c.device_time_total for c in self.cpu_children)

    @property
    def self_device_time_total(self) -> float:
        if self._device_us is None:
            return 0.0
        return max(self._device_us - sum(c.device_time_total for c in self.cpu_children), 0.0)

    def __repr__(self) -> str:
        return (f"<FunctionEvent id={self.id} name={self.name} thread={self.thread} cpu_time_total="
                f"{_format_time(self.cpu_time_total)} self_cpu_time_total={_format_time(self.self_cpu_time_total)} "
                f"input_shapes={self.input_shapes} cpu_memory_usage={self.cpu_memory_usage}>")  # fmt: skip


class FunctionEventAvg(_CudaMemoryNames):
    """The events of one key (a name, or a name and input shapes) added up: count, cpu_time_total,
    self_cpu_time_total, cpu_time (the average), cpu_memory_usage, self_cpu_memory_usage."""

    def __init__(self, key: str, input_shapes: Any = None) -> None:
        self.key = key
        self.input_shapes = input_shapes
        self.count = 0
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0
        self.cpu_memory_usage = 0
        self.self_cpu_memory_usage = 0
        self.device_memory_usage = 0
        self.self_device_memory_usage = 0
        self.device_time_total = 0.0
        self.self_device_time_total = 0.0
        self.device_timed = False

    def add(self, event: FunctionEvent | FunctionEventAvg) -> FunctionEventAvg:
        self.count += event.count
        self.cpu_time_total += event.cpu_time_total
        self.self_cpu_time_total += event.self_cpu_time_total
        self.cpu_memory_usage += event.cpu_memory_usage
        self.self_cpu_memory_usage += event.self_cpu_memory_usage
        self.device_memory_usage += event.device_memory_usage
        self.self_device_memory_usage += event.self_device_memory_usage
        self.device_time_total += event.device_time_total
        self.self_device_time_total += event.self_device_time_total
        self.device_timed |= event.device_timed
        return self

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total / self.count if self.count else 0.0

    def __repr__(self) -> str:
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={_format_time(self.self_cpu_time_total)} "
                f"cpu_time={_format_time(self.cpu_time)} count={self.count} "
                f"input_shapes={self.input_shapes}>")  # fmt: skip


def events_from_records(records: Iterable[tuple]) -> EventList:
    """FunctionEvents from the C++ records (name, kind, thread, start_ns, end_ns, self_bytes, self_device_bytes,
    shapes, device_ns, device), each thread's nested by time; times in microseconds from the first event."""
    records = [r for r in records if r[0] != "GraphRoot"]  # the engine's entry node: not a computation
    origin = min((r[3] for r in records), default=0)
    events = []
    for i, (name, kind, thread, start, end, self_bytes, device_bytes, shapes, device_ns, device) in enumerate(records):
        label = op_name(name) if kind == 0 else name
        device_us = device_ns / 1e3 if device_ns >= 0 else None
        events.append(FunctionEvent(i, label, KINDS[kind], thread, (start - origin) / 1e3, (end - origin) / 1e3,
                                    self_bytes, [list(s) for s in shapes], device_bytes, device_us,
                                    device if device_us is not None else -1))  # fmt: skip
    by_thread: dict[int, list[FunctionEvent]] = {}
    for e in sorted(events, key=lambda e: (e.thread, e.time_range.start, -e.time_range.end)):
        stack = by_thread.setdefault(e.thread, [])
        while stack and stack[-1].time_range.end < e.time_range.end:
            stack.pop()
        if stack:
            e.cpu_parent = stack[-1]
            stack[-1].cpu_children.append(e)
        stack.append(e)
    return EventList(sorted(events, key=lambda e: (e.time_range.start, e.id)))


def warn_unrecorded(**options: Any) -> None:
    """One warning naming the profiler options that were asked for and that ember does not record (stacks,
    FLOPs, modules, devices other than the CPU): accepted, so PyTorch scripts run, but not silently."""
    asked = sorted(name for name, value in options.items() if value not in (None, False))
    if asked:
        import warnings

        warnings.warn(f"ember's profiler does not record {', '.join(asked)}: ignored", UserWarning, stacklevel=3)


def _format_time(us: float) -> str:
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


def _format_memory(nbytes: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if abs(nbytes) >= size:
            return f"{nbytes / size:.2f} {unit}"
    return f"{nbytes} B"


_SORT_KEYS = {
    "cpu_time", "cpu_time_total", "self_cpu_time_total", "count", "cpu_memory_usage", "self_cpu_memory_usage",
    "device_memory_usage", "self_device_memory_usage", "cuda_memory_usage", "self_cuda_memory_usage",
    "device_time", "device_time_total", "self_device_time_total", "cuda_time", "cuda_time_total",
    "self_cuda_time_total",
}  # fmt: skip


class EventList(list):
    """A list of FunctionEvents (or, from key_averages, FunctionEventAvgs) with PyTorch's summaries."""

    def key_averages(self, group_by_input_shapes: bool = False, group_by_stack_n: int = 0) -> EventList:
        """One FunctionEventAvg per name (per name and input shapes with group_by_input_shapes), in the
        order the names first appear."""
        averages: dict[Any, FunctionEventAvg] = {}
        for e in self:
            key = (e.key, str(e.input_shapes)) if group_by_input_shapes else e.key
            if key not in averages:
                averages[key] = FunctionEventAvg(e.key, e.input_shapes if group_by_input_shapes else None)
            averages[key].add(e)
        return EventList(averages.values())

    def total_average(self) -> FunctionEventAvg:
        total = FunctionEventAvg("Total")
        for e in self:
            total.add(e)
        return total

    @property
    def self_cpu_time_total(self) -> float:
        return sum(e.self_cpu_time_total for e in self)

    @property
    def self_device_time_total(self) -> float:
        return sum(e.self_device_time_total for e in self)

    def table(self, sort_by: str | None = None, row_limit: int = 100, max_src_column_width: int = 75,
              max_name_column_width: int = 55, max_shapes_column_width: int = 80, header: str | None = None,
              top_level_events_only: bool = False) -> str:  # fmt: skip
        """PyTorch's table: Name, Self CPU %, Self CPU, CPU total %, CPU total, CPU time avg, the CUDA time
        columns when GPU time was recorded, the memory columns when memory was profiled, # of Calls, and Input
        Shapes when grouped by them."""
        rows = list(self)
        if top_level_events_only:
            rows = [e for e in rows if getattr(e, "cpu_parent", None) is None]
        if sort_by is not None:
            if sort_by not in _SORT_KEYS:
                raise AttributeError(f"table(sort_by={sort_by!r}): expected one of {sorted(_SORT_KEYS)}")
            rows.sort(key=lambda e: getattr(e, sort_by), reverse=True)
        rows = rows[:row_limit] if row_limit and row_limit > 0 else rows
        total_self = self.self_cpu_time_total or 1.0
        total_device = self.self_device_time_total
        with_memory = any(e.cpu_memory_usage or e.self_cpu_memory_usage for e in self)
        with_device_memory = any(e.device_memory_usage or e.self_device_memory_usage for e in self)
        with_shapes = any(getattr(e, "input_shapes", None) is not None for e in self) and isinstance(
            self[0] if self else None, FunctionEventAvg
        )
        name_width = min(max_name_column_width, max([len(e.key) for e in rows] + [4]))
        columns = [("Name", name_width, lambda e: _truncate(e.key, name_width))]
        columns += [
            ("Self CPU %", 12, lambda e: f"{100 * e.self_cpu_time_total / total_self:.2f}%"),
            ("Self CPU", 12, lambda e: _format_time(e.self_cpu_time_total)),
            ("CPU total %", 12, lambda e: f"{100 * e.cpu_time_total / total_self:.2f}%"),
            ("CPU total", 12, lambda e: _format_time(e.cpu_time_total)),
            ("CPU time avg", 12, lambda e: _format_time(e.cpu_time_total / max(e.count, 1))),
        ]
        if any(e.device_timed for e in self):
            columns += [("Self CUDA", 12, lambda e: _format_time(e.self_device_time_total)),
                        ("Self CUDA %", 12, lambda e: f"{100 * e.self_device_time_total / (total_device or 1.0):.2f}%"),
                        ("CUDA total", 12, lambda e: _format_time(e.device_time_total)),
                        ("CUDA time avg", 13, lambda e: _format_time(e.device_time))]  # fmt: skip
        if with_memory:
            columns += [("CPU Mem", 12, lambda e: _format_memory(e.cpu_memory_usage)),
                        ("Self CPU Mem", 12, lambda e: _format_memory(e.self_cpu_memory_usage))]  # fmt: skip
        if with_device_memory:
            columns += [("CUDA Mem", 12, lambda e: _format_memory(e.device_memory_usage)),
                        ("Self CUDA Mem", 13, lambda e: _format_memory(e.self_device_memory_usage))]  # fmt: skip
        columns.append(("# of Calls", 12, lambda e: str(e.count)))
        if with_shapes:
            columns.append(("Input Shapes", min(max_shapes_column_width, 28), lambda e: str(e.input_shapes)))
        line = "  ".join("-" * width for _, width, _ in columns) + "  "
        out = [header] if header else []
        out += [line, "  ".join(f"{title:>{width}}" for title, width, _ in columns) + "  ", line]
        for e in rows:
            out.append("  ".join(f"{cell(e):>{width}}" for _, width, cell in columns) + "  ")
        out += [line, f"Self CPU time total: {_format_time(self.self_cpu_time_total)}"]
        if any(c[0] == "Self CUDA" for c in columns):
            out.append(f"Self CUDA time total: {_format_time(total_device)}")
        out.append("")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.table()

    def export_chrome_trace(self, path: str) -> None:
        """Writes the Chrome trace-event JSON (chrome://tracing, Perfetto): one complete event ("ph": "X")
        per event, one track per thread, so backward nodes that ran in parallel show side by side."""
        trace = []
        for e in self:
            if not isinstance(e, FunctionEvent):
                raise TypeError("export_chrome_trace needs the events themselves, not key_averages()")
            entry = {"ph": "X", "cat": e.kind, "name": e.name, "pid": 0, "tid": e.thread,
                     "ts": e.time_range.start, "dur": e.time_range.elapsed_us(), "args": {}}  # fmt: skip
            if e.input_shapes:
                entry["args"]["Input Dims"] = e.input_shapes
            if e.self_cpu_memory_usage:
                entry["args"]["Self CPU Mem"] = e.self_cpu_memory_usage
            if e.self_device_memory_usage:
                entry["args"]["Self CUDA Mem"] = e.self_device_memory_usage
            trace.append(entry)
        threads = sorted({e.thread for e in self})
        names = [{"ph": "M", "name": "thread_name", "pid": 0, "tid": t,
                  "args": {"name": f"thread {t}"}} for t in threads]  # fmt: skip
        with open(path, "w") as f:
            json.dump({"traceEvents": names + trace, "displayTimeUnit": "ms"}, f)


def _truncate(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."
