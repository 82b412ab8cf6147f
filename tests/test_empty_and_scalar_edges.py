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


def test_index_add_and_index_copy_refuse_negative_and_out_of_range_indices():
    """PyTorch refuses them (ember wrapped -1 to the last row): index_add with a RuntimeError, index_copy with an
    IndexError named after it; a source whose indexed dim differs from the index's length says so."""
    base = ember.arange(12.0).reshape(3, 4)
    for index in ([-1], [3]):
        with pytest.raises(RuntimeError, match=f"index {index[0]} is out of bounds for dimension 0 with size 3"):
            base.index_add(0, ember.tensor(index), ember.ones(1, 4))
        with pytest.raises(IndexError, match=f"index_copy_\\(\\): index {index[0]} is out of bounds for dimension"):
            base.index_copy(0, ember.tensor(index), ember.ones(1, 4))
    with pytest.raises(RuntimeError, match=r"Number of indices \(1\) should be equal to source.size\(dim\): \(2\)"):
        base.index_add(1, ember.tensor([0]), ember.ones(3, 2))
    with pytest.raises(IndexError, match=r"index_copy_\(\): Number of indices \(1\) should be equal to source"):
        base.index_copy(0, ember.tensor([0]), ember.ones(2, 4))
    assert base.index_add(0, ember.tensor([2, 2]), ember.ones(2, 4)).tolist()[2] == [10.0, 11.0, 12.0, 13.0]
    assert base.index_fill(1, ember.tensor([-1]), 0.0)[:, -1].tolist() == [0.0, 0.0, 0.0]  # index_fill wraps


def test_advanced_indices_that_do_not_broadcast():
    with pytest.raises(IndexError, match=r"shape mismatch: indexing tensors could not be broadcast together with "
                       r"shapes \[2\], \[3\]"):  # fmt: skip
        ember.ones(3, 4)[ember.tensor([0, 2]), ember.tensor([1, 3, 0])]
