"""The optimizers, schedulers and swa_utils of test_optim_breadth.py against PyTorch's: from the same start and
the same gradients, the same parameters and state (to float32 rounding; float64 to ~1e-12), the same state_dict
layout, and the same learning-rate (and momentum) sequences, exactly.  Runs only where PyTorch is importable."""

import math
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import ember  # noqa: E402

SHAPES = [(3, 4), (5,), ()]
STEPS = 8  # enough for RAdam's rectified branch (rho_t > 5 from step 6 with the default betas)


def case(name, cls, **kwargs):
    return pytest.param(cls, kwargs, id=name)


CASES = [
    case("adagrad", "Adagrad"),
    case("adagrad_all", "Adagrad", lr=0.1, lr_decay=0.1, weight_decay=0.1, initial_accumulator_value=0.2, eps=1e-6),
    case("adagrad_maximize", "Adagrad", lr=0.1, maximize=True),
    case("adadelta", "Adadelta"),
    case("adadelta_all", "Adadelta", lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.1),
    case("adadelta_maximize", "Adadelta", maximize=True, foreach=False),
    case("adamax", "Adamax", lr=0.05),
    case("adamax_all", "Adamax", lr=0.05, betas=(0.8, 0.9), eps=1e-3, weight_decay=0.1),
    case("adamax_maximize", "Adamax", lr=0.05, maximize=True),
    case("nadam", "NAdam", lr=0.05),
    case("nadam_weight_decay", "NAdam", lr=0.05, weight_decay=0.1, momentum_decay=0.01),
    case("nadamw", "NAdam", lr=0.05, weight_decay=0.1, decoupled_weight_decay=True),
    case("nadam_maximize", "NAdam", lr=0.05, betas=(0.8, 0.9), maximize=True),
    case("radam", "RAdam", lr=0.05),
    case("radam_rectified_early", "RAdam", lr=0.05, betas=(0.9, 0.9)),
    case("radam_weight_decay", "RAdam", lr=0.05, weight_decay=0.1),
    case("radamw", "RAdam", lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True),
    case("asgd", "ASGD"),
    case("asgd_averaging", "ASGD", lr=0.05, lambd=0.01, alpha=0.5, t0=2, weight_decay=0.1),
    case("asgd_maximize", "ASGD", lr=0.05, t0=3, maximize=True),
    case("rprop", "Rprop"),
    case("rprop_all", "Rprop", lr=0.05, etas=(0.3, 1.5), step_sizes=(0.01, 0.2)),
    case("rprop_maximize", "Rprop", lr=0.05, maximize=True),
]


def run(lib, cls, kwargs, dtype, starts, grads, steps=STEPS):
    """steps of lib.optim.<cls>; the last parameter has no gradient on odd steps (it is skipped)."""
    dt = getattr(lib, dtype)
    params = [lib.tensor(a, dtype=dt, requires_grad=True) for a in starts]
    # the first parameter is a non-contiguous leaf (a transposed tensor), updated in place all the same
    params[0] = lib.tensor(starts[0].T.copy(), dtype=dt).t().detach().requires_grad_(True)
    opt = getattr(lib.optim, cls)(params, **kwargs)
    for step in range(steps):
        for i, p in enumerate(params):
            skip = i == len(params) - 1 and step % 2 == 1
            p.grad = None if skip else lib.tensor(grads[step][i], dtype=dt)
        opt.step()
    return params, opt


def numpy_state(opt):
    sd = opt.state_dict()
    return {k: {name: np.asarray(v.detach().numpy()) for name, v in s.items()} for k, s in sd["state"].items()}


def tolerance(dtype):
    return dict(rtol=2e-6, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-13)


def assert_same_state(ours, theirs, tol):
    our_sd, their_sd = ours.state_dict(), theirs.state_dict()
    assert our_sd["param_groups"] == their_sd["param_groups"]
    our_state, their_state = numpy_state(ours), numpy_state(theirs)
    assert our_state.keys() == their_state.keys()
    for k in their_state:
        assert our_state[k].keys() == their_state[k].keys()
        for name in their_state[k]:
            assert our_state[k][name].dtype == their_state[k][name].dtype, name
            np.testing.assert_allclose(our_state[k][name], their_state[k][name], **tol, err_msg=name)


def data(seed=0, steps=STEPS):
    rng = np.random.default_rng(seed)
    starts = [rng.standard_normal(s) for s in SHAPES]
    grads = [[rng.standard_normal(s) for s in SHAPES] for _ in range(steps)]
    return starts, grads


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("cls, kwargs", CASES)
def test_optimizer_matches_torch(cls, kwargs, dtype):
    starts, grads = data()
    ours, our_opt = run(ember, cls, kwargs, dtype, starts, grads)
    theirs, their_opt = run(torch, cls, kwargs, dtype, starts, grads)
    tol = tolerance(dtype)
    for a, b in zip(ours, theirs):
        assert a.dtype == getattr(ember, dtype) and a.shape == tuple(b.shape)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **tol)
    assert_same_state(our_opt, their_opt, tol)


@pytest.mark.parametrize("cls, kwargs", [c for c in CASES if "maximize" not in c.id])
def test_state_dict_from_a_resumed_run_matches_torch(cls, kwargs):
    """Half the steps, a state_dict through ember.save/load into a fresh optimizer, the other half: as
    PyTorch's uninterrupted run."""
    import io

    starts, grads = data(1)
    half = STEPS // 2
    ours, opt = run(ember, cls, kwargs, "float32", starts, grads, steps=half)
    buf = io.BytesIO()
    ember.save({"params": ours, "optim": opt.state_dict()}, buf)
    buf.seek(0)
    ckpt = ember.load(buf)
    params = [p.detach().requires_grad_(True) for p in ckpt["params"]]
    opt2 = getattr(ember.optim, cls)(params, **kwargs)
    opt2.load_state_dict(ckpt["optim"])
    for step in range(half, STEPS):
        for i, p in enumerate(params):
            skip = i == len(params) - 1 and step % 2 == 1
            p.grad = None if skip else ember.tensor(grads[step][i], dtype=ember.float32)
        opt2.step()
    theirs, their_opt = run(torch, cls, kwargs, "float32", starts, grads)
    for a, b in zip(params, theirs):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=2e-6, atol=1e-6)
    assert_same_state(opt2, their_opt, tolerance("float32"))


def test_adagrad_fresh_state_dict_matches_torch():
    dicts = []
    for lib in (ember, torch):
        ps = [lib.zeros(2, 3, requires_grad=True), lib.zeros(4, dtype=lib.float64, requires_grad=True)]
        opt = lib.optim.Adagrad(ps, initial_accumulator_value=0.5)
        dicts.append(opt)
    assert_same_state(*dicts, tolerance("float64"))


def test_param_groups_with_their_own_options_match_torch():
    starts, grads = data(2)
    results = []
    for lib in (ember, torch):
        ps = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in starts]
        opt = lib.optim.NAdam(
            [{"params": ps[:2], "decoupled_weight_decay": True, "weight_decay": 0.1}, {"params": ps[2:], "lr": 0.3}],
            lr=0.05,
        )
        for g in grads:
            for p, gi in zip(ps, g):
                p.grad = lib.tensor(gi, dtype=lib.float64)
            opt.step()
        results.append([p.detach().numpy() for p in ps])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


# ----------------------------------------------------------------------------- LBFGS

RNG = np.random.default_rng(3)
A, B, X0, W0 = RNG.standard_normal((6, 4)), RNG.standard_normal(6), RNG.standard_normal(4), RNG.standard_normal(2)

LBFGS_CASES = [
    pytest.param(dict(), id="fixed_step"),
    pytest.param(dict(line_search_fn="strong_wolfe"), id="strong_wolfe"),
    pytest.param(dict(lr=0.5, max_iter=5, history_size=3), id="short_history"),
    pytest.param(dict(line_search_fn="strong_wolfe", max_iter=7, max_eval=9, history_size=2), id="wolfe_short"),
    pytest.param(dict(lr=0.8, tolerance_grad=1e-3, tolerance_change=1e-4), id="tolerances"),
]


def lbfgs_run(lib, kwargs, dtype="float64", steps=3):
    dt = getattr(lib, dtype)
    x = lib.tensor(X0, dtype=dt, requires_grad=True)
    w = lib.tensor(W0, dtype=dt, requires_grad=True)
    a, b = lib.tensor(A, dtype=dt), lib.tensor(B, dtype=dt)
    opt = lib.optim.LBFGS([x, w], **kwargs)

    def closure():
        opt.zero_grad()
        r = a @ x - b
        loss = (r * r).sum() + ((w - 1) ** 4).sum() + (x[0] * w[1] - 0.5) ** 2
        loss.backward()
        return loss

    losses = [opt.step(closure).item() for _ in range(steps)]
    return [x, w], losses, opt


@pytest.mark.parametrize("kwargs", LBFGS_CASES)
def test_lbfgs_matches_torch(kwargs):
    ours, our_losses, our_opt = lbfgs_run(ember, kwargs)
    theirs, their_losses, their_opt = lbfgs_run(torch, kwargs)
    np.testing.assert_allclose(our_losses, their_losses, rtol=1e-10)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-9, atol=1e-11)
    our_sd, their_sd = our_opt.state_dict(), their_opt.state_dict()
    assert our_sd["param_groups"] == their_sd["param_groups"]
    s, t = our_sd["state"][0], their_sd["state"][0]
    assert s.keys() == t.keys()
    assert (s["func_evals"], s["n_iter"]) == (t["func_evals"], t["n_iter"])
    assert len(s["old_dirs"]) == len(t["old_dirs"]) and len(s["ro"]) == len(t["ro"])
    assert type(s["t"]) is type(t["t"]) or isinstance(t["t"], torch.Tensor)
    for name in ("d", "prev_flat_grad", "H_diag"):
        np.testing.assert_allclose(np.asarray(s[name].numpy()), t[name].numpy(), rtol=1e-8, atol=1e-10)
    for ours_y, theirs_y in zip(s["old_dirs"], t["old_dirs"]):
        np.testing.assert_allclose(ours_y.numpy(), theirs_y.numpy(), rtol=1e-8, atol=1e-10)
    assert s["prev_loss"] == pytest.approx(t["prev_loss"], rel=1e-10)


def test_lbfgs_float32_first_step_matches_torch():
    """One float32 step (far from the optimum, where rounding cannot steer the line search elsewhere)."""
    kwargs = dict(line_search_fn="strong_wolfe", max_iter=4)
    ours, our_losses, _ = lbfgs_run(ember, kwargs, "float32", steps=1)
    theirs, their_losses, _ = lbfgs_run(torch, kwargs, "float32", steps=1)
    assert our_losses == their_losses
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-4, atol=1e-5)


# ----------------------------------------------------------------------------- schedulers


def L(lib):
    return lib.optim.lr_scheduler


SCHEDULERS = [
    pytest.param(lambda m, o: L(m).MultiplicativeLR(o, lambda e: 0.95), id="multiplicative"),
    pytest.param(lambda m, o: L(m).MultiplicativeLR(o, [lambda e: 0.9, lambda e: 1.0 + e % 2]), id="mult_per_group"),
    pytest.param(lambda m, o: L(m).ConstantLR(o, factor=0.5, total_iters=4), id="constant"),
    pytest.param(lambda m, o: L(m).ConstantLR(o), id="constant_default"),
    pytest.param(lambda m, o: L(m).LinearLR(o, start_factor=0.25, end_factor=0.9, total_iters=7), id="linear"),
    pytest.param(lambda m, o: L(m).LinearLR(o), id="linear_default"),
    pytest.param(lambda m, o: L(m).PolynomialLR(o, total_iters=10, power=2.0), id="polynomial"),
    pytest.param(lambda m, o: L(m).PolynomialLR(o), id="polynomial_default"),
    pytest.param(lambda m, o: L(m).CosineAnnealingWarmRestarts(o, T_0=4, T_mult=2, eta_min=0.001), id="warm_restarts"),
    pytest.param(lambda m, o: L(m).CosineAnnealingWarmRestarts(o, T_0=5), id="warm_restarts_default"),
    pytest.param(
        lambda m, o: L(m).CyclicLR(o, base_lr=0.01, max_lr=[0.1, 0.2], step_size_up=4, step_size_down=3), id="cyclic"
    ),
    pytest.param(
        lambda m, o: L(m).CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3, mode="triangular2"), id="cyclic_tri2"
    ),
    pytest.param(
        lambda m, o: L(m).CyclicLR(o, 0.01, 0.1, step_size_up=3, mode="exp_range", gamma=0.9), id="cyclic_exp_range"
    ),
    pytest.param(
        lambda m, o: L(m).CyclicLR(o, 0.01, 0.1, 2, scale_fn=lambda x: 0.5**x, scale_mode="iterations"),
        id="cyclic_scale_fn",
    ),
    pytest.param(
        lambda m, o: L(m).CyclicLR(o, 0.01, 0.1, 2, cycle_momentum=False, base_momentum=0.5), id="cyclic_no_momentum"
    ),
    pytest.param(lambda m, o: L(m).OneCycleLR(o, max_lr=[0.5, 1.0], total_steps=30), id="one_cycle"),
    pytest.param(
        lambda m, o: L(m).OneCycleLR(o, 0.5, epochs=6, steps_per_epoch=5, three_phase=True, anneal_strategy="linear"),
        id="one_cycle_three_phase",
    ),
    pytest.param(
        lambda m, o: L(m).OneCycleLR(o, 0.5, 31, pct_start=0.25, div_factor=10.0, final_div_factor=100.0),
        id="one_cycle_options",
    ),
    pytest.param(
        lambda m, o: L(m).SequentialLR(
            o,
            [
                L(m).LinearLR(o, start_factor=0.1, total_iters=5),
                L(m).ExponentialLR(o, gamma=0.9),
                L(m).CosineAnnealingLR(o, T_max=6),
            ],
            milestones=[5, 12],
        ),
        id="sequential",
    ),
    pytest.param(
        lambda m, o: L(m).SequentialLR(
            o, [L(m).ConstantLR(o, factor=0.5, total_iters=2), L(m).PolynomialLR(o, total_iters=8)], milestones=[3]
        ),
        id="sequential_constant_poly",
    ),
    pytest.param(
        lambda m, o: L(m).ChainedScheduler(
            [L(m).ConstantLR(o, factor=0.5, total_iters=3), L(m).ExponentialLR(o, gamma=0.9)]
        ),
        id="chained",
    ),
    pytest.param(
        lambda m, o: L(m).ChainedScheduler(
            [L(m).LinearLR(o, start_factor=0.2, total_iters=4), L(m).StepLR(o, step_size=3, gamma=0.5)], optimizer=o
        ),
        id="chained_linear_step",
    ),
    pytest.param(lambda m, o: m.optim.swa_utils.SWALR(o, swa_lr=[0.05, 0.01], anneal_epochs=5), id="swalr"),
    pytest.param(
        lambda m, o: m.optim.swa_utils.SWALR(o, swa_lr=0.05, anneal_epochs=3, anneal_strategy="linear"),
        id="swalr_linear",
    ),
    pytest.param(lambda m, o: m.optim.swa_utils.SWALR(o, swa_lr=0.05, anneal_epochs=0), id="swalr_no_anneal"),
]


def lr_sequence(lib, make, epochs=30, opt_cls="SGD", poke_at=None, metrics=None):
    """The lrs, and the momentum (or betas) of each group, after construction and after each step."""
    ps = [lib.zeros(1, requires_grad=True), lib.zeros(1, requires_grad=True)]
    kwargs = dict(lr=0.1, momentum=0.9) if opt_cls == "SGD" else dict(lr=0.1)
    opt = getattr(lib.optim, opt_cls)([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.3}], **kwargs)
    sched = make(lib, opt)

    def momenta():
        return [g.get("momentum", g.get("betas")) for g in opt.param_groups]

    seq = [(list(sched.get_last_lr()), momenta())]
    for epoch in range(epochs):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[epoch])
        if epoch == poke_at:  # a change from outside the scheduler that recurrences carry along
            opt.param_groups[0]["lr"] *= 0.5
        seq.append((list(sched.get_last_lr()), momenta()))
    return seq, sched


@pytest.mark.parametrize("make", SCHEDULERS)
def test_scheduler_matches_torch(make):
    ours, our_sched = lr_sequence(ember, make)
    theirs, their_sched = lr_sequence(torch, make)
    assert ours == theirs
    assert our_sched.state_dict().keys() == their_sched.state_dict().keys()


@pytest.mark.parametrize("make", SCHEDULERS)
def test_scheduler_matches_torch_after_outside_change(make):
    assert lr_sequence(ember, make, poke_at=4)[0] == lr_sequence(torch, make, poke_at=4)[0]


@pytest.mark.parametrize("name", ["cyclic", "one_cycle", "one_cycle_three_phase"])
def test_momentum_cycling_of_adam_betas_matches_torch(name):
    make = next(p.values[0] for p in SCHEDULERS if p.id == name)
    assert lr_sequence(ember, make, opt_cls="Adam")[0] == lr_sequence(torch, make, opt_cls="Adam")[0]


CLOSED_FORM = [
    pytest.param(lambda m, o: L(m).ConstantLR(o, factor=0.5, total_iters=4), id="constant"),
    pytest.param(lambda m, o: L(m).LinearLR(o, start_factor=0.25, total_iters=7), id="linear"),
    pytest.param(lambda m, o: L(m).PolynomialLR(o, total_iters=10, power=2.0), id="polynomial"),
    pytest.param(lambda m, o: L(m).CosineAnnealingWarmRestarts(o, T_0=4, T_mult=2), id="warm_restarts"),
    pytest.param(lambda m, o: L(m).CosineAnnealingWarmRestarts(o, T_0=3, T_mult=1), id="warm_restarts_mult1"),
]


@pytest.mark.parametrize("make", CLOSED_FORM)
def test_step_with_epoch_matches_torch(make):
    epochs = [1, 2, 5, 3, 9, 12, 2.5, 7.25, 20]
    seqs = []
    for lib in (ember, torch):
        opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1)
        sched = make(lib, opt)
        seq = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for e in epochs:
                opt.step()
                sched.step(e)
                seq.append(sched.get_last_lr())
        seqs.append(seq)
    assert seqs[0] == seqs[1]


METRICS = [1.0, 0.9, 0.95, 0.96, 0.97, 0.89, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.88, 0.9, 0.9] + [0.9] * 15


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(),
        dict(patience=2),
        dict(mode="max", patience=1, threshold_mode="abs", cooldown=2, min_lr=[0.01, 0.05], factor=0.5),
        dict(patience=0, threshold=0.05, eps=0.02, min_lr=0.004),
    ],
)
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    def make(m, o):
        return L(m).ReduceLROnPlateau(o, **kwargs)

    ours, our_sched = lr_sequence(ember, make, metrics=METRICS)
    theirs, their_sched = lr_sequence(torch, make, metrics=METRICS)
    assert ours == theirs
    assert our_sched.state_dict() == their_sched.state_dict()


def test_new_scheduler_state_dicts_match_torch():
    makes = {
        "linear": lambda m, o: L(m).LinearLR(o, start_factor=0.25, total_iters=7),
        "cyclic": lambda m, o: L(m).CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3),
        "one_cycle": lambda m, o: L(m).OneCycleLR(o, max_lr=0.5, total_steps=30),
        "warm_restarts": lambda m, o: L(m).CosineAnnealingWarmRestarts(o, T_0=4, T_mult=2),
        "swalr": lambda m, o: m.optim.swa_utils.SWALR(o, swa_lr=0.05),
    }
    for name, make in makes.items():
        (_, ours), (_, theirs) = lr_sequence(ember, make, epochs=6), lr_sequence(torch, make, epochs=6)
        ours, theirs = ours.state_dict(), theirs.state_dict()
        assert ours.keys() == theirs.keys(), name
        for key in theirs:
            if not callable(theirs[key]):
                assert ours[key] == theirs[key], (name, key)


# ----------------------------------------------------------------------------- swa_utils


def model(lib):
    return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.ReLU(), lib.nn.Linear(4, 2))


def arrays(seed):
    """Random values for every entry of model()'s state_dict (the int64 batch counter included)."""
    rng = np.random.default_rng(seed)
    return [
        rng.standard_normal(tuple(v.shape)) if v.is_floating_point() else np.asarray(rng.integers(0, 10))
        for v in model(torch).state_dict().values()
    ]


def load(lib, m, values):
    sd = m.state_dict()
    for key, value in zip(list(sd), values):
        sd[key] = lib.tensor(value, dtype=sd[key].dtype)
    m.load_state_dict(sd)


AVERAGING = [
    pytest.param(lambda su: {}, id="swa"),
    pytest.param(lambda su: dict(use_buffers=True), id="swa_buffers"),
    pytest.param(lambda su: dict(multi_avg_fn=su.get_ema_multi_avg_fn(0.9)), id="ema"),
    pytest.param(lambda su: dict(multi_avg_fn=su.get_ema_multi_avg_fn(0.3), use_buffers=True), id="ema_buffers"),
    pytest.param(lambda su: dict(multi_avg_fn=su.get_swa_multi_avg_fn()), id="swa_multi"),
    # (get_swa_multi_avg_fn with use_buffers: PyTorch's raises on the int64 batch counter, ember's averages it)
    pytest.param(lambda su: dict(avg_fn=su.get_ema_avg_fn(0.8)), id="ema_avg_fn"),
    pytest.param(lambda su: dict(avg_fn=su.get_swa_avg_fn(), use_buffers=True), id="swa_avg_fn_buffers"),
]


@pytest.mark.parametrize("kwargs", AVERAGING)
def test_averaged_model_matches_torch(kwargs):
    results = []
    for lib in (ember, torch):
        m = model(lib)
        load(lib, m, arrays(0))
        averaged = lib.optim.swa_utils.AveragedModel(m, **kwargs(lib.optim.swa_utils))
        for seed in range(1, 6):
            load(lib, m, arrays(seed))
            averaged.update_parameters(m)
        results.append({k: v.detach().numpy() for k, v in averaged.state_dict().items()})
    ours, theirs = results
    assert ours.keys() == theirs.keys()
    for key in theirs:
        assert ours[key].dtype == theirs[key].dtype, key
        np.testing.assert_allclose(ours[key], theirs[key], rtol=2e-6, atol=1e-6, err_msg=key)


def test_update_bn_matches_torch():
    x = np.random.default_rng(4).standard_normal((23, 3))
    results = []
    for lib in (ember, torch):
        m = model(lib)
        load(lib, m, arrays(0))
        m.eval()
        loader = [[lib.tensor(x[i : i + 5], dtype=lib.float32), i] for i in range(0, 23, 5)]  # a ragged last batch
        lib.optim.swa_utils.update_bn(loader, m)
        assert not m.training and m[1].momentum == 0.1
        results.append({k: v.numpy() for k, v in m.state_dict().items()})
    for key in results[1]:
        np.testing.assert_allclose(results[0][key], results[1][key], rtol=1e-5, atol=1e-6, err_msg=key)


def test_swalr_after_cosine_annealing_matches_torch():
    """The usual SWA recipe: a schedule, then SWALR from epoch 10 on."""
    seqs = []
    for lib in (ember, torch):
        opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
        cosine = L(lib).CosineAnnealingLR(opt, T_max=20)
        swa = lib.optim.swa_utils.SWALR(opt, swa_lr=0.02, anneal_epochs=4)
        seq = []
        for epoch in range(20):
            opt.step()
            (swa if epoch >= 10 else cosine).step()
            seq.append(opt.param_groups[0]["lr"])
        seqs.append(seq)
    assert seqs[0] == seqs[1]
    assert math.isclose(seqs[0][-1], 0.02)
