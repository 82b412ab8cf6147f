"""No crash from Python, no silently wrong gradient, no race, no leak: each
reproduction of the reliability issue as a test of what PyTorch does instead.
The random-program fuzz test is tests/test_fuzz.py."""

import gc
import os
import pickle
import re
import subprocess
import threading
import weakref

import numpy as np
import pytest

import ember
from helpers import python_command


def run_isolated(code):
    """Runs code in a fresh interpreter: a crash fails the test instead of ending the run."""
    out = subprocess.run([*python_command(), "-c", "import ember\n" + code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, f"exit {out.returncode}: {out.stderr[-1500:]}"
    return out.stdout


# ------------------------------------------------------------------ crashes become Python exceptions
NONE_CALLS = [
    "ember.exp(None)",
    "ember.mm(ember.ones(2, 2), None)",
    "ember.cat([ember.ones(2), None])",
    "ember.ones(2).copy_(None)",
    "ember.ones(2).view_as(None)",
    "ember.where(None, ember.ones(2), ember.ones(2))",
    "ember.Tensor(None)",
    "ember.ones(2).add_(None)",
    "ember.stack([None])",
    "ember.ones(2).masked_fill(None, 1.0)",
]


@pytest.mark.parametrize("call", NONE_CALLS)
def test_none_for_a_tensor_is_a_type_error(call):
    with pytest.raises(TypeError):
        eval(call)


def test_none_as_data_is_a_type_error():
    x = ember.ones(2)
    with pytest.raises(TypeError):
        x.data = None


@pytest.mark.parametrize(
    "call",
    [
        "ember.zeros(2**62)",
        "ember.arange(0, 2**61)",
        "ember.randn(2**62)",
        "ember.ones(2**62 + 1, 4)",
        "ember.eye(2**63 - 1)",
        "ember.empty(2**40, 2**40)",
    ],
)
def test_sizes_that_overflow(call):
    with pytest.raises(RuntimeError, match="Storage size calculation overflowed"):
        eval(call)


def test_negative_sizes():
    with pytest.raises(RuntimeError, match="negative dimension -2"):
        ember.ones(1).expand(-2)
    with pytest.raises(RuntimeError, match="negative dimension"):
        ember.zeros(3, -1)


def test_huge_slice_steps_do_not_overflow():
    # numpy's values: one element when the step passes the end, none for an empty range
    x = ember.arange(10.0)
    assert x[1 :: 2**62].tolist() == [1.0]
    assert x[:: 2**63 - 1].tolist() == [0.0]
    assert x[3:2:5].tolist() == []
    assert x[-(2**62) : 2**62 : 2**62].tolist() == [0.0]


def test_zero_dim_tensors():
    x = ember.tensor(1.0)
    with pytest.raises(IndexError, match="Dimension specified as 0 but tensor has no dimensions"):
        x.size(0)
    with pytest.raises(IndexError, match="Dimension specified as -1 but tensor has no dimensions"):
        x.stride(-1)
    assert x.index_select(0, ember.tensor([0])).tolist() == 1.0
    assert ember.gather(x, 0, ember.tensor([0, 0, 0])).tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(RuntimeError, match="Index to scalar can have only 1 value"):  # PyTorch's class
        x.index_select(0, ember.tensor([0, 0]))
    with pytest.raises(IndexError, match="Dimension out of range"):
        ember.flatten(x, 5)
    with pytest.raises(IndexError, match="Dimension out of range"):
        ember.squeeze(x, 2**62)


def test_scatter_add_checks_src():
    with pytest.raises(RuntimeError, match=r"to be no larger size than src \[2\]"):
        ember.zeros(1000).scatter_add(0, ember.arange(1000), ember.ones(2))


def test_a_float_tensor_is_no_dim():
    x = ember.tensor(1.0)
    with pytest.raises(TypeError, match="only integer tensors"):
        ember.sum(ember.ones(3), x)
    assert ember.sum(ember.ones(3, 2), ember.tensor(0)).tolist() == [3.0, 3.0]


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickle_every_protocol(protocol):
    t = ember.randn(2, 3)
    t.tag = "kept"
    r = pickle.loads(pickle.dumps(t, protocol=protocol))
    assert r.tolist() == t.tolist() and r.dtype == t.dtype and r.tag == "kept"
    view = ember.arange(10.0, dtype=ember.float64)[::3]
    assert pickle.loads(pickle.dumps(view, protocol=protocol)).tolist() == [0.0, 3.0, 6.0, 9.0]
    for obj in (ember.int32, ember.device("cpu"), ember.Size([2, 3])):
        assert pickle.loads(pickle.dumps(obj, protocol=protocol)) == obj
    x = ember.ones(2, requires_grad=True)
    with pytest.raises(TypeError, match="cannot pickle"):
        pickle.dumps((x * 2).grad_fn, protocol=protocol)


def test_pickle_autograd_state_and_modules():
    y = ember.ones(2, requires_grad=True) * 2
    r = pickle.loads(pickle.dumps(y))
    assert r.is_leaf and r.requires_grad and r.tolist() == [2.0, 2.0]  # as PyTorch: the graph is not pickled
    model = ember.nn.Sequential(ember.nn.Linear(3, 2), ember.nn.ReLU())
    clone = pickle.loads(pickle.dumps(model))
    x = ember.randn(4, 3)
    assert clone(x).tolist() == model(x).tolist()
    assert isinstance(clone[0].weight, ember.nn.Parameter) and clone[0].weight.requires_grad
    g = ember.Generator().manual_seed(5)
    ember.rand(3, generator=g)
    g2 = pickle.loads(pickle.dumps(g))
    assert ember.rand(4, generator=g).tolist() == ember.rand(4, generator=g2).tolist()


def test_concurrent_backward_on_one_graph():
    """Threads calling backward on one graph: one succeeds, the others get PyTorch's error; never a crash."""
    out = run_isolated("""
import threading
errors, done = [], []
for trial in range(40):
    x = ember.randn(32, 32, requires_grad=True)
    y = x
    for _ in range(20):
        y = (y.tanh() * 1.01).exp().log()
    loss = y.sum()
    barrier = threading.Barrier(4)
    def worker():
        barrier.wait()
        try:
            loss.backward()
            done.append(1)
        except RuntimeError as e:
            assert "backward through the graph a second time" in str(e), e
            errors.append(1)
    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads: t.start()
    for t in threads: t.join()
print(len(done), len(errors))
""")
    done, errors = map(int, out.split())
    assert done >= 40 and done + errors == 160


# ------------------------------------------------------------------ values and gradients as PyTorch's
def test_fill_and_copy_of_a_non_leaf():
    x = ember.ones(3, requires_grad=True)
    y = x * 2
    y.fill_(5.0)
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0] and y.grad_fn.name() == "FillBackward2"
    x = ember.ones(2, requires_grad=True)
    y = x * 2
    y[0].fill_(1.0)
    y[0].pow_(2)
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 2.0]
    x = ember.ones(3, requires_grad=True)
    y = ember.zeros(3)
    y.copy_(x)
    assert y.requires_grad and y.grad_fn.name() == "CopyBackwards"
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0]


def test_zero_of_inf_and_nan():
    t = ember.tensor([float("inf"), float("nan")], requires_grad=True) * 1
    assert t.zero_().tolist() == [0.0, 0.0]


def test_ellipsis_index_keeps_the_graph():
    x = ember.ones(3, requires_grad=True)
    y = x[...]
    assert y.grad_fn.name() == "AliasBackward0"
    (y * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0, 3.0]


def test_hooks_may_not_change_size_or_dtype():
    x = ember.ones(3, requires_grad=True)
    x.register_hook(lambda g: g[:1])
    with pytest.raises(RuntimeError, match="hook '<lambda>' has changed the size of value"):
        (x * 2).sum().backward()

    def widen(g):
        return g.double()

    y = ember.ones(3, requires_grad=True)
    y.register_hook(widen)
    with pytest.raises(RuntimeError, match="hook 'widen' has changed the type of value"):
        (y * 2).sum().backward()


OVERLAP_PARTIAL = "some elements of the input tensor and the written-to tensor refer to a single memory location"
OVERLAP_INTERNAL = "more than one element of the written-to tensor refers to a single memory location"


def test_overlapping_writes_are_refused():
    x = ember.arange(5.0)
    with pytest.raises(RuntimeError, match=OVERLAP_PARTIAL):
        x[1:].copy_(x[:-1])
    a = ember.arange(4.0).reshape(2, 2)
    with pytest.raises(RuntimeError, match=OVERLAP_PARTIAL):
        a.add_(a.t())
    with pytest.raises(RuntimeError, match=OVERLAP_INTERNAL):
        ember.zeros(1).expand(3).add_(1)
    with pytest.raises(RuntimeError, match=OVERLAP_INTERNAL):
        ember.zeros(1).expand(3).exp_()
    with pytest.raises(RuntimeError, match=OVERLAP_PARTIAL):
        x[1:] = x[:-1]
    # what PyTorch allows stays allowed
    a = ember.ones(3)
    assert a.add_(a).tolist() == [2.0, 2.0, 2.0]
    y = ember.arange(6.0)
    y[::2].add_(y[1::2])
    assert y.tolist() == [1.0, 1.0, 5.0, 3.0, 9.0, 5.0]
    assert ember.zeros(1).expand(3).fill_(1).tolist() == [1.0, 1.0, 1.0]
    assert ember.zeros(2, 0).expand(3, 2, 0).exp_().shape == (3, 2, 0)


def test_bool_scalar_indices_share_one_dim():
    x = ember.zeros(2, 3)
    assert x[True, False].shape == (0, 2, 3)
    assert x[True].shape == (1, 2, 3)
    assert x[True, True].shape == (1, 2, 3)


def test_windows_that_do_not_fit():
    with pytest.raises(RuntimeError, match="Output size is too small"):
        ember.max_pool2d(ember.ones(1, 1, 1, 1), 2, stride=2)
    with pytest.raises(RuntimeError, match=r"padded input size per channel: \(2 x 2\). Kernel size: \(3 x 3\)"):
        ember.conv2d(ember.ones(1, 1, 2, 2), ember.ones(1, 1, 3, 3), stride=2)


def test_python_number_edge_cases():
    with pytest.raises(ValueError, match="cannot convert float NaN to integer"):
        int(ember.tensor(float("nan")))
    with pytest.raises(OverflowError):
        int(ember.tensor(float("inf")))
    assert int(ember.tensor(1e30, dtype=ember.float64)) == int(1e30)
    assert int(ember.tensor(2**62 + 1)) == 2**62 + 1  # exact, not through a double
    assert ember.sign(ember.tensor(float("nan"))).item() == 0.0
    signed = np.array([-0.0, 0.0, -np.nan, -3.0], dtype=np.float32)
    for dtype in (ember.float32, ember.float64, ember.float16):  # abs clears the sign bit, as numpy and PyTorch
        np.testing.assert_array_equal(np.signbit(ember.tensor(signed, dtype=dtype).abs().float().numpy()), False)
    assert ember.tensor([1.0, 2.0]).clamp(min=float("nan")).isnan().all()


def test_float32_std_does_not_overflow():
    assert abs(ember.tensor([3e37, -3e37, 1]).std().item() - 3e37) / 3e37 < 1e-5
    assert ember.tensor([3e37, -3e37, 1]).var().item() == float("inf")  # as PyTorch: the variance itself overflows


def test_empty_softmax_family_and_products():
    assert ember.softmax(ember.ones(0, 3), 1).shape == (0, 3)
    assert ember.log_softmax(ember.ones(2, 0), 1).shape == (2, 0)
    assert ember.logsumexp(ember.ones(0, 3), 1).shape == (0,)
    assert ember.logsumexp(ember.ones(2, 0), 1).tolist() == [float("-inf")] * 2
    a = ember.ones(0, 3, requires_grad=True)
    b = ember.ones(3, 2, requires_grad=True)
    (a @ b).sum().backward()
    assert a.grad.shape == (0, 3) and b.grad.tolist() == [[0.0, 0.0]] * 3


def test_integer_inputs_where_pytorch_refuses_them():
    with pytest.raises(RuntimeError, match="not implemented for 'Long'"):
        ember.softmax(ember.tensor([1, 2]), 0)
    assert ember.softmax(ember.tensor([1, 2]), 0, dtype=ember.float64).dtype == ember.float64
    with pytest.raises(RuntimeError, match="Boolean inputs not supported for relu"):
        ember.relu(ember.tensor([True]))
    with pytest.raises(NotImplementedError, match="\"abs_cpu\" not implemented for 'Bool'"):
        ember.tensor([True]).abs()
    with pytest.raises(RuntimeError, match="does not support bool input"):
        ember.tensor([True, False]).argmax()
    with pytest.raises(RuntimeError, match="alpha must not be a floating point number"):
        ember.add(ember.tensor([1, 2]), 1, alpha=0.5)
    x = ember.tensor([1, 2])
    assert x.add_(x, alpha=0).tolist() == [1, 2] and x.dtype == ember.int64


def test_reduction_dtype_is_the_results():
    x = ember.tensor([[1, 0], [1, 1]])
    assert x.prod(1, dtype=ember.bool).tolist() == [False, True]
    assert x.sum(dtype=ember.int32).dtype == ember.int32


def test_a_dtype_is_not_an_int():
    x = ember.ones(4)
    with pytest.raises(TypeError):
        x.chunk(ember.int64)
    with pytest.raises(TypeError):
        x.log_softmax(ember.float32)
    assert {ember.float32: 1}[ember.float32] == 1


def test_where_and_nonzero_as_tuple():
    x = ember.tensor([[1, 0], [0, 3]])
    rows, cols = ember.where(x)
    assert rows.tolist() == [0, 1] and cols.tolist() == [0, 1]
    assert [t.tolist() for t in x.nonzero(as_tuple=True)] == [[0, 1], [0, 1]]
    with pytest.raises(TypeError, match="expected both input and other"):
        ember.where(x > 0, 1.0)


def test_argument_errors():
    x = ember.ones(2)
    with pytest.raises(TypeError, match="assigned grad expected to be a Tensor or None but got grad of type int"):
        x.grad = 0
    with pytest.raises(TypeError, match="missing 1 required positional"):
        x.expand()
    leaf = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        leaf.copy_(leaf)


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda x: x.reshape("a"), "reshape(): argument 'shape' must be tuple of ints, not str"),
        (lambda x: x.view(2.0, 3), "view(): argument 'size' must be tuple of ints, but found element of type float"),
        (lambda x: x.permute([0, "a"]), "'dims' must be tuple of ints, but found element of type str at pos 1"),
        (lambda x: x.sum(dim="a"), "sum(): argument 'dim' must be tuple of ints, not str"),
        (lambda x: x.argmax("a"), "argmax(): argument 'dim' must be int, not str"),
        (lambda x: x.split("a"), "split(): argument 'split_size_or_sections' must be tuple of ints, not str"),
        (lambda x: ember.full((2,), "a"), "full(): argument 'fill_value' must be Tensor or Number, not str"),
        (lambda x: ember.arange("a"), "arange(): argument 'end' must be Number, not str"),
        (lambda x: ember.arange(x), "arange(): argument 'end' must be Number, not Tensor of 6 elements"),
        (lambda x: ember.nn.functional.max_pool2d(x[None], "a"), "max_pool2d(): an argument of type str is not"),
        (lambda x: ember.cat(x, 1), "incompatible function arguments"),  # a tensor is not a list of tensors
        (lambda x: ember.kron(x, "a"), "kron(): argument 'other' (position 2) must be Tensor, not str"),
        (lambda x: x.inner("a"), "inner(): argument 'other' (position 1) must be Tensor, not str"),
        (lambda x: ember.nn.functional.linear(x, None), "linear(): argument 'weight' (position 2) must be Tensor"),
    ],
)
def test_arguments_of_the_wrong_type_are_type_errors_naming_the_op(call, words):
    x = ember.arange(6.0).reshape(2, 3)
    with pytest.raises(TypeError, match=re.escape(words)):
        call(x)


def test_data_that_is_no_number_names_its_type():
    with pytest.raises(RuntimeError, match="Could not infer dtype of NoneType"):
        ember.tensor([[1.0, None]])
    with pytest.raises(RuntimeError, match="Could not infer dtype of object"):
        ember.as_tensor([object()])


def test_random_sampler_draws_lazily():
    sampler = ember.utils.data.RandomSampler(range(10), replacement=True, num_samples=10**10)
    it = iter(sampler)
    assert all(0 <= next(it) < 10 for _ in range(100)) and len(sampler) == 10**10


# ------------------------------------------------------------------ leaks
class KeepOutput(ember.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        out = x * 2
        ctx.out = out
        return out

    @staticmethod
    def backward(ctx, g):
        return g * 2


def leaf_hook_cycle():
    x = ember.randn(100, 100, requires_grad=True)
    x.register_hook(lambda g: g * x.sum())
    return x


def ctx_cycle():
    return KeepOutput.apply(ember.randn(100, 100, requires_grad=True))


def non_leaf_hook_cycle():
    y = ember.randn(100, 100, requires_grad=True) * 2
    y.register_hook(lambda g: g + y.detach())
    return y


def parameter_hook_cycle():
    p = ember.nn.Parameter(ember.randn(100, 100))
    p.register_hook(lambda g: g * p.sum())
    return p


@pytest.mark.parametrize("make", [leaf_hook_cycle, ctx_cycle, non_leaf_hook_cycle, parameter_hook_cycle])
def test_cycles_through_cpp_are_collected(make):
    ref = weakref.ref(make())
    gc.collect()
    assert ref() is None, "a cycle through C++-held Python objects survived gc.collect()"


def test_a_reachable_hook_survives_collection():
    x = ember.ones(3, requires_grad=True)
    x.register_hook(lambda g: g * 2)
    y = KeepOutput.apply(x)
    gc.collect()
    y.sum().backward()
    assert x.grad.tolist() == [4.0, 4.0, 4.0]


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads RSS from /proc (Linux)")
@pytest.mark.skipif(ember._C._allocator_stats()["exact"], reason="sanitizer build: freed memory is quarantined")
def test_memory_is_flat_over_10000_training_steps():
    ember.manual_seed(0)
    model = ember.nn.Sequential(ember.nn.Linear(8, 32), ember.nn.Tanh(), ember.nn.Linear(32, 1))
    opt = ember.optim.Adam(model.parameters(), lr=1e-3)
    x, y = ember.randn(64, 8), ember.randn(64, 1)

    def steps(n):
        for _ in range(n):
            opt.zero_grad()
            loss = ember.nn.functional.mse_loss(model(x), y)
            loss.backward()
            opt.step()

    steps(1000)  # warm the caching allocator and the interpreter
    before = rss_bytes()
    steps(10000)
    grown = rss_bytes() - before
    assert grown < 4 * 2**20, f"RSS grew by {grown / 2**20:.1f} MiB over 10,000 steps"
    assert np.isfinite(ember.nn.functional.mse_loss(model(x), y).item())


def test_threads_and_gc_together():
    """Backward on other threads while the main thread collects cycles: no crash."""
    stop = threading.Event()

    def train():
        while not stop.is_set():
            KeepOutput.apply(ember.randn(50, 50, requires_grad=True)).sum().backward()

    threads = [threading.Thread(target=train) for _ in range(2)]
    for t in threads:
        t.start()
    for _ in range(50):
        non_leaf_hook_cycle()
        gc.collect()
    stop.set()
    for t in threads:
        t.join()


def test_polygamma_of_a_huge_order_returns():
    # n! overflows to inf long before n = 2**62; the factorial loop must stop there instead of running 2**62 times
    assert not ember.polygamma(2**62, ember.tensor(1.0)).isfinite().item()


def test_mvlgamma_of_a_huge_dimension_returns():
    # PyTorch's domain check (x > (p - 1) / 2) refuses it before a loop of 2**62 terms; an empty input has no terms
    with pytest.raises(RuntimeError, match=r"All elements must be greater than \(p-1\)/2"):
        ember.mvlgamma(ember.ones(2), 2**62)
    x = ember.empty(0, requires_grad=True)
    y = ember.mvlgamma(x, 2**62)
    y.sum().backward()
    assert y.shape == (0,) and y.grad_fn.name() == "MvlgammaBackward0" and x.grad.shape == (0,)


def test_index_put_without_indices_raises():
    # an empty index tuple (or an empty tensor iterated as one) once reached the kernel with nothing to index by
    x = ember.zeros(0, 1, 4, 3, dtype=ember.int32)
    with pytest.raises(RuntimeError, match="index_put"):
        x.index_put_((), x)
    with pytest.raises(TypeError, match="index_put"):  # a tensor is not a tuple of tensors, as in PyTorch
        x.index_put_(x, x)


def test_index_put_takes_masks_as_pytorch():
    # a boolean (or, deprecated, uint8) index is a mask over the dims it covers, as in __setitem__
    x = ember.zeros(3, 2)
    mask = ember.tensor([True, False, True])
    assert x.index_put((mask,), ember.tensor([1.0, 2.0])).tolist() == [[1, 2], [0, 0], [1, 2]]
    with pytest.warns(UserWarning, match="uint8 is now deprecated"):
        assert ember.equal(x.index_put((mask.byte(),), ember.tensor(5.0)), x.index_put((mask,), ember.tensor(5.0)))
    with pytest.raises(IndexError, match=r"The shape of the mask \[2\] at index 0 does not match"):
        x.index_put_((ember.tensor([True, False]),), ember.tensor(1.0))


def test_lerp_with_a_number_weight_keeps_float64_precision():
    # 1 - weight was once computed as a float32 tensor: a float64 lerp at weight >= 0.5 had float32 precision
    start = ember.zeros(3, dtype=ember.float64, requires_grad=True)
    end = ember.ones(3, dtype=ember.float64)
    for w in [0.3, 0.7, 0.9]:
        out = start.lerp(end, w)
        assert out[0].item() == w
        (grad,) = ember.autograd.grad(out.sum(), start)
        assert grad[0].item() == 1 - w


def test_add_with_alpha_scales_a_narrow_operand_in_the_result_dtype():
    # float32 + 0.3 * bfloat16(1) is 0.3 in float32, not 0.3 rounded to bfloat16 (0.30078125)
    one = ember.ones(2, dtype=ember.bfloat16)
    want = np.float32(0.3)
    assert ember.add(ember.zeros(2), one, alpha=0.3)[0].item() == want
    assert ember.sub(ember.zeros(2), one, alpha=0.3)[0].item() == -want
    a = ember.zeros(2)
    a.add_(one, alpha=0.3)
    assert a[0].item() == want
    a.sub_(one, alpha=0.3)
    assert a[0].item() == 0.0


def test_narrow_float_norms_round_once():
    # float16/bfloat16 norms accumulate in float32 and round once, as PyTorch; rounding the squares, the sum
    # and the root each to bfloat16 missed the correctly rounded norm in about 15% of random matrices
    rng = np.random.default_rng(0)
    for dtype in (ember.bfloat16, ember.float16):
        misses = 0
        for _ in range(100):
            x = ember.tensor(rng.standard_normal((8, 8)).astype(np.float32)).to(dtype)
            exact = np.linalg.norm(x.double().numpy())  # of the narrow values, in float64
            misses += x.norm().item() != ember.tensor(exact).to(dtype).item()
        assert misses <= 1, (dtype, misses)


def test_kernels_without_a_dtype_raise_pytorchs_not_implemented_error():
    # PyTorch's dispatch errors are NotImplementedError (a RuntimeError) naming its kernel and scalar type
    long = ember.tensor([1, 2])
    for call, words in [
        (lambda: ember.rand(2, dtype=ember.int64), "\"check_uniform_bounds\" not implemented for 'Long'"),
        (lambda: ember.randn(2, dtype=ember.int32), "\"normal_kernel_cpu\" not implemented for 'Int'"),
        (lambda: ember.softmax(long, 0), "\"softmax_lastdim_kernel_impl\" not implemented for 'Long'"),
        (lambda: long.logcumsumexp(0), "\"logcumsumexp_out_cpu\" not implemented for 'Long'"),
        (lambda: long.round(decimals=1), "\"round_cpu\" not implemented for 'Long'"),
        (lambda: ember.nn.functional.layer_norm(long.view(1, 2), (2,)), '"LayerNormKernelImpl" not implemented'),
        (lambda: ember.nn.functional.group_norm(long.view(1, 2, 1), 1), '"GroupNormKernelImpl" not implemented'),
        (lambda: ember.tensor([True]).clamp(min=True), "\"clamp_min_scalar_cpu\" not implemented for 'Bool'"),
        (lambda: ember.tensor([True]).clamp_(max=False), "\"clamp_max_scalar_cpu\" not implemented for 'Bool'"),
        (lambda: ember.clamp(ember.tensor([True]), False, True), "\"clamp_scalar_cpu\" not implemented for 'Bool'"),
    ]:
        with pytest.raises(NotImplementedError, match=words):
            call()
    # bool bounds given as tensors clamp a bool tensor, as PyTorch's
    assert ember.tensor([True, False]).clamp(min=ember.tensor(True)).tolist() == [True, True]
    # mvlgamma of integers computes in float32, as PyTorch's
    got = ember.tensor([3, 2]).mvlgamma(2)
    assert got.dtype == ember.float32
    assert ember.allclose(got, ember.tensor([3.0, 2.0]).mvlgamma(2))


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
def test_clamp_keeps_nan_and_infinities_and_a_nan_bound_gives_nan(dtype):
    # the branch-free clamp kernel: a missing bound is infinite, never the largest finite value
    values = np.array([np.nan, -np.inf, -2.0, -0.0, 0.5, 3.0, np.inf])
    x = ember.tensor(values, dtype=dtype)
    np.testing.assert_array_equal(x.clamp(min=0).numpy(), np.fmax(values, 0) * np.where(np.isnan(values), np.nan, 1))
    np.testing.assert_array_equal(x.clamp(max=1).numpy(), np.clip(values, -np.inf, 1))
    np.testing.assert_array_equal(x.clamp(-1, 1).numpy(), np.clip(values, -1, 1))
    assert bool(x.clamp(min=float("nan")).isnan().all()) and bool(x.clamp(max=float("nan")).isnan().all())
    ints = ember.tensor([-(2**62), -3, 0, 5, 2**62])
    assert ints.clamp(min=0).tolist() == [0, 0, 0, 5, 2**62] and ints.clamp(max=1).tolist() == [-(2**62), -3, 0, 1, 1]
    y = ember.tensor(values, dtype=dtype, requires_grad=True)
    relu = ember.nn.ReLU(inplace=True)(y * 1)
    assert type(relu.grad_fn).__name__ == "ReluBackward0"  # as PyTorch's in-place ReLU
