"""SparseAdam: PyTorch's lazy Adam for sparse gradients. ember has no sparse tensors, so every gradient is dense
and a step raises PyTorch's own error for dense gradients; the class exists so that code which builds or names it
(optimizer tables, configs) runs, and so that its argument checks match PyTorch's."""

from __future__ import annotations

from typing import Callable

from .._C import Tensor
from .optimizer import Optimizer, ParamsT, _check_betas, _no_grad_step

__all__ = ["SparseAdam"]


class SparseAdam(Optimizer):
    """``torch.optim.SparseAdam``'s constructor and checks. ``step()`` raises RuntimeError for any gradient (all of
    ember's gradients are dense), as PyTorch does for a dense one: use ``Adam`` instead.

    Args:
        params: the parameters to optimize, or dicts defining param groups (real, dense tensors).
        lr: learning rate, > 0 (default: 1e-3).
        betas: coefficients of the running averages of the gradient and its square (default: (0.9, 0.999)).
        eps: > 0, added to the denominator (default: 1e-8).
        maximize: maximize the objective instead of minimizing it (default: False).
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        maximize: bool = False,
    ) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 < lr:  # strictly positive here, unlike the other optimizers' checks
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_betas(betas)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, maximize=maximize))
        complex_params = [
            [g, i] for g, group in enumerate(self.param_groups) for i, p in enumerate(group["params"]) if p.is_complex()
        ]
        if complex_params:
            raise ValueError(
                f"Complex params at indices {complex_params}: SparseAdam does not support complex parameters"
            )

    @_no_grad_step
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        """Raises RuntimeError if any parameter has a gradient (ember's gradients are dense); else does nothing."""
        for group in self.param_groups:
            if any(p.grad is not None for p in group["params"]):
                raise RuntimeError("SparseAdam does not support dense gradients, please consider Adam instead")
        return None
