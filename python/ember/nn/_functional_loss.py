"""The losses of nn.functional that are compositions of other ops (re-exported by nn.functional): the
divergence and likelihood losses, the margin and embedding losses.

Each follows PyTorch's formula term for term, so values and gradients agree (the gradient at a hinge's kink,
exactly 0, is PyTorch's too: clamp passes it). reduction is 'mean', 'sum' or 'none'; size_average and reduce
are its deprecated spellings, where PyTorch takes them.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

from .. import _C
from .._autocast import float32_under_autocast
from .._creation import _device_of, arange, ones_like, zeros
from .._distance import pairwise_distance
from ..grad_mode import no_grad
from ._functional_utils import _get_reduction, _reduce

if TYPE_CHECKING:
    from .._C import Tensor

__all__ = [
    "kl_div",
    "poisson_nll_loss",
    "gaussian_nll_loss",
    "margin_ranking_loss",
    "hinge_embedding_loss",
    "soft_margin_loss",
    "multilabel_soft_margin_loss",
    "multilabel_margin_loss",
    "multi_margin_loss",
    "cosine_embedding_loss",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
]


def _check_reduction(reduction, message):
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(message)


def _xlogx(t):
    """t * log(t), 0 where t == 0 (xlogy(t, t)); the unused branch never sees log(0), so no NaN gradient."""
    zero = t == 0
    return _C.where(zero, 0.0, t * _C.where(zero, 1.0, t).log())


def kl_div(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """The Kullback-Leibler divergence loss for log-probabilities input: target * (log(target) - input), or
    exp(target) * (target - input) when target holds log-probabilities too (log_target=True).

    reduction='batchmean' divides the sum by the batch size (input.size(0)), the divergence's definition;
    'mean' divides by the number of elements (with PyTorch's warning about it).
    """
    input, target = float32_under_autocast(("cpu", "cuda"), input, target)
    if size_average is not None or reduce is not None:
        how = _get_reduction(reduction, size_average, reduce)
    else:
        if reduction == "mean":
            warnings.warn(
                "reduction: 'mean' divides the total loss by both the batch size and the support size."
                "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                stacklevel=2,
            )
        how = "sum" if reduction == "batchmean" else _get_reduction(reduction)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = _xlogx(target) - target * input
    out = _reduce(loss, how)
    if reduction == "batchmean" and size_average is None and reduce is None and input.dim() != 0:
        out = out / input.shape[0]
    return out


def poisson_nll_loss(
    input: Tensor,
    target: Tensor,
    log_input: bool = True,
    full: bool = False,
    size_average: bool | None = None,
    eps: float = 1e-8,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """The negative log likelihood of target under a Poisson distribution of rate input: exp(input) -
    target * input (log_input=True), or input - target * log(input + eps). full adds the Stirling approximation
    of log(target!), target * log(target) - target + 0.5 * log(2 pi target), where target > 1."""
    input, target = float32_under_autocast(("cpu", "cuda"), input, target)
    reduction = _get_reduction(reduction, size_average, reduce)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        big = target > 1
        t = _C.where(big, target, 2.0)  # the masked entries never take a log of 0 (no NaN gradient)
        stirling = t * t.log() - t + 0.5 * (t * (2 * math.pi)).log()
        loss = loss + _C.where(big, stirling, 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(
    input: Tensor,
    target: Tensor,
    var: Tensor | float,
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> Tensor:
    """The negative log likelihood of target under a Gaussian of mean input and variance var:
    0.5 * (log(max(var, eps)) + (input - target)^2 / max(var, eps)), plus 0.5 * log(2 pi) when full.

    var has input's shape, or one dim less (the last), or a size-1 dim where input has another size (one
    variance shared along it), or is a number. The clamp to eps changes the value only: the gradient flows to
    var as computed, as PyTorch.
    """
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * ones_like(input)
    elif (var < 0).any().item():
        raise ValueError("var has negative entry/entries")
    if var.shape != input.shape:
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (
            input.dim() == var.dim() and sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1
        ):  # one dim of size 1 where input has another size: a shared variance
            raise ValueError("var is of incorrect size")
    _check_reduction(reduction, reduction + " is not valid")
    var = var.clone()
    with no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def margin_ranking_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """max(0, -target * (input1 - input2) + margin): target 1 asks for input1 ranked above input2, -1 below."""
    input1, input2, target = float32_under_autocast(("cpu", "cuda"), input1, input2, target)
    reduction = _get_reduction(reduction, size_average, reduce)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(
            f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {input1.size()}, input2: {input2.size()}, target: {target.size()} "
        )
    return _reduce((-target * (input1 - input2) + margin).clamp(min=0), reduction)


def hinge_embedding_loss(
    input: Tensor,
    target: Tensor,
    margin: float = 1.0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """input where target is 1, max(0, margin - input) where target is -1 (both terms for other targets, as
    PyTorch); input is typically a distance."""
    input, target = float32_under_autocast(("cpu", "cuda"), input, target)
    reduction = _get_reduction(reduction, size_average, reduce)
    loss = _C.where(target != 1, (margin - input).clamp(min=0), 0.0) + _C.where(target != -1, input, 0.0)
    return _reduce(loss, reduction)


def soft_margin_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """The two-class logistic loss log(1 + exp(-target * input)), target in {1, -1}; computed without overflow."""
    input, target = float32_under_autocast(("cpu", "cuda"), input, target)
    reduction = _get_reduction(reduction, size_average, reduce)
    return _reduce(_C._softplus(-input * target, 1.0, math.inf), reduction)


def multilabel_soft_margin_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """The multi-label one-versus-all logistic loss: -(y log(sigmoid(x)) + (1 - y) log(sigmoid(-x))), weighted
    by weight (per class) and averaged over the classes (the last dim), then reduced over the samples."""
    if size_average is not None or reduce is not None:
        reduction = _get_reduction(reduction, size_average, reduce)
    loss = -(target * _C._logsigmoid(input) + (1 - target) * _C._logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    loss = loss.sum(class_dim) / input.shape[class_dim]
    _check_reduction(reduction, reduction + " is not valid")
    return _reduce(loss, reduction)


def _check_margin_input(input):
    """Input of the multi-class margin losses: (C,) or (N, C) with C > 0 (N may be 0), or a 0-d tensor."""
    dim = input.dim()
    if not ((dim == 2 and input.shape[1] != 0) or (dim == 1 and input.shape[0] != 0) or dim == 0):
        raise RuntimeError(
            f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: {list(input.shape)}"
        )
    return (input.shape[0], input.shape[1]) if dim == 2 else (1, max(input.numel(), 1))


def _check_long(target):
    if target.dtype != _C.dtype.int64:
        name = target.type().split(".")[-1].replace("Tensor", "")
        raise RuntimeError(f"expected scalar type Long but found {name}")


def multilabel_margin_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """The multi-class multi-label hinge loss: for each sample, sum over its target classes j and non-target
    classes i of max(0, 1 - (x[j] - x[i])), divided by the number of classes C.

    target (int64) has input's shape and lists the target classes first, ended by -1 (or by the end of the row).
    """
    (input,) = float32_under_autocast(("cpu", "cuda"), input)
    reduction = _get_reduction(reduction, size_average, reduce)
    n, c = _check_margin_input(input)
    _check_long(target)
    if target.shape != input.shape:
        raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: {list(input.shape)}")
    if target.numel() and (target.min().item() < -1 or target.max().item() >= c):
        raise RuntimeError("argument #2 'target' is out of range")
    x, t = input.reshape(n, c), target.reshape(n, c)
    if n == 0:
        return _reduce(x.sum(1), reduction)
    with no_grad():
        # The targets of a row are the entries before its first -1.
        classes = arange(c, device=_device_of(t))
        first_end = _C.where(t < 0, classes, c).amin(1, keepdim=True)
        listed = classes < first_end
        tc = t.clamp(min=0)
        is_target = zeros(n, c, device=_device_of(t)).scatter_add(1, tc, listed.float()) > 0
        counted = listed.unsqueeze(2).logical_and(is_target.logical_not().unsqueeze(1))  # (n, target j, class i)
    hinge = (1 - x.gather(1, tc).unsqueeze(2) + x.unsqueeze(1)).clamp(min=0)
    loss = _C.where(counted, hinge, 0.0).sum((1, 2)) / c
    if input.dim() < 2:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def _refuse_weight_grad(weight: Tensor | None, function: str) -> None:
    """PyTorch's RuntimeError for a class weight that requires grad where its kernel has no weight gradient (the
    C++ losses check it alike: check_weight_needs_no_grad)."""
    if weight is not None and weight.requires_grad and _C.is_grad_enabled():
        raise RuntimeError(
            f"The function '{function}' is not differentiable with respect to argument 'weight'. This input cannot "
            "have requires_grad True."
        )


def multi_margin_loss(
    input: Tensor,
    target: Tensor,
    p: int = 1,
    margin: float = 1.0,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """The multi-class hinge loss: for each sample with target class y, the sum over the other classes i of
    max(0, margin - x[y] + x[i])^p (times weight[y]), divided by the number of classes. p is 1 or 2."""
    input, weight = float32_under_autocast(("cpu", "cuda"), input, weight)
    reduction = _get_reduction(reduction, size_average, reduce)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    _refuse_weight_grad(weight, "multi_margin_loss")
    n, c = _check_margin_input(input)
    if target.dim() > 1 or target.numel() != n:
        raise RuntimeError(
            "multi_margin_loss: target tensor should be 1-D with size equal to the number of input samples "
            f"(batch size). Expected target size [{n}], but got {list(target.shape)}. Input has shape "
            f"{list(input.shape)}."
        )
    _check_long(target)
    if weight is not None and weight.numel() != c:
        raise RuntimeError(f"inconsistent weight size, expected {c} but got {list(weight.shape)}")
    if target.numel() and (target.min().item() < 0 or target.max().item() >= c):
        raise RuntimeError("target out of range")
    x, t = input.reshape(n, c), target.reshape(n, 1)
    z = (margin - x.gather(1, t) + x).clamp(min=0)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * weight.index_select(0, t.reshape(-1)).unsqueeze(1)
    loss = _C.where(arange(c, device=_device_of(t)) == t, 0.0, z).sum(1) / c
    return _reduce(loss.reshape(target.shape), reduction)


def cosine_embedding_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """1 - cos(input1, input2) where target is 1, max(0, cos(input1, input2) - margin) where target is -1;
    inputs (N, D) with target (N,), or (D,) with a 0-d target."""
    input1, input2, target = float32_under_autocast(("cpu", "cuda"), input1, input2, target)
    reduction = _get_reduction(reduction, size_average, reduce)
    dim = target.dim()
    if dim > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if input1.dim() != dim + 1 or input2.dim() != dim + 1:
        raise RuntimeError(
            f"{dim}D target tensor expects {dim + 1}D input tensors, but found inputs with sizes "
            f"{list(input1.shape)} and {list(input2.shape)}."
        )
    eps = 1e-12
    prod = (input1 * input2).sum(dim)
    mag = ((input1 * input1).sum(dim) + eps) * ((input2 * input2).sum(dim) + eps)
    cos = prod / mag.sqrt()
    loss = _C.where(target == 1, 1 - cos, 0.0) + _C.where(target == -1, (cos - margin).clamp(min=0), 0.0)
    return _reduce(loss, reduction)


def _check_triplet(anchor, positive, negative, margin):
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    a, p, n = anchor.dim(), positive.dim(), negative.dim()
    if not (a == p == n):
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number of dimensions, "
            f"but got: anchor {a}D, positive {p}D, and negative {n}D inputs"
        )


def _triplet(anchor, positive, negative, distance, margin, swap, reduction):
    d_pos = distance(anchor, positive)
    d_neg = distance(anchor, negative)
    if swap:  # the positive as anchor when it is nearer to the negative (Balntas et al.)
        d_neg = _C.minimum(d_neg, distance(positive, negative))
    return _reduce((margin + d_pos - d_neg).clamp(min=0), reduction)


def triplet_margin_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-6,
    swap: bool = False,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """max(0, margin + d(anchor, positive) - d(anchor, negative)) with d the pairwise_distance of norm p (eps
    added to the difference); swap uses d(positive, negative) where it is smaller."""
    anchor, positive, negative = float32_under_autocast(("cpu", "cuda"), anchor, positive, negative)
    reduction = _get_reduction(reduction, size_average, reduce)
    _check_triplet(anchor, positive, negative, margin)

    def distance(a, b):
        return pairwise_distance(a, b, p, eps)

    return _triplet(anchor, positive, negative, distance, margin, swap, reduction)


def triplet_margin_with_distance_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    *,
    distance_function: Callable[[Tensor, Tensor], Tensor] | None = None,
    margin: float = 1.0,
    swap: bool = False,
    reduction: str = "mean",
) -> Tensor:
    """triplet_margin_loss with any distance_function(x1, x2) (pairwise_distance when None)."""
    _check_reduction(reduction, f"{reduction} is not a valid value for reduction")
    _check_triplet(anchor, positive, negative, margin)
    distance = pairwise_distance if distance_function is None else distance_function
    return _triplet(anchor, positive, negative, distance, margin, swap, reduction)
