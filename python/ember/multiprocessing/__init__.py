"""ember.multiprocessing, as ``torch.multiprocessing``: Python's multiprocessing (every name of it is here),
the sharing-strategy queries, and ``spawn``/``start_processes``, which run ``fn(i, *args)`` in ``nprocs``
processes and raise in the parent what one of them raised.

ember tensors pickle by value: a tensor put on a Queue reaches the other process as a copy
(``share_memory_()`` changes nothing), where PyTorch's move it into shared memory."""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import traceback
from multiprocessing import *  # noqa: F403  (torch.multiprocessing re-exports the module)
from typing import Any, Callable

__all__ = [
    "ProcessContext", "ProcessExitedException", "ProcessRaisedException", "get_all_sharing_strategies",
    "get_sharing_strategy", "set_sharing_strategy", "spawn", "start_processes",
] + list(multiprocessing.__all__)  # fmt: skip

_STRATEGIES = {"file_descriptor", "file_system"}
_strategy = ["file_descriptor"]


def get_all_sharing_strategies() -> set[str]:
    return set(_STRATEGIES)


def get_sharing_strategy() -> str:
    return _strategy[0]


def set_sharing_strategy(new_strategy: str) -> None:
    """Records the strategy (ember copies tensors between processes whatever it is)."""
    if new_strategy not in _STRATEGIES:
        raise AssertionError(f"Invalid sharing strategy {new_strategy!r}; choose from {sorted(_STRATEGIES)}")
    _strategy[0] = new_strategy


class ProcessException(Exception):
    def __init__(self, msg: str, error_index: int, pid: int) -> None:
        super().__init__(msg)
        self.msg, self.error_index, self.pid = msg, error_index, pid

    def __reduce__(self) -> Any:
        return type(self), (self.msg, self.error_index, self.pid)


class ProcessRaisedException(ProcessException):
    """A spawned process raised: the message holds its traceback."""


class ProcessExitedException(ProcessException):
    """A spawned process exited with a non-zero code (or a signal) without raising."""

    def __init__(self, msg: str, error_index: int, error_pid: int, exit_code: int, signal_name: str | None = None):
        super().__init__(msg, error_index, error_pid)
        self.exit_code, self.signal_name = exit_code, signal_name

    def __reduce__(self) -> Any:
        return type(self), (self.msg, self.error_index, self.pid, self.exit_code, self.signal_name)


def _wrap(fn: Callable, i: int, args: tuple, errors: Any) -> None:
    try:
        fn(i, *args)
    except KeyboardInterrupt:
        pass
    except Exception:
        errors.put((i, traceback.format_exc()))
        raise SystemExit(1) from None


class ProcessContext:
    """The spawned processes: ``join()`` waits for them, raising the first failure (the others are ended)."""

    def __init__(self, processes: list, errors: Any) -> None:
        self.processes, self._errors = processes, errors

    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def join(self, timeout: float | None = None) -> bool:
        """True once every process has finished well; False on a timeout; raises on a failure."""
        alive = [p.sentinel for p in self.processes if p.exitcode is None]
        if alive:
            multiprocessing.connection.wait(alive, timeout=timeout)
        failed = [(i, p) for i, p in enumerate(self.processes) if p.exitcode not in (None, 0)]
        if failed:
            for p in self.processes:
                if p.is_alive():
                    p.terminate()
                p.join()
            i, p = failed[0]
            if not self._errors.empty():
                index, trace = self._errors.get()
                message = f"\n\n-- Process {index} terminated with the following error:\n{trace}"
                raise ProcessRaisedException(message, index, self.processes[index].pid)
            raise ProcessExitedException(f"process {i} terminated with exit code {p.exitcode}", i, p.pid, p.exitcode)
        return all(p.exitcode == 0 for p in self.processes)


def start_processes(fn: Callable, args: tuple = (), nprocs: int = 1, join: bool = True, daemon: bool = False,
                    start_method: str = "spawn") -> ProcessContext | None:  # fmt: skip
    """Runs ``fn(i, *args)`` for i in 0..nprocs-1, each in a process of ``start_method``."""
    context = multiprocessing.get_context(start_method)
    errors = context.SimpleQueue()
    processes = []
    for i in range(nprocs):
        p = context.Process(target=_wrap, args=(fn, i, args, errors), daemon=daemon)
        p.start()
        processes.append(p)
    ctx = ProcessContext(processes, errors)
    if not join:
        return ctx
    while not ctx.join():
        pass
    return None


def spawn(fn: Callable, args: tuple = (), nprocs: int = 1, join: bool = True, daemon: bool = False,
          start_method: str = "spawn") -> ProcessContext | None:  # fmt: skip
    """``start_processes`` with the spawn start method, as PyTorch's."""
    return start_processes(fn, args, nprocs, join, daemon, start_method)
