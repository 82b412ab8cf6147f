"""Ops on empty and 0-d tensors give PyTorch's results or its exception class and words (a sweep of 91 ops
over shapes (0,), (0, 3), (3, 0), (2, 0, 4) and () against PyTorch 2.13, the seventeenth session)."""

from __future__ import annotations

import pytest

import ember


def test_roll_of_a_0d_tensor_along_a_dim_is_an_index_error():
    """It failed an internal assertion (a crash-class error) before."""
    with pytest.raises(IndexError, match="Dimension specified as 0 but tensor has no dimensions"):
        ember.tensor(1.0).roll(1, 0)
    assert ember.tensor(2.0).roll(1).item() == 2.0  # no dim: the flattened tensor rolls


@pytest.mark.parametrize("op", ["amax", "amin", "max", "min"])
def test_extreme_of_an_empty_tensor_without_dim(op):
    with pytest.raises(RuntimeError, match=f"{op}\\(\\): Expected reduction dim to be specified for input.numel"):
        getattr(ember.ones(0, 3), op)()
    with pytest.raises(IndexError, match="Expected reduction dim 0 to have non-zero size"):
        getattr(ember.ones(0, 3), op)(0)
    result = getattr(ember.ones(0, 3), op)(1)
    assert (result if op.startswith("a") else result.values).shape == (0,)


def test_kthvalue_aminmax_and_mode_over_empty_dims():
    with pytest.raises(IndexError, match=r"kthvalue\(\): Expected reduction dim 0 to have non-zero size"):
        ember.ones(0, 3).kthvalue(1, 0)
    with pytest.raises(RuntimeError, match="cannot compute aminmax over an empty dimension"):
        ember.aminmax(ember.ones(0))
    with pytest.raises(IndexError, match="aminmax: Expected reduction dim 1 to have non-zero size"):
        ember.aminmax(ember.ones(3, 0), dim=1)
    low, high = ember.aminmax(ember.ones(3, 0), dim=0)
    assert low.shape == high.shape == (0,)
    # mode over a non-empty dim of an empty tensor is empty, as PyTorch's (ember refused any empty input)
    values, indices = ember.mode(ember.ones(3, 0), 0)
    assert values.shape == indices.shape == (0,)
    assert ember.mode(ember.ones(2, 0, 4), 0).values.shape == (0, 4)
    with pytest.raises(IndexError, match="mode\\(\\): Expected reduction dim 0 to have non-zero size"):
        ember.mode(ember.ones(0, 3), 0)


def test_chunk_of_an_empty_dim_gives_that_many_empty_pieces():
    pieces = ember.ones(0, 3).chunk(3)
    assert len(pieces) == 3 and all(p.shape == (0, 3) for p in pieces)
    assert len({id(p) for p in pieces}) == 3
    assert [p.shape for p in ember.ones(4).chunk(3)] == [(2,), (2,)]


def test_index_select_of_a_0d_tensor_with_several_indices():
    with pytest.raises(RuntimeError, match="Index to scalar can have only 1 value, got 2 value"):
        ember.tensor(1.0).index_select(0, ember.tensor([0, 0]))
    assert ember.tensor(3.0).index_select(0, ember.tensor([0])).item() == 3.0
