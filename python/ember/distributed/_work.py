"""Work: a collective in flight, and the one wait loop every collective finishes through.

Note [Waiting on MPI]
Every collective starts as an MPI non-blocking operation and is finished by _wait, a loop over MPI_Testall.
Each Test drives MPI's progress engine, which is what moves a transfer forward when MPI has no progress
thread (MPICH's default): a large all-reduce through shared memory is a pipeline of copies that both ranks
push, so a waiter that sleeps stalls its peer too (sleeping 10 us - 1 ms between Tests made a 1 MB all-reduce
8x slower than a blocking MPI_Allreduce). So the loop spins, calling sched_yield between Tests: with more
ranks than cores, a spinning waiter hands its core to the rank it waits for. Only a wait longer than a second,
a rank that is late rather than a transfer in flight, sleeps 1 ms between Tests. It raises once the group's
timeout has passed, so a rank that never arrives makes the others fail with an error instead of hanging.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from typing import Any, Callable

from ._process_group import DistBackendError, _mpi

__all__ = ["Work"]

_SPIN_SECONDS = 1.0  # spin (yielding) this long before sleeping between Tests
_SLEEP = 1e-3
_yield = getattr(os, "sched_yield", lambda: time.sleep(0))


def _wait(requests: list[Any], statuses: list[Any] | None, timeout: timedelta, what: str) -> None:
    test = _mpi().Request.Testall
    if test(requests, statuses):
        return
    start = time.monotonic()
    spin_until, deadline = start + _SPIN_SECONDS, start + timeout.total_seconds()
    while not test(requests, statuses):
        now = time.monotonic()
        if now > deadline:
            raise DistBackendError(
                f"{what} timed out after {timeout.total_seconds():g} s waiting for the other ranks (a rank stopped, "
                "failed or runs a different collective); init_process_group(timeout=...) sets the limit"
            )
        if now < spin_until:
            _yield()
        else:
            time.sleep(_SLEEP)


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

    def _then(self, step: Callable[[], None]) -> None:
        """Adds `step` after what completing already does (ReduceOp.AVG's division, say)."""
        first = self._finish
        if first is None:
            self._finish = step
            return

        def both() -> None:
            first()
            step()

        self._finish = both

    def _complete(self) -> None:
        self._done = True
        self._keep = ()
        if self._finish is not None:
            finish, self._finish = self._finish, None
            finish()

    def wait(self, timeout: timedelta | None = None) -> bool:
        """Blocks until the operation completes; True. Raises DistBackendError (a RuntimeError) after the
        timeout (the group's unless given)."""
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
            if _mpi().Request.Testall(self._requests, self._statuses):
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
