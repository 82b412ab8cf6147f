"""What the eighteenth session's library probes (spikingjelly, bayesian-torch, torchensemble, ...) and dtype
checks found different from PyTorch, each tested against PyTorch's documented behaviour: dense tensors'
sparse accessors, the ops PyTorch refuses for bool or for mixed complex and real operands, custom Triton ops,
fake-tensor helpers, GraphModule's submodule editing, unpacking a traced Proxy, activation-checkpoint wrappers,
and the in-place error on a leaf's view."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.distributed.algorithms._checkpoint.checkpoint_wrapper import (
    CheckpointImpl,
    CheckpointWrapper,
    apply_activation_checkpointing,
    checkpoint_wrapper,
    offload_wrapper,
)

# ---------------------------------------------------------------- sparse accessors of a dense tensor

LAYOUT_NEEDED = {
    "values": "sparse tensor layout",
    "indices": "sparse coordinate tensor layout",
    "coalesce": "sparse coordinate tensor layout",
    "is_coalesced": "sparse coordinate tensor layout",
    "crow_indices": "sparse row compressed tensor layout",
    "col_indices": "sparse row compressed tensor layout",
    "ccol_indices": "sparse column compressed tensor layout",
    "row_indices": "sparse column compressed tensor layout",
}


@pytest.mark.parametrize("name", sorted(LAYOUT_NEEDED))
def test_a_dense_tensor_has_the_sparse_accessors_and_each_raises_naming_its_layout(name):
    t = ember.ones(2, 3)
    assert hasattr(t, name)  # code tells results apart by hasattr(t, "values"); PyTorch's Tensor has them all
    with pytest.raises(RuntimeError, match=f"^{name} expected {LAYOUT_NEEDED[name]} but got Strided$"):
        getattr(t, name)()


def test_sparse_and_dense_dims_of_dense_and_sparse_tensors():
    t = ember.ones(2, 3, 4)
    assert (t.sparse_dim(), t.dense_dim()) == (0, 3)
    s = ember.tensor([[0.0, 2.0], [3.0, 0.0]]).to_sparse()
    assert (s.sparse_dim(), s.dense_dim()) == (2, 0)
    assert s.values().tolist() == [2.0, 3.0]  # the sparse tensor's own accessors are unchanged


# ---------------------------------------------------------------- what PyTorch refuses for bool


@pytest.mark.parametrize(
    ("call", "kernel"),
    [
        (ember.floor, "floor_vml_cpu"),
        (ember.ceil, "ceil_vml_cpu"),
        (ember.trunc, "trunc_vml_cpu"),
        (ember.fix, "trunc_vml_cpu"),
        (ember.round, "round_vml_cpu"),
        (lambda t: t.floor_(), "floor_vml_cpu"),
        (ember.median, "median_cpu"),
        (ember.nanmedian, "median_cpu"),
        (lambda t: t.median(0), "median_out"),
        (lambda t: t.nanmedian(0), "median_out"),
        (lambda t: t.kthvalue(1), "kthvalue_cpu"),
    ],
)
def test_rounding_and_order_statistics_of_bool_raise_pytorchs_not_implemented(call, kernel):
    with pytest.raises(NotImplementedError, match=f"^\"{kernel}\" not implemented for 'Bool'$"):
        call(ember.tensor([True, False, True]))


def test_topk_of_bool_raises_and_the_other_orderings_of_bool_work():
    b = ember.tensor([True, False, True])
    with pytest.raises(RuntimeError, match="^topk does not support bool dtypes on CPU$"):
        b.topk(1)
    assert b.sort().values.tolist() == [False, True, True]  # sort, mode, max, cummax keep bool, as PyTorch's
    assert b.mode().values.item() is True and b.max().item() is True
    assert ember.floor(ember.tensor([3, -2])).tolist() == [3, -2]  # integers still round to themselves


# ---------------------------------------------------------------- products of one dtype


def test_mm_of_two_dtypes_says_pytorchs_words():
    with pytest.raises(RuntimeError, match=r"^expected m1 and m2 to have the same dtype, but got: float != double$"):
        ember.mm(ember.ones(2, 2), ember.ones(2, 2, dtype=ember.float64))
    with pytest.raises(RuntimeError, match="expected scalar type Float but found Double"):
        ember.linalg.cross(ember.ones(3), ember.ones(3, dtype=ember.float64))
    with pytest.raises(RuntimeError, match="expected scalar type Long but found Float"):
        ember.cross(ember.ones(3, dtype=ember.int64), ember.ones(3), dim=0)


# ---------------------------------------------------------------- library: triton_op, fake-tensor helpers


def test_triton_op_is_a_custom_op_and_wrap_triton_returns_the_kernel():
    @ember.library.triton_op("probe5::double", mutates_args=())
    def double(x: ember.Tensor) -> ember.Tensor:
        return x * 2

    ember.library.register_autograd("probe5::double", lambda ctx, g: g * 2)
    x = ember.ones(3, requires_grad=True)
    y = double(x)
    assert y.tolist() == [2.0, 2.0, 2.0] and ember.ops.probe5.double(x).tolist() == [2.0] * 3
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]
    kernel = object()
    assert ember.library.wrap_triton(kernel) is kernel
    with pytest.raises(ValueError, match="must have a type annotation"):  # its schema is inferred, as custom_op's
        ember.library.triton_op("probe5::bare", lambda x: x, mutates_args=())


def test_unset_fake_temporarily_runs_the_block_and_no_tensor_has_a_fake_mode():
    from ember._subclasses.fake_tensor import maybe_get_fake_mode, unset_fake_temporarily

    with unset_fake_temporarily() as mode:
        y = ember.ones(2) + 1
    assert mode is None and y.tolist() == [2.0, 2.0]
    assert maybe_get_fake_mode(y) is None


# ---------------------------------------------------------------- fx


def test_graph_module_adds_and_deletes_submodules_as_pytorchs():
    gm = ember.fx.symbolic_trace(nn.Sequential(nn.Linear(2, 2), nn.ReLU()))
    tanh = nn.Tanh()
    assert gm.add_submodule("extra.sub", tanh) is True
    assert gm.get_submodule("extra.sub") is tanh and isinstance(gm.get_submodule("extra"), nn.Module)
    gm.weight_like = ember.ones(1)
    assert gm.add_submodule("weight_like.sub", nn.ReLU()) is False  # a tensor on the path: nothing added
    assert gm.delete_submodule("extra.sub") is True
    assert gm.delete_submodule("extra.sub") is False and gm.delete_submodule("nowhere.sub") is False
    gm.add_module("unused", nn.Tanh())
    gm.delete_all_unused_submodules()
    assert sorted(name for name, _ in gm.named_modules()) == ["", "0", "1"]
    x = ember.randn(3, 2)
    assert ember.equal(gm(x), gm.get_submodule("1")(gm.get_submodule("0")(x)))


class _SplitThenAttend(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(4, 2, batch_first=True)

    def forward(self, x):
        a, b = ember.split(x, 2, dim=1)  # a function returning a tuple
        out, _ = self.attn(a, a, a)  # a leaf module returning a tuple
        return out + b


def test_unpacking_a_traced_proxy_records_one_getitem_per_name():
    model = _SplitThenAttend()
    gm = ember.fx.symbolic_trace(model)
    getitems = [n for n in gm.graph.nodes if n.op == "call_function" and n.target.__name__ == "getitem"]
    assert [n.args[1] for n in getitems] == [0, 1, 0, 1]
    x = ember.randn(1, 4, 4)
    assert ember.allclose(gm(x), model(x))

    class Looping(nn.Module):
        def forward(self, x):
            return sum(row for row in x)

    with pytest.raises(ember.fx.proxy.TraceError, match="Proxy object cannot be iterated"):  # not an unpacking
        ember.fx.symbolic_trace(Looping())


# ---------------------------------------------------------------- activation-checkpoint wrappers


def _linear(seed=0):
    layer = nn.Linear(3, 2)
    rng = np.random.default_rng(seed)
    with ember.no_grad():
        layer.weight.copy_(ember.tensor(rng.standard_normal((2, 3)), dtype=ember.float32))
        layer.bias.copy_(ember.tensor(rng.standard_normal(2), dtype=ember.float32))
    return layer


@pytest.mark.parametrize("impl", [CheckpointImpl.NO_REENTRANT, CheckpointImpl.REENTRANT])
def test_checkpoint_wrapper_gives_the_unwrapped_modules_gradients(impl):
    plain, wrapped_inner = _linear(), _linear()
    wrapped = checkpoint_wrapper(wrapped_inner, checkpoint_impl=impl)
    assert isinstance(wrapped, CheckpointWrapper) and wrapped.in_features == 3  # attributes reach the module
    x1 = ember.tensor(np.arange(12.0).reshape(4, 3), dtype=ember.float32, requires_grad=True)
    x2 = x1.detach().clone().requires_grad_()
    plain(x1).pow(2).sum().backward()
    wrapped(x2).pow(2).sum().backward()
    assert ember.allclose(x1.grad, x2.grad) and ember.allclose(plain.weight.grad, wrapped_inner.weight.grad)
    assert [name for name, _ in wrapped.named_parameters()] == ["weight", "bias"]


def test_wrapped_modules_keep_their_state_dict_keys_and_load_unwrapped_checkpoints():
    model = nn.Sequential(_linear(1), nn.ReLU(), nn.Linear(2, 1))
    saved = {k: v.clone() for k, v in model.state_dict().items()}
    apply_activation_checkpointing(model, check_fn=lambda m: isinstance(m, nn.Linear))
    assert isinstance(model[0], CheckpointWrapper) and isinstance(model[2], CheckpointWrapper)
    assert not isinstance(model[1], CheckpointWrapper)
    assert list(model.state_dict()) == list(saved)
    with ember.no_grad():
        for p in model.parameters():
            p.zero_()
    model.load_state_dict(saved)
    assert all(ember.equal(model.state_dict()[k], saved[k]) for k in saved)


def test_offload_wrapper_and_an_auto_wrap_policy():
    inner = _linear()
    wrapped = offload_wrapper(inner)
    x = ember.ones(2, 3, requires_grad=True)
    wrapped(x).sum().backward()
    assert ember.allclose(x.grad, inner.weight.sum(0).expand(2, 3).detach())
    model = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 3, bias=False))
    seen = []

    def policy(module, recurse, nonwrapped_numel):
        seen.append((type(module).__name__, recurse, nonwrapped_numel))
        return nonwrapped_numel > 10

    apply_activation_checkpointing(model, auto_wrap_policy=policy)
    assert seen == [
        ("Sequential", True, 21),
        ("Linear", True, 12),
        ("Linear", False, 12),
        ("Linear", True, 9),
        ("Linear", False, 9),
    ]
    assert isinstance(model[0], CheckpointWrapper) and not isinstance(model[1], CheckpointWrapper)


# ---------------------------------------------------------------- in-place on a leaf's view


@pytest.mark.parametrize(
    ("index", "view"),
    [(0, True), (None, True), (True, True), ((0, [1]), True), (slice(None), False), (Ellipsis, False), ([0], False)],
)
def test_assigning_into_a_leaf_that_requires_grad_names_the_view_as_pytorch(index, view):
    """PyTorch writes basic indices through a view of the leaf (its error says so); a full slice, `...` and
    advanced indices write the leaf itself."""
    x = ember.zeros(3, 2, requires_grad=True)
    words = "a view of a leaf Variable" if view else "^a leaf Variable"
    with pytest.raises(RuntimeError, match=words):
        x[index] = 1.0
    with ember.no_grad():
        x[index] = 1.0  # outside autograd the write is allowed
