"""``torch._vmap_internals``: PyTorch's first vmap API, which libraries still import (pytorch-minimize computes
Jacobians and Hessian products with ``_vmap``). Built on ``ember.func.vmap``; what it adds is the old API's checks
(outputs are a tensor or a tuple of tensors, out_dims an int or a tuple of ints) and ``allow_none_pass_through``,
which lets a function return None (``autograd.grad`` of an unused input) and gives None back."""

from __future__ import annotations

import functools
import warnings
from typing import Any, Callable

from ._C import Tensor

__all__ = ["vmap"]


def _get_name(func: Callable) -> str:
    return getattr(func, "__name__", repr(func))


def _validate_outputs(outputs: Any, func: Callable) -> None:
    if isinstance(outputs, Tensor):
        return
    name = _get_name(func)
    if not isinstance(outputs, tuple):
        raise ValueError(
            f"vmap({name}, ...): `{name}` must only return Tensors, got type {type(outputs)} as the return."
        )
    for idx, output in enumerate(outputs):
        if not isinstance(output, Tensor):
            raise ValueError(
                f"vmap({name}, ...): `{name}` must only return Tensors, got type {type(output)} for return {idx}."
            )


def _check_out_dims_is_int_or_int_tuple(out_dims: Any, func: Callable) -> None:
    if isinstance(out_dims, int) or (isinstance(out_dims, tuple) and all(isinstance(d, int) for d in out_dims)):
        return
    raise ValueError(
        f"vmap({_get_name(func)}, ..., out_dims={out_dims}): `out_dims` must be an int or a tuple of int representing "
        "where in the outputs the vmapped dimension should appear."
    )


def vmap(func: Callable, in_dims: Any = 0, out_dims: Any = 0) -> Callable:
    """Deprecated (FutureWarning, as PyTorch's): use ``ember.vmap``."""
    warnings.warn("Please use `torch.vmap` instead of `torch._vmap_internals.vmap`.", FutureWarning, stacklevel=2)
    return _vmap(func, in_dims, out_dims)


def _vmap(func: Callable, in_dims: Any = 0, out_dims: Any = 0, allow_none_pass_through: bool = False) -> Callable:
    """vmap with the old API's rules; with allow_none_pass_through, None outputs come back as None."""
    from .func import vmap as func_vmap

    @functools.wraps(func)
    def wrapped(*args: Any) -> Any:
        _check_out_dims_is_int_or_int_tuple(out_dims, func)
        none_at: list[bool] = []

        def tensors_only(*batched: Any) -> Any:
            outputs = func(*batched)
            if allow_none_pass_through:
                flat = outputs if isinstance(outputs, tuple) else (outputs,)
                none_at[:] = [o is None for o in flat]
                # a None becomes an empty placeholder, unbatched, which the caller gets back as None
                flat = tuple(Tensor() if o is None else o for o in flat)
                outputs = flat if isinstance(outputs, tuple) else flat[0]
            _validate_outputs(outputs, func)
            return outputs

        result = func_vmap(tensors_only, in_dims, out_dims)(*args)
        if not any(none_at):
            return result
        if not isinstance(result, tuple):
            return None
        return tuple(None if is_none else r for r, is_none in zip(result, none_at))

    return wrapped
