"""ember.jit._state, as ``torch.jit._state``: ``_enabled``, the switch ``PYTORCH_JIT=0`` turns off, which
libraries read to choose between scripted and plain functions (brevitas). ember's ``jit.script`` returns
the Python function either way, so the switch changes nothing in ember itself."""

from __future__ import annotations

import os

__all__ = ["EnabledProxy", "disable", "enable"]


class EnabledProxy:
    """Whether the JIT is on (a bool with reference semantics): from ``PYTORCH_JIT``, True when unset."""

    def __init__(self) -> None:
        value = os.environ.get("PYTORCH_JIT")
        if value is None:
            self.enabled = True
        elif value.lower() in {"1", "true", "yes", "1v"}:
            self.enabled = True
        elif value.lower() in {"0", "false", "no", "0v"}:
            self.enabled = False
        else:
            raise ValueError("Unknown setting of PYTORCH_JIT. Try using 0 or 1.")

    def __bool__(self) -> bool:
        return self.enabled


_enabled = EnabledProxy()


def disable() -> None:
    _enabled.enabled = False


def enable() -> None:
    _enabled.enabled = True
