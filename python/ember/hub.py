"""ember.hub, as ``torch.hub``: downloading checkpoints into the hub's cache and loading them
(``load_state_dict_from_url``, as torchvision's and timm's pretrained weights are fetched). The cache is
PyTorch's own (``$TORCH_HOME/hub``, ``~/.cache/torch/hub`` by default), so a checkpoint PyTorch fetched is
reused, and ember.load reads PyTorch's format. Running a repository's ``hubconf.py`` (``load``, ``list``,
``help``) is not provided: those entry points build PyTorch models."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
import tempfile
import urllib.request
from typing import Any
from urllib.parse import urlparse  # noqa: F401  (torch.hub's name for it, which timm imports)

__all__ = ["download_url_to_file", "get_dir", "help", "list", "load", "load_state_dict_from_url", "set_dir"]

_hub_dir: list[str | None] = [None]
HASH_REGEX = re.compile(r"-([a-f0-9]*)\.")  # torchvision's names: resnet18-f37072fd.pth
ENV_TORCH_HOME, ENV_XDG_CACHE_HOME, ENV_GITHUB_TOKEN = "TORCH_HOME", "XDG_CACHE_HOME", "GITHUB_TOKEN"
MAP_LOCATION = Any  # as torch.hub's alias: see ember.serialization.MAP_LOCATION


def get_dir() -> str:
    """The directory downloads go to: ``set_dir``'s, else ``$TORCH_HOME/hub`` (``$XDG_CACHE_HOME/torch/hub``,
    ``~/.cache/torch/hub``), as PyTorch's."""
    if _hub_dir[0] is not None:
        return _hub_dir[0]
    return os.path.join(_get_torch_home(), "hub")


def _get_torch_home() -> str:
    """PyTorch's cache root: ``$TORCH_HOME``, else ``$XDG_CACHE_HOME/torch`` (``~/.cache/torch``); torchvision
    keeps its datasets under it."""
    cache = os.getenv(ENV_XDG_CACHE_HOME, os.path.join(os.path.expanduser("~"), ".cache"))
    return os.path.expanduser(os.getenv(ENV_TORCH_HOME, os.path.join(cache, "torch")))


def set_dir(d: str | os.PathLike) -> None:
    """Makes ``d`` the hub's directory."""
    _hub_dir[0] = os.path.expanduser(os.fspath(d))


def download_url_to_file(url: str, dst: str, hash_prefix: str | None = None, progress: bool = True) -> None:
    """Downloads ``url`` to ``dst`` (through a temporary file beside it, so ``dst`` is whole or absent),
    checking that its SHA-256 digest starts with ``hash_prefix`` when given."""
    dst = os.path.expanduser(dst)
    os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
    digest = hashlib.sha256()
    with tempfile.NamedTemporaryFile(delete=False, dir=os.path.dirname(os.path.abspath(dst))) as part:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers={"User-Agent": "ember.hub"})) as r:
                total = int(r.headers.get("Content-Length") or 0) or None
                with _tqdm()(total=total, disable=not progress, unit="B", unit_scale=True, unit_divisor=1024) as bar:
                    while chunk := r.read(1 << 20):
                        part.write(chunk)
                        digest.update(chunk)
                        bar.update(len(chunk))
            part.close()
            if hash_prefix is not None and not digest.hexdigest().startswith(hash_prefix):
                raise RuntimeError(f'invalid hash value (expected "{hash_prefix}", got "{digest.hexdigest()}")')
            shutil.move(part.name, dst)
        finally:
            if os.path.exists(part.name):
                os.remove(part.name)


class _Progress:
    """The progress bar used when the tqdm package is absent (as torch.hub's fallback): a percentage on
    stderr."""

    def __init__(self, total: int | None = None, disable: bool = False, **kwargs: Any) -> None:
        self.total, self.disable, self.n = total, disable, 0

    def update(self, n: int) -> None:
        self.n += n
        if not self.disable and self.total:
            sys.stderr.write(f"\r{100 * self.n / self.total:.1f}%")
            sys.stderr.flush()

    def close(self) -> None:
        if not self.disable and self.total:
            sys.stderr.write("\n")
        self.disable = True

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _tqdm() -> Any:
    try:
        from tqdm import tqdm
    except ImportError:
        return _Progress
    return tqdm


def __getattr__(name: str) -> Any:
    if name == "tqdm":  # torch.hub.tqdm: tqdm's bar, imported when asked for (it costs import time)
        return _tqdm()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_state_dict_from_url(url: str, model_dir: str | None = None, map_location: Any = None,
                             progress: bool = True, check_hash: bool = False, file_name: str | None = None,
                             weights_only: bool = False) -> Any:  # fmt: skip
    """The object saved at ``url`` (a state_dict, usually), downloaded once into ``model_dir``
    (``get_dir()/checkpoints``) and read with ``ember.load``. ``check_hash``: the file name's ``-<hex>.``
    part must begin its SHA-256 digest, as torchvision names its weights."""
    from .serialization import load

    model_dir = model_dir or os.path.join(get_dir(), "checkpoints")
    os.makedirs(model_dir, exist_ok=True)
    name = file_name or os.path.basename(urlparse(url).path)
    cached = os.path.join(model_dir, name)
    if not os.path.exists(cached):
        if progress:
            sys.stderr.write(f'Downloading: "{url}" to {cached}\n')
        found = HASH_REGEX.search(name) if check_hash else None
        download_url_to_file(url, cached, found.group(1) if found else None, progress)
    return load(cached, map_location=map_location, weights_only=weights_only)


def _hubconf(*args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError(
        "ember.hub runs no repository's hubconf.py (its entry points build PyTorch models); build the model "
        "with ember and load its weights with ember.hub.load_state_dict_from_url"
    )


load = list = help = _hubconf  # noqa: A001  (torch.hub's names)
