"""Grad-mode context managers; each also works as a decorator. Thread-local."""

from __future__ import annotations

import functools
from typing import Any, Callable, Literal, TypeVar

from . import _C
from ._contextlib import _DecoratorContextManager

_F = TypeVar("_F", bound=Callable[..., Any])


class _GradModeContext(_DecoratorContextManager):
    """A context manager that is also a decorator (`@no_grad()` and `@no_grad`); a decorated generator function
    runs inside it every time it is resumed, as PyTorch's."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if len(args) == 1 and callable(args[0]) and not kwargs and cls in (no_grad, enable_grad):
            return cls()(args[0])
        return super().__new__(cls)

    def clone(self) -> _GradModeContext:
        """A fresh context manager of the same kind and mode."""
        return type(self)()

    def __enter__(self) -> None:
        """Save the current grad mode and inference mode, then set this context's."""
        self._prev = (_C.is_grad_enabled(), _C.is_inference_mode_enabled())
        self._set()

    def __exit__(self, *exc: object) -> Literal[False]:
        """Restore the modes saved on entry; exceptions propagate."""
        _C._set_grad_enabled(self._prev[0])
        _C._set_inference_mode(self._prev[1])
        return False


class no_grad(_GradModeContext):
    """Disables gradient recording inside the block (thread-local)."""

    def _set(self) -> None:
        _C._set_grad_enabled(False)


class enable_grad(_GradModeContext):
    """Enables gradient recording inside the block (e.g. inside no_grad)."""

    def _set(self) -> None:
        _C._set_grad_enabled(True)


class set_grad_enabled(_GradModeContext):
    """Sets grad mode on construction, as PyTorch; restores it on exit when used with `with`."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self._prev = (_C.is_grad_enabled(), _C.is_inference_mode_enabled())
        _C._set_grad_enabled(self.mode)

    def __call__(self, func: _F) -> _F:
        """Decorate ``func``: decorating undoes the constructor's setting; each call sets the mode."""
        _C._set_grad_enabled(self._prev[0])
        return super().__call__(func)

    def clone(self) -> set_grad_enabled:
        """A fresh ``set_grad_enabled`` of the same mode (setting it, as the constructor does)."""
        return set_grad_enabled(self.mode)

    def __enter__(self) -> None:
        """Nothing: the constructor already set the mode (and saved the one to restore)."""
        pass

    def _set(self) -> None:
        _C._set_grad_enabled(self.mode)


class inference_mode(_GradModeContext):
    """Like no_grad, for inference; `inference_mode(False)` turns both off again (grad mode on)."""

    def __new__(cls, mode: Any = True) -> Any:
        # Used as a bare decorator (@inference_mode, or inference_mode(mode=func)): decorate at once.
        if callable(mode) and not isinstance(mode, bool):
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode: Any = True) -> None:
        self.mode = mode

    def clone(self) -> inference_mode:
        """A fresh ``inference_mode`` of the same mode."""
        return inference_mode(self.mode)

    def _set(self) -> None:
        # As PyTorch's InferenceMode guard: on, grad mode is off; off (even
        # nested in an inference_mode block), grad mode is on.
        _C._set_grad_enabled(not self.mode)
        _C._set_inference_mode(self.mode)


def is_grad_enabled() -> bool:
    """Returns True if gradient recording is currently enabled (on this thread)."""
    return _C.is_grad_enabled()


def is_inference_mode_enabled() -> bool:
    """Returns True if inference mode is currently enabled (on this thread)."""
    return _C.is_inference_mode_enabled()


class enforce_grad_layout_policy:
    """Context manager (and decorator) of PyTorch's gradient layout contract: accumulated gradients take their
    parameter's strides (row-major where the parameter is not dense). ember's AccumulateGrad always honours
    the contract; ``enable=False``, which lets PyTorch keep a stolen gradient's other layout to save a copy,
    is accepted and changes nothing here."""

    def __init__(self, enable: bool = True) -> None:
        self.enable = bool(enable)

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None

    def __call__(self, fn: Any) -> Any:
        @functools.wraps(fn)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            with self:
                return fn(*args, **kwargs)

        return wrapped
