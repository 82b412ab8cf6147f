"""The Optimizer base class, with PyTorch's param groups, state and state_dict layout."""

from __future__ import annotations

import functools
import warnings
from collections import defaultdict
from copy import deepcopy
from itertools import chain
from typing import Any, Callable, Dict, Iterable, Iterator, Tuple, Union

from .. import _C, _graph_capture, overrides
from .._C import Tensor
from ..autograd.profiler import profiled_method
from ..grad_mode import enable_grad, no_grad
from ._optimizer_hooks import (  # noqa: F401  (PyTorch's names, here)
    OptimizerHooks,
    register_optimizer_step_post_hook,
    register_optimizer_step_pre_hook,
)

__all__ = ["Optimizer", "register_optimizer_step_post_hook", "register_optimizer_step_pre_hook", "required"]

# What an optimizer accepts as ``params``, as ``torch.optim.optimizer.ParamsT``.
ParamsT = Union[Iterable[Tensor], Iterable[Dict[str, Any]], Iterable[Tuple[str, Tensor]]]


class _RequiredParameter:
    """Marks a hyper-parameter without a default: every param group must give it."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def _typename(obj: object) -> str:
    return f"ember.{type(obj).__name__}" if isinstance(obj, Tensor) else type(obj).__qualname__


_LABELS = {
    "lr": "learning rate",
    "eps": "epsilon value",
    "momentum": "momentum value",
    "weight_decay": "weight_decay value",
    "alpha": "alpha value",
    "lr_decay": "lr_decay value",
    "initial_accumulator_value": "initial_accumulator_value value",
    "momentum_decay": "momentum_decay value",
}


def _check_non_negative(**values: Any) -> None:
    """PyTorch's checks, in the order given: ValueError("Invalid learning rate: -1") and the like."""
    lr = values.get("lr")
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    for name, value in values.items():
        if not 0.0 <= value:
            raise ValueError(f"Invalid {_LABELS[name]}: {value}")


def _check_betas(betas: tuple[Any, Any]) -> None:
    """PyTorch's check of Adam-style ``betas``: each in [0, 1)."""
    for i in (0, 1):
        if not 0.0 <= betas[i] < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {betas[i]}")


def _check_adam_args(lr: Any, betas: tuple[Any, Any], eps: float, weight_decay: float) -> None:
    """The checks of the Adam family (Adam, Adamax, NAdam, RAdam), in PyTorch's order: lr, eps, betas, weight_decay."""
    _check_non_negative(lr=lr, eps=eps)
    _check_betas(betas)
    _check_non_negative(weight_decay=weight_decay)


def _subclassed(params: list) -> bool:
    """Whether a parameter is a Tensor subclass overriding __torch_function__: such a one takes the optimizer's
    single-tensor step, as in PyTorch (complex tensors, ember's own stand-ins, step as their real views in the
    fused kernels)."""
    return overrides.has_torch_function(params) and not any(p.is_complex() for p in params)


def _check_differentiable(differentiable: bool) -> None:
    # PyTorch's differentiable=True steps build a graph through the update; ember's fused steps cannot
    if differentiable:
        raise NotImplementedError("ember.optim: differentiable=True is not supported")


def _step_tensor(value: float = 0.0, device: Any = None) -> Tensor:
    # PyTorch keeps `step` (and the other scalars of a state: ASGD's eta and mu, NAdam's mu_product) as a
    # float32 0-d CPU tensor; so does ember, so state_dicts look alike. Capturable and fused steps keep it on the
    # parameter's device (Note [Capturable steps]).
    step = _C._full([], float(value), _C.dtype.float32)
    return step if device is None or device.type == "cpu" else step.to(device)


_CAPTURABLE_DEVICES = ["cuda", "xpu", "hpu", "privateuseone", "xla"]  # as PyTorch lists them


def _check_capturable(params: list[Tensor]) -> None:
    """PyTorch's check of a capturable step: its parameters (and their counts) on a GPU."""
    if not all(p.device.type in _CAPTURABLE_DEVICES for p in params):
        raise AssertionError(
            f"If capturable=True, params and state_steps must be on supported devices: {_CAPTURABLE_DEVICES}."
        )


def _weight_decay(p: Tensor, grad: Tensor, weight_decay: float, lr: float = 0.0, decoupled: bool = False) -> Tensor:
    """PyTorch's weight decay, as its single-tensor steps apply it: the L2 penalty ``weight_decay * p`` added to
    the gradient or, ``decoupled`` (as AdamW), the parameter shrunk by ``1 - lr * weight_decay``. Returns the
    gradient to use."""
    if weight_decay != 0:
        if decoupled:
            p.mul_(1 - lr * weight_decay)
        else:
            grad = grad.add(p, alpha=weight_decay)
    return grad


def _lerp_(a: Tensor, b: Tensor, weight: float) -> Tensor:
    """a.lerp_(b, weight) with PyTorch's two formulas, so results agree to the last bit."""
    if weight < 0.5:
        return a.add_((b - a) * weight)
    return a.copy_(b - (b - a) * (1 - weight))


def _no_grad_step(step: Callable[..., None]) -> Callable[..., float | None]:
    """Make ``step(self, closure=None)`` run the closure with grad enabled (returning its loss),
    then the decorated update without recording a graph; the update itself ignores ``closure``."""

    @functools.wraps(step)
    def wrapper(self: Optimizer, closure: Callable[[], float] | None = None) -> float | None:
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            step(self)
        return loss

    return wrapper


# The optimizers whose capturable=True step counts on the device (Note [Capturable steps]); the others count on
# the host whatever their option says.
_CAPTURABLE_STEPS = ("Adam", "AdamW")


def _graph_capture_health_check(optimizer: "Optimizer") -> None:
    """PyTorch's health check of an optimizer that counts its steps (it has a ``capturable`` option): a step
    counted on the host would replay one step forever from a CUDA graph, so a capture needs ``capturable=True``
    in every group; a capturable step outside a capture warns once that it is slower."""
    if "capturable" not in optimizer.defaults:
        return
    name = type(optimizer).__name__
    capturable = all(group["capturable"] for group in optimizer.param_groups)
    if _graph_capture.depth and not (capturable and name in _CAPTURABLE_STEPS):
        ember_only = "" if not capturable else f" (ember's {name} counts its steps on the host)"
        raise RuntimeError(
            f"Attempting CUDA graph capture of step() for an instance of {name} but "
            f"param_groups' capturable is False.{ember_only}"
        )
    if capturable and not _graph_capture.depth and not getattr(optimizer, "_warned_capturable_if_run_uncaptured", 0):
        _warn_capturable_uncaptured(optimizer)
    for group in optimizer.param_groups:
        if group["capturable"]:
            _check_capturable([p for p in group["params"] if p.grad is not None])


def _refusing_graph_capture(step: Callable) -> Callable:
    """``step`` preceded by the graph-capture health check."""

    @functools.wraps(step)
    def checked(self, *args: Any, **kwargs: Any) -> Any:
        _graph_capture_health_check(self)
        return step(self, *args, **kwargs)

    checked.__checks_graph_capture__ = True
    return checked


def _warn_capturable_uncaptured(optimizer: "Optimizer") -> None:
    from .. import cuda

    if cuda.is_available():  # as PyTorch: only where a capture could be
        warnings.warn(
            "This instance was constructed with capturable=True or some of all the param_groups came with "
            "capturable=True, but step() is running without CUDA graph capture. If you never intend to "
            "graph-capture this instance, capturable=True can impair performance, and you should set "
            "capturable=False.",
            stacklevel=4,
        )
        optimizer._warned_capturable_if_run_uncaptured = True


class Optimizer(OptimizerHooks):
    """Base class of all optimizers.

    ``params`` is an iterable of tensors, of ``(name, tensor)`` pairs, or of
    dicts (param groups) each holding ``"params"`` and per-group options;
    ``defaults`` fills the options a group leaves out.  ``self.state`` maps each
    parameter (the tensor object) to a dict of its state tensors.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Each step checks a CUDA graph capture first; the hooks and the profiler's range come with __init__'s
        # _patch_step_function (OptimizerHooks).
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "__checks_graph_capture__", False):
            cls.step = _refusing_graph_capture(step)

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, "
                "but got " + _typename(params)
            )
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)
        self._init_hooks()

    def __getstate__(self) -> dict[str, Any]:
        # as PyTorch: copies and pickles leave out what a scheduler patched in (a step bound to this object)
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    # PyTorch's built-in optimizers (and their subclasses) keep `step` as a tensor and make one of a plain number
    # from an older state_dict in their __setstate__; an optimizer of one's own keeps the int it stored.
    _steps_as_tensors = False

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Takes ``state`` (a pickle's, or load_state_dict's "state" and "param_groups", as PyTorch passes them:
        subclasses complete older groups here)."""
        self.__dict__.update(state)
        self._init_hooks()  # pickles and copies leave the hooks out, as PyTorch's
        if self._steps_as_tensors:
            for group in self.param_groups:
                on_device = group.get("capturable") or group.get("fused")
                for p in group["params"]:
                    p_state = self.state.get(p)
                    if p_state and "step" in p_state and not isinstance(p_state["step"], Tensor):
                        p_state["step"] = _step_tensor(float(p_state["step"]), p.device if on_device else None)

    def _accelerator_graph_capture_health_check(self) -> None:
        """Raises if a CUDA graph capture runs a step that counts on the host (PyTorch's name)."""
        _graph_capture_health_check(self)

    _cuda_graph_capture_health_check = _accelerator_graph_capture_health_check

    def __repr__(self) -> str:
        s = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            s += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    s += f"    {key}: {group[key]}\n"
        return s + ")"

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters, with its own options, to ``param_groups``."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the ordering of "
                "tensors in sets will change between runs. Please use a list instead."
            )
        params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        param_group["params"] = params
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            param_group["param_names"] = names
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is " + _typename(p))
            if not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)
        if len(set(map(id, params))) != len(params):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; in future, this will cause "
                "an error; see github.com/pytorch/pytorch/issues/40967 for more information",
                stacklevel=3,
            )
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        for group in self.param_groups:
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError(
                    "all optimizer param groups should be with/without names. "
                    f"cannot add param group {which} to the optimizer"
                )
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    @profiled_method(lambda self: f"Optimizer.zero_grad#{type(self).__name__}.zero_grad")
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's ``.grad``: to None (default), or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if p.grad.grad_fn is not None:
                        p.grad.detach_()
                    else:
                        p.grad.requires_grad_(False)
                    p.grad.zero_()

    def _init_state(self, group: dict[str, Any], p: Tensor, state: dict[str, Any]) -> None:
        """Fill the empty ``state`` of ``p`` (which has its ``step`` already) with the optimizer's buffers;
        ``_params_with_grad`` calls it on a parameter's first step (PyTorch's lazy state initialization)."""
        raise NotImplementedError

    def _params_with_grad(self, group: dict[str, Any]) -> Iterator[tuple[Tensor, Tensor, dict[str, Any]]]:
        """``(p, grad, state)`` for each parameter of ``group`` that has a gradient, as PyTorch's single-tensor
        steps begin: an empty state gets ``step`` (a float32 0-d tensor) and ``_init_state``'s buffers,
        ``step`` is counted, and ``grad`` is ``-p.grad`` when the group maximizes."""
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            if len(state) == 0:
                state["step"] = _step_tensor()
                self._init_state(group, p, state)
            state["step"].add_(1)
            yield p, (-p.grad if group["maximize"] else p.grad), state

    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        """Perform a single optimization step (parameter update); returns ``closure()``'s loss when given.

        Args:
            closure: re-evaluates the model and returns the loss; run with grad enabled.
        """
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """``{'state': {index: {...}}, 'param_groups': [{..., 'params': [index, ...]}]}``, as PyTorch.

        Parameters are numbered in param-group order; the state tensors are the
        optimizer's own (not copies), as in PyTorch. The state_dict hooks run around it.
        """
        return self._state_dict_with_hooks(self._packed_state)

    def _packed_state(self) -> dict[str, Any]:
        index = {}
        groups = []
        for group in self.param_groups:
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {(index[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load ``state_dict`` (from ``state_dict()``, possibly through ember.save/load).

        Saved parameters are matched to this optimizer's by position, as PyTorch. The load_state_dict hooks run
        around it.
        """
        self._load_state_dict_with_hooks(state_dict, self._load_packed_state)

    def _load_packed_state(self, state_dict: dict[str, Any]) -> None:
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError(
                "loaded state dict contains a parameter group that doesn't match the size of optimizer's group"
            )
        id_map = dict(
            zip(
                chain.from_iterable(g["params"] for g in saved_groups), chain.from_iterable(g["params"] for g in groups)
            )
        )
        on_device = {  # as PyTorch: a capturable or fused group keeps its counts on its parameters' devices
            index for g in saved_groups if g.get("capturable") or g.get("fused") for index in g["params"]
        }
        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = {key: _cast(param, value, key, k in on_device) for key, value in v.items()}
            else:
                state[k] = v
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            for key, default in self.defaults.items():  # a state_dict from an older version may lack options
                saved.setdefault(key, default)
        self.__setstate__({"state": state, "param_groups": saved_groups})


def _cast(param: Tensor, value: Any, key: str | None, step_on_device: bool = False) -> Any:
    """A state value for ``param``: tensors take the parameter's device and floating dtype, except ``step``
    (as PyTorch's, which keeps ``step`` where it was, or moves it to the parameter's device as float32 when
    ``step_on_device``: a capturable or fused group's)."""
    if isinstance(value, Tensor):
        if key == "step":
            return value.to(dtype=_C.dtype.float32, device=param.device) if step_on_device else value
        if not param.is_floating_point():
            return value.to(device=param.device)
        return value.to(dtype=param.dtype, device=param.device)
    if isinstance(value, dict):
        return {k: _cast(param, v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(param, v, None) for v in value)
    return value
