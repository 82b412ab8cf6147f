"""ember.overrides, as ``torch.overrides``, for code that imports its names: ember does not dispatch through
``__torch_function__`` (its ops are bound in C++ without PyTorch's override machinery), so
``has_torch_function`` says False, and a ``TorchFunctionMode`` entered as a context manager sees no calls:
it warns once that its ``__torch_function__`` is not called, and the block runs as usual."""

from __future__ import annotations

import warnings
from typing import Any, Callable, Iterable

__all__ = [
    "TorchFunctionMode", "get_ignored_functions", "get_overridable_functions", "get_testing_overrides",
    "handle_torch_function", "has_torch_function", "has_torch_function_unary", "has_torch_function_variadic",
    "is_tensor_like", "is_tensor_method_or_property",
]  # fmt: skip


def has_torch_function(relevant_args: Iterable[Any]) -> bool:
    """False: ember calls no ``__torch_function__``."""
    return False


def has_torch_function_unary(arg: Any) -> bool:
    return False


def has_torch_function_variadic(*args: Any) -> bool:
    return False


def handle_torch_function(public_api: Callable, relevant_args: Iterable[Any], *args: Any, **kwargs: Any) -> Any:
    """Only reached where has_torch_function said True, which ember's never does."""
    raise NotImplementedError("ember does not dispatch through __torch_function__")


def is_tensor_like(inp: Any) -> bool:
    """A Tensor, or an object whose type defines ``__torch_function__``."""
    from ._C import Tensor

    return isinstance(inp, Tensor) or hasattr(type(inp), "__torch_function__")


def is_tensor_method_or_property(func: Callable) -> bool:
    from ._C import Tensor

    return getattr(Tensor, getattr(func, "__name__", ""), None) is func


def get_ignored_functions() -> set[Callable]:
    return set()


def get_overridable_functions() -> dict[Any, list[Callable]]:
    return {}


def get_testing_overrides() -> dict[Callable, Callable]:
    return {}


_warned = [False]


class TorchFunctionMode:
    """A mode whose ``__torch_function__`` PyTorch calls for every op inside its ``with`` block; ember calls
    none, so the block runs as it would without the mode (one warning says so)."""

    def __torch_function__(self, func: Callable, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        return func(*args, **(kwargs or {}))

    def __enter__(self) -> TorchFunctionMode:
        if not _warned[0]:
            _warned[0] = True
            warnings.warn(
                f"{type(self).__name__}: ember does not dispatch through __torch_function__, so this "
                "TorchFunctionMode sees no calls; the block runs as it would without it",
                UserWarning,
                stacklevel=2,
            )
        return self

    def __exit__(self, *exc: Any) -> None:
        return None


class DisableTorchFunction:
    """``torch._C.DisableTorchFunction``: a block in which ``__torch_function__`` is not called. ember never
    calls it, so the block runs as it would anyway."""

    def __enter__(self) -> DisableTorchFunction:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None


class DisableTorchFunctionSubclass(DisableTorchFunction):
    """``torch._C.DisableTorchFunctionSubclass``: a block in which subclasses' ``__torch_function__`` is not
    called (torchvision's tv_tensors run their ops in one); in ember, as any block."""


def _disabled_torch_function_impl(func: Callable, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
    """``torch._C._disabled_torch_function_impl``, the ``__torch_function__`` a subclass sets to opt out:
    calls ``func`` as is."""
    return func(*args, **(kwargs or {}))


def install() -> None:
    """Makes the names reachable where PyTorch has them: ``torch._C``'s."""
    from . import _C

    _C.DisableTorchFunction, _C.DisableTorchFunctionSubclass = DisableTorchFunction, DisableTorchFunctionSubclass
    _C._disabled_torch_function_impl = _disabled_torch_function_impl
