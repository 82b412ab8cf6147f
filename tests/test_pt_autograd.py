"""A port of the public-API tests of PyTorch's test/test_autograd.py.

Covers TestAutograd, the CPU device tests (TestAutogradDeviceType), TestAutogradForwardMode,
TestAutogradInferenceMode, TestMultithreadAutograd, the checkpoint tests (TestNestedCheckpoint
included), TestAllowMutationOnSaved, and the autograd.functional tests of
test/autograd/test_functional.py, rewritten against public API only (no torch._C, dynamo, jit,
sparse, complex, profiler or dispatch-mode tests).

Every test runs on ember and on PyTorch (the ``lib`` fixture): the PyTorch run proves the port,
the ember run measures how far ``import ember as torch`` goes.  Tests that fail on ember are listed
in EMBER_KNOWN_FAILURES (strict xfail: a fix makes them XPASS and fail, so the entry must then be
removed); tests that crash, hang or poison the process on ember are in EMBER_ISOLATED and run in a
child process.  Keys are test names, or name[params] for one parametrisation.
"""

import contextlib
import gc
import math
import pickle
import subprocess
import sys
import threading
import warnings
import weakref
from copy import deepcopy
from functools import partial

import numpy as np
import pytest

pytestmark = [
    pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf"),
    pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

EMBER_KNOWN_FAILURES = {
    # --- forward-mode AD (autograd.forward_ad, Function.jvp)
    "test_forward_ad_view_inplace_non_differentiable_views": (
        "dual = make_dual(foo, bar); dual *= 2 does not update bar in place (tangent is a new tensor; bar stays 1)"
    ),
    "test_forward_ad_out_variant": (
        "add(bar, bar, out=dual) raises the backward-AD out= message, not the forward-AD 'out= function' one"
    ),
    "test_forward_ad_advanced_packing_unpacking": (
        "forward grads are dropped under no_grad: unpack_dual(dual * 3).tangent is None inside no_grad "
        "(PyTorch keeps it)"
    ),
    "test_gradcheck_forward_ad_respects_requires_grad": (
        "gradcheck's forward-AD check calls jvp once per input element; PyTorch's call count differs (it also "
        "checks undefined and batched tangents)"
    ),
    "test_custom_function_forward_mode_view_checks": (
        "the tangent of a view (inp.view_as(inp)) is not a view of its base's tangent, so the jvp check says "
        "'not returning a view of the given grad input' instead of '... of the same base'"
    ),
    "test_not_implemented_fwad": (
        "tangents are computed from the graph when asked for: igamma on a dual does not raise 'Trying to use "
        "forward AD with igamma that does not support it' when it runs"
    ),
    # --- gradcheck
    # --- inference mode
    # --- missing tensor methods / ops
    "test_inplace_on_view_backward": (
        "threshold_(view) then create_graph: ember's graph (CopySlices through the view's old node, threshold "
        "as where) has no ThresholdBackwardBackward0 where PyTorch's has"
    ),
    "test_grad_fn_attr_bindings": (
        "AsStridedBackward0._saved_storage_offset is the offset used (input's by default), where PyTorch keeps "
        "the optional argument (None)"
    ),
    # --- GradientEdge
    # --- hooks
    "test_grad_fn_prehooks_multiple_outputs": (
        "var_mean's two outputs have separate grad_fns (a prehook on mean.grad_fn gets 1 grad); PyTorch: one "
        "VarMeanBackward0 node with 2 grads"
    ),
    # --- saved tensors and saved-tensor hooks
    # --- custom Function
    "test_custom_function_saving_mutated_view_no_leak": (
        "Function that mark_dirty+save_for_backward a view keeps it alive (reference cycle)"
    ),
    # --- autograd.grad / backward API
    "test_grad_batched_grad": "grad(..., is_grads_batched=True) is ignored (shape mismatch error)",
    # --- tensor attributes
    "test_version_counter": (
        "after x.data = t, x and its earlier view no longer share a version counter (x._version 4, view 3)"
    ),
    # --- views and in-place
    # --- anomaly mode
    "test_nested_anomaly_detect_nan": (
        "detect_anomaly does not warn with the forward traceback of nested Functions ('MyFunc2.apply' / 'No "
        "forward pass information')"
    ),
    # --- checkpoint
    # --- allow_mutation_on_saved_tensors
    # --- grad modes
}

# Tests that crash (segfault), hang, or leave ember's global state broken for the tests after
# them: they run in a child process, so the rest of the file still runs.  A crash, hang or failure
# there is an xfail; a pass fails the test, so that the entry must be removed.
EMBER_ISOLATED = {
    # h2 = node.register_prehook(...) and another prehook calls h2.remove() during backward
    # h = t.register_hook(hook) where hook() calls h.remove()
    # x, out = checkpoint(fn, a, use_reentrant=False); out.grad_fn.register_hook(lambda *_: x.backward())
    # an unpack hook that re-enters its saved_tensors_hooks: the hook pair stays on the stack (and alive),
    # which breaks saved tensors of every later test in the process
    "test_saved_tensor_hooks_extra_enter_during_bw_no_leak": "leaves a saved_tensors_hooks pair on the stack",
    # ctx_1.__exit__() inside an unpack hook raises 'no saved tensor hooks to pop' (PyTorch tolerates it)
    # while ctx_1 is still entered on the stack
    "test_saved_tensor_hooks_extra_exit_during_bw_no_crash": "unpack hook exits a hooks context: error, dirty stack",
}


def _known(table, request):
    """The entry for this test: by name, or by name[params] without the lib parameter."""
    name = request.node.originalname
    callspec = getattr(request.node, "callspec", None)
    if callspec is not None:
        parts = callspec.id.split("-")
        parts.remove(callspec.params["_lib_name"])
        if parts:
            key = f"{name}[{'-'.join(parts)}]"
            if key in table:
                return table[key]
    return table.get(name)


def _run_in_child(request, reason):
    params = {k: v for k, v in request.node.callspec.params.items() if k != "_lib_name"}
    code = (
        "import importlib.util, sys, tempfile, pathlib\n"
        f"spec = importlib.util.spec_from_file_location('pt_autograd_child', {__file__!r})\n"
        "mod = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(mod)\n"
        "import ember\n"
        f"fn = mod.{request.function.__name__}\n"
        "kw = {'tmp_path': pathlib.Path(tempfile.mkdtemp())} if 'tmp_path' in fn.__code__.co_varnames else {}\n"
        f"fn(lib=ember, **{params!r}, **kw)\n"
    )
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=3)
    except subprocess.TimeoutExpired:
        pytest.xfail(f"{reason} [child process hung for 3 s]")
    if proc.returncode == 0:
        pytest.fail(f"passes on ember in a child process now: remove it from EMBER_ISOLATED ({reason})")
    tail = (proc.stderr.strip().splitlines() or [""])[-1]
    pytest.xfail(f"{reason} [child exit {proc.returncode}: {tail}]")


@pytest.fixture(scope="module", params=["ember", "torch"])
def _lib_name(request):
    # Module scope makes pytest run all ember tests, then all torch tests: alternating the two
    # libraries test by test makes their thread pools fight over the cores (several times slower).
    return request.param


@pytest.fixture
def lib(request, _lib_name):
    if _lib_name == "torch":
        mod = pytest.importorskip("torch")
    else:
        isolated = _known(EMBER_ISOLATED, request)
        if isolated is not None:
            _run_in_child(request, isolated)
        reason = _known(EMBER_KNOWN_FAILURES, request)
        if reason is not None:
            request.applymarker(pytest.mark.xfail(strict=True, reason=reason))
            # An xfail's traceback is never shown, but pytest still renders it, and rendering re-parses this
            # (long) file for every frame: about 0.4 s per xfail.  Keep the one-line form instead.
            request.node.repr_failure = lambda excinfo: excinfo.exconly()
        import ember as mod
    yield mod
    mod.set_grad_enabled(True)  # a failing test must not leave grad mode off for the next ones


# ------------------------------------------------------------------------------------ helpers
def npy(t):
    """A numpy array of a tensor (of either library), a number or a nested list."""
    if hasattr(t, "detach"):
        return np.asarray(t.detach().numpy())
    return np.asarray(t)


def close(actual, expected, rtol=1e-5, atol=1e-6):
    a, e = npy(actual), npy(expected)
    assert a.shape == e.shape, f"shape {a.shape} != {e.shape}"
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol)


def same(actual, expected):
    a, e = npy(actual), npy(expected)
    assert a.shape == e.shape, f"shape {a.shape} != {e.shape}"
    np.testing.assert_array_equal(a, e)


def f64(lib, *shape, requires_grad=True):
    return lib.randn(*shape, dtype=lib.float64, requires_grad=requires_grad)


def r64(lib, *shape, requires_grad=True):
    return lib.rand(*shape, dtype=lib.float64, requires_grad=requires_grad)


def graph_desc(fn):
    if fn is None:
        return "None"
    parts = [graph_desc(nxt) for nxt, _ in fn.next_functions]
    return type(fn).__name__ + "(" + ", ".join(parts) + ")"


def node_name(node):
    # AccumulateGrad.name() is "torch::autograd::AccumulateGrad" in PyTorch.
    return node.name().rsplit("::", 1)[-1]


def acc_of(t):
    """The AccumulateGrad node of a leaf that requires grad."""
    return t.view_as(t).grad_fn.next_functions[0][0]


# ===================================================================== TestAutograd: Functions
def test_grad_mode_class_decoration(lib):
    with pytest.warns(FutureWarning, match="Decorating classes is deprecated"):

        @lib.no_grad()
        class Foo:
            def __init__(self):
                assert not lib.is_grad_enabled()

            def foo(self):
                assert lib.is_grad_enabled()

        Foo().foo()

    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")

        @lib.no_grad()
        def foo():
            assert not lib.is_grad_enabled()

        foo()

        class Foo2:
            @lib.no_grad()
            def __init__(self):
                assert not lib.is_grad_enabled()

            @lib.no_grad()
            def foo(self):
                assert not lib.is_grad_enabled()

        Foo2().foo()
    assert [str(x.message) for x in w] == []


def test_tensor_grad_warnings(lib):
    dummy = lib.empty(1)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        dummy.requires_grad_()
        _ = dummy.grad
        assert len(w) == 0
        dummy = dummy.clone()
        _ = dummy.grad
        assert len(w) == 1
        assert issubclass(w[0].category, UserWarning)
        assert "not a leaf Tensor" in str(w[0].message)
        dummy.retain_grad()
        _ = dummy.grad
        assert len(w) == 1


class _AddMulFunction:
    """forward(a, s, b) = a + s*b + a*b with a hand-written backward."""

    @staticmethod
    def make(lib, once=False):
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            assert isinstance(a, lib.Tensor) and isinstance(b, lib.Tensor) and isinstance(g, lib.Tensor)
            if once:
                assert not lib.is_grad_enabled()
            return g + g * b, None, g * ctx.scalar + g * a

        class MyFunction(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a, scalar, b):
                ctx.scalar = scalar
                ctx.save_for_backward(a, b)
                return a + scalar * b + a * b

        if once:
            backward = lib.autograd.function.once_differentiable(backward)
        MyFunction.backward = staticmethod(backward)
        return MyFunction


def _function_test(lib, cls):
    x = f64(lib, 5, 5)
    y = f64(lib, 5, 5)
    result = cls.apply(x, 2, y)
    go = lib.ones((), dtype=lib.float64, requires_grad=True)
    result.sum().backward(go, create_graph=True)
    close(x.grad, npy(y) + 1)
    close(y.grad, npy(x) + 2)
    assert x.grad.grad_fn is not None and y.grad.grad_fn is not None
    return x, y


def test_function(lib):
    x, y = _function_test(lib, _AddMulFunction.make(lib))
    assert graph_desc(x.grad.grad_fn) == (
        "CopyBackwards(None, AddBackward0(ExpandBackward0(AccumulateGrad()), "
        "MulBackward0(ExpandBackward0(AccumulateGrad()), AccumulateGrad())))"
    )
    assert graph_desc(y.grad.grad_fn) == (
        "CopyBackwards(None, AddBackward0(MulBackward0(ExpandBackward0(AccumulateGrad()), None), "
        "MulBackward0(ExpandBackward0(AccumulateGrad()), AccumulateGrad())))"
    )
    x.grad = None
    y.grad = None


def test_function_grads_with_create_graph(lib):
    x, y = _function_test(lib, _AddMulFunction.make(lib))
    x.grad = None
    y.grad = None


def test_once_differentiable(lib):
    x, y = _function_test(lib, _AddMulFunction.make(lib, once=True))
    expected = "CopyBackwards(None, Error(AccumulateGrad(), None, AccumulateGrad()))"
    assert graph_desc(x.grad.grad_fn) == expected
    assert graph_desc(y.grad.grad_fn) == expected
    x.grad = None
    y.grad = None


def test_once_differentiable_second_derivative_raises(lib):
    x, y = _function_test(lib, _AddMulFunction.make(lib, once=True))
    with pytest.raises(RuntimeError, match="trying to differentiate twice"):
        x.grad.sum().backward()


def test_function_returns_input(lib):
    class MyFunction(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    for shape in [(1,), ()]:
        v = lib.ones(shape, requires_grad=True)
        MyFunction.apply(v).backward()
        same(v.grad, np.full(shape, 2.0, dtype=np.float32))
        with lib.no_grad():
            v.grad.zero_()
        MyFunction.apply(v.clone()).backward()
        same(v.grad, np.full(shape, 2.0, dtype=np.float32))


def test_function_returns_undefined_tensor(lib):
    class MyFunction(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return None

    x = lib.ones(1, requires_grad=True)
    MyFunction.apply(x).backward()
    assert x.grad is None
    MyFunction.apply(x**2).backward()
    assert x.grad is None
    MyFunction.apply(x).sum().backward()
    assert x.grad is None
    assert lib.autograd.grad(MyFunction.apply(x), x, allow_unused=True)[0] is None


def test_dont_materialize_grads_multiple_outputs(lib):
    # set_materialize_grads(False): the grad of an unused output reaches backward as None
    seen = []

    class MyFunction(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x.clone(), x.clone()

        @staticmethod
        def backward(ctx, g1, g2):
            seen.append((g1, g2))
            return g1

    x = lib.ones(2, requires_grad=True)
    a, _ = MyFunction.apply(x)
    a.sum().backward()
    assert seen[0][1] is None
    same(x.grad, [1.0, 1.0])


def test_materialize_grads_multiple_outputs(lib):
    # by default the grad of an unused output is a tensor of zeros
    seen = []

    class MyFunction(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone(), x.clone()

        @staticmethod
        def backward(ctx, g1, g2):
            seen.append(g2)
            return g1 + g2

    x = lib.ones(2, requires_grad=True)
    a, _ = MyFunction.apply(x)
    a.sum().backward()
    same(seen[0], [0.0, 0.0])


def test_unused_grad_requires_grad_with_materialize(lib):
    x = lib.ones(10, requires_grad=True)
    y = lib.ones(10, requires_grad=True)
    z = (x**2).sum()
    g = lib.autograd.grad(z, (x, y), allow_unused=True, materialize_grads=True, create_graph=False)
    assert not g[0].requires_grad
    assert not g[1].requires_grad
    same(g[1], np.zeros(10, dtype=np.float32))


def test_legacy_function_deprecation_exception(lib):
    class MyFunction(lib.autograd.Function):
        def forward(self, x):
            return x

        def backward(self, grad_output):
            return grad_output

    with pytest.raises(RuntimeError, match="Legacy autograd function with non-static forward method is deprecated"):
        MyFunction()(lib.randn(3, 4))


def test_custom_function_exception(lib):
    class SimulateBackwardError(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            return input.clone()

        @staticmethod
        @lib.autograd.function.once_differentiable
        def backward(ctx, input):
            raise Exception("Simulate error on backward pass")

    t1 = lib.rand((3, 3), requires_grad=True)
    t2 = lib.rand((3, 3), requires_grad=True)
    tmp = (t1 + t2) * (t1 + t2)
    t3 = SimulateBackwardError.apply(tmp)
    with pytest.raises(Exception, match="Simulate error on backward pass"):
        t3.sum().backward()


def test_custom_function_non_tensor_inputs_outputs(lib):
    class MyFunction(lib.autograd.Function):
        @staticmethod
        def forward(ctx, t1, t2, scale, t3):
            t4 = t1 + t2 * t3
            t5 = t1 * t2 + t3
            t4 *= scale
            t5 *= scale
            ctx.scale = scale
            ctx.save_for_backward(t1, t2, t3)
            return scale, t4, None, True, t5, "bar", t1

        @staticmethod
        @lib.autograd.function.once_differentiable
        def backward(ctx, *grads):
            assert len(grads) == 7
            assert grads[0] is None and grads[2] is None and grads[3] is None and grads[5] is None
            scale = ctx.scale
            var1, var2, var3 = ctx.saved_tensors
            return (
                grads[1] * scale + grads[4] * var2 * scale + grads[6],
                grads[1] * var3 * scale + grads[4] * var1 * scale,
                None,
                grads[1] * var2 * scale + grads[4] * scale,
            )

    t1 = r64(lib, 10)
    t2 = r64(lib, 10)
    t3 = r64(lib, 10, requires_grad=False)
    scale = 7
    res = MyFunction.apply(t1, t2, scale, t3)
    assert res[0] == scale
    close(res[1], (npy(t1) + npy(t2) * npy(t3)) * scale)
    assert res[2] is None
    assert res[3] is True
    close(res[4], (npy(t1) * npy(t2) + npy(t3)) * scale)
    assert res[5] == "bar"
    same(res[6], t1)
    lib.autograd.backward([res[1].sum(), res[4].sum(), res[6].sum()])
    assert t1.grad is not None and t2.grad is not None and t3.grad is None

    def foo(t1, t2, t3):
        res = MyFunction.apply(t1, t2, scale, t3)
        return res[1], res[4], res[6]

    assert lib.autograd.gradcheck(foo, (t1, t2, t3))


def test_custom_function_no_tensors(lib):
    class MyFunction(lib.autograd.Function):
        @staticmethod
        def forward(ctx, t1, t2, scale, t3):
            t4 = t1 + t2 * t3
            t5 = t1 * t2 + t3
            t4 *= scale
            t5 *= scale
            return scale, t4, None, True, t5, "bar", t1

        @staticmethod
        @lib.autograd.function.once_differentiable
        def backward(ctx, *args):
            return (args[0], args[1], None, args[2])

    t1, t2, t3 = 0.25, 0.5, 0.75
    scale = 3
    res = MyFunction.apply(t1, t2, scale, t3)
    assert res[0] == scale
    assert res[1] == pytest.approx((t1 + t2 * t3) * scale)
    assert res[2] is None
    assert res[3] is True
    assert res[4] == pytest.approx((t1 * t2 + t3) * scale)
    assert res[5] == "bar"
    assert res[6] == t1


def test_invalid_gradients(lib):
    class MyFunction(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad_output):
            return lib.randn(10, dtype=lib.float32)

    input = lib.randn(5, 5, dtype=lib.float32, requires_grad=True)
    with pytest.raises(RuntimeError, match="expected shape"):
        MyFunction.apply(input).sum().backward()


def test_unrelated_inputs(lib):
    def my_function(x, y):
        return x * x

    x = r64(lib, 10)
    y = r64(lib, 10)
    assert lib.autograd.gradcheck(my_function, (x, y))
    assert lib.autograd.gradgradcheck(my_function, (x, y))


def test_not_implemented_grad(lib):
    a = lib.rand(2, requires_grad=True)
    y = lib.igamma(a, a).sum()
    with pytest.raises(NotImplementedError, match="the derivative for .* is not implemented"):
        y.backward()


def test_not_implemented_fwad(lib):
    fwAD = lib.autograd.forward_ad
    x = lib.randn(3)
    v = lib.rand(3)
    with fwAD.dual_level():
        dual_x = fwAD.make_dual(x, v)
        with pytest.raises(NotImplementedError, match=r"Trying to use forward AD with .* that does not support it"):
            lib.igamma(dual_x, dual_x)


def test_saved_tensor_hooks_extra_enter_during_bw_no_leak(lib):
    def scope():
        def unpack(x):
            weak_ctx_1().__enter__()
            return x

        ctx_1 = lib.autograd.graph.saved_tensors_hooks(lambda x: x, unpack)
        weak_ctx_1 = weakref.ref(ctx_1)
        x = lib.randn(3, 3, requires_grad=True)
        with ctx_1:
            x.sin().sum().backward()
        return weakref.ref(unpack)

    gc.disable()
    try:
        unpack_hook_ref = scope()
        assert unpack_hook_ref() is None
    finally:
        gc.enable()


def test_custom_function_vmap_defaults(lib):
    class MySquare(lib.autograd.Function):
        @staticmethod
        def forward(x):
            return x**2

        @staticmethod
        def setup_context(ctx, inputs, output):
            (x,) = inputs
            ctx.save_for_backward(x)

        @staticmethod
        def backward(ctx, gO):
            (x,) = ctx.saved_tensors
            return gO * 2 * x

    assert not MySquare.generate_vmap_rule
    assert hasattr(MySquare, "vmap")


def test_custom_function_setup_context_simple(lib):
    class MySquare(lib.autograd.Function):
        @staticmethod
        def forward(x):
            return x**2

        @staticmethod
        def setup_context(ctx, inputs, output):
            (x,) = inputs
            ctx.save_for_backward(x)

        @staticmethod
        def backward(ctx, gO):
            (x,) = ctx.saved_tensors
            return gO * 2 * x

    x = lib.randn([], requires_grad=True)
    y = MySquare.apply(x)
    (gx,) = lib.autograd.grad(y, x)
    close(gx, 2 * npy(x))


def test_custom_function_setup_context_multi_output(lib):
    class MySquare(lib.autograd.Function):
        @staticmethod
        def forward(x):
            two_x = x.item() * 2
            return x**2, two_x

        @staticmethod
        def setup_context(ctx, inputs, output):
            _, two_x = output
            ctx.two_x = two_x

        @staticmethod
        @lib.autograd.function.once_differentiable
        def backward(ctx, gO, _):
            return gO * ctx.two_x

    x = lib.randn([], requires_grad=True)
    y, _ = MySquare.apply(x)
    (gx,) = lib.autograd.grad(y, x)
    close(gx, 2 * npy(x))


def test_custom_function_setup_context_multi_input(lib):
    class MyReshape(lib.autograd.Function):
        @staticmethod
        def forward(x, shape, scale_forward, scale_backward):
            return x.reshape(shape) * scale_forward

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, shape, scale_forward, scale_backward = inputs
            ctx.scale_backward = scale_backward
            ctx.x_shape = x.shape

        @staticmethod
        def backward(ctx, gO):
            return gO.reshape(ctx.x_shape) * ctx.scale_backward, None, None, None

    class MyReshapeRef(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, shape, scale_forward, scale_backward):
            ctx.scale_backward = scale_backward
            ctx.x_shape = x.shape
            return x.reshape(shape) * scale_forward

        @staticmethod
        def backward(ctx, gO):
            return gO.reshape(ctx.x_shape) * ctx.scale_backward, None, None, None

    def check(x, shape, sf, sb):
        y = MyReshape.apply(x, shape, sf, sb).sum()
        (gx,) = lib.autograd.grad(y, x)
        y_ref = MyReshapeRef.apply(x, shape, sf, sb).sum()
        (gx_ref,) = lib.autograd.grad(y_ref, x)
        close(y, y_ref, rtol=1e-5, atol=1e-5)
        close(gx, gx_ref)
        close(gx, np.full(tuple(x.shape), float(sb), dtype=np.float32))

    check(lib.randn(24, requires_grad=True), (3, 8), 7, 11)
    check(lib.randn(2, 3, 4, requires_grad=True), (6, 4), -1, 2)


# ========================================================================= accumulation, grad()
def test_accumulate_grad(lib):
    grad_output = lib.ones(5, 5)

    def compute_grad(create_graph):
        x = lib.randn(5, 5, requires_grad=True)
        y = x + 2
        y.backward(grad_output, retain_graph=True)
        x_grad = x.grad
        x_grad_clone = x.grad.clone()
        y.backward(grad_output, create_graph=create_graph)
        return x_grad, x_grad_clone

    # in place without create_graph: the first .grad object sees the second accumulation
    x_grad, x_grad_clone = compute_grad(create_graph=False)
    same(x_grad, npy(x_grad_clone) * 2)
    # out of place with create_graph
    x_grad, x_grad_clone = compute_grad(create_graph=True)
    same(x_grad, x_grad_clone)


@pytest.mark.parametrize("create_graph", [False, True])
def test_accumulate_grad_tensor_reference(lib, create_graph):
    params = lib.tensor([1.5, 1.5]).requires_grad_()
    params.grad = lib.tensor([1.5, 1.5])
    grad_saved = params.grad
    params.backward(lib.tensor([1.5, 1.5]), create_graph=create_graph)
    assert (id(grad_saved) == id(params.grad)) == (not create_graph)
    same(params.grad, [3.0, 3.0])


def test_accumulate_grad_with_zero_numel_grad(lib):
    a = lib.rand(4, 0, requires_grad=True)
    b = lib.rand(4, 1, requires_grad=True)
    c = a + b
    assert tuple(c.shape) == (4, 0)
    c.sum().backward()
    same(b.grad, np.zeros((4, 1), dtype=np.float32))
    same(a.grad, np.zeros((4, 0), dtype=np.float32))


def test_hessian_vector(lib):
    x = f64(lib, 2, 2)
    y = f64(lib, 2, 2)
    z = x**2 + y * x + y**2
    z.backward(lib.ones(2, 2, dtype=lib.float64), create_graph=True)
    with lib.no_grad():
        x_grad = 2 * x + y
        y_grad = x + 2 * y
    close(x.grad, x_grad)
    close(y.grad, y_grad)
    grad_sum = 2 * x.grad + y.grad
    grad_sum.backward(lib.ones(2, 2, dtype=lib.float64))
    close(x.grad, npy(x_grad) + 5)
    close(y.grad, npy(y_grad) + 4)
    x.grad = None
    y.grad = None


def test_grad(lib):
    x = f64(lib, 2, 2)
    y = f64(lib, 2, 2)
    z = x**2 + y * x + y**2
    z.backward(lib.ones(2, 2, dtype=lib.float64), create_graph=True)
    x_grad = 2 * x + y
    y_grad = x + 2 * y
    close(x.grad, x_grad)
    close(y.grad, y_grad)
    grad_sum = 2 * x.grad + y.grad
    x_hv = lib.autograd.grad(
        outputs=[grad_sum], grad_outputs=[lib.ones(2, 2, dtype=lib.float64)], inputs=[x], create_graph=True
    )
    close(x_hv[0], np.full((2, 2), 5.0))
    close(x.grad, x_grad)
    close(y.grad, y_grad)
    x.grad = None
    y.grad = None
    grad_out = lib.ones(2, dtype=lib.float64)
    with pytest.raises(RuntimeError) as info:
        lib.autograd.grad(outputs=[grad_sum], grad_outputs=[grad_out], inputs=[x], create_graph=True)
    assert str(info.value) == (
        "Mismatch in shape: grad_output[0] has a shape of "
        + str(grad_out.shape)
        + " and output[0] has a shape of "
        + str(grad_sum.shape)
        + "."
    )


def test_grad_nonleaf(lib):
    x_init = f64(lib, 2, 2)
    x = x_init
    y = f64(lib, 2, 2)
    grad_output = lib.ones(2, 2, dtype=lib.float64)

    def fn(x):
        return x**2 + y * x + y**2

    for _ in range(5):
        (grad_x,) = lib.autograd.grad(fn(x), x, grad_outputs=grad_output, create_graph=True)
        close(grad_x, 2 * x + y)
        assert y.grad is None
        assert x.grad is None
        x = x + 0.05 * grad_x
    assert fn(x).sum().item() > fn(x_init).sum().item()
    x.backward(grad_output)
    assert y.grad is not None
    assert x_init.grad is not None


def test_grad_nonleaf_many_outputs(lib):
    x = f64(lib, 4, 2)
    a, b = x.chunk(2)
    hook_called = [False]

    def hook(*grads):
        hook_called[0] = True

    x.register_hook(hook)
    go = lib.randn(2, 2, dtype=lib.float64)
    grad_a, grad_b = lib.autograd.grad((a + 2 * b), [a, b], grad_outputs=go, create_graph=True)
    close(grad_a, go)
    close(grad_b, npy(go) * 2)
    assert not hook_called[0]
    assert x.grad is None


def test_grad_nonleaf_register_hook(lib):
    x = lib.randn(5, requires_grad=True)
    x_list = x.unbind()
    hook_results = [None]

    def hook(grad):
        hook_results[0] = grad

    x_list[0].register_hook(hook)
    x_list[0].backward()
    same(hook_results[0], np.float32(1.0))
    expected = np.array([1.0, 0, 0, 0, 0], dtype=np.float32)
    same(x.grad, expected)
    assert x_list[0].grad is None
    for i in range(1, 5):
        hook_results[0] = None
        x_list[i].backward()
        assert hook_results[0] is None
        expected[i] = 1.0
        same(x.grad, expected)
        assert x_list[i].grad is None


def test_grad_materialize_grads(lib):
    x = lib.tensor(0.5, requires_grad=True)
    a = lib.tensor(1.0, requires_grad=True)
    y = x * a
    dydx = lib.autograd.grad(y, x, create_graph=True)
    d2ydx2_none = lib.autograd.grad(dydx, x, create_graph=True, allow_unused=True)
    d2ydx2 = lib.autograd.grad(dydx, x, create_graph=True, allow_unused=True, materialize_grads=True)
    d3ydx3 = lib.autograd.grad(d2ydx2, x, materialize_grads=True)
    assert d2ydx2_none[0] is None
    assert d2ydx2[0].item() == 0
    assert d3ydx3[0].item() == 0
    with pytest.raises(ValueError, match="Expected allow_unused to be True or not passed when"):
        lib.autograd.grad(y, x, allow_unused=False, materialize_grads=True)


def test_sharded_grad(lib):
    leaves = [lib.zeros(5, 5, requires_grad=True) for _ in range(10)]
    intermediates = [leaf * i + leaf * leaf for i, leaf in enumerate(leaves)]
    loss = sum(v * i for i, v in enumerate(intermediates)).sum()
    shard = 2
    d_intermediates = [
        d for k in range(0, len(intermediates), shard) for d in lib.autograd.grad(loss, intermediates[k : k + shard])
    ]
    lib.autograd.backward(intermediates, d_intermediates)
    for i, leaf in enumerate(leaves):
        close(leaf.grad, i * i * (1 + npy(leaf)))


def test_backward_badcalls(lib):
    x = lib.ones(1)
    with pytest.raises(RuntimeError, match="does not require grad"):
        x.backward()


def test_grad_badcalls(lib):
    x = lib.ones(1)
    y = x**2
    with pytest.raises(RuntimeError, match="does not require grad"):
        lib.autograd.grad(x, y)
    with pytest.raises(RuntimeError, match="does not require grad"):
        lib.autograd.grad(y, x)
    x = lib.ones(1, requires_grad=True)
    y = x**2
    lib.autograd.grad(y, x)


def test_grad_empty_inputs(lib):
    x = lib.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"`inputs` argument to `grad\(\)` cannot be empty"):
        lib.autograd.grad(2 * x, [], grad_outputs=lib.tensor([1.0]))


def test_grad_fn_badcalls(lib):
    x = lib.ones(1, requires_grad=True)
    y = x**2
    with pytest.raises(TypeError, match="expected .* arguments, got .* instead"):
        y.grad_fn(x.detach(), x.detach())
    with pytest.raises(TypeError, match="expected .* arguments, got .* instead"):
        y.grad_fn()
    y.grad_fn(x.detach())


def test_grad_unreachable(lib):
    x = lib.ones(1, requires_grad=True)
    y = lib.ones(1, requires_grad=True)
    _ = x * 2
    _ = y * 2
    grad_x, grad_y = lib.autograd.grad(x * 2, [x, y], allow_unused=True)
    same(grad_x, [2.0])
    assert grad_y is None
    z = lib.ones(1, requires_grad=True)
    grad_x, grad_z = lib.autograd.grad(x * 2, [x, z], allow_unused=True)
    same(grad_x, [2.0])
    assert grad_z is None
    with pytest.raises(RuntimeError, match="Set allow_unused=True"):
        lib.autograd.grad(x * 2, [x, y], allow_unused=False)


def test_grad_unreachable_discovery(lib):
    class MyFunc(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, x):
            raise AssertionError("This node should not be executed!")

    x = MyFunc.apply(lib.randn(1, requires_grad=True) * 2)
    y = lib.randn(1, requires_grad=True)
    (gY,) = lib.autograd.grad(x, (y,), allow_unused=True)
    assert gY is None

    x = MyFunc.apply(lib.randn(1, requires_grad=True) * 2)
    y = lib.randn(1, requires_grad=True)
    z = lib.randn(1, requires_grad=True)
    (gY, gZ) = lib.autograd.grad(x + z, (y, z), allow_unused=True)
    assert gY is None
    assert gZ is not None

    x = MyFunc.apply(lib.randn(1, requires_grad=True) * 2)
    y = lib.randn(1, requires_grad=True)
    lib.autograd.backward(x, inputs=(y,))
    assert y.grad is None


def test_grad_batched_grad(lib):
    x = f64(lib, 2, 2)
    out = x.clone()
    batched = lib.arange(3).expand(2, 2, 3).transpose(0, 2)
    (grad,) = lib.autograd.grad(out, (x,), (batched,), is_grads_batched=True)
    same(grad, np.broadcast_to(np.arange(3.0)[:, None, None], (3, 2, 2)))
    with pytest.raises(RuntimeError, match="If `is_grads_batched=True`, we interpret the first"):
        lib.autograd.grad(outputs=out, grad_outputs=(lib.ones(2, 2),), inputs=(x,), is_grads_batched=True)
    out = x.sum()
    (grad,) = lib.autograd.grad(out, (x,), (lib.arange(3),), is_grads_batched=True)
    same(grad, np.broadcast_to(np.arange(3.0)[:, None, None], (3, 2, 2)))
    with pytest.raises(RuntimeError, match="If `is_grads_batched=True`, we interpret the first"):
        lib.autograd.grad(outputs=out, grad_outputs=(lib.ones(2).unsqueeze(1),), inputs=(x,), is_grads_batched=True)


# ============================================================================ GradientEdge
def test_grad_to_node(lib):
    def check_matches(out, inp):
        ref = lib.autograd.grad(out.sum(), inp)
        edge = lib.autograd.graph.get_gradient_edge(inp)
        new = lib.autograd.grad(out.sum(), edge)
        assert len(ref) == len(new) == 1
        same(new[0], ref[0])

    x = lib.rand(2, requires_grad=True)
    check_matches(x.clone(), x)
    x = x.clone()
    check_matches(x.clone(), x)
    x = lib.var_mean(x)[1]
    check_matches(x.clone(), x)


def test_grad_to_node_set(lib):
    x = lib.rand(2, requires_grad=True)
    x_edge = lib.autograd.graph.get_gradient_edge(x)
    out = x.clone()
    with lib.no_grad():
        x.set_(lib.rand_like(x))
    with pytest.raises(RuntimeError, match="to not have been used in the graph"):
        lib.autograd.grad(out.sum(), x)
    lib.autograd.grad(out.sum(), x_edge)


def test_grad_to_node_inplace(lib):
    x = lib.rand(2, requires_grad=True).clone()
    x_edge = lib.autograd.graph.get_gradient_edge(x)
    x *= 2
    g_old, g_new = lib.autograd.grad(x.sum(), (x_edge, x))
    same(g_old, [2.0, 2.0])
    same(g_new, [1.0, 1.0])


def test_grad_to_node_multi(lib):
    GradientEdge = lib.autograd.graph.GradientEdge
    x = lib.rand(2, requires_grad=True).clone()
    y = lib.rand(2, requires_grad=True).clone()
    out = x + y
    ref = lib.autograd.grad(out.sum(), (x, y), retain_graph=True)
    edges = (GradientEdge(x.grad_fn, x.output_nr), GradientEdge(y.grad_fn, y.output_nr))
    new = lib.autograd.grad(out.sum(), edges)
    for a, b in zip(ref, new):
        same(a, b)


def test_grad_to_node_materialize(lib):
    GradientEdge = lib.autograd.graph.GradientEdge
    x = lib.rand(2, requires_grad=True).clone()
    edge_x = GradientEdge(x.grad_fn, x.output_nr)
    y = lib.rand(2, requires_grad=True).clone()
    edge_y = GradientEdge(y.grad_fn, y.output_nr)
    out = x.clone()
    lib.autograd.grad(out.sum(), (edge_x, y), allow_unused=True, materialize_grads=True)
    lib.autograd.grad(out.sum(), (x, y), allow_unused=True, materialize_grads=True)
    lib.autograd.grad(out.sum(), (x, edge_y), allow_unused=True)
    with pytest.raises(RuntimeError, match="materialize_grads cannot be used when the given input is a GradientEdge"):
        lib.autograd.grad(out.sum(), (x, edge_y), allow_unused=True, materialize_grads=True)


def test_backward_to_node(lib):
    GradientEdge = lib.autograd.graph.GradientEdge
    x = lib.rand(2, requires_grad=True).clone()
    edge_x = GradientEdge(x.grad_fn, x.output_nr)
    y = lib.rand(2, requires_grad=True).clone()
    edge_y = GradientEdge(y.grad_fn, y.output_nr)
    out = x.clone()
    lib.autograd.backward(out.sum(), inputs=(edge_x, y))
    lib.autograd.backward(out.sum(), inputs=(x, y))
    lib.autograd.backward(out.sum(), inputs=(x, edge_y))
    lib.autograd.backward(out.sum(), inputs=(edge_x, edge_y))


def test_gradient_edge_fields(lib):
    x = lib.rand(2, requires_grad=True)
    y = x * 2
    edge = lib.autograd.graph.get_gradient_edge(y)
    assert edge.node is y.grad_fn
    assert edge.output_nr == 0
    leaf_edge = lib.autograd.graph.get_gradient_edge(x)
    assert node_name(leaf_edge.node) == "AccumulateGrad"
    with pytest.raises(RuntimeError, match="does not require grad"):
        lib.autograd.graph.get_gradient_edge(lib.rand(2))


def test_gradient_edge_output(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)

    def fn(x, reduce=True):
        tmp = x.sin().cos()
        if reduce:
            tmp = tmp.sum()
        out = tmp.exp().clone().sin().sum()
        return out, lib.autograd.graph.get_gradient_edge(tmp)

    out, tmp_edge = fn(x)
    (tmp_grad,) = lib.autograd.grad(out, (tmp_edge,))
    (x_grad,) = lib.autograd.grad(tmp_edge, (x,), grad_outputs=(tmp_grad,))
    out, _ = fn(x)
    (x_grad_ref,) = lib.autograd.grad(out, (x,))
    close(x_grad, x_grad_ref)

    out, tmp_edge = fn(x, reduce=False)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar output"):
        lib.autograd.grad(tmp_edge, (x,))
    out, tmp_edge = fn(x, reduce=True)
    lib.autograd.grad(tmp_edge, (x,))
    out, tmp_edge = fn(x)
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        lib.autograd.grad(tmp_edge, (x,), grad_outputs=lib.tensor([1.0, 2.0, 3.0, 4.0]))

    out, tmp_edge = fn(x)
    lib.autograd.backward(tmp_edge, retain_graph=True)
    (x_grad_ref,) = lib.autograd.grad(tmp_edge, (x,), retain_graph=True)
    close(x.grad, x_grad_ref)
    x.grad = None
    lib.autograd.backward((tmp_edge,), retain_graph=True)
    close(x.grad, x_grad_ref)

    out1, tmp_edge1 = fn(x)
    out2, _ = fn(x)
    (x_grad_ref,) = lib.autograd.grad((tmp_edge1, out2), (x,), retain_graph=True)
    x.grad = None
    lib.autograd.backward((tmp_edge1, out2), retain_graph=True)
    close(x.grad, x_grad_ref)

    out, tmp_edge = fn(x)
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        lib.autograd.backward(tmp_edge, inputs=(x,), grad_tensors=lib.tensor([1.0, 2.0, 3.0, 4.0]))


def test_gradient_edge_graph_ownership(lib):
    class Clone(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, gX):
            return gX.clone()

    inp = lib.rand(1, requires_grad=True).clone()
    out = inp.clone()
    edge = lib.autograd.graph.get_gradient_edge(out)
    lib.autograd.backward(edge)
    del out
    lib.autograd.backward(edge)
    out = Clone.apply(inp)
    edge = lib.autograd.graph.get_gradient_edge(out)
    lib.autograd.backward(edge)
    del out
    lib.autograd.backward(edge)


# ================================================================= post-accumulate-grad hooks
def test_post_accumulate_grad_hook_on_non_leaf(lib):
    leaf = lib.rand(3, requires_grad=True)
    non_leaf = 2.0 * leaf
    with pytest.raises(RuntimeError, match="post accumulate grad hooks cannot be registered on non-leaf tensors"):
        non_leaf.register_post_accumulate_grad_hook(lambda t: None)


def test_post_accumulate_grad_hook_multiple_hooks(lib):
    def hook1(tensor):
        tensor.sub_(tensor.grad)

    def hook2(tensor):
        tensor.mul_(4.0)

    tensor = lib.rand(3, requires_grad=True)
    ref = npy(tensor).copy()
    tensor.register_post_accumulate_grad_hook(hook1)
    tensor.register_post_accumulate_grad_hook(hook2)
    tensor.sum().backward()
    close(tensor, 4.0 * (ref - 1.0))


def test_post_accumulate_grad_hook_multiple_tensors(lib):
    def hook(tensor):
        tensor.sub_(tensor.grad)

    t1 = lib.rand(3, requires_grad=True)
    r1 = npy(t1).copy()
    t2 = lib.rand(5, requires_grad=True)
    r2 = npy(t2).copy()
    t1.register_post_accumulate_grad_hook(hook)
    t2.register_post_accumulate_grad_hook(hook)
    t1.sum().backward()
    t2.sum().backward()
    close(t1, r1 - 1.0)
    close(t2, r2 - 1.0)


def test_post_accumulate_grad_hook_returns_not_None(lib):
    tensor = lib.rand(2, 3, requires_grad=True)
    tensor.register_post_accumulate_grad_hook(lambda t: t.grad)
    with pytest.raises(RuntimeError, match="hooks should return None."):
        tensor.sum().backward()


def test_post_accumulate_grad_hook_e2e(lib):
    lib.manual_seed(0)

    def setup_optim_in_bwd(model):
        optims = {}
        handles = []

        def optim_step_hook(param):
            optims[param].step()
            optims[param].zero_grad()

        for p in model.parameters():
            optims[p] = lib.optim.Adam([p])
            handles.append(p.register_post_accumulate_grad_hook(optim_step_hook))
        return handles

    model = lib.nn.Linear(3, 2)
    input = lib.rand(2, 3)
    handles = setup_optim_in_bwd(model)
    model_copy = deepcopy(model)
    optim_copy = lib.optim.Adam(model_copy.parameters())
    for _ in range(5):
        model(input).sum().backward()
        model_copy(input).sum().backward()
        optim_copy.step()
        optim_copy.zero_grad()
    params_copy = []
    for p_ref, p in zip(model_copy.parameters(), model.parameters()):
        close(p, p_ref)
        params_copy.append(npy(p_ref).copy())
    for h in handles:
        h.remove()
    for _ in range(5):
        model(input).sum().backward()
        model_copy(input).sum().backward()
        optim_copy.step()
        optim_copy.zero_grad()
    for p_static, p_ref, p in zip(params_copy, model_copy.parameters(), model.parameters()):
        close(p, p_static)
        assert not np.allclose(npy(p_ref), npy(p))


def test_post_accumulate_grad_hook_gets_cleaned_up(lib):
    class Marker:
        pass

    def fun_stuff_with_hook():
        thing = Marker()

        def hook(tensor):
            tensor.sub_(tensor.grad)
            thing.seen = True

        tensor = lib.rand(3, requires_grad=True)
        tensor.register_post_accumulate_grad_hook(hook)
        tensor.sum().backward()
        assert thing.seen
        return tensor, weakref.ref(thing)

    tensor, ref = fun_stuff_with_hook()
    assert ref() is not None
    del tensor
    gc.collect()
    assert ref() is None


def test_post_accumulate_grad_hook_ordering(lib):
    tensor = lib.rand(3, requires_grad=True)

    def pre_hook(grad):
        return grad.sub(2.0)

    def acc_grad_node_pre_hook(grad_out):
        return (grad_out[0].div(5.0),)

    def post_acc_grad_hook(tensor):
        tensor.grad.add_(0.5)

    def acc_grad_node_post_hook(grad_in, grad_out):
        tensor.grad = grad_out[0].mul(10)

    acc_grad = acc_of(tensor)
    tensor.register_hook(pre_hook)
    acc_grad.register_prehook(acc_grad_node_pre_hook)
    tensor.register_post_accumulate_grad_hook(post_acc_grad_hook)
    acc_grad.register_hook(acc_grad_node_post_hook)
    tensor.sum().backward()
    # tensor prehook, node prehook, post-accumulate hook, node posthook: ((1 - 2) / 5 + 0.5) * 10
    close(tensor.grad, [3.0, 3.0, 3.0])


def test_post_accumulate_grad_hook_handle_remove(lib):
    calls = []
    t = lib.rand(3, requires_grad=True)
    h = t.register_post_accumulate_grad_hook(lambda p: calls.append(1))
    t.sum().backward()
    h.remove()
    t.sum().backward()
    assert calls == [1]


# ============================================================================== hooks
def test_hook_with_no_name(lib):
    class MyHookClass:
        def __call__(self, grad):
            return grad.clone()

    x = lib.randn(5, requires_grad=True).clone()
    x.register_hook(MyHookClass())
    x.sum().backward()


def test_prehook_ordering(lib):
    log = []

    def hook1(g):
        log.append(1)
        return g * 3

    def hook2(gs):
        log.append(2)
        return tuple(g * 2 for g in gs)

    a = lib.tensor(1.0, requires_grad=True)
    b = a.clone()
    b.grad_fn.register_prehook(hook2)
    b.register_hook(hook1)
    b.grad_fn.register_prehook(hook2)
    acc = b.grad_fn.next_functions[0][0]
    a.register_hook(hook1)
    acc.register_prehook(hook2)
    a.register_hook(hook1)

    b.sum().backward(retain_graph=True)
    assert log == [1, 2, 2, 1, 1, 2]
    log.clear()
    lib.autograd.grad(b.sum(), inputs=(a,), retain_graph=True)
    assert log == [1, 2, 2, 1, 1]
    log.clear()
    b.sum().backward(inputs=(b,))
    assert log == [1, 2, 2]
    assert b.grad.item() == 3


def test_retains_grad_can_always_observe_tensor_prehook(lib):
    def tensor_prehook(g):
        return g * 2

    a = lib.tensor(1.0, requires_grad=True)
    b = a.clone()
    b.register_hook(tensor_prehook)
    b.retain_grad()
    b.register_hook(tensor_prehook)
    b.clone().backward()
    assert b.grad.item() == 4

    a = lib.tensor(1.0, requires_grad=True)
    b = a.clone()
    b.retain_grad()
    b.register_hook(tensor_prehook)
    b.clone().backward()
    assert b.grad.item() == 2


def test_accumulate_grad_posthooks_can_observe_tensor_prehook(lib):
    a = lib.tensor(1.0, requires_grad=True)
    seen = []

    def posthook(gO, gI):
        seen.append("post")
        close(gI[0], 2 * npy(a))
        assert len(gO) == 0

    def prehook(gI):
        seen.append("pre")
        close(gI[0], 2 * npy(a))
        assert len(gI) == 1

    b = a.clone()
    acc = b.grad_fn.next_functions[0][0]
    acc.register_hook(posthook)
    acc.register_prehook(prehook)
    a.register_hook(lambda g: g * 2)
    b.backward()
    assert seen == ["pre", "post"]


def test_accumulate_grad_posthooks_should_not_execute(lib):
    def tensor_prehook(g):
        raise RuntimeError

    def posthook(gO, gI):
        raise RuntimeError

    a = lib.tensor(1.0, requires_grad=True)
    a.register_hook(tensor_prehook)
    b = lib.tensor(1.0, requires_grad=True)
    c = a.clone()
    acc = c.grad_fn.next_functions[0][0]
    acc.register_hook(posthook)
    out = a + b + c
    out.sum().backward(inputs=[b])
    assert b.grad.item() == 1.0


def test_hook_edge_case_when_called_with_grad(lib):
    a = lib.tensor(1.0, requires_grad=True)
    b = a * 2
    c = b * 2
    counts = {"tensor": 0, "pre": 0, "post": 0}

    def tensor_prehook(g):
        counts["tensor"] += 1

    def prehook(g):
        counts["pre"] += 1

    def posthook(gI, gO):
        counts["post"] += 1

    def take():
        r = (counts["tensor"], counts["post"], counts["pre"])
        counts.update(tensor=0, pre=0, post=0)
        return r

    a.register_hook(tensor_prehook)
    b.register_hook(tensor_prehook)
    acc = b.grad_fn.next_functions[0][0]
    acc.register_hook(posthook)
    acc.register_prehook(prehook)
    b.grad_fn.register_hook(posthook)
    b.grad_fn.register_prehook(prehook)

    lib.autograd.grad(c, inputs=(b), retain_graph=True)
    assert take() == (1, 0, 0)
    lib.autograd.grad(c, inputs=(a, b), retain_graph=True)
    assert take() == (2, 1, 1)
    c.backward(retain_graph=True)
    assert take() == (2, 2, 2)
    c.backward(inputs=(a, b), retain_graph=True)
    assert take() == (2, 2, 2)


def test_hooks(lib):
    x = lib.ones(5, 5, requires_grad=True)
    y = lib.ones(5, 5) * 4
    y.requires_grad_(True)
    counter = [0]

    def bw_hook(inc, grad):
        assert isinstance(grad, lib.Tensor)
        counter[0] += inc

    z = x**2 + x * 2 + x * y + y
    x.register_hook(lambda *args: bw_hook(0, *args))
    test = z.register_hook(lambda *args: bw_hook(1, *args))
    z.backward(lib.ones(5, 5), retain_graph=True)
    assert counter[0] == 1
    test2 = z.register_hook(lambda *args: bw_hook(2, *args))
    z.backward(lib.ones(5, 5), retain_graph=True)
    assert counter[0] == 4
    test2.remove()
    z.backward(lib.ones(5, 5), retain_graph=True)
    assert counter[0] == 5

    def bw_hook_modify(grad):
        return grad.mul(2)

    test.remove()
    z.register_hook(bw_hook_modify)
    with lib.no_grad():
        y.grad.zero_()
    z.backward(lib.ones(5, 5), retain_graph=True)
    close(y.grad, (npy(x) + 1) * 2)
    y.register_hook(bw_hook_modify)
    with lib.no_grad():
        y.grad.zero_()
    z.backward(lib.ones(5, 5))
    close(y.grad, (npy(x) + 1) * 4)


def _mul2(lib, use_custom_function):
    if not use_custom_function:
        return lambda x: x * 2

    class Mul2(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, gO):
            return gO * 2

    return Mul2.apply


@pytest.mark.parametrize("use_custom_function", [True, False])
def test_grad_fn_prehooks(lib, use_custom_function):
    mul2 = _mul2(lib, use_custom_function)
    a = lib.tensor([1.0], requires_grad=True)
    b = mul2(a)
    post_counter = [0]
    pre_counter = [0]

    def posthook(grad_input, grad_output):
        assert pre_counter[0] == 3
        close(grad_output[0], [8.0])
        close(grad_input[0], [16.0])
        post_counter[0] += 1
        return grad_input

    def prehook(grad_output):
        pre_counter[0] += 1
        return (grad_output[0] * 2,)

    b.grad_fn.register_hook(posthook)
    b.grad_fn.register_hook(posthook)
    b.grad_fn.register_prehook(prehook)
    b.grad_fn.register_prehook(lambda x: None)
    b.grad_fn.register_prehook(prehook)
    b.grad_fn.register_prehook(prehook)
    b.grad_fn.register_prehook(lambda x: x)
    b.grad_fn.register_prehook(lambda x: None)
    b.sum().backward()
    assert post_counter[0] == 2
    assert pre_counter[0] == 3

    a = lib.rand(3, 3, requires_grad=True)
    b = mul2(a)

    def prehook_none(grad_output):
        pre_counter[0] += 1
        return None

    b.grad_fn.register_prehook(prehook_none)
    b.sum().backward()
    assert pre_counter[0] == 4
    close(a.grad, np.full((3, 3), 2.0))


def test_grad_fn_prehooks_multiple_outputs(lib):
    b = lib.rand(3, 3, requires_grad=True)
    var, mean = lib.var_mean(b, dim=0)
    (var + mean).sum().backward()
    a = b.detach().requires_grad_()
    counter = [0]

    def prehook(grad_output):
        gvar, gmean = grad_output
        counter[0] += 1
        return (gvar * 2, gmean * 2)

    var, mean = lib.var_mean(a, dim=0)
    mean.grad_fn.register_prehook(prehook)
    (var + mean).sum().backward()
    assert counter[0] == 1
    close(a.grad, npy(b.grad) * 2)


def test_grad_fn_prehooks_multiple_outputs_custom_function(lib):
    class DoubleMul2(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, a, y):
            ctx.a = a
            return a * x * 2, a, a * y * 2

        @staticmethod
        def backward(ctx, g1, _a, g2):
            return ctx.a * g1 * 2, None, ctx.a * g2 * 2

    counter = [0]

    def prehook(grad_output):
        g1, ga, g2 = grad_output
        assert ga is None
        counter[0] += 1
        return (g1 * 2, None, g2 * 2)

    a = lib.randn(3, 3, requires_grad=True)
    b = lib.randn(3, 3, requires_grad=True)
    k = 3
    c, _, d = DoubleMul2.apply(a, k, b)
    c.grad_fn.register_prehook(prehook)
    (c + d).sum().backward()
    assert counter[0] == 1
    close(a.grad, np.full((3, 3), 4.0 * k))
    close(b.grad, np.full((3, 3), 4.0 * k))


@pytest.mark.parametrize("use_custom_function", [True, False])
def test_grad_fn_prehooks_remove_hooks(lib, use_custom_function):
    mul2 = _mul2(lib, use_custom_function)
    a = lib.rand(3, 3, requires_grad=True)
    b = mul2(a)
    counter = [0]

    def prehook(grad_output):
        counter[0] += 1
        return None

    handle = b.grad_fn.register_prehook(prehook)
    b.grad_fn.register_prehook(prehook)
    handle.remove()
    b.sum().backward()
    close(a.grad, np.full((3, 3), 2.0))
    assert counter[0] == 1

    a = lib.rand(3, 3, requires_grad=True)
    b = mul2(a)
    counter = [0]

    def prehook1(grad_output):
        handle2.remove()
        handle3.remove()
        return None

    def prehook2(grad_output):
        counter[0] += 1
        return None

    b.grad_fn.register_prehook(prehook1)
    handle2 = b.grad_fn.register_prehook(prehook2)
    handle3 = b.grad_fn.register_prehook(prehook2)
    handle3.remove()
    b.sum().backward()
    close(a.grad, np.full((3, 3), 2.0))
    assert counter[0] == 1


def test_hooks_cpp(lib):
    bn = lib.nn.BatchNorm1d(5, affine=False)
    bn.double()
    bn.eval()
    counter = [0]

    def bw_hook(grad):
        counter[0] += 1
        return grad * 2

    x = lib.ones(5, 5, dtype=lib.float64, requires_grad=True)
    z = bn(x)
    z.register_hook(bw_hook)
    z.sum().backward()
    assert counter[0] == 1
    close(x.grad, np.full((5, 5), 2.0), atol=1e-5, rtol=0)


def test_hook_none(lib):
    class NoneGradientFunction(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            assert ctx.needs_input_grad[0]
            assert not ctx.needs_input_grad[1]
            return x, y

        @staticmethod
        def backward(ctx, grad_x, grad_y):
            return grad_x, None

    was_called = [False]

    def hook(grad):
        assert grad is not None
        was_called[0] = True

    x = lib.randn(5, 5, requires_grad=True)
    y = lib.randn(5, 5)
    rx, ry = NoneGradientFunction.apply(x, y)
    rx.register_hook(hook)
    ry.register_hook(hook)
    sum(rx, ry).sum().backward()
    assert was_called[0]


def test_register_hook_on_tensor_not_requiring_grad(lib):
    x = lib.randn(3)
    with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't require gradient"):
        x.register_hook(lambda g: g)


# ====================================================================== retain_grad
def test_retain_grad(lib):
    input = lib.rand(1, 3, requires_grad=True)
    h1 = input * 3
    out = (h1 * h1).sum()
    h1.retain_grad()
    h1.retain_grad()
    out.backward(retain_graph=True)
    close(h1.grad, npy(h1) * 2)
    out.backward(retain_graph=True)
    close(h1.grad, npy(h1) * 4)
    with lib.no_grad():
        input.grad.zero_()
    input.retain_grad()
    input.retain_grad()
    out.backward()
    close(input.grad, npy(input) * 18)


def test_retain_grad_inplace(lib):
    a = lib.tensor([1.0], requires_grad=True).clone()
    a.retain_grad()
    a.mul_(2)
    a.sum().backward()
    same(a.grad, [1.0])

    a = lib.tensor([1.0], requires_grad=True).clone()
    a.retain_grad()
    a.mul_(2)
    a.mul_(2)
    a.sum().backward()
    same(a.grad, [1.0])

    x = lib.tensor([1.0], requires_grad=True).clone()
    x.retain_grad()
    x_view = x[:]
    x_view *= 2
    x *= 2
    x.sum().backward()
    same(x.grad, [1.0])

    x = lib.zeros(4)
    y = x.view(2, 2)
    y.add_(lib.randn(2, 2, requires_grad=True))
    assert x.requires_grad


def _double_mul(lib):
    class DoubleMul(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            return g1 * 2 + g2 * 3

    return DoubleMul.apply


@pytest.mark.parametrize("kind", ["custom", "var_mean"])
def test_retains_grad_inplace_multiple_outputs(lib, kind):
    fn = _double_mul(lib) if kind == "custom" else partial(lib.var_mean, dim=0)
    b = lib.rand(3, 3, requires_grad=True)
    var, mean = fn(b)
    var.retain_grad()
    mean.retain_grad()
    var.mul_(2)
    (var + mean).sum().backward()
    gvar, gmean = var.grad, mean.grad
    a = b.detach().requires_grad_(True)
    var, mean = fn(a)
    var.mul_(2)
    out = (var + mean).sum()
    gvar_expected, gmean_expected = lib.autograd.grad(out, inputs=(var, mean))
    close(gvar, gvar_expected)
    close(gmean, gmean_expected)


def test_retain_grad_inplace_over_view(lib):
    base = lib.tensor([1.0], requires_grad=True).clone()
    view = base[:]
    view2 = base[:]
    view.retain_grad()
    view2.retain_grad()
    view.mul_(2)
    (view + view2).sum().backward()
    same(view.grad, view2.grad)
    same(view.grad, [1.0])


def test_tensor_hooks_inplace(lib):
    count1 = [0]
    count2 = [0]

    def fn1(grad):
        count1[0] += 1
        same(grad, [4.0])
        return grad * 2

    def fn2(grad):
        count2[0] += 1
        same(grad, [1.0])
        return grad * 2

    a = lib.tensor([1.0], requires_grad=True)
    b = a.clone()
    b.register_hook(fn1)
    b.mul_(2)
    b.register_hook(fn2)
    b.sum().backward()
    assert count1[0] == 1 and count2[0] == 1
    same(a.grad, [8.0])

    count3 = [0]

    def fn3(grad):
        count3[0] += 1
        same(grad, [4.0])
        return grad * 2

    a = lib.tensor([1.0], requires_grad=True)
    b = a.clone()
    b.register_hook(fn3)
    b.mul_(2)
    b.mul_(2)
    b.sum().backward()
    assert count3[0] == 1
    same(a.grad, [8.0])


@pytest.mark.parametrize("kind", ["custom", "var_mean"])
def test_tensor_hooks_inplace_multiple_outputs(lib, kind):
    fn = _double_mul(lib) if kind == "custom" else partial(lib.var_mean, dim=0)
    counts = [0, 0, 0]
    expect = {}

    def fn0(grad):
        counts[0] += 1
        close(grad, expect["two"])

    def fn1(grad):
        counts[1] += 1
        close(grad, expect["three"])

    def fn2(grad):
        counts[2] += 1
        close(grad, expect["one"])

    b = lib.rand(3, 3, requires_grad=True)
    out1, out2 = fn(b)
    shape = tuple(out1.shape)
    expect.update(one=np.ones(shape), two=np.full(shape, 2.0), three=np.full(shape, 3.0))
    h1 = out1.register_hook(fn0)
    h2 = out2.register_hook(fn1)
    out1.mul_(2)
    h3 = out1.register_hook(fn2)
    (out1 + out2 * 3).sum().backward()
    assert counts == [1, 1, 1]
    h1.remove()
    h2.remove()
    h3.remove()


def test_tensor_hooks_inplace_over_view(lib):
    count = [0]

    def fail(grad):
        raise AssertionError("must not run")

    def fn2(grad):
        count[0] += 1
        same(grad, [1.0])

    base = lib.tensor([1.0], requires_grad=True).clone()
    view = base[:]
    view2 = base[:]
    view.register_hook(fail)
    view2.register_hook(fail)
    view.mul_(2)
    view2.grad_fn  # noqa: B018  (refreshes view2's grad_fn)
    view2.register_hook(fn2)
    (view + view2).sum().backward()
    assert count[0] == 1


def test_retain_grad_cycle(lib):
    x = lib.ones(5, 5, requires_grad=True)

    def run_test():
        y = x * 2
        y.retain_grad()
        return y / 2, weakref.ref(y)

    z, ref = run_test()
    gc.collect()
    assert ref() is None
    z.sum().backward()


# =================================================================== backward() variants
def test_backward(lib):
    v = f64(lib, 5, 5)
    x = f64(lib, 5, 5)
    y = (lib.rand(5, 5, dtype=lib.float64) + 0.1).requires_grad_(True)
    z = f64(lib, 5, 5)
    grad_output = lib.randn(5, 5, dtype=lib.float64)
    v.backward(grad_output)
    same(v.grad, grad_output)
    a = x + (y * z) + 4 * z**2 * x / y
    a.backward(grad_output)
    X, Y, Z, G = npy(x), npy(y), npy(z), npy(grad_output)
    close(x.grad, (4 * Z**2 / Y + 1) * G)
    close(y.grad, (Z - 4 * X * Z**2 / Y**2) * G)
    close(z.grad, (8 * X * Z / Y + Y) * G)


def test_multi_backward(lib):
    x, y, q, a, b = (f64(lib, 5, 5) for _ in range(5))
    q2 = q * 2
    z = x + y + q2
    c = a * b + q2
    grad_z = lib.randn(5, 5, dtype=lib.float64)
    grad_c = lib.randn(5, 5, dtype=lib.float64)
    lib.autograd.backward([z, c], [grad_z, grad_c])
    close(x.grad, grad_z)
    close(y.grad, grad_z)
    close(a.grad, npy(grad_c) * npy(b))
    close(b.grad, npy(grad_c) * npy(a))
    close(q.grad, (npy(grad_c) + npy(grad_z)) * 2)


def test_multi_backward_no_grad(lib):
    x = lib.randn(5, 5, requires_grad=True)
    y = lib.randn(5, 5, requires_grad=False)
    z = x + y
    q = y * 2
    with pytest.raises(RuntimeError):
        lib.autograd.backward([z, q], [lib.ones(5, 5), lib.ones(5, 5)])


def test_backward_with_inputs(lib):
    x = f64(lib, 2, 2)
    y = f64(lib, 2, 2)

    def fn():
        return x**2 + y * x + y**2

    gradient = lib.ones(2, 2, dtype=lib.float64)
    xg = 2 * npy(x) + npy(y)
    yg = npy(x) + 2 * npy(y)

    @lib.no_grad()
    def reset_grad():
        x.grad.zero_()
        y.grad.zero_()

    lib.autograd.backward(fn(), gradient, inputs=[x, y])
    close(x.grad, xg)
    close(y.grad, yg)
    reset_grad()
    lib.autograd.backward(fn(), gradient, inputs=[x])
    close(x.grad, xg)
    close(y.grad, np.zeros((2, 2)))
    reset_grad()
    lib.autograd.backward(fn(), gradient, inputs=[y])
    close(y.grad, yg)
    close(x.grad, np.zeros((2, 2)))
    reset_grad()
    lib.autograd.backward(fn(), gradient, inputs=y)
    close(y.grad, yg)
    close(x.grad, np.zeros((2, 2)))
    reset_grad()
    with pytest.raises(RuntimeError, match="cannot be empty"):
        lib.autograd.backward(fn(), gradient, inputs=[])


def test_backward_with_scalar_input(lib):
    x = lib.randn([], dtype=lib.float64, requires_grad=True)
    out = x**2
    out.backward(inputs=x)
    close(x.grad, 2 * npy(x))


def test_backward_with_nonleaf_inputs(lib):
    x = f64(lib, 2, 2)
    x_nonleaf = x * 1
    y = f64(lib, 2, 2)
    z = f64(lib, 2, 2)
    out = x_nonleaf**2 + y * x_nonleaf + y**2
    out.backward(lib.ones(2, 2, dtype=lib.float64), create_graph=True, inputs=[x, y, x_nonleaf])
    close(y.grad, npy(x) + 2 * npy(y))
    close(x.grad, 2 * npy(x) + npy(y))
    close(x_nonleaf.grad, 2 * npy(x_nonleaf) + npy(y))
    out.backward(lib.ones(2, 2, dtype=lib.float64), create_graph=True, inputs=[z])
    assert z.grad is None
    x.grad = None
    y.grad = None
    x_nonleaf.grad = None


def test_dependent_backward(lib):
    x = f64(lib, 10)
    y = x**2
    z = y**3
    go_y = lib.randn(10, dtype=lib.float64)
    go_z = lib.randn(10, dtype=lib.float64)
    lib.autograd.backward([y, z], [go_y, go_z])
    X = npy(x)
    close(x.grad, 2 * X * npy(go_y) + 6 * X**5 * npy(go_z))


def test_save_output_nr(lib):
    x = lib.randn(10, requires_grad=True)
    seen = []

    class MultiOutputFn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x[:5], x[5:]

        @staticmethod
        def backward(ctx, *grad):
            return lib.cat(grad)

    a, b = MultiOutputFn.apply(x)
    assert b.output_nr == 1

    class TestFn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, b):
            ctx.save_for_backward(b)
            return b * 2

        @staticmethod
        def backward(ctx, grad_b):
            (b,) = ctx.saved_tensors
            seen.append(b.output_nr)

    TestFn.apply(b).sum().backward()
    assert seen == [1]


def test_free_deep_graph(lib):
    def scope():
        x = lib.randn(1, requires_grad=True)
        y = x.clone()
        for _ in range(150000):
            y = y + y * 0.000001

    scope()


def test_free_deep_graph_complicated(lib):
    def scope():
        x = lib.randn(1, requires_grad=True)
        y = x.clone()
        prev_values = [None, None]
        for _ in range(100000):
            prev_values.append(y)
            prev_values.pop(0)
            y += y * 0.000001

    scope()


def test_free_deep_graph_pyfunction(lib):
    class MyOp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, tensor1, tensor2):
            return tensor1 + tensor2

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output, grad_output

    def scope():
        x = lib.randn(1, requires_grad=True)
        y = x.clone()
        for _ in range(20000):
            y = MyOp.apply(y, y)

    scope()


def test_no_unnecessary_save(lib):
    mu = lib.ones(1, requires_grad=True)
    x = lib.empty(1)
    loss = 0
    for i in range(3):
        x.detach_()
        x.copy_(mu + i)
        ft = lib.tensor([float(i)])
        loss += (x * ft).sum()
    loss.backward()
    same(mu.grad, [3.0])


# ============================================================================ grad modes
def test_no_grad(lib):
    x = lib.ones(5, 5, requires_grad=True)
    y = lib.ones(5, 5) * 4
    with lib.no_grad():
        w = x + y

    def adder(x, y):
        return x + y

    for add in [lib.no_grad()(adder), lib.no_grad(adder)]:
        z = add(x, y)
        assert not w.requires_grad
        with pytest.raises(RuntimeError):
            w.backward(lib.ones(5, 5))
        assert w.grad_fn is None
        assert not z.requires_grad
        with pytest.raises(RuntimeError):
            z.backward(lib.ones(5, 5))
        assert z.grad_fn is None

    with lib.no_grad():
        assert not lib.is_grad_enabled()
        add(x, y)
        assert not lib.is_grad_enabled()


def test_enable_grad_decorator_no_paren(lib):
    x = lib.ones(1, requires_grad=True)

    @lib.enable_grad
    def doubler(x):
        return x * 2

    with lib.no_grad():
        z = doubler(x)
    assert z.requires_grad


def test_set_grad_generator_functions(lib):
    @lib.no_grad()
    def gen_no_grad():
        for i in range(10):
            assert not lib.is_grad_enabled()
            yield i

    with lib.enable_grad():
        for _ in gen_no_grad():
            assert lib.is_grad_enabled()

    @lib.enable_grad()
    def gen_enable_grad():
        for i in range(10):
            assert lib.is_grad_enabled()
            yield i

    with lib.no_grad():
        for _ in gen_enable_grad():
            assert not lib.is_grad_enabled()


def test_set_grad_generator_functions_recursive(lib):
    @lib.enable_grad()
    def enable_rec(depth):
        assert lib.is_grad_enabled()
        if depth > 0:
            no_rec(depth - 1)
            assert lib.is_grad_enabled()

    @lib.no_grad()
    def no_rec(depth):
        assert not lib.is_grad_enabled()
        if depth > 0:
            enable_rec(depth - 1)
            assert not lib.is_grad_enabled()

    def enable_cm(depth):
        with lib.enable_grad():
            assert lib.is_grad_enabled()
            if depth > 0:
                no_cm(depth - 1)
                assert lib.is_grad_enabled()

    def no_cm(depth):
        with lib.no_grad():
            assert not lib.is_grad_enabled()
            if depth > 0:
                enable_cm(depth - 1)
                assert not lib.is_grad_enabled()

    for outer, expected in ((lib.enable_grad, True), (lib.no_grad, False)):
        with outer():
            assert lib.is_grad_enabled() == expected
            enable_rec(10)
            assert lib.is_grad_enabled() == expected
            enable_cm(10)
            assert lib.is_grad_enabled() == expected


def test_set_grad_coroutines(lib):
    @lib.no_grad()
    def coro_no_grad(n=10):
        assert not lib.is_grad_enabled()
        for i in range(n):
            assert not lib.is_grad_enabled()
            r = yield i
            assert not lib.is_grad_enabled()
            assert r == i
        assert not lib.is_grad_enabled()

    @lib.enable_grad()
    def coro_enable_grad(n=10):
        assert lib.is_grad_enabled()
        for i in range(n):
            assert lib.is_grad_enabled()
            r = yield i
            assert lib.is_grad_enabled()
            assert r == i
        assert lib.is_grad_enabled()

    for outer, coro_fn, state in ((lib.enable_grad, coro_no_grad, True), (lib.no_grad, coro_enable_grad, False)):
        with outer():
            coro, r = coro_fn(), None
            with contextlib.suppress(StopIteration):
                while True:
                    assert lib.is_grad_enabled() == state
                    r = coro.send(r)
                    assert lib.is_grad_enabled() == state


def test_set_grad_coroutines_benign_exceptions(lib):
    class RecoverableException(Exception):
        pass

    def make(decorator, state):
        @decorator()
        def coro(n=10):
            has_raised = False
            for i in range(n):
                try:
                    assert lib.is_grad_enabled() == state
                    yield (-i if has_raised else i)
                except RecoverableException:
                    assert lib.is_grad_enabled() == state
                    has_raised = True

        return coro

    for outer, coro_fn in ((lib.enable_grad, make(lib.no_grad, False)), (lib.no_grad, make(lib.enable_grad, True))):
        with outer():
            coro = coro_fn()
            assert next(coro) == 0
            with contextlib.suppress(StopIteration):
                while True:
                    r = coro.throw(RecoverableException)
                    assert r < 0


def test_set_grad_coroutines_critical_exceptions(lib):
    class UnrecoverableException(Exception):
        pass

    class SecondaryException(Exception):
        pass

    def make(decorator, state):
        @decorator()
        def coro(n=10):
            for i in range(n):
                try:
                    assert lib.is_grad_enabled() == state
                    yield i
                except UnrecoverableException:
                    assert lib.is_grad_enabled() == state
                    raise SecondaryException from None

        return coro

    for outer, coro_fn in ((lib.enable_grad, make(lib.no_grad, False)), (lib.no_grad, make(lib.enable_grad, True))):
        with outer():
            coro = coro_fn()
            assert next(coro) == 0
            with pytest.raises(SecondaryException):
                coro.throw(UnrecoverableException)


def test_set_grad_coroutines_exit(lib):
    def make(decorator, expected):
        @decorator()
        def coro(state):
            for i in range(10):
                try:
                    assert lib.is_grad_enabled() == expected
                    yield i
                except GeneratorExit:
                    assert lib.is_grad_enabled() == expected
                    state.add("GeneratorExit")
                    raise

        return coro

    for outer, coro_fn in ((lib.enable_grad, make(lib.no_grad, False)), (lib.no_grad, make(lib.enable_grad, True))):
        state = set()
        with outer():
            coro = coro_fn(state)
            for _ in range(5):
                next(coro)
            coro.close()
        assert "GeneratorExit" in state


def test_no_grad_python_function(lib):
    x = lib.ones(5, 5, requires_grad=True)

    class MyOp(lib.autograd.Function):
        @staticmethod
        def forward(self, x):
            return x + 1

        @staticmethod
        def backward(self, dy):
            return dy

    with lib.no_grad():
        y = MyOp.apply(x)
    assert not y.requires_grad


# ================================================================================ indexing
def _np_index(idx):
    """The numpy form of an index (tensors become arrays)."""
    if isinstance(idx, tuple):
        return tuple(_np_index(i) for i in idx)
    if hasattr(idx, "detach"):
        return npy(idx)
    return idx


def _check_index(lib, x, y, idx, lib_idx=None):
    lib_idx = idx if lib_idx is None else lib_idx
    if y.grad is not None:
        with lib.no_grad():
            y.grad.zero_()
    indexed_tensor = x[lib_idx]
    indexed_var = y[lib_idx]
    same(indexed_var, indexed_tensor)
    indexed_var.sum().backward()
    expected = np.zeros(tuple(x.shape), dtype=np.float32)
    expected[_np_index(idx)] = 1
    same(y.grad, expected)


BASIC_INDICES_2D = [
    1,
    (1, 1),
    slice(1, None),
    slice(None, 2),
    (slice(None, 2), 2),
    (slice(1, 2), 2),
    (1, slice(2, None)),
    (slice(None, None), slice(2, None)),
    (Ellipsis, slice(2, None)),
]

ADVANCED_INDICES_2D = [
    ([0], [0]),
    ([1, 2, 3], [0]),
    ([1, 2], [2, 1]),
    ([[1, 2], [3, 0]], [[0, 1], [2, 3]]),
    (slice(None), [2, 3]),
    ([2, 3], slice(None)),
    [0],
    ([0],),
]

ADVANCED_INDICES_3D = [
    (slice(None), [0], [0]),
    ([0], [0], slice(None)),
    (slice(None), [0, 1, 2], [0]),
    ([0, 1, 2], [0], slice(None)),
    (slice(None), [1, 2], [2, 1]),
    ([1, 2], [2, 1], slice(None)),
    (slice(None), [[1, 2], [2, 0]], [[0, 1], [2, 3]]),
    ([[1, 2], [3, 0]], [[0, 1], [2, 2]], slice(None)),
    (slice(None), slice(None), [2, 1]),
    (slice(None), [2, 1], slice(None)),
    ([2, 1], slice(None), slice(None)),
    ([0],),
    ([0], slice(None)),
    ([0], Ellipsis),
    ([1, 2], [0, 1]),
    ([1, 2], [0, 1], Ellipsis),
    (Ellipsis, [1, 2], [0, 1]),
]


def test_indexing(lib):
    x = lib.arange(1.0, 17).view(4, 4)
    y = x.clone().requires_grad_(True)
    for idx in BASIC_INDICES_2D:
        _check_index(lib, x, y, idx)


def test_indexing_advanced_lists(lib):
    x = lib.arange(1.0, 17).view(4, 4)
    y = x.clone().requires_grad_(True)
    for idx in ADVANCED_INDICES_2D:
        _check_index(lib, x, y, idx)
    x = lib.arange(1.0, 49).view(4, 3, 4)
    y = x.clone().requires_grad_(True)
    for idx in ADVANCED_INDICES_3D:
        _check_index(lib, x, y, idx)


def test_indexing_with_tensors(lib):
    x = lib.arange(1.0, 17).view(4, 4)
    y = x.clone().requires_grad_(True)
    index = lib.tensor([0, 2])
    _check_index(lib, x, y, index)
    mask = lib.tensor([[True, False, True, False]] * 2 + [[False, True, False, True]] * 2)
    _check_index(lib, x, y, mask)
    x = lib.arange(1.0, 49).view(4, 3, 4)
    y = x.clone().requires_grad_(True)
    z = lib.tensor([0, 1])
    _check_index(lib, x, y, (z, Ellipsis))


def test_indexing_duplicates(lib):
    x = lib.arange(1.0, 17).view(4, 4)
    y = x.clone().requires_grad_(True)
    idx = lib.tensor([1, 1, 3, 2, 1, 2])
    y[idx].sum().backward()
    expected = np.zeros((4, 4), dtype=np.float32)
    np.add.at(expected, npy(idx), 1)
    same(y.grad, expected)

    y = x.clone().requires_grad_(True)
    y[[1, 1, 3, 2, 1, 2], [0]].sum().backward()
    expected = np.zeros((4, 4), dtype=np.float32)
    np.add.at(expected, ([1, 1, 3, 2, 1, 2], [0]), 1)
    same(y.grad, expected)

    y = x.clone().requires_grad_(True)
    y[[[1, 2], [0, 0]], [[0, 1], [1, 1]]].sum().backward()
    same(y.grad, [[0.0, 2.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])

    y = lib.arange(1.0, 65).view(4, 4, 4).requires_grad_(True)
    y[[1, 1, 1], :, :].sum().backward()
    expected = np.zeros((4, 4, 4), dtype=np.float32)
    expected[1] = 3
    same(y.grad, expected)


def test_index_backward_does_not_save_tensor(lib):
    a = lib.tensor([1.0, 0, 0])
    b = lib.zeros(3, requires_grad=True)
    tensor = b + 0
    tensor[a != 0] = tensor[a != 0]
    tensor.backward(lib.zeros_like(tensor))


def test_volatile_deprecated(lib):
    v = lib.randn(3, 3)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        assert not v.volatile
    assert "volatile" in str(w[0].message)


def test_saved_variables_deprecated(lib):
    class MyFunction(lib.autograd.Function):
        @staticmethod
        def forward(ctx, tensor1, tensor2):
            ctx.save_for_backward(tensor1, tensor2)
            return tensor1 + tensor2

        @staticmethod
        def backward(ctx, grad_output):
            var1, var2 = ctx.saved_variables
            return (grad_output, grad_output)

    with warnings.catch_warnings(record=True) as warns:
        warnings.simplefilter("always")
        x = lib.randn((3, 3), requires_grad=True)
        y = lib.randn((3, 3), requires_grad=True)
        MyFunction.apply(x, y).sum().backward()
    assert any("deprecated" in str(w.message) and "saved_variables" in str(w.message) for w in warns)


# ========================================================================== requires_grad
def test_requires_grad(lib):
    x = lib.randn(5, 5)
    y = lib.randn(5, 5)
    z = lib.randn(5, 5, requires_grad=True)
    a = x + y
    assert not a.requires_grad
    b = a + z
    assert b.requires_grad
    b.backward(lib.ones(5, 5))
    assert x.grad is None and y.grad is None and a.grad_fn is None
    same(z.grad, np.ones((5, 5), dtype=np.float32))


def test_requires_grad_(lib):
    x = lib.randn(5, 5)
    y = lib.randn(5, 5, requires_grad=True)
    assert x.requires_grad_() is x
    assert x.requires_grad
    assert y.requires_grad_() is y
    assert y.requires_grad
    assert x.requires_grad_(True) is x
    assert x.requires_grad
    assert y.requires_grad_(True) is y
    assert y.requires_grad
    z = x * y
    with pytest.raises(RuntimeError):
        z.requires_grad_(False)
    assert z.requires_grad_() is z
    assert z.requires_grad
    assert z.requires_grad_(True) is z
    assert z.requires_grad
    assert x.requires_grad_(False) is x
    assert not x.requires_grad
    assert y.requires_grad_(False) is y
    assert not y.requires_grad


def test_requires_grad_non_float_errors(lib):
    with pytest.raises(RuntimeError, match="(?i)only Tensors of floating point"):
        lib.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match="(?i)only Tensors of floating point"):
        lib.tensor([1, 2], requires_grad=True)


def test_requires_grad_inplace(lib):
    a = lib.randn(5, 5)
    b = lib.randn(5, 5, requires_grad=True)
    a += b
    assert a.requires_grad
    a = lib.randn(5, 5) + 0
    b = lib.randn(5, 5, requires_grad=True)
    a += b
    assert a.requires_grad


def test_no_requires_grad_inplace(lib):
    a = lib.randn(2, 3)
    a.add_(5)
    a.requires_grad = True
    a.sum().backward()
    same(a.grad, np.ones((2, 3), dtype=np.float32))

    a = lib.randn(2, 3)
    b = a[:]
    b.add_(5)
    a.requires_grad = True
    a.sum().backward()
    same(a.grad, np.ones((2, 3), dtype=np.float32))

    a = lib.randn(2, 3)
    b = a[:]
    a.requires_grad = True
    with pytest.raises(RuntimeError):
        a.add_(5)
    with pytest.raises(RuntimeError):
        b.add_(5)


def test_attribute_deletion(lib):
    x = lib.randn((5, 5), requires_grad=True)
    del x.grad
    assert x.grad is None
    with pytest.raises(RuntimeError):
        del x.data
    with pytest.raises(TypeError):
        x.data = None
    with pytest.raises(RuntimeError):
        del x.requires_grad


def test_grad_assignment_checks(lib):
    x = lib.randn(5, 5, requires_grad=True)
    with pytest.raises(RuntimeError, match="attempting to assign a gradient of size"):
        x.grad = lib.randn(2, 2)
    with pytest.raises(RuntimeError, match="attempting to assign a gradient with dtype"):
        x.grad = lib.randn(5, 5, dtype=lib.float64)
    with pytest.raises(TypeError):
        x.grad = 1.0
    x.grad = lib.ones(5, 5)
    x.grad = None
    assert x.grad is None


# ================================================================ backward: roots, twice
def test_duplicate_backward_root(lib):
    a = f64(lib, 5, 5)
    b = f64(lib, 5, 5)
    x = a * b
    grad_output = lib.randn_like(x)
    lib.autograd.backward([x, x], [grad_output, grad_output])
    close(a.grad, npy(b) * npy(grad_output) * 2)
    close(b.grad, npy(a) * npy(grad_output) * 2)


def test_backward_no_grad(lib):
    a = lib.randn(5, 5, requires_grad=True)
    b = a + 2
    with pytest.raises(RuntimeError):
        lib.autograd.backward([b], [None])


def test_backward_twice_with_saved_values(lib):
    b = lib.randn(3, requires_grad=True, dtype=lib.float64)
    c = lib.zeros(3, dtype=lib.float64)
    c[[1, 2]] = b[[1, 1]]
    c.backward(lib.tensor([1, 1, 1], dtype=lib.float64))
    with pytest.raises(RuntimeError, match="Specify retain_graph=True"):
        c.backward(lib.tensor([1, 1, 1], dtype=lib.float64))


def test_backward_twice_with_saved_values_mul(lib):
    b = lib.randn(3, requires_grad=True, dtype=lib.float64)
    c = b * b
    c.backward(lib.ones(3, dtype=lib.float64))
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        c.backward(lib.ones(3, dtype=lib.float64))


def test_backward_twice_retained_graph_with_saved_values(lib):
    b = lib.randn(3, requires_grad=True, dtype=lib.float64)
    c = lib.zeros(3, dtype=lib.float64)
    c[[1, 2]] = b[[1, 1]]
    c.backward(lib.tensor([1, 1, 1], dtype=lib.float64), retain_graph=True)
    c.backward(lib.tensor([1, 1, 1], dtype=lib.float64))


def test_backward_twice_without_saved_values(lib):
    b = lib.randn(3, requires_grad=True, dtype=lib.float64)
    c = b + 1
    c.backward(lib.tensor([1, 1, 1], dtype=lib.float64))
    c.backward(lib.tensor([1, 1, 1], dtype=lib.float64))
    same(b.grad, [2.0, 2.0, 2.0])


def test_backward_twice_retained_graph_without_saved_values(lib):
    b = lib.randn(3, requires_grad=True, dtype=lib.float64)
    c = b * 3
    c.backward(lib.ones(3, dtype=lib.float64), retain_graph=True)
    c.backward(lib.ones(3, dtype=lib.float64))
    same(b.grad, [6.0, 6.0, 6.0])


def test_backward_create_graph_warns(lib):
    prev = lib.is_warn_always_enabled()
    lib.set_warn_always(True)
    try:
        b = lib.randn(3, requires_grad=True, dtype=lib.float64)
        c = b * b
        with warnings.catch_warnings(record=True) as ws:
            warnings.simplefilter("always")
            c.backward(lib.ones_like(c), create_graph=True)
        b.grad = None
        assert any("Using backward() with create_graph=True" in str(w.message) for w in ws)
        with warnings.catch_warnings(record=True) as ws:
            warnings.simplefilter("always")
            lib.autograd.grad(c, b, lib.ones_like(c), create_graph=True)
        assert not any("Using backward() with create_graph=True" in str(w.message) for w in ws)
    finally:
        lib.set_warn_always(prev)


def test_next_functions(lib):
    x = lib.randn(5, 5, requires_grad=True)
    y = lib.randn(5, 5, requires_grad=True)
    a = x + y
    assert a.grad_fn is not None
    nf = a.grad_fn.next_functions
    assert len(nf) == 2
    assert type(nf[0][0]).__name__ == "AccumulateGrad"
    assert nf[0][1] == 0
    assert type(nf[1][0]).__name__ == "AccumulateGrad"
    assert nf[1][1] == 0
    assert nf[0][0].variable is x and nf[1][0].variable is y
    b = a + 5
    nf = b.grad_fn.next_functions
    assert len(nf) == 2
    assert nf[0][0] is a.grad_fn
    assert nf[1][0] is None


def test_next_functions_tensor_without_grad(lib):
    x = lib.randn(3, requires_grad=True)
    c = lib.randn(3)
    y = x * c
    nf = y.grad_fn.next_functions
    assert len(nf) == 2
    assert nf[1] == (None, 0)


def test_accumulate_grad_node_identity(lib):
    x = lib.randn(3, requires_grad=True)
    a = x * 2
    b = x * 3
    assert a.grad_fn.next_functions[0][0] is b.grad_fn.next_functions[0][0]
    assert node_name(a.grad_fn.next_functions[0][0]) == "AccumulateGrad"


# ===================================================================== in-place & versions
def test_inplace(lib):
    x = lib.ones(5, 5, requires_grad=True)
    y = (lib.ones(5, 5) * 4).requires_grad_(True)
    z = x * y
    q = z + y
    w = z * y
    z.add_(2)
    q.backward(lib.ones(5, 5), retain_graph=True)
    with pytest.raises(RuntimeError):
        w.backward(lib.ones(5, 5))

    z = x * y
    q = z * y
    r = z + y
    w = z.add_(y)
    w.backward(lib.ones(5, 5), retain_graph=True)
    r.backward(lib.ones(5, 5), retain_graph=True)
    with pytest.raises(RuntimeError):
        q.backward(lib.ones(5, 5))

    with lib.no_grad():
        x.grad.zero_()
    m = x / 2
    z = m + y / 8
    q = z * y
    r = z + y
    prev_version = z._version
    w = z.exp_()
    assert z._version != prev_version
    r.backward(lib.ones(5, 5), retain_graph=True)
    close(x.grad, np.full((5, 5), 0.5))
    w.backward(lib.ones(5, 5), retain_graph=True)
    close(x.grad, np.full((5, 5), (1 + math.e) / 2))
    with pytest.raises(RuntimeError):
        q.backward(lib.ones(5, 5))

    leaf = lib.ones(5, 5, requires_grad=True)
    x = leaf.clone()
    x.add_(10)
    same(x, np.full((5, 5), 11.0, dtype=np.float32))
    y = x + 2
    y.backward(lib.ones(5, 5))
    same(leaf.grad, np.ones((5, 5), dtype=np.float32))
    z = x * y
    x.add_(2)
    with pytest.raises(RuntimeError):
        z.backward(lib.ones(5, 5))


def test_inplace_error_message(lib):
    a = lib.randn(3, requires_grad=True)
    b = a * 1
    c = b * b
    b.add_(1)
    with pytest.raises(
        RuntimeError,
        match=r"one of the variables needed for gradient computation has been modified by an inplace operation"
        r": \[(torch|ember)\.FloatTensor \[3\]\], which is output 0 of \w+, is at version 1; expected version 0"
        r" instead",
    ):
        c.sum().backward()


def test_version_counter_basics(lib):
    x = lib.zeros(3)
    assert x._version == 0
    x.add_(1)
    assert x._version == 1
    x.mul_(2)
    assert x._version == 2
    v = x.view(3)
    v.add_(1)
    assert x._version == 3 and v._version == 3
    x[0] = 5
    assert x._version == 4
    d = x.detach()
    d.add_(1)
    assert x._version == 5
    y = x.clone()
    assert y._version == 0


# ======================================================================= mark_* on ctx
def test_mark_non_differentiable(lib):
    class MyFunction(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            output = input > 0
            ctx.mark_non_differentiable(output)
            return output

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * 0

    x = lib.randn(5, 5, requires_grad=True)
    mask = MyFunction.apply(x)
    assert not mask.requires_grad
    y = x.masked_fill(mask, 0)
    y.sum().backward()
    same(x.grad, (npy(x) <= 0).astype(np.float32))


def test_mark_non_differentiable_mixed(lib):
    seen = []

    class MyFunction(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            a = input + 1
            b = input + 2
            ctx.mark_non_differentiable(a)
            return a, b

        @staticmethod
        def backward(ctx, grad_a, grad_b):
            seen.append((npy(grad_a).copy(), npy(grad_b).copy()))
            return grad_b

    x = lib.randn(5, 5, requires_grad=True)
    a, b = MyFunction.apply(x)
    assert not a.requires_grad
    assert b.requires_grad
    b.sum().backward()
    same(x.grad, np.ones((5, 5), dtype=np.float32))
    assert (seen[0][0] == 0).all() and (seen[0][1] == 1).all()


def test_mark_non_differentiable_none(lib):
    class MyFunction(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            output = input.clone()
            ctx.mark_non_differentiable(output)
            return output

        @staticmethod
        def backward(ctx, grad_output):
            return None

    x = lib.randn(5, 5, requires_grad=True)
    r = MyFunction.apply(x * x)
    (r * x).sum().backward()
    close(x.grad, npy(x) ** 2)


def test_return_duplicate(lib):
    class DoubleDuplicate(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            output = x * 2
            return output, output

        @staticmethod
        def backward(ctx, grad1, grad2):
            return grad1 * 2 + grad2 * 2

    def fn(x):
        a, b = DoubleDuplicate.apply(x)
        assert a is b
        return a + b

    x = f64(lib, 5, 5)
    assert lib.autograd.gradcheck(fn, [x])
    assert lib.autograd.gradgradcheck(fn, [x])


def test_return_duplicate_inplace(lib):
    class DoubleInplace(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x, x

        @staticmethod
        def backward(ctx, grad1, grad2):
            return grad1 * 2 + grad2 * 2

    def inplace_fn(x):
        a, b = DoubleInplace.apply(x.clone())
        assert a is b
        return a + b

    x = f64(lib, 5, 5)
    assert lib.autograd.gradcheck(inplace_fn, [x])
    assert lib.autograd.gradgradcheck(inplace_fn, [x])
    with pytest.raises(RuntimeError):
        DoubleInplace.apply(x)


def test_mark_dirty_returns_input_object(lib):
    class Inplace(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.mark_dirty(a)
            return a.add_(b), b + 2

        @staticmethod
        def backward(ctx, grad_a, grad_b):
            return grad_a, grad_a + grad_b

    x = lib.randn(5, 5)
    y = lib.randn(5, 5, requires_grad=True)
    q, p = Inplace.apply(x, y)
    assert q is x
    assert q.requires_grad
    assert q.grad_fn.name() == "InplaceBackward"
    q.sum().backward()
    same(y.grad, np.ones((5, 5), dtype=np.float32))


def test_mark_dirty_leaf_raises(lib):
    class Inplace(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.mark_dirty(a)
            return a.mul_(2)

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = lib.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        Inplace.apply(x)


def test_mark_dirty_bumps_version_and_checks_saved(lib):
    class Inplace(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.mark_dirty(a)
            return a.mul_(2)

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = lib.randn(3, requires_grad=True)
    y = x.clone()
    z = y * y
    v = y._version
    Inplace.apply(y)
    assert y._version > v
    assert y.grad_fn.name() == "InplaceBackward"
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


# ================================================================================ setitem
def _setitem(lib, size, index, np_index=None):
    np_index = _np_index(index) if np_index is None else np_index
    x = lib.ones(*size, requires_grad=True)
    y = x + 2
    v = y._version
    y[index] = 2
    assert y._version != v
    y.backward(lib.ones(*size))
    expected = np.ones(size, dtype=np.float32)
    expected[np_index] = 0
    same(x.grad, expected)


def _setitem_tensor(lib, size, index, np_index=None):
    np_index = _np_index(index) if np_index is None else np_index
    x = lib.ones(*size, requires_grad=True)
    y = x + 2
    v = y._version
    value = lib.zeros(tuple(x[index].shape)).fill_(7)
    value.requires_grad = True
    y[index] = value
    assert y._version != v
    y.backward(lib.ones(*size))
    expected = np.ones(size, dtype=np.float32)
    expected[np_index] = 0
    same(x.grad, expected)
    same(value.grad, np.ones(tuple(value.shape), dtype=np.float32))


def test_setitem_basic(lib):
    _setitem(lib, (5, 5), 1)
    _setitem(lib, (5,), 1)
    _setitem(lib, (1,), 0)
    _setitem_tensor(lib, (5, 5), 3)
    _setitem_tensor(lib, (5,), 3)
    x = lib.randn(4, requires_grad=True)
    y = lib.zeros(2, 3, 4)
    y[1] = x
    y.backward(lib.randn(2, 3, 4))
    assert tuple(x.grad.shape) == tuple(x.shape)


def test_setitem_advanced(lib):
    _setitem(lib, (10,), [0, 4, 2])
    _setitem(lib, (5, 5), ([0, 4], [2, 2]))
    _setitem(lib, (5, 5, 5), (slice(None), slice(None), [1, 3]))
    _setitem(lib, (5, 5, 5), (slice(None), [1, 3], slice(None)))
    _setitem(lib, (5, 5, 5), ([1, 3], slice(None), slice(None)))
    _setitem(lib, (5, 5, 5), (slice(None), [2, 4], [1, 3]))
    _setitem(lib, (5, 5, 5), ([1, 3], [2, 4], slice(None)))
    _setitem_tensor(lib, (5, 5), ([0, 1], [1, 0]))
    _setitem_tensor(lib, (5,), lib.tensor([3]).sum(), 3)
    _setitem_tensor(lib, (5,), [[0, 1, 2, 3]], np.array([[0, 1, 2, 3]]))
    _setitem_tensor(lib, (5, 5, 5), (slice(None), slice(None), [1, 3]))
    _setitem_tensor(lib, (5, 5, 5), (slice(None), [1, 3], slice(None)))
    _setitem_tensor(lib, (5, 5, 5), ([1, 3], slice(None), slice(None)))
    _setitem_tensor(lib, (5, 5, 5), (slice(None), [2, 4], [1, 3]))
    _setitem_tensor(lib, (5, 5, 5), ([1, 3], [2, 4], slice(None)))
    _setitem_tensor(lib, (5, 5, 5), (lib.tensor([1, 3]), [2, 4], slice(None)))


def test_setitem_mask(lib):
    rng = np.random.default_rng(0)
    m = rng.random((5, 5)) > 0.5
    mask = lib.tensor(m.tolist())
    _setitem(lib, (5, 5), mask)
    _setitem(lib, (5,), mask[0])
    _setitem(lib, (1,), mask[0, 0:1])
    _setitem_tensor(lib, (5, 5), mask)
    _setitem_tensor(lib, (5,), mask[0])


def test_select_sum(lib):
    x = f64(lib, 10)

    def func(x):
        return x.select(0, 1).sum()

    assert lib.autograd.gradcheck(func, [x])
    assert lib.autograd.gradgradcheck(func, [x])


def test_diagonal_expanded_v(lib):
    value = lib.rand([])
    v_expanded = value.clone().expand(10)
    a = r64(lib, 10, 10)
    (result,) = lib.autograd.grad(a.diagonal(), a, v_expanded.double())
    close(result, np.eye(10) * value.item())


def test_select_expanded_v(lib):
    v_expanded = lib.rand(10).expand(10, 10)
    a = lib.rand(10, 10, 10, requires_grad=True)
    (result,) = lib.autograd.grad(a[0], a, v_expanded)
    expected = np.zeros((10, 10, 10), dtype=np.float32)
    expected[0] = npy(v_expanded)
    same(result, expected)


def test_slice_expanded_v(lib):
    v_expanded = lib.rand(10, 1).expand(2, 10, 10)
    a = lib.rand(10, 10, 10, requires_grad=True)
    (result,) = lib.autograd.grad(a[3:5], a, v_expanded)
    expected = np.zeros((10, 10, 10), dtype=np.float32)
    expected[3:5] = npy(v_expanded)
    same(result, expected)


def test_unused_output(lib):
    x = lib.randn(10, 10, requires_grad=True)
    outputs = x.chunk(5)
    o = outputs[2]
    o = o * 4 + 2
    o.sum().backward()
    expected = np.zeros((10, 10), dtype=np.float32)
    expected[4:6] = 4
    same(x.grad, expected)
    with lib.no_grad():
        x.grad.zero_()
    grad_output = lib.randn(2, 10)
    outputs = x.chunk(5)
    outputs[0].backward(grad_output)
    expected = np.zeros((10, 10), dtype=np.float32)
    expected[:2] = npy(grad_output)
    same(x.grad, expected)


def test_gather_backward(lib):
    x = lib.randn(10, 10, requires_grad=True)
    ind = lib.randint(10, (5, 10))
    out = lib.gather(x, 0, ind)
    grad = lib.rand_like(out)
    out.backward(grad)
    expected = np.zeros((10, 10), dtype=np.float32)
    np.add.at(expected, (npy(ind), np.arange(10)[None, :].repeat(5, 0)), npy(grad))
    close(x.grad, expected)


# ============================================================================= grad_dtype
def test_grad_dtype(lib):
    leaf = lib.tensor([1.0, 2.0], requires_grad=True)
    assert leaf.grad_dtype == lib.float32
    leaf.grad_dtype = lib.float64
    assert leaf.grad_dtype == lib.float64
    leaf.grad_dtype = None
    assert leaf.grad_dtype is None
    non_leaf = leaf * 2
    with pytest.raises(RuntimeError, match="grad_dtype can only be accessed on leaf tensors"):
        _ = non_leaf.grad_dtype
    with pytest.raises(RuntimeError, match="grad_dtype can only be set on leaf tensors"):
        non_leaf.grad_dtype = lib.float64


def test_grad_dtype_cast_of_incoming_gradient(lib):
    class Mismatched(lib.autograd.Function):
        @staticmethod
        def forward(ctx, inp):
            return inp * 2

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output.to(lib.float64)

    d = lib.tensor([1.0, 2.0], requires_grad=True)
    Mismatched.apply(d).sum().backward()
    assert d.grad.dtype == lib.float32
    same(d.grad, [1.0, 1.0])
    e = lib.tensor([3.0, 4.0], requires_grad=True)
    e.grad_dtype = None
    Mismatched.apply(e).sum().backward()
    assert e.grad.dtype == lib.float64


# =========================================================== custom Function edge cases
def test_naughty_autograd_function_attribute_access(lib):
    class Id(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad_x):
            return grad_x

    with pytest.warns(DeprecationWarning, match="should not be instantiated"):
        f = Id()
    assert isinstance(f, Id)
    x = lib.zeros(1, requires_grad=True)
    with pytest.raises(RuntimeError, match="non-static forward method is deprecated"):
        f(x)
    t = Id.apply(x)
    assert t.grad_fn.name() == "IdBackward"


def test_custom_autograd_repeated_grad_grad(lib):
    def mult1(x):
        return x.prod(dim=-1).prod(dim=-1)

    class Mult(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = mult1(x)
            ctx.save_for_backward(x, y)
            return y

        @staticmethod
        def backward(ctx, grad_output):
            x, y = ctx.saved_tensors
            return (grad_output * y)[:, None, None] / x

    def check(x, y):
        (gy,) = lib.autograd.grad(y[0], x, create_graph=True)
        (ggy_1,) = lib.autograd.grad(gy[0, 0, 0], x, retain_graph=True)
        (gy,) = lib.autograd.grad(y[0], x, create_graph=True)
        (ggy_2,) = lib.autograd.grad(gy[0, 0, 0], x, retain_graph=True)
        close(ggy_1[0, 0, 1], ggy_2[0, 0, 1])

    x = lib.ones(2, 4, 4).requires_grad_()
    check(x, mult1(x))
    check(x, Mult.apply(x))


def test_custom_autograd_no_early_free(lib):
    class Double(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x**2
            ctx.save_for_backward(x, y)
            return y

        @staticmethod
        def backward(ctx, grad_output):
            x, _ = ctx.saved_tensors
            return grad_output * 2 * x

    class Double2(Double):
        @staticmethod
        def backward(ctx, grad_output):
            x, y = ctx.saved_tensors
            return grad_output * 2 * y / x

    x = lib.tensor(2).double().requires_grad_()
    for fn in (Double.apply, Double2.apply):
        assert lib.autograd.gradcheck(fn, x)
        assert lib.autograd.gradgradcheck(fn, x)
        y = fn(x)
        lib.autograd.grad(y, x, create_graph=True)
        lib.autograd.grad(y, x)


def test_custom_autograd_ac_early_stop(lib):
    refs = []

    class Test(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.clone()
            ctx.save_for_backward(y)
            refs.append(weakref.ref(y))
            return y

        @staticmethod
        def backward(ctx, *args):
            _ = ctx.saved_tensors
            return None

    inp = lib.randn(5, 5, requires_grad=True)

    def scope():
        out = lib.utils.checkpoint.checkpoint(Test.apply, inp, use_reentrant=False)
        out.sum().backward()

    gc.disable()
    try:
        scope()
        for ref in refs:
            assert ref() is None
    finally:
        gc.enable()


# ================================================================================= detach
def test_detach(lib):
    x = lib.randn(10, 10, requires_grad=True)
    y = (x + 2).detach()
    z = y * 4 + 2
    assert not y.requires_grad
    assert not z.requires_grad

    x = lib.randn(10, 10, requires_grad=True)
    y = (x * 2).detach()
    assert not y.requires_grad
    assert y.grad_fn is None
    z = x + y
    z.sum().backward()
    same(x.grad, np.ones((10, 10), dtype=np.float32))

    x = lib.randn(10, 10, requires_grad=True)
    y = lib.randn(10, 10, requires_grad=True)
    a = x * 2
    (y + a).sum().backward(retain_graph=True)
    a.detach_()
    assert not a.requires_grad
    (y + a).sum().backward()
    same(x.grad, np.full((10, 10), 2.0, dtype=np.float32))
    same(y.grad, np.full((10, 10), 2.0, dtype=np.float32))

    view = x.narrow(0, 1, 4)
    with pytest.raises(RuntimeError, match="view"):
        view.detach_()


def test_detach_base(lib):
    x = lib.randn(10, 10, requires_grad=True)
    view = x.narrow(0, 1, 4)
    x.detach_()
    assert not x.requires_grad
    assert view.requires_grad
    assert view.grad_fn is not None
    assert view._base is x


def test_detach_shares_storage(lib):
    x = lib.randn(3, requires_grad=True)
    d = x.detach()
    d.zero_()
    same(x, [0.0, 0.0, 0.0])
    assert d.data_ptr() == x.data_ptr()


def test_detach_then_inplace_raises_in_autograd(lib):
    x = lib.randn([], requires_grad=True)
    y = x**2
    z = x.detach()
    z.zero_()
    with pytest.raises(RuntimeError, match="has been modified by an inplace"):
        y.backward()


def test_data_is_detached_and_unversioned(lib):
    x = lib.randn(3, requires_grad=True)
    y = x * x
    d = x.data
    assert not d.requires_grad and d.is_leaf
    d.add_(1)  # .data changes are invisible to autograd's version checks
    y.sum().backward()
    close(x.grad, 2 * npy(x))


def test_type_conversion_backward(lib):
    fvar = lib.randn(5, 5).float().requires_grad_(True)
    fvar.double().sum().backward()
    same(fvar.grad, np.ones((5, 5), dtype=np.float32))
    assert fvar.grad.dtype == lib.float32
    dvar = lib.randn(5, 5).double().requires_grad_(True)
    dvar.float().sum().backward()
    same(dvar.grad, np.ones((5, 5)))
    assert dvar.grad.dtype == lib.float64


def test_type_conversions(lib):
    x = lib.randn(5, 5)
    assert x.float().dtype == lib.float32
    assert x.int().dtype == lib.int32
    assert x.double().dtype == lib.float64
    assert x.long().dtype == lib.int64
    y = lib.randint(5, (5, 5), dtype=lib.int32)
    assert x.type_as(y).dtype == lib.int32
    assert x.type(lib.float64).dtype == lib.float64
    assert x.to(lib.float64).dtype == lib.float64


def test_isolated_node(lib):
    x = lib.randn(5, 5, requires_grad=True)
    y = lib.randn(5, 5, requires_grad=True)
    a = x + y
    b = lib.max(a, 1, True)[1].repeat(1, 5).double()
    o = (b + a).sum()
    o.backward()
    same(x.grad, np.ones((5, 5), dtype=np.float32))


def test_shape(lib):
    x = lib.randn(3, 4)
    assert len(x.shape) == 2
    assert x.shape[0] == 3
    assert x.shape[1] == 4


def test_numpy_requires_grad(lib):
    x = lib.randn(2, 2, requires_grad=True)
    msg = r"Can't call numpy\(\) on Tensor that requires grad. Use tensor.detach\(\).numpy\(\) instead."
    with pytest.raises(RuntimeError, match=msg):
        x.numpy()
    with lib.no_grad():
        x.numpy()
    x = lib.randn(2, 2)
    x.numpy()
    with lib.no_grad():
        x.numpy()


def test_return_leaf(lib):
    class Identity(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a, a + b

        @staticmethod
        def backward(ctx, grad_a, grad_b):
            return grad_a + grad_b, grad_b

    hook_called = [False]
    x = lib.randn(5, 5, requires_grad=True)
    y = lib.randn(5, 5, requires_grad=True)
    q, p = Identity.apply(x, y)

    def hook(grad):
        hook_called[0] = True
        same(grad, np.ones((5, 5), dtype=np.float32))

    q.register_hook(hook)
    (q + p + x).sum().backward()
    same(x.grad, np.full((5, 5), 3.0, dtype=np.float32))
    same(y.grad, np.ones((5, 5), dtype=np.float32))
    assert hook_called[0]


def test_leaf_assignment(lib):
    x = lib.randn(5, 5)
    y = lib.randn(5, requires_grad=True)
    z = lib.randn(5, requires_grad=True)
    x[0] = y
    x[1] = 2 * z
    assert x.requires_grad
    assert x.grad_fn is not None
    x.sum().backward()
    same(y.grad, np.ones(5, dtype=np.float32))
    same(z.grad, np.full(5, 2.0, dtype=np.float32))


def test_no_grad_assignment(lib):
    x = lib.randn(5, 5, requires_grad=True)
    y = lib.randn(5)
    with lib.no_grad():
        x[0] = y
    assert x.requires_grad
    assert x.grad_fn is None


def test_no_grad_modifies_version(lib):
    x = lib.randn(5, requires_grad=True)
    y = lib.randn(5, requires_grad=True)
    z = (x * y).sum()
    with lib.no_grad():
        x *= 2
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward()


def test_increment_version(lib):
    a = lib.rand(5, requires_grad=True)
    v = a._version
    lib.autograd.graph.increment_version(a)
    assert a._version == v + 1
    a = lib.zeros(5, dtype=lib.int32)
    v = a._version
    lib.autograd.graph.increment_version(a)
    assert a._version == v + 1
    with lib.inference_mode():
        a = lib.rand(5, requires_grad=True)
        lib.autograd.graph.increment_version(a)
    lib.autograd.graph.increment_version(a)


def test_no_grad_input(lib):
    class MyFunction(lib.autograd.Function):
        @staticmethod
        def forward(self, x):
            return x

        @staticmethod
        def backward(self, grad_output):
            return grad_output

    x = lib.randn(5, requires_grad=True)
    with lib.no_grad():
        y = MyFunction.apply(x)
    assert x.requires_grad
    assert y.grad_fn is None


def test_backward_copy(lib):
    x = lib.ones(5, 5, requires_grad=True)
    y = lib.ones(5, 5, requires_grad=True)
    a = x + 2
    b = y + 2
    c = x + 2
    add1 = a + b
    add2 = add1 + c
    for _ in range(4):
        a = a * 2
        b = b * 2
        c = c * 2
    branch = a + b + c
    out = add2 + branch
    out.backward(lib.ones(5, 5))
    same(x.grad, np.full((5, 5), 34.0, dtype=np.float32))
    same(y.grad, np.full((5, 5), 17.0, dtype=np.float32))


def test_save_none_for_backward(lib):
    seen = []

    class MyFn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(None, input, None)
            return input * input

        @staticmethod
        def backward(ctx, grad_output):
            n1, input, n2 = ctx.saved_tensors
            seen.append((n1, n2))
            return 2 * input * grad_output

    x = lib.randn(5, 5, requires_grad=True)
    MyFn.apply(x).sum().backward()
    close(x.grad, 2 * npy(x))
    assert seen == [(None, None)]


def test_too_many_grads(lib):
    class MyFn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            return input

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output, None, None

    x = lib.randn(5, 5, requires_grad=True)
    MyFn.apply(x).sum().backward()
    same(x.grad, np.ones((5, 5), dtype=np.float32))


def test_too_many_non_none_grads_raises(lib):
    class MyFn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            return input.clone()

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output, grad_output

    x = lib.randn(5, requires_grad=True)
    with pytest.raises(RuntimeError, match="function MyFnBackward returned an incorrect number of gradients"):
        MyFn.apply(x).sum().backward()


def test_too_few_grads_raises(lib):
    class MyFn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output

    x = lib.randn(5, requires_grad=True)
    y = lib.randn(5, requires_grad=True)
    with pytest.raises(RuntimeError, match="function MyFnBackward returned an incorrect number of gradients"):
        MyFn.apply(x, y).sum().backward()


def test_pickle(lib):
    x = lib.randn(10, 10, requires_grad=True)
    y = lib.randn(10, 10, requires_grad=False)
    for proto in range(3):
        xc, yc = pickle.loads(pickle.dumps([x, y], protocol=proto))
        same(xc, x)
        assert xc.requires_grad == x.requires_grad
        same(yc, y)
        assert yc.requires_grad == y.requires_grad


def test_dep_nograd(lib):
    class F1(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            out = lib.randn(tuple(input.shape))
            ctx.mark_non_differentiable(out)
            return input, out

        @staticmethod
        def backward(ctx, grad_output, ignored):
            return grad_output

    class F2(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input, ignored):
            return input

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output, None

    x = lib.randn(5, requires_grad=True)
    a, b = F1.apply(x)
    b = b + 1
    assert a.requires_grad
    assert not b.requires_grad
    c = F2.apply(a, b)
    c.backward(lib.ones(tuple(c.shape)))
    same(x.grad, np.ones(5, dtype=np.float32))


def test_set_grad_enabled(lib):
    x = lib.tensor([1.0], requires_grad=True)
    with lib.set_grad_enabled(False):
        y = x * 2
    assert not y.requires_grad
    with lib.set_grad_enabled(True):
        y = x * 2
    assert y.requires_grad
    with lib.set_grad_enabled(False):
        lib.set_grad_enabled(True)
        y = x * 2
    assert y.requires_grad


def test_set_grad_enabled_wraps(lib):
    for decorator in [True, False]:
        with lib.enable_grad():
            assert lib.is_grad_enabled()
            if decorator:

                @lib.set_grad_enabled(False)
                def inner_func(x):
                    return x.sin()

            else:

                def inner_func(x):
                    return x.sin()

                obj = lib.set_grad_enabled(False)
                assert not lib.is_grad_enabled()
                inner_func = obj(inner_func)
                assert lib.is_grad_enabled()
            assert lib.is_grad_enabled()
            x = lib.zeros(1, requires_grad=True)
            assert not inner_func(x).requires_grad


def test_simple_reentrant(lib):
    y_data = lib.randn(2, 2)

    class Reenter(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            with lib.enable_grad():
                ctx.x = x.detach().requires_grad_(True)
                ctx.y = y_data.clone().requires_grad_(True)
                ctx.output_var = ctx.x * ctx.y
            return ctx.output_var.detach()

        @staticmethod
        def backward(ctx, grad_output):
            with lib.enable_grad():
                ctx.output_var.sum().backward()
            return ctx.x.grad * grad_output

    x = lib.randn(2, 2, requires_grad=True)
    out = Reenter.apply(x)
    out.sum().backward()
    close(x.grad, y_data)


def test_reentrant_child_error(lib):
    class SimulateBackwardError(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            return input.clone()

        @staticmethod
        @lib.autograd.function.once_differentiable
        def backward(ctx, input):
            raise Exception("Simulate error on backward pass")

    a = lib.rand(3, 3, requires_grad=True)
    c = a * a
    b = lib.rand(3, 3, requires_grad=True)
    e = b * b
    f = SimulateBackwardError.apply(e)
    reentrant_root = f.sum()

    class ReentrantFunc(lib.autograd.Function):
        @staticmethod
        def forward(ctx, inp):
            return inp.clone()

        @staticmethod
        def backward(ctx, grad):
            reentrant_root.backward()
            return grad

    d = ReentrantFunc.apply(c)
    with pytest.raises(Exception, match="Simulate error"):
        d.sum().backward()


def test_var_mean_differentiable(lib):
    dim = [2, 4]
    input1 = lib.randn(3, 4, 5, 6, 2, 3, requires_grad=True)
    input2 = deepcopy(input1)
    var1, mean1 = lib.var_mean(input1, dim=dim, keepdim=False)
    var2 = input2.var(dim=dim, keepdim=False)
    mean2 = input2.mean(dim=dim, keepdim=False)
    grad = lib.randn(3, 4, 6, 3, requires_grad=True)
    r1 = var1 * var1 * mean1 * mean1
    r2 = var2 * var2 * mean2 * mean2
    close(r1, r2, rtol=0.01, atol=1e-6)
    lib.autograd.backward(r1, grad)
    lib.autograd.backward(r2, grad)
    close(input1.grad, input2.grad, rtol=0.01, atol=1e-5)


def test_variable_traverse(lib):
    def get_out_and_unrefed_cycle():
        inp = lib.randn(10, requires_grad=True)
        tmp = inp.view(10, 1)
        out = tmp.view(10)
        my_list = [tmp]
        my_list.append(my_list)
        return out

    out = get_out_and_unrefed_cycle()
    gc.collect()
    out.backward(lib.randn(tuple(out.shape)))


def test_pow_zero_tensor_gradient(lib):
    def run_test(input_size, exponent):
        input = lib.zeros(*input_size, requires_grad=True)
        input.pow(exponent).sum().backward()
        assert input.grad.abs().sum().item() == 0

    run_test((10,), lib.zeros(10))
    run_test((10, 10), lib.zeros(10, 10))
    run_test((10,), 0)


def test_backward_hook_relative_ordering(lib):
    order = []

    class MyModule(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = lib.nn.Linear(10, 10)

        def forward(self, x):
            return self.linear(x)

    x = lib.randn(10, 10, requires_grad=True)
    module = MyModule()
    module.register_full_backward_hook(
        lambda _1, _2, _3: order.append("module_full_backward_hook_BackwardHookFunctionBackward0")
    )
    count = 0

    def register_hooks_on_all_nodes(nodes):
        nonlocal count
        for node, _ in nodes:
            count += 1
            id = f"{node.name()}_{count}"
            node.register_prehook(lambda _, id=id: order.append(f"pre_hook_{id}"))
            node.register_hook(lambda _1, _2, id=id: order.append(f"post_hook_{id}"))
            register_hooks_on_all_nodes(node.next_functions)

    loss = module(x).sum()
    register_hooks_on_all_nodes(((loss.grad_fn, None),))
    for name, t in (("x", x), ("weight", module.linear.weight), ("bias", module.linear.bias)):
        t.register_hook(lambda _, name=name: order.append(f"tensor_pre_hook_{name}"))
        t.register_post_accumulate_grad_hook(lambda _, name=name: order.append(f"post_acc_grad_hook_{name}"))
    loss.backward()
    assert order == [
        "pre_hook_SumBackward0_1",
        "post_hook_SumBackward0_1",
        "pre_hook_BackwardHookFunctionBackward_2",
        "post_hook_BackwardHookFunctionBackward_2",
        "pre_hook_AddmmBackward0_3",
        "post_hook_AddmmBackward0_3",
        "tensor_pre_hook_bias",
        "pre_hook_torch::autograd::AccumulateGrad_4",
        "post_acc_grad_hook_bias",
        "post_hook_torch::autograd::AccumulateGrad_4",
        "pre_hook_TBackward0_7",
        "post_hook_TBackward0_7",
        "tensor_pre_hook_weight",
        "pre_hook_torch::autograd::AccumulateGrad_8",
        "post_acc_grad_hook_weight",
        "post_hook_torch::autograd::AccumulateGrad_8",
        "pre_hook_BackwardHookFunctionBackward_5",
        "module_full_backward_hook_BackwardHookFunctionBackward0",
        "post_hook_BackwardHookFunctionBackward_5",
        "tensor_pre_hook_x",
        "pre_hook_torch::autograd::AccumulateGrad_6",
        "post_acc_grad_hook_x",
        "post_hook_torch::autograd::AccumulateGrad_6",
    ]


def test_dir(lib):
    x = lib.randn(10, 10)
    keys = [k for k in dir(x) if k not in ("imag", "real")]
    assert "shape" in keys
    missing = [k for k in keys if not hasattr(x, k)]
    assert missing == []


# ========================================================================= in-place on views
def test_inplace_on_view_saved_output(lib):
    dealloc = [0]

    class IncrementOnDelete:
        def __del__(self):
            dealloc[0] += 1

        def __call__(self, *args):
            return None

    def scope():
        root = lib.randn(3, 3, requires_grad=True)
        copy = root.clone()
        copy.grad_fn.register_hook(IncrementOnDelete())
        view = copy.view(9)
        lib.nn.functional.relu(view, inplace=True)

    scope()
    gc.collect()
    assert dealloc[0] == 1


def test_inplace_on_view_leaf_errors(lib):
    x = lib.zeros(1, requires_grad=True)
    y = x.view_as(x)
    with pytest.raises(
        RuntimeError, match="a view of a leaf Variable that requires grad is being used in an in-place operation."
    ):
        y.add_(1)


def test_inplace_on_view_backward(lib):
    net = lib.nn.Sequential(lib.nn.InstanceNorm2d(2), lib.nn.ReLU(True))
    x = lib.tensor([[[[1.0, 1.0]]]], requires_grad=True)
    (g,) = lib.autograd.grad(net(x).pow(2), [x], grad_outputs=x.new_ones(x.shape), create_graph=True)
    lib.autograd.grad(g.sum(), [x])
    same(x, [[[[1.0, 1.0]]]])

    inputs = lib.ones((1, 3, 16, 16), requires_grad=True)
    tmp1 = (inputs + 1).view_as(inputs)
    tmp2 = lib.nn.functional.threshold(tmp1, 0.0, 0.0, True)
    prob = lib.sigmoid(tmp2)
    gradients = lib.autograd.grad(
        outputs=prob, inputs=inputs, grad_outputs=lib.ones(tuple(prob.shape)), create_graph=True, retain_graph=True
    )[0]
    penalty = gradients.sum()
    penalty.backward()
    fn = penalty.grad_fn.next_functions[0][0].next_functions[1][0]
    assert fn.name() == "ThresholdBackwardBackward0"


def test_inplace_on_view_weak_grad_fn(lib):
    a = lib.arange(10.0, requires_grad=True)
    b = a.narrow(0, 0, 2).clone().view(-1)
    b.relu_()
    c = b.clone()
    del b
    gc.collect()
    s = c.sum()
    s.backward()
    assert s.item() == 1.0
    a = lib.rand(10, requires_grad=True).narrow(0, 0, 10)
    with pytest.raises(RuntimeError):
        a.relu_()


def test_out_variant_raises_when_inputs_require_grad(lib):
    a = lib.randn(2, 2, requires_grad=True)
    b = lib.randn(2, 2, requires_grad=True)
    x = lib.zeros_like(a)
    with pytest.raises(RuntimeError, match="out="):
        lib.mul(a, b, out=x)
    with lib.no_grad():
        lib.mul(a, b, out=x)
        close(x, npy(a) * npy(b))
    a = lib.randn(2, 2)
    b = lib.randn(2, 2)
    x = lib.zeros(2, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match="out="):
        lib.mul(a, b, out=x)


# ======================================================================== anomaly mode
def test_anomaly_detect_nan(lib):
    size = 10

    class MyFunc(lib.autograd.Function):
        @staticmethod
        def forward(ctx, inp1, inp2, fail_0th):
            ctx.fail_0th = fail_0th
            return inp1.sum(0, keepdim=True)

        @staticmethod
        def backward(ctx, gO):
            gI = gO.clone().expand(size).clone()
            gI[0] = 0
            gI[0] /= 0
            if ctx.fail_0th:
                return gI, None, None
            return None, gI, None

    inp = lib.rand(size, requires_grad=True)
    MyFunc.apply(inp, inp, True).backward()

    inp = lib.rand(size, requires_grad=True)
    out = MyFunc.apply(inp, inp, True)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        with pytest.raises(RuntimeError, match="Function 'MyFuncBackward' returned nan values in its 0th output."):
            with lib.autograd.detect_anomaly():
                out.backward()
    assert any("No forward pass information" in str(x.message) for x in w)

    inp = lib.rand(size, requires_grad=True)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        with pytest.raises(RuntimeError, match="Function 'MyFuncBackward' returned nan values in its 1th output."):
            with lib.autograd.detect_anomaly():
                out = MyFunc.apply(inp, inp, False)
                out.backward()
    assert any("MyFunc.apply" in str(x.message) for x in w)


def test_nested_anomaly_detect_nan(lib):
    size = 10

    class MyFunc2(lib.autograd.Function):
        @staticmethod
        def forward(ctx, inp1, inp2, fail_0th):
            ctx.fail_0th = fail_0th
            return inp1 * 2.0 + inp2

        @staticmethod
        def backward(ctx, gO):
            g1 = gO.clone()
            g2 = gO.clone()
            g1[0] = 0
            g2[0] = 0
            if ctx.fail_0th:
                g1[0] /= 0
            else:
                g2[0] /= 0
            return g1, g2, None

    class MyFunc(lib.autograd.Function):
        @staticmethod
        def forward(ctx, inp1, fail_0th):
            ctx.fail_0th = fail_0th
            ctx.save_for_backward(inp1)
            return inp1.sum(0, keepdim=True)

        @staticmethod
        def backward(ctx, gO):
            (inp,) = ctx.saved_tensors
            g = gO.clone().expand(size)
            return MyFunc2.apply(g * inp, g + inp, ctx.fail_0th), None

    inp = lib.rand(size, requires_grad=True)
    out = MyFunc.apply(inp, True)
    (ginp,) = lib.autograd.grad(out, (inp,), create_graph=True)
    ginp.sum().backward()

    inp = lib.rand(size, requires_grad=True)
    out = MyFunc.apply(inp, True)
    (ginp,) = lib.autograd.grad(out, (inp,), create_graph=True)
    gsum = ginp.sum()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        with pytest.raises(RuntimeError, match="Function 'MyFunc2Backward' returned nan values in its 0th output."):
            with lib.autograd.detect_anomaly():
                gsum.backward()
    assert any("No forward pass information" in str(x.message) for x in w)

    inp = lib.rand(size, requires_grad=True)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        with pytest.raises(RuntimeError, match="Function 'MyFunc2Backward' returned nan values in its 1th output."):
            with lib.autograd.detect_anomaly():
                out = MyFunc.apply(inp, False)
                (ginp,) = lib.autograd.grad(out, (inp,), create_graph=True)
                ginp.sum().backward()
    messages = [str(x.message) for x in w]
    assert any("MyFunc2.apply" in m for m in messages)
    assert any("MyFunc.apply" in m for m in messages)


def test_anomaly_grad_warnings(lib):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        with pytest.raises(
            RuntimeError, match="one of the variables needed for gradient computation has been modified by an inplace"
        ):
            with lib.autograd.detect_anomaly():
                a = lib.randn(5, requires_grad=True)
                d1 = a + 1
                d2 = d1**2
                d1 += 1
                lib.autograd.grad(d2.sum(), a)
    messages = [str(x.message) for x in w]
    assert len(messages) == 2
    assert "Anomaly Detection has been enabled" in messages[0]
    assert "Error detected in PowBackward0" in messages[1]


def test_anomaly_assign_parent_cleanup(lib):
    class Foo:
        pass

    def get_ref():
        x = lib.randn(2, 2, requires_grad=True)
        t = x.exp()
        with lib.autograd.detect_anomaly():
            lib.autograd.grad(t, x, lib.ones_like(t), create_graph=True)
        my_obj = Foo()
        t.grad_fn.metadata[0] = my_obj
        return t, weakref.ref(my_obj)

    t, ref = get_ref()
    assert ref() is not None
    del t
    gc.collect()
    assert ref() is None


def test_node_metadata_dict(lib):
    x = lib.randn(2, requires_grad=True)
    y = x * 2
    md = y.grad_fn.metadata
    assert isinstance(md, dict) and md == {}
    md["key"] = 1
    assert y.grad_fn.metadata["key"] == 1


def test_detect_anomaly_flags(lib):
    assert not lib.is_anomaly_enabled()
    with lib.autograd.detect_anomaly():
        assert lib.is_anomaly_enabled()
        assert lib.is_anomaly_check_nan_enabled()
    assert not lib.is_anomaly_enabled()
    with lib.autograd.set_detect_anomaly(True, check_nan=False):
        assert lib.is_anomaly_enabled()
        assert not lib.is_anomaly_check_nan_enabled()
    assert not lib.is_anomaly_enabled()


def test_anomaly_mode_no_check_nan(lib):
    class MyFunc(lib.autograd.Function):
        @staticmethod
        def forward(ctx, inp):
            return inp.clone()

        @staticmethod
        def backward(ctx, gO):
            return lib.tensor(float("nan")).expand(10, 10)

    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        with lib.autograd.detect_anomaly(check_nan=False):
            inp = lib.rand(10, 10, requires_grad=True)
            out = MyFunc.apply(inp).sum()
            out.backward(retain_graph=True)
            with lib.autograd.detect_anomaly(check_nan=True):
                with pytest.raises(
                    RuntimeError, match="Function 'MyFuncBackward' returned nan values in its 0th output."
                ):
                    out.backward(retain_graph=True)
            out.backward()


def test_no_grad_copy(lib):
    class MyFunc(lib.autograd.Function):
        static_grad_ptr = None

        @staticmethod
        def forward(ctx, inp1, inp2):
            return inp1 + inp2

        @staticmethod
        def backward(ctx, grad):
            MyFunc.static_grad_ptr = grad.data_ptr()
            return grad, grad

    class NonContGradFunc(lib.autograd.Function):
        @staticmethod
        def forward(ctx, inp1):
            ctx.size = inp1.size()
            return lib.tensor([1.0])

        @staticmethod
        def backward(ctx, grad):
            return lib.ones(1).expand(ctx.size)

    a = lib.randn(5, 6, requires_grad=True)
    b = lib.randn(5, 6, requires_grad=True)
    NonContGradFunc.apply(MyFunc.apply(a, b)).backward()
    assert a.grad.data_ptr() != MyFunc.static_grad_ptr
    assert b.grad.data_ptr() != MyFunc.static_grad_ptr
    a.grad = b.grad = None
    MyFunc.apply(a, b)[1][0].backward()
    p_g = MyFunc.static_grad_ptr
    p_a = a.grad.data_ptr()
    p_b = b.grad.data_ptr()
    assert p_a != p_b
    assert p_a == p_g or p_b == p_g


# ============================================================================== gradcheck
@pytest.mark.parametrize("fast_mode", [True, False])
def test_gradcheck_single_input(lib, fast_mode):
    def f(inp):
        return inp.mul(5)

    assert lib.autograd.gradcheck(f, r64(lib, 10), fast_mode=fast_mode)
    assert lib.autograd.gradgradcheck(f, r64(lib, 10), fast_mode=fast_mode)


@pytest.mark.parametrize("fast_mode", [True, False])
def test_gradcheck_nondeterministic(lib, fast_mode):
    class NonDetFunc(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, jitter=0.0):
            ctx._jitter = jitter
            return x

        @staticmethod
        def backward(ctx, grad_out):
            return NonDetFunc.apply(grad_out, ctx._jitter) * (1 + lib.rand_like(grad_out) * ctx._jitter), None

    gc_ = lib.autograd.gradcheck
    ggc = lib.autograd.gradgradcheck
    inp = f64(lib, 5, 5)
    gc_(lambda x: NonDetFunc.apply(x, 0.0), inp, check_batched_grad=False, fast_mode=fast_mode)
    with pytest.raises(RuntimeError, match="Backward is not reentrant"):
        gc_(lambda x: NonDetFunc.apply(x, 1e-6), inp, check_batched_grad=False, fast_mode=fast_mode)
    with pytest.raises(RuntimeError, match="Backward is not reentrant"):
        ggc(lambda x: NonDetFunc.apply(x, 1e-12), inp, check_batched_grad=False, fast_mode=fast_mode)
    gc_(lambda x: NonDetFunc.apply(x, 0.0), inp, nondet_tol=1e-5, check_batched_grad=False, fast_mode=fast_mode)
    gc_(lambda x: NonDetFunc.apply(x, 1e-6), inp, nondet_tol=1e-5, check_batched_grad=False, fast_mode=fast_mode)
    ggc(lambda x: NonDetFunc.apply(x, 1e-12), inp, nondet_tol=1e-5, check_batched_grad=False, fast_mode=fast_mode)


@pytest.mark.parametrize("fast_mode", [True, False])
def test_gradcheck_validates_inputs(lib, fast_mode):
    x = lib.rand(10, requires_grad=False)
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        lib.autograd.gradcheck(lambda x: x, (x,), raise_exception=False, fast_mode=fast_mode)
    x = lib.ones(1, dtype=lib.float32, requires_grad=True)
    with pytest.warns(UserWarning, match="Input #0 requires gradient and is not a double precision"):
        assert lib.autograd.gradcheck(lambda x: x, (x,), atol=1e-1, fast_mode=fast_mode)
    x = lib.ones(1, dtype=lib.float64, requires_grad=True).expand((2, 2))
    with pytest.raises(RuntimeError, match="The 0th input has a dimension with stride 0"):
        lib.autograd.gradcheck(lambda x: x, (x,), raise_exception=False, fast_mode=fast_mode)


@pytest.mark.parametrize("fast_mode", [True, False])
def test_gradcheck_check_no_differentiable_outputs(lib, fast_mode):
    x = lib.ones((1,), dtype=lib.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="Numerical gradient for function expected to be zero"):
        lib.autograd.gradcheck(lambda x: lib.tensor([x.item()], dtype=lib.float64), x, fast_mode=fast_mode)
    assert not lib.autograd.gradcheck(
        lambda x: lib.tensor([x.item()], dtype=lib.float64), x, raise_exception=False, fast_mode=fast_mode
    )
    assert lib.autograd.gradcheck(lambda x: (), (x,), fast_mode=fast_mode)


@pytest.mark.parametrize("fast_mode", [True, False])
def test_gradcheck_backward_mul_by_grad_output(lib, fast_mode):
    def fn2(x):
        y = x.clone()
        y.register_hook(lambda x: x + 1e-2)
        return y

    x = lib.ones(1, dtype=lib.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="backward not multiplied by grad_output"):
        lib.autograd.gradcheck(fn2, (x,), atol=1e-1, fast_mode=fast_mode)
    assert not lib.autograd.gradcheck(fn2, (x,), atol=1e-1, raise_exception=False, fast_mode=fast_mode)


@pytest.mark.parametrize("fast_mode", [True, False])
def test_gradcheck_undefined_grad(lib, fast_mode):
    def fn(x):
        def hook(x):
            if x is None:
                raise RuntimeError("x is undefined")

        y = x.clone()
        y.register_hook(hook)
        return y

    x = lib.ones(1, dtype=lib.float64, requires_grad=True)
    with pytest.warns(UserWarning, match="Backwards compatibility: New undefined gradient support checking feature"):
        with pytest.raises(RuntimeError, match="Expected backward function to handle undefined output grads"):
            lib.autograd.gradcheck(fn, (x,), fast_mode=fast_mode)
        assert not lib.autograd.gradcheck(fn, (x,), raise_exception=False, fast_mode=fast_mode)


@pytest.mark.parametrize("fast_mode", [True, False])
def test_gradcheck_jacobian_mismatch(lib, fast_mode):
    def fn(x):
        y = x.clone()
        y.register_hook(lambda x: x + 1e-2)
        return y

    x = lib.ones(2, 2, requires_grad=True)
    with pytest.warns(UserWarning, match="not a double precision"):
        with pytest.raises(RuntimeError, match="Jacobian mismatch for output 0 with respect to input 0"):
            lib.autograd.gradcheck(fn, (x,), fast_mode=fast_mode)
        assert not lib.autograd.gradcheck(fn, (x,), raise_exception=False, fast_mode=fast_mode)


@pytest.mark.parametrize("fast_mode", [True, False])
def test_gradcheck_output_shape_or_dtype_depend_on_values(lib, fast_mode):
    def fn(x):
        if lib.all(x >= 1):
            return lib.cat([x, x])
        return x

    a = lib.ones(1, dtype=lib.float64, requires_grad=True)
    with pytest.raises(AssertionError, match="return outputs with the same shape when inputs are perturbed"):
        lib.autograd.gradcheck(fn, (a,), fast_mode=fast_mode)

    def fn2(x):
        if lib.all(x >= 1):
            return x.to(lib.float32)
        return x

    with pytest.raises(AssertionError, match="return outputs with the same dtype when inputs are perturbed"):
        lib.autograd.gradcheck(fn2, (a,), fast_mode=fast_mode)


@pytest.mark.parametrize("fast_mode", [True, False])
def test_gradcheck_custom_error(lib, fast_mode):
    import importlib

    GradcheckError = importlib.import_module(lib.__name__ + ".autograd.gradcheck").GradcheckError

    def fn(x):
        y = x.clone()
        y.register_hook(lambda x: x + 1e-2)
        return y

    x = lib.ones(2, 2, dtype=lib.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match="Jacobian mismatch for output 0 with respect to input 0"):
        lib.autograd.gradcheck(fn, (x,), fast_mode=fast_mode)
    with pytest.raises(RuntimeError, match="Jacobian mismatch for output 0 with respect to input 0"):
        lib.autograd.gradcheck(fn, (x,), fast_mode=fast_mode)
    assert not lib.autograd.gradcheck(fn, (x,), raise_exception=False, fast_mode=fast_mode)

    def fn2(x):
        raise RuntimeError("Not a GradcheckError!")

    with pytest.raises(RuntimeError, match="Not a GradcheckError!"):
        lib.autograd.gradcheck(fn2, (x,), fast_mode=fast_mode, raise_exception=False)


def test_gradcheck_error_class_location(lib):
    import importlib

    mod = importlib.import_module(lib.__name__ + ".autograd.gradcheck")
    assert issubclass(mod.GradcheckError, RuntimeError)


def test_gradcheck_multiple_inputs_outputs(lib):
    def fn(x, y):
        return x * y, (x + y).sin(), x.exp()

    assert lib.autograd.gradcheck(fn, (f64(lib, 3), f64(lib, 3)))
    assert lib.autograd.gradgradcheck(fn, (f64(lib, 3), f64(lib, 3)))


def test_gradgradcheck_with_grad_outputs(lib):
    x = f64(lib, 4)
    go = lib.randn(4, dtype=lib.float64, requires_grad=True)
    assert lib.autograd.gradgradcheck(lambda x: x**3, (x,), (go,))


def test_gradcheck_non_tensor_and_non_requiring_inputs(lib):
    x = f64(lib, 3)
    y = lib.randn(3, dtype=lib.float64)
    assert lib.autograd.gradcheck(lambda x, k, y: x * k + y, (x, 2.5, y))


@pytest.mark.parametrize("fast_mode", [True, False])
def test_gradcheck_forward_ad(lib, fast_mode):
    def fn(x, y):
        return x + y, y

    x = r64(lib, 2)
    y = r64(lib, 2)
    assert lib.autograd.gradcheck(fn, (x, y), check_forward_ad=True, fast_mode=fast_mode)


def test_gradcheck_forward_ad_runs_with_no_requires_grad(lib):
    class UserFn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x.clone(), y.clone()

        @staticmethod
        def jvp(ctx, x_t, y_t):
            return x_t, y_t

    x = r64(lib, 2)
    y = r64(lib, 2)
    common = dict(check_forward_ad=True, check_backward_ad=False, check_batched_grad=False)
    lib.autograd.gradcheck(UserFn.apply, (x, y), check_undefined_grad=False, check_batched_forward_grad=False, **common)
    lib.autograd.gradcheck(UserFn.apply, (x, y), check_undefined_grad=True, check_batched_forward_grad=False, **common)
    lib.autograd.gradcheck(UserFn.apply, (x, y), check_undefined_grad=True, check_batched_forward_grad=True, **common)
    y = r64(lib, 2, requires_grad=False)
    lib.autograd.gradcheck(UserFn.apply, (x, y), check_undefined_grad=True, check_batched_forward_grad=True, **common)


def test_gradcheck_forward_ad_respects_requires_grad(lib):
    jvp_count = [0]

    class UserFn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x.clone(), y.clone()

        @staticmethod
        def jvp(ctx, x_t, y_t):
            jvp_count[0] += 1
            return x_t, y_t

    x = r64(lib, 1)
    y = r64(lib, 1)
    common = dict(check_forward_ad=True, check_backward_ad=False, check_batched_grad=False)
    lib.autograd.gradcheck(UserFn.apply, (x, y), check_undefined_grad=False, check_batched_forward_grad=False, **common)
    assert jvp_count[0] == 2
    jvp_count[0] = 0
    lib.autograd.gradcheck(UserFn.apply, (x, y), check_undefined_grad=True, check_batched_forward_grad=False, **common)
    assert jvp_count[0] == 6
    jvp_count[0] = 0
    lib.autograd.gradcheck(UserFn.apply, (x, y), check_undefined_grad=True, check_batched_forward_grad=True, **common)
    assert jvp_count[0] == 12
    jvp_count[0] = 0
    y = r64(lib, 1, requires_grad=False)
    lib.autograd.gradcheck(UserFn.apply, (x, y), check_undefined_grad=True, check_batched_forward_grad=True, **common)
    assert jvp_count[0] == 5


def test_gradcheck_check_forward_or_backward_only(lib):
    class UserFn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, foo, fwd_bad, bwd_bad):
            ctx.fwd_bad = fwd_bad
            ctx.bwd_bad = bwd_bad
            return foo * 2

        @staticmethod
        def vjp(ctx, gO):
            if ctx.bwd_bad:
                raise RuntimeError("FAIL BWD")
            return 2 * gO, None, None

        @staticmethod
        def jvp(ctx, gI, _1, _2):
            if ctx.fwd_bad:
                raise RuntimeError("FAIL FWD")
            return 2 * gI

    import itertools

    for fast_mode, check_fwd, check_bwd, fwd_bad, bwd_bad in itertools.product([True, False], repeat=5):
        x = r64(lib, 2)

        def run(x=x, fwd_bad=fwd_bad, bwd_bad=bwd_bad, check_fwd=check_fwd, check_bwd=check_bwd, fast_mode=fast_mode):
            lib.autograd.gradcheck(
                UserFn.apply,
                (x, fwd_bad, bwd_bad),
                check_forward_ad=check_fwd,
                check_backward_ad=check_bwd,
                check_undefined_grad=check_bwd,
                check_batched_grad=check_bwd,
                fast_mode=fast_mode,
            )

        if not check_fwd and not check_bwd:
            with pytest.raises(AssertionError, match="Expected at least one of"):
                run()
            continue
        fwd_fail = fwd_bad and check_fwd
        bwd_fail = bwd_bad and check_bwd
        if not fwd_fail and not bwd_fail:
            run()
        else:
            msg = "FAIL BWD" if bwd_fail else "FAIL FWD"
            with pytest.raises(RuntimeError, match=msg):
                run()


def test_gradcheck_forward_ad_batched_grad(lib):
    x = r64(lib, 2)

    def fn1(a, b):
        return a.clone(), a + 1

    opts = dict(
        check_forward_ad=True,
        check_backward_ad=False,
        check_batched_grad=False,
        check_undefined_grad=False,
        check_batched_forward_grad=True,
    )
    lib.autograd.gradcheck(fn1, (x, 1), **opts)

    def fn2(a, c):
        return a.clone()

    lib.autograd.gradcheck(fn2, (x, x.clone()), **opts)


# ======================================================================= version counter
def test_version_counter(lib):
    x = lib.randn(1, 2)
    v = x._version
    x.add_(1).add_(1)
    assert x._version > v
    xz = x[:]
    assert x._version == xz._version
    xz.add_(1)
    assert x._version == xz._version
    v = x._version
    x.data = lib.randn(2, 3)
    assert x._version == v
    x.add_(1)
    assert x._version > v
    assert x._version == xz._version
    xz.add_(1)
    assert x._version == xz._version


def test_set_data_preserve_pyobj(lib):
    a = lib.randn(1, 2)
    b = lib.randn(1, 2)
    b_id = id(b)
    b.data = a
    assert id(b) == b_id
    same(b, a)


def test_set_data_self_requires_grad(lib):
    a = lib.tensor(1.0, requires_grad=True)
    b = lib.tensor(2.0)
    c = lib.tensor(3, dtype=lib.int64)
    a.data = b
    assert a.item() == 2.0 and a.requires_grad
    with pytest.raises(RuntimeError, match="must be floating point or complex dtype"):
        a.data = c


# ============================================================================= reentrant
def test_deep_reentrant(lib):
    class DeepReentrant(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            with lib.enable_grad():
                ctx.x = x.detach().requires_grad_(True)
                ctx.x = ctx.x - 1
            return ctx.x.detach()

        @staticmethod
        def backward(ctx, x):
            if ctx.x < 0:
                return x
            with lib.enable_grad():
                DeepReentrant.apply(ctx.x).sum().backward()
            return x

    v = lib.tensor(200.0, requires_grad=True)
    DeepReentrant.apply(v).sum().backward()
    v2 = lib.tensor(50.0, requires_grad=True)
    DeepReentrant.apply(v2).sum().backward()


def test_reentrant_priority(lib):
    order = []

    class MyFunction(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, x):
            order.append("MyFunction")
            return x

    class Reentrant(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            with lib.enable_grad():
                ctx.x = x.detach().requires_grad_(True)
                ctx.x = ctx.x - 1
            return ctx.x.detach()

        @staticmethod
        def backward(ctx, x):
            order.append("Reentrant")
            if ctx.x < 0:
                return x
            with lib.enable_grad():
                Reentrant.apply(ctx.x).backward()
            return x

    a = MyFunction.apply(lib.tensor(6.0, requires_grad=True))
    b = Reentrant.apply(lib.tensor(9.0, requires_grad=True))
    v = a * b
    v.backward()
    assert len(order) == 11
    assert order.count("Reentrant") == 10
    assert order[-1] == "MyFunction"


def test_reentrant_with_leaf_variable_hook(lib):
    handle = None
    param = lib.rand(10, requires_grad=True)

    def add_gradient_penalty_to_grad(grad):
        handle.remove()
        old_param_grad = grad
        param.grad = None
        with lib.enable_grad():
            g = grad.detach().requires_grad_()
            new_param = param.detach().requires_grad_()
            out = ((g * 2) + new_param).sum()
            out.backward()
        res = g.grad + grad
        param.grad = old_param_grad
        return res

    handle = param.register_hook(add_gradient_penalty_to_grad)
    tmp = param * param
    tmp.sum().backward()
    # the hook reset .grad to the incoming grad (2p), then the hook's result (2p + 2) accumulates onto it
    close(param.grad, 4 * npy(param) + 2)


def test_reentrant_with_non_leaf_variable_hook(lib):
    handle = None
    param = lib.rand(10, requires_grad=True)

    def manual_increase_gradient(grad):
        handle.remove()
        with lib.enable_grad():
            g = grad.detach().requires_grad_()
            out = ((g * 2) + 5).sum()
            out.backward()
        return g.grad + grad

    tmp = param * param
    handle = tmp.register_hook(manual_increase_gradient)
    tmp.sum().backward()
    close(param.grad, 6 * npy(param))


# ============================================================================= checkpoint
def test_checkpointing(lib):
    module = lib.nn.Sequential(lib.nn.Linear(10, 100), lib.nn.ReLU(), lib.nn.Linear(100, 10))
    feats = []
    for _ in range(20):
        data_r = lib.empty(1, 10)
        data_r.uniform_()
        data_r.requires_grad = True
        feats.append(lib.utils.checkpoint.checkpoint(module, data_r, use_reentrant=True))
    lib.stack(feats).mean().backward()
    assert all(p.grad is not None for p in module.parameters())


@pytest.mark.parametrize("enabled", [True, False])
def test_checkpointing_non_reentrant_autocast_cpu(lib, enabled):
    seen = []

    def foo(x, y, z):
        x = lib.mm(x, y)
        y = lib.mm(x, z)
        z = lib.mm(z, z)
        seen.append(z.dtype)
        return z

    x = lib.randn(3, 3, requires_grad=True)
    y = lib.randn(3, 3, requires_grad=True)
    z = lib.randn(3, 3, requires_grad=True)
    with lib.autocast(enabled=enabled, device_type="cpu", dtype=lib.bfloat16):
        loss = lib.utils.checkpoint.checkpoint(foo, x, y, z, use_reentrant=False).sum()
    loss.backward()
    expected = lib.bfloat16 if enabled else lib.float32
    assert len(seen) >= 1 and all(d == expected for d in seen)


def test_checkpointing_without_reentrant_custom_function_works(lib):
    msg = "Unpack is being triggered for a tensor that was already unpacked once"
    errors = []

    class MyFunc(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, y, z):
            w = x * y * z
            out = w + w
            ctx.save_for_backward(x, y, z, w, out)
            return out

        @staticmethod
        def backward(ctx, grad_out):
            x, y, z, w, out = ctx.saved_tensors
            try:
                _ = ctx.saved_tensors
            except RuntimeError as e:
                errors.append(str(e))
            return x, y, z

    x = lib.tensor(1.0, requires_grad=True)
    y = lib.tensor(2.0, requires_grad=True)
    z = lib.tensor(3.0, requires_grad=True)

    def foo(x, y, z):
        x = x * y * z
        y = y * y * z
        z = z * z
        return MyFunc.apply(x, y, z)

    out = lib.utils.checkpoint.checkpoint(foo, x, y, z, use_reentrant=False)
    out.sum().backward()
    assert len(errors) == 1 and msg in errors[0]


def test_checkpointing_without_reentrant_with_context_fn(lib):
    entered = []

    @contextlib.contextmanager
    def marker(name):
        entered.append(name)
        yield

    def context_fn():
        return marker("forward"), marker("recompute")

    x = lib.tensor(1.0, requires_grad=True)
    out = lib.utils.checkpoint.checkpoint(lambda x: x.exp(), x, use_reentrant=False, context_fn=context_fn)
    assert entered == ["forward"]
    out.backward()
    assert entered == ["forward", "recompute"]
    close(x.grad, math.e)
    with pytest.raises(Exception, match="only supported when use_reentrant=False"):
        lib.utils.checkpoint.checkpoint(lambda x: x.sin(), x, use_reentrant=True, context_fn=context_fn)


def test_checkpoint_warns_if_use_reentrant_not_passed_explcitly(lib):
    a = lib.randn(1, requires_grad=True)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        lib.utils.checkpoint.checkpoint(lambda x: x, a, use_reentrant=False)
    assert not any("use_reentrant" in str(x.message) for x in w)
    with pytest.warns(UserWarning, match=".*the use_reentrant parameter should be passed explicitly.*"):
        lib.utils.checkpoint.checkpoint(lambda x: x, a)


def test_checkpoint_sequential_warns_if_use_reentrant_not_passed_explcitly(lib):
    a = lib.randn(3, requires_grad=True)
    modules_list = [lib.nn.Linear(3, 3), lib.nn.Linear(3, 3), lib.nn.Linear(3, 3)]
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        lib.utils.checkpoint.checkpoint_sequential(modules_list, 3, a, use_reentrant=False)
    assert not any("use_reentrant" in str(x.message) for x in w)
    with pytest.warns(UserWarning, match=".*the use_reentrant parameter should be passed explicitly.*"):
        lib.utils.checkpoint.checkpoint_sequential(modules_list, 3, a)


def test_checkpoint_sequential_matches(lib):
    lib.manual_seed(0)
    seq = lib.nn.Sequential(lib.nn.Linear(4, 4), lib.nn.ReLU(), lib.nn.Linear(4, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2))
    x = lib.randn(3, 4, requires_grad=True)
    ref = seq(x).sum()
    ref.backward()
    gx_ref = x.grad.clone()
    for use_reentrant in (True, False):
        x.grad = None
        out = lib.utils.checkpoint.checkpoint_sequential(seq, 2, x, use_reentrant=use_reentrant).sum()
        close(out, ref)
        out.backward()
        close(x.grad, gx_ref)


def test_checkpoint_graph_execution_group(lib):
    cp = lib.utils.checkpoint

    def run(use_group):
        counter = [0]

        def fn(x):
            counter[0] += 1
            y = x.sin().cos()
            z = y.sin().cos()
            return y, z

        x = lib.randn(3, 3, requires_grad=True)
        y, z = cp.checkpoint(fn, x, use_reentrant=False)
        ctx = cp.GraphExecGroup() if use_group else contextlib.nullcontext()
        with ctx:
            (grad_y,) = lib.autograd.grad(z, inputs=(y,), grad_outputs=(lib.ones(3, 3),))
            lib.autograd.grad(y, inputs=(x,), grad_outputs=(grad_y,))
        assert counter[0] == (2 if use_group else 3)

    run(True)
    run(False)
    x = lib.randn(3, 3, requires_grad=True)
    out = cp.checkpoint(lambda x: x.sin().cos(), x, use_reentrant=False)
    with cp.GraphExecGroup():
        out.sum().backward(retain_graph=True)
        with pytest.raises(RuntimeError, match="Performing two backward calls that overlap"):
            out.sum().backward()


def test_checkpoint_detects_non_determinism(lib):
    cp = lib.utils.checkpoint

    def save_3_tensors(x):
        return x.sin().exp().sin()

    def save_2_tensors(x):
        return x.sin().exp()

    def save_2_tensors_alt(x):
        return x.sin() * lib.tensor([1.0, 2.0])

    def get_non_det_fn(orig_fn, recompute_fn):
        counter = [0]

        def fn(x):
            if counter[0] == 0:
                counter[0] += 1
                return orig_fn(x)
            return recompute_fn(x)

        return fn

    a = lib.randn(1, requires_grad=True)
    fn = get_non_det_fn(save_3_tensors, save_2_tensors)
    with pytest.raises(RuntimeError, match="A different number of tensors was saved"):
        cp.checkpoint(fn, a, use_reentrant=False).backward()
    fn = get_non_det_fn(save_2_tensors, save_3_tensors)
    with cp.set_checkpoint_early_stop(False):
        with pytest.raises(RuntimeError, match="trying to save more tensors during recomputation"):
            cp.checkpoint(fn, a, use_reentrant=False).backward()
    fn = get_non_det_fn(save_2_tensors, save_3_tensors)
    cp.checkpoint(fn, a, use_reentrant=False).backward()
    fn = get_non_det_fn(save_2_tensors, save_2_tensors_alt)
    with pytest.raises(RuntimeError, match="tensors have different metadata"):
        cp.checkpoint(fn, a, use_reentrant=False).backward()
    fn = get_non_det_fn(save_2_tensors, save_2_tensors_alt)
    with pytest.raises(RuntimeError, match="You are seeing this error because you passed `debug=True` to checkpoint"):
        cp.checkpoint(fn, a, use_reentrant=False, debug=True).backward()
    fn = get_non_det_fn(save_2_tensors, save_2_tensors_alt)
    with pytest.raises(RuntimeError, match="You are seeing this error because you passed `debug=True` to checkpoint"):
        with cp.set_checkpoint_debug_enabled(True):
            cp.checkpoint(fn, a, use_reentrant=False, debug=False).backward()
    fn = get_non_det_fn(save_2_tensors, save_2_tensors_alt)
    with pytest.raises(RuntimeError, match="Recomputed values for the following tensors have different"):
        with cp.set_checkpoint_debug_enabled(False):
            cp.checkpoint(fn, a, use_reentrant=False, debug=True).backward()


def test_access_saved_tensor_twice_without_recomputation_works(lib):
    count = [0]

    def foo(a):
        count[0] += 1
        b = a * a
        _ = a * b
        return lib.exp(a)

    a = lib.randn(5, requires_grad=True)
    d = lib.utils.checkpoint.checkpoint(foo, a, use_reentrant=False)
    assert count[0] == 1
    _ = d.grad_fn._saved_result
    assert count[0] == 2
    _ = d.grad_fn._saved_result
    assert count[0] == 3
    d.sum().backward()
    assert count[0] == 4
    with pytest.raises(RuntimeError, match="or directly access saved tensors after they have already been freed"):
        _ = d.grad_fn._saved_result


@pytest.mark.parametrize("input_requires_grad", [True, False])
def test_checkpointing_without_reentrant(lib, input_requires_grad):
    lib.manual_seed(0)

    class MyModule(lib.nn.Module):
        def __init__(self, mod):
            super().__init__()
            self.module = mod

        def forward(self, data):
            return self.module(data)

    module = MyModule(lib.nn.Sequential(lib.nn.Linear(10, 100), lib.nn.ReLU(), lib.nn.Linear(100, 10)))
    module_copy = deepcopy(module)
    feats, feats_ref = [], []
    for _ in range(20):
        data_r = lib.empty(1, 10)
        data_r.uniform_()
        data_r.requires_grad = input_requires_grad
        feats.append(lib.utils.checkpoint.checkpoint(module, data=data_r, use_reentrant=False))
        feats_ref.append(module_copy(data_r))
    lib.stack(feats).mean().backward()
    lib.stack(feats_ref).mean().backward()
    for p_ckpt, p in zip(module.parameters(), module_copy.parameters()):
        close(p_ckpt.grad, p.grad, rtol=1e-5, atol=1e-7)


def test_checkpoint_valid_reset_on_error(lib):
    a = lib.randn(2, 2, requires_grad=True)
    with pytest.raises(Exception, match="torch.utils.checkpoint is incompatible"):
        b = lib.utils.checkpoint.checkpoint(lib.exp, a, use_reentrant=True).sum()
        lib.autograd.grad(b, (a,))
    c = lib.utils.checkpoint.checkpoint(lib.exp, a, use_reentrant=True).sum()
    c.backward()
    close(a.grad, np.exp(npy(a)))


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_checkpointing_without_reentrant_detached_tensor(lib, use_reentrant):
    class NoGradModule(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = lib.nn.Linear(2, 2, bias=False)
            self.lin2 = lib.nn.Linear(2, 2, bias=False)

        def forward(self, x):
            with lib.no_grad():
                return self.lin2(self.linear(x))

    module = NoGradModule()
    a = lib.randn(2, 2, requires_grad=True)
    for _ in range(3):
        ctx = (
            pytest.raises(RuntimeError, match="none of output has requires_grad=True")
            if use_reentrant
            else contextlib.nullcontext()
        )
        with ctx:
            out = lib.utils.checkpoint.checkpoint(module, a, use_reentrant=use_reentrant)
            out += a
            out.sum().backward()


def test_checkpointing_without_reentrant_saved_object_identity(lib):
    x_backward = None

    class Test(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(y)
            return x

        @staticmethod
        def backward(ctx, x):
            nonlocal x_backward
            (x_backward,) = ctx.saved_tensors
            return x, None

    a = lib.tensor(1.0, requires_grad=True)
    b = lib.tensor(1.0, requires_grad=False)
    Test.apply(a, b).backward()
    assert b is x_backward
    x_backward = None
    lib.utils.checkpoint.checkpoint(Test.apply, a, b, use_reentrant=False).backward()
    assert b is x_backward


def test_checkpointing_without_reentrant_correct_grad(lib):
    a = lib.randn(2, 2, requires_grad=True)
    lib.exp(a).sum().backward()
    b_grad = a.grad
    a.grad = None
    lib.utils.checkpoint.checkpoint(lib.exp, a, use_reentrant=False).sum().backward()
    c_grad = a.grad
    a.grad = None
    d = lib.utils.checkpoint.checkpoint(lib.exp, a, use_reentrant=False).sum()
    (d_grad,) = lib.autograd.grad(d, (a,))
    close(b_grad, c_grad)
    close(b_grad, d_grad)


def test_checkpointing_without_reentrant_parameter_used_in_an_out(lib):
    w = lib.randn(10, 10, requires_grad=True)
    count = 0

    def hook(grad):
        nonlocal count
        count += 1

    w.register_hook(hook)
    x = lib.rand(10, 10, requires_grad=True)
    h = w * x
    out = lib.utils.checkpoint.checkpoint(lambda x: w * x, h, use_reentrant=False)
    out.sum().backward()
    assert count == 1


def test_checkpointing_without_reentrant_arbitrary_input_output(lib):
    class MyModel(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = lib.nn.Linear(5, 5, bias=False)

        def forward(self, dict_input):
            return {"result": self.layer(dict_input["tensor"])}

    model = MyModel()
    model_ckpt = deepcopy(model)
    inp = {"tensor": lib.randn(5, 5)}
    out_ref = model(inp)["result"].sum()
    out_ckpt = lib.utils.checkpoint.checkpoint(model_ckpt, inp, use_reentrant=False)["result"].sum()
    close(out_ckpt, out_ref)
    out_ref.backward()
    out_ckpt.backward()
    for p, pc in zip(model.parameters(), model_ckpt.parameters()):
        close(p.grad, pc.grad)


def test_checkpoint_reentrant_preserves_rng_state(lib):
    def fn(x):
        return x * lib.rand(3)

    for use_reentrant in (True, False):
        x = lib.ones(3, requires_grad=True)
        lib.manual_seed(7)
        out = lib.utils.checkpoint.checkpoint(fn, x, use_reentrant=use_reentrant)
        lib.manual_seed(7)
        expected = lib.rand(3)
        close(out, expected)
        out.sum().backward()
        close(x.grad, expected)


# ============================================================ grad_fn._saved_* attributes
def test_grad_fn_attr_bindings(lib):
    a = lib.ones(1, requires_grad=True)
    b = lib.zeros(1, requires_grad=True)
    out1 = lib.stack([a, b], dim=0)
    out2 = (a * 2) * b
    same(out2.grad_fn._saved_self, [2.0])
    assert isinstance(out2.grad_fn._saved_self, lib.Tensor)
    assert out1.grad_fn._saved_dim == 0
    assert isinstance(out1.grad_fn._saved_dim, int)
    out2.sum().backward()
    with pytest.raises(RuntimeError, match="after they have already been freed"):
        _ = out2.grad_fn._saved_self
    assert out1.grad_fn._saved_dim == 0

    a = lib.ones(2, 2, requires_grad=True)
    out = a.mean()
    assert tuple(out.grad_fn._saved_self_sym_sizes) == tuple(a.shape)

    a = lib.ones(2, requires_grad=True)
    out = lib.tanh(a)
    same(out.grad_fn._saved_result, out)

    a = lib.tensor([1.0], requires_grad=True)
    out = lib.div(a, 2.0, rounding_mode="trunc")
    assert out.grad_fn._saved_rounding_mode == "trunc"
    out = lib.div(a, 2.0, rounding_mode=None)
    assert out.grad_fn._saved_rounding_mode is None

    a = lib.ones(2, 2, requires_grad=True)
    out = a.as_strided((3,), (1,), 1)
    assert out.grad_fn._saved_storage_offset == 1
    out = a.as_strided((3,), (1,))
    assert out.grad_fn._saved_storage_offset is None


def test_grad_fn_saved_attrs_common_ops(lib):
    x = lib.randn(3, requires_grad=True)
    y = lib.randn(3, requires_grad=True)
    m = x * y
    assert m.grad_fn._saved_self is x and m.grad_fn._saved_other is y
    e = x.exp()
    same(e.grad_fn._saved_result, e)
    p = x.pow(2)
    assert p.grad_fn._saved_self is x
    assert p.grad_fn._saved_exponent == 2
    s = x.sum()
    assert tuple(s.grad_fn._saved_self_sym_sizes) == (3,)


def test_grad_fn_saved_nll_loss_weight(lib):
    a = lib.randn(3, 5, requires_grad=True)
    b = lib.tensor([1, 0, 4])
    out = lib.nn.NLLLoss()(a, b)
    assert out.grad_fn._saved_weight is None
    out = lib.nn.NLLLoss(weight=lib.ones((5,)))(a, b)
    same(out.grad_fn._saved_weight, np.ones(5, dtype=np.float32))
    out.sum().backward()
    with pytest.raises(RuntimeError, match="after they have already been freed"):
        _ = out.grad_fn._saved_weight


def test_raw_saved_tensor_register_hooks(lib):
    a = lib.ones(2, 2, requires_grad=True)
    calls = []
    out = a * a
    out.grad_fn._raw_saved_self.register_hooks(lambda x: calls.append("pack") or x, lambda x: calls.append("unp") or x)
    out.sum().backward()
    assert "unp" in calls
    same(a.grad, np.full((2, 2), 2.0, dtype=np.float32))
    with pytest.raises(RuntimeError, match="after it has been freed"):
        out.grad_fn._raw_saved_self.register_hooks(lambda x: x, lambda x: x)


def test_custom_function_saved_tensors(lib):
    def get_fn(save=True):
        class MyFn(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                if save:
                    ctx.save_for_backward(x, None)
                return x

            @staticmethod
            def backward(ctx, g):
                return g

        return MyFn

    a = lib.randn(5, requires_grad=True)
    y = get_fn(True).apply(a)
    saved = y.grad_fn.saved_tensors
    assert len(saved) == 2 and saved[0] is a and saved[1] is None
    y.sum().backward()
    with pytest.raises(RuntimeError, match="after they have already been freed"):
        _ = y.grad_fn.saved_tensors
    y = get_fn(False).apply(a)
    assert y.grad_fn.saved_tensors == ()


def test_clear_saved_tensors_on_access(lib):
    results = []

    class MyFn(lib.autograd.Function):
        clear_saved_tensors_on_access = True

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.clone()

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            ref = weakref.ref(x)
            del x
            results.append(ref() is None)
            return grad_output

    x = lib.randn(3, requires_grad=True)
    MyFn.apply(x.clone()).sum().backward()
    assert results == [True]


def test_clear_saved_tensors_on_access_double_access_error(lib):
    class MyFn(lib.autograd.Function):
        clear_saved_tensors_on_access = True

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.clone()

        @staticmethod
        def backward(ctx, grad_output):
            _ = ctx.saved_tensors
            _ = ctx.saved_tensors
            return grad_output

    x = lib.randn(3, requires_grad=True)
    y = MyFn.apply(x)
    with pytest.raises(RuntimeError, match="can only be accessed once"):
        y.sum().backward()


def test_autograd_node_isinstance(lib):
    Node = lib.autograd.graph.Node
    a = lib.rand(3, 3, requires_grad=True)
    b = a.exp()
    assert isinstance(b.grad_fn, Node)
    assert issubclass(type(b.grad_fn), Node)
    assert Node not in type(b.grad_fn).mro()
    assert isinstance(b.grad_fn.next_functions[0][0], Node)
    assert not isinstance(None, Node)
    assert not isinstance(1, Node)
    assert not isinstance(Node, Node)
    assert issubclass(Node, Node)
    in_ctx = []

    class Func(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            in_ctx.append(isinstance(ctx, Node))
            return x

        @staticmethod
        def backward(ctx, x):
            in_ctx.append(isinstance(ctx, Node))
            return x

    out = Func.apply(a)
    assert isinstance(out.grad_fn, Node)
    assert issubclass(type(out.grad_fn), Node)
    out.sum().backward()
    assert in_ctx == [True, True]


# ========================================================================= views + in-place
def test_autograd_views_codegen(lib):
    def check(fn, should_raise):
        if should_raise is None:
            fn()
        else:
            with pytest.raises(RuntimeError, match=should_raise):
                fn()

    def run_test(grad_mode, requires_grad, should_raise):
        inp = lib.rand(2, requires_grad=requires_grad).clone()
        with lib.set_grad_enabled(grad_mode):
            out = inp.view_as(inp)
        assert out._base is inp
        check(lambda: out.add_(1), should_raise[0])
        inp = lib.rand(2, requires_grad=requires_grad).clone()
        with lib.set_grad_enabled(grad_mode):
            out = inp.unbind()
        assert out[0]._base is inp and out[1]._base is inp
        check(lambda: out[0].add_(1), should_raise[1])
        check(lambda: out[1].add_(1), should_raise[2])

    run_test(True, False, (None, None, None))
    err = "Output {} of Unbind(Backward0)? is a view and is being modified inplace."
    run_test(True, True, (None, err.format("0"), err.format("1")))
    leaf_err = "A view was created in no_grad mode and is being modified inplace"
    run_test(False, True, (leaf_err, leaf_err, leaf_err))
    run_test(False, False, (None, None, None))


def test_inplace_not_requires_grad(lib):
    class MyFn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, inp):
            return inp.view_as(inp)

        @staticmethod
        def backward(ctx, grad):
            return grad

    a = lib.rand(1, 2)
    b = lib.rand(1, requires_grad=True)
    view_a = MyFn.apply(a)
    with pytest.raises(RuntimeError, match="This view was created inside a custom Function"):
        view_a += b
    a = lib.rand(1, 2)
    b = lib.rand(1, requires_grad=True)
    view_a = MyFn.apply(a)
    with pytest.raises(RuntimeError, match="This view was created inside a custom Function"):
        view_a.copy_(b)
    a = lib.rand(1, 2)
    b = lib.rand(1, requires_grad=True)
    view_a = a.unbind()[0]
    with pytest.raises(RuntimeError, match="This view is the output of a function that returns multiple views."):
        view_a.copy_(b)
    a = lib.rand(1, 2)
    b = lib.rand(1, requires_grad=True)
    a.select(1, 0).copy_(b)


def test_autograd_simple_views_python(lib):
    bw_called = [0]
    ga_nz = [False]

    class IdOneOutput(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, make_view):
            return a.narrow(0, 0, 2) if make_view else a.clone()

        @staticmethod
        def backward(ctx, ga):
            bw_called[0] += 1
            return ga, None

    class IdTwoOutput(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, b, make_view):
            a = a.narrow(0, 0, 2) if make_view else a.clone()
            return a, a + b

        @staticmethod
        def backward(ctx, ga, gab):
            bw_called[0] += 1
            ga_nz[0] = not bool(ga.eq(0).all())
            return ga + gab, gab, None

    class ViewOfTemp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, make_view):
            ctx.save_for_backward(a)
            a = a.narrow(0, 0, 2) if make_view else a.clone()
            b = a.clone()
            return b.select(0, 0)

        @staticmethod
        def backward(ctx, grad):
            bw_called[0] += 1
            (a,) = ctx.saved_tensors
            res = lib.zeros_like(a)
            res.select(0, 0).copy_(grad)
            return res, None

    err = {
        "one_output": "Output 0 of IdOneOutput(Backward)? is a view and is being modified inplace. "
        "This view was created inside a custom Function",
        "two_output": "Output 0 of IdTwoOutput(Backward)? is a view and is being modified inplace. "
        "This view is the output of a function that returns multiple views.",
        "view_of_temp": "Output 0 of ViewOfTemp(Backward)? is a view and is being modified inplace. "
        "This view was created inside a custom Function",
    }
    for fn_id in ["one_output", "two_output", "view_of_temp"]:
        for inplace in [True, False]:
            for make_view in [True, False]:
                output_is_a_view = make_view or fn_id == "view_of_temp"

                def fn(a, b, fn_id=fn_id, inplace=inplace, make_view=make_view):
                    a = a.clone()
                    b = b.clone()
                    if fn_id == "two_output":
                        tmp1, tmp2 = IdTwoOutput.apply(a, b, make_view)
                        if inplace:
                            tmp1 += 3
                            tmp2 += 3
                        else:
                            tmp1 = tmp1 + 3
                            tmp2 = tmp2 + 3
                        tmp = tmp1 * tmp2
                    else:
                        if fn_id == "one_output":
                            tmp = IdOneOutput.apply(a, make_view)
                        else:
                            tmp = ViewOfTemp.apply(a + b, make_view)
                        if inplace:
                            tmp += 3
                        else:
                            tmp = tmp + 3
                    return tmp.sum()

                a = lib.ones(2, dtype=lib.float64, requires_grad=True)
                b = lib.ones(2, dtype=lib.float64, requires_grad=True)
                will_raise = inplace and output_is_a_view
                if will_raise:
                    with pytest.raises(RuntimeError, match=err[fn_id]):
                        lib.autograd.gradcheck(fn, (a, b), check_batched_grad=False)
                else:
                    assert lib.autograd.gradcheck(fn, (a, b), check_batched_grad=False)
                bw_called[0] = 0
                ga_nz[0] = True
                if will_raise:
                    with pytest.raises(RuntimeError, match=err[fn_id]):
                        fn(a, b)
                    assert bw_called[0] == 0
                else:
                    fn(a, b).abs().backward()
                    assert bw_called[0] == 1
                assert ga_nz[0]


@pytest.mark.parametrize(
    "op",
    ["transpose_", "t_", "squeeze_", "unsqueeze_", "swapdims_", "swapaxes_", "as_strided_"],
)
def test_autograd_inplace_views_creation_meta(lib, op):
    fns = {
        "as_strided_": lambda v: v.as_strided_((1, 0), (2, 2)),
        "transpose_": lambda v: v.transpose_(0, 0),
        "t_": lambda v: v.t_(),
        "squeeze_": lambda v: v.squeeze_(0),
        "unsqueeze_": lambda v: v.unsqueeze_(0),
        "swapdims_": lambda v: v.swapdims_(0, 0),
        "swapaxes_": lambda v: v.swapaxes_(0, 0),
    }
    fn = fns[op]

    class Func(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.view_as(x)

        @staticmethod
        def backward(ctx, x):
            return x

    no_grad_err = "A view was created in no_grad mode"
    multi_view_err = "function that returns multiple views"
    custom_err = "view was created inside a custom Function"
    for fn_type in ("normal", "multi_view", "custom"):
        for grad_mode_view in (True, False):
            for grad_mode_iview in (True, False):
                for requires_grad in (True, False):
                    error1 = error2 = None
                    if requires_grad:
                        if not grad_mode_view and grad_mode_iview:
                            error1 = no_grad_err
                        if not grad_mode_view and not grad_mode_iview:
                            error2 = no_grad_err
                        if fn_type == "multi_view":
                            if grad_mode_view and grad_mode_iview:
                                error1 = multi_view_err
                            if grad_mode_view and not grad_mode_iview:
                                error2 = multi_view_err
                        if fn_type == "custom":
                            if grad_mode_view and grad_mode_iview:
                                error1 = custom_err
                            if grad_mode_view and not grad_mode_iview:
                                error2 = custom_err
                    base = lib.rand(2, 3, requires_grad=requires_grad).clone()
                    with lib.set_grad_enabled(grad_mode_view):
                        if fn_type == "multi_view":
                            inp = base.unbind()[0]
                        elif fn_type == "custom":
                            inp = Func.apply(base)
                        else:
                            inp = base.view_as(base)
                    with lib.set_grad_enabled(grad_mode_iview):
                        if error1 is not None:
                            with pytest.raises(RuntimeError, match=error1):
                                fn(inp)
                            continue
                        fn(inp)
                    if error2 is not None:
                        with pytest.raises(RuntimeError, match=error2):
                            inp.add_(1)
                    else:
                        inp.add_(1)


def test_autograd_print_tensor(lib):
    a = lib.ones(1, requires_grad=True)
    a_clone = a.clone()
    assert repr(a) == "tensor([1.], requires_grad=True)"
    assert repr(a_clone) == "tensor([1.], grad_fn=<CloneBackward0>)"
    with lib.no_grad():
        b = a[:]
        b *= 2
    assert repr(b) == "tensor([2.], grad_fn=<Invalid>)"

    class Func(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, x):
            return x

    c = Func.apply(a)
    assert repr(c) == "tensor([2.], grad_fn=<FuncBackward>)"


def test_autograd_inplace_view_of_view(lib):
    x = lib.zeros(2)
    with lib.no_grad():
        y = x.view(2)
    y.requires_grad_(True)
    z = y.view(2)
    with pytest.raises(RuntimeError, match="a view of a view .* is being .* inside the no_grad block"):
        z /= 2
    x = lib.zeros(2)
    with lib.inference_mode():
        y = x.view(2)
    y.requires_grad_(True)
    z = y.view(2)
    with pytest.raises(RuntimeError, match="a view of a view .* is being .* inside the inference_mode"):
        z /= 2


def test_autograd_multiple_views_python(lib):
    bw_called = [0]

    class ComplexView(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, idx):
            res = a.narrow(0, idx, 1)
            res = a.select(0, idx)
            ctx.save_for_backward(a)
            ctx.idx = idx
            return res

        @staticmethod
        def backward(ctx, grad):
            bw_called[0] += 1
            (a,) = ctx.saved_tensors
            res = lib.zeros_like(a)
            res.select(0, ctx.idx).copy_(grad)
            return res, None

    a = lib.ones(2, requires_grad=True)
    out = ComplexView.apply(a.clone(), 1)
    out.sum().backward()
    assert bw_called[0] == 1
    same(a.grad, [0.0, 1.0])
    out = ComplexView.apply(a.clone(), 1)
    with pytest.raises(
        RuntimeError, match="Output 0 of ComplexView(Backward)? is a view and is being modified inplace"
    ):
        out += 1


def test_autograd_python_custom_function_inplace(lib):
    bw_called = [0]

    class MyAdder(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            a.add_(b)
            ctx.mark_dirty(a)
            return a

        @staticmethod
        def backward(ctx, grad):
            bw_called[0] += 1
            return grad, grad

    a = lib.ones(2, requires_grad=True)
    b = lib.ones(2, requires_grad=True)
    c = MyAdder.apply(a.clone(), b)
    c.sum().backward()
    assert bw_called[0] == 1
    bw_called[0] = 0
    c = MyAdder.apply(a.clone(), b)
    c += 2
    c.sum().backward()
    assert bw_called[0] == 1
    bw_called[0] = 0
    c = MyAdder.apply(a.clone().view_as(a), b)
    c.sum().backward()
    assert bw_called[0] == 1

    class MyAdderBad(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            c = 3 * a
            c.add_(b)
            ctx.mark_dirty(c)
            return c

        @staticmethod
        def backward(ctx, grad):
            grad = 3 * grad
            return grad, grad

    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        MyAdderBad.apply(a.clone(), b)
    assert len(w) == 1

    class MyBadAdder(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            a.add_(b)
            ctx.mark_dirty(a)
            return a, a + b

        @staticmethod
        def backward(ctx, ga, gab):
            bw_called[0] += 1
            return ga + gab, ga + gab

    bw_called[0] = 0
    c, d = MyBadAdder.apply(a.clone(), b)
    (c * d).sum().backward()
    assert bw_called[0] == 1
    bw_called[0] = 0
    c, d = MyBadAdder.apply(a.clone(), b)
    c += 2
    (c * d).sum().backward()
    assert bw_called[0] == 1
    with pytest.raises(RuntimeError, match="your Function modifies inplace an input that is a view of another Tensor"):
        MyBadAdder.apply(a.clone().view_as(a), b)

    class MyOutPlaceAdder(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            a.add_(b)
            ctx.mark_dirty(a)
            return a.clone(), a + b

        @staticmethod
        def backward(ctx, ga, gab):
            return ga + gab, ga + 2 * gab

    with pytest.raises(
        RuntimeError, match="Some elements marked as dirty during the forward method were not returned as output."
    ):
        MyOutPlaceAdder.apply(a.clone().view_as(a), b)


def test_custom_function_mark_dirty_not_differentiable(lib):
    fwAD = lib.autograd.forward_ad

    def get_custom_fn(jvp_err):
        class InplaceMul(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                result = x.mul_(2)
                ctx.mark_dirty(result)
                return result

            @staticmethod
            def backward(ctx, grad_output):
                pass

            @staticmethod
            def jvp(ctx, x_t):
                return x_t if jvp_err else x_t.mul_(2)

        return InplaceMul

    for requires_grad in (True, False):
        for jvp_err in (True, False):
            InplaceMul = get_custom_fn(jvp_err)
            z = lib.tensor(1.0, requires_grad=requires_grad)
            x = z.clone()
            y = InplaceMul.apply(x)
            assert x is y
            close(x, npy(z) * 2)
            with fwAD.dual_level():
                x_tangent = lib.ones_like(x)
                x_dual = fwAD.make_dual(x, x_tangent)
                if jvp_err:
                    with pytest.raises(
                        RuntimeError, match="jvp function must modify the corresponding gradient inplace"
                    ):
                        InplaceMul.apply(x_dual)
                else:
                    out_dual = InplaceMul.apply(x_dual)
                    _, out_tangent = fwAD.unpack_dual(out_dual)
                    assert out_dual is x_dual
                    assert out_tangent is x_tangent


def test_custom_function_mark_output_view_of_intermediate(lib):
    class Func(lib.autograd.Function):
        @staticmethod
        def forward(ctx, inp):
            out = inp.clone().view_as(inp)
            ctx.mark_dirty(out)
            return out

        @staticmethod
        def backward(ctx, gO):
            pass

    a = lib.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="received a tensor that was not an input."):
        Func.apply(a.clone())


def test_custom_function_inplace_on_non_default_view(lib):
    class Func(lib.autograd.Function):
        @staticmethod
        def forward(ctx, inp):
            inp.add_(1)
            ctx.mark_dirty(inp)
            return inp

        @staticmethod
        def backward(ctx, gO):
            pass

    a = lib.tensor([1.0, 2.0], requires_grad=True)
    a_clone = a.clone()
    b, c = a_clone.split_with_sizes([1, 1], dim=0)
    with pytest.raises(RuntimeError, match="output of a function that returns multiple view"):
        Func.apply(b)


def test_custom_function_inplace_on_view_of_leaf(lib):
    class Func(lib.autograd.Function):
        @staticmethod
        def forward(ctx, inp):
            inp.add_(1)
            ctx.mark_dirty(inp)
            return inp

        @staticmethod
        def backward(ctx, gO):
            pass

    a = lib.tensor([1.0, 2.0], requires_grad=True)
    b = a.view_as(a)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        Func.apply(b)


def test_custom_function_saving_mutated_view_no_leak(lib):
    class Test(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.mark_dirty(x)
            ctx.save_for_backward(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            pass

    def scope():
        x = lib.tensor(1.0, requires_grad=True).clone()
        x = x.view_as(x)
        Test.apply(x)
        return weakref.ref(x)

    ref = scope()
    gc.collect()
    assert ref() is None


def test_custom_function_return_view_in_nograd(lib):
    class Alias(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x[:]

        @staticmethod
        def backward(ctx, gx):
            return gx

    inp = lib.rand(2, requires_grad=True)
    with lib.no_grad():
        output = Alias.apply(inp)
    with lib.no_grad():
        expected_output = inp[:]
    assert output.requires_grad == expected_output.requires_grad
    with pytest.raises(RuntimeError, match="A view was created in no_grad mode and is being modified inplace"):
        output.zero_()


def test_grad_mode_restored_reentrant(lib):
    checks = []

    class MyFunction(lib.autograd.Function):
        @staticmethod
        def forward(ctx, inp):
            return inp.clone()

        @staticmethod
        def backward(ctx, go):
            original = lib.is_grad_enabled()
            with lib.enable_grad():
                checks.append(lib.is_grad_enabled())
                foo = lib.rand(go.size(), requires_grad=True)
                (grad,) = lib.autograd.grad(foo**3, foo, grad_outputs=go)
                checks.append(lib.is_grad_enabled())
            checks.append(lib.is_grad_enabled() == original)
            return grad

    inp = lib.rand(3, requires_grad=True)
    MyFunction.apply(inp).sum().backward()
    MyFunction.apply(inp).sum().backward(create_graph=True)
    assert checks == [True] * 6


def test_power_function(lib):
    a = lib.tensor([0.0, 0.0, 0.0])
    b = lib.tensor([-1.0, 0.0, 1.0], requires_grad=True)
    lib.sum(a**b).backward()
    same(b.grad, [-np.inf, 0.0, 0.0])
    s = 0
    b = lib.tensor([-1.0, 0.0, 1.0], requires_grad=True)
    lib.sum(s**b).backward()
    same(b.grad, [-np.inf, 0.0, 0.0])


def test_custom_function_error(lib):
    class BadFw(lib.autograd.Function):
        @staticmethod
        def backward(ctx, foo):
            return foo

    class BadBw(lib.autograd.Function):
        @staticmethod
        def forward(ctx, foo):
            return foo.clone()

    class BadBw2(lib.autograd.Function):
        @staticmethod
        def forward(ctx, foo):
            return foo.clone()

        @staticmethod
        def backward(ctx, foo):
            return foo

        @staticmethod
        def vjp(ctx, foo):
            return foo

    inp = lib.rand(1, requires_grad=True)
    with pytest.raises(NotImplementedError, match="must implement the forward"):
        BadFw.apply(inp)
    with pytest.raises(RuntimeError, match="must implement either the backward"):
        BadBw.apply(inp).sum().backward()
    with pytest.raises(RuntimeError, match="Implementing both 'backward' and 'vjp'"):
        BadBw2.apply(inp).sum().backward()


def test_custom_function_error_missing_jvp(lib):
    fwAD = lib.autograd.forward_ad

    class BadJvp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, foo):
            return foo.clone()

    inp = lib.rand(1, requires_grad=True)
    with pytest.raises(RuntimeError, match="must implement the jvp function"):
        with fwAD.dual_level():
            d = fwAD.make_dual(inp, lib.rand_like(inp))
            BadJvp.apply(d)


def test_custom_function_vjp_alias(lib):
    class Double(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def vjp(ctx, g):
            return g * 2

    x = lib.rand(3, requires_grad=True)
    Double.apply(x).sum().backward()
    same(x.grad, [2.0, 2.0, 2.0])


def test_custom_function_forward_mode_view_checks(lib):
    flag_to_error = {
        "ok": None,
        "not_a_view": "jvp is not returning a view",
        "not_a_view_of_inp": "jvp is not returning a view of the given",
        "not_a_view_of_inp_base": "jvp is not returning a view of the same base",
    }

    class ViewFn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, foo, flag):
            ctx.flag = flag
            ctx.size = foo.size()
            return foo.narrow(0, 0, 2)

        @staticmethod
        def vjp(ctx, gO):
            gI = gO.new_zeros(ctx.size)
            gI.narrow(0, 0, 2).copy_(gO)
            return gI, None

        @staticmethod
        def jvp(ctx, gI, _):
            res = gI.narrow(0, 0, 2)
            if ctx.flag != "ok":
                res = res.clone()
            if ctx.flag in ["not_a_view_of_inp", "not_a_view_of_inp_base"]:
                res = res.view_as(res)
            return res

    inp = r64(lib, 4, 4)
    for flag, msg in flag_to_error.items():

        def test_fn(inp, flag=flag):
            if flag == "not_a_view_of_inp_base":
                inp = inp.view_as(inp)
            return ViewFn.apply(inp, flag)

        if msg is None:
            assert lib.autograd.gradcheck(test_fn, inp, check_forward_ad=True)
        else:
            with pytest.raises(RuntimeError, match=msg):
                lib.autograd.gradcheck(test_fn, inp, check_forward_ad=True)


def test_custom_function_forward_mode_inplace_checks(lib):
    class InplaceFn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, foo, flag):
            ctx.mark_dirty(foo)
            ctx.flag = flag
            foo.mul_(2)
            return foo

        @staticmethod
        def vjp(ctx, gO):
            return 2 * gO, None

        @staticmethod
        def jvp(ctx, gI, _):
            if ctx.flag:
                return 2 * gI
            gI.mul_(2)
            return gI

    inp = r64(lib, 4, 4)

    def test_fn(inp, flag):
        return InplaceFn.apply(inp.clone(), flag)

    assert lib.autograd.gradcheck(test_fn, (inp, False), check_forward_ad=True)
    with pytest.raises(
        RuntimeError, match="inplace custom Function is not modifying the forward mode gradients inplace"
    ):
        lib.autograd.gradcheck(test_fn, (inp, True), check_forward_ad=True)


def test_custom_function_forward_mode_wrong_formula(lib):
    class UserFn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, foo, should_fail):
            ctx.should_fail = should_fail
            return foo * 2

        @staticmethod
        def vjp(ctx, gO):
            return 2 * gO, None

        @staticmethod
        def jvp(ctx, gI, _):
            return 3 * gI if ctx.should_fail else 2 * gI

    inp = r64(lib, 10)
    assert lib.autograd.gradcheck(UserFn.apply, (inp, False), check_forward_ad=True)
    with pytest.raises(RuntimeError, match="Jacobian computed with forward mode mismatch for output 0"):
        lib.autograd.gradcheck(UserFn.apply, (inp, True), check_forward_ad=True)


def test_custom_function_forward_mode_non_tensor_before_tensor_args(lib):
    fwAD = lib.autograd.forward_ad
    seen = []

    class MyFn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, nt, x, nt2, y):
            return x * 2 + y * 3

        @staticmethod
        def jvp(ctx, nt, x_t, nt2, y_t):
            seen.append((nt, nt2))
            return x_t * 2 + y_t * 3

    x = lib.tensor(1.0, dtype=lib.float64)
    t = lib.tensor(1.0, dtype=lib.float64)
    y = lib.tensor(1.0, dtype=lib.float64)
    with fwAD.dual_level():
        dual_x = fwAD.make_dual(x, t)
        MyFn.apply(1, dual_x, 1, y)
    assert seen[0] == (None, None)
    assert lib.autograd.gradcheck(
        MyFn.apply,
        (1, x.requires_grad_(True), 1, y.requires_grad_(True)),
        check_forward_ad=True,
        check_backward_ad=False,
        check_batched_grad=False,
    )


@pytest.mark.parametrize("kind", ["view_as", "self", "mul_by_2"])
def test_custom_function_forward_mode_forward_is_no_op(lib, kind):
    fwAD = lib.autograd.forward_ad
    error_regex = r"A custom Function's forward is returning a view \(or an input as-is\)"
    fn = {"view_as": lambda x: x.view_as(x), "self": lambda x: x, "mul_by_2": lambda x: x * 2}[kind]

    class MyFn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y, x

        @staticmethod
        def vjp(ctx, gO1, gO2):
            return gO1 + gO2, gO1

        @staticmethod
        def jvp(ctx, x_t, y_t):
            return x_t + y_t, fn(x_t)

    a = lib.tensor(1.0, dtype=lib.float64, requires_grad=True)
    t = lib.tensor(1.0, dtype=lib.float64)
    b = lib.tensor(1.0, dtype=lib.float64, requires_grad=True)
    c = lib.tensor(1.0, dtype=lib.float64)
    t2 = lib.tensor(1.0, dtype=lib.float64)
    d = lib.tensor(1.0, dtype=lib.float64)
    with fwAD.dual_level():
        a_dual = fwAD.make_dual(a, t)
        c_dual = fwAD.make_dual(c, t2)
        if kind == "view_as":
            _, out2 = MyFn.apply(a_dual, b)
            assert fwAD.unpack_dual(out2).tangent._base is t
            _, out2 = MyFn.apply(c_dual, d)
            assert fwAD.unpack_dual(out2).tangent._base is t2
        else:
            with pytest.raises(RuntimeError, match=error_regex):
                MyFn.apply(a_dual, b)
            with pytest.raises(RuntimeError, match=error_regex):
                MyFn.apply(c_dual, d)
    if kind == "view_as":
        assert lib.autograd.gradcheck(MyFn.apply, (a, c), check_forward_ad=True)
    else:
        with pytest.raises(RuntimeError, match=error_regex):
            lib.autograd.gradcheck(MyFn.apply, (a, c), check_forward_ad=True)


def test_custom_function_save_for_forward(lib):
    fwAD = lib.autograd.forward_ad

    class Func(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, y, z):
            ctx.save_for_backward(x, y)
            ctx.save_for_forward(x, y)
            ctx.z = z
            ctx.prod = x * y
            return z * ctx.prod

        @staticmethod
        def jvp(ctx, x_t, y_t, _):
            x_p, y_p = ctx.saved_tensors
            return ctx.z * (y_p * x_t + x_p * y_t)

        @staticmethod
        def vjp(ctx, grad_out):
            x, y = ctx.saved_tensors
            return ctx.z * grad_out * y, ctx.z * grad_out * x, None

    a = lib.tensor(1.0, requires_grad=True, dtype=lib.float64)
    t = lib.tensor(1.0, dtype=lib.float64)
    b = lib.tensor(2.0, requires_grad=True, dtype=lib.float64)
    with fwAD.dual_level():
        a_dual = fwAD.make_dual(a, t)
        out = Func.apply(a_dual, b, 4)
        assert fwAD.unpack_dual(out).tangent.item() == 8.0
        out.backward()
    assert lib.autograd.gradcheck(Func.apply, (a, b, 4), check_forward_ad=True)

    lengths = []

    class Func2(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.clone()

        @staticmethod
        def jvp(ctx, x_t):
            lengths.append(len(ctx.saved_tensors))
            return x_t

        @staticmethod
        def vjp(ctx, grad_out):
            lengths.append(len(ctx.saved_tensors))
            return grad_out

    with fwAD.dual_level():
        a_dual = fwAD.make_dual(a, t)
        Func2.apply(a_dual).backward()
    assert lengths == [0, 1]
    assert lib.autograd.gradcheck(Func2.apply, (a,), check_forward_ad=True)


def test_custom_function_forward_mode_non_differentiable(lib):
    fwAD = lib.autograd.forward_ad

    class Func(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            out = y.clone()
            ctx.mark_non_differentiable(out)
            return x.clone(), out

        @staticmethod
        def jvp(ctx, x_tangent, y_tangent):
            return x_tangent, None

    x = lib.tensor(2.0)
    x_tangent = lib.tensor(1.0)
    y = lib.tensor(3.0)
    with fwAD.dual_level():
        x_dual = fwAD.make_dual(x, x_tangent)
        _, out2_dual = Func.apply(x_dual, y)
        assert fwAD.unpack_dual(out2_dual).tangent is None

    class FuncWrong(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            out = y.clone()
            ctx.mark_non_differentiable(out)
            return x.clone(), out

        @staticmethod
        def jvp(ctx, x_tangent, y_tangent):
            return x_tangent, x_tangent.clone()

    with fwAD.dual_level():
        x_dual = fwAD.make_dual(x, x_tangent)
        with pytest.raises(RuntimeError, match="You should return None at that position instead"):
            FuncWrong.apply(x_dual, y)

    class Func3(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone(), object(), x.clone()

        @staticmethod
        def jvp(ctx, x_tangent):
            return x_tangent, None, x_tangent

    with fwAD.dual_level():
        x_dual = fwAD.make_dual(x, x_tangent)
        out_dual, _, out2_dual = Func3.apply(x_dual)
        same(fwAD.unpack_dual(out_dual).tangent, x_tangent)
        same(fwAD.unpack_dual(out2_dual).tangent, x_tangent)


def test_custom_function_local_inplace(lib):
    class MyFn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, inp, inplace):
            view = inp.clone()[:3]
            if inplace:
                view += 2
            return view

        @staticmethod
        def backward(ctx, grad):
            return grad, None

    base = lib.rand(10, requires_grad=True)
    foo = MyFn.apply(base, False)
    assert foo.grad_fn.__class__.__name__ == "MyFnBackward"
    foo = MyFn.apply(base, True)
    assert foo.grad_fn.__class__.__name__ == "MyFnBackward"


def test_integer_outputs(lib):
    inp = lib.rand(4, requires_grad=True)
    for out in (inp.argmax(), inp.argmin(), inp.argsort()):
        assert not out.dtype.is_floating_point
        assert not out.requires_grad
    val = lib.rand((), requires_grad=True)
    out = lib.searchsorted(inp.detach().sort()[0], val)
    assert not out.dtype.is_floating_point and not out.requires_grad
    bins = lib.linspace(0, 1.0, steps=100, requires_grad=True)
    vals = lib.rand(5, 5, requires_grad=True)
    out = lib.bucketize(vals, bins)
    assert not out.dtype.is_floating_point and not out.requires_grad
    val = lib.empty(5).requires_grad_()
    assert not val.count_nonzero().requires_grad

    def assert_only_first_requires_grad(res):
        if not isinstance(res, tuple):
            res = (res,)
        assert res[0].requires_grad
        for o in res[1:]:
            if o is not None:
                assert not o.requires_grad

    for sort in [True, False]:
        for return_inverse in [True, False]:
            for return_counts in [True, False]:
                assert_only_first_requires_grad(
                    lib.unique(inp, sorted=sort, return_inverse=return_inverse, return_counts=return_counts)
                )
                assert_only_first_requires_grad(
                    lib.unique(inp, sorted=sort, return_inverse=return_inverse, return_counts=return_counts, dim=0)
                )
                assert_only_first_requires_grad(
                    lib.unique_consecutive(inp, return_inverse=return_inverse, return_counts=return_counts)
                )


def test_integer_outputs_basic(lib):
    inp = lib.rand(4, requires_grad=True)
    for out in (inp.argmax(), inp.argmin(), inp > 0.5, inp.max(0)[1]):
        assert not out.dtype.is_floating_point
        assert not out.requires_grad
        assert out.grad_fn is None


def test_custom_function_cycle(lib):
    class MyFn(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, metadata):
            x = x.clone()
            ctx.meta = metadata
            ctx.save_for_backward(x)
            return x

        @staticmethod
        def backward(ctx, gO):
            (x,) = ctx.saved_tensors
            assert abs(x.item() - 3.14) < 1e-6
            assert abs(ctx.meta["foo"].item() - 3.14) < 1e-6
            return gO * x, None

    def get_refs(with_backward):
        a = lib.tensor(3.14, requires_grad=True)
        metadata = {}
        out = MyFn.apply(a, metadata)
        metadata["foo"] = out
        if with_backward:
            out.sum().backward()
            close(a.grad, a)
        return weakref.ref(out)

    for with_backward in (False, True):
        gc.disable()
        try:
            ref = get_refs(with_backward)
            assert ref() is not None
        finally:
            gc.enable()
        gc.collect()
        assert ref() is None


@pytest.mark.parametrize("nb_hooks", [1, 2, 3])
@pytest.mark.parametrize("input_requires_grad", [True, False])
def test_create_graph_and_full_backward_hook_cycle(lib, nb_hooks, input_requires_grad):
    class TestCls:
        pass

    def get_ref():
        t = lib.randn(10, requires_grad=input_requires_grad)
        a = lib.tensor(1.0, requires_grad=True)

        class Test(lib.nn.Module):
            def forward(self, x):
                return x**2 * a**2

        mod = Test()
        for _ in range(nb_hooks):
            mod.register_full_backward_hook(lambda a, b, c: None)
        tmp = mod(t)
        test = TestCls()
        ref = weakref.ref(test)
        tmp.grad_fn.metadata["a"] = test
        tmp.exp().sum().backward(create_graph=True)
        a.grad = None
        t.grad = None
        return ref

    ref = get_ref()
    gc.collect()
    assert ref() is None


@pytest.mark.parametrize("use_custom_function", [True, False])
@pytest.mark.parametrize("use_tensor_hook", [True, False])
def test_hook_closure_cycle(lib, use_custom_function, use_tensor_hook):
    class Function(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad

    class Test:
        pass

    count = [0]

    def scope():
        a = lib.tensor(1.0, requires_grad=True)
        b = Function.apply(a) if use_custom_function else a.clone()
        grad_fn_b = b.grad_fn
        obj = Test()

        def hook(*args):
            grad_fn_b  # noqa: B018
            obj  # noqa: B018
            count[0] += 1

        if use_tensor_hook:
            b.register_hook(hook)
        else:
            b.grad_fn.register_hook(hook)
        c = b.clone()
        return c, weakref.ref(obj)

    gc.disable()
    try:
        out, ref = scope()
        out.backward(retain_graph=True)
        gc.collect()
        out.backward(retain_graph=True)
        assert count[0] == 2
        assert ref() is not None
        del out
        gc.collect()
        assert ref() is None
    finally:
        gc.enable()


def test_full_backward_hook_double_backward(lib):
    x = lib.rand(1, requires_grad=True)
    y = lib.rand_like(x)
    func = lib.nn.MSELoss()
    counter = [0]

    def hook(module, grad_input, grad_output):
        counter[0] += 1

    func.register_full_backward_hook(hook)
    f = func(x, y)
    (gradx_f,) = lib.autograd.grad(f, x, create_graph=True)
    assert counter[0] == 1
    lib.autograd.grad(gradx_f, x)
    assert counter[0] == 1


def test_input_buffer_accum(lib):
    leaf = lib.rand(2, 2, requires_grad=True)
    ind = lib.tensor([[0, 0]], dtype=lib.int64)
    out2 = leaf.gather(0, ind)
    out1 = leaf.clone()
    grad_out1_original = lib.rand_like(out1)
    grad_out1 = grad_out1_original.clone()
    grad_out2 = lib.rand_like(out2)
    lib.autograd.backward((out1, out2), (grad_out1, grad_out2))
    same(grad_out1, grad_out1_original)


def test_given_gradient_not_modified_inplace(lib):
    leaf = lib.rand(3, requires_grad=True)
    a = leaf.clone()
    b = leaf * 1
    g = lib.ones(3)
    lib.autograd.backward((a, b), (g, g))
    same(g, [1.0, 1.0, 1.0])
    same(leaf.grad, [2.0, 2.0, 2.0])


# ========================================================================= saved tensors
def test_no_unnecessary_unwrapping(lib):
    a = lib.randn(5, requires_grad=True)
    a_orig = npy(a).copy()
    b = a * a
    c = a * b
    d = lib.exp(a)
    assert b.grad_fn._saved_self is a
    assert b.grad_fn._saved_other is a
    assert c.grad_fn._saved_self is a
    assert c.grad_fn._saved_other is b
    same(d.grad_fn._saved_result, d)
    assert d.grad_fn._saved_result is not d
    c.sum().backward()
    with pytest.raises(RuntimeError, match="after they have already been freed"):
        _ = c.grad_fn._saved_self
    same(a, a_orig)


def test_saved_variable_version_counter(lib):
    a = lib.rand(2, requires_grad=True)
    b = lib.exp(a)
    b_unpacked = b.grad_fn._saved_result
    same(b, b_unpacked)
    assert b._version == b_unpacked._version
    with lib.no_grad():
        b += 1
    same(b, b_unpacked)
    assert b._version == b_unpacked._version


@pytest.mark.parametrize("is_leaf", [True, False])
def test_saved_variable_packing_unpacking_saved_original_with_hooks(lib, is_leaf):
    def get_input():
        x = lib.randn(5, requires_grad=True)
        return x if is_leaf else 1 + x

    a = get_input()
    grad_fn = a.grad_fn
    y = a * a
    y.grad_fn._raw_saved_self.register_hooks(lambda x: 2 * x, lambda x: x / 2)
    close(y.grad_fn._saved_self, a)
    if not is_leaf:
        assert y.grad_fn._saved_self.grad_fn is grad_fn
        y.sum().backward()
    else:
        y.sum().backward()
        close(a.grad, 2 * npy(a))

    a = get_input()
    grad_fn = a.grad_fn
    y = a * a
    y.grad_fn._raw_saved_self.register_hooks(lambda x: 2 * x, lambda x: x)
    close(y.grad_fn._saved_self, 2 * npy(a))
    if not is_leaf:
        assert y.grad_fn._saved_self.grad_fn is grad_fn
        y.sum().backward()
    else:
        y.sum().backward()
        close(a.grad, 3 * npy(a))

    a = get_input()
    grad_fn = a.grad_fn
    y = a**3
    y.grad_fn._raw_saved_self.register_hooks(lambda x: x, lambda x: x)
    (g,) = lib.autograd.grad(lib.sum(y), (a,), create_graph=True)
    if not is_leaf:
        assert y.grad_fn._saved_self.grad_fn is grad_fn
        g.sum().backward()
    else:
        g.sum().backward()
        close(a.grad, 6 * npy(a))

    a = get_input()
    y = a * a
    y.grad_fn._raw_saved_self.register_hooks(lambda x: x, lambda x: 1)
    with pytest.raises(TypeError, match="Output of saved tensor unpack_hook expected to be a Tensor"):
        _ = y.grad_fn._saved_self

    a = get_input()
    y = a * a
    with pytest.raises(TypeError, match="missing 1 required positional argument"):
        y.grad_fn._raw_saved_self.register_hooks(lambda x, b: x, lambda x: x)

    def inplace_double(x):
        x *= 2
        return x

    a = get_input()
    t = a * a
    with pytest.raises(RuntimeError, match="A saved tensor pack hook is modifying its input in place."):
        t.grad_fn._raw_saved_self.register_hooks(inplace_double, lambda x: x / 2)


def test_saved_variable_saved_original_inplace_detach(lib):
    a = lib.tensor(1.0, requires_grad=True).clone()
    b = a.sin()
    a.detach_()
    with pytest.raises(RuntimeError, match="Trying to use a saved tensor that has been detached"):
        b.backward()
    a = lib.tensor(1.0, requires_grad=True).clone()
    b = a.exp()
    a.detach_()
    b.backward()


def test_saved_variable_packing_unpacking_did_not_save_original_with_hooks(lib):
    a = lib.randn(5, requires_grad=True)
    y = lib.exp(a)
    y.grad_fn._raw_saved_result.register_hooks(lambda x: x, lambda x: x)
    same(y, y.grad_fn._saved_result)
    assert y.grad_fn._saved_result.grad_fn is y.grad_fn
    y.sum().backward()
    close(a.grad, y)


def test_saved_variable_packing_unpacking_saved_original_with_default_hooks(lib):
    hooks = lib.autograd.graph.saved_tensors_hooks

    def pack(x):
        warnings.warn("pack", stacklevel=2)
        return x

    with hooks(pack, lambda x: x):
        a = lib.ones(5, requires_grad=True)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            _ = a * a
            assert len(w) == 2

    with hooks(lambda x: x, lambda x: x):
        a = lib.randn(5, requires_grad=True)
        y = a * a
        same(y.grad_fn._saved_self, a)
        same(y.grad_fn._saved_other, a)
        y.sum().backward()
        close(a.grad, 2 * npy(a))

    with hooks(lambda x: 2 * x, lambda x: x / 2):
        a = lib.randn(5, requires_grad=True)
        y = a * a
        close(y.grad_fn._saved_self, a)
        close(y.grad_fn._saved_other, a)
        y.sum().backward()
        close(a.grad, 2 * npy(a))

    with hooks(lambda x: 2 * x, lambda x: x):
        a = lib.randn(5, requires_grad=True)
        y = a * a
        close(y.grad_fn._saved_self, 2 * npy(a))
        close(y.grad_fn._saved_other, 2 * npy(a))
        y.sum().backward()
        close(a.grad, 4 * npy(a))

    a = lib.randn(5, requires_grad=True)
    y = a * a
    same(y.grad_fn._saved_self, a)
    y.sum().backward()
    close(a.grad, 2 * npy(a))


def test_saved_variable_packing_unpacking_did_not_save_original_with_default_hooks(lib):
    with lib.autograd.graph.saved_tensors_hooks(lambda x: x, lambda x: x):
        a = lib.randn(5, requires_grad=True)
        y = lib.exp(a)
        same(y, y.grad_fn._saved_result)
        y.sum().backward()
        close(a.grad, y)


def test_setting_default_saved_variable_hooks_twice_should_not_fail(lib):
    with lib.autograd.graph.saved_tensors_hooks(lambda x: x, lambda x: x):
        with lib.autograd.graph.saved_tensors_hooks(lambda x: x, lambda x: x):
            pass


def test_setting_default_saved_variable_hooks_twice_should_use_inner(lib):
    hooks = lib.autograd.graph.saved_tensors_hooks
    with hooks(lambda x: 3 * x, lambda x: 3 * x):
        b = lib.randn(5, requires_grad=True)
        with hooks(lambda x: 5 * x, lambda x: 5 * x):
            a = lib.randn(5, requires_grad=True)
            y = a * a
        z = b * b
    y.sum().backward()
    z.sum().backward()
    close(a.grad, 2 * 5 * 5 * npy(a), rtol=1e-5, atol=1e-5)
    close(b.grad, 2 * 3 * 3 * npy(b), rtol=1e-5, atol=1e-5)


def test_disabling_saved_tensor_hooks(lib):
    graph = lib.autograd.graph
    with graph.disable_saved_tensors_hooks("error message"):
        with pytest.raises(RuntimeError, match="error message"):
            with graph.saved_tensors_hooks(lambda x: x, lambda x: x):
                pass
    with graph.saved_tensors_hooks(lambda x: x, lambda x: x):
        with pytest.raises(RuntimeError, match="error message"):
            with graph.disable_saved_tensors_hooks("error message"):
                pass
    with graph.saved_tensors_hooks(lambda x: x, lambda x: x):
        pass


def test_disabling_saved_tensor_hooks_nested(lib):
    graph = lib.autograd.graph
    with graph.disable_saved_tensors_hooks("outer"):
        with graph.disable_saved_tensors_hooks("inner"):
            with pytest.raises(RuntimeError, match="inner"):
                with graph.saved_tensors_hooks(lambda x: x, lambda x: x):
                    pass
        with pytest.raises(RuntimeError, match="outer"):
            with graph.saved_tensors_hooks(lambda x: x, lambda x: x):
                pass
    with graph.saved_tensors_hooks(lambda x: x, lambda x: x):
        pass


def test_saved_tensor_hooks_custom_error_propagation(lib):
    class CustomError(Exception):
        pass

    class error_on_pack_hook(lib.autograd.graph.saved_tensors_hooks):
        def __init__(self):
            def pack_hook(x):
                raise CustomError("pack")

            super().__init__(pack_hook, lambda x: x)

    class error_on_unpack_hook(lib.autograd.graph.saved_tensors_hooks):
        def __init__(self):
            def unpack_hook(x):
                raise CustomError("unpack")

            super().__init__(lambda x: x, unpack_hook)

    a = lib.tensor(1.0, requires_grad=True)
    with error_on_pack_hook():
        with pytest.raises(CustomError, match="pack"):
            lib.sin(a)
    with error_on_unpack_hook():
        out = lib.sin(a)
        with pytest.raises(CustomError, match="unpack"):
            out.backward()


def test_saved_tensor_hooks_custom_function_intermediates(lib):
    class Func(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            intermediate = x.exp()
            ctx.save_for_backward(intermediate.clone().detach_().requires_grad_(True))
            return x.exp()

        @staticmethod
        def backward(ctx, grad_out):
            (intermediate,) = ctx.saved_tensors
            return grad_out * intermediate

    a = lib.tensor(1.0, requires_grad=True)
    with lib.autograd.graph.saved_tensors_hooks(lambda x: x, lambda x: x):
        out = Func.apply(a)
    out.backward()
    close(a.grad, math.e)


def test_unpack_hooks_exec_count(lib):
    counts = {"pack": 0, "unpack": 0}

    def pack_hook(x):
        counts["pack"] += 1
        return x

    def unpack_hook(x):
        counts["unpack"] += 1
        return x

    x = lib.ones(4, requires_grad=True)
    y = lib.ones(4, requires_grad=False)
    with lib.autograd.graph.saved_tensors_hooks(pack_hook, unpack_hook):
        out = x * y
        assert counts == {"pack": 1, "unpack": 0}
        out.sum().backward()
        assert counts == {"pack": 1, "unpack": 1}


def test_saved_tensors_hook_version_counter_not_shared(lib):
    versions = []

    class Test(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin()

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            before = a._version
            x.add_(1)
            versions.append((before, a._version))
            return grad_output

    a = lib.tensor(1.0, requires_grad=True)
    a_replacement = a.clone()
    with lib.autograd.graph.saved_tensors_hooks(lambda x: a_replacement, lambda x: x):
        b = Test.apply(a)
    b.backward()
    assert versions[0][0] == versions[0][1]


def test_save_on_cpu_and_checkpoint(lib):
    cp = lib.utils.checkpoint
    a = lib.randn(2, 2, requires_grad=True)
    b = a.pow(2).pow(2).pow(2).pow(2)
    b.sum().backward()
    b_grad = a.grad.clone()
    a.grad.zero_()
    with lib.autograd.graph.save_on_cpu():
        h = a.pow(2)
        h = cp.checkpoint(lambda x: x.pow(2).pow(2), h, use_reentrant=False)
        c = h.pow(2)
    c.sum().backward()
    c_grad = a.grad.clone()
    a.grad.zero_()

    def f(a):
        h = a.pow(2)
        with lib.autograd.graph.save_on_cpu():
            h = h.pow(2).pow(2)
        return h.pow(2)

    d = cp.checkpoint(f, a, use_reentrant=False)
    d.sum().backward()
    d_grad = a.grad.clone()
    close(b_grad, c_grad)
    close(b_grad, d_grad)


def test_pack_hook_with_inplace_modification_should_fail(lib):
    a = lib.randn(5, requires_grad=True)

    def inc(x):
        x += 1
        return x

    with lib.autograd.graph.saved_tensors_hooks(inc, lambda x: x):
        with pytest.raises(RuntimeError, match="A saved tensor pack hook is modifying its input in place."):
            lib.exp(a)
    y = lib.exp(a)
    with pytest.raises(RuntimeError, match="A saved tensor pack hook is modifying its input in place."):
        y.grad_fn._raw_saved_result.register_hooks(inc, lambda x: x)


def test_saving_variable_to_disk(lib, tmp_path):
    counter = [0]

    def pack(x):
        counter[0] += 1
        name = str(tmp_path / f"t{counter[0]}.pt")
        lib.save(x, name)
        return name

    def unpack(name):
        return lib.load(name)

    with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
        a = lib.ones(5, requires_grad=True)
        y = a * a
        same(y.grad_fn._saved_self, a)
        y.sum().backward()
        same(a.grad, 2 * npy(a))


def test_default_saved_tensors_hooks_double_backward(lib):
    hooks = lib.autograd.graph.saved_tensors_hooks
    with hooks(lambda x: x, lambda x: x):
        a = lib.randn(5, requires_grad=True)
        (g,) = lib.autograd.grad(lib.sum(a**3), (a,), create_graph=True)
        g.sum().backward()
        close(a.grad, 6 * npy(a), rtol=1e-5, atol=1e-5)
    with hooks(lambda x: 2 * x, lambda x: x):
        a = lib.randn(5, requires_grad=True)
        s = lib.sum(a**3)
    (g,) = lib.autograd.grad(s, (a,), create_graph=True)
    g.sum().backward()
    close(a.grad, 6 * 2 * npy(a), rtol=1e-5, atol=1e-5)
    a = lib.randn(5, requires_grad=True)
    s = lib.sum(a**3)
    with hooks(lambda x: 2 * x, lambda x: x):
        (g,) = lib.autograd.grad(s, (a,), create_graph=True)
        g.sum().backward()
        close(a.grad, 6 * 4 * npy(a), rtol=1e-5, atol=1e-5)
    with hooks(lambda x: 2 * x, lambda x: x):
        a = lib.randn(5, requires_grad=True)
        s = lib.sum(a**3)
        (g,) = lib.autograd.grad(s, (a,), create_graph=True)
        g.sum().backward()
        close(a.grad, 6 * 8 * npy(a), rtol=1e-5, atol=1e-5)


def test_wrapped_number_saved_tensors_hooks(lib):
    def err_hook(x):
        raise RuntimeError("this hook should not be called")

    with lib.autograd.graph.saved_tensors_hooks(err_hook, err_hook):
        a = lib.randn(5, requires_grad=True)
        out = (a * 3).sum()
        lib.autograd.grad(out, (a,))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_graph_save_on_cpu(lib, dtype):
    with lib.autograd.graph.save_on_cpu(False):
        a = lib.randn(5, requires_grad=True, dtype=getattr(lib, dtype))
        y = a * a
        same(y.grad_fn._saved_self, a)
        same(y.grad_fn._saved_other, a)
        assert y.grad_fn._saved_self.dtype == a.dtype
        y.sum().backward()
        close(a.grad, 2 * npy(a))


# ================================================================== multi-grad hooks
def test_multi_grad_all_hooks(lib):
    t1 = lib.rand(2, requires_grad=True).mul(2)

    class Foo(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a.clone()

        @staticmethod
        def backward(ctx, gO):
            return gO

    t2 = Foo.apply(lib.rand(2, requires_grad=True))
    t3 = lib.rand(2, requires_grad=True).clone()
    t4 = lib.rand(2, requires_grad=True)
    res = [None] * 4
    count = [0]

    def hook(grads):
        nonlocal res
        count[0] += 1
        res = [g is not None for g in grads]

    handle = lib.autograd.graph.register_multi_grad_hook((t1, t2, t3, t4), hook)
    out = t2 * t3
    out.sum().backward(inputs=(t2, t3), retain_graph=True)
    assert count[0] == 1
    assert res == [False, True, True, False]
    out.sum().backward(inputs=(t1, t4), retain_graph=True)
    assert count[0] == 1
    out.sum().backward(inputs=(t1, t3), retain_graph=True)
    assert count[0] == 2
    assert res == [False, False, True, False]

    class Func(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, gO):
            raise RuntimeError("error message")

    out = Func.apply(t2) * t3
    with pytest.raises(RuntimeError, match="error message"):
        out.sum().backward(inputs=(t2, t3), retain_graph=True)
    assert count[0] == 2
    handle.remove()
    out.sum().backward(inputs=(t1, t3), retain_graph=True)
    assert count[0] == 2


def test_multi_grad_any_hooks(lib):
    hook_id = 0
    any_hook_handles = []
    hook_order = []

    def hook(hid, *unused):
        hook_order.append(hid)

    class MultiOutputModule(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = lib.nn.Linear(3, 3)

        def forward(self, x):
            nonlocal hook_id
            z = self.lin(x)
            out = lib.sin(z), lib.cos(z)
            z.register_hook(partial(hook, hook_id))
            hook_id += 1
            any_hook_handles.append(
                lib.autograd.graph.register_multi_grad_hook(out, partial(hook, hook_id), mode="any")
            )
            hook_id += 1
            return out

    class Model(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.mod1 = MultiOutputModule()
            self.mod2 = MultiOutputModule()

        def forward(self, x):
            y = self.mod1(x)
            return self.mod2(y[0] + y[1])

    model = Model()
    inp = lib.randn((2, 3))
    out = model(inp)
    (out[0] + out[1]).sum().backward()
    assert len(any_hook_handles) == 2
    assert hook_order == [3, 2, 1, 0]
    hook_id = 0
    hook_order.clear()
    any_hook_handles.clear()
    out = model(inp)
    for h in any_hook_handles:
        h.remove()
    (out[0] + out[1]).sum().backward()
    assert hook_order == [2, 0]


def test_multi_grad_hooks_invalid_mode(lib):
    t1 = lib.rand(2, requires_grad=True)
    t2 = lib.rand(2, requires_grad=True)
    with pytest.raises(ValueError, match=r"Expects mode to be one of \('all', 'any'\) but got foo"):
        lib.autograd.graph.register_multi_grad_hook((t1, t2), lambda _: None, mode="foo")


def test_pynode_destruction_deadlock(lib):
    script = f"""
import {lib.__name__} as torch

class Foo(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, gO):
        return gO.clone()

def get_out():
    inp = torch.rand(2, requires_grad=True)
    right = Foo.apply(inp)
    left1 = inp.clone()
    left2 = left1 ** 2
    left1 += 1
    return left2 + right

get_out().sum().backward()
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode > 0, "expected a Python error, not success or a fatal signal"
    assert "RuntimeError: one of the variables needed for gradient computation" in proc.stderr


@pytest.mark.parametrize("kind", ["staticmethod", "classmethod"])
def test_setup_context_when_forward_has_default_args(lib, kind):
    if kind == "staticmethod":

        class PowFunction(lib.autograd.Function):
            @staticmethod
            def forward(x, y=3):
                return lib.pow(x, y)

            @staticmethod
            def setup_context(ctx, inputs, output):
                x, y = inputs
                ctx.save_for_backward(x)
                ctx.y = y

            @staticmethod
            def backward(ctx, gO):
                (x,) = ctx.saved_tensors
                return gO * ctx.y * lib.pow(x, ctx.y - 1), None

    else:

        class PowFunction(lib.autograd.Function):
            @classmethod
            def forward(cls, x, y=3):
                return lib.pow(x, y)

            @classmethod
            def setup_context(cls, ctx, inputs, output):
                x, y = inputs
                ctx.save_for_backward(x)
                ctx.y = y

            @classmethod
            def backward(cls, ctx, gO):
                (x,) = ctx.saved_tensors
                return gO * ctx.y * lib.pow(x, ctx.y - 1), None

    x = lib.tensor(2.0, requires_grad=True)
    y = PowFunction.apply(x)
    (g,) = lib.autograd.grad(y, x)
    assert y.item() == 8.0
    assert g.item() == 12.0


def test_grad_thread_safety(lib):
    from concurrent.futures import ThreadPoolExecutor

    def access_grad(tensor, barrier):
        barrier.wait()
        return weakref.ref(tensor.grad)

    for _ in range(5):
        tensor = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        (tensor**2).sum().backward()
        barrier = threading.Barrier(4)
        with ThreadPoolExecutor(max_workers=4) as executor:
            futures = [executor.submit(access_grad, tensor, barrier) for _ in range(4)]
            for future in futures:
                assert future.result()() is tensor.grad
        same(tensor.grad, [2.0, 4.0, 6.0])


# ============================================================================= forward AD
def test_forward_ad_out_of_place_basic_batched(lib):
    a = r64(lib, 4, 4)
    b = r64(lib, 4, 4)
    opts = dict(check_forward_ad=True, check_batched_grad=True, check_batched_forward_grad=True)
    assert lib.autograd.gradcheck(lib.sin, a, **opts)
    assert lib.autograd.gradcheck(lib.add, (a, b), **opts)


def test_forward_level_cleanup(lib):
    fwAD = lib.autograd.forward_ad
    foo = lib.rand(2)
    with fwAD.dual_level():
        tangent = lib.rand(2, requires_grad=True)
        tangent_ref = weakref.ref(tangent)
        dual = fwAD.make_dual(foo, tangent)
        assert fwAD.unpack_dual(dual)[1] is tangent
        del tangent
        assert tangent_ref() is not None
        del dual
        gc.collect()
        assert tangent_ref() is None


def test_forward_ad_size_check(lib):
    fwAD = lib.autograd.forward_ad
    foo = lib.rand(2)
    tangent = lib.rand(3)
    with fwAD.dual_level():
        with pytest.raises(RuntimeError, match="Trying to set a forward gradient that has a different size"):
            fwAD.make_dual(foo, tangent)
        fwAD.make_dual(foo, tangent[1:])


def test_forward_ad_default_level(lib):
    fwAD = lib.autograd.forward_ad
    foo = lib.rand(2)
    bar = lib.rand(2)
    with fwAD.dual_level():
        baz = fwAD.make_dual(foo, bar)
        baz_primal, baz_tangent = fwAD.unpack_dual(baz)
    same(baz_primal, foo)
    assert baz_tangent is bar
    baz_primal, baz_tangent = fwAD.unpack_dual(baz)
    same(baz_primal, foo)
    assert baz_tangent is None


def test_forward_ad_nested_level(lib):
    fwAD = lib.autograd.forward_ad
    with fwAD.dual_level() as level:
        assert level == 0
    with fwAD.dual_level():
        with pytest.raises(RuntimeError, match="Nested forward mode AD is not supported at the moment"):
            fwAD.enter_dual_level()


def test_set_fw_grad_having_own_fw_grad_at_same_level(lib):
    fwAD = lib.autograd.forward_ad
    foo = lib.rand(2)
    bar = lib.rand(2)
    baz = lib.rand(2)
    with fwAD.dual_level():
        dual = fwAD.make_dual(foo, bar)
        with pytest.raises(RuntimeError, match="has a forward gradient at the same level"):
            fwAD.make_dual(baz, dual)


def test_make_dual_inference_tensor_in_inference_mode(lib):
    fwAD = lib.autograd.forward_ad
    with lib.inference_mode():
        foo = lib.rand(2)
        bar = lib.rand(2)
        foo_copy = foo.clone()
        with fwAD.dual_level():
            dual = fwAD.make_dual(foo, bar)
            assert dual._base is None
            dual += 1
            assert not np.allclose(npy(foo), npy(foo_copy))


def test_make_dual_forbid_integral_dtype(lib):
    fwAD = lib.autograd.forward_ad
    primal_f = lib.ones(2, 2, dtype=lib.float32)
    primal_l = lib.ones(2, 2, dtype=lib.int64)
    tangent_f = lib.ones(2, 2, dtype=lib.float32)
    tangent_l = lib.ones(2, 2, dtype=lib.int64)
    with fwAD.dual_level():
        with pytest.raises(ValueError, match="Expected tangent to be floating point or complex"):
            fwAD.make_dual(primal_f, tangent_l)
        with pytest.raises(ValueError, match="Expected primal to be floating point or complex"):
            fwAD.make_dual(primal_l, tangent_l)
        with pytest.raises(ValueError, match="Expected primal to be floating point or complex"):
            fwAD.make_dual(primal_l, tangent_f)


def test_forward_ad_print(lib):
    fwAD = lib.autograd.forward_ad
    with fwAD.dual_level():
        a = lib.rand(3)
        assert "tangent=" not in str(a)
        b = fwAD.make_dual(a, lib.rand(3))
        assert "tangent=" not in str(a)
        assert "tangent=" in str(b)
        b_primal, b_tangent = fwAD.unpack_dual(b)
        assert "tangent=" not in str(b_primal)
        assert "tangent=" not in str(b_tangent)


def test_forward_ad_basic_packing_unpacking(lib):
    fwAD = lib.autograd.forward_ad
    foo = lib.rand(2)
    bar = lib.rand(2)
    with fwAD.dual_level():
        baz = fwAD.make_dual(foo, bar)
        baz_primal, baz_tangent = fwAD.unpack_dual(baz)
        same(baz_primal, foo)
        assert baz_tangent is bar
        assert baz_primal is not fwAD.unpack_dual(baz).primal
        same(fwAD.unpack_dual(baz).primal, baz_primal)
        assert fwAD.unpack_dual(baz).tangent is baz_tangent
        foo_primal, foo_tangent = fwAD.unpack_dual(foo)
        same(foo_primal, foo)
        assert foo_tangent is None


def test_forward_ad_advanced_packing_unpacking(lib):
    fwAD = lib.autograd.forward_ad
    foo = lib.rand(2)
    bar = lib.ones(2)
    with fwAD.dual_level():
        dual = fwAD.make_dual(foo, bar)
        assert dual.data_ptr() == foo.data_ptr()
        assert foo._version == dual._version
        foo.add_(1)
        assert foo._version == dual._version
        dual_primal, dual_tangent = fwAD.unpack_dual(dual)
        assert dual_primal.data_ptr() == foo.data_ptr()
        assert dual_tangent.data_ptr() == bar.data_ptr()
        assert dual_tangent is bar
        assert foo._version == dual_primal._version
        foo.add_(1)
        assert foo._version == dual_primal._version
        assert bar._version == dual_tangent._version
        bar.add_(1)
        assert bar._version == dual_tangent._version

    with fwAD.dual_level():
        foo.requires_grad_()
        bar.requires_grad_()
        dual = fwAD.make_dual(foo, bar)
        p, t = fwAD.unpack_dual(dual)
        gfoo, gbar = lib.autograd.grad(p.sum(), (foo, bar), retain_graph=True, allow_unused=True)
        same(gfoo, [1.0, 1.0])
        assert gbar is None
        gfoo, gbar = lib.autograd.grad(t.sum(), (foo, bar), retain_graph=True, allow_unused=True)
        assert gfoo is None
        same(gbar, [1.0, 1.0])

        out = dual.detach() * 2
        p, t = fwAD.unpack_dual(out)
        assert not p.requires_grad
        close(p, npy(foo) * 2)
        assert t is None

        with lib.no_grad():
            out = dual * 3
        p, t = fwAD.unpack_dual(out)
        assert not p.requires_grad and not t.requires_grad
        close(p, npy(foo) * 3)
        close(t, npy(bar) * 3)

        dual = dual.clone()
        dual.detach_()
        out = dual * 2
        p, t = fwAD.unpack_dual(out)
        assert not p.requires_grad
        close(p, npy(foo) * 2)
        assert t is None


def test_forward_ad_view_inplace_non_differentiable_views(lib):
    fwAD = lib.autograd.forward_ad
    original_foo = lib.rand(2, dtype=lib.float64)
    original_bar = lib.ones(2, dtype=lib.float64)
    foo = original_foo.clone()
    bar = original_bar.clone()
    of, ob = npy(original_foo), npy(original_bar)
    with fwAD.dual_level():
        dual = fwAD.make_dual(foo, bar)
        dual *= 2
        assert fwAD.unpack_dual(foo)[1] is None
        close(bar, ob * 2)
        close(fwAD.unpack_dual(dual)[1], ob * 2)
        close(foo, of * 2)
        close(fwAD.unpack_dual(dual)[0], of * 2)
        dual_primal, dual_tangent = fwAD.unpack_dual(dual)
        assert fwAD.unpack_dual(dual_primal)[1] is None
        assert fwAD.unpack_dual(dual_tangent)[1] is None
        dual_primal *= 2
        close(fwAD.unpack_dual(dual)[0], of * 4)
        close(fwAD.unpack_dual(dual)[1], ob * 2)
        dual_tangent *= 2
        close(fwAD.unpack_dual(dual)[0], of * 4)
        close(fwAD.unpack_dual(dual)[1], ob * 4)


def test_forward_ad_view_inplace_differentiable_views(lib):
    fwAD = lib.autograd.forward_ad
    foo = lib.rand(2)
    bar = lib.ones(2)
    with fwAD.dual_level():
        dual = fwAD.make_dual(foo, bar)
        view = dual.narrow(0, 0, 1)
        view *= 2
        assert fwAD.unpack_dual(foo)[1] is None
        same(fwAD.unpack_dual(dual)[1], [2.0, 1.0])
        same(fwAD.unpack_dual(view)[1], [2.0])
        baz = lib.rand(2)
        baz += dual
        same(fwAD.unpack_dual(baz)[1], fwAD.unpack_dual(dual)[1])
        baz = lib.rand(2)
        baz[0] = dual[0]
        same(fwAD.unpack_dual(baz)[1][0], fwAD.unpack_dual(dual)[1][0])
        assert fwAD.unpack_dual(baz)[1][1].item() == 0.0
        baz = lib.rand(2)
        view = baz.detach()
        view += dual
        assert fwAD.unpack_dual(baz)[1] is None


@pytest.mark.parametrize("op", ["add_", "mul_", "copy_"])
def test_forward_ad_view_inplace_always_creates_a_view(lib, op):
    fwAD = lib.autograd.forward_ad
    base = lib.randn(2, 2)
    view = base.transpose(0, 1)
    primal = lib.randn(2, 2)
    tangent = lib.randn(2, 2)
    with fwAD.dual_level():
        dual = fwAD.make_dual(primal, tangent)
        getattr(view, op)(dual)
        p, t = fwAD.unpack_dual(base)
        p_clone = npy(p).copy()
        t_clone = npy(t).copy()
        view *= 2
        p, t = fwAD.unpack_dual(base)
        close(p, p_clone * 2)
        close(t, t_clone * 2)


def test_forward_ad_grad_cleanup(lib):
    fwAD = lib.autograd.forward_ad
    foo = lib.rand(2)
    bar = lib.rand(2)
    baz = lib.rand(2)
    with fwAD.dual_level():
        dual = fwAD.make_dual(foo, bar)
        assert fwAD.unpack_dual(foo)[1] is None
        assert fwAD.unpack_dual(dual)[1] is bar
    assert fwAD.unpack_dual(dual)[1] is None
    with fwAD.dual_level():
        assert fwAD.unpack_dual(foo)[1] is None
        new_dual = fwAD.make_dual(foo, baz)
        dual_primal, dual_tangent = fwAD.unpack_dual(dual)
        new_dual_primal, new_dual_tangent = fwAD.unpack_dual(new_dual)
        same(dual_primal, new_dual_primal)
        assert dual_tangent is None
        same(new_dual_tangent, baz)


def test_detach_view_tracking(lib):
    foo = lib.rand(2)
    foo_weak = weakref.ref(foo)
    out = foo.detach()
    del foo
    gc.collect()
    assert foo_weak() is None
    assert out.shape == (2,)


def test_forward_ad_out_variant(lib):
    fwAD = lib.autograd.forward_ad
    with fwAD.dual_level():
        foo = fwAD.make_dual(lib.rand(2), lib.rand(2))
        bar = lib.rand(2)
        with pytest.raises(RuntimeError, match="out= function"):
            lib.add(bar, bar, out=foo)
        with pytest.raises(RuntimeError, match="out= function"):
            lib.add(foo, bar, out=bar)


def test_forward_ad_non_differentiable(lib):
    fwAD = lib.autograd.forward_ad
    with fwAD.dual_level():
        foo = fwAD.make_dual(lib.rand(2), lib.rand(2))
        bar = lib.rand(2)
        _ = foo == bar
        foo.eq_(bar)


def test_forward_ad_backward_graph_destruction(lib):
    fwAD = lib.autograd.forward_ad

    def fn():
        a = lib.rand(10, requires_grad=True)
        da = fwAD.make_dual(lib.rand_like(a), a)
        da.exp()

    with fwAD.dual_level():
        fn()


def test_forward_ad_jvp_values(lib):
    fwAD = lib.autograd.forward_ad
    x = lib.tensor([0.5, 1.0, 2.0], dtype=lib.float64)
    v = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, v)
        out = (d.sin() * d + d.exp()).sum()
        p, t = fwAD.unpack_dual(out)
    X, V = npy(x), npy(v)
    close(p, np.sum(np.sin(X) * X + np.exp(X)))
    close(t, np.sum((np.cos(X) * X + np.sin(X) + np.exp(X)) * V))


# ========================================================= TestAutogradDeviceType (cpu)
def _mask_not_all_zeros(lib, shape, seed=0):
    rng = np.random.default_rng(seed)
    m = rng.random(shape) > 0.5
    if not m.any():
        m.flat[0] = True
    return lib.tensor(m.tolist())


@pytest.mark.parametrize("fname", ["min", "max", "median", "nanmedian"])
def test_min_max_median_backprops_to_all_values(lib, fname):
    f = getattr(lib, fname)
    x1 = lib.tensor([1.0, 0.0, 1.0, 0.0, 1.0, 0.0], requires_grad=True)
    x2 = lib.tensor([float("nan"), float("nan"), float("nan")], requires_grad=True)
    for x in [x1, x2]:
        y = f(x)
        y.backward()
        close(x.grad.sum(), 1.0)
        assert int((x.grad == 1 / 3).sum().item()) == 3


def test_min_max_backprops_to_all_values_basic(lib):
    for fname in ("min", "max"):
        x = lib.tensor([1.0, 0.0, 1.0, 0.0, 1.0, 0.0], requires_grad=True)
        getattr(lib, fname)(x).backward()
        close(x.grad.sum(), 1.0)
        close(x.grad, [1 / 3, 0, 1 / 3, 0, 1 / 3, 0] if fname == "max" else [0, 1 / 3, 0, 1 / 3, 0, 1 / 3])


@pytest.mark.parametrize("fname", ["scatter_reduce", "index_reduce"])
@pytest.mark.parametrize("reduction", ["amin", "amax"])
def test_scatter_index_reduce_amin_amax_backprops_to_all_values(lib, fname, reduction):
    fn = getattr(lib, fname)
    input = f64(lib, 2, 3)
    src = input.clone().detach_().requires_grad_(True)
    idx = lib.arange(2).to(dtype=lib.int64)
    if fname == "scatter_reduce":
        idx = idx.unsqueeze(-1).expand((2, 3))
    assert lib.autograd.gradcheck(fn, (input, 0, idx, src, reduction), check_batched_grad=False)


@pytest.mark.parametrize("fname", ["scatter_reduce", "index_reduce"])
def test_scatter_index_reduce_prod_gradgrad_error(lib, fname):
    fn = getattr(lib, fname)
    input = lib.tensor([1.0], dtype=lib.float64, requires_grad=True)
    src = lib.tensor([0.0, 0.0], dtype=lib.float64, requires_grad=True)
    idx = lib.tensor([0, 0], dtype=lib.int64)
    assert lib.autograd.gradcheck(fn, (input, 0, idx, src, "prod"), check_batched_grad=False)
    with pytest.raises(RuntimeError, match="Double backward is unsupported for"):
        lib.autograd.gradgradcheck(fn, (input, 0, idx, src, "prod"))


def test_parameter_resize(lib):
    asd = lib.nn.Parameter(lib.ones(16, dtype=lib.float64))
    for _ in range(2):
        with lib.no_grad():
            asd.set_(asd[1:])
            asd.grad = None
        m = lib.cat((asd, asd))
        m.sum().backward()
    assert tuple(asd.grad.shape) == (14,)


def test_pyscalar_conversions(lib):
    li = lib.zeros(1, 1, 1, dtype=lib.int64)
    li[0] = -12345
    assert int(li) == -12345
    f = lib.randn(1, 1, dtype=lib.float64)
    f[0] = -12345.1
    assert float(f) == -12345.1
    f[0] = float("nan")
    assert math.isnan(float(f))
    f[0] = float("inf")
    assert float(f) == float("inf")
    f[0] = -float("inf")
    assert float(f) == -float("inf")
    pyscalar = 1234567890123456789
    li[0] = pyscalar
    assert float(li) == float(pyscalar)
    f[0] = float("nan")
    with pytest.raises(ValueError):
        int(f[0])
    f[0] = float("inf")
    with pytest.raises(OverflowError):
        int(f[0])
    f[0] = -float("inf")
    with pytest.raises(OverflowError):
        int(f[0])
    f[0] = sys.float_info.max
    assert int(f) == sys.float_info.max

    def check_nonzero(tensor, value, expected):
        tensor[0] = value
        assert bool(tensor) == expected

    check_nonzero(li, 0, False)
    check_nonzero(li, -2, True)
    check_nonzero(f, 0.0, False)
    check_nonzero(f, sys.float_info.min, True)
    check_nonzero(f, float("nan"), True)
    check_nonzero(f, float("inf"), True)
    check_nonzero(f, -float("inf"), True)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int8", "int16", "int32", "int64"])
def test_set_requires_grad_only_for_floats(lib, dtype):
    dt = getattr(lib, dtype)

    def f1():
        lib.ones(1, dtype=dt).requires_grad_()

    def f2():
        a = lib.ones(1, dtype=dt)
        a.requires_grad = True

    def f3():
        lib.ones(1, dtype=dt, requires_grad=True)

    a = lib.ones(1, dtype=dt)
    a.requires_grad = False
    a.requires_grad_(False)
    for f in [f1, f2, f3]:
        if dt.is_floating_point:
            f()
        else:
            with pytest.raises(RuntimeError, match="floating point"):
                f()


def test_advanced_indexing_backwards_memory_format(lib):
    shape = (2, 8, 1, 2)
    i = lib.randint(1, shape).contiguous(memory_format=lib.channels_last)
    x = lib.randn(shape, requires_grad=True)
    x[i].sum().backward()
    assert x.grad is not None


def test_where_functional(lib):
    x = f64(lib, 5, 5)
    y = f64(lib, 5, 5)
    cond = _mask_not_all_zeros(lib, (5, 5))

    def where(cond, x, y):
        return lib.where(cond, x, y)

    assert lib.autograd.gradcheck(where, [cond, x, y], raise_exception=True)
    assert lib.autograd.gradgradcheck(where, [cond, x, y], [lib.randn(5, 5, dtype=lib.float64)])
    x = f64(lib, 5, 1, 5)
    y = f64(lib, 5, 5, 1)
    assert lib.autograd.gradcheck(where, [cond, x, y], raise_exception=True)
    assert lib.autograd.gradgradcheck(where, [cond, x, y], [lib.randn(5, 5, 5, dtype=lib.float64)])


def test_where_scalar(lib):
    x = f64(lib, 5, 5)
    cond = _mask_not_all_zeros(lib, (5, 5))

    def where_scalar_first(cond, x):
        return lib.where(cond, 4.0, x)

    def where_scalar_second(cond, x):
        return lib.where(cond, x, 4.0)

    for fn in (where_scalar_first, where_scalar_second):
        assert lib.autograd.gradcheck(fn, (cond, x))
        assert lib.autograd.gradgradcheck(fn, (cond, x))


def test_grad_assignment(lib):
    x = lib.randn(5, 5)
    with pytest.raises(TypeError, match="expected to be a Tensor or None"):
        x.grad = 0
    with pytest.raises(RuntimeError):
        x.grad = lib.randn(2, 2)
    with pytest.raises(RuntimeError):
        x.grad = lib.randint(5, (5, 5), dtype=lib.int64)
    with pytest.raises(RuntimeError):
        x.grad = x


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_requires_grad_factory(lib, dtype):
    dt = getattr(lib, dtype)
    x = lib.randn(2, 3, dtype=dt)
    for fn in [lib.ones_like, lib.randn_like]:
        for requires_grad in [True, False]:
            output = fn(x, dtype=dt, device="cpu", requires_grad=requires_grad)
            assert output.requires_grad == requires_grad
            assert output.dtype is dt
            assert str(x.device) == "cpu"


def test_copy_(lib):
    x = lib.randn(10, requires_grad=True)
    for dt in (lib.float32, lib.float64, lib.float16, lib.bfloat16):
        y = lib.empty(10, dtype=dt)
        y.copy_(x)
        assert y.requires_grad
        z = x.to(lib.bfloat16)
        assert z.requires_grad


def test_copy_float_dtypes_basic(lib):
    x = lib.randn(10, requires_grad=True)
    for dt in (lib.float32, lib.float64):
        y = lib.empty(10, dtype=dt)
        y.copy_(x)
        assert y.requires_grad
        y.sum().backward()
    same(x.grad, np.full(10, 2.0, dtype=np.float32))


def test_copy_forward_ad_broadcasting(lib):
    fwAD = lib.autograd.forward_ad
    primal = lib.rand(3, 3)
    tangent = lib.rand(3, 3)
    non_dual = lib.rand(1, 3, 3)
    with fwAD.dual_level():
        dual = fwAD.make_dual(primal, tangent)
        non_dual.copy_(dual)


def test_copy_forward_ad_same_layout_copies_grad(lib):
    fwAD = lib.autograd.forward_ad
    primal = lib.tensor([[3.0], [4.0]])
    tangent = lib.tensor([[5.0], [6.0]])
    with fwAD.dual_level():
        x_dual = fwAD.make_dual(primal, tangent)
        non_dual = lib.tensor([[1.0], [2.0]])
        non_dual.copy_(x_dual)
        assert fwAD.unpack_dual(non_dual).tangent is not tangent


def test_inplace_on_view_backprop_base(lib):
    root = lib.randn(2, 2, requires_grad=True)
    x = root.clone()
    v1 = x.narrow(0, 0, 1)
    v1.mul_(2)
    x.sum().backward()
    assert root.grad.tolist() == [[2, 2], [1, 1]]


def test_inplace_on_view_backprop_view_of_view(lib):
    root = lib.randn(2, 2, requires_grad=True)
    x = root.clone()
    v1 = x.narrow(0, 0, 1)
    v2 = x.narrow(0, 0, 1)
    v1.mul_(2)
    v2.sum().backward()
    assert root.grad.tolist() == [[2, 2], [0, 0]]


def test_inplace_on_view_of_view(lib):
    root = lib.randn(2, 2, requires_grad=True)
    x = root.clone()
    v1 = x.narrow(0, 0, 1)
    v2 = v1.narrow(1, 1, 1)
    v2.mul_(2)
    x.sum().backward()
    assert root.grad.tolist() == [[1, 2], [1, 1]]


def test_inplace_on_view_then_no_grad(lib):
    a = lib.ones(3, 1, dtype=lib.float64, requires_grad=True)
    b = a * 2
    c = b.view_as(b)
    c[0][0] = 3
    with lib.no_grad():
        c.grad_fn  # noqa: B018
    c.sum().backward()
    same(a.grad, [[0.0], [2.0], [2.0]])


def test_inplace_on_view_gradcheck(lib):
    a = f64(lib, 4, 4)
    b = f64(lib, 2, 2)

    def func(root, b):
        x = root.clone()
        x.narrow(1, 2, 2).narrow(0, 1, 2).mul_(b)
        x.narrow(1, 0, 2).narrow(0, 1, 2).mul_(b)
        return x

    assert lib.autograd.gradcheck(func, [a, b], raise_exception=True)
    go = lib.randn(tuple(a.shape), dtype=lib.float64, requires_grad=True)
    assert lib.autograd.gradgradcheck(func, (a, b), (go,))


def test_inplace_on_view_multiple_outputs(lib):
    root = lib.arange(9.0, dtype=lib.float64).reshape(3, 3).requires_grad_()
    x = root.clone()
    v1 = x.unbind()
    with pytest.raises(RuntimeError):
        v1[0].mul_(2)


def test_inplace_on_view_of_multiple_output_view(lib):
    a = r64(lib, 10).clone()
    b = a.unbind(0)
    c = b[0].view_as(b[0])
    with pytest.raises(RuntimeError):
        c.mul_(2)


def test_inplace_multiple_output_view_of_view(lib):
    a = r64(lib, 10).clone()
    b = a.view_as(a)
    c = b.unbind(0)
    with pytest.raises(RuntimeError):
        c[0].mul_(2)


def test_inplace_on_view_makes_base_require_grad(lib):
    a = f64(lib, 4, 4, requires_grad=False)
    b = f64(lib, 4, 2)
    flags = []

    def func(root, b):
        x = root.clone()
        flags.append(x.requires_grad)
        x.narrow(1, 2, 2).mul_(b)
        flags.append(x.requires_grad)
        return x

    assert lib.autograd.gradcheck(func, [a, b], raise_exception=True)
    go = lib.randn(tuple(a.shape), dtype=lib.float64, requires_grad=True)
    assert lib.autograd.gradgradcheck(func, (a, b), (go,))
    assert flags[:2] == [False, True]


def test_inplace_on_view_backprop_view(lib):
    a = lib.tensor([2.0, 5.0], requires_grad=False)
    b = lib.tensor([3.0], requires_grad=True)
    res = a.narrow(0, 1, 1).mul_(b)
    res.sum().backward()
    assert b.grad.tolist() == [5]
    assert a.grad is None


def test_inplace_on_view_modify_base(lib):
    r = lib.ones(1, dtype=lib.float64, requires_grad=True)
    flags = []

    def fn(r):
        x = lib.ones(5, dtype=lib.float64)
        v = x.select(0, 1)
        flags.append((v.requires_grad, v.grad_fn is None))
        x.add_(r)
        flags.append((v.requires_grad, v.grad_fn is None))
        return v

    assert lib.autograd.gradcheck(fn, [r])
    assert lib.autograd.gradgradcheck(fn, [r])
    assert flags[0] == (False, True)
    assert flags[1] == (True, False)


def test_inplace_on_view_python(lib):
    a = f64(lib, 4, 4)
    b = f64(lib, 2, 2)

    class PyAdd(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            ctx.mark_dirty(x)
            x.add_(y)
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    def func(root, b):
        x = root.clone()
        PyAdd.apply(x.narrow(1, 2, 2).narrow(0, 1, 2), b)
        PyAdd.apply(x.narrow(1, 0, 2).narrow(0, 1, 2), b)
        return x

    assert lib.autograd.gradcheck(func, [a, b], raise_exception=True)
    go = lib.randn(tuple(a.shape), dtype=lib.float64, requires_grad=True)
    assert lib.autograd.gradgradcheck(func, (a, b), (go,))


def test_inplace_on_view_non_contig(lib):
    root = lib.ones(2, 3, 2).select(2, 1).t().requires_grad_(True)
    x = root.clone()
    v1 = x.narrow(0, 0, 1)
    v2 = v1.narrow(1, 1, 1)
    v2.mul_(2)
    x.sum().backward()
    assert root.grad.tolist() == [[1, 2], [1, 1], [1, 1]]


@pytest.mark.parametrize("split", ["unsafe_split", "unsafe_split_with_sizes", "unsafe_chunk"])
def test_inplace_on_view_multi_output_unsafe(lib, split):
    f = {
        "unsafe_split": lambda t: t.unsafe_split(1),
        "unsafe_split_with_sizes": lambda t: t.unsafe_split_with_sizes((1, 1, 1)),
        "unsafe_chunk": lambda t: t.unsafe_chunk(3),
    }[split]
    a = lib.randn(3, 3, requires_grad=True)
    b = a + a
    s1, s2, s3 = f(b)
    s1.mul_(s2)
    s1.sum().backward()


@pytest.mark.parametrize("split", ["split", "split_with_sizes", "chunk"])
def test_inplace_on_view_multi_output_safe(lib, split):
    f = {
        "split": lambda t: t.split(1),
        "split_with_sizes": lambda t: t.split_with_sizes((1, 1, 1)),
        "chunk": lambda t: t.chunk(3),
    }[split]
    a = lib.randn(3, 3, requires_grad=True)
    b = a + a
    s1, s2, s3 = f(b)
    with pytest.raises(RuntimeError, match="This view is the output of a function that returns multiple views."):
        s1.mul_(s2)


def test_inplace_on_view_undefined_grad_output(lib):
    a = lib.tensor([1.0], requires_grad=True)
    c = a.clone()
    v = c[:]
    b = lib.tensor(1.0, requires_grad=True)

    class InplaceFunc(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, other):
            ctx.mark_dirty(x)
            return x.mul_(2)

        @staticmethod
        def backward(ctx, grad):
            return grad * 2, None

    out = InplaceFunc.apply(v, b)
    out.backward()
    assert b.grad is None
    assert a.grad.item() == 2


def test_mv_grad_stride_0(lib):
    mat = lib.randn(2, 2, dtype=lib.float64)
    vec = lib.randn(1, dtype=lib.float64).requires_grad_(True)

    def fn(vec):
        vec = vec.expand(2)
        return (mat @ vec).sum()

    assert lib.autograd.gradcheck(fn, (vec,))
    assert lib.autograd.gradgradcheck(fn, (vec,))


def test_strided_leaf_grad_layout(lib):
    for fmt_a in (lib.contiguous_format, lib.channels_last):
        for fmt_b in (lib.contiguous_format, lib.channels_last):
            a = lib.rand((2, 3, 4, 5)).to(memory_format=fmt_a)
            b = lib.rand((2, 3, 4, 5)).to(memory_format=fmt_b)
            a.requires_grad_()
            b.requires_grad_()
            a.sum().backward()
            assert a.grad.stride() == a.stride()
            b.sum().backward()
            assert b.grad.stride() == b.stride()
            a.grad = None
            b.grad = None
            (a * b).sum().backward()
            assert a.grad.stride() == a.stride()
            assert b.grad.stride() == b.stride()
    c = lib.empty_strided((2, 2), (4, 2)).copy_(lib.rand((2, 2)))
    c.requires_grad_()
    d = lib.rand((2, 2))
    c.sum().backward()
    assert c.grad.stride() == (2, 1)
    c.grad = None
    (c * d).sum().backward()
    assert c.grad.stride() == (2, 1)


def test_grad_layout_of_transposed_leaf(lib):
    a = lib.rand(3, 4).t().requires_grad_()
    (a * 2).sum().backward()
    assert a.grad.stride() == a.stride()
    same(a.grad, np.full((4, 3), 2.0, dtype=np.float32))


def test_non_differentiable_ops(lib):
    x = lib.tensor([[1, 2], [3, 4.0]], requires_grad=True)
    out = lib.isin(x, lib.tensor([2, 3]))
    assert not out.requires_grad
    x = lib.randn(3, 3, requires_grad=True)
    assert not lib.signbit(x).requires_grad


def test_non_differentiable_comparison_ops(lib):
    x = lib.randn(3, 3, requires_grad=True)
    for out in (x > 0, x == x, lib.isnan(x), lib.isfinite(x), x.sign() == 1):
        assert not out.requires_grad and out.grad_fn is None


def test_resize_version_bump(lib):
    x = lib.rand((1,))
    y = lib.randn((3,))
    x.resize_((1, 2))
    assert x._version == 1
    x.resize_as_(y)
    assert x._version == 2
    x.resize_((3,))
    assert x._version == 2
    x.resize_as_(y)
    assert x._version == 2


def test_atan2_zero_gradient(lib):
    x = lib.tensor([0.0], requires_grad=True)
    y = lib.tensor([0.0], requires_grad=True)
    z = lib.atan2(x, y)
    z.backward()
    same(x.grad, [0.0])
    same(y.grad, [0.0])


@pytest.mark.parametrize("shape", [(5, 2), (7, 3), (4, 1), (1, 5), (2, 5)])
def test_trace_backward_nonsquare(lib, shape):
    x = lib.randn(shape, dtype=lib.float64, requires_grad=True)
    lib.trace(x).backward()
    expected = np.zeros(shape)
    for i in range(min(shape)):
        expected[i, i] = 1.0
    same(x.grad, expected)


def test_preserve_backtrace(lib):
    import traceback

    class Foo(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            return input

        @staticmethod
        def backward(ctx, *grad):
            raise ValueError("something")

    t = lib.rand(10, requires_grad=True)
    with pytest.raises(ValueError, match="something") as info:
        Foo.apply(t).sum().backward()
    tb_str = "\n".join(traceback.format_tb(info.value.__traceback__))
    assert 'raise ValueError("something")' in tb_str


def test_set_multithreading_enabled_as_context_manager_and_function(lib):
    ag = lib.autograd
    with ag.set_multithreading_enabled(False):
        assert not ag.is_multithreading_enabled()
    assert ag.is_multithreading_enabled()
    with ag.set_multithreading_enabled(True):
        assert ag.is_multithreading_enabled()
    assert ag.is_multithreading_enabled()
    with ag.set_multithreading_enabled(False):
        ag.set_multithreading_enabled(True)
        assert ag.is_multithreading_enabled()
    assert ag.is_multithreading_enabled()
    ag.set_multithreading_enabled(False)
    assert not ag.is_multithreading_enabled()
    ag.set_multithreading_enabled(True)
    assert ag.is_multithreading_enabled()


# ================================================================= TestAllowMutationOnSaved
def test_allow_mutation_basic(lib):
    a = lib.rand(2, 3, requires_grad=True)

    def fn(a):
        b = a.clone()
        out = (b**2).sum()
        b.sin_()
        out.sum().backward()
        return a.grad

    with pytest.raises(RuntimeError, match="variables needed for gradient computation has been modified by an inplace"):
        fn(a)
    with lib.autograd.graph.allow_mutation_on_saved_tensors():
        da = fn(a)
    close(da, 2 * npy(a))


def test_allow_mutation_views(lib):
    a = lib.rand(2, 3, requires_grad=True)

    def fn(a):
        b = a.clone()
        c = b.view_as(b)
        out = (b**2).sum()
        c.sin_()
        out.sum().backward()
        return a.grad

    with pytest.raises(RuntimeError, match="variables needed for gradient computation has been modified by an inplace"):
        fn(a)
    with lib.autograd.graph.allow_mutation_on_saved_tensors():
        da = fn(a)
    close(da, 2 * npy(a))


def test_allow_mutation_save_base_and_modify_view(lib):
    with lib.autograd.graph.allow_mutation_on_saved_tensors():
        a = lib.rand(2, 3, requires_grad=True)
        b = a.clone()
        c = b[:1]
        out = b**2
        c *= 10
        out.sum().backward()
    close(a.grad, 2 * npy(a))


def test_allow_mutation_save_view_modify_base(lib):
    with lib.autograd.graph.allow_mutation_on_saved_tensors():
        a = lib.rand(2, 3, requires_grad=True)
        b = a.clone()
        c = b[:]
        out = (c**2).sum()
        b *= 2
        out.backward()
        close(a.grad, 2 * npy(a))


def test_allow_mutation_double_backward(lib):
    with lib.autograd.graph.allow_mutation_on_saved_tensors():
        a = lib.rand(2, 3, requires_grad=True)
        b = a.clone()
        out = (b**2).sum()
        b.sin_()
        lib.autograd.grad(out, a, create_graph=True)
        (da,) = lib.autograd.grad(out, a, create_graph=True)
        (d2a,) = lib.autograd.grad(da.sum(), a)
    close(d2a, np.full((2, 3), 2.0))


def test_allow_mutation_saved_but_not_anymore(lib):
    with lib.autograd.graph.allow_mutation_on_saved_tensors():
        a = lib.randn(2, 3, requires_grad=True).clone()
        out = (a**2).sum()
        out.backward()
        a.sin_()
        out = (a**2).sum()
        a.sin_()
        del out


def test_allow_mutation_saved_same_tensor_many_times(lib):
    with lib.autograd.graph.allow_mutation_on_saved_tensors():
        leaf = lib.randn(2, 3, requires_grad=True)
        a = leaf.clone()
        a0 = npy(a).copy()
        b = a**2
        c = a**2
        a.sin_()
        (b + c).sum().backward()
    close(leaf.grad, 4 * a0, rtol=1e-5, atol=1e-5)


def test_allow_mutation_saved_same_tensor_different_versions(lib):
    with lib.autograd.graph.allow_mutation_on_saved_tensors():
        leaf = lib.randn(2, 3, requires_grad=True)
        a = leaf.clone()
        a0 = npy(a).copy()
        b = a**2
        a.sin_()
        a1 = npy(a).copy()
        c = a**2
        a.sin_()
        b.sum().backward()
        close(leaf.grad, 2 * a0, rtol=1e-5, atol=1e-5)
        leaf.grad = None
        (gc1,) = lib.autograd.grad(c.sum(), leaf)
    close(gc1, 2 * a1 * np.cos(a0), rtol=1e-5, atol=1e-5)


def test_allow_mutation_with_out_variant(lib):
    with lib.autograd.graph.allow_mutation_on_saved_tensors():
        a = lib.tensor([1.0], requires_grad=True)
        b = lib.tensor([1.0])
        c = lib.tensor([2.0])
        out = a * b
        lib.sin(c, out=b)
        out.backward()
    same(a.grad, [1.0])


def test_allow_mutation_backward_out_of_context(lib):
    msg = "Trying to backward outside of the 'allow_mutation_on_saved_tensors' context"
    with lib.autograd.graph.allow_mutation_on_saved_tensors():
        a = lib.rand(2, 3, requires_grad=True)
        out = (a**2).sum()
    with pytest.raises(AssertionError, match=msg):
        out.backward()
    with lib.autograd.graph.allow_mutation_on_saved_tensors():
        a = lib.rand(2, 3, requires_grad=True)
        out = (a**2).sum()
    with lib.autograd.graph.allow_mutation_on_saved_tensors():
        with pytest.raises(AssertionError, match=msg):
            out.backward()


def test_allow_mutation_disallow_nesting(lib):
    with lib.autograd.graph.allow_mutation_on_saved_tensors():
        with pytest.raises(RuntimeError, match="allow_mutation_on_saved_tensors contexts cannot be nested"):
            with lib.autograd.graph.allow_mutation_on_saved_tensors():
                pass


# ================================================================= TestAutogradInferenceMode
def _is_inference_tensor(t):
    try:
        _ = t._version
    except RuntimeError as e:
        assert "Inference tensors do not track version counter" in str(e)
        return True
    return False


def test_inference_mode_context_manager(lib):
    assert not lib.is_inference_mode_enabled()
    with lib.inference_mode():
        assert lib.is_inference_mode_enabled()
        with lib.inference_mode(False):
            assert not lib.is_inference_mode_enabled()
        assert lib.is_inference_mode_enabled()
    assert not lib.is_inference_mode_enabled()


@pytest.mark.parametrize("mode", [True, False, None])
@pytest.mark.parametrize("use_kwarg", [True, False])
def test_inference_mode_decorator(lib, mode, use_kwarg):
    expected = []

    def func(x):
        expected.append(lib.is_inference_mode_enabled())
        return x * x

    if mode is None:
        decorated = lib.inference_mode(mode=func) if use_kwarg else lib.inference_mode(func)
        mode = True
    else:
        decorated = lib.inference_mode(mode=mode)(func) if use_kwarg else lib.inference_mode(mode)(func)
    for requires_grad in (True, False):
        c = lib.ones(1, 2, 3, requires_grad=requires_grad)
        d = decorated(c)
        assert (not mode) or lib.is_inference(d)
        assert d.requires_grad == (requires_grad and not mode)
    assert expected == [mode, mode]


def test_inference_mode_tensor_creation(lib):
    with lib.inference_mode():
        c = lib.ones(1, 2, 3)
        assert not c.requires_grad
        assert lib.is_inference(c)
        tmp = lib.ones(1, 2, 3, requires_grad=True)
        assert tmp.requires_grad
        assert lib.is_inference(tmp)
        tmp = lib.ones(1, 2, 3).requires_grad_(False)
        assert not tmp.requires_grad
        assert lib.is_inference(tmp)


def test_inference_tensor_has_no_version_counter(lib):
    with lib.inference_mode():
        c = lib.ones(2)
    assert _is_inference_tensor(c)
    assert c.is_inference()
    assert not _is_inference_tensor(lib.ones(2))


def test_inference_mode_existing_autograd_session(lib):
    s = lib.ones(1, 2, 3, requires_grad=True)
    a = s.clone()
    out = a * a
    with lib.inference_mode():
        a.add_(2)
    assert not lib.is_inference(a)
    with pytest.raises(RuntimeError, match="one of the variables needed for gradient computation has been modified"):
        out.backward(lib.ones_like(out))


def test_inference_mode_inf_tensor_in_inf_mode_functional_op(lib):
    with lib.inference_mode():
        for requires_grad in (True, False):
            c = lib.ones(1, 2, 3, requires_grad=requires_grad)
            func_out = c * c
            assert lib.is_inference(func_out)
            assert not func_out.requires_grad


@pytest.mark.parametrize("op", ["add_", "transpose_", "resize_", "resize_as_", "copy_"])
def test_inference_mode_inf_tensor_in_inf_mode_inplace_op(lib, op):
    fns = {
        "add_": lambda x: x.add_(2),
        "transpose_": lambda x: x.transpose_(0, 1),
        "resize_": lambda x: x.resize_(1, 2),
        "resize_as_": lambda x: x.resize_as_(lib.ones(1, 2)),
        "copy_": lambda x: x.copy_(lib.ones(1, 2, 3)),
    }

    @lib.inference_mode()
    def run_test(fn):
        for requires_grad in (True, False):
            c = lib.ones(1, 2, 3, requires_grad=requires_grad)
            fn(c)
            assert lib.is_inference(c)
            assert c.requires_grad == requires_grad

    run_test(fns[op])


def test_inference_mode_inf_tensor_in_inf_mode_view_op(lib):
    with lib.inference_mode():
        for requires_grad in (True, False):
            c = lib.ones(1, 2, 3, requires_grad=requires_grad)
            view_out = c.view(-1)
            assert lib.is_inference(view_out)
            assert not view_out.requires_grad


def test_inference_mode_inf_tensor_in_normal_mode_functional_op(lib):
    for requires_grad in (True, False):
        with lib.inference_mode():
            c = lib.ones(1, 2, 3, requires_grad=requires_grad)
    func_out = c * c
    assert not lib.is_inference(func_out)
    assert not func_out.requires_grad
    assert func_out.is_leaf


@pytest.mark.parametrize("op", ["add_", "transpose_"])
def test_inference_mode_inf_tensor_in_normal_mode_inplace_op(lib, op):
    fn = {"add_": lambda x: x.add_(2), "transpose_": lambda x: x.transpose_(0, 1)}[op]
    with lib.inference_mode():
        c = lib.ones(1, 2, 3)
    with pytest.raises(RuntimeError, match="Inplace update to inference tensor outside InferenceMode"):
        fn(c)


def test_inference_mode_inf_tensor_in_normal_mode_view_op(lib):
    for requires_grad in (True, False):
        with lib.inference_mode():
            c = lib.ones(1, 2, 3, requires_grad=requires_grad)
        out = c.view(-1)
        assert lib.is_inference(out)
        assert not out.requires_grad
        assert out._base is None
        assert out.is_leaf


@pytest.mark.parametrize("op", ["add_", "transpose_"])
def test_normal_tensor_inplace_output_in_inference_mode(lib, op):
    fn = {"add_": lambda x: x.add_(2), "transpose_": lambda x: x.transpose_(0, 1)}[op]
    for requires_grad in (True, False):
        s = lib.ones(1, 2, 3, requires_grad=requires_grad)
        a = s.clone()
        with lib.inference_mode():
            fn(a)
            assert not lib.is_inference(a)
            assert a.requires_grad == requires_grad
            fn(a)
            assert not lib.is_inference(a)
            assert a.requires_grad == requires_grad
            view_out = a.view(-1) if op == "add_" else a.reshape(-1)
            assert not lib.is_inference(view_out)
            assert view_out.requires_grad == requires_grad


@pytest.mark.parametrize("op", ["add_", "transpose_"])
def test_normal_tensor_inplace_output_in_normal_mode(lib, op):
    fn = {"add_": lambda x: x.add_(2), "transpose_": lambda x: x.transpose_(0, 1)}[op]
    for requires_grad in (True, False):
        s = lib.ones(1, 2, 3, requires_grad=requires_grad)
        a = s.clone()
        with lib.inference_mode():
            fn(a)
            assert not lib.is_inference(a)
            assert a.requires_grad == requires_grad
        fn(a)
        assert not lib.is_inference(a)
        assert a.requires_grad == requires_grad
        fn(a)
        assert not lib.is_inference(a)
        assert a.requires_grad == requires_grad
        view_out = a.reshape(-1)
        assert not lib.is_inference(view_out)
        assert view_out.requires_grad == requires_grad


def test_normal_tensor_view_output_in_inference_mode(lib):
    for requires_grad in (True, False):
        s = lib.ones(1, 2, 3, requires_grad=requires_grad)
        a = s.clone()
        with lib.inference_mode():
            out = a.view(-1)
            assert not lib.is_inference(out)
            assert out.requires_grad == requires_grad
            assert out._base is a
            tmp = out.view(-1)
            assert not lib.is_inference(tmp)
            assert tmp.requires_grad == requires_grad
            assert tmp._base is a
            assert tmp.is_leaf
            assert lib.is_inference_mode_enabled()
            tmp.add_(2)
            assert not lib.is_inference(tmp)
            assert tmp.requires_grad == requires_grad
            assert a._version == tmp._version


def test_normal_tensor_view_output_in_normal_mode(lib):
    for requires_grad in (True, False):
        s = lib.ones(1, 2, 3, requires_grad=requires_grad)
        a = s.clone()
        with lib.inference_mode():
            out = a.view(-1)
            assert not lib.is_inference(out)
            assert out.requires_grad == requires_grad
            assert out._base is a
            assert out.is_leaf
        tmp = out * out
        assert not lib.is_inference(tmp)
        assert tmp.requires_grad == requires_grad
        if requires_grad:
            with pytest.raises(
                RuntimeError, match="A view was created in inference mode and is being modified inplace"
            ):
                out.add_(2)
        else:
            out.add_(2)
        tmp = out.view(2, 3)
        assert not lib.is_inference(tmp)
        assert tmp.requires_grad == requires_grad


def test_mix_inference_and_normal_tensor_functional_op(lib):
    for requires_grad in (True, False):
        s = lib.ones(1, 2, 3, requires_grad=requires_grad)
        with lib.inference_mode():
            c = lib.ones(1, 2, 3, requires_grad=requires_grad)
        out = c.add(s)
        assert not lib.is_inference(out)
        assert out.requires_grad == requires_grad
        if requires_grad:
            out.backward(lib.ones_like(out))
            same(c.grad, np.ones((1, 2, 3), dtype=np.float32))
            with pytest.raises(RuntimeError, match="Inference tensors cannot be saved for backward"):
                c * s


def test_mix_inference_and_normal_tensor_inplace_op(lib):
    for requires_grad in (True, False):
        s = lib.ones(1, 2, 3, requires_grad=requires_grad)
        a = s.clone()
        with lib.inference_mode():
            c = lib.ones(1, 2, 3)
        assert lib.is_inference(c)
        if requires_grad:
            with pytest.raises(RuntimeError, match="Inference tensors cannot be saved for backward"):
                a.mul_(c)
            with pytest.raises(
                RuntimeError,
                match="out=... arguments don't support automatic differentiation, but one of the arguments requires",
            ):
                lib.mul(s, s, out=c)
        else:
            a.mul_(c)
            with pytest.raises(
                RuntimeError, match="Inplace update to inference tensor outside InferenceMode is not allowed"
            ):
                lib.mul(s, s, out=c)


def test_mix_inference_and_normal_tensor_view_op(lib):
    for requires_grad in (True, False):
        s = lib.ones(1, 2, 3, requires_grad=requires_grad)
        with lib.inference_mode():
            c = lib.ones(1, 2, 3)
        tmp1 = c.view_as(s)
        assert lib.is_inference(tmp1)
        assert not tmp1.requires_grad
        tmp2 = s.view_as(c)
        assert not lib.is_inference(tmp2)
        assert tmp2.requires_grad == requires_grad


@pytest.mark.parametrize("op", ["add_", "transpose_"])
def test_inference_mode_handle_direct_view_on_rebase(lib, op):
    fn = {"add_": lambda x: x.add_(2), "transpose_": lambda x: x.transpose_(0, 1)}[op]
    for requires_grad in (True, False):
        s = lib.ones(1, 2, 3, requires_grad=requires_grad)
        a = s.clone()
        with lib.inference_mode():
            view_out = a.view_as(a)
        if requires_grad:
            with pytest.raises(
                RuntimeError, match="A view was created in inference mode and is being modified inplace"
            ):
                fn(view_out)
        else:
            fn(view_out)


@pytest.mark.parametrize("op", ["add_", "transpose_"])
def test_inference_mode_handle_indirect_view_on_rebase(lib, op):
    fn = {"add_": lambda x: x.add_(2), "transpose_": lambda x: x.transpose_(0, 1)}[op]
    for requires_grad in (True, False):
        s = lib.ones(1, 2, 3, requires_grad=requires_grad)
        a = s.clone()
        with lib.inference_mode():
            view_out = a.view(-1)
        fn(a)
        if requires_grad:
            with pytest.raises(
                RuntimeError, match="A view was created in inference mode and its base or another view "
            ):
                view_out.grad_fn  # noqa: B018
        else:
            view_out.grad_fn  # noqa: B018


def test_inference_mode_no_grad_fn_and_no_version_bump_tracking(lib):
    x = lib.ones(3, requires_grad=True)
    with lib.inference_mode():
        y = x * 2
    assert y.grad_fn is None and not y.requires_grad
    with pytest.raises(RuntimeError, match="Inference tensors cannot be saved for backward"):
        (x * y).sum().backward()


# =================================================================== TestMultithreadAutograd
def _run_py_multithread_fn(fn, args=(), num_threads=10, pass_idx=False):
    errors = []

    def target(*a):
        try:
            fn(*a)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=target, args=((idx, *args) if pass_idx else args)) for idx in range(num_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    if errors:
        raise errors[0]


def test_multithreaded_exception_propagation(lib):
    def fn():
        raise AssertionError("from a child thread")

    with pytest.raises(AssertionError):
        _run_py_multithread_fn(fn)


def test_multithread_simple_backward(lib):
    def train_fn():
        x = lib.ones(5, 5, requires_grad=True)
        y = (x + 3) * (x + 4) * 0.5
        y.sum().backward()
        close(x.grad, npy(x) + 3.5)

    _run_py_multithread_fn(train_fn)


def test_multithread_simple_backward_same_input(lib):
    def train_fn_backward(x):
        y = (x + 3) * (x + 4) * 0.5
        y.sum().backward()

    x = lib.ones(5, 5, requires_grad=True)
    _run_py_multithread_fn(train_fn_backward, (x,))
    close(x.grad, 10 * (npy(x) + 3.5))

    def train_fn_grad(x):
        y = (x + 3) * (x + 4) * 0.5
        grads = lib.autograd.grad(y.sum(), x)
        assert len(grads) == 1
        close(grads[0], npy(x) + 3.5)

    _run_py_multithread_fn(train_fn_grad, (x,))


def test_multithread_multi_grad_all_hooks(lib):
    t1, t2, t3, t4 = (lib.rand(2, requires_grad=True) for _ in range(4))
    state = {"res": None, "count": 0, "mismatch": False}
    lock = threading.Lock()

    def hook(grads):
        with lock:
            state["count"] += 1
            flags = [g is not None for g in grads]
            if state["res"] is None:
                state["res"] = flags
            elif state["res"] != flags:
                state["mismatch"] = True

    handle = lib.autograd.graph.register_multi_grad_hook((t1, t2, t3, t4), hook)
    out = (t2 * t3).sum()

    def backward_retain_graph(out, t2, t3):
        out.backward(inputs=(t2, t3), retain_graph=True)

    _run_py_multithread_fn(backward_retain_graph, (out, t2, t3), num_threads=5)
    assert state["count"] == 5
    assert state["res"] == [False, True, True, False]
    assert not state["mismatch"]

    state.update(res=None, count=0)
    counts = {"err": 0, "bw": 0}

    class Func(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, gO):
            with lock:
                counts["bw"] += 1
                first = counts["bw"] == 1
            if first:
                raise RuntimeError("error message")
            return gO

    out = (Func.apply(t2) * t3).sum()

    def backward_catching(out, t2, t3):
        try:
            out.backward(inputs=(t2, t3), retain_graph=True)
        except RuntimeError:
            with lock:
                counts["err"] += 1

    _run_py_multithread_fn(backward_catching, (out, t2, t3), num_threads=5)
    assert state["count"] == 4
    assert counts["err"] == 1
    assert state["res"] == [False, True, True, False]
    handle.remove()


def test_multithread_multi_grad_any_hooks(lib):
    t1, t2, t3, t4 = (lib.rand(2, requires_grad=True) for _ in range(4))
    state = {"count": 0}
    lock = threading.Lock()

    def hook(grad):
        with lock:
            state["count"] += 1

    lib.autograd.graph.register_multi_grad_hook((t1, t2, t3, t4), hook, mode="any")
    out = (t2 * t3).sum()

    def backward_retain_graph(out, t2, t3):
        out.backward(inputs=(t2, t3), retain_graph=True)

    _run_py_multithread_fn(backward_retain_graph, (out, t2, t3), num_threads=5)
    assert state["count"] == 5

    state["count"] = 0
    counts = {"err": 0, "bw": 0}

    class Func(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, gO):
            with lock:
                counts["bw"] += 1
                first = counts["bw"] == 1
            if first:
                raise RuntimeError("error message")
            return gO

    out = (Func.apply(t2) * t3).sum()

    def backward_catching(out, t2, t3):
        try:
            out.backward(inputs=(t2, t3), retain_graph=True)
        except RuntimeError:
            with lock:
                counts["err"] += 1

    _run_py_multithread_fn(backward_catching, (out, t2, t3), num_threads=5)
    assert state["count"] == 5
    assert counts["err"] == 1


def test_multithread_saved_tensors_hooks_are_thread_local(lib):
    calls = []
    lock = threading.Lock()

    def pack(x):
        with lock:
            calls.append(threading.get_ident())
        return x

    x = lib.ones(5, 5, requires_grad=True)
    with lib.autograd.graph.saved_tensors_hooks(pack, lambda x: x):
        _ = x * x
        assert len(calls) == 2

        def in_thread():
            _ = x * x

        _run_py_multithread_fn(in_thread, num_threads=2)
    assert len(calls) == 2


def test_python_thread_in_middle(lib):
    success_vs_raises = [0, 0]
    lock = threading.Lock()

    def train_fn_no_retain_graph(y):
        z = y + y**2
        try:
            z.sum().backward()
            with lock:
                success_vs_raises[0] += 1
        except RuntimeError as error:
            with lock:
                success_vs_raises[1] += 1
            assert "Specify retain_graph=True" in str(error)

    x_no_retain = lib.ones(5, 5, requires_grad=True)
    y_no_retain = x_no_retain + x_no_retain**2
    _run_py_multithread_fn(train_fn_no_retain_graph, (y_no_retain,), num_threads=5)
    assert success_vs_raises[0] >= 1

    def train_fn_retain_graph(y):
        z = y + y**2
        z.sum().backward(retain_graph=True)

    x_retain = lib.ones(5, 5, requires_grad=True)
    y_retain = x_retain + x_retain**2
    _run_py_multithread_fn(train_fn_retain_graph, (y_retain,), num_threads=5)
    X = npy(x_retain)
    close(x_retain.grad, 5 * (4 * X**3 + 6 * X**2 + 4 * X + 1))


def test_multithread_grad_mode_is_thread_local(lib):
    seen = []

    def fn():
        seen.append(lib.is_grad_enabled())

    with lib.no_grad():
        _run_py_multithread_fn(fn, num_threads=2)
        assert not lib.is_grad_enabled()
    assert seen == [True, True]


def test_multithread_independent_graphs_many_iterations(lib):
    def train(idx):
        x = lib.full((4,), float(idx + 1), requires_grad=True)
        for _ in range(20):
            x.grad = None
            (x * x).sum().backward()
            close(x.grad, 2 * npy(x))

    _run_py_multithread_fn(train, num_threads=4, pass_idx=True)


# ======================================================================== nested checkpoint
def _ck_grad(lib, fn):
    def wrapper(x):
        with lib.enable_grad():
            out = fn(x)
            (grad_input,) = lib.autograd.grad(out, inputs=(x,), create_graph=True)
        return grad_input

    return wrapper


def _ck_sum(fn):
    def wrapped(x):
        return fn(x).sum()

    return wrapped


def _ck_checkpoint(lib, fn):
    def wrapped(*args, **kwargs):
        return lib.utils.checkpoint.checkpoint(fn, *args, use_reentrant=False, **kwargs)

    return wrapped


def _check_graph_dies(lib, fn):
    class Handle:
        def __init__(self, node_name):
            self.node_name = node_name

    def iter_graph(root):
        seen = set()
        q = [root] if root is not None else []
        for node in q:
            seen.add(node)
        while q:
            node = q.pop(0)
            for nxt, _ in node.next_functions:
                if nxt is None or nxt in seen:
                    continue
                seen.add(nxt)
                q.append(nxt)
            yield node

    def scope():
        a = lib.randn((), requires_grad=True)
        out = fn(a)
        refs = []
        for node in iter_graph(out.grad_fn):
            handle = Handle(node.name())
            refs.append(weakref.ref(handle))
            node.metadata["blah"] = handle
        return refs

    refs = scope()
    alive = [r().node_name for r in refs if r() is not None]
    assert alive == []


@pytest.mark.parametrize("early_stop", [True, False])
def test_nested_checkpoint(lib, early_stop):
    grad = partial(_ck_grad, lib)
    c = partial(_ck_checkpoint, lib)
    with lib.utils.checkpoint.set_checkpoint_early_stop(early_stop):
        x = lib.randn((), requires_grad=True)

        def f(x):
            return x.sin().exp().sin()

        def g(x):
            a = x.sin().exp().sin()
            b = x.sin().exp().sin()
            lib.autograd.grad(a, x)
            lib.autograd.grad(b, x)
            return x.sin()

        for fn in (f, g):
            tests = (
                (fn, (c(fn), c(c(fn)))),
                (grad(fn), (grad(c(fn)), grad(c(c(fn))))),
                (grad(grad(fn)), (grad(c(grad(fn))), c(grad(grad(c(fn)))), grad(c(grad(c(fn)))))),
                (grad(grad(grad(fn))), (grad(c(grad(grad(c(fn))))), grad(c(grad(c(grad(c(fn)))))))),
            )
            for expected_fn, actual_fns in tests:
                expected = expected_fn(x)
                for actual_fn in actual_fns:
                    close(actual_fn(x), expected, rtol=1e-5, atol=1e-6)
                    _check_graph_dies(lib, actual_fn)


@pytest.mark.parametrize("early_stop", [True, False])
def test_nested_checkpoint_two_children(lib, early_stop):
    grad = partial(_ck_grad, lib)
    c = partial(_ck_checkpoint, lib)
    with lib.utils.checkpoint.set_checkpoint_early_stop(early_stop):

        def f(x):
            return x.sin().exp().sin()

        def g(x):
            return x.cos().sin().exp()

        def hc(x):
            return c(g)(c(f)(x))

        def h(x):
            return g(f(x))

        a = lib.randn(3, 3, requires_grad=True)
        expected = grad(_ck_sum(grad(_ck_sum(h))))(a)
        close(grad(_ck_sum(grad(_ck_sum(c(hc)))))(a), expected, rtol=1e-5, atol=1e-6)
        close(grad(_ck_sum(c(grad(_ck_sum(c(hc))))))(a), expected, rtol=1e-5, atol=1e-6)
        _check_graph_dies(lib, grad(c(hc)))
        _check_graph_dies(lib, grad(_ck_sum(grad(_ck_sum(c(hc))))))
        _check_graph_dies(lib, grad(_ck_sum(c(grad(_ck_sum(c(hc)))))))


@pytest.mark.parametrize("early_stop", [True, False])
def test_nested_checkpoint_non_tensor_inputs_and_outputs(lib, early_stop):
    def fn(k, a, b, f):
        return f(k * a * b.exp()), 1, "abcd"

    a = lib.tensor(2.0, requires_grad=True)
    b = lib.tensor(3.0, requires_grad=True)

    def f(x):
        return x.sin()

    with lib.utils.checkpoint.set_checkpoint_early_stop(early_stop):
        out, one, s = lib.utils.checkpoint.checkpoint(fn, 3, a, b, f, use_reentrant=False)
    assert one == 1 and s == "abcd"
    actual = lib.autograd.grad(out, (a, b))
    out, _, _ = fn(3, a, b, f)
    expected = lib.autograd.grad(out, (a, b))
    for x, y in zip(actual, expected):
        close(x, y)


@pytest.mark.parametrize("early_stop", [True, False])
def test_nested_checkpoint_kwargs(lib, early_stop):
    def fn(a, blah=None):
        out = a.sin().exp()
        if blah is not None:
            out = out * blah
        return out.sin().exp()

    a = lib.tensor(2.0, requires_grad=True)
    b = lib.tensor(3.0, requires_grad=True)
    with lib.utils.checkpoint.set_checkpoint_early_stop(early_stop):
        out = lib.utils.checkpoint.checkpoint(fn, a, blah=b, use_reentrant=False)
        actual = lib.autograd.grad(out, (a, b))
        out = fn(a, blah=b)
        expected = lib.autograd.grad(out, (a, b))
        for x, y in zip(actual, expected):
            close(x, y)


@pytest.mark.parametrize("early_stop", [True, False])
def test_nested_checkpoint_same_graph(lib, early_stop):
    counter = [0]

    def hook(*_):
        counter[0] += 1

    a = lib.tensor(1.0, requires_grad=True)
    with lib.utils.checkpoint.set_checkpoint_early_stop(early_stop):
        out = lib.utils.checkpoint.checkpoint(lambda a: a.sin().cos().sin(), a, use_reentrant=False)
    out.grad_fn.next_functions[0][0].register_hook(hook)
    out.backward()
    assert counter[0] == 1


@pytest.mark.parametrize("early_stop", [True, False])
def test_nested_checkpoint_reentrant_backwards(lib, early_stop):
    def fn(a):
        x = a.sin().cos()
        return x, x.sin()

    def hook(*_):
        x.backward(retain_graph=True)

    a = lib.tensor(1.0, requires_grad=True)
    with lib.utils.checkpoint.set_checkpoint_early_stop(early_stop):
        x, out = lib.utils.checkpoint.checkpoint(fn, a, use_reentrant=False)
    out.grad_fn.register_hook(hook)
    out.backward(retain_graph=True)


def test_nested_checkpoint_set_early_stop(lib):
    cp = lib.utils.checkpoint
    counter = [0]

    def clone(x):
        counter[0] += 1
        return x.clone()

    def fn(x):
        return clone(x.sin().cos())

    def run(expected, ctx=None, **kwargs):
        counter[0] = 0
        a = lib.tensor(1.0, requires_grad=True)
        with ctx if ctx is not None else contextlib.nullcontext():
            out = cp.checkpoint(fn, a, use_reentrant=False, **kwargs)
        out.backward()
        assert counter[0] == expected

    run(1)
    run(2, early_stop=False)
    run(1, early_stop=True)
    run(2, cp.set_checkpoint_early_stop(False))
    run(1, cp.set_checkpoint_early_stop(True))
    counter[0] = 0
    a = lib.tensor(1.0, requires_grad=True)
    with cp.set_checkpoint_early_stop(False):
        with cp.set_checkpoint_early_stop(True):
            out = cp.checkpoint(fn, a, use_reentrant=False, early_stop=False)
    out.backward()
    assert counter[0] == 1
    run(2, cp.set_checkpoint_early_stop(False), early_stop=True)
    run(1, cp.set_checkpoint_early_stop(True), early_stop=False)


def test_nested_checkpoint_set_early_stop_no_recompution_needed(lib):
    cp = lib.utils.checkpoint
    counter = [0]

    def fn(x):
        counter[0] += 1
        return x.sin()

    a = lib.tensor(1.0, requires_grad=True)
    cp.checkpoint(fn, a, use_reentrant=False).backward()
    assert counter[0] == 2

    counter[0] = 0

    def fn2(x):
        counter[0] += 1
        return x.clone()

    a = lib.tensor(1.0, requires_grad=True)
    cp.checkpoint(fn2, a, use_reentrant=False).backward()
    assert counter[0] == 1
    counter[0] = 0
    a = lib.tensor(1.0, requires_grad=True)
    with cp.set_checkpoint_early_stop(False):
        out = cp.checkpoint(fn2, a, use_reentrant=False)
    out.backward()
    assert counter[0] == 1


# ======================================================== autograd.functional (test_functional.py)
def _same_struct(lib, res, base):
    if isinstance(base, lib.Tensor):
        assert isinstance(res, lib.Tensor)
        assert tuple(res.shape) == tuple(base.shape)
    else:
        assert isinstance(base, tuple) and isinstance(res, tuple) and len(res) == len(base)
        for r, b in zip(res, base):
            assert isinstance(r, lib.Tensor) and tuple(r.shape) == tuple(b.shape)


def _interleaved_struct(lib, res, base1, base2):
    T = lib.Tensor
    if isinstance(base1, T) and isinstance(base2, T):
        assert isinstance(res, T)
        assert tuple(res.shape) == tuple(base1.shape) + tuple(base2.shape)
    elif isinstance(base1, tuple) and isinstance(base2, T):
        assert isinstance(res, tuple) and len(res) == len(base1)
        for r, b1 in zip(res, base1):
            assert tuple(r.shape) == tuple(b1.shape) + tuple(base2.shape)
    elif isinstance(base1, T) and isinstance(base2, tuple):
        assert isinstance(res, tuple) and len(res) == len(base2)
        for r, b2 in zip(res, base2):
            assert tuple(r.shape) == tuple(base1.shape) + tuple(b2.shape)
    else:
        assert isinstance(res, tuple) and len(res) == len(base1)
        for r, b1 in zip(res, base1):
            assert isinstance(r, tuple) and len(r) == len(base2)
            for rr, b2 in zip(r, base2):
                assert tuple(rr.shape) == tuple(b1.shape) + tuple(b2.shape)


def test_vjp_err_check(lib):
    F = lib.autograd.functional

    def foo(a):
        return 3 * a.narrow(0, 0, 3)

    def bar(a):
        return 3 * a.narrow(0, 0, 3), "bar"

    inp = lib.rand(4)
    v = lib.ones(3)
    with pytest.raises(TypeError, match="The inputs given to vjp must be either a Tensor"):
        F.vjp(foo, (inp, 2), v)
    with pytest.raises(TypeError, match="The outputs of the user-provided function given to vjp must"):
        F.vjp(bar, inp, v)
    with pytest.raises(RuntimeError, match="The vector v can only be None if the user-provided function returns"):
        F.vjp(foo, inp)
    with pytest.raises(RuntimeError, match="The given v should contain a single Tensor."):
        F.vjp(foo, inp, (lib.ones_like(inp), lib.ones_like(inp)))
    with pytest.raises(RuntimeError, match=r"v has invalid size: should be (torch|ember)\.Size"):
        F.vjp(foo, inp, v[:2])
    _same_struct(lib, F.vjp(foo, inp, v)[1], inp)


def test_vjp_err_check_strict(lib):
    F = lib.autograd.functional

    def foo(a):
        return a.detach()

    def bar(a):
        return a.long().float().requires_grad_().clone()

    inp = lib.rand(4)
    v = lib.rand(4)
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function does not require gradients."):
        F.vjp(foo, inp, v, strict=True)
    res = F.vjp(foo, inp, v, strict=False)
    _same_struct(lib, res[1], inp)
    assert res[1].abs().sum().item() == 0.0
    with pytest.raises(RuntimeError, match="The output of the user-provided function is independent of input 0"):
        F.vjp(bar, inp, v, strict=True)
    res = F.vjp(bar, inp, v, strict=False)
    assert res[1].abs().sum().item() == 0.0
    inp.requires_grad_()
    with pytest.raises(RuntimeError, match="jacobian of the user-provided function is independent of input 0."):
        F.vjp(lambda a: a.clone(), inp, v, create_graph=True, strict=True)
    res = F.vjp(lambda a: a.clone(), inp, v, create_graph=True, strict=False)
    same(res[1], v)


def test_vjp_no_grad(lib):
    F = lib.autograd.functional
    inputs = lib.rand(4, 4)
    v = lib.ones(4)
    with lib.no_grad():
        res = F.vjp(lambda x: x.sum(dim=1), inputs, v)
    assert res[0].grad_fn is None and res[1].grad_fn is None
    assert res[1].abs().sum().item() != 0
    inputs.requires_grad_()
    v.requires_grad_()
    with lib.no_grad():
        res = F.vjp(lambda x: x.sum(dim=1), inputs, v, create_graph=True)
    assert res[0].grad_fn is not None and res[1].grad_fn is not None


def test_vjp_output(lib):
    F = lib.autograd.functional
    inputs = lib.rand(4, 4)
    res = F.vjp(lambda x: x.sum(dim=1), inputs, lib.ones(4))
    _same_struct(lib, res[1], inputs)
    assert res[0].grad_fn is None and res[1].grad_fn is None
    same(res[1], np.ones((4, 4), dtype=np.float32))

    inputs = (lib.rand(2), lib.rand(2))
    out, vjp_val = F.vjp(lambda x, y: 2 * x + 3 * y, inputs, lib.ones(2))
    _same_struct(lib, vjp_val, inputs)
    same(vjp_val[0], [2.0, 2.0])
    same(vjp_val[1], [3.0, 3.0])

    v = (lib.tensor([1.0, 0.0]), lib.tensor([1.0, 0.0]))
    out, vjp_val = F.vjp(lambda x, y: (2 * x + 3 * y, x + y), inputs, v)
    _same_struct(lib, vjp_val, inputs)
    same(vjp_val[0], [3.0, 0.0])
    same(vjp_val[1], [4.0, 0.0])


def test_vjp_scalar(lib):
    F = lib.autograd.functional
    inputs = lib.rand(4, 4)
    v = lib.ones([])
    res = F.vjp(lambda x: x.sum(), inputs, v)
    _same_struct(lib, res[0], v)
    _same_struct(lib, res[1], inputs)
    res = F.vjp(lambda x: x.sum(), inputs)
    _same_struct(lib, res[1], inputs)
    inputs = lib.rand([])
    v = lib.ones(4)
    res = F.vjp(lambda x: x.unsqueeze(0).repeat(4), inputs, v)
    _same_struct(lib, res[0], v)
    _same_struct(lib, res[1], inputs)


def test_vjp_create_graph(lib):
    F = lib.autograd.functional

    def reducer(x):
        return x.sum(dim=1)

    inputs = r64(lib, 2, 2)
    v = lib.ones(2, dtype=lib.float64, requires_grad=True)
    res = F.vjp(reducer, inputs, v, create_graph=True)
    _same_struct(lib, res[1], inputs)
    assert res[0].grad_fn is not None and res[1].grad_fn is not None
    assert lib.autograd.gradcheck(lambda inp, v: F.vjp(reducer, inp, v, create_graph=True), (inputs, v))
    assert lib.autograd.gradgradcheck(lambda inp, v: F.vjp(reducer, inp, v, create_graph=True), (inputs, v))

    def adder(x, y):
        return 2 * x + 3 * y, x * y

    inputs = (r64(lib, 2), r64(lib, 2))
    v = (
        lib.tensor([1.0, 0.0], dtype=lib.float64, requires_grad=True),
        lib.tensor([1.0, 0.0], dtype=lib.float64, requires_grad=True),
    )
    fn = lambda *a: F.vjp(adder, a[:2], a[2:], create_graph=True)[1]  # noqa: E731
    assert lib.autograd.gradcheck(fn, inputs + v)
    assert lib.autograd.gradgradcheck(fn, inputs + v)


def test_jvp_err_check(lib):
    F = lib.autograd.functional

    def foo(a):
        return 3 * a.narrow(0, 0, 3)

    def bar(a):
        return 3 * a.narrow(0, 0, 3), "bar"

    inp = lib.rand(4)
    v = lib.rand(4)
    with pytest.raises(TypeError, match="The inputs given to jvp must be either a Tensor"):
        F.jvp(foo, (inp, 2), v)
    with pytest.raises(TypeError, match="The outputs of the user-provided function given to jvp must"):
        F.jvp(bar, inp, v)
    with pytest.raises(RuntimeError, match="The vector v can only be None if the input to the user-provided function"):
        F.jvp(foo, inp)
    with pytest.raises(RuntimeError, match="The given v should contain a single Tensor."):
        F.jvp(foo, inp, (v, v))
    with pytest.raises(RuntimeError, match=r"v has invalid size: should be (torch|ember)\.Size"):
        F.jvp(foo, inp, v[:2])
    _same_struct(lib, F.jvp(foo, inp, v)[1], foo(inp))


def test_jvp_err_check_strict(lib):
    F = lib.autograd.functional
    inp = lib.rand(4)
    v = lib.rand(4)
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function does not require gradients."):
        F.jvp(lambda a: a.detach(), inp, v, strict=True)
    res = F.jvp(lambda a: a.detach(), inp, v, strict=False)
    assert res[1].abs().sum().item() == 0.0
    bar = lambda a: a.long().float().requires_grad_().clone()  # noqa: E731
    with pytest.raises(RuntimeError, match="The output of the user-provided function is independent of input 0"):
        F.jvp(bar, inp, v, strict=True)
    assert F.jvp(bar, inp, v, strict=False)[1].abs().sum().item() == 0.0
    inp.requires_grad_()
    with pytest.raises(RuntimeError, match="jacobian of the user-provided function is independent of input 0."):
        F.jvp(lambda a: a.clone(), inp, v, create_graph=True, strict=True)
    res = F.jvp(lambda a: a.clone(), inp, v, create_graph=True, strict=False)
    same(res[1], v)


def test_jvp_output_and_values(lib):
    F = lib.autograd.functional
    inputs = lib.rand(4, 4)
    v = lib.ones(4, 4)
    res = F.jvp(lambda x: x.sum(dim=1), inputs, v)
    _same_struct(lib, res[1], res[0])
    assert res[0].grad_fn is None and res[1].grad_fn is None
    same(res[1], np.full(4, 4.0, dtype=np.float32))
    inputs = (lib.rand(2), lib.rand(2))
    v = (lib.ones(2), lib.ones(2))
    out, jvp_val = F.jvp(lambda x, y: 2 * x + 3 * y, inputs, v)
    same(jvp_val, [5.0, 5.0])
    v = (lib.tensor([1.0, 0.0]), lib.tensor([1.0, 0.0]))
    out, jvp_val = F.jvp(lambda x, y: (2 * x + 3 * y, x + y), inputs, v)
    same(jvp_val[0], [5.0, 0.0])
    same(jvp_val[1], [2.0, 0.0])


def test_jvp_scalar(lib):
    F = lib.autograd.functional
    res = F.jvp(lambda x: x.sum(), lib.rand(4, 4), lib.ones(4, 4))
    assert tuple(res[0].shape) == () and tuple(res[1].shape) == ()
    res = F.jvp(lambda x: x.unsqueeze(0).repeat(4), lib.rand([]), lib.ones([]))
    assert tuple(res[0].shape) == (4,) and tuple(res[1].shape) == (4,)
    res = F.jvp(lambda x: x.unsqueeze(0).repeat(4), lib.rand([]))
    assert tuple(res[1].shape) == (4,)


def test_jvp_create_graph(lib):
    F = lib.autograd.functional

    def reducer(x):
        return x.sum(dim=1)

    inputs = r64(lib, 2, 2)
    v = lib.ones(2, 2, dtype=lib.float64, requires_grad=True)
    res = F.jvp(reducer, inputs, v, create_graph=True)
    assert res[0].grad_fn is not None and res[1].grad_fn is not None
    assert lib.autograd.gradcheck(lambda inp, v: F.jvp(reducer, inp, v, create_graph=True), (inputs, v))
    assert lib.autograd.gradgradcheck(lambda inp, v: F.jvp(reducer, inp, v, create_graph=True), (inputs, v))


@pytest.mark.parametrize("vectorize", [True, False])
def test_jacobian_err_check(lib, vectorize):
    F = lib.autograd.functional

    def foo(a):
        return 3 * a.narrow(0, 0, 3)

    def bar(a):
        return 3 * a.narrow(0, 0, 3), "bar"

    inp = lib.rand(4)
    with pytest.raises(TypeError, match="The inputs given to jacobian must be either a Tensor"):
        F.jacobian(foo, (inp, 2), vectorize=vectorize)
    with pytest.raises(TypeError, match="The outputs of the user-provided function given to jacobian must"):
        F.jacobian(bar, inp, vectorize=vectorize)
    res = F.jacobian(foo, inp, vectorize=vectorize)
    _interleaved_struct(lib, res, foo(inp), inp)

    def foo2(a, b):
        return b, 3 * a.narrow(0, 0, 3)

    inp = (lib.rand(4), lib.rand(5))
    res = F.jacobian(foo2, inp, vectorize=vectorize)
    _interleaved_struct(lib, res, foo2(*inp), inp)


def test_jacobian_err_check_strict(lib):
    F = lib.autograd.functional
    inp = lib.rand(4)
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function does not require gradients."):
        F.jacobian(lambda a: a.detach(), inp, strict=True)
    res = F.jacobian(lambda a: a.detach(), inp, strict=False)
    _interleaved_struct(lib, res, inp, inp)
    assert res.abs().sum().item() == 0.0
    bar = lambda a: a.long().float().requires_grad_().clone()  # noqa: E731
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function is independent of input 0."):
        F.jacobian(bar, inp, strict=True)
    assert F.jacobian(bar, inp, strict=False).abs().sum().item() == 0.0
    inp.requires_grad_()
    with pytest.raises(RuntimeError, match="jacobian of the user-provided function is independent of input 0."):
        F.jacobian(lambda a: a.clone(), inp, create_graph=True, strict=True)
    res = F.jacobian(lambda a: a.clone(), inp, create_graph=True, strict=False)
    same(res, np.eye(4, dtype=np.float32))


def test_jacobian_err_check_strict_vectorize(lib):
    with pytest.raises(RuntimeError, match="not supported together"):
        lib.autograd.functional.jacobian(lambda x: x, lib.rand(4), strict=True, vectorize=True)


def test_jacobian_no_grad(lib):
    F = lib.autograd.functional

    def exp_reducer(x):
        return x.exp().sum(dim=1)

    inputs = lib.rand(4, 4)
    with lib.no_grad():
        res = F.jacobian(exp_reducer, inputs)
    assert res.grad_fn is None
    assert res.abs().sum().item() != 0
    with lib.no_grad():
        res = F.jacobian(exp_reducer, inputs, create_graph=True)
    assert res.grad_fn is not None


@pytest.mark.parametrize("vectorize", [True, False])
def test_jacobian_output(lib, vectorize):
    F = lib.autograd.functional

    def exp_reducer(x):
        return x.exp().sum(dim=1)

    inputs = lib.rand(4, 4, dtype=lib.float64)
    res = F.jacobian(exp_reducer, inputs, vectorize=vectorize)
    _interleaved_struct(lib, res, exp_reducer(inputs), inputs)
    assert res.grad_fn is None
    expected = np.zeros((4, 4, 4))
    for i in range(4):
        expected[i, i, :] = np.exp(npy(inputs)[i])
    close(res, expected)

    inputs = lib.rand(4)
    res = F.jacobian(lambda x: x.clone(), inputs, vectorize=vectorize)
    same(res, np.eye(4, dtype=np.float32))

    def add_exp_reducer(x, y):
        return (x + y.exp()).sum(dim=1)

    inputs = (lib.rand(4, 4), lib.rand(4, 4))
    res = F.jacobian(add_exp_reducer, inputs, vectorize=vectorize)
    _interleaved_struct(lib, res, add_exp_reducer(*inputs), inputs)
    assert res[0].grad_fn is None and res[1].grad_fn is None


@pytest.mark.parametrize("vectorize", [True, False])
def test_jacobian_scalar(lib, vectorize):
    F = lib.autograd.functional
    inputs = lib.rand(4, 4)
    res = F.jacobian(lambda x: x.sum(), inputs, vectorize=vectorize)
    _same_struct(lib, res, inputs)
    res = F.jacobian(lambda x: x.unsqueeze(0).repeat(4), lib.rand([]), vectorize=vectorize)
    assert tuple(res.shape) == (4,)


@pytest.mark.parametrize("vectorize", [True, False])
def test_jacobian_create_graph(lib, vectorize):
    F = lib.autograd.functional

    def exp_reducer(x):
        return x.exp().sum(dim=1)

    inputs = r64(lib, 4, 4)
    res = F.jacobian(exp_reducer, inputs, create_graph=True, vectorize=vectorize)
    _interleaved_struct(lib, res, exp_reducer(inputs), inputs)
    assert res.grad_fn is not None
    fn = lambda inp: F.jacobian(exp_reducer, inp, create_graph=True, vectorize=vectorize)  # noqa: E731
    assert lib.autograd.gradcheck(fn, inputs)
    assert lib.autograd.gradgradcheck(fn, inputs)


@pytest.mark.parametrize("case", ["simple", "multi_input", "multi_output", "unrelated", "zero_dim"])
def test_jacobian_vectorize_correctness(lib, case):
    F = lib.autograd.functional
    if case == "simple":
        f, inputs = (lambda x: 3 * x**2), lib.randn(2, 3, 5)
    elif case == "multi_input":
        f, inputs = (lambda x, y: (x.cos() * x) @ y.sin()), (lib.randn(2, 3), lib.randn(3, 5))
    elif case == "multi_output":
        f, inputs = (lambda x, y: ((x * x) @ y, x @ (x.sum(1) * y), y.sum())), (lib.randn(5, 3), lib.randn(3, 5))
    elif case == "unrelated":
        f, inputs = (lambda x, y: (x, y, x, y)), (lib.randn(2), lib.randn(3))
    else:
        f, inputs = (lambda x, y: (x.sum(), y.sum(), x * y)), (lib.randn(3), lib.randn(3))
    expected = F.jacobian(f, inputs, vectorize=False)
    for res in (
        F.jacobian(f, inputs, vectorize=True),
        F.jacobian(f, inputs, strategy="forward-mode", vectorize=True),
    ):

        def cmp(a, b):
            if isinstance(a, (tuple, list)):
                assert len(a) == len(b)
                for x, y in zip(a, b):
                    cmp(x, y)
            else:
                close(a, b, rtol=1e-4, atol=1e-5)

        cmp(res, expected)


@pytest.mark.parametrize("vectorize", [True, False])
def test_hessian_err_check(lib, vectorize):
    F = lib.autograd.functional

    def foo(a):
        return 3 * a.narrow(0, 0, 3).exp().sum()

    inp = lib.rand(4)
    with pytest.raises(TypeError, match="The inputs given to hessian must be either a Tensor"):
        F.hessian(foo, (inp, 2), vectorize=vectorize)
    with pytest.raises(TypeError, match="The outputs of the user-provided function given to hessian must"):
        F.hessian(lambda a: (3 * a.narrow(0, 0, 3), "bar"), inp, vectorize=vectorize)
    with pytest.raises(
        RuntimeError, match="The Tensor returned by the function given to hessian should contain a single element"
    ):
        F.hessian(lambda a: 3 * a.narrow(0, 0, 3), inp, vectorize=vectorize)
    with pytest.raises(RuntimeError, match="The function given to hessian should return a single Tensor"):
        F.hessian(lambda a: (3 * a.narrow(0, 0, 3), 3 * a.narrow(0, 0, 3)), inp, vectorize=vectorize)
    _interleaved_struct(lib, F.hessian(foo, inp, vectorize=vectorize), inp, inp)
    inp2 = (lib.rand(4), lib.rand(5))
    res = F.hessian(lambda a, b: (3 * b.narrow(0, 0, 3) * a.narrow(0, 0, 3)).sum(), inp2, vectorize=vectorize)
    _interleaved_struct(lib, res, inp2, inp2)


def test_hessian_err_check_strict(lib):
    F = lib.autograd.functional
    inp = lib.rand(4)
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function does not require gradients."):
        F.hessian(lambda a: a.detach().sum(), inp, strict=True)
    assert F.hessian(lambda a: a.detach().sum(), inp, strict=False).abs().sum().item() == 0.0
    bar = lambda a: a.long().float().requires_grad_().clone().sum()  # noqa: E731
    with pytest.raises(RuntimeError, match="jacobian of the user-provided function with respect to input 0"):
        F.hessian(bar, inp, strict=True)
    assert F.hessian(bar, inp, strict=False).abs().sum().item() == 0.0
    with pytest.raises(RuntimeError, match="jacobian of the user-provided function with respect to input 0 is"):
        F.hessian(lambda a: (3 * a).sum(), inp, strict=True)
    assert F.hessian(lambda a: (3 * a).sum(), inp, strict=False).abs().sum().item() == 0.0


def test_hessian_no_grad_and_values(lib):
    F = lib.autograd.functional
    inputs = lib.rand(2, 2, dtype=lib.float64)
    with lib.no_grad():
        res = F.hessian(lambda x: x.pow(3).sum(), inputs)
    assert res.grad_fn is None
    expected = np.zeros((2, 2, 2, 2))
    for i in range(2):
        for j in range(2):
            expected[i, j, i, j] = 6 * npy(inputs)[i, j]
    close(res, expected)
    with lib.no_grad():
        res = F.hessian(lambda x: x.pow(3).sum(), inputs, create_graph=True)
    assert res.grad_fn is not None


@pytest.mark.parametrize("vectorize", [True, False])
def test_hessian_output(lib, vectorize):
    F = lib.autograd.functional
    inputs = (lib.rand(2, 2), lib.rand(2, 2))
    res = F.hessian(lambda x, y: (x + y).pow(3).sum(), inputs, vectorize=vectorize)
    _interleaved_struct(lib, res, inputs, inputs)
    assert all(r.grad_fn is None for row in res for r in row)


@pytest.mark.parametrize("vectorize", [True, False])
def test_hessian_scalar(lib, vectorize):
    F = lib.autograd.functional
    inputs = lib.rand(4, 4)
    _interleaved_struct(lib, F.hessian(lambda x: x.sum(), inputs, vectorize=vectorize), inputs, inputs)
    inputs = lib.rand([])
    _same_struct(lib, F.hessian(lambda x: x.sum(), inputs, vectorize=vectorize), inputs)
    inputs = lib.rand(4, 4)
    res = F.hessian(lambda x: x.sum().view(1, 1, 1), inputs, vectorize=vectorize)
    _interleaved_struct(lib, res, inputs, inputs)


def test_hessian_create_graph(lib):
    F = lib.autograd.functional
    inputs = r64(lib, 2, 2)
    res = F.hessian(lambda x: x.pow(3).sum(), inputs, create_graph=True)
    assert res.grad_fn is not None
    fn = lambda inp: F.hessian(lambda x: x.pow(3).sum(), inp, create_graph=True)  # noqa: E731
    assert lib.autograd.gradcheck(fn, inputs)
    assert lib.autograd.gradgradcheck(fn, inputs)


@pytest.mark.parametrize("api", ["vhp", "hvp"])
def test_vhp_hvp_err_check(lib, api):
    F = lib.autograd.functional
    fn = getattr(F, api)

    def foo(a):
        return 3 * a.narrow(0, 0, 3).exp().sum()

    inp = lib.rand(4)
    v = lib.rand(4)
    with pytest.raises(TypeError, match=f"The inputs given to {api} must be either a Tensor"):
        fn(foo, (inp, 2), v)
    with pytest.raises(TypeError, match=f"The outputs of the user-provided function given to {api} must"):
        fn(lambda a: (3 * a.narrow(0, 0, 3), "bar"), inp, v)
    with pytest.raises(
        RuntimeError, match=f"The Tensor returned by the function given to {api} should contain a single element"
    ):
        fn(lambda a: 3 * a.narrow(0, 0, 3), inp, v)
    with pytest.raises(RuntimeError, match="v has invalid size:"):
        fn(foo, inp, lib.rand(5))
    with pytest.raises(TypeError, match=f"The v given to {api} must be either a Tensor or a tuple of Tensors"):
        fn(foo, inp, (v, 2))
    _same_struct(lib, fn(foo, inp, v)[1], inp)
    inp2 = (lib.rand(4), lib.rand(5))
    v2 = (lib.rand(4), lib.rand(5))
    _same_struct(lib, fn(lambda a, b: (3 * b.narrow(0, 0, 3) * a.narrow(0, 0, 3)).sum(), inp2, v2)[1], inp2)


@pytest.mark.parametrize("api", ["vhp", "hvp"])
def test_vhp_hvp_err_check_strict(lib, api):
    fn = getattr(lib.autograd.functional, api)
    inp = lib.rand(4)
    v = lib.rand(4)
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function does not require gradients."):
        fn(lambda a: a.detach().sum(), inp, v, strict=True)
    assert fn(lambda a: a.detach().sum(), inp, v, strict=False)[1].abs().sum().item() == 0.0
    bar = lambda a: a.long().float().requires_grad_().clone().sum()  # noqa: E731
    with pytest.raises(RuntimeError, match="The output of the user-provided function is independent of input 0"):
        fn(bar, inp, v, strict=True)
    with pytest.raises(RuntimeError, match="jacobian of the user-provided function with respect to input 0 is"):
        fn(lambda a: (3 * a).sum(), inp, v, strict=True)
    assert fn(lambda a: (3 * a).sum(), inp, v, strict=False)[1].abs().sum().item() == 0.0


@pytest.mark.parametrize("api", ["vhp", "hvp"])
def test_vhp_hvp_no_grad_output_scalar(lib, api):
    fn = getattr(lib.autograd.functional, api)
    inputs = lib.rand(4, 4)
    v = lib.ones(4, 4)
    with lib.no_grad():
        res = fn(lambda x: x.exp().sum(), inputs, v)
    assert res[0].grad_fn is None and res[1].grad_fn is None
    close(res[1], np.exp(npy(inputs)))
    with lib.no_grad():
        res = fn(lambda x: x.exp().sum(), inputs, v, create_graph=True)
    assert res[0].grad_fn is not None and res[1].grad_fn is not None
    inputs = lib.rand([])
    _same_struct(lib, fn(lambda x: x.sum(), inputs, lib.rand([]))[1], inputs)
    _same_struct(lib, fn(lambda x: x.sum(), inputs)[1], inputs)
    inputs = lib.rand(4, 4)
    _same_struct(lib, fn(lambda x: x.exp().sum().view(1, 1, 1), inputs, lib.rand(4, 4))[1], inputs)


@pytest.mark.parametrize("api", ["vhp", "hvp"])
def test_vhp_hvp_create_graph(lib, api):
    fn = getattr(lib.autograd.functional, api)

    def foo(a):
        return 3 * a.narrow(0, 0, 3).exp().sum()

    inputs = r64(lib, 4, 4)
    v = lib.ones(4, 4, dtype=lib.float64, requires_grad=True)
    res = fn(foo, inputs, v, create_graph=True)
    assert res[0].grad_fn is not None and res[1].grad_fn is not None
    assert lib.autograd.gradcheck(lambda inp, v: fn(foo, inp, v, create_graph=True), (inputs, v))
    assert lib.autograd.gradgradcheck(lambda inp, v: fn(foo, inp, v, create_graph=True), (inputs, v))


def test_jacobian_match_vjp_jvp(lib):
    F = lib.autograd.functional

    def foo(x):
        return x**3 + x.sum()

    inputs = lib.rand(4)
    v = lib.rand(4)
    jac = F.jacobian(foo, inputs)
    jvp = F.jvp(foo, inputs, v)[1]
    vjp = F.vjp(foo, inputs, v)[1]
    close(jvp, lib.mm(jac, v.unsqueeze(1)).squeeze(1))
    close(vjp, lib.mm(v.unsqueeze(0), jac).squeeze(0))


def test_hessian_match_vhp_hvp(lib):
    F = lib.autograd.functional

    def foo(a):
        return 3 * a.narrow(0, 0, 3).exp().sum()

    inputs = lib.rand(4)
    v = lib.rand(4)
    hes = F.hessian(foo, inputs)
    hvp = F.hvp(foo, inputs, v)[1]
    vhp = F.vhp(foo, inputs, v)[1]
    close(hvp, lib.mm(hes, v.unsqueeze(1)).squeeze(1))
    close(vhp, lib.mm(v.unsqueeze(0), hes).squeeze(0))


# ================================================================================ Variable
def test_variable_wraps_tensor(lib):
    Variable = lib.autograd.Variable
    x = lib.arange(1.0, 5)
    v = Variable(x, requires_grad=True)
    assert isinstance(v, lib.Tensor)
    assert isinstance(x, Variable)
    assert v.requires_grad and v.is_leaf
    (v * v).sum().backward()
    same(v.grad, [2.0, 4.0, 6.0, 8.0])
    w = Variable(x)
    assert not w.requires_grad


def test_nested_anomaly_printstack_cleanup(lib):
    class Foo:
        pass

    def get_ref():
        class MyFunc(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x

            @staticmethod
            def backward(ctx, gO):
                (x,) = ctx.saved_tensors
                return MyFunc2.apply(x)

        class MyFunc2(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, gO):
                return gO + float("NaN")

        inp = lib.rand(1, requires_grad=True)
        out = MyFunc.apply(inp)
        (ginp,) = lib.autograd.grad(out, (inp,), create_graph=True)
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            with pytest.raises(RuntimeError, match="Function 'MyFunc2Backward' returned nan values in its 0th output."):
                with lib.autograd.detect_anomaly():
                    ginp.backward()
        my_obj = Foo()
        out.grad_fn.metadata[0] = my_obj
        return out, weakref.ref(my_obj)

    t, ref = get_ref()
    assert ref() is not None
    del t
    gc.collect()
    assert ref() is None


def test_saved_tensor_hooks_extra_exit_during_bw_no_crash(lib):
    # Unsupported usage (an unpack hook exits a hooks context it did not enter); it must not crash.
    def unpack(x):
        ctx_1.__exit__()
        return x

    ctx_1 = lib.autograd.graph.saved_tensors_hooks(lambda x: x, unpack)
    ctx_2 = lib.autograd.graph.saved_tensors_hooks(lambda x: x, lambda x: x)
    for _ in range(10):
        with ctx_2:
            ctx_1.__enter__()
            x = lib.randn(3, 3, requires_grad=True)
            x.sin().sum().backward()
    for _ in range(10):
        ctx_1.__exit__()
    a = lib.tensor(1.0, requires_grad=True)
    y = a.exp()
    y.grad_fn._raw_saved_result.register_hooks(lambda x: x, lambda x: x)
    y.backward()
    close(a.grad, math.e)
