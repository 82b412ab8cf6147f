"""conv2d and max_pool2d (the ops behind nn.Conv2d / nn.MaxPool2d): forward
against a direct numpy loop, gradients against finite differences."""

import numpy as np
import pytest

import ember
from ember import _C

rng = np.random.default_rng(0)


def conv2d_numpy(x, w, b, stride, padding, dilation):
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    ho = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    wo = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, o, ho, wo))
    for i in range(ho):
        for j in range(wo):
            patch = xp[:, :, i * sh : i * sh + dh * (kh - 1) + 1 : dh, j * sw : j * sw + dw * (kw - 1) + 1 : dw]
            out[:, :, i, j] = np.einsum("nckl,ockl->no", patch, w)
    return out + (0 if b is None else b[None, :, None, None])


def max_pool2d_numpy(x, k, s, p):
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=-np.inf)
    ho, wo = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    out = np.empty((n, c, ho, wo))
    for i in range(ho):
        for j in range(wo):
            out[:, :, i, j] = xp[:, :, i * s : i * s + k, j * s : j * s + k].max(axis=(2, 3))
    return out


CONV_CASES = [
    dict(stride=(1, 1), padding=(0, 0), dilation=(1, 1)),
    dict(stride=(2, 2), padding=(1, 1), dilation=(1, 1)),
    dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2)),
    dict(stride=(1, 1), padding=(2, 2), dilation=(2, 2)),
]


@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: "s{stride}p{padding}d{dilation}".format(**c))
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_forward_matches_numpy(case, bias):
    x, w = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 3, 2))
    b = rng.standard_normal(4) if bias else None
    out = _C.conv2d(ember.tensor(x), ember.tensor(w), None if b is None else ember.tensor(b), **case)
    np.testing.assert_allclose(out.numpy(), conv2d_numpy(x, w, b, **case), rtol=1e-10, atol=1e-10)
    out32 = _C.conv2d(ember.tensor(x, dtype=ember.float32), ember.tensor(w, dtype=ember.float32), None, **case)
    assert out32.dtype == ember.float32
    np.testing.assert_allclose(out32.numpy(), conv2d_numpy(x, w, None, **case), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("case", CONV_CASES[:3], ids=lambda c: "s{stride}p{padding}d{dilation}".format(**c))
def test_conv2d_gradients(case):
    x = ember.tensor(rng.standard_normal((2, 2, 5, 5)), requires_grad=True)
    w = ember.tensor(rng.standard_normal((3, 2, 2, 3)), requires_grad=True)
    b = ember.tensor(rng.standard_normal(3), requires_grad=True)
    assert ember.autograd.gradcheck(lambda x, w, b: _C.conv2d(x, w, b, **case), (x, w, b))
    assert ember.autograd.gradgradcheck(lambda x, w: _C.conv2d(x, w, None, **case), (x, w))


def test_conv2d_groups_and_unbatched_and_noncontiguous():
    x = rng.standard_normal((2, 4, 5, 5))
    w = rng.standard_normal((6, 2, 3, 3))
    out = _C.conv2d(ember.tensor(x), ember.tensor(w), None, 1, 1, 1, 2)
    ref = np.concatenate(
        [
            conv2d_numpy(x[:, :2], w[:3], None, (1, 1), (1, 1), (1, 1)),
            conv2d_numpy(x[:, 2:], w[3:], None, (1, 1), (1, 1), (1, 1)),
        ],
        axis=1,
    )
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-10, atol=1e-10)
    single = _C.conv2d(ember.tensor(x[0, :2].copy()), ember.tensor(w[:, :2].copy()), None, 1, 0)
    np.testing.assert_allclose(
        single.numpy(), conv2d_numpy(x[:1, :2], w[:, :2], None, (1, 1), (0, 0), (1, 1))[0], rtol=1e-10, atol=1e-10
    )
    xt = ember.tensor(x).transpose(2, 3)  # a non-contiguous input
    w4 = np.concatenate([w[:, :2], w[:, :2]], 1)
    np.testing.assert_allclose(
        _C.conv2d(xt, ember.tensor(w4), None).numpy(),
        conv2d_numpy(x.transpose(0, 1, 3, 2), w4, None, (1, 1), (0, 0), (1, 1)),
        rtol=1e-10,
        atol=1e-10,
    )
    x_grad = ember.tensor(rng.standard_normal((1, 4, 4, 4)), requires_grad=True)
    w_grad = ember.tensor(rng.standard_normal((4, 2, 2, 2)), requires_grad=True)
    assert ember.autograd.gradcheck(lambda a, b: _C.conv2d(a, b, None, 1, 0, 1, 2), (x_grad, w_grad))


def test_conv2d_grad_fn_name():
    x = ember.randn(1, 1, 4, 4, requires_grad=True)
    assert _C.conv2d(x, ember.randn(1, 1, 2, 2), None).grad_fn.name() == "ConvolutionBackward0"


@pytest.mark.parametrize(
    "bad, words",
    [
        (lambda: _C.conv2d(ember.randn(1, 3, 5, 5), ember.randn(2, 4, 3, 3)), "expected input"),
        (lambda: _C.conv2d(ember.randn(3, 5), ember.randn(2, 3, 3, 3)), "Expected 3D (unbatched) or 4D (batched)"),
        (lambda: _C.conv2d(ember.randn(1, 3, 2, 2), ember.randn(2, 3, 3, 3)), "Kernel size can't be greater"),
        (lambda: _C.conv2d(ember.randn(1, 3, 2, 2), ember.randn(0, 3, 1, 1)), "expected weight to be at least 1"),
        (lambda: ember.nn.functional.conv1d(ember.randn(3, 4), ember.randn(4, 3, 7)), "channel: (4). Kernel size: (7)"),
        (
            lambda: _C.conv2d(ember.randn(1, 3, 5, 5), ember.randn(2, 3, 3, 3, dtype=ember.float64)),
            "should be the same",
        ),
        (
            lambda: _C.conv2d(ember.randn(1, 3, 5, 5), ember.randn(2, 3, 3, 3), None, 0),
            "stride should be greater than zero",
        ),
        (lambda: _C.max_pool2d(ember.randn(1, 1, 4, 4), 2, 2, 2), "pad should be at most half"),
        (lambda: _C.max_pool2d(ember.randn(4, 4), 2), "Expected 3D or 4D"),
    ],
)
def test_errors_name_the_problem(bad, words):
    with pytest.raises(RuntimeError, match=words.replace("(", r"\(").replace(")", r"\)")):
        bad()


@pytest.mark.parametrize("k, s, p", [(2, 2, 0), (3, 2, 1), (3, 1, 1), (2, 1, 0)])
def test_max_pool2d_forward_and_gradient(k, s, p):
    x = rng.standard_normal((2, 3, 6, 7))
    out = _C.max_pool2d(ember.tensor(x), k, s, p)
    np.testing.assert_allclose(out.numpy(), max_pool2d_numpy(x, k, s, p))
    xe = ember.tensor(x[:1, :2, :5, :5].copy(), requires_grad=True)
    assert ember.autograd.gradcheck(lambda a: _C.max_pool2d(a, k, s, p), (xe,))
    assert _C.max_pool2d(xe, k, s, p).grad_fn.name() == "MaxPool2DWithIndicesBackward0"


def test_max_pool2d_ceil_mode_nan_and_unbatched():
    x = ember.tensor(rng.standard_normal((3, 7, 7)))
    assert tuple(_C.max_pool2d(x, 3, 2, 0, 1, True).shape) == (3, 3, 3)
    assert tuple(_C.max_pool2d(x, 3, 2, 0, 1, False).shape) == (3, 3, 3)
    assert tuple(_C.max_pool2d(ember.randn(1, 8, 8), 3, 2, 0, 1, True).shape) == (1, 4, 4)
    y = ember.tensor([[[[1.0, float("nan")], [3.0, 2.0]]]])
    assert np.isnan(_C.max_pool2d(y, 2).item())


def test_conv_pool_parity_with_torch():
    torch = pytest.importorskip("torch")
    x, w, b = rng.standard_normal((2, 3, 9, 8)), rng.standard_normal((5, 3, 3, 3)), rng.standard_normal(5)
    xe, we, be = (ember.tensor(a, requires_grad=True) for a in (x, w, b))
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    oe = _C.max_pool2d(_C.conv2d(xe, we, be, 2, 1).relu(), 2)
    ot = torch.nn.functional.max_pool2d(torch.nn.functional.conv2d(xt, wt, bt, 2, 1).relu(), 2)
    np.testing.assert_allclose(oe.detach().numpy(), ot.detach().numpy(), rtol=1e-10, atol=1e-12)
    oe.sum().backward()
    ot.sum().backward()
    for e, t in ((xe, xt), (we, wt), (be, bt)):
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)
