"""ember.fx.node, as ``torch.fx.node``: a Node of a Graph, and the helpers that map over the nested
arguments nodes take (Note [FX graphs])."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    from .graph import Graph

__all__ = ["Argument", "Node", "Target", "map_aggregate", "map_arg"]

Target = Union[Callable[..., Any], str]
Argument = Any
OPCODES = ("placeholder", "get_attr", "call_function", "call_method", "call_module", "output")


def map_aggregate(a: Argument, fn: Callable[[Argument], Argument]) -> Argument:
    """fn applied to every leaf of a (tuples, named tuples, lists, dicts and slices are walked)."""
    if isinstance(a, tuple):
        mapped = tuple(map_aggregate(x, fn) for x in a)
        return type(a)(*mapped) if hasattr(a, "_fields") else mapped
    if isinstance(a, list):
        return [map_aggregate(x, fn) for x in a]
    if isinstance(a, dict):
        return {k: map_aggregate(v, fn) for k, v in a.items()}
    if isinstance(a, slice):
        return slice(map_aggregate(a.start, fn), map_aggregate(a.stop, fn), map_aggregate(a.step, fn))
    return fn(a)


def map_arg(a: Argument, fn: Callable[[Node], Argument]) -> Argument:
    """fn applied to every Node in a, the other leaves kept."""
    return map_aggregate(a, lambda x: fn(x) if isinstance(x, Node) else x)


class Node:
    """One operation of a Graph: ``op`` is one of placeholder, get_attr, call_function, call_method,
    call_module and output; ``target`` what it calls (a function, or a method's, module's or
    attribute's name); ``args``/``kwargs`` may hold other Nodes, whose ``users`` then list this one."""

    def __init__(self, graph: Graph, name: str, op: str, target: Target, args: tuple, kwargs: dict,
                 return_type: Any = None) -> None:  # fmt: skip
        if op not in OPCODES and op != "root":  # "root": a graph's sentinel, as PyTorch's
            raise ValueError(f"Node: op must be one of {OPCODES}, got {op!r}")
        self.graph = graph
        self.name = name
        self.op = op
        self.target = target
        self.type = return_type
        self.users: dict[Node, None] = {}
        self.meta: dict[str, Any] = {}
        self._input_nodes: dict[Node, None] = {}
        self._args: tuple = ()
        self._kwargs: dict = {}
        self._update_args_kwargs(args, kwargs)

    def _update_args_kwargs(self, args: tuple, kwargs: dict) -> None:
        for old in self._input_nodes:
            old.users.pop(self, None)
        self._args, self._kwargs = tuple(args), dict(kwargs)
        self._input_nodes = {}
        map_arg((self._args, self._kwargs), lambda n: self._input_nodes.setdefault(n, None))
        for new in self._input_nodes:
            new.users.setdefault(self, None)

    @property
    def args(self) -> tuple:
        return self._args

    @args.setter
    def args(self, value: tuple) -> None:
        self._update_args_kwargs(value, self._kwargs)

    @property
    def kwargs(self) -> dict:
        return self._kwargs

    @kwargs.setter
    def kwargs(self, value: dict) -> None:
        self._update_args_kwargs(self._args, value)

    @property
    def all_input_nodes(self) -> list[Node]:
        return list(self._input_nodes)

    @property
    def next(self) -> Node | None:
        return self.graph._neighbour(self, 1)

    @property
    def prev(self) -> Node | None:
        return self.graph._neighbour(self, -1)

    def update_arg(self, idx: int, arg: Argument) -> None:
        args = list(self.args)
        args[idx] = arg
        self.args = tuple(args)

    def update_kwarg(self, key: str, arg: Argument) -> None:
        self.kwargs = {**self.kwargs, key: arg}

    def replace_input_with(self, old: Node, new: Node) -> None:
        self._update_args_kwargs(*map_arg((self.args, self.kwargs), lambda n: new if n is old else n))

    def replace_all_uses_with(self, replace_with: Node,
                              delete_user_cb: Callable[[Node], bool] = lambda user: True) -> list[Node]:  # fmt: skip
        """Every user of this node takes replace_with instead (those delete_user_cb accepts); returns them."""
        changed = [user for user in list(self.users) if delete_user_cb(user)]
        for user in changed:
            user.replace_input_with(self, replace_with)
        return changed

    def append(self, x: Node) -> None:
        self.graph._move_after(x, self)

    def prepend(self, x: Node) -> None:
        self.graph._move_after(x, self.prev)

    def format_node(self) -> str:
        return f"%{self.name} : [num_users={len(self.users)}] = {self.op}[target={_target_name(self.target)}](args = {_fmt(self.args)}, kwargs = {_fmt(self.kwargs)})"  # noqa: E501

    def __repr__(self) -> str:
        return self.name


def _qualified_name(fn: Any) -> str | None:
    """``module.name`` by which fn can be reached (``ember.relu``, ``ember.nn.functional.softmax``,
    ``operator.add``, ``builtins.getattr``), or None."""
    import builtins
    import operator

    import ember

    name, module = getattr(fn, "__name__", None), getattr(fn, "__module__", None)
    if not name:
        return None
    if getattr(ember, name, None) is fn:
        return f"ember.{name}"
    if module and module.startswith("ember"):
        obj: Any = ember
        for part in module.split(".")[1:] + [name]:
            obj = getattr(obj, part, None)
        if obj is fn:
            return f"{module}.{name}"
    for home in (operator, builtins):
        if getattr(home, name, None) is fn:
            return f"{home.__name__}.{name}"
    return None


def _target_name(target: Target) -> str:
    if isinstance(target, str):
        return target
    return _qualified_name(target) or getattr(target, "__qualname__", None) or repr(target)


def _fmt(a: Argument) -> str:
    return repr(map_arg(a, lambda n: _Percent(n.name)))


class _Percent:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"%{self.name}"
