"""Loads the OpenBLAS that ember._C links against (PyPI's scipy-openblas32).

The compiled module records only the library's file name, so the library is
loaded here, globally, before ember._C is imported (see docs/design.md, Build facts).

ember calls OpenBLAS single-threaded and splits products over its own threads
(Note [BLAS threads] in csrc/kernels/cpu/matmul.cpp), so the library is loaded
with OPENBLAS_NUM_THREADS=1: it then starts no thread pool of its own, whose
idle threads would spin beside ember's. The variable is restored at once, so a
BLAS loaded later (numpy's) keeps its usual threads.

At import, ember also maps the pages of OpenBLAS's packing buffers
(Note [BLAS buffer pages], below).
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable

_previous: str | None = os.environ.get("OPENBLAS_NUM_THREADS")
os.environ["OPENBLAS_NUM_THREADS"] = "1"
try:
    # Importing the package already loads the library (it asks it for its configuration), so the
    # variable is set first: loaded without it, OpenBLAS started a thread per further core, which
    # spun beside ember's threads for a while after import and then slept for nothing.
    import scipy_openblas32

    _lib: ctypes.CDLL = ctypes.CDLL(
        os.path.join(scipy_openblas32.get_lib_dir(), scipy_openblas32.get_library(fullname=True)),
        mode=ctypes.RTLD_GLOBAL,
    )
finally:
    if _previous is None:
        del os.environ["OPENBLAS_NUM_THREADS"]
    else:
        os.environ["OPENBLAS_NUM_THREADS"] = _previous


# Note [BLAS buffer pages]
# OpenBLAS packs its operands into a 32 MB buffer it maps (untouched) at its
# first product, one per caller running at once. Its Haswell kernels prefetch
# ahead of what they pack, into pages never yet touched; on this project's
# machines (AMD EPYC under a hypervisor) each such prefetch costs a failed page
# walk, and float32 products ran at a third of their speed until some larger
# product happened to touch those pages: 256x256x256 at 11 GFLOP/s on one core
# instead of 31-33 (PyTorch's MKL: 37), an LSTM step's gate product 32x256 @
# 256x1024 at 11, depending on what the process had computed before. Reading
# the first 2 MB of a buffer once maps those pages (to the shared zero page
# until OpenBLAS writes them), and every shape then ran at 31-33.
#
# ember maps every page of each buffer that way: buffers made at once sit side
# by side, so where each starts is not known, and zero-page mappings cost no
# memory (one madvise(MADV_POPULATE_READ) call, or a read per page on kernels
# before 5.14). The buffers are the large stretches of private memory that a
# warm-up product, run at import on all of ember's threads, adds to the address
# space: stretches, not new mappings, because the kernel merges a new mapping
# with a neighbour of the same kind. A later set_num_threads above the import's
# count leaves its extra threads' buffers as OpenBLAS made them. A read never
# changes memory, so a stretch taken for a buffer by mistake is left as it was.
_BUFFER_MIN_BYTES = 16 << 20
_PAGE = 4096
_MADV_POPULATE_READ = 22  # Linux 5.14+
prefaulted_threads = 0  # the thread count the last warm-up ran with


def _private_mappings() -> list[tuple[int, int]]:
    """(start, end) of the process's anonymous writable mappings (Linux; else none)."""
    try:
        with open("/proc/self/maps") as maps:
            lines = maps.readlines()
    except OSError:
        return []
    found = []
    for line in lines:
        fields = line.split()
        if len(fields) != 5 or fields[1] != "rw-p":  # a sixth field names a file or [heap]/[stack]
            continue
        start, end = (int(x, 16) for x in fields[0].split("-"))
        found.append((start, end))
    return found


def _added_stretches(before: list[tuple[int, int]], after: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The parts of the `after` mappings that no `before` mapping covered."""
    added = []
    for start, end in after:
        pieces = [(start, end)]
        for old_start, old_end in before:
            pieces = [
                piece
                for s, e in pieces
                for piece in ((s, min(e, old_start)), (max(s, old_end), e))
                if piece[1] > piece[0]
            ]
        added.extend(pieces)
    return added


_libc = ctypes.CDLL(None)


def _map_pages(start: int, end: int) -> None:
    """Maps every page of [start, end) without writing it (reads map the shared zero page)."""
    madvise = getattr(_libc, "madvise", None)
    if madvise is not None and madvise(ctypes.c_void_p(start), ctypes.c_size_t(end - start), _MADV_POPULATE_READ) == 0:
        return
    for page in range(start, end, _PAGE):
        ctypes.string_at(page, 1)


def prefault_buffers(warm_up: Callable[[], object], threads: int) -> None:
    """Runs warm_up (a float32 product on `threads` of ember's threads) and maps every page of the OpenBLAS
    buffers it created (Note [BLAS buffer pages])."""
    global prefaulted_threads
    before = _private_mappings()
    warm_up()
    for start, end in _added_stretches(before, _private_mappings()):
        if end - start >= _BUFFER_MIN_BYTES:
            _map_pages(start, end)
    prefaulted_threads = max(prefaulted_threads, threads)


def kernel_core() -> str:
    """The name of the kernels OpenBLAS picked at load ("Haswell", "SkylakeX", ...): it follows the CPU,
    or OPENBLAS_CORETYPE where that is set, and benchmarks report it beside their numbers."""
    corename = _lib.scipy_openblas_get_corename
    corename.restype = ctypes.c_char_p
    return corename().decode()
