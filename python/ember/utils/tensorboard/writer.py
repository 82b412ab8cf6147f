"""``SummaryWriter`` and ``FileWriter``: event files for TensorBoard, written with the
``tensorboard`` package's ``EventFileWriter`` and protocol buffers, in the records
``torch.utils.tensorboard`` writes (scalars, scalar groups, histograms, text)."""

from __future__ import annotations

import os
import socket
import time
from datetime import datetime
from typing import Any

import numpy as np
from tensorboard.compat.proto.event_pb2 import Event, SessionLog
from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary, SummaryMetadata
from tensorboard.compat.proto.tensor_pb2 import TensorProto
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.plugins.text.plugin_data_pb2 import TextPluginData
from tensorboard.summary.writer.event_file_writer import EventFileWriter

__all__ = ["FileWriter", "SummaryWriter"]


def _to_numpy(value: Any) -> np.ndarray:
    """Tensors, numpy arrays and Python numbers as a numpy array."""
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # an ember (or torch) tensor
        return np.asarray(value.detach().cpu().numpy())
    return np.asarray(value)


def _to_float(value: Any) -> float:
    arr = _to_numpy(value)
    if arr.size != 1:
        raise ValueError(f"scalar should be 0D, got a value of shape {tuple(arr.shape)}")
    return float(arr.reshape(()))


class FileWriter:
    """Writes Event protocol buffers to one event file in ``log_dir`` (asynchronously, as tensorboard's)."""

    def __init__(self, log_dir: str, max_queue: int = 10, flush_secs: int = 120, filename_suffix: str = "") -> None:
        self.event_writer = EventFileWriter(str(log_dir), max_queue, flush_secs, filename_suffix)

    def get_logdir(self) -> str:
        """The directory the event file is in."""
        return self.event_writer.get_logdir()

    def add_event(self, event: Event, step: int | None = None, walltime: float | None = None) -> None:
        """Write ``event``, stamped with ``walltime`` (now by default) and ``step``."""
        event.wall_time = time.time() if walltime is None else walltime
        if step is not None:
            event.step = int(step)
        self.event_writer.add_event(event)

    def add_summary(self, summary: Summary, global_step: int | None = None, walltime: float | None = None) -> None:
        """Write a Summary protocol buffer as an event."""
        self.add_event(Event(summary=summary), global_step, walltime)

    def flush(self) -> None:
        """Write what is queued to disk."""
        self.event_writer.flush()

    def close(self) -> None:
        """Flush and close the event file."""
        self.event_writer.close()

    def reopen(self) -> None:
        """Reopen after ``close`` (a new event file in the same directory)."""
        self.event_writer.reopen()


def _tensorflow_bins() -> list[float]:
    """TensorFlow's default histogram edges: +-1e-12 growing by 10% to +-1e20, and 0."""
    positive = []
    v = 1e-12
    while v < 1e20:
        positive.append(v)
        v *= 1.1
    return [-x for x in reversed(positive)] + [0.0] + positive


def _histogram(values: Any, bins: Any, max_bins: int | None) -> HistogramProto:
    values = _to_numpy(values).astype(np.float64).reshape(-1)
    if values.size == 0:
        raise ValueError("The histogram is empty: values has no elements")
    counts, edges = np.histogram(values, bins=_tensorflow_bins() if bins == "tensorflow" else bins)
    if max_bins is not None and len(counts) > max_bins:  # merge groups of neighbouring buckets, as PyTorch
        group = len(counts) // max_bins
        padded = np.pad(counts, (0, -len(counts) % group))
        counts = padded.reshape(-1, group).sum(axis=1)
        edges = np.append(edges[:-1:group], edges[-1])
    nonzero = np.flatnonzero(counts)
    first, last = int(nonzero[0]), int(nonzero[-1]) + 1
    # bucket i counts the values up to bucket_limit[i]; the first bucket (up to the lowest edge) is empty
    return HistogramProto(
        min=float(values.min()),
        max=float(values.max()),
        num=int(values.size),
        sum=float(values.sum()),
        sum_squares=float(values.dot(values)),
        bucket_limit=edges[first : last + 1].tolist(),
        bucket=[0.0] + counts[first:last].astype(np.float64).tolist(),
    )


class SummaryWriter:
    """Writes TensorBoard event files to ``log_dir``, as ``torch.utils.tensorboard.SummaryWriter``.

    ``log_dir`` defaults to ``runs/<month><day>_<time>_<host><comment>``.
    Values may be ember tensors, numpy arrays or Python numbers.  Supported:
    ``add_scalar``, ``add_scalars``, ``add_histogram``, ``add_text``,
    ``flush``, ``close`` and use as a context manager.
    """

    def __init__(
        self,
        log_dir: str | os.PathLike | None = None,
        comment: str = "",
        purge_step: int | None = None,
        max_queue: int = 10,
        flush_secs: int = 120,
        filename_suffix: str = "",
    ) -> None:
        if not log_dir:
            now = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", now + "_" + socket.gethostname() + comment)
        self.log_dir = os.fspath(log_dir)
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self.file_writer: FileWriter | None = None
        self.all_writers: dict[str, FileWriter] | None = None
        self._get_file_writer()

    def _get_file_writer(self) -> FileWriter:
        if self.all_writers is None or self.file_writer is None:
            self.file_writer = FileWriter(self.log_dir, self.max_queue, self.flush_secs, self.filename_suffix)
            self.all_writers = {self.file_writer.get_logdir(): self.file_writer}
            if self.purge_step is not None:  # tells TensorBoard to drop the events from this step on
                step = self.purge_step
                self.file_writer.add_event(Event(step=step, file_version="brain.Event:2"))
                self.file_writer.add_event(Event(step=step, session_log=SessionLog(status=SessionLog.START)))
                self.purge_step = None
        return self.file_writer

    def get_logdir(self) -> str:
        """The directory the events are written to."""
        return self.log_dir

    def add_scalar(
        self,
        tag: str,
        scalar_value: Any,
        global_step: int | None = None,
        walltime: float | None = None,
        new_style: bool = False,
        double_precision: bool = False,
    ) -> None:
        """Log one number (a Python number, or a one-element tensor or array) under ``tag``."""
        value = _to_float(scalar_value)
        if new_style:
            metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"))
            if double_precision:
                tensor = TensorProto(double_val=[value], dtype="DT_DOUBLE")
            else:
                tensor = TensorProto(float_val=[value], dtype="DT_FLOAT")
            summary_value = Summary.Value(tag=tag, tensor=tensor, metadata=metadata)
        else:
            summary_value = Summary.Value(tag=tag, simple_value=value)
        self._get_file_writer().add_summary(Summary(value=[summary_value]), global_step, walltime)

    def add_scalars(
        self,
        main_tag: str,
        tag_scalar_dict: dict[str, Any],
        global_step: int | None = None,
        walltime: float | None = None,
    ) -> None:
        """Log several numbers on one chart: each in its own run ``<log_dir>/<main_tag>_<tag>``, as PyTorch."""
        walltime = time.time() if walltime is None else walltime
        logdir = self._get_file_writer().get_logdir()
        for tag, value in tag_scalar_dict.items():
            run = logdir + "/" + main_tag.replace("/", "_") + "_" + tag
            writer = self.all_writers.get(run)
            if writer is None:
                writer = FileWriter(run, self.max_queue, self.flush_secs, self.filename_suffix)
                self.all_writers[run] = writer
            summary = Summary(value=[Summary.Value(tag=main_tag, simple_value=_to_float(value))])
            writer.add_summary(summary, global_step, walltime)

    def add_histogram(
        self,
        tag: str,
        values: Any,
        global_step: int | None = None,
        bins: Any = "tensorflow",
        walltime: float | None = None,
        max_bins: int | None = None,
    ) -> None:
        """Log the distribution of ``values``; ``bins`` is ``"tensorflow"`` or anything ``numpy.histogram`` takes."""
        summary = Summary(value=[Summary.Value(tag=tag, histo=_histogram(values, bins, max_bins))])
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_text(
        self, tag: str, text_string: str, global_step: int | None = None, walltime: float | None = None
    ) -> None:
        """Log text (Markdown) under ``tag``."""
        plugin = SummaryMetadata.PluginData(plugin_name="text", content=TextPluginData(version=0).SerializeToString())
        tensor = TensorProto(
            dtype="DT_STRING",
            string_val=[text_string.encode("utf_8")],
            tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=1)]),
        )
        value = Summary.Value(tag=tag + "/text_summary", metadata=SummaryMetadata(plugin_data=plugin), tensor=tensor)
        self._get_file_writer().add_summary(Summary(value=[value]), global_step, walltime)

    def flush(self) -> None:
        """Write every pending event to disk."""
        for writer in (self.all_writers or {}).values():
            writer.flush()

    def close(self) -> None:
        """Flush and close every event file; a later ``add_*`` opens new ones."""
        for writer in (self.all_writers or {}).values():
            writer.flush()
            writer.close()
        self.file_writer = self.all_writers = None

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
