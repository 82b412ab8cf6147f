"""ember.__config__, as ``torch.__config__``: how this ember was built and how it runs its threads, as text
(``show()``, ``parallel_info()``), in PyTorch's layout, for code that reads them (some libraries look for
``USE_MKL=OFF`` in ``show()``)."""

from __future__ import annotations

__all__ = ["parallel_info", "show"]


def show() -> str:
    """The build: ember's version, its BLAS (OpenBLAS, never MKL), OpenMP, and the CUDA toolkit if any."""
    from . import _blas, version

    cuda = f"CUDA {version.cuda}" if version.cuda else "no CUDA"
    return (
        "ember built with:\n"
        f"  - ember {version.__version__}\n"
        f"  - OpenBLAS (scipy-openblas32), kernels: {_blas.kernel_core()}\n"
        "  - OpenMP\n"
        "  - LAPACK is enabled (OpenBLAS's)\n"
        f"  - {cuda}\n"
        f"  - Build settings: BLAS_INFO=open, USE_MKL=OFF, USE_CUDA={'ON' if version.cuda else 'OFF'}, "
        "USE_OPENMP=ON\n"
    )


def parallel_info() -> str:
    """The thread settings in effect: ember's threads for ops and for inter-op work."""
    import ember

    return (
        "ATen/Parallel:\n"
        f"\tat::get_num_threads() : {ember.get_num_threads()}\n"
        f"\tat::get_num_interop_threads() : {ember.get_num_interop_threads()}\n"
        "OpenMP\n"
        f"\tomp_get_max_threads() : {ember.get_num_threads()}\n"
    )
