"""Muon (momentum orthogonalized by Newton-Schulz), for 2-D parameters, with ember's tensor ops under no_grad."""

from __future__ import annotations

import math
from typing import Any, Callable

from .. import _C
from .._C import Tensor
from .._creation import zeros_like
from ._fma import _fma_add_, _fma_lerp, _fma_lerp_
from .adafactor import _check_real_dense
from .optimizer import Optimizer, ParamsT, _no_grad_step

__all__ = ["Muon"]

# Keller Jordan's quintic: the coefficients maximise the slope at zero, so five steps push every singular value
# into roughly [0.7, 1.2] instead of converging to exactly 1 (which would take many more steps)
DEFAULT_NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)
DEFAULT_NS_STEPS = 5
DEFAULT_EPS = 1e-7
ADJUST_LR_FNS = ("original", "match_rms_adamw")


def _newton_schulz(grad: Tensor, ns_coefficients: tuple[float, float, float], ns_steps: int, eps: float) -> Tensor:
    """The approximate orthogonalisation ``U V^T`` of the 2-D ``grad = U S V^T``, in bfloat16 as PyTorch.

    ``X`` (the wide orientation of ``grad``, scaled to Frobenius norm 1) is
    iterated ``ns_steps`` times as ``X <- a X + (b A + c A A) X`` with
    ``A = X X^T``.  Returns a bfloat16 tensor of ``grad``'s shape.
    """
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if grad.dim() != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = ns_coefficients
    tall = grad.size(0) > grad.size(1)
    x = grad.to(_C.dtype.bfloat16)
    if tall:  # iterate on the wide side: the Gram matrix X X^T is the smaller one
        x = x.T
    # ember's bfloat16 norm rounds its partial sums; PyTorch's accumulates in float32 and rounds once
    norm = x.to(_C.dtype.float32).norm().to(_C.dtype.bfloat16)
    x = x.div(norm.clamp(min=eps))
    for _ in range(ns_steps):
        gram = x @ x.T
        poly = gram.addmm(gram, gram, beta=b, alpha=c)
        x = x.addmm(poly, x, beta=a)
    return x.T if tall else x


def _adjusted_lr(lr: float, adjust_lr_fn: str | None, shape: Any) -> float:
    """The learning rate for a ``(rows, cols)`` parameter: ``original`` (Keller Jordan's, the default) scales by
    ``sqrt(max(1, rows / cols))``; ``match_rms_adamw`` (Moonshot's) by ``0.2 * sqrt(max(rows, cols))`` so that
    the update's RMS is AdamW's and AdamW's lr and weight decay carry over."""
    rows, cols = shape[0], shape[1]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        return lr * math.sqrt(max(1, rows / cols))
    if adjust_lr_fn == "match_rms_adamw":
        return lr * 0.2 * math.sqrt(max(rows, cols))
    return lr


class Muon(Optimizer):
    """Implements the Muon algorithm, as ``torch.optim.Muon`` (for 2-D parameters only).

    Each step: the momentum buffer ``B = momentum * B + (1 - momentum) * g``;
    the direction ``g + momentum * (B - g)`` (nesterov) or ``B``, replaced by
    its approximate orthogonalisation (``ns_steps`` Newton-Schulz iterations
    with ``ns_coefficients``, in bfloat16); decoupled weight decay
    ``p *= 1 - lr * weight_decay``; then ``p -= adjusted_lr * O`` (see
    ``adjust_lr_fn``).  State per parameter: ``momentum_buffer`` (no ``step``,
    as PyTorch).  Biases, embeddings and other non-2-D parameters belong to
    another optimizer such as AdamW.

    Args:
        params: the parameters to optimize, or dicts defining param groups; each must be 2-D.
        lr: learning rate (default: 1e-3).
        weight_decay: decoupled weight decay coefficient (default: 0.1).
        momentum: momentum factor (default: 0.95).
        nesterov: use Nesterov momentum (default: True).
        ns_coefficients: the quintic's ``(a, b, c)`` (default: (3.4445, -4.775, 2.0315)).
        eps: floor of the norm the input to Newton-Schulz is divided by (default: 1e-7).
        ns_steps: number of Newton-Schulz iterations, below 100 (default: 5).
        adjust_lr_fn: ``"original"`` (``lr * sqrt(max(1, rows / cols))``, the meaning of None) or
            ``"match_rms_adamw"`` (``0.2 * lr * sqrt(max(rows, cols))``) (default: None).
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float | Tensor = 1e-3,
        weight_decay: float = 0.1,
        momentum: float = 0.95,
        nesterov: bool = True,
        ns_coefficients: tuple[float, float, float] = DEFAULT_NS_COEFFICIENTS,
        eps: float = DEFAULT_EPS,
        ns_steps: int = DEFAULT_NS_STEPS,
        adjust_lr_fn: str | None = None,
    ) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ADJUST_LR_FNS:
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = dict(
            lr=lr,
            weight_decay=weight_decay,
            momentum=momentum,
            nesterov=nesterov,
            ns_coefficients=ns_coefficients,
            eps=eps,
            ns_steps=ns_steps,
            adjust_lr_fn=adjust_lr_fn,
        )
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p.dim() != 2:
                    raise ValueError(
                        f"Muon only supports 2D parameters whereas we found a parameter with size: {p.size()}"
                    )

    @_no_grad_step
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        """One update of every parameter that has a gradient; returns ``closure()``'s loss when given."""
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            for p in params:
                _check_real_dense("Muon", p)
                if "momentum_buffer" not in self.state[p]:
                    self.state[p]["momentum_buffer"] = zeros_like(p.grad)
            lr, weight_decay, momentum = float(group["lr"]), group["weight_decay"], group["momentum"]
            for p in params:
                grad = p.grad
                if grad.dim() != 2:
                    raise ValueError("Param gradient must be a 2D matrix")
                buf = self.state[p]["momentum_buffer"]
                _fma_lerp_(buf, grad, 1 - momentum)
                direction = _fma_lerp(grad, buf, momentum) if group["nesterov"] else buf
                update = _newton_schulz(direction, group["ns_coefficients"], group["ns_steps"], group["eps"])
                p.mul_(1 - lr * weight_decay)
                _fma_add_(p, update, -_adjusted_lr(lr, group["adjust_lr_fn"], p.shape))
