"""The autograd graph PyTorch records for common expressions: each node's name, breadth first from the result's
grad_fn, as PyTorch 2.13 gives them (graph tools such as torchviz draw these graphs; PyTorch's own behaviour, not
ember's choice); and, when PyTorch is importable, the same walk over both libraries for every case."""

from __future__ import annotations

import numpy as np
import pytest

import ember


def _walk(result):
    seen, names, frontier, keep = set(), [], [result.grad_fn], []
    while frontier:
        node = frontier.pop(0)
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        keep.append(node)  # (held, so that no id is reused while walking)
        names.append(type(node).__name__)
        frontier.extend(next_node for next_node, _ in node.next_functions)
    return " ".join(names)


def _cases(lib):
    F = lib.nn.functional

    def g(*shape):
        return lib.tensor(np.random.default_rng(0).normal(size=shape), dtype=lib.float32, requires_grad=True)

    x, y, v, m3, w, b = g(3, 4), g(3, 4), g(4), g(2, 3, 4), g(5, 4), g(5)
    img = g(2, 3, 6, 6)
    return {
        "trace": lambda: x[:, :3].trace(),
        "repeat": lambda: x.repeat(2, 1),
        "outer": lambda: lib.outer(v, v.detach()),
        "normalize": lambda: F.normalize(x),
        "adaptive_avg_to_1": lambda: F.adaptive_avg_pool2d(img, 1),
        "matmul_3d_2d": lambda: m3 @ w.t(),
        "linear_3d": lambda: F.linear(m3, w, b),
        "linear_2d_no_bias": lambda: F.linear(x, w),
        "index_none_then_int": lambda: x[None, :, 1],
        "slice_with_step": lambda: x[:, ::2],
        "cosine_similarity": lambda: F.cosine_similarity(x, y),
        "reshape_of_transpose": lambda: x.t().reshape(12),
        "l1_loss": lambda: F.l1_loss(x, y),
        "cross_entropy": lambda: F.cross_entropy(x, lib.tensor([0, 1, 3])),
        "index_put": lambda: x.index_put((lib.tensor([0, 2]),), y[:2]),
        "contiguous_of_transpose": lambda: x.t().contiguous(),
        "max_along_dim": lambda: x.max(1)[0],
        "layer_norm": lambda: F.layer_norm(x, (4,)),
        "gelu": lambda: F.gelu(x),
        "constant_pad": lambda: F.pad(x, (1, -2, 2, 0), value=7.0),
        "embedding": lambda: F.embedding(lib.tensor([[1, 0], [4, 1]]), w, padding_idx=0),
    }


EXPECTED = {  # PyTorch 2.13's graphs
    "trace": "TraceBackward0 SliceBackward0 AccumulateGrad",
    "repeat": "RepeatBackward0 AccumulateGrad",
    "outer": "MulBackward0 ViewBackward0 AccumulateGrad",
    "normalize": "DivBackward0 AccumulateGrad ExpandBackward0 ClampMinBackward0 LinalgVectorNormBackward0",
    "adaptive_avg_to_1": "MeanBackward1 AccumulateGrad",
    "matmul_3d_2d": "UnsafeViewBackward0 MmBackward0 ViewBackward0 TBackward0 AccumulateGrad AccumulateGrad",
    "linear_3d": "ViewBackward0 AddmmBackward0 AccumulateGrad ViewBackward0 TBackward0 AccumulateGrad AccumulateGrad",
    "linear_2d_no_bias": "MmBackward0 AccumulateGrad TBackward0 AccumulateGrad",
    "index_none_then_int": "SelectBackward0 UnsqueezeBackward0 AccumulateGrad",
    "slice_with_step": "SliceBackward0 AccumulateGrad",
    "cosine_similarity": "SumBackward1 MulBackward0 DivBackward0 DivBackward0 AccumulateGrad CloneBackward0 "
    "AccumulateGrad CloneBackward0 LinalgVectorNormBackward0 LinalgVectorNormBackward0",
    "reshape_of_transpose": "UnsafeViewBackward0 CloneBackward0 TBackward0 AccumulateGrad",
    "l1_loss": "MeanBackward0 AbsBackward0 SubBackward0 AccumulateGrad AccumulateGrad",
    "cross_entropy": "NllLossBackward0 LogSoftmaxBackward0 AccumulateGrad",
    "index_put": "IndexPutBackward0 AccumulateGrad SliceBackward0 AccumulateGrad",
    "contiguous_of_transpose": "CloneBackward0 TBackward0 AccumulateGrad",
    "max_along_dim": "MaxBackward0 AccumulateGrad",
    "layer_norm": "NativeLayerNormBackward0 AccumulateGrad",
    "gelu": "GeluBackward0 AccumulateGrad",
    "constant_pad": "ConstantPadNdBackward0 AccumulateGrad",
    "embedding": "EmbeddingBackward0 AccumulateGrad",
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_graph_names_are_pytorchs(name):
    assert _walk(_cases(ember)[name]()) == EXPECTED[name]


def test_graph_names_match_pytorch():
    torch = pytest.importorskip("torch")
    ours, theirs = _cases(ember), _cases(torch)
    assert {k: _walk(f()) for k, f in ours.items()} == {k: _walk(f()) for k, f in theirs.items()}


@pytest.mark.parametrize("shape_repeats", [((3, 4), (2, 1)), ((3, 4), (2, 1, 3)), ((2,), (3, 2)), ((0, 2), (3, 1))])
def test_repeat_and_trace_gradients_against_finite_differences(shape_repeats):
    shape, repeats = shape_repeats
    x = ember.tensor(np.random.default_rng(1).normal(size=shape), requires_grad=True)
    assert ember.autograd.gradcheck(lambda a: a.repeat(*repeats), (x,))
    assert ember.autograd.gradgradcheck(lambda a: a.repeat(*repeats), (x,))
    np.testing.assert_array_equal(x.detach().repeat(*repeats).numpy(), np.tile(x.detach().numpy(), repeats))
    m = ember.tensor(np.random.default_rng(2).normal(size=(3, 5)), requires_grad=True)
    assert ember.autograd.gradcheck(lambda a: a.trace(), (m,)) and ember.autograd.gradcheck(
        lambda a: a.t().trace(), (m,)
    )
    assert ember.autograd.gradgradcheck(lambda a: a.trace() * a.sum(), (m,))
    assert m.trace().item() == pytest.approx(np.trace(m.detach().numpy()))


@pytest.mark.parametrize("pad", [(1, 2), (1, 2, 0, 1), (-1, 2, 1, -1), (0, 0), (2, 1, 1, 1, 1, 0), (-2, -1)])
def test_constant_pad_node_against_numpy_and_finite_differences(pad):
    x = ember.tensor(np.random.default_rng(3).normal(size=(2, 3, 4)), requires_grad=True)
    got = ember.nn.functional.pad(x, pad, value=1.5)
    widths = [(0, 0)] * (3 - len(pad) // 2) + [(pad[2 * i], pad[2 * i + 1]) for i in reversed(range(len(pad) // 2))]
    expected = x.detach().numpy()
    for d, (lo, hi) in enumerate(widths):  # crop the negative pads, then pad the positive ones
        expected = np.take(expected, range(max(-lo, 0), expected.shape[d] - max(-hi, 0)), axis=d)
    expected = np.pad(expected, [(max(lo, 0), max(hi, 0)) for lo, hi in widths], constant_values=1.5)
    np.testing.assert_array_equal(got.detach().numpy(), expected)
    assert got.grad_fn._saved_pad == pad
    assert ember.autograd.gradcheck(lambda a: ember.nn.functional.pad(a, pad), (x,))
    assert ember.autograd.gradgradcheck(lambda a: ember.nn.functional.pad(a, pad), (x,))
    with pytest.raises(RuntimeError, match=r"narrow\(\): length must be non-negative"):
        ember.nn.functional.pad(x, (-5, 1))
    for bad, kind in ((1.5, "float"), (True, "bool")):
        with pytest.raises(TypeError, match=f"must be tuple of ints, but found element of type {kind} at pos 1"):
            ember.nn.functional.pad(x, (1, bad))


def test_outer_names_the_argument_that_is_not_a_vector():
    with pytest.raises(RuntimeError, match="outer: Expected 1-D argument self, but got 2-D"):
        ember.outer(ember.ones(2, 2), ember.ones(2))
    with pytest.raises(RuntimeError, match="outer: Expected 1-D argument vec2, but got 2-D"):
        ember.outer(ember.ones(2), ember.ones(2, 2))


def test_embedding_node_saves_pytorchs_fields_and_skips_the_padding_row():
    w = ember.tensor(np.random.default_rng(4).normal(size=(5, 3)), requires_grad=True)
    idx = ember.tensor([[0, 2, 2], [4, 1, 0]])
    out = ember.nn.functional.embedding(idx, w, padding_idx=2)
    node = out.grad_fn
    assert (node._saved_weight_sym_argsize_0, node._saved_padding_idx) == (5, 2)
    assert (
        node._saved_indices.tolist() == idx.tolist() and not node._saved_sparse and not node._saved_scale_grad_by_freq
    )
    np.testing.assert_array_equal(out.detach().numpy(), w.detach().numpy()[idx.numpy()])
    (out * ember.arange(18.0).reshape(2, 3, 3)).sum().backward()
    expected = np.zeros((5, 3))
    np.add.at(expected, idx.numpy().reshape(-1), np.arange(18.0).reshape(6, 3))
    expected[2] = 0  # the padding row gets no gradient
    np.testing.assert_array_equal(w.grad.numpy(), expected)
    v = ember.tensor(np.random.default_rng(5).normal(size=(5, 3)), requires_grad=True)
    assert ember.autograd.gradcheck(lambda a: ember.nn.functional.embedding(idx, a), (v,))
    assert ember.autograd.gradgradcheck(lambda a: ember.nn.functional.embedding(idx, a) * a.sum(), (v,))
    with pytest.raises(IndexError, match="index out of range in self"):
        ember.nn.functional.embedding(ember.tensor([7]), v)
