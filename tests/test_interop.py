"""numpy interop and integer ops as PyTorch defines them: `tensor op array`,
`array op tensor`, read-only arrays, bitwise operators on integer tensors,
and the named saved values of grad_fn (Note [Node state])."""

import subprocess

import numpy as np
import pytest

import ember
from helpers import python_command


def test_tensor_op_array_gives_a_tensor():
    x = ember.ones(3, 4)
    r = x * np.full((3, 4), 2.0)
    assert isinstance(r, ember.Tensor) and r.dtype == ember.float64  # the array counts as a float64 tensor
    np.testing.assert_array_equal(r.numpy(), np.full((3, 4), 2.0))
    r = x + np.arange(4, dtype=np.int64)
    assert isinstance(r, ember.Tensor) and r.dtype == ember.float32
    eq = np.ones(4) == x  # numpy gives way, the tensor's __eq__ answers
    assert isinstance(eq, ember.Tensor) and eq.dtype == ember.bool and bool(eq.all())


def test_array_op_tensor_is_refused_as_pytorch():
    x = ember.ones(3, 4)
    with pytest.raises(TypeError, match="unsupported operand"):
        np.ones((3, 4)) * x
    with pytest.raises(TypeError, match="unsupported operand"):
        np.ones((3, 4)) @ x.T
    # numpy scalars behave as Python numbers on either side
    assert (np.float64(2.0) * x).dtype == ember.float32 and (x * np.int64(3)).dtype == ember.float32


def test_read_only_array_warns_once_and_stays_read_only():
    code = """
import warnings, numpy as np, ember
a = np.arange(4.0); a.flags.writeable = False
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    ember.tensor(a)  # a copy: nothing to warn about
    assert not w, w
    t = ember.from_numpy(a)
    ember.from_numpy(a)
    ember.as_tensor(a)
assert len(w) == 1 and "The given NumPy array is not writable" in str(w[0].message), [str(m.message) for m in w]
assert not a.flags.writeable
assert t.tolist() == [0.0, 1.0, 2.0, 3.0]
print("ok")
"""
    out = subprocess.run([*python_command(), "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stdout + out.stderr


@pytest.mark.parametrize(
    "op, ref",
    [
        (lambda a, b: a & b, np.bitwise_and),
        (lambda a, b: a | b, np.bitwise_or),
        (lambda a, b: a ^ b, np.bitwise_xor),
        (lambda a, b: a << b, np.left_shift),
        (lambda a, b: a >> b, np.right_shift),
    ],
    ids=["and", "or", "xor", "lshift", "rshift"],
)
@pytest.mark.parametrize("dtype", [ember.int64, ember.int32])
def test_bitwise_operators_on_integers(op, ref, dtype):
    rng = np.random.default_rng(0)
    a = rng.integers(-1000, 1000, size=(4, 5))
    b = rng.integers(0, 9, size=(5,))
    r = op(ember.tensor(a, dtype=dtype), ember.tensor(b, dtype=dtype))
    assert r.dtype == dtype
    np.testing.assert_array_equal(r.numpy(), ref(a, b))
    np.testing.assert_array_equal(op(ember.tensor(a, dtype=dtype), 3).numpy(), ref(a, 3))


def test_bitwise_edge_cases_as_pytorch():
    x = ember.tensor([3, 5, -5])
    assert (~x).tolist() == [-4, -6, 4]
    assert (x >> 1).tolist() == [1, 2, -3]
    assert (ember.tensor(5) << 70).item() == 0  # shifting past the width gives 0, as in PyTorch
    assert (ember.tensor(-5) >> 70).item() == -1
    assert (1 << ember.tensor([2])).tolist() == [4]
    m = ember.tensor([True, False])
    assert (m & True).tolist() == [True, False] and (~m).tolist() == [False, True]
    assert (ember.tensor([True]) ^ ember.tensor([1])).tolist() == [0]  # bool with int promotes to int
    y = ember.tensor([12, 10])
    y &= 6
    y |= 1
    y ^= 2
    assert y.tolist() == [7, 1]
    with pytest.raises(NotImplementedError, match="\"bitwise_and_cpu\" not implemented for 'Float'"):
        ember.tensor([1.0]) & ember.tensor([1.0])
    with pytest.raises(NotImplementedError, match="\"bitwise_or_cpu\" not implemented for 'Long'|not implemented"):
        ember.tensor([3]) | 1.5
    with pytest.raises(TypeError, match=r"~ \(operator.invert\) is only implemented on integer and Boolean-type"):
        ~ember.tensor([1.0])
    with pytest.raises(NotImplementedError, match="\"lshift_cpu\" not implemented for 'Float'"):
        ember.tensor([1.5]) << 1


def test_saved_values_by_name():
    x = ember.randn(3, 4, dtype=ember.float64, requires_grad=True)
    y = x.clamp(-1, 1)
    assert (y.grad_fn._saved_min, y.grad_fn._saved_max) == (-1.0, 1.0)
    assert y.grad_fn._saved_self is not None and y.grad_fn._saved_self.shape == (3, 4)
    s = x.sum(1, keepdim=True)
    assert (s.grad_fn._saved_dim, s.grad_fn._saved_keepdim, s.grad_fn._saved_self_sym_sizes) == ((1,), True, (3, 4))
    assert x.transpose(0, 1).grad_fn._saved_dim0 == 0
    assert ember.add(x, x, alpha=2).grad_fn._saved_alpha == 2.0
    assert (x**3).grad_fn._saved_exponent == 3.0
    assert x.softmax(-1).grad_fn._saved_dim == 1
    i = x[ember.tensor([0, 2])]
    assert isinstance(i.grad_fn._saved_indices, tuple) and i.grad_fn._saved_indices[0].tolist() == [0, 2]
    e = x.exp()
    assert "_saved_result" in dir(e.grad_fn)
    assert bool((e.grad_fn._saved_result == e).all())
    e.sum().backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        e.grad_fn._saved_result  # noqa: B018  (freed after backward, as in PyTorch)
    with pytest.raises(AttributeError, match="'ExpBackward0' object has no attribute '_saved_foo'"):
        e.grad_fn._saved_foo  # noqa: B018


def test_saved_values_match_pytorchs_names():
    torch = pytest.importorskip("torch")
    cases = [
        lambda m, x: x.clamp(-1, 1),
        lambda m, x: x.sum(1, keepdim=True),
        lambda m, x: x.mean(1),
        lambda m, x: x.transpose(0, 1),
        lambda m, x: x.permute(1, 0),
        lambda m, x: m.add(x, x, alpha=2),
        lambda m, x: x**3,
        lambda m, x: x.softmax(1),
        lambda m, x: x.log_softmax(0),
        lambda m, x: x.exp(),
        lambda m, x: x * x,
        lambda m, x: x.unsqueeze(1),
        lambda m, x: x.amax(1),
        lambda m, x: x.var(1),
        lambda m, x: x.max(1)[0],
        lambda m, x: x.index_select(0, m.tensor([0, 2])),
        lambda m, x: x.prod(1),
    ]
    values = np.random.default_rng(0).uniform(0.5, 1.5, (3, 4))
    for fn in cases:
        nodes = [fn(lib, lib.tensor(values, requires_grad=True)).grad_fn for lib in (ember, torch)]
        names = {a for a in dir(nodes[1]) if a.startswith("_saved_") and a in dir(nodes[0])}
        assert names, nodes[1].name()
        for a in names:
            e, t = getattr(nodes[0], a), getattr(nodes[1], a)
            if isinstance(t, torch.Tensor):
                np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), err_msg=f"{nodes[1].name()}.{a}")
            else:
                assert e == t, f"{nodes[1].name()}.{a}: {e!r} != {t!r}"
