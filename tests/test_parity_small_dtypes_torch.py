"""uint8, int8, int16, float16 and bfloat16 against PyTorch itself: the promotion table, values of the
common ops (bit for bit where PyTorch rounds once), reprs, and checkpoints and DLPack in both
directions. Runs only where PyTorch is importable."""

import io
import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import ember  # noqa: E402

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64"]
NARROW = ["uint8", "int8", "int16", "float16", "bfloat16"]
UNSIGNED = ["uint16", "uint32", "uint64"]  # PyTorch's shell dtypes: few ops, no promotion with integers


def both(name):
    return getattr(ember, name), getattr(torch, name)


def assert_same(e, t):
    assert e.dtype.name == str(t.dtype).split(".")[-1]
    assert e.shape == tuple(t.shape)
    if t.dtype == torch.bfloat16:
        np.testing.assert_array_equal(e.float().numpy(), t.float().numpy())
    else:
        np.testing.assert_array_equal(e.numpy(), t.numpy())


@pytest.mark.parametrize("a,b", list(itertools.product(NAMES, NAMES)))
def test_promotion_table(a, b):
    (ea, ta), (eb, tb) = both(a), both(b)
    assert ember.promote_types(ea, eb).name == str(torch.promote_types(ta, tb)).split(".")[-1]


@pytest.mark.parametrize("a,b", [(u, o) for u in UNSIGNED for o in NAMES + UNSIGNED] + [(o, "uint32") for o in NAMES])
def test_unsigned_promotion_matches_including_refusals(a, b):
    (ea, ta), (eb, tb) = both(a), both(b)
    try:
        want = str(torch.promote_types(ta, tb)).split(".")[-1]
    except RuntimeError as err:
        with pytest.raises(RuntimeError, match=str(err).replace("(", "\\(").replace(")", "\\)")):
            ember.promote_types(ea, eb)
    else:
        assert ember.promote_types(ea, eb).name == want


def data(name, seed=0):
    rng = np.random.default_rng(seed)
    if name in ("float16", "bfloat16"):
        t = torch.from_numpy(rng.standard_normal((4, 6)).astype(np.float32) * 3).to(getattr(torch, name))
    else:
        info = np.iinfo(np.dtype(name))
        t = torch.from_numpy(rng.integers(info.min, info.max, (4, 6), dtype=name, endpoint=True))
    e = (
        ember.from_numpy(t.float().numpy()).to(getattr(ember, name))
        if name == "bfloat16"
        else (ember.from_numpy(t.numpy().copy()))
    )
    return e, t


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "max": lambda a, b: a.maximum(b),
    "lt": lambda a, b: a < b,
    "where": lambda a, b: a.where(a > b, b),
}
UNARY = {
    "neg_or_abs": lambda a: a.abs(),
    "sum": lambda a: a.sum(1),
    "max": lambda a: a.max(0).values,
    "argmax": lambda a: a.argmax(1),
    "sort": lambda a: a.sort(1).values,
    "cumsum": lambda a: a.cumsum(1),
    "t_contiguous": lambda a: a.t().contiguous(),
    "index": lambda a: a[[2, 0, 2]],
    "float": lambda a: a.float(),
    "short": lambda a: a.short(),
    "byte": lambda a: a.byte(),
    "scalar": lambda a: a * 3,
}


@pytest.mark.parametrize("name", NARROW)
@pytest.mark.parametrize("op", sorted(BINARY))
def test_binary_ops_match(name, op):
    (ea, ta), (eb, tb) = data(name, 1), data(name, 2)
    if op == "div" and name not in ("float16", "bfloat16"):
        tb = tb.clamp(min=1) if name == "uint8" else tb.abs().clamp(min=1)
        eb = ember.from_numpy(tb.numpy().copy())
    assert_same(BINARY[op](ea, eb), BINARY[op](ta, tb))


@pytest.mark.parametrize("name", NARROW)
@pytest.mark.parametrize("op", sorted(UNARY))
def test_unary_ops_match(name, op):
    e, t = data(name, 3)
    assert_same(UNARY[op](e), UNARY[op](t))


@pytest.mark.parametrize("name", ["float16", "bfloat16"])
def test_float_kernels_round_once_as_pytorch(name):
    (ea, ta), (eb, tb) = data(name, 4), data(name, 5)
    assert_same(ea @ eb.t(), ta @ tb.t())
    assert_same(ea.softmax(1), ta.softmax(1))
    assert_same(ea.log_softmax(0), ta.log_softmax(0))
    assert_same(ea.mean(1), ta.mean(1))
    for fn in ("exp", "tanh", "sigmoid", "sin"):
        got, want = getattr(ea, fn)(), getattr(ta, fn)()
        np.testing.assert_allclose(got.float().numpy(), want.float().numpy(), rtol=ember.finfo(ea.dtype).eps)


# Note [Half-float arithmetic]: a scalar of mul and the divisions stays float, of add and sub is rounded first;
# alpha, lerp, addcmul and addcdiv round once
HALF_SCALAR_OPS = {
    "mul_number": lambda L, a, b: a * 0.1,
    "mul_0d": lambda L, a, b: a * L.tensor(0.1, dtype=L.float64),
    "div_number": lambda L, a, b: a / 3.0,
    "floor_divide": lambda L, a, b: a // 0.1,
    "trunc_divide": lambda L, a, b: L.div(a, 0.3, rounding_mode="trunc"),
    "mul_inplace": lambda L, a, b: a.clone().mul_(0.1),
    "div_inplace": lambda L, a, b: a.clone().div_(0.7),
    "add_number": lambda L, a, b: a + 0.1,
    "rsub_number": lambda L, a, b: 0.1 - a,
    "lerp_number": lambda L, a, b: L.lerp(a, b, 0.1),
    "lerp_half": lambda L, a, b: L.lerp(a, b, 0.5),
    "addcdiv": lambda L, a, b: L.addcdiv(a, b, b.abs() + 1, value=0.3),
    "foreach_mul_inplace": lambda L, a, b: L._foreach_mul_([a.clone(), b.clone()], [0.1, 0.3])[0],  # rounds 0.1
    "foreach_div_inplace": lambda L, a, b: L._foreach_div_([a.clone()], 0.3)[0],  # keeps 0.3 in float
    "foreach_mul": lambda L, a, b: L._foreach_mul([a], 0.1)[0],
}
# these PyTorch computes with a fused multiply-add: the odd last bit differs
HALF_FUSED_OPS = {
    "add_alpha": lambda L, a, b: L.add(a, b, alpha=0.1),
    "sub_alpha": lambda L, a, b: L.sub(a, b, alpha=0.3),
    "add_alpha_inplace": lambda L, a, b: a.clone().add_(b, alpha=0.1),
    "lerp_upper": lambda L, a, b: L.lerp(a, b, 0.7),
    "lerp_inplace": lambda L, a, b: a.clone().lerp_(b, 0.3),
    "addcmul": lambda L, a, b: L.addcmul(a, b, b, value=0.3),
}


def half_pair(name, seed):
    a = np.random.default_rng(seed).standard_normal(4000).astype(np.float32)
    return ember.tensor(a).to(getattr(ember, name)), torch.tensor(a).to(getattr(torch, name))


@pytest.mark.parametrize("name", ["float16", "bfloat16"])
@pytest.mark.parametrize("op", sorted(HALF_SCALAR_OPS))
def test_half_float_scalars_and_composites_round_as_pytorch(name, op):
    (ea, ta), (eb, tb) = half_pair(name, 11), half_pair(name, 12)
    assert_same(HALF_SCALAR_OPS[op](ember, ea, eb), HALF_SCALAR_OPS[op](torch, ta, tb))


@pytest.mark.parametrize("name", ["float16", "bfloat16"])
@pytest.mark.parametrize("op", sorted(HALF_FUSED_OPS))
def test_half_float_fused_composites_round_once_as_pytorch(name, op):
    (ea, ta), (eb, tb) = half_pair(name, 13), half_pair(name, 14)
    got, want = HALF_FUSED_OPS[op](ember, ea, eb).float().numpy(), HALF_FUSED_OPS[op](torch, ta, tb).float().numpy()
    assert np.mean(got != want) < 0.005  # rounding twice differed in 5-25% of these
    np.testing.assert_allclose(got, want, rtol=ember.finfo(getattr(ember, name)).eps)


@pytest.mark.parametrize("name", ["float16", "bfloat16"])
def test_product_sums_round_as_pytorch(name):
    """baddbmm and addmv round once, addr rounds the outer product first, addbmm rounds after each
    product: the values PyTorch gives, but for the odd last-bit difference of summation order."""
    rng = np.random.default_rng(7)
    arrays = {
        "c2": (48, 96), "c": (48,), "w": (96,), "m": (48, 96), "b1": (4, 48, 8), "b2": (4, 8, 96),
    }  # fmt: skip
    e, t = {}, {}
    for key, shape in arrays.items():
        a = rng.standard_normal(shape).astype(np.float32)
        e[key], t[key] = ember.tensor(a).to(getattr(ember, name)), torch.tensor(a).to(getattr(torch, name))
    for call in (
        lambda L, x: L.baddbmm(x["c2"], x["b1"], x["b2"], beta=0.5, alpha=0.3),
        lambda L, x: L.addbmm(x["c2"], x["b1"], x["b2"], beta=0.5, alpha=0.3),
        lambda L, x: L.addmv(x["c"], x["m"], x["w"]),
        lambda L, x: L.addr(x["c2"], x["c"], x["w"], beta=0.5),
    ):
        got, want = call(ember, e).float().numpy(), call(torch, t).float().numpy()
        assert np.mean(got != want) < 0.01
        np.testing.assert_allclose(got, want, rtol=2 * ember.finfo(getattr(ember, name)).eps)


@pytest.mark.parametrize("name", NARROW + UNSIGNED)
def test_repr_matches(name):
    e, t = data(name, 6)
    assert repr(e).replace("ember.", "torch.") == repr(t)
    assert repr(e[0, 0]).replace("ember.", "torch.") == repr(t[0, 0])


@pytest.mark.parametrize("name", NARROW + UNSIGNED)
def test_checkpoints_open_both_ways(name):
    e, t = data(name, 7)
    buf = io.BytesIO()
    torch.save({"w": t, "view": t[1:, ::2]}, buf)
    buf.seek(0)
    loaded = ember.load(buf)
    assert_same(loaded["w"], t)
    assert_same(loaded["view"], t[1:, ::2])
    buf = io.BytesIO()
    ember.save({"w": e}, buf)
    buf.seek(0)
    assert_same(e, torch.load(buf)["w"])


@pytest.mark.parametrize("name", NARROW + UNSIGNED)
def test_dlpack_both_ways(name):
    e, t = data(name, 8)
    assert_same(e, torch.from_dlpack(e))
    back = ember.from_dlpack(t)
    assert_same(back, t)
    back[0, 0] = 1  # shares memory
    assert t[0, 0].item() == 1


def test_errors_match():
    with pytest.raises(RuntimeError, match="floating point"):
        ember.zeros(2, dtype=ember.uint8, requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        torch.zeros(2, dtype=torch.uint8, requires_grad=True)
    with pytest.raises(TypeError, match="BFloat16"):
        ember.ones(1, dtype=ember.bfloat16).numpy()
    with pytest.raises(TypeError, match="BFloat16"):
        torch.ones(1, dtype=torch.bfloat16).numpy()


@pytest.mark.parametrize("src,dst", [(a, b) for a in NAMES[1:] + UNSIGNED for b in NAMES[1:] + UNSIGNED])
def test_view_dtype_matches(src, dst):
    # every pair but bool (PyTorch lets bytes other than 0 and 1 through; ember refuses them)
    raw = np.random.default_rng(9).integers(0, 256, (2, 16), dtype=np.uint8)
    t = torch.from_numpy(raw.copy()).view(getattr(torch, src))
    e = ember.from_numpy(raw.copy()).view(getattr(ember, src))
    assert_same(e.view(getattr(ember, dst)), t.view(getattr(torch, dst)))


UNSIGNED_OPS = {  # the ops PyTorch 2.x implements for uint16/32/64 on the CPU
    "mul": lambda a: a * a,
    "eq": lambda a: a == a[[1, 0, 3, 2]],
    "and": lambda a: a & a[[3, 2, 1, 0]],
    "or": lambda a: a | 3,
    "sum": lambda a: a.sum(1),
    "cumsum": lambda a: a.cumsum(1),
    "sort": lambda a: a.sort(1).values,
    "unique": lambda a: a.unique(),
    "cat": None,  # below: ember.cat and torch.cat
    "index": lambda a: a[[2, 0, 2]],
    "float": lambda a: a.double(),
    "to_long": lambda a: a.long(),
    "div": lambda a: a / 7,
}


@pytest.mark.parametrize("name", UNSIGNED)
@pytest.mark.parametrize("op", sorted(UNSIGNED_OPS))
def test_unsigned_ops_match(name, op):
    e, t = data(name, 11)
    if name == "uint64":  # ember computes uint64 in int64: values below 2**63
        t = torch.from_numpy(t.numpy() // 2)
        e = ember.from_numpy(t.numpy().copy())
    fn = UNSIGNED_OPS[op]
    if op == "cat":
        got, want = ember.cat([e, e[:1]]), torch.cat([t, t[:1]])
    else:
        got, want = fn(e), fn(t)
    assert got.dtype.name == str(want.dtype).split(".")[-1]
    np.testing.assert_array_equal(got.numpy(), want.numpy())
