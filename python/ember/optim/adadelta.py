"""Adadelta, written with in-place tensor ops (run under no_grad by the step wrapper)."""

from __future__ import annotations

from typing import Any, Callable

from .._C import Tensor
from .._creation import zeros_like
from .optimizer import Optimizer, ParamsT, _check_differentiable, _check_non_negative, _no_grad_step, _weight_decay

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Implements the Adadelta algorithm, as ``torch.optim.Adadelta``.

    State per parameter: ``step`` (float32 0-d tensor), ``square_avg`` (running
    average of squared gradients) and ``acc_delta`` (running average of squared
    updates).  The operations are those of PyTorch's single-tensor
    implementation, in the same order.

    Args:
        params: the parameters to optimize, or dicts defining param groups.
        lr: coefficient that scales delta before it is applied to the parameters (default: 1.0).
        rho: coefficient of the running averages, in [0, 1] (default: 0.9).
        eps: added inside the square roots for numerical stability (default: 1e-6).
        weight_decay: L2 penalty added to the gradient (default: 0).
        foreach, capturable: accepted and recorded, without effect (ember runs on the CPU, one implementation).
        maximize: maximize the objective instead of minimizing it (default: False).
        differentiable: only False is supported.
    """

    _steps_as_tensors = True  # Optimizer.__setstate__

    def __init__(
        self,
        params: ParamsT,
        lr: float | Tensor = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check_non_negative(lr=lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_non_negative(eps=eps, weight_decay=weight_decay)
        _check_differentiable(differentiable)
        defaults = dict(
            lr=lr,
            rho=rho,
            eps=eps,
            weight_decay=weight_decay,
            maximize=maximize,
            capturable=capturable,
            foreach=foreach,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def _init_state(self, group: dict[str, Any], p: Tensor, state: dict[str, Any]) -> None:
        state["square_avg"] = zeros_like(p)
        state["acc_delta"] = zeros_like(p)

    @_no_grad_step
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        """One update of every parameter that has a gradient; returns ``closure()``'s loss when given."""
        for group in self.param_groups:
            lr, rho, eps, weight_decay = float(group["lr"]), group["rho"], group["eps"], group["weight_decay"]
            for p, grad, state in self._params_with_grad(group):
                grad = _weight_decay(p, grad, weight_decay)
                square_avg, acc_delta = state["square_avg"], state["acc_delta"]
                square_avg.mul_(rho).add_(grad * (1 - rho) * grad)  # addcmul_(grad, grad, value=1 - rho)
                std = square_avg.add(eps).sqrt_()
                delta = acc_delta.add(eps).sqrt_()
                delta.div_(std).mul_(grad)
                acc_delta.mul_(rho).add_(delta * (1 - rho) * delta)  # addcmul_(delta, delta, value=1 - rho)
                p.add_(delta, alpha=-lr)
