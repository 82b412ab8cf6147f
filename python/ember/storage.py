"""ember.storage, as ``torch.storage``: the storage classes (``UntypedStorage``, ``TypedStorage`` and the
legacy per-dtype ones), for code that imports them from this module."""

from ._storage import TypedStorage, UntypedStorage

__all__ = ["Storage", "TypedStorage", "UntypedStorage"]

Storage = UntypedStorage  # torch.storage.Storage: the storage base type annotations name
