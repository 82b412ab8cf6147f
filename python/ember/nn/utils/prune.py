"""ember.nn.utils.prune, as ``torch.nn.utils.prune``: pruning a module's parameter by a mask.

Pruning ``module.name`` moves the parameter to ``module.name_orig``, keeps the mask in the buffer
``module.name_mask``, and makes ``module.name`` the product ``name_orig * name_mask``, recomputed by a
forward pre-hook before each forward; pruning again combines the masks (a ``PruningContainer``), and
``remove`` makes the pruned tensor the parameter again."""

from __future__ import annotations

import numbers
from abc import ABC, abstractmethod
from typing import Any, Iterable

from ..._C import Tensor
from ..._creation import ones_like, zeros_like

__all__ = [
    "BasePruningMethod", "CustomFromMask", "Identity", "L1Unstructured", "LnStructured", "PruningContainer",
    "RandomStructured", "RandomUnstructured", "custom_from_mask", "global_unstructured", "identity", "is_pruned",
    "l1_unstructured", "ln_structured", "random_structured", "random_unstructured", "remove",
]  # fmt: skip


class BasePruningMethod(ABC):
    """A way to compute a mask; ``apply(module, name, ...)`` prunes ``module.name`` with it."""

    _tensor_name: str
    PRUNING_TYPE = "unstructured"

    def __call__(self, module: Any, inputs: Any) -> None:
        setattr(module, self._tensor_name, self.apply_mask(module))

    @abstractmethod
    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """The new mask of ``t``, given the mask already applied."""

    def apply_mask(self, module: Any) -> Tensor:
        """``name_orig * name_mask``: the pruned tensor."""
        orig = getattr(module, self._tensor_name + "_orig")
        return getattr(module, self._tensor_name + "_mask").to(dtype=orig.dtype) * orig

    @classmethod
    def apply(cls, module: Any, name: str, *args: Any, importance_scores: Tensor | None = None, **kwargs: Any):
        """Prunes ``module.name`` with a method of this class made from ``args``/``kwargs``."""
        old = None
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
                old = hook
        method = cls(*args, **kwargs)
        method._tensor_name = name
        if old is not None:  # pruned before: the masks combine
            container = old if isinstance(old, PruningContainer) else PruningContainer(old)
            container.add_pruning_method(method)
            method = container
            _remove_hook(module, old)
        orig = getattr(module, name)
        if importance_scores is not None and importance_scores.shape != orig.shape:
            raise AssertionError(f"importance_scores should have the same shape as parameter {name} of {module}")
        if old is None:  # the parameter moves to name_orig
            module.register_parameter(name + "_orig", orig)
            del module._parameters[name]
            default_mask = ones_like(orig)
        else:
            default_mask = getattr(module, name + "_mask").detach().clone()
        orig = getattr(module, name + "_orig")
        scores = importance_scores if importance_scores is not None else orig
        with _no_grad():
            mask = method.compute_mask(scores.detach(), default_mask=default_mask)
        module.register_buffer(name + "_mask", mask)
        setattr(module, name, method.apply_mask(module))
        module.register_forward_pre_hook(method)
        return method

    def prune(self, t: Tensor, default_mask: Tensor | None = None, importance_scores: Tensor | None = None) -> Tensor:
        """``t`` pruned by this method (no module involved)."""
        scores = importance_scores if importance_scores is not None else t
        mask = self.compute_mask(scores, default_mask=default_mask if default_mask is not None else ones_like(t))
        return t * mask

    def remove(self, module: Any) -> None:
        """Makes the pruned tensor the parameter ``name`` again (dropping name_orig and name_mask)."""
        name = self._tensor_name
        if not hasattr(module, name + "_orig"):
            raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning can be removed")
        weight = self.apply_mask(module)
        if hasattr(module, name):
            delattr(module, name)
        orig = module._parameters[name + "_orig"]
        with _no_grad():
            orig.copy_(weight)
        del module._parameters[name + "_orig"]
        del module._buffers[name + "_mask"]
        setattr(module, name, orig)


def _no_grad() -> Any:
    from ...grad_mode import no_grad

    return no_grad()


def _remove_hook(module: Any, method: BasePruningMethod) -> None:
    for key, hook in list(module._forward_pre_hooks.items()):
        if hook is method:
            del module._forward_pre_hooks[key]


class PruningContainer(BasePruningMethod):
    """Several pruning methods applied in turn to one tensor: each prunes what the earlier ones left."""

    def __init__(self, *args: BasePruningMethod) -> None:
        self._pruning_methods: tuple[BasePruningMethod, ...] = ()
        for method in args[0] if len(args) == 1 and not isinstance(args[0], BasePruningMethod) else args:
            self.add_pruning_method(method)

    def add_pruning_method(self, method: BasePruningMethod) -> None:
        if not isinstance(method, BasePruningMethod) and method is not None:
            raise TypeError(f"{type(method)} is not a BasePruningMethod subclass")
        if method is not None and self._pruning_methods and self._tensor_name != method._tensor_name:
            raise ValueError(
                f"Can only add pruning methods acting on the parameter named '{self._tensor_name}' to "
                f"PruningContainer. Found '{method._tensor_name}'"
            )
        self._tensor_name = method._tensor_name
        self._pruning_methods += (method,)

    def __len__(self) -> int:
        return len(self._pruning_methods)

    def __iter__(self) -> Any:
        return iter(self._pruning_methods)

    def __getitem__(self, idx: int) -> BasePruningMethod:
        return self._pruning_methods[idx]

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """The last method prunes among the entries the mask so far keeps (structured: whole slices)."""
        method = self._pruning_methods[-1]
        if method.PRUNING_TYPE == "unstructured":
            kept = default_mask == 1
            new_partial = method.compute_mask(t[kept], default_mask=default_mask[kept])
            new_mask = default_mask.clone().to(dtype=new_partial.dtype)
            new_mask[kept] = new_partial
            return new_mask
        if method.PRUNING_TYPE == "structured":
            return default_mask * method.compute_mask(t, default_mask=default_mask)
        return default_mask * method.compute_mask(t, default_mask=default_mask)


class Identity(BasePruningMethod):
    """Prunes nothing: the mask is all ones."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        return default_mask

    @classmethod
    def apply(cls, module: Any, name: str) -> Identity:  # type: ignore[override]
        return super().apply(module, name)


def _count(amount: float | int, n: int) -> int:
    """How many of ``n`` entries ``amount`` prunes: a fraction in [0, 1] or a count up to n."""
    if isinstance(amount, numbers.Integral) and not isinstance(amount, bool):
        if amount < 0:
            raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or a non-negative integer")
        if amount > n:
            raise ValueError(f"amount={amount} should be smaller than the number of parameters to prune={n}")
        return int(amount)
    if not 0.0 <= amount <= 1.0:
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or a non-negative integer")
    return round(amount * n)


class _PrunesLowestScores(BasePruningMethod):
    """Unstructured pruning of the ``amount`` entries of the lowest ``_scores``."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount: float | int) -> None:
        self.amount = amount

    def _scores(self, t: Tensor) -> Tensor:
        raise NotImplementedError

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        k = _count(self.amount, t.numel())
        mask = default_mask.clone()
        if k:
            mask.view(-1)[self._scores(t).reshape(-1).topk(k, largest=False).indices] = 0
        return mask


class RandomUnstructured(_PrunesLowestScores):
    """Prunes ``amount`` of the entries, chosen at random."""

    def _scores(self, t: Tensor) -> Tensor:
        from ..._creation import rand

        return rand(*t.shape, device=t.device)

    @classmethod
    def apply(cls, module: Any, name: str, amount: float | int) -> RandomUnstructured:  # type: ignore[override]
        return super().apply(module, name, amount=amount)


class L1Unstructured(_PrunesLowestScores):
    """Prunes ``amount`` of the entries, those of the smallest absolute value."""

    def _scores(self, t: Tensor) -> Tensor:
        return t.abs()

    @classmethod
    def apply(cls, module: Any, name: str, amount: float | int, importance_scores: Tensor | None = None):  # type: ignore[override]
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


class _PrunesLowestSlices(BasePruningMethod):
    """Structured pruning of the ``amount`` slices along ``dim`` of the lowest ``_slice_scores``."""

    PRUNING_TYPE = "structured"
    dim: int

    def _slice_scores(self, t: Tensor) -> Tensor:
        raise NotImplementedError

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        if t.dim() < 1:
            raise ValueError(
                "Structured pruning can only be applied to multidimensional tensors. Found tensor of 0 dims"
            )
        size = t.shape[self.dim]
        keep = self._slice_scores(t).topk(size - _count(self.amount, size)).indices
        mask = zeros_like(default_mask)
        index = [slice(None)] * t.dim()
        index[self.dim] = keep
        mask[tuple(index)] = 1
        return mask * default_mask


class RandomStructured(_PrunesLowestSlices):
    """Prunes ``amount`` of the slices along ``dim``, chosen at random."""

    def __init__(self, amount: float | int, dim: int = -1) -> None:
        self.amount, self.dim = amount, dim

    def _slice_scores(self, t: Tensor) -> Tensor:
        from ..._creation import rand

        return rand(t.shape[self.dim], device=t.device)

    @classmethod
    def apply(cls, module: Any, name: str, amount: float | int, dim: int = -1) -> RandomStructured:  # type: ignore[override]
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(_PrunesLowestSlices):
    """Prunes ``amount`` of the slices along ``dim``, those of the smallest L``n`` norm."""

    def __init__(self, amount: float | int, n: Any, dim: int = -1) -> None:
        self.amount, self.n, self.dim = amount, n, dim

    def _slice_scores(self, t: Tensor) -> Tensor:
        from ... import linalg

        dims = [d for d in range(t.dim()) if d != self.dim % t.dim()]
        return linalg.vector_norm(t, self.n, dim=dims) if dims else t.abs()

    @classmethod
    def apply(cls, module: Any, name: str, amount: float | int, n: Any, dim: int, importance_scores: Any = None):  # type: ignore[override]
        return super().apply(module, name, amount=amount, n=n, dim=dim, importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    """Prunes by a given mask."""

    PRUNING_TYPE = "global"

    def __init__(self, mask: Tensor) -> None:
        self.mask = mask

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        return default_mask * self.mask.to(dtype=default_mask.dtype)

    @classmethod
    def apply(cls, module: Any, name: str, mask: Tensor) -> CustomFromMask:  # type: ignore[override]
        return super().apply(module, name, mask=mask)


def identity(module: Any, name: str) -> Any:
    Identity.apply(module, name)
    return module


def random_unstructured(module: Any, name: str, amount: float | int) -> Any:
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module: Any, name: str, amount: float | int, importance_scores: Tensor | None = None) -> Any:
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module: Any, name: str, amount: float | int, dim: int) -> Any:
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module: Any, name: str, amount: float | int, n: Any, dim: int,
                  importance_scores: Tensor | None = None) -> Any:  # fmt: skip
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def custom_from_mask(module: Any, name: str, mask: Tensor) -> Any:
    CustomFromMask.apply(module, name, mask)
    return module


def global_unstructured(parameters: Iterable[tuple[Any, str]], pruning_method: type, importance_scores: Any = None,
                        **kwargs: Any) -> None:  # fmt: skip
    """Prunes the given ``(module, name)`` parameters together: ``pruning_method`` (an unstructured one)
    computes one mask over all their entries."""
    from ... import cat

    parameters = list(parameters)
    importance_scores = importance_scores or {}
    scores = cat([importance_scores.get((m, n), getattr(m, n)).reshape(-1) for m, n in parameters])
    masks = cat([getattr(m, n + "_mask", ones_like(getattr(m, n))).reshape(-1) for m, n in parameters])
    container = PruningContainer()
    container._tensor_name = "temp"
    method = pruning_method(**kwargs)
    method._tensor_name = "temp"
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError(f'Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. Found method '
                        f"{pruning_method} of type {method.PRUNING_TYPE}")  # fmt: skip
    container.add_pruning_method(method)
    final = container.compute_mask(scores, masks)
    start = 0
    for module, name in parameters:
        n = getattr(module, name).numel()
        custom_from_mask(module, name, final[start : start + n].view_as(getattr(module, name)))
        start += n


def remove(module: Any, name: str) -> Any:
    """Makes ``module.name``'s pruned tensor its parameter again."""
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning can be removed")


def is_pruned(module: Any) -> bool:
    """Whether any submodule of ``module`` has a pruning hook."""
    return any(isinstance(hook, BasePruningMethod) for m in module.modules() for hook in m._forward_pre_hooks.values())
