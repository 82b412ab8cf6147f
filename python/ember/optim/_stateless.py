"""``swap_in_optimizer_params_and_state``: run an optimizer, for a while, on other parameters and state."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from typing import Any, Iterator

from .._C import Tensor
from .optimizer import Optimizer

__all__ = ["swap_in_optimizer_params_and_state"]

_NAME = "swap_in_optimizer_params_and_state"


def _fail(message: str) -> None:
    raise RuntimeError(message)


def _swap_plan(
    optimizer: Optimizer, parameters: dict[str, Tensor], optim_state: Any
) -> tuple[dict[Any, Any], list[tuple[dict[str, Any], dict[str, Any], list[Tensor]]]]:
    """Check ``optim_state`` (a ``state_dict()``) against the live optimizer, with PyTorch's errors; returns its
    ``state`` and, per group, ``(live group, saved group, the parameters that replace the group's)``."""
    if not optimizer.state:
        _fail(f"{_NAME} requires initialized optimizer state.")
    if not isinstance(optim_state, dict):
        _fail(f"{_NAME} requires a DCP-style optimizer state_dict.")
    state = optim_state.get("state")
    if not isinstance(state, dict):
        _fail(
            f"{_NAME} requires swapin_optim_state['state'] to be a dict mapping packed parameter ids to "
            f"per-param state dicts, got {type(state).__name__}."
        )
    if any(isinstance(key, Tensor) for key in state):
        _fail(f"{_NAME} requires optimizer.state_dict()-style state keyed by packed parameter ids.")
    if any(isinstance(key, int) and not isinstance(value, dict) for key, value in state.items()):
        _fail(f"{_NAME} requires per-parameter optimizer state entries to be dictionaries.")
    groups = optim_state.get("param_groups")
    if not isinstance(groups, list):
        _fail(
            f"{_NAME} requires swapin_optim_state['param_groups'] to be a list of param-group dicts, "
            f"got {type(groups).__name__}."
        )
    if len(groups) != len(optimizer.param_groups):
        _fail("swapin_optim_state has a different number of parameter groups than the live optimizer.")

    supplied = list(parameters.values())
    taken = 0
    ids_seen: set[Any] = set()
    plan = []
    for i, (live, saved) in enumerate(zip(optimizer.param_groups, groups)):
        if not isinstance(saved, dict):
            _fail(f"{_NAME} requires each optimizer param group to be a dictionary.")
        ids = saved.get("params")
        if not isinstance(ids, list) or not all(isinstance(k, int) for k in ids):
            _fail(
                f"{_NAME} requires optimizer.state_dict()-style param_groups[*]['params'] entries keyed by "
                "packed parameter ids."
            )
        if len(ids) != len(live["params"]):
            _fail(
                f"swapin_optim_state param group {i} has a different number of params than the live optimizer "
                "param group."
            )
        only_saved = [k for k in saved if k not in live]
        only_live = [k for k in live if k not in saved]
        if only_saved or only_live:
            _fail(
                f"{_NAME} requires optimizer.state_dict()-style param group keys to exactly match the live "
                f"optimizer group keys for group {i}. Keys only in swap-in: {only_saved}. "
                f"Keys only in live: {only_live}."
            )
        if taken + len(ids) > len(supplied):
            _fail(f"{_NAME} requires the explicit parameter state to match optimizer.param_groups ordering.")
        plan.append((live, saved, supplied[taken : taken + len(ids)]))
        taken += len(ids)
        ids_seen.update(ids)
    extra = [k for k in state if k not in ids_seen]
    if extra:
        _fail(
            f"{_NAME} requires swapin_optim_state['state'] to be keyed only by packed parameter ids from "
            f"param_groups[*]['params']; got extra keys {extra!r}."
        )
    return state, plan


@contextlib.contextmanager
def swap_in_optimizer_params_and_state(
    optimizer: Optimizer, swapin_parameters: dict[str, Tensor], swapin_optim_state: dict[str, Any]
) -> Iterator[None]:
    """Within the ``with`` block, ``optimizer`` works on ``swapin_parameters`` and ``swapin_optim_state``
    instead of its own parameters, state and group options; on exit (normal or by an exception) they are
    restored, as ``torch.optim.swap_in_optimizer_params_and_state``.

    Unlike ``load_state_dict``, the parameters are swapped too, so ``optimizer.step()`` updates the
    supplied tensors.  The optimizer's state must already exist (a step taken, or a state loaded).

    Args:
        optimizer: the live optimizer.
        swapin_parameters: the tensors to optimize, in the order of the optimizer's parameters
            (usually ``model.named_parameters()``'s); only the values are used.
        swapin_optim_state: a ``state_dict()``-shaped dict: ``"state"`` keyed by packed parameter
            ids, ``"param_groups"`` with exactly the live groups' keys (``params`` as id lists).
            In-place changes to its tensors (the step's updates of the moments) show in it
            afterwards; new entries the step makes do not.
    """
    state, plan = _swap_plan(optimizer, swapin_parameters, swapin_optim_state)
    live_state = optimizer.state
    # the group dicts stay the same objects (so do their ``params`` lists): their contents are swapped, then restored
    snapshots = [dict(group) for group in optimizer.param_groups]
    try:
        swapped: defaultdict[Tensor, Any] = defaultdict(dict)
        for live, saved, params in plan:
            for key, value in saved.items():
                if key != "params":
                    live[key] = value
            live["params"] = params
            for p, pid in zip(params, saved["params"]):
                swapped[p] = dict(state.get(pid, {}))  # a new dict: entries added in the block stay out of it
        optimizer.state = swapped
        yield
    finally:
        for group, snapshot in zip(optimizer.param_groups, snapshots):
            group.clear()
            group.update(snapshot)
        optimizer.state = live_state


swap_in_optimizer_params_and_state.__module__ = "ember.optim"
