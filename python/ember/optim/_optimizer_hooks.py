"""The hooks of ``torch.optim.Optimizer``: step pre- and post-hooks (per optimizer, and global ones registered with
``register_optimizer_step_pre_hook``/``_post_hook``), and state_dict / load_state_dict pre- and post-hooks.

As in PyTorch, an optimizer's ``__init__`` patches its class's ``step`` once (``_patch_step_function``) with
``profile_hook_step``, which runs the global then the optimizer's pre-hooks, the step, then the optimizer's then the
global post-hooks, inside a profiler range named ``Optimizer.step#SGD.step``. So the hooks run once per call of the
outermost ``step``, for PyTorch's optimizers, ember's and any subclass a library writes."""

from __future__ import annotations

import contextlib
import functools
from collections import OrderedDict
from itertools import chain
from typing import Any, Callable

from .. import _C
from ..autograd.profiler import record_function
from ..nn.modules.module import RemovableHandle
from ..utils._foreach_utils import _group_tensors_by_device_and_dtype

__all__ = ["register_optimizer_step_post_hook", "register_optimizer_step_pre_hook"]

_global_optimizer_pre_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()
_global_optimizer_post_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()

_NO_RANGE = contextlib.nullcontext()  # the step's profiler range when no profiler runs

_HOOK_DICTS = (
    "_optimizer_step_pre_hooks",
    "_optimizer_step_post_hooks",
    "_optimizer_state_dict_pre_hooks",
    "_optimizer_state_dict_post_hooks",
    "_optimizer_load_state_dict_pre_hooks",
    "_optimizer_load_state_dict_post_hooks",
)


def _register(hooks: OrderedDict[int, Callable[..., Any]], hook: Callable[..., Any], prepend: bool = False) -> Any:
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def register_optimizer_step_pre_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """A step pre-hook of every optimizer: ``hook(optimizer, args, kwargs)`` before each step, returning None or
    ``(new_args, new_kwargs)``; runs before the optimizer's own pre-hooks."""
    return _register(_global_optimizer_pre_hooks, hook)


def register_optimizer_step_post_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """A step post-hook of every optimizer: ``hook(optimizer, args, kwargs)`` after each step; runs after the
    optimizer's own post-hooks."""
    return _register(_global_optimizer_post_hooks, hook)


class OptimizerHooks:
    """The hook half of ``Optimizer`` (its base class here; one class in PyTorch)."""

    OptimizerPreHook = Callable[..., Any]  # hook(optimizer, args, kwargs) -> None | (args, kwargs)
    OptimizerPostHook = Callable[..., Any]  # hook(optimizer, args, kwargs) -> None

    def _init_hooks(self) -> None:
        """The hook dicts an optimizer starts with (or gets back after unpickling), and its class's step patched."""
        for name in _HOOK_DICTS:
            if name not in self.__dict__:
                setattr(self, name, OrderedDict())
        self._patch_step_function()

    @staticmethod
    def profile_hook_step(func: Callable[..., Any]) -> Callable[..., Any]:
        """``func`` (a step) wrapped to run the step hooks around it, inside the step's profiler range."""

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            self = args[0]
            with record_function(f"Optimizer.step#{type(self).__name__}.step") if _C._profiler_enabled() else _NO_RANGE:
                for pre_hook in chain(_global_optimizer_pre_hooks.values(), self._optimizer_step_pre_hooks.values()):
                    result = pre_hook(self, args, kwargs)
                    if result is not None:
                        if not (isinstance(result, tuple) and len(result) == 2):
                            raise RuntimeError(
                                f"{func} must return None or a tuple of (new_args, new_kwargs), but got {result}."
                            )
                        args, kwargs = result
                out = func(*args, **kwargs)
                self._optimizer_step_code()
                for post_hook in chain(self._optimizer_step_post_hooks.values(), _global_optimizer_post_hooks.values()):
                    post_hook(self, args, kwargs)
                return out

        return wrapper

    def _patch_step_function(self) -> None:
        """Wraps the class's step with profile_hook_step, once per class (PyTorch's name; libraries call it)."""
        self._zero_grad_profile_name = f"Optimizer.zero_grad#{type(self).__name__}.zero_grad"
        if not getattr(type(self).step, "hooked", None):
            type(self).step = self.profile_hook_step(type(self).step)
            type(self).step.hooked = True

    def _optimizer_step_code(self) -> None:
        """Runs after each step: PyTorch's entry point for its profiler's Python tracer; nothing here."""

    @staticmethod
    def _group_tensors_by_device_and_dtype(tensorlistlist: list, with_indices: bool = False) -> dict:
        """``torch.utils._foreach_utils._group_tensors_by_device_and_dtype``, as foreach steps start."""
        return _group_tensors_by_device_and_dtype(tensorlistlist, with_indices)

    def register_step_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """``hook(optimizer, args, kwargs)`` runs before each step and may return ``(new_args, new_kwargs)``."""
        return _register(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """``hook(optimizer, args, kwargs)`` runs after each step."""
        return _register(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook: Callable[..., Any], prepend: bool = False) -> RemovableHandle:
        """``hook(optimizer)`` runs before ``state_dict()`` builds the dict (first of all if prepend)."""
        return _register(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook: Callable[..., Any], prepend: bool = False) -> RemovableHandle:
        """``hook(optimizer, state_dict)`` runs on the dict ``state_dict()`` returns, and may return a new one."""
        return _register(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook: Callable[..., Any], prepend: bool = False) -> RemovableHandle:
        """``hook(optimizer, state_dict)`` runs before ``load_state_dict`` loads, and may return the dict to load."""
        return _register(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook: Callable[..., Any], prepend: bool = False) -> RemovableHandle:
        """``hook(optimizer)`` runs after ``load_state_dict`` has loaded."""
        return _register(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    def _state_dict_with_hooks(self, build: Callable[[], dict]) -> dict:
        for pre_hook in self._optimizer_state_dict_pre_hooks.values():
            pre_hook(self)
        state_dict = build()
        for post_hook in self._optimizer_state_dict_post_hooks.values():
            result = post_hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def _load_state_dict_with_hooks(self, state_dict: dict, load: Callable[[dict], None]) -> None:
        state_dict = state_dict.copy()  # shallow, as PyTorch: a pre-hook may change keys without touching the caller's
        for pre_hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = pre_hook(self, state_dict)
            if result is not None:
                state_dict = result
        load(state_dict)
        for post_hook in self._optimizer_load_state_dict_post_hooks.values():
            post_hook(self)
