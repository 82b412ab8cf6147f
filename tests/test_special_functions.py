"""torch.special's Bessel functions, erfcx, the orthogonal polynomials and kaiser_window:
values against scipy (float64 and float32, special points included), gradients of the
differentiable ones by finite differences, and PyTorch's values, node names and
non-differentiability when PyTorch is importable."""

import math

import numpy as np
import pytest

import ember
import ember.special as es

sp = pytest.importorskip("scipy.special")

# the grid: both signs, zero, tiny, the method switch points (Note [Bessel functions]), large
GRID = np.concatenate(
    [
        np.linspace(-40, 40, 801),
        [0.0, 1e-300, 1e-12, -1e-12, 19.99, 20.01, 24.99, 25.01, 300.0, 700.0, 720.0, 1e5, -1e5],
    ]
)
SPECIALS = np.array([np.inf, -np.inf, np.nan])


def _ref(f, domain_nonneg=False):
    def ref(x):
        with np.errstate(all="ignore"):
            out = f(x)
        return np.where(x < 0, np.nan, out) if domain_nonneg else out

    return ref


UNARY = {
    "i0e": _ref(sp.i0e),
    "i1": _ref(sp.i1),
    "i1e": _ref(sp.i1e),
    "erfcx": _ref(sp.erfcx),
    "bessel_j0": _ref(sp.j0),
    "bessel_j1": _ref(sp.j1),
    "bessel_y0": _ref(sp.y0, True),
    "bessel_y1": _ref(sp.y1, True),
    "modified_bessel_i0": _ref(sp.i0),
    "modified_bessel_i1": _ref(sp.i1),
    "modified_bessel_k0": _ref(sp.k0, True),
    "modified_bessel_k1": _ref(sp.k1, True),
    "scaled_modified_bessel_k0": _ref(sp.k0e, True),
    "scaled_modified_bessel_k1": _ref(sp.k1e, True),
    "airy_ai": _ref(lambda x: sp.airy(x)[0]),
    "spherical_bessel_j0": _ref(lambda x: sp.spherical_jn(0, x)),
}
DIFFERENTIABLE = ["i0e", "i1", "i1e", "erfcx"]


def _close(got, want, rtol, atol):
    """Finite values within tolerance (relative, or absolute near zeros); inf and NaN where the reference has them."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    finite = np.isfinite(want)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(got[np.isinf(want)], want[np.isinf(want)])
    np.testing.assert_allclose(got[finite], want[finite], rtol=rtol, atol=atol)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_values_against_scipy_float64(name):
    x = GRID if name != "airy_ai" else GRID[np.abs(GRID) < 200]
    got = getattr(es, name)(ember.tensor(x, dtype=ember.float64)).numpy()
    # Ai between -8 and -2 sums an alternating series: about 1e-10 absolute there (Note [Bessel functions])
    atol = 1e-10 if name == "airy_ai" else 1e-14
    _close(got, UNARY[name](x), rtol=1e-12, atol=atol)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_values_float32_and_integer_inputs(name):
    x = np.linspace(-9, 9, 37)
    f = getattr(es, name)
    got32 = f(ember.tensor(x, dtype=ember.float32))
    assert got32.dtype == ember.float32
    _close(got32.numpy(), UNARY[name](x.astype(np.float32).astype(np.float64)), rtol=2e-6, atol=1e-6)
    ints = f(ember.tensor([0, 1, 2, 3]))  # integers compute in the default float dtype
    assert ints.dtype == ember.float32
    _close(ints.numpy(), UNARY[name](np.array([0.0, 1, 2, 3])), rtol=2e-6, atol=1e-7)


def test_i0_is_a_function_a_method_and_in_place():
    x = np.linspace(-30, 30, 61)
    t = ember.tensor(x, dtype=ember.float64)
    np.testing.assert_allclose(ember.i0(t).numpy(), np.i0(x), rtol=1e-13)
    np.testing.assert_allclose(t.i0().numpy(), np.i0(x), rtol=1e-13)
    np.testing.assert_allclose(es.i0(t).numpy(), np.i0(x), rtol=1e-13)
    out = ember.empty(61, dtype=ember.float64)
    assert ember.i0(t, out=out) is out
    np.testing.assert_allclose(out.numpy(), np.i0(x), rtol=1e-13)
    u = t.clone()
    assert u.i0_() is u
    np.testing.assert_allclose(u.numpy(), np.i0(x), rtol=1e-13)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_out_argument(name):
    x = ember.tensor([0.5, 1.5, 3.0], dtype=ember.float64)
    out = ember.empty(3, dtype=ember.float64)
    assert getattr(es, name)(x, out=out) is out
    np.testing.assert_allclose(out.numpy(), getattr(es, name)(x).numpy())


@pytest.mark.parametrize("name", ["i0"] + DIFFERENTIABLE)
def test_gradients_by_finite_differences(name):
    f = getattr(es, name)
    # both signs, zero (where i1 and i1e take their limit 1/2), both sides of the method switch at 20
    x = ember.tensor([-21.0, -3.0, -0.4, 0.0, 0.7, 2.5, 19.5, 20.5], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(f, (x,), eps=1e-6, atol=1e-7, rtol=1e-5)
    y = ember.tensor([-2.0, -0.4, 0.3, 1.5, 3.0], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradgradcheck(f, (y,), eps=1e-6, atol=1e-6, rtol=1e-4)


def test_gradient_at_zero_is_the_limit():
    for name, want in [("i0", 0.0), ("i1", 0.5), ("i1e", 0.5), ("i0e", None), ("erfcx", -2 / math.sqrt(math.pi))]:
        x = ember.tensor(0.0, dtype=ember.float64, requires_grad=True)
        getattr(es, name)(x).backward()
        if want is not None:
            assert x.grad.item() == pytest.approx(want, abs=1e-15), name
        else:  # i0e has a kink at 0: sgn(0) = 0, so the formula gives i1e(0) = 0
            assert x.grad.item() == 0.0


@pytest.mark.parametrize("name", [n for n in sorted(UNARY) if n not in DIFFERENTIABLE])
def test_forward_only_functions_do_not_require_grad(name):
    x = ember.tensor([0.5, 2.0], requires_grad=True)
    y = getattr(es, name)(x)
    assert not y.requires_grad and y.grad_fn is None


def test_vmap_of_special_functions():
    x = ember.tensor(np.linspace(0.1, 5, 12).reshape(3, 4), dtype=ember.float64)
    for name in ["i0", "i1e", "erfcx", "bessel_j0", "modified_bessel_k1"]:
        f = getattr(es, name)
        np.testing.assert_allclose(ember.vmap(f)(x).numpy(), f(x).numpy(), rtol=1e-15)
    g = ember.func.vmap(ember.func.grad(lambda t: es.i1(t).sum()))(x)
    np.testing.assert_allclose(g.numpy(), sp.i0(x.numpy()) - sp.i1(x.numpy()) / x.numpy(), rtol=1e-12)


POLYNOMIALS = {
    "chebyshev_polynomial_t": sp.eval_chebyt,
    "chebyshev_polynomial_u": sp.eval_chebyu,
    "chebyshev_polynomial_v": lambda n, x: sp.eval_chebyu(n, x) - sp.eval_chebyu(n - 1, x) if n else np.ones_like(x),
    "chebyshev_polynomial_w": lambda n, x: sp.eval_chebyu(n, x) + sp.eval_chebyu(n - 1, x) if n else np.ones_like(x),
    "shifted_chebyshev_polynomial_t": lambda n, x: sp.eval_sh_chebyt(n, x),
    "shifted_chebyshev_polynomial_u": lambda n, x: sp.eval_sh_chebyu(n, x),
    "shifted_chebyshev_polynomial_v": lambda n, x: (
        sp.eval_chebyu(n, 2 * x - 1) - sp.eval_chebyu(n - 1, 2 * x - 1) if n else np.ones_like(x)
    ),
    "shifted_chebyshev_polynomial_w": lambda n, x: (
        sp.eval_chebyu(n, 2 * x - 1) + sp.eval_chebyu(n - 1, 2 * x - 1) if n else np.ones_like(x)
    ),
    "hermite_polynomial_h": sp.eval_hermite,
    "hermite_polynomial_he": sp.eval_hermitenorm,
    "laguerre_polynomial_l": sp.eval_laguerre,
    "legendre_polynomial_p": sp.eval_legendre,
}


@pytest.mark.parametrize("name", sorted(POLYNOMIALS))
def test_polynomials_against_scipy(name):
    x = np.linspace(-1.5, 1.5, 13)
    f = getattr(es, name)
    for n in range(0, 11):
        np.testing.assert_allclose(
            f(ember.tensor(x, dtype=ember.float64), n).numpy(), POLYNOMIALS[name](n, x), rtol=1e-11, atol=1e-11
        )
    # a tensor of degrees broadcasts against x; negative degrees give 0; fractional ones truncate
    degrees = ember.tensor([[0], [3], [-2], [5]])
    got = f(ember.tensor(x, dtype=ember.float64), degrees).numpy()
    want = np.stack([POLYNOMIALS[name](n, x) if n >= 0 else np.zeros_like(x) for n in [0, 3, -2, 5]])
    np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(f(ember.tensor(x, dtype=ember.float64), 3.7).numpy(), POLYNOMIALS[name](3, x))
    assert f(0.5, ember.tensor([2, 3])).dtype == ember.float32
    assert not f(ember.tensor(x, requires_grad=True), 2).requires_grad
    with pytest.raises(NotImplementedError, match="degree 1000000000 is above the 100000"):
        f(ember.tensor([0.5]), 10**9)  # one step of tensor ops per degree: refused, not hours of work


def test_kaiser_window_against_numpy():
    for length in [1, 2, 5, 16]:
        for beta in [0.0, 5.0, 12.0, 40.0]:
            w = ember.kaiser_window(length, periodic=False, beta=beta, dtype=ember.float64)
            np.testing.assert_allclose(w.numpy(), np.kaiser(length, beta), rtol=1e-12)
            # periodic: the first `length` points of a symmetric window of length + 1 (one point: [1], as PyTorch)
            periodic = ember.kaiser_window(length, beta=beta, dtype=ember.float64)
            want = np.kaiser(length + 1, beta)[:length] if length > 1 else np.ones(1)
            np.testing.assert_allclose(periodic.numpy(), want, rtol=1e-12)
    assert ember.kaiser_window(4).dtype == ember.float32
    assert ember.kaiser_window(0).shape == (0,)
    # beta past I0's overflow (about 713) still gives a window, not inf / inf
    assert np.isfinite(ember.kaiser_window(8, beta=900.0, dtype=ember.float64).numpy()).all()
    with pytest.raises(RuntimeError, match="kaiser_window requires non-negative window_length"):
        ember.kaiser_window(-1)


def test_parity_with_torch():
    torch = pytest.importorskip("torch")
    # Not the infinities: PyTorch gives NaN for i0(inf), j0(inf), ... where ember gives the limits, as scipy does
    x = np.concatenate([np.linspace(-30, 30, 121), [0.0, 1e-8, 800.0, np.nan]])
    for name in ["i0", *UNARY]:
        got = getattr(es, name)(ember.tensor(x, dtype=ember.float64)).numpy()
        want = getattr(torch.special, name)(torch.tensor(x, dtype=torch.float64)).numpy()
        # loose: PyTorch's j0 is off by up to 2e-7 at negative x (ember matches scipy to 1e-12 above)
        _close(got, want, rtol=1e-6, atol=1e-6)
    for name in ["i0", *DIFFERENTIABLE]:
        a = getattr(es, name)(ember.tensor([1.0], requires_grad=True))
        b = getattr(torch.special, name)(torch.tensor([1.0], requires_grad=True))
        assert type(a.grad_fn).__name__ == type(b.grad_fn).__name__
    for name in POLYNOMIALS:
        xs, ns = ember.tensor(x[:-2, None], dtype=ember.float64), ember.tensor([0, 1, 4, 7])
        got = getattr(es, name)(xs, ns).numpy()
        want = getattr(torch.special, name)(torch.tensor(x[:-2, None]), torch.tensor([0, 1, 4, 7])).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-8)
    for beta in [0.5, 12.0]:
        np.testing.assert_allclose(
            ember.kaiser_window(9, True, beta).numpy(), torch.kaiser_window(9, True, beta).numpy(), rtol=1e-6
        )
