"""Shape rules of the meta device: ops whose result's shape depends on their arguments, and views
(whose strides matter). Every other op is shaped by running it on proxies (Note [Meta tensors])."""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable

from . import _C
from ._batched import _wrap_dim, is_tensor, registrar
from ._creation import _size
from ._meta import RULES, MetaTensor


def _rule(*names: str) -> Callable[[Callable], Callable]:
    return registrar(RULES, *names)


def _sizes(rest: tuple, kwargs: dict, *keys: str) -> tuple:
    """view(2, 3), view((2, 3)) or view(size=(2, 3)), as the creation functions read theirs."""
    if not rest:
        for k in keys:
            if k in kwargs:
                return tuple(_size((kwargs[k],)))
        return ()
    return tuple(_size(rest))


def _arg(args: tuple, kwargs: dict, i: int, key: str, default: Any = None) -> Any:
    return args[i] if len(args) > i else kwargs.get(key, default)


def _infer(shape: tuple, numel: int) -> tuple:
    """`shape` with its -1 resolved, PyTorch's error when it cannot hold `numel` elements."""
    known = math.prod(s for s in shape if s != -1)
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    if math.prod(shape) != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def _view(x: MetaTensor, shape: tuple, strides: tuple | None = None) -> MetaTensor:
    return MetaTensor(shape, x._dtype, strides=strides, base=x._base if x._base is not None else x)


# ------------------------------------------------------------------------------------ views
@_rule("view", "reshape")
def view(args: tuple, kwargs: dict) -> MetaTensor:
    x = args[0]
    if len(args) == 2 and isinstance(args[1], _C.dtype):  # view(dtype): the last dim scales by the sizes' ratio
        dtype = args[1]
        shape = list(x.shape)
        if dtype.itemsize != x._dtype.itemsize:
            if not shape:
                raise RuntimeError(f"self.dim() cannot be 0 to view {x._dtype} as {dtype} (different element sizes)")
            shape[-1] = shape[-1] * x._dtype.itemsize // dtype.itemsize
        return MetaTensor(tuple(shape), dtype)
    return _view(x, _infer(_sizes(args[1:], kwargs, "shape", "size"), x.numel()))


@_rule("view_as", "reshape_as")
def view_as(args: tuple, kwargs: dict) -> MetaTensor:
    return _view(args[0], tuple(_arg(args, kwargs, 1, "other").shape))


@_rule("expand", "broadcast_to")
def expand(args: tuple, kwargs: dict) -> MetaTensor:
    x = args[0]
    target = _sizes(args[1:], kwargs, "size", "shape")
    if len(target) < x.dim():
        raise RuntimeError(
            f"expand(torch.FloatTensor{{{list(x._shape)}}}, size={list(target)}): the number of sizes provided "
            f"({len(target)}) must be greater or equal to the number of dimensions in the tensor ({x.dim()})"
        )
    lead = len(target) - x.dim()
    shape, strides = [], []
    for i, t in enumerate(target):
        if i < lead:
            shape.append(t)
            strides.append(0)
            continue
        s, st = x._shape[i - lead], x._strides[i - lead]
        if t == -1 or t == s:
            shape.append(s)
            strides.append(st)
        elif s == 1:
            shape.append(t)
            strides.append(0)
        else:
            raise RuntimeError(
                f"The expanded size of the tensor ({t}) must match the existing size ({s}) at non-singleton dimension "
                f"{i}.  Target sizes: {list(target)}.  Tensor sizes: {list(x._shape)}"
            )
    return _view(x, tuple(shape), tuple(strides))


@_rule("expand_as")
def expand_as(args: tuple, kwargs: dict) -> MetaTensor:
    return expand((args[0], tuple(_arg(args, kwargs, 1, "other").shape)), {})


@_rule("permute")
def permute(args: tuple, kwargs: dict) -> MetaTensor:
    x = args[0]
    order = [_wrap_dim(d, x.dim(), "permute") for d in _sizes(args[1:], kwargs, "dims")]
    if sorted(order) != list(range(x.dim())):
        raise RuntimeError(
            "permute(): number of dimensions in the tensor input does not match the length of the desired ordering "
            f"of dimensions i.e. input.dim() = {x.dim()} is not equal to len(dims) = {len(order)}"
        )
    return _view(x, tuple(x._shape[d] for d in order), tuple(x._strides[d] for d in order))


@_rule("transpose", "swapaxes", "swapdims")
def transpose(args: tuple, kwargs: dict) -> MetaTensor:
    x = args[0]
    if x.dim() == 0:
        return _view(x, (), ())
    a = _wrap_dim(_arg(args, kwargs, 1, "dim0", kwargs.get("axis0")), x.dim(), "transpose")
    b = _wrap_dim(_arg(args, kwargs, 2, "dim1", kwargs.get("axis1")), x.dim(), "transpose")
    order = list(range(x.dim()))
    order[a], order[b] = order[b], order[a]
    return permute((x, *order), {})


@_rule("t")
def t(args: tuple, kwargs: dict) -> MetaTensor:
    x = args[0]
    if x.dim() > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.dim()}D")
    return transpose((x, 0, 1), {}) if x.dim() == 2 else _view(x, x._shape, x._strides)


@_rule("unsqueeze")
def unsqueeze(args: tuple, kwargs: dict) -> MetaTensor:
    x = args[0]
    d = _wrap_dim(_arg(args, kwargs, 1, "dim"), x.dim() + 1, "unsqueeze")
    stride = x._shape[d] * x._strides[d] if d < x.dim() else 1
    return _view(x, x._shape[:d] + (1,) + x._shape[d:], x._strides[:d] + (stride,) + x._strides[d:])


@_rule("squeeze")
def squeeze(args: tuple, kwargs: dict) -> MetaTensor:
    x = args[0]
    d = _arg(args, kwargs, 1, "dim")
    if d is None:
        drop = {i for i, s in enumerate(x._shape) if s == 1}
    else:
        dims = d if isinstance(d, (tuple, list)) else (d,)
        drop = {i for i in (_wrap_dim(e, x.dim(), "squeeze") for e in dims) if x.dim() and x._shape[i] == 1}
    keep = [i for i in range(x.dim()) if i not in drop]
    return _view(x, tuple(x._shape[i] for i in keep), tuple(x._strides[i] for i in keep))


@_rule("select")
def select(args: tuple, kwargs: dict) -> MetaTensor:
    x = args[0]
    d = _wrap_dim(_arg(args, kwargs, 1, "dim"), x.dim(), "select")
    index = int(_arg(args, kwargs, 2, "index"))
    if not -x._shape[d] <= index < x._shape[d]:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(x._shape)} at dimension {d}")
    return _view(x, x._shape[:d] + x._shape[d + 1 :], x._strides[:d] + x._strides[d + 1 :])


@_rule("narrow")
def narrow(args: tuple, kwargs: dict) -> MetaTensor:
    x = args[0]
    d = _wrap_dim(_arg(args, kwargs, 1, "dim"), x.dim(), "narrow")
    start, length = int(_arg(args, kwargs, 2, "start")), int(_arg(args, kwargs, 3, "length"))
    if start < 0:
        start += x._shape[d]
    if not (0 <= start and start + length <= x._shape[d]):
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({x._shape[d]}).")
    return _view(x, x._shape[:d] + (length,) + x._shape[d + 1 :], x._strides)


@_rule("flatten")
def flatten(args: tuple, kwargs: dict) -> MetaTensor:
    x = args[0]
    if x.dim() == 0:
        return _view(x, (1,))
    a = _wrap_dim(_arg(args, kwargs, 1, "start_dim", 0), x.dim(), "flatten")
    b = _wrap_dim(_arg(args, kwargs, 2, "end_dim", -1), x.dim(), "flatten")
    return _view(x, x._shape[:a] + (math.prod(x._shape[a : b + 1]),) + x._shape[b + 1 :])


@_rule("unflatten")
def unflatten(args: tuple, kwargs: dict) -> MetaTensor:
    x = args[0]
    d = _wrap_dim(_arg(args, kwargs, 1, "dim"), x.dim(), "unflatten")
    sizes = _infer(tuple(_arg(args, kwargs, 2, "sizes")), x._shape[d])
    return _view(x, x._shape[:d] + sizes + x._shape[d + 1 :])


@_rule("contiguous", "clone")
def contiguous(args: tuple, kwargs: dict) -> MetaTensor:
    return MetaTensor(args[0]._shape, args[0]._dtype)


@_rule("diagonal")
def diagonal(args: tuple, kwargs: dict) -> MetaTensor:
    x = args[0]
    offset = _arg(args, kwargs, 1, "offset", 0)
    a = _wrap_dim(_arg(args, kwargs, 2, "dim1", 0), x.dim(), "diagonal")
    b = _wrap_dim(_arg(args, kwargs, 3, "dim2", 1), x.dim(), "diagonal")
    n = max(0, min(x._shape[a], x._shape[b] - offset) if offset >= 0 else min(x._shape[a] + offset, x._shape[b]))
    rest = tuple(s for i, s in enumerate(x._shape) if i not in (a, b))
    return _view(x, rest + (n,))


@_rule("diag")
def diag(args: tuple, kwargs: dict) -> MetaTensor:
    x = args[0]
    k = int(_arg(args, kwargs, 1, "diagonal", 0))
    if x.dim() == 1:
        n = x._shape[0] + abs(k)
        return MetaTensor((n, n), x._dtype)
    if x.dim() != 2:
        raise RuntimeError("diag(): Supports 1D or 2D tensors. Got " + f"{x.dim()}D")
    return MetaTensor(diagonal((x, k, 0, 1), {})._shape, x._dtype)


@_rule("as_strided")
def as_strided(args: tuple, kwargs: dict) -> MetaTensor:
    """A view with the sizes and strides given (a meta tensor has no storage to bound them by)."""
    x = args[0]
    size = tuple(_arg(args, kwargs, 1, "size"))
    stride = tuple(_arg(args, kwargs, 2, "stride"))
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    return MetaTensor(size, x._dtype, strides=stride, base=x)


@_rule("diag_embed")
def diag_embed(args: tuple, kwargs: dict) -> MetaTensor:
    """The last dim's n values on a diagonal of an (n + |offset|)-square plane at dims dim1, dim2 of the
    result; the other dims are the input's leading ones, in order."""
    x = args[0]
    offset = int(_arg(args, kwargs, 1, "offset", 0))
    rank = x.dim() + 1
    a = _wrap_dim(_arg(args, kwargs, 2, "dim1", -2), rank, "diag_embed")
    b = _wrap_dim(_arg(args, kwargs, 3, "dim2", -1), rank, "diag_embed")
    if a == b:
        raise RuntimeError(f"diagonal dimensions cannot be identical {a}, {b}")
    n = x._shape[-1] + abs(offset)
    lead = iter(x._shape[:-1])
    return MetaTensor(tuple(n if i in (a, b) else next(lead) for i in range(rank)), x._dtype)


@_rule("result_type")
def result_type(args: tuple, kwargs: dict) -> Any:
    """A dtype, not a tensor: PyTorch's promotion of the operands' dtypes, each meta operand standing in
    as an empty CPU tensor of its dtype and tier (0-d or not)."""
    from . import _C

    def stand_in(x: Any) -> Any:
        return _C._empty(() if x.dim() == 0 else (0,), x._dtype) if isinstance(x, MetaTensor) else x

    return _C.result_type(*(stand_in(a) for a in args), **{k: stand_in(v) for k, v in kwargs.items()})


@_rule("repeat_interleave")
def repeat_interleave(args: tuple, kwargs: dict) -> MetaTensor:
    x = args[0]
    repeats = _arg(args, kwargs, 1, "repeats")
    d = _arg(args, kwargs, 2, "dim")
    size = kwargs.get("output_size")
    if is_tensor(repeats) and repeats.dim() > 0:
        if size is None:
            raise NotImplementedError(
                "ember: repeat_interleave on meta tensors with a tensor of repeats needs output_size= (the result's "
                "size depends on the repeats' values)"
            )
    if d is None:
        n = x.numel()
        return MetaTensor((size if size is not None else n * int(repeats),), x._dtype)
    d = _wrap_dim(d, x.dim(), "repeat_interleave")
    n = size if size is not None else x._shape[d] * int(repeats)
    return MetaTensor(x._shape[:d] + (n,) + x._shape[d + 1 :], x._dtype)


# ------------------------------------------------------------------------------------ indexing
@_rule("__getitem__")
def getitem(args: tuple, kwargs: dict) -> MetaTensor:
    x, index = args
    items = list(_C._index_as_tuple(index))
    if any(isinstance(e, bool) or (is_tensor(e) and e.dtype.name == "bool") for e in items):
        raise NotImplementedError(
            "ember: indexing a meta tensor with a boolean mask (the result depends on the values)"
        )
    used = sum(1 for e in items if e is not None and e is not Ellipsis)
    if used > x.dim():
        raise IndexError(f"too many indices for tensor of dimension {x.dim()}")
    if Ellipsis in items:
        at = items.index(Ellipsis)
        items = items[:at] + [slice(None)] * (x.dim() - used) + items[at + 1 :]
    else:
        items = items + [slice(None)] * (x.dim() - used)
    shape: list[int] = []
    advanced: list[tuple] = []
    adv_at = None
    d = 0
    for e in items:
        if e is None:
            shape.append(1)
        elif isinstance(e, numbers.Integral):
            if not -x._shape[d] <= e < x._shape[d]:
                raise IndexError(f"index {e} is out of bounds for dimension {d} with size {x._shape[d]}")
            d += 1
        elif isinstance(e, slice):
            shape.append(len(range(*e.indices(x._shape[d]))))
            d += 1
        else:  # an integer tensor or list: advanced indexing
            advanced.append(tuple(e.shape) if is_tensor(e) else tuple(_list_shape(e)))
            adv_at = len(shape) if adv_at is None else adv_at
            d += 1
    if advanced:
        import numpy as np

        lead = tuple(np.broadcast_shapes(*advanced))
        shape[adv_at:adv_at] = lead
    return _view(x, tuple(shape))


def _list_shape(e: Any) -> list[int]:
    import numpy as np

    return list(np.shape(e))


@_rule("__setitem__")
def setitem(args: tuple, kwargs: dict) -> None:
    getitem(args[:2], {})  # the same index checks
    return None


# ----------------------------------------------------------------------------- split and join
@_rule("split", "unsafe_split")
def split(args: tuple, kwargs: dict) -> tuple:
    x = args[0]
    size = _arg(args, kwargs, 1, "split_size_or_sections", kwargs.get("split_size"))
    d = _wrap_dim(_arg(args, kwargs, 2, "dim", 0), x.dim(), "split")
    n = x._shape[d]
    sizes = list(size) if isinstance(size, (list, tuple)) else [min(size, n - i) for i in range(0, max(n, 1), size)]
    return _pieces(x, d, sizes)


@_rule("split_with_sizes", "unsafe_split_with_sizes")
def split_with_sizes(args: tuple, kwargs: dict) -> tuple:
    x = args[0]
    return _pieces(
        x, _wrap_dim(_arg(args, kwargs, 2, "dim", 0), x.dim(), "split"), list(_arg(args, kwargs, 1, "split_sizes"))
    )


@_rule("chunk", "unsafe_chunk")
def chunk(args: tuple, kwargs: dict) -> tuple:
    x = args[0]
    chunks = int(_arg(args, kwargs, 1, "chunks"))
    d = _wrap_dim(_arg(args, kwargs, 2, "dim", 0), x.dim(), "chunk")
    step = -(-x._shape[d] // chunks)
    return split((x, step, d), {})


def _pieces(x: MetaTensor, d: int, sizes: list[int]) -> tuple:
    if sum(sizes) != x._shape[d]:
        raise RuntimeError(
            f"split_with_sizes expects split_sizes to sum exactly to {x._shape[d]} (input tensor's size at dimension "
            f"{d}), but got split_sizes={sizes}"
        )
    return tuple(_view(x, x._shape[:d] + (s,) + x._shape[d + 1 :], x._strides) for s in sizes)


@_rule("unbind")
def unbind(args: tuple, kwargs: dict) -> tuple:
    x = args[0]
    d = _wrap_dim(_arg(args, kwargs, 1, "dim", 0), x.dim(), "unbind")
    return tuple(select((x, d, i), {}) for i in range(x._shape[d]))


def _joined_dtype(tensors: list) -> Any:
    import ember

    return ember.cat([ember.ones(1, dtype=t.dtype, device="cpu") for t in tensors]).dtype


@_rule("cat", "concat", "concatenate")
def cat(args: tuple, kwargs: dict) -> MetaTensor:
    tensors = list(_arg(args, kwargs, 0, "tensors"))
    d = _arg(args, kwargs, 1, "dim", kwargs.get("axis", 0))
    return _join([tuple(t.shape) for t in tensors], d, _joined_dtype(tensors), stack=False)


@_rule("stack")
def stack(args: tuple, kwargs: dict) -> MetaTensor:
    tensors = list(_arg(args, kwargs, 0, "tensors"))
    d = _arg(args, kwargs, 1, "dim", kwargs.get("axis", 0))
    return _join([tuple(t.shape) for t in tensors], d, _joined_dtype(tensors), stack=True)


def _join(shapes: list[tuple], d: int, dtype: Any, stack: bool) -> MetaTensor:
    if stack:
        if len(set(shapes)) != 1:
            k = next(i for i, s in enumerate(shapes) if s != shapes[0])
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(shapes[0])} at entry 0 and "
                f"{list(shapes[k])} at entry {k}"
            )
        d = _wrap_dim(d, len(shapes[0]) + 1, "stack")
        return MetaTensor(shapes[0][:d] + (len(shapes),) + shapes[0][d:], dtype)
    shapes = [s for s in shapes if s != (0,)]
    rank = len(shapes[0])
    d = _wrap_dim(d, rank, "cat")
    for s in shapes:
        if len(s) != rank or any(a != b for i, (a, b) in enumerate(zip(s, shapes[0])) if i != d):
            raise RuntimeError(
                f"Sizes of tensors must match except in dimension {d}. Expected size {shapes[0]} but got size {s} for "
                "a tensor in the list."
            )
    return MetaTensor(shapes[0][:d] + (sum(s[d] for s in shapes),) + shapes[0][d + 1 :], dtype)


@_rule("repeat")
def repeat(args: tuple, kwargs: dict) -> MetaTensor:
    x = args[0]
    reps = _sizes(args[1:], kwargs, "repeats")
    if len(reps) < x.dim():
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    shape = (1,) * (len(reps) - x.dim()) + x._shape
    return MetaTensor(tuple(s * r for s, r in zip(shape, reps)), x._dtype)


@_rule("tile")
def tile(args: tuple, kwargs: dict) -> MetaTensor:
    x = args[0]
    reps = _sizes(args[1:], kwargs, "dims")
    reps = (1,) * (x.dim() - len(reps)) + reps
    return repeat((x, *reps), {})


@_rule("topk")
def topk(args: tuple, kwargs: dict) -> Any:
    import ember

    x = args[0]
    k = int(_arg(args, kwargs, 1, "k"))
    d = _wrap_dim(_arg(args, kwargs, 2, "dim", -1), x.dim(), "topk")
    if k > (x._shape[d] if x.dim() else 1):
        raise RuntimeError("selected index k out of range")
    shape = x._shape[:d] + (k,) + x._shape[d + 1 :] if x.dim() else ()
    kind = type(ember.topk(ember.ones(2, device="cpu"), 1))
    return kind(MetaTensor(shape, x._dtype), MetaTensor(shape, ember.int64))


@_rule("kthvalue")
def kthvalue(args: tuple, kwargs: dict) -> Any:
    import ember

    x = args[0]
    k = int(_arg(args, kwargs, 1, "k"))
    d = _wrap_dim(_arg(args, kwargs, 2, "dim", -1), x.dim(), "kthvalue")
    keepdim = bool(_arg(args, kwargs, 3, "keepdim", False))
    if not 1 <= k <= (x._shape[d] if x.dim() else 1):
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    shape = (x._shape[:d] + ((1,) if keepdim else ()) + x._shape[d + 1 :]) if x.dim() else ()
    kind = type(ember.kthvalue(ember.ones(2, device="cpu"), 1))
    return kind(MetaTensor(shape, x._dtype), MetaTensor(shape, ember.int64))


# ------------------------------------------------------------------------------------------ nn
def _pair(v: Any) -> tuple:
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def _window_out(size: int, k: int, s: int, p: int, d: int, ceil: bool = False) -> int:
    span = size + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil else span // s) + 1
    if ceil and (out - 1) * s >= size + p:
        out -= 1
    return out


@_rule("conv2d")
def conv2d(args: tuple, kwargs: dict) -> MetaTensor:
    names = ("input", "weight", "bias", "stride", "padding", "dilation", "groups")
    bound = {**dict(zip(names, args)), **kwargs}
    x, w = bound["input"], bound["weight"]
    stride, dilation = _pair(bound.get("stride", 1)), _pair(bound.get("dilation", 1))
    padding = bound.get("padding", 0)
    batched = x.dim() == 4
    n, (c, h, wd) = (x.shape[0] if batched else None), tuple(x.shape[-3:])
    if c != w.shape[1] * bound.get("groups", 1):
        raise RuntimeError(
            f"Given groups={bound.get('groups', 1)}, weight of size {list(w.shape)}, expected input{list(x.shape)} to "
            f"have {w.shape[1] * bound.get('groups', 1)} channels, but got {c} channels instead"
        )
    k = tuple(w.shape[2:])
    if padding == "same":
        out = (h, wd)
    else:
        pad = (0, 0) if padding == "valid" else _pair(padding)
        out = tuple(_window_out(sz, kk, s, p, d) for sz, kk, s, p, d in zip((h, wd), k, stride, pad, dilation))
    shape = ((n,) if batched else ()) + (w.shape[0],) + out
    return MetaTensor(shape, x.dtype)


@_rule("max_pool2d")
def max_pool2d(args: tuple, kwargs: dict) -> Any:
    names = ("input", "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices")
    bound = {**dict(zip(names, args)), **kwargs}
    x = bound["input"]
    k = _pair(bound["kernel_size"])
    stride = _pair(bound.get("stride") or k)
    pad, dil = _pair(bound.get("padding", 0)), _pair(bound.get("dilation", 1))
    out = tuple(
        _window_out(sz, kk, s, p, d, bool(bound.get("ceil_mode", False)))
        for sz, kk, s, p, d in zip(tuple(x.shape[-2:]), k, stride, pad, dil)
    )
    shape = tuple(x.shape[:-2]) + out
    if bound.get("return_indices"):
        import ember

        return MetaTensor(shape, x.dtype), MetaTensor(shape, ember.int64)
    return MetaTensor(shape, x.dtype)


# ---------------------------------------------------------------------------------- creation
@_rule("new_zeros", "new_ones", "new_empty")
def new(args: tuple, kwargs: dict) -> Any:
    x = args[0]
    shape = _sizes(args[1:], kwargs, "size")
    return _made(x, shape, kwargs)


@_rule("new_full")
def new_full(args: tuple, kwargs: dict) -> Any:
    x = args[0]
    return _made(x, tuple(_arg(args, kwargs, 1, "size")), kwargs)


def _made(x: MetaTensor, shape: tuple, kwargs: dict) -> Any:
    device = kwargs.get("device")
    dtype = kwargs.get("dtype") or x._dtype
    if device is not None and str(device) != "meta":
        import ember

        return ember.zeros(shape, dtype=dtype, device=device)
    return MetaTensor(shape, dtype, bool(kwargs.get("requires_grad", False)))


@_rule("size")
def size(args: tuple, kwargs: dict) -> Any:
    return args[0].size(*args[1:], **kwargs)


@_rule("numel")
def numel(args: tuple, kwargs: dict) -> int:
    return args[0].numel()


@_rule("dim")
def dim(args: tuple, kwargs: dict) -> int:
    return args[0].dim()


@_rule("_lstm_layer")
def lstm_layer(args: tuple, kwargs: dict) -> tuple:
    """One LSTM layer's time loop: xw (T, B, 4H), or (N, 4H) packed, h0 and c0 (B, H) -> out (T, B, H) or
    (N, H), h_n, c_n."""
    out, h_n = gru_layer(args, kwargs)
    return out, h_n, MetaTensor(tuple(h_n.shape), h_n.dtype)


@_rule("_gru_layer", "_rnn_layer")
def gru_layer(args: tuple, kwargs: dict) -> tuple:
    """One GRU or Elman RNN layer's time loop: xw (T, B, 3H or H), or (N, 3H or H) packed, h0 (B, H) -> out
    (T, B, H) or (N, H), h_n."""
    xw, h0 = args[0], args[1]
    hidden = h0.shape[1]
    return MetaTensor((*xw.shape[:-1], hidden), xw.dtype), MetaTensor(tuple(h0.shape), xw.dtype)


@_rule("_lstm_cell")
def lstm_cell(args: tuple, kwargs: dict) -> tuple:
    """One LSTM step after the gate pre-activations (B, 4H): (h, c), each shaped like c_prev."""
    c_prev = args[1]
    return MetaTensor(tuple(c_prev.shape), c_prev.dtype), MetaTensor(tuple(c_prev.shape), c_prev.dtype)
