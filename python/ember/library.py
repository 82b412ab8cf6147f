"""ember.library: PyTorch's custom operators (``torch.library.custom_op``). A custom op wraps a Python
function as one opaque op: called directly or as ``ember.ops.<namespace>.<name>``, it runs the function
without recording what happens inside, and it differentiates through the formula given with
``register_autograd`` (a backward without one raises PyTorch's error). ``register_fake`` gives the
shape-only version run on meta tensors, and ``register_kernel`` a function per device type (``"cpu"``,
``"cuda"``). ember has no dispatcher, so the op is Python calling Python; its use is the program structure
libraries write it for (transformers' MoE fallback, kernels with hand-written backwards)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any

from . import _C
from ._C import Tensor
from .grad_mode import no_grad

__all__ = ["CustomOpDef", "Library", "custom_op", "define", "fallthrough_kernel", "get_ctx", "impl", "impl_abstract",
           "register_autocast", "register_autograd", "register_fake", "register_kernel", "triton_op",
           "wrap_triton"]  # fmt: skip

_OPS: dict[str, CustomOpDef] = {}  # "namespace::name" -> its op
# fake implementations registered before their op is defined, as PyTorch keeps them by name (torchvision
# registers its ops' shape functions at import, whether or not its compiled ops loaded)
_PENDING_FAKES: dict[str, Callable[..., Any]] = {}


class CustomOpDef:
    """One custom op: ``op(*args)`` runs it; ``register_autograd``/``register_fake``/``register_kernel``
    complete it (as methods or decorators)."""

    def __init__(self, namespace: str, name: str, fn: Callable[..., Any], mutates_args: Any) -> None:
        self._namespace, self._name, self._init_fn = namespace, name, fn
        self._mutates_args = mutates_args
        self._kernels: dict[str, Callable[..., Any]] = {}
        self._fake: Callable[..., Any] | None = None
        self._backward: Callable[..., Any] | None = None
        self._setup_context: Callable[..., Any] | None = None
        self._function: type | None = None  # the autograd.Function that runs it, made at the first graph
        self.__name__ = name
        self.__doc__ = fn.__doc__
        self._signature = inspect.signature(fn)
        self._autograd_kernel = False  # True once Library.impl registered a kernel for the Autograd key

    def _with_keywords(self, kernel: Callable[..., Any]) -> Callable[..., Any]:
        """``kernel`` taking the bound arguments in order: the keyword-only ones go to it by name."""
        names = [p.name for p in self._signature.parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY]
        if not names:
            return kernel
        first = len(self._signature.parameters) - len(names)
        return lambda *inputs: kernel(*inputs[:first], **dict(zip(names, inputs[first:])))

    @property
    def _qualname(self) -> str:
        return f"{self._namespace}::{self._name}"

    def __repr__(self) -> str:
        return f"<CustomOpDef({self._qualname})>"

    @property
    def default(self) -> CustomOpDef:
        """The op's one overload (``torch.ops.ns.name.default``)."""
        return self

    def register_kernel(self, device_types: str | Iterable[str] | None, fn: Callable[..., Any] | None = None) -> Any:
        """``fn`` runs the op for tensors on ``device_types`` (None: every device)."""

        def register(kernel: Callable[..., Any]) -> Callable[..., Any]:
            kinds = [device_types] if isinstance(device_types, str) else list(device_types or ["default"])
            for kind in kinds:
                self._kernels[kind] = kernel
            return kernel

        return register(fn) if fn is not None else register

    def register_fake(self, fn: Callable[..., Any] | None = None, /) -> Any:
        """``fn`` gives the op's outputs for meta tensors (shapes and dtypes only)."""

        def register(fake: Callable[..., Any]) -> Callable[..., Any]:
            self._fake = fake
            return fake

        return register(fn) if fn is not None else register

    def register_autograd(
        self, backward: Callable[..., Any], /, *, setup_context: Callable[..., Any] | None = None
    ) -> None:
        """``backward(ctx, *grads)`` gives one gradient per input (None for non-tensors);
        ``setup_context(ctx, inputs, output)`` saves what it needs."""
        self._backward, self._setup_context = backward, setup_context

    def _kernel_for(self, tensors: list[Tensor]) -> Callable[..., Any]:
        kinds = {t.device.type for t in tensors}
        if "meta" in kinds:
            if self._fake is None:
                raise NotImplementedError(
                    f"{self._qualname}: there was no fake impl registered for this custom op; use register_fake"
                )
            return self._fake
        for kind in kinds:
            if kind in self._kernels:
                return self._kernels[kind]
        return self._kernels.get("default", self._init_fn)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        bound = self._signature.bind(*args, **kwargs)
        bound.apply_defaults()
        inputs = tuple(bound.arguments.values())
        tensors = [a for a in inputs if isinstance(a, Tensor)]
        kernel = self._with_keywords(self._kernel_for(tensors))
        if self._autograd_kernel:  # registered for the Autograd key: it builds its own graph
            return kernel(*inputs)
        needs_graph = _C.is_grad_enabled() and any(t.requires_grad for t in tensors)
        if not needs_graph:
            with no_grad():
                return kernel(*inputs)
        if self._function is None:
            self._function = _op_function(self)
        return self._function.apply(kernel, *inputs)


def _op_function(op: CustomOpDef) -> type:
    """The autograd.Function that runs ``op`` as one node named after it."""
    from .autograd.function import Function

    class Generated(Function):
        @staticmethod
        def forward(ctx: Any, kernel: Callable[..., Any], *inputs: Any) -> Any:
            # the op's backward sees its own inputs: the kernel slot of apply() is not one of them
            ctx.needs_input_grad = ctx.needs_input_grad[1:]
            with no_grad():
                output = kernel(*inputs)
            if op._setup_context is not None:
                op._setup_context(ctx, inputs, output)
            return output

        @staticmethod
        def backward(ctx: Any, *grads: Any) -> Any:
            if op._backward is None:
                raise RuntimeError(
                    f"Trying to backward through {op._namespace}.{op._name}.default but no autograd formula was "
                    "registered. Please use register_autograd to add one."
                )
            result = op._backward(ctx, *grads)
            return (None, *(result if isinstance(result, tuple) else (result,)))

    Generated.__name__ = Generated.__qualname__ = f"GeneratedBackwardFor_{op._namespace}_{op._name}_default"
    return Generated


def _lookup(op: str | CustomOpDef) -> CustomOpDef:
    if isinstance(op, CustomOpDef):
        return op
    if op not in _OPS:
        raise ValueError(f"{op}: no custom op of that name (define it with ember.library.custom_op first)")
    return _OPS[op]


def _check_annotations(fn: Callable[..., Any], name: str) -> None:
    for parameter in inspect.signature(fn).parameters.values():
        if parameter.annotation is inspect.Parameter.empty:
            raise ValueError(
                f"infer_schema(func): Parameter {parameter.name} must have a type annotation. Got func with "
                f"signature {inspect.signature(fn)})"
            )


def custom_op(name: str, fn: Callable[..., Any] | None = None, /, *, mutates_args: Any,
              device_types: str | Iterable[str] | None = None, schema: str | None = None,
              tags: Any = None) -> Any:  # fmt: skip
    """Makes ``fn`` the custom op ``"namespace::name"`` (a decorator without ``fn``). Without a ``schema``,
    every parameter needs a type annotation, as PyTorch infers the schema from them; with one, the annotations
    are not needed (ember binds arguments by ``fn``'s signature, so the schema is not parsed). ``mutates_args``
    declares what ``fn`` writes: ember runs ``fn`` itself, so its in-place writes happen (and bump the
    tensors' versions) as declared. ``tags`` are for PyTorch's compiler and change nothing here."""
    if "::" not in name:
        raise ValueError(f"Expected `name` to be of the form 'namespace::name', got {name!r}")
    namespace, short = name.split("::", 1)

    def define(func: Callable[..., Any]) -> CustomOpDef:
        if schema is None:
            _check_annotations(func, name)
        op = CustomOpDef(namespace, short, func, mutates_args)
        if name in _PENDING_FAKES:
            op.register_fake(_PENDING_FAKES.pop(name))
        if device_types is not None:
            op.register_kernel(device_types, func)
        _OPS[name] = op
        return op

    return define(fn) if fn is not None else define


def triton_op(name: str, fn: Callable[..., Any] | None = None, /, *, mutates_args: Any,
              schema: str | None = None) -> Any:  # fmt: skip
    """A custom op whose body launches Triton kernels (through ``wrap_triton``), which PyTorch's compiler can
    look into. ember compiles nothing, so it is a ``custom_op`` like any other: the body runs as written, and
    ``register_fake``/``register_autograd``/``register_kernel`` complete it (spikingjelly defines its neurons'
    kernels so)."""
    return custom_op(name, fn, mutates_args=mutates_args, schema=schema)


def wrap_triton(triton_kernel: Any, /) -> Any:
    """A Triton kernel made visible to PyTorch's compiler inside a ``triton_op``. ember does not trace, so it is
    the kernel itself: ``wrap_triton(kernel)[grid](...)`` launches it as ``kernel[grid](...)`` would."""
    return triton_kernel


def get_ctx() -> None:
    """The context of the fake implementation being run, as PyTorch's: None, since ember runs a fake
    implementation as a plain function on meta tensors (PyTorch also answers None outside one)."""
    return None


def register_fake(op: str | CustomOpDef, fn: Callable[..., Any] | None = None, /, **kwargs: Any) -> Any:
    if isinstance(op, str) and op not in _OPS:  # kept for when the op is defined

        def keep(fake: Callable[..., Any]) -> Callable[..., Any]:
            _PENDING_FAKES[op] = fake
            return fake

        return keep(fn) if fn is not None else keep
    return _lookup(op).register_fake(fn) if fn is not None else _lookup(op).register_fake


def register_autograd(op: str | CustomOpDef, backward: Callable[..., Any], /, *,
                      setup_context: Callable[..., Any] | None = None, lib: Any = None) -> None:  # fmt: skip
    _lookup(op).register_autograd(backward, setup_context=setup_context)


def register_kernel(op: str | CustomOpDef, device_types: str | Iterable[str] | None,
                    fn: Callable[..., Any] | None = None, /, **kwargs: Any) -> Any:  # fmt: skip
    return _lookup(op).register_kernel(device_types, fn)


class _Namespace:
    """``ember.ops.<namespace>``: that namespace's custom ops by name."""

    def __init__(self, namespace: str) -> None:
        self._namespace = namespace

    def __getattr__(self, name: str) -> CustomOpDef:
        op = _OPS.get(f"{self._namespace}::{name}")
        if op is None:
            raise AttributeError(f"'_OpNamespace' '{self._namespace}' object has no attribute '{name}'")
        return op


class _Ops:
    """``ember.ops``: custom ops by namespace (``ember.ops.mylib.mysin``), and PyTorch's own ops by their
    ATen names (``ember.ops.aten.add.Tensor``), run by ember's functions (Note [ATen op names])."""

    def __getattr__(self, namespace: str) -> Any:
        if namespace.startswith("__"):
            raise AttributeError(namespace)
        if namespace == "aten":  # PyTorch's own ops, by their ATen names (Note [ATen op names])
            from ._ops import aten

            return aten
        return _Namespace(namespace)

    def load_library(self, path: str) -> None:
        """Refuses, with the OSError PyTorch raises for a library it cannot load: a compiled operator library
        (torchvision's ``_C``, a C++ extension) registers its ops with PyTorch's C++ dispatcher, which ember
        does not have. Libraries that catch the OSError (torchvision does) go on without their compiled ops."""
        raise OSError(
            f"ember cannot load the compiled operator library {path!r}: its ops register with PyTorch's C++ "
            "dispatcher, which ember does not have (define ops in Python with ember.library.custom_op)"
        )


ops = _Ops()

from ._library_def import Library, define, fallthrough_kernel, impl, register_autocast  # noqa: E402

impl_abstract = register_fake  # PyTorch's older name for register_fake
