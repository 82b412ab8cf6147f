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


# ---------------------------------------------------------------- subtraction of bool


@pytest.mark.parametrize(
    "call",
    [
        lambda m: 1 - m,
        lambda m: m - 1,
        lambda m: 1.5 - m,
        lambda m: ember.rsub(m, 1),
        lambda m: m - ember.tensor([1, 1, 1]),
        lambda m: ember.tensor([1.0, 2.0, 3.0]) - m,
        lambda m: ember.tensor([1, 2, 3]).sub_(True),
    ],
)
def test_subtracting_with_a_bool_operand_raises_pytorchs_error(call):
    with pytest.raises(RuntimeError, match="with a bool tensor is not supported. If you are trying to invert a mask"):
        call(ember.tensor([True, False, True]))


def test_subtracting_two_bools_raises_the_two_bool_error():
    m = ember.tensor([True, False, True])
    for call in (lambda: m - m, lambda: m - True, lambda: m.clone().sub_(m), lambda: ember.sub(m, m, alpha=2)):
        with pytest.raises(RuntimeError, match="with two bool tensors is not supported. Use the `\\^`"):
            call()
    assert (m ^ m).tolist() == [False] * 3 and (1 - m.int()).tolist() == [0, 1, 0]  # what the errors point to


# ---------------------------------------------------------------- int32 indices


def test_gather_and_scatter_take_int32_indices_as_pytorch_2_13():
    x = ember.arange(6.0, dtype=ember.float64).reshape(2, 3).requires_grad_()
    i32 = ember.tensor([[0, 1], [2, 0]], dtype=ember.int32)
    i64 = i32.long()
    assert ember.equal(x.gather(1, i32), x.gather(1, i64))
    ones = ember.ones(2, 2, dtype=ember.float64)
    zeros = ember.zeros(2, 3, dtype=ember.float64)
    assert ember.equal(zeros.scatter(1, i32, 1.0), zeros.scatter(1, i64, 1.0))
    assert ember.equal(zeros.scatter(1, i32, ones), zeros.scatter(1, i64, ones))
    assert ember.equal(zeros.scatter_add(1, i32, ones), zeros.scatter_add(1, i64, ones))
    assert ember.equal(zeros.scatter_reduce(1, i32, ones, "amax"), zeros.scatter_reduce(1, i64, ones, "amax"))
    assert ember.autograd.gradcheck(lambda t: t.gather(1, i32), (x,))
    assert ember.autograd.gradcheck(lambda s: zeros.scatter_add(1, i32, s), (ones.clone().requires_grad_(),))
    with pytest.raises(RuntimeError, match=r"gather\(\): Expected dtype int32/int64 for index"):
        x.gather(1, i32.to(ember.int16))


def test_index_copy_and_index_fill_refuse_int32_indices_as_pytorch():
    i32 = ember.tensor([0], dtype=ember.int32)
    with pytest.raises(RuntimeError, match=r"index_copy_\(\): Expected a long tensor for index, but got Int"):
        ember.zeros(3).index_copy(0, i32, ember.ones(1))
    with pytest.raises(IndexError, match=r"index_fill_\(\): Expected dtype int64 for index."):
        ember.zeros(3).index_fill(0, i32, 1.0)
    assert ember.zeros(3).index_add(0, i32, ember.ones(1)).tolist() == [1.0, 0.0, 0.0]  # these take int32
    assert ember.arange(3.0).index_select(0, i32).tolist() == [0.0]


def test_repeat_interleave_of_int32_repeats_is_int32():
    r = ember.tensor([1, 2], dtype=ember.int32)
    out = ember.repeat_interleave(r)
    assert out.dtype == ember.int32 and out.tolist() == [0, 1, 1]
    assert ember.repeat_interleave(ember.tensor([5.0, 6.0]), r).tolist() == [5.0, 6.0, 6.0]
    assert ember.repeat_interleave(r.long()).dtype == ember.int64


# ---------------------------------------------------------------- nll_loss / cross_entropy targets


def test_class_targets_are_long_or_byte_as_pytorch():
    x = ember.tensor(np.random.default_rng(0).standard_normal((3, 4)), dtype=ember.float32)
    t = ember.tensor([0, 1, 2])
    F = ember.nn.functional
    assert F.cross_entropy(x, t.to(ember.uint8)).item() == pytest.approx(F.cross_entropy(x, t).item())
    assert F.nll_loss(x, t.to(ember.uint8)).item() == pytest.approx(F.nll_loss(x, t).item())
    for dtype, name in ((ember.int32, "Int"), (ember.int16, "Short"), (ember.bool, "Bool")):
        with pytest.raises(RuntimeError, match=f"expected target dtype to be Long or Byte, but got {name}"):
            F.cross_entropy(x, t.to(dtype))
    with pytest.raises(RuntimeError, match="expected scalar type Long but found Byte"):  # the spatial kernel
        F.nll_loss(x[None].permute(0, 2, 1)[..., None], t[None, :, None].to(ember.uint8))


# ---------------------------------------------------------------- tensor() of numpy elements


@pytest.mark.parametrize(
    ("data", "dtype"),
    [
        ([np.float64(1.5)], ember.float64),
        ([np.float64(1.5), 2.0], ember.float64),
        ([[np.float64(1)], [2.0]], ember.float64),
        ([np.float32(1), 2.0], ember.float32),
        ([np.float16(1)], ember.float16),
        ([np.int32(1), np.int32(2)], ember.int32),
        ([np.int16(1), 2], ember.int64),
        ([np.uint8(1)], ember.uint8),
        ([np.bool_(True)], ember.bool),
        ([np.float32(1), np.float64(2)], ember.float64),
        ([np.complex128(1j)], ember.complex128),
        ([np.ones(2), np.zeros(2)], ember.float64),
        ([np.ones(2, np.int32)], ember.int32),
        ([ember.tensor(1.0), np.float64(2)], ember.float64),
    ],
)
def test_a_list_of_numpy_scalars_and_arrays_keeps_their_dtypes(data, dtype):
    """PyTorch promotes the elements' own dtypes (numpy's float64 is float64, not a Python float)."""
    for make in (ember.tensor, ember.as_tensor):
        t = make(data)
        assert t.dtype == dtype
    assert np.array_equal(np.asarray(ember.tensor(data).tolist()), np.asarray([np.asarray(x) for x in data]).tolist())


# ---------------------------------------------------------------- lobpcg of a sparse matrix, _weight_norm


def test_lobpcg_takes_a_sparse_matrix():
    n = 8
    dense = 2 * np.eye(n) - np.eye(n, k=1) - np.eye(n, k=-1)
    sparse = ember.tensor(dense, dtype=ember.float64).to_sparse()
    x0 = ember.tensor(np.random.default_rng(0).standard_normal((n, 2)))
    values, vectors = ember.lobpcg(sparse, X=x0, largest=False, niter=200, tol=1e-10)
    assert np.allclose(values.numpy(), np.linalg.eigvalsh(dense)[:2], atol=1e-8)
    assert np.allclose(dense @ vectors.numpy(), vectors.numpy() * values.numpy(), atol=1e-6)


def test_private_weight_norm_functions():
    v = ember.tensor([[3.0, 4.0], [1.0, 0.0]], dtype=ember.float64, requires_grad=True)
    g = ember.tensor([[2.0], [5.0]], dtype=ember.float64, requires_grad=True)
    assert np.allclose(ember._weight_norm(v, g, 0).detach().numpy(), [[1.2, 1.6], [5.0, 0.0]], rtol=1e-15)
    weight, norms = ember._weight_norm_interface(v, g, 0)
    assert ember.equal(weight, ember._weight_norm(v, g, 0)) and norms.tolist() == [[5.0], [1.0]]
    assert ember.autograd.gradcheck(lambda a, b: ember._weight_norm(a, b, 0), (v, g))
    assert ember.norm_except_dim(ember.tensor([3.0, -4.0]), 2, 0).tolist() == [3.0, 4.0]  # a vector: |v|


# ---------------------------------------------------------------- Optimizer.load_state_dict


class _IntStepOptimizer(ember.optim.Optimizer):
    """An optimizer of one's own that keeps a plain int step (AdaBelief's, Prodigy's)."""

    def __init__(self, params):
        super().__init__(params, dict(lr=0.1))

    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"] = state.get("step", 0) + 1
                p.data.add_(p.grad, alpha=-group["lr"] * (1 - 0.999 ** state["step"]))


def test_load_state_dict_keeps_a_plain_int_step_of_ones_own_optimizer():
    p = nn.Parameter(ember.ones(2))
    opt = _IntStepOptimizer([p])
    p.grad = ember.ones(2)
    opt.step()
    q = nn.Parameter(ember.ones(2))
    reloaded = _IntStepOptimizer([q])
    reloaded.load_state_dict(opt.state_dict())
    assert reloaded.state[q]["step"] == 1 and type(reloaded.state[q]["step"]) is int


def test_load_state_dict_makes_a_builtin_optimizers_plain_step_a_tensor():
    p = nn.Parameter(ember.ones(2))
    adam = ember.optim.Adam([p])
    p.grad = ember.ones(2)
    adam.step()
    saved = adam.state_dict()
    saved["state"][0]["step"] = 1  # as an older state_dict has it
    q = nn.Parameter(ember.ones(2))
    reloaded = ember.optim.AdamW([q])  # a subclass of Adam converts it too
    reloaded.load_state_dict(saved)
    step = reloaded.state[q]["step"]
    assert isinstance(step, ember.Tensor) and step.dtype == ember.float32 and step.item() == 1.0


def test_load_state_dict_goes_through_setstate_as_pytorch():
    class Flagging(ember.optim.SGD):
        def __setstate__(self, state):
            super().__setstate__(state)
            self.setstate_called = True
            for group in self.param_groups:
                group.setdefault("my_flag", "from __setstate__")

    p = nn.Parameter(ember.ones(2))
    saved = Flagging([p], lr=0.1).state_dict()
    reloaded = Flagging([nn.Parameter(ember.ones(2))], lr=0.1)
    hook_calls = []
    reloaded.register_step_post_hook(lambda *args: hook_calls.append(args))
    reloaded.load_state_dict(saved)
    assert reloaded.setstate_called and reloaded.param_groups[0]["my_flag"] == "from __setstate__"
    reloaded.param_groups[0]["params"][0].grad = ember.ones(2)
    reloaded.step()
    assert len(hook_calls) == 1  # the hooks registered before loading survive it


# ---------------------------------------------------------------- eigenvalues of a general matrix differentiate


def test_eigvals_of_a_real_matrix_differentiate():
    m = np.random.default_rng(1).standard_normal((2, 4, 4))  # complex-conjugate pairs among the eigenvalues
    x = ember.tensor(m, requires_grad=True)
    values = ember.linalg.eigvals(x)
    assert values.grad_fn.name() == "LinalgEigBackward0"
    assert np.allclose(np.sort_complex(values.detach().numpy().ravel()), np.sort_complex(np.linalg.eigvals(m).ravel()))
    assert ember.autograd.gradcheck(lambda a: ember.view_as_real(ember.linalg.eigvals(a)), (x,))
    assert ember.autograd.gradcheck(lambda a: ember.view_as_real(ember.linalg.eig(a).eigenvalues), (x,))
    a = ember.tensor([[0.0, 1.0], [-2.0, -3.0]], dtype=ember.float64, requires_grad=True)
    ember.linalg.eigvals(a).real.sum().backward()  # d(trace)/dA = I
    assert np.allclose(a.grad.numpy(), np.eye(2))


def test_eigenvectors_derivative_raises_when_asked_for():
    x = ember.tensor(np.random.default_rng(2).standard_normal((3, 3)), requires_grad=True)
    values, vectors = ember.linalg.eig(x)
    with pytest.raises(NotImplementedError, match="derivative of a general matrix's eigenvectors"):
        vectors.real.sum().backward()


# ---------------------------------------------------------------- numpy of a tensor that requires grad


def test_numpy_array_of_a_tensor_that_requires_grad_raises_as_pytorch():
    t = ember.ones(2, requires_grad=True)
    for convert in (np.array, np.asarray):
        with pytest.raises(RuntimeError, match=r"Can't call numpy\(\) on Tensor that requires grad"):
            convert(t)
    assert np.array(t.detach()).tolist() == [1.0, 1.0] and t.tolist() == [1.0, 1.0]


# ---------------------------------------------------------------- writes at indices: PyTorch's dtype rule


def test_advanced_index_writes_take_the_destinations_dtype_only():
    words = "Index put requires the source and destination dtypes match, got FloatTensor for the destination and"
    for value in (ember.ones(2, dtype=ember.float64), ember.tensor(1.0, dtype=ember.float64), ember.ones(2).long()):
        x = ember.zeros(3)
        with pytest.raises(RuntimeError, match=words):
            x[ember.tensor([0, 1])] = value
        with pytest.raises(RuntimeError, match=words):
            x.index_put_((ember.tensor([0, 1]),), value)
        x[1:] = value  # a basic index is a copy_, which converts
        assert x.tolist() == [0.0, 1.0, 1.0]
    x = ember.zeros(3)
    x[ember.tensor([0])] = 2.5  # a number converts
    assert x.tolist() == [2.5, 0.0, 0.0]
    ints = ember.zeros(3, dtype=ember.int64)
    ints[1:] = ember.ones(2) * 1.7  # a float into an integer view truncates, as copy_
    assert ints.tolist() == [0, 1, 1]


# ---------------------------------------------------------------- loss weights that require grad


@pytest.mark.parametrize(
    ("call", "function", "arg"),
    [
        (lambda x, t, w: ember.nn.functional.cross_entropy(x, t, weight=w), "nll_loss_forward", "weight"),
        (lambda x, t, w: ember.nn.functional.nll_loss(x.log_softmax(1), t, weight=w), "nll_loss_forward", "weight"),
        (lambda x, t, w: ember.nn.functional.multi_margin_loss(x, t, weight=w), "multi_margin_loss", "weight"),
        (
            lambda x, t, w: ember.nn.functional.cross_entropy(
                x[None].permute(0, 2, 1)[..., None], t[None, :, None], weight=w
            ),
            "nll_loss2d_forward",
            "weight",
        ),  # fmt: skip
        (
            lambda x, t, w: ember.nn.functional.binary_cross_entropy(x.sigmoid(), x.detach().sigmoid(), weight=w),
            "binary_cross_entropy",
            "weight",
        ),  # fmt: skip
        (
            lambda x, t, w: ember.nn.functional.binary_cross_entropy_with_logits(x, x.detach(), pos_weight=w),
            "binary_cross_entropy_with_logits",
            "pos_weight",
        ),  # fmt: skip
    ],
)
def test_a_loss_weight_that_requires_grad_is_refused_as_pytorch(call, function, arg):
    x, t, w = ember.randn(3, 4, requires_grad=True), ember.tensor([0, 1, 2]), ember.ones(4, requires_grad=True)
    with pytest.raises(RuntimeError, match=f"The function '{function}' is not differentiable with respect to "
                       f"argument '{arg}'. This input cannot have requires_grad True."):  # fmt: skip
        call(x, t, w)
    with ember.no_grad():
        call(x, t, w)  # without autograd the weight only scales
    call(x, t, w.detach()).backward()


# ---------------------------------------------------------------- slogdet's sign, addmm's dtype words


def test_slogdet_sign_is_an_output_of_the_node_without_a_gradient():
    a = ember.tensor([[2.0, 1.0, 0.0], [1.0, -3.0, 1.0], [0.0, 2.0, 1.0]], dtype=ember.float64, requires_grad=True)
    sign, logabsdet = ember.linalg.slogdet(a)
    assert sign.requires_grad and sign.grad_fn.name() == "LinalgSlogdetBackward0" and sign.item() == -1.0
    sign.sum().backward()
    assert a.grad is None
    ember.linalg.slogdet(a)[1].backward()
    assert np.allclose(a.grad.numpy(), np.linalg.inv(a.detach().numpy()).T)


def test_addmm_and_linear_of_two_dtypes_say_pytorchs_words():
    f32, f64 = ember.ones(2, 2), ember.ones(2, 2, dtype=ember.float64)
    with pytest.raises(RuntimeError, match="^mat1 and mat2 must have the same dtype, but got Float and Double$"):
        ember.nn.functional.linear(f32, f64, f64[0])
    with pytest.raises(RuntimeError, match="^self and mat2 must have the same dtype, but got Float and Double$"):
        ember.addmm(f32, f64, f64)


# ---------------------------------------------------------------- sparse @ sparse, randint_like, has_cuda


def test_a_product_of_two_sparse_matrices_is_sparse():
    a = ember.sparse_coo_tensor(ember.tensor([[0, 1, 2, 2], [0, 1, 2, 0]]), ember.tensor([1.0, 2.0, 3.0, 4.0]), (3, 3))
    b = ember.sparse_coo_tensor(ember.tensor([[0, 1, 0], [1, 2, 0]]), ember.tensor([5.0, 6.0, 7.0]), (2, 3))
    expected = b.to_dense().numpy() @ a.to_dense().numpy()
    for product in (ember.sparse.mm(b, a), b @ a, ember.mm(b, a)):
        assert product.layout == ember.sparse_coo and product.is_coalesced()
        assert product.indices().tolist() == [[0, 0, 1, 1], [0, 1, 0, 2]]
        assert np.array_equal(product.to_dense().numpy(), expected)
    c = ember.sparse_coo_tensor(ember.tensor([[0, 0], [0, 1]]), ember.tensor([1.0, -1.0]), (1, 2))
    d = ember.sparse_coo_tensor(ember.tensor([[0, 1], [0, 0]]), ember.tensor([1.0, 1.0]), (2, 1))
    cancelled = ember.sparse.mm(c, d)  # products that cancel leave a stored zero, as PyTorch's
    assert cancelled.indices().tolist() == [[0], [0]] and cancelled.values().tolist() == [0.0]
    with pytest.raises(RuntimeError, match="mat1 and mat2 shapes cannot be multiplied"):
        ember.sparse.mm(a, b)


def test_a_sparse_products_values_differentiate():
    rng = np.random.default_rng(5)
    a_idx, b_idx = ember.tensor([[0, 1, 2, 2], [0, 1, 2, 0]]), ember.tensor([[0, 1, 0, 2], [1, 2, 0, 2]])
    a_vals = ember.tensor(rng.standard_normal(4), requires_grad=True)
    b_vals = ember.tensor(rng.standard_normal(4), requires_grad=True)

    def dense_of_product(av, bv):
        a = ember.sparse_coo_tensor(a_idx, av, (3, 3))
        b = ember.sparse_coo_tensor(b_idx, bv, (3, 3))
        return ember.sparse.mm(b, a).to_dense()

    assert ember.autograd.gradcheck(dense_of_product, (a_vals, b_vals))


def test_randint_like_takes_a_memory_format_as_the_other_like_functions():
    x = ember.zeros(2, 3, 4, 5).to(memory_format=ember.channels_last)
    assert ember.randint_like(x, 2).stride() == x.stride()  # preserve_format, the default
    assert ember.randint_like(x, 2, memory_format=ember.preserve_format).stride() == x.stride()
    assert ember.randint_like(x, 2, memory_format=ember.contiguous_format).is_contiguous()
    r = ember.randint_like(ember.zeros(100), high=2, memory_format=ember.preserve_format)
    assert set(r.tolist()) <= {0.0, 1.0}


@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("has_cuda", "cuda.is_built"),
        ("has_cudnn", "cudnn.is_available"),
        ("has_mps", "mps.is_built"),
        ("has_mkldnn", "mkldnn.is_available"),
    ],  # fmt: skip
)
def test_deprecated_build_flags_warn_and_answer_their_backends_query(name, query):
    backend, fn = query.split(".")
    with pytest.warns(UserWarning, match=f"'{name}' is deprecated, please use 'ember.backends.{query}\\(\\)'"):
        value = getattr(ember, name)
    assert value == getattr(getattr(ember.backends, backend), fn)()


# ---------------------------------------------------------------- sparse shape ops (ptwt's matrix transforms)


def _sparse(rng, shape, nnz):
    dense = np.zeros(shape)
    flat = rng.choice(dense.size, nnz, replace=False)
    dense.reshape(-1)[flat] = rng.standard_normal(nnz)
    return ember.tensor(dense).to_sparse(), dense


def test_sparse_cat_stack_unsqueeze_select_unbind_against_dense():
    rng = np.random.default_rng(6)
    (a, da), (b, db) = _sparse(rng, (3, 4), 5), _sparse(rng, (2, 4), 3)
    joined = ember.cat([a, b])
    assert joined.layout == ember.sparse_coo and np.array_equal(joined.to_dense().numpy(), np.concatenate([da, db]))
    (c, dc) = _sparse(rng, (3, 2), 2)
    assert np.array_equal(ember.cat([a, c], dim=1).to_dense().numpy(), np.concatenate([da, dc], 1))
    stacked = ember.stack([a, a], dim=1)
    assert stacked.shape == (3, 2, 4) and np.array_equal(stacked.to_dense().numpy(), np.stack([da, da], 1))
    for d in (0, 1, 2, -1):
        assert np.array_equal(a.unsqueeze(d).to_dense().numpy(), np.expand_dims(da, d))
    assert np.array_equal(a.select(1, 2).to_dense().numpy(), da[:, 2])
    assert np.array_equal(a.select(0, -1).to_dense().numpy(), da[-1])
    rows = list(a)  # iteration unbinds dim 0
    assert len(rows) == 3 and all(np.array_equal(r.to_dense().numpy(), da[i]) for i, r in enumerate(rows))
    vector, dv = _sparse(rng, (5,), 2)
    assert vector.select(0, int(np.flatnonzero(dv)[0])).item() == dv[np.flatnonzero(dv)[0]]  # a dense 0-d slice
    with pytest.raises(IndexError, match="out of range"):
        a.select(0, 3)
    for call in (lambda: a.select(5, 0), lambda: a.unsqueeze(4), lambda: ember.cat([a, b], 3),
                 lambda: ember.stack([a, a], 4)):  # fmt: skip
        with pytest.raises(IndexError, match="Dimension out of range"):
            call()
    assert np.array_equal(ember.stack([a, a], -1).to_dense().numpy(), np.stack([da, da], -1))
    with pytest.raises(RuntimeError, match="same sizes except along dim 0"):
        ember.cat([a, c])


def test_sparse_in_place_add_and_elementwise_product():
    rng = np.random.default_rng(7)
    (a, da), (b, db) = _sparse(rng, (3, 4), 6), _sparse(rng, (3, 4), 6)
    same = a
    a += b
    assert a is same and np.allclose(a.to_dense().numpy(), da + db)
    dense = ember.tensor(dc0 := np.ones((3, 4)))
    dense += b  # a dense tensor takes a sparse summand in place, as PyTorch's
    assert np.allclose(dense.numpy(), dc0 + db)
    with pytest.raises(RuntimeError, match=r"add\(sparse, dense\) is not supported"):
        b += ember.ones(3, 4)
    (c, dc), (d, dd) = _sparse(rng, (4, 4), 8), _sparse(rng, (4, 4), 8)
    product = c * d
    assert product.layout == ember.sparse_coo and np.allclose(product.to_dense().numpy(), dc * dd)
    assert product.is_coalesced()
    values = c.values().detach().clone().requires_grad_()
    assert ember.autograd.gradcheck(
        lambda v: (ember.sparse_coo_tensor(c.indices(), v, c.shape) * d).to_dense(), (values,)
    )


def test_zeros_like_of_a_sparse_tensor_is_sparse_and_the_other_fills_raise():
    s = ember.tensor([[0.0, 2.0], [3.0, 0.0]]).to_sparse()
    for make in (ember.zeros_like, ember.empty_like):
        z = make(s)
        assert z.layout == ember.sparse_coo and z._nnz() == 0 and z.shape == s.shape
        assert z.to_dense().tolist() == [[0.0, 0.0], [0.0, 0.0]]
        typed = make(s, dtype=ember.float64, requires_grad=True)  # the keywords act, as on a dense tensor
        assert typed.dtype == ember.float64 and typed.requires_grad and typed.layout == ember.sparse_coo
    for make in (ember.ones_like, ember.rand_like, lambda t: ember.full_like(t, 2.0)):
        with pytest.raises(NotImplementedError, match="SparseCPU"):
            make(s)
    assert s.is_contiguous() is False  # as PyTorch answers for a sparse tensor


def test_a_bool_tensor_to_a_bool_number_takes_pytorchs_shortcuts():
    b = ember.tensor([True, False])
    assert (b**True).dtype == ember.bool and (b**True).tolist() == [True, False]  # exponent 1: a copy
    assert (b**False).tolist() == [True, True]  # exponent 0: ones
    assert (b**1).dtype == ember.int64 and (b**0).tolist() == [1, 1]
    c = b.clone()
    assert c.pow_(True).tolist() == [True, False] and c.pow_(False).tolist() == [True, True]
    with pytest.raises(NotImplementedError, match="\"pow\" not implemented for 'Bool'"):
        ember.pow(b, ember.tensor(True))


def test_binomial_samples_of_a_count_that_requires_grad_refuse_backward_as_pytorch():
    count = ember.tensor([5.0, 10.0], requires_grad=True)
    samples = ember.binomial(count, ember.tensor([0.5, 0.2]))
    assert samples.requires_grad and samples.grad_fn.name() == "NotImplemented"
    with pytest.raises(RuntimeError, match="derivative for aten::binomial is not implemented"):
        samples.sum().backward()
    assert not ember.binomial(count.detach(), ember.tensor([0.5, 0.2])).requires_grad
