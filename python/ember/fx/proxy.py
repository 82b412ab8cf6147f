"""ember.fx.proxy, as ``torch.fx.proxy``: the Proxy a traced function computes with in place of its
tensors; each operation on one records a Node (Note [FX graphs])."""

from __future__ import annotations

import builtins
import dis
import inspect
import operator
from collections.abc import Callable, Iterator
from typing import Any

from .graph import Graph
from .node import Argument, Node, Target, map_aggregate

__all__ = ["Attribute", "GraphAppendingTracer", "ParameterProxy", "Proxy", "TraceError", "TracerBase"]


class TraceError(ValueError):
    pass


class TracerBase:
    """What a Proxy records into: ``create_node``/``create_proxy`` add to ``graph``; ``create_arg``
    turns an argument into what a node may hold (Proxies become their Nodes)."""

    graph: Graph

    def create_node(self, kind: str, target: Target, args: tuple, kwargs: dict, name: str | None = None,
                    type_expr: Any = None) -> Node:  # fmt: skip
        return self.graph.create_node(kind, target, args, kwargs, name, type_expr)

    def proxy(self, node: Node) -> Proxy:
        return Proxy(node, self)

    def create_proxy(
        self,
        kind: str,
        target: Target,
        args: tuple,
        kwargs: dict,
        name: str | None = None,
        type_expr: Any = None,
        proxy_factory_fn: Callable[[Node], Proxy] | None = None,
    ) -> Proxy:
        node = self.create_node(kind, target, self.create_arg(args), self.create_arg(kwargs), name, type_expr)
        return proxy_factory_fn(node) if proxy_factory_fn is not None else self.proxy(node)

    def create_arg(self, a: Any) -> Argument:
        def leaf(x: Any) -> Any:
            if isinstance(x, Proxy):
                return x.node
            if isinstance(x, Node):
                return x
            return self._constant(x)

        return map_aggregate(a, leaf)

    def _constant(self, x: Any) -> Any:
        return x

    def iter(self, obj: Proxy) -> Iterator[Any]:
        raise TraceError(
            "Proxy object cannot be iterated. This can be attempted when the Proxy is used in a loop or as a "
            "*args or **kwargs function argument. See the torch.fx docs on pytorch.org for a more detailed "
            "explanation of what types of control flow can be traced, and check out the Proxy docstring for help "
            "troubleshooting Proxy iteration errors"
        )

    def to_bool(self, obj: Proxy) -> bool:
        raise TraceError("symbolically traced variables cannot be used as inputs to control flow")

    def keys(self, obj: Proxy) -> Any:
        return Attribute(obj, "keys")()


class GraphAppendingTracer(TracerBase):
    """The tracer of a Proxy made from a bare Node: operations append to the node's graph."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph


def _unpacked_count(frame: Any) -> int | None:
    """How many names the instruction the frame is running unpacks into (``a, b = value``), or None when it
    does not unpack a fixed number (a loop, ``*args``)."""
    for instruction in dis.get_instructions(frame.f_code):
        if instruction.offset == frame.f_lasti:
            return instruction.argval if instruction.opname == "UNPACK_SEQUENCE" else None
    return None


class Proxy:
    """Stands for a Node's value while tracing: calling an ember function or Tensor method on it, or an
    operator (``+``, ``@``, ``x[0]``, ``x.shape``), records a node and returns a Proxy of its result."""

    def __init__(self, node: Node, tracer: TracerBase | None = None) -> None:
        self.node = node
        self.tracer = tracer if tracer is not None else GraphAppendingTracer(node.graph)

    def __repr__(self) -> str:
        return f"Proxy({self.node.name})"

    def __getattr__(self, name: str) -> Attribute:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return Attribute(self, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Proxy:
        return self.tracer.create_proxy("call_method", "__call__", (self, *args), kwargs)

    def __iter__(self) -> Iterator[Any]:
        count = _unpacked_count(inspect.currentframe().f_back)  # type: ignore[union-attr]
        if count is not None:  # `a, b = proxy`: the items, as PyTorch's Proxy gives (a tuple-returning call)
            return (self[i] for i in range(count))
        return self.tracer.iter(self)

    def __bool__(self) -> bool:
        return self.tracer.to_bool(self)

    def __len__(self) -> int:
        raise RuntimeError(
            "'len' is not supported in symbolic tracing by default. If you want this call to be recorded, "
            "please call torch.fx.wrap('len') at module scope"
        )

    def keys(self) -> Any:
        return self.tracer.keys(self)

    def __deepcopy__(self, memo: dict) -> Proxy:
        return self

    @classmethod
    def __torch_function__(
        cls, orig_method: Callable[..., Any], types: Any, args: tuple = (), kwargs: Any = None
    ) -> Any:
        from ..overrides import is_tensor_method_or_property

        kwargs = kwargs or {}
        tracer = first_proxy(args, kwargs).tracer  # (dispatch came here: one is there)
        if is_tensor_method_or_property(orig_method):
            return tracer.create_proxy("call_method", orig_method.__name__, args, kwargs)
        return tracer.create_proxy("call_function", orig_method, args, kwargs)


class ParameterProxy(Proxy):
    """A parameter's Proxy under ``Tracer(param_shapes_constant=True)``: its shape, size, dim and numel
    are the parameter's own values, not nodes, so code branching on them traces."""

    def __init__(self, node: Node, tracer: TracerBase, param: Any) -> None:
        super().__init__(node, tracer)
        self.param = param

    @property
    def shape(self) -> Any:
        return self.param.shape

    @property
    def ndim(self) -> int:
        return self.param.ndim

    def size(self, dim: int | None = None) -> Any:
        return self.param.size() if dim is None else self.param.size(dim)

    def dim(self) -> int:
        return self.param.dim()

    def numel(self) -> int:
        return self.param.numel()

    def nelement(self) -> int:
        return self.param.nelement()


def first_proxy(args: tuple, kwargs: dict) -> Proxy | None:
    """The first Proxy among a call's arguments (lists, tuples and dicts searched), or None."""
    found: list[Proxy] = []
    map_aggregate((args, kwargs), lambda a: found.append(a) if isinstance(a, Proxy) else None)
    return found[0] if found else None


class Attribute(Proxy):
    """``proxy.name``: a call_method node when called, else a getattr node made when first used."""

    def __init__(self, root: Proxy, attr: str) -> None:
        self.root = root
        self.attr = attr
        self.tracer = root.tracer
        self._node: Node | None = None

    @property
    def node(self) -> Node:  # type: ignore[override]
        if self._node is None:
            self._node = self.tracer.create_proxy("call_function", builtins.getattr, (self.root, self.attr), {}).node
        return self._node

    def __call__(self, *args: Any, **kwargs: Any) -> Proxy:
        return self.tracer.create_proxy("call_method", self.attr, (self.root, *args), kwargs)


def _binary(op: Callable[..., Any], reflected: bool = False) -> Callable[..., Proxy]:
    def method(self: Proxy, other: Any) -> Proxy:
        args = (other, self) if reflected else (self, other)
        return self.tracer.create_proxy("call_function", op, args, {})

    return method


def _unary(op: Callable[..., Any]) -> Callable[..., Proxy]:
    def method(self: Proxy) -> Proxy:
        return self.tracer.create_proxy("call_function", op, (self,), {})

    return method


for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "lshift", "rshift"):
    setattr(Proxy, f"__{_name}__", _binary(getattr(operator, _name)))
    setattr(Proxy, f"__r{_name}__", _binary(getattr(operator, _name), reflected=True))
for _name, _op in (("and", operator.and_), ("or", operator.or_), ("xor", operator.xor)):
    setattr(Proxy, f"__{_name}__", _binary(_op))
    setattr(Proxy, f"__r{_name}__", _binary(_op, reflected=True))
for _name in ("eq", "ne", "lt", "le", "gt", "ge", "getitem", "contains"):
    setattr(Proxy, f"__{_name}__", _binary(getattr(operator, _name)))
for _name in ("neg", "pos", "invert", "abs"):
    setattr(Proxy, f"__{_name}__", _unary(getattr(operator, _name)))
Proxy.__hash__ = object.__hash__  # type: ignore[method-assign]  # __eq__ records a node; proxies stay hashable
