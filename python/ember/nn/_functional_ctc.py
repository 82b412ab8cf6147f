"""Connectionist Temporal Classification loss, as torch.nn.functional.ctc_loss.

The forward-backward (alpha-beta) recursion runs in numpy, in log space and float64 whatever the input dtype:
CTC sums exponentially many alignments whose probabilities underflow quickly, and the recursion is a
sequential loop over time that gains nothing from building an ember graph. It is vectorised over the batch
and over the extended label sequence (targets interleaved with blanks), so the Python loop is over T only.

The gradient is the true derivative with respect to log_probs, treated as free inputs: -posterior(t, c),
the share of the probability mass whose alignments emit class c at time t. PyTorch's kernel instead returns
exp(log_probs) - posterior, which assumes log_probs are normalised (it is the logits' gradient through
log_softmax); both give the same gradient to anything upstream of a log_softmax, and ember's passes gradcheck
on log_probs directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._C import Tensor
from .._creation import tensor
from ..autograd.function import Function, once_differentiable
from ._functional_utils import _get_reduction

__all__ = ["ctc_loss"]

_ARGS = "(while checking arguments for ctc_loss)"
Lengths = Tensor | Sequence[int] | int


def _lengths(values: Lengths) -> np.ndarray:
    """Per-sample lengths as an int64 vector: tensors, sequences and (unbatched) plain ints alike."""
    if isinstance(values, Tensor):
        return np.atleast_1d(values.detach().cpu().numpy()).astype(np.int64).reshape(-1)
    return np.atleast_1d(np.asarray(values, dtype=np.int64)).reshape(-1)


def _label_rows(targets: np.ndarray, target_lengths: np.ndarray, batch: int) -> list[np.ndarray]:
    """Each sample's target labels, from padded (N, S) targets or the 1-D concatenation of all of them."""
    if targets.ndim == 2:
        needed = int(target_lengths.max(initial=0))
        if targets.shape[1] < needed:
            raise RuntimeError(
                f"Expected tensor to have size at least {needed} at dimension 1, but got size {targets.shape[1]} "
                f"for argument #2 'targets' {_ARGS}"
            )
        return [targets[n, : target_lengths[n]] for n in range(batch)]
    total = int(target_lengths.sum())
    if targets.shape[0] != total:
        raise RuntimeError(
            f"Expected tensor to have size {total} at dimension 0, but got size {targets.shape[0]} "
            f"for argument #2 'targets' {_ARGS}"
        )
    offsets = np.concatenate([[0], np.cumsum(target_lengths)])
    return [targets[offsets[n] : offsets[n + 1]] for n in range(batch)]


def _extended_labels(rows: list[np.ndarray], blank: int) -> tuple[np.ndarray, np.ndarray]:
    """The blank-interleaved label sequences l' (N, 2 * S_max + 1), padded with blanks, and where a transition
    may skip a blank (s -> s + 2: onto a label that differs from the one two places before)."""
    width = 2 * max((len(r) for r in rows), default=0) + 1
    ext = np.full((len(rows), width), blank, dtype=np.int64)
    for n, row in enumerate(rows):
        ext[n, 1 : 2 * len(row) : 2] = row
    skip = np.zeros_like(ext, dtype=bool)
    skip[:, 3::2] = ext[:, 3::2] != ext[:, 1:-2:2]
    return ext, skip


def _shift(values: np.ndarray, by: int) -> np.ndarray:
    """values moved `by` places along the last axis (positive: towards higher s), filled with log(0)."""
    out = np.full_like(values, -np.inf)
    if by > 0:
        out[..., by:] = values[..., :-by]
    else:
        out[..., :by] = values[..., -by:]
    return out


def _alpha_beta(
    emit: np.ndarray, skip: np.ndarray, input_lengths: np.ndarray, target_lengths: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Forward and backward variables (T, N, L), both including the emission at t, and log p(target | input).

    emit[t, n, s] is log y_t(l'_s); positions past a sample's 2 * S_n + 1 and times past its input length are
    log(0), so the padded samples of a batch never leak probability into each other."""
    steps, batch, width = emit.shape
    rows = np.arange(batch)
    valid = np.arange(width)[None, :] < (2 * target_lengths + 1)[:, None]
    emit = np.where(valid[None], emit, -np.inf)
    skip_from = np.where(skip, 0.0, -np.inf)  # adds log(0) to the disallowed s - 2 -> s moves
    alpha = np.full((steps, batch, width), -np.inf)
    beta = np.full((steps, batch, width), -np.inf)
    with np.errstate(invalid="ignore", divide="ignore"):
        if steps:
            alpha[0, :, :2] = emit[0, :, :2]
        for t in range(1, steps):
            prev = alpha[t - 1]
            stay = np.logaddexp(prev, _shift(prev, 1))
            alpha[t] = np.logaddexp(stay, _shift(prev, 2) + skip_from) + emit[t]
        last_s = 2 * target_lengths
        start = np.full((batch, width), -np.inf)
        start[rows, last_s] = 0.0
        labelled = target_lengths > 0  # may also end on the last label rather than the trailing blank
        start[rows[labelled], last_s[labelled] - 1] = 0.0
        for t in range(steps - 1, -1, -1):
            after = beta[t + 1] if t + 1 < steps else np.full((batch, width), -np.inf)
            onward = np.logaddexp(np.logaddexp(after, _shift(after, -1)), _shift(after + skip_from, -2))
            beta[t] = np.where((t == input_lengths - 1)[:, None], start, onward) + emit[t]
        ends = np.maximum(input_lengths - 1, 0)
        end_alpha = alpha[ends, rows]
        log_like = np.logaddexp(
            end_alpha[rows, last_s], np.where(target_lengths > 0, end_alpha[rows, last_s - 1], -np.inf)
        )
    # No frames: the empty target is certain and any other impossible.
    log_like = np.where(input_lengths == 0, np.where(target_lengths == 0, 0.0, -np.inf), log_like)
    return alpha, beta, log_like


def _posteriors(
    alpha: np.ndarray, beta: np.ndarray, emit: np.ndarray, ext: np.ndarray, log_like: np.ndarray, classes: int
) -> np.ndarray:
    """posterior[t, n, c] = sum over s with l'_s = c of alpha_t(s) beta_t(s) / y_t(c) / p: d log p / d log y_t(c)."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        share = np.exp(alpha + beta - emit - log_like[None, :, None])
    share = np.nan_to_num(share, nan=0.0)
    onehot = np.eye(classes)[ext]  # (N, L, C)
    return np.einsum("tns,nsc->tnc", share, onehot)


class _CTCLoss(Function):
    """Per-sample CTC negative log-likelihoods (N,), differentiable with respect to log_probs only."""

    @staticmethod
    def forward(
        ctx: Any,
        log_probs: Tensor,
        ext: np.ndarray,
        skip: np.ndarray,
        input_lengths: np.ndarray,
        target_lengths: np.ndarray,
        zero_infinity: bool,
    ) -> Tensor:
        lp = log_probs.detach().cpu().numpy().astype(np.float64)
        emit = np.take_along_axis(lp, np.broadcast_to(ext[None], (lp.shape[0],) + ext.shape), axis=2)
        alpha, beta, log_like = _alpha_beta(emit, skip, input_lengths, target_lengths)
        losses = -log_like
        infinite = ~np.isfinite(losses)
        if zero_infinity:
            losses = np.where(infinite, 0.0, losses)
        ctx.state = (alpha, beta, emit, ext, log_like, infinite, zero_infinity, lp.shape[2])
        ctx.dtype, ctx.device = log_probs.dtype, log_probs.device
        return tensor(losses, dtype=log_probs.dtype).to(log_probs.device)

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad_losses: Tensor) -> tuple[Tensor | None, ...]:
        alpha, beta, emit, ext, log_like, infinite, zero_infinity, classes = ctx.state
        grad = -_posteriors(alpha, beta, emit, ext, log_like, classes)
        # An impossible target has no gradient to follow: 0 when zeroed, nan (as PyTorch's kernel) otherwise.
        grad[:, infinite] = 0.0 if zero_infinity else np.nan
        scale = grad_losses.detach().cpu().numpy().astype(np.float64).reshape(-1)
        grad = grad * scale[None, :, None]
        return tensor(grad, dtype=ctx.dtype).to(ctx.device), None, None, None, None, None


def _check(log_probs: Tensor, targets: Tensor, blank: int, input_lengths: np.ndarray, target_lengths: np.ndarray):
    """PyTorch's argument checks, where they are cheap."""
    if log_probs.dim() not in (2, 3):
        raise RuntimeError(f"ctc_loss(): Expected log_probs to be 2D or 3D, but got {log_probs.dim()}D")
    if not log_probs.is_floating_point():
        raise RuntimeError(f"ctc_loss(): Expected log_probs to be floating point, but got {log_probs.dtype}")
    if targets.is_floating_point():
        raise RuntimeError("ctc_loss(): Expected targets to be an integer tensor")
    batch = log_probs.shape[1] if log_probs.dim() == 3 else 1
    steps, classes = log_probs.shape[0], log_probs.shape[-1]
    if not 0 <= blank < classes:
        raise RuntimeError("blank must be in label range")
    if len(input_lengths) != batch:
        raise RuntimeError("input_lengths must be of size batch_size")
    if len(target_lengths) != batch:
        raise RuntimeError("target_lengths must be of size batch_size")
    for n in range(batch):
        if input_lengths[n] > steps:
            raise RuntimeError(
                f"Expected input_lengths to have value at most {steps}, but got value {input_lengths[n]} {_ARGS}"
            )
        if input_lengths[n] < 0:
            raise RuntimeError(
                f"Expected input_lengths to have value at least 0, but got value {input_lengths[n]} {_ARGS}"
            )
        if target_lengths[n] < 0:
            raise RuntimeError(
                f"Expected target_lengths to have value at least 0, but got value {target_lengths[n]} {_ARGS}"
            )


def ctc_loss(
    log_probs: Tensor,
    targets: Tensor,
    input_lengths: Lengths,
    target_lengths: Lengths,
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
) -> Tensor:
    """The Connectionist Temporal Classification loss: -log p(target | input), summed over every alignment of
    the target to the T frames (repeats collapsed, blanks removed).

    log_probs: (T, N, C) log-softmax outputs, or (T, C) unbatched; targets: (N, S) padded or the 1-D
    concatenation of all targets ((S,) unbatched); input_lengths / target_lengths: one per sample. reduction
    'mean' divides each loss by its target length (at least 1) before averaging over the batch, so long targets
    do not dominate; 'sum' sums, 'none' gives (N,). Impossible alignments cost inf; zero_infinity turns them
    (and their gradients) to 0, for batches where a few frames are too short for their transcripts.
    """
    reduction = _get_reduction(reduction)
    ins, outs = _lengths(input_lengths), _lengths(target_lengths)
    _check(log_probs, targets, blank, ins, outs)
    unbatched = log_probs.dim() == 2
    batched = log_probs.unsqueeze(1) if unbatched else log_probs
    labels = targets.detach().cpu().numpy().astype(np.int64)
    rows = _label_rows(labels.reshape(-1) if unbatched else labels, outs, len(outs))
    ext, skip = _extended_labels(rows, blank)
    losses = _CTCLoss.apply(batched, ext, skip, ins, outs, bool(zero_infinity))
    if reduction == "mean":
        divisor = tensor(np.maximum(outs, 1), dtype=losses.dtype).to(losses.device)
        return (losses / divisor).mean()
    if reduction == "sum":
        return losses.sum()
    return losses.squeeze(0) if unbatched else losses
