"""ember.optim.Adafactor, ember.optim.Muon and ember.optim.swap_in_optimizer_params_and_state.

The first part needs only ember: state layout (Adafactor's factored second moment, Muon's momentum buffer),
the first steps against the algorithms' formulas written out here, Newton-Schulz orthogonality, errors in
PyTorch's words, state_dict round trips, training that lowers a loss, and the swap-in context manager.
The second part compares with PyTorch step by step and is skipped where PyTorch is not importable."""

import copy
import io
import math

import pytest

import ember
from ember import nn, optim
from ember.optim.muon import _newton_schulz


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


@pytest.fixture
def np():
    return pytest.importorskip("numpy")


def flat(t):
    return t.detach().reshape(-1).tolist()


def max_abs_diff(a, b):
    return max(abs(x - y) for x, y in zip(flat(a), flat(b)))


def regression(seed=0, n=64, d_in=6, d_out=3):
    """A linear regression problem with a known answer: targets from a random linear map."""
    ember.manual_seed(seed)
    x = ember.randn(n, d_in)
    w_true = ember.randn(d_out, d_in)
    return x, x @ w_true.T


def train(opt, model, x, y, steps):
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


# ============================================================================ Adafactor: behaviour


def test_adafactor_state_is_factored_for_matrices_and_full_for_vectors_and_scalars():
    params = [
        ember.randn(5, 7, requires_grad=True),
        ember.randn(2, 3, 4, requires_grad=True),
        ember.randn(6, requires_grad=True),
        ember.tensor(1.5, requires_grad=True),
    ]
    opt = optim.Adafactor(params)
    sum(((p - 1) ** 2).sum() for p in params).backward()
    opt.step()
    s0, s1, s2, s3 = (opt.state[p] for p in params)
    assert list(s0) == ["step", "row_var", "col_var"]
    assert s0["row_var"].shape == (5, 1) and s0["col_var"].shape == (1, 7)
    # leading dimensions are batch dimensions: one factored moment per (3, 4) matrix
    assert s1["row_var"].shape == (2, 3, 1) and s1["col_var"].shape == (2, 1, 4)
    assert list(s2) == ["step", "variance"] and s2["variance"].shape == (6,)
    assert list(s3) == ["step", "variance"] and s3["variance"].shape == ()
    for s in (s0, s1, s2, s3):
        assert s["step"].dtype == ember.float32 and s["step"].shape == () and s["step"].item() == 1.0
    # sublinear memory: m + n numbers for an (m, n) matrix instead of m * n
    assert s0["row_var"].numel() + s0["col_var"].numel() == 5 + 7


def test_adafactor_first_step_of_a_vector_follows_the_formula():
    # at t = 1 the running average is the squared gradient itself (beta2_1 = 1 - 1 ** -0.8 = 0), the update is
    # g / |g| (RMS 1, so no clipping at d = 1) and the step size is max(eps2, RMS(p)) * min(lr, 1)
    start, grad, lr = [0.5, -2.0, 1.0, 0.25], [0.3, 0.2, -4.0, 1e-2], 0.02
    p = ember.tensor(start, requires_grad=True)
    opt = optim.Adafactor([p], lr=lr)
    p.grad = ember.tensor(grad)
    opt.step()
    alpha = max(1e-3, math.sqrt(sum(v * v for v in start) / len(start))) * lr
    expected = [s - alpha * math.copysign(1.0, g) for s, g in zip(start, grad)]
    assert max(abs(a - b) for a, b in zip(flat(p), expected)) < 1e-6
    assert max(abs(a - g * g) for a, g in zip(flat(opt.state[p]["variance"]), grad)) < 1e-7


def test_adafactor_first_step_of_a_matrix_follows_the_formula():
    rows = [[1.0, -2.0, 0.5], [0.1, 3.0, -1.0]]
    grads = [[0.2, -0.4, 1.0], [2.0, 0.5, -0.3]]
    p = ember.tensor(rows, requires_grad=True)
    opt = optim.Adafactor([p], lr=0.05, d=10.0)  # a large d: no clipping
    p.grad = ember.tensor(grads)
    opt.step()
    row_mean = [sum(g * g for g in r) / 3 for r in grads]
    col_mean = [sum(grads[i][j] ** 2 for i in range(2)) / 2 for j in range(3)]
    mean_row = sum(row_mean) / 2
    update = [[grads[i][j] / math.sqrt(row_mean[i] * col_mean[j] / mean_row) for j in range(3)] for i in range(2)]
    rms_p = math.sqrt(sum(v * v for r in rows for v in r) / 6)
    alpha = max(1e-3, rms_p) * min(0.05, 1.0)
    expected = [rows[i][j] - alpha * update[i][j] for i in range(2) for j in range(3)]
    assert max(abs(a - b) for a, b in zip(flat(p), expected)) < 1e-6
    assert max(abs(a - b) for a, b in zip(flat(opt.state[p]["row_var"]), row_mean)) < 1e-6
    assert max(abs(a - b) for a, b in zip(flat(opt.state[p]["col_var"]), col_mean)) < 1e-6


def test_adafactor_clips_the_update_to_rms_d():
    # one huge component: g / |g| has RMS 1, but after a second step with a different gradient the update's
    # RMS exceeds 1; with d = 1 the step's RMS (divided by alpha) is at most 1, with d = 100 it is not clipped
    def second_step_rms(d):
        p = ember.zeros(4, requires_grad=True)
        opt = optim.Adafactor([p], lr=1.0, d=d, eps=(None, 1.0))  # eps2 = 1: alpha = min(lr, 1 / sqrt(t))
        p.grad = ember.tensor([1e-3, 1e-3, 1e-3, 1e-3])
        opt.step()
        before = p.detach().clone()
        p.grad = ember.tensor([10.0, 10.0, 10.0, 10.0])
        opt.step()
        alpha = max(1.0, math.sqrt(sum(v * v for v in flat(before)) / 4)) * (1 / math.sqrt(2))
        return math.sqrt(sum(v * v for v in flat(p - before)) / 4) / alpha

    assert second_step_rms(1.0) == pytest.approx(1.0, rel=1e-5)
    assert second_step_rms(100.0) > 1.2


def test_adafactor_weight_decay_is_decoupled_and_scaled_by_lr():
    p = ember.tensor([[1.0, -2.0], [3.0, 4.0]], requires_grad=True)
    opt = optim.Adafactor([p], lr=0.1, weight_decay=0.5)
    p.grad = ember.zeros(2, 2)  # a zero gradient gives a zero update: only the decay moves p
    opt.step()
    assert flat(p) == pytest.approx([v * (1 - 0.1 * 0.5) for v in [1.0, -2.0, 3.0, 4.0]], rel=1e-6)


def test_adafactor_eps1_none_uses_the_dtype_epsilon_and_stays_finite():
    for dtype in (ember.float32, ember.float64):
        p = ember.ones(3, 2, dtype=dtype, requires_grad=True)
        opt = optim.Adafactor([p])
        assert opt.param_groups[0]["eps"] == (None, 1e-3)
        p.grad = ember.zeros(3, 2, dtype=dtype)
        opt.step()
        assert all(math.isfinite(v) for v in flat(p))
        assert p.dtype == dtype and opt.state[p]["row_var"].dtype == dtype


def test_adafactor_minimises_a_regression():
    x, y = regression()
    model = nn.Linear(6, 3)
    opt = optim.Adafactor(model.parameters(), lr=0.05)
    losses = train(opt, model, x, y, 200)
    assert losses[-1] < 0.05 * losses[0]


def test_adafactor_maximize_climbs():
    p = ember.zeros(2, 3, requires_grad=True)
    target = ember.tensor([[1.0, -1.0, 0.5], [2.0, 0.0, -0.5]])
    opt = optim.Adafactor([p], lr=0.1, eps=(None, 0.1), maximize=True)
    start = ((p - target) ** 2).sum().item()
    for _ in range(100):
        opt.zero_grad()
        (-((p - target) ** 2).sum()).backward()
        opt.step()
    assert ((p - target) ** 2).sum().item() < 0.1 * start


def test_adafactor_skips_parameters_without_grad():
    p, q = ember.ones(2, 2, requires_grad=True), ember.ones(3, requires_grad=True)
    opt = optim.Adafactor([p, q])
    (p**2).sum().backward()
    opt.step()
    assert flat(q) == [1.0, 1.0, 1.0] and len(opt.state[q]) == 0
    assert flat(p) != [1.0] * 4


def test_adafactor_defaults_are_pytorchs():
    opt = optim.Adafactor([ember.zeros(2, requires_grad=True)])
    group = {k: v for k, v in opt.param_groups[0].items() if k != "params"}
    assert group == dict(
        lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, foreach=None, maximize=False
    )
    assert optim.Adafactor([ember.zeros(2, requires_grad=True)], foreach=True).defaults["foreach"] is True


ADAFACTOR_ERRORS = [
    (dict(lr=-0.1), "Learning rate should be >= 0 but is: -0.1"),
    (dict(beta2_decay=0.5), "beta2_decay should be <= 0 but is: 0.5"),
    (dict(eps=(-1e-30, 1e-3)), "epsilon1 should be >= 0 but is: -1e-30"),
    (dict(eps=(None, -1.0)), "epsilon2 should be >= 0 but is: -1.0"),
    (dict(d=0.5), "Clipping threshold d should be >= 1 but is: 0.5"),
    (dict(weight_decay=-1.0), "weight_decay should be >= 0 but is: -1.0"),
    (dict(lr=ember.tensor([0.1, 0.2])), "Tensor lr must be 1-element"),
]


@pytest.mark.parametrize("kwargs, message", ADAFACTOR_ERRORS)
def test_adafactor_bad_arguments_raise_as_pytorch(kwargs, message):
    with pytest.raises(ValueError) as info:
        optim.Adafactor([ember.zeros(2, requires_grad=True)], **kwargs)
    assert str(info.value) == message


def test_adafactor_state_dict_round_trip_continues_identically():
    x, y = regression(1)
    model = nn.Linear(6, 3)
    opt = optim.Adafactor(model.parameters(), lr=0.05, weight_decay=0.01)
    train(opt, model, x, y, 5)
    buf = io.BytesIO()
    ember.save({"model": model.state_dict(), "optim": opt.state_dict()}, buf)
    train(opt, model, x, y, 5)  # uninterrupted

    buf.seek(0)
    ckpt = ember.load(buf)
    model2 = nn.Linear(6, 3)
    model2.load_state_dict(ckpt["model"])
    opt2 = optim.Adafactor(model2.parameters())
    opt2.load_state_dict(ckpt["optim"])
    assert opt2.state_dict()["param_groups"] == ckpt["optim"]["param_groups"]
    assert opt2.param_groups[0]["lr"] == 0.05 and opt2.param_groups[0]["eps"] == (None, 1e-3)
    assert list(opt2.state[model2.weight]) == ["step", "row_var", "col_var"]
    assert list(opt2.state[model2.bias]) == ["step", "variance"]
    train(opt2, model2, x, y, 5)
    assert flat(model2.weight) == flat(model.weight) and flat(model2.bias) == flat(model.bias)


def test_adafactor_closure_loss_is_returned():
    p = ember.ones(3, requires_grad=True)
    opt = optim.Adafactor([p])

    def closure():
        opt.zero_grad()
        loss = (p**2).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 3.0
    assert flat(p) != [1.0, 1.0, 1.0]


# ============================================================================ Muon: behaviour


def singular_values(m):
    return ember.linalg.svdvals(m.to(ember.float64)).tolist()


@pytest.mark.parametrize("shape", [(8, 16), (16, 8), (12, 12), (5, 40)])
def test_newton_schulz_orthogonalises(shape):
    ember.manual_seed(0)
    # rows (or columns, the shorter side) scaled from 0.3 to 3: singular values far apart, as a gradient's are
    k = min(shape)
    scale = ember.linspace(0.3, 3.0, k)
    g = ember.randn(*shape) * (scale.unsqueeze(1) if shape[0] == k else scale)
    out = _newton_schulz(g, (3.4445, -4.7750, 2.0315), 5, 1e-7)
    assert out.shape == shape and out.dtype == ember.bfloat16
    # the tuned quintic maps every singular value into about [0.7, 1.2] in five steps (not exactly to 1)
    sv = singular_values(out)
    assert min(sv) > 0.5 and max(sv) < 1.5
    assert min(singular_values(g)) / max(singular_values(g)) < 0.5  # the input was far from orthogonal
    # the classic cubic-like coefficients converge to a true orthogonal factor, as far as bfloat16 allows
    out = _newton_schulz(g, (1.875, -1.25, 0.375), 40, 1e-7).to(ember.float64)
    gram = out @ out.T if shape[0] <= shape[1] else out.T @ out
    assert max_abs_diff(gram, ember.eye(k, dtype=ember.float64)) < 0.05


def test_newton_schulz_keeps_the_singular_vectors():
    # O = U V^T for G = U S V^T: O's rows span G's row space, and G^T O (= V S V^T) is symmetric positive
    ember.manual_seed(1)
    g = ember.randn(6, 10, dtype=ember.float64)
    o = _newton_schulz(g, (1.875, -1.25, 0.375), 40, 1e-7).to(ember.float64)
    m = g @ o.T
    assert max_abs_diff(m, m.T) < 0.05 * m.abs().max().item()
    assert min(ember.linalg.eigvalsh(0.5 * (m + m.T)).tolist()) > 0


def test_muon_step_is_the_scaled_orthogonalised_gradient():
    # momentum 0, no weight decay, no nesterov: p -= lr * sqrt(max(1, rows / cols)) * NS(g)
    ember.manual_seed(2)
    for shape in [(12, 4), (4, 12)]:
        start, g = ember.randn(*shape), ember.randn(*shape)
        p = start.clone().requires_grad_(True)
        opt = optim.Muon([p], lr=0.1, momentum=0.0, weight_decay=0.0, nesterov=False)
        p.grad = g.clone()
        opt.step()
        scale = 0.1 * math.sqrt(max(1.0, shape[0] / shape[1]))
        expected = start - scale * _newton_schulz(g, (3.4445, -4.7750, 2.0315), 5, 1e-7).to(ember.float32)
        assert max_abs_diff(p, expected) < 1e-6


def test_muon_adjust_lr_fn_scales_the_step():
    ember.manual_seed(3)
    start, g = ember.randn(10, 4), ember.randn(10, 4)

    def delta(adjust_lr_fn):
        p = start.clone().requires_grad_(True)
        opt = optim.Muon([p], lr=0.01, weight_decay=0.0, adjust_lr_fn=adjust_lr_fn)
        p.grad = g.clone()
        opt.step()
        return (p - start).detach()

    original, default, rms = delta("original"), delta(None), delta("match_rms_adamw")
    assert flat(original) == flat(default)
    ratio = (0.2 * math.sqrt(10)) / math.sqrt(10 / 4)
    assert max_abs_diff(rms, original * ratio) < 1e-6


def test_muon_momentum_buffer_and_nesterov():
    ember.manual_seed(4)
    g1, g2 = ember.randn(3, 5), ember.randn(3, 5)
    mu = 0.9
    buf2 = mu * (1 - mu) * g1 + (1 - mu) * g2
    results = {}
    for nesterov in (True, False):
        p = ember.zeros(3, 5, requires_grad=True)
        opt = optim.Muon([p], lr=0.1, momentum=mu, nesterov=nesterov, weight_decay=0.0)
        before = None
        for g in (g1, g2):
            before = p.detach().clone()
            p.grad = g.clone()
            opt.step()
        assert list(opt.state[p]) == ["momentum_buffer"]
        assert max_abs_diff(opt.state[p]["momentum_buffer"], buf2) < 1e-6
        direction = g2 + mu * (buf2 - g2) if nesterov else buf2
        expected = before - 0.1 * _newton_schulz(direction, (3.4445, -4.7750, 2.0315), 5, 1e-7).to(ember.float32)
        results[nesterov] = p.detach().clone()
        assert max_abs_diff(p, expected) < 1e-6
    assert flat(results[True]) != flat(results[False])


def test_muon_weight_decay_uses_the_unadjusted_lr():
    p = ember.tensor([[1.0, 2.0], [3.0, -4.0], [0.5, 0.0]], requires_grad=True)
    opt = optim.Muon([p], lr=0.1, weight_decay=0.3)
    p.grad = ember.zeros(3, 2)  # Newton-Schulz of zero is zero (the norm is floored at eps): only decay
    opt.step()
    assert flat(p) == pytest.approx([v * (1 - 0.1 * 0.3) for v in [1.0, 2.0, 3.0, -4.0, 0.5, 0.0]], rel=1e-6)


def test_muon_minimises_a_regression():
    x, y = regression(5, d_in=8, d_out=4)
    model = nn.Linear(8, 4, bias=False)
    opt = optim.Muon(model.parameters(), lr=0.05, weight_decay=0.0)
    losses = train(opt, model, x, y, 150)
    assert losses[-1] < 0.05 * losses[0]


def test_muon_with_adamw_for_the_other_parameters():
    x, y = regression(6, d_in=8, d_out=4)
    model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 4))
    matrices = [p for p in model.parameters() if p.dim() == 2]
    others = [p for p in model.parameters() if p.dim() != 2]
    muon, adamw = optim.Muon(matrices, lr=0.02), optim.AdamW(others, lr=1e-2)
    losses = []
    for _ in range(150):
        muon.zero_grad()
        adamw.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        muon.step()
        adamw.step()
        losses.append(loss.item())
    assert losses[-1] < 0.1 * losses[0]


def test_muon_defaults_are_pytorchs():
    opt = optim.Muon([ember.zeros(2, 2, requires_grad=True)])
    group = {k: v for k, v in opt.param_groups[0].items() if k != "params"}
    assert group == dict(
        lr=1e-3,
        weight_decay=0.1,
        momentum=0.95,
        nesterov=True,
        ns_coefficients=(3.4445, -4.7750, 2.0315),
        eps=1e-7,
        ns_steps=5,
        adjust_lr_fn=None,
    )


MUON_ERRORS = [
    (dict(lr=-1.0), "Learning rate should be >= 0 but is: -1.0"),
    (dict(momentum=-0.5), "momentum should be >= 0 but is: -0.5"),
    (dict(weight_decay=-0.1), "weight decay should be >= 0 but is: -0.1"),
    (dict(adjust_lr_fn="spectral"), "Adjust learning rate function spectral is not supported"),
    (dict(lr=ember.tensor([0.1, 0.2])), "Tensor lr must be 1-element"),
]


@pytest.mark.parametrize("kwargs, message", MUON_ERRORS)
def test_muon_bad_arguments_raise_as_pytorch(kwargs, message):
    with pytest.raises(ValueError) as info:
        optim.Muon([ember.zeros(2, 2, requires_grad=True)], **kwargs)
    assert str(info.value) == message


@pytest.mark.parametrize("shape", [(3,), (), (2, 3, 4)])
def test_muon_refuses_parameters_that_are_not_matrices(shape):
    with pytest.raises(ValueError, match="Muon only supports 2D parameters whereas we found a parameter with size"):
        optim.Muon([ember.zeros(2, 2, requires_grad=True), ember.zeros(*shape, requires_grad=True)])


def test_muon_step_errors_on_bad_newton_schulz_settings():
    p = ember.zeros(2, 3, requires_grad=True)
    for kwargs, message in [
        (dict(ns_steps=100), "Number of steps must be less than 100 for computational efficiency"),
        (dict(ns_coefficients=(1.0, 2.0)), "Coefficients must be a tuple of exactly 3 values"),
    ]:
        opt = optim.Muon([p], **kwargs)
        p.grad = ember.ones(2, 3)
        with pytest.raises(ValueError) as info:
            opt.step()
        assert str(info.value) == message
    # a vector added later (PyTorch checks only the constructor's params) is refused at the step
    q = ember.zeros(4, requires_grad=True)
    opt = optim.Muon([p])
    opt.add_param_group({"params": [q]})
    q.grad = ember.ones(4)
    with pytest.raises(ValueError, match="Param gradient must be a 2D matrix"):
        opt.step()


def test_muon_state_dict_round_trip_continues_identically():
    x, y = regression(7, d_in=5, d_out=4)
    model = nn.Linear(5, 4, bias=False)
    opt = optim.Muon(model.parameters(), lr=0.02, adjust_lr_fn="match_rms_adamw")
    train(opt, model, x, y, 4)
    buf = io.BytesIO()
    ember.save({"model": model.state_dict(), "optim": opt.state_dict()}, buf)
    train(opt, model, x, y, 4)

    buf.seek(0)
    ckpt = ember.load(buf)
    model2 = nn.Linear(5, 4, bias=False)
    model2.load_state_dict(ckpt["model"])
    opt2 = optim.Muon(model2.parameters())
    opt2.load_state_dict(ckpt["optim"])
    assert opt2.param_groups[0]["adjust_lr_fn"] == "match_rms_adamw" and opt2.param_groups[0]["lr"] == 0.02
    train(opt2, model2, x, y, 4)
    assert flat(model2.weight) == flat(model.weight)


# ============================================================================ swap_in_optimizer_params_and_state


def swap_setup():
    ember.manual_seed(8)
    params = [ember.randn(3, 2, requires_grad=True), ember.randn(4, requires_grad=True)]
    opt = optim.Adam([{"params": params[:1]}, {"params": params[1:], "lr": 0.05}], lr=0.01)
    for p in params:
        p.grad = ember.randn(*p.shape)
    opt.step()
    return params, opt


def cloned_state_dict(opt):
    sd = opt.state_dict()
    return {
        "state": {k: {n: v.clone() for n, v in s.items()} for k, s in sd["state"].items()},
        "param_groups": copy.deepcopy(sd["param_groups"]),
    }


def test_swap_in_steps_the_supplied_params_and_state_and_restores_the_live_ones():
    params, opt = swap_setup()
    reference = copy.deepcopy(opt)  # the same optimizer, stepped the ordinary way
    live = [p.detach().clone() for p in params]
    live_state = {k: {n: v.clone() for n, v in s.items()} for k, s in opt.state_dict()["state"].items()}
    groups, group_dicts, first_params = opt.param_groups, list(opt.param_groups), opt.param_groups[0]["params"]

    swap_params = {f"p{i}": p.detach().clone().requires_grad_(True) for i, p in enumerate(params)}
    swap_sd = cloned_state_dict(opt)
    swap_sd["param_groups"][1]["lr"] = 0.5
    for p, q in zip(swap_params.values(), params):
        p.grad = q.grad.clone()
    with optim.swap_in_optimizer_params_and_state(opt, swap_params, swap_sd):
        assert opt.param_groups[1]["lr"] == 0.5
        assert opt.param_groups[0]["params"][0] is swap_params["p0"]
        opt.step()

    # the live optimizer and parameters are untouched, its groups the same objects with the same contents
    assert opt.param_groups is groups and all(a is b for a, b in zip(opt.param_groups, group_dicts))
    assert opt.param_groups[0]["params"] is first_params and opt.param_groups[1]["lr"] == 0.05
    assert all(flat(a) == flat(b) for a, b in zip(params, live))
    for k, s in opt.state_dict()["state"].items():
        assert all(flat(v) == flat(live_state[k][n]) for n, v in s.items())
    # the swapped-in tensors took the step (in place, so the state_dict passed in shows it)
    reference.param_groups[1]["lr"] = 0.5
    reference.step()
    for p, q in zip(swap_params.values(), reference.param_groups):
        assert flat(p) == flat(q["params"][0])
    assert swap_sd["state"][0]["step"].item() == 2.0
    assert flat(swap_sd["state"][1]["exp_avg"]) == flat(
        reference.state[reference.param_groups[1]["params"][0]]["exp_avg"]
    )


def test_swap_in_restores_after_an_exception():
    params, opt = swap_setup()
    state = opt.state
    swap_params = {str(i): p.detach().clone() for i, p in enumerate(params)}
    with pytest.raises(KeyError):
        with optim.swap_in_optimizer_params_and_state(opt, swap_params, cloned_state_dict(opt)):
            opt.param_groups[0]["lr"] = 123.0
            raise KeyError("inside")
    assert opt.state is state and opt.param_groups[0]["lr"] == 0.01
    assert opt.param_groups[0]["params"][0] is params[0]


def swap_errors():
    def sd_with(change):
        def make(opt):
            sd = cloned_state_dict(opt)
            change(sd)
            return sd

        return make

    return [
        (sd_with(lambda sd: sd.__setitem__("state", [])), "swapin_optim_state['state'] to be a dict"),
        (sd_with(lambda sd: sd["state"].__setitem__(7, {})), "got extra keys [7]"),
        (sd_with(lambda sd: sd["state"].__setitem__(0, 1.0)), "state entries to be dictionaries"),
        (sd_with(lambda sd: sd["param_groups"].pop()), "different number of parameter groups"),
        (sd_with(lambda sd: sd["param_groups"][0].pop("amsgrad")), "Keys only in live: ['amsgrad']"),
        (sd_with(lambda sd: sd["param_groups"][0].__setitem__("params", [0, 1])), "group 0 has a different number"),
        (sd_with(lambda sd: sd["param_groups"][1].__setitem__("params", ["a"])), "keyed by packed parameter ids"),
        (lambda opt: "not a dict", "requires a DCP-style optimizer state_dict"),
    ]


@pytest.mark.parametrize("make, message", swap_errors())
def test_swap_in_refuses_what_does_not_match(make, message):
    params, opt = swap_setup()
    sd = make(opt)
    with pytest.raises(RuntimeError) as info:
        with optim.swap_in_optimizer_params_and_state(opt, {str(i): p for i, p in enumerate(params)}, sd):
            pass
    assert message in str(info.value)
    assert opt.param_groups[0]["params"][0] is params[0]


def test_swap_in_needs_initialised_state_and_enough_params():
    p = ember.zeros(2, requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    with pytest.raises(RuntimeError, match="requires initialized optimizer state"):
        with optim.swap_in_optimizer_params_and_state(opt, {"p": p}, opt.state_dict()):
            pass
    p.grad = ember.ones(2)
    opt.step()
    with pytest.raises(RuntimeError, match="match optimizer.param_groups ordering"):
        with optim.swap_in_optimizer_params_and_state(opt, {}, opt.state_dict()):
            pass


def test_new_names_are_exported_and_documented():
    for name in ("Adafactor", "Muon", "swap_in_optimizer_params_and_state"):
        assert name in optim.__all__
        assert getattr(optim, name).__doc__
    for cls in (optim.Adafactor, optim.Muon):
        assert cls.step.__doc__


# ============================================================================ parity with PyTorch

STEPS = 30
SHAPES = [(3, 4), (5,), (), (2, 3, 4)]


def parity_run(lib, cls, kwargs, dtype, shapes, steps=STEPS, seed=0):
    """``steps`` of lib.optim.<cls> on fixed gradients (growing in size); the first parameter is a
    non-contiguous leaf and the last one has no gradient on odd steps."""
    import numpy as np

    rng = np.random.default_rng(seed)
    starts = [rng.standard_normal(s) for s in shapes]
    grads = [[rng.standard_normal(s) * (1 + 0.2 * i) for s in shapes] for i in range(steps)]
    dt = getattr(lib, dtype)
    params = [lib.tensor(a, dtype=dt, requires_grad=True) for a in starts]
    if len(shapes[0]) == 2:
        params[0] = lib.tensor(starts[0].T.copy(), dtype=dt).t().detach().requires_grad_(True)
    opt = getattr(lib.optim, cls)(params, **kwargs)
    for step in range(steps):
        for i, p in enumerate(params):
            skip = i == len(params) - 1 and step % 2 == 1
            p.grad = None if skip else lib.tensor(grads[step][i], dtype=dt)
        opt.step()
    return params, opt


def tolerance(dtype):
    return dict(rtol=2e-6, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-13)


def assert_same_state(np, ours, theirs, tol):
    our_sd, their_sd = ours.state_dict(), theirs.state_dict()
    assert our_sd["param_groups"] == their_sd["param_groups"]
    assert our_sd["state"].keys() == their_sd["state"].keys()
    for k, their_state in their_sd["state"].items():
        our_state = our_sd["state"][k]
        assert list(our_state) == list(their_state)
        for name, value in their_state.items():
            a, b = our_state[name].numpy(), value.numpy()
            assert a.dtype == b.dtype and a.shape == b.shape, name
            np.testing.assert_allclose(a, b, **tol, err_msg=name)


ADAFACTOR_CASES = [
    pytest.param({}, id="defaults"),
    pytest.param(dict(lr=0.1, weight_decay=0.1, d=2.0), id="decay_clip2"),
    pytest.param(dict(lr=0.3, beta2_decay=-0.5, eps=(1e-20, 1e-2)), id="beta2_eps"),
    pytest.param(dict(lr=ember.tensor(0.05), maximize=True, foreach=False), id="tensor_lr_maximize"),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kwargs", ADAFACTOR_CASES)
def test_adafactor_matches_torch(torch, np, kwargs, dtype):
    their_kwargs = {k: (torch.tensor(v.item()) if isinstance(v, ember.Tensor) else v) for k, v in kwargs.items()}
    ours, our_opt = parity_run(ember, "Adafactor", kwargs, dtype, SHAPES)
    theirs, their_opt = parity_run(torch, "Adafactor", their_kwargs, dtype, SHAPES)
    tol = tolerance(dtype)
    tensor_lr = isinstance(kwargs.get("lr"), ember.Tensor)
    if tensor_lr and dtype == "float64":
        # PyTorch keeps a Tensor lr as a float32 tensor through the step-size arithmetic, so its steps are
        # rounded to float32; ember takes the lr's value once, as its other optimizers do
        tol = dict(rtol=1e-6, atol=1e-7)
    for a, b in zip(ours, theirs):
        assert a.dtype == getattr(ember, dtype) and a.shape == tuple(b.shape)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **tol)
    if not tensor_lr:  # a Tensor lr in param_groups does not compare equal across libraries
        assert_same_state(np, our_opt, their_opt, tol)


def test_adafactor_trains_a_model_as_torch(torch, np):
    """A small MLP trained 60 steps from the same weights on the same data: the losses and weights agree."""
    rng = np.random.default_rng(9)
    x, y = rng.standard_normal((32, 5)), rng.standard_normal((32, 2))
    weights = [rng.standard_normal((8, 5)) * 0.4, rng.standard_normal(8) * 0.1, rng.standard_normal((2, 8)) * 0.4]
    results = []
    for lib in (ember, torch):
        params = [lib.tensor(w, dtype=lib.float64, requires_grad=True) for w in weights]
        xs, ys = lib.tensor(x, dtype=lib.float64), lib.tensor(y, dtype=lib.float64)
        opt = lib.optim.Adafactor(params, lr=0.05, weight_decay=0.01)
        losses = []
        for _ in range(60):
            opt.zero_grad()
            hidden = lib.tanh(xs @ params[0].T + params[1])
            loss = ((hidden @ params[2].T - ys) ** 2).mean()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        results.append((losses, [p.detach().numpy() for p in params]))
    (our_losses, ours), (their_losses, theirs) = results
    assert our_losses[-1] < 0.5 * our_losses[0]
    # the forward, backward and the step's reductions may round differently in the last bit, and through the
    # gradients such differences grow slowly over the steps (from 1e-16 to about 1e-9 here)
    np.testing.assert_allclose(our_losses, their_losses, rtol=1e-7)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-7)


def test_adafactor_resumed_from_a_state_dict_matches_torch(torch, np):
    half = STEPS // 2
    ours, opt = parity_run(ember, "Adafactor", dict(lr=0.05), "float32", SHAPES, steps=half, seed=1)
    buf = io.BytesIO()
    ember.save({"params": ours, "optim": opt.state_dict()}, buf)
    buf.seek(0)
    ckpt = ember.load(buf)
    params = [p.detach().requires_grad_(True) for p in ckpt["params"]]
    opt2 = ember.optim.Adafactor(params)
    opt2.load_state_dict(ckpt["optim"])
    rng = np.random.default_rng(1)
    [rng.standard_normal(s) for s in SHAPES]
    grads = [[rng.standard_normal(s) * (1 + 0.2 * i) for s in SHAPES] for i in range(STEPS)]
    for step in range(half, STEPS):
        for i, p in enumerate(params):
            skip = i == len(params) - 1 and step % 2 == 1
            p.grad = None if skip else ember.tensor(grads[step][i], dtype=ember.float32)
        opt2.step()
    theirs, their_opt = parity_run(torch, "Adafactor", dict(lr=0.05), "float32", SHAPES, seed=1)
    for a, b in zip(params, theirs):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=2e-6, atol=1e-6)
    assert_same_state(np, opt2, their_opt, tolerance("float32"))


def raised(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the type and words are what is compared
        return type(e), str(e)
    return None


@pytest.mark.parametrize("kwargs, message", ADAFACTOR_ERRORS[:-1])
def test_adafactor_errors_are_torchs(torch, kwargs, message):
    ours = raised(lambda: ember.optim.Adafactor([ember.zeros(2, requires_grad=True)], **kwargs))
    theirs = raised(lambda: torch.optim.Adafactor([torch.zeros(2, requires_grad=True)], **kwargs))
    assert ours == theirs and theirs[1] == message


@pytest.mark.parametrize("kwargs, message", MUON_ERRORS[:-1])
def test_muon_errors_are_torchs(torch, kwargs, message):
    ours = raised(lambda: ember.optim.Muon([ember.zeros(2, 2, requires_grad=True)], **kwargs))
    theirs = raised(lambda: torch.optim.Muon([torch.zeros(2, 2, requires_grad=True)], **kwargs))
    assert ours == theirs and theirs[1] == message


def test_muon_step_errors_are_torchs(torch):
    for kwargs in (dict(ns_steps=100), dict(ns_coefficients=(1.0, 2.0))):
        results = []
        for lib in (ember, torch):
            p = lib.zeros(2, 3, requires_grad=True)
            opt = lib.optim.Muon([p], **kwargs)
            p.grad = lib.ones(2, 3)
            results.append(raised(opt.step))
        assert results[0] == results[1] and results[0] is not None
    results = [raised(lambda lib=lib: lib.optim.Muon([lib.zeros(3, requires_grad=True)])) for lib in (ember, torch)]
    assert results[0][0] is results[1][0] is ValueError
    assert results[0][1].split("size:")[0] == results[1][1].split("size:")[0]


MUON_SHAPES = [(8, 16), (16, 8), (32, 32), (24, 40)]
MUON_CASES = [
    pytest.param(dict(lr=0.02), id="defaults"),
    pytest.param(dict(lr=0.02, nesterov=False, adjust_lr_fn="match_rms_adamw", weight_decay=0.0), id="plain_rms"),
    pytest.param(dict(lr=0.05, momentum=0.8, ns_steps=3, ns_coefficients=(2.0, -1.5, 0.5)), id="ns_settings"),
]


def bf16_bound(lr, shape, steps):
    """How far a run may drift from PyTorch's: each step's update may differ by a few bfloat16 ulps (2**-8 of
    the update's largest entries, which stay below 1.5) where the two libraries' float32 accumulations inside
    the bfloat16 matrix products round to different bfloat16 neighbours."""
    adjusted = lr * max(math.sqrt(max(1, shape[0] / shape[1])), 0.2 * math.sqrt(max(shape)))
    return steps * adjusted * 1.5 * 2**-7


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kwargs", MUON_CASES)
def test_muon_matches_torch(torch, np, kwargs, dtype):
    ours, our_opt = parity_run(ember, "Muon", kwargs, dtype, MUON_SHAPES)
    theirs, their_opt = parity_run(torch, "Muon", kwargs, dtype, MUON_SHAPES)
    our_sd, their_sd = our_opt.state_dict(), their_opt.state_dict()
    assert our_sd["param_groups"] == their_sd["param_groups"]
    # the momentum buffers do not depend on the parameters: float32 ones agree to the bit
    buf_tol = dict(rtol=0, atol=0) if dtype == "float32" else dict(rtol=1e-12, atol=1e-12)
    for k, state in their_sd["state"].items():
        assert list(our_sd["state"][k]) == ["momentum_buffer"] == list(state)
        np.testing.assert_allclose(
            our_sd["state"][k]["momentum_buffer"].numpy(), state["momentum_buffer"].numpy(), **buf_tol
        )
    starts = parity_run(ember, "Muon", dict(lr=0.0), dtype, MUON_SHAPES, steps=0)[0]
    for start, a, b, shape in zip(starts, ours, theirs, MUON_SHAPES):
        a, b, start = a.detach().numpy(), b.detach().numpy(), start.detach().numpy()
        assert a.dtype == b.dtype and a.shape == b.shape
        moved = np.abs(b - start).max()
        bound = bf16_bound(kwargs["lr"], shape, STEPS)
        assert moved > 10 * bound  # the runs went somewhere, far beyond the tolerance
        np.testing.assert_allclose(a, b, rtol=0, atol=bound)
        assert np.abs(a - b).mean() < bound / 10  # and most entries agree much more closely


def test_muon_runs_are_mostly_bit_identical_to_torchs(torch, np):
    """With short inner dimensions the bfloat16 products of both libraries usually round alike: most
    10-step runs agree to the bit (a run differs when one product entry rounds to the other neighbour)."""
    kwargs = dict(lr=0.03, weight_decay=0.05)
    identical = runs = 0
    for shape in [(4, 8), (8, 4), (6, 6)]:
        for seed in range(6):
            ours, _ = parity_run(ember, "Muon", kwargs, "float32", [shape], steps=10, seed=seed)
            theirs, _ = parity_run(torch, "Muon", kwargs, "float32", [shape], steps=10, seed=seed)
            a, b = ours[0].detach().numpy(), theirs[0].detach().numpy()
            np.testing.assert_allclose(a, b, rtol=0, atol=bf16_bound(0.03, shape, 10))
            identical += bool((a == b).all())
            runs += 1
    assert identical >= 0.75 * runs


def test_newton_schulz_matches_torch(torch, np):
    """Newton-Schulz against PyTorch's own: mostly bit-identical; where one bfloat16 rounding differs, the
    quintic's steep slope spreads it, but entries stay within a few percent of the largest one."""
    from torch.optim._muon import _zeropower_via_newtonschulz as theirs_ns

    rng = np.random.default_rng(11)
    total = same = 0
    for shape in [(8, 16), (16, 8), (32, 32), (64, 48), (10, 100)]:
        for scale in (1e-3, 1.0, 50.0):
            g = rng.standard_normal(shape) * scale
            a = _newton_schulz(ember.tensor(g, dtype=ember.float32), (3.4445, -4.7750, 2.0315), 5, 1e-7)
            b = theirs_ns(torch.tensor(g, dtype=torch.float32), (3.4445, -4.7750, 2.0315), 5, 1e-7)
            a, b = a.to(ember.float32).numpy(), b.float().numpy()
            largest = np.abs(b).max()
            total += a.size
            same += (a == b).sum()
            np.testing.assert_allclose(a, b, rtol=0, atol=0.06 * largest)
            assert np.abs(a - b).mean() < 2**-8 * largest
    assert same > 0.8 * total


def test_swap_in_matches_torch(torch, np):
    """The same swap-in sequence on both libraries: the same parameters and states afterwards."""
    rng = np.random.default_rng(12)
    starts, grads = (
        [rng.standard_normal((3, 2)), rng.standard_normal(4)],
        [rng.standard_normal((3, 2)), rng.standard_normal(4)],
    )
    out = []
    for lib in (ember, torch):
        params = [lib.tensor(s, dtype=lib.float32, requires_grad=True) for s in starts]
        opt = lib.optim.Adafactor([{"params": params[:1]}, {"params": params[1:], "lr": 0.2}], lr=0.05)
        for p, g in zip(params, grads):
            p.grad = lib.tensor(g, dtype=lib.float32)
        opt.step()
        sd = opt.state_dict()
        sd = {
            "state": {k: {n: v.clone() for n, v in s.items()} for k, s in sd["state"].items()},
            "param_groups": copy.deepcopy(sd["param_groups"]),
        }
        sd["param_groups"][0]["weight_decay"] = 0.5
        swapped = {str(i): p.detach().clone() for i, p in enumerate(params)}
        for p, g in zip(swapped.values(), grads):
            p.grad = lib.tensor(g, dtype=lib.float32) * 2
        with lib.optim.swap_in_optimizer_params_and_state(opt, swapped, sd):
            opt.step()
            opt.step()
        out.append(([p.detach().numpy() for p in swapped.values()], [p.detach().numpy() for p in params], sd))
        bad = dict(sd, param_groups=sd["param_groups"][:1])
        err = raised(
            lambda lib=lib, opt=opt, swapped=swapped, bad=bad: lib.optim.swap_in_optimizer_params_and_state(
                opt, swapped, bad
            ).__enter__()
        )
        out[-1] += (err,)
    (a_sw, a_live, a_sd, a_err), (b_sw, b_live, b_sd, b_err) = out
    for a, b in zip(a_sw + a_live, b_sw + b_live):
        np.testing.assert_allclose(a, b, rtol=2e-6, atol=1e-6)
    assert a_err == b_err and a_err is not None
    for k in b_sd["state"]:
        assert list(a_sd["state"][k]) == list(b_sd["state"][k])
        for n in b_sd["state"][k]:
            np.testing.assert_allclose(a_sd["state"][k][n].numpy(), b_sd["state"][k][n].numpy(), rtol=2e-6, atol=1e-6)
