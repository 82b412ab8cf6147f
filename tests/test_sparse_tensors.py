"""Sparse COO and CSR tensors (ember.sparse_coo_tensor, sparse_csr_tensor, Tensor.to_sparse/_csr): what
PyTorch reports for one (layout, indices and values, coalescing, repr), the ops they support checked against
numpy (mm with a dense matrix, add, scale, sum, transpose), gradients reaching the values and the dense
operand checked against finite differences, and PyTorch's errors for the rest."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck

INDICES = [[0, 1, 1, 0], [2, 0, 2, 2]]  # (0, 2) twice: an uncoalesced tensor
VALUES = [3.0, 4.0, 5.0, 1.5]


def _dense_numpy(indices=INDICES, values=VALUES, shape=(2, 3)):
    out = np.zeros(shape)
    for (i, j), v in zip(zip(*indices), values):
        out[i, j] += v
    return out


def _sparse(dtype=ember.float64, values=None):
    return ember.sparse_coo_tensor(ember.tensor(INDICES), values if values is not None else
                                   ember.tensor(VALUES, dtype=dtype), (2, 3))  # fmt: skip


def test_reports_its_layout_sizes_and_counts_as_a_tensor():
    s = _sparse()
    assert isinstance(s, ember.Tensor) and s.is_sparse and s.layout is ember.sparse_coo
    assert tuple(s.shape) == (2, 3) and s.dim() == 2 and s.dtype == ember.float64
    assert (s.sparse_dim(), s.dense_dim(), s._nnz()) == (2, 0, 4)
    assert not s.is_coalesced() and not ember.ones(2).is_sparse


def test_uncoalesced_indices_raise_and_coalesce_sums_repeats():
    s = _sparse()
    with pytest.raises(RuntimeError, match="Cannot get indices on an uncoalesced tensor"):
        s.indices()
    c = s.coalesce()
    assert c.is_coalesced()
    np.testing.assert_array_equal(c.indices().numpy(), [[0, 1, 1], [2, 0, 2]])
    np.testing.assert_allclose(c.values().numpy(), [4.5, 4.0, 5.0])
    np.testing.assert_allclose(s.to_dense().numpy(), _dense_numpy())


def test_size_is_inferred_and_bad_indices_raise():
    s = ember.sparse_coo_tensor(ember.tensor(INDICES), ember.tensor(VALUES))
    assert tuple(s.shape) == (2, 3)
    with pytest.raises(RuntimeError, match="size is inconsistent with indices: for dim 1, size is 2 but found index 2"):
        ember.sparse_coo_tensor(ember.tensor(INDICES), ember.tensor(VALUES), (2, 2))
    with pytest.raises(RuntimeError, match="indices and values must have same nnz"):
        ember.sparse_coo_tensor(ember.tensor(INDICES), ember.tensor(VALUES[:3]), (2, 3))


def test_to_sparse_keeps_the_nonzero_entries_and_dense_dims():
    x = np.array([[0.0, 2.0, 0.0], [1.0, 0.0, 3.0]])
    s = ember.tensor(x).to_sparse()
    assert s.is_coalesced()
    np.testing.assert_array_equal(s.indices().numpy(), np.array(np.nonzero(x)))
    np.testing.assert_array_equal(s.values().numpy(), x[np.nonzero(x)])
    rows = ember.tensor(x).to_sparse(1)  # one sparse dim: whole rows as values
    assert (rows.sparse_dim(), rows.dense_dim()) == (1, 1)
    np.testing.assert_array_equal(rows.to_dense().numpy(), x)


def test_repr_is_pytorchs():
    s = ember.sparse_coo_tensor(ember.tensor([[0, 1], [1, 0]]), ember.tensor([1.0, 2.0]), (2, 2))
    layout = str(ember.float32).split(".")[0] + ".sparse_coo"
    assert repr(s) == (
        "tensor(indices=tensor([[0, 1],\n"
        "                       [1, 0]]),\n"
        "       values=tensor([1., 2.]),\n"
        f"       size=(2, 2), nnz=2, layout={layout})"
    )


def test_products_sums_and_arithmetic_match_numpy():
    s, dense = _sparse(), _dense_numpy()
    d = np.arange(6.0).reshape(3, 2)
    for product in (ember.sparse.mm(s, ember.tensor(d)), s @ ember.tensor(d), ember.mm(s, ember.tensor(d)),
                    ember.matmul(s, ember.tensor(d))):  # fmt: skip
        np.testing.assert_allclose(product.numpy(), dense @ d)
    np.testing.assert_allclose((s @ ember.tensor([1.0, 2.0, 3.0], dtype=ember.float64)).numpy(), dense @ [1, 2, 3])
    np.testing.assert_allclose((ember.tensor(d.T) @ s.t()).numpy(), d.T @ dense.T)
    np.testing.assert_allclose(
        ember.sparse.addmm(ember.ones(2, 2, dtype=ember.float64), s, ember.tensor(d), beta=2, alpha=3).numpy(),
        2 + 3 * dense @ d,
    )
    np.testing.assert_allclose((2 * s).to_dense().numpy(), 2 * dense)
    np.testing.assert_allclose((s + s).to_dense().numpy(), 2 * dense)
    np.testing.assert_allclose((ember.ones(2, 3, dtype=ember.float64) + s).numpy(), 1 + dense)
    np.testing.assert_allclose((ember.ones(2, 3, dtype=ember.float64) - s).numpy(), 1 - dense)
    assert float(ember.sparse.sum(s)) == pytest.approx(dense.sum())
    np.testing.assert_allclose(ember.sparse.sum(s, 0).to_dense().numpy(), dense.sum(0))
    np.testing.assert_allclose(s.t().to_dense().numpy(), dense.T)


def test_gradients_reach_values_and_the_dense_operand():
    d = ember.tensor(np.linspace(-1, 1, 6).reshape(3, 2), requires_grad=True)
    values = ember.tensor(VALUES, dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda v, m: ember.sparse.mm(_sparse(values=v), m), (values, d))
    assert gradcheck(lambda v: _sparse(values=v).to_dense() * 1.5, (values,))
    assert gradcheck(lambda v: _sparse(values=v).coalesce().values(), (values,))


def test_unsupported_ops_raise_pytorchs_errors():
    s = _sparse()
    with pytest.raises(NotImplementedError, match="Could not run 'aten::exp' with arguments from the 'SparseCPU'"):
        s.exp()
    with pytest.raises(RuntimeError, match=r"add\(sparse, dense\) is not supported"):
        s + ember.ones(2, 3, dtype=ember.float64)
    with pytest.raises(RuntimeError, match="mat1 and mat2 shapes cannot be multiplied"):
        s @ ember.ones(2, 2, dtype=ember.float64)


def test_a_module_keeps_a_sparse_buffer_through_dtype_moves():
    m = ember.nn.Module()
    m.register_buffer("heads", _sparse(ember.float32), persistent=False)
    m.double()
    assert m.heads.is_sparse and m.heads.dtype == ember.float64


CROW, COLS, CSR_VALUES = [0, 2, 3], [0, 2, 1], [1.0, 2.0, 3.0]


def _csr(values=None):
    return ember.sparse_csr_tensor(ember.tensor(CROW), ember.tensor(COLS), values if values is not None else
                                   ember.tensor(CSR_VALUES, dtype=ember.float64), (2, 3))  # fmt: skip


def test_csr_reports_its_parts_and_converts():
    c = _csr()
    dense = np.array([[1.0, 0.0, 2.0], [0.0, 3.0, 0.0]])
    assert c.layout is ember.sparse_csr and c.is_sparse_csr and not c.is_sparse and c._nnz() == 3
    assert c.crow_indices().tolist() == CROW and c.col_indices().tolist() == COLS
    np.testing.assert_array_equal(c.to_dense().numpy(), dense)
    np.testing.assert_array_equal(c.to_sparse_coo().indices().numpy(), np.array(np.nonzero(dense)))
    back = ember.tensor(dense).to_sparse_csr()
    assert back.crow_indices().tolist() == CROW and back.values().tolist() == CSR_VALUES
    assert ember.tensor(dense).to_sparse(layout=ember.sparse_csr).is_sparse_csr
    with pytest.raises(RuntimeError, match="indices expected sparse coordinate tensor layout but got SparseCsr"):
        c.indices()


def test_csr_products_and_gradients():
    d = np.arange(6.0).reshape(3, 2)
    dense = np.array([[1.0, 0.0, 2.0], [0.0, 3.0, 0.0]])
    np.testing.assert_allclose((_csr() @ ember.tensor(d)).numpy(), dense @ d)
    np.testing.assert_allclose((ember.tensor(d.T) @ _csr().to_dense().t()).numpy(), d.T @ dense.T)
    values = ember.tensor(CSR_VALUES, dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda v, m: _csr(v) @ m, (values, ember.tensor(d, requires_grad=True)))


def test_layout_conversions_and_misuse_raise_clear_errors():
    s = _sparse()
    assert s.to_sparse(layout=ember.sparse_csr).is_sparse_csr and s.to_sparse() is s
    assert _csr().to_sparse().is_sparse and _csr().to_sparse(layout=ember.sparse_csr).is_sparse_csr
    assert ember.eye(3).to_sparse(dense_dim=1).dense_dim() == 1
    with pytest.raises(NotImplementedError, match="keeps a sparse tensor's 2 sparse dims"):
        s.to_sparse(1)
    with pytest.raises(NotImplementedError, match="sparse_coo and sparse_csr layouts"):
        ember.eye(2).to_sparse(layout=ember.sparse_bsr, blocksize=(1, 1))
    with pytest.raises(TypeError, match="argument 'mat2' \\(position 2\\) must be Tensor, not NoneType"):
        ember.sparse.mm(s, None)
    with pytest.raises(TypeError, match="argument 'size' must be tuple of ints"):
        ember.sparse_coo_tensor(ember.tensor(INDICES), ember.tensor(VALUES), "ab")
    with pytest.raises(RuntimeError, match="found negative index -1 for dim 0"):
        ember.sparse_coo_tensor(-ember.tensor(INDICES), ember.tensor(VALUES), (2, 3))
    with pytest.raises(RuntimeError, match="`crow_indices\\[..., 0\\] == 0` is not satisfied"):
        ember.sparse_csr_tensor(ember.tensor([1, 2, 3]), ember.tensor(COLS), ember.tensor(CSR_VALUES))
    with pytest.raises(RuntimeError, match="`crow_indices\\[..., -1\\] == nnz` is not satisfied"):
        ember.sparse_csr_tensor(ember.tensor([0, 2, 4]), ember.tensor(COLS), ember.tensor(CSR_VALUES))


def test_invariant_checks_switch_is_kept():
    switch = ember.sparse.check_sparse_tensor_invariants
    assert not switch.is_enabled()
    with switch(enable=True):
        assert switch.is_enabled()
    assert not switch.is_enabled()


def _repr_cases(lib):
    i, v = lib.tensor([[0, 1, 1], [2, 0, 2]]), lib.tensor([3.0, 4.0, 5.0])
    return [lib.sparse_coo_tensor(i, v.double()), lib.zeros(3, 3).to_sparse(), lib.tensor([[True, False]]).to_sparse(),
            lib.sparse_coo_tensor(i, v.long()), lib.arange(40.0).reshape(4, 10).to_sparse(),
            lib.arange(40.0).reshape(4, 10).to_sparse_csr(), lib.eye(2).to_sparse_csr(),
            lib.tensor([[1.0, 0.0], [0.0, 0.0]]).to_sparse(1), lib.tensor([0.0, 2.0, 0.0]).to_sparse()]  # fmt: skip


def test_matches_pytorch_where_installed():
    torch = pytest.importorskip("torch")
    i, v, d = np.array(INDICES), np.array(VALUES), np.arange(6.0).reshape(3, 2)
    ts = torch.sparse_coo_tensor(torch.tensor(i), torch.tensor(v), (2, 3))
    es = ember.sparse_coo_tensor(ember.tensor(i), ember.tensor(v), (2, 3))
    np.testing.assert_allclose(
        torch.sparse.mm(ts, torch.tensor(d)).numpy(), ember.sparse.mm(es, ember.tensor(d)).numpy()
    )
    np.testing.assert_array_equal(ts.coalesce().indices().numpy(), es.coalesce().indices().numpy())
    assert repr(ts.coalesce()).replace("torch.", "") == repr(es.coalesce()).replace("ember.", "")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's notes on implicit invariant checks and CSR's beta state
        for ours, theirs in zip(_repr_cases(ember), _repr_cases(torch)):
            assert repr(ours).replace("ember.", "") == repr(theirs).replace("torch.", "")
