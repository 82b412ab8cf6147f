"""Anomaly detection: the forward stack of a node that fails in backward, NaN checks.

As PyTorch's torch.autograd.anomaly_mode (Note [Anomaly mode] in csrc/autograd/anomaly.h).
"""

from __future__ import annotations

import warnings
from typing import Any

from .. import _C
from ..grad_mode import _GradModeContext

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "is_anomaly_check_nan_enabled"]

is_anomaly_enabled = _C.is_anomaly_enabled
is_anomaly_check_nan_enabled = _C.is_anomaly_check_nan_enabled

_WARNING = (
    "Anomaly Detection has been enabled. This mode will increase the runtime and should only be enabled for debugging."
)


class detect_anomaly(_GradModeContext):
    """Inside the block (or decorated function), backward errors show the forward call that made the
    failing node, and with ``check_nan`` a node producing NaN gradients raises RuntimeError.

    Every node created records its Python stack: slow, for debugging only (warns so on entry).
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan
        warnings.warn(_WARNING, stacklevel=2)

    def clone(self) -> detect_anomaly:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return detect_anomaly(self.check_nan)

    def __enter__(self) -> None:
        self._prev = (_C.is_anomaly_enabled(), _C.is_anomaly_check_nan_enabled())
        _C._set_anomaly_enabled(True, self.check_nan)

    def __exit__(self, *args: object) -> bool:
        _C._set_anomaly_enabled(*self._prev)
        return False


class set_detect_anomaly:
    """Turns anomaly detection on or off, at once; as a context manager, restores it on exit."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self._prev = (_C.is_anomaly_enabled(), _C.is_anomaly_check_nan_enabled())
        _C._set_anomaly_enabled(bool(mode), bool(check_nan))

    def __enter__(self) -> None:
        pass

    def __exit__(self, *args: Any) -> bool:
        _C._set_anomaly_enabled(*self._prev)
        return False
