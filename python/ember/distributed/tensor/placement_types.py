"""ember.distributed.tensor.placement_types: how a DTensor's dims lie across a device mesh, by PyTorch's names.
The placements are plain values (they compare, hash and print as PyTorch's, and ``Shard`` computes a rank's
chunk as PyTorch's does); ember has no DTensor to place (see ember.distributed.tensor)."""

from __future__ import annotations

__all__ = ["Partial", "Placement", "Replicate", "Shard"]


class Placement:
    def is_shard(self, dim: int | None = None) -> bool:
        return isinstance(self, Shard) and (dim is None or self.dim == dim)

    def is_replicate(self) -> bool:
        return isinstance(self, Replicate)

    def is_partial(self, reduce_op: str | None = None) -> bool:
        return isinstance(self, Partial) and (reduce_op is None or self.reduce_op == reduce_op)

    def _key(self) -> tuple:
        return (type(self).__name__,)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Placement) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())


class Shard(Placement):
    """The tensor split along ``dim`` into one chunk per mesh rank (chunks of ceil(size / n), the last ones
    shorter or empty, as ``torch.chunk``)."""

    def __init__(self, dim: int = 0) -> None:
        self.dim = dim

    def _key(self) -> tuple:
        return ("Shard", self.dim)

    def __repr__(self) -> str:
        return f"Shard(dim={self.dim})"

    def __str__(self) -> str:
        return f"S({self.dim})"

    @staticmethod
    def local_shard_size_and_offset(curr_local_size: int, num_chunks: int, rank: int) -> tuple[int, int]:
        """The size and offset of ``rank``'s chunk of a dim of ``curr_local_size``."""
        full = -(-curr_local_size // num_chunks)
        offset = min(full * rank, curr_local_size)
        return min(full, curr_local_size - offset), offset

    _local_shard_size_and_offset = local_shard_size_and_offset


class _StridedShard(Shard):
    """A Shard whose chunks interleave (``split_factor`` of them per rank), PyTorch's FSDP+TP layout."""

    def __init__(self, dim: int = 0, *, split_factor: int = 1) -> None:
        super().__init__(dim)
        self.split_factor = split_factor

    def _key(self) -> tuple:
        return ("_StridedShard", self.dim, self.split_factor)

    def __repr__(self) -> str:
        return f"_StridedShard(dim={self.dim}, sf={self.split_factor})"


class Replicate(Placement):
    def __repr__(self) -> str:
        return "Replicate()"

    def __str__(self) -> str:
        return "R"


class Partial(Placement):
    """Each rank holds a partial value, to be combined by ``reduce_op``."""

    def __init__(self, reduce_op: str = "sum") -> None:
        self.reduce_op = reduce_op

    def _key(self) -> tuple:
        return ("Partial", self.reduce_op)

    def __repr__(self) -> str:
        return f"Partial({self.reduce_op})"

    def __str__(self) -> str:
        return f"P({self.reduce_op})"
