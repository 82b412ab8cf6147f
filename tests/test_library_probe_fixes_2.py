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


def test_broadcast_errors_name_the_last_mismatching_dim_as_pytorch():
    """vit-pytorch's MAE (a 2-D position table added to tokens): PyTorch compares sizes from the last dim."""
    with pytest.raises(RuntimeError, match=r"tensor a \(32\) must match the size of tensor b \(16\) at non-singleton "
                       r"dimension 2"):  # fmt: skip
        ember.ones(2, 16, 32) + ember.ones(17, 16)
    with pytest.raises(RuntimeError, match=r"tensor a \(3\) must match the size of tensor b \(4\) at non-singleton "
                       r"dimension 0"):  # fmt: skip
        ember.cdist(ember.ones(3, 5, 2), ember.ones(4, 6, 2))


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda F: F.conv2d(ember.ones(2, 16, 4, 4), ember.ones(0, 16, 1, 1)),
         "Given groups=1, expected weight to be at least 1 at dimension 0, but got weight of size [0, 16, 1, 1]"),
        (lambda F: F.conv2d(ember.ones(2, 16, 4, 4), ember.ones(1, 4, 1, 1), groups=4),
         "Given groups=4, expected weight to be at least 4 at dimension 0"),
        (lambda F: F.conv2d(ember.ones(2, 16, 4, 4), ember.ones(3, 8, 1, 1), groups=2),
         "Given groups=2, expected weight to be divisible by 2 at dimension 0"),
        (lambda F: F.conv2d(ember.ones(2, 3, 3, 5), ember.ones(4, 3, 7, 3), padding=1, dilation=(1, 2)),
         "Calculated padded input size per channel: (5 x 7). Kernel size: (7 x 5). Kernel size can't be greater"),
        (lambda F: F.conv1d(ember.ones(2, 3, 4), ember.ones(4, 3, 7)),
         "Calculated padded input size per channel: (4). Kernel size: (7)."),
        (lambda F: F.conv3d(ember.ones(2, 3, 4, 4, 4), ember.ones(4, 3, 2, 7, 2)),
         "Calculated padded input size per channel: (4 x 4 x 4). Kernel size: (2 x 7 x 2)."),
    ],
)  # fmt: skip
def test_convolution_shape_errors_in_pytorchs_words(call, words):
    """A weight with fewer output channels than groups ran (an empty result) and a kernel larger than the
    padded input said 'Output size is too small'; PyTorch's checks and words now (vit-pytorch's CrossFormer)."""
    with pytest.raises(RuntimeError) as caught:
        call(ember.nn.functional)
    assert words in str(caught.value)


def test_pooling_windows_larger_than_the_input_in_pytorchs_words():
    """avg_pool3d checks the unpadded input against the kernel (padding or not), as PyTorch's pool3d check;
    max_pool2d's message is PyTorch's, without a prefix."""
    F = ember.nn.functional
    with pytest.raises(RuntimeError, match=r"input image \(T: 2 H: 2 W: 2\) smaller than kernel size \(kT: 3 kH: 3"):
        F.avg_pool3d(ember.ones(1, 1, 2, 2, 2), 3, padding=1)
    with pytest.raises(RuntimeError, match=r"^Given input size: \(1x2x2\)\. Calculated output size: \(1x0x0\)"):
        F.max_pool2d(ember.ones(1, 1, 2, 2), 3)
    assert F.avg_pool3d(ember.ones(1, 1, 3, 3, 3), 3, padding=1).shape == (1, 1, 1, 1, 1)


def test_half_float_alpha_that_overflows_and_add_alpha_over_overlapping_memory_raise_as_pytorch():
    """Found reading the change: a half-float alpha too large for the dtype became inf (PyTorch refuses it), and
    add_ with an alpha read a copy of a source that partly overlaps self (PyTorch refuses that too)."""
    half = ember.ones(2, dtype=ember.float16)
    with pytest.raises(RuntimeError, match="value cannot be converted to type c10::Half without overflow"):
        ember.add(half, half, alpha=1e6)
    with pytest.raises(RuntimeError, match="value cannot be converted to type c10::BFloat16 without overflow"):
        ember.ones(2, dtype=ember.bfloat16).sub_(ember.ones(2, dtype=ember.bfloat16), alpha=1e300)
    assert ember.add(half.bfloat16(), half.bfloat16(), alpha=float("inf")).isinf().all()  # inf stays inf
    x = ember.ones(5)
    with pytest.raises(RuntimeError, match="some elements of the input tensor and the written-to tensor"):
        x[1:].add_(x[:-1], alpha=0.5)
    assert x.add_(x, alpha=0.5).tolist() == [1.5] * 5  # full overlap is allowed, as in PyTorch
