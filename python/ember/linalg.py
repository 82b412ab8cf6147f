"""ember.linalg: PyTorch's torch.linalg (inv, det, slogdet, solve, solve_triangular, cholesky, qr, lu,
eigh, svd, pinv, lstsq, matrix_rank, norms, cond, matrix_exp, ldl_factor/ldl_solve, ...) and the torch-level names real
scripts use (inverse, det, logdet, slogdet, cholesky, qr, svd, pinverse, lu, lu_solve, lu_unpack,
cholesky_solve, cholesky_inverse, triangular_solve, matrix_exp, and their Tensor methods).

The factorizations run LAPACK from the OpenBLAS ember links (getrf, gesv, potrf, geqrf/orgqr, syevd,
gesdd, sytrf: ember._lapack and ember._ldl) on ``t.detach().numpy()`` (float32/float64, batches looped
in C++ without the GIL; a CUDA tensor is copied to the host first), the result copied back into an
ember tensor of the input's dtype, on the input's device; LAPACK's ``info`` gives the ``*_ex``
functions' ``info`` (on the input's device too) and the singular/not-positive-definite errors.

Each differentiable factorization is an ``ember.autograd.Function`` whose backward is written with
differentiable ember ops (matmul, mT, triu/tril, diag_embed) and with this module's own functions
(solve, solve_triangular, inv), so double backward works. The formulas are PyTorch's (derivatives.yaml
/ FunctionsManual.cpp); each node is named as PyTorch's (``LinalgInvExBackward0``,
``LinalgCholeskyExBackward0``, ...). inv, det, slogdet, solve, solve_triangular, cholesky and eigh
also have a jvp (forward AD), computed through numpy without recording. Functions PyTorch
differentiates with a node of their own but ember composes (pinv, lstsq, matrix_norm, cond,
lu_solve, matrix_exp, logdet, ...) show the nodes of their parts instead.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any, Sequence

import numpy as np

from . import _C, _composite_linalg, _creation, _lapack, return_types
from ._autocast import lower_under_autocast
from ._C import Tensor
from ._composite import _axis_alias
from ._creation import _device_of
from ._dtype_info import _SCALAR_NAMES
from ._eig import eig, eigvals
from ._householder import householder_product
from ._ldl import ldl_factor, ldl_factor_ex, ldl_solve
from .autograd.function import Function

__all__ = [
    "LinAlgError",
    "householder_product",
    "cholesky",
    "cholesky_ex",
    "cond",
    "cross",
    "det",
    "diagonal",
    "eig",
    "eigh",
    "eigvals",
    "eigvalsh",
    "inv",
    "inv_ex",
    "ldl_factor",
    "ldl_factor_ex",
    "ldl_solve",
    "lstsq",
    "lu",
    "lu_factor",
    "lu_factor_ex",
    "lu_solve",
    "matmul",
    "matrix_exp",
    "matrix_norm",
    "matrix_power",
    "matrix_rank",
    "multi_dot",
    "norm",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "solve_ex",
    "solve_triangular",
    "svd",
    "svdvals",
    "tensorinv",
    "tensorsolve",
    "vander",
    "vecdot",
    "vector_norm",
]

# The named tuples, named as PyTorch's torch.return_types.
_InvEx = return_types.linalg_inv_ex
_CholeskyEx = return_types.linalg_cholesky_ex
_SolveEx = return_types.linalg_solve_ex
_Slogdet = return_types.linalg_slogdet
_QR = return_types.linalg_qr
_Eigh = return_types.linalg_eigh
_SVD = return_types.linalg_svd
_LuFactor = return_types.linalg_lu_factor
_LuFactorEx = return_types.linalg_lu_factor_ex
_Lu = return_types.linalg_lu
_Lstsq = return_types.linalg_lstsq
_TorchSlogdet = return_types.slogdet
_TorchQR = return_types.qr
_TriangularSolve = return_types.triangular_solve
_LuUnpack = return_types.lu_unpack
_TorchSVD = return_types.svd


class _LinAlgError(RuntimeError):
    """A factorization failed on its input (singular, not positive-definite): PyTorch's
    torch.linalg.LinAlgError, a RuntimeError. Named and placed as PyTorch's (``torch._C._LinAlgError``), as
    tracebacks and ``type(e).__name__`` show it."""


_LinAlgError.__module__ = "ember._C"
_C._LinAlgError = _LinAlgError
LinAlgError = _LinAlgError


# ------------------------------------------------------------------------------------------- helpers


def _np(t: Tensor) -> np.ndarray:
    """t's values as a numpy array for LAPACK: a host copy of a CUDA tensor."""
    t = t.detach()
    return t.cpu().numpy() if t.is_cuda else t.numpy()


def _on(t: Tensor, like: Tensor) -> Tensor:
    """A host result ``t`` on ``like``'s device (LAPACK runs on the host; results go where the input is)."""
    return t.to(like.device) if like.is_cuda else t


def _tensor(a: Any, like: Tensor) -> Tensor:
    """A numpy result as a fresh ember tensor of ``like``'s dtype, on its device."""
    arr = np.array(a, dtype=np.float32 if like.dtype == _C.dtype.float32 else np.float64, copy=True, order="C")
    return _on(_C.from_numpy(arr), like)


def _int_tensor(a: Any, dtype: _C.dtype, like: Tensor) -> Tensor:
    """A numpy result (info, pivots) as an int32/int64 ember tensor on ``like``'s device."""
    arr = np.array(a, dtype=np.int32 if dtype == _C.dtype.int32 else np.int64, copy=True, order="C")
    return _on(_C.from_numpy(arr), like)


def _check_same_device(*tensors: Tensor) -> None:
    """ember's error for tensors on two devices (the LAPACK paths copy to the host and would mix them silently)."""
    devices = {str(t.device) for t in tensors}
    if len(devices) > 1:
        a, b = sorted(devices, key=lambda d: d == "cpu")[:2]
        raise RuntimeError(
            f"Expected all tensors to be on the same device, but found at least two devices, {a} and {b}!"
        )


def _check_float(name: str, A: Tensor, arg: str = "input") -> None:
    if not isinstance(A, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' (position 1) must be Tensor, not {type(A).__name__}")
    if A.is_complex():  # complex tensors exist (Note [Complex tensors]); their linear algebra does not yet
        got = _SCALAR_NAMES.get(A.dtype.name, A.dtype.name)
        raise NotImplementedError(f"\"{name}\" not implemented for '{got}': ember's linalg takes float32 and float64")
    if not A.is_floating_point():
        got = _SCALAR_NAMES.get(A.dtype.name, A.dtype.name)
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got {got}")


def _check_matrix(name: str, A: Tensor, arg: str = "A") -> None:
    if A.dim() < 2:
        raise RuntimeError(f"{name}: The input tensor {arg} must have at least 2 dimensions.")


def _check_square(name: str, A: Tensor, arg: str = "A") -> None:
    _check_float(name, A)
    _check_matrix(name, A, arg)
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(
            f"{name}: {arg} must be batches of square matrices, but they are {A.shape[-2]} by {A.shape[-1]} matrices"
        )


def _batches(shape: tuple[int, ...]) -> Any:
    return np.ndindex(*shape) if shape else [()]


def _singular_error(name: str, info: np.ndarray) -> RuntimeError:
    bad = next(idx for idx in _batches(info.shape) if info[idx] != 0)
    prefix = f"(Batch element {int(np.ravel_multi_index(bad, info.shape)) if bad else 0}): " if info.ndim else ""
    return LinAlgError(
        f"{name}: {prefix}The diagonal element {int(info[bad])} is zero, the inversion could not be completed "
        "because the input matrix is singular."
    )


def _forward_ad_active() -> bool:
    """Whether a forward-AD dual level is open: only then do the Functions keep what their jvp needs."""
    from .autograd import function

    return function._forward_ad is not None and function._forward_ad._current_level >= 0


def _trace(t: Tensor) -> Tensor:
    return t.diagonal(0, -2, -1).sum(-1)


def _mT(t: Tensor) -> Tensor:
    return t.transpose(-2, -1)


def _sum_to(t: Tensor, shape: Sequence[int]) -> Tensor:
    return t if tuple(t.shape) == tuple(shape) else t.sum_to_size(list(shape))


def _out(out: Tensor | None, result: Tensor, name: str) -> Tensor:
    return result if out is None else _C._write_out(out, result, name)


def _out_tuple(out: Any, result: tuple, kind: Any, name: str) -> Any:
    """``out=(a, b, ...)``: each result written into its tensor (resized as needed); the named tuple of
    ``out``'s tensors is returned, as PyTorch's."""
    if out is None:
        return kind(*result)
    if not isinstance(out, (tuple, list)) or len(out) != len(result):
        raise TypeError(f"{name}(): argument 'out' must be tuple of {len(result)} Tensors")
    return kind(*(_C._write_out(o, r, name) for o, r in zip(out, result)))


def _eye_like(A: Tensor, n: int) -> Tensor:
    return _creation.eye(n, dtype=A.dtype, device=_device_of(A))


# ----------------------------------------------------------------------------------------- inv, det


class LinalgInvEx(Function):
    """inv_ex's node: gA = -A^{-H} gInv A^{-H}."""

    _node_name = "LinalgInvExBackward0"

    @staticmethod
    def forward(ctx: Any, A: Tensor) -> Any:
        inv_a, info = _lapack.inv_info(_np(A))
        inv_a[info != 0] = np.nan
        inverse = _tensor(inv_a, A)
        info_t = _int_tensor(info, _C.dtype.int32, A)
        ctx.mark_non_differentiable(info_t)
        ctx.save_for_backward(inverse)
        if _forward_ad_active():
            ctx.save_for_forward(inverse)
        return inverse, info_t

    @staticmethod
    def backward(ctx: Any, g: Tensor, _ginfo: Any) -> Tensor:
        (inverse,) = ctx.saved_tensors
        inv_h = _mT(inverse)
        return -_C.matmul(_C.matmul(inv_h, g), inv_h)

    @staticmethod
    def jvp(ctx: Any, dA: Tensor) -> Any:
        (inverse,) = ctx.saved_tensors
        return -_C.matmul(_C.matmul(inverse, dA), inverse), None


def inv_ex(A: Tensor, *, check_errors: bool = False, out: Any = None) -> Any:
    """The inverse of a square matrix (or of each of a batch) and LAPACK's ``info`` (0: invertible;
    k > 0: the k-th diagonal element of U is zero), as ``(inverse, info)``."""
    _check_square("linalg.inv_ex", A)
    inverse, info = LinalgInvEx.apply(A)
    if check_errors and bool((info != 0).any()):
        raise _singular_error("linalg.inv_ex", _np(info))
    return _out_tuple(out, (inverse, info), _InvEx, "linalg.inv_ex")


def inv(A: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The inverse of a square matrix (or of each of a batch); a singular matrix raises."""
    _check_square("linalg.inv", A)
    inverse, info = LinalgInvEx.apply(A)
    if bool((info != 0).any()):
        raise _singular_error("linalg.inv", _np(info))
    return _out(out, inverse, "linalg.inv")


def _adjugate_t(A: Tensor) -> Tensor:
    """The transposed adjugate of A (det(A) A^{-T} where A is invertible), through its SVD, so that
    it is defined for singular A too: adj(A)^T = U adj(S) V^T det(U) det(V)."""
    U, S, Vh = svd(A, full_matrices=False)
    n = S.shape[-1]
    # adj(S)_i = prod_{j != i} s_j, without dividing by a zero s_i.
    parts = []
    for i in range(n):
        others = [S.narrow(-1, j, 1) for j in range(n) if j != i]
        p = others[0] if others else _creation.ones_like(S.narrow(-1, 0, 1))
        for o in others[1:]:
            p = p * o
        parts.append(p)
    adj_s = _C.cat(parts, -1)
    sign = _tensor(_lapack.det(_np(U)) * _lapack.det(_np(Vh)), A)
    return _C.matmul(U * adj_s.unsqueeze(-2), Vh) * sign.unsqueeze(-1).unsqueeze(-1)


class LinalgDet(Function):
    """det's node: gA = g det(A) A^{-H} (the adjugate, through the SVD, where A is singular)."""

    _node_name = "LinalgDetBackward0"

    @staticmethod
    def forward(ctx: Any, A: Tensor) -> Tensor:
        d = _tensor(_lapack.det(_np(A)), A)
        ctx.save_for_backward(A, d)
        if _forward_ad_active():
            ctx.save_for_forward(A, d)
        return d

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Tensor:
        A, d = ctx.saved_tensors
        if bool((d == 0).any()) or not bool(_C.isfinite(d).all()):
            return g.unsqueeze(-1).unsqueeze(-1) * _adjugate_t(A)
        gd = (g * d).unsqueeze(-1).unsqueeze(-1)
        return gd * _mT(inv(A))

    @staticmethod
    def jvp(ctx: Any, dA: Tensor) -> Tensor:
        A, d = ctx.saved_tensors  # d det = tr(adj(A) dA): det(A) tr(A^-1 dA) where A is invertible
        a = _np(A)
        adj_t = np.zeros_like(a)
        for idx in _batches(a.shape[:-2]):
            m = a[idx]
            try:
                adj_t[idx] = _lapack.det(m) * _lapack.inv(m).T
            except _lapack.LinAlgError:  # singular: the adjugate through the SVD
                u, sv, vh = _lapack.svd(m)
                others = np.array([np.prod(np.delete(sv, i)) for i in range(len(sv))])
                adj_t[idx] = _lapack.det(u) * _lapack.det(vh) * (u * others) @ vh
        return (_tensor(adj_t, A) * dA).sum((-2, -1))


def det(A: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The determinant of a square matrix (or of each of a batch)."""
    _check_square("linalg.det", A)
    return _out(out, LinalgDet.apply(A), "linalg.det")


class LinalgSlogdet(Function):
    """slogdet's node: g_logabsdet A^{-H}. sign is an output of the node too (it requires grad, as PyTorch's)
    but contributes no gradient: a backward from sign alone leaves A.grad None."""

    _node_name = "LinalgSlogdetBackward0"

    @staticmethod
    def forward(ctx: Any, A: Tensor) -> Any:
        sign, logabs = _lapack.slogdet(_np(A))
        sign_t, logabs_t = _tensor(sign, A), _tensor(logabs, A)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(A)
        if _forward_ad_active():
            ctx.save_for_forward(A)
        return sign_t, logabs_t

    @staticmethod
    def backward(ctx: Any, _gsign: Any, glogabs: Tensor | None) -> Tensor | None:
        if glogabs is None:
            return None
        (A,) = ctx.saved_tensors
        return glogabs.unsqueeze(-1).unsqueeze(-1) * _mT(inv(A))

    @staticmethod
    def jvp(ctx: Any, dA: Tensor) -> Any:
        (A,) = ctx.saved_tensors
        return None, _trace(_raw_solve(A, dA))


def slogdet(A: Tensor, *, out: Any = None) -> Any:
    """The sign and the natural log of the absolute value of the determinant, as ``(sign, logabsdet)``
    (sign 0 and logabsdet -inf for a singular matrix)."""
    _check_square("linalg.slogdet", A)
    sign, logabs = LinalgSlogdet.apply(A)
    return _out_tuple(out, (sign, logabs), _Slogdet, "linalg.slogdet")


# -------------------------------------------------------------------------------------------- solve


def _vector_rhs(A: Tensor, B: Tensor) -> bool:
    """PyTorch's rule: B is a (batch of) vector(s) when it is 1-D, or has one dim less than A and
    the shape of A without its last dim."""
    return B.dim() == 1 or (B.dim() == A.dim() - 1 and tuple(B.shape) == tuple(A.shape[:-1]))


class LinalgSolveEx(Function):
    """solve's node (A X = B, B a batch of matrices): gB = A^{-H} gX, gA = -gB X^H."""

    _node_name = "LinalgSolveExBackward0"

    @staticmethod
    def forward(ctx: Any, A: Tensor, B: Tensor) -> Any:
        x, info = _lapack.solve_info(_np(A), _np(B))
        x[info != 0] = np.nan
        X = _tensor(x, A)
        info_t = _int_tensor(info, _C.dtype.int32, A)
        ctx.mark_non_differentiable(info_t)
        ctx.save_for_backward(A, X)
        if _forward_ad_active():
            ctx.save_for_forward(A, X)
        ctx.shapes = (tuple(A.shape), tuple(B.shape))
        return X, info_t

    @staticmethod
    def backward(ctx: Any, g: Tensor, _ginfo: Any) -> Any:
        A, X = ctx.saved_tensors
        a_shape, b_shape = ctx.shapes
        gB = solve(_mT(A), g)
        gA = -_C.matmul(gB, _mT(X)) if ctx.needs_input_grad[0] else None
        return (_sum_to(gA, a_shape) if gA is not None else None), _sum_to(gB, b_shape)

    @staticmethod
    def jvp(ctx: Any, dA: Tensor, dB: Tensor) -> Any:
        A, X = ctx.saved_tensors
        return _raw_solve(A, dB - _C.matmul(dA, X)), None


def _solve(name: str, A: Tensor, B: Tensor, left: bool) -> tuple[Tensor, Tensor]:
    _check_square(name, A)
    _check_float(name, B)
    _check_same_device(A, B)
    if A.dtype != B.dtype:
        raise RuntimeError(
            f"{name}: Expected A and B to have the same dtype, but found A of type "
            f"{_SCALAR_NAMES[A.dtype.name]} and B of type {_SCALAR_NAMES[B.dtype.name]} instead"
        )
    vector = _vector_rhs(A, B)
    if not left:  # X A = B is A^T X^T = B^T
        if vector:
            Bm = B.unsqueeze(-2)
            X, info = _solve(name, _mT(A), _mT(Bm), True)
            return _mT(X).squeeze(-2), info
        X, info = _solve(name, _mT(A), _mT(B), True)
        return _mT(X), info
    Bm = B.unsqueeze(-1) if vector else B
    n = A.shape[-1]
    if Bm.shape[-2] != n:
        raise RuntimeError(
            f"{name}: Incompatible shapes of A and B for the equation AX = B ({A.shape[-2]}x{n} and "
            f"{Bm.shape[-2]}x{Bm.shape[-1]})"
        )
    X, info = LinalgSolveEx.apply(A, Bm)
    return (X.squeeze(-1) if vector else X), info


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False, out: Any = None) -> Any:
    """``solve`` with LAPACK's ``info`` instead of an error for singular matrices, as ``(result, info)``."""
    X, info = _solve("linalg.solve_ex", A, B, left)
    if check_errors and bool((info != 0).any()):
        raise _singular_error("linalg.solve_ex", _np(info))
    return _out_tuple(out, (X, info), _SolveEx, "linalg.solve_ex")


def solve(A: Tensor, B: Tensor, *, left: bool = True, out: Tensor | None = None) -> Tensor:
    """The solution X of ``A X = B`` (``X A = B`` with left=False) for a square invertible A; batches
    broadcast, and B may be a (batch of) vector(s)."""
    X, info = _solve("linalg.solve", A, B, left)
    if bool((info != 0).any()):
        raise LinAlgError("torch.linalg.solve: The solver failed because the input matrix is singular.")
    return _out(out, X, "linalg.solve")


def _tri_mask(t: Tensor, upper: bool, unitriangular: bool) -> Tensor:
    if upper:
        return t.triu(1 if unitriangular else 0)
    return t.tril(-1 if unitriangular else 0)


def _raw_solve_triangular(A: Tensor, B: Tensor, upper: bool, left: bool, unitriangular: bool) -> Tensor:
    """solve_triangular's values, through numpy, recording nothing (forward and the jvps)."""
    a, b = _np(A), _np(B)
    a = np.triu(a) if upper else np.tril(a)
    if unitriangular:
        a = a.copy()
        idx = np.arange(a.shape[-1])
        a[..., idx, idx] = 1
    if left:
        x, info = _lapack.solve_info(a, b)
    else:
        x, info = _lapack.solve_info(np.swapaxes(a, -1, -2), np.swapaxes(b, -1, -2))
        x = np.swapaxes(x, -1, -2)
    x[info != 0] = np.nan  # a zero on the diagonal
    return _tensor(x, A)


def _raw_solve(A: Tensor, B: Tensor) -> Tensor:
    """A^-1 B (B a batch of matrices), through numpy, recording nothing (for the jvps: a jvp that
    called this module's Functions would re-enter forward AD)."""
    return _tensor(_lapack.solve(_np(A), _np(B)), A)


class LinalgSolveTriangular(Function):
    """solve_triangular's node: gB = A^{-H} g (left) or g A^{-H} (right), gA = -gB X^H or -X^H gB,
    restricted to A's triangle."""

    _node_name = "LinalgSolveTriangularBackward0"

    @staticmethod
    def forward(ctx: Any, A: Tensor, B: Tensor, upper: bool, left: bool, unitriangular: bool) -> Tensor:
        X = _raw_solve_triangular(A, B, upper, left, unitriangular)
        ctx.save_for_backward(A, X)
        if _forward_ad_active():
            ctx.save_for_forward(A, X)
        ctx.opts = (upper, left, unitriangular, tuple(A.shape), tuple(B.shape))
        return X

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        A, X = ctx.saved_tensors
        upper, left, unitri, a_shape, b_shape = ctx.opts
        gB = solve_triangular(_mT(A), g, upper=not upper, left=left, unitriangular=unitri)
        gA = None
        if ctx.needs_input_grad[0]:
            gA = -_C.matmul(gB, _mT(X)) if left else -_C.matmul(_mT(X), gB)
            gA = _sum_to(_tri_mask(gA, upper, unitri), a_shape)
        return gA, _sum_to(gB, b_shape), None, None, None

    @staticmethod
    def jvp(ctx: Any, dA: Tensor, dB: Tensor, *_: Any) -> Tensor:
        A, X = ctx.saved_tensors
        upper, left, unitri = ctx.opts[:3]
        dA = _tri_mask(dA, upper, unitri)
        rhs = dB - (_C.matmul(dA, X) if left else _C.matmul(X, dA))
        return _raw_solve_triangular(A, rhs, upper, left, unitri)


def solve_triangular(
    A: Tensor,
    B: Tensor,
    *,
    upper: bool,
    left: bool = True,
    unitriangular: bool = False,
    out: Tensor | None = None,
) -> Tensor:
    """The solution X of ``A X = B`` (``X A = B`` with left=False) for a triangular A (its upper or
    lower triangle is read; unitriangular: its diagonal taken as ones); batches broadcast."""
    name = "linalg.solve_triangular"
    _check_float(name, A)
    _check_float(name, B)
    _check_matrix(name, A)
    _check_matrix(name, B, "B")
    _check_same_device(A, B)
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(
            f"{name}: A must be batches of square matrices, but they are {A.shape[-2]} by {A.shape[-1]} matrices"
        )
    k = B.shape[-2] if left else B.shape[-1]
    if k != A.shape[-1]:
        raise RuntimeError(
            f"{name}: Incompatible shapes of A and B for the equation "
            f"{'AX = B' if left else 'XA = B'} ({A.shape[-2]}x{A.shape[-1]} and {B.shape[-2]}x{B.shape[-1]})"
        )
    return _out(out, LinalgSolveTriangular.apply(A, B, upper, left, unitriangular), name)


# ----------------------------------------------------------------------------------------- cholesky


class LinalgCholeskyEx(Function):
    """cholesky's node (PyTorch's cholesky_backward): gA = L^{-H} Φ(L^H gL) L^{-1}, symmetrised."""

    _node_name = "LinalgCholeskyExBackward0"

    @staticmethod
    def forward(ctx: Any, A: Tensor, upper: bool) -> Any:
        low, info = _lapack.cholesky_info(_np(A))
        L = _tensor(np.swapaxes(low, -1, -2) if upper else low, A)
        info_t = _int_tensor(info, _C.dtype.int32, A)
        ctx.mark_non_differentiable(info_t)
        ctx.save_for_backward(L)
        if _forward_ad_active():
            ctx.save_for_forward(L)
        ctx.upper = upper
        return L, info_t

    @staticmethod
    def backward(ctx: Any, gL: Tensor, _ginfo: Any) -> Any:
        (L,) = ctx.saved_tensors
        if ctx.upper:
            L, gL = _mT(L), _mT(gL)
        gA = _C.matmul(_mT(L), gL).tril()
        gA = 0.5 * (gA + _mT(gA.tril(-1)))
        gA = solve_triangular(_mT(L), gA, upper=True, left=True)
        gA = solve_triangular(L, gA, upper=False, left=False)
        return gA, None

    @staticmethod
    def jvp(ctx: Any, dA: Tensor, _dupper: Any) -> Any:
        # PyTorch's cholesky_jvp: dL = L phi(L^-1 dA L^-H), phi: the lower triangle, half the diagonal.
        (L,) = ctx.saved_tensors
        if ctx.upper:
            L = _mT(L)
        t = _raw_solve_triangular(L, dA, False, True, False)
        t = _raw_solve_triangular(_mT(L), t, True, False, False)
        phi = t.tril(-1) + 0.5 * _C.diag_embed(t.diagonal(0, -2, -1))
        dL = _C.matmul(L, phi)
        return (_mT(dL) if ctx.upper else dL), None


def _not_pd_error(name: str, info: np.ndarray) -> RuntimeError:
    bad = next(idx for idx in _batches(info.shape) if info[idx] != 0)
    prefix = f"(Batch element {int(np.ravel_multi_index(bad, info.shape)) if bad else 0}): " if info.ndim else ""
    return LinAlgError(
        f"{name}: {prefix}The factorization could not be completed because the input is not positive-definite "
        f"(the leading minor of order {int(info[bad])} is not positive-definite)."
    )


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False, out: Any = None) -> Any:
    """The Cholesky factor of a symmetric positive-definite matrix (its lower triangle is read) and
    LAPACK's ``info`` (k > 0: the leading minor of order k is not positive-definite), as ``(L, info)``."""
    _check_square("linalg.cholesky_ex", A)
    L, info = LinalgCholeskyEx.apply(A, upper)
    if check_errors and bool((info != 0).any()):
        raise _not_pd_error("linalg.cholesky_ex", _np(info))
    return _out_tuple(out, (L, info), _CholeskyEx, "linalg.cholesky_ex")


def cholesky(A: Tensor, *, upper: bool = False, out: Tensor | None = None) -> Tensor:
    """The Cholesky factor L (A = L L^H; U with upper=True, A = U^H U) of a symmetric positive-definite
    matrix or batch of them; only the lower triangle of A is read."""
    _check_square("linalg.cholesky", A)
    L, info = LinalgCholeskyEx.apply(A, upper)
    if bool((info != 0).any()):
        raise _not_pd_error("linalg.cholesky", _np(info))
    return _out(out, L, "linalg.cholesky")


# ----------------------------------------------------------------------------------------------- lu


def _permutation(pivots: np.ndarray, m: int) -> np.ndarray:
    """P of A = P L U from getrf's row swaps (float64, the batch's shape + (m, m))."""
    batch, k = pivots.shape[:-1], pivots.shape[-1]
    piv = pivots.reshape(-1, k) - 1
    perm = np.tile(np.arange(m), (piv.shape[0], 1))
    rows = np.arange(piv.shape[0])
    for j in range(k):
        a, b = perm[rows, j].copy(), perm[rows, piv[:, j]].copy()
        perm[rows, j], perm[rows, piv[:, j]] = b, a
    P = np.zeros((piv.shape[0], m, m))
    P[rows[:, None], perm, np.arange(m)[None, :]] = 1  # P^T A = A[perm]: column i of P is e_perm[i]
    return P.reshape(batch + (m, m))


def _lu_backward(P: Tensor, L: Tensor, U: Tensor, gL: Tensor | None, gU: Tensor | None) -> Tensor:
    """PyTorch's linalg_lu_backward, square case: gA = P L^{-H} (tril(L^H gL, -1) + triu(gU U^H)) U^{-H}."""
    if L.shape[-1] != U.shape[-2] or L.shape[-2] != U.shape[-1]:
        raise NotImplementedError("ember.linalg: the gradient of the LU factorization of a non-square matrix")
    gR = None
    if gL is not None:
        gR = _C.matmul(_mT(L), gL).tril(-1)
    if gU is not None:
        t = _C.matmul(gU, _mT(U)).triu()
        gR = t if gR is None else gR + t
    gA = solve_triangular(_mT(L), gR, upper=True, left=True, unitriangular=True)
    gA = solve_triangular(_mT(U), gA, upper=False, left=False)
    return _C.matmul(P, gA)


class LinalgLuFactorEx(Function):
    """lu_factor_ex's node: the LU gradient with gL = tril(gLU, -1), gU = triu(gLU)."""

    _node_name = "LinalgLuFactorExBackward0"

    @staticmethod
    def forward(ctx: Any, A: Tensor) -> Any:
        lu_, piv, info = _lapack.getrf(_np(A))
        LU = _tensor(lu_, A)
        piv_t, info_t = _int_tensor(piv, _C.dtype.int32, A), _int_tensor(info, _C.dtype.int32, A)
        ctx.mark_non_differentiable(piv_t, info_t)
        ctx.save_for_backward(LU)
        ctx.P = _permutation(piv, A.shape[-2])
        return LU, piv_t, info_t

    @staticmethod
    def backward(ctx: Any, gLU: Tensor, _gp: Any, _gi: Any) -> Tensor:
        (LU,) = ctx.saved_tensors
        n = LU.shape[-1]
        if LU.shape[-2] != n:
            raise NotImplementedError("ember.linalg: the gradient of the LU factorization of a non-square matrix")
        L = LU.tril(-1) + _eye_like(LU, n)
        return _lu_backward(_tensor(ctx.P, LU), L, LU.triu(), gLU.tril(-1), gLU.triu())


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False, out: Any = None) -> Any:
    """The packed LU factorization with partial pivoting (L unit lower, U upper, in one matrix), the
    row swaps (1-based, int32) and LAPACK's ``info`` (k > 0: U's k-th diagonal element is zero), as
    ``(LU, pivots, info)``."""
    name = "linalg.lu_factor_ex"
    _check_float(name, A)
    _check_matrix(name, A)
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    LU, piv, info = LinalgLuFactorEx.apply(A)
    if check_errors and bool((info != 0).any()):
        raise _singular_error(name, _np(info))
    return _out_tuple(out, (LU, piv, info), _LuFactorEx, name)


def lu_factor(A: Tensor, *, pivot: bool = True, out: Any = None) -> Any:
    """The packed LU factorization with partial pivoting and its row swaps, as ``(LU, pivots)``; a
    singular matrix still factors (as PyTorch's, which raises only in lu_solve's results)."""
    LU, piv, _ = lu_factor_ex(A, pivot=pivot)
    return _out_tuple(out, (LU, piv), _LuFactor, "linalg.lu_factor")


class LinalgLu(Function):
    """lu's node (PyTorch's linalg_lu_backward, square A)."""

    _node_name = "LinalgLuBackward0"

    @staticmethod
    def forward(ctx: Any, A: Tensor) -> Any:
        lu_, piv, _ = _lapack.getrf(_np(A))
        m, n = A.shape[-2], A.shape[-1]
        k = min(m, n)
        low = np.tril(lu_[..., :, :k], -1) + np.eye(m, k)
        up = np.triu(lu_[..., :k, :])
        P = _tensor(_permutation(piv, m), A)
        L, U = _tensor(low, A), _tensor(up, A)
        ctx.mark_non_differentiable(P)
        ctx.save_for_backward(P, L, U)
        return P, L, U

    @staticmethod
    def backward(ctx: Any, _gP: Any, gL: Tensor, gU: Tensor) -> Tensor:
        P, L, U = ctx.saved_tensors
        return _lu_backward(P, L, U, gL, gU)


def lu(A: Tensor, *, pivot: bool = True, out: Any = None) -> Any:
    """The LU factorization with partial pivoting A = P L U, as ``(P, L, U)``."""
    name = "linalg.lu"
    _check_float(name, A)
    _check_matrix(name, A)
    if not pivot:
        raise RuntimeError("linalg.lu: LU without pivoting is not implemented on the CPU")
    return _out_tuple(out, LinalgLu.apply(A), _Lu, name)


def lu_solve(
    LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True, adjoint: bool = False, out: Tensor | None = None
) -> Tensor:
    """The solution of ``A X = B`` (``X A = B`` with left=False; A^H with adjoint=True) from A's
    ``lu_factor``: two triangular solves and the row swaps, differentiable in LU and B."""
    name = "linalg.lu_solve"
    _check_float(name, LU)
    _check_float(name, B)
    _check_matrix(name, LU, "LU")
    _check_matrix(name, B, "B")
    if LU.shape[-1] != LU.shape[-2]:
        raise RuntimeError(
            f"{name}: A must be batches of square matrices, but they are {LU.shape[-2]} by {LU.shape[-1]} matrices"
        )
    if pivots.dtype != _C.dtype.int32:
        raise RuntimeError(f"{name}: pivots should be a Tensor of scalar type int32")
    P = _tensor(_permutation(_np(pivots), LU.shape[-1]), LU)
    lower = dict(upper=False, unitriangular=True)
    if left and not adjoint:  # X = U^-1 L^-1 P^T B
        X = solve_triangular(LU, _C.matmul(_mT(P), B), **lower)
        X = solve_triangular(LU, X, upper=True)
    elif left:  # A^H X = B: X = P L^-H U^-H B
        X = solve_triangular(_mT(LU), B, upper=False)
        X = _C.matmul(P, solve_triangular(_mT(LU), X, upper=True, unitriangular=True))
    elif not adjoint:  # X A = B: X = B U^-1 L^-1 P^T
        X = solve_triangular(LU, B, upper=True, left=False)
        X = _C.matmul(solve_triangular(LU, X, left=False, **lower), _mT(P))
    else:  # X A^H = B: X = B P L^-H U^-H
        X = solve_triangular(_mT(LU), _C.matmul(B, P), upper=True, left=False, unitriangular=True)
        X = solve_triangular(_mT(LU), X, upper=False, left=False)
    return _out(out, X, name)


# ----------------------------------------------------------------------------------------------- qr


def _qr_backward_tall(gQ: Tensor | None, gR: Tensor | None, Q: Tensor, R: Tensor) -> Tensor:
    """m >= n, reduced: M = R gR^H - gQ^H Q, gA = (gQ + Q copyltu(M)) R^{-H}."""
    if gR is not None and gQ is not None:
        M = _C.matmul(R, _mT(gR)) - _C.matmul(_mT(gQ), Q)
    elif gR is not None:
        M = _C.matmul(R, _mT(gR))
    else:
        M = -_C.matmul(_mT(gQ), Q)
    copyltu = M.tril(-1) + _mT(M.tril(-1)) + _C.diag_embed(M.diagonal(0, -2, -1))
    b = _C.matmul(Q, copyltu)
    if gQ is not None:
        b = b + gQ
    return solve_triangular(_mT(R), b, upper=False, left=False)


class LinalgQr(Function):
    """qr's node: the formula of Walter & Lehmann / PyTorch for m >= n; for m < n, A = [X | Y] with
    X square: R = [U | V], gY = Q gV, and X's gradient that of X = Q U with gQ + Y gV^H for gQ."""

    _node_name = "LinalgQrBackward0"

    @staticmethod
    def forward(ctx: Any, A: Tensor, mode: str) -> Any:
        q, r = _lapack.qr(_np(A), mode="complete" if mode == "complete" else "reduced")
        Q, R = _tensor(q, A), _tensor(r, A)
        ctx.save_for_backward(A, Q, R)
        ctx.mode = mode
        return Q, R

    @staticmethod
    def backward(ctx: Any, gQ: Tensor, gR: Tensor) -> Any:
        A, Q, R = ctx.saved_tensors
        m, n = A.shape[-2], A.shape[-1]
        if ctx.mode == "r":
            raise RuntimeError(
                "The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                "Please use linalg.qr(A, mode='reduced') if you are going to differentiate through linalg.qr."
            )
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        if m >= n:
            return _qr_backward_tall(gQ, gR, Q, R), None
        Y = A.narrow(-1, m, n - m)
        U = R.narrow(-1, 0, m)
        gU = gR.narrow(-1, 0, m)
        gV = gR.narrow(-1, m, n - m)
        gQ2 = gQ + _C.matmul(Y, _mT(gV))
        gX = _qr_backward_tall(gQ2, gU, Q, U)
        gY = _C.matmul(Q, gV)
        return _C.cat([gX, gY], -1), None


def qr(A: Tensor, mode: str = "reduced", *, out: Any = None) -> Any:
    """The QR factorization A = QR (Q orthonormal columns, R upper triangular), as ``(Q, R)``; mode
    'reduced' (Q m x k), 'complete' (Q m x m) or 'r' (R only, Q empty)."""
    name = "linalg.qr"
    _check_float(name, A)
    _check_matrix(name, A)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(
            f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', or 'complete'"
        )
    Q, R = LinalgQr.apply(A, mode)
    if mode == "r":
        Q = _creation.empty(0, dtype=A.dtype, device=_device_of(A))
    return _out_tuple(out, (Q, R), _QR, "linalg.qr")


# --------------------------------------------------------------------------------------------- eigh


class LinalgEigh(Function):
    """eigh's node: gA = V (diag(gL) + skew(V^H gV) / E) V^H, E_ij = λ_j - λ_i."""

    _node_name = "LinalgEighBackward0"

    @staticmethod
    def forward(ctx: Any, A: Tensor, UPLO: str) -> Any:
        w, v = _lapack.eigh(_np(A), UPLO=UPLO)
        L, V = _tensor(w, A), _tensor(v, A)
        ctx.save_for_backward(L, V)
        if _forward_ad_active():
            ctx.save_for_forward(L, V)
        return L, V

    @staticmethod
    def backward(ctx: Any, gL: Tensor, gV: Tensor) -> Any:
        L, V = ctx.saved_tensors
        inner = None
        if gV is not None:
            VhgV = _C.matmul(_mT(V), gV)
            VhgV = 0.5 * (VhgV - _mT(VhgV))
            E = L.unsqueeze(-2) - L.unsqueeze(-1)
            E = E + _C.diag_embed(_creation.ones_like(L))  # the diagonal of VhgV is 0: any nonzero will do
            inner = VhgV / E
        if gL is not None:
            d = _C.diag_embed(gL)
            inner = d if inner is None else inner + d
        return _C.matmul(_C.matmul(V, inner), _mT(V)), None

    @staticmethod
    def jvp(ctx: Any, dA: Tensor, _duplo: Any) -> Any:
        L, V = ctx.saved_tensors
        t = _C.matmul(_C.matmul(_mT(V), dA), V)
        dL = t.diagonal(0, -2, -1)
        E = L.unsqueeze(-2) - L.unsqueeze(-1)
        off = _C.diag_embed(_creation.ones_like(L))
        dV = _C.matmul(V, (t / (E + off)) * (1 - off))
        return dL, dV


def _check_uplo(name: str, UPLO: str) -> None:
    if UPLO not in ("L", "U", "l", "u"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")


def eigh(A: Tensor, UPLO: str = "L", *, out: Any = None) -> Any:
    """The eigenvalues (ascending) and orthonormal eigenvectors (columns) of a symmetric matrix or batch
    of them, read from its lower (UPLO='L') or upper triangle, as ``(eigenvalues, eigenvectors)``."""
    _check_square("linalg.eigh", A)
    _check_uplo("linalg.eigh", UPLO)
    return _out_tuple(out, LinalgEigh.apply(A, UPLO.upper()), _Eigh, "linalg.eigh")


def eigvalsh(A: Tensor, UPLO: str = "L", *, out: Tensor | None = None) -> Tensor:
    """The eigenvalues (ascending) of a symmetric matrix or batch of them."""
    _check_square("linalg.eigvalsh", A)
    _check_uplo("linalg.eigvalsh", UPLO)
    if A.requires_grad and _C.is_grad_enabled():
        return _out(out, LinalgEigh.apply(A, UPLO.upper())[0], "linalg.eigvalsh")
    return _out(out, _tensor(_lapack.eigvalsh(_np(A), UPLO=UPLO.upper()), A), "linalg.eigvalsh")


# ---------------------------------------------------------------------------------------------- svd


class LinalgSvd(Function):
    """svd's node (PyTorch's svd_backward, the gauge-invariant real case)."""

    _node_name = "LinalgSvdBackward0"

    @staticmethod
    def forward(ctx: Any, A: Tensor, full_matrices: bool) -> Any:
        u, s, vh = _lapack.svd(_np(A), full_matrices=full_matrices)
        U, S, Vh = _tensor(u, A), _tensor(s, A), _tensor(vh, A)
        ctx.save_for_backward(U, S, Vh)
        ctx.full = full_matrices
        return U, S, Vh

    @staticmethod
    def backward(ctx: Any, gU: Tensor | None, gS: Tensor | None, gVh: Tensor | None) -> Any:
        U, S, Vh = ctx.saved_tensors
        m, n = U.shape[-2], Vh.shape[-1]
        k = S.shape[-1]
        if ctx.full and (gU is not None or gVh is not None):
            U, Vh = U.narrow(-1, 0, k), Vh.narrow(-2, 0, k)
            gU = gU.narrow(-1, 0, k) if gU is not None else None
            gVh = gVh.narrow(-2, 0, k) if gVh is not None else None
        if gU is None and gVh is None:
            return _C.matmul(U * gS.unsqueeze(-2), Vh), None
        V = _mT(Vh)
        gV = _mT(gVh) if gVh is not None else None
        S2 = S * S
        E = S2.unsqueeze(-2) - S2.unsqueeze(-1)
        E = E + _C.diag_embed(_creation.ones_like(S))
        if gU is not None:
            UhgU = _C.matmul(_mT(U), gU)
            UhgU = UhgU - _mT(UhgU)
        if gV is not None:
            VhgV = _C.matmul(_mT(V), gV)
            VhgV = VhgV - _mT(VhgV)
        if gU is not None and gV is not None:
            gA = (UhgU * S.unsqueeze(-2) + S.unsqueeze(-1) * VhgV) / E
        elif gU is not None:
            gA = (UhgU / E) * S.unsqueeze(-2)
        else:
            gA = S.unsqueeze(-1) * (VhgV / E)
        if gS is not None:
            gA = gA + _C.diag_embed(gS)
        if m > n and gU is not None:
            gA = _C.matmul(U, gA)
            gUSinv = gU / S.unsqueeze(-2)
            gA = gA + gUSinv - _C.matmul(U, _C.matmul(_mT(U), gUSinv))
            gA = _C.matmul(gA, Vh)
        elif m < n and gV is not None:
            gA = _C.matmul(gA, Vh)
            gVSinv = gV / S.unsqueeze(-2)
            gA = gA + _mT(gVSinv) - _C.matmul(_C.matmul(_mT(gVSinv), V), Vh)
            gA = _C.matmul(U, gA)
        else:
            gA = _C.matmul(_C.matmul(U, gA), Vh)
        return gA, None


def svd(A: Tensor, full_matrices: bool = True, *, driver: str | None = None, out: Any = None) -> Any:
    """The singular value decomposition A = U diag(S) Vh (S descending), as ``(U, S, Vh)``;
    full_matrices=False gives the reduced U (m x k) and Vh (k x n), k = min(m, n)."""
    _check_float("linalg.svd", A)
    _check_matrix("linalg.svd", A)
    return _out_tuple(out, LinalgSvd.apply(A, full_matrices), _SVD, "linalg.svd")


def svdvals(A: Tensor, *, driver: str | None = None, out: Tensor | None = None) -> Tensor:
    """The singular values of a matrix or batch of them, descending."""
    _check_float("linalg.svdvals", A)
    _check_matrix("linalg.svdvals", A)
    if A.requires_grad and _C.is_grad_enabled():
        return _out(out, LinalgSvd.apply(A, False)[1], "linalg.svdvals")
    return _out(out, _tensor(_lapack.svd(_np(A), compute_uv=False), A), "linalg.svdvals")


# ------------------------------------------------------------------------------ pinv, lstsq, rank


def _tolerances(S: Tensor, m: int, n: int, atol: Any, rtol: Any) -> Tensor:
    """max(atol, rtol * S_max) per matrix (a tensor of the batch's shape, keepdim on the last dim);
    PyTorch's defaults: rtol = eps * max(m, n) when neither is given, 0 when only atol is."""
    eps = float(np.finfo(np.float32 if S.dtype == _C.dtype.float32 else np.float64).eps)
    if rtol is None:
        rtol = eps * max(m, n) if atol is None or (not isinstance(atol, Tensor) and atol <= 0) else 0.0
    if atol is None:
        atol = 0.0
    smax = S.detach().amax(-1, keepdim=True) if S.shape[-1] else _creation.zeros_like(S.detach().sum(-1, keepdim=True))
    rt = rtol.detach().unsqueeze(-1) if isinstance(rtol, Tensor) else rtol
    at = atol.detach().unsqueeze(-1) if isinstance(atol, Tensor) else atol
    return _C.maximum(smax * rt, _creation.zeros_like(smax) + at)


def pinv(
    A: Tensor,
    rcond: Any = None,
    hermitian: bool = False,
    *,
    atol: Any = None,
    rtol: Any = None,
    out: Tensor | None = None,
) -> Tensor:
    """The Moore-Penrose pseudo-inverse, through the SVD (the eigendecomposition with hermitian=True):
    singular values at or below max(atol, rtol * largest) are taken as zero. ``rcond`` is PyTorch's
    older name for rtol."""
    _check_float("linalg.pinv", A)
    _check_matrix("linalg.pinv", A)
    if rcond is not None:
        rtol = rcond
    m, n = A.shape[-2], A.shape[-1]
    if hermitian:
        L, V = eigh(A)
        absL = L.abs()
        tol = _tolerances(absL, m, n, atol, rtol)
        keep = absL > tol
        Linv = _C.where(keep, 1 / _C.where(keep, L, _creation.ones_like(L)), _creation.zeros_like(L))
        result = _C.matmul(V * Linv.unsqueeze(-2), _mT(V))
    else:
        U, S, Vh = svd(A, full_matrices=False)
        tol = _tolerances(S, m, n, atol, rtol)
        keep = S > tol
        Sinv = _C.where(keep, 1 / _C.where(keep, S, _creation.ones_like(S)), _creation.zeros_like(S))
        result = _C.matmul(_mT(Vh) * Sinv.unsqueeze(-2), _mT(U))
    return _out(out, result, "linalg.pinv")


def matrix_rank(
    A: Tensor,
    tol: Any = None,
    hermitian: bool = False,
    *,
    atol: Any = None,
    rtol: Any = None,
    out: Tensor | None = None,
) -> Tensor:
    """The number of singular values (|eigenvalues| with hermitian=True) above max(atol, rtol *
    largest), as int64; ``tol`` is PyTorch's older name for atol."""
    _check_float("linalg.matrix_rank", A)
    _check_matrix("linalg.matrix_rank", A)
    if tol is not None:
        atol, rtol = tol, 0.0
    m, n = A.shape[-2], A.shape[-1]
    with _no_grad():
        S = eigvalsh(A).abs() if hermitian else svdvals(A)
        tol_t = _tolerances(S, m, n, atol, rtol)
        rank = (S > tol_t).sum(-1)
    return _out(out, rank, "linalg.matrix_rank")


def _no_grad() -> Any:
    from .grad_mode import no_grad

    return no_grad()


def _check_gels_full_rank(A: Tensor, n: int) -> None:
    """LAPACK's gels solves through QR and fails where R has an exactly zero diagonal entry (a column that is
    exactly a combination of the ones before it, or zero): PyTorch's error, with LAPACK's 1-based position."""
    with _no_grad():
        zero = qr(A, mode="r")[1].diagonal(dim1=-2, dim2=-1) == 0
        if not bool(zero.any()):
            return
        first = int(zero.reshape(-1, n).any(0).int().argmax()) + 1
    raise _LinAlgError(
        "torch.linalg.lstsq: The least squares solution could not be computed because the input matrix does not "
        f"have full rank (error code: {first})."
    )


def lstsq(A: Tensor, B: Tensor, rcond: float | None = None, *, driver: str | None = None) -> Any:
    """The least-squares solution X of ``A X = B`` (the minimum-norm one when A is rank-deficient), as
    ``(solution, residuals, rank, singular_values)``; computed through the pseudo-inverse, which
    drivers 'gelsy' (the default), 'gelsd', 'gelss' and 'gels' all give ('gels' refuses a tall matrix whose
    QR has an exactly zero diagonal entry, as LAPACK's). Residuals (squared, per
    column) when m > n, for 'gels', and for 'gelsd'/'gelss' where every matrix is full-rank; rank
    for drivers other than 'gels'; singular values for 'gelsd' and 'gelss'; otherwise empty
    tensors, as PyTorch's."""
    name = "linalg.lstsq"
    _check_float(name, A)
    _check_float(name, B)
    _check_matrix(name, A)
    if driver is not None and driver not in ("gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    if A.dtype != B.dtype:
        raise RuntimeError(
            f"{name}: Expected input and other to have the same dtype, but got input's dtype "
            f"{_SCALAR_NAMES[A.dtype.name]} and other's dtype {_SCALAR_NAMES[B.dtype.name]}"
        )
    driver = driver or "gelsy"
    vector = B.dim() == A.dim() - 1
    if B.dim() < A.dim() - 1:
        raise RuntimeError(
            f"{name}: input.dim() must be greater or equal to other.dim() and (input.dim() - other.dim()) <= 1"
        )
    Bm = B.unsqueeze(-1) if vector else B
    m, n = A.shape[-2], A.shape[-1]
    if Bm.shape[-2] != m:
        raise RuntimeError(
            f"{name}: input.size(-2) should match other.size(-2)"
            if not vector
            else f"{name}: input.size(-2) should match other.size(-1)"
        )
    if driver == "gels" and m >= n:
        _check_gels_full_rank(A, n)
    eps = float(np.finfo(np.float32 if A.dtype == _C.dtype.float32 else np.float64).eps)
    rtol = eps * max(m, n) if rcond is None or rcond < 0 else rcond
    X = _C.matmul(pinv(A, rtol=rtol), Bm)
    empty = _creation.empty(0, dtype=A.dtype, device=_device_of(A))
    with _no_grad():
        S = svdvals(A)
        rank_t = (S > _tolerances(S, m, n, None, rtol)).sum(-1)
    rank = rank_t if driver != "gels" else _creation.empty(0, dtype=_C.dtype.int64, device=_device_of(A))
    sv = S if driver in ("gelsd", "gelss") else empty
    residuals = empty
    # As PyTorch's: none for gelsy; for gelsd and gelss only when every matrix is full-rank.
    if m > n and driver != "gelsy" and (driver == "gels" or bool((rank_t == n).all())):
        r = _C.matmul(A, X) - Bm
        residuals = (r * r).sum(-2)
        if vector:
            residuals = residuals.squeeze(-1)
    return _Lstsq(X.squeeze(-1) if vector else X, residuals, rank, sv)


# -------------------------------------------------------------------------------------------- norms


@_axis_alias  # numpy's axis= and keepdims=, which PyTorch accepts too
def vector_norm(
    x: Tensor,
    ord: float = 2,
    dim: int | Sequence[int] | None = None,
    keepdim: bool = False,
    *,
    dtype: _C.dtype | None = None,
    out: Tensor | None = None,
) -> Tensor:
    """The vector ord-norm of x over dim (all elements when None): sum(|x|^ord)^(1/ord), inf: max|x|,
    -inf: min|x|, 0: the number of nonzeros."""
    if not isinstance(x, Tensor):
        raise TypeError(f"linalg.vector_norm(): argument 'x' (position 1) must be Tensor, not {type(x).__name__}")
    _check_float("linalg.vector_norm", x)
    if isinstance(dim, numbers.Integral):
        dim = (int(dim),)
    if dim is not None:
        dim = tuple(dim)
        if len(dim) == 0:
            dim = None
    if dtype is not None:
        x = x.to(dtype)
    result = _C.norm(x, ord, dim, keepdim)
    return _out(out, result, "linalg.vector_norm")


def _move_to_end(A: Tensor, dim: Sequence[int]) -> tuple[Tensor, tuple[int, int]]:
    nd = A.dim()
    d0, d1 = (d % nd if nd else d for d in dim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, {dim[1]})")
    return A.movedim([d0, d1], [-2, -1]), (d0, d1)


@_axis_alias  # numpy's axis= and keepdims=, which PyTorch accepts too
def matrix_norm(
    A: Tensor,
    ord: Any = "fro",
    dim: Sequence[int] = (-2, -1),
    keepdim: bool = False,
    *,
    dtype: _C.dtype | None = None,
    out: Tensor | None = None,
) -> Tensor:
    """The matrix norm over the two dims ``dim``: 'fro', 'nuc', inf/-inf (max/min row sum of |A|),
    1/-1 (max/min column sum), 2/-2 (largest/smallest singular value)."""
    name = "linalg.matrix_norm"
    _check_float(name, A)
    if A.dim() < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if dtype is not None:
        A = A.to(dtype)
    dim = tuple(dim)
    if len(dim) != 2:
        raise RuntimeError(f"{name}: dim must be a 2-tuple. Got {' '.join(str(d) for d in dim)}")
    M, (d0, d1) = _move_to_end(A, dim)
    if ord == "fro":
        result = _C.norm(M, 2, (-2, -1), False)
    elif ord == "nuc":
        result = svdvals(M).sum(-1)
    elif ord in (2, -2):
        S = svdvals(M)
        result = S.amax(-1) if ord == 2 else S.amin(-1)
    elif ord in (math.inf, -math.inf):
        rows = M.abs().sum(-1)
        result = rows.amax(-1) if ord > 0 else rows.amin(-1)
    elif ord in (1, -1):
        cols = M.abs().sum(-2)
        result = cols.amax(-1) if ord > 0 else cols.amin(-1)
    else:
        raise RuntimeError(f"{name}: Order {ord} not supported.")
    if keepdim:
        for d in sorted((d0, d1)):
            result = result.unsqueeze(d)
    return _out(out, result, name)


@_axis_alias  # numpy's axis= and keepdims=, which PyTorch accepts too
def norm(
    input: Tensor,
    ord: Any = None,
    dim: int | Sequence[int] | None = None,
    keepdim: bool = False,
    *,
    dtype: _C.dtype | None = None,
    out: Tensor | None = None,
) -> Tensor:
    """A vector norm (dim an int, or A 1-D) or a matrix norm (dim a 2-tuple, or A 2-D); with ord and
    dim both None, the 2-norm of A flattened."""
    A = input
    if isinstance(dim, numbers.Integral):
        dim = (int(dim),)
    if dim is not None:
        dim = tuple(dim)
    if ord is None:
        if dim is not None and len(dim) == 2:
            return matrix_norm(A, "fro", dim, keepdim, dtype=dtype, out=out)
        return vector_norm(A, 2, dim, keepdim, dtype=dtype, out=out)
    if dim is None:
        if A.dim() not in (1, 2):
            raise RuntimeError(
                f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {A.dim()}D."
            )
        dim = tuple(range(A.dim()))
    if len(dim) == 2 or isinstance(ord, str):
        if len(dim) != 2:
            raise RuntimeError(f"linalg.norm: If ord is a string, dim must be a 2-tuple. Got {dim}")
        return matrix_norm(A, ord, dim, keepdim, dtype=dtype, out=out)
    return vector_norm(A, ord, dim, keepdim, dtype=dtype, out=out)


# ------------------------------------------------------------------------------------------- others


def matmul(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The matrix product (an alias of ember.matmul)."""
    return _out(out, _C.matmul(input, other), "linalg.matmul")


def cross(input: Tensor, other: Tensor, *, dim: int = -1, out: Tensor | None = None) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (broadcast)."""
    return _composite_linalg.cross(input, other, dim, out=out)


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """The diagonals of A (a view), as ember.diagonal with the matrix dims by default."""
    return A.diagonal(offset, dim1, dim2)


@_axis_alias  # numpy's axis= and keepdims=, which PyTorch accepts too
def vecdot(x: Tensor, y: Tensor, *, dim: int = -1, out: Tensor | None = None) -> Tensor:
    """The dot product of x and y along ``dim`` (broadcast)."""
    x, y = lower_under_autocast(("cpu",), x, y)  # on PyTorch's CPU lower-precision list
    if x.shape[dim] != y.shape[dim]:
        raise RuntimeError(
            "linalg.vecdot: Expected x and y to have the same size along dim, but got "
            f"{x.shape[dim]} and {y.shape[dim]}"
        )
    return _out(out, (x * y).sum(dim), "linalg.vecdot")


def multi_dot(tensors: Sequence[Tensor], *, out: Tensor | None = None) -> Tensor:
    """The product of the matrices, the first and last of which may be vectors."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    first_vec, last_vec = tensors[0].dim() == 1, tensors[-1].dim() == 1
    if first_vec:
        tensors[0] = tensors[0].unsqueeze(0)
    if last_vec:
        tensors[-1] = tensors[-1].unsqueeze(-1)
    for k, t in enumerate(tensors):
        if t.dim() != 2:
            which = "first" if k == 0 else "last" if k == len(tensors) - 1 else None
            if which:
                raise RuntimeError(f"multi_dot(): the {which} tensor must be 1D or 2D but got {t.dim()}D")
            raise RuntimeError(f"multi_dot(): tensor {k} must be 2D but got {t.dim()}D")
    for k in range(len(tensors) - 1):
        if tensors[k].shape[1] != tensors[k + 1].shape[0]:
            raise RuntimeError(
                "multi_dot(): tensors " + f"{k} and {k + 1} with shapes {list(tensors[k].shape)} and "
                f"{list(tensors[k + 1].shape)} cannot be multiplied"
            )
    result = tensors[0]
    for t in tensors[1:]:
        result = _C.mm(result, t)
    if first_vec:
        result = result.squeeze(0)
    if last_vec:
        result = result.squeeze(-1)
    return _out(out, result, "linalg.multi_dot")


def matrix_power(A: Tensor, n: int, *, out: Tensor | None = None) -> Tensor:
    """A (square, or a batch) multiplied by itself n times; negative n uses the inverse."""
    return _composite_linalg.matrix_power(A, n, out=out)


def cond(A: Tensor, p: Any = None, *, out: Tensor | None = None) -> Tensor:
    """The condition number of A in the matrix norm p: None or 2 (the ratio of the largest to the
    smallest singular value), -2 (its inverse), or 'fro', 'nuc', inf, -inf, 1, -1 (norm(A) norm(A^-1),
    square A only; inf for a singular matrix)."""
    name = "linalg.cond"
    _check_float(name, A)
    _check_matrix(name, A)
    if p is None or p in (2, -2):
        S = svdvals(A)
        big, small = S.narrow(-1, 0, 1).squeeze(-1), S.narrow(-1, S.shape[-1] - 1, 1).squeeze(-1)
        return _out(out, big / small if p != -2 else small / big, name)
    if p not in ("fro", "nuc", math.inf, -math.inf, 1, -1):
        raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
    _check_square(name, A)
    inverse, info = LinalgInvEx.apply(A)
    result = matrix_norm(A, p) * matrix_norm(_C.where(_C.isfinite(inverse), inverse, _creation.zeros_like(A)), p)
    singular = (info != 0).reshape(list(result.shape))
    result = _C.where(singular, _creation.full_like(result, math.inf), result)
    return _out(out, result, name)


def _prod(sizes: Sequence[int]) -> int:
    return int(np.prod(list(sizes), dtype=np.int64)) if len(sizes) else 1


def tensorinv(A: Tensor, ind: int = 2, *, out: Tensor | None = None) -> Tensor:
    """The inverse of A for tensordot over its first ``ind`` dims: shape A.shape[ind:] + A.shape[:ind]."""
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    rows, cols = list(A.shape[:ind]), list(A.shape[ind:])
    if _prod(rows) != _prod(cols):
        raise RuntimeError(
            "Expected self to satisfy the requirement prod(self.shape[ind:]) == prod(self.shape[:ind]), "
            f"but got {_prod(cols)} != {_prod(rows)}"
        )
    return _out(out, inv(A.reshape(_prod(rows), _prod(cols))).reshape(cols + rows), "linalg.tensorinv")


def tensorsolve(A: Tensor, B: Tensor, dims: Sequence[int] | None = None, *, out: Tensor | None = None) -> Tensor:
    """The X with ``tensordot(A, X, X.ndim) == B``; ``dims``: A's dims moved to its end first."""
    if dims is not None:
        nd = A.dim()
        moved = [d % nd for d in dims]
        A = A.permute([d for d in range(nd) if d not in moved] + moved)
    x_shape = list(A.shape[B.dim() :])
    if _prod(x_shape) != _prod(list(B.shape)):
        raise RuntimeError(
            "Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == prod(self.shape[:other.ndim]), "
            f"but got {_prod(x_shape)} != {_prod(list(A.shape[: B.dim()]))}"
        )
    n = _prod(list(B.shape))
    return _out(out, solve(A.reshape(n, n), B.reshape(n)).reshape(x_shape), "linalg.tensorsolve")


def vander(x: Tensor, *, N: int | None = None) -> Tensor:
    """The Vandermonde matrix of x (its last dim): columns x^0, x^1, ..., x^(N-1), N = x.size(-1)."""
    if x.dim() < 1:
        raise RuntimeError("linalg.vander: x must have at least one dimension")
    n = x.shape[-1] if N is None else N
    if n <= 1:
        if n < 0:
            raise RuntimeError("N must be greater than 1.")
        return _creation.ones(*x.shape, n, dtype=x.dtype, device=_device_of(x))
    ones = _creation.ones(*x.shape, 1, dtype=x.dtype, device=_device_of(x))
    powers = x.unsqueeze(-1).expand(*x.shape, n - 1).cumprod(-1)
    return _C.cat([ones, powers], -1)


def matrix_exp(A: Tensor) -> Tensor:
    """The matrix exponential, by scaling and squaring around a degree-18 Taylor polynomial, all in
    differentiable ember ops (PyTorch uses Pade-type polynomials and a node of its own)."""
    _check_square("linalg.matrix_exp", A)
    n = A.shape[-1]
    if n == 0 or A.numel() == 0:
        return A.clone()
    norm1 = float(A.detach().abs().sum(-2).amax())  # the 1-norm, read on the host (A stays on its device)
    s = max(0, int(math.ceil(math.log2(norm1))) + 1) if norm1 > 0.5 else 0
    X = A / (2.0**s) if s else A
    eye = _eye_like(A, n)
    result = eye + X / 18.0
    for k in range(17, 0, -1):  # Horner: I + X/1 (I + X/2 (I + ... ))
        result = eye + _C.matmul(X, result) / float(k)
    for _ in range(s):
        result = _C.matmul(result, result)
    return result


# ------------------------------------------------------------------------------- torch-level names


def inverse(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """torch.inverse: linalg.inv."""
    return inv(input, out=out)


def logdet(input: Tensor) -> Tensor:
    """torch.logdet: log det(input); nan for a negative determinant, -inf for a zero one."""
    _check_square("logdet", input, "A")
    sign, logabs = LinalgSlogdet.apply(input)
    return logabs + sign.log()


def _torch_slogdet(input: Tensor, *, out: Any = None) -> Any:
    """torch.slogdet: linalg.slogdet."""
    return _out_tuple(out, tuple(slogdet(input)), _TorchSlogdet, "slogdet")


_warned: set[str] = set()


def _warn_once(name: str, message: str) -> None:
    """PyTorch's TORCH_WARN_ONCE: once per process, every time under ember.set_warn_always(True)."""
    import sys

    if name in _warned and not getattr(sys.modules[__name__.rpartition(".")[0]], "_warn_always", False):
        return
    _warned.add(name)
    warnings.warn(message, UserWarning, stacklevel=3)


def _torch_cholesky(input: Tensor, upper: bool = False, *, out: Tensor | None = None) -> Tensor:
    """torch.cholesky (deprecated in PyTorch for linalg.cholesky, which it warns once): the factor,
    lower or upper."""
    _warn_once(
        "cholesky",
        "torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be removed in a future PyTorch "
        "release.\nL = torch.cholesky(A)\nshould be replaced with\nL = torch.linalg.cholesky(A)\nand\n"
        "U = torch.cholesky(A, upper=True)\nshould be replaced with\nU = torch.linalg.cholesky(A).mH\nThis "
        "transform will produce equivalent results for all valid (symmetric positive definite) inputs.",
    )
    return cholesky(input, upper=upper, out=out)


def _torch_qr(input: Tensor, some: bool = True, *, out: Any = None) -> Any:
    """torch.qr (deprecated in PyTorch, which warns once): linalg.qr with some=True as mode
    'reduced', some=False as 'complete'."""
    _warn_once(
        "qr",
        "torch.qr is deprecated in favor of torch.linalg.qr and will be removed in a future PyTorch release.\n"
        "The boolean parameter 'some' has been replaced with a string parameter 'mode'.\nQ, R = torch.qr(A, some)"
        "\nshould be replaced with\nQ, R = torch.linalg.qr(A, 'reduced' if some else 'complete')",
    )
    return _out_tuple(out, tuple(qr(input, "reduced" if some else "complete")), _TorchQR, "qr")


def _torch_svd(input: Tensor, some: bool = True, compute_uv: bool = True, *, out: Any = None) -> Any:
    """torch.svd: ``(U, S, V)`` with V (not Vh); some=False gives the full U and V; compute_uv=False
    gives zero-filled U (m x m) and V (n x n)."""
    if not compute_uv:
        m, n = input.shape[-2], input.shape[-1]
        batch = list(input.shape[:-2])
        S = svdvals(input)
        zeros_u = _creation.zeros(*batch, m, m, dtype=input.dtype, device=_device_of(input))
        zeros_v = _creation.zeros(*batch, n, n, dtype=input.dtype, device=_device_of(input))
        return _out_tuple(out, (zeros_u, S, zeros_v), _TorchSVD, "svd")
    U, S, Vh = svd(input, full_matrices=not some)
    return _out_tuple(out, (U, S, _mT(Vh)), _TorchSVD, "svd")


def _torch_det(input: Tensor) -> Tensor:
    """torch.det: linalg.det."""
    return det(input)


def _torch_matrix_exp(input: Tensor) -> Tensor:
    """torch.matrix_exp: linalg.matrix_exp."""
    return matrix_exp(input)


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """torch.pinverse: linalg.pinv with rtol=rcond."""
    return pinv(input, rtol=rcond)


def cholesky_solve(input: Tensor, input2: Tensor, upper: bool = False, *, out: Tensor | None = None) -> Tensor:
    """torch.cholesky_solve: the solution X of A X = input from A's Cholesky factor ``input2`` (lower L,
    A = L L^H; upper: A = U^H U), by two triangular solves."""
    B, L = input, input2
    _check_float("cholesky_solve", B)
    _check_float("cholesky_solve", L)
    if upper:
        X = solve_triangular(_mT(L), B, upper=False)
        X = solve_triangular(L, X, upper=True)
    else:
        X = solve_triangular(L, B, upper=False)
        X = solve_triangular(_mT(L), X, upper=True)
    return _out(out, X, "cholesky_solve")


def cholesky_inverse(input: Tensor, upper: bool = False, *, out: Tensor | None = None) -> Tensor:
    """torch.cholesky_inverse: the inverse of A from its Cholesky factor ``input``."""
    L = input
    _check_square("cholesky_inverse", L, "input")
    eye = _eye_like(L, L.shape[-1]).expand(L.shape)
    return _out(out, cholesky_solve(eye, L, upper), "cholesky_inverse")


def triangular_solve(
    input: Tensor,
    A: Tensor,
    upper: bool = True,
    transpose: bool = False,
    unitriangular: bool = False,
    *,
    out: Any = None,
) -> Any:
    """torch.triangular_solve (deprecated in PyTorch for linalg.solve_triangular, which it warns
    once): ``(solution, cloned_coefficient)`` of A X = input (A^T X = input with transpose=True)."""
    b = input
    _warn_once(
        "triangular_solve",
        "torch.triangular_solve is deprecated in favor of torch.linalg.solve_triangularand will be removed in a "
        "future PyTorch release.\ntorch.linalg.solve_triangular has its arguments reversed and does not return a "
        "copy of one of the inputs.\nX = torch.triangular_solve(B, A).solution\nshould be replaced with\n"
        "X = torch.linalg.solve_triangular(A, B).",
    )
    coef = _mT(A) if transpose else A
    X = solve_triangular(coef, b, upper=upper != transpose, unitriangular=unitriangular)
    return _out_tuple(out, (X, A.clone()), _TriangularSolve, "triangular_solve")


def _torch_lu_solve(b: Tensor, LU_data: Tensor, LU_pivots: Tensor, *, out: Tensor | None = None) -> Tensor:
    """torch.lu_solve (deprecated in PyTorch, which warns once): linalg.lu_solve(LU_data, LU_pivots, b)."""
    _warn_once(
        "lu_solve",
        "torch.lu_solve is deprecated in favor of torch.linalg.lu_solveand will be removed in a future PyTorch "
        "release.\nNote that torch.linalg.lu_solve has its arguments reversed.\nX = torch.lu_solve(B, LU, pivots)\n"
        "should be replaced with\nX = torch.linalg.lu_solve(LU, pivots, B)",
    )
    return lu_solve(LU_data, LU_pivots, b, out=out)


def lu_unpack(
    LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True, unpack_pivots: bool = True, *, out: Any = None
) -> Any:
    """torch.lu_unpack: ``(P, L, U)`` from lu_factor's packed factors (L and U differentiable); empty
    tensors for the parts not asked for."""
    m, n = LU_data.shape[-2], LU_data.shape[-1]
    k = min(m, n)
    empty = _creation.empty(0, dtype=LU_data.dtype, device=_device_of(LU_data))
    if unpack_data:
        eye = _creation.eye(m, k, dtype=LU_data.dtype, device=_device_of(LU_data))
        L = LU_data.narrow(-1, 0, k).tril(-1) + eye
        U = LU_data.narrow(-2, 0, k).triu()
    else:
        L = U = empty
    P = _tensor(_permutation(_np(LU_pivots), m), LU_data) if unpack_pivots else empty
    return _out_tuple(out, (P, L, U), _LuUnpack, "lu_unpack")


def _torch_lu(A: Tensor, pivot: bool = True, get_infos: bool = False, out: Any = None) -> Any:
    """torch.lu (deprecated in PyTorch for linalg.lu_factor, which it warns once): ``(LU, pivots)``,
    and ``info`` with get_infos=True (else a singular matrix raises)."""
    _warn_once(
        "lu",
        "torch.lu is deprecated in favor of torch.linalg.lu_factor / torch.linalg.lu_factor_ex and will be removed "
        "in a future PyTorch release.\nLU, pivots = torch.lu(A, compute_pivots)\nshould be replaced with\n"
        "LU, pivots = torch.linalg.lu_factor(A, compute_pivots)\nand\nLU, pivots, info = torch.lu(A, "
        "compute_pivots, get_infos=True)\nshould be replaced with\nLU, pivots, info = torch.linalg.lu_factor_ex(A, "
        "compute_pivots)",
    )
    LU, piv, info = lu_factor_ex(A, pivot=pivot, check_errors=not get_infos)
    return (LU, piv, info) if get_infos else (LU, piv)


_TORCH_LEVEL = {
    "inverse": inverse,
    "det": _torch_det,
    "logdet": logdet,
    "slogdet": _torch_slogdet,
    "cholesky": _torch_cholesky,
    "qr": _torch_qr,
    "svd": _torch_svd,
    "pinverse": pinverse,
    "matrix_exp": _torch_matrix_exp,
    "cholesky_solve": cholesky_solve,
    "cholesky_inverse": cholesky_inverse,
    "triangular_solve": triangular_solve,
    "lu_solve": _torch_lu_solve,
    "lu_unpack": lu_unpack,
    "lu": _torch_lu,
}


def _install() -> None:
    """Puts the torch-level names on the ember package and the methods on ember.Tensor."""
    import sys

    package = sys.modules[__name__.rpartition(".")[0]]
    for name, fn in _TORCH_LEVEL.items():
        fn.__name__ = name
        fn.__qualname__ = name
        setattr(package, name, fn)
        if name != "lu_unpack":  # the one that is no Tensor method in PyTorch
            setattr(Tensor, name, fn)


_install()
