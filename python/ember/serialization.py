"""ember.save / ember.load in PyTorch's own checkpoint format (``torch.save``'s zip archive).

Note [Why not pickle]
---------------------
Unpickling runs whatever code the file names, so a downloaded checkpoint loaded
with plain ``pickle`` can execute arbitrary code.  ember nevertheless writes
PyTorch's pickle-based zip format, because that is what every checkpoint in the
wild is, and interchange with ``torch.save``/``torch.load`` in both directions
is worth more than a format of ember's own; what makes loading safe is the
unpickler, not the format.  As PyTorch 2.6+, ``load`` defaults to
``weights_only=True``: a restricted unpickler that resolves only an allow-list
of globals (tensor rebuild functions, storage types, dtypes, ``OrderedDict``,
``torch.Size``, plain containers, the same list as PyTorch's
``_weights_only_unpickler``) to ember's own harmless equivalents, and raises
``pickle.UnpicklingError`` ("Weights only load failed ... Unsupported global")
for anything else, before anything is called.  Numpy arrays are not on the
list, as in PyTorch: allow-list them with ``add_safe_globals`` /
``safe_globals``; ``get_unsafe_globals_in_checkpoint`` lists what a file
would need, calling nothing.  Any other failure of a weights-only load is an
``UnpicklingError`` too, as in PyTorch.  ``weights_only=False`` is a full
unpickle for trusted files (whole modules need it, as in PyTorch).  Every tensor
view is checked against the bounds of its storage, and bool storages for bytes
other than 0 and 1, so a forged file cannot read memory it does not own.

ember's earlier JSON-header format (``EMBERSAV``) is gone: it was readable by
nothing but ember, and the zip format carries a CRC-32 per record, which
``load`` checks, so corruption is still detected.

File layout (as PyTorch writes it; an uncompressed zip, records 64-byte aligned)::

    archive/data.pkl            the object, pickled (protocol 2 unless pickle_protocol says otherwise);
                                a tensor is  torch._utils._rebuild_tensor_v2(storage, offset, size, stride,
                                requires_grad, OrderedDict())  with the storage a persistent id
                                ('storage', torch.FloatStorage, key, location, numel), the location
                                'cpu' or 'cuda:N' (the device the storage was on)
    archive/.format_version     b"1"
    archive/.storage_alignment  b"64"
    archive/byteorder           b"little"
    archive/data/<key>          each storage's raw little-endian bytes
    archive/version             b"3\\n"

ember has no storage objects; ``save`` finds the storages from the tensors'
memory: tensors of one dtype on one device whose memory ranges overlap are views
of one allocation and are written as one storage covering just the range they
use (PyTorch writes the whole allocation; a CUDA storage is copied to the host
once), so views come back sharing memory, as in PyTorch.  ``load`` puts each
storage where its location (or ``map_location``) says, once, before making the
views of it: CUDA tensors come back on their device, still sharing.  ember
objects pickle under PyTorch's names (``Parameter`` as
``torch._utils._rebuild_parameter``, ``Size`` as ``torch.Size``, dtypes as
``torch.float32``...), so ``torch.load`` reads ember's state dicts with
``weights_only=True``; and ``load`` maps those names back to ember's.
"""

from __future__ import annotations

import _compat_pickle
import bisect
import collections
import contextlib
import ctypes
import enum
import io
import math
import os
import pickle
import struct
import sys
import warnings
import zipfile
import zlib
from typing import IO, Any, Callable, Iterable, Iterator, Optional, Union

import numpy as np

from . import _C, _complex
from ._C import Tensor

__all__ = [
    "save",
    "load",
    "add_safe_globals",
    "clear_safe_globals",
    "get_safe_globals",
    "get_unsafe_globals_in_checkpoint",
    "safe_globals",
    "LoadEndianness",
    "get_default_load_endianness",
    "set_default_load_endianness",
    "SourceChangeWarning",
    "normalize_storage_type",
]

DEFAULT_PROTOCOL = 2  # as torch.serialization
_ALIGN = 64

# The names code annotates with or imports from torch.serialization (pyro's param store, Lightning).
FileLike = Union[str, os.PathLike, IO[bytes]]
MAP_LOCATION = Optional[Union[Callable[[Any, str], Any], _C.device, str, dict]]
STORAGE = Any  # PyTorch's Storage | TypedStorage | UntypedStorage; ember's storages are its tensors' memory


class SourceChangeWarning(Warning):
    """PyTorch's warning that a pickled module's source changed; ember never raises it (it does not keep
    module sources in checkpoints)."""


class LoadEndianness(enum.Enum):
    NATIVE = 1
    LITTLE = 2
    BIG = 3


_load_endianness: list[LoadEndianness | None] = [None]


def get_default_load_endianness() -> LoadEndianness | None:
    """The byte order set for checkpoints without a ``byteorder`` record. It is kept, and changes nothing:
    ember reads every checkpoint as little-endian, the byte order of the machines PyTorch and ember run on."""
    return _load_endianness[0]


def set_default_load_endianness(endianness: LoadEndianness | None) -> None:
    if endianness is not None and not isinstance(endianness, LoadEndianness):
        raise TypeError("Invalid argument type in function set_default_load_endianness")
    _load_endianness[0] = endianness


def location_tag(storage: Any) -> str:
    """Where a tensor's memory is, as a checkpoint records it: 'cpu' or 'cuda:N'."""
    device = storage.device
    return "cpu" if device.type == "cpu" else f"{device.type}:{device.index or 0}"


def normalize_storage_type(storage_type: type) -> Any:
    """The ember storage class of the same name (``ember.FloatStorage`` for a ``FloatStorage`` class)."""
    import ember

    return getattr(ember, storage_type.__name__)


def check_module_version_greater_or_equal(
    module: Any, req_version_tuple: tuple, error_if_malformed: bool = True
) -> bool:
    """Whether ``module.__version__`` is at least ``req_version_tuple`` (PyTorch's helper)."""
    parts = str(module.__version__).split("+")[0].split(".")
    try:
        version = tuple(type(req)(part) for req, part in zip(req_version_tuple, parts))
    except ValueError as error:
        message = (
            f"'{module.__name__}' module version string is malformed '{module.__version__}' and cannot be "
            f"compared with tuple {req_version_tuple}"
        )
        if error_if_malformed:
            raise RuntimeError(message) from error
        warnings.warn(message + ", but continuing assuming that requirement is met", stacklevel=2)
        return True
    return version >= req_version_tuple


_ARCHIVE = "archive"

# ----------------------------------------------------------------------------- names shared with PyTorch

# torch dtype name -> (its legacy storage class, the numpy dtype of its bytes on disk)
_TORCH_DTYPES = {
    "float32": ("FloatStorage", "<f4"),
    "float64": ("DoubleStorage", "<f8"),
    "int64": ("LongStorage", "<i8"),
    "int32": ("IntStorage", "<i4"),
    "bool": ("BoolStorage", "|b1"),
    "float16": ("HalfStorage", "<f2"),
    "bfloat16": ("BFloat16Storage", "<u2"),  # numpy has no bfloat16: the raw 16 bits
    "int16": ("ShortStorage", "<i2"),
    "int8": ("CharStorage", "|i1"),
    "uint8": ("ByteStorage", "|u1"),
    # no legacy class: PyTorch saves these as bytes (UntypedStorage) with _rebuild_tensor_v3
    "uint16": ("UntypedStorage", "<u2"),
    "uint32": ("UntypedStorage", "<u4"),
    "uint64": ("UntypedStorage", "<u8"),
    "complex64": ("ComplexFloatStorage", "<c8"),
    "complex128": ("ComplexDoubleStorage", "<c16"),
}
_TORCH_DTYPE_ALIASES = {"float": "float32", "double": "float64", "long": "int64", "int": "int32", "half": "float16"}
# storage class name -> the torch dtype of its elements
_STORAGE_DTYPES = {storage: dtype for dtype, (storage, _) in _TORCH_DTYPES.items()}
_STORAGE_DTYPES["UntypedStorage"] = "uint8"  # bytes; _rebuild_tensor_v3 names the dtype


class _StorageType:
    """What a torch storage class name (``torch.FloatStorage``) unpickles to: its element type."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.dtype_name = _STORAGE_DTYPES[name]
        self.np_dtype = np.dtype(_TORCH_DTYPES[self.dtype_name][1])

    def __repr__(self) -> str:
        return f"torch.{self.name}"


class _ForeignDType:
    """A torch dtype ember does not have (``torch.float16``...), kept by name."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"torch.{self.name}"


_STORAGE_TYPE_OBJECTS = {name: _StorageType(name) for name in _STORAGE_DTYPES}
_FOREIGN_DTYPES = {name: _ForeignDType(name) for name in _TORCH_DTYPES if not hasattr(_C.dtype, name)}


# ----------------------------------------------------------------------------- rebuilding tensors (load)


class _LoadedStorage:
    """One storage read from the archive: its raw bytes (shared by every tensor viewing it)."""

    def __init__(self, data: np.ndarray, storage_type: _StorageType, location: str) -> None:
        self.data = data  # 1-D uint8, writable
        self.storage_type = storage_type
        self.location = location
        self.bools_checked = False
        # its elements where map_location / its location put them (a 1-D tensor, its views made
        # with as_strided); None: on the CPU, as read, its views made over `data` itself
        self.moved: Tensor | None = None

    def as_tensor(self) -> Tensor:
        """The storage's elements as a 1-D CPU tensor sharing its bytes (what a callable map_location receives)."""
        arr = _typed_view(self, self.storage_type.np_dtype)
        if self.storage_type.dtype_name == "bfloat16":
            return _C.from_numpy(arr.view(np.int16)).view(_C.dtype.bfloat16)
        return _C.from_numpy(arr)


def _check_bools(storage: _LoadedStorage) -> None:
    """Any byte but 0 and 1 in a bool tensor is undefined behaviour in C++: refuse forged ones."""
    if not storage.bools_checked:
        if storage.data.size and storage.data.max() > 1:
            raise pickle.UnpicklingError("a bool storage holds bytes other than 0 and 1")
        storage.bools_checked = True


def _ember_dtype_name(torch_name: str) -> str:
    """ember's dtype name for a torch dtype name."""
    if hasattr(_C.dtype, torch_name):
        return torch_name
    raise TypeError(f"ember.load: the file holds a tensor of dtype torch.{torch_name}, which ember does not support")


def _typed_view(storage: _LoadedStorage, np_dtype: np.dtype) -> np.ndarray:
    raw = storage.data
    if raw.nbytes % np_dtype.itemsize:
        raise pickle.UnpicklingError(f"storage of {raw.nbytes} bytes is not a whole number of {np_dtype} elements")
    arr = raw.view(np_dtype)
    if np_dtype.byteorder == "<" and sys.byteorder != "little":
        arr = arr.astype(np_dtype.newbyteorder("="))
    return arr


def _check_view(numel: int, offset: Any, size: Any, stride: Any) -> None:
    """Refuse a view that would reach outside its storage (a forged file must not read foreign memory)."""
    ok = isinstance(offset, int) and offset >= 0 and len(size) == len(stride)
    ok = ok and all(isinstance(x, int) and x >= 0 for x in (*size, *stride))
    if ok and math.prod(size) > 0:
        ok = offset + sum((n - 1) * s for n, s in zip(size, stride)) < numel
    if not ok:
        raise pickle.UnpicklingError(
            f"invalid tensor view: offset {offset}, size {tuple(size)}, stride {tuple(stride)} "
            f"of a storage of {numel} elements"
        )


def _view_of(storage: Any, dtype_name: str, offset: Any, size: Any, stride: Any) -> Tensor:
    """The tensor (size, stride, offset) over a loaded storage's bytes, sharing them."""
    if not isinstance(storage, _LoadedStorage):
        raise pickle.UnpicklingError(f"expected a storage, got {type(storage).__name__}")
    try:
        size, stride = tuple(size), tuple(stride)
    except TypeError:
        raise pickle.UnpicklingError(f"invalid tensor size {size!r} or stride {stride!r}") from None
    arr = _typed_view(storage, np.dtype(_TORCH_DTYPES[dtype_name][1]))
    _check_view(arr.size, offset, size, stride)
    if dtype_name == "bool":
        _check_bools(storage)
    dtype = getattr(_C.dtype, _ember_dtype_name(dtype_name))
    base = storage.moved
    if math.prod(size) == 0 and dtype.is_complex:
        return _complex.create("zeros", list(size), dtype, "cpu", False)
    if math.prod(size) == 0:
        empty = _C._empty(list(size), dtype)
        return empty if base is None else empty.to(base.device)
    if base is not None:  # the storage moved (to a CUDA device...): its views share the moved copy
        if base.dtype != dtype:  # an UntypedStorage's bytes (_rebuild_tensor_v3): the same bytes retyped
            base = base.view(dtype)
        return base.as_strided(size, stride, offset)
    view = np.lib.stride_tricks.as_strided(
        arr[offset:], shape=size, strides=[s * arr.itemsize for s in stride], writeable=True
    )
    if dtype_name in ("complex64", "complex128"):  # the pairs' view of the same memory (Note [Complex tensors])
        parts = np.lib.stride_tricks.as_strided(
            arr[offset:].view(arr.real.dtype),
            shape=(*size, 2),
            strides=[s * arr.itemsize for s in stride] + [arr.itemsize // 2],
            writeable=True,
        )
        return _complex.ComplexTensor(_C.from_numpy(parts))
    if dtype_name == "bfloat16":  # numpy has no bfloat16: its 16 bits viewed as int16, then as bfloat16
        return _C.from_numpy(view.view(np.int16)).view(_C.dtype.bfloat16)
    return _C.from_numpy(view)  # shares the storage's memory with the other views of it


def _dtype_name_of_storage(storage: Any) -> str:
    if not isinstance(storage, _LoadedStorage):
        raise pickle.UnpicklingError(f"expected a storage, got {type(storage).__name__}")
    return storage.storage_type.dtype_name


def _finish(t: Tensor, requires_grad: Any) -> Tensor:
    if requires_grad:
        t.requires_grad_(True)
    return t


def _rebuild_tensor_v2(
    storage: Any, storage_offset: int, size: Any, stride: Any, requires_grad: bool, backward_hooks: Any, metadata=None
) -> Tensor:
    """ember's ``torch._utils._rebuild_tensor_v2``: a view of a loaded storage."""
    return _finish(_view_of(storage, _dtype_name_of_storage(storage), storage_offset, size, stride), requires_grad)


def _rebuild_tensor_v3(
    storage: Any,
    storage_offset: int,
    size: Any,
    stride: Any,
    requires_grad: bool,
    backward_hooks: Any,
    dtype: Any,
    metadata=None,
) -> Tensor:
    """ember's ``torch._utils._rebuild_tensor_v3``: as v2 with the dtype given apart from the storage."""
    name = dtype.name if isinstance(dtype, (_C.dtype, _ForeignDType)) else None
    if name not in _TORCH_DTYPES:
        raise pickle.UnpicklingError(f"invalid dtype {dtype!r}")
    return _finish(_view_of(storage, name, storage_offset, size, stride), requires_grad)


def _rebuild_tensor(storage: Any, storage_offset: int, size: Any, stride: Any) -> Tensor:
    """ember's ``torch._utils._rebuild_tensor`` (older files)."""
    return _view_of(storage, _dtype_name_of_storage(storage), storage_offset, size, stride)


def _parameter_class() -> type:
    from .nn import Parameter

    return Parameter


def _rebuild_parameter(data: Any, requires_grad: bool, backward_hooks: Any) -> Tensor:
    """ember's ``torch._utils._rebuild_parameter``: an ``nn.Parameter`` sharing ``data``'s memory."""
    if not isinstance(data, Tensor):
        raise pickle.UnpicklingError(f"Parameter data must be a tensor, got {type(data).__name__}")
    return _parameter_class()(data, requires_grad=bool(requires_grad))


def _rebuild_parameter_with_state(data: Any, requires_grad: bool, backward_hooks: Any, state: Any) -> Tensor:
    """ember's ``torch._utils._rebuild_parameter_with_state``: a Parameter with extra attributes."""
    param = _rebuild_parameter(data, requires_grad, backward_hooks)
    _set_state(param, state)
    return param


def _set_state(obj: Any, state: Any) -> None:
    if isinstance(state, tuple) and len(state) == 2:  # (dict state, slots state)
        state = {**(state[0] or {}), **(state[1] or {})}
    if isinstance(state, dict):
        for k, v in state.items():
            if isinstance(k, str) and not k.startswith("__"):
                setattr(obj, k, v)


def _rebuild_from_type_v2(func: Callable, new_type: Any, args: tuple, state: Any) -> Any:
    """ember's ``torch._tensor._rebuild_from_type_v2``: plain tensors, Parameters and Tensor subclasses with
    their attributes."""
    if func not in _REBUILD_FUNCTIONS:
        raise pickle.UnpicklingError(f"_rebuild_from_type_v2 with the function {func!r} is not allowed")
    ret = func(*args)
    if new_type is _parameter_class() and type(ret) is not new_type:
        ret = _parameter_class()(ret, requires_grad=ret.requires_grad)
    elif isinstance(new_type, type) and issubclass(new_type, Tensor) and type(ret) is not new_type:
        ret = Tensor._make_subclass(new_type, ret, ret.requires_grad)  # a Tensor subclass: a leaf of its type
    _set_state(ret, state)
    return ret


def _unsupported(what: str) -> Callable[..., Any]:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"ember.load: the file holds {what}, which ember does not support")

    return refuse


def _make_size(*args: Any) -> Any:
    from ._tensor import Size

    return Size(*args)


def _make_device(*args: Any) -> Any:
    return _C.device(*args)


def _get_layout(name: str) -> str:
    return name


_REBUILD_FUNCTIONS = {_rebuild_tensor, _rebuild_tensor_v2, _rebuild_tensor_v3, _rebuild_parameter}
_REBUILD_FUNCTIONS.add(_rebuild_parameter_with_state)


def _default_safe_globals() -> dict[str, Any]:
    """What each global PyTorch's weights-only unpickler allows resolves to in ember."""
    import codecs

    table: dict[str, Any] = {
        "collections.OrderedDict": collections.OrderedDict,
        "collections.Counter": collections.Counter,
        "torch.nn.parameter.Parameter": _parameter_class,  # resolved lazily: see _SafeUnpickler
        "torch.serialization._get_layout": _get_layout,
        "torch.Size": _make_size,
        "torch.Tensor": Tensor,
        "torch.device": _make_device,
        "_codecs.encode": codecs.encode,
        "builtins.bytearray": bytearray,
        "builtins.set": set,
        "builtins.complex": complex,
        "torch._utils._rebuild_tensor": _rebuild_tensor,
        "torch._utils._rebuild_tensor_v2": _rebuild_tensor_v2,
        "torch._utils._rebuild_tensor_v3": _rebuild_tensor_v3,
        "torch._utils._rebuild_parameter": _rebuild_parameter,
        "torch._utils._rebuild_parameter_with_state": _rebuild_parameter_with_state,
        "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2,
    }
    for name in ("sparse_tensor", "nested_tensor", "qtensor", "meta_tensor_no_storage", "wrapper_subclass"):
        table[f"torch._utils._rebuild_{name}"] = _unsupported(name.replace("_", " ") + "s")
    table["torch._utils._rebuild_device_tensor_from_numpy"] = _unsupported("device tensors")
    table["torch._utils._rebuild_device_tensor_from_cpu_tensor"] = _unsupported("device tensors")
    for name, obj in _STORAGE_TYPE_OBJECTS.items():
        table[f"torch.{name}"] = obj
        table[f"torch.storage.{name}"] = obj
    table["torch.storage.TypedStorage"] = _unsupported("TypedStorage objects")
    for name in _TORCH_DTYPES:
        table[f"torch.{name}"] = getattr(_C.dtype, name, None) or _FOREIGN_DTYPES[name]
    for alias, name in _TORCH_DTYPE_ALIASES.items():
        table[f"torch.{alias}"] = table[f"torch.{name}"]
    return table


_DEFAULT_SAFE_GLOBALS = _default_safe_globals()
_user_safe_globals: dict[str, Any] = {}


def _global_name(obj: Any) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


def add_safe_globals(safe_globals: list[Callable | tuple[Callable, str]]) -> None:
    """Allow ``load(weights_only=True)`` to resolve these globals too (classes, functions).

    An entry is an object, named by its ``__module__`` and ``__qualname__``, or
    ``(object, "module.name")`` for an object the file names differently, as
    ``torch.serialization.add_safe_globals``.  E.g. numpy arrays need
    ``[np._core.multiarray._reconstruct, np.ndarray, np.dtype]`` plus numpy's
    dtype classes (``type(np.dtype(np.float32))``).
    """
    for entry in safe_globals:
        if isinstance(entry, tuple):
            obj, name = entry
        else:
            obj, name = entry, _global_name(entry)
        _user_safe_globals[name] = obj


def get_safe_globals() -> list[Callable | tuple[Callable, str]]:
    """The globals added with ``add_safe_globals`` (not the default ones)."""
    return [obj if _global_name_or_none(obj) == name else (obj, name) for name, obj in _user_safe_globals.items()]


def _global_name_or_none(obj: Any) -> str | None:
    try:
        return _global_name(obj)
    except AttributeError:
        return None


def clear_safe_globals() -> None:
    """Forget the globals added with ``add_safe_globals``."""
    _user_safe_globals.clear()


@contextlib.contextmanager
def safe_globals(safe_globals: list[Callable | tuple[Callable, str]]) -> Iterator[None]:
    """Context manager: ``add_safe_globals(safe_globals)`` inside the ``with`` block only."""
    saved = dict(_user_safe_globals)
    add_safe_globals(safe_globals)
    try:
        yield
    finally:
        _user_safe_globals.clear()
        _user_safe_globals.update(saved)


_WEIGHTS_ONLY_HELP = (
    "Weights only load failed. Re-running `ember.load` with `weights_only` set to `False` will likely succeed, "
    "but it can result in arbitrary code execution. Do it only if you got the file from a trusted source.\n"
    "WeightsUnpickler error: {}"
)


def _allowed_class(value: Any) -> Any:
    return _parameter_class() if value is _parameter_class else value


class _RestoreError(Exception):
    """Carries an error of putting a storage where it belongs (a CUDA device that is missing,
    map_location's own) out of the unpickler, which load raises unchanged, as PyTorch does."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class _UnpicklerMixin:
    """persistent_load for the archive's storages, and torch's names mapped to ember's."""

    archive: _Archive
    storages: dict[str, _LoadedStorage]
    restore_location: Callable[[_LoadedStorage], Tensor | None]

    def persistent_load(self, pid: Any) -> Any:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unsupported persistent id {pid!r}")
        _, storage_type, key, location, numel = pid
        if not isinstance(storage_type, _StorageType):
            raise pickle.UnpicklingError(f"unsupported storage type {storage_type!r}")
        key = str(key)
        storage = self.storages.get(key)
        if storage is None:
            location = _location_str(location)
            data = self.archive.storage_bytes(key)
            itemsize = storage_type.np_dtype.itemsize
            if isinstance(numel, int) and numel * itemsize > data.nbytes:
                raise pickle.UnpicklingError(
                    f"storage {key} should hold {numel} elements but its record has only {data.nbytes} bytes"
                )
            storage = _LoadedStorage(data, storage_type, location)
            if storage_type.dtype_name == "bool":
                _check_bools(storage)  # before any tensor (map_location's) is made of it
            try:
                storage.moved = self.restore_location(storage)
            except Exception as exc:
                raise _RestoreError(exc) from None
            self.storages[key] = storage
        return storage


def _python3_name(module: str, name: str) -> str:
    """'module.name' with Python 2's names (``__builtin__.set``, which protocol 2 writes) mapped to Python 3's."""
    if (module, name) in _compat_pickle.NAME_MAPPING:
        module, name = _compat_pickle.NAME_MAPPING[(module, name)]
    elif module in _compat_pickle.IMPORT_MAPPING:
        module = _compat_pickle.IMPORT_MAPPING[module]
    return f"{module}.{name}"


class _SafeUnpickler(_UnpicklerMixin, pickle.Unpickler):
    """weights_only=True: only the allow-listed globals resolve (Note [Why not pickle])."""

    def find_class(self, module: str, name: str) -> Any:
        full = _python3_name(module, name)
        if full in _DEFAULT_SAFE_GLOBALS:
            return _allowed_class(_DEFAULT_SAFE_GLOBALS[full])
        if full in _user_safe_globals:
            return _user_safe_globals[full]
        raise pickle.UnpicklingError(
            _WEIGHTS_ONLY_HELP.format(
                f"Unsupported global: GLOBAL {full} was not an allowed global by default. Please use "
                f"`ember.serialization.add_safe_globals([{full}])` or the "
                f"`ember.serialization.safe_globals([{full}])` context manager to allowlist this global if you "
                "trust this class/function."
            )
        )


def _full_unpickler(base: type) -> type:
    class _FullUnpickler(_UnpicklerMixin, base):
        """weights_only=False: any global (trusted files); torch's tensor names still map to ember's."""

        def find_class(self, module: str, name: str) -> Any:
            full = _python3_name(module, name)
            if full in _DEFAULT_SAFE_GLOBALS and full not in ("_codecs.encode",) and not full.startswith("builtins"):
                return _allowed_class(_DEFAULT_SAFE_GLOBALS[full])
            return super().find_class(module, name)

    return _FullUnpickler


# ----------------------------------------------------------------------------- the archive (load)


class _ArchiveError(RuntimeError):
    """The zip archive is damaged or is not a checkpoint (load() adds the file's name)."""


@contextlib.contextmanager
def _zip_errors() -> Iterator[None]:
    try:
        yield
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, struct.error) as exc:
        raise _ArchiveError(f"PytorchStreamReader failed reading zip archive: {exc}") from None


class _Archive:
    """Reads the records of a PyTorch zip checkpoint (any top-level folder name, as torch.load)."""

    def __init__(self, zf: zipfile.ZipFile, mmap_path: str | None) -> None:
        self.zf = zf
        names = zf.namelist()
        if not names:
            raise _ArchiveError("PytorchStreamReader failed reading zip archive: the archive is empty")
        self.prefix = names[0].split("/", 1)[0] + "/"
        self.names = set(names)
        self.mmap_path = mmap_path
        if self.prefix + "data.pkl" not in self.names:
            if self.prefix + "constants.pkl" in self.names:
                raise _ArchiveError("it is a TorchScript archive (torch.jit.save), which ember cannot load")
            raise _ArchiveError(f"PytorchStreamReader failed locating file {self.prefix}data.pkl: file not found")

    def read(self, name: str) -> bytes:
        with _zip_errors():
            return self.zf.read(self.prefix + name)

    def storage_bytes(self, key: str) -> np.ndarray:
        name = f"{self.prefix}data/{key}"
        if name not in self.names:
            raise _ArchiveError(f"PytorchStreamReader failed locating file data/{key}: file not found")
        with _zip_errors():
            return self._storage_bytes(key, self.zf.getinfo(name))

    def _storage_bytes(self, key: str, info: zipfile.ZipInfo) -> np.ndarray:
        if self.mmap_path is not None and info.compress_type == zipfile.ZIP_STORED and info.file_size:
            # copy-on-write ("c"): writes to the tensors stay in memory, as torch's MAP_PRIVATE mmap
            return np.memmap(self.mmap_path, np.uint8, mode="c", offset=self._data_offset(info), shape=info.file_size)
        arr = np.empty(info.file_size, np.uint8)
        if info.compress_type == zipfile.ZIP_STORED and info.file_size:
            # straight from the file into the array: zipfile's reader goes through small chunks
            fp = self.zf.fp
            fp.seek(self._data_offset(info))
            got = fp.readinto(memoryview(arr))
            if got != info.file_size:
                raise _ArchiveError(f"PytorchStreamReader failed reading record data/{key}: truncated")
            if zlib.crc32(arr) != info.CRC:
                raise _ArchiveError(f"PytorchStreamReader failed reading zip archive: Bad CRC-32 for file data/{key}")
            return arr
        with self.zf.open(info) as fh:
            got = fh.readinto(memoryview(arr)) if info.file_size else 0
            if got != info.file_size or fh.read(1):
                raise _ArchiveError(f"PytorchStreamReader failed reading record data/{key}: truncated")
        return arr

    def _data_offset(self, info: zipfile.ZipInfo) -> int:
        return record_offset(self.zf, info)


def record_offset(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> int:
    """Where a record's bytes start in the archive's file: after its local header (whose name and extra
    fields may differ from the central directory's), so a stored record can be read or mapped from there."""
    fp = zf.fp
    pos = fp.tell()
    fp.seek(info.header_offset)
    header = fp.read(30)
    fp.seek(pos)
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        raise _ArchiveError(f"PytorchStreamReader failed reading zip archive: bad local header of {info.filename}")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    return info.header_offset + 30 + name_len + extra_len


def _file_name(f: Any) -> str:
    if isinstance(f, (str, bytes, os.PathLike)):
        return repr(os.fsdecode(f))
    name = getattr(f, "name", None)
    return repr(name) if isinstance(name, str) else f"<{type(f).__name__} object>"


def _cuda_device(location: str) -> _C.device:
    """The CUDA device a location ('cuda:N', 'cuda') names, which must exist (PyTorch's _validate_device)."""
    from . import cuda

    device = _C.device(location)
    if not cuda.is_available():
        raise RuntimeError(
            "Attempting to deserialize object on a CUDA device but ember.cuda.is_available() is False. "
            "If you are running on a CPU-only machine, please use ember.load with "
            "map_location=ember.device('cpu') to map your storages to the CPU."
        )
    index = cuda.current_device() if device.index is None else device.index
    count = cuda.device_count()
    if index >= count:
        raise RuntimeError(
            f"Attempting to deserialize object on CUDA device {index} but ember.cuda.device_count() is {count}. "
            "Please use ember.load with map_location to map your storages to an existing device."
        )
    return _C.device("cuda", index)


def _default_restore(storage: _LoadedStorage, location: str) -> Tensor | None:
    """PyTorch's default_restore_location: the storage moved to the device `location` names (None: the CPU)."""
    if location == "cpu" or location.startswith("cpu:"):
        return None
    if location == "cuda" or location.startswith("cuda:"):
        return storage.as_tensor().to(_cuda_device(location))
    raise RuntimeError(f"don't know how to restore data location of a storage (tagged with {location})")


def _restore_location_fn(map_location: Any) -> Callable[[_LoadedStorage], Tensor | None]:
    """For each loaded storage, where map_location puts it, as PyTorch's _get_restore_location: a
    1-D tensor of its elements on that device, or None for the CPU tensor as read."""
    if map_location is None:
        return lambda storage: _default_restore(storage, storage.location)
    if isinstance(map_location, dict):

        def restore_mapped(storage: _LoadedStorage) -> Tensor | None:
            return _default_restore(storage, _location_str(map_location.get(storage.location, storage.location)))

        return restore_mapped
    if isinstance(map_location, (str, bytes, _C.device)):
        target = _location_str(map_location)
        return lambda storage: _default_restore(storage, target)
    if not callable(map_location):
        raise TypeError(
            "ember.load: map_location must be None, a string, a device, a dict or a callable, "
            f"not {type(map_location).__name__}"
        )

    def restore(storage: _LoadedStorage) -> Tensor | None:
        given = storage.as_tensor()
        out = map_location(given, storage.location)  # the real saved location: 'cpu', 'cuda:0'...
        if out is None:
            return _default_restore(storage, storage.location)
        if out is given:
            return None
        if not (isinstance(out, Tensor) and tuple(out.shape) == tuple(given.shape) and out.dtype == given.dtype):
            if isinstance(out, Tensor):
                what = f"a tensor of shape {tuple(out.shape)} and dtype {out.dtype}"
            else:
                what = f"an object of type {type(out).__name__}"
            raise RuntimeError(
                f"ember.load: map_location returned {what}; it must return None or a tensor like the one it "
                f"was given (shape {tuple(given.shape)}, dtype {given.dtype}), on any device"
            )
        out = out.detach()
        if out.storage_offset() or out.stride() != (1,) * out.dim():
            out = out.clone()  # its views are made with as_strided, which counts from its storage's start
        return out

    return restore


def _location_str(location: Any) -> str:
    return location.decode("ascii") if isinstance(location, bytes) else str(location)


def _env_truthy(name: str) -> bool:
    return os.getenv(name) in ("1", "y", "yes", "true")


def _weights_only_setting(weights_only: bool | None, pickle_module: Any = None) -> bool:
    """weights_only as PyTorch settles it: its environment switches, then the default: True, but False when
    the caller names a pickle_module (poutyne's loads pass ``pickle_module=pickle``)."""
    if _env_truthy("TORCH_FORCE_WEIGHTS_ONLY_LOAD"):
        return True
    if weights_only is None:
        return pickle_module is None and not _env_truthy("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD")
    return weights_only


def load(
    f: str | os.PathLike | IO[bytes],
    map_location: str | _C.device | dict[str, str] | Callable[[Tensor, str], Any] | None = None,
    pickle_module: Any = None,
    *,
    weights_only: bool | None = None,
    mmap: bool | None = None,
    **pickle_load_args: Any,
) -> Any:
    """Load an object saved by ``ember.save`` or ``torch.save`` (PyTorch's zip format) from ``f``.

    ``f`` is a path, a path-like or a binary file object.  ``weights_only``
    (None means True, as PyTorch 2.6+) allows only tensors, containers, numbers,
    strings, dtypes and the globals of ``add_safe_globals``; a file naming any
    other global raises ``pickle.UnpicklingError`` before anything runs.
    ``weights_only=False`` unpickles anything, so only use it on trusted files
    (it is needed for whole modules).  Tensors come back on the device they were
    saved from (the location the file records for their storage: ``'cpu'`` or
    ``'cuda:N'``), as in PyTorch; a CUDA location raises ``RuntimeError`` when
    CUDA is not available or device N does not exist (use ``map_location``).
    Views that shared a storage when saved share memory again, on any device.

    ``map_location`` puts the storages elsewhere: None (where they were saved),
    ``"cpu"``, ``"cuda:1"`` or a device (everything there), a dict ``{saved
    location: target}`` (``{"cuda:1": "cuda:0"}``; other locations unchanged) or
    a callable ``(storage, location) -> tensor or None``, called once per storage
    with its saved location (``"cuda:0"``) and returning None for the default.
    ember has no storage objects, so the callable receives the storage as a 1-D
    CPU tensor of its elements where PyTorch passes a storage, and returns such a
    tensor on any device (``lambda storage, loc: storage`` and
    ``lambda storage, loc: storage.cuda(1)`` work unchanged).
    ``mmap=True`` (``f`` a path) maps the tensors' bytes from the file
    copy-on-write instead of reading them.  ``pickle_load_args`` (e.g.
    ``encoding``) go to the unpickler.  PyTorch's
    environment switches work: ``TORCH_FORCE_WEIGHTS_ONLY_LOAD=1`` makes
    every load weights-only, ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` makes a load that does not pass
    ``weights_only`` a full unpickling (for trusted files only).
    """
    weights_only = _weights_only_setting(weights_only, pickle_module)
    if weights_only and pickle_module is not None:
        raise RuntimeError(
            "Can not safely load weights when explicit pickle_module is specified (use weights_only=False)"
        )
    if mmap and not isinstance(f, (str, os.PathLike)):
        raise ValueError("f must be a file path in order to use the mmap argument")
    restore_location = _restore_location_fn(map_location)
    pickle_load_args.setdefault("encoding", "utf-8")
    name = _file_name(f)
    with contextlib.ExitStack() as stack:
        try:
            archive = _open_archive(f, stack, name, mmap=bool(mmap))
            if weights_only:
                unpickler_class: type = _SafeUnpickler
            else:
                unpickler_class = _full_unpickler((pickle_module or pickle).Unpickler)
            unpickler = unpickler_class(io.BytesIO(archive.read("data.pkl")), **pickle_load_args)
            unpickler.archive = archive
            unpickler.storages = {}
            unpickler.restore_location = restore_location
            return _unpickle(unpickler, weights_only)
        except _ArchiveError as exc:
            raise RuntimeError(f"ember.load: {name}: {exc}") from None


def _open_archive(f: Any, stack: contextlib.ExitStack, name: str, mmap: bool = False) -> _Archive:
    """The zip checkpoint in f (a path or a binary file), its files closed by `stack`."""
    if isinstance(f, (str, bytes, os.PathLike)):
        fh = stack.enter_context(open(f, "rb"))
    elif hasattr(f, "read"):
        fh = f
        if not (hasattr(fh, "seekable") and fh.seekable()):
            fh = io.BytesIO(fh.read())
    else:
        raise TypeError(f"ember.load: f must be a path or a binary file object, not {type(f).__name__}")
    start = fh.tell()
    magic = fh.read(8)
    fh.seek(start)
    if magic[:4] != b"PK\x03\x04":
        raise pickle.UnpicklingError(_not_a_checkpoint(name, magic))
    with _zip_errors():
        zf = stack.enter_context(zipfile.ZipFile(fh))
    return _Archive(zf, os.fspath(f) if mmap else None)


class _Stub:
    """Stands for every global while get_unsafe_globals_in_checkpoint reads a pickle: does nothing."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        return object.__new__(_Stub)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __call__(self, *args: Any, **kwargs: Any) -> _Stub:
        return _Stub()

    def __setstate__(self, state: Any) -> None:
        pass

    def __setitem__(self, key: Any, value: Any) -> None:
        pass

    def append(self, value: Any) -> None:
        pass

    def extend(self, values: Any) -> None:
        pass


class _GlobalsLister(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        self.names.append(_python3_name(module, name))
        return _Stub

    def persistent_load(self, pid: Any) -> Any:
        return _Stub()


def get_unsafe_globals_in_checkpoint(f: str | os.PathLike | IO[bytes]) -> list[str]:
    """The globals the checkpoint ``f`` names that ``load(weights_only=True)`` would refuse, as
    ``"module.name"`` strings, in order; nothing in the file is called (every global reads as a stub)."""
    name = _file_name(f)
    with contextlib.ExitStack() as stack:
        try:
            archive = _open_archive(f, stack, name)
            lister = _GlobalsLister(io.BytesIO(archive.read("data.pkl")), encoding="utf-8")
            lister.names = []
            try:
                lister.load()
            except Exception as exc:  # a damaged pickle: report what was found before it, as a failure
                raise pickle.UnpicklingError(f"ember: cannot read the pickle of {name}: {exc}") from exc
        except _ArchiveError as exc:
            raise RuntimeError(f"ember: {name}: {exc}") from None
    unsafe = (n for n in lister.names if n not in _DEFAULT_SAFE_GLOBALS and n not in _user_safe_globals)
    return list(dict.fromkeys(unsafe))


def _unpickle(unpickler: Any, weights_only: bool) -> Any:
    """unpickler.load(); with weights_only, any failure is an UnpicklingError, as PyTorch's."""
    try:
        return unpickler.load()
    except (_ArchiveError, pickle.UnpicklingError):
        raise
    except _RestoreError as exc:
        raise exc.error from None
    except Exception as exc:
        if not weights_only:
            raise
        raise pickle.UnpicklingError(_WEIGHTS_ONLY_HELP.format(f"{type(exc).__name__}: {exc}")) from exc


def _not_a_checkpoint(name: str, magic: bytes) -> str:
    if magic == b"EMBERSAV":
        return f"{name} is in ember's former EMBERSAV format, which this ember no longer reads"
    if magic[:2] == b"\x80\x02":
        return f"{name} is in PyTorch's legacy (pre-1.6, non-zip) format, which ember does not read"
    return f"{name} is not a PyTorch/ember checkpoint (a zip archive): invalid load key, {magic[:1]!r}."


# ----------------------------------------------------------------------------- save


class _StoragePlan:
    """Which storage each tensor lands in: overlapping memory ranges of one dtype on one device are one storage."""

    def __init__(self, ranges: Iterable[tuple[str, str, int, int, int]]) -> None:
        # ranges: (location, dtype name, itemsize, lo, hi) byte addresses (on its device) of each non-empty tensor
        by_kind: dict[tuple[str, str, int], list[list[int]]] = {}
        for location, dtype, itemsize, lo, hi in sorted(ranges, key=lambda r: (r[0], r[1], r[3] % r[2], r[3])):
            merged = by_kind.setdefault((location, dtype, lo % itemsize), [])
            if merged and lo < merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        self.by_kind = by_kind
        self.starts = {kind: [lo for lo, _ in spans] for kind, spans in by_kind.items()}

    def locate(self, location: str, dtype: str, itemsize: int, lo: int) -> tuple[int, int]:
        """The (start, end) byte addresses of the storage holding a tensor starting at lo."""
        kind = (location, dtype, lo % itemsize)
        i = bisect.bisect_right(self.starts[kind], lo) - 1
        start, end = self.by_kind[kind][i]
        return start, end


def _location(t: Tensor) -> str:
    """The location PyTorch records for t's storage: 'cpu', or 'cuda:N' for CUDA device N."""
    device = t.device
    if device.type == "cpu":
        return "cpu"
    if device.type == "cuda":
        return f"cuda:{device.index}"
    raise NotImplementedError(f"ember.save: tensors on the {device.type} device have no data to save")


def _byte_range(t: Tensor) -> tuple[int, int] | None:
    if t.numel() == 0:
        return None
    lo = t.data_ptr()
    extent = 1 + sum((n - 1) * s for n, s in zip(t.shape, t.stride()))
    return lo, lo + extent * t.element_size()


class _StorageRef:
    """Stands for a storage in data.pkl: persistent_id turns it into PyTorch's storage tuple."""

    def __init__(self, key: str, dtype: str, numel: int, location: str = "cpu") -> None:
        self.key, self.dtype, self.numel, self.location = key, dtype, numel, location


class _Pickler(pickle._Pickler):
    """Pickles ember objects under PyTorch's names.

    The pure-Python pickler, because writing a global that is not importable
    here (``torch._utils._rebuild_tensor_v2``) needs ``save_global`` overridden;
    data.pkl holds no tensor bytes, so its speed does not matter.
    """

    def __init__(
        self,
        file: IO[bytes],
        protocol: int,
        plan: _StoragePlan,
        storages: dict[tuple[str, str, int], tuple[str, int, int, Tensor]] | None = None,
    ) -> None:
        super().__init__(file, protocol)
        self.plan = plan
        # (location, dtype, start) -> (key, start, end, a tensor in it: the way to a CUDA storage's bytes)
        self.storages = {} if storages is None else storages
        self.empty_storages: dict[tuple[str, str], str] = {}  # (location, dtype) -> key

    def persistent_id(self, obj: Any) -> Any:
        if type(obj) is _StorageRef:
            storage_name, byte_format = _TORCH_DTYPES[obj.dtype]
            numel = obj.numel * np.dtype(byte_format).itemsize if storage_name == "UntypedStorage" else obj.numel
            return ("storage", _STORAGE_TYPE_OBJECTS[storage_name], obj.key, obj.location, numel)
        return None

    def save_global(self, obj: Any, name: str | None = None) -> None:
        torch_name = _TORCH_NAMES.get(id(obj))
        if torch_name is None:
            if isinstance(obj, _C.dtype):
                torch_name = ("torch", obj.name)
            else:
                return super().save_global(obj, name)
        module, qualname = torch_name
        if self.proto >= 4:
            self.save(module)
            self.save(qualname)
            self.write(pickle.STACK_GLOBAL)
        else:
            self.write(pickle.GLOBAL + f"{module}\n{qualname}\n".encode("utf-8"))
        self.memoize(obj)

    def reducer_override(self, obj: Any) -> Any:
        if id(obj) in _TORCH_NAMES or type(obj) is _StorageType:
            return "global"  # -> save_global
        if isinstance(obj, Tensor):
            if isinstance(obj, _parameter_class()):
                return _rebuild_parameter, (obj.detach(), obj.requires_grad, collections.OrderedDict())
            if type(obj) is _complex.ComplexTensor:  # PyTorch's complex storage (Note [Complex tensors])
                return self._reduce_tensor(obj)
            if type(obj) is not Tensor:  # a Tensor subclass, written as PyTorch writes one
                with _C.DisableTorchFunctionSubclass():
                    plain = self._reduce_tensor(obj)
                return _rebuild_from_type_v2, (plain[0], type(obj), plain[1], dict(obj.__dict__))
            return self._reduce_tensor(obj)
        if isinstance(obj, _C.dtype):
            return "global"
        if isinstance(obj, tuple) and type(obj).__name__ == "Size" and type(obj).__module__.startswith("ember"):
            return _make_size, (tuple(int(s) for s in obj),)
        if isinstance(obj, _C.device):
            return _make_device, (str(obj),)
        return NotImplemented

    def _reduce_tensor(self, t: Tensor) -> Any:
        location, dtype = _location(t), t.dtype.name
        size, stride = tuple(int(s) for s in t.shape), tuple(int(s) for s in t.stride())
        hooks = collections.OrderedDict()
        itemsize = t.element_size()
        rng = _byte_range(t)
        if rng is None:
            n = len(self.storages) + len(self.empty_storages)
            key = self.empty_storages.setdefault((location, dtype), str(n))
            ref, offset = _StorageRef(key, dtype, 0, location), 0
        else:
            start, end = self.plan.locate(location, dtype, itemsize, rng[0])
            key = self.storages.get((location, dtype, start), (None,))[0]
            if key is None:
                key = str(len(self.storages) + len(self.empty_storages))
                self.storages[(location, dtype, start)] = (key, start, end, t)
            ref = _StorageRef(key, dtype, (end - start) // itemsize, location)
            offset = (rng[0] - start) // itemsize
        if _TORCH_DTYPES[dtype][0] == "UntypedStorage":  # bytes: the dtype goes apart, as PyTorch writes it
            return _rebuild_tensor_v3, (ref, offset, size, stride, t.requires_grad, hooks, t.dtype)
        return _rebuild_tensor_v2, (ref, offset, size, stride, t.requires_grad, hooks)


class _NullWriter:
    def write(self, data: Any) -> int:
        return len(data)


def _host_copy(t: Tensor, start: int, end: int) -> Tensor:
    """The bytes [start, end) of the device memory t lives in, copied to a CPU tensor."""
    t = t.detach()
    itemsize = t.element_size()
    first = t.storage_offset() - (t.data_ptr() - start) // itemsize  # the element at `start`, in t's storage
    return t.as_strided(((end - start) // itemsize,), (1,), first).cpu()


class _TensorCollector(pickle.Pickler):
    """Pass 1, with the C pickler (fast): every tensor of the object, as pass 2 will meet them."""

    def __init__(self, protocol: int) -> None:
        super().__init__(_NullWriter(), protocol)
        self.tensors: list[Tensor] = []  # kept alive until saved: their addresses identify storages

    def reducer_override(self, obj: Any) -> Any:
        if not isinstance(obj, Tensor):
            return NotImplemented
        if isinstance(obj, _parameter_class()):  # as _Pickler reduces it: its data is a new tensor object
            return _rebuild_parameter, (obj.detach(), obj.requires_grad, None)
        if obj.dtype.name not in _TORCH_DTYPES:
            raise TypeError(f"ember.save: tensors of dtype {obj.dtype.name} are not supported")
        _location(obj)  # refuses a device it cannot save from
        self.tensors.append(obj)
        return _rebuild_tensor_v2, (None,)


# ember function -> the (module, name) data.pkl names it by
_TORCH_NAMES = {
    id(_rebuild_tensor_v2): ("torch._utils", "_rebuild_tensor_v2"),
    id(_rebuild_tensor_v3): ("torch._utils", "_rebuild_tensor_v3"),
    id(_rebuild_parameter): ("torch._utils", "_rebuild_parameter"),
    id(_rebuild_from_type_v2): ("torch._tensor", "_rebuild_from_type_v2"),
    id(_make_size): ("torch", "Size"),
    id(_make_device): ("torch", "device"),
}
for _name, _obj in _STORAGE_TYPE_OBJECTS.items():
    _TORCH_NAMES[id(_obj)] = ("torch.storage" if _name == "UntypedStorage" else "torch", _name)


class _AlignedZipWriter:
    """Writes uncompressed records whose data start 64-byte aligned (as PyTorch's, for mmap)."""

    def __init__(self, fh: IO[bytes]) -> None:
        self.zf = zipfile.ZipFile(fh, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True)

    def write(self, name: str, data: Any) -> None:
        info = zipfile.ZipInfo(f"{_ARCHIVE}/{name}", date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_STORED
        nbytes = memoryview(data).nbytes
        zip64 = nbytes * 1.05 > zipfile.ZIP64_LIMIT
        try:
            pos = self.zf.fp.tell()
        except (AttributeError, OSError):
            pos = None
        if pos is not None:
            header = 30 + len(info.filename.encode("utf-8")) + (20 if zip64 else 0)
            pad = -(pos + header + 4) % _ALIGN  # 4: the padding field's own id and length
            info.extra = struct.pack("<HH", 0x4246, pad) + b"Z" * pad  # field id "FB", as PyTorch
        with self.zf.open(info, mode="w", force_zip64=zip64) as dest:
            dest.write(data)

    def close(self) -> None:
        self.zf.close()


def _storage_bytes(start: int, end: int) -> memoryview:
    """The bytes [start, end) of live tensor memory, without a copy (the tensors are kept alive)."""
    return memoryview((ctypes.c_char * (end - start)).from_address(start)).cast("B")


def save(
    obj: object,
    f: str | os.PathLike | IO[bytes],
    pickle_module: Any = pickle,
    pickle_protocol: int = DEFAULT_PROTOCOL,
    _use_new_zipfile_serialization: bool = True,
    _disable_byteorder_record: bool = False,
) -> None:
    """Save ``obj`` to ``f`` (a path, path-like or writable binary file) in PyTorch's zip format.

    ``obj`` may be anything picklable: tensors, state dicts, optimizer states,
    containers, numbers, numpy arrays, whole modules.  ``torch.load`` reads the
    file, and with ``weights_only=True`` (its default) whatever holds only
    tensors, containers, numbers and strings; ember's ``Parameter``, ``Size``,
    dtypes and devices are written under PyTorch's names.  Views that share
    memory are saved once, sharing.  Each storage's device is recorded as PyTorch
    does (``'cpu'``, ``'cuda:N'``), so ``load`` puts CUDA tensors back on it.
    Only the ``pickle`` module and the zip format are supported
    (``pickle_module``/``_use_new_zipfile_serialization`` left at their defaults).
    """
    if pickle_module not in (None, pickle):
        raise ValueError("ember.save supports only the standard pickle module as pickle_module")
    if not _use_new_zipfile_serialization:
        raise ValueError("ember.save writes only the zip format (_use_new_zipfile_serialization=True)")
    if isinstance(f, (str, bytes, os.PathLike)):
        with open(f, "wb") as fh:
            _save(obj, fh, pickle_protocol, not _disable_byteorder_record)
    elif hasattr(f, "write"):
        _save(obj, f, pickle_protocol, not _disable_byteorder_record)
    else:
        raise TypeError(f"ember.save: f must be a path or a binary file object, not {type(f).__name__}")


def _save(obj: Any, fh: IO[bytes], protocol: int, byteorder: bool) -> None:
    # Pass 1 finds every tensor, so that each storage's extent (which its
    # persistent id states) is known before pass 2 writes data.pkl.
    first = _TensorCollector(protocol)
    first.dump(obj)
    ranges = []
    for t in first.tensors:
        rng = _byte_range(t)
        if rng is not None:
            ranges.append((_location(t), t.dtype.name, t.element_size(), *rng))
    buf = io.BytesIO()
    second = _Pickler(buf, protocol, _StoragePlan(ranges))
    second.dump(obj)

    writer = _AlignedZipWriter(fh)
    writer.write("data.pkl", buf.getbuffer())
    writer.write(".format_version", b"1")
    writer.write(".storage_alignment", str(_ALIGN).encode())
    if byteorder:
        writer.write("byteorder", sys.byteorder.encode())
    records: list[tuple[str, int, int, Tensor | None]] = list(second.storages.values())
    records += [(key, 0, 0, None) for key in second.empty_storages.values()]
    for key, start, end, t in sorted(records, key=lambda r: int(r[0])):
        if t is not None and t.device.type != "cpu":  # one storage at a time through host memory
            t = _host_copy(t, start, end)
            start, end = t.data_ptr(), t.data_ptr() + (end - start)
        writer.write(f"data/{key}", _storage_bytes(start, end) if end > start else b"")
    writer.write("version", b"3\n")
    writer.close()
    del first, second  # the tensors stay alive until their bytes are written
