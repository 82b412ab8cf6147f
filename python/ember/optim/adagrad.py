"""Adagrad, written with in-place tensor ops (run under no_grad by the step wrapper)."""

from __future__ import annotations

from typing import Any, Callable

from .._C import Tensor
from .._creation import full_like
from .optimizer import (
    Optimizer,
    ParamsT,
    _check_differentiable,
    _check_non_negative,
    _no_grad_step,
    _step_tensor,
    _weight_decay,
)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Implements the Adagrad algorithm, as ``torch.optim.Adagrad``.

    State per parameter: ``step`` (float32 0-d tensor) and ``sum`` (the running
    sum of squared gradients, starting at ``initial_accumulator_value``).  As
    PyTorch, the state of every parameter is created by the constructor, so a
    fresh optimizer's ``state_dict()`` already holds it.  The operations are
    those of PyTorch's single-tensor implementation, in the same order.

    Args:
        params: the parameters to optimize, or dicts defining param groups.
        lr: learning rate (default: 1e-2).
        lr_decay: the learning rate at step ``t`` is ``lr / (1 + (t - 1) * lr_decay)`` (default: 0).
        weight_decay: L2 penalty added to the gradient (default: 0).
        initial_accumulator_value: the starting value of ``sum`` (default: 0).
        eps: added to the denominator for numerical stability (default: 1e-10).
        foreach, fused: accepted and recorded, without effect (ember has one implementation).
        maximize: maximize the objective instead of minimizing it (default: False).
        differentiable: only False is supported.
    """

    _steps_as_tensors = True  # Optimizer.__setstate__

    def __init__(
        self,
        params: ParamsT,
        lr: float | Tensor = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        _check_non_negative(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
        )
        _check_differentiable(differentiable)
        if fused and foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            eps=eps,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
            fused=fused,
        )
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"] = _step_tensor()
                state["sum"] = full_like(p, initial_accumulator_value)

    def _init_state(self, group: dict[str, Any], p: Tensor, state: dict[str, Any]) -> None:
        # a parameter added with add_param_group (the constructor fills the others); PyTorch reads the defaults here
        state["sum"] = full_like(p, self.defaults["initial_accumulator_value"])

    @_no_grad_step
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        """One update of every parameter that has a gradient; returns ``closure()``'s loss when given."""
        for group in self.param_groups:
            lr, lr_decay, eps, weight_decay = float(group["lr"]), group["lr_decay"], group["eps"], group["weight_decay"]
            for p, grad, state in self._params_with_grad(group):
                step = state["step"].item()
                grad = _weight_decay(p, grad, weight_decay)
                clr = lr / (1 + (step - 1) * lr_decay)
                state_sum = state["sum"]
                state_sum.add_(grad * grad)  # addcmul_(grad, grad, value=1)
                std = state_sum.sqrt().add_(eps)
                p.add_(grad * -clr / std)  # addcdiv_(grad, std, value=-clr)
