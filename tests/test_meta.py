"""The meta device (Note [Meta tensors]): tensors with shape, dtype and strides and no data; every
registered op's result metadata on meta against running it on the CPU; modules built on meta."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from test_registry import ROWS, primary
from test_vmap import VMAP_CASES, _batched_inputs, _entry

import ember
import ember.nn.functional as F
from op_db import CASES

DYNAMIC_SHAPE = {"nonzero", "masked_select", "unique", "unique_consecutive"}
# Cases whose result size is read from a tensor's values (repeat counts): PyTorch's meta kernels refuse them too.
VALUE_SIZED = {"repeat_interleave-counts"}


def _meta_like(x):
    if isinstance(x, ember.Tensor):
        return ember.empty_like(x, device="meta") if x.dim() > 0 else x
    return x


def _real_inputs(case):
    rng = np.random.default_rng(0)
    arrays = [x if isinstance(x, np.ndarray) else rng.uniform(0.5, 1.5, x) for x in case.inputs]
    return [ember.tensor(a, dtype=ember.float64) if a.dtype.kind == "f" else ember.tensor(a) for a in arrays]


def _check_same_metadata(got, ref):
    if isinstance(ref, (tuple, list)):
        assert isinstance(got, (tuple, list)) and len(got) == len(ref)
        for g, r in zip(got, ref):
            _check_same_metadata(g, r)
        return
    if not isinstance(ref, ember.Tensor):
        assert got == ref
        return
    assert got.device.type == "meta"
    assert tuple(got.shape) == tuple(ref.shape) and got.dtype == ref.dtype


# Ops that take index tensors read their values (they are kept on the CPU here only for 0-d inputs):
# their meta shapes are checked with meta indices where the result does not depend on values.
CASES_ON_META = [c for c in CASES if c.inputs and c.name not in DYNAMIC_SHAPE and str(c) not in VALUE_SIZED]


@pytest.mark.parametrize("case", CASES_ON_META, ids=str)
def test_every_op_on_meta_matches_its_cpu_shapes(case):
    op = primary(ROWS[case.name])
    real = _real_inputs(case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = case.invoke(op, *real)
        metas = [_meta_like(t) for t in real]
        with ember.device("meta"):  # index tensors the case makes itself are meta too
            got = case.invoke(op, *metas)
    _check_same_metadata(got, ref)


def test_creation_and_printing_as_pytorch():
    x = ember.empty(2, 3, device="meta")
    assert repr(x) == "tensor(..., device='meta', size=(2, 3))"
    assert x.device == ember.device("meta") and x.is_meta and x.stride() == (3, 1)
    assert (
        repr(ember.zeros(2, dtype=ember.int64, device="meta"))
        == "tensor(..., device='meta', size=(2,), dtype=ember.int64)"
    )
    assert (
        repr(ember.ones((), device="meta", requires_grad=True))
        == "tensor(..., device='meta', size=(), requires_grad=True)"
    )
    assert ember.arange(10, device="meta").shape == (10,) and ember.arange(0, 1, 0.25, device="meta").shape == (4,)
    assert (
        ember.eye(3, 4, device="meta").shape == (3, 4)
        and ember.randint(0, 5, (2, 2), device="meta").dtype == ember.int64
    )
    assert ember.full((2,), 1.5, device="meta").dtype == ember.float32
    assert ember.tensor([[1, 2], [3, 4]], device="meta").shape == (2, 2)
    assert isinstance(x, ember.Tensor) and ember.is_tensor(x)
    # a huge tensor costs nothing
    big = ember.empty(1 << 20, 1 << 20, device="meta")
    assert (big @ big.t()).shape == (1 << 20, 1 << 20)


def test_new_tensors_of_a_meta_tensor_are_meta():
    m = ember.empty(2, 3, device="meta", dtype=ember.float64)
    made = [m.new_full((2, 2), 1.0), m.new_zeros(4), m.new_ones(1, 2), m.new_empty(3), m.new_tensor([1.0])]
    assert all(t.device.type == "meta" for t in made)
    assert [tuple(t.shape) for t in made[:4]] == [(2, 2), (4,), (1, 2), (3,)]
    assert made[0].dtype == ember.float64
    assert m.new_zeros(2, device="cpu").device.type == "cpu"
    assert tuple(F.pad(m, (1, 2)).shape) == (2, 6) and F.pad(m, (1, 2)).device.type == "meta"


def test_reading_values_raises_pytorchs_errors():
    x = ember.empty(2, 3, device="meta")
    with pytest.raises(RuntimeError, match="cannot be called on meta tensors"):
        x.sum().item()
    with pytest.raises(RuntimeError, match="cannot be called on meta tensors"):
        bool(x[0, 0])
    with pytest.raises(TypeError, match="can't convert meta device type tensor to numpy"):
        x.numpy()
    with pytest.raises(NotImplementedError, match="Cannot copy out of meta tensor; no data!"):
        x.tolist()
    with pytest.raises(NotImplementedError, match="Cannot copy out of meta tensor"):
        x.to("cpu")
    with pytest.raises(RuntimeError, match="is not on the expected device meta"):
        x + ember.ones(2, 3)
    with pytest.raises(NotImplementedError):
        ember.nonzero(x)


def test_views_have_pytorchs_strides():
    x = ember.empty(2, 3, 4, device="meta")
    t = x.transpose(0, 2)
    assert t.shape == (4, 3, 2) and t.stride() == (1, 4, 12) and not t.is_contiguous()
    assert x.permute(1, 0, 2).stride() == (4, 12, 1)
    e = ember.empty(3, 1, device="meta").expand(2, 3, 5)
    assert e.shape == (2, 3, 5) and e.stride() == (0, 1, 0)
    assert x[1, :, ::2].shape == (3, 2) and x[None, ..., 0].shape == (1, 2, 3)
    assert x.unsqueeze(1).shape == (2, 1, 3, 4) and x.view(6, -1).shape == (6, 4)
    assert [p.shape for p in x.split(2, dim=2)] == [(2, 3, 2), (2, 3, 2)]
    with pytest.raises(RuntimeError, match="is invalid for input of size 24"):
        x.view(5, -1)
    with pytest.raises(RuntimeError, match="must match the existing size"):
        x.expand(2, 5, 4)
    with pytest.raises(IndexError, match="out of range"):
        x.select(0, 2)


def test_bad_shapes_raise_on_meta_as_on_cpu():
    a, b = ember.empty(2, 3, device="meta"), ember.empty(4, 5, device="meta")
    with pytest.raises(RuntimeError):
        a @ b
    with pytest.raises(RuntimeError):
        a + b
    with pytest.raises(RuntimeError, match="Sizes of tensors must match"):
        ember.cat([a, b])


def test_autograd_on_meta():
    w = ember.empty(4, 3, device="meta", requires_grad=True)
    x = ember.empty(8, 3, device="meta")
    loss = F.cross_entropy(x @ w.t(), ember.empty(8, dtype=ember.int64, device="meta"))
    assert loss.shape == () and loss.requires_grad and loss.grad_fn is not None
    loss.backward()
    assert w.grad.shape == (4, 3) and w.grad.device.type == "meta"
    (g,) = ember.autograd.grad((w * 2).sum(), w)
    assert g.shape == (4, 3) and g.is_meta
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        (w * 2).backward()


def test_modules_on_meta_then_to_empty_and_load_state_dict_assign():
    with ember.device("meta"):
        model = ember.nn.Sequential(ember.nn.Linear(4, 8), ember.nn.ReLU(), ember.nn.Linear(8, 2))
    assert ember.get_default_device().type == "cpu"
    w = model[0].weight
    assert w.is_meta and isinstance(w, ember.nn.Parameter) and w.requires_grad
    assert repr(w) == "Parameter containing:\ntensor(..., device='meta', size=(8, 4), requires_grad=True)"
    assert model(ember.empty(5, 4, device="meta")).shape == (5, 2)
    # materialize, then initialize with Module.apply
    model.to_empty(device="cpu")
    assert not model[0].weight.is_meta if hasattr(model[0].weight, "is_meta") else True
    model.apply(lambda m: ember.nn.init.zeros_(m.weight) if isinstance(m, ember.nn.Linear) else None)
    assert float(model[2].weight.abs().sum()) == 0.0
    out = model(ember.randn(3, 4))
    assert out.shape == (3, 2)
    # load real weights into a meta model without allocating twice
    source = ember.nn.Linear(4, 8)
    with ember.device("meta"):
        target = ember.nn.Linear(4, 8)
    target.load_state_dict(source.state_dict(), assign=True)
    assert ember.equal(target.weight, source.weight) and isinstance(target.weight, ember.nn.Parameter)
    # empty_like of a meta tensor on the CPU
    real = ember.empty_like(ember.empty(2, 5, device="meta"), device="cpu")
    assert real.shape == (2, 5) and real.device.type == "cpu"


def test_set_default_device():
    ember.set_default_device("meta")
    try:
        assert ember.zeros(3).is_meta and ember.nn.Linear(2, 2).weight.is_meta
        assert ember.get_default_device() == ember.device("meta")
    finally:
        ember.set_default_device("cpu")
    assert not getattr(ember.zeros(3), "is_meta", False)


def test_against_torch_meta():
    torch = pytest.importorskip("torch")
    for make in (
        lambda lib, d: lib.nn.functional.conv2d(
            lib.empty(2, 3, 17, 19, device=d), lib.empty(8, 3, 5, 3, device=d), stride=2, padding=1
        ),
        lambda lib, d: lib.nn.functional.max_pool2d(lib.empty(2, 3, 17, 19, device=d), 3, 2, ceil_mode=True),
        lambda lib, d: lib.empty(3, 4, 5, device=d).sum(1, keepdim=True),
        lambda lib, d: lib.empty(7, 1, 5, device=d) * lib.empty(6, 1, device=d),
        lambda lib, d: lib.einsum("bij,bjk->bik", lib.empty(2, 3, 4, device=d), lib.empty(2, 4, 5, device=d)),
        lambda lib, d: lib.empty(10, 4, device=d).softmax(-1).topk(2)[1],
        lambda lib, d: lib.nn.functional.cosine_similarity(lib.empty(3, 4, device=d), lib.empty(1, 4, device=d)),
    ):  # fmt: skip
        e, t = make(ember, "meta"), make(torch, "meta")
        assert tuple(e.shape) == tuple(t.shape) and str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]


F32 = ember.float32
LAYERS = [
    (lambda: ember.nn.Linear(6, 3), (4, 6), ember.float32),
    (lambda: ember.nn.Conv2d(3, 8, 3, padding=1, stride=2), (2, 3, 9, 9), ember.float32),
    (lambda: ember.nn.Conv1d(3, 4, 5), (2, 3, 20), ember.float32),
    (lambda: ember.nn.BatchNorm2d(3), (2, 3, 5, 5), ember.float32),
    (lambda: ember.nn.LayerNorm(6), (4, 6), ember.float32),
    (lambda: ember.nn.Embedding(50, 7), (3, 4), ember.int64),
    (lambda: ember.nn.LSTM(6, 5, num_layers=2, batch_first=True), (2, 7, 6), ember.float32),
    (lambda: ember.nn.GRU(6, 5, bidirectional=True), (7, 2, 6), ember.float32),
    (lambda: ember.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), (2, 5, 8), ember.float32),
    (lambda: ember.nn.MaxPool2d(2), (2, 3, 8, 8), ember.float32),
    (lambda: ember.nn.AvgPool2d(3, stride=2), (2, 3, 9, 9), ember.float32),
    (lambda: ember.nn.Sequential(ember.nn.Flatten(), ember.nn.Dropout(), ember.nn.Linear(12, 2)), (5, 3, 4), F32),
    # composites that build index or weight tensors of their own: on the input's device
    (lambda: ember.nn.Conv3d(3, 4, 3, padding=1), (1, 3, 5, 5, 5), F32),
    (lambda: ember.nn.ConvTranspose2d(3, 4, 3, stride=2), (1, 3, 5, 5), F32),
    (lambda: ember.nn.AdaptiveAvgPool2d((2, 3)), (1, 3, 7, 5), F32),
    (lambda: ember.nn.AdaptiveMaxPool2d((2, 3)), (1, 3, 7, 5), F32),
    (lambda: ember.nn.MaxPool2d(3, stride=2, padding=1), (1, 3, 7, 8), F32),
    (lambda: ember.nn.Upsample(scale_factor=2, mode="bilinear"), (1, 3, 4, 4), F32),
    (lambda: ember.nn.Upsample(size=(5, 7), mode="nearest"), (1, 3, 4, 4), F32),
    (lambda: ember.nn.Unfold(2, stride=2), (1, 3, 4, 4), F32),
    (lambda: ember.nn.Fold((4, 4), 2), (1, 12, 9), F32),
    (lambda: ember.nn.LocalResponseNorm(3), (1, 4, 3, 3), F32),
    (lambda: ember.nn.EmbeddingBag(10, 4, mode="max"), (2, 3), ember.int64),
    (lambda: ember.nn.EmbeddingBag(10, 4), (2, 3), ember.int64),
]  # fmt: skip


@pytest.mark.parametrize("make,shape,dtype", LAYERS, ids=lambda v: "" if not callable(v) else type(v()).__name__)
def test_layers_on_meta_give_their_cpu_shapes(make, shape, dtype):
    ember.manual_seed(0)
    real = make()
    x = ember.zeros(shape, dtype=dtype) if dtype.is_floating_point else ember.ones(shape, dtype=dtype)
    ref = real(x)
    with ember.device("meta"):
        meta = make()
    assert all(p.is_meta for p in meta.parameters())
    got = meta(ember.empty(shape, dtype=dtype, device="meta"))
    _check_same_metadata(got[0] if isinstance(got, tuple) else got, ref[0] if isinstance(ref, tuple) else ref)


def test_tensor_and_module_to_meta():
    x = ember.ones(2, 3, requires_grad=True)
    y = x.to("meta")
    assert y.device.type == "meta" and y.shape == (2, 3) and y.dtype == ember.float32 and y.requires_grad
    assert not y.is_leaf and y.grad_fn.name() == "ToCopyBackward0"  # as PyTorch's
    with ember.no_grad():
        assert x.to("meta").is_leaf
    assert ember.ones(2).to("meta").grad_fn is None
    assert x.to(device="meta", dtype=ember.float16).dtype == ember.float16
    model = ember.nn.Sequential(ember.nn.Linear(2, 3), ember.nn.BatchNorm1d(3)).to("meta", ember.float64)
    assert all(p.device.type == "meta" and p.dtype == ember.float64 for p in model.parameters())
    assert model[1].num_batches_tracked.dtype == ember.int64 and model[1].running_mean.device.type == "meta"
    assert model(ember.empty(4, 2, device="meta", dtype=ember.float64)).shape == (4, 3)
    with pytest.raises(NotImplementedError, match="Cannot copy out of meta tensor; no data!"):
        model.to("cpu")
    model.to_empty(device="cpu")
    assert all(p.device.type == "cpu" for p in model.parameters())


# ------------------------------------------------------------------------------ transforms on meta
def _first(x):
    return x[0] if isinstance(x, tuple) else x


@pytest.mark.parametrize("case,which", VMAP_CASES)
def test_vmap_over_meta_tensors_gives_the_cpu_metadata(case, which):
    """vmap of every op case over meta inputs: the shape and dtype of vmap over CPU inputs; where the op
    refuses one entry's meta inputs (a CPU index tensor made inside the call), vmap refuses too."""
    from ember.func import vmap

    op = primary(ROWS[case.name])
    ts, dims = _batched_inputs(case, which)

    def f(*a):
        return case.invoke(op, *a)

    metas = [_meta_like(t) for t in ts]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = _first(vmap(f, in_dims=tuple(dims))(*ts))
        try:
            f(*_entry(metas, dims, 0))
        except (RuntimeError, NotImplementedError, IndexError):
            with pytest.raises((RuntimeError, NotImplementedError, IndexError)):
                vmap(f, in_dims=tuple(dims))(*metas)
            return
        got = _first(vmap(f, in_dims=tuple(dims))(*metas))
    assert got.is_meta and tuple(got.shape) == tuple(ref.shape) and got.dtype == ref.dtype


def test_function_transforms_on_meta_tensors():
    from ember.func import grad, hessian, jacfwd, jacrev, vmap

    def loss(w, x):
        return F.linear(x, w).tanh().sum()

    def shapes(device):
        w, x = ember.empty(4, 3, device=device), ember.empty(5, 3, device=device)
        return [
            grad(loss)(w, x[0]).shape,
            vmap(grad(loss), in_dims=(None, 0))(w, x).shape,
            jacrev(lambda v: F.linear(v, w).tanh())(x[0]).shape,
            jacfwd(lambda v: F.linear(v, w).tanh())(x[0]).shape,
            hessian(lambda v: loss(w, v))(x[0]).shape,
        ]

    assert shapes("meta") == shapes("cpu") == [(4, 3), (5, 4, 3), (4, 3), (4, 3), (3, 3)]


def test_meta_graph_has_next_functions():
    a = ember.empty(2, device="meta", requires_grad=True)
    y = (a * 2).sin()
    ((mul, _),) = y.grad_fn.next_functions
    assert mul.name() == "MulBackward0"
    ((acc, _),) = mul.next_functions
    assert acc.name() == "torch::autograd::AccumulateGrad" and acc.variable is a and acc.next_functions == ()
