"""RMSprop, written with in-place tensor ops (run under no_grad by the step wrapper)."""

from __future__ import annotations

from typing import Any, Callable

from .._C import Tensor
from .._creation import zeros_like
from .optimizer import (
    Optimizer,
    ParamsT,
    _check_differentiable,
    _check_non_negative,
    _lerp_,
    _no_grad_step,
    _weight_decay,
)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """Implements the RMSprop algorithm, as ``torch.optim.RMSprop``.

    State per parameter: ``step`` (float32 0-d tensor), ``square_avg`` and, when
    used, ``momentum_buffer`` and ``grad_avg`` (centered).  The operations are
    those of PyTorch's single-tensor implementation, in the same order.
    """

    _steps_as_tensors = True  # Optimizer.__setstate__

    def __init__(
        self,
        params: ParamsT,
        lr: float | Tensor = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check_non_negative(lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        _check_differentiable(differentiable)
        defaults = dict(
            lr=lr,
            momentum=momentum,
            alpha=alpha,
            eps=eps,
            centered=centered,
            weight_decay=weight_decay,
            capturable=capturable,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def _init_state(self, group: dict[str, Any], p: Tensor, state: dict[str, Any]) -> None:
        state["square_avg"] = zeros_like(p)
        if group["momentum"] > 0:
            state["momentum_buffer"] = zeros_like(p)
        if group["centered"]:
            state["grad_avg"] = zeros_like(p)

    @_no_grad_step
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        """One update of every parameter that has a gradient; returns ``closure()``'s loss when given."""
        for group in self.param_groups:
            lr, alpha, eps = float(group["lr"]), group["alpha"], group["eps"]
            weight_decay, momentum, centered = group["weight_decay"], group["momentum"], group["centered"]
            for p, grad, state in self._params_with_grad(group):
                grad = _weight_decay(p, grad, weight_decay)
                square_avg = state["square_avg"]
                square_avg.mul_(alpha).add_(grad * (1 - alpha) * grad)  # addcmul_(grad, grad, value=1 - alpha)
                if centered:
                    grad_avg = _lerp_(state["grad_avg"], grad, 1 - alpha)
                    avg = (square_avg - grad_avg * grad_avg).sqrt()
                else:
                    avg = square_avg.sqrt()
                avg.add_(eps)
                if momentum > 0:
                    buf = state["momentum_buffer"]
                    buf.mul_(momentum).add_(grad / avg)
                    p.add_(buf, alpha=-lr)
                else:
                    p.add_(grad * -lr / avg)  # addcdiv_(grad, avg, value=-lr)
