"""Helpers shared by nn.functional and the private modules it re-exports (_functional_activation,
_functional_loss, _functional_misc): in-place activations, the reduction argument of the losses, the implicit
softmax dim and the normalized_shape check of the normalisation layers."""

from __future__ import annotations

import warnings


def _inplace(input, fn):
    """inplace=True for a composed activation: fn runs on a copy, so autograd saves the copy rather
    than `input` (which the write-back changes), and the result is written into input."""
    return input.copy_(fn(input.clone() if input.requires_grad else input))


def _softmax_dim(name, ndim, stacklevel):
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as an argument.",
        stacklevel=stacklevel,
    )
    return 0 if ndim in (0, 1, 3) else 1


def _normalized_dims(input, normalized_shape):
    """The trailing dims (-k, ..., -1) that normalized_shape names, after checking that input ends with them."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if tuple(input.shape[input.dim() - k :]) != shape or input.dim() < k:
        raise RuntimeError(
            f"Given normalized_shape={list(shape)}, expected input with shape "
            f"[*, {', '.join(map(str, shape))}], but got input of size{list(input.shape)}"
        )
    return tuple(range(-k, 0))


def _get_reduction(reduction, size_average=None, reduce=None):
    """The reduction string of a loss: size_average / reduce (deprecated, with PyTorch's warning) override it."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "mean" if (size_average and reduce) else "sum" if reduce else "none"
        warnings.warn(
            f"size_average and reduce args will be deprecated, please use reduction='{reduction}' instead.",
            stacklevel=3,
        )
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.", stacklevel=3)
        return "mean"
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss
