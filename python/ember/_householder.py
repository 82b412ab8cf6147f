"""QR in LAPACK's compact form: ``geqrf`` (R above the diagonal, the Householder vectors
below it, and their scales ``tau``), and the products of those reflections,
``linalg.householder_product`` (``orgqr``: the Q factor) and ``ormqr`` (Q or Q^T times a
matrix). geqrf runs LAPACK through numpy and, as in PyTorch, has no derivative; the
products apply the reflections H_i = I - tau_i v_i v_i^T one by one with ember's ops, so
their gradients come from autograd."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _C, _lapack, return_types
from ._C import Tensor
from ._creation import _device_of, arange, eye, tensor
from .autograd.function import Function

__all__ = ["geqrf", "householder_product", "orgqr", "ormqr"]

_GeqrfResult = return_types.geqrf


def _check_tensors(op: str, **args: Any) -> None:
    """PyTorch's TypeError for an argument that is not a tensor (None, a list, ...)."""
    for position, (arg, value) in enumerate(args.items(), start=1):
        if not isinstance(value, Tensor):
            kind = type(value).__name__
            raise TypeError(f"{op}(): argument '{arg}' (position {position}) must be Tensor, not {kind}")


def _check_float_matrix(name: str, t: Tensor, arg: str) -> None:
    if t.dim() < 2:
        raise RuntimeError(f"torch.{name}: {arg} must have at least 2 dimensions.")
    if t.is_complex():  # complex tensors exist; their linear algebra does not yet (Note [Complex tensors])
        raise NotImplementedError(f"torch.{name}: a complex {arg} is not supported yet (ember's linalg is real)")
    if t.dtype not in (_C.dtype.float32, _C.dtype.float64):
        raise RuntimeError(f"torch.{name}: Expected a floating point or complex tensor as {arg}. Got {t.dtype}")


class Geqrf(Function):
    """geqrf's node: PyTorch defines no derivative, so its backward raises PyTorch's error."""

    _node_name = "GeqrfBackward0"

    @staticmethod
    def forward(ctx: Any, A: Tensor) -> Any:
        host = A.detach().cpu() if A.is_cuda else A.detach()
        h, tau = _lapack.qr_raw(host.numpy())  # LAPACK's geqrf, on the host; h is a transposed
        a = np.ascontiguousarray(np.swapaxes(h, -1, -2))
        device = _device_of(A)  # the results go back to A's device
        return tensor(a, dtype=A.dtype, device=device), tensor(tau, dtype=A.dtype, device=device)

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> Any:
        raise RuntimeError("the derivative for 'geqrf' is not implemented.")


def geqrf(input: Tensor, *, out: Any = None) -> Any:
    """(a, tau): the QR decomposition in LAPACK's compact form (R on and above a's diagonal, the Householder
    vectors below it, their scales in tau)."""
    _check_tensors("geqrf", input=input)
    _check_float_matrix("geqrf", input, "input")
    a, tau = Geqrf.apply(input)
    if out is not None:
        out[0].copy_(a)
        out[1].copy_(tau)
        return _GeqrfResult(*out)
    return _GeqrfResult(a, tau)


def _reflector(V: Tensor, tau: Tensor, i: int) -> tuple[Tensor, Tensor]:
    """v_i (a column, 1 at row i, zeros above, V's entries below) and tau_i, batched as (..., m, 1) and (..., 1, 1)."""
    m = V.shape[-2]
    column = V[..., :, i : i + 1]
    rows = arange(m, device=_device_of(V)).reshape(m, 1)
    v = _C.where(rows > i, column, _C.where(rows == i, 1.0, 0.0).to(V.dtype))
    return v, tau[..., i : i + 1].unsqueeze(-1)


def _apply_left(X: Tensor, v: Tensor, t: Tensor) -> Tensor:
    """H X = X - tau v (v^T X)."""
    return X - t * (v @ (v.mT @ X))


def _apply_right(X: Tensor, v: Tensor, t: Tensor) -> Tensor:
    """X H = X - tau (X v) v^T."""
    return X - t * ((X @ v) @ v.mT)


def householder_product(A: Tensor, tau: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The first n columns of H_1 H_2 ... H_k, H_i = I - tau_i v_i v_i^T with v_i the i-th column of A below
    the diagonal (1 on it): the Q of geqrf's compact QR."""
    name = "linalg.householder_product"
    _check_tensors("linalg_householder_product", input=A, tau=tau)
    _check_float_matrix(name, A, "input")
    m, n = A.shape[-2], A.shape[-1]
    if m < n:
        raise RuntimeError(f"torch.{name}: input.shape[-2] must be greater than or equal to input.shape[-1]")
    if n < tau.shape[-1]:
        raise RuntimeError(f"torch.{name}: input.shape[-1] must be greater than or equal to tau.shape[-1]")
    if A.dim() - tau.dim() != 1 or tuple(A.shape[:-2]) != tuple(tau.shape[:-1]):
        raise RuntimeError(
            f"torch.{name}: Expected batch dimensions of tau to be equal to input.shape[:-2], but got "
            f"{list(tau.shape[:-1])}"
        )
    X = eye(m, dtype=A.dtype, device=_device_of(A))[:, :n].expand(*A.shape[:-2], m, n)
    for i in reversed(range(tau.shape[-1])):
        X = _apply_left(X, *_reflector(A, tau, i))
    return X if out is None else out.copy_(X)


def orgqr(input: Tensor, tau: Tensor, *, out: Tensor | None = None) -> Tensor:
    """linalg.householder_product(input, tau) (LAPACK's name)."""
    return householder_product(input, tau, out=out)


def ormqr(
    input: Tensor, tau: Tensor, other: Tensor, left: bool = True, transpose: bool = False, *, out: Tensor | None = None
) -> Tensor:
    """Q other (left) or other Q (right), Q^T with transpose; Q the product of geqrf's reflections in input/tau."""
    _check_tensors("ormqr", input=input, input2=tau, input3=other)
    _check_float_matrix("ormqr", input, "input")
    _check_float_matrix("ormqr", other, "other")
    side = -2 if left else -1
    if other.shape[side] != input.shape[-2]:
        raise RuntimeError(f"torch.ormqr: other.shape[{side}] must be equal to input.shape[-2]")
    k = tau.shape[-1]
    if k != min(other.shape[side], input.shape[-1]):
        raise RuntimeError(f"torch.ormqr: tau.shape[-1] must be equal to min(other.shape[{side}], input.shape[-1])")
    # Q = H_0 H_1 ... H_(k-1): Q X applies H_(k-1) first; Q^T X applies H_0 first; X Q applies H_0 first.
    order = range(k) if (left == transpose) else reversed(range(k))
    X = other
    for i in order:
        v, t = _reflector(input, tau, i)
        X = _apply_left(X, v, t) if left else _apply_right(X, v, t)
    return X if out is None else out.copy_(X)
