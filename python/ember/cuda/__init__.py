"""ember.cuda: CUDA kernels are not built in this version; every query says so."""
from .. import _C


def is_available():
    return _C._cuda_is_available()


def device_count():
    return 0


def manual_seed(seed):
    """A no-op without CUDA, as in PyTorch."""


def manual_seed_all(seed):
    """A no-op without CUDA, as in PyTorch."""
