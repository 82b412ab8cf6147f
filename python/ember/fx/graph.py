"""ember.fx.graph, as ``torch.fx.graph``: a Graph of Nodes, and the Python code it stands for
(Note [FX graphs])."""

from __future__ import annotations

import builtins
import keyword
import math
import operator
import re
from collections.abc import Callable
from typing import Any

from .node import Argument, Node, Target, _qualified_name, map_arg

__all__ = ["Graph", "PythonCode"]

# operator functions written as the Python operators they are, as PyTorch's generated code does
_BINARY = {
    operator.add: "+", operator.sub: "-", operator.mul: "*", operator.truediv: "/", operator.floordiv: "//",
    operator.mod: "%", operator.pow: "**", operator.matmul: "@", operator.and_: "&", operator.or_: "|",
    operator.xor: "^", operator.lshift: "<<", operator.rshift: ">>", operator.eq: "==", operator.ne: "!=",
    operator.lt: "<", operator.le: "<=", operator.gt: ">", operator.ge: ">=",
}  # fmt: skip
_UNARY = {operator.neg: "-", operator.pos: "+", operator.invert: "~"}
_NO_DEFAULT = object()


class PythonCode:
    """The generated source of a Graph (``src``) and the globals it runs with."""

    def __init__(self, src: str, globals: dict[str, Any]) -> None:
        self.src = src
        self.globals = globals


class _Names:
    """Unique Python identifiers for nodes and globals."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def create(self, candidate: str) -> str:
        base = re.sub(r"[^0-9a-zA-Z_]+", "_", candidate).rstrip("_") or "_unnamed"
        if base[0].isdigit():
            base = f"_{base}"
        name, i = base, 1
        while name in self.used or keyword.iskeyword(name) or hasattr(builtins, name) or name == "self":
            name, i = f"{base}_{i}", i + 1
        self.used.add(name)
        return name


class _InsertPoint:
    """Where a graph's new nodes go: set when made, restored when a ``with`` block ends (PyTorch's)."""

    def __init__(self, graph: Graph, point: tuple[Node | None, int]) -> None:
        self._graph, self._saved = graph, graph._insert_at
        graph._insert_at = point

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        self._graph._insert_at = self._saved


class Graph:
    """An ordered list of Nodes: placeholders (the inputs), operations, and one output node. Build it
    with ``placeholder``/``call_function``/``call_method``/``call_module``/``get_attr``/``output`` (or
    ``create_node``); ``python_code`` gives the forward it stands for; a GraphModule runs it."""

    def __init__(self, owning_module: Any = None, tracer_cls: Any = None, tracer_extras: Any = None) -> None:
        self._nodes: list[Node] = []
        self._names = _Names()
        self._insert_at: tuple[Node | None, int] = (None, 0)  # (anchor, 0 append | -1 before | 1 after)
        # PyTorch's sentinel: the first node's prev and the last node's next (not among the nodes)
        self._root = Node(self, "", "root", "", (), {})
        self.owning_module = owning_module
        self._tracer_cls = tracer_cls
        self._tracer_extras = tracer_extras  # (kept for a Tracer that remakes the graph, as PyTorch's)

    # ------------------------------------------------------------------ nodes and order
    @property
    def nodes(self) -> list[Node]:
        """The nodes in order (a copy: erasing while iterating is safe)."""
        return list(self._nodes)

    def find_nodes(self, *, op: str, target: Target | None = None, sort: bool = True) -> list[Node]:
        """The nodes of op (and target), in graph order (``sort``: PyTorch's order, which this always is)."""
        return [n for n in self._nodes if n.op == op and (target is None or n.target == target)]

    def _neighbour(self, node: Node, step: int) -> Node:
        if node is self._root:  # the ring closes through the sentinel, as PyTorch's linked list
            return self._nodes[0 if step > 0 else -1] if self._nodes else self._root
        i = self._nodes.index(node) + step
        return self._nodes[i] if 0 <= i < len(self._nodes) else self._root

    def _move_after(self, node: Node, anchor: Node | None) -> None:
        self._nodes.remove(node)
        at_front = anchor is None or anchor is self._root
        self._nodes.insert(0 if at_front else self._nodes.index(anchor) + 1, node)

    def inserting_before(self, n: Node | None = None) -> _InsertPoint:
        """New nodes go before ``n`` (appended when None): at once, as PyTorch's (PyG calls it without
        ``with``); used as a context manager, the former insert point comes back at its end."""
        return _InsertPoint(self, (n, -1) if n is not None else (None, 0))

    def inserting_after(self, n: Node | None = None) -> _InsertPoint:
        """New nodes go right after ``n`` (appended when None): several come out in reverse order, as
        PyTorch's."""
        return _InsertPoint(self, (n, 1) if n is not None else (None, 0))

    def create_node(self, op: str, target: Target, args: tuple | None = None, kwargs: dict | None = None,
                    name: str | None = None, type_expr: Any = None) -> Node:  # fmt: skip
        candidate = name or (target if isinstance(target, str) else getattr(target, "__name__", "node"))
        node = Node(self, self._names.create(str(candidate)), op, target, args or (), kwargs or {}, type_expr)
        anchor, where = self._insert_at
        if anchor is None:
            self._nodes.append(node)
        else:
            # right after (or before) the anchor, each time: nodes made "after" n come out in reverse order,
            # as PyTorch's (its n.append)
            self._nodes.insert(self._nodes.index(anchor) + (1 if where == 1 else 0), node)
        return node

    def placeholder(self, name: str, type_expr: Any = None, default_value: Any = _NO_DEFAULT) -> Node:
        args = () if default_value is _NO_DEFAULT else (default_value,)
        return self.create_node("placeholder", name, args, type_expr=type_expr)

    def get_attr(self, qualified_name: str, type_expr: Any = None) -> Node:
        return self.create_node("get_attr", qualified_name, type_expr=type_expr)

    def call_module(self, module_name: str, args: tuple | None = None, kwargs: dict | None = None,
                    type_expr: Any = None) -> Node:  # fmt: skip
        return self.create_node("call_module", module_name, args, kwargs, type_expr=type_expr)

    def call_method(self, method_name: str, args: tuple | None = None, kwargs: dict | None = None,
                    type_expr: Any = None) -> Node:  # fmt: skip
        return self.create_node("call_method", method_name, args, kwargs, type_expr=type_expr)

    def call_function(self, the_function: Callable[..., Any], args: tuple | None = None, kwargs: dict | None = None,
                      type_expr: Any = None) -> Node:  # fmt: skip
        return self.create_node("call_function", the_function, args, kwargs, type_expr=type_expr)

    def output(self, result: Argument, type_expr: Any = None) -> Node:
        return self.create_node("output", "output", (result,), type_expr=type_expr)

    def erase_node(self, to_erase: Node) -> None:
        if to_erase.users:
            raise RuntimeError(
                f"Tried to erase Node {to_erase} but it still had {len(to_erase.users)} users in the graph"
            )
        to_erase._update_args_kwargs((), {})
        self._nodes.remove(to_erase)

    def node_copy(self, node: Node, arg_transform: Callable[[Node], Argument] = lambda x: x) -> Node:
        """A copy of node (from this or another graph) appended here, its Node arguments mapped by arg_transform."""
        args, kwargs = map_arg((node.args, node.kwargs), arg_transform)
        copy = self.create_node(node.op, node.target, args, kwargs, node.name, node.type)
        copy.meta = dict(node.meta)
        return copy

    def graph_copy(self, g: Graph, val_map: dict[Node, Node], return_output_node: bool = False) -> Any:
        """Copies g's nodes but its output into this graph; returns what g's output returns, in this graph."""
        for node in g._nodes:
            if node.op == "output":
                result = map_arg(node.args[0], lambda n: val_map[n])
                return (result, node) if return_output_node else result
            val_map[node] = self.node_copy(node, lambda n: val_map[n])
        return None

    def __deepcopy__(self, memo: dict) -> Graph:
        g = Graph(tracer_cls=self._tracer_cls)
        out = g.graph_copy(self, {}, return_output_node=True)
        if out is not None:
            result, node = out
            g.output(result, type_expr=node.type)
        memo[id(self)] = g
        return g

    def eliminate_dead_code(self) -> bool:
        """Erases nodes nothing uses (but placeholders, the output and impure calls); True if any were."""
        changed = False
        for node in reversed(self._nodes):
            if node.op in ("placeholder", "output") or node.users:
                continue
            if node.op == "call_method" and str(node.target).endswith("_"):  # an in-place method: keep it
                continue
            if node.op == "call_function" and getattr(node.target, "__name__", "").endswith("_"):
                continue
            self.erase_node(node)
            changed = True
        return changed

    def lint(self) -> None:
        """Checks that every node's inputs come before it and belong to this graph."""
        seen: set[Node] = set()
        for node in self._nodes:
            for arg in node.all_input_nodes:
                if arg.graph is not self:
                    raise RuntimeError(f"Argument '{arg}' of Node '{node}' does not belong to this Graph")
                if arg not in seen:
                    raise RuntimeError(f"Argument '{arg}' of Node '{node}' was used before it has been defined")
            seen.add(node)

    # ------------------------------------------------------------------ code
    def python_code(self, root_module: str = "self") -> PythonCode:
        """The forward this graph stands for, as source code, and its globals."""
        import ember

        globals_: dict[str, Any] = {"ember": ember, "torch": ember, "builtins": builtins, "operator": operator,
                                    "inf": math.inf, "nan": math.nan}  # fmt: skip
        used = set(globals_)

        def stash(value: Any, hint: str) -> str:
            for name, existing in globals_.items():
                if existing is value and name not in ("torch",):
                    return name
            name, i = hint, 0
            while name in used:
                i += 1
                name = f"{hint}_{i}"
            used.add(name)
            globals_[name] = value
            return name

        def fmt(a: Argument) -> str:
            if isinstance(a, Node):
                return a.name
            if isinstance(a, tuple):
                inner = ", ".join(fmt(x) for x in a)
                if hasattr(a, "_fields"):
                    return f"{stash(type(a), type(a).__name__)}({inner})"
                return f"({inner},)" if len(a) == 1 else f"({inner})"
            if isinstance(a, list):
                return f"[{', '.join(fmt(x) for x in a)}]"
            if isinstance(a, dict):
                return "{" + ", ".join(f"{fmt(k)}: {fmt(v)}" for k, v in a.items()) + "}"
            if isinstance(a, slice):
                return f"slice({fmt(a.start)}, {fmt(a.stop)}, {fmt(a.step)})"
            if a is None or a is Ellipsis or isinstance(a, (bool, int, str)):
                return repr(a)
            if isinstance(a, float):
                return repr(a) if math.isfinite(a) else ("inf" if a > 0 else "-inf" if a < 0 else "nan")
            if isinstance(a, ember.dtype):
                return f"ember.{a.name}" if hasattr(a, "name") else stash(a, "dtype")
            return stash(a, "_const")

        def function_name(fn: Callable[..., Any]) -> str:
            return _qualified_name(fn) or stash(fn, getattr(fn, "__name__", None) or "_fn")

        params, body = [], []
        for node in self._nodes:
            args = [fmt(a) for a in node.args] + [f"{k} = {fmt(v)}" for k, v in node.kwargs.items()]
            if node.op == "placeholder":
                target = str(node.target)
                params.append(f"{target} = {fmt(node.args[0])}" if node.args else target)
                if node.name != target.lstrip("*"):
                    body.append(f"{node.name} = {target.lstrip('*')}")
            elif node.op == "get_attr":
                body.append(f"{node.name} = {_attr_path(root_module, str(node.target))}")
            elif node.op == "call_module":
                body.append(f"{node.name} = {_attr_path(root_module, str(node.target))}({', '.join(args)})")
            elif node.op == "call_method":
                body.append(f"{node.name} = {args[0]}.{node.target}({', '.join(args[1:])})")
            elif node.op == "call_function":
                if node.target in _BINARY and len(node.args) == 2 and not node.kwargs:
                    body.append(f"{node.name} = {args[0]} {_BINARY[node.target]} {args[1]}")
                elif node.target in _UNARY and len(node.args) == 1 and not node.kwargs:
                    body.append(f"{node.name} = {_UNARY[node.target]}{args[0]}")
                elif node.target is operator.getitem and len(node.args) == 2 and not node.kwargs:
                    body.append(f"{node.name} = {args[0]}[{args[1]}]")
                elif node.target is builtins.getattr and len(node.args) == 2 and isinstance(node.args[1], str):
                    body.append(f"{node.name} = {args[0]}.{node.args[1]}")
                else:
                    body.append(f"{node.name} = {function_name(node.target)}({', '.join(args)})")
            elif node.op == "output":
                body.append(f"return {fmt(node.args[0])}")
        body = [line for line in body if line] or ["pass"]
        src = f"def forward(self, {', '.join(params)}):\n" if params else "def forward(self):\n"
        src += "".join(f"    {line}\n" for line in body)
        return PythonCode(src, globals_)

    def print_tabular(self) -> None:
        rows = [(n.op, n.name, repr(n.target) if not isinstance(n.target, str) else n.target, n.args, n.kwargs)
                for n in self._nodes]  # fmt: skip
        print(
            "\n".join(f"{op:<14}{name:<16}{target:<40}{args!s:<30}{kwargs}" for op, name, target, args, kwargs in rows)
        )

    def __str__(self) -> str:
        return "graph():\n" + "\n".join(f"    {n.format_node()}" for n in self._nodes)

    def __repr__(self) -> str:
        return str(self)


def _attr_path(root: str, target: str) -> str:
    parts = target.split(".")
    if all(p.isidentifier() and not keyword.iskeyword(p) for p in parts):
        return ".".join([root, *parts])
    path = root
    for p in parts:
        path = f"getattr({path}, {p!r})"
    return path
