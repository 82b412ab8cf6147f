"""CUDA graphs (ember.cuda.CUDAGraph, graph, make_graphed_callables), as torch.cuda's: a capture records the
device's work, replays redo it on the capture's memory (Note [CUDA graph pools]) with fresh random numbers
(Note [CUDA graph random numbers]), and what a capture cannot hold (waits for the device, numbers drawn on the
host, optimizers that count steps on the host) raises; capturable Adam steps replay as eager steps
(Note [Capturable steps])."""

import numpy as np
import pytest

import ember
from ember import nn

pytestmark = [pytest.mark.cuda, pytest.mark.skipif(not ember.cuda.is_available(), reason="no CUDA GPU")]


def capture(fn):
    g = ember.cuda.CUDAGraph()
    with ember.cuda.graph(g):
        out = fn()
    return g, out


def test_a_replay_recomputes_from_the_captured_inputs():
    static_in = ember.zeros(8, 4, device="cuda")
    w = ember.randn(4, 3, device="cuda")
    assert not ember.cuda.is_current_stream_capturing()
    seen = []

    def step():
        seen.append(ember.cuda.is_current_stream_capturing())
        # arange is made on the host: its bytes are a copy the graph repeats (its pinned block is the graph's)
        return (static_in @ w).relu() + ember.arange(3.0, device="cuda")

    g, out = capture(step)
    g.instantiate()  # PyTorch's keep_graph=True step: ember's graph is ready at its capture's end
    assert seen == [True] and not ember.cuda.is_current_stream_capturing()
    for _ in range(3):
        new = np.random.randn(8, 4).astype(np.float32)
        static_in.copy_(ember.tensor(new, device="cuda"))
        for _ in range(20):  # small host copies in between: they reuse pinned blocks, never the graph's
            ember.tensor(np.full(3, -7.0, np.float32), device="cuda")
        g.replay()
        expected = np.maximum(new @ w.cpu().numpy(), 0) + np.arange(3.0)
        np.testing.assert_allclose(out.cpu().numpy(), expected, rtol=1e-5, atol=1e-5)


def test_the_captures_memory_is_not_handed_to_later_tensors():
    static_in = ember.ones(1000, device="cuda")
    inner = []

    def step():
        temp = static_in * 2  # freed inside the capture: its block stays the graph's
        inner.append(temp.data_ptr())
        return temp + 1

    g, out = capture(step)
    later = [ember.full((1000,), 5.0, device="cuda") for _ in range(4)]
    assert inner[0] not in {t.data_ptr() for t in later}
    static_in.fill_(3.0)
    g.replay()
    assert out.cpu().tolist() == [7.0] * 1000 and all(t.cpu().tolist() == [5.0] * 1000 for t in later)
    g.reset()
    with pytest.raises(RuntimeError, match="replay without a preceding successful capture"):
        g.replay()
    with pytest.raises(RuntimeError, match="instantiate without a preceding successful capture"):
        g.instantiate()


def test_graphs_sharing_a_pool_replay_in_their_order():
    x = ember.full((64,), 2.0, device="cuda")
    pool = ember.cuda.graph_pool_handle()
    first, second = ember.cuda.CUDAGraph(), ember.cuda.CUDAGraph()
    with ember.cuda.graph(first, pool=pool):
        y = x * 3
    with ember.cuda.graph(second, pool=first.pool()):
        z = y + x
    assert first.pool() == second.pool() == pool
    x.fill_(1.0)
    first.replay()
    second.replay()
    assert z.cpu().tolist() == [4.0] * 64


def test_what_a_capture_cannot_hold_raises():
    x = ember.ones(4, device="cuda")
    for refused, words in (
        (lambda: x.sum().item(), "operation not permitted when stream is capturing"),
        (lambda: x.cpu(), "operation not permitted when stream is capturing"),
        (lambda: ember.cuda.synchronize(), "operation not permitted when stream is capturing"),
        (lambda: ember.randint(0, 5, (3,), generator=ember.Generator(), device="cuda"), "drawn on the host"),
        (lambda: ember.randperm(5, generator=ember.Generator(), device="cuda"), "while a CUDA graph is captured"),
    ):
        g = ember.cuda.CUDAGraph()
        with pytest.raises(RuntimeError, match=words), ember.cuda.graph(g):
            refused()
        with pytest.raises(RuntimeError, match="without a preceding successful capture"):
            g.replay()
    assert (x * 2).cpu().tolist() == [2.0] * 4  # the device works on after a failed capture
    for bad_pool in (5, (0,), "pool"):
        with pytest.raises(TypeError, match="pool must be graph_pool_handle"):
            ember.cuda.CUDAGraph().capture_begin(pool=bad_pool)
    assert not ember.cuda.is_current_stream_capturing()
    with pytest.raises(RuntimeError, match="Unknown capture error mode"):
        ember.cuda.CUDAGraph().capture_begin(capture_error_mode="loose")
    with pytest.raises(RuntimeError, match="capture_end called without a preceding capture_begin"):
        ember.cuda.CUDAGraph().capture_end()


def test_each_replay_draws_the_next_random_numbers_as_eager_calls_would():
    # Note [CUDA graph random numbers]: the kernels take the generator's state at each replay
    x = ember.ones(64, device="cuda")

    def step():
        return (
            nn.functional.dropout(x, 0.5),
            ember.randn(8, device="cuda"),
            ember.rand(3, device="cuda"),
            ember.randint(0, 100, (6,), device="cuda"),
            ember.randperm(9, device="cuda"),
        )

    ember.cuda.manual_seed(11)
    eager = [[t.cpu().numpy() for t in step()] for _ in range(3)]
    ember.cuda.manual_seed(11)
    before = ember.cuda.get_rng_state()
    g, outputs = capture(step)
    assert ember.equal(ember.cuda.get_rng_state(), before)  # the capture itself draws nothing
    for expected in eager:
        g.replay()
        for got, want in zip(outputs, expected):
            np.testing.assert_array_equal(got.cpu().numpy(), want)
    assert not np.array_equal(eager[0][0], eager[1][0])  # fresh masks: not one replayed over and over
    after = ember.randn(8, device="cuda")  # eager draws go on after the replays' counters
    ember.cuda.manual_seed(11)
    for _ in range(3):
        step()
    np.testing.assert_array_equal(after.cpu().numpy(), ember.randn(8, device="cuda").cpu().numpy())


def make_model():
    ember.manual_seed(1)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1)).cuda()


def capture_training_step(model, opt, first):
    """A CUDA graph of one training step of ``model`` on copies of the batch ``first``, and those copies."""
    static_x, static_t = first[0].clone(), first[1].clone()
    opt.zero_grad(set_to_none=True)
    g = ember.cuda.CUDAGraph()
    with ember.cuda.graph(g):
        nn.functional.mse_loss(model(static_x), static_t).backward()
        opt.step()
    return g, static_x, static_t


def replay_each(captured, batches, after=lambda: None):
    """Replays the captured step on each batch (copied into its static inputs), calling ``after`` after each."""
    g, static_x, static_t = captured
    for x, t in batches:
        static_x.copy_(x)
        static_t.copy_(t)
        g.replay()
        after()


STEPPERS = {
    "sgd": lambda params, capturable: ember.optim.SGD(params, lr=0.1, momentum=0.9),
    "adam": lambda params, capturable: ember.optim.Adam(params, lr=0.05, capturable=capturable),
    "adamw_amsgrad": lambda params, capturable: ember.optim.AdamW(params, lr=0.05, amsgrad=True, capturable=capturable),
}


@pytest.mark.filterwarnings("ignore:This instance was constructed with capturable=True")
@pytest.mark.parametrize("stepper", sorted(STEPPERS))
def test_a_whole_training_step_replays_as_eager_steps(stepper):
    # Adam's capturable=True counts its steps on the device (Note [Capturable steps]): each replay's bias
    # corrections are the next step's, as eager steps with counts on the host
    data = [(ember.randn(16, 4, device="cuda"), ember.randn(16, 1, device="cuda")) for _ in range(6)]
    eager = make_model()
    eager_opt = STEPPERS[stepper](eager.parameters(), False)
    for x, t in data:
        eager_opt.zero_grad()
        nn.functional.mse_loss(eager(x), t).backward()
        eager_opt.step()
    graphed = make_model()
    opt = STEPPERS[stepper](graphed.parameters(), True)
    for x, t in data[:2]:  # warm-up steps, as PyTorch's recipe: the optimizer's state exists before the capture
        opt.zero_grad(set_to_none=True)
        nn.functional.mse_loss(graphed(x), t).backward()
        opt.step()
    replay_each(capture_training_step(graphed, opt, data[0]), data[2:])
    for a, b in zip(eager.parameters(), graphed.parameters()):
        np.testing.assert_allclose(a.detach().cpu().numpy(), b.detach().cpu().numpy(), rtol=1e-5, atol=1e-6)
    if stepper != "sgd":
        assert all(s["step"].device.type == "cuda" and s["step"].item() == 6 for s in opt.state.values())


@pytest.mark.filterwarnings("ignore:This instance was constructed with capturable=True")
def test_a_scheduled_tensor_lr_reaches_the_replays_of_a_capturable_adam_step():
    # the lr tensor on the GPU is read by the step kernel, so the scheduler's fill_ between replays counts
    data = [(ember.randn(16, 4, device="cuda"), ember.randn(16, 1, device="cuda")) for _ in range(6)]
    schedule = lambda opt: ember.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)  # noqa: E731
    eager = make_model()
    eager_opt = ember.optim.AdamW(eager.parameters(), lr=0.05)
    eager_sched = schedule(eager_opt)
    for x, t in data:
        eager_opt.zero_grad()
        nn.functional.mse_loss(eager(x), t).backward()
        eager_opt.step()
        eager_sched.step()
    graphed = make_model()
    opt = ember.optim.AdamW(graphed.parameters(), lr=ember.tensor(0.05, device="cuda"), capturable=True)
    sched = schedule(opt)
    nn.functional.mse_loss(graphed(data[0][0]), data[0][1]).backward()  # a warm-up step: the state exists
    opt.step()
    sched.step()
    replay_each(capture_training_step(graphed, opt, data[0]), data[1:], after=sched.step)
    assert opt.param_groups[0]["lr"].device.type == "cuda"
    for a, b in zip(eager.parameters(), graphed.parameters()):
        np.testing.assert_allclose(a.detach().cpu().numpy(), b.detach().cpu().numpy(), rtol=1e-5, atol=1e-6)


def test_optimizers_counting_steps_on_the_host_refuse_a_capture():
    model = make_model()
    opt = ember.optim.Adam(model.parameters())
    model(ember.ones(2, 4, device="cuda")).sum().backward()
    opt.step()
    with pytest.raises(
        RuntimeError, match="capture of step\\(\\) for an instance of Adam but param_groups' capturable"
    ):
        with ember.cuda.graph(ember.cuda.CUDAGraph()):
            opt.step()
    opt.step()  # outside a capture it steps
    # ember's RMSprop counts on the host even with capturable=True: a capture would replay one step
    rms = ember.optim.RMSprop(model.parameters(), capturable=True)
    with pytest.warns(UserWarning, match="step\\(\\) is running without CUDA graph capture"):
        rms.step()
    with pytest.raises(RuntimeError, match="ember's RMSprop counts its steps on the host"):
        with ember.cuda.graph(ember.cuda.CUDAGraph()):
            rms.step()


def test_capturable_and_fused_steps_keep_their_counts_on_the_device():
    model = make_model()
    model(ember.ones(2, 4, device="cuda")).sum().backward()
    fused = ember.optim.AdamW(model.parameters(), fused=True)
    plain = ember.optim.AdamW(model.parameters())
    for opt in (fused, plain):
        opt.step()
    assert {s["step"].device.type for s in fused.state.values()} == {"cuda"}
    assert {s["step"].device.type for s in plain.state.values()} == {"cpu"}
    # as PyTorch's load_state_dict: the saved groups' options decide; a capturable or fused group's counts go to
    # its parameters' devices (float32, here from a state_dict loaded to the CPU), the others' stay where they were
    saved = fused.state_dict()
    saved["state"] = {k: {n: t.cpu() for n, t in v.items()} for k, v in saved["state"].items()}
    capturable = ember.optim.Adam(model.parameters(), capturable=True)
    capturable.load_state_dict(saved)
    assert {(s["step"].device.type, s["step"].dtype) for s in capturable.state.values()} == {("cuda", ember.float32)}
    capturable.load_state_dict(plain.state_dict())
    assert {s["step"].device.type for s in capturable.state.values()} == {"cpu"}
    assert capturable.param_groups[0]["capturable"] is False  # the saved group's option, as PyTorch
    capturable = ember.optim.Adam(model.parameters(), capturable=True)
    with pytest.warns(UserWarning, match="capturable=True can impair performance"):
        capturable.step()
        capturable.step()
    assert [s["step"].item() for s in capturable.state.values()] == [2.0] * 4


def test_make_graphed_callables_gives_the_eager_numbers_and_gradients():
    graphed, eager = make_model(), make_model()

    def scale(a, b):
        return a * b.sum()

    sample = ember.randn(5, 4, device="cuda", requires_grad=True)
    graphed_model, graphed_scale = ember.cuda.make_graphed_callables(
        (graphed, scale), ((sample,), (ember.randn(3, device="cuda", requires_grad=True), ember.ones(2, device="cuda")))
    )
    assert graphed_model is graphed
    for _ in range(2):
        x = ember.randn(5, 4, device="cuda", requires_grad=True)
        x_eager = x.detach().clone().requires_grad_()
        out, out_eager = graphed_model(x), eager(x_eager)
        assert type(out.grad_fn).__name__ == "GraphedBackward"
        out.square().sum().backward()
        out_eager.square().sum().backward()
        np.testing.assert_allclose(out.detach().cpu().numpy(), out_eager.detach().cpu().numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(x.grad.cpu().numpy(), x_eager.grad.cpu().numpy(), rtol=1e-5, atol=1e-6)
    for a, b in zip(graphed.parameters(), eager.parameters()):  # two steps' gradients, accumulated
        np.testing.assert_allclose(a.grad.cpu().numpy(), b.grad.cpu().numpy(), rtol=1e-5, atol=1e-6)
    a = ember.randn(3, device="cuda", requires_grad=True)
    b = ember.tensor([1.0, 2.0], device="cuda")
    graphed_scale(a, b).sum().backward()
    np.testing.assert_allclose(a.grad.cpu().numpy(), [3.0] * 3)
    pair = ember.cuda.make_graphed_callables(lambda t: (t * 2, t.sum()), (ember.ones(3, device="cuda"),))
    doubled, total = pair(ember.full((3,), 2.0, device="cuda"))  # a tuple stays a tuple
    assert doubled.tolist() == [4.0] * 3 and total.item() == 6.0
    graphed.eval()  # outside the mode it was captured in, the module runs its own forward
    assert graphed(ember.ones(1, 4, device="cuda")).grad_fn.name() != "GraphedBackward"
