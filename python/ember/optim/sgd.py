"""Stochastic gradient descent, with momentum and Nesterov momentum."""

from __future__ import annotations

from typing import Callable

from .. import _C, _complex
from .._C import Tensor
from .optimizer import Optimizer, ParamsT, _check_differentiable, _no_grad_step, _subclassed

__all__ = ["SGD"]


class SGD(Optimizer):
    """Implements stochastic gradient descent (optionally with momentum), as ``torch.optim.SGD``.

    The update of a whole param group is one fused C++ call.

    With momentum, ``state[p]["momentum_buffer"]`` starts as a copy of the first
    (weight-decayed) gradient, as PyTorch.  ``foreach`` and ``fused`` are accepted
    and recorded; ember's step is always fused.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float | Tensor = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        _check_differentiable(differentiable)
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
            foreach=foreach,
            differentiable=differentiable,
            fused=fused,
        )
        super().__init__(params, defaults)

    @_no_grad_step
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        """One update of every parameter that has a gradient; returns ``closure()``'s loss when given."""
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            momentum = group["momentum"]
            bufs = [self.state[p].get("momentum_buffer") for p in params] if momentum != 0 else [None] * len(params)
            if _subclassed(params):
                # a parameter subclass that overrides __torch_function__ (pypose's manifold parameters retract in
                # add_) sees each step's ops, as in PyTorch's single-tensor path
                bufs = [_subclass_step(p, buf, group) for p, buf in zip(params, bufs)]
            else:
                bufs = self._fused_step(params, bufs, group)
            if momentum != 0:
                for p, buf in zip(params, bufs):
                    self.state[p]["momentum_buffer"] = _complex.like(p, buf)
        return None

    @staticmethod
    def _fused_step(params: list, bufs: list, group: dict) -> list:
        return _C._sgd_step_(  # a complex parameter steps as its view_as_real, as PyTorch's (Note [Complex tensors])
            _complex.pairs(params),
            _complex.pairs([p.grad for p in params]),
            _complex.pairs(bufs),
            float(group["lr"]),
            float(group["momentum"]),
            float(group["dampening"]),
            float(group["weight_decay"]),
            bool(group["nesterov"]),
            bool(group["maximize"]),
        )


def _subclass_step(param: Tensor, buf: Tensor | None, group: dict) -> Tensor | None:
    """One parameter's SGD step by Tensor ops, as PyTorch's single-tensor SGD; its momentum buffer."""
    grad = -param.grad if group["maximize"] else param.grad
    if group["weight_decay"] != 0:
        grad = grad.add(param, alpha=group["weight_decay"])
    momentum = group["momentum"]
    if momentum != 0:
        if buf is None:
            buf = grad.clone().detach()
        else:
            buf.mul_(momentum).add_(grad, alpha=1 - group["dampening"])
        grad = grad.add(buf, alpha=momentum) if group["nesterov"] else buf
    param.add_(grad, alpha=-group["lr"])
    return buf
