"""The CUDA generator's state, as PyTorch exposes it: ember.cuda.get_rng_state/set_rng_state (16 bytes),
ember.random.fork_rng over the CPU and CUDA generators, and checkpoint replaying dropout on the GPU."""

import pickle
import threading

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.utils.checkpoint import checkpoint

pytestmark = pytest.mark.cuda

requires_gpu = pytest.mark.skipif(not ember.cuda.is_available(), reason="no CUDA GPU")


def draws():
    return ember.rand(3).numpy(), ember.randn(5, device="cuda").cpu().numpy()


@requires_gpu
def test_cuda_rng_state_is_16_bytes_and_replays_the_draws():
    ember.cuda.manual_seed(5)
    ember.randn(7, device="cuda")
    state = ember.cuda.get_rng_state()
    assert state.dtype == ember.uint8 and state.shape == (16,) and state.device.type == "cpu"
    first = ember.randn(9, device="cuda").cpu().numpy()
    assert not np.array_equal(ember.randn(9, device="cuda").cpu().numpy(), first)
    ember.cuda.set_rng_state(state)
    np.testing.assert_array_equal(ember.randn(9, device="cuda").cpu().numpy(), first)
    # the seed is the first 8 bytes, little-endian, as PyTorch's Philox state
    assert int(state[:8].numpy().view("<u8")[0]) == ember.cuda.initial_seed() == 5
    states = ember.cuda.get_rng_state_all()
    assert len(states) == ember.cuda.device_count()
    ember.cuda.set_rng_state_all(states)
    with pytest.raises(RuntimeError, match="16-byte uint8"):
        ember.cuda.set_rng_state(ember.zeros(4, dtype=ember.uint8))


@pytest.mark.skipif(ember.cuda.is_available(), reason="a CUDA GPU is present")
def test_cuda_rng_state_without_a_gpu_raises_and_fork_rng_still_works():
    with pytest.raises(RuntimeError):
        ember.cuda.get_rng_state()
    ember.manual_seed(1)
    with ember.random.fork_rng():
        inside = ember.rand(3).numpy()
    np.testing.assert_array_equal(ember.rand(3).numpy(), inside)


@requires_gpu
def test_fork_rng_puts_both_generators_back():
    ember.manual_seed(2)
    with ember.random.fork_rng(devices=[0]):
        inside = draws()
    after = draws()
    for a, b in zip(inside, after):
        np.testing.assert_array_equal(a, b)
    with ember.random.fork_rng(enabled=False):
        skipped = draws()
    assert not np.array_equal(draws()[1], skipped[1])


def test_ember_random_has_torch_randoms_names():
    for name in ("fork_rng", "get_rng_state", "initial_seed", "manual_seed", "seed", "set_rng_state"):
        assert callable(getattr(ember.random, name)), name
    ember.random.manual_seed(4)
    assert ember.random.initial_seed() == 4
    state = ember.random.get_rng_state()
    a = ember.rand(2).numpy()
    ember.random.set_rng_state(state)
    np.testing.assert_array_equal(ember.rand(2).numpy(), a)


def cuda_mlp():
    ember.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3)).double().cuda()


def gradients(net, x, forward):
    net.zero_grad()
    x.grad = None
    ember.manual_seed(7)
    out = forward(net, x)
    (out * out).sum().backward()
    after = ember.rand(4, device="cuda").cpu().numpy()  # the generator goes on from the forward's draws
    return [x.grad.cpu().numpy()] + [p.grad.cpu().numpy() for p in net.parameters()] + [after]


@requires_gpu
@pytest.mark.parametrize("use_reentrant", [True, False])
def test_checkpoint_replays_dropout_on_the_gpu(use_reentrant):
    net = cuda_mlp()
    x = ember.tensor(np.random.default_rng(1).standard_normal((6, 4)), device="cuda", requires_grad=True)
    plain = gradients(net, x, lambda n, t: n(t))
    ckpt = gradients(net, x, lambda n, t: checkpoint(n, t, use_reentrant=use_reentrant))
    for a, b in zip(plain, ckpt):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def grad_of(fn):
    def wrapper(x):
        with ember.enable_grad():
            return ember.autograd.grad(fn(x), x, create_graph=True)[0]

    return wrapper


def checkpointed(fn):
    return lambda x: checkpoint(fn, x, use_reentrant=False)


def takes_gradients_inside(x):
    ember.autograd.grad(x.sin().exp().sin(), x)  # a backward pass inside the checkpointed function
    return x.sin()


@requires_gpu
def test_backward_inside_a_checkpoint_rerun_finishes_on_the_gpu():
    # the rerun holds the generator's lock while the inner pass runs; its nodes used to go to the
    # device thread, which waited for that lock when it met the inner checkpoint: a deadlock
    x = ember.randn((), device="cuda", requires_grad=True)
    calls = [
        checkpointed(grad_of(grad_of(checkpointed(takes_gradients_inside)))),
        grad_of(grad_of(takes_gradients_inside)),
    ]
    results = []
    worker = threading.Thread(target=lambda: results.extend(call(x) for call in calls), daemon=True)
    worker.start()
    worker.join(timeout=120)
    assert not worker.is_alive(), "the backward inside the checkpoint's rerun hung"
    np.testing.assert_allclose(results[0].item(), results[1].item(), rtol=1e-6)


@requires_gpu
def test_a_generator_made_for_the_gpu_says_so_and_repeats_its_draws():
    g = ember.Generator(device="cuda")
    assert g.device == ember.device("cuda", 0) and ember.Generator("cuda:0").device == g.device
    assert ember.Generator().device == ember.device("cpu")
    first = ember.randn(5, generator=g.manual_seed(7), device="cuda")
    again = ember.randn(5, generator=g.manual_seed(7), device="cuda")
    assert first.device == g.device and ember.equal(first, again)


@requires_gpu
def test_a_cuda_generator_draws_on_its_gpu_from_a_philox_stream_of_its_own():
    # as PyTorch's: its own (seed, offset), apart from the default generator's; a fresh one seeded as the
    # default one draws the same numbers; get_state is the 16 bytes, get_offset the counters taken
    g = ember.Generator(device="cuda").manual_seed(7)
    ember.cuda.manual_seed(7)
    default_state = ember.cuda.get_rng_state()
    mine = ember.randn(1000, device="cuda", generator=g)
    assert ember.equal(ember.cuda.get_rng_state(), default_state)  # the default stream is left alone
    assert ember.equal(mine, ember.randn(1000, device="cuda"))
    assert g.get_offset() == 1000 and g.initial_seed() == 7
    state = g.get_state()
    assert state.dtype == ember.uint8 and state.shape == (16,)
    ints = ember.randint(0, 100, (50,), device="cuda", generator=g)
    perm = ember.randperm(20, device="cuda", generator=g)
    g.set_state(state)
    assert ember.equal(ints, ember.randint(0, 100, (50,), device="cuda", generator=g))
    assert ember.equal(perm, ember.randperm(20, device="cuda", generator=g))
    assert sorted(perm.cpu().tolist()) == list(range(20))
    # a CPU tensor takes the generator's numbers, copied; the methods and samplers draw on the tensor's device
    g.manual_seed(3)
    on_gpu = ember.rand(6, device="cuda", generator=g)
    assert ember.equal(ember.rand(6, generator=g.manual_seed(3)), on_gpu.cpu())
    filled = ember.empty(6, device="cuda").uniform_(generator=g.manual_seed(3))
    assert ember.equal(filled, on_gpu)
    assert ember.bernoulli(ember.full((8,), 0.5, device="cuda"), generator=g).device.type == "cuda"
    clone = pickle.loads(pickle.dumps(g))
    assert clone.device == g.device and clone.get_offset() == g.get_offset()
    assert ember.equal(ember.randn(4, device="cuda", generator=clone), ember.randn(4, device="cuda", generator=g))
    with pytest.raises(RuntimeError, match="CPU Generator does not use offset"):
        ember.Generator().get_offset()
    with pytest.raises(RuntimeError, match="16 uint8 bytes"):
        g.set_state(ember.Generator().get_state())
    # its numbers in a CUDA graph would repeat at each replay: refused, as draws on the host are
    with pytest.raises(RuntimeError, match='drawn from a Generator\\(device="cuda"\\) while cuda:0 captures'):
        with ember.cuda.graph(ember.cuda.CUDAGraph()):
            ember.randn(3, device="cuda", generator=g)


@requires_gpu
def test_tensor_uniform_and_normal_draw_on_the_gpu():
    # from the device's Philox stream (they drew on the host and copied): a CUDA graph replays fresh numbers
    ember.cuda.manual_seed(11)
    cpu_state = ember.get_rng_state()
    x = ember.empty(2000, device="cuda").uniform_(-2.0, 2.0)
    y = ember.empty(2000, device="cuda").normal_(1.0, 0.5)
    assert ember.equal(ember.get_rng_state(), cpu_state)  # the CPU generator is left alone
    assert -2.0 <= x.min().item() and x.max().item() < 2.0 and abs(y.mean().item() - 1.0) < 0.05
    g = ember.cuda.CUDAGraph()
    with ember.cuda.graph(g):
        z = ember.empty(100, device="cuda").normal_()
    g.replay()
    first = z.clone()
    g.replay()
    assert not ember.equal(first, z)


@requires_gpu
def test_randint_and_randperm_draw_on_the_device_from_the_cuda_generator():
    ember.cuda.manual_seed(4)
    ints = ember.randint(3, 13, (30000,), device="cuda")
    ember.cuda.manual_seed(4)
    assert ints.device.type == "cuda" and ints.dtype == ember.int64
    assert ember.equal(ints, ember.randint(3, 13, (30000,), device="cuda"))
    counts = np.bincount(ints.cpu().numpy() - 3, minlength=10)
    assert counts.sum() == 30000 and counts.min() > 2700 and counts.max() < 3300  # about 3000 each
    cpu_state = ember.get_rng_state()
    ember.randint(10, (5,), device="cuda")
    assert ember.equal(ember.get_rng_state(), cpu_state)  # the CPU generator is left alone, as PyTorch's
    assert ember.randint(-4, 4, (2, 3), dtype=ember.float64, device="cuda").dtype == ember.float64
    big = ember.randint(2**62, 2**63 - 1, (100,), device="cuda").cpu().numpy()
    assert big.min() >= 2**62 and len(set(big.tolist())) == 100
    with pytest.raises(RuntimeError, match="random_ expects 'from' to be less than 'to'"):
        ember.randint(5, 5, (2,), device="cuda")
    for device in ("cpu", "cuda"):  # the same words on both devices
        with pytest.raises(RuntimeError, match="randperm: n must be non-negative, got -1"):
            ember.randperm(-1, device=device)
    for n in (0, 1, 7, 5000):  # 5000: longer than a block's sort, merged on the device
        perm = ember.randperm(n, device="cuda", dtype=ember.int32)
        assert perm.device.type == "cuda" and perm.dtype == ember.int32
        np.testing.assert_array_equal(np.sort(perm.cpu().numpy()), np.arange(n))
    seeded = ember.Generator().manual_seed(2)  # a CPU generator: drawn on the host, copied
    assert ember.randint(10, (4,), generator=seeded, device="cuda").device.type == "cuda"
