"""ember.nn.attention.flex_attention: PyTorch's FlexAttention, computed eagerly. PyTorch compiles
``score_mod`` and ``mask_mod`` into one fused, block-sparse kernel; ember runs the reference math that kernel
implements: the scores ``q @ k^T * scale``, ``score_mod(score, b, h, q_idx, kv_idx)`` applied to all of them
at once (the index arguments are broadcasting index tensors, so element-wise modifiers and ones that index
tensors with them work as under PyTorch's vmap), the block mask's entries set to -inf, a softmax (rows with
nothing visible give zeros, as PyTorch's) and the product with ``v``. It is differentiable; its memory is
that of the full score matrix."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

from ... import _C
from ..._C import Tensor

__all__ = [
    "AuxOutput", "AuxRequest", "BlockMask", "FlexKernelOptions", "and_masks", "create_block_mask", "create_mask",
    "flex_attention", "noop_mask", "or_masks",
]  # fmt: skip

_DEFAULT_SPARSE_BLOCK_SIZE = 128
FlexKernelOptions = dict  # kernel tuning options: ember has no kernel to tune


class AuxRequest(NamedTuple):
    lse: bool = False
    max_scores: bool = False


class AuxOutput(NamedTuple):
    lse: Tensor | None = None
    max_scores: Tensor | None = None


def _grids(b: int, h: int, q: int, kv: int, device: Any) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Index tensors for batch, head, query and key that broadcast to (b, h, q, kv)."""
    from ..._creation import arange

    def axis(n: int, position: int) -> Tensor:
        shape = [1, 1, 1, 1]
        shape[position] = n
        return arange(n, device=device).reshape(shape)

    return axis(b, 0), axis(h, 1), axis(q, 2), axis(kv, 3)


def noop_mask(batch: Tensor, head: Tensor, token_q: Tensor, token_kv: Tensor) -> Tensor:
    """Every key visible to every query."""
    return (token_q >= 0) | (token_kv >= 0)


def and_masks(*mask_mods: Callable[..., Tensor]) -> Callable[..., Tensor]:
    def mask(b: Tensor, h: Tensor, q: Tensor, kv: Tensor) -> Tensor:
        result = noop_mask(b, h, q, kv)
        for mod in mask_mods:
            result = result & mod(b, h, q, kv)
        return result

    return mask


def or_masks(*mask_mods: Callable[..., Tensor]) -> Callable[..., Tensor]:
    def mask(b: Tensor, h: Tensor, q: Tensor, kv: Tensor) -> Tensor:
        result = ~noop_mask(b, h, q, kv)
        for mod in mask_mods:
            result = result | mod(b, h, q, kv)
        return result

    return mask


def create_mask(mod_fn: Callable[..., Tensor], B: int | None, H: int | None, Q_LEN: int, KV_LEN: int,
                device: Any = "cpu") -> Tensor:  # noqa: N803  # fmt: skip
    """The dense (B, H, Q_LEN, KV_LEN) boolean mask of ``mod_fn`` (a mask_mod)."""
    b, h, q, kv = _grids(B or 1, H or 1, Q_LEN, KV_LEN, device)
    return mod_fn(b, h, q, kv).to(_C.dtype.bool).expand(B or 1, H or 1, Q_LEN, KV_LEN)


class BlockMask:
    """Which keys each query may see. PyTorch keeps it as block-sparse indices for its kernel; ember keeps
    the element mask with the ``mask_mod`` that made it (``to_dense()`` gives the blocks, as PyTorch's)."""

    def __init__(self, mask: Tensor, mask_mod: Callable[..., Tensor], block_size: tuple[int, int]) -> None:
        self._mask, self.mask_mod, self.BLOCK_SIZE = mask, mask_mod, block_size
        self.seq_lengths = tuple(mask.shape[-2:])

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._mask.shape)

    def to_dense(self) -> Tensor:
        """Per (BLOCK_SIZE x BLOCK_SIZE) block, 1 where any of its pairs is visible (int32, as PyTorch's)."""
        from ..functional import pad

        (q_block, kv_block), (q_len, kv_len) = self.BLOCK_SIZE, self.seq_lengths
        rows, cols = -(-q_len // q_block), -(-kv_len // kv_block)
        padded = pad(self._mask.to(_C.dtype.int32), (0, cols * kv_block - kv_len, 0, rows * q_block - q_len))
        blocks = padded.reshape(*self._mask.shape[:2], rows, q_block, cols, kv_block)
        return blocks.amax(5).amax(3)

    def to(self, device: Any) -> BlockMask:
        return BlockMask(self._mask.to(device), self.mask_mod, self.BLOCK_SIZE)

    def sparsity(self) -> float:
        """The percentage of (query, key) pairs masked out (PyTorch counts whole blocks)."""
        return 100.0 * (1.0 - self._mask.float().mean().item())

    @classmethod
    def from_kv_blocks(cls, *args: Any, **kwargs: Any) -> BlockMask:
        raise NotImplementedError(
            "BlockMask.from_kv_blocks: ember keeps block masks dense; build one with create_block_mask(mask_mod, ...)"
        )

    def __repr__(self) -> str:
        return f"BlockMask(shape={self.shape}, sparsity={self.sparsity():.2f}%, mask_mod={self.mask_mod.__name__})"


def create_block_mask(mask_mod: Callable[..., Tensor], B: int | None, H: int | None, Q_LEN: int, KV_LEN: int,
                      device: Any = None, BLOCK_SIZE: int | tuple[int, int] = _DEFAULT_SPARSE_BLOCK_SIZE,
                      _compile: bool = False, **kwargs: Any) -> BlockMask:  # noqa: N803  # fmt: skip
    """The BlockMask of ``mask_mod(b, h, q_idx, kv_idx)`` for B batches and H heads (None: shared by all)."""
    size = BLOCK_SIZE if isinstance(BLOCK_SIZE, tuple) else (BLOCK_SIZE, BLOCK_SIZE)
    return BlockMask(create_mask(mask_mod, B, H, Q_LEN, KV_LEN, device or "cpu"), mask_mod, size)


def flex_attention(query: Tensor, key: Tensor, value: Tensor, score_mod: Callable[..., Tensor] | None = None,
                   block_mask: BlockMask | None = None, scale: float | None = None, enable_gqa: bool = False,
                   return_lse: bool = False, kernel_options: Any = None, *,
                   return_aux: AuxRequest | None = None) -> Any:  # fmt: skip
    """Attention of (B, Hq, L, E) queries over (B, Hkv, S, E) keys and (B, Hkv, S, Ev) values, with scores
    modified by ``score_mod`` and hidden by ``block_mask``; ``enable_gqa`` lets Hq be a multiple of Hkv.
    Returns (B, Hq, L, Ev), and with ``return_lse`` also each row's log-sum-exp of the scores.
    ``kernel_options`` tunes PyTorch's fused kernel (block sizes, stages): ember has no kernel to tune."""
    for name, given in (("query", query), ("key", key), ("value", value)):
        if not isinstance(given, Tensor):
            raise TypeError(f"flex_attention(): argument '{name}' must be Tensor, not {type(given).__name__}")
    if query.dim() != 4 or key.dim() != 4 or value.dim() != 4:
        raise ValueError(f"flex_attention: expected 4-D query, key and value, got {query.dim()}-D, {key.dim()}-D "
                         f"and {value.dim()}-D")  # fmt: skip
    batch, heads, q_len, _ = query.shape
    kv_heads = key.size(1)
    if kv_heads != heads:
        if not enable_gqa or heads % kv_heads:
            raise ValueError(f"Expect query and key/value to have the same number of heads but got Hq={heads} and "
                             f"Hkv={kv_heads}. Try setting enable_gqa=True for GQA.")  # fmt: skip
        key = key.repeat_interleave(heads // kv_heads, 1)
        value = value.repeat_interleave(heads // kv_heads, 1)
    scale = 1.0 / math.sqrt(query.size(-1)) if scale is None else scale
    scores = query.matmul(key.transpose(-2, -1)) * scale
    if score_mod is not None:
        scores = score_mod(scores, *_grids(batch, heads, q_len, key.size(2), query.device))
    if block_mask is not None:
        visible = block_mask._mask.to(query.device)
        scores = scores.masked_fill(~visible, -math.inf)
    lse = scores.logsumexp(-1)
    weights = (scores - lse.unsqueeze(-1)).exp()
    weights = weights.masked_fill(lse.unsqueeze(-1) == -math.inf, 0.0)  # nothing visible: zeros, not NaN
    out = weights.matmul(value)
    if return_aux is not None:
        return out, AuxOutput(lse=lse if return_aux.lse else None,
                              max_scores=scores.amax(-1) if return_aux.max_scores else None)  # fmt: skip
    return (out, lse) if return_lse else out
