"""Pictures of the autograd graph: to_dot, draw/GraphPicture, format_graph, make_dot."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

import ember
from ember.autograd import _graph_render
from ember.autograd.graph import GraphPicture, draw, format_graph, make_dot, to_dot

NODE = re.compile(r'^\t(\w+) \[label="((?:[^"\\]|\\.)*)"(.*)\]$')
EDGE = re.compile(r"^\t(\w+) -> (\w+)( \[.*\])?$")
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


def parse(source):
    """(nodes: id -> (label lines, attributes), edges: [(tail, head, attributes)]) of our DOT text."""
    nodes, edges = {}, []
    lines = source.splitlines()
    assert lines[0] == "digraph autograd {" and lines[-1] == "}"
    for line in lines[3:-1]:
        if m := EDGE.match(line):
            edges.append((m.group(1), m.group(2), m.group(3) or ""))
        elif m := NODE.match(line):
            assert m.group(1) not in nodes, f"node {m.group(1)} drawn twice"
            nodes[m.group(1)] = (m.group(2).split("\\n"), m.group(3))
        else:
            raise AssertionError(f"unexpected DOT line {line!r}")
    return nodes, edges


def count_graph(*outputs):
    """(nodes, edges) of the autograd graph, counted independently of the code under test."""
    seen, edges = {}, 0
    stack = [t.grad_fn for t in outputs]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen[id(node)] = node
        for child, _ in node.next_functions:
            if child is not None:
                edges += 1
                stack.append(child)
    return len(seen), edges


def mlp_loss():
    ember.manual_seed(0)
    model = ember.nn.Sequential(ember.nn.Linear(4, 8), ember.nn.Tanh(), ember.nn.Linear(8, 1))
    loss = ember.nn.functional.mse_loss(model(ember.randn(5, 4)), ember.randn(5, 1))
    return model, loss


def labels(nodes):
    return ["\\n".join(lines) for lines, _ in nodes.values()]


def test_mlp_graph_has_one_box_per_node_and_one_edge_per_next_function():
    model, loss = mlp_loss()
    nodes, edges = parse(to_dot(loss, params=dict(model.named_parameters())))
    n_nodes, n_edges = count_graph(loss)
    assert len(nodes) == n_nodes + 1  # and the output's box
    assert len(edges) == n_edges + 1  # and output -> grad_fn
    assert sorted(labels(nodes)) == sorted(
        [
            "output\\n()",
            "MseLossBackward0",
            "AddmmBackward0",
            "AddmmBackward0",
            "TanhBackward0",
            "TBackward0",
            "TBackward0",
            "0.weight\\n(8, 4)",
            "0.bias\\n(8,)",
            "2.weight\\n(1, 8)",
            "2.bias\\n(1,)",
        ]
    )
    for tail, head, _ in edges:
        assert tail in nodes and head in nodes


def test_output_is_highlighted_and_points_at_its_grad_fn():
    _, loss = mlp_loss()
    nodes, edges = parse(to_dot(loss))
    outputs = [k for k, (_, attrs) in nodes.items() if "darkolivegreen1" in attrs]
    assert outputs == ["o0"]
    (head,) = [h for t, h, _ in edges if t == "o0"]
    assert nodes[head][0] == ["MseLossBackward0"]


def test_edges_follow_next_functions_in_order():
    x = ember.randn(3, requires_grad=True)
    w = ember.randn(3, requires_grad=True)
    y = x.exp() * w.sin()
    nodes, edges = parse(to_dot(y, params={"x": x, "w": w}))
    by_label = {"\\n".join(lines): k for k, (lines, _) in nodes.items()}
    mul = by_label["MulBackward0"]
    assert [nodes[h][0][0] for t, h, _ in edges if t == mul] == ["ExpBackward0", "SinBackward0"]
    assert (by_label["ExpBackward0"], by_label["x\\n(3,)"], "") in edges
    assert (by_label["SinBackward0"], by_label["w\\n(3,)"], "") in edges


@pytest.mark.parametrize("build", [lambda a: a * a, lambda a: a + a, lambda a: (a * 2) + (a * 3)])
def test_shared_subgraph_is_drawn_once(build):
    x = ember.randn(3, requires_grad=True)
    y = build(x.exp())
    nodes, edges = parse(to_dot(y))
    assert labels(nodes).count("ExpBackward0") == 1
    assert labels(nodes).count("(3,)") == 1  # the leaf x, reached through exp only
    n_nodes, n_edges = count_graph(y)
    assert (len(nodes), len(edges)) == (n_nodes + 1, n_edges + 1)
    (exp,) = [k for k, (lines, _) in nodes.items() if lines == ["ExpBackward0"]]
    assert sum(1 for _, h, _ in edges if h == exp) == 2  # reached twice, drawn once


def test_several_outputs_share_one_graph():
    x = ember.randn(3, requires_grad=True)
    a = x.exp()
    b, c = a * 2, a.sin()
    nodes, edges = parse(to_dot(b, c))
    assert labels(nodes).count("ExpBackward0") == 1
    assert sorted(k for k in nodes if k.startswith("o")) == ["o0", "o1"]
    assert nodes["o1"][0] == ["output 1", "(3,)"]
    # a tuple stands for its tensors, as torchviz's make_dot((b, c)) allows
    assert to_dot((b, c)) == to_dot(b, c)


def test_leaf_output_is_drawn_as_a_leaf():
    w = ember.randn(2, 3, requires_grad=True)
    nodes, edges = parse(to_dot(w, params={"w": w}))
    assert labels(nodes) == ["output\\n(2, 3)", "w\\n(2, 3)"]
    assert [(t, h) for t, h, _ in edges] == [("o0", "n1")]
    assert "lightblue" in nodes["n1"][1]


def test_show_saved_adds_a_box_per_saved_tensor():
    x = ember.randn(2, 3, requires_grad=True)
    w = ember.randn(3, requires_grad=True)
    y = (x * w).exp()
    plain, _ = parse(to_dot(y))
    nodes, edges = parse(to_dot(y, show_saved=True))
    saved = {"\\n".join(lines) for k, (lines, attrs) in nodes.items() if k.startswith("s")}
    assert saved == {"self\\n(2, 3)", "other\\n(3,)", "result\\n(2, 3)"}
    assert len(nodes) == len(plain) + 3
    assert all("orange" in nodes[k][1] for k in nodes if k.startswith("s"))
    assert sum(1 for _, h, a in edges if h.startswith("s") and "dir=none" in a) == 3


def test_show_saved_after_backward_leaves_freed_tensors_out():
    x = ember.randn(3, requires_grad=True)
    y = (x * x).sum()
    y.backward()
    nodes, _ = parse(to_dot(y, show_saved=True))
    assert not [k for k in nodes if k.startswith("s")]


def test_show_attrs_lists_non_tensor_saved_values():
    x = ember.randn(2, 3, requires_grad=True)
    y = x.sum(dim=1, keepdim=True)
    nodes, _ = parse(to_dot(y, show_attrs=True))
    (lines,) = [lines for lines, _ in nodes.values() if lines[0] == "SumBackward1"]  # PyTorch's name too
    assert lines[2:] == ["dim: (1,)", "keepdim: True", "self_sym_sizes: (2, 3)"]
    assert set(lines[1]) == {"-"}
    assert "SumBackward1" in labels(parse(to_dot(y))[0])  # without show_attrs: the name alone


class Double(ember.autograd.Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a * 2

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * 2 + a * 0


class DoubleOnce(Double):
    clear_saved_tensors_on_access = True


def test_custom_function_is_a_node_named_by_its_class():
    x = ember.randn(4, requires_grad=True)
    y = Double.apply(x).exp()
    nodes, _ = parse(to_dot(y, show_saved=True))
    assert "DoubleBackward" in labels(nodes)
    assert "saved_tensors[0]\\n(4,)" in labels(nodes)
    assert "DoubleBackward" in format_graph(y)


def test_drawing_does_not_use_up_saved_tensors_that_may_be_read_once():
    x = ember.randn(4, requires_grad=True)
    y = DoubleOnce.apply(x)
    to_dot(y, show_saved=True, show_attrs=True)
    y.sum().backward()  # reads ctx.saved_tensors: fails if drawing had read them
    assert ember.equal(x.grad, ember.full((4,), 2.0))


def test_labels_are_escaped():
    w = ember.randn(2, requires_grad=True)
    name = 'layer"1"\\weight'
    nodes, _ = parse(to_dot(w * 2, params={name: w}))
    assert 'layer\\"1\\"\\\\weight\\n(2,)' in labels(nodes)


def test_format_graph_exact_text_with_a_shared_node():
    x = ember.randn(3, requires_grad=True)
    a = x.exp()
    y = a * a
    assert format_graph(y, params={"x": x}) == (
        "output (3,): MulBackward0 #1\n"
        "  ExpBackward0 #2\n"
        "    AccumulateGrad #3: x (3,)\n"
        "  (see above: ExpBackward0 #2)\n"
    )


def test_format_graph_of_several_outputs_refers_back():
    x = ember.randn(3, requires_grad=True)
    a = x.exp()
    assert format_graph(a * 2, a, x) == (
        "output 0 (3,): MulBackward0 #1\n"
        "  ExpBackward0 #2\n"
        "    AccumulateGrad #3: (3,)\n"
        "output 1 (3,): (see above: ExpBackward0 #2)\n"
        "output 2 (3,): (see above: AccumulateGrad #3)\n"
    )


def test_format_graph_of_the_mlp_names_parameters():
    model, loss = mlp_loss()
    text = format_graph(loss, params=model.named_parameters())  # pairs work as well as a dict
    assert text.splitlines()[0] == "output (): MseLossBackward0 #1"
    assert "    AccumulateGrad #3: 2.bias (1,)" in text.splitlines()
    assert "          AccumulateGrad #8: 0.weight (8, 4)" in text.splitlines()
    assert len(text.splitlines()) == count_graph(loss)[0]


def test_a_chain_of_10000_ops():
    import time

    x = ember.randn(2, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    start = time.perf_counter()
    nodes, edges = parse(to_dot(y))
    elapsed = time.perf_counter() - start  # reported, not asserted (no timing assertions here)
    print(f"to_dot of a 10,001-node chain: {elapsed:.3f} s")
    assert len(nodes) == 10_001 + 1 and len(edges) == 10_001
    lines = format_graph(y).splitlines()
    assert len(lines) == 10_001
    assert lines[-1].strip() == "[depth 10000] AccumulateGrad #10001: (2,)"
    assert max(len(line) for line in lines) < 200  # deep lines stop indenting


@pytest.mark.parametrize("fn", [to_dot, format_graph, draw])
def test_arguments_that_are_not_graph_tensors_raise_type_error(fn):
    with pytest.raises(TypeError, match="draws ember tensors, but output 0 is a int"):
        fn(3)
    with pytest.raises(TypeError, match="output 1 is not part of an autograd graph"):
        fn(ember.randn(2, requires_grad=True) * 2, ember.randn(2))
    with pytest.raises(TypeError, match="at least one tensor"):
        fn()
    with pytest.raises(TypeError, match="params must map names to tensors"):
        fn(ember.randn(2, requires_grad=True) * 2, params={"w": 1.0})


def test_save_dot_writes_the_text(tmp_path):
    x = ember.randn(3, requires_grad=True)
    picture = draw(x.exp(), params={"x": x})
    assert isinstance(picture, GraphPicture)
    assert picture.save(tmp_path / "g.dot") == tmp_path / "g.dot"
    assert (tmp_path / "g.dot").read_text() == picture.source == to_dot(x.exp(), params={"x": x})
    with pytest.raises(ValueError, match="unknown suffix '.txt'"):
        picture.save(tmp_path / "g.txt")


def test_rendering_without_dot_says_how_to_install_graphviz(monkeypatch, tmp_path):
    pytest.importorskip("graphviz")
    monkeypatch.setattr(_graph_render.shutil, "which", lambda name: None)
    picture = draw(ember.randn(2, requires_grad=True).exp())
    with pytest.raises(RuntimeError, match="apt install graphviz, brew install graphviz or conda install graphviz"):
        picture.save(tmp_path / "g.svg")
    assert not (tmp_path / "g.svg").exists()
    bundle = picture._repr_mimebundle_()
    assert list(bundle) == ["text/plain"] and "no picture" in bundle["text/plain"]


def test_rendering_without_the_python_package_says_pip_install_ember_viz(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "graphviz", None)  # import graphviz raises ImportError
    picture = draw(ember.randn(2, requires_grad=True).exp())
    with pytest.raises(ImportError, match=re.escape('pip install "ember[viz]"')):
        picture.save(tmp_path / "g.png")
    picture.save(tmp_path / "g.dot")  # the text needs nothing
    assert isinstance(make_dot(ember.randn(2, requires_grad=True).exp()), GraphPicture)


@needs_dot
def test_save_svg_renders_the_picture(tmp_path):
    pytest.importorskip("graphviz")
    model, loss = mlp_loss()
    picture = draw(loss, params=dict(model.named_parameters()))
    picture.save(tmp_path / "g.svg")
    svg = (tmp_path / "g.svg").read_text()
    assert "<svg" in svg and "MseLossBackward0" in svg and "0.weight" in svg
    assert picture._repr_mimebundle_()["image/svg+xml"].count("<svg") == 1
    picture.save(tmp_path / "g.png")
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_make_dot_is_torchvizs_signature_on_ember_tensors():
    graphviz = pytest.importorskip("graphviz")
    model, loss = mlp_loss()
    params = dict(model.named_parameters())
    dot = make_dot(loss, params=params, show_attrs=True, show_saved=True)
    assert isinstance(dot, graphviz.Digraph)
    ours = to_dot(loss, params=params, show_attrs=True, show_saved=True).splitlines()[3:-1]
    assert [line.rstrip("\n") for line in dot.body] == ours
    assert len(parse(dot.source)[0]) == count_graph(loss)[0] + 1 + 6  # and the output and 6 saved tensors
    short = make_dot(loss, show_attrs=True, max_attr_chars=3).source
    assert "self_sym_sizes: ..." in short and "alpha: 1.0" in short


def test_real_torchviz_draws_ember_graphs_when_torch_names_ember():
    pytest.importorskip("torchviz")
    pytest.importorskip("graphviz")
    code = """
import importlib, pkgutil, sys
import ember
sys.modules["torch"] = ember  # "import ember as torch" for every module, as tests/programs/launch.py does
for info in pkgutil.walk_packages(ember.__path__, "ember."):
    try:
        sys.modules["torch" + info.name[len("ember"):]] = importlib.import_module(info.name)
    except Exception:
        pass
from torchviz import make_dot
model = ember.nn.Sequential(ember.nn.Linear(4, 8), ember.nn.Tanh(), ember.nn.Linear(8, 1))
dot = make_dot(model(ember.randn(2, 4)).sum(), params=dict(model.named_parameters()))
print(dot.source)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    for label in ("TanhBackward0", "AddmmBackward0", "AccumulateGrad", "0.weight", "2.bias"):
        assert label in out.stdout, label
