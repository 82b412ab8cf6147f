"""``torch.nn.utils._named_member_accessor``: get, set, swap and delete a module's tensors by dotted name (what
functional_call does for a call; tensordict moves parameters in and out of modules with it)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..._C import Tensor

__all__ = ["NamedMemberAccessor", "set_tensor", "swap_submodule", "swap_tensor"]

_MISSING = object()  # "no tensor": swapping it in deletes the attribute


def _check_name(name: str) -> None:
    if "." in name:
        raise KeyError('tensor name can\'t contain "."')
    if name == "":
        raise KeyError('tensor name can\'t be empty string ""')


def set_tensor(module: Any, name: str, tensor: Tensor) -> None:
    """module.name = tensor, as a parameter or buffer where the name is one."""
    swap_tensor(module, name, tensor, allow_missing=True)


def swap_tensor(module: Any, name: str, tensor: Any, allow_missing: bool = False) -> Any:
    """Puts tensor (nothing, for _MISSING) at module.name and returns what was there."""
    from ...func import _MISSING as functional_missing
    from ...func import _swap_tensor

    _check_name(name)
    if tensor is not _MISSING and not isinstance(tensor, Tensor):
        raise TypeError(f"{tensor} is not an instance of torch.Tensor")
    if not allow_missing and not hasattr(module, name):
        raise AttributeError(f"{module._get_name()} has no attribute `{name}`")
    orig = _swap_tensor(module, name, functional_missing if tensor is _MISSING else tensor)
    return _MISSING if orig is functional_missing else orig


def swap_submodule(module: Any, name: str, submodule: Any) -> Any:
    """Puts submodule at module.name and returns the module that was there."""
    from .. import Module

    if not isinstance(submodule, Module):
        raise TypeError(f"{submodule} is not an instance of torch.nn.Module")
    _check_name(name)
    if name not in module._modules:
        raise KeyError(f"submodule {name} does not exist")
    orig = module._modules[name]
    if not isinstance(orig, Module):
        raise TypeError(f"{name} attribute is not an instance of torch.nn.Module")
    module._modules[name] = submodule
    return orig


class NamedMemberAccessor:
    """A module's tensors by dotted name ("layer.0.weight"), its submodules looked up once."""

    def __init__(self, module: Any) -> None:
        self.module = module
        self.memo: dict[str, Any] = {}

    def get_submodule(self, name: str) -> Any:
        """The submodule at a dotted path ("" is the module itself)."""
        if not name:
            return self.module
        if name not in self.memo:
            from ...func import _submodule

            self.memo[name] = _submodule(self.module, name)
        return self.memo[name]

    def _split(self, name: str) -> tuple[Any, str]:
        prefix, _, attr = name.rpartition(".")
        return self.get_submodule(prefix), attr

    def swap_submodule(self, path: str, value: Any) -> Any:
        module, attr = self._split(path)
        return swap_submodule(module, attr, value)

    def get_tensor(self, name: str) -> Tensor:
        module, attr = self._split(name)
        if not hasattr(module, attr):
            raise AttributeError(f"{module._get_name()} has no attribute `{attr}`")
        tensor = getattr(module, attr)
        if not isinstance(tensor, Tensor) and tensor is not None:
            raise TypeError(f"{tensor} is not an instance of torch.Tensor")
        return tensor

    def set_tensor(self, name: str, value: Tensor) -> None:
        module, attr = self._split(name)
        set_tensor(module, attr, value)

    def del_tensor(self, name: str) -> None:
        module, attr = self._split(name)
        if not hasattr(module, attr):
            raise AttributeError(f"{module._get_name()} has no attribute `{attr}`")
        delattr(module, attr)

    def swap_tensor(self, name: str, value: Any, allow_missing: bool = False) -> Any:
        module, attr = self._split(name)
        return swap_tensor(module, attr, value, allow_missing=allow_missing)

    def get_tensors(self, names: Iterable[str]) -> list[Tensor]:
        return [self.get_tensor(name) for name in names]

    def set_tensors(self, names: Iterable[str], values: Iterable[Tensor]) -> None:
        names, values = list(names), list(values)
        if len(names) != len(values):
            raise ValueError(f"names and values must have the same length, got {len(names)} and {len(values)}")
        for name, value in zip(names, values):
            self.set_tensor(name, value)

    def set_tensors_dict(self, named_tensors: dict[str, Tensor]) -> None:
        for name, value in named_tensors.items():
            self.set_tensor(name, value)

    def del_tensors(self, names: Iterable[str]) -> None:
        for name in names:
            self.del_tensor(name)

    def swap_tensors(self, names: Iterable[str], values: Iterable[Any], allow_missing: bool = False) -> list[Any]:
        names, values = list(names), list(values)
        if len(names) != len(values):
            raise ValueError(f"names and values must have the same length, got {len(names)} and {len(values)}")
        return [self.swap_tensor(n, v, allow_missing=allow_missing) for n, v in zip(names, values)]

    def swap_tensors_dict(
        self, named_tensors: dict[str, Any], allow_missing: bool = False
    ) -> tuple[dict[str, Any], list[str]]:
        """Swaps each, returning what was there and the names that had nothing."""
        orig: dict[str, Any] = {}
        missing: list[str] = []
        for name, value in named_tensors.items():
            old = self.swap_tensor(name, value, allow_missing=allow_missing)
            if old is _MISSING:
                missing.append(name)
            orig[name] = old
        if missing and not allow_missing:  # put the others back before raising
            for name, old in orig.items():
                self.swap_tensor(name, old, allow_missing=True)
            raise RuntimeError(f"Missing key(s): {', '.join(map(repr, missing))}.")
        return orig, missing

    def check_keys(self, keys: Iterable[str]) -> tuple[list[str], list[str]]:
        """(missing, unexpected): the module's tensor names not among keys, and keys it has no tensor for."""
        keys = set(keys)
        valid = {name for name, _ in self.named_tensors(remove_duplicate=False)}
        return sorted(valid - keys), sorted(keys - valid)

    def named_parameters(self, remove_duplicate: bool = True) -> Iterable[tuple[str, Tensor]]:
        yield from self.module.named_parameters(remove_duplicate=remove_duplicate)

    def named_buffers(self, remove_duplicate: bool = True) -> Iterable[tuple[str, Tensor]]:
        yield from self.module.named_buffers(remove_duplicate=remove_duplicate)

    def named_tensors(self, remove_duplicate: bool = True) -> Iterable[tuple[str, Tensor]]:
        yield from self.named_parameters(remove_duplicate=remove_duplicate)
        yield from self.named_buffers(remove_duplicate=remove_duplicate)

    def named_modules(self, remove_duplicate: bool = True) -> Iterable[tuple[str, Any]]:
        yield from self.module.named_modules(remove_duplicate=remove_duplicate)
