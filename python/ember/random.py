"""ember.random, as torch.random: the default generator's seed and state, and ``fork_rng``, which runs
a block on a copy of the CPU and CUDA generators' states and puts them back afterwards."""

from __future__ import annotations

import contextlib
import warnings
from typing import Any, Iterable, Iterator

from . import _C, cuda
from ._C import get_rng_state, initial_seed, manual_seed, set_rng_state
from ._runtime import seed

__all__ = ["fork_rng", "get_rng_state", "initial_seed", "manual_seed", "seed", "set_rng_state"]


@contextlib.contextmanager
def fork_rng(
    devices: Iterable[Any] | None = None,
    enabled: bool = True,
    _caller: str = "fork_rng",
    _devices_kw: str = "devices",
    device_type: str = "cuda",
) -> Iterator[None]:
    """Inside the block, random numbers come from copies of the generators' states; on leaving it the
    CPU generator and the CUDA generators of ``devices`` (default: every CUDA device) are where they
    were. ``enabled=False`` makes it a no-op."""
    if _C.device(device_type).type != "cuda":
        raise RuntimeError(f"ember.random.fork_rng: device_type {device_type!r} has no generator in ember")
    if not enabled:
        yield
        return
    if devices is None:
        count = cuda.device_count()
        if count > 1:
            warnings.warn(
                f"CUDA reports that you have {count} available devices, and you have used {_caller} without "
                f"explicitly specifying which devices are being used. For safety, we initialize *every* CUDA "
                f"device by default, which can be quite slow if you have a lot of CUDAs. If you know that you "
                f"are only making use of a few CUDA devices, set the environment variable CUDA_VISIBLE_DEVICES "
                f"or the '{_devices_kw}' keyword argument of {_caller} with the set of devices you are actually "
                f"using.",
                stacklevel=3,
            )
        devices = range(count)
    devices = list(devices)
    cpu_state = get_rng_state()
    device_states = [cuda.get_rng_state(d) for d in devices]
    try:
        yield
    finally:
        set_rng_state(cpu_state)
        for d, state in zip(devices, device_states):
            cuda.set_rng_state(state, d)
