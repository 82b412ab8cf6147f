"""``torch.utils._python_dispatch``: the queries libraries make about ``__torch_dispatch__`` subclasses and
modes. ember has no ``__torch_dispatch__`` layer (its Python overrides are ``__torch_function__``), so no mode
is ever active and a mode refuses to be entered; the wrapper-subclass predicates are PyTorch's checks."""

from __future__ import annotations

import contextlib
from typing import Any

from .._C import Tensor

__all__ = ["TorchDispatchMode", "is_traceable_wrapper_subclass", "is_traceable_wrapper_subclass_type"]


def is_traceable_wrapper_subclass_type(cls: type) -> bool:
    """Whether cls is a Tensor subclass that flattens into inner tensors (defines ``__tensor_flatten__`` and
    ``__tensor_unflatten__``)."""
    return (
        isinstance(cls, type)
        and issubclass(cls, Tensor)
        and cls is not Tensor
        and hasattr(cls, "__tensor_flatten__")
        and hasattr(cls, "__tensor_unflatten__")
    )


def is_traceable_wrapper_subclass(t: Any) -> bool:
    """Whether t is an instance of such a subclass."""
    return isinstance(t, Tensor) and is_traceable_wrapper_subclass_type(type(t))


class TorchDispatchMode:
    """PyTorch's base class of dispatch modes, for subclassing and isinstance checks; entering one raises,
    since ember dispatches no op to ``__torch_dispatch__``."""

    def __init__(self, _dispatch_key: Any = None) -> None:
        self._dispatch_key = _dispatch_key

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: Any = None) -> Any:
        raise NotImplementedError

    def __enter__(self) -> TorchDispatchMode:
        raise NotImplementedError(
            f"{type(self).__name__}: ember has no __torch_dispatch__ modes; use __torch_function__ "
            "(ember.overrides.TorchFunctionMode) to intercept ops"
        )

    def __exit__(self, *exc: object) -> None:
        return None

    @classmethod
    def push(cls, *args: Any, **kwargs: Any) -> TorchDispatchMode:
        return cls(*args, **kwargs)

    @classmethod
    def is_infra_mode(cls) -> bool:
        return False


def _get_current_dispatch_mode() -> None:
    """The innermost active dispatch mode: never any in ember."""
    return None


def _get_current_dispatch_mode_stack() -> list:
    return []


def _disable_current_modes() -> contextlib.AbstractContextManager:
    """A block without the active dispatch modes: there are none to disable."""
    return contextlib.nullcontext()
