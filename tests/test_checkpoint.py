"""ember.utils.checkpoint: checkpoint and checkpoint_sequential.

Gradients of a checkpointed run must equal those of the plain run (float64, exactly
the same masks for Dropout when the RNG state is preserved), for both variants;
recomputation must really happen; the argument rules and errors follow PyTorch.
The last part compares with torch.utils.checkpoint where PyTorch is importable.
"""

import warnings

import numpy as np
import pytest

import ember
from ember import nn
from ember.utils.checkpoint import CheckpointError, checkpoint, checkpoint_sequential

F64 = ember.float64
VARIANTS = [True, False]


def npy(t):
    return t.detach().numpy()


def mlp(p_drop=0.3):
    ember.manual_seed(0)
    return nn.Sequential(
        nn.Linear(4, 16),
        nn.ReLU(),
        nn.Dropout(p_drop),
        nn.Linear(16, 16),
        nn.ReLU(),
        nn.Dropout(p_drop),
        nn.Linear(16, 3),
    ).double()


def make_input(requires_grad=True):
    rng = np.random.default_rng(1)
    return ember.tensor(rng.standard_normal((6, 4)), dtype=F64, requires_grad=requires_grad)


def run(net, x, forward, seed=7):
    """Loss, input gradient, parameter gradients and the next random draw after backward."""
    net.zero_grad()
    x.grad = None
    ember.manual_seed(seed)
    out = forward(net, x)
    loss = (out * out).sum()
    loss.backward()
    after = npy(ember.rand(4))
    grads = [npy(p.grad).copy() for p in net.parameters()]
    return npy(loss), None if x.grad is None else npy(x.grad).copy(), grads, after


def assert_same(a, b):
    np.testing.assert_allclose(a[0], b[0], rtol=1e-12)
    if a[1] is None or b[1] is None:
        assert a[1] is None and b[1] is None
    else:
        np.testing.assert_allclose(a[1], b[1], rtol=1e-12, atol=1e-14)
    assert len(a[2]) == len(b[2])
    for ga, gb in zip(a[2], b[2]):
        np.testing.assert_allclose(ga, gb, rtol=1e-12, atol=1e-14)


# --- gradients equal to the plain run --------------------------------------------------------------


@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_mlp_with_dropout_same_gradients(use_reentrant):
    net, x = mlp(), make_input()
    plain = run(net, x, lambda n, t: n(t))
    ckpt = run(net, x, lambda n, t: checkpoint(n, t, use_reentrant=use_reentrant))
    assert_same(plain, ckpt)
    # the caller's random stream continues as without checkpoint (the replay is undone)
    np.testing.assert_array_equal(plain[3], ckpt[3])


@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_without_preserve_rng_state_masks_differ(use_reentrant):
    net, x = mlp(p_drop=0.5), make_input()
    plain = run(net, x, lambda n, t: n(t))
    ckpt = run(net, x, lambda n, t: checkpoint(n, t, use_reentrant=use_reentrant, preserve_rng_state=False))
    np.testing.assert_allclose(plain[0], ckpt[0])  # the forward is the same
    assert not np.allclose(plain[1], ckpt[1])  # the recomputation drew new masks


@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_function_is_recomputed_in_backward(use_reentrant):
    calls = []

    def f(t):
        calls.append(ember.is_grad_enabled())
        return (t.sin() * t).sum(0)

    x = make_input()
    out = checkpoint(f, x, use_reentrant=use_reentrant)
    assert len(calls) == 1
    out.sum().backward()
    assert len(calls) == 2 and calls[1] is True
    np.testing.assert_allclose(npy(x.grad), np.sin(npy(x)) + npy(x) * np.cos(npy(x)), rtol=1e-12)
    # the reentrant variant runs the forward without recording; the other records, as PyTorch
    assert calls[0] is (not use_reentrant)


def test_non_reentrant_records_the_graph_but_not_its_saved_tensors():
    x = make_input()
    calls = []

    def f(t):
        calls.append(1)
        return t.exp().sin() * 2

    out = checkpoint(f, x, use_reentrant=False)
    # the real graph, as PyTorch: the last op of the function, then the ones before it
    assert type(out.grad_fn).__name__ == "MulBackward0"
    sin_node = out.grad_fn.next_functions[0][0]
    assert type(sin_node).__name__ == "SinBackward0"
    # its saved input was not kept: reading it reruns the function (each time, outside backward)
    np.testing.assert_allclose(npy(sin_node._saved_self), np.exp(npy(x)), rtol=1e-12)
    assert len(calls) == 2
    _ = sin_node._saved_self
    assert len(calls) == 3
    out.sum().backward()
    assert len(calls) == 4  # one rerun for the whole backward pass
    np.testing.assert_allclose(npy(x.grad), 2 * np.cos(np.exp(npy(x))) * np.exp(npy(x)), rtol=1e-12)


def test_non_reentrant_early_stop():
    calls = []

    def f(t):
        y = t.sin()  # saves t: the only saved tensor
        calls.append("after sin")
        return y.clone()

    x = make_input()
    checkpoint(f, x, use_reentrant=False).sum().backward()
    assert calls == ["after sin"]  # the rerun stopped inside sin, once t was saved again
    calls.clear()
    checkpoint(f, x, use_reentrant=False, early_stop=False).sum().backward()
    assert calls == ["after sin", "after sin"]


def test_reentrant_output_node_name():
    out = checkpoint(lambda t: t * 2, make_input(), use_reentrant=True)
    assert type(out.grad_fn).__name__ == "CheckpointFunctionBackward"


# --- use_reentrant=False: what only it supports -------------------------------------------------------


def test_non_reentrant_params_get_grad_when_no_input_requires_grad():
    net, x = mlp(), make_input(requires_grad=False)
    plain = run(net, x, lambda n, t: n(t))
    ckpt = run(net, x, lambda n, t: checkpoint(n, t, use_reentrant=False))
    assert ckpt[1] is None
    assert_same(plain, ckpt)
    assert all(np.abs(g).sum() > 0 for g in ckpt[2])


def test_reentrant_no_input_requires_grad_warns_and_gives_no_graph():
    net, x = mlp(), make_input(requires_grad=False)
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True. Gradients will be None"):
        out = checkpoint(net, x, use_reentrant=True)
    assert not out.requires_grad


def test_non_reentrant_with_autograd_grad():
    net, x = mlp(), make_input()
    params = list(net.parameters())
    ember.manual_seed(3)
    plain = ember.autograd.grad((net(x) ** 2).sum(), [x, *params])
    ember.manual_seed(3)
    ckpt = ember.autograd.grad((checkpoint(net, x, use_reentrant=False) ** 2).sum(), [x, *params])
    for a, b in zip(plain, ckpt):
        np.testing.assert_allclose(npy(a), npy(b), rtol=1e-12, atol=1e-14)
    assert all(p.grad is None for p in params) and x.grad is None  # grad accumulates nothing


def test_non_reentrant_backward_inputs_argument():
    net, x = mlp(p_drop=0.0), make_input()
    out = checkpoint(net, x, use_reentrant=False)
    first = net[0].weight
    (out**2).sum().backward(inputs=[first])
    assert x.grad is None and net[-1].weight.grad is None
    expected = ember.autograd.grad((net(x) ** 2).sum(), first)[0]
    np.testing.assert_allclose(npy(first.grad), npy(expected), rtol=1e-12)


def test_non_reentrant_kwargs_and_non_tensor_args():
    def f(x, scale, *, shift, power=2):
        return (x * scale + shift) ** power

    x = make_input()
    shift = ember.tensor(np.linspace(0, 1, 4), dtype=F64, requires_grad=True)
    out = checkpoint(f, x, 3.0, shift=shift, power=3, use_reentrant=False)
    out.sum().backward()
    base = 3.0 * npy(x) + npy(shift)
    np.testing.assert_allclose(npy(out), base**3, rtol=1e-12)
    np.testing.assert_allclose(npy(x.grad), 9.0 * base**2, rtol=1e-12)
    np.testing.assert_allclose(npy(shift.grad), (3 * base**2).sum(0), rtol=1e-12)


def test_non_reentrant_nested_structures():
    def f(pair, table):
        a, b = pair
        return {"prod": a * b, "parts": [a.exp(), 5], "const": b.detach() * 0 + 1}

    a = ember.tensor([1.0, 2.0], dtype=F64, requires_grad=True)
    b = ember.tensor([3.0, -1.0], dtype=F64, requires_grad=True)
    out = checkpoint(f, (a, b), {"unused": 1}, use_reentrant=False)
    assert set(out) == {"prod", "parts", "const"} and out["parts"][1] == 5
    assert out["prod"].requires_grad and out["parts"][0].requires_grad
    assert not out["const"].requires_grad  # did not require grad in the forward either
    (out["prod"].sum() + out["parts"][0].sum()).backward()
    np.testing.assert_allclose(npy(a.grad), [3.0 + np.e, -1.0 + np.e**2], rtol=1e-12)
    np.testing.assert_allclose(npy(b.grad), [1.0, 2.0], rtol=1e-12)


def test_non_reentrant_multiple_outputs_one_used():
    x = make_input()
    y, z = checkpoint(lambda t: (t * 2, t.exp()), x, use_reentrant=False)
    z.sum().backward()
    np.testing.assert_allclose(npy(x.grad), np.exp(npy(x)), rtol=1e-12)


def test_non_reentrant_double_backward():
    x = make_input()
    out = checkpoint(lambda t: (t**3).sum(), x, use_reentrant=False)
    (g,) = ember.autograd.grad(out, x, create_graph=True)
    np.testing.assert_allclose(npy(g), 3 * npy(x) ** 2, rtol=1e-12)
    (gg,) = ember.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(npy(gg), 6 * npy(x), rtol=1e-12)


def test_non_reentrant_double_backward_through_parameters():
    lin = nn.Linear(4, 1).double()
    x = make_input()
    out = checkpoint(lambda t: lin(t).tanh().sum(), x, use_reentrant=False)
    (gw,) = ember.autograd.grad(out, lin.weight, create_graph=True)
    (ggw,) = ember.autograd.grad(gw.sum(), lin.weight)
    plain = lin(x).tanh().sum()
    (pw,) = ember.autograd.grad(plain, lin.weight, create_graph=True)
    (pgw,) = ember.autograd.grad(pw.sum(), lin.weight)
    np.testing.assert_allclose(npy(gw), npy(pw), rtol=1e-12)
    np.testing.assert_allclose(npy(ggw), npy(pgw), rtol=1e-12)


def test_non_reentrant_second_backward_needs_retain_graph():
    x = make_input()
    out = checkpoint(lambda t: t.exp(), x, use_reentrant=False).sum()
    out.backward(retain_graph=True)
    out.backward()
    np.testing.assert_allclose(npy(x.grad), 2 * np.exp(npy(x)), rtol=1e-12)
    out2 = checkpoint(lambda t: t.exp(), x, use_reentrant=False).sum()
    out2.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        out2.backward()


def test_non_reentrant_nested_checkpoint():
    lin = nn.Linear(4, 4).double()

    def inner(t):
        return lin(t).tanh()

    def outer(t):
        return checkpoint(inner, t * 2, use_reentrant=False).sin()

    x = make_input()
    out = checkpoint(outer, x, use_reentrant=False)
    out.sum().backward()
    gx, gw = npy(x.grad).copy(), npy(lin.weight.grad).copy()
    x.grad = None
    lin.weight.grad = None
    outer_plain = lin(x * 2).tanh().sin()
    outer_plain.sum().backward()
    np.testing.assert_allclose(gx, npy(x.grad), rtol=1e-12)
    np.testing.assert_allclose(gw, npy(lin.weight.grad), rtol=1e-12)


def test_non_reentrant_captured_non_leaf_gets_right_gradients():
    w = ember.tensor(np.linspace(1, 2, 4), dtype=F64, requires_grad=True)
    scale = w * 3  # requires grad, not a leaf, captured by the function
    x = make_input()
    y = x * 2  # a non-leaf argument
    out = checkpoint(lambda t: t * scale, y, use_reentrant=False)
    (gs,) = ember.autograd.grad(out.sum(), scale, retain_graph=True)
    np.testing.assert_allclose(npy(gs), npy(y).sum(0), rtol=1e-12)
    out.sum().backward()
    np.testing.assert_allclose(npy(w.grad), 3 * npy(y).sum(0), rtol=1e-12)
    np.testing.assert_allclose(npy(x.grad), 2 * np.broadcast_to(npy(scale), (6, 4)), rtol=1e-12)


def _shared_weight_chain(checkpointed, create_graph):
    """h0 = cell(x); h1 = cell(h0), the second step checkpointed: W is upstream of the argument
    and used inside the function, so its gradient must count each path once."""
    ember.manual_seed(0)
    w = ember.randn(3, 3, dtype=F64, requires_grad=True)
    x = ember.randn(3, dtype=F64, requires_grad=True)

    def cell(h):
        return (w @ h).tanh()

    h = cell(x)
    h = checkpoint(cell, h, use_reentrant=False) if checkpointed else cell(h)
    gw, gx = ember.autograd.grad(h.sum(), [w, x], create_graph=create_graph)
    if not create_graph:
        return npy(gw), npy(gx)
    ggw, ggx = ember.autograd.grad((gw * gw).sum() + (gx * gx).sum(), [w, x])
    return npy(gw), npy(gx), npy(ggw), npy(ggx)


@pytest.mark.parametrize("create_graph", [False, True])
def test_non_reentrant_weight_shared_with_argument_history(create_graph):
    plain = _shared_weight_chain(False, create_graph)
    ckpt = _shared_weight_chain(True, create_graph)
    for a, b in zip(plain, ckpt):
        np.testing.assert_allclose(b, a, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_repeated_cell_with_shared_weights(use_reentrant):
    cell = nn.Sequential(nn.Linear(4, 4), nn.Tanh()).double()
    x = make_input()

    def unroll(step):
        h = x
        for _ in range(4):
            h = step(h)
        return h

    plain = run(cell, x, lambda n, t: unroll(n))
    ckpt = run(cell, x, lambda n, t: unroll(lambda h: checkpoint(n, h, use_reentrant=use_reentrant)))
    assert_same(plain, ckpt)


def test_non_reentrant_under_no_grad_is_a_plain_call():
    calls = []

    def f(t):
        calls.append(1)
        return t * 2

    with ember.no_grad():
        out = checkpoint(f, make_input(), use_reentrant=False)
    assert not out.requires_grad and len(calls) == 1


def test_non_reentrant_context_fn():
    log = []

    class Ctx:
        def __init__(self, name):
            self.name = name

        def __enter__(self):
            log.append(self.name)

        def __exit__(self, *exc):
            return False

    x = make_input()
    out = checkpoint(lambda t: t.exp(), x, use_reentrant=False, context_fn=lambda: (Ctx("fwd"), Ctx("recompute")))
    assert log == ["fwd"]
    out.sum().backward()
    assert log == ["fwd", "recompute"]


def test_non_reentrant_determinism_check():
    state = {"n": 4}

    def f(t):
        return t[:, : state["n"]].sin()

    x = make_input()
    out = checkpoint(f, x, use_reentrant=False)
    state["n"] = 3
    with pytest.raises(CheckpointError, match="Recomputed values for the following tensors have different metadata"):
        out.sum().backward()
    assert issubclass(CheckpointError, RuntimeError)
    with pytest.raises(ValueError, match="determinism_check should be one of"):
        checkpoint(f, x, use_reentrant=False, determinism_check="strong")


def test_non_reentrant_in_place_change_of_input_is_detected():
    x = make_input()
    y = x * 1
    out = checkpoint(lambda t: t.exp(), y, use_reentrant=False)
    with ember.no_grad():
        y.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


# --- use_reentrant=True specifics and argument errors ------------------------------------------------


def test_reentrant_recomputed_outputs_without_grad_raise():
    x = make_input()
    state = {"detach": False}

    def f(t):
        return t.detach() * 2 if state["detach"] else t * 2

    out = checkpoint(f, x, use_reentrant=True)
    state["detach"] = True
    with pytest.raises(RuntimeError, match="none of output has requires_grad=True, this checkpoint"):
        out.sum().backward()


def test_reentrant_non_tensor_outputs_and_args():
    x = make_input()
    label, y = checkpoint(lambda tag, t: (tag, t.exp()), "tag", x, use_reentrant=True)
    assert label == "tag"
    y.sum().backward()
    np.testing.assert_allclose(npy(x.grad), np.exp(npy(x)), rtol=1e-12)


def test_keyword_argument_errors():
    x = make_input()
    with pytest.raises(ValueError, match="Unexpected keyword arguments: a,b"):
        checkpoint(lambda t, a, b: t, x, a=1, b=2, use_reentrant=True)
    with pytest.raises(ValueError, match="Passing `context_fn` or `debug` is only supported when use_reentrant=False"):
        checkpoint(lambda t: t, x, use_reentrant=True, debug=True)
    with pytest.raises(ValueError, match="debug=True is incompatible with non-default context_fn"):
        checkpoint(lambda t: t, x, use_reentrant=False, debug=True, context_fn=lambda: (None, None))


def test_use_reentrant_none_warns_and_means_true():
    x = make_input()
    with pytest.warns(UserWarning, match="the use_reentrant parameter should be passed explicitly"):
        out = checkpoint(lambda t: t * 2, x)
    assert type(out.grad_fn).__name__ == "CheckpointFunctionBackward"
    with pytest.warns(UserWarning):
        with pytest.raises(ValueError, match="Unexpected keyword arguments: k"):
            checkpoint(lambda t, k: t, x, k=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        checkpoint(lambda t: t * 2, x, use_reentrant=False)  # explicit: no warning


def test_exposed_after_import_ember():
    assert ember.utils.checkpoint.checkpoint is checkpoint
    assert ember.utils.checkpoint.checkpoint_sequential is checkpoint_sequential


# --- checkpoint_sequential ---------------------------------------------------------------------------


def deep_net():
    ember.manual_seed(0)
    return nn.Sequential(
        nn.Linear(4, 8),
        nn.Tanh(),
        nn.Dropout(0.25),
        nn.Linear(8, 8),
        nn.ReLU(),
        nn.Linear(8, 2),
    ).double()


@pytest.mark.parametrize("use_reentrant", VARIANTS)
@pytest.mark.parametrize("segments", [1, 2, 3, 6])
def test_checkpoint_sequential_same_gradients(use_reentrant, segments):
    net, x = deep_net(), make_input()
    plain = run(net, x, lambda n, t: n(t))
    ckpt = run(net, x, lambda n, t: checkpoint_sequential(n, segments, t, use_reentrant=use_reentrant))
    assert_same(plain, ckpt)
    np.testing.assert_array_equal(plain[3], ckpt[3])


def test_checkpoint_sequential_recomputes_all_but_last_segment():
    counts = [0] * 6

    def counter(i):
        def f(t):
            counts[i] += 1
            return t.sin()  # saves t: its backward needs the rerun

        return f

    x = make_input()
    out = checkpoint_sequential([counter(i) for i in range(6)], 3, x, use_reentrant=False)
    out.sum().backward()
    assert counts == [2, 2, 2, 2, 1, 1]
    v, expected = npy(x), 1.0
    for _ in range(6):
        v, expected = np.sin(v), expected * np.cos(v)
    np.testing.assert_allclose(npy(x.grad), expected, rtol=1e-12)


def test_checkpoint_sequential_uneven_split():
    # 5 functions in 2 segments: the first 2 are checkpointed, the last 3 run as usual (PyTorch's split)
    counts = [0] * 5

    def counter(i):
        def f(t):
            counts[i] += 1
            return t.sin()

        return f

    x = make_input()
    checkpoint_sequential([counter(i) for i in range(5)], 2, x, use_reentrant=True).sum().backward()
    assert counts == [2, 2, 1, 1, 1]


def test_checkpoint_sequential_errors_and_warning():
    net, x = deep_net(), make_input()
    with pytest.raises(ValueError, match="Unexpected keyword arguments: foo"):
        checkpoint_sequential(net, 2, x, use_reentrant=False, foo=1)
    with pytest.warns(UserWarning, match="the use_reentrant parameter should be passed explicitly"):
        checkpoint_sequential(net, 2, x)
    with pytest.raises(ValueError, match="segments"):
        checkpoint_sequential(net, 7, x, use_reentrant=False)


# --- parity with torch.utils.checkpoint ---------------------------------------------------------------


def _pair(requires_grad=True):
    torch = pytest.importorskip("torch")
    ember.manual_seed(0)
    em = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3)).double()
    tm = torch.nn.Sequential(
        torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3)
    ).double()
    tm.load_state_dict({k: torch.tensor(npy(v)) for k, v in em.state_dict().items()})
    data = np.random.default_rng(2).standard_normal((5, 4))
    xe = ember.tensor(data, dtype=F64, requires_grad=requires_grad)
    xt = torch.tensor(data, dtype=torch.float64, requires_grad=requires_grad)
    return torch, em, tm, xe, xt


@pytest.mark.parametrize("use_reentrant", VARIANTS)
@pytest.mark.parametrize("input_requires_grad", [True, False])
def test_parity_gradients(use_reentrant, input_requires_grad):
    torch, em, tm, xe, xt = _pair(input_requires_grad)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "None of the inputs have requires_grad=True" from both
        oe = ember.utils.checkpoint.checkpoint(em, xe, use_reentrant=use_reentrant)
        ot = torch.utils.checkpoint.checkpoint(tm, xt, use_reentrant=use_reentrant)
    assert oe.requires_grad == ot.requires_grad
    np.testing.assert_allclose(npy(oe), ot.detach().numpy(), rtol=1e-12)
    if not ot.requires_grad:
        return
    (oe**2).sum().backward()
    (ot**2).sum().backward()
    assert (xe.grad is None) == (xt.grad is None)
    if xt.grad is not None:
        np.testing.assert_allclose(npy(xe.grad), xt.grad.numpy(), rtol=1e-10)
    for pe, pt in zip(em.parameters(), tm.parameters()):
        np.testing.assert_allclose(npy(pe.grad), pt.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("use_reentrant", VARIANTS)
def test_parity_checkpoint_sequential(use_reentrant):
    torch, em, tm, xe, xt = _pair()
    oe = ember.utils.checkpoint.checkpoint_sequential(em, 2, xe, use_reentrant=use_reentrant)
    ot = torch.utils.checkpoint.checkpoint_sequential(tm, 2, xt, use_reentrant=use_reentrant)
    oe.sum().backward()
    ot.sum().backward()
    np.testing.assert_allclose(npy(oe), ot.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(npy(xe.grad), xt.grad.numpy(), rtol=1e-10)


def test_parity_non_reentrant_autograd_grad_and_structures():
    torch, em, tm, xe, xt = _pair()

    def body(lib):
        def f(x, *, bias):
            return {"y": (x * bias).sum(1), "n": 3}

        return f

    be = ember.tensor([0.5, 1.0, 1.5, 2.0], dtype=F64, requires_grad=True)
    bt = torch.tensor([0.5, 1.0, 1.5, 2.0], dtype=torch.float64, requires_grad=True)
    oe = ember.utils.checkpoint.checkpoint(body(ember), xe, bias=be, use_reentrant=False)
    ot = torch.utils.checkpoint.checkpoint(body(torch), xt, bias=bt, use_reentrant=False)
    assert oe["n"] == ot["n"] == 3
    ge = ember.autograd.grad(oe["y"].sum(), [xe, be])
    gt = torch.autograd.grad(ot["y"].sum(), [xt, bt])
    for a, b in zip(ge, gt):
        np.testing.assert_allclose(npy(a), b.numpy(), rtol=1e-12)


def _error_cases(lib):
    ck = lib.utils.checkpoint

    def make(rg=True):
        return lib.ones(3, dtype=lib.float64, requires_grad=rg)

    return [
        ("kwargs_reentrant", lambda: ck.checkpoint(lambda t, a: t, make(), a=1, use_reentrant=True)),
        ("debug_reentrant", lambda: ck.checkpoint(lambda t: t, make(), use_reentrant=True, debug=True)),
        (
            "context_fn_reentrant",
            lambda: ck.checkpoint(lambda t: t, make(), use_reentrant=True, context_fn=ck.noop_context_fn.__call__),
        ),
        (
            "bad_determinism",
            lambda: ck.checkpoint(lambda t: t * 2, make(), use_reentrant=False, determinism_check="x"),
        ),
        ("seq_kwargs", lambda: ck.checkpoint_sequential([lambda t: t], 1, make(), use_reentrant=False, bad=1)),
        ("detach_variable_list", lambda: ck.detach_variable([make()])),
    ]


@pytest.mark.parametrize("index", range(len(_error_cases(ember))))
def test_parity_errors(index):
    torch = pytest.importorskip("torch")
    name, ember_call = _error_cases(ember)[index]
    _, torch_call = _error_cases(torch)[index]
    with pytest.raises(Exception) as te:
        torch_call()
    with pytest.raises(Exception) as ee:
        ember_call()
    assert ee.type is te.type, (name, ee.value, te.value)
    assert str(ee.value) == str(te.value), name


@pytest.mark.parametrize("which", ["checkpoint", "checkpoint_sequential"])
def test_parity_use_reentrant_none_warning(which):
    torch, em, tm, xe, xt = _pair()
    records = {}
    for lib, model, x in ((ember, em, xe), (torch, tm, xt)):
        fn = getattr(lib.utils.checkpoint, which)
        args = (model, x) if which == "checkpoint" else (model, 2, x)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = fn(*args)
        hits = [w for w in caught if "use_reentrant parameter should be passed explicitly" in str(w.message)]
        assert len(hits) == 1, (lib.__name__, [str(w.message) for w in caught])
        records[lib.__name__] = (hits[0].category, type(out.grad_fn).__name__)
    assert records["ember"] == records["torch"]
