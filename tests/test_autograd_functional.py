"""ember.autograd.functional: vjp, jvp, jacobian, hessian, vhp, hvp.

Values are checked in float64 against Jacobians and Hessians written by hand with
numpy; structure (tensor vs tuple vs tuple of tuples), strict errors, create_graph
and the vectorize flag against PyTorch's rules. The last part compares the same
calls with torch.autograd.functional where PyTorch is importable.
"""

import numpy as np
import pytest

import ember
from ember.autograd.functional import hessian, hvp, jacobian, jvp, vhp, vjp

# torch.autograd.functional imports torch.jit, which warns about itself on recent versions
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")

F64 = ember.float64
RNG = np.random.default_rng(0)
A = RNG.standard_normal((3, 4))
X0 = RNG.uniform(0.5, 1.5, size=4)
Y0 = RNG.uniform(0.5, 1.5, size=4)
M = RNG.standard_normal((4, 4))


def T(a, requires_grad=False):
    return ember.tensor(np.asarray(a, dtype=np.float64), dtype=F64, requires_grad=requires_grad)


def npy(t):
    return t.detach().numpy()


def close(t, expected, **kw):
    assert isinstance(t, ember.Tensor), type(t)
    np.testing.assert_allclose(npy(t), expected, rtol=1e-10, atol=1e-12, **kw)


# f(x) = A @ sin(x) + x[0] * x[:3]: R^4 -> R^3 (not square, so rows and columns cannot be swapped)
def f_vec(x):
    return A_t() @ x.sin() + x[0] * x[:3]


def A_t():
    return T(A)


def jac_f_vec(x):
    j = A * np.cos(x)[None, :]
    j += x[0] * np.eye(3, 4)
    j[:, 0] += x[:3]
    return j


# g(x) = x^T M x + sum(x^3): scalar; H = M + M^T + diag(6x)
def g_scalar(x):
    return x @ (T(M) @ x) + (x**3).sum()


def grad_g(x):
    return (M + M.T) @ x + 3 * x**2


def hess_g(x):
    return M + M.T + np.diag(6 * x)


# h(x, y) = sum(x^2 * y) + sum(exp(y)): two inputs
def h_two(x, y):
    return (x * x * y).sum() + y.exp().sum()


def hess_h(x, y):
    return (
        (np.diag(2 * y), np.diag(2 * x)),
        (np.diag(2 * x), np.diag(np.exp(y))),
    )


# --- values ------------------------------------------------------------------------------------


def test_jacobian_values_single_input_output():
    jac = jacobian(f_vec, T(X0))
    assert tuple(jac.shape) == (3, 4)
    close(jac, jac_f_vec(X0))


def test_jacobian_multi_input_multi_output_values_and_structure():
    def f(x, y):
        return x * y, (x.exp() * y).sum(), x[:2]

    jac = jacobian(f, (T(X0), T(Y0)))
    assert isinstance(jac, tuple) and len(jac) == 3
    assert all(isinstance(row, tuple) and len(row) == 2 for row in jac)
    close(jac[0][0], np.diag(Y0))
    close(jac[0][1], np.diag(X0))
    close(jac[1][0], np.exp(X0) * Y0)
    close(jac[1][1], np.exp(X0))
    close(jac[2][0], np.eye(2, 4))
    close(jac[2][1], np.zeros((2, 4)))  # independent: zeros (strict=False)


def test_jacobian_nd_shapes():
    x = T(RNG.standard_normal((2, 3)))
    jac = jacobian(lambda t: t.exp().sum(1), x)  # (2,) output, (2, 3) input
    assert tuple(jac.shape) == (2, 2, 3)
    expected = np.zeros((2, 2, 3))
    for i in range(2):
        expected[i, i] = np.exp(npy(x)[i])
    close(jac, expected)


def test_jacobian_of_scalar_output_is_input_shaped():
    jac = jacobian(g_scalar, T(X0))
    assert tuple(jac.shape) == (4,)
    close(jac, grad_g(X0))


@pytest.mark.parametrize("inputs_tuple", [False, True])
@pytest.mark.parametrize("outputs_tuple", [False, True])
def test_jacobian_structure(inputs_tuple, outputs_tuple):
    def f(*xs):
        out = xs[0] * 2
        return (out,) if outputs_tuple else out

    x = T(X0)
    jac = jacobian(f, (x,) if inputs_tuple else x)
    if outputs_tuple:
        assert isinstance(jac, tuple) and len(jac) == 1
        jac = jac[0]
    if inputs_tuple:
        assert isinstance(jac, tuple) and len(jac) == 1
        jac = jac[0]
    close(jac, 2 * np.eye(4))


def test_hessian_values_single_input():
    hess = hessian(g_scalar, T(X0))
    assert isinstance(hess, ember.Tensor) and tuple(hess.shape) == (4, 4)
    close(hess, hess_g(X0))


def test_hessian_values_two_inputs_structure():
    hess = hessian(h_two, (T(X0), T(Y0)))
    expected = hess_h(X0, Y0)
    assert isinstance(hess, tuple) and len(hess) == 2
    for i in range(2):
        assert isinstance(hess[i], tuple) and len(hess[i]) == 2
        for j in range(2):
            close(hess[i][j], expected[i][j])


def test_hessian_of_one_element_nonscalar_output_and_matrix_input():
    x = T(RNG.standard_normal((2, 2)))
    hess = hessian(lambda t: (t**3).sum().reshape(1, 1), x)
    assert tuple(hess.shape) == (2, 2, 2, 2)
    close(hess.reshape(4, 4), np.diag(6 * npy(x).reshape(-1)))


def test_vjp_values():
    v = RNG.standard_normal(3)
    out, res = vjp(f_vec, T(X0), T(v))
    close(out, A @ np.sin(X0) + X0[0] * X0[:3])
    close(res, v @ jac_f_vec(X0))


def test_vjp_tuple_inputs_and_outputs():
    def f(x, y):
        return x * y, y.sum()

    out, res = vjp(f, (T(X0), T(Y0)), (T(np.ones(4)), T(2.0)))
    assert isinstance(out, tuple) and len(out) == 2
    assert isinstance(res, tuple) and len(res) == 2
    close(res[0], Y0)
    close(res[1], X0 + 2.0)


def test_vjp_v_none_for_scalar_output():
    out, res = vjp(g_scalar, T(X0))
    close(out, X0 @ M @ X0 + (X0**3).sum())
    close(res, grad_g(X0))


def test_jvp_values():
    v = RNG.standard_normal(4)
    out, res = jvp(f_vec, T(X0), T(v))
    close(out, A @ np.sin(X0) + X0[0] * X0[:3])
    close(res, jac_f_vec(X0) @ v)


def test_jvp_tuple_inputs_and_v_none_for_one_element_input():
    out, res = jvp(lambda x, y: (x * y, x + y), (T(X0), T(Y0)), (T(np.ones(4)), T(np.zeros(4))))
    assert isinstance(res, tuple) and len(res) == 2
    close(res[0], Y0)
    close(res[1], np.ones(4))
    out, res = jvp(lambda x: x.exp() * 3, T(0.5))
    close(res, 3 * np.exp(0.5))


def test_vhp_and_hvp_values():
    v = RNG.standard_normal(4)
    out, res = vhp(g_scalar, T(X0), T(v))
    close(out, X0 @ M @ X0 + (X0**3).sum())
    close(res, v @ hess_g(X0))
    out, res = hvp(g_scalar, T(X0), T(v))
    close(res, hess_g(X0) @ v)
    # M is not symmetric, but the Hessian is: vhp and hvp agree, as they must
    np.testing.assert_allclose(npy(vhp(g_scalar, T(X0), T(v))[1]), npy(res), rtol=1e-10)


def test_vhp_hvp_two_inputs():
    vx, vy = RNG.standard_normal(4), RNG.standard_normal(4)
    (hxx, hxy), (hyx, hyy) = hess_h(X0, Y0)
    for fn in (vhp, hvp):
        out, (rx, ry) = fn(h_two, (T(X0), T(Y0)), (T(vx), T(vy)))
        close(rx, hxx @ vx + hxy @ vy)
        close(ry, hyx @ vx + hyy @ vy)


def test_vhp_hvp_v_none_for_one_element_input():
    for fn in (vhp, hvp):
        out, res = fn(lambda x: (x**4).sum(), T([2.0]))
        close(res, [12 * 4.0])


def test_results_keep_dtype_float32():
    x = ember.tensor(X0.astype(np.float32))
    jac = jacobian(lambda t: t * t, x)
    assert jac.dtype == ember.float32
    np.testing.assert_allclose(npy(jac), np.diag(2 * X0), rtol=1e-6)
    assert hessian(lambda t: (t**3).sum(), x).dtype == ember.float32


def test_works_under_no_grad():
    with ember.no_grad():
        close(jacobian(f_vec, T(X0)), jac_f_vec(X0))
        close(hessian(g_scalar, T(X0)), hess_g(X0))
        close(vjp(g_scalar, T(X0))[1], grad_g(X0))
        close(hvp(g_scalar, T(X0), T(np.ones(4)))[1], hess_g(X0) @ np.ones(4))
    assert ember.is_grad_enabled()


# --- create_graph --------------------------------------------------------------------------------


def test_create_graph_false_results_do_not_require_grad():
    x = T(X0, requires_grad=True)
    v4 = T(np.ones(4), requires_grad=True)
    results = [
        *vjp(g_scalar, x),
        *jvp(f_vec, x, v4),
        jacobian(f_vec, x),
        hessian(g_scalar, x),
        *vhp(g_scalar, x, v4),
        *hvp(g_scalar, x, v4),
    ]
    for r in results:
        assert not r.requires_grad and r.grad_fn is None
    assert x.grad is None


def test_vjp_create_graph_second_derivative():
    x = T(X0, requires_grad=True)
    v = RNG.standard_normal(3)
    out, res = vjp(f_vec, x, T(v), create_graph=True)
    assert out.requires_grad and res.requires_grad
    # d/dx (v . J(x) w) for a fixed w, by autograd through the vjp, against finite differences of numpy's J
    w = RNG.standard_normal(4)
    (second,) = ember.autograd.grad((res * T(w)).sum(), x)
    eps = 1e-6
    fd = np.array([(v @ jac_f_vec(X0 + eps * e) @ w - v @ jac_f_vec(X0 - eps * e) @ w) / (2 * eps) for e in np.eye(4)])
    np.testing.assert_allclose(npy(second), fd, rtol=1e-6, atol=1e-8)


def test_vjp_create_graph_gradient_wrt_v():
    x = T(X0)
    v = T(RNG.standard_normal(3), requires_grad=True)
    _, res = vjp(f_vec, x, v, create_graph=True)
    (gv,) = ember.autograd.grad(res.sum(), v)  # d/dv sum(v^T J) = J @ 1
    close(gv, jac_f_vec(X0) @ np.ones(4))


def test_jacobian_create_graph_gives_hessian():
    x = T(X0, requires_grad=True)
    jac = jacobian(g_scalar, x, create_graph=True)
    assert jac.requires_grad
    rows = [npy(ember.autograd.grad(jac[i], x, retain_graph=True)[0]) for i in range(4)]
    np.testing.assert_allclose(np.stack(rows), hess_g(X0), rtol=1e-10)


def test_hessian_create_graph_third_derivative():
    x = T(X0, requires_grad=True)
    hess = hessian(lambda t: (t**4).sum(), x, create_graph=True)  # diag(12 x^2)
    assert hess.requires_grad
    (third,) = ember.autograd.grad(hess.sum(), x)
    close(third, 24 * X0)


def test_jvp_hvp_create_graph():
    x = T(X0, requires_grad=True)
    _, res = jvp(lambda t: t**3, x, T(np.ones(4)), create_graph=True)
    (g,) = ember.autograd.grad(res.sum(), x)  # d/dx sum(3 x^2) = 6x
    close(g, 6 * X0)
    _, res = hvp(lambda t: (t**4).sum(), x, T(np.ones(4)), create_graph=True)
    (g,) = ember.autograd.grad(res.sum(), x)  # d/dx sum(12 x^2) = 24x
    close(g, 24 * X0)


def test_given_inputs_are_kept_apart_from_captured_ones():
    # the same tensor given as input and captured: only the input is differentiated
    x = T(X0)
    jac = jacobian(lambda t: t * x, x)
    close(jac, np.diag(X0))


# --- strict --------------------------------------------------------------------------------------


def two_inputs_first_only(x, y):
    return x * 2


def test_strict_vjp_independent_input():
    x, y = T(X0), T(Y0)
    _, res = vjp(two_inputs_first_only, (x, y), T(np.ones(4)))
    close(res[1], np.zeros(4))
    with pytest.raises(RuntimeError, match="The output of the user-provided function is independent of input 1"):
        vjp(two_inputs_first_only, (x, y), T(np.ones(4)), strict=True)


def test_strict_output_not_requiring_grad():
    def const(x):
        return ember.zeros(3, dtype=F64)

    for call in (
        lambda: vjp(const, T(X0), T(np.ones(3)), strict=True),
        lambda: jvp(const, T(X0), T(np.ones(4)), strict=True),
        lambda: jacobian(const, T(X0), strict=True),
    ):
        with pytest.raises(RuntimeError, match="Output 0 of the user-provided function does not require gradients"):
            call()
    # not strict: zeros of the right shapes
    close(vjp(const, T(X0), T(np.ones(3)))[1], np.zeros(4))
    close(jvp(const, T(X0), T(np.ones(4)))[1], np.zeros(3))
    close(jacobian(const, T(X0)), np.zeros((3, 4)))


def test_strict_jacobian_independent_input():
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function is independent of input 1"):
        jacobian(two_inputs_first_only, (T(X0), T(Y0)), strict=True)


def test_strict_jvp_independent_input():
    with pytest.raises(RuntimeError, match="independent of input 1"):
        jvp(two_inputs_first_only, (T(X0), T(Y0)), (T(np.ones(4)), T(np.ones(4))), strict=True)
    _, res = jvp(two_inputs_first_only, (T(X0), T(Y0)), (T(np.ones(4)), T(np.ones(4))))
    close(res, 2 * np.ones(4))


def test_strict_create_graph_linear_function():
    def linear(x):
        return x * 3

    with pytest.raises(
        RuntimeError,
        match="jacobian of the user-provided function is independent of input 0. "
        "This is not allowed in strict mode when create_graph=True",
    ):
        vjp(linear, T(X0), T(np.ones(4)), create_graph=True, strict=True)
    with pytest.raises(RuntimeError, match="strict mode when create_graph=True"):
        jacobian(linear, T(X0), create_graph=True, strict=True)
    _, res = vjp(linear, T(X0), T(np.ones(4)), create_graph=True)
    close(res, 3 * np.ones(4))


def test_strict_create_graph_hessian_products_of_quadratic():
    # the Hessian of sum(x*x) is constant: with create_graph, strict refuses results without a graph
    for fn in (vhp, hvp):
        with pytest.raises(
            RuntimeError,
            match="The hessian of the user-provided function is independent of input 0. "
            "This is not allowed in strict mode when create_graph=True",
        ):
            fn(lambda x: (x * x).sum(), T(X0), T(np.ones(4)), create_graph=True, strict=True)
        close(fn(lambda x: (x * x).sum(), T(X0), T(np.ones(4)), create_graph=True)[1], 2 * np.ones(4))


def test_strict_jvp_output_independent_of_seed():
    w = T(Y0, requires_grad=True)  # captured: the second output requires grad but not through the input

    def f(x):
        return x * 2, w * 3

    with pytest.raises(
        RuntimeError,
        match="The gradient with respect to the input is independent of entry 1 in the "
        "grad_outputs when using the double backward trick",
    ):
        jvp(f, T(X0), T(np.ones(4)), strict=True)
    _, (r0, r1) = jvp(f, T(X0), T(np.ones(4)))
    close(r0, 2 * np.ones(4))
    close(r1, np.zeros(4))


def test_strict_hessian_of_linear_function():
    def linear(x):
        return (x * 3).sum()

    with pytest.raises(RuntimeError, match="While computing the hessian, found that the jacobian"):
        hessian(linear, T(X0), strict=True)
    close(hessian(linear, T(X0)), np.zeros((4, 4)))
    for fn in (vhp, hvp):
        with pytest.raises(RuntimeError, match="While computing the hessian, found that the jacobian"):
            fn(linear, T(X0), T(np.ones(4)), strict=True)
        close(fn(linear, T(X0), T(np.ones(4)))[1], np.zeros(4))


def test_strict_vhp_hvp_independent_input():
    def f(x, y):
        return (x**3).sum()

    for fn in (vhp, hvp):
        with pytest.raises(RuntimeError, match="The output of the user-provided function is independent of input 1"):
            fn(f, (T(X0), T(Y0)), (T(np.ones(4)), T(np.ones(4))), strict=True)
        _, (rx, ry) = fn(f, (T(X0), T(Y0)), (T(np.ones(4)), T(np.ones(4))))
        close(rx, 6 * X0)
        close(ry, np.zeros(4))


# --- vectorize and strategy ----------------------------------------------------------------------


def test_vectorize_equals_loop():
    def f(x, y):
        return x * y.sin(), (x**2).sum() + y[0]

    inputs = (T(X0), T(Y0))
    a, b = jacobian(f, inputs), jacobian(f, inputs, vectorize=True)
    for ra, rb in zip(a, b):
        for ta, tb in zip(ra, rb):
            np.testing.assert_array_equal(npy(ta), npy(tb))
    ha, hb = hessian(h_two, inputs), hessian(h_two, inputs, vectorize=True)
    for ra, rb in zip(ha, hb):
        for ta, tb in zip(ra, rb):
            np.testing.assert_array_equal(npy(ta), npy(tb))
    np.testing.assert_array_equal(npy(jacobian(f_vec, T(X0), vectorize=True)), jacobian(f_vec, T(X0)).numpy())


def test_vectorize_with_strict_raises():
    with pytest.raises(RuntimeError, match="`strict=True` and `vectorized=True` are not supported together"):
        jacobian(f_vec, T(X0), strict=True, vectorize=True)


def test_forward_mode_strategy():
    # PyTorch's rules for the forward-mode strategy, and its results equal reverse mode's
    expected = jacobian(f_vec, T(X0))
    got = jacobian(f_vec, T(X0), vectorize=True, strategy="forward-mode")
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-12)
    with pytest.raises(NotImplementedError, match="only implemented for `vectorize=True`"):
        jacobian(f_vec, T(X0), strategy="forward-mode")
    with pytest.raises(NotImplementedError, match='`create_graph=True` and `strategy="forward-mode"`'):
        jacobian(f_vec, T(X0), create_graph=True, strategy="forward-mode")
    with pytest.raises(RuntimeError, match='`strict=True` and `strategy="forward-mode"`'):
        jacobian(f_vec, T(X0), strict=True, strategy="forward-mode")
    h_fwd = hessian(g_scalar, T(X0), vectorize=True, outer_jacobian_strategy="forward-mode")
    np.testing.assert_allclose(h_fwd.numpy(), hessian(g_scalar, T(X0)).numpy(), rtol=1e-10)


def test_unknown_strategy():
    with pytest.raises(AssertionError, match='Expected strategy to be either "forward-mode" or "reverse-mode"'):
        jacobian(f_vec, T(X0), strategy="sideways")
    with pytest.raises(AssertionError, match='Expected strategy to be either "forward-mode" or "reverse-mode"'):
        hessian(g_scalar, T(X0), outer_jacobian_strategy="sideways")


# --- argument errors -----------------------------------------------------------------------------


@pytest.mark.parametrize("fn", [vjp, jvp, jacobian, hessian, vhp, hvp])
def test_non_tensor_inputs_type_error(fn):
    with pytest.raises(
        TypeError,
        match=r"The inputs given to \w+ must be either a Tensor or a tuple of Tensors but "
        r"the given inputs has type <class 'list'>",
    ):
        fn(g_scalar, [T(X0)])
    with pytest.raises(TypeError, match="but the value at index 1 has type <class 'float'>"):
        fn(g_scalar, (T(X0), 1.0))


@pytest.mark.parametrize("fn", [vjp, jvp, jacobian, hessian, vhp, hvp])
def test_non_tensor_output_type_error(fn):
    kwargs = {} if fn in (jacobian, hessian) else {"v": T(X0) if fn is not vjp else None}
    with pytest.raises(
        TypeError,
        match="The outputs of the user-provided function given to .* must be either a "
        "Tensor or a tuple of Tensors but the given outputs of the user-provided function has type",
    ):
        fn(lambda x: 3.0, T(X0), **kwargs)


def test_v_errors():
    with pytest.raises(TypeError, match="The v given to vjp must be either a Tensor or a tuple of Tensors"):
        vjp(f_vec, T(X0), [1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match=r"v has invalid size: should be ember.Size\(\[3\]\) but got"):
        vjp(f_vec, T(X0), T(np.ones(4)))
    with pytest.raises(RuntimeError, match="Entry 1 in v has invalid size"):
        jvp(lambda x, y: x * y, (T(X0), T(Y0)), (T(np.ones(4)), T(np.ones(3))))
    with pytest.raises(RuntimeError, match="v is a tuple of invalid length: should be 2 but got 1"):
        hvp(h_two, (T(X0), T(Y0)), (T(np.ones(4)),))
    with pytest.raises(RuntimeError, match="The given v should contain a single Tensor"):
        vhp(g_scalar, T(X0), (T(np.ones(4)), T(np.ones(4))))
    with pytest.raises(RuntimeError, match="The vector v can only be None if the user-provided function returns"):
        vjp(f_vec, T(X0))
    for fn in (jvp, vhp, hvp):
        with pytest.raises(RuntimeError, match="The vector v can only be None if the input to the user-provided"):
            fn(g_scalar, T(X0))


def test_scalar_function_errors():
    with pytest.raises(RuntimeError, match="The function given to hessian should return a single Tensor"):
        hessian(lambda x: (x.sum(),), T(X0))
    with pytest.raises(
        RuntimeError, match="The Tensor returned by the function given to hessian should contain a single element"
    ):
        hessian(lambda x: x * 2, T(X0))
    for name, fn in (("vhp", vhp), ("hvp", hvp)):
        with pytest.raises(RuntimeError, match=f"The function given to {name} should return a single Tensor"):
            fn(lambda x: (x.sum(),), T(X0), T(np.ones(4)))
        with pytest.raises(RuntimeError, match=f"The Tensor returned by the function given to {name} should"):
            fn(lambda x: x * 2, T(X0), T(np.ones(4)))


def test_integer_inputs_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        jacobian(lambda x: x * 2, ember.tensor([1, 2]))


def test_exposed_as_ember_autograd_functional():
    assert ember.autograd.functional.jacobian is jacobian
    assert set(ember.autograd.functional.__all__) == {"vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"}


# --- parity with torch.autograd.functional --------------------------------------------------------


def _to_np(x):
    if isinstance(x, tuple):
        return tuple(_to_np(e) for e in x)
    return x.detach().numpy()


def _same_structure_and_values(a, b):
    """a from ember, b from torch: the same nesting of tuples and the same values."""
    if isinstance(b, tuple):
        assert isinstance(a, tuple) and len(a) == len(b), (type(a), type(b))
        for ea, eb in zip(a, b):
            _same_structure_and_values(ea, eb)
        return
    assert not isinstance(a, tuple), "ember gave a tuple where torch gives a tensor"
    assert tuple(a.shape) == tuple(b.shape)
    assert a.requires_grad == b.requires_grad
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)


def _calls(lib, T_):
    """(name, thunk) pairs: the same calls written once for both libraries."""
    F = lib.autograd.functional
    x, y, s = T_(X0), T_(Y0), T_(np.array([0.7]))
    mat = T_(M)

    def f(t):
        return (mat @ t).sin() * t

    def f2(a, b):
        return a * b.exp(), (a**2).sum() + b[1]

    def sc(t):
        return (t @ (mat @ t)) + (t**3).sum()

    def sc2(a, b):
        return (a * a * b).sum() + b.exp().sum()

    v4, v4b = T_(np.linspace(-1, 1, 4)), T_(np.linspace(2, 3, 4))
    return [
        ("vjp", lambda: F.vjp(f, x, v4)),
        ("vjp_tuple", lambda: F.vjp(f2, (x, y), (v4, T_(np.array(1.5))))),
        ("vjp_none", lambda: F.vjp(sc, x)),
        ("vjp_1tuple", lambda: F.vjp(f, (x,), (v4,))),
        ("jvp", lambda: F.jvp(f, x, v4)),
        ("jvp_tuple", lambda: F.jvp(f2, (x, y), (v4, v4b))),
        ("jvp_none", lambda: F.jvp(lambda t: t.exp() * 2, s)),
        ("jacobian", lambda: F.jacobian(f, x)),
        ("jacobian_tuple", lambda: F.jacobian(f2, (x, y))),
        ("jacobian_1tuple_in", lambda: F.jacobian(f, (x,))),
        ("jacobian_vectorize", lambda: F.jacobian(f2, (x, y), vectorize=True)),
        ("jacobian_unused", lambda: F.jacobian(lambda a, b: a * 2, (x, y))),
        ("hessian", lambda: F.hessian(sc, x)),
        ("hessian_tuple", lambda: F.hessian(sc2, (x, y))),
        ("hessian_vectorize", lambda: F.hessian(sc2, (x, y), vectorize=True)),
        ("hessian_linear", lambda: F.hessian(lambda t: t.sum() * 3, x)),
        ("vhp", lambda: F.vhp(sc, x, v4)),
        ("vhp_tuple", lambda: F.vhp(sc2, (x, y), (v4, v4b))),
        ("hvp", lambda: F.hvp(sc, x, v4)),
        ("hvp_tuple", lambda: F.hvp(sc2, (x, y), (v4, v4b))),
        ("hvp_none", lambda: F.hvp(lambda t: (t**4).sum(), s)),
        ("vjp_create_graph", lambda: F.vjp(f, T_(X0, True), v4, create_graph=True)),
        ("jvp_create_graph", lambda: F.jvp(f, T_(X0, True), v4, create_graph=True)),
        ("hessian_create_graph", lambda: F.hessian(sc, T_(X0, True), create_graph=True)),
        ("hvp_create_graph", lambda: F.hvp(sc, T_(X0, True), v4, create_graph=True)),
        ("vjp_requires_grad_input", lambda: F.vjp(f, T_(X0, True), v4)),
        ("jacobian_create_graph_plain_input", lambda: F.jacobian(f2, (x, y), create_graph=True)),
        ("vhp_create_graph_plain_input", lambda: F.vhp(sc, x, v4, create_graph=True)),
        ("jvp_unused_output", lambda: F.jvp(lambda a: (a * 2, a.detach() * 3), x, v4)),
    ]


def _builders():
    torch = pytest.importorskip("torch")

    def te(a, rg=False):
        return ember.tensor(np.asarray(a, dtype=np.float64), dtype=F64, requires_grad=rg)

    def tt(a, rg=False):
        return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64, requires_grad=rg)

    return torch, te, tt


@pytest.mark.parametrize("index", range(len(_calls(ember, lambda a, rg=False: None))))
def test_parity_values_and_structure(index):
    torch, te, tt = _builders()
    name, ember_call = _calls(ember, te)[index]
    _, torch_call = _calls(torch, tt)[index]
    _same_structure_and_values(ember_call(), torch_call())


def _error_calls(lib, T_):
    """(name, thunk) pairs that raise, written once for both libraries."""
    F = lib.autograd.functional
    x, y = T_(X0), T_(Y0)
    ones4 = T_(np.ones(4))
    w = T_(Y0, True)

    def first_only(a, b):
        return a * 2

    return [
        ("list_inputs", lambda: F.jacobian(first_only, [x, y])),
        ("non_tensor_in_tuple", lambda: F.vjp(first_only, (x, 2), ones4)),
        ("non_tensor_output", lambda: F.jvp(lambda t: 1.0, x, ones4)),
        ("bad_v_type", lambda: F.vhp(lambda t: t.sum(), x, [1.0])),
        ("bad_v_size", lambda: F.vjp(lambda t: t[:3], x, ones4)),
        ("bad_v_len", lambda: F.jvp(first_only, (x, y), (ones4,))),
        ("v_none", lambda: F.vjp(lambda t: t * 2, x)),
        ("v_none_jvp", lambda: F.jvp(lambda t: t * 2, x)),
        ("strict_vjp", lambda: F.vjp(first_only, (x, y), ones4, strict=True)),
        ("strict_jvp", lambda: F.jvp(first_only, (x, y), (ones4, ones4), strict=True)),
        ("strict_jacobian", lambda: F.jacobian(first_only, (x, y), strict=True)),
        ("strict_output", lambda: F.jacobian(lambda t: t.detach(), x, strict=True)),
        ("strict_linear_cg", lambda: F.vjp(lambda t: t * 3, x, ones4, create_graph=True, strict=True)),
        ("strict_hessian", lambda: F.hessian(lambda t: t.sum() * 3, x, strict=True)),
        ("strict_hvp", lambda: F.hvp(lambda a, b: (a**3).sum(), (x, y), (ones4, ones4), strict=True)),
        ("strict_vhp", lambda: F.vhp(lambda t: t.sum() * 3, x, ones4, strict=True)),
        ("vectorize_strict", lambda: F.jacobian(lambda t: t * 2, x, strict=True, vectorize=True)),
        ("bad_strategy", lambda: F.jacobian(lambda t: t * 2, x, strategy="nope")),
        ("bad_outer_strategy", lambda: F.hessian(lambda t: t.sum(), x, outer_jacobian_strategy="nope")),
        ("fwd_create_graph", lambda: F.jacobian(lambda t: t * 2, x, create_graph=True, strategy="forward-mode")),
        ("fwd_strict", lambda: F.jacobian(lambda t: t * 2, x, strict=True, strategy="forward-mode")),
        ("fwd_not_vectorized", lambda: F.jacobian(lambda t: t * 2, x, strategy="forward-mode")),
        ("hessian_tuple_out", lambda: F.hessian(lambda t: (t.sum(),), x)),
        ("hessian_nonscalar", lambda: F.hessian(lambda t: t * 2, x)),
        ("hvp_tuple_out", lambda: F.hvp(lambda t: (t.sum(),), x, ones4)),
        ("vhp_nonscalar", lambda: F.vhp(lambda t: t * 2, x, ones4)),
        ("strict_cg_vhp", lambda: F.vhp(lambda t: (t * t).sum(), x, ones4, create_graph=True, strict=True)),
        ("strict_cg_hvp", lambda: F.hvp(lambda t: (t * t).sum(), x, ones4, create_graph=True, strict=True)),
        ("strict_jvp_seed", lambda: F.jvp(lambda t: (t * 2, w * 3), x, ones4, strict=True)),
    ]


def _normalise(msg):
    # the same words, each library naming itself; PyTorch lacks a space in one message
    return msg.replace("torch.", "ember.").replace("isonly", "is only")


@pytest.mark.parametrize("index", range(len(_error_calls(ember, lambda a, rg=False: None))))
def test_parity_errors(index):
    torch, te, tt = _builders()
    name, ember_call = _error_calls(ember, te)[index]
    _, torch_call = _error_calls(torch, tt)[index]
    with pytest.raises(Exception) as torch_err:
        torch_call()
    with pytest.raises(Exception) as ember_err:
        ember_call()
    assert ember_err.type is torch_err.type, (name, ember_err.value, torch_err.value)
    assert _normalise(str(ember_err.value)) == _normalise(str(torch_err.value)), name


def test_parity_forward_mode_vectorized():
    torch, te, tt = _builders()
    jac = torch.autograd.functional.jacobian(lambda t: t * 2, tt(X0), vectorize=True, strategy="forward-mode")
    mine = jacobian(lambda t: t * 2, te(X0), vectorize=True, strategy="forward-mode")
    np.testing.assert_allclose(mine.numpy(), jac.numpy())
