"""ember.linalg and ember.optim with CUDA inputs: the factorizations run LAPACK on a host copy, and their
results (values, info, pivots, the tensors their backward and jvp make) come back on the input's device;
the helpers the composites and the optimizers make follow their inputs' device; a CUDA run gives the
values and gradients of the same run on the CPU. Under set_default_device("cuda"), CPU inputs stay on
the CPU."""

import copy

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember import optim
from ember.autograd import forward_ad as fwAD

pytestmark = [pytest.mark.cuda, pytest.mark.filterwarnings("ignore:torch.triangular_solve is deprecated")]

requires_gpu = pytest.mark.skipif(not ember.cuda.is_available(), reason="no CUDA GPU")

L = ember.linalg
F64 = ember.float64


def spd(n, seed=0, batch=()):
    a = np.random.default_rng(seed).standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def gen(seed, *shape):
    return np.random.default_rng(seed).standard_normal(shape)


def tri(n, seed=1):
    return np.tril(gen(seed, n, n)) + 3 * np.eye(n)


def lu_solve(A, B):
    LU, piv = L.lu_factor(A)
    assert piv.dtype == ember.int32 and piv.device == A.device
    return L.lu_solve(LU, piv, B), L.lu_solve(LU, piv, B.mT, left=False, adjoint=True)


def lu_factor_ex(A):
    LU, piv, info = L.lu_factor_ex(A)
    return LU, piv, info


def lu_unpack(A):
    LU, piv = L.lu_factor(A)
    return ember.lu_unpack(LU, piv)


def lstsq(A, B):
    return tuple(L.lstsq(A, B, driver="gelsd"))


def householder(A):
    a, tau = ember.geqrf(A.detach())
    Q = L.householder_product(a, tau)
    return a, tau, Q, ember.ormqr(a, tau, A.mT, left=False, transpose=True)


def ldl(A, B):
    LD, piv, info = L.ldl_factor_ex(A.detach())
    return LD, piv, info, L.ldl_solve(LD, piv, B.detach())


def lobpcg(A, X):
    E, V = ember.lobpcg(A, k=2, X=X.detach(), largest=True)
    return E, V.detach()  # the eigenvalues differentiate


def torch_svd_no_uv(A):
    return ember.svd(A, compute_uv=False)


# (id, the call, its inputs as float64 numpy arrays)
LINALG_CASES = [
    ("inv", L.inv, [spd(3)]),
    ("inv_ex-batch", L.inv_ex, [spd(3, batch=(2,))]),
    ("det", L.det, [gen(0, 2, 3, 3)]),
    ("det-singular", L.det, [np.outer([1.0, 2.0, 3.0], [1.0, -1.0, 0.5])]),
    ("slogdet", L.slogdet, [gen(0, 3, 3)]),
    ("logdet", ember.logdet, [spd(3)]),
    ("solve", L.solve, [gen(0, 3, 3) + 3 * np.eye(3), gen(1, 3, 2)]),
    ("solve_ex-vector", L.solve_ex, [gen(0, 3, 3) + 3 * np.eye(3), gen(1, 3)]),
    ("solve-right", lambda A, B: L.solve(A, B, left=False), [gen(0, 3, 3) + 3 * np.eye(3), gen(1, 2, 3)]),
    ("solve_triangular", lambda A, B: L.solve_triangular(A, B, upper=False), [tri(3), gen(2, 3, 2)]),
    (
        "solve_triangular-right-unit",
        lambda A, B: L.solve_triangular(A.mT, B, upper=True, left=False, unitriangular=True),
        [tri(3), gen(2, 2, 3)],
    ),
    ("cholesky", L.cholesky, [spd(4)]),
    ("cholesky_ex-upper", lambda A: L.cholesky_ex(A, upper=True), [spd(3, batch=(2,))]),
    ("cholesky_solve", lambda B, A: ember.cholesky_solve(B, L.cholesky(A)), [gen(3, 3, 2), spd(3)]),
    ("cholesky_inverse", lambda A: ember.cholesky_inverse(L.cholesky(A)), [spd(3)]),
    ("triangular_solve", lambda B, A: tuple(ember.triangular_solve(B, A, upper=False)), [gen(2, 3, 2), tri(3)]),
    ("lu_factor+lu_solve", lu_solve, [gen(0, 3, 3) + 3 * np.eye(3), gen(1, 3, 2)]),
    ("lu_factor_ex", lu_factor_ex, [gen(4, 3, 3)]),
    ("lu", lambda A: tuple(L.lu(A)), [gen(4, 3, 3)]),
    ("lu_unpack", lu_unpack, [gen(4, 3, 3)]),
    ("qr", lambda A: tuple(L.qr(A)), [gen(5, 4, 3)]),
    ("qr-wide", lambda A: tuple(L.qr(A)), [gen(5, 3, 4)]),
    ("qr-r", lambda A: tuple(L.qr(A.detach(), mode="r")), [gen(5, 4, 3)]),
    ("eigh", lambda A: tuple(L.eigh(A)), [spd(3)]),
    ("eigvalsh", L.eigvalsh, [spd(3)]),
    ("svd", lambda A: tuple(L.svd(A, full_matrices=False)), [gen(6, 4, 3)]),
    ("svdvals", L.svdvals, [gen(6, 4, 3)]),
    ("torch.svd-no-uv", lambda A: tuple(torch_svd_no_uv(A)), [gen(6, 2, 4, 3)]),
    ("pinv", L.pinv, [gen(7, 4, 3)]),
    ("pinv-hermitian", lambda A: L.pinv(A, hermitian=True), [spd(3)]),
    ("matrix_rank", L.matrix_rank, [gen(7, 4, 3)]),
    ("lstsq-gelsd", lstsq, [gen(8, 5, 3), gen(9, 5, 2)]),
    ("matrix_norm-nuc", lambda A: L.matrix_norm(A, "nuc"), [gen(10, 3, 4)]),
    ("norm-2", lambda A: L.norm(A, 2), [gen(10, 3, 4)]),
    ("cond", L.cond, [gen(11, 3, 3)]),
    ("cond-fro", lambda A: L.cond(A, "fro"), [gen(11, 3, 3)]),
    ("cond-singular", lambda A: L.cond(A.detach(), 1), [np.ones((3, 3))]),
    ("matrix_exp", L.matrix_exp, [gen(12, 3, 3)]),
    ("matrix_exp-scaled", L.matrix_exp, [4 * gen(12, 2, 3, 3)]),
    ("vander", L.vander, [gen(13, 4)]),
    ("vander-N1", lambda x: L.vander(x, N=1), [gen(13, 4)]),
    ("matrix_power-0", lambda A: L.matrix_power(A, 0), [gen(14, 2, 3, 3)]),
    ("matrix_power-neg", lambda A: L.matrix_power(A, -2), [spd(3)]),
    ("block_diag", ember.block_diag, [gen(15, 2, 2), gen(16, 3), gen(17, 1, 2)]),
    ("tensorinv", lambda A: L.tensorinv(A, ind=1), [spd(4).reshape(4, 2, 2)]),
    ("tensorsolve", L.tensorsolve, [spd(4).reshape(2, 2, 4), gen(18, 2, 2)]),
    ("geqrf+householder_product+ormqr", householder, [gen(19, 4, 3)]),
    ("ldl_factor_ex+ldl_solve", ldl, [gen(20, 3, 3) + gen(20, 3, 3).T, gen(21, 3, 2)]),
    ("lobpcg", lobpcg, [spd(9, seed=22), gen(23, 9, 2)]),
]


def _outputs(result):
    return list(result) if isinstance(result, (tuple, list)) else [result]


def _run(fn, arrays, device):
    inputs = [ember.tensor(a, dtype=F64, device=device, requires_grad=True) for a in arrays]
    outs = _outputs(fn(*inputs))
    diff = [o for o in outs if o.requires_grad]
    if diff:
        weights = [ember.tensor(gen(100 + k, *o.shape), dtype=F64, device=device) for k, o in enumerate(diff)]
        loss = sum((o * w).sum() for o, w in zip(diff, weights))
        loss.backward()
    return outs, [x.grad for x in inputs]


@requires_gpu
@pytest.mark.parametrize("fn, arrays", [pytest.param(f, a, id=name) for name, f, a in LINALG_CASES])
def test_linalg_on_cuda_matches_the_cpu(fn, arrays):
    cpu_outs, cpu_grads = _run(fn, arrays, "cpu")
    cuda_outs, cuda_grads = _run(fn, arrays, "cuda")
    assert len(cpu_outs) == len(cuda_outs)
    for c, g in zip(cpu_outs, cuda_outs):
        assert g.device.type == "cuda" and c.device.type == "cpu"
        assert g.dtype == c.dtype and g.shape == c.shape
        np.testing.assert_allclose(g.detach().cpu().numpy(), c.detach().numpy(), rtol=1e-6, atol=1e-10)
    for c, g in zip(cpu_grads, cuda_grads):
        assert (c is None) == (g is None)
        if c is not None:
            assert g.device.type == "cuda"
            np.testing.assert_allclose(g.cpu().numpy(), c.numpy(), rtol=1e-6, atol=1e-10)


JVP_CASES = [
    ("inv", L.inv, [spd(3)]),
    ("det", L.det, [gen(0, 3, 3)]),
    ("det-singular", L.det, [np.outer([1.0, 2.0, 3.0], [1.0, -1.0, 0.5])]),
    ("slogdet", lambda A: L.slogdet(A)[1], [gen(0, 3, 3)]),
    ("solve", L.solve, [gen(0, 3, 3) + 3 * np.eye(3), gen(1, 3, 2)]),
    ("solve_triangular", lambda A, B: L.solve_triangular(A, B, upper=False), [tri(3), gen(2, 3, 2)]),
    ("cholesky", L.cholesky, [spd(3)]),
    ("eigh", lambda A: L.eigh(A)[1], [spd(3)]),
]


def _jvp(fn, arrays, device):
    with fwAD.dual_level():
        duals = [
            fwAD.make_dual(ember.tensor(a, dtype=F64, device=device), ember.tensor(t, dtype=F64, device=device))
            for a, t in zip(arrays, (gen(50 + k, *a.shape) for k, a in enumerate(arrays)))
        ]
        primal, tangent = fwAD.unpack_dual(fn(*duals))
        return primal.detach(), tangent


@requires_gpu
@pytest.mark.parametrize("fn, arrays", [pytest.param(f, a, id=name) for name, f, a in JVP_CASES])
def test_linalg_forward_ad_on_cuda_matches_the_cpu(fn, arrays):
    cpu = _jvp(fn, arrays, "cpu")
    cuda = _jvp(fn, arrays, "cuda")
    for c, g in zip(cpu, cuda):
        assert g.device.type == "cuda"
        np.testing.assert_allclose(g.cpu().numpy(), c.numpy(), rtol=1e-6, atol=1e-10)


@requires_gpu
def test_linalg_errors_on_cuda():
    singular = ember.ones(2, 3, 3, dtype=F64, device="cuda")
    with pytest.raises(L.LinAlgError, match="Batch element 0"):
        L.inv(singular)
    with pytest.raises(L.LinAlgError, match="not positive-definite"):
        L.cholesky(-ember.eye(3, dtype=F64, device="cuda"))
    inverse, info = L.inv_ex(singular)
    assert info.device.type == "cuda" and info.dtype == ember.int32 and info.cpu().tolist() == [2, 2]
    A = ember.tensor(spd(3), device="cuda")
    for call in (
        lambda: L.solve(A, ember.ones(3, 1, dtype=F64)),
        lambda: L.solve_triangular(A, ember.ones(3, 1, dtype=F64), upper=True),
    ):
        with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
            call()


# (id, optimizer class, its options, the shapes of the parameters)
OPTIM_CASES = [
    ("sgd", optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("adam", optim.Adam, dict(lr=0.05, amsgrad=True, weight_decay=0.01)),
    ("adamw", optim.AdamW, dict(lr=0.05, weight_decay=0.1)),
    ("adamax", optim.Adamax, dict(lr=0.05, weight_decay=0.1)),
    ("nadam", optim.NAdam, dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("radam", optim.RAdam, dict(lr=0.05, weight_decay=0.1)),
    ("adadelta", optim.Adadelta, dict(lr=0.5, weight_decay=0.1)),
    ("adagrad", optim.Adagrad, dict(lr=0.1, initial_accumulator_value=0.1, lr_decay=0.01)),
    ("asgd", optim.ASGD, dict(lr=0.05, t0=1, weight_decay=0.1)),
    ("rmsprop", optim.RMSprop, dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1)),
    ("rprop", optim.Rprop, dict(lr=0.05, maximize=True)),
    ("adafactor", optim.Adafactor, dict(lr=0.05, weight_decay=0.01)),
]
SHAPES = [(3, 4), (5,), ()]
STEPS = 5


def _optimize(cls, kwargs, dtype, device):
    starts = [gen(30 + k, *s) for k, s in enumerate(SHAPES)]
    params = [ember.tensor(a, dtype=dtype, device=device, requires_grad=True) for a in starts]
    opt = cls(params, **kwargs)
    for step in range(STEPS):
        for k, p in enumerate(params):
            skip = k == len(params) - 1 and step % 2 == 1  # a parameter without a gradient now and then
            p.grad = None if skip else ember.tensor(gen(40 + 10 * step + k, *SHAPES[k]), dtype=dtype, device=device)
        opt.step()
    return params, opt


def _assert_state_alike(cpu_opt, cuda_opt, rtol):
    for sc, sg in zip(cpu_opt.state.values(), cuda_opt.state.values()):
        assert list(sc) == list(sg)
        for key in sc:
            c, g = sc[key], sg[key]
            if isinstance(c, ember.Tensor):
                # step (and ASGD's eta, mu, NAdam's mu_product) stay 0-d CPU tensors, as PyTorch's
                assert g.device.type == ("cpu" if key in ("step", "eta", "mu", "mu_product") else "cuda"), key
                np.testing.assert_allclose(g.cpu().numpy(), c.numpy(), rtol=rtol, atol=rtol * 1e-3)


@requires_gpu
@pytest.mark.parametrize("dtype", [ember.float64, ember.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("cls, kwargs", [pytest.param(c, k, id=name) for name, c, k in OPTIM_CASES])
def test_optimizer_steps_on_cuda_match_the_cpu(cls, kwargs, dtype):
    rtol = 1e-6 if dtype == ember.float64 else 1e-4
    cpu_params, cpu_opt = _optimize(cls, kwargs, dtype, "cpu")
    cuda_params, cuda_opt = _optimize(cls, kwargs, dtype, "cuda")
    for c, g in zip(cpu_params, cuda_params):
        assert g.device.type == "cuda"
        np.testing.assert_allclose(g.detach().cpu().numpy(), c.detach().numpy(), rtol=rtol, atol=rtol * 1e-3)
    _assert_state_alike(cpu_opt, cuda_opt, rtol)


@requires_gpu
def test_lbfgs_with_a_parameter_without_gradient_on_cuda():
    def run(device):
        w = ember.tensor(gen(60, 4), dtype=F64, device=device, requires_grad=True)
        unused = ember.zeros(3, dtype=F64, device=device, requires_grad=True)
        target = ember.tensor(gen(61, 4), dtype=F64, device=device)
        opt = optim.LBFGS([w, unused], lr=0.5, max_iter=5, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = ((w - target) ** 2).sum() + (w**4).sum() * 0.1
            loss.backward()
            return loss

        for _ in range(3):
            opt.step(closure)
        return w

    cpu, cuda = run("cpu"), run("cuda")
    assert cuda.device.type == "cuda"
    np.testing.assert_allclose(cuda.detach().cpu().numpy(), cpu.detach().numpy(), rtol=1e-6)


@requires_gpu
def test_a_cpu_state_dict_loads_onto_cuda_parameters():
    """As PyTorch's: the state follows the parameters' device (and floating dtype), step stays where it was."""
    cls, kwargs = optim.ASGD, dict(lr=0.05, t0=1)
    trained, opt = _optimize(cls, kwargs, F64, "cpu")
    saved = opt.state_dict()
    runs = []
    for device in ("cpu", "cuda"):
        params = [ember.tensor(p.detach().numpy(), device=device, requires_grad=True) for p in trained]
        resumed = cls(params, **kwargs)
        resumed.load_state_dict(copy.deepcopy(saved))  # a CPU load shares the tensors, as PyTorch's
        state = resumed.state[params[0]]
        assert state["ax"].device.type == device and state["eta"].device.type == device
        assert state["step"].device.type == "cpu"
        for step in range(2):
            for k, p in enumerate(params):
                p.grad = ember.tensor(gen(70 + 10 * step + k, *SHAPES[k]), dtype=F64, device=device)
            resumed.step()
        runs.append(params)
    for c, g in zip(*runs):
        np.testing.assert_allclose(g.detach().cpu().numpy(), c.detach().numpy(), rtol=1e-6)


@requires_gpu
def test_averaged_model_of_a_cuda_model():
    ember.manual_seed(0)
    model = nn.Linear(3, 2).to("cuda")
    swa = optim.swa_utils.AveragedModel(model)
    values = []
    for k in range(3):
        with ember.no_grad():
            model.weight.add_(float(k + 1))
        swa.update_parameters(model)
        values.append(model.weight.detach().cpu().numpy().copy())
    assert swa.module.weight.device.type == "cuda"
    np.testing.assert_allclose(swa.module.weight.detach().cpu().numpy(), np.mean(values, axis=0), rtol=1e-6)


DEFAULT_DEVICE_CASES = ["inv", "qr-r", "lstsq-gelsd", "matrix_exp-scaled", "vander", "block_diag", "lu_unpack"]
DEFAULT_DEVICE_CASES += ["geqrf+householder_product+ormqr", "ldl_factor_ex+ldl_solve", "torch.svd-no-uv", "cond"]


@requires_gpu
def test_cpu_inputs_stay_on_the_cpu_under_a_cuda_default_device():
    cases = {name: (f, a) for name, f, a in LINALG_CASES}
    expected = {name: _run(*cases[name], "cpu") for name in DEFAULT_DEVICE_CASES}
    optimizers = [(name, c, k) for name, c, k in OPTIM_CASES if name in ("rprop", "adafactor")]
    expected_opt = {name: _optimize(c, k, F64, "cpu")[0] for name, c, k in optimizers}
    ember.set_default_device("cuda")
    try:
        for name in DEFAULT_DEVICE_CASES:
            outs, grads = _run(*cases[name], "cpu")
            for o, e in zip(outs + grads, expected[name][0] + expected[name][1]):
                if e is not None:
                    assert o.device.type == "cpu", name
                    np.testing.assert_allclose(o.detach().numpy(), e.detach().numpy(), rtol=1e-6, atol=1e-10)
        E, X = ember.lobpcg(ember.tensor(spd(9, seed=22), device="cpu"), k=2)  # random starting vectors
        assert E.device.type == "cpu" and X.device.type == "cpu"
        np.testing.assert_allclose(E.numpy(), np.linalg.eigvalsh(spd(9, seed=22))[::-1][:2], rtol=1e-4)
        for name, cls, kwargs in optimizers:
            params, _ = _optimize(cls, kwargs, F64, "cpu")
            for p, e in zip(params, expected_opt[name]):
                assert p.device.type == "cpu"
                np.testing.assert_allclose(p.detach().numpy(), e.detach().numpy(), rtol=1e-6)
    finally:
        ember.set_default_device(None)
