"""PyTorch's symbolic-shape names (``torch.SymInt``, ``torch.sym_max``, ...) for the plain numbers ember's
shapes always are, and the assertions a compiled program keeps (``_assert_async``, ``_assert_scalar``).

PyTorch's ``torch.compile`` traces sizes as SymInt/SymFloat/SymBool; a library written for it calls
``sym_max``/``sym_int``/... on sizes and checks ``isinstance(n, torch.SymInt)``. ember has no symbolic sizes,
so no object is a SymInt, and each ``sym_*`` function gives what PyTorch's gives for plain numbers."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, NoReturn

from . import _C
from ._C import Tensor

__all__ = [
    "SymBool",
    "SymFloat",
    "SymInt",
    "_assert_async",
    "_assert_scalar",
    "sym_constrain_range",
    "sym_constrain_range_for_size",
    "sym_float",
    "sym_fresh_size",
    "sym_int",
    "sym_ite",
    "sym_max",
    "sym_min",
    "sym_not",
    "sym_sqrt",
    "sym_sum",
]


class _Symbolic:
    """A symbolic number's class: none exists in ember (its sizes are always plain ints)."""

    def __init__(self, node: Any) -> NoReturn:
        raise TypeError(f"ember.{type(self).__name__}: ember has no symbolic sizes (its sizes are plain numbers)")


class SymInt(_Symbolic):
    pass


class SymFloat(_Symbolic):
    pass


class SymBool(_Symbolic):
    pass


def _number(a: Any, fn: str) -> Any:
    if isinstance(a, Tensor) or not isinstance(a, (int, float)):  # bool is an int
        raise TypeError(f"ember.{fn}: expected an int or float, got {type(a).__name__}")
    return a


def sym_int(a: Any) -> int:
    """``int(a)``, truncating toward zero."""
    return int(math.trunc(_number(a, "sym_int")))


def sym_float(a: Any) -> float:
    """``float(a)``."""
    return float(_number(a, "sym_float"))


def _extreme(pick: Any, a: Any, b: Any, fn: str) -> Any:
    """``pick(a, b)``; a float if either is one, as PyTorch's sym_max/sym_min."""
    result = pick(_number(a, fn), _number(b, fn))
    return float(result) if isinstance(a, float) or isinstance(b, float) else result


def sym_max(a: Any, b: Any) -> Any:
    """The larger of a and b; a float if either is one, as PyTorch's."""
    return _extreme(max, a, b, "sym_max")


def sym_min(a: Any, b: Any) -> Any:
    """The smaller of a and b; a float if either is one, as PyTorch's."""
    return _extreme(min, a, b, "sym_min")


def sym_not(a: Any) -> bool:
    """``not a``."""
    return not a


def sym_ite(b: Any, t: Any, f: Any) -> Any:
    """``t if b else f``."""
    return t if b else f


def sym_sqrt(a: Any) -> float:
    """``math.sqrt(a)``."""
    return math.sqrt(_number(a, "sym_sqrt"))


def sym_sum(args: Iterable[Any]) -> Any:
    """``sum(args)``."""
    return sum(args)


def sym_fresh_size(expr: Any) -> Any:
    """``expr`` itself: a plain size is already a fresh one."""
    return expr


def sym_constrain_range(size: Any, min: int | None = None, max: int | None = None) -> None:
    """Checks that the plain size lies in [min, max] (PyTorch's RuntimeError otherwise)."""
    lo = -math.inf if min is None else min
    hi = math.inf if max is None else max
    if not lo <= size <= hi:
        raise RuntimeError(f"Invalid value range for {size} between [{min}, {max}].")


def sym_constrain_range_for_size(size: Any, min: int | None = None, max: int | None = None) -> None:
    """As sym_constrain_range (a size's range)."""
    sym_constrain_range(size, min=min, max=max)


def _assert_async(condition: Tensor, message: str | None = None) -> None:
    """Raises RuntimeError unless the one-element tensor ``condition`` is nonzero (PyTorch checks it on the
    device without waiting; ember reads it)."""
    if not isinstance(condition, Tensor):
        raise TypeError(f"_assert_async(): argument 'self' must be Tensor, not {type(condition).__name__}")
    if not bool(condition):
        raise RuntimeError(message or "Expected Tensor with single nonzero value, but got zero")


def _assert_scalar(condition: Any, message: str) -> None:
    """Raises RuntimeError with ``message`` unless ``condition`` holds."""
    if not condition:
        raise RuntimeError(message)


def _are_functorch_transforms_active() -> bool:
    """``torch._C._are_functorch_transforms_active``: whether a ``vmap`` runs on this thread (where code that
    reads a tensor's value cannot run). ember's ``func.grad``/``jvp`` run on ordinary tensors, so they do not
    count."""
    from . import _batched

    return bool(_batched.levels())


_C._are_functorch_transforms_active = _are_functorch_transforms_active
