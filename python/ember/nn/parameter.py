"""nn.Parameter (a leaf tensor that a Module registers as a parameter) and nn.Buffer."""

from __future__ import annotations

from .._C import Tensor
from .._creation import empty


class Parameter(Tensor):
    """A Tensor that Modules register as a parameter when assigned as an attribute.

    It aliases ``data``'s memory (no copy) but not its history: a Parameter is
    always a leaf, requiring grad unless ``requires_grad=False``.

    Args:
        data: the parameter's values; an empty tensor when None.
        requires_grad: whether the parameter requires gradient.
    """

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        if data is None:
            data = empty(0)
        # _C.Tensor(t) is a fresh leaf viewing t's storage, as torch's _make_subclass.
        super().__init__(data)
        if requires_grad:
            self.requires_grad_(True)

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
        return isinstance(instance, Tensor) and getattr(instance, "_is_buffer", False)


class Buffer(metaclass=_BufferMeta):
    """Marks a tensor to be registered as a buffer when assigned as a Module attribute.

    ``Buffer(t)`` returns a plain Tensor sharing ``t``'s memory, tagged so that assignment registers it;
    ``persistent=False`` keeps it out of state_dict.
    """

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True) -> Tensor:
        if data is None:
            data = empty(0)
        t = Tensor(data)
        t._is_buffer = True
        t.persistent = persistent
        return t
