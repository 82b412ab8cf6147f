"""The examples, shortened, as tests: they must train to the accuracy their docs state."""

import importlib.util
import json
import pathlib

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def load_example(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_linear_regression_learns_the_line():
    w, b = load_example("linear_regression").main(epochs=100, verbose=False)
    assert abs(w - 2.0) < 0.05 and abs(b - 1.0) < 0.05


def test_digits_mlp_reaches_95_percent():
    pytest.importorskip("sklearn")
    pytest.importorskip("tqdm")
    assert load_example("digits_mlp").main("mlp", epochs=5, progress=False) >= 0.95


def test_digits_cnn_reaches_97_percent():
    pytest.importorskip("sklearn")
    pytest.importorskip("tqdm")
    assert load_example("digits_mlp").main("cnn", epochs=8, progress=False) >= 0.97


def test_examples_run_unchanged_on_pytorch_too():
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    pytest.importorskip("tqdm")
    assert load_example("digits_mlp").main("mlp", epochs=5, backend="torch", progress=False) >= 0.95


def test_inspect_autograd_writes_the_graph_and_the_profile(tmp_path, capsys):
    written = load_example("inspect_autograd").main(out=tmp_path)
    text = capsys.readouterr().out
    assert "output (): MseLossBackward0 #1" in text and "AccumulateGrad #8: 0.weight (8, 4)" in text
    assert (tmp_path / "graph.dot").read_text().startswith("digraph autograd {")
    if "svg" in written:
        assert "<svg" in (tmp_path / "graph.svg").read_text()
    else:
        assert "graph.svg not written" in text
    assert "aten::addmm" in text and "Self CPU time total" in text and "Optimizer.step#SGD.step" in text
    trace = json.loads((tmp_path / "trace.json").read_text())["traceEvents"]
    assert any(t.get("name") == "AddmmBackward0" for t in trace)
