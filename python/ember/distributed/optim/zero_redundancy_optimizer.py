"""ZeroRedundancyOptimizer: the optimizer state sharded over the ranks (ZeRO stage 1), as PyTorch's. Each
parameter is owned by one rank (greedily, largest first, to balance the elements each rank updates); a
rank keeps ``optimizer_class``'s state for its own parameters only, steps them, and then every parameter is
broadcast from its owner, so all ranks hold the same weights after each ``step``. ``state_dict`` needs
``consolidate_state_dict(to=rank)`` on every rank first and answers on ``to``, in the layout of the
unsharded optimizer, which ``load_state_dict`` reads on any number of ranks."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ...grad_mode import no_grad
from ...optim.optimizer import Optimizer
from .. import _collectives as c
from .. import _objects
from .._process_group import get_rank, get_world_size

__all__ = ["ZeroRedundancyOptimizer"]


def _hyperparameters(group: dict[str, Any]) -> dict[str, Any]:
    """A param group's settings, without its parameters."""
    return {k: v for k, v in group.items() if k != "params"}


class ZeroRedundancyOptimizer(Optimizer):
    def __init__(self, params: Iterable[Any], optimizer_class: type, process_group: Any = None,
                 parameters_as_bucket_view: bool = False, overlap_with_ddp: bool = False,
                 **defaults: Any) -> None:  # fmt: skip
        if overlap_with_ddp:
            raise NotImplementedError("ZeroRedundancyOptimizer: overlap_with_ddp needs DDP communication hooks")
        super().__init__(params, defaults)
        self.process_group, self._optimizer_class = process_group, optimizer_class
        self.parameters_as_bucket_view = parameters_as_bucket_view  # every tensor keeps its own memory
        self.global_rank, self.world_size = get_rank(process_group), get_world_size(process_group)
        everything = [p for group in self.param_groups for p in group["params"]]
        load = [0] * self.world_size
        self._owner: dict[int, int] = {}
        for p in sorted(everything, key=lambda t: -t.numel()):
            rank = load.index(min(load))
            self._owner[id(p)] = rank
            load[rank] += p.numel()
        local_groups = [self._local_group(group) for group in self.param_groups]
        self.optim = optimizer_class(local_groups, **defaults)
        self._consolidated: dict[str, Any] | None = None

    def _local_group(self, group: dict[str, Any]) -> dict[str, Any]:
        own = [p for p in group["params"] if self._owner[id(p)] == self.global_rank]
        return {**_hyperparameters(group), "params": own}

    def _sync_hyperparameters(self) -> None:
        """The local optimizer's groups take this one's settings (an LR scheduler or load_state_dict set them)."""
        for group, local in zip(self.param_groups, self.optim.param_groups):
            local.update(_hyperparameters(group))

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        super().add_param_group(param_group)
        if hasattr(self, "optim"):  # after construction: the new group's parameters go to the least loaded rank
            for p in self.param_groups[-1]["params"]:
                self._owner[id(p)] = len(self._owner) % self.world_size
            self.optim.add_param_group(self._local_group(self.param_groups[-1]))

    def step(self, closure: Callable[[], float] | None = None, **kwargs: Any) -> float | None:
        """Steps this rank's parameters, then brings every rank every parameter's new value."""
        self._sync_hyperparameters()
        loss = self.optim.step(closure, **kwargs) if kwargs else self.optim.step(closure)
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    c.broadcast(p.data, src=self._owner[id(p)], group=self.process_group)
        return loss

    def _global_indices(self) -> dict[int, int]:
        everything = [p for group in self.param_groups for p in group["params"]]
        return {id(p): i for i, p in enumerate(everything)}

    def consolidate_state_dict(self, to: int = 0) -> None:
        """Gathers every rank's shard of the state onto rank ``to`` (call on every rank)."""
        index = self._global_indices()
        local = {index[id(p)]: self.optim.state[p] for g in self.optim.param_groups for p in g["params"]
                 if p in self.optim.state}  # fmt: skip
        shards: list[Any] | None = [None] * self.world_size if self.global_rank == to else None
        _objects.gather_object(local, shards, dst=to, group=self.process_group)
        self._consolidated = None
        if shards is not None:
            state = {k: v for shard in shards for k, v in shard.items()}
            groups, start = [], 0
            for group in self.param_groups:
                groups.append({**_hyperparameters(group), "params": list(range(start, start + len(group["params"])))})
                start += len(group["params"])
            self._consolidated = {"state": state, "param_groups": groups}

    def state_dict(self) -> dict[str, Any]:
        if self._consolidated is None:
            raise RuntimeError(
                f"Optimizer state has not been consolidated on this rank. Please call `consolidate_state_dict(to="
                f"{self.global_rank})` on all ranks beforehand if you meant to save the global state."
            )
        return self._consolidated

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Takes the unsharded layout (``state_dict``'s): each rank keeps its own parameters' state."""
        for group, saved in zip(self.param_groups, state_dict["param_groups"]):
            group.update(_hyperparameters(saved))
        index = self._global_indices()
        for local in self.optim.param_groups:
            for p in local["params"]:
                saved = state_dict["state"].get(index[id(p)])
                if saved is not None:
                    self.optim.state[p] = {k: v.to(p.device) if hasattr(v, "to") else v for k, v in saved.items()}
        self._sync_hyperparameters()
