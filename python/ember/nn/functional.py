"""ember.nn.functional: the stateless functions behind the layers and losses, as torch.nn.functional.

Most functions are composed from differentiable ember ops, so gradients (and
double backward) come for free, and the grad_fn of a result is that of the last
op used (gelu ends in MulBackward0 where PyTorch shows GeluBackward0). linear
(2-D input with bias) is one addmm and nll_loss / cross_entropy with class
indices end in NllLossBackward0, as PyTorch; conv2d and max_pool2d are C++ ops, and the other convolution,
pooling and resampling functions are composed over them (_functional_conv/_pool/_sample.py).

Losses take reduction='mean' (the default), 'sum' or 'none' (no reduction: one loss per element or
sample); size_average and reduce are the deprecated spellings of it, as PyTorch.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING

from .. import _C
from .._autocast import float32_under_autocast
from .._batched import TensorLike
from .._creation import _device_of, arange, ones, zeros
from .._distance import cosine_similarity, pairwise_distance, pdist
from .._dtype_info import _scalar_name
from ..grad_mode import no_grad
from ._functional_activation import *  # noqa: F403
from ._functional_activation import __all__ as _activation_all
from ._functional_attention import embedding_bag, multi_head_attention_forward, scaled_dot_product_attention
from ._functional_conv import *  # noqa: F403
from ._functional_conv import __all__ as _conv_all
from ._functional_conv import _ntuple
from ._functional_ctc import ctc_loss
from ._functional_loss import *  # noqa: F403
from ._functional_loss import __all__ as _loss_all
from ._functional_loss import _refuse_weight_grad
from ._functional_misc import *  # noqa: F403
from ._functional_misc import __all__ as _misc_all
from ._functional_misc import _check_p, _dropout
from ._functional_pool import *  # noqa: F403
from ._functional_pool import __all__ as _pool_all
from ._functional_sample import *  # noqa: F403
from ._functional_sample import __all__ as _sample_all
from ._functional_utils import _get_reduction, _inplace, _normalized_dims, _reduce, _softmax_dim

if TYPE_CHECKING:  # annotation-only names, kept out of the module's public namespace
    from collections.abc import Sequence

    from .._C import Tensor

__all__ = [
    "linear",
    "bilinear",
    "relu",
    "relu_",
    "threshold",
    "threshold_",
    "leaky_relu",
    "gelu",
    "silu",
    "sigmoid",
    "tanh",
    "softmax",
    "log_softmax",
    "logsigmoid",
    "softplus",
    "elu",
    "hardtanh",
    "relu6",
    "dropout",
    "embedding",
    "embedding_bag",
    "scaled_dot_product_attention",
    "multi_head_attention_forward",
    "layer_norm",
    "batch_norm",
    "instance_norm",
    "group_norm",
    *_conv_all,
    *_pool_all,
    *_sample_all,
    "one_hot",
    "pad",
    "normalize",
    "mse_loss",
    "l1_loss",
    "huber_loss",
    "smooth_l1_loss",
    "nll_loss",
    "cross_entropy",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "ctc_loss",
    "selu",
    "celu",
    "elu_",
    "leaky_relu_",
    "hardtanh_",
    "selu_",
    "celu_",
    "cosine_similarity",
    "pairwise_distance",
    "pdist",
]
# The rest of torch.nn.functional lives in private modules by area, re-exported here: more activations
# (_functional_activation), losses (_functional_loss), dropout variants and normalisations
# (_functional_misc); the distances are ember._distance's (ember.cdist, ember.pdist, ...).
__all__ += _activation_all + _loss_all + _misc_all

# ---------------------------------------------------------------------------------------------------------------------
# linear layers


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """Applies a linear transformation to the incoming data: y = input @ weight.T + bias.

    input (*, in_features), weight (out_features, in_features), bias (out_features,); a 2-D input with a
    bias is one addmm (AddmmBackward0, as PyTorch), and so is a contiguous 3-D one, viewed as 2-D and back
    (ViewBackward0, as PyTorch): the bias is added inside the product instead of by a pass of its own.
    """
    if bias is not None and input.dim() == 2:
        return _C.addmm(bias, input, weight.t())
    if bias is not None and input.dim() == 3 and input.is_contiguous():
        rows, cols = input.shape[0] * input.shape[1], input.shape[2]
        out = _C.addmm(bias, input.view(rows, cols), weight.t())
        return out.view(input.shape[0], input.shape[1], out.shape[1])
    out = _C.matmul(input, weight.t())
    return out if bias is None else out + bias


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """Applies a bilinear transformation to the incoming data: y = x1^T A x2 + b, that is
    y[..., o] = sum_ij input1[..., i] * weight[o, i, j] * input2[..., j] + bias[o]."""
    out_f, in1, in2 = weight.shape
    lead = tuple(input1.shape[:-1])
    if lead != tuple(input2.shape[:-1]):
        raise RuntimeError(
            f"bilinear(): input batch dimensions do not match: got {list(input1.shape[:-1])} and "
            f"{list(input2.shape[:-1])}"
        )
    # One matmul against weight laid out as (in1, out*in2), then a product with input2 summed over j.
    x1 = input1.reshape(-1, in1)
    x2 = input2.reshape(-1, in2)
    tmp = _C.matmul(x1, weight.permute(1, 0, 2).reshape(in1, out_f * in2)).reshape(-1, out_f, in2)
    out = (tmp * x2.unsqueeze(1)).sum(-1)
    if bias is not None:
        out = out + bias
    return out.reshape(*lead, out_f)


# ---------------------------------------------------------------------------------------------------------------------
# activations


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """Applies the rectified linear unit elementwise: max(0, x)."""
    return input.relu_() if inplace else input.relu()


def _threshold(input: Tensor, level: float, value: float) -> Tensor:
    return _C.where(input > level, input, float(value))


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """input where it is greater than threshold, else value (a WhereBackward0 node; PyTorch's is fused)."""
    if inplace:
        return _inplace(input, lambda x: _threshold(x, threshold, value))
    return _threshold(input, threshold, value)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """In-place version of threshold."""
    return _inplace(input, lambda x: _threshold(x, threshold, value))


def relu_(input: Tensor) -> Tensor:
    """In-place version of relu."""
    return input.relu_()


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """Applies max(0, x) + negative_slope * min(0, x) elementwise."""
    if inplace:
        return _inplace(input, lambda x: leaky_relu(x, negative_slope))
    return _C._leaky_relu(input, negative_slope)  # one LeakyReluBackward0 node (Note [Fused nodes])


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """In-place version of leaky_relu."""
    return leaky_relu(input, negative_slope, inplace=True)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """Applies the Gaussian Error Linear Unit x * Phi(x) elementwise; approximate='tanh' uses the tanh estimate
    0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return _C._gelu(input, approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """Applies the Sigmoid Linear Unit (swish) elementwise: x * sigmoid(x)."""
    return _inplace(input, silu) if inplace else _C._silu(input)


def sigmoid(input: Tensor) -> Tensor:
    """Applies 1 / (1 + exp(-x)) elementwise."""
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:
    """Applies the hyperbolic tangent elementwise."""
    return input.tanh()


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: _C.dtype | None = None) -> Tensor:
    """Applies exp(x_i) / sum_j exp(x_j) along dim, so that slices along dim sum to 1.

    dim=None is deprecated (a warning; dim 0 for 0-, 1- and 3-D inputs, else 1). dtype, if given, is the
    dtype the input is cast to before the operation.
    """
    if dim is None:
        dim = _softmax_dim("softmax", input.dim(), _stacklevel)
    return _C.softmax(input, dim, dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: _C.dtype | None = None) -> Tensor:
    """Applies log(softmax(x)) along dim, computed stably; dim and dtype as softmax."""
    if dim is None:
        dim = _softmax_dim("log_softmax", input.dim(), _stacklevel)
    return _C.log_softmax(input, dim, dtype)


def logsigmoid(input: Tensor) -> Tensor:
    """Applies log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)) elementwise, without overflow.

    Both kinks (min and |x|) are taken through where() on the same condition, so the
    gradient at exactly x = 0 is the true 0.5 rather than a mix of one-sided slopes.
    """
    return _C._logsigmoid(input)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """Applies log(1 + exp(beta * x)) / beta elementwise; where beta * x > threshold it returns x (linear)."""
    return _C._softplus(input, beta, threshold)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """Applies the Exponential Linear Unit elementwise: x if x > 0, else alpha * (exp(x) - 1)."""
    if inplace:
        return _inplace(input, lambda x: elu(x, alpha))
    return _C._elu(input, alpha)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place version of elu."""
    return elu(input, alpha, inplace=True)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """Applies scale * elu(x, alpha) elementwise with the self-normalising constants of Klambauer et al."""
    if inplace:
        return _inplace(input, selu)
    return _C._elu(input, 1.6732632423543772848170429916717, 1.0507009873554804934193349852946)


def selu_(input: Tensor) -> Tensor:
    """In-place version of selu."""
    return selu(input, inplace=True)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """Applies max(0, x) + min(0, alpha * (exp(x / alpha) - 1)) elementwise."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    if inplace:
        return _inplace(input, lambda x: celu(x, alpha))
    return _C._elu(input, alpha, 1.0, 1.0 / alpha, celu=True)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place version of celu."""
    return celu(input, alpha, inplace=True)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """Clamps each element into [min_val, max_val]."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return input.clamp_(min_val, max_val) if inplace else _C._hardtanh(input, min_val, max_val)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """In-place version of hardtanh."""
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """Applies min(max(0, x), 6) elementwise."""
    return hardtanh(input, 0.0, 6.0, inplace)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: Tensor | None = None) -> Tensor:
    """Divides input by its p-norm along dim: x / max(||x||_p, eps); the result is written into out if given."""
    (input,) = float32_under_autocast(("cuda",), input)
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)  # ClampMinBackward0, as PyTorch
    return input / denom if out is None else _C.div(input, denom, out=out)


# ---------------------------------------------------------------------------------------------------------------------
# dropout, embedding, normalisation


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """During training, zeroes each element with probability p and scales the rest by 1 / (1 - p);
    returns input unchanged when training is False."""
    _check_p(p)
    return _dropout(input, p, training, inplace)


def embedding(
    input: Tensor,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """Looks up the rows of weight (num_embeddings, embedding_dim) at the integer indices in input;
    the result has shape (*input.shape, embedding_dim).

    Args:
        padding_idx: the row at this index gets no gradient.
        max_norm: rows looked up whose norm_type-norm exceeds max_norm are rescaled, in place in weight,
            to norm max_norm first.
        scale_grad_by_freq, sparse: must be False (not supported by ember).
    """
    if input.dtype not in (_C.dtype.int64, _C.dtype.int32):
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar types: "
            f"Long, Int; but got {input.type()} instead (while checking arguments for embedding)"
        )
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("ember: embedding supports neither scale_grad_by_freq nor sparse gradients")
    num = weight.shape[0]
    if padding_idx is not None:
        if padding_idx > 0:
            assert padding_idx < num, "Padding_idx must be within num_embeddings"
        elif padding_idx < 0:
            assert padding_idx >= -num, "Padding_idx must be within num_embeddings"
            padding_idx = num + padding_idx
    flat = input.reshape(-1)
    if max_norm is not None:
        _embedding_renorm_(weight, flat, max_norm, norm_type)
    if _plain_tensors(weight, input):  # one EmbeddingBackward0 node (the stand-ins compose it below)
        try:
            return _C._embedding(weight, input, -1 if padding_idx is None else padding_idx)
        except IndexError:
            raise IndexError("index out of range in self") from None
    try:  # the stand-ins (complex, meta, vmap's): the lookup composed
        out = weight.index_select(0, flat)
    except IndexError:
        raise IndexError("index out of range in self") from None
    out = out.reshape(*input.shape, weight.shape[1])
    if padding_idx is not None and out.requires_grad:
        # The padding row is read as is but gets no gradient (PyTorch skips it in the backward).
        out = _C.where((input == padding_idx).unsqueeze(-1), out.detach(), out)
    return out


def _embedding_renorm_(weight, flat_idx, max_norm, norm_type):
    """Rescales, in place, the rows referenced by flat_idx whose norm exceeds max_norm (as torch.embedding_renorm_)."""
    with no_grad():
        used = zeros(weight.shape[0], dtype=weight.dtype, device=weight.device).scatter_add(
            0, flat_idx, ones(flat_idx.shape[0], dtype=weight.dtype, device=weight.device)
        )
        norms = weight.norm(norm_type, 1, keepdim=True)
        scale = _C.where((norms > max_norm).logical_and(used.unsqueeze(1) > 0), max_norm / (norms + 1e-7), 1.0)
        weight.mul_(scale)


def _plain_tensors(*tensors: Tensor | None) -> bool:
    """Whether each argument is None or an ember.Tensor, not a stand-in (vmap's BatchedTensor, a meta or complex
    tensor), which the fused ops (normalisations, pad, embedding) do not take: those go through the composite."""
    return all(t is None or (isinstance(t, _C.Tensor) and not isinstance(t, TensorLike)) for t in tensors)


_REDUCED_FLOATS = (_C.dtype.bfloat16, _C.dtype.float16)


def _check_norm_dtypes(input: Tensor, *params: Tensor | None) -> None:
    """PyTorch's rule for a normalisation's weight, bias and running statistics: each has input's dtype, or,
    for a bfloat16/float16 input, they are all float32 (a mixed-precision model). Anything else raises
    PyTorch's error where ember would otherwise promote silently."""
    given = [p for p in params if p is not None]
    if all(p.dtype == input.dtype for p in given):
        return
    where = f"mixed dtype ({input.device.type.upper()})"
    if any(p.dtype != _C.dtype.float32 for p in given):
        raise RuntimeError(f"{where}: expect parameter to have scalar type of Float")
    if input.dtype not in _REDUCED_FLOATS:
        raise RuntimeError(f"{where}: all inputs must share same datatype.")


def layer_norm(
    input: Tensor,
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Applies Layer Normalization over the trailing dims given by normalized_shape:
    (x - mean) / sqrt(var + eps) * weight + bias, with the biased variance. One node,
    NativeLayerNormBackward0 (as PyTorch); under vmap, composed of ember ops."""
    _check_norm_dtypes(input, weight, bias)
    if _plain_tensors(input, weight, bias):
        shape = list(_ntuple(normalized_shape, 1))
        return _C._native_layer_norm(input, shape, weight, bias, eps)[0]
    dims = _normalized_dims(input, normalized_shape)
    mean = input.mean(dims, keepdim=True)
    var = input.var(dims, keepdim=True, unbiased=False)
    out = (input - mean) * (var + eps).rsqrt()
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def _update_running_stats(
    running_mean: Tensor | None, running_var: Tensor | None, mean: Tensor, var: Tensor, momentum: float, n: int
) -> None:
    """running = (1 - momentum) * running + momentum * batch, with the unbiased variance, as PyTorch; an
    empty batch leaves them as they are."""
    if n == 0:
        return
    with no_grad():
        if running_mean is not None:
            running_mean.mul_(1.0 - momentum).add_(mean.detach().to(running_mean.dtype) * momentum)
        if running_var is not None:
            unbiased = var.detach().to(running_var.dtype) * (momentum * n / (n - 1))
            running_var.mul_(1.0 - momentum).add_(unbiased)


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Applies Batch Normalization for each channel (dim 1) over every other dim.

    In training, batch statistics are used and the running ones updated in place:
    running = (1 - momentum) * running + momentum * batch, with the unbiased variance, as PyTorch.
    Otherwise the running statistics are used.
    """
    if input.dim() < 2:
        raise ValueError(f"expected 2D or 3D input (got {input.dim()}D input)")
    c = input.shape[1]
    n = input.numel() // c if c else 0
    if training and n == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {input.size()}")
    for name, stat in (("running_mean", running_mean), ("running_var", running_var)):
        if stat is not None and stat.numel() != c:
            raise RuntimeError(f"{name} should contain {c} elements not {stat.numel()}")  # PyTorch's words
    _check_norm_dtypes(input, running_mean, running_var, weight, bias)
    dims = (0,) + tuple(range(2, input.dim()))
    if training and isinstance(input, _C.Tensor) and input.is_floating_point():
        # one kernel and one NativeBatchNormBackward0 node (Note [Fused batch norm])
        out, mean, var, _ = _C._native_batch_norm(input, weight, bias, eps)
        _update_running_stats(running_mean, running_var, mean, var, momentum, n)
        return out
    if training:  # vmap's and meta tensors: the same in ember ops
        mean = input.mean(dims)
        var = input.var(dims, unbiased=False)
        _update_running_stats(running_mean, running_var, mean, var, momentum, n)
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
        mean, var = running_mean, running_var
    # Fold the per-channel statistics and affine parameters into one scale and shift (C values each),
    # so the full-size tensor sees two ops instead of four.
    scale = (var + eps).rsqrt()
    if weight is not None:
        scale = scale * weight
    shift = -mean * scale
    if bias is not None:
        shift = shift + bias
    view = (1, c) + (1,) * (input.dim() - 2)
    # float32 statistics of a bfloat16/float16 input give the input's dtype (_check_norm_dtypes)
    return (input * scale.reshape(view) + shift.reshape(view)).to(input.dtype)


def instance_norm(
    input: Tensor,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Applies Instance Normalization: each channel of each sample (N, C, *) normalised over its own spatial dims.

    With use_input_stats, the running statistics (if given) are updated in place with the mean over the batch of
    the per-instance statistics, as PyTorch; otherwise they are used instead of the input's.
    """
    if input.dim() < 3:
        raise ValueError(f"Expected a batched input (N, C, *) with spatial dims, got {input.dim()}D input")
    _check_norm_dtypes(input, running_mean, running_var, weight, bias)
    n, c = input.shape[0], input.shape[1]
    dims = tuple(range(2, input.dim()))
    view = (1, c) + (1,) * (input.dim() - 2)
    if use_input_stats:
        count = input.numel() // (n * c) if n * c else 0
        if count <= 1:
            raise ValueError(f"Expected more than 1 spatial element when training, got input size {input.size()}")
        mean = input.mean(dims, keepdim=True)
        var = input.var(dims, keepdim=True, unbiased=False)
        with no_grad():
            if running_mean is not None:
                batch_mean = mean.detach().reshape(n, c).mean(0).to(running_mean.dtype)
                running_mean.mul_(1.0 - momentum).add_(batch_mean * momentum)
            if running_var is not None:
                batch_var = var.detach().reshape(n, c).mean(0).to(running_var.dtype) * (count / (count - 1))
                running_var.mul_(1.0 - momentum).add_(batch_var * momentum)
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("Expected running_mean and running_var to be defined when use_input_stats is false")
        mean, var = running_mean.reshape(view), running_var.reshape(view)
    out = (input - mean) * (var + eps).rsqrt()
    if weight is not None:
        out = out * weight.reshape(view)
    if bias is not None:
        out = out + bias.reshape(view)
    return out.to(input.dtype)  # float32 parameters of a bfloat16/float16 input give the input's dtype


def group_norm(
    input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None, eps: float = 1e-5
) -> Tensor:
    """Applies Group Normalization: the channels of each sample (N, C, *) split into num_groups groups, each
    normalised over its channels and spatial dims, then a per-channel affine. One node,
    NativeGroupNormBackward0 (as PyTorch); under vmap, composed of ember ops."""
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.dim()}")
    n, c = input.shape[0], input.shape[1]
    if c % num_groups != 0:
        raise RuntimeError(
            f"Expected number of channels in input to be divisible by num_groups, but got input of shape "
            f"{list(input.shape)} and num_groups={num_groups}"
        )
    _check_norm_dtypes(input, weight, bias)
    if _plain_tensors(input, weight, bias):
        per_channel = input.numel() // (n * c) if n * c else 0
        return _C._native_group_norm(input, weight, bias, n, c, per_channel, num_groups, eps)[0]
    grouped = input.reshape(n, num_groups, -1)
    mean = grouped.mean(-1, keepdim=True)
    var = grouped.var(-1, keepdim=True, unbiased=False)
    out = ((grouped - mean) * (var + eps).rsqrt()).reshape(input.shape)
    view = (1, c) + (1,) * (input.dim() - 2)
    if weight is not None:
        out = out * weight.reshape(view)
    if bias is not None:
        out = out + bias.reshape(view)
    return out


# ---------------------------------------------------------------------------------------------------------------------
# convolution and pooling


# ---------------------------------------------------------------------------------------------------------------------
# tensor utilities


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Returns an int64 tensor of shape (*tensor.shape, num_classes), 1 at each index of the int64 tensor and 0
    elsewhere; num_classes=-1 means max(tensor) + 1."""
    if tensor.dtype != _C.dtype.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if tensor.numel() == 0:
        if num_classes <= 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
    else:
        if tensor.min().item() < 0:
            raise RuntimeError("Class values must be non-negative.")
        top = tensor.max().item()
        if num_classes == -1:
            num_classes = top + 1
        elif top >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    return (tensor.unsqueeze(-1) == arange(num_classes, device=_device_of(tensor))).long()


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:
    """Pads input; pad = (left, right, top, bottom, front, back, ...) from the last dim backwards, negative pads crop.

    mode='constant' fills with value (0 when None), any number of dims. 'reflect' mirrors the input at its edges
    (without repeating the edge), 'replicate' repeats the edge values, 'circular' wraps around; these pad the
    last 1, 2 or 3 dims of an input with one or two more dims (an optional batch dim, then channels) and take
    no value. Each padded dim is one index_select, so the gradient sums back into the input elements read.
    """
    for i, p in enumerate(pad):  # (ints, not floats or bools: PyTorch's error)
        if isinstance(p, bool) or not hasattr(p, "__index__"):
            raise TypeError(
                f"pad(): argument 'pad' (position 2) must be tuple of ints, but found element of type "
                f"{type(p).__name__} at pos {i}"
            )
    if len(pad) % 2 != 0:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.dim():
        raise RuntimeError(
            "Padding length should be less than or equal to two times the input dimension but got "
            f"padding length {len(pad)} and input of dimension {input.dim()}"
        )
    if mode != "constant":
        return _pad_by_index(input, pad, mode, value)
    if _plain_tensors(input):  # one node, as PyTorch's (the stand-ins: complex, meta, vmap's, compose it below)
        return _C._constant_pad_nd(input, [p.__index__() for p in pad], 0.0 if value is None else value)
    x = input
    for i in range(len(pad) // 2):
        d = input.dim() - 1 - i
        lo, hi = pad[2 * i], pad[2 * i + 1]
        if lo < 0:
            x = x.narrow(d, -lo, x.shape[d] + lo)
        if hi < 0:
            x = x.narrow(d, 0, x.shape[d] + hi)
    shape = list(x.shape)
    index = [slice(None)] * x.dim()
    for i in range(len(pad) // 2):
        d = input.dim() - 1 - i
        lo, hi = max(pad[2 * i], 0), max(pad[2 * i + 1], 0)
        index[d] = slice(lo, lo + shape[d])
        shape[d] += lo + hi
    out = input.new_full(tuple(shape), 0.0 if value is None else value)
    # The stand-ins' form: one allocation and one copy.
    out[tuple(index)] = x
    return out


_PAD_SIZES = (
    "Supported combinations for non-constant padding:\n"
    "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
    "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
    "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)"
)


def _pad_by_index(input, pad, mode, value):
    """pad's 'reflect', 'replicate' and 'circular' modes, with PyTorch's checks and words: output position o of a
    dim padded by (lo, hi) reads input position reflect(o - lo), clamp(o - lo) or, for circular, position
    (o - max(lo, 0)) mod L of the input cropped by the negative pads (length L), as PyTorch's kernels do."""
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    k, ndim = len(pad) // 2, input.dim()
    if k not in (1, 2, 3) or ndim not in (k + 1, k + 2):
        raise NotImplementedError(f"Padding size {len(pad)} is not supported for {ndim}D input tensor.\n{_PAD_SIZES}")
    shape = list(input.shape)
    if mode != "circular" and 0 in shape[ndim - k - 1 :]:
        raise RuntimeError(
            f"Expected {k + 1}D or {k + 2}D (batch mode) tensor with possibly 0 batch size and other non-zero "
            f"dimensions for input, but got: {shape}"
        )
    x, device = input, _device_of(input)
    for i in range(k):
        d, lo, hi = ndim - 1 - i, pad[2 * i], pad[2 * i + 1]
        size = shape[d]
        out = size + lo + hi
        if mode == "reflect" and (lo >= size or hi >= size):
            raise RuntimeError(
                f"Argument #{4 + 2 * i}: Padding size should be less than the corresponding input dimension, but "
                f"got: padding ({lo}, {hi}) at dimension {d} of input {shape}"
            )
        if mode == "circular":
            kept = size - max(-lo, 0) - max(-hi, 0)
            if lo > size or hi > size or max(lo, 0) > kept or max(hi, 0) > kept:
                raise RuntimeError("Padding value causes wrapping around more than once.")
            if out < 0:
                raise RuntimeError("Negative padding value is resulting in an empty dimension.")
            index = (arange(out, device=device) - max(lo, 0)).remainder(max(kept, 1)) + max(-lo, 0)
        else:
            if out < (1 if k == 1 else 0):
                raise RuntimeError(f"input (W: {size}) is too small. Calculated output W: {out}")
            index = arange(out, device=device) - lo
            if mode == "replicate":
                index = index.clamp(0, size - 1)
            else:  # one reflection each side at most (|pad| < size): -j on the left, 2 (size - 1) - j on the right
                index = (size - 1) - ((size - 1) - index.abs()).abs()
        x = x.index_select(d, index)
    return x


# ---------------------------------------------------------------------------------------------------------------------
# losses


def _warn_size(input, target):
    if target.shape != input.shape:
        warnings.warn(
            f"Using a target size ({target.size()}) that is different to the input size ({input.size()}). "
            "This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            stacklevel=3,
        )


def _weighted(loss, weight, input, reduction, mean_by_weight):
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "mean" and mean_by_weight:
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


def mse_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Measures the elementwise mean squared error (x - y)^2; weight, if given, scales each element."""
    _warn_size(input, target)
    reduction = _get_reduction(reduction, size_average, reduce)
    if weight is None:
        return _C._mse_loss(input, target, reduction)  # one MseLossBackward0 node (Note [Fused nodes])
    return _weighted((input - target).square(), weight, input, reduction, True)


def l1_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Measures the elementwise mean absolute error |x - y|; weight, if given, scales each element."""
    input, target = float32_under_autocast(("cpu", "cuda"), input, target)
    _warn_size(input, target)
    reduction = _get_reduction(reduction, size_average, reduce)
    loss = (input - target).abs()
    return _reduce(loss, reduction) if weight is None else _weighted(loss, weight, input, reduction, True)


def huber_loss(
    input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0, weight: Tensor | None = None
) -> Tensor:
    """Huber loss: 0.5 * (x - y)^2 where |x - y| < delta, else delta * (|x - y| - 0.5 * delta); weight, if given,
    scales each element."""
    input, target, weight = float32_under_autocast(("cpu", "cuda"), input, target, weight)
    _warn_size(input, target)
    reduction = _get_reduction(reduction)
    if weight is None:
        return _C._smooth_l1_loss(input, target, reduction, delta, True)
    diff = input - target
    adiff = diff.abs()
    loss = _C.where(adiff < delta, 0.5 * diff.square(), delta * (adiff - 0.5 * delta))
    return _weighted(loss, weight, input, reduction, False)


def smooth_l1_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """Smooth L1 loss: 0.5 * (x - y)^2 / beta where |x - y| < beta, else |x - y| - 0.5 * beta."""
    input, target = float32_under_autocast(("cpu", "cuda"), input, target)
    _warn_size(input, target)
    reduction = _get_reduction(reduction, size_average, reduce)
    return _C._smooth_l1_loss(input, target, reduction, beta, False)


def _check_class_target(input, target):
    """Shape and dtype rules of nll_loss: input (C,), (N, C) or (N, C, d1, ...); target (), (N,) or (N, d1, ...)."""
    dim = input.dim()
    if dim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {dim})")
    if dim == 1 and target.dim() != 0:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if dim >= 2 and target.dim() >= 1 and input.shape[0] != target.shape[0]:
        raise ValueError(
            f"Expected input batch_size ({input.shape[0]}) to match target batch_size ({target.shape[0]})."
        )
    if dim == 2 and target.dim() != 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if dim > 2:
        want = [input.shape[0]] + list(input.shape[2:])
        if list(target.shape) != want:
            raise RuntimeError(f"Expected target size {want}, got {list(target.shape)}")
    if target.dtype not in (_C.dtype.int64, _C.dtype.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {_scalar_name(target.dtype)}")
    if dim > 2 and target.dtype == _C.dtype.uint8:  # PyTorch's spatial kernel takes Long targets only
        raise RuntimeError("expected scalar type Long but found Byte")


def _check_class_weight(weight, n_classes):
    if weight is not None and (weight.dim() != 1 or weight.numel() != n_classes):
        raise RuntimeError(
            f"weight tensor should be defined either for all {n_classes} classes or no classes but "
            f"got weight tensor of shape: {list(weight.shape)}"
        )


def _nll(logp, target, weight, ignore_index, reduction):
    """nll_loss through ember._C._nll_loss (NllLossBackward0), which takes (C,) or (N, C) input: an
    (N, C, d1, ...) input is moved to (N * d1 * ..., C) first. Arguments are checked in Python only
    when the C++ op refuses them (to raise PyTorch's words), keeping the common path lean."""
    if logp.dim() > 2:
        _check_class_target(logp, target)
        _refuse_weight_grad(weight, "nll_loss2d_forward")  # PyTorch's spatial kernel's name
        c = logp.shape[1]
        flat = logp.permute(0, *range(2, logp.dim()), 1).reshape(-1, c)
        out = _nll(flat, target.reshape(-1), weight, ignore_index, reduction)
        return out.reshape(target.shape) if reduction == "none" else out
    try:
        return _C._nll_loss(logp, target, weight, ignore_index, reduction)
    except RuntimeError:
        _check_class_target(logp, target)
        if target.dtype == _C.dtype.uint8:  # class indices as bytes, which PyTorch's nll_loss takes too
            return _C._nll_loss(logp, target.long(), weight, ignore_index, reduction)
        raise


def _reduction_arg(reduction, size_average, reduce):
    if size_average is None and reduce is None and reduction in ("mean", "sum", "none"):
        return reduction
    return _get_reduction(reduction, size_average, reduce)


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """The negative log likelihood loss: -input[n, target[n]] (times weight[target[n]]), for log-probabilities
    input (C,), (N, C) or (N, C, d1, ...) and class indices target (), (N,) or (N, d1, ...).

    Targets equal to ignore_index contribute nothing; the 'mean' reduction divides by the sum of the weights
    of the targets used.
    """
    return _nll(input, target, weight, ignore_index, _reduction_arg(reduction, size_average, reduce))


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """The cross entropy loss between logits input and target: log_softmax over the class dim (1, or 0 for a
    1-D input) then nll_loss; or, when target has input's shape, a soft-label cross entropy against class
    probabilities. label_smoothing mixes in the uniform distribution, as PyTorch."""
    reduction = _reduction_arg(reduction, size_average, reduce)
    if label_smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    ndim = input.dim()
    class_dim = 0 if ndim == 1 else 1
    if ndim == target.dim() and input.shape == target.shape:
        return _cross_entropy_probs(input, target, weight, reduction, label_smoothing, class_dim)
    logp = _C.log_softmax(input, class_dim)
    if label_smoothing <= 0.0:
        return _nll(logp, target, weight, ignore_index, reduction)
    _check_class_target(input, target)
    n_classes = input.shape[class_dim]
    nll = _nll(logp, target, weight, ignore_index, reduction)
    ignored = target == ignore_index
    if weight is not None:
        smooth = -(logp * weight.reshape(_class_view(ndim, class_dim, n_classes))).sum(class_dim)
    else:
        smooth = -logp.sum(class_dim)
    smooth = smooth.masked_fill(ignored, 0.0)
    if reduction == "mean":
        if weight is not None:
            denom = weight[target.masked_fill(ignored, 0)].masked_fill(ignored, 0.0).sum()
        else:
            denom = ignored.logical_not().sum()
        smooth = smooth.sum() / denom
    elif reduction == "sum":
        smooth = smooth.sum()
    return nll * (1.0 - label_smoothing) + smooth * (label_smoothing / n_classes)


def _class_view(ndim, class_dim, n_classes):
    view = [1] * ndim
    view[class_dim] = n_classes
    return view


def _cross_entropy_probs(input, target, weight, reduction, label_smoothing, class_dim):
    if not target.is_floating_point():
        raise RuntimeError(
            f"Expected floating point type for target with class probabilities, got {_scalar_name(target.dtype)}"
        )
    n_classes = input.shape[class_dim]
    _check_class_weight(weight, n_classes)
    logp = _C.log_softmax(input, class_dim)
    if label_smoothing > 0.0:
        target = target * (1.0 - label_smoothing) + label_smoothing / n_classes
    prod = logp * target
    if weight is not None:
        prod = prod * weight.reshape(_class_view(input.dim(), class_dim, n_classes))
    if reduction == "none":
        return -prod.sum(class_dim)
    if reduction == "sum":
        return -prod.sum()
    if input.numel() == 0:
        return -prod.sum() * math.nan
    return -prod.sum() / (input.numel() // n_classes)


def binary_cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """The binary cross entropy between probabilities input (in [0, 1]) and target:
    -(y * log(x) + (1 - y) * log(1 - x)), the logs clamped at -100; weight, if given, scales each element."""
    reduction = _get_reduction(reduction, size_average, reduce)
    if target.shape != input.shape:
        raise ValueError(
            f"Using a target size ({target.size()}) that is different to the input size "
            f"({input.size()}) is deprecated. Please ensure they have the same size."
        )
    with no_grad():
        # NaN fails both comparisons, so it is reported too, as PyTorch.
        if input.numel() and not (input >= 0).logical_and(input <= 1).all().item():
            raise RuntimeError("all elements of input should be between 0 and 1")
    if weight is not None and weight.shape != input.shape:
        weight = weight.expand_as(input)
    return _C._binary_cross_entropy(input, target, weight, reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """The binary cross entropy between logits x and target t: sigmoid and BCE in one, computed stably as
    (1 - t) * x - (1 + (pos_weight - 1) * t) * log(sigmoid(x)) (no overflow for |x| ~ 1e4).

    pos_weight (broadcast against the class dim, the last) weighs the positive examples; weight, if given,
    scales each element.
    """
    reduction = _get_reduction(reduction, size_average, reduce)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.size()}) must be the same as input size ({input.size()})")
    # one BinaryCrossEntropyWithLogitsBackward0 node (Note [Fused nodes]); weights broadcast to the input
    if weight is not None and weight.shape != input.shape:
        weight = weight.expand_as(input)
    if pos_weight is not None and pos_weight.shape != input.shape:
        pos_weight = pos_weight.expand_as(input)
    return _C._binary_cross_entropy_with_logits(input, target, weight, pos_weight, reduction)


# ---------------------------------------------------------------------------------------------------------------------
# linear + cross entropy in one call; torch's small argument helpers


def linear_cross_entropy(
    input: Tensor,
    linear_weight: Tensor,
    target: Tensor,
    *,
    linear_bias: Tensor | None = None,
    weight: Tensor | None = None,
    reduction: str = "mean",
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    options: object = None,
) -> Tensor:
    """cross_entropy(linear(input, linear_weight, linear_bias), target, ...) for input (N, in) or (in,).

    linear_weight (C, in) gives C classes; (C, d1, ..., dK, in) gives a K-dimensional loss whose logits are
    (N, C, d1, ..., dK), linear_bias then (C, d1, ..., dK). target holds class indices, or class
    probabilities of the logits' shape (then ignore_index must stay None; otherwise None means -100).
    options (PyTorch's chunking settings, which change memory use, not values) is accepted and ignored.
    """
    if input.dim() < 1 or input.dim() > 2:
        raise RuntimeError(f"expected input with dimensionality 1 or 2, got {input.dim()}")
    if linear_weight.dim() < 2:
        raise RuntimeError(f"expected linear_weight with dimensionality at least 2, got {linear_weight.dim()}")
    batch, in_features = tuple(input.shape[:-1]), input.shape[-1]
    if in_features != linear_weight.shape[-1]:
        raise RuntimeError(
            "expected equal input and linear_weight last dimensions (in_features), "
            f"got {in_features} and {linear_weight.shape[-1]}, respectively"
        )
    num_classes, out_features = linear_weight.shape[0], tuple(linear_weight.shape[1:-1])
    if linear_bias is not None and tuple(linear_bias.shape) != (num_classes, *out_features):
        raise RuntimeError(f"expected linear_bias shape {(num_classes, *out_features)}, got {tuple(linear_bias.shape)}")
    if out_features and not batch:
        raise RuntimeError(
            f"K-dimensional loss defined by linear_weight shape {tuple(linear_weight.shape)} requires batched "
            f"input, (N, {in_features}), got unbatched input with shape {tuple(input.shape)}"
        )
    logits_shape = (*batch, num_classes, *out_features)
    if tuple(target.shape) == logits_shape and ignore_index is not None:
        raise RuntimeError("ignore_index cannot be specified when target contains probabilities")
    rows = math.prod(out_features, start=num_classes)
    logits = linear(
        input,
        linear_weight.reshape(rows, in_features),
        None if linear_bias is None else linear_bias.reshape(rows),
    ).reshape(logits_shape)
    return cross_entropy(
        logits,
        target,
        weight=weight,
        reduction=reduction,
        ignore_index=-100 if ignore_index is None else ignore_index,
        label_smoothing=label_smoothing,
    )


def assert_int_or_pair(arg: list[int], arg_name: str, message: str) -> None:
    """Raises AssertionError(message.format(arg_name)) unless arg is an int or has two elements."""
    if not (isinstance(arg, int) or len(arg) == 2):
        raise AssertionError(message.format(arg_name))
