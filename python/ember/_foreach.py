"""PyTorch's ``torch._foreach_*`` functions: one op over each tensor of a list, as EMA updates, optimizers
and gradient clipping in other libraries call them (``torch._foreach_lerp_(ema, params, 0.1)``).

PyTorch fuses them into few kernels per device and dtype; here each is ember's op over each tensor, so
they differentiate, promote dtypes and follow devices as the op does. As PyTorch's: an out-of-place form
returns a tuple, an in-place form (trailing ``_``) returns the list it was given; a second argument may be
a list of tensors, a list of numbers, one number or, for the arithmetic ones, one tensor; lists must be
of one length ("Tensor lists must have the same number of tensors, got 2 and 1")."""

from __future__ import annotations

import numbers
from typing import Any, Callable, Sequence

from . import _C
from ._C import Tensor

_UNARY = (
    "abs", "acos", "asin", "atan", "ceil", "cos", "cosh", "erf", "erfc", "exp", "expm1", "floor", "frac",
    "lgamma", "log", "log10", "log1p", "log2", "neg", "reciprocal", "round", "rsqrt", "sigmoid", "sign", "sin",
    "sinh", "sqrt", "tan", "tanh", "trunc",
)  # fmt: skip
# binary ops: the Tensor method, and the one a number takes when it differs (maximum(x, 0.5) is clamp_min)
_BINARY = {
    "add": ("add", "add"), "sub": ("sub", "sub"), "mul": ("mul", "mul"), "div": ("div", "div"),
    "pow": ("pow", "pow"), "maximum": ("maximum", "clamp_min"), "minimum": ("minimum", "clamp_max"),
    "clamp_min": ("clamp_min", "clamp_min"), "clamp_max": ("clamp_max", "clamp_max"),
}  # fmt: skip
_WITH_ALPHA = ("add", "sub")
_HALF_FLOATS = (_C.dtype.float16, _C.dtype.bfloat16)
_TAKES_ONE_TENSOR = ("add", "sub", "mul", "div")


def _tensors(self: Sequence[Tensor]) -> Sequence[Tensor]:
    if not isinstance(self, (list, tuple)) or not all(isinstance(t, Tensor) for t in self):
        raise TypeError(f"expected a list or tuple of Tensors, got {type(self).__name__}")
    if not self:
        raise RuntimeError("Tensor list must have at least one tensor.")
    return self


def _same_length(self: Sequence[Tensor], other: Sequence[Any], tensors: bool = False) -> None:
    """PyTorch's words for lists of two lengths: a second argument that must be tensors (``tensors``, or a
    list of them) says so, else it is read as a list of numbers (an empty one too)."""
    if len(other) != len(self):
        if tensors or (other and all(isinstance(o, Tensor) for o in other)):
            raise RuntimeError(f"Tensor lists must have the same number of tensors, got {len(self)} and {len(other)}")
        raise RuntimeError("Tensor list must have same number of elements as scalar list.")


def _tensor_list(self: Sequence[Tensor], other: Sequence[Tensor]) -> Sequence[Tensor]:
    """``other``, a list of tensors as long as ``self`` (an empty one is refused with the lengths)."""
    if isinstance(other, (list, tuple)):
        _same_length(self, other, tensors=True)
    return _tensors(other)


def _per_tensor(self: Sequence[Tensor], other: Any, allow_tensor: bool) -> list[Any]:
    """``other`` as one argument per tensor of ``self``: a list's items, or the one number (or tensor)."""
    if isinstance(other, (list, tuple)):
        _same_length(self, other)
        return list(other)
    if isinstance(other, Tensor) and not allow_tensor:
        if other.dim() == 1 and other.numel() == len(self):  # addcmul's scalars as a 1-D CPU tensor
            return other.tolist()
        raise TypeError("expected a number, a list of numbers or a list of Tensors")
    if not isinstance(other, (numbers.Number, Tensor)):
        raise TypeError(f"expected a number, a list or a Tensor, got {type(other).__name__}")
    return [other] * len(self)


def _unary(op: str) -> tuple[Callable, Callable]:
    def out_of_place(self: Sequence[Tensor]) -> tuple[Tensor, ...]:
        return tuple(getattr(t, op)() for t in _tensors(self))

    def in_place(self: Sequence[Tensor]) -> Sequence[Tensor]:
        for t in _tensors(self):
            getattr(t, op + "_")()
        return self

    return out_of_place, in_place


def _binary(name: str) -> tuple[Callable, Callable]:
    tensor_op, number_op = _BINARY[name]

    def args_of(self: Sequence[Tensor], other: Any, alpha: Any) -> list[tuple[str, Any, dict]]:
        items = _per_tensor(_tensors(self), other, name in _TAKES_ONE_TENSOR)
        if alpha is not None and not all(isinstance(o, Tensor) for o in items):
            raise TypeError(f"_foreach_{name}(): alpha is taken with a list of Tensors or a Tensor, not numbers")
        extra = {"alpha": alpha} if alpha is not None else {}
        return [(tensor_op if isinstance(o, Tensor) else number_op, o, extra) for o in items]

    def out_of_place(self: Sequence[Tensor], other: Any, *, alpha: Any = None) -> tuple[Tensor, ...]:
        return tuple(getattr(t, op)(o, **kw) for t, (op, o, kw) in zip(self, args_of(self, other, alpha)))

    def in_place(self: Sequence[Tensor], other: Any, *, alpha: Any = None) -> Sequence[Tensor]:
        for t, (op, o, kw) in zip(self, args_of(self, other, alpha)):
            if name == "mul" and not isinstance(o, Tensor) and t.dtype in _HALF_FLOATS:
                # PyTorch's _foreach_mul_ rounds a number to a half-float tensor's dtype first, where
                # mul_ keeps it in float (Note [Half-float arithmetic]): so does this, to step as it does
                o = t.new_full((), o)
            if hasattr(t, op + "_"):
                getattr(t, op + "_")(o, **kw)
            else:  # maximum and minimum have no in-place method (nor in PyTorch): their result written into t
                t.copy_(getattr(t, op)(o, **kw))
        return self

    if name not in _WITH_ALPHA:  # alpha is add's and sub's keyword only

        def out_of_place_plain(self: Sequence[Tensor], other: Any) -> tuple[Tensor, ...]:
            return out_of_place(self, other)

        def in_place_plain(self: Sequence[Tensor], other: Any) -> Sequence[Tensor]:
            return in_place(self, other)

        return out_of_place_plain, in_place_plain
    return out_of_place, in_place


def _pointwise(op: str) -> tuple[Callable, Callable]:
    """addcmul / addcdiv: self + value * op(tensor1, tensor2), value a number, a list of them or a 1-D tensor."""

    def values(self: Sequence[Tensor], tensor1: Sequence[Tensor], tensor2: Sequence[Tensor], value: Any) -> list:
        _tensor_list(_tensors(self), tensor1)
        _tensor_list(self, tensor2)
        return _per_tensor(self, value, False)

    def out_of_place(self, tensor1, tensor2, value=1):  # noqa: ANN001, ANN202
        v = values(self, tensor1, tensor2, value)
        return tuple(getattr(t, op)(a, b, value=s) for t, a, b, s in zip(self, tensor1, tensor2, v))

    def in_place(self, tensor1, tensor2, value=1):  # noqa: ANN001, ANN202
        for t, a, b, s in zip(self, tensor1, tensor2, values(self, tensor1, tensor2, value)):
            getattr(t, op + "_")(a, b, value=s)
        return self

    return out_of_place, in_place


def _lerp_weights(self: Sequence[Tensor], tensors1: Sequence[Tensor], weight: Any) -> list[Any]:
    _tensor_list(_tensors(self), tensors1)
    return _per_tensor(self, weight, True)


def _foreach_lerp(self: Sequence[Tensor], tensors1: Sequence[Tensor], weight: Any) -> tuple[Tensor, ...]:
    return tuple(t.lerp(e, w) for t, e, w in zip(self, tensors1, _lerp_weights(self, tensors1, weight)))


def _foreach_lerp_(self: Sequence[Tensor], tensors1: Sequence[Tensor], weight: Any) -> Sequence[Tensor]:
    for t, e, w in zip(self, tensors1, _lerp_weights(self, tensors1, weight)):
        t.lerp_(e, w)
    return self


def _foreach_pow(self: Any, exponent: Any) -> tuple[Tensor, ...]:
    """``_foreach_pow(tensors, exponent)``, or ``_foreach_pow(number, exponents)``: number ** each tensor."""
    if isinstance(self, numbers.Number):
        return tuple(_C.pow(self, e) for e in _tensors(exponent))
    return _pow_out_of_place(self, exponent)


def _foreach_norm(self: Sequence[Tensor], ord: float = 2, dtype: Any = None) -> tuple[Tensor, ...]:  # noqa: A002
    """Each tensor's vector norm (a 0-d tensor), in ``dtype`` when given."""
    from . import linalg

    return tuple(linalg.vector_norm(t, ord, dtype=dtype) for t in _tensors(self))


def _foreach_max(self: Sequence[Tensor]) -> tuple[Tensor, ...]:
    """Each tensor's largest element (a 0-d tensor)."""
    return tuple(t.max() for t in _tensors(self))


def _foreach_powsum(self: Sequence[Tensor], ord: float = 2, dtype: Any = None) -> tuple[Tensor, ...]:  # noqa: A002
    """Each tensor's sum of |x| ** ord: the norm before its root."""
    return tuple(t.abs().pow(ord).sum(dtype=dtype) for t in _tensors(self))


def _foreach_mm(self: Sequence[Tensor], mat2: Sequence[Tensor]) -> tuple[Tensor, ...]:
    _tensor_list(_tensors(self), mat2)
    for t in self:
        if t.dim() != 2:
            raise RuntimeError("self must be a matrix")
    return tuple(a.mm(b) for a, b in zip(self, mat2))


def _foreach_clone(self: Sequence[Tensor]) -> tuple[Tensor, ...]:
    return tuple(t.clone() for t in _tensors(self))


def _foreach_copy_(self: Sequence[Tensor], src: Sequence[Tensor], non_blocking: bool = False) -> Sequence[Tensor]:
    _tensor_list(_tensors(self), src)
    for t, s in zip(self, src):
        t.copy_(s, non_blocking=non_blocking)
    return self


def _foreach_zero_(self: Sequence[Tensor]) -> Sequence[Tensor]:
    for t in _tensors(self):
        t.zero_()
    return self


__all__ = [
    "_foreach_clone", "_foreach_copy_", "_foreach_lerp", "_foreach_lerp_", "_foreach_max", "_foreach_mm",
    "_foreach_norm", "_foreach_pow", "_foreach_powsum", "_foreach_zero_",
]  # fmt: skip


def _install() -> None:
    """Makes ``_foreach_<op>`` and ``_foreach_<op>_`` for the unary, binary and pointwise families."""
    made: dict[str, Callable] = {}
    for op in _UNARY:
        made[f"_foreach_{op}"], made[f"_foreach_{op}_"] = _unary(op)
    for name in _BINARY:
        made[f"_foreach_{name}"], made[f"_foreach_{name}_"] = _binary(name)
    for op in ("addcmul", "addcdiv"):
        made[f"_foreach_{op}"], made[f"_foreach_{op}_"] = _pointwise(op)
    global _pow_out_of_place
    _pow_out_of_place = made.pop("_foreach_pow")  # _foreach_pow above also takes a number base
    for name, fn in made.items():
        fn.__name__ = fn.__qualname__ = name
        fn.__doc__ = f"``torch.{name}``: {name.removeprefix('_foreach_').rstrip('_')} over each tensor of the list."
        globals()[name] = fn
        __all__.append(name)


_pow_out_of_place: Callable = _foreach_pow
_install()
