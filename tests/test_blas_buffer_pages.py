"""Note [BLAS buffer pages] (python/ember/_blas.py): the stretches a warm-up adds to the address space are
found exactly (merged neighbours included), every page of a large one is mapped without changing it, and
other memory is left alone."""

import ctypes
import os
import platform
import struct
import subprocess
import sys

import pytest

import ember
from ember import _blas
from helpers import python_command

linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not os.path.exists("/proc/self/pagemap"), reason="needs /proc/self/pagemap"
)


def test_added_stretches_subtract_what_was_there():
    assert _blas._added_stretches([(10, 20), (30, 40)], [(0, 50)]) == [(0, 10), (20, 30), (40, 50)]
    assert _blas._added_stretches([(0, 50)], [(0, 50)]) == []
    assert _blas._added_stretches([], [(5, 9), (20, 30)]) == [(5, 9), (20, 30)]
    # a new mapping merged below an old one: only the new part counts
    assert _blas._added_stretches([(100, 200)], [(60, 200)]) == [(60, 100)]


def _present(addr):
    with open("/proc/self/pagemap", "rb") as f:
        f.seek(addr // 4096 * 8)
        return bool(struct.unpack("<Q", f.read(8))[0] >> 63)


@linux_only
def test_prefault_maps_every_page_of_a_new_buffer_without_changing_it():
    libc = ctypes.CDLL(None)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    size, private_anonymous, read_write = 32 << 20, 0x22, 3
    made = []

    def warm_up():  # stands for OpenBLAS mapping its buffer during the first product
        made.append(libc.mmap(None, size, read_write, private_anonymous, -1, 0))
        ctypes.memmove(made[0] + 4096 * 3 + 7, b"kept", 4)

    before = _blas.prefaulted_threads
    _blas.prefault_buffers(warm_up, 1)
    untouched = libc.mmap(None, size, read_write, private_anonymous, -1, 0)
    try:
        buffer = made[0]
        assert all(_present(buffer + offset) for offset in range(0, size, 1 << 20))
        assert ctypes.string_at(buffer + 4096 * 3 + 7, 4) == b"kept" and ctypes.string_at(buffer + (9 << 20), 8) == (
            b"\0" * 8
        )
        assert not _present(untouched + (5 << 20))  # made after the warm-up: not the warm-up's
        assert _blas.prefaulted_threads == max(before, 1)
    finally:
        libc.munmap(made[0], size)
        libc.munmap(untouched, size)


def test_products_stay_right_across_thread_counts():
    n = ember.get_num_threads()
    assert _blas.prefaulted_threads >= 1  # the import's warm-up ran
    try:
        ember.set_num_threads(1)
        assert ember.get_num_threads() == 1
        a = ember.randn(300, 200)
        assert ember.allclose(a @ a.T, ember.from_numpy(a.numpy() @ a.numpy().T), rtol=1e-4, atol=1e-3)
    finally:
        ember.set_num_threads(n)
    assert ember.get_num_threads() == n


def test_kernel_core_names_what_openblas_runs():
    # Benchmarks print it beside their numbers; OPENBLAS_CORETYPE, where set, decides it.
    assert _blas.kernel_core()
    if not sys.platform.startswith("linux") or platform.machine() != "x86_64":
        pytest.skip("an x86-64 Linux CPU with AVX2 runs OpenBLAS's Haswell kernels on request")
    with open("/proc/cpuinfo") as cpuinfo:
        if "avx2" not in cpuinfo.read():
            pytest.skip("no AVX2")
    env = dict(os.environ, OPENBLAS_CORETYPE="Haswell")
    code = "import ember._blas as b; print(b.kernel_core())"
    out = subprocess.run([*python_command(), "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-1] == "Haswell"


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs /proc/self/task")
def test_openblas_starts_no_threads_of_its_own():
    # Note [BLAS threads]: ember calls OpenBLAS from its own threads, so the library must be loaded
    # single-threaded; importing scipy_openblas32 loads it, and loaded with its default it started a
    # thread per further core that spun beside ember's. Importing ember after numpy adds only the
    # OpenMP team of its warm-up product (all its threads: the machine's load is not consulted here),
    # and the user's OPENBLAS_NUM_THREADS (none here) is left as it was.
    code = (
        "import os, numpy\n"
        "before = len(os.listdir('/proc/self/task'))\n"
        "import ember\n"
        "print(before + ember.get_num_threads() - 1, len(os.listdir('/proc/self/task')),"
        " os.environ.get('OPENBLAS_NUM_THREADS'))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    env["EMBER_ADAPTIVE_THREADS"] = "0"
    out = subprocess.run([*python_command(), "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    expected, threads, variable = out.stdout.split()[-3:]
    assert (int(threads), variable) == (int(expected), "None")
