"""Binary ops, clamps with tensor bounds and quantiles at their edges (ties, NaN, infinities, huge arguments),
each against PyTorch's documented formulas or closed forms; found by a sweep of 45 binary functions and 62
reductions over edge values against PyTorch 2.13 (the seventeenth session)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember

NAN, INF = math.nan, math.inf


def _grads(fn, *values, dtype=ember.float64):
    inputs = [ember.tensor(v, dtype=dtype, requires_grad=True) for v in values]
    out = fn(*inputs)
    return out, ember.autograd.grad(out.sum(), inputs)


def test_div_gradient_of_a_huge_float32_divisor_is_finite():
    """-g (a / b) / b, as PyTorch's: a / (b * b) overflowed b * b (b = 1e20) and gave NaN."""
    a, b = [1.0, -3.0, 0.0, np.inf], [1e20, 1e30, 1e-40, 1e30]
    _, (_, gb) = _grads(ember.div, a, b, dtype=ember.float32)
    a32, b32 = np.float32(a), np.float32(b)
    with np.errstate(all="ignore"):
        expected = -((a32 / b32) / b32)
    np.testing.assert_array_equal(gb.numpy(), expected)
    assert np.isfinite(gb.numpy()[:2]).all()


@pytest.mark.parametrize("op", [ember.maximum, ember.minimum])
def test_maximum_and_minimum_pass_the_gradient_to_both_inputs_at_a_nan(op):
    """PyTorch masks only where the other input wins: at a NaN no comparison holds, so both get it; a tie
    splits it."""
    out, (ga, gb) = _grads(op, [NAN, 1.0, 2.0, 3.0], [1.0, NAN, 2.0, 5.0])
    assert math.isnan(out[0].item()) and math.isnan(out[1].item())
    assert ga.tolist()[:3] == [1.0, 1.0, 0.5] and gb.tolist()[:3] == [1.0, 1.0, 0.5]
    assert ga[3].item() + gb[3].item() == 1.0


@pytest.mark.parametrize("op, wins", [(ember.fmax, np.greater_equal), (ember.fmin, np.less_equal)])
def test_fmax_fmin_give_the_input_a_tie_and_skip_nans(op, wins):
    """PyTorch's fmax/fmin take the input where it wins or ties, or where the other is NaN: a tie gives the input
    the whole gradient and its zero's sign."""
    a = [0.0, -0.0, 2.0, NAN, 1.0, NAN, 3.0]
    b = [-0.0, 0.0, 2.0, 1.0, NAN, NAN, 4.0]
    out, (ga, gb) = _grads(op, a, b)
    an, bn = np.array(a), np.array(b)
    take_a = wins(an, bn) | np.isnan(bn)
    np.testing.assert_array_equal(out.detach().numpy(), np.where(take_a, an, bn))
    assert list(np.signbit(out.detach().numpy()[:2])) == [False, True]
    assert ga.tolist() == take_a.astype(float).tolist()
    assert gb.tolist() == (~take_a).astype(float).tolist()
    assert op(ember.tensor([1, 5]), ember.tensor([2, 5])).dtype == ember.int64


def test_clamp_with_tensor_bounds_has_pytorchs_node_and_gradients():
    """clamp(x, min, max) with tensors is one ClampBackward0: x keeps the gradient where it lies within its
    bounds (ties included), a bound takes it where x passes it, the max also where it is below the min."""
    x = [1.0, 2.0, 3.0, 0.0, 6.0, 2.0]
    lo = [1.0, 0.0, 4.0, 0.5, 0.0, 3.0]
    hi = [0.5, 2.0, 5.0, 1.0, 5.0, 1.0]
    out, (gx, glo, ghi) = _grads(lambda a, b, c: ember.clamp(a, b, c), x, lo, hi)
    assert out.grad_fn.name() == "ClampBackward0"
    xn, lon, hin = (np.array(v) for v in (x, lo, hi))
    np.testing.assert_array_equal(out.detach().numpy(), np.minimum(np.maximum(xn, lon), hin))
    assert gx.tolist() == ((xn >= lon) & (xn <= hin)).astype(float).tolist()
    assert glo.tolist() == ((xn < lon) & (lon < hin)).astype(float).tolist()
    assert ghi.tolist() == ((xn > hin) | (hin < lon)).astype(float).tolist()


def test_clamp_min_and_max_with_a_tensor_give_the_input_a_tie():
    x, bound = [1.0, 2.0, 3.0], [1.0, 3.0, 2.0]
    out, (gx, gb) = _grads(ember.clamp_min, x, bound)
    assert out.grad_fn.name() == "ClampMinBackward1"
    assert gx.tolist() == [1.0, 0.0, 1.0] and gb.tolist() == [0.0, 1.0, 0.0]
    out, (gx, gb) = _grads(ember.clamp_max, x, bound)
    assert out.grad_fn.name() == "ClampMaxBackward1"
    assert gx.tolist() == [1.0, 1.0, 0.0] and gb.tolist() == [0.0, 0.0, 1.0]
    # a number beside a tensor bound, and broadcasting bounds: gradients summed back to each bound's shape
    x = ember.tensor([[0.0, 2.0, 9.0], [5.0, -1.0, 3.0]], dtype=ember.float64, requires_grad=True)
    lo = ember.tensor([1.0, 1.0, 1.0], dtype=ember.float64, requires_grad=True)
    out = ember.clamp(x, min=lo, max=4.0)
    assert out.tolist() == [[1.0, 2.0, 4.0], [4.0, 1.0, 3.0]]
    out.sum().backward()
    assert lo.grad.tolist() == [1.0, 1.0, 0.0] and x.grad.tolist() == [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]


def test_clamp_with_tensor_bounds_gradcheck():
    rng = np.random.default_rng(0)
    x, lo, hi = (ember.tensor(rng.normal(size=(3, 4)) + s, requires_grad=True) for s in (0.0, -0.5, 0.5))
    assert ember.autograd.gradcheck(lambda a, b, c: ember.clamp(a, b, c), (x, lo, hi))
    assert ember.autograd.gradcheck(lambda a, b: ember.clamp(a, min=b), (x, lo))


@pytest.mark.parametrize("fn, shift", [(ember.xlogy, 0.0), (ember.special.xlog1py, -1.0)])
def test_xlogy_gradient_at_zero_x_is_the_log(fn, shift):
    """d/dx x log(y) is log(y), also at x = 0 (ember gave 0); PyTorch's is 0 there only where y has no log."""
    y = [2.0, 0.5, 0.0, -1.0, 3.0]
    y = [v + shift for v in y]
    _, (gx, gy) = _grads(fn, [0.0, -0.0, 0.0, 0.0, 2.0], y)
    log = np.log1p if shift else np.log
    expected = [log(y[0]), log(y[1]), 0.0, 0.0, log(y[4])]
    np.testing.assert_allclose(gx.numpy(), expected, rtol=1e-15)
    x = ember.tensor([0.5, 1.5], dtype=ember.float64, requires_grad=True)
    z = ember.tensor([0.7, 2.0], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(fn, (x, z))


def test_igamma_for_huge_a_near_x():
    """P(a, a) = 1/2 + (1/3 + 1/(540 a)) / sqrt(2 pi a) + O(a^-5/2) (the power series gave 0.34 at a = 1e10):
    Temme's expansion, with each tail computed as itself."""
    for a in [2e4, 1e7, 1e10, 1e15]:
        t = ember.tensor([a], dtype=ember.float64)
        p, q = ember.igamma(t, t).item(), ember.igammac(t, t).item()
        assert p == pytest.approx(0.5 + (1 / 3 + 1 / (540 * a)) / math.sqrt(2 * math.pi * a), rel=1e-12)
        assert p + q == pytest.approx(1.0, abs=1e-15)
    # a tail ten standard deviations out: nearly the normal tail (skew makes it differ by ~3e-4)
    a = ember.tensor([1e12], dtype=ember.float64)
    x = ember.tensor([1e12 - 1e7], dtype=ember.float64)
    normal_tail = 0.5 * math.erfc(10 / math.sqrt(2))
    assert ember.igamma(a, x).item() == pytest.approx(normal_tail, rel=1e-3)
    assert ember.igammac(a, a + 1e7).item() == pytest.approx(normal_tail, rel=1e-3)
    # no jump where the expansion takes over (a = 1e4)
    a = ember.tensor([np.nextafter(1e4, 0), np.nextafter(1e4, 2e4)], dtype=ember.float64)
    p = ember.igamma(a, ember.tensor(1e4, dtype=ember.float64)).tolist()
    assert p == pytest.approx([0.5013298083399552] * 2, rel=1e-11)  # mpmath's P(1e4, 1e4)


def test_quantile_interpolates_as_lerp():
    """PyTorch interpolates with lerp: between -inf and 1 at 0.9 that is -inf (ember gave NaN), between 2 and inf
    at 0.7 NaN, as lerp computes from the nearer end; midpoint is lerp at 0.5."""
    x = ember.tensor([INF, -INF, 1.0, 2.0], dtype=ember.float64)
    assert x.quantile(0.3).item() == -INF
    assert math.isnan(x.quantile(0.9).item())
    assert math.isnan(ember.tensor([-INF, 1.0, INF]).quantile(0.75, interpolation="midpoint").item())
    data = np.random.default_rng(1).normal(size=(3, 7))
    for q in [0.0, 0.25, 0.5, 0.9, 1.0]:
        for method in ["linear", "lower", "higher", "midpoint", "nearest"]:
            got = ember.tensor(data).quantile(q, dim=1, interpolation=method).numpy()
            np.testing.assert_allclose(got, np.quantile(data, q, axis=1, method=method), rtol=1e-14)


def test_quantile_of_a_slice_with_nan_takes_the_nan_element():
    """The result is a NaN taken from the slice, so the gradient reaches it: quantile's last sorted value (a
    NaN), nanquantile's first element of an all-NaN slice, as PyTorch's."""
    x = ember.tensor([1.0, NAN, 3.0, 2.0], dtype=ember.float64, requires_grad=True)
    y = x.quantile(0.3)
    assert math.isnan(y.item())
    (g,) = ember.autograd.grad(y, x)
    assert g.tolist() == [0.0, 1.0, 0.0, 0.0]
    x = ember.tensor([[NAN, NAN], [1.0, 2.0]], dtype=ember.float64, requires_grad=True)
    y = x.nanquantile(0.5, dim=1)
    assert math.isnan(y[0].item()) and y[1].item() == 1.5
    (g,) = ember.autograd.grad(y.sum(), x)
    assert g.tolist()[1] == [0.5, 0.5]
    assert g.tolist()[0][1] == 0.0


def test_mode_of_rows_with_nan():
    """NaNs count as one value, as PyTorch's mode counts them (ember raised IndexError finding it again)."""
    x = ember.tensor([[NAN, 1.0, NAN, 2.0], [1.0, 2.0, 2.0, NAN], [3.0, NAN, 3.0, NAN]])
    values, indices = ember.mode(x, 1)
    assert math.isnan(values[0].item()) and values[1:].tolist() == [2.0, 3.0]
    assert math.isnan(x[0, indices[0]].item()) and indices[1].item() == 2
    assert x[2, indices[2]].item() == 3.0
