"""Stochastic weight averaging (SWA) and exponential moving averages (EMA) of a model, as
``torch.optim.swa_utils``: ``AveragedModel``, the ``SWALR`` scheduler, ``update_bn`` and the averaging
functions."""

from __future__ import annotations

import itertools
import math
from copy import deepcopy
from typing import Any, Callable, Iterable, Union

from .. import _C
from .._C import Tensor
from .._creation import tensor
from ..grad_mode import no_grad
from ..nn.modules.batchnorm import _BatchNorm
from ..nn.modules.module import Module
from .lr_scheduler import LRScheduler, _format_param, _warn_get_lr_called_within_step
from .optimizer import Optimizer, _lerp_

__all__ = [
    "AveragedModel",
    "update_bn",
    "SWALR",
    "get_ema_multi_avg_fn",
    "get_swa_multi_avg_fn",
    "get_ema_avg_fn",
    "get_swa_avg_fn",
]

PARAM_LIST = Union[tuple[Tensor, ...], list[Tensor]]


def _is_floating(t: Tensor) -> bool:
    return t.is_floating_point()


def get_ema_multi_avg_fn(decay: float = 0.999) -> Callable[[PARAM_LIST, PARAM_LIST, Any], None]:
    """The in-place EMA update of lists of averaged parameters:
    ``ema = decay * ema + (1 - decay) * current`` (a lerp for floating tensors, as PyTorch)."""
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")

    @no_grad()
    def ema_update(ema_param_list: PARAM_LIST, current_param_list: PARAM_LIST, _: Any) -> None:
        if _is_floating(ema_param_list[0]):
            for p_ema, p_model in zip(ema_param_list, current_param_list):
                _lerp_(p_ema, p_model, 1 - decay)
        else:
            for p_ema, p_model in zip(ema_param_list, current_param_list):
                p_ema.copy_(p_ema * decay + p_model * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn() -> Callable[[PARAM_LIST, PARAM_LIST, Any], None]:
    """The in-place equal-weight (SWA) update of lists of averaged parameters, given the number of models
    averaged so far: ``avg += (current - avg) / (num_averaged + 1)`` (a lerp for floating tensors, as
    PyTorch).  Integer tensors (a BatchNorm's batch counter, with ``use_buffers``) take the true quotient,
    truncated; PyTorch's raises for them when ``num_averaged`` is a tensor."""

    @no_grad()
    def swa_update(averaged_param_list: PARAM_LIST, current_param_list: PARAM_LIST, num_averaged: Any) -> None:
        if _is_floating(averaged_param_list[0]):
            weight = float(1 / (num_averaged + 1))
            for p_avg, p_model in zip(averaged_param_list, current_param_list):
                _lerp_(p_avg, p_model, weight)
        else:
            for p_avg, p_model in zip(averaged_param_list, current_param_list):
                p_avg.copy_(p_avg + (p_model - p_avg) / (num_averaged + 1))

    return swa_update


def get_ema_avg_fn(decay: float = 0.999) -> Callable[[Tensor, Tensor, Any], Tensor]:
    """The EMA of one parameter: returns ``decay * ema + (1 - decay) * current``."""
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")

    @no_grad()
    def ema_update(ema_param: Tensor, current_param: Tensor, num_averaged: Any) -> Tensor:
        return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn() -> Callable[[Tensor, Tensor, Any], Tensor]:
    """The equal-weight (SWA) average of one parameter: returns ``avg + (current - avg) / (num_averaged + 1)``."""

    @no_grad()
    def swa_update(averaged_param: Tensor, current_param: Tensor, num_averaged: Any) -> Tensor:
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


class AveragedModel(Module):
    """A copy of ``model`` whose parameters hold a running average of ``model``'s, for stochastic weight
    averaging (SWA) or an exponential moving average (EMA), as ``torch.optim.swa_utils.AveragedModel``.

    Each ``update_parameters(model)`` folds in the model's current parameters
    (the first call copies them); ``forward`` runs the averaged copy
    (``self.module``).  ``n_averaged`` (an int64 buffer) counts the updates.

    Args:
        model: the module to average (deep-copied).
        device: where the averaged copy lives (default: where ``model`` is).
        avg_fn: ``avg_fn(averaged, current, num_averaged) -> new averaged`` for one tensor
            (default: an equal-weight average).
        multi_avg_fn: ``multi_avg_fn(averaged_list, current_list, num_averaged)``, updating the
            lists (one per dtype) in place; only one of ``avg_fn`` and ``multi_avg_fn`` may be given.
        use_buffers: average the buffers too (running statistics included); otherwise the buffers
            are copied from ``model`` on every update (default: False).
    """

    def __init__(
        self,
        model: Module,
        device: Any = None,
        avg_fn: Callable[[Tensor, Tensor, Any], Tensor] | None = None,
        multi_avg_fn: Callable[[PARAM_LIST, PARAM_LIST, Any], None] | None = None,
        use_buffers: bool = False,
    ) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", tensor(0, dtype=_C.dtype.int64, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Run the averaged copy of the model."""
        return self.module(*args, **kwargs)

    def update_parameters(self, model: Module) -> None:
        """Fold ``model``'s current parameters (and buffers, with ``use_buffers``) into the average."""
        with no_grad():
            self._update_parameters(model)

    def _update_parameters(self, model: Module) -> None:
        self_param = (
            itertools.chain(self.module.parameters(), self.module.buffers()) if self.use_buffers else self.parameters()
        )
        model_param = itertools.chain(model.parameters(), model.buffers()) if self.use_buffers else model.parameters()
        self_param_detached: list[Tensor] = []
        model_param_detached: list[Tensor] = []
        copy_param = bool(self.n_averaged == 0)
        for p_averaged, p_model in zip(self_param, model_param):
            p_model_ = p_model.detach().to(p_averaged.device)
            self_param_detached.append(p_averaged.detach())
            model_param_detached.append(p_model_)
            if copy_param:
                p_averaged.detach().copy_(p_model_)

        if self.n_averaged > 0:
            if self.multi_avg_fn is not None or self.avg_fn is None:
                # as PyTorch: the tensors grouped by dtype (in order of appearance), one call per group
                groups: dict[Any, tuple[list[Tensor], list[Tensor]]] = {}
                for p_averaged, p_model in zip(self_param_detached, model_param_detached):
                    lists = groups.setdefault((str(p_averaged.device), p_averaged.dtype), ([], []))
                    lists[0].append(p_averaged)
                    lists[1].append(p_model)
                for self_params, model_params in groups.values():
                    if self.multi_avg_fn is not None:
                        self.multi_avg_fn(self_params, model_params, self.n_averaged)
                    else:  # PyTorch's default on the CPU: the one-tensor SWA average
                        avg_fn = get_swa_avg_fn()
                        for p_averaged, p_model in zip(self_params, model_params):
                            p_averaged.copy_(avg_fn(p_averaged, p_model, self.n_averaged))
            else:
                for p_averaged, p_model in zip(self_param_detached, model_param_detached):
                    p_averaged.detach().copy_(self.avg_fn(p_averaged.detach(), p_model, self.n_averaged))

        if not self.use_buffers:
            # the buffers are not averaged: keep them in sync with the source model
            for b_swa, b_model in zip(self.module.buffers(), model.buffers()):
                b_swa.detach().copy_(b_model.detach().to(b_swa.device))
        self.n_averaged.add_(1)


def update_bn(loader: Iterable[Any], model: Module, device: Any = None) -> None:
    """Recompute the running statistics of ``model``'s BatchNorm layers by one pass over ``loader``.

    Each batch is a tensor or a list/tuple whose first element is the input. The
    statistics are reset, then accumulated as cumulative averages (momentum None)
    in training mode; the layers' momentum and the model's mode are restored.
    """
    with no_grad():
        momenta = {}
        for module in model.modules():
            if isinstance(module, _BatchNorm):  # BatchNorm layers only, as PyTorch (not InstanceNorm)
                module.reset_running_stats()
                momenta[module] = module.momentum
        if not momenta:
            return
        was_training = model.training
        model.train()
        for module in momenta:
            module.momentum = None
        for input in loader:
            if isinstance(input, (list, tuple)):
                input = input[0]
            if device is not None:
                input = input.to(device)
            model(input)
        for bn_module in momenta:
            bn_module.momentum = momenta[bn_module]
        model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each param group's lr to ``swa_lr`` over ``anneal_epochs`` epochs (``"cos"`` or ``"linear"``),
    then keep it there; meant for the SWA phase of training, with ``AveragedModel``.

    Args:
        optimizer: the optimizer whose learning rates are scheduled.
        swa_lr: the final lr, for all groups or one per group.
        anneal_epochs: the number of annealing epochs (default: 10).
        anneal_strategy: ``"cos"`` (default) or ``"linear"``.
        last_epoch: the index of the last epoch (default: -1).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        swa_lr: float | list[float],
        anneal_epochs: int = 10,
        anneal_strategy: str = "cos",
        last_epoch: int = -1,
    ) -> None:
        swa_lrs = _format_param("swa_lr", optimizer, swa_lr)
        for lr, group in zip(swa_lrs, optimizer.param_groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ["cos", "linear"]:
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t: float) -> float:
        return t

    @staticmethod
    def _cosine_anneal(t: float) -> float:
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr: float, swa_lr: float, alpha: float) -> float:
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self) -> list[float | Tensor]:
        """Compute the learning rates of the current epoch, one per param group."""
        _warn_get_lr_called_within_step(self)
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_t = max(0, min(1, (step - 1) / max(1, self.anneal_epochs)))
        prev_alpha = self.anneal_func(prev_t)
        prev_lrs = [
            self._get_initial_lr(group["lr"], group["swa_lr"], prev_alpha) for group in self.optimizer.param_groups
        ]
        t = max(0, min(1, step / max(1, self.anneal_epochs)))
        alpha = self.anneal_func(t)
        return [group["swa_lr"] * alpha + lr * (1 - alpha) for group, lr in zip(self.optimizer.param_groups, prev_lrs)]

    def _set_anneal_func(self, anneal_strategy: str) -> None:
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal

    def state_dict(self) -> dict[str, Any]:
        """Return the scheduler's state: every attribute except the optimizer and the annealing function."""
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load the scheduler's state from ``state_dict`` (as returned by ``state_dict()``)."""
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
