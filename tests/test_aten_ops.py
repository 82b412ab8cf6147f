"""ember.ops.aten (torch.ops.aten): PyTorch's ATen ops by name, run by ember's functions
(Note [ATen op names]); and the other names PyTorch Geometric needed at import: the sparse layout
names, torch._tensor_str._tensor_str, torch.distributed.rpc. Values are checked against numpy
here, and against torch.ops.aten itself where PyTorch is importable."""

import pickle
import re

import numpy as np
import pytest

import ember
from ember._ops import OpOverload, OpOverloadPacket

aten = ember.ops.aten
X = np.arange(12.0).reshape(3, 4)


def test_packets_and_overloads_are_made_once_and_named_as_pytorchs():
    assert isinstance(aten.add, OpOverloadPacket) and isinstance(aten.add.Tensor, OpOverload)
    assert aten.add is aten.add and aten.add.Tensor is aten.add.Tensor and aten.add.Tensor is not aten.add.Scalar
    table = {aten.clone.default: "clone"}  # PyTorch Geometric keys its handlers so
    assert table[ember.ops.aten.clone.default] == "clone"
    assert aten.clone.default.name() == "aten::clone" and aten.add.Tensor.name() == "aten::add.Tensor"
    assert aten.add.name() == "aten::add" and str(aten.add.Tensor) == "aten.add.Tensor"
    assert aten.add.Tensor.overloadpacket is aten.add and aten.add.Tensor.__name__ == "add.Tensor"
    assert "Tensor" in aten.add.overloads()


@pytest.mark.parametrize(
    "call, expected",
    [
        (lambda x: aten.add.Tensor(x, x), X + X),
        (lambda x: aten.add.Tensor(x, x, alpha=2), X + 2 * X),
        (lambda x: aten.mul.Scalar(x, 3), X * 3),
        (lambda x: aten.sum.dim_IntList(x, [1]), X.sum(1)),
        (lambda x: aten.mm.default(x, x.t()), X @ X.T),
        (lambda x: aten.clone.default(x), X),
        (lambda x: aten.view.default(x, [4, 3]), X.reshape(4, 3)),
        (lambda x: aten.add_.Tensor(x.clone(), 1), X + 1),
        (lambda x: aten.select.int(x, 1, 2), X[:, 2]),
        (lambda x: aten.slice.Tensor(x, 1, 1, 4, 2), X[:, 1:4:2]),
        (lambda x: aten.slice.Tensor(x), X),
        (lambda x: aten.index.Tensor(x, [None, ember.tensor([0, 3])]), X[:, [0, 3]]),
        (lambda x: aten.index.Tensor(x, [ember.tensor([2, 0])]), X[[2, 0]]),
        (lambda x: aten._to_copy.default(x, dtype=ember.float64), X),
        (lambda x: aten.alias.default(x), X),
        (lambda x: aten._unsafe_view.default(x, [2, 6]), X.reshape(2, 6)),
        (lambda x: aten.linalg_vector_norm.default(x), np.linalg.norm(X)),
        (lambda x: aten.special_expit.default(x), 1 / (1 + np.exp(-X))),
        (lambda x: aten.gelu.default(x, approximate="tanh"), None),
        (lambda x: aten.sort.stable(x, stable=True, dim=0, descending=True)[0], np.sort(X, 0)[::-1]),
        (lambda x: aten.cat.default([x, x], 1), np.concatenate([X, X], 1)),
        (lambda x: aten.unbind.int(x, 1)[3], X[:, 3]),
        (lambda x: aten.squeeze.dim(x[None], 0), X),
        (lambda x: aten.sym_size.int(x, 1), 4),
        (lambda x: aten.sym_numel.default(x), 12),
    ],
)
def test_an_aten_op_runs_the_ember_function_of_its_name(call, expected):
    out = call(ember.tensor(X))
    if expected is None:  # gelu: against the function it names
        expected = ember.nn.functional.gelu(ember.tensor(X), approximate="tanh").numpy()
    np.testing.assert_allclose(np.asarray(out.numpy() if hasattr(out, "numpy") else out), expected, rtol=1e-6)


def test_aten_ops_differentiate_and_copy_as_their_ember_functions():
    x = ember.tensor(X, requires_grad=True)
    aten.mul.Tensor(aten.slice.Tensor(x, 0, 0, 2), 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.r_[np.full((2, 4), 3.0), np.zeros((1, 4))])
    y = aten._to_copy.default(x)
    assert y.data_ptr() != x.data_ptr() and y.requires_grad


def test_an_aten_op_ember_cannot_run_raises_when_called_and_an_unknown_name_is_an_attribute_error():
    op = aten._sparse_addmm.default  # exists at import: libraries decorate handlers with it
    with pytest.raises(NotImplementedError, match="aten::_sparse_addmm"):
        op(ember.ones(2, 2), ember.ones(2, 2), ember.ones(2, 2))
    with pytest.raises(AttributeError, match="no attribute 'not_an_op'"):
        _ = aten.not_an_op
    assert not hasattr(aten, "not_an_op")


def test_an_aten_slice_out_of_range_raises_as_pytorchs():
    with pytest.raises(IndexError, match="Dimension out of range"):
        aten.slice.Tensor(ember.ones(2), 5)
    with pytest.raises(IndexError, match="Dimension out of range"):
        aten.slice.Tensor(ember.tensor(1.0), 0)


def test_to_copy_refuses_a_sparse_layout_and_pins_as_pin_memory_does():
    with pytest.raises(RuntimeError, match="only the strided layout"):
        aten._to_copy.default(ember.ones(2), layout=ember.sparse_coo)
    if ember.cuda.is_available():
        assert aten._to_copy.default(ember.ones(2), pin_memory=True).is_pinned()
    else:
        with pytest.raises(RuntimeError) as pinning:
            ember.ones(2).pin_memory()
        with pytest.raises(RuntimeError, match=re.escape(str(pinning.value)[:30])):
            aten._to_copy.default(ember.ones(2), pin_memory=True)


def test_sparse_layout_names_exist_and_factories_refuse_them():
    assert ember.zeros(2).layout is ember.strided and ember.sparse_coo is not ember.strided
    assert repr(ember.sparse_csr) == "ember.sparse_csr" and isinstance(ember.sparse_csc, ember.layout)
    with pytest.raises(RuntimeError, match="only the strided layout"):
        ember.zeros(2, layout=ember.sparse_coo)


def test_tensor_str_and_rpc_names():
    from ember._tensor_str import _tensor_str

    text = _tensor_str(ember.tensor([[1.0, 2.5], [3.0, 4.0]]), indent=0)
    assert text == "[[1.0000, 2.5000],\n [3.0000, 4.0000]]"
    assert not ember.distributed.rpc.is_available()


def test_packets_and_overloads_pickle_by_name():
    assert pickle.loads(pickle.dumps(aten.add)) is aten.add
    assert pickle.loads(pickle.dumps(aten.add.Tensor)) is aten.add.Tensor


@pytest.mark.parametrize("name", ["add.Tensor", "sub.Tensor", "mm.default", "clone.default", "slice.Tensor"])
def test_against_pytorchs_aten_ops(name):
    torch = pytest.importorskip("torch")
    packet, overload = name.split(".")
    args = {"mm": (X, X.T), "clone": (X,), "slice": (X, 1, 0, 3, 2)}.get(packet, (X, X))
    ours = getattr(getattr(aten, packet), overload)(
        *[ember.tensor(a) if isinstance(a, np.ndarray) else a for a in args]
    )
    theirs = getattr(getattr(torch.ops.aten, packet), overload)(
        *[torch.tensor(a) if isinstance(a, np.ndarray) else a for a in args]
    )
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert getattr(getattr(aten, packet), overload).name() == getattr(getattr(torch.ops.aten, packet), overload).name()
