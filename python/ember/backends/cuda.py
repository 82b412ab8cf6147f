"""``torch.backends.cuda``: the CUDA build's flags.

``is_built()`` says whether this ember has its CUDA backend (a GPU may still be missing). The
scaled-dot-product-attention switches (``enable_flash_sdp``, ``math_sdp_enabled``, ``sdp_kernel``, ...)
set and read ember.nn.attention's flags, which scaled_dot_product_attention obeys. The matmul flags
and the preferred BLAS and linear-algebra libraries are kept as scripts set them; they change nothing:
ember's products run cuBLAS in full float32 precision (no TF32), and its linear algebra on a GPU
tensor runs LAPACK on the host.
"""

from __future__ import annotations

import contextlib
import enum
import types
import warnings
from collections.abc import Iterator

from ..nn import attention as _attention
from ..nn.attention import SDPAParams, SDPBackend, can_use_efficient_attention, can_use_flash_attention

__all__ = [
    "SDPAParams",
    "SDPBackend",
    "allow_fp16_bf16_reduction_math_sdp",
    "can_use_cudnn_attention",
    "can_use_efficient_attention",
    "can_use_flash_attention",
    "cudnn_sdp_enabled",
    "enable_cudnn_sdp",
    "enable_flash_sdp",
    "enable_math_sdp",
    "enable_mem_efficient_sdp",
    "flash_sdp_enabled",
    "fp16_bf16_reduction_math_sdp_allowed",
    "is_built",
    "is_flash_attention_available",
    "math_sdp_enabled",
    "matmul",
    "mem_efficient_sdp_enabled",
    "preferred_blas_library",
    "preferred_linalg_library",
    "sdp_kernel",
]


def is_built() -> bool:
    """Whether this ember was built with its CUDA backend."""
    from .. import cuda

    return cuda.is_built()


matmul = types.SimpleNamespace(
    allow_tf32=False,
    allow_fp16_reduced_precision_reduction=True,
    allow_bf16_reduced_precision_reduction=True,
    allow_fp16_accumulation=False,
)


def _switch(backend: SDPBackend, what: str):
    def enable(enabled: bool) -> None:
        _attention._set_enabled(backend, bool(enabled))

    def is_enabled() -> bool:
        return _attention._is_enabled(backend)

    enable.__doc__ = f"Enables or disables {what} for scaled_dot_product_attention (ember.nn.attention)."
    is_enabled.__doc__ = f"Whether scaled_dot_product_attention may use {what}."
    return enable, is_enabled


enable_flash_sdp, flash_sdp_enabled = _switch(SDPBackend.FLASH_ATTENTION, "flash attention")
enable_mem_efficient_sdp, mem_efficient_sdp_enabled = _switch(
    SDPBackend.EFFICIENT_ATTENTION, "memory-efficient attention"
)
enable_math_sdp, math_sdp_enabled = _switch(SDPBackend.MATH, "the math kernel")
enable_cudnn_sdp, cudnn_sdp_enabled = _switch(SDPBackend.CUDNN_ATTENTION, "cuDNN attention")

_fp16_bf16_reduction_math = False


def allow_fp16_bf16_reduction_math_sdp(enabled: bool) -> None:
    """Lets the math kernel reduce in float16/bfloat16 (kept; ember's attention reduces in the input's dtype)."""
    global _fp16_bf16_reduction_math
    _fp16_bf16_reduction_math = bool(enabled)


def fp16_bf16_reduction_math_sdp_allowed() -> bool:
    return _fp16_bf16_reduction_math


def is_flash_attention_available() -> bool:
    """False: ember has no flash-attention kernel."""
    return False


def can_use_cudnn_attention(params: SDPAParams, debug: bool = False) -> bool:
    """False: ember does not use cuDNN."""
    return False


@contextlib.contextmanager
def sdp_kernel(
    enable_flash: bool = True, enable_math: bool = True, enable_mem_efficient: bool = True, enable_cudnn: bool = True
) -> Iterator[dict]:
    """Deprecated in PyTorch for ``ember.nn.attention.sdpa_kernel``: enables the named backends for the block."""
    warnings.warn(
        "`torch.backends.cuda.sdp_kernel()` is deprecated. In the future, this context manager will be removed. "
        "Please see `torch.nn.attention.sdpa_kernel()` for the new context manager, with updated signature.",
        FutureWarning,
        stacklevel=3,
    )
    chosen = [
        backend
        for backend, on in (
            (SDPBackend.FLASH_ATTENTION, enable_flash),
            (SDPBackend.MATH, enable_math),
            (SDPBackend.EFFICIENT_ATTENTION, enable_mem_efficient),
            (SDPBackend.CUDNN_ATTENTION, enable_cudnn),
        )
        if on
    ]
    with _attention.sdpa_kernel(chosen) as context:
        yield context


class _LibraryChoice(enum.Enum):
    """A library PyTorch may prefer, shown as PyTorch shows it (``_LinalgBackend.Default``)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}.{self.name}"


class _LinalgBackend(_LibraryChoice):
    Default = 0
    Cusolver = 1
    Magma = 2


class _BlasBackend(_LibraryChoice):
    Cublas = 0
    Cublaslt = 1
    Ck = 2


def _preference(kind: type[enum.Enum], aliases: dict[str, str]):
    chosen = [next(iter(kind))]

    def prefer(backend: None | str | enum.Enum = None) -> enum.Enum:
        if backend is None:
            return chosen[0]
        if isinstance(backend, str):
            if backend.lower() not in aliases:
                raise RuntimeError(f"Unknown input value. Choose from: {', '.join(aliases)}.")
            backend = kind[aliases[backend.lower()]]
        elif not isinstance(backend, kind):
            raise RuntimeError(f"Unknown input value type {type(backend).__name__}.")
        chosen[0] = backend
        return backend

    return prefer


preferred_linalg_library = _preference(_LinalgBackend, {"default": "Default", "cusolver": "Cusolver", "magma": "Magma"})
preferred_linalg_library.__doc__ = (
    "Reads or sets the preferred linear-algebra library (kept; ember's GPU linear algebra runs LAPACK on the host)."
)
preferred_blas_library = _preference(_BlasBackend, {"cublas": "Cublas", "cublaslt": "Cublaslt", "ck": "Ck"})
preferred_blas_library.__doc__ = "Reads or sets the preferred BLAS library (kept; ember's products run cuBLAS)."
