"""Work: a collective in flight, and the one wait loop every collective finishes through.

Note [Waiting on MPI]
Every collective starts as an MPI non-blocking operation and is finished by _wait, a loop over
MPI_Testall: it spins briefly (a small all-reduce completes within microseconds on one machine), then sleeps
in growing steps up to 1 ms, so a rank waiting for a slower one gives its core away instead of spinning on it
(with more ranks than cores, spinning waiters slow down the very rank they wait for), and it raises once the
group's timeout has passed, so a rank that never arrives makes the others fail with an error instead of
hanging. Each Test also drives MPI's progress engine, which is what moves a non-blocking collective
forward when MPI has no progress thread (MPICH's default).
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any, Callable

__all__ = ["Work"]

_SPINS = 100  # Testall calls before the first sleep: about 50 microseconds
_LONGEST_SLEEP = 1e-3


def _wait(requests: list[Any], statuses: list[Any] | None, timeout: timedelta, what: str) -> None:
    from mpi4py import MPI

    test = MPI.Request.Testall
    for _ in range(_SPINS):
        if test(requests, statuses):
            return
    deadline = time.monotonic() + timeout.total_seconds()
    pause = 1e-5
    while not test(requests, statuses):
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"{what} timed out after {timeout.total_seconds():g} s waiting for the other ranks (a rank stopped, "
                "failed or runs a different collective); init_process_group(timeout=...) sets the limit"
            )
        time.sleep(pause)
        pause = min(2 * pause, _LONGEST_SLEEP)


class Work:
    """A collective started with async_op=True: wait() blocks until it is done (or the group's timeout passes,
    RuntimeError), is_completed() asks without blocking. The tensors it reads and writes are kept alive until
    it completes; results written by the library (ReduceOp.AVG's division, all_gather's copies into a list)
    happen when it is first seen complete."""

    def __init__(
        self,
        requests: list[Any],
        timeout: timedelta,
        what: str,
        finish: Callable[[], None] | None = None,
        result: list[Any] | None = None,
        keep: tuple[Any, ...] = (),
        statuses: list[Any] | None = None,
    ) -> None:
        self._requests = requests
        self._timeout = timeout
        self._what = what
        self._finish = finish
        self._result = result or []
        self._keep = keep  # buffers MPI reads or writes: alive until the operation completes
        self._statuses = statuses
        self._done = False
        self._exception: BaseException | None = None

    def _complete(self) -> None:
        self._done = True
        self._keep = ()
        if self._finish is not None:
            finish, self._finish = self._finish, None
            finish()

    def wait(self, timeout: timedelta | None = None) -> bool:
        """Blocks until the operation completes; True. Raises RuntimeError after the timeout (the group's
        unless given)."""
        if not self._done:
            try:
                _wait(self._requests, self._statuses, timeout or self._timeout, self._what)
            except RuntimeError as e:
                self._exception = e
                raise
            self._complete()
        return True

    def is_completed(self) -> bool:
        """Whether the operation has completed, without blocking."""
        if not self._done:
            from mpi4py import MPI

            if MPI.Request.Testall(self._requests, self._statuses):
                self._complete()
        return self._done

    def is_success(self) -> bool:
        """True once completed without error."""
        return self.is_completed() and self._exception is None

    def exception(self) -> BaseException | None:
        """The error a wait() raised, else None."""
        return self._exception

    def result(self) -> list[Any]:
        """The tensors the operation wrote (after wait())."""
        return list(self._result)

    def source_rank(self) -> int:
        """For a receive: the rank the message came from."""
        if not self._statuses:
            raise RuntimeError("source_rank() is defined for receive operations only")
        self.wait()
        return self._statuses[0].Get_source()

    def synchronize(self) -> None:
        """The same as wait() for CPU tensors."""
        self.wait()

    def __repr__(self) -> str:
        return f"<ember.distributed.Work {self._what}, {'completed' if self._done else 'in flight'}>"
