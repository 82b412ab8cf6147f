"""pytest plugin: the tensors a test file makes go to CUDA, while ember's own code keeps the CPU default,
so library code that makes a helper tensor without ``device=`` shows up as a device mismatch.

    EMBER_CUDA_BACKEND=emulated PYTHONPATH=tools/cuda_sweep python -m pytest -p cuda_inputs tests/test_nn.py

Most failures it reports are bugs; the rest are the tests' own assumptions (a repr without ``device=``,
a test asserting the CPU, a module the test builds after its inputs). See tools/cuda_sweep/cuda_default.py
for the other direction."""

import sys

from _host_numpy import install

import ember
import ember.nn as nn

install()


def _from_tests() -> bool:
    return "/tests/" in sys._getframe(2).f_code.co_filename


def _on_cuda_from_tests(name: str) -> None:
    make = getattr(ember, name)

    def wrapper(*args, **kwargs):
        if "device" not in kwargs and "out" not in kwargs and _from_tests():
            kwargs["device"] = "cuda"
        return make(*args, **kwargs)

    wrapper.__name__ = name
    setattr(ember, name, wrapper)


for _name in ("tensor", "zeros", "ones", "empty", "full", "rand", "randn", "randint", "arange", "linspace",
              "logspace", "eye", "randperm", "as_tensor"):  # fmt: skip
    _on_cuda_from_tests(_name)

_call = nn.Module.__call__


def _call_on_the_inputs_device(self, *args, **kwargs):
    """A module the test made on the CPU follows CUDA inputs (as the test would have written .cuda())."""
    if any(isinstance(a, ember.Tensor) and a.is_cuda for a in args):
        if any(not t.is_cuda for t in [*self.parameters(), *self.buffers()]):
            self.to("cuda")
    return _call(self, *args, **kwargs)


nn.Module.__call__ = _call_on_the_inputs_device
