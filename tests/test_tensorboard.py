"""ember.utils.tensorboard: a clear ImportError without the tensorboard package; with it,
the events PyTorch's SummaryWriter writes for the same calls."""

import importlib
import sys

import numpy as np
import pytest

import ember


def test_import_error_names_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # as if not installed
    monkeypatch.delitem(sys.modules, "ember.utils.tensorboard", raising=False)
    monkeypatch.delitem(sys.modules, "ember.utils.tensorboard.writer", raising=False)
    with pytest.raises(ImportError, match="pip install tensorboard"):
        importlib.import_module("ember.utils.tensorboard")


def read_events(log_dir):
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    events = {}
    for path in sorted(p for p in log_dir.rglob("events.out.tfevents.*")):
        run = str(path.parent.relative_to(log_dir))
        loaded = [e for e in EventFileLoader(str(path)).Load() if not e.HasField("file_version")]
        for e in loaded:
            e.wall_time = 0
        events[run] = [e.SerializeToString() for e in loaded]
    return events


def log_everything(writer_class, lib, log_dir):
    values = lib.from_numpy(np.random.default_rng(0).standard_normal(1000))
    with writer_class(log_dir) as w:
        for step in range(3):
            w.add_scalar("loss", lib.tensor(0.5 / (step + 1)), step)
            w.add_scalar("plain", 1.25 * step, global_step=step, new_style=True)
            w.add_scalars("group", {"a": step, "b": np.float32(2.0 * step)}, step, walltime=1.0)
        w.add_histogram("weights", values, 7)
        w.add_histogram("auto", values, 8, bins="auto")
        w.add_histogram("few", values, 9, bins=30, max_bins=7)
        w.add_text("notes", "**hello** ✓", 3)


def test_events_match_pytorch(tmp_path):
    pytest.importorskip("tensorboard")
    torch = pytest.importorskip("torch")
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    from ember.utils.tensorboard import SummaryWriter

    log_everything(SummaryWriter, ember, tmp_path / "ember")
    log_everything(TorchWriter, torch, tmp_path / "torch")
    ours, theirs = read_events(tmp_path / "ember"), read_events(tmp_path / "torch")
    assert sorted(ours) == sorted(theirs) == [".", "group_a", "group_b"]
    for run in ours:
        assert ours[run] == theirs[run], run


def test_writer_basics(tmp_path, monkeypatch):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    from ember.utils.tensorboard import SummaryWriter

    monkeypatch.chdir(tmp_path)
    w = SummaryWriter(comment="_trial", purge_step=5)
    assert w.get_logdir().startswith("runs") and w.get_logdir().endswith("_trial")
    w.add_scalar("x", ember.tensor([2.5]), 5)
    w.flush()
    w.close()
    w.add_scalar("x", 3.0, 6)  # a closed writer opens a new file
    w.close()
    (first, *_), *_ = [sorted((tmp_path / w.get_logdir()).glob("events.*"))]
    events = [e for e in EventFileLoader(str(first)).Load() if not e.HasField("file_version")]
    assert events[0].session_log.status == events[0].session_log.START and events[0].step == 5
    assert events[-1].summary.value[0].tensor.float_val == [2.5]  # the loader turns simple_value into a tensor
    with pytest.raises(ValueError, match="0D"):
        SummaryWriter(tmp_path / "bad").add_scalar("x", ember.ones(2))
    with pytest.raises(ValueError, match="empty"):
        SummaryWriter(tmp_path / "bad").add_histogram("h", ember.ones(0))
