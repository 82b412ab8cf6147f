"""torch-level spellings that real scripts call: the in-place function forms of Tensor methods
(``ember.relu_(x)`` is ``x.relu_()``), and the ``torch.*`` forms of nn.functional ops with ATen's
signatures (``torch.embedding(weight, indices)``, losses taking ``reduction`` as ATen's int:
0 none, 1 mean, 2 sum)."""

from __future__ import annotations

from typing import Any, Callable, Sequence

from ._C import Tensor
from ._composite import _axis_alias
from .nn import functional as F

# In-place Tensor methods PyTorch also exports as torch.<name>(input, ...).
_INPLACE_METHODS = """abs_ acos_ acosh_ addmv_ arccos_ arccosh_ arcsin_ arcsinh_ arctan_ arctanh_ asin_ asinh_
atan_ atanh_ ceil_ clamp_ clamp_max_ clamp_min_ clip_ conj_physical_ cos_ cosh_ deg2rad_ detach_ erf_ erfc_
exp2_ exp_ expm1_ fill_ fix_ floor_ frac_ gcd_ index_put_ lcm_ ldexp_ log10_ log1p_ log2_ log_ logit_
nan_to_num_ neg_ negative_ rad2deg_ reciprocal_ relu_ resize_as_ round_ rsqrt_ sigmoid_ sin_ sinc_ sinh_
sqrt_ square_ tan_ tanh_ trunc_ xlogy_ zero_ as_strided_""".split()

_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}


def _method_function(name: str) -> Callable[..., Tensor]:
    def function(input: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return getattr(input, name)(*args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"In place: input.{name}(...), which returns input."
    return function


globals().update({name: _method_function(name) for name in _INPLACE_METHODS})


def _reduction(reduction: int | str) -> str:
    return _REDUCTIONS[reduction] if isinstance(reduction, int) else reduction


# ----------------------------------------------------------------------- activations, dropout
def threshold(input: Tensor, threshold: float, value: float) -> Tensor:
    """value where input <= threshold, else input."""
    return F.threshold(input, threshold, value)


# F's in-place activations are torch's, argument for argument.
threshold_, selu_, celu_ = F.threshold_, F.selu_, F.celu_


def rrelu_(
    input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False, generator: Any = None
) -> Tensor:
    """In place: randomized leaky ReLU of input, its slopes drawn from generator in training; the mean
    slope otherwise."""
    from .nn._functional_activation import _rrelu

    return _rrelu(input, lower, upper, training, True, generator)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """PReLU: max(0, x) + weight * min(0, x), weight per channel (dim 1) or one for all."""
    return F.prelu(input, weight)


def _dropouts(kind: Callable[..., Tensor], name: str) -> tuple[Callable[..., Tensor], Callable[..., Tensor]]:
    def out_of_place(input: Tensor, p: float, train: bool) -> Tensor:
        return kind(input, p, train)

    def in_place(input: Tensor, p: float, train: bool) -> Tensor:
        return kind(input, p, train, inplace=True)

    out_of_place.__name__ = out_of_place.__qualname__ = name
    in_place.__name__ = in_place.__qualname__ = name + "_"
    out_of_place.__doc__ = f"F.{kind.__name__}(input, p, training=train)."
    in_place.__doc__ = f"F.{kind.__name__}(input, p, training=train, inplace=True)."
    return out_of_place, in_place


def _feature_dropout(input: Tensor, p: float, train: bool, inplace: bool = False) -> Tensor:
    """Whole channels (dim 1) zeroed: dropout2d's rule for any rank."""
    return F.dropout2d(input, p, train, inplace) if input.dim() != 3 else F.dropout1d(input, p, train, inplace)


_, dropout_ = _dropouts(F.dropout, "dropout")  # ember.dropout and ember.alpha_dropout exist already
_, alpha_dropout_ = _dropouts(F.alpha_dropout, "alpha_dropout")
feature_dropout, feature_dropout_ = _dropouts(_feature_dropout, "feature_dropout")
feature_alpha_dropout, feature_alpha_dropout_ = _dropouts(F.feature_alpha_dropout, "feature_alpha_dropout")


# --------------------------------------------------------------------------- layers as functions
def embedding(
    weight: Tensor, indices: Tensor, padding_idx: int = -1, scale_grad_by_freq: bool = False, sparse: bool = False
) -> Tensor:
    """weight's rows at indices (ATen's argument order: weight first; padding_idx -1 is none)."""
    return F.embedding(
        indices, weight, None if padding_idx == -1 else padding_idx, None, 2.0, scale_grad_by_freq, sparse
    )


def embedding_renorm_(input: Tensor, indices: Tensor, max_norm: float, norm_type: float) -> Tensor:
    """Rescales in place the rows of input at indices whose norm exceeds max_norm."""
    from .nn.functional import _embedding_renorm_

    _embedding_renorm_(input, indices, max_norm, norm_type)
    return input


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x1^T A x2 + b per output feature (F.bilinear)."""
    return F.bilinear(input1, input2, weight, bias)


def batch_norm(
    input: Tensor,
    weight: Tensor | None,
    bias: Tensor | None,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    training: bool,
    momentum: float,
    eps: float,
    cudnn_enabled: bool,
) -> Tensor:
    """Batch normalization with ATen's argument order: (input, weight, bias, running_mean, running_var,
    training, momentum, eps, cudnn_enabled)."""
    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(
    input: Tensor,
    weight: Tensor | None,
    bias: Tensor | None,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    use_input_stats: bool,
    momentum: float,
    eps: float,
    cudnn_enabled: bool,
) -> Tensor:
    """Instance normalization with ATen's argument order (use_input_stats as F.instance_norm's)."""
    return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


def rms_norm(
    input: Tensor, normalized_shape: Sequence[int], weight: Tensor | None = None, eps: float | None = None
) -> Tensor:
    """Root-mean-square normalization over the last dims of normalized_shape (F.rms_norm)."""
    return F.rms_norm(input, normalized_shape, weight, eps)


def constant_pad_nd(input: Tensor, pad: Sequence[int], value: float = 0) -> Tensor:
    """input padded with value, pad as F.pad's (last dim first)."""
    return F.pad(input, list(pad), "constant", value)


def conv_tbc(input: Tensor, weight: Tensor, bias: Tensor, pad: int = 0) -> Tensor:
    """1-D convolution of a (time, batch, channels) input (F.conv_tbc)."""
    return F.conv_tbc(input, weight, bias, pad)


# ----------------------------------------------------------------------------------- losses
def kl_div(input: Tensor, target: Tensor, reduction: int = 1, *, log_target: bool = False) -> Tensor:
    """ATen's kl_div: reduction 1 is the elementwise mean (F.kl_div's 'mean', not 'batchmean', and without
    F.kl_div's warning about it)."""
    loss = F.kl_div(input, target, reduction="none", log_target=log_target)
    mode = _reduction(reduction)
    return loss.mean() if mode == "mean" else loss.sum() if mode == "sum" else loss


def binary_cross_entropy_with_logits(
    input: Tensor, target: Tensor, weight: Tensor | None = None, pos_weight: Tensor | None = None, reduction: int = 1
) -> Tensor:
    """Binary cross entropy of sigmoid(input) and target; reduction as ATen's int (0 none, 1 mean, 2 sum)."""
    return F.binary_cross_entropy_with_logits(
        input, target, weight, reduction=_reduction(reduction), pos_weight=pos_weight
    )


def cosine_embedding_loss(
    input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0, reduction: int = 1
) -> Tensor:
    """Cosine embedding loss (F.cosine_embedding_loss); reduction as ATen's int."""
    return F.cosine_embedding_loss(input1, input2, target, margin, reduction=_reduction(reduction))


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, reduction: int = 1) -> Tensor:
    """Hinge embedding loss (F.hinge_embedding_loss); reduction as ATen's int."""
    return F.hinge_embedding_loss(input, target, margin, reduction=_reduction(reduction))


def margin_ranking_loss(
    input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0, reduction: int = 1
) -> Tensor:
    """Margin ranking loss max(0, -target * (input1 - input2) + margin); reduction as ATen's int."""
    return F.margin_ranking_loss(input1, input2, target, margin, reduction=_reduction(reduction))


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool, full: bool, eps: float, reduction: int) -> Tensor:
    """Poisson negative log likelihood (F.poisson_nll_loss), every argument positional as ATen's."""
    return F.poisson_nll_loss(input, target, log_input, full, eps=eps, reduction=_reduction(reduction))


def ctc_loss(
    log_probs: Tensor,
    targets: Tensor,
    input_lengths: Sequence[int] | Tensor,
    target_lengths: Sequence[int] | Tensor,
    blank: int = 0,
    reduction: int = 0,
    zero_infinity: bool = False,
) -> Tensor:
    """The CTC loss (F.ctc_loss) with ATen's positional arguments; the lengths may be lists, and the reduction
    is ATen's int, none by default (as torch.ctc_loss, unlike F.ctc_loss)."""
    from ._creation import tensor

    lengths = [x if isinstance(x, Tensor) else tensor(list(x)) for x in (input_lengths, target_lengths)]
    return F.ctc_loss(log_probs, targets, *lengths, blank=blank, reduction=_reduction(reduction),
                      zero_infinity=zero_infinity)  # fmt: skip


def triplet_margin_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-6,
    swap: bool = False,
    reduction: int = 1,
) -> Tensor:
    """Triplet margin loss of anchor, positive and negative (F.triplet_margin_loss); reduction as ATen's int."""
    return F.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap, reduction=_reduction(reduction))


# ------------------------------------------------------------------------------------ the rest
def rsub(input: Tensor, other: Any, *, alpha: float = 1) -> Tensor:
    """other - alpha * input."""
    return other - alpha * input if alpha != 1 else other - input


def scalar_tensor(
    s: Any, *, dtype: Any = None, layout: Any = None, device: Any = None, pin_memory: bool | None = None
) -> Tensor:
    """A 0-d tensor holding s, of the default float dtype unless dtype says."""
    from ._creation import _check_layout_and_pinning, get_default_dtype, tensor

    _check_layout_and_pinning(layout, False, "scalar_tensor")
    return tensor(s, dtype=dtype or get_default_dtype(), device=device, pin_memory=bool(pin_memory))


@_axis_alias
def frobenius_norm(input: Tensor, dim: int | Sequence[int] = (-2, -1), keepdim: bool = False) -> Tensor:
    """The square root of the sum of squares over dim (the last two dims by default)."""
    return input.square().sum(dim if isinstance(dim, int) else tuple(dim), keepdim=keepdim).sqrt()


def nuclear_norm(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """The sum of singular values (of the last two dims, or of dim's two)."""
    from . import linalg

    if isinstance(dim, bool):  # nuclear_norm(input, keepdim)
        dim, keepdim = None, dim
    return linalg.matrix_norm(input, "nuc", dim=(-2, -1) if dim is None else tuple(dim), keepdim=keepdim)


__all__ = [
    *_INPLACE_METHODS,
    "alpha_dropout_",
    "batch_norm",
    "bilinear",
    "binary_cross_entropy_with_logits",
    "celu_",
    "constant_pad_nd",
    "conv_tbc",
    "cosine_embedding_loss",
    "ctc_loss",
    "dropout_",
    "embedding",
    "embedding_renorm_",
    "feature_alpha_dropout",
    "feature_alpha_dropout_",
    "feature_dropout",
    "feature_dropout_",
    "frobenius_norm",
    "hinge_embedding_loss",
    "instance_norm",
    "kl_div",
    "margin_ranking_loss",
    "nuclear_norm",
    "poisson_nll_loss",
    "prelu",
    "rms_norm",
    "rrelu_",
    "rsub",
    "scalar_tensor",
    "selu_",
    "threshold",
    "threshold_",
    "triplet_margin_loss",
]
