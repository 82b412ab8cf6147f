"""torch-level products and statistics composed from ember's differentiable ops (bmm, mm, permute,
reshape, sum, ...): einsum, tensordot, kron, the add*-products, block_diag, cov, corrcoef."""

from __future__ import annotations

import functools
import numbers
import warnings
from collections.abc import Sequence
from typing import Any

from . import _C, _creation, _dtype_info
from ._autocast import float32_under_autocast
from ._C import Tensor
from ._composite_shape import _out, broadcast_shapes

__all__ = [
    "addbmm",
    "addmv",
    "addr",
    "baddbmm",
    "block_diag",
    "chain_matmul",
    "corrcoef",
    "cross",
    "cov",
    "dist",
    "einsum",
    "inner",
    "kron",
    "matrix_power",
    "tensordot",
    "vdot",
]


# ---------------------------------------------------------------------------------------------- einsum


def _label_of(index: int) -> str:
    """The sublist format's subscript ``index`` (0-51) as its letter: 0-25 are A-Z, 26-51 are a-z."""
    if not 0 <= index < 52:
        raise ValueError(f"einsum(): expected subscript to be within the range [0, 52), but got {index}")
    return chr(ord("A") + index) if index < 26 else chr(ord("a") + index - 26)


def _sublist_equation(args: Sequence[Any]) -> tuple[str, list[Any]]:
    """einsum(op1, [0, 1], op2, [1, 2], [0, 2]): the sublist format, as an equation and its operands."""
    operands, terms = list(args[0::2]), list(args[1::2])
    output = None
    if len(args) % 2 == 1:  # a trailing sublist is the output
        output = operands.pop()

    def term(sub: Sequence[Any]) -> str:
        return "".join("..." if s is Ellipsis else _label_of(int(s)) for s in sub)

    equation = ",".join(term(t) for t in terms) + ("" if output is None else "->" + term(output))
    return equation, operands


def _parse_term(term: str, offset: int) -> tuple[list[str], bool]:
    """A term's subscripts in order, with "..." kept as one entry; and whether it had an ellipsis."""
    labels, i = [], 0
    while i < len(term):
        if term.startswith("...", i):
            if "..." in labels:
                raise RuntimeError("einsum(): found '.' for operand that is not part of any ellipsis")
            labels.append("...")
            i += 3
            continue
        c = term[i]
        if not ("a" <= c <= "z" or "A" <= c <= "Z"):
            raise RuntimeError(
                f"einsum(): invalid subscript given at index {offset + i} in the equation string, "
                "subscripts must be in [a-zA-Z]"
            )
        labels.append(c)
        i += 1
    return labels, "..." in labels


def _expand_ellipsis(labels: list[str], ndim: int, index: int) -> list[str]:
    """Replaces "..." by one label per broadcast dim; they are right-aligned across operands, as numpy's."""
    if "..." not in labels:
        if len(labels) != ndim:
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({len(labels)}) does not match the number "
                f"of dimensions ({ndim}) for operand {index} and no ellipsis was given"
            )
        return labels
    n_ell = ndim - (len(labels) - 1)
    if n_ell < 0:
        raise RuntimeError(
            f"einsum(): the number of subscripts in the equation ({len(labels) - 1}) is more than the number "
            f"of dimensions ({ndim}) for operand {index}"
        )
    at = labels.index("...")
    # "." sorts before letters and the number keeps them apart: the k-th dim from the right is ".k".
    return labels[:at] + [f".{n_ell - j}" for j in range(n_ell)] + labels[at + 1 :]


def _take_diagonals(t: Tensor, labels: list[str], index: int) -> tuple[Tensor, list[str]]:
    """A subscript repeated within one operand ("ii") takes that diagonal."""
    while True:
        repeated = next((lab for lab in labels if labels.count(lab) > 1), None)
        if repeated is None:
            return t, labels
        d1 = labels.index(repeated)
        d2 = labels.index(repeated, d1 + 1)
        if t.shape[d1] != t.shape[d2]:
            raise RuntimeError(
                f"einsum(): subscript {repeated} is repeated for operand {index} but the sizes don't match, "
                f"{t.shape[d2]} != {t.shape[d1]}"
            )
        t = t.diagonal(0, d1, d2)  # the diagonal becomes the last dim
        labels = [lab for k, lab in enumerate(labels) if k not in (d1, d2)] + [repeated]


def _sum_out(t: Tensor, labels: list[str], drop: set[str]) -> tuple[Tensor, list[str]]:
    """Sums the dims whose labels are in ``drop`` (an empty dim list would sum everything, so skip it)."""
    dims = [k for k, lab in enumerate(labels) if lab in drop]
    if not dims:
        return t, labels
    return t.sum(dims), [lab for lab in labels if lab not in drop]


def _arrange(t: Tensor, labels: list[str], order: list[str], sizes: dict[str, int]) -> Tensor:
    """t with its dims permuted to ``order`` and size-1 dims broadcast to ``sizes`` (labels t lacks are added)."""
    present = [lab for lab in order if lab in labels]
    t = t.permute([labels.index(lab) for lab in present]) if present != labels else t
    shape = [t.shape[present.index(lab)] if lab in present else 1 for lab in order]
    t = t.reshape(shape) if len(shape) != t.dim() else t
    return t.expand([sizes[lab] for lab in order])


def _prod(sizes: Sequence[int]) -> int:
    return functools.reduce(lambda a, b: a * b, sizes, 1)


def _contract(
    a: Tensor, la: list[str], b: Tensor, lb: list[str], keep: set[str], sizes: dict[str, int]
) -> tuple[Tensor, list[str]]:
    """The product of two operands summed over the labels they share that nothing later needs: one bmm of
    (batch, a-only, contracted) by (batch, contracted, b-only)."""
    a, la = _sum_out(a, la, {lab for lab in la if lab not in lb and lab not in keep})
    b, lb = _sum_out(b, lb, {lab for lab in lb if lab not in la and lab not in keep})
    batch = [lab for lab in la if lab in lb and lab in keep]
    contracted = [lab for lab in la if lab in lb and lab not in keep]
    a_only = [lab for lab in la if lab not in lb]
    b_only = [lab for lab in lb if lab not in la]
    nb, nm, nk, nn = (_prod([sizes[lab] for lab in g]) for g in (batch, a_only, contracted, b_only))
    out_labels = batch + a_only + b_only
    if not contracted:  # nothing summed: a broadcast product, whose dtypes promote (PyTorch's mul path)
        a3 = _arrange(a, la, batch + a_only, sizes).reshape(nb, nm, 1)
        b3 = _arrange(b, lb, batch + b_only, sizes).reshape(nb, 1, nn)
        return (a3 * b3).reshape([sizes[lab] for lab in out_labels]), out_labels
    if a.dtype != b.dtype:  # PyTorch's bmm path does not promote
        a_name, b_name = _dtype_info._scalar_name(a.dtype), _dtype_info._scalar_name(b.dtype)
        raise RuntimeError(f"expected scalar type {a_name} but found {b_name}")
    a3 = _arrange(a, la, batch + a_only + contracted, sizes).reshape(nb, nm, nk)
    b3 = _arrange(b, lb, batch + contracted + b_only, sizes).reshape(nb, nk, nn)
    return _C.bmm(a3, b3).reshape([sizes[lab] for lab in out_labels]), out_labels


def einsum(*args: Any) -> Tensor:
    """Sums the product of the operands over the subscripts the equation leaves out of the output.

    ``einsum("ij,jk->ik", a, b)`` is ``a @ b``; the operands may also be one list (``einsum(eq, [a, b])``)
    or in the sublist format (``einsum(a, [0, 1], b, [1, 2], [0, 2])``). Subscripts are letters; ``...``
    stands for broadcast dims; a subscript repeated in one operand takes a diagonal (``"ii->"`` is the
    trace); without ``->`` the output is the subscripts seen once, in alphabetical order, after ``...``.
    Operands are contracted left to right, each pair with one batched matmul."""
    if not args:
        raise TypeError("einsum(): must specify the equation string and at least one operand")
    if isinstance(args[0], str):
        equation, operands = args[0], list(args[1:])
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = list(operands[0])
    else:
        equation, operands = _sublist_equation(args)
    equation = equation.replace(" ", "")
    lhs, arrow, rhs = equation.partition("->")
    terms = lhs.split(",")
    if len(terms) > len(operands):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(terms) < len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    for k, t in enumerate(operands):
        if not isinstance(t, Tensor):
            raise TypeError(f"einsum(): operand {k} must be a Tensor, not {type(t).__name__}")

    labelled: list[tuple[Tensor, list[str]]] = []
    offset = 0
    for k, (term, t) in enumerate(zip(terms, operands)):
        labels, _ = _parse_term(term, offset)
        offset += len(term) + 1
        labels = _expand_ellipsis(labels, t.dim(), k)
        labelled.append(_take_diagonals(t, labels, k))

    # Each subscript's size: equal in every operand, or 1 where it broadcasts.
    sizes: dict[str, int] = {}
    for k, (t, labels) in enumerate(labelled):
        for lab, size in zip(labels, t.shape):
            seen = sizes.get(lab, 1)
            if size != 1 and seen != 1 and size != seen:
                raise RuntimeError(
                    f"einsum(): subscript {lab} has size {size} for operand {k} which does not broadcast with "
                    f"previously seen size {seen}"
                )
            sizes[lab] = max(seen, size) if lab in sizes else size

    # The broadcast dims, leftmost (".k" with the largest k) first.
    ellipsis_labels = sorted(
        {lab for _, ls in labelled for lab in ls if lab.startswith(".")}, key=lambda lab: -int(lab[1:])
    )
    if arrow:
        out_terms, _ = _parse_term(rhs, len(lhs) + 2)
        output: list[str] = []
        for lab in out_terms:
            if lab == "...":
                output += ellipsis_labels
                continue
            if lab in output:
                raise RuntimeError(f"einsum(): output subscript {lab} appears more than once in the output")
            if lab not in sizes:
                raise RuntimeError(
                    f"einsum(): output subscript {lab} does not appear in the equation for any input operand"
                )
            output.append(lab)
    else:
        counts: dict[str, int] = {}
        for term in terms:
            for lab in _parse_term(term, 0)[0]:
                counts[lab] = counts.get(lab, 0) + 1
        output = ellipsis_labels + sorted(lab for lab, n in counts.items() if n == 1 and lab != "...")

    t, labels = labelled[0]
    for k in range(1, len(labelled)):
        keep = set(output).union(*(ls for _, ls in labelled[k + 1 :]))
        t, labels = _contract(t, labels, *labelled[k], keep, sizes)
    t, labels = _sum_out(t, labels, set(labels) - set(output))
    result = _arrange(t, labels, output, sizes)
    # a product of several operands comes out contiguous, as PyTorch's (pytorch-tabular's DANet views an
    # outer product's result); one operand's permutation stays a view of it, as in PyTorch
    return result.contiguous() if len(labelled) > 1 else result


# ------------------------------------------------------------------------------------------ products


def tensordot(a: Tensor, b: Tensor, dims: Any = 2, out: Tensor | None = None) -> Tensor:
    """Sums the product of ``a`` and ``b`` over the dims given by ``dims``: an int n (a's last n dims with
    b's first n), or two lists ``([a dims], [b dims])`` (also as a 2-row tensor)."""
    if isinstance(dims, Tensor):
        dims = dims.tolist() if dims.dim() > 0 else int(dims.item())
    if isinstance(dims, numbers.Integral):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        dims_a, dims_b = list(range(a.dim() - dims, a.dim())), list(range(dims))
    else:
        dims_a, dims_b = ([d] if isinstance(d, numbers.Integral) else list(d) for d in dims)
    if len(dims_a) != len(dims_b):
        raise RuntimeError("both dimension lists should have same length")
    dims_a = [d % a.dim() if a.dim() else d for d in dims_a]
    dims_b = [d % b.dim() if b.dim() else d for d in dims_b]
    for da, db in zip(dims_a, dims_b):
        if a.shape[da] != b.shape[db]:
            raise RuntimeError(
                f"contracted dimensions need to match, but first has size {a.shape[da]} in dim {da} and second "
                f"has size {b.shape[db]} in dim {db}"
            )
    free_a = [d for d in range(a.dim()) if d not in dims_a]
    free_b = [d for d in range(b.dim()) if d not in dims_b]
    k = _prod([a.shape[d] for d in dims_a])
    a2 = a.permute(free_a + dims_a).reshape(_prod([a.shape[d] for d in free_a]), k)
    b2 = b.permute(dims_b + free_b).reshape(k, _prod([b.shape[d] for d in free_b]))
    result = _C.mm(a2, b2).reshape([a.shape[d] for d in free_a] + [b.shape[d] for d in free_b])
    return _out(out, result, "tensordot")


def kron(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The Kronecker product: each element of ``input`` times the whole of ``other``, the blocks laid out
    as ``input``'s elements (shape: the dimwise product of the shapes, the shorter one padded with 1s)."""
    nd = max(input.dim(), other.dim())
    a = input.reshape([1] * (nd - input.dim()) + list(input.shape))
    b = other.reshape([1] * (nd - other.dim()) + list(other.shape))
    # a as (a0, 1, a1, 1, ...), b as (1, b0, 1, b1, ...): their product interleaves to (a0, b0, a1, b1, ...).
    a = a.reshape([s for n in a.shape for s in (n, 1)])
    b = b.reshape([s for n in b.shape for s in (1, n)])
    result = (a * b).reshape([x * y for x, y in zip(a.shape[0::2], b.shape[1::2])])
    return _out(out, result, "kron")


def chain_matmul(*matrices: Tensor, out: Tensor | None = None) -> Tensor:
    """The product of the 2-D ``matrices``, left to right (deprecated in PyTorch for linalg.multi_dot)."""
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    for m in matrices:
        if m.dim() != 2:
            raise RuntimeError(f"chain_matmul(): Tensor dimension is {m.dim()}, expected 2 instead.")
    result = matrices[0].clone() if len(matrices) == 1 else functools.reduce(_C.mm, matrices)
    return _out(out, result, "chain_matmul")


def _scaled_sum(input: Tensor, product: Tensor, beta: float, alpha: float) -> Tensor:
    """beta * input + alpha * product; beta == 0 ignores input (its nan and inf too), as PyTorch's add*."""
    product = product if alpha == 1 else product * alpha
    return product if beta == 0 else product + (input if beta == 1 else input * beta)


_HALF_FLOATS = (_C.dtype.float16, _C.dtype.bfloat16)


def _product_sum(input: Tensor, product: Any, a: Tensor, b: Tensor, beta: float, alpha: float) -> Tensor:
    """beta * input + alpha * product(a, b). Half-float operands compute in float32 and round once, at
    the end, as PyTorch's CPU kernels (rounding the product first and the sum again differed from
    PyTorch in a quarter of baddbmm's bfloat16 elements)."""
    half = a.dtype in _HALF_FLOATS and b.dtype == a.dtype and (not isinstance(input, Tensor) or input.dtype == a.dtype)
    if not half:
        return _scaled_sum(input, product(a, b), beta, alpha)
    wide = input.float() if isinstance(input, Tensor) else input
    return _scaled_sum(wide, product(a.float(), b.float()), beta, alpha).to(a.dtype)


def _check_dims(name: str, **tensors: tuple[Tensor, int]) -> None:
    for arg, (t, nd) in tensors.items():
        if t.dim() != nd:
            raise RuntimeError(f"{name}: {arg} must be a {nd}D tensor, got {t.dim()}D")


def _autocast_input(input: Tensor) -> Tensor:
    """The added input of baddbmm/addbmm in autocast's dtype for its device while autocast is on there,
    as its product is (Note [Autocast]), so the sum stays in that dtype as PyTorch's."""
    if not isinstance(input, Tensor) or input.dtype != _C.dtype.float32 or not _C._autocast_active():
        return input
    enabled, dtype = _C._autocast_state(input.device.type)
    return input.to(dtype) if enabled else input


def baddbmm(
    input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: float = 1, alpha: float = 1, out: Tensor | None = None
) -> Tensor:
    """``beta * input + alpha * bmm(batch1, batch2)``, ``input`` broadcast to (b, n, p)."""
    _check_dims("baddbmm", batch1=(batch1, 3), batch2=(batch2, 3))
    return _out(out, _product_sum(_autocast_input(input), _C.bmm, batch1, batch2, beta, alpha), "baddbmm")


def addbmm(
    input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: float = 1, alpha: float = 1, out: Tensor | None = None
) -> Tensor:
    """``beta * input + alpha * sum_i(batch1[i] @ batch2[i])``, ``input`` broadcast to (n, p)."""
    _check_dims("addbmm", batch1=(batch1, 3), batch2=(batch2, 3))
    input = _autocast_input(input)
    if batch1.dtype in _HALF_FLOATS and batch1.shape[0] > 0:
        # PyTorch accumulates a half-float addbmm one product at a time, rounding each partial sum
        acc = _C.addmm(input, batch1[0], batch2[0], beta=beta, alpha=alpha)
        for i in range(1, batch1.shape[0]):
            acc = _C.addmm(acc, batch1[i], batch2[i], alpha=alpha)
        return _out(out, acc, "addbmm")
    return _out(out, _scaled_sum(input, _C.bmm(batch1, batch2).sum(0), beta, alpha), "addbmm")


def addmv(
    input: Tensor, mat: Tensor, vec: Tensor, *, beta: float = 1, alpha: float = 1, out: Tensor | None = None
) -> Tensor:
    """``beta * input + alpha * (mat @ vec)``, ``input`` broadcast to (n,)."""
    _check_dims("addmv", mat=(mat, 2), vec=(vec, 1))
    return _out(out, _product_sum(input, _C.mv, mat, vec, beta, alpha), "addmv")


def addr(
    input: Tensor, vec1: Tensor, vec2: Tensor, *, beta: float = 1, alpha: float = 1, out: Tensor | None = None
) -> Tensor:
    """``beta * input + alpha * outer(vec1, vec2)``, ``input`` broadcast to (n, m)."""
    _check_dims("addr", vec1=(vec1, 1), vec2=(vec2, 1))
    # a half-float outer product is rounded before the sum, as PyTorch's
    return _out(out, _scaled_sum(input, _C.outer(vec1, vec2), beta, alpha), "addr")


def inner(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The dot product over the last dims of ``input`` and ``other`` (their product when one is 0-d)."""
    if input.dim() == 0 or other.dim() == 0:
        return _out(out, input * other, "inner")
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(
            f"inner() the last dimension must match on both input tensors but got shapes {list(input.shape)} "
            f"and {list(other.shape)}"
        )
    return _out(out, tensordot(input, other, ([-1], [-1])), "inner")


def vdot(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The dot product of two 1-D tensors (the first conjugated, which changes nothing for real dtypes)."""
    if input.dim() != 1 or other.dim() != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.dim()}D and {other.dim()}D tensors")
    return _out(out, _C.dot(input, other), "vdot")


def cross(input: Tensor, other: Tensor, dim: int | None = None, *, out: Tensor | None = None) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (broadcast); without ``dim``, the first dim of size 3
    (deprecated in PyTorch, which warns)."""
    a, b = input, other
    if dim is None:
        warnings.warn(
            "Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim "
            "explicitly or simply use torch.linalg.cross.",
            UserWarning,
            stacklevel=2,
        )
        shape = broadcast_shapes(a.shape, b.shape)
        dim = next((d for d, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    if a.dtype != b.dtype:  # PyTorch's cross does not promote
        a_name, b_name = _dtype_info._scalar_name(a.dtype), _dtype_info._scalar_name(b.dtype)
        raise RuntimeError(f"expected scalar type {a_name} but found {b_name}")
    if a.dim() != b.dim():
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions, got {a.dim()} and {b.dim()}")
    if a.shape[dim] != 3 or b.shape[dim] != 3:
        raise RuntimeError(
            f"linalg.cross: inputs dimension {dim} must have length 3. Got {a.shape[dim]} and {b.shape[dim]}"
        )
    a1, a2, a3 = (a.narrow(dim, k, 1) for k in range(3))
    b1, b2, b3 = (b.narrow(dim, k, 1) for k in range(3))
    result = _C.cat([a2 * b3 - a3 * b2, a3 * b1 - a1 * b3, a1 * b2 - a2 * b1], dim)
    return _out(out, result, "cross")


def matrix_power(input: Tensor, n: int, *, out: Tensor | None = None) -> Tensor:
    """``input`` (a square matrix or batch of them) multiplied by itself n times (by repeated
    squaring); n = 0 gives the identity; negative n powers the inverse (linalg.inv)."""
    if input.dim() < 2 or input.shape[-1] != input.shape[-2]:
        rows, cols = (input.shape[-2], input.shape[-1]) if input.dim() >= 2 else (input.numel(), 1)
        raise RuntimeError(
            f"linalg.matrix_power: A must be batches of square matrices, but they are {rows} by {cols} matrices"
        )
    if n < 0:
        from .linalg import inv

        input, n = inv(input), -n
    result, square = None, input
    while n:
        if n & 1:
            result = square if result is None else _C.matmul(result, square)
        n >>= 1
        if n:
            square = _C.matmul(square, square)
    if result is None:
        eye = _creation.eye(input.shape[-1], dtype=input.dtype, device=_creation._device_of(input))
        result = eye.expand(input.shape).clone()
    elif result is input:
        result = input.clone()
    return _out(out, result, "matrix_power")


def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:
    """The p-norm of ``input - other`` (broadcast)."""
    input, other = float32_under_autocast(("cuda",), input, other)
    return _C.norm(input - other, p)


# ------------------------------------------------------------------------------------ block_diag, cov


def block_diag(*tensors: Tensor) -> Tensor:
    """A block diagonal matrix of the tensors (0-D: 1x1, 1-D: one row, 2-D: as is), zeros elsewhere."""
    if not tensors:
        return _creation.empty(1, 0)
    blocks = []
    for k, t in enumerate(tensors):
        if t.dim() > 2:
            raise RuntimeError(
                f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {k} has {t.dim()} dimensions"
            )
        blocks.append(t.reshape(1, -1) if t.dim() < 2 else t)
    dt = functools.reduce(_dtype_info.promote_types, [b.dtype for b in blocks])
    cols = sum(b.shape[1] for b in blocks)
    rows, left = [], 0
    for b in blocks:
        r, c = b.shape
        device = _creation._device_of(b)
        parts = [
            _creation.zeros(r, left, dtype=dt, device=device),
            b.to(dt),
            _creation.zeros(r, cols - left - c, dtype=dt, device=device),
        ]
        rows.append(_C.cat(parts, 1))
        left += c
    return _C.cat(rows, 0)


def cov(
    input: Tensor, *, correction: int = 1, fweights: Tensor | None = None, aweights: Tensor | None = None
) -> Tensor:
    """The covariance matrix of the variables in the rows of ``input`` (observations in its columns; a 1-D
    input is one variable), with integer frequency weights ``fweights``, observation weights ``aweights``
    and ``correction`` (1: Bessel's, the unbiased estimate; 0: the maximum likelihood one)."""
    if input.dim() > 2:
        raise ValueError(
            f"cov(): expected input to have two or fewer dimensions but got an input with {input.dim()} dimensions"
        )
    x = input.reshape(1, -1) if input.dim() < 2 else input
    if not x.is_floating_point():
        x = x.to(_creation.get_default_dtype())
    n_obs = x.shape[1]
    w = None
    if fweights is not None:
        if fweights.dim() > 1 or fweights.numel() != n_obs or fweights.is_floating_point():
            raise RuntimeError(
                "cov(): expected fweights to be a 1-D integral tensor with one weight per observation "
                f"({n_obs}), got shape {list(fweights.shape)} and dtype {fweights.dtype}"
            )
        if bool((fweights < 0).any()):
            raise RuntimeError("cov(): fweights cannot be negative")
        w = fweights.to(x.dtype)
    if aweights is not None:
        if aweights.dim() > 1 or aweights.numel() != n_obs or not aweights.is_floating_point():
            raise RuntimeError(
                "cov(): expected aweights to be a 1-D floating point tensor with one weight per observation "
                f"({n_obs}), got shape {list(aweights.shape)} and dtype {aweights.dtype}"
            )
        if bool((aweights < 0).any()):
            raise RuntimeError("cov(): aweights cannot be negative")
        w = aweights.to(x.dtype) if w is None else w * aweights.to(x.dtype)
    if w is None:
        avg = x.mean(1, keepdim=True)
        norm_factor = max(n_obs - correction, 0)
    else:
        # Tensors throughout, so that the result is differentiable w.r.t. aweights too.
        w_sum = w.sum()
        avg = (x * w).sum(1, keepdim=True) / w_sum
        if correction == 0:
            norm_factor = w_sum
        elif aweights is None:
            norm_factor = w_sum - correction
        else:
            norm_factor = w_sum - correction * (w * aweights.to(x.dtype)).sum() / w_sum
        norm_factor = norm_factor.clamp(0)
    # A norm_factor of 0 divides by zero (inf or nan), as in PyTorch, which also warns.
    xm = x - avg
    xw = xm if w is None else xm * w
    c = _C.mm(xm, xw.t()) / norm_factor
    return c.squeeze() if input.dim() < 2 or x.shape[0] == 1 else c


def corrcoef(input: Tensor) -> Tensor:
    """The Pearson correlation coefficients of the variables in the rows of ``input`` (clipped to [-1, 1])."""
    c = cov(input)
    if c.dim() == 0:
        return c / c
    std = c.diagonal().sqrt()
    c = c / std.reshape(-1, 1) / std.reshape(1, -1)
    return c.clamp(-1, 1)
