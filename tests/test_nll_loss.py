"""ember._C._nll_loss: the node behind nn.functional.nll_loss / cross_entropy."""

import numpy as np
import pytest

import ember

IGNORE = -100


def numpy_nll(x, t, w, reduction, ignore_index=IGNORE):
    keep = t != ignore_index
    safe = np.where(keep, t, 0)
    wt = (np.ones(x.shape[1]) if w is None else w)[safe] * keep
    per = -wt * x[np.arange(len(t)), safe]
    if reduction == "none":
        return per
    return per.sum() / (wt.sum() if reduction == "mean" else 1.0)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss_forward_and_gradient(reduction, weighted):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 4))
    t = np.array([0, 3, 1, IGNORE, 2, 3])
    w = rng.random(4) + 0.5 if weighted else None
    target = ember.tensor(t)
    weight = None if w is None else ember.tensor(w)
    out = ember._C._nll_loss(ember.tensor(x), target, weight, IGNORE, reduction)
    np.testing.assert_allclose(out.numpy(), numpy_nll(x, t, w, reduction), rtol=1e-12)

    def fn(a):
        return ember._C._nll_loss(a.log_softmax(1), target, weight, IGNORE, reduction)

    xe = ember.tensor(x, requires_grad=True)
    assert fn(xe).grad_fn.name() == "NllLossBackward0"
    assert ember.autograd.gradcheck(fn, (xe,))
    assert ember.autograd.gradgradcheck(fn, (xe,))


def test_nll_loss_float32_and_unbatched():
    x = np.array([[0.5, -1.0, 2.0]], dtype=np.float32)
    out = ember._C._nll_loss(ember.tensor(x), ember.tensor([2]), None, IGNORE, "sum")
    assert out.dtype == ember.float32 and out.item() == -2.0
    one = ember._C._nll_loss(ember.tensor(x[0]), ember.tensor(1), None, IGNORE, "none")
    assert one.shape == () and one.item() == 1.0


def test_nll_loss_all_ignored_mean_is_nan():
    out = ember._C._nll_loss(ember.zeros(2, 3), ember.tensor([IGNORE, IGNORE]), None, IGNORE, "mean")
    assert np.isnan(out.item())


@pytest.mark.parametrize(
    "call, exc, words",
    [
        (
            lambda: ember._C._nll_loss(ember.ones(2, 3), ember.tensor([0, 3]), None, IGNORE, "mean"),
            IndexError,
            "Target 3 is out of bounds",
        ),
        (
            lambda: ember._C._nll_loss(ember.ones(2, 3), ember.tensor([0, 1, 1]), None, IGNORE, "mean"),
            RuntimeError,
            r"Expected input batch_size \(2\) to match target batch_size \(3\)",
        ),
        (
            lambda: ember._C._nll_loss(ember.ones(2, 3), ember.tensor([0.0, 1.0]), None, IGNORE, "mean"),
            RuntimeError,
            "expected scalar type Long",
        ),
        (
            lambda: ember._C._nll_loss(ember.ones(2, 3), ember.tensor([0, 1]), ember.ones(2), IGNORE, "mean"),
            RuntimeError,
            "weight tensor should be defined either for all 3 classes",
        ),
        (
            lambda: ember._C._nll_loss(ember.ones(2, 3), ember.tensor([0, 1]), None, IGNORE, "avg"),
            ValueError,
            "avg is not a valid value for reduction",
        ),
        (
            lambda: ember._C._nll_loss(
                ember.ones(2, 3, 4, 5), ember.zeros(2, 4, 5, dtype=ember.int64), None, IGNORE, "mean"
            ),
            RuntimeError,
            "expected input of 1 or 2 dimensions",
        ),
    ],
)
def test_nll_loss_errors(call, exc, words):
    with pytest.raises(exc, match=words):
        call()
