"""Recurrent layers: RNN, LSTM, GRU and their single-step cells, with PyTorch's parameters and semantics.

Each layer and direction first projects the whole input sequence at once (one matmul, both biases
folded in where the gate formula allows), then runs its time loop as one C++ node (LstmLayerBackward0,
GruLayerBackward0, RnnLayerBackward0: Note [LSTM layer] and Note [GRU layer] in csrc/ops/rnn.cpp).
PackedSequence inputs run the steps on a shrinking batch (the sequences still going, as PyTorch), so
the final hidden state of each sequence is the one at its own length (Note [Packed layer steps]).
An LSTM with proj_size runs its time loop here in Python, one addmm and one fused cell node per step.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable
from typing import Any

from ... import _C
from ..._autocast import lower_under_autocast
from ..._C import Tensor
from ..._creation import zeros
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from ._utils import new_empty
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# ---------------------------------------------------------------------------------------------------------------------
# one time step of each cell: xw is the input projection of the step (batch, gates * hidden) with the
# biases the cell folds into it; state the previous state.


def _input_projection(mode: str, x: Tensor, w_ih: Tensor, b_ih: Tensor | None, b_hh: Tensor | None) -> Tensor:
    """x @ w_ih.T plus the biases that can be added before the step: both, except for GRU whose
    candidate gate multiplies the hidden part (with its bias) by the reset gate."""
    bias = b_ih
    if mode != "GRU" and b_hh is not None:
        bias = b_hh if bias is None else bias + b_hh
    return F.linear(x, w_ih, bias)


def _tanh_step(xw, state, w_hh, b_hh, w_hr):
    return (_C.addmm(xw, state[0], w_hh.t()).tanh(),)


def _relu_step(xw, state, w_hh, b_hh, w_hr):
    return (_C.addmm(xw, state[0], w_hh.t()).relu(),)


def _lstm_step(xw, state, w_hh, b_hh, w_hr):
    h, c = state
    # The gate pre-activations in one addmm; the rest of the step is one fused kernel and node.
    gates = _C.addmm(xw, h, w_hh.t())
    h, c = _C._lstm_cell(gates, c)
    if w_hr is not None:
        h = _C.matmul(h, w_hr.t())
    return h, c


def _gru_step(xw, state, w_hh, b_hh, w_hr):
    h = state[0]
    hidden = h.shape[1]
    gh = _C.matmul(h, w_hh.t()) if b_hh is None else _C.addmm(b_hh, h, w_hh.t())
    r, z = (xw.narrow(1, 0, 2 * hidden) + gh.narrow(1, 0, 2 * hidden)).sigmoid().chunk(2, 1)
    n = (xw.narrow(1, 2 * hidden, hidden) + r * gh.narrow(1, 2 * hidden, hidden)).tanh()
    return (n + z * (h - n),)  # (1 - z) * n + z * h


_STEPS: dict[str, Callable] = {"RNN_TANH": _tanh_step, "RNN_RELU": _relu_step, "LSTM": _lstm_step, "GRU": _gru_step}


def _run_direction(step, xw_steps, batch_sizes, state, weights, reverse):
    """Runs one layer in one direction over the steps; returns (per-step outputs in time order, final state).

    batch_sizes[t] is how many sequences are still going at step t (all equal for a padded batch): going
    forwards, the rows that stop are set aside as final states; going backwards, the sequences join the
    batch at their last step, starting from their initial state.
    """
    w_hh, b_hh, w_hr = weights
    steps = len(xw_steps)
    outputs = [None] * steps
    if not reverse:
        finished = []
        current = batch_sizes[0]
        for t in range(steps):
            b = batch_sizes[t]
            if b < current:
                finished.append(tuple(s.narrow(0, b, current - b) for s in state))
                state = tuple(s.narrow(0, 0, b) for s in state)
                current = b
            state = step(xw_steps[t], state, w_hh, b_hh, w_hr)
            outputs[t] = state[0]
        if finished:  # rows set aside later belong to lower batch positions
            state = tuple(_C.cat([state[k]] + [f[k] for f in reversed(finished)]) for k in range(len(state)))
        return outputs, state
    initial = state
    current = batch_sizes[-1]
    state = tuple(s.narrow(0, 0, current) for s in initial)
    for t in reversed(range(steps)):
        b = batch_sizes[t]
        if b > current:
            state = tuple(_C.cat([s, s0.narrow(0, current, b - current)]) for s, s0 in zip(state, initial))
            current = b
        state = step(xw_steps[t], state, w_hh, b_hh, w_hr)
        outputs[t] = state[0]
    return outputs, state


def _run_layer(mode, xw, batch_sizes, state, weights, direction):
    """One layer and direction over xw, the input projections ((T, B, G) padded, or (N, G) packed with
    batch_sizes): (output, final state). The time loop is one C++ node (Note [LSTM layer] and
    Note [GRU layer] in csrc/ops/rnn.cpp; a packed batch as Note [Packed layer steps]), on the CPU and on
    CUDA devices; an LSTM with proj_size runs step by step here."""
    w_hh, b_hh, w_hr = weights
    reverse = direction == 1
    packed = batch_sizes is not None
    if w_hr is None:
        sizes = list(batch_sizes) if packed else []  # the C++ layers' "padded"
        if mode == "LSTM":
            out, h_n, c_n = _C._lstm_layer(xw, state[0], state[1], w_hh, reverse, sizes)
            return out, (h_n, c_n)
        if mode == "GRU":
            out, h_n = _C._gru_layer(xw, state[0], w_hh, b_hh, reverse, sizes)
        else:
            out, h_n = _C._rnn_layer(xw, state[0], w_hh, mode == "RNN_RELU", reverse, sizes)
        return out, (h_n,)
    xw_steps = xw.split_with_sizes(batch_sizes, 0) if packed else xw.unbind(0)
    step_sizes = batch_sizes if packed else [xw.shape[1]] * xw.shape[0]
    outs, final = _run_direction(_STEPS[mode], xw_steps, step_sizes, state, weights, reverse)
    return (_C.cat(outs) if packed else _C.stack(outs)), final


def _run_layers(
    mode: str,
    seq: Tensor,
    batch_sizes: list[int],
    hx: tuple[Tensor, ...],
    weights: list[tuple[Tensor | None, ...]],
    bidirectional: bool,
    dropout: float,
    training: bool,
    packed: bool,
):
    """The stack of layers of RNNBase's forward, from plain tensors (also behind torch.lstm and co.).

    seq: (T, B, I) padded, or the packed data (N, I) with batch_sizes; hx: the initial states (h, or h and c),
    each (num_layers * num_directions, B, size); weights: (w_ih, w_hh, b_ih, b_hh, w_hr) per layer and
    direction in that order (None where absent); dropout (applied in training between layers). Returns
    (output like seq, final states per layer and direction).
    """
    if not packed and seq.shape[0] == 0:
        raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
    if _C._autocast_active():  # PyTorch's recurrent layers are on its lower-precision lists (CPU and CUDA)
        seq, *hx = lower_under_autocast(("cpu", "cuda"), seq, *hx)
        weights = [lower_under_autocast(("cpu", "cuda"), *w) for w in weights]
    directions = 2 if bidirectional else 1
    num_layers = len(weights) // directions
    finals = []
    layer_input = seq
    for layer in range(num_layers):
        outputs = []
        for direction in range(directions):
            index = layer * directions + direction
            w_ih, w_hh, b_ih, b_hh, w_hr = weights[index]
            # The input projection of every step at once: one matmul for the whole sequence.
            if packed:
                xw = _input_projection(mode, layer_input, w_ih, b_ih, b_hh)
            else:
                steps, batch = layer_input.shape[0], layer_input.shape[1]
                flat = layer_input.reshape(steps * batch, layer_input.shape[2])
                xw = _input_projection(mode, flat, w_ih, b_ih, b_hh).reshape(steps, batch, w_ih.shape[0])
            state = tuple(h[index] for h in hx)
            out, final = _run_layer(mode, xw, batch_sizes if packed else None, state, (w_hh, b_hh, w_hr), direction)
            outputs.append(out)
            finals.append(final)
        layer_input = outputs[0] if directions == 1 else _C.cat(outputs, -1)
        if dropout > 0 and training and layer < num_layers - 1:
            layer_input = F.dropout(layer_input, dropout, True)
    return layer_input, finals


# ---------------------------------------------------------------------------------------------------------------------
# multi-layer recurrent layers


class RNNBase(Module):
    """The shared machinery of RNN, LSTM and GRU: parameters per layer and direction, named as PyTorch's
    (weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k}, weight_hr_l{k} for an LSTM with proj_size,
    with the suffix _reverse for the backward direction), each initialised from U(-1/sqrt(hidden_size),
    1/sqrt(hidden_size))."""

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: str | _C.device | None = None,
        dtype: _C.dtype | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an element being zeroed"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects "
                f"num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                stacklevel=3,
            )
        for name, value, kind in (("bias", bias, bool), ("batch_first", batch_first, bool)):
            if not isinstance(value, kind):
                raise TypeError(f"{name} should be of type bool, got: {type(value).__name__}")
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(value, int):
                raise TypeError(f"{name} should be of type int, got: {type(value).__name__}")
            if value <= 0:
                raise ValueError(f"{name} must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        directions = 2 if bidirectional else 1
        real_hidden = proj_size if proj_size > 0 else hidden_size
        gate_size = _GATES[mode] * hidden_size
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else real_hidden * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                shapes = [("weight_ih", (gate_size, layer_input)), ("weight_hh", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size > 0:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                names = []
                for kind, shape in shapes:
                    setattr(self, kind + suffix, Parameter(new_empty(shape, device, dtype)))
                    names.append(kind + suffix)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialises every parameter from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def flatten_parameters(self) -> None:
        """A no-op: ember keeps no fused weight buffer (PyTorch compacts the weights for cuDNN)."""

    @property
    def _flat_weights(self) -> list[Tensor]:
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters of each layer and direction, in PyTorch's order."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def _layer_weights(self, layer: int, direction: int):
        suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")

        def param(kind):
            return getattr(self, kind + suffix) if kind + suffix in self._flat_weights_names else None

        return param("weight_ih"), param("weight_hh"), param("bias_ih"), param("bias_hh"), param("weight_hr")

    def extra_repr(self) -> str:
        """The sizes and the options that differ from their defaults, as PyTorch."""
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # -- forward ------------------------------------------------------------------------------------------------------

    def _state_sizes(self) -> list[int]:
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        return [real_hidden, self.hidden_size] if self.mode == "LSTM" else [real_hidden]

    # PyTorch's checks, public so that a subclass may override them; forward calls check_forward_args and
    # permute_hidden as PyTorch's does.
    def check_input(self, input: Tensor, batch_sizes: Tensor | None) -> None:
        """The input's dtype (the weights'), rank (2 packed, else 3) and last size (input_size)."""
        weight = self.weight_ih_l0
        if input.dtype != weight.dtype and not _C._autocast_active():  # autocast casts both, as PyTorch's
            raise ValueError(
                f"RNN input dtype ({input.dtype}) does not match weight dtype ({weight.dtype}). "
                f"Convert input: input.to({weight.dtype}), or convert model: model.to({input.dtype})"
            )
        expected_dim = 2 if batch_sizes is not None else 3
        if input.dim() != expected_dim:
            raise RuntimeError(f"input must have {expected_dim} dimensions, got {input.dim()}")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got {input.shape[-1]}"
            )

    def _expected_state_size(self, input: Tensor, batch_sizes: Tensor | None, size: int) -> tuple[int, int, int]:
        if batch_sizes is not None:
            batch = int(batch_sizes[0])
        else:
            batch = input.size(0) if self.batch_first else input.size(1)
        return (self.num_layers * (2 if self.bidirectional else 1), batch, size)

    def get_expected_hidden_size(self, input: Tensor, batch_sizes: Tensor | None) -> tuple[int, int, int]:
        """(num_layers * num_directions, batch, proj_size or hidden_size): the hidden state's shape."""
        return self._expected_state_size(input, batch_sizes, self.proj_size if self.proj_size > 0 else self.hidden_size)

    def check_hidden_size(
        self, hx: Tensor, expected_hidden_size: tuple[int, int, int], msg: str = "Expected hidden size {}, got {}"
    ) -> None:
        """RuntimeError(msg) unless hx has the expected size."""
        if tuple(hx.size()) != tuple(expected_hidden_size):
            raise RuntimeError(msg.format(expected_hidden_size, list(hx.size())))

    def check_forward_args(self, input: Tensor, hidden: Tensor, batch_sizes: Tensor | None) -> None:
        """check_input, then the hidden state's size."""
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden, self.get_expected_hidden_size(input, batch_sizes))

    def permute_hidden(self, hx: Tensor, permutation: Tensor | None) -> Tensor:
        """The hidden state in a packed batch's sorted order (as given when permutation is None)."""
        return hx if permutation is None else hx.index_select(1, permutation)

    def _weights_have_changed(self) -> bool:
        # PyTorch re-flattens its cuDNN weight buffer when this is True; ember reads the parameters at each call.
        return False

    def _init_flat_weights(self) -> None:
        """A no-op: ``_flat_weights`` reads the parameters by name at each use (PyTorch caches them)."""

    _update_flat_weights = _init_flat_weights

    def _run(self, input: Tensor, hx: tuple[Tensor, ...] | None, unbatched_message: Callable[[bool], str]):
        """The forward shared by RNN, LSTM and GRU; returns (output, state tuple)."""
        packed = isinstance(input, PackedSequence)
        name = {"LSTM": "LSTM", "GRU": "GRU"}.get(self.mode, "RNN")
        directions = 2 if self.bidirectional else 1
        sorted_indices = unsorted_indices = None
        unbatched = False
        if packed:
            data, batch_sizes_t, sorted_indices, unsorted_indices = input
            batch_sizes = [int(v) for v in batch_sizes_t.tolist()]
            batch = batch_sizes[0]
            checked, seq = data, data
        else:
            if input.dim() not in (2, 3):
                raise ValueError(
                    f"{name}: Expected input to be 2D or 3D, got {input.dim()}D"
                    + (" tensor instead" if name == "RNN" else " instead")
                )
            unbatched = input.dim() == 2
            batch_dim = 0 if self.batch_first else 1
            if unbatched:
                input = input.unsqueeze(batch_dim)
            if hx is not None:
                want = 2 if unbatched else 3
                if any(h.dim() != want for h in hx):
                    raise RuntimeError(unbatched_message(unbatched))
                if unbatched:
                    hx = tuple(h.unsqueeze(1) for h in hx)
            checked, batch_sizes_t = input, None
            seq = input.transpose(0, 1) if self.batch_first else input
            batch = seq.shape[1]
            batch_sizes = [batch] * seq.shape[0]
        if hx is None:
            rows = self.num_layers * directions
            hx = tuple(zeros(rows, batch, size, dtype=seq.dtype, device=seq.device) for size in self._state_sizes())
        else:  # the user's hidden state is in the original batch order
            hx = _as_state(self.permute_hidden(_as_hidden(self.mode, hx), sorted_indices))
        self.check_forward_args(checked, _as_hidden(self.mode, hx), batch_sizes_t)
        output, finals = self._layers(seq, batch_sizes, hx, packed)
        state = tuple(_C.stack([f[k] for f in finals]) for k in range(len(hx)))
        if unsorted_indices is not None:
            state = tuple(s.index_select(1, unsorted_indices) for s in state)
        if packed:
            return PackedSequence(output, batch_sizes_t, sorted_indices, unsorted_indices), state
        if self.batch_first:  # contiguous, as PyTorch's, so that output.view(...) works
            output = output.transpose(0, 1).contiguous()
        if unbatched:
            output = output.squeeze(0 if self.batch_first else 1)
            state = tuple(s.squeeze(1) for s in state)
        return output, state

    def _layers(self, seq: Tensor, batch_sizes: list[int], hx: tuple[Tensor, ...], packed: bool):
        """seq: (T, B, I) padded, or the packed data (N, I). Returns (output like seq, final states per
        layer and direction)."""
        directions = 2 if self.bidirectional else 1
        weights = [self._layer_weights(layer, d) for layer in range(self.num_layers) for d in range(directions)]
        return _run_layers(
            self.mode, seq, batch_sizes, hx, weights, self.bidirectional, self.dropout, self.training, packed
        )


def _as_hidden(mode: str, state: tuple[Tensor, ...]) -> Any:
    """The state as PyTorch's check and permute methods take it: (h, c) for an LSTM, h for the others."""
    return state if mode == "LSTM" else state[0]


def _as_state(hidden: Any) -> tuple[Tensor, ...]:
    return tuple(hidden) if isinstance(hidden, (tuple, list)) else (hidden,)


class RNN(RNNBase):
    """A multi-layer Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_(t-1) W_hh^T + b_hh) (or relu).

    RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True, batch_first=False,
    dropout=0.0, bidirectional=False). forward(input, hx=None) -> (output, h_n): input (T, B, input_size)
    ((B, T, ...) if batch_first), (T, input_size) unbatched, or a PackedSequence; hx (num_layers *
    num_directions, B, hidden_size), zeros when None; output (T, B, num_directions * hidden_size).
    """

    def __init__(self, *args, **kwargs) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, *args, **kwargs)

    def extra_repr(self) -> str:
        """As RNNBase, plus the nonlinearity when it is not tanh."""
        s = super().extra_repr()
        return s + (f", nonlinearity={self.nonlinearity}" if self.nonlinearity != "tanh" else "")

    def forward(self, input: Tensor | PackedSequence, hx: Tensor | None = None):
        """Returns (output, h_n); output is a PackedSequence when input is one."""
        output, state = self._run(input, None if hx is None else (hx,), _single_hidden_message(hx))
        return output, state[0]


def _single_hidden_message(hx):
    def message(unbatched):
        kind = "unbatched 2-D input, hx should also be 2-D" if unbatched else "batched 3-D input, hx should also be 3-D"
        return f"For {kind} but got {hx.dim()}-D tensor"

    return message


class GRU(RNNBase):
    """A multi-layer gated recurrent unit RNN, with PyTorch's gate equations:
    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr), z = sigmoid(W_iz x + b_iz + W_hz h + b_hz),
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h.

    Arguments, shapes and forward as RNN (without nonlinearity); weights stack the gates as (r, z, n).
    """

    def __init__(self, *args, **kwargs) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)

    def forward(self, input: Tensor | PackedSequence, hx: Tensor | None = None):
        """Returns (output, h_n); output is a PackedSequence when input is one."""
        output, state = self._run(input, None if hx is None else (hx,), _single_hidden_message(hx))
        return output, state[0]


class LSTM(RNNBase):
    """A multi-layer long short-term memory RNN, with PyTorch's gate equations (weights stack the gates
    as (i, f, g, o)): c' = f * c + i * g, h' = o * tanh(c'); with proj_size > 0, h' is then projected by
    weight_hr_l{k} (proj_size, hidden_size).

    Arguments and shapes as RNN, plus proj_size; forward(input, (h_0, c_0)=None) -> (output, (h_n, c_n)).
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__("LSTM", *args, **kwargs)

    def forward(self, input: Tensor | PackedSequence, hx: tuple[Tensor, Tensor] | None = None):
        """Returns (output, (h_n, c_n)); output is a PackedSequence when input is one."""

        def message(unbatched):
            dims = f"({hx[0].dim()}-D, {hx[1].dim()}-D)"
            if unbatched:
                return f"For unbatched 2-D input, hx and cx should also be 2-D but got {dims} tensors"
            return f"For batched 3-D input, hx and cx should also be 3-D but got {dims} tensors"

        output, state = self._run(input, None if hx is None else tuple(hx), message)
        return output, state

    def get_expected_cell_size(self, input: Tensor, batch_sizes: Tensor | None) -> tuple[int, int, int]:
        """(num_layers * num_directions, batch, hidden_size): the cell state's shape."""
        return self._expected_state_size(input, batch_sizes, self.hidden_size)

    def check_forward_args(self, input: Tensor, hidden: tuple[Tensor, Tensor], batch_sizes: Tensor | None) -> None:
        """check_input, then the sizes of h and c."""
        self.check_input(input, batch_sizes)
        self.check_hidden_size(
            hidden[0], self.get_expected_hidden_size(input, batch_sizes), "Expected hidden[0] size {}, got {}"
        )
        self.check_hidden_size(
            hidden[1], self.get_expected_cell_size(input, batch_sizes), "Expected hidden[1] size {}, got {}"
        )

    def permute_hidden(self, hx: tuple[Tensor, Tensor], permutation: Tensor | None) -> tuple[Tensor, Tensor]:
        """h and c in a packed batch's sorted order (as given when permutation is None)."""
        return hx if permutation is None else (hx[0].index_select(1, permutation), hx[1].index_select(1, permutation))


# ---------------------------------------------------------------------------------------------------------------------
# cells


class RNNCellBase(Module):
    """The parameters of a single-step cell: weight_ih (gates * hidden_size, input_size), weight_hh
    (gates * hidden_size, hidden_size), bias_ih and bias_hh (gates * hidden_size,), initialised from
    U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""

    _mode = "RNN_TANH"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool,
        num_chunks: int,
        device: str | _C.device | None = None,
        dtype: _C.dtype | None = None,
    ) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(new_empty((num_chunks * hidden_size, input_size), device, dtype))
        self.weight_hh = Parameter(new_empty((num_chunks * hidden_size, hidden_size), device, dtype))
        if bias:
            self.bias_ih = Parameter(new_empty((num_chunks * hidden_size,), device, dtype))
            self.bias_hh = Parameter(new_empty((num_chunks * hidden_size,), device, dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialises every parameter from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self) -> str:
        """The sizes, and bias / nonlinearity when they differ from the defaults."""
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _cell(self, name: str, input: Tensor, state: tuple[Tensor, ...] | None) -> tuple[tuple[Tensor, ...], bool]:
        """Checks the shapes, runs one step; returns (new state, whether the input was batched)."""
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        if state is None:
            rows = input.shape[0]
            state = tuple(
                zeros(rows, self.hidden_size, dtype=input.dtype, device=input.device) for _ in range(self._states)
            )
        elif not batched:
            state = tuple(s.unsqueeze(0) for s in state)
        if input.shape[1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[1]} expected {self.input_size}")
        for k, s in enumerate(state):
            if s.shape[0] != input.shape[0]:
                raise RuntimeError(f"Input batch size {input.shape[0]} doesn't match hidden{k} batch size {s.shape[0]}")
            if s.shape[1] != self.hidden_size:
                raise RuntimeError(
                    f"hidden{k} has inconsistent hidden_size: got {s.shape[1]}, expected {self.hidden_size}"
                )
        xw = _input_projection(self._mode, input, self.weight_ih, self.bias_ih, self.bias_hh)
        return _STEPS[self._mode](xw, state, self.weight_hh, self.bias_hh, None), batched


class RNNCell(RNNCellBase):
    """An Elman RNN cell: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu).

    forward(input, hx=None) -> h': input (B, input_size) or (input_size,), hx (B, hidden_size) or
    (hidden_size,), zeros when None.
    """

    _states = 1

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device: str | _C.device | None = None,
        dtype: _C.dtype | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    @property
    def _mode(self) -> str:
        if self.nonlinearity == "tanh":
            return "RNN_TANH"
        if self.nonlinearity == "relu":
            return "RNN_RELU"
        raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        """Returns the next hidden state."""
        if hx is not None and hx.dim() not in (1, 2):
            raise ValueError(f"RNNCell: Expected hidden to be 1D or 2D, got {hx.dim()}D instead")
        state, batched = self._cell("RNNCell", input, None if hx is None else (hx,))
        return state[0] if batched else state[0].squeeze(0)


class LSTMCell(RNNCellBase):
    """A long short-term memory cell; forward(input, (h, c)=None) -> (h', c'), gates stacked (i, f, g, o)."""

    _mode = "LSTM"
    _states = 2

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: str | _C.device | None = None,
        dtype: _C.dtype | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        """Returns the next (hidden, cell) state."""
        if hx is not None:
            for idx, value in enumerate(hx):
                if value.dim() not in (1, 2):
                    raise ValueError(f"LSTMCell: Expected hx[{idx}] to be 1D or 2D, got {value.dim()}D instead")
        state, batched = self._cell("LSTMCell", input, None if hx is None else tuple(hx))
        return state if batched else (state[0].squeeze(0), state[1].squeeze(0))


class GRUCell(RNNCellBase):
    """A gated recurrent unit cell; forward(input, hx=None) -> h', gates stacked (r, z, n) as GRU."""

    _mode = "GRU"
    _states = 1

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: str | _C.device | None = None,
        dtype: _C.dtype | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        """Returns the next hidden state."""
        if hx is not None and hx.dim() not in (1, 2):
            raise ValueError(f"GRUCell: Expected hidden to be 1D or 2D, got {hx.dim()}D instead")
        state, batched = self._cell("GRUCell", input, None if hx is None else (hx,))
        return state[0] if batched else state[0].squeeze(0)
