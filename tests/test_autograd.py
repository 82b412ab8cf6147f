"""Autograd behaviours of the PyTorch tutorials, the error words, grad modes,
custom Functions, hooks, higher-order gradients, threads, repr."""

import contextlib
import gc
import threading
import warnings
import weakref

import numpy as np
import pytest

import ember
from ember.autograd import Function

# PyTorch's error words (DESIGN.md); matched as regular expressions.
SECOND_BACKWARD = r"Trying to backward through the graph a second time[\s\S]*retain_graph=True"
NOT_SCALAR = "grad can be implicitly created only for scalar outputs"
NO_GRAD_FN = "element 0 of tensors does not require grad and does not have a grad_fn"
LEAF_INPLACE = "a leaf Variable that requires grad is being used in an in-place operation."
VIEW_OF_LEAF_INPLACE = "leaf Variable that requires grad is being used in an in-place operation"
MODIFIED = "one of the variables needed for gradient computation has been modified by an inplace operation"
UNUSED = r"appears to not have been used in the graph[\s\S]*allow_unused=True"
FLOAT_ONLY = r"(?i)only Tensors of floating point"
ONCE_DIFF = "trying to differentiate twice a function that was marked with @once_differentiable"


def leaf(values, dtype=None):
    return ember.tensor(values, dtype=dtype or ember.float32, requires_grad=True)


def node_name(node):
    # PyTorch's AccumulateGrad.name() is "torch::autograd::AccumulateGrad"; compare the last part.
    return node.name().rsplit("::", 1)[-1]


# ----------------------------------------------------------------- the basics
def test_tutorial_first_example():
    x = ember.tensor(2.0, requires_grad=True)
    z = x * x * 3
    z.backward()
    assert x.grad.item() == 12.0
    assert x.grad.shape == () and x.grad.dtype == ember.float32 and not x.grad.requires_grad


def test_small_graph_gradients():
    a = leaf([2.0, 3.0])
    b = leaf([6.0, 4.0])
    q = 3 * a**3 - b**2
    q.sum().backward()
    assert a.grad.tolist() == [36.0, 81.0]
    assert b.grad.tolist() == [-12.0, -8.0]


def test_requires_grad_propagation_and_is_leaf():
    x = leaf([1.0, 2.0])
    c = ember.tensor([3.0, 4.0])
    y = x * c
    assert y.requires_grad and not y.is_leaf and y.grad_fn is not None
    assert x.is_leaf and x.grad_fn is None and x.grad is None
    assert c.is_leaf and not c.requires_grad
    z = c * 2  # no input requires grad: a leaf by convention
    assert not z.requires_grad and z.is_leaf and z.grad_fn is None
    assert x.detach().is_leaf and not x.detach().requires_grad
    assert not x.clone().is_leaf
    assert c.requires_grad_() is c and c.requires_grad and c.is_leaf
    c.requires_grad_(False)
    assert not c.requires_grad
    c.requires_grad = True
    assert c.requires_grad


def test_requires_grad_false_on_non_leaf_raises():
    y = leaf([1.0]) * 2
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf variables"):
        y.requires_grad_(False)


@pytest.mark.parametrize(
    "make",
    [
        lambda: ember.tensor([1, 2], requires_grad=True),
        lambda: ember.tensor([1, 2]).requires_grad_(),
        lambda: ember.ones(2, dtype=ember.int64, requires_grad=True),
        lambda: ember.tensor([True]).requires_grad_(),
    ],
    ids=["tensor", "requires_grad_", "ones", "bool"],
)
def test_requires_grad_on_integer_tensor_raises(make):
    with pytest.raises(RuntimeError, match=FLOAT_ONLY):
        make()


def test_leaf_used_twice_gets_summed_gradient():
    x = leaf([1.0, 2.0, 3.0])
    (x * x + x).sum().backward()
    assert x.grad.tolist() == [3.0, 5.0, 7.0]
    w = leaf([2.0])
    (w + w + w * w).backward(ember.ones(1))
    assert w.grad.tolist() == [6.0]


def test_diamond_graph():
    x = leaf([1.0, 2.0])
    a = x * 2
    b = a.exp()
    c = a.sin()
    (b + c).sum().backward()
    x_ = np.array([1.0, 2.0])
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp(2 * x_) + 2 * np.cos(2 * x_), rtol=1e-5)


def test_broadcast_gradient_is_summed_to_input_shape():
    a = leaf(np.ones((3, 4)))
    b = leaf(np.ones((4,)))
    c = leaf(np.ones((3, 1)))
    s = leaf(2.0)
    (a * b + c * s).sum().backward()
    assert b.grad.shape == (4,) and b.grad.tolist() == [3.0] * 4
    assert c.grad.shape == (3, 1) and c.grad.tolist() == [[8.0]] * 3
    assert s.grad.shape == () and s.grad.item() == 12.0


def test_integer_and_constant_inputs_get_no_grad():
    x = leaf([1.0, 2.0])
    i = ember.tensor([3, 4])
    y = x * i
    assert y.dtype == ember.float32 and y.requires_grad
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 4.0] and i.grad is None


# ----------------------------------------------------------------- accumulation and zeroing
def test_grad_accumulates_over_backward_calls():
    x = leaf([1.0, 2.0])
    (x * 3).sum().backward()
    (x * x).sum().backward()
    assert x.grad.tolist() == [5.0, 7.0]


def test_grad_zero_and_none():
    x = leaf([1.0, 2.0])
    (x * 3).sum().backward()
    g = x.grad
    x.grad.zero_()
    assert x.grad.tolist() == [0.0, 0.0]
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
    x.grad = None
    assert x.grad is None
    (x * 5).sum().backward()
    assert x.grad.tolist() == [5.0, 5.0]
    assert g.tolist() == [2.0, 2.0]  # the old gradient object was not reused after = None


def test_grad_can_be_assigned():
    x = leaf([1.0, 2.0])
    x.grad = ember.tensor([10.0, 20.0])
    (x * 2).sum().backward()
    assert x.grad.tolist() == [12.0, 22.0]


def test_sgd_step_in_no_grad():
    w = leaf([1.0, -2.0])
    for _ in range(3):
        loss = (w * w).sum()
        loss.backward()
        with ember.no_grad():
            w -= 0.25 * w.grad
        w.grad.zero_()
    assert w.tolist() == [0.125, -0.25]
    assert w.is_leaf and w.requires_grad and w.grad_fn is None


# ----------------------------------------------------------------- retain_graph and freed buffers
def test_second_backward_without_retain_graph_raises():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=SECOND_BACKWARD):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [6.0, 12.0]
    with pytest.raises(RuntimeError, match=SECOND_BACKWARD):
        y.backward()


def test_autograd_grad_frees_graph_too():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    ember.autograd.grad(y, x)
    with pytest.raises(RuntimeError, match=SECOND_BACKWARD):
        ember.autograd.grad(y, x)


def test_retain_graph_defaults_to_create_graph():
    x = leaf([1.0, 2.0])
    y = (x**3).sum()
    (g,) = ember.autograd.grad(y, x, create_graph=True)
    (g2,) = ember.autograd.grad(y, x)  # the graph was retained
    assert g.tolist() == g2.tolist() == [3.0, 12.0]


def test_saved_tensors_of_custom_function_freed_after_backward():
    ctxs = []

    class Keep(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            ctxs.append(ctx)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            ctx.saved_tensors  # noqa: B018  (the access itself is what is tested)
            return g * 2

    x = leaf([1.0])
    Keep.apply(x).sum().backward()
    with pytest.raises(RuntimeError, match=SECOND_BACKWARD):
        ctxs[0].saved_tensors  # noqa: B018


class Marker:
    """Something a Function's ctx holds, watched through a weakref: alive while its node is."""


@contextlib.contextmanager
def cycle_collector_off():
    """Within it, objects are freed by reference counts alone, not by the cycle collector."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def test_graph_is_freed_when_output_dies():
    """A tensor saved by its own grad_fn must not keep that grad_fn alive (no cycle)."""
    refs = []

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            ctx.marker = Marker()
            refs.append(weakref.ref(ctx.marker))
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y

    x = leaf([1.0])
    with cycle_collector_off():
        y = Exp.apply(x)
        z = y * 2
        assert refs[0]() is not None
        del y
        assert refs[0]() is not None  # still reachable through z.grad_fn
        del z
        assert refs[0]() is None


def test_wide_and_deep_graphs_are_freed_whole():
    """Freeing a node that holds many others (20 inputs of a stack, more than the release list keeps
    in place) and a chain of 50k nodes (freed in a loop, not by recursion) frees every node."""
    refs = []

    class Tagged(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.marker = Marker()
            refs.append(weakref.ref(ctx.marker))
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g

    x = leaf([1.0])
    with cycle_collector_off():
        y = ember.stack([Tagged.apply(x) for _ in range(20)]).sum()
        for _ in range(50_000):
            y = y + 1
        y = Tagged.apply(y)
        assert all(r() is not None for r in refs)
        del y
        assert [r() for r in refs] == [None] * 21


# ----------------------------------------------------------------- non-scalar outputs
def test_vector_jacobian_product():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 2
    v = ember.tensor([0.1, 1.0, 0.0001])
    y.backward(v)
    np.testing.assert_allclose(x.grad.numpy(), [0.2, 2.0, 0.0002], rtol=1e-6)


def test_vjp_through_matrix_op():
    W = leaf(np.arange(6.0).reshape(2, 3))
    x = ember.tensor([1.0, 2.0, 3.0])
    y = W @ x
    y.backward(ember.tensor([1.0, -1.0]))
    assert W.grad.tolist() == [[1.0, 2.0, 3.0], [-1.0, -2.0, -3.0]]


def test_backward_non_scalar_without_gradient_raises():
    x = leaf([1.0, 2.0])
    y = x * 2
    with pytest.raises(RuntimeError, match=NOT_SCALAR):
        y.backward()
    with pytest.raises(RuntimeError, match=NOT_SCALAR):
        ember.autograd.grad(y, x)


def test_backward_on_one_element_non_scalar_is_allowed():
    x = leaf([3.0])
    (x * 2).backward()
    assert x.grad.tolist() == [2.0]


def test_backward_without_grad_fn_raises():
    with pytest.raises(RuntimeError, match=NO_GRAD_FN):
        ember.ones(3).sum().backward()
    with ember.no_grad():
        y = leaf([1.0]) * 2
    with pytest.raises(RuntimeError, match=NO_GRAD_FN):
        y.backward()


def test_backward_gradient_of_wrong_shape_raises():
    y = leaf([1.0, 2.0, 3.0]) * 2
    with pytest.raises(RuntimeError, match=r"Mismatch in shape[\s\S]*\[2\][\s\S]*\[3\]"):
        y.backward(ember.ones(2))


def test_control_flow():
    x = ember.tensor([0.5, -1.0, 2.0], requires_grad=True)
    y = x * 2
    while y.norm() < 1000:
        y = y * 2
    steps = int(round(np.log2(y.detach().norm().item() / x.detach().norm().item())))
    assert steps == 9
    y.backward(ember.tensor([0.1, 1.0, 0.0001]))
    np.testing.assert_allclose(x.grad.numpy(), np.array([0.1, 1.0, 0.0001]) * 2**steps, rtol=1e-6)


def test_control_flow_on_values():
    def f(x):
        if x.sum() > 0:
            return (x * x).sum()
        return (-x).sum()

    a = leaf([1.0, 2.0])
    f(a).backward()
    b = leaf([-1.0, -2.0])
    f(b).backward()
    assert a.grad.tolist() == [2.0, 4.0] and b.grad.tolist() == [-1.0, -1.0]


# ----------------------------------------------------------------- detach and .data
def test_detach():
    x = leaf([1.0, 2.0])
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    z = y + d  # the detached branch gives no gradient
    z.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
    d.zero_()  # same storage
    assert y.tolist() == [0.0, 0.0]


def test_detach_shares_version_counter():
    x = leaf([1.0, 2.0])
    y = x.exp()
    y.detach().zero_()
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.sum().backward()


def test_data_is_a_detached_alias():
    x = leaf([1.0, 2.0])
    d = x.data
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    d.mul_(10)  # no leaf error, changes x
    assert x.tolist() == [10.0, 20.0] and x.requires_grad
    x.data = ember.tensor([3.0, 4.0])
    assert x.tolist() == [3.0, 4.0] and x.requires_grad and x.is_leaf


def test_data_of_another_dtype_gets_gradients_of_that_dtype():
    # set_data drops the cached AccumulateGrad when the dtype changes, as PyTorch does;
    # `out` keeps the old graph, and with it the old float32 AccumulateGrad, alive
    w = ember.ones(2, requires_grad=True)
    out = (w * 2).sum()
    out.backward()
    w.data = ember.ones(2, dtype=ember.float64)
    w.grad = None
    (w * 2).sum().backward()
    assert w.grad.dtype == ember.float64 and w.grad.tolist() == [2.0, 2.0]
    acc = (w * 1).grad_fn.next_functions[0][0]
    w.data = ember.zeros(2, dtype=ember.float64)  # same dtype: the accumulator stays
    assert (w * 1).grad_fn.next_functions[0][0] is acc


def test_data_changes_are_not_tracked():
    """Unlike detach(), in-place changes through .data do not bump the version
    seen by autograd: backward runs with the changed value, no error."""
    x = leaf([1.0, 2.0])
    y = x.exp()
    y.data.zero_()
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]


# ----------------------------------------------------------------- grad modes
def test_no_grad_context_and_decorator():
    x = leaf([1.0])
    with ember.no_grad():
        assert not ember.is_grad_enabled()
        y = x * 2
    assert ember.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None

    @ember.no_grad()
    def f(t):
        assert not ember.is_grad_enabled()
        return t * 2

    assert not f(x).requires_grad
    assert ember.is_grad_enabled() and (x * 2).requires_grad


def test_no_grad_restores_mode_after_exception():
    with pytest.raises(ValueError):
        with ember.no_grad():
            raise ValueError
    assert ember.is_grad_enabled()


def test_enable_grad_inside_no_grad():
    x = leaf([1.0])
    with ember.no_grad():
        with ember.enable_grad():
            assert ember.is_grad_enabled()
            y = x * 2
        z = x * 2
        assert not ember.is_grad_enabled()

        @ember.enable_grad()
        def g(t):
            return t * 3

        w = g(x)
    assert y.requires_grad and not z.requires_grad and w.requires_grad


def test_set_grad_enabled():
    x = leaf([1.0])
    with ember.set_grad_enabled(False):
        assert not ember.is_grad_enabled()
        y = x * 2
        with ember.set_grad_enabled(True):
            z = x * 2
    assert not y.requires_grad and z.requires_grad and ember.is_grad_enabled()

    @ember.set_grad_enabled(False)
    def f(t):
        return t * 2

    assert not f(x).requires_grad
    try:
        ember.set_grad_enabled(False)  # used as a function: sets the mode now
        assert not ember.is_grad_enabled()
        assert not (x * 2).requires_grad
    finally:
        ember.set_grad_enabled(True)
    assert ember.is_grad_enabled()


def test_inference_mode():
    x = leaf([1.0, 2.0])
    with ember.inference_mode():
        assert not ember.is_grad_enabled()
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None and y.tolist() == [2.0, 4.0]
    assert ember.is_grad_enabled()

    @ember.inference_mode()
    def f(t):
        return t * 2

    assert not f(x).requires_grad
    with ember.inference_mode(False):
        assert (x * 2).requires_grad


def test_grad_mode_is_thread_local():
    entered, release = threading.Event(), threading.Event()
    seen = {}

    def other():
        with ember.no_grad():
            entered.set()
            release.wait(60)
            seen["other_inside"] = ember.is_grad_enabled()

    t = threading.Thread(target=other, daemon=True)
    t.start()
    assert entered.wait(60)
    try:
        assert ember.is_grad_enabled()  # no_grad in the other thread does not leak here
        assert (leaf([1.0]) * 2).requires_grad
    finally:
        release.set()
        t.join(60)
    assert seen == {"other_inside": False}

    def fresh():
        seen["fresh"] = ember.is_grad_enabled()

    with ember.no_grad():  # a new thread starts with grad enabled
        t = threading.Thread(target=fresh)
        t.start()
        t.join(60)
    assert seen["fresh"] is True


# ----------------------------------------------------------------- higher-order gradients
def test_higher_order_derivatives_of_cube():
    x = ember.tensor(2.0, requires_grad=True)
    y = x**3
    (g1,) = ember.autograd.grad(y, x, create_graph=True)
    assert g1.item() == 12.0 and g1.requires_grad
    (g2,) = ember.autograd.grad(g1, x, create_graph=True)
    assert g2.item() == 12.0  # 6x
    (g3,) = ember.autograd.grad(g2, x)
    assert g3.item() == 6.0


def test_second_derivative_via_backward_create_graph():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = (x**3).sum()
    y.backward(create_graph=True)
    assert x.grad.tolist() == [3.0, 12.0] and x.grad.requires_grad
    g = x.grad
    x.grad = None
    g.sum().backward()
    assert x.grad.tolist() == [6.0, 12.0]


def test_gradient_penalty():
    x = leaf([1.0, 2.0], dtype=ember.float64)
    y = (x.sin() * x).sum()
    (g,) = ember.autograd.grad(y, x, create_graph=True)  # sin x + x cos x
    (g**2).sum().backward()
    x_ = np.array([1.0, 2.0])
    g_ = np.sin(x_) + x_ * np.cos(x_)
    np.testing.assert_allclose(x.grad.numpy(), 2 * g_ * (2 * np.cos(x_) - x_ * np.sin(x_)), rtol=1e-10)


def test_second_derivative_of_mixed_graph():
    a = leaf(1.5, dtype=ember.float64)
    b = leaf(0.5, dtype=ember.float64)
    y = (a * b).exp() + a.tanh() / b
    ga, gb = ember.autograd.grad(y, (a, b), create_graph=True)
    (gab,) = ember.autograd.grad(ga, b)  # d2y / da db
    expected = np.exp(0.75) * (1 + 0.75) - (1 - np.tanh(1.5) ** 2) / 0.25
    assert gab.item() == pytest.approx(expected, rel=1e-10)


# ----------------------------------------------------------------- autograd.grad and backward()
def test_autograd_grad_returns_without_touching_grad():
    x = leaf([1.0, 2.0])
    y = leaf([3.0, 4.0])
    z = (x * y).sum()
    gx, gy = ember.autograd.grad(z, [x, y])
    assert gx.tolist() == [3.0, 4.0] and gy.tolist() == [1.0, 2.0]
    assert x.grad is None and y.grad is None
    assert isinstance(ember.autograd.grad((x * 2).sum(), x), tuple)


def test_autograd_grad_outputs_and_non_leaf_input():
    x = leaf([1.0, 2.0])
    h = x * 3
    out = h * h
    (gh,) = ember.autograd.grad(out, h, grad_outputs=ember.tensor([1.0, 0.5]))
    assert gh.tolist() == [6.0, 6.0]


def test_autograd_grad_several_outputs():
    x = leaf([1.0, 2.0])
    (g,) = ember.autograd.grad([(x * 2).sum(), (x * x).sum()], [x])
    assert g.tolist() == [4.0, 6.0]


def test_autograd_grad_unused_input():
    x = leaf([1.0, 2.0])
    u = leaf([5.0])
    with pytest.raises(RuntimeError, match=UNUSED):
        ember.autograd.grad((x * 2).sum(), [x, u])
    gx, gu = ember.autograd.grad((x * 2).sum(), [x, u], allow_unused=True)
    assert gx.tolist() == [2.0, 2.0] and gu is None


def test_autograd_grad_input_not_requiring_grad():
    x = leaf([1.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        ember.autograd.grad((x * 2).sum(), ember.ones(1))


def test_autograd_grad_runs_only_what_inputs_need():
    calls = []

    class Spy(Function):
        @staticmethod
        def forward(ctx, t):
            return t * 1

        @staticmethod
        def backward(ctx, g):
            calls.append(1)
            return g

    a = leaf([1.0])
    b = leaf([2.0])
    z = (Spy.apply(a) * b).sum()
    (gb,) = ember.autograd.grad(z, b)
    assert gb.tolist() == [1.0] and calls == []


def test_autograd_backward_function():
    x = leaf([1.0, 2.0])
    y1 = x * 2
    y2 = x * x
    ember.autograd.backward([y1, y2], [ember.ones(2), ember.tensor([1.0, 10.0])])
    assert x.grad.tolist() == [4.0, 42.0]
    ember.autograd.backward((x * 3).sum())
    assert x.grad.tolist() == [7.0, 45.0]
    ember.autograd.backward([(x * 1).sum()], grad_tensors=[ember.tensor(2.0)])
    assert x.grad.tolist() == [9.0, 47.0]


def test_backward_inputs_accumulates_only_into_them():
    a = leaf([1.0, 2.0])
    b = leaf([3.0, 4.0])
    z = (a * b).sum()
    z.backward(inputs=[a], retain_graph=True)
    assert a.grad.tolist() == [3.0, 4.0] and b.grad is None
    z.backward(inputs=[b])
    assert b.grad.tolist() == [1.0, 2.0] and a.grad.tolist() == [3.0, 4.0]


# ----------------------------------------------------------------- retain_grad and .grad of non-leaves
def test_retain_grad():
    x = leaf([1.0, 2.0])
    y = x * 2
    y.retain_grad()
    assert y.retains_grad and not x.retains_grad
    z = (y * y).sum()
    z.backward()
    assert y.grad.tolist() == [4.0, 8.0]
    assert x.grad.tolist() == [8.0, 16.0]


def test_retained_grad_accumulates():
    x = leaf([1.0, 1.0])
    y = x * 2
    y.retain_grad()
    z = (y * 3).sum()
    z.backward(retain_graph=True)
    z.backward()
    assert y.grad.tolist() == [6.0, 6.0]


def test_retain_grad_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="can't retain_grad on Tensor that has requires_grad=False"):
        ember.ones(2).retain_grad()


def test_retain_grad_on_leaf_is_a_no_op():
    x = leaf([1.0])
    x.retain_grad()
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0]


def test_grad_of_non_leaf_warns():
    x = leaf([1.0])
    y = x * 2
    y.sum().backward()
    with pytest.warns(UserWarning, match="is not a leaf Tensor"):
        assert y.grad is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.grad is not None  # a leaf: no warning
        y2 = x * 2
        y2.retain_grad()
        assert y2.grad is None  # retained: no warning


# ----------------------------------------------------------------- hooks
def test_hook_on_leaf_modifies_gradient():
    x = leaf([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(g.tolist()))
    x.register_hook(lambda g: g * 2)
    (x * 3).sum().backward()
    assert seen == [[3.0, 3.0]] and x.grad.tolist() == [6.0, 6.0]


def test_hook_on_non_leaf_and_remove():
    x = leaf([1.0, 2.0])
    y = x * 2
    h = y.register_hook(lambda g: g * 10)
    (y * y).sum().backward(retain_graph=True)
    assert x.grad.tolist() == [80.0, 160.0]
    h.remove()
    x.grad = None
    (y * y).sum().backward()
    assert x.grad.tolist() == [8.0, 16.0]


def test_hooks_run_in_registration_order():
    x = leaf([1.0])
    y = x * 1
    y.register_hook(lambda g: g + 1)
    y.register_hook(lambda g: g * 10)
    y.sum().backward()
    assert x.grad.tolist() == [20.0]


def test_hook_returning_none_keeps_gradient():
    x = leaf([1.0])
    calls = []
    x.register_hook(lambda g: calls.append(1))
    (x * 4).sum().backward()
    assert x.grad.tolist() == [4.0] and calls == [1]


def test_hook_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        ember.ones(2).register_hook(lambda g: g)


def test_hook_sees_summed_gradient_once():
    x = leaf([1.0])
    y = x * 1
    seen = []
    y.register_hook(lambda g: seen.append(g.item()))
    (y * 2 + y * 3).sum().backward()
    assert seen == [5.0]


# ----------------------------------------------------------------- grad_fn names and the graph
X = np.random.default_rng(0).uniform(0.5, 1.5, (3, 4))
GRAD_FN_NAMES = [
    ("AddBackward0", lambda x, v: x + v),
    ("AddBackward0", lambda x, v: x + 1),
    ("SubBackward0", lambda x, v: x - v),
    ("RsubBackward1", lambda x, v: 2 - x),
    ("MulBackward0", lambda x, v: x * v),
    ("MulBackward0", lambda x, v: x * 2),
    ("DivBackward0", lambda x, v: x / v),
    ("DivBackward0", lambda x, v: x / 2),
    ("NegBackward0", lambda x, v: -x),
    ("PowBackward0", lambda x, v: x**2),
    ("PowBackward1", lambda x, v: x**v),
    ("PowBackward2", lambda x, v: 2**x),
    ("AbsBackward0", lambda x, v: x.abs()),
    ("SqrtBackward0", lambda x, v: x.sqrt()),
    ("RsqrtBackward0", lambda x, v: x.rsqrt()),
    ("ExpBackward0", lambda x, v: x.exp()),
    ("LogBackward0", lambda x, v: x.log()),
    ("Log1PBackward0", lambda x, v: x.log1p()),
    ("Expm1Backward0", lambda x, v: x.expm1()),
    ("SinBackward0", lambda x, v: x.sin()),
    ("CosBackward0", lambda x, v: x.cos()),
    ("TanBackward0", lambda x, v: x.tan()),
    ("TanhBackward0", lambda x, v: x.tanh()),
    ("SigmoidBackward0", lambda x, v: x.sigmoid()),
    ("ReluBackward0", lambda x, v: x.relu()),
    ("ClampBackward1", lambda x, v: x.clamp(0.7, 1.2)),
    ("ClampBackward1", lambda x, v: x.clamp(min=0.7)),
    ("MaximumBackward0", lambda x, v: ember.maximum(x, v)),
    ("MinimumBackward0", lambda x, v: ember.minimum(x, v)),
    ("WhereBackward0", lambda x, v: ember.where(x > 1, x, v)),
    ("SignBackward0", lambda x, v: x.sign()),
    ("SumBackward0", lambda x, v: x.sum()),
    ("SumBackward1", lambda x, v: x.sum(1)),
    ("SumBackward1", lambda x, v: x.sum((0, 1), keepdim=True)),
    ("MeanBackward0", lambda x, v: x.mean()),
    ("MeanBackward1", lambda x, v: x.mean(-1)),
    ("ProdBackward0", lambda x, v: x.prod()),
    ("ProdBackward1", lambda x, v: x.prod(0)),
    ("MaxBackward1", lambda x, v: x.max()),
    ("MaxBackward0", lambda x, v: x.max(1).values),
    ("MinBackward1", lambda x, v: x.min()),
    ("MinBackward0", lambda x, v: x.min(0)[0]),
    ("AmaxBackward0", lambda x, v: x.amax(1)),
    ("AminBackward0", lambda x, v: x.amin(1)),
    ("VarBackward0", lambda x, v: x.var()),
    ("VarBackward0", lambda x, v: x.var(1)),
    ("StdBackward0", lambda x, v: x.std(0)),
    ("LinalgVectorNormBackward0", lambda x, v: x.norm()),
    ("LinalgVectorNormBackward0", lambda x, v: x.norm(dim=1)),
    ("LogsumexpBackward0", lambda x, v: x.logsumexp(1)),
    ("SoftmaxBackward0", lambda x, v: x.softmax(1)),
    ("LogSoftmaxBackward0", lambda x, v: x.log_softmax(-1)),
    ("MmBackward0", lambda x, v: x.mm(x.t())),
    ("MmBackward0", lambda x, v: x @ x.t()),
    ("MvBackward0", lambda x, v: x.mv(v)),
    ("MvBackward0", lambda x, v: x @ v),
    ("DotBackward0", lambda x, v: v.dot(v)),
    ("DotBackward0", lambda x, v: v @ v),
    ("BmmBackward0", lambda x, v: ember.bmm(x[None], x.t()[None])),
    ("CatBackward0", lambda x, v: ember.cat([x, x])),
    ("StackBackward0", lambda x, v: ember.stack([x, x])),
    ("SplitBackward0", lambda x, v: x.split(2)[0]),
    ("SplitBackward0", lambda x, v: x.chunk(3, 1)[1]),
    ("SplitWithSizesBackward0", lambda x, v: x.split([1, 3], 1)[0]),
    ("ViewBackward0", lambda x, v: x.view(12)),
    ("ViewBackward0", lambda x, v: x.reshape(2, 6)),
    ("ViewBackward0", lambda x, v: x.flatten()),
    ("TBackward0", lambda x, v: x.t()),
    ("PermuteBackward0", lambda x, v: x.T),
    ("TransposeBackward0", lambda x, v: x.transpose(0, 1)),
    ("PermuteBackward0", lambda x, v: x.permute(1, 0)),
    ("ExpandBackward0", lambda x, v: x.expand(2, 3, 4)),
    ("SqueezeBackward0", lambda x, v: x[None].squeeze()),
    ("SqueezeBackward1", lambda x, v: x[None].squeeze(0)),
    ("UnsqueezeBackward0", lambda x, v: x.unsqueeze(0)),
    ("UnsqueezeBackward0", lambda x, v: x[..., None]),
    ("SliceBackward0", lambda x, v: x.narrow(0, 0, 1)),
    ("SelectBackward0", lambda x, v: x[0]),
    ("SliceBackward0", lambda x, v: x[1:]),
    ("IndexBackward0", lambda x, v: x[ember.tensor([0, 2])]),
    ("IndexBackward0", lambda x, v: x[x > 1]),
    ("GatherBackward0", lambda x, v: x.gather(0, ember.tensor([[0, 1, 0, 1]]))),
    ("IndexSelectBackward0", lambda x, v: x.index_select(0, ember.tensor([0, 2]))),
    ("CloneBackward0", lambda x, v: x.clone()),
    ("CloneBackward0", lambda x, v: x.t().contiguous()),
    ("ToCopyBackward0", lambda x, v: x.float()),
]


@pytest.mark.parametrize("name, fn", GRAD_FN_NAMES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(GRAD_FN_NAMES)])
def test_grad_fn_name(name, fn):
    x = ember.tensor(X, requires_grad=True)
    v = ember.tensor(X[0] + 0.1, requires_grad=True)
    y = fn(x, v)
    assert y.grad_fn.name() == name
    assert repr(y).endswith(f"grad_fn=<{name}>)")


def test_next_functions():
    x = leaf([1.0, 2.0])
    c = ember.tensor([3.0, 4.0])
    y = x * c
    (n0, i0), (n1, i1) = y.grad_fn.next_functions
    assert node_name(n0) == "AccumulateGrad" and i0 == 0
    assert n0.variable is x
    assert n1 is None and i1 == 0  # constant input: no edge
    z = y.exp() + x
    names = [(node_name(n), i) for n, i in z.grad_fn.next_functions]
    assert names == [("ExpBackward0", 0), ("AccumulateGrad", 0)]
    assert z.grad_fn.next_functions[0][0].next_functions[0][0].name() == "MulBackward0"
    assert x.grad_fn is None


def test_next_functions_output_number():
    x = leaf([1.0, 2.0, 3.0, 4.0])
    a, b = x.split(2)
    y = b * 2
    node, nr = y.grad_fn.next_functions[0]
    assert node.name() == "SplitBackward0" and nr == 1
    assert a.grad_fn.next_functions[0][0].variable is x


def test_grad_fn_is_shared_by_outputs_of_one_node():
    x = leaf([1.0, 2.0, 3.0, 4.0])
    a, b = x.split(2)
    assert a.grad_fn.name() == b.grad_fn.name() == "SplitBackward0"
    (b * 3).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 3.0, 3.0]


# ----------------------------------------------------------------- in-place correctness checks
@pytest.mark.parametrize(
    "op",
    [
        lambda x: x.add_(1),
        lambda x: x.mul_(2),
        lambda x: x.zero_(),
        lambda x: x.fill_(1.0),
        lambda x: x.sub_(1),
        lambda x: x.div_(2),
        lambda x: x.clamp_(0, 1),
        lambda x: x.copy_(ember.ones(2)),
        lambda x: x.__iadd__(1),
        lambda x: x.__imul__(2),
    ],
    ids=["add_", "mul_", "zero_", "fill_", "sub_", "div_", "clamp_", "copy_", "+=", "*="],
)
def test_inplace_on_leaf_requiring_grad_raises(op):
    x = leaf([0.5, 2.0])
    with pytest.raises(RuntimeError, match=LEAF_INPLACE):
        op(x)
    with ember.no_grad():
        op(x)  # allowed without grad recording
    assert x.is_leaf and x.requires_grad


def test_setitem_on_leaf_requiring_grad_raises():
    x = leaf([0.5, 2.0])
    with pytest.raises(RuntimeError, match=VIEW_OF_LEAF_INPLACE):
        x[0] = 1.0


@pytest.mark.parametrize("case", ["output", "input", "view", "detach", "setitem"])
def test_saved_tensor_modified_inplace_raises(case):
    x = leaf([1.0, 2.0])
    if case == "output":  # exp saves its result
        y = x.exp()
        out = y * 1
        y.add_(1)
    elif case == "input":  # mul saves its inputs
        a = x * 1
        out = a * a
        a.mul_(2)
    elif case == "view":  # the version counter is shared with views
        a = x * 1
        out = a.sin()
        a[0:1].mul_(2)
    elif case == "detach":
        a = x * 1
        out = a.pow(2)
        a.detach().add_(1)
    else:
        a = x * 1
        out = a.log()
        a[1] = 5.0
    with pytest.raises(RuntimeError, match=MODIFIED):
        out.sum().backward()


def test_modified_message_names_versions():
    x = leaf([1.0, 2.0, 3.0])
    y = x.exp()
    y.add_(1)
    y.mul_(2)
    with pytest.raises(RuntimeError, match=r"is at version 2; expected version 0 instead"):
        y.sum().backward()


def test_inplace_on_tensor_not_saved_is_fine():
    x = leaf([1.0, 2.0])
    a = x * 1
    b = a + 1  # add saves nothing
    a.add_(1)
    b.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_inplace_on_view_of_non_leaf_rebases_graph():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 1
    y[1:].mul_(ember.tensor([2.0, 3.0]))
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 2.0, 3.0]


# ----------------------------------------------------------------- shape errors name both shapes
@pytest.mark.parametrize(
    "fn, a, b, pattern",
    [
        (lambda a, b: a + b, (2, 3), (4,), r"\(3\)[\s\S]*\(4\)[\s\S]*dimension 1"),
        (lambda a, b: a * b, (2, 3), (2, 4), r"\(3\)[\s\S]*\(4\)[\s\S]*dimension 1"),
        (lambda a, b: ember.maximum(a, b), (5, 2), (3, 2), r"\(5\)[\s\S]*\(3\)[\s\S]*dimension 0"),
        (lambda a, b: a.mm(b), (2, 3), (4, 2), r"2x3[\s\S]*4x2"),
        (lambda a, b: a @ b, (2, 3), (4, 2), r"2x3[\s\S]*4x2"),
    ],
    ids=["add", "mul", "maximum", "mm", "matmul"],
)
def test_shape_mismatch_error_names_both_shapes(fn, a, b, pattern):
    with pytest.raises(RuntimeError, match=pattern):
        fn(ember.ones(*a), ember.ones(*b))


# ----------------------------------------------------------------- custom Function
class MulConst(Function):
    """y = x * k for a Python number k; checks ctx attributes and non-tensor args."""

    @staticmethod
    def forward(ctx, x, k):
        ctx.k = k
        ctx.record = ctx.needs_input_grad
        return x * k

    @staticmethod
    def backward(ctx, g):
        return g * ctx.k, None


class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y


def test_custom_function_basics():
    x = leaf([0.0, 1.0], dtype=ember.float64)
    y = Exp.apply(x)
    assert y.requires_grad and y.grad_fn.name() == "ExpBackward"
    assert repr(y).endswith("grad_fn=<ExpBackward>)")
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.0, 1.0]))
    assert ember.autograd.gradcheck(Exp.apply, (ember.randn(3, dtype=ember.float64, requires_grad=True),))
    assert ember.autograd.gradgradcheck(Exp.apply, (ember.randn(3, dtype=ember.float64, requires_grad=True),))


def test_custom_function_ctx_attributes_and_non_tensor_args():
    x = leaf([1.0, 2.0])
    y = MulConst.apply(x, 3.0)
    assert y.grad_fn.name() == "MulConstBackward"
    assert node_name(y.grad_fn.next_functions[0][0]) == "AccumulateGrad"
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_custom_function_needs_input_grad():
    seen = []

    class Rec(Function):
        @staticmethod
        def forward(ctx, a, b, k):
            seen.append(tuple(ctx.needs_input_grad))
            return a * b * k

        @staticmethod
        def backward(ctx, g):
            seen.append(tuple(ctx.needs_input_grad))
            return None, None, None

    Rec.apply(leaf([1.0]), ember.ones(1), 2).sum().backward()
    assert seen == [(True, False, False), (True, False, False)]


def test_custom_function_forward_runs_without_grad_and_no_grad_input():
    modes = []

    class F(Function):
        @staticmethod
        def forward(ctx, x):
            modes.append(ember.is_grad_enabled())
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    y = F.apply(ember.ones(2))
    assert modes == [False] and not y.requires_grad and y.grad_fn is None
    with ember.no_grad():
        assert not F.apply(leaf([1.0])).requires_grad


def test_custom_function_several_outputs_and_undefined_grads_are_zeros():
    received = []

    class Two(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            received.append((g1.tolist(), g2.tolist()))
            return g1 * 2 + g2 * 3

    x = leaf([1.0, 2.0])
    a, b = Two.apply(x)
    assert a.grad_fn is b.grad_fn or a.grad_fn.name() == b.grad_fn.name() == "TwoBackward"
    (a.sum() + (b * b).sum()).backward()
    assert x.grad.tolist() == [2.0 + 18.0, 2.0 + 36.0]
    x.grad = None
    a, b = Two.apply(x)
    a.sum().backward()  # b unused: its gradient arrives as zeros
    assert received[-1] == ([1.0, 1.0], [0.0, 0.0])
    assert x.grad.tolist() == [2.0, 2.0]


def test_custom_function_mark_non_differentiable():
    class SortLike(Function):
        @staticmethod
        def forward(ctx, x):
            idx = x.argmax(0, keepdim=True)
            mask = (x > 0).float()
            ctx.mark_non_differentiable(mask)
            return x * 2, mask, idx

        @staticmethod
        def backward(ctx, g, g_mask, g_idx):
            return g * 2

    x = leaf([-1.0, 2.0])
    y, mask, idx = SortLike.apply(x)
    assert y.requires_grad and not mask.requires_grad and not idx.requires_grad
    assert mask.tolist() == [0.0, 1.0] and idx.tolist() == [1]
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_custom_function_extra_trailing_none_gradients_allowed():
    class F(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2, None, None

    x = leaf([1.0])
    F.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0]


def test_custom_function_wrong_number_of_gradients():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g, g

    with pytest.raises(RuntimeError, match=r"BadBackward[\s\S]*incorrect number of gradients[\s\S]*expected 1, got 2"):
        Bad.apply(leaf([1.0])).sum().backward()


def test_custom_function_double_backward_with_differentiable_backward():
    class Cube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x**2

    x = ember.tensor(2.0, requires_grad=True)
    (g,) = ember.autograd.grad(Cube.apply(x), x, create_graph=True)
    (g2,) = ember.autograd.grad(g, x)
    assert g.item() == 12.0 and g2.item() == 12.0


def test_once_differentiable():
    once_differentiable = ember.autograd.function.once_differentiable

    class Square(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**2

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    x = ember.tensor(3.0, requires_grad=True)
    Square.apply(x).backward()
    assert x.grad.item() == 6.0
    y = Square.apply(x)
    (g,) = ember.autograd.grad(y * y, x, create_graph=True)
    assert g.item() == 108.0
    with pytest.raises(RuntimeError, match=ONCE_DIFF):
        g.backward()


def test_backward_of_custom_function_runs_reentrant_autograd():
    """A backward that itself runs autograd (checkpoint style) must not deadlock."""

    class Recompute(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin()

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            with ember.enable_grad():
                xd = x.detach().requires_grad_()
                y = xd.sin()
            (gx,) = ember.autograd.grad(y, xd, g)
            return gx

    result = {}

    def work():
        x = leaf([0.0, 1.0])
        Recompute.apply(x).sum().backward()
        result["grad"] = x.grad.tolist()

    t = threading.Thread(target=work, daemon=True)
    t.start()
    t.join(120)
    assert not t.is_alive(), "backward calling autograd.grad did not return"
    np.testing.assert_allclose(result["grad"], np.cos([0.0, 1.0]), rtol=1e-6)


def test_hook_calling_backward_does_not_deadlock():
    result = {}

    def work():
        x = leaf([1.0, 2.0])
        w = leaf([3.0])

        def hook(g):
            with ember.enable_grad():  # hooks run with grad mode off
                (w * w).sum().backward()  # a whole backward from inside a backward
            return g

        y = x * 2
        y.register_hook(hook)
        y.sum().backward()
        result["x"], result["w"] = x.grad.tolist(), w.grad.tolist()

    t = threading.Thread(target=work, daemon=True)
    t.start()
    t.join(120)
    assert not t.is_alive(), "backward inside a hook did not return"
    assert result == {"x": [2.0, 2.0], "w": [6.0]}


# ----------------------------------------------------------------- gradcheck itself
class WrongSquare(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**2

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x  # should be 2 * x * g


class FirstOrderOnlySquare(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**2

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2 * x.detach() * g  # right value, wrong second derivative


def test_gradcheck_detects_wrong_gradient():
    x = ember.tensor([0.5, 1.5], dtype=ember.float64, requires_grad=True)
    with pytest.raises(RuntimeError):
        ember.autograd.gradcheck(WrongSquare.apply, (x,))
    assert ember.autograd.gradcheck(WrongSquare.apply, (x,), raise_exception=False) is False
    assert ember.autograd.gradcheck(lambda t: t**2, (x,)) is True


def test_gradgradcheck_detects_wrong_second_derivative():
    x = ember.tensor([0.5, 1.5], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(FirstOrderOnlySquare.apply, (x,))
    with pytest.raises(RuntimeError):
        ember.autograd.gradgradcheck(FirstOrderOnlySquare.apply, (x,))
    assert ember.autograd.gradgradcheck(lambda t: t**3, (x,)) is True


# ----------------------------------------------------------------- threads
def test_threads_run_separate_graphs_concurrently():
    errors = []

    def work(seed):
        try:
            rng = np.random.default_rng(seed)
            for _ in range(30):
                a = rng.uniform(-1, 1, (8, 8))
                x = ember.tensor(a, requires_grad=True)
                w = ember.tensor(a.T.copy(), requires_grad=True)
                loss = (x @ w).tanh().sum() + (x * x).sum()
                loss.backward()
                t = np.tanh(a @ a.T)
                gx = (1 - t**2) @ a + 2 * a  # d/dx sum(tanh(x w)) with w = a.T, plus 2x
                gw = a.T @ (1 - t**2)
                np.testing.assert_allclose(x.grad.numpy(), gx, rtol=1e-10)
                np.testing.assert_allclose(w.grad.numpy(), gw, rtol=1e-10)
        except BaseException as e:  # reported in the main thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(s,), daemon=True) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not any(t.is_alive() for t in threads)
    assert not errors, errors[0]


def test_threads_accumulate_into_shared_leaf():
    w = leaf(np.ones(16), dtype=ember.float64)
    errors = []

    def work():
        try:
            for _ in range(50):
                (w * 2).sum().backward()
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=work, daemon=True) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not errors, errors[0]
    assert w.grad.tolist() == [400.0] * 16


# ----------------------------------------------------------------- repr (the full table is in test_repr.py)
def _name():
    return ember.__name__  # "ember"; "torch" when validated against PyTorch


def test_dtype_repr():
    assert repr(ember.float64) == f"{_name()}.float64"
    assert str(ember.float32) == f"{_name()}.float32"
    assert repr(ember.int64) == f"{_name()}.int64" and repr(ember.bool) == f"{_name()}.bool"


# Note [Fused backward ops]: relu/tanh/sigmoid backward are single kernels with
# nodes of their own, named as PyTorch names them, differentiable again.
@pytest.mark.parametrize(
    "op, node, d2",
    [
        ("relu", "ThresholdBackwardBackward0", lambda x: np.zeros_like(x)),
        ("tanh", "TanhBackwardBackward0", lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2)),
        (
            "sigmoid",
            "SigmoidBackwardBackward0",
            lambda x: (1 / (1 + np.exp(-x))) * (1 - 1 / (1 + np.exp(-x))) * (1 - 2 / (1 + np.exp(-x))),
        ),
    ],
)
def test_fused_backward_nodes_and_second_derivative(op, node, d2):
    xs = np.array([0.5, -1.0, 2.0, -0.25])
    x = ember.tensor(xs, requires_grad=True)
    (g,) = ember.autograd.grad(getattr(x, op)().sum(), x, create_graph=True)
    assert g.grad_fn.name() == node
    (h,) = ember.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), d2(xs), rtol=1e-12, atol=1e-15)
    assert ember.autograd.gradgradcheck(lambda t: getattr(t, op)(), (ember.tensor(xs, requires_grad=True),))


# ------------------------------------------------------------------ Note [Views made inside an op]
def _inplace_after(op):
    return lambda *xs: op(*xs).mul_(2)


@pytest.mark.parametrize(
    "op, shapes",
    [
        (lambda x, w: ember.relu_(ember.nn.functional.conv2d(x, w)), [(2, 3, 4, 4), (4, 3, 1, 1)]),
        (lambda x, w, b: ember.nn.functional.silu(ember.nn.functional.conv2d(x, w, b), inplace=True),
         [(1, 2, 5, 5), (3, 2, 3, 3), (3,)]),
        (_inplace_after(lambda x: x.sort(dim=1).values), [(3, 5)]),
        (_inplace_after(lambda x: x.topk(2).values), [(3, 5)]),
        (_inplace_after(lambda x: x.median(dim=0).values), [(3, 5)]),
        (_inplace_after(lambda x: ember.take(x, ember.tensor([0, 4, 2]))), [(3, 5)]),
        (_inplace_after(lambda x: ember.roll(x, 2)), [(3, 5)]),
    ],
)  # fmt: skip
def test_inplace_on_an_ops_result_differentiates(op, shapes):
    """An op that ends with a view of its own temporary (conv2d's product, sort's buffer) gives a result that
    takes an in-place op with grad on (torchvision's SqueezeNet and EfficientNet do ReLU/SiLU in place after
    convolutions): it raised "created in no_grad mode" before. The gradient through both is right."""
    rng = np.random.default_rng(0)
    inputs = [ember.tensor(rng.normal(size=s), dtype=ember.float64, requires_grad=True) for s in shapes]
    out = op(*inputs)
    assert out._base is None
    assert ember.autograd.gradcheck(op, inputs)
