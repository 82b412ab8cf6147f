"""NAdam (Adam with Nesterov momentum), written with in-place tensor ops (run under no_grad by the step wrapper)."""

from __future__ import annotations

from typing import Any, Callable

from .._C import Tensor
from .._creation import zeros_like
from .optimizer import (
    Optimizer,
    ParamsT,
    _check_adam_args,
    _check_differentiable,
    _check_non_negative,
    _lerp_,
    _no_grad_step,
    _step_tensor,
    _weight_decay,
)

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """Implements the NAdam algorithm (Adam with Nesterov momentum), as ``torch.optim.NAdam``.

    State per parameter: ``step`` and ``mu_product`` (float32 0-d tensors; the
    product of the momentum coefficients so far), ``exp_avg`` and ``exp_avg_sq``.
    The operations are those of PyTorch's single-tensor implementation, in the
    same order.

    Args:
        params: the parameters to optimize, or dicts defining param groups.
        lr: learning rate (default: 2e-3).
        betas: coefficients of the running averages of the gradient and its square (default: (0.9, 0.999)).
        eps: added to the denominator for numerical stability (default: 1e-8).
        weight_decay: weight decay coefficient (default: 0).
        momentum_decay: the momentum schedule's decay, psi in the paper (default: 4e-3).
        decoupled_weight_decay: shrink the parameter by ``1 - lr * weight_decay`` as AdamW
            (NAdamW) instead of adding an L2 penalty to the gradient (default: False).
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
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check_adam_args(lr, betas, eps, weight_decay)
        _check_non_negative(momentum_decay=momentum_decay)
        _check_differentiable(differentiable)
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            momentum_decay=momentum_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
            foreach=foreach,
            capturable=capturable,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def _init_state(self, group: dict[str, Any], p: Tensor, state: dict[str, Any]) -> None:
        state["mu_product"] = _step_tensor(1.0)
        state["exp_avg"] = zeros_like(p)
        state["exp_avg_sq"] = zeros_like(p)

    @_no_grad_step
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        """One update of every parameter that has a gradient; returns ``closure()``'s loss when given."""
        for group in self.param_groups:
            lr, eps, weight_decay = float(group["lr"]), group["eps"], group["weight_decay"]
            momentum_decay = group["momentum_decay"]
            beta1, beta2 = group["betas"]
            for p, grad, state in self._params_with_grad(group):
                exp_avg, exp_avg_sq, mu_product = state["exp_avg"], state["exp_avg_sq"], state["mu_product"]
                step = state["step"].item()
                bias_correction2 = 1 - beta2**step
                grad = _weight_decay(p, grad, weight_decay, lr, group["decoupled_weight_decay"])
                # the momentum cache mu^t and mu^(t+1)
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
                mu_product.mul_(mu)
                _lerp_(exp_avg, grad, 1 - beta1)
                exp_avg_sq.mul_(beta2).add_(grad * (1 - beta2) * grad)  # addcmul_(grad, grad, value=1 - beta2)
                denom = exp_avg_sq.div(bias_correction2).sqrt()
                mu_product_value = mu_product.item()
                mu_product_next = mu_product_value * mu_next
                denom.add_(eps)
                p.add_(grad * (-lr * (1.0 - mu) / (1.0 - mu_product_value)) / denom)
                p.add_(exp_avg * ((-lr * mu_next) / (1.0 - mu_product_next)) / denom)
