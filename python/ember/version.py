"""ember.version, as torch.version: ember's version, and the CUDA toolkit its CUDA backend was compiled with
(``cuda`` is None in a build without one)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

try:
    __version__ = _version("ember")
except PackageNotFoundError:  # the source tree, not installed
    __version__ = "0+unknown"

try:
    from ._cuda_build import CUDA_VERSION as _CUDA_VERSION

    cuda: str | None = ".".join(_CUDA_VERSION.split(".")[:2])
except ImportError:
    cuda = None

hip = None
debug = False
