"""In-place updates rounded as PyTorch's vectorised CPU kernels round them (one fused multiply-add).

Note [fused multiply-add in optimizer updates]
PyTorch's CPU kernels for ``lerp_`` and ``add_(other, alpha=...)`` on float32
tensors compute ``a + w * d`` with a single rounding (an FMA), the scalar
weight first rounded to float32.  ember's elementwise ops round the product
and the sum separately, so results differ in the last bit now and then.  Most
optimizers do not care; Muon does: its momentum buffer is rounded to bfloat16
before Newton-Schulz, where one float32 ulp can flip a bfloat16 rounding and
change the whole update.  For float32 we therefore compute in float64: the
product of two float32 numbers is exact there, so rounding the float64 sum
back to float32 gives the FMA's result (bar the very rare double rounding).
float64 tensors keep the plain formulas (ulp-level differences only).
"""

from __future__ import annotations

import struct

from .. import _C
from .._C import Tensor
from .optimizer import _lerp_

__all__: list[str] = []

float32 = _C.dtype.float32


def _f32(x: float) -> float:
    """``x`` rounded to the nearest float32, as PyTorch's kernels round a scalar for a float32 tensor."""
    return struct.unpack("f", struct.pack("f", x))[0]


def _fma_lerp(a: Tensor, b: Tensor, weight: float) -> Tensor:
    """``a.lerp(b, weight)`` as a new tensor, rounded as PyTorch's float32 kernel
    (Note [fused multiply-add in optimizer updates])."""
    if a.dtype != float32:
        return _lerp_(a.clone(), b, weight)
    w = _f32(weight)
    diff = (b - a).double()
    if abs(w) < 0.5:
        return (a.double() + diff * w).to(float32)
    return (b.double() - diff * _f32(1.0 - w)).to(float32)


def _fma_lerp_(a: Tensor, b: Tensor, weight: float) -> Tensor:
    """``a.lerp_(b, weight)`` in place, rounded as PyTorch's float32 kernel."""
    if a.dtype != float32:
        return _lerp_(a, b, weight)
    return a.copy_(_fma_lerp(a, b, weight))


def _fma_add_(a: Tensor, b: Tensor, alpha: float) -> Tensor:
    """``a.add_(b, alpha=alpha)`` in place, ``b`` first cast to ``a``'s dtype, rounded as PyTorch's kernel."""
    if a.dtype != float32:
        return a.add_(b.to(a.dtype), alpha=alpha)
    return a.copy_(a.double().add_(b.double() * _f32(alpha)))
