"""The GPU tests of test_cuda.py on the host emulation of the CUDA backend (Note [CUDA host emulation]):
without a GPU they still check ember's device path (devices through ops and backward, copies between
devices, the kernels' argument mapping, cuBLAS's operand order, the allocator, the errors), in a
child process, since the backend is chosen once per process."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import pytest

import ember

HERE = pathlib.Path(__file__).parent
EMULATION = pathlib.Path(ember.__file__).parent / "libember_cuda_emulated.so"


@pytest.mark.skipif(not EMULATION.exists(), reason="this build has no libember_cuda_emulated.so")
@pytest.mark.skipif(ember.cuda.is_available(), reason="a real GPU runs test_cuda.py itself")
def test_gpu_tests_pass_on_the_host_emulation():
    # two emulated devices: the tests of several GPUs run too
    env = dict(os.environ, EMBER_CUDA_BACKEND="emulated", EMBER_CUDA_EMULATED_DEVICES="2")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(HERE / "test_cuda.py"),
            str(HERE / "test_cuda_ops.py"),
            str(HERE / "test_cuda_random.py"),
            str(HERE / "test_cuda_api.py"),
            str(HERE / "test_cuda_serialization.py"),
            str(HERE / "test_cuda_nn_devices.py"),
            str(HERE / "test_cuda_linalg_optim_devices.py"),
            str(HERE / "test_cuda_math_devices.py"),
            str(HERE / "test_cuda_graphs.py"),
            str(HERE / "test_cuda_memory_pools.py"),
            "-m",
            "cuda",
        ],
        env=env,
        cwd=HERE.parent,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    summary = run.stdout.strip().splitlines()[-1]
    assert " passed" in summary and not re.search(r"\b\d+ failed", summary), summary
    passed = int(summary.split(" passed")[0].split()[-1])
    assert passed >= 100, summary  # the GPU tests ran, not skipped
