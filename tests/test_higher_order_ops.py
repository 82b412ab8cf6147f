"""ember._higher_order_ops: ``associative_scan`` (transformers' Mamba imports it) and ``scan``, computed
eagerly from ember ops, checked against numpy's cumulative ops, a sequential recurrence, finite differences
and, where installed, PyTorch's."""

import numpy as np
import pytest

import ember
from ember._higher_order_ops import associative_scan, scan

RNG = np.random.default_rng(0)


def _add(a, b):
    return a + b


def _linear_recurrence(x, y):  # (a, b) pairs composing h -> a*h + b
    return (x[0] * y[0], y[0] * x[1] + y[1])


@pytest.mark.parametrize("length", range(1, 10))
def test_associative_scan_is_an_inclusive_scan(length):
    a = RNG.normal(size=(2, length, 3))
    np.testing.assert_allclose(associative_scan(_add, ember.tensor(a), 1).numpy(), np.cumsum(a, 1))
    flipped = np.flip(np.cumprod(np.flip(a, 1), 1), 1)
    np.testing.assert_allclose(associative_scan(lambda x, y: x * y, ember.tensor(a), 1, reverse=True).numpy(), flipped)
    np.testing.assert_allclose(
        associative_scan(ember.maximum, ember.tensor(a), -1).numpy(), np.maximum.accumulate(a, -1)
    )


def test_associative_scan_of_a_pytree_runs_a_linear_recurrence():
    a, b = RNG.random((3, 11)), RNG.normal(size=(3, 11))
    _, states = associative_scan(_linear_recurrence, (ember.tensor(a), ember.tensor(b)), 1, combine_mode="generic")
    h, want = np.zeros(3), []
    for t in range(11):
        h = a[:, t] * h + b[:, t]
        want.append(h)
    np.testing.assert_allclose(states.numpy(), np.stack(want, 1))


def test_associative_scan_differentiates():
    a = ember.tensor(RNG.random((2, 6)), requires_grad=True)
    b = ember.tensor(RNG.normal(size=(2, 6)), requires_grad=True)
    assert ember.autograd.gradcheck(lambda x, y: associative_scan(_linear_recurrence, (x, y), 1)[1], (a, b))
    assert ember.autograd.gradcheck(lambda x: associative_scan(_add, x, 1, reverse=True), (a,))


def test_associative_scan_matches_pytorch():
    torch = pytest.importorskip("torch")
    from torch._higher_order_ops.associative_scan import associative_scan as torch_scan

    a, b = RNG.random((4, 9)), RNG.normal(size=(4, 9))
    ours = associative_scan(_linear_recurrence, (ember.tensor(a), ember.tensor(b)), 1, reverse=True)
    theirs = torch_scan(_linear_recurrence, (torch.tensor(a), torch.tensor(b)), 1, reverse=True, combine_mode="generic")
    for x, y in zip(ours, theirs):
        np.testing.assert_allclose(x.numpy(), y.numpy())


def test_associative_scan_checks_its_inputs():
    with pytest.raises(ValueError, match="Combine_mode must either 'pointwise' or 'generic'"):
        associative_scan(_add, ember.ones(3), 0, combine_mode="fast")
    with pytest.raises(ValueError, match="same shape"):
        associative_scan(_linear_recurrence, (ember.ones(3), ember.ones(4)), 0)
    with pytest.raises(ValueError, match="must be a Tensor"):
        associative_scan(_add, [1.0, 2.0], 0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        associative_scan(_add, ember.ones(3), 1)
    with pytest.raises(ValueError, match="at least have 'dim' number of dimensions"):
        associative_scan(_add, ember.tensor(3.0), 0)  # PyTorch's words for a 0-d input
    assert associative_scan(_add, ember.ones(0, 3), 0).shape == (0, 3)


def test_scan_checks_its_inputs():
    step = lambda c, x: (c + x, c)  # noqa: E731
    with pytest.raises(RuntimeError, match="xs must be a tensor or a pytree of tensors"):
        scan(step, ember.zeros(()), None)
    with pytest.raises(IndexError, match="dim 0 is out of range for xs of 0 dimensions"):
        scan(step, ember.zeros(()), ember.tensor(3.0))
    with pytest.raises(IndexError, match="dim 4 is out of range"):
        scan(step, ember.zeros(()), ember.ones(3), dim=4)
    with pytest.raises(RuntimeError, match="at least one element"):
        scan(step, ember.zeros(()), ember.ones(0))


def test_scan_threads_a_carry_and_stacks_outputs():
    xs = RNG.normal(size=(5, 2))
    carry, ys = scan(lambda c, x: (c + x, c * 2), ember.zeros(2, dtype=ember.float64), ember.tensor(xs))
    np.testing.assert_allclose(carry.numpy(), xs.sum(0))
    np.testing.assert_allclose(ys.numpy(), 2 * np.concatenate([np.zeros((1, 2)), np.cumsum(xs, 0)[:-1]]))
    carry, ys = scan(lambda c, x, k: (c * k + x, c), ember.zeros(2, dtype=ember.float64), ember.tensor(xs),
                     reverse=True, additional_inputs=(0.5,))  # fmt: skip
    h, want = np.zeros(2), []
    for t in reversed(range(5)):
        want.append(h)
        h = h * 0.5 + xs[t]
    np.testing.assert_allclose(carry.numpy(), h)
    np.testing.assert_allclose(ys.numpy(), np.stack(want[::-1]))
    x = ember.tensor(xs, requires_grad=True)
    assert ember.autograd.gradcheck(
        lambda v: scan(lambda c, s: (c * s, c), ember.ones(2, dtype=ember.float64), v)[0], (x,)
    )


def test_dynamo_marks_static_addresses_as_accepted():
    ember._dynamo.mark_static_address(ember.ones(2))  # transformers' caches mark their tensors
