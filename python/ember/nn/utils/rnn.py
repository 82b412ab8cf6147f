"""Variable-length sequence batches for the recurrent layers, as torch.nn.utils.rnn.

A PackedSequence stores a batch of sequences sorted by decreasing length, time step by time step:
`data` holds the batch_sizes[0] first elements, then the batch_sizes[1] second elements, and so on,
so that a recurrent layer can run each step on the sequences still going. Packing and unpacking are
one gather (index_select) each, so gradients flow through them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from ... import _C
from ..._creation import _device_of, full, tensor

if TYPE_CHECKING:
    from ..._C import Tensor

__all__ = [
    "PackedSequence",
    "invert_permutation",
    "pack_padded_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpad_sequence",
    "pack_sequence",
    "unpack_sequence",
]


class _PackedSequenceBase(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(_PackedSequenceBase):
    """A packed batch of variable-length sequences (a namedtuple of data, batch_sizes, sorted_indices,
    unsorted_indices).

    data (sum of lengths, *) holds the sequences, sorted by decreasing length, interleaved time step by
    time step; batch_sizes (int64) is how many sequences are still going at each step; sorted_indices
    maps the sorted batch back to the order it was given in (None when it was given sorted) and
    unsorted_indices is its inverse. Build one with pack_padded_sequence or pack_sequence.
    """

    def __new__(
        cls,
        data: Tensor,
        batch_sizes: Tensor | None = None,
        sorted_indices: Tensor | None = None,
        unsorted_indices: Tensor | None = None,
    ) -> PackedSequence:
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:  # PackedSequence((data, batch_sizes), ...)
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise AssertionError("Expected data to be a list or tuple of length 2")
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """The same sequence with data converted by Tensor.to; sorted_indices and unsorted_indices follow data to
        its device, batch_sizes stays int64 on the CPU (as PyTorch)."""
        return self._with_moved_data(self.data.to(*args, **kwargs))

    def cpu(self) -> PackedSequence:
        """The sequence with its data (and permutations) on the CPU."""
        return self._with_moved_data(self.data.cpu())

    def cuda(self, device: Any = None) -> PackedSequence:
        """The sequence with its data (and permutations) on a CUDA device (the current one when None)."""
        return self._with_moved_data(self.data.cuda(device))

    def _with_moved_data(self, data: Tensor) -> PackedSequence:
        if data is self.data:
            return self
        sorted_indices, unsorted_indices = (
            None if t is None else t.to(data.device) for t in (self.sorted_indices, self.unsorted_indices)
        )
        return type(self)(data, self.batch_sizes, sorted_indices, unsorted_indices)

    def double(self) -> PackedSequence:
        """data as float64."""
        return self.to(dtype=_C.dtype.float64)

    def float(self) -> PackedSequence:
        """data as float32."""
        return self.to(dtype=_C.dtype.float32)

    def long(self) -> PackedSequence:
        """data as int64."""
        return self.to(dtype=_C.dtype.int64)

    def int(self) -> PackedSequence:
        """data as int32."""
        return self.to(dtype=_C.dtype.int32)

    def half(self) -> PackedSequence:
        """data as float16."""
        return self.to(dtype=_C.dtype.float16)

    def short(self) -> PackedSequence:
        """data as int16."""
        return self.to(dtype=_C.dtype.int16)

    def char(self) -> PackedSequence:
        """data as int8."""
        return self.to(dtype=_C.dtype.int8)

    def byte(self) -> PackedSequence:
        """data as uint8."""
        return self.to(dtype=_C.dtype.uint8)

    def pin_memory(self) -> PackedSequence:
        """The sequence with its data (and permutations) in pinned memory, as Tensor.pin_memory."""
        return type(self)(
            self.data.pin_memory(),
            self.batch_sizes,
            None if self.sorted_indices is None else self.sorted_indices.pin_memory(),
            None if self.unsorted_indices is None else self.unsorted_indices.pin_memory(),
        )

    @property
    def is_cuda(self) -> bool:
        """Whether data is on a CUDA device."""
        return self.data.is_cuda

    def is_pinned(self) -> bool:
        """False: ember has no pinned memory."""
        return False


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse of a permutation of 0..n-1 (None for None): out[permutation[i]] = i."""
    if permutation is None:
        return None
    return permutation.argsort()


def _lengths_list(lengths) -> list[int]:
    if isinstance(lengths, _C.Tensor):
        return [int(v) for v in lengths.reshape(-1).tolist()]
    return [int(v) for v in lengths]


def _batch_sizes_of(lengths: list[int]) -> list[int]:
    """How many sequences (sorted by decreasing length) are still going at each time step."""
    return [sum(1 for n in lengths if n > t) for t in range(lengths[0])] if lengths else []


def pack_padded_sequence(
    input: Tensor, lengths: Tensor | list[int], batch_first: bool = False, enforce_sorted: bool = True
) -> PackedSequence:
    """Packs a padded batch input (T, B, *) ((B, T, *) if batch_first) of sequences of the given lengths.

    With enforce_sorted the lengths must be in decreasing order; otherwise the batch is sorted here and
    the permutation kept in the result (sorted_indices), so that pad_packed_sequence and the recurrent
    layers give results in the original order.
    """
    lens = _lengths_list(lengths)
    sorted_indices = None
    if not enforce_sorted:
        order = sorted(range(len(lens)), key=lambda i: -lens[i])  # stable, as torch.sort(descending=True)
        sorted_indices = tensor(order, dtype=_C.dtype.int64, device=_device_of(input))
        lens = [lens[i] for i in order]
    elif any(a < b for a, b in zip(lens, lens[1:])):
        raise RuntimeError(
            "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You can pass "
            "`enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep this requirement "
            "if you do not need ONNX exportability."
        )
    if lens and lens[-1] <= 0:
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0"
        )
    if batch_first:
        input = input.transpose(0, 1)
    steps, batch = input.shape[0], input.shape[1]
    if len(lens) != batch:
        raise RuntimeError(
            f"Expected `len(lengths)` to be equal to batch_size, but got {len(lens)} (batch_size={batch})"
        )
    if lens and lens[0] > steps:
        raise RuntimeError(f"Length {lens[0]} exceeds the sequence length {steps} of the input")
    batch_sizes = _batch_sizes_of(lens)
    # One gather: row t * B + b of the (T * B, *) input for each (t, b) still going, in packed order.
    src = order if sorted_indices is not None else list(range(batch))
    rows = [t * batch + src[b] for t, n in enumerate(batch_sizes) for b in range(n)]
    rows = tensor(rows, dtype=_C.dtype.int64, device=_device_of(input))
    data = input.reshape(steps * batch, *input.shape[2:]).index_select(0, rows)
    # batch_sizes lives on the CPU whatever the data's device, as PyTorch's.
    return PackedSequence(data, tensor(batch_sizes, dtype=_C.dtype.int64, device="cpu"), sorted_indices, None)


def pad_packed_sequence(
    sequence: PackedSequence,
    batch_first: bool = False,
    padding_value: float = 0.0,
    total_length: int | None = None,
) -> tuple[Tensor, Tensor]:
    """Inverse of pack_padded_sequence: (padded (T, B, *) or (B, T, *) if batch_first, lengths (B,) int64),
    the batch in the order it was packed from; total_length pads T up to it."""
    batch_sizes = [int(v) for v in sequence.batch_sizes.tolist()]
    steps = len(batch_sizes)
    if total_length is not None:
        if total_length < steps:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in input, but got "
                f"total_length={total_length} and max sequence length being {steps}"
            )
        steps = total_length
    batch = batch_sizes[0] if batch_sizes else 0
    lengths = [sum(1 for n in batch_sizes if n > b) for b in range(batch)]  # in sorted order
    unsorted = sequence.unsorted_indices
    order = list(range(batch)) if unsorted is None else [int(v) for v in unsorted.tolist()]
    # Row of data for each (t, b) of the sorted batch; padding reads an extra row of padding_value.
    offsets = [0]
    for n in batch_sizes:
        offsets.append(offsets[-1] + n)
    data = sequence.data
    pad_row = offsets[-1]
    outer = (lambda b, t: (b, t)) if batch_first else (lambda b, t: (t, b))
    rows = []
    first, second = (batch, steps) if batch_first else (steps, batch)
    for i in range(first):
        for j in range(second):
            b, t = outer(i, j)
            s = order[b]  # the position of original sequence b in the sorted batch
            rows.append(offsets[t] + s if t < len(batch_sizes) and s < batch_sizes[t] else pad_row)
    device = _device_of(data)
    filler = full((1, *data.shape[1:]), padding_value, dtype=data.dtype, device=device)
    padded = _C.cat([data, filler]).index_select(0, tensor(rows, dtype=_C.dtype.int64, device=device))
    padded = padded.reshape(first, second, *data.shape[1:])
    # The lengths are on the CPU whatever the data's device, as PyTorch's.
    return padded, tensor([lengths[s] for s in order], dtype=_C.dtype.int64, device="cpu")


def pad_sequence(
    sequences: Tensor | Iterable[Tensor],
    batch_first: bool = False,
    padding_value: float = 0.0,
    padding_side: str = "right",
) -> Tensor:
    """Stacks sequences of shape (L_i, *) into (T, B, *) ((B, T, *) if batch_first), T the longest L_i,
    filling with padding_value on the right (or, with padding_side='left', on the left)."""
    if isinstance(sequences, _C.Tensor):
        sequences = sequences.unbind(0)
    if not isinstance(sequences, Iterable):
        raise RuntimeError(
            f"pad_sequence: Expected iterable for input sequences, but got arg of type: {type(sequences)}"
        )
    sequences = tuple(sequences)
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        missing = longest - s.shape[0]
        if missing:
            filler = full((missing, *s.shape[1:]), padding_value, dtype=s.dtype, device=_device_of(s))
            s = _C.cat([s, filler] if padding_side == "right" else [filler, s])
        padded.append(s)
    return _C.stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences: Tensor, lengths: Tensor, batch_first: bool = False) -> list[Tensor]:
    """Inverse of pad_sequence (right padding): the list of sequences padded_sequences[:lengths[i], i]."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [seq.narrow(0, 0, n) for seq, n in zip(padded_sequences.unbind(0), _lengths_list(lengths))]


def pack_sequence(sequences: list[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Packs a list of sequences of shape (L_i, *) (decreasing lengths unless enforce_sorted=False)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """Inverse of pack_sequence: the list of sequences, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
