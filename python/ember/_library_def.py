"""``ember.library.Library``: PyTorch's low-level op registration. ``Library(ns, "DEF")`` defines ops from
schema strings and ``impl`` gives them a kernel per dispatch key, reachable as ``ember.ops.<ns>.<name>`` (as
ops made with ``custom_op``). ember has no dispatcher, so the keys map onto what a CustomOpDef keeps: ``CPU``
and ``CUDA`` kernels, ``Meta`` (the fake), the composite and ``Autograd`` keys (a kernel that builds its own
graph). Autocast kernels are not run: ember's autocast casts matmul and conv itself. ember's own ops
(``aten``) cannot be replaced."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable, Sequence
from typing import Any

from . import library as _library

__all__ = ["Library", "define", "fallthrough_kernel", "impl", "register_autocast"]

_KINDS = ("DEF", "IMPL", "FRAGMENT")
_DEFINED_NAMESPACES: set[str] = set()  # namespaces a "DEF" library holds (PyTorch allows one)
_PENDING_KERNELS: dict[str, list[tuple[Callable[..., Any], str]]] = {}  # kernels for ops not defined yet
_DEVICE_KEYS = {"CPU": "cpu", "CUDA": "cuda"}
_NESTING = {"(": 1, "[": 1, ")": -1, "]": -1}  # how a schema character changes the bracket depth
_COMPOSITE_KEYS = ("", "CompositeImplicitAutograd", "CompositeExplicitAutograd", "Default", "Math")


def _split_top_level(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += _NESTING.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return [p.strip() for p in parts + [text[start:]] if p.strip()]


def _default(text: str) -> Any:
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError):
        return text.strip()  # an enum-like default (contiguous_format, mean): kept as its name


def _schema_signature(schema: str) -> tuple[str, inspect.Signature]:
    """``"foo.out(Tensor x, int n=2, *, Tensor(a!) out) -> Tensor"`` -> ("foo.out", its Python signature)."""
    if "(" not in schema or ")" not in schema:
        raise RuntimeError(f"Error parsing schema {schema!r}: expected 'name(args) -> returns'")
    name, rest = schema.split("(", 1)
    depth, end = 1, 0
    while depth and end < len(rest):  # the parenthesis that closes the arguments (returns may hold more)
        depth += _NESTING.get(rest[end], 0)
        end += 1
    arguments = rest[: end - 1]
    parameters, kind = [], inspect.Parameter.POSITIONAL_OR_KEYWORD
    for argument in _split_top_level(arguments):
        if argument == "*":
            kind = inspect.Parameter.KEYWORD_ONLY
            continue
        declaration, has_default, default = argument.partition("=")
        default = _default(default) if has_default else inspect.Parameter.empty
        parameters.append(inspect.Parameter(declaration.split()[-1], kind, default=default))
    return name.strip(), inspect.Signature(parameters)


def _no_kernel(qualname: str) -> Callable[..., Any]:
    def missing(*args: Any, **kwargs: Any) -> Any:
        devices = {a.device.type.upper() for a in args if hasattr(a, "device")} or {"CPU"}
        raise NotImplementedError(
            f"Could not run '{qualname}' with arguments from the '{sorted(devices)[0]}' backend: no kernel was "
            "registered for it (Library.impl)"
        )

    return missing


def _attach_kernel(op: _library.CustomOpDef, fn: Callable[..., Any], key: str) -> None:
    if key in _DEVICE_KEYS:
        op.register_kernel(_DEVICE_KEYS[key], fn)
    elif key == "Meta":
        op.register_fake(fn)
    elif key in _COMPOSITE_KEYS or key.startswith("Autograd"):
        op.register_kernel(None, fn)
        op._autograd_kernel = key != "CompositeExplicitAutograd"  # these keys see tensors with their graph
    # other keys (Autocast*, XLA, PrivateUse1, ...) have no counterpart in ember: nothing runs them


class Library:
    """``Library(ns, kind, dispatch_key="")``: ``kind`` is ``"DEF"`` (defines the namespace's ops; one per
    namespace), ``"FRAGMENT"`` (defines more) or ``"IMPL"`` (gives kernels only)."""

    def __init__(self, ns: str, kind: str, dispatch_key: str = "") -> None:
        if kind not in _KINDS:
            raise ValueError(f"Unsupported kind: {kind}")
        if kind == "DEF":
            if ns in _DEFINED_NAMESPACES or ns == "aten":
                raise RuntimeError(
                    f"Only a single TORCH_LIBRARY can be used to register the namespace {ns}; please put all of "
                    "your definitions in a single TORCH_LIBRARY block."
                )
            _DEFINED_NAMESPACES.add(ns)
        self.ns, self.kind, self.dispatch_key = ns, kind, dispatch_key
        self._op_defs: set[str] = set()

    def __repr__(self) -> str:
        return f"Library(kind={self.kind}, ns={self.ns}, dispatch_key={self.dispatch_key})>"

    def define(self, schema: str, alias_analysis: str = "", *, tags: Any = ()) -> str:
        """Defines the op ``schema`` names in this namespace; returns its name (with the overload)."""
        if self.kind == "IMPL":
            raise RuntimeError(f"define() cannot be called on an IMPL library (namespace {self.ns})")
        full_name, signature = _schema_signature(schema)
        base, _, overload = full_name.partition(".")
        qualname = f"{self.ns}::{full_name}"
        if qualname in _library._OPS:
            raise RuntimeError(
                f"Tried to register an operator ({self.ns}::{schema}) with the same name and overload name "
                "multiple times."
            )
        op = _library.CustomOpDef(self.ns, base, _no_kernel(f"{self.ns}::{base}"), mutates_args=())
        op._signature = signature
        _library._OPS[qualname] = op
        packet = _library._OPS.setdefault(f"{self.ns}::{base}", op)
        if overload:
            setattr(packet, overload, op)
        self._op_defs.add(qualname)
        for fn, key in _PENDING_KERNELS.pop(qualname, []):
            _attach_kernel(op, fn, key)
        return full_name

    def impl(self, op_name: Any, fn: Callable[..., Any], dispatch_key: str = "", *, with_keyset: bool = False,
             allow_override: bool = True) -> None:  # fmt: skip
        """Gives the op ``op_name`` (a name in this namespace, ``"ns::name"`` or the op) the kernel ``fn`` for
        ``dispatch_key`` (the library's own key when empty)."""
        if with_keyset:
            raise NotImplementedError(
                "Library.impl(with_keyset=True): ember has no dispatch key sets to pass a kernel as its first argument"
            )
        if isinstance(op_name, _library.CustomOpDef):
            qualname = op_name._qualname
        else:
            qualname = op_name if "::" in op_name else f"{self.ns}::{op_name}"
        if qualname.startswith("aten::"):
            raise NotImplementedError(
                f"ember cannot replace its own op {qualname}: ember has no dispatcher to route calls to a "
                "Python kernel (define a new op instead)"
            )
        key = dispatch_key or self.dispatch_key
        op = _library._OPS.get(qualname)
        if op is None:  # PyTorch keeps a kernel for an op defined later
            _PENDING_KERNELS.setdefault(qualname, []).append((fn, key))
        else:
            _attach_kernel(op, fn, key)

    def fallback(self, fn: Callable[..., Any], dispatch_key: str = "", *, with_keyset: bool = False) -> None:
        """A kernel for every op of a dispatch key: refused, since ember has no dispatcher to route every op through
        it (a fallback that never ran would be a silent difference)."""
        raise NotImplementedError("Library.fallback: ember has no dispatcher to send every op to a fallback kernel")

    def _destroy(self) -> None:
        for qualname in self._op_defs:
            _library._OPS.pop(qualname, None)
        if self.kind == "DEF":
            _DEFINED_NAMESPACES.discard(self.ns)


def define(qualname: str, schema: str, *, lib: Library | None = None, tags: Any = ()) -> None:
    """Defines ``"ns::name"`` with ``schema`` (its arguments and returns, ``"(Tensor x) -> Tensor"``)."""
    namespace, name = qualname.split("::", 1)
    (lib or Library(namespace, "FRAGMENT")).define(name + schema, tags=tags)


def impl(qualname: str, types: str | Sequence[str], func: Callable[..., Any] | None = None, *,
         lib: Library | None = None) -> Any:  # fmt: skip
    """Gives ``qualname`` a kernel for ``types`` (dispatch keys or device types); a decorator without
    ``func``."""
    keys = [types] if isinstance(types, str) else list(types)

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        for key in keys:
            key = {"cpu": "CPU", "cuda": "CUDA", "meta": "Meta", "default": ""}.get(key, key)
            (lib or Library(qualname.split("::", 1)[0], "FRAGMENT")).impl(qualname, fn, key)
        return fn

    return register(func) if func is not None else register


def fallthrough_kernel() -> None:
    """PyTorch's marker kernel that passes a call on to the next dispatch key; ember has no keys to pass."""
    raise NotImplementedError("fallthrough_kernel() should never be called.")


def register_autocast(op: Any, device_type: str, cast_inputs: Any, /, *, lib: Library | None = None) -> None:
    """Accepted and not run: ember's autocast casts matmul and conv itself, not custom ops."""
