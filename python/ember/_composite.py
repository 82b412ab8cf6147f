"""The torch-level functions composed in Python from ember's differentiable ops (_composite_linalg,
_composite_math, _composite_shape): one export list, and their Tensor methods and in-place forms
attached as PyTorch has them."""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable

from . import _composite_creation, _composite_linalg, _composite_math, _composite_shape, _dtype_info, _runtime
from ._C import Tensor
from ._composite_creation import *  # noqa: F403
from ._composite_linalg import *  # noqa: F403
from ._composite_math import *  # noqa: F403
from ._composite_shape import *  # noqa: F403
from ._dtype_info import _scalar_name

__all__ = _composite_creation.__all__ + _composite_linalg.__all__ + _composite_math.__all__ + _composite_shape.__all__


_NUMPY_NAMES = {"axis": "dim", "keepdims": "keepdim"}


def _axis_alias(fn: Callable) -> Callable:
    """Adds numpy's ``axis=`` and ``keepdims=`` as other names for ``dim=`` and ``keepdim=``, as the
    registry's ops accept them."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        for alias, name in _NUMPY_NAMES.items():
            if alias in kwargs:
                if name in kwargs:
                    raise TypeError(f"{fn.__name__}() got both '{name}' and its alias '{alias}'")
                kwargs[name] = kwargs.pop(alias)
        return fn(*args, **kwargs)

    return wrapper


for _name in __all__:
    _fn = globals()[_name]
    if callable(_fn) and not isinstance(_fn, type) and "dim" in inspect.signature(_fn).parameters:
        globals()[_name] = _axis_alias(_fn)

# The Tensor methods PyTorch has for these functions (self is the first argument).
_METHOD_NAMES = """
    addbmm addmv addr adjoint allclose aminmax angle argwhere baddbmm broadcast_to conj conj_physical copysign
    corrcoef cov cross deg2rad diagflat diagonal_scatter diff dist dsplit equal float_power fmax fmin gcd
    heaviside hsplit inner is_conj is_neg isclose isneginf isposinf isreal kron lcm ldexp logit matrix_power
    moveaxis movedim nanquantile narrow_copy positive quantile rad2deg ravel renorm resolve_conj resolve_neg
    select_scatter sgn sinc slice_scatter tensor_split unflatten vdot vsplit
""".split()

# The in-place forms: the result computed, then written into self.
_INPLACE_NAMES = """
    addbmm addmv addr baddbmm conj_physical copysign deg2rad float_power gcd heaviside lcm ldexp logit rad2deg
    renorm sgn sinc
""".split()


def _inplace(name: str, fn: Callable) -> Callable:
    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        from . import grad_mode

        # Computed from a copy of self when autograd records it, so that writing into self does not
        # invalidate what the formula saved (PyTorch's native in-place ops save the old values likewise).
        source = self.clone() if self.requires_grad and grad_mode.is_grad_enabled() else self
        result = fn(source, *args, **kwargs)
        have, need = _scalar_name(self.dtype), _scalar_name(result.dtype)
        if name == "float_power" and result.dtype != self.dtype:
            raise RuntimeError(
                f"the base given to float_power_ has dtype {have} but the operation's result requires dtype {need}"
            )
        if not _dtype_info.can_cast(result.dtype, self.dtype):
            raise RuntimeError(f"result type {need} can't be cast to the desired output type {have}")
        if tuple(result.shape) != tuple(self.shape):
            raise RuntimeError(
                f"output with shape {list(self.shape)} doesn't match the broadcast shape {list(result.shape)}"
            )
        return self.copy_(result)

    method.__name__ = name + "_"
    method.__doc__ = f"In-place ``{name}``: the result written into self, which is returned."
    return method


def install() -> None:
    """Attaches the methods above, ``sum_to_size`` and the dtype predicates to ember.Tensor."""
    g = globals()
    for name in _METHOD_NAMES:
        setattr(Tensor, name, g[name])
    for name in _INPLACE_NAMES:
        setattr(Tensor, name + "_", _inplace(name, g[name]))
    Tensor.broadcast_to = _broadcast_to_method
    Tensor.sum_to_size = _composite_math.sum_to_size
    Tensor.is_complex = _dtype_info.is_complex
    Tensor.is_nonzero = _runtime.is_nonzero
    Tensor.is_same_size = _runtime.is_same_size
    Tensor.is_signed = _runtime.is_signed
    Tensor.H = property(_conj_transpose, doc="The conjugate transpose of a matrix (2-D tensor): its transpose.")
    Tensor.mH = property(_composite_shape.adjoint, doc="The conjugate transpose of the last two dims (a view).")


def _broadcast_to_method(self: Tensor, *size: Any, **kwargs: Any) -> Tensor:
    """``Tensor.broadcast_to``: the sizes as one sequence or as ints (``x.broadcast_to(2, 3)``, as PyTorch's
    method takes them), or as ``size=``."""
    if len(size) == 1 and not isinstance(size[0], int):
        size = size[0]
    if not isinstance(size, (tuple, list)):  # ember.Size is a tuple
        raise TypeError(
            f"broadcast_to(): argument 'size' (position 1) must be tuple of ints, not {type(size).__name__}"
        )
    return _composite_shape.broadcast_to(self, *((size,) if size or "size" not in kwargs else ()), **kwargs)


def _conj_transpose(self: Tensor) -> Tensor:
    if self.dim() != 2:
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {self.dim()}-D tensor.")
    return self.transpose(0, 1)
