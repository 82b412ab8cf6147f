"""Small torch names real programs call (python/ember/_torch_misc.py, histogramdd, ctc_loss,
func.debug_unwrap): behaviour without PyTorch, and PyTorch's values and words when it is importable."""

import warnings

import numpy as np
import pytest

import ember


def test_exception_classes_and_build_facts():
    assert issubclass(ember.OutOfMemoryError, RuntimeError) and issubclass(ember.AcceleratorError, RuntimeError)
    assert issubclass(ember.FatalError, Exception) and not issubclass(ember.FatalError, RuntimeError)
    assert ember.has_openmp and ember.has_lapack and not ember.has_mkl and not ember.has_spectral


def test_devices_and_layout():
    x = ember.ones(2, 3)
    assert x.get_device() == -1 and ember.get_device(x) == -1
    assert x.layout is ember.strided and not x.is_xla
    assert ember.get_device_module() is ember.cpu and ember.get_device_module("cuda") is ember.cuda
    with pytest.raises(RuntimeError, match="does not have a corresponding module"):
        ember.get_device_module("npu")


def test_legacy_new_and_resize():
    x = ember.ones(2, 3, dtype=ember.float64)
    assert x.new(4, 5).shape == (4, 5) and x.new(4, 5).dtype == ember.float64
    assert x.new([1, 2]).tolist() == [1.0, 2.0]  # a list is data, a Size is sizes
    assert x.new(ember.Size([2, 2])).shape == (2, 2)
    assert x.new().shape == (0,)
    assert x.new(x) is x
    with pytest.warns(UserWarning, match="non-inplace resize is deprecated"):
        assert x.resize(3, 2).shape == (3, 2)
    with pytest.warns(UserWarning, match="non-inplace resize_as is deprecated"):
        assert x.resize_as(ember.ones(6)).shape == (6,)
    assert x.new_empty_strided((2, 2), (1, 2)).stride() == (1, 2)


def test_default_tensor_type_and_debug_mode():
    with pytest.warns(UserWarning, match="set_default_tensor_type\\(\\) is deprecated"):
        ember.set_default_tensor_type(ember.DoubleTensor)
    try:
        assert ember.tensor([1.5]).dtype == ember.float64
        with pytest.warns(UserWarning):
            ember.set_default_tensor_type("torch.FloatTensor")
        assert ember.tensor([1.5]).dtype == ember.float32
        with pytest.raises(TypeError, match="only floating-point types"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ember.set_default_tensor_type(ember.LongTensor)
    finally:
        ember.set_default_dtype(ember.float32)
    for mode, value in [("warn", 1), ("error", 2), ("default", 0), (1, 1), (0, 0)]:
        ember.set_deterministic_debug_mode(mode)
        assert ember.get_deterministic_debug_mode() == value
    with pytest.raises(RuntimeError, match="invalid value of debug_mode"):
        ember.set_deterministic_debug_mode(3)
    ember.init_num_threads()
    assert ember.set_flush_denormal(True) is False


def test_buffers_and_files(tmp_path):
    buf = bytearray(np.arange(4, dtype=np.float32).tobytes())
    t = ember.frombuffer(buf, dtype=ember.float32)
    assert t.tolist() == [0, 1, 2, 3]
    t[0] = 7.0  # shares the buffer
    assert np.frombuffer(buf, dtype=np.float32)[0] == 7.0
    assert ember.frombuffer(buf, dtype=ember.float32, count=2, offset=4).tolist() == [1, 2]
    with pytest.warns(UserWarning, match="The given buffer is not writable"):
        assert ember.frombuffer(bytes(buf), dtype=ember.float32).tolist() == [7, 1, 2, 3]
    path = tmp_path / "data.bin"
    np.arange(5, dtype=np.float64).tofile(path)
    assert ember.from_file(str(path), size=5, dtype=ember.float64).tolist() == [0, 1, 2, 3, 4]
    mapped = ember.from_file(str(path), shared=True, size=3, dtype=ember.float64)
    mapped[0] = 9.0
    del mapped
    assert np.fromfile(path, dtype=np.float64)[0] == 9.0
    with pytest.raises(RuntimeError, match="fewer than"):
        ember.from_file(str(path), size=50, dtype=ember.float64)


def test_creation_and_selection_helpers():
    e = ember.empty_permuted((2, 3, 4), (0, 2, 1))
    assert e.stride() == (12, 1, 3) and e.dim_order() == (0, 2, 1)
    with pytest.raises(RuntimeError, match="not a permutation"):
        ember.empty_permuted((2, 3), (0, 0))
    x = ember.tensor([[0, 1], [2, 0]])
    assert ember.nonzero_static(x, size=3).tolist() == [[0, 1], [1, 0], [-1, -1]]
    assert x.nonzero_static(size=1, fill_value=7).tolist() == [[0, 1]]
    with pytest.raises(RuntimeError, match="non-negative"):
        ember.nonzero_static(x, size=-1)
    y = ember.ones(3)
    z = ember.fill(y, 2.5)
    assert z.tolist() == [2.5] * 3 and y.tolist() == [1.0] * 3


def test_binomial_and_cond():
    ember.manual_seed(0)
    counts, probs = ember.full((20000,), 10.0), ember.full((20000,), 0.3)
    draws = ember.binomial(counts, probs)
    assert draws.dtype == ember.float32 and draws.min() >= 0 and draws.max() <= 10
    assert abs(draws.mean().item() - 3.0) < 0.05 and abs(draws.var().item() - 2.1) < 0.1
    assert ember.binomial(ember.tensor([-1.0, 0.0]), ember.tensor([0.5, 0.5])).tolist() == [0.0, 0.0]
    # PyTorch's corner cases: a NaN probability gives NaN, a count broadcasts against the probabilities
    got = ember.binomial(ember.tensor([10.0]), ember.tensor([float("nan"), 1.0]))
    assert np.isnan(got[0].item()) and got[1].item() == 10.0
    for call, kind, words in [
        (lambda: ember.binomial(None, probs), TypeError, "argument 'count' \\(position 1\\) must be Tensor"),
        (lambda: ember.binomial(ember.tensor([3]), probs[:1]), ValueError, "dtypes for count, got: Long"),
        (lambda: ember.binomial(counts[:1], ember.tensor([1])), ValueError, "floating-point dtypes for prob"),
        (lambda: ember.binomial(counts[:1], probs[:1].double()), RuntimeError, "Found dtype Double but expected Float"),
    ]:
        with pytest.raises(kind, match=words):
            call()
    g = ember.Generator().manual_seed(7)
    first = ember.binomial(counts[:5], probs[:5], generator=g)
    assert ember.binomial(counts[:5], probs[:5], generator=g.manual_seed(7)).tolist() == first.tolist()
    ops = (ember.ones(2),)
    assert ember.cond(True, lambda a: a + 1, lambda a: a - 1, ops).tolist() == [2, 2]
    assert ember.cond(ember.tensor(False), lambda a: a + 1, lambda a: a - 1, ops).tolist() == [0, 0]
    with pytest.raises(RuntimeError, match="single-element tensor"):
        ember.cond(ember.ones(2), lambda: 0, lambda: 1)


def test_tensor_methods():
    x = ember.ones(2, 3)
    assert x.is_set_to(x) and not x.is_set_to(x.view(3, 2)) and x.const_data_ptr() == x.data_ptr()
    a = ember.zeros(3)
    a.map2_(ember.ones(3), ember.arange(3.0), lambda s, p, q: s + p + q)
    assert a.tolist() == [1, 2, 3]
    w = ember.tensor([0.25])
    assert ember.tensor([1.0, -1.0]).prelu(w).tolist() == [1.0, -0.25]
    assert ember.tensor([0.3, 1.0]).hardshrink().tolist() == [0.0, 1.0]
    b = ember.tensor([1.0, 2.0], dtype=ember.float64)
    b.nextafter_(ember.tensor([2.0, 0.0], dtype=ember.float64))
    assert b.tolist() == [np.nextafter(1.0, 2.0), np.nextafter(2.0, 0.0)]
    p = ember.zeros(2)
    assert p.module_load(ember.ones(2)).tolist() == [1, 1] and p.tolist() == [1, 1]
    q = ember.ones(2, requires_grad=True)
    assert p.module_load(q, assign=True).requires_grad is False

    class Sub(ember.Tensor):
        pass

    s = x.as_subclass(Sub)
    assert type(s) is Sub and s.data_ptr() == x.data_ptr()
    with pytest.raises(TypeError):
        x.as_subclass(int)
    for name in ["solve", "lstsq", "eig", "symeig"]:
        with pytest.raises(RuntimeError, match="deprecated since version 1.9 and is now removed"):
            getattr(x, name)(x)
    with pytest.raises(RuntimeError, match="reinforce\\(\\) was removed"):
        x.reinforce(1.0)
    c = ember.zeros(4)
    assert c.as_strided_scatter(ember.ones(2), (2,), (2,)).tolist() == [1, 0, 1, 0]
    d = ember.tensor([0.5])
    assert ember.i0_(d) is d and d.item() == pytest.approx(np.i0(0.5))


def test_histogramdd_against_numpy():
    rng = np.random.default_rng(0)
    points = rng.random((200, 3))
    hist, edges = ember.histogramdd(ember.tensor(points), bins=[3, 4, 2])
    want, want_edges = np.histogramdd(points, bins=[3, 4, 2])
    np.testing.assert_allclose(hist.numpy(), want)
    for e, w in zip(edges, want_edges):
        np.testing.assert_allclose(e.numpy(), w)
    w = rng.random(200)
    got = ember.histogramdd(
        ember.tensor(points), bins=2, range=[0.0, 1.0, 0.0, 2.0, 0.0, 1.0], weight=ember.tensor(w), density=True
    )
    want, _ = np.histogramdd(points, bins=2, range=[(0, 1), (0, 2), (0, 1)], weights=w, density=True)
    np.testing.assert_allclose(got.hist.numpy(), want)
    with pytest.raises(RuntimeError, match="input tensor should have at least 2 dimensions"):
        ember.histogramdd(ember.rand(10), bins=3)
    with pytest.raises(RuntimeError, match="The size of bins must be equal"):
        ember.histogramdd(ember.tensor(points), bins=[2, 2])


def test_ctc_loss_and_debug_unwrap():
    log_probs = ember.randn(6, 2, 5).log_softmax(-1)
    targets = ember.tensor([[1, 2], [3, 3]])
    per_sample = ember.ctc_loss(log_probs, targets, [6, 6], [2, 2])  # torch.ctc_loss: no reduction by default
    want = ember.nn.functional.ctc_loss(
        log_probs, targets, ember.tensor([6, 6]), ember.tensor([2, 2]), reduction="none"
    )
    np.testing.assert_allclose(per_sample.numpy(), want.numpy())
    assert ember.ctc_loss(log_probs, targets, [6, 6], [2, 2], 0, 2).item() == pytest.approx(want.sum().item())
    seen = []
    ember.vmap(lambda row: seen.append(ember.func.debug_unwrap(row)) or row * 2)(ember.ones(3, 2))
    assert type(seen[0]) is ember.Tensor and seen[0].shape == (3, 2)
    assert ember.func.debug_unwrap(ember.ones(1)).shape == (1,)


def test_parity_with_torch():
    torch = pytest.importorskip("torch")
    assert ember.nonzero_static(ember.tensor([0, 1, 0, 2]), size=3).tolist() == (
        torch.nonzero_static(torch.tensor([0, 1, 0, 2]), size=3).tolist()
    )
    assert ember.empty_permuted((2, 3, 4), (2, 0, 1)).stride() == torch.empty_permuted((2, 3, 4), (2, 0, 1)).stride()
    x = ember.ones(2, 3)
    for name in ["solve", "symeig", "reinforce"]:
        with pytest.raises(RuntimeError) as mine:
            getattr(x, name)(x)
        with pytest.raises(RuntimeError) as theirs:
            getattr(torch.ones(2, 3), name)(torch.ones(2, 3))
        assert str(theirs.value).startswith(str(mine.value).split("\n")[0])
    points = np.random.default_rng(1).random((50, 2))
    a = ember.histogramdd(ember.tensor(points), bins=[3, 2], range=[0.0, 1.0, 0.0, 1.0])
    b = torch.histogramdd(torch.tensor(points), bins=[3, 2], range=[0.0, 1.0, 0.0, 1.0])
    np.testing.assert_allclose(a.hist.numpy(), b.hist.numpy())
    lp = np.log(np.random.default_rng(2).dirichlet(np.ones(5), size=(6, 2)))
    for reduction in (0, 1, 2):
        np.testing.assert_allclose(
            ember.ctc_loss(ember.tensor(lp), ember.tensor([[1, 2], [3, 3]]), [6, 5], [2, 1], 0, reduction).numpy(),
            torch.ctc_loss(torch.tensor(lp), torch.tensor([[1, 2], [3, 3]]), [6, 5], [2, 1], 0, reduction).numpy(),
            rtol=1e-10,
        )


REARRANGE_CASES = [
    ("b h w -> b (h w)", {}),
    ("b (h1 h2) w -> b h1 h2 w", {"h1": 3}),
    ("... w -> w ...", {}),
    ("b h w -> b h w 1", {}),
    ("b h w -> b () h w", {}),
    ("b h w -> (w b) h", {}),
    ("b h (w1 w2) -> w2 b h w1", {"w2": 2}),
    ("b ... -> b (...)", {}),
]


def _np_rearrange(x, pattern):
    """The cases above written out in numpy."""
    b, h, w = x.shape
    return {
        "b h w -> b (h w)": lambda: x.reshape(b, h * w),
        "b (h1 h2) w -> b h1 h2 w": lambda: x.reshape(b, 3, h // 3, w),
        "... w -> w ...": lambda: np.moveaxis(x, -1, 0),
        "b h w -> b h w 1": lambda: x[..., None],
        "b h w -> b () h w": lambda: x[:, None],
        "b h w -> (w b) h": lambda: x.transpose(2, 0, 1).reshape(w * b, h),
        "b h (w1 w2) -> w2 b h w1": lambda: x.reshape(b, h, w // 2, 2).transpose(3, 0, 1, 2),
        "b ... -> b (...)": lambda: x.reshape(b, h * w),
    }[pattern]()


@pytest.mark.parametrize("pattern,lengths", REARRANGE_CASES)
def test_rearrange(pattern, lengths):
    x = np.arange(24.0).reshape(2, 3, 4)
    got = ember.func.rearrange(ember.tensor(x), pattern, **lengths)
    np.testing.assert_array_equal(got.numpy(), _np_rearrange(x, pattern))
    t = ember.tensor(x, requires_grad=True)
    assert ember.autograd.gradcheck(lambda a: ember.func.rearrange(a, pattern, **lengths), (t,))
    torch = pytest.importorskip("torch")
    assert got.tolist() == torch.func.rearrange(torch.tensor(x), pattern, **lengths).tolist()


def test_rearrange_errors_and_lists():
    x = ember.ones(2, 3, 4)
    assert ember.func.rearrange([x, x], "n b h w -> b n w h").shape == (2, 2, 4, 3)
    with pytest.raises(ValueError, match="Number of dimensions in pattern \\(2\\)"):
        ember.func.rearrange(x, "b h -> b h")
    with pytest.raises(ValueError, match="Identifiers only on one side"):
        ember.func.rearrange(x, "b h w -> b h")
    with pytest.raises(ValueError, match="cannot infer the sizes of two dimensions at once"):
        ember.func.rearrange(x, "b (h1 h2) w -> b h1 h2 w")


def test_enforce_grad_layout_policy_keeps_the_contract():
    p = ember.randn(3, 4).t().requires_grad_()  # a transposed leaf: its gradient takes its strides
    for enable in (True, False):
        p.grad = None
        with ember.autograd.enforce_grad_layout_policy(enable):
            (p * 2).sum().backward()
        assert p.grad.stride() == p.stride()
    assert ember.autograd.enforce_grad_layout_policy()(lambda: 5)() == 5


# ----------------------------------------------------------------------------- hash_tensor, slice_inverse, ...


def _xor_of_bits(a, axis=None, keepdims=False):
    wide = a.astype(np.float64) if a.dtype.kind == "f" else a.astype(np.int64)
    return np.bitwise_xor.reduce(np.ascontiguousarray(wide).view(np.uint64), axis=axis, keepdims=keepdims)


def test_hash_tensor_xors_the_64_bit_patterns():
    rng = np.random.default_rng(0)
    for a in [rng.standard_normal((3, 4)).astype(np.float32), rng.integers(-9, 9, (3, 4)), np.array([True, False])]:
        t = ember.from_numpy(a)
        got = ember.hash_tensor(t)
        assert got.dtype == ember.uint64 and got.dim() == 0 and got.item() == int(_xor_of_bits(a))
    a = rng.standard_normal((3, 4, 2))
    t = ember.from_numpy(a)
    np.testing.assert_array_equal(t.hash_tensor(1).numpy(), _xor_of_bits(a, 1))
    np.testing.assert_array_equal(ember.hash_tensor(t, (0, 2), keepdim=True).numpy(), _xor_of_bits(a, (0, 2), True))
    assert ember.hash_tensor(ember.tensor([-1], dtype=ember.int8)).item() == 2**64 - 1  # sign-extended to 64 bits
    assert ember.hash_tensor(ember.tensor([1, 2, 3])).item() == 0 and ember.hash_tensor(ember.ones(0)).item() == 0
    with pytest.raises(RuntimeError, match="mode=0"):
        ember.hash_tensor(t, mode=1)
    scalar = ember.hash_tensor(ember.tensor(1.5), 0)  # a 0-d input is its own hash, still 0-d
    assert scalar.dim() == 0 and scalar.item() == int(np.array(1.5).view(np.uint64))
    with pytest.raises(IndexError, match="Dimension out of range"):
        ember.hash_tensor(t, 5)
    with pytest.raises(TypeError, match="must be Tensor, not NoneType"):
        ember.hash_tensor(None)


def test_slice_inverse_thread_safe_generator_and_name():
    base = ember.zeros(4, 6)
    src = ember.arange(24.0).view(4, 6)[:, 1:5:2]
    inv = ember.slice_inverse(base[:, 1:5:2], src, dim=1, start=1, end=5, step=2)
    assert inv.shape == src.shape and inv.stride() == src.stride() and inv.data_ptr() == base[:, 1:5:2].data_ptr()
    inv += 1  # a view of base's memory
    assert base[:, 1:5:2].sum().item() == 8 and base.sum().item() == 8
    with pytest.raises(TypeError, match="argument 'src' \\(position 2\\) must be Tensor"):
        ember.slice_inverse(base, None)
    assert ember.thread_safe_generator() is None  # ember's DataLoader workers are processes
    assert ember.ones(2).name is None
    with pytest.raises(AttributeError):
        ember.ones(2).name = "x"


def test_hash_tensor_matches_pytorch():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float16)
    for args in [(), (0,), (1,)]:
        np.testing.assert_array_equal(
            ember.hash_tensor(ember.from_numpy(a), *args).numpy(), torch.hash_tensor(torch.from_numpy(a), *args).numpy()
        )
