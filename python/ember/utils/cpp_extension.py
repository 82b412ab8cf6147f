"""ember.utils.cpp_extension, as ``torch.utils.cpp_extension``: the names libraries import with it, and a
clear error from what builds an extension. A PyTorch C++/CUDA extension compiles against PyTorch's C++ API
(ATen, c10, ``torch/extension.h``) and registers with its dispatcher, neither of which ember has; libraries
that try ``load`` and catch the failure (brevitas, xlstm) go on with their Python paths. Write ops for
ember in Python (``ember.library.custom_op``) on ember's tensors."""

from __future__ import annotations

import os
import shutil
import sys
from typing import Any

__all__ = ["BuildExtension", "CUDAExtension", "CUDA_HOME", "CppExtension", "include_paths", "is_ninja_available",
           "library_paths", "load", "load_inline", "verify_ninja_availability"]  # fmt: skip

IS_WINDOWS, IS_MACOS, IS_LINUX = sys.platform == "win32", sys.platform == "darwin", sys.platform.startswith("linux")
IS_HIP_EXTENSION = False
ROCM_HOME = HIP_HOME = SYCL_HOME = None
TORCH_LIB_PATH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _find_cuda_home() -> str | None:
    """Where the CUDA toolkit is, found as PyTorch finds it: CUDA_HOME/CUDA_PATH, nvcc's folder, /usr/local/cuda."""
    home = os.environ.get("CUDA_HOME") or os.environ.get("CUDA_PATH")
    if home is None and shutil.which("nvcc"):
        home = os.path.dirname(os.path.dirname(shutil.which("nvcc")))  # type: ignore[arg-type]
    if home is None and os.path.exists("/usr/local/cuda"):
        home = "/usr/local/cuda"
    return home


def _cuda_built() -> bool:
    from ..backends import cuda

    return cuda.is_built()


CUDA_HOME = _find_cuda_home() if _cuda_built() else None  # None in a CPU-only build, as PyTorch's
CUDNN_HOME = os.environ.get("CUDNN_HOME") or os.environ.get("CUDNN_PATH")


def _cannot_build(what: str) -> RuntimeError:
    return RuntimeError(
        f"torch.utils.cpp_extension.{what}: ember cannot build PyTorch C++/CUDA extensions; they compile against "
        "PyTorch's C++ API (ATen, c10, torch/extension.h), which ember does not have. Write the op in Python "
        "(ember.library.custom_op) instead."
    )


def load(name: str, sources: Any, *args: Any, **kwargs: Any) -> Any:
    raise _cannot_build("load")


def load_inline(name: str, cpp_sources: Any, *args: Any, **kwargs: Any) -> Any:
    raise _cannot_build("load_inline")


def CppExtension(name: str, sources: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N802  (PyTorch's name)
    raise _cannot_build("CppExtension")


def CUDAExtension(name: str, sources: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N802
    raise _cannot_build("CUDAExtension")


class BuildExtension:
    """setup.py's ``cmdclass={"build_ext": BuildExtension}``: refuses, as the extensions above."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise _cannot_build("BuildExtension")

    @classmethod
    def with_options(cls, **options: Any) -> type:
        return cls


def include_paths(device_type: str = "cpu") -> list[str]:
    """PyTorch's C++ header folders: none, since ember ships no PyTorch C++ API."""
    return []


def library_paths(device_type: str = "cpu") -> list[str]:
    """PyTorch's library folders: none (see include_paths)."""
    return []


def is_ninja_available() -> bool:
    return shutil.which("ninja") is not None


def verify_ninja_availability() -> None:
    if not is_ninja_available():
        raise RuntimeError("Ninja is required to load C++ extensions")
