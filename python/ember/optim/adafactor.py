"""Adafactor (factored second moments), written with in-place tensor ops (run under no_grad by the step wrapper)."""

from __future__ import annotations

from typing import Any, Callable

from .._C import Tensor
from .._creation import _device_of, zeros_like
from .._dtype_info import finfo
from ._fma import _fma_add_, _fma_lerp_
from .optimizer import Optimizer, ParamsT, _no_grad_step

__all__ = ["Adafactor"]


def _check_adafactor_args(lr: Any, beta2_decay: float, eps: tuple[Any, Any], d: float, weight_decay: float) -> None:
    """PyTorch's checks of Adafactor's arguments, in its order and words."""
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
    if not 0.0 >= beta2_decay:
        raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
    if eps[0] is not None and not 0.0 <= eps[0]:
        raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
    if not 0.0 <= eps[1]:
        raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
    if not 1.0 <= d:
        raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")


def _check_real_dense(name: str, p: Tensor) -> None:
    # ember has neither complex dtypes nor sparse gradients today; the checks keep PyTorch's words should it gain them
    if p.is_complex():
        raise RuntimeError(f"{name} does not support complex parameters")
    if getattr(p.grad, "is_sparse", False):
        raise RuntimeError(f"{name} does not support sparse gradients")


class Adafactor(Optimizer):
    """Implements the Adafactor algorithm (Shazeer & Stern, 2018), as ``torch.optim.Adafactor``.

    The second moment of a parameter with two or more dimensions is kept
    factored: ``row_var`` (the mean of the squared gradient over the last
    dimension, shape ``(..., m, 1)``) and ``col_var`` (over the second-to-last,
    shape ``(..., 1, n)``), whose product divided by the mean of ``row_var``
    estimates the full ``(..., m, n)`` variance.  0-d and 1-d parameters keep a
    full ``variance``.  Every parameter also has ``step`` (float32 0-d tensor).
    As PyTorch (and unlike the paper), ``lr`` caps the relative step size
    ``rho_t = min(lr, 1 / sqrt(t))`` and scales the decoupled weight decay
    (``p *= 1 - lr * weight_decay``); the step taken is
    ``max(eps2, RMS(p)) * rho_t`` times the update ``g / sqrt(V)``, the update
    clipped to RMS at most ``d``; ``beta2_t = 1 - t ** beta2_decay``.  The
    operations are those of PyTorch's single-tensor implementation, in the
    same order.

    Args:
        params: the parameters to optimize, or dicts defining param groups.
        lr: the maximum relative step size and the weight decay's scale (default: 1e-2).
        beta2_decay: the decay rate of beta2, <= 0 (default: -0.8).
        eps: ``(eps1, eps2)``: eps1 keeps the variance estimate away from 0 (None: the
            machine epsilon of the parameter's dtype), eps2 the smallest parameter scale
            (default: (None, 1e-3)).
        d: the clipping threshold of the update's RMS, >= 1 (default: 1.0).
        weight_decay: decoupled weight decay coefficient (default: 0.0).
        foreach: accepted and recorded, without effect (ember has one implementation).
        maximize: maximize the objective instead of minimizing it (default: False).
    """

    _steps_as_tensors = True  # Optimizer.__setstate__

    def __init__(
        self,
        params: ParamsT,
        lr: float | Tensor = 1e-2,
        beta2_decay: float = -0.8,
        eps: tuple[float | None, float] = (None, 1e-3),
        d: float = 1.0,
        weight_decay: float = 0.0,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
    ) -> None:
        _check_adafactor_args(lr, beta2_decay, eps, d, weight_decay)
        defaults = dict(
            lr=lr,
            beta2_decay=beta2_decay,
            eps=eps,
            d=d,
            weight_decay=weight_decay,
            foreach=foreach,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)

    def _init_state(self, group: dict[str, Any], p: Tensor, state: dict[str, Any]) -> None:
        grad = p.grad
        if grad.dim() > 1:
            shape = list(grad.shape)
            device = _device_of(grad)
            state["row_var"] = grad.new_zeros(shape[:-1] + [1], device=device)
            state["col_var"] = grad.new_zeros(shape[:-2] + [1, shape[-1]], device=device)
        else:
            state["variance"] = zeros_like(grad)

    @_no_grad_step
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        """One update of every parameter that has a gradient; returns ``closure()``'s loss when given."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    _check_real_dense("Adafactor", p)
            lr, d, beta2_decay, weight_decay = (
                float(group["lr"]),
                group["d"],
                group["beta2_decay"],
                group["weight_decay"],
            )
            eps1, eps2 = group["eps"]
            for p, grad, state in self._params_with_grad(group):
                if eps1 is None:
                    # as PyTorch: the first parameter's dtype decides eps1 for the rest of the group's step
                    eps1 = finfo(p.dtype).eps
                step = state["step"].item()
                one_minus_beta2 = step**beta2_decay
                rho = min(lr, 1 / (step**0.5))
                alpha = max(eps2, p.norm(2).item() / (p.numel() ** 0.5)) * rho
                if weight_decay != 0:
                    p.mul_(1 - lr * weight_decay)
                if grad.dim() > 1:
                    row_var, col_var = state["row_var"], state["col_var"]
                    _fma_lerp_(row_var, grad.norm(dim=-1, keepdim=True).square_().div_(grad.size(-1)), one_minus_beta2)
                    _fma_lerp_(col_var, grad.norm(dim=-2, keepdim=True).square_().div_(grad.size(-2)), one_minus_beta2)
                    var_estimate = row_var @ col_var
                    var_estimate.div_(row_var.mean(dim=-2, keepdim=True).clamp_(min=eps1))
                else:
                    variance = state["variance"]
                    _fma_lerp_(variance, grad * grad, one_minus_beta2)
                    var_estimate = variance.clone()
                update = var_estimate.clamp_(min=eps1 * eps1).rsqrt_()
                update.mul_(grad)
                denom = max(1.0, update.norm(2).item() / ((update.numel() ** 0.5) * d))
                _fma_add_(p, update, -alpha / denom)
