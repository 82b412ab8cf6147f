"""ember.distributed.algorithms.join: PyTorch's context for inputs of uneven length across ranks. PyTorch's
``Join`` lets ranks that run out of batches shadow the others' collectives (through each joinable's hooks)
until all are done. ember's DistributedDataParallel has no such shadowing, so a ``Join`` that is enabled
over several ranks raises NotImplementedError when entered, rather than hang when the ranks' collectives
stop matching; disabled, or in a job of one rank, it changes nothing, as PyTorch's does then."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

__all__ = ["Join", "JoinHook", "Joinable"]


class JoinHook:
    """What a joined rank does per iteration the others still run (``main_hook``) and once all are done
    (``post_hook``)."""

    def main_hook(self) -> None:
        return None

    def post_hook(self, is_last_joiner: bool) -> None:
        return None


class Joinable(ABC):
    @abstractmethod
    def join_hook(self, **kwargs: Any) -> JoinHook: ...

    @property
    @abstractmethod
    def join_device(self) -> Any: ...

    @property
    @abstractmethod
    def join_process_group(self) -> Any: ...


class Join:
    def __init__(self, joinables: list[Any], enable: bool = True, throw_on_early_termination: bool = False,
                 **kwargs: Any) -> None:  # fmt: skip
        if len(joinables) == 0:
            raise ValueError("The join context manager requires at least one joinable")
        self._joinables, self._enable = joinables, enable
        self._throw_on_early_termination = throw_on_early_termination

    def __enter__(self) -> Join:
        from .. import get_world_size, is_initialized

        if self._enable and is_initialized() and get_world_size() > 1:
            raise NotImplementedError(
                "ember.distributed.algorithms.join.Join: ember cannot shadow the collectives of ranks that run out "
                "of inputs; give every rank the same number of batches (for example a DistributedSampler with "
                "drop_last=True), or enable=False"
            )
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    @staticmethod
    def notify_join_context(joinable: Any) -> None:
        """Called by a joinable each iteration: nothing to agree on without shadowing (see Join)."""
        return None
