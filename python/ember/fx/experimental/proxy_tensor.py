"""ember.fx.experimental.proxy_tensor: PyTorch's tracing-mode queries by name. ember has no proxy tracing (see
ember.fx), so no proxy mode is ever active and ``make_fx`` raises."""

from __future__ import annotations

from typing import Any, NoReturn

from .. import _no_fx

__all__ = ["get_proxy_mode", "make_fx"]


def get_proxy_mode() -> None:
    """The active proxy-tensor tracing mode: never one in ember."""
    return None


def make_fx(f: Any, *args: Any, **kwargs: Any) -> NoReturn:
    raise _no_fx("experimental.proxy_tensor.make_fx")
