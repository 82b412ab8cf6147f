"""ember.amp (Note [Autocast]): CPU autocast runs PyTorch's listed products and convolutions in the lower
dtype (against torch.autocast when PyTorch is importable), per thread, nested and restored; GradScaler
scales, unscales, skips overflowing steps and adapts its scale as PyTorch's; the deprecated
torch.cuda.amp / torch.cpu.amp names warn as PyTorch's."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import ember
import ember.nn.functional as F

BF16, F16, F32 = ember.bfloat16, ember.float16, ember.float32


def _products(lib, x, w, b, img, kernel):
    return {
        "matmul": x @ w,
        "mm": lib.mm(x, w),
        "bmm": lib.bmm(x.unsqueeze(0), w.unsqueeze(0)),
        "addmm": lib.addmm(b, x, w),
        "baddbmm": lib.baddbmm(b.unsqueeze(0), x.unsqueeze(0), w.unsqueeze(0)),
        "linear": F.linear(x, w.t(), b) if lib is ember else lib.nn.functional.linear(x, w.t(), b),
        "conv2d": (F if lib is ember else lib.nn.functional).conv2d(img, kernel),
        "conv2d_bias": (F if lib is ember else lib.nn.functional).conv2d(img, kernel, b[:3]),  # the bias cast too
        "exp": x.exp(),
        "add": x + 1,
        "prod": (x @ w).prod(),
    }


def _inputs(lib):
    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=s).astype(np.float32) for s in [(4, 3), (3, 5), (5,), (1, 2, 6, 6), (3, 2, 3, 3)]]
    return [lib.tensor(a) for a in arrays]


@pytest.mark.parametrize("dtype", [BF16, F16])
def test_cpu_autocast_runs_products_in_the_lower_dtype(dtype):
    inputs = _inputs(ember)
    plain = _products(ember, *inputs)
    with ember.autocast("cpu", dtype=dtype):
        assert ember.is_autocast_enabled("cpu") and ember.get_autocast_dtype("cpu") == dtype
        cast = _products(ember, *inputs)
    assert not ember.is_autocast_enabled("cpu")
    for name, value in cast.items():
        expected = F32 if name in ("exp", "add", "prod") else dtype  # prod: PyTorch's float32 list
        assert value.dtype == expected, name
        tol = 0.05 if expected != F32 else 1e-6
        np.testing.assert_allclose(value.float().numpy(), plain[name].numpy(), rtol=tol, atol=tol * 4)
    # float64 is not cast, nor are ops outside the region; the state nests and is restored
    d = ember.randn(2, 2, dtype=ember.float64)
    with ember.autocast("cpu"):
        assert (d @ d).dtype == ember.float64
        with ember.autocast("cpu", enabled=False):
            assert (inputs[0] @ inputs[1]).dtype == F32
        with ember.autocast("cpu", dtype=F16):
            assert (inputs[0] @ inputs[1]).dtype == F16
        assert (inputs[0] @ inputs[1]).dtype == BF16


def test_autocast_against_torch():
    torch = pytest.importorskip("torch")
    with ember.autocast("cpu"):
        ours = {k: v.dtype for k, v in _products(ember, *_inputs(ember)).items()}
    with torch.autocast("cpu"):
        theirs = {k: v.dtype for k, v in _products(torch, *_inputs(torch)).items()}
    assert {k: str(v).split(".")[-1] for k, v in ours.items()} == {k: str(v).split(".")[-1] for k, v in theirs.items()}


@pytest.mark.parametrize("given,region", [(F16, BF16), (BF16, F16), (ember.float64, BF16)])
def test_autocast_casts_every_floating_dtype_but_float64_to_its_own(given, region):
    # PyTorch's cached_cast: a bfloat16 operand of a product under float16 autocast becomes float16 too
    a, b = ember.randn(3, 4).to(given), ember.randn(4, 2).to(given)
    with ember.autocast("cpu", dtype=region):
        got = a @ b
    assert got.dtype == (given if given == ember.float64 else region)
    np.testing.assert_allclose(got.double().numpy(), (a.double() @ b.double()).numpy(), rtol=0.05, atol=0.05)
    torch = pytest.importorskip("torch")
    dtypes = {F16: torch.float16, BF16: torch.bfloat16, ember.float64: torch.float64}
    with torch.autocast("cpu", dtype=dtypes[region]):
        theirs = torch.randn(3, 4).to(dtypes[given]) @ torch.randn(4, 2).to(dtypes[given])
    assert str(theirs.dtype).split(".")[-1] == str(got.dtype).split(".")[-1]


def _losses(lib, y, t):
    """Ops on a half-float y under autocast: PyTorch's lists run the losses in float32 on the CPU."""
    F_ = F if lib is ember else lib.nn.functional
    p, labels = t.sigmoid(), lib.tensor([0, 2, 1, 0])
    signs = lib.tensor([1.0, -1.0, 1.0, -1.0])
    return {
        "mse_loss": F_.mse_loss(y, t),
        "l1_loss": F_.l1_loss(y, t),
        "smooth_l1_loss": F_.smooth_l1_loss(y, t),
        "huber_loss": F_.huber_loss(y, t),
        "kl_div": F_.kl_div(y, p, reduction="batchmean"),
        "bce_with_logits": F_.binary_cross_entropy_with_logits(y, p),
        "bce": F_.binary_cross_entropy(y.sigmoid(), p),
        "nll_loss": F_.nll_loss(y, labels),
        "cross_entropy": F_.cross_entropy(y, labels),
        "soft_margin_loss": F_.soft_margin_loss(y, t.sign()),
        "hinge_embedding_loss": F_.hinge_embedding_loss(y, t.sign()),
        "margin_ranking_loss": F_.margin_ranking_loss(y[:, 0], y[:, 1], signs),
        "cosine_embedding_loss": F_.cosine_embedding_loss(y, t, signs),
        "triplet_margin_loss": F_.triplet_margin_loss(y, t, t.flip(0)),
        "multi_margin_loss": F_.multi_margin_loss(y, labels),
        "poisson_nll_loss": F_.poisson_nll_loss(y, p),
        "cdist": lib.cdist(y, y),
        "softmax": y.softmax(-1),  # not listed on the CPU: stays in the lower dtype
        "sum": y.sum(),
    }


def _loss_dtypes(lib, dtype):
    rng = np.random.default_rng(1)
    x, w, t = (lib.tensor(rng.normal(size=s).astype(np.float32)) for s in [(4, 5), (5, 3), (4, 3)])
    with lib.autocast("cpu", dtype=dtype):
        y = x @ w
        return {k: str(v.dtype).split(".")[-1] for k, v in _losses(lib, y, t).items()}


def test_cpu_autocast_runs_losses_in_float32():
    dtypes = _loss_dtypes(ember, BF16)
    assert {k for k, v in dtypes.items() if v != "float32"} == {"softmax", "sum"}
    assert dtypes["softmax"] == dtypes["sum"] == "bfloat16"


def test_cpu_autocast_losses_against_torch():
    torch = pytest.importorskip("torch")
    assert _loss_dtypes(ember, BF16) == _loss_dtypes(torch, torch.bfloat16)


def test_autocast_training_step_decorator_and_threads():
    def train(enabled):
        ember.manual_seed(0)
        model = ember.nn.Sequential(ember.nn.Linear(8, 16), ember.nn.ReLU(), ember.nn.Linear(16, 3))
        opt = ember.optim.SGD(model.parameters(), lr=0.5)
        x, y = ember.randn(32, 8), ember.randint(0, 3, (32,))
        losses = []
        for _ in range(30):
            opt.zero_grad()
            with ember.autocast("cpu", dtype=BF16, enabled=enabled):
                out = model(x)
                assert out.dtype == (BF16 if enabled else F32)
                loss = F.cross_entropy(out.float(), y)
            loss.backward()  # outside the region, as PyTorch recommends
            assert all(p.grad.dtype == F32 for p in model.parameters())  # the casts differentiate back
            opt.step()
            losses.append(loss.item())
        return losses

    mixed, full = train(True), train(False)
    assert mixed[-1] < 0.7 * mixed[0]
    np.testing.assert_allclose(mixed, full, atol=0.05)  # bfloat16 products track the float32 run

    @ember.autocast("cpu")
    def product(a, b):
        return a @ b

    assert product(ember.ones(2, 2), ember.ones(2, 2)).dtype == BF16
    seen = []
    with ember.autocast("cpu"):
        worker = threading.Thread(target=lambda: seen.append((ember.ones(2, 2) @ ember.ones(2, 2)).dtype))
        worker.start()
        worker.join()
    assert seen == [F32]  # the state is per thread, as PyTorch's


def test_autocast_warnings_and_errors_as_pytorch():
    no_cuda = not ember.cuda.is_available()  # the CUDA warnings are those of a machine without it
    if no_cuda:
        with pytest.warns(UserWarning, match="User provided device_type of 'cuda', but CUDA is not available"):
            with ember.autocast("cuda"):
                assert (ember.ones(2, 2) @ ember.ones(2, 2)).dtype == F32
    with pytest.warns(UserWarning, match="In CPU autocast, but the target dtype is not supported"):
        ember.autocast("cpu", dtype=ember.float64)
    with pytest.raises(RuntimeError, match="unsupported autocast device_type 'gpu'"):
        ember.autocast("gpu")
    with pytest.warns(FutureWarning, match=r"`torch.cpu.amp.autocast\(args...\)` is deprecated"):
        with ember.cpu.amp.autocast():
            assert (ember.ones(2, 2) @ ember.ones(2, 2)).dtype == BF16
    with pytest.warns(FutureWarning, match=r"`torch.cuda.amp.autocast\(args...\)` is deprecated"):
        if no_cuda:
            with pytest.warns(UserWarning, match="CUDA is not available. Disabling"):
                ember.cuda.amp.autocast()
        else:
            ember.cuda.amp.autocast()


def _scaled_steps(lib, grads_per_step, **kwargs):
    """Runs GradScaler over steps whose gradient is given (inf for an overflow); returns (scale, param)
    after each update."""
    p = lib.nn.Parameter(lib.tensor([1.0, 2.0]))
    opt = lib.optim.SGD([p], lr=0.1)
    scaler = lib.amp.GradScaler("cpu", **kwargs)
    history = []
    for g in grads_per_step:
        opt.zero_grad()
        loss = scaler.scale((p * lib.tensor(g)).sum())
        loss.backward()
        scaler.step(opt)
        scaler.update()
        history.append((scaler.get_scale(), p.detach().clone().numpy().tolist()))
    return history


def test_grad_scaler():
    steps = [[1.0, 1.0], [float("inf"), 1.0], [0.5, 0.5], [0.5, 0.5], [0.5, 0.5]]
    history = _scaled_steps(ember, steps, init_scale=1024.0, growth_interval=2)
    scales = [h[0] for h in history]
    assert scales == [1024.0, 512.0, 512.0, 1024.0, 1024.0]  # backoff after the overflow, growth after 2 clean steps
    assert history[1][1] == history[0][1]  # the overflowing step was skipped
    np.testing.assert_allclose(history[0][1], [0.9, 1.9], rtol=1e-6)  # unscaled gradients were applied
    scaler = ember.amp.GradScaler("cpu")
    p = ember.nn.Parameter(ember.ones(2))
    opt = ember.optim.SGD([p], lr=1.0)
    scaler.scale(p.sum()).backward()
    scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match=r"unscale_\(\) has already been called on this optimizer"):
        scaler.unscale_(opt)
    scaler.step(opt)
    with pytest.raises(RuntimeError, match=r"step\(\) has already been called since the last update\(\)"):
        scaler.step(opt)
    scaler.update()
    state = scaler.state_dict()
    assert state["scale"] == 65536.0 and state["_growth_tracker"] == 1
    other = ember.amp.GradScaler("cpu")
    other.load_state_dict(state)
    assert other.get_scale() == 65536.0
    off = ember.amp.GradScaler("cpu", enabled=False)
    t = ember.tensor(3.0)
    assert off.scale(t) is t and off.get_scale() == 1.0 and off.state_dict() == {}
    if not ember.cuda.is_available():
        with pytest.warns(UserWarning, match="GradScaler is enabled, but CUDA is not available.  Disabling."):
            assert not ember.amp.GradScaler().is_enabled()
    with pytest.warns(FutureWarning, match=r"`torch.cuda.amp.GradScaler\(args...\)` is deprecated"):
        ember.cuda.amp.GradScaler(enabled=False)


def test_grad_scaler_against_torch():
    torch = pytest.importorskip("torch")
    steps = [[1.0, 1.0], [float("nan"), 1.0], [0.5, 0.5], [0.25, 2.0], [0.5, 0.5], [float("inf"), 0.0]]
    kwargs = {"init_scale": 256.0, "growth_interval": 2, "growth_factor": 4.0, "backoff_factor": 0.25}
    ours, theirs = _scaled_steps(ember, steps, **kwargs), _scaled_steps(torch, steps, **kwargs)
    assert [h[0] for h in ours] == [h[0] for h in theirs]
    np.testing.assert_allclose([h[1] for h in ours], [h[1] for h in theirs], rtol=1e-6)


def test_get_autocast_dtype_is_the_current_blocks_per_device_type():
    # as PyTorch's: the dtype of the autocast block the thread is in, even CUDA's where it is turned off for
    # want of a GPU; set_autocast_dtype sets one device type's only
    import warnings

    assert ember.get_autocast_dtype("cuda") == F16 and ember.get_autocast_dtype("cpu") == BF16
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "CUDA is not available" where it is not
        with ember.autocast("cuda", dtype=BF16):
            assert ember.get_autocast_dtype("cuda") == BF16
    assert ember.get_autocast_dtype("cuda") == F16
    try:
        ember.set_autocast_dtype("cuda", BF16)
        assert ember.get_autocast_dtype("cuda") == BF16 and ember.get_autocast_dtype("xpu") == F16
    finally:
        ember.set_autocast_dtype("cuda", F16)
