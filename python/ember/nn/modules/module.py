"""nn.Module: the base class of layers, with PyTorch's registration, traversal,
state_dict and repr behaviour (names and error words as torch.nn.Module)."""

from __future__ import annotations

import functools
import itertools
import warnings
import weakref
from collections import OrderedDict, abc, namedtuple
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from ... import _C
from ..._C import Tensor
from ...grad_mode import no_grad
from ..parameter import Buffer, Parameter
from ._backward_hooks import BackwardHook

__all__ = ["Module"]

# The type of `self` in methods that return it, so that e.g. MyNet().float() is still a MyNet.
_M = TypeVar("_M", bound="Module")

_global_forward_pre_hooks = OrderedDict()
_global_forward_hooks = OrderedDict()
_global_forward_hooks_with_kwargs: dict[int, bool] = {}
_global_forward_hooks_always_called: dict[int, bool] = {}
_global_backward_pre_hooks: OrderedDict = OrderedDict()
_global_backward_hooks: OrderedDict = OrderedDict()
_global_is_full_backward_hook: bool | None = None  # True once a full one is registered, False for the old form
# hook(module, name, value) when any module registers a parameter, buffer or child module; may return a
# replacement (tensordict and FSDP-style wrappers swap what gets registered)
_global_parameter_registration_hooks: OrderedDict = OrderedDict()
_global_buffer_registration_hooks: OrderedDict = OrderedDict()
_global_module_registration_hooks: OrderedDict = OrderedDict()


def _typename(obj):
    """torch.typename: 'ember.FloatTensor' for tensors, the qualified class name otherwise."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(type(obj), "__module__", "") or ""
    qualname = type(obj).__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


def _addindent(s_, num_spaces):
    lines = s_.split("\n")
    if len(lines) == 1:
        return s_
    first = lines.pop(0)
    return first + "\n" + "\n".join(num_spaces * " " + line for line in lines)


_EXTRA_STATE_KEY_SUFFIX = "_extra_state"  # the state_dict key of a module's get_extra_state()


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _parse_to(*args: Any, **kwargs: Any) -> tuple[Any, Any, bool, Any]:
    """``to()``'s arguments as ``(device, dtype, non_blocking, memory_format)``, None where not given: the
    device as an ember.device (an int is a CUDA index), a tensor's dtype and device. ``torch._C._nn._parse_to``,
    which libraries call to mirror Module.to."""
    dtype = kwargs.pop("dtype", None)
    device = kwargs.pop("device", None)
    non_blocking = bool(kwargs.pop("non_blocking", False))
    memory_format = kwargs.pop("memory_format", None)
    kwargs.pop("copy", None)
    if kwargs:
        raise TypeError(f"to() received an invalid combination of arguments: {sorted(kwargs)}")
    for a in args:
        if isinstance(a, _C.dtype):
            dtype = a
        elif isinstance(a, Tensor):
            dtype, device = a.dtype, a.device
        elif isinstance(a, bool):  # (before int: a bool is one) to(device, dtype, non_blocking)
            non_blocking = a
        elif isinstance(a, (str, _C.device, int)):
            device = a
        elif a is not None:
            raise TypeError(f"to() received an invalid combination of arguments: {_typename(a)}")
    if device is not None and not isinstance(device, _C.device):
        device = _C.device(f"cuda:{device}" if isinstance(device, int) else device)
    return device, dtype, non_blocking, memory_format


class RemovableHandle:
    """Returned by register_*_hook; remove() takes the hook out of its dict. Usable as a context manager."""

    _next_id = 0

    def __init__(self, hooks_dict: dict[int, Any]) -> None:
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        """Removes the hook; a no-op if it is already gone."""
        hooks_dict = self.hooks_dict_ref()
        if hooks_dict is not None:
            hooks_dict.pop(self.id, None)

    def __getstate__(self) -> tuple[dict[int, Any] | None, int]:
        # A weakref can't be pickled: save the dict itself (pickle's memo makes it the module's dict again on load).
        return (self.hooks_dict_ref(), self.id)

    def __setstate__(self, state: tuple[dict[int, Any] | None, int]) -> None:
        hooks_dict, self.id = state
        self.hooks_dict_ref = weakref.ref(hooks_dict if hooks_dict is not None else OrderedDict())

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def register_module_forward_pre_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """Registers a forward pre-hook common to all modules: hook(module, args) runs before every forward and may
    return new args (a tuple, or a single value)."""
    handle = RemovableHandle(_global_forward_pre_hooks)
    _global_forward_pre_hooks[handle.id] = hook
    return handle


def register_module_forward_hook(
    hook: Callable[..., Any], *, with_kwargs: bool = False, always_call: bool = False
) -> RemovableHandle:
    """Registers a forward hook common to all modules: hook(module, args, output) runs after every forward and
    may return a new output; with_kwargs and always_call as Module.register_forward_hook's."""
    handle = RemovableHandle(_global_forward_hooks)
    _global_forward_hooks[handle.id] = hook
    if with_kwargs:
        _global_forward_hooks_with_kwargs[handle.id] = True
    if always_call:
        _global_forward_hooks_always_called[handle.id] = True
    return handle


def _register_global_backward_hook(hook: Callable[..., Any], full: bool) -> RemovableHandle:
    global _global_is_full_backward_hook
    if _global_is_full_backward_hook is (not full):
        raise RuntimeError(
            "Cannot use both regular backward hooks and full backward hooks as a global Module hook. Please use "
            "only one of them."
        )
    _global_is_full_backward_hook = full
    handle = RemovableHandle(_global_backward_hooks)
    _global_backward_hooks[handle.id] = hook
    return handle


def register_module_full_backward_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """A full backward hook common to all modules: hook(module, grad_input, grad_output), as
    Module.register_full_backward_hook's, runs before each module's own."""
    return _register_global_backward_hook(hook, full=True)


def register_module_backward_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """The deprecated global form; as Module.register_backward_hook, ember runs it as a full backward hook. It may
    not be mixed with register_module_full_backward_hook (PyTorch's error)."""
    return _register_global_backward_hook(hook, full=False)


def register_module_full_backward_pre_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """A backward pre-hook common to all modules: hook(module, grad_output), runs before each module's own."""
    handle = RemovableHandle(_global_backward_pre_hooks)
    _global_backward_pre_hooks[handle.id] = hook
    return handle


def _registration_hook(store: OrderedDict, hook: Callable[..., Any]) -> RemovableHandle:
    handle = RemovableHandle(store)
    store[handle.id] = hook
    return handle


def register_module_parameter_registration_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """hook(module, name, param) runs whenever a module registers a parameter, and may return a replacement."""
    return _registration_hook(_global_parameter_registration_hooks, hook)


def register_module_buffer_registration_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """hook(module, name, buffer) runs whenever a module registers a buffer, and may return a replacement."""
    return _registration_hook(_global_buffer_registration_hooks, hook)


def register_module_module_registration_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """hook(module, name, submodule) runs whenever a module registers a child, and may return a replacement."""
    return _registration_hook(_global_module_registration_hooks, hook)


def _registered(store: OrderedDict, module: Any, name: str, value: Any) -> Any:
    """value after the global registration hooks in store (each may return a replacement)."""
    for hook in list(store.values()):
        replaced = hook(module, name, value)
        if replaced is not None:
            value = replaced
    return value


class Module:
    """Base class for all neural network modules; subclasses define forward().

    Parameters, buffers and child modules assigned as attributes are registered, so that parameters(),
    state_dict(), to() and repr see them. Call the module (not forward) to run the forward hooks too.
    """

    dump_patches = False
    _version = 1
    training: bool
    call_super_init = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if not self.call_super_init and (args or kwargs):
            name = type(self).__name__
            if kwargs:
                raise TypeError(f"{name}.__init__() got an unexpected keyword argument '{next(iter(kwargs))}'")
            raise TypeError(f"{name}.__init__() takes 1 positional argument but {len(args) + 1} were given")
        # object.__setattr__ skips our __setattr__ (which reads these very dicts).
        set_ = object.__setattr__
        set_(self, "training", True)
        set_(self, "_parameters", {})
        set_(self, "_buffers", {})
        set_(self, "_non_persistent_buffers_set", set())
        set_(self, "_modules", {})
        set_(self, "_forward_pre_hooks", OrderedDict())
        set_(self, "_forward_pre_hooks_with_kwargs", {})
        set_(self, "_forward_hooks", OrderedDict())
        set_(self, "_forward_hooks_with_kwargs", {})
        set_(self, "_forward_hooks_always_called", {})
        set_(self, "_backward_hooks", OrderedDict())
        set_(self, "_backward_pre_hooks", OrderedDict())
        set_(self, "_state_dict_hooks", OrderedDict())
        set_(self, "_state_dict_pre_hooks", OrderedDict())
        set_(self, "_load_state_dict_pre_hooks", OrderedDict())
        set_(self, "_load_state_dict_post_hooks", OrderedDict())

    def forward(self, *input: Any) -> Any:
        """Defines the computation performed at every call; every subclass overrides it."""
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    # ---- calling -------------------------------------------------------------------------------------------------

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Runs forward(*args, **kwargs), with the forward pre-hooks before it and the forward hooks after."""
        # The common case (no hooks anywhere) is one dict check away from forward: it is on every layer's hot path.
        if not (
            self._forward_hooks
            or self._forward_pre_hooks
            or self._backward_hooks
            or self._backward_pre_hooks
            or _global_forward_hooks
            or _global_forward_pre_hooks
            or _global_backward_hooks
            or _global_backward_pre_hooks
        ):
            return self.forward(*args, **kwargs)
        return self._call_with_hooks(args, kwargs)

    _call_impl = __call__

    def _call_with_hooks(self, args, kwargs):
        for hook_id, hook in itertools.chain(_global_forward_pre_hooks.items(), self._forward_pre_hooks.items()):
            if self._forward_pre_hooks_with_kwargs.get(hook_id):
                res = hook(self, args, kwargs)
                if res is not None:
                    if not (isinstance(res, tuple) and len(res) == 2):
                        raise RuntimeError(
                            f"forward pre-hook must return None or a tuple of (new_args, new_kwargs), but got {res}."
                        )
                    args, kwargs = res
            else:
                res = hook(self, args)
                if res is not None:
                    args = res if isinstance(res, tuple) else (res,)
        backward_hook = None
        full_hooks, _ = self._get_backward_hooks()
        pre_hooks = self._get_backward_pre_hooks()
        if full_hooks or pre_hooks:
            backward_hook = BackwardHook(self, full_hooks, pre_hooks)
            args = backward_hook.wrap_inputs(args)
        try:
            result = self.forward(*args, **kwargs)
        except Exception:
            # always_call hooks run even when forward raises, as PyTorch; forward's error then propagates.
            for hook_id, hook in itertools.chain(_global_forward_hooks.items(), self._forward_hooks.items()):
                if not (
                    self._forward_hooks_always_called.get(hook_id) or _global_forward_hooks_always_called.get(hook_id)
                ):
                    continue
                try:
                    if self._forward_hooks_with_kwargs.get(hook_id) or _global_forward_hooks_with_kwargs.get(hook_id):
                        hook(self, args, kwargs, None)
                    else:
                        hook(self, args, None)
                except Exception as e:
                    warnings.warn(
                        "module forward hook with ``always_call=True`` raised an exception that was "
                        f"silenced as another error was raised in forward: {e}",
                        stacklevel=2,
                    )
            raise
        for hook_id, hook in itertools.chain(_global_forward_hooks.items(), self._forward_hooks.items()):
            if self._forward_hooks_with_kwargs.get(hook_id) or _global_forward_hooks_with_kwargs.get(hook_id):
                res = hook(self, args, kwargs, result)
            else:
                res = hook(self, args, result)
            if res is not None:
                result = res
        if backward_hook is not None:
            result = backward_hook.wrap_outputs(result)
        return result

    def register_forward_pre_hook(
        self, hook: Callable[..., Any], *, prepend: bool = False, with_kwargs: bool = False
    ) -> RemovableHandle:
        """Registers hook(module, args) to run before forward; it may return new args (a tuple, or a single value).

        With with_kwargs=True it is called as hook(module, args, kwargs) and may return (new_args, new_kwargs);
        prepend=True runs it before the hooks already registered.
        """
        handle = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[handle.id] = True
        if prepend:
            self._forward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_forward_hook(
        self, hook: Callable[..., Any], *, prepend: bool = False, with_kwargs: bool = False, always_call: bool = False
    ) -> RemovableHandle:
        """Registers hook(module, args, output) to run after forward; it may return a new output.

        With with_kwargs=True it is called as hook(module, args, kwargs, output); always_call=True runs it
        (with output None) even when forward raises; prepend=True runs it before the hooks already registered.
        """
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_hooks_with_kwargs[handle.id] = True
        if always_call:
            self._forward_hooks_always_called[handle.id] = True
        if prepend:
            self._forward_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_full_backward_hook(self, hook: Callable[..., Any], prepend: bool = False) -> RemovableHandle:
        """Registers hook(module, grad_input, grad_output), called once the gradients w.r.t. the module's
        positional tensor inputs are computed; it may return a replacement grad_input (a tuple)."""
        handle = RemovableHandle(self._backward_hooks)
        self._backward_hooks[handle.id] = hook
        if prepend:
            self._backward_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_full_backward_pre_hook(self, hook: Callable[..., Any], prepend: bool = False) -> RemovableHandle:
        """Registers hook(module, grad_output), called once the gradients w.r.t. the module's outputs are
        computed and before the module's own backward; it may return a replacement grad_output."""
        handle = RemovableHandle(self._backward_pre_hooks)
        self._backward_pre_hooks[handle.id] = hook
        if prepend:
            self._backward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_backward_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """The deprecated form: ember runs it as a full backward hook (PyTorch's gives per-node gradients)."""
        return self.register_full_backward_hook(hook)

    def _get_backward_hooks(self) -> tuple[list, list]:
        """(full backward hooks, the old form's): the global ones, then the module's. ember runs the old form as
        full hooks, so the second list is always empty."""
        return [*_global_backward_hooks.values(), *self._backward_hooks.values()], []

    def _get_backward_pre_hooks(self) -> list:
        """The backward pre-hooks to run: the global ones, then the module's."""
        return [*_global_backward_pre_hooks.values(), *self._backward_pre_hooks.values()]

    def _maybe_warn_non_full_backward_hook(self, inputs: Any, result: Any, grad_fn: Any) -> None:
        """PyTorch warns here when an old-form backward hook sees partial gradients; ember runs them as full."""

    # ---- registration --------------------------------------------------------------------------------------------

    def _check_name(self, kind, name, store):
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {_typename(name)}")
        if "." in name:
            raise KeyError(f'{kind} name can\'t contain "."')
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')
        if hasattr(self, name) and name not in store:
            raise KeyError(f"attribute '{name}' already exists")

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Adds a tensor that is part of the module's state (to(), and state_dict unless persistent=False) but is
        not a parameter, such as BatchNorm's running_mean."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        self._check_name("buffer", name, self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{_typename(tensor)}' object to buffer '{name}' (torch Tensor or None required)"
            )
        if isinstance(tensor, Buffer):
            persistent = tensor.persistent
        if _global_buffer_registration_hooks:
            tensor = _registered(_global_buffer_registration_hooks, self, name, tensor)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Adds a Parameter (or None) under `name`."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        self._check_name("parameter", name, self._parameters)
        if param is None:
            self._parameters[name] = None
            return
        if not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{_typename(param)}' object to parameter '{name}' (torch.nn.Parameter or None required)"
            )
        if param.grad_fn is not None:
            raise ValueError(
                f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be created "
                f"explicitly. To express '{name}' as a function of another Tensor, compute the value in "
                "the forward() method."
            )
        if _global_parameter_registration_hooks:
            param = _registered(_global_parameter_registration_hooks, self, name, param)
        self._parameters[name] = param

    def add_module(self, name: str, module: Module | None) -> None:
        """Adds a child module (or None) under `name`."""
        if not isinstance(module, Module) and module is not None:
            raise TypeError(f"{_typename(module)} is not a Module subclass")
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string. Got {_typename(name)}")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if "." in name:
            raise KeyError(f'module name can\'t contain ".", got: {name}')
        if name == "":
            raise KeyError('module name can\'t be empty string ""')
        if _global_module_registration_hooks:
            module = _registered(_global_module_registration_hooks, self, name, module)
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        """Returns the submodule at the dotted path target ('' for self), e.g. 'encoder.layers.0'."""
        if target == "":
            return self
        mod = self
        for item in target.split("."):
            if not hasattr(mod, item):
                raise AttributeError(mod._get_name() + " has no attribute `" + item + "`")
            mod = getattr(mod, item)
            if not isinstance(mod, Module):
                raise AttributeError("`" + item + "` is not an nn.Module")
        return mod

    def set_submodule(self, target: str, module: Module, strict: bool = False) -> None:
        """Sets the submodule at the dotted path target (the parent must exist); with strict, only an existing
        submodule may be replaced."""
        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        if not isinstance(module, Module):
            raise ValueError(f"`module` is not an nn.Module, found {type(module)}")
        parent_path, _, name = target.rpartition(".")
        parent = self.get_submodule(parent_path)
        if strict and not hasattr(parent, name):
            raise AttributeError(parent._get_name() + " has no attribute `" + name + "`")
        if hasattr(parent, name) and not isinstance(getattr(parent, name), Module):
            raise AttributeError("`" + name + "` is not an nn.Module")
        setattr(parent, name, module)

    def get_parameter(self, target: str) -> Parameter:
        """Returns the parameter at the dotted path target, e.g. 'encoder.0.weight'."""
        module_path, _, name = target.rpartition(".")
        mod = self.get_submodule(module_path)
        if not hasattr(mod, name):
            raise AttributeError(mod._get_name() + " has no attribute `" + name + "`")
        param = getattr(mod, name)
        if not isinstance(param, Parameter):
            raise AttributeError("`" + name + "` is not an nn.Parameter")
        return param

    def get_buffer(self, target: str) -> Tensor:
        """Returns the buffer at the dotted path target, e.g. 'bn.running_mean'."""
        module_path, _, name = target.rpartition(".")
        mod = self.get_submodule(module_path)
        if not hasattr(mod, name):
            raise AttributeError(mod._get_name() + " has no attribute `" + name + "`")
        if name not in mod._buffers:
            raise AttributeError("`" + name + "` is not a buffer")
        return getattr(mod, name)

    # ---- attributes ----------------------------------------------------------------------------------------------

    def __getattr__(self, name):
        # Only called when normal lookup fails: parameters, buffers and children live in their dicts.
        d = self.__dict__
        if "_parameters" in d and name in d["_parameters"]:
            return d["_parameters"][name]
        if "_buffers" in d and name in d["_buffers"]:
            return d["_buffers"][name]
        if "_modules" in d and name in d["_modules"]:
            return d["_modules"][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name, value):
        def remove_from(*stores):
            for s in stores:
                if name in s:
                    if isinstance(s, dict):
                        del s[name]
                    else:
                        s.discard(name)

        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            remove_from(d, self._buffers, self._modules, self._non_persistent_buffers_set)
            self.register_parameter(name, value)
            return
        if params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{_typename(value)}' as parameter '{name}' (torch.nn.Parameter or None expected)"
                )
            self.register_parameter(name, value)
            return
        modules = d.get("_modules")
        if isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            remove_from(d, self._parameters, self._buffers, self._non_persistent_buffers_set)
            if _global_module_registration_hooks:
                value = _registered(_global_module_registration_hooks, self, name, value)
            modules[name] = value
            return
        if modules is not None and name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{_typename(value)}' as child module '{name}' (torch.nn.Module or None expected)"
                )
            modules[name] = value
            return
        buffers = d.get("_buffers")
        if isinstance(value, Buffer) or (buffers is not None and name in buffers):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{_typename(value)}' as buffer '{name}' "
                    "(torch.nn.Buffer, torch.Tensor or None expected)"
                )
            if isinstance(value, Buffer):
                remove_from(d, self._parameters, self._modules)
                self.register_buffer(name, value, value.persistent)
            else:
                if _global_buffer_registration_hooks:
                    value = _registered(_global_buffer_registration_hooks, self, name, value)
                buffers[name] = value
            return
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._buffers:
            del self._buffers[name]
            self._non_persistent_buffers_set.discard(name)
        elif name in self._modules:
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    def __dir__(self):
        keys = list(object.__dir__(self)) + list(self._parameters) + list(self._modules) + list(self._buffers)
        return sorted(k for k in set(keys) if not k[0].isdigit())

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.__dict__.setdefault("_state_dict_pre_hooks", OrderedDict())  # a module pickled before it had them

    # ---- traversal -----------------------------------------------------------------------------------------------

    def named_modules(
        self, memo: set[int] | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """Yields (dotted name, module) for self (named prefix) and every submodule, depth first.
        Each module appears once unless remove_duplicate=False; memo holds the ids already seen."""
        if memo is None:
            memo = set()
        if id(self) in memo:
            return
        if remove_duplicate:
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub_prefix = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub_prefix, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        """Yields self and every submodule, each once."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Yields (name, module) for each immediate child module, each once."""
        memo = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in memo:
                memo.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        """Yields each immediate child module, once."""
        for _, module in self.named_children():
            yield module

    def _named_members(self, get_members, prefix="", recurse=True, remove_duplicate=True):
        memo = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in get_members(module):
                if value is None or id(value) in memo:
                    continue
                if remove_duplicate:
                    memo.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """Yields (dotted name, parameter) for the parameters of self and, if recurse, of every submodule."""
        yield from self._named_members(lambda m: m._parameters.items(), prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Yields the parameters of self and, if recurse, of every submodule (each once); typically passed to an
        optimizer."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        """Yields (dotted name, buffer) for the buffers of self and, if recurse, of every submodule."""
        yield from self._named_members(lambda m: m._buffers.items(), prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Yields the buffers of self and, if recurse, of every submodule (each once)."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self: _M, fn: Callable[[Module], object]) -> _M:
        """Calls fn on every submodule (children first) and on self; returns self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ---- modes and gradients -------------------------------------------------------------------------------------

    def train(self: _M, mode: bool = True) -> _M:
        """Sets self and every submodule in training mode (or evaluation mode if mode is False); returns self.
        It matters to layers such as Dropout and BatchNorm."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self: _M) -> _M:
        """Sets self and every submodule in evaluation mode (train(False)); returns self."""
        return self.train(False)

    def requires_grad_(self: _M, requires_grad: bool = True) -> _M:
        """Sets requires_grad of every parameter in place (False freezes them); returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Resets the gradients of all parameters: to None, or to zeros in place if set_to_none is False."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                g = p.grad
                if g.grad_fn is not None:
                    g.detach_()
                else:
                    g.requires_grad_(False)
                g.zero_()

    # ---- conversion ----------------------------------------------------------------------------------------------

    def _apply(self, fn):
        """Applies fn to every parameter and buffer. Parameters keep their identity (their .data is
        replaced, as PyTorch does by default), so optimizers built before .to() stay valid."""
        for module in self.children():
            module._apply(fn)
        for key, param in self._parameters.items():
            if param is None:
                continue
            with no_grad():
                new = fn(param)
            if new is not param and new.is_complex() != param.is_complex():
                # real made complex or back: a complex tensor is another kind of object
                # (Note [Complex tensors]), so the parameter is a new one (PyTorch's keeps its identity)
                from ..parameter import Parameter

                self._parameters[key] = param = Parameter(new, param.requires_grad)
            elif new is not param:
                param.data = new
            if param.grad is not None:
                with no_grad():
                    new_grad = fn(param.grad)
                if new_grad is not param.grad:
                    param.grad = new_grad
        for key, buf in self._buffers.items():
            if buf is not None:
                self._buffers[key] = fn(buf)
        return self

    def to(self: _M, *args: Any, **kwargs: Any) -> _M:
        """Casts the module's parameters and buffers (the module is modified in place); returns self.

        to(device), to(dtype), to(device, dtype), to(tensor): floating parameters and buffers change dtype;
        integer ones (e.g. num_batches_tracked) keep theirs. A device moves them all (CUDA needs a CUDA
        build and a GPU, else RuntimeError).
        """
        device, dtype, _, memory_format = _parse_to(*args, **kwargs)
        if dtype is not None and not (dtype.is_floating_point or dtype.is_complex):
            raise TypeError(
                f"nn.Module.to only accepts floating point or complex dtypes, but got desired dtype={dtype}"
            )
        if device is not None and str(device) == "meta":  # the shapes and dtypes stay, the data goes
            if dtype is not None:
                self.to(dtype)
            return self.to_empty(device="meta")
        if device is not None:
            _C._check_device(device)
            if any(t.device.type == "meta" for t in [*self.parameters(), *self.buffers()]):
                raise NotImplementedError(
                    "Cannot copy out of meta tensor; no data! Please use torch.nn.Module.to_empty() instead of "
                    "torch.nn.Module.to() when moving module from meta to a different device."
                )
        if memory_format is not None:  # 4-D (channels_last) or 5-D (channels_last_3d) tensors take the format
            rank = {"channels_last": 4, "channels_last_3d": 5}.get(getattr(memory_format, "_name", None))
            self._apply(lambda t: t.contiguous(memory_format=memory_format) if t.dim() == rank else t)
        if dtype is None and device is None:
            return self

        def convert(t: Tensor) -> Tensor:
            return t.to(device=device, dtype=dtype if t.is_floating_point() or t.is_complex() else None)

        return self._apply(convert)

    def _floating_to(self: _M, dtype: _C.dtype) -> _M:
        """float(), double(), ...: only the floating parameters and buffers change; complex ones stay, as PyTorch's."""
        return self._apply(lambda t: t.to(dtype) if t.is_floating_point() else t)

    def float(self: _M) -> _M:
        """Casts all floating point parameters and buffers to float32; returns self."""
        return self._floating_to(_C.dtype.float32)

    def double(self: _M) -> _M:
        """Casts all floating point parameters and buffers to float64; returns self."""
        return self._floating_to(_C.dtype.float64)

    def half(self: _M) -> _M:
        """Casts all floating point parameters and buffers to float16; returns self."""
        return self._floating_to(_C.dtype.float16)

    def bfloat16(self: _M) -> _M:
        """Casts all floating point parameters and buffers to bfloat16; returns self."""
        return self._floating_to(_C.dtype.bfloat16)

    def type(self: _M, dst_type: _C.dtype) -> _M:
        """Casts all parameters and buffers to dst_type; returns self."""
        return self._apply(lambda t: t.to(dst_type))

    def to_empty(self: _M, *, device: str | _C.device | None, recurse: bool = True) -> _M:
        """Gives every parameter and buffer new, uninitialized storage on ``device`` (their shapes and
        dtypes kept): how a model built on the meta device gets memory. Returns self."""
        from ..._creation import empty

        def fresh(t: Tensor) -> Tensor:
            return empty(tuple(t.shape), dtype=t.dtype, device=device)

        for module in self.modules() if recurse else [self]:
            for key, param in module._parameters.items():
                if param is not None:
                    module._parameters[key] = Parameter(fresh(param), requires_grad=param.requires_grad)
            for key, buf in module._buffers.items():
                if buf is not None:
                    module._buffers[key] = fresh(buf)
        return self

    def cpu(self: _M) -> _M:
        """Moves all parameters and buffers to the CPU; returns self."""
        return self.to("cpu")

    def cuda(self: _M, device: int | str | _C.device | None = None) -> _M:
        """Moves all parameters and buffers to a CUDA device (the current one by default); returns self.
        Raises RuntimeError where CUDA cannot be used."""
        target = _C.device("cuda" if device is None else f"cuda:{device}" if isinstance(device, int) else device)
        if target.type != "cuda":
            raise RuntimeError("Invalid device, must be cuda device")
        return self.to(target)

    def xpu(self: _M, device: Any = None) -> _M:
        """Moves parameters and buffers to an XPU: ember has none, so it raises as Tensor.xpu does."""
        return self._apply(lambda t: t.xpu(device))

    def mtia(self: _M, device: Any = None) -> _M:
        """Moves parameters and buffers to an MTIA device: ember has none, so it raises as Tensor.mtia does."""
        return self._apply(lambda t: t.mtia(device))

    def ipu(self: _M, device: Any = None) -> _M:
        """Moves parameters and buffers to an IPU: ember has none, so it raises as Tensor.ipu does."""
        return self._apply(lambda t: t.ipu(device))

    def share_memory(self: _M) -> _M:
        """Moves parameters and buffers to shared memory (Tensor.share_memory_); returns self."""
        return self._apply(lambda t: t.share_memory_())

    # ---- compile and PyTorch's call entry points -----------------------------------------------------------------

    _compiled_call_impl: Callable[..., Any] | None = None

    def compile(self, *args: Any, **kwargs: Any) -> None:
        """Compiles this module's call with ember.compile (arguments as torch.compile's); ember runs it as it is."""
        from ... import compile as compile_fn

        self._compiled_call_impl = compile_fn(self._call_impl, *args, **kwargs)

    def _wrapped_call_impl(self, *args: Any, **kwargs: Any) -> Any:
        if self._compiled_call_impl is not None:
            return self._compiled_call_impl(*args, **kwargs)
        return self._call_impl(*args, **kwargs)

    def _slow_forward(self, *input: Any, **kwargs: Any) -> Any:
        # PyTorch's forward under the TorchScript tracer; ember has no tracer
        return self.forward(*input, **kwargs)

    def _replicate_for_data_parallel(self: _M) -> _M:
        """A shallow replica sharing this module's state (DataParallel's): own dicts of buffers and children,
        no parameters of its own."""
        replica = self.__new__(type(self))
        replica.__dict__ = self.__dict__.copy()
        replica._parameters = {}
        replica._buffers = replica._buffers.copy()
        replica._modules = replica._modules.copy()
        replica._is_replica = True
        return replica

    # ---- state_dict ----------------------------------------------------------------------------------------------

    T_destination = TypeVar("T_destination", bound=dict)

    def get_extra_state(self) -> Any:
        """The state a module keeps besides its parameters and buffers, saved in its state_dict under
        ``<prefix>_extra_state``: override it with ``set_extra_state`` (this one is never called)."""
        raise RuntimeError(
            "Reached a code path in Module.get_extra_state() that should never be called. Please file an issue "
            "at https://github.com/pytorch/pytorch/issues/new?template=bug-report.yml to report this bug."
        )

    def set_extra_state(self, state: Any) -> None:
        """Restores what ``get_extra_state`` gave, from a state_dict being loaded (override both)."""
        raise RuntimeError(
            "Reached a code path in Module.set_extra_state() that should never be called. Please file an issue "
            "at https://github.com/pytorch/pytorch/issues/new?template=bug-report.yml to report this bug."
        )

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if keep_vars else buf.detach()
        if type(self).get_extra_state is not Module.get_extra_state:
            destination[prefix + _EXTRA_STATE_KEY_SUFFIX] = self.get_extra_state()

    def state_dict(
        self, *args: Any, destination: dict[str, Any] | None = None, prefix: str = "", keep_vars: bool = False
    ) -> dict[str, Any]:
        """Returns an OrderedDict of parameters and persistent buffers keyed by dotted names ('0.weight',
        'bn.running_mean'); the tensors are detached unless keep_vars=True."""
        if args:  # the old positional form (destination, prefix, keep_vars)
            destination = args[0]
            prefix = args[1] if len(args) > 1 else prefix
            keep_vars = args[2] if len(args) > 2 else keep_vars
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()
        local_metadata = dict(version=self._version)
        if hasattr(destination, "_metadata"):
            destination._metadata[prefix[:-1]] = local_metadata
        for hook in self._state_dict_pre_hooks.values():
            hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
        for hook in self._state_dict_hooks.values():
            result = hook(self, destination, prefix, local_metadata)
            if getattr(hook, "_from_public_api", False):  # register_state_dict_post_hook: edits in place only
                if result is not None:
                    raise RuntimeError("state_dict post-hook must return None")
            elif result is not None:
                destination = result
        return destination

    def _load_from_state_dict(
        self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
    ):
        for hook in self._load_state_dict_pre_hooks.values():
            hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)
        persistent = {k: v for k, v in self._buffers.items() if k not in self._non_persistent_buffers_set}
        local_state = {k: v for k, v in itertools.chain(self._parameters.items(), persistent.items()) if v is not None}
        assign = local_metadata.get("assign_to_params_buffers", False)
        for name, param in local_state.items():
            key = prefix + name
            if key not in state_dict:
                if strict:
                    missing_keys.append(key)
                continue
            input_param = state_dict[key]
            if not isinstance(input_param, Tensor):
                error_msgs.append(
                    f'While copying the parameter named "{key}", expected torch.Tensor or '
                    f"Tensor-like object from checkpoint but received {type(input_param)}"
                )
                continue
            if param.dim() == 0 and input_param.dim() == 1 and input_param.shape[0] == 1:
                input_param = input_param[0]
            if input_param.shape != param.shape:
                error_msgs.append(
                    f"size mismatch for {key}: copying a param with shape {input_param.shape} from "
                    f"checkpoint, the shape in current model is {param.shape}."
                )
                continue
            try:
                with no_grad():
                    if assign:
                        if isinstance(param, Parameter) and not isinstance(input_param, Parameter):
                            input_param = Parameter(input_param, requires_grad=param.requires_grad)
                        elif isinstance(param, Parameter):
                            input_param.requires_grad_(param.requires_grad)
                        setattr(self, name, input_param)
                    else:
                        param.copy_(input_param)
            except Exception as ex:
                error_msgs.append(
                    f'While copying the parameter named "{key}", whose dimensions in the model are '
                    f"{param.size()} and whose dimensions in the checkpoint are {input_param.size()}, "
                    f"an exception occurred : {ex.args}."
                )
        extra_state_key = prefix + _EXTRA_STATE_KEY_SUFFIX
        if type(self).set_extra_state is not Module.set_extra_state:
            if extra_state_key in state_dict:
                self.set_extra_state(state_dict[extra_state_key])
            elif strict:
                missing_keys.append(extra_state_key)
        elif strict and extra_state_key in state_dict:
            unexpected_keys.append(extra_state_key)
        if strict:
            for key in state_dict:
                if not key.startswith(prefix) or key == extra_state_key:
                    continue
                input_name = key[len(prefix) :].split(".", 1)
                if len(input_name) > 1:
                    if input_name[0] not in self._modules:
                        unexpected_keys.append(key)
                elif input_name[0] not in local_state:
                    unexpected_keys.append(key)

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False
    ) -> _IncompatibleKeys:
        """Copies parameters and buffers from state_dict into self; returns (missing_keys, unexpected_keys).

        strict=True raises a RuntimeError unless the keys match those of self.state_dict() exactly;
        assign=True makes the module's tensors the state_dict's instead of copying into them.
        """
        if not isinstance(state_dict, abc.Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing_keys, unexpected_keys, error_msgs = [], [], []
        metadata = getattr(state_dict, "_metadata", None)
        state_dict = OrderedDict(state_dict)
        if metadata is not None:
            state_dict._metadata = metadata

        def load(module, local_state_dict, prefix=""):
            local_metadata = {} if metadata is None else dict(metadata.get(prefix[:-1], {}))
            if assign:
                local_metadata["assign_to_params_buffers"] = assign
            # strict=True here as PyTorch: keys are always collected, and only reported as errors when strict.
            module._load_from_state_dict(
                local_state_dict, prefix, local_metadata, True, missing_keys, unexpected_keys, error_msgs
            )
            for name, child in module._modules.items():
                if child is not None:
                    child_prefix = prefix + name + "."
                    load(child, {k: v for k, v in local_state_dict.items() if k.startswith(child_prefix)}, child_prefix)
            incompatible = _IncompatibleKeys(missing_keys, unexpected_keys)
            for hook in module._load_state_dict_post_hooks.values():
                hook(module, incompatible)

        load(self, state_dict)
        if strict:
            if unexpected_keys:
                error_msgs.insert(
                    0, "Unexpected key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in unexpected_keys))
                )
            if missing_keys:
                error_msgs.insert(
                    0, "Missing key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in missing_keys))
                )
        if error_msgs:
            raise RuntimeError(
                "Error(s) in loading state_dict for {}:\n\t{}".format(type(self).__name__, "\n\t".join(error_msgs))
            )
        return _IncompatibleKeys(missing_keys, unexpected_keys)

    def _register_state_dict_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Registers hook(module, state_dict, prefix, local_metadata) to run when state_dict() has added this
        module's entries; it may edit them in place, or return a dict to use instead."""
        handle = RemovableHandle(self._state_dict_hooks)
        self._state_dict_hooks[handle.id] = hook
        return handle

    def register_state_dict_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Registers hook(module, prefix, keep_vars) to run when state_dict() starts on this module."""
        handle = RemovableHandle(self._state_dict_pre_hooks)
        self._state_dict_pre_hooks[handle.id] = hook
        return handle

    def register_state_dict_post_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Registers hook(module, state_dict, prefix, local_metadata) to run when state_dict() has added this
        module's entries; it edits them in place and returns None (RuntimeError otherwise, as PyTorch)."""
        hook._from_public_api = True
        return self._register_state_dict_hook(hook)

    def _register_load_state_dict_pre_hook(
        self, hook: Callable[..., Any], with_module: bool = False
    ) -> RemovableHandle:
        """Registers hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)
        (with this module as first argument when with_module) to run before load_state_dict loads into this
        module; it may edit state_dict (rename or convert keys of an older format)."""
        handle = RemovableHandle(self._load_state_dict_pre_hooks)
        self._load_state_dict_pre_hooks[handle.id] = functools.partial(hook, self) if with_module else hook
        return handle

    def register_load_state_dict_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Registers hook(module, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
        error_msgs) to run before load_state_dict loads into this module."""
        return self._register_load_state_dict_pre_hook(hook, with_module=True)

    def register_load_state_dict_post_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Registers hook(module, incompatible_keys) to run after load_state_dict has loaded into module; it may
        edit incompatible_keys' missing_keys and unexpected_keys in place."""
        handle = RemovableHandle(self._load_state_dict_post_hooks)
        self._load_state_dict_post_hooks[handle.id] = hook
        return handle

    # ---- repr ----------------------------------------------------------------------------------------------------

    def _get_name(self):
        return type(self).__name__

    def extra_repr(self) -> str:
        """The text inside the parentheses of repr; layers override it."""
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = ["(" + key + "): " + _addindent(repr(module), 2) for key, module in self._modules.items()]
        lines = extra_lines + child_lines
        main = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                main += extra_lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"
