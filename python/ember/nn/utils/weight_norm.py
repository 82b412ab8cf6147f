"""Weight normalisation with a forward pre-hook, as torch.nn.utils.weight_norm (deprecated there in favour of
nn.utils.parametrizations.weight_norm, which ember has too)."""

from __future__ import annotations

import warnings
from typing import Any, TypeVar

from ..._C import Tensor
from ..modules.module import Module
from ..parameter import Parameter

__all__ = ["WeightNorm", "weight_norm", "remove_weight_norm"]


def _norm_except_dim(v: Tensor, pow: float, dim: int) -> Tensor:
    """The pow-norm of v over every dim but dim, kept as size-1 dims (torch.norm_except_dim); dim=-1 means the
    norm of the whole tensor, a 0-d tensor."""
    if dim == -1:
        return v.norm(pow)
    dim %= v.dim()
    others = tuple(d for d in range(v.dim()) if d != dim)
    return v.norm(pow, others, keepdim=True) if others else v.abs()


def _weight_norm(v: Tensor, g: Tensor, dim: int) -> Tensor:
    """v * (g / ||v||), the norm over every dim but dim (torch._weight_norm)."""
    return v * (g / _norm_except_dim(v, 2, dim))


class WeightNorm:
    """The forward pre-hook of weight_norm: recomputes module.<name> from <name>_g (magnitude) and <name>_v
    (direction) before each forward."""

    def __init__(self, name: str, dim: int) -> None:
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module: Module) -> Any:
        """<name>_v * <name>_g / ||<name>_v||."""
        return _weight_norm(getattr(module, self.name + "_v"), getattr(module, self.name + "_g"), self.dim)

    @staticmethod
    def apply(module: Module, name: str, dim: int) -> WeightNorm:
        """Replaces parameter <name> of module by <name>_g and <name>_v and registers the hook."""
        warnings.warn(
            "`ember.nn.utils.weight_norm` is deprecated in favor of `ember.nn.utils.parametrizations.weight_norm`.",
            FutureWarning,
            stacklevel=3,
        )
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        del module._parameters[name]
        module.register_parameter(name + "_g", Parameter(_norm_except_dim(weight, 2, fn.dim).data))
        module.register_parameter(name + "_v", Parameter(weight.data))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module: Module) -> None:
        """Makes <name> a parameter again, with the current normalised value."""
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.data))

    def __call__(self, module: Module, inputs: Any) -> None:
        setattr(module, self.name, self.compute_weight(module))


T_module = TypeVar("T_module", bound=Module)


def weight_norm(module: T_module, name: str = "weight", dim: int | None = 0) -> T_module:
    """Reparametrises module.<name> as g * v / ||v||: parameters <name>_g (the norms over every dim but dim,
    initially those of the weight; dim=None means one norm for the whole tensor) and <name>_v (initially the
    weight), recombined by a forward pre-hook. Returns module."""
    WeightNorm.apply(module, name, dim)
    return module


def _remove_hook(module: Module, kind: type, name: str, what: str) -> None:
    """Undoes the forward pre-hook of type kind for tensor name (weight_norm's or spectral_norm's)."""
    for k, hook in module._forward_pre_hooks.items():
        if isinstance(hook, kind) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            return
    raise ValueError(f"{what} of '{name}' not found in {module}")


def remove_weight_norm(module: T_module, name: str = "weight") -> T_module:
    """Undoes weight_norm: <name> becomes a parameter again, with its current value. Returns module."""
    _remove_hook(module, WeightNorm, name, "weight_norm")
    return module
