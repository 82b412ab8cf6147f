"""Loads the OpenBLAS that ember._C links against (PyPI's scipy-openblas32).

The compiled module records only the library's file name, so the library is
loaded here, globally, before ember._C is imported (see docs/design.md, Build facts).

ember calls OpenBLAS single-threaded and splits products over its own threads
(Note [BLAS threads] in csrc/kernels/cpu/matmul.cpp), so the library is loaded
with OPENBLAS_NUM_THREADS=1: it then starts no thread pool of its own, whose
idle threads would spin beside ember's. The variable is restored at once, so a
BLAS loaded later (numpy's) keeps its usual threads.
"""

from __future__ import annotations

import ctypes
import os

import scipy_openblas32

_previous: str | None = os.environ.get("OPENBLAS_NUM_THREADS")
os.environ["OPENBLAS_NUM_THREADS"] = "1"
try:
    _lib: ctypes.CDLL = ctypes.CDLL(
        os.path.join(scipy_openblas32.get_lib_dir(), scipy_openblas32.get_library(fullname=True)),
        mode=ctypes.RTLD_GLOBAL,
    )
finally:
    if _previous is None:
        del os.environ["OPENBLAS_NUM_THREADS"]
    else:
        os.environ["OPENBLAS_NUM_THREADS"] = _previous
