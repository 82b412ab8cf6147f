"""ember.distributed.tensor._utils: see ember.distributed.tensor (no DTensor, so nothing to compute here)."""

from __future__ import annotations

from typing import Any, NoReturn

from . import _no_dtensor


def compute_local_shape_and_global_offset(*args: Any, **kwargs: Any) -> NoReturn:
    raise _no_dtensor("_utils.compute_local_shape_and_global_offset")
