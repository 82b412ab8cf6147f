"""The torch-level composite functions and legacy names against PyTorch itself: forward values and
dtypes, gradients, and the error types. Each case is written once as ``fn(lib, *tensors)`` and run
with ``lib=ember`` and ``lib=torch``. Runs only where PyTorch is importable."""

import itertools
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import ember  # noqa: E402


def case(id_, inputs, fn, **opts):
    return pytest.param(inputs, fn, opts, id=id_)


S = (3, 4)
NAN, INF = float("nan"), float("inf")
COORDS = [0.0, 1.0, 2.5, 3.0]
CASES = [
    case("einsum_matmul", [(3, 4), (4, 5)], lambda m, a, b: m.einsum("ij,jk->ik", a, b)),
    case("einsum_trace", [(3, 3)], lambda m, a: m.einsum("ii", a)),
    case("einsum_diag_batch", [(2, 3, 3)], lambda m, a: m.einsum("bii->bi", a)),
    case("einsum_ellipsis", [(2, 3, 4), (2, 4)], lambda m, a, b: m.einsum("...ij,...j->...i", a, b)),
    case(
        "einsum_attention", [(2, 3, 4), (2, 5, 4), (2, 5, 6)], lambda m, q, k, v: m.einsum("bqd,bkd,bke->bqe", q, k, v)
    ),
    case("einsum_broadcast_label", [(2, 1, 4), (3, 4)], lambda m, a, b: m.einsum("bij,jk->bik", a, b.t())),
    case("einsum_implicit", [(2, 3), (3, 2)], lambda m, a, b: m.einsum("ba,ac", a, b)),
    case("einsum_outer_sum", [(3,), (4,)], lambda m, a, b: m.einsum("i,j->", a, b)),
    case("einsum_sublist", [(3, 4), (4,)], lambda m, a, b: m.einsum(a, [0, 1], b, [1], [0])),
    case("tensordot", [(2, 3, 4), (4, 3, 5)], lambda m, a, b: m.tensordot(a, b, dims=([1, 2], [1, 0]))),
    case("kron", [(2, 3), (2, 2)], lambda m, a, b: m.kron(a, b)),
    case("kron_3d", [(2, 1, 2), (2, 2)], lambda m, a, b: a.kron(b)),
    case("chain_matmul", [(2, 3), (3, 4), (4, 2)], lambda m, a, b, c: m.chain_matmul(a, b, c)),
    case("baddbmm", [(3, 5), (2, 3, 4), (2, 4, 5)], lambda m, i, a, b: i.baddbmm(a, b, beta=0.5, alpha=-2)),
    case("addbmm", [(3, 5), (2, 3, 4), (2, 4, 5)], lambda m, i, a, b: m.addbmm(i, a, b, alpha=3)),
    case("addmv", [(3,), (3, 4), (4,)], lambda m, i, a, v: m.addmv(i, a, v, beta=0)),
    case("addr", [(3, 4), (3,), (4,)], lambda m, i, a, b: i.addr(a, b, beta=2, alpha=0.5)),
    case("inner", [(2, 4), (3, 4)], lambda m, a, b: a.inner(b)),
    case("vdot", [(4,), (4,)], lambda m, a, b: m.vdot(a, b)),
    case("dist", [(3, 4), (3, 4)], lambda m, a, b: a.dist(b, 1.5)),
    case("block_diag", [(2, 3), (2,), ()], lambda m, *t: m.block_diag(*t)),
    case("cov", [(3, 7)], lambda m, a: a.cov()),
    case("cov_aweights", [(2, 5), (5,)], lambda m, a, w: m.cov(a, aweights=w.abs() + 0.1, correction=0)),
    case("corrcoef", [(3, 6)], lambda m, a: a.corrcoef()),
    case("broadcast_tensors", [(3, 1), (1, 4)], lambda m, a, b: m.broadcast_tensors(a, b)),
    case("broadcast_to", [(3, 1)], lambda m, a: a.broadcast_to((2, -1, 4))),
    case("meshgrid_ij", [(3,), (4,)], lambda m, a, b: m.meshgrid(a, b, indexing="ij")),
    case("meshgrid_xy", [(3,), (4,), (2,)], lambda m, *t: m.meshgrid(*t, indexing="xy")),
    case("atleast_3d", [(), (3,), (2, 3)], lambda m, *t: m.atleast_3d(*t)),
    case("hstack", [(2, 3), (2, 2)], lambda m, a, b: m.hstack([a, b])),
    case("vstack", [(3,), (2, 3)], lambda m, a, b: m.vstack((a, b))),
    case("dstack", [(3,), (3,)], lambda m, a, b: m.dstack([a, b])),
    case("column_stack", [(3,), (3, 2)], lambda m, a, b: m.column_stack([a, b])),
    case("row_stack", [(3,), (3,)], lambda m, a, b: m.row_stack([a, b])),
    case("tensor_split", [(7, 3)], lambda m, a: a.tensor_split(3)),
    case("tensor_split_indices", [(3, 7)], lambda m, a: m.tensor_split(a, [2, -1, 9], dim=1)),
    case("hsplit", [(2, 6)], lambda m, a: a.hsplit([1, 4])),
    case("vsplit", [(4, 3)], lambda m, a: m.vsplit(a, 2)),
    case("dsplit", [(2, 2, 6)], lambda m, a: a.dsplit(3)),
    case("cartesian_prod", [(2,), (3,), (2,)], lambda m, *t: m.cartesian_prod(*t)),
    case("combinations", [(4,)], lambda m, a: m.combinations(a, 3)),
    case("combinations_repl", [(3,)], lambda m, a: m.combinations(a, with_replacement=True)),
    case("diagflat", [(3,)], lambda m, a: a.diagflat(-1)),
    case("vander", [(3,)], lambda m, a: m.vander(a, 4), grad=False),  # PyTorch's own backward fails
    case("movedim", [(2, 3, 4)], lambda m, a: a.movedim((0, 2), (1, 0))),
    case("moveaxis", [(2, 3, 4)], lambda m, a: m.moveaxis(a, 1, -1)),
    case("unflatten", [(2, 12)], lambda m, a: a.unflatten(-1, (-1, 2, 3))),
    case("ravel", [(3, 4)], lambda m, a: a.t().ravel()),
    case("narrow_copy", [(4, 3)], lambda m, a: a.narrow_copy(1, 1, 2)),
    case("adjoint", [(2, 3, 4)], lambda m, a: m.adjoint(a)),
    case("sum_to_size", [(2, 3, 4)], lambda m, a: a.sum_to_size((1, 4))),
    case("diff", [(3, 5)], lambda m, a: a.diff(n=2)),
    case("diff_prepend", [(3, 5), (3, 2)], lambda m, a, p: m.diff(a, dim=1, prepend=p, append=p)),
    case("trapezoid", [(3, 5)], lambda m, a: m.trapezoid(a, dim=0)),
    case("trapezoid_x", [(3, 5), (3, 5)], lambda m, y, x: m.trapezoid(y, x)),
    case("trapz_dx", [(3, 5)], lambda m, a: m.trapz(a, dx=0.3)),
    case("cumulative_trapezoid", [(3, 5), (5,)], lambda m, y, x: m.cumulative_trapezoid(y, x)),
    case("isclose", [(3, 4), (3, 4)], lambda m, a, b: m.isclose(a, a + b * 1e-6)),
    case("logit", [(3, 4)], lambda m, a: m.logit(a.abs() * 0.4 + 0.05)),
    case("logit_eps", [(3, 4)], lambda m, a: (a.abs() * 0.4 + 0.05).logit(0.2)),
    case("sgn", [(3, 4)], lambda m, a: a.sgn()),
    case("deg2rad", [(3, 4)], lambda m, a: m.deg2rad(a)),
    case("rad2deg", [(3, 4)], lambda m, a: a.rad2deg()),
    case("copysign", [(3, 4), (4,)], lambda m, a, b: m.copysign(a, b)),
    case("copysign_scalar", [(3, 4)], lambda m, a: a.copysign(-1.0)),
    case("float_power", [(3, 4)], lambda m, a: a.abs().float_power(1.5)),
    case("fmax", [(3, 4), (3, 4)], lambda m, a, b: m.fmax(a, b)),
    case("fmin", [(3, 4), (4,)], lambda m, a, b: a.fmin(b)),
    case("sinc", [(3, 4)], lambda m, a: m.sinc(a)),
    case("renorm", [(3, 4, 2)], lambda m, a: a.renorm(2, 1, 1.5)),
    case("angle", [(3, 4)], lambda m, a: m.angle(a)),
    # PyTorch's gradient is 0 where the integer exponent is negative (2 ** -2 in integers); ember's is 2 ** -2
    case("ldexp", [(3, 4)], lambda m, a: a.ldexp(m.tensor([1, -2, 0, 3])), grad=False),
    case("ldexp_float", [(3, 4), (4,)], lambda m, a, e: m.ldexp(a, e)),
    case("cross", [(2, 3, 4), (3, 1)], lambda m, a, b: m.cross(a, b.expand(2, 3, 4), dim=1)),
    case("matrix_power", [(2, 3, 3)], lambda m, a: m.matrix_power(a * 0.5, 3)),
    case("matrix_power_1", [(3, 3)], lambda m, a: a.matrix_power(1)),
    case("H", [(3, 4)], lambda m, a: a.H),
    case("mH", [(2, 3, 4)], lambda m, a: a.mH),
    case("quantile", [(3, 6)], lambda m, a: a.quantile(m.tensor([0.2, 0.5], dtype=m.float64), dim=1, keepdim=True)),
    case("quantile_nearest", [(4, 5)], lambda m, a: m.quantile(a, 0.375, 0, interpolation="nearest")),
    case("nanquantile", [(3, 6)], lambda m, a: m.nanquantile(m.where(a > 1.5, a * NAN, a), 0.7, 1)),
    case("aminmax", [(3, 4)], lambda m, a: m.aminmax(a, dim=0, keepdim=True)),
    case("cdist", [(2, 3, 4), (2, 5, 4)], lambda m, a, b: m.cdist(a, b)),
    case("cdist_inf", [(3, 4), (5, 4)], lambda m, a, b: m.cdist(a, b, p=float("inf"))),
    case("gradient", [(3, 4, 5)], lambda m, a: m.gradient(a, spacing=[1.0, 2.0], dim=(0, 2), edge_order=2)),
    case(
        "gradient_coords",
        [(4, 3)],
        lambda m, a: m.gradient(a, spacing=(m.tensor([0.0, 1.0, 2.5, 3.0], dtype=m.float64),), dim=0),
    ),
    case("slice_scatter", [(3, 6), (3, 2)], lambda m, a, b: m.slice_scatter(a, b, dim=1, start=1, step=3)),
    case("select_scatter", [(2, 3, 4), (2, 4)], lambda m, a, b: m.select_scatter(a, b, 1, -1)),
    case("diagonal_scatter", [(2, 3, 3), (3, 2)], lambda m, a, b: a.diagonal_scatter(b, 0, 0, 2)),
    case("positive", [(3,)], lambda m, a: m.positive(a) * 1),
    case("resolve", [(3,)], lambda m, a: m.resolve_neg(m.resolve_conj(a.conj())) * 1),
]


def _arrays(inputs, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-2, 2, size=s) for s in inputs]


def _tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _run(lib, arrays, fn, grad=True):
    ins = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outs = _tuple(fn(lib, *ins))
    floats = [o for o in outs if o.is_floating_point() and o.requires_grad]
    if floats and grad:
        total = sum((o * (k + 1.5)).sum() for k, o in enumerate(floats))  # distinct weights per output
        grads = lib.autograd.grad(total, ins, allow_unused=True)
    else:
        grads = [None] * len(ins)
    return outs, grads


@pytest.mark.parametrize("inputs, fn, opts", CASES)
def test_against_torch(inputs, fn, opts):
    arrays = _arrays(inputs)
    e_outs, e_grads = _run(ember, arrays, fn, opts.get("grad", True))
    t_outs, t_grads = _run(torch, arrays, fn, opts.get("grad", True))
    assert len(e_outs) == len(t_outs)
    for e, t in zip(e_outs, t_outs):
        assert tuple(e.shape) == tuple(t.shape)
        assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-10, atol=1e-12)
    for k, (e, t, a) in enumerate(zip(e_grads, t_grads, arrays)):
        # No gradient and a gradient of zeros are the same to an optimizer.
        e = np.zeros_like(a) if e is None else e.numpy()
        t = np.zeros_like(a) if t is None else t.detach().numpy(force=True)
        np.testing.assert_allclose(e, t, rtol=1e-9, atol=1e-12, err_msg=f"grad of input {k}")


def test_einsum_random_equations_against_torch():
    """Random equations with repeated, shared, summed and broadcast subscripts."""
    rng = np.random.default_rng(1)
    sizes = dict(zip("abcdef", [2, 3, 4, 2, 3, 1]))
    for _ in range(40):
        terms = ["".join(rng.choice(list("abcdef"), size=rng.integers(0, 4))) for _ in range(rng.integers(1, 4))]
        present = sorted(set("".join(terms)))
        out = "".join(rng.permutation([c for c in present if rng.random() < 0.5]))
        eq = ",".join(terms) + "->" + out
        arrays = [rng.standard_normal([sizes[c] for c in t]) for t in terms]
        want = torch.einsum(eq, *[torch.tensor(a) for a in arrays]).numpy()
        got = ember.einsum(eq, *[ember.tensor(a) for a in arrays]).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12, err_msg=eq)


INTEGER_CASES = [
    lambda m: m.gcd(m.tensor([12, -18, 0, 7, 0]), m.tensor([18, 12, 5, 0, 0])),
    lambda m: m.lcm(m.tensor([4, -6, 0, 7]), m.tensor([6, 4, 5, 3])),
    lambda m: m.tensor([12, 9]).gcd_(m.tensor([8, 6])),
    lambda m: m.diff(m.tensor([1, 4, 9, 16])),
    lambda m: m.diff(m.tensor([True, False, False])),
    lambda m: m.vander(m.tensor([1, 2, 3], dtype=m.int32)),
    lambda m: m.kron(m.tensor([1, 2]), m.tensor([[1, 0], [0, 1]])),
    lambda m: m.tril_indices(3, 4, 1),
    lambda m: m.triu_indices(4, 3, -1),
    lambda m: m.unravel_index(m.tensor([[0, 5], [7, -1]]), (2, 3, 2)),
    lambda m: m.argwhere(m.tensor([[0.0, 1.5], [2.0, 0.0]])),
    lambda m: m.isposinf(m.tensor([float("inf"), -float("inf"), 1.0])),
    lambda m: m.isneginf(m.tensor([1, 2])),
    lambda m: m.isreal(m.ones(2)),
    lambda m: m.deg2rad(m.tensor([180, 90])),
    lambda m: m.copysign(m.tensor([1, 2]), -1),
    lambda m: m.copysign(m.tensor([1.0, 2.0]), m.tensor([-0.0, 0.0])),
    lambda m: m.float_power(m.tensor([2, 3]), 2),
    lambda m: m.heaviside(m.tensor([-1.0, 0.0, 2.0]), m.tensor([0.5])),
    lambda m: m.fmax(m.tensor([1.0, float("nan"), float("nan")]), m.tensor([float("nan"), 2.0, float("nan")])),
    lambda m: m.fmin(m.tensor([1]), m.tensor([2.0])),
    lambda m: m.sinc(m.tensor([0, 1])),
    lambda m: m.logit(m.tensor([1, 0])),
    lambda m: m.isclose(m.tensor([1, 2]), m.tensor([1, 3])),
    lambda m: m.isclose(
        m.tensor([1.0, float("nan"), float("inf")]), m.tensor([1.0, float("nan"), float("inf")]), equal_nan=True
    ),
    lambda m: m.combinations(m.tensor([1, 2, 3]), 2),
    lambda m: m.combinations(m.tensor([1.0]), 3),
    lambda m: m.cov(m.tensor([[1, 2, 4], [3, 1, 0]])),
    lambda m: m.cov(m.tensor([[1.0, 2, 4, 5]]), fweights=m.tensor([1, 2, 1, 1])),
    lambda m: m.corrcoef(m.tensor([1.0, 2, 4])),
    lambda m: m.block_diag(m.tensor([1, 2]), m.tensor([[3.0]])),
    lambda m: m.tensor_split(m.arange(5), m.tensor(2)),
    lambda m: m.vander(m.tensor([1.0, 2.0]), N=0),
    lambda m: m.logspace(-1, 2, 5),
    lambda m: m.logspace(0, 3, 4, base=2, dtype=m.int64),
    lambda m: m.hann_window(7),
    lambda m: m.hann_window(6, periodic=False, dtype=m.float64),
    lambda m: m.hamming_window(5, True, 0.5, 0.3),
    lambda m: m.blackman_window(6, dtype=m.float64),
    lambda m: m.bartlett_window(7),
    lambda m: m.bartlett_window(1),
    lambda m: m.matrix_power(m.tensor([[1, 1], [1, 0]]), 10),
    lambda m: m.angle(m.tensor([-1, 0, 2])),
]


@pytest.mark.parametrize("fn", INTEGER_CASES, ids=[f"values{i}" for i in range(len(INTEGER_CASES))])
def test_values_and_dtypes_against_torch(fn):
    for e, t in zip(_tuple(fn(ember)), _tuple(fn(torch)), strict=True):
        assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-6, atol=1e-7, equal_nan=True)


ERROR_CASES = [
    lambda m: m.einsum("ii", m.ones(2, 3)),
    lambda m: m.einsum("ij,jk", m.ones(2, 3), m.ones(4, 2)),
    lambda m: m.einsum("ij->ii", m.ones(2, 3)),
    lambda m: m.einsum("i2", m.ones(2)),
    lambda m: m.vdot(m.ones(2, 2), m.ones(2)),
    lambda m: m.hsplit(m.ones(2, 4), 3),
    lambda m: m.vsplit(m.ones(4), 2),
    lambda m: m.dsplit(m.ones(4, 2), 2),
    lambda m: m.hstack(m.ones(2)),
    lambda m: m.movedim(m.ones(2, 3), (0,), (0, 1)),
    lambda m: m.movedim(m.ones(2, 3), 0, 5),
    lambda m: m.unflatten(m.ones(6), 0, (4, -1)),
    lambda m: m.ones(3).adjoint(),
    lambda m: m.diff(m.arange(3), prepend=m.tensor(0)),
    lambda m: m.isclose(m.ones(2), m.ones(2), rtol=-1),
    lambda m: m.positive(m.tensor([True])),
    lambda m: m.heaviside(m.ones(2), m.ones(2, dtype=m.float64)),
    lambda m: m.broadcast_shapes((2, 3), (4, 3)),
    lambda m: m.tensor([1, 2]).sinc_(),
    lambda m: m.ones(3).float_power_(2),
    lambda m: m.is_nonzero(m.ones(2)),
    lambda m: m.finfo(m.int32),
    lambda m: m.iinfo(m.float32),
    lambda m: m.iinfo(m.bool),
    lambda m: m.set_default_dtype(m.int64),
    lambda m: m.zeros(2).type("torch.foo"),
    lambda m: m.Tensor(2.5),
    lambda m: format(m.tensor([1.5]), ".2f"),
    lambda m: m.combinations(m.ones(2, 2)),
    lambda m: m.meshgrid(m.ones(2), indexing="yx"),
    lambda m: m.tensordot(m.ones(2, 3), m.ones(2, 3), 1),
]


@pytest.mark.parametrize("fn", ERROR_CASES, ids=[f"error{i}" for i in range(len(ERROR_CASES))])
def test_error_types_against_torch(fn):
    with pytest.raises(Exception) as want:
        fn(torch)
    with pytest.raises(want.type):
        fn(ember)


def _dtypes():
    names = ["bool", "int32", "int64", "float32", "float64"]
    return [(getattr(ember, n), getattr(torch, n)) for n in names]


def test_promotion_and_casting_tables_against_torch():
    for (e1, t1), (e2, t2) in itertools.product(_dtypes(), repeat=2):
        assert ember.promote_types(e1, e2).name == str(torch.promote_types(t1, t2)).split(".")[-1]
        assert ember.can_cast(e1, e2) == torch.can_cast(t1, t2), (e1, e2)


def test_dtype_info_against_torch():
    for e, t in _dtypes():
        if e in (ember.float32, ember.float64):
            fe, ft = ember.finfo(e), torch.finfo(t)
            for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
                assert getattr(fe, attr) == getattr(ft, attr), attr
            assert repr(fe) == repr(ft)
        elif e != ember.bool:
            ie, it = ember.iinfo(e), torch.iinfo(t)
            for attr in ("bits", "max", "min", "dtype"):
                assert getattr(ie, attr) == getattr(it, attr), attr
            assert repr(ie) == repr(it)


def test_legacy_names_against_torch():
    for m in (ember, torch):
        assert m.Tensor([1, 2]).dtype == m.float32 and m.Tensor(2, 3).shape == (2, 3)
        assert m.Tensor().shape == (0,) and m.Tensor(size=(2, 3)).shape == (2, 3)
        assert m.Tensor((2, 3)).tolist() == [2.0, 3.0]
        assert isinstance(m.zeros(2), m.FloatTensor) and not isinstance(m.zeros(2), m.LongTensor)
        assert m.LongTensor([1.5]).tolist() == [1] and m.DoubleTensor(2).dtype == m.float64
        assert m.zeros(2).type("torch.LongTensor").dtype == m.int64
        assert m.zeros(2).type(m.DoubleTensor).dtype == m.float64
        assert m.zeros(2).type().split(".")[-1] == "FloatTensor"
        assert m.typename(m.ones(1)).split(".")[-1] == "FloatTensor" and m.typename(1) == "int"
        assert not m.is_storage(m.ones(1)) and not m.is_complex(m.ones(1))
        assert f"{m.tensor(1.5)}" == "1.5" and format(m.tensor(2.0), ".3f") == "2.000"
        assert not m.backends.mps.is_available() and m.backends.openmp.is_available()
    assert ember.compile(len) is len  # torch.compile wraps it: the two differ on purpose


def test_default_dtype_float64_against_torch():
    def make(m):
        return [m.tensor([1.5]), m.zeros(2), m.randn(2), m.full((1,), 2.0), m.arange(0.0, 1.0), m.eye(2),
                m.linspace(0, 1, 2), m.nn.Linear(2, 2).weight, m.Tensor(1)]  # fmt: skip

    for m in (ember, torch):
        try:
            m.set_default_dtype(m.float64)
            assert [str(t.dtype).split(".")[-1] for t in make(m)] == ["float64"] * 9
        finally:
            m.set_default_dtype(m.float32)
