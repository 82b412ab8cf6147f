"""The call forms PyTorch's argument parser takes beyond the documented signatures (Note [Lenient call
forms]): a number as the input of the arithmetic functions, and the deprecated number-first overloads of
add/sub/addcmul/addcdiv that older optimizers use, with PyTorch's deprecation warning."""

import warnings

import numpy as np
import pytest

import ember

X = np.array([1.5, -2.0, 4.0])


def t(values=X, dtype=ember.float64, requires_grad=False):
    return ember.tensor(values, dtype=dtype, requires_grad=requires_grad)


@pytest.mark.parametrize(
    "name, expected",
    [
        ("add", lambda n, x: n + x), ("sub", lambda n, x: n - x), ("subtract", lambda n, x: n - x),
        ("mul", lambda n, x: n * x), ("multiply", lambda n, x: n * x), ("div", lambda n, x: n / x),
        ("divide", lambda n, x: n / x), ("true_divide", lambda n, x: n / x),
        ("floor_divide", lambda n, x: np.floor_divide(n, x)), ("remainder", lambda n, x: np.remainder(n, x)),
    ],
)  # fmt: skip
def test_a_number_may_be_the_input_of_the_arithmetic_functions(name, expected):
    out = getattr(ember, name)(3.0, t())
    np.testing.assert_allclose(out.numpy(), expected(3.0, X), rtol=1e-15)
    # a wrapped number: it does not widen the tensor's dtype, and an int number keeps integers integers
    assert getattr(ember, name)(2, t(dtype=ember.float32)).dtype == ember.float32
    if name not in ("div", "divide", "true_divide"):
        assert getattr(ember, name)(7, ember.tensor([2, 3])).dtype == ember.int64


def test_number_first_keeps_keywords_and_gradients():
    x = t(requires_grad=True)
    out = ember.sub(10.0, x, alpha=2)
    np.testing.assert_allclose(out.detach().numpy(), 10.0 - 2 * X)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [-2.0] * 3)
    into = ember.empty(3, dtype=ember.float64)
    assert ember.div(1.0, t(), out=into) is into
    np.testing.assert_allclose(into.numpy(), 1 / X)
    np.testing.assert_allclose(ember.div(7.0, t(), rounding_mode="floor").numpy(), np.floor(7.0 / X))
    with pytest.raises(TypeError, match="incompatible function arguments"):
        ember.add("x", t())


@pytest.mark.parametrize(
    "call, expected, words",
    [
        (lambda a, b, c: a.add_(-0.5, b), lambda a, b, c: a - 0.5 * b, "add_(Number alpha, Tensor other)"),
        (lambda a, b, c: a.sub_(0.5, b), lambda a, b, c: a - 0.5 * b, "sub_(Number alpha, Tensor other)"),
        (lambda a, b, c: a.add(2, b), lambda a, b, c: a + 2 * b, "add(Number alpha, Tensor other)"),
        (lambda a, b, c: ember.add(a, 2, b), lambda a, b, c: a + 2 * b, "add(Tensor input, Number alpha"),
        (lambda a, b, c: ember.sub(a, 2, b), lambda a, b, c: a - 2 * b, "sub(Tensor input, Number alpha"),
        (lambda a, b, c: a.addcmul_(0.25, b, c), lambda a, b, c: a + 0.25 * b * c, "addcmul_(Number value"),
        (lambda a, b, c: a.addcdiv_(0.25, b, c), lambda a, b, c: a + 0.25 * b / c, "addcdiv_(Number value"),
        (lambda a, b, c: a.addcmul(3, b, c), lambda a, b, c: a + 3 * b * c, "addcmul(Number value"),
        (lambda a, b, c: ember.addcmul(a, 3, b, c), lambda a, b, c: a + 3 * b * c, "addcmul(Tensor input, Number"),
        (lambda a, b, c: ember.addcdiv(a, 3, b, c), lambda a, b, c: a + 3 * b / c, "addcdiv(Tensor input, Number"),
    ],
)
def test_deprecated_number_first_overloads_work_and_warn_as_pytorch(call, expected, words):
    a, b, c = t(), t(X[::-1].copy()), t(X + 5)
    want = expected(X, X[::-1], X + 5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = call(a, b, c)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-15)
    # PyTorch's words, once per overload and process
    assert all("is deprecated" in str(w.message) for w in caught)
    seen = " ".join(str(w.message) for w in caught)
    assert not caught or (words in seen and "Consider using one of the following signatures instead" in seen)


def test_the_old_sgd_step_of_many_repositories_runs():
    p = t(requires_grad=True)
    (p * p).sum().backward()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p.data.add_(-0.1, p.grad)  # PyTorch 0.4-era SGD
    np.testing.assert_allclose(p.detach().numpy(), X - 0.1 * 2 * X)


def test_against_pytorch():
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = []
        for lib in (torch, ember):
            x = lib.tensor([1.5, -2.0, 4.0], dtype=lib.float64)
            results.append(
                [
                    lib.div(1.0, x),
                    lib.sub(3, x, alpha=2),
                    lib.remainder(5, x),
                    x.clone().add_(-0.5, x),
                    lib.addcmul(x, 0.5, x, x),
                    x.clone().addcdiv_(2, x, x + 9),
                ]  # fmt: skip
            )
    for a, b in zip(*results):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-15)


def test_a_deprecated_overload_warns_once_with_pytorchs_words():
    import subprocess
    import sys

    code = (
        "import warnings, ember\n"
        "x = ember.ones(2)\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    x.add_(0.5, x); x.add_(0.5, x); x.addcmul_(2, x, x)\n"
        "print(len(w)); print(w[0].message); print(w[0].category.__name__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.startswith("2\nThis overload of add_ is deprecated:\n\tadd_(Number alpha, Tensor other)\n")
    assert "Consider using one of the following signatures instead:\n\tadd_(Tensor other, *, Number alpha = 1)" in out
    assert out.rstrip().endswith("UserWarning")


def test_eye_writes_into_out_of_its_dtype_resized_without_a_warning():
    out = ember.empty(3, 3, dtype=ember.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ember.eye(2, out=out) is out  # (Shampoo's torch.eye(dim, out=grad.new(dim, dim)))
    assert out.shape == (2, 2) and out.dtype == ember.float64 and out.tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert ember.eye(2, 3, out=ember.empty(0, dtype=ember.int64)).tolist() == [[1, 0, 0], [0, 1, 0]]
