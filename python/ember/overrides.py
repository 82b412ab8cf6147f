"""ember.overrides, as ``torch.overrides``: ``__torch_function__`` dispatch (Note [Torch function dispatch]).

A Tensor subclass, or any object whose type defines ``__torch_function__``, gets the call of every ember op
it takes part in (ember.add, Tensor.add, ``x + y``, ...), and the innermost ``TorchFunctionMode`` entered on
the thread gets every op's call; ``Tensor.__torch_function__`` runs the op and makes tensor results
instances of the subclass, so a subclass keeps its type through ops as in PyTorch. Functions written in
Python (``nn.functional``) reach ``__torch_function__`` through the ops they are made of, so ``func`` is
that op (``ember.addmm`` for ``F.linear``), where PyTorch gives the Python function; tensor properties
(``x.shape``, ``x.grad``) do not dispatch."""

from __future__ import annotations

import contextlib
import functools
import inspect
import sys
import threading
import warnings
from collections.abc import Iterator
from typing import Any, Callable, Iterable

from . import _C
from ._C import Tensor

__all__ = [
    "BaseTorchFunctionMode", "TorchFunctionMode", "enable_reentrant_dispatch", "get_default_nowrap_functions",
    "get_ignored_functions", "get_overridable_functions", "get_testing_overrides",
    "handle_torch_function", "has_torch_function", "has_torch_function_unary", "has_torch_function_variadic",
    "is_tensor_like", "is_tensor_method_or_property",
]  # fmt: skip


_DISABLED = _C._disabled_torch_function_impl
_LEVEL_SUBCLASSES_OFF, _LEVEL_ALL_OFF = 1, 2


def _overrides(t: type) -> bool:
    """Whether objects of type t dispatch: it has a ``__torch_function__`` that is not the opt-out one,
    and it is not PyTorch's own tensor (imported beside ember: its handler would call ember's op again
    with ember's dispatch still on, forever; ember's ops see it as the foreign object it is)."""
    f = getattr(t, "__torch_function__", None)
    if f is None or f is _DISABLED:
        return False
    if Tensor in t.__mro__:  # (a real subclass; cheaper than issubclass through Tensor's metaclass)
        return True
    torch = _real_torch()
    return torch is None or not issubclass(t, torch.Tensor)


def _real_torch() -> Any:
    """PyTorch itself when it is imported beside ember (not ember standing in for it: ember.as_torch)."""
    torch = sys.modules.get("torch")
    foreign = torch is not None and getattr(torch, "Tensor", Tensor) is not Tensor
    return torch if foreign else None


def _pytorch_function(func: Callable) -> bool:
    """Whether func is PyTorch's own (its dispatch asks an ember tensor's handler about its ops too)."""
    if _real_torch() is None:
        return False
    module = getattr(func, "__module__", None) or getattr(getattr(func, "__objclass__", None), "__module__", None)
    return isinstance(module, str) and (module == "torch" or module.startswith("torch."))


def _get_overloaded_args(relevant_args: Iterable[Any], get_type_fn: Callable | None = None) -> list[Any]:
    """The arguments whose ``__torch_function__`` is called, in PyTorch's order: one per type, left to
    right, a subclass before its parents. Empty while subclass dispatch is disabled."""
    return _ordered(relevant_args, get_type_fn or type, skip_tensor=False)


def _ordered(candidates: Iterable[Any], type_of: Callable, skip_tensor: bool) -> list[Any]:
    if _C._torch_function_level() != 0:
        return []
    types: set[type] = set()
    found: list[Any] = []
    for arg in candidates:
        t = type_of(arg)
        if t in types or (skip_tensor and t is Tensor) or not _overrides(t):
            continue
        types.add(t)
        index = len(found)
        for i, earlier in enumerate(found):
            if issubclass(t, type_of(earlier)):
                index = i
                break
        found.insert(index, arg)
    return found


_PLAIN = frozenset({Tensor, int, float, bool, str, type(None), slice, type(Ellipsis)})


def _overloaded(args: tuple, kwargs: dict) -> list[Any]:
    """The arguments of a call of ember's whose ``__torch_function__`` is called, in order: what the
    compiled dispatch reads (plain tensors left out), with a quick way for the usual calls."""
    candidates = [a for a in args if type(a) not in _PLAIN]  # (most calls: tensors and numbers)
    if kwargs or list in map(type, candidates) or tuple in map(type, candidates):
        candidates = list(_candidates(args, kwargs))
    if not candidates:
        return []
    if len(candidates) == 1 or (len(candidates) == 2 and type(candidates[0]) is type(candidates[1])):
        # one subclass instance, or two of one type (a * b): nothing to order
        return candidates[:1] if _C._torch_function_level() == 0 and _overrides(type(candidates[0])) else []
    return _ordered(candidates, type, skip_tensor=True)


def _candidates(args: tuple, kwargs: dict) -> Iterator[Any]:
    """An op's arguments as the compiled dispatch reads them: each one, and the items of a list or tuple."""
    for a in (*args, *kwargs.values()):
        if type(a) in (list, tuple):
            yield from (e for e in a if type(e) not in _PLAIN)
        elif type(a) not in _PLAIN:
            yield a


# ------------------------------------------------------------------------------------------ modes
_local = threading.local()
_MODES_ENTERED = [0]  # modes entered on all threads: functions written in Python read it before asking more
_MODES_LOCK = threading.Lock()


def _stack() -> list:
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    return stack


def _push_on_torch_function_stack(mode: Any) -> None:
    """Enters ``mode`` on this thread (``torch._C._push_on_torch_function_stack``)."""
    stack = _stack()
    stack.append(mode)
    with _MODES_LOCK:
        _MODES_ENTERED[0] += 1
    _C._set_torch_function_mode_depth(len(stack))


def _pop_torch_function_stack() -> Any:
    """Leaves the innermost mode of this thread and returns it."""
    stack = _stack()
    if not stack:
        raise RuntimeError("Trying to pop from an empty mode stack")
    mode = stack.pop()
    with _MODES_LOCK:
        _MODES_ENTERED[0] -= 1
    _C._set_torch_function_mode_depth(len(stack))
    return mode


_push_mode, _pop_mode = _push_on_torch_function_stack, _pop_torch_function_stack


def _len_torch_function_stack() -> int:
    """How many TorchFunctionModes this thread has entered."""
    return len(_stack())


def _get_function_stack_at(i: int) -> Any:
    """The mode at position i of this thread's stack (0: the outermost)."""
    return _stack()[i]


def _get_current_function_mode() -> Any:
    """The innermost mode of this thread, or None."""
    stack = _stack()
    return stack[-1] if stack else None


def _get_current_function_mode_stack() -> list:
    """This thread's modes, outermost first."""
    return list(_stack())


def _is_torch_function_enabled() -> bool:
    """Whether subclasses' ``__torch_function__`` is called (not inside DisableTorchFunction(Subclass))."""
    return _C._torch_function_level() == 0


def _is_torch_function_all_disabled() -> bool:
    """Whether a DisableTorchFunction block runs (neither subclasses nor modes are called)."""
    return _C._torch_function_level() == _LEVEL_ALL_OFF


def _is_torch_function_mode_enabled() -> bool:
    """Whether a mode gets the next op: one was entered, and not inside a DisableTorchFunction block."""
    return bool(_stack()) and _C._torch_function_level() < _LEVEL_ALL_OFF


@contextlib.contextmanager
def _pop_mode_temporarily() -> Iterator[Any]:
    """Leaves the innermost mode for the block (a mode's own ops reach the modes below it)."""
    mode = _pop_torch_function_stack()
    try:
        yield mode
    finally:
        _push_on_torch_function_stack(mode)


class TorchFunctionMode:
    """A mode whose ``__torch_function__`` gets the call of every op run inside its ``with`` block, with
    the mode itself left for that call (so the ops it runs reach the modes below it). Subclasses define
    ``__torch_function__(self, func, types, args=(), kwargs=None)``."""

    inner: TorchFunctionMode

    def __init__(self) -> None:
        pass

    def __torch_function__(self, func: Callable, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        raise NotImplementedError

    def __enter__(self) -> TorchFunctionMode:
        _push_mode(self)
        return self

    def __exit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        _pop_mode()

    @classmethod
    def push(cls, *args: Any, **kwargs: Any) -> TorchFunctionMode:
        warnings.warn("`Mode.push()` is no longer necessary and can be replaced with just `with Mode()`", stacklevel=2)
        return cls(*args, **kwargs)


class BaseTorchFunctionMode(TorchFunctionMode):
    """A mode that runs every call as is: a base for modes that only watch or change some calls."""

    def __torch_function__(self, func: Callable, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        return func(*args, **(kwargs or {}))


# --------------------------------------------------------------------------------------- dispatch
def _qualified_name(func: Callable) -> str:
    owner = getattr(func, "__qualname__", None) or getattr(func, "__name__", repr(func))
    module = getattr(func, "__module__", None)
    return f"{module}.{owner}" if module else owner


def _handle(public_api: Callable, overloaded: list[Any], args: tuple, kwargs: dict, op: str | None = None) -> Any:
    """handle_torch_function's work; ``op``: the name of the compiled op that dispatched (its error
    words are PyTorch's for its compiled ops)."""
    types = tuple(type(a) for a in overloaded)
    if _MODES_ENTERED[0] and _is_torch_function_mode_enabled():
        stack = _stack()  # the mode leaves the stack for its own ops (as _pop_mode_temporarily, cheaper)
        mode = stack.pop()
        _C._set_torch_function_mode_depth(len(stack))
        try:
            result = mode.__torch_function__(public_api, types, args, kwargs)
        finally:
            stack.append(mode)
            _C._set_torch_function_mode_depth(len(stack))
        if result is not NotImplemented:
            return result
    for arg in overloaded:
        result = arg.__torch_function__(public_api, types, args, kwargs)
        if result is not NotImplemented:
            return result
    if op is not None:
        handlers = [f"  - tensor subclass {type(a)}" for a in overloaded]
        if _is_torch_function_mode_enabled():
            handlers.insert(0, f"  - mode object {_get_current_function_mode()}")
        raise TypeError(
            f"Multiple dispatch failed for '{op}'; all __torch_function__ handlers returned NotImplemented:\n\n"
            + "\n".join(handlers)
        )
    msg = (
        f"no implementation found for '{_qualified_name(public_api)}' on types that implement "
        f"__torch_function__: {[type(a) for a in overloaded]}"
    )
    if _is_torch_function_mode_enabled():
        msg += f" nor in mode {_get_current_function_mode()}"
    raise TypeError(msg)


def _mode_call(func: Callable, args: tuple, given: dict) -> Any:
    """The call of a function written in Python (a creation function) as the innermost mode answers it;
    ``given``: its keywords, of which those left at their default (None, False) are not passed."""
    kwargs = {k: v for k, v in given.items() if v is not None and v is not False}
    return _handle(func, [], args, kwargs)


def has_torch_function(relevant_args: Iterable[Any]) -> bool:
    """Whether a call with these arguments goes to ``__torch_function__``: one of them is not a plain
    Tensor and its type defines one (not the opt-out), or a TorchFunctionMode is on."""
    if _is_torch_function_mode_enabled():
        return True
    return _C._torch_function_level() == 0 and any(type(a) is not Tensor and _overrides(type(a)) for a in relevant_args)


def has_torch_function_unary(arg: Any) -> bool:
    """has_torch_function((arg,))."""
    return has_torch_function((arg,))


def has_torch_function_variadic(*args: Any) -> bool:
    """has_torch_function(args)."""
    return has_torch_function(args)


_has_torch_function, _has_torch_function_unary = has_torch_function, has_torch_function_unary
_has_torch_function_variadic = has_torch_function_variadic


def handle_torch_function(public_api: Callable, relevant_args: Iterable[Any], *args: Any, **kwargs: Any) -> Any:
    """Calls the ``__torch_function__`` of the innermost mode, then of each overloaded argument among
    ``relevant_args`` (a subclass before its parents), with ``public_api`` as ``func``; the first result
    that is not NotImplemented is returned. TypeError when none implements it."""
    return _handle(public_api, _get_overloaded_args(relevant_args), args, kwargs)


@functools.lru_cache(maxsize=None)
def _public_function(name: str) -> Callable:
    import ember

    f = getattr(ember, name, None)
    return f if callable(f) else getattr(_C, name)


# The method PyTorch names as ``func`` for an operator (``a + b`` reaches __torch_function__ as Tensor.add).
_OPERATOR_METHODS = {
    "__add__": "add", "__radd__": "add", "__sub__": "sub", "__mul__": "mul", "__rmul__": "mul",
    "__truediv__": "div", "__pow__": "pow", "__matmul__": "matmul", "__lt__": "lt", "__le__": "le",
    "__gt__": "gt", "__ge__": "ge", "__ne__": "ne", "__neg__": "neg", "__abs__": "abs", "__mod__": "remainder",
}  # fmt: skip


_OPERATOR_REFUSED = object()  # the hook's answer for an operator nothing implements: NotImplemented to Python
_ARITHMETIC = "add sub mul truediv floordiv mod pow matmul and or xor lshift rshift".split()
_BINARY_OPERATORS = {f"__{prefix}{op}__" for op in _ARITHMETIC for prefix in ("", "r", "i")}
_BINARY_OPERATORS |= {"__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"}


def _dispatch(name: str, method: bool, args: tuple, kwargs: dict, redirected: bool) -> Any:
    """The compiled ops' hook (Note [Torch function dispatch]): the call of op ``name`` (a Tensor method
    when ``method``, self first in args) goes to ``__torch_function__``; NotImplemented when nothing
    dispatches. ``redirected``: the op refused the call on a mark that an earlier call left (no argument
    here dispatches), so it runs as usual."""
    overloaded = _overloaded(args, kwargs)
    if overloaded or (_MODES_ENTERED[0] and _is_torch_function_mode_enabled()):
        public = _OPERATOR_METHODS.get(name, name) if method else name
        func = getattr(Tensor, public) if method else _public_function(public)
        op = ("ember.Tensor." if method else "ember.") + public
        if name not in _BINARY_OPERATORS:
            return _handle(func, overloaded, args, kwargs, op)
        try:
            return _handle(func, overloaded, args, kwargs, op)
        except TypeError:  # as PyTorch's: Python then tries the other operand's reflected operator
            return _OPERATOR_REFUSED
    if redirected:  # (with subclasses off: a type the compiled check counts and this one does not stays put)
        with DisableTorchFunctionSubclass():
            result = getattr(Tensor if method else _C, name)(*args, **kwargs)
        return _OPERATOR_REFUSED if result is NotImplemented else result  # an operator's own answer
    return NotImplemented


def is_tensor_like(inp: Any) -> bool:
    """A Tensor, or an object whose type defines ``__torch_function__``."""
    return type(inp) is Tensor or hasattr(inp, "__torch_function__")


def is_tensor_method_or_property(func: Callable) -> bool:
    """Whether func is a method or property of Tensor."""
    return getattr(Tensor, getattr(func, "__name__", ""), None) is func or (
        getattr(func, "__name__", None) == "__get__" and func in _property_getters()
    )


def _property_getters() -> set:
    return {p.__get__ for p in vars(Tensor).values() if isinstance(p, property)}


def get_ignored_functions() -> set[Callable]:
    """Functions that never dispatch: ember's creation functions without tensor arguments still reach
    modes, so none are listed."""
    return set()


def get_overridable_functions() -> dict[Any, list[Callable]]:
    """The overridable functions of each namespace: ember's registry ops, as functions and methods."""
    import ember

    rows = _C._op_registry()
    functions = [getattr(ember, r["name"]) for r in rows if r["function"] and hasattr(ember, r["name"])]
    methods = [getattr(Tensor, r["name"]) for r in rows if r["method"] and hasattr(Tensor, r["name"])]
    return {ember: functions, Tensor: methods}


def get_testing_overrides() -> dict[Callable, Callable]:
    """PyTorch's table of dummy overrides for its tests; ember has none."""
    return {}


def get_default_nowrap_functions() -> set[Callable]:
    """The calls whose results Tensor.__torch_function__ returns unconverted: the getters of ``_base``
    and ``grad``."""
    return set(_nowrap_functions())


@functools.lru_cache(maxsize=1)
def _nowrap_functions() -> frozenset:
    return frozenset({Tensor._base.__get__, Tensor.grad.__get__})


def _convert(ret: Any, cls: type) -> Any:
    """A result of an op on instances of cls: its tensors as cls (as_subclass), in tuples and lists too."""
    if cls is Tensor:
        return ret
    if isinstance(ret, Tensor) and not isinstance(ret, cls):
        return ret.as_subclass(cls)
    if isinstance(ret, (tuple, list)):
        items = [_convert(r, cls) for r in ret]
        return ret._make(items) if hasattr(ret, "_make") else type(ret)(items)
    return ret


def _tensor_torch_function(cls: type, func: Callable, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
    """Tensor.__torch_function__, what a subclass inherits: runs func with subclasses' dispatch off and
    makes tensor results instances of cls. NotImplemented when a type in ``types`` is not a base of cls."""
    for t in types:
        if t not in cls.__mro__ and not issubclass(cls, t):  # (the __mro__ test first: it is the usual answer)
            return NotImplemented
    if _pytorch_function(func):
        return NotImplemented  # (PyTorch's op with an ember tensor: running it would ask this handler again)
    ret = _DISABLED(func, types, args, kwargs)  # func run with subclasses' dispatch off, in one compiled call
    if func in _nowrap_functions():
        return ret
    return _convert(ret, cls)


class DisableTorchFunctionSubclass:
    """``torch._C.DisableTorchFunctionSubclass``: a block in which subclasses' ``__torch_function__`` is
    not called (modes still are)."""

    _level = _LEVEL_SUBCLASSES_OFF

    def __init__(self) -> None:
        self._saved: list[int] = []

    def __enter__(self) -> DisableTorchFunctionSubclass:
        current = _C._torch_function_level()
        self._saved.append(_C._set_torch_function_level(max(current, self._level)))
        return self

    def __exit__(self, *exc: Any) -> None:
        _C._set_torch_function_level(self._saved.pop())


class DisableTorchFunction(DisableTorchFunctionSubclass):
    """``torch._C.DisableTorchFunction``: a block in which neither subclasses' nor modes'
    ``__torch_function__`` is called."""

    _level = _LEVEL_ALL_OFF


@contextlib.contextmanager
def enable_reentrant_dispatch() -> Iterator[None]:
    """PyTorch's guard for re-entering its dispatcher from Python; ember has no such dispatcher, so the
    block runs as is."""
    yield


_disabled_torch_function_impl = _DISABLED  # the compiled one: dispatch compares types' attribute with it


# Tensor methods written in Python that do not dispatch: construction, printing, pickling and copying
# protocols (as_subclass is the converter itself, as PyTorch's does not dispatch).
_UNDISPATCHED_METHODS = {"as_subclass", "_make_subclass"}


def _dispatching_method(fn: Callable, name: str) -> Callable:
    """A Tensor method written in Python, dispatching as the compiled ones do: a subclass's or a mode's
    call goes to ``__torch_function__`` with the method as ``func``."""

    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        if type(self) is Tensor and not _MODES_ENTERED[0]:
            try:
                return fn(self, *args, **kwargs)
            except AttributeError:  # an argument of the wrong type: PyTorch's TypeError, where one is found
                _check_tensor_arguments(fn, name, (self, *args), kwargs, method=True)
                raise
        overloaded = _overloaded((self, *args), kwargs)
        if overloaded or _is_torch_function_mode_enabled():
            return _handle(getattr(Tensor, name), overloaded, (self, *args), kwargs, f"ember.Tensor.{name}")
        return fn(self, *args, **kwargs)

    functools.update_wrapper(method, fn)
    method.__name__, method.__qualname__ = name, f"Tensor.{name}"  # a handler reads func.__name__
    method.__signature__ = inspect.signature(fn)  # help() and the stubs show fn's parameters
    return method


# Compiled properties giving a tensor, which dispatch as PyTorch's (``func`` is ``Tensor.T.__get__``).
_DISPATCHING_PROPERTIES = ("T", "mT", "data")


def _dispatching_property(prop: property, name: str) -> property:
    original = prop.fget

    def get(self: Any) -> Any:
        if type(self) is Tensor and not _MODES_ENTERED[0]:
            return original(self)
        overloaded = _overloaded((self,), {})
        if overloaded or _is_torch_function_mode_enabled():
            return _handle(wrapped.__get__, overloaded, (self,), {}, f"ember.Tensor.{name}.__get__")
        return original(self)

    wrapped = property(get, prop.fset, prop.fdel, prop.__doc__)
    return wrapped


def _wrap_python_methods() -> None:
    for name, value in list(vars(Tensor).items()):
        dunder = name.startswith("__") and name.endswith("__")
        if type(value) is _FunctionType and not dunder and name not in _UNDISPATCHED_METHODS:
            setattr(Tensor, name, _dispatching_method(value, name))
    for name in _DISPATCHING_PROPERTIES:
        setattr(Tensor, name, _dispatching_property(vars(Tensor)[name], name))


_FunctionType = type(_wrap_python_methods)


def _dispatch_function(func: Callable, args: tuple, kwargs: dict) -> Any:
    """The hook of a DispatchingFunction whose call may dispatch (Note [Python functions dispatch]):
    handle_torch_function with the wrapper as ``func``, or the function itself when no argument's
    ``__torch_function__`` (nor a mode) takes the call."""
    if len(args) == 2 and isinstance(args[1], (list, tuple)) and func.__name__ == "einsum":
        args = (args[0], *args[1])  # einsum(eq, [a, b]) dispatches as einsum(eq, a, b), as PyTorch's
    overloaded = _overloaded(args, kwargs)
    if overloaded or (_MODES_ENTERED[0] and _is_torch_function_mode_enabled()):
        return _handle(func, overloaded, args, kwargs)
    return func.__wrapped__(*args, **kwargs)


# Functions that take tensors through ``*args`` or unannotated parameters.
_TENSOR_FUNCTIONS_UNANNOTATED = {"einsum", "gru", "lstm", "rnn_relu", "rnn_tanh", "grouped_mm"}
# The annotations of a tensor parameter, and whether None is allowed there.
_TENSOR_ANNOTATIONS = {"Tensor": False, "_C.Tensor": False, "Tensor | None": True, "Optional[Tensor]": True}


def _argument_type_error(func: Callable, args: tuple, kwargs: dict) -> None:
    """A DispatchingFunction's function failed with an AttributeError: see _check_tensor_arguments."""
    fn = func.__wrapped__
    _check_tensor_arguments(fn, fn.__name__, args, kwargs)


def _check_tensor_arguments(fn: Callable, name: str, args: tuple, kwargs: dict, method: bool = False) -> None:
    """After fn failed with an AttributeError: raises PyTorch's TypeError for the first argument that is not
    the Tensor its annotation asks for ("kron(): argument 'other' (position 2) must be Tensor, not str"; a
    method's positions do not count self); returns None (the AttributeError stands) when every argument fits."""
    from ._batched import TensorLike

    signature = inspect.signature(fn)
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError:
        return None
    annotations, parameters = fn.__annotations__, signature.parameters
    for position, (parameter, given) in enumerate(bound.arguments.items(), 0 if method else 1):
        optional = _TENSOR_ANNOTATIONS.get(str(annotations.get(parameter)))
        if optional is None:
            continue
        values = given if parameters[parameter].kind is inspect.Parameter.VAR_POSITIONAL else (given,)
        for value in values:
            if not (isinstance(value, (Tensor, TensorLike)) or (optional and value is None)):
                kind = type(value).__name__
                raise TypeError(f"{name}(): argument '{parameter}' (position {position}) must be Tensor, not {kind}")
    return None


def _takes_tensors(fn: Callable) -> bool:
    """Whether a parameter of fn is annotated with a Tensor type (these are the functions that dispatch, as
    PyTorch's functions taking tensors check ``has_torch_function``; one like ``manual_seed`` does not)."""
    if fn.__name__ in _TENSOR_FUNCTIONS_UNANNOTATED or fn.__name__.endswith("_with_indices"):
        return True
    annotations = getattr(fn, "__annotations__", {})
    return any("Tensor" in str(a) for name, a in annotations.items() if name != "return")


def _wrap_python_functions(*modules: Any) -> None:
    """Makes the public Python functions of ``modules`` that take tensors DispatchingFunctions (one wrapper per
    function, wherever it is reachable from), so that they reach ``__torch_function__`` as PyTorch's do."""
    wrappers: dict[int, Any] = {}
    for module in modules:
        for name, value in list(vars(module).items()):
            if name.startswith("_") or type(value) is not _FunctionType or not _takes_tensors(value):
                continue
            if not (value.__module__ or "").startswith("ember") or value.__module__ == __name__:
                continue
            if id(value) not in wrappers:
                wrappers[id(value)] = wrapper = _C._dispatching_function(value)
                # pickle finds a function by module and name: the wrapper takes the function's place in its
                # own module too, and the function (which objects may hold, as a default argument) is
                # found again as the wrapper's __wrapped__
                home = sys.modules.get(value.__module__)
                if home is not None and getattr(home, value.__name__, None) is value:
                    setattr(home, value.__name__, wrapper)
                if "<locals>" not in value.__qualname__:
                    value.__qualname__ += ".__wrapped__"
            setattr(module, name, wrappers[id(value)])
    _point_references_at(wrappers)


def _point_references_at(wrappers: dict[int, Any]) -> None:
    """References that ember's modules hold to wrapped functions become their wrappers: names imported from
    elsewhere (``ember.functional.einsum``) and default arguments (TransformerEncoderLayer's
    ``activation=F.relu``), so that an object keeping one pickles it by its public name, as ``safe_globals``
    lists it."""

    def fix(fn: Any) -> None:
        fn = getattr(fn, "__func__", fn)
        if type(fn) is not _FunctionType:
            return
        if fn.__defaults__ and any(id(d) in wrappers for d in fn.__defaults__):
            fn.__defaults__ = tuple(wrappers.get(id(d), d) for d in fn.__defaults__)
        if fn.__kwdefaults__ and any(id(d) in wrappers for d in fn.__kwdefaults__.values()):
            fn.__kwdefaults__ = {k: wrappers.get(id(d), d) for k, d in fn.__kwdefaults__.items()}

    for module in list(sys.modules.values()):
        if not getattr(module, "__name__", "").startswith("ember"):
            continue
        for name, obj in list(vars(module).items()):
            if id(obj) in wrappers:  # a module that imported the function by name (ember.functional.einsum)
                setattr(module, name, wrappers[id(obj)])
            elif isinstance(obj, type) and obj.__module__ == module.__name__:
                for member in vars(obj).values():
                    fix(member)
            else:
                fix(obj)


def install() -> None:
    """Gives Tensor its ``__torch_function__``, hands the dispatcher to the compiled module and makes the
    names reachable where PyTorch has them (``torch._C``'s)."""
    Tensor.__torch_function__ = classmethod(_tensor_torch_function)
    _wrap_python_methods()
    _C._set_torch_function_hook(_dispatch, _OPERATOR_REFUSED)
    _C._set_function_dispatch_hook(_dispatch_function, _argument_type_error)
    _C.DisableTorchFunction, _C.DisableTorchFunctionSubclass = DisableTorchFunction, DisableTorchFunctionSubclass
    for name in (
        "_get_function_stack_at", "_has_torch_function", "_has_torch_function_unary", "_has_torch_function_variadic",
        "_is_torch_function_all_disabled", "_is_torch_function_enabled", "_is_torch_function_mode_enabled",
        "_len_torch_function_stack", "_pop_torch_function_stack", "_push_on_torch_function_stack",
    ):  # fmt: skip
        setattr(_C, name, globals()[name])
