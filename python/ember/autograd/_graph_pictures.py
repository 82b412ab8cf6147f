"""Pictures of the autograd graph as text: Graphviz DOT (``to_dot``) and an indented tree (``format_graph``).

Both walk the graph the same way, from the outputs' ``grad_fn`` down through ``next_functions``,
iteratively (a chain of 10,000 ops must not hit Python's recursion limit) and memoised by node
identity, so a sub-graph reached twice is drawn once. ember returns the same Python object for a
node as long as one is alive, which is why the walk keeps every node it visits in a list: ``id()``
of a node that was let go could be reused by another. Rendering the DOT text lives in
``_graph_render``; nothing here needs Graphviz.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping

from .. import _C
from .._C import Tensor

__all__ = ["to_dot", "format_graph"]

# torchviz's colours, so pictures look familiar to PyTorch users.
_OUTPUT_COLOR = "darkolivegreen1"
_LEAF_COLOR = "lightblue"
_SAVED_COLOR = "orange"
_SAVED_PREFIX = "_saved_"
# Past this depth the text tree stops indenting (a 10,000-op chain would otherwise need 100 MB of spaces).
_MAX_INDENT = 40


@dataclass
class _Graph:
    """The walked graph: nodes in first-visit (pre-order) order, so numbering is deterministic."""

    outputs: list[Tensor]
    roots: list[int]  # position in ``nodes`` of each output's node
    nodes: list[Any] = field(default_factory=list)  # keeps the nodes alive while ids are in use
    children: list[list[int]] = field(default_factory=list)


def _outputs(args: tuple[Any, ...], caller: str) -> list[Tensor]:
    """The tensors to draw; a tuple or list argument stands for its elements (as torchviz allows)."""
    flat: list[Any] = []
    for arg in args:
        flat.extend(arg if isinstance(arg, (tuple, list)) else [arg])
    if not flat:
        raise TypeError(f"{caller}() needs at least one tensor to draw")
    for i, t in enumerate(flat):
        if not isinstance(t, Tensor):
            raise TypeError(f"{caller}() draws ember tensors, but output {i} is a {type(t).__name__}")
        if t.grad_fn is None and not t.requires_grad:
            raise TypeError(
                f"{caller}(): output {i} is not part of an autograd graph (no grad_fn and requires_grad=False); "
                "compute it from tensors with requires_grad=True, outside no_grad()"
            )
    return flat


def _root_node(t: Tensor) -> Any:
    """The node a tensor's gradient enters: its grad_fn, or a leaf's AccumulateGrad."""
    return t.grad_fn if t.grad_fn is not None else _C._gradient_edge(t)[0]


def _preorder(roots: list[Any]) -> Iterator[tuple[Any, int, list[Any] | None]]:
    """Yields (node, depth, children) depth-first; children is None when the node was met before.

    An explicit stack instead of recursion; children are pushed reversed so they come out in
    ``next_functions`` order.
    """
    seen: dict[int, Any] = {}  # id -> node: holding the node keeps its id from being reused
    stack = [(root, 0) for root in reversed(roots)]
    while stack:
        node, depth = stack.pop()
        if id(node) in seen:
            yield node, depth, None
            continue
        seen[id(node)] = node
        kids = [child for child, _ in node.next_functions if child is not None]
        yield node, depth, kids
        stack.extend((child, depth + 1) for child in reversed(kids))


def _walk(outputs: list[Tensor]) -> _Graph:
    """Numbers every node once and records its edges (one per non-None ``next_functions`` entry)."""
    root_nodes = [_root_node(t) for t in outputs]
    graph = _Graph(outputs=outputs, roots=[])
    kids_of: list[list[Any]] = []
    index: dict[int, int] = {}
    for node, _, kids in _preorder(root_nodes):
        if kids is not None:
            index[id(node)] = len(graph.nodes)
            graph.nodes.append(node)
            kids_of.append(kids)
    graph.children = [[index[id(k)] for k in kids] for kids in kids_of]
    graph.roots = [index[id(n)] for n in root_nodes]
    return graph


def _shape(t: Tensor) -> str:
    return str(tuple(t.shape))


def _leaf(node: Any) -> Tensor | None:
    """The leaf tensor of an AccumulateGrad node, else None.

    Checked by class name first: other nodes raise AttributeError on ``.variable``, and raising
    costs 20 us a node, most of the time of drawing a 10,000-node graph.
    """
    if type(node).__name__ != "AccumulateGrad":
        return None
    return getattr(node, "variable", None)


def _node_name(node: Any) -> str:
    """PyTorch's class name (``MulBackward0``, ``AccumulateGrad``, ``MyFnBackward``).

    ``type(node).__name__`` rather than ``node.name()``: AccumulateGrad's ``name()`` is the
    C++ ``torch::autograd::AccumulateGrad``, as in PyTorch.
    """
    return type(node).__name__


def _output_name(i: int, n: int) -> str:
    return "output" if n == 1 else f"output {i}"


def _param_names(params: Mapping[str, Tensor] | Iterable[tuple[str, Tensor]] | None) -> dict[int, str]:
    """id(tensor) -> name; by identity, as torchviz, since tensors compare elementwise."""
    if params is None:
        return {}
    names = dict(params)
    for name, t in names.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"params must map names to tensors, but {name!r} is a {type(t).__name__}")
    return {id(t): name for name, t in names.items()}


_saved_names: dict[type, list[str]] = {}


def _saved_attr_names(node: Any) -> list[str]:
    """The node's ``_saved_*`` attributes; the same for every node of a class, and ``dir`` is
    slow on ember's nodes, so looked up once per class."""
    names = _saved_names.get(type(node))
    if names is None:
        names = _saved_names[type(node)] = [a for a in dir(node) if a.startswith(_SAVED_PREFIX)]
    return names


def _custom_saved_tensors(node: Any) -> tuple[Any, ...] | None:
    """A custom Function's ``ctx.saved_tensors``, unless reading them would change the node:
    with ``clear_saved_tensors_on_access`` a read uses up backward's one read."""
    if type(node).__module__ != "ember.autograd.function" or getattr(node, "_clear_on_access", False):
        return None
    try:
        return node.saved_tensors
    except RuntimeError:  # freed by backward
        return None


def _saved_values(node: Any) -> list[tuple[str, Any]]:
    """The node's saved values: ``_saved_*`` attributes (built-in nodes) and ``saved_tensors``
    (custom Functions). Values already freed by backward are left out."""
    found: list[tuple[str, Any]] = []
    for attr in _saved_attr_names(node):
        try:
            found.append((attr[len(_SAVED_PREFIX) :], getattr(node, attr)))
        except RuntimeError:  # freed by backward
            pass
    saved = _custom_saved_tensors(node)
    if saved is not None:
        found.append(("saved_tensors", saved))
    return found


def _saved_tensors(node: Any) -> list[tuple[str, Tensor]]:
    """(name, tensor) for each saved tensor, tuples of tensors unpacked as ``name[i]``."""
    tensors: list[tuple[str, Tensor]] = []
    for name, value in _saved_values(node):
        if isinstance(value, Tensor):
            tensors.append((name, value))
        elif isinstance(value, (tuple, list)):
            tensors.extend((f"{name}[{i}]", t) for i, t in enumerate(value) if isinstance(t, Tensor))
    return tensors


def _saved_attrs(node: Any, max_chars: int) -> list[str]:
    """``name: value`` lines for the saved values that are not tensors (dims, scalars, sizes)."""
    lines = []
    for name, value in _saved_values(node):
        tensors = [value] if isinstance(value, Tensor) else value if isinstance(value, (tuple, list)) else []
        if any(isinstance(v, Tensor) for v in tensors):  # drawn by show_saved instead
            continue
        text = str(value)
        if len(text) > max_chars:
            text = text[: max(max_chars - 3, 0)] + "..."
        lines.append(f"{name}: {text}")
    return lines


def _escape(text: str) -> str:
    """A label line made safe inside a DOT double-quoted string (Graphviz reads backslash escapes)."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _label(*lines: str) -> str:
    return '"' + "\\n".join(_escape(line) for line in lines) + '"'


def _node_lines(node: Any, names: dict[int, str], show_attrs: bool, max_attr_chars: int) -> list[str]:
    leaf = _leaf(node)
    if leaf is not None:
        name = names.get(id(leaf))
        return [name, _shape(leaf)] if name else [_shape(leaf)]
    lines = [_node_name(node)]
    if show_attrs:
        attrs = _saved_attrs(node, max_attr_chars)
        if attrs:
            lines += ["-" * max(len(line) for line in lines + attrs), *attrs]
    return lines


def dot_statements(
    outputs: list[Tensor],
    params: Mapping[str, Tensor] | Iterable[tuple[str, Tensor]] | None = None,
    show_saved: bool = False,
    show_attrs: bool = False,
    max_attr_chars: int = 50,
) -> list[str]:
    """The node and edge statements of the picture (without the ``digraph {}`` around them), so
    ``make_dot`` can hand the same lines to a ``graphviz.Digraph``.

    Ids: ``o<i>`` for outputs, ``n<i>`` for nodes (the number ``format_graph`` prints as ``#i``),
    ``s<i>`` for saved tensors. Edges point the way gradients flow: output -> grad_fn -> next_functions.
    """
    names = _param_names(params)
    graph = _walk(outputs)
    lines: list[str] = []
    for i, t in enumerate(outputs):
        label = _label(_output_name(i, len(outputs)), _shape(t))
        lines.append(f"\to{i} [label={label} fillcolor={_OUTPUT_COLOR}]")
        lines.append(f"\to{i} -> n{graph.roots[i] + 1}")
    saved_count = 0
    for i, node in enumerate(graph.nodes, start=1):
        color = f" fillcolor={_LEAF_COLOR}" if type(node).__name__ == "AccumulateGrad" else ""
        lines.append(f"\tn{i} [label={_label(*_node_lines(node, names, show_attrs, max_attr_chars))}{color}]")
        lines.extend(f"\tn{i} -> n{k + 1}" for k in graph.children[i - 1])
        if show_saved:
            for name, t in _saved_tensors(node):
                saved_count += 1
                lines.append(f"\ts{saved_count} [label={_label(name, _shape(t))} fillcolor={_SAVED_COLOR}]")
                lines.append(f"\tn{i} -> s{saved_count} [dir=none style=dashed]")
    return lines


# The look of every box, as torchviz's (``make_dot`` gives the same to its Digraph).
NODE_ATTRS = {
    "shape": "box",
    "style": "filled",
    "fillcolor": "lightgray",
    "fontname": "monospace",
    "fontsize": "10",
    "height": "0.2",
}
GRAPH_ATTRS = {"size": "12,12"}


def dot_document(body: list[str]) -> str:
    """The statements wrapped in a ``digraph``, with the default look of graph and boxes."""
    node = " ".join(f"{k}={v}" for k, v in NODE_ATTRS.items())
    graph = " ".join(f'{k}="{v}"' for k, v in GRAPH_ATTRS.items())
    return "\n".join(["digraph autograd {", f"\tgraph [{graph}]", f"\tnode [{node}]", *body, "}"]) + "\n"


def to_dot(
    *outputs: Tensor,
    params: Mapping[str, Tensor] | Iterable[tuple[str, Tensor]] | None = None,
    show_saved: bool = False,
    show_attrs: bool = False,
) -> str:
    """Graphviz DOT text of the autograd graph behind ``outputs``; needs no Graphviz.

    One box per node, named as in PyTorch (``MulBackward0``); leaves (AccumulateGrad) show the
    name ``params`` gives them (``dict(model.named_parameters())``, matched by identity) and their
    shape; outputs are green boxes. ``show_saved`` adds a box per tensor saved for backward;
    ``show_attrs`` lists the other saved values (dims, scalars) inside the node's box.
    """
    flat = _outputs(outputs, "to_dot")
    return dot_document(dot_statements(flat, params, show_saved, show_attrs))


def _text_line(node: Any, number: int, names: dict[int, str]) -> str:
    leaf = _leaf(node)
    if leaf is None:
        return f"{_node_name(node)} #{number}"
    name = names.get(id(leaf))
    return f"{_node_name(node)} #{number}: " + (f"{name} {_shape(leaf)}" if name else _shape(leaf))


def format_graph(*outputs: Tensor, params: Mapping[str, Tensor] | Iterable[tuple[str, Tensor]] | None = None) -> str:
    """The autograd graph as an indented tree, for terminals and logs.

    One node per line, children indented under the node that sends them gradients. Nodes are
    numbered in order of appearance; a node met again (a shared sub-graph) is written as
    ``(see above: ExpBackward0 #3)`` instead of repeating its subtree. Beyond depth 40 lines
    are no longer indented but prefixed with their depth, so deep chains stay readable.
    """
    flat = _outputs(outputs, "format_graph")
    names = _param_names(params)
    numbers: dict[int, int] = {}
    roots = [_root_node(t) for t in flat]
    lines: list[str] = []
    root_at = 0
    for node, depth, kids in _preorder(roots):
        if depth == 0:
            t = flat[root_at]
            prefix = f"{_output_name(root_at, len(flat))} {_shape(t)}: "
            root_at += 1
        elif depth > _MAX_INDENT:
            prefix = " " * (2 * _MAX_INDENT) + f"[depth {depth}] "
        else:
            prefix = " " * (2 * depth)
        if kids is None:
            lines.append(f"{prefix}(see above: {_node_name(node)} #{numbers[id(node)]})")
        else:
            numbers[id(node)] = len(numbers) + 1
            lines.append(prefix + _text_line(node, numbers[id(node)], names))
    return "\n".join(lines) + "\n"
