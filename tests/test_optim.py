"""ember.optim: optimizers minimise, state_dict round trips, param groups, errors,
no graph from step, and the schedulers' lr sequences.  PyTorch parity is in
test_parity_optim_torch.py."""

import copy
import io
import math

import numpy as np
import pytest

import ember
from ember import optim
from ember.optim import lr_scheduler

TARGET = np.array([1.0, -2.0, 3.0, 0.5], dtype=np.float32)

OPTIMIZERS = [
    pytest.param(optim.SGD, dict(lr=0.1), id="sgd"),
    pytest.param(optim.SGD, dict(lr=0.05, momentum=0.9), id="sgd_momentum"),
    pytest.param(optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-4), id="sgd_nesterov"),
    pytest.param(optim.Adam, dict(lr=0.1), id="adam"),
    pytest.param(optim.Adam, dict(lr=0.1, amsgrad=True, weight_decay=1e-4), id="adam_amsgrad"),
    pytest.param(optim.AdamW, dict(lr=0.1), id="adamw"),
    pytest.param(optim.RMSprop, dict(lr=0.03), id="rmsprop"),
    pytest.param(optim.RMSprop, dict(lr=0.02, momentum=0.5, centered=True), id="rmsprop_centered"),
]


def quadratic_loss(p):
    return ((p - ember.tensor(TARGET)) ** 2).sum()


def train(opt, p, steps):
    for _ in range(steps):
        opt.zero_grad()
        quadratic_loss(p).backward()
        opt.step()


@pytest.mark.parametrize("cls, kwargs", OPTIMIZERS)
def test_minimises_a_quadratic(cls, kwargs):
    p = ember.zeros(4, requires_grad=True)
    opt = cls([p], **kwargs)
    start = quadratic_loss(p).item()
    train(opt, p, 300)
    assert quadratic_loss(p).item() < 1e-3 * start
    np.testing.assert_allclose(p.detach().numpy(), TARGET, atol=0.05)


@pytest.mark.parametrize("cls, kwargs", OPTIMIZERS)
def test_step_updates_in_place_without_graph(cls, kwargs):
    p = ember.zeros(4, requires_grad=True)
    opt = cls([p], **kwargs)
    quadratic_loss(p).backward()
    version = p._version
    before = p.detach().clone()
    opt.step()
    assert p.is_leaf and p.grad_fn is None and p.requires_grad
    assert p._version > version
    assert not np.array_equal(p.detach().numpy(), before.numpy())
    for value in opt.state[p].values():
        assert value.grad_fn is None and not value.requires_grad


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
    train(opt2, q, 5)
    assert np.array_equal(q.detach().numpy(), p.detach().numpy())


def test_state_dict_layout():
    a, b, c = (ember.zeros(2, requires_grad=True) for _ in range(3))
    opt = optim.Adam([{"params": [a, b]}, {"params": [c], "lr": 0.5}], lr=0.1)
    for t in (a, c):  # b has no gradient: it gets no state
        t.grad = ember.ones(2)
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert [g["lr"] for g in sd["param_groups"]] == [0.1, 0.5]
    assert set(sd["state"]) == {0, 2}
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    step = sd["state"][0]["step"]
    assert isinstance(step, ember.Tensor) and step.dim() == 0 and step.item() == 1.0
    assert step.dtype == ember.float32


def test_load_state_dict_checks_groups():
    a, b = ember.zeros(2, requires_grad=True), ember.zeros(2, requires_grad=True)
    sd = optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size"):
        optim.SGD([a], lr=0.1).load_state_dict(sd)


def test_load_state_dict_converts_old_plain_step():
    p = ember.zeros(2, requires_grad=True)
    opt = optim.Adam([p])
    p.grad = ember.ones(2)
    opt.step()
    sd = copy.deepcopy(opt.state_dict())
    sd["state"][0]["step"] = 1  # as old PyTorch versions stored it
    opt.load_state_dict(sd)
    assert isinstance(opt.state[p]["step"], ember.Tensor) and opt.state[p]["step"].item() == 1.0


def test_param_groups_with_different_lrs():
    a = ember.zeros(3, requires_grad=True)
    b = ember.zeros(3, requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.0)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 0.5
    assert opt.param_groups[1]["momentum"] == 0.0 and "nesterov" in opt.param_groups[1]
    a.grad = ember.ones(3)
    b.grad = ember.ones(3)
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), -0.1)
    np.testing.assert_allclose(b.detach().numpy(), -0.5)


def test_add_param_group_and_grad_none_skipped():
    a = ember.ones(2, requires_grad=True)
    b = ember.ones(2, requires_grad=True)
    opt = optim.SGD([a], lr=1.0, momentum=0.9)
    opt.add_param_group({"params": b, "lr": 0.5})
    assert len(opt.param_groups) == 2 and opt.param_groups[1]["params"] == [b]
    a.grad = ember.ones(2)
    opt.step()  # b.grad is None: b is left alone and gets no state
    np.testing.assert_array_equal(b.detach().numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(a.detach().numpy(), [0.0, 0.0])
    assert b not in opt.state and "momentum_buffer" in opt.state[a]
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})


def test_zero_grad():
    p = ember.ones(2, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    p.grad = ember.ones(2)
    g = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is g and np.array_equal(g.numpy(), [0.0, 0.0])
    opt.zero_grad()
    assert p.grad is None


def test_closure_returns_loss_and_runs_with_grad():
    p = ember.zeros(4, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = quadratic_loss(p)
        loss.backward()
        return loss

    with ember.no_grad():
        loss = opt.step(closure)
    assert loss.item() == pytest.approx(float((TARGET**2).sum()))
    assert p.detach().numpy()[0] == pytest.approx(0.2)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: optim.SGD([p], lr=-1), "Invalid learning rate: -1"),
        (lambda p: optim.SGD([p], lr=0.1, momentum=-0.5), "Invalid momentum value: -0.5"),
        (lambda p: optim.SGD([p], lr=0.1, weight_decay=-1), "Invalid weight_decay value: -1"),
        (lambda p: optim.SGD([p], lr=0.1, nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
        (lambda p: optim.Adam([p], lr=-0.1), "Invalid learning rate: -0.1"),
        (lambda p: optim.Adam([p], betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
        (lambda p: optim.Adam([p], betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
        (lambda p: optim.Adam([p], eps=-1e-8), "Invalid epsilon value: -1e-08"),
        (lambda p: optim.AdamW([p], weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
        (lambda p: optim.RMSprop([p], alpha=-0.5), "Invalid alpha value: -0.5"),
        (lambda p: optim.RMSprop([p], momentum=-1), "Invalid momentum value: -1"),
        (lambda p: optim.SGD([], lr=0.1), "optimizer got an empty parameter list"),
        (lambda p: optim.SGD([p * 2], lr=0.1), "can't optimize a non-leaf Tensor"),
    ],
)
def test_invalid_arguments(make, message):
    p = ember.zeros(2, requires_grad=True)
    with pytest.raises(ValueError) as info:
        make(p)
    assert str(info.value) == message


def test_invalid_param_types():
    p = ember.zeros(2, requires_grad=True)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(TypeError, match="optimizer can only optimize Tensors"):
        optim.SGD([p, 1.0], lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD([{"params": {p}}], lr=0.1)


def test_named_parameters_and_repr():
    p = ember.zeros(2, requires_grad=True)
    opt = optim.SGD([("weight", p)], lr=0.1)
    assert opt.param_groups[0]["params"] == [p] and opt.param_groups[0]["param_names"] == ["weight"]
    assert repr(opt).startswith("SGD (\nParameter Group 0\n    dampening: 0\n")


# ----------------------------------------------------------------------------- schedulers


def lrs(make_sched, epochs=12, lr=0.1):
    opt = optim.SGD([ember.zeros(1, requires_grad=True)], lr=lr)
    sched = make_sched(opt)
    out = [sched.get_last_lr()[0]]
    for _ in range(epochs):
        opt.step()
        sched.step()
        out.append(sched.get_last_lr()[0])
        assert opt.param_groups[0]["lr"] == out[-1]
    return out


def test_step_lr():
    assert lrs(lambda o: lr_scheduler.StepLR(o, step_size=3, gamma=0.5), 7) == pytest.approx(
        [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025]
    )


def test_multistep_lr():
    assert lrs(lambda o: lr_scheduler.MultiStepLR(o, milestones=[2, 5, 5], gamma=0.1), 6) == pytest.approx(
        [0.1, 0.1, 0.01, 0.01, 0.01, 1e-4, 1e-4]
    )


def test_exponential_lr():
    assert lrs(lambda o: lr_scheduler.ExponentialLR(o, gamma=0.9), 5) == pytest.approx([0.1 * 0.9**k for k in range(6)])


def test_cosine_annealing_lr_follows_the_closed_form():
    got = lrs(lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=0.01), 20)
    want = [0.01 + 0.09 * (1 + math.cos(math.pi * k / 10)) / 2 for k in range(21)]
    assert got == pytest.approx(want, abs=1e-12)


def test_lambda_lr_per_group():
    a, b = ember.zeros(1, requires_grad=True), ember.zeros(1, requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    sched = lr_scheduler.LambdaLR(opt, [lambda e: 1.0 / (e + 1), lambda e: 0.5**e])
    seq = [sched.get_last_lr()]
    for _ in range(3):
        opt.step()
        sched.step()
        seq.append(sched.get_last_lr())
    assert np.allclose(seq, [[0.1, 1.0], [0.05, 0.5], [0.1 / 3, 0.25], [0.025, 0.125]], rtol=1e-15, atol=0)
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        lr_scheduler.LambdaLR(opt, [lambda e: 1.0])


def test_scheduler_state_dict_and_resume():
    opt = optim.SGD([ember.zeros(1, requires_grad=True)], lr=0.1)
    sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(3):
        opt.step()
        sched.step()
    sd = sched.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 3 and sd["base_lrs"] == [0.1]
    opt2 = optim.SGD([ember.zeros(1, requires_grad=True)], lr=0.1)
    opt2.load_state_dict(opt.state_dict())
    sched2 = lr_scheduler.StepLR(opt2, step_size=2, gamma=0.5, last_epoch=2)
    sched2.load_state_dict(sd)
    for s, o in ((sched, opt), (sched2, opt2)):
        o.step()
        s.step()
    assert sched2.get_last_lr() == sched.get_last_lr() == [0.025]


def test_scheduler_warns_when_stepped_before_optimizer():
    opt = optim.SGD([ember.zeros(1, requires_grad=True)], lr=0.1)
    sched = lr_scheduler.StepLR(opt, step_size=1)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()


def test_scheduler_needs_an_optimizer():
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.StepLR(object(), step_size=1)


def test_deepcopy_of_a_scheduled_optimizer_steps_its_own_parameters():
    p = ember.zeros(2, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    lr_scheduler.StepLR(opt, step_size=1)  # patches opt.step; a copy must not step the original
    clone = copy.deepcopy(opt)
    q = clone.param_groups[0]["params"][0]
    assert q is not p
    q.grad = ember.ones(2)
    clone.step()
    assert p.tolist() == [0.0, 0.0] and q.tolist() == pytest.approx([-0.1, -0.1])


def test_custom_optimizer_subclass_as_in_pytorch_tutorials():
    class PlainSGD(optim.Optimizer):
        def __init__(self, params, lr=optim.optimizer.required):
            super().__init__(params, dict(lr=lr))

        @ember.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.add_(p.grad, alpha=-group["lr"])

    p = ember.zeros(4, requires_grad=True)
    with pytest.raises(ValueError, match="didn't specify a value of required optimization parameter lr"):
        PlainSGD([p])
    opt = PlainSGD([p], lr=0.1)
    sched = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    train(opt, p, 1)
    sched.step()
    assert opt.param_groups[0]["lr"] == 0.05 and p.grad_fn is None
    np.testing.assert_allclose(p.detach().numpy(), 0.2 * TARGET, rtol=1e-6)
