"""ember.fx (torch.fx): symbolic tracing into a Graph, the GraphModule that runs its generated code,
graph editing, Interpreter, Transformer and ShapeProp (Note [FX graphs]). Traced modules are checked
against the modules themselves, and against PyTorch's own torch.fx where PyTorch is importable."""

import copy
import operator
import pickle

import numpy as np
import pytest

import ember
import ember.fx as fx
import ember.nn as nn
import ember.nn.functional as F
from ember.fx.passes.shape_prop import ShapeProp


def lib_model(lib):
    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = lib.nn.Conv2d(3, 4, 3)
            self.blocks = lib.nn.Sequential(lib.nn.ReLU(), lib.nn.Flatten())
            self.fc = lib.nn.Linear(4 * 4 * 4, 3)
            self.scale = lib.nn.Parameter(lib.ones(3))

        def forward(self, x, temperature=2.0):
            h = self.blocks(self.conv(x))
            logits = self.fc(h) * self.scale
            probs = lib.nn.functional.softmax(logits / temperature, dim=-1)
            return probs + lib.relu(logits).sum(-1, keepdim=True), h.shape[0]

    lib.manual_seed(0)
    return Net()


def test_a_traced_module_computes_what_the_module_does():
    model = lib_model(ember)
    gm = fx.symbolic_trace(model)
    x = ember.randn(2, 3, 6, 6)
    got, batch = gm(x)
    want, _ = model(x)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-6)
    assert batch == 2 and isinstance(gm, fx.GraphModule) and isinstance(gm, nn.Module)
    ops = [(n.op, n.target) for n in gm.graph.nodes]
    assert ("call_module", "conv") in ops and ("call_module", "blocks.0") in ops  # Sequential is traced through
    assert ("call_function", F.softmax) in ops and ("call_function", ember.relu) in ops
    assert ("call_function", operator.mul) in ops and ("get_attr", "scale") in ops
    assert ("call_method", "sum") in ops and [n.op for n in gm.graph.nodes][-1] == "output"
    assert "ember.nn.functional.softmax(" in gm.code and "def forward(self, x, temperature = 2.0):" in gm.code


def test_gradients_flow_through_a_graph_module():
    model = lib_model(ember)
    gm = fx.symbolic_trace(model)
    x = ember.randn(2, 3, 6, 6, requires_grad=True)
    gm(x)[0].sum().backward()
    gx = x.grad.clone()
    x.grad = None
    model(x)[0].sum().backward()
    np.testing.assert_allclose(gx.numpy(), x.grad.numpy(), rtol=1e-5, atol=1e-7)
    assert gm.conv.weight is model.conv.weight  # the GraphModule shares the root's parameters


def test_editing_the_graph_and_recompiling():
    def f(x, y):
        return ember.sigmoid(x) + y

    gm = fx.symbolic_trace(f)
    for node in gm.graph.nodes:
        if node.op == "call_function" and node.target is operator.add:
            node.target = operator.mul
    gm.recompile()
    x, y = ember.randn(3), ember.randn(3)
    np.testing.assert_allclose(gm(x, y).numpy(), (ember.sigmoid(x) * y).numpy(), rtol=1e-6)
    # insert a node after the sigmoid and use it
    sig = next(n for n in gm.graph.nodes if n.target is ember.sigmoid)
    with gm.graph.inserting_after(sig):
        neg = gm.graph.call_function(operator.neg, (sig,))
    sig.replace_all_uses_with(neg, delete_user_cb=lambda user: user is not neg)
    gm.graph.lint()
    gm.recompile()
    np.testing.assert_allclose(gm(x, y).numpy(), (-ember.sigmoid(x) * y).numpy(), rtol=1e-6)
    unused = gm.graph.call_function(ember.exp, (sig,))
    assert unused in sig.users and gm.graph.eliminate_dead_code() and unused not in gm.graph.nodes


def test_a_graph_built_by_hand_with_proxies():
    graph = fx.Graph()
    x = fx.Proxy(graph.placeholder("x"))
    y = ember.einsum("ij,jk->ik", x, x.transpose(0, 1)) + x.sum()  # Python-level ember functions take proxies
    graph.output(y.node)
    gm = fx.GraphModule(nn.Module(), graph, class_name="Built")
    a = ember.randn(2, 3)
    np.testing.assert_allclose(gm(a).numpy(), (a @ a.T + a.sum()).numpy(), rtol=1e-5)
    assert type(gm).__name__ == "Built" and "einsum" in gm.code


def test_control_flow_on_a_proxy_is_a_trace_error_and_concrete_args_fix_it():
    def f(x, flag):
        return x * 2 if flag else x - 1

    with pytest.raises(
        fx.proxy.TraceError, match="symbolically traced variables cannot be used as inputs to control flow"
    ):
        fx.symbolic_trace(lambda x: x * 2 if x.sum() > 0 else x)
    gm = fx.symbolic_trace(f, concrete_args={"flag": True})
    assert gm(ember.ones(2)).tolist() == [2.0, 2.0]
    with pytest.raises(fx.proxy.TraceError, match="cannot be iterated"):
        fx.symbolic_trace(lambda x: [t for t in x])


def test_interpreter_transformer_and_shape_prop():
    model = lib_model(ember)
    gm = fx.symbolic_trace(model)
    x = ember.randn(2, 3, 6, 6)
    got, _ = fx.Interpreter(gm).run(x)
    np.testing.assert_allclose(got.detach().numpy(), model(x)[0].detach().numpy(), rtol=1e-6)

    class ReluToSigmoid(fx.Transformer):
        def call_function(self, target, args, kwargs):
            return super().call_function(ember.sigmoid if target is ember.relu else target, args, kwargs)

    swapped = ReluToSigmoid(gm).transform()
    assert any(n.target is ember.sigmoid for n in swapped.graph.nodes)
    assert not any(n.target is ember.relu for n in swapped.graph.nodes)
    ShapeProp(gm).propagate(x)
    meta = {n.name: n.meta["tensor_meta"] for n in gm.graph.nodes if "tensor_meta" in n.meta}
    assert meta["conv"].shape == (2, 4, 4, 4) and meta["fc"].shape == (2, 3) and meta["conv"].dtype == ember.float32


def test_wrap_keeps_a_function_a_leaf_and_custom_leaf_modules():
    class Custom(nn.Module):
        def forward(self, x):
            return x + 1

    class Outer(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = Custom()

        def forward(self, x):
            return self.inner(x) * 3

    class LeafTracer(fx.Tracer):
        def is_leaf_module(self, m, qualname):
            return isinstance(m, Custom) or super().is_leaf_module(m, qualname)

    outer = Outer()
    traced_through = fx.symbolic_trace(outer)
    assert [n.op for n in traced_through.graph.nodes].count("call_module") == 0
    graph = LeafTracer().trace(outer)
    assert ("call_module", "inner") in [(n.op, n.target) for n in graph.nodes]
    gm = fx.GraphModule(outer, graph)
    assert gm(ember.ones(1)).tolist() == [6.0]


def test_copy_deepcopy_and_pickle():
    model = lib_model(ember)
    gm = fx.symbolic_trace(model)
    x = ember.randn(2, 3, 6, 6)
    for clone in (copy.deepcopy(gm), pickle.loads(pickle.dumps(gm))):
        np.testing.assert_allclose(clone(x)[0].detach().numpy(), gm(x)[0].detach().numpy(), rtol=1e-6)
        assert clone.conv.weight is not gm.conv.weight and clone.code == gm.code


def test_the_same_graph_as_pytorchs():
    torch = pytest.importorskip("torch")
    ours, theirs = fx.symbolic_trace(lib_model(ember)), torch.fx.symbolic_trace(lib_model(torch))
    assert [n.op for n in ours.graph.nodes] == [n.op for n in theirs.graph.nodes]
    assert [n.name for n in ours.graph.nodes] == [n.name for n in theirs.graph.nodes]
    modules = [n.target for n in ours.graph.nodes if n.op in ("call_module", "call_method", "get_attr")]
    assert modules == [n.target for n in theirs.graph.nodes if n.op in ("call_module", "call_method", "get_attr")]


def test_param_shapes_constant_and_values_dropped_after_their_last_use():
    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(ember.ones(3, 2))

        def forward(self, x):
            return x @ self.w if self.w.shape[0] == 3 else x  # a branch on a parameter's shape

    with pytest.raises(fx.proxy.TraceError):
        fx.Tracer().trace(Scaled())
    graph = fx.Tracer(param_shapes_constant=True).trace(Scaled())
    gm = fx.GraphModule(Scaled(), graph)
    assert gm(ember.ones(1, 3)).tolist() == [[3.0, 3.0]]

    class Keeping(fx.Interpreter):
        def run_node(self, n):
            self.live = max(getattr(self, "live", 0), len(self.env))
            return super().run_node(n)

    chain = fx.symbolic_trace(lambda x: ((x + 1) * 2 - 3).exp().sum())
    dropping, keeping = Keeping(chain), Keeping(chain, garbage_collect_values=False)
    assert dropping.run(ember.ones(2)).item() == keeping.run(ember.ones(2)).item()
    assert dropping.live <= 2 < keeping.live


def test_a_tracer_whose_create_proxy_takes_no_factory_still_traces_parameters():
    # torchvision's NodePathTracer overrides create_proxy(kind, target, args, kwargs, name, type_expr, *_):
    # PyTorch passes proxy_factory_fn only to a create_proxy whose signature names it
    class Narrow(fx.Tracer):
        def create_proxy(self, kind, target, args, kwargs, name=None, type_expr=None, *_):
            return super().create_proxy(kind, target, args, kwargs, name, type_expr)

    class Norm(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(ember.full((3,), 2.0))

        def forward(self, x):
            return F.layer_norm(x, (3,), self.weight)

    gm = fx.GraphModule(Norm(), Narrow().trace(Norm()))
    x = ember.tensor([[1.0, 2.0, 4.0]])
    assert ember.allclose(gm(x), Norm()(x))
    assert [n.op for n in gm.graph.nodes].count("get_attr") == 1
