"""ember.signal.windows against SciPy's windows (the reference torch.signal.windows follows) for symmetric and
periodic forms and small lengths, PyTorch's argument errors, dtypes and requires_grad; and against
torch.signal.windows when PyTorch is importable."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.signal import windows as E

W = pytest.importorskip("scipy.signal.windows")

PLAIN = ["bartlett", "blackman", "cosine", "hamming", "hann", "nuttall"]
WITH_ARGS = [
    ("gaussian", {"std": 1.7}, lambda M, sym: W.gaussian(M, 1.7, sym=sym)),
    ("kaiser", {"beta": 5.0}, lambda M, sym: W.kaiser(M, 5.0, sym=sym)),
    ("general_cosine", {"a": [0.5, 0.3, 0.2]}, lambda M, sym: W.general_cosine(M, [0.5, 0.3, 0.2], sym=sym)),
    ("general_hamming", {"alpha": 0.6}, lambda M, sym: W.general_hamming(M, 0.6, sym=sym)),
    ("exponential", {"tau": 2.0}, lambda M, sym: W.exponential(M, None, 2.0, sym=sym)),
]


@pytest.mark.parametrize("sym", [True, False])
@pytest.mark.parametrize("M", [0, 1, 2, 7, 8])
@pytest.mark.parametrize("name", PLAIN)
def test_plain_windows_equal_scipys(name, M, sym):
    got = getattr(E, name)(M, sym=sym, dtype=ember.float64)
    np.testing.assert_allclose(got.numpy(), getattr(W, name)(M, sym=sym), atol=1e-12)


@pytest.mark.parametrize("sym", [True, False])
@pytest.mark.parametrize("M", [1, 6, 9])
@pytest.mark.parametrize(("name", "kwargs", "reference"), WITH_ARGS, ids=[w[0] for w in WITH_ARGS])
def test_parameterised_windows_equal_scipys(name, kwargs, reference, M, sym):
    got = getattr(E, name)(M, sym=sym, dtype=ember.float64, **kwargs)
    np.testing.assert_allclose(got.numpy(), reference(M, sym), atol=1e-12)


def test_periodic_exponential_takes_a_center_and_dtypes_follow_the_default():
    got = E.exponential(7, center=2.0, tau=2.0, sym=False, dtype=ember.float64)
    np.testing.assert_allclose(got.numpy(), W.exponential(7, 2.0, 2.0, sym=False), atol=1e-12)
    assert E.hann(4).dtype == ember.float32 and E.hann(4, requires_grad=True).requires_grad
    assert ember.signal.windows is E


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: E.hann(-1), ValueError, "general_cosine requires non-negative window length, got M=-1"),  # as PyTorch
        (lambda: E.bartlett(-1), ValueError, "bartlett requires non-negative window length, got M=-1"),
        (lambda: E.hann(4, dtype=ember.int64), ValueError, "general_cosine expects float32 or float64 dtypes"),
        (lambda: E.gaussian(4, std=0.0), ValueError, "Standard deviation must be positive, got: 0.0 instead."),
        (lambda: E.exponential(4, tau=-1.0), ValueError, "Tau must be positive, got: -1.0 instead."),
        (lambda: E.exponential(4, center=1.0), ValueError, "Center must be None for symmetric windows"),
        (lambda: E.kaiser(4, beta=-1.0), ValueError, "beta must be non-negative, got: -1.0 instead."),
        (lambda: E.general_cosine(4, a=[]), ValueError, "Coefficients cannot be empty"),
        (lambda: E.general_cosine(4, a=3), TypeError, "Coefficients must be a list/tuple"),
        (lambda: E.hann(3.5), TypeError, "the window length M must be an int, got float"),
    ],
)
def test_errors_are_pytorchs(call, error, words):
    with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)")):
        call()


def test_windows_match_pytorch():
    torch = pytest.importorskip("torch")
    for name in PLAIN:
        for sym in (True, False):
            a = getattr(E, name)(9, sym=sym).numpy()
            b = getattr(torch.signal.windows, name)(9, sym=sym).numpy()
            np.testing.assert_allclose(a, b, atol=1e-6)
    for name, kwargs, _ in WITH_ARGS:
        a = getattr(E, name)(9, sym=False, **kwargs).numpy()
        b = getattr(torch.signal.windows, name)(9, sym=False, **kwargs).numpy()
        np.testing.assert_allclose(a, b, atol=1e-6)
