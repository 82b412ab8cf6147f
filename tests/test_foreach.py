"""ember._foreach_* as torch._foreach_*: each op over a list of tensors, with PyTorch's argument forms,
return types (a tuple; the given list from an in-place form) and error words; values against numpy,
gradients against finite differences, and every name and result against PyTorch where it is importable."""

import math

import numpy as np
import pytest

import ember
from ember import _foreach

rng = np.random.default_rng(0)
ARRAYS = [rng.uniform(0.2, 0.9, (3, 4)), rng.uniform(0.2, 0.9, (5,)), np.array(0.5)]
UNARY_NUMPY = {
    "abs": np.abs, "acos": np.arccos, "asin": np.arcsin, "atan": np.arctan, "ceil": np.ceil, "cos": np.cos,
    "cosh": np.cosh, "exp": np.exp, "expm1": np.expm1, "floor": np.floor, "frac": lambda a: a - np.trunc(a),
    "log": np.log, "log10": np.log10, "log1p": np.log1p, "log2": np.log2, "neg": np.negative,
    "reciprocal": np.reciprocal, "round": np.round, "rsqrt": lambda a: 1 / np.sqrt(a),
    "sigmoid": lambda a: 1 / (1 + np.exp(-a)), "sign": np.sign, "sin": np.sin, "sinh": np.sinh, "sqrt": np.sqrt,
    "tan": np.tan, "tanh": np.tanh, "trunc": np.trunc,
    "erf": np.vectorize(math.erf), "erfc": np.vectorize(math.erfc), "lgamma": np.vectorize(math.lgamma),
}  # fmt: skip


def tensors(dtype=ember.float64, requires_grad=False):
    return [ember.tensor(a, dtype=dtype, requires_grad=requires_grad) for a in ARRAYS]


def close(results, expected):
    assert len(results) == len(expected)
    for r, e in zip(results, expected):
        np.testing.assert_allclose(r.detach().numpy(), e, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("op", sorted(UNARY_NUMPY))
def test_unary_forms_against_numpy(op):
    assert set(_foreach._UNARY) == set(UNARY_NUMPY)
    out = getattr(ember, f"_foreach_{op}")(tensors())
    assert isinstance(out, tuple)
    close(out, [UNARY_NUMPY[op](a) for a in ARRAYS])
    given = tensors()
    assert getattr(ember, f"_foreach_{op}_")(given) is given  # the list itself, as PyTorch's in-place forms
    close(given, [UNARY_NUMPY[op](a) for a in ARRAYS])


BINARY_NUMPY = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide, "pow": np.power,
    "maximum": np.maximum, "minimum": np.minimum, "clamp_min": np.maximum, "clamp_max": np.minimum,
}  # fmt: skip


@pytest.mark.parametrize("op", sorted(BINARY_NUMPY))
def test_binary_forms_take_a_list_of_tensors_numbers_or_one_number(op):
    ref = BINARY_NUMPY[op]
    others = [rng.uniform(0.3, 0.8, np.shape(a)) for a in ARRAYS]
    fn, in_place = getattr(ember, f"_foreach_{op}"), getattr(ember, f"_foreach_{op}_")
    close(fn(tensors(), [ember.tensor(o) for o in others]), [ref(a, o) for a, o in zip(ARRAYS, others)])
    close(fn(tensors(), [0.5, 2.0, 3.0]), [ref(a, s) for a, s in zip(ARRAYS, [0.5, 2.0, 3.0])])
    close(fn(tensors(), 0.6), [ref(a, 0.6) for a in ARRAYS])
    given = tensors()
    assert in_place(given, 0.6) is given
    close(given, [ref(a, 0.6) for a in ARRAYS])
    given = tensors()  # in place with a list of tensors (maximum and minimum have no in-place method to call)
    assert in_place(given, [ember.tensor(o) for o in others]) is given
    close(given, [ref(a, o) for a, o in zip(ARRAYS, others)])


def test_add_and_sub_take_alpha_with_tensors_and_mul_div_take_one_tensor():
    others = [ember.ones_like(t) * 2 for t in tensors()]
    close(ember._foreach_add(tensors(), others, alpha=0.5), [a + 1.0 for a in ARRAYS])
    close(ember._foreach_sub(tensors(), others, alpha=0.25), [a - 0.5 for a in ARRAYS])
    close(ember._foreach_mul(tensors(), ember.tensor(3.0, dtype=ember.float64)), [a * 3 for a in ARRAYS])
    close(ember._foreach_div(tensors(), ember.tensor(4.0, dtype=ember.float64)), [a / 4 for a in ARRAYS])
    with pytest.raises(TypeError, match="alpha is taken with a list of Tensors"):
        ember._foreach_add(tensors(), 1.0, alpha=2)
    # dtypes promote as the op does: an integer tensor times 1.5 is float
    assert ember._foreach_mul([ember.ones(2, dtype=ember.int64)], 1.5)[0].dtype == ember.float32


def test_pointwise_lerp_pow_and_reductions():
    t1 = [ember.tensor(rng.uniform(0.1, 1, np.shape(a))) for a in ARRAYS]
    t2 = [ember.tensor(rng.uniform(0.5, 1, np.shape(a))) for a in ARRAYS]
    n1, n2 = [t.numpy() for t in t1], [t.numpy() for t in t2]
    close(ember._foreach_addcmul(tensors(), t1, t2, 0.5), [a + 0.5 * b * c for a, b, c in zip(ARRAYS, n1, n2)])
    close(ember._foreach_addcdiv(tensors(), t1, t2, [1.0, 2.0, 3.0]),
          [a + s * b / c for a, b, c, s in zip(ARRAYS, n1, n2, [1.0, 2.0, 3.0])])  # fmt: skip
    close(ember._foreach_addcmul(tensors(), t1, t2, ember.tensor([1.0, 2.0, 3.0])),
          [a + s * b * c for a, b, c, s in zip(ARRAYS, n1, n2, [1.0, 2.0, 3.0])])  # fmt: skip
    close(ember._foreach_lerp(tensors(), t1, 0.25), [a + 0.25 * (b - a) for a, b in zip(ARRAYS, n1)])
    close(ember._foreach_lerp(tensors(), t1, t2), [a + c * (b - a) for a, b, c in zip(ARRAYS, n1, n2)])
    close(ember._foreach_pow(2.0, tensors()), [2.0**a for a in ARRAYS])
    close(ember._foreach_norm(tensors()), [np.linalg.norm(a.ravel()) for a in ARRAYS])
    close(ember._foreach_norm(tensors(), 1), [np.abs(a).sum() for a in ARRAYS])
    close(ember._foreach_norm(tensors(), math.inf), [np.abs(a).max() for a in ARRAYS])
    close(ember._foreach_powsum(tensors(), 3), [(np.abs(a) ** 3).sum() for a in ARRAYS])
    close(ember._foreach_max(tensors()), [a.max() for a in ARRAYS])
    half = [ember.ones(4, dtype=ember.float16)]
    assert ember._foreach_norm(half, dtype=ember.float32)[0].dtype == ember.float32
    mats = [ember.tensor(rng.standard_normal((2, 3))), ember.tensor(rng.standard_normal((3, 3)))]
    close(ember._foreach_mm(mats, [m.mT for m in mats]), [m.numpy() @ m.numpy().T for m in mats])
    copies = ember._foreach_clone(tensors())
    target = [ember.zeros_like(t) for t in copies]
    assert ember._foreach_copy_(target, copies) is target
    close(target, ARRAYS)
    assert ember._foreach_zero_(target) is target and all(not t.any() for t in target)


def test_errors_name_pytorchs_words():
    with pytest.raises(RuntimeError, match="Tensor list must have at least one tensor."):
        ember._foreach_exp([])
    with pytest.raises(RuntimeError, match="Tensor lists must have the same number of tensors, got 3 and 1"):
        ember._foreach_add(tensors(), [ember.ones(1)])
    with pytest.raises(RuntimeError, match="Tensor list must have same number of elements as scalar list."):
        ember._foreach_div(tensors(), [1.0])
    # an empty second list: numbers for the arithmetic ops, tensors for the ones that take only tensors
    with pytest.raises(RuntimeError, match="Tensor list must have same number of elements as scalar list."):
        ember._foreach_add_(tensors(), [])
    with pytest.raises(RuntimeError, match="Tensor lists must have the same number of tensors, got 3 and 0"):
        ember._foreach_addcmul_(tensors(), [], [])
    with pytest.raises(RuntimeError, match="Tensor lists must have the same number of tensors, got 3 and 0"):
        ember._foreach_lerp_(tensors(), [], 0.5)
    with pytest.raises(RuntimeError, match="self must be a matrix"):
        ember._foreach_mm(tensors(), tensors())
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        ember._foreach_mul_(tensors(requires_grad=True), 2.0)


def test_out_of_place_forms_differentiate():
    def through(*ts):
        a, b = list(ts[:2]), list(ts[2:])
        s = ember._foreach_addcmul(ember._foreach_lerp(a, b, 0.3), a, b, 0.5)
        return sum(n.sum() for n in ember._foreach_norm(ember._foreach_exp(s)))

    inputs = [ember.tensor(rng.uniform(0.1, 1, s), requires_grad=True) for s in [(3,), (2, 2)] * 2]
    assert ember.autograd.gradcheck(through, tuple(inputs))


def test_every_name_and_result_as_pytorchs():
    torch = pytest.importorskip("torch")
    names = sorted(n for n in dir(torch) if n.startswith("_foreach_"))
    assert [n for n in names if not hasattr(ember, n)] == []
    pairs = [(lambda lib, a=a: lib.tensor(a)) for a in ARRAYS]
    for name in names:
        base = name.removeprefix("_foreach_").rstrip("_")
        if base in UNARY_NUMPY or base in ("zero", "clone", "max"):
            args = ()
        elif base in BINARY_NUMPY:
            args = (0.7,)
        else:
            continue  # the other signatures are checked above
        results = []
        for lib in (torch, ember):
            out = getattr(lib, name)([make(lib) for make in pairs], *args)
            results.append([np.asarray(t.detach().numpy() if hasattr(t, "detach") else t) for t in out])
        for a, b in zip(*results):
            np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-7, err_msg=name)
