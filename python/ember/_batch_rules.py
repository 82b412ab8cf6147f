"""Batching rules: how each op runs on batched values (Note [Batched tensors]).

A rule gets the call (``op``: name, method or function, level) and the arguments as the user
passed them; ``op.unwrap`` gives a BatchedTensor's value (batch at dim 0), ``op(...)`` runs the
op, ``op.wrap`` makes results BatchedTensors. Families:

- elementwise: operands broadcast as one entry's would once each batched value has as many
  dims as the widest operand (size-1 dims inserted after its batch dim);
- dims: one input and dim arguments: each dim moves past the batch dim; "all dims" becomes the
  tuple of every dim but the batch;
- shapes and views: sizes gain the batch in front;
- decompositions: an op written with other ops on the BatchedTensors themselves (outer, addmm,
  losses), so their rules apply;
- random: rand_like and friends under the level's randomness mode.
"""

from __future__ import annotations

from typing import Any, Callable

from . import _C
from ._batched import RULES, BatchedTensor, Op, fallback, is_tensor, per_entry, raise_inplace_error, registrar
from ._composite_shape import broadcast_shapes
from ._creation import _size, arange

# Module functions bound outside the op registry that take tensors (fused nn ops): they get the
# catch-all overload at import (Note [Batched dispatch]).
UNREGISTERED = """_binary_cross_entropy _binary_cross_entropy_with_logits _elu _gelu _gru_layer _hardtanh _leaky_relu
_logsigmoid _lstm_cell _lstm_layer _mse_loss _native_batch_norm _nll_loss _rnn_layer _silu _smooth_l1_loss _softplus
_special_xlog1py _special_zeta _cuda_random_ _pin_memory _is_pinned
_special_i0e _special_i1 _special_i1e _special_erfcx _special_bessel_j0 _special_bessel_j1 _special_bessel_y0
_special_bessel_y1 _special_modified_bessel_i0 _special_modified_bessel_i1 _special_modified_bessel_k0
_special_modified_bessel_k1 _special_scaled_modified_bessel_k0 _special_scaled_modified_bessel_k1
_special_airy_ai _special_spherical_bessel_j0 _native_layer_norm _native_group_norm _im2col _col2im""".split()


def _rule(*names: str) -> Callable[[Callable], Callable]:
    return registrar(RULES, *names)


def _logical_dim(x: Any, op: Op) -> int:
    v, b = op.unwrap(x)
    return v.dim() - 1 if b else v.dim()


def _pad(v: Any, k: int) -> Any:
    """A batched value with k size-1 dims inserted after its batch dim (a view)."""
    for _ in range(k):
        v = v.unsqueeze(1)
    return v


def _is_inplace(op: Op) -> bool:
    n = op.name
    return op.method and ((n.endswith("_") and not n.startswith("__")) or (n.startswith("__i") and n != "__invert__"))


def _check_inplace(op: Op, args: tuple) -> None:
    if _is_inplace(op) and not op.unwrap(args[0])[1]:
        raise_inplace_error(op.name)


# ------------------------------------------------------------------------------- elementwise
_ELEMENTWISE = """
add sub mul div true_divide floor_divide remainder fmod atan2 hypot logaddexp logaddexp2 xlogy igamma igammac
pow maximum minimum neg abs sqrt rsqrt exp log log1p expm1 sin cos tan tanh sigmoid sign reciprocal erf square
floor ceil trunc frac asin acos atan sinh cosh asinh acosh atanh log2 log10 exp2 erfc erfinv lgamma digamma round
polygamma mvlgamma nan_to_num clamp_min clamp_max lerp addcmul addcdiv relu clamp where
eq ne lt le gt ge logical_and logical_or logical_xor logical_not bitwise_and bitwise_or bitwise_xor
bitwise_left_shift bitwise_right_shift bitwise_not isnan isinf isfinite signbit copy_ fill_ zero_
masked_fill float double long int bool type_as _to_dtype contiguous clone detach
_silu _gelu _elu _softplus _leaky_relu _hardtanh _logsigmoid _special_xlog1py _special_zeta
i0 _special_i0e _special_i1 _special_i1e _special_erfcx _special_bessel_j0 _special_bessel_j1 _special_bessel_y0
_special_bessel_y1 _special_modified_bessel_i0 _special_modified_bessel_i1 _special_modified_bessel_k0
_special_modified_bessel_k1 _special_scaled_modified_bessel_k0 _special_scaled_modified_bessel_k1
_special_airy_ai _special_spherical_bessel_j0
__add__ __radd__ __sub__ __rsub__ __mul__ __rmul__ __truediv__ __rtruediv__ __pow__ __rpow__
__eq__ __ne__ __lt__ __le__ __gt__ __ge__ __and__ __rand__ __or__ __ror__ __xor__ __rxor__
__lshift__ __rlshift__ __rshift__ __rrshift__ __floordiv__ __rfloordiv__ __mod__ __rmod__
__iadd__ __isub__ __imul__ __itruediv__ __ipow__ __ifloordiv__ __imod__ __iand__ __ior__ __ixor__
__ilshift__ __irshift__ __neg__ __pos__ __abs__ __invert__
""".split()


def elementwise(op: Op, args: tuple, kwargs: dict) -> Any:
    """Operands broadcast as one batch entry's would: each batched value gets as many dims as the
    widest operand, so right-aligned broadcasting never pairs a batch dim with a logical one."""
    _check_inplace(op, args)
    operands = [*args, *kwargs.values()]
    width = max((_logical_dim(x, op) for x in operands if is_tensor(x)), default=0)

    def lower(x: Any) -> Any:
        v, batched = op.unwrap(x)
        return _pad(v, width - (v.dim() - 1)) if batched else v

    result = op(*(lower(a) for a in args), **{k: lower(v) for k, v in kwargs.items()})
    if _is_inplace(op):
        return args[0]
    return op.wrap(result)


_rule(*_ELEMENTWISE)(elementwise)
for _name in _ELEMENTWISE:
    if not _name.startswith("_") and not _name.endswith("_"):
        RULES[_name + "_"] = elementwise  # the in-place method forms


# ------------------------------------------------------------------------------------ dims
class _Dims:
    """Where an op's dim arguments are: positional index (after input) and keyword, the default
    when absent ("all": every logical dim; an int; or None: the op needs none), whether a tuple
    of dims is accepted, and whether the op adds a dim (unsqueeze: the rank to wrap against is +1)."""

    def __init__(self, pos: int, kw: str = "dim", default: Any = "all", tuple_ok: bool = True, extra: int = 0):
        self.pos, self.kw, self.default, self.tuple_ok, self.extra = pos, kw, default, tuple_ok, extra


_DIM_OPS = {
    **{n: _Dims(1) for n in "sum mean amax amin nansum nanmean var std var_mean std_mean count_nonzero".split()},
    "logsumexp": _Dims(1, default=None),
    "norm": _Dims(2),
    **{n: _Dims(1, tuple_ok=False) for n in "prod argmax argmin all any median nanmedian".split()},
    **{
        n: _Dims(1, default=None)
        for n in "softmax log_softmax _safe_softmax cumsum cumprod logcumsumexp cummax cummin".split()
    },
    **{n: _Dims(1, default=-1) for n in "sort argsort".split()},
    **{n: _Dims(2, default=-1) for n in "topk kthvalue".split()},
    "squeeze": _Dims(1, default="squeeze"),
    "unsqueeze": _Dims(1, default=None, extra=1),
    "select": _Dims(1, default=None),
    "narrow": _Dims(1, default=None),
    "index_select": _Dims(1, default=None),
    "split": _Dims(2, default=0),
    "split_with_sizes": _Dims(2, default=0),
    "unsafe_split": _Dims(2, default=0),
    "unsafe_split_with_sizes": _Dims(2, default=0),
    "chunk": _Dims(2, default=0),
    "unsafe_chunk": _Dims(2, default=0),
    "unbind": _Dims(1, default=0),
    "flip": _Dims(1, kw="dims", default=None),
    "repeat_interleave": _Dims(2, default="flat"),
    "cumulative_trapezoid": _Dims(2, default=-1),
}


def _shift(d: Any, rank: int, name: str) -> Any:
    from ._batched import _wrap_dim

    if isinstance(d, (tuple, list)):
        return tuple(_wrap_dim(int(e), rank, name) + 1 for e in d)
    return _wrap_dim(int(d), rank, name) + 1


def dims(op: Op, args: tuple, kwargs: dict) -> Any:
    spec = _DIM_OPS[op.name]
    v, batched = op.unwrap(args[0])
    others = [*args[1:], *kwargs.values()]
    if not batched or any(type(a) is BatchedTensor and a._level is op.level for a in others):
        return fallback(op, args, kwargs)  # a batched index (index_select) or k tensor
    rank = v.dim() - 1 + spec.extra
    rest, kwargs = list(args[1:]), dict(kwargs)
    if "axis" in kwargs:
        kwargs["dim"] = kwargs.pop("axis")
    if "keepdims" in kwargs:
        kwargs["keepdim"] = kwargs.pop("keepdims")
    at = spec.pos - 1
    if at < len(rest):
        d = rest[at]
    else:
        d = kwargs.get(spec.kw, _ABSENT)
    if d is _ABSENT or d is None:
        if spec.default == "all":
            if v.dim() == 1 or not spec.tuple_ok:
                flat_rest, flat_kwargs = _with_dim(rest, kwargs, at, spec.kw, 1)
                result = op(v.reshape(v.shape[0], -1), *flat_rest, **flat_kwargs)
                if op.name in ("median", "nanmedian"):  # without a dim: the value alone
                    result = result[0]
                return _keepdim_all(op, result, v, kwargs)
            d = tuple(range(rank))
        elif spec.default == "squeeze":
            d = tuple(i for i, s in enumerate(v.shape[1:]) if s == 1)
            if not d:
                return op.wrap(v)
        elif spec.default == "flat":
            flat_rest, flat_kwargs = _with_dim(rest, kwargs, at, spec.kw, 1)
            return op.wrap(op(v.reshape(v.shape[0], -1), *flat_rest, **flat_kwargs))
        elif spec.default is None:
            if op.name in ("softmax", "log_softmax"):
                d = 0 if rank in (0, 1, 3) else 1  # PyTorch's legacy implicit dim
            else:
                return fallback(op, args, kwargs)
        else:
            d = spec.default
    if rank == 0 and spec.extra == 0:
        return _scalar_dim_op(op, v, *_with_dim(rest, kwargs, at, spec.kw, 1))
    rest, kwargs = _with_dim(rest, kwargs, at, spec.kw, _shift(d, rank, op.name))
    return op.wrap(op(v, *rest, **kwargs))


_ABSENT = object()


def _with_dim(rest: list, kwargs: dict, at: int, key: str, value: Any) -> tuple[list, dict]:
    """The arguments after input with the dim argument (positional index `at`, keyword `key`) set to value."""
    rest, kwargs = list(rest), dict(kwargs)
    if at < len(rest):
        rest[at] = value
    else:
        kwargs[key] = value
    return rest, kwargs


def _keepdim_all(op: Op, result: Any, v: Any, kwargs: dict) -> Any:
    """A reduction of every logical dim computed over a flattened view: with keepdim, reshape to
    one size-1 dim per logical dim."""
    if not kwargs.get("keepdim"):
        return op.wrap(result)
    shape = (v.shape[0],) + (1,) * (v.dim() - 1)
    if isinstance(result, tuple):
        return op.wrap(type(result)(*(r.reshape(shape) for r in result)))
    return op.wrap(result.reshape(shape))


def _scalar_dim_op(op: Op, v: Any, rest: list, kwargs: dict) -> Any:
    """An op with a dim on 0-d entries: computed on (B, 1) at dim 1 (set in rest/kwargs), then
    the size-1 dim removed where the op kept it."""
    result = op(v.unsqueeze(1), *rest, **kwargs)

    def drop(r: Any) -> Any:
        return r.squeeze(1) if is_tensor(r) and r.dim() == 2 else r

    if isinstance(result, tuple):
        items = [drop(r) for r in result]
        return op.wrap(type(result)(*items) if hasattr(result, "_fields") else tuple(items))
    return op.wrap(drop(result))


_rule(*_DIM_OPS)(dims)


@_rule("msort")
def msort(op: Op, args: tuple, kwargs: dict) -> Any:
    return args[0].sort(0)[0]  # sort's rule


@_rule("max", "min")
def max_min(op: Op, args: tuple, kwargs: dict) -> Any:
    """max/min: elementwise with a tensor `other`, a reduction with a dim, of every dim without."""
    other = args[1] if len(args) > 1 else kwargs.get("other")
    if is_tensor(other):
        return elementwise(op, args, kwargs)
    v, batched = op.unwrap(args[0])
    if not batched:
        return fallback(op, args, kwargs)
    d = args[1] if len(args) > 1 else kwargs.get("dim", kwargs.get("axis"))
    if d is None:
        return op.wrap(getattr(_C, "amax" if op.name == "max" else "amin")(v.reshape(v.shape[0], -1), 1))
    keepdim = args[2] if len(args) > 2 else kwargs.get("keepdim", kwargs.get("keepdims", False))
    if v.dim() == 1:  # a 0-d entry: its own max, at index 0
        return op.wrap(op(v.unsqueeze(1), 1, False))
    return op.wrap(op(v, _shift(d, v.dim() - 1, op.name), keepdim))


# --------------------------------------------------------------------------- shapes and views
def _sizes(args: tuple) -> tuple:
    """The sizes of view(2, 3) or view((2, 3)), as the creation functions read theirs."""
    return tuple(_size(args))


@_rule("view", "reshape")
def view(op: Op, args: tuple, kwargs: dict) -> Any:
    v, _ = op.unwrap(args[0])
    if len(args) == 2 and isinstance(args[1], _C.dtype):
        return fallback(op, args, kwargs)  # view(dtype)
    shape = _sizes(args[1:]) if len(args) > 1 else tuple(kwargs.get("shape", kwargs.get("size", ())))
    return op.wrap(op(v, (v.shape[0], *shape)))


@_rule("view_as", "reshape_as", "expand_as")
def view_as(op: Op, args: tuple, kwargs: dict) -> Any:
    other = args[1] if len(args) > 1 else kwargs["other"]
    name = {"view_as": "view", "reshape_as": "reshape", "expand_as": "expand"}[op.name]
    return getattr(args[0], name)(tuple(other.shape)) if type(args[0]) is BatchedTensor else fallback(op, args, kwargs)


@_rule("expand", "broadcast_to")
def expand(op: Op, args: tuple, kwargs: dict) -> Any:
    v, batched = op.unwrap(args[0])
    shape = _sizes(args[1:]) if len(args) > 1 else tuple(kwargs.get("size", kwargs.get("shape", ())))
    if not batched:
        return fallback(op, args, kwargs)
    v = _pad(v, len(shape) - (v.dim() - 1))
    return op.wrap(v.expand(v.shape[0], *shape))


@_rule("permute")
def permute(op: Op, args: tuple, kwargs: dict) -> Any:
    v, _ = op.unwrap(args[0])
    order = _sizes(args[1:]) if len(args) > 1 else tuple(kwargs["dims"])
    rank = v.dim() - 1
    return op.wrap(v.permute(0, *_shift(order, rank, "permute")))


@_rule("transpose", "swapaxes", "swapdims", "movedim", "moveaxis")
def two_dims(op: Op, args: tuple, kwargs: dict) -> Any:
    v, batched = op.unwrap(args[0])
    if not batched:
        return fallback(op, args, kwargs)
    rank = v.dim() - 1
    a = args[1] if len(args) > 1 else kwargs.get("dim0", kwargs.get("source", kwargs.get("axis0")))
    b = args[2] if len(args) > 2 else kwargs.get("dim1", kwargs.get("destination", kwargs.get("axis1")))
    if rank == 0:
        return op.wrap(v)
    return op.wrap(op(v, _shift(a, rank, op.name), _shift(b, rank, op.name)))


@_rule("t")
def t(op: Op, args: tuple, kwargs: dict) -> Any:
    v, _ = op.unwrap(args[0])
    if v.dim() - 1 < 2:
        return op.wrap(v)
    return op.wrap(v.transpose(1, 2))


@_rule("flatten")
def flatten(op: Op, args: tuple, kwargs: dict) -> Any:
    v, _ = op.unwrap(args[0])
    rank = v.dim() - 1
    start = args[1] if len(args) > 1 else kwargs.get("start_dim", 0)
    end = args[2] if len(args) > 2 else kwargs.get("end_dim", -1)
    if rank == 0:
        return op.wrap(v.reshape(v.shape[0], 1))
    return op.wrap(v.flatten(_shift(start, rank, "flatten"), _shift(end, rank, "flatten")))


@_rule("unflatten")
def unflatten(op: Op, args: tuple, kwargs: dict) -> Any:
    v, _ = op.unwrap(args[0])
    d = args[1] if len(args) > 1 else kwargs["dim"]
    sizes = args[2] if len(args) > 2 else kwargs["sizes"]
    return op.wrap(v.unflatten(_shift(d, v.dim() - 1, "unflatten"), sizes))


@_rule("diagonal")
def diagonal(op: Op, args: tuple, kwargs: dict) -> Any:
    v, _ = op.unwrap(args[0])
    rank = v.dim() - 1
    offset = args[1] if len(args) > 1 else kwargs.get("offset", 0)
    d1 = args[2] if len(args) > 2 else kwargs.get("dim1", 0)
    d2 = args[3] if len(args) > 3 else kwargs.get("dim2", 1)
    return op.wrap(v.diagonal(offset, _shift(d1, rank, "diagonal"), _shift(d2, rank, "diagonal")))


@_rule("diag_embed")
def diag_embed(op: Op, args: tuple, kwargs: dict) -> Any:
    v, _ = op.unwrap(args[0])
    if args[1:] or kwargs:
        return fallback(op, args, kwargs)
    return op.wrap(_C.diag_embed(v))


@_rule("tril", "triu")
def tril(op: Op, args: tuple, kwargs: dict) -> Any:
    v, _ = op.unwrap(args[0])
    return op.wrap(op(v, *args[1:], **kwargs))  # acts on the last two dims


@_rule("trace")
def trace(op: Op, args: tuple, kwargs: dict) -> Any:
    return args[0].diagonal().sum(-1)


@_rule("roll")
def roll(op: Op, args: tuple, kwargs: dict) -> Any:
    v, _ = op.unwrap(args[0])
    shifts = args[1] if len(args) > 1 else kwargs["shifts"]
    d = args[2] if len(args) > 2 else kwargs.get("dims")
    if d is None:
        flat = v.reshape(v.shape[0], -1)
        return op.wrap(flat.roll(shifts, 1).reshape(v.shape))
    return op.wrap(v.roll(shifts, _shift(d, v.dim() - 1, "roll")))


@_rule("is_contiguous", "stride", "storage_offset", "is_inference", "is_non_overlapping_and_dense")
def layout_query(op: Op, args: tuple, kwargs: dict) -> Any:
    """Answered for one example's view, as PyTorch's batched tensors answer it: each example's view of a batch
    has its strides and contiguity, and the first's offset is the batch's (F.linear asks is_contiguous)."""
    v, batched = op.unwrap(args[0])
    return op(v.select(0, 0) if batched else args[0], *args[1:], **kwargs)


@_rule("repeat", "tile")
def repeat(op: Op, args: tuple, kwargs: dict) -> Any:
    v, batched = op.unwrap(args[0])
    reps = _sizes(args[1:]) if len(args) > 1 else tuple(kwargs.get("repeats", kwargs.get("dims", ())))
    if not batched:
        return fallback(op, args, kwargs)
    rank = v.dim() - 1
    if op.name == "tile" and len(reps) < rank:
        reps = (1,) * (rank - len(reps)) + reps
    v = _pad(v, len(reps) - rank)
    return op.wrap(v.repeat(1, *reps))


@_rule("fliplr", "flipud", "rot90")
def flip_family(op: Op, args: tuple, kwargs: dict) -> Any:
    x = args[0]
    if op.name == "fliplr":
        return x.flip(1)
    if op.name == "flipud":
        return x.flip(0)
    # rot90 as flips and a transpose of the logical dims (each has a rule)
    k = (args[1] if len(args) > 1 else kwargs.get("k", 1)) % 4
    d0, d1 = args[2] if len(args) > 2 else kwargs.get("dims", (0, 1))
    if k == 1:
        return x.flip(d1).transpose(d0, d1)
    if k == 2:
        return x.flip((d0, d1))
    if k == 3:
        return x.transpose(d0, d1).flip(d1)
    return x.clone()


@_rule("as_strided")
def as_strided(op: Op, args: tuple, kwargs: dict) -> Any:
    """Each entry's view of its own storage: the batch dim strides as the value's (the entries' default
    offsets step by it); an explicit storage_offset is the same storage position for every entry."""
    v, batched = op.unwrap(args[0])
    size = tuple(args[1] if len(args) > 1 else kwargs["size"])
    stride = tuple(args[2] if len(args) > 2 else kwargs["stride"])
    offset = args[3] if len(args) > 3 else kwargs.get("storage_offset")
    if not batched:
        return fallback(op, args, kwargs)
    if offset is None:
        return op.wrap(v.as_strided((op.size, *size), (v.stride(0), *stride), v.storage_offset()))
    return op.wrap(v.as_strided((op.size, *size), (0, *stride), offset))


@_rule("take")
def take(op: Op, args: tuple, kwargs: dict) -> Any:
    """take(input, index): the flattened input indexed (getitem's rules, batched indices included)."""
    x, index = args[0], args[1] if len(args) > 1 else kwargs["index"]
    return x.reshape(-1)[index]


@_rule("bucketize", "isin")
def against_a_fixed_set(op: Op, args: tuple, kwargs: dict) -> Any:
    """bucketize(input, boundaries) / isin(elements, test_elements): elementwise in their first
    operand, whose batch passes through when the set it is compared with is unbatched."""
    other = args[1] if len(args) > 1 else kwargs.get("boundaries", kwargs.get("test_elements"))
    v, batched = op.unwrap(args[0])
    if not batched or (type(other) is BatchedTensor and other._level is op.level):
        return fallback(op, args, kwargs)
    return op.wrap(op(v, *args[1:], **kwargs))


@_rule("searchsorted")
def searchsorted(op: Op, args: tuple, kwargs: dict) -> Any:
    """searchsorted(sorted_sequence, values). An unbatched 1-D sequence is searched for the batched values
    as they are; a batched sequence becomes an N-D one, its rows searched for the values of the same
    leading dims (a per-entry 1-D sequence expanded over the values' leading dims)."""
    seq = args[0] if args else kwargs["sorted_sequence"]
    values = args[1] if len(args) > 1 else kwargs["input"]
    s, seq_batched = op.unwrap(seq)
    v, batched = op.unwrap(values)
    rest = {k: a for k, a in kwargs.items() if k not in ("sorted_sequence", "input")}
    if len(args) > 2 or rest.get("sorter") is not None or not is_tensor(values):
        return fallback(op, args, kwargs)
    if not seq_batched:
        if not batched or s.dim() != 1:
            return fallback(op, args, kwargs)
        return op.wrap(op(s, v, **rest))
    v = op.batched(values)
    if v.dim() == 1:  # a number per entry: a one-value row
        return op.wrap(op(s, v.unsqueeze(-1), **rest).squeeze(-1))
    if s.dim() == 2 and v.dim() > 2:
        s = s.reshape(s.shape[0], *([1] * (v.dim() - 2)), s.shape[-1]).expand(*v.shape[:-1], s.shape[-1])
    if s.dim() != v.dim():
        return fallback(op, args, kwargs)
    return op.wrap(op(s.contiguous(), v.contiguous(), **rest))


@_rule("diag")
def diag(op: Op, args: tuple, kwargs: dict) -> Any:
    """diag(vector) is a matrix with it on a diagonal (diag_embed); diag(matrix) its diagonal."""
    v, batched = op.unwrap(args[0])
    k = args[1] if len(args) > 1 else kwargs.get("diagonal", 0)
    if not batched or len(args) > 2 or set(kwargs) - {"diagonal"} or v.dim() not in (2, 3):
        return fallback(op, args, kwargs)
    return op.wrap(_C.diag_embed(v, k) if v.dim() == 2 else v.diagonal(k, 1, 2))


@_rule("__getitem__")
def getitem(op: Op, args: tuple, kwargs: dict) -> Any:
    x, index = args
    v, batched = op.unwrap(x)
    items = _C._index_as_tuple(index)
    batched_items = [i for i, e in enumerate(items) if type(e) is BatchedTensor and e._level is op.level]
    if batched_items:
        # A lookup by batched indices (an embedding-like gather): x[idx] with idx first and the only
        # advanced index puts the index's dims, batch first, in front.
        rest = items[1:]
        simple = batched_items == [0] and not any(is_tensor(e) or isinstance(e, list) or e is None for e in rest)
        if simple and not batched:
            return op.wrap(v[(op.unwrap(items[0])[0], *rest)])
        return fallback(op, args, kwargs)
    if not batched:
        return fallback(op, args, kwargs)
    result = v[(slice(None), *items)]
    advanced = [i for i, e in enumerate(items) if is_tensor(e) or isinstance(e, list)]
    if advanced and advanced[-1] - advanced[0] + 1 != len(advanced):
        # Separated advanced indices put their dims first, before the batch dim: move it back.
        import numpy as np

        shapes = [tuple(items[i].shape) if is_tensor(items[i]) else np.shape(items[i]) for i in advanced]
        result = result.movedim(len(np.broadcast_shapes(*shapes)), 0)
    return op.wrap(result)


@_rule("__setitem__")
def setitem(op: Op, args: tuple, kwargs: dict) -> Any:
    x, index, value = args
    v, batched = op.unwrap(x)
    items = _C._index_as_tuple(index)
    if not batched:
        raise_inplace_error("__setitem__")  # a batched index or value written into an unbatched tensor
    if any(type(e) is BatchedTensor and e._level is op.level for e in items):
        for b in range(op.size):  # per entry: its own indices
            entry = tuple(op.unwrap(e)[0].select(0, b) if op.unwrap(e)[1] else e for e in items)
            val, val_batched = op.unwrap(value)
            v.select(0, b)[entry] = val.select(0, b) if val_batched else val
        return None
    target = v[(slice(None), *items)]
    val, val_batched = op.unwrap(value)
    if val_batched:
        val = _pad(val, target.dim() - val.dim())
    v[(slice(None), *items)] = val
    return None


@_rule("nonzero", "masked_select", "unique", "unique_consecutive", "argwhere")
def dynamic_shape(op: Op, args: tuple, kwargs: dict) -> Any:
    """Ops whose result's shape depends on the values: one entry's may differ from another's."""
    raise RuntimeError(
        "vmap: We do not support batching operators that can output dynamic shape. Attempted to vmap over "
        f"{op.name}. Please voice your support in https://github.com/pytorch/functorch/issues/256"
    )


# ----------------------------------------------------------------------- joining and indexing
@_rule("cat", "concat", "concatenate", "stack", "hstack", "vstack")
def cat(op: Op, args: tuple, kwargs: dict) -> Any:
    tensors = list(args[0]) if args else list(kwargs.pop("tensors"))
    d = args[1] if len(args) > 1 else kwargs.pop("dim", kwargs.pop("axis", 0))
    values = [op.batched(t) for t in tensors]
    rank = max(t.dim() for t in tensors) + (1 if op.name == "stack" else 0)
    if op.name in ("hstack", "vstack"):
        return fallback(op, args, kwargs)
    return op.wrap(op(values, _shift(d, rank, op.name), **kwargs))


_INDEXED_WRITES = ("scatter", "scatter_add", "scatter_reduce", "index_add", "index_copy", "index_fill", "index_reduce")


@_rule("gather", "take_along_dim", *_INDEXED_WRITES, *(n + "_" for n in _INDEXED_WRITES))
def indexed(op: Op, args: tuple, kwargs: dict) -> Any:
    """Ops of (input, dim, index[, src]): every tensor operand batched, dim past the batch."""
    _check_inplace(op, args)
    if op.name == "take_along_dim":
        if len(args) < 3 and "dim" not in kwargs:
            return fallback(op, args, kwargs)
        x, index, d = args[0], args[1], args[2] if len(args) > 2 else kwargs.pop("dim")
        return op.wrap(op(op.batched(x), op.batched(index), _shift(d, x.dim(), op.name)))
    if op.name.startswith("index_") and type(args[2] if len(args) > 2 else kwargs.get("index")) is BatchedTensor:
        return fallback(op, args, kwargs)
    x = args[0]
    d = args[1] if len(args) > 1 else kwargs.pop("dim")
    rest = [
        op.batched(a) if is_tensor(a) and not (op.name.startswith("index_") and i == 0) else a
        for i, a in enumerate(args[2:])
    ]
    result = op(op.batched(x), _shift(d, x.dim(), op.name), *rest, **kwargs)
    return args[0] if _is_inplace(op) else op.wrap(result)


def _bind(names: tuple, args: tuple, kwargs: dict) -> dict:
    """The arguments by name, as the op's signature (`names`, in order) binds them."""
    bound = dict(zip(names, args))
    bound.update(kwargs)
    return bound


def _finish(op: Op, args: tuple, target: Any, result: Any) -> Any:
    """An op computed out of place on batched values: an in-place form writes it into its input's value."""
    if _is_inplace(op):
        target.copy_(result)
        return args[0]
    return op.wrap(result)


def _out_of_range(index: Any, size: int) -> bool:
    """Whether an index tensor points outside [-size, size); a meta index has no values to check."""
    return not index.is_meta and index.numel() > 0 and bool((index.min() < -size) | (index.max() >= size))


@_rule("index_put", "index_put_")
def index_put(op: Op, args: tuple, kwargs: dict) -> Any:
    """x.index_put(indices, values): the batch is one more advanced index, arange(B) in front of the
    others, so each entry writes into its own slice. A boolean mask stands for the indices of its ones."""
    _check_inplace(op, args)
    bound = _bind(("input", "indices", "values", "accumulate"), args, kwargs)
    x, values = bound["input"], bound["values"]
    items = []
    for e in bound["indices"]:
        v, is_batched = op.unwrap(e)
        if v is None or (v.dtype == _C.dtype.bool and is_batched):
            return fallback(op, args, kwargs)
        items.extend((i, False) for i in v.nonzero().unbind(1)) if v.dtype == _C.dtype.bool else items.append(
            (v, is_batched)
        )
    xv = op.batched(x)
    if len(items) > xv.dim() - 1 or any(_out_of_range(v, xv.shape[1 + k]) for k, (v, _) in enumerate(items)):
        return per_entry(op, args, kwargs)  # raises the op's own error
    rank = max((v.dim() - b for v, b in items), default=0)
    positions = arange(op.size, device=xv.device).reshape(op.size, *([1] * rank))
    indices = (positions, *(_pad(v, rank - (v.dim() - 1)) if b else v for v, b in items))
    vals, vals_batched = op.unwrap(values)
    if vals_batched:
        vals = _pad(vals, 1 + rank + (xv.dim() - 1 - len(items)) - vals.dim())
    accumulate = bound.get("accumulate", False)
    if _is_inplace(op):
        xv.index_put_(indices, vals, accumulate)
        return args[0]
    return op.wrap(xv.index_put(indices, vals, accumulate))


@_rule("masked_scatter", "masked_scatter_")
def masked_scatter(op: Op, args: tuple, kwargs: dict) -> Any:
    """Each entry's source fills its mask's ones in order: a one's place in the source is the count of
    ones before it, so one gather and one where serve every entry."""
    _check_inplace(op, args)
    bound = _bind(("input", "mask", "source"), args, kwargs)
    x, mask = bound["input"], bound["mask"]
    width = max(x.dim(), mask.dim())
    xv, mv = (_pad(op.batched(t), width - t.dim()) for t in (x, mask))
    shape = broadcast_shapes(tuple(xv.shape), tuple(mv.shape))
    source = op.batched(bound["source"]).reshape(op.size, -1)
    ones = mv.expand(shape).reshape(op.size, -1)
    if (
        mv.dtype != _C.dtype.bool
        or source.dtype != xv.dtype
        or (_is_inplace(op) and tuple(shape) != tuple(xv.shape))
        or (not ones.is_meta and bool(ones.sum(1).max() > source.shape[1]))
    ):
        return per_entry(op, args, kwargs)  # raises the op's own error
    if source.shape[1] == 0:  # no ones anywhere
        return _finish(op, args, xv, xv.expand(shape).clone())
    place = (ones.long().cumsum(1) - 1).clamp_min(0)
    filled = _C.where(mv.expand(shape), source.gather(1, place).reshape(shape), xv.expand(shape))
    return _finish(op, args, xv, filled)


@_rule("put", "put_")
def put(op: Op, args: tuple, kwargs: dict) -> Any:
    """input.put(index, source): each entry's flattened input written at its indices, one scatter
    along the elements of a (batch, elements) view."""
    _check_inplace(op, args)
    bound = _bind(("input", "index", "source", "accumulate"), args, kwargs)
    xv = op.batched(bound["input"])
    size = xv[0].numel()
    index = op.batched(bound["index"]).reshape(op.size, -1)
    source = op.batched(bound["source"]).reshape(op.size, -1)
    if index.shape != source.shape or source.dtype != xv.dtype or _out_of_range(index, size):
        return per_entry(op, args, kwargs)  # raises the op's own error
    index = _C.where(index < 0, index + size, index)
    flat = xv.reshape(op.size, size)
    written = flat.scatter_add(1, index, source) if bound.get("accumulate", False) else flat.scatter(1, index, source)
    return _finish(op, args, xv, written.reshape(xv.shape))


# ------------------------------------------------------------------------------ linear algebra
@_rule("matmul", "__matmul__", "__rmatmul__")
def matmul(op: Op, args: tuple, kwargs: dict) -> Any:
    a, b = (args[1], args[0]) if op.name == "__rmatmul__" else (args[0], args[1] if len(args) > 1 else kwargs["other"])
    ra, rb = _logical_dim(a, op), _logical_dim(b, op)
    if ra == 0 or rb == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {ra}D and {rb}D")
    (va, ba), (vb, bb) = op.unwrap(a), op.unwrap(b)
    if ra == 1 and rb == 1:
        return op.wrap((va * vb).sum(-1))
    # 1-D operands as matrices, then every batched one widened to the common rank.
    if ra == 1:
        va = va.unsqueeze(-2)
    if rb == 1:
        vb = vb.unsqueeze(-1)
    width = max(max(ra, 2), max(rb, 2))
    if ba:
        va = _pad(va, width - (va.dim() - 1))
    if bb:
        vb = _pad(vb, width - (vb.dim() - 1))
    result = _C.matmul(va, vb)
    if ra == 1:
        result = result.squeeze(-2)
    if rb == 1:
        result = result.squeeze(-1)
    return op.wrap(result)


def _expect_rank(x: Any, rank: int, op: Op, what: str) -> None:
    if x.dim() != rank:
        raise RuntimeError(f"{op.name}: {what} must be a {rank}D tensor, got {x.dim()}D")


# The 2-D/3-D/1-D products: the ranks their operands must have (and PyTorch's names for them); batched
# they are all one matmul.
_PRODUCTS = {
    "mm": ((2, "self"), (2, "mat2")),
    "bmm": ((3, "batch1"), (3, "batch2")),
    "mv": ((2, "self"), (1, "vec")),
    "dot": ((1, "self"), (1, "tensor")),
}


@_rule(*_PRODUCTS)
def fixed_rank_product(op: Op, args: tuple, kwargs: dict) -> Any:
    (rank_a, name_a), (rank_b, name_b) = _PRODUCTS[op.name]
    a, b = args[0], args[1] if len(args) > 1 else kwargs[name_b]
    _expect_rank(a, rank_a, op, name_a)
    _expect_rank(b, rank_b, op, name_b)
    return _C.matmul(a, b)


@_rule("outer", "ger")
def outer(op: Op, args: tuple, kwargs: dict) -> Any:
    a, b = args[0], args[1] if len(args) > 1 else kwargs["vec2"]
    return a.unsqueeze(-1) * b.unsqueeze(-2)


@_rule("addmm")
def addmm(op: Op, args: tuple, kwargs: dict) -> Any:
    bias, a, b = args[:3]
    beta = kwargs.get("beta", 1)
    alpha = kwargs.get("alpha", 1)
    prod = _C.matmul(a, b)
    prod = prod if alpha == 1 else prod * alpha
    return prod + (bias if beta == 1 else bias * beta)


# ----------------------------------------------------------------------------------------- nn
@_rule("conv2d", "max_pool2d")
def batch_of_images(op: Op, args: tuple, kwargs: dict) -> Any:
    """Ops on (N, C, H, W) or (C, H, W) inputs with unbatched weights: the batch folds into N."""
    x, rest = args[0], args[1:]
    v, batched = op.unwrap(x)
    if op.name == "conv2d" and any(op.unwrap(a)[1] for a in (*rest, *kwargs.values())):
        return _conv2d_of_batched_weights(op, args, kwargs)
    if not batched or any(type(a) is BatchedTensor for a in (*rest, *kwargs.values())):
        return fallback(op, args, kwargs)
    if v.dim() == 4:  # one (C, H, W) image per entry
        return op.wrap(op(v, *rest, **kwargs))
    folded = v.reshape(v.shape[0] * v.shape[1], *v.shape[2:])
    result = op(folded, *rest, **kwargs)

    def unfold(r: Any) -> Any:
        return r.reshape(v.shape[0], v.shape[1], *r.shape[1:])

    if isinstance(result, tuple):
        return op.wrap(type(result)(*(unfold(r) for r in result)))
    return op.wrap(unfold(result))


def _conv2d_of_batched_weights(op: Op, args: tuple, kwargs: dict) -> Any:
    """conv2d with a weight (or bias) per entry, as in an ensemble of models: one convolution whose
    output channels are every entry's, (entry, channel) in order. An unbatched input is shared by all
    (groups=1); a batched one joins the channels too, as groups * B groups, so each entry's weights
    see only its own input."""
    bound = _bind(("input", "weight", "bias", "stride", "padding", "dilation", "groups"), args, kwargs)
    options = [bound.get(k, d) for k, d in (("stride", 1), ("padding", 0), ("dilation", 1))]
    groups, size = bound.get("groups", 1), op.size
    weight = op.batched(bound["weight"])
    out_channels = weight.shape[1]
    weight = weight.reshape(size * out_channels, *weight.shape[2:])
    bias = None if bound.get("bias") is None else op.batched(bound["bias"]).reshape(-1)
    x, batched = op.unwrap(bound["input"])
    single = bound["input"].dim() == 3  # one (C, H, W) image per entry
    if not batched and groups == 1:
        out = _C.conv2d(x.unsqueeze(0) if single else x, weight, bias, *options, 1)
    else:
        x = op.batched(bound["input"])
        x = x.unsqueeze(1) if single else x  # (B, N, C, H, W)
        joined = x.movedim(0, 1).reshape(x.shape[1], size * x.shape[2], *x.shape[3:])
        out = _C.conv2d(joined, weight, bias, *options, groups * size)
    out = out.reshape(out.shape[0], size, out_channels, *out.shape[2:]).movedim(1, 0)  # (B, N, O, H', W')
    return op.wrap(out.squeeze(1) if single else out)


def _reduce(loss: Any, reduction: str) -> Any:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


@_rule("_mse_loss", "_smooth_l1_loss", "_binary_cross_entropy", "_binary_cross_entropy_with_logits")
def pointwise_loss(op: Op, args: tuple, kwargs: dict) -> Any:
    """A loss of elementwise terms: the terms batched (reduction "none"), reduced per entry."""
    names = {
        "_mse_loss": ("input", "target", "reduction"),
        "_smooth_l1_loss": ("input", "target", "reduction", "beta", "huber"),
        "_binary_cross_entropy": ("input", "target", "weight", "reduction"),
        "_binary_cross_entropy_with_logits": ("input", "target", "weight", "pos_weight", "reduction"),
    }[op.name]
    bound = _bind(names, args, kwargs)
    reduction = bound["reduction"]
    bound["reduction"] = "none"
    # input and target must have one shape: both batched; weights broadcast as elementwise operands.
    width = max(bound["input"].dim(), bound["target"].dim())
    for key in ("input", "target"):
        v = op.batched(bound[key])
        bound[key] = BatchedTensor(_pad(v, width - (v.dim() - 1)), op.level)
    return _reduce(elementwise(op, (), bound), reduction)


@_rule("_nll_loss")
def nll_loss(op: Op, args: tuple, kwargs: dict) -> Any:
    bound = _bind(("input", "target", "weight", "ignore_index", "reduction"), args, kwargs)
    x, target, weight = bound["input"], bound["target"], bound.get("weight")
    reduction, ignore = bound.get("reduction", "mean"), bound.get("ignore_index", -100)
    if type(weight) is BatchedTensor or x.dim() not in (1, 2):
        return fallback(op, args, kwargs)
    xv, tv = op.batched(x), op.batched(target)
    classes = xv.shape[-1]
    flat_x, flat_t = xv.reshape(-1, classes), tv.reshape(-1)
    per = op(flat_x, flat_t, weight, ignore, "none").reshape(tv.shape)
    if reduction == "none":
        return op.wrap(per)
    if reduction == "sum":
        return op.wrap(per.sum(-1) if per.dim() > 1 else per)
    w = weight[flat_t.clamp(0, classes - 1)] if weight is not None else per.new_ones(tuple(flat_t.shape))
    w = (w * (flat_t != ignore)).reshape(tv.shape)
    if per.dim() > 1:
        return op.wrap(per.sum(-1) / w.sum(-1))
    return op.wrap(per / w)


# ------------------------------------------------------------------------------ creation-like
@_rule("zeros_like", "ones_like", "empty_like", "full_like")
def like(op: Op, args: tuple, kwargs: dict) -> Any:
    v, _ = op.unwrap(args[0])
    return op.wrap(op(v, *args[1:], **kwargs))


@_rule("new_zeros", "new_ones", "new_empty", "new_full", "new_tensor")
def new(op: Op, args: tuple, kwargs: dict) -> Any:
    v, _ = op.unwrap(args[0])
    return getattr(v, op.name)(*args[1:], **kwargs)  # an unbatched tensor of the given shape, as in PyTorch


@_rule("size", "dim", "numel")
def metadata(op: Op, args: tuple, kwargs: dict) -> Any:
    return getattr(args[0], op.name)(*args[1:], **kwargs)
