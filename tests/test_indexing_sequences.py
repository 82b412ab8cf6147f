"""A list used as an index, as PyTorch reads it: a short list holding a slice, None, Ellipsis, a tensor or a
sequence is a tuple of indices (with PyTorch's deprecation warning), any other list is one index (x[[0, 2]] picks
rows); the same rule for reading, writing, complex, meta and vmapped tensors; compared with PyTorch's results.
And a slice over a whole dim records no node, as PyTorch's (x[:, :2] is one SliceBackward0, x[:] an alias)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember

X = np.arange(24.0).reshape(4, 6)
CASES = [
    ("slice_then_int", lambda lib: [slice(None), 1], (4,)),
    ("nested_lists_pair_rows_and_cols", lambda lib: [[0, 1], [1, 0]], (2,)),
    ("tensor_and_int", lambda lib: [lib.tensor(0), 1], ()),
    ("int_and_none", lambda lib: [0, None], (1, 6)),
    ("int_and_ellipsis", lambda lib: [0, Ellipsis], (6,)),
]
ONE_INDEX = [
    ("int_list_picks_rows", lambda lib: [0, 2], (2, 6)),
    ("bool_list_masks_rows", lambda lib: [True, False, True, True], (3, 6)),
    ("numpy_2d_array_is_one_index", lambda lib: np.array([[0, 1], [1, 0]]), (2, 2, 6)),
]


def _tuple_of(index):
    return tuple(index)


@pytest.mark.parametrize(("name", "make", "shape"), CASES, ids=[c[0] for c in CASES])
def test_short_lists_with_slices_none_tensors_or_sequences_are_tuples(name, make, shape):
    x = ember.tensor(X)
    with pytest.warns(UserWarning, match="Using a non-tuple sequence for multidimensional indexing is deprecated"):
        got = x[make(ember)]
    assert tuple(got.shape) == shape
    np.testing.assert_array_equal(got.numpy(), X[_tuple_of(make(np))] if name != "tensor_and_int" else X[0, 1])


@pytest.mark.parametrize(("name", "make", "shape"), ONE_INDEX, ids=[c[0] for c in ONE_INDEX])
def test_other_lists_are_one_index(name, make, shape):
    x = ember.tensor(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = x[make(ember)]
    assert tuple(got.shape) == shape
    np.testing.assert_array_equal(got.numpy(), X[make(np)])


def test_writing_through_a_list_index_and_the_stand_ins():
    y = ember.tensor(X)
    with pytest.warns(UserWarning):
        y[[slice(None), 1]] = 0.0
    expected = X.copy()
    expected[:, 1] = 0
    np.testing.assert_array_equal(y.numpy(), expected)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        z = ember.complex(ember.tensor(X), ember.ones(4, 6, dtype=ember.float64))
        assert z[[slice(None), 1]].shape == (4,) and z[[[0, 1], [1, 0]]].shape == (2,) and z[[0, 2]].shape == (2, 6)
        m = ember.empty(4, 6, device="meta")
        assert m[[slice(None), 1]].shape == (4,) and m[[[0, 1], [1, 0]]].shape == (2,) and m[[0, 2]].shape == (2, 6)
        batch = ember.ones(3, 4, 6)
        assert ember.vmap(lambda r: r[[slice(None), 1]])(batch).shape == (3, 4)
        assert ember.vmap(lambda r: r[[[0, 1], [1, 0]]])(batch).shape == (3, 2)
        assert ember.vmap(lambda r: r[[0, 2]])(batch).shape == (3, 2, 6)


def test_list_indexing_matches_pytorch():
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _, make, _ in CASES + ONE_INDEX:
            np.testing.assert_array_equal(ember.tensor(X)[make(ember)].numpy(), torch.tensor(X)[make(torch)].numpy())


GRAPH_CASES = [
    ((slice(None),), ["AliasBackward0"]),
    ((slice(None), slice(None)), ["AliasBackward0"]),
    ((slice(None), slice(0, 2)), ["SliceBackward0"]),
    ((slice(0, 3), 1), ["SelectBackward0"]),
    ((slice(None), None), ["UnsqueezeBackward0"]),
    ((slice(0, 10),), ["AliasBackward0"]),
    ((slice(-5, None),), ["SliceBackward0"]),  # a negative start is a slice, whole or not (PyTorch's test)
    ((slice(1, None), slice(None, None, 2)), ["SliceBackward0", "SliceBackward0"]),
]


def _chain(lib, index):
    x = lib.ones(3, 4, requires_grad=True)
    node, names = x[index].grad_fn, []
    while node is not None and type(node).__name__ != "AccumulateGrad":
        names.append(type(node).__name__)
        node = node.next_functions[0][0]
    return names


@pytest.mark.parametrize(("index", "expected"), GRAPH_CASES)
def test_whole_dim_slices_record_no_node(index, expected):
    assert _chain(ember, index) == expected
    y = ember.ones(3, 4, requires_grad=True)
    y[index].sum().backward()  # the gradient still flows into the viewed part only
    grad = np.zeros((3, 4))
    grad[index] = 1
    np.testing.assert_array_equal(y.grad.numpy(), grad)


def test_slice_graphs_match_pytorch():
    torch = pytest.importorskip("torch")
    for index, _ in GRAPH_CASES:
        assert _chain(ember, index) == _chain(torch, index)
