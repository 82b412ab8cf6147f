"""The ``functorch`` package (PyTorch ships it beside ``torch``), which ``ember.as_torch`` maps to this module:
the transforms, now ``ember.func``'s, and functorch's older functional-module API, ``make_functional`` and
``combine_state_for_ensemble``, built on ``ember.func.functional_call``."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from . import nn
from .func import (
    functional_call,
    functionalize,
    grad,
    grad_and_value,
    hessian,
    jacfwd,
    jacrev,
    jvp,
    stack_module_state,
    vjp,
    vmap,
)

__all__ = [
    "FunctionalModule",
    "FunctionalModuleWithBuffers",
    "combine_state_for_ensemble",
    "functionalize",
    "grad",
    "grad_and_value",
    "hessian",
    "jacfwd",
    "jacrev",
    "jvp",
    "make_functional",
    "make_functional_with_buffers",
    "vjp",
    "vmap",
]


def _state(
    model: Any, buffers: bool, disable_autograd_tracking: bool
) -> tuple[Any, list[str], tuple, list[str], tuple]:
    """A copy of model (it keeps the structure; its tensors are replaced on every call) and its tensors."""
    stateless = copy.deepcopy(model)
    named = list(stateless.named_parameters())
    params = tuple(p.detach() if disable_autograd_tracking else p for _, p in named)
    named_buffers = list(stateless.named_buffers()) if buffers else []
    return stateless, [n for n, _ in named], params, [n for n, _ in named_buffers], tuple(b for _, b in named_buffers)


class FunctionalModule(nn.Module):
    """``fmodel(params, *args)``: the model run with the given parameters (in ``named_parameters`` order)."""

    def __init__(self, stateless_model: Any, param_names: Sequence[str], names_map: Any = None) -> None:
        super().__init__()
        self.stateless_model = stateless_model
        self.param_names = tuple(param_names)
        self.names_map = names_map or {}

    @staticmethod
    def _create_from(model: Any, disable_autograd_tracking: bool = False) -> tuple[FunctionalModule, tuple]:
        stateless, names, params, _, _ = _state(model, False, disable_autograd_tracking)
        return FunctionalModule(stateless, names), params

    def forward(self, params: Sequence[Any], *args: Any, **kwargs: Any) -> Any:
        return functional_call(self.stateless_model, dict(zip(self.param_names, params)), args, kwargs)


class FunctionalModuleWithBuffers(nn.Module):
    """``fmodel(params, buffers, *args)``: the model run with the given parameters and buffers."""

    def __init__(
        self, stateless_model: Any, param_names: Sequence[str], buffer_names: Sequence[str], *maps: Any
    ) -> None:
        super().__init__()
        self.stateless_model = stateless_model
        self.param_names = tuple(param_names)
        self.buffer_names = tuple(buffer_names)

    @staticmethod
    def _create_from(
        model: Any, disable_autograd_tracking: bool = False
    ) -> tuple[FunctionalModuleWithBuffers, tuple, tuple]:
        stateless, names, params, buffer_names, buffers = _state(model, True, disable_autograd_tracking)
        return FunctionalModuleWithBuffers(stateless, names, buffer_names), params, buffers

    def forward(self, params: Sequence[Any], buffers: Sequence[Any], *args: Any, **kwargs: Any) -> Any:
        tensors = {**dict(zip(self.param_names, params)), **dict(zip(self.buffer_names, buffers))}
        return functional_call(self.stateless_model, tensors, args, kwargs)


def make_functional(model: Any, disable_autograd_tracking: bool = False) -> tuple[FunctionalModule, tuple]:
    """(fmodel, params): functorch's functional form of a module without buffers."""
    if len(list(model.buffers())) > 0:
        raise RuntimeError(
            "make_functional(model): `model` has buffers. Please use make_functional_with_buffers(model) instead."
        )
    return FunctionalModule._create_from(model, disable_autograd_tracking)


def make_functional_with_buffers(
    model: Any, disable_autograd_tracking: bool = False
) -> tuple[FunctionalModuleWithBuffers, tuple, tuple]:
    """(fmodel, params, buffers): functorch's functional form of a module."""
    return FunctionalModuleWithBuffers._create_from(model, disable_autograd_tracking)


def combine_state_for_ensemble(models: Sequence[Any]) -> tuple[FunctionalModuleWithBuffers, tuple, tuple]:
    """(fmodel, params, buffers) of models of one kind, each tensor stacked along a new first dim (for vmap)."""
    models = list(models)
    if not models:
        raise RuntimeError("combine_state_for_ensemble: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or all(not m.training for m in models)):
        raise RuntimeError("combine_state_for_ensemble: Expected all models to have the same training/eval mode.")
    if any(type(m) is not type(models[0]) for m in models):
        raise RuntimeError("combine_state_for_ensemble: Expected all models to be of the same class.")
    params, buffers = stack_module_state(models)
    fmodel, _, _ = make_functional_with_buffers(models[0])
    return fmodel, tuple(params[n] for n in fmodel.param_names), tuple(buffers[n] for n in fmodel.buffer_names)
