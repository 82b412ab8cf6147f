"""``ember.ops.aten`` (``torch.ops.aten`` under ``ember.as_torch``): PyTorch's ATen ops by name, each
run by the ember function of that name.

Note [ATen op names]
PyTorch reaches every op by schema through its dispatcher: ``torch.ops.aten.add.Tensor(a, b)``.
ember has no dispatcher, but its functions take the same arguments as the ATen ops they are named
after, and pick the overload by the arguments themselves. So ``aten.<name>`` is an OpOverloadPacket
whose every overload (``.default``, ``.Tensor``, ``.int``, ...) runs the same ember callable: the
function ``ember.<name>``; else the Tensor method (``aten.add_``, ``aten.view``); else a function of
``ember.linalg``/``special``/``fft``/``nn.functional`` (``aten.linalg_solve`` is
``ember.linalg.solve``); else one of the few ATen-only ops written here (``_to_copy``, ``slice``,
``index``, ...). Packets and overloads are made once per name, so they work as dict keys: libraries
key tables of handlers by them at import (PyTorch Geometric's ``@implements(aten.clone.default)``).
The names are PyTorch's own (``_aten_names.py``, generated from PyTorch by tools/gen_aten_names.py):
an ATen op that ember cannot run still exists as a name and raises NotImplementedError when called,
and a name PyTorch does not have is an AttributeError, as there."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["OpOverload", "OpOverloadPacket"]


def _to_copy(input: Any, *, dtype: Any = None, layout: Any = None, device: Any = None, pin_memory: Any = None,
              non_blocking: bool = False, memory_format: Any = None) -> Any:  # fmt: skip
    from ._creation import _check_layout_and_pinning

    _check_layout_and_pinning(layout, False, "_to_copy")  # (strided only)
    kwargs = {"memory_format": memory_format} if memory_format is not None else {}
    copy = input.to(device=device or input.device, dtype=dtype or input.dtype, non_blocking=non_blocking, copy=True,
                    **kwargs)  # fmt: skip
    return copy.pin_memory() if pin_memory else copy


def _slice(input: Any, dim: int = 0, start: int | None = None, end: int | None = None, step: int = 1) -> Any:
    ndim = input.dim()
    if not -ndim <= dim < ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got {dim})")
    return input[(slice(None),) * (dim % ndim) + (slice(start, end, step),)]


def _index(input: Any, indices: Any) -> Any:
    return input[tuple(slice(None) if i is None else i for i in indices)]


_ATEN_ONLY: dict[str, Callable[..., Any]] = {
    "_to_copy": _to_copy,
    "slice": _slice,
    "index": _index,
    "alias": lambda input: input.view_as(input),
    "_unsafe_view": lambda input, size: input.view(size),
    "_pin_memory": lambda input, device=None: input.pin_memory(device),
    "sym_size": lambda input, dim=None: input.size() if dim is None else input.size(dim),
    "sym_stride": lambda input, dim=None: input.stride() if dim is None else input.stride(dim),
    "sym_numel": lambda input: input.numel(),
    "sym_storage_offset": lambda input: input.storage_offset(),
    "lift_fresh": lambda input: input,
}
_SUBMODULE_PREFIXES = (("linalg_", "linalg"), ("special_", "special"), ("fft_", "fft"))


def _resolve(name: str) -> Callable[..., Any] | None:
    """The ember callable that runs aten::<name> (Note [ATen op names]), or None."""
    import ember

    if name in _ATEN_ONLY:
        return _ATEN_ONLY[name]
    for source in (ember, ember.Tensor):
        fn = getattr(source, name, None)
        if callable(fn) and not isinstance(fn, type):
            return fn
    for prefix, module in _SUBMODULE_PREFIXES:
        if name.startswith(prefix):
            fn = getattr(getattr(ember, module), name[len(prefix) :], None)
            if callable(fn):
                return fn
    fn = getattr(ember.nn.functional, name, None)
    return fn if callable(fn) else None


class OpOverload:
    """One overload of an ATen op (``aten.add.Tensor``), as torch._ops.OpOverload: callable, named
    ``aten::add.Tensor``; every overload of a packet runs the same ember callable."""

    def __init__(self, packet: OpOverloadPacket, overload: str) -> None:
        self.overloadpacket = packet
        self._overloadname = overload
        self.__name__ = f"{packet._name}.{overload}"
        self.__qualname__ = self.__name__
        self.namespace = "aten"

    def name(self) -> str:
        packet = self.overloadpacket._name
        return f"aten::{packet}" if self._overloadname == "default" else f"aten::{packet}.{self._overloadname}"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.overloadpacket(*args, **kwargs)

    def __reduce__(self) -> tuple[Any, ...]:  # by name: unpickled, it is the same object
        return getattr, (self.overloadpacket, self._overloadname)

    def __repr__(self) -> str:
        return f"<OpOverload(op='aten.{self.overloadpacket._name}', overload='{self._overloadname}')>"

    def __str__(self) -> str:
        return f"aten.{self.__name__}"


class OpOverloadPacket:
    """``aten.<name>``, as torch._ops.OpOverloadPacket: callable, and each attribute that is not one of
    its own (``.default``, ``.Tensor``, ``.Scalar``, ...) one of its overloads."""

    def __init__(self, name: str) -> None:
        self._name = name
        self.__name__ = name
        self.__qualname__ = name
        self._overloads: dict[str, OpOverload] = {}
        self._fn: Callable[..., Any] | None = None

    def __getattr__(self, overload: str) -> OpOverload:
        if overload.startswith("__"):
            raise AttributeError(overload)
        op = self._overloads.get(overload)
        if op is None:
            op = self._overloads[overload] = OpOverload(self, overload)
        return op

    def overloads(self) -> list[str]:
        """The overloads asked for so far (ember does not know an op's schemas)."""
        return list(self._overloads)

    def name(self) -> str:
        return f"aten::{self._name}"

    def __reduce__(self) -> tuple[Any, ...]:
        return getattr, (aten, self._name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._fn is None:
            self._fn = _resolve(self._name)
            if self._fn is None:
                raise NotImplementedError(
                    f"ember has no implementation of the ATen op aten::{self._name} (ember.ops.aten runs ember's "
                    "functions by their ATen names; this one has no ember counterpart)"
                )
        return self._fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<OpOverloadPacket(op='aten.{self._name}')>"

    def __str__(self) -> str:
        return f"aten.{self._name}"


class AtenNamespace:
    """``ember.ops.aten``: an OpOverloadPacket for each of PyTorch's ATen op names."""

    def __init__(self) -> None:
        self._packets: dict[str, OpOverloadPacket] = {}

    def __getattr__(self, name: str) -> OpOverloadPacket:
        packet = self._packets.get(name)
        if packet is None:
            from ._aten_names import ATEN_OP_NAMES

            if name not in ATEN_OP_NAMES:
                raise AttributeError(f"'_OpNamespace' 'aten' object has no attribute '{name}'")
            packet = self._packets[name] = OpOverloadPacket(name)
        return packet

    def __reduce__(self) -> str:
        return "aten"  # the module's one namespace object


aten = AtenNamespace()
