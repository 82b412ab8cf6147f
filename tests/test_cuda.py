"""The CUDA backend: tensors on device="cuda" against the same computation on the CPU.

Every test here carries the `cuda` marker (`pytest -m cuda` on a GPU machine runs them all). Those that need a
GPU are skipped without one; the rest check what a build (with or without CUDA kernels) does on a machine
without a GPU, as PyTorch does: `is_available()` is False, asking for a CUDA tensor raises a RuntimeError that
names CUDA, the memory counters read 0, and importing ember never loads cuBLAS.
"""

import copy
import gc
import importlib.util
import itertools
import os
import pathlib
import pickle
import re
import subprocess
import threading
import warnings

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from helpers import NO_CUDA_MESSAGE, python_command

pytestmark = pytest.mark.cuda

requires_gpu = pytest.mark.skipif(not ember.cuda.is_available(), reason="no CUDA GPU")
without_gpu = pytest.mark.skipif(ember.cuda.is_available(), reason="a CUDA GPU is present")
requires_two_gpus = pytest.mark.skipif(ember.cuda.device_count() < 2, reason="fewer than two CUDA GPUs")

DTYPES = [
    (ember.float32, np.float32),
    (ember.float64, np.float64),
    (ember.int64, np.int64),
    (ember.int32, np.int32),
    (ember.bool, np.bool_),
    (ember.float16, np.float16),
    (ember.uint8, np.uint8),
]

# (rtol, atol) for a CUDA result against ember's CPU result of the same computation
TOL = {ember.float32: (1e-5, 1e-6), ember.float64: (1e-10, 1e-12)}
# matrix products and gradients through them sum in another order (cuBLAS against OpenBLAS): values near 0
# cancel, so the absolute tolerance is wider there
TOL_SUMS = {ember.float32: (1e-5, 1e-5), ember.float64: (1e-10, 1e-10)}


def on_cuda(t):
    assert t.device.type == "cuda", f"expected a CUDA tensor, got device {t.device}"
    assert t.is_cuda
    return t


def assert_close(cuda_t, cpu_t, tol=TOL, rtol=None, atol=None):
    """cuda_t (on the GPU) has cpu_t's shape, dtype and values."""
    on_cuda(cuda_t)
    assert cpu_t.device.type == "cpu"
    assert tuple(cuda_t.shape) == tuple(cpu_t.shape)
    assert cuda_t.dtype == cpu_t.dtype, f"{cuda_t.dtype} != {cpu_t.dtype}"
    got, want = cuda_t.detach().cpu().numpy(), cpu_t.detach().numpy()
    if got.dtype.kind in "biu":
        np.testing.assert_array_equal(got, want)
        return
    default_rtol, default_atol = tol.get(cuda_t.dtype, (1e-3, 1e-3))
    np.testing.assert_allclose(
        got,
        want,
        rtol=default_rtol if rtol is None else rtol,
        atol=default_atol if atol is None else atol,
        equal_nan=True,
    )


def pair(a, dtype=None, requires_grad=False):
    """The same values as a CPU tensor and as a CUDA tensor (both leaves)."""
    cpu = ember.tensor(a, dtype=dtype, requires_grad=requires_grad)
    gpu = ember.tensor(a, dtype=dtype, device="cuda", requires_grad=requires_grad)
    return cpu, gpu


def uniform(shape, low=-2.0, high=2.0, seed=0):
    return np.random.default_rng(seed).uniform(low, high, size=shape).astype(np.float32)


# ---------------------------------------------------------------------------------------------------------------
# Without a GPU (here and in CI), and on a GPU machine where they still hold
# ---------------------------------------------------------------------------------------------------------------


def test_is_available_agrees_with_device_count():
    assert isinstance(ember.cuda.is_available(), bool)
    assert isinstance(ember.cuda.device_count(), int)
    assert ember.cuda.is_available() == (ember.cuda.device_count() > 0)


@without_gpu
def test_is_available_is_false_without_gpu():
    assert ember.cuda.is_available() is False
    assert ember.cuda.device_count() == 0


@without_gpu
@pytest.mark.parametrize(
    "make",
    [
        lambda: ember.zeros(2, device="cuda"),
        lambda: ember.ones(2, device="cuda:0"),
        lambda: ember.tensor([1.0, 2.0], device="cuda"),
        lambda: ember.ones(2).cuda(),
        lambda: ember.ones(2).to("cuda"),
        lambda: ember.ones(2).to(device="cuda"),
        lambda: ember.ones(2).to(ember.device("cuda")),
    ],
    ids=["zeros", "ones-cuda:0", "tensor", ".cuda()", ".to('cuda')", ".to(device=)", ".to(device obj)"],
)
def test_cuda_tensor_without_gpu_raises(make):
    with pytest.raises(RuntimeError, match=NO_CUDA_MESSAGE):  # PyTorch's words, and why
        make()


@without_gpu
def test_memory_allocated_is_zero_without_gpu():
    assert ember.cuda.memory_allocated() == 0


@without_gpu
def test_memory_counters_read_zero_and_empty_cache_is_a_no_op_without_gpu():
    # as PyTorch's: nothing was allocated, so every counter reads 0 and freeing the cache does nothing
    assert ember.cuda.memory_reserved() == 0
    assert ember.cuda.max_memory_allocated() == 0
    ember.cuda.empty_cache()
    ember.cuda.reset_peak_memory_stats()
    assert ember.cuda.memory_allocated() == 0
    assert ember.cuda.memory_snapshot() == [] and ember.cuda.host_memory_stats() == {}
    ember.cuda.caching_allocator_enable(False)  # nothing to change, as PyTorch's before CUDA starts
    ember.cuda.reset_peak_host_memory_stats()
    assert ember.cuda.amp.amp_definitely_not_available()


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="needs /proc/self/maps")
def test_import_and_is_available_do_not_load_cublas():
    # cuBLAS is hundreds of MB: a CPU-only user (or `import ember` alone) must not pay for mapping it
    code = (
        "import ember\n"
        "ember.cuda.is_available()\n"
        "ember.cuda.device_count()\n"
        "(ember.ones(3) * 2).sum()\n"
        "maps = open('/proc/self/maps').read()\n"
        "print('libcublas' in maps)\n"
    )
    out = subprocess.run([*python_command(), "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-1] == "False", "libcublas was mapped by `import ember` + is_available()"


# ---------------------------------------------------------------------------------------------------------------
# Creation and copies
# ---------------------------------------------------------------------------------------------------------------


@requires_gpu
@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda d: ember.zeros(2, 3, device=d), np.zeros((2, 3), np.float32)),
        (lambda d: ember.ones(2, 3, device=d), np.ones((2, 3), np.float32)),
        (lambda d: ember.full((2, 3), 1.5, device=d), np.full((2, 3), 1.5, np.float32)),
        (lambda d: ember.arange(5, device=d), np.arange(5, dtype=np.int64)),
        (lambda d: ember.arange(0.0, 1.0, 0.25, device=d), np.arange(0.0, 1.0, 0.25, dtype=np.float32)),
        (lambda d: ember.tensor([[1.0, 2.0], [3.0, 4.0]], device=d), np.array([[1, 2], [3, 4]], np.float32)),
        (lambda d: ember.tensor([1, 2, 3], device=d), np.array([1, 2, 3], np.int64)),
        (lambda d: ember.zeros(2, dtype=ember.float64, device=d), np.zeros(2, np.float64)),
    ],
    ids=["zeros", "ones", "full", "arange-int", "arange-float", "tensor-float", "tensor-int", "zeros-float64"],
)
@pytest.mark.parametrize("device", ["cuda", "cuda:0", "device-object"])
def test_creation_on_device(make, expected, device):
    t = make(ember.device("cuda:0") if device == "device-object" else device)
    on_cuda(t)
    assert str(t.device) == "cuda:0"
    assert t.device.index == 0
    assert t.dtype == ember.tensor(expected).dtype
    np.testing.assert_array_equal(t.cpu().numpy(), expected)


@requires_gpu
def test_empty_rand_randn_on_device():
    for fn in (ember.empty, ember.rand, ember.randn):
        t = fn(3, 4, device="cuda")
        on_cuda(t)
        assert str(t.device) == "cuda:0"
        assert tuple(t.shape) == (3, 4) and t.dtype == ember.float32
    r = ember.rand(10000, device="cuda").cpu().numpy()
    assert r.min() >= 0.0 and r.max() < 1.0 and abs(r.mean() - 0.5) < 0.02
    n = ember.randn(10000, device="cuda").cpu().numpy()
    assert abs(n.mean()) < 0.05 and abs(n.std() - 1.0) < 0.05
    assert ember.empty(2, dtype=ember.float64, device="cuda").dtype == ember.float64


@requires_gpu
def test_repr_names_the_device():
    t = ember.tensor([1.0, 2.0], device="cuda")
    assert "device='cuda:0'" in repr(t)
    assert repr(t) == "tensor([1., 2.], device='cuda:0')"
    assert "device='cuda:0'" in repr(ember.ones(2, device="cuda", requires_grad=True))
    assert "device=" not in repr(ember.tensor([1.0, 2.0]))


@requires_gpu
@pytest.mark.parametrize("dtype, np_dtype", DTYPES, ids=[str(d) for d, _ in DTYPES])
def test_round_trip_every_dtype(dtype, np_dtype):
    a = (np.arange(24).reshape(4, 6) % 5).astype(np_dtype)
    x = ember.tensor(a)
    assert x.dtype == dtype
    for y in (x.cuda(), x.to("cuda"), x.to(device="cuda"), x.to(ember.device("cuda:0"))):
        on_cuda(y)
        assert y.dtype == dtype
        back = y.cpu()
        assert back.device.type == "cpu" and back.dtype == dtype
        np.testing.assert_array_equal(back.numpy(), a)
        assert back.numpy().dtype == np_dtype
    # non-contiguous on either side
    np.testing.assert_array_equal(x.t().cuda().cpu().numpy(), a.T)
    np.testing.assert_array_equal(x.cuda().t().cpu().numpy(), a.T)
    np.testing.assert_array_equal(x.cuda()[1:, ::2].cpu().numpy(), a[1:, ::2])


@requires_gpu
def test_round_trip_keeps_values_and_is_a_copy():
    a = uniform((4, 6))
    x = ember.tensor(a)
    y = x.cuda()
    np.testing.assert_array_equal(y.cpu().numpy(), a)
    x.add_(1.0)  # the device copy does not share the host memory
    np.testing.assert_array_equal(y.cpu().numpy(), a)
    y.mul_(2.0)
    np.testing.assert_array_equal(y.cpu().numpy(), a * 2)
    np.testing.assert_array_equal(x.numpy(), a + 1)


@requires_gpu
def test_to_with_dtype_and_no_op_moves():
    x = ember.tensor(uniform((3, 5)))
    y = x.to("cuda", dtype=ember.float64)
    on_cuda(y)
    assert y.dtype == ember.float64
    np.testing.assert_array_equal(y.cpu().numpy(), x.numpy().astype(np.float64))
    z = x.to("cuda", ember.float16)
    assert z.dtype == ember.float16 and z.is_cuda
    assert y.to(ember.float32).is_cuda  # a dtype alone keeps the device
    # already where asked: the same tensor comes back, as in PyTorch
    assert y.cuda() is y
    assert y.to("cuda") is y
    assert x.cpu() is x
    # to(other) takes the other tensor's device and dtype
    w = x.to(y)
    assert w.is_cuda and w.dtype == ember.float64


@requires_gpu
@pytest.mark.parametrize("view", ["transpose", "slice", "permute", "expand"])
def test_non_contiguous_round_trip(view):
    a = uniform((4, 6, 8))
    x = ember.tensor(a)
    views = {
        "transpose": (lambda t: t.transpose(0, 2), lambda n: n.transpose(2, 1, 0)),
        "slice": (lambda t: t[1:3, ::2, 1::3], lambda n: n[1:3, ::2, 1::3]),
        "permute": (lambda t: t.permute(1, 2, 0), lambda n: n.transpose(1, 2, 0)),
        "expand": (lambda t: t[:, :1, :].expand(4, 5, 8), lambda n: np.broadcast_to(n[:, :1, :], (4, 5, 8))),
    }
    f, np_f = views[view]
    np.testing.assert_array_equal(f(x).cuda().cpu().numpy(), np_f(a))  # host view -> device
    y = f(x.cuda())  # device view -> host
    on_cuda(y)
    np.testing.assert_array_equal(y.cpu().numpy(), np_f(a))
    np.testing.assert_array_equal(y.contiguous().cpu().numpy(), np_f(a))
    assert y.contiguous().is_contiguous() and y.contiguous().is_cuda


@requires_gpu
def test_item_on_cuda_scalars():
    assert ember.tensor(3.5, device="cuda").item() == 3.5
    assert ember.ones(3, device="cuda").sum().item() == 3.0
    i = ember.tensor(7, device="cuda").item()
    assert i == 7 and isinstance(i, int)
    b = (ember.ones(1, device="cuda") > 0).item()
    assert b is True
    assert ember.tensor([2.0], device="cuda", dtype=ember.float64).item() == 2.0
    assert ember.arange(6, device="cuda").tolist() == [0, 1, 2, 3, 4, 5]


# ---------------------------------------------------------------------------------------------------------------
# Elementwise, reductions, products
# ---------------------------------------------------------------------------------------------------------------

UNARY = {
    "neg": (lambda t: t.neg(), -2.0, 2.0),
    "abs": (lambda t: t.abs(), -2.0, 2.0),
    "exp": (lambda t: t.exp(), -2.0, 2.0),
    "log": (lambda t: t.log(), 0.1, 3.0),
    "sqrt": (lambda t: t.sqrt(), 0.1, 3.0),
    "tanh": (lambda t: t.tanh(), -3.0, 3.0),
    "sigmoid": (lambda t: t.sigmoid(), -4.0, 4.0),
    "relu": (lambda t: t.relu(), -2.0, 2.0),
    "sin": (lambda t: t.sin(), -3.0, 3.0),
    "cos": (lambda t: t.cos(), -3.0, 3.0),
    "floor": (lambda t: t.floor(), -3.0, 3.0),
    "reciprocal": (lambda t: t.reciprocal(), 0.2, 3.0),
    "erf": (lambda t: t.erf(), -2.0, 2.0),
}


@requires_gpu
@pytest.mark.parametrize("dtype", [ember.float32, ember.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", list(UNARY))
def test_unary_forward(name, dtype):
    fn, low, high = UNARY[name]
    cpu, gpu = pair(uniform((5, 7), low, high), dtype=dtype)
    assert_close(fn(gpu), fn(cpu))
    # non-contiguous input
    assert_close(fn(gpu.t()), fn(cpu.t()))
    assert_close(fn(gpu[::2, 1::3]), fn(cpu[::2, 1::3]))
    # the function spelling, where ember has one
    if hasattr(ember, name):
        assert_close(getattr(ember, name)(gpu), getattr(ember, name)(cpu))


SPECIAL_UNARY = """neg abs sign sgn exp exp2 expm1 log log2 log10 log1p sqrt rsqrt reciprocal sin cos tan tanh sinh cosh
asin acos atan asinh acosh atanh sigmoid relu erf erfc erfinv floor ceil round trunc frac square lgamma digamma
signbit isnan isinf isfinite isposinf isneginf nan_to_num logit i0 sinc""".split()


@requires_gpu
@pytest.mark.parametrize("name", SPECIAL_UNARY)
def test_unary_ops_give_the_cpus_answers_at_special_values(name):
    # infinities, signed zeros, NaN and the edges of the domains: the same answer (and sign) on both devices
    values = np.array([-np.inf, -2.5, -1.0, -0.5, -0.0, 0.0, 0.5, 1.0, 2.5, np.inf, np.nan], dtype=np.float64)
    for dtype in (ember.float32, ember.float64):
        cpu = ember.tensor(values, dtype=dtype)
        expected = getattr(ember, name)(cpu)
        got = getattr(ember, name)(cpu.cuda()).cpu()
        assert got.dtype == expected.dtype
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6, atol=0, equal_nan=True, err_msg=name)
        assert np.array_equal(np.signbit(got.numpy()), np.signbit(expected.numpy())), name


@requires_gpu
def test_clamp_with_nan_and_infinite_values_and_bounds_gives_the_cpus_answers():
    values = ember.tensor([np.nan, -np.inf, -2.0, -0.0, 0.5, 3.0, np.inf], dtype=ember.float64)
    for bounds in ((0.0, None), (None, 1.0), (-1.0, 1.0), (np.nan, None), (None, np.nan), (-np.inf, np.inf)):
        np.testing.assert_array_equal(values.cuda().clamp(*bounds).cpu().numpy(), values.clamp(*bounds).numpy())


@requires_gpu
def test_uint64_from_2_to_the_63_up_on_the_device():
    big = 2**64 - 2
    t = ember.tensor([big, 5], dtype=ember.uint64, device="cuda")
    assert int(t[0]) == big and t.tolist() == [big, 5] and t.double().tolist() == [float(big), 5.0]
    # computed in int64 as on the CPU, whose error comes at the next wait (Note [Deferred index errors])
    words = r"cannot hold this op's value of 2\*\*63 or more"
    for compute in (lambda x: x + 1, lambda x: x.max(), lambda x: x < 3, lambda x: x.expand(3, 2)[:, ::2].sum()):
        with pytest.raises(RuntimeError, match=words):
            compute(t.cpu())
        queued = compute(t)
        with pytest.raises(RuntimeError, match=words):
            queued.cpu()
    assert (t[1:] + 1).tolist() == [6] and int(t[1:].max()) == 5
    floats = ember.tensor([1.5e19, 3.0, 2.0**63], dtype=ember.float64)
    assert floats.cuda().to(ember.uint64).tolist() == floats.to(ember.uint64).tolist() == [15 * 10**18, 3, 2**63]


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a.abs().add(0.5) ** b,
    "maximum": lambda a, b: ember.maximum(a, b),
    "minimum": lambda a, b: ember.minimum(a, b),
    "eq": lambda a, b: a.round() == b.round(),
    "lt": lambda a, b: a < b,
    "ge": lambda a, b: a.round() >= b.round(),
    "logical_and": lambda a, b: ember.logical_and(a > 0, b > 0),
}


def binary_inputs(dtype):
    """(3, 1, 4) and (5, 1) operands, away from 0 (div), as CPU and CUDA tensors."""
    a = uniform((3, 1, 4), seed=1)
    b = uniform((5, 1), seed=2)
    b = np.where(np.abs(b) < 0.25, 0.5, b).astype(np.float32)
    return pair(a, dtype=dtype), pair(b, dtype=dtype), a, b


@requires_gpu
@pytest.mark.parametrize("dtype", [ember.float32, ember.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", list(BINARY))
def test_binary_forward_broadcasting(name, dtype):
    fn = BINARY[name]
    (a_cpu, a_gpu), (b_cpu, b_gpu), _, _ = binary_inputs(dtype)
    out = fn(a_gpu, b_gpu)
    assert tuple(out.shape) == (3, 5, 4)
    assert_close(out, fn(a_cpu, b_cpu))
    assert_close(fn(b_gpu, a_gpu), fn(b_cpu, a_cpu))


@requires_gpu
@pytest.mark.parametrize("name", list(BINARY))
def test_binary_forward_non_contiguous(name):
    fn = BINARY[name]
    a, b = uniform((6, 8), seed=3), uniform((8, 6), seed=4)
    b = np.where(np.abs(b) < 0.25, 0.5, b).astype(np.float32)
    (a_cpu, a_gpu), (b_cpu, b_gpu) = pair(a), pair(b)
    # a transposed operand, a strided slice, and a broadcast row of a transpose
    assert_close(fn(a_gpu, b_gpu.t()), fn(a_cpu, b_cpu.t()))
    assert_close(fn(a_gpu[::2, 1:], b_gpu.t()[::2, 1:]), fn(a_cpu[::2, 1:], b_cpu.t()[::2, 1:]))
    assert_close(fn(a_gpu.t(), b_gpu[:1]), fn(a_cpu.t(), b_cpu[:1]))


@requires_gpu
@pytest.mark.parametrize("dtype", [ember.float32, ember.float64], ids=["float32", "float64"])
def test_binary_with_python_scalars(dtype):
    cpu, gpu = pair(uniform((4, 5), 0.5, 2.0), dtype=dtype)
    for fn in (
        lambda t: t + 1.5,
        lambda t: 2 - t,
        lambda t: t * 3,
        lambda t: 1 / t,
        lambda t: t**2,
        lambda t: 2.0**t,
        lambda t: t > 1.0,
        lambda t: ember.maximum(t, ember.tensor(1.0, dtype=dtype, device=t.device)),
    ):
        out = fn(gpu)
        assert_close(out, fn(cpu))
        if out.is_floating_point():
            assert out.dtype == dtype  # a Python scalar does not widen the tensor's dtype


@requires_gpu
def test_zero_dim_cpu_tensor_mixes_with_cuda_tensor():
    # PyTorch lets a 0-d CPU tensor take part in an op on CUDA tensors, as it would a Python scalar
    cpu, gpu = pair(uniform((3, 4)))
    s = ember.tensor(2.5)
    for fn in (lambda t: t + s, lambda t: s * t, lambda t: t / s, lambda t: ember.maximum(t, s), lambda t: t < s):
        out = fn(gpu)
        on_cuda(out)
        assert_close(out, fn(cpu))


@requires_gpu
def test_integer_and_bool_elementwise():
    a, b = np.arange(12).reshape(3, 4) - 5, np.arange(4) + 1
    (a_cpu, a_gpu), (b_cpu, b_gpu) = pair(a), pair(b)
    for fn in (lambda x, y: x + y, lambda x, y: x * y, lambda x, y: x // y, lambda x, y: x % y, lambda x, y: x == y):
        assert_close(fn(a_gpu, b_gpu), fn(a_cpu, b_cpu))
    assert_close((a_gpu > 0) & (b_gpu > 2), (a_cpu > 0) & (b_cpu > 2))
    assert_close(a_gpu.float() / 2, a_cpu.float() / 2)
    assert_close(a_gpu + 0.5, a_cpu + 0.5)  # int tensor with a float scalar gives float32


REDUCTIONS = {
    "sum": lambda t, **kw: t.sum(**kw),
    "mean": lambda t, **kw: t.mean(**kw),
    "amax": lambda t, **kw: t.amax(**kw),
    "amin": lambda t, **kw: t.amin(**kw),
    "prod": lambda t, **kw: t.prod(**kw),
}


@requires_gpu
@pytest.mark.parametrize("dtype", [ember.float32, ember.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", list(REDUCTIONS))
def test_reductions(name, dtype):
    fn = REDUCTIONS[name]
    # positive values near 1: sums do not cancel, products neither overflow nor vanish
    cpu, gpu = pair(uniform((6, 33, 5), 0.8, 1.2), dtype=dtype)
    assert_close(fn(gpu), fn(cpu))
    assert tuple(fn(gpu).shape) == ()
    out = fn(gpu, dim=1, keepdim=True)
    assert tuple(out.shape) == (6, 1, 5)
    assert_close(out, fn(cpu, dim=1, keepdim=True))
    assert_close(fn(gpu, dim=1), fn(cpu, dim=1))
    assert_close(fn(gpu, dim=-1), fn(cpu, dim=-1))
    assert_close(fn(gpu.transpose(0, 2), dim=1), fn(cpu.transpose(0, 2), dim=1))  # non-contiguous input
    if name != "prod":  # prod takes one dim, as in PyTorch
        assert_close(fn(gpu, dim=(0, 2)), fn(cpu, dim=(0, 2)))


@requires_gpu
def test_reductions_of_large_tensors():
    # several blocks per row and more rows than a grid dimension holds at once
    a = uniform((1 << 20,), 0.0, 1.0)
    cpu, gpu = pair(a, dtype=ember.float64)
    assert_close(gpu.sum(), cpu.sum())
    assert_close(gpu.amax(), cpu.amax())
    m = uniform((70000, 3), 0.0, 1.0)
    cpu, gpu = pair(m, dtype=ember.float64)
    assert_close(gpu.sum(dim=1), cpu.sum(dim=1))
    assert_close(gpu.sum(dim=0), cpu.sum(dim=0))


@requires_gpu
@pytest.mark.parametrize("right", [False, True])
def test_searchsorted_and_bucketize_run_on_the_device(right):
    # a binary search per value on the device (no host fallback's warning): ties, NaN last, rows, int32
    boundaries = ember.tensor([1.0, 2.0, 2.0, 3.0, float("nan")])
    values = ember.tensor([[0.0, 2.0, 2.5, float("nan"), 9.0]])
    rows, per_row = ember.sort(ember.randn(3, 7)).values, ember.randn(3, 4)
    unsorted, sorter = boundaries.flip(0), ember.tensor([4, 2, 3, 1, 0])
    cases = [
        ((boundaries, values), {}),
        ((rows, per_row), {"out_int32": True}),
        ((ember.tensor([1, 5, 9]), ember.tensor(6)), {}),
        ((unsorted, values), {"sorter": sorter}),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for (seq, v), kwargs in cases:
            on_gpu = {k: t.cuda() for k, t in kwargs.items() if isinstance(t, ember.Tensor)}
            gpu = ember.searchsorted(seq.cuda(), v.cuda(), right=right, **{**kwargs, **on_gpu})
            assert_close(gpu, ember.searchsorted(seq, v, right=right, **kwargs))
        gpu = ember.bucketize(per_row.cuda(), boundaries.cuda(), right=right)
        assert_close(gpu, ember.bucketize(per_row, boundaries, right=right))


@requires_gpu
@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
def test_scatter_reduce_runs_on_the_device(reduce):
    # atomics on the device (compare-and-swap for prod, amax and amin; NaN wins as on the CPU): the CPU's
    # values for each dtype and include_self, and the gradient; index_reduce through the same kernel
    x = ember.tensor([[1.0, 5.0, float("nan")], [3.0, -4.0, 2.0]], dtype=ember.float64)
    index = ember.tensor([[0, 0, 1], [1, 0, 1]])
    src = ember.tensor([[2.0, -1.0, 7.0], [0.5, 9.0, 3.0]], dtype=ember.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no host fallback
        dtypes = (ember.float64, ember.float32, ember.int64, ember.int32, ember.float16)
        for dtype, include_self in itertools.product(dtypes, (True, False)):
            gpu = (
                x.to(dtype)
                .cuda()
                .scatter_reduce(0, index.cuda(), src.to(dtype).cuda(), reduce, include_self=include_self)
            )
            assert_close(gpu, x.to(dtype).scatter_reduce(0, index, src.to(dtype), reduce, include_self=include_self))
        if reduce != "mean":  # bool: a logical or / and, counted in int32 on the device
            flags, on = x > 2, src > 2
            gpu = flags.cuda().scatter_reduce(0, index.cuda(), on.cuda(), reduce, include_self=False)
            assert_close(gpu, flags.scatter_reduce(0, index, on, reduce, include_self=False))
        grads = []
        for device in ("cuda", "cpu"):
            a, b = x.nan_to_num().to(device).requires_grad_(), src.to(device).requires_grad_()
            a.scatter_reduce(0, index.to(device), b, reduce).sum().backward()
            grads.append((a.grad, b.grad))
        for g, c in zip(*grads):
            assert_close(g, c)
        if reduce != "sum":
            rows = ember.tensor([1, 0])
            assert_close(
                x.cuda().index_reduce(0, rows.cuda(), src.cuda(), reduce), x.index_reduce(0, rows, src, reduce)
            )


@requires_gpu
def test_isin_runs_on_the_device():
    # the test values sorted and a binary search per element; NaN is in nothing
    elements = ember.tensor([[1.0, 2.0, float("nan")], [3.0, 4.0, 5.0]])
    test = ember.tensor([2.0, 5.0, float("nan"), 7.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for invert in (False, True):
            assert_close(
                ember.isin(elements.cuda(), test.cuda(), invert=invert), ember.isin(elements, test, invert=invert)
            )
        assert_close(ember.isin(elements.cuda(), 2.0), ember.isin(elements, 2.0))
        empty = ember.tensor([], dtype=ember.int64, device="cuda")
        assert ember.isin(ember.tensor([1, 2], device="cuda"), empty).cpu().tolist() == [False, False]
        assert ember.searchsorted(ember.tensor([1.0, 2.0, 3.0], device="cuda"), 2.5).item() == 2  # a number
        big = ember.arange(3000.0)
        assert_close(ember.isin(elements.cuda(), big.cuda()), ember.isin(elements, big))


@requires_gpu
def test_uint64_sorts_and_searches_run_on_the_device():
    # compared as uint64 on the device (no host fallback's warning), the CPU's results; values from 2**63 up
    # are refused on both devices (ember computes uint64 in int64)
    values = ember.tensor([2**62 + 3, 5, 2**40 + 1, 0, 7, 2**63 - 1, 5] * 400, dtype=ember.uint64)  # merged chunks
    probes = ember.tensor([6, 2**41, 2**63 - 1], dtype=ember.uint64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = values.cuda()
        pairs = [
            (lambda v: v.sort(stable=True)), (lambda v: v.argsort(descending=True, stable=True)),
            (lambda v: v.topk(5)), (lambda v: v.kthvalue(9)), (lambda v: v.median()), (lambda v: ember.msort(v)),
            (lambda v: ember.unique(v, return_counts=True)), (lambda v: ember.isin(v, probes.to(v.device))),
            (lambda v: ember.searchsorted(v.sort().values, probes.to(v.device), right=True)),
        ]  # fmt: skip
        for op in pairs:
            gpu, cpu = op(x), op(values)
            for a, b in zip(gpu if isinstance(gpu, tuple) else [gpu], cpu if isinstance(cpu, tuple) else [cpu]):
                assert a.device.type == "cuda" and a.dtype == b.dtype
                assert a.cpu().tolist() == b.tolist()


@requires_gpu
def test_repeat_interleave_runs_on_the_device():
    # the repeats' checks and total on the host (one wait, as PyTorch's), the index by searchsorted there
    x = ember.arange(6.0).reshape(3, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no host fallback
        for repeats in (ember.tensor([1, 0, 3]), ember.tensor(2)):
            assert_close(
                ember.repeat_interleave(x.cuda(), repeats.cuda(), dim=0), ember.repeat_interleave(x, repeats, dim=0)
            )
        assert_close(
            ember.repeat_interleave(ember.tensor([2, 0, 1], device="cuda")),
            ember.repeat_interleave(ember.tensor([2, 0, 1])),
        )
        assert_close(
            ember.repeat_interleave(x.cuda(), ember.tensor([1, 2, 1]), dim=0),
            ember.repeat_interleave(x, ember.tensor([1, 2, 1]), dim=0),
        )
    with pytest.raises(RuntimeError, match="repeats can not be negative"):
        ember.repeat_interleave(ember.tensor([1, -1], device="cuda"))


@requires_gpu
@pytest.mark.parametrize("descending", [False, True])
def test_sort_on_the_device_is_the_cpus_stable_order(descending):
    # ties and NaN: the order of kernels/cpu/sort.cpp, NaN last ascending and first descending
    rng = np.random.default_rng(3)
    for shape, dim in [((5, 7), 1), ((3, 1000), -1), ((6, 4, 9), 1), ((2, 3), 0)]:
        a = rng.integers(0, 4, size=shape).astype(np.float32)
        a.flat[1] = np.nan
        a.flat[-1] = np.nan
        cpu, gpu = pair(a)
        vc, ic = cpu.sort(dim, descending=descending)
        vg, ig = gpu.sort(dim, descending=descending)
        np.testing.assert_array_equal(vg.cpu().numpy(), vc.numpy())
        np.testing.assert_array_equal(ig.cpu().numpy(), ic.numpy())
    ints_cpu, ints_gpu = pair(rng.integers(-5, 5, size=(4, 33)))
    assert_close(ints_gpu.topk(6, dim=1, largest=not descending)[1], ints_cpu.topk(6, dim=1, largest=not descending)[1])
    # rows longer than a block sorts: sorted chunks merged on the device, in the same order
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no host fallback
        for shape, dtype in [((3, 2049), np.float32), ((2, 5000), np.float64), ((9000,), np.int64), ((4097,), bool)]:
            a = rng.integers(0, 40, size=shape).astype(dtype)
            if np.issubdtype(dtype, np.floating):
                a.reshape(-1)[::11] = np.nan
            cpu, gpu = pair(a)
            vc, ic = cpu.sort(-1, descending=descending)
            vg, ig = gpu.sort(-1, descending=descending)
            np.testing.assert_array_equal(vg.cpu().numpy(), vc.numpy())
            np.testing.assert_array_equal(ig.cpu().numpy(), ic.numpy())
        long_cpu, long_gpu = pair(rng.normal(size=(2, 7000)).astype(np.float32))
        assert_close(long_gpu.topk(5, largest=not descending)[1], long_cpu.topk(5, largest=not descending)[1])
        assert_close(long_gpu.kthvalue(4000)[0], long_cpu.kthvalue(4000)[0])


def emulation_count(what):
    """The host emulation's count of `what` ("waits" for the device, kernel "launches"); None on a real GPU."""
    if os.environ.get("EMBER_CUDA_BACKEND") != "emulated":
        return None
    import ctypes

    lib = ctypes.CDLL(str(pathlib.Path(ember.__file__).parent / "libember_cuda_emulated.so"))
    counter = getattr(lib, f"ember_emulation_{what}")
    counter.restype = ctypes.c_ulonglong
    return counter()


def emulation_waits():
    return emulation_count("waits")


def emulation_launches():
    return emulation_count("launches")


def bad_index_cases():
    x = ember.arange(10.0, device="cuda").reshape(2, 5)
    col = ember.tensor([[5]], device="cuda")
    return [  # (call, exception, the CPU's words)
        (lambda: x[:, ember.tensor([1, 7], device="cuda")], IndexError, "index 7 is out of bounds for dimension 1"),
        (lambda: x.index_select(1, ember.tensor([-1], device="cuda")), IndexError, "index_select(): index -1"),
        (lambda: x.gather(1, col), RuntimeError, "index 5 is out of bounds for dimension 1 with size 5"),
        (lambda: x.scatter_add(1, col, x), RuntimeError, "index 5 is out of bounds"),
        (lambda: x.scatter_reduce(1, col, x, "amax"), RuntimeError, "index 5 is out of bounds"),
        (lambda: x.index_put((ember.tensor([2], device="cuda"),), x[0, 0]), IndexError, "index 2"),
        (lambda: F.cross_entropy(x, ember.tensor([1, 9], device="cuda")), IndexError, "Target 9 is out of bounds"),
    ]


@requires_gpu
def test_index_kernels_check_their_indices_on_the_device():
    # Note [Deferred index errors]: no wait per call; a bad index raises at the device's next wait, with
    # the CPU's words and exception type, and the device works on afterwards
    for call, error, words in bad_index_cases():
        result = call()  # queued: the kernel has not been waited for
        with pytest.raises(error, match=re.escape(words)):
            result.cpu()
        call()
        with pytest.raises(error, match="CUDA_LAUNCH_BLOCKING=1 raises it at its call"):
            ember.cuda.synchronize()
        assert (ember.ones(3, device="cuda") * 2).sum().item() == 6.0  # raised once, then cleared
    # good indices, negative ones wrapping where indexing wraps, give the CPU's values
    x = ember.randn(4, 6, device="cuda")
    i = ember.tensor([-1, 0, 3, 3], device="cuda")
    assert_close(x[i, 1:], x.cpu()[i.cpu(), 1:])
    assert_close(x[i, i.abs() + 1], x.cpu()[i.cpu(), i.cpu().abs() + 1])
    assert_close(x[ember.tensor([1, -2])], x.cpu()[ember.tensor([1, -2])])  # a CPU index of a CUDA tensor


@requires_gpu
@pytest.mark.skipif(os.environ.get("EMBER_CUDA_BACKEND") != "emulated", reason="counts the emulation's waits")
def test_a_training_step_with_indices_never_waits_for_the_device():
    emb, lin = nn.Embedding(50, 16).cuda(), nn.Linear(16, 50).cuda()
    opt = ember.optim.Adam([*emb.parameters(), *lin.parameters()])
    tokens = ember.randint(0, 50, (8, 12), device="cuda")
    targets = ember.randint(0, 50, (96,), device="cuda")

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(lin(emb(tokens)).reshape(-1, 50), targets)
        loss.backward()
        opt.step()
        return loss

    step()  # (Adam's state made)
    x = ember.randn(10, 5, device="cuda")
    i, zero = ember.tensor([1, 3], device="cuda"), ember.tensor(0.0, device="cuda")  # (a copy from the host waits)
    before = emulation_waits()
    for _ in range(3):
        loss = step()
    x[i], x.gather(0, i.view(2, 1).expand(2, 5)), x.index_select(0, i), x.take(i)
    x.index_put_((i,), zero)
    # small tensors from the host are staged in pinned memory (Note [Staged host copies])
    ember.arange(12, device="cuda"), ember.full((3, 3), 2.0, device="cuda"), ember.tensor([[1, 2]], device="cuda")
    assert emulation_waits() == before
    loss.item()
    assert emulation_waits() == before + 1
    x[x > 0], x.masked_select(x < 0), ember.nonzero(x > 1)  # one wait each: the count sizes the result
    assert emulation_waits() == before + 4


@requires_gpu
@pytest.mark.parametrize("make", [
    lambda ps: ember.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    lambda ps: ember.optim.SGD(ps, lr=0.1, maximize=True),
    lambda ps: ember.optim.Adam(ps, lr=0.01, amsgrad=True),
    lambda ps: ember.optim.AdamW(ps, lr=0.01, weight_decay=0.1),
], ids=["sgd-nesterov", "sgd-maximize", "adam-amsgrad", "adamw"])  # fmt: skip
def test_optimizer_steps_many_parameters_in_one_launch(make):
    # Note [Multi-tensor steps]: float32 and float64 parameters (one longer than a chunk), a non-contiguous
    # one and a float16 one step as on the CPU; the contiguous ones of each dtype in one launch
    rng = np.random.default_rng(7)
    shapes = [(3,), (70_000,), (4, 5), (6, 7), (2, 2)]
    dtypes = [ember.float32, ember.float32, ember.float64, ember.float32, ember.float16]
    values = [rng.normal(size=s) for s in shapes]
    grads = [rng.normal(size=s) for s in shapes]

    def run(device):
        ps = [ember.nn.Parameter(ember.tensor(v, dtype=d, device=device)) for v, d in zip(values, dtypes)]
        ps[3] = ember.nn.Parameter(ember.tensor(values[3].T, dtype=dtypes[3], device=device).T)  # not contiguous
        opt = make(ps)
        for step in range(3):
            for p, g in zip(ps, grads):
                p.grad = ember.tensor(g * (step + 1), dtype=p.dtype, device=device).reshape(p.shape)
            opt.step()
        return ps

    gpu, cpu = run("cuda"), run("cpu")
    for g, c in zip(gpu, cpu):
        assert g.is_cuda and g.dtype == c.dtype
        assert_close(
            g, c, rtol=1e-3 if g.dtype == ember.float16 else 1e-5, atol=1e-3 if g.dtype == ember.float16 else 1e-6
        )
    if emulation_launches() is not None:  # the contiguous float32 ones in one launch, the float64 one in another
        ps = [ember.nn.Parameter(ember.tensor(v, dtype=d, device="cuda")) for v, d in zip(values[:4], dtypes[:4])]
        opt = make(ps)
        for p, g in zip(ps, grads):
            p.grad = ember.tensor(g, dtype=p.dtype, device="cuda")
        opt.step()
        before = emulation_launches()
        opt.step()
        assert emulation_launches() - before == 2


@requires_gpu
def test_nonzero_on_the_device():
    # the running count of true elements places each; values as the CPU's for any shape and dtype
    rng = np.random.default_rng(6)
    for shape in [(10, 5), (3, 0, 2), (), (7,), (2, 3, 4)]:
        a = rng.normal(size=shape) * (rng.normal(size=shape) > 0.3)
        for dtype in (ember.float32, ember.int64, ember.bool):
            cpu, gpu = pair(a, dtype=dtype)
            got = ember.nonzero(gpu)
            assert got.device.type == "cuda"
            np.testing.assert_array_equal(got.cpu().numpy(), ember.nonzero(cpu).numpy())
            for g, c in zip(ember.nonzero(gpu, as_tuple=True), ember.nonzero(cpu, as_tuple=True)):
                np.testing.assert_array_equal(g.cpu().numpy(), c.numpy())
    x = ember.tensor([[0.0, float("nan")], [1.0, 0.0]], device="cuda")  # NaN is not zero
    assert ember.nonzero(x).cpu().tolist() == [[0, 1], [1, 0]]


def test_launch_blocking_raises_index_errors_at_the_call():
    if not ember.cuda.is_available():
        pytest.skip("no CUDA GPU")
    script = """
import re, sys, ember, pytest
sys.path.insert(0, "tests")
from test_cuda import bad_index_cases
for call, error, words in bad_index_cases():
    with pytest.raises(error, match=re.escape(words)) as caught:
        call()
    assert "queued earlier" not in str(caught.value)
x = ember.randn(3, 4, device="cuda")
with pytest.raises(IndexError, match="index out of range in self"):
    ember.nn.functional.embedding(ember.tensor([3], device="cuda"), x)
print("raised at the call")
"""
    env = dict(os.environ, CUDA_LAUNCH_BLOCKING="1")
    root = pathlib.Path(__file__).parent.parent
    done = subprocess.run([*python_command(), "-c", script], env=env, cwd=root, capture_output=True, text=True)
    assert "raised at the call" in done.stdout, done.stderr


@requires_gpu
def test_unique_and_median_run_on_the_device():
    # unique: rows sorted by a stable sort per column, then compared with their neighbours; median: the
    # picked place computed on the device. Values, inverse, counts and indices as the CPU's, NaN included.
    rng = np.random.default_rng(5)
    inputs = [
        rng.integers(0, 5, size=(7, 3)).astype(np.float32),
        np.array([[1.0, np.nan], [1.0, np.nan], [0.0, 2.0], [0.0, 2.0]]),
        rng.integers(0, 3, size=(6, 2, 2)),
        rng.integers(0, 2, size=8).astype(bool),
        rng.integers(0, 4, size=3000).astype(np.float16),
        np.zeros((0, 3), np.float32),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no host fallback
        for a in inputs:
            cpu, gpu = pair(a)
            for dim in [None, *range(cpu.dim())] if cpu.numel() else [None, 0]:
                for fn in (ember.unique, ember.unique_consecutive):
                    got = fn(gpu, return_inverse=True, return_counts=True, dim=dim)
                    want = fn(cpu, return_inverse=True, return_counts=True, dim=dim)
                    for g, w in zip(got, want):
                        assert g.device.type == "cuda" and g.dtype == w.dtype
                        np.testing.assert_array_equal(g.cpu().numpy(), w.numpy())
        a = np.array([[1.0, np.nan, 3.0, 2.0], [np.nan] * 4, [2.0, 1.0, np.nan, np.nan], [4.0, 0.0, 1.0, 2.0]])
        cpu, gpu = pair(a)
        for name in ("median", "nanmedian"):
            for got, want in zip(getattr(gpu, name)(1), getattr(cpu, name)(1)):
                np.testing.assert_array_equal(got.cpu().numpy(), want.numpy())
            np.testing.assert_array_equal(getattr(gpu, name)().cpu().numpy(), getattr(cpu, name)().numpy())


@requires_gpu
@pytest.mark.parametrize("dtype", [ember.float32, ember.float64], ids=["float32", "float64"])
def test_layer_norm_on_the_device(dtype):
    # one fused kernel per row on CUDA: values and gradients as the CPU's
    for shape, normalized in [((4, 10), (10,)), ((2, 3, 300), (300,)), ((2, 3, 4, 5), (4, 5)), ((5, 1), (1,))]:
        x_cpu, x_gpu = pair(uniform(shape, -3.0, 3.0), dtype=dtype, requires_grad=True)
        w_cpu, w_gpu = pair(uniform(normalized, 0.5, 1.5, seed=1), dtype=dtype, requires_grad=True)
        b_cpu, b_gpu = pair(uniform(normalized, seed=2), dtype=dtype, requires_grad=True)
        y_cpu = F.layer_norm(x_cpu, normalized, w_cpu, b_cpu, eps=1e-5)
        y_gpu = F.layer_norm(x_gpu, normalized, w_gpu, b_gpu, eps=1e-5)
        assert_close(y_gpu, y_cpu, rtol=1e-4 if dtype == ember.float32 else 1e-10, atol=1e-5)
        assert_close(F.layer_norm(x_gpu, normalized), F.layer_norm(x_cpu, normalized), atol=1e-5)
        g = uniform(shape, seed=3)
        y_cpu.backward(ember.tensor(g, dtype=dtype))
        y_gpu.backward(ember.tensor(g, dtype=dtype, device="cuda"))
        for got, want in [(x_gpu, x_cpu), (w_gpu, w_cpu), (b_gpu, b_cpu)]:
            assert_close(got.grad, want.grad, rtol=1e-4 if dtype == ember.float32 else 1e-9, atol=1e-4)
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        F.layer_norm(ember.randn(2, 4, device="cuda", dtype=dtype), (4,), ember.ones(4, dtype=dtype))
    half = ember.randn(3, 8, device="cuda").half()
    assert F.layer_norm(half, (8,)).dtype == ember.float16  # computed in float32, returned in the input's dtype
    # only the input's gradient wanted (the kernel skips the others), and a second derivative (through ops)
    x_cpu, x_gpu = pair(uniform((3, 7)), dtype=dtype, requires_grad=True)
    w_cpu, w_gpu = pair(uniform((7,), 0.5, 1.5), dtype=dtype)
    grads = []
    for x, w in ((x_cpu, w_cpu), (x_gpu, w_gpu)):
        (gx,) = ember.autograd.grad((F.layer_norm(x, (7,), w) ** 3).sum(), x, create_graph=True)
        (ggx,) = ember.autograd.grad(gx.square().sum(), x)
        grads.append((gx, ggx))
    assert_close(grads[1][0], grads[0][0], rtol=1e-4, atol=1e-4)
    assert_close(grads[1][1], grads[0][1], rtol=1e-3, atol=1e-3)


@requires_gpu
def test_group_norm_and_batch_norm_on_the_device():
    x_cpu, x_gpu = pair(uniform((4, 6, 5, 3), -2.0, 2.0), requires_grad=True)
    w_cpu, w_gpu = pair(uniform((6,), 0.5, 1.5, seed=1), requires_grad=True)
    b_cpu, b_gpu = pair(uniform((6,), seed=2), requires_grad=True)
    g = uniform((4, 6, 5, 3), seed=3)
    for norm in (
        lambda x, w, b: F.group_norm(x, 3, w, b),
        lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
    ):
        y_cpu, y_gpu = norm(x_cpu, w_cpu, b_cpu), norm(x_gpu, w_gpu, b_gpu)
        assert_close(y_gpu, y_cpu, rtol=1e-4, atol=1e-5)
        for t in (x_cpu, w_cpu, b_cpu, x_gpu, w_gpu, b_gpu):
            t.grad = None
        y_cpu.backward(ember.tensor(g))
        y_gpu.backward(ember.tensor(g, device="cuda"))
        for got, want in [(x_gpu, x_cpu), (w_gpu, w_cpu), (b_gpu, b_cpu)]:
            assert_close(got.grad, want.grad, rtol=1e-4, atol=1e-4)
    model = nn.Sequential(nn.Conv2d(6, 4, 3, padding=1), nn.GroupNorm(2, 4), nn.BatchNorm2d(4)).cuda()
    assert model(x_gpu.detach()).shape == (4, 4, 5, 3)
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        F.batch_norm(x_gpu.detach(), None, None, ember.ones(6), training=True)
    # batch norm's backward kernel (a block per channel): float64 to rounding, without a weight, only some
    # gradients wanted; a second derivative (through ops) as the CPU's
    for shape in [(4, 6, 5, 3), (3, 6), (2, 6, 700)]:
        x64_cpu, x64_gpu = pair(uniform(shape), dtype=ember.float64, requires_grad=True)
        w64_cpu, w64_gpu = pair(uniform((6,), 0.5, 1.5, seed=1), dtype=ember.float64, requires_grad=True)
        g64_cpu, g64_gpu = pair(uniform(shape, seed=4), dtype=ember.float64)
        for weighted, wanted in [(True, "xwb"), (False, "x"), (True, "w")]:
            grads = []
            for x, w, g in [(x64_cpu, w64_cpu, g64_cpu), (x64_gpu, w64_gpu, g64_gpu)]:
                y = F.batch_norm(x, None, None, w if weighted else None, w * 0.5 if weighted else None, training=True)
                inputs = [x] * ("x" in wanted) + [w] * (weighted and "w" in wanted)
                grads.append(ember.autograd.grad(y, inputs, g))
            for want, got in zip(*grads):
                assert_close(got, want, rtol=1e-10, atol=1e-12)
        grads = []
        for x, w in [(x64_cpu, w64_cpu), (x64_gpu, w64_gpu)]:
            (gx,) = ember.autograd.grad(
                F.batch_norm(x, None, None, w, training=True).pow(3).sum(), x, create_graph=True
            )
            grads.append(ember.autograd.grad(gx.square().sum(), w))
        assert_close(grads[1][0], grads[0][0], rtol=1e-9)
    # running statistics (from the kernel's mean and biased variance) as the CPU's
    bn_cpu, bn_gpu = nn.BatchNorm2d(6), nn.BatchNorm2d(6).cuda()
    bn_cpu(x_cpu.detach())
    bn_gpu(x_gpu.detach())
    assert_close(bn_gpu.running_mean, bn_cpu.running_mean, atol=1e-6)
    assert_close(bn_gpu.running_var, bn_cpu.running_var, atol=1e-6)


@requires_gpu
def test_integer_division_by_python_numbers():
    # the divisor check runs on the number's own device (it crashed: a CUDA reduction over a host scalar)
    cpu, gpu = pair(np.array([-7, 0, 2, 9]))
    for fn in (
        lambda t: t % 5,
        lambda t: t // 2,
        lambda t: t.remainder(-3),
        lambda t: t.fmod(4),
        lambda t: 11 % (t + 8),
    ):
        assert_close(fn(gpu), fn(cpu))
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        gpu // 0


@requires_gpu
def test_cpu_operands_of_cuda_kernels_get_the_device_error():
    x, target = ember.randn(4, 5, device="cuda"), ember.tensor([0, 1, 2, 3], device="cuda")
    for call in (
        lambda: F.cross_entropy(x, target, weight=ember.ones(5)),
        lambda: ember.where(x > 0, x, ember.zeros(4, 5)),
        lambda: ember.where(x > 0, ember.zeros(4, 5), x),
    ):
        with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
            call()
    assert_close(ember.where(x > 0, x, ember.tensor(0.0)), ember.where(x.cpu() > 0, x.cpu(), ember.tensor(0.0)))


@requires_gpu
def test_cpu_index_mask_and_bias_arguments_get_the_device_error():
    # PyTorch refuses a CPU index/mask of a CUDA tensor in the functional ops (x[cpu_index] is allowed),
    # a 0-d one too; and F.embedding of CUDA indices into a CPU weight
    x = ember.randn(4, 5, device="cuda")
    index, mask = ember.tensor([[0, 1, 2, 3, 0]]), ember.ones(4, 5, dtype=ember.bool)
    for call in (
        lambda: x.gather(0, index),
        lambda: x.scatter(0, index, 1.0),
        lambda: x.scatter_add(0, index, x),
        lambda: x.index_select(0, ember.tensor([0, 2])),
        lambda: x.index_select(0, ember.tensor(1)),
        lambda: x.index_add(0, ember.tensor([0]), x[:1]),
        lambda: x.index_fill(1, ember.tensor([0]), 2.0),
        lambda: x.take(ember.tensor([0, 3])),
        lambda: x.put(ember.tensor([0]), x[0, :1]),
        lambda: x.masked_select(mask),
        lambda: ember.take_along_dim(x, index, 0),
        lambda: F.embedding(ember.tensor([0, 1], device="cuda"), ember.randn(3, 2)),
        lambda: ember.addmm(ember.zeros(4, 2), x, ember.randn(5, 2, device="cuda")),
        lambda: ember.addmm(ember.tensor(0.5), x, x.T),  # PyTorch's addmm takes no 0-d CPU bias either
    ):
        with pytest.raises(RuntimeError, match="found at least two devices, cuda:0 and cpu!"):
            call()
    assert_close(x[ember.tensor([0, 2])], x.cpu()[ember.tensor([0, 2])])  # indexing moves a CPU index


@requires_gpu
def test_new_and_like_functions_follow_the_tensors_device():
    # as PyTorch: x.new_*(...) and *_like(x) on x's device, a transposed x too (strides kept), and a CPU x
    # stays on the CPU under a CUDA default device
    x = ember.ones(2, 3, device="cuda").t()
    made = [x.new_zeros(2), x.new_ones(2), x.new_empty(2), x.new_full((2,), 1.0), x.new_tensor([1, 2])]
    made += [ember.zeros_like(x), ember.ones_like(x), ember.empty_like(x), ember.full_like(x, 2), ember.rand_like(x)]
    assert [t.device.type for t in made] == ["cuda"] * len(made)
    assert ember.zeros_like(x).stride() == x.stride()
    ember.set_default_device("cuda")
    try:
        y = ember.ones(2, 3, device="cpu").t()
        made = [y.new_zeros(2), y.new_tensor([1]), ember.zeros_like(y), ember.full_like(y, 2), ember.ones_like(y)]
        assert [t.device.type for t in made] == ["cpu"] * len(made)
        (y.requires_grad_() * 2).sum().backward()  # the seed gradient on the output's device
        assert y.grad.device.type == "cpu"
    finally:
        ember.set_default_device(None)


@requires_gpu
def test_pickle_brings_cuda_tensors_back_on_their_device():
    x = ember.randn(3, device="cuda", requires_grad=True)
    p = nn.Parameter(ember.randn(2, 2, device="cuda"))
    for original, back in ((x, pickle.loads(pickle.dumps(x))), (p, pickle.loads(pickle.dumps(p))), (x, copy.copy(x))):
        assert back.device == original.device and back.requires_grad == original.requires_grad
        assert_close(back, original.detach().cpu())
    assert isinstance(pickle.loads(pickle.dumps(p)), nn.Parameter)


@requires_gpu
def test_numbers_and_0d_cpu_tensors_join_cuda_ops():
    x = ember.randn(3, 4, device="cuda")
    index = ember.tensor([[0, 2, 1, 0]], device="cuda")
    assert_close(x.scatter(0, index, -1.0), x.cpu().scatter(0, index.cpu(), -1.0))  # a number's 0-d tensor
    assert_close(ember.where(ember.tensor(True), x, -x), x.cpu())  # a 0-d CPU condition
    # int64 numbers past 2**53 stay exact on the way to the device and in kernels
    big = 2**62 + 1
    assert ember.tensor(big).cuda().item() == big
    assert (ember.arange(2, device="cuda") + big).cpu().tolist() == [big, big + 1]


@requires_gpu
@pytest.mark.parametrize("op", ["scatter_reduce_", "index_reduce_"])
def test_in_place_reducing_scatters_give_the_cpus_values_gradients_and_version(op):
    def run(device):
        x = ember.tensor([1.0, 2.0, 3.0, 4.0], dtype=ember.float64, device=device, requires_grad=True)
        src = ember.tensor([5.0, 0.5, 7.0], dtype=ember.float64, device=device, requires_grad=True)
        y = x * 1
        getattr(y, op)(0, ember.tensor([0, 0, 3], device=device), src, "amax" if op == "scatter_reduce_" else "prod")
        assert y._version == 1
        (y * ember.arange(1.0, 5.0, dtype=ember.float64, device=device)).sum().backward()
        return y, x.grad, src.grad

    for gpu, cpu in zip(run("cuda"), run("cpu")):
        assert_close(gpu, cpu)


@requires_gpu
@pytest.mark.parametrize("op", ["index_reduce", "index_reduce_"])
def test_the_host_fallback_warns_once_and_runs_the_cpus_op(op):
    # Note [CUDA host fallback]: a case no CUDA kernel takes (today bool index_reduce) runs on host copies,
    # with PyTorch MPS's warning; here the CPU refuses it, as PyTorch does, and the warning came first
    flags = ember.tensor([True, False], device="cuda")
    with pytest.warns(UserWarning, match=f"The operator '{op}' is not currently supported on the CUDA backend"):
        with pytest.raises(NotImplementedError, match="bool tensors are not supported"):
            getattr(flags, op)(0, ember.tensor([0, 0], device="cuda"), flags, "amax")


@requires_gpu
@pytest.mark.parametrize("dtype", [ember.float16, ember.bfloat16], ids=["float16", "bfloat16"])
def test_cross_entropy_of_half_floats(dtype):
    # computed in float32 as on the CPU; the gradient's scatter adds in float32 too
    logits, target = ember.randn(6, 5).to(dtype), ember.tensor([0, 1, 4, 2, 2, 3])
    gpu_in, cpu_in = logits.cuda().requires_grad_(), logits.clone().requires_grad_()
    gpu, cpu = F.cross_entropy(gpu_in, target.cuda()), F.cross_entropy(cpu_in, target)
    gpu.backward()
    cpu.backward()
    assert gpu.dtype == dtype and gpu_in.grad.dtype == dtype
    assert_close(gpu.float(), cpu.float(), rtol=1e-2, atol=1e-2)
    assert_close(gpu_in.grad.float(), cpu_in.grad.float(), rtol=1e-2, atol=1e-2)


@requires_gpu
def test_copy_from_another_device_sends_the_gradient_back_there():
    # PyTorch's CopyBackwards: the source's gradient on the source's device
    src = ember.randn(3, dtype=ember.float64, requires_grad=True)
    dst = ember.zeros(3, dtype=ember.float64, device="cuda")
    dst.copy_(src)
    (dst * 2).sum().backward()
    assert src.grad.device.type == "cpu" and src.grad.tolist() == [2.0, 2.0, 2.0]
    back = ember.zeros(3, dtype=ember.float64)
    gpu_src = ember.randn(3, dtype=ember.float64, device="cuda", requires_grad=True)
    back.copy_(gpu_src)
    (back * 3).sum().backward()
    assert gpu_src.grad.device.type == "cuda" and gpu_src.grad.cpu().tolist() == [3.0, 3.0, 3.0]


@requires_gpu
def test_anomaly_mode_finds_nan_gradients_on_the_device():
    # the NaN check runs on the gradient's device (it read device memory on the host before)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with ember.autograd.detect_anomaly():
            a = ember.tensor([0.0], device="cuda", requires_grad=True)
            with pytest.raises(RuntimeError, match="Function 'DivBackward0' returned nan values in its 1th output"):
                (a / a).sum().backward()


@requires_gpu
@pytest.mark.parametrize("dtype", [ember.float16, ember.bfloat16], ids=["float16", "bfloat16"])
def test_a_half_float_network_trains_on_the_device_as_on_the_cpu(dtype):
    # conv, max pooling's backward (its atomics add in float32), cross_entropy and the fused Adam and
    # SGD steps in half floats; rand in half floats stays below 1
    assert float(ember.rand(4096, device="cuda", dtype=dtype).max()) < 1.0
    ember.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16, 3))
    cpu_model = model.to(dtype)
    gpu_model = copy.deepcopy(cpu_model).cuda()
    x, y = ember.randn(8, 1, 4, 4).to(dtype), ember.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    for optimizer in (ember.optim.Adam, ember.optim.SGD):
        losses = {}
        for device, m in (("cpu", cpu_model), ("cuda", gpu_model)):
            opt = optimizer(m.parameters(), lr=1e-2, **({"momentum": 0.9} if optimizer is ember.optim.SGD else {}))
            for _ in range(3):
                opt.zero_grad()
                loss = F.cross_entropy(m(x.to(device)), y.to(device))
                loss.backward()
                opt.step()
            losses[device] = loss.float().item()
            assert all(p.dtype == dtype and p.device.type == device for p in m.parameters())
        assert abs(losses["cuda"] - losses["cpu"]) <= 0.05 * abs(losses["cpu"]) + 0.02, losses


@requires_gpu
def test_copies_between_devices_keep_a_dense_layout():
    # as PyTorch's preserve_format: channels_last (or any dense permutation) stays so on the other device
    x = ember.randn(2, 3, 4, 5).to(memory_format=ember.channels_last)
    on_gpu = x.cuda()
    assert on_gpu.stride() == x.stride() and on_gpu.is_contiguous(memory_format=ember.channels_last)
    assert on_gpu.cpu().stride() == x.stride() and ember.zeros_like(on_gpu).stride() == x.stride()
    assert ember.empty(2, 3, 4, 5, memory_format=ember.channels_last, device="cuda").stride() == x.stride()
    assert x[:, :, ::2].cuda().is_contiguous()  # not dense: row-major
    assert_close(on_gpu, x)


@requires_gpu
def test_profiler_records_the_shapes_of_cuda_ops():
    from ember.profiler import profile

    x, w = ember.randn(3, 4, device="cuda"), ember.randn(4, 2, device="cuda")
    with profile(record_shapes=True) as prof:
        (x @ w).relu()
    shapes = {e.name: e.input_shapes for e in prof.events() if e.kind == "cpu_op"}
    assert shapes["aten::matmul"] == [[3, 4], [4, 2]] and shapes["aten::relu"] == [[3, 2]]


@requires_gpu
def test_profiler_counts_cuda_memory_apart_from_host_memory():
    from ember.profiler import profile

    x = ember.randn(64, 32, device="cuda")
    with profile(profile_memory=True) as prof:
        y = (x @ x.T).relu()  # two 64x64 float32 results on the device
        h = ember.ones(100, dtype=ember.float64) * 2  # 800 bytes on the host
    events = {e.name: e for e in prof.events()}
    matmul, mul = events["aten::matmul"], events["aten::mul"]
    assert matmul.self_device_memory_usage == matmul.self_cuda_memory_usage >= y.numel() * 4
    assert matmul.self_cpu_memory_usage == 0 and mul.self_device_memory_usage == 0 and mul.self_cpu_memory_usage >= 800
    averages = {e.key: e for e in prof.key_averages()}
    assert averages["aten::relu"].cuda_memory_usage >= y.numel() * 4
    table = prof.key_averages().table(sort_by="self_cuda_memory_usage")
    assert "Self CUDA Mem" in table and "Self CPU Mem" in table
    del h


@requires_gpu
def test_new_cuda_tensors_start_at_version_0():
    # as PyTorch's (and ember's CPU) creation functions: filling a new tensor is not a write to count
    for make in (ember.zeros, ember.ones, ember.rand, ember.randn, ember.empty):
        t = make(3, device="cuda")
        assert t._version == 0, make.__name__
    t = ember.ones(3, device="cuda")
    t.add_(1)
    assert t._version == 1


@requires_gpu
@pytest.mark.parametrize("exponent", [0.5, -0.5, 2.0])
def test_pow_by_a_number_keeps_the_cpus_signed_zeros_and_nans(exponent):
    # x ** 0.5 is sqrt(x) as in PyTorch: (-0.0) ** 0.5 is -0.0 and (-inf) ** 0.5 NaN (C's pow: 0.0, inf)
    cpu = ember.tensor([-0.0, 0.0, -np.inf, np.inf, -1.0, 4.0, np.nan])
    got, want = (cpu.cuda() ** exponent).cpu().numpy(), (cpu**exponent).numpy()
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


@requires_gpu
def test_argmax_and_max_with_indices():
    cpu, gpu = pair(uniform((7, 9)))
    assert_close(gpu.argmax(dim=1), cpu.argmax(dim=1))
    values, indices = gpu.max(dim=0)
    cpu_values, cpu_indices = cpu.max(dim=0)
    assert_close(values, cpu_values)
    assert_close(indices, cpu_indices)


@requires_gpu
@pytest.mark.parametrize("dtype", [ember.float32, ember.float64], ids=["float32", "float64"])
def test_matmul_family(dtype):
    def p(shape, seed):
        return pair(uniform(shape, -1.0, 1.0, seed=seed), dtype=dtype)

    a, b = p((5, 16), 1), p((16, 3), 2)
    c, d = p((4, 5, 16), 3), p((4, 16, 3), 4)
    e, f = p((2, 1, 5, 16), 5), p((3, 16, 4), 6)
    bias, x, w = p((3,), 7), p((8, 16), 8), p((3, 16), 9)
    v = p((16,), 10)
    cases = [
        (lambda a, b: ember.mm(a, b), a, b),
        (lambda a, b: a @ b, a, b),
        (lambda c, d: ember.bmm(c, d), c, d),
        (lambda e, f: ember.matmul(e, f), e, f),  # (2, 1, 5, 16) @ (3, 16, 4) -> (2, 3, 5, 4)
        (lambda c, v: c @ v, c, v),  # matrix-vector, batched
        (lambda v, b: v @ b, v, b),
        (lambda x, w: x @ w.t(), x, w),  # a transposed operand, as Linear does it
        (lambda a, b: a.t().t() @ b.t().contiguous().t(), a, b),
        (lambda a, b: a[::2] @ b[:, ::2], a, b),  # strided slices
    ]
    for fn, (l_cpu, l_gpu), (r_cpu, r_gpu) in cases:
        assert_close(fn(l_gpu, r_gpu), fn(l_cpu, r_cpu), tol=TOL_SUMS)
    (b_cpu, b_gpu), (x_cpu, x_gpu), (w_cpu, w_gpu) = bias, x, w
    assert_close(ember.addmm(b_gpu, x_gpu, w_gpu.t()), ember.addmm(b_cpu, x_cpu, w_cpu.t()), tol=TOL_SUMS)
    assert_close(
        ember.addmm(b_gpu, x_gpu, w_gpu.t(), beta=0.5, alpha=2.0),
        ember.addmm(b_cpu, x_cpu, w_cpu.t(), beta=0.5, alpha=2.0),
        tol=TOL_SUMS,
    )
    assert tuple(ember.matmul(e[1], f[1]).shape) == (2, 3, 5, 4)


@requires_gpu
def test_matmul_float32_is_not_tf32():
    # PyTorch's default for float32 products is full float32 (allow_tf32 False): 10 mantissa bits would miss this
    a = ember.tensor([[1.0 + 2.0**-20]], device="cuda")
    b = ember.tensor([[1.0]], device="cuda")
    assert (a @ b).item() == 1.0 + 2.0**-20


@requires_gpu
@pytest.mark.parametrize("dtype", [ember.float32, ember.float64], ids=["float32", "float64"])
def test_softmax_log_softmax_cross_entropy(dtype):
    cpu, gpu = pair(uniform((4, 5, 6), -3.0, 3.0), dtype=dtype)
    for dim in (0, 1, -1):
        assert_close(F.softmax(gpu, dim=dim), F.softmax(cpu, dim=dim))
        assert_close(F.log_softmax(gpu, dim=dim), F.log_softmax(cpu, dim=dim))
        assert_close(gpu.softmax(dim), cpu.softmax(dim))
    assert_close(F.softmax(gpu.transpose(0, 2), dim=-1), F.softmax(cpu.transpose(0, 2), dim=-1))
    # a row of 1000 classes, and large logits (the max is subtracted)
    wide_cpu, wide_gpu = pair(uniform((3, 1000), -50.0, 50.0), dtype=dtype)
    assert_close(F.log_softmax(wide_gpu, dim=1), F.log_softmax(wide_cpu, dim=1), rtol=1e-5, atol=1e-4)
    logits_cpu, logits_gpu = pair(uniform((8, 10), -3.0, 3.0), dtype=dtype)
    target = np.array([0, 3, 9, 1, 1, 5, 2, 7])
    t_cpu, t_gpu = pair(target)
    for kw in ({}, {"reduction": "sum"}, {"reduction": "none"}, {"label_smoothing": 0.1}):
        assert_close(F.cross_entropy(logits_gpu, t_gpu, **kw), F.cross_entropy(logits_cpu, t_cpu, **kw))
    assert_close(nn.CrossEntropyLoss()(logits_gpu, t_gpu), nn.CrossEntropyLoss()(logits_cpu, t_cpu))


# ---------------------------------------------------------------------------------------------------------------
# Autograd
# ---------------------------------------------------------------------------------------------------------------


def grads_match(fn, arrays, dtype=ember.float32, tol=TOL_SUMS):
    """fn(*leaves) -> scalar loss, run on CPU leaves and on CUDA leaves: same loss, same .grad, grads on CUDA."""
    cpu = [ember.tensor(a, dtype=dtype, requires_grad=True) for a in arrays]
    gpu = [ember.tensor(a, dtype=dtype, device="cuda", requires_grad=True) for a in arrays]
    loss_cpu, loss_gpu = fn(*cpu), fn(*gpu)
    assert_close(loss_gpu, loss_cpu, tol=tol)
    loss_cpu.backward()
    loss_gpu.backward()
    for g, c in zip(gpu, cpu):
        assert g.grad is not None
        on_cuda(g.grad)
        assert_close(g.grad, c.grad, tol=tol)


@requires_gpu
@pytest.mark.parametrize("dtype", [ember.float32, ember.float64], ids=["float32", "float64"])
def test_autograd_elementwise(dtype):
    grads_match(lambda x, y: (x.exp() * y).sum(), [uniform((4, 5), seed=1), uniform((4, 5), seed=2)], dtype)
    grads_match(
        lambda x, b: ((x + b).tanh() * x.sigmoid() / (b.abs() + 1)).mean(),  # b broadcasts: its grad is summed
        [uniform((3, 4), seed=3), uniform((4,), seed=4)],
        dtype,
    )
    grads_match(lambda x: (x.t()[1:] ** 2).sum() + x.log_softmax(dim=1).amax(), [uniform((5, 6), seed=5)], dtype)


@requires_gpu
@pytest.mark.parametrize("dtype", [ember.float32, ember.float64], ids=["float32", "float64"])
def test_autograd_through_matmul_and_cross_entropy(dtype):
    x, w = uniform((8, 16), -1.0, 1.0, seed=1), uniform((16, 10), -1.0, 1.0, seed=2)
    target = np.array([0, 3, 9, 1, 1, 5, 2, 7])
    grads_match(lambda x, w: (x @ w).relu().mean(), [x, w], dtype)
    grads_match(lambda x, w, b: F.linear(x, w.t(), b).softmax(-1)[:, 0].sum(), [x, w, uniform((10,))], dtype)

    def ce(x, w):
        t = ember.tensor(target, device=x.device)
        return F.cross_entropy(x @ w, t)

    grads_match(ce, [x, w], dtype)


@requires_gpu
def test_autograd_accumulates_and_crosses_devices():
    x = ember.ones(3, device="cuda", requires_grad=True)
    (x * 2).sum().backward()
    (x * 3).sum().backward()
    assert_close(x.grad, ember.full((3,), 5.0))
    # a CPU leaf moved to the GPU gets its gradient back on the CPU (ToCopyBackward0)
    leaf = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    ((leaf.cuda() ** 2).sum()).backward()
    assert leaf.grad.device.type == "cpu"
    np.testing.assert_allclose(leaf.grad.numpy(), [2.0, 4.0, 6.0])
    # and a CUDA leaf used on the CPU gets it on the GPU
    g = ember.tensor([1.0, 2.0], device="cuda", requires_grad=True)
    (g.cpu() * 3).sum().backward()
    assert_close(g.grad, ember.tensor([3.0, 3.0]))
    # ember.autograd.grad on CUDA
    y = ember.tensor([0.5, -1.0], device="cuda", requires_grad=True)
    (dy,) = ember.autograd.grad((y**3).sum(), y)
    assert_close(dy, ember.tensor([0.75, 3.0]))


@requires_gpu
def test_gradcheck_on_cuda_float64():
    rng = np.random.default_rng(0)

    def leaf(*shape):
        return ember.tensor(rng.uniform(-1, 1, shape), dtype=ember.float64, device="cuda", requires_grad=True)

    x, w, b = leaf(4, 5), leaf(5, 3), leaf(3)

    def f(x, w, b):
        h = (x @ w + b).tanh()
        return F.log_softmax(h * x[:, :3].sigmoid(), dim=1).sum(dim=0) + x.exp().mean()

    assert ember.autograd.gradcheck(f, (x, w, b), eps=1e-6, atol=1e-5, rtol=1e-3)
    assert ember.autograd.gradgradcheck(lambda x: (x.sin() * x).sum(dim=1), (x,), eps=1e-6, atol=1e-5, rtol=1e-3)


@requires_gpu
def test_backward_runs_cuda_nodes_on_the_device_thread_and_cpu_nodes_on_the_caller():
    # as PyTorch's engine: a device's nodes (and the hooks of its tensors) run on that device's own thread
    caller, seen = threading.get_ident(), {}
    x = ember.ones(3, device="cuda", requires_grad=True)
    c = ember.ones(3, requires_grad=True)
    y, z = x * 2, c * 3
    y.register_hook(lambda g: seen.update(cuda=threading.get_ident()))
    z.register_hook(lambda g: seen.update(cpu=threading.get_ident()))
    (y.sum() + z.sum().to("cuda")).backward()
    assert seen["cpu"] == caller
    assert seen["cuda"] != caller
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(c.grad.numpy(), [3.0, 3.0, 3.0])


@requires_gpu
def test_error_in_a_cuda_node_reaches_the_caller_and_the_engine_goes_on():
    x = ember.ones(4, device="cuda", requires_grad=True)

    def fail(g):
        raise ValueError("hook failed on the device thread")

    cpu_side = ember.ones(4, requires_grad=True)
    y = x.exp()
    y.register_hook(fail)
    with pytest.raises(ValueError, match="hook failed on the device thread"):
        (y.sum() + (cpu_side * 2).sum().cuda()).backward()
    x2 = ember.ones(4, device="cuda", requires_grad=True)
    (x2 * 5).sum().backward()  # the device thread is free again
    np.testing.assert_array_equal(x2.grad.cpu().numpy(), [5.0] * 4)


@requires_gpu
def test_error_on_the_caller_while_a_device_node_runs_does_not_hang():
    # the caller fails a CPU node while the device thread is inside a slow node whose results would queue
    # more CPU work: the pass must drain and raise, not wait for work nobody will run
    import time

    c = ember.ones(3, requires_grad=True)
    on_gpu = c.to("cuda")  # its node runs on the device thread and hands c's gradient to the caller
    on_gpu.register_hook(lambda g: time.sleep(0.4))
    y = on_gpu * 2
    z = ember.ones(3, requires_grad=True) * 3

    def fail(g):
        time.sleep(0.1)  # the device thread is inside the slow node by now
        raise ValueError("CPU hook failed")

    z.register_hook(fail)
    loss = y.sum() + z.sum().cuda()
    outcome = []

    def run():
        try:
            loss.backward()
        except ValueError as e:
            outcome.append(str(e))

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive(), "backward hung after an error"
    assert outcome == ["CPU hook failed"]


class _GradInsideBackward(ember.autograd.Function):
    """A backward that runs another backward (as checkpointing does), on whatever device x is."""

    @staticmethod
    def forward(ctx, x):
        return x * 1

    @staticmethod
    def backward(ctx, g):
        w = ember.ones(2, device="cuda", requires_grad=True)
        with ember.enable_grad():  # backward runs without grad mode, as in PyTorch
            (gw,) = ember.autograd.grad((w * 3).sum(), w)
        return g * gw.sum().to(g.device)


@requires_gpu
@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_backward_inside_backward_while_the_pass_holds_cuda_nodes(device):
    # from a CPU node on the caller (the nested pass uses the device thread the outer one waits on) and from a
    # CUDA node on the device thread (the nested pass runs there)
    x = ember.ones(3, device="cuda", requires_grad=True)
    out = _GradInsideBackward.apply(x.to(device)).sum()
    out.backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [6.0] * 3)


class _MakesTensorsInBackward(ember.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 1

    @staticmethod
    def backward(ctx, g):
        _MakesTensorsInBackward.made = [ember.zeros(2), ember.arange(3), ember.tensor([1.0]), ember.get_rng_state()]
        return g


@requires_gpu
def test_tensors_made_in_a_cuda_nodes_python_backward_go_where_it_says():
    # the node's device steers its formulas' own results, never the Python code it calls (CPU by default)
    x = ember.ones(3, device="cuda", requires_grad=True)
    _MakesTensorsInBackward.apply(x).sum().backward()
    assert [t.device.type for t in _MakesTensorsInBackward.made] == ["cpu"] * 4


@requires_gpu
def test_reentrant_backward_2000_deep_on_cuda():
    # nested passes move to a fresh thread every 32 levels; from a device thread they stay serial there.
    # 2000 levels hold 63 threads at once, each launching kernels (on the emulation each maps fiber stacks)
    class Deep(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x, depth):
            ctx.depth = depth
            return x * 1

        @staticmethod
        def backward(ctx, g):
            if ctx.depth > 0:
                y = ember.ones(1, device="cuda", requires_grad=True)
                with ember.enable_grad():
                    Deep.apply(y, ctx.depth - 1).sum().backward()
            return g, None

    x = ember.ones(1, device="cuda", requires_grad=True)
    Deep.apply(x, 2000).sum().backward()
    assert x.grad.tolist() == [1.0]


@requires_gpu
def test_reentrant_checkpoint_on_cuda_matches_plain_backward():
    from ember.utils.checkpoint import checkpoint

    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 2)).cuda()
    x = ember.randn(4, 5).cuda()
    model(x).pow(2).sum().backward()
    want = [p.grad.cpu().numpy().copy() for p in model.parameters()]
    model.zero_grad()
    checkpoint(model, x.requires_grad_(), use_reentrant=True).pow(2).sum().backward()
    for p, w in zip(model.parameters(), want):
        np.testing.assert_allclose(p.grad.cpu().numpy(), w, rtol=1e-6, atol=1e-7)


@requires_gpu
def test_backward_from_several_threads_on_cuda():
    results, errors = {}, []

    def train(seed):
        try:
            w = ember.full((6,), float(seed), device="cuda", requires_grad=True)
            for _ in range(20):
                ((w * w).sum() + (w.cpu() * 2).sum().cuda()).backward()
            results[seed] = w.grad.cpu().numpy()
        except Exception as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=train, args=(seed,)) for seed in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for seed in range(4):
        np.testing.assert_allclose(results[seed], [20 * (2.0 * seed + 2.0)] * 6)


# ---------------------------------------------------------------------------------------------------------------
# Errors, as PyTorch words them
# ---------------------------------------------------------------------------------------------------------------


@requires_gpu
def test_mixed_devices_raise():
    msg = "Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cpu!"
    with pytest.raises(RuntimeError) as err:
        ember.ones(2, device="cuda") + ember.ones(2)
    assert msg in str(err.value)
    cpu, gpu = ember.ones(3), ember.ones(3, device="cuda")
    for call in (
        lambda: ember.ones(2, 2, device="cuda") @ ember.ones(2, 2),
        lambda: ember.mm(cpu.view(3, 1), gpu.view(1, 3)),
        lambda: ember.dot(cpu, gpu),
        lambda: ember.cat([cpu, gpu]),
        lambda: ember.stack([gpu, cpu]),
        lambda: cpu.add_(gpu),  # in place: an internal error or a missing-kernel error before
        lambda: gpu.mul_(cpu),
    ):
        with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
            call()
    gpu.mul_(ember.tensor(2.0))  # a 0-d CPU operand is a number
    assert gpu.cpu().tolist() == [2.0, 2.0, 2.0]


@requires_gpu
def test_numpy_of_cuda_tensor_raises():
    msg = "can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() to copy the tensor to host memory first."
    with pytest.raises(TypeError) as err:
        ember.ones(2, device="cuda").numpy()
    assert msg in str(err.value)


# ---------------------------------------------------------------------------------------------------------------
# The caching allocator's counters
# ---------------------------------------------------------------------------------------------------------------

MB = 1 << 20


@requires_gpu
def test_memory_allocated_goes_down_after_del():
    gc.collect()
    ember.cuda.synchronize()
    base = ember.cuda.memory_allocated()
    x = ember.empty(16 * MB // 4, device="cuda")  # 16 MiB of float32
    assert ember.cuda.memory_allocated() >= base + 16 * MB
    assert ember.cuda.memory_reserved() >= ember.cuda.memory_allocated()
    del x
    assert ember.cuda.memory_allocated() == base


@requires_gpu
def test_memory_reserved_is_reused_and_empty_cache_releases_it():
    gc.collect()
    ember.cuda.empty_cache()
    x = ember.empty(64 * MB // 4, device="cuda")
    reserved = ember.cuda.memory_reserved()
    assert reserved >= ember.cuda.memory_allocated() >= 64 * MB
    del x
    assert ember.cuda.memory_reserved() == reserved  # cached, not returned to the driver
    y = ember.empty(64 * MB // 4, device="cuda")  # the same size again: served from the cache
    assert ember.cuda.memory_reserved() == reserved
    del y
    ember.cuda.empty_cache()
    assert ember.cuda.memory_reserved() <= reserved - 64 * MB
    assert ember.cuda.memory_reserved() >= ember.cuda.memory_allocated()


@requires_gpu
def test_max_memory_allocated_and_reset_peak():
    gc.collect()
    ember.cuda.reset_peak_memory_stats()
    assert ember.cuda.max_memory_allocated() == ember.cuda.memory_allocated()
    x = ember.empty(8 * MB // 4, device="cuda")
    y = ember.empty(8 * MB // 4, device="cuda")
    peak = ember.cuda.memory_allocated()
    del x, y
    assert ember.cuda.max_memory_allocated() >= peak
    assert ember.cuda.max_memory_allocated() > ember.cuda.memory_allocated()
    ember.cuda.reset_peak_memory_stats()
    assert ember.cuda.max_memory_allocated() == ember.cuda.memory_allocated()


@requires_gpu
def test_synchronize_and_device_queries():
    ember.cuda.synchronize()
    assert ember.cuda.device_count() >= 1
    assert ember.cuda.is_available() is True
    x = ember.randn(1000, device="cuda")
    y = (x * 2).exp()
    ember.cuda.synchronize()
    np.testing.assert_allclose(y.cpu().numpy(), np.exp(2 * x.cpu().numpy()), rtol=1e-5)


# ---------------------------------------------------------------------------------------------------------------
# Random numbers
# ---------------------------------------------------------------------------------------------------------------


@requires_gpu
def test_cuda_manual_seed_repeats_draws():
    ember.cuda.manual_seed(0)
    a = ember.randn(4, device="cuda")
    b = ember.randn(4, device="cuda")
    ember.cuda.manual_seed(0)
    c = ember.randn(4, device="cuda")
    np.testing.assert_array_equal(a.cpu().numpy(), c.cpu().numpy())
    assert not np.array_equal(a.cpu().numpy(), b.cpu().numpy())
    ember.cuda.manual_seed_all(1)
    d = ember.rand(4, device="cuda")
    ember.cuda.manual_seed_all(1)
    np.testing.assert_array_equal(d.cpu().numpy(), ember.rand(4, device="cuda").cpu().numpy())


@requires_gpu
def test_manual_seed_seeds_cuda_too():
    # torch.manual_seed seeds every device's generator
    ember.manual_seed(3)
    a = ember.randn(4, device="cuda")
    ember.manual_seed(3)
    np.testing.assert_array_equal(a.cpu().numpy(), ember.randn(4, device="cuda").cpu().numpy())


# ---------------------------------------------------------------------------------------------------------------
# nn and optim
# ---------------------------------------------------------------------------------------------------------------


def mlp():
    return nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))


@requires_gpu
@pytest.mark.parametrize("move", ["cuda", "to"])
def test_module_to_cuda(move):
    model = mlp()
    moved = model.cuda() if move == "cuda" else model.to("cuda")
    assert moved is model
    assert all(p.is_cuda for p in model.parameters())
    assert all(p.device.type == "cuda" for p in model.parameters())
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in model.parameters())
    out = model(ember.randn(5, 64, device="cuda"))
    on_cuda(out)
    assert tuple(out.shape) == (5, 10)
    model.cpu()
    assert all(p.device.type == "cpu" for p in model.parameters())


@requires_gpu
@pytest.mark.parametrize("opt", ["sgd-momentum", "adam"])
def test_optimizer_steps_match_cpu(opt):
    ember.manual_seed(0)
    cpu_model = mlp()
    gpu_model = mlp()
    gpu_model.load_state_dict(cpu_model.state_dict())
    gpu_model.cuda()
    for p_cpu, p_gpu in zip(cpu_model.parameters(), gpu_model.parameters()):
        assert_close(p_gpu, p_cpu, rtol=0, atol=0)

    def make_opt(params):
        if opt == "adam":
            return ember.optim.Adam(params, lr=1e-3)
        return ember.optim.SGD(params, lr=0.1, momentum=0.9)

    opt_cpu, opt_gpu = make_opt(cpu_model.parameters()), make_opt(gpu_model.parameters())
    rng = np.random.default_rng(0)
    for _ in range(2):  # the second step uses the momentum buffers / moments of the first
        x = rng.standard_normal((16, 64)).astype(np.float32)
        y = rng.integers(0, 10, 16)
        for model, optimizer, device in ((cpu_model, opt_cpu, "cpu"), (gpu_model, opt_gpu, "cuda")):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(ember.tensor(x, device=device)), ember.tensor(y, device=device))
            loss.backward()
            optimizer.step()
    for (name, p_cpu), (_, p_gpu) in zip(cpu_model.named_parameters(), gpu_model.named_parameters()):
        on_cuda(p_gpu)
        np.testing.assert_allclose(
            p_gpu.detach().cpu().numpy(), p_cpu.detach().numpy(), rtol=1e-5, atol=1e-5, err_msg=name
        )
    # the optimizer's state lives beside its parameter
    for state in opt_gpu.state.values():
        for value in state.values():
            if isinstance(value, ember.Tensor) and value.dim() > 0:
                on_cuda(value)


def load_digits_example():
    path = pathlib.Path(__file__).resolve().parent.parent / "examples" / "digits_mlp.py"
    spec = importlib.util.spec_from_file_location("digits_mlp", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@requires_gpu
@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_digits_examples_train_on_cuda_as_on_the_cpu(kind):
    # examples/digits_mlp.py's split and models, with the same initial weights and batches on both devices:
    # the losses stay together step by step and the test accuracy is the CPU's (what differs: float32
    # summation orders in conv, pooling and cuBLAS)
    pytest.importorskip("sklearn")
    example = load_digits_example()
    x_train, y_train, x_test, y_test = example.load_digits_split(0)
    shape = (-1, 64) if kind == "mlp" else (-1, 1, 8, 8)
    ember.manual_seed(0)
    cpu_model = example.make_model(nn, kind)
    gpu_model = copy.deepcopy(cpu_model).to("cuda")
    order = np.random.default_rng(0).permutation(len(x_train))
    runs = {}
    for device, model in (("cpu", cpu_model), ("cuda", gpu_model)):
        optimizer = ember.optim.Adam(model.parameters(), lr=3e-3)
        xs = ember.tensor(x_train, device=device).reshape(shape)
        ys = ember.tensor(y_train, device=device)
        losses = []
        for _ in range(2):  # epochs
            for start in range(0, len(x_train), 32):
                idx = ember.tensor(order[start : start + 32], device=device)
                optimizer.zero_grad()
                loss = F.cross_entropy(model(xs[idx]), ys[idx])
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
        with ember.no_grad():
            pred = model(ember.tensor(x_test, device=device).reshape(shape)).argmax(dim=1).cpu()
        runs[device] = (np.array(losses), (pred.numpy() == y_test).mean())
    # the first epoch step by step within 1e-3; the second within 5e-3, as float32 rounding differences
    # (which also depend on the CPU's BLAS and vector-math kernels: AVX2 or AVX-512) grow through training
    first_epoch = len(runs["cpu"][0]) // 2
    np.testing.assert_allclose(runs["cuda"][0][:first_epoch], runs["cpu"][0][:first_epoch], rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(runs["cuda"][0], runs["cpu"][0], rtol=5e-3, atol=1e-4)
    assert abs(runs["cuda"][1] - runs["cpu"][1]) <= 1 / len(y_test) and runs["cuda"][1] > 0.9


@requires_gpu
def test_pinned_memory_and_non_blocking_copies():
    x = ember.arange(12.0).reshape(3, 4)
    pinned = x.pin_memory()
    assert pinned.is_pinned() and not x.is_pinned() and pinned.device.type == "cpu"
    assert pinned.pin_memory() is pinned  # already pinned: itself, as PyTorch
    np.testing.assert_array_equal(pinned.numpy(), x.numpy())
    on_gpu = pinned.to("cuda", non_blocking=True)  # queued without waiting (Note [Pinned memory])
    assert on_gpu.device.type == "cuda" and pinned.cuda(non_blocking=True).device.type == "cuda"
    np.testing.assert_array_equal(on_gpu.cpu().numpy(), x.numpy())
    # a transposed pinned source lands in the right layout
    np.testing.assert_array_equal(pinned.t().to("cuda", non_blocking=True).cpu().numpy(), x.numpy().T)
    made = [
        ember.zeros(3, pin_memory=True),
        ember.empty(2, 3, pin_memory=True),
        ember.tensor([1, 2], pin_memory=True),
        ember.full((2,), 3.0, pin_memory=True),
        ember.rand(4, pin_memory=True),
        ember.ones_like(x, pin_memory=True),
        x.new_zeros(2, pin_memory=True),
        ember.empty_strided((2, 3), (3, 1), pin_memory=True),
    ]
    assert all(t.is_pinned() and t.device.type == "cpu" for t in made)
    with pytest.raises(RuntimeError, match="Only dense CPU tensors can be pinned"):
        ember.zeros(2, device="cuda", pin_memory=True)
    with pytest.raises(RuntimeError, match="only dense CPU tensors can be pinned"):
        on_gpu.pin_memory()
    # differentiable, as PyTorch's
    a = ember.ones(3, requires_grad=True)
    b = a.pin_memory()
    assert type(b.grad_fn).__name__ == "PinMemoryBackward0"
    (b * 2).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [2.0] * 3)
    # freed pinned blocks come back for later pins; empty_cache gives the idle ones back
    for _ in range(20):
        staged = ember.randn(4096).pin_memory()
        staged.to("cuda", non_blocking=True)
        del staged
    ember.cuda.synchronize()
    ember.cuda.empty_cache()


@requires_gpu
def test_dataloader_pins_batches_where_a_gpu_is():
    from ember.utils.data import DataLoader, TensorDataset

    data = TensorDataset(ember.randn(10, 3), ember.arange(10))
    loader = DataLoader(data, batch_size=4, pin_memory=True)
    batches = list(loader)
    assert all(xb.is_pinned() and yb.is_pinned() for xb, yb in batches)
    np.testing.assert_array_equal(ember.cat([xb for xb, _ in batches]).numpy(), data.tensors[0].numpy())
    dicts = DataLoader([{"x": ember.ones(2), "name": "a"}] * 3, batch_size=2, pin_memory=True)
    first = next(iter(dicts))
    assert first["x"].is_pinned() and first["name"] == ["a", "a"]


@requires_two_gpus
def test_two_gpus_current_device_copies_errors_and_backward():
    # Note [Current CUDA device]: a kernel on cuda:0 does not change what set_device chose
    a, b = ember.ones(3, device="cuda:0"), ember.full((3,), 2.0, device="cuda:1")
    previous = ember.cuda.current_device()
    try:
        ember.cuda.set_device(1)
        a + a
        assert ember.cuda.current_device() == 1 and ember.zeros(1, device="cuda").device.index == 1
        with ember.cuda.device(0):
            assert ember.zeros(1, device="cuda").device.index == 0
        assert ember.cuda.current_device() == 1
    finally:
        ember.cuda.set_device(previous)
    with pytest.raises(RuntimeError, match="found at least two devices, cuda:0 and cuda:1"):
        a + b
    moved = a.to("cuda:1")
    assert moved.device.index == 1
    np.testing.assert_array_equal((moved + b).cpu().numpy(), [3.0] * 3)
    # a graph across both devices: each device's nodes on its own thread (Note [Device threads])
    w0 = ember.ones(3, device="cuda:0", requires_grad=True)
    w1 = ember.ones(3, device="cuda:1", requires_grad=True)
    ((w0 * 2).sum().to("cuda:1") + (w1 * 3).sum()).backward()
    assert w0.grad.device.index == 0 and w1.grad.device.index == 1
    np.testing.assert_array_equal(w0.grad.cpu().numpy(), [2.0] * 3)
    np.testing.assert_array_equal(w1.grad.cpu().numpy(), [3.0] * 3)
    model = nn.Linear(3, 2).to("cuda:1")
    opt = ember.optim.Adam(model.parameters())
    model(ember.randn(4, 3, device="cuda:1")).sum().backward()
    opt.step()
    assert model.weight.device.index == 1 and opt.state[model.weight]["exp_avg"].device.index == 1


# ---------------------------------------------------------------------------------------------------------------
# DLPack with PyTorch
# ---------------------------------------------------------------------------------------------------------------


@requires_gpu
def test_dlpack_round_trip_with_pytorch_on_cuda():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("PyTorch has no CUDA here")
    t = torch.arange(12, dtype=torch.float32, device="cuda").reshape(3, 4)
    e = ember.from_dlpack(t)
    on_cuda(e)
    assert tuple(e.shape) == (3, 4) and e.dtype == ember.float32
    np.testing.assert_array_equal(e.cpu().numpy(), t.cpu().numpy())
    # shared memory: a write through ember is seen by PyTorch
    e.add_(1.0)
    ember.cuda.synchronize()
    np.testing.assert_array_equal(t.cpu().numpy(), np.arange(12, dtype=np.float32).reshape(3, 4) + 1)
    # and back: ember -> PyTorch, non-contiguous included
    src = ember.arange(6.0, device="cuda").reshape(2, 3)
    for view in (src, src.t()):
        back = torch.from_dlpack(view)
        assert back.device.type == "cuda"
        torch.cuda.synchronize()
        np.testing.assert_array_equal(back.cpu().numpy(), view.cpu().numpy())


@requires_gpu
def test_dlpack_round_trip_on_the_device():
    x = ember.arange(6.0, device="cuda").reshape(2, 3)
    assert x.__dlpack_device__() == (2, 0)
    y = ember.from_dlpack(x)  # ember's own capsule: the same device memory, no copy
    assert y.device == x.device and y.data_ptr() == x.data_ptr()
    y[0, 0] = 7.0
    assert x[0, 0].item() == 7.0
    t = ember.from_dlpack(x.t())  # a transposed view keeps its strides
    assert t.stride() == (1, 3) and t.cpu().tolist() == x.t().cpu().tolist()
    with pytest.raises(ValueError, match="not a copy"):
        x.__dlpack__(dl_device=(1, 0))


@requires_gpu
def test_grad_scaler_on_the_device_matches_cpu():
    results = []
    for device in ("cpu", "cuda"):
        ember.manual_seed(0)
        model = nn.Linear(4, 3)
        model.to(device)
        opt = ember.optim.SGD(model.parameters(), lr=0.1)
        scaler = ember.amp.GradScaler(device)
        x = ember.linspace(-1, 1, 8, device=device).reshape(2, 4)
        loss = model(x).square().sum()
        scaled = scaler.scale(loss)
        assert scaled.device.type == device
        scaled.backward()
        scaler.step(opt)
        scaler.update()
        results.append(model.weight.detach().cpu().numpy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-6, atol=1e-7)


@requires_gpu
@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_recurrent_layers_on_the_device_match_cpu(kind):
    ember.manual_seed(0)
    layer = getattr(nn, kind)(5, 4, num_layers=2, bidirectional=True).double()
    x = ember.randn(6, 3, 5, dtype=ember.float64)
    out_cpu, _ = layer(x)
    out_cpu.sum().backward()
    grads_cpu = [p.grad.clone() for p in layer.parameters()]
    layer.zero_grad()
    layer.cuda()
    out_gpu, _ = layer(x.cuda())
    out_gpu.sum().backward()
    np.testing.assert_allclose(out_gpu.detach().cpu().numpy(), out_cpu.detach().numpy(), rtol=1e-10, atol=1e-12)
    for p, g in zip(layer.parameters(), grads_cpu):
        assert p.grad.device.type == "cuda"
        np.testing.assert_allclose(p.grad.cpu().numpy(), g.numpy(), rtol=1e-9, atol=1e-11)
    # each layer and direction is one fused node on the device too (the LSTM cell's kernel in rnn.cu)
    names, todo = set(), [out_gpu.grad_fn]
    while todo:
        node = todo.pop()
        if node is not None and node.name() not in names:
            names.add(node.name())
            todo.extend(next_node for next_node, _ in node.next_functions)
    assert f"{kind.capitalize()}LayerBackward0" in names


@requires_gpu
def test_packed_lstm_and_the_lstm_cell_on_the_device():
    ember.manual_seed(0)
    layer = nn.LSTM(5, 4).double()
    x = ember.randn(5, 3, 5, dtype=ember.float64)
    packed = nn.utils.rnn.pack_padded_sequence(x, [5, 3, 2])
    out_cpu, (h_cpu, c_cpu) = layer(packed)
    out_gpu, (h_gpu, c_gpu) = copy.deepcopy(layer).cuda()(nn.utils.rnn.pack_padded_sequence(x.cuda(), [5, 3, 2]))
    for gpu, cpu in ((out_gpu.data, out_cpu.data), (h_gpu, h_cpu), (c_gpu, c_cpu)):
        assert_close(gpu, cpu, rtol=1e-10, atol=1e-12)
    cell = nn.LSTMCell(3, 4).double().cuda()
    state = tuple(ember.randn(2, 4, dtype=ember.float64, device="cuda", requires_grad=True) for _ in range(2))
    inputs = (ember.randn(2, 3, dtype=ember.float64, device="cuda", requires_grad=True), *state)
    assert cell(inputs[0], state)[0].grad_fn.name() == "ThnnFusedLstmCellBackward0"  # as PyTorch on CUDA
    assert ember.autograd.gradcheck(lambda x, h, c: cell(x, (h, c)), inputs)
    assert ember.autograd.gradgradcheck(lambda x, h, c: cell(x, (h, c))[1], inputs)


@requires_gpu
def test_default_device_and_device_context_make_cuda_tensors():
    with ember.device("cuda"):
        made = [ember.zeros(2), ember.randn(2), ember.tensor([1.0]), ember.arange(3), ember.full((2,), 7.0)]
    assert all(t.device.type == "cuda" for t in made)
    assert ember.ones(2).device.type == "cpu"
    ember.set_default_device("cuda")
    try:
        assert ember.ones(2).device.type == "cuda" and ember.get_default_device().type == "cuda"
    finally:
        ember.set_default_device(None)
    assert ember.ones(2).device.type == "cpu"


@requires_gpu
def test_device_index_out_of_range_raises():
    n = ember.cuda.device_count()
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        ember.zeros(2, device=f"cuda:{n}")
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        ember.cuda.set_device(n)
    x = ember.ones(2, device="cuda")
    assert x.is_cuda and x.get_device() == 0


@requires_gpu
def test_autocast_on_the_device_runs_products_in_half_floats():
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 4)).cuda()
    x = ember.randn(5, 16, device="cuda")
    with ember.autocast("cuda", dtype=ember.float16):
        assert ember.is_autocast_enabled("cuda") and ember.get_autocast_dtype("cuda") == ember.float16
        y = model(x)
        cpu_side = ember.ones(2, 2) @ ember.ones(2, 2)  # CPU tensors stay float32 in a CUDA region
    assert y.dtype == ember.float16 and y.device.type == "cuda" and cpu_side.dtype == ember.float32
    assert not ember.is_autocast_enabled("cuda")
    reference = model(x)
    np.testing.assert_allclose(y.float().detach().cpu().numpy(), reference.detach().cpu().numpy(), atol=2e-2)
    y.float().sum().backward()
    assert model[0].weight.grad.dtype == ember.float32 and model[0].weight.grad.device.type == "cuda"


@requires_gpu
def test_autocast_cuda_follows_pytorchs_cuda_lists():
    x, w, t = (ember.randn(*s, device="cuda") for s in [(4, 5), (3, 5), (4, 3)])
    labels = ember.tensor([0, 1, 2, 0], device="cuda")
    with ember.autocast("cuda", dtype=ember.float16):
        y = F.linear(x, w)
        assert y.dtype == ember.float16
        lower = {
            "add": y + y,
            "relu": y.relu(),
            "mv": ember.mv(x, w[0]),
            "baddbmm": ember.baddbmm(ember.zeros(1, 4, 4, device="cuda"), y[None], y.t()[None]),
        }
        float32 = {
            "softmax": y.softmax(-1),
            "log_softmax": F.log_softmax(y, -1),
            "exp": y.exp(),
            "log": y.abs().log(),
            "pow": y**2,
            "rdiv": 1 / y,
            "sum": y.sum(),
            "cumsum": y.cumsum(0),
            "layer_norm": F.layer_norm(y, (3,)),
            "mse_loss": F.mse_loss(y, t),
            "l1_loss": F.l1_loss(y, t),
            "cross_entropy": F.cross_entropy(y, labels),
            "bce_with_logits": F.binary_cross_entropy_with_logits(y, t.sigmoid()),
            "cosine_similarity": F.cosine_similarity(y, t),
            "softplus": F.softplus(y),
        }
        with pytest.raises(RuntimeError, match="binary_cross_entropy and torch.nn.BCELoss are unsafe to autocast"):
            F.binary_cross_entropy(y.sigmoid(), t.sigmoid())
        z = y.clone()
        z.exp_()  # in-place ops are not autocast, as in PyTorch
        cpu_side = ember.ones(2, dtype=ember.float16).exp()  # a CPU tensor in a CUDA region: not cast
    assert {k for k, v in lower.items() if v.dtype != ember.float16} == set()
    assert {k for k, v in float32.items() if v.dtype != ember.float32} == set()
    assert z.dtype == ember.float16 and cpu_side.dtype == ember.float16
    np.testing.assert_allclose(float32["softmax"].cpu().numpy(), y.float().softmax(-1).cpu().numpy(), rtol=1e-6)


def test_cuda_methods_refuse_other_devices():
    with pytest.raises(RuntimeError, match="Invalid device, must be cuda device"):
        ember.ones(2).cuda("cpu")
    with pytest.raises(RuntimeError, match="Invalid device, must be cuda device"):
        nn.Linear(2, 2).cuda("cpu")
    with pytest.raises(ValueError, match="got:None"):
        ember.cuda.set_device(None)


@requires_gpu
def test_missing_kernel_errors_name_the_op_and_dtype():
    x = ember.ones(2, 2, dtype=ember.int64, device="cuda")
    with pytest.raises(NotImplementedError, match=r"Could not run 'matmul' .*'CUDA' backend.*matmul on Long tensors"):
        ember.matmul(x, x)


@requires_gpu
def test_a_0d_bool_mask_on_the_gpu_indexes_as_on_the_cpu():
    # its one value is read on the host (it was read as host memory: a missing-kernel error)
    for device in ("cuda", "cpu"):
        y = ember.tensor(1.0, device=device)
        assert y[ember.tensor(True, device=device)].tolist() == [1.0]
        assert y[ember.tensor(False, device=device)].shape == (0,)
        y[ember.tensor(True, device=device)] = ember.tensor([3.0], device=device)
        assert y.item() == 3.0
        assert ember.arange(3.0, device=device)[ember.tensor(True, device=device)].shape == (1, 3)


@requires_two_gpus
def test_parallel_steps_scatter_across_two_gpus_and_gather_back():
    from ember.nn.parallel import gather, parallel_apply, replicate, scatter

    x = ember.arange(12.0).reshape(6, 2).requires_grad_()
    parts = scatter(x, [0, 1])
    assert [p.device for p in parts] == [ember.device("cuda", 0), ember.device("cuda", 1)]
    net = ember.nn.Linear(2, 3)
    replicas = replicate(net, [0, 1])
    assert replicas[1].weight.device == ember.device("cuda", 1)
    seen = []
    for replica in replicas:
        replica.register_forward_pre_hook(lambda module, args: seen.append(ember.cuda.current_device()))
    joined = gather(parallel_apply(replicas, [(p,) for p in parts], devices=[0, 1]), -1)
    assert seen == [0, 1] and ember.cuda.current_device() == 0  # each replica ran with its GPU current
    assert joined.device == ember.device("cpu")
    np.testing.assert_allclose(joined.detach().numpy(), net(x).detach().numpy(), rtol=1e-6)
    joined.sum().backward()
    np.testing.assert_allclose(net.weight.grad.numpy(), np.tile(x.detach().numpy().sum(0), (3, 1)), rtol=1e-6)


@requires_two_gpus
def test_a_first_copy_to_another_gpu_does_not_change_the_current_device():
    # Note [Current CUDA device]: a thread's device starts as CUDA's before ember's first launch moves it
    import threading

    seen = []

    def fresh_thread():
        ember.ones(2).to("cuda:1")
        seen.append(ember.cuda.current_device())

    worker = threading.Thread(target=fresh_thread)
    worker.start()
    worker.join()
    assert seen == [0]
