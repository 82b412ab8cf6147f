"""The float elementwise transcendental kernels (Note [Vector math] in
csrc/kernels/cpu/vec_math.h) against numpy evaluated in higher precision.

Contiguous runs go to the vector functions of glibc's libmvec, strided and
broadcast runs to scalar libm (the reference path). Both must be within
MAX_ULP of the exact result, at every length around the vector width and the
OpenMP grain (kParallelGrain = 32768), and NaN, +-inf, +-0, overflow and
underflow must come out exactly as the exact function gives them.

MAX_ULP: glibc's vector functions are within 4 ulp in both dtypes (2.36 on
AVX-512 measures up to 3.9, and exactly 4 for float32 erf, which rounds to +-1
from |x| = 3.65 on); scalar libm is within 1 ulp (tanh 2). The reference is the
float64 result (for float32) or the long double result (for float64; erf has
no long double in numpy, so its reference is math.erf, itself within 1 ulp).
"""

import ctypes
import math
import os
import subprocess

import numpy as np
import pytest

import ember
from helpers import python_command

MAX_ULP = 4.0
SIZES = [0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 1023, 1025, 32767, 32769]

_erf = np.vectorize(math.erf, otypes=[np.float64])


def _sigmoid(x):
    t = np.exp(-np.abs(x))
    return np.where(x >= 0, 1, t) / (1 + t)


# op -> (reference on a wide numpy dtype, (low, high) where values are drawn linearly)
OPS = {
    "exp": (np.exp, (-110.0, 90.0)),
    "log": (np.log, (0.0, 3.0)),
    "tanh": (np.tanh, (-10.0, 10.0)),
    "sigmoid": (_sigmoid, (-110.0, 110.0)),
    "expm1": (np.expm1, (-20.0, 90.0)),
    "log1p": (np.log1p, (-1.0, 3.0)),
    "erf": (lambda x: _erf(x.astype(np.float64)), (-6.0, 6.0)),
    "sin": (np.sin, (-100.0, 100.0)),
    "cos": (np.cos, (-100.0, 100.0)),
    "tan": (np.tan, (-10.0, 10.0)),
}
WIDE = {np.float32: np.float64, np.float64: np.longdouble}


def special_values(dtype):
    fi = np.finfo(dtype)
    tiny = fi.smallest_subnormal
    big_exp = 709.78 if dtype == np.float64 else 88.72  # exp just below overflow
    v = [
        np.nan,
        -np.nan,
        np.inf,
        -np.inf,
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        -0.5,
        fi.max,
        -fi.max,
        fi.tiny,
        -fi.tiny,
        tiny,
        -tiny,
        3 * tiny,
        -3 * tiny,
        1e-30,
        -1e-30,
        1e30,
        -1e30,
        1e-7,
        -1e-7,
        1e-4,
        -1e-4,
        big_exp,
        big_exp + 0.01,
        -big_exp,
        -big_exp - 0.01,
        -103.9,
        -104.0,
        -745.0,
        -746.0,
        -0.999999,
        -1.000001,
        1e-38,
        1e-39,
    ]
    return np.array(v, dtype=np.float64).astype(dtype)


def make_values(op, dtype, n, seed):
    """n values of `dtype`: specials (up to half of them), magnitudes log-uniform
    over the whole exponent range (both signs), and values spread linearly over
    the op's range, shuffled so specials land in full vectors, tails and thread
    splits alike."""
    rng = np.random.default_rng(seed)
    lo, hi = OPS[op][1]
    emax = 38 if dtype == np.float32 else 300
    mags = 10.0 ** rng.uniform(-emax - 6, emax, n) * rng.choice([-1.0, 1.0], n)
    lin = rng.uniform(lo, hi, n)
    x = np.where(rng.random(n) < 0.3, mags, lin)
    sp = special_values(dtype)
    k = min(len(sp), n // 2)
    x[:k] = rng.choice(sp, k, replace=False)
    rng.shuffle(x)
    with np.errstate(over="ignore"):
        return x.astype(dtype)


def reference(op, x):
    with np.errstate(all="ignore"):
        return np.asarray(OPS[op][0](x.astype(WIDE[x.dtype.type])))


def assert_ulp(got, ref_wide, dtype, what):
    """got (dtype) within MAX_ULP of ref_wide (computed on a wider type); NaN
    where the reference is NaN, infinities where it rounds to one, and exact
    zeros (sin(-0), exp(-inf), ...) exactly, sign included."""
    assert got.dtype == dtype, what
    with np.errstate(all="ignore"):
        ref = ref_wide.astype(dtype)
    nan = np.isnan(ref)
    np.testing.assert_array_equal(np.isnan(got), nan, err_msg=f"{what}: NaN positions")
    exact = ~nan & (~np.isfinite(ref) | (ref_wide == 0))
    bad = exact & ((got != ref) | (np.signbit(got) != np.signbit(ref)))
    assert not bad.any(), f"{what}: got {got[bad][:5]} expected {ref[bad][:5]}"
    rest = ~nan & ~exact
    with np.errstate(all="ignore"):
        err = np.abs(got[rest].astype(WIDE[dtype]) - ref_wide[rest]) / np.spacing(np.abs(ref[rest]))
    if err.size:
        worst = int(np.argmax(err))
        assert err[worst] <= MAX_ULP, (
            f"{what}: {float(err[worst]):.2f} ulp at x where result "
            f"{got[rest][worst]!r} expected {ref_wide[rest][worst]!r}"
        )


def run(op, t):
    return getattr(t, op)().numpy()


@pytest.fixture(autouse=True)
def _restore():
    threads = ember.get_num_threads()
    yield
    ember.set_num_threads(threads)
    ember._C._set_vec_math_enabled(True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("op", list(OPS))
def test_contiguous(op, dtype):
    for n in SIZES:
        x = make_values(op, dtype, n, seed=n)
        assert_ulp(run(op, ember.from_numpy(x)), reference(op, x), dtype, f"{op} n={n}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("op", list(OPS))
def test_strided_and_broadcast(op, dtype):
    for n in [1, 9, 33, 1025, 32769]:
        x = make_values(op, dtype, n, seed=n + 1)
        ref = reference(op, x)
        strided = ember.from_numpy(np.repeat(x, 2))[::2]  # the scalar path
        assert not strided.is_contiguous() or n == 1
        assert_ulp(run(op, strided), ref, dtype, f"{op} strided n={n}")
        rows = ember.from_numpy(x).reshape(1, n).expand(3, n)  # contiguous rows, read 3 times
        assert_ulp(run(op, rows), np.broadcast_to(ref, (3, n)), dtype, f"{op} rows n={n}")
        cols = ember.from_numpy(x).reshape(n, 1).expand(n, 3)  # stride-0 runs
        assert_ulp(run(op, cols), np.broadcast_to(ref[:, None], (n, 3)), dtype, f"{op} cols n={n}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("op", list(OPS))
def test_result_does_not_depend_on_position_or_threads(op, dtype):
    # Every element of a contiguous run goes through the same vector function,
    # the tail and one-element tensors too, and its lanes are independent:
    # shifting the data, cutting it or splitting it across threads changes nothing.
    x = make_values(op, dtype, 32769 + 7, seed=3)
    t = ember.from_numpy(x)
    whole = run(op, t)
    for k in [1, 5, 7]:
        np.testing.assert_array_equal(run(op, ember.from_numpy(x[k:])), whole[k:])
        np.testing.assert_array_equal(run(op, ember.from_numpy(x[:k])), whole[:k])
    for i in range(40):  # 0-d tensors, specials among them
        np.testing.assert_array_equal(run(op, t[i]), whole[i])
    strided = ember.from_numpy(np.repeat(x, 2))[::2]
    split = run(op, strided)
    ember.set_num_threads(1)
    np.testing.assert_array_equal(run(op, ember.from_numpy(x)), whole)
    np.testing.assert_array_equal(run(op, strided), split)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("op", list(OPS))
def test_switch_gives_the_scalar_reference(op, dtype):
    # With vector math off, a contiguous tensor takes the strided (scalar libm) path.
    x = make_values(op, dtype, 1025, seed=4)
    ember._C._set_vec_math_enabled(False)
    scalar = run(op, ember.from_numpy(x))
    ember._C._set_vec_math_enabled(True)
    np.testing.assert_array_equal(run(op, ember.from_numpy(np.repeat(x, 2))[::2]), scalar)
    assert_ulp(scalar, reference(op, x), dtype, f"{op} scalar")


def _has_libmvec():
    try:
        ctypes.CDLL("libmvec.so.1")
        return True
    except OSError:
        return False


def test_vector_math_is_in_use_where_available():
    isa = ember._C._vec_math_isa()
    assert isa in ("avx512", "avx2", "sse", "none")
    if "EMBER_VEC_MATH" not in os.environ:
        assert (isa != "none") == _has_libmvec()


def check_every_op(sizes=(1, 7, 8, 9, 17, 33, 1025)):
    """The accuracy and position checks above in one call (for a child process)."""
    for op in OPS:
        for dtype in (np.float32, np.float64):
            for n in sizes:
                x = make_values(op, dtype, n, seed=n)
                got = run(op, ember.from_numpy(x))
                assert_ulp(got, reference(op, x), dtype, f"{op} n={n}")
                np.testing.assert_array_equal(run(op, ember.from_numpy(x[3:])), got[3:])


@pytest.mark.parametrize("isa", ["avx2", "sse", "none"])
def test_narrower_vector_isas(isa):
    # EMBER_VEC_MATH caps the ISA picked once per process: check the other paths in a child.
    if isa != "none" and not _has_libmvec():
        pytest.skip("no libmvec")
    env = dict(os.environ, EMBER_VEC_MATH=isa)
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(__file__), env.get("PYTHONPATH", "")])
    code = "import ember, test_kernels as k; k.check_every_op(); print(ember._C._vec_math_isa())"
    out = subprocess.run([*python_command(), "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    got = out.stdout.split()[-1]
    if got != isa:
        assert isa == "avx2" and got == "sse", got  # a CPU without AVX2
        pytest.skip("this CPU has no AVX2")


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_sqrt_rsqrt_exact(dtype):
    # sqrt is correctly rounded on every path (vectorised since -fno-math-errno).
    x = make_values("log", dtype, 1025, seed=5)
    with np.errstate(invalid="ignore", divide="ignore"):
        np.testing.assert_array_equal(ember.from_numpy(x).sqrt().numpy(), np.sqrt(x))
        np.testing.assert_array_equal(ember.from_numpy(x).rsqrt().numpy(), 1 / np.sqrt(x))


def test_sigmoid_keeps_tiny_results():
    # exp(-|x|) never overflows: sigmoid(-100) is 3.8e-44 in float32, not 1 / inf = 0
    x = ember.tensor([-100.0, -1000.0, 100.0, float("-inf")])
    np.testing.assert_array_equal(x.sigmoid().numpy(), np.float32([3.783506e-44, 0.0, 1.0, 0.0]))
    np.testing.assert_array_equal(x[::2].sigmoid().numpy(), np.float32([3.783506e-44, 1.0]))


def test_many_dimensions():
    x = ember.ones(*([1] * 30), 3)  # size-1 dims are skipped by the loop plan
    np.testing.assert_array_equal((x * 2).numpy(), np.full([1] * 30 + [3], 2, np.float32))
    y = ember.ones(*([2] * 12)).permute(*reversed(range(12)))  # 12 strided dims, not mergeable
    assert (y + y).sum().item() == 2 * 2**12


@pytest.mark.parametrize(
    "shape, dims", [((128, 256), 0), ((4, 5, 33), (0, 1)), ((300, 1000), 0), ((7, 16), 0), ((3, 4, 20), 0)]
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_sum_over_leading_dims_matches_numpy_and_the_strided_path(shape, dims, dtype):
    rng = np.random.default_rng(0)
    a = (rng.standard_normal(shape) * 100).astype(dtype)
    x = ember.tensor(a)
    fast = x.sum(dims)
    # ember accumulates float sums in double: compare with the exact (float64) sum, rounded once.
    expected = a.astype(np.float64).sum(dims).astype(dtype) if dtype != np.int64 else a.sum(dims)
    np.testing.assert_allclose(fast.numpy(), expected, rtol=1e-7 if dtype == np.float32 else 1e-12)
    # The same sums through the generic (strided) path, from a non-contiguous copy: bitwise equal.
    rev = tuple(reversed(range(a.ndim)))
    strided = ember.from_numpy(np.asfortranarray(a)) if a.ndim == 2 else x.permute(*rev).contiguous().permute(*rev)
    assert not strided.is_contiguous()
    np.testing.assert_array_equal(strided.sum(dims).numpy(), fast.numpy())
    assert x.sum(dims, keepdim=True).shape == tuple(1 if i in np.atleast_1d(dims) else s for i, s in enumerate(shape))


@pytest.mark.parametrize("exponent", [2, 1, 3, 0.5, -0.5, -1, -2, 0, 1.5, -3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pow_of_a_number_exponent_matches_numpy(exponent, dtype):
    # the exponents with a path of their own (products, sqrt, division) and two through std::pow;
    # a transposed input goes through the strided loop
    x = np.array([[-2.5, -1, -0.0, 0.0, 0.3, 1], [2, np.inf, -np.inf, np.nan, 1e-30, 7.25]], dtype)
    with np.errstate(all="ignore"):
        ref = np.power(x, dtype(exponent))
    if exponent == -0.5:
        ref[0, 2], ref[1, 2] = -np.inf, np.nan  # PyTorch's 1 / sqrt(x) at -0.0 and -inf (C's pow: +inf, 0)
    got = ember.tensor(x) ** exponent
    np.testing.assert_allclose(got.numpy(), ref, rtol=4 * np.finfo(dtype).eps)
    np.testing.assert_allclose((ember.tensor(x).t() ** exponent).numpy(), ref.T, rtol=4 * np.finfo(dtype).eps)
    t = ember.tensor(x[:, 4:], requires_grad=True)
    (t**exponent).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), exponent * np.power(x[:, 4:], dtype(exponent - 1)), rtol=1e-5)
