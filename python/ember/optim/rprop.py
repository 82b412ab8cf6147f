"""Rprop (resilient backpropagation), written with in-place tensor ops (run under no_grad by the step wrapper)."""

from __future__ import annotations

from typing import Any, Callable

from .._C import Tensor
from .._creation import full_like, zeros_like
from .optimizer import Optimizer, ParamsT, _check_differentiable, _check_non_negative, _no_grad_step

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """Implements the resilient backpropagation algorithm, as ``torch.optim.Rprop``.

    Each element has its own step size, multiplied by ``etaplus`` while its
    gradient keeps its sign and by ``etaminus`` when the sign flips (that step
    then skips the element); only the sign of the gradient moves the parameter.
    State per parameter: ``step`` (float32 0-d tensor), ``prev`` (the previous
    gradient, zeroed where the sign flipped) and ``step_size``, which starts at
    ``lr`` (so, as in PyTorch, later changes of ``lr`` have no effect).

    Args:
        params: the parameters to optimize, or dicts defining param groups.
        lr: the initial step size (default: 1e-2).
        etas: (etaminus, etaplus), the multiplicative decrease and increase factors (default: (0.5, 1.2)).
        step_sizes: the minimal and maximal step sizes (default: (1e-6, 50)).
        foreach, capturable: accepted and recorded, without effect (ember runs on the CPU, one implementation).
        maximize: maximize the objective instead of minimizing it (default: False).
        differentiable: only False is supported.
    """

    _steps_as_tensors = True  # Optimizer.__setstate__

    def __init__(
        self,
        params: ParamsT,
        lr: float | Tensor = 1e-2,
        etas: tuple[float, float] = (0.5, 1.2),
        step_sizes: tuple[float, float] = (1e-6, 50),
        *,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check_non_negative(lr=lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        _check_differentiable(differentiable)
        defaults = dict(
            lr=lr,
            etas=etas,
            step_sizes=step_sizes,
            foreach=foreach,
            maximize=maximize,
            differentiable=differentiable,
            capturable=capturable,
        )
        super().__init__(params, defaults)

    def _init_state(self, group: dict[str, Any], p: Tensor, state: dict[str, Any]) -> None:
        state["prev"] = zeros_like(p)
        state["step_size"] = full_like(p.grad, float(group["lr"]))

    @_no_grad_step
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        """One update of every parameter that has a gradient; returns ``closure()``'s loss when given."""
        for group in self.param_groups:
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            for p, grad, state in self._params_with_grad(group):
                prev, step_size = state["prev"], state["step_size"]
                sign = grad.mul(prev).sign()
                sign.masked_fill_(sign.gt(0), etaplus)
                sign.masked_fill_(sign.lt(0), etaminus)
                sign.masked_fill_(sign.eq(0), 1)
                # update the step sizes
                step_size.mul_(sign).clamp_(step_size_min, step_size_max)
                # where the sign flipped, this step leaves the element alone (and forgets its gradient)
                grad = grad.clone()
                grad.masked_fill_(sign.eq(etaminus), 0)
                p.add_(grad.sign() * -1 * step_size)  # addcmul_(grad.sign(), step_size, value=-1)
                prev.copy_(grad)
