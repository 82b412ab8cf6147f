"""ember.func: grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian, functional_call, vmap.

Values are checked in float64 against Jacobians and Hessians written by hand with numpy;
then the transforms' rules (pytrees, argnums, has_aux, which results keep a graph),
their error words, nesting, functional_call's swapping, and parity with torch.func where
PyTorch is importable.
"""

import numpy as np
import pytest

import ember
import ember.autograd.forward_ad as fwAD
from ember import func as F

# torch.func imports torch.jit, which warns about itself on recent versions
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")

F64 = ember.float64
RNG = np.random.default_rng(1)
A = RNG.standard_normal((3, 4))
B = RNG.standard_normal((4, 4))


def T(a, requires_grad=False):
    return ember.tensor(np.asarray(a, dtype=np.float64), dtype=F64, requires_grad=requires_grad)


def npy(t):
    return t.detach().numpy()


def close(t, expected, rtol=1e-10, atol=1e-12):
    assert isinstance(t, ember.Tensor), type(t)
    np.testing.assert_allclose(npy(t), expected, rtol=rtol, atol=atol)


def rand(*shape):
    return RNG.uniform(-1.0, 1.0, size=shape)


# f(x) = A @ sin(x) + x[0] * x[:3]: R^4 -> R^3; J = A diag(cos x) + x[0] [I 0] + e_0 column x[:3]
def f_vec(x):
    return T(A) @ x.sin() + x[0] * x[:3]


def jac_f_vec(x):
    J = A * np.cos(x)[None, :]
    J[:, :3] += x[0] * np.eye(3)
    J[:, 0] += x[:3]
    return J


# g(x, y) = sum(exp(x) * y) + x^T B y; grads: exp(x) * y + B y, exp(x) + B^T x
def g_scalar(x, y):
    return (x.exp() * y).sum() + x @ (T(B) @ y)


# ------------------------------------------------------------------------------------- grad
def test_grad_values_and_argnums():
    x, y = rand(4), rand(4)
    close(F.grad(g_scalar)(T(x), T(y)), np.exp(x) * y + B @ y)
    close(F.grad(g_scalar, argnums=1)(T(x), T(y)), np.exp(x) + B.T @ x)
    close(F.grad(g_scalar, argnums=-1)(T(x), T(y)), np.exp(x) + B.T @ x)
    gx, gy = F.grad(g_scalar, argnums=(0, 1))(T(x), T(y))
    close(gx, np.exp(x) * y + B @ y)
    close(gy, np.exp(x) + B.T @ x)


def test_grad_pytrees_aux_kwargs_and_unused():
    x, y = rand(3), rand(3)
    params = {"a": T(x), "b": [T(y), T(y)]}

    def loss(p, scale=1.0):
        return ((p["a"] * p["b"][0]).sum() + p["b"][1].sum() * 0.0) * scale

    g = F.grad(loss)(params, scale=3.0)
    assert isinstance(g, dict) and isinstance(g["b"], list)
    close(g["a"], 3 * y)
    close(g["b"][0], 3 * x)
    close(g["b"][1], np.zeros(3))
    unused = F.grad(lambda a, b: (b * 2).sum())(T(x), T(y))
    close(unused, np.zeros(3))
    g, aux = F.grad(lambda a: ((a * a).sum(), {"double": a * 2}), has_aux=True)(T(x))
    close(g, 2 * x)
    close(aux["double"], 2 * x)
    assert not aux["double"].requires_grad
    g, (value, aux) = F.grad_and_value(lambda a: ((a * a).sum(), a.sum()), has_aux=True)(T(x))
    close(value, np.sum(x * x))
    close(aux, np.sum(x))
    g, value = F.grad_and_value(lambda a: (a**3).sum())(T(x))
    close(g, 3 * x**2)
    close(value, np.sum(x**3))


def test_grad_results_are_plain_unless_caller_tensors_require_grad():
    x = rand(3)
    plain = F.grad(lambda a: (a**3).sum())(T(x))
    assert not plain.requires_grad
    xr = T(x, requires_grad=True)
    g = F.grad(lambda a: (a**3).sum())(xr)
    assert g.requires_grad  # 3 x^2 still depends on the caller's x
    (gg,) = ember.autograd.grad(g.sum(), xr)
    close(gg, 6 * x)
    assert xr.grad is None
    w = T(rand(3), requires_grad=True)
    captured = F.grad(lambda a: (a * w).sum())(T(x))
    assert captured.requires_grad
    (gw,) = ember.autograd.grad(captured.sum(), w)
    close(gw, np.ones(3))
    with ember.no_grad():
        inside = F.grad(lambda a: (a**3).sum())(xr)  # the transform itself ignores the outer no_grad
    close(inside, 3 * x**2)
    assert not inside.requires_grad


def test_grad_errors():
    x = T(rand(3))
    with pytest.raises(RuntimeError, match="Expected f\\(\\*args\\) to return a scalar Tensor, got tensor with 1 dims"):
        F.grad(lambda a: a * 2)(x)
    with pytest.raises(RuntimeError, match="Expected f\\(\\*args\\) to return a Tensor, got <class 'float'>"):
        F.grad(lambda a: 3.0)(x)
    with pytest.raises(RuntimeError, match="Got argnum=1, but only 1 positional inputs"):
        F.grad(lambda a: a.sum(), argnums=1)(x)
    with pytest.raises(RuntimeError, match="argnums must be non-empty"):
        F.grad(lambda a: a.sum(), argnums=())(x)
    with pytest.raises(RuntimeError, match="argnums elements must be unique"):
        F.grad(lambda a, b: a.sum(), argnums=(0, 0))(x, x)
    with pytest.raises(RuntimeError, match="argnum must be int"):
        F.grad(lambda a: a.sum(), argnums=(0.5,))(x)
    with pytest.raises(RuntimeError, match="argnums must be int or Tuple"):
        F.grad(lambda a: a.sum(), argnums=[0])(x)
    with pytest.raises(ValueError, match="Thing passed to transform API must be Tensor, got <class 'int'>"):
        F.grad(lambda a, n: (a * n).sum(), argnums=1)(x, 2)
    with pytest.raises(RuntimeError, match="output of function f should be a tuple: \\(output, aux\\)"):
        F.grad(lambda a: a.sum(), has_aux=True)(x)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        F.grad(lambda a: a.mul_(2).sum())(x)


# --------------------------------------------------------------------------------------- vjp
def test_vjp_values_structure_and_repeated_calls():
    x, y = rand(4), rand(4)
    out, vjp_fn = F.vjp(f_vec, T(x))
    close(out, npy(f_vec(T(x))))
    assert not out.requires_grad
    u = rand(3)
    (gx,) = vjp_fn(T(u))
    close(gx, u @ jac_f_vec(x))
    (again,) = vjp_fn(T(2 * u))  # may be called again
    close(again, 2 * u @ jac_f_vec(x))
    out, vjp_fn = F.vjp(lambda a, b: {"p": a * b, "s": (a + b,)}, T(x), T(y))
    ga, gb = vjp_fn({"p": T(np.ones(4)), "s": (T(np.full(4, 2.0)),)})
    close(ga, y + 2)
    close(gb, x + 2)
    out, vjp_fn, aux = F.vjp(lambda a: (a.sin(), a.cos()), T(x), has_aux=True)
    close(aux, np.cos(x))


def test_vjp_errors():
    x = T(rand(3))
    _, vjp_fn = F.vjp(lambda a: a * 2, x)
    with pytest.raises(RuntimeError, match="Expected pytree structure of cotangents to be the same"):
        vjp_fn((T(np.ones(3)),))
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        vjp_fn(T(np.ones(2)))
    with pytest.raises(RuntimeError, match="All outputs of f must be floating-point or complex Tensors"):
        F.vjp(lambda a: (a > 0).long(), x)
    with pytest.raises(ValueError, match="Thing passed to transform API must be Tensor"):
        F.vjp(lambda a, n: a * n, x, 2.0)
    with pytest.raises(RuntimeError, match="expected f\\(\\*primals\\) to return only tensors"):
        F.vjp(lambda a: (a, 3), x)


def test_vjp_cotangent_requiring_grad_keeps_a_graph():
    x = rand(3)
    _, vjp_fn = F.vjp(lambda a: a * a, T(x))
    ct = T(rand(3), requires_grad=True)
    (g,) = vjp_fn(ct)
    assert g.requires_grad
    (gct,) = ember.autograd.grad(g.sum(), ct)
    close(gct, 2 * x)


# --------------------------------------------------------------------------------------- jvp
def test_jvp_values():
    x, v = rand(4), rand(4)
    out, t = F.jvp(f_vec, (T(x),), (T(v),))
    close(out, npy(f_vec(T(x))))
    close(t, jac_f_vec(x) @ v)
    assert not out.requires_grad and not t.requires_grad
    y, w = rand(4), rand(4)
    out, t = F.jvp(g_scalar, (T(x), T(y)), (T(v), T(w)))
    grad_x, grad_y = np.exp(x) * y + B @ y, np.exp(x) + B.T @ x
    close(t, grad_x @ v + grad_y @ w)
    outs, ts = F.jvp(lambda a: {"id": a, "sq": [a * a]}, (T(x),), (T(v),))
    close(ts["id"], v)
    close(ts["sq"][0], 2 * x * v)
    out, t, aux = F.jvp(lambda a: (a.exp(), a * 3), (T(x),), (T(v),), has_aux=True)
    close(t, np.exp(x) * v)
    close(aux, 3 * x)


def test_jvp_independent_outputs_and_strict():
    x, v = T(rand(3)), T(rand(3))
    out, t = F.jvp(lambda a: ember.ones(2, dtype=F64), (x,), (v,))
    close(t, np.zeros(2))
    with pytest.raises(RuntimeError, match="The output of f is independent of the inputs. This is not allowed"):
        F.jvp(lambda a: ember.ones(2, dtype=F64), (x,), (v,), strict=True)


def test_jvp_errors():
    x, v = T(rand(3)), T(rand(3))
    with pytest.raises(RuntimeError, match="Expected primals to be a tuple. E.g. it should be valid"):
        F.jvp(lambda a: a, x, v)
    with pytest.raises(RuntimeError, match="Expected primals and tangents to have the same python structure"):
        F.jvp(lambda a: a, (x,), v)
    with pytest.raises(RuntimeError, match="Trying to set a forward gradient that has a different size"):
        F.jvp(lambda a: a, (x,), (T(rand(2)),))
    with pytest.raises(RuntimeError, match="Expected primals to only contain Tensors, got <class 'float'>"):
        F.jvp(lambda a, n: a * n, (x, 2.0), (v, 1.0))
    with pytest.raises(RuntimeError, match="Expected primals to contain at least one Tensor"):
        F.jvp(lambda: 1, (), ())
    with pytest.raises(RuntimeError, match="expected f\\(\\*args\\) to return only tensors"):
        F.jvp(lambda a: 3, (x,), (v,))


def test_jvp_keeps_graph_to_caller_tensors():
    x, v = rand(3), rand(3)
    xr = T(x, requires_grad=True)
    out, t = F.jvp(lambda a: a**3, (xr,), (T(v),))
    assert out.requires_grad and t.requires_grad
    (gx,) = ember.autograd.grad(t.sum(), xr)
    close(gx, 6 * x * v)
    vr = T(v, requires_grad=True)
    _, t = F.jvp(lambda a: a**3, (T(x),), (vr,))
    (gv,) = ember.autograd.grad(t.sum(), vr)
    close(gv, 3 * x**2)


# ------------------------------------------------------------------------------ jacrev / jacfwd
@pytest.mark.parametrize("jac", [F.jacrev, F.jacfwd], ids=["jacrev", "jacfwd"])
def test_jacobians_against_hand_made(jac):
    x = rand(4)
    close(jac(f_vec)(T(x)), jac_f_vec(x))
    y = rand(4)
    gx, gy = jac(g_scalar, argnums=(0, 1))(T(x), T(y))
    close(gx, np.exp(x) * y + B @ y)
    close(gy, np.exp(x) + B.T @ x)
    m = rand(2, 3)
    jm = jac(lambda a: a.t().sin())(T(m))  # (3, 2, 2, 3)
    expected = np.zeros((3, 2, 2, 3))
    for i in range(2):
        for j in range(3):
            expected[j, i, i, j] = np.cos(m[i, j])
    close(jm, expected)


@pytest.mark.parametrize("jac", [F.jacrev, F.jacfwd], ids=["jacrev", "jacfwd"])
def test_jacobian_pytrees_aux_and_independence(jac):
    x, y = rand(3), rand(3)
    out = jac(lambda a: {"s": a.sin(), "c": (a.cos().sum(),)})(T(x))
    close(out["s"], np.diag(np.cos(x)))
    close(out["c"][0], -np.sin(x))
    d = jac(lambda p: p["a"] * p["b"])({"a": T(x), "b": T(y)})
    close(d["a"], np.diag(y))
    close(d["b"], np.diag(x))
    j, aux = jac(lambda a: (a.exp(), a * 2), has_aux=True)(T(x))
    close(j, np.diag(np.exp(x)))
    close(aux, 2 * x)
    close(jac(lambda a, b: b * 2)(T(x), T(y)), np.zeros((3, 3)))
    scalar_in = jac(lambda a: a * T([1.0, 2.0]))(T(2.0))
    close(scalar_in, [1.0, 2.0])
    assert not scalar_in.requires_grad
    empty = jac(lambda a: a * 2)(T(np.zeros(0)))
    assert tuple(empty.shape) == (0, 0)


def test_jacrev_jacfwd_errors():
    x = T(rand(3))
    with pytest.raises(ValueError, match="jacrev: `chunk_size` should be greater than 0."):
        F.jacrev(lambda a: a, chunk_size=0)
    with pytest.raises(RuntimeError, match="vjp\\(f, \\*primals\\): expected f\\(\\*primals\\) to return only tensors"):
        F.jacrev(lambda a: 3)(x)
    with pytest.raises(RuntimeError, match="jvp\\(f, primals, tangents\\): expected f\\(\\*args\\) to return only"):
        F.jacfwd(lambda a: 3)(x)
    with pytest.raises(RuntimeError, match="floating point"):
        F.jacrev(lambda a: a * 2)(ember.ones(2, dtype=ember.int64))
    assert F.jacrev(lambda a: a * 2, chunk_size=1)(x).shape == (3, 3)


def test_hessian_and_nesting():
    x, y = rand(4), rand(4)
    # f(x) = x^T B x + sum(sin x): H = B + B^T - diag(sin x)
    f = lambda a: a @ (T(B) @ a) + a.sin().sum()  # noqa: E731
    expected = B + B.T - np.diag(np.sin(x))
    close(F.hessian(f)(T(x)), expected)
    close(F.jacrev(F.jacrev(f))(T(x)), expected)
    close(F.jacfwd(F.jacfwd(f))(T(x)), expected)
    close(F.jacrev(F.grad(f))(T(x)), expected)
    close(F.grad(lambda a: F.grad(f)(a).sum())(T(x)), expected.sum(0))
    assert not F.hessian(f)(T(x)).requires_grad
    (hxx, hxy), (hyx, hyy) = F.hessian(g_scalar, argnums=(0, 1))(T(x), T(y))
    close(hxx, np.diag(np.exp(x) * y))
    close(hxy, np.diag(np.exp(x)) + B)
    close(hyx, np.diag(np.exp(x)) + B.T)
    close(hyy, np.zeros((4, 4)))
    # jvp of a jvp: the second directional derivative v^T H w
    v, w = rand(4), rand(4)
    _, second = F.jvp(lambda a: F.jvp(f, (a,), (T(v),))[1], (T(x),), (T(w),))
    close(second, v @ expected @ w)


def test_transforms_inside_a_dual_level():
    x, v = rand(3), rand(3)
    with fwAD.dual_level():
        d = fwAD.make_dual(T(x), T(v))
        g = F.grad(lambda a: (a**3).sum())(d)  # 3 x^2 keeps the dual's graph
        close(fwAD.unpack_dual(g).tangent, 6 * x * v)


# --------------------------------------------------------------------------------- functional_call
class Tied(ember.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = ember.nn.Linear(3, 2).double()
        self.other = self.lin  # the same module (and parameters) under a second name
        self.register_buffer("scale", T(np.full(2, 2.0)))

    def forward(self, x):
        return self.other(x) * self.scale


def test_functional_call_swaps_and_restores():
    model = Tied()
    w0, b0 = model.lin.weight, model.lin.bias
    W, b, x = rand(2, 3), rand(2), rand(3)
    out = F.functional_call(model, {"lin.weight": T(W), "lin.bias": T(b)}, (T(x),))
    close(out, (W @ x + b) * 2)  # tie_weights: other.weight follows lin.weight
    assert model.lin.weight is w0 and model.lin.bias is b0
    out = F.functional_call(model, ({"lin.weight": T(W)}, {"scale": T(np.ones(2))}), T(x))
    close(out, W @ x + npy(b0))
    assert model.scale is not None and npy(model.scale)[0] == 2.0
    out = F.functional_call(model, {}, args=(), kwargs={"x": T(x)})
    close(out, npy(model.lin(T(x))) * 2)


def test_functional_call_with_grad_over_parameters():
    model = ember.nn.Linear(3, 2).double()
    params = {k: v.detach() for k, v in model.named_parameters()}
    x = rand(3)

    def loss(p, inp):
        return F.functional_call(model, p, (inp,)).pow(2).sum()

    g = F.grad(loss)(params, T(x))
    W, b = npy(params["weight"]), npy(params["bias"])
    r = W @ x + b
    close(g["weight"], 2 * np.outer(r, x))
    close(g["bias"], 2 * r)
    assert not g["weight"].requires_grad


def test_functional_call_errors_and_restore_on_error():
    model = Tied()
    w0 = model.lin.weight
    with pytest.raises(ValueError, match="which are tied. Consider using tie_weights=False"):
        F.functional_call(model, {"lin.weight": T(rand(2, 3)), "other.weight": T(rand(2, 3))}, (T(rand(3)),))
    F.functional_call(
        model, {"lin.weight": T(rand(2, 3)), "other.weight": T(rand(2, 3))}, (T(rand(3)),), tie_weights=False
    )
    with pytest.raises(ValueError, match="appeared in multiple dictionaries"):
        F.functional_call(model, ({"scale": T(rand(2))}, {"scale": T(rand(2))}), (T(rand(3)),))
    with pytest.raises(ValueError, match="Expected parameter_and_buffer_dicts to be a dict"):
        F.functional_call(model, 3, (T(rand(3)),))
    with pytest.raises(RuntimeError, match="Missing key\\(s\\): 'lin.bias'"):
        F.functional_call(model, {"lin.weight": T(rand(2, 3)), "scale": T(rand(2))}, (T(rand(3)),), strict=True)
    with pytest.raises(RuntimeError, match="Unexpected key\\(s\\): 'nope'"):
        F.functional_call(model, {"nope": T(rand(2))}, (T(rand(3)),), strict=True)
    with pytest.raises(RuntimeError):
        F.functional_call(model, {"lin.weight": T(rand(5, 5))}, (T(rand(3)),))  # shapes do not fit
    assert model.lin.weight is w0


# ------------------------------------------------------------------------------- PyTorch parity
PARITY = {
    "grad": lambda m, x, y: m.func.grad(lambda a, b: (a.sin() * b).sum(), argnums=(0, 1))(x, y),
    "jacrev": lambda m, x, y: m.func.jacrev(lambda a: (a.exp() @ a.t(), a.sum(0)))(x),
    "jacfwd": lambda m, x, y: m.func.jacfwd(lambda a, b: {"p": a * b, "q": (a / (1 + b * b),)}, argnums=1)(x, y),
    "hessian": lambda m, x, y: m.func.hessian(lambda a: (a.tanh() * a).sum())(x),
    "jvp": lambda m, x, y: m.func.jvp(lambda a: (a.cos() * a, a.sum()), (x,), (y,)),
    "vjp": lambda m, x, y: m.func.vjp(lambda a: a.sigmoid() * 2, x)[1](y),
    "grad_and_value": lambda m, x, y: m.func.grad_and_value(lambda a: (a**3).sum())(x),
}


def _to_numpy_tree(tree):
    if isinstance(tree, (tuple, list)):
        return type(tree)(_to_numpy_tree(t) for t in tree)
    if isinstance(tree, dict):
        return {k: _to_numpy_tree(v) for k, v in tree.items()}
    return tree.detach().numpy()


def _compare(a, b):
    if isinstance(b, (tuple, list, dict)):
        assert type(a) is type(b)
        assert len(a) == len(b)
        items = zip(a.values(), b.values()) if isinstance(b, dict) else zip(a, b)
        for x, y in items:
            _compare(x, y)
    else:
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(PARITY))
def test_parity_with_torch_func(name):
    torch = pytest.importorskip("torch")
    pytest.importorskip("torch.func")
    x, y = rand(2, 2), rand(2, 2)
    got = PARITY[name](ember, T(x), T(y))
    want = PARITY[name](torch, torch.tensor(x), torch.tensor(y))
    _compare(_to_numpy_tree(got), _to_numpy_tree(want))


def test_parity_requires_grad_with_torch_func():
    torch = pytest.importorskip("torch")
    results = []
    for lib, mk in ((ember, T), (torch, lambda a, requires_grad=False: torch.tensor(a, requires_grad=requires_grad))):
        x = rand(3)
        fn = lambda a: (a**3).sum()  # noqa: E731
        results.append(
            (
                lib.func.grad(fn)(mk(x)).requires_grad,
                lib.func.grad(fn)(mk(x, requires_grad=True)).requires_grad,
                lib.func.jacrev(lambda a: a * a)(mk(x, requires_grad=True)).requires_grad,
                lib.func.jvp(lambda a: a * a, (mk(x),), (mk(x),))[1].requires_grad,
                lib.func.vjp(lambda a: a * a, mk(x))[0].requires_grad,
            )
        )
    assert results[0] == results[1]
