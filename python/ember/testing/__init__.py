"""ember.testing, as torch.testing: ``assert_close`` (tensors, numbers, numpy arrays and nested sequences
or mappings of them, with PyTorch's default tolerances per dtype and its failure messages) and
``make_tensor`` (random test inputs of a given shape and dtype)."""

from __future__ import annotations

import collections.abc
import math
import numbers
import warnings
from typing import Any, Callable

import numpy as np

from .. import _C
from .._creation import empty, rand, randint, tensor
from .._dtype_info import finfo

__all__ = ["assert_allclose", "assert_close", "make_tensor"]

_dt = _C.dtype
# (rtol, atol) by dtype, PyTorch's defaults; every other dtype compares exactly.
_TOLERANCES = {
    _dt.float16: (1e-3, 1e-5),
    _dt.bfloat16: (1.6e-2, 1e-5),
    _dt.float32: (1.3e-6, 1e-5),
    _dt.float64: (1e-7, 1e-7),
}


class _Mismatch(Exception):
    """A failed comparison: its message, and the exception type to raise it as."""

    def __init__(self, message: str, kind: type = AssertionError) -> None:
        super().__init__(message)
        self.kind = kind


def _as_tensor(x: Any) -> Any:
    if isinstance(x, _C.Tensor):  # meta tensors and Parameters too
        return x
    if isinstance(x, np.ndarray):
        return tensor(x)
    return None


def _tolerances(*dtypes: Any, rtol: float | None, atol: float | None) -> tuple[float, float]:
    if (rtol is None) != (atol is None):
        missing = "rtol" if rtol is None else "atol"
        text = f"Both 'rtol' and 'atol' must be either specified or omitted, but got no {missing}."
        raise _Mismatch(text, ValueError)
    if rtol is not None:
        return rtol, atol
    pairs = [_TOLERANCES.get(d, (0.0, 0.0)) for d in dtypes]
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


def _check_attributes(actual: Any, expected: Any, check_device: bool, check_dtype: bool, check_stride: bool) -> None:
    def differ(name: str, a: Any, e: Any) -> None:
        raise _Mismatch(f"The values for attribute '{name}' do not match: {a} != {e}.")

    if tuple(actual.shape) != tuple(expected.shape):
        differ("shape", actual.shape, expected.shape)
    if check_device and str(actual.device) != str(expected.device):
        differ("device", actual.device, expected.device)
    if check_dtype and actual.dtype != expected.dtype:
        differ("dtype", actual.dtype, expected.dtype)
    if check_stride and actual.numel() > 1 and tuple(actual.stride()) != tuple(expected.stride()):
        differ("stride()", tuple(actual.stride()), tuple(expected.stride()))


def _compare_tensors(actual: Any, expected: Any, rtol: float, atol: float, equal_nan: bool) -> None:
    if actual.is_meta or expected.is_meta:
        return  # no values to compare

    def values(t: Any) -> np.ndarray:
        t = t.detach()
        return (t.float() if t.dtype == _dt.bfloat16 else t).cpu().numpy()  # compared on the host

    a, e = values(actual), values(expected)
    integral = a.dtype.kind in "iub" and e.dtype.kind in "iub"
    # Differences in the compared dtype, as PyTorch computes them (integers: absolute in int64, relative
    # in float32).
    common = np.int64 if integral else np.result_type(a.dtype, e.dtype)
    a, e = a.astype(common), e.astype(common)
    with np.errstate(invalid="ignore", over="ignore"):
        close = (a == e) if integral else np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if close.all():
        return
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        abs_diff = np.abs(a - e)
        rel_diff = (abs_diff.astype(np.float32) / np.abs(e).astype(np.float32)) if integral else abs_diff / np.abs(e)
    exact = rtol == 0 and atol == 0
    kind = "equal" if exact else "close"
    if a.ndim == 0:  # a 0-d tensor reads as a scalar, as PyTorch's message
        _compare_numbers(a.item(), e.item(), rtol, atol, equal_nan)
        return

    def greatest(diff: np.ndarray) -> tuple[Any, tuple]:
        flat = np.where(close, 0, diff).reshape(-1)
        nans = np.isnan(flat) if flat.dtype.kind == "f" else np.zeros(flat.shape, bool)
        at = int(np.argmax(nans)) if nans.any() else int(np.argmax(flat))  # a NaN counts as the greatest
        return flat[at].item(), tuple(int(i) for i in np.unravel_index(at, a.shape))

    bad, total = int((~close).sum()), close.size
    lines = [f"Tensor-likes are not {kind}!", "", f"Mismatched elements: {bad} / {total} ({bad / total * 100:.1f}%)"]
    for label, diff, allowed in (("absolute", abs_diff, atol), ("relative", rel_diff, rtol)):
        value, index = greatest(diff)
        line = f"Greatest {label} difference: {value} at index {index}"
        lines.append(line if exact else f"{line} (up to {allowed} allowed)")
    raise _Mismatch("\n".join(lines))


def _compare_numbers(actual: Any, expected: Any, rtol: float | None, atol: float | None, equal_nan: bool) -> None:
    if (
        isinstance(actual, bool)
        or isinstance(expected, bool)
        or (isinstance(actual, numbers.Integral) and isinstance(expected, numbers.Integral))
    ):
        rt, at = (0.0, 0.0) if rtol is None else (rtol, atol)
    else:
        rt, at = _tolerances(_dt.float64, rtol=rtol, atol=atol)
    a, e = complex(actual), complex(expected)
    if equal_nan and (math.isnan(a.real) and math.isnan(e.real)):
        return
    if abs(a - e) <= at + rt * abs(e):
        return
    exact_numbers = all(isinstance(x, numbers.Integral) for x in (actual, expected))
    diff = abs(actual - expected) if exact_numbers else abs(a - e)
    rel = abs(a - e) / abs(e) if e != 0 else math.inf
    kind = "equal" if rt == 0 and at == 0 else "close"
    lines = [f"Scalars are not {kind}!", "", f"Expected {expected} but got {actual}."]
    if kind == "close":
        lines += [
            f"Absolute difference: {diff} (up to {at} allowed)",
            f"Relative difference: {rel} (up to {rt} allowed)",
        ]
    else:
        lines += [f"Absolute difference: {diff}", f"Relative difference: {rel}"]
    raise _Mismatch("\n".join(lines))


def _compare(actual: Any, expected: Any, options: dict) -> None:
    """Compares one pair, recursing into sequences and mappings; a failure inside a container names its item."""
    ta, te = _as_tensor(actual), _as_tensor(expected)
    if ta is not None and te is not None:
        if not options["allow_subclasses"] and type(actual) is not type(expected):
            raise _Mismatch(
                f"No comparison pair was able to handle inputs of type {type(actual)} and {type(expected)}.", TypeError
            )
        _check_attributes(ta, te, options["check_device"], options["check_dtype"], options["check_stride"])
        rtol, atol = _tolerances(ta.dtype, te.dtype, rtol=options["rtol"], atol=options["atol"])
        _compare_tensors(ta, te, rtol, atol, options["equal_nan"])
        return
    if isinstance(actual, numbers.Number) and isinstance(expected, numbers.Number):
        _compare_numbers(actual, expected, options["rtol"], options["atol"], options["equal_nan"])
        return
    seq = collections.abc.Sequence
    if isinstance(actual, seq) and isinstance(expected, seq) and not isinstance(actual, str):
        if len(actual) != len(expected):
            raise _Mismatch(f"The length of the sequences mismatch: {len(actual)} != {len(expected)}")
        for i, (a, e) in enumerate(zip(actual, expected)):
            _compare_item(a, e, options, f"[{i}]")
        return
    if isinstance(actual, collections.abc.Mapping) and isinstance(expected, collections.abc.Mapping):
        if set(actual) != set(expected):
            missing, extra = sorted(set(expected) - set(actual)), sorted(set(actual) - set(expected))
            lines = ["The keys of the mappings do not match:"]
            lines += [f"Missing keys in the actual mapping: {missing}"] if missing else []
            lines += [f"Additional keys in the actual mapping: {extra}"] if extra else []
            raise _Mismatch("\n".join(lines))
        for key in expected:
            _compare_item(actual[key], expected[key], options, f"[{key!r}]")
        return
    raise _Mismatch(
        f"No comparison pair was able to handle inputs of type {type(actual)} and {type(expected)}.", TypeError
    )


def _compare_item(actual: Any, expected: Any, options: dict, where: str) -> None:
    try:
        _compare(actual, expected, options)
    except _Mismatch as m:
        text = str(m)
        marker = "\n\nThe failure occurred for item "
        text = text.replace(marker, marker + where, 1) if marker in text else f"{text}{marker}{where}"
        raise _Mismatch(text, m.kind) from None


def assert_close(
    actual: Any,
    expected: Any,
    *,
    allow_subclasses: bool = True,
    rtol: float | None = None,
    atol: float | None = None,
    equal_nan: bool = False,
    check_device: bool = True,
    check_dtype: bool = True,
    check_layout: bool = True,
    check_stride: bool = False,
    msg: str | Callable[[str], str] | None = None,
) -> None:
    """Asserts that actual and expected are close: |actual - expected| <= atol + rtol * |expected| element by
    element (exactly equal for integer and bool dtypes), after checking shape, device, dtype (and stride with
    check_stride). rtol and atol default by dtype as PyTorch's (float32: 1.3e-6 and 1e-5)."""
    options = {
        "allow_subclasses": allow_subclasses,
        "rtol": rtol,
        "atol": atol,
        "equal_nan": equal_nan,
        "check_device": check_device,
        "check_dtype": check_dtype,
        "check_stride": check_stride,
    }
    try:
        _compare(actual, expected, options)
    except _Mismatch as m:
        text = str(m)
        if m.kind is AssertionError and msg is not None:
            text = msg(text) if callable(msg) else msg
        raise m.kind(text) from None


def assert_allclose(
    actual: Any,
    expected: Any,
    rtol: float | None = None,
    atol: float | None = None,
    equal_nan: bool = True,
    msg: str = "",
) -> None:
    """Deprecated in PyTorch (a FutureWarning): assert_close without the dtype check, NaNs equal."""
    warnings.warn(
        "`torch.testing.assert_allclose()` is deprecated since 1.12 and will be removed in a future release. "
        "Please use `torch.testing.assert_close()` instead.",
        FutureWarning,
        stacklevel=2,
    )
    if not isinstance(actual, _C.Tensor):
        actual = tensor(actual)
    if not isinstance(expected, _C.Tensor):
        expected = tensor(expected, dtype=actual.dtype)
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=False, msg=msg or None)


def make_tensor(
    *shape: Any,
    dtype: Any,
    device: Any = None,
    low: float | None = None,
    high: float | None = None,
    requires_grad: bool = False,
    noncontiguous: bool = False,
    exclude_zero: bool = False,
    memory_format: Any = None,
) -> Any:
    """A tensor of random values for tests: floats uniform in [low, high) (default [-9, 9)), integers in
    [low, high) (default [-9, 10), unsigned from 0), bools at random; noncontiguous gives a strided view,
    exclude_zero replaces zeros (with the dtype's tiny, or 1)."""
    from .._creation import _check_device

    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    shape = tuple(int(s) for s in shape)
    if low is not None and high is not None and low > high:
        raise ValueError(f"low must be less than or equal to high, but got low={low} and high={high}")
    if memory_format is not None:
        raise NotImplementedError("make_tensor: ember has no memory formats (every tensor is row-major strided)")
    if device is not None and str(device) == "meta":
        return empty(*shape, dtype=dtype, device="meta", requires_grad=requires_grad)
    _check_device(device)
    last = shape[-1] * 2 if noncontiguous and shape else None
    full_shape = (*shape[:-1], last) if last is not None else shape
    if dtype == _dt.bool:
        result = rand(*full_shape, device=device) < 0.5
    elif dtype.is_floating_point:
        lo, hi = (-9.0 if low is None else low), (9.0 if high is None else high)
        result = (rand(*full_shape, dtype=_dt.float64, device=device) * (hi - lo) + lo).to(dtype)
    else:
        unsigned = dtype == _dt.uint8
        lo = int(math.ceil(low)) if low is not None else (0 if unsigned else -9)
        hi = int(math.ceil(high)) if high is not None else 10
        result = randint(lo, max(hi, lo + 1), full_shape, dtype=_dt.int64, device=device).to(dtype)
    if last is not None:
        result = result[..., ::2]
    if exclude_zero and dtype != _dt.bool:
        replacement = finfo(dtype).tiny if dtype.is_floating_point else 1
        result = result.masked_fill(result == 0, replacement)
    if requires_grad:
        result.requires_grad_()
    return result
