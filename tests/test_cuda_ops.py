"""Every case of the registry's table (tests/op_db.py) on a CUDA device: the op's result equals the
CPU's and lives on the device, and its float64 gradient equals the CPU's; or the op raises
NotImplementedError naming the CUDA backend (ember has no CUDA kernel for it yet: an xfail here,
counted in the README) -- never another error, a crash or different numbers. Runs on a GPU, and
without one on the host emulation (test_cuda_emulated.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from helpers import as_tuple, random_array
from op_db import CASES, registry

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not ember.cuda.is_available(), reason="no CUDA device (test_cuda_emulated.py runs these)"),
]

ROWS = {row["name"]: row for row in registry()}


def _op(case):
    row = ROWS[case.name]
    if row["function"]:
        return getattr(ember, case.name)
    return lambda t, *args, **kwargs: getattr(t, case.name)(*args, **kwargs)


def _inputs(case, device, requires_grad=False):
    rng = np.random.default_rng(0)
    arrays = [x if isinstance(x, np.ndarray) else rng.uniform(0.5, 1.5, x) for x in case.inputs]
    out = []
    for a in arrays:
        if a.dtype.kind == "f":
            out.append(ember.tensor(a, dtype=ember.float64, device=device, requires_grad=requires_grad))
        else:
            out.append(ember.tensor(a, device=device))
    return out


def _run(case, device, requires_grad=False):
    ember.manual_seed(0)
    ts = _inputs(case, device, requires_grad)
    with ember.device(device):  # an index the case's call makes goes to the device too
        return ts, case.invoke(_op(case), *ts)


def _on_device(run):
    """run() on the device; an op without a CUDA kernel is an xfail, and a case whose call makes its own
    CPU tensors (an index) a skip, as PyTorch refuses that mix too; any other error fails."""
    try:
        return run()
    except NotImplementedError as err:
        if "'CUDA' backend" in str(err):
            pytest.xfail(f"no CUDA kernel yet: {err}")
        raise
    except RuntimeError as err:
        if "Expected all tensors to be on the same device" in str(err):
            pytest.skip("the case's call makes CPU tensors")
        raise


def _assert_matches(gpu, cpu, random: bool):
    if isinstance(cpu, ember.Tensor):
        assert isinstance(gpu, ember.Tensor) and gpu.device.type == "cuda", f"result on {gpu.device}"
        assert gpu.dtype == cpu.dtype and gpu.shape == cpu.shape
        if not random:
            np.testing.assert_allclose(gpu.detach().cpu().numpy(), cpu.detach().numpy(), rtol=1e-9, atol=1e-12)
    elif isinstance(cpu, (tuple, list)):
        assert len(gpu) == len(cpu)
        for g, c in zip(gpu, cpu):
            _assert_matches(g, c, random)
    elif not random:
        assert gpu == cpu


def _is_random(case) -> bool:
    _, a = _run(case, "cpu")
    ember.manual_seed(1)
    ts = _inputs(case, "cpu")
    b = case.invoke(_op(case), *ts)
    return any(
        isinstance(x, ember.Tensor) and not np.array_equal(x.detach().numpy(), y.detach().numpy(), equal_nan=True)
        for x, y in zip(as_tuple(a), as_tuple(b))
    )


@pytest.mark.parametrize("case", CASES, ids=str)
def test_op_on_cuda_matches_cpu(case):
    _, cpu = _run(case, "cpu")
    _, gpu = _on_device(lambda: _run(case, "cuda"))
    _assert_matches(gpu, cpu, _is_random(case))


def _weighted_sum(outputs):
    """A scalar of every float output, weighted so that gradients do not cancel by symmetry."""
    total = 0
    for o in as_tuple(outputs):
        if isinstance(o, ember.Tensor) and o.dtype.is_floating_point and o.requires_grad:
            w = ember.arange(o.numel(), dtype=o.dtype, device=o.device).reshape(o.shape) * 0.01 + 1
            total = total + (o * w).sum()
    return total


@pytest.mark.parametrize("case", [c for c in CASES if ROWS[c.name]["differentiable"]], ids=str)
def test_gradient_on_cuda_matches_cpu(case):
    if not any(isinstance(x, tuple) or (isinstance(x, np.ndarray) and x.dtype.kind == "f") for x in case.inputs):
        pytest.skip("no float input")
    if _is_random(case):
        pytest.skip("random: the devices draw different numbers")
    cpu_in, cpu_out = _run(case, "cpu", requires_grad=True)
    loss = _weighted_sum(cpu_out)
    if not isinstance(loss, ember.Tensor):
        pytest.skip("no differentiable output")
    try:
        loss.backward()
    except NotImplementedError as err:  # as in PyTorch (igamma's input)
        pytest.skip(f"no gradient on the CPU either: {err}")

    def forward_and_backward():
        gpu_in, gpu_out = _run(case, "cuda", requires_grad=True)
        _weighted_sum(gpu_out).backward()
        return gpu_in

    gpu_in = _on_device(forward_and_backward)
    for g, c in zip(gpu_in, cpu_in):
        if c.grad is None:
            assert g.grad is None
            continue
        assert g.grad is not None and g.grad.device.type == "cuda"
        np.testing.assert_allclose(g.grad.cpu().numpy(), c.grad.numpy(), rtol=1e-9, atol=1e-12)


def _half_case_inputs(case, dtype, device):
    """The case's inputs with its float ones in ``dtype`` (rounded once from float32)."""
    rng = np.random.default_rng(0)
    opts = case.opts
    arrays = [
        a
        if isinstance(a, np.ndarray)
        else random_array(
            a, rng, opts.get("low", -2.0), opts.get("high", 2.0), False, opts.get("min_abs", 0.0)
        )  # fmt: skip
        for a in case.inputs
    ]
    return [
        ember.tensor(a.astype(np.float32)).to(dtype).to(device)
        if a.dtype.kind == "f"
        else ember.tensor(a, device=device)
        for a in arrays
    ]


@pytest.mark.parametrize("dtype", [ember.float16, ember.bfloat16], ids=["float16", "bfloat16"])
def test_every_op_runs_in_half_floats_on_the_device_as_on_the_cpu(dtype):
    # float16/bfloat16 compute in float32 on both devices and round once: the same values, but for
    # summation orders (a few roundings of the half float apart)
    tol = 8 * ember.finfo(dtype).eps
    failures, checked = [], 0
    for case in CASES:
        if case.opts.get("integer") or not any(
            not isinstance(x, np.ndarray) or x.dtype.kind == "f" for x in case.inputs
        ):
            continue
        op = _op(case)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                want = [t for t in as_tuple(case.invoke(op, *_half_case_inputs(case, dtype, "cpu")))]
        except Exception:  # noqa: BLE001 (what the CPU refuses in half floats is not asked of the GPU)
            continue
        try:
            with warnings.catch_warnings(), ember.device("cuda"):
                warnings.simplefilter("ignore")
                got = [t for t in as_tuple(case.invoke(op, *_half_case_inputs(case, dtype, "cuda")))]
        except Exception as exc:  # noqa: BLE001
            failures.append(f"{case}: {type(exc).__name__}: {exc}")
            continue
        checked += 1
        for g, w in zip(got, want):
            if isinstance(w, ember.Tensor) and w.dtype.is_floating_point:
                a, b = g.detach().cpu().float().numpy(), w.detach().float().numpy()
                scale = max(1.0, float(np.nanmax(np.abs(b))) if b.size and np.isfinite(b).any() else 1.0)
                if g.dtype != w.dtype or not np.allclose(a, b, rtol=tol, atol=tol * scale, equal_nan=True):
                    failures.append(f"{case}: {g.dtype} {np.nanmax(np.abs(a - b)) if a.size else 0}")
    assert checked > 200 and not failures, (checked, failures)
