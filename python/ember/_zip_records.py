"""``torch.PyTorchFileReader`` and ``torch.PyTorchFileWriter``: the records of PyTorch's zip checkpoint format
by name, for code that reads or writes them directly (Lightning's lazy checkpoint loading, tools that copy
records). Names are relative to the archive's top folder (``data.pkl``, ``data/0``, ``.data/version``), as
PyTorch's reader gives them; ember.save/ember.load read and write whole checkpoints themselves."""

from __future__ import annotations

import io
import os
import zipfile
from typing import IO, Any

__all__ = ["PyTorchFileReader", "PyTorchFileWriter"]


class PyTorchFileReader:
    """Reads a zip checkpoint's records: ``PyTorchFileReader(path or binary file)``."""

    def __init__(self, file: str | os.PathLike | IO[bytes]) -> None:
        source = os.fspath(file) if isinstance(file, (str, os.PathLike)) else file
        try:
            self._zf = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, OSError) as exc:
            raise RuntimeError(f"PytorchStreamReader failed reading zip archive: {exc}") from None
        names = self._zf.namelist()
        if not names:
            raise RuntimeError("PytorchStreamReader failed reading zip archive: the archive is empty")
        self._prefix = names[0].split("/", 1)[0] + "/"
        self._names = {n[len(self._prefix) :] for n in names if n.startswith(self._prefix)}

    def has_record(self, name: str) -> bool:
        return name in self._names

    def get_all_records(self) -> list[str]:
        return sorted(self._names)

    def get_record(self, name: str) -> bytes:
        if name not in self._names:
            raise RuntimeError(f"PytorchStreamReader failed locating file {name}: file not found")
        return self._zf.read(self._prefix + name)

    def get_record_offset(self, name: str) -> int:
        """Where the record's bytes start in the file (a stored record can be memory-mapped from there)."""
        from .serialization import record_offset

        return record_offset(self._zf, self._zf.getinfo(self._prefix + name))

    def get_storage_from_record(self, name: str, numel: int, dtype: Any) -> Any:
        """The record's first ``numel`` elements of ``dtype`` as a 1-D tensor (a copy)."""
        from ._creation import empty
        from ._torch_misc import frombuffer

        if not numel:
            return empty(0, dtype=dtype)
        return frombuffer(bytearray(self.get_record(name)), dtype=dtype, count=int(numel))

    def serialization_id(self) -> str:
        return self.get_record(".data/serialization_id").decode() if self.has_record(".data/serialization_id") else ""

    def get_file_size(self) -> int:
        fp = self._zf.fp
        here = fp.tell()
        size = fp.seek(0, io.SEEK_END)
        fp.seek(here)
        return size


class PyTorchFileWriter:
    """Writes records into a zip checkpoint under one top folder (the file's name without its extension,
    or ``archive``); ``write_end_of_file()`` adds ``.data/version`` and closes it. Every record gets its CRC-32
    and none is padded: ``compute_crc32`` and ``storage_alignment`` are accepted for PyTorch's signature
    (ember.load reads unaligned records, memory-mapped too)."""

    def __init__(self, file: str | os.PathLike | IO[bytes], compute_crc32: bool = True, storage_alignment: int = 64):
        if isinstance(file, (str, os.PathLike)):
            path = os.fspath(file)
            self._archive = os.path.splitext(os.path.basename(path))[0] or "archive"
            self._zf = zipfile.ZipFile(path, "w", zipfile.ZIP_STORED)
        else:
            self._archive = "archive"
            self._zf = zipfile.ZipFile(file, "w", zipfile.ZIP_STORED)
        self._written: set[str] = set()
        self._min_version = 3

    def archive_name(self) -> str:
        return self._archive

    def write_record(self, name: str, data: Any, nbytes: int | None = None) -> None:
        """Writes ``data`` (bytes-like, or a tensor's untyped storage) as record ``name``."""
        if hasattr(data, "_view"):  # an UntypedStorage: its bytes, from the host
            data = data._view().cpu().numpy()
        elif hasattr(data, "untyped_storage"):  # a tensor: its storage's bytes, as PyTorch writes them
            data = data.untyped_storage()._view().cpu().numpy()
        raw = data if isinstance(data, bytes) else bytes(memoryview(data).cast("B"))
        if nbytes is not None:
            raw = raw[: int(nbytes)]
        if name in self._written:
            raise RuntimeError(f"Tried to serialize file twice: {name}")
        self._zf.writestr(f"{self._archive}/{name}", raw)
        self._written.add(name)

    def get_all_written_records(self) -> set[str]:
        return set(self._written)

    def set_min_version(self, version: int) -> None:
        self._min_version = max(self._min_version, int(version))

    def write_end_of_file(self) -> None:
        if ".data/version" not in self._written:
            self.write_record(".data/version", f"{self._min_version}\n".encode())
        self._zf.close()
