"""Library functions (special, composite math, shapes, tensor extras, sampling, counting, distances,
distributions, func transforms, torch-level ATen names, ember.testing) called with CUDA inputs: every
tensor they make for themselves goes to the inputs' device, so the result is the CPU call's, on CUDA.
Under set_default_device("cuda"), CPU inputs keep CPU results."""

import numpy as np
import pytest

import ember
import ember.func as func
import ember.special as es
from ember import distributions as D

pytestmark = pytest.mark.cuda
requires_gpu = pytest.mark.skipif(not ember.cuda.is_available(), reason="no CUDA GPU")

F64 = ember.float64


def _devices():
    if not ember.cuda.is_available():
        return ["cuda"]
    return ["cuda"] + (["cuda:1"] if ember.cuda.device_count() > 1 else [])


def _arr(*shape, seed=0, low=-1.5, high=1.5):
    return np.random.default_rng(seed).uniform(low, high, size=shape)


def _x(*shape, seed=0, grad=True, low=-1.5, high=1.5):
    return ember.tensor(_arr(*shape, seed=seed, low=low, high=high), dtype=F64, requires_grad=grad)


def _move(a, device):
    if isinstance(a, ember.Tensor):
        t = a.detach().to(device)
        return t.requires_grad_() if a.requires_grad else t
    return a


def _flat(out):
    if isinstance(out, ember.Tensor):
        return [out]
    return [t for o in out for t in _flat(o)] if isinstance(out, (tuple, list)) else []


def _run(fn, args, device):
    """fn's outputs and the gradients of the sum of its float outputs w.r.t. the inputs that require grad."""
    xs = [_move(a, device) for a in args]
    outs = _flat(fn(*xs))
    diff = [o for o in outs if o.requires_grad]
    grads = []
    if diff:
        sum(((o * (k + 1.5)).sum() for k, o in enumerate(diff)), ember.zeros((), dtype=F64, device=device)).backward()
        grads = [x.grad for x in xs if isinstance(x, ember.Tensor) and x.requires_grad]
    return outs, grads


def _same(cuda_results, cpu_results, device, rtol=1e-6):
    for got, want in zip(cuda_results, cpu_results):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert g.device == ember.device(device if ":" in device else "cuda:0"), g.device
            assert g.dtype == w.dtype and tuple(g.shape) == tuple(w.shape)
            np.testing.assert_allclose(g.detach().cpu().numpy(), w.detach().numpy(), rtol=rtol, atol=1e-12)


X34 = _x(3, 4)
X6 = _x(6, seed=1)
XPOS = _x(3, 4, seed=2, low=0.2, high=3.0)
DEGREES = ember.tensor([[0], [3], [-2], [5]])
SPD = ember.tensor(np.array([[2.0, 0.3, 0.1], [0.3, 1.5, 0.2], [0.1, 0.2, 1.0]]), dtype=F64)
LOWER = ember.tensor(np.linalg.cholesky(SPD.numpy()), dtype=F64)

CASES = {
    # special.py: a number operand becomes a tensor on the other's device
    "chebyshev_t_int_degree": (lambda x: es.chebyshev_polynomial_t(x, 3), [X6]),
    "hermite_h_int_degree": (lambda x: es.hermite_polynomial_h(x, 4), [X6]),
    "legendre_p_tensor_degrees": (lambda x, n: es.legendre_polynomial_p(x, n), [X6, DEGREES]),
    "laguerre_number_input": (lambda n: es.laguerre_polynomial_l(0.5, n), [DEGREES]),
    "shifted_chebyshev_w": (lambda x: es.shifted_chebyshev_polynomial_w(x, 5), [X6]),
    "xlog1py_number_first": (lambda x: es.xlog1py(2.0, x), [XPOS]),
    "zeta_number_first": (lambda x: es.zeta(3.0, x), [XPOS]),
    # _composite_math.py
    "ldexp": (lambda x, e: ember.ldexp(x, e), [X34, ember.tensor([1, -2, 0, 3])]),
    "float_power_number_base": (lambda x: ember.float_power(2.0, x), [X34]),
    "fmax_number": (lambda x: ember.fmax(x, 0.25), [X34]),
    "heaviside_number": (lambda x: ember.heaviside(x.detach(), 0.5), [X34]),
    "isclose_number": (lambda x: ember.isclose(x.detach(), 0.5, atol=0.3), [X34]),
    "quantile": (lambda x: ember.quantile(x, 0.3), [X34]),
    "quantile_dim_nearest": (lambda x: ember.quantile(x, 0.5, dim=1, interpolation="nearest"), [X34]),
    "nanquantile_keepdim": (lambda x: ember.nanquantile(x, 0.7, dim=0, keepdim=True), [X34]),
    # _composite_shape.py / _composite_creation.py
    "combinations": (lambda x: ember.combinations(x, 2), [X6]),
    "combinations_with_replacement": (lambda x: ember.combinations(x, 3, with_replacement=True), [X6]),
    # _tensor_extras.py
    "unfold": (lambda x: x.unfold(1, 2, 1), [X34]),
    "fill_diagonal_wrap": (lambda x: x.clone().fill_diagonal_(5.0, wrap=True), [_x(7, 3, seed=3)]),
    "mode": (lambda x: ember.mode(x.round(), 1), [X34 * 2]),
    "frexp": (lambda x: ember.frexp(x.detach()), [X34]),
    "nextafter": (lambda x, y: ember.nextafter(x.detach(), y.detach()), [X34, XPOS]),
    # _histogram.py
    "bincount": (lambda i: ember.bincount(i, minlength=7), [ember.tensor([0, 3, 3, 1, 5])]),
    "bincount_weights": (lambda i, w: ember.bincount(i, w.detach()), [ember.tensor([0, 3, 3, 1, 5]), _x(5)]),
    "histc": (lambda x: ember.histc(x.detach(), bins=5, min=-1, max=1), [X34]),
    "histogram_bins": (lambda x: ember.histogram(x.detach(), 4), [X34]),
    "histogram_edges": (lambda x: ember.histogram(x.detach(), [-1.0, 0.0, 0.5, 1.5], density=True), [X34]),
    "histogramdd": (lambda x: ember.histogramdd(x.detach(), bins=[2, 3]), [_x(10, 2)]),
    # _distance.py
    "pdist": (lambda x: ember.pdist(x), [X34]),
    "pdist_p1": (lambda x: ember.pdist(x, 1.0), [X34]),
    # _torch_level_aten.py / _torch_misc.py
    "native_dropout_eval": (lambda x: ember.native_dropout(x, 0.5, False), [X34]),
    "native_dropout_p1": (lambda x: ember.native_dropout(x, 1.0, True), [X34]),
    "nonzero_static": (lambda x: ember.nonzero_static(x.detach() > 0, size=20), [X34]),
    "hash_tensor": (lambda x: ember.hash_tensor(x.detach()), [X34]),
    "hash_tensor_dim": (lambda x: ember.hash_tensor(x.detach(), 1), [X34]),
    "embedding_bag_max": (
        lambda w, i, o: ember.embedding_bag(w, i, o, False, 2),
        [_x(10, 3), ember.tensor([1, 2, 4, 5, 4, 3, 2, 9]), ember.tensor([0, 4])],
    ),
    "embedding_bag_sum": (
        lambda w, i, o: ember.embedding_bag(w, i, o, False, 0),
        [_x(10, 3), ember.tensor([1, 2, 4, 5, 4, 3, 2, 9]), ember.tensor([0, 4])],
    ),
    # distributions: deterministic values and their gradients
    "cauchy_mean_variance": (lambda loc: (D.Cauchy(loc, 1.0).mean, D.Cauchy(loc, 1.0).variance), [X6]),
    "categorical_mean_support": (
        lambda p: (D.Categorical(probs=p.softmax(-1)).mean, D.Categorical(probs=p.softmax(-1)).enumerate_support()),
        [X34],
    ),
    "bernoulli_support": (lambda p: D.Bernoulli(probs=p.sigmoid()).enumerate_support(), [X6]),
    "one_hot_support": (lambda p: D.OneHotCategorical(logits=p).enumerate_support(), [X34]),
    "binomial_support": (lambda p: D.Binomial(3, probs=p.sigmoid()).enumerate_support(), [X6]),
    "half_cauchy_mean": (lambda s: D.HalfCauchy(s).mean, [XPOS]),
    "von_mises_log_prob": (lambda c: D.VonMises(0.3, c).log_prob(ember.zeros_like(c) + 0.5), [XPOS]),
    "mvn_precision_log_prob": (
        lambda p, v: D.MultivariateNormal(ember.zeros(3, dtype=F64, device=v.device), precision_matrix=p).log_prob(v),
        [SPD, _x(4, 3)],
    ),
    "lowrank_mvn_log_prob": (
        lambda f, d, v: D.LowRankMultivariateNormal(ember.zeros_like(v[0]), f, d.exp()).log_prob(v),
        [_x(3, 2, seed=5), _x(3, seed=6), _x(4, 3)],
    ),
    "wishart_log_prob_entropy": (
        lambda t: (
            D.Wishart(5.0, scale_tril=t).log_prob(ember.eye(3, dtype=F64, device=t.device) * 2),
            D.Wishart(5.0, scale_tril=t).entropy(),
        ),
        [LOWER],
    ),
    "lkj_cholesky_log_prob": (
        lambda t, c: D.LKJCholesky(3, c).log_prob(t / t.norm(dim=-1, keepdim=True)),
        [LOWER, ember.tensor([2.0, 0.5], dtype=F64, requires_grad=True)],
    ),
    "square_constraint": (lambda m: D.constraints.square.check(m), [ember.zeros(2, 3, 3)]),
    # func / autograd.functional / gradcheck
    "hessian": (lambda x: func.hessian(lambda a: (a * a * a).sum() + a.sin().sum())(x.detach()), [X6]),
    "jacrev_of_jacrev": (lambda x: func.jacrev(func.jacrev(lambda a: (a.exp() * a).sum()))(x.detach()), [X6]),
    "jacfwd_of_jacfwd": (lambda x: func.jacfwd(func.jacfwd(lambda a: (a * a).sum()))(x.detach()), [X6]),
    "jacfwd": (lambda x: func.jacfwd(lambda a: a.sin() * a)(x.detach()), [X6]),
    "vmap_of_grad_special": (lambda x: func.vmap(func.grad(lambda t: es.i1(t).sum()))(x.detach()), [XPOS]),
    "functional_jacobian_forward": (
        lambda x: ember.autograd.functional.jacobian(
            lambda a: a.exp(), x.detach(), vectorize=True, strategy="forward-mode"
        ),
        [X6],
    ),
    "functional_hessian_fwd_over_rev": (
        lambda x: ember.autograd.functional.hessian(
            lambda a: (a**3).sum(), x.detach(), vectorize=True, outer_jacobian_strategy="forward-mode"
        ),
        [X6],
    ),
}


@requires_gpu
@pytest.mark.parametrize("device", _devices())
@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients_match_the_cpu(name, device):
    fn, args = CASES[name]
    cpu = _run(fn, args, "cpu")
    cuda = _run(fn, args, device)
    _same(cuda, cpu, device)


# ---------------------------------------------------------------- creation functions that take device=


@requires_gpu
@pytest.mark.filterwarnings("ignore:torch.range is deprecated")
@pytest.mark.parametrize("device", _devices())
def test_creation_functions_honour_device(device):
    want = ember.device(device) if ":" in device else ember.device("cuda:0")
    cases = [
        (lambda d: ember.logspace(0, 2, 5, device=d), {}),
        (lambda d: ember.logspace(0, 2, 5, base=2.0, dtype=F64, device=d), {}),
        (lambda d: ember.tril_indices(4, 3, 1, device=d), {}),
        (lambda d: ember.triu_indices(3, 5, -1, device=d), {}),
        (lambda d: ember.range(0, 2, 0.5, device=d), {}),
        (lambda d: ember.asarray([1.0, 2.0], device=d), {}),
        (lambda d: ember.asarray(np.arange(4.0), device=d), {}),
        (lambda d: ember.testing.make_tensor(3, 2, dtype=F64, device=d, low=0, high=1), {"values": False}),
        (lambda d: ember.testing.make_tensor(5, dtype=ember.int32, device=d, noncontiguous=True), {"values": False}),
    ]
    for make, opts in cases:
        got, ref = make(device), make("cpu")
        assert got.device == want and got.dtype == ref.dtype and tuple(got.shape) == tuple(ref.shape)
        if opts.get("values", True):
            np.testing.assert_allclose(got.cpu().numpy(), ref.numpy())
    # asarray of a tensor: its own device unless device says
    t = ember.ones(2, device=device)
    assert ember.asarray(t) is t and ember.asarray(t, device="cpu").device.type == "cpu"
    assert ember.asarray(t.cpu(), device=device).device == want


@requires_gpu
def test_from_file_to_a_device(tmp_path):
    path = tmp_path / "values.bin"
    np.arange(5, dtype=np.float64).tofile(path)
    t = ember.from_file(str(path), size=5, dtype=F64, device="cuda")
    assert t.is_cuda and t.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


# ---------------------------------------------------------------- random: right device, right law


@requires_gpu
def test_samplers_draw_on_the_inputs_device():
    ember.manual_seed(0)
    p = ember.full((2000,), 0.3, dtype=F64, device="cuda")
    draws = ember.bernoulli(p)
    assert draws.is_cuda and abs(float(draws.mean()) - 0.3) < 0.05
    assert ember.empty(2000, device="cuda").bernoulli_(0.7).mean().item() == pytest.approx(0.7, abs=0.05)
    w = ember.tensor([[0.0, 1.0, 3.0], [2.0, 0.0, 0.0]], device="cuda")
    for replacement in (True, False):
        idx = ember.multinomial(w, 2 if not replacement else 50, replacement)
        assert idx.is_cuda and idx.dtype == ember.int64
        assert set(idx[1].tolist()) <= ({0} if replacement else {0, 1, 2}) and 0 not in idx[0, :1].tolist()
    mean = ember.zeros(3, dtype=F64, device="cuda", requires_grad=True)
    std = ember.ones(3, dtype=F64, device="cuda", requires_grad=True)
    sample = ember.normal(mean, std)
    sample.sum().backward()
    assert sample.is_cuda and mean.grad.is_cuda and np.allclose(mean.grad.cpu().numpy(), 1.0)
    rates = ember.tensor([0.5, 4.0, 30.0], dtype=F64, device="cuda")
    assert ember.poisson(rates).is_cuda and ember.poisson(rates).dtype == F64
    like = ember.zeros(4, 5, dtype=ember.int32, device="cuda")
    r = ember.randint_like(like, 3, 9)
    assert r.is_cuda and r.dtype == ember.int32 and 3 <= int(r.min()) and int(r.max()) < 9
    x = ember.empty(500, dtype=F64, device="cuda")
    assert int(x.random_(0, 4).max()) <= 3 and float(x.geometric_(0.5).min()) >= 1
    assert float(x.log_normal_(0.0, 0.5).min()) > 0 and float(x.exponential_().min()) >= 0 and x.is_cuda
    assert x.cauchy_().is_cuda


@requires_gpu
def test_distribution_samples_are_made_on_the_parameters_device():
    ember.manual_seed(0)
    loc = ember.zeros(3, dtype=F64, device="cuda", requires_grad=True)
    scale = ember.ones(3, dtype=F64, device="cuda")
    s = D.Normal(loc, scale).rsample((4,))
    s.sum().backward()
    assert s.is_cuda and loc.grad.is_cuda and np.allclose(loc.grad.cpu().numpy(), 4.0)
    c = ember.tensor([0.5, 2.0, 5.0], dtype=F64, device="cuda")
    eye = ember.eye(3, dtype=F64, device="cuda")
    samples = [
        D.Uniform(c - 1, c).rsample((2,)),
        D.Laplace(c, c).rsample((2,)),
        D.Cauchy(c, c).rsample((2,)),
        D.Gamma(c, c).rsample((2,)),
        D.Beta(c, c).rsample((2,)),
        D.StudentT(c).rsample((2,)),
        D.Categorical(probs=c).sample((5,)),
        D.RelaxedBernoulli(ember.tensor(0.5, device="cuda"), probs=c / 6).rsample(),
        D.RelaxedOneHotCategorical(ember.tensor(0.5, device="cuda"), probs=c).rsample(),
        D.Gumbel(c, c).rsample(),
        D.GeneralizedPareto(c, c, c / 10).rsample(),
        D.Binomial(5, probs=c / 6).sample(),
        D.MultivariateNormal(c, eye).rsample((2,)),
        D.LowRankMultivariateNormal(c, eye[:, :2], c).rsample((2,)),
        D.Wishart(4.0, eye).rsample(),
        D.LKJCholesky(3, ember.tensor(1.5, device="cuda")).sample(),
        D.VonMises(c, c).sample(),
    ]
    for t in samples:
        assert t.is_cuda and bool(ember.isfinite(t.double()).all())


# ---------------------------------------------------------------- vmap and ember.testing


@requires_gpu
def test_batched_tensors_report_their_device():
    x = ember.ones(2, 3, device="cuda")
    seen = []
    func.vmap(lambda t: seen.append((t.is_cuda, t.get_device(), t.device.type)) or t)(x)
    assert seen == [(True, 0, "cuda")]


@requires_gpu
def test_testing_assert_close_on_cuda_tensors():
    a = ember.tensor([1.0, 2.0], device="cuda")
    ember.testing.assert_close(a, a.clone())
    with pytest.raises(AssertionError, match="Tensor-likes are not close"):
        ember.testing.assert_close(a, a + 1)
    with pytest.raises(AssertionError, match="device"):
        ember.testing.assert_close(a, a.cpu())
    ember.testing.assert_close(a, a.cpu(), check_device=False)


@requires_gpu
def test_tensor_methods_keep_the_device():
    x = ember.arange(6.0, device="cuda").reshape(2, 3)
    assert x.new(2, 2).is_cuda and x.new([1, 2]).is_cuda and x.new(ember.Size([3])).is_cuda
    assert x.clone().apply_(lambda v: v * 2).tolist() == [[0.0, 2.0, 4.0], [6.0, 8.0, 10.0]]
    assert x.clone().map_(x, lambda a, b: a + b).is_cuda
    assert x.clone().map2_(x, x, lambda a, b, c: a + b + c).tolist() == [[0.0, 3.0, 6.0], [9.0, 12.0, 15.0]]
    assert ember.hash_tensor(ember.tensor([-1], dtype=ember.int8, device="cuda")).item() == 2**64 - 1


# ---------------------------------------------------------------- the default device is CUDA, inputs on the CPU

DEFAULT_CASES = [
    "chebyshev_t_int_degree",
    "xlog1py_number_first",
    "quantile_dim_nearest",
    "combinations",
    "unfold",
    "fill_diagonal_wrap",
    "mode",
    "histogram_edges",
    "pdist",
    "von_mises_log_prob",
    "lowrank_mvn_log_prob",
    "hessian",
    "jacrev_of_jacrev",
]


@requires_gpu
def test_cpu_inputs_under_a_cuda_default_device_stay_on_the_cpu():
    expected = {name: _run(*CASES[name], "cpu") for name in DEFAULT_CASES}
    previous = ember.get_default_device()
    ember.set_default_device("cuda")
    try:
        for name in DEFAULT_CASES:
            fn, args = CASES[name]
            outs, grads = _run(fn, args, "cpu")
            for got, want in zip((outs, grads), expected[name]):
                for g, w in zip(got, want):
                    assert g.device.type == "cpu", name
                    np.testing.assert_allclose(g.detach().numpy(), w.detach().numpy(), rtol=1e-6, err_msg=name)
        normal = D.Normal(ember.zeros(3, device="cpu"), 1.0).sample((2,))
        assert normal.device.type == "cpu"
    finally:
        ember.set_default_device(previous)
