"""Attention and bag-of-embeddings functions of torch.nn.functional, composed from ember ops.

scaled_dot_product_attention and multi_head_attention_forward are batched matmuls and a softmax;
embedding_bag is a gather of rows and a scatter-reduce into bags. Re-exported by nn.functional.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING

from .. import _C
from .._creation import _device_of, arange, ones, tensor, zeros
from ..grad_mode import no_grad
from .attention import _check_available

if TYPE_CHECKING:
    from .._C import Tensor

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward", "embedding_bag"]

_NEG_INF = float("-inf")


def _repeat_heads(t: Tensor, times: int) -> Tensor:
    """repeat_interleave(t, times, dim=-3) (each head repeated `times` times in a row) from expand and reshape."""
    shape = list(t.shape)
    heads = shape[-3]
    view = t.unsqueeze(-3)  # (..., H, 1, S, E)
    view = view.expand(*shape[:-3], heads, times, *shape[-2:])
    return view.reshape(*shape[:-3], heads * times, *shape[-2:])


def _attend(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None, dropout_p: float, safe: bool):
    """softmax(q @ k^T + mask) @ v with q already scaled; returns (output, weights).

    safe: rows whose keys are all masked (-inf everywhere) give zero weights (and zero gradients)
    instead of NaN, as the math backend of PyTorch's scaled_dot_product_attention (its _safe_softmax).
    """
    scores = _C.matmul(q, k.transpose(-2, -1))
    if mask is not None:
        scores = scores + mask
    weights = _C._safe_softmax(scores, -1) if safe and mask is not None else scores.softmax(-1)
    if dropout_p > 0.0:
        from .functional import dropout

        weights = dropout(weights, dropout_p, True)
    return _C.matmul(weights, v), weights


def _float_mask(mask: Tensor, dtype) -> Tensor:
    """A boolean mask (True = masked out) as an additive float mask: -inf where True, 0 elsewhere."""
    return zeros(*mask.shape, dtype=dtype, device=_device_of(mask)).masked_fill(mask, _NEG_INF)


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """softmax(query @ key^T * scale + mask) @ value over the last two dims, batch dims broadcast.

    query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev). scale defaults to 1/sqrt(E).
    attn_mask: boolean (True = take part in attention) or float (added to the scores), broadcastable to
    (..., L, S). is_causal: the top-left causal mask (query i attends to keys 0..i). enable_gqa: key and
    value may have fewer heads (dim -3) than query, each shared by query.size(-3) // key.size(-3) heads.
    dropout_p > 0 drops attention weights (always: this function has no training flag, as PyTorch's).
    Rows with every key masked give zeros.
    """
    _check_available(query.is_cuda)
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True")
    if query.shape[-1] != key.shape[-1]:
        raise RuntimeError(
            f"Expected query and key to have the same embedding dimension, but got {query.shape[-1]} and "
            f"{key.shape[-1]}"
        )
    if enable_gqa and query.dim() >= 3 and key.dim() >= 3:
        q_heads, kv_heads = query.shape[-3], key.shape[-3]
        if q_heads != kv_heads:
            if q_heads % kv_heads != 0 or value.shape[-3] != kv_heads:
                raise RuntimeError(
                    "Number of heads in key and value must divide the number of heads in query, got "
                    f"query {q_heads}, key {kv_heads}, value {value.shape[-3]}"
                )
            key = _repeat_heads(key, q_heads // kv_heads)
            value = _repeat_heads(value, q_heads // kv_heads)
    length, source = query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    mask = None
    if is_causal:
        allowed = ones(length, source, dtype=_C.dtype.bool, device=_device_of(query)).tril()
        mask = _float_mask(allowed.logical_not(), query.dtype)
    elif attn_mask is not None:
        mask = _float_mask(attn_mask.logical_not(), query.dtype) if attn_mask.dtype == _C.dtype.bool else attn_mask
    return _attend(query * scale, key, value, mask, dropout_p, safe=True)[0]


# ---------------------------------------------------------------------------------------------------------------------
# multi-head attention


def _canonical_mask(
    mask: Tensor | None, name: str, dtype, other: Tensor | None = None, other_name: str = ""
) -> Tensor | None:
    """A key_padding_mask or attn_mask as an additive float mask (bool True = not allowed to attend);
    warns, as PyTorch, when the other mask given has another dtype."""
    if mask is None:
        return None
    if mask.dtype != _C.dtype.bool and not mask.is_floating_point():
        raise AssertionError(f"only bool and floating types of {name} are supported")
    if other is not None and other.dtype != mask.dtype:
        warnings.warn(
            f"Support for mismatched {name} and {other_name} is deprecated. Use same type for both instead.",
            stacklevel=4,
        )
    return _float_mask(mask, dtype) if mask.dtype == _C.dtype.bool else mask


def _check_mha_shapes(query, key, value, key_padding_mask, attn_mask, num_heads) -> bool:
    """PyTorch's shape rules; returns whether the input is batched (3-D)."""
    if query.dim() == 3:
        if key.dim() != 3 or value.dim() != 3:
            raise AssertionError(
                "For batched (3-D) `query`, expected `key` and `value` to be 3-D but found "
                f"{key.dim()}-D and {value.dim()}-D tensors respectively"
            )
        if key_padding_mask is not None and key_padding_mask.dim() != 2:
            raise AssertionError(
                "For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D but found "
                f"{key_padding_mask.dim()}-D tensor instead"
            )
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise AssertionError(
                "For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but found "
                f"{attn_mask.dim()}-D tensor instead"
            )
        return True
    if query.dim() == 2:
        if key.dim() != 2 or value.dim() != 2:
            raise AssertionError(
                "For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found "
                f"{key.dim()}-D and {value.dim()}-D tensors respectively"
            )
        if key_padding_mask is not None and key_padding_mask.dim() != 1:
            raise AssertionError(
                "For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D but found "
                f"{key_padding_mask.dim()}-D tensor instead"
            )
        if attn_mask is not None:
            if attn_mask.dim() not in (2, 3):
                raise AssertionError(
                    "For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but found "
                    f"{attn_mask.dim()}-D tensor instead"
                )
            expected = (num_heads, query.shape[0], key.shape[0])
            if attn_mask.dim() == 3 and tuple(attn_mask.shape) != expected:
                raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got {attn_mask.shape}")
        return False
    raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received {query.dim()}-D query tensor")


def _in_projection(query, key, value, in_proj_weight, in_proj_bias, separate):
    """q, k, v projections: one matmul for self-attention (query is key is value) with the packed weight."""
    from .functional import linear

    if separate is None:
        if query is key and key is value:
            return linear(query, in_proj_weight, in_proj_bias).chunk(3, -1)
        weights = in_proj_weight.chunk(3)
    else:
        weights = separate
    biases = (None, None, None) if in_proj_bias is None else in_proj_bias.chunk(3)
    return tuple(linear(x, w, b) for x, w, b in zip((query, key, value), weights, biases))


def multi_head_attention_forward(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    embed_dim_to_check: int,
    num_heads: int,
    in_proj_weight: Tensor | None,
    in_proj_bias: Tensor | None,
    bias_k: Tensor | None,
    bias_v: Tensor | None,
    add_zero_attn: bool,
    dropout_p: float,
    out_proj_weight: Tensor,
    out_proj_bias: Tensor | None,
    training: bool = True,
    key_padding_mask: Tensor | None = None,
    need_weights: bool = True,
    attn_mask: Tensor | None = None,
    use_separate_proj_weight: bool = False,
    q_proj_weight: Tensor | None = None,
    k_proj_weight: Tensor | None = None,
    v_proj_weight: Tensor | None = None,
    static_k: Tensor | None = None,
    static_v: Tensor | None = None,
    average_attn_weights: bool = True,
    is_causal: bool = False,
) -> tuple[Tensor, Tensor | None]:
    """Multi-head attention on sequence-first inputs: query (L, N, E), key (S, N, kdim), value (S, N, vdim)
    (or unbatched (L, E), ...). Returns (output (L, N, E), weights (N, L, S) averaged over heads, or
    (N, num_heads, L, S), or None when need_weights is False).

    Masks are bool (True = not allowed to attend) or float (added to the scores): key_padding_mask (N, S),
    attn_mask (L, S) or (N * num_heads, L, S). is_causal is a hint that attn_mask is causal (it must be
    given). Rows whose keys are all masked give NaN weights with need_weights, zeros without, as PyTorch.
    """
    from .functional import linear

    batched = _check_mha_shapes(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", query.dtype, attn_mask, "attn_mask")
    if is_causal and attn_mask is None:
        raise RuntimeError(
            "Need attn_mask if specifying the is_causal hint. You may use the Transformer module method "
            "`generate_square_subsequent_mask` to create this mask."
        )
    attn_mask = _canonical_mask(attn_mask, "attn_mask", query.dtype)
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(
                f"key's sequence and batch dims {key.shape[:2]} do not match value's {value.shape[:2]}"
            )
        for name, w in (("q", q_proj_weight), ("k", k_proj_weight), ("v", v_proj_weight)):
            if w is None:
                raise AssertionError(f"use_separate_proj_weight is True but {name}_proj_weight is None")
        q, k, v = _in_projection(query, key, value, None, in_proj_bias, (q_proj_weight, k_proj_weight, v_proj_weight))
    else:
        if tuple(key.shape) != tuple(value.shape):
            raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        q, k, v = _in_projection(query, key, value, in_proj_weight, in_proj_bias, None)
    src_len = key.shape[0]
    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(
                    f"The shape of the 2D attn_mask is {attn_mask.shape}, but should be {(tgt_len, src_len)}."
                )
            attn_mask = attn_mask.unsqueeze(0)
        elif tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
            raise RuntimeError(
                f"The shape of the 3D attn_mask is {attn_mask.shape}, but should be "
                f"{(bsz * num_heads, tgt_len, src_len)}."
            )
    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        k = _C.cat([k, bias_k.expand(1, bsz, embed_dim)])
        v = _C.cat([v, bias_v.expand(1, bsz, embed_dim)])
        attn_mask = _pad_last(attn_mask)
        key_padding_mask = _pad_last(key_padding_mask)
    elif bias_k is not None:
        raise AssertionError("bias_k is set but bias_v is None")
    elif bias_v is not None:
        raise AssertionError("bias_v is set but bias_k is None")
    # Heads as a batch dim: (L, N, E) -> (N * H, L, head_dim), as PyTorch lays them out.
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = _static_or_split(static_k, k, bsz, num_heads, head_dim, "static_k")
    v = _static_or_split(static_v, v, bsz, num_heads, head_dim, "static_v")
    if add_zero_attn:
        k = _C.cat([k, zeros(bsz * num_heads, 1, head_dim, dtype=k.dtype, device=_device_of(k))], 1)
        v = _C.cat([v, zeros(bsz * num_heads, 1, head_dim, dtype=v.dtype, device=_device_of(v))], 1)
        attn_mask = _pad_last(attn_mask)
        key_padding_mask = _pad_last(key_padding_mask)
    src_len = k.shape[1]
    if key_padding_mask is not None:
        if key_padding_mask.shape[0] != bsz:
            raise AssertionError(f"Expected key_padded_mask.shape[0] to be {bsz}, but got {key_padding_mask.shape[0]}")
        if key_padding_mask.shape[1] != src_len:
            raise AssertionError(
                f"Expected key_padded_mask.shape[1] to be {src_len}, but got {key_padding_mask.shape[1]}"
            )
        padding = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(bsz, num_heads, 1, src_len)
        padding = padding.reshape(bsz * num_heads, 1, src_len)
        attn_mask = padding if attn_mask is None else attn_mask + padding
    if not training:
        dropout_p = 0.0
    out, weights = _attend(q * (1.0 / math.sqrt(head_dim)), k, v, attn_mask, dropout_p, safe=not need_weights)
    out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, -1)
    if not need_weights:
        return (out if batched else out.squeeze(1)), None
    weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
    if average_attn_weights:
        weights = weights.mean(1)
    if not batched:
        return out.squeeze(1), weights.squeeze(0)
    return out, weights


def _pad_last(mask: Tensor | None) -> Tensor | None:
    """A float mask with one more key column (0: the added key takes part)."""
    if mask is None:
        return None
    return _C.cat([mask, zeros(*mask.shape[:-1], 1, dtype=mask.dtype, device=_device_of(mask))], -1)


def _static_or_split(static, t, bsz, num_heads, head_dim, name):
    if static is None:
        return t.reshape(t.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    if static.shape[0] != bsz * num_heads:
        raise AssertionError(f"expecting {name}.size(0) of {bsz * num_heads}, but got {static.shape[0]}")
    if static.shape[2] != head_dim:
        raise AssertionError(f"expecting {name}.size(2) of {head_dim}, but got {static.shape[2]}")
    return static


# ---------------------------------------------------------------------------------------------------------------------
# embedding_bag


def embedding_bag(
    input: Tensor,
    weight: Tensor,
    offsets: Tensor | None = None,
    max_norm: float | None = None,
    norm_type: float = 2,
    scale_grad_by_freq: bool = False,
    mode: str = "mean",
    sparse: bool = False,
    per_sample_weights: Tensor | None = None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
) -> Tensor:
    """Sums, averages or takes the max of bags of embeddings, without building the (N, D) lookups per bag.

    input: 2-D (B, N), B bags of N indices each (offsets must be None), or 1-D with offsets (B,) giving
    where each bag starts (with include_last_offset, offsets has B + 1 entries, the last the end).
    per_sample_weights (mode='sum' only) scales each looked-up row. Indices equal to padding_idx are left
    out of their bag (and of the mean's count). Empty bags give zeros. Returns (B, embedding_dim).
    """
    if per_sample_weights is not None and tuple(input.shape) != tuple(per_sample_weights.shape):
        raise ValueError(
            f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is not None, "
            f"then it must have the same shape as the input ({input.shape})"
        )
    if weight.dim() != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.dim()}")
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError(
                "if input is 2D, then offsets has to be None, as input is treated is a mini-batch of fixed length "
                f"sequences. However, found offsets of type {type(offsets)}"
            )
        bags = input.shape[0]
        bag_of = arange(bags, device=input.device).unsqueeze(1).expand(bags, input.shape[1]).reshape(-1)
        input = input.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        bags, bag_of = _bags_from_offsets(offsets, input.shape[0], include_last_offset, _device_of(input))
        if bag_of.shape[0] < input.shape[0]:
            input = input.narrow(0, 0, bag_of.shape[0])
            if per_sample_weights is not None:
                per_sample_weights = per_sample_weights.narrow(0, 0, bag_of.shape[0])
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}")
    if mode == "max":
        if scale_grad_by_freq:
            raise ValueError("max mode does not support scaling the gradient by the frequency")
        if sparse:
            raise ValueError("max mode does not support sparse weights")
    elif mode not in ("sum", "mean"):
        raise ValueError("mode has to be one of sum, mean or max")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            "embedding_bag: per_sample_weights was not None. per_sample_weights is only supported for mode='sum' "
            f"(got mode='{mode}'). Please open a feature request on GitHub."
        )
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("ember: embedding_bag supports neither scale_grad_by_freq nor sparse gradients")
    if input.dtype not in (_C.dtype.int64, _C.dtype.int32):
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; "
            f"but got {input.type()} instead (while checking arguments for embedding_bag)"
        )
    num = weight.shape[0]
    if input.numel() and not input.is_meta:  # a meta index has no values to check
        bad = ((input < 0).logical_or(input >= num)).nonzero()
        if bad.numel():
            pos = int(bad[0, 0].item())
            raise RuntimeError(
                f"Index {pos} of input takes value {int(input[pos].item())} which is not in the valid range [0, {num})"
            )
    if max_norm is not None:
        from .functional import _embedding_renorm_

        _embedding_renorm_(weight, input.long(), max_norm, norm_type)
    if padding_idx is not None:
        if padding_idx < 0:
            padding_idx += num
        keep = input != padding_idx
        input, bag_of = input[keep], bag_of[keep]
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights[keep]
    dim = weight.shape[1]
    rows = weight.index_select(0, input.long())
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.unsqueeze(1)
    index = bag_of.unsqueeze(1).expand(bag_of.shape[0], dim)
    if mode == "max":
        # include_self=False: empty bags keep the zero they start from, as PyTorch.
        return zeros(bags, dim, dtype=weight.dtype, device=weight.device).scatter_reduce(
            0, index, rows, "amax", include_self=False
        )
    out = zeros(bags, dim, dtype=weight.dtype, device=weight.device).scatter_add(0, index, rows)
    if mode == "mean":
        with no_grad():
            counts = zeros(bags, dtype=weight.dtype, device=weight.device)
            counts = counts.scatter_add(0, bag_of, ones(bag_of.shape[0], dtype=weight.dtype, device=weight.device))
        out = out / counts.clamp(min=1).unsqueeze(1)
    return out


def _bags_from_offsets(offsets: Tensor, count: int, include_last_offset: bool, device=None):
    """(number of bags, bag index of each of the `count` input positions) from 1-D offsets."""
    starts = [int(v) for v in offsets.tolist()]
    if starts and starts[0] != 0:
        raise RuntimeError(
            "offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from position 0. "
            f"However, got {starts[0]}"
        )
    if include_last_offset:
        if not starts:
            raise RuntimeError("include_last_offset: number of offsets should be at least 1")
        ends = starts[1:]
        starts = starts[:-1]
    else:
        ends = starts[1:] + [count]
    if any(a > b for a, b in zip(starts, ends)) or (ends and ends[-1] > count):
        raise RuntimeError(f"offsets have to be non-decreasing and at most the input size {count}, got {starts}")
    # With include_last_offset, positions past the last offset belong to no bag: the caller drops them.
    bag_of = [b for b, (a, e) in enumerate(zip(starts, ends)) for _ in range(e - a)]
    return len(starts), tensor(bag_of, dtype=_C.dtype.int64, device=device)
