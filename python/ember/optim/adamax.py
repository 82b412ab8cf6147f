"""Adamax (Adam with the infinity norm), written with in-place tensor ops (run under no_grad by the step wrapper)."""

from __future__ import annotations

from typing import Any, Callable

from .. import _C
from .._C import Tensor
from .._creation import zeros_like
from .optimizer import (
    Optimizer,
    ParamsT,
    _check_adam_args,
    _check_differentiable,
    _lerp_,
    _no_grad_step,
    _weight_decay,
)

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Implements the Adamax algorithm (a variant of Adam based on the infinity norm), as ``torch.optim.Adamax``.

    State per parameter: ``step`` (float32 0-d tensor), ``exp_avg`` and
    ``exp_inf`` (the exponentially weighted infinity norm).  The operations are
    those of PyTorch's single-tensor implementation, in the same order.

    Args:
        params: the parameters to optimize, or dicts defining param groups.
        lr: learning rate (default: 2e-3).
        betas: coefficients of the running average of the gradient and of the infinity norm (default: (0.9, 0.999)).
        eps: added to the infinity norm for numerical stability (default: 1e-8).
        weight_decay: L2 penalty added to the gradient (default: 0).
        foreach, capturable: accepted and recorded, without effect (ember runs on the CPU, one implementation).
        maximize: maximize the objective instead of minimizing it (default: False).
        differentiable: only False is supported.
    """

    _steps_as_tensors = True  # Optimizer.__setstate__

    def __init__(
        self,
        params: ParamsT,
        lr: float | Tensor = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        _check_adam_args(lr, betas, eps, weight_decay)
        _check_differentiable(differentiable)
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
            capturable=capturable,
        )
        super().__init__(params, defaults)

    def _init_state(self, group: dict[str, Any], p: Tensor, state: dict[str, Any]) -> None:
        state["exp_avg"] = zeros_like(p)
        state["exp_inf"] = zeros_like(p)

    @_no_grad_step
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        """One update of every parameter that has a gradient; returns ``closure()``'s loss when given."""
        for group in self.param_groups:
            lr, eps, weight_decay = float(group["lr"]), group["eps"], group["weight_decay"]
            beta1, beta2 = group["betas"]
            for p, grad, state in self._params_with_grad(group):
                grad = _weight_decay(p, grad, weight_decay)
                exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
                _lerp_(exp_avg, grad, 1 - beta1)
                _C.maximum(exp_inf.mul_(beta2), grad.abs().add_(eps), out=exp_inf)
                clr = lr / (1 - beta1 ** state["step"].item())
                p.add_(exp_avg * -clr / exp_inf)  # addcdiv_(exp_avg, exp_inf, value=-clr)
