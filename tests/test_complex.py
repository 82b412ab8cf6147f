"""Complex tensors (Note [Complex tensors]): values against numpy, gradients against finite differences
(complex128), PyTorch's conventions (the conjugate Wirtinger gradient, views, errors) and, where PyTorch is
importable, the same numbers as PyTorch's."""

import copy
import pickle
import warnings

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck

try:
    import torch
except ImportError:  # the parity checks skip
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not importable")
RNG = np.random.default_rng(7)


def crandn(*shape):
    return RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)


def close(t, expected, tol=1e-10):
    got = t.detach().numpy() if isinstance(t, ember.Tensor) else np.asarray(t)
    np.testing.assert_allclose(got, expected, rtol=tol, atol=tol)


A, B = crandn(3, 4), crandn(3, 4)
R = RNG.standard_normal((3, 4))


# ------------------------------------------------------------------------------ making and reading
def test_creation_dtypes_and_metadata():
    z = ember.tensor([1 + 2j, 3 - 4j])
    assert z.dtype is ember.complex64 and z.is_complex() and not z.is_floating_point()
    assert isinstance(z, ember.Tensor) and z.shape == (2,) and z.dim() == 1 and z.numel() == 2
    assert z.element_size() == 8 and z.stride() == (1,)
    assert ember.tensor(A).dtype is ember.complex128  # a numpy complex128 array keeps its dtype
    assert ember.tensor(A.astype(np.complex64)).dtype is ember.complex64
    assert ember.tensor([1.0, 2.0], dtype=ember.cdouble).dtype is ember.complex128
    assert ember.zeros(2, 3, dtype=ember.cfloat).shape == (2, 3)
    assert ember.ones(2, dtype=ember.complex64).tolist() == [1 + 0j, 1 + 0j]
    assert ember.full((2,), 1 + 2j).tolist() == [1 + 2j, 1 + 2j] and ember.full((1,), 2j).dtype is ember.complex64
    assert ember.ones(2).to(ember.complex128).tolist() == [1 + 0j, 1 + 0j]
    assert ember.zeros_like(ember.tensor(A)).dtype is ember.complex128
    assert ember.tensor(A).new_zeros(2).dtype is ember.complex128
    n = ember.randn(20000, dtype=ember.cfloat)
    assert abs(float((n.abs() ** 2).mean()) - 1.0) < 0.05  # each part has variance 1/2, as PyTorch's
    with pytest.raises(NotImplementedError, match="complex64 and complex128"):
        ember.zeros(2, dtype=ember.complex32)


def test_numpy_item_tolist_share_and_convert():
    a = A.copy()
    z = ember.as_tensor(a)
    z[0, 0] = 5 + 5j  # as_tensor of a numpy array shares its memory
    assert a[0, 0] == 5 + 5j
    close(z, a)
    assert ember.tensor(1 - 2j).item() == 1 - 2j and complex(ember.tensor(3j)) == 3j
    assert ember.tensor([[1j]]).tolist() == [[1j]]
    with pytest.raises(RuntimeError, match="without overflow"):
        float(ember.tensor(1 + 1j))
    assert float(ember.tensor(2 + 0j)) == 2.0
    with pytest.raises(RuntimeError, match="Can't call numpy"):
        ember.tensor(A, requires_grad=True).numpy()


def test_view_as_real_and_complex_are_views():
    z = ember.tensor(A)
    r = ember.view_as_real(z)
    assert r.shape == (3, 4, 2) and r.dtype is ember.float64
    r[0, 0, 1] = 9.0
    assert z[0, 0].item().imag == 9.0
    back = ember.view_as_complex(r)
    back[1, 1] = 0j
    assert z[1, 1].item() == 0j
    z.real[2] = 0.0  # real and imag are views too
    assert (z[2].real == 0).all() and z.imag.shape == (3, 4)
    with pytest.raises(RuntimeError, match="last dimension of size 2"):
        ember.view_as_complex(ember.randn(3))
    with pytest.raises(RuntimeError, match="last dimension with stride 1"):
        ember.view_as_complex(ember.randn(2, 3).t())
    with pytest.raises(RuntimeError, match="only supported for half, float and double tensors, but got a tensor of "
                                           "scalar type: Long"):  # fmt: skip
        ember.view_as_complex(ember.ones(3, 2, dtype=ember.int64))
    with pytest.raises(RuntimeError, match="view_as_real is only supported for complex tensors"):
        ember.view_as_real(ember.ones(3))
    with pytest.raises(RuntimeError, match="imag is not implemented for tensors with non-complex dtypes"):
        _ = ember.ones(2).imag
    x = ember.ones(2)
    assert x.real is x


def test_complex_and_polar():
    re, im = RNG.standard_normal(4), RNG.standard_normal(4)
    close(ember.complex(ember.tensor(re), ember.tensor(im)), re + 1j * im)
    close(ember.polar(ember.tensor(np.abs(re)), ember.tensor(im)), np.abs(re) * np.exp(1j * im))
    with pytest.raises(RuntimeError, match="Expected both inputs to be Half, Float or Double tensors but got Long"):
        ember.complex(ember.ones(2, dtype=ember.int64), ember.ones(2, dtype=ember.int64))


# ------------------------------------------------------------------------------ values
UNARY = {
    "exp": np.exp, "log": np.log, "sqrt": np.sqrt, "sin": np.sin, "cos": np.cos, "tan": np.tan, "sinh": np.sinh,
    "cosh": np.cosh, "tanh": np.tanh, "reciprocal": lambda z: 1 / z, "square": np.square, "neg": np.negative,
    "conj": np.conj, "sigmoid": lambda z: 1 / (1 + np.exp(-z)), "rsqrt": lambda z: 1 / np.sqrt(z),
    "log10": np.log10, "log2": np.log2, "sgn": lambda z: z / np.abs(z),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_values_and_gradients(name):
    close(getattr(ember, name)(ember.tensor(A)), UNARY[name](A))
    z = ember.tensor(A, requires_grad=True)
    assert gradcheck(getattr(ember, name), (z,))


def test_real_valued_functions():
    z = ember.tensor(A)
    close(z.abs(), np.abs(A))
    close(ember.angle(z), np.angle(A))
    close(z.real, A.real)
    close(z.imag, A.imag)
    assert z.abs().dtype is ember.float64 and ember.tensor(A.astype(np.complex64)).abs().dtype is ember.float32
    for fn in (ember.abs, ember.angle, lambda t: t.real * t.imag):
        assert gradcheck(fn, (ember.tensor(A, requires_grad=True),))


@pytest.mark.parametrize(
    "a,b",
    [(A, B), (A, R), (R, A), (A, 2.5), (A, 1.5 - 2j), (A, B[0]), (R[:, :1], A)],
    ids=["cc", "cr", "rc", "c-float", "c-complex", "broadcast", "r-broadcast"],
)
@pytest.mark.parametrize("op", ["add", "sub", "mul", "truediv", "pow"])
def test_binary_operators(op, a, b):
    import operator

    fn = getattr(operator, op)

    def as_ember(x):
        return ember.tensor(x) if isinstance(x, np.ndarray) else x

    if op == "pow" and (isinstance(a, np.ndarray) and not np.iscomplexobj(a)):
        a = np.abs(a)  # a real base to a complex power: a positive base keeps the principal branch clear
    close(fn(as_ember(a), as_ember(b)), fn(a, b), tol=1e-9)
    grads = tuple(ember.tensor(x, requires_grad=True) for x in (a, b) if isinstance(x, np.ndarray))

    def f(*ts):
        it = iter(ts)
        return fn(*(next(it) if isinstance(x, np.ndarray) else x for x in (a, b)))

    assert gradcheck(f, grads)


def test_python_complex_numbers_with_real_tensors():
    x = ember.tensor(R)
    close(x * 1j, R * 1j)
    close(1j * x, 1j * R)
    close(x + 2j, R + 2j)
    close(ember.exp(1j * x), np.exp(1j * R))
    close(ember.mul(x, 1 - 1j), R * (1 - 1j))
    assert (ember.ones(2, dtype=ember.float32) * 1j).dtype is ember.complex64


def test_reductions_products_and_einsum():
    z, w = ember.tensor(A), ember.tensor(B)
    close(z.sum(), A.sum())
    close(z.sum(dim=1, keepdim=True), A.sum(axis=1, keepdims=True))
    close(z.mean(0), A.mean(0))
    close(z.cumsum(1), A.cumsum(1))
    close(z @ w.mT, A @ B.T)
    close(z.mT @ ember.tensor(R).to(z.dtype), A.T @ R)
    close(ember.einsum("ij,kj->ik", z, w), np.einsum("ij,kj->ik", A, B))
    close(ember.einsum("ij,ij->i", z, ember.tensor(R)), np.einsum("ij,ij->i", A, R))
    close(ember.vdot(z[0], w[0]), np.vdot(A[0], B[0]))
    close(ember.outer(z[0], w[1]), np.outer(A[0], B[1]))
    close(ember.nn.functional.linear(z, w), A @ B.T)
    for f in (lambda a, b: a @ b.mT, lambda a, b: ember.einsum("ij,kj->ik", a, b), lambda a, b: (a * b).sum(1)):
        assert gradcheck(f, (ember.tensor(A, requires_grad=True), ember.tensor(B, requires_grad=True)))


def test_products_of_a_complex_and_a_real_tensor_refuse_as_pytorchs():
    """mm, matmul, bmm, mv, dot, linear, tensordot and the convolutions compute in one dtype: PyTorch
    refuses a complex operand with a real one (or complex64 with complex128); mul, outer and kron promote."""
    z, r = ember.tensor(A), ember.tensor(R)
    c64 = ember.ones(2, 2, dtype=ember.complex64)
    cases = [
        (lambda: z.mT @ r, r"expected m1 and m2 to have the same dtype, but got: c10::complex<double> != double"),
        (lambda: ember.mm(c64, ember.ones(2, 2)), r"c10::complex<float> != float"),
        (lambda: ember.mm(c64, c64.to(ember.complex128)), r"c10::complex<float> != c10::complex<double>"),
        (lambda: ember.bmm(z.mT[None], r[None]), "expected scalar type ComplexDouble but found Double"),
        (lambda: ember.mv(z, r[0]), "expected mat and vec to have the same dtype"),
        (
            lambda: ember.dot(r[0], z[0]),
            "dot : expected both vectors to have same dtype, but found Double and ComplexDouble",
        ),  # fmt: skip
        (lambda: ember.vdot(z[0], r[0]), "expected both vectors to have same dtype"),
        (lambda: ember.nn.functional.linear(z, r), "expected m1 and m2 to have the same dtype"),
        (lambda: ember.tensordot(z, r.mT, 1), "both inputs should have same dtype"),
        (lambda: ember.inner(z, r), "both inputs should have same dtype"),
        (lambda: ember.linalg.cross(z[:, :3], r[:, :3]), "expected scalar type ComplexDouble but found Double"),
        (lambda: ember.linalg.cross(r[:, :3], r[:, :3].float()), "expected scalar type Double but found Float"),
        (
            lambda: ember.nn.functional.conv1d(z[None], r[:, :, None]),
            "conv1d: input type \\(complex128\\) and weight type \\(float64\\) should be the same",
        ),  # fmt: skip
    ]
    for call, words in cases:
        with pytest.raises(RuntimeError, match=words):
            call()
    close(z * r, A * R)  # elementwise products promote
    close(ember.outer(z[0], r[0]), np.outer(A[0], R[0]))
    close(ember.kron(z, r), np.kron(A, R))


def test_shape_ops_are_views_with_the_right_values():
    z = ember.tensor(A)
    close(z.t(), A.T)
    close(z.reshape(2, 6), A.reshape(2, 6))
    close(z.view(12), A.reshape(12))
    close(z.permute(1, 0), A.T)
    close(z.unsqueeze(-1), A[..., None])
    close(z.unsqueeze(0).squeeze(), A)
    close(z[1:, ::2], A[1:, ::2])
    close(z[..., 0], A[..., 0])
    close(z[ember.tensor([2, 0])], A[[2, 0]])
    close(z[z.abs() > 1], A[np.abs(A) > 1])
    close(z.flatten(), A.reshape(-1))
    close(z.expand(2, 3, 4), np.broadcast_to(A, (2, 3, 4)))
    close(z.diagonal(), np.diagonal(A))
    close(z.flip(1), A[:, ::-1])
    close(z.roll(1, 1), np.roll(A, 1, 1))
    close(ember.cat([z, z], 1), np.concatenate([A, A], 1))
    close(ember.stack([z, ember.tensor(R)], -1), np.stack([A, R], -1))
    close(ember.where(z.abs() > 1, z, 0j), np.where(np.abs(A) > 1, A, 0))
    close(z.tril(), np.tril(A))
    close(ember.nn.functional.pad(z, (1, 1)), np.pad(A, ((0, 0), (1, 1))))
    parts = z.chunk(2, 1)
    assert len(parts) == 2 and parts[0].dtype is ember.complex128
    close(parts[1], A[:, 2:])
    v = z.view(12)  # a view: writing through it reaches z
    v[0] = 7j
    assert z[0, 0].item() == 7j
    z.transpose(0, 1)[0, 1] = 3.0
    assert z[1, 0].item() == 3.0
    assert gradcheck(lambda t: t[1:, ::2].permute(1, 0).reshape(-1), (ember.tensor(A, requires_grad=True),))


def test_in_place_ops_and_comparisons():
    z = ember.tensor(A)
    z2 = z.clone()
    z2 += 1j
    z2.mul_(ember.tensor(B))
    close(z2, (A + 1j) * B)
    z2.zero_()
    assert (z2 == 0).all()
    z2.fill_(1 - 1j)
    assert z2[0, 0].item() == 1 - 1j
    z2.copy_(z)
    assert ember.equal(z2, z) and (z2 == z).all() and not (z2 != z).any()
    assert ember.allclose(z + 1e-12, z) and not ember.allclose(z + 1e-3j, z)
    assert ember.isfinite(z).all() and not ember.isnan(z).any()
    x = ember.ones(2)
    with pytest.raises(RuntimeError, match="result type ComplexFloat can't be cast to the desired output type Float"):
        x.add_(1j)


def test_conversions_warn_as_pytorch():
    z = ember.tensor([1 + 2j])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert z.float().tolist() == [1.0]
    assert "Casting complex values to real discards the imaginary part" in str(caught[0].message)
    assert z.to(ember.complex128).dtype is ember.complex128 and z.cdouble().dtype is ember.complex128
    assert z.bool().tolist() == [True]


def test_unsupported_ops_raise_pytorchs_not_implemented_error():
    z = ember.tensor(A)
    with pytest.raises(NotImplementedError, match="\"lt\" not implemented for 'ComplexDouble'"):
        ember.lt(z, z)
    with pytest.raises(NotImplementedError, match="\"max\" not implemented for 'ComplexDouble'"):
        z.max()
    with pytest.raises(NotImplementedError, match="not implemented for 'ComplexDouble'"):
        ember.relu(z)


# ------------------------------------------------------------------------------ autograd
def test_gradient_is_pytorchs_conjugate_wirtinger_gradient():
    # For L = sum |z|^2, dL/dRe + i dL/dIm = 2z: PyTorch's z.grad.
    z = ember.tensor(A, requires_grad=True)
    (z.abs() ** 2).sum().backward()
    close(z.grad, 2 * A)
    assert z.grad.dtype is ember.complex128
    # a holomorphic f: grad = conj(f'(z)) * grad_output, summed
    w = ember.tensor(A, requires_grad=True)
    ember.exp(w).real.sum().backward()
    close(w.grad, np.conj(np.exp(A)))


def test_backward_of_a_complex_output_needs_a_gradient():
    z = ember.tensor(A, requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for real scalar outputs"):
        (z * 2).sum().backward()
    out = z * 2
    out.backward(ember.ones_like(out))
    close(z.grad, np.full(A.shape, 2.0))
    seen = []
    z2 = ember.tensor(A, requires_grad=True)
    z2.register_hook(lambda g: seen.append(g.dtype) or g * 2)
    (z2.abs() ** 2).sum().backward()
    assert seen == [ember.complex128]
    close(z2.grad, 4 * A)
    (g,) = ember.autograd.grad((z2.abs() ** 2).sum(), z2)
    close(g, 4 * A)  # the hook doubles grad()'s gradient too, as PyTorch's


def test_gradgradcheck():
    z = ember.tensor(A[:2, :2], requires_grad=True)
    assert gradgradcheck(lambda t: (t * t).sum(1), (z,))


def test_parameters_optimizers_copies_and_pickles():
    p = ember.nn.Parameter(ember.tensor(A))
    assert isinstance(p, ember.nn.Parameter) and p.is_leaf and p.requires_grad and p.dtype is ember.complex128
    assert repr(p).startswith("Parameter containing:\ntensor(")
    module = ember.nn.Module()
    module.w = p
    assert [n for n, _ in module.named_parameters()] == ["w"]
    opt = ember.optim.Adam(module.parameters(), lr=0.1)
    (p.abs() ** 2).sum().backward()
    opt.step()
    assert isinstance(opt.state[p]["exp_avg"], ember.Tensor) and opt.state[p]["exp_avg"].is_complex()
    assert not np.allclose(p.detach().numpy(), A)
    q = copy.deepcopy(p)
    assert isinstance(q, ember.nn.Parameter) and np.array_equal(q.detach().numpy(), p.detach().numpy())
    r = pickle.loads(pickle.dumps(ember.tensor(A)))
    close(r, A)


# ------------------------------------------------------------------------------ printing
@needs_torch
@pytest.mark.parametrize(
    "values",
    [[1 + 2j, 3 - 4j, 0.5j], [[1.25 - 1e-5j, 1e6 + 1j]], [[0j, 1 + 0j]], np.arange(12).reshape(3, 4) * (1 - 0.5j)],
)
def test_repr_matches_pytorch(values):
    for dtype in ("complex64", "complex128"):
        e = ember.tensor(values, dtype=getattr(ember, dtype))
        t = torch.tensor(values, dtype=getattr(torch, dtype))
        assert repr(e) == repr(t).replace("torch.", "ember.")


# ------------------------------------------------------------------------------ Fourier transforms
NORMS = [None, "forward", "ortho"]


@pytest.mark.parametrize("norm", NORMS)
def test_fft_values_against_numpy(norm):
    e, er = ember.tensor(A), ember.tensor(R)
    f = ember.fft
    close(f.fft(e, norm=norm), np.fft.fft(A, norm=norm))
    close(f.ifft(e, n=6, dim=0, norm=norm), np.fft.ifft(A, n=6, axis=0, norm=norm))
    close(f.fft(er, norm=norm), np.fft.fft(R, norm=norm))
    close(f.rfft(er, norm=norm), np.fft.rfft(R, norm=norm))
    close(f.rfft(er, n=3, norm=norm), np.fft.rfft(R, n=3, norm=norm))
    close(f.irfft(e, norm=norm), np.fft.irfft(A, norm=norm))
    close(f.irfft(e, n=7, norm=norm), np.fft.irfft(A, n=7, norm=norm))
    close(f.fft2(e, norm=norm), np.fft.fft2(A, norm=norm))
    close(f.ifftn(e, s=(4, 4), norm=norm), np.fft.ifftn(A, s=(4, 4), axes=(0, 1), norm=norm))
    close(f.rfft2(er, norm=norm), np.fft.rfft2(R, norm=norm))
    close(f.irfft2(e, norm=norm), np.fft.irfft2(A, norm=norm))
    close(f.rfftn(er, s=(2, 6), norm=norm), np.fft.rfftn(R, s=(2, 6), axes=(0, 1), norm=norm))
    close(f.hfft(e, norm=norm), np.fft.hfft(A, norm=norm))
    close(f.ihfft(er, norm=norm), np.fft.ihfft(R, norm=norm))
    assert f.fft(er.float()).dtype is ember.complex64 and f.fft(er).dtype is ember.complex128
    close(f.fft(e, axis=0), np.fft.fft(A, axis=0))  # PyTorch's axis= for dim=


TRANSFORMS = {
    "fft": lambda t: ember.fft.fft(t, norm="ortho"),
    "ifft_n": lambda t: ember.fft.ifft(t, n=5),
    "fft2": lambda t: ember.fft.fft2(t, norm="forward"),
    "irfft": lambda t: ember.fft.irfft(t),
    "irfft_odd": lambda t: ember.fft.irfft(t, n=7),
    "irfftn": lambda t: ember.fft.irfftn(t),
    "hfft": lambda t: ember.fft.hfft(t),
}


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_complex_input_transforms_gradcheck(name):
    assert gradcheck(TRANSFORMS[name], (ember.tensor(A, requires_grad=True),))


@pytest.mark.parametrize("name", ["rfft", "rfft2", "rfft_n", "ihfft", "fft_real"])
def test_real_input_transforms_gradcheck(name):
    fn = {
        "rfft": lambda t: ember.fft.rfft(t),
        "rfft2": lambda t: ember.fft.rfft2(t, norm="ortho"),
        "rfft_n": lambda t: ember.fft.rfft(t, n=9),
        "ihfft": lambda t: ember.fft.ihfft(t),
        "fft_real": lambda t: ember.fft.fft(t),
    }[name]
    assert gradcheck(fn, (ember.tensor(R, requires_grad=True),))


def test_fft_double_backward():
    assert gradgradcheck(
        lambda t: ember.fft.irfft(ember.fft.rfft(t) * ember.fft.rfft(t)), (ember.tensor(R, requires_grad=True),)
    )


def test_fft_errors_in_pytorchs_words():
    with pytest.raises(RuntimeError, match='Invalid normalization mode: "bad"'):
        ember.fft.fft(ember.tensor(A), norm="bad")
    with pytest.raises(RuntimeError, match="rfft expects a real input tensor, but got ComplexDouble"):
        ember.fft.rfft(ember.tensor(A))
    with pytest.raises(RuntimeError, match=r"Invalid number of data points \(0\) specified"):
        ember.fft.fft(ember.tensor(A), n=0)


# ------------------------------------------------------------------------------ programs, against PyTorch
def _rotary(lib, x, freqs):
    """LLaMA's rotary embedding: view_as_complex, a complex product, view_as_real."""
    xc = lib.view_as_complex(x.float().reshape(*x.shape[:-1], -1, 2))
    return lib.view_as_real(xc * freqs).flatten(2)


def _spectral_conv(lib, x, weights):
    """A Fourier neural operator's spectral convolution: rfft, a complex einsum on the low modes, irfft."""
    ft = lib.fft.rfft(x)
    out = lib.zeros(x.shape[0], weights.shape[1], x.shape[-1] // 2 + 1, dtype=lib.cfloat)
    out[:, :, :4] = lib.einsum("bix,iox->box", ft[:, :, :4], weights)
    return lib.fft.irfft(out, n=x.shape[-1])


@needs_torch
def test_programs_match_pytorch():
    x = RNG.standard_normal((2, 5, 8)).astype(np.float32)
    angles = RNG.standard_normal((5, 4)).astype(np.float32)
    weights = (crandn(5, 3, 4) * 0.1).astype(np.complex64)
    results = {}
    for lib in (ember, torch):
        tx = lib.tensor(x, requires_grad=True)
        freqs = lib.polar(lib.ones(5, 4), lib.tensor(angles))
        w = lib.tensor(weights, requires_grad=True)
        rot = _rotary(lib, tx, freqs)
        spec = _spectral_conv(lib, tx, w)
        loss = (rot * rot.sin()).sum() + (spec**2).mean() + lib.fft.fft(tx).abs().sum()
        loss.backward()
        results[lib.__name__] = [loss.detach().numpy(), tx.grad.numpy(), w.grad.numpy()]
    for mine, theirs in zip(results["ember"], results["torch"]):
        np.testing.assert_allclose(mine, theirs, rtol=2e-5, atol=2e-5)


# ------------------------------------------------------------------------------ stft and istft
def test_stft_values_reconstruction_and_gradients():
    x = RNG.standard_normal((2, 64))
    window = ember.hann_window(16, dtype=ember.float64)
    s = ember.stft(ember.tensor(x), 16, hop_length=4, window=window, return_complex=True)
    assert s.shape == (2, 9, 17) and s.dtype is ember.complex128
    # frame 3 of the reflect-padded signal, windowed, through numpy's rfft
    padded = np.pad(x, ((0, 0), (8, 8)), mode="reflect")
    close(s[:, :, 3], np.fft.rfft(padded[:, 12:28] * window.numpy(), axis=-1))
    back = ember.istft(s, 16, hop_length=4, window=window, length=64)
    close(back, x)  # a Hann window at hop n_fft/4 satisfies the overlap-add condition
    assert gradcheck(lambda t: ember.stft(t, 8, window=ember.hann_window(8, dtype=ember.float64), return_complex=True),
                     (ember.tensor(x[:, :24], requires_grad=True),))  # fmt: skip
    spectrum = ember.tensor(s.numpy()[:, :, :5], requires_grad=True)
    assert gradcheck(lambda t: ember.istft(t, 16, hop_length=4, window=window), (spectrum,))
    with pytest.raises(RuntimeError, match="stft requires the return_complex parameter be given for real inputs"):
        ember.stft(ember.tensor(x), 16, window=window)
    with pytest.warns(UserWarning, match="stft with return_complex=False is deprecated"):
        assert ember.stft(ember.tensor(x), 16, window=window, return_complex=False).shape == (2, 9, 17, 2)
    with pytest.warns(UserWarning, match="A window was not provided. A rectangular window will be applied"):
        ember.stft(ember.tensor(x), 16, return_complex=True)
    with pytest.raises(RuntimeError, match="istft requires a complex-valued input tensor"):
        ember.istft(ember.tensor(x), 16)


@needs_torch
@pytest.mark.filterwarnings("ignore:A window was not provided")
@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_fft": 16},
        {"n_fft": 16, "hop_length": 5, "win_length": 12, "normalized": True},
        {"n_fft": 8, "center": False, "onesided": False},
        {"n_fft": 16, "pad_mode": "constant"},
        {"n_fft": 16, "hop_length": 4, "win_length": 8, "center": False, "align_to_window": True},
    ],
)
def test_stft_matches_pytorch(kwargs):
    x = RNG.standard_normal((2, 100))
    results = []
    for lib in (ember, torch):
        given = dict(kwargs)
        if "win_length" in given:
            given["window"] = lib.hann_window(given["win_length"], dtype=lib.float64)
        xt = lib.tensor(x, requires_grad=True)
        s = lib.stft(xt, return_complex=True, **given)
        (s.abs() ** 1.5).sum().backward()
        results.append((s.detach().numpy(), xt.grad.numpy()))
    for mine, theirs in zip(*results):
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-10)


# ------------------------------------------------------------------------------ saving
def test_save_and_load_keep_values_views_and_parameters(tmp_path):
    z = ember.tensor(A)
    path = tmp_path / "complex.pt"
    ember.save({"z": z, "zt": z.t(), "row": z[1], "p": ember.nn.Parameter(ember.tensor(B)), "e": z[:0]}, path)
    loaded = ember.load(path)
    close(loaded["z"], A)
    close(loaded["zt"], A.T)
    close(loaded["row"], A[1])
    assert isinstance(loaded["p"], ember.nn.Parameter) and loaded["p"].dtype is ember.complex128
    assert loaded["e"].shape == (0, 4) and loaded["e"].is_complex()
    loaded["z"][0, 0] = 0j  # the views share the loaded storage, as PyTorch's
    assert loaded["zt"][0, 0].item() == 0j


@needs_torch
def test_save_files_load_in_pytorch_and_back(tmp_path):
    path = tmp_path / "from_ember.pt"
    ember.save({"z": ember.tensor(A).t(), "f": ember.tensor(B.astype(np.complex64))}, path)
    theirs = torch.load(path)
    np.testing.assert_array_equal(theirs["z"].numpy(), A.T)
    assert theirs["f"].dtype == torch.complex64
    path = tmp_path / "from_torch.pt"
    torch.save({"z": torch.tensor(A)[:, 1:]}, path)
    close(ember.load(path)["z"], A[:, 1:])


def test_copies_of_views_and_einsum_operand_lists():
    z = ember.tensor(A)
    r = ember.view_as_real_copy(z)
    r.zero_()
    assert z.abs().sum() > 0  # a copy, not a view
    close(ember.view_as_complex_copy(ember.view_as_real(z)), A)
    close(ember.einsum("ij,kj->ik", [z, z]), np.einsum("ij,kj->ik", A, A))


PRINTED = {
    "1 - z": lambda lib, z, r: 1 - z,
    "z - 1": lambda lib, z, r: z - 1,
    "2 / z": lambda lib, z, r: 2 / z[:2],
    "r / z": lambda lib, z, r: r[:2] / z[:2],
    "-z": lambda lib, z, r: -z,
    "z * r": lambda lib, z, r: z * r,
    "r * 1j": lambda lib, z, r: r * 1j,
    "conj": lambda lib, z, r: z.conj(),
    "sqrt": lambda lib, z, r: z.sqrt(),
    "exp": lambda lib, z, r: z.exp(),
    "z * z": lambda lib, z, r: z * z,
    "r - z": lambda lib, z, r: r - z,
    "sum": lambda lib, z, r: z.sum(),
    "sgn": lambda lib, z, r: z.sgn(),
    "reciprocal": lambda lib, z, r: z[:2].reciprocal(),
    "polar": lambda lib, z, r: lib.polar(r.abs(), r),
}


@needs_torch
@pytest.mark.parametrize("name", sorted(PRINTED))
def test_results_print_as_pytorchs(name):
    # printing shows the signs of zero parts: 2 / (1+0j) is 2+0j in both
    printed = []
    for lib in (ember, torch):
        z, r = lib.tensor([1 + 0j, -2 + 3j, 0j]), lib.tensor([1.0, -2.0, 0.0])
        printed.append(repr(PRINTED[name](lib, z, r)).replace("torch.", "ember."))
    assert printed[0] == printed[1]


def test_transforms_without_scipy_use_numpys_pocketfft(monkeypatch):
    from ember.fft import _transforms

    monkeypatch.setattr(_transforms, "_BACKEND", [None])  # as if scipy were not installed
    assert _transforms._pocketfft()[0] is np.fft
    close(ember.fft.fft(ember.tensor(A)), np.fft.fft(A))
    close(ember.fft.irfft(ember.tensor(A), n=7), np.fft.irfft(A, n=7))
    assert gradcheck(lambda t: ember.fft.rfft(t), (ember.tensor(R, requires_grad=True),))


@pytest.mark.skipif(not ember.cuda.is_available(), reason="no CUDA device (or emulation)")
def test_complex_tensors_on_a_cuda_device_match_the_cpu():
    z = ember.tensor(A, device="cuda", requires_grad=True)
    w = ember.tensor(B, device="cuda")
    loss = (z * w).abs().sum() + ember.fft.fft(z).real.sum() + (z @ w.mT).imag.sum()
    loss.backward()
    assert z.device.type == "cuda" and z.grad.device.type == "cuda" and ember.fft.fft(z).device.type == "cuda"
    zc = ember.tensor(A, requires_grad=True)
    wc = ember.tensor(B)
    ((zc * wc).abs().sum() + ember.fft.fft(zc).real.sum() + (zc @ wc.mT).imag.sum()).backward()
    close(z.grad.cpu(), zc.grad.numpy(), tol=1e-9)
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        _ = z * wc


def test_reductions_to_real_and_products_of_elements():
    z = ember.tensor(A)
    close(z.prod(), A.prod())
    close(z.prod(1, keepdim=True), A.prod(1, keepdims=True))
    close(z.var(0), A.var(0, ddof=1))  # PyTorch's: the real parts' variance plus the imaginary parts'
    close(z.std(), A.std(ddof=1))
    close(ember.linalg.vector_norm(z, dim=0), np.linalg.norm(A, axis=0))
    close(ember.linalg.norm(z), np.linalg.norm(A))
    close(ember.norm(z, dim=1), np.linalg.norm(A, axis=1))
    close(ember.nn.functional.normalize(z, dim=1), A / np.linalg.norm(A, axis=1, keepdims=True))
    assert ember.count_nonzero(z).item() == 12
    assert ember.ones(2).type_as(z).dtype is ember.complex128
    with pytest.raises(NotImplementedError, match="matrix norm ord='nuc'"):
        ember.linalg.norm(z, "nuc")
    for fn in (lambda t: t.prod(), lambda t: t.prod(0), lambda t: t.var(1), lambda t: ember.linalg.norm(t)):
        assert gradcheck(fn, (ember.tensor(A, requires_grad=True),))


def test_complex_layers_convolutions_and_random_fills():
    x, w, b = crandn(2, 3, 10), crandn(4, 3, 3), crandn(4)
    got = ember.nn.functional.conv1d(ember.tensor(x), ember.tensor(w), ember.tensor(b), padding=1)
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1)))
    windows = np.stack([padded[:, :, i : i + 3] for i in range(10)], axis=2)  # (batch, in, position, tap)
    close(got, np.einsum("bipk,oik->bop", windows, w) + b[None, :, None])  # the bias counted once
    assert gradcheck(lambda a, k, c: ember.nn.functional.conv1d(a, k, c, stride=2),
                     tuple(ember.tensor(v, requires_grad=True) for v in (x, w, b)))  # fmt: skip
    layer = ember.nn.Linear(4, 3, dtype=ember.cfloat)
    assert layer.weight.dtype is ember.complex64 and layer.bias.is_complex()
    out = layer(ember.randn(2, 4, dtype=ember.cfloat))
    out.abs().sum().backward()
    assert out.shape == (2, 3) and layer.weight.grad.dtype is ember.complex64
    z = ember.empty(100000, dtype=ember.cfloat).normal_(1.0, 2.0)
    assert abs(float(z.real.mean()) - 1) < 0.05 and abs(float(z.imag.std()) - 2 / np.sqrt(2)) < 0.05
    u = ember.empty(1000, dtype=ember.cfloat).uniform_(-1, 3)
    assert float(u.imag.min()) >= -1 and float(u.imag.max()) < 3 and float(u.real.max()) > 2.5


def test_sgn_and_abs_have_zero_gradients_at_zero_as_pytorchs():
    z = ember.tensor([0j, 1 + 1j], requires_grad=True)
    (z.sgn().real.sum() + z.abs().sum()).backward()
    assert z.grad[0].item() == 0j


def test_more_functions_against_numpy():
    z, w = ember.tensor(A), ember.tensor(B)
    x3, y3 = crandn(2, 3, 3), crandn(2, 3, 3)
    close(ember.linalg.vecdot(z, w), np.sum(np.conj(A) * B, -1))  # the first argument conjugated
    close(ember.linalg.cross(ember.tensor(x3), ember.tensor(y3)), np.cross(x3, y3))  # dim=-1 by default
    close(ember.linalg.diagonal(ember.tensor(x3)), np.diagonal(x3, axis1=-2, axis2=-1))
    centred = A - A.mean(1, keepdims=True)
    close(ember.cov(z), centred @ centred.conj().T / 3)
    close(ember.corrcoef(z), np.corrcoef(A))
    close(ember.sinc(z), np.sinc(A))
    close(ember.logsumexp(z, 1), np.log(np.exp(A).sum(1)))
    close(ember.addcmul(z, z, w, value=0.5), A + 0.5 * A * B)
    close(ember.lerp(z, w, 0.25), A + 0.25 * (B - A))
    close(ember.expm1(z), np.expm1(A))
    close(ember.log1p(z), np.log1p(A))
    close(ember.masked_select(z, ember.tensor(R) > 0), A[R > 0])
    close(ember.cumprod(z, 1), np.cumprod(A, 1))
    close(ember.addmm(z[:, :3], z, w.mT, beta=2, alpha=0.5), 2 * A[:, :3] + 0.5 * A @ B.T)
    close(ember.baddbmm(ember.tensor(x3), ember.tensor(x3), ember.tensor(y3)), x3 + x3 @ y3)
    close(ember.addr(z, z[:, 0], w[0]), A + np.outer(A[:, 0], B[0]))
    std, mean = ember.std_mean(z, 1)
    close(std, A.std(1, ddof=1))
    close(mean, A.mean(1))
    close(ember.nan_to_num(ember.tensor([complex(np.nan, 1.0)])), [1j])
    for fn in (lambda t: ember.cumprod(t, 1), lambda t: ember.logsumexp(t, 0), lambda t: ember.sinc(t), ember.cov):
        assert gradcheck(fn, (ember.tensor(A, requires_grad=True),))
    with pytest.raises(NotImplementedError, match="\"linalg.det\" not implemented for 'ComplexDouble'"):
        ember.linalg.det(ember.tensor(A[:3, :3]))


def test_inverse_trigonometric_functions_and_in_place_forms():
    z = ember.tensor(A * 0.5)
    for name, reference in (("asin", np.arcsin), ("acos", np.arccos), ("atan", np.arctan), ("asinh", np.arcsinh),
                            ("acosh", np.arccosh), ("atanh", np.arctanh), ("exp2", np.exp2)):  # fmt: skip
        close(getattr(ember, name)(z), reference(A * 0.5))
        assert gradcheck(getattr(ember, name), (ember.tensor(A * 0.5, requires_grad=True),))
    w = z.clone()
    w.sin_()
    close(w, np.sin(A * 0.5))
    w.sinc_()  # a Tensor method written in Python runs the complex rule too
    close(w, np.sinc(np.sin(A * 0.5)))
    assert ember.adjoint(z).tolist() == np.conj(A * 0.5).T.tolist() and ember.resolve_conj(z) is z
    assert ember.tensor([0j, 1j]).any() and not ember.tensor([0j, 1j]).all()
    assert ember.nonzero(ember.tensor([0j, 1j, 2.0])).tolist() == [[1], [2]]


def test_inverse_and_solve_through_the_real_block_matrix():
    m, rhs = crandn(2, 3, 3), crandn(2, 3, 2)
    close(ember.linalg.inv(ember.tensor(m)), np.linalg.inv(m))
    close(ember.tensor(m[0]).inverse(), np.linalg.inv(m[0]))
    close(ember.linalg.solve(ember.tensor(m), ember.tensor(rhs)), np.linalg.solve(m, rhs))
    close(ember.linalg.solve(ember.tensor(m[0]), ember.tensor(rhs[0, :, 0])), np.linalg.solve(m[0], rhs[0, :, 0]))
    close(ember.linalg.solve(ember.tensor(m[0]), ember.tensor(rhs[0].T), left=False), np.linalg.solve(m[0].T, rhs[0]).T)
    assert gradcheck(ember.linalg.inv, (ember.tensor(m, requires_grad=True),))
    assert gradcheck(ember.linalg.solve, tuple(ember.tensor(v, requires_grad=True) for v in (m, rhs)))


def test_module_dtype_conversions_with_complex_parameters():
    layer = ember.nn.Linear(2, 2)
    layer.to(ember.cfloat)  # real parameters made complex: new Parameters (PyTorch's keep their identity)
    assert layer.weight.dtype is ember.complex64 and isinstance(layer.weight, ember.nn.Parameter)
    assert layer(ember.randn(1, 2, dtype=ember.cfloat)).dtype is ember.complex64
    layer.double()  # double() converts floating parameters only, as PyTorch's
    assert layer.weight.dtype is ember.complex64
    layer.to(ember.cdouble)
    assert layer.weight.dtype is ember.complex128
    with pytest.warns(UserWarning, match="Casting complex values to real discards the imaginary part"):
        layer.to(ember.float32)
    assert layer.weight.dtype is ember.float32 and [n for n, _ in layer.named_parameters()] == ["weight", "bias"]


def test_numpy_complex_scalars_work_as_python_complex_numbers():
    z = ember.tensor([1 + 1j, 2])
    for scalar in (np.complex64(1j), np.complex128(1j)):
        for product in (z * scalar, scalar * z):  # numpy defers to the tensor's operators, as to PyTorch's
            assert isinstance(product, ember.Tensor) and product.tolist() == [-1 + 1j, 2j]
        assert (z + scalar).tolist() == [1 + 2j, 2 + 1j]


@needs_torch
@pytest.mark.parametrize("name,kwargs", [("Adam", {}), ("AdamW", {"weight_decay": 0.1}), ("SGD", {"momentum": 0.9})])
def test_optimizers_step_complex_parameters_as_pytorchs(name, kwargs):
    w0, x0 = crandn(3), crandn(3)
    results = []
    for lib in (ember, torch):
        w = lib.nn.Parameter(lib.tensor(w0))
        x = lib.tensor(x0)
        optimizer = getattr(lib.optim, name)([w], lr=0.1, **kwargs)
        for _ in range(3):
            optimizer.zero_grad()
            (((w * x).abs() ** 2).sum() + (w.conj() * x).real.sum()).backward()
            optimizer.step()
        results.append(w.detach().numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12, atol=1e-12)


def test_arguments_that_act():
    z = ember.tensor(A)
    assert z.to(ember.complex128, copy=True) is not z and z.to(ember.complex128) is z
    out = ember.empty(0, dtype=ember.float64)
    ember.linalg.vector_norm(z, out=out)
    close(out, np.linalg.norm(A))
    w = z.clone()
    ember.nn.functional.silu(w, inplace=True)
    close(w, A / (1 + np.exp(-A)))
    assert ember.tensor(A.astype(np.complex64)).prod(dtype=ember.complex128).dtype is ember.complex128
    with pytest.raises(RuntimeError, match="align_to_window should only be set when center = false"):
        ember.stft(ember.tensor(R[0]), 4, window=ember.ones(4), return_complex=True, align_to_window=True)


def test_misuse_raises_clear_errors():
    z = ember.tensor(A)
    with pytest.raises(TypeError, match="must be real number, not complex"):
        ember.tensor([1j], dtype=ember.float32)  # the dtype is not ignored
    with pytest.raises(TypeError, match=r"view_as_complex\(\): argument 'input' \(position 1\) must be Tensor"):
        ember.view_as_complex(None)
    with pytest.raises(TypeError, match=r"view_as_real\(\): argument 'input' \(position 1\) must be Tensor"):
        ember.view_as_real(None)
    with pytest.raises(IndexError, match="Dimension specified as -1 but tensor has no dimensions"):
        ember.fft.fft(ember.tensor(1j))
    with pytest.raises(TypeError, match="must be Number, not str"):
        z.clone().fill_("a")
    with pytest.raises(TypeError, match="expected a Tensor or a number, got str"):
        z.clone()[0] = "a"
    with pytest.raises(RuntimeError, match=r"Incompatible shapes of A and B for the equation AX = B \(3x4 and 3\)"):
        ember.linalg.solve(z, ember.tensor(A[:, 0]))
    with pytest.raises(RuntimeError, match="Invalid number of data points"):
        ember.fft.fft(ember.zeros(0, dtype=ember.cfloat))


class _ScaledConjugate(ember.autograd.Function):
    """y = conj(z) * w for a complex z and a real w, with its backward in PyTorch's convention (a gradient is
    dL/dRe + i dL/dIm): grad_z = conj(grad_y) * w and grad_w = Re(z * grad_y)."""

    @staticmethod
    def forward(ctx, z, w):
        ctx.save_for_backward(z, w)
        return z.conj() * w

    @staticmethod
    def backward(ctx, grad):
        z, w = ctx.saved_tensors
        assert z.is_complex() and not w.is_complex() and grad.is_complex()
        return grad.conj() * w, (z * grad).real


def test_custom_functions_take_and_return_complex_tensors():
    """A custom autograd.Function over complex tensors (torchkbnufft's interpolation is one): forward and
    backward see complex tensors, saved ones too, and the gradients are those of the same ops unwritten."""
    z = ember.tensor(A, requires_grad=True)
    w = ember.tensor(R[:, 0], requires_grad=True)
    out = _ScaledConjugate.apply(z, w[:, None].expand(3, 4).contiguous())
    assert out.is_complex() and out.grad_fn is not None
    close(out, np.conj(A) * R[:, :1])
    (out * ember.tensor(B)).real.sum().backward()
    z2 = ember.tensor(A, requires_grad=True)
    w2 = ember.tensor(R[:, 0], requires_grad=True)
    (z2.conj() * w2[:, None] * ember.tensor(B)).real.sum().backward()
    close(z.grad, z2.grad.detach().numpy())
    close(w.grad, w2.grad.detach().numpy())
    assert gradcheck(lambda z, w: _ScaledConjugate.apply(z, w), (ember.tensor(A, requires_grad=True),
                     ember.tensor(R, requires_grad=True)))  # fmt: skip

    class RealGradient(ember.autograd.Function):  # a real gradient for a complex input: its imaginary part is 0
        @staticmethod
        def forward(ctx, z):
            return z.real.sum()

        @staticmethod
        def backward(ctx, grad):
            return grad * ember.ones(3, 4, dtype=ember.float64)

    z3 = ember.tensor(A, requires_grad=True)
    RealGradient.apply(z3).backward()
    close(z3.grad, np.ones((3, 4)))
    assert z3.grad.is_complex()


def test_indexed_writes_of_complex_values():
    """index_add/index_copy/index_fill/scatter/scatter_add/index_put/masked_scatter and their in-place forms,
    against numpy; gradients through gradcheck; a real self with complex values raises PyTorch's errors."""
    idx, sidx = [2, 0], np.array([[1, 0, 2], [2, 2, 0]])
    z, s = ember.tensor(A), ember.tensor(A[:2] * 1j)
    want = A.copy()
    np.add.at(want, idx, 2 * A[:2] * 1j)
    close(z.index_add(0, ember.tensor(idx), s, alpha=2), want)
    want = A.copy()
    want[idx] = A[:2] * 1j
    close(z.index_copy(0, ember.tensor(idx), s), want)
    close(z.index_put((ember.tensor(idx),), s), want)
    close(z.clone().index_copy_(0, ember.tensor(idx), s), want)
    want = A.copy()
    want[:, [0, 2]] = 1 - 2j
    close(z.index_fill(1, ember.tensor([0, 2]), 1 - 2j), want)
    scattered, added = A.copy(), A.copy()
    for i in range(2):
        for j in range(3):
            scattered[sidx[i, j], j] = A[i, j] * 1j
            added[sidx[i, j], j] += A[i, j] * 1j
    close(z.scatter(0, ember.tensor(sidx), s), scattered)
    close(z.scatter_add(0, ember.tensor(sidx), s), added)
    close(z.clone().scatter_(0, ember.tensor(sidx), s, reduce="add"), added)
    want = A.copy()
    np.add.at(want, [1, 1], A[:2] * 1j)
    close(z.index_put((ember.tensor([1, 1]),), s, accumulate=True), want)
    mask = np.zeros((3, 4), dtype=bool)
    mask[:, ::2] = True
    want = A.copy()
    want[mask] = np.arange(6) * (1 + 1j)
    close(z.masked_scatter(ember.tensor(mask), ember.tensor(np.arange(12) * (1 + 1j))), want)
    assert gradcheck(lambda a, b: a.index_add(0, ember.tensor(idx), b, alpha=1j), (ember.tensor(A, requires_grad=True),
                     ember.tensor(A[:2], requires_grad=True)))  # fmt: skip
    assert gradcheck(lambda a, b: a.scatter(0, ember.tensor(sidx), b), (ember.tensor(A, requires_grad=True),
                     ember.tensor(A[:2], requires_grad=True)))  # fmt: skip
    with pytest.raises(RuntimeError, match=r"index_add_\(\): self \(Double\) and source \(ComplexDouble\) must"):
        ember.tensor(R).index_add(0, ember.tensor(idx), s)
    with pytest.raises(RuntimeError, match=r"scatter\(\): Expected self.dtype to be equal to src.dtype"):
        ember.tensor(R).scatter(0, ember.tensor(sidx), s)
    with pytest.raises(RuntimeError, match="Converting complex Scalar to non-complex type is not supported"):
        ember.tensor(R).index_fill(0, ember.tensor(idx), 1j)
    with pytest.raises(TypeError, match="expected an index Tensor, got NoneType"):
        z.scatter(0, None, s)
