"""Custom differentiable functions: ember.autograd.Function, as PyTorch's."""

from __future__ import annotations

import functools
import inspect
import warnings
from typing import Any, Callable

from .. import _C, _batched, _complex
from .._C import Tensor
from ..grad_mode import no_grad

# ember.autograd.forward_ad, once imported (it imports this module): apply() asks it whether a
# dual level is active, and hands it the outputs of a Function applied to dual tensors.
_forward_ad: Any = None


class FunctionCtx:
    """The `ctx` of forward/backward: save tensors, mark outputs, keep any attributes."""

    def save_for_backward(self, *tensors: Tensor | None) -> None:
        """Save tensors for ``backward``, which reads them back as ``ctx.saved_tensors``."""
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(
                    "save_for_backward can only save variables, but argument "
                    f"{tensors.index(t)} is of type {type(t).__name__}"
                )
        self._to_save = tensors

    def save_for_forward(self, *tensors: Tensor | None) -> None:
        """Save tensors for ``jvp``, which reads them back as ``ctx.saved_tensors``."""
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(
                    f"save_for_forward expects all arguments to be tensors; but got an argument of type {type(t)}."
                )
        self._saved_for_forward = tensors

    @property
    def saved_tensors(self) -> tuple[Tensor | None, ...]:
        """The tensors given to ``save_for_backward`` (in ``jvp``: to ``save_for_forward``); an error once
        backward has freed them."""
        if self.__dict__.get("_in_jvp"):
            return tuple(self.__dict__.get("_saved_for_forward", ()))
        handle = self.__dict__.get("_saved_handle")
        if handle is not None:
            if self.__dict__.get("_clear_on_access"):
                if self.__dict__.get("_accessed"):
                    raise RuntimeError(
                        "ctx.saved_tensors can only be accessed once when clear_saved_tensors_on_access=True"
                    )
                self._accessed = True
            saved = handle.unpack()  # raises once backward has freed them
            complex_saved = self.__dict__.get("_complex_saved")
            if complex_saved is not None:  # the node holds the pairs of complex tensors (Note [Complex tensors])
                saved = tuple(
                    _complex.ComplexTensor(t) if c and t is not None else t for t, c in zip(saved, complex_saved)
                )
            return saved
        return tuple(getattr(self, "_to_save", ()))

    @property
    def saved_variables(self) -> tuple[Tensor | None, ...]:
        """The old name of ``saved_tensors`` (deprecated, as in PyTorch)."""
        warnings.warn("'saved_variables' is deprecated; use 'saved_tensors'", DeprecationWarning, stacklevel=2)
        return self.saved_tensors

    def mark_non_differentiable(self, *tensors: Tensor) -> None:
        """Mark outputs of ``forward`` as not differentiable (they get no grad_fn)."""
        self._non_differentiable = tensors

    def mark_dirty(self, *tensors: Tensor) -> None:
        """Mark inputs that ``forward`` modified in place and returns: they take the node as their history."""
        self._dirty = tensors

    def set_materialize_grads(self, value: bool) -> None:
        """With False, ``backward`` gets None (not zeros) for outputs that received no gradient."""
        self.materialize_grads = value


_DIRTY_VIEW_WITH_SEVERAL_OUTPUTS = (
    "If your Function modifies inplace an input that is a view of another Tensor, your Function cannot return "
    "more than one Tensor. This is not supported by the current autograd engine. You should either make sure the "
    "input is not a view (using .clone() for example) or make your Function only return one Tensor (potentially "
    "splitting it into two Functions: one doing the inplace that returns a single Tensor and a second one that "
    "does the other operations)."
)


class Function:
    """Subclass with static `forward(ctx, *args)` and `backward(ctx, *grads)` (or `vjp`); call `.apply(*args)`."""

    # Set to True in a subclass: ctx.saved_tensors may be read once (PyTorch frees them then).
    clear_saved_tensors_on_access = False
    # forward_ad's own Functions: applied to duals, they are part of forward AD, not users of it.
    _forward_ad_internal = False
    # PyTorch's switch for vmap support: with it, ember applies the Function once per batch entry.
    generate_vmap_rule = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        warnings.warn(
            f"{type(self)} should not be instantiated. Methods on autograd functions are all static, so you should "
            "invoke them on the class itself. Instantiating an autograd function will raise an error in a future "
            "version of PyTorch.",
            DeprecationWarning,
            stacklevel=2,
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. Please use new-style autograd "
            "function with static forward method. (Example: https://pytorch.org/docs/stable/autograd.html"
            "#torch.autograd.Function)"
        )

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "backward" in cls.__dict__ and "vjp" in cls.__dict__:
            # PyTorch raises when backward runs, not when the class is defined.
            def both(ctx: Any, *grads: Any) -> Any:
                raise RuntimeError(
                    "Implementing both 'backward' and 'vjp' for a custom Function is not allowed. You should only "
                    "implement one of them."
                )

            cls.backward = staticmethod(both)
        elif cls.vjp is not Function.vjp and cls.backward is Function.backward:
            cls.backward = cls.vjp  # the two are one method under two names, as in PyTorch

    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        """Compute the outputs (run without recording a graph); define it in subclasses."""
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        """Return the gradient of each input of ``forward`` given those of its outputs; define it in subclasses."""
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom "
            "autograd.Function to use it with backward mode AD."
        )

    @staticmethod
    def vjp(ctx: Any, *grad_outputs: Any) -> Any:
        """Another name for ``backward``: define one of the two."""
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom "
            "autograd.Function to use it with backward mode AD."
        )

    @staticmethod
    def jvp(ctx: Any, *grad_inputs: Any) -> Any:
        """Forward-mode AD: return the tangent of each output given those of the inputs; define it in
        subclasses used with ``ember.autograd.forward_ad``."""
        raise NotImplementedError(
            "You must implement the jvp function for custom autograd.Function to use it with forward mode AD."
        )

    @staticmethod
    def vmap(info: Any, in_dims: Any, *args: Any) -> Any:
        """The batching rule of a custom Function, as PyTorch's: ``info`` has ``batch_size`` and
        ``randomness``; ``in_dims`` one int or None per argument; returns ``(outputs, out_dims)``."""
        raise NotImplementedError(
            "To use autograd.Function with vmap, you must either override the vmap staticmethod or set "
            "generate_vmap_rule=True."
        )

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Any) -> Any:
        """Optionally fill ``ctx`` here rather than in ``forward``, which then takes no ``ctx``."""
        raise NotImplementedError

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        """Run ``forward`` on ``args`` and, when an input requires grad, record the call in the graph."""
        if _batched.levels() and any(type(a) is _batched.BatchedTensor for a in (*args, *kwargs.values())):
            return _batched.apply_function(cls, Function.vmap, args, kwargs)
        ctx = FunctionCtx()
        separate_setup = cls.setup_context is not Function.setup_context
        if separate_setup:
            # setup_context sees forward's arguments with its defaults filled in, as in PyTorch.
            args = _bind_default_args(cls.forward, args, kwargs)
            kwargs = {}
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        tangents = None
        if _forward_ad is not None and _forward_ad._current_level >= 0 and not cls._forward_ad_internal:
            tangents = _forward_ad._input_tangents(cls, args)
        with no_grad():
            outputs = cls.forward(*args, **kwargs) if separate_setup else cls.forward(ctx, *args, **kwargs)
        if separate_setup:
            cls.setup_context(ctx, args, outputs)
        is_tuple = isinstance(outputs, tuple)
        outs = list(outputs) if is_tuple else [outputs]
        raw_outs = list(outs)
        dirty = []
        for t in getattr(ctx, "_dirty", ()):
            if not any(t is a for a in args):
                if t._base is not None:  # a view of an intermediate cannot be rebased: PyTorch refuses it
                    raise RuntimeError(
                        "ctx.mark_dirty() received a tensor that was not an input. Only input Tensors that have "
                        "been mutated should be passed to ctx.mark_dirty()."
                    )
                warnings.warn(
                    "Only input Tensors should be given to ctx.mark_dirty(). If a Tensor is not an input, there is "
                    "no need to pass it to mark_dirty().",
                    stacklevel=2,
                )
                continue
            dirty.append(t)
            if not any(t is o for o in outs):
                raise RuntimeError(
                    "Some elements marked as dirty during the forward method were not returned as output. The "
                    "inputs that are modified inplace must all be outputs of the Function."
                )
        if cls.clear_saved_tensors_on_access:
            ctx._clear_on_access = True
        to_save = list(getattr(ctx, "_to_save", ()))
        if _C.is_grad_enabled() and any(ctx.needs_input_grad):
            if len(outs) > 1 and any(t._base is not None for t in dirty):
                raise RuntimeError(_DIRTY_VIEW_WITH_SEVERAL_OUTPUTS)
            backward, node_args, non_differentiable = (
                cls.backward,
                list(args),
                list(getattr(ctx, "_non_differentiable", ())),
            )
            complex_node = _complex.function_node(backward, node_args, outs, [non_differentiable, dirty], to_save)
            if complex_node is not None:  # the node records the pairs of complex tensors (Note [Complex tensors])
                backward, node_args, outs, (non_differentiable, dirty), to_save, complex_outs, ctx._complex_saved = (
                    complex_node
                )
            try:
                outs = _C._make_function_node(
                    ctx,
                    backward,
                    cls.__dict__.get("_node_name") or cls.__name__ + "Backward",
                    node_args,
                    outs,
                    non_differentiable,
                    dirty,
                    to_save,
                    getattr(ctx, "materialize_grads", True),
                )
            finally:  # also when a saved-tensor pack hook raised (a checkpoint's early stop)
                ctx.__dict__.pop("_to_save", None)  # the node holds them now; ctx must not (no cycle)
            if complex_node is not None:
                outs = [_complex.ComplexTensor(o) if c else o for o, c in zip(outs, complex_outs)]
        elif _C.is_grad_enabled() and any(isinstance(o, Tensor) and o._base is not None for o in _complex.pairs(outs)):
            # No input requires grad: no node, but the views refuse in-place changes even so, as
            # PyTorch's (under no_grad they stay no_grad views).
            _C._mark_custom_function_views(_complex.pairs(outs))
        if tangents is not None:
            non_differentiable = getattr(ctx, "_non_differentiable", ())
            outs = _forward_ad._apply_jvp(cls, ctx, args, tangents, raw_outs, outs, dirty, non_differentiable)
        return tuple(outs) if is_tuple else outs[0]


def _bind_default_args(forward: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """forward's arguments as one positional tuple, its defaults filled in."""
    bound = inspect.signature(forward).bind(*args, **kwargs)
    bound.apply_defaults()
    return bound.args


class _OnceDifferentiableError(Function):
    """Stands after a once_differentiable backward when a graph is recorded: differentiating it raises.
    Its node is named Error, as PyTorch's DelayedError node."""

    _node_name = "Error"

    @staticmethod
    def forward(ctx: Any, *grads: Tensor | None) -> Any:
        return grads if len(grads) > 1 else grads[0]

    @staticmethod
    def backward(ctx: Any, *grads: Tensor) -> Any:
        raise RuntimeError("trying to differentiate twice a function that was marked with @once_differentiable")


def once_differentiable(backward: Callable[..., Any]) -> Callable[..., Any]:
    """Marks a backward that is not itself differentiable: it runs without recording a graph."""

    @functools.wraps(backward)
    def wrapper(ctx: Any, *grads: Any) -> Any:
        with no_grad():
            results = backward(ctx, *grads)
        if not _C.is_grad_enabled() or not any(isinstance(g, Tensor) and g.requires_grad for g in grads):
            return results
        # As PyTorch: the results come out of a node whose backward raises, with detached copies
        # of them (requiring grad) as its inputs, so create_graph can't silently be wrong.
        is_tuple = isinstance(results, tuple)
        res = list(results) if is_tuple else [results]
        if not any(isinstance(r, Tensor) for r in res):
            return results
        fakes = [r.detach().requires_grad_() if isinstance(r, Tensor) else None for r in res]
        wrapped = _OnceDifferentiableError.apply(*fakes)
        return (wrapped,) if is_tuple and len(res) == 1 else wrapped

    return wrapper
