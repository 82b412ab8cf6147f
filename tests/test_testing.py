"""ember.testing: assert_close's tolerances and messages (word for word as torch.testing's, checked when
PyTorch is importable), make_tensor's ranges and layouts, and the deprecated assert_allclose."""

from __future__ import annotations

import pytest

import ember
from ember.testing import assert_allclose, assert_close, make_tensor
from helpers import NO_CUDA_MESSAGE

# (make the pair from a library, keyword arguments): failures and passes alike
PAIRS = [
    (lambda m: (m.tensor([1.0, 2.0, 3.0]), m.tensor([1.0, 2.1, 3.0])), {}),
    (lambda m: (m.tensor([1, 2]), m.tensor([1.0, 2.0])), {}),
    (lambda m: (m.tensor([1.0, 2.0]), m.tensor([1.0, 2.0, 3.0])), {}),
    (lambda m: (1.0, 1.1), {}),
    (lambda m: (1, 2), {}),
    (lambda m: ([m.tensor(1.0)], [m.tensor(2.0)]), {}),
    (lambda m: ({"a": m.tensor([1.0, float("nan")])}, {"a": m.tensor([1.0, float("nan")])}), {}),
    (lambda m: (m.ones(2, 2), m.ones(2, 2) + 1), {"msg": "custom"}),
    (lambda m: (m.ones(2, 2), m.ones(2, 2) + 1), {"msg": lambda s: "X" + s[:10]}),
    (lambda m: (m.ones(2, 2, dtype=m.int64), m.ones(2, 2, dtype=m.int64) * 3), {}),
    (lambda m: (m.ones(2, 2), m.ones(2, 2).t()), {"check_stride": True}),
    (lambda m: (m.tensor([1.0, 2.0]), m.tensor([1.0, 2.5])), {"rtol": 0.1, "atol": 0.0}),
    (lambda m: ([m.tensor(1.0), {"b": m.tensor([1.0, 2.0])}], [m.tensor(1.0), {"b": m.tensor([1.0, 3.0])}]), {}),
    (lambda m: ([1, 2], [1, 2, 3]), {}),
    (lambda m: (m.tensor([1.0, float("nan")]), m.tensor([1.0, float("nan")])), {"equal_nan": True}),
    (lambda m: (m.tensor(1.0), m.tensor(1.5)), {}),
    (lambda m: (m.tensor([1.0, 2.0], dtype=m.float64), m.tensor([1.0, 2.001], dtype=m.float64)), {}),
    (lambda m: (m.tensor([1.0, 2.0], dtype=m.float16), m.tensor([1.0, 2.01], dtype=m.float16)), {}),
    (lambda m: (m.tensor([1.0, 2.0]), m.tensor([1.0, 2.0], dtype=m.float64)), {"check_dtype": False}),
    (lambda m: (m.tensor([1.0, 2.0]), m.tensor([1.0, 2.0])), {"rtol": 0.1}),
    (lambda m: ({"a": 1}, {"b": 1}), {}),
    (lambda m: (m.tensor([1.0]), [1.0]), {}),
    (lambda m: (m.tensor([True, False]), m.tensor([True, True])), {}),
]


def _outcome(lib, make, kwargs):
    try:
        lib.testing.assert_close(*make(lib), **kwargs)
        return "ok"
    except Exception as e:  # noqa: BLE001  (the outcome is compared whatever it is)
        return f"{type(e).__name__}: {e}".replace("torch.", "ember.")


def test_messages_and_tolerances():
    assert_close(ember.tensor([1.0, 2.0]), ember.tensor([1.0, 2.0 + 1e-6]))  # within float32's 1.3e-6
    with pytest.raises(AssertionError) as info:
        assert_close(ember.tensor([1.0, 2.0, 3.0]), ember.tensor([1.0, 2.1, 3.0]))
    assert str(info.value).startswith(
        "Tensor-likes are not close!\n\nMismatched elements: 1 / 3 (33.3%)\nGreatest absolute difference: 0.0999999"
    )
    assert "at index (1,) (up to 1e-05 allowed)" in str(info.value)
    with pytest.raises(
        AssertionError, match="The values for attribute 'dtype' do not match: ember.int64 != ember.float32"
    ):
        assert_close(ember.tensor([1, 2]), ember.tensor([1.0, 2.0]))
    with pytest.raises(AssertionError, match=r"The failure occurred for item \[1\]\['b'\]"):
        assert_close([1.0, {"b": ember.ones(2)}], [1.0, {"b": ember.zeros(2)}])
    with pytest.raises(ValueError, match="Both 'rtol' and 'atol' must be either specified or omitted"):
        assert_close(ember.ones(1), ember.ones(1), rtol=0.1)
    with pytest.raises(TypeError, match="No comparison pair was able to handle inputs"):
        assert_close(ember.ones(1), "one")
    with pytest.warns(FutureWarning, match=r"`torch.testing.assert_allclose\(\)` is deprecated"):
        assert_allclose(ember.tensor([1.0, float("nan")]), [1.0, float("nan")])


def test_against_torch_testing():
    torch = pytest.importorskip("torch")
    for make, kwargs in PAIRS:
        assert _outcome(ember, make, kwargs) == _outcome(torch, make, kwargs)


def test_make_tensor():
    ember.manual_seed(0)
    x = make_tensor(200, 3, dtype=ember.float32, device="cpu", low=-2, high=5)
    assert x.shape == (200, 3) and x.dtype == ember.float32 and -2 <= x.min().item() and x.max().item() < 5
    i = make_tensor((500,), dtype=ember.int64, device="cpu", exclude_zero=True)
    assert -9 <= i.min().item() and i.max().item() <= 9 and not bool((i == 0).any())
    assert make_tensor(10, dtype=ember.uint8, device="cpu").min().item() >= 0
    assert make_tensor(10, dtype=ember.bool, device="cpu").dtype == ember.bool
    n = make_tensor(4, 6, dtype=ember.float64, device="cpu", noncontiguous=True, requires_grad=True)
    assert n.shape == (4, 6) and not n.is_contiguous() and n.requires_grad
    assert make_tensor(2, 3, dtype=ember.float32, device="meta").is_meta
    with pytest.raises(ValueError, match="low must be less than or equal to high"):
        make_tensor(2, dtype=ember.float32, device="cpu", low=3, high=1)
    if not ember.cuda.is_available():
        with pytest.raises(RuntimeError, match=NO_CUDA_MESSAGE):
            make_tensor(2, dtype=ember.float32, device="cuda")
    with pytest.raises(NotImplementedError, match="no memory formats"):
        make_tensor(2, dtype=ember.float32, device="cpu", memory_format="channels_last")


def test_allow_subclasses():
    p = ember.nn.Parameter(ember.ones(2))
    assert_close(p, ember.ones(2))  # a Parameter is a Tensor
    with pytest.raises(TypeError, match="No comparison pair was able to handle inputs of type"):
        assert_close(p, ember.ones(2), allow_subclasses=False)
