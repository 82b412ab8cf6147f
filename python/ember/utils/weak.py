"""``torch.utils.weak``: weak references and weakly keyed dictionaries that compare keys by identity, since a
tensor's ``==`` is elementwise and its hash its id (libraries cache per tensor with them: tensordict)."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

__all__ = ["TensorWeakRef", "WeakIdKeyDictionary", "WeakIdRef", "WeakTensorKeyDictionary"]


class WeakIdRef(weakref.ref):
    """A weak reference that hashes and compares by the identity of its referent, also once it is gone."""

    __slots__ = ("_id",)

    def __new__(cls, key: Any, callback: Callable | None = None) -> WeakIdRef:
        ref = super().__new__(cls, key, callback)
        ref._id = id(key)
        return ref

    def __init__(self, key: Any, callback: Callable | None = None) -> None:
        super().__init__(key, callback)

    def __hash__(self) -> int:
        return self._id

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WeakIdRef):
            return NotImplemented
        mine, theirs = self(), other()
        if mine is not None and theirs is not None:
            return mine is theirs
        return self is other  # a dead reference equals only itself

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal


class WeakIdKeyDictionary(MutableMapping):
    """A dict whose keys are held weakly and told apart by identity: an entry goes when its key is collected."""

    def __init__(self, items: Any = None, ref_type: type = WeakIdRef) -> None:
        self.ref_type = ref_type
        self.data: dict[WeakIdRef, Any] = {}
        self_ref = weakref.ref(self)

        def remove(ref: WeakIdRef) -> None:
            owner = self_ref()
            if owner is not None:
                owner.data.pop(ref, None)

        self._remove = remove
        if items is not None:
            self.update(items)

    def _ref(self, key: Any, with_callback: bool = False) -> WeakIdRef:
        return self.ref_type(key, self._remove) if with_callback else self.ref_type(key)

    def __getitem__(self, key: Any) -> Any:
        return self.data[self._ref(key)]

    def __setitem__(self, key: Any, value: Any) -> None:
        self.data[self._ref(key, with_callback=True)] = value

    def __delitem__(self, key: Any) -> None:
        del self.data[self._ref(key)]

    def __contains__(self, key: object) -> bool:
        try:
            return self._ref(key) in self.data
        except TypeError:  # not weakly referenceable: never a key
            return False

    def __iter__(self) -> Iterator[Any]:
        for ref in list(self.data):
            key = ref()
            if key is not None:
                yield key

    def __len__(self) -> int:
        return sum(1 for ref in list(self.data) if ref() is not None)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} at {id(self):#x}>"

    def copy(self) -> WeakIdKeyDictionary:
        return type(self)(self.items(), ref_type=self.ref_type)

    __copy__ = copy


WeakTensorKeyDictionary = WeakIdKeyDictionary


class TensorWeakRef:
    """A weak reference to a tensor: ``ref()`` is the tensor, or None once it is collected."""

    __slots__ = ("ref",)

    def __init__(self, tensor: Any) -> None:
        self.ref = weakref.ref(tensor)

    def __call__(self) -> Any:
        return self.ref()
