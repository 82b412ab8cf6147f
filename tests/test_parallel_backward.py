"""The parallel backward executor (Note [Parallel backward]) gives bitwise the
gradients of the serial one, on random DAGs with shared sub-expressions,
custom Functions and hooks, and with many Python threads at once."""

import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ember
from helpers import cube

SIZE = 96  # (96, 96) tensors: six nodes pass the executor's work threshold (kParallelBackwardWork)


@pytest.fixture(autouse=True)
def two_threads():
    threads = ember.get_num_threads()
    ember.set_num_threads(2)
    yield
    ember.set_num_threads(threads)
    ember.autograd.set_parallel_backward(None)  # the default again


def build(program, leaves_np, hooks_fired):
    """Runs `program` (a list of (op, i, j)) on fresh leaves; returns (loss, leaves)."""
    leaves = [ember.tensor(a, requires_grad=True) for a in leaves_np]
    values = list(leaves)
    for op, i, j in program:
        a, b = values[i % len(values)], values[j % len(values)]
        if op == "add":
            v = a + b
        elif op == "mul":
            v = a * b * 0.5
        elif op == "matmul":
            v = (a @ b) / SIZE
        elif op == "tanh":
            v = a.tanh()
        elif op == "sigmoid":
            v = (a - b).sigmoid()
        elif op == "cube":
            v = cube(3.0)(a.tanh())
        else:  # a tensor hook inside a branch
            v = a * 1.5
            v.register_hook(lambda g: hooks_fired.append(1) or g * 2)
        values.append(v)
    # Every value feeds the loss: many nodes get gradients from several edges.
    loss = sum(v.sum() for v in values[len(leaves) :]) + sum(v.sum() for v in leaves)
    return loss, leaves


def gradients(program, leaves_np, parallel):
    ember.autograd.set_parallel_backward(parallel)
    fired = []
    loss, leaves = build(program, leaves_np, fired)
    loss.backward()
    return [leaf.grad.numpy().copy() for leaf in leaves], len(fired)


OPS = st.sampled_from(["add", "mul", "matmul", "tanh", "sigmoid", "cube", "hook"])
PROGRAMS = st.lists(st.tuples(OPS, st.integers(0, 50), st.integers(0, 50)), min_size=6, max_size=24)


@settings(max_examples=40, deadline=None)
@given(program=PROGRAMS, seed=st.integers(0, 2**16))
def test_random_dags_same_gradients_bitwise(program, seed):
    rng = np.random.default_rng(seed)
    leaves_np = [rng.uniform(-1, 1, (SIZE, SIZE)) for _ in range(3)]
    passes_before = ember._C._parallel_backward_stats()[0]
    par, fired_par = gradients(program, leaves_np, True)
    assert ember._C._parallel_backward_stats()[0] > passes_before  # really took the parallel path
    ser, fired_ser = gradients(program, leaves_np, False)
    assert fired_par == fired_ser
    for p, s in zip(par, ser):
        np.testing.assert_array_equal(p, s)


def branches(n_branches=4, depth=4, seed=0, slow=False):
    rng = np.random.default_rng(seed)
    x = ember.tensor(rng.uniform(-1, 1, (64, SIZE)))
    ws = [
        [ember.tensor(rng.uniform(-1, 1, (SIZE, SIZE)) / SIZE, requires_grad=True) for _ in range(depth)]
        for _ in range(n_branches)
    ]
    outs = []
    for br in ws:
        h = x
        for w in br:
            h = (h @ w).tanh()
        outs.append(SlowIdentity.apply(h) if slow else h)
    return sum(o.sum() for o in outs), [w for br in ws for w in br]


class SlowIdentity(ember.autograd.Function):
    """An identity whose backward takes a while (sleeping releases the GIL), so
    a helper thread surely wakes up in time to take the other branch."""

    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, g):
        time.sleep(0.02)
        return g


def test_independent_branches_use_helper_threads_and_match_serial():
    ember.autograd.set_parallel_backward(True)
    helpers_before = ember._C._parallel_backward_stats()[1]
    loss, ws = branches(slow=True)
    loss.backward()
    par = [w.grad.numpy().copy() for w in ws]
    assert ember._C._parallel_backward_stats()[1] > helpers_before
    ember.autograd.set_parallel_backward(False)
    loss, ws = branches(slow=True)
    loss.backward()
    for p, w in zip(par, ws):
        np.testing.assert_array_equal(p, w.grad.numpy())


def test_a_chain_stays_on_the_calling_thread():
    ember.autograd.set_parallel_backward(True)
    x = ember.randn(256, 256, requires_grad=True)
    h = x
    for _ in range(10):
        h = h.tanh()
    helpers_before = ember._C._parallel_backward_stats()[1]
    h.sum().backward()
    assert ember._C._parallel_backward_stats()[1] == helpers_before


def test_many_threads_backward_at_once():
    ember.autograd.set_parallel_backward(True)
    expected = {}
    for seed in range(4):
        loss, ws = branches(seed=seed)
        loss.backward()
        expected[seed] = [w.grad.numpy().copy() for w in ws]
    results, errors = {}, []

    def worker(seed):
        try:
            for _ in range(5):
                loss, ws = branches(seed=seed)
                loss.backward()
                results.setdefault(seed, []).append([w.grad.numpy().copy() for w in ws])
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and all(not t.is_alive() for t in threads)
    for seed, runs in results.items():
        for grads in runs:
            for g, e in zip(grads, expected[seed]):
                np.testing.assert_array_equal(g, e)


def test_backward_inside_a_hook_of_a_parallel_pass_does_not_deadlock():
    ember.autograd.set_parallel_backward(True)
    inner = []

    def hook(g):
        y = ember.randn(SIZE, SIZE, requires_grad=True)
        with ember.enable_grad():  # backward runs its hooks in no-grad mode, as PyTorch's
            (y.tanh() * 2).sum().backward()
        inner.append(y.grad)
        return g

    loss, ws = branches()
    ws[0].register_hook(hook)
    ws[5].register_hook(hook)
    loss.backward()
    assert len(inner) == 2 and all(g is not None for g in inner)


class Fails(ember.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        raise ValueError("boom in backward")


def test_an_error_in_a_parallel_branch_reaches_the_caller():
    ember.autograd.set_parallel_backward(True)
    loss, ws = branches()
    bad = Fails.apply(ws[3] @ ws[7]).sum()
    with pytest.raises(ValueError, match="boom in backward"):
        (loss + bad).backward()


def test_switch():
    ember.autograd.set_parallel_backward(False)
    assert not ember.autograd.is_parallel_backward_enabled()
    passes = ember._C._parallel_backward_stats()[0]
    loss, _ = branches()
    loss.backward()
    assert ember._C._parallel_backward_stats()[0] == passes


def test_backward_through_a_recorded_graph_in_parallel_matches_serial():
    def run(parallel):
        ember.autograd.set_parallel_backward(parallel)
        rng = np.random.default_rng(3)
        x = ember.tensor(rng.uniform(-1, 1, (SIZE, SIZE)), requires_grad=True)
        outs = [((x * (i + 1)).tanh() @ x).sigmoid().sum() for i in range(4)]
        (g,) = ember.autograd.grad(sum(outs), x, create_graph=True)
        (h,) = ember.autograd.grad(g.sum(), x)
        return g.detach().numpy(), h.numpy()

    passes = ember._C._parallel_backward_stats()[0]
    g_par, h_par = run(True)
    # The create_graph pass runs serially (its new nodes' order must be fixed); the second one in parallel.
    assert ember._C._parallel_backward_stats()[0] == passes + 1
    g_ser, h_ser = run(False)
    np.testing.assert_array_equal(g_par, g_ser)
    np.testing.assert_array_equal(h_par, h_ser)


def test_default_runs_in_parallel_only_with_four_threads():
    # Note [Parallel backward]: on 2 cores the serial executor with both threads in the kernels was faster.
    rng = np.random.default_rng(0)
    program = [("matmul", 0, 1), ("tanh", 2, 0), ("matmul", 1, 2), ("sigmoid", 0, 1), ("add", 3, 4)]
    leaves_np = [rng.uniform(-1, 1, (SIZE, SIZE)) for _ in range(3)]
    ember.autograd.set_parallel_backward(None)
    assert ember.autograd.is_parallel_backward_enabled()
    passes = ember._C._parallel_backward_stats()[0]
    build(program, leaves_np, [])[0].backward()
    assert ember._C._parallel_backward_stats()[0] == passes  # two threads: serial
    ember.set_num_threads(4)
    build(program, leaves_np, [])[0].backward()
    assert ember._C._parallel_backward_stats()[0] == passes + 1
    ember.autograd.set_parallel_backward(False)
    assert not ember.autograd.is_parallel_backward_enabled()
    build(program, leaves_np, [])[0].backward()
    assert ember._C._parallel_backward_stats()[0] == passes + 1
