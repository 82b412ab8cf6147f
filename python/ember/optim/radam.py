"""RAdam (rectified Adam), written with in-place tensor ops (run under no_grad by the step wrapper)."""

from __future__ import annotations

from typing import Any, Callable

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

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """Implements the RAdam algorithm (Adam with a rectified adaptive learning rate), as ``torch.optim.RAdam``.

    State per parameter: ``step`` (float32 0-d tensor), ``exp_avg`` and
    ``exp_avg_sq``.  While the variance of the adaptive learning rate is
    intractable (the approximated SMA length ``rho_t <= 5``) the update is plain
    momentum SGD.  The operations are those of PyTorch's single-tensor
    implementation, in the same order.

    Args:
        params: the parameters to optimize, or dicts defining param groups.
        lr: learning rate (default: 1e-3).
        betas: coefficients of the running averages of the gradient and its square (default: (0.9, 0.999)).
        eps: added to the denominator for numerical stability (default: 1e-8).
        weight_decay: weight decay coefficient (default: 0).
        decoupled_weight_decay: shrink the parameter by ``1 - lr * weight_decay`` as AdamW
            (RAdamW) instead of adding an L2 penalty to the gradient (default: False).
        foreach, capturable: accepted and recorded, without effect (ember runs on the CPU, one implementation).
        maximize: maximize the objective instead of minimizing it (default: False).
        differentiable: only False is supported.
    """

    _steps_as_tensors = True  # Optimizer.__setstate__

    def __init__(
        self,
        params: ParamsT,
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check_adam_args(lr, betas, eps, weight_decay)
        _check_differentiable(differentiable)
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            maximize=maximize,
            foreach=foreach,
            capturable=capturable,
            decoupled_weight_decay=decoupled_weight_decay,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def _init_state(self, group: dict[str, Any], p: Tensor, state: dict[str, Any]) -> None:
        state["exp_avg"] = zeros_like(p)
        state["exp_avg_sq"] = zeros_like(p)

    @_no_grad_step
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        """One update of every parameter that has a gradient; returns ``closure()``'s loss when given."""
        for group in self.param_groups:
            lr, eps, weight_decay = float(group["lr"]), group["eps"], group["weight_decay"]
            beta1, beta2 = group["betas"]
            for p, grad, state in self._params_with_grad(group):
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                step = state["step"].item()
                grad = _weight_decay(p, grad, weight_decay, lr, group["decoupled_weight_decay"])
                _lerp_(exp_avg, grad, 1 - beta1)
                exp_avg_sq.mul_(beta2).add_(grad * (1 - beta2) * grad)  # addcmul_(grad, grad, value=1 - beta2)
                bias_correction1 = 1 - beta1**step
                bias_correction2 = 1 - beta2**step
                bias_corrected_exp_avg = exp_avg / bias_correction1
                # the maximum and the current length of the approximated SMA
                rho_inf = 2 / (1 - beta2) - 1
                rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
                if rho_t > 5.0:
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                    adaptive_lr = (bias_correction2**0.5) / exp_avg_sq.sqrt().add_(eps)
                    p.add_(bias_corrected_exp_avg * lr * adaptive_lr * rect, alpha=-1.0)
                else:
                    p.add_(bias_corrected_exp_avg * lr, alpha=-1.0)
