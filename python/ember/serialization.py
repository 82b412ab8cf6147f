"""ember.save / ember.load: a safe file format for tensors and nested containers.

Note [Why not pickle]
---------------------
``torch.save`` pickles, and unpickling runs whatever code the file names, so a
downloaded checkpoint can execute arbitrary code on load.  ember's format holds
only data: a JSON header that describes the saved object (containers, numbers,
strings and references to tensors) followed by the tensors' raw bytes, in the
manner of safetensors.  ``load`` builds objects of a fixed list of types from
it and never imports or calls anything named by the file.

File layout (all integers little-endian)::

    offset 0   8 bytes   magic  b"EMBERSAV"
           8   u32       format version (1)
          12   u32       CRC-32 of the header bytes
          16   u64       header length H in bytes
          24   H bytes   UTF-8 JSON header, padded with spaces so data starts 8-aligned
      24 + H   D bytes   data: each tensor's bytes, C-contiguous little-endian,
                         at a 64-byte aligned offset, zero padding between

The header is ``{"format": "ember", "version": 1, "data_size": D,
"tensors": [{"dtype", "shape", "offset", "nbytes", "crc32", "requires_grad",
"parameter"}, ...], "object": NODE}``.  A NODE is ``null``, ``true``/``false``,
an integer, a finite float, a string, or an object with a ``"type"``:
``tensor`` (``"index"`` into ``tensors``), ``list``/``tuple``/``Size``
(``"items"``), ``dict``/``OrderedDict`` (``"items"``: ``[key, value]`` pairs,
keys being NODEs of hashable type; an OrderedDict may carry ``"metadata"``,
the ``_metadata`` attribute of a module's state_dict), ``float`` (``"value"``:
``"nan"``, ``"inf"`` or ``"-inf"``) or ``dtype`` (``"name"``).

What is and is not preserved:

- Tensors come back as new CPU tensors with the saved dtype, shape, values and
  ``requires_grad``; ``nn.Parameter`` comes back as ``nn.Parameter``.
  Non-contiguous tensors (views) are saved by value.  The same tensor object
  appearing several times is stored once and loads as one object, but distinct
  tensors that share storage (a tensor and a view of it) are stored separately
  and load as independent tensors: storage sharing is not preserved.
- Gradients, ``grad_fn`` and hooks are not saved (as PyTorch).
- Loading checks everything: the magic number, the version, both kinds of
  checksum, that every tensor's byte range lies inside the data, that sizes
  agree with shapes and dtypes, and that a file given by path has exactly the
  expected length (a file object may hold more after the object: several
  objects can be saved to one stream and loaded back in turn).  Any failure
  raises ``RuntimeError`` naming the file and the problem.
"""

from __future__ import annotations

import collections
import io
import json
import math
import numbers
import os
import struct
import sys
import zlib
from typing import IO, Any, Callable

import numpy as np

from . import _C
from ._C import Tensor

__all__ = ["save", "load"]

MAGIC = b"EMBERSAV"
VERSION = 1
_PREAMBLE = struct.Struct("<8sIIQ")  # magic, version, header crc32, header length
_ALIGN = 64
# A header bigger than this is not something ember.save writes for any sane
# object; refusing it early stops a corrupted length field from allocating GiBs.
_MAX_HEADER = 1 << 30

# dtype name -> little-endian numpy dtype of its bytes on disk
_DISK_DTYPES = {
    "float32": np.dtype("<f4"),
    "float64": np.dtype("<f8"),
    "int32": np.dtype("<i4"),
    "int64": np.dtype("<i8"),
    "bool": np.dtype("|b1"),
}


# ----------------------------------------------------------------------------- save


class _Encoder:
    def __init__(self) -> None:
        self.tensors = []  # (tensor, entry) in file order
        self.index_of = {}  # id(tensor) -> index: one tensor object saved once
        self.keep_alive = []  # holds the tensors whose ids are in index_of
        self.active = set()  # ids of containers being encoded (cycle check)

    def encode(self, obj: Any, where: str) -> Any:
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, Tensor):
            return {"type": "tensor", "index": self._tensor_index(obj, where)}
        if isinstance(obj, numbers.Integral) and not isinstance(obj, np.bool_):
            return int(obj)
        if isinstance(obj, np.bool_):
            return bool(obj)
        if isinstance(obj, numbers.Real):
            x = float(obj)
            if math.isfinite(x):
                return x
            return {"type": "float", "value": "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")}
        if isinstance(obj, _C.dtype):
            return {"type": "dtype", "name": obj.name}
        if isinstance(obj, (list, tuple, dict)):
            if id(obj) in self.active:
                raise ValueError(
                    f"ember.save: {where} contains itself (a reference cycle); cyclic structures cannot be saved"
                )
            self.active.add(id(obj))
            try:
                return self._encode_container(obj, where)
            finally:
                self.active.discard(id(obj))
        raise TypeError(
            f"ember.save: cannot save an object of type {type(obj).__module__}.{type(obj).__qualname__} "
            f"at {where}; supported are tensors, dicts, OrderedDicts, lists, tuples, and Python "
            "numbers, strings, bools and None (nested)"
        )

    def _encode_container(self, obj: list[Any] | tuple[Any, ...] | dict[Any, Any], where: str) -> dict[str, Any]:
        if isinstance(obj, dict):
            items = []
            for k, v in obj.items():
                self._check_key(k, where)
                items.append([self.encode(k, where), self.encode(v, f"{where}[{k!r}]")])
            node = {"type": "OrderedDict" if isinstance(obj, collections.OrderedDict) else "dict", "items": items}
            metadata = getattr(obj, "_metadata", None)
            if isinstance(obj, collections.OrderedDict) and metadata is not None:
                node["metadata"] = self.encode(metadata, where + "._metadata")
            return node
        kind = "list"
        if isinstance(obj, tuple):
            kind = "Size" if type(obj).__name__ == "Size" else "tuple"
        return {"type": kind, "items": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]}

    @staticmethod
    def _check_key(k: Any, where: str) -> None:
        ok = k is None or isinstance(k, (bool, str, numbers.Integral, float))
        if isinstance(k, tuple):
            ok = all(x is None or isinstance(x, (bool, str, numbers.Integral, float)) for x in k)
        if not ok:
            raise TypeError(
                f"ember.save: dict key {k!r} of type {type(k).__name__} at {where} is not supported; "
                "keys may be str, int, float, bool, None or tuples of those"
            )

    def _tensor_index(self, t: Tensor, where: str) -> int:
        idx = self.index_of.get(id(t))
        if idx is not None:
            return idx
        if t.dtype.name not in _DISK_DTYPES:
            raise TypeError(f"ember.save: tensor at {where} has unsupported dtype {t.dtype.name}")
        if t.device.type != "cpu":
            t_cpu = t.cpu()
        else:
            t_cpu = t
        entry = {
            "dtype": t.dtype.name,
            "shape": [int(s) for s in t.shape],
            "requires_grad": bool(t.requires_grad),
            "parameter": type(t).__name__ == "Parameter",
        }
        idx = len(self.tensors)
        self.tensors.append((t_cpu, entry))
        self.index_of[id(t)] = idx
        self.keep_alive.append(t)
        return idx


def _as_disk_array(t: Tensor, disk_dtype: np.dtype) -> np.ndarray:
    """The tensor's values as a C-contiguous little-endian numpy array (a copy only when needed)."""
    arr = t.detach().numpy()
    arr = np.ascontiguousarray(arr)
    if arr.dtype != disk_dtype:
        arr = arr.astype(disk_dtype)
    return arr


def _file_name(f: str | bytes | os.PathLike | IO[bytes]) -> str:
    if isinstance(f, (str, bytes, os.PathLike)):
        return repr(os.fsdecode(f))
    name = getattr(f, "name", None)
    return repr(name) if isinstance(name, str) else f"<{type(f).__name__} object>"


def save(
    obj: object,
    f: str | bytes | os.PathLike | IO[bytes],
    pickle_module: Any = None,
    pickle_protocol: int | None = None,
    _use_new_zipfile_serialization: bool = True,
) -> None:
    """Save ``obj`` (tensors, state dicts and nested containers of them) to ``f``.

    ``f`` is a path (str or os.PathLike) or a binary file object opened for
    writing.  The format is described in this module's docstring: data only,
    no pickle.  ``pickle_module`` and ``pickle_protocol`` are accepted for
    PyTorch compatibility and must be left at their defaults.
    """
    if pickle_module is not None or pickle_protocol is not None:
        raise ValueError("ember.save does not use pickle: pickle_module and pickle_protocol are not supported")
    enc = _Encoder()
    root = enc.encode(obj, "root")

    arrays = []
    offset = 0
    for t, entry in enc.tensors:
        arr = _as_disk_array(t, _DISK_DTYPES[entry["dtype"]])
        offset = -(-offset // _ALIGN) * _ALIGN
        entry["offset"] = offset
        entry["nbytes"] = int(arr.nbytes)
        entry["crc32"] = zlib.crc32(memoryview(arr).cast("B")) if arr.nbytes else 0
        arrays.append((offset, arr))
        offset += arr.nbytes
    header = {
        "format": "ember",
        "version": VERSION,
        "data_size": offset,
        "tensors": [entry for _, entry in enc.tensors],
        "object": root,
    }
    hbytes = json.dumps(header, separators=(",", ":"), allow_nan=False).encode("utf-8")
    hbytes += b" " * (-(len(hbytes) + _PREAMBLE.size) % 8)
    preamble = _PREAMBLE.pack(MAGIC, VERSION, zlib.crc32(hbytes), len(hbytes))

    def write(fh: IO[bytes]) -> None:
        fh.write(preamble)
        fh.write(hbytes)
        pos = 0
        for off, arr in arrays:
            if off > pos:
                fh.write(b"\0" * (off - pos))
            if arr.nbytes:
                fh.write(memoryview(arr).cast("B"))
            pos = off + arr.nbytes

    if isinstance(f, (str, bytes, os.PathLike)):
        with open(f, "wb") as fh:
            write(fh)
    else:
        if not hasattr(f, "write"):
            raise TypeError(f"ember.save: f must be a path or a binary file object, not {type(f).__name__}")
        write(f)


# ----------------------------------------------------------------------------- load


class _Corrupt(Exception):
    """A problem with the file's contents; load() turns it into a RuntimeError naming the file."""


def _read_upto(fh: IO[bytes], n: int) -> bytes:
    """Up to n bytes: fewer only at the end of the file."""
    chunks = []
    remaining = n
    while remaining > 0:
        chunk = fh.read(min(remaining, 1 << 26))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _read_exact(fh: IO[bytes], n: int, what: str) -> bytes:
    data = _read_upto(fh, n)
    if len(data) != n:
        raise _Corrupt(f"truncated: expected {n} bytes of {what}, found only {len(data)}")
    return data


def _remaining_size(fh: IO[bytes]) -> int | None:
    """Bytes from the current position to the end of the file, or None when it cannot be known."""
    try:
        pos = fh.tell()
        end = fh.seek(0, io.SEEK_END)
        fh.seek(pos)
        return end - pos
    except (AttributeError, OSError, ValueError):
        return None


def _require(cond: object, message: str) -> None:
    if not cond:
        raise _Corrupt("corrupted header: " + message)


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _check_tensor_entry(i: int, e: Any, data_size: int) -> None:
    _require(isinstance(e, dict), f"tensor {i} is not an object")
    dtype = e.get("dtype")
    _require(isinstance(dtype, str) and dtype in _DISK_DTYPES, f"tensor {i} has unknown dtype {dtype!r}")
    shape = e.get("shape")
    _require(
        isinstance(shape, list) and all(_is_int(s) and s >= 0 for s in shape),
        f"tensor {i} has an invalid shape {shape!r}",
    )
    for key in ("offset", "nbytes", "crc32"):
        _require(_is_int(e.get(key)) and e[key] >= 0, f"tensor {i} has an invalid {key} {e.get(key)!r}")
    for key in ("requires_grad", "parameter"):
        _require(isinstance(e.get(key), bool), f"tensor {i} has an invalid {key} {e.get(key)!r}")
    _require(
        not e["requires_grad"] or dtype in ("float32", "float64"), f"tensor {i} of dtype {dtype} cannot require grad"
    )
    numel = math.prod(shape)
    expected = numel * _DISK_DTYPES[dtype].itemsize
    _require(
        e["nbytes"] == expected,
        f"tensor {i} ({dtype} {shape}) should hold {expected} bytes, the header says {e['nbytes']}",
    )
    _require(
        e["offset"] + e["nbytes"] <= data_size,
        f"tensor {i} ({dtype} {shape}) lies at bytes {e['offset']}..{e['offset'] + e['nbytes']} "
        f"of the data, past its end ({data_size} bytes)",
    )


def _parse_header(raw: bytes) -> dict[str, Any]:
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _Corrupt(f"corrupted header: not valid JSON ({exc})") from None
    _require(isinstance(header, dict), "the header is not a JSON object")
    _require(header.get("format") == "ember", f"unknown format {header.get('format')!r}")
    _require(_is_int(header.get("data_size")) and header["data_size"] >= 0, "invalid data_size")
    tensors = header.get("tensors")
    _require(isinstance(tensors, list), "'tensors' is not a list")
    for i, e in enumerate(tensors):
        _check_tensor_entry(i, e, header["data_size"])
    _require("object" in header, "no 'object' entry")
    return header


def _resolve_map_location(
    map_location: str | _C.device | dict[str, str | _C.device] | Callable[[Tensor, str], Any] | None,
) -> Callable[[Tensor], Tensor] | None:
    """A function tensor -> tensor applying map_location, or None to leave tensors on the CPU."""
    if map_location is None:
        return None
    if callable(map_location) and not isinstance(map_location, (str, _C.device)):

        def apply(t: Tensor) -> Tensor:
            out = map_location(t, "cpu")
            return t if out is None else out

        return apply
    if isinstance(map_location, dict):
        target = map_location.get("cpu", "cpu")
    else:
        target = map_location
    device = target if isinstance(target, _C.device) else _C.device(str(target))
    if device.type == "cpu":
        return None
    return lambda t: t.to(device)


class _Decoder:
    def __init__(self, make_tensor: Callable[[Any], Tensor]) -> None:
        self.make_tensor = make_tensor

    def decode(self, node: Any, depth: int = 0) -> Any:
        if node is None or isinstance(node, (bool, str, int, float)):
            return node
        # save() itself fails long before this depth (it recurses twice per level)
        _require(depth < sys.getrecursionlimit() // 2, "nesting too deep")
        _require(isinstance(node, dict), f"unexpected JSON value of type {type(node).__name__}")
        kind = node.get("type")
        if kind == "tensor":
            return self.make_tensor(node.get("index"))
        if kind in ("list", "tuple", "Size"):
            items = node.get("items")
            _require(isinstance(items, list), f"{kind} without an item list")
            values = [self.decode(v, depth + 1) for v in items]
            if kind == "list":
                return values
            if kind == "Size":
                from ._tensor import Size

                _require(all(_is_int(v) for v in values), "Size with non-integer items")
                return Size(values)
            return tuple(values)
        if kind in ("dict", "OrderedDict"):
            items = node.get("items")
            _require(isinstance(items, list), f"{kind} without an item list")
            out = {} if kind == "dict" else collections.OrderedDict()
            for pair in items:
                _require(isinstance(pair, list) and len(pair) == 2, f"{kind} item is not a [key, value] pair")
                key = self.decode(pair[0], depth + 1)
                _require(
                    key is None
                    or isinstance(key, (bool, str, int, float))
                    or (
                        isinstance(key, tuple) and all(k is None or isinstance(k, (bool, str, int, float)) for k in key)
                    ),
                    f"{kind} key of type {type(key).__name__}",
                )
                out[key] = self.decode(pair[1], depth + 1)
            if kind == "OrderedDict" and "metadata" in node:
                out._metadata = self.decode(node["metadata"], depth + 1)
            return out
        if kind == "float":
            value = node.get("value")
            _require(value in ("nan", "inf", "-inf"), f"invalid special float {value!r}")
            return float(value)
        if kind == "dtype":
            name = node.get("name")
            _require(isinstance(name, str) and name in _DISK_DTYPES, f"unknown dtype {name!r}")
            return getattr(_C.dtype, name)
        raise _Corrupt(f"corrupted header: unknown node type {kind!r}")


def _read_into(fh: IO[bytes], mv: memoryview, what: str) -> None:
    """Fill the writable byte memoryview `mv` from fh; _Corrupt when the file ends first."""
    n = len(mv)
    got = 0
    readinto = getattr(fh, "readinto", None)
    while got < n:
        if readinto is not None:
            k = readinto(mv[got:])
        else:
            chunk = fh.read(min(n - got, 1 << 26))
            k = len(chunk) if chunk else 0
            mv[got : got + k] = chunk
        if not k:
            raise _Corrupt(f"truncated: expected {n} bytes of {what}, found only {got}")
        got += k


def _skip_padding(fh: IO[bytes], n: int, what: str) -> None:
    if n:
        pad = _read_exact(fh, n, what)
        if pad.count(0) != n:
            raise _Corrupt(f"corrupted data: non-zero bytes in the padding before {what}")


def _read_tensor(fh: IO[bytes], i: int, e: dict[str, Any]) -> Tensor:
    """Read tensor i's bytes into a fresh array of its own (no buffer shared between tensors)."""
    disk = _DISK_DTYPES[e["dtype"]]
    what = f"tensor {i} ({e['dtype']} {e['shape']})"
    try:
        arr = np.empty(e["shape"], dtype=disk)
    except (MemoryError, ValueError) as exc:
        raise _Corrupt(f"cannot allocate {what}: {exc}") from None
    if arr.nbytes:
        mv = memoryview(arr).cast("B")
        _read_into(fh, mv, "data of " + what)
        crc = zlib.crc32(mv)
    else:
        crc = 0
    if crc != e["crc32"]:
        raise _Corrupt(f"data of {what} is corrupted: checksum mismatch")
    if e["dtype"] == "bool" and arr.size and arr.view(np.uint8).max() > 1:
        # unreachable past the checksum in practice, but a bool tensor must never hold other bytes
        raise _Corrupt(f"data of {what} holds bytes other than 0 and 1")
    if disk.byteorder == "<" and sys.byteorder != "little":
        arr = arr.astype(disk.newbyteorder("="))
    # from_numpy keeps numpy's strides, which for an empty array make ember call it non-contiguous
    t = _C.from_numpy(arr) if arr.size else _C._empty(list(arr.shape), getattr(_C.dtype, e["dtype"]))
    if e["parameter"]:
        try:
            from .nn import Parameter
        except ImportError:
            Parameter = None
        if Parameter is not None:
            return Parameter(t, requires_grad=e["requires_grad"])
    if e["requires_grad"]:
        t.requires_grad_(True)
    return t


def load(
    f: str | bytes | os.PathLike | IO[bytes],
    map_location: str | _C.device | dict[str, str | _C.device] | Callable[[Tensor, str], Any] | None = None,
    pickle_module: Any = None,
    *,
    weights_only: bool = True,
    mmap: bool | None = None,
    **pickle_load_args: Any,
) -> Any:
    """Load an object saved by ``ember.save`` from ``f`` (a path or a binary file object).

    Loading only builds tensors, dicts, OrderedDicts, lists, tuples, numbers,
    strings, bools and None: it never imports or runs code named by the file,
    so ``weights_only`` is always effectively True (the argument is accepted for
    PyTorch compatibility, as are ``mmap`` and ``pickle_load_args``, which are
    ignored).  ``map_location`` may be None, ``"cpu"``, a device,
    a dict ``{"cpu": device}`` or a callable ``(tensor, "cpu") -> tensor``.

    Raises ``RuntimeError`` naming the file when it is not an ember file, is
    truncated, or is corrupted.
    """
    if pickle_module is not None:
        raise ValueError("ember.load does not use pickle: pickle_module is not supported")
    name = _file_name(f)
    mapper = _resolve_map_location(map_location)
    try:
        if isinstance(f, (str, bytes, os.PathLike)):
            with open(f, "rb") as fh:
                return _load(fh, mapper, check_trailing=True)
        if not hasattr(f, "read"):
            raise TypeError(f"ember.load: f must be a path or a binary file object, not {type(f).__name__}")
        return _load(f, mapper, check_trailing=False)
    except _Corrupt as exc:
        raise RuntimeError(f"ember.load: {name} is not a valid ember file: {exc}") from None


def _load(fh: IO[bytes], mapper: Callable[[Tensor], Tensor] | None, check_trailing: bool) -> Any:
    available = _remaining_size(fh)
    raw = _read_upto(fh, _PREAMBLE.size)
    if raw[:4] == b"PK\x03\x04":
        raise _Corrupt(
            "it is a zip archive (a PyTorch torch.save file?); ember.load reads only files written by ember.save"
        )
    if len(raw) < _PREAMBLE.size:
        raise _Corrupt(
            f"truncated: {len(raw)} bytes, fewer than the {_PREAMBLE.size}-byte preamble "
            "(magic number, version, header length)"
        )
    magic, version, header_crc, header_len = _PREAMBLE.unpack(raw)
    if magic != MAGIC:
        raise _Corrupt(f"bad magic number {magic!r} (expected {MAGIC!r}); was it written by ember.save?")
    if version != VERSION:
        raise _Corrupt(
            f"format version {version} is not supported (this ember reads version {VERSION}"
            + ("; the file was written by a newer ember)" if version > VERSION else ")")
        )
    if available is not None and header_len > available - _PREAMBLE.size:
        raise _Corrupt(
            f"truncated: the header length says {header_len} bytes but only "
            f"{available - _PREAMBLE.size} bytes follow the preamble"
        )
    if header_len > _MAX_HEADER:
        raise _Corrupt(f"corrupted header length {header_len}")
    hbytes = _read_exact(fh, header_len, "header")
    if zlib.crc32(hbytes) != header_crc:
        raise _Corrupt("corrupted header: checksum mismatch")
    header = _parse_header(hbytes)
    data_size = header["data_size"]
    if available is not None:
        rest = available - _PREAMBLE.size - header_len
        if rest < data_size:
            raise _Corrupt(
                f"truncated: the header describes {data_size} bytes of tensor data but only {rest} bytes follow it"
            )
        if check_trailing and rest > data_size:
            raise _Corrupt(f"{rest - data_size} unexpected bytes after the end of the tensor data")
    # Tensors are read in file order straight into their own arrays: no second copy
    # of the data in memory, and no tensor keeps another's bytes alive.
    entries = header["tensors"]
    tensors = [None] * len(entries)
    pos = 0
    for i in sorted(range(len(entries)), key=lambda j: entries[j]["offset"]):
        e = entries[i]
        if e["offset"] < pos:
            raise _Corrupt(f"corrupted header: tensor {i} overlaps the tensor stored before it")
        _skip_padding(fh, e["offset"] - pos, f"tensor {i}")
        tensors[i] = _read_tensor(fh, i, e)
        pos = e["offset"] + e["nbytes"]
    _skip_padding(fh, data_size - pos, "the end of the data")

    if mapper is not None:
        tensors = [mapper(t) for t in tensors]

    def make_tensor(index: Any) -> Tensor:
        _require(_is_int(index) and 0 <= index < len(tensors), f"tensor reference {index!r} out of range")
        return tensors[index]

    return _Decoder(make_tensor).decode(header["object"])
