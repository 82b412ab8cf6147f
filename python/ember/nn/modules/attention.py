"""MultiheadAttention (in torch.nn.modules.activation in PyTorch; here in its own file)."""

from __future__ import annotations

from ... import _C
from ..._C import Tensor
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ._utils import new_empty
from .linear import NonDynamicallyQuantizableLinear
from .module import Module

__all__ = ["MultiheadAttention"]


class MultiheadAttention(Module):
    """Multi-head attention: num_heads attentions over projections of embed_dim // num_heads, concatenated
    and projected back: out_proj(concat_i softmax(Q_i K_i^T / sqrt(head_dim) + mask) V_i).

    Parameters, named as PyTorch's: in_proj_weight (3 * embed_dim, embed_dim) when kdim and vdim equal
    embed_dim, else q_proj_weight, k_proj_weight, v_proj_weight (xavier-uniform); in_proj_bias (zeros);
    out_proj (a Linear, bias zeros); bias_k and bias_v (1, 1, embed_dim) with add_bias_kv (xavier-normal).
    add_zero_attn appends a zero key and value. Inputs are (L, N, E) ((N, L, E) with batch_first) or
    unbatched (L, E).
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        device: str | _C.device | None = None,
        dtype: _C.dtype | None = None,
    ) -> None:
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(
                f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and num_heads={num_heads} "
                "instead"
            )
        super().__init__()
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(new_empty((3 * embed_dim, embed_dim), device, dtype))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = Parameter(new_empty((embed_dim, embed_dim), device, dtype))
            self.k_proj_weight = Parameter(new_empty((embed_dim, self.kdim), device, dtype))
            self.v_proj_weight = Parameter(new_empty((embed_dim, self.vdim), device, dtype))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(new_empty((3 * embed_dim,), device, dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, device=device, dtype=dtype)
        if add_bias_kv:
            self.bias_k = Parameter(new_empty((1, 1, embed_dim), device, dtype))
            self.bias_v = Parameter(new_empty((1, 1, embed_dim), device, dtype))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None = None,
        need_weights: bool = True,
        attn_mask: Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        """Returns (attn_output, attn_weights): attn_output like query; attn_weights (N, L, S) averaged over
        heads ((N, num_heads, L, S) with average_attn_weights=False), None when need_weights is False.

        key_padding_mask (N, S): True (or -inf) for keys to ignore. attn_mask (L, S) or (N * num_heads, L, S):
        True (or -inf) where a query may not attend. is_causal: a hint that attn_mask is the causal mask.
        """
        batched = query.dim() == 3
        if self.batch_first and batched:
            # Self-attention keeps one tensor, so the projection stays a single matmul.
            if key is value:
                if query is key:
                    query = key = value = query.transpose(1, 0)
                else:
                    query, key = (x.transpose(1, 0) for x in (query, key))
                    value = key
            else:
                query, key, value = (x.transpose(1, 0) for x in (query, key, value))
        separate = not self._qkv_same_embed_dim
        out, weights = F.multi_head_attention_forward(
            query,
            key,
            value,
            self.embed_dim,
            self.num_heads,
            self.in_proj_weight,
            self.in_proj_bias,
            self.bias_k,
            self.bias_v,
            self.add_zero_attn,
            self.dropout,
            self.out_proj.weight,
            self.out_proj.bias,
            training=self.training,
            key_padding_mask=key_padding_mask,
            need_weights=need_weights,
            attn_mask=attn_mask,
            use_separate_proj_weight=separate,
            q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight,
            v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights,
            is_causal=is_causal,
        )
        if self.batch_first and batched:
            out = out.transpose(1, 0)
        return out, weights


def _merge_masks(
    self: MultiheadAttention, attn_mask: Tensor | None, key_padding_mask: Tensor | None, query: Tensor
) -> tuple[Tensor | None, int | None]:
    """PyTorch's ``MultiheadAttention.merge_masks``: (the masks as one, its type): key_padding_mask alone is type 1;
    attn_mask (L, L) or (B * num_heads, L, L) is expanded to (B, num_heads, L, L), type 2, plus key_padding_mask
    (B, L) broadcast over heads and rows when both are given; (None, None) without masks. query is (B, L, E)."""
    mask_type, merged = None, None
    if key_padding_mask is not None:
        mask_type, merged = 1, key_padding_mask
    if attn_mask is not None:
        batch, length, _ = query.shape
        mask_type = 2
        if attn_mask.dim() == 3:
            merged = attn_mask.view(batch, -1, length, length)
        else:
            merged = attn_mask.view(1, 1, length, length).expand(batch, self.num_heads, -1, -1)
        if key_padding_mask is not None:
            merged = merged + key_padding_mask.view(batch, 1, 1, length).expand(-1, self.num_heads, -1, -1)
    return merged, mask_type


MultiheadAttention.merge_masks = _merge_masks
