"""The op registry (Note [Op registry]): every registered op is exported in
each form it lists, documented, has a signature `inspect` reads, and is
checked against numpy and finite differences (tests/op_db.py); the forms
derived from one entry (method, in-place, out=, aliases, numpy keyword
names) behave as PyTorch's."""

import inspect
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import ember
from helpers import as_tuple, check_op
from op_db import CASES, COVERED_ELSEWHERE, cases_for, registry

ROWS = {row["name"]: row for row in registry()}
ROOT = Path(__file__).resolve().parents[1]


def method_of(name):
    return lambda t, *args, **kwargs: getattr(t, name)(*args, **kwargs)


def primary(row):
    """The form a case is checked through: the function, else the method."""
    return getattr(ember, row["name"]) if row["function"] else method_of(row["name"])


def float64_inputs(case):
    return [
        ember.tensor(a, dtype=ember.float64) if a.dtype.kind == "f" else ember.tensor(a)
        for a in (
            x if isinstance(x, np.ndarray) else np.random.default_rng(0).uniform(0.5, 1.5, x) for x in case.inputs
        )
    ]


def assert_same(a, b):
    for x, y in zip(as_tuple(a), as_tuple(b)):
        assert x.dtype == y.dtype and x.shape == y.shape
        np.testing.assert_array_equal(x.detach().numpy(), y.detach().numpy())


# ------------------------------------------------------------------ coverage
def test_every_registered_op_has_a_case():
    missing = [name for name in ROWS if not cases_for(name) and name not in COVERED_ELSEWHERE]
    assert not missing, f"registered ops without a case in tests/op_db.py: {missing}"
    stale = sorted({c.name for c in CASES} - set(ROWS)) + sorted(set(COVERED_ELSEWHERE) - set(ROWS))
    assert not stale, f"cases for ops the registry does not have: {stale}"


def test_every_differentiable_op_is_gradient_checked():
    """A differentiable op needs a case whose output is a float tensor, so check_op runs gradcheck on it."""
    unchecked = []
    for name, row in ROWS.items():
        if not row["differentiable"] or name in COVERED_ELSEWHERE:
            continue
        if not any(
            c.opts.get("grad", True) and any(getattr(a, "dtype", np.dtype("f8")).kind == "f" for a in c.inputs)
            for c in cases_for(name)
        ):
            unchecked.append(name)
    assert not unchecked, f"differentiable ops without a gradient check: {unchecked}"


@pytest.mark.parametrize("row", registry(), ids=lambda r: r["name"])
def test_exported_in_every_form(row):
    name = row["name"]
    assert row["doc"].strip(), f"{name} has no docstring"
    if row["function"]:
        assert getattr(ember, name) is getattr(ember._C, name)
        assert name in ember._C.__all__
    if row["method"]:
        assert callable(getattr(ember.Tensor, name))
    if row["inplace"]:
        assert callable(getattr(ember.Tensor, name + "_"))
    for alias in row["aliases"]:
        if row["function"]:
            assert getattr(ember, alias) is getattr(ember, name)
        if row["method"]:
            assert getattr(ember.Tensor, alias) is getattr(ember.Tensor, name)
        if row["inplace"]:
            assert getattr(ember.Tensor, alias + "_") is getattr(ember.Tensor, name + "_")


# ------------------------------------------------------------------ forward and gradient of each case
@pytest.mark.parametrize("case", CASES, ids=str)
def test_forward_and_gradient(case):
    row = ROWS[case.name]
    op = primary(row)
    opts = dict(case.opts)
    grad = opts.pop("grad", True) and row["differentiable"]
    check_op(case.inputs, lambda *ts: case.invoke(op, *ts), case.ref, grad=grad, **opts)


def _requires_grad_inputs(case):
    """The case's inputs, the float ones non-leaf tensors that require grad (a view of those may be written)."""
    return [t.requires_grad_() * 1 if t.is_floating_point() else t for t in float64_inputs(case)]


@pytest.mark.parametrize("case", [c for c in CASES if ROWS[c.name]["differentiable"]], ids=str)
def test_result_takes_an_inplace_op_with_grad(case):
    """Note [Views made inside an op]: an op's result can be written in place under grad mode (ReLU(inplace=True)
    after a 1x1 convolution). A result that is a view its op made of a temporary under no_grad was refused as
    "a view ... created in no_grad mode"; a view op's result (of an input) takes the in-place op as a view."""
    inputs = _requires_grad_inputs(case)
    try:
        out = case.invoke(primary(ROWS[case.name]), *inputs)
    except (RuntimeError, ValueError, TypeError):
        pytest.skip("the case's inputs are for the non-differentiable form")
    for result in as_tuple(out):
        if isinstance(result, ember.Tensor) and result.grad_fn is not None and result.is_floating_point():
            try:
                result.mul_(2)
            except RuntimeError as e:  # PyTorch's refusals stay (multi-output views, expanded memory)
                assert "no_grad mode" not in str(e)  # raised for conv2d, sort, topk, median, take, put and roll
            assert result._base is None or any(result._base is x for x in inputs) or result._base.grad_fn is not None


# where's method takes (condition, other) after self, its function (condition, input, other)
METHOD_SIGNATURE_DIFFERS = {"where"}


def _form_cases(form):
    return [
        pytest.param(c, id=str(c))
        for c in CASES
        if ROWS[c.name][form]
        and (form != "method" or (ROWS[c.name]["function"] and c.name not in METHOD_SIGNATURE_DIFFERS))
    ]


@pytest.mark.parametrize("case", _form_cases("method"))
def test_method_form_matches_function(case):
    ts = float64_inputs(case)
    assert_same(case.invoke(method_of(case.name), *ts), case.invoke(getattr(ember, case.name), *ts))


@pytest.mark.parametrize("case", _form_cases("out"))
def test_out_form(case):
    ts = float64_inputs(case)
    expected = case.invoke(primary(ROWS[case.name]), *ts)
    # ops returning (values, indices) take a tuple of outs and return their named tuple holding them
    several = isinstance(expected, tuple)
    out = tuple(ember.empty(0, dtype=e.dtype) for e in expected) if several else ember.empty(0, dtype=expected.dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an empty out= is resized silently
        result = case.invoke(getattr(ember, case.name), *ts, out=out)
    if several:
        assert type(result) is type(expected) and all(r is o for r, o in zip(result, out))
    else:
        assert result is out
    assert_same(out, expected)


INPLACE_VIEW_OPS = {"t", "transpose", "swapaxes", "squeeze", "unsqueeze", "as_strided"}


@pytest.mark.parametrize("case", _form_cases("inplace"))
def test_inplace_form(case):
    name = case.name
    ts = float64_inputs(case)
    expected = case.invoke(primary(ROWS[name]), *ts)
    target = ts[0].clone()
    before = target._version
    inplace = method_of(name + "_")
    if expected.dtype.is_floating_point and not target.dtype.is_floating_point:
        with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
            case.invoke(inplace, target, *ts[1:])
        return
    # In-place view ops (t_, transpose_, squeeze_, unsqueeze_) change self's shape, as PyTorch's do.
    if expected.shape != target.shape and name not in INPLACE_VIEW_OPS:
        with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
            case.invoke(inplace, target, *ts[1:])
        return
    result = case.invoke(inplace, target, *ts[1:])
    assert result is target
    assert target._version > before
    assert_same(target, expected.to(target.dtype))
    if ROWS[name]["differentiable"] and case.opts.get("grad", True) and target.dtype.is_floating_point:
        # the in-place form records the op's node on a non-leaf and differentiates as the op
        leaves = [t.detach().requires_grad_(t.is_floating_point()) for t in ts]
        assert ember.autograd.gradcheck(
            lambda *xs: case.invoke(lambda a, *r, **k: getattr(a.clone(), name + "_")(*r, **k), *xs),
            tuple(leaves),
            eps=1e-6,
            atol=1e-5,
            rtol=1e-3,
        )


# ------------------------------------------------------------------ behaviour of the derived forms
def test_out_refuses_autograd_as_pytorch():
    x = ember.randn(3, requires_grad=True)
    with pytest.raises(
        RuntimeError,
        match=r"exp\(\): functions with out=\.\.\. arguments don't support automatic "
        r"differentiation, but one of the arguments requires grad\.",
    ):
        ember.exp(x, out=ember.empty(3))
    with ember.no_grad():
        out = ember.empty(3)
        assert ember.exp(x, out=out) is out


def test_out_resizes_with_pytorchs_warning_and_checks_dtype():
    x = ember.randn(3, 4)
    out = ember.zeros(2)
    with pytest.warns(
        UserWarning,
        match=r"An output with one or more elements was resized since it had shape \[2\], "
        r"which does not match the required output shape \[3, 4\]",
    ):
        ember.add(x, 1, out=out)
    np.testing.assert_allclose(out.numpy(), x.numpy() + 1, rtol=1e-6)
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        ember.exp(x, out=ember.empty(0, dtype=ember.int64))
    with pytest.raises(TypeError, match=r"add\(\): argument 'out' must be Tensor, not int"):
        ember.add(x, 1, out=3)
    with pytest.raises(RuntimeError, match="is a view and cannot be resized"), pytest.warns(UserWarning):
        ember.add(x, 1, out=ember.zeros(4, 4)[:2])


def test_generic_inplace_checks_as_pytorch():
    leaf = ember.randn(3, requires_grad=True)
    with pytest.raises(
        RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation."
    ):
        leaf.exp_()
    with pytest.raises(RuntimeError, match=r"output with shape \[3\] doesn't match the broadcast shape \[2, 3\]"):
        ember.ones(3).clamp_(min=ember.zeros(2, 3))
    y = leaf * 1
    y.sigmoid_()
    assert y.grad_fn.name() == "SigmoidBackward0"
    y.sum().backward()
    s = 1 / (1 + np.exp(-leaf.detach().numpy()))
    np.testing.assert_allclose(leaf.grad.numpy(), s * (1 - s), rtol=1e-5)
    with ember.no_grad():
        leaf.tanh_()  # allowed outside autograd, as in PyTorch


def test_numpy_keyword_names():
    """axis= and keepdims= work wherever dim= and keepdim= do (Note [Keyword aliases])."""
    x = ember.randn(3, 4, 5)
    checked = 0
    for name, row in ROWS.items():
        forms = [
            f
            for f in (
                getattr(ember, name, None) if row["function"] else None,
                getattr(ember.Tensor, name) if row["method"] else None,
            )
            if f is not None
        ]
        for f in forms:
            params = inspect.signature(f).parameters
            if "dim" not in params or "keepdim" not in params or name in ("max", "min", "kthvalue"):
                continue
            by_dim = f(x, dim=1, keepdim=True)
            by_axis = f(x, axis=1, keepdims=True)
            assert_same(by_axis, by_dim)
            # the two names mixed, as PyTorch's parser accepts (piq writes mean(dim=[1, 2, 3], keepdims=True))
            assert_same(f(x, dim=1, keepdims=True), by_dim)
            assert_same(f(x, axis=1, keepdim=True), by_dim)
            checked += 1
    assert checked >= 20
    assert ember.mean(x, dim=[1, 2], keepdims=True).shape == (3, 1, 1)
    assert ember.frobenius_norm(x, axis=1, keepdims=True).shape == (3, 1, 5)
    with pytest.raises(TypeError, match="incompatible function arguments"):  # one parameter named twice
        x.sum(dim=1, axis=1, keepdims=True)
    assert ember.cat([x, x], axis=2).shape == (3, 4, 10)
    assert x.max(axis=1).values.shape == (3, 5)
    assert ember.softmax(x, axis=-1).shape == x.shape


def test_python_number_conversions():
    t = ember.tensor([2.5])
    assert bool(t) and float(t) == 2.5 and int(t) == 2
    assert [10, 20, 30][ember.tensor(1)] == 20
    with pytest.raises(TypeError, match="only integer tensors of a single element can be converted to an index"):
        [1, 2][ember.tensor(1.0)]
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with more than one value is ambiguous"):
        bool(ember.ones(2))
    with pytest.raises(ValueError, match="only one element tensors can be converted to Python scalars"):
        float(ember.ones(2))
    assert hash(t) == hash(t) and len({t, ember.tensor([2.5])}) == 2


def test_dtype_conversions():
    x = ember.tensor([1.5, -2.0, 0.0], requires_grad=True)
    assert x.double().dtype == ember.float64 and x.float() is x
    assert x.long().tolist() == [1, -2, 0] and x.int().dtype == ember.int32
    assert x.bool().tolist() == [True, True, False]
    assert x.type_as(ember.zeros(1, dtype=ember.float64)).dtype == ember.float64
    y = x.double()
    assert y.grad_fn.name() == "ToCopyBackward0" and y.grad_fn._saved_self_dtype == "float32"
    (y * 2).sum().backward()
    assert x.grad.dtype == ember.float32 and x.grad.tolist() == [2.0, 2.0, 2.0]
    assert not x.long().requires_grad
    # Tensor.to's copy between devices: on the same device it is the dtype conversion
    x.grad = None
    z = x._to_device(ember.device("cpu"), ember.float64)
    assert z.dtype == ember.float64 and z.grad_fn.name() == "ToCopyBackward0"
    (z * 4).sum().backward()
    assert x.grad.dtype == ember.float32 and x.grad.tolist() == [4.0, 4.0, 4.0]
    assert x._to_device(ember.device("cpu"), ember.float32) is x
    x.grad = None
    # the narrow dtypes: half floats carry the gradient back in float32, integers carry none
    for method, dtype in [("half", ember.float16), ("bfloat16", ember.bfloat16)]:
        x.grad = None
        h = getattr(x, method)()
        assert h.dtype == dtype and h.tolist() == [1.5, -2.0, 0.0] and h.grad_fn.name() == "ToCopyBackward0"
        (h * 3).sum().backward()
        assert x.grad.dtype == ember.float32 and x.grad.tolist() == [3.0, 3.0, 3.0]
    for method, dtype in [("short", ember.int16), ("char", ember.int8), ("byte", ember.uint8)]:
        small = getattr(x, method)()
        assert small.dtype == dtype and small.tolist() == [1, -2 % 256 if dtype == ember.uint8 else -2, 0]
        assert not small.requires_grad


def test_utilities():
    ember.manual_seed(7)
    assert ember.initial_seed() == 7
    assert isinstance(ember.default_generator, ember.Generator)
    assert ember.result_type(ember.ones(2, dtype=ember.int64), 2.5) == ember.float32
    assert ember.result_type(ember.ones(2, dtype=ember.int32), ember.ones(1, dtype=ember.int64)) == ember.int64
    state = ember.get_rng_state()
    first = ember.randn(5)
    ember.set_rng_state(state)
    assert ember.randn(5).tolist() == first.tolist()
    with pytest.raises(RuntimeError, match="not a generator state"):
        ember.set_rng_state(ember.tensor([1, 2, 3]))


# ------------------------------------------------------------------ signatures and docs
def _public_callables():
    for name in dir(ember):
        obj = getattr(ember, name)
        if not name.startswith("_") and callable(obj) and not isinstance(obj, type(ember)):
            yield f"ember.{name}", obj
    for name, obj in vars(ember.Tensor).items():
        if callable(obj) and (not name.startswith("_") or (name.startswith("__") and name in ROWS)):
            yield f"Tensor.{name}", obj


@pytest.mark.parametrize("qualname, obj", list(_public_callables()), ids=lambda v: v if isinstance(v, str) else "")
def test_signature_and_docstring(qualname, obj):
    sig = "" if isinstance(obj, type) else inspect.signature(obj)  # ValueError: a builtin without a text signature
    doc = inspect.getdoc(obj) or ""
    lines = [line for line in doc.splitlines() if line.strip()]
    # pybind11 puts the typed signature first; a docstring says something after it
    words = lines[1:] if lines and lines[0].startswith(qualname.split(".")[-1] + "(") else lines
    assert words, f"{qualname}{sig} has no docstring"


def test_help_shows_parameters():
    assert str(inspect.signature(ember.add)) == "(input, other, *, alpha=1.0, out=None)"
    assert str(inspect.signature(ember.ones(1).sum)) == "(dim=None, keepdim=False, *, dtype=None)"
    assert "Adds other" in ember.add.__doc__
    assert str(inspect.signature(ember.Tensor.clamp_)) == "(self, min=None, max=None)"


def test_docs_op_list_is_current():
    """docs/ops.md is generated from the registry: regenerate with `python tools/gen_docs.py`."""
    out = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_docs.py"), "--check"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_every_op_is_in_the_docs():
    text = (ROOT / "docs" / "ops.md").read_text()
    for name, row in ROWS.items():
        assert f"`{name}`" in text, name
        for alias in row["aliases"]:
            assert f"`{alias}`" in text, alias
