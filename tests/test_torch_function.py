"""``__torch_function__`` dispatch (Note [Torch function dispatch]): Tensor subclasses keep their type
through ops, objects that are not tensors take over the ops they are passed to, TorchFunctionModes see
every op, and the switches that turn dispatch off. The examples are PyTorch's "Extending torch with a
Tensor-like type" tutorial's.

Each test runs on ember and, when it is importable, on PyTorch: the expected behaviour is PyTorch's.
"""

import functools
import threading

import numpy as np
import pytest


def _logging_subclass(lib):
    class LoggingTensor(lib.Tensor):
        calls = []

        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            cls.calls.append((func, types))
            return super().__torch_function__(func, types, args, kwargs)

    return LoggingTensor


def test_subclass_keeps_its_type_through_functions_methods_operators_and_indexing(lib):
    class Sub(lib.Tensor):
        pass

    x = lib.tensor([[1.0, -2.0], [3.0, 4.0]]).as_subclass(Sub)
    results = [x + 1, 2 * x, x @ x, -x, x.relu(), lib.exp(x), lib.nn.functional.relu(x), x[0], x.sum(), x.t()]
    results += [lib.cat([x, x]), lib.where(x > 0, x, 0.0), x.clone(), x.detach(), x.reshape(4)]
    assert all(type(r) is Sub for r in results)
    np.testing.assert_allclose(np.asarray(lib.exp(x).tolist()), np.exp([[1.0, -2.0], [3.0, 4.0]]), rtol=1e-6)
    values, indices = lib.max(x, 0)
    assert type(values) is Sub and type(indices) is Sub
    assert type(lib.max(x, 0).values) is Sub  # the named tuple is kept, its tensors converted
    assert [type(t) for t in x.unbind(0)] == [Sub, Sub]
    assert type(x.shape[0]) is int and type(x.dim()) is int
    assert type(lib.ones(2) + x) is Sub  # a plain tensor beside a subclass: the subclass wins


def test_subclass_gradients_are_the_plain_tensors_through_an_alias(lib):
    class Sub(lib.Tensor):
        pass

    x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
    y = x.as_subclass(Sub)
    assert type(y) is Sub and y.requires_grad and not y.is_leaf
    assert type(y.grad_fn).__name__ == "AliasBackward0"
    z = (y * y).sum()
    assert type(z) is Sub
    z.backward()
    np.testing.assert_allclose(x.grad.tolist(), [2.0, 4.0, 6.0])
    assert lib.autograd.gradcheck(lambda t: (t.as_subclass(Sub).sin() * t.as_subclass(Sub)).sum(), (x,))


def test_parameter_opts_out_and_gives_plain_tensors(lib):
    class Sub(lib.Tensor):
        pass

    p = lib.nn.Parameter(lib.ones(2))
    assert p.__torch_function__ is lib._C._disabled_torch_function_impl
    assert type(p * 2) is lib.Tensor and type(p.exp()) is lib.Tensor
    s = lib.ones(2).as_subclass(Sub)
    assert type(p + s) is Sub and type(s + p) is Sub
    linear = lib.nn.Linear(2, 3)
    assert type(linear(lib.ones(1, 2))) is lib.Tensor
    assert type(linear(lib.ones(1, 2).as_subclass(Sub))) is Sub


def test_torch_function_gets_the_public_function_or_method_and_arguments(lib):
    Logging = _logging_subclass(lib)
    x = lib.ones(2).as_subclass(Logging)
    Logging.calls.clear()
    lib.add(x, 1, alpha=2)
    x.mul(3)
    x + 1
    x[0]
    funcs = [f for f, _ in Logging.calls]
    assert funcs == [lib.add, lib.Tensor.mul, lib.Tensor.add, lib.Tensor.__getitem__]
    assert all(types == (Logging,) for _, types in Logging.calls)

    seen = {}

    class Recorder(lib.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            seen.update(func=func, args=args, kwargs=kwargs)
            return super().__torch_function__(func, types, args, kwargs)

    r = lib.ones(2).as_subclass(Recorder)
    out = lib.empty(2)
    lib.add(r, 1, out=out)
    assert seen["func"] is lib.add and seen["args"][0] is r and seen["kwargs"] == {"out": out}


def test_methods_written_in_python_dispatch_too(lib):
    Logging = _logging_subclass(lib)
    x = lib.ones(2, 2).as_subclass(Logging)
    Logging.calls.clear()
    converted = x.to(lib.float64)
    assert type(converted) is Logging and converted.dtype == lib.float64
    assert Logging.calls[0][0] is lib.Tensor.to
    assert type(x.new_zeros(3)) is Logging and type(x.movedim(0, 1)) is Logging
    plain = lib.ones(2).to(lib.float64)
    assert type(plain) is lib.Tensor and plain.dtype == lib.float64


def test_tensor_properties_T_mT_and_data_dispatch(lib):
    Logging = _logging_subclass(lib)
    x = lib.ones(2, 3).as_subclass(Logging)
    Logging.calls.clear()
    assert type(x.T) is Logging and type(x.mT) is Logging and type(x.data) is Logging
    assert [f.__name__ for f, _ in Logging.calls] == ["__get__"] * 3
    assert Logging.calls[0][0] == lib.Tensor.T.__get__
    assert type(lib.ones(2, 2).T) is lib.Tensor and type(lib.nn.Parameter(lib.ones(2)).data) is lib.Tensor


def test_the_most_derived_subclass_is_asked_first(lib):
    order = []

    class Base(lib.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            order.append(cls.__name__)
            return super().__torch_function__(func, types, args, kwargs)

    class Derived(Base):
        pass

    b, d = lib.ones(1).as_subclass(Base), lib.ones(1).as_subclass(Derived)
    order.clear()
    result = b + d
    assert order == ["Derived"] and type(result) is Derived

    class Other(lib.Tensor):
        pass

    o = lib.ones(1).as_subclass(Other)
    # Unrelated subclasses: each default __torch_function__ refuses the other's type, so nothing is left.
    with pytest.raises(TypeError, match="unsupported operand"):
        b + o
    with pytest.raises(TypeError, match="Multiple dispatch failed"):
        lib.add(b, o)


HANDLED = {}


class ScalarTensor:
    """The tutorial's N x N identity times a value, standing for a tensor it never builds."""

    def __init__(self, lib, n, value):
        self.lib, self._N, self._value = lib, n, value

    def tensor(self):
        return self._value * self.lib.eye(self._N)

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if func not in HANDLED or not all(issubclass(t, ScalarTensor) for t in types):
            return NotImplemented
        return HANDLED[func](*args, **(kwargs or {}))


def test_an_object_that_is_not_a_tensor_implements_functions(lib):
    HANDLED.clear()

    def implements(torch_function):
        def decorator(func):
            functools.update_wrapper(func, torch_function)
            HANDLED[torch_function] = func
            return func

        return decorator

    @implements(lib.mean)
    def mean(input):
        return float(input._value) / input._N

    @implements(lib.add)
    def add(input, other):
        if isinstance(other, ScalarTensor):
            return ScalarTensor(lib, input._N, input._value + other._value)
        return lib.add(input.tensor(), other)

    d = ScalarTensor(lib, 5, 2)
    assert lib.mean(d) == 0.4
    assert lib.add(d, d)._value == 4
    np.testing.assert_allclose(lib.add(ScalarTensor(lib, 2, 2), lib.ones(2, 2)).tolist(), [[3.0, 1.0], [1.0, 3.0]])
    assert lib.overrides.has_torch_function((d,)) and not lib.overrides.has_torch_function((lib.ones(1),))
    with pytest.raises(TypeError, match=r"Multiple dispatch failed for '(torch|ember)\.mul'"):
        lib.mul(d, 3)


def test_a_wrapper_object_unwraps_its_arguments(lib):
    class MetadataTensor:
        def __init__(self, data, metadata):
            self._t, self._metadata = lib.as_tensor(data), metadata

        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            metadata = next(a._metadata for a in args if hasattr(a, "_metadata"))
            ret = func(*[getattr(a, "_t", a) for a in args], **(kwargs or {}))
            return MetadataTensor(ret, metadata)

    m = MetadataTensor([[1, 2], [3, 4]], {"owner": "Ministry of Silly Walks"})
    t = lib.tensor([[1, 2], [1, 2]])
    product = lib.mul(t, m)
    assert product._metadata == {"owner": "Ministry of Silly Walks"}
    assert product._t.tolist() == [[1, 4], [3, 8]]


def test_python_functions_dispatch_with_has_and_handle_torch_function(lib):
    overrides = lib.overrides

    def scaled(x, factor=2.0):
        if overrides.has_torch_function_unary(x):
            return overrides.handle_torch_function(scaled, (x,), x, factor=factor)
        return x * factor

    Logging = _logging_subclass(lib)
    x = lib.ones(2).as_subclass(Logging)
    Logging.calls.clear()
    result = scaled(x, factor=3.0)
    assert Logging.calls[0][0] is scaled and type(result) is Logging
    assert result.tolist() == [3.0, 3.0]
    assert overrides._get_overloaded_args([x, lib.ones(1), 2]) == [x, *overrides._get_overloaded_args([lib.ones(1)])]


def test_functions_written_in_python_dispatch_as_themselves(lib):
    # F.linear and kron are Python functions in ember: a handler gets them as func, and not the ops
    # they are made of (Note [Python functions dispatch])
    F = lib.nn.functional
    Logging = _logging_subclass(lib)
    x = lib.ones(2, 3).as_subclass(Logging)
    out = F.linear(x, lib.ones(4, 3))
    assert [f for f, _ in Logging.calls] == [F.linear] and type(out) is Logging
    Logging.calls.clear()
    lib.kron(x, x)
    assert [f for f, _ in Logging.calls] == [lib.kron]

    HANDLED = {}

    class Scalar:
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            return HANDLED[func](*args, **(kwargs or {})) if func in HANDLED else NotImplemented

    HANDLED[F.gelu] = lambda x, approximate="none": approximate
    HANDLED[lib.einsum] = lambda equation, *operands: equation
    assert F.gelu(Scalar(), approximate="tanh") == "tanh" and lib.einsum("ii", Scalar()) == "ii"
    with pytest.raises(TypeError, match="no implementation found"):
        F.softmax(Scalar(), dim=0)


def test_python_functions_look_like_functions(lib):
    import inspect
    import pickle

    F = lib.nn.functional
    assert F.relu.__name__ == "relu" and F.relu.__module__ == "torch.nn.functional".replace("torch", lib.__name__)
    assert "input" in inspect.signature(F.relu).parameters and F.relu.__doc__
    for fn in (F.relu, lib.kron, lib.einsum):
        assert pickle.loads(pickle.dumps(fn)) is fn
    layer = lib.nn.TransformerEncoderLayer(4, 2, dim_feedforward=8)
    assert pickle.loads(pickle.dumps(layer)).activation is F.relu  # a default argument pickles by its name

    class Holder:
        act = F.relu  # a function in a class binds as a method, as a Python function does

    assert Holder().act is not F.relu


def test_disable_torch_function_subclass_turns_dispatch_off_for_a_block(lib):
    Logging = _logging_subclass(lib)
    x = lib.ones(2).as_subclass(Logging)
    Logging.calls.clear()
    with lib._C.DisableTorchFunctionSubclass():
        assert not lib._C._is_torch_function_enabled()
        with lib._C.DisableTorchFunctionSubclass():
            y = x + 1
        assert type(x * 2) is lib.Tensor
    assert lib._C._is_torch_function_enabled()
    assert type(y) is lib.Tensor and Logging.calls == []
    assert type(x + 1) is Logging


def test_subclass_repr_names_the_subclass(lib):
    class Sub(lib.Tensor):
        pass

    assert repr(lib.tensor([1.0, 2.0]).as_subclass(Sub)) == "Sub([1., 2.])"
    assert repr(lib.nn.Parameter(lib.tensor([1.0]))) == "Parameter containing:\ntensor([1.], requires_grad=True)"


def test_a_plain_op_after_a_subclass_reached_a_binding_outside_the_registry(lib):
    class Sub(lib.Tensor):
        pass

    s = lib.ones(2, 3).as_subclass(Sub)
    assert s.dim() == 2 and s.numel() == 6 and len(s) == 2  # bindings that never dispatch
    plain = lib.ones(2)
    assert type(plain + 1) is lib.Tensor and (plain + 1).tolist() == [2.0, 2.0]


def test_as_subclass_refuses_a_class_that_is_not_a_tensor(lib):
    with pytest.raises(TypeError):
        lib.ones(2).as_subclass(int)
    with pytest.raises(TypeError):
        lib.ones(2).as_subclass(None)


def test_as_subclass_of_a_meta_tensor_says_ember_cannot():
    import ember

    class Sub(ember.Tensor):
        pass

    with pytest.raises(NotImplementedError, match="meta tensor"):
        ember.empty(2, device="meta").as_subclass(Sub)


class _Recording:
    def __init__(self, lib):
        base = lib.overrides.TorchFunctionMode

        class Recording(base):
            def __init__(self):
                super().__init__()
                self.names = []

            def __torch_function__(self, func, types, args=(), kwargs=None):
                self.names.append(func.__name__)
                return func(*args, **(kwargs or {}))

        self.cls = Recording


def test_a_mode_sees_every_op_of_its_block_and_creation_functions(lib):
    mode = _Recording(lib).cls()
    with mode:
        a = lib.ones(3)
        b = (a * 2).sum()
        lib.zeros(2)
        lib.tensor([1.0])
        a.to(lib.float64)
    assert mode.names == ["ones", "mul", "sum", "zeros", "tensor", "to"]
    assert b.item() == 6.0
    assert lib.overrides._len_torch_function_stack() == 0
    assert type(a) is lib.Tensor


def test_nested_modes_inner_first_and_its_ops_reach_the_outer(lib):
    Recording = _Recording(lib).cls
    outer, inner = Recording(), Recording()
    with outer, inner:
        lib.ones(1).neg()
    assert inner.names == ["ones", "neg"] and outer.names == ["ones", "neg"]
    with outer:
        with lib._C.DisableTorchFunction():
            lib.ones(1).exp()
            assert not lib._C._is_torch_function_mode_enabled()
    assert "exp" not in outer.names


def test_a_mode_that_changes_results_and_one_that_refuses(lib):
    class Doubling(lib.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            result = func(*args, **(kwargs or {}))
            return result * 2 if getattr(func, "__name__", "") == "add" else result

    with Doubling():
        assert lib.add(lib.ones(1), 1).item() == 4.0

    class Refusing(lib.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            return NotImplemented

    with pytest.raises(TypeError), Refusing():
        lib.ones(1).exp()
    assert lib.overrides._len_torch_function_stack() == 0  # left on the error


def test_a_mode_is_per_thread(lib):
    mode = _Recording(lib).cls()
    done = threading.Event()
    other = []

    def work():
        other.append((lib.ones(2) * 3).sum().item())
        done.set()

    with mode:
        thread = threading.Thread(target=work)
        thread.start()
        done.wait(30)
        thread.join(30)
    assert other == [6.0] and "mul" not in mode.names


def test_pytorch_tensors_beside_ember_ones_do_not_dispatch_back_and_forth():
    torch = pytest.importorskip("torch")
    import ember

    a, b = ember.ones(2), torch.ones(2)
    # Each library's handler refuses the other's ops, so Python falls back as for unrelated objects.
    assert (a == b) is False and (a != b) is True
    with pytest.raises(TypeError, match="unsupported operand"):
        a + b
    with pytest.raises(TypeError, match="unsupported operand"):
        b + a
    assert not ember.overrides.has_torch_function((b,))


FUNCTIONAL_CASES = {
    "conv1d": lambda F, x, x3, w: F.conv1d(x[:, :, 0], w[:, :, 0]),
    "conv2d": lambda F, x, x3, w: F.conv2d(x, w),
    "conv_transpose2d": lambda F, x, x3, w: F.conv_transpose2d(x, w.transpose(0, 1)),
    "max_pool2d": lambda F, x, x3, w: F.max_pool2d(x, 2),
    "avg_pool2d": lambda F, x, x3, w: F.avg_pool2d(x, 2),
    "avg_pool3d": lambda F, x, x3, w: F.avg_pool3d(x3, 2),
    "adaptive_avg_pool2d": lambda F, x, x3, w: F.adaptive_avg_pool2d(x, 1),
    "batch_norm": lambda F, x, x3, w: F.batch_norm(x, None, None, training=True),
    "instance_norm": lambda F, x, x3, w: F.instance_norm(x),
    "layer_norm": lambda F, x, x3, w: F.layer_norm(x, (6,)),
    "group_norm": lambda F, x, x3, w: F.group_norm(x, 3),
    "gelu": lambda F, x, x3, w: F.gelu(x),
    "leaky_relu": lambda F, x, x3, w: F.leaky_relu(x),
    "softmax": lambda F, x, x3, w: F.softmax(x, 1),
    "pad": lambda F, x, x3, w: F.pad(x, (1, 1)),
    "pad_reflect": lambda F, x, x3, w: F.pad(x, (1, 1, 1, 1), mode="reflect"),
    "interpolate": lambda F, x, x3, w: F.interpolate(x, scale_factor=2),
    "unfold": lambda F, x, x3, w: F.unfold(x, 2),
    "mse_loss": lambda F, x, x3, w: F.mse_loss(x, x),
}


@pytest.mark.parametrize("case", sorted(FUNCTIONAL_CASES))
def test_nn_functional_keeps_a_subclass(lib, case):
    class Sub(lib.Tensor):
        pass

    gen = np.random.default_rng(0)
    plain = lib.tensor(gen.normal(size=(2, 3, 6, 6)), dtype=lib.float32)
    plain3 = lib.tensor(gen.normal(size=(2, 3, 4, 4, 4)), dtype=lib.float32)
    w = lib.tensor(gen.normal(size=(4, 3, 3, 3)), dtype=lib.float32)
    F = lib.nn.functional
    result = FUNCTIONAL_CASES[case](F, plain.as_subclass(Sub), plain3.as_subclass(Sub), w)
    assert type(result) is Sub
    expected = FUNCTIONAL_CASES[case](F, plain, plain3, w)
    np.testing.assert_allclose(result.detach().numpy(), expected.detach().numpy(), rtol=1e-6, atol=1e-6)


def test_subclasses_dispatch_under_as_torch():
    # ember standing in for PyTorch (ember.as_torch) is not PyTorch beside ember: its subclasses dispatch.
    import subprocess
    import sys

    code = (
        "import ember.as_torch\nimport torch\n"
        "class S(torch.Tensor):\n    pass\n"
        "x = torch.ones(2).as_subclass(S)\n"
        "assert type(x + 1) is S and type(torch.nn.functional.pad(x, (1, 1))) is S\n"
        "assert torch.overrides.has_torch_function((x,))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


class Pickled:
    pass  # (replaced below by a Tensor subclass importable by pickle, one per library)


def _picklable_subclass(lib):
    global Pickled

    class Pickled(lib.Tensor):  # noqa: F811 - module level, so that pickle finds it by name
        pass

    Pickled.__qualname__ = "Pickled"
    return Pickled


def test_pickle_copy_and_save_keep_a_subclass_and_its_attributes(lib, tmp_path):
    import copy
    import pickle

    cls = _picklable_subclass(lib)
    x = lib.arange(4.0).as_subclass(cls)
    x.meta = {"spacing": 2}
    for back in (pickle.loads(pickle.dumps(x)), copy.copy(x)):
        assert type(back) is cls and back.meta == {"spacing": 2} and back.tolist() == [0.0, 1.0, 2.0, 3.0]
    lib.save(x, tmp_path / "x.pt")
    loaded = lib.load(tmp_path / "x.pt", weights_only=False)
    assert type(loaded) is cls and loaded.meta == {"spacing": 2} and loaded.tolist() == [0.0, 1.0, 2.0, 3.0]


def test_deepcopy_of_a_subclass_copies_its_attributes():
    # (PyTorch's default __deepcopy__ refuses a subclass whose new_empty gives a plain tensor; ember copies it.)
    import copy

    import ember

    cls = _picklable_subclass(ember)
    x = ember.arange(3.0).as_subclass(cls)
    x.meta = {"spacing": [2]}
    y = copy.deepcopy(x)
    assert type(y) is cls and y.meta == {"spacing": [2]} and y.meta["spacing"] is not x.meta["spacing"]
    y.add_(1)
    assert x.tolist() == [0.0, 1.0, 2.0]
