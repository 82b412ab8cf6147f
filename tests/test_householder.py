"""geqrf, linalg.householder_product (orgqr) and ormqr: against numpy's QR, by finite differences,
and against PyTorch when it is importable."""

import numpy as np
import pytest

import ember

RNG = np.random.default_rng(0)


def _t(a, requires_grad=False):
    return ember.tensor(a, dtype=ember.float64, requires_grad=requires_grad)


def test_geqrf_and_householder_product_give_numpys_qr():
    a = RNG.random((2, 5, 3))
    compact = ember.geqrf(_t(a))
    q_np, r_np = np.linalg.qr(a)
    np.testing.assert_allclose(np.triu(compact.a.numpy()[..., :3, :]), r_np, atol=1e-12)
    q = ember.linalg.householder_product(compact.a, compact.tau)
    np.testing.assert_allclose(q.numpy(), q_np, atol=1e-12)
    np.testing.assert_allclose(ember.orgqr(compact.a, compact.tau).numpy(), q_np, atol=1e-12)
    assert compact.tau.shape == (2, 3) and _t(a[0]).geqrf().a.shape == (5, 3)


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("transpose", [True, False])
def test_ormqr_is_a_product_with_the_full_q(left, transpose):
    a = RNG.random((5, 3))
    compact = ember.geqrf(_t(a))
    q_full = np.linalg.qr(a, mode="complete")[0]
    q = q_full.T if transpose else q_full
    c = RNG.random((5, 4)) if left else RNG.random((4, 5))
    got = ember.ormqr(compact.a, compact.tau, _t(c), left, transpose)
    np.testing.assert_allclose(got.numpy(), q @ c if left else c @ q, atol=1e-12)
    assert ember.autograd.gradcheck(
        lambda A, tau, C: ember.ormqr(A, tau, C, left, transpose),
        (_t(a, True), _t(compact.tau.numpy(), True), _t(c, True)),
    )


def test_gradients_and_errors():
    a = RNG.random((4, 3))
    assert ember.autograd.gradcheck(ember.linalg.householder_product, (_t(a, True), _t([0.7, 1.3], True)))
    out = ember.geqrf(_t(a, True))
    assert type(out.a.grad_fn).__name__ == "GeqrfBackward0"
    with pytest.raises(RuntimeError, match="the derivative for 'geqrf' is not implemented"):
        out.a.sum().backward()
    with pytest.raises(TypeError, match="argument 'tau' \\(position 2\\) must be Tensor, not NoneType"):
        ember.linalg.householder_product(_t(a), None)
    with pytest.raises(TypeError, match="argument 'input3' \\(position 3\\) must be Tensor, not NoneType"):
        ember.ormqr(_t(a), _t([1.0, 2.0, 3.0]), None)
    with pytest.raises(RuntimeError, match="input must have at least 2 dimensions"):
        ember.geqrf(_t([1.0, 2.0]))
    with pytest.raises(RuntimeError, match=r"input.shape\[-2\] must be greater than or equal to input.shape\[-1\]"):
        ember.linalg.householder_product(_t(RNG.random((3, 4))), _t([1.0]))
    with pytest.raises(RuntimeError, match=r"input.shape\[-1\] must be greater than or equal to tau.shape\[-1\]"):
        ember.linalg.householder_product(_t(a), _t(np.ones(4)))
    with pytest.raises(RuntimeError, match=r"tau.shape\[-1\] must be equal to min"):
        ember.ormqr(_t(a), _t([1.0, 2.0]), _t(RNG.random((4, 2))))


def test_parity_with_torch():
    torch = pytest.importorskip("torch")
    a = RNG.random((3, 6, 4))
    mine, theirs = ember.geqrf(_t(a)), torch.geqrf(torch.tensor(a))
    np.testing.assert_allclose(mine.a.numpy(), theirs.a.numpy(), atol=1e-12)
    np.testing.assert_allclose(mine.tau.numpy(), theirs.tau.numpy(), atol=1e-12)
    np.testing.assert_allclose(
        ember.linalg.householder_product(mine.a, mine.tau).numpy(),
        torch.linalg.householder_product(theirs.a, theirs.tau).numpy(),
        atol=1e-12,
    )
    c = RNG.random((3, 6, 2))
    for transpose in (True, False):
        np.testing.assert_allclose(
            ember.ormqr(mine.a, mine.tau, _t(c), True, transpose).numpy(),
            torch.ormqr(theirs.a, theirs.tau, torch.tensor(c), True, transpose).numpy(),
            atol=1e-12,
        )
