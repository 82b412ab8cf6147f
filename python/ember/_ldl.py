"""linalg.ldl_factor, ldl_factor_ex and ldl_solve: LAPACK's sytrf and sytrs (Bunch-Kaufman pivoting),
in the OpenBLAS ember._C links (ember._C._lapack_sytrf/_sytrs; numpy has no LDL).

The results are LAPACK's compact form, as PyTorch returns it: ``LD`` holds L below the diagonal and
the 1x1 and 2x2 blocks of D on and next to it (its upper triangle zeroed), ``pivots`` the 1-based
row interchanges (a negative pair marks a 2x2 block). ember's reals make ``hermitian`` the same as
symmetric. As in PyTorch, neither function has a derivative: backward through them raises."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _C, return_types
from ._C import Tensor
from ._dtype_info import _scalar_name
from ._householder import _check_tensors
from ._lapack import _back, _fortran
from .autograd.function import Function

_LdlFactor = return_types.linalg_ldl_factor
_LdlFactorExResult = return_types.linalg_ldl_factor_ex


def _from_numpy(a: np.ndarray, like: Tensor) -> Tensor:
    """A host result as an ember tensor (a copy; 0-d stays 0-d) on ``like``'s device."""
    t = _C.from_numpy(np.array(a, order="C"))
    return t.to(like.device) if like.is_cuda else t


def _host(t: Tensor) -> np.ndarray:
    """t's values for LAPACK, on the host (a copy of a CUDA tensor)."""
    t = t.detach()
    return t.cpu().numpy() if t.is_cuda else t.numpy()


class _LdlFactorEx(Function):
    """ldl_factor_ex's node: PyTorch defines no derivative for it, so backward raises its error."""

    _node_name = "LinalgLdlFactorExBackward0"

    @staticmethod
    def forward(ctx: Any, A: Tensor) -> Any:
        a = _host(A)
        ld = _fortran(a)
        piv = np.zeros(a.shape[:-1], dtype=np.int32)
        info = _C._lapack_sytrf(ld, piv) if a.size else np.zeros(a.shape[:-2], dtype=np.int32)
        ld = np.tril(_back(ld))
        piv_t, info_t = _from_numpy(piv, A), _from_numpy(info, A)
        ctx.mark_non_differentiable(piv_t, info_t)
        return _from_numpy(ld, A), piv_t, info_t

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> Any:
        raise RuntimeError("derivative for aten::linalg_ldl_factor_ex is not implemented")


def ldl_factor_ex(A: Tensor, *, hermitian: bool = False, check_errors: bool = False, out: Any = None) -> Any:
    """The LDL factorization of a symmetric matrix (or of each of a batch), as LAPACK's sytrf with
    Bunch-Kaufman pivoting: ``(LD, pivots, info)``. Only A's lower triangle is read. ``info`` > 0 is the
    1-based index of a zero diagonal block of D (the factorization is complete, D singular); with
    ``check_errors=True`` that raises. ``hermitian`` equals symmetric for ember's real dtypes."""
    from .linalg import LinAlgError, _check_square, _out_tuple

    _check_square("torch.linalg.ldl_factor_ex", A)
    LD, pivots, info = _LdlFactorEx.apply(A)
    if check_errors and bool((info != 0).any()):
        raise LinAlgError(_singular_d_message("torch.linalg.ldl_factor_ex", info))
    return _out_tuple(out, (LD, pivots, info), _LdlFactorExResult, "linalg.ldl_factor_ex")


def _singular_d_message(name: str, info: Tensor) -> str:
    flat = info.reshape(-1).tolist()
    batch = next(i for i, v in enumerate(flat) if v != 0)
    where = f" (batch element {batch})" if info.dim() else ""
    return (
        f"{name}{where}: D[{flat[batch]}, {flat[batch]}] is exactly zero: the LDL factorization is complete, "
        "but D is singular"
    )


def ldl_factor(A: Tensor, *, hermitian: bool = False, out: Any = None) -> Any:
    """The LDL factorization of a symmetric matrix (or of each of a batch): ``(LD, pivots)``, as
    ``ldl_factor_ex`` computes them; a singular D raises ``LinAlgError``."""
    from .linalg import LinAlgError, _check_square, _out_tuple

    _check_square("torch.linalg.ldl_factor", A)
    LD, pivots, info = _LdlFactorEx.apply(A)
    if bool((info != 0).any()):
        raise LinAlgError(_singular_d_message("torch.linalg.ldl_factor", info))
    return _out_tuple(out, (LD, pivots), _LdlFactor, "linalg.ldl_factor")


class _LdlSolve(Function):
    """ldl_solve's node: PyTorch defines no derivative for it, so backward raises its error."""

    _node_name = "LinalgLdlSolveBackward0"

    @staticmethod
    def forward(ctx: Any, LD: Tensor, pivots: Tensor, B: Tensor) -> Tensor:
        ld, piv, b = _host(LD), _host(pivots), _host(B)
        batch = np.broadcast_shapes(ld.shape[:-2], piv.shape[:-1], b.shape[:-2])
        n = ld.shape[-1]
        ld = _fortran(np.broadcast_to(ld, batch + ld.shape[-2:]))
        piv = np.ascontiguousarray(np.broadcast_to(piv, batch + (n,)), dtype=np.int32)
        x = _fortran(np.broadcast_to(b, batch + b.shape[-2:]))
        if x.size:
            _C._lapack_sytrs(ld, piv, x)
        return _from_numpy(_back(x), B)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Any:
        raise RuntimeError("derivative for aten::linalg_ldl_solve is not implemented")


def ldl_solve(LD: Tensor, pivots: Tensor, B: Tensor, *, hermitian: bool = False, out: Tensor | None = None) -> Tensor:
    """Solves A X = B from A's LDL factorization (``LD, pivots`` of ``ldl_factor``), as LAPACK's sytrs;
    batches broadcast."""
    from .linalg import _check_same_device, _check_square, _out

    _check_tensors("linalg_ldl_solve", LD=LD, pivots=pivots, B=B)
    _check_square("torch.linalg.ldl_solve", LD, "LD")
    if B.dim() < 2:
        raise RuntimeError(
            f"torch.linalg.ldl_solve: Expected B to have at least 2 dimensions, but it has {B.dim()} dimensions"
        )
    if LD.dtype != B.dtype:
        b_type, a_type = _scalar_name(B.dtype), _scalar_name(LD.dtype)
        raise RuntimeError(
            f"Expected b and A to have the same dtype, but found b of type {b_type} and A of type {a_type} instead."
        )
    if pivots.dtype != _C.dtype.int32:
        raise RuntimeError(f"torch.linalg.ldl_solve: Expected pivots to be integers. Got {_scalar_name(pivots.dtype)}")
    if pivots.shape[-1] != LD.shape[-1] or B.shape[-2] != LD.shape[-1]:
        raise RuntimeError(
            f"torch.linalg.ldl_solve: shapes do not match: LD {tuple(LD.shape)}, pivots {tuple(pivots.shape)}, "
            f"B {tuple(B.shape)}"
        )
    _check_same_device(LD, pivots, B)
    return _out(out, _LdlSolve.apply(LD, pivots, B), "linalg.ldl_solve")
