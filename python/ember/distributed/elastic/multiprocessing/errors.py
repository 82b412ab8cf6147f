"""ember.distributed.elastic.multiprocessing.errors: PyTorch's ``@record`` for a process's main function. An
exception raised inside it is written, as PyTorch's JSON, to the file ``TORCHELASTIC_ERROR_FILE`` names (when
a launcher set it) and then re-raised; ``SystemExit(0)`` returns None."""

from __future__ import annotations

import json
import os
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

__all__ = ["ChildFailedError", "ErrorHandler", "ProcessFailure", "get_error_handler", "record"]

_NOT_AVAILABLE = "<N/A>"


@dataclass
class ProcessFailure:
    """One failed child process: its local rank, pid, exit code and error file."""

    local_rank: int
    pid: int
    exitcode: int
    error_file: str
    timestamp: int = field(default_factory=lambda: int(time.time()))
    message: str = ""


class ChildFailedError(Exception):
    """Raised by a launcher when child processes failed; ``failures`` maps global rank to ProcessFailure."""

    def __init__(self, name: str, failures: dict[int, ProcessFailure]) -> None:
        self.name, self.failures = name, failures
        super().__init__(f"{name} FAILED: {len(failures)} process(es) failed")

    def get_first_failure(self) -> tuple[int, ProcessFailure]:
        rank = min(self.failures, key=lambda r: self.failures[r].timestamp)
        return rank, self.failures[rank]


class ErrorHandler:
    """Writes an exception to the error file a launcher asked for (``TORCHELASTIC_ERROR_FILE``)."""

    def _error_file_path(self) -> str | None:
        return os.environ.get("TORCHELASTIC_ERROR_FILE")

    def initialize(self) -> None:
        """Nothing to set up: ember installs no fault handler."""

    def record_exception(self, e: BaseException) -> None:
        path = self._error_file_path()
        if not path:
            return
        message = {"message": f"{type(e).__name__}: {e}", "extraInfo": {
            "py_callstack": traceback.format_exc(), "timestamp": str(int(time.time()))}}  # fmt: skip
        with open(path, "w") as f:
            json.dump({"message": message}, f)

    def dump_error_file(self, rootcause_error_file: str, error_code: int = 0) -> None:
        path = self._error_file_path()
        if path and os.path.exists(rootcause_error_file):
            with open(rootcause_error_file) as src, open(path, "w") as dst:
                dst.write(src.read())


def get_error_handler() -> ErrorHandler:
    return ErrorHandler()


def record(fn: Callable[..., Any], error_handler: ErrorHandler | None = None) -> Callable[..., Any]:
    """Decorates a process's main function: its exceptions are recorded (see the module) and re-raised."""
    handler = error_handler or get_error_handler()

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        handler.initialize()
        try:
            return fn(*args, **kwargs)
        except SystemExit as exit_:
            if exit_.code == 0:
                return None
            raise
        except ChildFailedError as e:
            _, failure = e.get_first_failure()
            if failure.error_file != _NOT_AVAILABLE:
                handler.dump_error_file(failure.error_file, failure.exitcode)
            raise
        except Exception as e:
            handler.record_exception(e)
            raise

    return wrapper
