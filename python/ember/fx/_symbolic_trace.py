"""ember.fx._symbolic_trace, as ``torch.fx._symbolic_trace``: the Tracer that runs a Module's forward
on Proxies to record its Graph, ``symbolic_trace`` and ``wrap`` (Note [FX graphs])."""

from __future__ import annotations

import builtins
import functools
import inspect
import math
import sys
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

from .graph import Graph
from .graph_module import GraphModule
from .node import Argument
from .proxy import ParameterProxy, TracerBase, first_proxy

__all__ = ["PH", "Tracer", "is_fx_tracing", "symbolic_trace", "wrap"]

_TRACING = [0]
_EAGER = {"is_tensor", "is_storage"}  # type checks PyTorch answers on a Proxy, not record
_WRAPPED_GLOBALS: list[tuple[dict[str, Any], str]] = []  # (a module's globals, a name) from fx.wrap


class _PlaceholderMarker:
    def __repr__(self) -> str:
        return "PH"


PH = _PlaceholderMarker()


def is_fx_tracing() -> bool:
    return _TRACING[0] > 0


def wrap(fn_or_name: str | Callable[..., Any]) -> Any:
    """Called at module level: the function (or the name of a global function of the calling module)
    stays one call_function node when traced, instead of being traced through. Returns its argument."""
    name = fn_or_name if isinstance(fn_or_name, str) else getattr(fn_or_name, "__name__", None)
    if not isinstance(name, str) or not name.isidentifier():
        raise NotImplementedError(
            f"wrap must be called on a function or a name of a global function, got {fn_or_name!r}"
        )
    frame = sys._getframe(1)
    if frame.f_code.co_name != "<module>":
        raise NotImplementedError("wrap must be called at the top level of a module")
    _WRAPPED_GLOBALS.append((frame.f_globals, name))
    return fn_or_name


def _leaf_call(fn: Callable[..., Any]) -> Callable[..., Any]:
    """fn, recorded as one call_function node when a Proxy is among its arguments."""

    @functools.wraps(fn)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        proxy = first_proxy(args, kwargs)
        if proxy is not None:
            return proxy.tracer.create_proxy("call_function", fn, args, kwargs)
        return fn(*args, **kwargs)

    wrapped.__ember_fx_original__ = fn  # type: ignore[attr-defined]
    return wrapped


class _Patcher:
    """Replaces attributes and dict entries for the length of a trace, and puts them back."""

    def __init__(self) -> None:
        self.undo: list[Callable[[], None]] = []

    def set(self, owner: Any, name: str, value: Any) -> None:
        """owner[name] (a globals dict) or owner.name (a module or class defining it) = value, until restore."""
        assign = owner.__setitem__ if isinstance(owner, dict) else lambda key, v: setattr(owner, key, v)
        old = owner[name] if isinstance(owner, dict) else vars(owner)[name]
        assign(name, value)
        self.undo.append(lambda: assign(name, old))

    def restore(self) -> None:
        while self.undo:
            self.undo.pop()()


class Tracer(TracerBase):
    """Records a Module's (or a function's) forward as a Graph: its inputs become placeholders, the ops
    on them nodes. Calls of ``ember.nn`` modules (but Sequential) stay call_module nodes (override
    ``is_leaf_module`` to choose), and so do the Python functions of ember, ember.nn.functional,
    linalg, special and fft, and of ``autowrap_modules`` (math) and ``autowrap_functions``."""

    def __init__(
        self,
        autowrap_modules: tuple[ModuleType, ...] = (math,),
        autowrap_functions: tuple[Callable[..., Any], ...] = (),
        param_shapes_constant: bool = False,
    ) -> None:
        self._autowrap_modules = autowrap_modules
        self._autowrap_functions = autowrap_functions
        self.param_shapes_constant = param_shapes_constant
        self.graph = Graph()
        self.root: Any = None
        self.submodule_paths: dict[int, str] | None = None
        self.tensor_attrs: dict[int, str] = {}

    # ------------------------------------------------------------------ choices a subclass may override
    def is_leaf_module(self, m: Any, module_qualified_name: str) -> bool:
        from ..nn import Sequential

        module = type(m).__module__
        return (module.startswith("ember.nn") or module.startswith("torch.nn")) and not isinstance(m, Sequential)

    def path_of_module(self, mod: Any) -> str:
        if self.submodule_paths is None:
            self.submodule_paths = {id(m): name for name, m in self.root.named_modules()}
        path = self.submodule_paths.get(id(mod))
        if path is None:
            raise NameError("module is not installed as a submodule")
        return path

    def call_module(self, m: Any, forward: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
        path = self.path_of_module(m)
        if not self.is_leaf_module(m, path):
            return forward(*args, **kwargs)
        return self.create_proxy("call_module", path, args, kwargs)

    def getattr(self, attr: str, attr_val: Any, parameter_proxy_cache: dict[str, Any]) -> Any:
        from .._C import Tensor

        if isinstance(attr_val, Tensor) and id(attr_val) in self.tensor_attrs:
            path = self.tensor_attrs[id(attr_val)]
            if path not in parameter_proxy_cache:
                factory = (lambda node: ParameterProxy(node, self, attr_val)) if self.param_shapes_constant else None
                # a subclass's create_proxy may not take proxy_factory_fn (torchvision's): PyTorch passes it only
                # where the signature names it
                takes_factory = "proxy_factory_fn" in inspect.signature(self.create_proxy).parameters
                given = {"proxy_factory_fn": factory} if takes_factory else {}
                parameter_proxy_cache[path] = self.create_proxy("get_attr", path, (), {}, **given)
            return parameter_proxy_cache[path]
        return attr_val

    def _constant(self, x: Any) -> Argument:
        from .._C import Tensor
        from ..nn import Module

        if isinstance(x, Tensor):
            path = self.tensor_attrs.get(id(x))
            if path is None:  # a tensor made while tracing, or a global: an attribute of the root
                i = 0
                while hasattr(self.root, f"_tensor_constant{i}"):
                    i += 1
                path = f"_tensor_constant{i}"
                setattr(self.root, path, x)
                self.tensor_attrs[id(x)] = path
            return self.create_node("get_attr", path, (), {})
        if isinstance(x, Module):
            return self.create_node("get_attr", self.path_of_module(x), (), {})
        return x

    # ------------------------------------------------------------------ the trace
    def trace(self, root: Any, concrete_args: dict[str, Any] | None = None) -> Graph:
        from ..nn import Module

        if isinstance(root, Module):
            self.root, fn = root, type(root).forward
        else:
            self.root, fn = Module(), root
        self.graph = Graph(tracer_cls=type(self))
        self.submodule_paths = None
        self.tensor_attrs = {id(t): name for name, t in self.root.named_parameters()}
        self.tensor_attrs.update({id(t): name for name, t in self.root.named_buffers()})
        args = self._placeholders(fn, isinstance(root, Module), concrete_args or {})
        patcher = _Patcher()
        _TRACING[0] += 1
        try:
            self._patch(patcher, fn)
            result = fn(*args)
        finally:
            patcher.restore()
            _TRACING[0] -= 1
        self.create_node("output", "output", (self.create_arg(result),), {})
        return self.graph

    def _placeholders(self, fn: Callable[..., Any], is_method: bool, concrete_args: dict[str, Any]) -> list[Any]:
        params = list(inspect.signature(fn).parameters.values())
        args: list[Any] = [self.root] if is_method else []
        for p in params[1:] if is_method else params:
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            if p.name in concrete_args:
                value = concrete_args[p.name]
                if value is not PH:
                    args.append(value)
                    continue
            default = () if p.default is inspect.Parameter.empty else (p.default,)
            args.append(self.create_proxy("placeholder", p.name, default, {}))
        return args

    def _patch(self, patcher: _Patcher, fn: Callable[..., Any]) -> None:
        from ..nn import Module

        tracer = self
        original_call, original_getattr = Module.__call__, Module.__getattr__
        cache: dict[str, Any] = {}

        def module_call(mod: Any, *args: Any, **kwargs: Any) -> Any:
            return tracer.call_module(mod, lambda *a, **k: original_call(mod, *a, **k), args, kwargs)

        def module_getattr(mod: Any, attr: str) -> Any:
            return tracer.getattr(attr, original_getattr(mod, attr), cache)

        patcher.set(Module, "__call__", module_call)
        patcher.set(Module, "__getattr__", module_getattr)
        wrapped: dict[int, Callable[..., Any]] = {}
        for module in self._wrappable_modules():
            for name, value in list(vars(module).items()):
                if (
                    name.startswith("_")
                    or name in _EAGER
                    or not (inspect.isfunction(value) or inspect.isbuiltin(value))
                ):
                    continue
                if id(value) not in wrapped:
                    wrapped[id(value)] = _leaf_call(value)
                patcher.set(module, name, wrapped[id(value)])
        for extra in self._autowrap_functions:
            wrapped.setdefault(id(extra), _leaf_call(extra))
        # the same functions where the traced code imported them by name
        global_dicts = [getattr(fn, "__globals__", {})]
        if isinstance(self.root, Module):
            global_dicts += [getattr(type(m).forward, "__globals__", {}) for m in self.root.modules()]
        for g in {id(d): d for d in global_dicts}.values():
            for name, value in list(g.items()):
                if id(value) in wrapped and not isinstance(value, (type, ModuleType)):
                    patcher.set(g, name, wrapped[id(value)])
        for g, name in _WRAPPED_GLOBALS:
            if name in g:
                patcher.set(g, name, _leaf_call(g[name]))
            elif hasattr(builtins, name):  # wrap("len"): the builtin, as that module sees it
                g[name] = _leaf_call(getattr(builtins, name))
                patcher.undo.append(lambda g=g, name=name: g.pop(name, None))

    def _wrappable_modules(self) -> Iterator[ModuleType]:
        import ember

        yield from (ember, ember.nn.functional, ember.linalg, ember.special, ember.fft)
        yield from self._autowrap_modules


def symbolic_trace(root: Any, concrete_args: dict[str, Any] | None = None) -> GraphModule:
    """The GraphModule of root (a Module or a function) traced with a Tracer: its forward, recorded."""
    from ..nn import Module

    tracer = Tracer()
    graph = tracer.trace(root, concrete_args)
    name = type(root).__name__ if isinstance(root, Module) else root.__name__
    return GraphModule(tracer.root, graph, name)
