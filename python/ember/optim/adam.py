"""Adam and AdamW (decoupled weight decay), one fused C++ call per param group."""

from __future__ import annotations

import math
from typing import Any, Callable

from .. import _C, _complex
from .._C import Tensor
from .._creation import zeros_like
from .._memory_format import contiguous_format  # the fused step walks its state row-major
from .optimizer import (
    Optimizer,
    ParamsT,
    _check_adam_args,
    _check_differentiable,
    _no_grad_step,
    _step_tensor,
    _subclassed,
)

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """Implements the Adam algorithm, as ``torch.optim.Adam``.

    State per parameter: ``step`` (float32 0-d tensor), ``exp_avg``,
    ``exp_avg_sq`` and, with amsgrad, ``max_exp_avg_sq``.  ember's step is
    always fused (``foreach`` is recorded).  With ``capturable=True`` or
    ``fused=True``, ``step`` lives on the parameter's device, as PyTorch's,
    and a CUDA step counts it there: ``capturable=True`` steps can be
    captured in a CUDA graph. An ``lr`` given as a tensor on the GPU is
    read there at each step, so a scheduler's changes reach replays.
    """

    _steps_as_tensors = True  # Optimizer.__setstate__

    def __init__(
        self,
        params: ParamsT,
        lr: float | Tensor = 1e-3,
        betas: tuple[float | Tensor, float | Tensor] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        _check_adam_args(lr, betas, eps, weight_decay)
        if not (all(isinstance(b, float) for b in betas) or all(isinstance(b, Tensor) for b in betas)):
            raise ValueError("betas must be either both floats or both Tensors")
        _check_differentiable(differentiable)
        betas = tuple(b.item() if isinstance(b, Tensor) else b for b in betas)
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            foreach=foreach,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=decoupled_weight_decay,
        )
        super().__init__(params, defaults)

    @_no_grad_step
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        """One update of every parameter that has a gradient; returns ``closure()``'s loss when given."""
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            amsgrad = bool(group["amsgrad"])
            on_device = bool(group["capturable"] or group["fused"])
            states = [self.state[p] for p in params]
            for p, state in zip(params, states):
                if len(state) == 0:  # lazy state initialization, as PyTorch
                    state["step"] = _step_tensor(device=p.device if on_device else None)
                    state["exp_avg"] = zeros_like(p, memory_format=contiguous_format)
                    state["exp_avg_sq"] = zeros_like(p, memory_format=contiguous_format)
                    if amsgrad:
                        state["max_exp_avg_sq"] = zeros_like(p, memory_format=contiguous_format)
            # Note [Capturable steps]: a count on a GPU is counted by the step itself, without a host wait
            device_steps = [s["step"] if s["step"].is_cuda else None for s in states]
            for state, counted in zip(states, device_steps):
                if counted is None:
                    state["step"].add_(1)
            beta1, beta2 = group["betas"]
            lr = group["lr"]
            if _subclassed(params) and not any(c is not None for c in device_steps):
                # a parameter subclass that overrides __torch_function__ sees each step's ops, as in PyTorch's
                # single-tensor path (pypose's manifold parameters retract in their in-place ops)
                for p, state in zip(params, states):
                    _subclass_step(p, state, group)
                continue
            device_lr = lr if isinstance(lr, Tensor) and lr.is_cuda else None  # read on the GPU, as its counts
            _C._adam_step_(  # a complex parameter steps as its view_as_real, as PyTorch's (Note [Complex tensors])
                _complex.pairs(params),
                _complex.pairs([p.grad for p in params]),
                _complex.pairs([s["exp_avg"] for s in states]),
                _complex.pairs([s["exp_avg_sq"] for s in states]),
                _complex.pairs([s["max_exp_avg_sq"] for s in states]) if amsgrad else [],
                [0 if counted is not None else int(s["step"].item()) for s, counted in zip(states, device_steps)],
                0.0 if device_lr is not None else float(lr),
                float(beta1),
                float(beta2),
                float(group["eps"]),
                float(group["weight_decay"]),
                amsgrad,
                bool(group["maximize"]),
                bool(group["decoupled_weight_decay"]),
                device_steps if any(c is not None for c in device_steps) else [],
                device_lr,
            )


def _subclass_step(param: Tensor, state: dict, group: dict) -> None:
    """One parameter's Adam step by Tensor ops, as PyTorch's single-tensor Adam (its step already counted)."""
    grad = -param.grad if group["maximize"] else param.grad
    lr, (beta1, beta2), weight_decay = float(group["lr"]), group["betas"], group["weight_decay"]
    if weight_decay != 0:
        if group["decoupled_weight_decay"]:
            param.mul_(1 - lr * weight_decay)
        else:
            grad = grad.add(param, alpha=weight_decay)
    exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
    exp_avg.lerp_(grad, 1 - beta1)
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    step = float(state["step"].item())
    bias_correction2_sqrt = math.sqrt(1 - beta2**step)
    if group["amsgrad"]:
        state["max_exp_avg_sq"].copy_(_C.maximum(state["max_exp_avg_sq"], exp_avg_sq))
        exp_avg_sq = state["max_exp_avg_sq"]
    denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(group["eps"])
    param.addcdiv_(exp_avg, denom, value=-lr / (1 - beta1**step))


class AdamW(Adam):
    """Implements the AdamW algorithm, as ``torch.optim.AdamW``: Adam whose weight decay shrinks the
    parameter (``p *= 1 - lr * weight_decay``) instead of adding to the gradient."""

    def __init__(
        self,
        params: ParamsT,
        lr: float | Tensor = 1e-3,
        betas: tuple[float | Tensor, float | Tensor] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            foreach=foreach,
            maximize=maximize,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=True,
        )

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load ``state_dict`` as ``Optimizer.load_state_dict``; every group stays decoupled (as PyTorch)."""
        super().load_state_dict(state_dict)
        for group in self.param_groups:  # as PyTorch: an AdamW is always decoupled
            group["decoupled_weight_decay"] = True
