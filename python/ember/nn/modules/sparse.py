"""Embedding: a lookup table of num_embeddings vectors of size embedding_dim."""

from __future__ import annotations

from ... import _C
from ..._C import Tensor
from ...grad_mode import no_grad
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ._utils import new_empty
from .module import Module

__all__ = ["Embedding", "EmbeddingBag"]


def _padding_idx(padding_idx: int | None, num_embeddings: int, word: str) -> int | None:
    """padding_idx counted from the start (a negative one from the end), after PyTorch's range check; ``word`` is
    how the layer's message spells it (Embedding's 'Padding_idx', EmbeddingBag's 'padding_idx')."""
    if padding_idx is not None:
        if padding_idx > 0 and padding_idx >= num_embeddings:
            raise AssertionError(f"{word} must be within num_embeddings")
        if padding_idx < 0:
            if padding_idx < -num_embeddings:
                raise AssertionError(f"{word} must be within num_embeddings")
            padding_idx = num_embeddings + padding_idx
    return padding_idx


def _fill_padding_idx_with_zero(self: Embedding | EmbeddingBag) -> None:
    """Zeroes the padding_idx row of weight, if any (PyTorch's name; libraries call it after their own init)."""
    if self.padding_idx is not None:
        with no_grad():
            self.weight[self.padding_idx].fill_(0)


class Embedding(Module):
    """A lookup table of num_embeddings vectors of size embedding_dim, indexed by integer tensors.

    Args:
        padding_idx: the row at this index (negative counts from the end) starts at zero and gets no gradient.
        max_norm: rows looked up whose norm_type-norm exceeds max_norm are rescaled in place to norm max_norm.
        scale_grad_by_freq, sparse: must be False when the layer is called (not supported by ember).

    Shape: input (*) of int64 or int32 indices; output (*, embedding_dim). weight: (num_embeddings,
    embedding_dim), initialised from N(0, 1).
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        _weight: Tensor | None = None,
        _freeze: bool = False,
        device: str | _C.device | None = None,
        dtype: _C.dtype | None = None,
    ) -> None:
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = _padding_idx(padding_idx, num_embeddings, "Padding_idx")
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        if _weight is None:
            self.weight = Parameter(
                new_empty((num_embeddings, embedding_dim), device, dtype), requires_grad=not _freeze
            )
            self.reset_parameters()
        else:
            if list(_weight.shape) != [num_embeddings, embedding_dim]:
                raise AssertionError("Shape of weight does not match num_embeddings and embedding_dim")
            self.weight = Parameter(_weight, requires_grad=not _freeze)
        self.sparse = sparse

    def reset_parameters(self) -> None:
        """Re-initialises weight from N(0, 1), with the padding_idx row zero."""
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    _fill_padding_idx_with_zero = _fill_padding_idx_with_zero

    def forward(self, input: Tensor) -> Tensor:
        """Returns the rows of weight at the indices in input."""
        return F.embedding(
            input, self.weight, self.padding_idx, self.max_norm, self.norm_type, self.scale_grad_by_freq, self.sparse
        )

    def extra_repr(self) -> str:
        """The sizes and the options that differ from their defaults."""
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        if self.sparse is not False:
            s += ", sparse=True"
        return s

    @classmethod
    def from_pretrained(
        cls,
        embeddings: Tensor,
        freeze: bool = True,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
    ) -> Embedding:
        """Creates an Embedding whose weight is the 2-D tensor embeddings (sharing its memory; its padding_idx
        row is left as is); freeze=True makes it not require grad."""
        if embeddings.dim() != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        return cls(
            num_embeddings=rows,
            embedding_dim=cols,
            _weight=embeddings,
            _freeze=freeze,
            padding_idx=padding_idx,
            max_norm=max_norm,
            norm_type=norm_type,
            scale_grad_by_freq=scale_grad_by_freq,
            sparse=sparse,
        )


class EmbeddingBag(Module):
    """Sums, averages or takes the max of bags of embeddings without materialising each bag's lookups
    (as F.embedding_bag); weight (num_embeddings, embedding_dim) initialised from N(0, 1), its padding_idx
    row zero.

    forward(input, offsets=None, per_sample_weights=None): input (B, N) for B bags of N indices, or 1-D
    with offsets (B,) giving where each bag starts; returns (B, embedding_dim).
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        mode: str = "mean",
        sparse: bool = False,
        _weight: Tensor | None = None,
        include_last_offset: bool = False,
        padding_idx: int | None = None,
        device: str | _C.device | None = None,
        dtype: _C.dtype | None = None,
    ) -> None:
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.padding_idx = _padding_idx(padding_idx, num_embeddings, "padding_idx")
        if _weight is None:
            self.weight = Parameter(new_empty((num_embeddings, embedding_dim), device, dtype))
            self.reset_parameters()
        else:
            if list(_weight.shape) != [num_embeddings, embedding_dim]:
                raise AssertionError("Shape of weight does not match num_embeddings and embedding_dim")
            self.weight = Parameter(_weight)
        self.mode = mode
        self.sparse = sparse
        self.include_last_offset = include_last_offset

    def reset_parameters(self) -> None:
        """Re-initialises weight from N(0, 1), with the padding_idx row zero."""
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    _fill_padding_idx_with_zero = _fill_padding_idx_with_zero

    def forward(self, input: Tensor, offsets: Tensor | None = None, per_sample_weights: Tensor | None = None) -> Tensor:
        """Returns one reduced embedding per bag."""
        return F.embedding_bag(
            input,
            self.weight,
            offsets,
            self.max_norm,
            self.norm_type,
            self.scale_grad_by_freq,
            self.mode,
            self.sparse,
            per_sample_weights,
            self.include_last_offset,
            self.padding_idx,
        )

    def extra_repr(self) -> str:
        """The sizes and the options that differ from their defaults."""
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        s += f", mode={self.mode}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s

    @classmethod
    def from_pretrained(
        cls,
        embeddings: Tensor,
        freeze: bool = True,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        mode: str = "mean",
        sparse: bool = False,
        include_last_offset: bool = False,
        padding_idx: int | None = None,
    ) -> EmbeddingBag:
        """An EmbeddingBag whose weight is the 2-D tensor embeddings; freeze=True makes it not require grad."""
        if embeddings.dim() != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        bag = cls(
            num_embeddings=rows,
            embedding_dim=cols,
            _weight=embeddings,
            max_norm=max_norm,
            norm_type=norm_type,
            scale_grad_by_freq=scale_grad_by_freq,
            mode=mode,
            sparse=sparse,
            include_last_offset=include_last_offset,
            padding_idx=padding_idx,
        )
        bag.weight.requires_grad = not freeze
        return bag
