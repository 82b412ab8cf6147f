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
    "_check",
    "_check_index",
    "_check_is_size",
    "_check_not_implemented",
    "_check_tensor_all",
    "_check_tensor_all_with",
    "_check_type",
    "_check_value",
    "_check_with",
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


_DEFAULT_CHECK_MESSAGE = (
    "Expected cond to be True, but got False. (Could this error message be improved? If so, please report an "
    "enhancement request to PyTorch.)"
)


def _check_with(error_type: type[BaseException], cond: Any, message: Any = None) -> None:
    """``torch._check_with``: raises ``error_type`` unless the Python bool ``cond`` holds; ``message`` is a
    callable giving the text (called only on failure, as PyTorch's)."""
    if not isinstance(cond, bool):
        if isinstance(cond, Tensor):
            raise TypeError(
                "cond must be a bool, but got a Tensor. For tensor conditions, use torch._check_tensor_all() to "
                "assert that all elements are true."
            )
        raise TypeError(f"cond must be a bool, but got {type(cond)}")
    if cond:
        return
    if message is not None and not callable(message):
        raise TypeError("message must be a callable")
    raise error_type(_DEFAULT_CHECK_MESSAGE if message is None else str(message()))


def _check(cond: Any, message: Any = None) -> None:
    """``torch._check``: a RuntimeError unless ``cond`` (a bool) holds."""
    _check_with(RuntimeError, cond, message)


def _check_index(cond: Any, message: Any = None) -> None:
    """``torch._check_index``: an IndexError unless ``cond`` holds."""
    _check_with(IndexError, cond, message)


def _check_value(cond: Any, message: Any = None) -> None:
    """``torch._check_value``: a ValueError unless ``cond`` holds."""
    _check_with(ValueError, cond, message)


def _check_type(cond: Any, message: Any = None) -> None:
    """``torch._check_type``: a TypeError unless ``cond`` holds."""
    _check_with(TypeError, cond, message)


def _check_not_implemented(cond: Any, message: Any = None) -> None:
    """``torch._check_not_implemented``: a NotImplementedError unless ``cond`` holds."""
    _check_with(NotImplementedError, cond, message)


def _check_is_size(i: Any, message: Any = None, *, max: int | None = None) -> None:
    """``torch._check_is_size``: ``i`` is a size (>= 0, and <= max when given)."""
    _check(i >= 0, message)
    if max is not None:
        _check(i <= max, message)


def _check_tensor_all_with(error_type: type[BaseException], cond: Tensor, message: Any = None) -> None:
    """``torch._check_tensor_all_with``: every element of the bool tensor ``cond`` holds."""
    if not isinstance(cond, Tensor) or cond.dtype != _C.dtype.bool:
        raise TypeError(f"cond must be a tensor with dtype torch.bool, but got {getattr(cond, 'dtype', type(cond))}")
    _check_with(error_type, bool(cond.all()), message)


def _check_tensor_all(cond: Tensor, message: Any = None) -> None:
    """``torch._check_tensor_all``: a RuntimeError unless every element of ``cond`` holds."""
    _check_tensor_all_with(RuntimeError, cond, message)


def _are_functorch_transforms_active() -> bool:
    """``torch._C._are_functorch_transforms_active``: whether a ``vmap`` runs on this thread (where code that
    reads a tensor's value cannot run). ember's ``func.grad``/``jvp`` run on ordinary tensors, so they do not
    count."""
    from . import _batched

    return bool(_batched.levels())


_C._are_functorch_transforms_active = _are_functorch_transforms_active
