"""TorchScript's type objects (``torch.TensorType``, ``torch.DeviceObjType``, ``torch.ListType``, ...), which code
writes in annotations (open_clip, pytorch-forecasting) or compares, and the names of its graph classes
(``torch._C.Graph``, ``Node``, ``Value``, ``Block``), which code imports (snntorch). ember has no TorchScript: the
types are values with PyTorch's names, ``get()``, ``str`` and equality; the graph classes cannot be made."""

from __future__ import annotations

from typing import Any

__all__ = [
    "AnyType",
    "BoolType",
    "ComplexType",
    "DeviceObjType",
    "DictType",
    "FloatType",
    "IntType",
    "ListType",
    "NoneType",
    "NumberType",
    "OptionalType",
    "PyObjectType",
    "StreamObjType",
    "StringType",
    "SymBoolType",
    "SymIntType",
    "TensorType",
    "TupleType",
    "Type",
]


class Type:
    """The base of TorchScript's types; printed as PyTorch prints them (``int``, ``List[Tensor]``)."""

    _text = ""

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return self._text

    def kind(self) -> str:
        """The type's class name, as PyTorch's ``Type.kind()``."""
        return type(self).__name__

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and str(other) == str(self)

    def __hash__(self) -> int:
        return hash((type(self).__name__, str(self)))


class _Singleton(Type):
    """A type without parameters: ``get()`` gives its one instance."""

    _instances: dict[type, Type] = {}

    @classmethod
    def get(cls) -> Any:
        """The type's one instance."""
        if cls not in _Singleton._instances:
            _Singleton._instances[cls] = cls()
        return _Singleton._instances[cls]


def _singleton(name: str, text: str) -> type:
    return type(name, (_Singleton,), {"_text": text, "__module__": __name__, "__doc__": f"TorchScript's `{text}`."})


AnyType = _singleton("AnyType", "Any")
BoolType = _singleton("BoolType", "bool")
ComplexType = _singleton("ComplexType", "complex")
DeviceObjType = _singleton("DeviceObjType", "Device")
FloatType = _singleton("FloatType", "float")
IntType = _singleton("IntType", "int")
NoneType = _singleton("NoneType", "NoneType")
NumberType = _singleton("NumberType", "number")
PyObjectType = _singleton("PyObjectType", "PyObject")
StreamObjType = _singleton("StreamObjType", "Stream")
StringType = _singleton("StringType", "str")
SymBoolType = _singleton("SymBoolType", "bool")
SymIntType = _singleton("SymIntType", "int")
TensorType = _singleton("TensorType", "Tensor")


def _check_types(kind: str, *types: Any) -> None:
    for t in types:
        if not isinstance(t, Type):
            raise TypeError(f"{kind}(): expected a TorchScript type (ember.IntType.get(), ...), got {type(t).__name__}")


class _OneElementType(Type):
    """A type of one element type T, printed ``<form>[T]``."""

    _form = ""

    def __init__(self, element: Type) -> None:
        _check_types(type(self).__name__, element)
        self._element, self._text = element, f"{self._form}[{element}]"

    def getElementType(self) -> Type:
        """T."""
        return self._element


class ListType(_OneElementType):
    """``List[T]``."""

    _form = "List"


class OptionalType(_OneElementType):
    """``Optional[T]``."""

    _form = "Optional"


class TupleType(Type):
    """``Tuple[T1, T2, ...]``."""

    def __init__(self, elements: list[Type]) -> None:
        _check_types("TupleType", *elements)
        self._elements = list(elements)
        self._text = f"Tuple[{', '.join(map(str, elements))}]"

    def elements(self) -> list[Type]:
        """The element types."""
        return list(self._elements)


class DictType(Type):
    """``Dict[K, V]``."""

    def __init__(self, key: Type, value: Type) -> None:
        _check_types("DictType", key, value)
        self._key, self._value, self._text = key, value, f"Dict[{key}, {value}]"

    def getKeyType(self) -> Type:
        """K."""
        return self._key

    def getValueType(self) -> Type:
        """V."""
        return self._value


def _no_constructor(cls: type, *args: Any, **kwargs: Any) -> Any:
    raise TypeError(f"torch._C.{cls.__name__}: No constructor defined! (ember has no TorchScript graphs)")


def _graph_class(name: str) -> type:
    doc = f"``torch._C.{name}``: a class of TorchScript's graphs; only its name (ember has no TorchScript)."
    return type(name, (), {"__new__": _no_constructor, "__module__": "ember._C", "__doc__": doc})


_GRAPH_CLASSES = {
    name: _graph_class(name)
    for name in ("Graph", "Node", "Value", "Block", "ScriptMethod", "ScriptFunction", "ScriptObject")
}


def install(module: Any) -> None:
    """Attaches the types and the graph class names to the compiled module, where PyTorch defines them; a name
    the module already has keeps its meaning (``_C.Node`` is ember's autograd node)."""
    for name, value in (*((n, globals()[n]) for n in __all__), *_GRAPH_CLASSES.items()):
        if not hasattr(module, name):
            setattr(module, name, value)
