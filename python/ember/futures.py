"""ember.futures: PyTorch's ``torch.futures``, a value that a later step provides (``set_result``) and others
wait for. ``jit.fork`` returns one already complete (ember runs the call at once); code that passes results
between threads (captum's asynchronous attributions) uses them directly. Callbacks run in the thread that
completes the Future, or at once when it is complete already, as PyTorch's."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["Future", "collect_all", "wait_all"]

T = TypeVar("T")
S = TypeVar("S")


class Future(Generic[T]):
    def __init__(self, *, devices: Any = None) -> None:
        self._done = threading.Condition()
        self._completed = False
        self._result: Any = None
        self._error: BaseException | None = None
        self._callbacks: list[Callable[[Future[T]], None]] = []

    def done(self) -> bool:
        """Whether a result or an error is set."""
        return self._completed

    def wait(self) -> T:
        """Blocks until the Future completes; returns its result or raises its error."""
        with self._done:
            self._done.wait_for(lambda: self._completed)
        return self.value()

    def value(self) -> T:
        """The result of a completed Future (its error raised)."""
        if not self._completed:
            raise RuntimeError("Future.value(): the Future has not completed yet; wait() for it")
        if self._error is not None:
            raise self._error
        return self._result

    def set_result(self, result: T) -> None:
        self._complete(result, None)

    def set_exception(self, result: BaseException) -> None:
        if not isinstance(result, BaseException):
            raise TypeError(f"{result} is of type {type(result)}, not an Exception.")
        self._complete(None, result)

    def _complete(self, result: Any, error: BaseException | None) -> None:
        with self._done:
            if self._completed:
                raise RuntimeError(
                    "Attempting to mark a completed Future as complete again. Note that a Future can only be "
                    "marked completed once."
                )
            self._result, self._error, self._completed = result, error, True
            callbacks, self._callbacks = self._callbacks, []
            self._done.notify_all()
        for callback in callbacks:
            callback(self)

    def add_done_callback(self, callback: Callable[[Future[T]], None]) -> None:
        """Runs ``callback(self)`` when the Future completes (at once if it has)."""
        with self._done:
            if not self._completed:
                self._callbacks.append(callback)
                return
        callback(self)

    def then(self, callback: Callable[[Future[T]], S]) -> Future[S]:
        """A new Future completed with ``callback(self)`` once this one completes (with its error, if it
        raises)."""
        chained: Future[S] = Future()

        def run(done: Future[T]) -> None:
            try:
                chained.set_result(callback(done))
            except Exception as error:
                chained.set_exception(
                    RuntimeError(f"Got the following error when running the callback: {type(error).__name__}: {error}")
                )

        self.add_done_callback(run)
        return chained


def collect_all(futures: list[Future[Any]]) -> Future[list[Future[Any]]]:
    """A Future completed with the list of ``futures`` once all of them complete."""
    collected: Future[list[Future[Any]]] = Future()
    remaining = [len(futures)]
    lock = threading.Lock()

    def one_done(_: Future[Any]) -> None:
        with lock:
            remaining[0] -= 1
            last = remaining[0] == 0
        if last:
            collected.set_result(list(futures))

    if not futures:
        collected.set_result([])
    for future in futures:
        future.add_done_callback(one_done)
    return collected


def wait_all(futures: list[Future[Any]]) -> list[Any]:
    """The results of ``futures``, waiting for each (the first error raised)."""
    return [future.wait() for future in collect_all(futures).wait()]
