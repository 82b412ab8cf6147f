"""repr(tensor) reads exactly as PyTorch's.

The expected strings below were printed by PyTorch 2.x for the same
expressions (with "torch." replaced by "ember."); the last test compares
with a live PyTorch when one is installed.
"""

import math

import numpy as np
import pytest

import ember


def build(src, lib=ember):
    return eval(src, {"ember": lib, "nan": math.nan, "inf": math.inf})


CASES = [
    # integer-valued floats print as "1."; the default dtype is not named
    ("ember.tensor([1., 2.])", "tensor([1., 2.])"),
    ("ember.tensor(3.)", "tensor(3.)"),
    ("ember.tensor([[1., -10.], [100., 2.]])", "tensor([[  1., -10.],\n        [100.,   2.]])"),
    # fixed notation, 4 digits, columns right-aligned to the widest element
    ("ember.tensor([1.5, 2.25, -3.125])", "tensor([ 1.5000,  2.2500, -3.1250])"),
    ("ember.tensor([1.23456789, 100.5])", "tensor([  1.2346, 100.5000])"),
    ("ember.tensor([[0.5, -12.25], [3.0, 4.125]])", "tensor([[  0.5000, -12.2500],\n        [  3.0000,   4.1250]])"),
    ("ember.tensor(0.1)", "tensor(0.1000)"),
    # scientific notation: max/min ratio > 1000, max > 1e8, min < 1e-4
    ("ember.tensor([1., 1000.])", "tensor([   1., 1000.])"),
    ("ember.tensor([1., 1001.])", "tensor([1.0000e+00, 1.0010e+03])"),
    ("ember.tensor([0.5, 1000.])", "tensor([5.0000e-01, 1.0000e+03])"),
    ("ember.tensor([1e8])", "tensor([100000000.])"),
    ("ember.tensor([1.5e8, 2.])", "tensor([1.5000e+08, 2.0000e+00])"),
    ("ember.tensor([1e-4, 2e-4])", "tensor([1.0000e-04, 2.0000e-04])"),
    ("ember.tensor([5e-5, 1.])", "tensor([5.0000e-05, 1.0000e+00])"),
    ("ember.tensor([1e-6, 0.])", "tensor([1.0000e-06, 0.0000e+00])"),
    (
        "ember.tensor([[1e10, -2.5], [3., 4e-3]])",
        "tensor([[ 1.0000e+10, -2.5000e+00],\n        [ 3.0000e+00,  4.0000e-03]])",
    ),
    ("ember.tensor(123456789.)", "tensor(1.2346e+08)"),
    # zeros, nan and inf do not take part in choosing notation or width
    ("ember.tensor([0., 0.])", "tensor([0., 0.])"),
    ("ember.tensor([nan, inf, -inf, 1.])", "tensor([nan, inf, -inf, 1.])"),
    ("ember.tensor([nan, 1.5])", "tensor([   nan, 1.5000])"),
    ("ember.tensor([nan, 1e-6])", "tensor([       nan, 1.0000e-06])"),
    ("ember.tensor(nan)", "tensor(nan)"),
    ("ember.tensor([0., 1e9, inf])", "tensor([0.0000e+00, 1.0000e+09,        inf])"),
    # negative zero keeps its sign
    ("ember.tensor([-0., 1.])", "tensor([-0., 1.])"),
    ("ember.tensor(-0.)", "tensor(-0.)"),
    ("ember.tensor([-0., 0.5])", "tensor([-0.0000, 0.5000])"),
    # integers and bools
    ("ember.tensor([1, 2, 300])", "tensor([  1,   2, 300])"),
    ("ember.tensor([[1, -2], [30, 4]])", "tensor([[ 1, -2],\n        [30,  4]])"),
    ("ember.tensor(5)", "tensor(5)"),
    ("ember.tensor([True, False])", "tensor([ True, False])"),
    ("ember.tensor(True)", "tensor(True)"),
    ("ember.tensor([[True], [False]])", "tensor([[ True],\n        [False]])"),
    ("ember.arange(1001)", "tensor([   0,    1,    2,  ...,  998,  999, 1000])"),
    # nested brackets: one newline between rows, two between matrices, three between 3-D blocks
    (
        "ember.arange(12.).reshape(2, 2, 3)",
        "tensor([[[ 0.,  1.,  2.],\n"
        "         [ 3.,  4.,  5.]],\n"
        "\n"
        "        [[ 6.,  7.,  8.],\n"
        "         [ 9., 10., 11.]]])",
    ),
    (
        "ember.arange(16.).reshape(2, 2, 2, 2)",
        "tensor([[[[ 0.,  1.],\n"
        "          [ 2.,  3.]],\n"
        "\n"
        "         [[ 4.,  5.],\n"
        "          [ 6.,  7.]]],\n"
        "\n"
        "\n"
        "        [[[ 8.,  9.],\n"
        "          [10., 11.]],\n"
        "\n"
        "         [[12., 13.],\n"
        "          [14., 15.]]]])",
    ),
    ("ember.arange(6).reshape(1, 2, 3)", "tensor([[[0, 1, 2],\n         [3, 4, 5]]])"),
    ("ember.ones(1, 1, 1, 1)", "tensor([[[[1.]]]])"),
    # 1-D rows wrap at 80 columns, continuation lines indented under the first element
    (
        "ember.arange(30.)",
        "tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n"
        "        14., 15., 16., 17., 18., 19., 20., 21., 22., 23., 24., 25., 26., 27.,\n"
        "        28., 29.])",
    ),
    (
        "ember.arange(40).reshape(2, 20) * 1000",
        "tensor([[    0,  1000,  2000,  3000,  4000,  5000,  6000,  7000,  8000,  9000,\n"
        "         10000, 11000, 12000, 13000, 14000, 15000, 16000, 17000, 18000, 19000],\n"
        "        [20000, 21000, 22000, 23000, 24000, 25000, 26000, 27000, 28000, 29000,\n"
        "         30000, 31000, 32000, 33000, 34000, 35000, 36000, 37000, 38000, 39000]])",
    ),
    (
        "ember.linspace(0, 1, 25)",
        "tensor([0.0000, 0.0417, 0.0833, 0.1250, 0.1667, 0.2083, 0.2500, 0.2917, 0.3333,\n"
        "        0.3750, 0.4167, 0.4583, 0.5000, 0.5417, 0.5833, 0.6250, 0.6667, 0.7083,\n"
        "        0.7500, 0.7917, 0.8333, 0.8750, 0.9167, 0.9583, 1.0000])",
    ),
    # more than 1000 elements: 3 edge items and "..." per dimension
    (
        "ember.arange(2000.)",
        "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n        1.9990e+03])",
    ),
    ("ember.arange(1001.).reshape(1, 1001)", "tensor([[   0.,    1.,    2.,  ...,  998.,  999., 1000.]])"),
    (
        "ember.arange(2000.).reshape(40, 50)",
        "tensor([[0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 4.7000e+01, 4.8000e+01,\n"
        "         4.9000e+01],\n"
        "        [5.0000e+01, 5.1000e+01, 5.2000e+01,  ..., 9.7000e+01, 9.8000e+01,\n"
        "         9.9000e+01],\n"
        "        [1.0000e+02, 1.0100e+02, 1.0200e+02,  ..., 1.4700e+02, 1.4800e+02,\n"
        "         1.4900e+02],\n"
        "        ...,\n"
        "        [1.8500e+03, 1.8510e+03, 1.8520e+03,  ..., 1.8970e+03, 1.8980e+03,\n"
        "         1.8990e+03],\n"
        "        [1.9000e+03, 1.9010e+03, 1.9020e+03,  ..., 1.9470e+03, 1.9480e+03,\n"
        "         1.9490e+03],\n"
        "        [1.9500e+03, 1.9510e+03, 1.9520e+03,  ..., 1.9970e+03, 1.9980e+03,\n"
        "         1.9990e+03]])",
    ),
    (
        "ember.arange(1200).reshape(10, 2, 60)",
        "tensor([[[   0,    1,    2,  ...,   57,   58,   59],\n"
        "         [  60,   61,   62,  ...,  117,  118,  119]],\n"
        "\n"
        "        [[ 120,  121,  122,  ...,  177,  178,  179],\n"
        "         [ 180,  181,  182,  ...,  237,  238,  239]],\n"
        "\n"
        "        [[ 240,  241,  242,  ...,  297,  298,  299],\n"
        "         [ 300,  301,  302,  ...,  357,  358,  359]],\n"
        "\n"
        "        ...,\n"
        "\n"
        "        [[ 840,  841,  842,  ...,  897,  898,  899],\n"
        "         [ 900,  901,  902,  ...,  957,  958,  959]],\n"
        "\n"
        "        [[ 960,  961,  962,  ..., 1017, 1018, 1019],\n"
        "         [1020, 1021, 1022,  ..., 1077, 1078, 1079]],\n"
        "\n"
        "        [[1080, 1081, 1082,  ..., 1137, 1138, 1139],\n"
        "         [1140, 1141, 1142,  ..., 1197, 1198, 1199]]])",
    ),
    ("ember.zeros(2, 1000)", "tensor([[0., 0., 0.,  ..., 0., 0., 0.],\n        [0., 0., 0.,  ..., 0., 0., 0.]])"),
    # empty tensors: size unless 1-D, dtype unless float32
    ("ember.tensor([])", "tensor([])"),
    ("ember.zeros(0, 3)", "tensor([], size=(0, 3))"),
    ("ember.zeros(2, 0, 4)", "tensor([], size=(2, 0, 4))"),
    ("ember.tensor([], dtype=ember.int64)", "tensor([], dtype=ember.int64)"),
    ("ember.zeros(0, dtype=ember.float64)", "tensor([], dtype=ember.float64)"),
    ("ember.zeros(0, 2, dtype=ember.bool)", "tensor([], size=(0, 2), dtype=ember.bool)"),
    # dtype suffix
    ("ember.tensor([1., 2.], dtype=ember.float64)", "tensor([1., 2.], dtype=ember.float64)"),
    ("ember.tensor(2.5, dtype=ember.float64)", "tensor(2.5000, dtype=ember.float64)"),
    ("ember.tensor([1, 2], dtype=ember.int64)", "tensor([1, 2])"),
    ("ember.tensor([0.1, 0.2], dtype=ember.float64)", "tensor([0.1000, 0.2000], dtype=ember.float64)"),
    # autograd suffixes
    ("ember.tensor([1., 2.], requires_grad=True)", "tensor([1., 2.], requires_grad=True)"),
    ("ember.tensor(2., requires_grad=True) * 3", "tensor(6., grad_fn=<MulBackward0>)"),
    ("ember.tensor([1., 2.], requires_grad=True).sum()", "tensor(3., grad_fn=<SumBackward0>)"),
    ("ember.tensor([1., 2.], requires_grad=True) + 1", "tensor([2., 3.], grad_fn=<AddBackward0>)"),
    ("ember.tensor([1., 2.], requires_grad=True) ** 2", "tensor([1., 4.], grad_fn=<PowBackward0>)"),
    (
        "ember.ones(2, 2, requires_grad=True).mm(ember.ones(2, 2))",
        "tensor([[2., 2.],\n        [2., 2.]], grad_fn=<MmBackward0>)",
    ),
    (
        "ember.tensor([1., 2.], dtype=ember.float64, requires_grad=True)",
        "tensor([1., 2.], dtype=ember.float64, requires_grad=True)",
    ),
    ("ember.tensor([1., 2.], requires_grad=True).detach()", "tensor([1., 2.])"),
    # suffixes move to a new line when the last line would pass 80 columns
    (
        "ember.arange(13, dtype=ember.float64) + 0.5",
        "tensor([ 0.5000,  1.5000,  2.5000,  3.5000,  4.5000,  5.5000,  6.5000,  7.5000,\n"
        "         8.5000,  9.5000, 10.5000, 11.5000, 12.5000], dtype=ember.float64)",
    ),
    (
        "ember.arange(11, dtype=ember.float64).requires_grad_() * 1.5",
        "tensor([ 0.0000,  1.5000,  3.0000,  4.5000,  6.0000,  7.5000,  9.0000, 10.5000,\n"
        "        12.0000, 13.5000, 15.0000], dtype=ember.float64,\n"
        "       grad_fn=<MulBackward0>)",
    ),
    (
        "ember.arange(13.).requires_grad_() * 1.5",
        "tensor([ 0.0000,  1.5000,  3.0000,  4.5000,  6.0000,  7.5000,  9.0000, 10.5000,\n"
        "        12.0000, 13.5000, 15.0000, 16.5000, 18.0000], grad_fn=<MulBackward0>)",
    ),
]

INT32_CASES = [
    ("ember.tensor([1, 2], dtype=ember.int32)", "tensor([1, 2], dtype=ember.int32)"),
    ("ember.tensor(7, dtype=ember.int32)", "tensor(7, dtype=ember.int32)"),
    ("ember.zeros(0, dtype=ember.int32)", "tensor([], dtype=ember.int32)"),
]

OPTION_CASES = [
    (dict(precision=2), "ember.tensor([1.12345, 2.5])", "tensor([1.12, 2.50])"),
    (dict(precision=6), "ember.tensor([1.12345678, 2.5])", "tensor([1.123457, 2.500000])"),
    (dict(sci_mode=True), "ember.tensor([1.5, 2.])", "tensor([1.5000e+00, 2.0000e+00])"),
    (dict(sci_mode=False), "ember.tensor([1e-6, 1.])", "tensor([0.0000, 1.0000])"),
    (dict(threshold=5), "ember.arange(10)", "tensor([0, 1, 2,  ..., 7, 8, 9])"),
    (
        dict(threshold=5, edgeitems=1),
        "ember.arange(24.).reshape(2, 3, 4)",
        "tensor([[[ 0.,  ...,  3.],\n"
        "         ...,\n"
        "         [ 8.,  ..., 11.]],\n"
        "\n"
        "        [[12.,  ..., 15.],\n"
        "         ...,\n"
        "         [20.,  ..., 23.]]])",
    ),
    (
        dict(linewidth=30),
        "ember.arange(12.)",
        "tensor([ 0.,  1.,  2.,  3.,\n         4.,  5.,  6.,  7.,\n         8.,  9., 10., 11.])",
    ),
    (dict(profile="short"), "ember.tensor([1.12345, 2.5])", "tensor([1.12, 2.50])"),
]


@pytest.fixture
def default_printoptions():
    yield
    ember.set_printoptions(profile="default")


@pytest.mark.parametrize("src, expected", [c for c in CASES], ids=[c[0] for c in CASES])
def test_repr(src, expected):
    t = build(src)
    assert repr(t) == expected
    assert str(t) == expected


@pytest.mark.skipif(not hasattr(ember, "int32"), reason="no int32 in this build")
@pytest.mark.parametrize("src, expected", INT32_CASES, ids=[c[0] for c in INT32_CASES])
def test_repr_int32(src, expected):
    assert repr(build(src)) == expected


@pytest.mark.parametrize("options, src, expected", OPTION_CASES, ids=[f"{c[0]}-{c[1]}" for c in OPTION_CASES])
def test_printoptions(default_printoptions, options, src, expected):
    ember.set_printoptions(**options)
    assert repr(build(src)) == expected


def test_printoptions_default_profile_restores(default_printoptions):
    ember.set_printoptions(precision=2, threshold=5, sci_mode=True)
    ember.set_printoptions(profile="default")
    assert repr(ember.tensor([1.12345, 2.5])) == "tensor([1.1235, 2.5000])"
    assert repr(ember.arange(10)) == "tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])"


def _parity_arrays():
    """Seeded numpy data spanning the formatting rules: magnitudes from 1e-6 to
    1e10, integer-valued floats, nan/inf, -0., ints, bools, big (summarised)
    and empty arrays, 0-d to 4-d."""
    rng = np.random.default_rng(1234)
    shapes = [(), (1,), (5,), (30,), (3, 4), (2, 3, 4), (2, 1, 3, 2), (1200,), (40, 30), (11, 10, 10), (0,), (0, 3)]
    cases = []
    for shape in shapes:
        n = int(np.prod(shape))
        for scale in (1e-6, 1e-3, 1.0, 123.0, 1e5, 1e10):
            a = rng.standard_normal(n) * scale
            cases.append((f"f32-{shape}-x{scale:g}", a.reshape(shape).astype(np.float32)))
            cases.append((f"f64-{shape}-x{scale:g}", a.reshape(shape)))
        ints = rng.integers(-50, 50, n)
        cases.append((f"intfloat-{shape}", ints.reshape(shape).astype(np.float32)))
        cases.append((f"int64-{shape}", (ints * 1000).reshape(shape)))
        cases.append((f"bool-{shape}", (ints > 0).reshape(shape)))
        mixed = rng.standard_normal(n) * 10.0 ** rng.uniform(-6, 10, n)
        cases.append((f"mixed-{shape}", mixed.reshape(shape).astype(np.float32)))
        special = np.round(rng.standard_normal(n) * 3)
        special[::3] = np.nan
        special[1::5] = np.inf
        special[2::7] = -0.0
        cases.append((f"special-{shape}", special.reshape(shape).astype(np.float32)))
    return cases


PARITY = _parity_arrays()


@pytest.mark.parametrize("name, a", PARITY, ids=[c[0] for c in PARITY])
def test_repr_matches_torch(name, a):
    torch = pytest.importorskip("torch")

    def same(e, t):
        assert repr(e) == repr(t).replace("torch.", "ember.")

    e, t = ember.tensor(a), torch.tensor(a)
    same(e, t)
    if e.dim() == 2:  # a non-contiguous view prints its logical order
        same(e.t(), t.t())
    if a.dtype.kind == "f":
        same(ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True))
        same(ember.tensor(a, requires_grad=True) * 2, torch.tensor(a, requires_grad=True) * 2)
