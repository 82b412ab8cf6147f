"""ember.autograd.forward_ad: dual levels, make_dual/unpack_dual, and the JVPs they give.

JVPs are checked in float64 against central finite differences and against the
reverse-mode Jacobian (J @ v) for a spread of ops: elementwise, matmul, reductions,
views, broadcasting and in-place ops on duals. Then the API's rules and error words
(PyTorch's), the interplay with reverse mode (user tensors that require grad), level
cleanup, functional.jacobian/hessian with strategy="forward-mode", and parity with
torch.autograd.forward_ad where PyTorch is importable.
"""

import gc
import weakref

import numpy as np
import pytest

import ember
import ember.autograd.forward_ad as fwAD
from ember.autograd.functional import hessian, jacobian

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")

F64 = ember.float64
RNG = np.random.default_rng(0)


def T(a, requires_grad=False):
    return ember.tensor(np.asarray(a, dtype=np.float64), dtype=F64, requires_grad=requires_grad)


def npy(t):
    return t.detach().numpy()


def rand(*shape, low=-1.0, high=1.0):
    return RNG.uniform(low, high, size=shape)


@pytest.fixture(autouse=True)
def _no_level_left():
    yield
    # A failing test must not leave a level entered for the next ones.
    while fwAD._current_level >= 0:
        fwAD.exit_dual_level()


def jvp_dual(fn, xs, vs):
    """fn's outputs' tangents through forward_ad, as numpy arrays (None for no tangent)."""
    with fwAD.dual_level():
        duals = [fwAD.make_dual(T(x), T(v)) for x, v in zip(xs, vs)]
        out = fn(*duals)
        outs = out if isinstance(out, tuple) else (out,)
        result = []
        for o in outs:
            p, t = fwAD.unpack_dual(o)
            result.append((npy(p), None if t is None else npy(t)))
    return result


def jvp_fd(fn, xs, vs, eps=1e-6):
    """Central finite difference of fn along vs."""

    def run(s):
        out = fn(*[T(x + s * v) for x, v in zip(xs, vs)])
        return [npy(o) for o in (out if isinstance(out, tuple) else (out,))]

    return [(a - b) / (2 * eps) for a, b in zip(run(eps), run(-eps))]


def jvp_reverse(fn, xs, vs):
    """J @ v from the reverse-mode Jacobian (functional.jacobian), summed over the inputs."""
    jac = jacobian(fn, tuple(T(x) for x in xs))
    out = fn(*[T(x) for x in xs])
    outs = out if isinstance(out, tuple) else (out,)
    jac = jac if isinstance(out, tuple) else (jac,)
    result = []
    for o, row in zip(outs, jac):
        total = np.zeros(o.shape)
        for block, x, v in zip(row, xs, vs):
            b = npy(block).reshape(o.numel(), np.size(x))
            total = total + (b @ np.reshape(v, -1)).reshape(o.shape)
        result.append(total)
    return result


def _inplace_mul(x, y):
    z = x * 1
    z.mul_(y)
    return z


def _inplace_on_dual(x, y):
    x.mul_(y)  # x is the dual itself
    x.add_(y.sin())
    return x.exp()


def _setitem(x, y):
    z = x.clone()
    z[1:3] = y[:2] * 2
    return z


def _view_inplace(x, y):
    z = x.clone()
    z.narrow(0, 0, 2).mul_(y[:2])
    return z


CASES = {
    # name: (fn, shapes of the inputs)
    "sin": (lambda x: x.sin(), [(5,)]),
    "exp_tanh": (lambda x: x.exp() * x.tanh(), [(2, 3)]),
    "log": (lambda x: (x * x + 1).log(), [(4,)]),
    "sigmoid_pow": (lambda x: ember.sigmoid(x) ** 3, [(4,)]),
    "div": (lambda x, y: x / (y * y + 1), [(3,), (3,)]),
    "mul_two": (lambda x, y: x * y + x.cos() * y, [(2, 3), (2, 3)]),
    "matmul": (lambda a, b: a @ b, [(2, 3), (3, 4)]),
    "matvec": (lambda a, v: (a @ v).tanh(), [(3, 3), (3,)]),
    "sum_dim": (lambda x: x.sum(1), [(3, 4)]),
    "mean": (lambda x: (x * x).mean(), [(3, 4)]),
    "max_dim": (lambda x: x.max(0)[0], [(3, 4)]),
    "softmax": (lambda x: ember.softmax(x, 1), [(2, 5)]),
    "logsumexp": (lambda x: ember.logsumexp(x, 1), [(2, 5)]),
    "norm": (lambda x: x.norm(), [(6,)]),
    "transpose": (lambda x: x.t() * 2, [(2, 3)]),
    "reshape": (lambda x: x.reshape(3, 2).sin(), [(2, 3)]),
    "slice": (lambda x: x[1:, ::2] ** 2, [(3, 4)]),
    "expand": (lambda x: x.expand(3, 4) * 1.5, [(1, 4)]),
    "broadcast": (lambda x, y: x * y + y, [(3, 1), (1, 4)]),
    "cat_stack": (lambda x, y: ember.cat([x, ember.stack([y, y])]).cos(), [(2, 3), (3,)]),
    "where": (lambda x: ember.where(x > 0, x * x, -x), [(6,)]),
    "two_outputs": (lambda x: (x.sin(), x.sum()), [(4,)]),
    "inplace_mul": (_inplace_mul, [(4,), (4,)]),
    "inplace_on_dual": (_inplace_on_dual, [(4,), (4,)]),
    "setitem": (_setitem, [(4,), (3,)]),
    "view_inplace": (_view_inplace, [(4,), (4,)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_jvp_matches_finite_differences_and_reverse_mode(name):
    fn, shapes = CASES[name]
    xs = [rand(*s, low=0.2, high=1.2) if name == "log" else rand(*s) for s in shapes]
    if name == "where":
        xs[0][np.abs(xs[0]) < 0.1] = 0.5  # away from the kink
    vs = [rand(*s) for s in shapes]
    got = jvp_dual(fn, [x.copy() for x in xs], vs)
    fd = jvp_fd(fn, xs, vs) if "inplace_on_dual" not in name else None
    rev = jvp_reverse(lambda *a: fn(*[t.clone() for t in a]), xs, vs)
    plain = fn(*[T(x) for x in xs])
    plain = plain if isinstance(plain, tuple) else (plain,)
    for k, (primal, tangent) in enumerate(got):
        np.testing.assert_allclose(primal, npy(plain[k]), rtol=1e-12, atol=1e-12)
        assert tangent is not None
        assert tangent.shape == primal.shape
        np.testing.assert_allclose(tangent, rev[k], rtol=1e-10, atol=1e-10)
        if fd is not None:
            np.testing.assert_allclose(tangent, fd[k], rtol=1e-6, atol=1e-7)


def test_jvp_sums_over_several_duals_and_ignores_plain_tensors():
    x, y, w = rand(3), rand(3), rand(3)
    vx, vy = rand(3), rand(3)
    with fwAD.dual_level():
        dx = fwAD.make_dual(T(x), T(vx))
        dy = fwAD.make_dual(T(y), T(vy))
        out = dx * dy * T(w)
        _, t = fwAD.unpack_dual(out)
    np.testing.assert_allclose(npy(t), (vx * y + x * vy) * w, rtol=1e-12)


def test_jvp_of_a_function_without_duals_is_none_and_of_a_constant_path_is_zero():
    with fwAD.dual_level():
        d = fwAD.make_dual(T(rand(3)), T(rand(3)))
        assert fwAD.unpack_dual(T([1.0, 2.0])).tangent is None
        assert fwAD.unpack_dual(d.detach() * 2).tangent is None
        zero = fwAD.unpack_dual(d * 0.0).tangent
        np.testing.assert_array_equal(npy(zero), np.zeros(3))
        assert fwAD.unpack_dual(d.argmax()).tangent is None  # integer result: not differentiable
        assert fwAD.unpack_dual(d > 0).tangent is None


def test_unpack_registered_dual_gives_the_tangent_object_and_shares_memory():
    x, v = T(rand(3)), T(rand(3))
    with fwAD.dual_level() as level:
        assert level == 0
        d = fwAD.make_dual(x, v)
        p, t = fwAD.unpack_dual(d)
        assert t is v
        assert d.data_ptr() == x.data_ptr() and p.data_ptr() == x.data_ptr()
        assert d._version == x._version
        assert not p.requires_grad
        assert fwAD.unpack_dual(p).tangent is None
        assert fwAD.unpack_dual(t).tangent is None
        assert fwAD.unpack_dual(x).tangent is None
        x.add_(1)  # the dual sees the new values and keeps its tangent
        np.testing.assert_array_equal(npy(fwAD.unpack_dual(d).primal), npy(x))
        assert fwAD.unpack_dual(d).tangent is v
        d.mul_(3)  # in place on the dual: writes into x, and the tangent follows
        np.testing.assert_allclose(npy(x), npy(p))
        t2 = fwAD.unpack_dual(d).tangent
        assert t2 is not v
        np.testing.assert_allclose(npy(t2), 3 * npy(v), rtol=1e-12)
        assert fwAD.unpack_dual(d, level=level).tangent is not None
    assert fwAD.unpack_dual(d).tangent is None


def test_namedtuple_and_outside_a_level():
    x = T(rand(2))
    result = fwAD.unpack_dual(x)
    assert isinstance(result, fwAD.UnpackedDualTensor)
    assert result.primal is x and result.tangent is None
    assert fwAD.unpack_dual(3).primal == 3


def test_exit_forgets_duals_and_frees_tangents():
    x = T(rand(2))
    with fwAD.dual_level():
        tangent = T(rand(2))
        ref = weakref.ref(tangent)
        dual = fwAD.make_dual(x, tangent)
        y = dual * 2
        del tangent
        assert ref() is not None
    assert fwAD.unpack_dual(y).tangent is None
    with fwAD.dual_level():  # a new level does not see the old duals
        assert fwAD.unpack_dual(y).tangent is None
        assert not fwAD.unpack_dual(y).primal.requires_grad
        new = fwAD.make_dual(x, T([1.0, 1.0]))
        np.testing.assert_allclose(npy(fwAD.unpack_dual(new * y).tangent), 2 * npy(x))
    del dual, y, new
    gc.collect()
    assert ref() is None


def test_tangent_freed_with_its_dual_inside_the_level():
    with fwAD.dual_level():
        tangent = T(rand(2))
        ref = weakref.ref(tangent)
        dual = fwAD.make_dual(T(rand(2)), tangent)
        del tangent
        assert ref() is not None
        del dual
        gc.collect()
        assert ref() is None


def test_levels_enter_exit_and_decorator():
    assert fwAD._current_level == -1
    assert fwAD.enter_dual_level() == 0
    with pytest.raises(RuntimeError, match="Nested forward mode AD is not supported at the moment"):
        fwAD.enter_dual_level()
    with pytest.raises(RuntimeError, match="Trying to exit a forward AD level that was not the last one"):
        fwAD.exit_dual_level(level=3)
    fwAD.exit_dual_level()
    with pytest.raises(RuntimeError, match="Dual level must be a positive number"):
        fwAD.exit_dual_level()

    @fwAD.dual_level()
    def inside():
        d = fwAD.make_dual(T([1.0, 2.0]), T([1.0, 1.0]))
        return fwAD.unpack_dual(d * d).tangent

    np.testing.assert_allclose(npy(inside()), [2.0, 4.0])
    assert fwAD._current_level == -1
    with pytest.raises(ValueError):
        with fwAD.dual_level():
            raise ValueError("boom")
    assert fwAD._current_level == -1  # exited on the way out of an exception


def test_make_dual_errors():
    x = T(rand(2))
    with pytest.raises(RuntimeError, match="no level exists, make sure to enter_dual_level\\(\\) first"):
        fwAD.make_dual(x, x)
    with fwAD.dual_level():
        with pytest.raises(RuntimeError, match="Invalid level given to _make_dual"):
            fwAD.make_dual(x, x, level=3)
        with pytest.raises(ValueError, match="Expected primal to be floating point or complex, but got"):
            fwAD.make_dual(ember.ones(2, dtype=ember.int64), x)
        with pytest.raises(ValueError, match="Expected tangent to be floating point or complex, but got"):
            fwAD.make_dual(x, ember.ones(2, dtype=ember.int64))
        with pytest.raises(RuntimeError, match=r"different size .* Tensor is of size \[2\] while the given forward "):
            fwAD.make_dual(x, T(rand(3)))
        with pytest.raises(RuntimeError, match="different size"):
            fwAD.make_dual(T(rand(2, 3)), T(rand(3, 2)))
        dual = fwAD.make_dual(x, T(rand(2)))
        with pytest.raises(RuntimeError, match="already has a forward gradient at the same level 0"):
            fwAD.make_dual(dual * 2, T(rand(2)))
        with pytest.raises(RuntimeError, match="itself has a forward gradient at the same level"):
            fwAD.make_dual(T(rand(2)), dual)
        with pytest.raises(TypeError, match="must be Tensor, not int"):
            fwAD.unpack_dual(3)
        fwAD.make_dual(T(rand(2)), T(rand(3))[1:])  # a view of the right size is fine
        fwAD.make_dual(x, ember.ones(2))  # float32 tangent for a float64 primal: accepted, as PyTorch


def test_user_reverse_mode_gradients_alongside():
    foo = T(rand(2), requires_grad=True)
    bar = T(rand(2), requires_grad=True)
    with fwAD.dual_level():
        dual = fwAD.make_dual(foo, bar)
        p, t = fwAD.unpack_dual(dual)
        assert t is bar
        gfoo, gbar = ember.autograd.grad(p.sum(), (foo, bar), allow_unused=True)
        np.testing.assert_array_equal(npy(gfoo), [1.0, 1.0])
        assert gbar is None
        # y = sum(d^3): primal grad 3 x^2, tangent 3 x^2 . v with grads 6 x v (x) and 3 x^2 (v)
        y = (dual**3).sum()
        p, t = fwAD.unpack_dual(y)
        assert p.requires_grad and t.requires_grad
        assert fwAD.unpack_dual(p).tangent is None  # the primal is not a dual
        assert fwAD.unpack_dual(t).tangent is None
        X, V = npy(foo), npy(bar)
        np.testing.assert_allclose(npy(t), np.sum(3 * X**2 * V), rtol=1e-12)
        (gp,) = ember.autograd.grad(p, foo, retain_graph=True)
        np.testing.assert_allclose(npy(gp), 3 * X**2, rtol=1e-12)
        gx, gv = ember.autograd.grad(t, (foo, bar), retain_graph=True)
        np.testing.assert_allclose(npy(gx), 6 * X * V, rtol=1e-12)
        np.testing.assert_allclose(npy(gv), 3 * X**2, rtol=1e-12)
        # The primal and the tangent are constants for forward mode, mixed with the dual again.
        sq = fwAD.unpack_dual(dual * dual).primal
        np.testing.assert_allclose(npy(fwAD.unpack_dual(sq * dual).tangent), X**2 * V, rtol=1e-12)
        np.testing.assert_allclose(npy(fwAD.unpack_dual(t * dual).tangent), np.sum(3 * X**2 * V) * V, rtol=1e-12)


def test_forward_over_reverse_hessian_vector_product():
    # f(x) = sum(sin(x) * x); grad = cos(x) x + sin(x); H v = (2 cos x - x sin x) v
    x, v = rand(4), rand(4)
    with fwAD.dual_level():
        d = fwAD.make_dual(T(x), T(v))
        (g,) = ember.autograd.grad((d.sin() * d).sum(), d, create_graph=True)
        hv = fwAD.unpack_dual(g).tangent
    np.testing.assert_allclose(npy(hv), (2 * np.cos(x) - x * np.sin(x)) * v, rtol=1e-10)


def test_user_tensor_captured_requires_grad():
    w = T(rand(3), requires_grad=True)
    x, v = rand(3), rand(3)
    with fwAD.dual_level():
        d = fwAD.make_dual(T(x), T(v))
        p, t = fwAD.unpack_dual((d * w).exp().sum())
        assert p.requires_grad and t.requires_grad
        (gw,) = ember.autograd.grad(t, w)
    W = npy(w)
    # t = sum(exp(x w) w v); dt/dw = exp(x w) (x w v + v)
    np.testing.assert_allclose(npy(gw), np.exp(x * W) * (x * W * v + v), rtol=1e-10)


def test_backward_through_duals_still_works():
    a = T(rand(3), requires_grad=True)
    with fwAD.dual_level():
        da = fwAD.make_dual(T(rand(3)), a)  # a tangent that requires grad
        out = (da.exp() * a).sum()
        out.backward()
        t = fwAD.unpack_dual(da.exp()).tangent
        assert t.requires_grad
    assert a.grad is not None


def test_make_dual_under_no_grad_and_inference_mode():
    with ember.no_grad():
        with fwAD.dual_level():
            d = fwAD.make_dual(T([1.0, 2.0]), T([1.0, 1.0]))
            assert fwAD.unpack_dual(d).tangent is not None
            with ember.enable_grad():
                np.testing.assert_allclose(npy(fwAD.unpack_dual(d * d).tangent), [2.0, 4.0])
    with ember.inference_mode():
        foo = ember.rand(2)
        before = npy(foo).copy()
        with fwAD.dual_level():
            dual = fwAD.make_dual(foo, ember.rand(2))
            assert dual._base is None
            dual += 1
        np.testing.assert_allclose(npy(foo), before + 1)


def test_inplace_into_plain_tensor_and_views():
    foo, bar = T(rand(2)), T([1.0, 1.0])
    with fwAD.dual_level():
        dual = fwAD.make_dual(foo, bar)
        view = dual.narrow(0, 0, 1)
        view *= 2
        assert fwAD.unpack_dual(foo).tangent is None
        np.testing.assert_array_equal(npy(fwAD.unpack_dual(dual).tangent), [2.0, 1.0])
        np.testing.assert_array_equal(npy(fwAD.unpack_dual(view).tangent), [2.0])
        baz = T(rand(2))
        baz += dual
        np.testing.assert_array_equal(npy(fwAD.unpack_dual(baz).tangent), [2.0, 1.0])
        base = T(rand(2, 2))
        base.t().copy_(fwAD.make_dual(T(rand(2, 2)), T([[1.0, 2.0], [3.0, 4.0]])))
        np.testing.assert_array_equal(npy(fwAD.unpack_dual(base).tangent), [[1.0, 3.0], [2.0, 4.0]])


def test_expanded_primal():
    x = T([1.0, 2.0]).expand(3, 2)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, T(np.ones((3, 2))))
        np.testing.assert_allclose(npy(fwAD.unpack_dual((d * d).sum()).tangent), 2 * 3 * 3.0)


# ------------------------------------------------------------------ functional with forward mode
def f_two(x, y):
    return (x.sin() * y.sum(), x @ y.reshape(3, 1))


def test_functional_jacobian_forward_mode_matches_reverse():
    x, y = T(rand(2, 3)), T(rand(3))
    fwd = jacobian(f_two, (x, y), strategy="forward-mode", vectorize=True)
    rev = jacobian(f_two, (x, y))
    assert isinstance(fwd, list) and isinstance(fwd[0], list)  # PyTorch's structure for this strategy
    for rf, rr in zip(fwd, rev):
        for a, b in zip(rf, rr):
            assert tuple(a.shape) == tuple(b.shape)
            np.testing.assert_allclose(npy(a), npy(b), rtol=1e-12, atol=1e-14)
    single = jacobian(lambda t: t.exp() * 2, x, strategy="forward-mode", vectorize=True)
    np.testing.assert_allclose(npy(single), npy(jacobian(lambda t: t.exp() * 2, x)), rtol=1e-12)
    assert not single.requires_grad
    unrelated = jacobian(lambda a, b: (a, ember.ones(2, dtype=F64)), (x, y), strategy="forward-mode", vectorize=True)
    np.testing.assert_array_equal(npy(unrelated[1][0]), np.zeros((2, 2, 3)))
    assert fwAD._current_level == -1


def test_functional_jacobian_forward_mode_errors():
    x = T(rand(3))
    with pytest.raises(NotImplementedError, match="only implemented for `vectorize=True`"):
        jacobian(lambda t: t * 2, x, strategy="forward-mode")
    with pytest.raises(NotImplementedError, match='`create_graph=True` and `strategy="forward-mode"`'):
        jacobian(lambda t: t * 2, x, create_graph=True, strategy="forward-mode", vectorize=True)
    with pytest.raises(RuntimeError, match='`strict=True` and `strategy="forward-mode"`'):
        jacobian(lambda t: t * 2, x, strict=True, strategy="forward-mode", vectorize=True)


def test_functional_hessian_forward_over_reverse():
    x, y = T(rand(3)), T(rand(3))

    def f(a, b):
        return (a.sin() * b * b).sum() + (a @ b) ** 2

    fwd = hessian(f, (x, y), vectorize=True, outer_jacobian_strategy="forward-mode")
    rev = hessian(f, (x, y))
    for rf, rr in zip(fwd, rev):
        for a, b in zip(rf, rr):
            np.testing.assert_allclose(npy(a), npy(b), rtol=1e-10, atol=1e-12)
    single = hessian(lambda a: (a.exp() * a).sum(), x, vectorize=True, outer_jacobian_strategy="forward-mode")
    X = npy(x)
    np.testing.assert_allclose(npy(single), np.diag(np.exp(X) * (X + 2)), rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------------------ PyTorch parity
PARITY = {
    "chain": lambda m, x, y: (x.sin() * y).exp().sum(0),
    "matmul": lambda m, x, y: (x @ y.t()).tanh(),
    "softmax_log": lambda m, x, y: m.log_softmax(x * y, 1),
    "inplace": lambda m, x, y: x.clone().mul_(y).add_(1).sqrt(),
    "views": lambda m, x, y: (x.t()[1:] * y.t()[:1]).reshape(-1),
}


@pytest.mark.parametrize("name", sorted(PARITY))
def test_parity_with_torch(name):
    torch = pytest.importorskip("torch")
    x, y = rand(2, 3, low=0.1, high=1.0), rand(2, 3, low=0.1, high=1.0)
    vx, vy = rand(2, 3), rand(2, 3)
    results = []
    for lib, mk in ((ember, T), (torch, lambda a: torch.tensor(a, dtype=torch.float64))):
        fw = lib.autograd.forward_ad
        with fw.dual_level():
            dx = fw.make_dual(mk(x), mk(vx))
            dy = fw.make_dual(mk(y), mk(vy))
            p, t = fw.unpack_dual(PARITY[name](lib, dx, dy))
            results.append((p.detach().numpy(), t.detach().numpy(), p.requires_grad))
    (pe, te, re), (pt, tt, rt) = results
    np.testing.assert_allclose(pe, pt, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(te, tt, rtol=1e-10, atol=1e-12)
    assert re == rt


def _error_words(lib):
    """(type, message) of each refusal of lib.autograd.forward_ad, in a fixed order."""
    fw = lib.autograd.forward_ad
    got = []

    def record(call):
        with pytest.raises(Exception) as err:
            call()
        got.append((type(err.value), str(err.value).replace("torch.", "ember.")))

    record(lambda: fw.make_dual(lib.ones(2), lib.ones(2)))
    record(lambda: fw.exit_dual_level())
    with fw.dual_level():
        record(lambda: fw.enter_dual_level())
        record(lambda: fw.make_dual(lib.ones(2), lib.ones(3)))
        record(lambda: fw.make_dual(lib.ones(2, dtype=lib.int64), lib.ones(2)))
        record(lambda: fw.make_dual(lib.ones(2), lib.ones(2, dtype=lib.int64)))
        record(lambda: fw.make_dual(lib.ones(2), lib.ones(2), level=2))
        record(lambda: fw.exit_dual_level(level=4))
        d = fw.make_dual(lib.ones(2), lib.ones(2))
        record(lambda: fw.make_dual(d * 2, lib.ones(2)))
        record(lambda: fw.make_dual(lib.ones(2), d * 2))
    return got


def test_parity_errors_with_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = _error_words(ember), _error_words(torch)
    assert len(ours) == len(theirs) == 10
    for (te, me), (tt, mt) in zip(ours, theirs):
        assert te is tt
        assert me == mt


class _Cube(ember.autograd.Function):
    """x**3 with its own jvp (3 x^2 t), which reads x back through save_for_forward."""

    jvp_calls = 0

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_forward(x)
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def jvp(ctx, t):
        _Cube.jvp_calls += 1
        (x,) = ctx.saved_tensors
        return 3 * x**2 * t

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 3 * x**2 * g


def test_custom_function_jvp_gives_the_tangent_and_reverse_mode_still_works():
    rng = np.random.default_rng(3)
    xv, tv = rng.standard_normal(4), rng.standard_normal(4)
    x = ember.tensor(xv, requires_grad=True)
    _Cube.jvp_calls = 0
    with fwAD.dual_level():
        out = _Cube.apply(fwAD.make_dual(x, ember.tensor(tv)))
        (out.sin()).sum().backward()
        tangent = fwAD.unpack_dual(out.sin()).tangent
    assert _Cube.jvp_calls == 1
    np.testing.assert_allclose(tangent.detach().numpy(), np.cos(xv**3) * 3 * xv**2 * tv, rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), np.cos(xv**3) * 3 * xv**2, rtol=1e-12)


def test_custom_function_without_jvp_refuses_duals():
    class NoJvp(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return 2 * g

    x = ember.ones(2)
    assert NoJvp.apply(x).tolist() == [2.0, 2.0]  # no level: jvp is not needed
    with fwAD.dual_level(), pytest.raises(NotImplementedError, match="must implement the jvp function"):
        NoJvp.apply(fwAD.make_dual(x, ember.ones(2)))
