"""ember.optim beyond SGD/Adam/RMSprop: Adadelta, Adagrad, Adamax, ASGD, NAdam, RAdam, Rprop, LBFGS, the
schedulers added to lr_scheduler and swa_utils.  Behaviour only, without numpy: the optimizers minimise a
quadratic, keep PyTorch's state keys, round-trip their state_dict (through ember.save/load) and refuse bad
arguments; the schedulers give the expected learning rates and round-trip theirs.  PyTorch parity is in
test_parity_optim_breadth_torch.py."""

import copy
import io
import math
import re

import pytest

import ember
from ember import nn, optim
from ember.optim import lr_scheduler, swa_utils

TARGET = [1.0, -2.0, 3.0, 0.5]

OPTIMIZERS = [
    pytest.param(optim.Adagrad, dict(lr=0.5), id="adagrad"),
    pytest.param(optim.Adagrad, dict(lr=0.5, lr_decay=1e-3, initial_accumulator_value=0.1), id="adagrad_decay"),
    pytest.param(optim.Adadelta, dict(lr=10.0), id="adadelta"),
    pytest.param(optim.Adadelta, dict(lr=5.0, rho=0.95, weight_decay=1e-5), id="adadelta_rho"),
    pytest.param(optim.Adamax, dict(lr=0.1), id="adamax"),
    pytest.param(optim.NAdam, dict(lr=0.1), id="nadam"),
    pytest.param(optim.NAdam, dict(lr=0.1, weight_decay=1e-4, decoupled_weight_decay=True), id="nadamw"),
    pytest.param(optim.RAdam, dict(lr=0.1), id="radam"),
    pytest.param(optim.RAdam, dict(lr=0.1, weight_decay=1e-4, decoupled_weight_decay=True), id="radamw"),
    pytest.param(optim.ASGD, dict(lr=0.05), id="asgd"),
    pytest.param(optim.ASGD, dict(lr=0.05, t0=100), id="asgd_averaging"),
    pytest.param(optim.Rprop, dict(), id="rprop"),
    pytest.param(optim.Rprop, dict(lr=0.1, etas=(0.3, 1.1), step_sizes=(1e-4, 1.0)), id="rprop_etas"),
]

STATE_KEYS = {
    optim.Adagrad: {"step", "sum"},
    optim.Adadelta: {"step", "square_avg", "acc_delta"},
    optim.Adamax: {"step", "exp_avg", "exp_inf"},
    optim.NAdam: {"step", "mu_product", "exp_avg", "exp_avg_sq"},
    optim.RAdam: {"step", "exp_avg", "exp_avg_sq"},
    optim.ASGD: {"step", "eta", "mu", "ax"},
    optim.Rprop: {"step", "prev", "step_size"},
}


def quadratic_loss(p):
    return ((p - ember.tensor(TARGET)) ** 2).sum()


def train(opt, p, steps, sign=1.0):
    for _ in range(steps):
        opt.zero_grad()
        (sign * quadratic_loss(p)).backward()
        opt.step()


def close(a, b, tol):
    return all(abs(x - y) <= tol for x, y in zip(a, b))


@pytest.mark.parametrize("cls, kwargs", OPTIMIZERS)
def test_minimises_a_quadratic(cls, kwargs):
    p = ember.zeros(4, requires_grad=True)
    opt = cls([p], **kwargs)
    start = quadratic_loss(p).item()
    train(opt, p, 300)
    assert quadratic_loss(p).item() < 1e-3 * start
    assert close(p.detach().tolist(), TARGET, 0.05)


@pytest.mark.parametrize("cls, kwargs", OPTIMIZERS)
def test_maximize_climbs_the_negated_quadratic(cls, kwargs):
    p = ember.zeros(4, requires_grad=True)
    opt = cls([p], maximize=True, **kwargs)
    train(opt, p, 300, sign=-1.0)
    assert close(p.detach().tolist(), TARGET, 0.05)


@pytest.mark.parametrize("cls, kwargs", OPTIMIZERS)
def test_step_updates_in_place_with_pytorch_state_keys(cls, kwargs):
    p = ember.zeros(4, requires_grad=True)
    opt = cls([p], **kwargs)
    quadratic_loss(p).backward()
    version = p._version
    before = p.detach().clone()
    opt.step()
    assert p.is_leaf and p.grad_fn is None and p.requires_grad
    assert p._version > version
    assert p.detach().tolist() != before.tolist()
    assert set(opt.state[p]) == STATE_KEYS[cls]
    assert opt.state[p]["step"].dtype == ember.float32 and opt.state[p]["step"].item() == 1.0
    for value in opt.state[p].values():
        assert value.grad_fn is None and not value.requires_grad


@pytest.mark.parametrize("cls, kwargs", OPTIMIZERS)
def test_parameters_without_grad_are_skipped(cls, kwargs):
    p, q = ember.zeros(4, requires_grad=True), ember.ones(2, requires_grad=True)
    opt = cls([p, q], **kwargs)
    quadratic_loss(p).backward()
    opt.step()
    assert q.detach().tolist() == [1.0, 1.0]
    if cls is not optim.Adagrad:  # Adagrad creates every parameter's state in its constructor, as PyTorch
        assert len(opt.state[q]) == 0


@pytest.mark.parametrize("cls, kwargs", OPTIMIZERS)
def test_state_dict_round_trip_continues_training_identically(cls, kwargs):
    p = ember.zeros(4, requires_grad=True)
    opt = cls([p], **kwargs)
    train(opt, p, 5)
    buf = io.BytesIO()
    ember.save({"param": p, "optim": opt.state_dict()}, buf)
    train(opt, p, 5)  # uninterrupted

    buf.seek(0)
    ckpt = ember.load(buf)
    q = ckpt["param"]
    opt2 = cls([q], **kwargs)
    opt2.load_state_dict(ckpt["optim"])
    assert opt2.state_dict()["param_groups"] == opt.state_dict()["param_groups"]
    assert set(opt2.state[q]) == STATE_KEYS[cls]
    train(opt2, q, 5)
    assert q.detach().tolist() == p.detach().tolist()


def test_adagrad_state_exists_before_the_first_step():
    p = ember.zeros(3, requires_grad=True)
    opt = optim.Adagrad([p], initial_accumulator_value=0.25)
    state = opt.state_dict()["state"][0]
    assert state["step"].item() == 0.0 and state["sum"].tolist() == [0.25] * 3


def test_asgd_averages_from_t0():
    p = ember.zeros(4, requires_grad=True)
    opt = optim.ASGD([p], lr=0.05, t0=100)
    train(opt, p, 300)
    state = opt.state[p]
    assert math.isclose(state["mu"].item(), 1 / 200, rel_tol=1e-6)
    assert state["eta"].item() < 0.05
    assert close(state["ax"].tolist(), TARGET, 0.05)


def test_rprop_step_sizes_stay_within_bounds():
    p = ember.zeros(4, requires_grad=True)
    opt = optim.Rprop([p], lr=0.5, step_sizes=(0.125, 0.75))  # bounds exact in float32
    train(opt, p, 40)
    sizes = opt.state[p]["step_size"].tolist()
    assert all(0.125 <= s <= 0.75 for s in sizes) and min(sizes) == 0.125


@pytest.mark.parametrize(
    "cls, kwargs, message",
    [
        (optim.Adagrad, dict(lr=-1), "Invalid learning rate: -1"),
        (optim.Adagrad, dict(lr_decay=-1), "Invalid lr_decay value: -1"),
        (optim.Adagrad, dict(initial_accumulator_value=-1), "Invalid initial_accumulator_value value: -1"),
        (optim.Adagrad, dict(eps=-1), "Invalid epsilon value: -1"),
        (optim.Adadelta, dict(rho=1.5), "Invalid rho value: 1.5"),
        (optim.Adadelta, dict(weight_decay=-1), "Invalid weight_decay value: -1"),
        (optim.Adamax, dict(betas=(1.0, 0.9)), "Invalid beta parameter at index 0: 1.0"),
        (optim.NAdam, dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
        (optim.NAdam, dict(momentum_decay=-1), "Invalid momentum_decay value: -1"),
        (optim.RAdam, dict(eps=-1), "Invalid epsilon value: -1"),
        (optim.ASGD, dict(weight_decay=-1), "Invalid weight_decay value: -1"),
        (optim.Rprop, dict(etas=(1.5, 1.2)), "Invalid eta values: 1.5, 1.2"),
        (optim.LBFGS, dict(lr=-1), "Invalid learning rate: -1"),
    ],
)
def test_bad_arguments_raise_as_pytorch(cls, kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        cls([ember.zeros(2, requires_grad=True)], **kwargs)


@pytest.mark.parametrize("cls", [optim.Adagrad, optim.Adadelta, optim.Adamax, optim.NAdam, optim.RAdam, optim.ASGD])
def test_flags_are_recorded_and_differentiable_refused(cls):
    p = ember.zeros(2, requires_grad=True)
    opt = cls([p], foreach=True)
    assert opt.param_groups[0]["foreach"] is True and opt.param_groups[0]["maximize"] is False
    with pytest.raises(NotImplementedError, match="differentiable"):
        cls([p], differentiable=True)


def test_adagrad_fused_and_foreach_together_raise():
    with pytest.raises(RuntimeError, match="cannot be `True` together"):
        optim.Adagrad([ember.zeros(2, requires_grad=True)], foreach=True, fused=True)


@pytest.mark.filterwarnings("ignore:This instance was constructed with capturable=True")
def test_capturable_is_accepted_where_pytorch_has_it_and_refuses_cpu_parameters_at_the_step():
    p = ember.zeros(2, requires_grad=True)
    classes = (optim.Adam, optim.AdamW, optim.Adadelta, optim.Adamax, optim.NAdam, optim.RAdam, optim.ASGD)
    for cls in classes + (optim.Rprop, optim.RMSprop):
        opt = cls([p], capturable=True)
        assert opt.param_groups[0]["capturable"] is True
        opt.step()  # no gradient: nothing to check
        p.grad = ember.ones(2)
        # as PyTorch: a capturable step needs its parameters on a GPU (AssertionError, PyTorch's words)
        with pytest.raises(AssertionError, match=re.escape("If capturable=True, params and state_steps must be on")):
            opt.step()
        p.grad = None


def test_constructor_defaults_are_pytorchs():
    p = ember.zeros(2, requires_grad=True)
    assert optim.Adagrad([p]).defaults["lr"] == 1e-2 and optim.Adagrad([p]).defaults["eps"] == 1e-10
    assert optim.Adadelta([p]).defaults["lr"] == 1.0 and optim.Adadelta([p]).defaults["rho"] == 0.9
    assert optim.Adamax([p]).defaults["lr"] == 2e-3
    nadam = optim.NAdam([p]).defaults
    assert nadam["lr"] == 2e-3 and nadam["momentum_decay"] == 4e-3 and nadam["decoupled_weight_decay"] is False
    assert optim.RAdam([p]).defaults["lr"] == 1e-3
    asgd = optim.ASGD([p]).defaults
    assert (asgd["lambd"], asgd["alpha"], asgd["t0"]) == (1e-4, 0.75, 1e6)
    rprop = optim.Rprop([p]).defaults
    assert rprop["etas"] == (0.5, 1.2) and rprop["step_sizes"] == (1e-6, 50)
    lbfgs = optim.LBFGS([p]).defaults
    assert (lbfgs["lr"], lbfgs["max_iter"], lbfgs["max_eval"], lbfgs["history_size"]) == (1, 20, 25, 100)


def test_closure_loss_is_returned():
    p = ember.zeros(4, requires_grad=True)
    opt = optim.NAdam([p], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = quadratic_loss(p)
        loss.backward()
        return loss

    assert opt.step(closure).item() == quadratic_loss(ember.zeros(4)).item()


# ----------------------------------------------------------------------------- LBFGS


def rosenbrock(xy):
    x, y = xy[0], xy[1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_minimises_rosenbrock(line_search_fn):
    xy = ember.tensor([-1.5, 2.0], dtype=ember.float64, requires_grad=True)
    lr = 1 if line_search_fn else 0.1
    opt = optim.LBFGS([xy], lr=lr, max_iter=50, history_size=10, line_search_fn=line_search_fn)

    def closure():
        opt.zero_grad()
        loss = rosenbrock(xy)
        loss.backward()
        return loss

    for _ in range(20 if line_search_fn else 100):
        opt.step(closure)
    assert close(xy.detach().tolist(), [1.0, 1.0], 1e-3)
    state = opt.state[xy]
    assert state["func_evals"] >= state["n_iter"] > 0
    assert len(state["old_dirs"]) <= 10


def test_lbfgs_state_dict_round_trip_continues_identically():
    def make():
        xy = ember.tensor([-1.5, 2.0], dtype=ember.float64, requires_grad=True)
        return xy, optim.LBFGS([xy], max_iter=4, history_size=3, line_search_fn="strong_wolfe")

    def closure_for(opt, xy):
        def closure():
            opt.zero_grad()
            loss = rosenbrock(xy)
            loss.backward()
            return loss

        return closure

    xy, opt = make()
    for _ in range(3):
        opt.step(closure_for(opt, xy))
    buf = io.BytesIO()
    ember.save({"xy": xy, "optim": opt.state_dict()}, buf)
    for _ in range(3):
        opt.step(closure_for(opt, xy))

    buf.seek(0)
    ckpt = ember.load(buf)
    xy2, opt2 = make()
    with ember.no_grad():
        xy2.copy_(ckpt["xy"])
    opt2.load_state_dict(ckpt["optim"])
    for _ in range(3):
        opt2.step(closure_for(opt2, xy2))
    assert xy2.detach().tolist() == xy.detach().tolist()


def test_lbfgs_refuses_groups_and_unknown_line_searches():
    p, q = ember.zeros(2, requires_grad=True), ember.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="doesn't support per-parameter options"):
        optim.LBFGS([{"params": [p]}, {"params": [q]}])
    opt = optim.LBFGS([p], line_search_fn="backtracking")

    def closure():
        opt.zero_grad()
        loss = quadratic_loss(ember.cat([p, q]))
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        opt.step(closure)


def test_lbfgs_stops_at_once_when_already_optimal():
    p = ember.tensor(TARGET, requires_grad=True)
    opt = optim.LBFGS([p])
    calls = []

    def closure():
        calls.append(1)
        opt.zero_grad()
        loss = quadratic_loss(p)
        loss.backward()
        return loss

    assert opt.step(closure).item() == 0.0
    assert len(calls) == 1 and p.detach().tolist() == TARGET


# ----------------------------------------------------------------------------- schedulers


def make_opt(cls=optim.SGD, **kwargs):
    ps = [ember.zeros(1, requires_grad=True), ember.zeros(1, requires_grad=True)]
    kwargs.setdefault("lr", 0.1)
    return cls([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.3}], **kwargs)


def lrs(sched, epochs, metrics=None):
    out = [sched.get_last_lr()[0]]
    for epoch in range(epochs):
        sched.optimizer.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[epoch])
        out.append(sched.get_last_lr()[0])
    return out


def approx(values):
    return pytest.approx(values, rel=1e-12, abs=1e-15)


def test_multiplicative_lr():
    sched = lr_scheduler.MultiplicativeLR(make_opt(), lambda epoch: 0.5)
    assert lrs(sched, 3) == approx([0.1, 0.05, 0.025, 0.0125])


def test_constant_lr():
    sched = lr_scheduler.ConstantLR(make_opt(), factor=0.5, total_iters=2)
    assert lrs(sched, 4) == approx([0.05, 0.05, 0.1, 0.1, 0.1])


def test_linear_lr():
    sched = lr_scheduler.LinearLR(make_opt(), start_factor=0.25, end_factor=1.0, total_iters=3)
    assert lrs(sched, 5) == approx([0.025, 0.05, 0.075, 0.1, 0.1, 0.1])


def test_polynomial_lr():
    sched = lr_scheduler.PolynomialLR(make_opt(), total_iters=4, power=2.0)
    assert lrs(sched, 5) == approx([0.1 * (1 - e / 4) ** 2 for e in range(5)] + [0.0])


def test_cosine_annealing_warm_restarts():
    sched = lr_scheduler.CosineAnnealingWarmRestarts(make_opt(), T_0=2, T_mult=2, eta_min=0.0)
    expected = [0.1, 0.05, 0.1, 0.1 * (1 + math.cos(math.pi / 4)) / 2, 0.05, 0.1 * (1 + math.cos(3 * math.pi / 4)) / 2]
    assert lrs(sched, 6) == approx(expected + [0.1])
    sched.step(2.5)  # a fractional epoch: half way through the first epoch of the second cycle
    assert sched.get_last_lr()[0] == pytest.approx(0.1 * (1 + math.cos(math.pi * 0.5 / 4)) / 2)


def test_sequential_lr_switches_at_milestones():
    opt = make_opt()
    warmup = lr_scheduler.LinearLR(opt, start_factor=0.5, total_iters=2)
    decay = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    sched = lr_scheduler.SequentialLR(opt, [warmup, decay], milestones=[3])
    assert lrs(sched, 5) == approx([0.05, 0.075, 0.1, 0.1, 0.05, 0.025])


def test_chained_scheduler_composes():
    opt = make_opt()
    sched = lr_scheduler.ChainedScheduler(
        [lr_scheduler.ConstantLR(opt, factor=0.5, total_iters=2), lr_scheduler.ExponentialLR(opt, gamma=0.5)]
    )
    assert lrs(sched, 3) == approx([0.05, 0.025, 0.025, 0.0125])


def test_reduce_lr_on_plateau():
    sched = lr_scheduler.ReduceLROnPlateau(make_opt(), patience=1, factor=0.5, cooldown=1, min_lr=0.02)
    metrics = [1.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2]
    assert lrs(sched, 9, metrics) == approx([0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025])
    assert sched.best == 0.5
    sched.step(ember.tensor(0.1))  # a 0-d tensor metric
    assert sched.best == pytest.approx(0.1)


def test_reduce_lr_on_plateau_max_mode_and_floor():
    sched = lr_scheduler.ReduceLROnPlateau(make_opt(), mode="max", patience=0, factor=0.1, min_lr=[0.005, 0.0])
    out = lrs(sched, 4, [1.0, 0.5, 0.5, 0.5])
    assert out == approx([0.1, 0.1, 0.01, 0.005, 0.005])


def test_cyclic_lr_cycles_lr_and_momentum():
    opt = make_opt(momentum=0.9)
    sched = lr_scheduler.CyclicLR(opt, base_lr=0.1, max_lr=0.5, step_size_up=2)
    momenta = [opt.param_groups[0]["momentum"]]
    out = [sched.get_last_lr()[0]]
    for _ in range(4):
        opt.step()
        sched.step()
        out.append(sched.get_last_lr()[0])
        momenta.append(opt.param_groups[0]["momentum"])
    assert out == approx([0.1, 0.3, 0.5, 0.3, 0.1])
    assert momenta == approx([0.9, 0.85, 0.8, 0.85, 0.9])


def test_cyclic_lr_cycles_beta1_of_adam():
    opt = make_opt(optim.Adam, betas=(0.5, 0.99))
    sched = lr_scheduler.CyclicLR(opt, base_lr=0.1, max_lr=0.5, step_size_up=2)
    assert opt.param_groups[0]["betas"] == (0.9, 0.99)  # starts at max_momentum
    opt.step()
    sched.step()
    assert opt.param_groups[1]["betas"] == (pytest.approx(0.85), 0.99)
    with pytest.raises(ValueError, match="optimizer must support momentum"):
        lr_scheduler.CyclicLR(make_opt(optim.Adagrad), base_lr=0.1, max_lr=0.5)


def test_one_cycle_lr():
    opt = make_opt(momentum=0.9)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10, anneal_strategy="linear")
    out = lrs(sched, 9)
    assert out[0] == pytest.approx(1.0 / 25) and max(out) == pytest.approx(1.0)
    assert out[-1] == pytest.approx(1.0 / 25 / 1e4)
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.95)
    sched.step()  # the 10th step is the last one allowed
    with pytest.raises(ValueError, match="Tried to step 11 times"):
        sched.step()


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda o: lr_scheduler.ConstantLR(o, factor=1.5), ValueError, "between 0 and 1"),
        (lambda o: lr_scheduler.LinearLR(o, start_factor=0), ValueError, "greater than 0"),
        (lambda o: lr_scheduler.LinearLR(o, end_factor=2), ValueError, "between 0 and 1"),
        (lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0), ValueError, "total_steps OR"),
        (lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=10, pct_start=1), ValueError, "pct_start"),
        (lambda o: lr_scheduler.OneCycleLR(o, 1.0, 10, anneal_strategy="exp"), ValueError, "anneal_strategy"),
        (lambda o: lr_scheduler.CyclicLR(o, 0.1, 1.0, mode="square"), ValueError, "mode is invalid"),
        (lambda o: lr_scheduler.CyclicLR(o, [0.1], 1.0), ValueError, "base_lr must have the same length"),
        (lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=1.0), ValueError, "Factor should be < 1.0"),
        (lambda o: lr_scheduler.ReduceLROnPlateau(o, mode="avg"), ValueError, "mode avg is unknown"),
        (lambda o: lr_scheduler.ReduceLROnPlateau(o, threshold_mode="x"), ValueError, "threshold mode x"),
        (lambda o: lr_scheduler.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, "expected 2 min_lrs"),
        (lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=0), ValueError, "positive integer T_0"),
        (lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0), ValueError, "T_mult >= 1"),
        (lambda o: lr_scheduler.MultiplicativeLR(o, [lambda e: 1.0]), ValueError, "Expected 2 lr_lambdas"),
        (lambda o: lr_scheduler.MultiplicativeLR(o, 0.5), TypeError, "lr_lambda should be a function"),
        (
            lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.ExponentialLR(o, 0.9)], milestones=[2]),
            ValueError,
            "one more than the number of milestone",
        ),
        (lambda o: lr_scheduler.SequentialLR(o, [], milestones=[]), ValueError, "at least one scheduler"),
        (
            lambda o: lr_scheduler.ChainedScheduler([lr_scheduler.ReduceLROnPlateau(o)]),
            ValueError,
            "does not support `ReduceLROnPlateau`",
        ),
        (
            lambda o: lr_scheduler.ChainedScheduler([lr_scheduler.ExponentialLR(o, 0.9)], optimizer=make_opt()),
            ValueError,
            "belong to the same optimizer",
        ),
        (lambda o: swa_utils.SWALR(o, swa_lr=0.1, anneal_strategy="exp"), ValueError, "anneal_strategy"),
        (lambda o: swa_utils.SWALR(o, swa_lr=0.1, anneal_epochs=-1), ValueError, "anneal_epochs"),
    ],
)
def test_bad_scheduler_arguments_raise(make, error, message):
    with pytest.raises(error, match=message):
        make(make_opt())


SCHEDULERS = [
    pytest.param(lambda o: lr_scheduler.MultiplicativeLR(o, lambda e: 0.9), id="multiplicative"),
    pytest.param(lambda o: lr_scheduler.ConstantLR(o, factor=0.5, total_iters=3), id="constant"),
    pytest.param(lambda o: lr_scheduler.LinearLR(o, start_factor=0.2, total_iters=6), id="linear"),
    pytest.param(lambda o: lr_scheduler.PolynomialLR(o, total_iters=8, power=1.5), id="polynomial"),
    pytest.param(lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2), id="warm_restarts"),
    pytest.param(lambda o: lr_scheduler.CyclicLR(o, 0.01, 0.1, step_size_up=3, mode="triangular2"), id="cyclic"),
    pytest.param(lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.5, total_steps=20), id="one_cycle"),
    pytest.param(
        lambda o: lr_scheduler.SequentialLR(
            o, [lr_scheduler.LinearLR(o, 0.5, total_iters=3), lr_scheduler.ExponentialLR(o, 0.9)], milestones=[4]
        ),
        id="sequential",
    ),
    pytest.param(
        lambda o: lr_scheduler.ChainedScheduler(
            [lr_scheduler.LinearLR(o, 0.5, total_iters=3), lr_scheduler.ExponentialLR(o, 0.9)]
        ),
        id="chained",
    ),
    pytest.param(lambda o: swa_utils.SWALR(o, swa_lr=0.05, anneal_epochs=4), id="swalr"),
]


@pytest.mark.parametrize("make", SCHEDULERS)
def test_scheduler_state_dict_round_trip_continues_identically(make):
    opt = make_opt(momentum=0.9)
    sched = make(opt)
    lrs(sched, 5)
    opt_state, sched_state = copy.deepcopy(opt.state_dict()), copy.deepcopy(sched.state_dict())
    assert "optimizer" not in sched_state
    expected = lrs(sched, 6)

    opt2 = make_opt(momentum=0.9)
    sched2 = make(opt2)
    opt2.load_state_dict(opt_state)
    sched2.load_state_dict(sched_state)
    assert lrs(sched2, 6) == expected


def test_reduce_lr_on_plateau_state_dict_round_trip():
    sched = lr_scheduler.ReduceLROnPlateau(make_opt(), patience=0)
    lrs(sched, 3, [1.0, 2.0, 3.0])
    state = sched.state_dict()
    sched2 = lr_scheduler.ReduceLROnPlateau(make_opt(), patience=5)
    sched2.load_state_dict(state)
    assert sched2.patience == 0 and sched2.best == 1.0 and sched2.last_epoch == 3


@pytest.mark.parametrize("make", SCHEDULERS[:7])
def test_get_lr_outside_step_warns(make):
    sched = make(make_opt(momentum=0.9))
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched.get_lr()


# ----------------------------------------------------------------------------- swa_utils


def small_model():
    ember.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))


def shift(model, value):
    with ember.no_grad():
        for p in model.parameters():
            p.fill_(value)
        for b in model.buffers():
            if b.is_floating_point():
                b.fill_(value)


def first_weight(model):
    return next(iter(model.parameters())).detach().reshape(-1)[0].item()


def test_averaged_model_takes_the_equal_weight_average():
    model = small_model()
    swa = swa_utils.AveragedModel(model)
    assert swa.n_averaged.item() == 0 and swa.n_averaged.dtype == ember.int64
    for value in (1.0, 2.0, 6.0):
        shift(model, value)
        swa.update_parameters(model)
    assert swa.n_averaged.item() == 3
    assert first_weight(swa) == pytest.approx(3.0)
    assert swa.module[1].running_mean.tolist() == [6.0] * 4  # buffers follow the model without use_buffers
    x = ember.ones(5, 3)
    swa.eval()
    assert swa(x).shape == (5, 2)
    assert all(not p.requires_grad or p.grad is None for p in swa.parameters())
    assert "n_averaged" in swa.state_dict() and "module.0.weight" in swa.state_dict()


def test_averaged_model_ema_and_buffers():
    model = small_model()
    ema = swa_utils.AveragedModel(model, multi_avg_fn=swa_utils.get_ema_multi_avg_fn(0.5), use_buffers=True)
    for value in (1.0, 3.0, 5.0):
        shift(model, value)
        ema.update_parameters(model)
    assert first_weight(ema) == pytest.approx((1.0 * 0.5 + 3.0 * 0.5) * 0.5 + 5.0 * 0.5)
    assert ema.module[1].running_mean.tolist() == pytest.approx([3.5] * 4)  # buffers averaged too

    avg_fn = swa_utils.AveragedModel(model, avg_fn=swa_utils.get_ema_avg_fn(0.5))
    for value in (1.0, 3.0, 5.0):
        shift(model, value)
        avg_fn.update_parameters(model)
    assert first_weight(avg_fn) == pytest.approx(3.5)
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn"):
        swa_utils.AveragedModel(model, avg_fn=swa_utils.get_swa_avg_fn(), multi_avg_fn=swa_utils.get_swa_multi_avg_fn())
    with pytest.raises(ValueError, match="Invalid decay value"):
        swa_utils.get_ema_multi_avg_fn(1.5)


def test_averaged_model_swa_multi_avg_fn():
    model = small_model()
    swa = swa_utils.AveragedModel(model, multi_avg_fn=swa_utils.get_swa_multi_avg_fn())
    for value in (2.0, 4.0, 9.0):
        shift(model, value)
        swa.update_parameters(model)
    assert first_weight(swa) == pytest.approx(5.0)


def test_update_bn_recomputes_running_statistics():
    model = small_model()
    model.eval()
    ember.manual_seed(1)
    data = [ember.randn(8, 3) * 2 + 1 for _ in range(4)]
    loader = [(x, ember.zeros(8)) for x in data]
    swa_utils.update_bn(loader, model)
    bn = model[1]
    assert not model.training and bn.momentum == 0.1 and bn.num_batches_tracked.item() == 4
    with ember.no_grad():
        hidden = model[0](ember.cat(data))
    # a cumulative average of the per-batch means is the mean over all (equal-sized) batches
    assert bn.running_mean.tolist() == pytest.approx(hidden.mean(0).tolist(), abs=1e-5)
    swa_utils.update_bn([], nn.Linear(2, 2))  # no BatchNorm: nothing to do


def test_swalr_anneals_to_swa_lr():
    opt = make_opt()
    sched = swa_utils.SWALR(opt, swa_lr=0.05, anneal_epochs=3, anneal_strategy="linear")
    out = lrs(sched, 5)
    assert out[-1] == pytest.approx(0.05) and out[-2] == pytest.approx(0.05)
    assert opt.param_groups[1]["swa_lr"] == 0.05 and opt.param_groups[1]["lr"] == pytest.approx(0.05)
    assert "anneal_func" not in sched.state_dict()


def test_new_names_are_exported():
    for name in ("Adadelta", "Adagrad", "Adamax", "ASGD", "LBFGS", "NAdam", "RAdam", "Rprop", "swa_utils"):
        assert name in optim.__all__ and hasattr(optim, name)
    for name in lr_scheduler.__all__:
        assert hasattr(lr_scheduler, name)
    assert set(swa_utils.__all__) >= {"AveragedModel", "SWALR", "update_bn", "get_ema_multi_avg_fn"}
