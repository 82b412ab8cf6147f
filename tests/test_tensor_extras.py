"""mode, unfold, fill_diagonal_, range, empty_strided, asarray, frexp, nextafter, apply_/map_, nbytes and
the storage facts: against numpy, with gradients where torch has them, and against PyTorch when present."""

import warnings

import numpy as np
import pytest

import ember


def test_mode_picks_the_smallest_most_frequent_value_at_its_last_index():
    x = ember.tensor([[1.0, 2.0, 2.0, 3.0, 3.0, 1.0], [5.0, 5.0, 4.0, 4.0, 4.0, 0.0]], requires_grad=True)
    values, indices = ember.mode(x, 1)
    assert values.tolist() == [1.0, 4.0] and indices.tolist() == [5, 4]
    values.sum().backward()
    expected = np.zeros((2, 6))
    expected[0, 5] = expected[1, 4] = 1
    np.testing.assert_array_equal(x.grad.numpy(), expected)
    kept = x.mode(axis=0, keepdims=True)
    assert kept.values.shape == (1, 6) and type(kept).__name__ == "mode"


def test_unfold_windows_and_gradient():
    x = ember.arange(10.0, dtype=ember.float64).requires_grad_()
    w = x.unfold(0, 3, 2)
    ref = np.lib.stride_tricks.sliding_window_view(np.arange(10.0), 3)[::2]
    np.testing.assert_array_equal(w.detach().numpy(), ref)
    assert ember.autograd.gradcheck(
        lambda t: t.unfold(1, 2, 1), (ember.randn(2, 4, 3, dtype=ember.float64).requires_grad_(),)
    )
    assert ember.arange(24.0).reshape(2, 3, 4).unfold(1, 2, 1).shape == (2, 2, 4, 2)
    with pytest.raises(RuntimeError, match="maximum size for tensor at dimension 0 is 10 but size is 11"):
        x.unfold(0, 11, 1)


@pytest.mark.parametrize(
    "shape, wrap", [((3, 3), False), ((5, 3), True), ((5, 3), False), ((2, 4), False), ((3, 3, 3), False)]
)
def test_fill_diagonal(shape, wrap):
    t = ember.zeros(*shape)
    assert t.fill_diagonal_(2.0, wrap=wrap) is t
    ref = np.zeros(shape)
    np.fill_diagonal(ref, 2.0, wrap=wrap)
    np.testing.assert_array_equal(t.numpy(), ref)


def test_range_is_inclusive_and_deprecated():
    with pytest.warns(UserWarning, match="torch.range is deprecated"):
        r = ember.range(0, 1, 0.25)
    assert r.dtype == ember.float32 and r.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_empty_strided_and_asarray():
    e = ember.empty_strided((2, 3), (1, 2))
    assert e.shape == (2, 3) and e.stride() == (1, 2)
    a = np.arange(3.0)
    shared = ember.asarray(a)
    a[0] = 7.0
    assert shared[0].item() == 7.0  # no copy unless asked
    assert ember.asarray(a, copy=True) is not None and ember.asarray([1, 2]).dtype == ember.int64
    t = ember.ones(2)
    assert ember.asarray(t) is t and ember.asarray(t, copy=True) is not t


def test_frexp_and_nextafter_against_numpy():
    x = np.array([8.0, 0.3, -5.5, 0.0])
    m, e = ember.frexp(ember.tensor(x, dtype=ember.float64))
    rm, re = np.frexp(x)
    np.testing.assert_array_equal(m.numpy(), rm)
    np.testing.assert_array_equal(e.numpy(), re)
    assert e.dtype == ember.int32
    n = ember.nextafter(ember.tensor([1.0]), ember.tensor([2.0]))
    assert n.item() == np.nextafter(np.float32(1), np.float32(2))


def test_apply_map_and_storage_facts():
    t = ember.tensor([1.0, 2.0, 3.0])
    assert t.apply_(lambda v: v * 10) is t and t.tolist() == [10.0, 20.0, 30.0]
    t.map_(ember.tensor([1.0, 2.0, 3.0]), lambda a, b: a + b)
    assert t.tolist() == [11.0, 22.0, 33.0]
    with pytest.raises(RuntimeError, match="do not require grad"):
        ember.ones(2, requires_grad=True).apply_(abs)
    assert t.nbytes == 12 and t.itemsize == 4 and ember.zeros(2, dtype=ember.float64).nbytes == 16
    assert not t.is_shared() and t.share_memory_() is t and not t.is_pinned()


def test_top_level_functional_names():
    x = ember.randn(2, 3)
    np.testing.assert_allclose(ember.layer_norm(x, (3,)).numpy(), ember.nn.functional.layer_norm(x, (3,)).numpy())
    assert ember.dropout(x, 0.5, False) is not None and (ember.dropout(x, 0.5, False) == x).all()
    np.testing.assert_allclose(ember.selu(x).numpy(), ember.nn.functional.selu(x).numpy())


def test_against_pytorch():
    torch = pytest.importorskip("torch")
    warnings.simplefilter("ignore")
    data = np.random.default_rng(0).integers(0, 4, size=(3, 7)).astype(np.float64)
    for dim in (0, 1):
        e, t = ember.mode(ember.tensor(data), dim), torch.mode(torch.tensor(data), dim)
        np.testing.assert_array_equal(e.values.numpy(), t.values.numpy())
        np.testing.assert_array_equal(e.indices.numpy(), t.indices.numpy())
    for shape, wrap in [((7, 3), True), ((4, 4, 4), False)]:
        e, t = ember.zeros(*shape), torch.zeros(*shape)
        np.testing.assert_array_equal(e.fill_diagonal_(1.5, wrap).numpy(), t.fill_diagonal_(1.5, wrap).numpy())
    x = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(ember.tensor(x).unfold(2, 3, 1).numpy(), torch.tensor(x).unfold(2, 3, 1).numpy())
    np.testing.assert_array_equal(ember.range(1, 2, 0.3).numpy(), torch.range(1, 2, 0.3).numpy())


def test_accelerator_and_onnx_say_what_this_build_has():
    assert ember.accelerator.is_available() is False and ember.accelerator.device_count() == 0
    assert ember.accelerator.current_accelerator() is None
    assert ember.onnx.is_in_onnx_export() is False
    with pytest.raises(NotImplementedError, match="cannot export ONNX"):
        ember.onnx.export(ember.nn.Linear(2, 2), ember.zeros(1, 2), "model.onnx")
    mha = ember.nn.MultiheadAttention(4, 2)
    assert type(mha.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    assert ember.nn.modules.activation.MultiheadAttention is ember.nn.MultiheadAttention


def test_load_honours_pytorchs_weights_only_switches(tmp_path, monkeypatch):
    import pickle

    path = tmp_path / "array.pt"
    ember.save({"a": np.arange(3.0)}, path)  # a numpy array: not a weights-only global
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        ember.load(path)
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    np.testing.assert_array_equal(ember.load(path)["a"], np.arange(3.0))
    with pytest.raises(pickle.UnpicklingError):
        ember.load(path, weights_only=True)  # an explicit argument wins over the switch
    monkeypatch.setenv("TORCH_FORCE_WEIGHTS_ONLY_LOAD", "1")
    with pytest.raises(pickle.UnpicklingError):
        ember.load(path, weights_only=False)  # the forcing switch wins over everything


@pytest.mark.parametrize("p", [0.5, 1.5, 3.0])
def test_norm_gradient_is_finite_at_zero_elements(p):
    # d||x||_p/dx = sign(x) |x|^(p-1) / ||x||^(p-1): 0 at a zero element (x |x|^(p-2) made NaN there).
    x = ember.tensor([0.0, 1.0, -2.0], dtype=ember.float64, requires_grad=True)
    ember.norm(x, p).backward()
    n = (1 + 2**p) ** (1 / p)
    np.testing.assert_allclose(x.grad.numpy(), [0.0, n ** (1 - p), -(2 ** (p - 1)) * n ** (1 - p)])


def test_amax_amin_of_an_empty_tensor_over_nonempty_dims():
    assert ember.ones(0, 3).amin(1).shape == (0,) and ember.ones(0, 3).amax(1, keepdim=True).shape == (0, 1)
    with pytest.raises(IndexError, match="Expected reduction dim 0 to have non-zero size"):
        ember.ones(0, 3).amax(0)
    with pytest.raises(RuntimeError, match="Expected reduction dim to be specified"):  # PyTorch's class
        ember.ones(0, 3).amin()


def test_misuse_of_the_new_ops_raises_cleanly():
    # a 0-d tensor has nothing to flip, and cumprod's gradient (which flips) works on it
    assert ember.flip(ember.tensor(3.0), [0]).item() == 3.0
    x = ember.tensor(2.0, requires_grad=True)
    ember.cumprod(x, 0).backward()
    assert x.grad.item() == 1.0
    with pytest.raises(IndexError, match="Expected reduction dim 0 to have non-zero size"):
        ember.mode(ember.zeros(0))
    with pytest.raises(RuntimeError, match="total number of repeats overflows"):
        ember.repeat_interleave(ember.tensor([1.0, 2.0]), 2**62)


def test_creation_keywords_act_or_refuse():
    # every keyword these accept does something: requires_grad and out= apply, devices/layouts they
    # cannot honour are refused, unknown keywords are a TypeError
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert ember.range(0, 2, requires_grad=True).requires_grad
        out = ember.empty(0)
        assert ember.range(0, 1, out=out) is out and out.tolist() == [0.0, 1.0]
        with pytest.raises(TypeError, match="unexpected keyword"):
            ember.range(0, 1, foo=1)
    assert ember.empty_strided((2, 2), (2, 1), requires_grad=True).requires_grad
    assert ember.asarray([1.0], requires_grad=True).requires_grad
    for make in (
        lambda: ember.asarray([1.0], device="cuda:99"),  # no such device, with a GPU or without
        lambda: ember.empty_strided((2,), (1,), device="cuda", pin_memory=True),
    ):
        with pytest.raises(RuntimeError):
            make()
    with pytest.raises(TypeError, match="memory_format"):  # PyTorch's argument parser refuses it so too
        ember.randint_like(ember.zeros(2), 3, memory_format=object())
