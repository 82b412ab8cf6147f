"""pytest plugin: the whole suite with CUDA as the default device (``set_default_device("cuda")``), so every
op runs on the GPU (or its host emulation), and CPU tensors a test asks for meet helpers that must follow them.

    EMBER_CUDA_BACKEND=emulated PYTHONPATH=tools/cuda_sweep python -m pytest -p cuda_default tests -n 2

Failures are ops without a CUDA path, wrong devices, and the tests' own assumptions (reprs, asserted CPUs)."""

from _host_numpy import install

import ember

ember.set_default_device("cuda")
install()
