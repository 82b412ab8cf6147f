"""Grad-mode context managers; each also works as a decorator. Thread-local."""
import functools

from . import _C


class _GradModeContext:
    """A context manager that is also a decorator (`@no_grad()` and `@no_grad`)."""

    def __new__(cls, *args, **kwargs):
        if len(args) == 1 and callable(args[0]) and not kwargs and cls in (no_grad, enable_grad):
            return cls()(args[0])
        return super().__new__(cls)

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)

        return wrapper

    def clone(self):
        return type(self)()

    def __enter__(self):
        self._prev = (_C.is_grad_enabled(), _C.is_inference_mode_enabled())
        self._set()

    def __exit__(self, *exc):
        _C._set_grad_enabled(self._prev[0])
        _C._set_inference_mode(self._prev[1])
        return False


class no_grad(_GradModeContext):
    """Disables gradient recording inside the block (thread-local)."""

    def _set(self):
        _C._set_grad_enabled(False)


class enable_grad(_GradModeContext):
    """Enables gradient recording inside the block (e.g. inside no_grad)."""

    def _set(self):
        _C._set_grad_enabled(True)


class set_grad_enabled(_GradModeContext):
    """Sets grad mode on construction, as PyTorch; restores it on exit when used with `with`."""

    def __init__(self, mode):
        self.mode = bool(mode)
        self._prev = (_C.is_grad_enabled(), _C.is_inference_mode_enabled())
        _C._set_grad_enabled(self.mode)

    def clone(self):
        return set_grad_enabled(self.mode)

    def __enter__(self):
        pass

    def _set(self):
        _C._set_grad_enabled(self.mode)


class inference_mode(_GradModeContext):
    """Like no_grad, for inference; `inference_mode(False)` leaves grad mode as it is."""

    def __init__(self, mode=True):
        self.mode = mode

    def clone(self):
        return inference_mode(self.mode)

    def _set(self):
        if self.mode:
            _C._set_grad_enabled(False)
            _C._set_inference_mode(True)


def is_grad_enabled():
    return _C.is_grad_enabled()


def is_inference_mode_enabled():
    return _C.is_inference_mode_enabled()
