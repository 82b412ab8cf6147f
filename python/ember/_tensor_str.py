"""repr() of tensors, character for character as PyTorch 2.x prints them.

Only the public tensor API is used (detach, numpy/tolist, dtype, shape, device,
grad_fn, requires_grad), so the same code prints torch tensors identically;
the test suite checks that. Element values are formatted as Python floats/ints,
which is what PyTorch formats too (it calls .item()/.tolist() per element).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import sys
from typing import TYPE_CHECKING, Any, Iterator

import numpy as np

from . import _C

if TYPE_CHECKING:  # only for annotations: the module itself uses no ember import (it also prints torch tensors)
    from ._C import Tensor


@dataclasses.dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTS = _PrintOptions()

_PROFILES = {
    "default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
    "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
    "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80),
}


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Set printing options, as ``torch.set_printoptions``.

    Like PyTorch, ``sci_mode`` is always assigned: calling this without it
    goes back to choosing scientific notation automatically.

    Args:
        precision: digits after the decimal point.
        threshold: the number of elements above which a summary (``...``) is printed.
        edgeitems: the items printed at each end of each dimension in a summary.
        linewidth: characters per line.
        profile: ``"default"``, ``"short"`` or ``"full"``: a preset of the four above (given values win).
        sci_mode: True or False forces scientific notation on or off; None chooses it per tensor.
    """
    if profile is not None:
        for k, v in _PROFILES[profile].items():
            setattr(PRINT_OPTS, k, v)
    for k, v in (
        ("precision", precision),
        ("threshold", threshold),
        ("edgeitems", edgeitems),
        ("linewidth", linewidth),
    ):
        if v is not None:
            setattr(PRINT_OPTS, k, v)
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """Returns the current printing options, as a dict of ``set_printoptions``'s arguments."""
    return dataclasses.asdict(PRINT_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs: Any) -> Iterator[None]:
    """A context manager that sets printing options (as ``set_printoptions``) and restores them on exit."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


_FLOAT_DTYPES = {"float16", "bfloat16", "float32", "float64"}


def _implied_dtypes() -> tuple[str, set[str]]:
    """The default dtype's name and the dtypes PyTorch does not name in the repr of a non-empty tensor: the
    default dtype (float32 unless ``set_default_dtype`` changed it), its complex counterpart, int64 and bool."""
    from ._creation import get_default_dtype

    default = str(get_default_dtype()).rsplit(".", 1)[-1]
    return default, {default, "complex128" if default == "float64" else "complex64", "int64", "bool"}


def _dtype_name(t: Tensor) -> str:
    # str(dtype) is "torch.float64" in torch and "ember.float64" in ember
    return str(t.dtype).rsplit(".", 1)[-1]


def _to_numpy(t: Tensor, floating: bool) -> np.ndarray:
    t = t.detach()
    if _dtype_name(t) == "bfloat16":  # numpy has no bfloat16; its values are exact in float32
        t = t.float()
    if t.is_complex():
        return np.asarray(t.cpu().numpy()).astype(np.complex128)
    if t.device.type in ("cpu", "cuda"):
        a = np.asarray(t.cpu().numpy())
    else:
        a = np.array(t.tolist())
    # float32 values are exact in float64, and the formatting rules
    # (ratio, thresholds, ceil test) give the same answers in double,
    # which is also what PyTorch computes them in.
    return a.astype(np.float64) if floating else a


def _edge_values(a: np.ndarray, e: int) -> np.ndarray:
    """The elements a summarised print shows, flattened (their order does not
    matter: only widths, extremes and integrality are computed from them)."""
    if a.ndim <= 1:
        if a.ndim == 1 and len(a) > 2 * e:
            # a[-0:] is the whole row, so with edgeitems=0 PyTorch measures
            # the full row; keep that quirk.
            return np.concatenate([a[:e], a[-e:]])
        return a.reshape(-1)
    if e == 0:
        return a.reshape(-1)[:0]
    n = a.shape[0]
    rows = list(range(e)) + list(range(n - e, n)) if n > 2 * e else range(n)
    return np.concatenate([_edge_values(a[i], e) for i in rows])


class _Formatter:
    """One element width and notation for a whole tensor, chosen as PyTorch does."""

    def __init__(self, values: np.ndarray, floating: bool) -> None:
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        if not floating:
            for v in values.tolist():
                self.width = max(self.width, len(str(v)))
            return
        # zeros, nan and inf take no part in choosing the notation or width
        vals = values[np.isfinite(values) & (values != 0)]
        if vals.size == 0:
            return
        mags = np.abs(vals)
        lo, hi = float(mags.min()), float(mags.max())
        self.int_mode = bool(np.all(vals == np.ceil(vals)))
        if PRINT_OPTS.sci_mode is None:
            self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
        else:
            self.sci_mode = PRINT_OPTS.sci_mode
        p = PRINT_OPTS.precision
        if self.sci_mode:
            spec, extra = f".{p}e", 0
        elif self.int_mode:
            spec, extra = ".0f", 1  # room for the "." that marks a float
        else:
            spec, extra = f".{p}f", 0
        for v in vals.tolist():
            self.width = max(self.width, len(format(v, spec)) + extra)

    def __call__(self, v: float) -> str:
        if not self.floating:
            s = str(v)
        elif self.sci_mode:
            s = format(v, f"{self.width}.{PRINT_OPTS.precision}e")
        elif self.int_mode:
            s = format(v, ".0f")
            if math.isfinite(v):
                s += "."
        else:
            s = format(v, f".{PRINT_OPTS.precision}f")
        return s.rjust(self.width)


class _ComplexFormatter:
    """PyTorch's complex elements: the real parts formatted as one real tensor, the imaginary parts as
    another, joined as ``1.5000-2.0000j``."""

    def __init__(self, values: np.ndarray) -> None:
        self.real = _Formatter(values.real, True)
        self.imag = _Formatter(values.imag, True)
        self.width = self.real.width + self.imag.width + 1  # and the "j"

    def __call__(self, v: complex) -> str:
        imag = (self.imag(v.imag) + "j").lstrip()
        return self.real(v.real) + (imag if imag[0] in "+-" else "+" + imag)


def _vector_str(a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    e = PRINT_OPTS.edgeitems
    per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / (fmt.width + 2)))
    if summarize and not e:
        items = ["..."]
    elif summarize and len(a) > 2 * e:
        items = [fmt(v) for v in a[:e].tolist()] + [" ..."] + [fmt(v) for v in a[-e:].tolist()]
    else:
        items = [fmt(v) for v in a.tolist()]
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested_str(a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    if a.ndim == 0:
        return fmt(a.item())
    if a.ndim == 1:
        return _vector_str(a, indent, summarize, fmt)
    e, n = PRINT_OPTS.edgeitems, a.shape[0]

    def sub(i: int) -> str:
        return _nested_str(a[i], indent + 1, summarize, fmt)

    if summarize and n > 2 * e:
        parts = [sub(i) for i in range(e)] + ["..."] + [sub(i) for i in range(n - e, n)]
    else:
        parts = [sub(i) for i in range(n)]
    # one blank line between matrices, two between 3-D blocks, ...
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def _add_suffixes(text: str, suffixes: list[str], indent: int, force_newline: bool = False) -> str:
    out = [text]
    # PyTorch's count (it is off by two on a single line); kept for identical wrapping
    last_line_len = len(text) - text.rfind("\n") + 1
    for s in suffixes:
        if force_newline or last_line_len + len(s) + 2 > PRINT_OPTS.linewidth:  # a sparse COO tensor forces one
            out.append(",\n" + " " * indent + s)
            last_line_len = indent + len(s)
            force_newline = False
        else:
            out.append(", " + s)
            last_line_len += len(s) + 2
    out.append(")")
    return "".join(out)


def tensor_repr(t: Tensor) -> str:
    """The repr of ``t``, as PyTorch prints it: ``tensor([...], dtype=..., requires_grad=True)``; a Tensor
    subclass's starts with its class name (``MyTensor([...])``), and its ops here do not dispatch."""
    from .overrides import DisableTorchFunctionSubclass

    with DisableTorchFunctionSubclass():
        return _tensor_repr(t)


def _str(self: Tensor, *, tensor_contents: str | None = None) -> str:
    """PyTorch's ``torch._tensor_str._str``: a tensor's repr (libraries that replace ``Tensor.__repr__`` keep
    it to print plainly, lovely-tensors). ``tensor_contents`` replaces the values part when given."""
    text = tensor_repr(self)
    if tensor_contents is None:
        return text
    prefix = text[: text.index("(") + 1]
    return prefix + tensor_contents + text[len(prefix) + len(_tensor_str(self, len(prefix))) :]


def _tensor_repr(t: Tensor) -> str:
    from ._complex import ComplexTensor
    from .nn.parameter import Parameter

    plain = type(t) in (_C.Tensor, Parameter, ComplexTensor)
    prefix = "tensor(" if plain else f"{type(t).__name__}("
    indent = len(prefix)
    suffixes = []
    if t.device.type != "cpu":
        suffixes.append(f"device='{t.device}'")

    name = _dtype_name(t)
    default, implied = _implied_dtypes()
    shape = tuple(int(s) for s in t.shape)
    if t.numel() == 0:
        body = "[]"
        if t.dim() != 1:
            suffixes.append(f"size={shape}")
        # nothing to infer an int dtype from, so only the default dtype goes unnamed
        if name != default:
            suffixes.append(f"dtype={t.dtype}")
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append(f"size={shape}")
        if name not in implied:
            suffixes.append(f"dtype={t.dtype}")
        body = _tensor_str(t, indent)

    try:
        grad_fn = t.grad_fn
    except RuntimeError:  # a view whose history cannot be regenerated: PyTorch prints it so
        suffixes.append("grad_fn=<Invalid>")
    else:
        if grad_fn is not None:
            suffixes.append(f"grad_fn=<{grad_fn.name().rsplit('::', 1)[-1]}>")
        elif t.requires_grad:
            suffixes.append("requires_grad=True")
    tangent = _dual_tangent(t)
    if tangent is not None:
        suffixes.append(f"tangent={tangent!r}")
    text = _add_suffixes(prefix + body, suffixes, indent)
    # PyTorch marks a Parameter subclass so (geoopt's ManifoldParameter); a plain Parameter keeps "tensor("
    return f"Parameter({text})" if isinstance(t, Parameter) and not plain else text


def _tensor_str(t: Tensor, indent: int) -> str:
    """The values part of t's repr (``[[1., 2.], [3., 4.]]``, lines after the first indented by
    ``indent``), as PyTorch's torch._tensor_str._tensor_str, which libraries call to write tensors as text."""
    if t.numel() == 0:
        return "[]"
    floating = _dtype_name(t) in _FLOAT_DTYPES
    a = _to_numpy(t, floating)
    summarize = a.size > PRINT_OPTS.threshold
    values = _edge_values(a, PRINT_OPTS.edgeitems) if summarize else a.reshape(-1)
    fmt = _ComplexFormatter(values) if t.is_complex() else _Formatter(values, floating)
    return _nested_str(a, indent, summarize, fmt)


def _dual_tangent(t: Any) -> Any:
    """The tangent of a dual tensor made by make_dual, inside its level (else None), as PyTorch prints it."""
    forward_ad = sys.modules.get("ember.autograd.forward_ad")
    if forward_ad is None or forward_ad._current_level < 0 or "_fwad_dual" not in getattr(t, "__dict__", {}):
        return None
    return forward_ad.unpack_dual(t).tangent
