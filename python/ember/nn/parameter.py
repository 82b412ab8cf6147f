"""nn.Parameter (a leaf tensor that a Module registers as a parameter) and nn.Buffer."""

from __future__ import annotations

from typing import Any

from .. import _C, _complex, _meta
from .._C import Tensor
from .._creation import empty


class _ParameterMeta(type(Tensor)):  # type: ignore[misc]
    """Parameter's metaclass, as PyTorch's: ``isinstance(t, Parameter)`` also holds for a tensor flagged
    ``_is_param`` (a stand-in some libraries build for a parameter)."""

    def __instancecheck__(cls, instance: Any) -> bool:
        if cls is Parameter and isinstance(instance, Tensor) and getattr(instance, "_is_param", False):
            return True
        return super().__instancecheck__(instance)


class Parameter(Tensor, metaclass=_ParameterMeta):
    """A Tensor that Modules register as a parameter when assigned as an attribute.

    It aliases ``data``'s memory (no copy) but not its history: a Parameter is
    always a leaf, requiring grad unless ``requires_grad=False``.

    Args:
        data: the parameter's values; an empty tensor when None.
        requires_grad: whether the parameter requires gradient.
    """

    # Ops on a parameter give plain tensors, as in PyTorch (Note [Torch function dispatch]).
    __torch_function__ = _C._disabled_torch_function_impl

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True) -> Any:
        if data is None:
            data = empty(0)
        if type(data) is _meta.MetaTensor:  # a parameter on the meta device (Note [Meta tensors])
            return _meta.parameter(data, requires_grad)
        if type(data) is _complex.ComplexTensor:  # a complex parameter (Note [Complex tensors])
            return _complex.parameter(data, requires_grad)
        # A fresh leaf viewing data's storage, built here as PyTorch's: Parameter has no __init__, so a
        # subclass whose own __new__ takes other arguments (geoopt's ManifoldParameter(data, manifold=...))
        # is left as its __new__ made it (Tensor.__init__ skips a constructed tensor).
        return Tensor._make_subclass(cls, data, requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __reduce_ex__(self, protocol: int) -> tuple:
        """pickle: a Parameter comes back as a Parameter with the same values and requires_grad."""
        return (_rebuild_parameter, (Tensor(self).detach().clone(), self.requires_grad), dict(self.__dict__) or None)

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.data.clone(), self.requires_grad)
        memo[id(self)] = result
        return result

    # Tensor's __eq__ is elementwise, so hashing falls back to identity, as torch.
    __hash__ = Tensor.__hash__


def _rebuild_parameter(data: Tensor, requires_grad: bool) -> Parameter:
    """Unpickles a Parameter (see Parameter.__reduce_ex__)."""
    return Parameter(data, requires_grad)


class _BufferMeta(type):
    # isinstance(t, Buffer) holds for a tensor marked by Buffer(...), as torch.nn.Buffer.
    def __instancecheck__(cls, instance):
        return isinstance(instance, (Tensor, _meta.MetaTensor)) and getattr(instance, "_is_buffer", False)


class Buffer(metaclass=_BufferMeta):
    """Marks a tensor to be registered as a buffer when assigned as a Module attribute.

    ``Buffer(t)`` returns a plain Tensor sharing ``t``'s memory, tagged so that assignment registers it;
    ``persistent=False`` keeps it out of state_dict.
    """

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True) -> Tensor:
        if data is None:
            data = empty(0)
        # a meta tensor (a model built on the meta device, as transformers' from_pretrained does) is marked
        # through an alias of its own kind (Note [Meta tensors])
        t = data.detach() if type(data) is _meta.MetaTensor else Tensor(data)
        t._is_buffer = True
        t.persistent = persistent
        return t


_UNINITIALIZED_SHAPE_MSG = (
    "Can't access the shape of an uninitialized parameter or buffer. "
    "This error usually happens in `load_state_dict` when trying to load "
    "an uninitialized parameter into an initialized one. "
    "Call `forward` to initialize the parameters before accessing their attributes."
)


class UninitializedTensorMixin:
    """The state of a lazy module's parameter or buffer before its shape is known (PyTorch's mixin of that name).

    It holds an empty tensor that only carries dtype and requires_grad, so that module.to(dtype) and optimizers
    built before the first forward keep working; its shape raises, because any shape read from it would be a lie.
    `materialize` gives it storage in place (the same Python object), so references held elsewhere stay valid.
    """

    cls_to_become: type | None = None
    __torch_function__ = _C._disabled_torch_function_impl  # its ops run as a plain tensor's

    def materialize(self, shape: tuple[int, ...], device: object = None, dtype: object = None) -> None:
        """Gives the tensor uninitialised storage of `shape` (dtype kept unless given) and turns it into
        `cls_to_become` (Parameter); a buffer, whose C++ class can't be assigned, is only marked materialized
        (the lazy module then swaps it for a plain tensor sharing its storage)."""
        if device is not None:
            _C._check_device(device if isinstance(device, _C.device) else _C.device(device))
        # Where it was made (PyTorch's materialize: the device and dtype of the placeholder unless given).
        dtype = dtype if dtype is not None else self.dtype
        self.data = empty(*shape, dtype=dtype, device=device if device is not None else self.device)
        if self.cls_to_become is not None and self.cls_to_become is not Tensor:
            self.__class__ = self.cls_to_become
        else:
            self._materialized = True

    @property
    def shape(self):  # noqa: ANN201 - ember.Size
        """Raises while uninitialized, as PyTorch: a lazy module's parameter has no shape before its forward."""
        if getattr(self, "_materialized", False):
            return Tensor.shape.__get__(self)
        raise RuntimeError(_UNINITIALIZED_SHAPE_MSG)

    def share_memory_(self):  # noqa: ANN201
        """Refused, as PyTorch: there is nothing to share yet."""
        raise RuntimeError(
            "Can't share memory on an uninitialized parameter or buffer. "
            "Call `forward` to initialize the parameters before calling "
            "`module.share_memory()`."
        )

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__}>"

    __str__ = __repr__


def is_lazy(param: object) -> bool:
    """Whether `param` is an UninitializedParameter or a not yet materialized UninitializedBuffer."""
    return isinstance(param, UninitializedTensorMixin) and not getattr(param, "_materialized", False)


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A Parameter whose shape is not known yet (lazy modules); becomes a Parameter when materialized.

    Args:
        requires_grad: whether the materialized parameter requires grad.
        device: where it is made (the default device when None).
        dtype: the dtype of the materialized parameter (the default dtype when None).
    """

    cls_to_become = Parameter

    def __new__(cls, requires_grad: bool = True, device: object = None, dtype: _C.dtype | None = None) -> Any:
        if device is not None:
            _C._check_device(device if isinstance(device, _C.device) else _C.device(device))
        return super().__new__(cls, empty(0, dtype=dtype, device=device), requires_grad)

    def __reduce_ex__(self, protocol: int) -> tuple:
        return (_rebuild_uninitialized, (type(self), self.requires_grad, self.dtype))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.requires_grad, device=self.device, dtype=self.dtype)
        memo[id(self)] = result
        return result

    __hash__ = Tensor.__hash__


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer whose shape is not known yet (lazy norm layers' running statistics).

    Args:
        requires_grad: whether the materialized buffer requires grad.
        device: where it is made (the default device when None).
        dtype: the dtype of the materialized buffer (the default dtype when None).
        persistent: whether the buffer goes into state_dict.
    """

    cls_to_become = Tensor

    def __init__(
        self,
        requires_grad: bool = False,
        device: object = None,
        dtype: _C.dtype | None = None,
        persistent: bool = True,
    ) -> None:
        if device is not None:
            _C._check_device(device if isinstance(device, _C.device) else _C.device(device))
        super().__init__(empty(0, dtype=dtype, device=device))
        if requires_grad:
            self.requires_grad_(True)
        self.persistent = persistent
        self._is_buffer = True

    def __reduce_ex__(self, protocol: int) -> tuple:
        return (_rebuild_uninitialized, (type(self), self.requires_grad, self.dtype))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(
            self.requires_grad, device=self.device, dtype=self.dtype, persistent=getattr(self, "persistent", True)
        )
        memo[id(self)] = result
        return result

    __hash__ = Tensor.__hash__


def _rebuild_uninitialized(cls: type, requires_grad: bool, dtype: _C.dtype) -> UninitializedTensorMixin:
    """Unpickles an UninitializedParameter or UninitializedBuffer (it has no values to save)."""
    return cls(requires_grad, dtype=dtype)
