"""The transforms of ember.fft (Note [Fourier transforms])."""

# Note [Fourier transforms]
# Every transform is made of three autograd Functions on pair tensors (Note [Complex tensors]): C2C
# (a complex transform over some dims, forward or inverse), R2C (the half spectrum of a real input
# along one dim) and C2R (the real signal of a given length of a half spectrum along one dim). Each
# runs numpy's pocketfft, which keeps float32 as float32 (complex64). The n-D real transforms are R2C
# on the last dim then C2C on the others (C2C on the others then C2R for the inverse), as PyTorch
# composes them; hfft and ihfft are irfft and rfft of the conjugate with the dual normalization.
# The backward formulas are PyTorch's and are transforms again, so double backward works: C2C's is
# the opposite C2C with the dual normalization ("backward" <-> "forward"); R2C's is the real part of
# the inverse C2C of the zero-padded gradient; C2R's is R2C of the gradient with bins 1 .. n-m
# doubled, each standing for itself and its conjugate. scipy.fft runs them when scipy is installed:
# the same pocketfft, vectorised, faster than numpy's; numpy.fft otherwise. On one thread: with
# workers > 1 scipy starts a thread pool that it stops before every fork, and that stop can hang
# (a lost wakeup in the pool), which hung a DataLoader fork after an FFT in this project's CI. A
# tensor on a GPU is transformed on the CPU and copied back: ember has no cuFFT path.

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import _C, _complex
from .._C import Tensor
from .._complex import ComplexTensor
from ..autograd.function import Function

_DUAL = {"backward": "forward", "forward": "backward", "ortho": "ortho"}
_NUMPY_REAL = {_C.dtype.float32: np.float32, _C.dtype.float64: np.float64}


def _norm(norm: str | None) -> str:
    if norm is None:
        return "backward"
    if norm not in _DUAL:
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    return norm


def _complex_array(pair: Tensor) -> np.ndarray:
    a = np.ascontiguousarray(pair.detach().cpu().numpy())
    return a.view(np.complex64 if a.dtype == np.float32 else np.complex128)[..., 0]


def _as_pair(values: np.ndarray, like: Tensor) -> Tensor:
    values = np.ascontiguousarray(values)
    real = values.real.dtype
    pairs = values.reshape(values.shape + (1,)).view(real)
    return _on_device_of(_C.from_numpy(pairs), like)


def _on_device_of(t: Tensor, like: Tensor) -> Tensor:
    return t if like.device.type == "cpu" else t.to(like.device)


_BACKEND: list[Any] = []


def _pocketfft() -> tuple[Any, dict]:
    """(the module whose fftn/ifftn/rfft/irfft run the transforms, the keywords they take)."""
    if not _BACKEND:
        try:
            import scipy.fft as module
        except ImportError:
            _BACKEND.append(None)
        else:
            _BACKEND.append(module)
    if _BACKEND[0] is None:
        return np.fft, {}
    return _BACKEND[0], {}  # (no workers=: see the top of this file)


class _C2C(Function):
    @staticmethod
    def forward(ctx: Any, pair: Tensor, dims: tuple, forward: bool, norm: str) -> Tensor:
        ctx.dims, ctx.forward, ctx.norm = dims, forward, norm
        module, options = _pocketfft()
        transform = module.fftn if forward else module.ifftn
        return _as_pair(transform(_complex_array(pair), axes=dims, norm=norm, **options), pair)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        return _C2C.apply(grad, ctx.dims, not ctx.forward, _DUAL[ctx.norm]), None, None, None


class _R2C(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, dim: int, norm: str) -> Tensor:
        ctx.dim, ctx.norm, ctx.n = dim, norm, x.shape[dim]
        module, options = _pocketfft()
        return _as_pair(module.rfft(x.detach().cpu().numpy(), axis=dim, norm=norm, **options), x)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        padded = _resized(grad, ctx.dim, ctx.n)
        return _C2C.apply(padded, (ctx.dim,), False, _DUAL[ctx.norm]).select(-1, 0), None, None


class _C2R(Function):
    @staticmethod
    def forward(ctx: Any, pair: Tensor, dim: int, n: int, norm: str) -> Tensor:
        ctx.dim, ctx.n, ctx.norm = dim, n, norm
        module, options = _pocketfft()
        signal = module.irfft(_complex_array(pair), n=n, axis=dim, norm=norm, **options)
        return _on_device_of(_C.from_numpy(np.ascontiguousarray(signal)), pair)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        half = _R2C.apply(grad, ctx.dim, _DUAL[ctx.norm])
        m = half.shape[ctx.dim]
        doubled = ctx.n - m
        if doubled > 0:
            scale = np.ones(m, dtype=_NUMPY_REAL[half.dtype])
            scale[1 : 1 + doubled] = 2.0
            shape = [1] * half.dim()
            shape[ctx.dim] = m
            half = half * _on_device_of(_C.from_numpy(scale.reshape(shape)), half)
        return half, None, None, None


def _resized(t: Tensor, dim: int, n: int) -> Tensor:
    """t cut or zero-padded at the end of dim (non-negative, so the same dim of a pair) to length n."""
    size = t.shape[dim]
    if n < 1:
        raise RuntimeError(f"Invalid number of data points ({n}) specified")
    if n < size:
        return t.narrow(dim, 0, n)
    if n > size:
        from .._creation import zeros

        shape = list(t.shape)
        shape[dim] = n - size
        return _C.cat([t, zeros(shape, dtype=t.dtype, device=t.device)], dim)
    return t


def _pair_input(input: Any) -> Tensor:
    """A transform's input as a pair: complex kept, real floats with zero imaginary parts, others as the
    default dtype's."""
    if type(input) is ComplexTensor:
        return input._pair
    return _complex.pair_of(_real_float(input))


def _real_float(input: Any) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"expected a Tensor, got {type(input).__name__}")
    if input.dtype in _NUMPY_REAL:
        return input
    from .._creation import get_default_dtype

    return input.to(_C.dtype.float32 if input.is_floating_point() else get_default_dtype())


def _real_input(input: Any, name: str) -> Tensor:
    if type(input) is ComplexTensor:
        raise RuntimeError(f"{name} expects a real input tensor, but got {_complex.scalar_type_name(input.dtype)}")
    return _real_float(input)


def _dims_and_sizes(input: Any, s: Sequence[int] | None, dim: int | Sequence[int] | None, name: str) -> tuple:
    """The dims a transform runs over (non-negative) and the sizes it takes there (s, or the input's)."""
    rank = input.dim()
    if rank == 0 and (dim is not None or s is not None):
        given = [dim] if isinstance(dim, int) else list(dim) if dim is not None else [-1]
        shown = given[0] if len(given) == 1 else given
        raise IndexError(f"Dimension specified as {shown} but tensor has no dimensions")
    if dim is None:
        dims = list(range(rank - len(s), rank)) if s is not None else list(range(rank))
    else:
        dims = [dim] if isinstance(dim, int) else list(dim)
        from .._batched import _wrap_dim

        dims = [_wrap_dim(d, rank, name) for d in dims]
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"{name}: dims must be unique")
    if s is not None and len(s) != len(dims):
        raise RuntimeError("When given, dim and shape arguments must have the same length")
    sizes = [input.shape[d] for d in dims] if s is None else [input.shape[d] if n == -1 else n for d, n in zip(dims, s)]
    return dims, sizes


def _complex_result(pair: Tensor, out: Any) -> Any:
    result = ComplexTensor(pair)
    return result if out is None else _complex.copy_into(out, result)


def _real_result(t: Tensor, out: Any) -> Any:
    return t if out is None else out.resize_(t.shape).copy_(t)


def _c2c(name: str, input: Any, s: Any, dim: Any, norm: Any, forward: bool, out: Any) -> Any:
    dims, sizes = _dims_and_sizes(input, s, dim, name)
    pair = _pair_input(input)
    for d, n in zip(dims, sizes):
        pair = _resized(pair, d, n)
    if not dims:
        return _complex_result(pair.clone(), out)
    return _complex_result(_C2C.apply(pair, tuple(dims), forward, _norm(norm)), out)


def _r2c(name: str, input: Any, s: Any, dim: Any, norm: Any) -> Tensor:
    dims, sizes = _dims_and_sizes(input, s, dim, name)
    x = _real_input(input, name)
    for d, n in zip(dims, sizes):
        x = _resized(x, d, n)
    pair = _R2C.apply(x, dims[-1], _norm(norm))
    return _C2C.apply(pair, tuple(dims[:-1]), True, _norm(norm)) if len(dims) > 1 else pair


def _c2r(name: str, input: Any, s: Any, dim: Any, norm: Any) -> Tensor:
    dims, sizes = _dims_and_sizes(input, s, dim, name)
    if s is None or s[-1] == -1:
        sizes[-1] = 2 * (input.shape[dims[-1]] - 1)
    pair = _pair_input(input)
    last, n = dims[-1], sizes[-1]
    if n < 1:
        raise RuntimeError(f"Invalid number of data points ({n}) specified")
    for d, size in zip(dims[:-1], sizes[:-1]):
        pair = _resized(pair, d, size)
    pair = _resized(pair, last, n // 2 + 1)
    if len(dims) > 1:
        pair = _C2C.apply(pair, tuple(dims[:-1]), False, _norm(norm))
    return _C2R.apply(pair, last, n, _norm(norm))


def _axis_alias(fn: Callable[..., Any]) -> Callable[..., Any]:
    """fn taking PyTorch's ``axis=`` for ``dim=``, as its argument parser does."""

    @functools.wraps(fn)
    def transform(*args: Any, axis: Any = None, **kwargs: Any) -> Any:
        if axis is not None:
            kwargs["dim"] = axis
        return fn(*args, **kwargs)

    signature = inspect.signature(fn)
    axis = inspect.Parameter("axis", inspect.Parameter.KEYWORD_ONLY, default=None, annotation="Any")
    transform.__signature__ = signature.replace(parameters=[*signature.parameters.values(), axis])  # type: ignore[attr-defined]
    return transform


def _one(n: int | None) -> list[int] | None:
    return None if n is None else [n]


@_axis_alias
def fft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *, out: Any = None) -> Tensor:
    """The 1-D discrete Fourier transform of ``input`` along ``dim`` (cut or zero-padded to ``n``)."""
    return _c2c("fft", input, _one(n), [dim], norm, True, out)


@_axis_alias
def ifft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *, out: Any = None) -> Tensor:
    """The 1-D inverse discrete Fourier transform of ``input`` along ``dim``."""
    return _c2c("ifft", input, _one(n), [dim], norm, False, out)


@_axis_alias
def fft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1), norm: str | None = None, *,
         out: Any = None) -> Tensor:  # fmt: skip
    """The 2-D discrete Fourier transform over ``dim`` (the last two by default)."""
    return _c2c("fft2", input, s, dim, norm, True, out)


@_axis_alias
def ifft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1), norm: str | None = None, *,
          out: Any = None) -> Tensor:  # fmt: skip
    """The 2-D inverse discrete Fourier transform over ``dim``."""
    return _c2c("ifft2", input, s, dim, norm, False, out)


@_axis_alias
def fftn(input: Tensor, s: Sequence[int] | None = None, dim: Any = None, norm: str | None = None, *,
         out: Any = None) -> Tensor:  # fmt: skip
    """The n-D discrete Fourier transform over ``dim`` (every dim by default, or the last ``len(s)``)."""
    return _c2c("fftn", input, s, dim, norm, True, out)


@_axis_alias
def ifftn(input: Tensor, s: Sequence[int] | None = None, dim: Any = None, norm: str | None = None, *,
          out: Any = None) -> Tensor:  # fmt: skip
    """The n-D inverse discrete Fourier transform over ``dim``."""
    return _c2c("ifftn", input, s, dim, norm, False, out)


@_axis_alias
def rfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *, out: Any = None) -> Tensor:
    """The transform of a real ``input`` along ``dim``: its ``n // 2 + 1`` non-negative frequencies."""
    return _complex_result(_r2c("rfft", input, _one(n), [dim], norm), out)


@_axis_alias
def rfft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1), norm: str | None = None, *,
          out: Any = None) -> Tensor:  # fmt: skip
    """The 2-D transform of a real ``input``: half the last dim's frequencies."""
    return _complex_result(_r2c("rfft2", input, s, dim, norm), out)


@_axis_alias
def rfftn(input: Tensor, s: Sequence[int] | None = None, dim: Any = None, norm: str | None = None, *,
          out: Any = None) -> Tensor:  # fmt: skip
    """The n-D transform of a real ``input``: half the last dim's frequencies."""
    return _complex_result(_r2c("rfftn", input, s, dim, norm), out)


@_axis_alias
def irfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *, out: Any = None) -> Tensor:
    """The real signal of length ``n`` (``2 * (m - 1)`` by default) whose rfft is ``input``."""
    return _real_result(_c2r("irfft", input, _one(n), [dim], norm), out)


@_axis_alias
def irfft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1), norm: str | None = None, *,
           out: Any = None) -> Tensor:  # fmt: skip
    """The inverse of rfft2."""
    return _real_result(_c2r("irfft2", input, s, dim, norm), out)


@_axis_alias
def irfftn(input: Tensor, s: Sequence[int] | None = None, dim: Any = None, norm: str | None = None, *,
           out: Any = None) -> Tensor:  # fmt: skip
    """The inverse of rfftn."""
    return _real_result(_c2r("irfftn", input, s, dim, norm), out)


def _conj(x: Any) -> Any:
    return x.conj() if type(x) is ComplexTensor else x


@_axis_alias
def hfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *, out: Any = None) -> Tensor:
    """The real spectrum of a signal with Hermitian symmetry, given by its first half ``input``."""
    return _real_result(_c2r("hfft", _conj(input), _one(n), [dim], _DUAL[_norm(norm)]), out)


@_axis_alias
def hfft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1), norm: str | None = None, *,
          out: Any = None) -> Tensor:  # fmt: skip
    """The 2-D hfft."""
    return _real_result(_c2r("hfft2", _conj(input), s, dim, _DUAL[_norm(norm)]), out)


@_axis_alias
def hfftn(input: Tensor, s: Sequence[int] | None = None, dim: Any = None, norm: str | None = None, *,
          out: Any = None) -> Tensor:  # fmt: skip
    """The n-D hfft."""
    return _real_result(_c2r("hfftn", _conj(input), s, dim, _DUAL[_norm(norm)]), out)


@_axis_alias
def ihfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None, *, out: Any = None) -> Tensor:
    """The inverse of hfft: the first half of the inverse transform of a real ``input``."""
    return ihfftn(input, _one(n), [dim], norm, out=out)


@_axis_alias
def ihfft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1), norm: str | None = None, *,
           out: Any = None) -> Tensor:  # fmt: skip
    """The 2-D ihfft."""
    return ihfftn(input, s, dim, norm, out=out)


@_axis_alias
def ihfftn(input: Tensor, s: Sequence[int] | None = None, dim: Any = None, norm: str | None = None, *,
           out: Any = None) -> Tensor:  # fmt: skip
    """The n-D ihfft."""
    result = ComplexTensor(_r2c("ihfftn", input, s, dim, _DUAL[_norm(norm)])).conj()
    return result if out is None else _complex.copy_into(out, result)
