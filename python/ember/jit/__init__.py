"""ember.jit: the parts of ``torch.jit`` that eager code calls, for code written to run scripted too.

ember has no TorchScript compiler (its ops already run in C++): ``script`` and ``trace`` return the function
or module they are given, unchanged, so models that decorate helpers with ``@torch.jit.script`` or call
``torch.jit.trace`` run eagerly; ``is_scripting()`` and ``is_tracing()`` say False, so code that branches on
them takes its eager path; ``ignore``, ``unused``, ``export``, ``interface`` and ``_overload_method`` leave
what they decorate as it is; ``annotate`` returns its value; ``fork`` runs its call at once and ``wait``
returns its result. What would need a TorchScript program (``save``, ``load``, ``freeze`` of a scripted
module's graph) raises ``NotImplementedError``."""

from __future__ import annotations

import warnings
from typing import Any, Callable, Final, TypeVar

from ..futures import Future

__all__ = [
    "Attribute", "Final", "Future", "ScriptFunction", "ScriptModule", "TracerWarning", "annotate",
    "enable_onednn_fusion", "export", "fork", "freeze", "ignore", "interface", "is_scripting", "is_tracing",
    "isinstance", "load", "optimize_for_inference", "save", "script", "script_if_tracing", "set_fusion_strategy",
    "trace", "trace_module", "unused", "wait",
]  # fmt: skip

_F = TypeVar("_F")
_warned: set[str] = set()


def _note_eager(name: str) -> None:
    if name not in _warned:
        _warned.add(name)
        warnings.warn(
            f"ember.jit.{name} returns what it is given unchanged: ember has no TorchScript compiler (its ops run "
            "in C++ already), so the code runs eagerly",
            UserWarning,
            stacklevel=3,
        )


def is_scripting() -> bool:
    """False: ember never runs code as TorchScript."""
    return False


def is_tracing() -> bool:
    """False: ember never traces."""
    return False


def script(obj: _F, optimize: Any = None, _frames_up: int = 0, _rcb: Any = None, example_inputs: Any = None) -> _F:
    """``obj`` (a function or Module) unchanged, with a one-time warning: it runs eagerly."""
    _note_eager("script")
    return obj


def trace(func: _F, example_inputs: Any = None, *args: Any, **kwargs: Any) -> _F:
    """``func`` (a function or Module) unchanged, with a one-time warning: it runs eagerly on every input."""
    _note_eager("trace")
    return func


def trace_module(mod: _F, inputs: Any = None, *args: Any, **kwargs: Any) -> _F:
    """``mod`` unchanged (as ``trace``)."""
    _note_eager("trace_module")
    return mod


def script_if_tracing(fn: _F) -> _F:
    """``fn`` unchanged: it is scripted only while tracing, which ember never does."""
    return fn


_script_if_tracing = script_if_tracing  # the private name torchvision decorates with


def ignore(drop: Any = False, **kwargs: Any) -> Any:
    """``@ignore`` or ``@ignore(drop=...)``: the function unchanged (the compiler would leave it to Python)."""
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn: _F) -> _F:
    """The function unchanged (the compiler would replace it with a raise)."""
    return fn


def export(fn: _F) -> _F:
    """The method unchanged (the compiler would compile it as an entry point)."""
    return fn


def interface(obj: _F) -> _F:
    """The class unchanged (a TorchScript interface type)."""
    return obj


def _overload_method(fn: _F) -> _F:
    return fn


def _overload(fn: _F) -> _F:
    return fn


def annotate(the_type: Any, the_value: Any) -> Any:
    """``the_value``: the type is for the compiler."""
    return the_value


def isinstance(obj: Any, target_type: Any) -> bool:  # noqa: A001  (torch.jit.isinstance)
    """Python's isinstance, for the container types it understands (``List[int]`` checks the elements)."""
    import builtins
    import typing

    origin = typing.get_origin(target_type)
    if origin is None:
        return builtins.isinstance(obj, target_type)
    if not builtins.isinstance(obj, origin):
        return False
    args = typing.get_args(target_type)
    if origin in (list, set) and args:
        return all(isinstance(item, args[0]) for item in obj)
    if origin is dict and args:
        return all(isinstance(k, args[0]) and isinstance(v, args[1]) for k, v in obj.items())
    if origin is tuple and args:
        return len(obj) == len(args) and all(isinstance(item, t) for item, t in zip(obj, args))
    return True


def fork(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
    """Runs ``func(*args, **kwargs)`` now (eager code has no parallel interpreter) and returns its Future,
    complete."""
    future: Future[Any] = Future()
    future.set_result(func(*args, **kwargs))
    return future


def wait(future: Future) -> Any:
    """The value of ``fork``'s call."""
    return future.wait()


class TracerWarning(Warning):
    """The warning PyTorch's tracer gives about a trace that may not generalise; ember never traces, so it is
    only ever filtered (``warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)``)."""


class Attribute:
    """``torch.jit.Attribute(value, type)``: the value, for a scripted module's attribute; ember keeps it."""

    def __new__(cls, value: Any, type: Any = None) -> Any:  # noqa: A002
        return value


class ScriptModule:
    """The type of a scripted module: ember makes none (``script`` returns the module itself), so
    ``isinstance(m, torch.jit.ScriptModule)`` is False."""


class ScriptFunction:
    """The type of a scripted function: ember makes none."""


def _needs_torchscript(what: str) -> NotImplementedError:
    return NotImplementedError(f"ember.jit.{what} needs a TorchScript program, which ember does not make")


def save(m: Any, f: Any, _extra_files: Any = None) -> None:
    raise _needs_torchscript("save (save a module's state_dict with ember.save instead)")


def load(f: Any, map_location: Any = None, _extra_files: Any = None, _restore_shapes: bool = False) -> Any:
    raise _needs_torchscript("load")


def freeze(mod: Any, preserved_attrs: Any = None, optimize_numerics: bool = True) -> Any:
    raise _needs_torchscript("freeze")


def optimize_for_inference(mod: _F, other_methods: Any = None) -> _F:
    """``mod`` unchanged (in eval mode, as PyTorch's): nothing to fuse."""
    return mod.eval() if hasattr(mod, "eval") else mod


_FUSION_STRATEGY: list[Any] = [[("STATIC", 2), ("DYNAMIC", 10)]]


def set_fusion_strategy(strategy: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Accepted and remembered (ember has no fuser); returns the former strategy, as PyTorch's."""
    former, _FUSION_STRATEGY[0] = _FUSION_STRATEGY[0], list(strategy)
    return former


def enable_onednn_fusion(enabled: bool) -> None:
    """Accepted: ember has no fuser to switch."""
