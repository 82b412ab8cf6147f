"""``torch.utils.data._utils.worker``: the worker-side helpers libraries import by this path (tensordict seeds
numpy with ``_generate_state``); the worker loop itself is ember.utils.data._worker."""

from __future__ import annotations

from .._worker import WorkerInfo, get_worker_info

__all__ = ["WorkerInfo", "get_worker_info"]

_MASK32 = 0xFFFFFFFF


def _generate_state(base_seed: int, worker_id: int) -> list[int]:
    """The four 32-bit words a DataLoader worker seeds numpy's global generator with, as PyTorch's: numpy's
    SeedSequence hash of (worker_id, the two halves of base_seed, 0), so each worker draws its own stream."""
    import numpy as np

    entropy = [worker_id, base_seed & _MASK32, base_seed >> 32, 0]
    return [int(word) for word in np.random.SeedSequence(entropy).generate_state(4)]
