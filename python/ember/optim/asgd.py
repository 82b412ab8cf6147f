"""ASGD (averaged stochastic gradient descent), written with in-place tensor ops (run under no_grad by the step
wrapper)."""

from __future__ import annotations

from typing import Any, Callable

from .._C import Tensor
from .._creation import zeros_like
from .optimizer import (
    Optimizer,
    ParamsT,
    _check_differentiable,
    _check_non_negative,
    _no_grad_step,
    _step_tensor,
    _weight_decay,
)

__all__ = ["ASGD"]


class ASGD(Optimizer):
    """Implements averaged stochastic gradient descent, as ``torch.optim.ASGD``.

    State per parameter: ``step``, ``eta`` (the current step size) and ``mu``
    (the averaging coefficient), float32 0-d tensors, and ``ax``, the running
    average of the parameter (which averages from step ``t0`` on).  The
    operations are those of PyTorch's single-tensor implementation, in the
    same order.

    Args:
        params: the parameters to optimize, or dicts defining param groups.
        lr: learning rate (default: 1e-2).
        lambd: decay term (default: 1e-4).
        alpha: power for the eta update (default: 0.75).
        t0: the step at which averaging starts (default: 1e6).
        weight_decay: L2 penalty added to the gradient (default: 0).
        foreach, capturable: accepted and recorded, without effect (ember runs on the CPU, one implementation).
        maximize: maximize the objective instead of minimizing it (default: False).
        differentiable: only False is supported.
    """

    _steps_as_tensors = True  # Optimizer.__setstate__

    def __init__(
        self,
        params: ParamsT,
        lr: float | Tensor = 1e-2,
        lambd: float = 1e-4,
        alpha: float = 0.75,
        t0: float = 1e6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        _check_non_negative(lr=lr, weight_decay=weight_decay)
        _check_differentiable(differentiable)
        defaults = dict(
            lr=lr,
            lambd=lambd,
            alpha=alpha,
            t0=t0,
            weight_decay=weight_decay,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
            capturable=capturable,
        )
        super().__init__(params, defaults)

    def _init_state(self, group: dict[str, Any], p: Tensor, state: dict[str, Any]) -> None:
        state["eta"] = _step_tensor(float(group["lr"]))
        state["mu"] = _step_tensor(1.0)
        state["ax"] = zeros_like(p)

    @_no_grad_step
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        """One update of every parameter that has a gradient; returns ``closure()``'s loss when given."""
        for group in self.param_groups:
            lr, lambd, alpha, t0 = float(group["lr"]), group["lambd"], group["alpha"], group["t0"]
            weight_decay = group["weight_decay"]
            for p, grad, state in self._params_with_grad(group):
                mu, ax, eta = state["mu"], state["ax"], state["eta"]
                grad = _weight_decay(p, grad, weight_decay)
                eta_value = eta.item()
                p.mul_(1 - lambd * eta_value)  # decay term
                p.add_(grad, alpha=-eta_value)  # update parameter
                # averaging
                if mu.item() != 1:
                    ax.add_(p.sub(ax).mul_(mu))
                else:
                    ax.copy_(p)
                step = state["step"].item()
                eta.fill_(lr / ((1 + lambd * lr * step) ** alpha))
                mu.fill_(1 / max(1, step - t0))
