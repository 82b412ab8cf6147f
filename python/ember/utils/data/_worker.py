"""DataLoader worker processes (``num_workers > 0``), as ``torch.utils.data``'s.

The main process walks the sampler and sends each batch's indices to a worker
(round robin, ``prefetch_factor`` batches ahead per worker); a worker fetches
and collates the batch and sends it back, its tensors through shared memory
(``_shared.py``; small ones pickled). Batches are
yielded in sampler order unless ``in_order=False``. An exception in a worker
is raised again in the main process with the worker's traceback; a worker that
dies or a ``timeout`` that passes raise RuntimeError. For an IterableDataset
every worker iterates its own copy of the dataset: split the work with
``get_worker_info()``, as in PyTorch.
"""

from __future__ import annotations

import multiprocessing
import queue
import random
import sys
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from . import _shared

_POLL_SECONDS = 5.0  # how often a waiting main process checks that its workers are alive


@dataclass(frozen=True)
class WorkerInfo:
    """What a worker process knows about itself (``get_worker_info()``)."""

    id: int
    num_workers: int
    seed: int
    dataset: Any


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """In a DataLoader worker process, its WorkerInfo; None in the main process."""
    return _worker_info


class _IterableEnd:
    """A worker's IterableDataset copy is exhausted."""


@dataclass
class _WorkerError:
    """An exception raised in a worker, carried to the main process."""

    worker_id: int
    type: type
    text: str

    def reraise(self) -> None:
        message = f"Caught {self.type.__name__} in DataLoader worker process {self.worker_id}.\nOriginal {self.text}"
        try:
            error = self.type(message)
        except Exception:  # noqa: BLE001  (an exception type that takes other arguments)
            error = RuntimeError(message)
        raise error


def _seed_numpy(seed: int, worker_id: int) -> None:
    """Seed numpy's global generator per worker with PyTorch's words (_utils.worker._generate_state of the
    loader's base seed), so forked workers do not share its state and draw what PyTorch's would."""
    try:
        import numpy as np
    except ImportError:
        return
    from ._utils.worker import _generate_state

    np.random.seed(_generate_state(seed - worker_id, worker_id))


def _worker_loop(
    fetcher: Any,
    index_queue: Any,
    result_queue: Any,
    worker_id: int,
    num_workers: int,
    seed: int,
    init_fn: Callable[[int], None] | None,
) -> None:
    import ember

    global _worker_info
    # One thread per worker: the workers are the parallelism (and OpenMP's pool
    # does not survive fork); backward, if a dataset runs one, stays serial.
    ember.set_num_threads(1)
    ember.autograd.set_parallel_backward(False)
    _shared.send_tensors_through_shared_memory()
    ember.manual_seed(seed)
    random.seed(seed)
    _seed_numpy(seed, worker_id)
    _worker_info = WorkerInfo(worker_id, num_workers, seed, fetcher.dataset)
    try:
        if init_fn is not None:
            init_fn(worker_id)
    except Exception as exc:  # noqa: BLE001
        result_queue.put((None, _WorkerError(worker_id, type(exc), traceback.format_exc())))
        return
    while True:
        task = index_queue.get()
        if task is None:
            return
        task_id, index = task
        if task_id == "reset":  # a new epoch of an IterableDataset
            fetcher.reset()
            continue
        try:
            data = fetcher.fetch(index)
        except StopIteration:
            data = _IterableEnd()
        except Exception as exc:  # noqa: BLE001
            data = _WorkerError(worker_id, type(exc), traceback.format_exc())
        result_queue.put((task_id, data))


class WorkerPool:
    """The worker processes of one DataLoader (one epoch's, or every epoch's with persistent_workers)."""

    def __init__(
        self, fetcher: Any, num_workers: int, base_seed: int, init_fn: Any, context: Any, timeout: float
    ) -> None:
        if context is None:
            context = multiprocessing.get_context()
        elif isinstance(context, str):
            context = multiprocessing.get_context(context)
        self.timeout = timeout
        self.result_queue = context.Queue()
        self.index_queues = [context.Queue() for _ in range(num_workers)]
        self.processes = [
            context.Process(
                target=_worker_loop,
                args=(fetcher, self.index_queues[i], self.result_queue, i, num_workers, base_seed + i, init_fn),
                daemon=True,
            )
            for i in range(num_workers)
        ]
        for p in self.processes:
            p.start()

    def send(self, worker: int, task: Any) -> None:
        self.index_queues[worker].put(task)

    def receive(self) -> tuple[Any, Any]:
        """The next (task id, data) any worker sends; raises RuntimeError on timeout or a dead worker."""
        waited = 0.0
        while True:
            wait = _POLL_SECONDS if not self.timeout else min(_POLL_SECONDS, self.timeout - waited)
            try:
                task_id, data = self.result_queue.get(timeout=wait)
            except queue.Empty:
                waited += wait
                dead = [p.pid for p in self.processes if not p.is_alive()]
                if dead:
                    self.shutdown(grace=0.1)
                    raise RuntimeError(
                        f"DataLoader worker (pid(s) {', '.join(map(str, dead))}) exited unexpectedly"
                    ) from None
                if self.timeout and waited >= self.timeout:
                    self.shutdown(grace=0.1)  # a worker is stuck: no point waiting for it to stop
                    raise RuntimeError(f"DataLoader timed out after {self.timeout} seconds") from None
                continue
            if isinstance(data, _WorkerError):
                self.shutdown()
                data.reraise()
            return task_id, data

    def shutdown(self, grace: float = _POLL_SECONDS) -> None:
        """Ask the workers to stop, wait up to `grace` seconds for each, then terminate those still running."""
        # At interpreter exit (an epoch's generator left unfinished, closed by the final collection) a put
        # would start the queue's feeder thread, which can no longer start: the process hung. Terminate then.
        finalizing = sys.is_finalizing()
        grace = 0.0 if finalizing else grace
        for q in [] if finalizing else self.index_queues:
            try:
                q.put(None)
            except (OSError, ValueError):  # already closed
                pass
        for p in self.processes:
            p.join(timeout=grace)
            if p.is_alive():  # stuck in __getitem__ (a timeout) or ignoring the stop signal
                p.terminate()
                p.join(timeout=_POLL_SECONDS)
        _shared.remove_leftovers([p.pid for p in self.processes])
        for q in [*self.index_queues, self.result_queue]:
            q.cancel_join_thread()
            q.close()
        self.processes = []

    def __del__(self) -> None:
        if getattr(self, "processes", None):
            self.shutdown()


def run_epoch(
    pool: WorkerPool, tasks: Iterator[Any] | None, prefetch: int, in_order: bool, iterable: bool
) -> Iterator[Any]:
    """The batches of one epoch. `tasks` yields what each batch is made of (indices); for an
    IterableDataset (tasks None) every active worker is asked for its next batch until all are exhausted."""
    workers = list(range(len(pool.processes)))
    if iterable:
        for w in workers:
            pool.send(w, ("reset", None))
    active = list(workers)
    sent = 0  # task ids, in the order the batches come in the sampler
    owner: dict[int, int] = {}
    buffered: dict[int, Any] = {}
    next_out = 0
    turn = 0

    def send_next() -> bool:
        nonlocal sent, turn
        if not active:
            return False
        if tasks is not None:
            try:
                index = next(tasks)
            except StopIteration:
                return False
        else:
            index = None
        w = active[turn % len(active)]
        turn += 1
        owner[sent] = w
        pool.send(w, (sent, index))
        sent += 1
        return True

    for _ in range(max(1, prefetch) * len(workers)):  # prefetch_factor=0 still needs one batch in flight
        if not send_next():
            break
    while owner or buffered:
        if in_order and next_out in buffered:
            data = buffered.pop(next_out)
            next_out += 1
            if not isinstance(data, _IterableEnd):
                yield data
            continue
        if not owner:  # what is buffered is out of order only because ends were skipped
            next_out = min(buffered)
            continue
        task_id, data = pool.receive()
        worker = owner.pop(task_id)
        if isinstance(data, _IterableEnd):
            if worker in active:
                active.remove(worker)
        else:
            send_next()
        if in_order:
            buffered[task_id] = data
        else:
            next_out += 1
            if not isinstance(data, _IterableEnd):
                yield data
