"""Bad input raises the exception class PyTorch raises (TypeError, ValueError, IndexError,
RuntimeError), or succeeds where PyTorch's call succeeds: each call runs on ember and on
PyTorch itself. Runs only where PyTorch is importable; the words of ember's messages are
checked in tests/test_reliability.py, which needs no PyTorch."""

import warnings

import pytest

torch = pytest.importorskip("torch")
import ember  # noqa: E402


def x(t):
    return t.arange(6.0).reshape(2, 3)


def F(t):
    return t.nn.functional


CALLS = {
    # int and int-list arguments of the wrong type (Note [Argument errors])
    "reshape_str": lambda t: x(t).reshape("a"),
    "reshape_float": lambda t: x(t).reshape(2.0, 3),
    "view_list_str": lambda t: x(t).view(["a", 3]),
    "sum_dim_str": lambda t: x(t).sum(dim="a"),
    "sum_dim_float": lambda t: x(t).sum(1.5),
    "mean_tuple_str": lambda t: x(t).mean(("a",)),
    "prod_str": lambda t: x(t).prod("a"),
    "argmax_dim_str": lambda t: x(t).argmax("a"),
    "max_dim_str": lambda t: x(t).max("a"),
    "permute_str": lambda t: x(t).permute("a"),
    "expand_str": lambda t: x(t).expand("a"),
    "repeat_float": lambda t: x(t).repeat(2.0, 1),
    "flip_str": lambda t: x(t).flip("a"),
    "split_str": lambda t: x(t).split("a"),
    "tile_str": lambda t: x(t).tile("a"),
    "size_str": lambda t: x(t).size("a"),
    "zeros_str": lambda t: t.zeros("a"),
    "zeros_float": lambda t: t.zeros(2.5),
    "transpose_str": lambda t: x(t).transpose("a", 1),
    "squeeze_float": lambda t: x(t).squeeze(1.0),
    "narrow_str": lambda t: x(t).narrow("a", 0, 1),
    # Number and Tensor arguments of the wrong type
    "arange_str": lambda t: t.arange("a"),
    "arange_tensor": lambda t: t.arange(x(t)),
    "linspace_str": lambda t: t.linspace("a", 1, 3),
    "full_str": lambda t: t.full((2,), "a"),
    "add_str": lambda t: x(t) + "a",
    "add_none": lambda t: t.add(x(t), None),
    "pow_str": lambda t: x(t) ** "a",
    "cat_of_a_tensor": lambda t: t.cat(x(t), 1),
    "cat_str": lambda t: t.cat("ab"),
    "stack_of_a_tensor": lambda t: t.stack(x(t)),
    "max_pool2d_str": lambda t: F(t).max_pool2d(t.ones(1, 1, 4, 4), "a"),
    "softmax_dim_str": lambda t: t.softmax(x(t), "a"),
    "tensor_ragged": lambda t: t.tensor([[1, 2], [3]]),
    "tensor_none": lambda t: t.tensor([None]),
    "tensor_nested_none": lambda t: t.tensor([[1.0, None]]),
    "as_tensor_object": lambda t: t.as_tensor([object()]),
    "tensor_str": lambda t: t.tensor("abc"),
    "tensor_of_a_huge_int": lambda t: t.tensor([1, 2**70]),
    "tensor_of_a_fraction": lambda t: t.tensor([__import__("fractions").Fraction(1, 2)]),
    "to_str": lambda t: x(t).to("banana"),
    # Python number conversions
    "int_of_many": lambda t: int(x(t)),
    "float_of_many": lambda t: float(x(t)),
    "bool_of_many": lambda t: bool(x(t)),
    "item_of_many": lambda t: x(t).item(),
    "len_0d": lambda t: len(t.tensor(1.0)),
    # dims, shapes and indices out of range
    "unsqueeze_big": lambda t: x(t).unsqueeze(5),
    "max_dim_big": lambda t: x(t).max(dim=3),
    "sort_dim_big": lambda t: x(t).sort(dim=2),
    "size_dim_big": lambda t: x(t).size(5),
    "chunk_zero": lambda t: x(t).chunk(0),
    "view_bad": lambda t: x(t).view(4, 2),
    "view_two_inferred": lambda t: x(t).view(-1, -1),
    "empty_negative": lambda t: t.empty(2, -3),
    "expand_bad": lambda t: x(t).expand(3, 3),
    "matmul_shapes": lambda t: x(t) @ x(t),
    "mm_of_a_vector": lambda t: t.mm(x(t)[0], x(t)),
    "index_float": lambda t: x(t)[1.5],
    "index_out_of_range": lambda t: x(t)[5],
    "tensor_index_out_of_range": lambda t: x(t)[t.tensor([5])],
    "index_too_many": lambda t: x(t)[0, 0, 0],
    "gather_out_of_range": lambda t: x(t).gather(1, t.tensor([[7]])),
    "index_select_out_of_range": lambda t: x(t).index_select(0, t.tensor([3])),
    "index_select_float_index": lambda t: x(t).index_select(0, t.tensor([0.0])),
    "index_fill_float_index": lambda t: x(t).index_fill(0, t.tensor([0.0]), 1),
    "index_add_float_index": lambda t: t.zeros(3).index_add(0, t.tensor([0.0]), t.ones(1)),
    "topk_too_big": lambda t: x(t).topk(5),
    "argmax_of_empty": lambda t: t.ones(0).argmax(),
    "argmin_of_empty": lambda t: t.ones(0).argmin(),
    "max_of_empty": lambda t: t.ones(0).max(),
    "embedding_out_of_range": lambda t: F(t).embedding(t.tensor([9]), t.ones(4, 2)),
    "cross_entropy_target_out_of_range": lambda t: F(t).cross_entropy(x(t), t.tensor([0, 7])),
    "one_hot_negative": lambda t: F(t).one_hot(t.tensor([-1, 2])),
    "bincount_negative": lambda t: t.bincount(t.tensor([-1, 2])),
    # parameters of random fills outside their range (these once drew numbers anyway)
    "bernoulli_p_above_one": lambda t: x(t).bernoulli(1.5),
    "bernoulli__p_below_zero": lambda t: x(t).bernoulli_(-0.5),
    "bernoulli__tensor_p_above_one": lambda t: x(t).bernoulli_(t.full((2, 3), 1.5)),
    "bernoulli_of_probabilities_above_one": lambda t: t.bernoulli(t.full((2,), 1.5)),
    "uniform__reversed_range": lambda t: x(t).uniform_(2, 1),
    "normal__negative_std": lambda t: x(t).normal_(0, -1),
    "cauchy__negative_sigma": lambda t: x(t).cauchy_(0, -1),
    "exponential__negative_rate": lambda t: x(t).exponential_(-1),
    "geometric__p_above_one": lambda t: x(t).geometric_(1.5),
    "log_normal__negative_std": lambda t: x(t).log_normal_(0, -1),
    "random__reversed_range": lambda t: x(t).random_(5, 2),
    # a Python-level function or method given something else than a tensor (was AttributeError)
    "kron_str": lambda t: t.kron(x(t), "a"),
    "kron_float": lambda t: t.kron(x(t), 2.0),
    "kron_method_str": lambda t: x(t).kron("a"),
    "cross_method_str": lambda t: x(t).cross("a"),
    "relu_str": lambda t: F(t).relu("a"),
    "linear_weight_str": lambda t: F(t).linear(x(t), "w"),
    "dropout_str": lambda t: F(t).dropout("a"),
    "layer_norm_str": lambda t: F(t).layer_norm("a", (3,)),
    "cdist_none": lambda t: t.cdist(x(t), None),
    "atleast_2d_str": lambda t: t.atleast_2d("a"),
    # autograd misuse
    "backward_of_a_vector": lambda t: x(t).requires_grad_().sum(1).backward(),
    "numpy_of_a_grad_tensor": lambda t: t.ones(2, requires_grad=True).numpy(),
    "inplace_on_a_leaf": lambda t: t.ones(2, requires_grad=True).add_(1),
    "integer_requires_grad": lambda t: t.ones(2, dtype=t.int64, requires_grad=True),
    "mm_of_two_dtypes": lambda t: t.mm(x(t), t.ones(3, 2, dtype=t.float64)),
}


KINDS = (TypeError, ValueError, IndexError, RuntimeError, AttributeError)


def outcome(lib, call):
    """The builtin class of the exception call raises (torch.linalg.LinAlgError counts as the
    RuntimeError it is), or None when it returns."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            call(lib)
        except KINDS as e:
            return next(kind for kind in KINDS if isinstance(e, kind))
    return None


@pytest.mark.parametrize("name", sorted(CALLS))
def test_bad_input_raises_what_pytorch_raises(name):
    expected = outcome(torch, CALLS[name])
    assert expected is not None, f"PyTorch accepts {name}: not a bad input"
    assert outcome(ember, CALLS[name]) is expected
