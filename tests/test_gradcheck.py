"""ember.autograd.gradcheck itself: it accepts correct gradients and catches wrong ones."""

import pytest

import ember
from ember.autograd import GradcheckError, gradcheck, gradgradcheck
from helpers import cube


def leaf(values):
    return ember.tensor(values, dtype=ember.float64, requires_grad=True)


def test_correct_gradients_pass():
    x = leaf([[0.3, -1.2, 2.0], [0.7, 0.1, -0.4]])
    y = leaf([0.5, -0.25, 1.5])  # broadcast against x
    xt = leaf([[1.0, 2.0], [-0.5, 0.3], [0.8, -1.1]]).detach().t().requires_grad_()  # non-contiguous
    assert gradcheck(lambda a, b, c: (a * b + a.exp() * c).sum(1), (x, y, xt))
    assert gradcheck(cube(3.0), (leaf([0.5, -1.5, 2.0]),))
    assert gradgradcheck(lambda a, b: (a * b).tanh(), (x, y))


def test_wrong_backward_raises():
    x = leaf([0.5, -1.5, 2.0])
    with pytest.raises(GradcheckError, match="Jacobian mismatch for output 0 with respect to input 0"):
        gradcheck(cube(2.0), (x,))
    assert issubclass(GradcheckError, RuntimeError)
    assert gradcheck(cube(2.0), (x,), raise_exception=False) is False
