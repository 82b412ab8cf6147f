"""Loads the OpenBLAS that ember._C links against (PyPI's scipy-openblas32).

The compiled module records only the library's file name, so the library is
loaded here, globally, before ember._C is imported (see DESIGN.md, Build facts).
"""
import ctypes
import os

import scipy_openblas32

_lib = ctypes.CDLL(
    os.path.join(scipy_openblas32.get_lib_dir(), scipy_openblas32.get_library(fullname=True)),
    mode=ctypes.RTLD_GLOBAL,
)
