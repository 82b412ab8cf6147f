"""``import ember.as_torch`` before a library written for PyTorch: its ``import torch`` (and ``import
torch.nn.functional``, ``from torch.utils.data import DataLoader``, ...) then gives ember's modules, so the
library runs on ember unchanged. Run through it, transformers, diffusers, peft, accelerate, kornia, captum,
gpytorch, pyro, x-transformers, torchmetrics, PyTorch Lightning's Trainer.fit and more work (README,
"PyTorch's API, name by name").

``torch`` is then a module that forwards every name to ember, but for ``torch.__version__``: the version of
PyTorch whose API ember follows (``TORCH_API_VERSION``, comparable as PyTorch's ``TorchVersion`` is), since
libraries choose their code paths by it; ``ember.__version__`` stays ember's own. The package metadata says
the same (``importlib.metadata.version("torch")``), whether or not PyTorch is installed. A library that loads
PyTorch's C++ extensions (torchvision, torchaudio) cannot run on ember. Importing this module after PyTorch
itself was imported raises ImportError: the two would mix."""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.metadata
import pathlib
import sys
from types import ModuleType
from typing import Any

import ember
from ember import _names

__all__ = ["TORCH_API_VERSION", "install"]


class TorchVersion(str):
    """A version string that compares as versions do (``"2.13.0" >= "2.4"``), as PyTorch's TorchVersion."""

    def _key(self, other: object) -> tuple[int, ...]:
        text = str(other).split("+")[0]
        return tuple(int(part) if part.isdigit() else 0 for part in text.split("."))

    def _cmp(self, other: object) -> tuple[tuple[int, ...], tuple[int, ...]]:
        mine, theirs = self._key(self), self._key(other)
        width = max(len(mine), len(theirs))
        return mine + (0,) * (width - len(mine)), theirs + (0,) * (width - len(theirs))

    def __lt__(self, other: object) -> bool:
        a, b = self._cmp(other)
        return a < b

    def __le__(self, other: object) -> bool:
        a, b = self._cmp(other)
        return a <= b

    def __gt__(self, other: object) -> bool:
        a, b = self._cmp(other)
        return a > b

    def __ge__(self, other: object) -> bool:
        a, b = self._cmp(other)
        return a >= b

    def __eq__(self, other: object) -> bool:
        a, b = self._cmp(other)
        return a == b

    __hash__ = str.__hash__


TORCH_API_VERSION = TorchVersion("2.13.0")  # the PyTorch ember's API follows (docs/api-coverage.md's)


class _Torch(ModuleType):
    """``torch``: ember's names, with PyTorch's version."""

    __version__ = TORCH_API_VERSION

    def __getattr__(self, name: str) -> object:
        if name == "torch":  # PyTorch's module names itself (``torch.torch.Tensor`` works there)
            return self
        return getattr(ember, name)

    def __setattr__(self, name: str, value: object) -> None:
        if name.startswith("__") and name.endswith("__"):
            super().__setattr__(name, value)
        else:
            setattr(ember, name, value)

    def __dir__(self) -> list[str]:
        return dir(ember)


_torch = _Torch("torch", ember.__doc__)
# ``vars(torch)`` lists the dtypes, as code that looks a dtype up by name reads it (lovely-tensors:
# ``vars(torch)["float32"]``); they are the only names copied, since ember never rebinds them
_torch.__dict__.update({name: value for name, value in vars(ember).items() if isinstance(value, ember.dtype)})
_torch.__path__ = []  # a package: torch.X imports through the finder
# importlib.util.find_spec("torch") reads it (transformers asks so whether PyTorch is there)
_torch.__spec__ = importlib.machinery.ModuleSpec("torch", None, is_package=True)


class _EmberLoader(importlib.abc.Loader):
    def __init__(self, module: ModuleType) -> None:
        self.module = module

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return self.module

    def exec_module(self, module: ModuleType) -> None:
        """The ember module is imported already."""


class _TorchDistribution(importlib.metadata.Distribution):
    """The ``torch`` distribution's metadata, for libraries that ask ``importlib.metadata.version("torch")``:
    named torch, at the PyTorch version ember's API follows (as ``torch.__version__``), with no files."""

    def read_text(self, filename: str) -> str | None:
        if filename in ("METADATA", "PKG-INFO"):
            return f"Metadata-Version: 2.1\nName: torch\nVersion: {TORCH_API_VERSION}\n"
        return None

    def locate_file(self, path: Any) -> Any:
        return pathlib.Path(ember.__file__).parent / str(path)


class _TorchFinder(importlib.abc.MetaPathFinder):
    """``torch.X.Y`` is ``ember.X.Y``; and the ``torch`` distribution is ember's (_TorchDistribution)."""

    def find_distributions(self, context: Any = None) -> list[importlib.metadata.Distribution]:
        name = getattr(context, "name", None)
        return [_TorchDistribution()] if name is not None and name.lower() == "torch" else []

    def find_spec(self, fullname: str, path: object, target: object = None) -> importlib.machinery.ModuleSpec | None:
        if fullname == "functorch":  # the package PyTorch ships beside torch: ember.functorch
            return importlib.machinery.ModuleSpec(fullname, _EmberLoader(importlib.import_module("ember.functorch")))
        if not fullname.startswith("torch."):
            return None
        try:
            module = importlib.import_module("ember" + fullname[len("torch") :])
        except ImportError:
            return None  # as a missing torch submodule: ModuleNotFoundError names it
        return importlib.machinery.ModuleSpec(fullname, _EmberLoader(module))


def install() -> None:
    """Makes ``torch`` and its submodules ember's (once; done on import of this module)."""
    existing = sys.modules.get("torch")
    if existing is _torch:
        return
    if existing is not None:
        raise ImportError(
            "ember.as_torch: PyTorch is imported already; import ember.as_torch before anything imports torch"
        )
    for name, module in list(sys.modules.items()):
        if name.startswith("ember."):
            sys.modules["torch" + name[len("ember") :]] = module
    sys.modules["torch"] = _torch
    # Libraries that pick a backend by the module that defines an array's class (autoray, so torchquad,
    # PennyLane, quimb: `type(x).__module__.split(".")[0]`) see PyTorch's names, as under PyTorch.
    ember.Tensor.__module__ = "torch"
    _names.print_as("torch")  # Note [Printed module name]: torch.float32, torch.Size([2]), 'torch.FloatTensor'
    ember.nn.Parameter.__module__ = "torch.nn.parameter"
    if not any(isinstance(f, _TorchFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _TorchFinder())


install()
