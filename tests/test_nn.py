"""ember.nn: Module mechanics, layers (forward against numpy, gradients against finite
differences in float64), losses for every reduction, init statistics, gradient clipping."""

import copy
import math
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import gradcheck, gradgradcheck

rng = np.random.default_rng(0)


def arr(*shape, low=-2.0, high=2.0):
    return rng.uniform(low, high, size=shape)


def t64(a, requires_grad=False):
    return ember.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def np_(t):
    return t.detach().numpy()


def check_module_grads(module, *inputs):
    """gradcheck of module(*inputs) w.r.t. the inputs and every parameter (float64).

    gradcheck perturbs its arguments in place, so passing the module's own parameters as
    extra arguments makes the numerical Jacobian see them."""
    module.double()
    params = [p for p in module.parameters() if p.requires_grad]
    n = len(inputs)
    assert gradcheck(lambda *args: module(*args[:n]), tuple(inputs) + tuple(params), eps=1e-6, atol=1e-5, rtol=1e-3)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3, 4)
        self.scale = nn.Parameter(ember.ones(1))
        self.register_buffer("steps", ember.zeros(1))
        self.register_buffer("cache", ember.zeros(2), persistent=False)
        self.body = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.BatchNorm1d(4))

    def forward(self, x):
        return self.body(self.linear(x)) * self.scale


# ---------------------------------------------------------------------------------------------------------------------
# Parameter


def test_parameter_is_a_leaf_alias_requiring_grad():
    base = ember.randn(2, 3)
    p = nn.Parameter(base)
    assert isinstance(p, ember.Tensor) and isinstance(p, nn.Parameter)
    assert p.requires_grad and p.is_leaf and p.grad_fn is None
    assert p.data_ptr() == base.data_ptr()  # no copy, as torch
    assert not nn.Parameter(base, requires_grad=False).requires_grad
    x = ember.randn(2, requires_grad=True)
    q = nn.Parameter(x * 2)  # built from a non-leaf: history is dropped
    assert q.is_leaf and q.grad_fn is None and q.requires_grad
    assert nn.Parameter().shape == (0,)


def test_parameter_repr_deepcopy_and_ops():
    p = nn.Parameter(ember.tensor([1.0, 2.0]))
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    assert str(p) == repr(p)
    q = copy.deepcopy(p)
    assert type(q) is nn.Parameter and q.requires_grad and q.data_ptr() != p.data_ptr()
    np.testing.assert_array_equal(np_(q), [1.0, 2.0])
    out = p * 2  # results of ops are plain tensors
    assert type(out) is ember.Tensor and out.grad_fn is not None
    assert type(p.requires_grad_()) is nn.Parameter


def test_parameter_subclasses_with_their_own_arguments():
    """Parameter has no __init__, as PyTorch's: a subclass whose __new__ takes other arguments (geoopt's
    ManifoldParameter(data, manifold=...)) or calls Parameter.__new__ and then adds its own state is built as
    its __new__ says, and unknown arguments to Parameter itself still raise."""

    class Tagged(nn.Parameter):
        def __new__(cls, data, tag, requires_grad=True):
            made = ember.Tensor._make_subclass(cls, data, requires_grad)
            made.tag = tag
            return made

    class Scaled(nn.Parameter):
        def __new__(cls, data, scale):
            made = super().__new__(cls, data * scale, requires_grad=False)
            made.scale = scale
            return made

    t = Tagged(ember.ones(2), tag="sphere")
    assert type(t) is Tagged and t.tag == "sphere" and t.requires_grad and t.is_leaf
    s = Scaled(ember.ones(2), 3.0)
    assert type(s) is Scaled and s.scale == 3.0 and not s.requires_grad
    np.testing.assert_array_equal(np_(s), [3.0, 3.0])
    with pytest.raises(TypeError, match="manifold"):
        nn.Parameter(ember.ones(2), manifold=None)
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(ember.tensor([1, 2]))


# ---------------------------------------------------------------------------------------------------------------------
# Module registration and traversal


def test_registration_and_names():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == [
        "scale",
        "linear.weight",
        "linear.bias",
        "body.0.weight",
        "body.0.bias",
        "body.2.weight",
        "body.2.bias",
    ]
    assert len(list(net.parameters())) == 7
    assert [n for n, _ in net.named_buffers()] == [
        "steps",
        "cache",
        "body.2.running_mean",
        "body.2.running_var",
        "body.2.num_batches_tracked",
    ]
    assert [n for n, _ in net.named_children()] == ["linear", "body"]
    assert [n for n, _ in net.named_modules()] == ["", "linear", "body", "body.0", "body.1", "body.2"]
    assert [type(m).__name__ for m in net.modules()] == ["Net", "Linear", "Sequential", "Linear", "ReLU", "BatchNorm1d"]
    assert [n for n, _ in net.named_parameters(recurse=False)] == ["scale"]
    assert [n for n, _ in net.named_parameters(prefix="model")][0] == "model.scale"
    assert net.get_submodule("body.0") is net.body[0]
    assert net.get_parameter("body.0.bias") is net.body[0].bias
    assert net.get_buffer("body.2.running_mean") is net.body[2].running_mean


def test_state_dict_keys_and_values():
    net = Net()
    sd = net.state_dict()
    assert isinstance(sd, OrderedDict)
    assert list(sd) == [
        "scale",
        "steps",
        "linear.weight",
        "linear.bias",
        "body.0.weight",
        "body.0.bias",
        "body.2.weight",
        "body.2.bias",
        "body.2.running_mean",
        "body.2.running_var",
        "body.2.num_batches_tracked",
    ]
    assert "cache" not in sd  # non-persistent buffer
    assert not sd["linear.weight"].requires_grad  # detached
    assert sd["linear.weight"].data_ptr() == net.linear.weight.data_ptr()  # but sharing memory
    assert sd["body.2.num_batches_tracked"].dtype == ember.int64
    kept = net.state_dict(keep_vars=True)
    assert kept["linear.weight"] is net.linear.weight
    assert sd._metadata[""]["version"] == 1 and sd._metadata["body.2"]["version"] == 2


def test_shared_parameters_are_listed_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(seq.parameters())) == 2
    assert [n for n, _ in seq.named_modules()] == ["", "0", "1"]
    assert len(list(seq.named_parameters(remove_duplicate=False))) == 4


def test_setattr_moves_between_kinds_and_none():
    m = nn.Module()
    m.w = nn.Parameter(ember.ones(2))
    assert "w" in m._parameters
    m.w = None  # allowed: parameter set to None
    assert m.w is None and "w" in m._parameters and list(m.parameters()) == []
    m.w = nn.Parameter(ember.ones(3))
    m.sub = nn.Linear(1, 1)
    m.register_buffer("b", ember.zeros(2))
    m.b = ember.ones(2)  # assigning a tensor to a buffer name replaces the buffer
    assert m._buffers["b"] is m.b
    m.plain = ember.ones(2)  # a tensor that is not a buffer stays a plain attribute
    assert "plain" not in m._buffers and m.plain.shape == (2,)
    m.buf = nn.Buffer(ember.ones(1), persistent=False)
    assert "buf" in m._buffers and "buf" not in m.state_dict()
    del m.sub
    assert "sub" not in m._modules
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'sub'"):
        m.sub  # noqa: B018


@pytest.mark.parametrize(
    "bad, exc, words",
    [
        (
            lambda m: m.register_parameter("a.b", nn.Parameter(ember.ones(1))),
            KeyError,
            'parameter name can\'t contain "."',
        ),
        (lambda m: m.register_parameter("", nn.Parameter(ember.ones(1))), KeyError, "parameter name can't be empty"),
        (
            lambda m: m.register_parameter(1, nn.Parameter(ember.ones(1))),
            TypeError,
            "parameter name should be a string",
        ),
        (
            lambda m: m.register_parameter("w", ember.ones(1)),
            TypeError,
            "cannot assign 'ember.FloatTensor' object to parameter 'w'",
        ),
        (
            lambda m: m.register_parameter("training", nn.Parameter(ember.ones(1))),
            KeyError,
            "attribute 'training' already exists",
        ),
        (lambda m: m.register_buffer("x.y", ember.ones(1)), KeyError, 'buffer name can\'t contain "."'),
        (lambda m: m.register_buffer("b", [1.0]), TypeError, "cannot assign 'list' object to buffer 'b'"),
        (lambda m: m.add_module("m", 3), TypeError, "int is not a Module subclass"),
        (lambda m: m.add_module("a.b", nn.ReLU()), KeyError, "module name can't contain"),
        (
            lambda m: setattr(m, "lin", ember.ones(1)),
            TypeError,
            "cannot assign 'ember.FloatTensor' as child module 'lin'",
        ),
        (lambda m: setattr(m, "p", ember.ones(1)), TypeError, "cannot assign 'ember.FloatTensor' as parameter 'p'"),
    ],
)
def test_registration_errors(bad, exc, words):
    m = nn.Module()
    m.lin = nn.Linear(1, 1)
    m.p = nn.Parameter(ember.ones(1))
    with pytest.raises(exc) as info:
        bad(m)
    assert words in info.value.args[0]


def test_non_leaf_parameter_and_uninitialised_module_errors():
    m = nn.Module()
    with pytest.raises(ValueError, match="Cannot assign non-leaf Tensor to parameter 'w'"):
        m.register_parameter("w", _non_leaf_param())

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(ember.ones(1))

    with pytest.raises(AttributeError, match=r"cannot assign parameters before Module.__init__\(\) call"):
        Early()


def _non_leaf_param():
    """A Parameter-typed tensor that has a grad_fn: only reachable through an in-place op on a view."""
    p = nn.Parameter(ember.ones(3), requires_grad=False)
    x = ember.ones(3, requires_grad=True)
    p.copy_(x * 2)  # in place on a leaf that does not require grad: it now has history
    assert p.grad_fn is not None
    return p


def test_train_eval_requires_grad_zero_grad_apply():
    net = Net()
    assert net.training and net.body[2].training
    assert net.eval() is net and not net.training and not net.body[2].training
    net.train()
    assert net.body[1].training
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        net.train("yes")
    net(ember.randn(5, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.any().item() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Linear", "Linear", "ReLU", "BatchNorm1d", "Sequential", "Net"]  # children first


def test_to_dtype_keeps_parameter_identity():
    net = Net()
    w = net.linear.weight
    net(ember.randn(4, 3)).sum().backward()
    assert net.to(ember.float64) is net
    assert net.linear.weight is w and type(w) is nn.Parameter and w.dtype == ember.float64
    assert w.grad.dtype == ember.float64
    assert net.body[2].running_mean.dtype == ember.float64
    assert net.body[2].num_batches_tracked.dtype == ember.int64  # integer buffers keep their dtype
    assert net(ember.randn(4, 3, dtype=ember.float64)).dtype == ember.float64
    net.float()
    assert w.dtype == ember.float32 and w.requires_grad and w.is_leaf
    net.double()
    assert w.dtype == ember.float64
    assert net.to("cpu") is net and net.to(device="cpu", dtype=ember.float32) is net and w.dtype == ember.float32
    with pytest.raises(TypeError, match="nn.Module.to only accepts floating point"):
        net.to(ember.int64)


def test_load_state_dict_round_trip_and_in_place():
    a, b = Net(), Net()
    a.body[2].running_mean.fill_(3.0)
    w = b.linear.weight
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    assert b.linear.weight is w  # copied in place
    for k, v in a.state_dict().items():
        np.testing.assert_array_equal(np_(b.state_dict()[k]), np_(v))


def test_load_state_dict_errors_as_pytorch():
    lin = nn.Linear(2, 3)
    sd = lin.state_dict()
    del sd["bias"]
    with pytest.raises(RuntimeError) as info:
        lin.load_state_dict(sd)
    assert str(info.value) == ('Error(s) in loading state_dict for Linear:\n\tMissing key(s) in state_dict: "bias". ')
    sd = lin.state_dict()
    sd["extra"] = ember.ones(1)
    sd["weight"] = ember.ones(3, 3)
    with pytest.raises(RuntimeError) as info:
        lin.load_state_dict(sd)
    assert str(info.value) == (
        'Error(s) in loading state_dict for Linear:\n\tUnexpected key(s) in state_dict: "extra". \n\t'
        "size mismatch for weight: copying a param with shape ember.Size([3, 3]) from checkpoint, the shape in "
        "current model is ember.Size([3, 2])."
    )
    result = lin.load_state_dict({"weight": ember.ones(3, 2), "junk": ember.ones(1)}, strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["junk"]
    assert result == nn.modules.module._IncompatibleKeys(["bias"], ["junk"])
    np.testing.assert_array_equal(np_(lin.weight), np.ones((3, 2)))


def test_load_state_dict_nested_and_batchnorm_without_counter():
    seq = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    sd = {k: v for k, v in seq.state_dict().items() if k != "1.num_batches_tracked"}  # a plain dict: no version
    assert seq.load_state_dict(sd).missing_keys == []
    sd.pop("0.bias")
    sd["2.weight"] = ember.ones(1)
    result = seq.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["0.bias"] and result.unexpected_keys == ["2.weight"]


# ---------------------------------------------------------------------------------------------------------------------
# hooks, containers, repr


def test_forward_hooks_and_removal():
    lin = nn.Linear(2, 2)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    h2 = lin.register_forward_hook(lambda m, args, out: calls.append(out.shape) or out + 1)
    out = lin(ember.randn(3, 2))
    np.testing.assert_allclose(np_(out), np.broadcast_to(np_(lin.bias) + 1, (3, 2)), rtol=1e-6)
    assert calls == [(3, 2)]
    h1.remove()
    h2.remove()
    x = ember.randn(3, 2)
    np.testing.assert_allclose(np_(lin(x)), np_(x) @ np_(lin.weight).T + np_(lin.bias), rtol=1e-5, atol=1e-6)
    assert calls == [(3, 2)]


def test_sequential_indexing_slicing_append():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3 and seq[0] is layers[0] and seq[-1] is layers[2]
    sub = seq[1:]
    assert type(sub) is nn.Sequential and list(sub) == layers[1:] and list(sub._modules) == ["1", "2"]
    with pytest.raises(IndexError, match="index 3 is out of range"):
        seq[3]
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and isinstance(seq[3], nn.Sigmoid)
    del seq[1]
    assert list(seq._modules) == ["0", "1", "2"] and isinstance(seq[1], nn.Linear)
    seq.insert(1, nn.Tanh())
    assert [type(m).__name__ for m in seq] == ["Linear", "Tanh", "Linear", "Sigmoid"]
    seq[1] = nn.ReLU()
    assert isinstance(seq[1], nn.ReLU)
    x = ember.randn(4, 2)
    ref = seq[3](seq[2](seq[1](seq[0](x))))
    np.testing.assert_array_equal(np_(seq(x)), np_(ref))
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"] and named.fc is named[0]
    assert len(seq + named) == 6


def test_module_list_and_dict():
    ml = nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])
    ml.append(nn.Linear(2, 1))
    ml += [nn.Tanh()]
    assert len(ml) == 4 and isinstance(ml[-1], nn.Tanh) and len(ml[1:3]) == 2
    assert [n for n, _ in ml.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    ml.insert(0, nn.Identity())
    assert isinstance(ml[0], nn.Identity) and isinstance(ml[1], nn.Linear)
    md = nn.ModuleDict({"a": nn.Linear(1, 2), "b": nn.ReLU()})
    md["c"] = nn.Linear(2, 2)
    assert list(md.keys()) == ["a", "b", "c"] and "b" in md and len(md) == 3
    assert [n for n, _ in md.named_parameters()] == ["a.weight", "a.bias", "c.weight", "c.bias"]
    assert isinstance(md.pop("b"), nn.ReLU) and list(md) == ["a", "c"]


def test_repr_strings():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    assert repr(seq) == "Sequential(\n  (0): Linear(in_features=2, out_features=3, bias=True)\n  (1): ReLU()\n)"
    nested = nn.Sequential(nn.Sequential(nn.Linear(1, 1, bias=False)), nn.Dropout(0.2))
    assert repr(nested) == (
        "Sequential(\n  (0): Sequential(\n    (0): Linear(in_features=1, out_features=1, "
        "bias=False)\n  )\n  (1): Dropout(p=0.2, inplace=False)\n)"
    )
    ml = nn.ModuleList([nn.ReLU(), nn.ReLU(), nn.Tanh()])
    assert repr(ml) == "ModuleList(\n  (0-1): 2 x ReLU()\n  (2): Tanh()\n)"
    assert repr(nn.ModuleList()) == "ModuleList()"

    class Custom(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(1, 1)

        def extra_repr(self):
            return "alpha=1"

    assert repr(Custom()) == "Custom(\n  alpha=1\n  (fc): Linear(in_features=1, out_features=1, bias=True)\n)"
    assert repr(nn.Module()) == "Module()"


@pytest.mark.parametrize(
    "module, text",
    [
        (nn.LeakyReLU(0.2, inplace=True), "LeakyReLU(negative_slope=0.2, inplace=True)"),
        (nn.GELU("tanh"), "GELU(approximate='tanh')"),
        (nn.Softmax(dim=-1), "Softmax(dim=-1)"),
        (nn.LogSoftmax(1), "LogSoftmax(dim=1)"),
        (nn.SiLU(), "SiLU()"),
        (nn.Embedding(10, 3, padding_idx=0), "Embedding(10, 3, padding_idx=0)"),
        (nn.LayerNorm([2, 3]), "LayerNorm((2, 3), eps=1e-05, elementwise_affine=True, bias=True)"),
        (
            nn.BatchNorm1d(4, momentum=None),
            "BatchNorm1d(4, eps=1e-05, momentum=None, affine=True, bias=True, track_running_stats=True)",
        ),
        (
            nn.Conv2d(1, 6, 3, padding=1, bias=False),
            "Conv2d(1, 6, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)",
        ),
        (nn.MaxPool2d(2), "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"),
        (nn.Flatten(), "Flatten(start_dim=1, end_dim=-1)"),
        (nn.Unflatten(1, (2, 2)), "Unflatten(dim=1, unflattened_size=(2, 2))"),
        (nn.Bilinear(2, 3, 4), "Bilinear(in1_features=2, in2_features=3, out_features=4, bias=True)"),
        (nn.CrossEntropyLoss(), "CrossEntropyLoss()"),
        (nn.Identity(), "Identity()"),
    ],
)
def test_layer_reprs(module, text):
    assert repr(module) == text


def test_module_without_forward_and_deepcopy():
    with pytest.raises(NotImplementedError, match='missing the required "forward" function'):
        nn.Module()(1)
    net = Net()
    clone = copy.deepcopy(net)
    assert type(clone.linear.weight) is nn.Parameter
    assert clone.linear.weight.data_ptr() != net.linear.weight.data_ptr()
    np.testing.assert_array_equal(np_(clone.linear.weight), np_(net.linear.weight))


# ---------------------------------------------------------------------------------------------------------------------
# layers: forward against numpy, gradients against finite differences


def test_linear_default_init_and_forward():
    ember.manual_seed(0)
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = np_(lin.weight), np_(lin.bias)
    assert w.shape == (300, 400) and b.shape == (300,)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound  # uniform(-b, b) has std b / sqrt(3)
    assert np.abs(b).max() <= bound
    x = arr(5, 400).astype(np.float32)
    np.testing.assert_allclose(np_(lin(ember.tensor(x))), x @ w.T + b, rtol=1e-4, atol=1e-5)
    x3 = ember.randn(2, 3, 400)
    np.testing.assert_allclose(np_(lin(x3)), np_(x3) @ w.T + b, rtol=1e-4, atol=1e-5)
    assert lin(ember.randn(2, 400, requires_grad=True)).grad_fn.name() == "AddmmBackward0"
    check_module_grads(nn.Linear(3, 2), t64(arr(4, 3), True))
    check_module_grads(nn.Linear(3, 2, bias=False), t64(arr(2, 2, 3), True))


def test_bilinear_forward_and_grad():
    m = nn.Bilinear(3, 2, 4).double()
    x1, x2 = arr(5, 3), arr(5, 2)
    ref = np.einsum("ni,oij,nj->no", x1, np_(m.weight), x2) + np_(m.bias)
    np.testing.assert_allclose(np_(m(t64(x1), t64(x2))), ref, rtol=1e-10)
    check_module_grads(m, t64(arr(2, 3), True), t64(arr(2, 2), True))


def _gelu_np(x):
    from math import erf

    return 0.5 * x * (1 + np.vectorize(erf)(x / math.sqrt(2)))


ACTIVATIONS = [
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.LeakyReLU(0.1), lambda x: np.where(x > 0, x, 0.1 * x)),
    (nn.GELU(), _gelu_np),
    (nn.GELU("tanh"), lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))),
    (nn.SiLU(), lambda x: x / (1 + np.exp(-x))),
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    (nn.Tanh(), np.tanh),
    (nn.Softmax(dim=1), lambda x: np.exp(x) / np.exp(x).sum(1, keepdims=True)),
    (nn.LogSoftmax(dim=-1), lambda x: x - np.log(np.exp(x).sum(-1, keepdims=True))),
    (nn.LogSigmoid(), lambda x: -np.log1p(np.exp(-x))),
    (nn.Softplus(), lambda x: np.log1p(np.exp(x))),
    (nn.ELU(), lambda x: np.where(x > 0, x, np.expm1(x))),
    (nn.Hardtanh(), lambda x: np.clip(x, -1, 1)),
    (nn.ReLU6(), lambda x: np.clip(x, 0, 6)),
    (nn.Identity(), lambda x: x),
]


@pytest.mark.parametrize("module, ref", ACTIVATIONS, ids=lambda v: repr(v) if isinstance(v, nn.Module) else "")
def test_activation_forward_and_grad(module, ref):
    x = arr(3, 4) * 2
    x[np.abs(x) < 0.05] = 0.3  # away from kinks
    np.testing.assert_allclose(np_(module(t64(x))), ref(x), rtol=1e-10, atol=1e-12)
    out32 = module(ember.tensor(x, dtype=ember.float32))
    assert out32.dtype == ember.float32
    np.testing.assert_allclose(np_(out32), ref(x), rtol=1e-5, atol=1e-6)
    assert gradcheck(module, (t64(x, True),))


def test_leaky_relu_and_inplace_relu():
    x = ember.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    F.leaky_relu(x, 0.1).sum().backward()
    np.testing.assert_allclose(np_(x.grad), [0.1, 0.1, 1.0])  # slope at 0 is the negative slope, as PyTorch
    y = ember.tensor([-1.0, 2.0])
    assert F.relu(y, inplace=True) is y and y.tolist() == [0.0, 2.0]
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
        F.gelu(y, approximate="fast")


def test_softmax_implicit_dim_warns():
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax has been deprecated"):
        out = F.softmax(ember.randn(2, 3))
    np.testing.assert_allclose(np_(out.sum(1)), [1.0, 1.0], rtol=1e-6)


def test_logsigmoid_is_stable_and_has_the_right_slope_at_zero():
    x = ember.tensor([-1e4, -50.0, 0.0, 50.0, 1e4], requires_grad=True)
    y = F.logsigmoid(x)
    np.testing.assert_allclose(np_(y), [-1e4, -50.0, -math.log(2), -math.exp(-50), 0.0], rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(np_(x.grad), [1.0, 1.0, 0.5, math.exp(-50), 0.0], rtol=1e-6)


def test_dropout_train_and_eval():
    ember.manual_seed(1)
    d = nn.Dropout(0.25)
    x = ember.ones(200, 200)
    y = np_(d(x))
    kept = y != 0
    assert abs(kept.mean() - 0.75) < 0.01
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)
    xg = ember.ones(10, requires_grad=True)
    out = d(xg)
    out.sum().backward()
    np.testing.assert_array_equal(np_(xg.grad), np_(out))  # gradient is the same scaled mask
    d.eval()
    assert d(x) is x
    assert F.dropout(x, 0.5, training=False) is x
    assert not F.dropout(x, 1.0).any().item()
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got"):
            nn.Dropout(p)


def test_flatten_unflatten():
    x = ember.randn(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 2)(x).shape == (24, 5)
    y = nn.Unflatten(1, (3, 20))(nn.Flatten()(x))
    assert y.shape == (2, 3, 20)
    np.testing.assert_array_equal(np_(y), np_(x).reshape(2, 3, 20))
    assert nn.Unflatten(-1, (2, -1))(ember.randn(3, 8)).shape == (3, 2, 4)
    with pytest.raises(TypeError, match="unflattened_size must be tuple of ints"):
        nn.Unflatten(1, (2.0, 3))


def test_embedding_forward_padding_and_grad():
    emb = nn.Embedding(6, 3, padding_idx=2)
    np.testing.assert_array_equal(np_(emb.weight)[2], 0.0)
    idx = ember.tensor([[0, 2, 5], [2, 2, 1]])
    out = emb(idx)
    assert out.shape == (2, 3, 3)
    np.testing.assert_array_equal(np_(out), np_(emb.weight)[np_(idx)])
    (out * ember.arange(3.0)).sum().backward()
    g = np_(emb.weight.grad)
    np.testing.assert_array_equal(g[2], 0.0)  # the padding row gets no gradient
    np.testing.assert_array_equal(g[0], [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(g[3], 0.0)
    m = nn.Embedding(5, 2).double()
    i = ember.tensor([1, 3, 1])
    assert gradcheck(lambda w: m(i), (m.weight,))
    assert nn.Embedding(4, 2, padding_idx=-1).padding_idx == 3
    with pytest.raises(IndexError, match="index out of range in self"):
        emb(ember.tensor([6]))
    with pytest.raises(RuntimeError, match="Expected tensor for argument #1 'indices'"):
        emb(ember.tensor([1.0]))
    frozen = nn.Embedding.from_pretrained(ember.ones(3, 2))
    assert not frozen.weight.requires_grad and frozen(ember.tensor([1])).shape == (1, 2)


def test_embedding_max_norm_renormalises_used_rows():
    w = ember.tensor([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0]])
    out = F.embedding(ember.tensor([0, 1]), w, max_norm=1.0)
    np.testing.assert_allclose(np_(w)[0], [0.6, 0.8], rtol=1e-5)
    np.testing.assert_allclose(np_(w)[1], [0.3, 0.4])
    np.testing.assert_allclose(np_(w)[2], [6.0, 8.0])  # not looked up, not changed
    np.testing.assert_allclose(np_(out), np_(w)[:2])


def test_layer_norm_forward_and_grad():
    ln = nn.LayerNorm((3, 4)).double()
    with ember.no_grad():
        ln.weight.copy_(t64(arr(3, 4)))
        ln.bias.copy_(t64(arr(3, 4)))
    x = arr(2, 3, 4)
    mu = x.mean((1, 2), keepdims=True)
    var = x.var((1, 2), keepdims=True)
    ref = (x - mu) / np.sqrt(var + 1e-5) * np_(ln.weight) + np_(ln.bias)
    np.testing.assert_allclose(np_(ln(t64(x))), ref, rtol=1e-10, atol=1e-12)
    check_module_grads(ln, t64(arr(2, 3, 4), True))
    check_module_grads(nn.LayerNorm(4, elementwise_affine=False), t64(arr(3, 4), True))
    with pytest.raises(
        RuntimeError,
        match=r"Given normalized_shape=\[3\], expected input with shape \[\*, 3\], "
        r"but got input of size\[3, 4\]",
    ):
        F.layer_norm(ember.randn(3, 4), (3,))


def test_batch_norm_training_running_stats_and_eval():
    bn = nn.BatchNorm1d(3, momentum=0.2).double()
    x = arr(8, 3) * 3 + 1
    out = np_(bn(t64(x)))
    ref = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5)
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np_(bn.running_mean), 0.2 * x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(np_(bn.running_var), 0.8 + 0.2 * x.var(0, ddof=1), rtol=1e-12)
    assert bn.num_batches_tracked.item() == 1
    bn.eval()
    y = arr(4, 3)
    ref = (y - np_(bn.running_mean)) / np.sqrt(np_(bn.running_var) + 1e-5)
    np.testing.assert_allclose(np_(bn(t64(y))), ref, rtol=1e-10)
    assert bn.num_batches_tracked.item() == 1  # eval does not count


def test_batch_norm_3d_input_cumulative_momentum_and_no_tracking():
    bn = nn.BatchNorm1d(2, momentum=None).double()
    xs = [arr(4, 2, 5) for _ in range(3)]
    for x in xs:
        bn(t64(x))
    mean_of_means = np.mean([x.mean((0, 2)) for x in xs], axis=0)
    np.testing.assert_allclose(np_(bn.running_mean), mean_of_means, rtol=1e-10)
    free = nn.BatchNorm1d(2, affine=False, track_running_stats=False)
    assert free.running_mean is None and list(free.state_dict()) == [] and list(free.parameters()) == []
    free.eval()
    x = arr(6, 2)
    np.testing.assert_allclose(np_(free(ember.tensor(x))), (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5), rtol=1e-4)
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        bn(ember.randn(2, 2, 2, 2))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        nn.BatchNorm1d(3)(ember.randn(1, 3))


def test_batch_norm_gradients():
    bn = nn.BatchNorm1d(3)
    with ember.no_grad():
        bn.weight.copy_(ember.tensor(arr(3)))
        bn.bias.copy_(ember.tensor(arr(3)))
    check_module_grads(bn, t64(arr(5, 3), True))
    check_module_grads(nn.BatchNorm2d(2), t64(arr(2, 2, 2, 3), True))
    bn.eval()
    check_module_grads(bn, t64(arr(4, 3), True))


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (3, 3, 4, 5), (2, 3, 2, 3, 2)])
def test_fused_batch_norm_matches_numpy_and_second_derivatives(shape):
    # Note [Fused batch norm]: training mode is one kernel and one NativeBatchNormBackward0 node, as PyTorch's
    x = arr(*shape) * 2 + 0.5
    w, b = arr(3), arr(3)
    axes = (0,) + tuple(range(2, len(shape)))
    view = (1, 3) + (1,) * (len(shape) - 2)
    ref = (x - x.mean(axes, keepdims=True)) / np.sqrt(x.var(axes, keepdims=True) + 1e-5) * w.reshape(view)
    xt, wt, bt = t64(x, True), t64(w, True), t64(b, True)
    out = F.batch_norm(xt, None, None, wt, bt, training=True)
    assert type(out.grad_fn).__name__ == "NativeBatchNormBackward0"
    np.testing.assert_allclose(np_(out), ref + b.reshape(view), rtol=1e-10, atol=1e-12)
    f = lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True)  # noqa: E731
    assert ember.autograd.gradcheck(f, (xt, wt, bt)) and ember.autograd.gradgradcheck(f, (xt, wt, bt))
    # an in-place op on the output (a ResNet's ReLU(inplace=True)) keeps the gradient right
    y = F.relu(F.batch_norm(xt, None, None, wt, bt, training=True), inplace=True)
    (gx,) = ember.autograd.grad(y.sum(), xt)
    (expected,) = ember.autograd.grad(F.relu(f(xt, wt, bt)).sum(), xt)
    np.testing.assert_allclose(np_(gx), np_(expected), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape", [(0, 3), (0, 3, 4, 4), (2, 3, 0, 4)])
def test_batch_norm_of_an_empty_batch_is_empty_and_keeps_running_stats(shape):
    # as PyTorch: an empty output, zero gradients for weight and bias, running statistics untouched
    bn = nn.BatchNorm1d(3) if len(shape) == 2 else nn.BatchNorm2d(3)
    x = ember.randn(*shape, requires_grad=True)
    out = bn(x)
    out.sum().backward()
    assert out.shape == shape and x.grad.shape == shape
    assert bn.weight.grad.tolist() == [0.0] * 3 and bn.bias.grad.tolist() == [0.0] * 3
    assert bn.running_mean.tolist() == [0.0] * 3 and bn.running_var.tolist() == [1.0] * 3
    with pytest.raises(RuntimeError, match="running_mean should contain 3 elements not 4"):
        nn.BatchNorm2d(4)(ember.randn(2, 3, 2, 2))


def _conv_np(x, w, b, stride, padding):
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    ho, wo = (h + 2 * padding - kh) // stride + 1, (wd + 2 * padding - kw) // stride + 1
    out = np.zeros((n, o, ho, wo))
    for i in range(ho):
        for j in range(wo):
            patch = xp[:, :, i * stride : i * stride + kh, j * stride : j * stride + kw]
            out[:, :, i, j] = np.einsum("nckl,ockl->no", patch, w)
    return out + b[None, :, None, None]


def test_conv2d_module_forward_init_and_grad():
    conv = nn.Conv2d(2, 3, 3, stride=2, padding=1).double()
    bound = 1 / math.sqrt(2 * 9)
    assert np.abs(np_(conv.weight)).max() <= bound and np.abs(np_(conv.bias)).max() <= bound
    x = arr(2, 2, 7, 6)
    np.testing.assert_allclose(np_(conv(t64(x))), _conv_np(x, np_(conv.weight), np_(conv.bias), 2, 1), rtol=1e-10)
    check_module_grads(nn.Conv2d(2, 2, 2), t64(arr(1, 2, 4, 4), True))
    same = nn.Conv2d(1, 1, (2, 3), padding="same")
    assert same(ember.randn(1, 1, 5, 6)).shape == (1, 1, 5, 6)
    assert nn.Conv2d(1, 1, 3, padding="valid")(ember.randn(1, 1, 5, 6)).shape == (1, 1, 3, 4)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 2, 3, groups=2)


def test_conv2d_same_padding_matches_explicit_pad():
    x = ember.randn(1, 2, 5, 5, dtype=ember.float64)
    w = ember.randn(3, 2, 2, 2, dtype=ember.float64)
    same = F.conv2d(x, w, padding="same")
    explicit = F.conv2d(F.pad(x, (0, 1, 0, 1)), w)  # even kernel: the extra row/column goes bottom/right
    np.testing.assert_allclose(np_(same), np_(explicit), rtol=1e-12)


def test_max_pool2d_module():
    pool = nn.MaxPool2d(2)
    x = arr(2, 3, 4, 6)
    ref = x.reshape(2, 3, 2, 2, 3, 2).max(axis=(3, 5))
    np.testing.assert_array_equal(np_(pool(t64(x))), ref)
    xe = t64(arr(1, 1, 4, 4), True)
    assert gradcheck(nn.MaxPool2d(3, 1, 1), (xe,))
    values, indices = nn.MaxPool2d(2, return_indices=True)(t64(x))
    np.testing.assert_array_equal(np_(values), ref)
    flat = x.reshape(2, 3, 24)
    np.testing.assert_array_equal(np.take_along_axis(flat, np_(indices).reshape(2, 3, -1), 2).reshape(ref.shape), ref)


def test_small_cnn_trains_end_to_end():
    ember.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 3)
    )
    x = ember.randn(6, 1, 8, 8)
    t = ember.tensor([0, 1, 2, 0, 1, 2])
    losses = []
    for _ in range(30):
        net.zero_grad()
        loss = F.cross_entropy(net(x), t)
        loss.backward()
        with ember.no_grad():
            for p in net.parameters():
                p.sub_(p.grad * 0.1)
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


# ---------------------------------------------------------------------------------------------------------------------
# functional utilities


def test_one_hot():
    out = F.one_hot(ember.tensor([0, 2, 1]))
    assert out.dtype == ember.int64
    np.testing.assert_array_equal(np_(out), np.eye(3, dtype=np.int64)[[0, 2, 1]])
    assert F.one_hot(ember.tensor([[1], [0]]), 4).shape == (2, 1, 4)
    with pytest.raises(RuntimeError, match="Class values must be non-negative."):
        F.one_hot(ember.tensor([-1, 0]))
    with pytest.raises(RuntimeError, match="Class values must be smaller than num_classes."):
        F.one_hot(ember.tensor([3]), 2)
    with pytest.raises(RuntimeError, match="one_hot is only applicable to index tensor"):
        F.one_hot(ember.tensor([1.0]))


def test_pad_constant_and_negative():
    x = arr(2, 3, 4)
    out = F.pad(t64(x), (1, 2, 0, 1), value=5.0)
    np.testing.assert_array_equal(np_(out), np.pad(x, ((0, 0), (0, 1), (1, 2)), constant_values=5.0))
    crop = F.pad(t64(x), (-1, 1))
    np.testing.assert_array_equal(np_(crop), np.pad(x[:, :, 1:], ((0, 0), (0, 0), (0, 1))))
    assert gradcheck(lambda a: F.pad(a, (1, 1, 2, 0)), (t64(arr(2, 3), True),))
    with pytest.raises(RuntimeError, match="Padding length must be divisible by 2"):
        F.pad(t64(x), (1,))
    with pytest.raises(NotImplementedError, match="Unrecognised padding mode wrap"):
        F.pad(t64(x), (1, 1), mode="wrap")


# ---------------------------------------------------------------------------------------------------------------------
# losses


def _reduce_np(loss, reduction):
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def _softplus_np(x):
    return np.logaddexp(0, x)


REDUCTIONS = ["mean", "sum", "none"]

ELEMENTWISE_LOSSES = [
    ("mse", nn.MSELoss, F.mse_loss, lambda x, y: (x - y) ** 2, {}),
    ("l1", nn.L1Loss, F.l1_loss, lambda x, y: np.abs(x - y), {}),
    (
        "huber",
        nn.HuberLoss,
        F.huber_loss,
        lambda x, y: np.where(np.abs(x - y) < 0.7, 0.5 * (x - y) ** 2, 0.7 * (np.abs(x - y) - 0.35)),
        {"delta": 0.7},
    ),
    (
        "smooth_l1",
        nn.SmoothL1Loss,
        F.smooth_l1_loss,
        lambda x, y: np.where(np.abs(x - y) < 0.5, (x - y) ** 2 / 1.0, np.abs(x - y) - 0.25),
        {"beta": 0.5},
    ),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, module, fn, ref, opts", ELEMENTWISE_LOSSES, ids=[c[0] for c in ELEMENTWISE_LOSSES])
def test_elementwise_losses(name, module, fn, ref, opts, reduction):
    x, y = arr(3, 4), arr(3, 4)
    want = _reduce_np(ref(x, y), reduction)
    np.testing.assert_allclose(np_(fn(t64(x), t64(y), reduction=reduction, **opts)), want, rtol=1e-10)
    np.testing.assert_allclose(np_(module(reduction=reduction, **opts)(t64(x), t64(y))), want, rtol=1e-10)
    assert gradcheck(lambda a, b: fn(a, b, reduction=reduction, **opts), (t64(x, True), t64(y, True)))


def test_elementwise_loss_shape_warning_weight_and_errors():
    with pytest.warns(UserWarning, match="Using a target size"):
        F.mse_loss(ember.randn(3, 4), ember.randn(4))
    with pytest.raises(RuntimeError, match="must match the size of tensor b"), pytest.warns(UserWarning):
        F.l1_loss(ember.randn(3, 4), ember.randn(5))
    with pytest.raises(ValueError, match="foo is not a valid value for reduction"):
        F.mse_loss(ember.randn(2), ember.randn(2), reduction="foo")
    with pytest.raises(ValueError, match="foo is not a valid value for reduction"):
        nn.L1Loss(reduction="foo")(ember.randn(2), ember.randn(2))
    x, y, w = arr(5), arr(5), arr(5, low=0.1, high=1)
    np.testing.assert_allclose(
        F.mse_loss(t64(x), t64(y), weight=t64(w)).item(), ((x - y) ** 2 * w).sum() / w.sum(), rtol=1e-12
    )
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        assert F.mse_loss(t64(x), t64(y), size_average=False).item() == pytest.approx(((x - y) ** 2).sum())


def _log_softmax_np(x, axis):
    m = x.max(axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis, keepdims=True))


def _ce_np(x, t, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """Cross entropy with class indices, classes on axis 1 (PyTorch's definition)."""
    logp = _log_softmax_np(x, 1)
    c = x.shape[1]
    w = np.ones(c) if weight is None else weight
    keep = t != ignore_index
    safe = np.where(keep, t, 0)
    picked = np.take_along_axis(logp, safe[:, None], 1)[:, 0]
    wt = w[safe] * keep
    nll = -picked * wt
    smooth = -(logp * w.reshape([1, c] + [1] * (x.ndim - 2))).sum(1) * keep
    if reduction == "mean":
        nll, smooth = nll.sum() / wt.sum(), smooth.sum() / wt.sum()
    elif reduction == "sum":
        nll, smooth = nll.sum(), smooth.sum()
    return (1 - label_smoothing) * nll + label_smoothing / c * smooth


CE_CASES = [
    dict(),
    dict(weight=True),
    dict(ignore_index=1),
    dict(label_smoothing=0.2),
    dict(weight=True, ignore_index=0, label_smoothing=0.1),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CE_CASES, ids=lambda c: "-".join(c) or "plain")
def test_cross_entropy_class_indices(case, reduction):
    x = arr(6, 4)
    t = np.array([0, 3, 1, 1, 2, 0])
    w = arr(4, low=0.2, high=1.5) if case.get("weight") else None
    opts = {k: v for k, v in case.items() if k != "weight"}
    want = _ce_np(x, t, w, reduction=reduction, **opts)
    wt = None if w is None else t64(w)
    got = F.cross_entropy(t64(x), ember.tensor(t), wt, reduction=reduction, **opts)
    np.testing.assert_allclose(np_(got), want, rtol=1e-10, atol=1e-12)
    module = nn.CrossEntropyLoss(weight=wt, reduction=reduction, **opts)
    np.testing.assert_allclose(np_(module(t64(x), ember.tensor(t))), want, rtol=1e-10, atol=1e-12)
    assert gradcheck(lambda a: F.cross_entropy(a, ember.tensor(t), wt, reduction=reduction, **opts), (t64(x, True),))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_spatial_and_unbatched(reduction):
    x = arr(2, 3, 4, 2)
    t = rng.integers(0, 3, size=(2, 4, 2))
    t[0, 0, 0] = -100
    got = F.cross_entropy(t64(x), ember.tensor(t), reduction=reduction)
    want = _ce_np(np.moveaxis(x, 1, -1).reshape(-1, 3), t.reshape(-1), reduction=reduction)
    np.testing.assert_allclose(np_(got), want.reshape(t.shape) if reduction == "none" else want, rtol=1e-10)
    assert gradcheck(
        lambda a: F.cross_entropy(a, ember.tensor(t), reduction=reduction, label_smoothing=0.1), (t64(x, True),)
    )
    v = arr(5)
    one = F.cross_entropy(t64(v), ember.tensor(2), reduction=reduction)
    assert one.shape == ()
    np.testing.assert_allclose(one.item(), -_log_softmax_np(v, 0)[2], rtol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_class_probabilities(reduction, weighted):
    x = arr(4, 5)
    p = rng.random((4, 5))
    p /= p.sum(1, keepdims=True)
    w = arr(5, low=0.5, high=2.0) if weighted else np.ones(5)
    per = -(_log_softmax_np(x, 1) * p * w).sum(1)
    want = per.mean() if reduction == "mean" else per.sum() if reduction == "sum" else per
    wt = t64(w) if weighted else None
    got = F.cross_entropy(t64(x), t64(p), weight=wt, reduction=reduction)
    np.testing.assert_allclose(np_(got), want, rtol=1e-10)
    assert gradcheck(
        lambda a, b: F.cross_entropy(a, b, weight=wt, reduction=reduction, label_smoothing=0.3),
        (t64(x, True), t64(p, True)),
    )
    ls = F.cross_entropy(t64(x), t64(p), reduction="sum", label_smoothing=0.3).item()
    assert ls == pytest.approx(-(_log_softmax_np(x, 1) * (p * 0.7 + 0.3 / 5)).sum(), rel=1e-10)


def test_cross_entropy_errors():
    x = ember.randn(3, 4)
    with pytest.raises(ValueError, match=r"Expected input batch_size \(3\) to match target batch_size \(2\)."):
        F.cross_entropy(x, ember.tensor([0, 1]))
    with pytest.raises(IndexError, match="Target 4 is out of bounds."):
        F.cross_entropy(x, ember.tensor([0, 1, 4]))
    with pytest.raises(RuntimeError, match="Expected floating point type for target with class probabilities"):
        F.cross_entropy(x, ember.ones(3, 4, dtype=ember.int64))
    with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0. Got: 1.5"):
        F.cross_entropy(x, ember.tensor([0, 1, 2]), label_smoothing=1.5)
    with pytest.raises(RuntimeError, match="weight tensor should be defined either for all 4 classes"):
        F.cross_entropy(x, ember.tensor([0, 1, 2]), weight=ember.ones(3))
    with pytest.raises(RuntimeError, match=r"Expected target size \[2, 4\], got \[2, 5\]"):
        F.cross_entropy(ember.randn(2, 3, 4), ember.zeros(2, 5, dtype=ember.int64))
    with pytest.raises(RuntimeError, match="expected target dtype to be Long"):
        F.cross_entropy(x, ember.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="bad is not a valid value for reduction"):
        F.cross_entropy(x, ember.tensor([0, 1, 2]), reduction="bad")


def test_cross_entropy_is_stable_for_huge_logits():
    x = ember.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], requires_grad=True)
    loss = F.cross_entropy(x, ember.tensor([1, 0]))
    assert loss.dtype == ember.float32 and math.isfinite(loss.item())
    assert loss.item() == pytest.approx((2e4 + (2e4 + math.log(2))) / 2, rel=1e-6)
    loss.backward()
    g = np_(x.grad)
    assert np.isfinite(g).all()
    # log_softmax subtracts the max before adding log(sum): no rounding of log(2) at 1e4's spacing (1e-3)
    np.testing.assert_allclose(g, [[0.5, -0.5, 0.0], [-0.5, 0.25, 0.25]], atol=1e-7)
    assert loss.grad_fn.name() == "NllLossBackward0"


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss(reduction):
    logp = _log_softmax_np(arr(5, 3), 1)
    t = np.array([2, 0, -100, 1, 2])
    w = arr(3, low=0.5, high=1.5)
    keep = t != -100
    safe = np.where(keep, t, 0)
    per = -logp[np.arange(5), safe] * w[safe] * keep
    want = per.sum() / (w[safe] * keep).sum() if reduction == "mean" else _reduce_np(per, reduction)
    got = nn.NLLLoss(weight=t64(w), reduction=reduction)(t64(logp), ember.tensor(t))
    np.testing.assert_allclose(np_(got), want, rtol=1e-12)
    assert gradcheck(lambda a: F.nll_loss(a, ember.tensor(t), t64(w), reduction=reduction), (t64(logp, True),))
    all_ignored = F.nll_loss(t64(logp), ember.tensor([-100] * 5))
    assert math.isnan(all_ignored.item())


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy(reduction, weighted):
    p = arr(3, 4, low=0.05, high=0.95)
    y = rng.random((3, 4))
    w = arr(3, 4, low=0.5, high=2.0) if weighted else np.ones((3, 4))
    per = -(y * np.log(p) + (1 - y) * np.log(1 - p)) * w
    wt = t64(w) if weighted else None
    got = nn.BCELoss(weight=wt, reduction=reduction)(t64(p), t64(y))
    np.testing.assert_allclose(np_(got), _reduce_np(per, reduction), rtol=1e-10)
    assert gradcheck(lambda a, b: F.binary_cross_entropy(a, b, wt, reduction=reduction), (t64(p, True), t64(y, True)))


def test_binary_cross_entropy_edges_and_errors():
    out = F.binary_cross_entropy(ember.tensor([0.0, 1.0]), ember.tensor([0.0, 1.0]), reduction="none")
    np.testing.assert_array_equal(np_(out), [0.0, 0.0])  # 0 * log(0) is 0, not nan
    out = F.binary_cross_entropy(ember.tensor([0.0]), ember.tensor([1.0]))
    assert out.item() == 100.0  # log clamped at -100, as PyTorch
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(ember.tensor([1.5]), ember.tensor([1.0]))
    with pytest.raises(ValueError, match="Using a target size .* that is different to the input size"):
        F.binary_cross_entropy(ember.rand(3, 4), ember.rand(4))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "opts",
    [{}, {"weight": True}, {"pos_weight": True}, {"weight": True, "pos_weight": True}],
    ids=lambda o: "-".join(o) or "plain",
)
def test_binary_cross_entropy_with_logits(reduction, opts):
    x, y = arr(3, 4) * 3, rng.random((3, 4))
    w = arr(3, 4, low=0.5, high=2.0) if opts.get("weight") else np.ones((3, 4))
    pw = arr(4, low=0.5, high=3.0) if opts.get("pos_weight") else np.ones(4)
    per = ((1 - y) * x + (1 + (pw - 1) * y) * _softplus_np(-x)) * w
    wt = t64(w) if opts.get("weight") else None
    pwt = t64(pw) if opts.get("pos_weight") else None
    got = nn.BCEWithLogitsLoss(weight=wt, reduction=reduction, pos_weight=pwt)(t64(x), t64(y))
    np.testing.assert_allclose(np_(got), _reduce_np(per, reduction), rtol=1e-10)
    assert gradcheck(
        lambda a, b: F.binary_cross_entropy_with_logits(a, b, wt, reduction=reduction, pos_weight=pwt),
        (t64(x, True), t64(y, True)),
    )


def test_binary_cross_entropy_with_logits_stable_and_errors():
    x = ember.tensor([1e4, -1e4, 1e4, -1e4, 0.0], requires_grad=True)
    y = ember.tensor([1.0, 0.0, 0.0, 1.0, 1.0])
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    np.testing.assert_allclose(np_(loss), [0.0, 0.0, 1e4, 1e4, math.log(2)], rtol=1e-6)
    loss.sum().backward()
    np.testing.assert_allclose(np_(x.grad), [0.0, 0.0, 1.0, -1.0, -0.5], atol=1e-6)  # sigmoid(x) - y
    with pytest.raises(ValueError, match=r"Target size \(ember.Size\(\[4\]\)\) must be the same as input size"):
        F.binary_cross_entropy_with_logits(ember.randn(3, 4), ember.rand(4))


def test_loss_modules_register_weight_buffers():
    w = ember.ones(3)
    ce = nn.CrossEntropyLoss(weight=w)
    assert ce.weight is w and list(ce.state_dict()) == ["weight"]
    assert list(nn.BCEWithLogitsLoss(pos_weight=ember.ones(2)).state_dict()) == ["pos_weight"]
    assert list(nn.MSELoss().state_dict()) == []
    ce.double()
    assert ce.weight.dtype == ember.float64


def test_losses_gradgrad():
    x = t64(arr(3, 4), True)
    t = ember.tensor([0, 3, 1])
    assert gradgradcheck(lambda a: F.cross_entropy(a, t, label_smoothing=0.1), (x,))
    y, pw = ember.rand(3, 4, dtype=ember.float64), t64(arr(4, low=0.5))
    assert gradgradcheck(lambda a: F.binary_cross_entropy_with_logits(a, y, pos_weight=pw), (x,))


# ---------------------------------------------------------------------------------------------------------------------
# init


def test_calculate_gain_and_fans():
    assert nn.init.calculate_gain("linear") == 1 and nn.init.calculate_gain("conv2d") == 1
    assert nn.init.calculate_gain("sigmoid") == 1
    assert nn.init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert nn.init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert nn.init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert nn.init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert nn.init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="Unsupported nonlinearity foo"):
        nn.init.calculate_gain("foo")
    with pytest.raises(ValueError, match="negative_slope True not a valid number"):
        nn.init.calculate_gain("leaky_relu", True)
    assert nn.init._calculate_fan_in_and_fan_out(ember.empty(5, 3)) == (3, 5)
    assert nn.init._calculate_fan_in_and_fan_out(ember.empty(8, 4, 3, 2)) == (24, 48)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init._calculate_fan_in_and_fan_out(ember.empty(3))


def test_init_functions_statistics():
    ember.manual_seed(0)
    w = nn.Parameter(ember.empty(300, 200))
    assert nn.init.uniform_(w, -0.5, 1.5) is w
    a = np_(w)
    assert a.min() >= -0.5 and a.max() <= 1.5 and abs(a.mean() - 0.5) < 0.01
    assert w.grad_fn is None and w.is_leaf  # under no_grad, in place
    nn.init.normal_(w, 2.0, 0.5)
    assert abs(np_(w).mean() - 2.0) < 0.01 and abs(np_(w).std() - 0.5) < 0.01
    nn.init.constant_(w, 0.3)
    assert (np_(w) == np.float32(0.3)).all()
    nn.init.ones_(w)
    assert (np_(w) == 1).all()
    nn.init.zeros_(w)
    assert (np_(w) == 0).all()
    std = math.sqrt(2 / 500)
    nn.init.xavier_uniform_(w)
    assert np.abs(np_(w)).max() <= math.sqrt(3) * std and abs(np_(w).std() - std) < 0.02 * std
    nn.init.xavier_normal_(w, gain=2.0)
    assert abs(np_(w).std() - 2 * std) < 0.02 * 2 * std
    nn.init.kaiming_uniform_(w, a=0, nonlinearity="relu")
    bound = math.sqrt(2) * math.sqrt(3 / 200)
    assert np.abs(np_(w)).max() <= bound and np.abs(np_(w)).max() > 0.99 * bound
    nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    assert abs(np_(w).std() - math.sqrt(2 / 300)) < 0.02 * math.sqrt(2 / 300)
    with pytest.raises(ValueError, match="Mode fan_avg not supported, please use one of"):
        nn.init.kaiming_uniform_(w, mode="fan_avg")
    e = ember.empty(3, 4)
    nn.init.eye_(e)
    np.testing.assert_array_equal(np_(e), np.eye(3, 4))


def test_truncated_orthogonal_dirac_and_sparse_init():
    ember.manual_seed(0)
    w = nn.Parameter(ember.empty(500, 400))
    assert nn.init.trunc_normal_(w, 0.5, 2.0, -1.0, 3.0) is w and w.is_leaf
    a = np_(w)
    # a normal N(0.5, 2^2) cut to [-1, 3]: its mean is mu + sigma (phi(alpha) - phi(beta)) / Z
    alpha, beta = (-1 - 0.5) / 2, (3 - 0.5) / 2
    phi = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda x: (1 + math.erf(x / math.sqrt(2))) / 2  # noqa: E731
    assert a.min() >= -1 and a.max() <= 3
    assert abs(a.mean() - (0.5 + 2 * (phi(alpha) - phi(beta)) / (cdf(beta) - cdf(alpha)))) < 0.01
    for shape in [(6, 3, 2, 2), (12, 5), (4, 9)]:
        q = nn.init.orthogonal_(ember.empty(*shape, dtype=ember.float64), gain=2.0)
        m = np_(q).reshape(shape[0], -1)
        gram = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m  # the shorter side is orthonormal, times gain
        np.testing.assert_allclose(gram, 4 * np.eye(len(gram)), atol=1e-12)
    with pytest.raises(ValueError, match="Only tensors with 2 or more dimensions are supported"):
        nn.init.orthogonal_(ember.empty(3))
    # dirac: a convolution with it keeps the input's channels (per group)
    d = nn.init.dirac_(ember.empty(4, 2, 3, 3), groups=2)
    x = ember.randn(1, 4, 5, 5)
    np.testing.assert_array_equal(np_(F.conv2d(x, d, padding=1, groups=2)), np_(x))
    with pytest.raises(ValueError, match="dim 0 must be divisible by groups"):
        nn.init.dirac_(ember.empty(3, 3, 3), groups=2)
    sp = nn.init.sparse_(ember.empty(10, 6), sparsity=0.3)
    assert ((np_(sp) == 0).sum(0) == 3).all() and abs(np_(sp)).max() < 0.1
    with pytest.warns(FutureWarning, match="`nn.init.xavier_uniform` is now deprecated in favor of"):
        nn.init.xavier_uniform(ember.empty(3, 3))


def test_init_generator_reproducible():
    g1, g2 = ember.Generator().manual_seed(7), ember.Generator().manual_seed(7)
    a = nn.init.normal_(ember.empty(4), generator=g1)
    b = nn.init.normal_(ember.empty(4), generator=g2)
    np.testing.assert_array_equal(np_(a), np_(b))


# ---------------------------------------------------------------------------------------------------------------------
# utils


def _params_with_grads(grads):
    ps = []
    for g in grads:
        p = nn.Parameter(ember.zeros(*np.shape(g), dtype=ember.float64))
        p.grad = t64(g)
        ps.append(p)
    return ps


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf"), 3.0])
def test_clip_grad_norm(norm_type):
    grads = [arr(3, 4), arr(5)]
    flat = np.concatenate([g.ravel() for g in grads])
    total = np.abs(flat).max() if math.isinf(norm_type) else (np.abs(flat) ** norm_type).sum() ** (1 / norm_type)
    ps = _params_with_grads(grads)
    norm = nn.utils.clip_grad_norm_(ps, max_norm=total / 4, norm_type=norm_type)
    assert isinstance(norm, ember.Tensor) and norm.shape == ()
    assert norm.item() == pytest.approx(total, rel=1e-10)
    coef = (total / 4) / (total + 1e-6)
    for p, g in zip(ps, grads):
        np.testing.assert_allclose(np_(p.grad), g * coef, rtol=1e-10)
    ps = _params_with_grads(grads)
    nn.utils.clip_grad_norm_(iter(ps), max_norm=total * 2, norm_type=norm_type)  # under the limit: unchanged
    for p, g in zip(ps, grads):
        np.testing.assert_allclose(np_(p.grad), g, rtol=1e-12)


def test_clip_grad_norm_edge_cases():
    assert nn.utils.clip_grad_norm_([nn.Parameter(ember.ones(2))], 1.0).item() == 0.0  # no grads
    p = _params_with_grads([np.array([3.0, 4.0])])[0]
    assert nn.utils.clip_grad_norm_(p, 1.0).item() == pytest.approx(5.0)  # a single tensor
    bad = _params_with_grads([np.array([np.inf, 1.0])])
    with pytest.raises(RuntimeError, match="The total norm of order 2.0 for gradients from `parameters` is non-finite"):
        nn.utils.clip_grad_norm_(bad, 1.0, error_if_nonfinite=True)
    with pytest.warns(UserWarning, match="empty generator"):
        nn.utils.clip_grad_norm_((p for p in []), 1.0)


def test_clip_grad_value_and_vector_conversion():
    ps = _params_with_grads([np.array([-3.0, 0.5, 2.0]), np.array([[0.1, -0.2]])])
    nn.utils.clip_grad_value_(ps, 1.0)
    np.testing.assert_array_equal(np_(ps[0].grad), [-1.0, 0.5, 1.0])
    np.testing.assert_array_equal(np_(ps[1].grad), [[0.1, -0.2]])
    lin = nn.Linear(3, 2)
    vec = nn.utils.parameters_to_vector(lin.parameters())
    assert vec.shape == (8,)
    np.testing.assert_array_equal(np_(vec), np.concatenate([np_(lin.weight).ravel(), np_(lin.bias)]))
    nn.utils.vector_to_parameters(ember.arange(8.0), lin.parameters())
    np.testing.assert_array_equal(np_(lin.weight), np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(np_(lin.bias), [6.0, 7.0])
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        nn.utils.vector_to_parameters([1.0], lin.parameters())


def test_import_ember_as_torch_training_loop():
    torch = ember
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    loss_fn = torch.nn.MSELoss()
    x = torch.randn(32, 4)
    y = x.sum(1, keepdim=True)
    first = None
    for _ in range(100):
        model.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        with torch.no_grad():
            for p in model.parameters():
                p -= 0.05 * p.grad
        first = first if first is not None else loss.item()
    assert loss.item() < 0.2 * first
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.eval()(x)


@pytest.mark.parametrize(
    "fn",
    [
        lambda x, inplace: F.relu(x, inplace=inplace),
        lambda x, inplace: F.leaky_relu(x, 0.2, inplace=inplace),
        lambda x, inplace: F.silu(x, inplace=inplace),
        lambda x, inplace: F.elu(x, 0.5, inplace=inplace),
        lambda x, inplace: F.hardtanh(x, -0.5, 0.5, inplace=inplace),
        lambda x, inplace: nn.ReLU(inplace=inplace)(x),
    ],
)
def test_inplace_activations_on_non_leaf_give_the_same_gradient(fn):
    a = t64(arr(3, 4), True)
    fn(a * 1.0, False).square().sum().backward()
    want = np_(a.grad)
    a.grad = None
    h = a * 1.0
    out = fn(h, True)
    assert out is h
    out.square().sum().backward()
    np.testing.assert_allclose(np_(a.grad), want, rtol=1e-12)


def test_inplace_dropout_on_non_leaf():
    ember.manual_seed(3)
    a = ember.ones(50, requires_grad=True)
    h = a * 2.0
    out = F.dropout(h, 0.5, inplace=True)
    assert out is h
    out.sum().backward()
    np.testing.assert_array_equal(np_(a.grad), np_(out))  # d out / d a = 2 * mask / 0.5, and out = 2 * mask / 0.5


def test_to_dtype_after_backward_while_the_old_graph_is_alive():
    lin = nn.Linear(3, 2)
    loss = lin(ember.randn(4, 3)).sum()
    loss.backward()  # `loss` keeps the graph, and the weight's AccumulateGrad, alive
    lin.double()
    lin.zero_grad()
    lin(ember.randn(4, 3, dtype=ember.float64)).sum().backward()
    assert lin.weight.grad.dtype == ember.float64


def test_forward_hooks_with_kwargs_always_call_and_global():
    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            if factor < 0:
                raise ValueError("negative")
            return x * factor

    m = Scale()
    m.register_forward_pre_hook(
        lambda mod, args, kwargs: (args, {"factor": kwargs.get("factor", 1.0) * 2}), with_kwargs=True
    )
    seen = []
    m.register_forward_hook(
        lambda mod, args, kwargs, out: seen.append((kwargs["factor"], out)), with_kwargs=True, always_call=True
    )
    assert m(ember.tensor(3.0), factor=2.0).item() == 12.0
    assert seen[-1][0] == 4.0
    with pytest.raises(ValueError, match="negative"):
        m(ember.tensor(1.0), factor=-1.0)
    assert seen[-1] == (-2.0, None)  # the always_call hook ran although forward raised
    calls = []
    handle = nn.modules.module.register_module_forward_hook(lambda mod, args, out: calls.append(type(mod).__name__))
    try:
        nn.Sequential(nn.ReLU())(ember.ones(1))
    finally:
        handle.remove()
    nn.ReLU()(ember.ones(1))
    assert calls == ["ReLU", "Sequential"]


def test_threshold_values_gradient_and_module():
    x = np.array([-1.0, 0.1, 0.2, 3.0])
    t = ember.tensor(x, requires_grad=True)
    out = nn.functional.threshold(t, 0.1, 20.0)
    np.testing.assert_array_equal(out.detach().numpy(), np.where(x > 0.1, x, 20.0))
    away = ember.tensor([-1.0, 0.05, 0.2, 3.0], dtype=ember.float64, requires_grad=True)  # not at the step
    assert ember.autograd.gradcheck(lambda v: nn.functional.threshold(v, 0.1, 20.0), (away,))
    m = nn.Threshold(0.1, 20.0, inplace=True)
    assert repr(m) == "Threshold(threshold=0.1, value=20.0, inplace=True)"
    y = ember.tensor(x)
    assert m(y) is y and y.tolist() == np.where(x > 0.1, x, 20.0).tolist()


def test_a_tensor_flagged_is_param_counts_as_a_parameter():
    """Parameter's metaclass, as PyTorch's: isinstance(t, Parameter) for a tensor with _is_param set."""
    t = ember.ones(2)
    assert not isinstance(t, nn.Parameter)
    t._is_param = True
    assert isinstance(t, nn.Parameter) and not isinstance(ember.ones(1), nn.Parameter)
    assert isinstance(nn.Parameter(ember.ones(1)), nn.Parameter)
    assert type(nn.Parameter) is nn.parameter._ParameterMeta and issubclass(
        nn.parameter._ParameterMeta, type(ember.Tensor)
    )
