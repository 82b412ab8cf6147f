"""ember.cuda.random, as torch.cuda.random: the CUDA generator's seed and state (Note [CUDA random numbers]: one
Philox stream for every device). ember.cuda re-exports every name."""

from __future__ import annotations

from typing import Any

from .. import _C
from ._devices import _checked

__all__ = [
    "get_rng_state",
    "get_rng_state_all",
    "initial_seed",
    "manual_seed",
    "manual_seed_all",
    "seed",
    "seed_all",
    "set_rng_state",
    "set_rng_state_all",
]


def manual_seed(seed: int) -> None:
    """Seeds the CUDA generator (Philox); a no-op effect without CUDA, as in PyTorch."""
    _C._cuda_manual_seed(int(seed) & 0xFFFF_FFFF_FFFF_FFFF)


def manual_seed_all(seed: int) -> None:
    """Seeds the CUDA generator of every device (ember keeps one stream for all)."""
    manual_seed(seed)


def seed() -> None:
    """Seeds the CUDA generator from a random number."""
    import random

    manual_seed(random.getrandbits(63))


seed_all = seed


def initial_seed() -> int:
    """The CUDA generator's seed."""
    return _C._cuda_initial_seed()


def get_rng_state(device: Any = "cuda") -> Any:
    """The CUDA generator's state as PyTorch gives it: 16 uint8 bytes on the CPU, the Philox seed then
    the offset (Note [CUDA random numbers]: ember keeps one stream for every device)."""
    import numpy as np

    from .. import _creation

    _checked(device)
    seed, offset = _C._cuda_rng_state()
    return _creation.tensor(np.array([seed, offset], dtype="<u8").view(np.uint8), device="cpu")


def set_rng_state(new_state: Any, device: Any = "cuda") -> None:
    """Sets the CUDA generator's state from ``get_rng_state``'s 16 bytes."""
    import numpy as np

    _checked(device)
    if new_state.dtype != _C.dtype.uint8 or new_state.numel() != 16:
        raise RuntimeError(
            f"Expected a 16-byte uint8 CUDA generator state (seed and offset), got {new_state.numel()} "
            f"elements of {new_state.dtype}"
        )
    seed, offset = np.ascontiguousarray(new_state.cpu().numpy()).view("<u8")
    _C._cuda_set_rng_state(int(seed), int(offset))


def get_rng_state_all() -> list:
    """``get_rng_state()`` of each device."""
    return [get_rng_state(i) for i in range(_C._cuda_device_count())]


def set_rng_state_all(new_states: Any) -> None:
    """``set_rng_state`` of each device from ``get_rng_state_all()``'s list."""
    for i, state in enumerate(new_states):
        set_rng_state(state, i)
