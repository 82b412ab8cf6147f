"""torch-level recurrent functions with ATen's signatures, which code ported from torch.nn.modules.rnn
calls directly: ``torch.lstm``, ``torch.gru``, ``torch.rnn_tanh``, ``torch.rnn_relu`` (each with a padded
and a packed overload) and the single steps ``torch.lstm_cell``, ``torch.gru_cell``, ``torch.rnn_tanh_cell``,
``torch.rnn_relu_cell``.

They run the nn modules' own machinery (``nn.modules.rnn._run_layers``, the fused layer nodes behind it,
and the cells' step functions), so their values and gradients are the modules' for the same weights. The
flat ``params`` list is the modules' ``_flat_weights`` order: per layer, then per direction (forward first),
``w_ih, w_hh`` then ``b_ih, b_hh`` when ``has_biases``, then ``w_hr`` when an LSTM's hidden state is
narrower than its cell state (proj_size).

Where ATen crashes or reads out of bounds on an inconsistent call (a wrong number of params, hidden
states of the wrong shape, a bad batch_sizes), these functions raise an error that names the argument.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

from ._C import Tensor, dtype, stack
from .nn.modules.rnn import _GATES, _STEPS, _input_projection, _run_layers

__all__ = ["gru", "gru_cell", "lstm", "lstm_cell", "rnn_relu", "rnn_relu_cell", "rnn_tanh", "rnn_tanh_cell"]

_SCALARS = ("has_biases", "num_layers", "dropout", "train", "bidirectional")
_PACKED = inspect.Signature(
    [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in ("data", "batch_sizes", "hx", "params")]
    + [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in _SCALARS]
)
_PADDED = inspect.Signature(
    [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in ("input", "hx", "params")]
    + [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in (*_SCALARS, "batch_first")]
)


# ----------------------------------------------------------------------------------- argument parsing
def _is_tensors(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(v, Tensor) for v in value)


def _bind(name: str, lstm_like: bool, args: tuple, kwargs: dict) -> tuple[bool, dict]:
    """Picks the overload the arguments fit, as PyTorch's argument parser: (packed, arguments by name).
    The hidden state is a tuple of tensors for lstm, a tensor for the others; params a list or tuple."""

    def fits(bound: dict) -> bool:
        hx_ok = _is_tensors(bound["hx"]) if lstm_like else isinstance(bound["hx"], Tensor)
        tensors = [bound[k] for k in ("data", "batch_sizes", "input") if k in bound]
        return hx_ok and _is_tensors(bound["params"]) and all(isinstance(t, Tensor) for t in tensors)

    for packed, signature in ((True, _PACKED), (False, _PADDED)):
        try:
            bound = signature.bind(*args, **kwargs).arguments
        except TypeError:
            continue
        if fits(bound):
            return packed, bound
    hx = "tuple of Tensors hx" if lstm_like else "Tensor hx"
    scalars = "bool has_biases, int num_layers, float dropout, bool train, bool bidirectional"
    got = ", ".join([type(a).__name__ if not isinstance(a, Tensor) else "Tensor" for a in args] + list(kwargs))
    raise TypeError(
        f"{name}() received an invalid combination of arguments - got ({got}), but expected one of:\n"
        f" * (Tensor data, Tensor batch_sizes, {hx}, tuple of Tensors params, {scalars})\n"
        f" * (Tensor input, {hx}, tuple of Tensors params, {scalars}, bool batch_first)"
    )


# ------------------------------------------------------------------------------- checks of a stack
def _batch_sizes(name: str, batch_sizes: Tensor, data: Tensor) -> list[int]:
    """batch_sizes as a list, checked: a non-empty, non-increasing 1-D int64 tensor of positive counts
    summing to data's rows."""
    if batch_sizes.dim() != 1 or batch_sizes.dtype != dtype.int64:
        raise RuntimeError(
            f"{name}: expected batch_sizes to be a 1-D tensor of scalar type Long (int64), "
            f"got a {batch_sizes.dim()}-D tensor of {batch_sizes.dtype}"
        )
    sizes = [int(v) for v in batch_sizes.tolist()]
    if not sizes:
        raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
    if sizes[-1] <= 0 or any(a < b for a, b in zip(sizes, sizes[1:])):
        raise RuntimeError(f"{name}: batch_sizes must be positive and non-increasing (a PackedSequence's), got {sizes}")
    if sum(sizes) != data.shape[0]:
        raise RuntimeError(
            f"{name}: batch_sizes sum to {sum(sizes)}, but the packed data has {data.shape[0]} rows (data.size(0))"
        )
    return sizes


def _layer_weights(
    name: str,
    mode: str,
    params: Sequence[Tensor],
    has_biases: bool,
    num_layers: int,
    bidirectional: bool,
    input_size: int,
    hidden: int,
    real_hidden: int,
) -> list[tuple[Tensor | None, ...]]:
    """params grouped as (w_ih, w_hh, b_ih, b_hh, w_hr) per layer and direction, each shape checked."""
    directions = 2 if bidirectional else 1
    proj = real_hidden != hidden
    roles = (
        ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if has_biases else []) + (["weight_hr"] if proj else [])
    )
    expected = num_layers * directions * len(roles)
    if len(params) != expected:
        what = ", ".join(roles)
        raise RuntimeError(
            f"{name}: expected {expected} params ({what} for each of {num_layers} layer(s) x {directions} "
            f"direction(s)), got {len(params)}"
        )
    gates = _GATES[mode] * hidden
    groups = []
    for index in range(num_layers * directions):
        layer, direction = divmod(index, directions)
        layer_input = input_size if layer == 0 else real_hidden * directions
        shapes = {
            "weight_ih": (gates, layer_input),
            "weight_hh": (gates, real_hidden),
            "bias_ih": (gates,),
            "bias_hh": (gates,),
            "weight_hr": (real_hidden, hidden),
        }
        group = dict(zip(roles, params[index * len(roles) : (index + 1) * len(roles)]))
        for k, role in enumerate(roles):
            got = tuple(group[role].shape)
            if got != shapes[role]:
                where = f"layer {layer}" + (", reverse direction" if direction == 1 else "")
                raise RuntimeError(
                    f"{name}: params[{index * len(roles) + k}] ({role} of {where}) should have shape "
                    f"{shapes[role]}, got {got}"
                )
        groups.append(tuple(group.get(r) for r in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")))
    return groups


def _stack(
    name: str,
    mode: str,
    packed: bool,
    input: Tensor,
    batch_sizes: Tensor | None,
    hx: tuple[Tensor, ...],
    params: Sequence[Tensor],
    has_biases: bool,
    num_layers: int,
    dropout: float,
    train: bool,
    bidirectional: bool,
    batch_first: bool,
) -> tuple[Tensor, ...]:
    """The checks and the run shared by lstm, gru, rnn_tanh and rnn_relu: (output, *final states)."""
    want = 2 if packed else 3
    if input.dim() != want:
        kind = "packed data (sum(batch_sizes), input_size)" if packed else "input (seq_len, batch, input_size)"
        raise RuntimeError(f"{name}: expected {kind} to have {want} dimensions, got {input.dim()}")
    if num_layers < 1:
        raise RuntimeError(f"{name}: num_layers must be at least 1, got {num_layers}")
    if train and num_layers > 1 and not 0 <= dropout <= 1:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {dropout:g}")
    if packed:
        sizes = _batch_sizes(name, batch_sizes, input)
        seq, batch = input, sizes[0]
    else:
        seq = input.transpose(0, 1) if batch_first else input
        if seq.shape[0] == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        batch = seq.shape[1]
        sizes = [batch] * seq.shape[0]
    rows = num_layers * (2 if bidirectional else 1)
    for k, h in enumerate(hx):
        if h.dim() != 3:
            raise RuntimeError(
                f"{name}: expected hx[{k}] to be 3-D (num_layers * num_directions, batch, size), got {h.dim()}-D"
            )
        if h.shape[0] != rows or h.shape[1] != batch:
            label = "cell" if k == 1 else "hidden"
            raise RuntimeError(f"Expected {label} size {(rows, batch, h.shape[2])}, got {list(h.shape)}")
        if h.dtype != input.dtype:
            raise RuntimeError(f"{name}: hx[{k}] has dtype {h.dtype}, but input has {input.dtype}; they must match")
    hidden, real_hidden = hx[-1].shape[2], hx[0].shape[2]
    weights = _layer_weights(
        name, mode, params, has_biases, num_layers, bidirectional, input.shape[-1], hidden, real_hidden
    )
    output, finals = _run_layers(mode, seq, sizes, hx, weights, bidirectional, dropout, train, packed)
    states = tuple(stack([f[k] for f in finals]) for k in range(len(hx)))
    if batch_first and not packed:
        output = output.transpose(0, 1)  # a view, as ATen's (the nn modules make it contiguous)
    return (output, *states)


def _stacked_function(name: str, mode: str, args: tuple, kwargs: dict) -> tuple[Tensor, ...]:
    lstm_like = mode == "LSTM"
    packed, a = _bind(name, lstm_like, args, kwargs)
    hx = tuple(a["hx"]) if lstm_like else (a["hx"],)
    if lstm_like and len(hx) != 2:
        raise RuntimeError("lstm expects two hidden states")
    return _stack(
        name,
        mode,
        packed,
        a["data"] if packed else a["input"],
        a.get("batch_sizes"),
        hx,
        a["params"],
        bool(a["has_biases"]),
        int(a["num_layers"]),
        float(a["dropout"]),
        bool(a["train"]),
        bool(a["bidirectional"]),
        bool(a.get("batch_first", False)),
    )


_OVERLOADS = """Two overloads, as ATen's:

    {name}(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first)
    {name}(data, batch_sizes, hx, params, has_biases, num_layers, dropout, train, bidirectional)

input is (seq_len, batch, input_size), or (batch, seq_len, input_size) with batch_first; data and
batch_sizes are a PackedSequence's (hx then in its sorted batch order). {hx_doc} params is the flat list
w_ih, w_hh[, b_ih, b_hh]{proj} per layer and direction (the nn module's _flat_weights). dropout is applied
between layers when train. Returns a tuple {returns}; output is (seq_len, batch, num_directions *
hidden_size) (a batch-first view with batch_first), or packed data like data."""


def lstm(*args: Any, **kwargs: Any) -> tuple[Tensor, Tensor, Tensor]:
    return _stacked_function("lstm", "LSTM", args, kwargs)  # type: ignore[return-value]


def gru(*args: Any, **kwargs: Any) -> tuple[Tensor, Tensor]:
    return _stacked_function("gru", "GRU", args, kwargs)  # type: ignore[return-value]


def rnn_tanh(*args: Any, **kwargs: Any) -> tuple[Tensor, Tensor]:
    return _stacked_function("rnn_tanh", "RNN_TANH", args, kwargs)  # type: ignore[return-value]


def rnn_relu(*args: Any, **kwargs: Any) -> tuple[Tensor, Tensor]:
    return _stacked_function("rnn_relu", "RNN_RELU", args, kwargs)  # type: ignore[return-value]


_SINGLE_HX = "hx is (num_layers * num_directions, batch, hidden_size)."
lstm.__doc__ = "A multi-layer LSTM (nn.LSTM's forward) from plain tensors. " + _OVERLOADS.format(
    name="lstm",
    hx_doc="hx is (h_0, c_0), each (num_layers * num_directions, batch, size); h_0 narrower than c_0 means "
    "projections (proj_size).",
    proj="[, w_hr]",
    returns="(output, h_n, c_n)",
)
gru.__doc__ = "A multi-layer GRU (nn.GRU's forward) from plain tensors. " + _OVERLOADS.format(
    name="gru", hx_doc=_SINGLE_HX, proj="", returns="(output, h_n)"
)
rnn_tanh.__doc__ = "A multi-layer Elman RNN with tanh (nn.RNN's forward) from plain tensors. " + _OVERLOADS.format(
    name="rnn_tanh", hx_doc=_SINGLE_HX, proj="", returns="(output, h_n)"
)
rnn_relu.__doc__ = "A multi-layer Elman RNN with relu (nn.RNN's forward) from plain tensors. " + _OVERLOADS.format(
    name="rnn_relu", hx_doc=_SINGLE_HX, proj="", returns="(output, h_n)"
)


# ------------------------------------------------------------------------------------------- cells
def _cell(
    mode: str,
    input: Tensor,
    hx: tuple[Tensor, ...],
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None,
    b_hh: Tensor | None,
) -> tuple[Tensor, ...]:
    """One step with ATen's checks (and words): input and states are 2-D (batch, size); the hidden size is
    w_hh's second dimension."""
    if input.size(1) != w_ih.size(1):
        raise RuntimeError(f"input has inconsistent input_size: got {input.size(1)} expected {w_ih.size(1)}")
    if input.dim() != 2:
        raise RuntimeError(f"input must be 2-D (batch, input_size), got {input.dim()}-D")
    hidden = w_hh.size(1)
    for k, h in enumerate(hx):
        if h.size(0) != input.size(0):
            raise RuntimeError(f"Input batch size {input.size(0)} doesn't match hidden{k} batch size {h.size(0)}")
        if h.size(1) != hidden:
            raise RuntimeError(f"hidden{k} has inconsistent hidden_size: got {h.size(1)}, expected {hidden}")
        if h.dim() != 2:
            raise RuntimeError(f"hidden{k} must be 2-D (batch, hidden_size), got {h.dim()}-D")
    gates = _GATES[mode]
    for label, w in (("weight_ih", w_ih), ("weight_hh", w_hh)):
        if w.size(0) != gates * hidden:
            raise RuntimeError(
                f"{label} first dim must be {gates} * hidden_size = {gates * hidden}, but got {w.size(0)}"
            )
    xw = _input_projection(mode, input, w_ih, b_ih, b_hh)
    return _STEPS[mode](xw, hx, w_hh, b_hh, None)


def _check_tensor_hx(name: str, hx: Any) -> None:
    if not isinstance(hx, Tensor):
        raise TypeError(f"{name}(): argument 'hx' (position 2) must be Tensor, not {type(hx).__name__}")


def lstm_cell(
    input: Tensor,
    hx: Sequence[Tensor],
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """One LSTM step (nn.LSTMCell's forward with ATen's arguments): input (batch, input_size), hx = (h, c)
    each (batch, hidden_size), w_ih (4 * hidden_size, input_size), w_hh (4 * hidden_size, hidden_size),
    gates stacked (i, f, g, o); either bias may be None. Returns (h', c')."""
    if not _is_tensors(hx):
        raise TypeError(f"lstm_cell(): argument 'hx' (position 2) must be tuple of Tensors, not {type(hx).__name__}")
    if len(hx) != 2:
        raise RuntimeError("lstm_cell expects two hidden states")
    return _cell("LSTM", input, tuple(hx), w_ih, w_hh, b_ih, b_hh)  # type: ignore[return-value]


def gru_cell(
    input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None, b_hh: Tensor | None = None
) -> Tensor:
    """One GRU step (nn.GRUCell's forward with ATen's arguments): input (batch, input_size), hx (batch,
    hidden_size), w_ih (3 * hidden_size, input_size), w_hh (3 * hidden_size, hidden_size), gates stacked
    (r, z, n); either bias may be None. Returns h'."""
    _check_tensor_hx("gru_cell", hx)
    return _cell("GRU", input, (hx,), w_ih, w_hh, b_ih, b_hh)[0]


def rnn_tanh_cell(
    input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None, b_hh: Tensor | None = None
) -> Tensor:
    """One Elman RNN step, h' = tanh(input w_ih^T + b_ih + hx w_hh^T + b_hh) (nn.RNNCell's forward with ATen's
    arguments): input (batch, input_size), hx (batch, hidden_size); either bias may be None."""
    _check_tensor_hx("rnn_tanh_cell", hx)
    return _cell("RNN_TANH", input, (hx,), w_ih, w_hh, b_ih, b_hh)[0]


def rnn_relu_cell(
    input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None, b_hh: Tensor | None = None
) -> Tensor:
    """One Elman RNN step, h' = relu(input w_ih^T + b_ih + hx w_hh^T + b_hh) (nn.RNNCell(nonlinearity='relu')'s
    forward with ATen's arguments): input (batch, input_size), hx (batch, hidden_size); either bias may be None."""
    _check_tensor_hx("rnn_relu_cell", hx)
    return _cell("RNN_RELU", input, (hx,), w_ih, w_hh, b_ih, b_hh)[0]
