"""ember.fx.graph_module, as ``torch.fx.graph_module``: a Module whose forward is a Graph's code
(Note [FX graphs])."""

from __future__ import annotations

import copy
import itertools
import linecache
from typing import Any

from ..nn.modules.module import Module
from .graph import Graph

__all__ = ["GraphModule"]

_SOURCE_IDS = itertools.count()
_USER_PRESERVED_ATTRIBUTES_KEY = "_user_preserved_attributes"  # GraphModule.meta's key for attributes to keep


class _CodeOnlyModule(Module):
    """A Module with the given __dict__: what deepcopy rebuilds a GraphModule from (torchvision's
    DualGraphModule does the same)."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__()
        self.__dict__ = body


def _copy_attr(src: Any, dst: Module, target: str) -> None:
    """dst.<target> = src.<target>, making the empty Modules on the dotted path that dst lacks."""
    *prefix, field = target.split(".")
    for item in prefix:
        src = getattr(src, item)
        if not hasattr(dst, item) or not isinstance(getattr(dst, item), Module):
            dst.add_module(item, Module())
        dst = getattr(dst, item)
    value = getattr(src, field)
    if isinstance(value, Module):
        dst.add_module(field, value)
    elif field in getattr(src, "_buffers", {}):
        dst.register_buffer(field, value)
    else:
        setattr(dst, field, value)


class GraphModule(Module):
    """A Module made of a root (a Module, or a dict from qualified names to values) and a Graph: the
    submodules, parameters and attributes the graph names are copied from the root, and ``forward``
    is the graph's generated code (``code``), remade by ``recompile`` after the graph changes.
    Each GraphModule is an instance of a class of its own, whose forward is its code."""

    def __new__(cls, *args: Any, **kwargs: Any) -> GraphModule:
        if getattr(cls, "_ember_own_class", False):
            return super().__new__(cls)
        own = type(cls.__name__, (cls,), {"_ember_own_class": True, "__module__": cls.__module__})
        return super().__new__(own)

    def __init__(self, root: Module | dict[str, Any], graph: Graph, class_name: str = "GraphModule") -> None:
        super().__init__()
        type(self).__name__ = type(self).__qualname__ = class_name
        self.meta: dict[str, Any] = {}
        if isinstance(root, Module):
            if hasattr(root, "training"):
                self.training = root.training
            for node in graph.nodes:
                if node.op in ("get_attr", "call_module"):
                    _copy_attr(root, self, str(node.target))
        elif isinstance(root, dict):
            for node in graph.nodes:
                if node.op in ("get_attr", "call_module"):
                    target = str(node.target)
                    if target not in root:
                        raise RuntimeError(
                            f"Node {node} referenced target {target} but that target was not provided in ``root``!"
                        )  # noqa: E501
                    *prefix, field = target.split(".")
                    holder: Module = self
                    for item in prefix:
                        if not hasattr(holder, item):
                            holder.add_module(item, Module())
                        holder = getattr(holder, item)
                    value = root[target]
                    if isinstance(value, Module):
                        holder.add_module(field, value)
                    else:
                        setattr(holder, field, value)
        else:
            raise RuntimeError(f"Unsupported type {type(root).__name__} passed for root!")
        self.graph = graph

    @property
    def graph(self) -> Graph:
        return self._graph

    @graph.setter
    def graph(self, g: Graph) -> None:
        self.__dict__["_graph"] = g
        g.owning_module = self
        self.recompile()

    @property
    def code(self) -> str:
        return self._code

    def recompile(self) -> Any:
        """Regenerates forward from the graph (call it after changing the graph); returns the PythonCode."""
        python_code = self._graph.python_code(root_module="self")
        self.__dict__["_code"] = python_code.src
        filename = f"<eval_with_key>.{next(_SOURCE_IDS)}"
        linecache.cache[filename] = (len(python_code.src), None, python_code.src.splitlines(True), filename)
        namespace = dict(python_code.globals)
        exec(compile(python_code.src, filename, "exec"), namespace)
        type(self).forward = namespace["forward"]
        return python_code

    def add_submodule(self, target: str, m: Module) -> bool:
        """Puts ``m`` at the dotted ``target``, making empty Modules for the missing ones on the path; False
        (nothing added) when a name on the path holds something that is not a Module."""
        *prefix, field = target.split(".")
        holder: Module = self
        for item in prefix:
            child = getattr(holder, item, None)
            if child is None:
                child = Module()
                holder.add_module(item, child)
            elif not isinstance(child, Module):
                return False
            holder = child
        holder.add_module(field, m)
        return True

    def delete_submodule(self, target: str) -> bool:
        """Removes the submodule at the dotted ``target``; False when there is no Module there."""
        *prefix, field = target.split(".")
        holder: Any = self
        for item in prefix:
            holder = getattr(holder, item, None)
            if not isinstance(holder, Module):
                return False
        if not isinstance(getattr(holder, field, None), Module):
            return False
        delattr(holder, field)
        return True

    def delete_all_unused_submodules(self) -> None:
        """Removes every submodule the graph does not reach: a called module keeps its path and all its
        submodules, a fetched attribute the modules on its path."""
        used = {""}
        for node in self._graph.nodes:
            if node.op not in ("call_module", "get_attr"):
                continue
            path = str(node.target).split(".")
            kept = path if node.op == "call_module" else path[:-1]
            used.update(".".join(kept[: i + 1]) for i in range(len(kept)))
            if node.op == "call_module":
                called = self.get_submodule(str(node.target))
                used.update(f"{node.target}.{name}" for name, _ in called.named_modules() if name)
        for name in [name for name, _ in self.named_modules() if name not in used]:
            self.delete_submodule(name)

    def print_readable(self, print_output: bool = True) -> str:
        text = f"class {type(self).__name__}(ember.nn.Module):\n" + "".join(
            f"    {line}\n" for line in self._code.splitlines()
        )
        if print_output:
            print(text)
        return text

    def __deepcopy__(self, memo: dict) -> GraphModule:
        holder = Module()
        for name in ("_modules", "_parameters", "_buffers"):
            holder.__dict__[name] = copy.deepcopy(self.__dict__[name], memo)
        for key, value in self.__dict__.items():
            if key not in ("_modules", "_parameters", "_buffers", "_graph", "_code") and not key.startswith("_"):
                holder.__dict__[key] = copy.deepcopy(value, memo)
        result = GraphModule(holder, copy.deepcopy(self._graph, memo), type(self).__name__)
        memo[id(self)] = result
        return result

    def __copy__(self) -> GraphModule:
        return GraphModule(self, self._graph, type(self).__name__)

    def __reduce__(self) -> tuple[Any, ...]:
        # pickled as its state and its code's graph, remade by GraphModule(...) on load
        state = {k: v for k, v in self.__dict__.items() if k not in ("_graph", "_code")}
        return _rebuild, (state, copy.deepcopy(self._graph), type(self).__name__)

    def __str__(self) -> str:
        return super().__str__() + "\n\n" + self._code


def _rebuild(state: dict[str, Any], graph: Graph, class_name: str) -> GraphModule:
    holder = Module()
    holder.__dict__.update(state)
    return GraphModule(holder, graph, class_name)
