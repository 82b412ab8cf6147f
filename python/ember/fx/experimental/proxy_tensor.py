"""ember.fx.experimental.proxy_tensor: PyTorch's tracing-mode queries by name. ``make_fx`` traces below
autograd, through ``__torch_dispatch__``, which ember does not have (ember.fx's symbolic_trace traces at
the level of its functions): no proxy mode is ever active and ``make_fx`` raises."""

from __future__ import annotations

from typing import Any, NoReturn

__all__ = ["get_proxy_mode", "make_fx"]


def get_proxy_mode() -> None:
    """The active proxy-tensor tracing mode: never one in ember."""
    return None


def make_fx(f: Any, *args: Any, **kwargs: Any) -> NoReturn:
    raise NotImplementedError(
        "ember.fx.experimental.proxy_tensor.make_fx traces through __torch_dispatch__, which ember does not have: "
        "use ember.fx.symbolic_trace"
    )
