"""Behaviour the library probes of the fifteenth session found different from PyTorch's, each against
PyTorch's documented behaviour: the partial Cholesky factor of cholesky_ex (torchmin's trust-exact solver
reads it), a tensor's repr under another default dtype (torchquad sets float64), the repr of a Parameter
subclass (geoopt), the type of linalg errors, and torch._dynamo's exception module (heavyball)."""

from __future__ import annotations

import numpy as np
import pytest

import ember


def test_cholesky_ex_leaves_the_partial_factor_for_a_shifted_retry():
    """A trust-region step (Moré-Sorensen, as torchmin's and scipy's) reads the factor of the leading
    block to pick a larger shift; ember gave zeros, and the solver looped on NaN."""
    a = np.array([[4.0, 2.0, 6.0], [2.0, 1.0, 3.0], [6.0, 3.0, 1.0]])  # second minor singular
    L, info = ember.linalg.cholesky_ex(ember.tensor(a))
    assert info.item() == 2
    np.testing.assert_allclose(L.numpy(), [[2.0, 0.0, 0.0], [1.0, 0.0, 0.0], [3.0, 3.0, 1.0]])
    U, info = ember.linalg.cholesky_ex(ember.tensor(a), upper=True)
    np.testing.assert_allclose(U.numpy(), L.numpy().T)


def test_linalg_errors_are_named_as_pytorchs():
    with pytest.raises(ember.linalg.LinAlgError) as caught:
        ember.linalg.cholesky(-ember.eye(2))
    assert type(caught.value).__name__ == "_LinAlgError" and ember._C._LinAlgError is ember.linalg.LinAlgError
    assert isinstance(caught.value, RuntimeError)


@pytest.fixture
def float64_default():
    ember.set_default_dtype(ember.float64)
    yield
    ember.set_default_dtype(ember.float32)


def test_repr_leaves_out_the_default_dtype_whatever_it_is(float64_default):
    assert repr(ember.zeros(2)) == "tensor([0., 0.])"
    assert repr(ember.zeros(2, dtype=ember.float32)) == "tensor([0., 0.], dtype=ember.float32)"
    assert repr(ember.zeros(0, dtype=ember.float32)) == "tensor([], dtype=ember.float32)"
    assert repr(ember.zeros(0)) == "tensor([])"
    assert repr(ember.zeros(1, dtype=ember.complex128)) == "tensor([0.+0.j])"  # the default's complex pair
    assert repr(ember.zeros(1, dtype=ember.complex64)) == "tensor([0.+0.j], dtype=ember.complex64)"
    assert repr(ember.tensor([1, 2])) == "tensor([1, 2])"


def test_repr_of_a_parameter_subclass_marks_it_a_parameter():
    class ManifoldParameter(ember.nn.Parameter):
        pass

    assert repr(ManifoldParameter(ember.zeros(2))).endswith(
        "Parameter(ManifoldParameter([0., 0.], requires_grad=True))"
    )
    assert repr(ember.nn.Parameter(ember.zeros(2))) == "Parameter containing:\ntensor([0., 0.], requires_grad=True)"


def test_dynamo_exceptions_can_be_caught():
    from ember._dynamo.exc import TorchDynamoException, Unsupported
    from ember._dynamo.utils import disable_cache_limit

    assert issubclass(Unsupported, TorchDynamoException) and issubclass(TorchDynamoException, RuntimeError)
    with disable_cache_limit():
        assert ember.compile(lambda x: x + 1)(ember.ones(1)).item() == 2.0
