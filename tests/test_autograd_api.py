"""Autograd API that PyTorch users reach for: node classes and node hooks, custom Function corner
cases, view/in-place refusals, inference tensors, saved-tensor hooks, anomaly mode, graph helpers.

Each test runs on ember and, when it is importable, on PyTorch: the expected values are PyTorch's.
"""

import gc
import warnings
import weakref

import numpy as np
import pytest


def test_each_node_kind_has_its_own_class(lib):
    x = lib.ones(2, requires_grad=True)
    y = x * 2
    assert type(y.grad_fn).__name__ == "MulBackward0"
    assert type(y.grad_fn) is type((x * 3).grad_fn)
    acc = y.grad_fn.next_functions[0][0]
    assert type(acc).__name__ == "AccumulateGrad"
    assert repr(acc).startswith("<AccumulateGrad object at")
    assert isinstance(y.grad_fn, lib.autograd.graph.Node)
    assert type((x.sum()).grad_fn).__name__ == "SumBackward0"


def test_custom_function_node_class_and_ctx_attributes(lib):
    class Double(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.factor = 2
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * ctx.factor

    y = Double.apply(lib.ones(2, requires_grad=True))
    assert type(y.grad_fn).__name__ == "DoubleBackward"
    assert y.grad_fn.name() == "DoubleBackward"
    assert y.grad_fn.factor == 2  # the node answers for its ctx


def test_node_metadata_persists(lib):
    y = lib.ones(2, requires_grad=True) * 2
    y.grad_fn.metadata["tag"] = 7
    gc.collect()
    assert y.grad_fn.metadata == {"tag": 7}


def test_node_prehook_and_posthook(lib):
    x = lib.ones(2, requires_grad=True)
    y = x * 3
    calls = []
    pre = y.grad_fn.register_prehook(lambda go: (calls.append(("pre", go[0].tolist())), (go[0] * 10,))[1])

    def post(grad_inputs, grad_outputs):
        calls.append(("post", grad_inputs[0].tolist(), grad_outputs[0].tolist()))

    y.grad_fn.register_hook(post)
    y.sum().backward()
    assert calls == [("pre", [1.0, 1.0]), ("post", [30.0, 30.0], [10.0, 10.0])]
    assert x.grad.tolist() == [30.0, 30.0]
    pre.remove()
    x.grad = None
    y = x * 3
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_node_hook_wrong_arity_is_an_error(lib):
    x = lib.ones(2, requires_grad=True)
    y = x * 3
    y.grad_fn.register_prehook(lambda go: (go[0], go[0]))
    with pytest.raises(RuntimeError, match="returned an incorrect number of values"):
        y.sum().backward()


def test_post_accumulate_grad_hook(lib):
    x = lib.ones(2, requires_grad=True)
    seen = []
    x.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
    (x * 2).sum().backward()
    (x * 2).sum().backward()
    assert seen == [[2.0, 2.0], [4.0, 4.0]]
    with pytest.raises(RuntimeError, match="post accumulate grad hooks cannot be registered on non-leaf tensors"):
        (x * 1).register_post_accumulate_grad_hook(lambda t: None)


def test_retain_grad_follows_in_place_ops(lib):
    x = lib.ones(3, requires_grad=True)
    a = x.clone()
    a.retain_grad()
    a.mul_(2)
    a.sum().backward()
    assert a.grad.tolist() == [1.0, 1.0, 1.0]
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


def test_hook_of_an_output_without_gradient_gets_none(lib):
    p, q, r = (lib.ones(3, requires_grad=True) * 1).unbind()
    seen = []
    q.register_hook(lambda g: seen.append(g))
    p.backward()
    assert seen == [None]


def test_custom_function_non_tensor_outputs_and_same_tensor_twice(lib):
    class F(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x * 2
            return y, 3, y

        @staticmethod
        def backward(ctx, g1, g2, g3):
            assert g2 is None
            return g1 + g3

    x = lib.ones(2, requires_grad=True)
    a, n, b = F.apply(x)
    assert a is b and n == 3 and a.output_nr == 2  # the last position, non-tensors counted
    a.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_setup_context_sees_forward_defaults(lib):
    seen = []

    class S(lib.autograd.Function):
        @staticmethod
        def forward(x, k=3, m=2):
            return x * k

        @staticmethod
        def setup_context(ctx, inputs, output):
            seen.append(inputs[1:])

        @staticmethod
        def backward(ctx, g):
            return g, None, None

    S.apply(lib.ones(1, requires_grad=True))
    assert seen == [(3, 2)]


def test_mark_dirty_on_a_view_of_a_view(lib):
    class AddInto(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.mark_dirty(a)
            a.add_(b)
            return a

        @staticmethod
        def backward(ctx, g):
            return g, g

    w = lib.ones(6, requires_grad=True)
    z = lib.ones(2, requires_grad=True)
    base = w * 1
    v = base.narrow(0, 1, 4).narrow(0, 1, 2)
    assert AddInto.apply(v, z) is v
    assert type(base.grad_fn).__name__ == "CopySlices"
    (base * lib.arange(6.0)).sum().backward()
    assert w.grad.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert z.grad.tolist() == [2.0, 3.0]


def test_materialize_grads_false_gives_none(lib):
    got = []

    class M(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x.clone(), x.clone()

        @staticmethod
        def backward(ctx, g1, g2):
            got.append(g2)
            return g1

    p, _ = M.apply(lib.ones(2, requires_grad=True))
    p.sum().backward()
    assert got == [None]


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda lib, y: y.unbind()[0], "Output 0 of Unbind is a view and is being modified inplace"),
        (lambda lib, y: y.split(2)[1], "Output 1 of Split is a view"),
        (lambda lib, y: y.chunk(2)[0], "Output 0 of Split is a view"),
        (lambda lib, y: y.split([1, 3])[0], "Output 0 of SplitWithSizes is a view"),
    ],
)
def test_in_place_on_multi_output_views_is_refused(lib, make, words):
    y = lib.ones(4, requires_grad=True) * 1
    with pytest.raises(RuntimeError, match=words):
        make(lib, y).mul_(2)


def test_views_made_in_no_grad_mode(lib):
    x = lib.ones(4, requires_grad=True)
    y = x * 1
    with lib.no_grad():
        v = y[:2]
        v2 = v[:1]
    assert v.requires_grad and v.is_leaf and v.grad_fn is None
    for view in (v, v2):
        with pytest.raises(RuntimeError, match="A view was created in no_grad mode and is being modified inplace"):
            view.mul_(2)
    (v * 2).sum().backward()  # no gradient flows through such a view
    assert x.grad is None
    with lib.no_grad():
        v.mul_(2)  # both inside no_grad: fine


def test_in_place_on_a_custom_function_view_output_is_refused(lib):
    class View(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.view(2)

        @staticmethod
        def backward(ctx, g):
            return g

    out = View.apply(lib.ones(2, requires_grad=True) * 1)
    with pytest.raises(RuntimeError, match="Output 0 of View is a view and is being modified inplace"):
        out.mul_(2)


def test_inference_tensors(lib):
    x = lib.ones(2, requires_grad=True)
    with lib.inference_mode():
        t = lib.ones(2)
        assert not (x[:1]).is_inference()  # a view of a normal tensor stays normal
    assert t.is_inference() and t[0].is_inference() and not (t * 2).is_inference()
    with pytest.raises(RuntimeError, match="Inplace update to inference tensor outside InferenceMode"):
        t.add_(1)
    with pytest.raises(RuntimeError, match="Inference tensors cannot be saved for backward"):
        t * x
    with pytest.raises(RuntimeError, match="Setting requires_grad=True on inference tensor outside InferenceMode"):
        t.requires_grad_()
    with pytest.raises(RuntimeError, match="Inference tensors do not track version counter"):
        _ = t._version
    with lib.inference_mode():
        t.add_(1)  # inside inference mode: fine


def test_grad_modes_as_decorators(lib):
    @lib.no_grad()
    def gen():
        got = yield lib.is_grad_enabled()
        yield got, lib.is_grad_enabled()

    it = gen()
    assert next(it) is False
    assert lib.is_grad_enabled()
    assert it.send(5) == (5, False)

    fn = lib.set_grad_enabled(False)(lambda: lib.is_grad_enabled())
    assert lib.is_grad_enabled()
    assert fn() is False and lib.is_grad_enabled()
    with lib.inference_mode():
        with lib.inference_mode(False):
            assert lib.is_grad_enabled() and not lib.is_inference_mode_enabled()


def test_data_assignment_keeps_version(lib):
    x = lib.ones(3)
    x.add_(1)
    x.data = lib.zeros(3)
    assert x._version == 1


def test_pow_gradients_at_zero(lib):
    z = lib.zeros(3, requires_grad=True)
    z.pow(lib.zeros(3)).sum().backward()
    assert z.grad.tolist() == [0.0, 0.0, 0.0]
    b = lib.tensor([-1.0, 0.0, 1.0], requires_grad=True)
    (0**b).sum().backward()
    assert b.grad.tolist() == [-np.inf, 0.0, 0.0]


def test_grad_object_is_kept_and_dtypes_are_singletons(lib):
    w = lib.ones(2, requires_grad=True)
    (w * 2).sum().backward()
    assert weakref.ref(w.grad)() is not None
    assert w.grad is w.grad
    assert lib.ones_like(w, dtype=lib.float32).dtype is lib.float32
    assert w.double().dtype is lib.float64


def test_numpy_under_no_grad(lib):
    a = lib.ones(2, requires_grad=True)
    with lib.no_grad():
        assert a.numpy().tolist() == [1.0, 1.0]
    with pytest.raises(RuntimeError, match="Can't call numpy\\(\\) on Tensor that requires grad"):
        a.numpy()


def test_reentrant_backward_2000_deep(lib):
    class Deep(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, depth):
            ctx.depth = depth
            return x * 1

        @staticmethod
        def backward(ctx, g):
            if ctx.depth > 0:
                y = lib.ones(1, requires_grad=True)
                with lib.enable_grad():
                    Deep.apply(y, ctx.depth - 1).sum().backward()
            return g, None

    x = lib.ones(1, requires_grad=True)
    Deep.apply(x, 2000).sum().backward()
    assert x.grad.tolist() == [1.0]


def test_saved_tensors_hooks(lib):
    x = lib.ones(3, requires_grad=True)
    packed = []

    def pack(t):
        packed.append(tuple(t.shape))
        return t * 1

    with lib.autograd.graph.saved_tensors_hooks(pack, lambda p: p * 2):
        y = (x * x).sum()
    assert packed == [(3,), (3,)]
    y.backward()
    assert x.grad.tolist() == [4.0, 4.0, 4.0]  # both saved x come back doubled
    with lib.autograd.graph.disable_saved_tensors_hooks("no hooks here"):
        with pytest.raises(RuntimeError, match="no hooks here"):
            with lib.autograd.graph.saved_tensors_hooks(pack, lambda p: p):
                pass


def test_save_on_cpu_and_allow_mutation(lib):
    x = lib.ones(3, requires_grad=True)
    with lib.autograd.graph.save_on_cpu():
        y = (x * x).sum()
    y.backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]
    with lib.autograd.graph.allow_mutation_on_saved_tensors():
        a = x * 1
        b = a * a
        a.add_(1)
        b.sum().backward()
    assert x.grad.tolist() == [4.0, 4.0, 4.0]


def test_multi_grad_hook(lib):
    x, y = lib.ones(2, requires_grad=True), lib.ones(2, requires_grad=True)
    calls = []
    handle = lib.autograd.graph.register_multi_grad_hook((x, y), lambda gs: calls.append(gs))
    (x * 2).sum().backward()
    assert len(calls) == 1 and calls[0][0].tolist() == [2.0, 2.0] and calls[0][1] is None
    handle.remove()
    (x * 2).sum().backward()
    assert len(calls) == 1


def test_gradient_edge_and_increment_version(lib):
    x = lib.ones(2, requires_grad=True)
    y = x * 2
    edge = lib.autograd.graph.get_gradient_edge(y)
    assert edge.node is y.grad_fn and edge.output_nr == 0
    assert type(lib.autograd.graph.get_gradient_edge(x).node).__name__ == "AccumulateGrad"
    v = x._version
    lib.autograd.graph.increment_version(x)
    assert x._version == v + 1


def test_anomaly_mode_reports_the_forward_call_and_nan(lib):
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        ctx = lib.autograd.detect_anomaly()
    with ctx:
        a = lib.tensor([0.0], requires_grad=True)
        out = (a / a).sum()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(RuntimeError, match="Function 'DivBackward0' returned nan values in its 1th output"):
                out.backward()
    assert any("Error detected in DivBackward0" in str(w.message) for w in caught)
    assert any("test_autograd_api.py" in str(w.message) for w in caught)  # the forward call's stack
    assert not lib.is_anomaly_enabled()
    (a / a).sum().backward()  # off again: NaN gradients pass silently


def test_variable_and_misc_tensor_api(lib):
    v = lib.autograd.Variable(lib.ones(2), requires_grad=True)
    assert v.requires_grad and v.is_leaf and isinstance(lib.ones(1), lib.autograd.Variable)
    y = lib.ones(4, requires_grad=True) * 1
    assert y[:2]._base is y and y._base is None
    with pytest.raises(RuntimeError, match="Can't detach views in-place"):
        y[:2].detach_()
    calls = []

    def hook(g):
        lib.autograd.Variable._execution_engine.queue_callback(lambda: calls.append("end"))
        calls.append("hook")

    y.register_hook(hook)
    y.sum().backward()
    assert calls == ["hook", "end"]


def test_in_place_view_ops(lib):
    x = lib.ones(2, 1, 3, requires_grad=True)
    y = x * 1
    v = y._version
    assert type(y.squeeze_(1).grad_fn).__name__ == "SqueezeBackward4" and y.shape == (2, 3)
    assert type(y.t_().grad_fn).__name__ == "TBackward1" and y.shape == (3, 2) and not y.is_contiguous()
    assert type(y.unsqueeze_(0).grad_fn).__name__ == "UnsqueezeBackward1" and y.shape == (1, 3, 2)
    assert type(y.transpose_(0, 2).grad_fn).__name__ == "TransposeBackward1" and y.shape == (2, 3, 1)
    assert y._version == v + 4
    (y * lib.arange(6.0).reshape(2, 3, 1)).sum().backward()
    assert x.grad.reshape(2, 3).tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation"):
        x.t_() if x.dim() == 2 else x.squeeze_()


def test_gradient_edges_in_grad(lib):
    x = lib.ones(2, requires_grad=True)
    y = x * 2
    z = (y * 3).sum()
    edge = lib.autograd.graph.get_gradient_edge(y)
    assert lib.autograd.grad(z, edge, retain_graph=True)[0].tolist() == [3.0, 3.0]
    assert lib.autograd.grad(edge, x, lib.ones(2))[0].tolist() == [2.0, 2.0]


def test_leaf_hooks_run_before_its_node_hooks(lib):
    x = lib.ones(2, requires_grad=True)
    order = []
    x.register_hook(lambda g: order.append("tensor hook"))
    acc = lib.autograd.graph.get_gradient_edge(x).node
    acc.register_prehook(lambda go: order.append("node prehook"))
    acc.register_hook(lambda gi, go: order.append("node hook"))
    (x * 2).sum().backward()
    assert order == ["tensor hook", "node prehook", "node hook"]
    order.clear()
    lib.autograd.grad((x * 2).sum(), x)  # autograd.grad runs the leaf's tensor hooks too
    assert order == ["tensor hook"]


def test_module_full_backward_hooks(lib):
    lin = lib.nn.Linear(3, 2)
    calls = []

    def pre(module, grad_output):
        calls.append(("pre", tuple(grad_output[0].shape)))
        return (grad_output[0] * 2,)

    def hook(module, grad_input, grad_output):
        assert module is lin
        calls.append(("hook", [None if g is None else tuple(g.shape) for g in grad_input], grad_output[0].sum().item()))

    lin.register_full_backward_pre_hook(pre)
    handle = lin.register_full_backward_hook(hook)
    x = lib.randn(4, 3, requires_grad=True)
    lin(x).sum().backward()
    assert calls == [("pre", (4, 2)), ("hook", [(4, 3)], 16.0)]
    np.testing.assert_allclose(x.grad.numpy(), 2 * lin.weight.detach().sum(0).expand(4, 3).numpy(), rtol=1e-6)
    calls.clear()
    with pytest.warns(UserWarning, match="Full backward hook is firing when gradients are computed"):
        lin(lib.randn(4, 3)).sum().backward()  # no input requires grad: grad_input is all None
    assert calls == [("pre", (4, 2)), ("hook", [None], 16.0)]
    handle.remove()
    calls.clear()
    lin(x).sum().backward()
    assert calls == [("pre", (4, 2))]


def test_unsafe_split_pieces_may_be_modified(lib):
    x = lib.ones(4, requires_grad=True)
    a, b = (x * 1).unsafe_split(2)
    a.mul_(3)
    (a.sum() + b.sum()).backward()
    assert x.grad.tolist() == [3.0, 3.0, 1.0, 1.0]
    a, b = (x * 1).unsafe_chunk(2)
    a.add_(1)


def test_max_of_nan_shares_the_gradient_among_the_nans(lib):
    x = lib.tensor([float("nan"), 1.0, float("nan")], requires_grad=True)
    x.max().backward()
    assert x.grad.tolist() == [0.5, 0.0, 0.5]
    y = lib.tensor([float("nan")] * 3, requires_grad=True)
    y.min().backward()
    np.testing.assert_allclose(y.grad.numpy(), [1 / 3] * 3)


def test_views_changed_through_a_sibling_get_the_new_history(lib):
    root = lib.ones(2, 2, requires_grad=True)
    x = root.clone()
    v1, v2 = x.narrow(0, 0, 1), x.narrow(0, 0, 1)
    v1.mul_(2)
    v2.sum().backward()
    assert root.grad.tolist() == [[2.0, 2.0], [0.0, 0.0]]
    a = lib.ones(3, 1, requires_grad=True)
    c = (a * 2).view_as(a)
    c[0][0] = 3  # through a view of c: c itself must see it
    c.sum().backward()
    assert a.grad.tolist() == [[0.0], [2.0], [2.0]]


def test_grad_with_batched_seeds_gives_one_gradient_per_seed(lib):
    # is_grads_batched: dim 0 of each grad_output indexes seeds (a Jacobian's rows, as zuko's exact CNF takes)
    x = lib.tensor(np.random.default_rng(0).normal(size=(4, 3)), requires_grad=True)
    y = x**2 * x.sum(1, keepdim=True)
    seeds = lib.eye(3, dtype=lib.float64).unsqueeze(1).expand(3, 4, 3)
    (rows,) = lib.autograd.grad(y, x, seeds, is_grads_batched=True, retain_graph=True)
    expected = [lib.autograd.grad(y, x, seeds[i], retain_graph=True)[0] for i in range(3)]
    assert tuple(rows.shape) == (3, 4, 3)
    np.testing.assert_allclose(rows.detach().numpy(), np.stack([e.numpy() for e in expected]))
    (again,) = lib.autograd.grad(y, x, seeds, is_grads_batched=True, create_graph=True)
    assert again.requires_grad  # differentiable again under create_graph
    with pytest.raises(RuntimeError):  # a missing seed: no implicit one for a non-scalar output
        lib.autograd.grad(x.sum(1), x, [None], is_grads_batched=True)
