"""ember.distributed.algorithms._checkpoint.checkpoint_wrapper, as PyTorch's: modules wrapped so that their
forward runs under activation checkpointing (``ember.utils.checkpoint``) or with its saved tensors kept on
the CPU (``save_on_cpu``). A wrapper is invisible to names: its parameters, its ``state_dict`` keys and the
keys it loads are the wrapped module's, without the ``_checkpoint_wrapped_module.`` step, so checkpoints move
between wrapped and unwrapped models (spikingjelly's memopt and FSDP-style trainers wrap so)."""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Iterator
from typing import Any

from ....autograd.graph import save_on_cpu
from ....nn.modules.module import Module
from ....utils.checkpoint import checkpoint

__all__ = ["ActivationWrapper", "CheckpointImpl", "CheckpointWrapper", "OffloadWrapper",
           "apply_activation_checkpointing", "checkpoint_wrapper", "offload_wrapper"]  # fmt: skip

_CHECKPOINT_WRAPPED_MODULE = "_checkpoint_wrapped_module"
_CHECKPOINT_PREFIX = _CHECKPOINT_WRAPPED_MODULE + "."


class CheckpointImpl(enum.Enum):
    REENTRANT = enum.auto()
    NO_REENTRANT = enum.auto()


class ActivationWrapper(Module):
    """The wrappers' base: holds the module, answers for its attributes and items, and names its parameters
    and state without the wrapper's step."""

    def __init__(self, mod: Module) -> None:
        super().__init__()
        self._checkpoint_wrapped_module = mod
        self._register_state_dict_hook(_strip_wrapper_prefix)
        self._register_load_state_dict_pre_hook(_add_wrapper_prefix, with_module=True)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError("Subclasses should implement forward().")

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self._checkpoint_wrapped_module, name)

    def __getitem__(self, key: int) -> Any:
        return self._checkpoint_wrapped_module.__getitem__(key)  # type: ignore[operator]

    def named_parameters(self, *args: Any, **kwargs: Any) -> Iterator[tuple[str, Any]]:
        for name, parameter in super().named_parameters(*args, **kwargs):
            yield name.replace(_CHECKPOINT_PREFIX, ""), parameter


def _strip_wrapper_prefix(module: Module, state_dict: dict[str, Any], prefix: str, *args: Any) -> dict[str, Any]:
    for key in list(state_dict):
        if key.startswith(prefix + _CHECKPOINT_PREFIX):
            state_dict[prefix + key[len(prefix + _CHECKPOINT_PREFIX) :]] = state_dict.pop(key)
    return state_dict


def _add_wrapper_prefix(module: Module, state_dict: dict[str, Any], prefix: str, *args: Any) -> None:
    for key in list(state_dict):
        if key.startswith(prefix) and not key.startswith(prefix + _CHECKPOINT_PREFIX):
            state_dict[prefix + _CHECKPOINT_PREFIX + key[len(prefix) :]] = state_dict.pop(key)


class OffloadWrapper(ActivationWrapper):
    """Runs the module with the tensors its backward needs kept on the CPU (``save_on_cpu``)."""

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        with save_on_cpu(pin_memory=True):
            return self._checkpoint_wrapped_module(*args, **kwargs)


class CheckpointWrapper(ActivationWrapper):
    """Runs the module under ``checkpoint_fn`` (by default ``ember.utils.checkpoint``, reentrant or not as
    ``checkpoint_impl`` says, with ``checkpoint_fn_kwargs``)."""

    def __init__(self, mod: Module, checkpoint_impl: CheckpointImpl = CheckpointImpl.NO_REENTRANT,
                 checkpoint_fn: Callable[..., Any] | None = None, **checkpoint_fn_kwargs: Any) -> None:  # fmt: skip
        super().__init__(mod)
        self.checkpoint_impl = checkpoint_impl
        if checkpoint_fn is None:
            reentrant = checkpoint_impl == CheckpointImpl.REENTRANT
            self.checkpoint_fn = functools.partial(checkpoint, use_reentrant=reentrant, **checkpoint_fn_kwargs)
        else:
            self.checkpoint_fn = functools.partial(checkpoint_fn, **checkpoint_fn_kwargs)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.checkpoint_fn(self._checkpoint_wrapped_module, *args, **kwargs)


def offload_wrapper(module: Module) -> Module:
    """The module wrapped in an OffloadWrapper."""
    return OffloadWrapper(module)


def checkpoint_wrapper(module: Module, checkpoint_impl: CheckpointImpl = CheckpointImpl.NO_REENTRANT,
                       checkpoint_fn: Callable[..., Any] | None = None,
                       **checkpoint_fn_kwargs: Any) -> Module:  # fmt: skip
    """The module wrapped in a CheckpointWrapper: its forward's activations are recomputed in backward."""
    return CheckpointWrapper(module, checkpoint_impl, checkpoint_fn, **checkpoint_fn_kwargs)


def apply_activation_checkpointing(model: Module,
                                   checkpoint_wrapper_fn: Callable[[Module], Module] = checkpoint_wrapper,
                                   check_fn: Callable[[Module], bool] = lambda _: True,
                                   auto_wrap_policy: Callable[..., bool] | None = None) -> None:  # fmt: skip
    """Wraps, in place, each submodule of ``model`` that ``check_fn`` accepts (or that ``auto_wrap_policy``, in
    FSDP's functional form ``policy(module=, recurse=False, nonwrapped_numel=)``, asks to wrap) with
    ``checkpoint_wrapper_fn``, children before their parents, as PyTorch's; ``model`` itself stays unwrapped. A
    policy is also asked with ``recurse=True`` whether to look inside a module at all."""

    def asks(module: Module, recurse: bool) -> bool:  # the policy: look inside module (recurse), wrap it
        if auto_wrap_policy is None:
            return recurse or bool(check_fn(module))
        numel = sum(p.numel() for p in module.parameters())
        return bool(auto_wrap_policy(module=module, recurse=recurse, nonwrapped_numel=numel))

    def wrap_children(parent: Module) -> None:
        for name, child in list(parent.named_children()):
            if asks(child, recurse=True):
                wrap_children(child)
            if asks(child, recurse=False):
                setattr(parent, name, checkpoint_wrapper_fn(child))

    if asks(model, recurse=True):
        wrap_children(model)
