"""ember._subclasses.fake_tensor: PyTorch's fake tensors by name. PyTorch's ``FakeTensorMode`` runs ops on
tensors without data through ``__torch_dispatch__``, which ember has no hook for; ember's tensors without data
are ``device="meta"`` ones (README, "Meta tensors"). So no ember tensor is fake (``is_fake`` says False, as
PyTorch's does of a real tensor), and entering a mode raises ``NotImplementedError`` rather than running ops
on real data unseen."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, NoReturn

__all__ = ["FakeTensor", "FakeTensorMode", "UnsupportedFakeTensorException", "DynamicOutputShapeException", "is_fake",
           "maybe_get_fake_mode", "unset_fake_temporarily"]  # fmt: skip


class UnsupportedFakeTensorException(RuntimeError):
    pass


class DynamicOutputShapeException(RuntimeError):
    pass


class FakeTensor:
    """No ember tensor is one (``isinstance(t, FakeTensor)`` is False); only a FakeTensorMode makes them."""

    def __new__(cls, *args: Any, **kwargs: Any) -> NoReturn:
        raise NotImplementedError("ember has no fake tensors: use device='meta' for tensors without data")


class FakeTensorMode:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args, self.kwargs = args, kwargs

    def __enter__(self) -> NoReturn:
        raise NotImplementedError(
            f"ember._subclasses.{type(self).__name__} cannot run ops on fake tensors: it needs a __torch_dispatch__ "
            "hook, which ember does not have (use device='meta' for tensors without data)"
        )

    def __exit__(self, *exc: Any) -> None:
        return None

    def from_tensor(self, tensor: Any, **kwargs: Any) -> NoReturn:
        self.__enter__()


class CrossRefFakeMode(FakeTensorMode):
    pass


def is_fake(x: object) -> bool:
    """Whether x is a fake tensor: never so in ember."""
    return False


def maybe_get_fake_mode(t: object) -> None:
    """The FakeTensorMode a tensor belongs to: none in ember (no tensor is fake)."""
    return None


@contextlib.contextmanager
def unset_fake_temporarily() -> Iterator[None]:
    """Leaves the active FakeTensorMode for the block and yields it (PyTorch): in ember none is ever active, so
    the block runs as it is and gets None (spikingjelly wraps its kernel launches in it)."""
    yield None
