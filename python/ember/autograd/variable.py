"""Variable: PyTorch's pre-0.4 wrapper, kept as PyTorch keeps it (a Tensor is a Variable)."""

from __future__ import annotations

from typing import Any

from .. import _C
from .._C import Tensor


class _VariableMeta(type):
    def __instancecheck__(cls, other: Any) -> bool:
        return isinstance(other, Tensor)


class _ExecutionEngine:
    """Variable._execution_engine: queue_callback runs a function when the current backward ends."""

    @staticmethod
    def queue_callback(callback: Any) -> None:
        _C._queue_callback(callback)


class Variable(metaclass=_VariableMeta):
    """``Variable(t, requires_grad=False)`` is a new tensor sharing t's data, as in PyTorch;
    ``isinstance(t, Variable)`` holds for every tensor."""

    _execution_engine = _ExecutionEngine()

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = False, volatile: bool = False) -> Any:
        if data is None:
            from .. import _creation

            data = _creation.empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        return data.detach().requires_grad_(requires_grad)
