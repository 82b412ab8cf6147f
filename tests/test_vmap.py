"""ember.func.vmap (Note [Batched tensors]): every registered op under vmap against a loop over the
batch (values, and per-sample gradients), in_dims/out_dims, nesting, chunks, randomness, errors,
and composition with the other transforms; against torch.func when PyTorch is importable."""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest
from test_registry import ROWS, primary

import ember
import ember._batched as batched
import ember.nn.functional as F
from ember.func import functional_call, grad, hessian, jacfwd, jacrev, jvp, stack_module_state, vjp, vmap
from op_db import CASES, OpCase

N = 3  # batch size of the op cases


def _batched_inputs(case: OpCase, which: str, seed: int = 0) -> tuple[list, list]:
    """The case's inputs with a batch dim (float inputs random per entry; integer and bool inputs,
    often indices, the same array repeated) and their in_dims: every input batched ("all") or the
    first only ("first")."""
    rng = np.random.default_rng(seed)
    tensors, dims = [], []
    for i, x in enumerate(case.inputs):
        mapped = which == "all" or i == 0
        if isinstance(x, np.ndarray):
            a = np.stack([x] * N) if mapped else x
        else:
            a = rng.uniform(0.5, 1.5, ((N,) if mapped else ()) + tuple(x))
        tensors.append(ember.tensor(a, dtype=ember.float64) if a.dtype.kind == "f" else ember.tensor(a))
        dims.append(0 if mapped else None)
    return tensors, dims


def _entry(ts: list, dims: list, b: int) -> list:
    return [t[b] if d == 0 else t for t, d in zip(ts, dims)]


def _assert_stacked(got, per_entry) -> None:
    if isinstance(got, tuple):
        for k, g in enumerate(got):
            _assert_stacked(g, [r[k] for r in per_entry])
        return
    ref = ember.stack(list(per_entry))
    assert got.shape == ref.shape and got.dtype == ref.dtype
    np.testing.assert_allclose(got.detach().numpy(), ref.detach().numpy(), rtol=1e-10, atol=1e-12)


DYNAMIC_SHAPE = {"nonzero", "masked_select", "unique", "unique_consecutive"}
CASES_WITH_TENSORS = [c for c in CASES if c.inputs and c.name not in DYNAMIC_SHAPE]


# Each case with every input batched, and (for several inputs) with the first one only.
VMAP_CASES = [pytest.param(c, "all", id=f"{c}-all") for c in CASES_WITH_TENSORS] + [
    pytest.param(c, "first", id=f"{c}-first") for c in CASES_WITH_TENSORS if len(c.inputs) > 1
]


@pytest.mark.parametrize("case,which", VMAP_CASES)
def test_every_op_under_vmap_matches_a_loop(case, which):
    op = primary(ROWS[case.name])
    ts, dims = _batched_inputs(case, which)

    def f(*a):
        return case.invoke(op, *a)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fallback's performance warning
        got = vmap(f, in_dims=tuple(dims))(*ts)
    _assert_stacked(got, [f(*_entry(ts, dims, b)) for b in range(N)])


def _differentiable(case: OpCase) -> bool:
    return case.opts.get("grad", True) and not ROWS[case.name]["inplace"] and not isinstance(case.inputs[0], np.ndarray)


GRAD_CASES = [c for c in CASES_WITH_TENSORS if _differentiable(c) and ROWS[c.name]["differentiable"]]


@pytest.mark.parametrize("case", GRAD_CASES, ids=str)
def test_per_sample_gradients_of_every_differentiable_op(case):
    """vmap(grad(f)): the gradient of each entry's sum(f(x)) w.r.t. its first input; the other inputs
    unbatched, so their gradients are per sample too."""
    op = primary(ROWS[case.name])
    ts, dims = _batched_inputs(case, "first")

    def loss(*a):
        out = case.invoke(op, *a)
        out = out[0] if isinstance(out, tuple) else out
        return out.to(ember.float64).sum() if out.is_floating_point() else out.sum().to(ember.float64) * 0.0

    argnums = tuple(i for i, t in enumerate(ts) if t.is_floating_point())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = vmap(grad(loss, argnums=argnums), in_dims=tuple(dims))(*ts)
    per_entry = [grad(loss, argnums=argnums)(*_entry(ts, dims, b)) for b in range(N)]
    _assert_stacked(tuple(got), [tuple(p) for p in per_entry])


# Registered ops without a batching rule: vmap runs them once per entry and stacks (with PyTorch's
# performance warning). This list may only shrink.
FALLBACK_OPS: set[str] = set()


def test_the_ops_that_still_loop():
    uses_fallback = set()
    for case in CASES_WITH_TENSORS:
        ts, dims = _batched_inputs(case, "first")
        batched._warned.discard(case.name)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            vmap(functools.partial(case.invoke, primary(ROWS[case.name])), in_dims=tuple(dims))(*ts)
        if any("performance drop" in str(w.message) for w in caught):
            uses_fallback.add(case.name)
    assert uses_fallback == FALLBACK_OPS


def test_diag_and_searchsorted_rules_match_a_loop():
    x, m = ember.randn(4, 3), ember.randn(4, 3, 5)
    for k in (0, 1, -2):
        assert ember.equal(vmap(lambda t, k=k: t.diag(k))(x), ember.stack([r.diag(k) for r in x]))
        assert ember.equal(vmap(lambda t, k=k: ember.diag(t, k))(m), ember.stack([ember.diag(r, k) for r in m]))
    seqs = ember.randn(4, 6).sort().values
    vals = ember.randn(4, 2, 3)
    for right in (False, True):
        search = functools.partial(ember.searchsorted, right=right)
        loop = ember.stack([search(s, v) for s, v in zip(seqs, vals)])
        assert ember.equal(vmap(search)(seqs, vals), loop)  # a 1-D sequence per entry, 2-D values
        assert ember.equal(
            vmap(search, in_dims=(0, None))(seqs, vals[0]), ember.stack([search(s, vals[0]) for s in seqs])
        )
        assert ember.equal(
            vmap(search)(seqs, vals[:, 0, 0]), ember.stack([search(s, v) for s, v in zip(seqs, vals[:, 0, 0])])
        )


def test_fallback_warns_once_per_op():
    batched._warned.discard("bucketize")
    x = ember.randn(4, 3)  # batched boundaries: no rule (a per-entry set of bins)
    with pytest.warns(UserWarning, match="performance drop because we have not yet implemented the batching rule"):
        vmap(lambda t: ember.bucketize(t, t.sort().values))(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        vmap(lambda t: ember.bucketize(t, t.sort().values))(x)


def _loop_and_vmap_agree(f, *args, in_dims=0):
    """f under vmap against f per entry, values and the gradients of their sum w.r.t. every float input
    that is batched (each entry's own)."""
    dims = in_dims if isinstance(in_dims, tuple) else (in_dims,) * len(args)
    leaves = [a.detach().requires_grad_() if a.is_floating_point() else a for a in args]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a rule, not the fallback
        got = vmap(f, in_dims=dims)(*leaves)
    loop = ember.stack([f(*_entry(leaves, list(dims), b)) for b in range(args[0].shape[0])])
    np.testing.assert_allclose(got.detach().numpy(), loop.detach().numpy())
    wrt = [t for t, d in zip(leaves, dims) if t.is_floating_point() and d == 0]
    if wrt:
        for a, b in zip(ember.autograd.grad(got.sum(), wrt), ember.autograd.grad(loop.sum(), wrt)):
            np.testing.assert_allclose(a.numpy(), b.numpy())


def test_index_put_rule():
    x, v = ember.randn(4, 5, 3, dtype=ember.float64), ember.randn(4, 2, 3, dtype=ember.float64)
    rows, cols = ember.tensor([4, 0]), ember.tensor([[0, 2], [1, 1]])
    _loop_and_vmap_agree(lambda t, u: t.index_put((rows,), u), x, v)
    _loop_and_vmap_agree(lambda t, u: t.index_put((rows,), u, accumulate=True), x, v[:, :1], in_dims=(0, 0))
    _loop_and_vmap_agree(lambda t, u: ember.index_put(t, (rows, ember.tensor([2, -1])), u), x, v[:, 0, :2])
    _loop_and_vmap_agree(lambda t, u: t.index_put((cols, ember.tensor([2, 0])), u), x, v[0, 0, :2], in_dims=(0, None))
    _loop_and_vmap_agree(lambda t, i: t.index_put((i,), ember.tensor(7.0, dtype=t.dtype)), x, ember.stack([rows] * 4))
    mask = ember.tensor([True, False, True, False, False])
    _loop_and_vmap_agree(lambda t, u: t.index_put((mask,), u), x, v)

    def in_place(t, u):
        t = t.clone()
        t.index_put_((rows,), u, accumulate=True)
        t[rows] += u  # __setitem__ too
        return t

    _loop_and_vmap_agree(in_place, x, v)
    with pytest.raises(IndexError, match="out of bounds"):
        vmap(lambda t: t.index_put((ember.tensor([5]),), ember.tensor(1.0, dtype=t.dtype)))(x)


def test_masked_scatter_and_put_rules():
    x = ember.randn(4, 2, 3, dtype=ember.float64)
    masks = ember.rand(4, 2, 3) > 0.5
    source = ember.randn(4, 6, dtype=ember.float64)
    _loop_and_vmap_agree(lambda t, m, s: t.masked_scatter(m, s), x, masks, source)
    _loop_and_vmap_agree(lambda t, s: ember.masked_scatter(t, masks[0, 0], s), x, source)  # a broadcast mask
    _loop_and_vmap_agree(lambda t, m: t.clone().masked_scatter_(m, source[0]), x, masks)
    with pytest.raises(RuntimeError, match="at least"):
        vmap(lambda t: t.masked_scatter(t == t, source[0, :2]))(x)

    index = ember.tensor([[0, -1], [5, 0]])
    _loop_and_vmap_agree(lambda t, s: t.put(index, s, accumulate=True), x, source[:, :4].reshape(4, 2, 2))
    _loop_and_vmap_agree(lambda t, i: t.put(i, source[0, :2]), x, ember.tensor([[1, 3], [0, 2], [5, 5], [-6, 4]]))
    _loop_and_vmap_agree(lambda t, s: t.clone().put_(index[0], s), x, source[:, :2])
    with pytest.raises(IndexError, match="out of bounds"):
        vmap(lambda t: t.put(ember.tensor([6]), source[0, :1]))(x)
    with pytest.raises(RuntimeError, match="inplace arithmetic"):
        vmap(lambda s: x[0].put_(index[0], s))(source[:, :2])


def test_inplace_indexed_writes_use_their_rules():
    x, src = ember.randn(4, 5, 3, dtype=ember.float64), ember.randn(4, 2, 3, dtype=ember.float64)
    rows = ember.tensor([3, 3])
    for name, extra in [("index_add_", ()), ("index_copy_", ()), ("index_reduce_", ("amax",))]:
        _loop_and_vmap_agree(
            lambda t, s, name=name, extra=extra: getattr(t.clone(), name)(
                0, rows[:1] if name == "index_copy_" else rows, s[:1] if name == "index_copy_" else s, *extra
            ),
            x,
            src,
        )
    _loop_and_vmap_agree(lambda t, s: t.clone().scatter_add_(0, ember.tensor([[1, 0, 4]]), s[:1]), x, src)


@pytest.mark.parametrize("name", sorted(DYNAMIC_SHAPE))
def test_dynamic_shape_ops_raise(name):
    with pytest.raises(RuntimeError, match="dynamic shape"):
        vmap(lambda t: getattr(ember, name)(t > 0) if name == "masked_select" else getattr(ember, name)(t))(
            ember.randn(3, 4)
        ) if name != "masked_select" else vmap(lambda t: ember.masked_select(t, t > 0))(ember.randn(3, 4))


# ------------------------------------------------------------------------------- in/out dims
def test_in_dims_out_dims_and_none():
    x, y = ember.randn(2, 5), ember.randn(5, 3)
    got = vmap(lambda a, b: a * b.sum(), in_dims=(1, None), out_dims=1)(x, y)
    assert got.shape == (2, 5)
    np.testing.assert_allclose(got.numpy(), (x * y.sum()).numpy(), rtol=1e-6)
    # nested structures: a dict argument, a tuple output with different out_dims
    d = {"a": ember.randn(4, 2), "b": ember.randn(2)}
    s, p = vmap(lambda t: (t["a"] + t["b"], t["a"].sum()), in_dims=({"a": 0, "b": None},), out_dims=(1, 0))(d)
    assert s.shape == (2, 4) and p.shape == (4,)
    np.testing.assert_allclose(s.numpy(), (d["a"] + d["b"]).numpy().T, rtol=1e-6)


def test_unbatched_output_is_expanded_and_out_dims_none_keeps_it():
    x = ember.randn(3, 2)
    c = ember.ones(2)
    assert vmap(lambda t: c)(x).shape == (3, 2)
    assert vmap(lambda t: (t, c), out_dims=(0, None))(x)[1].shape == (2,)
    with pytest.raises(ValueError, match="out_dim is None"):
        vmap(lambda t: t, out_dims=None)(x)


def test_in_dims_errors_as_pytorch():
    x = ember.randn(3, 2)
    with pytest.raises(ValueError, match="same size in the mapped dimension"):
        vmap(ember.add)(x, ember.randn(4, 2))
    with pytest.raises(ValueError, match="at least one input must be a Tensor and be vmapped over"):
        vmap(lambda t: t, in_dims=None)(x)
    with pytest.raises(ValueError, match="We cannot vmap over non-Tensor arguments"):
        vmap(lambda t, k: t * k, in_dims=(0, 0))(x, 2.0)
    with pytest.raises(ValueError, match="expected in_dim to satisfy"):
        vmap(lambda t: t, in_dims=2)(x)
    with pytest.raises(ValueError, match="in_dims is not compatible with the structure"):
        vmap(lambda a, b: a, in_dims=(0,))(x, x)
    with pytest.raises(ValueError, match="must only return Tensors"):
        vmap(lambda t: 1.0)(x)
    with pytest.raises(RuntimeError, match="Only allowed values for randomness"):
        vmap(lambda t: t, randomness="sometimes")


def test_nested_vmap_and_chunks():
    a, b = ember.randn(2, 3, 4), ember.randn(3, 4)
    got = vmap(vmap(lambda u, v: (u * v).sum()), in_dims=(0, None))(a, b)
    np.testing.assert_allclose(got.numpy(), (a * b).sum(-1).numpy(), rtol=1e-5)
    outer = vmap(vmap(ember.outer, in_dims=(None, 0)), in_dims=(0, None))(ember.randn(2, 3), ember.randn(5, 4))
    assert outer.shape == (2, 5, 3, 4)
    x = ember.randn(10, 3)
    for chunk in (1, 3, 10, 20):
        got = vmap(lambda t: t.softmax(0), chunk_size=chunk)(x)
        np.testing.assert_allclose(got.numpy(), x.softmax(1).numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="chunk_size should be None or greater than 0"):
        vmap(lambda t: t, chunk_size=0)


# ------------------------------------------------------------------------------ semantics
def test_shapes_inside_are_per_entry():
    seen = {}

    def f(t):
        seen.update(shape=tuple(t.shape), dim=t.dim(), numel=t.numel(), len=len(t), size1=t.size(1))
        return t.reshape(-1).view(3, 2).t().flatten() @ ember.ones(6)

    got = vmap(f)(ember.arange(24.0).reshape(4, 2, 3))
    assert seen == {"shape": (2, 3), "dim": 2, "numel": 6, "len": 2, "size1": 3}
    assert got.shape == (4,)


def test_indexing_inside_vmap():
    x = ember.randn(4, 5, 6)
    idx = ember.tensor([0, 2])
    np.testing.assert_allclose(vmap(lambda t: t[1:, idx])(x).numpy(), x[:, 1:, idx].numpy())
    np.testing.assert_allclose(vmap(lambda t: t[idx, :, None][..., 0])(x).numpy(), x[:, idx, :, None][..., 0].numpy())
    y = ember.randn(4, 5, 6, 7)

    def separated(t):  # advanced indices apart: their dims go first
        return t[idx, 1:, idx]

    _assert_stacked(vmap(separated)(y), [separated(y[b]) for b in range(4)])

    def write(t):
        t = t.clone()
        t[0] = t[1] * 2
        return t

    got = vmap(write)(x)
    expect = x.clone()
    expect[:, 0] = x[:, 1] * 2
    np.testing.assert_allclose(got.numpy(), expect.numpy())


def test_errors_inside_vmap_as_pytorch():
    x = ember.randn(3, 2)
    with pytest.raises(RuntimeError, match=r"calling \.item\(\) on a Tensor"):
        vmap(lambda t: t.sum().item())(x)
    with pytest.raises(RuntimeError, match="data-dependent control flow"):
        vmap(lambda t: t if t.sum() > 0 else -t)(x)
    with pytest.raises(RuntimeError, match="inplace arithmetic"):
        vmap(lambda t: ember.zeros(2).add_(t))(x)
    with pytest.raises(RuntimeError, match="inplace arithmetic"):
        vmap(lambda t: ember.zeros(2).copy_(t))(x)
    # in-place on a batched tensor is fine
    got = vmap(lambda t: t.clone().mul_(2).add_(ember.ones(2)))(x)
    np.testing.assert_allclose(got.numpy(), (x * 2 + 1).numpy(), rtol=1e-6)


def test_randomness_modes():
    x = ember.zeros(4, 3)
    with pytest.raises(RuntimeError, match="randomness error mode"):
        vmap(lambda t: t + ember.rand(3))(x)
    with pytest.raises(RuntimeError, match="randomness error mode"):
        vmap(lambda t: F.dropout(t + 1, 0.5))(x)
    same = vmap(lambda t: t + ember.rand(3), randomness="same")(x)
    assert all(ember.equal(same[0], same[i]) for i in range(4))
    different = vmap(lambda t: t + ember.randn_like(t), randomness="different")(x)
    assert not ember.equal(different[0], different[1])
    drop = vmap(lambda t: F.dropout(t + 1, 0.5), randomness="different")(ember.zeros(64, 32))
    assert not ember.equal(drop[0], drop[1]) and set(np.unique(drop.numpy())) <= {0.0, 2.0}
    nested = vmap(vmap(lambda t: t + ember.rand(()), randomness="different"), randomness="same")(ember.zeros(3, 5))
    assert ember.equal(nested[0], nested[1]) and not ember.equal(nested[0, 0], nested[0, 1])
    # randperm too: refused, one permutation for all, or one per entry
    with pytest.raises(RuntimeError, match="randomness error mode"):
        vmap(lambda t: t + ember.randperm(3))(x)
    same = vmap(lambda t: t + ember.randperm(3), randomness="same")(x)
    assert all(ember.equal(same[0], same[i]) for i in range(4)) and sorted(same[0].tolist()) == [0, 1, 2]
    perms = vmap(lambda t: t + ember.randperm(50), randomness="different")(ember.zeros(4, 50))
    assert all(sorted(p.tolist()) == list(range(50)) for p in perms) and not ember.equal(perms[0], perms[1])


def test_batched_tensor_repr_and_escape():
    kept = []
    vmap(lambda t: kept.append(t) or t)(ember.zeros(2, 3))
    assert repr(kept[0]).startswith("BatchedTensor(lvl=1, bdim=0, value=")
    with pytest.raises(RuntimeError, match="after the vmap that made it returned"):
        kept[0] + 1


# ------------------------------------------------------------------------- nn under vmap
TWOS = ember.full((3,), 2.0, dtype=ember.float64)  # class weights


def _close(a, b, tol=1e-10):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize(
    "fn",
    [
        lambda x, w: F.linear(x, w),
        lambda x, w: F.gelu(x @ w.t()),
        lambda x, w: F.cross_entropy((x @ w.t()).unsqueeze(0), ember.tensor([1])),
        lambda x, w: F.cross_entropy(x @ w.t(), ember.tensor(2)),
        lambda x, w: F.nll_loss(F.log_softmax(x @ w.t(), -1).unsqueeze(0), ember.tensor([0]), weight=TWOS),
        lambda x, w: F.mse_loss(x @ w.t(), ember.ones(3, dtype=ember.float64)),
        lambda x, w: F.smooth_l1_loss(x @ w.t(), ember.zeros(3, dtype=ember.float64), reduction="sum"),
        lambda x, w: F.binary_cross_entropy_with_logits(x @ w.t(), ember.ones(3, dtype=ember.float64) * 0.3),
        lambda x, w: F.layer_norm(x, (4,)) @ w.t(),
        lambda x, w: F.softmax(ember.einsum("i,ji->j", x, w), dim=0),
        lambda x, w: ember.cat([x, w[0]]).cumsum(0).max(),
        lambda x, w: F.embedding(ember.tensor([2, 0]), w)[1] * x.sum(),
    ],
    ids=["linear", "gelu", "cross_entropy", "cross_entropy_0d", "nll_weight", "mse", "smooth_l1", "bce_logits",
         "layer_norm", "einsum_softmax", "cat_cumsum_max", "embedding"],
)  # fmt: skip
def test_nn_functions_and_their_per_sample_gradients(fn):
    rng = np.random.default_rng(1)
    x = ember.tensor(rng.normal(size=(5, 4)))
    w = ember.tensor(rng.normal(size=(3, 4)))
    _assert_stacked(vmap(fn, in_dims=(0, None))(x, w), [fn(x[b], w) for b in range(5)])

    def loss(xx, ww):
        return fn(xx, ww).sum()

    got = vmap(grad(loss, argnums=(0, 1)), in_dims=(0, None))(x, w)
    _assert_stacked(got, [grad(loss, argnums=(0, 1))(x[b], w) for b in range(5)])


def test_conv_and_pool_fold_the_batch():
    x = ember.randn(3, 2, 1, 6, 6, dtype=ember.float64)
    w = ember.randn(4, 1, 3, 3, dtype=ember.float64)

    def f(img):
        return F.max_pool2d(F.conv2d(img, w, padding=1), 2)

    _assert_stacked(vmap(f)(x), [f(x[b]) for b in range(3)])
    _assert_stacked(vmap(f)(x[:, 0]), [f(x[b, 0]) for b in range(3)])  # unbatched (C, H, W) images


def test_model_ensembling_with_functional_call_and_stack_module_state():
    ember.manual_seed(0)
    models = [ember.nn.Sequential(ember.nn.Linear(4, 8), ember.nn.ReLU(), ember.nn.Linear(8, 2)) for _ in range(3)]
    params, buffers = stack_module_state(models)
    assert params["0.weight"].shape == (3, 8, 4) and params["0.weight"].requires_grad
    x = ember.randn(5, 4)

    def one(p, b, data):
        return functional_call(models[0], (p, b), (data,))

    got = vmap(one, in_dims=(0, 0, None))(params, buffers, x)
    _assert_stacked(got, [m(x) for m in models])


def test_per_sample_gradients_of_a_model():
    ember.manual_seed(0)
    model = ember.nn.Sequential(ember.nn.Linear(6, 5), ember.nn.Tanh(), ember.nn.Linear(5, 3))
    params = {k: v.detach() for k, v in model.named_parameters()}
    x, t = ember.randn(7, 6), ember.randint(0, 3, (7,))

    def loss(p, xi, ti):
        return F.cross_entropy(functional_call(model, p, (xi.unsqueeze(0),)), ti.unsqueeze(0))

    got = vmap(grad(loss), in_dims=(None, 0, 0))(params, x, t)
    for b in range(7):
        model.zero_grad()
        F.cross_entropy(model(x[b : b + 1]), t[b : b + 1]).backward()
        for k, p in model.named_parameters():
            np.testing.assert_allclose(got[k][b].numpy(), p.grad.numpy(), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------- other transforms
def test_vmap_composes_with_every_transform():
    xs = ember.randn(4, 3, dtype=ember.float64)

    def f(v):
        return (v.sin() * v.exp()).sum()

    def g(v):
        return v.cos() * v.sum()

    loop = lambda fn: ember.stack([fn(xs[b]) for b in range(4)])  # noqa: E731
    _close(vmap(hessian(f))(xs), loop(hessian(f)))
    _close(vmap(jacrev(g))(xs), loop(jacrev(g)))
    _close(vmap(jacfwd(g))(xs), loop(jacfwd(g)))
    t = ember.ones(3, dtype=ember.float64)
    _close(vmap(lambda v: jvp(g, (v,), (t,))[1])(xs), loop(lambda v: jvp(g, (v,), (t,))[1]))
    _close(vmap(lambda v: vjp(g, v)[1](t)[0])(xs), loop(lambda v: vjp(g, v)[1](t)[0]))
    # grad of a vmapped function (vmap inside grad)
    _close(grad(lambda v: vmap(lambda r: (r * r).sum())(v).sum())(xs), 2 * xs)

    # autograd.grad inside vmap w.r.t. a batched input: per entry
    def inner(v):
        v = v.detach().requires_grad_()
        return ember.autograd.grad((v * v).sum(), v)[0]

    _close(vmap(inner)(xs), 2 * xs)
    with pytest.raises(RuntimeError, match="not batched at the vmap level"):
        w = ember.ones(3, dtype=ember.float64, requires_grad=True)
        vmap(lambda v: ember.autograd.grad((v * w).sum(), w)[0])(xs)


def test_against_torch_func():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = rng.normal(size=(6, 4))
    w = rng.normal(size=(3, 4))

    def make(lib, fnn):
        return lambda p, v: fnn.log_softmax(lib.tanh(v @ p.t()), dim=-1)[1]

    e = vmap(jacrev(make(ember, F), argnums=(0, 1)), in_dims=(None, 0))(ember.tensor(w), ember.tensor(x))
    t = torch.func.vmap(torch.func.jacrev(make(torch, torch.nn.functional), argnums=(0, 1)), in_dims=(None, 0))(
        torch.tensor(w), torch.tensor(x)
    )
    for a, b in zip(e, t):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)
    he = vmap(hessian(lambda v: (v**3).sum()))(ember.tensor(x))
    ht = torch.func.vmap(torch.func.hessian(lambda v: (v**3).sum()))(torch.tensor(x))
    np.testing.assert_allclose(he.numpy(), ht.numpy(), rtol=1e-12)
    assert ember.vmap is vmap and ember.func.vmap is vmap


def test_custom_functions_under_vmap():
    class Cube(ember.autograd.Function):
        generate_vmap_rule = True

        @staticmethod
        def forward(x):
            return x**3

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x**2 * g

    class Twice(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

        @staticmethod
        def vmap(info, in_dims, x):
            assert info.batch_size == 4 and in_dims == (0,)
            return x * 2, 0

    class Plain(Twice):
        vmap = ember.autograd.Function.vmap

    xs = ember.randn(4, 3, dtype=ember.float64)
    _close(vmap(Cube.apply)(xs), xs**3)
    _close(vmap(grad(lambda v: Cube.apply(v).sum()))(xs), 3 * xs**2)
    _close(vmap(Twice.apply)(xs), xs * 2)
    with pytest.raises(RuntimeError, match="you must either override the vmap staticmethod or set generate_vmap_rule"):
        vmap(Plain.apply)(xs)


def test_linearize_functionalize_and_batch_norm_replacement():
    from ember.func import functionalize, linearize, replace_all_batch_norm_modules_

    x = ember.randn(3, dtype=ember.float64)
    out, jvp_fn = linearize(lambda v: v.sin() * 2, x)
    _close(out, x.sin() * 2)
    t = ember.randn(3, dtype=ember.float64)
    _close(jvp_fn(t), x.cos() * 2 * t)

    def mutate(v):
        y = v.clone()
        y.add_(1)
        return y

    _close(functionalize(mutate)(x), x + 1)
    with pytest.raises(RuntimeError, match="received invalid argument for remove"):
        functionalize(mutate, remove="views")

    net = ember.nn.Sequential(ember.nn.Linear(3, 4), ember.nn.BatchNorm1d(4))
    replace_all_batch_norm_modules_(net)
    assert net[1].running_mean is None and not net[1].track_running_stats
    xb = ember.randn(5, 6, 3)  # 5 models' worth of batches of 6
    _assert_stacked(vmap(net)(xb), [net(xb[b]) for b in range(5)])


def test_stack_module_state_errors():
    with pytest.raises(RuntimeError, match="Expected at least one model, got 0"):
        stack_module_state([])
    a, b = ember.nn.Linear(2, 2), ember.nn.Linear(2, 2)
    b.eval()
    with pytest.raises(RuntimeError, match="same training/eval mode"):
        stack_module_state([a, b])


def test_catch_all_overload_keeps_type_errors_and_docs():
    with pytest.raises(TypeError, match="incompatible function arguments"):
        ember.exp("not a tensor")
    with pytest.raises(TypeError):
        ember.randn(2) + "text"
    assert "Overloaded function" not in ember.exp.__doc__
    assert "*args" not in ember._C._gelu.__doc__


def test_rules_of_take_rot90_searchsorted_bucketize_isin():
    x = ember.randn(4, 3, 5)
    seq = ember.tensor([-1.0, 0.0, 1.0])
    cases = [
        lambda t: t.rot90(),
        lambda t: t.rot90(3, (1, 0)),
        lambda t: t.rot90(2),
        lambda t: ember.take(t, ember.tensor([0, 7, 14])),
        lambda t: ember.searchsorted(seq, t, right=True),
        lambda t: ember.bucketize(t, seq),
        lambda t: ember.isin(t.round(), seq),
    ]
    for fn in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # rules, not the loop
            got = vmap(fn)(x)
        _assert_stacked(got, [fn(x[b]) for b in range(4)])


def test_batched_indices_into_tensors():
    w = ember.randn(10, 3)
    idx = ember.tensor([[1, 2], [3, 9], [0, 0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a rule, not the loop
        _assert_stacked(vmap(lambda i: w[i])(idx), [w[i] for i in idx])

    def scatter_ones(z, i):
        z = z.clone()
        z[i] = 1.0
        return z

    zs = ember.zeros(3, 10)
    _assert_stacked(vmap(scatter_ones)(zs, idx), [scatter_ones(zs[b], idx[b]) for b in range(3)])
    with pytest.raises(RuntimeError, match="inplace arithmetic"):
        vmap(lambda i: ember.zeros(10).__setitem__(i, 1.0))(idx)


def test_per_sample_gradients_and_transforms_match_torch_func():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    w1, b1, w2 = rng.normal(size=(6, 4)), rng.normal(size=6), rng.normal(size=(3, 6))
    x, t = rng.normal(size=(5, 4)), rng.integers(0, 3, 5)

    def loss_of(lib):
        fn = lib.nn.functional

        def loss(p, xi, ti):
            h = fn.gelu(fn.linear(xi, p[0], p[1]))
            return fn.cross_entropy(fn.linear(h, p[2]).unsqueeze(0), ti.unsqueeze(0))

        return loss

    ours = vmap(grad(loss_of(ember)), in_dims=(None, 0, 0))(
        [ember.tensor(a) for a in (w1, b1, w2)], ember.tensor(x), ember.tensor(t)
    )
    theirs = torch.func.vmap(torch.func.grad(loss_of(torch)), in_dims=(None, 0, 0))(
        [torch.tensor(a) for a in (w1, b1, w2)], torch.tensor(x), torch.tensor(t)
    )
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)

    def g(lib):
        return lambda v: lib.sin(v) * v.sum()

    tan = rng.normal(size=4)
    e_tan, t_tan = ember.tensor(tan), torch.tensor(tan)
    for ours_fn, theirs_fn in (
        (lambda v: jvp(g(ember), (v,), (e_tan,))[1], lambda v: torch.func.jvp(g(torch), (v,), (t_tan,))[1]),
        (lambda v: vjp(g(ember), v)[1](e_tan)[0], lambda v: torch.func.vjp(g(torch), v)[1](t_tan)[0]),
        (jacfwd(g(ember)), torch.func.jacfwd(g(torch))),
    ):
        np.testing.assert_allclose(
            vmap(ours_fn)(ember.tensor(x)).numpy(), torch.func.vmap(theirs_fn)(torch.tensor(x)).numpy(), rtol=1e-10
        )


@pytest.mark.parametrize("input_batched", [False, True])
@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize("single_image", [False, True])
def test_conv2d_with_a_weight_per_entry(input_batched, groups, single_image):
    """An ensemble of convolutions (weights and bias batched) over shared or per-entry images: one
    grouped convolution, values and gradients as a loop."""
    image = (4, 7, 6) if single_image else (2, 4, 7, 6)
    x = ember.randn(3, *image, dtype=ember.float64) if input_batched else ember.randn(*image, dtype=ember.float64)
    w, b = ember.randn(3, 6, 4 // groups, 3, 2, dtype=ember.float64), ember.randn(3, 6, dtype=ember.float64)

    def f(w, b, x):
        return F.conv2d(x, w, b, stride=(2, 1), padding=1, dilation=(1, 2), groups=groups)

    in_dims = (0, 0, 0 if input_batched else None)
    _loop_and_vmap_agree(f, w, b, x, in_dims=in_dims)


class _Collection:
    """A minimal tensor collection with tensordict's vmap protocol: a batch_size, _add_batch_dim (each tensor
    through torch._C._functorch._add_batch_dim) and _maybe_remove_batch_dim."""

    def __init__(self, tensors, batch_size):
        self.tensors, self.batch_size = tensors, list(batch_size)

    def _add_batch_dim(self, *, in_dim, vmap_level):
        from ember._C._functorch import _add_batch_dim

        rest = [b for i, b in enumerate(self.batch_size) if i != in_dim]
        return _Collection({k: _add_batch_dim(v, in_dim, vmap_level) for k, v in self.tensors.items()}, rest)

    def _maybe_remove_batch_dim(self, funcname, vmap_level, batch_size, out_dim):
        from ember._functorch.vmap import _maybe_remove_batch_dim

        size = list(self.batch_size)
        size.insert(out_dim, batch_size)
        return _Collection(
            {k: _maybe_remove_batch_dim(funcname, v, vmap_level, batch_size, out_dim) for k, v in self.tensors.items()},
            size,
        )


def test_vmap_over_a_tensor_collection_uses_its_batching_protocol():
    """vmap maps over a TensorDict-like input along its batch dims and returns one (tensordict's protocol), and
    type(x) of a vmapped tensor is a Tensor subclass, as tensordict checks."""
    x, w = ember.randn(4, 3), ember.randn(3)
    seen = []

    def f(c):
        seen.append((issubclass(type(c.tensors["x"]), ember.Tensor), c.batch_size))
        return _Collection({"y": c.tensors["x"] @ w, "z": w.sum()}, c.batch_size)

    out = ember.vmap(f)(_Collection({"x": x}, [4]))
    assert seen == [(True, [])] and out.batch_size == [4]
    np.testing.assert_allclose(out.tensors["y"].numpy(), (x @ w).numpy(), rtol=1e-6)
    np.testing.assert_allclose(out.tensors["z"].numpy(), np.full(4, w.sum().item()), rtol=1e-6)
    with pytest.raises(ValueError, match="batch size of \\[4\\], so expected in_dim"):
        ember.vmap(f, in_dims=1)(_Collection({"x": x}, [4]))
    assert not issubclass(int, ember.Tensor) and issubclass(ember.nn.Parameter, ember.Tensor)


def test_vmap_of_autograd_grad_with_batched_seeds_gives_jacobian_rows():
    # vmap(lambda v: autograd.grad(y, x, v)) over a graph built outside the vmap: one row of the Jacobian per seed,
    # as PyTorch's is_grads_batched (torchjd computes its Jacobians so)
    rng = np.random.default_rng(5)
    w = ember.tensor(rng.normal(size=(4, 3)))
    x = ember.tensor(rng.normal(size=3), requires_grad=True)
    b = ember.tensor(rng.normal(size=2), requires_grad=True)
    y = w @ x.sin()
    z = (b * 3).sum()
    seeds = ember.eye(4, dtype=ember.float64)
    (rows,) = vmap(lambda v: ember.autograd.grad(y, x, v, retain_graph=True))(seeds)
    expected = w.numpy() * np.cos(x.detach().numpy())
    np.testing.assert_allclose(rows.detach().numpy(), expected, rtol=1e-12)
    # several outputs, one seed batched and one not; an unused input stays None
    unused = ember.ones(1, requires_grad=True)

    def both(v):
        gx, gb, gu = ember.autograd.grad([y, z], [x, b, unused], [v, ember.tensor(2.0)], True, allow_unused=True)
        assert gu is None
        return gx, gb

    two = vmap(both)(seeds)
    np.testing.assert_allclose(two[0].detach().numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(two[1].numpy(), np.full((4, 2), 6.0))
    # without retain_graph the graph is freed after the last seed, as after one backward
    vmap(lambda v: ember.autograd.grad(y, x, v))(seeds)
    with pytest.raises(RuntimeError, match="second time"):
        ember.autograd.grad(y, x, seeds[0])
