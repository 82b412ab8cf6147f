"""Tensors from DataLoader workers through shared memory, as PyTorch sends them.

A worker writes each tensor of a batch (of at least ``MIN_SHARED_BYTES``) into a
file of its own in ``/dev/shm`` and pickles only the file's name, shape and
dtype. The main process maps the file, unlinks it at once (the mapping stays
valid and the memory goes when the last tensor viewing it goes) and wraps the
mapping in a tensor without a copy. A batch thus crosses the process boundary
once, as a memory copy in the worker, instead of being pickled into the result
pipe and unpickled out of it. Elsewhere than Linux, or for small tensors,
tensors travel pickled. Files a worker made that the main process never took
(it died, the loader was dropped mid-epoch) are removed when the pool shuts
down: their names carry the worker's pid.
"""

from __future__ import annotations

import mmap
import os
import uuid
from multiprocessing.reduction import ForkingPickler
from typing import Any

import numpy as np

SHM_DIR = "/dev/shm"
MIN_SHARED_BYTES = 4096  # below this a file costs more than the pickle
PREFIX = "ember_dl_"


def available() -> bool:
    return os.path.isdir(SHM_DIR) and os.access(SHM_DIR, os.W_OK)


def _rebuild(name: str, nbytes: int, shape: tuple, dtype_name: str) -> Any:
    """In the main process: the tensor over the mapped file, which is unlinked at once."""
    import ember

    path = os.path.join(SHM_DIR, name)
    fd = os.open(path, os.O_RDWR)
    try:
        mapping = mmap.mmap(fd, nbytes)
    finally:
        os.close(fd)
        os.unlink(path)
    raw = ember.from_numpy(np.frombuffer(mapping, dtype=np.uint8, count=nbytes))  # keeps the mapping alive
    return raw.view(getattr(ember, dtype_name)).view(shape)


def _reduce_tensor(t: Any) -> Any:
    """In a worker: a large CPU tensor as (rebuild, (file name, ...)); anything else as ember pickles it."""
    import ember

    nbytes = t.numel() * t.element_size()
    if nbytes < MIN_SHARED_BYTES or t.requires_grad or t.device.type != "cpu":
        return t.__reduce_ex__(2)
    flat = t.detach().reshape(-1).contiguous().view(ember.uint8)
    name = f"{PREFIX}{os.getpid()}_{uuid.uuid4().hex}"
    fd = os.open(os.path.join(SHM_DIR, name), os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.ftruncate(fd, nbytes)
        with mmap.mmap(fd, nbytes) as mapping:
            np.frombuffer(mapping, dtype=np.uint8)[:] = flat.numpy()
    finally:
        os.close(fd)
    return _rebuild, (name, nbytes, tuple(t.shape), t.dtype.name)


def send_tensors_through_shared_memory() -> None:
    """Called once in each worker: from then on its result queue pickles tensors by file name."""
    from ember import Tensor

    if available():
        ForkingPickler.register(Tensor, _reduce_tensor)


def remove_leftovers(pids: list[int]) -> None:
    """Deletes the files of these (stopped) workers that nobody mapped."""
    if not available():
        return
    prefixes = tuple(f"{PREFIX}{pid}_" for pid in pids)
    for name in os.listdir(SHM_DIR):
        if name.startswith(prefixes):
            try:
                os.unlink(os.path.join(SHM_DIR, name))
            except FileNotFoundError:  # taken meanwhile
                pass
