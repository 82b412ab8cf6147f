"""Names libraries import on load and PyTorch defines: TorchScript's type objects and graph class names
(``torch.TensorType``, ``torch.DeviceObjType``, ``torch._C.Value``), nn.init's private fill helpers,
distributions.transforms._clipped_sigmoid, optim.SparseAdam (its checks, and its error for dense gradients),
``torch._vmap_internals``, autograd.functional's private helpers, ``torch.utils._foreach_utils``,
``torch.__all__``, ``torch._C.TensorBase``; and ``finfo(float)`` and ``x in tensor``'s errors, as PyTorch's."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from ember import _C
from ember.distributions.transforms import SigmoidTransform, _clipped_sigmoid


def test_jit_singleton_types_print_and_compare_as_pytorchs():
    expected = {"TensorType": "Tensor", "DeviceObjType": "Device", "StreamObjType": "Stream", "IntType": "int",
                "FloatType": "float", "BoolType": "bool", "StringType": "str", "NoneType": "NoneType",
                "AnyType": "Any", "NumberType": "number", "ComplexType": "complex"}  # fmt: skip
    for name, text in expected.items():
        t = getattr(ember, name).get()
        assert str(t) == text and repr(t) == text and t.kind() == name
        assert t is getattr(ember, name).get() and getattr(_C, name) is getattr(ember, name)
        assert isinstance(t, ember.Type)
    assert ember.IntType.get() != ember.FloatType.get() and ember.SymIntType.get() != ember.IntType.get()


def test_jit_container_types():
    i, t = ember.IntType.get(), ember.TensorType.get()
    assert str(ember.ListType(i)) == "List[int]" and ember.ListType(i).getElementType() is i
    assert str(ember.OptionalType(ember.FloatType.get())) == "Optional[float]"
    assert str(ember.TupleType([i, t])) == "Tuple[int, Tensor]" and ember.TupleType([i, t]).elements() == [i, t]
    d = ember.DictType(ember.StringType.get(), t)
    assert str(d) == "Dict[str, Tensor]" and d.getKeyType() == ember.StringType.get() and d.getValueType() is t
    assert ember.ListType(i) == ember.ListType(i) and hash(ember.ListType(i)) == hash(ember.ListType(i))
    assert ember.ListType(i) != ember.OptionalType(i)
    with pytest.raises(TypeError, match="ListType"):
        ember.ListType(int)


def test_graph_class_names_exist_and_cannot_be_made():
    for name in ("Value", "Graph", "Block"):
        cls = getattr(_C, name)
        with pytest.raises(TypeError, match=f"torch._C.{name}: No constructor defined"):
            cls()
    # _C.Node stays ember's autograd node class
    x = ember.ones(2, requires_grad=True)
    assert isinstance((x * 2).grad_fn, _C.Node)


def test_nn_init_private_fill_helpers():
    init = ember.nn.init
    w = ember.empty(50, 40)
    assert init._no_grad_fill_(w, 2.5) is w and bool((w == 2.5).all())
    assert init._no_grad_zero_(w) is w and bool((w == 0).all())
    init._no_grad_uniform_(w, -0.5, 0.25)
    assert -0.5 <= w.min().item() and w.max().item() <= 0.25
    init._no_grad_normal_(w, 3.0, 0.1)
    assert abs(w.mean().item() - 3.0) < 0.05
    init._no_grad_trunc_normal_(w, 0.0, 1.0, -0.5, 0.5)
    assert -0.5 <= w.min().item() and w.max().item() <= 0.5
    p = ember.nn.Parameter(ember.zeros(3))
    init._no_grad_fill_(p, 1.0)  # a leaf that requires grad: filled without recording
    assert p.grad_fn is None and p.requires_grad


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
def test_clipped_sigmoid_stays_inside_the_open_interval(dtype):
    x = ember.tensor([-1000.0, -3.0, 0.0, 2.0, 1000.0], dtype=dtype)
    info = ember.finfo(dtype)
    got = _clipped_sigmoid(x).numpy()
    xs = x.numpy().astype(np.float64)
    expected = np.clip(0.5 * (1 + np.tanh(xs / 2)), info.tiny, 1 - info.eps)  # no overflow at -1000
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert got[0] == np.float64(info.tiny).astype(got.dtype) and got[-1] == np.array(1 - info.eps, dtype=got.dtype)
    assert np.array_equal(SigmoidTransform()(x).numpy(), got)


def test_sparse_adam_checks_arguments_as_pytorch():
    p = ember.nn.Parameter(ember.ones(3))
    opt = ember.optim.SparseAdam([p], lr=0.01, betas=(0.8, 0.9), eps=1e-6, maximize=True)
    assert opt.defaults == {"lr": 0.01, "betas": (0.8, 0.9), "eps": 1e-6, "maximize": True}
    for kwargs, message in [({"lr": 0.0}, "Invalid learning rate: 0.0"), ({"eps": 0.0}, "Invalid epsilon value: 0.0"),
                            ({"betas": (1.0, 0.9)}, "Invalid beta parameter at index 0: 1.0"),
                            ({"betas": (0.9, -0.1)}, "Invalid beta parameter at index 1: -0.1"),
                            ({"lr": ember.tensor([0.1, 0.2])}, "Tensor lr must be 1-element")]:  # fmt: skip
        with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
            ember.optim.SparseAdam([p], **kwargs)
    c = ember.nn.Parameter(ember.ones(2, dtype=ember.complex64))
    with pytest.raises(
        ValueError, match=r"Complex params at indices \[\[0, 1\]\]: SparseAdam does not support complex"
    ):
        ember.optim.SparseAdam([p, c])


def test_sparse_adam_step_raises_for_dense_gradients_and_runs_closures():
    p = ember.nn.Parameter(ember.ones(3))
    opt = ember.optim.SparseAdam([p])
    assert opt.step() is None  # no gradient yet: nothing to do
    assert opt.step(lambda: 1.5) == 1.5
    (p * 2).sum().backward()
    with pytest.raises(RuntimeError, match="SparseAdam does not support dense gradients, please consider Adam instead"):
        opt.step()
    assert bool((p == 1).all())


def test_sparse_adam_matches_pytorch_errors():
    torch = pytest.importorskip("torch")
    for lib in (torch, ember):
        p = lib.nn.Parameter(lib.ones(2))
        (p * 3).sum().backward()
        with pytest.raises(RuntimeError) as err:
            lib.optim.SparseAdam([p]).step()
        with pytest.raises(ValueError) as bad_lr:
            lib.optim.SparseAdam([p], lr=-1.0)
        if lib is torch:
            expected = (str(err.value), str(bad_lr.value))
    assert (str(err.value), str(bad_lr.value)) == expected


def test_old_vmap_api_with_none_pass_through():
    from ember._vmap_internals import _vmap, vmap

    x = ember.tensor([0.5, -1.0, 2.0], dtype=ember.float64, requires_grad=True)
    unused = ember.ones(2, requires_grad=True)
    y = x.sin() * 2

    def vjp(v):
        return ember.autograd.grad(y, [x, unused], v, retain_graph=True, allow_unused=True)

    rows, nothing = _vmap(vjp, allow_none_pass_through=True)(ember.eye(3, dtype=ember.float64))
    np.testing.assert_allclose(rows.numpy(), np.diag(2 * np.cos([0.5, -1.0, 2.0])), rtol=1e-12)
    assert nothing is None
    with pytest.raises(ValueError, match="must only return Tensors, got type <class 'NoneType'> for return 1"):
        _vmap(vjp)(ember.eye(3, dtype=ember.float64))
    with pytest.raises(ValueError, match="`out_dims` must be an int or a tuple of int"):
        _vmap(ember.sin, out_dims="x")(ember.zeros(2))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert vmap(ember.sin)(ember.zeros(2, 3)).shape == (2, 3)
    assert caught[0].category is FutureWarning and "torch.vmap" in str(caught[0].message)


def test_autograd_functional_private_helpers():
    from ember.autograd import functional as AF

    a, b = ember.ones(1), ember.ones(2, dtype=ember.float64)
    chunks = AF._construct_standard_basis_for((a, b), (1, 2))
    np.testing.assert_array_equal(chunks[0].numpy(), [[1], [0], [0]])
    np.testing.assert_array_equal(chunks[1].numpy(), [[0, 0], [1, 0], [0, 1]])
    assert chunks[1].dtype == ember.float64
    assert AF._as_tuple(a) == (False, (a,)) and AF._as_tuple([a, b]) == (True, (a, b))
    with pytest.raises(TypeError, match="The inputs given to jacobian must be either a Tensor or a tuple of Tensors"):
        AF._as_tuple([a], "inputs", "jacobian")
    assert AF._tuple_postprocess((a,), False) is a and AF._tuple_postprocess(((a,),), (False, False)) is a
    x = ember.ones(2, requires_grad=True)
    (fresh,) = AF._grad_preprocess((x,), create_graph=False, need_graph=True)
    assert fresh is not x and fresh.requires_grad and fresh.grad_fn is None
    (g,) = AF._autograd_grad(((fresh * 3).sum(),), (fresh,))
    assert g.tolist() == [3.0, 3.0]
    (done,) = AF._grad_postprocess((fresh * 2,), create_graph=False)
    assert not done.requires_grad
    (filled,) = AF._fill_in_zeros((None,), (x,), False, False, "back")
    assert filled.tolist() == [0.0, 0.0]
    with pytest.raises(RuntimeError, match="hessian of the user-provided function with respect to input 0"):
        AF._check_requires_grad((ember.ones(1),), "hessian", strict=True)
    with pytest.raises(RuntimeError, match="v has invalid size"):
        AF._validate_v((ember.ones(3),), (x,), False)


def test_foreach_utils_group_by_device_and_dtype():
    from ember.utils._foreach_utils import _group_tensors_by_device_and_dtype, _has_foreach_support

    a = [ember.ones(2), ember.ones(2, dtype=ember.float64), ember.zeros(3)]
    b = [ember.full((2,), 2.0), None, ember.zeros(3)]
    groups = _group_tensors_by_device_and_dtype([a, b], with_indices=True)
    cpu = ember.device("cpu")
    (f32_lists, f32_at), (f64_lists, f64_at) = groups[(cpu, ember.float32)], groups[(cpu, ember.float64)]
    assert f32_lists[0][0] is a[0] and f32_lists[0][1] is a[2] and f32_lists[1][0] is b[0] and f32_at == [0, 2]
    assert f64_lists == [[a[1]], [None]] and f64_at == [1]
    assert _group_tensors_by_device_and_dtype([a])[(cpu, ember.float32)][1] == []
    assert _has_foreach_support(a, cpu) and not _has_foreach_support([ember.nn.Parameter(ember.ones(1))], cpu)


def test_torch_all_lists_public_non_module_names():
    assert "add" in ember.__all__ and "Tensor" in ember.__all__ and "float32" in ember.__all__
    assert "nn" not in ember.__all__ and not any(name.startswith("_") for name in ember.__all__)
    assert all(hasattr(ember, name) for name in ember.__all__)
    assert _C.TensorBase is ember.Tensor and _C._TensorBase is ember.Tensor


def test_finfo_and_iinfo_take_python_scalar_types():
    assert ember.finfo(float).eps == np.finfo(np.float64).eps and ember.finfo(float).dtype == "float64"
    assert ember.finfo(complex).dtype == "float64" and ember.iinfo(int).max == 2**63 - 1
    with pytest.raises(TypeError, match="bool is not supported by ember.iinfo"):
        ember.iinfo(bool)
    with pytest.raises(TypeError, match="requires a floating point input type"):
        ember.finfo(int)


@pytest.mark.parametrize("element", ["a", None, [1.0], np.array(1.0)])
def test_in_tensor_refuses_what_is_neither_tensor_nor_number(element):
    with pytest.raises(
        RuntimeError, match=f"Tensor.__contains__ only supports Tensor or scalar, but you passed in a {type(element)}"
    ):
        element in ember.ones(2)  # noqa: B015
    assert 1 in ember.ones(2) and ember.tensor(2.0) not in ember.ones(2) and np.float32(1.0) in ember.ones(2)


def test_layers_do_not_call_the_tensor_methods_flop_counters_patch(monkeypatch):
    # ptflops and other counters wrap Tensor.matmul/mul/add to count a program's own products; PyTorch's layers
    # are compiled, so they never reach those wrappers, and ember's Python layers must not either (else a
    # Linear on 3-D input is counted twice).
    calls = []
    for name in ("matmul", "mm", "bmm", "addmm", "mul", "add"):
        original = getattr(ember.Tensor, name)

        def counted(*args, _name=name, _original=original, **kwargs):
            calls.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(ember.Tensor, name, counted)
    F = ember.nn.functional
    x = ember.ones(2, 5, 4)
    F.linear(x, ember.ones(3, 4))
    F.bilinear(ember.ones(2, 4), ember.ones(2, 4), ember.ones(3, 4, 4))
    F.adaptive_avg_pool2d(ember.ones(1, 2, 5, 5), 3)
    F.lp_pool2d(ember.ones(1, 2, 4, 4), 2.0, 2)
    F.scaled_dot_product_attention(x, x, x)
    F.multi_head_attention_forward  # noqa: B018  (exists)
    ember.nn.LSTM(4, 3, proj_size=2)(x)
    ember.nn.GRU(4, 3, bias=False)(x)
    ember.nn.LocalResponseNorm(2)(ember.ones(1, 3, 4, 4))
    F.conv1d(ember.ones(1, 4, 6), ember.ones(4, 2, 3), groups=2)
    assert calls == []
    assert ember._C._is_tracing() is False
