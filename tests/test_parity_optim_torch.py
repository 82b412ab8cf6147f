"""ember.optim against torch.optim: from the same start and the same gradients, the
same parameters and state (to float32 rounding), the same state_dict layout, and
the same learning-rate sequences (exactly).  Runs only where PyTorch is importable."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import ember  # noqa: E402

SHAPES = [(3, 4), (5,), ()]
STEPS = 6


def case(name, cls, **kwargs):
    return pytest.param(cls, kwargs, id=name)


CASES = [
    case("sgd", "SGD", lr=0.1),
    case("sgd_momentum", "SGD", lr=0.1, momentum=0.9),
    case("sgd_dampening", "SGD", lr=0.1, momentum=0.9, dampening=0.3),
    case("sgd_nesterov", "SGD", lr=0.1, momentum=0.9, nesterov=True),
    case("sgd_weight_decay", "SGD", lr=0.1, momentum=0.5, weight_decay=0.1),
    case("sgd_maximize", "SGD", lr=0.1, momentum=0.9, maximize=True),
    case("adam", "Adam", lr=0.05),
    case("adam_betas_eps", "Adam", lr=0.05, betas=(0.8, 0.9), eps=1e-3),
    case("adam_weight_decay", "Adam", lr=0.05, weight_decay=0.1),
    case("adam_amsgrad", "Adam", lr=0.05, amsgrad=True),
    case("adam_maximize", "Adam", lr=0.05, maximize=True, amsgrad=True, weight_decay=0.01),
    case("adam_decoupled", "Adam", lr=0.05, weight_decay=0.1, decoupled_weight_decay=True),
    case("adamw", "AdamW", lr=0.05),
    case("adamw_amsgrad", "AdamW", lr=0.05, weight_decay=0.1, amsgrad=True),
    case("adamw_maximize", "AdamW", lr=0.05, maximize=True),
    case("rmsprop", "RMSprop", lr=0.01),
    case("rmsprop_alpha_eps", "RMSprop", lr=0.01, alpha=0.9, eps=1e-4),
    case("rmsprop_weight_decay", "RMSprop", lr=0.01, weight_decay=0.1),
    case("rmsprop_momentum", "RMSprop", lr=0.01, momentum=0.9),
    case("rmsprop_centered", "RMSprop", lr=0.01, centered=True),
    case("rmsprop_all", "RMSprop", lr=0.01, momentum=0.5, centered=True, weight_decay=0.1, maximize=True),
]


def run(lib, cls, kwargs, dtype, starts, grads):
    """STEPS steps of lib.optim.<cls>; the last parameter has no gradient on odd steps (it is skipped)."""
    dt = getattr(lib, dtype)
    params = [lib.tensor(a, dtype=dt, requires_grad=True) for a in starts]
    # the first parameter is a non-contiguous leaf (a transposed tensor), updated in place all the same
    params[0] = lib.tensor(starts[0].T.copy(), dtype=dt).t().detach().requires_grad_(True)
    opt = getattr(lib.optim, cls)(params, **kwargs)
    for step in range(STEPS):
        for i, p in enumerate(params):
            skip = i == len(params) - 1 and step % 2 == 1
            p.grad = None if skip else lib.tensor(grads[step][i], dtype=dt)
        opt.step()
    return params, opt


def numpy_state(lib, opt):
    sd = opt.state_dict()
    return {k: {name: np.asarray(v.detach().numpy()) for name, v in s.items()} for k, s in sd["state"].items()}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("cls, kwargs", CASES)
def test_optimizer_matches_torch(cls, kwargs, dtype):
    rng = np.random.default_rng(0)
    starts = [rng.standard_normal(s) for s in SHAPES]
    grads = [[rng.standard_normal(s) for s in SHAPES] for _ in range(STEPS)]
    ours, our_opt = run(ember, cls, kwargs, dtype, starts, grads)
    theirs, their_opt = run(torch, cls, kwargs, dtype, starts, grads)
    tol = dict(rtol=2e-6, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-13)
    for a, b in zip(ours, theirs):
        assert a.dtype == getattr(ember, dtype) and a.shape == tuple(b.shape)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **tol)

    our_sd, their_sd = our_opt.state_dict(), their_opt.state_dict()
    assert our_sd["param_groups"] == their_sd["param_groups"]
    our_state, their_state = numpy_state(ember, our_opt), numpy_state(torch, their_opt)
    assert our_state.keys() == their_state.keys()
    for k in their_state:
        assert our_state[k].keys() == their_state[k].keys()
        for name in their_state[k]:
            assert our_state[k][name].dtype == their_state[k][name].dtype, name
            np.testing.assert_allclose(our_state[k][name], their_state[k][name], **tol, err_msg=name)


def test_param_groups_with_their_own_options_match_torch():
    rng = np.random.default_rng(1)
    starts = [rng.standard_normal(4) for _ in range(3)]
    grads = [[rng.standard_normal(4) for _ in range(3)] for _ in range(4)]
    results = []
    for lib in (ember, torch):
        ps = [lib.tensor(a, dtype=lib.float32, requires_grad=True) for a in starts]
        opt = lib.optim.SGD(
            [{"params": ps[:2], "momentum": 0.9, "nesterov": True}, {"params": ps[2:], "lr": 0.3, "weight_decay": 0.1}],
            lr=0.05,
        )
        for g in grads:
            for p, gi in zip(ps, g):
                p.grad = lib.tensor(gi, dtype=lib.float32)
            opt.step()
        results.append([p.detach().numpy() for p in ps])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=2e-6, atol=1e-6)


# ----------------------------------------------------------------------------- schedulers

SCHEDULERS = [
    pytest.param(lambda m, o: m.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.3), id="step"),
    pytest.param(lambda m, o: m.optim.lr_scheduler.MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.5), id="multistep"),
    pytest.param(lambda m, o: m.optim.lr_scheduler.ExponentialLR(o, gamma=0.93), id="exponential"),
    pytest.param(lambda m, o: m.optim.lr_scheduler.CosineAnnealingLR(o, T_max=7, eta_min=0.001), id="cosine"),
    pytest.param(lambda m, o: m.optim.lr_scheduler.LambdaLR(o, lambda e: 1 / math.sqrt(e + 1)), id="lambda"),
    pytest.param(
        lambda m, o: m.optim.lr_scheduler.LambdaLR(o, [lambda e: 0.9**e, lambda e: e % 3 + 1]), id="lambda_per_group"
    ),
]


def lr_sequence(lib, make, epochs=25, poke_at=None):
    ps = [lib.zeros(1, requires_grad=True), lib.zeros(1, requires_grad=True)]
    opt = lib.optim.SGD([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.3}], lr=0.1)
    sched = make(lib, opt)
    seq = [sched.get_last_lr()]
    for epoch in range(epochs):
        opt.step()
        sched.step()
        if epoch == poke_at:  # a change from outside the scheduler that recurrences carry along
            opt.param_groups[0]["lr"] *= 0.5
        seq.append(list(sched.get_last_lr()))
    return seq


@pytest.mark.parametrize("make", SCHEDULERS)
def test_scheduler_matches_torch(make):
    assert lr_sequence(ember, make) == lr_sequence(torch, make)


@pytest.mark.parametrize("make", SCHEDULERS)
def test_scheduler_matches_torch_after_outside_change(make):
    assert lr_sequence(ember, make, poke_at=4) == lr_sequence(torch, make, poke_at=4)


def test_scheduler_state_dict_matches_torch():
    dicts = []
    for lib in (ember, torch):
        opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1)
        sched = lib.optim.lr_scheduler.MultiStepLR(opt, milestones=[1, 3], gamma=0.5)
        for _ in range(4):
            opt.step()
            sched.step()
        dicts.append(sched.state_dict())
    ours, theirs = dicts
    for key in ("base_lrs", "last_epoch", "milestones", "gamma", "_step_count", "_last_lr"):
        assert ours[key] == theirs[key], key
