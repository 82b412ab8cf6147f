"""PyTorch's dispatch keys as values (``torch.DispatchKey``, ``torch.DispatchKeySet``, and
``torch._C._ExcludeDispatchKeyGuard``). ember has no dispatcher: its ops are direct calls. The keys exist so
code that names them runs. torchvision builds a key set of the autocast keys at import and excludes them
around its ops. Excluding a key does what skipping its layer does in PyTorch, where ember has that layer:
the autocast keys turn autocast off for their device, and the autograd keys stop recording (as no_grad).
Other keys name layers ember does not have (Python, Functionalize, backends), so there is nothing to
skip."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any

__all__ = ["DispatchKey", "DispatchKeySet"]

# PyTorch's keys in its order; the values are positions here, not PyTorch's numbers (nothing reads them)
_NAMES = """Undefined Dense Quantized Sparse SparseCsr NestedTensor BackendSelect Python
FuncTorchDynamicLayerBackMode Functionalize Conjugate Negative ZeroTensor ADInplaceOrView AutogradOther
AutogradFunctionality AutogradNestedTensor AutocastCPU AutocastXPU AutocastIPU AutocastHPU AutocastMPS AutocastCUDA
AutocastPrivateUse1 FuncTorchBatched FuncTorchVmapMode FuncTorchGradWrapper PythonTLSSnapshot
FuncTorchDynamicLayerFrontMode PreDispatch PythonDispatcher""".split()
_BACKENDS = "CPU CUDA HIP XLA MPS IPU XPU HPU VE Lazy MTIA MAIA PrivateUse1 PrivateUse2 PrivateUse3 Meta".split()
# the per-backend blocks: the prefix of their keys (CPU, SparseCPU, AutogradCPU) and their markers' name
_BLOCKS = [("", "Dense"), ("Quantized", "Quantized"), ("Sparse", "Sparse"), ("SparseCsr", "SparseCsr"),
           ("NestedTensor", "NestedTensor"), ("Autograd", "AutogradFunctionality")]  # fmt: skip
_TAIL = """Autograd CompositeImplicitAutograd FuncTorchBatchedDecomposition CompositeImplicitAutogradNestedTensor
CompositeExplicitAutograd CompositeExplicitAutogradNonFunctional""".split()


def _members() -> list[tuple[str, int]]:
    names = list(_NAMES)
    for prefix, block in _BLOCKS:
        names += [f"StartOf{block}Backends", *(prefix + backend for backend in _BACKENDS)]
    values = {name: value for value, name in enumerate(names + _TAIL)}
    # each block's end marker is its last key (EndOfDenseBackends is Meta), as in PyTorch
    ends = {f"EndOf{block}Backends": values[prefix + "Meta"] for prefix, block in _BLOCKS}
    return [*values.items(), *ends.items()]


DispatchKey = enum.Enum("DispatchKey", _members(), module=__name__)
DispatchKey.__doc__ = "PyTorch's dispatch keys by name (``torch.DispatchKey.AutocastCPU``)."

_AUTOCAST_DEVICES = {DispatchKey.AutocastCPU: "cpu", DispatchKey.AutocastCUDA: "cuda"}
_AUTOGRAD_KEYS = {key for key in DispatchKey if key.name.startswith("Autograd") and key.name != "AutogradOther"}


class DispatchKeySet:
    """A set of dispatch keys: made from one key (or none), combined with ``|``, ``&`` and ``-``. It holds the
    keys given: PyTorch's stores backends and functionalities as bits, so there a set of two per-backend keys
    (CPU, AutogradCUDA) also holds their cross products (CUDA, AutogradCPU)."""

    def __init__(self, key: DispatchKey | None = None, /) -> None:
        if key is not None and not isinstance(key, DispatchKey):
            raise TypeError(f"DispatchKeySet(): expected a DispatchKey, got {type(key).__name__}")
        self._keys: frozenset[DispatchKey] = frozenset() if key is None else frozenset([key])

    @classmethod
    def _of(cls, keys: Iterable[DispatchKey]) -> DispatchKeySet:
        result = cls()
        result._keys = frozenset(keys)
        return result

    def __or__(self, other: DispatchKeySet) -> DispatchKeySet:
        return DispatchKeySet._of(self._keys | other._keys)

    def __and__(self, other: DispatchKeySet) -> DispatchKeySet:
        return DispatchKeySet._of(self._keys & other._keys)

    def __sub__(self, other: DispatchKeySet) -> DispatchKeySet:
        return DispatchKeySet._of(self._keys - other._keys)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DispatchKeySet) and self._keys == other._keys

    def __hash__(self) -> int:
        return hash(self._keys)

    def has(self, key: DispatchKey) -> bool:
        """Whether ``key`` is in the set."""
        return key in self._keys

    def add(self, key: DispatchKey) -> DispatchKeySet:
        """The set with ``key`` added (a new set, as PyTorch's)."""
        return DispatchKeySet._of(self._keys | {key})

    def remove(self, key: DispatchKey) -> DispatchKeySet:
        """The set without ``key`` (a new set)."""
        return DispatchKeySet._of(self._keys - {key})

    def __repr__(self) -> str:
        names = ", ".join(key.name for key in sorted(self._keys, key=lambda key: key.value))
        return f"DispatchKeySet({names})"


class _ExcludeDispatchKeyGuard:
    """``torch._C._ExcludeDispatchKeyGuard(keys)``: inside the block, ops skip the layers of ``keys``. ember
    honours the autocast keys (autocast off on their device) and the autograd keys (no graph recorded); the
    other layers do not exist in ember."""

    def __init__(self, keys: DispatchKeySet) -> None:
        if not isinstance(keys, DispatchKeySet):
            raise TypeError(f"_ExcludeDispatchKeyGuard(): expected a DispatchKeySet, got {type(keys).__name__}")
        self._keys = keys
        self._restore: list[Any] = []

    def __enter__(self) -> _ExcludeDispatchKeyGuard:
        from . import amp
        from .grad_mode import no_grad

        for key, device in _AUTOCAST_DEVICES.items():
            if self._keys.has(key):
                was = amp.autocast_mode.is_autocast_enabled(device)
                amp.autocast_mode.set_autocast_enabled(device, False)
                self._restore.append(lambda device=device, was=was: amp.autocast_mode.set_autocast_enabled(device, was))
        if any(self._keys.has(key) for key in _AUTOGRAD_KEYS):
            guard = no_grad()
            guard.__enter__()
            self._restore.append(lambda: guard.__exit__(None, None, None))
        return self

    def __exit__(self, *exc: Any) -> None:
        while self._restore:
            self._restore.pop()()


def install() -> None:
    """Makes the keys reachable where PyTorch has them: torch._C's and torch's."""
    from . import _C

    _C.DispatchKey, _C.DispatchKeySet, _C._ExcludeDispatchKeyGuard = (
        DispatchKey,
        DispatchKeySet,
        _ExcludeDispatchKeyGuard,
    )
