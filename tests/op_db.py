"""One case table for every op of the registry (Note [Op registry]), in the
spirit of PyTorch's OpInfo: inputs, a numpy reference and how to call the op.

tests/test_registry.py runs each case through helpers.check_op (forward
against numpy, float64 gradcheck, non-contiguous inputs, float32) on the op's
primary form, then checks that every other form the registry lists (method,
in-place, ``out=``, aliases) gives the same result; and it fails when a
registered op has no case here.

``call(op, *tensors)`` calls an op given in its function's signature; for an
op without a function form, ``op`` is the method called on the first tensor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

import ember

try:
    from scipy import special as _scipy_special
except ImportError:
    _scipy_special = None

RNG = np.random.default_rng(1234)


@dataclass
class OpCase:
    name: str  # the registry name
    ref: Callable[..., Any] | None  # numpy reference on the input arrays
    inputs: list[Any]  # shapes of random float inputs, or numpy arrays used as given
    args: tuple = ()  # passed after the tensors
    kwargs: dict = field(default_factory=dict)
    call: Callable[..., Any] | None = None  # call(op, *tensors); default op(*tensors, *args, **kwargs)
    opts: dict = field(default_factory=dict)  # options of helpers.check_op (low, high, min_abs, gradgrad, ...)
    id: str = ""

    def invoke(self, op: Callable[..., Any], *tensors: Any, **extra: Any) -> Any:
        if self.call is not None:
            return self.call(op, *tensors, **extra)
        return op(*tensors, *self.args, **self.kwargs, **extra)

    def __str__(self) -> str:
        return self.id or self.name


def ints(*shape, low=-5, high=6):
    return RNG.integers(low, high, size=shape, dtype=np.int64)


def bools(*shape):
    return RNG.random(shape) > 0.5


def np_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def np_erf(x):
    return np.vectorize(math.erf, otypes=[np.float64])(x)


def np_lgamma(x):
    return np.vectorize(math.lgamma, otypes=[np.float64])(x)


def np_digamma(x):
    if _scipy_special is not None:
        return _scipy_special.digamma(x)
    h = 1e-4  # a fourth-order central difference of lgamma: error ~1e-14
    f = np_lgamma
    return (8 * (f(x + h) - f(x - h)) - (f(x + 2 * h) - f(x - 2 * h))) / (12 * h)


def np_erfinv(y):
    """erf inverted by bisection (64 halvings reach double precision on (-1, 1))."""
    lo, hi = np.full_like(y, -6.0), np.full_like(y, 6.0)
    for _ in range(64):
        mid = (lo + hi) / 2
        below = np_erf(mid) < y
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return (lo + hi) / 2


def _np_cum_arg(x, axis, better_or_equal):
    """The indices of cummax/cummin: the latest position of the running extreme."""
    x = np.moveaxis(x, axis, -1)
    idx = np.zeros(x.shape, dtype=np.int64)
    best = x[..., 0].copy()
    for j in range(1, x.shape[-1]):
        take = better_or_equal(x[..., j], best)
        best = np.where(take, x[..., j], best)
        idx[..., j] = np.where(take, j, idx[..., j - 1])
    return np.moveaxis(idx, -1, axis)


def _np_index_add(x, axis, index, source):
    out = x.copy()
    np.add.at(out, (slice(None),) * axis + (np.array(index),), source)
    return out


def _np_assign(x, where, values):
    out = x.copy()
    out[where] = values
    return out


def _np_put(x, index, source):
    out = x.copy().reshape(-1)
    np.add.at(out, np.array(index), source)
    return out.reshape(x.shape)


def np_logsumexp(x, axis, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    r = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return r if keepdims else np.squeeze(r, axis=axis)


def np_softmax(x, axis):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def np_conv2d(x, w, padding=0):
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    n, _, h, wd = x.shape
    o, _, kh, kw = w.shape
    out = np.zeros((n, o, h - kh + 1, wd - kw + 1))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            out[:, :, i, j] = np.einsum("nchw,ochw->no", x[:, :, i : i + kh, j : j + kw], w)
    return out


def np_max_pool2(x):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def inplace_call(method, *args, **kwargs):
    """A dunder in-place operator called on a copy, so gradcheck's leaves are untouched."""
    return lambda op, a, *rest: getattr(a.clone(), method)(*rest, *args, **kwargs)


S = (3, 4)
MASK = bools(3, 4)
GATHER_INDEX = np.array([[0, 2, 1, 0], [2, 2, 0, 1]], dtype=np.int64)
SELECT_INDEX = np.array([2, 0], dtype=np.int64)
SHIFTS = RNG.integers(0, 5, size=(3, 4), dtype=np.int64)
IGAMMA_A = RNG.uniform(0.3, 5.0, size=(3, 4))
IGAMMA_X = RNG.uniform(0.1, 6.0, size=(3, 4))
# Rounding divisions are steps: fixed operands keep every quotient away from an integer (the forms'
# checks would otherwise divide equal random arrays), and scatters' operands free of ties.
DIVIDEND = RNG.uniform(-3.0, 3.0, size=(3, 4)).round(1) + 0.05
DIVISOR = np.where(RNG.random((3, 4)) > 0.5, 1.0, -1.0) * (RNG.integers(1, 4, size=(3, 4)) + 0.5)
SCATTER_SELF = RNG.permutation(12).reshape(3, 4) * 0.25 - 1.3
SCATTER_SRC = RNG.permutation(8).reshape(2, 4) * 0.3 - 1.1
WITH_NAN = np.where(RNG.random((3, 4)) > 0.7, np.nan, RNG.uniform(-2, 2, size=(3, 4)))
# the domains of asin/acos/atanh/erfinv and of acosh, away from their poles
UNIT = RNG.uniform(-0.9, 0.9, size=(3, 4))
ABOVE_ONE = RNG.uniform(1.1, 3.0, size=(3, 4))
# values at least 0.1 away from integers and halves (the steps of floor, ceil, trunc and round)
ROUNDABLE = np.floor(RNG.uniform(-4, 4, size=(3, 4))) + RNG.choice([0.2, 0.3, 0.7, 0.8], size=(3, 4))
SPECIALS = np.array([[0.0, np.nan, np.inf, -np.inf], [1.5, -2.0, np.nan, 3.0]])


def _np_scatter_reduce(x, i, s, reduce, include_self=True):
    out = x.copy()
    groups = {}
    for r in range(i.shape[0]):
        for c in range(i.shape[1]):
            groups.setdefault((i[r, c], c), []).append(s[r, c])
    fns = {"sum": np.sum, "prod": np.prod, "mean": np.mean, "amax": np.max, "amin": np.min}
    for pos, vals in groups.items():
        out[pos] = fns[reduce](vals + ([x[pos]] if include_self else []))
    return out


def _scatter_reduce_case(reduce, include_self):
    return OpCase(
        "scatter_reduce",
        lambda x, i, s: _np_scatter_reduce(x, i, s, reduce, include_self),
        [SCATTER_SELF, GATHER_INDEX, SCATTER_SRC],
        call=lambda op, x, i, s, **k: op(x, 0, i, s, reduce, include_self=include_self, **k),
        opts={"min_abs": 0.2} if reduce == "prod" else {},
        id=f"scatter_reduce-{reduce}-{include_self}",
    )


def _index_reduce_case(reduce):
    index = np.array([2, 0, 2], dtype=np.int64)
    return OpCase(
        "index_reduce",
        lambda x, i, s: _np_scatter_reduce(x, np.broadcast_to(i[:, None], s.shape), s, reduce),
        [SCATTER_SELF, index, SCATTER_SELF[::-1] * 0.9],
        call=lambda op, x, i, s, **k: op(x, 0, i, s, reduce, **k),
        opts={"min_abs": 0.2} if reduce == "prod" else {},
        id=f"index_reduce-{reduce}",
    )


CASES: list[OpCase] = [
    # ------------------------------------------------------------ elementwise
    OpCase("add", np.add, [S, (4,)], opts={"gradgrad": True}),
    OpCase("add", lambda a, b: a + 2.5 * b, [S, S], kwargs={"alpha": 2.5}, id="add-alpha"),
    OpCase("sub", lambda a, b: a - 2 * b, [S, (1, 4)], kwargs={"alpha": 2}),
    OpCase("mul", np.multiply, [S, (3, 1)], opts={"gradgrad": True}),
    OpCase("div", np.divide, [S, S], opts={"min_abs": 0.3}),
    OpCase("pow", np.power, [S, S], opts={"low": 0.5, "high": 2.0}),
    OpCase("pow", lambda a: a**3, [S], args=(3,), id="pow-number"),
    OpCase("maximum", np.maximum, [S, S]),
    OpCase("minimum", np.minimum, [S, (4,)]),
    OpCase("neg", np.negative, [S]),
    OpCase("abs", np.abs, [S], opts={"min_abs": 0.1}),
    OpCase("sqrt", np.sqrt, [S], opts={"low": 0.2}),
    OpCase("rsqrt", lambda x: 1 / np.sqrt(x), [S], opts={"low": 0.2}),
    OpCase("exp", np.exp, [S], opts={"gradgrad": True}),
    OpCase("log", np.log, [S], opts={"low": 0.2}),
    OpCase("log1p", np.log1p, [S], opts={"low": -0.5}),
    OpCase("expm1", np.expm1, [S]),
    OpCase("sin", np.sin, [S]),
    OpCase("cos", np.cos, [S]),
    OpCase("tan", np.tan, [S], opts={"low": -1.2, "high": 1.2}),
    OpCase("tanh", np.tanh, [S], opts={"gradgrad": True}),
    OpCase("sigmoid", np_sigmoid, [S], opts={"gradgrad": True}),
    OpCase("sign", np.sign, [S], opts={"min_abs": 0.1}),
    OpCase("reciprocal", np.reciprocal, [S], opts={"min_abs": 0.3}),
    OpCase("erf", np_erf, [S]),
    OpCase("square", np.square, [S]),
    # rounding: steps, so the inputs stay away from integers (and halves, for round)
    OpCase("floor", np.floor, [ROUNDABLE]),
    OpCase("floor", np.floor, [ints(3, 4)], id="floor-int"),
    OpCase("ceil", np.ceil, [ROUNDABLE]),
    OpCase("trunc", np.trunc, [ROUNDABLE]),
    OpCase("round", np.round, [ROUNDABLE]),
    OpCase("round", lambda x: np.round(x, 1), [ROUNDABLE / 7], kwargs={"decimals": 1}, id="round-decimals"),
    OpCase("frac", lambda x: x - np.trunc(x), [ROUNDABLE]),
    OpCase("asin", np.arcsin, [UNIT]),
    OpCase("acos", np.arccos, [UNIT]),
    OpCase("atan", np.arctan, [S]),
    OpCase("sinh", np.sinh, [S]),
    OpCase("cosh", np.cosh, [S]),
    OpCase("asinh", np.arcsinh, [S]),
    OpCase("acosh", np.arccosh, [ABOVE_ONE]),
    OpCase("atanh", np.arctanh, [UNIT]),
    OpCase("log2", np.log2, [S], opts={"low": 0.2}),
    OpCase("log10", np.log10, [S], opts={"low": 0.2}),
    OpCase("exp2", np.exp2, [S]),
    OpCase("erfc", lambda x: 1 - np_erf(x), [S]),
    OpCase("erfinv", np_erfinv, [UNIT]),
    OpCase("lgamma", np_lgamma, [S], opts={"low": 0.3, "high": 4.0}),
    OpCase("digamma", np_digamma, [S], opts={"low": 0.3, "high": 4.0}),
    OpCase("i0", np.i0, [S], opts={"low": -4.0, "high": 4.0, "gradgrad": True}),
    OpCase(
        "polygamma",
        None if _scipy_special is None else (lambda x: _scipy_special.polygamma(2, x)),
        [S],
        call=lambda op, x, **k: op(2, x, **k) if op is ember.polygamma else op(x, 2, **k),
        opts={"low": 0.5, "high": 4.0},
    ),
    OpCase(
        "mvlgamma",
        lambda x: np_lgamma(x) + np_lgamma(x - 0.5) + 0.5 * np.log(np.pi),
        [S],
        args=(2,),
        opts={"low": 1.0, "high": 4.0},
    ),
    OpCase(
        "nan_to_num",
        lambda x: np.nan_to_num(x, nan=0.5, posinf=9.0, neginf=-7.0),
        [SPECIALS],
        kwargs={"nan": 0.5, "posinf": 9.0, "neginf": -7.0},
    ),
    OpCase("nan_to_num", np.nan_to_num, [S], id="nan_to_num-finite"),
    OpCase("clamp_min", lambda x: np.maximum(x, 0.25), [S], args=(0.25,)),
    OpCase("clamp_max", lambda x: np.minimum(x, 0.25), [S], args=(0.25,)),
    # fixed bounds: a bound equal to the input (both drawn from one seed) is a tie, where the gradient is
    # PyTorch's choice (the input's), not the central difference's half
    OpCase("clamp_min", np.maximum, [S, np.array([0.7, 1.2, 0.9, 1.4])], id="clamp_min-tensor"),
    OpCase("lerp", lambda a, b: a + 0.3 * (b - a), [S, S], args=(0.3,)),
    OpCase("lerp", lambda a, b, w: a + w * (b - a), [S, (4,), S], id="lerp-tensor-weight"),
    OpCase("addcmul", lambda a, b, c: a + 0.5 * b * c, [S, (4,), S], kwargs={"value": 0.5}),
    OpCase("addcdiv", lambda a, b, c: a - 2 * b / c, [S, S, (3, 1)], kwargs={"value": -2.0}, opts={"min_abs": 0.3}),
    OpCase("relu", lambda x: np.maximum(x, 0), [S], opts={"min_abs": 0.1}),
    OpCase("clamp", lambda x: np.clip(x, -0.5, 0.5), [S], kwargs={"min": -0.5, "max": 0.5}),
    OpCase(
        "clamp",
        np.maximum,
        [S, np.linspace(0.55, 1.45, 12).reshape(S)],
        call=lambda op, x, lo, **k: op(x, lo, **k),
        id="clamp-tensor-min",
    ),
    OpCase("where", np.where, [MASK, S, S]),
    OpCase("copy_", lambda x, y: np.broadcast_to(y, x.shape), [S, (4,)], call=lambda op, x, y: x.clone().copy_(y)),
    OpCase("fill_", lambda x: np.full_like(x, 2.5), [S], call=lambda op, x: x.clone().fill_(2.5)),
    OpCase("zero_", np.zeros_like, [S], call=lambda op, x: x.clone().zero_()),
    # ------------------------------------------------------------ comparison and logic
    *[
        OpCase(n, f, [ints(3, 4), ints(3, 4)])
        for n, f in [
            ("eq", np.equal),
            ("ne", np.not_equal),
            ("lt", np.less),
            ("le", np.less_equal),
            ("gt", np.greater),
            ("ge", np.greater_equal),
        ]
    ],
    OpCase("lt", np.less, [S, (4,)], id="lt-float"),
    OpCase("logical_and", np.logical_and, [bools(3, 4), bools(3, 4)]),
    OpCase("logical_or", np.logical_or, [bools(3, 4), ints(3, 4)]),
    OpCase("logical_xor", np.logical_xor, [S, bools(3, 4)], opts={"grad": False}),
    OpCase("logical_not", np.logical_not, [ints(3, 4)]),
    OpCase("bitwise_and", np.bitwise_and, [ints(3, 4, low=-100, high=100), ints(3, 4, low=-100, high=100)]),
    OpCase("bitwise_and", np.logical_and, [bools(3, 4), bools(3, 4)], id="bitwise_and-bool"),
    OpCase("bitwise_or", np.bitwise_or, [ints(3, 4, low=0, high=100), ints(4, low=0, high=100)]),
    OpCase("bitwise_xor", np.bitwise_xor, [ints(3, 4, low=-100, high=100), ints(3, 4)]),
    OpCase("bitwise_left_shift", np.left_shift, [ints(3, 4, low=-50, high=50), SHIFTS]),
    OpCase("bitwise_right_shift", np.right_shift, [ints(3, 4, low=-50, high=50), SHIFTS]),
    OpCase("bitwise_not", np.invert, [ints(3, 4, low=-100, high=100)]),
    OpCase("isnan", np.isnan, [SPECIALS]),
    OpCase("isinf", np.isinf, [SPECIALS]),
    OpCase("isfinite", np.isfinite, [SPECIALS]),
    OpCase("signbit", np.signbit, [np.array([[0.0, -0.0, -1.5, np.inf], [2.0, -np.inf, 3.0, -4.0]])]),
    OpCase("atan2", np.arctan2, [S, (4,)], opts={"gradgrad": True}),
    OpCase("hypot", np.hypot, [S, (4,)], opts={"min_abs": 0.1}),
    OpCase("logaddexp", np.logaddexp, [S, (3, 1)], opts={"gradgrad": True}),
    OpCase("logaddexp2", np.logaddexp2, [S, S]),
    OpCase("xlogy", lambda a, b: a * np.log(b), [S, S], opts={"low": 0.2}),
    OpCase("floor_divide", np.floor_divide, [ints(3, 4, low=-20, high=20), ints(3, 4, low=1, high=6)]),
    OpCase("floor_divide", np.floor_divide, [DIVIDEND, DIVISOR], id="floor_divide-float"),
    OpCase("remainder", np.remainder, [DIVIDEND, DIVISOR]),
    OpCase("remainder", np.remainder, [ints(3, 4, low=-20, high=20), ints(4, low=-6, high=-1)], id="remainder-int"),
    OpCase("fmod", np.fmod, [DIVIDEND, DIVISOR]),
    OpCase("fmod", np.fmod, [ints(3, 4, low=-20, high=20), ints(3, 4, low=1, high=6)], id="fmod-int"),
    OpCase(
        "div",
        lambda a, b: np.trunc(a / b),
        [DIVIDEND, DIVISOR],
        kwargs={"rounding_mode": "trunc"},
        id="div-trunc",
    ),
    OpCase(
        "div",
        np.floor_divide,
        [ints(3, 4, low=-20, high=20), ints(3, 4, low=1, high=6)],
        kwargs={"rounding_mode": "floor"},
        id="div-floor-int",
    ),
    # the gradient in input (a) is not implemented: gradcheck differentiates in other (x) only
    # the gradient in other (x) is checked in test_ops_sort_scatter.py: the one in input raises
    OpCase("igamma", None, [IGAMMA_A, IGAMMA_X], opts={"grad": False}),
    OpCase("igammac", None, [IGAMMA_A, IGAMMA_X], opts={"grad": False}),
    # ------------------------------------------------------------ cumulative
    OpCase("cumsum", lambda x: np.cumsum(x, axis=1), [S], args=(1,), opts={"gradgrad": True}),
    OpCase("cumsum", lambda x: np.cumsum(x, axis=0), [ints(3, 4)], args=(0,), id="cumsum-int"),
    OpCase("cumprod", lambda x: np.cumprod(x, axis=1), [S], args=(1,)),
    OpCase(
        "cumprod",
        lambda x: np.cumprod(x, axis=0),
        [np.array([[1.5, 0.0, 2.0], [0.0, 0.5, -1.0], [2.0, 3.0, 0.0]])],
        args=(0,),
        opts={"gradgrad": True},
        id="cumprod-zeros",
    ),
    OpCase("logcumsumexp", lambda x: np.logaddexp.accumulate(x, axis=1), [S], args=(1,), opts={"gradgrad": True}),
    OpCase("cummax", lambda x: (np.maximum.accumulate(x, axis=1), _np_cum_arg(x, 1, np.greater_equal)), [S], args=(1,)),
    OpCase("cummin", lambda x: (np.minimum.accumulate(x, axis=0), _np_cum_arg(x, 0, np.less_equal)), [S], args=(0,)),
    # ------------------------------------------------------------ reordering
    OpCase("flip", lambda x: np.flip(x, (0, 1)), [S], args=((0, 1),)),
    OpCase("fliplr", np.fliplr, [S]),
    OpCase("flipud", np.flipud, [S]),
    OpCase("roll", lambda x: np.roll(x, (1, -2), (0, 1)), [S], args=((1, -2), (0, 1))),
    OpCase("roll", lambda x: np.roll(x, 5), [S], args=(5,), id="roll-flat"),
    OpCase("rot90", np.rot90, [S]),
    OpCase("rot90", lambda x: np.rot90(x, 3, (1, 0)), [S], args=(3, (1, 0)), id="rot90-k3"),
    OpCase("repeat_interleave", lambda x: np.repeat(x, 2, axis=1), [S], args=(2,), kwargs={"dim": 1}),
    OpCase(
        "repeat_interleave",
        lambda x: np.repeat(x, [1, 0, 2], axis=0),
        [S],
        call=lambda op, x, **k: op(x, ember.tensor([1, 0, 2]), dim=0, **k),
        id="repeat_interleave-counts",
    ),
    # ------------------------------------------------------------ indexing
    OpCase(
        "index_add",
        lambda x, s: _np_index_add(x, 0, [0, 2, 0], 2 * s),
        [S, S],
        call=lambda op, x, s, **k: op(x, 0, ember.tensor([0, 2, 0]), s, alpha=2, **k),
    ),
    OpCase(
        "index_copy",
        lambda x, s: _np_assign(x, (slice(None), [3, 0]), s),
        [S, (3, 2)],
        call=lambda op, x, s, **k: op(x, 1, ember.tensor([3, 0]), s, **k),
    ),
    OpCase(
        "index_fill",
        lambda x: _np_assign(x, (slice(None), [3, 0]), -1.5),
        [S],
        call=lambda op, x, **k: op(x, 1, ember.tensor([3, 0]), -1.5, **k),
    ),
    OpCase(
        "index_put",
        lambda x, v: _np_assign(x, ([0, 2],), v),
        [S, (4,)],
        call=lambda op, x, v, **k: op(x, (ember.tensor([0, 2]),), v, **k),
    ),
    OpCase(
        "index_put",
        lambda x, v: _np_assign(x, np.array([True, False, True]), x[[0, 2]] + v),  # accumulate=True
        [S, (4,)],
        call=lambda op, x, v, **k: op(x, (ember.tensor([True, False, True]),), v, accumulate=True, **k),
        id="index_put-mask",
    ),
    OpCase(
        "scatter",
        lambda x, s: _np_assign(x, ([2, 1, 0, 2], [0, 1, 2, 3]), s[0]),
        [S, (2, 4)],
        call=lambda op, x, s, **k: op(x, 0, ember.tensor([[2, 1, 0, 2]]), s, **k),
    ),
    OpCase(
        "scatter",
        lambda x: _np_assign(x, ([0, 1, 2], [1, 0, 3]), 9.0),
        [S],
        call=lambda op, x, **k: op(x, 1, ember.tensor([[1], [0], [3]]), value=9.0, **k),
        id="scatter-value",
    ),
    OpCase("masked_select", lambda x, m: x[m], [S, MASK]),
    OpCase(
        "masked_scatter",
        lambda x, m, s: _np_assign(x, m, s.reshape(-1)[: m.sum()]),
        [S, MASK, S],
    ),
    OpCase(
        "as_strided",
        lambda x: np.lib.stride_tricks.as_strided(x, (3, 2), (8, 8))[:, :].copy(),  # overlapping windows
        [S],
        call=lambda op, x, **k: op(x, (3, 2), (1, 1), **k),
        opts={"noncontig": False},  # a view of the storage: a transposed input's storage differs
    ),
    OpCase(
        "as_strided",
        lambda x: x.reshape(-1)[2:].reshape(5, 2),
        [S],
        call=lambda op, x, **k: op(x, (5, 2), (2, 1), 2, **k),
        opts={"noncontig": False},
        id="as_strided-offset",
    ),
    OpCase(
        "take",
        lambda x: x.reshape(-1)[np.array([[0, -1], [5, 3]])],
        [S],
        call=lambda op, x, **k: op(x, ember.tensor([[0, -1], [5, 3]]), **k),
    ),
    OpCase(
        "put",
        lambda x, s: _np_put(x, [0, 5, 0], s),
        [S, (3,)],
        call=lambda op, x, s, **k: op(x, ember.tensor([0, 5, 0]), s, accumulate=True, **k),
    ),
    OpCase(
        "take_along_dim",
        lambda x: np.take_along_axis(x, np.array([[0, 3], [1, 1], [2, 0]]), 1),
        [S],
        call=lambda op, x, **k: op(x, ember.tensor([[0, 3], [1, 1], [2, 0]]), 1, **k),
    ),
    OpCase("nansum", lambda x: np.nansum(x, axis=1), [WITH_NAN], kwargs={"dim": 1}),
    OpCase("nanmean", np.nanmean, [WITH_NAN]),
    # ------------------------------------------------------------ reductions
    OpCase("sum", np.sum, [S]),
    OpCase("sum", lambda x: np.sum(x, axis=1, keepdims=True), [S], kwargs={"dim": 1, "keepdim": True}, id="sum-dim"),
    OpCase("mean", lambda x: np.mean(x, axis=(0, 2)), [(2, 3, 4)], kwargs={"dim": (0, 2)}),
    OpCase("prod", lambda x: np.prod(x, axis=1), [S], kwargs={"dim": 1}),
    OpCase("max", np.max, [S]),
    OpCase("max", lambda x: (np.max(x, axis=1), np.argmax(x, axis=1)), [S], kwargs={"dim": 1}, id="max-dim"),
    OpCase("min", lambda x: (np.min(x, axis=0), np.argmin(x, axis=0)), [S], kwargs={"dim": 0}),
    OpCase("amax", lambda x: np.max(x, axis=1), [S], kwargs={"dim": 1}),
    OpCase("amin", lambda x: np.min(x, axis=(0, 1)), [S], kwargs={"dim": (0, 1)}),
    OpCase("argmax", lambda x: np.argmax(x, axis=1), [S], kwargs={"dim": 1}),
    OpCase("argmin", np.argmin, [S]),
    OpCase("all", lambda x: np.all(x, axis=1), [bools(3, 4)], kwargs={"dim": 1}),
    OpCase("any", np.any, [bools(3, 4)]),
    OpCase("var", lambda x: np.var(x, axis=1, ddof=1), [S], kwargs={"dim": 1}),
    OpCase("std", lambda x: np.std(x, ddof=0), [S], kwargs={"correction": 0}),
    OpCase("trace", np.trace, [S]),
    OpCase("var_mean", lambda x: (np.var(x, axis=1, ddof=1), np.mean(x, axis=1)), [S], kwargs={"dim": 1}),
    OpCase("std_mean", lambda x: (np.std(x, ddof=0), np.mean(x)), [S], kwargs={"correction": 0}),
    OpCase("norm", np.linalg.norm, [S], opts={"min_abs": 0.1}),
    OpCase(
        "norm", lambda x: np.sum(np.abs(x), axis=1), [S], kwargs={"p": 1, "dim": 1}, opts={"min_abs": 0.1}, id="norm-1"
    ),
    OpCase("logsumexp", lambda x: np_logsumexp(x, 1), [S], kwargs={"dim": 1}),
    OpCase("softmax", lambda x: np_softmax(x, 1), [S], kwargs={"dim": 1}),
    OpCase("log_softmax", lambda x: np.log(np_softmax(x, 0)), [S], kwargs={"dim": 0}),
    # the fused kernels' two layouts (Note [Fused softmax]): slices along the last dim, blocks along a middle one;
    # gradgrad: the backward under create_graph is the formula in ember ops
    *[
        OpCase(
            name,
            lambda x, r=ref, d=dim: r(x, d),
            [(2, 3, 5)],
            kwargs={"dim": dim},
            opts={"gradgrad": True},
            id=f"{name}-dim{dim}",
        )
        for name, ref in [
            ("softmax", np_softmax),
            ("log_softmax", lambda x, dim: np.log(np_softmax(x, dim))),
            ("_safe_softmax", np_softmax),
        ]
        for dim in (-1, 1)
    ],
    # ------------------------------------------------------------ linear algebra
    OpCase("matmul", np.matmul, [(2, 3, 4), (4, 5)]),
    OpCase("mm", np.matmul, [(3, 4), (4, 2)], opts={"gradgrad": True}),
    OpCase("bmm", np.matmul, [(2, 3, 4), (2, 4, 5)]),
    OpCase("addmm", lambda c, a, b: 0.5 * c + 2 * (a @ b), [(3, 2), (3, 4), (4, 2)], kwargs={"beta": 0.5, "alpha": 2}),
    OpCase("addmm", lambda c, a, b: c + a @ b, [(2,), (3, 4), (4, 2)], id="addmm-broadcast"),
    OpCase("dot", np.dot, [(5,), (5,)]),
    OpCase("mv", np.matmul, [(3, 4), (4,)]),
    OpCase("outer", np.outer, [(3,), (4,)]),
    # ------------------------------------------------------------ views and shape
    # a transposed input has no view of another shape: view refuses it, as PyTorch
    OpCase("view", lambda x: x.reshape(4, 3), [S], args=(4, 3), opts={"noncontig": False}),
    OpCase("view_as", lambda x, y: x.reshape(y.shape), [S, (12,)], opts={"noncontig": False}),
    OpCase("reshape", lambda x: x.reshape(2, 6), [S], args=((2, 6),)),
    OpCase("reshape_as", lambda x, y: x.reshape(y.shape), [S, (6, 2)]),
    OpCase("transpose", lambda x: np.swapaxes(x, 0, 2), [(2, 3, 4)], args=(0, 2)),
    OpCase("swapaxes", lambda x: np.swapaxes(x, 1, 2), [(2, 3, 4)], kwargs={"axis0": 1, "axis1": 2}),
    OpCase("t", np.transpose, [S]),
    OpCase("permute", lambda x: np.transpose(x, (2, 0, 1)), [(2, 3, 4)], args=((2, 0, 1),)),
    OpCase("expand", lambda x: np.broadcast_to(x, (2, 3, 4)), [(3, 1)], args=(2, 3, 4)),
    OpCase("expand_as", lambda x, y: np.broadcast_to(x, y.shape), [(1, 4), S]),
    OpCase("squeeze", lambda x: np.squeeze(x, 1), [(3, 1, 4)], kwargs={"dim": 1}),
    OpCase("unsqueeze", lambda x: np.expand_dims(x, 1), [S], args=(1,)),
    OpCase("flatten", lambda x: x.reshape(2, 12), [(2, 3, 4)], kwargs={"start_dim": 1}),
    OpCase("narrow", lambda x: x[:, 1:3], [S], args=(1, 1, 2)),
    OpCase("select", lambda x: x[:, 2], [S], args=(1, 2)),
    OpCase("contiguous", lambda x: x, [S]),
    OpCase("clone", lambda x: x, [S]),
    OpCase("detach", lambda x: x, [S]),
    # ------------------------------------------------------------ joining, splitting and indexing
    OpCase("cat", lambda a, b: np.concatenate([a, b], 1), [S, (3, 2)], call=lambda op, a, b, **k: op([a, b], 1, **k)),
    OpCase("stack", lambda a, b: np.stack([a, b], 2), [S, S], call=lambda op, a, b, **k: op([a, b], 2, **k)),
    OpCase("split", lambda x: tuple(np.split(x, [1, 3], axis=1)), [S], args=([1, 2, 1], 1)),
    OpCase("chunk", lambda x: tuple(np.split(x, [2], axis=0)), [S], args=(2,)),
    OpCase("split_with_sizes", lambda x: tuple(np.split(x, [1, 3], axis=1)), [S], args=([1, 2, 1], 1)),
    OpCase("unsafe_split", lambda x: tuple(np.split(x, [2], axis=1)), [S], args=(2, 1)),
    OpCase("unsafe_split_with_sizes", lambda x: tuple(np.split(x, [1], axis=0)), [S], args=([1, 2],)),
    OpCase("unsafe_chunk", lambda x: tuple(np.split(x, [2], axis=0)), [S], args=(2,)),
    OpCase("repeat", lambda x: np.tile(x, (2, 1, 3)), [S], args=(2, 1, 3)),
    OpCase("tile", lambda x: np.tile(x, (2, 1)), [S], args=((2, 1),)),
    OpCase("tile", lambda x: np.tile(x, (2,)), [S], args=((2,),), id="tile-short"),
    OpCase("unbind", lambda x: tuple(x[:, i] for i in range(4)), [S], args=(1,)),
    OpCase(
        "gather",
        lambda x, i: np.take_along_axis(x, i, 0),
        [S, GATHER_INDEX],
        call=lambda op, x, i, **k: op(x, 0, i, **k),
    ),
    OpCase("scatter_add", None, [S, GATHER_INDEX, (2, 4)], call=lambda op, x, i, s, **k: op(x, 0, i, s, **k)),
    OpCase("index_select", lambda x, i: x[i], [S, SELECT_INDEX], call=lambda op, x, i, **k: op(x, 0, i, **k)),
    OpCase("masked_fill", lambda x, m: np.where(m, 1.5, x), [S, MASK], args=(1.5,)),
    OpCase("nonzero", lambda x: np.argwhere(x), [ints(3, 4, low=-1, high=2)]),
    # ------------------------------------------------------------ sorting and searching
    OpCase("sort", lambda x: (np.sort(x, 1), np.argsort(x, 1, kind="stable")), [S], kwargs={"dim": 1}),
    OpCase(
        "sort",
        lambda x: (-np.sort(-x, 0), np.argsort(-x, 0, kind="stable")),
        [S],
        kwargs={"dim": 0, "descending": True, "stable": True},
        id="sort-descending",
    ),
    OpCase("argsort", lambda x: np.argsort(x, -1, kind="stable"), [S]),
    OpCase("msort", lambda x: np.sort(x, 0), [S]),
    OpCase("topk", lambda x: (-np.sort(-x, 1)[:, :2], np.argsort(-x, 1, kind="stable")[:, :2]), [S], args=(2,)),
    OpCase(
        "topk",
        lambda x: (np.sort(x, 0)[:2], np.argsort(x, 0, kind="stable")[:2]),
        [S],
        args=(2, 0, False),
        id="topk-smallest",
    ),
    OpCase("kthvalue", lambda x: (np.sort(x, 1)[:, 1], np.argsort(x, 1, kind="stable")[:, 1]), [S], args=(2,)),
    OpCase("median", lambda x: np.sort(x, None)[(x.size - 1) // 2], [S]),
    OpCase(
        "median",
        lambda x: (np.sort(x, 1)[:, 1:2], np.argsort(x, 1, kind="stable")[:, 1:2]),
        [S],
        kwargs={"dim": 1, "keepdim": True},
        id="median-dim",
    ),
    OpCase("nanmedian", lambda x: np.sort(x, None)[(x.size - 1) // 2], [S]),
    OpCase(
        "nanmedian",
        lambda x: (np.array([2.0, 1.5]), np.array([1, 0])),
        [np.array([[np.nan, 2.0, 3.0, 1.0], [1.5, np.nan, np.nan, 4.0]])],
        args=(1,),
        opts={"grad": False},
        id="nanmedian-nan",
    ),
    OpCase(
        "searchsorted",
        lambda s, v: np.searchsorted(s, v),
        [np.array([1.0, 2.0, 3.0, 5.0]), np.array([[0.5, 2.0], [4.0, 9.0]])],
    ),
    OpCase(
        "searchsorted",
        lambda s, v: np.searchsorted(s, v, side="right"),
        [np.array([1.0, 2.0, 2.0, 5.0]), np.array([2.0, 0.0, 5.0])],
        kwargs={"side": "right"},
        id="searchsorted-right",
    ),
    OpCase(
        "bucketize", lambda v, b: np.searchsorted(b, v), [np.array([[0.5, 2.0], [4.0, 9.0]]), np.array([1.0, 2.0, 5.0])]
    ),
    OpCase("isin", np.isin, [ints(3, 4), np.array([1, 3, -2])]),
    OpCase("count_nonzero", lambda x: np.count_nonzero(x, axis=0), [ints(3, 4, low=-1, high=2)], kwargs={"dim": 0}),
    OpCase(
        "unique",
        lambda x: (
            np.unique(x),
            np.unique(x, return_inverse=True)[1].reshape(x.shape),
            np.unique(x, return_counts=True)[1],
        ),
        [ints(3, 4)],
        kwargs={"return_inverse": True, "return_counts": True},
    ),
    OpCase("unique_consecutive", lambda x: np.array([1, 2, 1, 3]), [np.array([1, 1, 2, 1, 3, 3])]),
    # ------------------------------------------------------------ diagonals and triangles
    OpCase("diagonal", lambda x: np.diagonal(x, 1, 0, 2), [(3, 2, 4)], kwargs={"offset": 1, "dim1": 0, "dim2": 2}),
    OpCase("diag", lambda x: np.diag(x, -1), [S], args=(-1,)),
    OpCase("diag", lambda x: np.diag(x, 1), [(3,)], args=(1,), id="diag-1d"),
    OpCase("diag_embed", lambda x: np.stack([np.diag(r) for r in x]), [(2, 3)]),
    OpCase("tril", lambda x: np.tril(x, 1), [S], args=(1,)),
    OpCase("triu", lambda x: np.triu(x, -1), [(2, 3, 4)], args=(-1,)),
    # ------------------------------------------------------------ reducing scatters
    *[_scatter_reduce_case(r, inc) for r in ("sum", "prod", "mean", "amax", "amin") for inc in (True, False)],
    *[_index_reduce_case(r) for r in ("prod", "mean", "amax", "amin")],
    # ------------------------------------------------------------ neural networks
    OpCase(
        "conv2d",
        lambda x, w: np_conv2d(x, w, 1),
        [(1, 2, 5, 5), (3, 2, 3, 3)],
        kwargs={"padding": 1},
        opts={"rtol32": 1e-3, "atol32": 1e-4},
    ),
    OpCase("max_pool2d", np_max_pool2, [(1, 2, 4, 4)], args=(2,)),
    # ------------------------------------------------------------ operators
    OpCase("__add__", np.add, [S, (4,)]),
    OpCase("__radd__", lambda a, b: b + a, [S, S]),
    OpCase("__sub__", np.subtract, [S, S]),
    OpCase("__rsub__", lambda a, b: b - a, [S, S]),
    OpCase("__mul__", np.multiply, [S, S]),
    OpCase("__rmul__", lambda a, b: b * a, [S, (4,)]),
    OpCase("__truediv__", np.divide, [S, S], opts={"min_abs": 0.3}),
    OpCase("__rtruediv__", lambda a, b: b / a, [S, S], opts={"min_abs": 0.3}),
    OpCase("__pow__", np.power, [S, S], opts={"low": 0.5}),
    OpCase("__rpow__", lambda a, b: b**a, [S, S], opts={"low": 0.5}),
    OpCase("__matmul__", np.matmul, [(3, 4), (4, 2)]),
    OpCase("__rmatmul__", lambda a, b: b @ a, [(4, 2), (3, 4)]),
    *[
        OpCase(n, f, [ints(3, 4), ints(3, 4)])
        for n, f in [
            ("__eq__", np.equal),
            ("__ne__", np.not_equal),
            ("__lt__", np.less),
            ("__le__", np.less_equal),
            ("__gt__", np.greater),
            ("__ge__", np.greater_equal),
            ("__and__", np.bitwise_and),
            ("__or__", np.bitwise_or),
            ("__xor__", np.bitwise_xor),
        ]
    ],
    OpCase("__rand__", np.bitwise_and, [bools(3, 4), bools(3, 4)]),
    OpCase("__ror__", np.bitwise_or, [ints(3, 4), ints(3, 4)]),
    OpCase("__rxor__", np.bitwise_xor, [ints(3, 4), ints(3, 4)]),
    OpCase("__lshift__", np.left_shift, [ints(3, 4), SHIFTS]),
    OpCase("__rlshift__", lambda a, b: np.left_shift(b, a), [SHIFTS, ints(3, 4)]),
    OpCase("__rshift__", np.right_shift, [ints(3, 4), SHIFTS]),
    OpCase("__rrshift__", lambda a, b: np.right_shift(b, a), [SHIFTS, ints(3, 4)]),
    OpCase("__iadd__", np.add, [S, S], call=inplace_call("__iadd__")),
    OpCase("__isub__", np.subtract, [S, S], call=inplace_call("__isub__")),
    OpCase("__imul__", np.multiply, [S, (4,)], call=inplace_call("__imul__")),
    OpCase("__itruediv__", np.divide, [S, S], call=inplace_call("__itruediv__"), opts={"min_abs": 0.3}),
    OpCase("__ipow__", np.power, [S, S], call=inplace_call("__ipow__"), opts={"low": 0.5}),
    OpCase("__iand__", np.bitwise_and, [ints(3, 4), ints(3, 4)], call=inplace_call("__iand__")),
    OpCase("__ior__", np.bitwise_or, [ints(3, 4), ints(3, 4)], call=inplace_call("__ior__")),
    OpCase("__ixor__", np.bitwise_xor, [ints(3, 4), ints(3, 4)], call=inplace_call("__ixor__")),
    OpCase("__ilshift__", np.left_shift, [ints(3, 4), SHIFTS], call=inplace_call("__ilshift__")),
    OpCase("__irshift__", np.right_shift, [ints(3, 4), SHIFTS], call=inplace_call("__irshift__")),
    OpCase("__floordiv__", np.floor_divide, [S, (4,)], opts={"min_abs": 0.3}),
    OpCase(
        "__floordiv__", np.floor_divide, [ints(3, 4, low=-20, high=20), ints(4, low=1, high=6)], id="__floordiv__-int"
    ),
    OpCase("__rfloordiv__", lambda a, b: np.floor_divide(b, a), [DIVISOR, DIVIDEND]),
    OpCase("__mod__", np.remainder, [DIVIDEND, DIVISOR]),
    OpCase("__rmod__", lambda a, b: np.remainder(b, a), [DIVISOR, DIVIDEND]),
    OpCase(
        "__rmod__",
        lambda a, b: np.remainder(b, a),
        [ints(3, 4, low=1, high=6), ints(3, 4, low=-20, high=20)],
        id="__rmod__-int",
    ),
    OpCase("__ifloordiv__", np.floor_divide, [DIVIDEND, DIVISOR], call=inplace_call("__ifloordiv__")),
    OpCase("__imod__", np.remainder, [DIVIDEND, DIVISOR], call=inplace_call("__imod__")),
    OpCase("__neg__", np.negative, [S]),
    OpCase("__pos__", lambda x: x, [S]),
    OpCase("__abs__", np.abs, [S], opts={"min_abs": 0.1}),
    OpCase("__invert__", np.invert, [ints(3, 4)]),
]


# scatter_add's reference: numpy's add.at on a copy.
def _np_scatter_add(x, i, s):
    out = x.copy()
    for r in range(i.shape[0]):
        for c in range(i.shape[1]):
            out[i[r, c], c] += s[r, c]
    return out


for _case in CASES:
    if _case.name == "scatter_add":
        _case.ref = _np_scatter_add
    # scipy, when present, is the reference of igamma (test_ops_sort_scatter.py has a table without it)
    if _case.name in ("igamma", "igammac") and _scipy_special is not None:
        _f = _scipy_special.gammainc if _case.name == "igamma" else _scipy_special.gammaincc
        _case.ref = _f

# Registered names without a case above, each with the test that covers it.
COVERED_ELSEWHERE = {
    "__bool__": "test_registry.py::test_python_number_conversions",
    "__float__": "test_registry.py::test_python_number_conversions",
    "__int__": "test_registry.py::test_python_number_conversions",
    "__index__": "test_registry.py::test_python_number_conversions",
    "__hash__": "test_registry.py::test_python_number_conversions",
    "float": "test_registry.py::test_dtype_conversions",
    "double": "test_registry.py::test_dtype_conversions",
    "long": "test_registry.py::test_dtype_conversions",
    "int": "test_registry.py::test_dtype_conversions",
    "bool": "test_registry.py::test_dtype_conversions",
    "half": "test_registry.py::test_dtype_conversions",
    "bfloat16": "test_registry.py::test_dtype_conversions",
    "short": "test_registry.py::test_dtype_conversions",
    "char": "test_registry.py::test_dtype_conversions",
    "byte": "test_registry.py::test_dtype_conversions",
    "type_as": "test_registry.py::test_dtype_conversions",
    "_to_dtype": "test_registry.py::test_dtype_conversions",
    "_to_device": "test_registry.py::test_dtype_conversions; across devices test_cuda.py (GPU)",
    "manual_seed": "test_autograd.py (seeded random tensors repeat)",
    "initial_seed": "test_registry.py::test_utilities",
    "get_rng_state": "test_registry.py::test_utilities",
    "set_rng_state": "test_registry.py::test_utilities",
    "result_type": "test_registry.py::test_utilities",
    "set_num_threads": "test_threads.py",
    # differentiable as PyTorch's, whose backward raises: test_ops_sort_scatter.py checks it
    "unique": "test_ops_sort_scatter.py::test_unique_outputs",
    "igamma": "test_ops_sort_scatter.py::test_igamma_gradient",
    "igammac": "test_ops_sort_scatter.py::test_igamma_gradient",
    "unique_consecutive": "test_ops_sort_scatter.py::test_unique_outputs",
    "get_num_threads": "test_threads.py",
}


def cases_for(name: str) -> list[OpCase]:
    return [c for c in CASES if c.name == name]


def registry() -> list[dict]:
    return list(ember._C._op_registry())
