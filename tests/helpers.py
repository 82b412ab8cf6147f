"""One helper that checks any ember op (tinygrad's ``helper_test_op`` idea).

``check_op(inputs, ember_fn, np_fn)`` builds inputs from shapes (or takes
numpy arrays as they are) and checks, in order:

1. float64 forward: ``ember_fn(*tensors)`` against ``np_fn(*arrays)``
   (values, shapes and dtypes);
2. float64 gradient: ``ember.autograd.gradcheck`` on ``ember_fn``;
3. the same two with non-contiguous inputs: a transposed view (2-D and up)
   or a strided slice (1-D) holding the same values;
4. optionally ``ember.autograd.gradgradcheck`` (second derivatives);
5. float32 forward against the float64 numpy reference, result stays float32.

Integer inputs (``integer=True``) and ops without a gradient (``grad=False``)
get the forward checks only.  ``ember_fn`` may return one tensor or a tuple
(``split``, ``max(dim=...)``); ``np_fn`` then returns a tuple of the same length.
"""

import numpy as np

import ember


def as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def to_numpy(t):
    return t.detach().numpy()


def random_array(shape, rng, low=-2.0, high=2.0, integer=False, min_abs=0.0):
    """Uniform values in [low, high); with min_abs, no value has |x| < min_abs
    (keeps inputs away from a pole or a kink such as 1/x or abs at 0)."""
    if integer:
        return rng.integers(int(low), int(high), size=shape, dtype=np.int64)
    a = np.asarray(rng.uniform(low, high, size=shape), dtype=np.float64)
    bad = np.abs(a) < min_abs
    while bad.any():
        a[bad] = rng.uniform(low, high, size=int(bad.sum()))
        bad = np.abs(a) < min_abs
    return a


def noncontiguous(arr, dtype=None, requires_grad=False):
    """An ember tensor with the values of ``arr`` that is a non-contiguous view:
    the transpose of a contiguous tensor for 2-D and up, every second element of
    a twice-as-long tensor for 1-D.  0-d arrays give an ordinary tensor."""
    if arr.ndim >= 2:
        base = ember.tensor(np.ascontiguousarray(np.swapaxes(arr, -1, -2)), dtype=dtype)
        t = base.transpose(-1, -2)
        really = arr.shape[-1] > 1 and arr.shape[-2] > 1
    elif arr.ndim == 1:
        t = ember.tensor(np.repeat(arr, 2), dtype=dtype)[::2]
        really = arr.shape[0] > 1
    else:
        t, really = ember.tensor(arr, dtype=dtype), False
    if really:
        assert not t.is_contiguous(), "test setup: expected a non-contiguous view"
    np.testing.assert_array_equal(to_numpy(t), arr.astype(to_numpy(t).dtype))
    if requires_grad:
        t.requires_grad_()
    return t


def expected_dtype(ref, input_dtype):
    """The ember dtype an output should have, given its numpy reference."""
    kind = np.asarray(ref).dtype.kind
    if kind == "b":
        return ember.bool
    if kind in "iu":
        return ember.int64
    # a float output keeps the inputs' float dtype; integer inputs give the default float32
    return input_dtype if input_dtype in (ember.float32, ember.float64) else ember.float32


def compare_forward(out, ref, input_dtype, rtol, atol):
    outs, refs = as_tuple(out), as_tuple(ref)
    assert len(outs) == len(refs), f"op returned {len(outs)} outputs, reference {len(refs)}"
    for i, (o, r) in enumerate(zip(outs, refs)):
        r = np.asarray(r)
        assert tuple(o.shape) == r.shape, f"output {i}: shape {tuple(o.shape)} != reference {r.shape}"
        want = expected_dtype(r, input_dtype)
        assert o.dtype == want, f"output {i}: dtype {o.dtype} != {want}"
        if r.dtype.kind in "biu":
            np.testing.assert_array_equal(to_numpy(o), r, err_msg=f"output {i}")
        else:
            np.testing.assert_allclose(to_numpy(o), r, rtol=rtol, atol=atol, equal_nan=True, err_msg=f"output {i}")


def _float_outputs(fn):
    def wrapped(*ts):
        outs = tuple(o for o in as_tuple(fn(*ts)) if o.dtype in (ember.float32, ember.float64))
        for o in outs:
            # an op may return its input itself (x.contiguous(), +x): a leaf, without grad_fn
            assert o.requires_grad and (o.grad_fn is not None or any(o is t for t in ts)), (
                "float output does not require grad"
            )
        return outs

    return wrapped


def check_op(
    inputs,
    ember_fn,
    np_fn=None,
    *,
    low=-2.0,
    high=2.0,
    min_abs=0.0,
    integer=False,
    grad=True,
    noncontig=True,
    gradgrad=False,
    float32=True,
    seed=0,
    rtol=1e-7,
    atol=1e-10,
    rtol32=1e-4,
    atol32=1e-5,
):
    """Check ``ember_fn`` against ``np_fn`` and finite differences; see the module docstring.

    inputs: list of shapes (tuples) or numpy arrays (used as given).
    low, high, min_abs: value range of generated inputs (e.g. low=0.1 for log/sqrt).
    integer: generate int64 inputs; implies grad=False and float32=False.
    grad: run gradcheck (False for comparisons, argmax, ...).
    """
    rng = np.random.default_rng(seed)
    arrays = [a if isinstance(a, np.ndarray) else random_array(a, rng, low, high, integer, min_abs) for a in inputs]
    is_float = [a.dtype.kind == "f" for a in arrays]
    grad = grad and not integer and any(is_float)
    float32 = float32 and not integer and any(is_float)
    in_dtype = ember.float64 if any(is_float) else None

    def make(layout, dtype, requires_grad):
        ts = []
        for a, f in zip(arrays, is_float):
            d = dtype if f else None
            a_ = a.astype(np.float32).astype(np.float64) if (f and dtype == ember.float32) else a
            rg = requires_grad and f
            if layout == "noncontiguous":
                ts.append(noncontiguous(a_, dtype=d, requires_grad=rg))
            else:
                ts.append(ember.tensor(a_, dtype=d, requires_grad=rg))
        return ts

    layouts = ["contiguous"] + (["noncontiguous"] if noncontig else [])
    for layout in layouts:
        ts = make(layout, ember.float64, requires_grad=False)
        if np_fn is not None:
            compare_forward(ember_fn(*ts), np_fn(*arrays), in_dtype, rtol, atol)
        if grad:
            ts = make(layout, ember.float64, requires_grad=True)
            assert ember.autograd.gradcheck(_float_outputs(ember_fn), tuple(ts), eps=1e-6, atol=1e-5, rtol=1e-3), (
                f"gradcheck ({layout})"
            )
    if gradgrad and grad:
        ts = make("contiguous", ember.float64, requires_grad=True)
        assert ember.autograd.gradgradcheck(_float_outputs(ember_fn), tuple(ts), eps=1e-6, atol=1e-5, rtol=1e-3), (
            "gradgradcheck"
        )
    if float32 and np_fn is not None:
        ts = make("contiguous", ember.float32, requires_grad=False)
        ref = np_fn(*[a.astype(np.float32).astype(np.float64) if f else a for a, f in zip(arrays, is_float)])
        compare_forward(ember_fn(*ts), ref, ember.float32, rtol32, atol32)


def cube(backward_factor):
    """x**3 as a custom Function whose backward multiplies by backward_factor * x**2."""

    class Cube(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * backward_factor * x * x

    return Cube.apply


def python_command():
    """The command of this interpreter for a test's subprocess, keeping `-S` (tools/sanitize.sh runs the suite
    with it, so that the subprocess too imports the sanitized ember, not an installed one)."""
    import sys

    return [sys.executable, "-S"] if sys.flags.no_site else [sys.executable]


# What making a CUDA tensor raises where CUDA cannot be used: a build without the CUDA backend,
# a CUDA build without a driver, or a driver without GPUs (PyTorch's words for the last two).
NO_CUDA_MESSAGE = "without CUDA support|Found no NVIDIA driver|No CUDA GPUs are available"
