"""ember.utils.dlpack: zero-copy exchange with numpy, PyTorch, JAX, CuPy... through DLPack, as torch.utils.dlpack.

``ember.from_dlpack(x)`` views the memory of any object with ``__dlpack__`` (or a DLPack capsule); an ember
tensor's ``__dlpack__`` lets ``numpy.from_dlpack(t)`` and ``torch.from_dlpack(t)`` view it. Both directions
share memory: writes through one are seen by the other. ember exchanges host (CPU) memory of dtypes bool,
int32, int64, float32 and float64; see Note [Zero-copy interop] in csrc/python/interop.cpp. Complex host
arrays go through numpy's DLPack (Note [Complex tensors]), sharing memory too.
"""

from __future__ import annotations

from typing import Any

from .. import _C

__all__ = ["from_dlpack", "to_dlpack"]


def to_dlpack(tensor: _C.Tensor) -> Any:
    """A DLPack capsule ("dltensor") viewing ``tensor``'s memory, for consumers that take capsules."""
    return tensor.__dlpack__()


def _complex_view(ext_tensor: Any) -> _C.Tensor:
    """A complex tensor viewing a host complex array (Note [Complex tensors]), read through numpy's DLPack."""
    import numpy as np

    from .. import _complex

    values = np.from_dlpack(ext_tensor)
    return _complex.from_numpy_array(values, _complex.numpy_complex_dtype(values), copy=False)


def from_dlpack(ext_tensor: Any) -> _C.Tensor:
    """A tensor viewing the memory of ``ext_tensor``: an object with ``__dlpack__`` (numpy array, PyTorch or
    JAX tensor, ...) or a DLPack capsule (consumed: a capsule can be read only once)."""
    if hasattr(ext_tensor, "__dlpack__"):
        device_type, device_id = ext_tensor.__dlpack_device__()
        if device_type == 1 and "complex" in str(getattr(ext_tensor, "dtype", "")):
            return _complex_view(ext_tensor)
        if device_type == 2 and not _C._cuda_is_available():
            raise RuntimeError(
                f"from_dlpack: the tensor lives on DLPack device type 2 (CUDA device {device_id}), and CUDA is not "
                "available to ember"
            )
        if device_type not in (1, 2):  # kDLCPU, kDLCUDA; anything else is refused before asking for a capsule
            raise RuntimeError(
                f"from_dlpack: the tensor lives on DLPack device type {device_type}; ember reads host (CPU) and "
                "CUDA memory only"
            )
        try:
            capsule = ext_tensor.__dlpack__(max_version=(1, 0))
        except TypeError:  # a producer older than DLPack 1.0 takes no max_version
            capsule = ext_tensor.__dlpack__()
        if device_type == 2:  # the producer's kernels, on whatever stream, finish before ember's read the memory
            _C._cuda_synchronize(device_id)
    else:
        capsule = ext_tensor
    if type(capsule).__name__ != "PyCapsule":
        kind = type(ext_tensor).__name__
        raise TypeError(f"from_dlpack expects an object with __dlpack__ or a DLPack capsule, got {kind}")
    return _C._from_dlpack_capsule(capsule)
